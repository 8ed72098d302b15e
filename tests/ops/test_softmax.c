/* OpenCL vs CPU: Softmax and LogSoftmax on every axis, before and after
 * opset 13 (which coerced the input to 2D at the axis). Tolerance 1e-5:
 * exp within a few ulp, sums in float on the device and in double on the
 * CPU. Rows (axis last) and columns (axis inside, vectors of adjacent
 * positions with a scalar tail) on odd sizes; the GPU form of the rows
 * kernel (a work-group per row) too (CLCNN_OCL_VARIANT=gpu). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "op_harness.h"

#define TOL 1e-5f

static void run_axis(const char *op, int opset, ht_input x, int64_t axis) {
  x.name = "X";
  x.lo = -6;
  x.hi = 6;
  ht_attr a = HT_INT("axis", axis);
  ck_assert_msg(ht_run(op, opset, &x, 1, 1, &a, 1, TOL) == HT_PASS, "%s axis %lld failed", op,
                (long long)axis);
}

#define IN(...) ((ht_input){HT_DIMS(__VA_ARGS__)})

static void grid(const char *op) {
  for (int axis = -1; axis < 4; axis++) run_axis(op, 13, IN(2, 3, 7, 17), axis);
  run_axis(op, 13, IN(1, 1000), 1);      /* classifier */
  run_axis(op, 13, IN(1, 21, 33, 33), 1); /* per-pixel classes */
  run_axis(op, 13, IN(3, 1), -1);         /* rows of one */
  run_axis(op, 11, IN(2, 3, 7, 5), 1);    /* coerced to 2D: 2 x 105 */
  run_axis(op, 11, IN(2, 3, 7, 5), 2);
}

START_TEST(softmax) { grid("Softmax"); }
END_TEST

START_TEST(logsoftmax) { grid("LogSoftmax"); }
END_TEST

START_TEST(gpu_form) {
  setenv("CLCNN_OCL_VARIANT", "gpu", 1);
  run_axis("Softmax", 13, IN(1, 1000), 1);
  run_axis("LogSoftmax", 13, IN(7, 33), -1);
  run_axis("Softmax", 13, IN(3, 1), -1);
  run_axis("Softmax", 13, IN(2, 3, 7, 17), 2);
  ht_env_restore();
}
END_TEST

int main(void) {
  const ht_test tests[] = {HT_TEST(softmax), HT_TEST(logsoftmax), HT_TEST(gpu_form)};
  return ht_main("ops-softmax", tests, (int)(sizeof tests / sizeof *tests));
}
