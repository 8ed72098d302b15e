/* Parameters of the quant family (QuantizeLinear, DequantizeLinear,
 * DynamicQuantizeLinear, QLinearConv, QLinearMatMul, ConvInteger,
 * MatMulInteger), shared by the front half (runtime/ops/quant.c) and the
 * backends. Flat structs: they are copied with memcpy.
 *
 * Arithmetic, as ONNX's reference and onnxruntime do it:
 *   QuantizeLinear    y = saturate(rint(x / scale) + zero_point), the
 *                     division in float32, rint ties to even, saturated to
 *                     the range of the quantized type;
 *                     float8 and float4 (lowp): y = x / scale + zero_point in
 *                     float32, rounded to the type as Cast does (saturate);
 *   DequantizeLinear  y = (float(x) - float(zero_point)) * scale;
 *   integer products  exact int32 sums of (x - x_zp) * (w - w_zp);
 *   QLinear*          y = saturate(rint(acc * m + y_zp)) with the multiplier
 *                     m = float32(x_scale * w_scale) / y_scale (float32) and
 *                     the product in double. */
#ifndef CLCNN_OPS_QUANT_H
#define CLCNN_OPS_QUANT_H

#include <stdint.h>

#include "../internal.h"
#include "conv.h"
#include "gemm.h"

/* How a scale (and zero point) applies to x viewed as [outer, n, inner]
 * around the axis. */
typedef enum qdq_mode {
  QDQ_PER_TENSOR = 0, /* one scale */
  QDQ_PER_AXIS = 1,   /* scale[n]: one per index along the axis */
  QDQ_BLOCKED = 2     /* scale [outer, nblocks, inner]: one per block of block_size
                         consecutive indices along the axis (opset 21) */
} qdq_mode;

/* QuantizeLinear and DequantizeLinear. */
typedef struct qdq_params {
  /* Attributes (parse). */
  int64_t axis_attr;        /* default 1 */
  int64_t block_size;       /* 0: not blocked */
  clcnn_dtype output_dtype; /* QuantizeLinear 21+ / DequantizeLinear 23+; UNDEFINED: absent */
  int saturate;             /* QuantizeLinear 19+, for the float8 types; default 1 */
  /* A float8 or float4 quantized type (dtype_is_f8) that graph_lower_float16
   * made float32: QuantizeLinear's output and DequantizeLinear's input (and
   * the zero point) are float32 tensors holding values of this type. */
  clcnn_dtype lowp;
  /* Resolved by infer. */
  int mode;                 /* qdq_mode */
  int64_t outer, n, inner;
  int64_t nblocks;          /* QDQ_BLOCKED: the scale's size along the axis */
  clcnn_dtype qtype;        /* the quantized type: Quantize's output, Dequantize's input
                               (lowp where set: the tensors are float32) */
  int has_zero_point;
} qdq_params;

/* QLinearConv (inputs x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B)
 * and ConvInteger (x, w, x_zp, w_zp). The window and channels are a Conv's. */
typedef struct qconv_params {
  conv_params conv;
  int per_channel_w;  /* w_scale / w_zp has one value per output channel */
  int has_bias;       /* QLinearConv's int32 B */
} qconv_params;

/* QLinearMatMul (a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp) and
 * MatMulInteger (A, B, a_zp, b_zp): a MatMul's shapes. The zero points and
 * scales are per tensor, except b's, which may be per column (N values) and
 * a's of MatMulInteger, which may be per row (M values). */
typedef struct qmatmul_params {
  matmul_params mm;
  int per_row_a;  /* a_zp (MatMulInteger) / a_scale has M values */
  int per_col_b;  /* b_zp / b_scale has N values */
} qmatmul_params;

/* Index of the scale / zero point of element (o, k, i) of x's
 * [outer, n, inner] view. */
static inline int64_t qdq_param_index(const qdq_params *p, int64_t o, int64_t k, int64_t i) {
  switch (p->mode) {
    case QDQ_PER_AXIS: return k;
    case QDQ_BLOCKED: return (o * p->nblocks + k / p->block_size) * p->inner + i;
    default: return 0;
  }
}

#endif /* CLCNN_OPS_QUANT_H */
