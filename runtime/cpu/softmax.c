/* CPU backend: the softmax family (Softmax, LogSoftmax), float32, with the
 * maximum subtracted before exponentiation and sums accumulated in double. */
#include "../ops/softmax.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../internal.h"
#include "threadpool.h"

/* Threads from the context's pool (threadpool.h); `omp simd` so that the
 * loops (sums and maxima included) vectorise at -O2. */
#ifdef _OPENMP
#define SOFTMAX_PRAGMA(x) _Pragma(#x)
#define SOFTMAX_SIMD SOFTMAX_PRAGMA(omp simd)
#define SOFTMAX_SIMD_RED(op, v) SOFTMAX_PRAGMA(omp simd reduction(op : v))
#else
#define SOFTMAX_SIMD
#define SOFTMAX_SIMD_RED(op, v)
#endif

/* exp(x) for x <= 88.37 that the compiler can vectorise (libm's expf is a
 * call per element): x = n*ln2 + f with |f| <= ln2/2, exp(f) by its degree-6
 * Taylor polynomial, times 2^n built in the exponent bits (relative error
 * < 3e-7). n is rounded with the 1.5*2^23 trick, so there is no float-to-int
 * conversion and no branch. Below -87.33 (where exp would be subnormal) the
 * result is 0, -inf included; NaN stays NaN. Softmax only passes x <= 0. */
static inline float exp_vec(float x) {
  const float magic = 12582912.0f;     /* 1.5 * 2^23 */
  float big = x * 1.44269504f + magic; /* round(x / ln2) in the low mantissa bits */
  uint32_t bits;
  memcpy(&bits, &big, sizeof bits);
  float n = big - magic;
  float f = x - n * 0.693145751953125f - n * 1.42860682e-6f; /* Cody-Waite ln2 */
  float p = 1.0f / 720;
  p = p * f + 1.0f / 120;
  p = p * f + 1.0f / 24;
  p = p * f + 1.0f / 6;
  p = p * f + 0.5f;
  p = p * f + 1.0f;
  p = p * f + 1.0f;
  uint32_t e = (bits - 0x4B400000u + 127u) << 23; /* 2^n */
  float scale, r;
  memcpy(&scale, &e, sizeof scale);
  r = p * scale;
  uint32_t rb;
  memcpy(&rb, &r, sizeof rb);
  rb &= !(x < -87.33f) ? ~0u : 0u; /* a mask, not a branch, so that it vectorises */
  memcpy(&r, &rb, sizeof r);
  return r;
}

/* Positions along `inner` handled together when the axis is not the last. */
#define SOFTMAX_CHUNK 128

/* Contiguous case: one row of n floats. */
static void softmax_row(const float *x, float *y, int64_t n, bool log_out) {
  float m = -INFINITY;
  SOFTMAX_SIMD_RED(max, m)
  for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
  double s = 0;
  if (!log_out) {
    SOFTMAX_SIMD_RED(+, s)
    for (int64_t i = 0; i < n; i++) {
      float e = exp_vec(x[i] - m);
      y[i] = e;
      s += e;
    }
    const float r = (float)(1.0 / s);
    SOFTMAX_SIMD
    for (int64_t i = 0; i < n; i++) y[i] *= r;
  } else {
    SOFTMAX_SIMD_RED(+, s)
    for (int64_t i = 0; i < n; i++) s += exp_vec(x[i] - m);
    const float ls = (float)log(s);
    SOFTMAX_SIMD
    for (int64_t i = 0; i < n; i++) y[i] = (x[i] - m) - ls;
  }
}

/* Strided case: `len` (<= SOFTMAX_CHUNK) adjacent positions, each normalised
 * over n rows `stride` floats apart. */
static void softmax_cols(const float *x, float *y, int64_t n, int64_t stride, int64_t len,
                         bool log_out) {
  float m[SOFTMAX_CHUNK];
  double s[SOFTMAX_CHUNK];
  for (int64_t j = 0; j < len; j++) {
    m[j] = -INFINITY;
    s[j] = 0;
  }
  for (int64_t k = 0; k < n; k++) {
    const float *xr = x + k * stride;
    SOFTMAX_SIMD
    for (int64_t j = 0; j < len; j++) m[j] = xr[j] > m[j] ? xr[j] : m[j];
  }
  for (int64_t k = 0; k < n; k++) {
    const float *xr = x + k * stride;
    float *yr = y + k * stride;
    if (log_out) {
      SOFTMAX_SIMD
      for (int64_t j = 0; j < len; j++) s[j] += exp_vec(xr[j] - m[j]);
    } else {
      SOFTMAX_SIMD
      for (int64_t j = 0; j < len; j++) {
        float e = exp_vec(xr[j] - m[j]);
        yr[j] = e;
        s[j] += e;
      }
    }
  }
  float f[SOFTMAX_CHUNK];
  for (int64_t j = 0; j < len; j++) f[j] = log_out ? (float)log(s[j]) : (float)(1.0 / s[j]);
  for (int64_t k = 0; k < n; k++) {
    const float *xr = x + k * stride;
    float *yr = y + k * stride;
    if (log_out) {
      SOFTMAX_SIMD
      for (int64_t j = 0; j < len; j++) yr[j] = (xr[j] - m[j]) - f[j];
    } else {
      SOFTMAX_SIMD
      for (int64_t j = 0; j < len; j++) yr[j] *= f[j];
    }
  }
}

