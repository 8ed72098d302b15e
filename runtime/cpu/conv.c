/* CPU backend: the conv family (Conv, ConvTranspose), float32, NCHW.
 *
 * Conv: per image and group, im2col of a band of output rows into a
 * scratch matrix [C_in/group * kernel, band] and one SGEMM with the weights
 * [C_out/group, C_in/group * kernel]; the band is sized so that the scratch
 * stays in cache (2 MB per 4 threads). A 1x1, stride 1, unpadded conv needs
 * no im2col (the image is already the matrix). Bias and the fused
 * activation are applied to each band while it is hot.
 * Depthwise (one input channel per group): a direct loop over a padded copy
 * of each plane, so the inner loops have no bounds tests; 3x3 and 5x5
 * kernels with stride 1 or 2 have unrolled, vectorised row kernels.
 * Threaded over planes.
 * ConvTranspose: SGEMM of the transposed weights with a band of input rows
 * into columns, then col2im scattered into the output.
 * The 1-D and 2-D cases run as 3-D with leading dims of 1.
 *
 * Threads: every loop, SGEMM included (cpu_sgemm splits the product over
 * the same pool and keeps the BLAS single-threaded), uses cn->nthreads
 * threads of the context's pool (threadpool.h): two pools would fight for
 * the cores. */
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "../ops/conv.h"
#include "conv_dnnl.h"
#include "threadpool.h"

#ifdef _OPENMP
#define CONV_PRAGMA(x) _Pragma(#x)
#define CONV_SIMD CONV_PRAGMA(omp simd)
#else
#define CONV_SIMD
#endif
#if defined(__GNUC__) && !defined(__clang__)
#define CONV_UNROLL _Pragma("GCC unroll 8")
#else
#define CONV_UNROLL
#endif
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CONV_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CONV_CLONES
#endif
#ifdef __GNUC__
#define CONV_INLINE __attribute__((always_inline))
#else
#define CONV_INLINE
#endif

/* Threads for the loops around SGEMM calls (see the top comment). */
#define GEMM_SIDE_THREADS (cn->nthreads)

/* Scratch budget for one im2col / col2im band, per 4 threads (floats). */
#define CONV_COL_FLOATS ((int64_t)1 << 19)
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

static inline void axpy_strided(float *restrict y, const float *restrict x, int64_t sx, float a,
                                int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] += a * x[i * sx];
}

typedef struct epilogue_task {
  const ir_node *n;
  float *y;
  int64_t len, ld;
  const float *bias;
  const float *res; /* the residual, laid out as y (graph_fuse_residual), or NULL */
} epilogue_task;

static void epilogue_rows(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const epilogue_task *k = arg;
  const ir_node *n = k->n;
  const float *bias = k->bias;
  const int64_t len = k->len;
  for (int64_t r = begin; r < end; r++) {
    float *yr = k->y + r * k->ld;
    if (bias) {
      float b = bias[r];
      CONV_SIMD
      for (int64_t i = 0; i < len; i++) yr[i] += b;
    }
    if (k->res) {
      const float *rr = k->res + r * k->ld;
      CONV_SIMD
      for (int64_t i = 0; i < len; i++) yr[i] += rr[i];
    }
    if (n->act_op >= 0) cpu_unary_apply(n->act_op, n->act_params, yr, yr, (size_t)len);
  }
}

/* Bias, residual (res: laid out as y) and activation on `rows` rows of
 * `len` floats, `ld` apart. */
static void epilogue(const cpu_node *cn, float *y, int64_t rows, int64_t len, int64_t ld,
                     const float *bias, const float *res) {
  if (!bias && !res && cn->n->act_op < 0) return;
  epilogue_task k = {.n = cn->n, .y = y, .len = len, .ld = ld, .bias = bias, .res = res};
  cpu_parallel_for(cn->pool, rows * len >= CONV_PAR_MIN ? cn->nthreads : 1, rows, 1,
                   epilogue_rows, &k);
}


/* ------------------------------------------------------- padded planes */

