/* Front half of the indexing family: attributes, validation, shape inference.
 * GatherElements, GatherND, ScatterElements (and Scatter, its name before
 * opset 11), ScatterND, OneHot, Trilu. */
#include "indexing.h"

#include <string.h>

#include "../internal.h"
#include "shape.h"

/* Every element of a constant index tensor lies in [-limit, limit). */
static clcnn_status check_const_indices(const ir_value *idx, int64_t limit, clcnn_err *err) {
  if (!idx->is_const || !idx->t.data) return CLCNN_OK;
  int64_t cnt = clcnn_tensor_numel(&idx->t);
  for (int64_t i = 0; i < cnt; i++) {
    int64_t v = tensor_get_i64(&idx->t, i);
    if (v < -limit || v >= limit)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "index %lld is out of range [%lld, %lld)",
                     (long long)v, (long long)-limit, (long long)limit);
  }
  return CLCNN_OK;
}

static bool reduction_type_ok(clcnn_dtype dt) {
  return dt == CLCNN_DTYPE_FLOAT32 || dt == CLCNN_DTYPE_FLOAT64 || dt == CLCNN_DTYPE_INT64 ||
         dt == CLCNN_DTYPE_INT32;
}

/* The scatters' 'reduction': none before opset 16, add and mul from 16,
 * max and min from 18. */
static clcnn_status parse_reduction(const ir_node *n, int *out, clcnn_err *err) {
  const char *r;
  clcnn_status st = op_attr_string(n, "reduction", "none", &r, err);
  if (st) return st;
  if (ir_attr_find(n, "reduction") && (n->op == CLCNN_OP_SCATTER || n->opset < 16))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'reduction' needs opset 16 (this is %d)",
                   n->opset);
  if (!strcmp(r, "none")) *out = SCATTER_NONE;
  else if (!strcmp(r, "add")) *out = SCATTER_ADD;
  else if (!strcmp(r, "mul")) *out = SCATTER_MUL;
  else if (!strcmp(r, "max") && n->opset >= 18) *out = SCATTER_MAX;
  else if (!strcmp(r, "min") && n->opset >= 18) *out = SCATTER_MIN;
  else
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'reduction' = '%s' is not valid in opset %d",
                   r, n->opset);
  return CLCNN_OK;
}

static const ir_value *index_input(const ir_graph *g, const ir_node *n, int i, clcnn_err *err) {
  const ir_value *v = op_data_input(g, n, i, err);
  if (v && !shape_is_index_type(v->t.dtype)) {
    err_set(err, CLCNN_ERROR_INVALID_MODEL, "indices must be int64 or int32, not %s",
            dtype_name(v->t.dtype));
    return NULL;
  }
  return v;
}

/* ------------------------------------------- GatherElements, ScatterElements */

static clcnn_status elements_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  elements_params *p = n->params;
  bool scatter = n->op != CLCNN_OP_GATHER_ELEMENTS;
  clcnn_status st = op_arity(n, scatter ? 3 : 2, scatter ? 3 : 2, 1, 1, err);
  if (st || (st = op_attr_int(n, "axis", 0, &p->axis_attr, err))) return st;
  p->reduction = SCATTER_NONE;
  if (scatter && (st = parse_reduction(n, &p->reduction, err))) return st;
  return CLCNN_OK;
}

static clcnn_status elements_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  elements_params *p = n->params;
  bool scatter = n->op != CLCNN_OP_GATHER_ELEMENTS;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  const ir_value *idx = index_input(g, n, 1, err);
  if (!idx) return err->status;
  int r = x->t.rank;
  char a[160], b[160];
  if (r < 1) return err_set(err, CLCNN_ERROR_SHAPE, "data must have rank >= 1");
  if (idx->t.rank != r)
    return err_set(err, CLCNN_ERROR_SHAPE, "indices have rank %d, data rank %d", idx->t.rank, r);
  if (!shape_axis(p->axis_attr, r, &p->axis))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is out of range for rank %d",
                   (long long)p->axis_attr, r);
  for (int d = 0; d < r; d++)
    if (d != p->axis && idx->t.dims[d] > x->t.dims[d])
      return err_set(err, CLCNN_ERROR_SHAPE, "indices %s are larger than data %s outside axis %d",
                     shape_str(r, idx->t.dims, a, sizeof a), shape_str(r, x->t.dims, b, sizeof b),
                     p->axis);
  clcnn_status st = check_const_indices(idx, x->t.dims[p->axis], err);
  if (st) return st;
  if (!scatter) return op_set_output(g, n, 0, x->t.dtype, r, idx->t.dims, err);
  const ir_value *u = op_data_input(g, n, 2, err);
  if (!u) return err->status;
  if (u->t.dtype != x->t.dtype)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "updates are %s, data %s",
                   dtype_name(u->t.dtype), dtype_name(x->t.dtype));
  bool same = u->t.rank == r;
  for (int d = 0; same && d < r; d++) same = u->t.dims[d] == idx->t.dims[d];
  if (!same)
    return err_set(err, CLCNN_ERROR_SHAPE, "updates %s and indices %s differ in shape",
                   shape_str(u->t.rank, u->t.dims, a, sizeof a),
                   shape_str(r, idx->t.dims, b, sizeof b));
  if (p->reduction != SCATTER_NONE && !reduction_type_ok(x->t.dtype))
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "reduction on %s data is not supported",
                   dtype_name(x->t.dtype));
  return op_set_output(g, n, 0, x->t.dtype, r, x->t.dims, err);
}

