/* CPU backend: the resize family (Resize, Upsample, GridSample, RoiAlign).
 *
 * prepare() turns the params into one table per resized axis: for every
 * output coordinate, the input indices it reads (clamped to the edge) and
 * their weights. Nearest mode is then a gather of rows (any element type);
 * linear and cubic modes resize one axis at a time on float32 data (the
 * interpolation is separable), through scratch buffers when several axes
 * change. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "../ops/resize.h"
#include "../ops/shape.h"
#include "threadpool.h"

#define PAR_MIN_ELEMS ((int64_t)1 << 15)

/* Vectorize a loop whose pointers do not alias (OpenMP's simd). */
#ifdef _OPENMP
#define SIMD _Pragma("omp simd")
#else
#define SIMD
#endif

typedef struct axis_tab {
  int64_t in, out;
  int taps;          /* taps per output coordinate (1 for nearest) */
  int32_t *idx;      /* [out * taps] input indices; nearest: -1 = extrapolate */
  float *w;          /* [out * taps] weights (linear/cubic) */
  uint8_t *extrap;   /* [out] tf_crop_and_resize: output is the extrapolation value */
} axis_tab;

typedef struct resize_state {
  int rank;
  axis_tab ax[CLCNN_MAX_RANK];
  float *scratch[2];
} resize_state;

static void state_free(resize_state *s) {
  if (!s) return;
  for (int a = 0; a < CLCNN_MAX_RANK; a++) {
    free(s->ax[a].idx);
    free(s->ax[a].w);
    free(s->ax[a].extrap);
  }
  free(s->scratch[0]);
  free(s->scratch[1]);
  free(s);
}

static double cubic_kernel(double x, double A) {
  x = fabs(x);
  if (x <= 1.0) return ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
  if (x < 2.0) return ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A;
  return 0.0;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Builds the table of axis a. */
static clcnn_status build_axis(const resize_params *p, int a, int64_t in, int64_t out, axis_tab *t,
                               clcnn_err *err) {
  t->in = in;
  t->out = out;
  if (in > INT32_MAX || out > INT32_MAX)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "Resize: axis %d is too long", a);
  bool nearest = p->mode == RESIZE_NEAREST;
  double scale = p->scale[a];
  double aa = p->antialias && scale < 1.0 ? scale : 1.0;
  int first = 0; /* first tap offset i: taps are i = first .. 1 - first */
  if (!nearest) {
    /* Antialiasing widens the filter by 1/scale; an output of at least one
     * element keeps that below about 4x the input size. */
    double support = p->mode == RESIZE_CUBIC ? 2.0 : 1.0;
    double f = floor(-support / aa) + 1.0;
    if (!(f > -(double)(1 << 20)) || (double)out * (2.0 - 2.0 * f) > (double)((int64_t)1 << 32))
      return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                     "Resize: the antialiasing filter for scale %g is too wide", scale);
    first = (int)f;
  }
  t->taps = nearest ? 1 : 2 - 2 * first;
  size_t n = (size_t)(out > 0 ? out : 1) * (size_t)t->taps;
  t->idx = malloc(n * sizeof(int32_t));
  if (!nearest) t->w = malloc(n * sizeof(float));
  if (p->coord == RESIZE_TF_CROP_AND_RESIZE) t->extrap = calloc((size_t)(out > 0 ? out : 1), 1);
  if (!t->idx || (!nearest && !t->w) || (p->coord == RESIZE_TF_CROP_AND_RESIZE && !t->extrap))
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "Resize: out of memory for tables");
  double *wd = NULL;
  if (!nearest && !(wd = malloc((size_t)t->taps * sizeof(double))))
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "Resize: out of memory for tables");
  for (int64_t x = 0; x < out; x++) {
    int32_t *ix = t->idx + x * t->taps;
    if (p->identity[a]) {
      ix[0] = (int32_t)x;
      if (!nearest) {
        for (int k = 0; k < t->taps; k++) {
          ix[k] = (int32_t)x;
          t->w[x * t->taps + k] = 0.0f;
        }
        t->w[x * t->taps] = 1.0f;
      }
      continue;
    }
    double xo = resize_coord(p->coord, (double)x, scale, in, out, p->roi_start[a], p->roi_end[a]);
    if (xo != xo) xo = 0.0; /* defensive: infer rejects non-finite scales and roi */
    bool ext = p->coord == RESIZE_TF_CROP_AND_RESIZE && (xo < 0.0 || xo > (double)(in - 1));
    if (t->extrap) t->extrap[x] = ext;
    if (nearest) {
      double fl = floor(xo), frac = xo - fl, v;
      if (frac == 0.0) v = xo;
      else if (p->nearest == RESIZE_ROUND_PREFER_FLOOR) v = frac <= 0.5 ? fl : fl + 1.0;
      else if (p->nearest == RESIZE_ROUND_PREFER_CEIL) v = frac < 0.5 ? fl : fl + 1.0;
      else if (p->nearest == RESIZE_FLOOR || (p->nearest == RESIZE_LEGACY && scale >= 1.0)) v = fl;
      else v = fl + 1.0;
      v = v < 0.0 ? 0.0 : v > (double)(in - 1) ? (double)(in - 1) : v;
      ix[0] = ext ? -1 : (int32_t)v;
      continue;
    }
    /* base: the input index left of xo (xo itself counts as right), so
     * ratio = xo - base is in (0, 1]. */
    double base = ceil(xo) - 1.0, ratio = xo - base;
    if (!(base > -1e15 && base < 1e15)) base = 0.0, ratio = 1.0; /* non-finite coordinates */
    double sum = 0.0;
    for (int k = 0; k < t->taps; k++) {
      int i = first + k;
      double arg = ((double)i - ratio) * aa;
      double w = p->mode == RESIZE_CUBIC ? cubic_kernel(arg, p->cubic_a)
                                         : (fabs(arg) < 1.0 ? 1.0 - fabs(arg) : 0.0);
      int64_t src = (int64_t)base + i;
      if (p->exclude_outside && (src < 0 || src >= in)) w = 0.0;
      wd[k] = w;
      sum += w;
      ix[k] = (int32_t)clamp64(src, 0, in - 1);
    }
    bool norm = p->antialias || p->exclude_outside;
    for (int k = 0; k < t->taps; k++)
      t->w[x * t->taps + k] = (float)(norm && sum != 0.0 ? wd[k] / sum : wd[k]);
  }
  free(wd);
  return CLCNN_OK;
}