/* A zero-padded copy of one input plane (D x PH x PW; only H and W are
 * padded), big enough that every window of every output position lies
 * inside: the depthwise loops need no bounds tests. With phases = 2 (2-D,
 * stride 2) the copy is split into 4 phase planes by row and column parity,
 * P[a][b][r][c] = padded[2r + a][2c + b], so that stride-2 taps become
 * contiguous loads. The borders are zeroed once when the buffer is
 * allocated; each plane rewrites the interior. */
typedef struct padded {
  int64_t ph, pw;    /* padded slice */
  int64_t top, left; /* position of the input in it */
  int phases;        /* 1, or 2: split by parity */
  int64_t pitch;     /* row pitch (pw, or ceil(pw / 2) when split) */
  int64_t psize;     /* floats per phase plane (split) */
  int64_t floats;    /* the whole buffer */
} padded;

static void padded_from(const geom3 *g, int phases, padded *pd) {
  int64_t need_h = (g->out[1] - 1) * g->s[1] + (g->k[1] - 1) * g->d[1] + 1;
  int64_t need_w = (g->out[2] - 1) * g->s[2] + (g->k[2] - 1) * g->d[2] + 1;
  pd->top = g->p[1];
  pd->left = g->p[2];
  pd->ph = need_h > pd->top + g->in[1] ? need_h : pd->top + g->in[1];
  pd->pw = need_w > pd->left + g->in[2] ? need_w : pd->left + g->in[2];
  pd->phases = phases;
  if (phases == 2) {
    pd->pitch = (pd->pw + 1) / 2;
    pd->psize = (pd->ph + 1) / 2 * pd->pitch;
    pd->floats = 4 * pd->psize;
  } else {
    pd->pitch = pd->pw;
    pd->psize = pd->ph * pd->pw;
    pd->floats = g->in[0] * pd->psize;
  }
}

static void padded_copy(const float *x, const geom3 *g, const padded *pd, float *buf) {
  const int64_t IH = g->in[1], IW = g->in[2];
  if (pd->phases == 1) {
    for (int64_t z = 0; z < g->in[0]; z++) {
      float *dst = buf + z * pd->psize + pd->top * pd->pitch + pd->left;
      const float *src = x + z * IH * IW;
      for (int64_t r = 0; r < IH; r++)
        memcpy(dst + r * pd->pitch, src + r * IW, sizeof(float) * (size_t)IW);
    }
    return;
  }
  for (int64_t r = 0; r < IH; r++) {
    int64_t pr = pd->top + r;
    const float *src = x + r * IW;
    float *even = buf + (pr & 1) * 2 * pd->psize + (pr >> 1) * pd->pitch;
    float *odd = even + pd->psize;
    int64_t i0 = 0;
    if (pd->left & 1) { /* the first column is odd */
      odd[pd->left >> 1] = src[0];
      i0 = 1;
    }
    int64_t base = (pd->left + i0) >> 1, pairs = (IW - i0) / 2;
    float *restrict e = even + base, *restrict o = odd + base;
    const float *restrict sp = src + i0;
    CONV_SIMD
    for (int64_t j = 0; j < pairs; j++) {
      e[j] = sp[2 * j];
      o[j] = sp[2 * j + 1];
    }
    if (i0 + 2 * pairs < IW) e[pairs] = sp[2 * pairs];
  }
}

/* Depthwise kernels with unrolled row code. */
enum { DW_ANY, DW_3S1, DW_3S2, DW_5S1, DW_5S2 };

/* 2-D, square 3x3 or 5x5 kernel, equal strides 1 or 2, no dilation. */
static int dw_variant(const geom3 *g) {
  if (g->in[0] != 1 || g->k[0] != 1 || g->d[1] != 1 || g->d[2] != 1 || g->k[1] != g->k[2] ||
      g->s[1] != g->s[2])
    return DW_ANY;
  int64_t k = g->k[2], s = g->s[2];
  if (k == 3 && s == 1) return DW_3S1;
  if (k == 3 && s == 2) return DW_3S2;
  if (k == 5 && s == 1) return DW_5S1;
  if (k == 5 && s == 2) return DW_5S2;
  return DW_ANY;
}

