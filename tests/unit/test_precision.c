/* Session precision (clcnn_session_options.precision) on an OpenCL device:
 * half storage rounds exactly as IEEE half (checked against the compiler's
 * _Float16, every half and a spread of floats, through the vector and the
 * scalar accessors of the kernels); a network with residuals, pools,
 * depthwise and standalone normalisations, a Concat and several outputs
 * agrees with the CPU backend's float32; a node that falls back after its
 * kernel fails to build leaves no half value behind; auto keeps float32
 * where half would overflow; bad options are refused. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "clcnn.h"
#include "kernel_dir.h"
#include "model_builder.h"
#include "ocl.h"

static const char *src_dir = ".";
static clcnn_context *ctx;

static clcnn_model *load_built(clcnn_context *c, mb *b) {
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  clcnn_model *m = NULL;
  ck_assert_int_eq(clcnn_model_load_memory(c, bytes, len, NULL, &m), CLCNN_OK);
  free(bytes);
  mb_free(b);
  return m;
}

static clcnn_session *create(const clcnn_model *m, const char *device, clcnn_precision p) {
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = device;
  so.precision = p;
  clcnn_session *s = NULL;
  ck_assert_msg(clcnn_session_create(m, &so, NULL, 0, &s) == CLCNN_OK, "%s", clcnn_last_error());
  return s;
}

static const float *run(clcnn_session *s, const char *in, const float *x, int rank,
                        const int64_t *dims, const char *out) {
  clcnn_tensor t = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = rank, .data = (void *)x};
  memcpy(t.dims, dims, sizeof(int64_t) * (size_t)rank);
  ck_assert_int_eq(clcnn_session_set_input(s, in, &t), CLCNN_OK);
  ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "%s", clcnn_session_error(s));
  clcnn_tensor y;
  ck_assert_int_eq(clcnn_session_output(s, out, &y), CLCNN_OK);
  ck_assert_int_eq(y.dtype, CLCNN_DTYPE_FLOAT32);
  return y.data;
}

/* The rules every plan must keep: a half value is made and read on one
 * device backend only, and is no graph output. Returns the half values. */
static int check_half_values(const clcnn_session *s) {
  const ir_graph *g = &s->g;
  int halves = 0;
  for (int v = 0; v < g->nvalues; v++) {
    const ir_value *val = &g->values[v];
    if (!val->half) continue;
    halves++;
    ck_assert_msg(!val->is_output && !val->is_input && !val->is_const, "'%s'", val->name);
    const int b = g->nodes[val->producer].backend;
    ck_assert_msg(b >= 0 && b != s->host, "'%s' made on the CPU backend", val->name);
    for (int i = 0; i < g->nnodes; i++)
      for (int j = 0; j < g->nodes[i].nin && !g->nodes[i].dead; j++)
        if (g->nodes[i].in[j] == v)
          ck_assert_msg(g->nodes[i].backend == b, "'%s' read by '%s' on backend %d", val->name,
                        g->nodes[i].name, g->nodes[i].backend);
  }
  return halves;
}

static bool value_half(const clcnn_session *s, const char *name) {
  for (int v = 0; v < s->g.nvalues; v++)
    if (!strcmp(s->g.values[v].name, name)) return s->g.values[v].half;
  ck_abort_msg("no value '%s'", name);
  return false;
}

static float half_round(float x) {
#ifdef __FLT16_MAX__
  return (float)(_Float16)x; /* the compiler's IEEE conversion, round to nearest even */
#else
  return f16_round(x);
#endif
}

