/* Front half of the reduce family (ReduceMean, ReduceMax, ReduceSum,
 * ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceSumSquare,
 * ReduceLogSumExp; ArgMax, ArgMin; TopK, CumSum): attributes, validation,
 * shape inference.
 * Axes are an attribute before opset 18 (13 for ReduceSum) and an optional
 * constant input from then on. */
#include "reduce.h"

#include <string.h>

#include "../internal.h"

static bool axes_from_input(const ir_node *n) {
  return n->opset >= (n->op == CLCNN_OP_REDUCESUM ? 13 : 18);
}

/* keepdims / noop_with_empty_axes: any non-zero value is true, as
 * onnxruntime reads them. */
static clcnn_status get_flag(const ir_node *n, const char *name, int def, int *out,
                             clcnn_err *err) {
  const ir_attr *a = ir_attr_find(n, name);
  *out = def;
  if (!a) return CLCNN_OK;
  if (a->type != IR_ATTR_INT)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute '%s' must be an int", name);
  *out = a->i != 0;
  return CLCNN_OK;
}

static bool is_arg(int op) { return op == CLCNN_OP_ARGMAX || op == CLCNN_OP_ARGMIN; }

static clcnn_status arg_parse(ir_node *n, clcnn_err *err) {
  reduce_params *p = n->params;
  if (n->nin != 1 || n->in[0] < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 1 input, got %d", n->nin);
  if (n->nout != 1 || n->out[0] < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 1 output, got %d", n->nout);
  for (int i = 0; i < n->nattr; i++) {
    const char *name = n->attr[i].name;
    if (strcmp(name, "axis") && strcmp(name, "keepdims") &&
        (n->opset < 12 || strcmp(name, "select_last_index")))
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "unknown attribute '%s' (opset %d)", name,
                     n->opset);
  }
  const ir_attr *a = ir_attr_find(n, "axis");
  if (a && a->type != IR_ATTR_INT)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'axis' must be an int");
  p->axis_attr = a ? a->i : 0;
  clcnn_status st = get_flag(n, "keepdims", 1, &p->keepdims, err);
  if (st == CLCNN_OK) st = get_flag(n, "select_last_index", 0, &p->select_last_index, err);
  return st;
}

static clcnn_status reduce_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  reduce_params *p = n->params;
  if (is_arg(n->op)) return arg_parse(n, err);
  p->axes_from_input = axes_from_input(n);
  int max_in = p->axes_from_input ? 2 : 1;
  if (n->nin < 1 || n->nin > max_in || n->in[0] < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 1 to %d inputs, got %d", max_in,
                   n->nin);
  if (n->nout != 1 || n->out[0] < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 1 output, got %d", n->nout);
  for (int i = 0; i < n->nattr; i++) {
    const char *name = n->attr[i].name;
    bool known = strcmp(name, "keepdims") == 0 ||
                 (p->axes_from_input ? strcmp(name, "noop_with_empty_axes") == 0
                                     : strcmp(name, "axes") == 0);
    if (!known)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "unknown attribute '%s' (opset %d)", name,
                     n->opset);
  }
  clcnn_status st = get_flag(n, "keepdims", 1, &p->keepdims, err);
  if (st || (st = get_flag(n, "noop_with_empty_axes", 0, &p->noop_with_empty_axes, err))) return st;
  if (!p->axes_from_input) {
    const ir_attr *a = ir_attr_find(n, "axes");
    if (a && a->type != IR_ATTR_INTS)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'axes' must be a list of ints");
    int k = ir_attr_ints(n, "axes", p->axes, CLCNN_MAX_RANK);
    if (k == -2)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'axes' has more than %d entries",
                     CLCNN_MAX_RANK);
    p->naxes = k < 0 ? 0 : k;
  }
  return CLCNN_OK;
}

