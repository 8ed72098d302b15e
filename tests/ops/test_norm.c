/* OpenCL vs CPU: the norm family. Tolerances: BatchNormalization 1e-6 (the
 * same folded scale and shift, one multiply-add); Instance, Layer and Group
 * normalisation 1e-4 (statistics summed in float on the device, in double on
 * the CPU); LRN 1e-5 (pow within a few ulp). Rows are odd (1, 3, 7, 17, 33
 * long) so vector loops meet scalar tails; the GPU form (a work-group per
 * row with a __local reduction) is checked too (CLCNN_OCL_VARIANT=gpu). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "op_harness.h"
/* Models of two nodes (a BatchNormalization and the activation fused into it). */
#include "model_builder.h"

#define TOL_BN 1e-6f
#define TOL_STATS 1e-4f
#define TOL_LRN 1e-5f

#define X(...) ((ht_input){.name = "X", HT_DIMS(__VA_ARGS__), .lo = -3, .hi = 5})
#define W(nm, ...) ((ht_input){.name = nm, .constant = true, HT_DIMS(__VA_ARGS__)})
#define IN1(nm, ...) ((ht_input){.name = nm, HT_DIMS(__VA_ARGS__)})
#define VAR(nm, ...) \
  ((ht_input){.name = nm, .constant = true, HT_DIMS(__VA_ARGS__), .lo = 0.1f, .hi = 2})

static void expect(const char *op, int opset, const ht_input *in, int nin, int nout,
                   const ht_attr *a, int na, float tol) {
  ck_assert_msg(ht_run(op, opset, in, nin, nout, a, na, tol) == HT_PASS, "%s failed", op);
}

static void batchnorm(int64_t n, int64_t c, int64_t h, int64_t w) {
  ht_input in[5] = {X(n, c, h, w), W("scale", c), W("B", c), W("mean", c), VAR("var", c)};
  ht_attr eps = HT_FLOAT("epsilon", 1e-3f);
  expect("BatchNormalization", 15, in, 5, 1, &eps, 1, TOL_BN);
}

static void instancenorm(int64_t n, int64_t c, int64_t h, int64_t w) {
  ht_input in[3] = {X(n, c, h, w), W("scale", c), W("B", c)};
  expect("InstanceNormalization", 13, in, 3, 1, NULL, 0, TOL_STATS);
}

static void groupnorm(int opset, int64_t n, int64_t c, int64_t h, int64_t w, int64_t groups) {
  int64_t k = opset >= 21 ? c : groups;
  ht_input in[3] = {X(n, c, h, w), W("scale", k), W("bias", k)};
  ht_attr a[2] = {HT_INT("num_groups", groups), HT_FLOAT("epsilon", 1e-5f)};
  expect("GroupNormalization", opset, in, 3, 1, a, 2, TOL_STATS);
}

static void stat_families(void) {
  instancenorm(1, 3, 17, 19);
  instancenorm(2, 5, 7, 1);
  instancenorm(1, 4, 33, 33);
  groupnorm(18, 1, 6, 7, 5, 3);
  groupnorm(21, 2, 8, 3, 7, 4);
  groupnorm(21, 1, 32, 17, 17, 8);
  ht_input ln[3] = {X(2, 7, 33), W("Scale", 33), W("B", 33)};
  expect("LayerNormalization", 17, ln, 3, 1, NULL, 0, TOL_STATS);
}

START_TEST(batch_normalization) {
  batchnorm(1, 3, 17, 19);
  batchnorm(2, 5, 7, 1);
  batchnorm(1, 33, 1, 1);
  batchnorm(2, 16, 28, 28);
  /* Statistics per element (opset 7, spatial = 0). */
  ht_input in[5] = {X(2, 3, 5), W("scale", 3, 5), W("B", 3, 5), W("mean", 3, 5),
                    VAR("var", 3, 5)};
  ht_attr sp = HT_INT("spatial", 0);
  expect("BatchNormalization", 7, in, 5, 1, &sp, 1, TOL_BN);
  /* Statistics that are graph inputs: folded by the kernel, in float. */
  ht_input dyn[5] = {X(2, 7, 5, 9), IN1("scale", 7), IN1("B", 7), IN1("mean", 7),
                     (ht_input){.name = "var", HT_DIMS(7), .lo = 0.1f, .hi = 2}};
  expect("BatchNormalization", 15, dyn, 5, 1, NULL, 0, TOL_STATS);
}
END_TEST

/* BatchNormalization of x (constant statistics) followed by `act`, which
 * the runtime fuses into it (DenseNet's BN + Relu). */
