/* Unit tests of the runtime's stages: the importer, shape inference with
 * constant folding, the optimisation passes and the memory planner. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "model_builder.h"

static clcnn_context *ctx;
static void setup(void) { ck_assert_int_eq(clcnn_context_create(NULL, &ctx), CLCNN_OK); }
static void teardown(void) { clcnn_context_free(ctx); }

static clcnn_model *load(mb *b) {
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  clcnn_model *m = NULL;
  clcnn_status st = clcnn_model_load_memory(ctx, bytes, len, NULL, &m);
  ck_assert_msg(st == CLCNN_OK, "load: %s", clcnn_last_error());
  free(bytes);
  return m;
}

static clcnn_session *cpu_session(clcnn_model *m, const clcnn_input_shape *shapes, int n) {
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "cpu";
  clcnn_session *s = NULL;
  clcnn_status st = clcnn_session_create(m, &so, shapes, n, &s);
  ck_assert_msg(st == CLCNN_OK, "session: %s", clcnn_last_error());
  return s;
}

static int live_nodes(const clcnn_session *s, int op) {
  int n = 0;
  for (int i = 0; i < s->g.nnodes; i++)
    if (!s->g.nodes[i].dead && (op < 0 || s->g.nodes[i].op == op)) n++;
  return n;
}

START_TEST(importer_io_and_symbolic_dims) {
  mb *b = mb_new(13);
  mb_input(b, "image", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){-1, 3, 16, -1});
  mb_node(b, "Relu", "image", "out", 0, NULL);
  mb_output(b, "out");
  clcnn_model *m = load(b);
  ck_assert_int_eq(clcnn_model_input_count(m), 1);
  ck_assert_int_eq(clcnn_model_output_count(m), 1);
  clcnn_io_info info;
  ck_assert_int_eq(clcnn_model_input_info(m, 0, &info), CLCNN_OK);
  ck_assert_str_eq(info.name, "image");
  ck_assert_int_eq(info.rank, 4);
  ck_assert_int_eq(info.dims[0], -1);
  ck_assert_str_eq(info.dim_names[0], "d0");
  ck_assert_int_eq(info.dims[1], 3);
  ck_assert_int_eq(clcnn_model_input_info(m, 1, &info), CLCNN_ERROR_INVALID_ARGUMENT);
  /* Open dims default to 1; the caller's shape wins. */
  clcnn_session *s = cpu_session(m, NULL, 0);
  clcnn_tensor t;
  ck_assert_int_eq(clcnn_session_input(s, "image", &t), CLCNN_OK);
  ck_assert_int_eq(t.dims[0], 1);
  ck_assert_int_eq(t.dims[3], 1);
  clcnn_session_free(s);
  clcnn_input_shape sh = {.name = "image", .rank = 4, .dims = {2, 3, 16, 5}};
  s = cpu_session(m, &sh, 1);
  ck_assert_int_eq(clcnn_session_input(s, "out", &t), CLCNN_OK);
  ck_assert_int_eq(t.dims[0], 2);
  ck_assert_int_eq(t.dims[3], 5);
  clcnn_session_free(s);
  clcnn_model_free(m);
  mb_free(b);
}
END_TEST

/* PyTorch's flatten before a classifier: Shape -> Gather -> Unsqueeze ->
 * Concat -> Reshape. After session creation only the Reshape's data path may
 * remain, as a Reshape with a constant shape. */
