/* OpenCL backend: the layout family (Concat, Split, Slice, Transpose, Gather,
 * Tile, Expand, Pad). Kernels in kernels/layout.cl.
 *
 * Everything here moves elements without looking at them, so every data
 * type of 1, 2, 4 or 8 bytes runs on the device (float32 is what matters;
 * int64 and bool come along for free).
 *
 * Slice, Transpose, Expand and Tile are one strided copy: the output is
 * walked in order and each axis adds index * stride to the source position
 * (negative strides for reversed slices, 0 for broadcast axes, a Tile axis
 * split into repeat x size with the repeat at stride 0). The host merges
 * adjacent axes that are contiguous on both sides, so that most copies
 * become two or three axes with a contiguous (vectorised) innermost one. A
 * transpose that moves the innermost axis goes to a tiled kernel instead. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../ocl.h"
#include "../../runtime/ops/layout.h"
#include "../kernel_options.h"

/* ------------------------------------------------------------ helpers */

#define ND_MAX 16 /* axes of a strided copy: Tile splits each of 8 axes in two */

/* An iteration over `rank` axes (outermost first): position i_k along axis
 * k reads source element src_base + sum i_k * src[k] and writes destination
 * element sum i_k * dst[k]. */
typedef struct nd_map {
  int rank;
  int64_t dims[ND_MAX];
  int64_t src[ND_MAX];
  int64_t dst[ND_MAX];
  int64_t src_base;
} nd_map;

/* Row-major strides of a contiguous tensor. */
static void contiguous_strides(int rank, const int64_t *dims, int64_t *strides) {
  int64_t s = 1;
  for (int a = rank - 1; a >= 0; a--) {
    strides[a] = s;
    s *= dims[a];
  }
}

/* Drops axes of size 1 and merges each axis into its inner neighbour where
 * both the source and the destination walk them as one. Leaves at least one
 * axis. */
static void nd_collapse(nd_map *m) {
  int r = 0;
  for (int k = 0; k < m->rank; k++) {
    if (m->dims[k] == 1) continue;
    m->dims[r] = m->dims[k];
    m->src[r] = m->src[k];
    m->dst[r] = m->dst[k];
    r++;
  }
  if (r == 0) {
    m->rank = 1;
    m->dims[0] = 1;
    m->src[0] = m->dst[0] = 1;
    return;
  }
  /* Merge from the inside out: axis k joins axis k + 1. */
  int w = r - 1;
  int64_t dims[ND_MAX], src[ND_MAX], dst[ND_MAX];
  dims[w] = m->dims[r - 1];
  src[w] = m->src[r - 1];
  dst[w] = m->dst[r - 1];
  for (int k = r - 2; k >= 0; k--) {
    if (m->src[k] == src[w] * dims[w] && m->dst[k] == dst[w] * dims[w]) {
      dims[w] *= m->dims[k];
      continue;
    }
    w--;
    dims[w] = m->dims[k];
    src[w] = m->src[k];
    dst[w] = m->dst[k];
  }
  m->rank = r - w;
  for (int k = 0; k < m->rank; k++) {
    m->dims[k] = dims[w + k];
    m->src[k] = src[w + k];
    m->dst[k] = dst[w + k];
  }
}

/* Elements one work-item moves: 64 bytes on CPUs (a cache line; PoCL
 * vectorises within it), 16 bytes on GPUs so that neighbouring work-items
 * touch neighbouring addresses. Always 2..16 (vload2..vload16). */
static int vec_width(const ocl_node *on, size_t es) {
  int bytes = ocl_gpu_variant(on) ? 16 : 64;
  int vw = bytes / (int)es;
  return vw < 2 ? 2 : vw > 16 ? 16 : vw;
}

static size_t ceil_div(int64_t a, int64_t b) { return (size_t)((a + b - 1) / b); }

/* "-DT=uint -DVW=16" for the node's element size. */
static void type_options(const ocl_node *on, size_t es, char *opts, size_t len, int *vw) {
  *vw = vec_width(on, es);
  ocl_opt(opts, len, "-DT=%s -DVW=%d", ocl_bits_type(es), *vw);
}

/* Shared checks: element sizes the kernels move, sizes that int indices
 * reach. */