/* ---------------------------------------------------- GatherND, ScatterND */

static clcnn_status nd_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  nd_params *p = n->params;
  bool scatter = n->op == CLCNN_OP_SCATTER_ND;
  clcnn_status st = op_arity(n, scatter ? 3 : 2, scatter ? 3 : 2, 1, 1, err);
  if (st) return st;
  p->batch_dims = 0;
  if (!scatter) {
    if ((st = op_attr_int(n, "batch_dims", 0, &p->batch_dims, err))) return st;
    if (ir_attr_find(n, "batch_dims") && n->opset < 12)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'batch_dims' needs opset 12");
    if (p->batch_dims < 0)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'batch_dims' is negative");
  }
  p->reduction = SCATTER_NONE;
  if (scatter && (st = parse_reduction(n, &p->reduction, err))) return st;
  return CLCNN_OK;
}

static clcnn_status nd_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  nd_params *p = n->params;
  bool scatter = n->op == CLCNN_OP_SCATTER_ND;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  const ir_value *idx = index_input(g, n, 1, err);
  if (!idx) return err->status;
  int r = x->t.rank, q = idx->t.rank;
  int64_t bd = p->batch_dims;
  char a[160], b[160];
  if (r < 1 || q < 1) return err_set(err, CLCNN_ERROR_SHAPE, "data and indices must have rank >= 1");
  if (bd >= q || bd >= r)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "batch_dims %lld must be less than both ranks (%d, %d)",
                   (long long)bd, r, q);
  int64_t k = idx->t.dims[q - 1];
  if (k < 1 || k > r - bd)
    return err_set(err, CLCNN_ERROR_SHAPE, "the last dim of indices (%lld) must be in 1..%lld",
                   (long long)k, (long long)(r - bd));
  for (int d = 0; d < bd; d++)
    if (idx->t.dims[d] != x->t.dims[d])
      return err_set(err, CLCNN_ERROR_SHAPE, "batch dims of indices %s and data %s differ",
                     shape_str(q, idx->t.dims, a, sizeof a), shape_str(r, x->t.dims, b, sizeof b));
  p->k = (int)k;
  p->batch = shape_numel((int)bd, x->t.dims);
  p->tuples = shape_numel(q - 1 - (int)bd, idx->t.dims + bd);
  p->slice = shape_numel(r - (int)(bd + k), x->t.dims + bd + k);
  p->batch_stride = shape_numel(r - (int)bd, x->t.dims + bd);
  int64_t stride = p->slice;
  for (int i = (int)k - 1; i >= 0; i--) {
    p->dims[i] = x->t.dims[bd + i];
    p->strides[i] = stride;
    stride *= p->dims[i];
  }
  /* indices.shape[:-1] + data.shape[b + k:] */
  int64_t od[2 * CLCNN_MAX_RANK];
  int orank = 0;
  for (int d = 0; d < q - 1; d++) od[orank++] = idx->t.dims[d];
  for (int d = (int)(bd + k); d < r; d++) od[orank++] = x->t.dims[d];
  if (orank > CLCNN_MAX_RANK)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "the output would have rank %d; at most %d",
                   orank, CLCNN_MAX_RANK);
  if (idx->is_const && idx->t.data) {
    int64_t cnt = clcnn_tensor_numel(&idx->t);
    for (int64_t i = 0; i < cnt; i++) {
      int64_t v = tensor_get_i64(&idx->t, i), lim = p->dims[i % k];
      if (v < -lim || v >= lim)
        return err_set(err, CLCNN_ERROR_INVALID_MODEL, "index %lld is out of range [%lld, %lld)",
                       (long long)v, (long long)-lim, (long long)lim);
    }
  }
  if (!scatter) return op_set_output(g, n, 0, x->t.dtype, orank, od, err);
  const ir_value *u = op_data_input(g, n, 2, err);
  if (!u) return err->status;
  if (u->t.dtype != x->t.dtype)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "updates are %s, data %s",
                   dtype_name(u->t.dtype), dtype_name(x->t.dtype));
  bool same = u->t.rank == orank;
  for (int d = 0; same && d < orank; d++) same = u->t.dims[d] == od[d];
  if (!same)
    return err_set(err, CLCNN_ERROR_SHAPE, "updates have shape %s; %s expected",
                   shape_str(u->t.rank, u->t.dims, a, sizeof a), shape_str(orank, od, b, sizeof b));
  if (p->reduction != SCATTER_NONE && !reduction_type_ok(x->t.dtype))
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "reduction on %s data is not supported",
                   dtype_name(x->t.dtype));
  return op_set_output(g, n, 0, x->t.dtype, r, x->t.dims, err);
}