static bool batchnorm_act(const int64_t *xd, const char *act, int nact, const mb_attr *act_attrs) {
  const int64_t c = xd[1];
  mb *b = mb_new(15);
  float *st[4];
  const char *names[4] = {"scale", "bias", "mean", "var"};
  for (int k = 0; k < 4; k++) {
    st[k] = malloc(sizeof(float) * (size_t)c);
    for (int64_t i = 0; i < c; i++)
      st[k][i] = k == 3 ? 0.2f + (float)(i % 5) / 4.0f : (float)((i * (k + 3)) % 11) / 5.0f - 1.0f;
    mb_init_f32(b, names[k], 1, &c, st[k]);
  }
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, xd);
  mb_node(b, "BatchNormalization", "x,scale,bias,mean,var", "t", 0, NULL);
  mb_node(b, act, "t", "y", nact, act_attrs);
  mb_output(b, "y");
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  ht_input x = {.name = "x", .rank = 4, .dims = {xd[0], xd[1], xd[2], xd[3]}, .lo = -3, .hi = 5};
  bool ok = ht_run_model("BatchNormalization+act", bytes, len, &x, 1, TOL_BN) == HT_PASS;
  free(bytes);
  for (int k = 0; k < 4; k++) free(st[k]);
  mb_free(b);
  return ok;
}

START_TEST(batch_normalization_act) {
  ck_assert(batchnorm_act((int64_t[]){2, 7, 9, 11}, "Relu", 0, NULL));
  ck_assert(batchnorm_act((int64_t[]){1, 33, 1, 1}, "Clip", 2,
                          (mb_attr[]){MB_FLOAT("min", -0.5f), MB_FLOAT("max", 0.5f)}));
  ck_assert(batchnorm_act((int64_t[]){1, 16, 28, 28}, "LeakyRelu", 1,
                          (mb_attr[]){MB_FLOAT("alpha", 0.1f)}));
}
END_TEST

START_TEST(instance_group) {
  stat_families();
  instancenorm(1, 2, 1, 1); /* rows of one element */
  groupnorm(18, 2, 4, 1, 1, 1);
}
END_TEST

START_TEST(layer_normalization) {
  ht_input in[3] = {X(2, 7, 33), W("Scale", 33), W("B", 33)};
  expect("LayerNormalization", 17, in, 3, 1, NULL, 0, TOL_STATS);
  ht_attr ax[1] = {HT_INT("axis", 1)};
  ht_input in2[3] = {X(3, 5, 17), W("Scale", 5, 17), W("B", 17)}; /* B broadcasts */
  expect("LayerNormalization", 17, in2, 3, 1, ax, 1, TOL_STATS);
  ht_input in3[2] = {X(1, 197, 768), W("Scale", 768)}; /* no bias, a ViT row */
  expect("LayerNormalization", 17, in3, 2, 1, NULL, 0, TOL_STATS);
  ht_input in4[3] = {X(4, 3), (ht_input){.name = "Scale", HT_DIMS(3)}, W("B", 1)};
  ht_attr eps = HT_FLOAT("epsilon", 1e-3f);
  expect("LayerNormalization", 17, in4, 3, 3, &eps, 1, TOL_STATS); /* mean, inv std too */
}
END_TEST

START_TEST(lrn) {
  ht_attr a[4] = {HT_INT("size", 5), HT_FLOAT("alpha", 1e-4f), HT_FLOAT("beta", 0.75f),
                  HT_FLOAT("bias", 2.0f)};
  ht_input x = X(1, 16, 13, 13);
  expect("LRN", 13, &x, 1, 1, a, 4, TOL_LRN);
  ht_attr b[2] = {HT_INT("size", 4), HT_FLOAT("alpha", 0.5f)};
  ht_input x2 = X(2, 7, 3, 17);
  expect("LRN", 13, &x2, 1, 1, b, 2, TOL_LRN);
  ht_attr c[1] = {HT_INT("size", 1)};
  ht_input x3 = X(1, 3, 1, 1);
  expect("LRN", 13, &x3, 1, 1, c, 1, TOL_LRN);
}
END_TEST

START_TEST(gpu_form) {
  setenv("CLCNN_OCL_VARIANT", "gpu", 1);
  batchnorm(1, 3, 17, 19);
  ck_assert(batchnorm_act((int64_t[]){2, 7, 9, 11}, "Relu", 0, NULL));
  stat_families();
  ht_input in3[2] = {X(1, 197, 768), W("Scale", 768)};
  expect("LayerNormalization", 17, in3, 2, 1, NULL, 0, TOL_STATS);
  ht_attr a[1] = {HT_INT("size", 3)};
  ht_input x = X(1, 7, 5, 9);
  expect("LRN", 13, &x, 1, 1, a, 1, TOL_LRN);
  ht_env_restore();
}
END_TEST

int main(void) {
  const ht_test tests[] = {HT_TEST(batch_normalization), HT_TEST(batch_normalization_act),
                           HT_TEST(instance_group),      HT_TEST(layer_normalization),
                           HT_TEST(lrn),                 HT_TEST(gpu_form)};
  return ht_main("ops-norm", tests, (int)(sizeof tests / sizeof *tests));
}
