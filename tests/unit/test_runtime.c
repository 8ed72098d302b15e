/* Unit tests of the runtime's stages: the importer, shape inference with
 * constant folding, the optimisation passes and the memory planner. */
#include <check.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "clcnn_config.h"
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

/* A shape subgraph of the kind PyTorch's TorchScript exporter writes for
 * ViT (Equal, Where, Mod on int64 scalars), with Range, Size, ReduceProd,
 * Greater and Cast: all of it folds, leaving one Reshape with a constant
 * shape. H = 8: 8 mod 3 = 2, Equal(2, 2) -> Where picks H = 8, Range(0, 8,
 * 3) = [0, 3, 6] has Size 3; the product of x's shape is 192, Greater than
 * 100 (true) cast to int64 is 1: the new shape is [-1, 3 * 1 + 1] = [-1, 4]. */
START_TEST(vit_shape_subgraph_folds) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){-1, 3, 8, 8});
  mb_init_i64(b, "two", 0, NULL, (int64_t[]){2});
  mb_init_i64(b, "three", 0, NULL, (int64_t[]){3});
  mb_init_i64(b, "zero", 0, NULL, (int64_t[]){0});
  mb_init_i64(b, "one", 0, NULL, (int64_t[]){1});
  mb_init_i64(b, "hundred", 0, NULL, (int64_t[]){100});
  mb_init_i64(b, "axes0", 1, (int64_t[]){1}, (int64_t[]){0});
  mb_init_i64(b, "minus1", 1, (int64_t[]){1}, (int64_t[]){-1});
  mb_node(b, "Shape", "x", "shape", 0, NULL);
  mb_node(b, "Gather", "shape,two", "h", 1, (mb_attr[]){MB_INT("axis", 0)});
  mb_node(b, "Mod", "h,three", "hm", 0, NULL);
  mb_node(b, "Equal", "hm,two", "eq", 0, NULL);
  mb_node(b, "Where", "eq,h,zero", "w", 0, NULL);
  mb_node(b, "Range", "zero,w,three", "r", 0, NULL);
  mb_node(b, "Size", "r", "n", 0, NULL);
  mb_node(b, "ReduceProd", "shape", "numel", 1, (mb_attr[]){MB_INT("keepdims", 0)});
  mb_node(b, "Greater", "numel,hundred", "big", 0, NULL);
  mb_node(b, "Cast", "big", "bigi", 1, (mb_attr[]){MB_INT("to", CLCNN_DTYPE_INT64)});
  mb_node(b, "Mul", "n,bigi", "n1", 0, NULL);
  mb_node(b, "Add", "n1,one", "n2", 0, NULL);
  mb_node(b, "Unsqueeze", "n2,axes0", "n3", 0, NULL);
  mb_node(b, "Concat", "minus1,n3", "newshape", 1, (mb_attr[]){MB_INT("axis", 0)});
  mb_node(b, "Reshape", "x,newshape", "y", 0, NULL);
  mb_output(b, "y");
  clcnn_model *m = load(b);
  clcnn_input_shape sh = {.name = "x", .rank = 4, .dims = {1, 3, 8, 8}};
  clcnn_session *s = cpu_session(m, &sh, 1);
  ck_assert_int_eq(live_nodes(s, -1), 1);
  ck_assert_int_eq(live_nodes(s, CLCNN_OP_RESHAPE), 1);
  clcnn_tensor t;
  ck_assert_int_eq(clcnn_session_input(s, "y", &t), CLCNN_OK);
  ck_assert_int_eq(t.rank, 2);
  ck_assert_int_eq(t.dims[0], 48);
  ck_assert_int_eq(t.dims[1], 4);
  clcnn_session_free(s);
  clcnn_model_free(m);
  mb_free(b);
}
END_TEST

/* Runs the one-output model of `b` on the CPU backend with the given
 * inputs; copies the output's data into out (at most cap bytes) and its
 * type and shape into *info. */
static void run_model(mb *b, int nin, const char *const *names, const clcnn_tensor *in,
                      const char *outname, clcnn_tensor *info, void *out, size_t cap) {
  clcnn_model *m = load(b);
  clcnn_input_shape sh[8];
  for (int i = 0; i < nin; i++) {
    sh[i].name = names[i];
    sh[i].rank = in[i].rank;
    memcpy(sh[i].dims, in[i].dims, sizeof sh[i].dims);
  }
  clcnn_session *s = cpu_session(m, sh, nin);
  for (int i = 0; i < nin; i++) ck_assert_int_eq(clcnn_session_set_input(s, names[i], &in[i]), CLCNN_OK);
  ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "run: %s", clcnn_session_error(s));
  clcnn_tensor t;
  ck_assert_int_eq(clcnn_session_output(s, outname, &t), CLCNN_OK);
  size_t bytes = (size_t)clcnn_tensor_numel(&t) * dtype_size(t.dtype);
  ck_assert_uint_le(bytes, cap);
  memcpy(out, t.data, bytes);
  *info = t;
  info->data = NULL;
  clcnn_session_free(s);
  clcnn_model_free(m);
}

/* Mod's sign rule: fmod = 0 takes the divisor's sign (Python), fmod = 1
 * the dividend's (C); integer x mod 0 is 0. Broadcast of a [4] by a [1]. */
