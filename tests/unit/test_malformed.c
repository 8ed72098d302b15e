/* Malformed and hostile input: every case must give an error status and a
 * message, and nothing may crash or leak (this suite also runs under
 * AddressSanitizer). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clcnn.h"
#include "model_builder.h"

static clcnn_context *ctx;
static char sample_path[4096];

static void setup(void) { ck_assert_int_eq(clcnn_context_create(NULL, &ctx), CLCNN_OK); }
static void teardown(void) { clcnn_context_free(ctx); }

static uint8_t *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc(*len);
  ck_assert(fread(buf, 1, *len, f) == *len);
  fclose(f);
  return buf;
}

/* Loads bytes; expects failure with a non-empty message. */
static clcnn_status load_fails(const uint8_t *data, size_t len, const char *dir) {
  clcnn_model *m = (clcnn_model *)0x1;
  clcnn_status st = clcnn_model_load_memory(ctx, data, len, dir, &m);
  ck_assert_int_ne(st, CLCNN_OK);
  ck_assert_ptr_null(m);
  ck_assert_msg(strlen(clcnn_last_error()) > 0, "no message for status %d", st);
  return st;
}

START_TEST(truncated_files) {
  size_t len;
  uint8_t *buf = read_all(sample_path, &len);
  /* Every prefix shorter than the whole file must fail cleanly or load a
   * consistent model; step through many cut points. */
  for (size_t cut = 0; cut < len; cut += (cut < 4096 ? 7 : 997)) {
    clcnn_model *m = NULL;
    clcnn_status st = clcnn_model_load_memory(ctx, buf, cut, NULL, &m);
    if (st == CLCNN_OK) {
      clcnn_session *s = NULL;
      clcnn_session_create(m, NULL, NULL, 0, &s);
      clcnn_session_free(s);
      clcnn_model_free(m);
    } else {
      ck_assert(strlen(clcnn_last_error()) > 0);
    }
  }
  free(buf);
}
END_TEST

START_TEST(random_bytes) {
  uint64_t x = 12345;
  uint8_t buf[4096];
  for (int round = 0; round < 200; round++) {
    size_t len = 1 + (size_t)(round * 37) % sizeof buf;
    for (size_t i = 0; i < len; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      buf[i] = (uint8_t)x;
    }
    clcnn_model *m = NULL;
    if (clcnn_model_load_memory(ctx, buf, len, NULL, &m) == CLCNN_OK) clcnn_model_free(m);
  }
  /* Flipping bytes of a real model. */
  size_t len;
  uint8_t *model = read_all(sample_path, &len);
  for (int round = 0; round < 100; round++) {
    uint8_t *copy = malloc(len);
    memcpy(copy, model, len);
    for (int k = 0; k < 8; k++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      copy[x % len] ^= (uint8_t)(x >> 32);
    }
    clcnn_model *m = NULL;
    if (clcnn_model_load_memory(ctx, copy, len, NULL, &m) == CLCNN_OK) {
      clcnn_session *s = NULL;
      if (clcnn_session_create(m, NULL, NULL, 0, &s) == CLCNN_OK) {
        clcnn_session_run(s);
        clcnn_session_free(s);
      }
      clcnn_model_free(m);
    }
    free(copy);
  }
  free(model);
}
END_TEST

START_TEST(empty_and_null) {
  load_fails((const uint8_t *)"", 0, NULL);
  clcnn_model *m;
  ck_assert_int_eq(clcnn_model_load_memory(NULL, "x", 1, NULL, &m), CLCNN_ERROR_INVALID_ARGUMENT);
  ck_assert_int_eq(clcnn_model_load_file(ctx, "/nonexistent/model.onnx", &m), CLCNN_ERROR_IO);
  ck_assert_int_eq(clcnn_model_load_file(ctx, "/", &m), CLCNN_ERROR_IO);
  clcnn_model_free(NULL);
  clcnn_session_free(NULL);
  clcnn_context_free(NULL);
}
END_TEST

START_TEST(wrong_wire_type) {
  /* Field 7 (ModelProto.graph) is a message; encode it as a varint. */
  const uint8_t bytes[] = {0x08, 0x08, 0x38, 0x01};
  ck_assert_int_eq(load_fails(bytes, sizeof bytes, NULL), CLCNN_ERROR_INVALID_MODEL);
  /* A length prefix far past the end. */
  const uint8_t bytes2[] = {0x08, 0x08, 0x3a, 0xff, 0xff, 0xff, 0x0f, 0x00};
  ck_assert_int_eq(load_fails(bytes2, sizeof bytes2, NULL), CLCNN_ERROR_INVALID_MODEL);
}
END_TEST

