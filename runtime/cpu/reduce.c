/* CPU backend: the reduce family (ReduceMean, ReduceMax, ReduceSum,
 * ReduceMin; ReduceProd, ReduceL1, ReduceL2, ReduceSumSquare and
 * ReduceLogSumExp below; ArgMax and ArgMin; TopK and CumSum at the end).
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
#include "threadpool.h"

/* Threads from the context's pool (threadpool.h); `omp simd` so that the
 * loops (sums and maxima included, which the compiler may not reorder on
 * their own) vectorise. */
#ifdef _OPENMP
#define REDUCE_PRAGMA(x) _Pragma(#x)
#define REDUCE_SIMD REDUCE_PRAGMA(omp simd)
#define REDUCE_SIMD_RED(op, v) REDUCE_PRAGMA(omp simd reduction(op : v))
#else
#define REDUCE_SIMD
#define REDUCE_SIMD_RED(op, v)
#endif

#define REDUCE_CHUNK 256

enum { R_SUM, R_MEAN, R_MAX, R_MIN };

/* The view a kernel works on (see reduce_params). */
typedef struct reduce_view {
  int rank;
  const int64_t *dims;
  const uint8_t *reduced;
  int64_t count;
  int op;
  int nthreads;
  cpu_pool *pool;
} reduce_view;

/* A [K, R] or [K1, R, K2] reduction split over threads: rows_* take output
 * rows, mid_* pieces of REDUCE_CHUNK columns of K2 (fixed by the shape). */
typedef struct reduce_task {
  const void *x;
  void *y;
  int64_t r, k2, chunks;
  const reduce_view *v;
} reduce_task;

/* Output strides of the input's dimensions: 0 along reduced ones. */
static void reduce_out_strides(const reduce_view *v, int64_t *ostride) {
  int64_t s = 1;
  for (int d = v->rank - 1; d >= 0; d--) {
    ostride[d] = v->reduced[d] ? 0 : s;
    if (!v->reduced[d]) s *= v->dims[d];
  }
}

/* Moves the output offset to the next row of the input (an odometer over
 * all dimensions but the last). */
static void reduce_next_row(const reduce_view *v, const int64_t *ostride, int64_t *idx,
                            int64_t *off) {
  for (int d = v->rank - 2; d >= 0; d--) {
    *off += ostride[d];
    if (++idx[d] < v->dims[d]) break;
    *off -= ostride[d] * idx[d];
    idx[d] = 0;
  }
}

/* For one element type T with accumulator ACC, the lowest value LOWEST, the
 * highest HIGHEST and the mean of an accumulated sum MEAN(s, count). */
