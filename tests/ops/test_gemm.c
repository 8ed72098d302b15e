/* OpenCL vs CPU: the gemm family (Gemm, MatMul), through both forms of
 * clcnn's kernel (register tiles for CPUs, local-memory tiles for GPUs,
 * CLCNN_OCL_VARIANT), the dot-product kernel (few columns, transposed B)
 * and CLBlast (CLCNN_GEMM=clblast, where built with it, when
 * CLCNN_TEST_CLBLAST=1: CLBlast compiles for half a minute on PoCL).
 *
 * Tolerance 1e-4 relative (|a - b| <= tol * (1 + |b|)): float sums of up to
 * a few hundred products of values in [-1, 1], added in another order than
 * OpenBLAS does. Sizes are odd (1, 3, 7, 17, 33) so that every kernel meets
 * partial register tiles, shifted last column tiles and partial work-groups. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn_config.h"
#include "op_harness.h"
/* Models of two nodes (a product and the activation fused into it). */
#include "model_builder.h"

#define TOL 1e-4f

static void expect_pass(const char *op, int opset, const ht_input *in, int nin,
                        const ht_attr *a, int na) {
  ht_result r = ht_run(op, opset, in, nin, 1, a, na, TOL);
  ck_assert_msg(r == HT_PASS, "%s failed", op);
}


/* Gemm of x [M, K] (transposed when ta) with a weight, then `act`. */
static bool gemm_act(int64_t m, int64_t k, int64_t n, bool tb, const char *act, int nattr,
                     const mb_attr *act_attrs) {
  mb *b = mb_new(13);
  float *w = malloc(sizeof(float) * (size_t)(k * n)), *c = malloc(sizeof(float) * (size_t)n);
  for (int64_t i = 0; i < k * n; i++) w[i] = (float)((i * 37) % 23) / 11.0f - 1.0f;
  for (int64_t i = 0; i < n; i++) c[i] = (float)(i % 7) / 3.0f - 1.0f;
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 2, (int64_t[]){m, k});
  mb_init_f32(b, "w", 2, tb ? (int64_t[]){n, k} : (int64_t[]){k, n}, w);
  mb_init_f32(b, "c", 1, (int64_t[]){n}, c);
  mb_node(b, "Gemm", "x,w,c", "t", 1, (mb_attr[]){MB_INT("transB", tb ? 1 : 0)});
  mb_node(b, act, "t", "y", nattr, act_attrs);
  mb_output(b, "y");
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  ht_input x = {.name = "x", .rank = 2, .dims = {m, k}};
  bool ok = ht_run_model("Gemm", bytes, len, &x, 1, TOL) == HT_PASS;
  free(bytes);
  free(w);
  free(c);
  mb_free(b);
  return ok;
}

/* Every transpose combination over odd shapes; B a constant (packed when
 * transposed) or an input. */
static void gemm_grid(void) {
  /* Partial row and shifted column tiles; the dot-product kernel (N < 8);
   * K = 1. */
  const int64_t shapes[][3] = {{3, 17, 33}, {17, 33, 7}, {33, 1, 40}};
  for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
    int64_t M = shapes[s][0], K = shapes[s][1], N = shapes[s][2];
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++) {
        ht_input in[3] = {
            ta ? HT_INPUT("A", K, M) : HT_INPUT("A", M, K),
            tb ? HT_INPUT("B", N, K) : HT_INPUT("B", K, N),
            HT_INPUT("C", N),
        };
        ht_attr a[] = {HT_INT("transA", ta), HT_INT("transB", tb), HT_FLOAT("alpha", 0.5f),
                       HT_FLOAT("beta", 2.0f)};
        expect_pass("Gemm", 13, in, 3, a, 4);
        if (tb) { /* constant weights, stored untransposed at prepare */
          in[1].constant = true;
          expect_pass("Gemm", 13, in, 3, a, 4);
        }
      }
  }
}

START_TEST(gemm_shapes) { gemm_grid(); }
END_TEST

START_TEST(gemm_c_broadcast) {
  const int64_t M = 7, K = 17, N = 33;
  ht_input c_shapes[] = {HT_INPUT("C", M, N), HT_INPUT("C", M, 1), HT_WEIGHT("C", 1)};
  ht_attr a[] = {HT_FLOAT("beta", 0.25f)};
  for (size_t i = 0; i < sizeof c_shapes / sizeof *c_shapes; i++) {
    ht_input in[3] = {HT_INPUT("A", M, K), HT_WEIGHT("B", K, N), c_shapes[i]};
    expect_pass("Gemm", 13, in, 3, a, 1);
  }
  /* beta = 0 with a C (C is not read). */
  ht_input in3[3] = {HT_INPUT("A", M, K), HT_INPUT("B", K, N), HT_INPUT("C", M, N)};
  ht_attr b0[] = {HT_FLOAT("beta", 0.0f)};
  expect_pass("Gemm", 13, in3, 3, b0, 1);
}
END_TEST

START_TEST(gemm_fused) {
  ck_assert(gemm_act(5, 33, 17, true, "Relu", 0, NULL));
  ck_assert(gemm_act(1, 64, 40, true, "Sigmoid", 0, NULL)); /* a GEMV */
  ck_assert(gemm_act(17, 9, 64, false, "LeakyRelu", 1, (mb_attr[]){MB_FLOAT("alpha", 0.2f)}));
}
END_TEST

