/* The one SGEMM of the CPU backend.
 *
 * Which library: oneDNN's dnnl_sgemm where it was found at build time (its
 * JIT kernels are chosen by the CPU features it detects at run time —
 * AVX-512, AVX2+FMA, SSE4.1 — never by a table of CPU models, DESIGN.md
 * decision 11), else CBLAS (OpenBLAS), else a blocked loop that is correct
 * everywhere and not slow. docs/performance.md ("CPU GEMM libraries") has
 * the measurements behind the order: Debian 12's OpenBLAS picks its SSE3
 * kernels on CPUs newer than its model table, and BLIS 0.9 picks its AVX2
 * kernels on AVX-512 Xeons whose brand string it cannot parse.
 *
 * Threads: one pool, clcnn's own (threadpool.h). The product is split into
 * column (or row) blocks over the pool's threads and the library runs
 * single-threaded inside each block. Letting a BLAS run its own threads next
 * to the pool's loops of the other operators made whole models 3-5x slower
 * on 2 cores. Nothing process-wide is changed: oneDNN (built on OpenMP) is
 * kept to one thread by nthreads-var, which each pool worker sets to 1 for
 * itself (its thread is ours); on any other thread (the host's) the call is
 * made inside a one-thread parallel region of our own, whose implicit task's
 * ICV lives and dies with that region, never in the caller's task. OpenBLAS
 * has no per-call control: its OpenMP and serial builds run single-threaded
 * in our blocks; its pthreads build is called once from the caller's thread
 * and threads as the host application configured it. */
#include "../internal.h"
#include "clcnn_config.h"
#include "threadpool.h"

#if CLCNN_HAVE_DNNL
#include <dnnl.h>
#elif CLCNN_HAVE_CBLAS
#include <cblas.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

/* The built-in loop (no library, or a library call that failed). */
static void sgemm_loop(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                       const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                       float *c, int64_t ldc) {
  for (int64_t i = 0; i < m; i++) {
    float *ci = c + i * ldc;
    if (beta == 0.0f)
      for (int64_t j = 0; j < n; j++) ci[j] = 0.0f;
    else if (beta != 1.0f)
      for (int64_t j = 0; j < n; j++) ci[j] *= beta;
  }
  const int64_t KB = 256;
  for (int64_t k0 = 0; k0 < k; k0 += KB) {
    int64_t k1 = k0 + KB < k ? k0 + KB : k;
    for (int64_t i = 0; i < m; i++) {
      float *ci = c + i * ldc;
      for (int64_t p = k0; p < k1; p++) {
        float av = alpha * (trans_a ? a[p * lda + i] : a[i * lda + p]);
        if (av == 0.0f) continue;
        if (!trans_b) {
          const float *bp = b + p * ldb;
          for (int64_t j = 0; j < n; j++) ci[j] += av * bp[j];
        } else {
          for (int64_t j = 0; j < n; j++) ci[j] += av * b[j * ldb + p];
        }
      }
    }
  }
}

/* One block, single-threaded; called on a pool worker or inside a parallel
 * region of our own (sgemm_block), see the top comment. */
static void sgemm_block_1(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                          float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                          float beta, float *c, int64_t ldc) {
#if CLCNN_HAVE_DNNL
  if (dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c,
                 ldc) == dnnl_success)
    return;
  sgemm_loop(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#elif CLCNN_HAVE_CBLAS
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha, a, (int)lda, b,
              (int)ldb, beta, c, (int)ldc);
#else
  sgemm_loop(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
}

void cpu_dnnl_single(void (*fn)(void *arg), void *arg) {
#if CLCNN_HAVE_DNNL
  if (!cpu_pool_on_worker()) {
    /* A thread of the host's: this region's implicit task gets nthreads-var 1
     * (oneDNN asks omp_get_max_threads()), the caller's stays as it was. */
#pragma omp parallel num_threads(1)
    {
      omp_set_num_threads(1);
      fn(arg);
    }
    return;
  }
#endif
  fn(arg);
}

typedef struct sgemm_args {
  bool trans_a, trans_b;
  int64_t m, n, k, lda, ldb, ldc;
  float alpha, beta;
  const float *a, *b;
  float *c;
} sgemm_args;

