/* CPU backend: the indexing family (GatherElements, GatherND,
 * ScatterElements / Scatter, ScatterND, OneHot, Trilu). Elements move by
 * their size, so every element type works; the scatters' reductions are
 * typed (float32, float64, int64, int32). Scatters apply their updates in
 * index order, so duplicate indices reduce (or, without a reduction, the
 * last one wins) as in onnxruntime. An index out of range is an error. */
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "../ops/indexing.h"

static inline void copy_elem(uint8_t *d, const uint8_t *s, size_t es) {
  switch (es) {
    case 1: *d = *s; break;
    case 2: memcpy(d, s, 2); break;
    case 4: memcpy(d, s, 4); break;
    case 8: memcpy(d, s, 8); break;
    default: memcpy(d, s, es); break;
  }
}

/* dst (op)= src for one element of type dt. */
static inline void reduce_elem(uint8_t *dst, const uint8_t *src, clcnn_dtype dt, int red) {
#define RED(T)                                       \
  do {                                               \
    T a, b;                                          \
    memcpy(&a, dst, sizeof a);                       \
    memcpy(&b, src, sizeof b);                       \
    switch (red) {                                   \
      case SCATTER_ADD: a = a + b; break;            \
      case SCATTER_MUL: a = a * b; break;            \
      case SCATTER_MAX: a = b > a ? b : a; break;    \
      case SCATTER_MIN: a = b < a ? b : a; break;    \
      default: a = b; break;                         \
    }                                                \
    memcpy(dst, &a, sizeof a);                       \
  } while (0)
  switch (dt) {
    case CLCNN_DTYPE_FLOAT32: RED(float); break;
    case CLCNN_DTYPE_FLOAT64: RED(double); break;
    case CLCNN_DTYPE_INT64: RED(int64_t); break;
    case CLCNN_DTYPE_INT32: RED(int32_t); break;
    default: copy_elem(dst, src, dtype_size(dt)); break;
  }
#undef RED
}

/* Index i of an int32/int64 tensor made non-negative against `limit`;
 * false when out of range. */
static inline bool get_index(const clcnn_tensor *t, int64_t i, int64_t limit, int64_t *out) {
  int64_t v = t->dtype == CLCNN_DTYPE_INT32 ? ((const int32_t *)t->data)[i]
                                            : ((const int64_t *)t->data)[i];
  if (v < 0) v += limit;
  *out = v;
  return v >= 0 && v < limit;
}

static clcnn_status bad_index(const clcnn_tensor *t, int64_t i, int64_t limit, clcnn_err *err) {
  return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "index %lld is out of range [%lld, %lld)",
                 (long long)tensor_get_i64(t, i), (long long)-limit, (long long)limit);
}

static void strides_of(const clcnn_tensor *t, int64_t *s) {
  int64_t acc = 1;
  for (int d = t->rank - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= t->dims[d];
  }
}

/* ------------------------------------------- GatherElements, ScatterElements */

/* Walks the positions of idx (odometer) and calls BODY with i (position in
 * idx) and base (the data offset of that position with the axis left out). */
#define ELEMENTS_LOOP(idx, xs, axis, BODY)                                      \
  do {                                                                          \
    const int r_ = (idx)->rank;                                                 \
    const int64_t n_ = clcnn_tensor_numel(idx);                                 \
    int64_t pos_[CLCNN_MAX_RANK] = {0}, base = 0;                               \
    for (int64_t i = 0; i < n_; i++) {                                          \
      BODY;                                                                     \
      for (int d_ = r_ - 1; d_ >= 0; d_--) {                                    \
        if (d_ != (axis)) base += (xs)[d_];                                     \
        if (++pos_[d_] < (idx)->dims[d_]) break;                                \
        if (d_ != (axis)) base -= (xs)[d_] * (idx)->dims[d_];                   \
        pos_[d_] = 0;                                                           \
      }                                                                         \
    }                                                                           \
  } while (0)