#define REDUCE_KERNELS(SUF, T, ACC, LOWEST, HIGHEST, MEAN)                                       \
  static void rows_items_##SUF(void *arg, int64_t begin, int64_t end, int thread) {              \
    (void)thread;                                                                                \
    const reduce_task *t = arg;                                                                  \
    const T *x = t->x;                                                                           \
    T *y = t->y;                                                                                 \
    const int64_t r = t->r;                                                                      \
    const reduce_view *v = t->v;                                                                 \
    const int op = v->op;                                                                        \
    const int64_t count = v->count;                                                              \
    (void)count;                                                                                 \
    for (int64_t o = begin; o < end; o++) {                                                      \
      const T *xr = x + o * r;                                                                   \
      if (op == R_MAX) {                                                                         \
        T m = LOWEST;                                                                            \
        REDUCE_SIMD_RED(max, m)                                                                  \
        for (int64_t i = 0; i < r; i++) m = xr[i] > m ? xr[i] : m;                               \
        y[o] = m;                                                                                \
      } else if (op == R_MIN) {                                                                  \
        T m = HIGHEST;                                                                           \
        REDUCE_SIMD_RED(min, m)                                                                  \
        for (int64_t i = 0; i < r; i++) m = xr[i] < m ? xr[i] : m;                               \
        y[o] = m;                                                                                \
      } else {                                                                                   \
        ACC s = 0;                                                                               \
        REDUCE_SIMD_RED(+, s)                                                                    \
        for (int64_t i = 0; i < r; i++) s += xr[i];                                              \
        y[o] = op == R_MEAN ? (T)(MEAN(s, count)) : (T)s;                                        \
      }                                                                                          \
    }                                                                                            \
  }                                                                                              \
  static void rows_##SUF(const T *x, T *y, int64_t outer, int64_t r, const reduce_view *v) {     \
    reduce_task t = {.x = x, .y = y, .r = r, .v = v};                                            \
    cpu_parallel_for(v->pool, v->nthreads, outer, 1, rows_items_##SUF, &t);                      \
  }                                                                                              \
  static void mid_items_##SUF(void *arg, int64_t begin, int64_t end, int thread) {               \
    (void)thread;                                                                                \
    const reduce_task *t = arg;                                                                  \
    const T *x = t->x;                                                                           \
    T *y = t->y;                                                                                 \
    const int64_t r = t->r, k2 = t->k2, chunks = t->chunks;                                      \
    const reduce_view *v = t->v;                                                                 \
    const int op = v->op;                                                                        \
    const int64_t count = v->count;                                                              \
    (void)count;                                                                                 \
    for (int64_t it = begin; it < end; it++) {                                                   \
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
      } else if (op == R_MIN) {                                                                  \
        T m[REDUCE_CHUNK];                                                                       \
        for (int64_t j = 0; j < len; j++) m[j] = HIGHEST;                                        \
        for (int64_t i = 0; i < r; i++) {                                                        \
          const T *xr = xb + i * k2;                                                             \
          REDUCE_SIMD                                                                            \
          for (int64_t j = 0; j < len; j++) m[j] = xr[j] < m[j] ? xr[j] : m[j];                  \
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
  static void mid_##SUF(const T *x, T *y, int64_t k1, int64_t r, int64_t k2,                     \
                        const reduce_view *v) {                                                  \
    const int64_t chunks = (k2 + REDUCE_CHUNK - 1) / REDUCE_CHUNK;                               \
    reduce_task t = {.x = x, .y = y, .r = r, .k2 = k2, .chunks = chunks, .v = v};                \
    cpu_parallel_for(v->pool, v->nthreads, k1 * chunks, 1, mid_items_##SUF, &t);                 \
  }                                                                                              \
  /* Any view: one pass over the input; acc has one slot per output element. */                  \
  static clcnn_status any_##SUF(const T *x, T *y, int64_t ny, const reduce_view *v,              \
                                clcnn_err *err) {                                                \
    const int op = v->op, rank = v->rank;                                                        \
    const int64_t count = v->count;                                                              \
    (void)count;                                                                                 \
    ACC *acc = malloc(sizeof(ACC) * (size_t)ny);                                                 \
    if (!acc) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");                   \
    for (int64_t i = 0; i < ny; i++)                                                             \
      acc[i] = op == R_MAX ? (ACC)(LOWEST) : op == R_MIN ? (ACC)(HIGHEST) : 0;                   \
    int64_t ostride[CLCNN_MAX_RANK], idx[CLCNN_MAX_RANK] = {0};                                  \
    reduce_out_strides(v, ostride);                                                              \
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
      } else if (op == R_MIN) {                                                                  \
        for (int64_t j = 0; j < last; j++) {                                                     \
          ACC xv = (ACC)x[j];                                                                    \
          a[j * lstride] = xv < a[j * lstride] ? xv : a[j * lstride];                            \
        }                                                                                        \
      } else {                                                                                   \
        for (int64_t j = 0; j < last; j++) a[j * lstride] += x[j];                               \
      }                                                                                          \
      reduce_next_row(v, ostride, idx, &off);                                                    \
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

REDUCE_KERNELS(f32, float, double, -INFINITY, INFINITY, MEAN_FLOAT)
REDUCE_KERNELS(f64, double, double, -INFINITY, INFINITY, MEAN_FLOAT)
REDUCE_KERNELS(i64, int64_t, int64_t, INT64_MIN, INT64_MAX, MEAN_INT)
REDUCE_KERNELS(i32, int32_t, int64_t, INT32_MIN, INT32_MAX, MEAN_INT)
REDUCE_KERNELS(u8, uint8_t, int64_t, 0, UINT8_MAX, MEAN_INT)
REDUCE_KERNELS(i8, int8_t, int64_t, INT8_MIN, INT8_MAX, MEAN_INT)

/* ReduceProd, ReduceL1, ReduceL2, ReduceSumSquare and ReduceLogSumExp: one
 * walk over the input with an odometer (as any_*), accumulating in ACC
 * (double for floats, int64 for integers); ReduceLogSumExp first finds each
 * output's maximum, then sums exp(x - max), so that it cannot overflow. */
enum { X_PROD, X_L1, X_L2, X_SSQ, X_LSE };

#define EXTRA_KERNEL(SUF, T, ACC, ABS)                                                           \
  static void walk_##SUF(const T *x, ACC *acc, const ACC *mx, const reduce_view *v, int op,       \
                         int64_t ny) {                                                            \
    const int rank = v->rank;                                                                     \
    int64_t ostride[CLCNN_MAX_RANK], idx[CLCNN_MAX_RANK] = {0};                                   \
    reduce_out_strides(v, ostride);                                                               \
    const int64_t last = v->dims[rank - 1], ls = ostride[rank - 1];                               \
    const int64_t rows = ny ? shape_numel(rank - 1, v->dims) : 0;                                 \
    int64_t off = 0;                                                                              \
    for (int64_t row = 0; row < rows; row++, x += last) {                                         \
      ACC *a = acc + off;                                                                         \
      const ACC *m = mx ? mx + off : NULL;                                                        \
      switch (op) {                                                                               \
        case X_PROD:                                                                              \
          for (int64_t j = 0; j < last; j++) a[j * ls] *= (ACC)x[j];                              \
          break;                                                                                  \
        case X_L1:                                                                                \
          for (int64_t j = 0; j < last; j++) a[j * ls] += ABS((ACC)x[j]);                         \
          break;                                                                                  \
        case X_L2:                                                                                \
        case X_SSQ:                                                                               \
          for (int64_t j = 0; j < last; j++) a[j * ls] += (ACC)x[j] * (ACC)x[j];                  \
          break;                                                                                  \
        default: /* X_LSE: the maxima, then the sums */                                           \
          if (!m)                                                                                 \
            for (int64_t j = 0; j < last; j++)                                                    \
              a[j * ls] = (ACC)x[j] > a[j * ls] ? (ACC)x[j] : a[j * ls];                          \
          else                                                                                    \
            for (int64_t j = 0; j < last; j++)                                                    \
              a[j * ls] += (ACC)exp((double)x[j] - (double)m[j * ls]);                            \
          break;                                                                                  \
      }                                                                                           \
      reduce_next_row(v, ostride, idx, &off);                                                    \
    }                                                                                             \
  }                                                                                               \
  static clcnn_status extra_##SUF(const void *xv, void *yv, int64_t ny, const reduce_view *v,     \
                                  int op, clcnn_err *err) {                                       \
    const T *x = xv;                                                                              \
    T *y = yv;                                                                                    \
    ACC *acc = malloc(sizeof(ACC) * (size_t)ny * (op == X_LSE ? 2 : 1));                          \
    if (!acc) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");                    \
    ACC *mx = op == X_LSE ? acc + ny : NULL;                                                      \
    if (mx) {                                                                                     \
      for (int64_t i = 0; i < ny; i++) mx[i] = (ACC)-INFINITY;                                    \
      walk_##SUF(x, mx, NULL, v, op, ny);                                                         \
      /* An infinite maximum is the result itself (exp(inf - inf) is NaN). */                     \
      for (int64_t i = 0; i < ny; i++) acc[i] = 0;                                                \
      walk_##SUF(x, acc, mx, v, op, ny);                                                          \
      for (int64_t i = 0; i < ny; i++)                                                            \
        y[i] = (T)(isinf((double)mx[i]) ? mx[i] : (ACC)log((double)acc[i]) + mx[i]);              \
    } else {                                                                                      \
      for (int64_t i = 0; i < ny; i++) acc[i] = op == X_PROD ? 1 : 0;                             \
      walk_##SUF(x, acc, NULL, v, op, ny);                                                        \
      for (int64_t i = 0; i < ny; i++) y[i] = (T)(op == X_L2 ? (ACC)sqrt((double)acc[i]) : acc[i]); \
    }                                                                                             \
    free(acc);                                                                                    \
    return CLCNN_OK;                                                                              \
  }

static inline double abs_f64(double v) { return fabs(v); }
static inline int64_t abs_i64(int64_t v) { return v < 0 ? (int64_t)(0u - (uint64_t)v) : v; }
EXTRA_KERNEL(f32, float, double, abs_f64)
EXTRA_KERNEL(f64, double, double, abs_f64)
EXTRA_KERNEL(i64, int64_t, int64_t, abs_i64)
EXTRA_KERNEL(i32, int32_t, int64_t, abs_i64)
#undef EXTRA_KERNEL

/* ArgMax / ArgMin over the [outer, len, inner] view. */
#define ARG_KERNEL(SUF, T)                                                                  \
  static void arg_##SUF(const T *x, int64_t *y, const reduce_params *p, bool is_max) {      \
    const int64_t len = p->len, inner = p->inner;                                           \
    const bool last = p->select_last_index != 0;                                            \
    for (int64_t o = 0; o < p->outer; o++) {                                                \
      const T *xo = x + o * len * inner;                                                    \
      int64_t *yo = y + o * inner;                                                          \
      for (int64_t j = 0; j < inner; j++) {                                                 \
        T best = xo[j];                                                                     \
        int64_t at = 0;                                                                     \
        for (int64_t i = 1; i < len; i++) {                                                 \
          const T v = xo[i * inner + j];                                                    \
          const bool better = is_max ? (last ? v >= best : v > best)                        \
                                     : (last ? v <= best : v < best);                       \
          if (better) {                                                                     \
            best = v;                                                                       \
            at = i;                                                                         \
          }                                                                                 \
        }                                                                                   \
        yo[j] = at;                                                                         \
      }                                                                                     \
    }                                                                                       \
  }
