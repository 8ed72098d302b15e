/* The public image helpers (clcnn_image_to_tensor / clcnn_tensor_to_image)
 * and tiled runs (clcnn_tiler_*): conversions round-trip for every sample
 * type and channel count with row strides; a tiled run equals a whole-image
 * run (1e-5) when the model's receptive field fits in a quarter of the
 * overlap, for x1 and x2 models, image sizes that are not multiples of the
 * tile or smaller than it, on the CPU backend and on an OpenCL device (that
 * part is skipped without one); cancellation from the progress callback and
 * from a flag, between tiles and, from another thread, inside a run (a
 * session's and a tile's), after which the next run is right. Uses the
 * public API only. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <time.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn.h"
#include "model_builder.h"

static clcnn_context *ctx;
static void setup(void) { ck_assert_int_eq(clcnn_context_create(NULL, &ctx), CLCNN_OK); }
static void teardown(void) { clcnn_context_free(ctx); }

static uint64_t rng = 42;
static float frand(void) { /* [0, 1) */
  rng = rng * 6364136223846793005ull + 1442695040888963407ull;
  return (float)(rng >> 40) / (float)(1ull << 24);
}

/* ------------------------------------------------------------- images */

/* A random image of `type` with `pad` bytes of slack per row. */
static clcnn_image make_image(clcnn_pixel_type type, int w, int h, int c, size_t pad) {
  size_t ss = type == CLCNN_PIXEL_UINT8 ? 1 : type == CLCNN_PIXEL_UINT16 ? 2 : 4;
  clcnn_image im = {NULL, w, h, c, type, (size_t)w * c * ss + pad * ss};
  im.data = malloc(im.stride * (size_t)h);
  for (size_t i = 0; i < im.stride * (size_t)h / ss; i++) {
    float r = frand();
    if (type == CLCNN_PIXEL_UINT8) ((uint8_t *)im.data)[i] = (uint8_t)(r * 256);
    else if (type == CLCNN_PIXEL_UINT16) ((uint16_t *)im.data)[i] = (uint16_t)(r * 65536);
    else ((float *)im.data)[i] = r;
  }
  return im;
}

static double sample(const clcnn_image *im, int x, int y, int k) {
  const char *row = (const char *)im->data + (size_t)y * im->stride;
  size_t i = (size_t)x * im->channels + k;
  switch (im->type) {
    case CLCNN_PIXEL_UINT8: return ((const uint8_t *)row)[i] / 255.0;
    case CLCNN_PIXEL_UINT16: return ((const uint16_t *)row)[i] / 65535.0;
    default: return ((const float *)row)[i];
  }
}

START_TEST(image_round_trips) {
  static const clcnn_pixel_type types[] = {CLCNN_PIXEL_UINT8, CLCNN_PIXEL_UINT16,
                                           CLCNN_PIXEL_FLOAT32};
  const int W = 13, H = 7;
  for (int ti = 0; ti < 3; ti++)
    for (int ic = 1; ic <= 4; ic++)
      for (int tc = 1; tc <= 4; tc++)
        for (int order = 0; order < 2; order++) {
          clcnn_image in = make_image(types[ti], W, H, ic, (size_t)(ic + tc) % 3 * 5);
          clcnn_image out = make_image(types[ti], W, H, ic, 3);
          clcnn_image_options o;
          clcnn_image_options_default(&o);
          o.order = order;
          for (int k = 0; k < 4; k++) o.mean[k] = 0.1f * (float)k, o.std[k] = 0.2f + 0.1f * k;
          float *t = malloc(sizeof(float) * (size_t)tc * W * H);
          clcnn_tensor ten = {CLCNN_DTYPE_FLOAT32, 4, {1, tc, H, W}, t};
          ck_assert_int_eq(clcnn_image_to_tensor(&in, &o, &ten), CLCNN_OK);
          ck_assert_int_eq(clcnn_tensor_to_image(&ten, &o, &out), CLCNN_OK);
          bool in_color = ic >= 3, t_color = tc >= 3, in_alpha = ic == 2 || ic == 4,
               t_alpha = tc == 2 || tc == 4;
          double tol = types[ti] == CLCNN_PIXEL_FLOAT32 ? 1e-5 : 1e-9;
          for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
              /* The tensor: (s - mean) / std per tensor channel. */
              for (int k = 0; k < tc; k++) {
                double s;
                bool alpha = t_alpha && k == tc - 1;
                if (alpha) s = in_alpha ? sample(&in, x, y, ic - 1) : 1.0;
                else if (t_color && in_color) s = sample(&in, x, y, order ? 2 - k : k);
                else if (t_color || !in_color) s = sample(&in, x, y, 0);
                else s = 0.299 * sample(&in, x, y, 0) + 0.587 * sample(&in, x, y, 1) +
                         0.114 * sample(&in, x, y, 2);
                double want = (s - 0.1 * k) / (0.2 + 0.1 * k);
                ck_assert_msg(fabs(t[((size_t)k * H + y) * W + x] - want) < 1e-5,
                              "type %d, %d -> %d channels, order %d: (%d,%d,%d) %g != %g", ti, ic,
                              tc, order, x, y, k, t[((size_t)k * H + y) * W + x], want);
              }
              /* Back: the same image where nothing was lost. */
              for (int k = 0; k < ic; k++) {
                bool alpha = in_alpha && k == ic - 1;
                double got = sample(&out, x, y, k), want = sample(&in, x, y, k);
                if (alpha && !t_alpha) want = 1.0;
                else if (!alpha && in_color && !t_color) continue; /* luma: checked above */
                ck_assert_msg(fabs(got - want) <= tol,
                              "type %d, %d -> %d channels back: (%d,%d,%d) %g != %g", ti, ic, tc,
                              x, y, k, got, want);
              }
            }
          free(t);
          free(in.data);
          free(out.data);
        }
}
END_TEST

