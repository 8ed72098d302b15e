/* OpenCL backend: the unary family. The formulas live once, in
 * kernels/common.cl (act_apply, selected by host/kernel_options.h); the
 * unary kernel applies them to float8 (CPU form) or float4 (GPU form)
 * vectors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ocl.h"
#include "../../runtime/ops/unary.h"

/* ---------------------------------------------------------- unary ops */

/* Largest element count a kernel indexes (uint indices). */
#define MAX_ELEMS ((int64_t)1 << 31)

typedef struct unary_state {
  cl_kernel k;
  size_t global;
  cl_uint n;
  bool dynamic; /* Clip with bounds read when it runs */
} unary_state;

static const char *unary_check(const ocl_device_info *dev, const ir_graph *g, const ir_node *n) {
  (void)dev;
  const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
  if (n->op < 0 || !ocl_activation_supported(n->op)) return "not a unary operator";
  if (x->t.dtype != CLCNN_DTYPE_FLOAT32 || y->t.dtype != CLCNN_DTYPE_FLOAT32)
    return "only float32 is supported on OpenCL";
  const unary_params *p = n->params;
  if (n->op == CLCNN_OP_CLIP && p && p->bounds_dynamic)
    for (int i = 1; i < n->nin; i++) {
      const ir_value *b = ir_in(g, n, i);
      if (b && (b->t.dtype != CLCNN_DTYPE_FLOAT32 || shape_numel(b->t.rank, b->t.dims) != 1))
        return "Clip bounds that are not float32 scalars are not supported on OpenCL";
    }
  if (n->act_op >= 0) return "a fused activation on a unary node is not supported";
  if (shape_numel(y->t.rank, y->t.dims) >= MAX_ELEMS) return "tensor too large (2^31 elements)";
  return NULL;
}

static clcnn_status unary_prepare(ocl_node *on, clcnn_err *err) {
  const ir_value *y = ir_out(on->g, on->n, 0);
  const int64_t n = shape_numel(y->t.rank, y->t.dims);
  const bool gpu = ocl_gpu_variant(on);
  /* CPU: a work-item takes 4 float8 (128 bytes); GPU: one float4, so that
   * neighbouring work-items read neighbouring vectors. */
  const int vw = gpu ? 4 : 8, items = gpu ? 1 : 4;
  unary_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  on->state = s;
  char opts[512] = "";
  ocl_opt(opts, sizeof opts, "-DVW=%d -DITEMS=%d", vw, items);
  const int64_t per = (int64_t)vw * items;
  s->global = (size_t)((n + per - 1) / per);
  s->n = (cl_uint)n;
  const unary_params *p = on->n->params;
  if (on->n->op == CLCNN_OP_CLIP && p && p->bounds_dynamic) {
    /* Bounds read by the kernel when it runs. */
    s->dynamic = true;
    if (ir_in(on->g, on->n, 1)) ocl_opt(opts, sizeof opts, "-DHAS_MIN");
    if (ir_in(on->g, on->n, 2)) ocl_opt(opts, sizeof opts, "-DHAS_MAX");
    return ocl_kernel(on, "unary.cl", "clip_dynamic_f32", opts, &s->k, err);
  }
  ocl_activation_options(on->n->op, on->n->params, opts, sizeof opts);
  ocl_storage_options(on, 0, -1, -1, opts, sizeof opts);
  return ocl_kernel(on, "unary.cl", "unary_f32", opts, &s->k, err);
}

static clcnn_status unary_run(ocl_node *on, const ocl_tensor *in, int nin, const ocl_tensor *out,
                              int nout, clcnn_err *err) {
  (void)nout;
  unary_state *s = on->state;
  if (!s->global) return CLCNN_OK;
  cl_uint xo = ocl_elem_offset(&in[0]), yo = ocl_elem_offset(&out[0]);
  clcnn_status st = ocl_args(s->k, err, sizeof(cl_mem), &in[0].mem, sizeof xo, &xo,
                             sizeof(cl_mem), &out[0].mem, sizeof yo, &yo, sizeof s->n, &s->n,
                             (size_t)0);
  if (st) return st;
  if (s->dynamic) { /* arguments 5..8: the bounds, or X where absent (unread) */
    const ocl_tensor *lo = nin > 1 && in[1].mem ? &in[1] : &in[0];
    const ocl_tensor *hi = nin > 2 && in[2].mem ? &in[2] : &in[0];
    cl_uint lo_off = ocl_elem_offset(lo), hi_off = ocl_elem_offset(hi);
    cl_int rc = clSetKernelArg(s->k, 5, sizeof(cl_mem), &lo->mem);
    if (rc == CL_SUCCESS) rc = clSetKernelArg(s->k, 6, sizeof lo_off, &lo_off);
    if (rc == CL_SUCCESS) rc = clSetKernelArg(s->k, 7, sizeof(cl_mem), &hi->mem);
    if (rc == CL_SUCCESS) rc = clSetKernelArg(s->k, 8, sizeof hi_off, &hi_off);
    if (rc != CL_SUCCESS)
      return err_set(err, CLCNN_ERROR_DEVICE, "clSetKernelArg failed: %s (%d)", ocl_error_str(rc),
                     (int)rc);
  }
  return ocl_enqueue(on, s->k, 1, &s->global, NULL, err);
}

/* Half storage: x and y of unary_f32 (not a Clip with bounds read at run time). */
static int unary_half(const ir_graph *g, const ir_node *n, int input) {
  (void)g;
  const unary_params *p = n->params;
  if (n->op == CLCNN_OP_CLIP && p && p->bounds_dynamic) return 0;
  return input == -1 || input == 0;
}

static const ocl_op unary_ocl = {unary_check, unary_prepare, unary_run, NULL, unary_half};

const ocl_op *const ocl_ops_unary[CLCNN_OP_COUNT] = {
    [CLCNN_OP_RELU] = &unary_ocl,        [CLCNN_OP_LEAKYRELU] = &unary_ocl,
    [CLCNN_OP_ELU] = &unary_ocl,         [CLCNN_OP_SELU] = &unary_ocl,
    [CLCNN_OP_SIGMOID] = &unary_ocl,     [CLCNN_OP_HARDSIGMOID] = &unary_ocl,
    [CLCNN_OP_HARDSWISH] = &unary_ocl,   [CLCNN_OP_TANH] = &unary_ocl,
    [CLCNN_OP_CLIP] = &unary_ocl,        [CLCNN_OP_SOFTPLUS] = &unary_ocl,
    [CLCNN_OP_MISH] = &unary_ocl,        [CLCNN_OP_GELU] = &unary_ocl,
    [CLCNN_OP_ERF] = &unary_ocl,         [CLCNN_OP_EXP] = &unary_ocl,
    [CLCNN_OP_LOG] = &unary_ocl,         [CLCNN_OP_SQRT] = &unary_ocl,
    [CLCNN_OP_NEG] = &unary_ocl,         [CLCNN_OP_ABS] = &unary_ocl,
    [CLCNN_OP_RECIPROCAL] = &unary_ocl,
};
