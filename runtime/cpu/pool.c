/* CPU backend: the pool family (MaxPool, AveragePool, LpPool,
 * GlobalAveragePool, GlobalMaxPool), NCHW.
 * float32 pools run over a padded copy of each plane (no bounds tests in
 * the inner loops), row by row, with unrolled vectorised kernels for square
 * 2x2, 3x3 and 5x5 windows of stride 1 or 2; threaded over planes.
 * MaxPool with the Indices output, or on int8/uint8, takes a plain
 * per-element loop. 1-D and 2-D run as 3-D with leading dims of 1. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "../ops/pool.h"
#include "threadpool.h"

#ifdef _OPENMP
#define POOL_PRAGMA(x) _Pragma(#x)
#define POOL_SIMD POOL_PRAGMA(omp simd)
#else
#define POOL_SIMD
#endif
#if defined(__GNUC__) && !defined(__clang__)
#define POOL_UNROLL _Pragma("GCC unroll 8")
#else
#define POOL_UNROLL
#endif
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define POOL_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define POOL_CLONES
#endif
#ifdef __GNUC__
#define POOL_INLINE __attribute__((always_inline))
#else
#define POOL_INLINE
#endif

/* Least work (elements) worth waking threads for. */
#define POOL_PAR_MIN ((int64_t)1 << 15)

typedef struct geom3 {
  int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
} geom3;

static void geom3_from(const window_geom *g, geom3 *o) {
  int off = 3 - g->nspatial;
  for (int i = 0; i < 3; i++) {
    int j = i - off;
    bool real = j >= 0;
    o->in[i] = real ? g->in[j] : 1;
    o->out[i] = real ? g->out[j] : 1;
    o->k[i] = real ? g->kernel[j] : 1;
    o->s[i] = real ? g->strides[j] : 1;
    o->d[i] = real ? g->dilations[j] : 1;
    o->pb[i] = real ? g->pads_begin[j] : 0;
    o->pe[i] = real ? g->pads_end[j] : 0;
  }
}

/* Number of taps start + k * d (k < K) inside [lo, hi). */
static inline int64_t tap_count(int64_t start, int64_t K, int64_t d, int64_t lo, int64_t hi) {
  int64_t k0 = start >= lo ? 0 : (lo - start + d - 1) / d;
  int64_t k1 = hi - start <= 0 ? 0 : (hi - start + d - 1) / d;
  if (k1 > K) k1 = K;
  return k1 > k0 ? k1 - k0 : 0;
}

/* Taps of output position o along dim i that count in the average. */
static inline int64_t dim_count(const geom3 *g, int i, int64_t o, bool include_pad) {
  int64_t start = o * g->s[i] - g->pb[i];
  return include_pad ? tap_count(start, g->k[i], g->d[i], -g->pb[i], g->in[i] + g->pe[i])
                     : tap_count(start, g->k[i], g->d[i], 0, g->in[i]);
}

/* ------------------------------------------------------- float32 windows */

/* A copy of one input plane (D x PH x PW; H and W padded with the pool's
 * neutral value: -inf for max, 0 for sums) big enough that every window of
 * every output position lies inside, so the row kernels need no bounds
 * tests. LpPool stores |x|^p, so that it sums like AveragePool. The borders
 * are written once when the buffer is allocated; each plane rewrites the
 * interior. */
typedef struct padded {
  int64_t ph, pw, top, left, floats;
} padded;

static void padded_from(const geom3 *g, padded *pd) {
  int64_t need_h = (g->out[1] - 1) * g->s[1] + (g->k[1] - 1) * g->d[1] + 1;
  int64_t need_w = (g->out[2] - 1) * g->s[2] + (g->k[2] - 1) * g->d[2] + 1;
  pd->top = g->pb[1];
  pd->left = g->pb[2];
  pd->ph = need_h > pd->top + g->in[1] ? need_h : pd->top + g->in[1];
  pd->pw = need_w > pd->left + g->in[2] ? need_w : pd->left + g->in[2];
  pd->floats = g->in[0] * pd->ph * pd->pw;
}

