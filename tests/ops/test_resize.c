/* OpenCL vs CPU: the resize family (Resize, Upsample, GridSample). Nearest mode only
 * moves elements: tolerance 0. Linear and cubic modes use the CPU's own
 * tables of indices and weights and its order of operations; the device may
 * fuse a multiply and an add (-cl-mad-enable), hence a tolerance of 1e-5
 * relative. Odd sizes (7, 9, 17) make the coordinate modes disagree, so a
 * wrong formula shows. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "op_harness.h"

#define TOL_NEAREST 0.0f
#define TOL_INTERP 1e-5f

static void expect_pass(const char *op, int opset, const ht_input *in, int nin,
                        const ht_attr *a, int na, float tol) {
  ht_result r = ht_run(op, opset, in, nin, 1, a, na, tol);
  ck_assert_msg(r == HT_PASS, "%s failed", op);
}

static ht_input floats(const char *name, int n, const float *v) {
  return (ht_input){.name = name, .rank = 1, .dims = {n}, .constant = true, .data = v};
}

static ht_input ints(const char *name, int n, const int64_t *v) {
  return (ht_input){.name = name, .dtype = CLCNN_DTYPE_INT64, .rank = 1, .dims = {n},
                    .constant = true, .data = v};
}

static const char *coords[] = {"half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel",
                               "tf_half_pixel_for_nearest"};

START_TEST(nearest) {
  static const float up2[] = {1, 1, 2, 2}, down[] = {1, 1, 0.6f, 0.45f}, odd[] = {1, 1, 1.7f, 2.3f};
  const float *scales[] = {up2, down, odd};
  const char *modes[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  ht_input x = HT_INPUT("X", 1, 3, 7, 9);
  for (int c = 0; c < 5; c++)
    for (int m = 0; m < 4; m++)
      for (int s = 0; s < 3; s++) {
        if (s == 0 && m > 0 && c > 0) continue; /* 2x: every mode agrees; keep the grid short */
        ht_input in[3] = {x, HT_OMITTED, floats("scales", 4, scales[s])};
        ht_attr a[] = {HT_STRING("mode", "nearest"),
                       HT_STRING("coordinate_transformation_mode", coords[c]),
                       HT_STRING("nearest_mode", modes[m])};
        expect_pass("Resize", 13, in, 3, a, 3, TOL_NEAREST);
      }
  /* sizes instead of scales; int64 data; rank 3 */
  int64_t sizes[] = {2, 3, 17, 4};
  ht_input in2[4] = {HT_INPUT("X", 2, 3, 7, 9), HT_OMITTED, HT_OMITTED, ints("sizes", 4, sizes)};
  ht_attr nm = HT_STRING("mode", "nearest");
  expect_pass("Resize", 13, in2, 4, &nm, 1, TOL_NEAREST);
  ht_input xi = {.name = "X", .dtype = CLCNN_DTYPE_INT64, HT_DIMS(1, 2, 5, 5), .lo = -99, .hi = 99};
  ht_input in3[3] = {xi, HT_OMITTED, floats("scales", 4, up2)};
  expect_pass("Resize", 13, in3, 3, &nm, 1, TOL_NEAREST);
  static const float s3[] = {2, 1, 3};
  ht_input in4[3] = {HT_INPUT("X", 3, 5, 7), HT_OMITTED, floats("scales", 3, s3)};
  expect_pass("Resize", 13, in4, 3, &nm, 1, TOL_NEAREST);
  /* tf_crop_and_resize with extrapolation */
  static const float roi[] = {0, 0, 0.2f, -0.3f, 1, 1, 0.9f, 1.4f};
  ht_input in5[3] = {x, floats("roi", 8, roi), floats("scales", 4, odd)};
  ht_attr crop[] = {HT_STRING("mode", "nearest"),
                    HT_STRING("coordinate_transformation_mode", "tf_crop_and_resize"),
                    HT_FLOAT("extrapolation_value", -7.5f)};
  expect_pass("Resize", 13, in5, 3, crop, 3, TOL_NEAREST);
  /* Resize-10 and Upsample (the legacy nearest rule), axes (opset 18) */
  ht_input in6[2] = {x, floats("scales", 4, down)};
  expect_pass("Resize", 10, in6, 2, &nm, 1, TOL_NEAREST);
  ht_input in7[2] = {x, floats("scales", 4, up2)};
  expect_pass("Upsample", 9, in7, 2, &nm, 1, TOL_NEAREST);
  ht_attr up7[] = {HT_STRING("mode", "nearest"), HT_FLOATS("scales", 1, 1, 2, 3)};
  expect_pass("Upsample", 7, &x, 1, up7, 2, TOL_NEAREST);
  int64_t sz2[] = {11, 4};
  ht_input in8[4] = {x, HT_OMITTED, HT_OMITTED, ints("sizes", 2, sz2)};
  ht_attr ax[] = {HT_STRING("mode", "nearest"), HT_INTS("axes", 2, 3),
                  HT_STRING("keep_aspect_ratio_policy", "not_larger")};
  expect_pass("Resize", 18, in8, 4, ax, 3, TOL_NEAREST);
}
END_TEST