static const char *check_io(const ir_graph *g, const ir_node *n, int data_inputs) {
  for (int i = 0; i < data_inputs && i < n->nin; i++) {
    const ir_value *v = ir_in(g, n, i);
    if (!v) continue;
    if (!ocl_bits_type(dtype_size(v->t.dtype))) return "this data type is not supported on OpenCL";
    if (shape_numel(v->t.rank, v->t.dims) >= INT_MAX)
      return "tensors of 2^31 elements or more are not supported on OpenCL";
  }
  for (int k = 0; k < n->nout; k++) {
    const ir_value *v = ir_out(g, n, k);
    if (!v) continue;
    if (!ocl_bits_type(dtype_size(v->t.dtype))) return "this data type is not supported on OpenCL";
    if (shape_numel(v->t.rank, v->t.dims) >= INT_MAX)
      return "tensors of 2^31 elements or more are not supported on OpenCL";
  }
  return NULL;
}

/* One kernel over a fixed range: everything but Concat and Split. */
typedef struct single_state {
  cl_kernel k;
  cl_uint work_dim;
  size_t global[3];
  size_t local[3];
  bool has_local;
  bool empty;   /* nothing to write */
  cl_mem idx;   /* Gather: the indices */
} single_state;

/* The node's state, or NULL (out of memory, err set). */
static single_state *single_alloc(ocl_node *on, clcnn_err *err) {
  single_state *s = calloc(1, sizeof *s);
  if (!s) err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  on->state = s;
  return s;
}

static clcnn_status single_enqueue(ocl_node *on, single_state *s, clcnn_err *err) {
  return ocl_enqueue(on, s->k, s->work_dim, s->global, s->has_local ? s->local : NULL, err);
}

/* Builds the strided copy of a (collapsed) map whose destination is the
 * whole contiguous output: the tiled transpose when the innermost output
 * axis is strided in the source and another axis is contiguous there, else
 * strided_copy_nd_any. */
static clcnn_status prepare_strided(ocl_node *on, nd_map *m, size_t es, clcnn_err *err) {
  single_state *s = single_alloc(on, err);
  if (!s) return err->status;
  nd_collapse(m);
  int r = m->rank, inner = r - 1;
  char opts[2048] = "";
  int vw;
  type_options(on, es, opts, sizeof opts, &vw);
  /* An axis that is contiguous in the source, for the tiled transpose. */
  int q = -1;
  if (m->src[inner] != 1 && m->src[inner] != 0 && m->dims[inner] >= 8)
    for (int k = 0; k < inner; k++)
      if (m->src[k] == 1 && m->dims[k] >= 8) q = k;
  int64_t outer = 1;
  for (int k = 0; k < inner; k++)
    if (k != q) outer *= m->dims[k];
  ocl_opt(opts, sizeof opts, "-DDI=%lld -DSI=%lld -DSB=%lld -DOUTER=%lld",
          (long long)m->dims[inner], (long long)m->src[inner], (long long)m->src_base,
          (long long)outer);
  int slot = 1;
  for (int k = inner - 1; k >= 0; k--) {
    if (k == q) continue;
    ocl_opt(opts, sizeof opts, "-DD%d=%lld -DS%d=%lld", slot, (long long)m->dims[k], slot,
            (long long)m->src[k]);
    if (q >= 0) ocl_opt(opts, sizeof opts, "-DT%d=%lld", slot, (long long)m->dst[k]);
    slot++;
  }
  if (q < 0) {
    s->work_dim = 2;
    s->global[0] = ceil_div(m->dims[inner], vw);
    s->global[1] = (size_t)outer;
    return ocl_kernel(on, "layout.cl", "strided_copy_nd_any", opts, &s->k, err);
  }
  ocl_opt(opts, sizeof opts, "-DDQ=%lld -DTQ=%lld", (long long)m->dims[q], (long long)m->dst[q]);
  s->work_dim = 3;
  s->global[2] = (size_t)outer;
  const ocl_device_info *dev = ocl_node_device(on);
  if (ocl_gpu_variant(on) && dev->max_work_group_size >= 64) {
    int ts = dev->max_work_group_size >= 256 ? 32 : 16;
    ocl_opt(opts, sizeof opts, "-DTS=%d", ts);
    s->has_local = true;
    s->local[0] = (size_t)ts;
    s->local[1] = (size_t)ts / 4;
    s->local[2] = 1;
    s->global[0] = ceil_div(m->dims[inner], ts) * (size_t)ts;
    s->global[1] = ceil_div(m->dims[q], ts) * (size_t)ts / 4;
    return ocl_kernel(on, "layout.cl", "transpose_local_nd_any", opts, &s->k, err);
  }
  s->global[0] = ceil_div(m->dims[inner], 8);
  s->global[1] = ceil_div(m->dims[q], 8);
  return ocl_kernel(on, "layout.cl", "transpose_tile8_nd_any", opts, &s->k, err);
}

