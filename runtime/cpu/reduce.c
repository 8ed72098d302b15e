/* CPU backend: the reduce family (ReduceMean, ReduceMax, ReduceSum).
 * Works on the merged view from the front half (alternating kept/reduced
 * dims): [K, R] reduces contiguous rows, [K1, R, K2] accumulates rows of K2,
 * anything else walks the input once with an odometer. Float sums are
 * accumulated in double, integer sums in int64. */
#include "../ops/reduce.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"

/* OpenMP threads, and `omp simd` so that the loops (sums and maxima
 * included, which the compiler may not reorder on its own) vectorise. */
#ifdef _OPENMP
#define REDUCE_PRAGMA(x) _Pragma(#x)
#define REDUCE_PARALLEL_FOR(nt) \
  REDUCE_PRAGMA(omp parallel for num_threads(nt) if ((nt) > 1) schedule(guided))
#define REDUCE_SIMD REDUCE_PRAGMA(omp simd)
#define REDUCE_SIMD_RED(op, v) REDUCE_PRAGMA(omp simd reduction(op : v))
#else
#define REDUCE_PARALLEL_FOR(nt)
#define REDUCE_SIMD
#define REDUCE_SIMD_RED(op, v)
#endif

#define REDUCE_CHUNK 256

enum { R_SUM, R_MEAN, R_MAX };

/* The view a kernel works on (see reduce_params). */
typedef struct reduce_view {
  int rank;
  const int64_t *dims;
  const uint8_t *reduced;
  int64_t count;
  int op;
  int nthreads;
} reduce_view;

/* For one element type T with accumulator ACC, the lowest value LOWEST and
 * the mean of an accumulated sum MEAN(s, count). */
