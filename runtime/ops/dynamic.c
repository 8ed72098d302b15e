/* Front half of the dynamic family (NonZero, NonMaxSuppression): their
 * output shape depends on input values, so infer() sets an upper bound and
 * marks the output dynamic. Unless the inputs are constants (then the node
 * folds, to its actual shape), the node and everything computed from its
 * output run per run, on the CPU backend, after the static schedule
 * (runtime/sched.c). */
#include "dynamic.h"

#include <string.h>

#include "../internal.h"
#include "shape.h"

/* -------------------------------------------------------------- NonZero */

static clcnn_status nonzero_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  clcnn_status st = op_arity(n, 1, 1, 1, 1, err);
  if (st) return st;
  if (n->nattr)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "unknown attribute '%s'", n->attr[0].name);
  return CLCNN_OK;
}

/* Output [rank, count] int64 (a scalar counts as rank 1): at most every
 * element is non-zero. */
static clcnn_status nonzero_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  int64_t dims[2] = {x->t.rank > 0 ? x->t.rank : 1, shape_numel(x->t.rank, x->t.dims)};
  clcnn_status st = op_set_output(g, n, 0, CLCNN_DTYPE_INT64, 2, dims, err);
  if (st) return st;
  ir_out(g, n, 0)->dynamic = true;
  return CLCNN_OK;
}

/* ---------------------------------------------------- NonMaxSuppression */

static clcnn_status nms_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  nms_params *p = n->params;
  clcnn_status st = op_arity(n, 2, 5, 1, 1, err);
  if (st) return st;
  for (int i = 0; i < n->nattr; i++)
    if (strcmp(n->attr[i].name, "center_point_box") != 0)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "unknown attribute '%s'", n->attr[i].name);
  int64_t cpb;
  if ((st = op_attr_int(n, "center_point_box", 0, &cpb, err))) return st;
  if (cpb != 0 && cpb != 1)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                   "attribute 'center_point_box' = %lld is not 0 or 1", (long long)cpb);
  p->center_point_box = (int)cpb;
  return CLCNN_OK;
}

/* An optional scalar (or one-element) input of type `dt`; NULL when omitted. */
static clcnn_status nms_scalar(const ir_graph *g, const ir_node *n, int i, const char *name,
                               clcnn_dtype dt, clcnn_err *err) {
  const ir_value *v = ir_in(g, n, i);
  if (!v) return CLCNN_OK;
  if (v->t.dtype != dt)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input '%s' must be %s, not %s", name,
                   dtype_name(dt), dtype_name(v->t.dtype));
  if (v->t.rank > 1 || shape_numel(v->t.rank, v->t.dims) > 1)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input '%s' must be a scalar", name);
  return CLCNN_OK;
}

/* Output [selected, 3] int64: at most min(max_output_boxes_per_class, boxes)
 * per batch and class (all boxes when max_output_boxes_per_class is not a
 * constant). */
static clcnn_status nms_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  nms_params *p = n->params;
  const ir_value *b = op_data_input(g, n, 0, err), *s = b ? op_data_input(g, n, 1, err) : NULL;
  if (!b || !s) return err->status;
  char bs[128], ss[128];
  if (b->t.dtype != CLCNN_DTYPE_FLOAT32 || s->t.dtype != CLCNN_DTYPE_FLOAT32)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "boxes and scores must be float32, not %s and %s",
                   dtype_name(b->t.dtype), dtype_name(s->t.dtype));
  if (b->t.rank != 3 || b->t.dims[2] != 4 || s->t.rank != 3 || s->t.dims[0] != b->t.dims[0] ||
      s->t.dims[2] != b->t.dims[1])
    return err_set(err, CLCNN_ERROR_SHAPE,
                   "boxes %s and scores %s are not [batches, boxes, 4] and "
                   "[batches, classes, boxes]",
                   shape_str(b->t.rank, b->t.dims, bs, sizeof bs),
                   shape_str(s->t.rank, s->t.dims, ss, sizeof ss));
  clcnn_status st;
  if ((st = nms_scalar(g, n, 2, "max_output_boxes_per_class", CLCNN_DTYPE_INT64, err)) ||
      (st = nms_scalar(g, n, 3, "iou_threshold", CLCNN_DTYPE_FLOAT32, err)) ||
      (st = nms_scalar(g, n, 4, "score_threshold", CLCNN_DTYPE_FLOAT32, err)))
    return st;
  p->batches = b->t.dims[0];
  p->classes = s->t.dims[1];
  p->boxes = b->t.dims[1];
  int64_t per_class = p->boxes;
  const ir_value *mv = ir_in(g, n, 2);
  if (!mv) {
    per_class = 0; /* the default selects nothing */
  } else if (mv->is_const && mv->t.data) {
    int64_t m = shape_numel(mv->t.rank, mv->t.dims) ? tensor_get_i64(&mv->t, 0) : 0;
    if (m < per_class) per_class = m > 0 ? m : 0;
  }
  int64_t dims[2] = {p->batches * p->classes * per_class, 3};
  if ((st = op_set_output(g, n, 0, CLCNN_DTYPE_INT64, 2, dims, err))) return st;
  ir_out(g, n, 0)->dynamic = true;
  return CLCNN_OK;
}

static const op_front nonzero_front = {0, nonzero_parse, nonzero_infer, NULL};
static const op_front nms_front = {sizeof(nms_params), nms_parse, nms_infer, NULL};

const op_front *const op_front_dynamic[CLCNN_OP_COUNT] = {
    [CLCNN_OP_NONZERO] = &nonzero_front,
    [CLCNN_OP_NON_MAX_SUPPRESSION] = &nms_front,
};