static uint32_t bits_of(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

/* ------------------------------------------------------------------ tests */

/* x -> Conv 1x1 (w = 1) -> Neg -> Neg -> Conv 1x1 (w = 1) -> y: the three
 * values between are half, so y is x rounded to half once (the products by
 * 1 and the negations are exact). The Conv stores through the gemm kernel's
 * vector and scalar paths, the Negs load and store through unary_f32's,
 * the last Conv widens its half input into the scratch. */
START_TEST(half_rounding_exact) {
  enum { N = 65536 + 4096 + 24 + 5 }; /* not a multiple of any vector width */
  static float x[N];
  for (int i = 0; i < 65536; i++) { /* every half, as the float it is */
    uint16_t h = (uint16_t)i;
    x[i] = f16_to_float(h);
  }
  uint32_t r = 12345;
  for (int i = 65536; i < 65536 + 4096; i++) { /* floats around half's range */
    r = r * 1664525u + 1013904223u;
    uint32_t e = 96 + (r >> 8) % 48, u = (r & 0x807fffffu) | (e << 23);
    memcpy(&x[i], &u, sizeof u);
  }
  const float edges[] = {65504.0f, 65519.99f, 65520.0f, 65536.0f, 1e30f, -65520.0f,
                         0x1p-24f, 0x1p-25f, 0x1.000002p-25f, 0x1.8p-24f, 0x1.ff8p-15f,
                         0x1.ffcp-15f, 0x1p-14f, 0x1.0018p-14f, 0.1f, -0.1f, 1.0f / 3.0f,
                         2049.0f, 2051.0f, 4097.0f, -0.0f, 1e-40f, -1e-40f, INFINITY,
                         -INFINITY, NAN, 0.0f, 1.0f, -2.0f};
  for (int i = 0; i < (int)(sizeof edges / sizeof *edges); i++) x[65536 + 4096 + i] = edges[i];
  mb *b = mb_new(13);
  const int64_t dims[4] = {1, 1, 1, N};
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, dims);
  const float one = 1.0f;
  mb_init_f32(b, "w", 4, (int64_t[]){1, 1, 1, 1}, &one);
  mb_node(b, "Conv", "x,w", "a", 0, NULL);
  mb_node(b, "Neg", "a", "n1", 0, NULL);
  mb_node(b, "Neg", "n1", "n2", 0, NULL);
  mb_node(b, "Conv", "n2,w", "y", 0, NULL);
  mb_output(b, "y");
  clcnn_model *m = load_built(ctx, b);
  clcnn_session *s = create(m, "opencl", CLCNN_PRECISION_FP16);
  ck_assert(value_half(s, "a") && value_half(s, "n1") && value_half(s, "n2"));
  ck_assert(!value_half(s, "y"));
  check_half_values(s);
  const float *y = run(s, "x", x, 4, dims, "y");
  for (int i = 0; i < N; i++) {
    const float want = half_round(x[i]);
    if (isnan(want)) {
      ck_assert_msg(isnan(y[i]), "x[%d] = %a: %a, expected NaN", i, x[i], y[i]);
      continue;
    }
    /* + 0: the Conv's sum starts at +0, so -0 comes out as +0. */
    ck_assert_msg(bits_of(y[i]) == bits_of(want + 0.0f), "x[%d] = %a (%.9g): %a, expected %a", i,
                  x[i], x[i], y[i], want);
  }
  clcnn_session_free(s);
  /* The CPU backend has no half storage: fp16 changes nothing there. */
  s = create(m, "cpu", CLCNN_PRECISION_FP16);
  ck_assert_int_eq(check_half_values(s), 0);
  y = run(s, "x", x, 4, dims, "y");
  for (int i = 0; i < N; i++)
    ck_assert(isnan(x[i]) ? isnan(y[i]) : bits_of(y[i]) == bits_of(x[i] + 0.0f));
  clcnn_session_free(s);
  clcnn_model_free(m);
}
END_TEST

enum { NC = 24, NH = 20, NP = NH * NH };

/* Conv 3x3 + Relu, MaxPool, a residual block (Conv, Add, Relu), a depthwise
 * Conv, two branches concatenated, a standalone BatchNormalization, an
 * AveragePool, a Mul by a per-channel constant, then GlobalAveragePool,
 * Flatten and Gemm. Outputs: the logits and the Concat (an intermediate
 * value that the device also reads). */
