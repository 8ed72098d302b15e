/* OpenCL vs CPU: the unary family (activations). Tolerance 1e-5 relative:
 * the same formulas in float on both sides, transcendental functions may
 * differ in the last bits. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "op_harness.h"

#define TOL 1e-5f

static void run1(const char *op, int opset, ht_input x, const ht_attr *a, int na) {
  ht_result r = ht_run(op, opset, &x, 1, 1, a, na, TOL);
  ck_assert_msg(r == HT_PASS, "%s failed", op);
}

START_TEST(activations) {
  const char *ops[] = {"Relu", "Sigmoid", "Tanh", "Exp", "Neg", "Abs", "Erf", "Softplus",
                       "Mish", "HardSwish", "Elu", "Selu", "HardSigmoid", "LeakyRelu"};
  int64_t shapes[][4] = {{1, 3, 17, 19}, {2, 5, 1, 7}, {1, 1, 1, 1}, {1, 64, 28, 28}};
  for (size_t o = 0; o < sizeof ops / sizeof *ops; o++)
    for (int s = 0; s < 4; s++)
      run1(ops[o], 13,
           (ht_input){.name = "X", .rank = 4,
                      .dims = {shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3]}, .lo = -4,
                      .hi = 4},
           NULL, 0);
}
END_TEST

START_TEST(positive_domain) {
  const char *ops[] = {"Log", "Sqrt", "Reciprocal"};
  for (size_t o = 0; o < 3; o++)
    run1(ops[o], 13, (ht_input){.name = "X", HT_DIMS(3, 7, 11), .lo = 0.1f, .hi = 9}, NULL, 0);
}
END_TEST

START_TEST(with_attributes) {
  ht_attr alpha = HT_FLOAT("alpha", 0.3f);
  run1("LeakyRelu", 13, HT_INPUT("X", 2, 3, 9, 9), &alpha, 1);
  run1("Elu", 13, HT_INPUT("X", 2, 3, 9, 9), &alpha, 1);
  ht_attr clip6[] = {HT_FLOAT("min", 0.0f), HT_FLOAT("max", 6.0f)};
  run1("Clip", 6, (ht_input){.name = "X", HT_DIMS(1, 8, 5, 5), .lo = -9, .hi = 9}, clip6, 2);
  ht_attr gelu = HT_STRING("approximate", "tanh");
  run1("Gelu", 20, HT_INPUT("X", 4, 33), &gelu, 1);
  run1("Gelu", 20, HT_INPUT("X", 4, 33), NULL, 0);
}
END_TEST

int main(void) {
  if (!ht_have_opencl()) {
    printf("SKIP: no OpenCL device\n");
    return 77;
  }
  Suite *s = suite_create("ops-unary");
  TCase *tc = tcase_create("unary");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, activations);
  tcase_add_test(tc, positive_domain);
  tcase_add_test(tc, with_attributes);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