ARG_KERNEL(f32, float)
ARG_KERNEL(f64, double)
ARG_KERNEL(i64, int64_t)
ARG_KERNEL(i32, int32_t)
ARG_KERNEL(u8, uint8_t)
ARG_KERNEL(i8, int8_t)
#undef ARG_KERNEL

static clcnn_status arg_run(const reduce_params *p, bool is_max, const clcnn_tensor *x,
                            clcnn_tensor *y, clcnn_err *err) {
  if (y->dtype != CLCNN_DTYPE_INT64 || p->len < 1)
    return err_set(err, CLCNN_ERROR_INTERNAL, "bad output or empty axis");
  switch (x->dtype) {
    case CLCNN_DTYPE_FLOAT32: arg_f32(x->data, y->data, p, is_max); break;
    case CLCNN_DTYPE_FLOAT64: arg_f64(x->data, y->data, p, is_max); break;
    case CLCNN_DTYPE_INT64: arg_i64(x->data, y->data, p, is_max); break;
    case CLCNN_DTYPE_INT32: arg_i32(x->data, y->data, p, is_max); break;
    case CLCNN_DTYPE_UINT8: arg_u8(x->data, y->data, p, is_max); break;
    case CLCNN_DTYPE_INT8: arg_i8(x->data, y->data, p, is_max); break;
    default:
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "type %s is not supported",
                     dtype_name(x->dtype));
  }
  return CLCNN_OK;
}

