/* CPU backend: the pool family (MaxPool, AveragePool, LpPool,
 * GlobalAveragePool, GlobalMaxPool), NCHW.
 * float32 pools run row by row: for each output row and each kernel tap,
 * one pass over the contiguous range of output columns whose taps fall in
 * the input (no per-element bounds tests), threaded over planes.
 * MaxPool with the Indices output, or on int8/uint8, takes a plain
 * per-element loop. 1-D and 2-D run as 3-D with leading dims of 1. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "../ops/pool.h"

#ifdef _OPENMP
#define POOL_PRAGMA(x) _Pragma(#x)
#define POOL_PARALLEL_FOR(nt, cond) \
  POOL_PRAGMA(omp parallel for num_threads(nt) if ((nt) > 1 && (cond)) schedule(static))
#define POOL_SIMD POOL_PRAGMA(omp simd)
#else
#define POOL_PARALLEL_FOR(nt, cond)
#define POOL_SIMD
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

/* The positions o in [0, n_o) for which o * s + off falls in [0, n_i). */
static inline void tap_range(int64_t off, int64_t s, int64_t n_i, int64_t n_o, int64_t *lo,
                             int64_t *hi) {
  int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t h = n_i - off <= 0 ? 0 : (n_i - off + s - 1) / s;
  if (h > n_o) h = n_o;
  if (l > h) l = h;
  *lo = l;
  *hi = h;
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

static void pool_rows(const pool_params *p, const geom3 *g, const float *x, float *y,
                      const float *wcount, int nt) {
  const int kind = p->kind;
  const bool incl = p->count_include_pad != 0;
  const int64_t planes = p->batch * p->channels;
  const int64_t IH = g->in[1], IW = g->in[2], in_size = g->in[0] * IH * IW;
  const int64_t OH = g->out[1], OW = g->out[2], out_size = g->out[0] * OH * OW;
  const int64_t sx = g->s[2];
  const int64_t pw = p->p;
  const float fp = (float)p->p, inv_p = 1.0f / (float)p->p;
  POOL_PARALLEL_FOR(nt, planes > 1 && planes * out_size * g->k[0] * g->k[1] * g->k[2] >=
                            POOL_PAR_MIN)
  for (int64_t pl = 0; pl < planes; pl++) {
    const float *xp = x + pl * in_size;
    float *yp = y + pl * out_size;
    for (int64_t oz = 0; oz < g->out[0]; oz++) {
      for (int64_t oy = 0; oy < OH; oy++) {
        float *restrict yr = yp + (oz * OH + oy) * OW;
        float init = kind == POOL_MAX ? -INFINITY : 0.0f;
        for (int64_t i = 0; i < OW; i++) yr[i] = init;
        for (int64_t kz = 0; kz < g->k[0]; kz++) {
          int64_t iz = oz * g->s[0] - g->pb[0] + kz * g->d[0];
          if (iz < 0 || iz >= g->in[0]) continue;
          for (int64_t ky = 0; ky < g->k[1]; ky++) {
            int64_t iy = oy * g->s[1] - g->pb[1] + ky * g->d[1];
            if (iy < 0 || iy >= IH) continue;
            const float *xr = xp + (iz * IH + iy) * IW;
            for (int64_t kx = 0; kx < g->k[2]; kx++) {
              int64_t xoff = kx * g->d[2] - g->pb[2], lo, hi;
              tap_range(xoff, sx, IW, OW, &lo, &hi);
              const float *restrict src = xr + (lo * sx + xoff);
              float *restrict dst = yr + lo;
              int64_t len = hi - lo;
              if (kind == POOL_MAX) {
                if (sx == 1) {
                  POOL_SIMD
                  for (int64_t j = 0; j < len; j++) dst[j] = src[j] > dst[j] ? src[j] : dst[j];
                } else {
                  for (int64_t j = 0; j < len; j++) {
                    float v = src[j * sx];
                    dst[j] = v > dst[j] ? v : dst[j];
                  }
                }
              } else if (kind == POOL_AVG) {
                if (sx == 1) {
                  POOL_SIMD
                  for (int64_t j = 0; j < len; j++) dst[j] += src[j];
                } else {
                  for (int64_t j = 0; j < len; j++) dst[j] += src[j * sx];
                }
              } else if (pw == 1) {
                for (int64_t j = 0; j < len; j++) dst[j] += fabsf(src[j * sx]);
              } else if (pw == 2) {
                for (int64_t j = 0; j < len; j++) {
                  float v = src[j * sx];
                  dst[j] += v * v;
                }
              } else {
                for (int64_t j = 0; j < len; j++) dst[j] += powf(fabsf(src[j * sx]), fp);
              }
            }
          }
        }
        if (kind == POOL_AVG) {
          int64_t c = dim_count(g, 0, oz, incl) * dim_count(g, 1, oy, incl);
          for (int64_t i = 0; i < OW; i++) {
            float cnt = (float)c * wcount[i];
            yr[i] = cnt > 0 ? yr[i] / cnt : 0.0f;
          }
        } else if (kind == POOL_LP && pw == 2) {
          for (int64_t i = 0; i < OW; i++) yr[i] = sqrtf(yr[i]);
        } else if (kind == POOL_LP && pw != 1) {
          for (int64_t i = 0; i < OW; i++) yr[i] = powf(yr[i], inv_p);
        }
      }
    }
  }
}

/* ------------------------------------- MaxPool: Indices, int8, uint8 */

static inline float load_as_float(const void *x, clcnn_dtype dt, int64_t i) {
  switch (dt) {
    case CLCNN_DTYPE_INT8: return (float)((const int8_t *)x)[i];
    case CLCNN_DTYPE_UINT8: return (float)((const uint8_t *)x)[i];
    default: return ((const float *)x)[i];
  }
}

static void maxpool_generic(const pool_params *p, const geom3 *g, const clcnn_tensor *xt,
                            clcnn_tensor *yt, int64_t *indices, int nt) {
  const clcnn_dtype dt = xt->dtype;
  const int64_t planes = p->batch * p->channels;
  const int64_t IH = g->in[1], IW = g->in[2], in_size = g->in[0] * IH * IW;
  const int64_t OH = g->out[1], OW = g->out[2], out_size = g->out[0] * OH * OW;
  POOL_PARALLEL_FOR(nt, planes > 1 && planes * out_size >= POOL_PAR_MIN)
  for (int64_t pl = 0; pl < planes; pl++) {
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

static clcnn_status pool_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                             int nout, clcnn_err *err) {
  (void)nin;
  const pool_params *p = cn->n->params;
  geom3 g;
  geom3_from(&p->geom, &g);
  int64_t *indices = nout > 1 && out[1].data ? out[1].data : NULL;
  if (indices || in[0].dtype != CLCNN_DTYPE_FLOAT32) {
    maxpool_generic(p, &g, &in[0], &out[0], indices, cn->nthreads);
    return CLCNN_OK;
  }
  float *wcount = NULL;
  if (p->kind == POOL_AVG) {
    wcount = malloc(sizeof(float) * (size_t)g.out[2]);
    if (!wcount) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    for (int64_t i = 0; i < g.out[2]; i++)
      wcount[i] = (float)dim_count(&g, 2, i, p->count_include_pad != 0);
  }
  pool_rows(p, &g, in[0].data, out[0].data, wcount, cn->nthreads);
  free(wcount);
  return CLCNN_OK;
}

/* ---------------------------------------------------------- global pools */

static clcnn_status global_run(cpu_node *cn, const clcnn_tensor *in, int nin,
                               clcnn_tensor *out, int nout, clcnn_err *err) {
  (void)nin, (void)nout, (void)err;
  const pool_params *p = cn->n->params;
  const float *x = in[0].data;
  float *y = out[0].data;
  const int64_t planes = p->batch * p->channels, size = p->geom.in_size;
  const int nt = cn->nthreads;
  POOL_PARALLEL_FOR(nt, planes > 1 && planes * size >= POOL_PAR_MIN)
  for (int64_t pl = 0; pl < planes; pl++) {
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
  return CLCNN_OK;
}

static const cpu_op pool_cpu = {NULL, NULL, pool_run, NULL};
static const cpu_op global_cpu = {NULL, NULL, global_run, NULL};

const cpu_op *const cpu_ops_pool[CLCNN_OP_COUNT] = {
    [CLCNN_OP_MAXPOOL] = &pool_cpu,
    [CLCNN_OP_AVERAGEPOOL] = &pool_cpu,
    [CLCNN_OP_LPPOOL] = &pool_cpu,
    [CLCNN_OP_GLOBALAVERAGEPOOL] = &global_cpu,
    [CLCNN_OP_GLOBALMAXPOOL] = &global_cpu,
};