typedef struct softmax_rows_task {
  const float *x;
  float *y;
  int64_t n;
  bool log_out;
} softmax_rows_task;

static void softmax_rows_items(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const softmax_rows_task *task = arg;
  const float *x = task->x;
  float *y = task->y;
  int64_t n = task->n;
  bool log_out = task->log_out;
  for (int64_t o = begin; o < end; o++) {
    softmax_row(x + o * n, y + o * n, n, log_out);
  }
}

typedef struct softmax_chunks_task {
  const float *x;
  float *y;
  int64_t n;
  int64_t inner;
  int64_t chunks;
  bool log_out;
} softmax_chunks_task;

static void softmax_chunks_items(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const softmax_chunks_task *task = arg;
  const float *x = task->x;
  float *y = task->y;
  int64_t n = task->n;
  int64_t inner = task->inner;
  int64_t chunks = task->chunks;
  bool log_out = task->log_out;
  for (int64_t it = begin; it < end; it++) {
    const int64_t o = it / chunks, j0 = (it % chunks) * SOFTMAX_CHUNK;
    const int64_t len = inner - j0 < SOFTMAX_CHUNK ? inner - j0 : SOFTMAX_CHUNK;
    const int64_t off = o * n * inner + j0;
    softmax_cols(x + off, y + off, n, inner, len, log_out);
  }
}

static clcnn_status softmax_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                                int nout, clcnn_err *err) {
  (void)nin, (void)nout, (void)err;
  const softmax_params *p = cn->n->params;
  const bool log_out = cn->n->op == CLCNN_OP_LOGSOFTMAX;
  const int64_t outer = p->outer, n = p->n, inner = p->inner;
  const float *x = in[0].data;
  float *y = out[0].data;
  if (outer == 0 || n == 0 || inner == 0) return CLCNN_OK;
  if (inner == 1) {
    softmax_rows_task softmax_rows_k = {.x = x, .y = y, .n = n, .log_out = log_out};
    cpu_parallel_for(cn->pool, cn->nthreads, outer, 1, softmax_rows_items, &softmax_rows_k);
  } else {
    const int64_t chunks = (inner + SOFTMAX_CHUNK - 1) / SOFTMAX_CHUNK, items = outer * chunks;
    softmax_chunks_task softmax_chunks_k = {
        .x = x, .y = y, .n = n, .inner = inner, .chunks = chunks, .log_out = log_out};
    cpu_parallel_for(cn->pool, cn->nthreads, items, 1, softmax_chunks_items, &softmax_chunks_k);
  }
  return CLCNN_OK;
}

/* Hardmax: 1 at the first largest element of each [outer, n, inner] row
 * along n (NaN never wins, as in onnxruntime), 0 elsewhere. */
static clcnn_status hardmax_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                                int nout, clcnn_err *err) {
  (void)nin, (void)nout, (void)err;
  const softmax_params *p = cn->n->params;
  const int64_t n = p->n, inner = p->inner;
  const float *x = in[0].data;
  float *y = out[0].data;
  if (n == 0) return CLCNN_OK;
  for (int64_t o = 0; o < p->outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      const float *xs = x + o * n * inner + j;
      float *ys = y + o * n * inner + j;
      int64_t best = 0;
      for (int64_t t = 1; t < n; t++)
        if (xs[t * inner] > xs[best * inner] || (xs[best * inner] != xs[best * inner] &&
                                                 xs[t * inner] == xs[t * inner]))
          best = t;
      for (int64_t t = 0; t < n; t++) ys[t * inner] = t == best ? 1.0f : 0.0f;
    }
  return CLCNN_OK;
}

static const cpu_op softmax_cpu = {NULL, NULL, softmax_run, NULL};
static const cpu_op hardmax_cpu = {NULL, NULL, hardmax_run, NULL};

const cpu_op *const cpu_ops_softmax[CLCNN_OP_COUNT] = {
    [CLCNN_OP_SOFTMAX] = &softmax_cpu,
    [CLCNN_OP_LOGSOFTMAX] = &softmax_cpu,
    [CLCNN_OP_HARDMAX] = &hardmax_cpu,
};
