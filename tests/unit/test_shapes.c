/* Shapes decided by values: inputs bound at session creation
 * (clcnn_session_options.bound_inputs, clcnn_model_input_needs_value), and
 * outputs whose shapes depend on the data (NonZero, NonMaxSuppression: run
 * per run after the static schedule). The detection head against
 * onnxruntime is tests/conformance/detection_ort.py. */
#include <check.h>
#include <math.h>
#include <stddef.h>
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
  mb_free(b);
  return m;
}

static clcnn_status create(const clcnn_model *m, const clcnn_bound_input *bound, int nbound,
                           const clcnn_input_shape *shapes, int nshapes, clcnn_session **s) {
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "cpu";
  so.bound_inputs = bound;
  so.bound_input_count = nbound;
  return clcnn_session_create(m, &so, shapes, nshapes, s);
}

static int needs(const clcnn_model *m, int i) {
  int n = -1;
  ck_assert_int_eq(clcnn_model_input_needs_value(m, i, &n), CLCNN_OK);
  return n;
}

/* y = Reshape(x, Concat(head, [-1])) + bias: `head` decides the shape through
 * a Concat that folds; x only through its shape (Shape is not a value use);
 * bias not at all. */
static clcnn_model *reshape_model(void) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 2, (int64_t[]){4, 6});
  mb_input(b, "head", CLCNN_DTYPE_INT64, 1, (int64_t[]){1});
  mb_input(b, "bias", CLCNN_DTYPE_FLOAT32, 0, NULL);
  mb_init_i64(b, "minus1", 1, (int64_t[]){1}, (int64_t[]){-1});
  mb_node(b, "Shape", "x", "xs", 0, NULL);
  mb_node(b, "Concat", "head,minus1", "shape", 1, (mb_attr[]){MB_INT("axis", 0)});
  mb_node(b, "Reshape", "x,shape", "r", 0, NULL);
  mb_node(b, "Add", "r,bias", "y", 0, NULL);
  mb_output(b, "y");
  mb_output(b, "xs");
  return load(b);
}

START_TEST(needs_value_follows_folding_paths) {
  clcnn_model *m = reshape_model();
  ck_assert_int_eq(needs(m, 0), 0);
  ck_assert_int_eq(needs(m, 1), 1);
  ck_assert_int_eq(needs(m, 2), 0);
  int n;
  ck_assert_int_eq(clcnn_model_input_needs_value(m, 3, &n), CLCNN_ERROR_INVALID_ARGUMENT);
  ck_assert_int_eq(clcnn_model_input_needs_value(m, 0, NULL), CLCNN_ERROR_INVALID_ARGUMENT);
  ck_assert_int_eq(clcnn_model_input_needs_value(NULL, 0, &n), CLCNN_ERROR_INVALID_ARGUMENT);
  clcnn_model_free(m);
}
END_TEST

