/* OpenCL vs CPU: the binary family with numpy broadcasting. Tolerances:
 * Add, Sub, Mul, Div, PRelu, Max, Min, Sum, Mean 1e-6 (IEEE operations, the
 * same order on both sides; only a contracted multiply-add may differ), Pow
 * 1e-5 (OpenCL's pow is within 16 ulp). Shapes cover each kernel path: same
 * shape (one row, vectors plus a partial tail), a scalar operand on either
 * side, a per-channel [C, 1, 1] operand, and general strided broadcasts
 * (both operands broadcast, short rows); the GPU form of the kernel is
 * checked on a few of them too (CLCNN_OCL_VARIANT=gpu). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_harness.h"

#define TOL 1e-6f
#define TOL_POW 1e-5f

static void run2(const char *op, ht_input a, ht_input b, float tol) {
  a.name = "A";
  b.name = "B";
  ht_input in[2] = {a, b};
  ht_result r = ht_run(op, 13, in, 2, 1, NULL, 0, tol);
  ck_assert_msg(r == HT_PASS, "%s failed", op);
}

#define IN(...) ((ht_input){HT_DIMS(__VA_ARGS__)})
#define POS(...) ((ht_input){HT_DIMS(__VA_ARGS__), .lo = 0.5f, .hi = 2.0f})
#define SCALAR ((ht_input){.rank = 0})
#define POS0 ((ht_input){.rank = 0, .lo = 0.5f, .hi = 2.0f})

/* The broadcast patterns of CNNs and a few general ones. */
static void patterns(const char *op) {
  const bool div = op[0] == 'D';
  run2(op, IN(1, 3, 17, 19), div ? POS(1, 3, 17, 19) : IN(1, 3, 17, 19), TOL); /* same */
  run2(op, IN(33), div ? POS(33) : IN(33), TOL);
  run2(op, IN(2, 5, 7), div ? POS(1) : IN(1), TOL);                 /* scalar b */
  run2(op, IN(1, 3, 7, 7), div ? POS0 : SCALAR, TOL);               /* rank-0 b */
  run2(op, IN(1), div ? POS(2, 3, 7) : IN(2, 3, 7), TOL);            /* scalar a */
  run2(op, IN(1, 16, 7, 7), div ? POS(16, 1, 1) : IN(16, 1, 1), TOL); /* per channel */
  run2(op, IN(2, 3, 17, 19), div ? POS(1, 3, 1, 1) : IN(1, 3, 1, 1), TOL);
  run2(op, IN(3, 1, 5), div ? POS(1, 7, 1) : IN(1, 7, 1), TOL);      /* both broadcast */
  run2(op, IN(7, 1), div ? POS(1, 33) : IN(1, 33), TOL);
  run2(op, IN(2, 3, 4, 5), div ? POS(4, 1) : IN(4, 1), TOL);
  run2(op, IN(1, 3, 17, 19), div ? POS(19) : IN(19), TOL);           /* row vector */
}

/* The main patterns for the other operators (each (operator, shape) is one
 * more program for PoCL to build). */
static void some_patterns(const char *op) {
  const bool div = op[0] == 'D';
  run2(op, IN(1, 3, 17, 19), div ? POS(1, 3, 17, 19) : IN(1, 3, 17, 19), TOL);
  run2(op, IN(1), div ? POS(2, 3, 7) : IN(2, 3, 7), TOL);
  run2(op, IN(1, 16, 7, 7), div ? POS(16, 1, 1) : IN(16, 1, 1), TOL);
}

START_TEST(add_sub_mul_div) {
  patterns("Add");
  some_patterns("Div");
  some_patterns("Sub");
  some_patterns("Mul");
  /* A constant operand (an initializer, uploaded once). */
  ht_input w = HT_WEIGHT("B", 1, 8, 1, 1);
  run2("Add", IN(1, 8, 9, 9), w, TOL);
  run2("Mul", IN(1, 8, 9, 9), (ht_input){.constant = true, .rank = 0}, TOL);
  /* A big same-shape add (the residual of a ResNet block). */
  run2("Add", IN(1, 64, 56, 56), IN(1, 64, 56, 56), TOL);
}
END_TEST

