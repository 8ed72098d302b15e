/* OpenCL vs CPU: the layout family (Concat, Split, Slice, Transpose, Gather,
 * Tile, Expand, Pad). Tolerance 0: these operators only move elements, so
 * both backends must agree bit for bit. Shapes are odd on purpose (1, 3, 7,
 * 17, 33) so that vector loads meet partial chunks and transposes meet
 * partial tiles. */
#include <check.h>
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

/* A constant int64 vector input. */
static ht_input ints(const char *name, int n, const int64_t *v) {
  return (ht_input){.name = name, .dtype = I64, .rank = 1, .dims = {n}, .constant = true,
                    .data = v};
}

START_TEST(concat) {
  int64_t shapes[][4] = {{1, 3, 17, 19}, {2, 5, 7, 1}, {1, 33, 1, 3}};
  for (int s = 0; s < 3; s++)
    for (int axis = -1; axis < 4; axis++) {
      ht_input in[3];
      for (int i = 0; i < 3; i++) {
        in[i] = (ht_input){.name = i == 0 ? "A" : i == 1 ? "B" : "C", .rank = 4};
        for (int d = 0; d < 4; d++) in[i].dims[d] = shapes[s][d];
        int a = axis < 0 ? 3 : axis;
        in[i].dims[a] += i; /* the parts differ along the axis */
      }
      ht_attr a = HT_INT("axis", axis);
      expect_pass("Concat", 13, in, 3, 1, &a, 1);
    }
  /* Many inputs along channels, as in a DenseNet block. */
  ht_input many[16];
  static const char *names[16] = {"i0", "i1", "i2", "i3", "i4", "i5", "i6", "i7",
                                  "i8", "i9", "i10", "i11", "i12", "i13", "i14", "i15"};
  for (int i = 0; i < 16; i++)
    many[i] = (ht_input){.name = names[i], HT_DIMS(1, i == 0 ? 64 : 32, 7, 7)};
  ht_attr a1 = HT_INT("axis", 1);
  expect_pass("Concat", 13, many, 16, 1, &a1, 1);
  /* Very unequal parts (one launch per part rather than one for all). */
  ht_input uneq[5] = {HT_INPUT("A", 2, 100, 3, 5), HT_INPUT("B", 2, 1, 3, 5),
                      HT_INPUT("C", 2, 1, 3, 5), HT_INPUT("D", 2, 2, 3, 5),
                      HT_INPUT("E", 2, 1, 3, 5)};
  expect_pass("Concat", 13, uneq, 5, 1, &a1, 1);
  /* int64 data, a constant input, an empty part. */
  ht_input mixed[3] = {{.name = "A", .dtype = I64, HT_DIMS(3, 5), .lo = -50, .hi = 50},
                       {.name = "B", .dtype = I64, HT_DIMS(3, 2), .constant = true, .hi = 9},
                       {.name = "C", .dtype = I64, HT_DIMS(3, 0)}};
  expect_pass("Concat", 13, mixed, 3, 1, &a1, 1);
}
END_TEST

START_TEST(split) {
  ht_input x = HT_INPUT("X", 2, 12, 7, 5);
  ht_attr ax1 = HT_INT("axis", 1);
  expect_pass("Split", 13, &x, 1, 3, &ax1, 1);  /* equal parts */
  int64_t sizes[] = {1, 8, 3};
  ht_input xs[2] = {x, ints("split", 3, sizes)};
  expect_pass("Split", 13, xs, 2, 3, &ax1, 1);
  ht_attr ax3[] = {HT_INT("axis", -1), HT_INTS("split", 2, 3)};
  expect_pass("Split", 11, &x, 1, 2, ax3, 2);
  ht_attr ax0 = HT_INT("axis", 0);
  expect_pass("Split", 13, &x, 1, 2, &ax0, 1);
  int64_t uneven_sizes[] = {40, 1, 2, 1, 1};
  ht_input big = HT_INPUT("X", 2, 45, 3);
  ht_input bs[2] = {big, ints("split", 5, uneven_sizes)};
  expect_pass("Split", 13, bs, 2, 5, &ax1, 1);
  ht_input odd = HT_INPUT("X", 3, 17);
  ht_attr uneven[] = {HT_INT("axis", 1), HT_INT("num_outputs", 3)};
  expect_pass("Split", 18, &odd, 1, 3, uneven, 2); /* 6, 6, 5 */
}
END_TEST

