/* CPU backend: the layout family. Every kernel moves elements by their size
 * (1, 2, 4 or 8 bytes), so all element types work.
 *
 * Slice, Transpose, Expand and Tile are one operation underneath: the output,
 * written in order, reads the input at a linear function of the output
 * index (a "strided view": per output axis a size and an input stride, which
 * may be 0 for broadcasting or negative for reversed slices). The view is
 * simplified (size-1 axes dropped, contiguous axes merged) and copied row by
 * row, with memcpy where rows are contiguous and a tiled transpose where the
 * input's contiguous axis is not the output's. */
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "../ops/layout.h"
#include "threadpool.h"

#define VIEW_MAX (2 * CLCNN_MAX_RANK)
/* Copies below this many bytes stay on one thread. */
#define PAR_MIN_BYTES ((size_t)1 << 18)

typedef struct view {
  int rank;
  int64_t dims[VIEW_MAX];
  int64_t stride[VIEW_MAX]; /* input stride in elements */
} view;

static int64_t view_numel(const view *v) {
  int64_t n = 1;
  for (int a = 0; a < v->rank; a++) n *= v->dims[a];
  return n;
}

/* Drops size-1 axes and merges axes that are contiguous with the next. */
static void view_simplify(view *v) {
  int r = 0;
  for (int a = 0; a < v->rank; a++) {
    int64_t d = v->dims[a], s = v->stride[a];
    if (d == 1) continue;
    if (r > 0 && v->stride[r - 1] == s * d) {
      /* the previous (outer) axis steps over exactly this one: merge */
      v->dims[r - 1] *= d;
      v->stride[r - 1] = s;
      continue;
    }
    v->dims[r] = d;
    v->stride[r] = s;
    r++;
  }
  v->rank = r;
}

static void thread_count_for(size_t bytes, int nthreads, int *nt) {
  *nt = (nthreads > 1 && bytes >= PAR_MIN_BYTES) ? nthreads : 1;
}

/* n elements from src (stride s elements) to contiguous dst. */
static void copy_row(uint8_t *dst, const uint8_t *src, int64_t n, int64_t s, size_t es) {
  if (s == 1) {
    memcpy(dst, src, (size_t)n * es);
    return;
  }
#define ROW(T)                                                      \
  do {                                                              \
    T *d = (T *)dst;                                                \
    const T *sp = (const T *)src;                                   \
    if (s == 0) {                                                   \
      T v = sp[0];                                                  \
      for (int64_t i = 0; i < n; i++) d[i] = v;                     \
    } else {                                                        \
      for (int64_t i = 0; i < n; i++) d[i] = sp[i * s];             \
    }                                                               \
  } while (0)
  switch (es) {
    case 1: ROW(uint8_t); break;
    case 2: ROW(uint16_t); break;
    case 4: ROW(uint32_t); break;
    case 8: ROW(uint64_t); break;
    default:
      for (int64_t i = 0; i < n; i++) memcpy(dst + (size_t)i * es, src + i * s * (int64_t)es, es);
      break;
  }
#undef ROW
}

/* Rows [r0, r1) of a simplified view (rank >= 1): each row is the last axis. */
static void view_rows(const uint8_t *in, uint8_t *out, const view *v, size_t es, int64_t r0,
                      int64_t r1) {
  int outer = v->rank - 1;
  int64_t n = v->dims[outer], s = v->stride[outer];
  int64_t idx[VIEW_MAX], off = 0, t = r0;
  for (int a = outer - 1; a >= 0; a--) {
    idx[a] = t % v->dims[a];
    t /= v->dims[a];
    off += idx[a] * v->stride[a];
  }
  uint8_t *o = out + (size_t)(r0 * n) * es;
  for (int64_t row = r0; row < r1; row++) {
    copy_row(o, in + off * (int64_t)es, n, s, es);
    o += (size_t)n * es;
    for (int a = outer - 1; a >= 0; a--) {
      off += v->stride[a];
      if (++idx[a] < v->dims[a]) break;
      off -= v->stride[a] * v->dims[a];
      idx[a] = 0;
    }
  }
}

enum { TILE = 32 };

