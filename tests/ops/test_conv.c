/* OpenCL vs CPU: the conv family (Conv, ConvTranspose) through every path
 * of host/ops/conv.c: the direct stride-1 kernel, im2col + GEMM, 1x1 as a
 * GEMM, depthwise, ConvTranspose's gather kernel; 1-D, 2-D and 3-D; groups,
 * dilations, strides, asymmetric and automatic padding; fused activations;
 * and the GPU forms of the kernels (CLCNN_OCL_VARIANT=gpu).
 *
 * Tolerance 1e-4 relative (|a - b| <= tol * (1 + |b|)): float sums of up to
 * ~600 products of values in [-1, 1] in another order than the CPU's
 * im2col + OpenBLAS. Sizes are odd (1, 3, 7, 17, 33) so that register
 * tiles, vectors and bands are partial. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_harness.h"
/* Models of two nodes (a convolution and the activation fused into it). */
#include "model_builder.h"

#define TOL 1e-4f

/* Conv of x [N, C, spatial...] with constant W [M, C / group, kernel...]
 * (and bias [M] when `bias`). */
static void conv(int rank, const int64_t *xd, int64_t m, const int64_t *k, bool bias,
                 const ht_attr *a, int na) {
  ht_input in[3] = {{.name = "X", .rank = rank}, {.name = "W", .rank = rank, .constant = true},
                    {.name = "B", .rank = 1, .dims = {m}, .constant = true}};
  int64_t group = 1;
  for (int i = 0; i < na; i++)
    if (!strcmp(a[i].name, "group")) group = a[i].i;
  memcpy(in[0].dims, xd, sizeof(int64_t) * (size_t)rank);
  in[1].dims[0] = m;
  in[1].dims[1] = xd[1] / group;
  for (int i = 2; i < rank; i++) in[1].dims[i] = k[i - 2];
  ht_result r = ht_run("Conv", 11, in, bias ? 3 : 2, 1, a, na, TOL);
  ck_assert_msg(r == HT_PASS, "Conv failed");
}

#define X4(...) 4, (int64_t[]){__VA_ARGS__}
#define K2(...) (int64_t[]){__VA_ARGS__}

static void convt(int rank, const int64_t *xd, int64_t m, const int64_t *k, const ht_attr *a,
                  int na) {
  ht_input in[3] = {{.name = "X", .rank = rank}, {.name = "W", .rank = rank, .constant = true},
                    {.name = "B", .rank = 1, .dims = {m}, .constant = true}};
  int64_t group = 1;
  for (int i = 0; i < na; i++)
    if (!strcmp(a[i].name, "group")) group = a[i].i;
  memcpy(in[0].dims, xd, sizeof(int64_t) * (size_t)rank);
  in[1].dims[0] = xd[1];
  in[1].dims[1] = m / group;
  for (int i = 2; i < rank; i++) in[1].dims[i] = k[i - 2];
  ht_result r = ht_run("ConvTranspose", 11, in, 3, 1, a, na, TOL);
  ck_assert_msg(r == HT_PASS, "ConvTranspose failed");
}


/* op_type (Conv or ConvTranspose) of x [1, C, H, W] with weights of
 * `wdims` and a bias of M, then activation `act`. */
static bool conv_act(const char *op_type, const int64_t *xd, const int64_t *wd, int64_t m,
                     int nconv, const mb_attr *conv_attrs, const char *act, int nact,
                     const mb_attr *act_attrs) {
  mb *b = mb_new(13);
  int64_t wn = wd[0] * wd[1] * wd[2] * wd[3];
  float *w = malloc(sizeof(float) * (size_t)wn), *bias = malloc(sizeof(float) * (size_t)m);
  for (int64_t i = 0; i < wn; i++) w[i] = (float)((i * 37) % 23) / 11.0f - 1.0f;
  for (int64_t i = 0; i < m; i++) bias[i] = (float)(i % 7) / 3.0f - 1.0f;
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, xd);
  mb_init_f32(b, "w", 4, wd, w);
  mb_init_f32(b, "b", 1, (int64_t[]){m}, bias);
  mb_node(b, op_type, "x,w,b", "t", nconv, conv_attrs);
  mb_node(b, act, "t", "y", nact, act_attrs);
  mb_output(b, "y");
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  ht_input x = {.name = "x", .rank = 4, .dims = {xd[0], xd[1], xd[2], xd[3]}};
  bool ok = ht_run_model(op_type, bytes, len, &x, 1, TOL) == HT_PASS;
  free(bytes);
  free(w);
  free(bias);
  mb_free(b);
  return ok;
}

