/* Front half of the shape family: attributes, validation, shape inference.
 * Reshape, Flatten, Squeeze, Unsqueeze, Shape, Identity, Dropout, Constant,
 * ConstantOfShape, Cast, CastLike, Range, Size. */
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "shape.h"


/* --------------------------------------------------------------- Reshape */

static clcnn_status reshape_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  reshape_params *p = n->params;
  clcnn_status st = op_arity(n, 2, 2, 1, 1, err);
  if (st) return st;
  int64_t allowzero = 0;
  if (n->opset >= 14 && (st = op_attr_int(n, "allowzero", 0, &allowzero, err))) return st;
  if (allowzero != 0 && allowzero != 1)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'allowzero' must be 0 or 1");
  p->allowzero = (int)allowzero;
  return CLCNN_OK;
}

static clcnn_status reshape_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  reshape_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  int64_t shape[CLCNN_MAX_RANK];
  int k = 0;
  clcnn_status st = op_const_ints(g, n, 1, "shape", shape, CLCNN_MAX_RANK, &k, err);
  if (st) return st;
  int64_t numel = clcnn_tensor_numel(&x->t), known = 1;
  int infer_at = -1;
  for (int i = 0; i < k; i++) {
    if (shape[i] == -1) {
      if (infer_at >= 0)
        return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'shape' has more than one -1");
      infer_at = i;
      continue;
    }
    if (shape[i] < -1)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'shape' has the invalid value %lld",
                     (long long)shape[i]);
    if (shape[i] == 0 && !p->allowzero) {
      if (i >= x->t.rank)
        return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                       "'shape'[%d] = 0 copies a dimension the input (rank %d) lacks", i,
                       x->t.rank);
      shape[i] = x->t.dims[i];
    }
    if (shape[i] > SHAPE_MAX_NUMEL || (shape[i] && known > SHAPE_MAX_NUMEL / shape[i]))
      return err_set(err, CLCNN_ERROR_SHAPE, "'shape' is too large");
    known *= shape[i];
  }
  char a[160], b[160];
  if (infer_at >= 0) {
    if (known == 0 || numel % known)
      return err_set(err, CLCNN_ERROR_SHAPE, "cannot reshape %s into %s (with -1 inferred)",
                     shape_str(x->t.rank, x->t.dims, a, sizeof a), shape_str(k, shape, b, sizeof b));
    shape[infer_at] = numel / known;
    known = numel;
  }
  if (known != numel)
    return err_set(err, CLCNN_ERROR_SHAPE, "cannot reshape %s (%lld elements) into %s",
                   shape_str(x->t.rank, x->t.dims, a, sizeof a), (long long)numel,
                   shape_str(k, shape, b, sizeof b));
  return op_set_output(g, n, 0, x->t.dtype, k, shape, err);
}

/* --------------------------------------------------------------- Flatten */

static clcnn_status flatten_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  flatten_params *p = n->params;
  clcnn_status st = op_arity(n, 1, 1, 1, 1, err);
  if (st) return st;
  return op_attr_int(n, "axis", 1, &p->axis_attr, err);
}

static clcnn_status flatten_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  flatten_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  int rank = x->t.rank;
  int64_t axis = p->axis_attr;
  if (axis < -rank || axis > rank)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is out of range for rank %d",
                   (long long)axis, rank);
  p->axis = (int)(axis < 0 ? axis + rank : axis);
  int64_t dims[2] = {1, 1};
  for (int a = 0; a < rank; a++) dims[a < p->axis ? 0 : 1] *= x->t.dims[a];
  return op_set_output(g, n, 0, x->t.dtype, 2, dims, err);
}

/* ----------------------------------------------------- Squeeze/Unsqueeze */

static clcnn_status squeeze_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  squeeze_params *p = n->params;
  bool unsq = n->op == CLCNN_OP_UNSQUEEZE;
  clcnn_status st;
  p->naxes_attr = -1;
  if (n->opset < 13) {
    if ((st = op_arity(n, 1, 1, 1, 1, err))) return st;
    if ((st = op_attr_ints(n, "axes", p->axes_attr, CLCNN_MAX_RANK, &p->naxes_attr, err)))
      return st;
    if (unsq && p->naxes_attr < 0)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'axes' is required");
  } else {
    if ((st = op_arity(n, unsq ? 2 : 1, 2, 1, 1, err))) return st;
  }
  return CLCNN_OK;
}

