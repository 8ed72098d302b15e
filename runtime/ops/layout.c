/* Front half of the layout family: attributes, validation, shape inference.
 * Concat, Split, Slice, Transpose, Gather, Tile, Expand, Pad, DepthToSpace,
 * SpaceToDepth. */
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "layout.h"
#include "shape.h"


/* ---------------------------------------------------------------- Concat */

static clcnn_status concat_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  concat_params *p = n->params;
  clcnn_status st = op_arity(n, 1, -1, 1, 1, err);
  if (st) return st;
  if (!ir_attr_find(n, "axis"))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'axis' is required");
  return op_attr_int(n, "axis", 0, &p->axis_attr, err);
}

static clcnn_status concat_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  concat_params *p = n->params;
  const ir_value *first = op_data_input(g, n, 0, err);
  if (!first) return err->status;
  int rank = first->t.rank;
  if (rank < 1) return err_set(err, CLCNN_ERROR_SHAPE, "cannot concatenate scalars");
  if (!shape_axis(p->axis_attr, rank, &p->axis))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is out of range for rank %d",
                   (long long)p->axis_attr, rank);
  int64_t dims[CLCNN_MAX_RANK];
  memcpy(dims, first->t.dims, sizeof dims);
  dims[p->axis] = 0;
  for (int i = 0; i < n->nin; i++) {
    const ir_value *v = op_data_input(g, n, i, err);
    if (!v) return err->status;
    if (v->t.dtype != first->t.dtype)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input %d is %s, input 0 is %s", i,
                     dtype_name(v->t.dtype), dtype_name(first->t.dtype));
    if (v->t.rank != rank)
      return err_set(err, CLCNN_ERROR_SHAPE, "input %d has rank %d, input 0 rank %d", i,
                     v->t.rank, rank);
    for (int d = 0; d < rank; d++)
      if (d != p->axis && v->t.dims[d] != first->t.dims[d]) {
        char a[160], b[160];
        return err_set(err, CLCNN_ERROR_SHAPE,
                       "input %d has shape %s, input 0 %s: they differ outside axis %d", i,
                       shape_str(rank, v->t.dims, a, sizeof a),
                       shape_str(rank, first->t.dims, b, sizeof b), p->axis);
      }
    dims[p->axis] += v->t.dims[p->axis];
    if (dims[p->axis] > SHAPE_MAX_NUMEL)
      return err_set(err, CLCNN_ERROR_SHAPE, "the output is too large");
  }
  return op_set_output(g, n, 0, first->t.dtype, rank, dims, err);
}

/* ----------------------------------------------------------------- Split */

static clcnn_status split_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  split_params *p = n->params;
  clcnn_status st = op_arity(n, 1, n->opset >= 13 ? 2 : 1, 1, -1, err);
  if (st) return st;
  for (int k = 0; k < n->nout; k++)
    if (n->out[k] < 0) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "output %d is missing", k);
  if ((st = op_attr_int(n, "axis", 0, &p->axis_attr, err))) return st;
  const ir_attr *a = ir_attr_find(n, "split");
  if (a) {
    if (n->opset >= 13)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                     "attribute 'split' is an input from opset 13");
    if (a->type != IR_ATTR_INTS)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'split' must be a list of ints");
    if (a->n != (size_t)n->nout)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'split' has %zu values for %d outputs",
                     a->n, n->nout);
    for (size_t i = 0; i < a->n; i++)
      if (a->ints[i] < 0)
        return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'split' has a negative size");
  }
  int64_t num = 0;
  if (n->opset >= 18) {
    if ((st = op_attr_int(n, "num_outputs", 0, &num, err))) return st;
    if (ir_attr_find(n, "num_outputs") && num != n->nout)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "num_outputs is %lld but the node has %d outputs",
                     (long long)num, n->nout);
    if (num && ir_in(g, n, 1))
      return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                     "input 'split' and attribute 'num_outputs' are both given");
  }
  p->num_outputs = (int)num;
  return CLCNN_OK;
}

