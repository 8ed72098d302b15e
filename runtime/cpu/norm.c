/* CPU backend: the norm family (BatchNormalization, InstanceNormalization,
 * LayerNormalization, GroupNormalization, LRN). float32; statistics are
 * computed in two passes with double accumulation. */
#include "../ops/norm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "threadpool.h"

/* Threads from the context's pool (threadpool.h); `omp simd` so that the
 * loops (sums included, which the compiler may not reorder on its own)
 * vectorise at -O2. */
#ifdef _OPENMP
#define NORM_PRAGMA(x) _Pragma(#x)
#define NORM_SIMD NORM_PRAGMA(omp simd)
#define NORM_SIMD_SUM(v) NORM_PRAGMA(omp simd reduction(+ : v))
#else
#define NORM_SIMD
#define NORM_SIMD_SUM(v)
#endif

/* Positions of a row processed at once with stack scratch. */
#define NORM_CHUNK 256

static clcnn_status oom(clcnn_err *err) {
  return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
}

/* Mean and 1/sqrt(variance + eps) of n floats (two passes, double sums). */
static void row_stats(const float *x, int64_t n, double eps, double *mean, double *inv_std) {
  double s = 0;
  NORM_SIMD_SUM(s)
  for (int64_t i = 0; i < n; i++) s += x[i];
  double m = n ? s / (double)n : 0;
  double v = 0;
  NORM_SIMD_SUM(v)
  for (int64_t i = 0; i < n; i++) {
    double d = x[i] - m;
    v += d * d;
  }
  v = n ? v / (double)n : 0;
  *mean = m;
  *inv_std = 1.0 / sqrt(v + eps);
}

/* y = x * a + b over n floats. */
static void affine(const float *x, float *y, int64_t n, float a, float b) {
  NORM_SIMD
  for (int64_t i = 0; i < n; i++) y[i] = x[i] * a + b;
}

/* ----------------------------------------------------- BatchNormalization */

typedef struct bn_rows_task {
  const float *x;
  float *y;
  int64_t nstat;
  const float *ab;
  const ir_node *n; /* its fused activation */
} bn_rows_task;

static void bn_rows_items(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const bn_rows_task *task = arg;
  const float *x = task->x;
  float *y = task->y;
  int64_t nstat = task->nstat;
  const float *ab = task->ab;
  for (int64_t b = begin; b < end; b++) {
    const float *xb = x + b * nstat;
    float *yb = y + b * nstat;
    NORM_SIMD
    for (int64_t c = 0; c < nstat; c++) yb[c] = xb[c] * ab[2 * c] + ab[2 * c + 1];
    if (task->n->act_op >= 0)
      cpu_unary_apply(task->n->act_op, task->n->act_params, yb, yb, (size_t)nstat);
  }
}

typedef struct bn_blocks_task {
  const float *x;
  float *y;
  int64_t nstat;
  int64_t block;
  const float *ab;
  const ir_node *n; /* its fused activation */
} bn_blocks_task;

static void bn_blocks_items(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const bn_blocks_task *task = arg;
  const float *x = task->x;
  float *y = task->y;
  int64_t nstat = task->nstat;
  int64_t block = task->block;
  const float *ab = task->ab;
  for (int64_t i = begin; i < end; i++) {
    int64_t c = i % nstat;
    affine(x + i * block, y + i * block, block, ab[2 * c], ab[2 * c + 1]);
    if (task->n->act_op >= 0) /* a fused activation, while the row is hot */
      cpu_unary_apply(task->n->act_op, task->n->act_params, y + i * block, y + i * block,
                      (size_t)block);
  }
}

/* Training mode: the batch's mean and population variance per channel (in
 * double), which also update the running statistics (outputs 1 and 2). */
static void batch_statistics(const batchnorm_params *p, const float *x, const float *in_mean,
                             const float *in_var, double *mean, double *var, clcnn_tensor *out,
                             int nout) {
  const int64_t C = p->nstat, block = p->block, count = p->batch * block;
  for (int64_t c = 0; c < C; c++) {
    double s = 0, s2 = 0;
    for (int64_t b = 0; b < p->batch; b++) {
      const float *xr = x + (b * C + c) * block;
      for (int64_t i = 0; i < block; i++) s += xr[i];
    }
    mean[c] = count ? s / (double)count : 0;
    for (int64_t b = 0; b < p->batch; b++) {
      const float *xr = x + (b * C + c) * block;
      for (int64_t i = 0; i < block; i++) s2 += ((double)xr[i] - mean[c]) * ((double)xr[i] - mean[c]);
    }
    var[c] = count ? s2 / (double)count : 0;
  }
  const double m = p->momentum;
  float *run_mean = nout > 1 ? out[1].data : NULL, *run_var = nout > 2 ? out[2].data : NULL;
  for (int64_t c = 0; c < C; c++) {
    if (run_mean) run_mean[c] = (float)((double)in_mean[c] * m + mean[c] * (1 - m));
    if (run_var) run_var[c] = (float)((double)in_var[c] * m + var[c] * (1 - m));
  }
}