static void sgemm_args_run(void *arg) {
  const sgemm_args *q = arg;
  sgemm_block_1(q->trans_a, q->trans_b, q->m, q->n, q->k, q->alpha, q->a, q->lda, q->b, q->ldb,
                q->beta, q->c, q->ldc);
}

/* One block, single-threaded, on any thread. */
static void sgemm_block(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                        const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                        float *c, int64_t ldc) {
  if (CLCNN_HAVE_DNNL && !cpu_pool_on_worker()) {
    sgemm_args q = {trans_a, trans_b, m, n, k, lda, ldb, ldc, alpha, beta, a, b, c};
    cpu_dnnl_single(sgemm_args_run, &q);
    return;
  }
  sgemm_block_1(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

typedef struct sgemm_split {
  bool trans_a, trans_b, split_n;
  int64_t m, n, k, lda, ldb, ldc, chunk, len;
  float alpha, beta;
  const float *a, *b;
  float *c;
} sgemm_split;

static void sgemm_blocks(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const sgemm_split *q = arg;
  for (int64_t bi = begin; bi < end; bi++) {
    int64_t s = bi * q->chunk, e = s + q->chunk < q->len ? s + q->chunk : q->len;
    if (q->split_n) {
      const float *bb = q->trans_b ? q->b + s * q->ldb : q->b + s;
      sgemm_block(q->trans_a, q->trans_b, q->m, e - s, q->k, q->alpha, q->a, q->lda, bb, q->ldb,
                  q->beta, q->c + s, q->ldc);
    } else {
      const float *ab = q->trans_a ? q->a + s : q->a + s * q->lda;
      sgemm_block(q->trans_a, q->trans_b, e - s, q->n, q->k, q->alpha, ab, q->lda, q->b, q->ldb,
                  q->beta, q->c + s * q->ldc, q->ldc);
    }
  }
}

#if !CLCNN_HAVE_DNNL && CLCNN_HAVE_CBLAS && CLCNN_HAVE_OPENBLAS_THREADS
int openblas_get_parallel(void);
/* OpenBLAS built on pthreads threads every call itself (0 serial, 1
 * pthreads, 2 OpenMP). */
static bool blas_threads_itself(void) { return openblas_get_parallel() == 1; }
#else
static bool blas_threads_itself(void) { return false; }
#endif

void cpu_sgemm(cpu_pool *pool, int nthreads, bool trans_a, bool trans_b, int64_t m, int64_t n,
               int64_t k, float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
               float beta, float *c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) { /* C = beta C, which not every library does */
    sgemm_loop(trans_a, trans_b, m, n, 0, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  if (blas_threads_itself()) {
    sgemm_block_1(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  /* Below ~4 MFLOP a split costs more than it saves. */
  double flops = 2.0 * (double)m * (double)n * (double)k;
  int t = nthreads > 1 && flops > 4e6 ? nthreads : 1;
  if (t == 1) {
    sgemm_block(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  /* Split the wider dimension, in multiples of 16 so blocks stay aligned
   * to the library's register tiles, into a few blocks per thread taken
   * one at a time: on a busy machine a thread that loses its core for a
   * while must not hold the others up. The blocks depend on nthreads, not
   * on how many threads of the pool take part (all, or one when it runs
   * inline), so neither do the results. */
  sgemm_split q = {.trans_a = trans_a, .trans_b = trans_b, .split_n = n >= m, .m = m, .n = n,
                   .k = k, .lda = lda, .ldb = ldb, .ldc = ldc, .alpha = alpha, .beta = beta,
                   .a = a, .b = b, .c = c};
  q.len = q.split_n ? n : m;
  int64_t chunk = (q.len + 4 * t - 1) / (4 * t);
  chunk = (chunk + 15) / 16 * 16;
  if (chunk < 64) chunk = q.len < 64 ? q.len : 64;
  q.chunk = chunk;
  int64_t blocks = (q.len + chunk - 1) / chunk;
  cpu_parallel_for(pool, t, blocks, 1, sgemm_blocks, &q);
}
