/* Parameters of the shape family (Reshape, Flatten, Squeeze, Unsqueeze, Shape,
 * Identity, Dropout, Constant, ConstantOfShape, Cast, CastLike, Range, Size),
 * shared by the front
 * half (runtime/ops/shape.c) and the backends. Flat structs: no pointers.
 *
 * Also a few small helpers for shape arithmetic that the layout and resize
 * families use too. */
#ifndef CLCNN_OPS_SHAPE_H
#define CLCNN_OPS_SHAPE_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../internal.h"

/* Largest tensor (elements) that shape inference lets an operator produce. */
#define SHAPE_MAX_NUMEL ((int64_t)1 << 40)

/* Reshape: the target shape comes from the constant 'shape' input. */
typedef struct reshape_params {
  int allowzero; /* opset 14: 0 in 'shape' is an explicit 0 instead of a copy */
} reshape_params;

typedef struct flatten_params {
  int64_t axis_attr; /* as written (may be negative) */
  int axis;          /* normalized by infer: output is [prod(d[:axis]), prod(d[axis:])] */
} flatten_params;

/* Squeeze / Unsqueeze. Before opset 13 the axes are an attribute; from 13 an
 * optional (Squeeze) or required (Unsqueeze) constant input. `axes` holds
 * them normalized after infer (ascending; input axes for Squeeze, output
 * axes for Unsqueeze). */
typedef struct squeeze_params {
  int naxes_attr;                      /* -1: no attribute */
  int64_t axes_attr[CLCNN_MAX_RANK];
  int naxes;                           /* after infer */
  int axes[CLCNN_MAX_RANK];
} squeeze_params;

/* Shape (opset 15 start/end). */
typedef struct shape_params {
  int64_t start_attr, end_attr;
  int has_end;
  int start, end; /* resolved by infer, 0 <= start <= end <= rank */
} shape_params;

/* Dropout (inference only: output = input; mask = all true). */
typedef struct dropout_params {
  clcnn_dtype mask_dtype; /* BOOL from opset 10, the input type before */
} dropout_params;

/* ConstantOfShape: the one-element 'value' (default float32 0). */
typedef struct constant_of_shape_params {
  clcnn_dtype dtype;
  uint8_t value[8]; /* the element in dtype's representation */
} constant_of_shape_params;

/* Cast: the target type ('to'); CastLike: the type of input 1 (set by
 * infer). */
typedef struct cast_params {
  clcnn_dtype to;
  int saturate;   /* opset 19; for the float8 types (f8_from_double) */
  int round_mode; /* opset 24 (F8_ROUND_*); for float8e8m0 */
  /* A Cast to float16 computed in float32 (graph_lower_float16): `to` is
   * float32 and the output holds each value rounded to the nearest half
   * float, once, from the source type. */
  int round_half;
  int round_bf16; /* the same for a Cast to bfloat16 */
  /* The same for a Cast to a float8 or float4 type (dtype_is_f8): the type,
   * rounded to with saturate and round_mode; UNDEFINED: none. */
  clcnn_dtype round_f8;
} cast_params;

/* Range(start, limit, delta): scalars of one type (float32, float64,
 * float16, int64, int32); output [max(ceil((limit - start) / delta), 0)]
 * with element i = start + i * delta. The inputs decide the output's
 * length, so they must be constants (the node then always folds). No
 * params. Size: the element count of its input, an int64 scalar constant
 * (set by infer). No params. */

/* ------------------------------------------------- helpers for the fronts */

/* Writes v converted to type dt into out[8] (the rest zeroed): floats
 * rounded, integers truncated toward zero and saturated, bool = v != 0. */