START_TEST(mod_sign_rules) {
  int64_t a[4] = {-7, 7, -7, 9}, bv[4] = {3, -3, -3, 0}, y[4];
  clcnn_tensor in[2] = {{.dtype = CLCNN_DTYPE_INT64, .rank = 1, .dims = {4}, .data = a},
                        {.dtype = CLCNN_DTYPE_INT64, .rank = 1, .dims = {4}, .data = bv}};
  const char *names[2] = {"a", "b"};
  for (int fm = 0; fm < 2; fm++) {
    mb *b = mb_new(13);
    mb_input(b, "a", CLCNN_DTYPE_INT64, 1, (int64_t[]){4});
    mb_input(b, "b", CLCNN_DTYPE_INT64, 1, (int64_t[]){4});
    mb_node(b, "Mod", "a,b", "y", 1, (mb_attr[]){MB_INT("fmod", fm)});
    mb_output(b, "y");
    clcnn_tensor info;
    run_model(b, 2, names, in, "y", &info, y, sizeof y);
    const int64_t want[2][4] = {{2, -2, -1, 0}, {-1, 1, -1, 0}};
    for (int i = 0; i < 4; i++) ck_assert_int_eq(y[i], want[fm][i]);
    mb_free(b);
  }
  /* float fmod with a broadcast divisor */
  float fa[4] = {-7.5f, 7.5f, 2.0f, -0.5f}, fb[1] = {2.0f}, fy[4];
  clcnn_tensor fin[2] = {{.dtype = CLCNN_DTYPE_FLOAT32, .rank = 1, .dims = {4}, .data = fa},
                         {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 1, .dims = {1}, .data = fb}};
  mb *b = mb_new(13);
  mb_input(b, "a", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){4});
  mb_input(b, "b", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){1});
  mb_node(b, "Mod", "a,b", "y", 1, (mb_attr[]){MB_INT("fmod", 1)});
  mb_output(b, "y");
  clcnn_tensor info;
  run_model(b, 2, names, fin, "y", &info, fy, sizeof fy);
  ck_assert_int_eq(info.rank, 1);
  ck_assert_int_eq(info.dims[0], 4);
  const float fwant[4] = {-1.5f, 1.5f, 0.0f, -0.5f};
  for (int i = 0; i < 4; i++) ck_assert_float_eq(fy[i], fwant[i]);
  mb_free(b);
}
END_TEST

/* Where broadcasts all three inputs: condition [2, 1], X [3], Y scalar give
 * [2, 3]; a comparison's output is bool. */
START_TEST(where_broadcasts_three_ways) {
  float x[3] = {1, 2, 3}, thr[1] = {0}, c[2] = {1.0f, -1.0f}, y[6];
  clcnn_tensor in[2] = {{.dtype = CLCNN_DTYPE_FLOAT32, .rank = 2, .dims = {2, 1}, .data = c},
                        {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 1, .dims = {3}, .data = x}};
  const char *names[2] = {"c", "x"};
  mb *b = mb_new(16);
  mb_input(b, "c", CLCNN_DTYPE_FLOAT32, 2, (int64_t[]){2, 1});
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){3});
  mb_init_f32(b, "thr", 0, NULL, thr);
  mb_init_f32(b, "minus", 0, NULL, (float[]){-9.0f});
  mb_node(b, "Greater", "c,thr", "cond", 0, NULL);
  mb_node(b, "Where", "cond,x,minus", "y", 0, NULL);
  mb_output(b, "y");
  clcnn_tensor info;
  run_model(b, 2, names, in, "y", &info, y, sizeof y);
  ck_assert_int_eq(info.rank, 2);
  ck_assert_int_eq(info.dims[0], 2);
  ck_assert_int_eq(info.dims[1], 3);
  const float want[6] = {1, 2, 3, -9, -9, -9};
  for (int i = 0; i < 6; i++) ck_assert_float_eq(y[i], want[i]);
  mb_free(b);
}
END_TEST

/* ArgMax with ties: the first index, or the last with select_last_index;
 * keepdims = 0 drops the axis. */
START_TEST(argmax_ties_and_keepdims) {
  float x[6] = {1, 5, 5, 2, 2, 0}, dummy;
  (void)dummy;
  clcnn_tensor in[1] = {{.dtype = CLCNN_DTYPE_FLOAT32, .rank = 2, .dims = {2, 3}, .data = x}};
  const char *names[1] = {"x"};
  for (int last = 0; last < 2; last++) {
    mb *b = mb_new(13);
    mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 2, (int64_t[]){2, 3});
    mb_node(b, "ArgMax", "x", "y", 3,
            (mb_attr[]){MB_INT("axis", -1), MB_INT("keepdims", 0), MB_INT("select_last_index", last)});
    mb_output(b, "y");
    int64_t y[2];
    clcnn_tensor info;
    run_model(b, 1, names, in, "y", &info, y, sizeof y);
    ck_assert_int_eq(info.dtype, CLCNN_DTYPE_INT64);
    ck_assert_int_eq(info.rank, 1);
    ck_assert_int_eq(info.dims[0], 2);
    ck_assert_int_eq(y[0], last ? 2 : 1);
    ck_assert_int_eq(y[1], last ? 1 : 0);
    mb_free(b);
  }
}
END_TEST

/* DepthToSpace's two channel orders on [1, 4, 1, 1] with blocksize 2, and
 * SpaceToDepth undoing DCR; Round halves to even. */