START_TEST(shape_subgraph_folds) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){-1, 8, 2, 2});
  mb_init_i64(b, "zero", 0, NULL, (int64_t[]){0});
  mb_init_i64(b, "axes0", 1, (int64_t[]){1}, (int64_t[]){0});
  mb_init_i64(b, "minus1", 1, (int64_t[]){1}, (int64_t[]){-1});
  mb_node(b, "Shape", "x", "shape", 0, NULL);
  mb_node(b, "Gather", "shape,zero", "batch", 1, (mb_attr[]){MB_INT("axis", 0)});
  mb_node(b, "Unsqueeze", "batch,axes0", "batch1", 0, NULL);
  mb_node(b, "Concat", "batch1,minus1", "newshape", 1, (mb_attr[]){MB_INT("axis", 0)});
  mb_node(b, "Reshape", "x,newshape", "y", 0, NULL);
  mb_output(b, "y");
  clcnn_model *m = load(b);
  clcnn_input_shape sh = {.name = "x", .rank = 4, .dims = {3, 8, 2, 2}};
  clcnn_session *s = cpu_session(m, &sh, 1);
  ck_assert_int_eq(live_nodes(s, -1), 1);
  ck_assert_int_eq(live_nodes(s, CLCNN_OP_RESHAPE), 1);
  clcnn_tensor t;
  ck_assert_int_eq(clcnn_session_input(s, "y", &t), CLCNN_OK);
  ck_assert_int_eq(t.rank, 2);
  ck_assert_int_eq(t.dims[0], 3);
  ck_assert_int_eq(t.dims[1], 32);
  float in[96];
  for (int i = 0; i < 96; i++) in[i] = (float)i;
  clcnn_tensor x = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4, .dims = {3, 8, 2, 2}, .data = in};
  ck_assert_int_eq(clcnn_session_set_input(s, "x", &x), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_output(s, "y", &t), CLCNN_OK);
  for (int i = 0; i < 96; i++) ck_assert_float_eq(((float *)t.data)[i], (float)i);
  clcnn_session_free(s);
  clcnn_model_free(m);
  mb_free(b);
}
END_TEST

/* Conv -> BatchNormalization -> Relu becomes one Conv with a fused Relu,
 * and computes what the three nodes compute (checked by hand for 1x1). */
START_TEST(conv_bn_relu_folds_and_fuses) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, 2, 1, 1});
  float w[4] = {1, 2, -1, 0.5f}, bias[2] = {0.5f, -0.25f};
  float scale[2] = {2, 0.5f}, shift[2] = {1, -3}, mean[2] = {0.5f, 1}, var[2] = {4, 0.25f};
  mb_init_f32(b, "w", 4, (int64_t[]){2, 2, 1, 1}, w);
  mb_init_f32(b, "b", 1, (int64_t[]){2}, bias);
  mb_init_f32(b, "scale", 1, (int64_t[]){2}, scale);
  mb_init_f32(b, "shift", 1, (int64_t[]){2}, shift);
  mb_init_f32(b, "mean", 1, (int64_t[]){2}, mean);
  mb_init_f32(b, "var", 1, (int64_t[]){2}, var);
  mb_node(b, "Conv", "x,w,b", "c", 0, NULL);
  mb_node(b, "BatchNormalization", "c,scale,shift,mean,var", "bn", 1,
          (mb_attr[]){MB_FLOAT("epsilon", 0.0f)});
  mb_node(b, "Relu", "bn", "y", 0, NULL);
  mb_output(b, "y");
  clcnn_model *m = load(b);
  clcnn_session *s = cpu_session(m, NULL, 0);
  ck_assert_int_eq(live_nodes(s, -1), 1);
  const ir_node *conv = NULL;
  for (int i = 0; i < s->g.nnodes; i++)
    if (!s->g.nodes[i].dead) conv = &s->g.nodes[i];
  ck_assert_int_eq(conv->op, CLCNN_OP_CONV);
  ck_assert_int_eq(conv->act_op, CLCNN_OP_RELU);
  float in[2] = {3, -1};
  clcnn_tensor x = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4, .dims = {1, 2, 1, 1}, .data = in};
  ck_assert_int_eq(clcnn_session_set_input(s, "x", &x), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
  clcnn_tensor t;
  ck_assert_int_eq(clcnn_session_output(s, "y", &t), CLCNN_OK);
  for (int c = 0; c < 2; c++) {
    float conv_out = w[c * 2] * in[0] + w[c * 2 + 1] * in[1] + bias[c];
    float bn = (conv_out - mean[c]) / sqrtf(var[c]) * scale[c] + shift[c];
    float want = bn > 0 ? bn : 0;
    ck_assert_msg(fabsf(((float *)t.data)[c] - want) < 1e-5f, "channel %d: %f vs %f", c,
                  ((float *)t.data)[c], want);
  }
  clcnn_session_free(s);
  clcnn_model_free(m);
  mb_free(b);
}
END_TEST