/* The axes to resize, in the order of the passes: axes that shrink the
 * data go first, so that later passes have less to do (the result is the
 * same up to rounding: interpolation is separable). Returns their count. */
static int pass_order(const resize_params *p, int rank, int *order) {
  int passes = 0;
  for (int a = 0; a < rank; a++) {
    if (p->identity[a]) continue;
    int k = passes++;
    while (k > 0 && p->scale[order[k - 1]] > p->scale[a]) {
      order[k] = order[k - 1];
      k--;
    }
    order[k] = a;
  }
  return passes;
}

static clcnn_status resize_prepare(cpu_node *cn, clcnn_err *err) {
  const ir_graph *g = cn->g;
  const ir_node *n = cn->n;
  const resize_params *p = n->params;
  const clcnn_tensor *x = &ir_in(g, n, 0)->t, *y = &ir_out(g, n, 0)->t;
  resize_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "Resize: out of memory");
  s->rank = x->rank;
  for (int a = 0; a < x->rank; a++) {
    clcnn_status st = build_axis(p, a, x->dims[a], y->dims[a], &s->ax[a], err);
    if (st) {
      state_free(s);
      return st;
    }
  }
  if (p->mode != RESIZE_NEAREST) {
    /* Scratch for the intermediate results of all passes but the last. */
    int64_t cur[CLCNN_MAX_RANK], most = 0;
    int order[CLCNN_MAX_RANK], passes = pass_order(p, x->rank, order);
    memcpy(cur, x->dims, sizeof cur);
    for (int k = 0; k + 1 < passes; k++) {
      cur[order[k]] = y->dims[order[k]];
      int64_t m = shape_numel(x->rank, cur);
      if (m > most) most = m;
    }
    if (passes > 1) {
      for (int b = 0; b < 2; b++)
        if (!(s->scratch[b] = malloc((size_t)(most ? most : 1) * sizeof(float)))) {
          state_free(s);
          return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "Resize: out of memory for scratch");
        }
    }
  }
  cn->state = s;
  return CLCNN_OK;
}

static void resize_release(cpu_node *cn) {
  state_free(cn->state);
  cn->state = NULL;
}

/* ---------------------------------------------------------------- nearest */