START_TEST(bound_input_decides_the_shape) {
  clcnn_model *m = reshape_model();
  /* Without its value the session cannot be made, and says why. */
  clcnn_session *s = NULL;
  ck_assert_int_eq(create(m, NULL, 0, NULL, 0, &s), CLCNN_ERROR_UNSUPPORTED);
  ck_assert_ptr_null(s);
  ck_assert_ptr_nonnull(strstr(clcnn_last_error(), "must be a constant"));

  int64_t head[1] = {3};
  clcnn_bound_input bi = {"head", {CLCNN_DTYPE_INT64, 1, {1}, head}};
  ck_assert_msg(create(m, &bi, 1, NULL, 0, &s) == CLCNN_OK, "%s", clcnn_last_error());
  head[0] = 12; /* copied at creation: the caller's buffer may change */
  clcnn_tensor t;
  ck_assert_int_eq(clcnn_session_input(s, "y", &t), CLCNN_OK);
  ck_assert_int_eq(t.rank, 2);
  ck_assert_int_eq(t.dims[0], 3);
  ck_assert_int_eq(t.dims[1], 8);
  ck_assert_int_eq(clcnn_session_input(s, "head", &t), CLCNN_OK); /* still described */
  ck_assert_int_eq(t.rank, 1);
  ck_assert_int_eq(t.dims[0], 1);

  float x[24], bias = 0.5f;
  for (int i = 0; i < 24; i++) x[i] = (float)i;
  clcnn_tensor tx = {CLCNN_DTYPE_FLOAT32, 2, {4, 6}, x};
  clcnn_tensor tb = {CLCNN_DTYPE_FLOAT32, 0, {0}, &bias};
  ck_assert_int_eq(clcnn_session_set_input(s, "x", &tx), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_set_input(s, "bias", &tb), CLCNN_OK);
  /* The bound value itself is accepted (and changes nothing); another is not. */
  int64_t same[1] = {3};
  clcnn_tensor th = {CLCNN_DTYPE_INT64, 1, {1}, same};
  ck_assert_int_eq(clcnn_session_set_input(s, "head", &th), CLCNN_OK);
  th.data = head; /* 12 */
  ck_assert_int_eq(clcnn_session_set_input(s, "head", &th), CLCNN_ERROR_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(clcnn_session_error(s), "bound"));
  ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_output(s, "y", &t), CLCNN_OK);
  ck_assert_int_eq(t.dims[0], 3);
  for (int i = 0; i < 24; i++) ck_assert_float_eq(((float *)t.data)[i], x[i] + 0.5f);
  ck_assert_int_eq(clcnn_session_output(s, "xs", &t), CLCNN_OK);
  ck_assert_int_eq(((int64_t *)t.data)[0], 4);
  ck_assert_int_eq(((int64_t *)t.data)[1], 6);
  clcnn_session_free(s);

  /* Any input may be bound: here x too, with its shape given as well. */
  clcnn_bound_input two[2] = {bi, {"x", tx}};
  two[0].value.data = same;
  clcnn_input_shape sh = {"x", 2, {4, 6}};
  ck_assert_msg(create(m, two, 2, &sh, 1, &s) == CLCNN_OK, "%s", clcnn_last_error());
  ck_assert_int_eq(clcnn_session_set_input(s, "bias", &tb), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_output(s, "y", &t), CLCNN_OK);
  ck_assert_float_eq(((float *)t.data)[23], 23.5f);
  clcnn_session_free(s);

  /* Options of an older size, without the bound_inputs fields, still work
   * for models that need no values. */
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "cpu";
  so.size = offsetof(clcnn_session_options, bound_inputs);
  so.bound_inputs = &bi; /* beyond `size`: never read */
  so.bound_input_count = 1;
  ck_assert_int_eq(clcnn_session_create(m, &so, NULL, 0, &s), CLCNN_ERROR_UNSUPPORTED);
  clcnn_model_free(m);
}
END_TEST

START_TEST(bound_input_errors) {
  clcnn_model *m = reshape_model();
  clcnn_session *s = (clcnn_session *)&s;
  int64_t head[2] = {3, 4};
  int32_t head32[1] = {3};
  struct {
    clcnn_bound_input b[2];
    int n;
    clcnn_input_shape shape;
    int nshapes;
    clcnn_status want;
    const char *msg;
  } cases[] = {
      {{{"nope", {CLCNN_DTYPE_INT64, 1, {1}, head}}}, 1, {0}, 0, CLCNN_ERROR_NOT_FOUND,
       "no input 'nope'"},
      {{{"head", {CLCNN_DTYPE_INT32, 1, {1}, head32}}}, 1, {0}, 0, CLCNN_ERROR_SHAPE, "int32"},
      {{{"head", {CLCNN_DTYPE_INT64, 1, {2}, head}}}, 1, {0}, 0, CLCNN_ERROR_SHAPE, "fixed"},
      {{{"head", {CLCNN_DTYPE_INT64, 2, {1, 1}, head}}}, 1, {0}, 0, CLCNN_ERROR_SHAPE, "rank"},
      {{{"head", {CLCNN_DTYPE_INT64, 1, {1}, NULL}}}, 1, {0}, 0, CLCNN_ERROR_INVALID_ARGUMENT,
       "NULL"},
      {{{NULL, {CLCNN_DTYPE_INT64, 1, {1}, head}}}, 1, {0}, 0, CLCNN_ERROR_INVALID_ARGUMENT,
       "no name"},
      {{{"head", {CLCNN_DTYPE_INT64, 1, {1}, head}}, {"head", {CLCNN_DTYPE_INT64, 1, {1}, head}}},
       2, {0}, 0, CLCNN_ERROR_INVALID_ARGUMENT, "twice"},
      {{{"x", {CLCNN_DTYPE_FLOAT32, 2, {4, 6}, head}}}, 1, {"x", 2, {4, 7}}, 1, CLCNN_ERROR_SHAPE,
       "fixed"},
      {{{"head", {CLCNN_DTYPE_INT64, 1, {1}, head}}}, -1, {0}, 0, CLCNN_ERROR_INVALID_ARGUMENT,
       "negative"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    clcnn_status st = create(m, cases[i].b, cases[i].n, &cases[i].shape, cases[i].nshapes, &s);
    ck_assert_msg(st == cases[i].want, "case %zu: status %d (%s), expected %d", i, st,
                  clcnn_last_error(), cases[i].want);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(clcnn_last_error(), cases[i].msg), "case %zu: message '%s' lacks '%s'",
                  i, clcnn_last_error(), cases[i].msg);
  }
  /* A tiler feeds its one input itself. */
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  clcnn_bound_input bi = {"head", {CLCNN_DTYPE_INT64, 1, {1}, head}};
  so.bound_inputs = &bi;
  so.bound_input_count = 1;
  clcnn_tiler *t = NULL;
  ck_assert_int_eq(clcnn_tiler_create(m, &so, NULL, &t), CLCNN_ERROR_INVALID_ARGUMENT);
  clcnn_model_free(m);
}
END_TEST

