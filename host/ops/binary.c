/* OpenCL backend: the binary family on float32 (Add, Sub, Mul, Div, Pow,
 * PRelu, Max, Min, Sum, Mean) with numpy broadcasting.
 *
 * Every step y = f(a, b) runs over the broadcast plan of runtime/ops/binary.h
 * (the CPU backend's): rows of INNER contiguous output elements where each
 * operand is a vector or one value per row, so the same kernel is the fast
 * path for same-shape operands (one row, float4/float8 vectors), a scalar
 * operand, a per-channel [C, 1, 1] operand (rows of H*W) and the general
 * strided case (outer dims and strides as -D constants). Variadic operators
 * fold their inputs into the output one step at a time (Mean divides in the
 * last step); steps with the same options share one kernel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ocl.h"
#include "../../runtime/ops/binary.h"
#include "../kernel_options.h"

#define MAX_ELEMS ((int64_t)1 << 31)
#define MAX_STEPS OCL_NODE_MAX_KERNELS

typedef struct binary_step {
  cl_kernel k;
  size_t global[2];
  int64_t sizes[2]; /* ROWS, INNER: kernel arguments */
} binary_step;

typedef struct binary_state {
  int nsteps;              /* nin - 1, or 1 for a copy */
  binary_step steps[MAX_STEPS];
} binary_state;

static bool is_variadic(int op) {
  return op == CLCNN_OP_MAX || op == CLCNN_OP_MIN || op == CLCNN_OP_SUM || op == CLCNN_OP_MEAN;
}

static const char *binary_check(const ocl_device_info *dev, const ir_graph *g,
                                const ir_node *n) {
  (void)dev;
  for (int i = 0; i < n->nin; i++) {
    const ir_value *v = ir_in(g, n, i);
    if (!v || v->t.dtype != CLCNN_DTYPE_FLOAT32) return "only float32 is supported on OpenCL";
    if (shape_numel(v->t.rank, v->t.dims) >= MAX_ELEMS) return "tensor too large (2^31 elements)";
  }
  const ir_value *y = ir_out(g, n, 0);
  if (y->t.dtype != CLCNN_DTYPE_FLOAT32) return "only float32 is supported on OpenCL";
  if (shape_numel(y->t.rank, y->t.dims) >= MAX_ELEMS) return "tensor too large (2^31 elements)";
  if (n->nin > MAX_STEPS + 1) return "more than 9 inputs are not supported on OpenCL";
  if (!is_variadic(n->op) && n->nin != 2) return "expects 2 inputs";
  if (n->act_op >= 0 && !ocl_activation_supported(n->act_op))
    return "its fused activation is not supported on OpenCL";
  return NULL;
}

static const char *op_define(int op) {
  switch (op) {
    case CLCNN_OP_ADD:
    case CLCNN_OP_SUM:
    case CLCNN_OP_MEAN: return "OP_ADD";
    case CLCNN_OP_SUB: return "OP_SUB";
    case CLCNN_OP_MUL: return "OP_MUL";
    case CLCNN_OP_DIV: return "OP_DIV";
    case CLCNN_OP_POW: return "OP_POW";
    case CLCNN_OP_PRELU: return "OP_PRELU";
    case CLCNN_OP_MAX: return "OP_MAX";
    case CLCNN_OP_MIN: return "OP_MIN";
    default: return NULL;
  }
}

/* Appends " -DNAME=v0,v1,..." for n values. */
static void opt_list(char *buf, size_t len, const char *name, const int64_t *v, int n) {
  char list[CLCNN_MAX_RANK * 24] = "";
  for (int i = 0; i < n; i++) {
    size_t l = strlen(list);
    snprintf(list + l, sizeof list - l, "%s%lldu", i ? "," : "", (long long)v[i]);
  }
  ocl_opt(buf, len, "-D%s=%s", name, list);
}

