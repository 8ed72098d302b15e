/* The one SGEMM of the CPU backend. One thread pool: the product is split
 * into column (or row) blocks over OpenMP threads, and the BLAS runs
 * single-threaded inside each block. Letting OpenBLAS run its own pthreads
 * next to the OpenMP loops of the other operators made whole models 3-5x
 * slower on 2 cores (both pools spin for the same cores). Without CBLAS a
 * blocked loop that is correct everywhere and not slow is used. */
#include "../internal.h"
#include "clcnn_config.h"

#if CLCNN_HAVE_CBLAS
#include <cblas.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#if CLCNN_HAVE_OPENBLAS_THREADS
void openblas_set_num_threads(int num_threads);
static void blas_single_thread(void) {
  static _Atomic int done;
  if (!done) {
    openblas_set_num_threads(1);
    done = 1;
  }
}
#else
static void blas_single_thread(void) {}
#endif

static void sgemm_block(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                        const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                        float *c, int64_t ldc) {
#if CLCNN_HAVE_CBLAS
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha, a, (int)lda, b,
              (int)ldb, beta, c, (int)ldc);
#else
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
#endif
}

void cpu_sgemm(int nthreads, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
               float alpha, const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
               float *c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  blas_single_thread();
  /* Below ~4 MFLOP a split costs more than it saves. */
  double flops = 2.0 * (double)m * (double)n * (double)k;
  int t = nthreads > 1 && flops > 4e6 ? nthreads : 1;
  if (t == 1) {
    sgemm_block(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  /* Split the wider dimension, in multiples of 16 so blocks stay aligned
   * to the BLAS's register tiles, into a few blocks per thread taken
   * dynamically: on a busy machine a thread that loses its core for a while
   * must not hold the others up. */
  bool split_n = n >= m;
  int64_t len = split_n ? n : m;
  int64_t chunk = (len + 4 * t - 1) / (4 * t);
  chunk = (chunk + 15) / 16 * 16;
  if (chunk < 64) chunk = len < 64 ? len : 64;
  int blocks = (int)((len + chunk - 1) / chunk);
#ifdef _OPENMP
#pragma omp parallel for num_threads(t) schedule(dynamic, 1)
#endif
  for (int bi = 0; bi < blocks; bi++) {
    int64_t s = (int64_t)bi * chunk, e = s + chunk < len ? s + chunk : len;
    if (split_n) {
      const float *bb = trans_b ? b + s * ldb : b + s;
      sgemm_block(trans_a, trans_b, m, e - s, k, alpha, a, lda, bb, ldb, beta, c + s, ldc);
    } else {
      const float *ab = trans_a ? a + s : a + s * lda;
      sgemm_block(trans_a, trans_b, e - s, n, k, alpha, ab, lda, b, ldb, beta, c + s * ldc, ldc);
    }
  }
}