START_TEST(huge_dimension) {
  /* An initializer that claims 2^40 elements. */
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){4});
  mb_init_f32(b, "w", 2, (int64_t[]){(int64_t)1 << 40, 1}, NULL);
  mb_node(b, "Add", "x,w", "y", 0, NULL);
  mb_output(b, "y");
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  ck_assert_int_eq(load_fails(bytes, len, NULL), CLCNN_ERROR_INVALID_MODEL);
  free(bytes);
  mb_free(b);
  /* A graph input of 2^40 elements: loads, but no session. */
  b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 2, (int64_t[]){(int64_t)1 << 20, (int64_t)1 << 20});
  mb_node(b, "Relu", "x", "y", 0, NULL);
  mb_output(b, "y");
  bytes = mb_pack(b, &len);
  clcnn_model *m;
  ck_assert_int_eq(clcnn_model_load_memory(ctx, bytes, len, NULL, &m), CLCNN_OK);
  clcnn_session *s = NULL;
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "cpu";
  ck_assert_int_ne(clcnn_session_create(m, &so, NULL, 0, &s), CLCNN_OK);
  ck_assert_ptr_null(s);
  clcnn_model_free(m);
  free(bytes);
  mb_free(b);
  /* Open dims bound by the caller: each dimension fits, their product does
   * not. 4 x 2^31 x 2^31 x 1 read only by Shape needs no memory at all, and
   * used to give a session with a 96-byte arena. */
  b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){-1, -1, -1, -1});
  mb_node(b, "Shape", "x", "y", 0, NULL);
  mb_output(b, "y");
  bytes = mb_pack(b, &len);
  ck_assert_int_eq(clcnn_model_load_memory(ctx, bytes, len, NULL, &m), CLCNN_OK);
  clcnn_input_shape huge = {"x", 4, {4, (int64_t)1 << 31, (int64_t)1 << 31, 1}};
  ck_assert_int_eq(clcnn_session_create(m, &so, &huge, 1, &s), CLCNN_ERROR_SHAPE);
  ck_assert_ptr_null(s);
  ck_assert_ptr_nonnull(strstr(clcnn_last_error(), "2^34"));
  /* The largest that passes (2^34 elements) and the smallest that fails. */
  clcnn_input_shape edge = {"x", 4, {4, (int64_t)1 << 16, (int64_t)1 << 16, 1}};
  ck_assert_msg(clcnn_session_create(m, &so, &edge, 1, &s) == CLCNN_OK, "%s", clcnn_last_error());
  clcnn_tensor y;
  ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_output(s, "y", &y), CLCNN_OK);
  ck_assert_int_eq(((int64_t *)y.data)[1], (int64_t)1 << 16);
  clcnn_session_free(s);
  s = NULL;
  edge.dims[3] = 2;
  ck_assert_int_eq(clcnn_session_create(m, &so, &edge, 1, &s), CLCNN_ERROR_SHAPE);
  ck_assert_ptr_null(s);
  clcnn_model_free(m);
  free(bytes);
  mb_free(b);
}
END_TEST

/* A session's own element limit (max_tensor_elements): on its inputs and on
 * what shape inference gives (an Expand whose output is 64x larger). */