START_TEST(matmul_shapes) {
  struct {
    int ra, rb;
    int64_t a[5], b[5];
    bool b_const;
  } cases[] = {
      {3, 2, {2, 3, 7}, {7, 9}, false},              /* batch folds into rows */
      {3, 2, {2, 33, 64}, {64, 40}, true},           /* constant weights */
      {4, 3, {2, 1, 5, 7}, {3, 7, 9}, false},        /* broadcast both ways */
      {1, 2, {7}, {7, 9}, false},                    /* vector x matrix */
      {3, 1, {3, 5, 7}, {7}, false},                 /* matrix x vector */
      {5, 4, {2, 3, 4, 5, 7}, {3, 1, 7, 9}, false},  /* three batch dims left */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    ht_input in[2] = {{.name = "A", .rank = cases[i].ra}, {.name = "B", .rank = cases[i].rb,
                                                           .constant = cases[i].b_const}};
    memcpy(in[0].dims, cases[i].a, sizeof cases[i].a);
    memcpy(in[1].dims, cases[i].b, sizeof cases[i].b);
    expect_pass("MatMul", 13, in, 2, NULL, 0);
  }
}
END_TEST

/* The GPU form of the kernel runs on any device (slowly on a CPU). */
START_TEST(gpu_form) {
  setenv("CLCNN_OCL_VARIANT", "gpu", 1);
  const int64_t shapes[][3] = {{33, 7, 65}};
  for (size_t s = 0; s < 1; s++)
    for (int t = 0; t < 4; t += 3) {
      int64_t M = shapes[s][0], K = shapes[s][1], N = shapes[s][2];
      int ta = t & 1, tb = t >> 1;
      ht_input in[3] = {ta ? HT_INPUT("A", K, M) : HT_INPUT("A", M, K),
                        tb ? HT_INPUT("B", N, K) : HT_INPUT("B", K, N), HT_INPUT("C", M, 1)};
      ht_attr a[] = {HT_INT("transA", ta), HT_INT("transB", tb), HT_FLOAT("alpha", 1.5f)};
      expect_pass("Gemm", 13, in, 3, a, 3);
    }
  ht_input mm[2] = {HT_INPUT("A", 2, 1, 33, 20), HT_INPUT("B", 3, 20, 17)};
  expect_pass("MatMul", 13, mm, 2, NULL, 0);
}
END_TEST

#if CLCNN_HAVE_CLBLAST
/* CLBlast: a product with every epilogue step (bias, beta, activation), a
 * batched one, and the choice by timing (CLCNN_TUNE=1). CLBlast compiles its kernels on first use, for half a
 * minute on a CPU device: this case runs when CLCNN_TEST_CLBLAST=1. */
START_TEST(clblast) {
  const char *on = getenv("CLCNN_TEST_CLBLAST");
  if (!on || strcmp(on, "1")) {
    printf("clblast: skipped (set CLCNN_TEST_CLBLAST=1 to run it)\n");
    return;
  }
  setenv("CLCNN_GEMM", "clblast", 1);
  ht_input in[3] = {HT_INPUT("A", 17, 33), HT_INPUT("B", 33, 40), HT_INPUT("C", 17, 1)};
  ht_attr a[] = {HT_FLOAT("alpha", 0.5f), HT_FLOAT("beta", 2.0f)};
  expect_pass("Gemm", 13, in, 3, a, 2);
  ht_input mm[2] = {HT_INPUT("A", 2, 3, 17, 33), HT_INPUT("B", 3, 33, 40)};
  expect_pass("MatMul", 13, mm, 2, NULL, 0);
  ck_assert(gemm_act(17, 33, 40, false, "Relu", 0, NULL));
  /* Tuning: both implementations timed at prepare, the faster kept. */
  unsetenv("CLCNN_GEMM");
  setenv("CLCNN_TUNE", "1", 1);
  ht_input t[3] = {HT_INPUT("A", 33, 17), HT_WEIGHT("B", 17, 40), HT_INPUT("C", 40)};
  expect_pass("Gemm", 13, t, 3, NULL, 0);
}
END_TEST
#endif

/* Tests run in this process (CK_NOFORK): a child forked after OpenCL was
 * initialised lacks PoCL's worker threads and waits for them forever. */
static void restore_env(void) { ht_env_restore(); }

int main(void) {
  if (!ht_have_opencl()) {
    printf("SKIP: no OpenCL device\n");
    return 77;
  }
  Suite *s = suite_create("ops-gemm");
  struct {
    const char *name;
    const TTest *test;
  } tests[] = {{"gemm_shapes", gemm_shapes}, {"gemm_c_broadcast", gemm_c_broadcast},
               {"gemm_fused", gemm_fused},   {"matmul_shapes", matmul_shapes},
               {"gpu_form", gpu_form},
#if CLCNN_HAVE_CLBLAST
               {"clblast", clblast},
#endif
  };
  for (size_t i = 0; i < sizeof tests / sizeof *tests; i++) {
    TCase *tc = tcase_create(tests[i].name);
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, NULL, restore_env);
    tcase_add_test(tc, tests[i].test);
    suite_add_tcase(s, tc);
  }
  SRunner *sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