static clcnn_model *build_network(clcnn_context *c) {
  static float w3[NC * 3 * 9], wr[NC * NC * 9], wd[NC * 9], w1[NC * NC], bias[NC],
      mean[2 * NC], var[2 * NC], gam[2 * NC], bet[2 * NC], fc[10 * 2 * NC], fcb[10], mul[NC];
  for (int i = 0; i < NC * 3 * 9; i++) w3[i] = (float)((i * 37) % 17 - 8) / 24.0f;
  for (int i = 0; i < NC * NC * 9; i++) wr[i] = (float)((i * 29) % 23 - 11) / 80.0f;
  for (int i = 0; i < NC * 9; i++) wd[i] = (float)((i * 7) % 11 - 5) / 9.0f;
  for (int i = 0; i < NC * NC; i++) w1[i] = (float)((i * 13) % 19 - 9) / 30.0f;
  for (int i = 0; i < NC; i++) {
    bias[i] = (float)(i % 5) / 10.0f - 0.2f;
    mul[i] = 1.5f - (float)(i % 3) / 2.0f;
  }
  for (int i = 0; i < 2 * NC; i++) {
    mean[i] = (float)(i % 7) / 7.0f;
    var[i] = 0.5f + (float)(i % 5) / 5.0f;
    gam[i] = 1.0f - (float)(i % 3) / 6.0f;
    bet[i] = (float)(i % 4) / 8.0f - 0.2f;
  }
  for (int i = 0; i < 10 * 2 * NC; i++) fc[i] = (float)((i * 11) % 13 - 6) / 20.0f;
  for (int i = 0; i < 10; i++) fcb[i] = (float)i / 10.0f;
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, 3, 2 * NH, 2 * NH});
  mb_init_f32(b, "w3", 4, (int64_t[]){NC, 3, 3, 3}, w3);
  mb_init_f32(b, "b3", 1, (int64_t[]){NC}, bias);
  mb_init_f32(b, "wr", 4, (int64_t[]){NC, NC, 3, 3}, wr);
  mb_init_f32(b, "wd", 4, (int64_t[]){NC, 1, 3, 3}, wd);
  mb_init_f32(b, "w1", 4, (int64_t[]){NC, NC, 1, 1}, w1);
  mb_init_f32(b, "mul", 4, (int64_t[]){1, NC, 1, 1}, mul);
  mb_init_f32(b, "gam", 1, (int64_t[]){2 * NC}, gam);
  mb_init_f32(b, "bet", 1, (int64_t[]){2 * NC}, bet);
  mb_init_f32(b, "mean", 1, (int64_t[]){2 * NC}, mean);
  mb_init_f32(b, "var", 1, (int64_t[]){2 * NC}, var);
  mb_init_f32(b, "fc", 2, (int64_t[]){10, 2 * NC}, fc);
  mb_init_f32(b, "fcb", 1, (int64_t[]){10}, fcb);
  mb_attr pad1[] = {MB_INTS("pads", 1, 1, 1, 1)};
  mb_node(b, "Conv", "x,w3,b3", "c1", 1, pad1);
  mb_node(b, "Relu", "c1", "r1", 0, NULL);
  mb_node(b, "MaxPool", "r1", "p1", 2, (mb_attr[]){MB_INTS("kernel_shape", 2, 2), MB_INTS("strides", 2, 2)});
  mb_node(b, "Conv", "p1,wr", "c2", 1, pad1);
  mb_node(b, "Add", "c2,p1", "s2", 0, NULL);
  mb_node(b, "Relu", "s2", "r2", 0, NULL);
  mb_node(b, "Conv", "r2,wd", "d3", 2, (mb_attr[]){MB_INTS("pads", 1, 1, 1, 1), MB_INT("group", NC)});
  mb_node(b, "Conv", "r2,w1", "e3", 0, NULL);
  mb_node(b, "Mul", "e3,mul", "m3", 0, NULL);
  mb_node(b, "Concat", "d3,m3", "cat", 1, (mb_attr[]){MB_INT("axis", 1)});
  mb_node(b, "BatchNormalization", "cat,gam,bet,mean,var", "bn", 0, NULL);
  mb_node(b, "AveragePool", "bn", "ap", 3,
          (mb_attr[]){MB_INTS("kernel_shape", 3, 3), MB_INTS("strides", 1, 1), MB_INTS("pads", 1, 1, 1, 1)});
  mb_node(b, "GlobalAveragePool", "ap", "g", 0, NULL);
  mb_node(b, "Flatten", "g", "f", 0, NULL);
  mb_node(b, "Gemm", "f,fc,fcb", "logits", 1, (mb_attr[]){MB_INT("transB", 1)});
  mb_output(b, "logits");
  mb_output(b, "cat");
  return load_built(c, b);
}