static bool dtype_ok(int op, clcnn_dtype dt) {
  const bool minmax = op == CLCNN_OP_REDUCEMAX || op == CLCNN_OP_REDUCEMIN;
  switch (dt) {
    case CLCNN_DTYPE_FLOAT32:
    case CLCNN_DTYPE_FLOAT64:
      return true;
    case CLCNN_DTYPE_INT64:
    case CLCNN_DTYPE_INT32:
      return op != CLCNN_OP_REDUCEL2 && op != CLCNN_OP_REDUCELOGSUMEXP;
    case CLCNN_DTYPE_UINT8:
    case CLCNN_DTYPE_INT8:
      return minmax || is_arg(op);
    case CLCNN_DTYPE_BOOL:
      return minmax;
    default:
      return false;
  }
}

static clcnn_status arg_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  reduce_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0);
  const int r = x->t.rank;
  if (!dtype_ok(n->op, x->t.dtype))
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input of type %s is not supported",
                   dtype_name(x->t.dtype));
  if (r < 1) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input must have rank >= 1");
  if (p->axis_attr < -r || p->axis_attr >= r)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is out of range for rank %d",
                   (long long)p->axis_attr, r);
  p->axis = (int)(p->axis_attr < 0 ? p->axis_attr + r : p->axis_attr);
  p->len = x->t.dims[p->axis];
  if (p->len == 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "cannot take %s over an empty axis",
                   op_name(n->op));
  p->outer = shape_numel(p->axis, x->t.dims);
  p->inner = shape_numel(r - p->axis - 1, x->t.dims + p->axis + 1);
  int64_t od[CLCNN_MAX_RANK];
  int orank = 0;
  for (int i = 0; i < r; i++) {
    if (i != p->axis)
      od[orank++] = x->t.dims[i];
    else if (p->keepdims)
      od[orank++] = 1;
  }
  ir_set_shape(ir_out(g, n, 0), CLCNN_DTYPE_INT64, orank, od);
  return CLCNN_OK;
}

static clcnn_status reduce_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  if (is_arg(n->op)) return arg_infer(g, n, err);
  reduce_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0);
  const int r = x->t.rank;
  if (!dtype_ok(n->op, x->t.dtype))
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input of type %s is not supported",
                   dtype_name(x->t.dtype));
  int64_t nonzero = 1; /* product of the non-zero dims: bounds every product below */
  for (int i = 0; i < r; i++) {
    int64_t d = x->t.dims[i];
    if (d < 0 || (d && nonzero > INT64_MAX / d))
      return err_set(err, CLCNN_ERROR_SHAPE, "input has an invalid or huge shape");
    if (d) nonzero *= d;
  }

  if (p->axes_from_input) {
    const ir_value *a = ir_in(g, n, 1);
    p->naxes = 0;
    if (a) {
      if (!a->is_const || !a->t.data)
        return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input 'axes' must be a constant");
      if (a->t.dtype != CLCNN_DTYPE_INT64 && a->t.dtype != CLCNN_DTYPE_INT32)
        return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input 'axes' must be int64, not %s",
                       dtype_name(a->t.dtype));
      if (a->t.rank > 1) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input 'axes' must be 1-D");
      int64_t k = shape_numel(a->t.rank, a->t.dims);
      if (k < 0 || k > r || k > CLCNN_MAX_RANK)
        return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                       "input 'axes' has %lld entries for an input of rank %d", (long long)k, r);
      for (int64_t i = 0; i < k; i++) p->axes[i] = tensor_get_i64(&a->t, i);
      p->naxes = (int)k;
    }
  }

  uint32_t mask = 0;
  for (int i = 0; i < p->naxes; i++) {
    int64_t ax = p->axes[i];
    if (ax < -r || ax >= r)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is out of range for rank %d",
                     (long long)ax, r);
    if (ax < 0) ax += r;
    if (mask & (1u << ax))
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is repeated",
                     (long long)p->axes[i]);
    mask |= 1u << ax;
  }
  p->noop = p->naxes == 0 && p->noop_with_empty_axes;
  if (p->naxes == 0 && !p->noop) mask = r ? (uint32_t)((1ull << r) - 1) : 0;
  p->mask = mask;

  /* Output shape. */
  int64_t od[CLCNN_MAX_RANK];
  int orank = 0;
  for (int i = 0; i < r; i++) {
    if (!(mask & (1u << i)))
      od[orank++] = x->t.dims[i];
    else if (p->keepdims)
      od[orank++] = 1;
  }

  /* Merged view: size-1 dims dropped, neighbours of the same kind merged. */
  p->rank = 0;
  p->count = 1;
  for (int i = 0; i < r; i++) {
    int64_t d = x->t.dims[i];
    uint8_t red = (mask >> i) & 1;
    if (red) p->count *= d;
    if (d == 1) continue;
    if (p->rank && p->reduced[p->rank - 1] == red) {
      p->dims[p->rank - 1] *= d;
    } else {
      p->dims[p->rank] = d;
      p->reduced[p->rank] = red;
      p->rank++;
    }
  }
  if (p->rank == 0) {
    p->rank = 1;
    p->dims[0] = 1;
    p->reduced[0] = 0;
  }
  ir_set_shape(ir_out(g, n, 0), x->t.dtype, orank, od);
  return CLCNN_OK;
}

