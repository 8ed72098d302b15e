/* Tiled runs of a fully convolutional image-to-image model over images of any
 * size (clcnn_tiler_*). Built on the public session API: one session per
 * tile size, reused for every tile.
 *
 * Layout, per axis: an image at least a tile long gets n tiles, the first at
 * 0 and the last ending at the image's edge, spread evenly so that
 * neighbours share at least `overlap` pixels. Blending, per axis: between
 * neighbours k and k+1 the seam is the middle of their shared pixels, and
 * tile k's weight falls linearly from 1 to 0 over overlap/2 pixels centred
 * on it while k+1's rises; weights are normalised by their sum per output
 * pixel, and the 2-D weight is the product of the two axes'. A pixel thus
 * takes weight only from tiles in which it lies at least overlap/4 from an
 * edge shared with another tile. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "image.h"

#define DEFAULT_TILE 512
#define DEFAULT_OVERLAP 32

typedef struct tile_session {
  clcnn_session *s;
  int c, th, tw; /* input tile */
  int oc, sy, sx; /* output channels and scale */
} tile_session;

struct clcnn_tiler {
  const clcnn_model *model;
  clcnn_session_options so;
  char *device;
  clcnn_tile_options o;
  char *input, *output;
  int model_c, model_h, model_w; /* -1: open */
  tile_session sess[2]; /* [0] the tile size, [1] a tile shrunk to a small image */
  float *buf; /* one tile's input */
  size_t buf_cap;
};

/* One axis of a run's layout. */
typedef struct axis {
  int len;   /* image pixels */
  int t;     /* tile size (the session's) */
  int span;  /* image pixels in one tile: t, or len when the tile is padded */
  int pad;   /* where the image starts inside a padded tile */
  int n;     /* tiles */
  int *pos;  /* first image pixel of each tile */
  int scale;
  float *norm; /* per output pixel: 1 / the sum of the tiles' weights */
  float *w;    /* one tile's weights, span * scale */
} axis;

void clcnn_tile_options_default(clcnn_tile_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->overlap = -1;
  o->padding = CLCNN_TILE_PADDING_NONE;
}


void clcnn_tiler_free(clcnn_tiler *t) {
  if (!t) return;
  for (int i = 0; i < 2; i++) clcnn_session_free(t->sess[i].s);
  free(t->device);
  free(t->input);
  free(t->output);
  free(t->buf);
  free(t);
}