/* Block of a 2-D transpose: out[j * ostride + i] = in[j + i * s] for
 * j < nj, i < ni (both <= TILE). The input rows are first copied whole into
 * a local buffer: reading them strided would put every line of the block in
 * the same cache set when s is a power of two. */
static void transpose_block(const uint8_t *in, uint8_t *out, int64_t nj, int64_t ni, int64_t s,
                            int64_t ostride, size_t es) {
  uint64_t buf[TILE * TILE];
  for (int64_t i = 0; i < ni; i++)
    memcpy((uint8_t *)buf + (size_t)(i * nj) * es, in + i * s * (int64_t)es, (size_t)nj * es);
#define BLK(T)                                                      \
  do {                                                              \
    const T *b = (const T *)buf;                                    \
    T *dst = (T *)out;                                              \
    if (nj == TILE && ni == TILE) {                                 \
      for (int j = 0; j < TILE; j++) {                              \
        T *d = dst + j * ostride;                                   \
        for (int i = 0; i < TILE; i++) d[i] = b[i * TILE + j];      \
      }                                                             \
    } else {                                                        \
      for (int64_t j = 0; j < nj; j++) {                            \
        T *d = dst + j * ostride;                                   \
        for (int64_t i = 0; i < ni; i++) d[i] = b[i * nj + j];      \
      }                                                             \
    }                                                               \
  } while (0)
  switch (es) {
    case 1: BLK(uint8_t); break;
    case 2: BLK(uint16_t); break;
    case 4: BLK(uint32_t); break;
    default: BLK(uint64_t); break;
  }
#undef BLK
}

/* view_transpose's work: items are (outer index, block of axis j). */
typedef struct transpose_task {
  const uint8_t *in;
  uint8_t *out;
  const view *v;
  const int64_t *ostride;
  int j;
  size_t es;
  int64_t jblocks;
} transpose_task;

static void transpose_items(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const transpose_task *k = arg;
  const view *v = k->v;
  const int j = k->j, last = v->rank - 1;
  const size_t es = k->es;
  const int64_t nj = v->dims[j], ni = v->dims[last], s = v->stride[last];
  for (int64_t it = begin; it < end; it++) {
    int64_t jb = it % k->jblocks, t = it / k->jblocks, ioff = 0, ooff = 0;
    for (int a = last - 1; a >= 0; a--) {
      if (a == j) continue;
      int64_t q = t % v->dims[a];
      t /= v->dims[a];
      ioff += q * v->stride[a];
      ooff += q * k->ostride[a];
    }
    int64_t j0 = jb * TILE, jn = nj - j0 < TILE ? nj - j0 : TILE;
    for (int64_t i0 = 0; i0 < ni; i0 += TILE) {
      int64_t in_n = ni - i0 < TILE ? ni - i0 : TILE;
      transpose_block(k->in + (ioff + j0 + i0 * s) * (int64_t)es,
                      k->out + (size_t)(ooff + j0 * k->ostride[j] + i0) * es, jn, in_n, s,
                      k->ostride[j], es);
    }
  }
}

/* The view's last axis reads with stride s != 0, 1 and axis j reads the
 * input's contiguous axis: copy in TILE x TILE blocks over (j, last). */
static void view_transpose(const uint8_t *in, uint8_t *out, const view *v, int j, size_t es,
                           cpu_pool *pool, int nthreads) {
  int last = v->rank - 1;
  int64_t ostride[VIEW_MAX];
  ostride[last] = 1;
  for (int a = last - 1; a >= 0; a--) ostride[a] = ostride[a + 1] * v->dims[a + 1];
  int64_t nj = v->dims[j];
  int64_t jblocks = (nj + TILE - 1) / TILE;
  int64_t outer = 1;
  for (int a = 0; a < last; a++)
    if (a != j) outer *= v->dims[a];
  int nt;
  thread_count_for((size_t)view_numel(v) * es, nthreads, &nt);
  transpose_task k = {
      .in = in, .out = out, .v = v, .ostride = ostride, .j = j, .es = es, .jblocks = jblocks};
  cpu_parallel_for(pool, nt, outer * jblocks, 1, transpose_items, &k);
}