static double reduce_flops(const ir_graph *g, const ir_node *n) {
  const ir_value *x = ir_in(g, n, 0);
  return x ? (double)shape_numel(x->t.rank, x->t.dims) : 0;
}

/* ------------------------------------------------------- TopK, CumSum */

static bool axis_type_ok(clcnn_dtype dt) {
  return dt == CLCNN_DTYPE_FLOAT32 || dt == CLCNN_DTYPE_FLOAT64 || dt == CLCNN_DTYPE_INT64 ||
         dt == CLCNN_DTYPE_INT32;
}

/* [outer, len, inner] around a normalized axis. */
static void axis_view(const ir_value *x, int axis, int64_t *outer, int64_t *len, int64_t *inner) {
  *outer = shape_numel(axis, x->t.dims);
  *len = x->t.dims[axis];
  *inner = shape_numel(x->t.rank - axis - 1, x->t.dims + axis + 1);
}

static clcnn_status topk_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  topk_params *p = n->params;
  const bool k_input = n->opset >= 10;
  if (n->nin != (k_input ? 2 : 1) || n->in[0] < 0 || (k_input && n->in[1] < 0))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects %d inputs, got %d", k_input ? 2 : 1,
                   n->nin);
  if (n->nout != 2 || n->out[0] < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 2 outputs, got %d", n->nout);
  for (int i = 0; i < n->nattr; i++) {
    const char *name = n->attr[i].name;
    bool known = !strcmp(name, "axis") || (!k_input && !strcmp(name, "k")) ||
                 (n->opset >= 11 && (!strcmp(name, "largest") || !strcmp(name, "sorted")));
    if (!known)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "unknown attribute '%s' (opset %d)", name,
                     n->opset);
    if (n->attr[i].type != IR_ATTR_INT)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute '%s' must be an int", name);
  }
  if (!k_input && !ir_attr_find(n, "k"))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'k' is required before opset 10");
  p->axis_attr = ir_attr_int(n, "axis", -1);
  p->k_attr = ir_attr_int(n, "k", 0);
  p->largest = ir_attr_int(n, "largest", 1) != 0;
  p->sorted = ir_attr_int(n, "sorted", 1) != 0;
  return CLCNN_OK;
}

static clcnn_status topk_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  topk_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0);
  const int r = x->t.rank;
  if (!axis_type_ok(x->t.dtype) && x->t.dtype != CLCNN_DTYPE_UINT64)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input of type %s is not supported",
                   dtype_name(x->t.dtype));
  if (r < 1) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input must have rank >= 1");
  if (p->axis_attr < -r || p->axis_attr >= r)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is out of range for rank %d",
                   (long long)p->axis_attr, r);
  p->axis = (int)(p->axis_attr < 0 ? p->axis_attr + r : p->axis_attr);
  p->k = p->k_attr;
  if (n->opset >= 10) {
    const ir_value *kv = ir_in(g, n, 1);
    if (!kv->is_const || !kv->t.data)
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input 'K' must be a constant");
    if (kv->t.dtype != CLCNN_DTYPE_INT64 || clcnn_tensor_numel(&kv->t) != 1 || kv->t.rank > 1)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input 'K' must be one int64");
    p->k = tensor_get_i64(&kv->t, 0);
  }
  axis_view(x, p->axis, &p->outer, &p->len, &p->inner);
  if (p->k < 0 || p->k > p->len)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "k = %lld is not in 0..%lld (axis %d)",
                   (long long)p->k, (long long)p->len, p->axis);
  int64_t od[CLCNN_MAX_RANK];
  memcpy(od, x->t.dims, sizeof od);
  od[p->axis] = p->k;
  ir_set_shape(ir_out(g, n, 0), x->t.dtype, r, od);
  if (ir_out(g, n, 1)) ir_set_shape(ir_out(g, n, 1), CLCNN_DTYPE_INT64, r, od);
  return CLCNN_OK;
}

