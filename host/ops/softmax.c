/* OpenCL backend: the softmax family (Softmax, LogSoftmax) on float32, over
 * the [outer, n, inner] view the front half computes for any axis (and for
 * the opset < 13 coercion to 2D). inner == 1: one work-item (CPU form) or
 * one work-group (GPU form) per row; inner > 1: a work-item per vector of
 * adjacent inner positions. */
#include <stdlib.h>

#include "../ocl.h"
#include "../../runtime/ops/softmax.h"
#include "../kernel_options.h"

#define MAX_ELEMS ((int64_t)1 << 31)

typedef struct softmax_state {
  cl_kernel k;
  cl_uint dims;
  size_t global[2], local;
} softmax_state;

static const char *softmax_check(const ocl_device_info *dev, const ir_graph *g,
                                 const ir_node *n) {
  (void)dev;
  const ir_value *x = ir_in(g, n, 0);
  if (x->t.dtype != CLCNN_DTYPE_FLOAT32) return "only float32 is supported on OpenCL";
  if (shape_numel(x->t.rank, x->t.dims) >= MAX_ELEMS) return "tensor too large (2^31 elements)";
  if (n->act_op >= 0) return "a fused activation on a softmax node is not supported";
  return NULL;
}

static clcnn_status softmax_prepare(ocl_node *on, clcnn_err *err) {
  const softmax_params *p = on->n->params;
  const ocl_device_info *dev = ocl_node_device(on);
  const bool gpu = ocl_gpu_variant(on);
  softmax_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  on->state = s;
  const int vw = gpu ? 4 : 8;
  int lws = 1;
  const bool rows = p->inner == 1;
  if (rows && gpu) {
    size_t maxw = dev->max_work_group_size ? dev->max_work_group_size : 64;
    while (lws < 256 && (size_t)lws * 2 <= maxw && (int64_t)lws * 4 < p->n) lws *= 2;
  }
  char opts[256] = "";
  ocl_opt(opts, sizeof opts, "-DOUTER=%lldu -DN=%lldu -DINNER=%lldu", (long long)p->outer,
          (long long)p->n, (long long)p->inner);
  ocl_opt(opts, sizeof opts, "-DVW=%d -DLWS=%d", vw, lws);
  if (on->n->op == CLCNN_OP_LOGSOFTMAX) ocl_opt(opts, sizeof opts, "-DLOG");
  if (p->outer == 0 || p->n == 0 || p->inner == 0) return CLCNN_OK; /* nothing to do */
  if (rows) {
    s->dims = 1;
    s->global[0] = (size_t)p->outer * (size_t)lws;
    s->local = (size_t)lws;
  } else {
    s->dims = 2;
    s->global[0] = (size_t)((p->inner + vw - 1) / vw);
    s->global[1] = (size_t)p->outer;
  }
  return ocl_kernel(on, "softmax.cl", rows ? "softmax_rows_f32" : "softmax_cols_f32", opts,
                    &s->k, err);
}

static clcnn_status softmax_run(ocl_node *on, const ocl_tensor *in, int nin,
                                const ocl_tensor *out, int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  const softmax_state *s = on->state;
  if (!s->k) return CLCNN_OK;
  cl_uint xo = ocl_elem_offset(&in[0]), yo = ocl_elem_offset(&out[0]);
  clcnn_status st = ocl_args(s->k, err, sizeof(cl_mem), &in[0].mem, sizeof xo, &xo,
                             sizeof(cl_mem), &out[0].mem, sizeof yo, &yo, (size_t)0);
  if (st) return st;
  size_t local = s->local;
  return ocl_enqueue(on, s->k, s->dims, s->global, local > 1 ? &local : NULL, err);
}

static const ocl_op softmax_ocl = {softmax_check, softmax_prepare, softmax_run, NULL, NULL};

const ocl_op *const ocl_ops_softmax[CLCNN_OP_COUNT] = {
    [CLCNN_OP_SOFTMAX] = &softmax_ocl,
    [CLCNN_OP_LOGSOFTMAX] = &softmax_ocl,
};