/* ----------------------------------------------------------- node state */

typedef struct conv_state {
  float *col;   /* im2col / col2im band (NULL: in the backend's shared scratch) */
  int64_t col_floats;
  int64_t band; /* rows (od, oh) of output (Conv) or input (ConvTranspose) per band */
  float *pad;   /* depthwise: per thread, a padded plane and OH x pw floats */
  padded pd;
  int64_t buf_floats;
  int nbuf;
  conv_dnnl *dnnl; /* oneDNN's kernel for the layer (conv_dnnl.h), or NULL */
} conv_state;

/* Rows per band: as many as fit the budget, balanced over the bands. */
static int64_t band_rows(int64_t rows, int64_t floats_per_row, int nthreads) {
  int64_t cap = CONV_COL_FLOATS * (nthreads > 4 ? (nthreads + 3) / 4 : 1);
  int64_t r = floats_per_row > 0 ? cap / floats_per_row : rows;
  if (r < 1) r = 1;
  if (r >= rows) return rows;
  int64_t bands = (rows + r - 1) / r;
  return (rows + bands - 1) / bands;
}

static void state_free(conv_state *s) {
  if (!s) return;
  conv_dnnl_free(s->dnnl);
  free(s->col);
  free(s->pad);
  free(s);
}

/* Scratch of a node: the im2col/col2im band, or the depthwise planes. */
static clcnn_status state_alloc(const cpu_node *cn, conv_state **out, clcnn_err *err) {
  const conv_params *p = cn->n->params;
  const bool transpose = cn->n->op == CLCNN_OP_CONV_TRANSPOSE;
  geom3 g;
  geom3_from(&p->geom, &g);
  conv_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  int64_t floats = 0;
  const int64_t ksz = p->geom.kernel_size;
  if (transpose) {
    int64_t per_row = p->group_out * ksz * g.in[2];
    s->band = band_rows(g.in[0] * g.in[1], per_row, cn->nthreads);
    floats = per_row * s->band;
  } else if (p->depthwise) {
    int variant = dw_variant(&g);
    padded_from(&g, variant == DW_3S2 || variant == DW_5S2 ? 2 : 1, &s->pd);
    s->nbuf = cn->nthreads > 1 ? cn->nthreads : 1;
    s->buf_floats = s->pd.floats + g.out[1] * s->pd.pitch;
    floats = s->buf_floats * s->nbuf;
  } else if (!p->pointwise) {
    clcnn_status st = conv_dnnl_create(cn, &s->dnnl, err);
    if (st != CLCNN_OK) {
      free(s);
      return st;
    }
    if (s->dnnl) { /* no im2col band */
      *out = s;
      return CLCNN_OK;
    }
    int64_t per_row = p->group_in * ksz * g.out[2];
    s->band = band_rows(g.out[0] * g.out[1], per_row, cn->nthreads);
    floats = per_row * s->band;
  }
  if (floats < 0 || floats > ((int64_t)1 << 36)) {
    free(s);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "convolution scratch is too large");
  }
  if (floats > 0 && !(p->depthwise && !transpose) && cn->scratch) {
    /* The band is rewritten whole by each run: the backend's shared scratch. */
    s->col_floats = floats;
    cpu_scratch_reserve(cn, sizeof(float) * (size_t)floats);
  } else if (floats > 0) {
    float *buf = p->depthwise && !transpose ? calloc((size_t)floats, sizeof(float))
                                            : malloc(sizeof(float) * (size_t)floats);
    if (!buf) {
      free(s);
      return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY,
                     "out of memory allocating %lld bytes of convolution scratch",
                     (long long)floats * 4);
    }
    if (p->depthwise && !transpose)
      s->pad = buf;
    else
      s->col = buf;
  }
  *out = s;
  return CLCNN_OK;
}

