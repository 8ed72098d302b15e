/* CPU backend: the conv family (Conv, ConvTranspose), float32, NCHW.
 *
 * Conv: per image and group, im2col of a band of output rows into a
 * scratch matrix [C_in/group * kernel, band] and one SGEMM with the weights
 * [C_out/group, C_in/group * kernel]; the band is sized so that the scratch
 * stays a few MB. A 1x1, stride 1, unpadded conv needs no im2col (the image
 * is already the matrix). A depthwise conv (one input channel per group) is
 * a direct loop, threaded over channels.
 * ConvTranspose: SGEMM of the transposed weights with a band of input rows
 * into columns, then col2im scattered into the output (threaded over output
 * channels).
 * Bias and the fused activation are applied while the output is hot. The
 * 1-D and 2-D cases run as 3-D with leading dims of 1. */
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "../ops/conv.h"

#ifdef _OPENMP
#define CONV_PRAGMA(x) _Pragma(#x)
#define CONV_PARALLEL_FOR(nt, cond) \
  CONV_PRAGMA(omp parallel for num_threads(nt) if ((nt) > 1 && (cond)) schedule(static))
#define CONV_SIMD CONV_PRAGMA(omp simd)
#else
#define CONV_PARALLEL_FOR(nt, cond)
#define CONV_SIMD
#endif

/* Scratch budget for one im2col / col2im band (floats): 8 MB. */
#define CONV_COL_FLOATS ((int64_t)1 << 21)
/* Least work (elements) worth waking threads for. */
#define CONV_PAR_MIN ((int64_t)1 << 15)

/* Geometry with 3 spatial dims (leading dims of size 1 for 1-D and 2-D). */
typedef struct geom3 {
  int64_t in[3], out[3], k[3], s[3], d[3], p[3];
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
    o->p[i] = real ? g->pads_begin[j] : 0;
  }
}

/* The positions o in [0, n_o) for which o * s + off falls in [0, n_i):
 * [*lo, *hi) (empty when *lo == *hi). */
static inline void tap_range(int64_t off, int64_t s, int64_t n_i, int64_t n_o, int64_t *lo,
                             int64_t *hi) {
  int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t h = n_i - off <= 0 ? 0 : (n_i - off + s - 1) / s;
  if (h > n_o) h = n_o;
  if (l > h) l = h;
  *lo = l;
  *hi = h;
}

static inline void axpy(float *restrict y, const float *restrict x, float a, int64_t n) {
  CONV_SIMD
  for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

static inline void axpy_strided(float *restrict y, const float *restrict x, int64_t sx,
                                float a, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] += a * x[i * sx];
}

/* Bias and activation on `rows` rows of `len` floats, `ld` apart. */
static void epilogue(const ir_node *n, float *y, int64_t rows, int64_t len, int64_t ld,
                     const float *bias, int nt) {
  if (!bias && n->act_op < 0) return;
  CONV_PARALLEL_FOR(nt, rows > 1 && rows * len >= CONV_PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    float *yr = y + r * ld;
    if (bias) {
      float b = bias[r];
      CONV_SIMD
      for (int64_t i = 0; i < len; i++) yr[i] += b;
    }
    if (n->act_op >= 0) cpu_unary_apply(n->act_op, n->act_params, yr, yr, (size_t)len);
  }
}

/* ------------------------------------------------------------------ Conv */

typedef struct conv_state {
  float *col;
  int64_t band;  /* rows (od, oh) of output (Conv) or input (ConvTranspose) per band */
  int64_t floats;
} conv_state;

/* Rows of the band: as many as fit the budget, balanced over the bands. */
#include <stdio.h>
static int64_t band_rows(int64_t rows, int64_t floats_per_row) {
  int64_t cap = getenv("CONV_CAP") ? atoll(getenv("CONV_CAP")) : CONV_COL_FLOATS;
  int64_t r = floats_per_row > 0 ? cap / floats_per_row : rows;
  if (r < 1) r = 1;
  if (r >= rows) return rows;
  int64_t bands = (rows + r - 1) / r;
  return (rows + bands - 1) / bands;
}

/* Scratch size of a node (0: none), and its band. */
static int64_t conv_scratch(const conv_params *p, const geom3 *g, bool transpose,
                            int64_t *band) {
  int64_t ksz = p->geom.kernel_size;
  if (!transpose) {
    *band = g->out[0] * g->out[1];
    if (p->pointwise || p->depthwise) return 0;
    int64_t per_row = p->group_in * ksz * g->out[2];
    *band = band_rows(*band, per_row);
    return per_row * *band;
  }
  int64_t per_row = p->group_out * ksz * g->in[2];
  *band = band_rows(g->in[0] * g->in[1], per_row);
  return per_row * *band;
}