static clcnn_status split_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  split_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  int rank = x->t.rank;
  if (!shape_axis(p->axis_attr, rank, &p->axis))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is out of range for rank %d",
                   (long long)p->axis_attr, rank);
  int64_t total = x->t.dims[p->axis];
  int nout = n->nout;
  const ir_attr *a = ir_attr_find(n, "split");
  const ir_value *sv = ir_in(g, n, 1);
  if (sv && !(sv->is_const && sv->t.data))
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input 'split' must be a constant");
  int64_t dims[CLCNN_MAX_RANK];
  memcpy(dims, x->t.dims, sizeof dims);
  int64_t sum = 0;
  /* First pass validates, second sets the outputs. */
  for (int pass = 0; pass < 2; pass++) {
    sum = 0;
    for (int k = 0; k < nout; k++) {
      int64_t size;
      if (a && n->opset < 13) {
        size = a->ints[k];
      } else if (sv) {
        if (!shape_is_index_type(sv->t.dtype) || sv->t.rank > 1)
          return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input 'split' must be a 1-D int64 tensor");
        if (clcnn_tensor_numel(&sv->t) != nout)
          return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input 'split' has %lld values for %d outputs",
                         (long long)clcnn_tensor_numel(&sv->t), nout);
        size = tensor_get_i64(&sv->t, k);
        if (size < 0)
          return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input 'split' has a negative size");
      } else {
        /* Equal parts; if uneven (opset 18), the last is smaller. */
        int64_t chunk = total / nout + (total % nout ? 1 : 0);
        size = k < nout - 1 ? chunk : total - chunk * (nout - 1);
        if (size < 0)
          return err_set(err, CLCNN_ERROR_SHAPE, "cannot split %lld into %d parts",
                         (long long)total, nout);
      }
      if (size > SHAPE_MAX_NUMEL) return err_set(err, CLCNN_ERROR_SHAPE, "split size too large");
      sum += size;
      if (pass == 1) {
        dims[p->axis] = size;
        clcnn_status st = op_set_output(g, n, k, x->t.dtype, rank, dims, err);
        if (st) return st;
      }
    }
    if (sum != total)
      return err_set(err, CLCNN_ERROR_SHAPE, "split sizes add up to %lld, axis %d has %lld",
                     (long long)sum, p->axis, (long long)total);
  }
  return CLCNN_OK;
}

/* ----------------------------------------------------------------- Slice */

static clcnn_status slice_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  slice_params *p = n->params;
  clcnn_status st;
  p->nattr = -1;
  if (n->opset < 10) {
    if ((st = op_arity(n, 1, 1, 1, 1, err))) return st;
    int ns, ne, na;
    if ((st = op_attr_ints(n, "starts", p->attr_starts, CLCNN_MAX_RANK, &ns, err))) return st;
    if ((st = op_attr_ints(n, "ends", p->attr_ends, CLCNN_MAX_RANK, &ne, err))) return st;
    if ((st = op_attr_ints(n, "axes", p->attr_axes, CLCNN_MAX_RANK, &na, err))) return st;
    if (ns < 0 || ne < 0)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attributes 'starts' and 'ends' are required");
    if (ns != ne || (na >= 0 && na != ns))
      return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                     "attributes 'starts', 'ends' and 'axes' differ in length");
    p->nattr = ns;
    p->has_axes = na >= 0;
  } else {
    if ((st = op_arity(n, 3, 5, 1, 1, err))) return st;
  }
  return CLCNN_OK;
}