/* A residual connection: Conv of x [N, C, H, W] (weights of `wd`, a bias),
 * then Add with the graph input r of the Conv's output shape (`odims`; the
 * Conv's output first unless `res_first`), then activation `act` (NULL:
 * none). Both backends fuse the Add into the Conv (graph_fuse_residual);
 * the device runs it strictly, so a path without the residual fails. */
static bool conv_res(const int64_t *xd, const int64_t *wd, const int64_t *odims, int nconv,
                     const mb_attr *conv_attrs, bool res_first, const char *act, int nact,
                     const mb_attr *act_attrs) {
  mb *b = mb_new(13);
  const int64_t m = wd[0], wn = wd[0] * wd[1] * wd[2] * wd[3];
  float *w = malloc(sizeof(float) * (size_t)wn), *bias = malloc(sizeof(float) * (size_t)m);
  for (int64_t i = 0; i < wn; i++) w[i] = (float)((i * 37) % 23) / 11.0f - 1.0f;
  for (int64_t i = 0; i < m; i++) bias[i] = (float)(i % 7) / 3.0f - 1.0f;
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, xd);
  mb_input(b, "r", CLCNN_DTYPE_FLOAT32, 4, odims);
  mb_init_f32(b, "w", 4, wd, w);
  mb_init_f32(b, "b", 1, (int64_t[]){m}, bias);
  mb_node(b, "Conv", "x,w,b", "t", nconv, conv_attrs);
  mb_node(b, "Add", res_first ? "r,t" : "t,r", act ? "s" : "y", 0, NULL);
  if (act) mb_node(b, act, "s", "y", nact, act_attrs);
  mb_output(b, "y");
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  ht_input in[2] = {{.name = "x", .rank = 4, .dims = {xd[0], xd[1], xd[2], xd[3]}},
                    {.name = "r", .rank = 4, .dims = {odims[0], odims[1], odims[2], odims[3]}}};
  bool ok = ht_run_model("Conv+Add", bytes, len, in, 2, TOL) == HT_PASS;
  free(bytes);
  free(w);
  free(bias);
  mb_free(b);
  return ok;
}

/* ------------------------------------------------------------------ Conv */

START_TEST(conv_direct) {
  ht_attr p1[] = {HT_INTS("pads", 1, 1, 1, 1)};
  conv(X4(1, 3, 17, 19), 8, K2(3, 3), true, p1, 1);
  conv(X4(1, 64, 14, 14), 64, K2(3, 3), true, p1, 1);     /* ResNet-like */
  ht_attr g2[] = {HT_INTS("pads", 1, 1, 1, 1), HT_INT("group", 2)};
  conv(X4(2, 8, 7, 7), 34, K2(3, 3), true, g2, 2);        /* batch, groups, partial tiles */
  ht_attr dil[] = {HT_INTS("pads", 2, 0, 1, 2), HT_INTS("dilations", 2, 3)};
  conv(X4(1, 4, 13, 11), 7, K2(3, 2), false, dil, 2);     /* asymmetric pads */
  ht_attr same[] = {HT_STRING("auto_pad", "SAME_UPPER")};
  conv(X4(1, 3, 6, 7), 4, K2(4, 4), true, same, 1);
  conv(X4(1, 2, 3, 3), 3, K2(3, 3), true, NULL, 0);       /* a 1x1 output */
}
END_TEST