static int extra_op(int op) {
  switch (op) {
    case CLCNN_OP_REDUCEPROD: return X_PROD;
    case CLCNN_OP_REDUCEL1: return X_L1;
    case CLCNN_OP_REDUCEL2: return X_L2;
    case CLCNN_OP_REDUCESUMSQUARE: return X_SSQ;
    case CLCNN_OP_REDUCELOGSUMEXP: return X_LSE;
    default: return -1;
  }
}

static clcnn_status reduce_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                               int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  const reduce_params *p = cn->n->params;
  const int op = cn->n->op;
  const clcnn_tensor *x = &in[0];
  const int64_t ny = shape_numel(out[0].rank, out[0].dims);
  if (ny == 0) return CLCNN_OK;
  if (op == CLCNN_OP_ARGMAX || op == CLCNN_OP_ARGMIN)
    return arg_run(p, op == CLCNN_OP_ARGMAX, x, &out[0], err);
  const int xop = extra_op(op);
  /* Nothing reduced: a copy, but for the operators that map each element. */
  if ((p->noop || p->mask == 0) && xop != X_L1 && xop != X_L2 && xop != X_SSQ && xop != X_LSE) {
    size_t bytes = (size_t)ny * dtype_size(x->dtype);
    if (out[0].data != x->data) memcpy(out[0].data, x->data, bytes);
    return CLCNN_OK;
  }
  reduce_view v = {p->rank,
                   p->dims,
                   p->reduced,
                   p->count,
                   op == CLCNN_OP_REDUCEMAX    ? R_MAX
                   : op == CLCNN_OP_REDUCEMIN  ? R_MIN
                   : op == CLCNN_OP_REDUCEMEAN ? R_MEAN
                                               : R_SUM,
                   cn->nthreads,
                   cn->pool};
  if (p->noop || p->mask == 0) { /* each element on its own: a view with nothing reduced */
    static const uint8_t kept[1] = {0};
    v.rank = 1;
    v.dims = &ny;
    v.reduced = kept;
    v.count = 1;
  }
  if (xop >= 0) {
    switch (x->dtype) {
      case CLCNN_DTYPE_FLOAT32: return extra_f32(x->data, out[0].data, ny, &v, xop, err);
      case CLCNN_DTYPE_FLOAT64: return extra_f64(x->data, out[0].data, ny, &v, xop, err);
      case CLCNN_DTYPE_INT64: return extra_i64(x->data, out[0].data, ny, &v, xop, err);
      case CLCNN_DTYPE_INT32: return extra_i32(x->data, out[0].data, ny, &v, xop, err);
      default:
        return err_set(err, CLCNN_ERROR_UNSUPPORTED, "type %s is not supported",
                       dtype_name(x->dtype));
    }
  }
  switch (x->dtype) {
    case CLCNN_DTYPE_FLOAT32:
      return run_f32(x->data, out[0].data, ny, &v, err);
    case CLCNN_DTYPE_FLOAT64:
      return run_f64(x->data, out[0].data, ny, &v, err);
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

/* ------------------------------------------------------------------ TopK */

/* One row's candidates: the key and its index along the axis. Sorted by
 * key (largest or smallest first), then by index, so that ties keep the
 * lower index first (as onnxruntime); NaN counts as the largest value. */
typedef struct topk_f {
  double v;
  int64_t i;
} topk_f;
typedef struct topk_i {
  int64_t v;
  int64_t i;
} topk_i;

static int cmp_f_desc(const void *a, const void *b) {
  const topk_f *x = a, *y = b;
  bool xn = x->v != x->v, yn = y->v != y->v;
  if (xn != yn) return xn ? -1 : 1;
  if (!xn && x->v != y->v) return x->v > y->v ? -1 : 1;
  return (x->i > y->i) - (x->i < y->i);
}
static int cmp_f_asc(const void *a, const void *b) {
  const topk_f *x = a, *y = b;
  bool xn = x->v != x->v, yn = y->v != y->v;
  if (xn != yn) return xn ? 1 : -1;
  if (!xn && x->v != y->v) return x->v < y->v ? -1 : 1;
  return (x->i > y->i) - (x->i < y->i);
}
static int cmp_i_desc(const void *a, const void *b) {
  const topk_i *x = a, *y = b;
  if (x->v != y->v) return x->v > y->v ? -1 : 1;
  return (x->i > y->i) - (x->i < y->i);
}
static int cmp_i_asc(const void *a, const void *b) {
  const topk_i *x = a, *y = b;
  if (x->v != y->v) return x->v < y->v ? -1 : 1;
  return (x->i > y->i) - (x->i < y->i);
}

#define TOPK_ROWS(T, C, KEY, CMP)                                                    \
  do {                                                                               \
    const T *xs = x->data;                                                           \
    T *ys = out[0].data;                                                             \
    for (int64_t o = 0; o < p->outer; o++)                                           \
      for (int64_t j = 0; j < p->inner; j++) {                                       \
        const T *row = xs + o * p->len * p->inner + j;                               \
        C *c = buf;                                                                  \
        for (int64_t t = 0; t < p->len; t++) c[t] = (C){KEY(row[t * p->inner]), t};  \
        qsort(c, (size_t)p->len, sizeof(C), CMP);                                    \
        int64_t base = o * p->k * p->inner + j;                                      \
        for (int64_t t = 0; t < p->k; t++) {                                         \
          ys[base + t * p->inner] = row[c[t].i * p->inner];                          \
          if (yi) yi[base + t * p->inner] = c[t].i;                                  \
        }                                                                            \
      }                                                                              \
  } while (0)

/* uint64 as an int64 key of the same order. */
static inline int64_t u64_key(uint64_t v) { return (int64_t)(v ^ ((uint64_t)1 << 63)); }

static clcnn_status topk_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                             int nout, clcnn_err *err) {
  (void)nin;
  const topk_params *p = cn->n->params;
  const clcnn_tensor *x = &in[0];
  int64_t *yi = nout > 1 ? out[1].data : NULL;
  if (p->k == 0 || p->outer == 0 || p->inner == 0) return CLCNN_OK;
  void *buf = malloc(sizeof(topk_f) * (size_t)p->len);
  if (!buf) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  switch (x->dtype) {
    case CLCNN_DTYPE_FLOAT32:
      TOPK_ROWS(float, topk_f, (double), p->largest ? cmp_f_desc : cmp_f_asc);
      break;
    case CLCNN_DTYPE_FLOAT64:
      TOPK_ROWS(double, topk_f, (double), p->largest ? cmp_f_desc : cmp_f_asc);
      break;
    case CLCNN_DTYPE_INT64:
      TOPK_ROWS(int64_t, topk_i, (int64_t), p->largest ? cmp_i_desc : cmp_i_asc);
      break;
    case CLCNN_DTYPE_INT32:
      TOPK_ROWS(int32_t, topk_i, (int64_t), p->largest ? cmp_i_desc : cmp_i_asc);
      break;
    case CLCNN_DTYPE_UINT64:
      TOPK_ROWS(uint64_t, topk_i, u64_key, p->largest ? cmp_i_desc : cmp_i_asc);
      break;
    default:
      free(buf);
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "type %s is not supported",
                     dtype_name(x->dtype));
  }
  free(buf);
  return CLCNN_OK;
}