static inline void shape_scalar_store(clcnn_dtype dt, double v, uint8_t *out) {
  memset(out, 0, 8);
  bool nan = v != v;
  switch (dt) {
    case CLCNN_DTYPE_FLOAT32: {
      float f = (float)v;
      memcpy(out, &f, 4);
      break;
    }
    case CLCNN_DTYPE_FLOAT64: memcpy(out, &v, 8); break;
    case CLCNN_DTYPE_FLOAT16: {
      uint16_t h = f16_from_double(v);
      memcpy(out, &h, 2);
      break;
    }
    case CLCNN_DTYPE_INT64: {
      int64_t i = nan ? 0
                  : v >= 9223372036854775807.0 ? INT64_MAX
                  : v <= -9223372036854775808.0 ? INT64_MIN
                  : (int64_t)v;
      memcpy(out, &i, 8);
      break;
    }
    case CLCNN_DTYPE_INT32: {
      int32_t i = nan ? 0 : v >= 2147483647.0 ? INT32_MAX : v <= -2147483648.0 ? INT32_MIN : (int32_t)v;
      memcpy(out, &i, 4);
      break;
    }
    case CLCNN_DTYPE_INT8: {
      int8_t i = (int8_t)(nan ? 0 : v >= 127.0 ? 127 : v <= -128.0 ? -128 : (int)v);
      memcpy(out, &i, 1);
      break;
    }
    case CLCNN_DTYPE_UINT8: out[0] = (uint8_t)(nan ? 0 : v >= 255.0 ? 255 : v <= 0.0 ? 0 : (int)v); break;
    case CLCNN_DTYPE_BOOL: out[0] = v != 0; break;
    default: break;
  }
}


/* Whether dims are all >= 0 and their product fits in SHAPE_MAX_NUMEL. */
static inline bool shape_dims_ok(int rank, const int64_t *dims) {
  int64_t p = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0 || dims[i] > SHAPE_MAX_NUMEL) return false;
    if (dims[i] && p > SHAPE_MAX_NUMEL / dims[i]) return false;
    if (dims[i]) p *= dims[i];
  }
  return true;
}

/* Input i of a node, required and of a supported type; NULL with err set. */
static inline const ir_value *op_data_input(const ir_graph *g, const ir_node *n, int i,
                                            clcnn_err *err) {
  const ir_value *v = ir_in(g, n, i);
  if (!v) {
    err_set(err, CLCNN_ERROR_INVALID_MODEL, "input %d is required", i);
    return NULL;
  }
  if (!dtype_size(v->t.dtype)) {
    err_set(err, CLCNN_ERROR_UNSUPPORTED, "input %d has unsupported type %s", i,
            dtype_name(v->t.dtype));
    return NULL;
  }
  return v;
}

/* Sets output k's type and shape after checking the shape is sane. */
static inline clcnn_status op_set_output(ir_graph *g, ir_node *n, int k, clcnn_dtype dt, int rank,
                                         const int64_t *dims, clcnn_err *err) {
  if (!shape_dims_ok(rank, dims)) {
    char buf[160];
    return err_set(err, CLCNN_ERROR_SHAPE, "output %d would have an invalid or huge shape %s", k,
                   shape_str(rank, dims, buf, sizeof buf));
  }
  ir_value *o = ir_out(g, n, k);
  if (o) ir_set_shape(o, dt, rank, dims);
  return CLCNN_OK;
}

/* Normalizes an axis in [-rank, rank-1]; false when out of range. */
static inline bool shape_axis(int64_t axis, int rank, int *out) {
  if (axis < -(int64_t)rank || axis >= (int64_t)rank) return false;
  *out = (int)(axis < 0 ? axis + rank : axis);
  return true;
}

/* Whether a tensor type is an integer type that can carry indices/shapes. */
static inline bool shape_is_index_type(clcnn_dtype dt) {
  return dt == CLCNN_DTYPE_INT64 || dt == CLCNN_DTYPE_INT32;
}

/* Checks a node's input and output counts; the first min_in inputs and
 * min_out outputs must be present. max < 0: no upper bound. */