clcnn_status clcnn_tiler_create(const clcnn_model *model, const clcnn_session_options *session_opts,
                                const clcnn_tile_options *opts, clcnn_tiler **out) {
  clcnn_err err = {0};
  if (out) *out = NULL;
  if (!model || !out) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_tiler_create: NULL argument");
    return api_fail(&err);
  }
  clcnn_tiler *t = calloc(1, sizeof *t);
  if (!t) {
    err_set(&err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    return api_fail(&err);
  }
  t->model = model;
  clcnn_session_options_default(&t->so);
  clcnn_tile_options_default(&t->o);
  if (session_opts) {
    if (session_opts->size < sizeof(size_t) || session_opts->size > sizeof t->so) {
      err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT,
              "clcnn_session_options.size is %zu: fill it with clcnn_session_options_default()",
              session_opts->size);
      goto fail;
    }
    memcpy(&t->so, session_opts, session_opts->size);
    t->so.size = sizeof t->so;
    if (t->so.bound_inputs || t->so.bound_input_count) { /* the tiles feed the one input */
      err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT,
              "clcnn_tiler_create: session options with bound_inputs are not for a tiler");
      goto fail;
    }
    if (t->so.calibration_inputs || t->so.calibration_input_count) { /* one shape per tile size */
      err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT,
              "clcnn_tiler_create: calibration_inputs are not for a tiler (precision auto "
              "calibrates each tile size's session on its own pattern)");
      goto fail;
    }
    if (t->so.image_input_count) {
      err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT,
              "clcnn_tiler_create: the session options name image inputs; a tiler feeds its "
              "sessions tiles (clcnn_tiler_run_image() converts images itself)");
      goto fail;
    }
  }
  if (opts) {
    if (opts->size < sizeof(size_t) || opts->size > sizeof t->o) {
      err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT,
              "clcnn_tile_options.size is %zu: fill it with clcnn_tile_options_default()",
              opts->size);
      goto fail;
    }
    memcpy(&t->o, opts, opts->size);
    t->o.size = sizeof t->o;
  }
  if (t->so.device && !(t->device = strdup(t->so.device))) goto oom;
  t->so.device = t->device;
  if (!t->so.cancel) t->so.cancel = t->o.cancel; /* a tile's run stops between its steps */

  /* The model: one float32 input [1, C, H, W]. */
  if (clcnn_model_input_count(model) != 1) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT,
            "clcnn_tiler_create: the model has %d inputs; a tiled run needs a model with one",
            clcnn_model_input_count(model));
    goto fail;
  }
  clcnn_io_info in, outi;
  clcnn_model_input_info(model, 0, &in);
  if (t->o.input && strcmp(t->o.input, in.name) != 0) {
    err_set(&err, CLCNN_ERROR_NOT_FOUND, "clcnn_tiler_create: no input '%s' (the model's is '%s')",
            t->o.input, in.name);
    goto fail;
  }
  if (in.dtype != CLCNN_DTYPE_FLOAT32 || in.rank != 4 || in.dims[0] > 1 || in.dims[0] == 0) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT,
            "clcnn_tiler_create: input '%s' must be float32 [1, C, H, W] (NCHW, batch 1)",
            in.name);
    goto fail;
  }
  int found = -1;
  for (int i = 0; i < clcnn_model_output_count(model); i++) {
    clcnn_model_output_info(model, i, &outi);
    if (!t->o.output || strcmp(t->o.output, outi.name) == 0) {
      found = i;
      break;
    }
  }
  if (found < 0) {
    err_set(&err, CLCNN_ERROR_NOT_FOUND, "clcnn_tiler_create: no output '%s'",
            t->o.output ? t->o.output : "");
    goto fail;
  }
  if (!(t->input = strdup(in.name)) || !(t->output = strdup(outi.name))) goto oom;
  t->o.input = t->input;
  t->o.output = t->output;
  t->model_c = (int)(in.dims[1] > 0 ? in.dims[1] : -1);
  t->model_h = (int)(in.dims[2] > 0 && in.dims[2] <= INT_MAX ? in.dims[2] : -1);
  t->model_w = (int)(in.dims[3] > 0 && in.dims[3] <= INT_MAX ? in.dims[3] : -1);

  /* Tiles. */
  int *sz[2] = {&t->o.tile_height, &t->o.tile_width};
  int fixed[2] = {t->model_h, t->model_w};
  for (int k = 0; k < 2; k++) {
    if (*sz[k] == 0) *sz[k] = fixed[k] > 0 ? fixed[k] : DEFAULT_TILE;
    if (*sz[k] < 1 || *sz[k] > 65536) {
      err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_tiler_create: tile size %dx%d",
              t->o.tile_width, t->o.tile_height);
      goto fail;
    }
    if (fixed[k] > 0 && *sz[k] != fixed[k]) {
      err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT,
              "clcnn_tiler_create: the model's input '%s' is fixed at %dx%d (WxH): tiles of "
              "%dx%d cannot be fed to it",
              in.name, t->model_w > 0 ? t->model_w : 0, t->model_h > 0 ? t->model_h : 0,
              t->o.tile_width, t->o.tile_height);
      goto fail;
    }
  }
  int side = t->o.tile_width < t->o.tile_height ? t->o.tile_width : t->o.tile_height;
  if (t->o.overlap == -1) t->o.overlap = side / 4 < DEFAULT_OVERLAP ? side / 4 : DEFAULT_OVERLAP;
  if (t->o.overlap < 0 || 2 * t->o.overlap > side) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT,
            "clcnn_tiler_create: overlap %d for tiles of %dx%d (it must be 0 to half a tile)",
            t->o.overlap, t->o.tile_width, t->o.tile_height);
    goto fail;
  }
  if (t->o.padding != CLCNN_TILE_PADDING_NONE && t->o.padding != CLCNN_TILE_PADDING_REFLECT &&
      t->o.padding != CLCNN_TILE_PADDING_REPLICATE) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_tiler_create: bad padding %d",
            (int)t->o.padding);
    goto fail;
  }
  *out = t;
  return CLCNN_OK;