static clcnn_status batchnorm_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                                  int nout, clcnn_err *err) {
  (void)nin;
  const batchnorm_params *p = cn->n->params;
  const int64_t nstat = p->nstat, block = p->block, total = p->batch * nstat;
  double *stats = NULL; /* training mode: the batch's mean, then variance */
  if (p->training) {
    stats = malloc(sizeof(double) * 2 * (size_t)(nstat ? nstat : 1));
    if (!stats) return oom(err);
    batch_statistics(p, in[0].data, in[3].data, in[4].data, stats, stats + nstat, out, nout);
  }
  if (total == 0 || block == 0) {
    free(stats);
    return CLCNN_OK;
  }
  float *ab = malloc(sizeof(float) * 2 * (size_t)nstat);
  if (!ab) {
    free(stats);
    return oom(err);
  }
  const float *scale = in[1].data, *bias = in[2].data;
  for (int64_t c = 0; c < nstat; c++) {
    double mc = stats ? stats[c] : (double)((const float *)in[3].data)[c];
    double vc = stats ? stats[nstat + c] : (double)((const float *)in[4].data)[c];
    double a = (double)scale[c] / sqrt(vc + (double)p->epsilon);
    ab[2 * c] = (float)a;
    ab[2 * c + 1] = (float)((double)bias[c] - mc * a);
  }
  free(stats);
  const float *x = in[0].data;
  float *y = out[0].data;
  if (block == 1) { /* spatial = 0 or no spatial dims: one statistic per element */
    bn_rows_task bn_rows_k = {.x = x, .y = y, .nstat = nstat, .ab = ab, .n = cn->n};
    cpu_parallel_for(cn->pool, cn->nthreads, p->batch, 1, bn_rows_items, &bn_rows_k);
  } else {
    bn_blocks_task bn_blocks_k = {.x = x, .y = y, .nstat = nstat, .block = block, .ab = ab,
                                   .n = cn->n};
    cpu_parallel_for(cn->pool, cn->nthreads, total, 1, bn_blocks_items, &bn_blocks_k);
  }
  free(ab);
  return CLCNN_OK;
}

static const cpu_op batchnorm_cpu = {NULL, NULL, batchnorm_run, NULL};

/* -------------------------------------------------- InstanceNormalization */

typedef struct instancenorm_task {
  const float *x;
  float *y;
  const float *scale;
  const float *bias;
  int64_t C;
  int64_t inner;
  double eps;
} instancenorm_task;

static void instancenorm_items(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const instancenorm_task *task = arg;
  const float *x = task->x;
  float *y = task->y;
  const float *scale = task->scale;
  const float *bias = task->bias;
  int64_t C = task->C;
  int64_t inner = task->inner;
  double eps = task->eps;
  for (int64_t i = begin; i < end; i++) {
    int64_t c = i % C;
    double m, inv;
    row_stats(x + i * inner, inner, eps, &m, &inv);
    double a = inv * scale[c];
    affine(x + i * inner, y + i * inner, inner, (float)a, (float)(bias[c] - m * a));
  }
}

static clcnn_status instancenorm_run(cpu_node *cn, const clcnn_tensor *in, int nin,
                                     clcnn_tensor *out, int nout, clcnn_err *err) {
  (void)nin, (void)nout, (void)err;
  const instancenorm_params *p = cn->n->params;
  const int64_t C = p->channels, inner = p->inner, total = p->batch * C;
  const float *x = in[0].data, *scale = in[1].data, *bias = in[2].data;
  float *y = out[0].data;
  const double eps = p->epsilon;
  if (total == 0 || inner == 0) return CLCNN_OK;
  instancenorm_task instancenorm_k = {
      .x = x, .y = y, .scale = scale, .bias = bias, .C = C, .inner = inner, .eps = eps};
  cpu_parallel_for(cn->pool, cn->nthreads, total, 1, instancenorm_items, &instancenorm_k);
  return CLCNN_OK;
}