/* The im2col / col2im band: the node's own, or the backend's shared scratch. */
static float *conv_col(const cpu_node *cn, conv_state *s) {
  return s->col ? s->col : s->col_floats ? cpu_scratch_get(cn) : NULL;
}

static clcnn_status conv_prepare(cpu_node *cn, clcnn_err *err) {
  conv_state *s;
  clcnn_status st = state_alloc(cn, &s, err);
  if (st == CLCNN_OK) cn->state = s;
  return st;
}

static void conv_release(cpu_node *cn) {
  state_free(cn->state);
  cn->state = NULL;
}

/* ------------------------------------------------------------- depthwise */

/* t[i] = bias + the K x K window (stride S, no dilation) of output position
 * i, for i in [0, n): p is the padded plane (split by parity when S == 2)
 * offset to the first position, so position i reads p[i + tap offset].
 * Called per output row (n = OW), or once per plane over the padded row
 * pitch when rows are short (the columns past OW are computed and dropped).
 * K and S are constants after inlining: the taps unroll and the loop
 * vectorises. */
static inline CONV_INLINE void dw_run_k(float *restrict t, const float *restrict p, int64_t n,
                                        const float *restrict w, float bias, int64_t pitch,
                                        int64_t psize, const int K, const int S) {
  CONV_SIMD
  for (int64_t i = 0; i < n; i++) {
    float acc = bias;
    CONV_UNROLL
    for (int ky = 0; ky < K; ky++) {
      CONV_UNROLL
      for (int kx = 0; kx < K; kx++) {
        int64_t off = S == 1 ? ky * pitch + kx
                             : ((ky & 1) * 2 + (kx & 1)) * psize + (ky >> 1) * pitch + (kx >> 1);
        acc += w[ky * K + kx] * p[off + i];
      }
    }
    t[i] = acc;
  }
}

/* Any kernel, stride and dilation (and 3-D): y[ox] += one pass over the row
 * per tap. */
static void dw_row_any(float *restrict y, const float *restrict p, int64_t pw,
                       const float *restrict w, int64_t ow, const geom3 *g) {
  const int64_t sx = g->s[2];
  for (int64_t ky = 0; ky < g->k[1]; ky++) {
    for (int64_t kx = 0; kx < g->k[2]; kx++) {
      const float *src = p + ky * g->d[1] * pw + kx * g->d[2];
      float a = w[ky * g->k[2] + kx];
      if (sx == 1)
        axpy(y, src, a, ow);
      else
        axpy_strided(y, src, sx, a, ow);
    }
  }
}

/* Rows narrower than this take the per-plane path. */
#define DW_FLAT_MAX_WIDTH 48

static inline CONV_INLINE void dw_run(int variant, float *t, const float *p, int64_t n,
                                      const float *w, float bias, int64_t pitch, int64_t psize) {
  switch (variant) {
    case DW_3S1:
      dw_run_k(t, p, n, w, bias, pitch, psize, 3, 1);
      break;
    case DW_3S2:
      dw_run_k(t, p, n, w, bias, pitch, psize, 3, 2);
      break;
    case DW_5S1:
      dw_run_k(t, p, n, w, bias, pitch, psize, 5, 1);
      break;
    default:
      dw_run_k(t, p, n, w, bias, pitch, psize, 5, 2);
      break;
  }
}