START_TEST(image_clamps_rounds_and_checks) {
  float t[6] = {-1.0f, 2.0f, NAN, 0.5f, 0.2f / 255.0f + 0.0001f, 0.7f / 255.0f};
  uint8_t px[6];
  clcnn_image im = {px, 6, 1, 1, CLCNN_PIXEL_UINT8, 0};
  clcnn_tensor ten = {CLCNN_DTYPE_FLOAT32, 3, {1, 1, 6}, t};
  ck_assert_int_eq(clcnn_tensor_to_image(&ten, NULL, &im), CLCNN_OK);
  ck_assert_int_eq(px[0], 0);
  ck_assert_int_eq(px[1], 255);
  ck_assert_int_eq(px[2], 0); /* NaN */
  ck_assert_int_eq(px[3], 128);
  ck_assert_int_eq(px[4], 0);
  ck_assert_int_eq(px[5], 1);
  /* range 255: samples 0..255 in the tensor. */
  clcnn_image_options o;
  clcnn_image_options_default(&o);
  o.range = 255;
  px[0] = 200;
  ck_assert_int_eq(clcnn_image_to_tensor(&im, &o, &ten), CLCNN_OK);
  ck_assert_float_eq_tol(t[0], 200.0f, 1e-3f);
  /* Errors. */
  im.stride = 3; /* shorter than a row */
  ck_assert_int_eq(clcnn_image_to_tensor(&im, NULL, &ten), CLCNN_ERROR_INVALID_ARGUMENT);
  im.stride = 0;
  im.channels = 5;
  ck_assert_int_eq(clcnn_image_to_tensor(&im, NULL, &ten), CLCNN_ERROR_INVALID_ARGUMENT);
  im.channels = 1;
  ten.dims[2] = 5;
  ck_assert_int_eq(clcnn_image_to_tensor(&im, NULL, &ten), CLCNN_ERROR_SHAPE);
  ck_assert_ptr_nonnull(strstr(clcnn_last_error(), "1x1x5"));
  ten.dims[2] = 6;
  o.std[0] = 0;
  ck_assert_int_eq(clcnn_image_to_tensor(&im, &o, &ten), CLCNN_ERROR_INVALID_ARGUMENT);
  ck_assert_int_eq(clcnn_image_to_tensor(NULL, NULL, &ten), CLCNN_ERROR_INVALID_ARGUMENT);
  ck_assert_str_eq(clcnn_status_str(CLCNN_ERROR_CANCELLED), "cancelled");
}
END_TEST

/* ------------------------------------------------------------- models */

static void conv_scaled(mb *b, const char *in, const char *w, const char *bias, const char *out,
                        int co, int ci, float scale) {
  float *wt = malloc(sizeof(float) * (size_t)co * ci * 9), bs[64];
  for (int i = 0; i < co * ci * 9; i++) wt[i] = scale * (frand() - 0.5f);
  for (int i = 0; i < co; i++) bs[i] = 0.2f * (frand() - 0.5f);
  mb_init_f32(b, w, 4, (int64_t[]){co, ci, 3, 3}, wt);
  mb_init_f32(b, bias, 1, (int64_t[]){co}, bs);
  char ins[128];
  snprintf(ins, sizeof ins, "%s,%s,%s", in, w, bias);
  mb_node(b, "Conv", ins, out, 1, (mb_attr[]){MB_INTS("pads", 1, 1, 1, 1)});
  free(wt);
}

static void conv(mb *b, const char *in, const char *w, const char *bias, const char *out, int co,
                 int ci) {
  conv_scaled(b, in, w, bias, out, co, ci, 1.0f);
}

/* x1: Conv-Relu-Conv (receptive radius 2); x2: Conv-DepthToSpace-Conv. */
static clcnn_model *tile_model(int scale) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, 3, -1, -1});
  if (scale == 1) {
    conv(b, "x", "w1", "b1", "h", 4, 3);
    mb_node(b, "Relu", "h", "r", 0, NULL);
    conv(b, "r", "w2", "b2", "y", 3, 4);
  } else {
    conv(b, "x", "w1", "b1", "h", 12, 3);
    mb_node(b, "DepthToSpace", "h", "d", 1, (mb_attr[]){MB_INT("blocksize", 2)});
    conv(b, "d", "w2", "b2", "y", 3, 3);
  }
  mb_output(b, "y");
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  mb_free(b);
  clcnn_model *m = NULL;
  ck_assert_msg(clcnn_model_load_memory(ctx, bytes, len, NULL, &m) == CLCNN_OK, "%s",
                clcnn_last_error());
  free(bytes);
  return m;
}