static inline clcnn_status op_arity(const ir_node *n, int min_in, int max_in, int min_out,
                                    int max_out, clcnn_err *err) {
  if (n->nin < min_in || (max_in >= 0 && n->nin > max_in))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "has %d inputs; %d to %d expected", n->nin,
                   min_in, max_in >= 0 ? max_in : 1 << 30);
  if (n->nout < min_out || (max_out >= 0 && n->nout > max_out))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "has %d outputs; %d to %d expected",
                   n->nout, min_out, max_out >= 0 ? max_out : 1 << 30);
  for (int i = 0; i < min_in; i++)
    if (n->in[i] < 0)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input %d is required", i);
  for (int i = 0; i < min_out; i++)
    if (n->out[i] < 0)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "output %d is required", i);
  return CLCNN_OK;
}

/* Reads an INT attribute (def when absent); a wrong type is INVALID_MODEL. */
static inline clcnn_status op_attr_int(const ir_node *n, const char *name, int64_t def,
                                       int64_t *out, clcnn_err *err) {
  const ir_attr *a = ir_attr_find(n, name);
  *out = def;
  if (!a) return CLCNN_OK;
  if (a->type != IR_ATTR_INT)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute '%s' must be an int", name);
  *out = a->i;
  return CLCNN_OK;
}

/* Reads a FLOAT attribute (an INT is accepted too). */
static inline clcnn_status op_attr_float(const ir_node *n, const char *name, float def,
                                         float *out, clcnn_err *err) {
  const ir_attr *a = ir_attr_find(n, name);
  *out = def;
  if (!a) return CLCNN_OK;
  if (a->type == IR_ATTR_FLOAT) *out = a->f;
  else if (a->type == IR_ATTR_INT) *out = (float)a->i;
  else return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute '%s' must be a float", name);
  return CLCNN_OK;
}

/* Reads a STRING attribute (def when absent). */
static inline clcnn_status op_attr_string(const ir_node *n, const char *name, const char *def,
                                          const char **out, clcnn_err *err) {
  const ir_attr *a = ir_attr_find(n, name);
  *out = def;
  if (!a) return CLCNN_OK;
  if (a->type != IR_ATTR_STRING || !a->s)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute '%s' must be a string", name);
  *out = a->s;
  return CLCNN_OK;
}

/* Reads an INTS attribute of at most `max` values into out; *count = -1
 * when absent. */
static inline clcnn_status op_attr_ints(const ir_node *n, const char *name, int64_t *out, int max,
                                        int *count, clcnn_err *err) {
  const ir_attr *a = ir_attr_find(n, name);
  *count = -1;
  if (!a) return CLCNN_OK;
  if (a->type != IR_ATTR_INTS)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute '%s' must be a list of ints", name);
  if (a->n > (size_t)max)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "attribute '%s' has %zu values; at most %d are supported",
                   name, a->n, max);
  for (size_t i = 0; i < a->n; i++) out[i] = a->ints[i];
  *count = (int)a->n;
  return CLCNN_OK;
}

/* Reads constant integer input i (a scalar or 1-D int32/int64 tensor) into
 * out[max]; *count = its length. Not constant: UNSUPPORTED. */
static inline clcnn_status op_const_ints(const ir_graph *g, const ir_node *n, int i,
                                         const char *what, int64_t *out, int max, int *count,
                                         clcnn_err *err) {
  const ir_value *v = ir_in(g, n, i);
  if (!v) return err_set(err, CLCNN_ERROR_INTERNAL, "input '%s' is missing", what);
  if (!v->is_const || !v->t.data)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input '%s' must be a constant", what);
  if (!shape_is_index_type(v->t.dtype))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input '%s' must be int64 or int32, not %s",
                   what, dtype_name(v->t.dtype));
  if (v->t.rank > 1)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input '%s' must be 1-D", what);
  int64_t len = v->t.rank == 0 ? 1 : v->t.dims[0];
  if (len < 0 || len > max)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input '%s' has %lld values; at most %d are supported",
                   what, (long long)len, max);
  for (int64_t k = 0; k < len; k++) out[k] = tensor_get_i64(&v->t, k);
  *count = (int)len;
  return CLCNN_OK;
}

#endif /* CLCNN_OPS_SHAPE_H */