/* ---------------------------------------------------------------- CumSum */

#define CUMSUM_ROWS(T, ACC)                                                  \
  do {                                                                       \
    const T *xs = in[0].data;                                                \
    T *ys = out[0].data;                                                     \
    for (int64_t o = 0; o < p->outer; o++)                                   \
      for (int64_t j = 0; j < p->inner; j++) {                               \
        ACC acc = 0;                                                         \
        for (int64_t s = 0; s < p->len; s++) {                               \
          int64_t t = p->reverse ? p->len - 1 - s : s;                       \
          int64_t at = (o * p->len + t) * p->inner + j;                      \
          ACC v = (ACC)xs[at];                                               \
          if (p->exclusive) {                                                \
            ys[at] = (T)acc;                                                 \
            acc += v;                                                        \
          } else {                                                           \
            acc += v;                                                        \
            ys[at] = (T)acc;                                                 \
          }                                                                  \
        }                                                                    \
      }                                                                      \
  } while (0)

static clcnn_status cumsum_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                               int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  const cumsum_params *p = cn->n->params;
  switch (in[0].dtype) {
    case CLCNN_DTYPE_FLOAT32: CUMSUM_ROWS(float, double); break;
    case CLCNN_DTYPE_FLOAT64: CUMSUM_ROWS(double, double); break;
    /* integers wrap as two's complement, in unsigned arithmetic */
    case CLCNN_DTYPE_INT64: CUMSUM_ROWS(int64_t, uint64_t); break;
    case CLCNN_DTYPE_INT32: CUMSUM_ROWS(int32_t, uint32_t); break;
    default:
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "type %s is not supported",
                     dtype_name(in[0].dtype));
  }
  return CLCNN_OK;
}