typedef struct rows_task {
  const uint8_t *in;
  uint8_t *out;
  const view *v;
  size_t es;
} rows_task;

static void rows_items(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const rows_task *k = arg;
  view_rows(k->in, k->out, k->v, k->es, begin, end);
}

/* Writes the view of `in` (already offset to the view's origin) into the
 * contiguous `out`. */
static void view_copy(const uint8_t *in, uint8_t *out, view v, size_t es, cpu_pool *pool,
                      int nthreads) {
  for (int a = 0; a < v.rank; a++)
    if (v.dims[a] == 0) return;
  view_simplify(&v);
  if (v.rank == 0) {
    memcpy(out, in, es);
    return;
  }
  int last = v.rank - 1;
  int64_t s = v.stride[last];
  if (s != 0 && s != 1 && v.dims[last] >= 4) {
    for (int j = 0; j < last; j++)
      if (v.stride[j] == 1 && v.dims[j] >= 4) {
        view_transpose(in, out, &v, j, es, pool, nthreads);
        return;
      }
  }
  int64_t rows = view_numel(&v) / v.dims[last];
  int nt;
  thread_count_for((size_t)view_numel(&v) * es, nthreads, &nt);
  rows_task k = {.in = in, .out = out, .v = &v, .es = es};
  cpu_parallel_for(pool, nt, rows, 1, rows_items, &k);
}

/* Contiguous strides of a shape (elements). */
static void strides_of(int rank, const int64_t *dims, int64_t *st) {
  int64_t s = 1;
  for (int a = rank - 1; a >= 0; a--) {
    st[a] = s;
    s *= dims[a];
  }
}

static int64_t prod(const int64_t *dims, int from, int to) {
  int64_t n = 1;
  for (int a = from; a < to; a++) n *= dims[a];
  return n;
}

/* ---------------------------------------------------------------- Concat */

static clcnn_status concat_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                               int nout, clcnn_err *err) {
  (void)nout, (void)err;
  const concat_params *p = cn->n->params;
  size_t es = dtype_size(out[0].dtype);
  int axis = p->axis;
  int64_t outer = prod(out[0].dims, 0, axis);
  size_t inner = (size_t)prod(out[0].dims, axis + 1, out[0].rank) * es;
  size_t orow = (size_t)out[0].dims[axis] * inner;
  uint8_t *dst = out[0].data;
  size_t at = 0;
  for (int i = 0; i < nin; i++) {
    size_t irow = (size_t)in[i].dims[axis] * inner;
    const uint8_t *src = in[i].data;
    if (irow) {
      for (int64_t o = 0; o < outer; o++)
        memcpy(dst + (size_t)o * orow + at, src + (size_t)o * irow, irow);
    }
    at += irow;
  }
  return CLCNN_OK;
}

/* ----------------------------------------------------------------- Split */

static clcnn_status split_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                              int nout, clcnn_err *err) {
  (void)nin, (void)err;
  const split_params *p = cn->n->params;
  size_t es = dtype_size(in[0].dtype);
  int axis = p->axis;
  int64_t outer = prod(in[0].dims, 0, axis);
  size_t inner = (size_t)prod(in[0].dims, axis + 1, in[0].rank) * es;
  size_t irow = (size_t)in[0].dims[axis] * inner;
  const uint8_t *src = in[0].data;
  size_t at = 0;
  for (int k = 0; k < nout; k++) {
    size_t orow = (size_t)out[k].dims[axis] * inner;
    if (out[k].data && orow) {
      uint8_t *dst = out[k].data;
      for (int64_t o = 0; o < outer; o++)
        memcpy(dst + (size_t)o * orow, src + (size_t)o * irow + at, orow);
    }
    at += orow;
  }
  return CLCNN_OK;
}

/* ----------------------------------------------------------------- Slice */