/* x -> y through the prepared single kernel (x, x_off, y, y_off). */
static clcnn_status run_xy(ocl_node *on, const ocl_tensor *in, int nin, const ocl_tensor *out,
                           int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  single_state *s = on->state;
  if (s->empty) return CLCNN_OK;
  cl_uint xo = ocl_elem_offset(&in[0]), yo = ocl_elem_offset(&out[0]);
  clcnn_status st = ocl_args(s->k, err, sizeof(cl_mem), &in[0].mem, sizeof(cl_uint), &xo,
                             sizeof(cl_mem), &out[0].mem, sizeof(cl_uint), &yo, (size_t)0);
  return st ? st : single_enqueue(on, s, err);
}

static bool out_empty(const ocl_node *on) {
  const ir_value *y = ir_out(on->g, on->n, 0);
  return shape_numel(y->t.rank, y->t.dims) == 0;
}

static clcnn_status prepare_empty(ocl_node *on, clcnn_err *err) {
  single_state *s = single_alloc(on, err);
  if (!s) return err->status;
  s->empty = true;
  return CLCNN_OK;
}

/* ---------------------------------------------------- Concat and Split */

/* Concat and Split move slabs: part k is rows x cols elements (cols = its
 * size along the axis times the inner size), a column range of the big
 * tensor (Concat's output, Split's input) seen as rows x stride.
 *
 * When every part lives in the same buffer as the big tensor (the arena:
 * always, unless a part is a constant) one launch of parts_copy_any moves
 * them all, reading a small table of (part offset, cols, column start):
 * a DenseNet block concatenates dozens of tensors, and a launch costs
 * microseconds. The table holds arena offsets, known only at the first
 * run; it is written then, once (the offsets of a session never change).
 * Otherwise, or when parts are too unequal for one range to suit them all,
 * each part is one launch of copy2d_rows_any. */

/* The one-launch path pays for the widest part in every part's slot: use
 * it when the parts fill at least a quarter of that range. */
#define PARTS_MIN_FILL 4

/* Inputs or outputs one device node may have (the session's limit). */
#define MAX_PARTS 64

typedef struct slab {
  cl_uint cols, start; /* columns of the part; its first column in the big tensor */
} slab;

typedef struct slabs_state {
  cl_kernel k;        /* copy2d_rows_any */
  cl_kernel kmulti;   /* parts_copy_any, or NULL */
  cl_mem table;       /* parts_copy_any's table: 3 cl_uint per part */
  cl_uint *table_host; /* what was written to `table` (kept for the write) */
  bool table_written;
  bool concat;
  int vw;
  cl_uint rows, stride, max_cols;
  int n;
  slab s[];
} slabs_state;

static void slabs_release(ocl_node *on) {
  slabs_state *s = on->state;
  if (s) free(s->table_host);
  free(s);
  on->state = NULL;
}

/* Concat (concat = true) and Split: `count` parts along `axis` of `big`;
 * part k has size sizes[k] along the axis. */
static clcnn_status prepare_slabs(ocl_node *on, const ir_value *big, int axis, int count,
                                  const int64_t *sizes, bool concat, clcnn_err *err) {
  slabs_state *s = calloc(1, sizeof *s + sizeof(slab) * (size_t)count);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  on->state = s;
  int64_t rows = 1, inner = 1;
  for (int a = 0; a < axis; a++) rows *= big->t.dims[a];
  for (int a = axis + 1; a < big->t.rank; a++) inner *= big->t.dims[a];
  s->concat = concat;
  s->rows = (cl_uint)rows;
  s->stride = (cl_uint)(big->t.dims[axis] * inner);
  s->n = count;
  int64_t at = 0, filled = 0, nonempty = 0;
  for (int k = 0; k < count; k++) {
    int64_t cols = sizes[k] * inner;
    s->s[k].cols = (cl_uint)cols;
    s->s[k].start = (cl_uint)at;
    if (cols > (int64_t)s->max_cols) s->max_cols = (cl_uint)cols;
    filled += cols;
    nonempty += cols > 0;
    at += cols;
  }
  char opts[128] = "";
  type_options(on, value_elem_bytes(big), opts, sizeof opts, &s->vw);
  clcnn_status st = ocl_kernel(on, "layout.cl", "copy2d_rows_any", opts, &s->k, err);
  if (st || nonempty < 2 || rows == 0 || filled * PARTS_MIN_FILL < nonempty * (int64_t)s->max_cols)
    return st;
  char mopts[128] = "";
  type_options(on, value_elem_bytes(big), mopts, sizeof mopts, &s->vw);
  if (!concat) ocl_opt(mopts, sizeof mopts, "-DSPLIT");
  s->table_host = malloc(sizeof(cl_uint) * 3 * (size_t)count);
  if (!s->table_host) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  if ((st = ocl_upload(on, NULL, sizeof(cl_uint) * 3 * (size_t)count, &s->table, err))) return st;
  return ocl_kernel(on, "layout.cl", "parts_copy_any", mopts, &s->kmulti, err);
}

