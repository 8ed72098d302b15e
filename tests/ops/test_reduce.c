/* OpenCL vs CPU: ReduceMean, ReduceSum, ReduceMax over axis sets that hit
 * both kernels (innermost dim reduced: contiguous runs; innermost kept:
 * vectors of adjacent outputs with a scalar tail), keepdims 0 and 1, axes as
 * an attribute (opset 13) and as an input (opset 18; ReduceSum 13), empty
 * axes (all, or a copy with noop_with_empty_axes). Tolerance 1e-5: sums in
 * float on the device, in double on the CPU, of values in [-1, 1] (ReduceMax
 * is exact). The GPU form (a work-group per output) is checked too. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "op_harness.h"

#define TOL 1e-5f

static const char *ops[3] = {"ReduceMean", "ReduceSum", "ReduceMax"};

/* Axes as an attribute (opset 13; ReduceSum takes them as input there). */
static void run_attr(const char *op, ht_input x, const int64_t *axes, int naxes, int keep) {
  x.name = "X";
  ht_attr a[2] = {HT_INT("keepdims", keep), HT_INT("keepdims", keep)};
  int na = 1;
  if (naxes > 0) {
    a[1] = (ht_attr){.name = "axes", .type = 7, .n = naxes};
    for (int i = 0; i < naxes; i++) a[1].ints[i] = axes[i];
    na = 2;
  }
  ck_assert_msg(ht_run(op, 13, &x, 1, 1, a, na, TOL) == HT_PASS, "%s failed", op);
}

/* Axes as a constant input (opset 18). */
static void run_input(const char *op, ht_input x, const int64_t *axes, int naxes, int keep,
                      int noop) {
  x.name = "X";
  ht_input in[2] = {x, {.name = "axes", .dtype = CLCNN_DTYPE_INT64, .rank = 1,
                        .dims = {naxes}, .constant = true, .data = axes}};
  ht_attr a[2] = {HT_INT("keepdims", keep), HT_INT("noop_with_empty_axes", noop)};
  ck_assert_msg(ht_run(op, 18, in, naxes || noop ? 2 : 1, 1, a, 2, TOL) == HT_PASS,
                "%s failed", op);
}

#define IN(...) ((ht_input){HT_DIMS(__VA_ARGS__)})

static void axis_grid(const char *op) {
  static const int64_t a1[] = {1}, a23[] = {2, 3}, a02[] = {0, 2}, a3[] = {-1}, a13[] = {1, 3};
  const bool attr = op[6] != 'S'; /* ReduceSum has no axes attribute at opset 13 */
  struct { const int64_t *ax; int n; } sets[] = {{a1, 1}, {a23, 2}, {a02, 2}, {a3, 1},
                                                 {a13, 2}, {NULL, 0}};
  for (size_t s = 0; s < sizeof sets / sizeof *sets; s++)
    for (int keep = 0; keep < 2; keep++) {
      if (attr)
        run_attr(op, IN(2, 3, 7, 17), sets[s].ax, sets[s].n, keep);
      else
        run_input(op, IN(2, 3, 7, 17), sets[s].ax, sets[s].n, keep, 0);
    }
}

START_TEST(axes) {
  for (int o = 0; o < 3; o++) axis_grid(ops[o]);
}
END_TEST

START_TEST(shapes) {
  static const int64_t hw[] = {2, 3}, last[] = {-1}, c[] = {1};
  for (int o = 0; o < 3; o++) {
    run_input(ops[o], IN(1, 64, 56, 56), hw, 2, 1, 0);   /* global average pool */
    run_input(ops[o], IN(1, 1000), last, 1, 0, 0);       /* a long row */
    run_input(ops[o], IN(1, 33, 5, 3), c, 1, 1, 0);      /* over channels */
    run_input(ops[o], IN(3, 1, 1), c, 1, 0, 0);          /* a size-1 axis */
    run_input(ops[o], IN(2, 7), NULL, 0, 1, 1);          /* noop: a copy */
  }
}
END_TEST

START_TEST(gpu_form) {
  static const int64_t hw[] = {2, 3}, a02[] = {0, 2}, last[] = {-1};
  setenv("CLCNN_OCL_VARIANT", "gpu", 1);
  for (int o = 0; o < 3; o++) {
    run_input(ops[o], IN(1, 8, 33, 33), hw, 2, 1, 0);
    run_input(ops[o], IN(2, 3, 7, 17), a02, 2, 0, 0);
    run_input(ops[o], IN(3, 1000), last, 1, 0, 0);
  }
  ht_env_restore();
}
END_TEST

int main(void) {
  const ht_test tests[] = {HT_TEST(axes), HT_TEST(shapes), HT_TEST(gpu_form)};
  return ht_main("ops-reduce", tests, (int)(sizeof tests / sizeof *tests));
}