START_TEST(depth_to_space_modes) {
  float x[4] = {0, 1, 2, 3}, y[4];
  clcnn_tensor in[1] = {{.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4, .dims = {1, 4, 1, 1}, .data = x}};
  const char *names[1] = {"x"};
  for (int crd = 0; crd < 2; crd++) {
    mb *b = mb_new(13);
    mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, 4, 1, 1});
    mb_node(b, "DepthToSpace", "x", "d", 2,
            (mb_attr[]){MB_INT("blocksize", 2), MB_STRING("mode", crd ? "CRD" : "DCR")});
    mb_node(b, "SpaceToDepth", "d", "y", 1, (mb_attr[]){MB_INT("blocksize", 2)});
    mb_output(b, "y");
    clcnn_tensor info;
    run_model(b, 1, names, in, "y", &info, y, sizeof y);
    ck_assert_int_eq(info.dims[1], 4);
    /* with one channel out, both orders give the same round trip */
    for (int i = 0; i < 4; i++) ck_assert_float_eq(y[i], x[i]);
    mb_free(b);
  }
  /* [1, 8, 1, 1] -> [1, 2, 2, 2]: DCR reads channel (i*2 + j)*2 + c, CRD c*4 + i*2 + j */
  float x8[8] = {0, 1, 2, 3, 4, 5, 6, 7}, y8[8];
  clcnn_tensor in8[1] = {{.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4, .dims = {1, 8, 1, 1}, .data = x8}};
  const float want[2][8] = {{0, 2, 4, 6, 1, 3, 5, 7}, {0, 1, 2, 3, 4, 5, 6, 7}};
  for (int crd = 0; crd < 2; crd++) {
    mb *b = mb_new(13);
    mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, 8, 1, 1});
    mb_node(b, "DepthToSpace", "x", "y", 2,
            (mb_attr[]){MB_INT("blocksize", 2), MB_STRING("mode", crd ? "CRD" : "DCR")});
    mb_output(b, "y");
    clcnn_tensor info;
    run_model(b, 1, names, in8, "y", &info, y8, sizeof y8);
    ck_assert_int_eq(info.rank, 4);
    ck_assert_int_eq(info.dims[1], 2);
    ck_assert_int_eq(info.dims[2], 2);
    ck_assert_int_eq(info.dims[3], 2);
    for (int i = 0; i < 8; i++) ck_assert_float_eq(y8[i], want[crd][i]);
    mb_free(b);
  }
  float r[6] = {0.5f, 1.5f, 2.5f, -2.5f, -0.5f, 2.4f}, ry[6];
  clcnn_tensor rin[1] = {{.dtype = CLCNN_DTYPE_FLOAT32, .rank = 1, .dims = {6}, .data = r}};
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){6});
  mb_node(b, "Round", "x", "y", 0, NULL);
  mb_output(b, "y");
  clcnn_tensor info;
  run_model(b, 1, names, rin, "y", &info, ry, sizeof ry);
  const float rwant[6] = {0, 2, 2, -2, -0.0f, 2};
  for (int i = 0; i < 6; i++) ck_assert_float_eq(ry[i], rwant[i]);
  mb_free(b);
}
END_TEST

/* Range's length: ceil((limit - start) / delta), none when the sign is
 * wrong; a Range of non-constant inputs is refused at session creation. */
START_TEST(range_lengths) {
  const int64_t cases[][4] = {{0, 10, 3, 4}, {10, 0, -3, 4}, {0, 10, -1, 0}, {5, 5, 1, 0}};
  for (int k = 0; k < 4; k++) {
    mb *b = mb_new(11);
    mb_init_i64(b, "s", 0, NULL, &cases[k][0]);
    mb_init_i64(b, "l", 0, NULL, &cases[k][1]);
    mb_init_i64(b, "d", 0, NULL, &cases[k][2]);
    mb_node(b, "Range", "s,l,d", "y", 0, NULL);
    mb_output(b, "y");
    clcnn_model *m = load(b);
    clcnn_session *s = cpu_session(m, NULL, 0);
    clcnn_tensor t;
    ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
    ck_assert_int_eq(clcnn_session_output(s, "y", &t), CLCNN_OK);
    ck_assert_int_eq(t.rank, 1);
    ck_assert_int_eq(t.dims[0], cases[k][3]);
    for (int64_t i = 0; i < t.dims[0]; i++)
      ck_assert_int_eq(((int64_t *)t.data)[i], cases[k][0] + i * cases[k][2]);
    clcnn_session_free(s);
    clcnn_model_free(m);
    mb_free(b);
  }
  mb *b = mb_new(11);
  mb_input(b, "l", CLCNN_DTYPE_FLOAT32, 0, NULL);
  mb_init_f32(b, "s", 0, NULL, (float[]){0});
  mb_init_f32(b, "d", 0, NULL, (float[]){1});
  mb_node(b, "Range", "s,l,d", "y", 0, NULL);
  mb_output(b, "y");
  clcnn_model *m = load(b);
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "cpu";
  clcnn_session *s = NULL;
  ck_assert_int_eq(clcnn_session_create(m, &so, NULL, 0, &s), CLCNN_ERROR_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(clcnn_last_error(), "must be a constant"));
  clcnn_model_free(m);
  mb_free(b);
}
END_TEST

/* Conv -> BatchNormalization -> Relu becomes one Conv with a fused Relu,
 * and computes what the three nodes compute (checked by hand for 1x1). */
/* If whose condition folds at session creation (Shape -> Gather -> Equal,
 * as exporters write "is the batch 1"): the taken branch is inlined and
 * reads an outer value; a nested If inside it reads a value of the main
 * graph two levels up. Both branches are imported, but only the one taken
 * is checked: the other names an operator clcnn lacks. */
START_TEST(if_inlines_taken_branch) {
  float x[4] = {-2, -1, 1, 2}, y[4];
  clcnn_tensor in[1] = {{.dtype = CLCNN_DTYPE_FLOAT32, .rank = 2, .dims = {1, 4}, .data = x}};
  const char *names[1] = {"x"};
  for (int batch1 = 0; batch1 < 2; batch1++) {
    mb *inner_then = mb_new(13), *inner_else = mb_new(13), *then_b = mb_new(13),
       *else_b = mb_new(13), *b = mb_new(13);
    mb_node(inner_then, "Neg", "r", "n", 0, NULL); /* r: then_b's value */
    mb_output(inner_then, "n");
    mb_node(inner_else, "NoSuchOp", "x", "z", 0, NULL);
    mb_output(inner_else, "z");
    mb_init_f32(then_b, "two", 0, NULL, (float[]){2.0f});
    mb_node(then_b, "Relu", "x", "r", 0, NULL);
    mb_node(then_b, "If", "c", "ir", 2,
            (mb_attr[]){MB_GRAPH("then_branch", inner_then), MB_GRAPH("else_branch", inner_else)});
    mb_node(then_b, "Mul", "ir,two", "t", 0, NULL);
    mb_output(then_b, "t");
    mb_node(else_b, "Sigmoid", "x", "e", 0, NULL);
    mb_output(else_b, "e");
    mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 2, (int64_t[]){batch1 ? 1 : 2, 4});
    mb_init_i64(b, "zero", 0, NULL, (int64_t[]){0});
    mb_init_i64(b, "one", 0, NULL, (int64_t[]){1});
    mb_node(b, "Shape", "x", "s", 0, NULL);
    mb_node(b, "Gather", "s,zero", "n0", 0, NULL);
    mb_node(b, "Equal", "n0,one", "c", 0, NULL);
    mb_node(b, "If", "c", "y", 2,
            (mb_attr[]){MB_GRAPH("then_branch", then_b), MB_GRAPH("else_branch", else_b)});
    mb_output(b, "y");
    if (batch1) {
      clcnn_tensor info;
      run_model(b, 1, names, in, "y", &info, y, sizeof y);
      ck_assert_int_eq(info.rank, 2);
      for (int i = 0; i < 4; i++) ck_assert_float_eq(y[i], x[i] > 0 ? -2 * x[i] : 0.0f);
    } else { /* batch 2: the else branch, Sigmoid */
      float x2[8], y2[8];
      for (int i = 0; i < 8; i++) x2[i] = (float)i - 4;
      clcnn_tensor in2[1] = {{.dtype = CLCNN_DTYPE_FLOAT32, .rank = 2, .dims = {2, 4}, .data = x2}};
      clcnn_tensor info;
      run_model(b, 1, names, in2, "y", &info, y2, sizeof y2);
      for (int i = 0; i < 8; i++) ck_assert_float_eq_tol(y2[i], 1.0f / (1.0f + expf(-x2[i])), 1e-6f);
    }
    mb_free(b), mb_free(then_b), mb_free(else_b), mb_free(inner_then), mb_free(inner_else);
  }
}
END_TEST