/* Kernel options for one step over plan p; fills the work size. */
static void step_options(const bcast_plan *p, const char *op, bool gpu, const char *scale_div,
                         char *opts, size_t len, size_t global[2], int64_t sizes[2]) {
  const int r = p->rank;
  const int64_t inner = p->dims[r - 1];
  int64_t rows = 1;
  for (int d = 0; d < r - 1; d++) rows *= p->dims[d];
  /* CPU form: a work-item takes up to 4 float8 of a row and, when rows are
   * short, several rows (about 64 elements in all). GPU form: one float4,
   * neighbouring work-items on neighbouring vectors. */
  const int vw = gpu ? 4 : 8;
  int64_t items = gpu ? 1 : (inner + vw - 1) / vw;
  if (items > 4) items = 4;
  if (items < 1) items = 1;
  int64_t rpi = 1;
  if (!gpu && inner < 64) rpi = 64 / (inner ? inner : 1);
  if (rpi > rows) rpi = rows > 0 ? rows : 1;
  opts[0] = 0;
  ocl_opt(opts, len, "-D%s", op);
  sizes[0] = rows;
  sizes[1] = inner;
  ocl_opt(opts, len, "-DISA=%d -DISB=%d -DNOUTER=%d", p->sa[r - 1] != 0, p->sb[r - 1] != 0,
          r - 1);
  if (r > 1) {
    opt_list(opts, len, "ODIMS", p->dims, r - 1);
    opt_list(opts, len, "OSA", p->sa, r - 1);
    opt_list(opts, len, "OSB", p->sb, r - 1);
  }
  ocl_opt(opts, len, "-DVW=%d -DITEMS=%d -DRPI=%d", vw, (int)items, (int)rpi);
  if (scale_div) ocl_opt(opts, len, "-DSCALE_DIV=%s", scale_div);
  const int64_t per = (int64_t)vw * items;
  global[0] = (size_t)((inner + per - 1) / per);
  global[1] = (size_t)((rows + rpi - 1) / rpi);
  if (inner == 0 || rows == 0) global[0] = global[1] = 0;
}

/* Input k's shape as the kernel sees it (PRelu's legacy per-channel slope
 * [C] is [C, 1, ..., 1] of rank(X) - 1). */
static void operand_shape(const ir_graph *g, const ir_node *n, int k, int *rank, int64_t *dims) {
  const ir_value *v = ir_in(g, n, k), *x = ir_in(g, n, 0);
  const binary_params *bp = n->params;
  *rank = v->t.rank;
  memcpy(dims, v->t.dims, sizeof(int64_t) * CLCNN_MAX_RANK);
  if (n->op == CLCNN_OP_PRELU && k == 1 && bp && bp->prelu_per_channel && x->t.rank >= 2) {
    *rank = x->t.rank - 1;
    dims[0] = v->t.dims[0];
    for (int i = 1; i < *rank; i++) dims[i] = 1;
  }
}