START_TEST(session_element_limit) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 2, (int64_t[]){-1, 1});
  mb_init_i64(b, "shape", 1, (int64_t[]){2}, (int64_t[]){1, 64});
  mb_node(b, "Expand", "x,shape", "y", 0, NULL);
  mb_output(b, "y");
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  clcnn_model *m;
  ck_assert_int_eq(clcnn_model_load_memory(ctx, bytes, len, NULL, &m), CLCNN_OK);
  clcnn_session *s = NULL;
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "cpu";
  so.max_tensor_elements = 1000;
  /* The largest that passes: 15 x 64 = 960 elements. */
  clcnn_input_shape sh = {"x", 2, {15, 1}};
  ck_assert_msg(clcnn_session_create(m, &so, &sh, 1, &s) == CLCNN_OK, "%s", clcnn_last_error());
  clcnn_session_free(s);
  s = NULL;
  /* 16 x 64 = 1024: the input fits, Expand's output does not. */
  sh.dims[0] = 16;
  ck_assert_int_eq(clcnn_session_create(m, &so, &sh, 1, &s), CLCNN_ERROR_SHAPE);
  ck_assert_ptr_null(s);
  ck_assert_msg(strstr(clcnn_last_error(), "Expand") && strstr(clcnn_last_error(), "1000"), "%s",
                clcnn_last_error());
  /* An input over the limit; a power of two is written as one. */
  so.max_tensor_elements = 512;
  sh.dims[0] = 513;
  ck_assert_int_eq(clcnn_session_create(m, &so, &sh, 1, &s), CLCNN_ERROR_SHAPE);
  ck_assert_msg(strstr(clcnn_last_error(), "'x'") && strstr(clcnn_last_error(), "2^9"), "%s",
                clcnn_last_error());
  so.max_tensor_elements = -1;
  ck_assert_int_eq(clcnn_session_create(m, &so, &sh, 1, &s), CLCNN_ERROR_INVALID_ARGUMENT);
  /* 0 is the default limit. */
  so.max_tensor_elements = 0;
  ck_assert_msg(clcnn_session_create(m, &so, &sh, 1, &s) == CLCNN_OK, "%s", clcnn_last_error());
  clcnn_session_free(s);
  clcnn_model_free(m);
  free(bytes);
  mb_free(b);
}
END_TEST

/* Slice with a negative step on an empty axis is empty (numpy:
 * np.zeros((2, 0))[:, -1:-10:-1].shape == (2, 0)); it gave one element,
 * read from nothing (found by fuzz_model: two runs disagreed). */
START_TEST(slice_empty_axis_negative_step) {
  const int64_t starts[][1] = {{-1}, {5}, {0}}, ends[][1] = {{-10}, {-10}, {-1}};
  for (int k = 0; k < 3; k++) {
    mb *b = mb_new(13);
    mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 2, (int64_t[]){2, 0});
    mb_init_i64(b, "starts", 1, (int64_t[]){1}, starts[k]);
    mb_init_i64(b, "ends", 1, (int64_t[]){1}, ends[k]);
    mb_init_i64(b, "axes", 1, (int64_t[]){1}, (int64_t[]){1});
    mb_init_i64(b, "steps", 1, (int64_t[]){1}, (int64_t[]){-3});
    mb_node(b, "Slice", "x,starts,ends,axes,steps", "y", 0, NULL);
    mb_output(b, "y");
    size_t len;
    uint8_t *bytes = mb_pack(b, &len);
    clcnn_model *m;
    ck_assert_int_eq(clcnn_model_load_memory(ctx, bytes, len, NULL, &m), CLCNN_OK);
    clcnn_session_options so;
    clcnn_session_options_default(&so);
    so.device = "cpu";
    clcnn_session *s = NULL;
    ck_assert_msg(clcnn_session_create(m, &so, NULL, 0, &s) == CLCNN_OK, "%s", clcnn_last_error());
    clcnn_tensor y;
    ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
    ck_assert_int_eq(clcnn_session_output(s, "y", &y), CLCNN_OK);
    ck_assert_int_eq(y.rank, 2);
    ck_assert_int_eq(y.dims[0], 2);
    ck_assert_int_eq(y.dims[1], 0);
    clcnn_session_free(s);
    clcnn_model_free(m);
    free(bytes);
    mb_free(b);
  }
}
END_TEST

/* Pad whose negative end crops into its begin pad: the output is all pad
 * value (numpy: np.pad(x, (5, 0), constant_values=7)[:-6]). The CPU kernel
 * wrote the begin pad past the end of each row (found by fuzz_model under
 * ASan). */