/* Part k between its tensor t and the big tensor b, with copy2d_rows_any. */
static clcnn_status run_slab(ocl_node *on, slabs_state *s, int k, const ocl_tensor *t,
                             const ocl_tensor *b, clcnn_err *err) {
  const slab *p = &s->s[k];
  if (!s->rows || !p->cols) return CLCNN_OK;
  const ocl_tensor *x = s->concat ? t : b, *y = s->concat ? b : t;
  cl_uint xo = ocl_elem_offset(x) + (s->concat ? 0 : p->start);
  cl_uint yo = ocl_elem_offset(y) + (s->concat ? p->start : 0);
  cl_uint xs = s->concat ? p->cols : s->stride, ys = s->concat ? s->stride : p->cols;
  clcnn_status st = ocl_args(s->k, err, sizeof(cl_mem), &x->mem, sizeof(cl_uint), &xo,
                             sizeof(cl_uint), &xs, sizeof(cl_mem), &y->mem, sizeof(cl_uint), &yo,
                             sizeof(cl_uint), &ys, sizeof(cl_uint), &s->rows, sizeof(cl_uint),
                             &p->cols, (size_t)0);
  if (st) return st;
  size_t global[2] = {ceil_div(p->cols, s->vw), s->rows};
  return ocl_enqueue(on, s->k, 2, global, NULL, err);
}

/* All parts with one launch of parts_copy_any, when they share the big
 * tensor's buffer and their offsets are the ones in the table. Sets *done. */
static clcnn_status run_parts(ocl_node *on, slabs_state *s, const ocl_tensor *parts,
                              const ocl_tensor *b, bool *done, clcnn_err *err) {
  *done = false;
  if (!s->kmulti) return CLCNN_OK;
  cl_uint *want = s->table_host;
  bool same = s->table_written;
  for (int k = 0; k < s->n; k++) {
    if (s->s[k].cols && parts[k].mem != b->mem) return CLCNN_OK;
    cl_uint off = s->s[k].cols ? ocl_elem_offset(&parts[k]) : 0;
    if (!s->table_written) {
      want[3 * k] = off;
      want[3 * k + 1] = s->s[k].cols;
      want[3 * k + 2] = s->s[k].start;
    } else if (want[3 * k] != off) {
      same = false;
    }
  }
  if (s->table_written && !same) return CLCNN_OK; /* the table was for other offsets */
  if (!s->table_written) {
    /* Non-blocking: table_host lives as long as the node. */
    cl_int rc = clEnqueueWriteBuffer(ocl_node_queue(on), s->table, CL_FALSE, 0,
                                     sizeof(cl_uint) * 3 * (size_t)s->n, want, 0, NULL, NULL);
    if (rc != CL_SUCCESS)
      return err_set(err, CLCNN_ERROR_DEVICE, "clEnqueueWriteBuffer failed: %s (%d)",
                     ocl_error_str(rc), (int)rc);
    s->table_written = true;
  }
  cl_uint bo = ocl_elem_offset(b);
  clcnn_status st = ocl_args(s->kmulti, err, sizeof(cl_mem), &b->mem, sizeof(cl_mem), &s->table,
                             sizeof(cl_uint), &bo, sizeof(cl_uint), &s->stride, sizeof(cl_uint),
                             &s->rows, (size_t)0);
  if (st) return st;
  size_t global[3] = {ceil_div(s->max_cols, s->vw), s->rows, (size_t)s->n};
  *done = true;
  return ocl_enqueue(on, s->kmulti, 3, global, NULL, err);
}

