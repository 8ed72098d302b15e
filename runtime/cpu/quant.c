/* CPU backend: the quant family. Quantize/Dequantize element-wise in float32
 * (runtime/ops/quant.h says how they round); the integer products
 * (ConvInteger, MatMulInteger and the QLinear forms) sum exactly in 64-bit
 * integers of (x - x_zp) * (w - w_zp) and wrap to int32 like onnxruntime's
 * int32 accumulators. */
#include "../ops/quant.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "threadpool.h"

/* Writes integer v (already in range) as element i of an integer tensor. */
static inline void store_int(clcnn_dtype dt, void *data, int64_t i, int64_t v) {
  switch (dt) {
    case CLCNN_DTYPE_INT8:
    case CLCNN_DTYPE_INT4:
    case CLCNN_DTYPE_INT2: ((int8_t *)data)[i] = (int8_t)v; break;
    case CLCNN_DTYPE_UINT8:
    case CLCNN_DTYPE_UINT4:
    case CLCNN_DTYPE_UINT2: ((uint8_t *)data)[i] = (uint8_t)v; break;
    case CLCNN_DTYPE_INT16: ((int16_t *)data)[i] = (int16_t)v; break;
    case CLCNN_DTYPE_UINT16: ((uint16_t *)data)[i] = (uint16_t)v; break;
    case CLCNN_DTYPE_INT32: ((int32_t *)data)[i] = (int32_t)(uint32_t)(uint64_t)v; break;
    default: break;
  }
}

/* rint(q) + zp saturated to [lo, hi]; NaN quantizes to the zero point. */
static inline int64_t quantize_one(float q, int64_t zp, int64_t lo, int64_t hi) {
  double r = q != q ? 0.0 : rint((double)q);
  if (r < -4e18) r = -4e18;
  if (r > 4e18) r = 4e18;
  int64_t v = (int64_t)r + zp;
  return v < lo ? lo : v > hi ? hi : v;
}

/* ------------------------------------------------- Quantize / Dequantize */

/* QuantizeLinear and DequantizeLinear on float8/float4 values held in
 * float32: what a thread's share of the outer rows needs. */
typedef struct lowp_qdq_task {
  const qdq_params *p;
  const float *x;
  const float *s;
  const float *zf;
  float *y;
  int64_t n;
  int64_t inner;
  bool quantize; /* x / scale + zp rounded as Cast does; else (x - zp) * scale */
} lowp_qdq_task;

static void lowp_qdq_items(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const lowp_qdq_task *task = arg;
  const qdq_params *p = task->p;
  const float *x = task->x;
  const float *s = task->s;
  const float *zf = task->zf;
  float *y = task->y;
  int64_t n = task->n;
  int64_t inner = task->inner;
  for (int64_t o = begin; o < end; o++) {
    for (int64_t k = 0; k < n; k++)
      for (int64_t i = 0; i < inner; i++) {
        int64_t at = (o * n + k) * inner + i, pi = qdq_param_index(p, o, k, i);
        float z = zf ? zf[pi] : 0.0f;
        y[at] = task->quantize ? f8_round(p->lowp, x[at] / s[pi] + z, p->saturate != 0, F8_ROUND_UP)
                               : (x[at] - z) * s[pi];
      }
  }
}

typedef struct quantize_task {
  const qdq_params *p;
  const float *x;
  const float *s;
  const clcnn_tensor *z;
  clcnn_tensor *out;
  int64_t lo;
  int64_t hi;
  int64_t n;
  int64_t inner;
} quantize_task;

static void quantize_items(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const quantize_task *task = arg;
  const qdq_params *p = task->p;
  const float *x = task->x;
  const float *s = task->s;
  const clcnn_tensor *z = task->z;
  clcnn_tensor *out = task->out;
  int64_t lo = task->lo;
  int64_t hi = task->hi;
  int64_t n = task->n;
  int64_t inner = task->inner;
  for (int64_t o = begin; o < end; o++) {
    for (int64_t k = 0; k < n; k++)
      for (int64_t i = 0; i < inner; i++) {
        int64_t at = (o * n + k) * inner + i, pi = qdq_param_index(p, o, k, i);
        int64_t zp = z ? tensor_get_i64(z, pi) : 0;
        store_int(p->qtype, out[0].data, at, quantize_one(x[at] / s[pi], zp, lo, hi));
      }
  }
}