START_TEST(pad_end_crops_into_begin) {
  static const struct {
    int rank;
    int64_t dims[2], pads[4], out[2];
    float want[3];
  } cases[] = {
      {1, {3}, {5, -6}, {2}, {7, 7}},                    /* [1 2 3] -> [7 7] */
      {1, {3}, {2, -2}, {3}, {7, 7, 1}},                 /* [1 2 3] -> [7 7 1] */
      {2, {2, 0}, {0, 2, 0, -1}, {2, 1}, {7, 7}},        /* an empty axis */
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    int r = cases[k].rank;
    mb *b = mb_new(13);
    mb_input(b, "x", CLCNN_DTYPE_FLOAT32, r, cases[k].dims);
    mb_init_i64(b, "pads", 1, (int64_t[]){2 * r}, cases[k].pads);
    mb_init_f32(b, "v", 0, NULL, (float[]){7});
    mb_node(b, "Pad", "x,pads,v", "y", 0, NULL);
    mb_output(b, "y");
    size_t len;
    uint8_t *bytes = mb_pack(b, &len);
    clcnn_model *m;
    ck_assert_int_eq(clcnn_model_load_memory(ctx, bytes, len, NULL, &m), CLCNN_OK);
    clcnn_session_options so;
    clcnn_session_options_default(&so);
    so.device = "cpu";
    clcnn_session *s = NULL;
    ck_assert_msg(clcnn_session_create(m, &so, NULL, 0, &s) == CLCNN_OK, "%s", clcnn_last_error());
    float x[3] = {1, 2, 3};
    clcnn_tensor in = {CLCNN_DTYPE_FLOAT32, r, {0}, x};
    memcpy(in.dims, cases[k].dims, sizeof cases[k].dims);
    ck_assert_int_eq(clcnn_session_set_input(s, "x", &in), CLCNN_OK);
    ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
    clcnn_tensor y;
    ck_assert_int_eq(clcnn_session_output(s, "y", &y), CLCNN_OK);
    ck_assert_int_eq(y.rank, r);
    int64_t n = 1;
    for (int a = 0; a < r; a++) {
      ck_assert_int_eq(y.dims[a], cases[k].out[a]);
      n *= y.dims[a];
    }
    for (int64_t i = 0; i < n; i++)
      ck_assert_msg(((float *)y.data)[i] == cases[k].want[i], "case %zu, element %lld: %g", k,
                    (long long)i, ((float *)y.data)[i]);
    clcnn_session_free(s);
    clcnn_model_free(m);
    free(bytes);
    mb_free(b);
  }
}
END_TEST

START_TEST(external_data_escapes) {
  char dir[] = "/tmp/clcnn-ext-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  const char *bad[] = {"../secret.bin", "/etc/passwd", "a/../../x.bin", ".."};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    mb *b = mb_new(13);
    mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){4});
    mb_init_f32(b, "w", 1, (int64_t[]){4}, NULL);
    mb_external(b, "w", bad[i], 0, 16);
    mb_node(b, "Add", "x,w", "y", 0, NULL);
    mb_output(b, "y");
    size_t len;
    uint8_t *bytes = mb_pack(b, &len);
    clcnn_status st = load_fails(bytes, len, dir);
    ck_assert_msg(st == CLCNN_ERROR_INVALID_MODEL, "'%s' gave %d: %s", bad[i], st,
                  clcnn_last_error());
    free(bytes);
    mb_free(b);
  }
  /* A symlink inside the directory that points outside it. */
  char link[4200];
  snprintf(link, sizeof link, "%s/link.bin", dir);
  ck_assert_int_eq(symlink("/etc/hostname", link), 0);
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){1});
  mb_init_f32(b, "w", 1, (int64_t[]){1}, NULL);
  mb_external(b, "w", "link.bin", 0, 4);
  mb_node(b, "Add", "x,w", "y", 0, NULL);
  mb_output(b, "y");
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  ck_assert_int_eq(load_fails(bytes, len, dir), CLCNN_ERROR_INVALID_MODEL);
  free(bytes);
  mb_free(b);
  /* A valid external file inside the directory loads; a short one fails. */
  char data_path[4200];
  snprintf(data_path, sizeof data_path, "%s/w.bin", dir);
  FILE *f = fopen(data_path, "wb");
  float w[4] = {1, 2, 3, 4};
  fwrite(w, sizeof w, 1, f);
  fclose(f);
  b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){4});
  mb_init_f32(b, "w", 1, (int64_t[]){4}, NULL);
  mb_external(b, "w", "w.bin", 0, 16);
  mb_node(b, "Add", "x,w", "y", 0, NULL);
  mb_output(b, "y");
  bytes = mb_pack(b, &len);
  clcnn_model *m;
  ck_assert_int_eq(clcnn_model_load_memory(ctx, bytes, len, dir, &m), CLCNN_OK);
  clcnn_model_free(m);
  ck_assert_int_eq(load_fails(bytes, len, NULL), CLCNN_ERROR_INVALID_MODEL); /* no base dir */
  free(bytes);
  mb_free(b);
  b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){8});
  mb_init_f32(b, "w", 1, (int64_t[]){8}, NULL);
  mb_external(b, "w", "w.bin", 0, 32);
  mb_node(b, "Add", "x,w", "y", 0, NULL);
  mb_output(b, "y");
  bytes = mb_pack(b, &len);
  ck_assert_int_ne(load_fails(bytes, len, dir), CLCNN_OK);
  free(bytes);
  mb_free(b);
  unlink(link);
  unlink(data_path);
  rmdir(dir);
}
END_TEST