oom:
  err_set(&err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
fail:
  clcnn_tiler_free(t);
  return api_fail(&err);
}

/* ---------------------------------------------------------------- layout */

static void axis_free(axis *a) {
  free(a->pos);
  free(a->norm);
  free(a->w);
  memset(a, 0, sizeof *a);
}

/* Tiles of one axis for an image of `len` pixels and tiles of `tile`. */
static clcnn_status axis_plan(const clcnn_tiler *t, int len, int tile, bool fixed, axis *a,
                              clcnn_err *err) {
  memset(a, 0, sizeof *a);
  a->len = len;
  int ov = t->o.overlap;
  if (len >= tile) {
    a->t = a->span = tile;
    a->n = len == tile ? 1 : (int)(((int64_t)len - ov + (tile - ov) - 1) / (tile - ov));
  } else if (t->o.padding == CLCNN_TILE_PADDING_NONE && !fixed) {
    a->t = a->span = len;
    a->n = 1;
  } else {
    a->t = tile;
    a->span = len;
    a->pad = (tile - len) / 2;
    a->n = 1;
  }
  if (!(a->pos = malloc(sizeof *a->pos * (size_t)a->n)))
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  for (int k = 0; k < a->n; k++)
    a->pos[k] = a->n == 1 ? 0
                          : (int)(((int64_t)k * (len - a->t) + (a->n - 1) / 2) / (a->n - 1));
  return CLCNN_OK;
}

/* Tile k's blending weight at output pixel X (before normalisation). */
static float axis_weight(const axis *a, float ramp, int k, int X) {
  float x = ((float)X + 0.5f) / (float)a->scale, w = 1.0f;
  for (int side = 0; side < 2; side++) {
    int left = side == 0 ? k - 1 : k; /* the seam between tiles left and left+1 */
    if (left < 0 || left + 1 >= a->n) continue;
    float seam = 0.5f * (float)(a->pos[left] + a->pos[left + 1] + a->t);
    float r; /* the weight of the tile right of the seam */
    if (ramp > 0) {
      r = (x - seam) / ramp + 0.5f;
      r = r < 0 ? 0 : r > 1 ? 1 : r;
    } else {
      r = x >= seam ? 1.0f : 0.0f;
    }
    w *= side == 0 ? r : 1.0f - r;
  }
  return w;
}

static clcnn_status axis_weights(axis *a, int scale, float ramp, clcnn_err *err) {
  a->scale = scale;
  size_t out = (size_t)a->len * (size_t)scale, one = (size_t)a->span * (size_t)scale;
  a->norm = calloc(out, sizeof *a->norm);
  a->w = malloc(one * sizeof *a->w);
  if (!a->norm || !a->w) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  for (int k = 0; k < a->n; k++)
    for (size_t i = 0; i < one; i++) {
      int X = (int)((size_t)a->pos[k] * (size_t)scale + i);
      a->norm[X] += axis_weight(a, ramp, k, X);
    }
  for (size_t X = 0; X < out; X++) a->norm[X] = a->norm[X] > 0 ? 1.0f / a->norm[X] : 0.0f;
  return CLCNN_OK;
}

/* Tile k's normalised weights into a->w. */
static void axis_tile_weights(axis *a, float ramp, int k) {
  size_t one = (size_t)a->span * (size_t)a->scale;
  for (size_t i = 0; i < one; i++) {
    int X = (int)((size_t)a->pos[k] * (size_t)a->scale + i);
    a->w[i] = axis_weight(a, ramp, k, X) * a->norm[X];
  }
}

/* -------------------------------------------------------------- sessions */