static void gather_row(uint8_t *dst, const uint8_t *src, const int32_t *ix, int64_t n, size_t es,
                       const uint8_t *ext) {
#define ROW(T)                                                            \
  do {                                                                    \
    T *d = (T *)dst, e;                                                   \
    const T *sp = (const T *)src;                                         \
    memcpy(&e, ext, sizeof e);                                            \
    for (int64_t i = 0; i < n; i++) d[i] = ix[i] >= 0 ? sp[ix[i]] : e;    \
  } while (0)
  switch (es) {
    case 1: ROW(uint8_t); break;
    case 2: ROW(uint16_t); break;
    case 4: ROW(uint32_t); break;
    default: ROW(uint64_t); break;
  }
#undef ROW
}

static void fill_row(uint8_t *dst, int64_t n, size_t es, const uint8_t *val) {
  for (int64_t i = 0; i < n; i++) memcpy(dst + (size_t)i * es, val, es);
}

/* Output rows [r0, r1) (a row: the last axis). */
static void nearest_rows(const resize_state *s, const uint8_t *in, uint8_t *out, size_t es,
                         const int64_t *ist, const uint8_t *ext, int64_t r0, int64_t r1) {
  int last = s->rank - 1;
  const axis_tab *lt = &s->ax[last];
  int64_t n = lt->out, idx[CLCNN_MAX_RANK], t = r0;
  for (int a = last - 1; a >= 0; a--) {
    idx[a] = t % s->ax[a].out;
    t /= s->ax[a].out;
  }
  int64_t prev_off = -2;
  bool identity_row = lt->in == lt->out;
  for (int64_t i = 0; identity_row && i < n; i++) identity_row = lt->idx[i] == i;
  for (int64_t row = r0; row < r1; row++) {
    uint8_t *o = out + (size_t)(row * n) * es;
    int64_t off = 0;
    for (int a = 0; a < last; a++) {
      int64_t v = s->ax[a].idx[idx[a]];
      if (v < 0) {
        off = -1;
        break;
      }
      off += v * ist[a];
    }
    if (off < 0) fill_row(o, n, es, ext);
    else if (off == prev_off) memcpy(o, o - (size_t)n * es, (size_t)n * es);
    else if (identity_row) memcpy(o, in + (size_t)off * es, (size_t)n * es);
    else gather_row(o, in + (size_t)off * es, lt->idx, n, es, ext);
    prev_off = off;
    for (int a = last - 1; a >= 0; a--) {
      if (++idx[a] < s->ax[a].out) break;
      idx[a] = 0;
    }
  }
}

typedef struct nearest_task {
  const resize_state *s;
  const uint8_t *in;
  uint8_t *out;
  size_t es;
  const int64_t *ist;
  const uint8_t *ext;
} nearest_task;

static void nearest_items(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const nearest_task *k = arg;
  nearest_rows(k->s, k->in, k->out, k->es, k->ist, k->ext, begin, end);
}

static void resize_nearest(const resize_state *s, const resize_params *p, const clcnn_tensor *x,
                           clcnn_tensor *y, const cpu_node *cn) {
  size_t es = dtype_size(x->dtype);
  uint8_t ext[8];
  shape_scalar_store(x->dtype, p->extrapolation_value, ext);
  if (s->rank == 0) {
    memcpy(y->data, x->data, es);
    return;
  }
  int64_t ist[CLCNN_MAX_RANK], st = 1;
  for (int a = s->rank - 1; a >= 0; a--) {
    ist[a] = st;
    st *= x->dims[a];
  }
  int64_t total = clcnn_tensor_numel(y);
  if (total == 0) return;
  int64_t rows = total / y->dims[s->rank - 1];
  int nt = total >= PAR_MIN_ELEMS ? cn->nthreads : 1;
  nearest_task k = {.s = s, .in = x->data, .out = y->data, .es = es, .ist = ist, .ext = ext};
  cpu_parallel_for(cn->pool, nt, rows, 1, nearest_items, &k);
}

/* ------------------------------------------------------- linear and cubic */

/* One output row of a pass along the last axis (inner == 1): a gather. */
static void interp_row1(const float *src, float *d, const axis_tab *t, float extrap) {
  int taps = t->taps;
  if (taps == 2 && !t->extrap) {
    for (int64_t x = 0; x < t->out; x++) {
      const int32_t *ix = t->idx + 2 * x;
      const float *w = t->w + 2 * x;
      d[x] = w[0] * src[ix[0]] + w[1] * src[ix[1]];
    }
    return;
  }
  for (int64_t x = 0; x < t->out; x++) {
    if (t->extrap && t->extrap[x]) {
      d[x] = extrap;
      continue;
    }
    const int32_t *ix = t->idx + x * taps;
    const float *w = t->w + x * taps;
    float acc = 0.0f;
    for (int k = 0; k < taps; k++) acc += w[k] * src[ix[k]];
    d[x] = acc;
  }
}