static void padded_copy(const pool_params *p, const float *x, const geom3 *g, const padded *pd,
                        float *buf) {
  const int64_t IH = g->in[1], IW = g->in[2];
  const float fp = (float)p->p;
  for (int64_t z = 0; z < g->in[0]; z++) {
    float *dst = buf + z * pd->ph * pd->pw + pd->top * pd->pw + pd->left;
    const float *src = x + z * IH * IW;
    for (int64_t r = 0; r < IH; r++, dst += pd->pw, src += IW) {
      if (p->kind != POOL_LP) {
        memcpy(dst, src, sizeof(float) * (size_t)IW);
      } else if (p->p == 1) {
        for (int64_t i = 0; i < IW; i++) dst[i] = fabsf(src[i]);
      } else if (p->p == 2) {
        POOL_SIMD
        for (int64_t i = 0; i < IW; i++) dst[i] = src[i] * src[i];
      } else {
        for (int64_t i = 0; i < IW; i++) dst[i] = powf(fabsf(src[i]), fp);
      }
    }
  }
}

/* y[ox] = max or sum of y[ox] and the K x K window at p + ox * S (no
 * dilation). K, S and MAX are constants after inlining: the taps unroll and
 * the ox loop vectorises. */
static inline POOL_INLINE void pool_row_k(float *restrict y, const float *restrict p, int64_t pw,
                                          int64_t ow, const int K, const int S, const int MAX) {
  POOL_SIMD
  for (int64_t ox = 0; ox < ow; ox++) {
    float acc = y[ox];
    POOL_UNROLL
    for (int ky = 0; ky < K; ky++) {
      POOL_UNROLL
      for (int kx = 0; kx < K; kx++) {
        float v = p[ky * pw + ox * S + kx];
        acc = MAX ? (v > acc ? v : acc) : acc + v;
      }
    }
    y[ox] = acc;
  }
}

#define POOL_ROW_FN(K, S)                                                               \
  POOL_CLONES static void max_row_##K##_##S(float *restrict y, const float *restrict p, \
                                            int64_t pw, int64_t ow) {                   \
    pool_row_k(y, p, pw, ow, K, S, 1);                                                  \
  }                                                                                     \
  POOL_CLONES static void sum_row_##K##_##S(float *restrict y, const float *restrict p, \
                                            int64_t pw, int64_t ow) {                   \
    pool_row_k(y, p, pw, ow, K, S, 0);                                                  \
  }
POOL_ROW_FN(2, 1)
POOL_ROW_FN(2, 2)
POOL_ROW_FN(3, 1)
POOL_ROW_FN(3, 2)
POOL_ROW_FN(5, 1)
POOL_ROW_FN(5, 2)

typedef void (*pool_row_fn)(float *restrict y, const float *restrict p, int64_t pw, int64_t ow);

/* The unrolled kernel for the window, or NULL. */
static pool_row_fn pool_row_for(const geom3 *g, bool max) {
  if (g->d[1] != 1 || g->d[2] != 1 || g->k[1] != g->k[2] || g->s[2] > 2) return NULL;
  static const pool_row_fn maxf[3][2] = {
      {max_row_2_1, max_row_2_2}, {max_row_3_1, max_row_3_2}, {max_row_5_1, max_row_5_2}};
  static const pool_row_fn sumf[3][2] = {
      {sum_row_2_1, sum_row_2_2}, {sum_row_3_1, sum_row_3_2}, {sum_row_5_1, sum_row_5_2}};
  int k = g->k[2] == 2 ? 0 : g->k[2] == 3 ? 1 : g->k[2] == 5 ? 2 : -1;
  if (k < 0) return NULL;
  return max ? maxf[k][g->s[2] - 1] : sumf[k][g->s[2] - 1];
}

/* Any window: one pass over the row per tap. */
static void pool_row_any(float *restrict y, const float *restrict p, int64_t pw, int64_t ow,
                         const geom3 *g, bool max) {
  const int64_t sx = g->s[2];
  for (int64_t ky = 0; ky < g->k[1]; ky++) {
    for (int64_t kx = 0; kx < g->k[2]; kx++) {
      const float *restrict src = p + ky * g->d[1] * pw + kx * g->d[2];
      if (max && sx == 1) {
        POOL_SIMD
        for (int64_t i = 0; i < ow; i++) y[i] = src[i] > y[i] ? src[i] : y[i];
      } else if (max) {
        for (int64_t i = 0; i < ow; i++) y[i] = src[i * sx] > y[i] ? src[i * sx] : y[i];
      } else if (sx == 1) {
        POOL_SIMD
        for (int64_t i = 0; i < ow; i++) y[i] += src[i];
      } else {
        for (int64_t i = 0; i < ow; i++) y[i] += src[i * sx];
      }
    }
  }
}