static clcnn_status get_session(clcnn_tiler *t, int c, int th, int tw, tile_session **out,
                                clcnn_err *err) {
  int slot = th == t->o.tile_height && tw == t->o.tile_width ? 0 : 1;
  tile_session *ts = &t->sess[slot];
  if (ts->s && ts->c == c && ts->th == th && ts->tw == tw) {
    *out = ts;
    return CLCNN_OK;
  }
  clcnn_session_free(ts->s);
  memset(ts, 0, sizeof *ts);
  clcnn_input_shape shape = {t->input, 4, {1, c, th, tw}};
  clcnn_session *s = NULL;
  clcnn_status st = clcnn_session_create(t->model, &t->so, &shape, 1, &s);
  if (st)
    return err_set(err, st, "tiled run: session for %dx%d tiles: %s", tw, th, clcnn_last_error());
  clcnn_tensor v;
  if ((st = clcnn_session_input(s, t->output, &v))) {
    err_set(err, st, "tiled run: %s", clcnn_session_error(s));
    clcnn_session_free(s);
    return st;
  }
  if (v.dtype != CLCNN_DTYPE_FLOAT32 || v.rank != 4 || v.dims[0] != 1 || v.dims[1] < 1 ||
      v.dims[2] < th || v.dims[3] < tw || v.dims[2] % th || v.dims[3] % tw ||
      v.dims[2] / th > 64 || v.dims[3] / tw > 64) {
    err_set(err, CLCNN_ERROR_SHAPE,
            "tiled run: output '%s' is %s [%lld, %lld, %lld, %lld] for tiles [1, %d, %d, %d]: "
            "a tiled run needs a float32 output of the tile's size times an integer scale "
            "(a fully convolutional model; tile sizes a multiple of its total stride)",
            t->output, dtype_name(v.dtype), (long long)v.dims[0], (long long)v.dims[1],
            (long long)v.dims[2], (long long)v.dims[3], c, th, tw);
    clcnn_session_free(s);
    return CLCNN_ERROR_SHAPE;
  }
  size_t need = (size_t)c * (size_t)th * (size_t)tw;
  if (need > t->buf_cap) {
    float *b = realloc(t->buf, need * sizeof *b);
    if (!b) {
      clcnn_session_free(s);
      return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory (a %dx%d tile)", tw, th);
    }
    t->buf = b;
    t->buf_cap = need;
  }
  ts->s = s;
  ts->c = c;
  ts->th = th;
  ts->tw = tw;
  ts->oc = (int)v.dims[1];
  ts->sy = (int)(v.dims[2] / th);
  ts->sx = (int)(v.dims[3] / tw);
  *out = ts;
  return CLCNN_OK;
}

/* The input channel count for `want` (0: the model's, else 3). */
static clcnn_status resolve_channels(const clcnn_tiler *t, int want, int *c, clcnn_err *err) {
  if (t->model_c > 0) {
    if (want > 0 && want != t->model_c)
      return err_set(err, CLCNN_ERROR_SHAPE, "tiled run: the model's input '%s' has %d channels, "
                     "the image %d", t->input, t->model_c, want);
    *c = t->model_c;
  } else {
    *c = want > 0 ? want : 3;
  }
  return CLCNN_OK;
}

typedef struct plan {
  axis ay, ax;
  tile_session *ts;
  int c;
} plan;

static void plan_free(plan *p) {
  axis_free(&p->ay);
  axis_free(&p->ax);
}

static clcnn_status plan_make(clcnn_tiler *t, int c, int h, int w, plan *p, clcnn_err *err) {
  memset(p, 0, sizeof *p);
  if (h < 1 || w < 1 || h > (1 << 24) || w > (1 << 24))
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "tiled run: image size %dx%d", w, h);
  clcnn_status st;
  if ((st = resolve_channels(t, c, &p->c, err)) ||
      (st = axis_plan(t, h, t->o.tile_height, t->model_h > 0, &p->ay, err)) ||
      (st = axis_plan(t, w, t->o.tile_width, t->model_w > 0, &p->ax, err)) ||
      (st = get_session(t, p->c, p->ay.t, p->ax.t, &p->ts, err)))
    return st;
  if ((int64_t)h * p->ts->sy > INT_MAX / 2 || (int64_t)w * p->ts->sx > INT_MAX / 2)
    return err_set(err, CLCNN_ERROR_SHAPE, "tiled run: the output would be too large");
  float ramp = 0.5f * (float)t->o.overlap;
  if ((st = axis_weights(&p->ay, p->ts->sy, ramp, err)) ||
      (st = axis_weights(&p->ax, p->ts->sx, ramp, err)))
    return st;
  return CLCNN_OK;
}

