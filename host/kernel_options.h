/* Build options of OpenCL kernels, assembled in one place (STYLE.md): the
 * -D option builder, exact float literals, the kernel form for a device, and
 * the one way to express a fused activation in OpenCL C.
 *
 * kernels/common.cl defines, selected by -D options,
 *   float   act_apply(float x);
 *   float4  act_apply4(float4 x);
 *   float8  act_apply8(float8 x);
 *   float16 act_apply16(float16 x);
 * for ACT_NONE (the default when no ACT_* is defined: identity), ACT_RELU,
 * ACT_LEAKYRELU (ACT_ALPHA), ACT_ELU (ACT_ALPHA), ACT_SELU (ACT_ALPHA,
 * ACT_GAMMA), ACT_SIGMOID, ACT_HARDSIGMOID and ACT_HARDSWISH (ACT_ALPHA,
 * ACT_BETA), ACT_TANH, ACT_CLIP (ACT_MIN, ACT_MAX), ACT_SOFTPLUS, ACT_MISH,
 * ACT_GELU (plus ACT_GELU_TANH for the tanh approximation), ACT_ERF,
 * ACT_EXP, ACT_LOG, ACT_SQRT, ACT_NEG, ACT_ABS, ACT_RECIPROCAL: the formulas
 * of runtime/ops/unary.h, as the CPU backend computes them.
 *
 * A kernel with a fused activation calls act_apply() (or the vector form) on
 * its result; the host adds the options with ocl_activation_options():
 *
 *   char opts[1024] = "";
 *   ocl_opt(opts, sizeof opts, "-DK=%d", k);
 *   ocl_activation_options(n->act_op, n->act_params, opts, sizeof opts);
 *   ocl_kernel(on, "conv.cl", "conv2d_nchw_f32", opts, &kern, err); */
#ifndef CLCNN_HOST_KERNEL_OPTIONS_H
#define CLCNN_HOST_KERNEL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

/* Appends " -DNAME=value" (printf format) to an options string. */
void ocl_opt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Appends " -DACT_xxx" and its parameters (" -DACT_ALPHA=0.100000001f"...)
 * for activation `act_op` (an op_id of the unary family, e.g. n->act_op;
 * -1 for none, which appends nothing) with parameters `act_params` (a
 * runtime/ops/unary.h unary_params *, e.g. n->act_params; NULL for the
 * operator's defaults) to the NUL-terminated string `buf` of capacity `len`.
 * An op that is not an activation (see ocl_activation_supported) appends
 * nothing. */
void ocl_activation_options(int act_op, const void *act_params, char *buf, size_t len);

/* The run-time epilogue of the kernels that take EPILOGUE_ARGS
 * (kernels/common.cl): the piecewise-linear activations as three numbers
 * (negatives times alpha, then clipped to [lo, hi]), so that convolutions
 * and products with and without Relu, LeakyRelu or Clip share a program. */
typedef struct ocl_epilogue {
  float alpha, lo, hi;
} ocl_epilogue;

/* Splits a fused activation between run time and build time: none, Relu,
 * LeakyRelu and Clip go into *e; any other is appended to `buf` as
 * ocl_activation_options() writes it, and *e is the identity (1, -inf,
 * inf). */
void ocl_epilogue_split(int act_op, const void *act_params, ocl_epilogue *e, char *buf,
                        size_t len);

/* Whether ocl_activation_options() can express `act_op` (true for -1 and for
 * every op of the unary family on float32). */
bool ocl_activation_supported(int act_op);

/* Writes `v` as an OpenCL C float literal that round-trips exactly
 * ("0.100000001f", "(-2.0f)", "INFINITY", "(-INFINITY)", "NAN"), for -D
 * options: ocl_opt(opts, n, "-DEPS=%s", ocl_float_literal(eps, lit)).
 * Returns `out`. */
#define OCL_FLOAT_LITERAL_MAX 32
char *ocl_float_literal(float v, char out[OCL_FLOAT_LITERAL_MAX]);

/* The OpenCL unsigned integer type of an element size in bytes ("uchar",
 * "ushort", "uint", "ulong"), or NULL: the type that moves elements of any
 * type of that size unchanged. */
const char *ocl_bits_type(size_t es);

#endif /* CLCNN_HOST_KERNEL_OPTIONS_H */
