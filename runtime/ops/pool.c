/* Front half of the pool family (MaxPool, AveragePool, LpPool,
 * GlobalAveragePool, GlobalMaxPool): attributes, validation, shape
 * inference. The window geometry is shared with the conv family. */
#include <string.h>

#include "pool.h"

/* A 0/1 int attribute. */
static clcnn_status get_flag(const ir_node *n, const char *name, int *out, clcnn_err *err) {
  const ir_attr *a = ir_attr_find(n, name);
  *out = 0;
  if (!a) return CLCNN_OK;
  if (a->type != IR_ATTR_INT || (a->i != 0 && a->i != 1))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute '%s' must be 0 or 1", name);
  *out = (int)a->i;
  return CLCNN_OK;
}

static clcnn_status check_io(const ir_node *n, int max_out, clcnn_err *err) {
  if (n->nin != 1 || n->in[0] < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 1 input, got %d", n->nin);
  if (n->nout < 1 || n->nout > max_out || n->out[0] < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 1 to %d outputs, got %d", max_out,
                   n->nout);
  return CLCNN_OK;
}

/* MaxPool, AveragePool, LpPool. Attributes that later opsets added are
 * accepted at any opset (they are unambiguous). */
static clcnn_status pool_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  pool_params *p = n->params;
  clcnn_status st;
  switch (n->op) {
    case CLCNN_OP_MAXPOOL:
      p->kind = POOL_MAX;
      st = check_io(n, n->opset >= 8 ? 2 : 1, err);
      break;
    case CLCNN_OP_AVERAGEPOOL:
      p->kind = POOL_AVG;
      st = check_io(n, 1, err);
      break;
    default:
      p->kind = POOL_LP;
      st = check_io(n, 1, err);
      break;
  }
  if (st) return st;
  if ((st = window_parse(n, &p->win, err))) return st;
  if (p->win.nkernel < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'kernel_shape' is missing");
  if ((st = get_flag(n, "ceil_mode", &p->ceil_mode, err)) ||
      (st = get_flag(n, "count_include_pad", &p->count_include_pad, err)) ||
      (st = get_flag(n, "storage_order", &p->storage_order, err)))
    return st;
  p->p = 2;
  const ir_attr *pa = ir_attr_find(n, "p");
  if (pa) {
    /* An int from opset 2; a float in opset 1. */
    if (pa->type == IR_ATTR_INT)
      p->p = pa->i;
    else if (pa->type == IR_ATTR_FLOAT && pa->f == (float)(int64_t)pa->f)
      p->p = (int64_t)pa->f;
    else
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'p' must be an integer");
    if (p->p < 1 || p->p > 1024)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'p' = %lld is invalid",
                     (long long)p->p);
  }
  p->indices = n->nout > 1 && n->out[1] >= 0;
  return CLCNN_OK;
}

static clcnn_status check_input(const ir_value *x, bool int8_ok, int min_rank, int max_rank,
                                clcnn_err *err) {
  char buf[128];
  bool ok = x->t.dtype == CLCNN_DTYPE_FLOAT32 ||
            (int8_ok && (x->t.dtype == CLCNN_DTYPE_INT8 || x->t.dtype == CLCNN_DTYPE_UINT8));
  if (!ok)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "input 'X' has type %s; only float32%s is "
                   "supported",
                   dtype_name(x->t.dtype), int8_ok ? ", int8 and uint8" : "");
  if (x->t.rank < min_rank)
    return err_set(err, CLCNN_ERROR_SHAPE,
                   "input 'X' of shape %s must have rank >= %d "
                   "(N x C x D1 ...)",
                   shape_str(x->t.rank, x->t.dims, buf, sizeof buf), min_rank);
  if (x->t.rank > max_rank)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "input 'X' of rank %d: only %d to %d spatial "
                   "dims are supported",
                   x->t.rank, min_rank - 2, max_rank - 2);
  if (window_numel(x->t.rank, x->t.dims) < 0)
    return err_set(err, CLCNN_ERROR_SHAPE, "input 'X' has an invalid shape %s",
                   shape_str(x->t.rank, x->t.dims, buf, sizeof buf));
  return CLCNN_OK;
}