/* One output plane from its padded input plane; tmp holds OH x pitch floats. */
CONV_CLONES static void dw_plane(const geom3 *g, const padded *pd, int variant, const float *buf,
                                 const float *wm, float bias, float *yp, float *tmp) {
  const int64_t OH = g->out[1], OW = g->out[2], pitch = pd->pitch;
  if (variant != DW_ANY) {
    /* Output row oy starts at padded row oy (stride 1) or phase row oy
     * (stride 2): one pitch further per row either way. */
    if (OW < DW_FLAT_MAX_WIDTH) {
      dw_run(variant, tmp, buf, (OH - 1) * pitch + OW, wm, bias, pitch, pd->psize);
      for (int64_t oy = 0; oy < OH; oy++)
        memcpy(yp + oy * OW, tmp + oy * pitch, sizeof(float) * (size_t)OW);
    } else {
      for (int64_t oy = 0; oy < OH; oy++)
        dw_run(variant, yp + oy * OW, buf + oy * pitch, OW, wm, bias, pitch, pd->psize);
    }
    return;
  }
  const int64_t kplane = g->k[1] * g->k[2];
  for (int64_t oz = 0; oz < g->out[0]; oz++) {
    for (int64_t oy = 0; oy < OH; oy++) {
      float *yr = yp + (oz * OH + oy) * OW;
      /* Vector stores, so that the row kernels' vector loads of yr forward. */
      CONV_SIMD
      for (int64_t i = 0; i < OW; i++) yr[i] = bias;
      for (int64_t kz = 0; kz < g->k[0]; kz++) {
        int64_t iz = oz * g->s[0] - g->p[0] + kz * g->d[0];
        if (iz < 0 || iz >= g->in[0]) continue;
        const float *p = buf + iz * pd->psize + oy * g->s[1] * pitch;
        dw_row_any(yr, p, pitch, wm + kz * kplane, OW, g);
      }
    }
  }
}

typedef struct dw_task {
  const cpu_node *cn;
  const conv_state *s;
  const geom3 *g;
  const float *x, *w, *bias;
  float *y;
  int variant;
  int64_t in_size, out_size, ksz;
} dw_task;

/* Output planes [begin, end) on thread `thread`'s padded buffer. */
static void dw_planes(void *arg, int64_t begin, int64_t end, int thread) {
  const dw_task *k = arg;
  const ir_node *n = k->cn->n;
  const conv_params *p = n->params;
  const conv_state *s = k->s;
  const int64_t M = p->out_channels, in_size = k->in_size, out_size = k->out_size;
  float *buf = s->pad + (int64_t)thread * s->buf_floats;
  float *tmp = buf + s->pd.floats;
  int64_t last_c = -1; /* input plane in buf (with a multiplier, several outputs share it) */
  for (int64_t pl = begin; pl < end; pl++) {
    int64_t b = pl / M, m = pl % M;
    int64_t c = b * p->in_channels + m / p->group_out;
    if (c != last_c) {
      padded_copy(k->x + c * in_size, k->g, &s->pd, buf);
      last_c = c;
    }
    float *yp = k->y + pl * out_size;
    dw_plane(k->g, &s->pd, k->variant, buf, k->w + m * k->ksz, k->bias ? k->bias[m] : 0.0f, yp,
             tmp);
    if (n->act_op >= 0) cpu_unary_apply(n->act_op, n->act_params, yp, yp, (size_t)out_size);
  }
}

/* Depthwise: every output channel m reads input channel m / (C_out / group). */
static void conv_depthwise(const cpu_node *cn, const conv_state *s, const geom3 *g, const float *x,
                           const float *w, const float *bias, float *y) {
  const conv_params *p = cn->n->params;
  const int64_t planes = p->batch * p->out_channels;
  const int64_t ksz = g->k[0] * g->k[1] * g->k[2];
  const int64_t in_size = g->in[0] * g->in[1] * g->in[2];
  const int64_t out_size = g->out[0] * g->out[1] * g->out[2];
  const int variant = dw_variant(g);
  const double work = (double)planes * (double)out_size * (double)ksz;
  dw_task k = {.cn = cn, .s = s, .g = g, .x = x, .w = w, .bias = bias, .y = y,
               .variant = variant, .in_size = in_size, .out_size = out_size, .ksz = ksz};
  cpu_parallel_for(cn->pool, work >= (double)CONV_PAR_MIN ? s->nbuf : 1, planes, 1, dw_planes,
                   &k);
}

/* ------------------------------------------------------------------ Conv */

/* im2col of output rows [r0, r1) (row = od * OH + oh) of one group:
 * col[(c, kz, ky, kx)][(r - r0) * OW + ow] = x[c][iz][iy][ix] or 0 in the padding. */