static clcnn_status quantize_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                                 int nout, clcnn_err *err) {
  (void)nout, (void)err;
  const qdq_params *p = cn->n->params;
  const float *x = in[0].data, *s = in[1].data;
  const clcnn_tensor *z = nin > 2 && in[2].data ? &in[2] : NULL;
  int64_t lo, hi;
  const int64_t outer = p->outer, n = p->n, inner = p->inner;
  if (p->lowp) { /* float8 / float4 held in float32: x / scale + zp, rounded as Cast does */
    const float *zf = z ? z->data : NULL;
    float *y = out[0].data;
    lowp_qdq_task quantize_lowp_k = {
        .p = p, .x = x, .s = s, .zf = zf, .y = y, .n = n, .inner = inner, .quantize = true};
    cpu_parallel_for(cn->pool, cn->nthreads, outer, 1, lowp_qdq_items, &quantize_lowp_k);
    return CLCNN_OK;
  }
  dtype_int_range(p->qtype, &lo, &hi);
  quantize_task quantize_k = {
      .p = p, .x = x, .s = s, .z = z, .out = out, .lo = lo, .hi = hi, .n = n, .inner = inner};
  cpu_parallel_for(cn->pool, cn->nthreads, outer, 1, quantize_items, &quantize_k);
  return CLCNN_OK;
}

typedef struct dequantize_task {
  const qdq_params *p;
  const clcnn_tensor *in;
  const float *s;
  const clcnn_tensor *z;
  float *y;
  int64_t n;
  int64_t inner;
} dequantize_task;

static void dequantize_items(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const dequantize_task *task = arg;
  const qdq_params *p = task->p;
  const clcnn_tensor *in = task->in;
  const float *s = task->s;
  const clcnn_tensor *z = task->z;
  float *y = task->y;
  int64_t n = task->n;
  int64_t inner = task->inner;
  for (int64_t o = begin; o < end; o++) {
    for (int64_t k = 0; k < n; k++)
      for (int64_t i = 0; i < inner; i++) {
        int64_t at = (o * n + k) * inner + i, pi = qdq_param_index(p, o, k, i);
        float zp = z ? (float)tensor_get_i64(z, pi) : 0.0f;
        y[at] = ((float)tensor_get_i64(&in[0], at) - zp) * s[pi];
      }
  }
}

static clcnn_status dequantize_run(cpu_node *cn, const clcnn_tensor *in, int nin,
                                   clcnn_tensor *out, int nout, clcnn_err *err) {
  (void)nout, (void)err;
  const qdq_params *p = cn->n->params;
  const float *s = in[1].data;
  const clcnn_tensor *z = nin > 2 && in[2].data ? &in[2] : NULL;
  float *y = out[0].data;
  const int64_t outer = p->outer, n = p->n, inner = p->inner;
  if (p->lowp) { /* float8 / float4 held in float32 */
    const float *x = in[0].data, *zf = z ? z->data : NULL;
    lowp_qdq_task dequantize_lowp_k = {
        .p = p, .x = x, .s = s, .zf = zf, .y = y, .n = n, .inner = inner};
    cpu_parallel_for(cn->pool, cn->nthreads, outer, 1, lowp_qdq_items, &dequantize_lowp_k);
    return CLCNN_OK;
  }
  dequantize_task dequantize_k = {.p = p, .in = in, .s = s, .z = z, .y = y, .n = n, .inner = inner};
  cpu_parallel_for(cn->pool, cn->nthreads, outer, 1, dequantize_items, &dequantize_k);
  return CLCNN_OK;
}