static const char *concat_check(const ocl_device_info *dev, const ir_graph *g, const ir_node *n) {
  (void)dev;
  if (n->nin > MAX_PARTS) return "Concat of more than 64 inputs is not supported on OpenCL";
  return check_io(g, n, n->nin);
}

static clcnn_status concat_prepare(ocl_node *on, clcnn_err *err) {
  const concat_params *p = on->n->params;
  const ir_value *y = ir_out(on->g, on->n, 0);
  int64_t *sizes = malloc(sizeof(int64_t) * (size_t)on->n->nin);
  if (!sizes) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  for (int i = 0; i < on->n->nin; i++) sizes[i] = ir_in(on->g, on->n, i)->t.dims[p->axis];
  clcnn_status st = prepare_slabs(on, y, p->axis, on->n->nin, sizes, true, err);
  free(sizes);
  return st;
}

static clcnn_status concat_run(ocl_node *on, const ocl_tensor *in, int nin, const ocl_tensor *out,
                               int nout, clcnn_err *err) {
  (void)nout;
  slabs_state *s = on->state;
  if (nin != s->n)
    return err_set(err, CLCNN_ERROR_INTERNAL, "Concat: %d inputs, %d prepared", nin, s->n);
  bool done;
  clcnn_status st = run_parts(on, s, in, &out[0], &done, err);
  for (int i = 0; !st && !done && i < nin; i++) st = run_slab(on, s, i, &in[i], &out[0], err);
  return st;
}

static const char *split_check(const ocl_device_info *dev, const ir_graph *g, const ir_node *n) {
  (void)dev;
  if (n->nout > MAX_PARTS) return "Split into more than 64 outputs is not supported on OpenCL";
  return check_io(g, n, 1);
}

static clcnn_status split_prepare(ocl_node *on, clcnn_err *err) {
  const split_params *p = on->n->params;
  const ir_value *x = ir_in(on->g, on->n, 0);
  int64_t *sizes = malloc(sizeof(int64_t) * (size_t)on->n->nout);
  if (!sizes) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  for (int k = 0; k < on->n->nout; k++) sizes[k] = ir_out(on->g, on->n, k)->t.dims[p->axis];
  clcnn_status st = prepare_slabs(on, x, p->axis, on->n->nout, sizes, false, err);
  free(sizes);
  return st;
}

static clcnn_status split_run(ocl_node *on, const ocl_tensor *in, int nin, const ocl_tensor *out,
                              int nout, clcnn_err *err) {
  (void)nin;
  slabs_state *s = on->state;
  if (nout != s->n)
    return err_set(err, CLCNN_ERROR_INTERNAL, "Split: %d outputs, %d prepared", nout, s->n);
  bool done;
  clcnn_status st = run_parts(on, s, out, &in[0], &done, err);
  for (int k = 0; !st && !done && k < nout; k++)
    if (out[k].mem) st = run_slab(on, s, k, &out[k], &in[0], err);
  return st;
}

/* ----------------------------------------------------------------- Slice */

static const char *slice_check(const ocl_device_info *dev, const ir_graph *g, const ir_node *n) {
  (void)dev;
  return check_io(g, n, 1);
}

static clcnn_status slice_prepare(ocl_node *on, clcnn_err *err) {
  if (out_empty(on)) return prepare_empty(on, err);
  const slice_params *p = on->n->params;
  const ir_value *x = ir_in(on->g, on->n, 0), *y = ir_out(on->g, on->n, 0);
  nd_map m = {.rank = y->t.rank};
  int64_t xs[CLCNN_MAX_RANK];
  contiguous_strides(x->t.rank, x->t.dims, xs);
  contiguous_strides(y->t.rank, y->t.dims, m.dst);
  for (int a = 0; a < y->t.rank; a++) {
    m.dims[a] = y->t.dims[a];
    m.src[a] = p->step[a] * xs[a];
    m.src_base += p->start[a] * xs[a];
  }
  return prepare_strided(on, &m, value_elem_bytes(x), err);
}

/* ------------------------------------------------------------- Transpose */

static const char *transpose_check(const ocl_device_info *dev, const ir_graph *g,
                                   const ir_node *n) {
  (void)dev;
  return check_io(g, n, 1);
}