/* The whole image in one session: the reference. */
static float *whole_run(clcnn_model *m, const char *device, const float *x, int h, int w,
                        int scale) {
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = device;
  clcnn_input_shape sh = {"x", 4, {1, 3, h, w}};
  clcnn_session *s = NULL;
  ck_assert_msg(clcnn_session_create(m, &so, &sh, 1, &s) == CLCNN_OK, "%s", clcnn_last_error());
  clcnn_tensor in = {CLCNN_DTYPE_FLOAT32, 4, {1, 3, h, w}, (void *)x}, out;
  ck_assert_int_eq(clcnn_session_set_input(s, "x", &in), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_output(s, "y", &out), CLCNN_OK);
  size_t n = (size_t)3 * h * w * scale * scale;
  ck_assert_int_eq(clcnn_tensor_numel(&out), (int64_t)n);
  float *r = malloc(n * sizeof *r);
  memcpy(r, out.data, n * sizeof *r);
  clcnn_session_free(s);
  return r;
}

static double max_diff(const float *a, const float *b, size_t n) {
  double d = 0;
  for (size_t i = 0; i < n; i++) {
    double e = fabs((double)a[i] - b[i]);
    if (!(e <= d)) d = e;
  }
  return d;
}

/* Tiled runs of 16x16 tiles, overlap 8, against whole-image runs. */
static void check_tiled(const char *device) {
  static const int sizes[][2] = {{37, 23}, {16, 16}, {50, 16}, {10, 7}, {40, 9}, {17, 33}, {1, 1}};
  for (int scale = 1; scale <= 2; scale++) {
    clcnn_model *m = tile_model(scale);
    clcnn_session_options so;
    clcnn_session_options_default(&so);
    so.device = device;
    clcnn_tile_options to;
    clcnn_tile_options_default(&to);
    to.tile_width = to.tile_height = 16;
    to.overlap = 8;
    clcnn_tiler *t = NULL;
    ck_assert_msg(clcnn_tiler_create(m, &so, &to, &t) == CLCNN_OK, "%s", clcnn_last_error());
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
      int w = sizes[si][0], h = sizes[si][1];
      size_t n = (size_t)3 * h * w;
      float *x = malloc(n * sizeof *x);
      for (size_t i = 0; i < n; i++) x[i] = frand() * 2 - 1;
      float *ref = whole_run(m, device, x, h, w, scale);
      clcnn_tensor shape;
      ck_assert_msg(clcnn_tiler_output_shape(t, 3, h, w, &shape) == CLCNN_OK, "%s",
                    clcnn_last_error());
      ck_assert_int_eq(shape.dims[1], 3);
      ck_assert_int_eq(shape.dims[2], (int64_t)h * scale);
      ck_assert_int_eq(shape.dims[3], (int64_t)w * scale);
      size_t on = n * scale * scale;
      float *y = malloc(on * sizeof *y);
      clcnn_tensor in = {CLCNN_DTYPE_FLOAT32, 4, {1, 3, h, w}, x};
      shape.data = y;
      ck_assert_msg(clcnn_tiler_run(t, &in, &shape) == CLCNN_OK, "%s", clcnn_last_error());
      double d = max_diff(y, ref, on);
      ck_assert_msg(d <= 1e-5, "%s, x%d, %dx%d: tiled differs from whole by %g", device, scale, w,
                    h, d);
      /* The one-shot call gives the same. */
      memset(y, 0, on * sizeof *y);
      ck_assert_int_eq(clcnn_tiled_run(m, &so, &to, &in, &shape), CLCNN_OK);
      ck_assert(max_diff(y, ref, on) <= 1e-5);
      free(x);
      free(y);
      free(ref);
    }
    clcnn_tiler_free(t);
    clcnn_model_free(m);
  }
}

START_TEST(tiled_equals_whole_cpu) { check_tiled("cpu"); }
END_TEST

static const char *opencl_device(void) {
  const clcnn_device_info *d;
  int n;
  if (clcnn_devices(&d, &n)) return NULL;
  for (int i = 0; i < n; i++)
    if (d[i].type != CLCNN_DEVICE_TYPE_CPU_BACKEND && d[i].available) return d[i].id;
  return NULL;
}

START_TEST(tiled_equals_whole_opencl) {
  const char *dev = opencl_device();
  if (!dev) {
    printf("note: no OpenCL device: the OpenCL tiled run is skipped\n");
    return;
  }
  check_tiled(dev);
}
END_TEST

/* Padded tiles (an image smaller than the tile) equal the whole-image run
 * away from the image's border; the image path equals the tensor path. */
