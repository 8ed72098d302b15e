/* Public image helpers: an application's interleaved 8-bit, 16-bit or float
 * gray/gray+alpha/RGB/RGBA image with a row stride into a model's NCHW float
 * tensor and back. Host-side: rows go through a small RGBA float buffer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "image.h"

static size_t sample_size(clcnn_pixel_type t) {
  switch (t) {
    case CLCNN_PIXEL_UINT8: return 1;
    case CLCNN_PIXEL_UINT16: return 2;
    case CLCNN_PIXEL_FLOAT32: return 4;
  }
  return 0;
}

void clcnn_image_options_default(clcnn_image_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  for (int k = 0; k < 4; k++) o->std[k] = 1.0f;
  o->range = 1.0f;
  o->order = CLCNN_CHANNEL_ORDER_RGB;
}

clcnn_status image_opts_resolve(const clcnn_image_options *opts, clcnn_image_options *out,
                                clcnn_err *err) {
  clcnn_image_options_default(out);
  if (!opts) return CLCNN_OK;
  if (opts->size < sizeof(size_t) || opts->size > sizeof *out)
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT,
                   "clcnn_image_options.size is %zu: fill it with clcnn_image_options_default()",
                   opts->size);
  memcpy(out, opts, opts->size);
  out->size = sizeof *out;
  for (int k = 0; k < 4; k++)
    if (!(out->std[k] != 0) || out->std[k] != out->std[k] || out->mean[k] != out->mean[k])
      return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT,
                     "clcnn_image_options: std[%d] is %g, mean[%d] %g: std must be non-zero "
                     "and both numbers",
                     k, (double)out->std[k], k, (double)out->mean[k]);
  if (!(out->range > 0) || out->range > 1e30f)
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT,
                   "clcnn_image_options: range %g is not a positive number", (double)out->range);
  if (out->order != CLCNN_CHANNEL_ORDER_RGB && out->order != CLCNN_CHANNEL_ORDER_BGR)
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_image_options: bad order %d",
                   (int)out->order);
  return CLCNN_OK;
}

clcnn_status image_check(const clcnn_image *img, size_t *stride, clcnn_err *err) {
  if (!img || !img->data) return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "image: NULL data");
  size_t ss = sample_size(img->type);
  if (!ss) return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "image: bad type %d", (int)img->type);
  if (img->channels < 1 || img->channels > 4)
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT,
                   "image: %d channels (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA)", img->channels);
  if (img->width < 1 || img->height < 1)
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "image: size %dx%d", img->width,
                   img->height);
  size_t packed = (size_t)img->width * (size_t)img->channels * ss;
  size_t s = img->stride ? img->stride : packed;
  if (s < packed || s % ss || (uintptr_t)img->data % ss)
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT,
                   "image: stride %zu for rows of %zu bytes (it must hold a row and keep "
                   "samples aligned)",
                   img->stride, packed);
  *stride = s;
  return CLCNN_OK;
}

clcnn_image image_crop(const clcnn_image *img, size_t stride, int x, int y, int w, int h) {
  clcnn_image v = *img;
  v.data = (char *)img->data + (size_t)y * stride +
           (size_t)x * (size_t)img->channels * sample_size(img->type);
  v.width = w;
  v.height = h;
  v.stride = stride;
  return v;
}

static inline float luma(float r, float g, float b) {
  return 0.299f * r + 0.587f * g + 0.114f * b;
}

/* One image row into RGBA floats in [0, 1] (nominal). */
static void load_row(const clcnn_image *img, const void *row, float *rgba) {
  int c = img->channels, w = img->width;
  for (int x = 0; x < w; x++) {
    float s[4] = {0, 0, 0, 1};
    for (int k = 0; k < c; k++) {
      size_t i = (size_t)x * c + k;
      switch (img->type) {
        case CLCNN_PIXEL_UINT8: s[k] = ((const uint8_t *)row)[i] * (1.0f / 255.0f); break;
        case CLCNN_PIXEL_UINT16: s[k] = ((const uint16_t *)row)[i] * (1.0f / 65535.0f); break;
        default: s[k] = ((const float *)row)[i]; break;
      }
    }
    float *p = rgba + 4 * (size_t)x;
    if (c <= 2) {
      p[0] = p[1] = p[2] = s[0];
      p[3] = c == 2 ? s[1] : 1.0f;
    } else {
      p[0] = s[0], p[1] = s[1], p[2] = s[2];
      p[3] = c == 4 ? s[3] : 1.0f;
    }
  }
}