START_TEST(linear) {
  static const float up2[] = {1, 1, 2, 2}, down[] = {1, 1, 0.6f, 0.45f},
                     mixed[] = {1, 1, 1.7f, 0.8f}, wonly[] = {1, 1, 1, 2.5f},
                     honly[] = {1, 1, 3, 1};
  const float *scales[] = {up2, down, mixed, wonly, honly};
  ht_input x = HT_INPUT("X", 1, 3, 7, 9);
  ht_attr lin = HT_STRING("mode", "linear");
  for (int c = 0; c < 4; c++)
    for (int s = 0; s < 5; s++) {
      if (c > 0 && s >= 3) continue;
      ht_input in[3] = {x, HT_OMITTED, floats("scales", 4, scales[s])};
      ht_attr a[] = {lin, HT_STRING("coordinate_transformation_mode", coords[c])};
      expect_pass("Resize", 13, in, 3, a, 2, TOL_INTERP);
    }
  /* half_pixel_symmetric (opset 19), sizes, a width of 1, rank 2 */
  int64_t sizes[] = {2, 3, 17, 1};
  ht_input in2[4] = {HT_INPUT("X", 2, 3, 7, 9), HT_OMITTED, HT_OMITTED, ints("sizes", 4, sizes)};
  ht_attr sym[] = {lin, HT_STRING("coordinate_transformation_mode", "half_pixel_symmetric")};
  expect_pass("Resize", 19, in2, 4, sym, 2, TOL_INTERP);
  expect_pass("Resize", 13, in2, 4, &lin, 1, TOL_INTERP);
  static const float s2[] = {2.5f, 1.5f};
  ht_input in3[3] = {HT_INPUT("X", 5, 4), HT_OMITTED, floats("scales", 2, s2)};
  expect_pass("Resize", 13, in3, 3, &lin, 1, TOL_INTERP);
  /* tf_crop_and_resize with extrapolation */
  static const float roi[] = {0, 0, 0.2f, -0.3f, 1, 1, 0.9f, 1.4f};
  ht_input in5[3] = {x, floats("roi", 8, roi), floats("scales", 4, mixed)};
  ht_attr crop[] = {lin, HT_STRING("coordinate_transformation_mode", "tf_crop_and_resize"),
                    HT_FLOAT("extrapolation_value", 3.25f)};
  expect_pass("Resize", 13, in5, 3, crop, 3, TOL_INTERP);
  /* antialiased downsampling (opset 18), Upsample linear */
  static const float aa[] = {1, 1, 0.4f, 0.3f};
  ht_input in6[3] = {HT_INPUT("X", 1, 2, 17, 33), HT_OMITTED, floats("scales", 4, aa)};
  ht_attr anti[] = {lin, HT_INT("antialias", 1)};
  expect_pass("Resize", 18, in6, 3, anti, 2, TOL_INTERP);
  ht_input in7[2] = {x, floats("scales", 4, up2)};
  expect_pass("Upsample", 9, in7, 2, &lin, 1, TOL_INTERP);
  /* a larger image (several work-items per row) */
  ht_input in8[3] = {HT_INPUT("X", 1, 8, 33, 35), HT_OMITTED, floats("scales", 4, up2)};
  ht_attr pt[] = {lin, HT_STRING("coordinate_transformation_mode", "pytorch_half_pixel")};
  expect_pass("Resize", 13, in8, 3, pt, 2, TOL_INTERP);
}
END_TEST