/* The axes (attribute or constant input); *k = -1 when there are none. */
static clcnn_status squeeze_axes(ir_graph *g, ir_node *n, int64_t *axes, int *k, clcnn_err *err) {
  squeeze_params *p = n->params;
  *k = -1;
  if (n->opset < 13) {
    *k = p->naxes_attr;
    if (*k > 0) memcpy(axes, p->axes_attr, sizeof(int64_t) * (size_t)*k);
    return CLCNN_OK;
  }
  if (!ir_in(g, n, 1)) return CLCNN_OK;
  return op_const_ints(g, n, 1, "axes", axes, CLCNN_MAX_RANK, k, err);
}

static clcnn_status squeeze_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  squeeze_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  int rank = x->t.rank, k = -1;
  int64_t axes[CLCNN_MAX_RANK];
  clcnn_status st = squeeze_axes(g, n, axes, &k, err);
  if (st) return st;
  bool drop[CLCNN_MAX_RANK] = {false};
  if (k <= 0) { /* no axes, or an empty list (as onnxruntime reads it): all 1s */
    for (int a = 0; a < rank; a++) drop[a] = x->t.dims[a] == 1;
  } else {
    for (int i = 0; i < k; i++) {
      int a;
      if (!shape_axis(axes[i], rank, &a))
        return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is out of range for rank %d",
                       (long long)axes[i], rank);
      if (drop[a]) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %d is repeated", a);
      if (x->t.dims[a] != 1)
        return err_set(err, CLCNN_ERROR_SHAPE, "cannot squeeze axis %d of size %lld", a,
                       (long long)x->t.dims[a]);
      drop[a] = true;
    }
  }
  int64_t dims[CLCNN_MAX_RANK];
  int r = 0;
  p->naxes = 0;
  for (int a = 0; a < rank; a++) {
    if (drop[a]) p->axes[p->naxes++] = a;
    else dims[r++] = x->t.dims[a];
  }
  return op_set_output(g, n, 0, x->t.dtype, r, dims, err);
}

static clcnn_status unsqueeze_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  squeeze_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  int rank = x->t.rank, k = -1;
  int64_t axes[CLCNN_MAX_RANK];
  clcnn_status st = squeeze_axes(g, n, axes, &k, err);
  if (st) return st;
  if (k < 0) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'axes' is required");
  int r = rank + k;
  if (r > CLCNN_MAX_RANK)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "the output would have rank %d; at most %d", r,
                   CLCNN_MAX_RANK);
  bool ins[CLCNN_MAX_RANK] = {false};
  for (int i = 0; i < k; i++) {
    int a;
    if (!shape_axis(axes[i], r, &a))
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is out of range for rank %d",
                     (long long)axes[i], r);
    if (ins[a]) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %d is repeated", a);
    ins[a] = true;
  }
  int64_t dims[CLCNN_MAX_RANK];
  p->naxes = 0;
  for (int a = 0, j = 0; a < r; a++) {
    if (ins[a]) {
      dims[a] = 1;
      p->axes[p->naxes++] = a;
    } else {
      dims[a] = x->t.dims[j++];
    }
  }
  return op_set_output(g, n, 0, x->t.dtype, r, dims, err);
}

/* ----------------------------------------------------------------- Shape */

static clcnn_status shape_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  shape_params *p = n->params;
  clcnn_status st = op_arity(n, 1, 1, 1, 1, err);
  if (st) return st;
  p->start_attr = 0;
  if (n->opset >= 15) {
    if ((st = op_attr_int(n, "start", 0, &p->start_attr, err))) return st;
    if ((st = op_attr_int(n, "end", 0, &p->end_attr, err))) return st;
    p->has_end = ir_attr_find(n, "end") != NULL;
  }
  return CLCNN_OK;
}

