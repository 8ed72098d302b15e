/* The one GEMM entry point of the OpenCL backend (DESIGN.md decision 7).
 *
 * A matrix product (Gemm, MatMul, a 1x1 or im2col'd convolution) is
 * described once at prepare time; ocl_gemm_prepare() chooses between
 * clcnn's own kernels (kernels/gemm.cl) and CLBlast for that layer on that
 * device and builds what the choice needs; ocl_gemm() enqueues it.
 *
 *   ocl_gemm_desc d;
 *   ocl_gemm_desc_init(&d, false, false, M, N, K);
 *   d.bias = true; d.bias_rs = 1;              // + bias[m], broadcast along n
 *   d.act_op = n->act_op; d.act_params = n->act_params;
 *   ocl_gemm_prepare(on, &d, &state->gemm, err);          // prepare()
 *   ocl_gemm(on, &state->gemm, w, w_off, x, x_off, y, y_off, b, b_off, err);  // run()
 *
 * The choice (DESIGN.md decision 7): with CLCNN_TUNE=1 in the environment
 * (what `clcnn tune MODEL` sets) both implementations are timed once per
 * (device, product shape) and the faster kept for the process and in the
 * cache directory (an entry like a program's, keyed by device, driver,
 * clcnn version and product), where later sessions and processes find it
 * (also from a context with a cache directory of its own, which falls back
 * to the default one for these); otherwise CLBlast on GPUs and clcnn's own
 * kernel elsewhere (CLBlast compiles its kernels for many seconds on first
 * use on CPU devices). CLCNN_GEMM=own or CLCNN_GEMM=clblast forces one (for
 * tests and benchmarks). CLBlast is only there when the build found it
 * (CLCNN_HAVE_CLBLAST).
 *
 * Transposes, batch strides, alpha, beta, the bias layout and the
 * activations that are not piecewise-linear are compile-time constants of
 * the kernel (DESIGN.md decision 2); sizes, leading dims, the residual and
 * None/Relu/LeakyRelu/Clip are kernel arguments, so that the products of a
 * network share a few programs (cold starts). All of it lives in the plan;
 * the run call only names the buffers. */
#ifndef CLCNN_HOST_GEMM_DISPATCH_H
#define CLCNN_HOST_GEMM_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel_options.h"
#include "ocl.h"

typedef enum ocl_gemm_impl {
  OCL_GEMM_AUTO = 0,    /* let prepare choose */
  OCL_GEMM_OWN = 1,     /* kernels/gemm.cl */
  OCL_GEMM_CLBLAST = 2  /* CLBlastSgemm / CLBlastSgemmStridedBatched */
} ocl_gemm_impl;

/* C[z] = act(alpha * op(A[z]) op(B[z]) + beta * C[z] + bias_scale * bias[z] + res[z])
 * for z = z0 * nb1 + z1 < nb0 * nb1, row-major, op = transpose when ta / tb.
 * Offsets and strides are in elements. */
typedef struct ocl_gemm_desc {
  bool ta, tb;
  size_t m, n, k;
  size_t lda, ldb, ldc;          /* leading dims as stored (lda >= ta ? m : k ...) */
  size_t nb0, nb1;               /* batch counts (>= 1) */
  size_t sa[2], sb[2], sc[2];    /* batch strides for z0 and z1 (0: shared) */
  float alpha;
  float beta;                    /* 0: C is only written */
  bool bias;                     /* adds bias_scale * bias[m * bias_rs + n * bias_cs] */
  float bias_scale;
  size_t bias_rs, bias_cs;       /* 0 broadcasts */
  size_t sbias[2];               /* batch strides of the bias */
  bool residual;                 /* ocl_gemm's `res`, with C's layout, is added after the bias */
  bool b_half, c_half, res_half; /* B, C, the residual stored as half (clcnn's kernels only) */
  int act_op;                    /* fused activation (an op id of the unary family), -1 none */
  const void *act_params;        /* its unary_params (n->act_params) */
  ocl_gemm_impl impl;            /* OCL_GEMM_AUTO unless a caller must have one */
} ocl_gemm_desc;