START_TEST(cubic) {
  static const float up[] = {1, 1, 2, 1.5f}, down[] = {1, 1, 0.6f, 0.45f};
  ht_input x = HT_INPUT("X", 1, 3, 7, 9);
  ht_input in[3] = {x, HT_OMITTED, floats("scales", 4, up)};
  ht_attr a[] = {HT_STRING("mode", "cubic"), HT_FLOAT("cubic_coeff_a", -0.5f),
                 HT_INT("exclude_outside", 1)};
  expect_pass("Resize", 13, in, 3, a, 1, TOL_INTERP);
  expect_pass("Resize", 13, in, 3, a, 3, TOL_INTERP);
  ht_attr ac[] = {HT_STRING("mode", "cubic"),
                  HT_STRING("coordinate_transformation_mode", "align_corners")};
  expect_pass("Resize", 13, in, 3, ac, 2, TOL_INTERP);
  ht_input ind[3] = {x, HT_OMITTED, floats("scales", 4, down)};
  ht_attr anti[] = {HT_STRING("mode", "cubic"), HT_INT("antialias", 1)};
  expect_pass("Resize", 18, ind, 3, anti, 2, TOL_INTERP);
}
END_TEST

/* GridSample: the device computes in float what the CPU computes in double
 * (coordinates, weights, sums), hence 1e-4. The grid reaches past [-1, 1]
 * so that every padding mode matters. 25 kernel builds: about 2 minutes on
 * PoCL when its cache is cold, 1 s warm. */
START_TEST(gridsample) {
  const char *modes16[] = {"bilinear", "nearest", "bicubic"};
  const char *modes20[] = {"linear", "nearest", "cubic"};
  const char *pads[] = {"zeros", "border", "reflection"};
  ht_input in2[2] = {HT_INPUT("X", 2, 3, 7, 9),
                     {.name = "grid", HT_DIMS(2, 5, 6, 2), .lo = -1.3f, .hi = 1.3f}};
  ht_input in3[2] = {HT_INPUT("X", 1, 2, 4, 5, 6),
                     {.name = "grid", HT_DIMS(1, 3, 4, 5, 3), .lo = -1.2f, .hi = 1.2f}};
  for (int m = 0; m < 3; m++)
    for (int pd = 0; pd < 3; pd++)
      for (int ac = 0; ac < 2; ac++) {
        ht_attr a[] = {HT_STRING("mode", modes16[m]), HT_STRING("padding_mode", pads[pd]),
                       HT_INT("align_corners", ac)};
        expect_pass("GridSample", 16, in2, 2, a, 3, 1e-4f);
        /* Volumes (opset 20 names): fewer variants, each is a kernel build. */
        if (ac != (m == 1) || (m == 2 && pd != 2)) continue;
        a[0] = (ht_attr)HT_STRING("mode", modes20[m]);
        expect_pass("GridSample", 22, in3, 2, a, 3, 1e-4f);
      }
}
END_TEST

int main(void) {
  const ht_test tests[] = {HT_TEST(nearest), HT_TEST(linear), HT_TEST(cubic),
                           HT_TEST(gridsample)};
  return ht_main("ops-resize", tests, (int)(sizeof tests / sizeof *tests));
}