clcnn_status clcnn_tiler_output_shape(clcnn_tiler *t, int channels, int height, int width,
                                      clcnn_tensor *shape) {
  clcnn_err err = {0};
  if (!t || !shape || channels < 0) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_tiler_output_shape: bad argument");
    return api_fail(&err);
  }
  plan p;
  if (plan_make(t, channels, height, width, &p, &err)) {
    plan_free(&p);
    return api_fail(&err);
  }
  memset(shape, 0, sizeof *shape);
  shape->dtype = CLCNN_DTYPE_FLOAT32;
  shape->rank = 4;
  shape->dims[0] = 1;
  shape->dims[1] = p.ts->oc;
  shape->dims[2] = (int64_t)height * p.ts->sy;
  shape->dims[3] = (int64_t)width * p.ts->sx;
  plan_free(&p);
  return CLCNN_OK;
}

/* ------------------------------------------------------------------ runs */

/* Where tiles come from and where they go: tensors, or images (with a band
 * of output rows in float where one row of tiles blends). */
typedef struct job {
  const float *in;           /* [C, H, W] */
  const clcnn_image *in_img;
  size_t in_stride;
  const clcnn_image_options *io;
  float *out;                /* [OC, H * sy, W * sx] */
  clcnn_image *out_img;
  size_t out_stride;
  float *band;               /* [OC, band_h, W * sx] */
  int band0, band_h;
} job;

static int pad_index(int i, int n, clcnn_tile_padding mode) {
  if (mode == CLCNN_TILE_PADDING_REPLICATE) return i < 0 ? 0 : i >= n ? n - 1 : i;
  if (n == 1) return 0;
  int period = 2 * n - 2;
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - i;
}

/* Fills the tile around its image part [pad, pad + span) per axis. */
static void pad_tile(float *buf, int c, const axis *ay, const axis *ax, clcnn_tile_padding mode) {
  if (mode == CLCNN_TILE_PADDING_NONE) mode = CLCNN_TILE_PADDING_REFLECT;
  int th = ay->t, tw = ax->t;
  for (int k = 0; k < c; k++) {
    float *P = buf + (size_t)k * th * tw;
    if (ax->span < tw)
      for (int y = ay->pad; y < ay->pad + ay->span; y++) {
        float *row = P + (size_t)y * tw;
        for (int x = 0; x < tw; x++)
          if (x < ax->pad || x >= ax->pad + ax->span)
            row[x] = row[ax->pad + pad_index(x - ax->pad, ax->span, mode)];
      }
    if (ay->span < th)
      for (int y = 0; y < th; y++)
        if (y < ay->pad || y >= ay->pad + ay->span)
          memcpy(P + (size_t)y * tw,
                 P + (size_t)(ay->pad + pad_index(y - ay->pad, ay->span, mode)) * tw,
                 sizeof *P * (size_t)tw);
  }
}

/* Writes the band's first `rows` rows to the output image and moves the rest up. */
static clcnn_status band_flush(job *j, int oc, int wout, int rows, clcnn_err *err) {
  if (rows <= 0) return CLCNN_OK;
  size_t plane = (size_t)j->band_h * (size_t)wout;
  clcnn_image dst = image_crop(j->out_img, j->out_stride, 0, j->band0, wout, rows);
  clcnn_status st = planes_to_image(j->band, oc, plane, (size_t)wout, j->io, &dst, err);
  if (st) return st;
  size_t moved = (size_t)rows * (size_t)wout;
  for (int k = 0; k < oc; k++) {
    float *P = j->band + (size_t)k * plane;
    memmove(P, P + moved, (plane - moved) * sizeof *P);
    memset(P + plane - moved, 0, moved * sizeof *P);
  }
  j->band0 += rows;
  return CLCNN_OK;
}