/* An If whose condition is computed from data: a clear UNSUPPORTED at
 * session creation that names the node; an unknown operator in the branch
 * taken names that node. */
START_TEST(if_needs_constant_condition) {
  mb *then_b = mb_new(13), *else_b = mb_new(13), *b = mb_new(13);
  mb_node(then_b, "Relu", "x", "r", 0, NULL);
  mb_output(then_b, "r");
  mb_node(else_b, "Mystery", "x", "m", 0, NULL);
  mb_output(else_b, "m");
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){4});
  mb_input(b, "flag", CLCNN_DTYPE_BOOL, 0, NULL);
  mb_init(b, "no", CLCNN_DTYPE_BOOL, 0, NULL, (uint8_t[]){0});
  mb_node(b, "If", "flag", "y", 2,
          (mb_attr[]){MB_GRAPH("then_branch", then_b), MB_GRAPH("else_branch", else_b)});
  mb_node(b, "If", "no", "y2", 2,
          (mb_attr[]){MB_GRAPH("then_branch", then_b), MB_GRAPH("else_branch", else_b)});
  mb_output(b, "y");
  mb_output(b, "y2");
  clcnn_model *m = load(b);
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "cpu";
  clcnn_session *s = NULL;
  ck_assert_int_eq(clcnn_session_create(m, &so, NULL, 0, &s), CLCNN_ERROR_UNSUPPORTED);
  ck_assert_ptr_null(s);
  const char *why = clcnn_last_error();
  ck_assert_msg(strstr(why, "node 'n0' (If)") && strstr(why, "'flag' is not a constant"), "%s", why);
  clcnn_model_free(m);
  mb_free(b);
  /* The constant condition alone: the else branch, whose operator is unknown. */
  b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){4});
  mb_init(b, "no", CLCNN_DTYPE_BOOL, 0, NULL, (uint8_t[]){0});
  mb_node(b, "If", "no", "y2", 2,
          (mb_attr[]){MB_GRAPH("then_branch", then_b), MB_GRAPH("else_branch", else_b)});
  mb_output(b, "y2");
  m = load(b);
  ck_assert_int_eq(clcnn_session_create(m, &so, NULL, 0, &s), CLCNN_ERROR_UNSUPPORTED);
  why = clcnn_last_error();
  ck_assert_msg(strstr(why, "Mystery") && strstr(why, "If 'n0'"), "%s", why);
  clcnn_model_free(m);
  mb_free(b), mb_free(then_b), mb_free(else_b);
}
END_TEST

/* The operators of the indexing, reduce (TopK, CumSum) and gemm (Einsum)
 * families fold when their inputs are constant: no node is left to run, and
 * the values are the ONNX ones (worked out by hand). */
