/* OpenCL vs CPU: the pool family (MaxPool, AveragePool, LpPool,
 * GlobalAveragePool, GlobalMaxPool): 1-D, 2-D and 3-D windows, strides,
 * dilations, padding with and without count_include_pad, ceil_mode,
 * MaxPool's Indices output, and the GPU forms (CLCNN_OCL_VARIANT=gpu).
 *
 * Tolerance 1e-5 relative (|a - b| <= tol * (1 + |b|)): max is exact, the
 * averages sum a window (or a plane, which the CPU adds in double) in
 * another order, Lp adds powers. Sizes are odd (1, 3, 7, 17, 33) so that
 * vectors along a row are partial and windows meet the padding. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_harness.h"

#define TOL 1e-5f

static void pool(const char *op, int opset, int rank, const int64_t *dims, const ht_attr *a,
                 int na, int nout) {
  ht_input x = {.name = "X", .rank = rank};
  memcpy(x.dims, dims, sizeof(int64_t) * (size_t)rank);
  ht_result r = ht_run(op, opset, &x, 1, nout, a, na, TOL);
  ck_assert_msg(r == HT_PASS, "%s failed", op);
}

#define D4(...) 4, (int64_t[]){__VA_ARGS__}

START_TEST(maxpool) {
  ht_attr k3s2[] = {HT_INTS("kernel_shape", 3, 3), HT_INTS("strides", 2, 2),
                    HT_INTS("pads", 1, 1, 1, 1)};
  pool("MaxPool", 12, D4(1, 3, 17, 33), k3s2, 3, 1);       /* ResNet's */
  ht_attr k2[] = {HT_INTS("kernel_shape", 2, 2), HT_INTS("strides", 2, 2)};
  pool("MaxPool", 12, D4(2, 5, 7, 9), k2, 2, 1);
  ht_attr ceil[] = {HT_INTS("kernel_shape", 3, 2), HT_INTS("strides", 2, 3), HT_INT("ceil_mode", 1),
                    HT_INTS("dilations", 2, 1), HT_INTS("pads", 0, 1, 2, 0)};
  pool("MaxPool", 12, D4(1, 2, 17, 19), ceil, 5, 1);
  ht_attr s1[] = {HT_INTS("kernel_shape", 5, 5), HT_INTS("pads", 2, 2, 2, 2)};
  pool("MaxPool", 12, D4(1, 4, 33, 33), s1, 2, 1);       /* stride 1: vector loads */
}
END_TEST

START_TEST(maxpool_indices) {
  ht_attr a[] = {HT_INTS("kernel_shape", 3, 3), HT_INTS("strides", 2, 2),
                 HT_INTS("pads", 1, 1, 1, 1)};
  pool("MaxPool", 12, D4(2, 3, 9, 7), a, 3, 2);
  ht_attr cm[] = {HT_INTS("kernel_shape", 2, 2), HT_INTS("strides", 2, 2),
                  HT_INT("storage_order", 1)};
  pool("MaxPool", 12, D4(1, 2, 7, 6), cm, 3, 2);
}
END_TEST

START_TEST(averagepool) {
  ht_attr pad[] = {HT_INTS("kernel_shape", 3, 3), HT_INTS("strides", 1, 1),
                   HT_INTS("pads", 1, 1, 1, 1)};
  pool("AveragePool", 11, D4(1, 3, 17, 33), pad, 3, 1);
  ht_attr incl[] = {HT_INTS("kernel_shape", 3, 3), HT_INTS("strides", 2, 2),
                    HT_INTS("pads", 1, 2, 1, 0), HT_INT("count_include_pad", 1)};
  pool("AveragePool", 11, D4(2, 3, 9, 11), incl, 4, 1);
  ht_attr ceil[] = {HT_INTS("kernel_shape", 2, 3), HT_INTS("strides", 2, 2), HT_INT("ceil_mode", 1),
                    HT_INTS("dilations", 1, 2)};
  pool("AveragePool", 19, D4(1, 2, 7, 9), ceil, 4, 1);
  ht_attr k7[] = {HT_INTS("kernel_shape", 7, 7)};
  pool("AveragePool", 11, D4(1, 33, 7, 7), k7, 1, 1);   /* a whole-plane window */
}
END_TEST