/* Output x of a pass along an inner axis: a weighted sum of input rows. */
static void interp_rows(const float *base, float *d, int64_t inner, const axis_tab *t, int64_t x,
                        float extrap) {
  int taps = t->taps;
  if (t->extrap && t->extrap[x]) {
    for (int64_t i = 0; i < inner; i++) d[i] = extrap;
    return;
  }
  const int32_t *ix = t->idx + x * taps;
  const float *w = t->w + x * taps;
  if (taps == 2) {
    const float *s0 = base + (int64_t)ix[0] * inner, *s1 = base + (int64_t)ix[1] * inner;
    float w0 = w[0], w1 = w[1];
    SIMD for (int64_t i = 0; i < inner; i++) d[i] = w0 * s0[i] + w1 * s1[i];
    return;
  }
  const float *s0 = base + (int64_t)ix[0] * inner;
  float w0 = w[0];
  SIMD for (int64_t i = 0; i < inner; i++) d[i] = w0 * s0[i];
  for (int k = 1; k < taps; k++) {
    const float *sk = base + (int64_t)ix[k] * inner;
    float wk = w[k];
    if (wk == 0.0f) continue;
    SIMD for (int64_t i = 0; i < inner; i++) d[i] += wk * sk[i];
  }
}

typedef struct interp_task {
  const float *src;
  float *dst;
  int64_t inner;
  const axis_tab *t;
  float extrap;
} interp_task;

/* inner == 1: items are rows. */
static void interp_items1(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const interp_task *k = arg;
  for (int64_t o = begin; o < end; o++)
    interp_row1(k->src + o * k->t->in, k->dst + o * k->t->out, k->t, k->extrap);
}

/* Items are (outer, output x) pairs, each a weighted sum of input rows. */
static void interp_items(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const interp_task *k = arg;
  const int64_t tout = k->t->out;
  for (int64_t it = begin; it < end; it++) {
    int64_t o = it / tout, x = it - o * tout;
    interp_rows(k->src + o * k->t->in * k->inner, k->dst + it * k->inner, k->inner, k->t, x,
                k->extrap);
  }
}

/* One separable pass: src [outer, t->in, inner] -> dst [outer, t->out, inner]. */
static void interp_pass(const float *src, float *dst, int64_t outer, int64_t inner,
                        const axis_tab *t, float extrap, const cpu_node *cn) {
  int64_t work = outer * t->out * inner;
  int nt = work >= PAR_MIN_ELEMS ? cn->nthreads : 1;
  interp_task k = {.src = src, .dst = dst, .inner = inner, .t = t, .extrap = extrap};
  if (inner == 1)
    cpu_parallel_for(cn->pool, nt, outer, 1, interp_items1, &k);
  else
    cpu_parallel_for(cn->pool, nt, outer * t->out, 1, interp_items, &k);
}

static void resize_interp(resize_state *s, const resize_params *p, const clcnn_tensor *x,
                          clcnn_tensor *y, const cpu_node *cn) {
  int r = s->rank, order[CLCNN_MAX_RANK];
  int passes = pass_order(p, r, order);
  if (passes == 0) {
    memcpy(y->data, x->data, (size_t)clcnn_tensor_numel(x) * sizeof(float));
    return;
  }
  int64_t cur[CLCNN_MAX_RANK];
  memcpy(cur, x->dims, sizeof cur);
  const float *src = x->data;
  for (int k = 0; k < passes; k++) {
    int a = order[k];
    float *dst = k == passes - 1 ? (float *)y->data : s->scratch[k & 1];
    int64_t outer = 1, inner = 1;
    for (int b = 0; b < a; b++) outer *= cur[b];
    for (int b = a + 1; b < r; b++) inner *= cur[b];
    interp_pass(src, dst, outer, inner, &s->ax[a], p->extrapolation_value, cn);
    cur[a] = s->ax[a].out;
    src = dst;
  }
}

