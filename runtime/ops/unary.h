/* Parameters of the unary family (Relu, LeakyRelu, Elu, Selu, Sigmoid,
 * HardSigmoid, HardSwish, Tanh, Clip, Softplus, Mish, Gelu, Erf, Exp, Log,
 * Sqrt, Neg, Abs, Reciprocal, Not, Floor, Ceil, Round, Sign, Sin, Cos,
 * Softsign, Celu, ThresholdedRelu, Shrink), shared by the front half and
 * every backend.
 * One flat struct serves the whole family: it is also what a Conv or Gemm
 * node carries as act_params when the activation is fused into it.
 *
 * Formulas (ONNX):
 *   Relu        y = max(0, x)
 *   LeakyRelu   y = x < 0 ? alpha * x : x                    alpha = 0.01
 *   Elu         y = x < 0 ? alpha * (exp(x) - 1) : x         alpha = 1
 *   Selu        y = x > 0 ? gamma * x : gamma * alpha * (exp(x) - 1)
 *               alpha = 1.67326319217681884765625, gamma = 1.05070102214813232421875
 *   Sigmoid     y = 1 / (1 + exp(-x))
 *   HardSigmoid y = max(0, min(1, alpha * x + beta))        alpha = 0.2, beta = 0.5
 *   HardSwish   y = x * max(0, min(1, x / 6 + 0.5))
 *   Clip        y = min(max(x, min), max)  (so min > max gives max)
 *   Softplus    y = log(1 + exp(x))
 *   Mish        y = x * tanh(softplus(x))
 *   Gelu        y = 0.5 x (1 + erf(x / sqrt(2)))                     (none)
 *               y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))  (tanh)
 *   Round       to the nearest integer, halves to even
 *   Sign        -1, 0 or 1 (NaN stays NaN)
 *   Softsign    y = x / (1 + |x|)
 *   Celu        y = max(0, x) + min(0, alpha * (exp(x / alpha) - 1))  alpha = 1
 *   ThresholdedRelu y = x > alpha ? x : 0                     alpha = 1
 *   Shrink      y = x < -lambd ? x + bias : x > lambd ? x - bias : 0
 *               lambd = 0.5 (in alpha), bias = 0 (in beta)
 *   Not         logical not of a bool
 *   Tanh, Erf, Exp, Log, Sqrt, Neg, Abs, Reciprocal, Floor, Ceil, Sin, Cos:
 *               the usual functions.
 *
 * Element types: float32 and float64 for all but Not (bool only); Relu, Neg,
 * Abs, Sign and Clip also take int64, int32 and int8 (Abs, Sign and Clip
 * uint8 too). An integer Clip takes its bounds from the inputs when it runs
 * (they are not in the params). */
#ifndef CLCNN_OPS_UNARY_H
#define CLCNN_OPS_UNARY_H

#include <stdint.h>

enum { GELU_APPROX_NONE = 0, GELU_APPROX_TANH = 1 };

typedef struct unary_params {
  float alpha;     /* LeakyRelu, Elu, Selu, HardSigmoid, Celu, ThresholdedRelu,
                      Shrink's lambd (HardSwish: 1/6) */
  float beta;      /* HardSigmoid, Shrink's bias (HardSwish: 0.5) */
  float gamma;     /* Selu */
  /* Clip bounds: from the attributes before opset 11, from the constant
   * inputs `min` and `max` (completed by infer) from opset 11. An absent
   * bound is -inf / +inf (opset < 11: the float32 limits, as ONNX says). */
  float min, max;
  /* Clip from opset 11 whose `min` or `max` input is not a constant: the
   * bounds are read from the inputs when the node runs (the CPU backend
   * does; another backend may refuse the node). Such a Clip is never fused. */
  int bounds_dynamic;
  int approximate; /* Gelu: GELU_APPROX_* */
} unary_params;

/* The params parse() sets for an op with no attributes (defaults of ONNX). */
unary_params unary_params_default(int op);

#endif /* CLCNN_OPS_UNARY_H */