START_TEST(tiled_padding_and_images) {
  clcnn_model *m = tile_model(2);
  for (int mode = CLCNN_TILE_PADDING_REFLECT; mode <= CLCNN_TILE_PADDING_REPLICATE; mode++) {
    clcnn_session_options so;
    clcnn_session_options_default(&so);
    so.device = "cpu";
    clcnn_tile_options to;
    clcnn_tile_options_default(&to);
    to.tile_width = to.tile_height = 16;
    to.overlap = 8;
    to.padding = mode;
    int w = 11, h = 40, s = 2;
    size_t n = (size_t)3 * h * w, on = n * s * s;
    float *x = malloc(n * sizeof *x), *y = malloc(on * sizeof *y);
    for (size_t i = 0; i < n; i++) x[i] = frand();
    float *ref = whole_run(m, "cpu", x, h, w, s);
    clcnn_tensor in = {CLCNN_DTYPE_FLOAT32, 4, {1, 3, h, w}, x};
    clcnn_tensor out = {CLCNN_DTYPE_FLOAT32, 4, {1, 3, h * s, w * s}, y};
    ck_assert_msg(clcnn_tiled_run(m, &so, &to, &in, &out) == CLCNN_OK, "%s", clcnn_last_error());
    double d = 0;
    for (int k = 0; k < 3; k++)
      for (int yy = 0; yy < h * s; yy++)
        for (int xx = 2 * s; xx < (w - 2) * s; xx++) {
          size_t i = ((size_t)k * h * s + yy) * w * s + xx;
          double e = fabs(y[i] - ref[i]);
          if (e > d) d = e;
        }
    ck_assert_msg(d <= 1e-5, "padding %d: interior differs by %g", mode, d);

    /* Images: u8 RGB in (with a stride), u8 RGBA out, against the whole run. */
    clcnn_image im = make_image(CLCNN_PIXEL_UINT8, w, h, 3, 7);
    clcnn_image om = make_image(CLCNN_PIXEL_UINT8, w * s, h * s, 4, 1);
    clcnn_image_options io;
    clcnn_image_options_default(&io);
    io.mean[0] = 0.5f;
    io.std[1] = 0.5f;
    clcnn_tensor xt = {CLCNN_DTYPE_FLOAT32, 4, {1, 3, h, w}, x};
    ck_assert_int_eq(clcnn_image_to_tensor(&im, &io, &xt), CLCNN_OK);
    free(ref);
    ref = whole_run(m, "cpu", x, h, w, s);
    clcnn_image rm = make_image(CLCNN_PIXEL_UINT8, w * s, h * s, 4, 0);
    clcnn_tensor rt = {CLCNN_DTYPE_FLOAT32, 4, {1, 3, h * s, w * s}, ref};
    ck_assert_int_eq(clcnn_tensor_to_image(&rt, &io, &rm), CLCNN_OK);
    clcnn_tiler *t;
    ck_assert_int_eq(clcnn_tiler_create(m, &so, &to, &t), CLCNN_OK);
    ck_assert_msg(clcnn_tiler_run_image(t, &im, &io, &om) == CLCNN_OK, "%s", clcnn_last_error());
    int worst = 0;
    for (int yy = 0; yy < h * s; yy++)
      for (int xx = 2 * s; xx < (w - 2) * s; xx++)
        for (int k = 0; k < 4; k++) {
          int a = ((uint8_t *)om.data)[yy * om.stride + (size_t)xx * 4 + k];
          int b = ((uint8_t *)rm.data)[yy * rm.stride + (size_t)xx * 4 + k];
          if (abs(a - b) > worst) worst = abs(a - b);
        }
    ck_assert_msg(worst <= 1, "image path differs by %d", worst);
    /* A wrong output size. */
    om.width--;
    ck_assert_int_eq(clcnn_tiler_run_image(t, &im, &io, &om), CLCNN_ERROR_SHAPE);
    clcnn_tiler_free(t);
    free(im.data);
    free(om.data);
    free(rm.data);
    free(x);
    free(y);
    free(ref);
  }
  clcnn_model_free(m);
}
END_TEST

/* A large image through the image path: many rows of tiles, bands flushed. */
START_TEST(tiled_image_many_rows) {
  clcnn_model *m = tile_model(1);
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "cpu";
  clcnn_tile_options to;
  clcnn_tile_options_default(&to);
  to.tile_width = 24;
  to.tile_height = 16;
  to.overlap = 8;
  int w = 61, h = 77;
  clcnn_image im = make_image(CLCNN_PIXEL_UINT16, w, h, 1, 0);
  clcnn_image om = make_image(CLCNN_PIXEL_FLOAT32, w, h, 3, 2);
  float *x = malloc(sizeof(float) * 3 * w * h);
  clcnn_tensor xt = {CLCNN_DTYPE_FLOAT32, 4, {1, 3, h, w}, x};
  ck_assert_int_eq(clcnn_image_to_tensor(&im, NULL, &xt), CLCNN_OK);
  float *ref = whole_run(m, "cpu", x, h, w, 1);
  clcnn_tiler *t;
  ck_assert_int_eq(clcnn_tiler_create(m, &so, &to, &t), CLCNN_OK);
  ck_assert_msg(clcnn_tiler_run_image(t, &im, NULL, &om) == CLCNN_OK, "%s", clcnn_last_error());
  double d = 0;
  for (int k = 0; k < 3; k++)
    for (int yy = 0; yy < h; yy++)
      for (int xx = 0; xx < w; xx++) {
        double e = fabs(sample(&om, xx, yy, k) - ref[((size_t)k * h + yy) * w + xx]);
        if (e > d) d = e;
      }
  ck_assert_msg(d <= 1e-5, "float image path differs by %g", d);
  clcnn_tiler_free(t);
  free(im.data);
  free(om.data);
  free(x);
  free(ref);
  clcnn_model_free(m);
}
END_TEST


