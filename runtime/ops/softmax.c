/* Front half of the softmax family (Softmax, LogSoftmax, Hardmax): attributes,
 * validation, shape inference. */
#include "softmax.h"

#include <string.h>

#include "../internal.h"

static clcnn_status softmax_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  softmax_params *p = n->params;
  if (n->nin != 1 || n->in[0] < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 1 input, got %d", n->nin);
  if (n->nout != 1 || n->out[0] < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 1 output, got %d", n->nout);
  for (int i = 0; i < n->nattr; i++)
    if (strcmp(n->attr[i].name, "axis") != 0)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "unknown attribute '%s'", n->attr[i].name);
  const ir_attr *a = ir_attr_find(n, "axis");
  if (a && a->type != IR_ATTR_INT)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'axis' must be an int");
  p->coerce_2d = n->opset < 13;
  p->axis_attr = a ? a->i : (p->coerce_2d ? 1 : -1);
  if (p->axis_attr < -CLCNN_MAX_RANK || p->axis_attr >= CLCNN_MAX_RANK)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'axis' = %lld is out of range",
                   (long long)p->axis_attr);
  return CLCNN_OK;
}

static int64_t product(const int64_t *d, int from, int to) {
  int64_t p = 1;
  for (int i = from; i < to; i++) {
    if (d[i] < 0 || (d[i] && p > INT64_MAX / d[i])) return -1;
    p *= d[i];
  }
  return p;
}

static clcnn_status softmax_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  softmax_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0);
  char buf[128];
  if (x->t.dtype != CLCNN_DTYPE_FLOAT32)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input has type %s; only float32 is supported",
                   dtype_name(x->t.dtype));
  int r = x->t.rank;
  if (r < 1) return err_set(err, CLCNN_ERROR_SHAPE, "input must have rank >= 1");
  if (p->axis_attr < -r || p->axis_attr >= r)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                   "attribute 'axis' = %lld is out of range for an input of rank %d",
                   (long long)p->axis_attr, r);
  p->axis = (int)(p->axis_attr < 0 ? p->axis_attr + r : p->axis_attr);
  p->outer = product(x->t.dims, 0, p->axis);
  if (p->coerce_2d) {
    p->n = product(x->t.dims, p->axis, r);
    p->inner = 1;
  } else {
    p->n = x->t.dims[p->axis];
    p->inner = product(x->t.dims, p->axis + 1, r);
  }
  if (p->outer < 0 || p->n < 0 || p->inner < 0 || product(x->t.dims, 0, r) < 0)
    return err_set(err, CLCNN_ERROR_SHAPE, "input has an invalid shape %s",
                   shape_str(r, x->t.dims, buf, sizeof buf));
  ir_set_shape(ir_out(g, n, 0), CLCNN_DTYPE_FLOAT32, r, x->t.dims);
  return CLCNN_OK;
}

static double softmax_flops(const ir_graph *g, const ir_node *n) {
  const ir_value *x = ir_in(g, n, 0);
  return x ? 4.0 * (double)shape_numel(x->t.rank, x->t.dims) : 0;
}

static const op_front softmax_front = {sizeof(softmax_params), softmax_parse, softmax_infer,
                                       softmax_flops};

const op_front *const op_front_softmax[CLCNN_OP_COUNT] = {
    [CLCNN_OP_SOFTMAX] = &softmax_front,
    [CLCNN_OP_LOGSOFTMAX] = &softmax_front,
    [CLCNN_OP_HARDMAX] = &softmax_front, /* the same axis rules, opset 13 included */
};