/* Per-node scratch: padded planes (one per thread) and, for AveragePool,
 * the reciprocal tap counts per output row (D x H) and column (W). */
typedef struct pool_state {
  padded pd;
  int nbuf;
  float *pad;
  float *row_inv, *col_inv;
} pool_state;

static void pool_state_free(pool_state *s) {
  if (!s) return;
  free(s->pad);
  free(s->row_inv);
  free(s->col_inv);
  free(s);
}

static clcnn_status pool_state_alloc(const cpu_node *cn, pool_state **out, clcnn_err *err) {
  const pool_params *p = cn->n->params;
  geom3 g;
  geom3_from(&p->geom, &g);
  pool_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  padded_from(&g, &s->pd);
  s->nbuf = cn->nthreads > 1 ? cn->nthreads : 1;
  int64_t floats = s->pd.floats * s->nbuf;
  int64_t rows = g.out[0] * g.out[1];
  if (floats > ((int64_t)1 << 36)) {
    free(s);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "pool scratch is too large");
  }
  s->pad = malloc(sizeof(float) * (size_t)floats);
  if (p->kind == POOL_AVG) {
    s->row_inv = malloc(sizeof(float) * (size_t)rows);
    s->col_inv = malloc(sizeof(float) * (size_t)g.out[2]);
  }
  if (!s->pad || (p->kind == POOL_AVG && (!s->row_inv || !s->col_inv))) {
    pool_state_free(s);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory allocating pool scratch");
  }
  float fill = p->kind == POOL_MAX ? -INFINITY : 0.0f;
  for (int64_t i = 0; i < floats; i++) s->pad[i] = fill;
  if (p->kind == POOL_AVG) {
    bool incl = p->count_include_pad != 0;
    for (int64_t r = 0; r < rows; r++) {
      int64_t c = dim_count(&g, 0, r / g.out[1], incl) * dim_count(&g, 1, r % g.out[1], incl);
      s->row_inv[r] = c > 0 ? 1.0f / (float)c : 0.0f;
    }
    for (int64_t i = 0; i < g.out[2]; i++) {
      int64_t c = dim_count(&g, 2, i, incl);
      s->col_inv[i] = c > 0 ? 1.0f / (float)c : 0.0f;
    }
  }
  *out = s;
  return CLCNN_OK;
}

static clcnn_status pool_prepare(cpu_node *cn, clcnn_err *err) {
  const pool_params *p = cn->n->params;
  if (p->indices || cn->g->values[cn->n->in[0]].t.dtype != CLCNN_DTYPE_FLOAT32) return CLCNN_OK;
  pool_state *s;
  clcnn_status st = pool_state_alloc(cn, &s, err);
  if (st == CLCNN_OK) cn->state = s;
  return st;
}

static void pool_release(cpu_node *cn) {
  pool_state_free(cn->state);
  cn->state = NULL;
}

/* One output plane from its padded input plane. */
POOL_CLONES static void pool_plane(const pool_params *p, const geom3 *g, const pool_state *s,
                                   pool_row_fn row, const float *buf, float *yp) {
  const bool max = p->kind == POOL_MAX;
  const int64_t OH = g->out[1], OW = g->out[2], pw = s->pd.pw;
  const float init = max ? -INFINITY : 0.0f;
  const float inv_p = 1.0f / (float)p->p;
  for (int64_t oz = 0; oz < g->out[0]; oz++) {
    for (int64_t oy = 0; oy < OH; oy++) {
      float *restrict yr = yp + (oz * OH + oy) * OW;
      /* Vector stores, so that the row kernels' vector loads of yr forward. */
      POOL_SIMD
      for (int64_t i = 0; i < OW; i++) yr[i] = init;
      for (int64_t kz = 0; kz < g->k[0]; kz++) {
        int64_t iz = oz * g->s[0] - g->pb[0] + kz * g->d[0];
        if (iz < 0 || iz >= g->in[0]) continue;
        const float *pr = buf + iz * s->pd.ph * pw + oy * g->s[1] * pw;
        if (row)
          row(yr, pr, pw, OW);
        else
          pool_row_any(yr, pr, pw, OW, g, max);
      }
      if (p->kind == POOL_AVG) {
        const float ri = s->row_inv[oz * OH + oy];
        const float *restrict ci = s->col_inv;
        POOL_SIMD
        for (int64_t i = 0; i < OW; i++) yr[i] *= ri * ci[i];
      } else if (p->kind == POOL_LP && p->p == 2) {
        POOL_SIMD
        for (int64_t i = 0; i < OW; i++) yr[i] = sqrtf(yr[i]);
      } else if (p->kind == POOL_LP && p->p != 1) {
        for (int64_t i = 0; i < OW; i++) yr[i] = powf(yr[i], inv_p);
      }
    }
  }
}