static clcnn_status elements_run(cpu_node *cn, const clcnn_tensor *in, int nin,
                                 clcnn_tensor *out, int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  const elements_params *p = cn->n->params;
  const clcnn_tensor *x = &in[0], *idx = &in[1];
  const size_t es = dtype_size(x->dtype);
  const int axis = p->axis;
  const int64_t lim = x->dims[axis];
  int64_t xs[CLCNN_MAX_RANK];
  strides_of(x, xs);
  const uint8_t *xd = x->data;
  uint8_t *yd = out[0].data;
  if (cn->n->op == CLCNN_OP_GATHER_ELEMENTS) {
    ELEMENTS_LOOP(idx, xs, axis, {
      int64_t j;
      if (!get_index(idx, i, lim, &j)) return bad_index(idx, i, lim, err);
      copy_elem(yd + (size_t)i * es, xd + (size_t)(base + j * xs[axis]) * es, es);
    });
    return CLCNN_OK;
  }
  const uint8_t *ud = in[2].data;
  size_t bytes = (size_t)clcnn_tensor_numel(x) * es;
  if (yd != xd && bytes) memcpy(yd, xd, bytes);
  const int red = p->reduction;
  ELEMENTS_LOOP(idx, xs, axis, {
    int64_t j;
    if (!get_index(idx, i, lim, &j)) return bad_index(idx, i, lim, err);
    uint8_t *dst = yd + (size_t)(base + j * xs[axis]) * es;
    if (red == SCATTER_NONE) copy_elem(dst, ud + (size_t)i * es, es);
    else reduce_elem(dst, ud + (size_t)i * es, x->dtype, red);
  });
  return CLCNN_OK;
}

/* ---------------------------------------------------- GatherND, ScatterND */

/* Data offset (elements) of index tuple t of batch b; false when an index
 * is out of range (*bad: its element in the indices). */
static bool nd_offset(const nd_params *p, const clcnn_tensor *idx, int64_t b, int64_t t,
                      int64_t *off, int64_t *bad) {
  int64_t at = (b * p->tuples + t) * p->k, o = b * p->batch_stride;
  for (int i = 0; i < p->k; i++) {
    int64_t v;
    if (!get_index(idx, at + i, p->dims[i], &v)) {
      *bad = at + i;
      return false;
    }
    o += v * p->strides[i];
  }
  *off = o;
  return true;
}

static clcnn_status nd_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                           int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  const nd_params *p = cn->n->params;
  const clcnn_tensor *x = &in[0], *idx = &in[1];
  const size_t es = dtype_size(x->dtype), sb = (size_t)p->slice * es;
  const uint8_t *xd = x->data;
  uint8_t *yd = out[0].data;
  const bool scatter = cn->n->op == CLCNN_OP_SCATTER_ND;
  const uint8_t *ud = scatter ? in[2].data : NULL;
  if (scatter) {
    size_t bytes = (size_t)clcnn_tensor_numel(x) * es;
    if (yd != xd && bytes) memcpy(yd, xd, bytes);
  }
  for (int64_t b = 0; b < p->batch; b++)
    for (int64_t t = 0; t < p->tuples; t++) {
      int64_t off, bad;
      if (!nd_offset(p, idx, b, t, &off, &bad))
        return bad_index(idx, bad, p->dims[bad % p->k], err);
      size_t row = (size_t)(b * p->tuples + t);
      if (!scatter) {
        if (sb) memcpy(yd + row * sb, xd + (size_t)off * es, sb);
      } else if (p->reduction == SCATTER_NONE) {
        if (sb) memcpy(yd + (size_t)off * es, ud + row * sb, sb);
      } else {
        for (int64_t e = 0; e < p->slice; e++)
          reduce_elem(yd + (size_t)(off + e) * es, ud + row * sb + (size_t)e * es, x->dtype,
                      p->reduction);
      }
    }
  return CLCNN_OK;
}

/* ---------------------------------------------------------------- OneHot */