static float net_x[3 * 4 * NP];
static const int64_t net_dims[4] = {1, 3, 2 * NH, 2 * NH};

static void net_input(void) {
  for (int i = 0; i < 3 * 4 * NP; i++) net_x[i] = (float)((i * 31) % 41 - 20) / 10.0f;
}

/* The logits and the Concat of session s agree with the CPU's float32
 * (ref_l, ref_c) within `tol` of their scale. */
static void expect_close(clcnn_session *s, const float *ref_l, const float *ref_c, double tol,
                         const char *what) {
  for (int k = 0; k < 2; k++) {
    const char *name = k ? "cat" : "logits";
    const float *want = k ? ref_c : ref_l;
    const int count = k ? 2 * NC * NP : 10;
    clcnn_tensor y;
    ck_assert_int_eq(clcnn_session_output(s, name, &y), CLCNN_OK);
    ck_assert_int_eq(y.dtype, CLCNN_DTYPE_FLOAT32);
    double scale = 1, err = 0;
    for (int i = 0; i < count; i++) scale = fmax(scale, fabs(want[i]));
    for (int i = 0; i < count; i++) err = fmax(err, fabs(((const float *)y.data)[i] - want[i]));
    ck_assert_msg(err <= tol * scale, "%s: %s differs by %g (scale %g)", what, name, err, scale);
  }
}

static float ref_logits[10], ref_cat[2 * NC * NP];

static void net_reference(const clcnn_model *m) {
  clcnn_session *s = create(m, "cpu", CLCNN_PRECISION_FP32);
  run(s, "x", net_x, 4, net_dims, "logits");
  clcnn_tensor y;
  ck_assert_int_eq(clcnn_session_output(s, "logits", &y), CLCNN_OK);
  memcpy(ref_logits, y.data, sizeof ref_logits);
  ck_assert_int_eq(clcnn_session_output(s, "cat", &y), CLCNN_OK);
  memcpy(ref_cat, y.data, sizeof ref_cat);
  clcnn_session_free(s);
}

START_TEST(network_fp16_matches_cpu) {
  net_input();
  clcnn_model *m = build_network(ctx);
  net_reference(m);
  clcnn_session *s32 = create(m, "opencl", CLCNN_PRECISION_FP32);
  ck_assert_int_eq(check_half_values(s32), 0);
  run(s32, "x", net_x, 4, net_dims, "logits");
  expect_close(s32, ref_logits, ref_cat, 1e-4, "fp32");
  clcnn_session *s = create(m, "opencl", CLCNN_PRECISION_FP16);
  const int halves = check_half_values(s);
  /* Every value between device layers but the Gemm's input: c1 is fused
   * into the Relu, so r1, p1, s2 (the Add into its Conv), r2, d3, e3, m3,
   * bn, ap, and Flatten's input and output stay float for the Gemm. */
  ck_assert_msg(halves >= 8, "only %d half values", halves);
  ck_assert(value_half(s, "p1") && value_half(s, "bn") && value_half(s, "ap"));
  ck_assert(!value_half(s, "cat") && !value_half(s, "f")); /* an output; the Gemm's input */
  for (int r = 0; r < 2; r++) { /* the same session twice */
    run(s, "x", net_x, 4, net_dims, "logits");
    expect_close(s, ref_logits, ref_cat, 1e-2, "fp16");
  }
  /* Half storage halves the activations' memory. */
  size_t d32 = 0, d16 = 0;
  ck_assert_int_eq(clcnn_session_memory(s32, NULL, &d32), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_memory(s, NULL, &d16), CLCNN_OK);
  ck_assert_msg(d16 < d32, "device memory fp16 %zu, fp32 %zu", d16, d32);
  clcnn_session_free(s);
  clcnn_session_free(s32);
  clcnn_model_free(m);
}
END_TEST

/* The test hook's nodes go to the CPU backend: the values they touch stay
 * float, their neighbours on the device read and write float there. */
static bool refuse_named(void *user, int backend_index, const char *backend_name,
                         const ir_graph *g, int node) {
  (void)backend_index;
  return strncmp(backend_name, "opencl", 6) == 0 && strstr(g->nodes[node].op_type, (const char *)user);
}

