/* The one SGEMM of the CPU backend: CBLAS when built with it, else a blocked
 * loop that is correct everywhere and not slow. */
#include "../internal.h"
#include "clcnn_config.h"

#if CLCNN_HAVE_CBLAS
#include <cblas.h>
#endif

void cpu_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
               int64_t ldc) {
  if (m <= 0 || n <= 0) return;
#if CLCNN_HAVE_CBLAS
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha, a,
              (int)lda, b, (int)ldb, beta, c, (int)ldc);
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