START_TEST(conv_im2col) {
  ht_attr s2[] = {HT_INTS("pads", 1, 1, 1, 1), HT_INTS("strides", 2, 2)};
  conv(X4(2, 4, 9, 10), 33, K2(3, 3), false, s2, 2);
  ht_attr s2g[] = {HT_INTS("strides", 2, 3), HT_INT("group", 3), HT_INTS("dilations", 1, 2)};
  conv(X4(1, 6, 11, 13), 9, K2(2, 3), true, s2g, 3);
  ht_attr s2_1x1[] = {HT_INTS("strides", 2, 2)};
  conv(X4(1, 16, 7, 7), 8, K2(1, 1), true, s2_1x1, 1);    /* ResNet downsample */
  ht_attr conv1[] = {HT_INTS("pads", 3, 3, 3, 3), HT_INTS("strides", 2, 2)};
  conv(X4(1, 3, 33, 33), 16, K2(7, 7), true, conv1, 2);   /* ResNet stem */
  /* Stride 1 forced through im2col. */
  setenv("CLCNN_CONV", "im2col", 1);
  ht_attr p1[] = {HT_INTS("pads", 1, 1, 1, 1), HT_INT("group", 2)};
  conv(X4(1, 6, 9, 7), 4, K2(3, 3), true, p1, 2);
}
END_TEST

START_TEST(conv_pointwise) {
  conv(X4(2, 16, 7, 9), 33, K2(1, 1), true, NULL, 0);
  conv(X4(1, 33, 3, 3), 17, K2(1, 1), false, NULL, 0);
  ht_attr g4[] = {HT_INT("group", 4)};
  conv(X4(1, 8, 5, 5), 12, K2(1, 1), true, g4, 1);
}
END_TEST

START_TEST(conv_depthwise) {
  ht_attr p1[] = {HT_INTS("pads", 1, 1, 1, 1), HT_INT("group", 8)};
  conv(X4(1, 8, 17, 33), 8, K2(3, 3), true, p1, 2);
  ht_attr s2[] = {HT_INTS("pads", 1, 1, 1, 1), HT_INT("group", 8), HT_INTS("strides", 2, 2)};
  conv(X4(2, 8, 17, 17), 8, K2(3, 3), true, s2, 3);
  ht_attr mult[] = {HT_INTS("pads", 2, 2, 2, 2), HT_INT("group", 3), HT_INTS("dilations", 2, 1)};
  conv(X4(1, 3, 9, 7), 6, K2(3, 3), true, mult, 3);       /* channel multiplier 2 */
  ht_attr s3[] = {HT_INTS("pads", 2, 2, 2, 2), HT_INT("group", 4), HT_INTS("strides", 3, 3)};
  conv(X4(1, 4, 19, 40), 4, K2(5, 5), false, s3, 3);
}
END_TEST

START_TEST(conv_1d_3d) {
  ht_attr p1[] = {HT_INTS("pads", 1, 1)};
  conv(3, (int64_t[]){2, 4, 33}, 5, K2(3), true, p1, 1);
  ht_attr s2[] = {HT_INTS("strides", 2), HT_INT("group", 4)};
  conv(3, (int64_t[]){1, 4, 17}, 4, K2(3), true, s2, 2); /* 1-D depthwise */
  ht_attr t1[] = {HT_INTS("strides", 2)};
  convt(3, (int64_t[]){1, 2, 17}, 1, K2(4), t1, 1);      /* 1-D ConvTranspose */
  ht_attr p3[] = {HT_INTS("pads", 1, 1, 1, 1, 1, 1)};
  conv(5, (int64_t[]){1, 2, 5, 6, 7}, 3, K2(3, 3, 3), true, p3, 1);
}
END_TEST