static clcnn_status resize_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                               int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  const resize_params *p = cn->n->params;
  resize_state *s = cn->state;
  if (!s || s->rank != in[0].rank)
    return err_set(err, CLCNN_ERROR_INTERNAL, "Resize: not prepared for this shape");
  for (int a = 0; a < s->rank; a++)
    if (s->ax[a].in != in[0].dims[a] || s->ax[a].out != out[0].dims[a])
      return err_set(err, CLCNN_ERROR_INTERNAL, "Resize: not prepared for this shape");
  if (clcnn_tensor_numel(&out[0]) == 0) return CLCNN_OK;
  if (p->mode == RESIZE_NEAREST) {
    resize_nearest(s, p, &in[0], &out[0], cn);
  } else {
    if (in[0].dtype != CLCNN_DTYPE_FLOAT32)
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "Resize: interpolation needs float32 data");
    resize_interp(s, p, &in[0], &out[0], cn);
  }
  return CLCNN_OK;
}

/* ------------------------------------------------------------ GridSample */


/* x reflected into [lo, hi] by the nearer border, repeatedly. */
static double grid_reflect(double x, double lo, double hi) {
  double range = hi - lo;
  if (range <= 0) return lo;
  if (x < lo) {
    double dx = lo - x, k = floor(dx / range), rem = dx - k * range;
    return fmod(k, 2.0) == 0 ? lo + rem : hi - rem;
  }
  if (x > hi) {
    double dx = x - hi, k = floor(dx / range), rem = dx - k * range;
    return fmod(k, 2.0) == 0 ? hi - rem : lo + rem;
  }
  return x;
}

/* The element a tap at integer position i reads along a dim of `size`
 * elements, or -1 for a zero. */
static int64_t grid_tap(const gridsample_params *p, double i, int64_t size, double lo, double hi) {
  switch (p->padding) {
    case GRID_BORDER: return i < 0 ? 0 : i > (double)(size - 1) ? size - 1 : (int64_t)i;
    case GRID_REFLECTION: {
      int64_t k = (int64_t)grid_reflect(i, lo, hi);
      return k < 0 ? 0 : k >= size ? size - 1 : k;
    }
    default: return i >= 0 && i < (double)size ? (int64_t)i : -1;
  }
}

static void cubic_coeffs(double t, double *w) {
  const double a = -0.75;
  double x = t + 1;
  w[0] = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  x = t;
  w[1] = ((a + 2) * x - (a + 3)) * x * x + 1;
  x = 1 - t;
  w[2] = ((a + 2) * x - (a + 3)) * x * x + 1;
  x = 2 - t;
  w[3] = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
}

/* The taps of one normalized coordinate along a dim: count, elements (-1:
 * zero) and weights. */
static int grid_taps(const gridsample_params *p, float gv, int64_t size, int64_t *idx, double *w) {
  const double lo = p->align_corners ? 0.0 : -0.5;
  const double hi = p->align_corners ? (double)(size - 1) : (double)size - 0.5;
  const int count = p->mode == GRID_NEAREST ? 1 : p->mode == GRID_LINEAR ? 2 : 4;
  double x = p->align_corners ? (gv + 1.0) / 2.0 * (double)(size - 1)
                              : ((gv + 1.0) * (double)size - 1.0) / 2.0;
  if (!isfinite(x)) {
    for (int k = 0; k < count; k++) idx[k] = -1, w[k] = 0;
    return count;
  }
  if (p->mode == GRID_NEAREST) x = nearbyint(x);
  /* Cubic pads each tap only (as PyTorch and onnxruntime; ONNX's reference
   * would also clamp the point, which only border and reflection see). */
  if (p->mode != GRID_CUBIC && (x < lo || x > hi)) {
    if (p->padding == GRID_BORDER) x = x < 0 ? 0 : x > (double)(size - 1) ? (double)(size - 1) : x;
    else if (p->padding == GRID_REFLECTION) x = grid_reflect(x, lo, hi);
  }
  /* Far outside, every tap reads a zero or the border: keep floor() in range. */
  const double lim = (double)size + 8;
  if (x < -lim) x = -lim;
  if (x > lim) x = lim;
  if (p->mode == GRID_NEAREST) {
    idx[0] = grid_tap(p, trunc(x), size, lo, hi);
    w[0] = 1;
    return 1;
  }
  double x0 = floor(x), t = x - x0;
  if (p->mode == GRID_LINEAR) {
    w[0] = 1 - t;
    w[1] = t;
  } else {
    cubic_coeffs(t, w);
  }
  double first = p->mode == GRID_LINEAR ? x0 : x0 - 1;
  for (int k = 0; k < count; k++) idx[k] = grid_tap(p, first + k, size, lo, hi);
  return count;
}