typedef struct im2col_task {
  const float *x;
  const geom3 *g;
  int64_t r0, r1;
  float *col;
} im2col_task;

/* Rows [begin, end) of col: (channel, kernel tap) pairs. */
static void im2col_rows(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const im2col_task *t = arg;
  const float *x = t->x;
  const geom3 *g = t->g;
  const int64_t r0 = t->r0, r1 = t->r1;
  float *col = t->col;
  const int64_t K0 = g->k[0], K1 = g->k[1], K2 = g->k[2];
  const int64_t ksz = K0 * K1 * K2;
  const int64_t OH = g->out[1], OW = g->out[2], ncols = (r1 - r0) * OW;
  const int64_t IH = g->in[1], IW = g->in[2], plane = g->in[0] * IH * IW;
  const int64_t sx = g->s[2];
  for (int64_t row = begin; row < end; row++) {
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

static void im2col(const cpu_node *cn, const float *x, int64_t channels, const geom3 *g,
                   int64_t r0, int64_t r1, float *col) {
  const int64_t nrows = channels * g->k[0] * g->k[1] * g->k[2], ncols = (r1 - r0) * g->out[2];
  im2col_task t = {.x = x, .g = g, .r0 = r0, .r1 = r1, .col = col};
  cpu_parallel_for(cn->pool, nrows * ncols >= CONV_PAR_MIN ? cn->nthreads : 1, nrows, 1,
                   im2col_rows, &t);
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
  conv_state *s = cn->state, *own = NULL;
  if (!s) {
    clcnn_status st = state_alloc(cn, &own, err);
    if (st) return st;
    s = own;
  }
  if (p->depthwise) {
    conv_depthwise(cn, s, &g, x, w, bias, y);
    state_free(own);
    return CLCNN_OK;
  }
  const float *residual = nin > 3 && in[3].data ? in[3].data : NULL;
  if (s->dnnl) {
    clcnn_status st = conv_dnnl_run(cn, s->dnnl, x, residual, y, err);
    state_free(own);
    return st;
  }
  float *col = NULL;
  if (!p->pointwise && !(col = conv_col(cn, s)) && s->col_floats) {
    state_free(own);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory for the scratch of node '%s'",
                   cn->n->name);
  }
  const int nt = GEMM_SIDE_THREADS;
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
      const float *rg = residual ? residual + (yg - y) : NULL;
      if (p->pointwise) {
        cpu_sgemm(cn->pool, nt, false, false, Mg, out_size, Cg, 1.0f, wg, Cg, xg, in_size, 0.0f,
                  yg, out_size);
        epilogue(cn, yg, Mg, out_size, out_size, bg, rg);
        continue;
      }
      for (int64_t r0 = 0; r0 < rows; r0 += s->band) {
        int64_t r1 = r0 + s->band < rows ? r0 + s->band : rows;
        int64_t ncols = (r1 - r0) * OW;
        im2col(cn, xg, Cg, &g, r0, r1, col);
        cpu_sgemm(cn->pool, nt, false, false, Mg, ncols, K, 1.0f, wg, K, col, ncols, 0.0f,
                  yg + r0 * OW, out_size);
        epilogue(cn, yg + r0 * OW, Mg, ncols, out_size, bg, rg ? rg + r0 * OW : NULL);
      }
    }
  }
  state_free(own);
  return CLCNN_OK;
}

/* --------------------------------------------------------- ConvTranspose */

/* Scatters col[(m, kz, ky, kx)][(r - r0) * IW + ix] for input rows [r0, r1)
 * into y[m][oz][oy][ox], o = i * s - pad + k * d, for the Mg channels of a group. */
typedef struct col2im_task {
  const float *col;
  const geom3 *g;
  int64_t r0, r1;
  float *y;
} col2im_task;