START_TEST(conv_fused) {
  mb_attr p1[] = {MB_INTS("pads", 1, 1, 1, 1)};
  ck_assert(conv_act("Conv", (int64_t[]){1, 8, 9, 9}, (int64_t[]){16, 8, 3, 3}, 16, 1, p1,
                     "Relu", 0, NULL));
  mb_attr dw[] = {MB_INTS("pads", 1, 1, 1, 1), MB_INT("group", 8)};
  ck_assert(conv_act("Conv", (int64_t[]){1, 8, 9, 9}, (int64_t[]){8, 1, 3, 3}, 8, 2, dw, "Clip",
                     2, (mb_attr[]){MB_FLOAT("min", 0.0f), MB_FLOAT("max", 0.5f)}));
  ck_assert(conv_act("Conv", (int64_t[]){1, 8, 9, 9}, (int64_t[]){16, 8, 1, 1}, 16, 0, NULL,
                     "HardSwish", 0, NULL));
  mb_attr t[] = {MB_INTS("strides", 2, 2)};
  ck_assert(conv_act("ConvTranspose", (int64_t[]){1, 4, 5, 5}, (int64_t[]){4, 6, 3, 3}, 6, 1,
                     t, "LeakyRelu", 1, (mb_attr[]){MB_FLOAT("alpha", 0.2f)}));
}
END_TEST

/* Residual Adds fused into the convolution's epilogue on every path that
 * takes them (direct, im2col, 1x1 GEMM, the GPU forms; CLBlast's epilogue
 * kernel when the suite runs with CLCNN_GEMM=clblast), with the
 * activations passed at run time (Relu, Clip, LeakyRelu, none) and one
 * built in (HardSwish). */
START_TEST(conv_residual) {
  mb_attr p1[] = {MB_INTS("pads", 1, 1, 1, 1)};
  mb_attr s2[] = {MB_INTS("pads", 1, 1, 1, 1), MB_INTS("strides", 2, 2)};
  mb_attr clip[] = {MB_FLOAT("min", -0.5f), MB_FLOAT("max", 0.75f)};
  mb_attr leaky[] = {MB_FLOAT("alpha", 0.1f)};
  for (int form = 0; form < 3; form++) {
    if (form == 1) setenv("CLCNN_OCL_VARIANT", "gpu", 1);
    if (form == 2) setenv("CLCNN_CONV", "im2col", 1); /* stride 1 through im2col */
    /* 3x3 stride 1 (direct on CPU devices), partial tiles, batch 2. */
    ck_assert(conv_res((int64_t[]){2, 5, 9, 11}, (int64_t[]){33, 5, 3, 3},
                       (int64_t[]){2, 33, 9, 11}, 1, p1, false, "Relu", 0, NULL));
    ck_assert(conv_res((int64_t[]){1, 8, 7, 13}, (int64_t[]){16, 8, 3, 3},
                       (int64_t[]){1, 16, 7, 13}, 1, p1, true, "Clip", 2, clip));
    /* 3x3 stride 2 (im2col). */
    ck_assert(conv_res((int64_t[]){1, 6, 17, 15}, (int64_t[]){12, 6, 3, 3},
                       (int64_t[]){1, 12, 9, 8}, 2, s2, false, "LeakyRelu", 1, leaky));
    /* 1x1 (a GEMM of the image), no activation and a built-in one. */
    ck_assert(conv_res((int64_t[]){2, 16, 7, 9}, (int64_t[]){24, 16, 1, 1},
                       (int64_t[]){2, 24, 7, 9}, 0, NULL, false, NULL, 0, NULL));
    ck_assert(conv_res((int64_t[]){1, 16, 5, 5}, (int64_t[]){17, 16, 1, 1},
                       (int64_t[]){1, 17, 5, 5}, 0, NULL, true, "HardSwish", 0, NULL));
    ht_env_restore();
  }
}
END_TEST