static const cpu_op instancenorm_cpu = {NULL, NULL, instancenorm_run, NULL};

/* ----------------------------------------------------- LayerNormalization */

/* Expands a Scale/B tensor that broadcasts to dims[axis:] of x into `inner`
 * floats. */
static void expand_param(const clcnn_tensor *x, int axis, const clcnn_tensor *s, float *dst,
                         int64_t inner) {
  int k = x->rank - axis;
  int64_t sstride[CLCNN_MAX_RANK] = {0}; /* stride in s for each dim of the block */
  int64_t st = 1;
  for (int i = s->rank - 1; i >= 0; i--) {
    int d = i - (s->rank - k); /* block dim aligned with s dim i */
    if (d >= 0) sstride[d] = s->dims[i] == 1 ? 0 : st;
    st *= s->dims[i];
  }
  const float *src = s->data;
  int64_t idx[CLCNN_MAX_RANK] = {0}, off = 0;
  for (int64_t j = 0; j < inner; j++) {
    dst[j] = src[off];
    for (int d = k - 1; d >= 0; d--) { /* odometer over the block's dims */
      off += sstride[d];
      if (++idx[d] < x->dims[axis + d]) break;
      off -= sstride[d] * idx[d];
      idx[d] = 0;
    }
  }
}

typedef struct layernorm_task {
  const float *x;
  float *y;
  float *mean_out;
  float *inv_out;
  const float *scale;
  const float *bias;
  int64_t inner;
  double eps;
} layernorm_task;

static void layernorm_items(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const layernorm_task *task = arg;
  const float *x = task->x;
  float *y = task->y;
  float *mean_out = task->mean_out;
  float *inv_out = task->inv_out;
  const float *scale = task->scale;
  const float *bias = task->bias;
  int64_t inner = task->inner;
  double eps = task->eps;
  for (int64_t o = begin; o < end; o++) {
    const float *xr = x + o * inner;
    float *yr = y + o * inner;
    double m, inv;
    row_stats(xr, inner, eps, &m, &inv);
    const float fm = (float)m, finv = (float)inv;
    if (bias) {
      NORM_SIMD
      for (int64_t j = 0; j < inner; j++) yr[j] = (xr[j] - fm) * finv * scale[j] + bias[j];
    } else {
      NORM_SIMD
      for (int64_t j = 0; j < inner; j++) yr[j] = (xr[j] - fm) * finv * scale[j];
    }
    if (mean_out) mean_out[o] = fm;
    if (inv_out) inv_out[o] = finv;
  }
}

static clcnn_status layernorm_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                                  int nout, clcnn_err *err) {
  const layernorm_params *p = cn->n->params;
  const int64_t outer = p->outer, inner = p->inner;
  const float *x = in[0].data;
  float *y = out[0].data;
  float *mean_out = nout > 1 ? out[1].data : NULL;
  float *inv_out = nout > 2 ? out[2].data : NULL;
  const float *scale = in[1].data;
  const float *bias = nin > 2 ? in[2].data : NULL;
  float *scratch = NULL;
  if (outer == 0) return CLCNN_OK;
  /* Broadcast Scale/B to the whole normalised block when they are smaller. */
  bool expand_s = shape_numel(in[1].rank, in[1].dims) != inner;
  bool expand_b = bias && shape_numel(in[2].rank, in[2].dims) != inner;
  if (expand_s || expand_b) {
    scratch = malloc(sizeof(float) * 2 * (size_t)(inner ? inner : 1));
    if (!scratch) return oom(err);
    if (expand_s) {
      expand_param(&in[0], p->axis, &in[1], scratch, inner);
      scale = scratch;
    }
    if (expand_b) {
      expand_param(&in[0], p->axis, &in[2], scratch + inner, inner);
      bias = scratch + inner;
    }
  }
  const double eps = p->epsilon;
  layernorm_task layernorm_k = {.x = x,
                                .y = y,
                                .mean_out = mean_out,
                                .inv_out = inv_out,
                                .scale = scale,
                                .bias = bias,
                                .inner = inner,
                                .eps = eps};
  cpu_parallel_for(cn->pool, cn->nthreads, outer, 1, layernorm_items, &layernorm_k);
  free(scratch);
  return CLCNN_OK;
}

static const cpu_op layernorm_cpu = {NULL, NULL, layernorm_run, NULL};

/* ----------------------------------------------------- GroupNormalization */

