/* OpenCL vs CPU: the unary family (activations), and the activation options
 * that fused kernels use (host/ops/unary.h). Tolerance 1e-5 relative: the
 * same formulas in float on both sides (kernels/common.cl's act_apply);
 * transcendental functions may differ in the last bits. Sizes 1, 3, 7, 17,
 * 33 and a large one, so the vector loop meets every kind of scalar tail;
 * the GPU form (float4, one per work-item) is checked too. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "op_harness.h"
#include "host/kernel_options.h"
#include "ops/unary.h"

#define TOL 1e-5f

static void run1(const char *op, int opset, ht_input x, const ht_attr *a, int na) {
  x.name = "X";
  ht_result r = ht_run(op, opset, &x, 1, 1, a, na, TOL);
  ck_assert_msg(r == HT_PASS, "%s failed", op);
}

#define IN(...) ((ht_input){HT_DIMS(__VA_ARGS__), .lo = -4, .hi = 4})
#define POS(...) ((ht_input){HT_DIMS(__VA_ARGS__), .lo = 0.1f, .hi = 9})

static const char *all_ops[] = {"Relu",     "Sigmoid", "Tanh",      "Exp",  "Neg",
                                "Abs",      "Erf",     "Softplus",  "Mish", "HardSwish",
                                "Elu",      "Selu",    "HardSigmoid", "LeakyRelu", "Gelu"};
#define NOPS (sizeof all_ops / sizeof *all_ops)

START_TEST(activations) {
  for (size_t o = 0; o < NOPS; o++) {
    int opset = strcmp(all_ops[o], "Gelu") ? 13 : 20;
    run1(all_ops[o], opset, IN(1, 3, 17, 19), NULL, 0);
    run1(all_ops[o], opset, IN(2, 5, 1, 7), NULL, 0);
    run1(all_ops[o], opset, IN(1, 1, 1, 1), NULL, 0);
    run1(all_ops[o], opset, IN(33), NULL, 0);
  }
  run1("Relu", 13, IN(1, 64, 56, 56), NULL, 0);
  run1("Sigmoid", 13, IN(1, 64, 56, 56), NULL, 0);
}
END_TEST

START_TEST(positive_domain) {
  const char *ops[] = {"Log", "Sqrt", "Reciprocal"};
  for (size_t o = 0; o < 3; o++) {
    run1(ops[o], 13, POS(3, 7, 11), NULL, 0);
    run1(ops[o], 13, POS(3), NULL, 0);
  }
}
END_TEST

START_TEST(with_attributes) {
  ht_attr alpha = HT_FLOAT("alpha", 0.3f);
  run1("LeakyRelu", 13, IN(2, 3, 9, 9), &alpha, 1);
  run1("Elu", 13, IN(2, 3, 9, 9), &alpha, 1);
  ht_attr hs[2] = {HT_FLOAT("alpha", 0.1f), HT_FLOAT("beta", 0.7f)};
  run1("HardSigmoid", 13, IN(7, 17), hs, 2);
  ht_attr se[2] = {HT_FLOAT("alpha", 1.5f), HT_FLOAT("gamma", 2.0f)};
  run1("Selu", 13, IN(7, 17), se, 2);
  ht_attr gelu = HT_STRING("approximate", "tanh");
  run1("Gelu", 20, IN(4, 33), &gelu, 1);
  /* Clip: min/max as attributes (opset 6 is not read: 7 and later) and as
   * constant inputs (opset 11+), one or both absent. */
  ht_attr clip6[] = {HT_FLOAT("min", 0.0f), HT_FLOAT("max", 6.0f)};
  run1("Clip", 7, (ht_input){HT_DIMS(1, 8, 5, 5), .lo = -9, .hi = 9}, clip6, 2);
  static const float lo = -1.5f, hi = 2.25f;
  ht_input x = {.name = "X", HT_DIMS(2, 3, 17), .lo = -4, .hi = 4};
  ht_input mn = {.name = "min", .rank = 0, .constant = true, .data = &lo};
  ht_input mx = {.name = "max", .rank = 0, .constant = true, .data = &hi};
  ht_input both[3] = {x, mn, mx}, only_max[3] = {x, HT_OMITTED, mx};
  ck_assert(ht_run("Clip", 13, both, 3, 1, NULL, 0, TOL) == HT_PASS);
  ck_assert(ht_run("Clip", 13, only_max, 3, 1, NULL, 0, TOL) == HT_PASS);
  ck_assert(ht_run("Clip", 13, both, 2, 1, NULL, 0, TOL) == HT_PASS); /* min only */
  ck_assert(ht_run("Clip", 13, both, 1, 1, NULL, 0, TOL) == HT_PASS); /* no bounds */
  /* Bounds that are graph inputs: read by the kernel when it runs; min >
   * max gives max, as the CPU backend. */
  ht_input dmn = {.name = "min", .rank = 0, .data = &hi};
  ht_input dmx = {.name = "max", .rank = 0, .data = &lo};
  ht_input dyn[3] = {x, dmn, dmx}, dyn_max[3] = {x, HT_OMITTED, dmx};
  ck_assert(ht_run("Clip", 13, dyn, 3, 1, NULL, 0, TOL) == HT_PASS);
  ck_assert(ht_run("Clip", 13, dyn_max, 3, 1, NULL, 0, TOL) == HT_PASS);
  ck_assert(ht_run("Clip", 13, dyn, 2, 1, NULL, 0, TOL) == HT_PASS);
}
END_TEST