/* Layers big enough (over 4M multiply-adds per image) that the CPU backend
 * runs them through oneDNN's convolution kernels where the build has oneDNN
 * (runtime/cpu/conv_dnnl.c): channel counts that leave partial 16- and
 * 8-channel blocks, batch 2, strides, dilations and asymmetric pads, a stem
 * with 3 input channels, a fused activation, and a strided 1x1 (which stays
 * on im2col + SGEMM); compared with the OpenCL device's own kernels. */
START_TEST(conv_cpu_onednn) {
  ht_attr odd[] = {HT_INTS("pads", 0, 1, 2, 1), HT_INTS("strides", 2, 1),
                   HT_INTS("dilations", 1, 2)};
  conv(X4(2, 24, 33, 31), 50, K2(3, 3), true, odd, 3);
  ht_attr stem[] = {HT_INTS("pads", 3, 3, 3, 3), HT_INTS("strides", 2, 2)};
  conv(X4(1, 3, 65, 65), 32, K2(7, 7), true, stem, 2);
  ht_attr down[] = {HT_INTS("strides", 2, 2)};
  conv(X4(1, 128, 28, 28), 256, K2(1, 1), false, down, 1);
  ht_attr p1[] = {HT_INTS("pads", 1, 1, 1, 1)};
  conv(X4(1, 40, 23, 23), 72, K2(3, 3), true, p1, 1);
  mb_attr mp1[] = {MB_INTS("pads", 1, 1, 1, 1)};
  ck_assert(conv_act("Conv", (int64_t[]){1, 64, 20, 20}, (int64_t[]){48, 64, 3, 3}, 48, 1, mp1,
                     "Clip", 2, (mb_attr[]){MB_FLOAT("min", 0.0f), MB_FLOAT("max", 6.0f)}));
}
END_TEST

/* The GPU forms (work-items of one output, the local-memory GEMM behind
 * im2col) run on any device. */
START_TEST(conv_gpu_form) {
  setenv("CLCNN_OCL_VARIANT", "gpu", 1);
  ht_attr p1[] = {HT_INTS("pads", 1, 1, 1, 1)};
  conv(X4(1, 5, 9, 11), 33, K2(3, 3), true, p1, 1);
  ht_attr dw[] = {HT_INTS("pads", 1, 1, 1, 1), HT_INT("group", 8), HT_INTS("strides", 2, 2)};
  conv(X4(1, 8, 17, 17), 8, K2(3, 3), true, dw, 3);
}
END_TEST

/* --------------------------------------------------------- ConvTranspose */

START_TEST(conv_transpose) {
  ht_attr up[] = {HT_INTS("strides", 2, 2), HT_INTS("pads", 1, 1, 1, 1),
                  HT_INTS("output_padding", 1, 1)};
  convt(4, (int64_t[]){1, 4, 5, 7}, 3, K2(3, 3), up, 3);
  ht_attr g[] = {HT_INTS("strides", 3, 2), HT_INT("group", 2), HT_INTS("dilations", 2, 1)};
  convt(4, (int64_t[]){2, 4, 7, 6}, 18, K2(3, 2), g, 3);
  ht_attr shape[] = {HT_INTS("strides", 2, 2), HT_INTS("output_shape", 10, 8)};
  convt(4, (int64_t[]){1, 3, 5, 4}, 8, K2(3, 3), shape, 2);
  ht_attr p3[] = {HT_INTS("strides", 2, 1, 2)};
  convt(5, (int64_t[]){1, 2, 3, 4, 5}, 5, K2(2, 3, 2), p3, 1);
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
  Suite *s = suite_create("ops-conv");
  struct {
    const char *name;
    const TTest *test;
  } tests[] = {{"conv_direct", conv_direct},       {"conv_im2col", conv_im2col},
               {"conv_pointwise", conv_pointwise}, {"conv_depthwise", conv_depthwise},
               {"conv_1d_3d", conv_1d_3d},         {"conv_fused", conv_fused},
               {"conv_gpu_form", conv_gpu_form},   {"conv_transpose", conv_transpose},
               {"conv_cpu_onednn", conv_cpu_onednn}, {"conv_residual", conv_residual}};
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