START_TEST(cycle_and_missing_input) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){4});
  mb_node(b, "Add", "x,c", "a", 0, NULL);
  mb_node(b, "Relu", "a", "c", 0, NULL);
  mb_output(b, "c");
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  ck_assert_int_eq(load_fails(bytes, len, NULL), CLCNN_ERROR_INVALID_MODEL);
  ck_assert_msg(strstr(clcnn_last_error(), "cycle") != NULL, "%s", clcnn_last_error());
  free(bytes);
  mb_free(b);

  b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){4});
  mb_node(b, "Add", "x,nowhere", "y", 0, NULL);
  mb_output(b, "y");
  bytes = mb_pack(b, &len);
  ck_assert_int_eq(load_fails(bytes, len, NULL), CLCNN_ERROR_INVALID_MODEL);
  ck_assert_msg(strstr(clcnn_last_error(), "nowhere") != NULL, "%s", clcnn_last_error());
  free(bytes);
  mb_free(b);

  b = mb_new(13); /* an output nobody produces */
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){4});
  mb_node(b, "Relu", "x", "y", 0, NULL);
  mb_output(b, "z");
  bytes = mb_pack(b, &len);
  ck_assert_int_eq(load_fails(bytes, len, NULL), CLCNN_ERROR_INVALID_MODEL);
  free(bytes);
  mb_free(b);

  b = mb_new(13); /* no nodes at all (the sort once did memcpy(NULL, ..., 0)) */
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){4});
  mb_output(b, "x");
  bytes = mb_pack(b, &len);
  clcnn_model *m = NULL;
  clcnn_status st = clcnn_model_load_memory(ctx, bytes, len, NULL, &m);
  ck_assert_msg(st == CLCNN_OK || st == CLCNN_ERROR_INVALID_MODEL, "%s", clcnn_last_error());
  clcnn_model_free(m);
  free(bytes);
  mb_free(b);
}
END_TEST

START_TEST(unsupported_listed_at_once) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){4});
  mb_node(b, "FancyOp", "x", "a", 0, NULL);
  mb_node(b, "Relu", "a", "b", 0, NULL);
  mb_node(b, "OtherOp", "b", "y", 0, NULL);
  mb_output(b, "y");
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  ck_assert_int_eq(load_fails(bytes, len, NULL), CLCNN_ERROR_UNSUPPORTED);
  const char *msg = clcnn_last_error();
  ck_assert_msg(strstr(msg, "FancyOp") && strstr(msg, "OtherOp") && strstr(msg, "n0") &&
                    strstr(msg, "n2"),
                "message lists both: %s", msg);
  free(bytes);
  mb_free(b);
}
END_TEST