static clcnn_status run_tiles(clcnn_tiler *t, plan *p, job *j, clcnn_err *err) {
  tile_session *ts = p->ts;
  axis *ay = &p->ay, *ax = &p->ax;
  int c = p->c, oc = ts->oc, sy = ts->sy, sx = ts->sx;
  int th = ay->t, tw = ax->t, H = ay->len, W = ax->len;
  int hout = H * sy, wout = W * sx, oth = th * sy, otw = tw * sx;
  int total = ay->n * ax->n, done = 0;
  float ramp = 0.5f * (float)t->o.overlap;
  size_t plane = (size_t)th * (size_t)tw;
  clcnn_status st;
  if (j->out) memset(j->out, 0, sizeof(float) * (size_t)oc * (size_t)hout * (size_t)wout);
  if (t->o.progress && t->o.progress(t->o.progress_user, 0, total))
    return err_set(err, CLCNN_ERROR_CANCELLED, "tiled run: cancelled before the first tile");
  for (int ty = 0; ty < ay->n; ty++) {
    int y0 = ay->pos[ty];
    if (j->band && (st = band_flush(j, oc, wout, y0 * sy - j->band0, err))) return st;
    axis_tile_weights(ay, ramp, ty);
    for (int tx = 0; tx < ax->n; tx++) {
      int x0 = ax->pos[tx];
      if (flag_is_set(t->o.cancel))
        return err_set(err, CLCNN_ERROR_CANCELLED, "tiled run: cancelled after %d of %d tiles",
                       done, total);
      /* The tile's input. */
      float *dst = t->buf + (size_t)ay->pad * tw + ax->pad;
      if (j->in) {
        for (int k = 0; k < c; k++)
          for (int y = 0; y < ay->span; y++)
            memcpy(dst + k * plane + (size_t)y * tw,
                   j->in + ((size_t)k * H + (size_t)(y0 + y)) * W + x0,
                   sizeof(float) * (size_t)ax->span);
      } else {
        clcnn_image crop = image_crop(j->in_img, j->in_stride, x0, y0, ax->span, ay->span);
        if ((st = image_to_planes(&crop, j->io, dst, c, plane, (size_t)tw, err))) return st;
      }
      if (ay->span < th || ax->span < tw) pad_tile(t->buf, c, ay, ax, t->o.padding);
      /* Run it. */
      clcnn_tensor in = {CLCNN_DTYPE_FLOAT32, 4, {1, c, th, tw}, t->buf}, out;
      if ((st = clcnn_session_set_input(ts->s, t->input, &in)) ||
          (st = clcnn_session_run(ts->s)) ||
          (st = clcnn_session_output(ts->s, t->output, &out)))
        return err_set(err, st, "tiled run: tile %d of %d (at x %d, y %d): %s", done + 1, total,
                       x0, y0, clcnn_session_error(ts->s));
      /* Blend its image part into the output. */
      axis_tile_weights(ax, ramp, tx);
      const float *src = (const float *)out.data + (size_t)ay->pad * sy * otw + (size_t)ax->pad * sx;
      int rows = ay->span * sy, cols = ax->span * sx;
      for (int k = 0; k < oc; k++)
        for (int y = 0; y < rows; y++) {
          float wy = ay->w[y];
          if (wy == 0) continue;
          int Y = y0 * sy + y;
          float *d = j->out ? j->out + ((size_t)k * hout + Y) * wout
                            : j->band + ((size_t)k * j->band_h + (Y - j->band0)) * wout;
          d += (size_t)x0 * sx;
          const float *s = src + ((size_t)k * oth + y) * otw;
          for (int x = 0; x < cols; x++) d[x] += s[x] * (ax->w[x] * wy);
        }
      done++;
      if (t->o.progress && t->o.progress(t->o.progress_user, done, total))
        return err_set(err, CLCNN_ERROR_CANCELLED, "tiled run: cancelled after %d of %d tiles",
                       done, total);
    }
  }
  if (j->band && (st = band_flush(j, oc, wout, hout - j->band0, err))) return st;
  return CLCNN_OK;
}