typedef struct grid_task {
  const gridsample_params *p;
  const float *x, *grid;
  float *y;
  int64_t plane, stride[3];
} grid_task;

/* Items are output points (batch, point): independent. */
static void grid_items(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const grid_task *q = arg;
  const gridsample_params *p = q->p;
  const float *x = q->x, *grid = q->grid;
  float *y = q->y;
  const int r = p->r;
  const int64_t plane = q->plane, *stride = q->stride;
  for (int64_t it = begin; it < end; it++) {
    const int64_t b = it / p->points, pt = it % p->points;
    const float *gp = grid + it * r;
    /* Per dim taps; their products are the points' elements and weights. */
    int64_t idx[3][4], off[64];
    double w[3][4], wt[64];
    int cnt[3], total = 1;
    for (int d = 0; d < r; d++) {
      cnt[d] = grid_taps(p, gp[r - 1 - d], p->in[d], idx[d], w[d]);
      total *= cnt[d];
    }
    int m = 0;
    for (int t = 0; t < total; t++) {
      int rest = t;
      int64_t o = 0;
      double wv = 1;
      bool zero = false;
      for (int d = r - 1; d >= 0; d--) {
        int k = rest % cnt[d];
        rest /= cnt[d];
        if (idx[d][k] < 0) zero = true;
        o += idx[d][k] * stride[d];
        wv *= w[d][k];
      }
      if (zero || wv == 0) continue;
      off[m] = o;
      wt[m++] = wv;
    }
    const float *xb = x + b * p->c * plane;
    float *yb = y + b * p->c * p->points + pt;
    for (int64_t c = 0; c < p->c; c++) {
      const float *xc = xb + c * plane;
      double acc = 0;
      for (int k = 0; k < m; k++) acc += wt[k] * xc[off[k]];
      yb[c * p->points] = (float)acc;
    }
  }
}

static clcnn_status gridsample_run(cpu_node *cn, const clcnn_tensor *in, int nin,
                                   clcnn_tensor *out, int nout, clcnn_err *err) {
  (void)nin, (void)nout, (void)err;
  const gridsample_params *p = cn->n->params;
  grid_task q = {.p = p, .x = in[0].data, .grid = in[1].data, .y = out[0].data};
  int64_t plane = 1;
  for (int d = p->r - 1; d >= 0; d--) {
    q.stride[d] = plane;
    plane *= p->in[d];
  }
  q.plane = plane;
  const int64_t items = p->n * p->points;
  cpu_parallel_for(cn->pool, items * p->c >= PAR_MIN_ELEMS ? cn->nthreads : 1, items, 1,
                   grid_items, &q);
  return CLCNN_OK;
}

static const cpu_op gridsample_cpu = {NULL, NULL, gridsample_run, NULL};

/* -------------------------------------------------------------- RoiAlign */

/* One bilinear sample of a plane at (y, x): its four element offsets and
 * weights (zero weights beyond one pixel outside the plane, and for NaN). */
static void roi_taps(const roialign_params *p, double y, double x, int64_t *off, double *w) {
  for (int k = 0; k < 4; k++) off[k] = 0, w[k] = 0;
  if (!(y >= -1.0 && y <= (double)p->h && x >= -1.0 && x <= (double)p->w)) return;
  if (y < 0) y = 0;
  if (x < 0) x = 0;
  int64_t y0 = (int64_t)y, x0 = (int64_t)x, y1, x1;
  if (y0 >= p->h - 1) y0 = y1 = p->h - 1, y = (double)y0;
  else y1 = y0 + 1;
  if (x0 >= p->w - 1) x0 = x1 = p->w - 1, x = (double)x0;
  else x1 = x0 + 1;
  double ly = y - (double)y0, lx = x - (double)x0, hy = 1 - ly, hx = 1 - lx;
  off[0] = y0 * p->w + x0, off[1] = y0 * p->w + x1;
  off[2] = y1 * p->w + x0, off[3] = y1 * p->w + x1;
  w[0] = hy * hx, w[1] = hy * lx, w[2] = ly * hx, w[3] = ly * lx;
}

/* Samples per bin along one dim: sampling_ratio, else ceil(bin size), at
 * least 1 and at most ROI_MAX_GRID (a region 256 times its bins in feature
 * pixels gets no more samples: onnxruntime's would grow without bound). */