static inline float unit_clamp(float v) { return v > 0 ? (v < 1 ? v : 1) : 0; /* NaN: 0 */ }

/* RGBA floats back into one image row: integers clamped and rounded. */
static void store_row(clcnn_image *img, void *row, const float *rgba) {
  int c = img->channels, w = img->width;
  for (int x = 0; x < w; x++) {
    const float *p = rgba + 4 * (size_t)x;
    float s[4];
    if (c <= 2) {
      s[0] = p[0];
      s[1] = p[3];
    } else {
      s[0] = p[0], s[1] = p[1], s[2] = p[2], s[3] = p[3];
    }
    for (int k = 0; k < c; k++) {
      size_t i = (size_t)x * c + k;
      switch (img->type) {
        case CLCNN_PIXEL_UINT8:
          ((uint8_t *)row)[i] = (uint8_t)(unit_clamp(s[k]) * 255.0f + 0.5f);
          break;
        case CLCNN_PIXEL_UINT16:
          ((uint16_t *)row)[i] = (uint16_t)(unit_clamp(s[k]) * 65535.0f + 0.5f);
          break;
        default: ((float *)row)[i] = s[k]; break;
      }
    }
  }
}

/* Where the tensor's channel k comes from in RGBA: 0..3, or -1 for luma. */
static void channel_map(int channels, clcnn_channel_order order, int map[4]) {
  if (channels >= 3) {
    map[0] = order == CLCNN_CHANNEL_ORDER_BGR ? 2 : 0;
    map[1] = 1;
    map[2] = order == CLCNN_CHANNEL_ORDER_BGR ? 0 : 2;
    map[3] = 3;
  } else {
    map[0] = -1;
    map[1] = 3;
  }
}

clcnn_status image_to_planes(const clcnn_image *img, const clcnn_image_options *o, float *dst,
                             int channels, size_t plane, size_t row, clcnn_err *err) {
  size_t stride;
  clcnn_status st = image_check(img, &stride, err);
  if (st) return st;
  float *rgba = malloc(sizeof(float) * 4 * (size_t)img->width);
  if (!rgba) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory (image row)");
  int map[4];
  channel_map(channels, o->order, map);
  bool color = img->channels >= 3;
  for (int y = 0; y < img->height; y++) {
    load_row(img, (const char *)img->data + (size_t)y * stride, rgba);
    for (int k = 0; k < channels; k++) {
      float mul = o->range / o->std[k], add = -o->mean[k] / o->std[k];
      float *d = dst + (size_t)k * plane + (size_t)y * row;
      const float *p = rgba;
      if (map[k] >= 0)
        for (int x = 0; x < img->width; x++, p += 4) d[x] = p[map[k]] * mul + add;
      else if (color)
        for (int x = 0; x < img->width; x++, p += 4) d[x] = luma(p[0], p[1], p[2]) * mul + add;
      else
        for (int x = 0; x < img->width; x++, p += 4) d[x] = p[0] * mul + add;
    }
  }
  free(rgba);
  return CLCNN_OK;
}