START_TEST(pow_prelu_max_min) {
  run2("Pow", POS(2, 3, 7), IN(2, 3, 7), TOL_POW);
  run2("Pow", IN(1, 3, 17, 19), (ht_input){.rank = 0, .constant = true, .lo = 2, .hi = 2},
       TOL_POW); /* x^2 of a decomposed norm */
  run2("Pow", POS(3, 5), IN(3, 1), TOL_POW);
  run2("Pow", POS(1), IN(4, 9), TOL_POW);
  run2("PRelu", IN(1, 16, 7, 7), HT_WEIGHT("B", 16, 1, 1), TOL);
  run2("PRelu", IN(2, 5, 3, 9), HT_WEIGHT("B", 5), TOL); /* legacy per channel */
  run2("PRelu", IN(2, 5, 33), HT_WEIGHT("B", 1), TOL);
  run2("PRelu", IN(2, 5, 33), IN(5, 33), TOL);
  run2("Max", IN(1, 3, 17, 19), IN(3, 1, 1), TOL);
  run2("Min", IN(7, 1), IN(1, 33), TOL);
}
END_TEST

START_TEST(variadic) {
  ht_input three[3] = {(ht_input){.name = "A", HT_DIMS(2, 3, 1, 7)},
                       (ht_input){.name = "B", HT_DIMS(3, 5, 1)},
                       (ht_input){.name = "C", HT_DIMS(7)}};
  const char *ops[] = {"Sum", "Mean", "Max", "Min"};
  for (int o = 0; o < 4; o++) {
    ck_assert_msg(ht_run(ops[o], 13, three, 3, 1, NULL, 0, TOL) == HT_PASS, "%s failed", ops[o]);
    ck_assert_msg(ht_run(ops[o], 13, three, 1, 1, NULL, 0, TOL) == HT_PASS, "%s/1 failed",
                  ops[o]);
  }
  ht_input four[4] = {(ht_input){.name = "A", HT_DIMS(1, 8, 17, 17)},
                      (ht_input){.name = "B", HT_DIMS(1, 8, 17, 17)},
                      (ht_input){.name = "C", HT_DIMS(1, 8, 17, 17)},
                      (ht_input){.name = "D", HT_DIMS(8, 1, 1)}};
  ck_assert(ht_run("Sum", 13, four, 4, 1, NULL, 0, TOL) == HT_PASS);
}
END_TEST

/* Add or Sum of `n` same-shape inputs x0..x{n-1} (plus, with `bcast`, a
 * [C, 1, 1] one), then `act`: graph_optimize fuses the activation into the
 * Add/Sum (one profiled node). The OpenCL backend is compared with the CPU
 * backend, and the CPU backend with relu/leaky-relu of the sum computed here. */