START_TEST(index_ops_fold) {
  mb *b = mb_new(18);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){1});
  mb_init_f32(b, "v", 1, (int64_t[]){5}, (float[]){3, 1, 3, 0, 2});
  mb_init_i64(b, "k", 1, (int64_t[]){1}, (int64_t[]){3});
  mb_init_i64(b, "ax", 0, NULL, (int64_t[]){0});
  mb_init_i64(b, "idx", 2, (int64_t[]){2, 1}, (int64_t[]){-1, 1});
  mb_init_f32(b, "m", 2, (int64_t[]){2, 2}, (float[]){1, 2, 3, 4});
  mb_node(b, "TopK", "v,k", "tv,ti", 0, NULL);     /* 3, 3, 2 at 0, 2, 4 */
  mb_node(b, "CumSum", "v,ax", "cs", 1, (mb_attr[]){MB_INT("exclusive", 1)});
  mb_node(b, "GatherND", "m,idx", "g", 0, NULL);   /* rows 1 and 1 */
  mb_node(b, "ScatterND", "m,idx,g", "sc", 1, (mb_attr[]){MB_STRING("reduction", "add")});
  mb_node(b, "Einsum", "m,m", "e", 1, (mb_attr[]){MB_STRING("equation", "ij,jk")});
  mb_node(b, "Add", "x,tv", "y", 0, NULL);
  const char *outs[] = {"ti", "cs", "sc", "e", "y"};
  for (int i = 0; i < 5; i++) mb_output(b, outs[i]);
  clcnn_model *m = load(b);
  clcnn_session *s = cpu_session(m, NULL, 0);
  ck_assert_int_eq(live_nodes(s, CLCNN_OP_TOPK) + live_nodes(s, CLCNN_OP_CUMSUM) +
                       live_nodes(s, CLCNN_OP_GATHER_ND) + live_nodes(s, CLCNN_OP_SCATTER_ND) +
                       live_nodes(s, CLCNN_OP_EINSUM),
                   0);
  float x[1] = {0};
  clcnn_tensor in = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 1, .dims = {1}, .data = x};
  ck_assert_int_eq(clcnn_session_set_input(s, "x", &in), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
  clcnn_tensor t;
  ck_assert_int_eq(clcnn_session_output(s, "ti", &t), CLCNN_OK);
  const int64_t want_ti[3] = {0, 2, 4};
  for (int i = 0; i < 3; i++) ck_assert_int_eq(((int64_t *)t.data)[i], want_ti[i]);
  ck_assert_int_eq(clcnn_session_output(s, "cs", &t), CLCNN_OK);
  const float want_cs[5] = {0, 3, 4, 7, 7}, want_sc[4] = {1, 2, 9, 12}, want_e[4] = {7, 10, 15, 22};
  for (int i = 0; i < 5; i++) ck_assert_float_eq(((float *)t.data)[i], want_cs[i]);
  ck_assert_int_eq(clcnn_session_output(s, "sc", &t), CLCNN_OK);
  for (int i = 0; i < 4; i++) ck_assert_float_eq(((float *)t.data)[i], want_sc[i]);
  ck_assert_int_eq(clcnn_session_output(s, "e", &t), CLCNN_OK);
  for (int i = 0; i < 4; i++) ck_assert_float_eq(((float *)t.data)[i], want_e[i]);
  clcnn_session_free(s);
  clcnn_model_free(m);
  mb_free(b);
}
END_TEST

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
  /* Weights and bias only this Conv reads are folded where they are: no
   * second copy of them in the model. */
  ck_assert_str_eq(s->g.values[conv->in[1]].name, "w");
  ck_assert_str_eq(s->g.values[conv->in[2]].name, "b");
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

/* Weights shared by two Convs, each followed by its own BatchNormalization:
 * each gets a folded copy, and the shared weights stay as they were (the
 * second Conv reads them unscaled before its own fold). */
START_TEST(conv_bn_shared_weights_fold_as_copies) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, 1, 1, 1});
  mb_init_f32(b, "w", 4, (int64_t[]){1, 1, 1, 1}, (float[]){3});
  mb_init_f32(b, "s1", 1, (int64_t[]){1}, (float[]){2});
  mb_init_f32(b, "s2", 1, (int64_t[]){1}, (float[]){5});
  mb_init_f32(b, "zero", 1, (int64_t[]){1}, (float[]){0});
  mb_init_f32(b, "one", 1, (int64_t[]){1}, (float[]){1});
  mb_node(b, "Conv", "x,w", "c1", 0, NULL);
  mb_node(b, "BatchNormalization", "c1,s1,zero,zero,one", "y1", 1,
          (mb_attr[]){MB_FLOAT("epsilon", 0.0f)});
  mb_node(b, "Conv", "x,w", "c2", 0, NULL);
  mb_node(b, "BatchNormalization", "c2,s2,zero,zero,one", "y2", 1,
          (mb_attr[]){MB_FLOAT("epsilon", 0.0f)});
  mb_output(b, "y1");
  mb_output(b, "y2");
  clcnn_model *m = load(b);
  clcnn_session *s = cpu_session(m, NULL, 0);
  ck_assert_int_eq(live_nodes(s, CLCNN_OP_BATCHNORM), 0);
  float in[1] = {2};
  clcnn_tensor x = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4, .dims = {1, 1, 1, 1}, .data = in};
  ck_assert_int_eq(clcnn_session_set_input(s, "x", &x), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
  clcnn_tensor t;
  ck_assert_int_eq(clcnn_session_output(s, "y1", &t), CLCNN_OK);
  ck_assert_float_eq_tol(((float *)t.data)[0], 12.0f, 1e-5f);
  ck_assert_int_eq(clcnn_session_output(s, "y2", &t), CLCNN_OK);
  ck_assert_float_eq_tol(((float *)t.data)[0], 30.0f, 1e-5f);
  clcnn_session_free(s);
  clcnn_model_free(m);
  mb_free(b);
}
END_TEST

/* Plain loops: y = relu(conv(x) + bias), NCHW, square kernel k, stride st,
 * pad k / 2, batch 1. */
static void naive_conv(const float *x, int c, int h, const float *w, const float *bias, int m,
                       int k, int st, float *y, int oh) {
  for (int o = 0; o < m; o++)
    for (int r = 0; r < oh; r++)
      for (int q = 0; q < oh; q++) {
        double acc = bias[o];
        for (int ci = 0; ci < c; ci++)
          for (int u = 0; u < k; u++)
            for (int v = 0; v < k; v++) {
              int ir = r * st - k / 2 + u, iq = q * st - k / 2 + v;
              if (ir < 0 || ir >= h || iq < 0 || iq >= h) continue;
              acc += (double)w[((o * c + ci) * k + u) * k + v] * x[(ci * h + ir) * h + iq];
            }
        y[(o * oh + r) * oh + q] = acc > 0 ? (float)acc : 0.0f;
      }
}

/* The CPU backend's nodes share one scratch buffer (cpu_scratch_get): a
 * chain of convolutions of different sizes on the oneDNN path (where the
 * build has it) and the im2col path, in two sessions of one model run in
 * turn, twice each with new inputs, against plain loops. */