static clcnn_status slice_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  slice_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  int rank = x->t.rank;
  int64_t starts[CLCNN_MAX_RANK], ends[CLCNN_MAX_RANK], axes[CLCNN_MAX_RANK],
      steps[CLCNN_MAX_RANK];
  int k = 0, ke = 0, ka = -1, kst = -1;
  clcnn_status st;
  if (p->nattr >= 0) {
    k = ke = p->nattr;
    memcpy(starts, p->attr_starts, sizeof starts);
    memcpy(ends, p->attr_ends, sizeof ends);
    if (p->has_axes) {
      memcpy(axes, p->attr_axes, sizeof axes);
      ka = k;
    }
  } else {
    if ((st = op_const_ints(g, n, 1, "starts", starts, CLCNN_MAX_RANK, &k, err))) return st;
    if ((st = op_const_ints(g, n, 2, "ends", ends, CLCNN_MAX_RANK, &ke, err))) return st;
    if (ir_in(g, n, 3) && (st = op_const_ints(g, n, 3, "axes", axes, CLCNN_MAX_RANK, &ka, err)))
      return st;
    if (ir_in(g, n, 4) && (st = op_const_ints(g, n, 4, "steps", steps, CLCNN_MAX_RANK, &kst, err)))
      return st;
  }
  if (ke != k || (ka >= 0 && ka != k) || (kst >= 0 && kst != k))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "starts, ends, axes and steps differ in length");
  if (k > rank)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "%d axes sliced on a tensor of rank %d", k, rank);
  p->rank = rank;
  int64_t dims[CLCNN_MAX_RANK];
  bool seen[CLCNN_MAX_RANK] = {false};
  for (int a = 0; a < rank; a++) {
    p->start[a] = 0;
    p->step[a] = 1;
    dims[a] = x->t.dims[a];
  }
  for (int i = 0; i < k; i++) {
    int axis = i;
    if (ka >= 0 && !shape_axis(axes[i], rank, &axis))
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is out of range for rank %d",
                     (long long)axes[i], rank);
    if (seen[axis]) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %d is repeated", axis);
    seen[axis] = true;
    int64_t step = kst >= 0 ? steps[i] : 1;
    if (step == 0) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "a step is 0");
    int64_t d = x->t.dims[axis], s = starts[i], e = ends[i], count;
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) {
      s = s < 0 ? 0 : s > d ? d : s;
      e = e < 0 ? 0 : e > d ? d : e;
      count = e > s ? (e - s - 1) / step + 1 : 0;
    } else {
      s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
      e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
      /* -step without overflow for INT64_MIN */
      uint64_t nstep = (uint64_t)(-(step + 1)) + 1;
      /* An empty axis stays empty (the clamps above meet at 0 and -1). */
      count = d > 0 && s > e ? (int64_t)((uint64_t)(s - e - 1) / nstep) + 1 : 0;
    }
    if (count == 0) s = 0;
    if (count <= 1) step = 1; /* keeps step * stride small for the backends */
    p->start[axis] = s;
    p->step[axis] = step;
    dims[axis] = count;
  }
  return op_set_output(g, n, 0, x->t.dtype, rank, dims, err);
}

/* ------------------------------------------------------------- Transpose */

static clcnn_status transpose_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  transpose_params *p = n->params;
  clcnn_status st = op_arity(n, 1, 1, 1, 1, err);
  if (st) return st;
  return op_attr_ints(n, "perm", p->perm_attr, CLCNN_MAX_RANK, &p->nperm_attr, err);
}

static clcnn_status transpose_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  transpose_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  int rank = x->t.rank;
  if (p->nperm_attr >= 0 && p->nperm_attr != rank)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'perm' has %d values for rank %d",
                   p->nperm_attr, rank);
  bool seen[CLCNN_MAX_RANK] = {false};
  int64_t dims[CLCNN_MAX_RANK];
  p->rank = rank;
  for (int i = 0; i < rank; i++) {
    int64_t a = p->nperm_attr >= 0 ? p->perm_attr[i] : rank - 1 - i;
    if (a < 0 || a >= rank || seen[a])
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'perm' is not a permutation of 0..%d",
                     rank - 1);
    seen[a] = true;
    p->perm[i] = (int)a;
    dims[i] = x->t.dims[a];
  }
  return op_set_output(g, n, 0, x->t.dtype, rank, dims, err);
}

/* ---------------------------------------------------------------- Gather */

static clcnn_status gather_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  gather_params *p = n->params;
  clcnn_status st = op_arity(n, 2, 2, 1, 1, err);
  if (st) return st;
  return op_attr_int(n, "axis", 0, &p->axis_attr, err);
}