#define REDUCE_KERNELS(SUF, T, ACC, LOWEST, MEAN)                                                \
  static void rows_##SUF(const T *x, T *y, int64_t outer, int64_t r, const reduce_view *v) {     \
    const int op = v->op;                                                                        \
    const int64_t count = v->count;                                                              \
    (void)count;                                                                                 \
    REDUCE_PARALLEL_FOR(v->nthreads)                                                             \
    for (int64_t o = 0; o < outer; o++) {                                                        \
      const T *xr = x + o * r;                                                                   \
      if (op == R_MAX) {                                                                         \
        T m = LOWEST;                                                                            \
        REDUCE_SIMD_RED(max, m)                                                                  \
        for (int64_t i = 0; i < r; i++) m = xr[i] > m ? xr[i] : m;                               \
        y[o] = m;                                                                                \
      } else {                                                                                   \
        ACC s = 0;                                                                               \
        REDUCE_SIMD_RED(+, s)                                                                    \
        for (int64_t i = 0; i < r; i++) s += xr[i];                                              \
        y[o] = op == R_MEAN ? (T)(MEAN(s, count)) : (T)s;                                        \
      }                                                                                          \
    }                                                                                            \
  }                                                                                              \
  static void mid_##SUF(const T *x, T *y, int64_t k1, int64_t r, int64_t k2,                     \
                        const reduce_view *v) {                                                  \
    const int op = v->op;                                                                        \
    const int64_t count = v->count;                                                              \
    (void)count;                                                                                 \
    const int64_t chunks = (k2 + REDUCE_CHUNK - 1) / REDUCE_CHUNK, items = k1 * chunks;          \
    REDUCE_PARALLEL_FOR(v->nthreads)                                                             \
    for (int64_t it = 0; it < items; it++) {                                                     \
      const int64_t o = it / chunks, j0 = (it % chunks) * REDUCE_CHUNK;                          \
      const int64_t len = k2 - j0 < REDUCE_CHUNK ? k2 - j0 : REDUCE_CHUNK;                       \
      const T *xb = x + o * r * k2 + j0;                                                         \
      T *yb = y + o * k2 + j0;                                                                   \
      if (op == R_MAX) {                                                                         \
        T m[REDUCE_CHUNK];                                                                       \
        for (int64_t j = 0; j < len; j++) m[j] = LOWEST;                                         \
        for (int64_t i = 0; i < r; i++) {                                                        \
          const T *xr = xb + i * k2;                                                             \
          REDUCE_SIMD                                                                            \
          for (int64_t j = 0; j < len; j++) m[j] = xr[j] > m[j] ? xr[j] : m[j];                  \
        }                                                                                        \
        for (int64_t j = 0; j < len; j++) yb[j] = m[j];                                          \
      } else {                                                                                   \
        ACC s[REDUCE_CHUNK];                                                                     \
        for (int64_t j = 0; j < len; j++) s[j] = 0;                                              \
        for (int64_t i = 0; i < r; i++) {                                                        \
          const T *xr = xb + i * k2;                                                             \
          REDUCE_SIMD                                                                            \
          for (int64_t j = 0; j < len; j++) s[j] += xr[j];                                       \
        }                                                                                        \
        if (op == R_MEAN)                                                                        \
          for (int64_t j = 0; j < len; j++) yb[j] = (T)(MEAN(s[j], count));                      \
        else                                                                                     \
          for (int64_t j = 0; j < len; j++) yb[j] = (T)s[j];                                     \
      }                                                                                          \
    }                                                                                            \
  }                                                                                              \
  /* Any view: one pass over the input; acc has one slot per output element. */                  \
  static clcnn_status any_##SUF(const T *x, T *y, int64_t ny, const reduce_view *v,              \
                                clcnn_err *err) {                                                \
    const int op = v->op, rank = v->rank;                                                        \
    const int64_t count = v->count;                                                              \
    (void)count;                                                                                 \
    ACC *acc = malloc(sizeof(ACC) * (size_t)ny);                                                 \
    if (!acc) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");                   \
    for (int64_t i = 0; i < ny; i++) acc[i] = op == R_MAX ? (ACC)(LOWEST) : 0;                   \
    int64_t ostride[CLCNN_MAX_RANK], idx[CLCNN_MAX_RANK] = {0}, s = 1;                           \
    for (int d = rank - 1; d >= 0; d--) {                                                        \
      ostride[d] = v->reduced[d] ? 0 : s;                                                        \
      if (!v->reduced[d]) s *= v->dims[d];                                                       \
    }                                                                                            \
    const int64_t last = v->dims[rank - 1], lstride = ostride[rank - 1];                         \
    const int64_t rows = ny ? shape_numel(rank - 1, v->dims) : 0;                                \
    int64_t off = 0;                                                                             \
    for (int64_t row = 0; row < rows; row++, x += last) {                                        \
      ACC *a = acc + off;                                                                        \
      if (op == R_MAX) {                                                                         \
        for (int64_t j = 0; j < last; j++) {                                                     \
          ACC xv = (ACC)x[j];                                                                    \
          a[j * lstride] = xv > a[j * lstride] ? xv : a[j * lstride];                            \
        }                                                                                        \
      } else {                                                                                   \
        for (int64_t j = 0; j < last; j++) a[j * lstride] += x[j];                               \
      }                                                                                          \
      for (int d = rank - 2; d >= 0; d--) {                                                      \
        off += ostride[d];                                                                       \
        if (++idx[d] < v->dims[d]) break;                                                        \
        off -= ostride[d] * idx[d];                                                              \
        idx[d] = 0;                                                                              \
      }                                                                                          \
    }                                                                                            \
    for (int64_t i = 0; i < ny; i++) y[i] = op == R_MEAN ? (T)(MEAN(acc[i], count)) : (T)acc[i]; \
    free(acc);                                                                                   \
    return CLCNN_OK;                                                                             \
  }                                                                                              \
  static clcnn_status run_##SUF(const void *xv, void *yv, int64_t ny, const reduce_view *v,      \
                                clcnn_err *err) {                                                \
    const T *x = xv;                                                                             \
    T *y = yv;                                                                                   \
    const int rank = v->rank;                                                                    \
    const int64_t *d = v->dims;                                                                  \
    const uint8_t *red = v->reduced;                                                             \
    if (rank == 1 && red[0]) {                                                                   \
      rows_##SUF(x, y, 1, d[0], v);                                                              \
    } else if (rank == 2 && !red[0] && red[1]) {                                                 \
      rows_##SUF(x, y, d[0], d[1], v);                                                           \
    } else if (rank == 2 && red[0] && !red[1]) {                                                 \
      mid_##SUF(x, y, 1, d[0], d[1], v);                                                         \
    } else if (rank == 3 && !red[0] && red[1]) {                                                 \
      mid_##SUF(x, y, d[0], d[1], d[2], v);                                                      \
    } else {                                                                                     \
      return any_##SUF(x, y, ny, v, err);                                                        \
    }                                                                                            \
    return CLCNN_OK;                                                                             \
  }

#define MEAN_FLOAT(s, count) ((s) / (double)(count))
#define MEAN_INT(s, count) ((count) ? (s) / (count) : 0)

REDUCE_KERNELS(f32, float, double, -INFINITY, MEAN_FLOAT)
REDUCE_KERNELS(i64, int64_t, int64_t, INT64_MIN, MEAN_INT)
REDUCE_KERNELS(i32, int32_t, int64_t, INT32_MIN, MEAN_INT)
REDUCE_KERNELS(u8, uint8_t, int64_t, 0, MEAN_INT)
REDUCE_KERNELS(i8, int8_t, int64_t, INT8_MIN, MEAN_INT)

static clcnn_status reduce_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                               int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  const reduce_params *p = cn->n->params;
  const clcnn_tensor *x = &in[0];
  const int64_t ny = shape_numel(out[0].rank, out[0].dims);
  if (ny == 0) return CLCNN_OK;
  if (p->noop || p->mask == 0) { /* nothing reduced: a copy */
    size_t bytes = (size_t)ny * dtype_size(x->dtype);
    if (out[0].data != x->data) memcpy(out[0].data, x->data, bytes);
    return CLCNN_OK;
  }
  reduce_view v = {p->rank,
                   p->dims,
                   p->reduced,
                   p->count,
                   cn->n->op == CLCNN_OP_REDUCEMAX    ? R_MAX
                   : cn->n->op == CLCNN_OP_REDUCEMEAN ? R_MEAN
                                                      : R_SUM,
                   cn->nthreads};
  switch (x->dtype) {
    case CLCNN_DTYPE_FLOAT32:
      return run_f32(x->data, out[0].data, ny, &v, err);
    case CLCNN_DTYPE_INT64:
      return run_i64(x->data, out[0].data, ny, &v, err);
    case CLCNN_DTYPE_INT32:
      return run_i32(x->data, out[0].data, ny, &v, err);
    case CLCNN_DTYPE_UINT8:
    case CLCNN_DTYPE_BOOL:
      return run_u8(x->data, out[0].data, ny, &v, err);
    case CLCNN_DTYPE_INT8:
      return run_i8(x->data, out[0].data, ny, &v, err);
    default:
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "type %s is not supported",
                     dtype_name(x->dtype));
  }
}

static const cpu_op reduce_cpu = {NULL, NULL, reduce_run, NULL};

const cpu_op *const cpu_ops_reduce[CLCNN_OP_COUNT] = {
    [CLCNN_OP_REDUCEMEAN] = &reduce_cpu,
    [CLCNN_OP_REDUCEMAX] = &reduce_cpu,
    [CLCNN_OP_REDUCESUM] = &reduce_cpu,
};