START_TEST(network_fp16_with_fallback) {
  net_input();
  clcnn_model *m = build_network(ctx);
  net_reference(m);
  const char *ops[] = {"MaxPool", "Concat", "BatchNormalization"};
  for (int k = 0; k < 3; k++) {
    sched_set_test_refuse(refuse_named, (void *)ops[k]);
    clcnn_session *s = create(m, "opencl", CLCNN_PRECISION_FP16);
    sched_set_test_refuse(NULL, NULL);
    ck_assert_msg(check_half_values(s) > 0, "%s on the CPU: no half value left", ops[k]);
    run(s, "x", net_x, 4, net_dims, "logits");
    expect_close(s, ref_logits, ref_cat, 1e-2, ops[k]);
    clcnn_session_free(s);
  }
  clcnn_model_free(m);
}
END_TEST

/* norm.cl fails to build: the BatchNormalization falls back to the CPU
 * after its neighbours were planned around a half value on the device; the
 * plan is repaired (those nodes prepared again for float) and runs right. */
START_TEST(build_failure_repairs_plan) {
  net_input();
  char dir[64];
  ck_assert(kernel_dir_make(src_dir, "norm", dir, sizeof dir));
  setenv("CLCNN_KERNEL_DIR", dir, 1);
  clcnn_options o;
  clcnn_options_default(&o);
  o.disable_cache = 1;
  clcnn_context *c2;
  ck_assert_int_eq(clcnn_context_create(&o, &c2), CLCNN_OK);
  clcnn_model *m = build_network(c2);
  net_reference(m);
  clcnn_session *s = create(m, "opencl", CLCNN_PRECISION_FP16);
  bool bn_on_cpu = false;
  for (int i = 0; i < s->g.nnodes; i++)
    if (!s->g.nodes[i].dead && !strcmp(s->g.nodes[i].op_type, "BatchNormalization"))
      bn_on_cpu = s->g.nodes[i].backend == s->host;
  ck_assert(bn_on_cpu);
  ck_assert(!value_half(s, "bn"));
  ck_assert(check_half_values(s) > 0);
  run(s, "x", net_x, 4, net_dims, "logits");
  expect_close(s, ref_logits, ref_cat, 1e-2, "norm.cl broken");
  clcnn_session_free(s);
  unsetenv("CLCNN_KERNEL_DIR");
  clcnn_model_free(m);
  clcnn_context_free(c2);
  kernel_dir_remove(dir);
}
END_TEST

/* x -> Conv (weights 40000: outputs past half's 65504) -> Conv (weights
 * 1e-4) -> y. fp16 stores infinity between them; auto calibrates, finds the
 * first Conv's output off and keeps it float32: y as on the CPU. */