START_TEST(slice) {
  ht_input x = HT_INPUT("X", 2, 7, 17, 33);
  struct {
    int n;
    int64_t starts[4], ends[4], axes[4], steps[4];
  } cases[] = {
      {1, {1}, {6}, {1}, {1}},                       /* channels */
      {2, {2, 3}, {-2, 30}, {2, 3}, {1, 1}},         /* spatial crop */
      {2, {0, 0}, {17, 33}, {2, 3}, {2, 2}},         /* every other element */
      {1, {-1}, {-100}, {3}, {-1}},                  /* reversed W */
      {2, {16, 32}, {-100, -100}, {2, 3}, {-3, -2}}, /* reversed with steps */
      {1, {5}, {2}, {1}, {1}},                       /* empty */
      {4, {1, 0, 1, 1}, {2, 7, 16, 32}, {0, 1, 2, 3}, {1, 3, 5, 7}},
      {1, {0}, {1}, {-1}, {1}},                      /* W = 1 */
  };
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    ht_input in[5] = {x, ints("starts", cases[c].n, cases[c].starts),
                      ints("ends", cases[c].n, cases[c].ends),
                      ints("axes", cases[c].n, cases[c].axes),
                      ints("steps", cases[c].n, cases[c].steps)};
    expect_pass("Slice", 13, in, 5, 1, NULL, 0);
  }
  /* opset 9 attributes */
  ht_attr a[] = {HT_INTS("starts", 1, 2), HT_INTS("ends", 3, 9), HT_INTS("axes", 1, 3)};
  expect_pass("Slice", 9, &x, 1, 1, a, 3);
  /* int64 data */
  ht_input xi = {.name = "X", .dtype = I64, HT_DIMS(5, 9), .lo = -1000, .hi = 1000};
  int64_t s0[] = {1}, e0[] = {8}, a0[] = {1}, st0[] = {2};
  ht_input in[5] = {xi, ints("starts", 1, s0), ints("ends", 1, e0), ints("axes", 1, a0),
                    ints("steps", 1, st0)};
  expect_pass("Slice", 13, in, 5, 1, NULL, 0);
}
END_TEST

START_TEST(transpose) {
  int64_t perms[][4] = {{0, 2, 3, 1}, {0, 3, 1, 2}, {1, 0, 2, 3}, {0, 1, 3, 2},
                        {3, 2, 1, 0}, {2, 0, 3, 1}};
  int64_t shapes[][4] = {{1, 3, 17, 19}, {2, 33, 7, 9}};
  for (int p = 0; p < 6; p++)
    for (int s = 0; s < 2; s++) {
      ht_input x = {.name = "X", .rank = 4,
                    .dims = {shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3]}};
      ht_attr a = HT_INTS("perm", perms[p][0], perms[p][1], perms[p][2], perms[p][3]);
      expect_pass("Transpose", 13, &x, 1, 1, &a, 1);
    }
  ht_input ones = HT_INPUT("X", 3, 1, 5, 1); /* size-1 axes vanish */
  ht_attr a1 = HT_INTS("perm", 0, 2, 3, 1);
  expect_pass("Transpose", 13, &ones, 1, 1, &a1, 1);
  ht_input m = HT_INPUT("X", 33, 17);
  expect_pass("Transpose", 13, &m, 1, 1, NULL, 0); /* default: reverse */
  ht_input m2 = HT_INPUT("X", 64, 40);
  expect_pass("Transpose", 13, &m2, 1, 1, NULL, 0);
  /* channel shuffle: [N, g, C/g, H, W] -> [N, C/g, g, H, W] */
  ht_input sh = HT_INPUT("X", 1, 2, 29, 7, 7);
  ht_attr a5 = HT_INTS("perm", 0, 2, 1, 3, 4);
  expect_pass("Transpose", 13, &sh, 1, 1, &a5, 1);
  ht_input x6 = HT_INPUT("X", 2, 3, 4, 5, 3, 2);
  ht_attr a6 = HT_INTS("perm", 5, 3, 1, 0, 2, 4);
  expect_pass("Transpose", 13, &x6, 1, 1, &a6, 1);
  ht_input xi = {.name = "X", .dtype = I64, HT_DIMS(9, 17), .lo = -1000, .hi = 1000};
  expect_pass("Transpose", 13, &xi, 1, 1, NULL, 0);
}
END_TEST

START_TEST(gather) {
  ht_input x = HT_INPUT("X", 5, 7, 9, 11);
  int64_t idx[] = {0, 4, -1, 2, 2, -5};
  for (int axis = -1; axis < 4; axis++) {
    ht_input in[2] = {x, ints("I", 6, idx)};
    ht_attr a = HT_INT("axis", axis);
    expect_pass("Gather", 13, in, 2, 1, &a, 1);
  }
  /* scalar index (drops the axis), 2-D indices, int32 indices */
  int64_t one = 3;
  ht_input sc[2] = {x, {.name = "I", .dtype = I64, .rank = 0, .constant = true, .data = &one}};
  ht_attr a1 = HT_INT("axis", 1);
  expect_pass("Gather", 13, sc, 2, 1, &a1, 1);
  int64_t idx2[] = {1, 0, 3, 6, 5, 2};
  ht_input two[2] = {x, {.name = "I", .dtype = I64, HT_DIMS(2, 3), .constant = true, .data = idx2}};
  expect_pass("Gather", 13, two, 2, 1, &a1, 1);
  int32_t idx32[] = {8, 0, -2};
  ht_input i32[2] = {x, {.name = "I", .dtype = CLCNN_DTYPE_INT32, HT_DIMS(3), .constant = true,
                         .data = idx32}};
  ht_attr a2 = HT_INT("axis", 2);
  expect_pass("Gather", 13, i32, 2, 1, &a2, 1);
  /* embedding-like: many rows of a table */
  ht_input table = HT_INPUT("X", 50, 33);
  int64_t rows[40];
  for (int i = 0; i < 40; i++) rows[i] = (i * 37) % 50;
  ht_input emb[2] = {table, ints("I", 40, rows)};
  ht_attr a0 = HT_INT("axis", 0);
  expect_pass("Gather", 13, emb, 2, 1, &a0, 1);
}
END_TEST

