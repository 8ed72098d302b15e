/* CPU backend: the softmax family (Softmax, LogSoftmax), float32, with the
 * maximum subtracted before exponentiation and sums accumulated in double. */
#include "../ops/softmax.h"

#include <math.h>
#include <stdbool.h>

#include "../internal.h"

#ifdef _OPENMP
#define SOFTMAX_PRAGMA(x) _Pragma(#x)
#define SOFTMAX_PARALLEL_FOR(nt) \
  SOFTMAX_PRAGMA(omp parallel for num_threads(nt) if ((nt) > 1) schedule(static))
#else
#define SOFTMAX_PARALLEL_FOR(nt)
#endif

/* Positions along `inner` handled together when the axis is not the last. */
#define SOFTMAX_CHUNK 128

/* Contiguous case: one row of n floats. */
static void softmax_row(const float *x, float *y, int64_t n, bool log_out) {
  float m = -INFINITY;
  for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
  double s = 0;
  if (!log_out) {
    for (int64_t i = 0; i < n; i++) {
      float e = expf(x[i] - m);
      y[i] = e;
      s += e;
    }
    const float r = (float)(1.0 / s);
    for (int64_t i = 0; i < n; i++) y[i] *= r;
  } else {
    for (int64_t i = 0; i < n; i++) s += expf(x[i] - m);
    const float ls = (float)log(s);
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
    for (int64_t j = 0; j < len; j++) m[j] = xr[j] > m[j] ? xr[j] : m[j];
  }
  for (int64_t k = 0; k < n; k++) {
    const float *xr = x + k * stride;
    float *yr = y + k * stride;
    if (log_out) {
      for (int64_t j = 0; j < len; j++) s[j] += expf(xr[j] - m[j]);
    } else {
      for (int64_t j = 0; j < len; j++) {
        float e = expf(xr[j] - m[j]);
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
    if (log_out)
      for (int64_t j = 0; j < len; j++) yr[j] = (xr[j] - m[j]) - f[j];
    else
      for (int64_t j = 0; j < len; j++) yr[j] *= f[j];
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
    SOFTMAX_PARALLEL_FOR(cn->nthreads)
    for (int64_t o = 0; o < outer; o++) softmax_row(x + o * n, y + o * n, n, log_out);
  } else {
    const int64_t chunks = (inner + SOFTMAX_CHUNK - 1) / SOFTMAX_CHUNK, items = outer * chunks;
    SOFTMAX_PARALLEL_FOR(cn->nthreads)
    for (int64_t it = 0; it < items; it++) {
      const int64_t o = it / chunks, j0 = (it % chunks) * SOFTMAX_CHUNK;
      const int64_t len = inner - j0 < SOFTMAX_CHUNK ? inner - j0 : SOFTMAX_CHUNK;
      const int64_t off = o * n * inner + j0;
      softmax_cols(x + off, y + off, n, inner, len, log_out);
    }
  }
  return CLCNN_OK;
}

static const cpu_op softmax_cpu = {NULL, NULL, softmax_run, NULL};

const cpu_op *const cpu_ops_softmax[CLCNN_OP_COUNT] = {
    [CLCNN_OP_SOFTMAX] = &softmax_cpu,
    [CLCNN_OP_LOGSOFTMAX] = &softmax_cpu,
};
