/* OpenCL vs CPU: the indexing family. Only GatherElements with constant
 * indices has an OpenCL kernel; it only moves elements, so both backends
 * must agree bit for bit (tolerance 0). Odd shapes, every axis, negative
 * indices, int64 data, indices smaller than the data outside the axis. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "op_harness.h"

#define I64 CLCNN_DTYPE_INT64

static void expect_pass(const char *op, int opset, const ht_input *in, int nin,
                        const ht_attr *a, int na) {
  ht_result r = ht_run(op, opset, in, nin, 1, a, na, 0.0f);
  ck_assert_msg(r == HT_PASS, "%s failed", op);
}

START_TEST(gather_elements) {
  /* Random indices in [0, hi] along each axis of a [3, 17, 5, 7] tensor,
   * with fewer elements than the data along every other axis. */
  const int64_t xd[4] = {3, 17, 5, 7};
  for (int axis = 0; axis < 4; axis++) {
    ht_input in[2] = {{.name = "X", HT_DIMS(3, 17, 5, 7)},
                      {.name = "I", .dtype = I64, HT_DIMS(2, 9, 4, 7), .constant = true,
                       .hi = (float)(xd[axis] - 1)}};
    in[1].dims[axis] = 11; /* any length along the axis */
    ht_attr a = HT_INT("axis", axis - (axis == 3 ? 4 : 0)); /* the last one as -1 */
    expect_pass("GatherElements", 13, in, 2, &a, 1);
  }
  /* Negative indices and int64 data. */
  static const int64_t idx[12] = {-1, 0, 2, -3, 1, 1, -2, 2, 0, -1, -1, 0};
  ht_input neg[2] = {{.name = "X", .dtype = I64, HT_DIMS(3, 4), .lo = -100, .hi = 100},
                     {.name = "I", .dtype = I64, HT_DIMS(3, 4), .constant = true, .data = idx}};
  ht_attr a0 = HT_INT("axis", 0);
  expect_pass("GatherElements", 11, neg, 2, &a0, 1);
}
END_TEST

int main(void) {
  const ht_test tests[] = {HT_TEST(gather_elements)};
  return ht_main("ops-indexing", tests, (int)(sizeof tests / sizeof *tests));
}