typedef struct groupnorm_task {
  const groupnorm_params *p;
  const float *x;
  float *y;
  const float *scale;
  const float *bias;
  int64_t G;
  int64_t cpg;
  int64_t inner;
  int64_t gsize;
  double eps;
} groupnorm_task;

static void groupnorm_items(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const groupnorm_task *task = arg;
  const groupnorm_params *p = task->p;
  const float *x = task->x;
  float *y = task->y;
  const float *scale = task->scale;
  const float *bias = task->bias;
  int64_t G = task->G;
  int64_t cpg = task->cpg;
  int64_t inner = task->inner;
  int64_t gsize = task->gsize;
  double eps = task->eps;
  for (int64_t i = begin; i < end; i++) {
    int64_t g = i % G;
    double m, inv;
    row_stats(x + i * gsize, gsize, eps, &m, &inv);
    for (int64_t k = 0; k < cpg; k++) {
      int64_t pi = p->per_channel ? g * cpg + k : g; /* opset 18: per group */
      double a = inv * scale[pi];
      int64_t off = i * gsize + k * inner;
      affine(x + off, y + off, inner, (float)a, (float)(bias[pi] - m * a));
    }
  }
}

static clcnn_status groupnorm_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                                  int nout, clcnn_err *err) {
  (void)nin, (void)nout, (void)err;
  const groupnorm_params *p = cn->n->params;
  const int64_t G = p->num_groups, cpg = p->channels / G, inner = p->inner;
  const int64_t total = p->batch * G, gsize = cpg * inner;
  const float *x = in[0].data, *scale = in[1].data, *bias = in[2].data;
  float *y = out[0].data;
  const double eps = p->epsilon;
  if (total == 0 || gsize == 0) return CLCNN_OK;
  groupnorm_task groupnorm_k = {.p = p,
                                .x = x,
                                .y = y,
                                .scale = scale,
                                .bias = bias,
                                .G = G,
                                .cpg = cpg,
                                .inner = inner,
                                .gsize = gsize,
                                .eps = eps};
  cpu_parallel_for(cn->pool, cn->nthreads, total, 1, groupnorm_items, &groupnorm_k);
  return CLCNN_OK;
}

static const cpu_op groupnorm_cpu = {NULL, NULL, groupnorm_run, NULL};

/* -------------------------------------------------------------------- LRN */

typedef struct lrn_task {
  const float *x;
  float *y;
  int64_t C;
  int64_t inner;
  int64_t lo;
  int64_t hi;
  float k;
  float bias;
  float nbeta;
} lrn_task;

static void lrn_items(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const lrn_task *task = arg;
  const float *x = task->x;
  float *y = task->y;
  int64_t C = task->C;
  int64_t inner = task->inner;
  int64_t lo = task->lo;
  int64_t hi = task->hi;
  float k = task->k;
  float bias = task->bias;
  float nbeta = task->nbeta;
  for (int64_t i = begin; i < end; i++) {
    const int64_t c = i % C, nc0 = i - c; /* first channel of this image */
    const int64_t c0 = c - lo < 0 ? 0 : c - lo, c1 = c + hi >= C ? C - 1 : c + hi;
    float acc[NORM_CHUNK];
    for (int64_t j0 = 0; j0 < inner; j0 += NORM_CHUNK) {
      const int64_t len = inner - j0 < NORM_CHUNK ? inner - j0 : NORM_CHUNK;
      for (int64_t j = 0; j < len; j++) acc[j] = 0;
      for (int64_t c2 = c0; c2 <= c1; c2++) {
        const float *xr = x + (nc0 + c2) * inner + j0;
        NORM_SIMD
        for (int64_t j = 0; j < len; j++) acc[j] += xr[j] * xr[j];
      }
      const float *xr = x + i * inner + j0;
      float *yr = y + i * inner + j0;
      for (int64_t j = 0; j < len; j++) yr[j] = xr[j] * powf(bias + k * acc[j], nbeta);
    }
  }
}