START_TEST(wrong_input_name_and_shape) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 2, (int64_t[]){-1, 4});
  mb_node(b, "Relu", "x", "y", 0, NULL);
  mb_output(b, "y");
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  clcnn_model *m;
  ck_assert_int_eq(clcnn_model_load_memory(ctx, bytes, len, NULL, &m), CLCNN_OK);
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "cpu";
  clcnn_input_shape bad_name = {.name = "nope", .rank = 2, .dims = {1, 4}};
  clcnn_session *s = NULL;
  ck_assert_int_eq(clcnn_session_create(m, &so, &bad_name, 1, &s), CLCNN_ERROR_NOT_FOUND);
  ck_assert_ptr_null(s);
  clcnn_input_shape bad_fixed = {.name = "x", .rank = 2, .dims = {2, 5}};
  ck_assert_int_eq(clcnn_session_create(m, &so, &bad_fixed, 1, &s), CLCNN_ERROR_SHAPE);
  clcnn_input_shape bad_rank = {.name = "x", .rank = 3, .dims = {2, 4, 1}};
  ck_assert_int_eq(clcnn_session_create(m, &so, &bad_rank, 1, &s), CLCNN_ERROR_SHAPE);
  clcnn_input_shape ok = {.name = "x", .rank = 2, .dims = {3, 4}};
  ck_assert_int_eq(clcnn_session_create(m, &so, &ok, 1, &s), CLCNN_OK);
  float data[12] = {0};
  clcnn_tensor t = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 2, .dims = {2, 4}, .data = data};
  ck_assert_int_eq(clcnn_session_set_input(s, "x", &t), CLCNN_ERROR_SHAPE);
  ck_assert(strlen(clcnn_session_error(s)) > 0);
  t.dims[0] = 3;
  ck_assert_int_eq(clcnn_session_set_input(s, "y", &t), CLCNN_ERROR_NOT_FOUND);
  t.dtype = CLCNN_DTYPE_INT64;
  ck_assert_int_eq(clcnn_session_set_input(s, "x", &t), CLCNN_ERROR_SHAPE);
  clcnn_tensor out;
  ck_assert_int_eq(clcnn_session_output(s, "y", &out), CLCNN_ERROR_INVALID_ARGUMENT);
  ck_assert_int_eq(clcnn_session_output(s, "nope", &out), CLCNN_ERROR_NOT_FOUND);
  clcnn_session_free(s);
  so.device = "no-such-device-anywhere";
  ck_assert_int_eq(clcnn_session_create(m, &so, &ok, 1, &s), CLCNN_ERROR_DEVICE);
  ck_assert(strlen(clcnn_last_error()) > 0);
  clcnn_model_free(m);
  free(bytes);
  mb_free(b);
}
END_TEST

START_TEST(bad_attributes) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, 3, 8, 8});
  mb_init_f32(b, "w", 4, (int64_t[]){4, 3, 3, 3}, NULL);
  mb_node(b, "Conv", "x,w", "y", 1, (mb_attr[]){MB_INTS("strides", 0, -1)});
  mb_output(b, "y");
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  load_fails(bytes, len, NULL);
  free(bytes);
  mb_free(b);
  /* A channel mismatch is found at session creation, with the node named. */
  b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, 5, 8, 8});
  mb_init_f32(b, "w", 4, (int64_t[]){4, 3, 3, 3}, NULL);
  mb_node(b, "Conv", "x,w", "y", 0, NULL);
  mb_output(b, "y");
  bytes = mb_pack(b, &len);
  clcnn_model *m;
  ck_assert_int_eq(clcnn_model_load_memory(ctx, bytes, len, NULL, &m), CLCNN_OK);
  clcnn_session *s = NULL;
  ck_assert_int_ne(clcnn_session_create(m, NULL, NULL, 0, &s), CLCNN_OK);
  ck_assert_msg(strstr(clcnn_last_error(), "n0") != NULL, "%s", clcnn_last_error());
  clcnn_model_free(m);
  free(bytes);
  mb_free(b);
}
END_TEST

/* RoiAlign's batch_indices come from the model's data (Faster R-CNN: a
 * column of its regions): one outside the batch is an error of the run, and
 * NaN or huge regions read no element outside X. */