/* A product ready to run. The kernels belong to the node (released with
 * it); the plan itself needs no freeing. */
typedef struct ocl_gemm_plan {
  ocl_gemm_desc d;
  ocl_gemm_impl impl;            /* what prepare chose */
  cl_kernel kernel;              /* own: gemm_f32 or gemm_dot_f32 */
  ocl_epilogue epi;              /* the activation's run-time part (kernel_options.h) */
  size_t global[3], local[3];
  bool has_local;
  cl_kernel prologue, act;       /* CLBlast: epilogue kernels, NULL when not needed */
  size_t eglobal[3];
} ocl_gemm_plan;

/* A plain product: no batch, natural leading dims (ta ? m : k, tb ? k : n,
 * n), alpha 1, beta 0, no bias, no activation. */
void ocl_gemm_desc_init(ocl_gemm_desc *d, bool ta, bool tb, size_t m, size_t n, size_t k);

/* Chooses the implementation for this product on the node's device (timing
 * both when tuning is enabled) and builds its kernels. Errors:
 * KERNEL_BUILD, UNSUPPORTED (sizes past 2^31 elements), DEVICE. */
clcnn_status ocl_gemm_prepare(ocl_node *on, const ocl_gemm_desc *d, ocl_gemm_plan *plan,
                              clcnn_err *err);

/* Enqueues the product on the node's queue. `bias` may be NULL when the plan
 * has none, `res` (the residual, offset `res_off`) when d.residual is false. Nothing blocks (CLBlast calls are serialised per process, since
 * CLBlast must not be entered concurrently on one queue). Errors: DEVICE. */
clcnn_status ocl_gemm(ocl_node *on, const ocl_gemm_plan *plan, cl_mem a, size_t a_off, cl_mem b,
                      size_t b_off, cl_mem c, size_t c_off, cl_mem bias, size_t bias_off,
                      cl_mem res, size_t res_off, clcnn_err *err);

/* The register tile of the CPU form of the kernels (gemm_f32, and the conv
 * family's direct kernel, which shares its shape): TM rows x TN columns in
 * vectors of VW floats, for an m x n output on `dev`. TN <= n when n >= 8. */
void ocl_gemm_cpu_tile(const ocl_device_info *dev, size_t m, size_t n, int *tm, int *tn,
                       int *vw);

/* Whether `dev` fuses multiply-adds in hardware (CL_FP_FMA in its
 * single-precision config): kernels then take -DFAST_FMA and use fma(),
 * which compilers turn into one instruction, rather than mad(), which PoCL
 * leaves as a multiply and an add. */
bool ocl_device_fast_fma(const ocl_device_info *dev);

/* The work-group size of the CPU forms of the kernels: one work-item per
 * work-group on CPU devices ({1, 1, 1}), NULL (the driver's choice) for the
 * GPU forms. PoCL's own choice often makes one work-group of the whole
 * range, which then runs on one core. */
const size_t *ocl_cpu_local(const ocl_node *on);

/* ---- scratch memory shared by the nodes of one session ----
 * im2col matrices and padded copies of inputs live in one device buffer per
 * session, as large as the largest request: nodes run one after the other
 * on the session's in-order queue, so they never need it at the same time. */

/* At prepare: makes the session's scratch at least `bytes`. */
clcnn_status ocl_scratch_reserve(ocl_node *on, size_t bytes, clcnn_err *err);
/* At run: the session's scratch (at least what this node reserved). */
cl_mem ocl_scratch_get(const ocl_node *on);
/* In the op's release(): drops this node's hold; the buffer is freed with
 * the last node that reserved it. */
void ocl_scratch_release(ocl_node *on);

#endif /* CLCNN_HOST_GEMM_DISPATCH_H */