static clcnn_status shape_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  shape_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0);
  int rank = x->t.rank;
  int64_t s = p->start_attr, e = p->has_end ? p->end_attr : rank;
  if (s < 0) s += rank;
  if (e < 0) e += rank;
  s = s < 0 ? 0 : s > rank ? rank : s;
  e = e < 0 ? 0 : e > rank ? rank : e;
  if (e < s) e = s;
  p->start = (int)s;
  p->end = (int)e;
  int64_t len = e - s;
  int64_t *data = malloc(sizeof(int64_t) * (size_t)(len ? len : 1));
  if (!data) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  for (int64_t i = 0; i < len; i++) data[i] = x->t.dims[s + i];
  ir_value *o = ir_out(g, n, 0);
  if (!o) {
    free(data);
    return CLCNN_OK;
  }
  ir_set_const(o, CLCNN_DTYPE_INT64, 1, &len, data);
  return CLCNN_OK;
}

/* -------------------------------------------------------------- Identity */

static clcnn_status identity_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  return op_arity(n, 1, 1, 1, 1, err);
}

static clcnn_status identity_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  return op_set_output(g, n, 0, x->t.dtype, x->t.rank, x->t.dims, err);
}

/* --------------------------------------------------------------- Dropout */

static clcnn_status dropout_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  dropout_params *p = n->params;
  clcnn_status st = op_arity(n, 1, n->opset >= 12 ? 3 : 1, 1, 2, err);
  if (st) return st;
  float ratio;
  int64_t seed;
  if (n->opset < 12) {
    if ((st = op_attr_float(n, "ratio", 0.5f, &ratio, err))) return st;
    if (!(ratio >= 0.0f && ratio < 1.0f))
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'ratio' must be in [0, 1)");
  } else if ((st = op_attr_int(n, "seed", 0, &seed, err))) {
    return st;
  }
  p->mask_dtype = CLCNN_DTYPE_BOOL;
  return CLCNN_OK;
}

static clcnn_status dropout_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  dropout_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  const ir_value *tm = ir_in(g, n, 2);
  if (tm) {
    if (!tm->is_const || !tm->t.data)
      return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                     "input 'training_mode' must be a constant (inference only)");
    bool training = clcnn_tensor_numel(&tm->t) >= 1 && tensor_get_i64(&tm->t, 0) != 0;
    const ir_value *rv = ir_in(g, n, 1);
    bool zero_ratio = rv && rv->is_const && rv->t.data && clcnn_tensor_numel(&rv->t) >= 1 &&
                      tensor_get_f64(&rv->t, 0) == 0.0;
    if (training && !zero_ratio)
      return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                     "training mode (random dropout) is not supported");
  }
  p->mask_dtype = n->opset >= 10 ? CLCNN_DTYPE_BOOL : x->t.dtype;
  clcnn_status st = op_set_output(g, n, 0, x->t.dtype, x->t.rank, x->t.dims, err);
  if (st) return st;
  return op_set_output(g, n, 1, p->mask_dtype, x->t.rank, x->t.dims, err);
}

/* -------------------------------------------------------------- Constant */

static const char *const constant_attrs[] = {"value",        "value_float",  "value_floats",
                                             "value_int",    "value_ints",   "value_string",
                                             "value_strings", "sparse_value"};

static clcnn_status constant_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  clcnn_status st = op_arity(n, 0, 0, 1, 1, err);
  if (st) return st;
  const ir_attr *found = NULL;
  int count = 0;
  for (size_t i = 0; i < sizeof constant_attrs / sizeof *constant_attrs; i++) {
    const ir_attr *a = ir_attr_find(n, constant_attrs[i]);
    if (a) {
      found = a;
      count++;
    }
  }
  if (count != 1)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "exactly one value attribute is needed, %d given",
                   count);
  const char *name = found->name;
  if (strcmp(name, "sparse_value") == 0)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "sparse constants are not supported");
  if (strncmp(name, "value_string", 12) == 0)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "string constants are not supported");
  ir_attr_type want = strcmp(name, "value") == 0          ? IR_ATTR_TENSOR
                      : strcmp(name, "value_float") == 0  ? IR_ATTR_FLOAT
                      : strcmp(name, "value_floats") == 0 ? IR_ATTR_FLOATS
                      : strcmp(name, "value_int") == 0    ? IR_ATTR_INT
                                                          : IR_ATTR_INTS;
  if (found->type != want || (want == IR_ATTR_TENSOR && !found->t))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute '%s' has the wrong type", name);
  if (want == IR_ATTR_TENSOR) {
    if (!dtype_size(found->t->dtype))
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "constant of unsupported type %s",
                     dtype_name(found->t->dtype));
    if (found->t->rank < 0 || found->t->rank > CLCNN_MAX_RANK ||
        !shape_dims_ok(found->t->rank, found->t->dims))
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "the constant has an invalid shape");
  }
  return CLCNN_OK;
}