START_TEST(cpu_scratch_shared_by_nodes) {
  enum { C0 = 32, H0 = 24, C1 = 48, C2 = 32, H2 = 12, C3 = 64 };
  static float w1[C1 * C0 * 9], w2[C2 * C1 * 9], w3[C3 * C2 * 9], b1[C1], b2[C2], b3[C3];
  uint32_t r = 7;
#define RND() ((float)((r = r * 1664525u + 1013904223u) >> 9) / (float)(1 << 23) - 0.5f)
  for (size_t i = 0; i < sizeof w1 / 4; i++) w1[i] = RND() * 0.2f;
  for (size_t i = 0; i < sizeof w2 / 4; i++) w2[i] = RND() * 0.2f;
  for (size_t i = 0; i < sizeof w3 / 4; i++) w3[i] = RND() * 0.2f;
  for (int i = 0; i < C1; i++) b1[i] = RND();
  for (int i = 0; i < C2; i++) b2[i] = RND();
  for (int i = 0; i < C3; i++) b3[i] = RND();
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, C0, H0, H0});
  mb_init_f32(b, "w1", 4, (int64_t[]){C1, C0, 3, 3}, w1);
  mb_init_f32(b, "w2", 4, (int64_t[]){C2, C1, 3, 3}, w2);
  mb_init_f32(b, "w3", 4, (int64_t[]){C3, C2, 3, 3}, w3);
  mb_init_f32(b, "b1", 1, (int64_t[]){C1}, b1);
  mb_init_f32(b, "b2", 1, (int64_t[]){C2}, b2);
  mb_init_f32(b, "b3", 1, (int64_t[]){C3}, b3);
  mb_attr p1[] = {MB_INTS("pads", 1, 1, 1, 1)};
  mb_attr p1s2[] = {MB_INTS("pads", 1, 1, 1, 1), MB_INTS("strides", 2, 2)};
  mb_node(b, "Conv", "x,w1,b1", "c1", 1, p1);   /* 8M multiply-adds: oneDNN */
  mb_node(b, "Relu", "c1", "r1", 0, NULL);
  mb_node(b, "Conv", "r1,w2,b2", "c2", 2, p1s2); /* 2M: im2col */
  mb_node(b, "Relu", "c2", "r2", 0, NULL);
  mb_node(b, "Conv", "r2,w3,b3", "c3", 1, p1);   /* 2.7M: im2col, another size */
  mb_node(b, "Relu", "c3", "y", 0, NULL);
  mb_output(b, "y");
  mb_output(b, "r1");
  clcnn_model *m = load(b);
  clcnn_session *s[2] = {cpu_session(m, NULL, 0), cpu_session(m, NULL, 0)};
  static float x[C0 * H0 * H0], y1[C1 * H0 * H0], y2[C2 * H2 * H2], y3[C3 * H2 * H2];
  for (int round = 0; round < 4; round++) {
    for (size_t i = 0; i < sizeof x / 4; i++) x[i] = RND();
    naive_conv(x, C0, H0, w1, b1, C1, 3, 1, y1, H0);
    naive_conv(y1, C1, H0, w2, b2, C2, 3, 2, y2, H2);
    naive_conv(y2, C2, H2, w3, b3, C3, 3, 1, y3, H2);
    clcnn_session *sk = s[round % 2];
    clcnn_tensor tx = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4, .dims = {1, C0, H0, H0}, .data = x};
    ck_assert_int_eq(clcnn_session_set_input(sk, "x", &tx), CLCNN_OK);
    ck_assert_msg(clcnn_session_run(sk) == CLCNN_OK, "%s", clcnn_session_error(sk));
    clcnn_tensor t;
    ck_assert_int_eq(clcnn_session_output(sk, "r1", &t), CLCNN_OK);
    for (int i = 0; i < C1 * H0 * H0; i++)
      ck_assert_msg(fabsf(((float *)t.data)[i] - y1[i]) < 1e-4f, "round %d r1[%d]", round, i);
    ck_assert_int_eq(clcnn_session_output(sk, "y", &t), CLCNN_OK);
    for (int i = 0; i < C3 * H2 * H2; i++)
      ck_assert_msg(fabsf(((float *)t.data)[i] - y3[i]) < 1e-4f * (1 + fabsf(y3[i])),
                    "round %d y[%d] = %g, expected %g", round, i, ((float *)t.data)[i], y3[i]);
  }
#undef RND
  clcnn_session_free(s[0]);
  clcnn_session_free(s[1]);
  clcnn_model_free(m);
  mb_free(b);
}
END_TEST

static size_t heap_in_use(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

/* The oneDNN convolutions' reordered weights are the model's, shared by its
 * sessions: a second session of a model with 2.4 MB of weights allocates a
 * fraction of what the first did, and both compute the convolution (against
 * plain loops), also after the first is freed. */
START_TEST(cpu_packed_weights_shared_by_sessions) {
  enum { C = 256, H = 8 };
  static float w[C * C * 9], bias[C], x[C * H * H], want[C * H * H];
  uint32_t r = 11;
#define RND() ((float)((r = r * 1664525u + 1013904223u) >> 9) / (float)(1 << 23) - 0.5f)
  for (size_t i = 0; i < sizeof w / 4; i++) w[i] = RND() * 0.05f;
  for (int i = 0; i < C; i++) bias[i] = RND();
  for (size_t i = 0; i < sizeof x / 4; i++) x[i] = RND();
#undef RND
  naive_conv(x, C, H, w, bias, C, 3, 1, want, H);
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, C, H, H});
  mb_init_f32(b, "w", 4, (int64_t[]){C, C, 3, 3}, w);
  mb_init_f32(b, "b", 1, (int64_t[]){C}, bias);
  mb_node(b, "Conv", "x,w,b", "c", 1, (mb_attr[]){MB_INTS("pads", 1, 1, 1, 1)});
  mb_node(b, "Relu", "c", "y", 0, NULL);
  mb_output(b, "y");
  clcnn_model *m = load(b);
  size_t h0 = heap_in_use();
  clcnn_session *s1 = cpu_session(m, NULL, 0);
  size_t h1 = heap_in_use();
  clcnn_session *s2 = cpu_session(m, NULL, 0);
  size_t h2 = heap_in_use();
  if (CLCNN_HAVE_DNNL && h1 > h0) /* (a sanitizer's allocator reports nothing) */
    ck_assert_msg(h2 - h1 < (h1 - h0) / 2 && h1 - h0 > sizeof w,
                  "first session %zu bytes, second %zu (weights %zu)", h1 - h0, h2 - h1,
                  sizeof w);
  clcnn_session *order[3] = {s1, s2, s2};
  for (int k = 0; k < 3; k++) {
    if (k == 2) clcnn_session_free(s1);
    clcnn_tensor tx = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4, .dims = {1, C, H, H}, .data = x};
    ck_assert_int_eq(clcnn_session_set_input(order[k], "x", &tx), CLCNN_OK);
    ck_assert_msg(clcnn_session_run(order[k]) == CLCNN_OK, "%s", clcnn_session_error(order[k]));
    clcnn_tensor t;
    ck_assert_int_eq(clcnn_session_output(order[k], "y", &t), CLCNN_OK);
    for (int i = 0; i < C * H * H; i++)
      ck_assert_msg(fabsf(((float *)t.data)[i] - want[i]) < 1e-4f * (1 + fabsf(want[i])),
                    "session %d: y[%d] = %g, expected %g", k, i, ((float *)t.data)[i], want[i]);
  }
  clcnn_session_free(s2);
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