static clcnn_status transpose_prepare(ocl_node *on, clcnn_err *err) {
  if (out_empty(on)) return prepare_empty(on, err);
  const transpose_params *p = on->n->params;
  const ir_value *x = ir_in(on->g, on->n, 0), *y = ir_out(on->g, on->n, 0);
  nd_map m = {.rank = y->t.rank};
  int64_t xs[CLCNN_MAX_RANK];
  contiguous_strides(x->t.rank, x->t.dims, xs);
  contiguous_strides(y->t.rank, y->t.dims, m.dst);
  for (int a = 0; a < y->t.rank; a++) {
    m.dims[a] = y->t.dims[a];
    m.src[a] = xs[p->perm[a]];
  }
  return prepare_strided(on, &m, value_elem_bytes(x), err);
}

/* ---------------------------------------------------------------- Expand */

static const char *expand_check(const ocl_device_info *dev, const ir_graph *g, const ir_node *n) {
  (void)dev;
  return check_io(g, n, 1);
}

static clcnn_status expand_prepare(ocl_node *on, clcnn_err *err) {
  if (out_empty(on)) return prepare_empty(on, err);
  const ir_value *x = ir_in(on->g, on->n, 0), *y = ir_out(on->g, on->n, 0);
  nd_map m = {.rank = y->t.rank};
  int64_t xs[CLCNN_MAX_RANK];
  contiguous_strides(x->t.rank, x->t.dims, xs);
  contiguous_strides(y->t.rank, y->t.dims, m.dst);
  int lead = y->t.rank - x->t.rank;
  for (int a = 0; a < y->t.rank; a++) {
    m.dims[a] = y->t.dims[a];
    int b = a - lead;
    m.src[a] = b < 0 || x->t.dims[b] == 1 ? 0 : xs[b];
  }
  return prepare_strided(on, &m, value_elem_bytes(x), err);
}

/* ------------------------------------------------------------------ Tile */

static const char *tile_check(const ocl_device_info *dev, const ir_graph *g, const ir_node *n) {
  (void)dev;
  return check_io(g, n, 1);
}

static clcnn_status tile_prepare(ocl_node *on, clcnn_err *err) {
  if (out_empty(on)) return prepare_empty(on, err);
  const tile_params *p = on->n->params;
  const ir_value *x = ir_in(on->g, on->n, 0), *y = ir_out(on->g, on->n, 0);
  int64_t xs[CLCNN_MAX_RANK], ys[CLCNN_MAX_RANK];
  contiguous_strides(x->t.rank, x->t.dims, xs);
  contiguous_strides(y->t.rank, y->t.dims, ys);
  /* Output axis a of size repeats * d is walked as [repeats, d]. */
  nd_map m = {.rank = 2 * y->t.rank};
  for (int a = 0; a < y->t.rank; a++) {
    int64_t d = x->t.dims[a];
    m.dims[2 * a] = p->repeats[a];
    m.src[2 * a] = 0;
    m.dst[2 * a] = d * ys[a];
    m.dims[2 * a + 1] = d;
    m.src[2 * a + 1] = xs[a];
    m.dst[2 * a + 1] = ys[a];
  }
  return prepare_strided(on, &m, value_elem_bytes(x), err);
}

/* ---------------------------------------------------------------- Gather */

static const char *gather_check(const ocl_device_info *dev, const ir_graph *g, const ir_node *n) {
  (void)dev;
  const ir_value *idx = ir_in(g, n, 1);
  if (!idx || !idx->is_const || !idx->t.data)
    return "Gather runs on OpenCL only with constant indices";
  return check_io(g, n, 2);
}