/* DynamicQuantizeLinear: uint8 over [min(0, min x), max(0, max x)]. */
static clcnn_status dynq_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                             int nout, clcnn_err *err) {
  (void)cn, (void)nin, (void)nout, (void)err;
  const float *x = in[0].data;
  int64_t count = clcnn_tensor_numel(&in[0]);
  float lo = 0.0f, hi = 0.0f;
  for (int64_t i = 0; i < count; i++) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  float scale = (hi - lo) / 255.0f;
  int64_t zp = scale > 0 ? quantize_one((0.0f - lo) / scale, 0, 0, 255) : 0;
  for (int64_t i = 0; i < count; i++)
    ((uint8_t *)out[0].data)[i] =
        (uint8_t)(scale > 0 ? quantize_one(x[i] / scale, zp, 0, 255) : zp);
  if (out[1].data) *(float *)out[1].data = scale;
  if (out[2].data) *(uint8_t *)out[2].data = (uint8_t)zp;
  return CLCNN_OK;
}

/* ------------------------------------------------------ integer products */

/* t - zp as int32, zp per tensor or per index of dimension 0 (`per` > 0:
 * the number of rows of `rows`-element blocks, Conv's output channels) or
 * per column (`cols` > 0: zp[j % cols]). */
static int32_t *minus_zero_point(const clcnn_tensor *t, const clcnn_tensor *zp, int64_t per,
                                 int64_t cols) {
  int64_t count = clcnn_tensor_numel(t);
  int32_t *d = malloc(sizeof(int32_t) * (size_t)(count ? count : 1));
  if (!d) return NULL;
  int64_t nz = zp && zp->data ? clcnn_tensor_numel(zp) : 0;
  int64_t rows = per > 0 ? count / per : 1;
  for (int64_t i = 0; i < count; i++) {
    int64_t zi = nz <= 1 ? 0 : cols > 0 ? i % cols : i / rows;
    d[i] = (int32_t)(tensor_get_i64(t, i) - (nz ? tensor_get_i64(zp, zi) : 0));
  }
  return d;
}

/* The requantization of QLinear*: saturate(rint(acc * m + zp)). */
static inline int64_t requantize(int64_t acc, float m, int64_t zp, int64_t lo, int64_t hi) {
  double r = rint((double)(int32_t)(uint32_t)(uint64_t)acc * (double)m + (double)zp);
  return r < (double)lo ? lo : r > (double)hi ? hi : (int64_t)r;
}

/* First and last output index o with 0 <= o * s + off < size (empty when
 * *first > *last). */
static void valid_range(int64_t count, int64_t s, int64_t off, int64_t size, int64_t *first,
                        int64_t *last) {
  int64_t f = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t l = size - 1 - off < 0 ? -1 : (size - 1 - off) / s;
  *first = f;
  *last = l < count - 1 ? l : count - 1;
}

typedef struct qconv_task {
  const qconv_params *q;
  bool qlinear;
  const int32_t *xi;
  const int32_t *wi;
  const int64_t *id;
  const int64_t *od;
  const int64_t *kd;
  const int64_t *sd;
  const int64_t *dd;
  const int64_t *pd;
  int64_t osz;
  int64_t isz;
  int64_t ksz;
  int64_t gin;
  int64_t gout;
  int64_t cin;
  int64_t cout;
  float xs;
  float ys;
  int64_t yzp;
  int64_t lo;
  int64_t hi;
  const clcnn_tensor *ws;
  const int32_t *bias;
  clcnn_tensor *out;
  atomic_bool *oomp;
} qconv_task;