/* ---------------------------------------------------------------- OneHot */

static clcnn_status onehot_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  onehot_params *p = n->params;
  clcnn_status st = op_arity(n, 3, 3, 1, 1, err);
  if (st) return st;
  return op_attr_int(n, "axis", -1, &p->axis_attr, err);
}

static bool numeric_type(clcnn_dtype dt) {
  return dt != CLCNN_DTYPE_BOOL && dt != CLCNN_DTYPE_UNDEFINED && dtype_size(dt) > 0;
}

static clcnn_status onehot_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  onehot_params *p = n->params;
  const ir_value *idx = op_data_input(g, n, 0, err);
  if (!idx) return err->status;
  const ir_value *depth = op_data_input(g, n, 1, err);
  if (!depth) return err->status;
  const ir_value *vals = op_data_input(g, n, 2, err);
  if (!vals) return err->status;
  if (!numeric_type(idx->t.dtype) || !numeric_type(depth->t.dtype))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "indices and depth must be numeric");
  if (!depth->is_const || !depth->t.data)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input 'depth' must be a constant");
  if (clcnn_tensor_numel(&depth->t) != 1 || depth->t.rank > 1)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input 'depth' must have one element");
  if (clcnn_tensor_numel(&vals->t) != 2 || vals->t.rank != 1)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input 'values' must have two elements");
  double dv = tensor_get_f64(&depth->t, 0);
  if (shape_is_index_type(depth->t.dtype)) dv = (double)tensor_get_i64(&depth->t, 0);
  if (!(dv >= 1) || dv > (double)SHAPE_MAX_NUMEL)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "depth %g is not a positive size", dv);
  p->depth = (int64_t)dv;
  int r = idx->t.rank;
  if (r + 1 > CLCNN_MAX_RANK)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "the output would have rank %d; at most %d", r + 1,
                   CLCNN_MAX_RANK);
  if (!shape_axis(p->axis_attr, r + 1, &p->axis))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is out of range for rank %d",
                   (long long)p->axis_attr, r + 1);
  p->outer = shape_numel(p->axis, idx->t.dims);
  p->inner = shape_numel(r - p->axis, idx->t.dims + p->axis);
  int64_t od[CLCNN_MAX_RANK];
  for (int d = 0, o = 0; d <= r; d++) od[d] = d == p->axis ? p->depth : idx->t.dims[o++];
  return op_set_output(g, n, 0, vals->t.dtype, r + 1, od, err);
}

/* ----------------------------------------------------------------- Trilu */

static clcnn_status trilu_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  trilu_params *p = n->params;
  clcnn_status st = op_arity(n, 1, 2, 1, 1, err);
  int64_t upper;
  if (st || (st = op_attr_int(n, "upper", 1, &upper, err))) return st;
  p->upper = upper != 0;
  return CLCNN_OK;
}

static clcnn_status trilu_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  trilu_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  int r = x->t.rank;
  if (r < 2) return err_set(err, CLCNN_ERROR_SHAPE, "input must have rank >= 2, not %d", r);
  p->k = 0;
  if (ir_in(g, n, 1)) {
    int64_t k[1];
    int cnt = 0;
    clcnn_status st = op_const_ints(g, n, 1, "k", k, 1, &cnt, err);
    if (st) return st;
    if (cnt != 1) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input 'k' must have one value");
    p->k = k[0];
  }
  p->rows = x->t.dims[r - 2];
  p->cols = x->t.dims[r - 1];
  p->matrices = shape_numel(r - 2, x->t.dims);
  return op_set_output(g, n, 0, x->t.dtype, r, x->t.dims, err);
}

/* ----------------------------------------------------------------- table */

static const op_front elements_front = {sizeof(elements_params), elements_parse, elements_infer,
                                        NULL};
static const op_front nd_front = {sizeof(nd_params), nd_parse, nd_infer, NULL};
static const op_front onehot_front = {sizeof(onehot_params), onehot_parse, onehot_infer, NULL};
static const op_front trilu_front = {sizeof(trilu_params), trilu_parse, trilu_infer, NULL};

const op_front *const op_front_indexing[CLCNN_OP_COUNT] = {
    [CLCNN_OP_GATHER_ELEMENTS] = &elements_front, [CLCNN_OP_SCATTER_ELEMENTS] = &elements_front,
    [CLCNN_OP_SCATTER] = &elements_front,         [CLCNN_OP_GATHER_ND] = &nd_front,
    [CLCNN_OP_SCATTER_ND] = &nd_front,            [CLCNN_OP_ONEHOT] = &onehot_front,
    [CLCNN_OP_TRILU] = &trilu_front,
};