/* A model with fixed H and W: tiles take its size; smaller images are padded. */
START_TEST(tiled_fixed_size_model) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, 3, 16, 16});
  conv(b, "x", "w1", "b1", "y", 3, 3);
  mb_output(b, "y");
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  mb_free(b);
  clcnn_model *m = NULL;
  ck_assert_int_eq(clcnn_model_load_memory(ctx, bytes, len, NULL, &m), CLCNN_OK);
  free(bytes);
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "cpu";
  clcnn_tile_options to;
  clcnn_tile_options_default(&to);
  to.tile_width = 20;
  clcnn_tiler *t;
  ck_assert_int_eq(clcnn_tiler_create(m, &so, &to, &t), CLCNN_ERROR_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(clcnn_last_error(), "fixed at 16x16"));
  to.tile_width = 0; /* the model's 16x16, overlap 4 (a quarter) */
  ck_assert_int_eq(clcnn_tiler_create(m, &so, &to, &t), CLCNN_OK);
  static const int sizes[][2] = {{37, 23}, {10, 7}};
  for (int si = 0; si < 2; si++) {
    int w = sizes[si][0], h = sizes[si][1];
    float *x = malloc(sizeof(float) * 3 * w * h), *y = malloc(sizeof(float) * 3 * w * h);
    for (int i = 0; i < 3 * w * h; i++) x[i] = frand();
    clcnn_tensor in = {CLCNN_DTYPE_FLOAT32, 4, {1, 3, h, w}, x};
    clcnn_tensor out = {CLCNN_DTYPE_FLOAT32, 4, {1, 3, h, w}, y};
    ck_assert_msg(clcnn_tiler_run(t, &in, &out) == CLCNN_OK, "%s", clcnn_last_error());
    for (int i = 0; i < 3 * w * h; i++) ck_assert(isfinite(y[i]));
    free(x);
    free(y);
  }
  clcnn_tiler_free(t);
  clcnn_model_free(m);
}
END_TEST

/* ------------------------------------------------------------ cancel */

typedef struct progress_log {
  int calls, last_done, last_total, cancel_at;
} progress_log;

static int on_progress(void *user, int done, int total) {
  progress_log *p = user;
  ck_assert_int_eq(done, p->calls); /* 0, 1, 2, ... */
  p->calls++;
  p->last_done = done;
  p->last_total = total;
  return p->cancel_at >= 0 && done >= p->cancel_at;
}

START_TEST(tiled_progress_and_cancel) {
  clcnn_model *m = tile_model(1);
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "cpu";
  clcnn_tile_options to;
  clcnn_tile_options_default(&to);
  to.tile_width = to.tile_height = 16;
  to.overlap = 4;
  progress_log log = {0, 0, 0, -1};
  to.progress = on_progress;
  to.progress_user = &log;
  int w = 40, h = 28;
  float *x = calloc((size_t)3 * w * h, sizeof *x), *y = malloc(sizeof(float) * 3 * w * h);
  clcnn_tensor in = {CLCNN_DTYPE_FLOAT32, 4, {1, 3, h, w}, x};
  clcnn_tensor out = {CLCNN_DTYPE_FLOAT32, 4, {1, 3, h, w}, y};
  clcnn_tiler *t;
  ck_assert_int_eq(clcnn_tiler_create(m, &so, &to, &t), CLCNN_OK);
  ck_assert_int_eq(clcnn_tiler_run(t, &in, &out), CLCNN_OK);
  ck_assert_int_eq(log.last_total, 3 * 2); /* ceil(36/12) x ceil(24/12) */
  ck_assert_int_eq(log.last_done, log.last_total);
  ck_assert_int_eq(log.calls, log.last_total + 1);
  clcnn_tiler_free(t);

  /* Cancelled by the callback after two tiles. */
  log = (progress_log){0, 0, 0, 2};
  ck_assert_int_eq(clcnn_tiler_create(m, &so, &to, &t), CLCNN_OK);
  ck_assert_int_eq(clcnn_tiler_run(t, &in, &out), CLCNN_ERROR_CANCELLED);
  ck_assert_int_eq(log.calls, 3);
  ck_assert_ptr_nonnull(strstr(clcnn_last_error(), "cancelled"));
  /* The tiler runs again afterwards. */
  log = (progress_log){0, 0, 0, -1};
  ck_assert_int_eq(clcnn_tiler_run(t, &in, &out), CLCNN_OK);
  clcnn_tiler_free(t);

  /* Cancelled by the flag (as another thread would set it). */
  volatile int flag = 1;
  to.progress = NULL;
  to.cancel = &flag;
  ck_assert_int_eq(clcnn_tiled_run(m, &so, &to, &in, &out), CLCNN_ERROR_CANCELLED);
  flag = 0;
  ck_assert_int_eq(clcnn_tiled_run(m, &so, &to, &in, &out), CLCNN_OK);

  /* Bad options and shapes. */
  to.overlap = 9; /* more than half of 16 */
  ck_assert_int_eq(clcnn_tiler_create(m, &so, &to, &t), CLCNN_ERROR_INVALID_ARGUMENT);
  ck_assert_ptr_null(t);
  to.overlap = 4;
  to.output = "nope";
  ck_assert_int_eq(clcnn_tiler_create(m, &so, &to, &t), CLCNN_ERROR_NOT_FOUND);
  to.output = NULL;
  out.dims[3] = w + 1;
  ck_assert_int_eq(clcnn_tiled_run(m, &so, &to, &in, &out), CLCNN_ERROR_SHAPE);
  ck_assert_int_eq(clcnn_tiler_create(NULL, &so, &to, &t), CLCNN_ERROR_INVALID_ARGUMENT);
  clcnn_image_input ii = {"x", CLCNN_PIXEL_UINT8, 3, NULL};
  so.image_inputs = &ii;
  so.image_input_count = 1;
  ck_assert_int_eq(clcnn_tiler_create(m, &so, &to, &t), CLCNN_ERROR_INVALID_ARGUMENT);
  ck_assert_ptr_null(t);
  clcnn_tiler_free(NULL);
  free(x);
  free(y);
  clcnn_model_free(m);
}
END_TEST

/* ------------------------------------------------ image inputs (graph) */