/* ------------------------------------------------- data-dependent shapes */

/* nz = NonZero(x), its Shape, and a static Relu beside them. */
static clcnn_model *nonzero_model(void) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 2, (int64_t[]){3, 4});
  mb_node(b, "NonZero", "x", "nz", 0, NULL);
  mb_node(b, "Shape", "nz", "nz_shape", 0, NULL);
  mb_node(b, "Relu", "x", "r", 0, NULL);
  mb_output(b, "nz");
  mb_output(b, "nz_shape");
  mb_output(b, "r");
  return load(b);
}

START_TEST(nonzero_shape_changes_per_run) {
  clcnn_model *m = nonzero_model();
  clcnn_session *s = NULL;
  ck_assert_msg(create(m, NULL, 0, NULL, 0, &s) == CLCNN_OK, "%s", clcnn_last_error());
  clcnn_tensor t;
  /* Before a run the data-dependent shapes are unknown. */
  ck_assert_int_eq(clcnn_session_input(s, "nz", &t), CLCNN_OK);
  ck_assert_int_eq(t.rank, 2);
  ck_assert_int_eq(t.dims[0], -1);
  ck_assert_int_eq(t.dims[1], -1);
  ck_assert_int_eq(clcnn_session_input(s, "nz_shape", &t), CLCNN_OK);
  ck_assert_int_eq(t.rank, -1);
  ck_assert_int_eq(clcnn_session_input(s, "r", &t), CLCNN_OK);
  ck_assert_int_eq(t.dims[1], 4);
  ck_assert_int_eq(clcnn_session_output(s, "nz", &t), CLCNN_ERROR_INVALID_ARGUMENT);
  const int counts[] = {5, 0, 12, 1};
  for (int run = 0; run < 4; run++) {
    float x[12] = {0};
    for (int i = 0, k = 0; i < 12 && k < counts[run]; i++)
      if ((i * 7 + run) % 12 < counts[run]) x[i] = (float)(i + 1) * (i % 2 ? -1.0f : 1.0f), k++;
    int want = 0;
    for (int i = 0; i < 12; i++) want += x[i] != 0;
    ck_assert_int_eq(want, counts[run]);
    clcnn_tensor tx = {CLCNN_DTYPE_FLOAT32, 2, {3, 4}, x};
    ck_assert_int_eq(clcnn_session_set_input(s, "x", &tx), CLCNN_OK);
    ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "%s", clcnn_session_error(s));
    ck_assert_int_eq(clcnn_session_output(s, "nz", &t), CLCNN_OK);
    ck_assert_int_eq(t.dtype, CLCNN_DTYPE_INT64);
    ck_assert_int_eq(t.rank, 2);
    ck_assert_int_eq(t.dims[0], 2);
    ck_assert_int_eq(t.dims[1], want);
    const int64_t *nz = t.data;
    for (int i = 0, j = 0; i < 12; i++) {
      if (x[i] == 0) continue;
      ck_assert_int_eq(nz[j], i / 4);
      ck_assert_int_eq(nz[want + j], i % 4);
      j++;
    }
    ck_assert_int_eq(clcnn_session_output(s, "nz_shape", &t), CLCNN_OK);
    ck_assert_int_eq(t.dims[0], 2);
    ck_assert_int_eq(((int64_t *)t.data)[0], 2);
    ck_assert_int_eq(((int64_t *)t.data)[1], want);
    ck_assert_int_eq(clcnn_session_input(s, "nz", &t), CLCNN_OK); /* the last run's */
    ck_assert_int_eq(t.dims[1], want);
    ck_assert_ptr_null(t.data);
    ck_assert_int_eq(clcnn_session_output(s, "r", &t), CLCNN_OK);
    for (int i = 0; i < 12; i++) ck_assert_float_eq(((float *)t.data)[i], x[i] > 0 ? x[i] : 0);
  }
  clcnn_session_free(s);
  clcnn_model_free(m);
}
END_TEST