static clcnn_status cumsum_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  cumsum_params *p = n->params;
  if (n->nin != 2 || n->in[0] < 0 || n->in[1] < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 2 inputs, got %d", n->nin);
  if (n->nout != 1 || n->out[0] < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 1 output, got %d", n->nout);
  for (int i = 0; i < n->nattr; i++) {
    const char *name = n->attr[i].name;
    if (strcmp(name, "exclusive") && strcmp(name, "reverse"))
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "unknown attribute '%s'", name);
    if (n->attr[i].type != IR_ATTR_INT)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute '%s' must be an int", name);
  }
  p->exclusive = ir_attr_int(n, "exclusive", 0) != 0;
  p->reverse = ir_attr_int(n, "reverse", 0) != 0;
  return CLCNN_OK;
}

static clcnn_status cumsum_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  cumsum_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0), *a = ir_in(g, n, 1);
  const int r = x->t.rank;
  if (!axis_type_ok(x->t.dtype))
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input of type %s is not supported",
                   dtype_name(x->t.dtype));
  if (r < 1) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input must have rank >= 1");
  if (!a->is_const || !a->t.data)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input 'axis' must be a constant");
  if ((a->t.dtype != CLCNN_DTYPE_INT64 && a->t.dtype != CLCNN_DTYPE_INT32) ||
      clcnn_tensor_numel(&a->t) != 1 || a->t.rank > 1)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input 'axis' must be one int64 or int32");
  int64_t axis = tensor_get_i64(&a->t, 0);
  if (axis < -r || axis >= r)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is out of range for rank %d",
                   (long long)axis, r);
  p->axis = (int)(axis < 0 ? axis + r : axis);
  axis_view(x, p->axis, &p->outer, &p->len, &p->inner);
  ir_set_shape(ir_out(g, n, 0), x->t.dtype, r, x->t.dims);
  return CLCNN_OK;
}

static const op_front reduce_front = {sizeof(reduce_params), reduce_parse, reduce_infer,
                                      reduce_flops};
static const op_front topk_front = {sizeof(topk_params), topk_parse, topk_infer, NULL};
static const op_front cumsum_front = {sizeof(cumsum_params), cumsum_parse, cumsum_infer,
                                      reduce_flops};

const op_front *const op_front_reduce[CLCNN_OP_COUNT] = {
    [CLCNN_OP_REDUCEMEAN] = &reduce_front,
    [CLCNN_OP_REDUCEMAX] = &reduce_front,
    [CLCNN_OP_REDUCESUM] = &reduce_front,
    [CLCNN_OP_REDUCEMIN] = &reduce_front,
    [CLCNN_OP_REDUCEPROD] = &reduce_front,
    [CLCNN_OP_REDUCEL1] = &reduce_front,
    [CLCNN_OP_REDUCEL2] = &reduce_front,
    [CLCNN_OP_REDUCESUMSQUARE] = &reduce_front,
    [CLCNN_OP_REDUCELOGSUMEXP] = &reduce_front,
    [CLCNN_OP_ARGMAX] = &reduce_front,
    [CLCNN_OP_ARGMIN] = &reduce_front,
    [CLCNN_OP_TOPK] = &topk_front,
    [CLCNN_OP_CUMSUM] = &cumsum_front,
};