static clcnn_status gather_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  gather_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  const ir_value *idx = ir_in(g, n, 1);
  int rank = x->t.rank;
  if (rank < 1) return err_set(err, CLCNN_ERROR_SHAPE, "data must have rank >= 1");
  if (!shape_axis(p->axis_attr, rank, &p->axis))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is out of range for rank %d",
                   (long long)p->axis_attr, rank);
  if (!shape_is_index_type(idx->t.dtype))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "indices must be int64 or int32, not %s",
                   dtype_name(idx->t.dtype));
  int q = idx->t.rank;
  if (rank - 1 + q > CLCNN_MAX_RANK)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "the output would have rank %d; at most %d",
                   rank - 1 + q, CLCNN_MAX_RANK);
  int64_t limit = x->t.dims[p->axis];
  if (idx->is_const && idx->t.data) {
    int64_t cnt = clcnn_tensor_numel(&idx->t);
    for (int64_t i = 0; i < cnt; i++) {
      int64_t v = tensor_get_i64(&idx->t, i);
      if (v < -limit || v >= limit)
        return err_set(err, CLCNN_ERROR_INVALID_MODEL, "index %lld is out of range [%lld, %lld)",
                       (long long)v, (long long)-limit, (long long)limit);
    }
  }
  int64_t dims[CLCNN_MAX_RANK];
  int r = 0;
  for (int a = 0; a < p->axis; a++) dims[r++] = x->t.dims[a];
  for (int a = 0; a < q; a++) dims[r++] = idx->t.dims[a];
  for (int a = p->axis + 1; a < rank; a++) dims[r++] = x->t.dims[a];
  return op_set_output(g, n, 0, x->t.dtype, r, dims, err);
}

/* ------------------------------------------------------------------ Tile */

static clcnn_status tile_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  return op_arity(n, 2, 2, 1, 1, err);
}

static clcnn_status tile_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  tile_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  int rank = x->t.rank, k = 0;
  clcnn_status st = op_const_ints(g, n, 1, "repeats", p->repeats, CLCNN_MAX_RANK, &k, err);
  if (st) return st;
  if (k != rank)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'repeats' has %d values for rank %d", k, rank);
  p->rank = rank;
  int64_t dims[CLCNN_MAX_RANK];
  for (int a = 0; a < rank; a++) {
    if (p->repeats[a] < 0)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'repeats' has a negative value");
    if (p->repeats[a] > SHAPE_MAX_NUMEL ||
        (p->repeats[a] && x->t.dims[a] > SHAPE_MAX_NUMEL / p->repeats[a]))
      return err_set(err, CLCNN_ERROR_SHAPE, "the output is too large");
    dims[a] = x->t.dims[a] * p->repeats[a];
  }
  return op_set_output(g, n, 0, x->t.dtype, rank, dims, err);
}

/* ---------------------------------------------------------------- Expand */

static clcnn_status expand_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  return op_arity(n, 2, 2, 1, 1, err);
}

static clcnn_status expand_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  expand_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  int64_t shape[CLCNN_MAX_RANK], dims[CLCNN_MAX_RANK];
  int k = 0, r = 0;
  clcnn_status st = op_const_ints(g, n, 1, "shape", shape, CLCNN_MAX_RANK, &k, err);
  if (st) return st;
  for (int i = 0; i < k; i++)
    if (shape[i] < 0) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'shape' has a negative value");
  if (!shape_broadcast(x->t.rank, x->t.dims, k, shape, &r, dims)) {
    char a[160], b[160];
    return err_set(err, CLCNN_ERROR_SHAPE, "cannot broadcast %s to %s",
                   shape_str(x->t.rank, x->t.dims, a, sizeof a), shape_str(k, shape, b, sizeof b));
  }
  p->rank = r;
  return op_set_output(g, n, 0, x->t.dtype, r, dims, err);
}

/* ------------------------------------------------------------------- Pad */

static clcnn_status pad_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  pad_params *p = n->params;
  clcnn_status st;
  const char *mode;
  if ((st = op_attr_string(n, "mode", "constant", &mode, err))) return st;
  if (strcmp(mode, "constant") == 0) p->mode = PAD_CONSTANT;
  else if (strcmp(mode, "reflect") == 0) p->mode = PAD_REFLECT;
  else if (strcmp(mode, "edge") == 0) p->mode = PAD_EDGE;
  else if (strcmp(mode, "wrap") == 0) p->mode = PAD_WRAP;
  else return err_set(err, CLCNN_ERROR_UNSUPPORTED, "attribute 'mode' = '%s' is not supported", mode);
  p->npads_attr = -1;
  if (n->opset < 11) {
    if ((st = op_arity(n, 1, 1, 1, 1, err))) return st;
    if ((st = op_attr_ints(n, "pads", p->pads_attr, 2 * CLCNN_MAX_RANK, &p->npads_attr, err)))
      return st;
    if (p->npads_attr < 0)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'pads' is required");
    if (p->npads_attr % 2)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'pads' has an odd length");
    if ((st = op_attr_float(n, "value", 0.0f, &p->value_attr, err))) return st;
  } else {
    if ((st = op_arity(n, 2, n->opset >= 18 ? 4 : 3, 1, 1, err))) return st;
  }
  return CLCNN_OK;
}