/* Output channels [begin, end): each thread writes its own channels. */
static void col2im_channels(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const col2im_task *t = arg;
  const float *col = t->col;
  const geom3 *g = t->g;
  const int64_t r0 = t->r0, r1 = t->r1;
  float *y = t->y;
  const int64_t K0 = g->k[0], K1 = g->k[1], K2 = g->k[2], ksz = K0 * K1 * K2;
  const int64_t IH = g->in[1], IW = g->in[2], ncols = (r1 - r0) * IW;
  const int64_t OH = g->out[1], OW = g->out[2], out_size = g->out[0] * OH * OW;
  const int64_t sx = g->s[2];
  for (int64_t m = begin; m < end; m++) {
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

static void col2im(const cpu_node *cn, const float *col, int64_t channels, const geom3 *g,
                   int64_t r0, int64_t r1, float *y) {
  const int64_t work = channels * g->k[0] * g->k[1] * g->k[2] * (r1 - r0) * g->in[2];
  col2im_task t = {.col = col, .g = g, .r0 = r0, .r1 = r1, .y = y};
  cpu_parallel_for(cn->pool, work >= CONV_PAR_MIN ? cn->nthreads : 1, channels, 1,
                   col2im_channels, &t);
}

typedef struct fill_task {
  const float *bias;
  float *y;
  int64_t channels, size;
} fill_task;

/* Planes [begin, end) of y set to their channel's bias (or 0). */
static void fill_planes(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const fill_task *t = arg;
  for (int64_t pl = begin; pl < end; pl++) {
    float bv = t->bias ? t->bias[pl % t->channels] : 0.0f;
    float *yp = t->y + pl * t->size;
    for (int64_t i = 0; i < t->size; i++) yp[i] = bv;
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
    clcnn_status st = state_alloc(cn, &own, err);
    if (st) return st;
    s = own;
  }
  const int64_t G = p->group, Cg = p->group_in, Mg = p->group_out;
  const int64_t ksz = p->geom.kernel_size, MK = Mg * ksz;
  const int64_t in_size = p->geom.in_size, out_size = p->geom.out_size;
  const int64_t IW = g.in[2], rows = g.in[0] * g.in[1];
  const int64_t planes = p->batch * p->out_channels;
  const int nt = GEMM_SIDE_THREADS;
  float *col = conv_col(cn, s);
  if (!col && s->col_floats) {
    state_free(own);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory for the scratch of node '%s'",
                   cn->n->name);
  }
  fill_task ft = {.bias = bias, .y = y, .channels = p->out_channels, .size = out_size};
  cpu_parallel_for(cn->pool, planes * out_size >= CONV_PAR_MIN ? nt : 1, planes, 1, fill_planes,
                   &ft);
  for (int64_t b = 0; b < p->batch; b++) {
    for (int64_t gi = 0; gi < G; gi++) {
      const float *xg = x + (b * p->in_channels + gi * Cg) * in_size;
      const float *wg = w + gi * Cg * MK;
      float *yg = y + (b * p->out_channels + gi * Mg) * out_size;
      for (int64_t r0 = 0; r0 < rows; r0 += s->band) {
        int64_t r1 = r0 + s->band < rows ? r0 + s->band : rows;
        int64_t ncols = (r1 - r0) * IW;
        cpu_sgemm(cn->pool, nt, true, false, MK, ncols, Cg, 1.0f, wg, MK, xg + r0 * IW, in_size,
                  0.0f, col, ncols);
        col2im(cn, col, Mg, &g, r0, r1, yg);
      }
    }
  }
  if (cn->n->act_op >= 0) epilogue(cn, y, planes, out_size, out_size, NULL, NULL);
  state_free(own);
  return CLCNN_OK;
}

static const cpu_op conv_cpu = {NULL, conv_prepare, conv_run, conv_release};
static const cpu_op convt_cpu = {NULL, conv_prepare, convt_run, conv_release};

const cpu_op *const cpu_ops_conv[CLCNN_OP_COUNT] = {
    [CLCNN_OP_CONV] = &conv_cpu,
    [CLCNN_OP_CONV_TRANSPOSE] = &convt_cpu,
};