static void add_then_act(const char *op, int n, bool bcast, const char *act, float alpha) {
  enum { C = 5, H = 9, W = 13, E = C * H * W };
  const int64_t dims[4] = {1, C, H, W}, cdims[3] = {C, 1, 1};
  mb *b = mb_new(13);
  char names[64] = "", buf[8];
  ht_input ins[5];
  static float data[5][E];
  const int nin = n + (bcast ? 1 : 0);
  for (int k = 0; k < nin; k++) {
    snprintf(buf, sizeof buf, "x%d", k);
    const bool c = bcast && k == n;
    mb_input(b, buf, CLCNN_DTYPE_FLOAT32, c ? 3 : 4, c ? cdims : dims);
    for (int i = 0; i < E; i++) data[k][i] = (float)((i * (7 + 2 * k) + 3 * k) % 17) / 8.0f - 1.0f;
    ins[k] = (ht_input){.name = k == 0 ? "x0" : k == 1 ? "x1" : k == 2 ? "x2" : "x3",
                        .rank = c ? 3 : 4, .data = data[k]};
    for (int d = 0; d < (c ? 3 : 4); d++) ins[k].dims[d] = c ? cdims[d] : dims[d];
    snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? "," : "", buf);
  }
  mb_node(b, op, names, "t", 0, NULL);
  mb_attr alpha_attr[] = {MB_FLOAT("alpha", alpha)};
  mb_node(b, act, "t", "y", alpha != 0 ? 1 : 0, alpha_attr);
  mb_output(b, "y");
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  ck_assert_msg(ht_run_model(op, bytes, len, ins, nin, TOL) == HT_PASS, "%s+%s: OpenCL differs",
                op, act);
  /* The CPU backend against the arithmetic done here, and the fusion seen. */
  clcnn_context *ctx;
  clcnn_model *m;
  clcnn_session *s;
  ck_assert_int_eq(clcnn_context_create(NULL, &ctx), CLCNN_OK);
  ck_assert_int_eq(clcnn_model_load_memory(ctx, bytes, len, NULL, &m), CLCNN_OK);
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "cpu";
  so.profile = 1;
  ck_assert_int_eq(clcnn_session_create(m, &so, NULL, 0, &s), CLCNN_OK);
  for (int k = 0; k < nin; k++) {
    clcnn_tensor t = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = ins[k].rank, .data = data[k]};
    for (int d = 0; d < t.rank; d++) t.dims[d] = ins[k].dims[d];
    ck_assert_int_eq(clcnn_session_set_input(s, ins[k].name, &t), CLCNN_OK);
  }
  ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
  clcnn_tensor y;
  ck_assert_int_eq(clcnn_session_output(s, "y", &y), CLCNN_OK);
  const float *got = y.data;
  for (int i = 0; i < E; i++) {
    float sum = 0;
    for (int k = 0; k < n; k++) sum += data[k][i];
    if (bcast) sum += data[n][i / (H * W)];
    const float want = sum > 0 ? sum : sum * alpha;
    ck_assert_msg(fabsf(got[i] - want) <= 1e-5f, "%s+%s [%d]: %g, want %g", op, act, i,
                  (double)got[i], (double)want);
  }
  const clcnn_profile_entry *pe;
  int np;
  ck_assert_int_eq(clcnn_session_profile(s, &pe, &np), CLCNN_OK);
  int nodes = 0;
  for (int i = 0; i < np; i++) nodes += strcmp(pe[i].op, "Transfer") != 0;
  ck_assert_msg(nodes == 1, "%s+%s: %d nodes ran, the activation is not fused", op, act, nodes);
  clcnn_session_free(s);
  clcnn_model_free(m);
  clcnn_context_free(ctx);
  free(bytes);
  mb_free(b);
}

/* The residual Add (or Sum) and its Relu run as one node on both backends. */
START_TEST(fused_activation) {
  add_then_act("Add", 2, false, "Relu", 0);
  add_then_act("Add", 1, true, "Relu", 0);
  add_then_act("Sum", 3, false, "Relu", 0);
  add_then_act("Sum", 2, true, "LeakyRelu", 0.1f);
  setenv("CLCNN_OCL_VARIANT", "gpu", 1);
  add_then_act("Add", 2, false, "LeakyRelu", 0.2f);
  unsetenv("CLCNN_OCL_VARIANT");
}
END_TEST

START_TEST(gpu_form) {
  setenv("CLCNN_OCL_VARIANT", "gpu", 1);
  run2("Add", IN(1, 3, 17, 19), IN(1, 3, 17, 19), TOL);
  run2("Mul", IN(1, 16, 7, 7), IN(16, 1, 1), TOL);
  run2("Sub", IN(1), IN(2, 3, 7), TOL);
  run2("Div", IN(3, 1, 5), POS(1, 7, 1), TOL);
  run2("Pow", POS(3, 5), IN(3, 1), TOL_POW);
  ht_input three[3] = {(ht_input){.name = "A", HT_DIMS(2, 3, 1, 7)},
                       (ht_input){.name = "B", HT_DIMS(3, 5, 1)},
                       (ht_input){.name = "C", HT_DIMS(7)}};
  ck_assert(ht_run("Mean", 13, three, 3, 1, NULL, 0, TOL) == HT_PASS);
  ht_env_restore();
}
END_TEST

int main(void) {
  const ht_test tests[] = {HT_TEST(add_sub_mul_div), HT_TEST(pow_prelu_max_min), HT_TEST(variadic), HT_TEST(gpu_form),
                           HT_TEST(fused_activation)};
  return ht_main("ops-binary", tests, (int)(sizeof tests / sizeof *tests));
}