static clcnn_status pad_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  pad_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  int rank = x->t.rank;
  clcnn_dtype dt = x->t.dtype;
  int64_t pads[2 * CLCNN_MAX_RANK], axes[CLCNN_MAX_RANK];
  int np = 0, na = -1;
  clcnn_status st;
  p->value_from_input = 0;
  if (p->npads_attr >= 0) {
    np = p->npads_attr;
    memcpy(pads, p->pads_attr, sizeof pads);
    shape_scalar_store(dt, p->value_attr, p->value);
  } else {
    if ((st = op_const_ints(g, n, 1, "pads", pads, 2 * CLCNN_MAX_RANK, &np, err))) return st;
    if (ir_in(g, n, 3) && (st = op_const_ints(g, n, 3, "axes", axes, CLCNN_MAX_RANK, &na, err)))
      return st;
    const ir_value *cv = ir_in(g, n, 2);
    memset(p->value, 0, sizeof p->value);
    if (cv) {
      if (cv->t.dtype != dt)
        return err_set(err, CLCNN_ERROR_INVALID_MODEL, "constant_value is %s, data is %s",
                       dtype_name(cv->t.dtype), dtype_name(dt));
      if (clcnn_tensor_numel(&cv->t) != 1)
        return err_set(err, CLCNN_ERROR_INVALID_MODEL, "constant_value must have one element");
      if (cv->is_const && cv->t.data) memcpy(p->value, cv->t.data, dtype_size(dt));
      else p->value_from_input = 1;
    }
  }
  int naxes = na >= 0 ? na : rank;
  if (np != 2 * naxes)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'pads' has %d values for %d axes", np, naxes);
  p->rank = rank;
  for (int a = 0; a < rank; a++) p->begin[a] = p->end[a] = 0;
  bool seen[CLCNN_MAX_RANK] = {false};
  for (int i = 0; i < naxes; i++) {
    int axis = i;
    if (na >= 0 && !shape_axis(axes[i], rank, &axis))
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is out of range for rank %d",
                     (long long)axes[i], rank);
    if (seen[axis]) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %d is repeated", axis);
    seen[axis] = true;
    if (pads[i] < -SHAPE_MAX_NUMEL || pads[i] > SHAPE_MAX_NUMEL ||
        pads[naxes + i] < -SHAPE_MAX_NUMEL || pads[naxes + i] > SHAPE_MAX_NUMEL)
      return err_set(err, CLCNN_ERROR_SHAPE, "a pad is too large");
    p->begin[axis] = pads[i];
    p->end[axis] = pads[naxes + i];
  }
  int64_t dims[CLCNN_MAX_RANK];
  for (int a = 0; a < rank; a++) {
    dims[a] = x->t.dims[a] + p->begin[a] + p->end[a];
    if (dims[a] < 0)
      return err_set(err, CLCNN_ERROR_SHAPE, "pads %lld, %lld crop more than axis %d has (%lld)",
                     (long long)p->begin[a], (long long)p->end[a], a, (long long)x->t.dims[a]);
    if (p->mode != PAD_CONSTANT && x->t.dims[a] == 0 && dims[a] > 0)
      return err_set(err, CLCNN_ERROR_SHAPE, "cannot pad the empty axis %d in this mode", a);
  }
  return op_set_output(g, n, 0, dt, rank, dims, err);
}

/* ------------------------------------------------ DepthToSpace/SpaceToDepth */