/* An image input (the conversion as Cast, Transpose and a 1x1 Conv in the
 * session's graph) gives what clcnn_image_to_tensor() and a plain session
 * give, for 8-bit RGBA with mean/std/BGR/range, 8-bit gray and float RGB
 * images with row padding; on an OpenCL device the conversion runs there and
 * only the 8-bit samples cross (the transfer's bytes in the profile). */
static void check_image_input(const char *device, bool on_device) {
  clcnn_model *m = tile_model(1);
  struct {
    clcnn_pixel_type type;
    int c;
    bool fancy;
  } cases[] = {{CLCNN_PIXEL_UINT8, 4, true}, {CLCNN_PIXEL_UINT8, 1, false},
               {CLCNN_PIXEL_FLOAT32, 3, true}};
  int w = 37, h = 23;
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    clcnn_image_options io;
    clcnn_image_options_default(&io);
    if (cases[ci].fancy) {
      io.range = 255;
      io.order = CLCNN_CHANNEL_ORDER_BGR;
      for (int k = 0; k < 3; k++) {
        io.mean[k] = 100.0f + 10 * k;
        io.std[k] = 50.0f + 5 * k;
      }
    }
    clcnn_session_options so;
    clcnn_session_options_default(&so);
    so.device = device;
    clcnn_input_shape sh = {"x", 4, {1, 3, h, w}};
    clcnn_session *plain = NULL, *s = NULL;
    ck_assert_msg(clcnn_session_create(m, &so, &sh, 1, &plain) == CLCNN_OK, "%s",
                  clcnn_last_error());
    clcnn_image_input ii = {"x", cases[ci].type, cases[ci].c, &io};
    so.image_inputs = &ii;
    so.image_input_count = 1;
    so.profile = 1;
    ck_assert_msg(clcnn_session_create(m, &so, &sh, 1, &s) == CLCNN_OK, "%s", clcnn_last_error());
    clcnn_tensor v;
    ck_assert_int_eq(clcnn_session_input(s, "x", &v), CLCNN_OK);
    ck_assert_int_eq(v.dtype, cases[ci].type == CLCNN_PIXEL_UINT8 ? CLCNN_DTYPE_UINT8
                                                                  : CLCNN_DTYPE_FLOAT32);
    ck_assert(v.rank == 4 && v.dims[1] == h && v.dims[2] == w && v.dims[3] == cases[ci].c);
    float *x = malloc(sizeof(float) * 3 * (size_t)w * h);
    for (int round = 0; round < 2; round++) { /* a second image into the same session */
      clcnn_image img = make_image(cases[ci].type, w, h, cases[ci].c, 5);
      clcnn_tensor in = {CLCNN_DTYPE_FLOAT32, 4, {1, 3, h, w}, x}, ref, out;
      ck_assert_int_eq(clcnn_image_to_tensor(&img, &io, &in), CLCNN_OK);
      ck_assert_int_eq(clcnn_session_set_input(plain, "x", &in), CLCNN_OK);
      ck_assert_int_eq(clcnn_session_run(plain), CLCNN_OK);
      ck_assert_int_eq(clcnn_session_output(plain, "y", &ref), CLCNN_OK);
      ck_assert_msg(clcnn_session_set_input_image(s, "x", &img) == CLCNN_OK, "%s",
                    clcnn_session_error(s));
      ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "%s", clcnn_session_error(s));
      ck_assert_int_eq(clcnn_session_output(s, "y", &out), CLCNN_OK);
      double worst = 0, scale = 1;
      for (int64_t i = 0; i < clcnn_tensor_numel(&ref); i++) {
        float a = ((float *)out.data)[i], b = ((float *)ref.data)[i];
        worst = fmax(worst, fabs((double)a - b));
        scale = fmax(scale, fabs((double)b));
      }
      ck_assert_msg(worst <= 1e-5 * scale, "%s, case %zu: the image input differs by %g (of %g)",
                    device, ci, worst, scale);
      free(img.data);
    }
    /* Where the conversion ran, and what crossed. */
    const clcnn_profile_entry *pe;
    int np;
    ck_assert_int_eq(clcnn_session_profile(s, &pe, &np), CLCNN_OK);
    bool convert_seen = false, moved = false;
    size_t sample = cases[ci].type == CLCNN_PIXEL_UINT8 ? 1 : 4;
    for (int i = 0; i < np; i++) {
      if (!strcmp(pe[i].node, "x/image_convert")) {
        convert_seen = true;
        ck_assert_msg(!on_device || strcmp(pe[i].backend, "cpu") != 0,
                      "the conversion ran on %s", pe[i].backend);
      }
      if (!strcmp(pe[i].op, "Transfer") && !strcmp(pe[i].node, "x") && pe[i].bytes) {
        ck_assert_uint_eq(pe[i].bytes, (size_t)w * h * cases[ci].c * sample);
        moved = true;
      }
    }
    ck_assert(convert_seen);
    ck_assert(moved == on_device); /* the image went to the device as it is */
    free(x);
    clcnn_session_free(s);
    /* Not an image input; wrong images. */
    clcnn_image img = make_image(cases[ci].type, w, h, cases[ci].c, 0);
    ck_assert_int_eq(clcnn_session_set_input_image(plain, "x", &img),
                     CLCNN_ERROR_INVALID_ARGUMENT);
    clcnn_session_free(plain);
    free(img.data);
  }
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = device;
  clcnn_input_shape sh = {"x", 4, {1, 3, h, w}};
  clcnn_image_input ii = {"x", CLCNN_PIXEL_UINT8, 3, NULL};
  so.image_inputs = &ii;
  so.image_input_count = 1;
  clcnn_session *s = NULL;
  ck_assert_int_eq(clcnn_session_create(m, &so, &sh, 1, &s), CLCNN_OK);
  clcnn_image img = make_image(CLCNN_PIXEL_UINT8, w, h, 4, 0);
  ck_assert_int_eq(clcnn_session_set_input_image(s, "x", &img), CLCNN_ERROR_SHAPE);
  img.channels = 3;
  img.width = w - 1;
  ck_assert_int_eq(clcnn_session_set_input_image(s, "x", &img), CLCNN_ERROR_SHAPE);
  ck_assert_int_eq(clcnn_session_set_input_image(s, "nope", &img), CLCNN_ERROR_NOT_FOUND);
  free(img.data);
  clcnn_session_free(s);
  ii.type = CLCNN_PIXEL_UINT16;
  ck_assert_int_eq(clcnn_session_create(m, &so, &sh, 1, &s), CLCNN_ERROR_UNSUPPORTED);
  ii.type = CLCNN_PIXEL_UINT8;
  ii.name = "nope";
  ck_assert_int_eq(clcnn_session_create(m, &so, &sh, 1, &s), CLCNN_ERROR_NOT_FOUND);
  ii.name = "x";
  ii.channels = 5;
  ck_assert_int_eq(clcnn_session_create(m, &so, &sh, 1, &s), CLCNN_ERROR_INVALID_ARGUMENT);
  clcnn_model_free(m);
}