/* The constant's type, shape and bytes (pointing into the attribute; `tmp`
 * holds a scalar). */
static void constant_view(const ir_node *n, clcnn_tensor *t, int64_t *tmp) {
  memset(t, 0, sizeof *t);
  for (size_t i = 0; i < sizeof constant_attrs / sizeof *constant_attrs; i++) {
    const ir_attr *a = ir_attr_find(n, constant_attrs[i]);
    if (!a) continue;
    switch (a->type) {
      case IR_ATTR_TENSOR: *t = *a->t; break;
      case IR_ATTR_FLOAT:
        t->dtype = CLCNN_DTYPE_FLOAT32;
        memcpy(tmp, &a->f, sizeof a->f);
        t->data = tmp;
        break;
      case IR_ATTR_INT:
        t->dtype = CLCNN_DTYPE_INT64;
        *tmp = a->i;
        t->data = tmp;
        break;
      case IR_ATTR_FLOATS:
        t->dtype = CLCNN_DTYPE_FLOAT32;
        t->rank = 1;
        t->dims[0] = (int64_t)a->n;
        t->data = a->floats;
        break;
      case IR_ATTR_INTS:
        t->dtype = CLCNN_DTYPE_INT64;
        t->rank = 1;
        t->dims[0] = (int64_t)a->n;
        t->data = a->ints;
        break;
      default: break;
    }
    return;
  }
}

static clcnn_status constant_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  clcnn_tensor t;
  int64_t tmp;
  constant_view(n, &t, &tmp);
  size_t bytes = (size_t)clcnn_tensor_numel(&t) * dtype_size(t.dtype);
  void *data = malloc(bytes ? bytes : 1);
  if (!data) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory for a constant");
  if (bytes) memcpy(data, t.data, bytes);
  ir_value *o = ir_out(g, n, 0);
  if (!o) {
    free(data);
    return CLCNN_OK;
  }
  ir_set_const(o, t.dtype, t.rank, t.dims, data);
  return CLCNN_OK;
}

/* ------------------------------------------------------- ConstantOfShape */

static clcnn_status cos_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  constant_of_shape_params *p = n->params;
  clcnn_status st = op_arity(n, 1, 1, 1, 1, err);
  if (st) return st;
  const ir_attr *a = ir_attr_find(n, "value");
  p->dtype = CLCNN_DTYPE_FLOAT32;
  memset(p->value, 0, sizeof p->value);
  if (!a) return CLCNN_OK;
  if (a->type != IR_ATTR_TENSOR || !a->t)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'value' must be a tensor");
  size_t es = dtype_size(a->t->dtype);
  if (!es)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "'value' has unsupported type %s",
                   dtype_name(a->t->dtype));
  if (clcnn_tensor_numel(a->t) != 1)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'value' must have exactly one element");
  p->dtype = a->t->dtype;
  memcpy(p->value, a->t->data, es);
  return CLCNN_OK;
}

static clcnn_status cos_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  constant_of_shape_params *p = n->params;
  int64_t shape[CLCNN_MAX_RANK];
  int k = 0;
  clcnn_status st = op_const_ints(g, n, 0, "input", shape, CLCNN_MAX_RANK, &k, err);
  if (st) return st;
  for (int i = 0; i < k; i++)
    if (shape[i] < 0) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "the shape has a negative value");
  return op_set_output(g, n, 0, p->dtype, k, shape, err);
}

/* ------------------------------------------------------------------ Cast */

/* ONNX TensorProto.DataType names, for messages about types clcnn lacks. */
static const char *onnx_type_name(int64_t t) {
  static const char *const names[] = {
      "undefined", "float32",    "uint8",       "int8",           "uint16",
      "int16",     "int32",      "int64",       "string",         "bool",
      "float16",   "float64",    "uint32",      "uint64",         "complex64",
      "complex128", "bfloat16",  "float8e4m3fn", "float8e4m3fnuz", "float8e5m2",
      "float8e5m2fnuz", "uint4", "int4",        "float4e2m1",     "float8e8m0",
      "uint2",     "int2"};
  return t >= 0 && t < (int64_t)(sizeof names / sizeof *names) ? names[t] : "an unknown type";
}