static clcnn_status slice_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                              int nout, clcnn_err *err) {
  (void)nin, (void)nout, (void)err;
  const slice_params *p = cn->n->params;
  size_t es = dtype_size(in[0].dtype);
  int64_t st[CLCNN_MAX_RANK];
  strides_of(in[0].rank, in[0].dims, st);
  view v = {.rank = out[0].rank};
  int64_t origin = 0;
  for (int a = 0; a < v.rank; a++) {
    v.dims[a] = out[0].dims[a];
    v.stride[a] = p->step[a] * st[a];
    if (v.dims[a]) origin += p->start[a] * st[a];
  }
  if (clcnn_tensor_numel(&out[0]) == 0) return CLCNN_OK;
  view_copy((const uint8_t *)in[0].data + origin * (int64_t)es, out[0].data, v, es, cn->pool,
            cn->nthreads);
  return CLCNN_OK;
}

/* ------------------------------------------------------------- Transpose */

static clcnn_status transpose_run(cpu_node *cn, const clcnn_tensor *in, int nin,
                                  clcnn_tensor *out, int nout, clcnn_err *err) {
  (void)nin, (void)nout, (void)err;
  const transpose_params *p = cn->n->params;
  size_t es = dtype_size(in[0].dtype);
  int64_t st[CLCNN_MAX_RANK];
  strides_of(in[0].rank, in[0].dims, st);
  view v = {.rank = p->rank};
  for (int i = 0; i < p->rank; i++) {
    v.dims[i] = in[0].dims[p->perm[i]];
    v.stride[i] = st[p->perm[i]];
  }
  view_copy(in[0].data, out[0].data, v, es, cn->pool, cn->nthreads);
  return CLCNN_OK;
}

/* ---------------------------------------------------------------- Expand */

static clcnn_status expand_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                               int nout, clcnn_err *err) {
  (void)nin, (void)nout, (void)err;
  size_t es = dtype_size(in[0].dtype);
  int r = out[0].rank, ri = in[0].rank;
  int64_t st[CLCNN_MAX_RANK];
  strides_of(ri, in[0].dims, st);
  view v = {.rank = r};
  for (int a = 0; a < r; a++) {
    int ia = a - (r - ri);
    v.dims[a] = out[0].dims[a];
    v.stride[a] = (ia < 0 || in[0].dims[ia] == 1) ? 0 : st[ia];
  }
  view_copy(in[0].data, out[0].data, v, es, cn->pool, cn->nthreads);
  return CLCNN_OK;
}

/* ------------------------------------------------------------------ Tile */

static clcnn_status tile_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                             int nout, clcnn_err *err) {
  (void)nin, (void)nout, (void)err;
  const tile_params *p = cn->n->params;
  size_t es = dtype_size(in[0].dtype);
  int r = in[0].rank;
  int64_t st[CLCNN_MAX_RANK];
  strides_of(r, in[0].dims, st);
  /* Output axis a of size rep*d splits into (rep, d) with strides (0, st). */
  view v = {.rank = 2 * r};
  for (int a = 0; a < r; a++) {
    v.dims[2 * a] = p->repeats[a];
    v.stride[2 * a] = 0;
    v.dims[2 * a + 1] = in[0].dims[a];
    v.stride[2 * a + 1] = st[a];
  }
  view_copy(in[0].data, out[0].data, v, es, cn->pool, cn->nthreads);
  return CLCNN_OK;
}

/* ---------------------------------------------------------------- Gather */

static clcnn_status gather_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                               int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  const gather_params *p = cn->n->params;
  const clcnn_tensor *x = &in[0], *ind = &in[1];
  size_t es = dtype_size(x->dtype);
  int axis = p->axis;
  int64_t outer = prod(x->dims, 0, axis), n = x->dims[axis];
  size_t inner = (size_t)prod(x->dims, axis + 1, x->rank) * es;
  int64_t nidx = clcnn_tensor_numel(ind);
  bool i64 = ind->dtype == CLCNN_DTYPE_INT64;
  for (int64_t k = 0; k < nidx; k++) {
    int64_t v = i64 ? ((const int64_t *)ind->data)[k] : ((const int32_t *)ind->data)[k];
    if (v < -n || v >= n)
      return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "Gather: index %lld is out of range [%lld, %lld)",
                     (long long)v, (long long)-n, (long long)n);
  }
  const uint8_t *src = x->data;
  uint8_t *dst = out[0].data;
  for (int64_t o = 0; o < outer; o++) {
    const uint8_t *base = src + (size_t)(o * n) * inner;
    for (int64_t k = 0; k < nidx; k++) {
      int64_t v = i64 ? ((const int64_t *)ind->data)[k] : ((const int32_t *)ind->data)[k];
      if (v < 0) v += n;
      const uint8_t *s = base + (size_t)v * inner;
      switch (inner) {
        case 4: memcpy(dst, s, 4); break;
        case 8: memcpy(dst, s, 8); break;
        default: memcpy(dst, s, inner); break;
      }
      dst += inner;
    }
  }
  return CLCNN_OK;
}