START_TEST(image_input_cpu) { check_image_input("cpu", false); }
END_TEST

START_TEST(image_input_opencl) {
  const char *dev = opencl_device();
  if (!dev) {
    printf("note: no OpenCL device: image inputs on OpenCL are skipped\n");
    return;
  }
  check_image_input(dev, true);
}
END_TEST

/* ------------------------------------------------- cancel inside a run */

/* `depth` 3x3 convolutions of 16 channels (one weight shared: the model
 * builder holds 64 initializers and nodes) between a 3- and a 16-channel
 * one: a run of many steps, each short. The weights are scaled for a gain
 * of about 0.5; the biases keep the values away from zero. */
static clcnn_model *long_model(int depth) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, 3, -1, -1});
  conv(b, "x", "w0", "b0", "h0", 16, 3);
  conv_scaled(b, "h0", "w", "b", "h1", 16, 16, 0.15f);
  char nodes[80];
  for (int i = 2; i <= depth; i++) {
    char in[16], out[16];
    snprintf(in, sizeof in, "h%d", i - 1);
    snprintf(out, sizeof out, "h%d", i);
    snprintf(nodes, sizeof nodes, "%s,w,b", in);
    mb_node(b, "Conv", nodes, out, 1, (mb_attr[]){MB_INTS("pads", 1, 1, 1, 1)});
  }
  snprintf(nodes, sizeof nodes, "h%d", depth);
  conv_scaled(b, nodes, "wz", "bz", "y", 3, 16, 0.15f);
  mb_output(b, "y");
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  mb_free(b);
  clcnn_model *m = NULL;
  ck_assert_msg(clcnn_model_load_memory(ctx, bytes, len, NULL, &m) == CLCNN_OK, "%s",
                clcnn_last_error());
  free(bytes);
  return m;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Another thread: waits until `started` is set, then `delay_ms`, then sets
 * `flag` and notes when. */
typedef struct canceller {
  int flag, started;
  double delay_ms, set_at;
  pthread_t thread;
} canceller;

static void *cancel_later(void *p) {
  canceller *c = p;
  while (!__atomic_load_n(&c->started, __ATOMIC_ACQUIRE)) nanosleep(&(struct timespec){0, 100000}, NULL);
  double until = now_ms() + c->delay_ms;
  while (now_ms() < until) nanosleep(&(struct timespec){0, 100000}, NULL);
  c->set_at = now_ms();
  __atomic_store_n(&c->flag, 1, __ATOMIC_RELEASE);
  return NULL;
}

static void canceller_start(canceller *c, double delay_ms) {
  __atomic_store_n(&c->flag, 0, __ATOMIC_RELEASE);
  __atomic_store_n(&c->started, 0, __ATOMIC_RELEASE);
  c->delay_ms = delay_ms;
  ck_assert_int_eq(pthread_create(&c->thread, NULL, cancel_later, c), 0);
}

/* The k of "run cancelled after k of N steps" in `msg`, or -1. */
static int steps_done(const char *msg) {
  const char *p = strstr(msg, "run cancelled after ");
  return p ? atoi(p + strlen("run cancelled after ")) : -1;
}

static int tiler_started(void *user, int done, int total) {
  (void)total;
  if (done == 0) __atomic_store_n((int *)user, 1, __ATOMIC_RELEASE);
  return 0;
}