static clcnn_status gather_prepare(ocl_node *on, clcnn_err *err) {
  if (out_empty(on)) return prepare_empty(on, err);
  const gather_params *p = on->n->params;
  const ir_value *x = ir_in(on->g, on->n, 0), *iv = ir_in(on->g, on->n, 1);
  single_state *s = single_alloc(on, err);
  if (!s) return err->status;
  clcnn_status st;
  int64_t go = 1, gi = 1, ga = x->t.dims[p->axis];
  for (int a = 0; a < p->axis; a++) go *= x->t.dims[a];
  for (int a = p->axis + 1; a < x->t.rank; a++) gi *= x->t.dims[a];
  int64_t ni = shape_numel(iv->t.rank, iv->t.dims);
  cl_int *idx = malloc(sizeof(cl_int) * (size_t)(ni ? ni : 1));
  if (!idx) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  for (int64_t j = 0; j < ni; j++) {
    int64_t v = tensor_get_i64(&iv->t, j);
    if (v < 0) v += ga;
    if (v < 0 || v >= ga) {
      free(idx);
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "index %lld is out of range [%lld, %lld)",
                     (long long)tensor_get_i64(&iv->t, j), (long long)-ga, (long long)ga);
    }
    idx[j] = (cl_int)v;
  }
  st = ocl_upload(on, idx, sizeof(cl_int) * (size_t)ni, &s->idx, err);
  free(idx);
  if (st) return st;
  char opts[512] = "";
  int vw;
  type_options(on, value_elem_bytes(x), opts, sizeof opts, &vw);
  ocl_opt(opts, sizeof opts, "-DGO=%lld -DGA=%lld -DGI=%lld -DNI=%lld", (long long)go,
          (long long)ga, (long long)gi, (long long)ni);
  s->work_dim = 3;
  if (gi == 1) {
    s->global[0] = ceil_div(ni, vw);
    s->global[1] = 1;
  } else {
    s->global[0] = ceil_div(gi, vw);
    s->global[1] = (size_t)ni;
  }
  s->global[2] = (size_t)go;
  return ocl_kernel(on, "layout.cl", "gather_axis_any", opts, &s->k, err);
}

static clcnn_status gather_run(ocl_node *on, const ocl_tensor *in, int nin, const ocl_tensor *out,
                               int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  single_state *s = on->state;
  if (s->empty) return CLCNN_OK;
  cl_uint xo = ocl_elem_offset(&in[0]), yo = ocl_elem_offset(&out[0]);
  clcnn_status st = ocl_args(s->k, err, sizeof(cl_mem), &in[0].mem, sizeof(cl_uint), &xo,
                             sizeof(cl_mem), &s->idx, sizeof(cl_mem), &out[0].mem,
                             sizeof(cl_uint), &yo, (size_t)0);
  return st ? st : single_enqueue(on, s, err);
}

/* ------------------------------------------------------------------- Pad */

#define PAD_SLOTS 8 /* the inner axis and 7 outer ones: CLCNN_MAX_RANK */

static const char *pad_check(const ocl_device_info *dev, const ir_graph *g, const ir_node *n) {
  (void)dev;
  const pad_params *p = n->params;
  if (p->mode != PAD_CONSTANT && p->mode != PAD_REFLECT && p->mode != PAD_EDGE &&
      p->mode != PAD_WRAP)
    return "this Pad mode is not supported on OpenCL";
  if (p->rank > PAD_SLOTS) return "Pad of rank above 8 is not supported on OpenCL";
  for (int a = 0; a < p->rank; a++)
    if (p->begin[a] <= -INT_MAX / 2 || p->begin[a] >= INT_MAX / 2)
      return "pads of 2^30 or more are not supported on OpenCL";
  return check_io(g, n, 1);
}