START_TEST(gpu_form) {
  setenv("CLCNN_OCL_VARIANT", "gpu", 1);
  const char *ops[] = {"Relu", "Sigmoid", "HardSwish", "Mish"};
  for (size_t o = 0; o < 4; o++) {
    run1(ops[o], 13, IN(1, 3, 17, 19), NULL, 0);
    run1(ops[o], 13, IN(7), NULL, 0);
  }
  ht_env_restore();
}
END_TEST

/* A literal from ocl_float_literal, parsed back as C would. */
static float parse_literal(const char *s) {
  char buf[OCL_FLOAT_LITERAL_MAX];
  size_t j = 0;
  for (const char *p = s; *p && j + 1 < sizeof buf; p++)
    if (*p != '(' && *p != ')' && *p != 'f') buf[j++] = *p;
  buf[j] = 0;
  if (!strcmp(buf, "INFINITY")) return INFINITY;
  if (!strcmp(buf, "-INFINITY")) return -INFINITY;
  if (!strcmp(buf, "NAN")) return NAN;
  return strtof(buf, NULL);
}

START_TEST(float_literals) {
  const float v[] = {0.0f, -0.0f, 1.0f, -2.0f, 0.1f, 1.0f / 6.0f, 1e-5f, 6.0f, FLT_MAX,
                     -FLT_MAX, FLT_MIN, 1e-45f, 3.4e38f, 1.67326319217681884765625f,
                     1234567.0f, 1e30f, INFINITY, -INFINITY};
  char lit[OCL_FLOAT_LITERAL_MAX];
  for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
    ocl_float_literal(v[i], lit);
    float back = parse_literal(lit);
    ck_assert_msg(memcmp(&back, &v[i], sizeof back) == 0, "%.9g -> '%s' -> %.9g", (double)v[i],
                  lit, (double)back);
    /* A float literal needs a '.' or an exponent before the suffix. */
    ck_assert_msg(isinf(v[i]) || strpbrk(lit, ".e"), "'%s' is not a float literal", lit);
  }
  ocl_float_literal(NAN, lit);
  ck_assert_str_eq(lit, "NAN");
}
END_TEST

START_TEST(activation_options) {
  char buf[512] = "-DK=3";
  ocl_activation_options(-1, NULL, buf, sizeof buf);
  ck_assert_str_eq(buf, "-DK=3");
  unary_params clip = {.min = 0.0f, .max = 6.0f};
  ocl_activation_options(CLCNN_OP_CLIP, &clip, buf, sizeof buf);
  ck_assert_str_eq(buf, "-DK=3 -DACT_CLIP -DACT_MIN=0.0f -DACT_MAX=6.0f");
  buf[0] = 0;
  ocl_activation_options(CLCNN_OP_LEAKYRELU, NULL, buf, sizeof buf); /* defaults */
  ck_assert_str_eq(buf, " -DACT_LEAKYRELU -DACT_ALPHA=0.00999999978f");
  buf[0] = 0;
  unary_params gelu = {.approximate = GELU_APPROX_TANH};
  ocl_activation_options(CLCNN_OP_GELU, &gelu, buf, sizeof buf);
  ck_assert_str_eq(buf, " -DACT_GELU -DACT_GELU_TANH");
  buf[0] = 0;
  unary_params open_clip = {.min = -INFINITY, .max = 1.5f};
  ocl_activation_options(CLCNN_OP_CLIP, &open_clip, buf, sizeof buf);
  ck_assert_str_eq(buf, " -DACT_CLIP -DACT_MIN=(-INFINITY) -DACT_MAX=1.5f");
  for (int op = 0; op < CLCNN_OP_COUNT; op++)
    ck_assert_msg(ocl_activation_supported(op) == op_is_activation(op), "%s", op_name(op));
  ck_assert(ocl_activation_supported(-1));
}
END_TEST

int main(void) {
  const ht_test tests[] = {HT_TEST(float_literals), HT_TEST(activation_options), HT_TEST(activations), HT_TEST(positive_domain), HT_TEST(with_attributes), HT_TEST(gpu_form)};
  return ht_main("ops-unary", tests, (int)(sizeof tests / sizeof *tests));
}