/* Cast's and CastLike's 'saturate' (opset 19) and 'round_mode' (opset 24),
 * which apply to the float8 types. */
static clcnn_status cast_parse_rounding(const ir_node *n, cast_params *p, clcnn_err *err) {
  int64_t sat = 1;
  clcnn_status st;
  if (n->opset >= 19 && (st = op_attr_int(n, "saturate", 1, &sat, err))) return st;
  p->saturate = (int)sat;
  const char *mode = "up";
  if (n->opset >= 24 && (st = op_attr_string(n, "round_mode", "up", &mode, err))) return st;
  if (!strcmp(mode, "up")) p->round_mode = F8_ROUND_UP;
  else if (!strcmp(mode, "down")) p->round_mode = F8_ROUND_DOWN;
  else if (!strcmp(mode, "nearest")) p->round_mode = F8_ROUND_NEAREST;
  else return err_set(err, CLCNN_ERROR_INVALID_MODEL, "unknown round_mode '%s'", mode);
  return CLCNN_OK;
}

static clcnn_status cast_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  cast_params *p = n->params;
  clcnn_status st = op_arity(n, 1, 1, 1, 1, err);
  if (st) return st;
  if (!ir_attr_find(n, "to"))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'to' is required");
  int64_t to;
  if ((st = op_attr_int(n, "to", 0, &to, err))) return st;
  if (to < 0 || to > 64 || !dtype_size((clcnn_dtype)to))
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "cast to %s (type %lld) is not supported",
                   onnx_type_name(to), (long long)to);
  p->to = (clcnn_dtype)to;
  return cast_parse_rounding(n, p, err);
}

static clcnn_status cast_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  cast_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  return op_set_output(g, n, 0, p->to, x->t.rank, x->t.dims, err);
}

/* -------------------------------------------------------------- CastLike */

static clcnn_status castlike_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  cast_params *p = n->params;
  clcnn_status st = op_arity(n, 2, 2, 1, 1, err);
  if (st) return st;
  return cast_parse_rounding(n, p, err);
}

static clcnn_status castlike_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  cast_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  const ir_value *like = x ? op_data_input(g, n, 1, err) : NULL;
  if (!like) return err->status;
  p->to = like->t.dtype;
  return op_set_output(g, n, 0, p->to, x->t.rank, x->t.dims, err);
}

/* ----------------------------------------------------------------- Range */

static clcnn_status range_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  return op_arity(n, 3, 3, 1, 1, err);
}

/* The length of Range(start, limit, delta) of type dt, or -1 with err set. */
static int64_t range_length(const clcnn_tensor *t[3], clcnn_err *err) {
  const clcnn_dtype dt = t[0]->dtype;
  if (shape_is_index_type(dt)) {
    int64_t s = tensor_get_i64(t[0], 0), l = tensor_get_i64(t[1], 0), d = tensor_get_i64(t[2], 0);
    if (d == 0) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'delta' is 0"), -1;
    /* |l - s| may overflow int64: compute in double where it is huge */
    double span = (double)l - (double)s;
    if (span / (double)d > (double)SHAPE_MAX_NUMEL)
      return err_set(err, CLCNN_ERROR_SHAPE, "the output is too large"), -1;
    if ((d > 0 && l <= s) || (d < 0 && l >= s)) return 0;
    uint64_t u = d > 0 ? (uint64_t)l - (uint64_t)s : (uint64_t)s - (uint64_t)l;
    uint64_t ad = d > 0 ? (uint64_t)d : 0u - (uint64_t)d;
    return (int64_t)((u + ad - 1) / ad);
  }
  double s = tensor_get_f64(t[0], 0), l = tensor_get_f64(t[1], 0), d = tensor_get_f64(t[2], 0);
  if (d == 0 || d != d || s != s || l != l)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'delta' is 0 or an input is NaN"), -1;
  double len = ceil((l - s) / d);
  if (len > (double)SHAPE_MAX_NUMEL) return err_set(err, CLCNN_ERROR_SHAPE, "the output is too large"), -1;
  return len > 0 ? (int64_t)len : 0;
}