/* ------------------------------------------------------------------- Pad */

/* Input index of output index o along an axis of size d, or -1 for the
 * constant. */
static int64_t pad_map(int mode, int64_t o, int64_t begin, int64_t d) {
  int64_t i = o - begin;
  if (i >= 0 && i < d) return i;
  switch (mode) {
    case PAD_EDGE: return i < 0 ? 0 : d - 1;
    case PAD_WRAP: {
      int64_t m = i % d;
      return m < 0 ? m + d : m;
    }
    case PAD_REFLECT: {
      if (d == 1) return 0;
      int64_t period = 2 * (d - 1), m = i % period;
      if (m < 0) m += period;
      return m < d ? m : period - m;
    }
    default: return -1;
  }
}

static void fill_elems(uint8_t *dst, int64_t n, const uint8_t *val, size_t es) {
  copy_row(dst, val, n, 0, es);
}

static clcnn_status pad_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                            int nout, clcnn_err *err) {
  (void)nout;
  const pad_params *p = cn->n->params;
  size_t es = dtype_size(in[0].dtype);
  int r = in[0].rank;
  const int64_t *d = in[0].dims, *od = out[0].dims;
  int64_t total = clcnn_tensor_numel(&out[0]);
  if (total == 0) return CLCNN_OK;
  uint8_t cval[8];
  memcpy(cval, p->value, 8);
  if (p->value_from_input && nin > 2 && in[2].data) memcpy(cval, in[2].data, es);
  const uint8_t *src = in[0].data;
  uint8_t *dst = out[0].data;
  if (r == 0) {
    memcpy(dst, src, es);
    return CLCNN_OK;
  }
  /* Per-axis maps from output to input index (-1: constant). */
  int64_t nmap = 0, at[CLCNN_MAX_RANK];
  for (int a = 0; a < r; a++) {
    at[a] = nmap;
    nmap += od[a];
  }
  int64_t *map = malloc(sizeof(int64_t) * (size_t)nmap);
  if (!map) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "Pad: out of memory");
  for (int a = 0; a < r; a++)
    for (int64_t o = 0; o < od[a]; o++) map[at[a] + o] = pad_map(p->mode, o, p->begin[a], d[a]);
  int64_t st[CLCNN_MAX_RANK];
  strides_of(r, d, st);
  int last = r - 1;
  int64_t n = od[last];
  const int64_t *lmap = map + at[last];
  /* The output range of the last axis that copies a contiguous input run. */
  int64_t lo = p->begin[last] > 0 ? p->begin[last] : 0;
  if (lo > n) lo = n; /* a negative end pad crops into the begin pad */
  int64_t hi = d[last] + p->begin[last];
  if (hi > n) hi = n;
  if (hi < lo) hi = lo;
  int64_t rows = total / n;
  int64_t idx[CLCNN_MAX_RANK] = {0};
  for (int64_t row = 0; row < rows; row++) {
    int64_t off = 0;
    bool constant = false;
    for (int a = 0; a < last; a++) {
      int64_t m = map[at[a] + idx[a]];
      if (m < 0) constant = true;
      off += m * st[a];
    }
    uint8_t *o = dst + (size_t)(row * n) * es;
    if (constant) {
      fill_elems(o, n, cval, es);
    } else {
      const uint8_t *srow = src + (size_t)off * es;
      for (int64_t k = 0; k < lo; k++) {
        if (lmap[k] < 0) memcpy(o + (size_t)k * es, cval, es);
        else memcpy(o + (size_t)k * es, srow + (size_t)lmap[k] * es, es);
      }
      if (hi > lo)
        memcpy(o + (size_t)lo * es, srow + (size_t)(lo - p->begin[last]) * es,
               (size_t)(hi - lo) * es);
      for (int64_t k = hi; k < n; k++) {
        if (lmap[k] < 0) memcpy(o + (size_t)k * es, cval, es);
        else memcpy(o + (size_t)k * es, srow + (size_t)lmap[k] * es, es);
      }
    }
    for (int a = last - 1; a >= 0; a--) {
      if (++idx[a] < od[a]) break;
      idx[a] = 0;
    }
  }
  free(map);
  return CLCNN_OK;
}