static clcnn_status pad_prepare(ocl_node *on, clcnn_err *err) {
  if (out_empty(on)) return prepare_empty(on, err);
  const pad_params *p = on->n->params;
  const ir_value *x = ir_in(on->g, on->n, 0), *y = ir_out(on->g, on->n, 0);
  single_state *s = single_alloc(on, err);
  if (!s) return err->status;
  size_t es = dtype_size(x->t.dtype);
  /* Axes (outermost first): output size, input size, pad before, input
   * stride. Unpadded neighbours merge; unpadded axes of size 1 vanish. */
  int64_t od[PAD_SLOTS], id[PAD_SLOTS], bg[PAD_SLOTS], sx[PAD_SLOTS], xs[CLCNN_MAX_RANK];
  contiguous_strides(x->t.rank, x->t.dims, xs);
  int r = 0;
  for (int a = 0; a < x->t.rank; a++) {
    bool padded = p->begin[a] != 0 || p->end[a] != 0;
    if (!padded && x->t.dims[a] == 1) continue;
    if (!padded && r > 0 && bg[r - 1] == 0 && od[r - 1] == id[r - 1]) {
      od[r - 1] *= x->t.dims[a];
      id[r - 1] *= x->t.dims[a];
      sx[r - 1] = xs[a];
      continue;
    }
    od[r] = y->t.dims[a];
    id[r] = x->t.dims[a];
    bg[r] = p->begin[a];
    sx[r] = xs[a];
    r++;
  }
  if (r == 0) {
    od[0] = id[0] = sx[0] = 1;
    bg[0] = 0;
    r = 1;
  }
  char opts[1024] = "";
  int vw;
  type_options(on, es, opts, sizeof opts, &vw);
  int64_t outer = 1;
  for (int k = 0; k < r - 1; k++) outer *= od[k];
  ocl_opt(opts, sizeof opts, "-DMODE=%d -DDI=%lld -DII=%lld -DBI=%lld -DOUTER=%lld", p->mode,
          (long long)od[r - 1], (long long)id[r - 1], (long long)bg[r - 1], (long long)outer);
  for (int k = r - 2, slot = 1; k >= 0; k--, slot++)
    ocl_opt(opts, sizeof opts, "-DD%d=%lld -DI%d=%lld -DB%d=%lld -DS%d=%lld", slot,
            (long long)od[k], slot, (long long)id[k], slot, (long long)bg[k], slot,
            (long long)sx[k]);
  if (p->mode == PAD_CONSTANT) {
    if (p->value_from_input) {
      ocl_opt(opts, sizeof opts, "-DVALUE_INPUT");
    } else {
      uint64_t bits = 0;
      memcpy(&bits, p->value, es); /* little-endian hosts and devices */
      ocl_opt(opts, sizeof opts, "-DPADV=0x%llx%s", (unsigned long long)bits,
              es == 8 ? "UL" : "u");
    }
  }
  s->work_dim = 2;
  s->global[0] = ceil_div(od[r - 1], vw);
  s->global[1] = (size_t)outer;
  return ocl_kernel(on, "layout.cl", "pad_nd_any", opts, &s->k, err);
}

static clcnn_status pad_run(ocl_node *on, const ocl_tensor *in, int nin, const ocl_tensor *out,
                            int nout, clcnn_err *err) {
  (void)nout;
  single_state *s = on->state;
  if (s->empty) return CLCNN_OK;
  const pad_params *p = on->n->params;
  const ocl_tensor *v = p->value_from_input && nin > 2 && in[2].mem ? &in[2] : &in[0];
  cl_uint xo = ocl_elem_offset(&in[0]), vo = ocl_elem_offset(v), yo = ocl_elem_offset(&out[0]);
  clcnn_status st = ocl_args(s->k, err, sizeof(cl_mem), &in[0].mem, sizeof(cl_uint), &xo,
                             sizeof(cl_mem), &v->mem, sizeof(cl_uint), &vo, sizeof(cl_mem),
                             &out[0].mem, sizeof(cl_uint), &yo, (size_t)0);
  return st ? st : single_enqueue(on, s, err);
}

/* ----------------------------------------------------------------- table */

/* These move elements as bits (T of the element size): half storage works
 * when the data and the output are stored alike (Pad's fill value is a
 * float32 pattern, so Pad stays float32). */
static const ocl_op concat_ocl = {concat_check, concat_prepare, concat_run, slabs_release,
                                  ocl_half_alike};
static const ocl_op split_ocl = {split_check, split_prepare, split_run, slabs_release,
                                 ocl_half_alike};
static const ocl_op slice_ocl = {slice_check, slice_prepare, run_xy, NULL, ocl_half_alike};
static const ocl_op transpose_ocl = {transpose_check, transpose_prepare, run_xy, NULL,
                                     ocl_half_alike};
static const ocl_op gather_ocl = {gather_check, gather_prepare, gather_run, NULL, ocl_half_alike};
static const ocl_op tile_ocl = {tile_check, tile_prepare, run_xy, NULL, ocl_half_alike};
static const ocl_op expand_ocl = {expand_check, expand_prepare, run_xy, NULL, ocl_half_alike};
static const ocl_op pad_ocl = {pad_check, pad_prepare, pad_run, NULL, NULL};

const ocl_op *const ocl_ops_layout[CLCNN_OP_COUNT] = {
    [CLCNN_OP_CONCAT] = &concat_ocl,   [CLCNN_OP_SPLIT] = &split_ocl,
    [CLCNN_OP_SLICE] = &slice_ocl,     [CLCNN_OP_TRANSPOSE] = &transpose_ocl,
    [CLCNN_OP_GATHER] = &gather_ocl,   [CLCNN_OP_TILE] = &tile_ocl,
    [CLCNN_OP_EXPAND] = &expand_ocl,   [CLCNN_OP_PAD] = &pad_ocl,
};