START_TEST(lppool_1d_3d) {
  ht_attr p2[] = {HT_INTS("kernel_shape", 3, 3), HT_INTS("strides", 2, 2), HT_INT("p", 2)};
  pool("LpPool", 11, D4(1, 3, 9, 10), p2, 3, 1);
  ht_attr p1[] = {HT_INTS("kernel_shape", 2, 2), HT_INT("p", 1), HT_INTS("pads", 1, 1, 1, 1)};
  pool("LpPool", 11, D4(1, 2, 7, 7), p1, 3, 1);
  ht_attr p3[] = {HT_INTS("kernel_shape", 2, 3), HT_INT("p", 3)};
  pool("LpPool", 11, D4(1, 2, 5, 8), p3, 2, 1);
  ht_attr m1[] = {HT_INTS("kernel_shape", 3), HT_INTS("strides", 2), HT_INTS("pads", 1, 1)};
  pool("MaxPool", 12, 3, (int64_t[]){2, 3, 33}, m1, 3, 1);
  pool("AveragePool", 11, 3, (int64_t[]){2, 3, 17}, m1, 3, 1);
  ht_attr m3[] = {HT_INTS("kernel_shape", 2, 2, 2), HT_INTS("strides", 2, 2, 2),
                  HT_INTS("pads", 0, 1, 0, 1, 0, 0)};
  pool("MaxPool", 12, 5, (int64_t[]){1, 2, 5, 6, 7}, m3, 3, 1);
  pool("AveragePool", 11, 5, (int64_t[]){1, 2, 5, 6, 7}, m3, 3, 1);
}
END_TEST

START_TEST(global_pools) {
  int64_t shapes[][4] = {{1, 33, 7, 7}, {2, 3, 17, 19}, {1, 5, 1, 1}};
  for (int i = 0; i < 3; i++) {
    pool("GlobalAveragePool", 13, D4(shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3]),
         NULL, 0, 1);
    pool("GlobalMaxPool", 13, D4(shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3]), NULL,
         0, 1);
  }
  pool("GlobalAveragePool", 13, 3, (int64_t[]){1, 4, 33}, NULL, 0, 1);
}
END_TEST

START_TEST(gpu_forms) {
  setenv("CLCNN_OCL_VARIANT", "gpu", 1);
  ht_attr k3s2[] = {HT_INTS("kernel_shape", 3, 3), HT_INTS("strides", 2, 2),
                    HT_INTS("pads", 1, 1, 1, 1)};
  pool("MaxPool", 12, D4(1, 3, 17, 33), k3s2, 3, 1);
  pool("AveragePool", 11, D4(1, 3, 17, 33), k3s2, 3, 1);
  pool("GlobalAveragePool", 13, D4(2, 3, 17, 19), NULL, 0, 1);
  pool("GlobalMaxPool", 13, D4(1, 5, 1, 1), NULL, 0, 1);
}
END_TEST

/* Tests run in this process (CK_NOFORK): a child forked after OpenCL was
 * initialised lacks PoCL's worker threads and waits for them forever. */
static void restore_env(void) { ht_env_restore(); }

int main(void) {
  if (!ht_have_opencl()) {
    printf("SKIP: no OpenCL device\n");
    return 77;
  }
  Suite *s = suite_create("ops-pool");
  struct {
    const char *name;
    const TTest *test;
  } tests[] = {{"maxpool", maxpool},         {"maxpool_indices", maxpool_indices},
               {"averagepool", averagepool}, {"lppool_1d_3d", lppool_1d_3d},
               {"global_pools", global_pools}, {"gpu_forms", gpu_forms}};
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