START_TEST(roialign_bad_regions) {
  mb *b = mb_new(16);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, 2, 4, 5});
  mb_input(b, "rois", CLCNN_DTYPE_FLOAT32, 2, (int64_t[]){3, 4});
  mb_input(b, "idx", CLCNN_DTYPE_INT64, 1, (int64_t[]){3});
  mb_node(b, "RoiAlign", "x,rois,idx", "y", 2,
          (mb_attr[]){MB_INT("output_height", 2), MB_INT("output_width", 2)});
  mb_output(b, "y");
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  clcnn_model *m;
  ck_assert_int_eq(clcnn_model_load_memory(ctx, bytes, len, NULL, &m), CLCNN_OK);
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "cpu";
  clcnn_session *s = NULL;
  ck_assert_msg(clcnn_session_create(m, &so, NULL, 0, &s) == CLCNN_OK, "%s", clcnn_last_error());
  float x[40];
  for (int i = 0; i < 40; i++) x[i] = 1.0f;
  float rois[12] = {0, 0, 2, 2, NAN, 1, 2, NAN, -1e30f, -1e30f, 1e30f, 1e30f};
  int64_t idx[3] = {0, 0, 1};
  clcnn_tensor tx = {CLCNN_DTYPE_FLOAT32, 4, {1, 2, 4, 5}, x};
  clcnn_tensor tr = {CLCNN_DTYPE_FLOAT32, 2, {3, 4}, rois};
  clcnn_tensor ti = {CLCNN_DTYPE_INT64, 1, {3}, idx};
  ck_assert_int_eq(clcnn_session_set_input(s, "x", &tx), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_set_input(s, "rois", &tr), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_set_input(s, "idx", &ti), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_run(s), CLCNN_ERROR_INVALID_ARGUMENT);
  ck_assert_msg(strstr(clcnn_session_error(s), "batch_indices[2] = 1") != NULL, "%s",
                clcnn_session_error(s));
  idx[2] = 0;
  ck_assert_int_eq(clcnn_session_set_input(s, "idx", &ti), CLCNN_OK);
  ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "%s", clcnn_session_error(s));
  clcnn_tensor out;
  ck_assert_int_eq(clcnn_session_output(s, "y", &out), CLCNN_OK);
  const float *y = out.data;
  for (int i = 0; i < 8; i++) ck_assert_float_eq_tol(y[i], 1.0f, 1e-6f); /* inside X: all ones */
  for (int i = 8; i < 16; i++) ck_assert_float_eq(y[i], 0.0f);          /* NaN: reads nothing */
  clcnn_session_free(s);
  clcnn_model_free(m);
  free(bytes);
  mb_free(b);
  /* More samples per bin than the kernel takes: refused at load, named. */
  b = mb_new(16);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, 2, 4, 5});
  mb_input(b, "rois", CLCNN_DTYPE_FLOAT32, 2, (int64_t[]){3, 4});
  mb_input(b, "idx", CLCNN_DTYPE_INT64, 1, (int64_t[]){3});
  mb_node(b, "RoiAlign", "x,rois,idx", "y", 1, (mb_attr[]){MB_INT("sampling_ratio", 100000)});
  mb_output(b, "y");
  bytes = mb_pack(b, &len);
  ck_assert_int_eq(load_fails(bytes, len, NULL), CLCNN_ERROR_UNSUPPORTED);
  ck_assert_msg(strstr(clcnn_last_error(), "sampling_ratio 100000") != NULL, "%s",
                clcnn_last_error());
  free(bytes);
  mb_free(b);
}
END_TEST

/* A Loop runs on constants only: over a trip count fed at run time it is
 * refused when the session is created, named; with that input bound it
 * runs. A Loop inside a Loop's body is refused. */
static mb *loop_body(int nested, mb **inner) {
  mb *body = mb_new(13);
  mb_input(body, "i", CLCNN_DTYPE_INT64, 0, NULL);
  mb_input(body, "c_in", CLCNN_DTYPE_BOOL, 0, NULL);
  mb_input(body, "acc_in", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){2});
  mb_node(body, "Identity", "c_in", "c_out", 0, NULL);
  mb_node(body, "Add", "acc_in,x", "acc_out", 0, NULL);
  mb_output(body, "c_out");
  mb_output(body, "acc_out");
  if (nested) { /* a second Loop of the same body (less the nesting) */
    *inner = loop_body(0, NULL);
    mb_node(body, "Loop", "i,,acc_in", "inner_out", 1, (mb_attr[]){MB_GRAPH("body", *inner)});
    mb_output(body, "inner_out"); /* a scan output */
  }
  return body;
}