/* NonZero of a constant folds when the session is created: nothing per run. */
START_TEST(nonzero_of_constant_folds) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_INT64, 1, (int64_t[]){1});
  mb_init_i64(b, "c", 1, (int64_t[]){5}, (int64_t[]){0, 3, 0, 0, -1});
  mb_node(b, "NonZero", "c", "nz", 0, NULL);
  mb_node(b, "Add", "nz,x", "y", 0, NULL);
  mb_output(b, "y");
  clcnn_model *m = load(b);
  clcnn_session *s = NULL;
  ck_assert_msg(create(m, NULL, 0, NULL, 0, &s) == CLCNN_OK, "%s", clcnn_last_error());
  ck_assert_ptr_null(s->tail_map);
  clcnn_tensor t;
  ck_assert_int_eq(clcnn_session_input(s, "y", &t), CLCNN_OK);
  ck_assert_int_eq(t.rank, 2);
  ck_assert_int_eq(t.dims[0], 1);
  ck_assert_int_eq(t.dims[1], 2);
  int64_t one = 10;
  clcnn_tensor tx = {CLCNN_DTYPE_INT64, 1, {1}, &one};
  ck_assert_int_eq(clcnn_session_set_input(s, "x", &tx), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_output(s, "y", &t), CLCNN_OK);
  ck_assert_int_eq(((int64_t *)t.data)[0], 11);
  ck_assert_int_eq(((int64_t *)t.data)[1], 14);
  clcnn_session_free(s);
  clcnn_model_free(m);
}
END_TEST

/* NonMaxSuppression's inputs are checked when the session is created; a
 * NaN score neither crashes nor is selected ahead of real ones. */
START_TEST(nms_checks_and_nan_scores) {
  mb *b = mb_new(11);
  mb_input(b, "boxes", CLCNN_DTYPE_FLOAT32, 3, (int64_t[]){1, 3, 5});
  mb_input(b, "scores", CLCNN_DTYPE_FLOAT32, 3, (int64_t[]){1, 1, 3});
  mb_node(b, "NonMaxSuppression", "boxes,scores", "sel", 0, NULL);
  mb_output(b, "sel");
  clcnn_model *m = load(b);
  clcnn_session *s = NULL;
  ck_assert_int_eq(create(m, NULL, 0, NULL, 0, &s), CLCNN_ERROR_SHAPE);
  ck_assert_ptr_nonnull(strstr(clcnn_last_error(), "[batches, boxes, 4]"));
  clcnn_model_free(m);

  b = mb_new(11);
  mb_input(b, "boxes", CLCNN_DTYPE_FLOAT32, 3, (int64_t[]){1, 3, 4});
  mb_input(b, "scores", CLCNN_DTYPE_FLOAT32, 3, (int64_t[]){1, 1, 3});
  mb_init_i64(b, "max", 1, (int64_t[]){1}, (int64_t[]){2});
  mb_node(b, "NonMaxSuppression", "boxes,scores,max", "sel", 1,
          (mb_attr[]){MB_INT("center_point_box", 1)});
  mb_output(b, "sel");
  m = load(b);
  ck_assert_msg(create(m, NULL, 0, NULL, 0, &s) == CLCNN_OK, "%s", clcnn_last_error());
  float boxes[12] = {0, 0, 1, 1, 5, 5, 1, 1, 10, 10, 1, 1}; /* three apart */
  float scores[3] = {NAN, 0.5f, 0.7f};
  clcnn_tensor tb = {CLCNN_DTYPE_FLOAT32, 3, {1, 3, 4}, boxes};
  clcnn_tensor ts = {CLCNN_DTYPE_FLOAT32, 3, {1, 1, 3}, scores};
  ck_assert_int_eq(clcnn_session_set_input(s, "boxes", &tb), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_set_input(s, "scores", &ts), CLCNN_OK);
  ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "%s", clcnn_session_error(s));
  clcnn_tensor t;
  ck_assert_int_eq(clcnn_session_output(s, "sel", &t), CLCNN_OK);
  ck_assert_int_eq(t.dims[0], 2);
  ck_assert_int_eq(((int64_t *)t.data)[2], 2);
  ck_assert_int_eq(((int64_t *)t.data)[5], 1);
  clcnn_session_free(s);
  clcnn_model_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("shapes");
  TCase *tc = tcase_create("bound");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, needs_value_follows_folding_paths);
  tcase_add_test(tc, bound_input_decides_the_shape);
  tcase_add_test(tc, bound_input_errors);
  suite_add_tcase(s, tc);
  TCase *td = tcase_create("dynamic");
  tcase_add_checked_fixture(td, setup, teardown);
  tcase_add_test(td, nonzero_shape_changes_per_run);
  tcase_add_test(td, nonzero_of_constant_folds);
  tcase_add_test(td, nms_checks_and_nan_scores);
  suite_add_tcase(s, td);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