static void qconv_items(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const qconv_task *task = arg;
  const qconv_params *q = task->q;
  bool qlinear = task->qlinear;
  const int32_t *xi = task->xi;
  const int32_t *wi = task->wi;
  const int64_t *id = task->id;
  const int64_t *od = task->od;
  const int64_t *kd = task->kd;
  const int64_t *sd = task->sd;
  const int64_t *dd = task->dd;
  const int64_t *pd = task->pd;
  int64_t osz = task->osz;
  int64_t isz = task->isz;
  int64_t ksz = task->ksz;
  int64_t gin = task->gin;
  int64_t gout = task->gout;
  int64_t cin = task->cin;
  int64_t cout = task->cout;
  float xs = task->xs;
  float ys = task->ys;
  int64_t yzp = task->yzp;
  int64_t lo = task->lo;
  int64_t hi = task->hi;
  const clcnn_tensor *ws = task->ws;
  const int32_t *bias = task->bias;
  clcnn_tensor *out = task->out;
  atomic_bool *oomp = task->oomp;
  for (int64_t job = begin; job < end; job++) {
    int64_t b = job / cout, oc = job % cout, grp = oc / gout;
    int64_t *acc = calloc((size_t)(osz ? osz : 1), sizeof *acc);
    if (!acc) {
      *oomp = true;
      continue;
    }
    for (int64_t ic = 0; ic < gin; ic++) {
      const int32_t *xc = xi + (b * cin + grp * gin + ic) * isz;
      const int32_t *wc = wi + (oc * gin + ic) * ksz;
      for (int64_t k0 = 0; k0 < kd[0]; k0++)
        for (int64_t k1 = 0; k1 < kd[1]; k1++)
          for (int64_t k2 = 0; k2 < kd[2]; k2++) {
            int64_t wv = wc[(k0 * kd[1] + k1) * kd[2] + k2];
            if (!wv) continue;
            int64_t f0, l0, f1, l1, f2, l2;
            valid_range(od[0], sd[0], k0 * dd[0] - pd[0], id[0], &f0, &l0);
            valid_range(od[1], sd[1], k1 * dd[1] - pd[1], id[1], &f1, &l1);
            valid_range(od[2], sd[2], k2 * dd[2] - pd[2], id[2], &f2, &l2);
            for (int64_t o0 = f0; o0 <= l0; o0++)
              for (int64_t o1 = f1; o1 <= l1; o1++) {
                const int32_t *xr = xc + ((o0 * sd[0] + k0 * dd[0] - pd[0]) * id[1] +
                                          o1 * sd[1] + k1 * dd[1] - pd[1]) * id[2] +
                                    k2 * dd[2] - pd[2];
                int64_t *ar = acc + (o0 * od[1] + o1) * od[2];
                for (int64_t o2 = f2; o2 <= l2; o2++) ar[o2] += wv * xr[o2 * sd[2]];
              }
          }
    }
    if (qlinear) {
      float m = xs * (float)tensor_get_f64(ws, q->per_channel_w ? oc : 0);
      m = m / ys;
      int64_t bv = bias ? bias[oc] : 0;
      for (int64_t o = 0; o < osz; o++)
        store_int(out[0].dtype, out[0].data, job * osz + o,
                  requantize(acc[o] + bv, m, yzp, lo, hi));
    } else {
      int32_t *y = (int32_t *)out[0].data + job * osz;
      for (int64_t o = 0; o < osz; o++) y[o] = (int32_t)(uint32_t)(uint64_t)acc[o];
    }
    free(acc);
  }
}