static clcnn_status pool_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  pool_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0);
  clcnn_status st = check_input(x, p->kind == POOL_MAX, 3, 2 + WINDOW_MAX_SPATIAL, err);
  if (st) return st;
  int ns = x->t.rank - 2;
  if ((st = window_resolve(&p->win, ns, x->t.dims + 2, NULL, p->ceil_mode != 0, &p->geom, err)))
    return st;
  if (p->indices && p->storage_order && ns > 2)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "output 'Indices' with storage_order = 1 is supported for 1-D and 2-D only");
  p->batch = x->t.dims[0];
  p->channels = x->t.dims[1];
  int64_t dims[CLCNN_MAX_RANK];
  dims[0] = p->batch;
  dims[1] = p->channels;
  for (int i = 0; i < ns; i++) dims[2 + i] = p->geom.out[i];
  char buf[128];
  if (window_numel(ns + 2, dims) < 0)
    return err_set(err, CLCNN_ERROR_SHAPE, "output shape %s is too large",
                   shape_str(ns + 2, dims, buf, sizeof buf));
  ir_set_shape(ir_out(g, n, 0), x->t.dtype, ns + 2, dims);
  if (p->indices) ir_set_shape(ir_out(g, n, 1), CLCNN_DTYPE_INT64, ns + 2, dims);
  return CLCNN_OK;
}

static double pool_flops(const ir_graph *g, const ir_node *n) {
  (void)g;
  const pool_params *p = n->params;
  if (p->global) return (double)p->batch * (double)p->channels * (double)p->geom.in_size;
  return (double)p->batch * (double)p->channels * (double)p->geom.out_size *
         (double)p->geom.kernel_size;
}

/* GlobalAveragePool, GlobalMaxPool. */
static clcnn_status global_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  pool_params *p = n->params;
  clcnn_status st = check_io(n, 1, err);
  if (st) return st;
  p->kind = n->op == CLCNN_OP_GLOBALMAXPOOL ? POOL_MAX : POOL_AVG;
  p->global = 1;
  return CLCNN_OK;
}

static clcnn_status global_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  pool_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0);
  clcnn_status st = check_input(x, false, 2, CLCNN_MAX_RANK, err);
  if (st) return st;
  int r = x->t.rank;
  memset(&p->geom, 0, sizeof p->geom);
  p->geom.nspatial = r - 2;
  p->geom.in_size = window_numel(r - 2, x->t.dims + 2);
  p->geom.out_size = 1;
  p->geom.kernel_size = p->geom.in_size;
  for (int i = 0; i < r - 2; i++) {
    p->geom.in[i] = p->geom.kernel[i] = x->t.dims[2 + i];
    p->geom.out[i] = p->geom.strides[i] = p->geom.dilations[i] = 1;
  }
  p->batch = x->t.dims[0];
  p->channels = x->t.dims[1];
  int64_t dims[CLCNN_MAX_RANK];
  for (int i = 0; i < r; i++) dims[i] = i < 2 ? x->t.dims[i] : 1;
  ir_set_shape(ir_out(g, n, 0), CLCNN_DTYPE_FLOAT32, r, dims);
  return CLCNN_OK;
}

static const op_front pool_front = {sizeof(pool_params), pool_parse, pool_infer, pool_flops};
static const op_front global_front = {sizeof(pool_params), global_parse, global_infer, pool_flops};

const op_front *const op_front_pool[CLCNN_OP_COUNT] = {
    [CLCNN_OP_MAXPOOL] = &pool_front,         [CLCNN_OP_AVERAGEPOOL] = &pool_front,
    [CLCNN_OP_LPPOOL] = &pool_front,          [CLCNN_OP_GLOBALAVERAGEPOOL] = &global_front,
    [CLCNN_OP_GLOBALMAXPOOL] = &global_front,
};