static const cpu_op reduce_cpu = {NULL, NULL, reduce_run, NULL};
static const cpu_op topk_cpu = {NULL, NULL, topk_run, NULL};
static const cpu_op cumsum_cpu = {NULL, NULL, cumsum_run, NULL};

const cpu_op *const cpu_ops_reduce[CLCNN_OP_COUNT] = {
    [CLCNN_OP_REDUCEMEAN] = &reduce_cpu,
    [CLCNN_OP_REDUCEMAX] = &reduce_cpu,
    [CLCNN_OP_REDUCESUM] = &reduce_cpu,
    [CLCNN_OP_REDUCEMIN] = &reduce_cpu,
    [CLCNN_OP_REDUCEPROD] = &reduce_cpu,
    [CLCNN_OP_REDUCEL1] = &reduce_cpu,
    [CLCNN_OP_REDUCEL2] = &reduce_cpu,
    [CLCNN_OP_REDUCESUMSQUARE] = &reduce_cpu,
    [CLCNN_OP_REDUCELOGSUMEXP] = &reduce_cpu,
    [CLCNN_OP_ARGMAX] = &reduce_cpu,
    [CLCNN_OP_ARGMIN] = &reduce_cpu,
    [CLCNN_OP_TOPK] = &topk_cpu,
    [CLCNN_OP_CUMSUM] = &cumsum_cpu,
};