static clcnn_status lrn_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                            int nout, clcnn_err *err) {
  (void)nin, (void)nout, (void)err;
  const lrn_params *p = cn->n->params;
  const int64_t C = p->channels, inner = p->inner, total = p->batch * C;
  const int64_t lo = (p->size - 1) / 2, hi = p->size / 2; /* floor, ceil of (size-1)/2 */
  const float k = p->alpha / (float)p->size, bias = p->bias, nbeta = -p->beta;
  const float *x = in[0].data;
  float *y = out[0].data;
  if (total == 0 || inner == 0) return CLCNN_OK;
  lrn_task lrn_k = {.x = x,
                    .y = y,
                    .C = C,
                    .inner = inner,
                    .lo = lo,
                    .hi = hi,
                    .k = k,
                    .bias = bias,
                    .nbeta = nbeta};
  cpu_parallel_for(cn->pool, cn->nthreads, total, 1, lrn_items, &lrn_k);
  return CLCNN_OK;
}

static const cpu_op lrn_cpu = {NULL, NULL, lrn_run, NULL};

/* -------------------------------------------------------- LpNormalization */

static clcnn_status lpnorm_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                               int nout, clcnn_err *err) {
  (void)nin, (void)nout, (void)err;
  const lpnorm_params *p = cn->n->params;
  const float *x = in[0].data;
  float *y = out[0].data;
  const int64_t len = p->len, inner = p->inner;
  for (int64_t o = 0; o < p->outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      const float *xs = x + o * len * inner + j;
      float *ys = y + o * len * inner + j;
      double acc = 0;
      for (int64_t t = 0; t < len; t++) {
        double v = xs[t * inner];
        acc += p->p == 1 ? fabs(v) : v * v;
      }
      double norm = p->p == 1 ? acc : sqrt(acc);
      float inv = norm != 0 ? (float)(1.0 / norm) : 0.0f;
      for (int64_t t = 0; t < len; t++) ys[t * inner] = xs[t * inner] * inv;
    }
  return CLCNN_OK;
}

static const cpu_op lpnorm_cpu = {NULL, NULL, lpnorm_run, NULL};

/* ---------------------------------------------- MeanVarianceNormalization */

/* The statistics group of every element: the index over the dims that are
 * not reduced. Two passes: mean, then the mean squared deviation. */
static clcnn_status mvn_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                            int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  const mvn_params *p = cn->n->params;
  const clcnn_tensor *xt = &in[0];
  const float *x = xt->data;
  float *y = out[0].data;
  const int r = xt->rank;
  const int64_t n = clcnn_tensor_numel(xt);
  int64_t gstride[CLCNN_MAX_RANK], groups = 1;
  for (int d = r - 1; d >= 0; d--) {
    gstride[d] = (p->mask >> d) & 1 ? 0 : groups;
    if (!((p->mask >> d) & 1)) groups *= xt->dims[d];
  }
  if (n == 0) return CLCNN_OK;
  double *sum = calloc((size_t)groups * 2, sizeof(double));
  int64_t *gid = malloc(sizeof(int64_t) * (size_t)n);
  if (!sum || !gid) {
    free(sum);
    free(gid);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  double *dev = sum + groups;
  int64_t idx[CLCNN_MAX_RANK] = {0}, gi = 0;
  for (int64_t i = 0; i < n; i++) {
    gid[i] = gi;
    sum[gi] += x[i];
    for (int d = r - 1; d >= 0; d--) {
      gi += gstride[d];
      if (++idx[d] < xt->dims[d]) break;
      gi -= gstride[d] * xt->dims[d];
      idx[d] = 0;
    }
  }
  const double count = (double)(n / groups);
  for (int64_t k = 0; k < groups; k++) sum[k] /= count;
  for (int64_t i = 0; i < n; i++) {
    double d = x[i] - sum[gid[i]];
    dev[gid[i]] += d * d;
  }
  for (int64_t k = 0; k < groups; k++) dev[k] = 1.0 / (sqrt(dev[k] / count) + 1e-9);
  for (int64_t i = 0; i < n; i++) y[i] = (float)((x[i] - sum[gid[i]]) * dev[gid[i]]);
  free(sum);
  free(gid);
  return CLCNN_OK;
}

static const cpu_op mvn_cpu = {NULL, NULL, mvn_run, NULL};

const cpu_op *const cpu_ops_norm[CLCNN_OP_COUNT] = {
    [CLCNN_OP_BATCHNORM] = &batchnorm_cpu,
    [CLCNN_OP_INSTANCENORM] = &instancenorm_cpu,
    [CLCNN_OP_LAYERNORM] = &layernorm_cpu,
    [CLCNN_OP_GROUPNORM] = &groupnorm_cpu,
    [CLCNN_OP_LRN] = &lrn_cpu,
    [CLCNN_OP_LPNORM] = &lpnorm_cpu,
    [CLCNN_OP_MVN] = &mvn_cpu,
};