START_TEST(identity_and_dropout_removed) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){4});
  mb_node(b, "Identity", "x", "a", 0, NULL);
  mb_node(b, "Dropout", "a", "d", 0, NULL);
  mb_node(b, "Relu", "d", "r", 0, NULL);
  mb_node(b, "Identity", "r", "y", 0, NULL); /* feeds a graph output: stays */
  mb_output(b, "y");
  clcnn_model *m = load(b);
  clcnn_session *s = cpu_session(m, NULL, 0);
  ck_assert_int_eq(live_nodes(s, CLCNN_OP_DROPOUT), 0);
  ck_assert_int_eq(live_nodes(s, CLCNN_OP_RELU), 1);
  ck_assert_int_eq(live_nodes(s, CLCNN_OP_IDENTITY), 1);
  float in[4] = {-1, 2, -3, 4};
  clcnn_tensor x = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 1, .dims = {4}, .data = in};
  ck_assert_int_eq(clcnn_session_set_input(s, "x", &x), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
  clcnn_tensor t;
  ck_assert_int_eq(clcnn_session_output(s, "y", &t), CLCNN_OK);
  ck_assert_float_eq(((float *)t.data)[0], 0);
  ck_assert_float_eq(((float *)t.data)[3], 4);
  clcnn_session_free(s);
  clcnn_model_free(m);
  mb_free(b);
}
END_TEST

START_TEST(planner_reuses_and_never_overlaps) {
  /* A chain: each buffer lives two steps; alternating reuse is expected. */
  plan_item items[6];
  for (int i = 0; i < 6; i++) items[i] = (plan_item){1000, i, i + 1};
  size_t off[6], total;
  clcnn_err err = {0};
  ck_assert_int_eq(plan_arena(items, 6, 64, off, &total, &err), CLCNN_OK);
  ck_assert_uint_le(total, 2 * 1024);
  /* Random lifetimes: no two live-at-once buffers may overlap in memory. */
  uint64_t x = 99;
  for (int round = 0; round < 50; round++) {
    plan_item r[40];
    size_t o[40], tot, sum = 0;
    for (int i = 0; i < 40; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      int a = (int)(x % 30), len = (int)((x >> 8) % 6);
      r[i] = (plan_item){(size_t)((x >> 16) % 5000), a, a + len};
      sum += (r[i].bytes + 63) / 64 * 64 + 64;
    }
    ck_assert_int_eq(plan_arena(r, 40, 64, o, &tot, &err), CLCNN_OK);
    ck_assert_uint_le(tot, sum);
    for (int i = 0; i < 40; i++) {
      ck_assert_uint_eq(o[i] % 64, 0);
      for (int j = i + 1; j < 40; j++) {
        bool time = !(r[i].last < r[j].first || r[j].last < r[i].first);
        bool space = o[i] < o[j] + (r[j].bytes ? r[j].bytes : 1) &&
                     o[j] < o[i] + (r[i].bytes ? r[i].bytes : 1);
        ck_assert_msg(!(time && space), "buffers %d and %d overlap", i, j);
      }
    }
  }
}
END_TEST

START_TEST(session_reports_memory) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 2, (int64_t[]){64, 64});
  mb_node(b, "Relu", "x", "a", 0, NULL);
  mb_node(b, "Relu", "a", "b", 0, NULL);
  mb_node(b, "Relu", "b", "c", 0, NULL);
  mb_node(b, "Relu", "c", "y", 0, NULL);
  mb_output(b, "y");
  clcnn_model *m = load(b);
  clcnn_session *s = cpu_session(m, NULL, 0);
  size_t host = 0, dev = 1;
  ck_assert_int_eq(clcnn_session_memory(s, &host, &dev), CLCNN_OK);
  /* five 16 KiB tensors, but at most three alive at once */
  ck_assert_uint_le(host, 3 * 16384 + 256);
  ck_assert_uint_ge(host, 2 * 16384);
  ck_assert_uint_eq(dev, 0);
  clcnn_session_free(s);
  clcnn_model_free(m);
  mb_free(b);
}
END_TEST

int main(void) {
  Suite *s = suite_create("runtime");
  TCase *tc = tcase_create("runtime");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, importer_io_and_symbolic_dims);
  tcase_add_test(tc, shape_subgraph_folds);
  tcase_add_test(tc, conv_bn_relu_folds_and_fuses);
  tcase_add_test(tc, identity_and_dropout_removed);
  tcase_add_test(tc, planner_reuses_and_never_overlaps);
  tcase_add_test(tc, session_reports_memory);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