static clcnn_status binary_prepare(ocl_node *on, clcnn_err *err) {
  const ir_graph *g = on->g;
  const ir_node *n = on->n;
  const ir_value *y = ir_out(g, n, 0);
  const bool gpu = ocl_gpu_variant(on);
  binary_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  on->state = s;
  char opts[MAX_STEPS][1024];
  s->nsteps = n->nin > 1 ? n->nin - 1 : 1;
  for (int k = 1; k <= s->nsteps; k++) {
    int ra, rb;
    int64_t da[CLCNN_MAX_RANK], db[CLCNN_MAX_RANK];
    const char *op = op_define(n->op);
    if (n->nin == 1) { /* a one-input variadic: y = x */
      operand_shape(g, n, 0, &ra, da);
      operand_shape(g, n, 0, &rb, db);
      op = "OP_FIRST";
    } else if (k == 1) {
      operand_shape(g, n, 0, &ra, da);
      operand_shape(g, n, 1, &rb, db);
    } else { /* fold input k into y */
      ra = y->t.rank;
      memcpy(da, y->t.dims, sizeof da);
      operand_shape(g, n, k, &rb, db);
    }
    bcast_plan p;
    if (!op || !bcast_plan_make(ra, da, rb, db, y->t.rank, y->t.dims, &p))
      return err_set(err, CLCNN_ERROR_INTERNAL, "input %d does not broadcast to the output", k);
    char lit[OCL_FLOAT_LITERAL_MAX];
    const char *scale = n->op == CLCNN_OP_MEAN && k == s->nsteps && n->nin > 1
                            ? ocl_float_literal((float)n->nin, lit)
                            : NULL;
    step_options(&p, op, gpu, scale, opts[k - 1], sizeof opts[k - 1], s->steps[k - 1].global,
                 s->steps[k - 1].sizes);
    /* The fused activation (graph_optimize) runs in the last step. */
    if (k == s->nsteps && n->act_op >= 0)
      ocl_activation_options(n->act_op, n->act_params, opts[k - 1], sizeof opts[k - 1]);
    /* Storage: a is input 0, then y itself in the folding steps. */
    if (k == 1 ? ocl_half(on, 0) : ocl_half(on, -1))
      ocl_opt(opts[k - 1], sizeof opts[k - 1], "-DX_HALF");
    ocl_storage_options(on, -1, n->nin == 1 ? 0 : k, -1, opts[k - 1], sizeof opts[k - 1]);
    for (int j = 0; j < k - 1 && !s->steps[k - 1].k; j++)
      if (!strcmp(opts[j], opts[k - 1])) s->steps[k - 1].k = s->steps[j].k;
    if (!s->steps[k - 1].k) {
      clcnn_status st =
          ocl_kernel(on, "binary.cl", "binary_f32", opts[k - 1], &s->steps[k - 1].k, err);
      if (st) return st;
    }
  }
  return CLCNN_OK;
}

static clcnn_status binary_run(ocl_node *on, const ocl_tensor *in, int nin, const ocl_tensor *out,
                               int nout, clcnn_err *err) {
  (void)nout;
  const binary_state *s = on->state;
  for (int k = 1; k <= s->nsteps; k++) {
    const binary_step *st = &s->steps[k - 1];
    if (!st->global[0]) continue;
    const ocl_tensor *a = k == 1 ? &in[0] : &out[0];
    const ocl_tensor *b = nin == 1 ? &in[0] : &in[k];
    cl_uint ao = ocl_elem_offset(a), bo = ocl_elem_offset(b), yo = ocl_elem_offset(&out[0]);
    clcnn_status rc = ocl_args(st->k, err, sizeof(cl_mem), &a->mem, sizeof ao, &ao,
                               sizeof(cl_mem), &b->mem, sizeof bo, &bo, sizeof(cl_mem),
                               &out[0].mem, sizeof yo, &yo, (size_t)0);
    if (!rc) rc = ocl_size_args(st->k, 6, st->sizes, 2, err);
    if (rc) return rc;
    rc = ocl_enqueue(on, st->k, 2, st->global, NULL, err);
    if (rc) return rc;
  }
  return CLCNN_OK;
}

/* Half storage: any operand and the output (each stored its own way). */
static int binary_half(const ir_graph *g, const ir_node *n, int input) {
  (void)g;
  (void)n;
  (void)input;
  return 1;
}

static const ocl_op binary_ocl = {binary_check, binary_prepare, binary_run, NULL, binary_half};

const ocl_op *const ocl_ops_binary[CLCNN_OP_COUNT] = {
    [CLCNN_OP_ADD] = &binary_ocl, [CLCNN_OP_SUB] = &binary_ocl,
    [CLCNN_OP_MUL] = &binary_ocl, [CLCNN_OP_DIV] = &binary_ocl,
    [CLCNN_OP_POW] = &binary_ocl, [CLCNN_OP_PRELU] = &binary_ocl,
    [CLCNN_OP_MAX] = &binary_ocl, [CLCNN_OP_MIN] = &binary_ocl,
    [CLCNN_OP_SUM] = &binary_ocl, [CLCNN_OP_MEAN] = &binary_ocl,
};