/* The float8 and float4 conversions against values of ONNX's tables (the
 * types' definitions and Cast's saturate rules), and every code's round
 * trip: decoding then encoding gives the code back (NaN codes: a NaN). */
START_TEST(float8_conversions) {
  const clcnn_dtype E4M3FN = CLCNN_DTYPE_FLOAT8E4M3FN, E4M3FNUZ = CLCNN_DTYPE_FLOAT8E4M3FNUZ,
                    E5M2 = CLCNN_DTYPE_FLOAT8E5M2, E5M2FNUZ = CLCNN_DTYPE_FLOAT8E5M2FNUZ,
                    E2M1 = CLCNN_DTYPE_FLOAT4E2M1, E8M0 = CLCNN_DTYPE_FLOAT8E8M0;
  const struct {
    clcnn_dtype dt;
    double v;
    int sat, mode;
    unsigned want;
  } cases[] = {
      /* E4M3FN: max 448, min subnormal 2^-9, NaN S.1111.111, -0 kept */
      {E4M3FN, 448, 1, 0, 0x7e}, {E4M3FN, 0x1p-9, 1, 0, 0x01}, {E4M3FN, -0.0, 1, 0, 0x80},
      {E4M3FN, 464, 0, 0, 0x7e}, /* half way to 480: ties to even */
      {E4M3FN, 480, 1, 0, 0x7e}, {E4M3FN, 480, 0, 0, 0x7f}, {E4M3FN, INFINITY, 1, 0, 0x7e},
      {E4M3FN, INFINITY, 0, 0, 0x7f}, {E4M3FN, -INFINITY, 0, 0, 0xff}, {E4M3FN, NAN, 1, 0, 0x7f},
      {E4M3FN, 0x1p-11, 1, 0, 0x00}, /* a quarter of the smallest subnormal */
      /* E4M3FNUZ: max 240, min subnormal 2^-10, one NaN 0x80, no -0 */
      {E4M3FNUZ, 240, 1, 0, 0x7f}, {E4M3FNUZ, -240, 1, 0, 0xff}, {E4M3FNUZ, 0x1p-10, 1, 0, 0x01},
      {E4M3FNUZ, -0.0, 1, 0, 0x00}, {E4M3FNUZ, -0x1p-13, 1, 0, 0x00}, {E4M3FNUZ, 1e6, 1, 0, 0x7f},
      {E4M3FNUZ, 1e6, 0, 0, 0x80}, {E4M3FNUZ, -INFINITY, 0, 0, 0x80}, {E4M3FNUZ, NAN, 1, 0, 0x80},
      /* E5M2: max 57344, min subnormal 2^-16, infinities */
      {E5M2, 57344, 1, 0, 0x7b}, {E5M2, 0x1p-16, 1, 0, 0x01}, {E5M2, 1e6, 1, 0, 0x7b},
      {E5M2, 1e6, 0, 0, 0x7c}, {E5M2, -1e6, 0, 0, 0xfc}, {E5M2, INFINITY, 1, 0, 0x7b},
      {E5M2, -INFINITY, 0, 0, 0xfc}, {E5M2, -0.0, 1, 0, 0x80},
      /* E5M2FNUZ: max 57344, min subnormal 2^-17, one NaN 0x80 */
      {E5M2FNUZ, 57344, 1, 0, 0x7f}, {E5M2FNUZ, 0x1p-17, 1, 0, 0x01}, {E5M2FNUZ, 1e6, 0, 0, 0x80},
      {E5M2FNUZ, -0.0, 1, 0, 0x00},
      /* E2M1: 0, 0.5, 1, 1.5, 2, 3, 4, 6; always saturates */
      {E2M1, 6, 1, 0, 0x7}, {E2M1, 0.5, 1, 0, 0x1}, {E2M1, 0.25, 1, 0, 0x0},
      {E2M1, 0.75, 1, 0, 0x2},
      {E2M1, 2.5, 1, 0, 0x4}, {E2M1, 5, 1, 0, 0x6}, {E2M1, 100, 0, 0, 0x7}, {E2M1, -100, 1, 0, 0xf},
      {E2M1, -0.0, 1, 0, 0x8}, {E2M1, INFINITY, 1, 0, 0x7},
      /* E8M0: 2^(b - 127); round_mode up / down / nearest; out of range:
       * saturated to 0 or 254, or NaN (Cast's table) */
      {E8M0, 1.0, 1, F8_ROUND_UP, 127}, {E8M0, 1.1, 1, F8_ROUND_UP, 128},
      {E8M0, 1.1, 1, F8_ROUND_DOWN, 127}, {E8M0, 1.1, 1, F8_ROUND_NEAREST, 127},
      {E8M0, 1.5, 1, F8_ROUND_NEAREST, 128}, {E8M0, 0.125, 1, F8_ROUND_UP, 124},
      {E8M0, 0x1.8p127, 1, F8_ROUND_UP, 254}, {E8M0, 0x1.8p127, 0, F8_ROUND_UP, 255},
      {E8M0, NAN, 1, F8_ROUND_UP, 255}, {E8M0, 0.0, 1, F8_ROUND_UP, 0},
      {E8M0, 0.0, 0, F8_ROUND_NEAREST, 255}, {E8M0, INFINITY, 1, F8_ROUND_UP, 254},
      {E8M0, INFINITY, 0, F8_ROUND_UP, 255}, {E8M0, 0x1p-127, 1, F8_ROUND_UP, 0},
      {E8M0, -2.0, 0, F8_ROUND_UP, 255},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    unsigned got = f8_from_double(cases[i].dt, cases[i].v, cases[i].sat, cases[i].mode);
    ck_assert_msg(got == cases[i].want, "%s from %g (saturate %d, mode %d): 0x%02x, want 0x%02x",
                  dtype_name(cases[i].dt), cases[i].v, cases[i].sat, cases[i].mode, got,
                  cases[i].want);
  }
  ck_assert_float_eq(f8_to_float(E4M3FN, 0x7e), 448.0f);
  ck_assert(isnan(f8_to_float(E4M3FN, 0xff)));
  ck_assert_float_eq(f8_to_float(E4M3FNUZ, 0x01), 0x1p-10f);
  ck_assert(isnan(f8_to_float(E4M3FNUZ, 0x80)));
  ck_assert(isinf(f8_to_float(E5M2, 0xfc)) && f8_to_float(E5M2, 0xfc) < 0);
  ck_assert(isnan(f8_to_float(E5M2, 0x7e)));
  ck_assert_float_eq(f8_to_float(E5M2FNUZ, 0x7f), 57344.0f);
  ck_assert_float_eq(f8_to_float(E2M1, 0xf), -6.0f);
  ck_assert_float_eq(f8_to_float(E8M0, 0), 0x1p-127f);
  ck_assert(isnan(f8_to_float(E8M0, 0xff)));
  const clcnn_dtype all[] = {E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ, E2M1, E8M0};
  for (size_t t = 0; t < sizeof all / sizeof *all; t++) {
    unsigned codes = all[t] == E2M1 ? 16 : 256;
    for (unsigned b = 0; b < codes; b++) {
      float f = f8_to_float(all[t], (uint8_t)b);
      unsigned back = f8_from_double(all[t], f, 0, F8_ROUND_DOWN);
      if (isnan(f)) ck_assert(isnan(f8_to_float(all[t], (uint8_t)back)));
      else ck_assert_msg(back == b, "%s 0x%02x -> %g -> 0x%02x", dtype_name(all[t]), b, f, back);
    }
  }
}
END_TEST

