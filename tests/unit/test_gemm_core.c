/* Unit tests of cpu_sgemm, the one SGEMM of the CPU backend (whichever
 * library it was built with: oneDNN, CBLAS or the built-in loop): every
 * transpose, leading dims wider than the matrix, alpha and beta, odd sizes,
 * one thread and several (on a pool of clcnn's own, threadpool.h); the
 * same bits whether the pool's threads take part or the call runs inline;
 * and no process-wide side effect on the caller's OpenMP settings. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu/threadpool.h"
#include "internal.h"

static uint64_t rng = 0x243F6A8885A308D3ull;
static float rnd(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (float)((rng >> 40) & 0xFFFFFF) / (float)0x800000 - 1.0f;
}

/* C = alpha op(A) op(B) + beta C in double, and cpu_sgemm's, compared. */
static void check_one(int nt, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                      float beta) {
  int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 7;
  int64_t arows = ta ? k : m, brows = tb ? n : k;
  float *a = malloc(sizeof(float) * (size_t)(arows * lda));
  float *b = malloc(sizeof(float) * (size_t)(brows * ldb));
  float *c = malloc(sizeof(float) * (size_t)(m * ldc));
  double *ref = malloc(sizeof(double) * (size_t)(m * ldc));
  for (int64_t i = 0; i < arows * lda; i++) a[i] = rnd();
  for (int64_t i = 0; i < brows * ldb; i++) b[i] = rnd();
  for (int64_t i = 0; i < m * ldc; i++) c[i] = rnd();
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < ldc; j++) {
      if (j >= n) {
        ref[i * ldc + j] = c[i * ldc + j]; /* past the matrix: untouched */
        continue;
      }
      double s = 0;
      for (int64_t p = 0; p < k; p++)
        s += (double)(ta ? a[p * lda + i] : a[i * lda + p]) *
             (double)(tb ? b[j * ldb + p] : b[p * ldb + j]);
      ref[i * ldc + j] = alpha * s + (beta != 0.0f ? beta * (double)c[i * ldc + j] : 0.0);
    }
  cpu_pool *pool = nt > 1 ? cpu_pool_create(nt) : NULL;
  ck_assert(nt == 1 || pool);
  cpu_sgemm(pool, nt, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  cpu_pool_free(pool);
  double tol = 1e-5 * (double)k + 1e-5;
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < ldc; j++) {
      double d = fabs((double)c[i * ldc + j] - ref[i * ldc + j]);
      ck_assert_msg(d <= tol * (1.0 + fabs(ref[i * ldc + j])),
                    "nt %d ta %d tb %d m %lld n %lld k %lld: c[%lld][%lld] = %g, want %g", nt, ta,
                    tb, (long long)m, (long long)n, (long long)k, (long long)i, (long long)j,
                    (double)c[i * ldc + j], ref[i * ldc + j]);
    }
  free(a), free(b), free(c), free(ref);
}

START_TEST(sgemm_matches_reference) {
  static const int64_t sizes[][3] = {{1, 1, 1},    {3, 5, 7},     {17, 33, 9},  {64, 49, 300},
                                     {130, 97, 64}, {40, 1000, 27}, {300, 20, 130}};
  for (int nt = 1; nt <= 2; nt++)
    for (int t = 0; t < 4; t++)
      for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        check_one(nt, t & 1, t >> 1, sizes[s][0], sizes[s][1], sizes[s][2], s & 1 ? 0.5f : 1.0f,
                  s % 3 == 0 ? 0.0f : (s % 3 == 1 ? 1.0f : -0.25f));
}
END_TEST

START_TEST(sgemm_zero_k_scales_c) {
  float c[6] = {1, 2, 3, 4, 5, 6}, a[1] = {0}, b[1] = {0};
  cpu_sgemm(NULL, 1, false, false, 2, 3, 0, 1.0f, a, 1, b, 3, 0.5f, c, 3);
  for (int i = 0; i < 6; i++) ck_assert_float_eq_tol(c[i], 0.5f * (float)(i + 1), 1e-6f);
}
END_TEST

/* The blocks depend on nthreads, not on the threads that run them: a
 * product on a pool of 2 and the same product run inline (no pool, as when
 * the pool is busy with another session) give the same bits. */
START_TEST(sgemm_same_bits_inline) {
  const int64_t m = 96, n = 700, k = 150;
  float *a = malloc(sizeof(float) * (size_t)(m * k)), *b = malloc(sizeof(float) * (size_t)(k * n));
  float *c1 = malloc(sizeof(float) * (size_t)(m * n)),
        *c2 = malloc(sizeof(float) * (size_t)(m * n));
  for (int64_t i = 0; i < m * k; i++) a[i] = rnd();
  for (int64_t i = 0; i < k * n; i++) b[i] = rnd();
  cpu_pool *pool = cpu_pool_create(2);
  ck_assert_ptr_nonnull(pool);
  cpu_sgemm(pool, 2, false, false, m, n, k, 1.0f, a, k, b, n, 0.0f, c1, n);
  cpu_pool_free(pool);
  cpu_sgemm(NULL, 2, false, false, m, n, k, 1.0f, a, k, b, n, 0.0f, c2, n);
  ck_assert(memcmp(c1, c2, sizeof(float) * (size_t)(m * n)) == 0);
  free(a), free(b), free(c1), free(c2);
}
END_TEST

/* The caller's OpenMP thread count is its own (DESIGN.md decision 11). */
START_TEST(sgemm_leaves_caller_settings) {
#ifdef _OPENMP
  int before = omp_get_max_threads();
  check_one(1, false, false, 64, 200, 128, 1.0f, 0.0f);
  check_one(2, false, true, 256, 300, 64, 1.0f, 0.0f);
  ck_assert_int_eq(omp_get_max_threads(), before);
  omp_set_num_threads(3);
  check_one(2, true, false, 96, 500, 70, 1.0f, 1.0f);
  ck_assert_int_eq(omp_get_max_threads(), 3);
  omp_set_num_threads(before);
#endif
}
END_TEST

int main(void) {
  Suite *s = suite_create("gemm_core");
  TCase *tc = tcase_create("gemm_core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, sgemm_matches_reference);
  tcase_add_test(tc, sgemm_zero_k_scales_c);
  tcase_add_test(tc, sgemm_same_bits_inline);
  tcase_add_test(tc, sgemm_leaves_caller_settings);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