static clcnn_status depth_space_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  depth_space_params *p = n->params;
  clcnn_status st = op_arity(n, 1, 1, 1, 1, err);
  if (st) return st;
  if (!ir_attr_find(n, "blocksize"))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'blocksize' is required");
  if ((st = op_attr_int(n, "blocksize", 0, &p->blocksize, err))) return st;
  if (p->blocksize < 1 || p->blocksize > (1 << 20))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'blocksize' = %lld is not valid",
                   (long long)p->blocksize);
  p->crd = 0;
  if (n->op == CLCNN_OP_DEPTH_TO_SPACE && n->opset >= 11) {
    const char *mode;
    if ((st = op_attr_string(n, "mode", "DCR", &mode, err))) return st;
    if (strcmp(mode, "CRD") == 0)
      p->crd = 1;
    else if (strcmp(mode, "DCR") != 0)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'mode' = '%s' is not valid (DCR or CRD)",
                     mode);
  }
  return CLCNN_OK;
}

static clcnn_status depth_space_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  const depth_space_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  if (x->t.rank != 4)
    return err_set(err, CLCNN_ERROR_SHAPE, "input must be 4-D (N, C, H, W), not rank %d",
                   x->t.rank);
  const int64_t b = p->blocksize, *d = x->t.dims;
  int64_t dims[4] = {d[0], 0, 0, 0};
  char buf[160];
  if (n->op == CLCNN_OP_DEPTH_TO_SPACE) {
    if (d[1] % (b * b))
      return err_set(err, CLCNN_ERROR_SHAPE, "channels of %s are not a multiple of blocksize^2 = %lld",
                     shape_str(4, d, buf, sizeof buf), (long long)(b * b));
    dims[1] = d[1] / (b * b);
    if (d[2] > SHAPE_MAX_NUMEL / b || d[3] > SHAPE_MAX_NUMEL / b)
      return err_set(err, CLCNN_ERROR_SHAPE, "the output is too large");
    dims[2] = d[2] * b;
    dims[3] = d[3] * b;
  } else {
    if (d[2] % b || d[3] % b)
      return err_set(err, CLCNN_ERROR_SHAPE, "height and width of %s are not multiples of blocksize %lld",
                     shape_str(4, d, buf, sizeof buf), (long long)b);
    if (d[1] > SHAPE_MAX_NUMEL / (b * b)) return err_set(err, CLCNN_ERROR_SHAPE, "the output is too large");
    dims[1] = d[1] * b * b;
    dims[2] = d[2] / b;
    dims[3] = d[3] / b;
  }
  return op_set_output(g, n, 0, x->t.dtype, 4, dims, err);
}

/* ----------------------------------------------------------------- table */

static const op_front concat_front = {sizeof(concat_params), concat_parse, concat_infer, NULL};
static const op_front split_front = {sizeof(split_params), split_parse, split_infer, NULL};
static const op_front slice_front = {sizeof(slice_params), slice_parse, slice_infer, NULL};
static const op_front transpose_front = {sizeof(transpose_params), transpose_parse,
                                         transpose_infer, NULL};
static const op_front gather_front = {sizeof(gather_params), gather_parse, gather_infer, NULL};
static const op_front tile_front = {sizeof(tile_params), tile_parse, tile_infer, NULL};
static const op_front expand_front = {sizeof(expand_params), expand_parse, expand_infer, NULL};
static const op_front pad_front = {sizeof(pad_params), pad_parse, pad_infer, NULL};
static const op_front depth_space_front = {sizeof(depth_space_params), depth_space_parse,
                                           depth_space_infer, NULL};

const op_front *const op_front_layout[CLCNN_OP_COUNT] = {
    [CLCNN_OP_CONCAT] = &concat_front,       [CLCNN_OP_SPLIT] = &split_front,
    [CLCNN_OP_SLICE] = &slice_front,         [CLCNN_OP_TRANSPOSE] = &transpose_front,
    [CLCNN_OP_GATHER] = &gather_front,       [CLCNN_OP_TILE] = &tile_front,
    [CLCNN_OP_EXPAND] = &expand_front,       [CLCNN_OP_PAD] = &pad_front,
    [CLCNN_OP_DEPTH_TO_SPACE] = &depth_space_front,
    [CLCNN_OP_SPACE_TO_DEPTH] = &depth_space_front,
};