#define ROI_MAX_GRID 256
static int64_t roi_grid(int64_t ratio, double bin) {
  double g = ratio > 0 ? (double)ratio : ceil(bin);
  return g >= 1 && g <= ROI_MAX_GRID ? (int64_t)g : g > ROI_MAX_GRID ? ROI_MAX_GRID : 1;
}

/* A serial loop over regions: detectors run RoiAlign in the per-run tail on
 * a few hundred regions, where it costs well under a millisecond per
 * region. */
static clcnn_status roialign_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                                 int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  const roialign_params *p = cn->n->params;
  const float *x = in[0].data, *rois = in[1].data;
  const int64_t *bi = in[2].data;
  float *y = out[0].data;
  const int64_t plane = p->h * p->w, bins = p->out_h * p->out_w;
  const double offset = p->half_pixel ? 0.5 : 0.0;
  for (int64_t r = 0; r < p->rois; r++)
    if (bi[r] < 0 || bi[r] >= p->n)
      return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT,
                     "batch_indices[%lld] = %lld is outside [0, %lld)", (long long)r,
                     (long long)bi[r], (long long)p->n);
  /* The taps of one bin's samples, shared by the channels. */
  const size_t most = (size_t)ROI_MAX_GRID * ROI_MAX_GRID;
  int64_t(*off)[4] = malloc(sizeof(*off) * most);
  double(*wt)[4] = malloc(sizeof(*wt) * most);
  if (!off || !wt) {
    free(off), free(wt);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory in RoiAlign");
  }
  for (int64_t r = 0; r < p->rois; r++) {
    const float *box = rois + 4 * r;
    const double scale = p->spatial_scale;
    double x1 = box[0] * scale - offset, y1 = box[1] * scale - offset;
    double rw = box[2] * scale - offset - x1, rh = box[3] * scale - offset - y1;
    if (!p->half_pixel) rw = rw > 1 ? rw : 1, rh = rh > 1 ? rh : 1;
    const double bh = rh / (double)p->out_h, bw = rw / (double)p->out_w;
    const int64_t gh = roi_grid(p->sampling_ratio, bh), gw = roi_grid(p->sampling_ratio, bw);
    const int64_t samples = gh * gw;
    const float *xb = x + bi[r] * p->c * plane;
    float *yr = y + r * p->c * bins;
    for (int64_t ph = 0; ph < p->out_h; ph++) {
      for (int64_t pw = 0; pw < p->out_w; pw++) {
        for (int64_t iy = 0, k = 0; iy < gh; iy++)
          for (int64_t ix = 0; ix < gw; ix++, k++)
            roi_taps(p, y1 + (double)ph * bh + ((double)iy + 0.5) * bh / (double)gh,
                     x1 + (double)pw * bw + ((double)ix + 0.5) * bw / (double)gw, off[k], wt[k]);
        const int64_t b = ph * p->out_w + pw;
        for (int64_t c = 0; c < p->c; c++) {
          const float *xc = xb + c * plane;
          double acc = 0;
          for (int64_t s = 0; s < samples; s++) {
            const int64_t *o = off[s];
            const double *w = wt[s];
            if (p->mode == ROI_AVG) {
              acc += w[0] * xc[o[0]] + w[1] * xc[o[1]] + w[2] * xc[o[2]] + w[3] * xc[o[3]];
              continue;
            }
            double v = w[0] * xc[o[0]];
            for (int t = 1; t < 4; t++) v = fmax(v, w[t] * xc[o[t]]);
            acc = s ? fmax(acc, v) : v;
          }
          yr[c * bins + b] = (float)(p->mode == ROI_AVG ? acc / (double)samples : acc);
        }
      }
    }
  }
  free(off), free(wt);
  return CLCNN_OK;
}

static const cpu_op roialign_cpu = {NULL, NULL, roialign_run, NULL};

static const cpu_op resize_cpu = {NULL, resize_prepare, resize_run, resize_release};

const cpu_op *const cpu_ops_resize[CLCNN_OP_COUNT] = {
    [CLCNN_OP_RESIZE] = &resize_cpu,
    [CLCNN_OP_UPSAMPLE] = &resize_cpu,
    [CLCNN_OP_GRIDSAMPLE] = &gridsample_cpu,
    [CLCNN_OP_ROIALIGN] = &roialign_cpu,
};