/* ------------------------------------------------ DepthToSpace/SpaceToDepth */

/* Both are a transpose of a 6-D view of the input (see ops/layout.h). */
static clcnn_status depth_space_run(cpu_node *cn, const clcnn_tensor *in, int nin,
                                    clcnn_tensor *out, int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  const depth_space_params *p = cn->n->params;
  if (in[0].rank != 4 || out[0].rank != 4)
    return err_set(err, CLCNN_ERROR_INTERNAL, "expects 4-D tensors");
  const size_t es = dtype_size(in[0].dtype);
  const int64_t b = p->blocksize, *d = in[0].dims;
  const int64_t sn = d[1] * d[2] * d[3], sc = d[2] * d[3], sh = d[3];
  view v = {.rank = 6};
  if (cn->n->op == CLCNN_OP_DEPTH_TO_SPACE) {
    /* output [N, C', H, b (i), W, b (j)] */
    const int64_t c2 = d[1] / (b * b);
    const int64_t dims[6] = {d[0], c2, d[2], b, d[3], b};
    const int64_t st[6] = {sn, p->crd ? b * b * sc : sc, sh, p->crd ? b * sc : b * c2 * sc, 1,
                           p->crd ? sc : c2 * sc};
    memcpy(v.dims, dims, sizeof dims);
    memcpy(v.stride, st, sizeof st);
  } else {
    /* output [N, b (i), b (j), C, H / b, W / b] */
    const int64_t dims[6] = {d[0], b, b, d[1], d[2] / b, d[3] / b};
    const int64_t st[6] = {sn, sh, 1, sc, b * sh, b};
    memcpy(v.dims, dims, sizeof dims);
    memcpy(v.stride, st, sizeof st);
  }
  view_copy(in[0].data, out[0].data, v, es, cn->pool, cn->nthreads);
  return CLCNN_OK;
}

/* ----------------------------------------------------------------- table */

static const cpu_op concat_cpu = {NULL, NULL, concat_run, NULL};
static const cpu_op split_cpu = {NULL, NULL, split_run, NULL};
static const cpu_op slice_cpu = {NULL, NULL, slice_run, NULL};
static const cpu_op transpose_cpu = {NULL, NULL, transpose_run, NULL};
static const cpu_op gather_cpu = {NULL, NULL, gather_run, NULL};
static const cpu_op tile_cpu = {NULL, NULL, tile_run, NULL};
static const cpu_op expand_cpu = {NULL, NULL, expand_run, NULL};
static const cpu_op pad_cpu = {NULL, NULL, pad_run, NULL};
static const cpu_op depth_space_cpu = {NULL, NULL, depth_space_run, NULL};

const cpu_op *const cpu_ops_layout[CLCNN_OP_COUNT] = {
    [CLCNN_OP_CONCAT] = &concat_cpu,       [CLCNN_OP_SPLIT] = &split_cpu,
    [CLCNN_OP_SLICE] = &slice_cpu,         [CLCNN_OP_TRANSPOSE] = &transpose_cpu,
    [CLCNN_OP_GATHER] = &gather_cpu,       [CLCNN_OP_TILE] = &tile_cpu,
    [CLCNN_OP_EXPAND] = &expand_cpu,       [CLCNN_OP_PAD] = &pad_cpu,
    [CLCNN_OP_DEPTH_TO_SPACE] = &depth_space_cpu,
    [CLCNN_OP_SPACE_TO_DEPTH] = &depth_space_cpu,
};