clcnn_status planes_to_image(const float *src, int channels, size_t plane, size_t row,
                             const clcnn_image_options *o, clcnn_image *img, clcnn_err *err) {
  size_t stride;
  clcnn_status st = image_check(img, &stride, err);
  if (st) return st;
  float *rgba = malloc(sizeof(float) * 4 * (size_t)img->width);
  if (!rgba) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory (image row)");
  int map[4];
  channel_map(channels, o->order, map);
  for (int y = 0; y < img->height; y++) {
    for (int x = 0; x < img->width; x++) rgba[4 * (size_t)x + 3] = 1.0f; /* opaque */
    for (int k = 0; k < channels; k++) {
      float mul = o->std[k] / o->range, add = o->mean[k] / o->range;
      const float *s = src + (size_t)k * plane + (size_t)y * row;
      float *p = rgba;
      if (map[k] >= 0)
        for (int x = 0; x < img->width; x++, p += 4) p[map[k]] = s[x] * mul + add;
      else /* gray: into R, G and B */
        for (int x = 0; x < img->width; x++, p += 4) p[0] = p[1] = p[2] = s[x] * mul + add;
    }
    if (img->channels <= 2 && channels >= 3) /* a color tensor into a gray image */
      for (int x = 0; x < img->width; x++) {
        float *p = rgba + 4 * (size_t)x;
        p[0] = luma(p[0], p[1], p[2]);
      }
    store_row(img, (char *)img->data + (size_t)y * stride, rgba);
  }
  free(rgba);
  return CLCNN_OK;
}

/* A float32 [1,] C, H, W tensor of an image's size; its channel count. */
static clcnn_status check_tensor(const clcnn_tensor *t, const clcnn_image *img, const char *fn,
                                 int *channels, clcnn_err *err) {
  if (!t || !t->data) return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "%s: NULL tensor", fn);
  int r = t->rank;
  if (t->dtype != CLCNN_DTYPE_FLOAT32 || (r != 3 && r != 4) || (r == 4 && t->dims[0] != 1) ||
      t->dims[r - 3] < 1 || t->dims[r - 3] > 4 || t->dims[r - 2] != img->height ||
      t->dims[r - 1] != img->width) {
    char d[128] = "";
    size_t n = 0;
    for (int i = 0; i < r && i < CLCNN_MAX_RANK && n < sizeof d - 24; i++)
      n += (size_t)snprintf(d + n, sizeof d - n, "%s%lld", i ? "x" : "", (long long)t->dims[i]);
    return err_set(err, CLCNN_ERROR_SHAPE,
                   "%s: the tensor (%s, rank %d, %s) must be float32 [1,]Cx%dx%d with C 1..4", fn,
                   dtype_name(t->dtype), r, d, img->height, img->width);
  }
  *channels = (int)t->dims[r - 3];
  return CLCNN_OK;
}

clcnn_status clcnn_image_to_tensor(const clcnn_image *image, const clcnn_image_options *opts,
                                   clcnn_tensor *tensor) {
  clcnn_err err = {0};
  clcnn_image_options o;
  size_t stride;
  int c;
  if (image_check(image, &stride, &err) || image_opts_resolve(opts, &o, &err) ||
      check_tensor(tensor, image, "clcnn_image_to_tensor", &c, &err))
    return api_fail(&err);
  size_t plane = (size_t)image->width * (size_t)image->height;
  if (image_to_planes(image, &o, tensor->data, c, plane, (size_t)image->width, &err))
    return api_fail(&err);
  return CLCNN_OK;
}

clcnn_status clcnn_tensor_to_image(const clcnn_tensor *tensor, const clcnn_image_options *opts,
                                   clcnn_image *image) {
  clcnn_err err = {0};
  clcnn_image_options o;
  size_t stride;
  int c;
  if (image_check(image, &stride, &err) || image_opts_resolve(opts, &o, &err) ||
      check_tensor(tensor, image, "clcnn_tensor_to_image", &c, &err))
    return api_fail(&err);
  size_t plane = (size_t)image->width * (size_t)image->height;
  if (planes_to_image(tensor->data, c, plane, (size_t)image->width, &o, image, &err))
    return api_fail(&err);
  return CLCNN_OK;
}