static clcnn_status qconv_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                              int nout, clcnn_err *err) {
  (void)nout;
  const qconv_params *q = cn->n->params;
  const conv_params *p = &q->conv;
  const bool qlinear = cn->n->op == CLCNN_OP_QLINEAR_CONV;
  const clcnn_tensor *xz = nin > 2 && in[2].data ? &in[2] : NULL;
  const int iw = qlinear ? 3 : 1, iwz = qlinear ? 5 : 3;
  const clcnn_tensor *wz = nin > iwz && in[iwz].data ? &in[iwz] : NULL;
  int32_t *xi = minus_zero_point(&in[0], xz, 0, 0);
  int32_t *wi = minus_zero_point(&in[iw], wz, p->out_channels, 0);
  if (!xi || !wi) {
    free(xi), free(wi);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  /* Spatial dims padded to three. */
  const window_geom *gm = &p->geom;
  int64_t id[3], od[3], kd[3], sd[3], dd[3], pd[3];
  for (int i = 0; i < 3; i++) {
    int j = i - (3 - gm->nspatial);
    bool real = j >= 0;
    id[i] = real ? gm->in[j] : 1;
    od[i] = real ? gm->out[j] : 1;
    kd[i] = real ? gm->kernel[j] : 1;
    sd[i] = real ? gm->strides[j] : 1;
    dd[i] = real ? gm->dilations[j] : 1;
    pd[i] = real ? gm->pads_begin[j] : 0;
  }
  const int64_t osz = gm->out_size, isz = gm->in_size, ksz = gm->kernel_size;
  const int64_t gin = p->group_in, gout = p->group_out, cin = p->in_channels;
  const int64_t cout = p->out_channels, jobs = p->batch * cout;
  float xs = 0, ys = 1;
  int64_t yzp = 0, lo = 0, hi = 0;
  const clcnn_tensor *ws = NULL;
  const int32_t *bias = NULL;
  if (qlinear) {
    xs = *(const float *)in[1].data;
    ws = &in[4];
    ys = *(const float *)in[6].data;
    yzp = tensor_get_i64(&in[7], 0);
    dtype_int_range(out[0].dtype, &lo, &hi);
    bias = nin > 8 && in[8].data ? in[8].data : NULL;
  }
  atomic_bool oom = false;
  qconv_task qconv_k = {.q = q,
                        .qlinear = qlinear,
                        .xi = xi,
                        .wi = wi,
                        .id = id,
                        .od = od,
                        .kd = kd,
                        .sd = sd,
                        .dd = dd,
                        .pd = pd,
                        .osz = osz,
                        .isz = isz,
                        .ksz = ksz,
                        .gin = gin,
                        .gout = gout,
                        .cin = cin,
                        .cout = cout,
                        .xs = xs,
                        .ys = ys,
                        .yzp = yzp,
                        .lo = lo,
                        .hi = hi,
                        .ws = ws,
                        .bias = bias,
                        .out = out,
                        .oomp = &oom};
  cpu_parallel_for(cn->pool, cn->nthreads, jobs, 1, qconv_items, &qconv_k);
  free(xi);
  free(wi);
  if (atomic_load(&oom)) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  return CLCNN_OK;
}

typedef struct qmatmul_task {
  const qmatmul_params *q;
  const matmul_params *p;
  bool qlinear;
  const int32_t *ai;
  const int32_t *bi;
  const int64_t *sa;
  const int64_t *sb;
  int64_t M;
  int64_t N;
  int64_t K;
  float as;
  float ys;
  int64_t yzp;
  int64_t lo;
  int64_t hi;
  const clcnn_tensor *in;
  clcnn_tensor *out;
  atomic_bool *oomp;
} qmatmul_task;

static void qmatmul_items(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const qmatmul_task *task = arg;
  const qmatmul_params *q = task->q;
  const matmul_params *p = task->p;
  bool qlinear = task->qlinear;
  const int32_t *ai = task->ai;
  const int32_t *bi = task->bi;
  const int64_t *sa = task->sa;
  const int64_t *sb = task->sb;
  int64_t M = task->M;
  int64_t N = task->N;
  int64_t K = task->K;
  float as = task->as;
  float ys = task->ys;
  int64_t yzp = task->yzp;
  int64_t lo = task->lo;
  int64_t hi = task->hi;
  const clcnn_tensor *in = task->in;
  clcnn_tensor *out = task->out;
  atomic_bool *oomp = task->oomp;
  for (int64_t t = begin; t < end; t++) {
    int64_t oa = 0, ob = 0, rem = t;
    for (int i = p->batch_rank - 1; i >= 0; i--) {
      int64_t idx = rem % p->batch[i];
      rem /= p->batch[i];
      oa += idx * sa[i];
      ob += idx * sb[i];
    }
    int64_t *acc = malloc(sizeof(int64_t) * (size_t)(N ? N : 1));
    if (!acc) {
      *oomp = true;
      continue;
    }
    for (int64_t i = 0; i < M; i++) {
      memset(acc, 0, sizeof(int64_t) * (size_t)N);
      const int32_t *ar = ai + oa + i * K;
      for (int64_t k = 0; k < K; k++) {
        int64_t av = ar[k];
        const int32_t *br = bi + ob + k * N;
        for (int64_t j = 0; j < N; j++) acc[j] += av * br[j];
      }
      int64_t at = (t * M + i) * N;
      for (int64_t j = 0; j < N; j++) {
        if (qlinear) {
          float m = as * (float)tensor_get_f64(&in[4], q->per_col_b ? j : 0);
          m = m / ys;
          store_int(out[0].dtype, out[0].data, at + j, requantize(acc[j], m, yzp, lo, hi));
        } else {
          ((int32_t *)out[0].data)[at + j] = (int32_t)(uint32_t)(uint64_t)acc[j];
        }
      }
    }
    free(acc);
  }
}

static clcnn_status qmatmul_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                                int nout, clcnn_err *err) {
  (void)nout;
  const qmatmul_params *q = cn->n->params;
  const matmul_params *p = &q->mm;
  const bool qlinear = cn->n->op == CLCNN_OP_QLINEAR_MATMUL;
  const int ib = qlinear ? 3 : 1, ibz = qlinear ? 5 : 3;
  const clcnn_tensor *az = nin > 2 && in[2].data ? &in[2] : NULL;
  const clcnn_tensor *bz = nin > ibz && in[ibz].data ? &in[ibz] : NULL;
  const int64_t M = p->m, N = p->n, K = p->k;
  /* a's zero point per row: rows of K elements, M per matrix. */
  int32_t *ai = NULL, *bi = minus_zero_point(&in[ib], bz, 0, q->per_col_b ? N : 0);
  if (q->per_row_a && az) {
    int64_t count = clcnn_tensor_numel(&in[0]);
    ai = malloc(sizeof(int32_t) * (size_t)(count ? count : 1));
    for (int64_t i = 0; ai && i < count; i++)
      ai[i] = (int32_t)(tensor_get_i64(&in[0], i) - tensor_get_i64(az, (i / K) % M));
  } else {
    ai = minus_zero_point(&in[0], az, 0, 0);
  }
  if (!ai || !bi) {
    free(ai), free(bi);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  float as = 0, ys = 1;
  int64_t yzp = 0, lo = 0, hi = 0;
  if (qlinear) {
    as = *(const float *)in[1].data;
    ys = *(const float *)in[6].data;
    yzp = tensor_get_i64(&in[7], 0);
    dtype_int_range(out[0].dtype, &lo, &hi);
  }
  /* Element strides of each batch dim in A and B (0 where broadcast). */
  int64_t sa[CLCNN_MAX_RANK], sb[CLCNN_MAX_RANK], za = M * K, zb = K * N;
  for (int i = p->batch_rank - 1; i >= 0; i--) {
    sa[i] = p->a_batch[i] == 1 ? 0 : za;
    sb[i] = p->b_batch[i] == 1 ? 0 : zb;
    za *= p->a_batch[i];
    zb *= p->b_batch[i];
  }
  atomic_bool oom = false;
  qmatmul_task qmatmul_k = {.q = q,
                            .p = p,
                            .qlinear = qlinear,
                            .ai = ai,
                            .bi = bi,
                            .sa = sa,
                            .sb = sb,
                            .M = M,
                            .N = N,
                            .K = K,
                            .as = as,
                            .ys = ys,
                            .yzp = yzp,
                            .lo = lo,
                            .hi = hi,
                            .in = in,
                            .out = out,
                            .oomp = &oom};
  cpu_parallel_for(cn->pool, cn->nthreads, p->batch_count, 1, qmatmul_items, &qmatmul_k);
  free(ai);
  free(bi);
  if (atomic_load(&oom)) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  return CLCNN_OK;
}

/* ----------------------------------------------------------------- table */

static const cpu_op quantize_cpu = {NULL, NULL, quantize_run, NULL};
static const cpu_op dequantize_cpu = {NULL, NULL, dequantize_run, NULL};
static const cpu_op dynq_cpu = {NULL, NULL, dynq_run, NULL};
static const cpu_op qconv_cpu = {NULL, NULL, qconv_run, NULL};
static const cpu_op qmatmul_cpu = {NULL, NULL, qmatmul_run, NULL};

const cpu_op *const cpu_ops_quant[CLCNN_OP_COUNT] = {
    [CLCNN_OP_QUANTIZE_LINEAR] = &quantize_cpu,
    [CLCNN_OP_DEQUANTIZE_LINEAR] = &dequantize_cpu,
    [CLCNN_OP_DYNAMIC_QUANTIZE_LINEAR] = &dynq_cpu,
    [CLCNN_OP_QLINEAR_CONV] = &qconv_cpu,
    [CLCNN_OP_CONV_INTEGER] = &qconv_cpu,
    [CLCNN_OP_QLINEAR_MATMUL] = &qmatmul_cpu,
    [CLCNN_OP_MATMUL_INTEGER] = &qmatmul_cpu,
};
