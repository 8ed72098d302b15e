/* CPU backend: 2-D convolutions through oneDNN's convolution primitives
 * (runtime/cpu/conv_dnnl.c), where this build has oneDNN.
 *
 * oneDNN's direct convolution kernels (brgconv, jit) are generated for the
 * CPU's features at run time (AVX-512, AVX2, SSE4.1) and run 3x3 and 7x7
 * layers at close to the cores' FMA peak, about twice the im2col + SGEMM
 * path of conv.c (docs/performance.md, "CPU convolution algorithms"). They
 * need channel-blocked activations (nChw16c, nChw8c), so a run converts the
 * input into a blocked copy and the blocked result back into NCHW, applying
 * the residual and the activation while it does; both copies cost a few
 * percent of the convolution. Weights are reordered into the kernel's layout
 * once, at prepare (session creation).
 *
 * Threads: the output channels are cut into pieces of whole channel blocks,
 * one primitive each, run by the context's pool (threadpool.h) with oneDNN
 * single-threaded inside each piece; nothing of OpenMP's process-wide state
 * is used (gemm_core.c's top comment). */
#ifndef CLCNN_CPU_CONV_DNNL_H
#define CLCNN_CPU_CONV_DNNL_H

#include "../internal.h"

typedef struct conv_dnnl conv_dnnl;

/* The oneDNN form of Conv node cn, or NULL (and CLCNN_OK) where it has none
 * worth taking: no oneDNN in this build, not 2-D, grouped, 1x1 (SGEMM does
 * them as well or better), weights not constant, or oneDNN offers only its own GEMM or
 * reference kernels for the shape. Errors are out of memory only. */
clcnn_status conv_dnnl_create(const cpu_node *cn, conv_dnnl **out, clcnn_err *err);
void conv_dnnl_free(conv_dnnl *d);
/* y = act(conv(x) + bias + residual); residual may be NULL. */
clcnn_status conv_dnnl_run(const cpu_node *cn, conv_dnnl *d, const float *x, const float *residual,
                           float *y, clcnn_err *err);
/* The kernel oneDNN chose ("brgconv:avx512_core"), for profiles and tests. */
const char *conv_dnnl_impl(const conv_dnnl *d);

#endif