static clcnn_status range_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  static const char *const names[3] = {"start", "limit", "delta"};
  const clcnn_tensor *t[3];
  for (int i = 0; i < 3; i++) {
    const ir_value *v = op_data_input(g, n, i, err);
    if (!v) return err->status;
    if (clcnn_tensor_numel(&v->t) != 1 || v->t.rank > 1)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input '%s' must be a scalar", names[i]);
    if (!v->is_const || !v->t.data)
      return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                     "input '%s' must be a constant (it decides the output's length)", names[i]);
    if (v->t.dtype != ir_in(g, n, 0)->t.dtype)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "inputs have different types");
    t[i] = &v->t;
  }
  const clcnn_dtype dt = t[0]->dtype;
  if (!shape_is_index_type(dt) && dt != CLCNN_DTYPE_FLOAT32 && dt != CLCNN_DTYPE_FLOAT64 &&
      dt != CLCNN_DTYPE_FLOAT16)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "type %s is not supported", dtype_name(dt));
  int64_t len = range_length(t, err);
  if (len < 0) return err->status;
  return op_set_output(g, n, 0, dt, 1, &len, err);
}

/* ------------------------------------------------------------------ Size */

static clcnn_status size_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  ir_value *o = ir_out(g, n, 0);
  if (!o) return CLCNN_OK;
  int64_t *data = malloc(sizeof(int64_t));
  if (!data) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  *data = clcnn_tensor_numel(&x->t);
  ir_set_const(o, CLCNN_DTYPE_INT64, 0, NULL, data);
  return CLCNN_OK;
}

static double numel_flops(const ir_graph *g, const ir_node *n) {
  const ir_value *x = ir_in(g, n, 0);
  return x ? (double)clcnn_tensor_numel(&x->t) : 0.0;
}

/* ----------------------------------------------------------------- table */

static const op_front reshape_front = {sizeof(reshape_params), reshape_parse, reshape_infer, NULL};
static const op_front flatten_front = {sizeof(flatten_params), flatten_parse, flatten_infer, NULL};
static const op_front squeeze_front = {sizeof(squeeze_params), squeeze_parse, squeeze_infer, NULL};
static const op_front unsqueeze_front = {sizeof(squeeze_params), squeeze_parse, unsqueeze_infer,
                                         NULL};
static const op_front shape_front = {sizeof(shape_params), shape_parse, shape_infer, NULL};
static const op_front identity_front = {0, identity_parse, identity_infer, NULL};
static const op_front dropout_front = {sizeof(dropout_params), dropout_parse, dropout_infer, NULL};
static const op_front constant_front = {0, constant_parse, constant_infer, NULL};
static const op_front cos_front = {sizeof(constant_of_shape_params), cos_parse, cos_infer, NULL};
static const op_front cast_front = {sizeof(cast_params), cast_parse, cast_infer, numel_flops};
static const op_front castlike_front = {sizeof(cast_params), castlike_parse, castlike_infer,
                                        numel_flops};
static const op_front range_front = {0, range_parse, range_infer, NULL};
static const op_front size_front = {0, identity_parse, size_infer, NULL};

const op_front *const op_front_shape[CLCNN_OP_COUNT] = {
    [CLCNN_OP_RESHAPE] = &reshape_front,
    [CLCNN_OP_FLATTEN] = &flatten_front,
    [CLCNN_OP_SQUEEZE] = &squeeze_front,
    [CLCNN_OP_UNSQUEEZE] = &unsqueeze_front,
    [CLCNN_OP_SHAPE] = &shape_front,
    [CLCNN_OP_IDENTITY] = &identity_front,
    [CLCNN_OP_DROPOUT] = &dropout_front,
    [CLCNN_OP_CONSTANT] = &constant_front,
    [CLCNN_OP_CONSTANT_OF_SHAPE] = &cos_front,
    [CLCNN_OP_CAST] = &cast_front,
    [CLCNN_OP_CAST_LIKE] = &castlike_front,
    [CLCNN_OP_RANGE] = &range_front,
    [CLCNN_OP_SIZE] = &size_front,
};