static clcnn_status onehot_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                               int nout, clcnn_err *err) {
  (void)nin, (void)nout, (void)err;
  const onehot_params *p = cn->n->params;
  const clcnn_tensor *idx = &in[0], *vals = &in[2];
  const size_t es = dtype_size(vals->dtype);
  const uint8_t *off_v = vals->data, *on_v = off_v + es;
  uint8_t *y = out[0].data;
  const int64_t total = p->outer * p->depth * p->inner;
  for (int64_t i = 0; i < total; i++) copy_elem(y + (size_t)i * es, off_v, es);
  const bool integer = idx->dtype == CLCNN_DTYPE_INT64 || idx->dtype == CLCNN_DTYPE_INT32 ||
                       idx->dtype == CLCNN_DTYPE_INT8 || idx->dtype == CLCNN_DTYPE_UINT8;
  for (int64_t o = 0; o < p->outer; o++)
    for (int64_t j = 0; j < p->inner; j++) {
      int64_t at = o * p->inner + j;
      double fv = integer ? 0 : tensor_get_f64(idx, at);
      if (!integer && !(fv > -(double)p->depth - 1 && fv < (double)p->depth)) continue;
      int64_t v = integer ? tensor_get_i64(idx, at) : (int64_t)fv;
      if (v < 0) v += p->depth;
      if (v < 0 || v >= p->depth) continue;
      copy_elem(y + (size_t)((o * p->depth + v) * p->inner + j) * es, on_v, es);
    }
  return CLCNN_OK;
}

/* ----------------------------------------------------------------- Trilu */

static clcnn_status trilu_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                              int nout, clcnn_err *err) {
  (void)nin, (void)nout, (void)err;
  const trilu_params *p = cn->n->params;
  const size_t es = dtype_size(in[0].dtype);
  const int64_t rows = p->rows, cols = p->cols, lim = rows + cols + 1;
  const int64_t k = p->k < -lim ? -lim : p->k > lim ? lim : p->k;
  const uint8_t *x = in[0].data;
  uint8_t *y = out[0].data;
  size_t bytes = (size_t)(p->matrices * rows * cols) * es;
  if (y != x && bytes) memcpy(y, x, bytes);
  for (int64_t m = 0; m < p->matrices; m++)
    for (int64_t i = 0; i < rows; i++) {
      uint8_t *row = y + (size_t)((m * rows + i) * cols) * es;
      /* upper keeps j >= i + k: zero [0, i + k); lower keeps j <= i + k:
       * zero [i + k + 1, cols) */
      int64_t z0 = p->upper ? 0 : i + k + 1, z1 = p->upper ? i + k : cols;
      z0 = z0 < 0 ? 0 : z0 > cols ? cols : z0;
      z1 = z1 < 0 ? 0 : z1 > cols ? cols : z1;
      if (z1 > z0) memset(row + (size_t)z0 * es, 0, (size_t)(z1 - z0) * es);
    }
  return CLCNN_OK;
}

/* ----------------------------------------------------------------- table */

static const cpu_op elements_cpu = {NULL, NULL, elements_run, NULL};
static const cpu_op nd_cpu = {NULL, NULL, nd_run, NULL};
static const cpu_op onehot_cpu = {NULL, NULL, onehot_run, NULL};
static const cpu_op trilu_cpu = {NULL, NULL, trilu_run, NULL};

const cpu_op *const cpu_ops_indexing[CLCNN_OP_COUNT] = {
    [CLCNN_OP_GATHER_ELEMENTS] = &elements_cpu, [CLCNN_OP_SCATTER_ELEMENTS] = &elements_cpu,
    [CLCNN_OP_SCATTER] = &elements_cpu,         [CLCNN_OP_GATHER_ND] = &nd_cpu,
    [CLCNN_OP_SCATTER_ND] = &nd_cpu,            [CLCNN_OP_ONEHOT] = &onehot_cpu,
    [CLCNN_OP_TRILU] = &trilu_cpu,
};
