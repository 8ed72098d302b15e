/* OpenCL backend: the quant family's element-wise forms, QuantizeLinear and
 * DequantizeLinear between float32 and int8/uint8, per tensor or per axis,
 * so that the activations of a QDQ model stay on the device. Blocked scales,
 * the other integer types and the integer products (QLinearConv, ...) run on
 * the CPU backend. Both kernels compute exactly what the CPU does: the
 * division of QuantizeLinear is correctly rounded
 * (-cl-fp32-correctly-rounded-divide-sqrt; a device without it fails the
 * build and the node falls back), rint ties to even, the product of
 * DequantizeLinear is one float multiplication. */
#include <stdlib.h>

#include "../ocl.h"
#include "../../runtime/ops/quant.h"
#include "../kernel_options.h"

typedef struct qdq_state {
  cl_kernel k;
  size_t global;
  cl_uint n;
} qdq_state;

static const char *qdq_check(const ocl_device_info *dev, const ir_graph *g, const ir_node *n) {
  (void)dev;
  const qdq_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0);
  if (p->qtype != CLCNN_DTYPE_INT8 && p->qtype != CLCNN_DTYPE_UINT8)
    return "only int8 and uint8 quantization is supported on OpenCL";
  if (p->mode == QDQ_BLOCKED) return "blocked quantization is not supported on OpenCL";
  if (shape_numel(x->t.rank, x->t.dims) >= ((int64_t)1 << 31))
    return "tensors of 2^31 elements or more are not supported on OpenCL";
  return NULL;
}

static clcnn_status qdq_prepare(ocl_node *on, clcnn_err *err) {
  const qdq_params *p = on->n->params;
  const ir_value *x = ir_in(on->g, on->n, 0);
  const bool quantize = on->n->op == CLCNN_OP_QUANTIZE_LINEAR;
  qdq_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  on->state = s;
  s->n = (cl_uint)shape_numel(x->t.rank, x->t.dims);
  s->global = s->n;
  char opts[256] = "";
  ocl_opt(opts, sizeof opts, "-DQT=%s", p->qtype == CLCNN_DTYPE_INT8 ? "char" : "uchar");
  ocl_opt(opts, sizeof opts, "-DQMIN=%d -DQMAX=%d", p->qtype == CLCNN_DTYPE_INT8 ? -128 : 0,
          p->qtype == CLCNN_DTYPE_INT8 ? 127 : 255);
  if (p->mode == QDQ_PER_AXIS)
    ocl_opt(opts, sizeof opts, "-DPER_AXIS -DAXIS_N=%lldu -DINNER=%lldu", (long long)p->n,
            (long long)p->inner);
  if (p->has_zero_point) ocl_opt(opts, sizeof opts, "-DHAS_ZP");
  if (quantize) ocl_opt(opts, sizeof opts, "-cl-fp32-correctly-rounded-divide-sqrt");
  if (!s->n) return CLCNN_OK;
  return ocl_kernel(on, "quant.cl", quantize ? "quantize_f32" : "dequantize_f32", opts, &s->k,
                    err);
}

static clcnn_status qdq_run(ocl_node *on, const ocl_tensor *in, int nin, const ocl_tensor *out,
                            int nout, clcnn_err *err) {
  (void)nout;
  qdq_state *s = on->state;
  if (!s->n) return CLCNN_OK;
  /* Without a zero point, the scale stands in for it (never read). */
  const ocl_tensor *z = nin > 2 && in[2].mem ? &in[2] : &in[1];
  cl_uint xo = ocl_elem_offset(&in[0]), so = ocl_elem_offset(&in[1]), zo = ocl_elem_offset(z),
          yo = ocl_elem_offset(&out[0]);
  clcnn_status st = ocl_args(s->k, err, sizeof(cl_mem), &in[0].mem, sizeof xo, &xo,
                             sizeof(cl_mem), &in[1].mem, sizeof so, &so, sizeof(cl_mem), &z->mem,
                             sizeof zo, &zo, sizeof(cl_mem), &out[0].mem, sizeof yo, &yo,
                             sizeof s->n, &s->n, (size_t)0);
  if (st) return st;
  return ocl_enqueue(on, s->k, 1, &s->global, NULL, err);
}

static const ocl_op qdq_ocl = {qdq_check, qdq_prepare, qdq_run, NULL, NULL};

const ocl_op *const ocl_ops_quant[CLCNN_OP_COUNT] = {
    [CLCNN_OP_QUANTIZE_LINEAR] = &qdq_ocl,
    [CLCNN_OP_DEQUANTIZE_LINEAR] = &qdq_ocl,
};