START_TEST(auto_keeps_overflow_in_fp32) {
  enum { C = 8, H = 6 };
  static float w1[C * C], w2[C * C], x[C * H * H];
  for (int i = 0; i < C * C; i++) {
    w1[i] = 40000.0f * (float)(1 + i % 3);
    w2[i] = 1e-4f * (float)(1 + i % 2);
  }
  for (int i = 0; i < C * H * H; i++) x[i] = 1.0f + (float)(i % 5) / 5.0f;
  mb *b = mb_new(13);
  const int64_t dims[4] = {1, C, H, H};
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, dims);
  mb_init_f32(b, "w1", 4, (int64_t[]){C, C, 1, 1}, w1);
  mb_init_f32(b, "w2", 4, (int64_t[]){C, C, 1, 1}, w2);
  mb_node(b, "Conv", "x,w1", "big", 0, NULL);
  mb_node(b, "Relu", "big", "r", 0, NULL);
  mb_node(b, "Conv", "r,w2", "y", 0, NULL);
  mb_output(b, "y");
  clcnn_model *m = load_built(ctx, b);
  clcnn_session *s = create(m, "cpu", CLCNN_PRECISION_FP32);
  static float want[C * H * H];
  memcpy(want, run(s, "x", x, 4, dims, "y"), sizeof want);
  clcnn_session_free(s);
  s = create(m, "opencl", CLCNN_PRECISION_FP16);
  ck_assert(value_half(s, "big"));
  const float *y = run(s, "x", x, 4, dims, "y");
  ck_assert_msg(isinf(y[0]), "fp16: y[0] = %g (expected the overflow to show)", y[0]);
  clcnn_session_free(s);
  /* auto, calibrated on its pattern and on the real input. */
  for (int given = 0; given < 2; given++) {
    clcnn_session_options so;
    clcnn_session_options_default(&so);
    so.device = "opencl";
    so.precision = CLCNN_PRECISION_AUTO;
    clcnn_bound_input cal = {"x", {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4, .dims = {1, C, H, H}, .data = x}};
    if (given) {
      so.calibration_inputs = &cal;
      so.calibration_input_count = 1;
    }
    ck_assert_msg(clcnn_session_create(m, &so, NULL, 0, &s) == CLCNN_OK, "%s", clcnn_last_error());
    ck_assert(!value_half(s, "big"));
    check_half_values(s);
    y = run(s, "x", x, 4, dims, "y");
    for (int i = 0; i < C * H * H; i++)
      ck_assert_msg(fabsf(y[i] - want[i]) <= 1e-3f * fmaxf(1.0f, fabsf(want[i])),
                    "auto: y[%d] = %g, expected %g", i, y[i], want[i]);
    clcnn_session_free(s);
  }
  /* A calibration input of another shape is the caller's error. */
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "opencl";
  so.precision = CLCNN_PRECISION_AUTO;
  clcnn_bound_input bad = {"x", {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4, .dims = {1, C, H, 2}, .data = x}};
  so.calibration_inputs = &bad;
  so.calibration_input_count = 1;
  ck_assert_int_eq(clcnn_session_create(m, &so, NULL, 0, &s), CLCNN_ERROR_SHAPE);
  ck_assert_ptr_null(s);
  ck_assert_msg(strstr(clcnn_last_error(), "calibration") != NULL, "%s", clcnn_last_error());
  clcnn_model_free(m);
}
END_TEST

START_TEST(bad_options_refused) {
  net_input();
  clcnn_model *m = build_network(ctx);
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "opencl";
  clcnn_session *s = NULL;
  so.precision = (clcnn_precision)3;
  ck_assert_int_eq(clcnn_session_create(m, &so, NULL, 0, &s), CLCNN_ERROR_INVALID_ARGUMENT);
  so.precision = CLCNN_PRECISION_AUTO;
  so.precision_tolerance = -1;
  ck_assert_int_eq(clcnn_session_create(m, &so, NULL, 0, &s), CLCNN_ERROR_INVALID_ARGUMENT);
  so.precision_tolerance = 0;
  so.calibration_input_count = 1;
  ck_assert_int_eq(clcnn_session_create(m, &so, NULL, 0, &s), CLCNN_ERROR_INVALID_ARGUMENT);
  ck_assert_ptr_null(s);
  clcnn_model_free(m);
}
END_TEST

static void setup(void) { ck_assert_int_eq(clcnn_context_create(NULL, &ctx), CLCNN_OK); }
static void teardown(void) {
  sched_set_test_refuse(NULL, NULL);
  clcnn_context_free(ctx);
}

int main(int argc, char **argv) {
  if (argc > 1) src_dir = argv[1];
  const ocl_device_info *devs;
  int count = 0;
  clcnn_err err = {0};
  if (ocl_devices_list(&devs, &count, &err) != CLCNN_OK || count == 0) {
    printf("SKIP: no OpenCL device (%s)\n", err.msg[0] ? err.msg : "none found");
    return 77;
  }
  Suite *s = suite_create("precision");
  TCase *tc = tcase_create("precision");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, half_rounding_exact);
  tcase_add_test(tc, network_fp16_matches_cpu);
  /* Under Oclgrind (CLCNN_TEST_OCLGRIND) the GPU forms are what the run is
   * for: the plans with fallbacks add nothing there but time, and a failed
   * build is an API error that Oclgrind reports. */
  if (!getenv("CLCNN_TEST_OCLGRIND")) {
    tcase_add_test(tc, network_fp16_with_fallback);
    tcase_add_test(tc, build_failure_repairs_plan);
  }
  tcase_add_test(tc, auto_keeps_overflow_in_fp32);
  tcase_add_test(tc, bad_options_refused);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