static clcnn_status state_alloc(cpu_node *cn, bool transpose, conv_state **out,
                                clcnn_err *err) {
  const conv_params *p = cn->n->params;
  geom3 g;
  geom3_from(&p->geom, &g);
  int64_t band = 0;
  int64_t floats = conv_scratch(p, &g, transpose, &band);
  if (floats < 0 || floats > ((int64_t)1 << 36))
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "convolution scratch is too large");
  conv_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  s->band = band;
  s->floats = floats;
  if (floats > 0) {
    s->col = malloc(sizeof(float) * (size_t)floats);
    if (!s->col) {
      free(s);
      return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY,
                     "out of memory allocating %lld bytes of convolution scratch",
                     (long long)(floats * 4));
    }
  }
  *out = s;
  return CLCNN_OK;
}

static void state_free(conv_state *s) {
  if (!s) return;
  free(s->col);
  free(s);
}

static clcnn_status conv_prepare(cpu_node *cn, clcnn_err *err) {
  conv_state *s;
  clcnn_status st = state_alloc(cn, cn->n->op == CLCNN_OP_CONV_TRANSPOSE, &s, err);
  if (st == CLCNN_OK) cn->state = s;
  return st;
}

static void conv_release(cpu_node *cn) {
  state_free(cn->state);
  cn->state = NULL;
}

/* im2col of output rows [r0, r1) (row = od * OH + oh) of one group:
 * col[(c, kz, ky, kx)][(r - r0) * OW + ow] = x[c][iz][iy][ix] or 0 in the padding. */
static void im2col(const float *x, int64_t channels, const geom3 *g, int64_t r0, int64_t r1,
                   float *col, int nt) {
  const int64_t K0 = g->k[0], K1 = g->k[1], K2 = g->k[2];
  const int64_t ksz = K0 * K1 * K2, nrows = channels * ksz;
  const int64_t OH = g->out[1], OW = g->out[2], ncols = (r1 - r0) * OW;
  const int64_t IH = g->in[1], IW = g->in[2], plane = g->in[0] * IH * IW;
  const int64_t sx = g->s[2];
  CONV_PARALLEL_FOR(nt, nrows > 1 && nrows * ncols >= CONV_PAR_MIN)
  for (int64_t row = 0; row < nrows; row++) {
    int64_t c = row / ksz, k = row % ksz;
    int64_t kx = k % K2, ky = (k / K2) % K1, kz = k / (K2 * K1);
    const float *xc = x + c * plane;
    float *dst = col + row * ncols;
    int64_t xoff = kx * g->d[2] - g->p[2], lo, hi;
    tap_range(xoff, sx, IW, OW, &lo, &hi);
    int64_t oz = r0 / OH, oy = r0 % OH;
    for (int64_t r = r0; r < r1; r++, dst += OW) {
      int64_t iz = oz * g->s[0] - g->p[0] + kz * g->d[0];
      int64_t iy = oy * g->s[1] - g->p[1] + ky * g->d[1];
      if (++oy == OH) {
        oy = 0;
        oz++;
      }
      if (iz < 0 || iz >= g->in[0] || iy < 0 || iy >= IH || lo >= hi) {
        memset(dst, 0, sizeof(float) * (size_t)OW);
        continue;
      }
      const float *src = xc + (iz * IH + iy) * IW + (lo * sx + xoff);
      if (lo > 0) memset(dst, 0, sizeof(float) * (size_t)lo);
      if (sx == 1) {
        memcpy(dst + lo, src, sizeof(float) * (size_t)(hi - lo));
      } else {
        float *d = dst + lo;
        for (int64_t j = 0; j < hi - lo; j++) d[j] = src[j * sx];
      }
      if (hi < OW) memset(dst + hi, 0, sizeof(float) * (size_t)(OW - hi));
    }
  }
}