clcnn_status clcnn_tiler_run(clcnn_tiler *t, const clcnn_tensor *input, clcnn_tensor *output) {
  clcnn_err err = {0};
  if (!t || !input || !output || !input->data || !output->data) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_tiler_run: NULL argument");
    return api_fail(&err);
  }
  if (input->dtype != CLCNN_DTYPE_FLOAT32 || input->rank != 4 || input->dims[0] != 1 ||
      input->dims[1] < 1 || input->dims[1] > INT_MAX || input->dims[2] > INT_MAX ||
      input->dims[3] > INT_MAX) {
    err_set(&err, CLCNN_ERROR_SHAPE, "clcnn_tiler_run: the input must be float32 [1, C, H, W]");
    return api_fail(&err);
  }
  plan p;
  clcnn_status st = plan_make(t, (int)input->dims[1], (int)input->dims[2], (int)input->dims[3],
                              &p, &err);
  if (!st) {
    int64_t want[4] = {1, p.ts->oc, input->dims[2] * p.ts->sy, input->dims[3] * p.ts->sx};
    bool same = output->dtype == CLCNN_DTYPE_FLOAT32 && output->rank == 4;
    for (int i = 0; same && i < 4; i++) same = output->dims[i] == want[i];
    if (!same)
      st = err_set(&err, CLCNN_ERROR_SHAPE,
                   "clcnn_tiler_run: the output must be float32 [1, %lld, %lld, %lld] (scale "
                   "x%d, x%d)",
                   (long long)want[1], (long long)want[2], (long long)want[3], p.ts->sx,
                   p.ts->sy);
  }
  if (!st) {
    job j = {.in = input->data, .out = output->data};
    st = run_tiles(t, &p, &j, &err);
  }
  plan_free(&p);
  return st ? api_fail(&err) : CLCNN_OK;
}

clcnn_status clcnn_tiler_run_image(clcnn_tiler *t, const clcnn_image *input,
                                   const clcnn_image_options *image_opts, clcnn_image *output) {
  clcnn_err err = {0};
  clcnn_image_options io;
  size_t in_stride, out_stride;
  if (!t) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_tiler_run_image: NULL tiler");
    return api_fail(&err);
  }
  if (image_check(input, &in_stride, &err) || image_check(output, &out_stride, &err) ||
      image_opts_resolve(image_opts, &io, &err))
    return api_fail(&err);
  plan p;
  clcnn_status st = plan_make(t, t->model_c > 0 ? 0 : input->channels <= 2 ? 1 : 3,
                              input->height, input->width, &p, &err);
  float *band = NULL;
  if (!st && ((int64_t)output->width != (int64_t)input->width * p.ts->sx ||
              (int64_t)output->height != (int64_t)input->height * p.ts->sy))
    st = err_set(&err, CLCNN_ERROR_SHAPE,
                 "clcnn_tiler_run_image: the output image must be %lldx%lld (scale x%d), not "
                 "%dx%d",
                 (long long)input->width * p.ts->sx, (long long)input->height * p.ts->sy,
                 p.ts->sx, output->width, output->height);
  if (!st && p.ts->oc > 4)
    st = err_set(&err, CLCNN_ERROR_SHAPE,
                 "clcnn_tiler_run_image: output '%s' has %d channels; an image takes 1 to 4",
                 t->output, p.ts->oc);
  int band_h = st ? 0 : p.ay.span * p.ts->sy;
  if (!st && !(band = calloc((size_t)p.ts->oc * (size_t)band_h * (size_t)output->width,
                             sizeof *band)))
    st = err_set(&err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory (a row of tiles)");
  if (!st) {
    job j = {.in_img = input, .in_stride = in_stride, .io = &io, .out_img = output,
             .out_stride = out_stride, .band = band, .band_h = band_h};
    st = run_tiles(t, &p, &j, &err);
  }
  free(band);
  plan_free(&p);
  return st ? api_fail(&err) : CLCNN_OK;
}

clcnn_status clcnn_tiled_run(const clcnn_model *model, const clcnn_session_options *session_opts,
                             const clcnn_tile_options *opts, const clcnn_tensor *input,
                             clcnn_tensor *output) {
  clcnn_tiler *t;
  clcnn_status st = clcnn_tiler_create(model, session_opts, opts, &t);
  if (st) return st;
  st = clcnn_tiler_run(t, input, output);
  clcnn_tiler_free(t);
  return st;
}