START_TEST(loop_limits) {
  for (int nested = 0; nested < 2; nested++) {
    mb *inner = NULL, *body = loop_body(nested, &inner);
    mb *b = mb_new(13);
    mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){2});
    mb_input(b, "m", CLCNN_DTYPE_INT64, 0, NULL);
    mb_init_f32(b, "acc0", 1, (int64_t[]){2}, (float[]){1, 2});
    mb_node(b, "Loop", "m,,acc0", nested ? "y,scan" : "y", 1,
            (mb_attr[]){MB_GRAPH("body", body)});
    mb_output(b, "y");
    size_t len;
    uint8_t *bytes = mb_pack(b, &len);
    clcnn_model *m = NULL;
    ck_assert_msg(clcnn_model_load_memory(ctx, bytes, len, NULL, &m) == CLCNN_OK, "%s",
                  clcnn_last_error());
    int needs = 0;
    ck_assert_int_eq(clcnn_model_input_needs_value(m, 1, &needs), CLCNN_OK);
    ck_assert_int_eq(needs, 1);
    clcnn_session_options so;
    clcnn_session_options_default(&so);
    so.device = "cpu";
    clcnn_session *s = NULL;
    ck_assert_int_eq(clcnn_session_create(m, &so, NULL, 0, &s), CLCNN_ERROR_UNSUPPORTED);
    ck_assert_msg(strstr(clcnn_last_error(), "(Loop)") != NULL, "%s", clcnn_last_error());
    /* x too is read by the body: bound, the whole Loop runs at creation. */
    int64_t trips = 3;
    float x[2] = {10, 20};
    clcnn_bound_input bi[2] = {{"m", {CLCNN_DTYPE_INT64, 0, {0}, &trips}},
                               {"x", {CLCNN_DTYPE_FLOAT32, 1, {2}, x}}};
    so.bound_inputs = bi;
    so.bound_input_count = 2;
    clcnn_status st = clcnn_session_create(m, &so, NULL, 0, &s);
    if (nested) {
      ck_assert_int_eq(st, CLCNN_ERROR_UNSUPPORTED);
      ck_assert_msg(strstr(clcnn_last_error(), "a Loop in its body") != NULL, "%s",
                    clcnn_last_error());
    } else {
      ck_assert_msg(st == CLCNN_OK, "%s", clcnn_last_error());
      ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
      clcnn_tensor out;
      ck_assert_int_eq(clcnn_session_output(s, "y", &out), CLCNN_OK);
      ck_assert_float_eq(((float *)out.data)[0], 31.0f);
      ck_assert_float_eq(((float *)out.data)[1], 62.0f);
      clcnn_session_free(s);
    }
    clcnn_model_free(m);
    free(bytes);
    mb_free(b);
    mb_free(body);
    mb_free(inner);
  }
}
END_TEST

/* An attribute that no version of the operator defines is refused at load,
 * named, with the ones the operator takes (a misspelt `perm` used to be
 * ignored: Transpose then reversed the axes); one that only an old opset
 * defined (BatchNormalization's `spatial`) still loads. */
START_TEST(unknown_attribute_refused) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 3, (int64_t[]){2, 3, 4});
  mb_node(b, "Transpose", "x", "y", 1, (mb_attr[]){MB_INTS("pe\xc6m", 0, 2, 1)});
  mb_output(b, "y");
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  ck_assert_int_eq(load_fails(bytes, len, NULL), CLCNN_ERROR_INVALID_MODEL);
  const char *msg = clcnn_last_error();
  ck_assert_msg(strstr(msg, "unknown attribute 'pe\xc6m'") && strstr(msg, "takes: perm"), "%s",
                msg);
  free(bytes);
  mb_free(b);

  b = mb_new(7);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, 2, 2, 2});
  for (int i = 0; i < 4; i++) {
    static const char *names[4] = {"s", "bias", "mean", "var"};
    mb_init_f32(b, names[i], 1, (int64_t[]){2}, (const float[]){1.0f, 1.0f});
  }
  mb_node(b, "BatchNormalization", "x,s,bias,mean,var", "y", 2,
          (mb_attr[]){MB_INT("spatial", 1), MB_FLOAT("epsilon", 1e-5f)});
  mb_output(b, "y");
  bytes = mb_pack(b, &len);
  clcnn_model *m = NULL;
  ck_assert_msg(clcnn_model_load_memory(ctx, bytes, len, NULL, &m) == CLCNN_OK, "%s",
                clcnn_last_error());
  clcnn_model_free(m);
  free(bytes);
  mb_free(b);
}
END_TEST

int main(int argc, char **argv) {
  snprintf(sample_path, sizeof sample_path, "%s",
           argc > 1 ? argv[1] : "examples/sample_cnn.onnx");
  Suite *s = suite_create("malformed");
  TCase *tc = tcase_create("malformed");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, truncated_files);
  tcase_add_test(tc, random_bytes);
  tcase_add_test(tc, empty_and_null);
  tcase_add_test(tc, wrong_wire_type);
  tcase_add_test(tc, huge_dimension);
  tcase_add_test(tc, session_element_limit);
  tcase_add_test(tc, slice_empty_axis_negative_step);
  tcase_add_test(tc, pad_end_crops_into_begin);
  tcase_add_test(tc, external_data_escapes);
  tcase_add_test(tc, cycle_and_missing_input);
  tcase_add_test(tc, unsupported_listed_at_once);
  tcase_add_test(tc, wrong_input_name_and_shape);
  tcase_add_test(tc, bad_attributes);
  tcase_add_test(tc, unknown_attribute_refused);
  tcase_add_test(tc, roialign_bad_regions);
  tcase_add_test(tc, loop_limits);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