/* A float8 QDQ pair on an activation and a DequantizeLinear of float8
 * weights: float32 inside, rounded to E4M3FN (ties to even) with saturate,
 * or to NaN beyond 448 without it. */
START_TEST(float8_qdq_chain) {
  float x[4] = {1.0f, 100.0f, 1000.0f, -3.3f}, y[4];
  const uint8_t w[4] = {0x38, 0x40, 0xb8, 0x00}; /* 1, 2, -1, 0 */
  const uint8_t zero = 0;
  clcnn_tensor in = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 1, .dims = {4}, .data = x};
  const char *names[1] = {"x"};
  for (int sat = 1; sat >= 0; sat--) {
    mb *b = mb_new(21);
    mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){4});
    mb_init_f32(b, "s", 0, NULL, (float[]){2.0f});
    mb_init(b, "zp", CLCNN_DTYPE_FLOAT8E4M3FN, 0, NULL, &zero);
    mb_init(b, "w", CLCNN_DTYPE_FLOAT8E4M3FN, 1, (int64_t[]){4}, w);
    mb_node(b, "QuantizeLinear", "x,s,zp", "q", 1, (mb_attr[]){MB_INT("saturate", sat)});
    mb_node(b, "DequantizeLinear", "q,s", "dq", 0, NULL); /* its type: from q's writer */
    mb_node(b, "DequantizeLinear", "w,s", "dw", 0, NULL);
    mb_node(b, "Add", "dq,dw", "y", 0, NULL);
    mb_output(b, "y");
    clcnn_tensor info;
    run_model(b, 1, names, &in, "y", &info, y, sizeof y);
    ck_assert_int_eq(info.dtype, CLCNN_DTYPE_FLOAT32);
    /* x / 2 = 0.5, 50 -> 48, 500 -> 448 (or NaN), -1.65 -> -1.625; times 2,
     * plus 2 * w */
    ck_assert_float_eq(y[0], 1.0f + 2.0f);
    ck_assert_float_eq(y[1], 96.0f + 4.0f);
    if (sat) ck_assert_float_eq(y[2], 896.0f - 2.0f);
    else ck_assert(isnan(y[2]));
    ck_assert_float_eq(y[3], -3.25f);
    mb_free(b);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("runtime");
  TCase *tc = tcase_create("runtime");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, importer_io_and_symbolic_dims);
  tcase_add_test(tc, shape_subgraph_folds);
  tcase_add_test(tc, vit_shape_subgraph_folds);
  tcase_add_test(tc, mod_sign_rules);
  tcase_add_test(tc, where_broadcasts_three_ways);
  tcase_add_test(tc, argmax_ties_and_keepdims);
  tcase_add_test(tc, depth_to_space_modes);
  tcase_add_test(tc, range_lengths);
  tcase_add_test(tc, if_inlines_taken_branch);
  tcase_add_test(tc, if_needs_constant_condition);
  tcase_add_test(tc, index_ops_fold);
  tcase_add_test(tc, conv_bn_relu_folds_and_fuses);
  tcase_add_test(tc, conv_bn_shared_weights_fold_as_copies);
  tcase_add_test(tc, cpu_scratch_shared_by_nodes);
  tcase_add_test(tc, cpu_packed_weights_shared_by_sessions);
  tcase_add_test(tc, identity_and_dropout_removed);
  tcase_add_test(tc, planner_reuses_and_never_overlaps);
  tcase_add_test(tc, session_reports_memory);
  tcase_add_test(tc, float8_conversions);
  tcase_add_test(tc, float8_qdq_chain);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