START_TEST(tile_expand) {
  ht_input x = HT_INPUT("X", 2, 3, 5, 7);
  int64_t reps[][4] = {{1, 1, 1, 1}, {2, 1, 1, 1}, {1, 3, 1, 1}, {1, 1, 2, 3}, {2, 2, 2, 2}};
  for (int r = 0; r < 5; r++) {
    ht_input in[2] = {x, ints("repeats", 4, reps[r])};
    expect_pass("Tile", 13, in, 2, 1, NULL, 0);
  }
  struct {
    int rx, rs;
    int64_t xd[4], sd[5];
  } ex[] = {
      {4, 4, {1, 3, 1, 1}, {2, 3, 17, 19}},   /* per-channel value */
      {2, 4, {17, 1}, {1, 3, 17, 33}},        /* new leading axes */
      {1, 3, {1}, {5, 7, 9}},                 /* scalar-like */
      {3, 3, {3, 1, 7}, {3, 9, 7}},           /* middle axis */
      {2, 5, {5, 1}, {2, 1, 3, 5, 17}},
      {2, 2, {4, 33}, {1, 33}},               /* shape smaller than input */
  };
  for (size_t c = 0; c < sizeof ex / sizeof *ex; c++) {
    ht_input in[2] = {{.name = "X", .rank = ex[c].rx}, ints("shape", ex[c].rs, ex[c].sd)};
    for (int d = 0; d < ex[c].rx; d++) in[0].dims[d] = ex[c].xd[d];
    expect_pass("Expand", 13, in, 2, 1, NULL, 0);
  }
}
END_TEST

START_TEST(pad) {
  ht_input x = HT_INPUT("X", 1, 3, 17, 19);
  const char *modes[] = {"constant", "reflect", "edge", "wrap"};
  int64_t pads[][8] = {
      {0, 0, 1, 1, 0, 0, 1, 1},    /* conv-style spatial */
      {0, 0, 3, 2, 0, 0, 1, 5},    /* uneven */
      {1, 0, -2, 7, 0, 2, 3, -4},  /* batch, channels, negative: crop */
  };
  for (int m = 0; m < 4; m++)
    for (int p = 0; p < 3; p++) {
      ht_input in[2] = {x, ints("pads", 8, pads[p])};
      ht_attr a = HT_STRING("mode", modes[m]);
      expect_pass("Pad", m == 3 ? 19 : 13, in, 2, 1, &a, 1);
    }
  /* constant value from a constant input, and from a graph input */
  float v = 2.5f;
  ht_input cv[3] = {x, ints("pads", 8, pads[1]),
                    {.name = "V", .rank = 0, .constant = true, .data = &v}};
  expect_pass("Pad", 13, cv, 3, 1, NULL, 0);
  ht_input gv[3] = {x, ints("pads", 8, pads[0]), {.name = "V", .rank = 0}};
  expect_pass("Pad", 13, gv, 3, 1, NULL, 0);
  /* opset 10 attributes, with value */
  ht_attr a2[] = {HT_STRING("mode", "constant"), HT_INTS("pads", 0, 0, 2, 2, 0, 0, 2, 2),
                  HT_FLOAT("value", -1.0f)};
  expect_pass("Pad", 10, &x, 1, 1, a2, 3);
  /* reflect wider than the axis, 2-D */
  ht_input small = HT_INPUT("X", 3, 4);
  int64_t wide[] = {2, 7, 3, 9};
  ht_input ws[2] = {small, ints("pads", 4, wide)};
  ht_attr refl = HT_STRING("mode", "reflect");
  expect_pass("Pad", 13, ws, 2, 1, &refl, 1);
  /* int64 data, axes input (opset 18) */
  ht_input xi = {.name = "X", .dtype = I64, HT_DIMS(4, 5, 6), .lo = -99, .hi = 99};
  int64_t p3[] = {1, 2, 3, 0}, ax[] = {0, 2};
  ht_input ia[4] = {xi, ints("pads", 4, p3), HT_OMITTED, ints("axes", 2, ax)};
  ht_attr edge = HT_STRING("mode", "edge");
  expect_pass("Pad", 18, ia, 4, 1, &edge, 1);
}
END_TEST

int main(void) {
  const ht_test tests[] = {HT_TEST(concat), HT_TEST(split), HT_TEST(slice), HT_TEST(transpose), HT_TEST(gather), HT_TEST(tile_expand), HT_TEST(pad)};
  return ht_main("ops-layout", tests, (int)(sizeof tests / sizeof *tests));
}