typedef struct planes_task {
  const pool_params *p;
  const pool_state *s;
  const geom3 *g;
  pool_row_fn row;
  const float *x;
  float *y;
  int64_t in_size, out_size;
} planes_task;

/* Planes [begin, end) through thread `thread`'s padded buffer. */
static void planes_items(void *arg, int64_t begin, int64_t end, int thread) {
  const planes_task *k = arg;
  float *buf = k->s->pad + (int64_t)thread * k->s->pd.floats;
  for (int64_t pl = begin; pl < end; pl++) {
    padded_copy(k->p, k->x + pl * k->in_size, k->g, &k->s->pd, buf);
    pool_plane(k->p, k->g, k->s, k->row, buf, k->y + pl * k->out_size);
  }
}

static void pool_planes(const cpu_node *cn, const pool_state *s, const geom3 *g, const float *x,
                        float *y) {
  const pool_params *p = cn->n->params;
  const int64_t planes = p->batch * p->channels;
  const int64_t in_size = g->in[0] * g->in[1] * g->in[2];
  const int64_t out_size = g->out[0] * g->out[1] * g->out[2];
  const double work = (double)planes * (double)out_size * (double)(g->k[0] * g->k[1] * g->k[2]);
  planes_task k = {.p = p, .s = s, .g = g, .row = pool_row_for(g, p->kind == POOL_MAX), .x = x,
                   .y = y, .in_size = in_size, .out_size = out_size};
  cpu_parallel_for(cn->pool, work >= (double)POOL_PAR_MIN ? s->nbuf : 1, planes, 1, planes_items,
                   &k);
}

/* ------------------------------------- MaxPool: Indices, int8, uint8 */

static inline float load_as_float(const void *x, clcnn_dtype dt, int64_t i) {
  switch (dt) {
    case CLCNN_DTYPE_INT8:
      return (float)((const int8_t *)x)[i];
    case CLCNN_DTYPE_UINT8:
      return (float)((const uint8_t *)x)[i];
    default:
      return ((const float *)x)[i];
  }
}

typedef struct generic_task {
  const pool_params *p;
  const geom3 *g;
  const clcnn_tensor *xt;
  clcnn_tensor *yt;
  int64_t *indices;
} generic_task;

static void generic_planes(void *varg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const generic_task *k = varg;
  const pool_params *p = k->p;
  const geom3 *g = k->g;
  const clcnn_tensor *xt = k->xt;
  clcnn_tensor *yt = k->yt;
  int64_t *indices = k->indices;
  const clcnn_dtype dt = xt->dtype;
  const int64_t IH = g->in[1], IW = g->in[2], in_size = g->in[0] * IH * IW;
  const int64_t OH = g->out[1], OW = g->out[2], out_size = g->out[0] * OH * OW;
  for (int64_t pl = begin; pl < end; pl++) {
    for (int64_t o = 0; o < out_size; o++) {
      int64_t ox = o % OW, oy = (o / OW) % OH, oz = o / (OW * OH);
      float best = -INFINITY;
      int64_t arg = -1;
      for (int64_t kz = 0; kz < g->k[0]; kz++) {
        int64_t iz = oz * g->s[0] - g->pb[0] + kz * g->d[0];
        if (iz < 0 || iz >= g->in[0]) continue;
        for (int64_t ky = 0; ky < g->k[1]; ky++) {
          int64_t iy = oy * g->s[1] - g->pb[1] + ky * g->d[1];
          if (iy < 0 || iy >= IH) continue;
          for (int64_t kx = 0; kx < g->k[2]; kx++) {
            int64_t ix = ox * g->s[2] - g->pb[2] + kx * g->d[2];
            if (ix < 0 || ix >= IW) continue;
            int64_t at = (iz * IH + iy) * IW + ix;
            float v = load_as_float(xt->data, dt, pl * in_size + at);
            if (arg < 0 || v > best) {
              best = v;
              arg = p->storage_order ? ix * IH + iy : at;
            }
          }
        }
      }
      int64_t yi = pl * out_size + o;
      switch (dt) {
        case CLCNN_DTYPE_INT8:
          ((int8_t *)yt->data)[yi] = arg >= 0 ? (int8_t)best : INT8_MIN;
          break;
        case CLCNN_DTYPE_UINT8:
          ((uint8_t *)yt->data)[yi] = arg >= 0 ? (uint8_t)best : 0;
          break;
        default:
          ((float *)yt->data)[yi] = best;
          break;
      }
      if (indices) indices[yi] = arg >= 0 ? pl * in_size + arg : -1;
    }
  }
}