/* Depthwise: every output channel m reads input channel m / (C_out / group). */
static void conv_depthwise(const cpu_node *cn, const conv_params *p, const geom3 *g,
                           const float *x, const float *w, const float *bias, float *y) {
  const ir_node *n = cn->n;
  const int64_t planes = p->batch * p->out_channels, M = p->out_channels;
  const int64_t K0 = g->k[0], K1 = g->k[1], K2 = g->k[2], ksz = K0 * K1 * K2;
  const int64_t IH = g->in[1], IW = g->in[2], in_size = g->in[0] * IH * IW;
  const int64_t OH = g->out[1], OW = g->out[2], out_size = g->out[0] * OH * OW;
  const int64_t sx = g->s[2];
  const int nt = cn->nthreads;
  CONV_PARALLEL_FOR(nt, planes > 1 && planes * out_size * ksz >= CONV_PAR_MIN)
  for (int64_t pl = 0; pl < planes; pl++) {
    int64_t b = pl / M, m = pl % M, c = m / p->group_out;
    const float *xc = x + (b * p->in_channels + c) * in_size;
    const float *wm = w + m * ksz;
    float *yp = y + pl * out_size;
    float bv = bias ? bias[m] : 0.0f;
    for (int64_t oz = 0; oz < g->out[0]; oz++) {
      for (int64_t oy = 0; oy < OH; oy++) {
        float *yr = yp + (oz * OH + oy) * OW;
        for (int64_t i = 0; i < OW; i++) yr[i] = bv;
        for (int64_t kz = 0; kz < K0; kz++) {
          int64_t iz = oz * g->s[0] - g->p[0] + kz * g->d[0];
          if (iz < 0 || iz >= g->in[0]) continue;
          for (int64_t ky = 0; ky < K1; ky++) {
            int64_t iy = oy * g->s[1] - g->p[1] + ky * g->d[1];
            if (iy < 0 || iy >= IH) continue;
            const float *xr = xc + (iz * IH + iy) * IW;
            const float *wr = wm + (kz * K1 + ky) * K2;
            for (int64_t kx = 0; kx < K2; kx++) {
              int64_t xoff = kx * g->d[2] - g->p[2], lo, hi;
              tap_range(xoff, sx, IW, OW, &lo, &hi);
              if (lo >= hi) continue;
              const float *src = xr + (lo * sx + xoff);
              if (sx == 1)
                axpy(yr + lo, src, wr[kx], hi - lo);
              else
                axpy_strided(yr + lo, src, sx, wr[kx], hi - lo);
            }
          }
        }
      }
    }
    if (n->act_op >= 0) cpu_unary_apply(n->act_op, n->act_params, yp, yp, (size_t)out_size);
  }
}

static clcnn_status conv_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                             int nout, clcnn_err *err) {
  (void)nout;
  const conv_params *p = cn->n->params;
  const float *x = in[0].data, *w = in[1].data;
  const float *bias = nin > 2 && in[2].data ? in[2].data : NULL;
  float *y = out[0].data;
  geom3 g;
  geom3_from(&p->geom, &g);
  if (p->depthwise) {
    conv_depthwise(cn, p, &g, x, w, bias, y);
    return CLCNN_OK;
  }
  conv_state *s = cn->state, *own = NULL;
  if (!s) {
    clcnn_status st = state_alloc(cn, false, &own, err);
    if (st) return st;
    s = own;
  }
  const int64_t G = p->group, Cg = p->group_in, Mg = p->group_out;
  const int64_t ksz = p->geom.kernel_size, K = Cg * ksz;
  const int64_t in_size = p->geom.in_size, out_size = p->geom.out_size;
  const int64_t OW = g.out[2], rows = g.out[0] * g.out[1];
  for (int64_t b = 0; b < p->batch; b++) {
    for (int64_t gi = 0; gi < G; gi++) {
      const float *xg = x + (b * p->in_channels + gi * Cg) * in_size;
      const float *wg = w + gi * Mg * K;
      float *yg = y + (b * p->out_channels + gi * Mg) * out_size;
      const float *bg = bias ? bias + gi * Mg : NULL;
      if (p->pointwise) {
        cpu_sgemm(false, false, Mg, out_size, Cg, 1.0f, wg, Cg, xg, in_size, 0.0f, yg, out_size);
        epilogue(cn->n, yg, Mg, out_size, out_size, bg, cn->nthreads);
        continue;
      }
      for (int64_t r0 = 0; r0 < rows; r0 += s->band) {
        int64_t r1 = r0 + s->band < rows ? r0 + s->band : rows;
        int64_t ncols = (r1 - r0) * OW;
        im2col(xg, Cg, &g, r0, r1, s->col, cn->nthreads);
        cpu_sgemm(false, false, Mg, ncols, K, 1.0f, wg, K, s->col, ncols, 0.0f, yg + r0 * OW,
                  out_size);
        epilogue(cn->n, yg + r0 * OW, Mg, ncols, out_size, bg, cn->nthreads);
      }
    }
  }
  state_free(own);
  return CLCNN_OK;
}

/* --------------------------------------------------------- ConvTranspose */

/* Scatters col[(m, kz, ky, kx)][(r - r0) * IW + ix] for input rows [r0, r1)
 * into y[m][oz][oy][ox], o = i * s - pad + k * d, for the Mg channels of a group. */
