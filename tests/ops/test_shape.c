/* OpenCL vs CPU: the shape family that runs on devices (Reshape, Flatten,
 * Squeeze, Unsqueeze, Identity, Dropout, Cast). Tolerance 0: copies must be
 * exact, and Cast must convert exactly as the CPU backend does (rounding,
 * saturation, NaN). Shape, Constant and ConstantOfShape are folded at load
 * time and never reach a device. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "op_harness.h"

#define TOL 0.0f
#define I64 CLCNN_DTYPE_INT64

static void expect_pass(const char *op, int opset, const ht_input *in, int nin, int nout,
                        const ht_attr *a, int na) {
  ht_result r = ht_run(op, opset, in, nin, nout, a, na, TOL);
  ck_assert_msg(r == HT_PASS, "%s failed", op);
}

static ht_input ints(const char *name, int n, const int64_t *v) {
  return (ht_input){.name = name, .dtype = I64, .rank = 1, .dims = {n}, .constant = true,
                    .data = v};
}

START_TEST(copies) {
  ht_input x = HT_INPUT("X", 2, 3, 17, 7);
  int64_t shp[] = {2, -1, 7}, shp0[] = {0, 0, -1};
  ht_input r1[2] = {x, ints("shape", 3, shp)};
  expect_pass("Reshape", 13, r1, 2, 1, NULL, 0);
  ht_input r2[2] = {x, ints("shape", 3, shp0)};
  expect_pass("Reshape", 14, r2, 2, 1, NULL, 0);
  ht_attr ax = HT_INT("axis", 2);
  expect_pass("Flatten", 13, &x, 1, 1, &ax, 1);
  ht_input s = HT_INPUT("X", 1, 33, 1, 1);
  int64_t sq[] = {2, 3};
  ht_input s1[2] = {s, ints("axes", 2, sq)};
  expect_pass("Squeeze", 13, s1, 2, 1, NULL, 0);
  expect_pass("Squeeze", 13, &s, 1, 1, NULL, 0);
  ht_attr sqa = HT_INTS("axes", 0);
  expect_pass("Squeeze", 11, &s, 1, 1, &sqa, 1);
  int64_t usq[] = {0, -1};
  ht_input u1[2] = {HT_INPUT("X", 5, 3), ints("axes", 2, usq)};
  expect_pass("Unsqueeze", 13, u1, 2, 1, NULL, 0);
  expect_pass("Identity", 13, &x, 1, 1, NULL, 0);
  ht_input xi = {.name = "X", .dtype = I64, HT_DIMS(3, 1, 5), .lo = -1000, .hi = 1000};
  expect_pass("Identity", 13, &xi, 1, 1, NULL, 0);
  ht_input one = HT_INPUT("X", 1);
  expect_pass("Identity", 13, &one, 1, 1, NULL, 0);
  ht_input tiny = HT_INPUT("X", 1, 3, 1);
  int64_t shp2[] = {3};
  ht_input r3[2] = {tiny, ints("shape", 1, shp2)};
  expect_pass("Reshape", 13, r3, 2, 1, NULL, 0);
}
END_TEST

START_TEST(dropout) {
  ht_input x = HT_INPUT("X", 2, 5, 9, 9);
  expect_pass("Dropout", 13, &x, 1, 1, NULL, 0);
  expect_pass("Dropout", 13, &x, 1, 2, NULL, 0); /* with the (bool) mask */
  expect_pass("Dropout", 7, &x, 1, 2, NULL, 0);  /* mask of the input type */
}
END_TEST

START_TEST(cast) {
  static const float special[] = {NAN, INFINITY, -INFINITY, 2.5f, -2.5f, 1e10f, -1e10f,
                                  0.0f, -0.0f, 127.9f, 255.5f, -128.7f, 65519.0f, 65520.0f,
                                  3.0e-8f, -7.0f, 0.49f, 1.0f, 2147483520.0f, -3e9f, 100.0f};
  const int ns = (int)(sizeof special / sizeof *special);
  const clcnn_dtype to[] = {CLCNN_DTYPE_INT32, CLCNN_DTYPE_INT64, CLCNN_DTYPE_INT8,
                            CLCNN_DTYPE_UINT8, CLCNN_DTYPE_BOOL, CLCNN_DTYPE_FLOAT16,
                            CLCNN_DTYPE_FLOAT32};
  for (size_t t = 0; t < sizeof to / sizeof *to; t++) {
    ht_attr a = HT_INT("to", to[t]);
    ht_input sx = {.name = "X", .rank = 1, .dims = {ns}, .data = special};
    expect_pass("Cast", 13, &sx, 1, 1, &a, 1);
    ht_input rx = {.name = "X", HT_DIMS(3, 7, 33), .lo = -300, .hi = 300};
    expect_pass("Cast", 13, &rx, 1, 1, &a, 1);
  }
  /* integers to floats and to each other (wrap-around when narrowing) */
  const clcnn_dtype from[] = {CLCNN_DTYPE_INT64, CLCNN_DTYPE_INT32};
  const clcnn_dtype ito[] = {CLCNN_DTYPE_FLOAT32, CLCNN_DTYPE_INT64, CLCNN_DTYPE_INT32,
                             CLCNN_DTYPE_INT8, CLCNN_DTYPE_UINT8, CLCNN_DTYPE_BOOL};
  for (int f = 0; f < 2; f++)
    for (size_t t = 0; t < sizeof ito / sizeof *ito; t++) {
      ht_attr a = HT_INT("to", ito[t]);
      ht_input x = {.name = "X", .dtype = from[f], HT_DIMS(5, 17), .lo = -40000, .hi = 40000};
      expect_pass("Cast", 13, &x, 1, 1, &a, 1);
    }
  static const int64_t big[] = {16777217, -16777217, 9007199254740993LL, INT64_MIN, INT64_MAX, 0};
  ht_input bx = {.name = "X", .dtype = I64, HT_DIMS(6), .data = big};
  ht_attr f32 = HT_INT("to", CLCNN_DTYPE_FLOAT32);
  expect_pass("Cast", 13, &bx, 1, 1, &f32, 1);
  /* bool and half sources */
  static const uint8_t bools[] = {0, 1, 2, 255, 0, 1, 0};
  ht_input bo = {.name = "X", .dtype = CLCNN_DTYPE_BOOL, HT_DIMS(7), .data = bools};
  expect_pass("Cast", 13, &bo, 1, 1, &f32, 1);
  ht_attr i64 = HT_INT("to", I64);
  expect_pass("Cast", 13, &bo, 1, 1, &i64, 1);
  static const uint16_t halves[] = {0x0000, 0x8000, 0x3c00, 0xc000, 0x7bff, 0xfbff, 0x0001,
                                    0x03ff, 0x7c00, 0xfc00, 0x7e00, 0x3555, 0x5640};
  ht_input hx = {.name = "X", .dtype = CLCNN_DTYPE_FLOAT16, HT_DIMS(13), .data = halves};
  expect_pass("Cast", 13, &hx, 1, 1, &f32, 1);
  ht_attr i32 = HT_INT("to", CLCNN_DTYPE_INT32);
  expect_pass("Cast", 13, &hx, 1, 1, &i32, 1);
}
END_TEST

int main(void) {
  const ht_test tests[] = {HT_TEST(copies), HT_TEST(dropout), HT_TEST(cast)};
  return ht_main("ops-shape", tests, (int)(sizeof tests / sizeof *tests));
}