static void maxpool_generic(const cpu_node *cn, const geom3 *g, const clcnn_tensor *xt,
                            clcnn_tensor *yt, int64_t *indices) {
  const pool_params *p = cn->n->params;
  const int64_t planes = p->batch * p->channels, out_size = g->out[0] * g->out[1] * g->out[2];
  generic_task k = {.p = p, .g = g, .xt = xt, .yt = yt, .indices = indices};
  cpu_parallel_for(cn->pool, planes * out_size >= POOL_PAR_MIN ? cn->nthreads : 1, planes, 1,
                   generic_planes, &k);
}

static clcnn_status pool_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                             int nout, clcnn_err *err) {
  (void)nin;
  const pool_params *p = cn->n->params;
  geom3 g;
  geom3_from(&p->geom, &g);
  int64_t *indices = nout > 1 && out[1].data ? out[1].data : NULL;
  if (indices || in[0].dtype != CLCNN_DTYPE_FLOAT32) {
    maxpool_generic(cn, &g, &in[0], &out[0], indices);
    return CLCNN_OK;
  }
  pool_state *s = cn->state, *own = NULL;
  if (!s) {
    clcnn_status st = pool_state_alloc(cn, &own, err);
    if (st) return st;
    s = own;
  }
  pool_planes(cn, s, &g, in[0].data, out[0].data);
  pool_state_free(own);
  return CLCNN_OK;
}

/* ---------------------------------------------------------- global pools */

typedef struct global_task {
  const pool_params *p;
  const float *x;
  float *y;
} global_task;

static void global_planes(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const global_task *k = arg;
  const pool_params *p = k->p;
  const float *x = k->x;
  float *y = k->y;
  const int64_t size = p->geom.in_size;
  for (int64_t pl = begin; pl < end; pl++) {
    const float *xp = x + pl * size;
    if (p->kind == POOL_MAX) {
      float m = size > 0 ? xp[0] : -INFINITY;
      for (int64_t i = 1; i < size; i++) m = xp[i] > m ? xp[i] : m;
      y[pl] = m;
    } else {
      /* Eight partial sums in double: accurate and still vectorizable. */
      double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int64_t i = 0;
      for (; i + 8 <= size; i += 8)
        for (int j = 0; j < 8; j++) s[j] += xp[i + j];
      for (; i < size; i++) s[0] += xp[i];
      double t = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
      y[pl] = size > 0 ? (float)(t / (double)size) : 0.0f;
    }
  }
}

static clcnn_status global_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                               int nout, clcnn_err *err) {
  (void)nin, (void)nout, (void)err;
  const pool_params *p = cn->n->params;
  const int64_t planes = p->batch * p->channels, size = p->geom.in_size;
  global_task k = {.p = p, .x = in[0].data, .y = out[0].data};
  cpu_parallel_for(cn->pool, planes * size >= POOL_PAR_MIN ? cn->nthreads : 1, planes, 1,
                   global_planes, &k);
  return CLCNN_OK;
}

static const cpu_op pool_cpu = {NULL, pool_prepare, pool_run, pool_release};
static const cpu_op global_cpu = {NULL, NULL, global_run, NULL};

const cpu_op *const cpu_ops_pool[CLCNN_OP_COUNT] = {
    [CLCNN_OP_MAXPOOL] = &pool_cpu,         [CLCNN_OP_AVERAGEPOOL] = &pool_cpu,
    [CLCNN_OP_LPPOOL] = &pool_cpu,          [CLCNN_OP_GLOBALAVERAGEPOOL] = &global_cpu,
    [CLCNN_OP_GLOBALMAXPOOL] = &global_cpu,
};