static void col2im(const float *col, int64_t channels, const geom3 *g, int64_t r0, int64_t r1,
                   float *y, int nt) {
  const int64_t K0 = g->k[0], K1 = g->k[1], K2 = g->k[2], ksz = K0 * K1 * K2;
  const int64_t IH = g->in[1], IW = g->in[2], ncols = (r1 - r0) * IW;
  const int64_t OH = g->out[1], OW = g->out[2], out_size = g->out[0] * OH * OW;
  const int64_t sx = g->s[2];
  CONV_PARALLEL_FOR(nt, channels > 1 && channels * ksz * ncols >= CONV_PAR_MIN)
  for (int64_t m = 0; m < channels; m++) {
    float *ym = y + m * out_size;
    for (int64_t k = 0; k < ksz; k++) {
      int64_t kx = k % K2, ky = (k / K2) % K1, kz = k / (K2 * K1);
      const float *src = col + (m * ksz + k) * ncols;
      int64_t xoff = kx * g->d[2] - g->p[2], lo, hi;
      tap_range(xoff, sx, OW, IW, &lo, &hi);
      if (lo >= hi) continue;
      int64_t iz = r0 / IH, iy = r0 % IH;
      for (int64_t r = r0; r < r1; r++, src += IW) {
        int64_t oz = iz * g->s[0] - g->p[0] + kz * g->d[0];
        int64_t oy = iy * g->s[1] - g->p[1] + ky * g->d[1];
        if (++iy == IH) {
          iy = 0;
          iz++;
        }
        if (oz < 0 || oz >= g->out[0] || oy < 0 || oy >= OH) continue;
        float *dst = ym + (oz * OH + oy) * OW + (lo * sx + xoff);
        const float *sr = src + lo;
        if (sx == 1) {
          CONV_SIMD
          for (int64_t j = 0; j < hi - lo; j++) dst[j] += sr[j];
        } else {
          for (int64_t j = 0; j < hi - lo; j++) dst[j * sx] += sr[j];
        }
      }
    }
  }
}

static clcnn_status convt_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                              int nout, clcnn_err *err) {
  (void)nout;
  const conv_params *p = cn->n->params;
  const float *x = in[0].data, *w = in[1].data;
  const float *bias = nin > 2 && in[2].data ? in[2].data : NULL;
  float *y = out[0].data;
  geom3 g;
  geom3_from(&p->geom, &g);
  conv_state *s = cn->state, *own = NULL;
  if (!s) {
    clcnn_status st = state_alloc(cn, true, &own, err);
    if (st) return st;
    s = own;
  }
  const int64_t G = p->group, Cg = p->group_in, Mg = p->group_out;
  const int64_t ksz = p->geom.kernel_size, MK = Mg * ksz;
  const int64_t in_size = p->geom.in_size, out_size = p->geom.out_size;
  const int64_t IW = g.in[2], rows = g.in[0] * g.in[1];
  const int64_t planes = p->batch * p->out_channels;
  const int nt = cn->nthreads;
  CONV_PARALLEL_FOR(nt, planes > 1 && planes * out_size >= CONV_PAR_MIN)
  for (int64_t pl = 0; pl < planes; pl++) {
    float bv = bias ? bias[pl % p->out_channels] : 0.0f;
    float *yp = y + pl * out_size;
    for (int64_t i = 0; i < out_size; i++) yp[i] = bv;
  }
  for (int64_t b = 0; b < p->batch; b++) {
    for (int64_t gi = 0; gi < G; gi++) {
      const float *xg = x + (b * p->in_channels + gi * Cg) * in_size;
      const float *wg = w + gi * Cg * MK;
      float *yg = y + (b * p->out_channels + gi * Mg) * out_size;
      for (int64_t r0 = 0; r0 < rows; r0 += s->band) {
        int64_t r1 = r0 + s->band < rows ? r0 + s->band : rows;
        int64_t ncols = (r1 - r0) * IW;
        cpu_sgemm(true, false, MK, ncols, Cg, 1.0f, wg, MK, xg + r0 * IW, in_size, 0.0f, s->col,
                  ncols);
        col2im(s->col, Mg, &g, r0, r1, yg, nt);
      }
    }
  }
  if (cn->n->act_op >= 0) epilogue(cn->n, y, planes, out_size, out_size, NULL, nt);
  state_free(own);
  return CLCNN_OK;
}

static const cpu_op conv_cpu = {NULL, conv_prepare, conv_run, conv_release};
static const cpu_op convt_cpu = {NULL, conv_prepare, convt_run, conv_release};

const cpu_op *const cpu_ops_conv[CLCNN_OP_COUNT] = {
    [CLCNN_OP_CONV] = &conv_cpu,
    [CLCNN_OP_CONV_TRANSPOSE] = &convt_cpu,
};