static void check_cancel_inside(const char *device, int H, int W) {
  enum { DEPTH = 60 };
  clcnn_model *m = long_model(DEPTH);
  size_t n = (size_t)3 * H * W;
  float *x = malloc(n * sizeof *x), *ref = malloc(n * sizeof *ref), *y = malloc(n * sizeof *y);
  for (size_t i = 0; i < n; i++) x[i] = frand();
  canceller c = {0};
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = device;
  so.cancel = &c.flag;
  clcnn_input_shape sh = {"x", 4, {1, 3, H, W}};
  clcnn_session *s = NULL;
  ck_assert_msg(clcnn_session_create(m, &so, &sh, 1, &s) == CLCNN_OK, "%s", clcnn_last_error());
  clcnn_tensor in = {CLCNN_DTYPE_FLOAT32, 4, {1, 3, H, W}, x}, out;
  ck_assert_int_eq(clcnn_session_set_input(s, "x", &in), CLCNN_OK);
  /* The reference, and how long a whole run takes (the first run warms up). */
  ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
  double t0 = now_ms();
  ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
  double full = now_ms() - t0;
  ck_assert_int_eq(clcnn_session_output(s, "y", &out), CLCNN_OK);
  memcpy(ref, out.data, n * sizeof *ref);

  /* Set before the run: nothing runs, the outputs are not there. */
  c.flag = 1;
  ck_assert_int_eq(clcnn_session_run(s), CLCNN_ERROR_CANCELLED);
  ck_assert_int_eq(steps_done(clcnn_session_error(s)), 0);
  ck_assert_int_eq(clcnn_session_output(s, "y", &out), CLCNN_ERROR_INVALID_ARGUMENT);

  /* Set by another thread while the run goes on: it stops at the next step. */
  canceller_start(&c, full / 10 < 20 ? full / 10 : 20);
  __atomic_store_n(&c.started, 1, __ATOMIC_RELEASE);
  clcnn_status st = clcnn_session_run(s);
  double back = now_ms() - c.set_at;
  pthread_join(c.thread, NULL);
  ck_assert_msg(st == CLCNN_ERROR_CANCELLED, "status %d: %s", st, clcnn_session_error(s));
  int k = steps_done(clcnn_session_error(s));
  printf("%s: a whole run %.1f ms; cancelled after %d steps, %.2f ms after the flag was set\n",
         device, full, k, back);
  ck_assert_msg(k >= 1, "%s", clcnn_session_error(s)); /* in the middle of the run */
  ck_assert_msg(back < full / 2, "the run went on for %.1f ms after the flag (a run: %.1f ms)",
                back, full);
  /* The next run is right. */
  c.flag = 0;
  ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_output(s, "y", &out), CLCNN_OK);
  ck_assert(memcmp(out.data, ref, n * sizeof *ref) == 0);
  clcnn_session_free(s);

  /* A tiler with one tile as large as the image: its flag stops the tile's
   * run; the tiler runs right afterwards. */
  clcnn_session_options_default(&so);
  so.device = device;
  clcnn_tile_options to;
  clcnn_tile_options_default(&to);
  to.tile_width = W;
  to.tile_height = H;
  to.cancel = &c.flag;
  to.progress = tiler_started;
  to.progress_user = &c.started;
  clcnn_tiler *t = NULL;
  clcnn_tensor ot = {CLCNN_DTYPE_FLOAT32, 4, {1, 3, H, W}, y};
  ck_assert_int_eq(clcnn_tiler_create(m, &so, &to, &t), CLCNN_OK);
  ck_assert_msg(clcnn_tiler_run(t, &in, &ot) == CLCNN_OK, "%s", clcnn_last_error()); /* warm */
  canceller_start(&c, full / 10 < 20 ? full / 10 : 20);
  st = clcnn_tiler_run(t, &in, &ot);
  back = now_ms() - c.set_at;
  pthread_join(c.thread, NULL);
  ck_assert_msg(st == CLCNN_ERROR_CANCELLED, "status %d: %s", st, clcnn_last_error());
  printf("%s: tiler: %s (%.2f ms after the flag)\n", device, clcnn_last_error(), back);
  ck_assert_msg(steps_done(clcnn_last_error()) >= 1, "%s", clcnn_last_error());
  ck_assert_msg(back < full / 2, "the tile went on for %.1f ms after the flag", back);
  c.flag = 0;
  memset(y, 0, n * sizeof *y);
  ck_assert_int_eq(clcnn_tiler_run(t, &in, &ot), CLCNN_OK);
  double worst = 0;
  for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs((double)y[i] - ref[i]));
  ck_assert_msg(worst <= 1e-6, "the tiler after a cancel differs by %g", worst);
  clcnn_tiler_free(t);
  free(x);
  free(ref);
  free(y);
  clcnn_model_free(m);
}

START_TEST(cancel_inside_a_run_cpu) { check_cancel_inside("cpu", 64, 64); }
END_TEST

START_TEST(cancel_inside_a_run_opencl) {
  const char *dev = opencl_device();
  if (!dev) {
    printf("note: no OpenCL device: cancelling an OpenCL run is skipped\n");
    return;
  }
  check_cancel_inside(dev, 128, 128);
}
END_TEST

int main(void) {
  Suite *s = suite_create("tile");
  TCase *tc = tcase_create("tile");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, image_round_trips);
  tcase_add_test(tc, image_clamps_rounds_and_checks);
  tcase_add_test(tc, tiled_equals_whole_cpu);
  tcase_add_test(tc, tiled_equals_whole_opencl);
  tcase_add_test(tc, tiled_padding_and_images);
  tcase_add_test(tc, tiled_image_many_rows);
  tcase_add_test(tc, tiled_fixed_size_model);
  tcase_add_test(tc, tiled_progress_and_cancel);
  tcase_add_test(tc, image_input_cpu);
  tcase_add_test(tc, image_input_opencl);
  tcase_add_test(tc, cancel_inside_a_run_cpu);
  tcase_add_test(tc, cancel_inside_a_run_opencl);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
