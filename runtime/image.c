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

/* ---------------------------------------------------------- image inputs */

/* The conversion of image_to_planes() as an affine map of the image's
 * samples: tensor channel k = sum_j w[k][j] * sample_j + b[k], samples as
 * stored (0..255 for 8 bits). */
static void image_affine(int img_c, clcnn_pixel_type type, int tc, const clcnn_image_options *o,
                         float w[4][4], float b[4]) {
  float scale = type == CLCNN_PIXEL_UINT8 ? 1.0f / 255.0f
                : type == CLCNN_PIXEL_UINT16 ? 1.0f / 65535.0f : 1.0f;
  int map[4];
  channel_map(tc, o->order, map);
  for (int k = 0; k < tc; k++) {
    float coef[4] = {0}, cst = 0; /* the RGBA channel: samples' weights and a constant */
    int r = map[k];
    if (r == 3) { /* alpha */
      if (img_c == 2 || img_c == 4) coef[img_c - 1] = 1;
      else cst = 1;
    } else if (img_c <= 2) { /* gray into R, G, B or luma */
      coef[0] = 1;
    } else if (r >= 0) {
      coef[r] = 1;
    } else { /* luma of a color image */
      coef[0] = 0.299f, coef[1] = 0.587f, coef[2] = 0.114f;
    }
    float mul = o->range / o->std[k], add = -o->mean[k] / o->std[k];
    for (int j = 0; j < img_c; j++) w[k][j] = coef[j] * scale * mul;
    b[k] = cst * mul + add;
  }
}

static clcnn_status add_attr_ints(ir_node *n, const char *name, ir_attr_type type,
                                  const int64_t *v, size_t count, clcnn_err *err) {
  ir_attr *a = realloc(n->attr, sizeof *a * (size_t)(n->nattr + 1));
  if (!a) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  n->attr = a;
  a = &a[n->nattr];
  memset(a, 0, sizeof *a);
  a->name = strdup(name);
  a->type = type;
  if (type == IR_ATTR_INT) a->i = v[0];
  else if ((a->ints = malloc(sizeof *a->ints * count))) {
    memcpy(a->ints, v, sizeof *a->ints * count);
    a->n = count;
  }
  n->nattr++;
  if (!a->name || (type != IR_ATTR_INT && !a->ints))
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  return CLCNN_OK;
}

/* A node `op_type` (default domain) from value `in` (plus `in2`, `in3` when
 * >= 0) to value `out`, parsed like an imported one. */
static int add_node(ir_graph *g, const char *name, const char *op_type, int in, int in2, int in3,
                    int out, clcnn_err *err) {
  int nin = in3 >= 0 ? 3 : in2 >= 0 ? 2 : 1;
  int i = ir_add_node(g, name, op_type, "", nin, 1);
  if (i < 0) {
    err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    return -1;
  }
  ir_node *n = &g->nodes[i];
  n->in[0] = in;
  if (nin > 1) n->in[1] = in2;
  if (nin > 2) n->in[2] = in3;
  n->out[0] = out;
  n->op = op_lookup("", op_type);
  n->opset = g->opset;
  n->act_op = -1;
  n->backend = -1;
  g->values[out].producer = i;
  return i;
}

static clcnn_status parse_node(ir_graph *g, int i, clcnn_err *err) {
  ir_node *n = &g->nodes[i];
  const op_front *f = op_front_get(n->op);
  if (f->params_size && !(n->params = calloc(1, f->params_size)))
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  clcnn_err e = {0};
  if (f->parse(g, n, &e))
    return err_set(err, CLCNN_ERROR_INTERNAL, "image input: node '%s': %s", n->name, e.msg);
  return CLCNN_OK;
}

/* A value called "<base><suffix>". */
static int add_named(ir_graph *g, const char *base, const char *suffix) {
  char name[512];
  snprintf(name, sizeof name, "%s%s", base, suffix);
  return ir_add_value(g, name);
}

