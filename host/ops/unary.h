/* The one way to express a fused activation in OpenCL C.
 *
 * kernels/common.cl defines `float act_apply(float x)` (and the vector forms
 * `float4 act_apply4(float4 x)`, `float8 act_apply8(float8 x)`) selected by
 * -D options: ACT_NONE (the default when no ACT_* is given), ACT_RELU,
 * ACT_LEAKYRELU (ACT_ALPHA), ACT_ELU (ACT_ALPHA), ACT_SELU (ACT_ALPHA,
 * ACT_GAMMA), ACT_SIGMOID, ACT_HARDSIGMOID (ACT_ALPHA, ACT_BETA),
 * ACT_HARDSWISH, ACT_TANH, ACT_CLIP (ACT_MIN, ACT_MAX), ACT_SOFTPLUS,
 * ACT_MISH, ACT_GELU (ACT_GELU_TANH for the tanh approximation), ACT_ERF,
 * ACT_EXP, ACT_LOG, ACT_SQRT, ACT_NEG, ACT_ABS, ACT_RECIPROCAL.
 *
 * A kernel that takes a fused activation simply calls act_apply() (or
 * act_apply4/8) on its result; the host appends the options with
 * ocl_activation_options(). */
#ifndef CLCNN_HOST_OPS_UNARY_H
#define CLCNN_HOST_OPS_UNARY_H

#include <stdbool.h>
#include <stddef.h>

/* Appends (space-separated) the -D options selecting activation `act_op`
 * (an op_id of the unary family, e.g. n->act_op; -1 for none, which appends
 * nothing) with its parameters `act_params` (a runtime/ops/unary.h
 * unary_params *, e.g. n->act_params; NULL for the operator's defaults) to
 * the NUL-terminated string `buf` of capacity `len`. Floats are written with
 * %.9g and an 'f' suffix so they round-trip exactly (infinities as
 * INFINITY). */
void ocl_activation_options(int act_op, const void *act_params, char *buf, size_t len);

/* Whether ocl_activation_options() can express `act_op` (-1 included); a
 * fused node whose activation is not expressible should fall back. */
bool ocl_activation_supported(int act_op);

#endif /* CLCNN_HOST_OPS_UNARY_H */