clcnn_status image_input_graph(ir_graph *g, const clcnn_image_input *ii, int *input,
                               clcnn_err *err) {
  if (!ii->name)
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "image input: no name");
  int gi = -1;
  for (int i = 0; i < g->ninputs; i++)
    if (strcmp(g->values[g->inputs[i]].name, ii->name) == 0) gi = i;
  if (gi < 0)
    return err_set(err, CLCNN_ERROR_NOT_FOUND, "image input '%s': the model has no such input",
                   ii->name);
  int v = g->inputs[gi];
  const clcnn_tensor *t = &g->values[v].t;
  if (t->dtype != CLCNN_DTYPE_FLOAT32 || t->rank != 4 || t->dims[0] != 1 || t->dims[1] < 1 ||
      t->dims[1] > 4)
    return err_set(err, CLCNN_ERROR_SHAPE,
                   "image input '%s': the model's input must be float32 [1, C, H, W] with C 1 "
                   "to 4",
                   ii->name);
  if (ii->type == CLCNN_PIXEL_UINT16)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "image input '%s': 16-bit images are not converted in the graph yet (use "
                   "clcnn_image_to_tensor())",
                   ii->name);
  if (ii->type != CLCNN_PIXEL_UINT8 && ii->type != CLCNN_PIXEL_FLOAT32)
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "image input '%s': bad type %d", ii->name,
                   (int)ii->type);
  if (ii->channels < 1 || ii->channels > 4)
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT,
                   "image input '%s': %d channels (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA)",
                   ii->name, ii->channels);
  clcnn_image_options o;
  clcnn_status st = image_opts_resolve(ii->opts, &o, err);
  if (st) return st;
  int tc = (int)t->dims[1], ic = ii->channels;
  int64_t h = t->dims[2], w = t->dims[3];

  /* The model's input becomes the output of the conversion; the image takes
   * its name and its place among the graph's inputs. */
  char nm[512];
  snprintf(nm, sizeof nm, "%s/image_tensor", ii->name);
  char *renamed = strdup(nm);
  if (!renamed) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  free(g->values[v].name);
  g->values[v].name = renamed;
  g->values[v].is_input = false;
  int img = ir_add_value(g, ii->name), flt = img, planar, wv, bv, n;
  if (img < 0) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  g->inputs[gi] = img;
  g->values[img].is_input = true;
  ir_set_shape(&g->values[img],
               ii->type == CLCNN_PIXEL_UINT8 ? CLCNN_DTYPE_UINT8 : CLCNN_DTYPE_FLOAT32, 4,
               (int64_t[]){1, h, w, ic});
  if (ii->type == CLCNN_PIXEL_UINT8) { /* 8-bit samples to float, as they are */
    if ((flt = add_named(g, ii->name, "/image_float")) < 0)
      return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    snprintf(nm, sizeof nm, "%s/image_cast", ii->name);
    if ((n = add_node(g, nm, "Cast", img, -1, -1, flt, err)) < 0 ||
        (st = add_attr_ints(&g->nodes[n], "to", IR_ATTR_INT, (int64_t[]){CLCNN_DTYPE_FLOAT32}, 1,
                            err)) ||
        (st = parse_node(g, n, err)))
      return st ? st : err->status;
  }
  if ((planar = add_named(g, ii->name, "/image_planar")) < 0 ||
      (wv = add_named(g, ii->name, "/image_weights")) < 0 ||
      (bv = add_named(g, ii->name, "/image_bias")) < 0)
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  snprintf(nm, sizeof nm, "%s/image_transpose", ii->name);
  if ((n = add_node(g, nm, "Transpose", flt, -1, -1, planar, err)) < 0 ||
      (st = add_attr_ints(&g->nodes[n], "perm", IR_ATTR_INTS, (int64_t[]){0, 3, 1, 2}, 4, err)) ||
      (st = parse_node(g, n, err)))
    return st ? st : err->status;
  float a[4][4], b4[4];
  image_affine(ic, ii->type, tc, &o, a, b4);
  float *wd = malloc(sizeof *wd * (size_t)(tc * ic)), *bd = malloc(sizeof *bd * (size_t)tc);
  if (!wd || !bd) {
    free(wd);
    free(bd);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  for (int k = 0; k < tc; k++) {
    for (int j = 0; j < ic; j++) wd[k * ic + j] = a[k][j];
    bd[k] = b4[k];
  }
  ir_set_const(&g->values[wv], CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){tc, ic, 1, 1}, wd);
  ir_set_const(&g->values[bv], CLCNN_DTYPE_FLOAT32, 1, (int64_t[]){tc}, bd);
  snprintf(nm, sizeof nm, "%s/image_convert", ii->name);
  if ((n = add_node(g, nm, "Conv", planar, wv, bv, v, err)) < 0 || (st = parse_node(g, n, err)))
    return st ? st : err->status;
  g->values[v].shape_known = false; /* inferred from the conversion now */
  *input = img;
  return ir_toposort(g, err);
}
