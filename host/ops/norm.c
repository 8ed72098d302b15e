/* OpenCL backend: the norm family on float32.
 *
 * BatchNormalization (inference; the one left after Conv+BN folding): the
 * statistics are folded on the host into a per-channel scale and shift
 * (as the CPU backend does, in double) and applied as y = x * a + b.
 * InstanceNormalization, LayerNormalization and GroupNormalization share one
 * kernel: rows normalised by their own mean and variance (two passes over
 * the row), then a scale and bias indexed per row or per position. LRN sums
 * squares over the channel window per output vector. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../gemm_dispatch.h"
#include "../ocl.h"
#include "../../runtime/ops/norm.h"
#include "../kernel_options.h"

#define MAX_ELEMS ((int64_t)1 << 31)

/* float32 inputs below the kernels' index range; a fused activation only
 * where the kernel applies it (`act_ok`: BatchNormalization). */
static const char *float_input_act(const ir_graph *g, const ir_node *n, bool act_ok) {
  for (int i = 0; i < n->nin; i++) {
    const ir_value *v = ir_in(g, n, i);
    if (v && v->t.dtype != CLCNN_DTYPE_FLOAT32) return "only float32 is supported on OpenCL";
    if (v && shape_numel(v->t.rank, v->t.dims) >= MAX_ELEMS)
      return "tensor too large (2^31 elements)";
  }
  if (n->act_op >= 0 && !act_ok) return "a fused activation on a norm node is not supported";
  return NULL;
}

static const char *float_input(const ir_graph *g, const ir_node *n) {
  return float_input_act(g, n, false);
}

/* Work split of rows of `len` elements for the streaming kernels (batchnorm,
 * LRN): CPU form, up to 4 float8 per work-item and several short rows; GPU
 * form, one float4 per work-item. */
typedef struct stream_split {
  int vw, items, rpi;
  size_t global[2];
} stream_split;

static stream_split split_rows(bool gpu, int64_t rows, int64_t len, bool multi_rows) {
  stream_split s;
  s.vw = gpu ? 4 : 8;
  int64_t items = gpu ? 1 : (len + s.vw - 1) / s.vw;
  s.items = (int)(items > 4 ? 4 : items < 1 ? 1 : items);
  int64_t rpi = (!gpu && multi_rows && len < 64) ? 64 / (len ? len : 1) : 1;
  if (rpi > rows) rpi = rows > 0 ? rows : 1;
  s.rpi = (int)rpi;
  const int64_t per = (int64_t)s.vw * s.items;
  s.global[0] = (size_t)((len + per - 1) / per);
  s.global[1] = (size_t)((rows + rpi - 1) / rpi);
  if (!rows || !len) s.global[0] = s.global[1] = 0;
  return s;
}

/* ----------------------------------------------------- BatchNormalization */

typedef struct bn_state {
  cl_kernel k;
  cl_mem ab;    /* folded scale and shift; NULL: computed by the kernel */
  size_t global[2];
  int64_t sizes[3]; /* ROWS, BLOCK, NSTAT: kernel arguments */
} bn_state;

static bool stats_constant(const ir_graph *g, const ir_node *n) {
  for (int i = 1; i < 5; i++) {
    const ir_value *v = ir_in(g, n, i);
    if (!v || !v->is_const || !v->t.data) return false;
  }
  return true;
}

static const char *batchnorm_check(const ocl_device_info *dev, const ir_graph *g,
                                   const ir_node *n) {
  (void)dev;
  if (((const batchnorm_params *)n->params)->training)
    return "training mode (batch statistics) runs on the CPU backend";
  return float_input_act(g, n, true);
}

static clcnn_status batchnorm_prepare(ocl_node *on, clcnn_err *err) {
  const ir_graph *g = on->g;
  const ir_node *n = on->n;
  const batchnorm_params *p = n->params;
  const bool gpu = ocl_gpu_variant(on);
  bn_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  on->state = s;
  const int64_t nstat = p->nstat, rows = p->batch * nstat, block = p->block;
  stream_split sp = split_rows(gpu, rows, block, true);
  char opts[512] = "", lit[OCL_FLOAT_LITERAL_MAX];
  s->sizes[0] = rows;
  s->sizes[1] = block;
  s->sizes[2] = nstat ? nstat : 1;
  ocl_opt(opts, sizeof opts, "-DVW=%d -DITEMS=%d -DRPI=%d", sp.vw, sp.items, sp.rpi);
  s->global[0] = sp.global[0];
  s->global[1] = sp.global[1];
  ocl_activation_options(n->act_op, n->act_params, opts, sizeof opts);
  ocl_storage_options(on, 0, -1, -1, opts, sizeof opts);
  if (!stats_constant(g, n)) {
    ocl_opt(opts, sizeof opts, "-DSTATS -DEPS=%s", ocl_float_literal(p->epsilon, lit));
    return ocl_kernel(on, "norm.cl", "batchnorm_nchw_f32", opts, &s->k, err);
  }
  float *ab = malloc(sizeof(float) * 2 * (size_t)(nstat ? nstat : 1));
  if (!ab) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  const float *scale = ir_in(g, n, 1)->t.data, *bias = ir_in(g, n, 2)->t.data;
  const float *mean = ir_in(g, n, 3)->t.data, *var = ir_in(g, n, 4)->t.data;
  for (int64_t c = 0; c < nstat; c++) { /* as the CPU backend: in double */
    double a = (double)scale[c] / sqrt((double)var[c] + (double)p->epsilon);
    ab[c] = (float)a;
    ab[nstat + c] = (float)((double)bias[c] - (double)mean[c] * a);
  }
  clcnn_status st = ocl_upload(on, ab, sizeof(float) * 2 * (size_t)nstat, &s->ab, err);
  free(ab);
  if (st) return st;
  return ocl_kernel(on, "norm.cl", "batchnorm_nchw_f32", opts, &s->k, err);
}

static clcnn_status batchnorm_run(ocl_node *on, const ocl_tensor *in, int nin,
                                  const ocl_tensor *out, int nout, clcnn_err *err) {
  (void)nout;
  const bn_state *s = on->state;
  if (nin < 5) return err_set(err, CLCNN_ERROR_INTERNAL, "BatchNormalization needs 5 inputs");
  if (!s->global[0]) return CLCNN_OK;
  cl_mem m[5];
  cl_uint o[5];
  for (int i = 0; i < 5; i++) {
    m[i] = in[i].mem;
    o[i] = ocl_elem_offset(&in[i]);
  }
  if (s->ab) {
    m[1] = s->ab;
    o[1] = 0;
  }
  cl_uint yo = ocl_elem_offset(&out[0]);
  clcnn_status st = ocl_args(s->k, err, sizeof(cl_mem), &m[0], sizeof(cl_uint), &o[0],
                             sizeof(cl_mem), &m[1], sizeof(cl_uint), &o[1], sizeof(cl_mem), &m[2],
                             sizeof(cl_uint), &o[2], sizeof(cl_mem), &m[3], sizeof(cl_uint), &o[3],
                             sizeof(cl_mem), &m[4], sizeof(cl_uint), &o[4], sizeof(cl_mem),
                             &out[0].mem, sizeof yo, &yo, (size_t)0);
  if (!st) st = ocl_size_args(s->k, 12, s->sizes, 3, err);
  if (st) return st;
  /* One work-item per work-group on CPU devices: with the driver's choice,
   * each layer's shape got a work-group size, and PoCL code for it, of its
   * own. */
  return ocl_enqueue(on, s->k, 2, s->global, ocl_cpu_local(on), err);
}

/* ---------------------------------- Instance / Layer / Group normalization */

typedef struct rownorm_state {
  cl_kernel k;
  size_t global, local;
  cl_mem scale, bias;  /* LayerNormalization's expanded Scale / B, else NULL */
  bool has_bias;
} rownorm_state;

/* Rows and their scale indexing (see kernels/norm.cl). */
typedef struct rownorm_shape {
  int64_t rows, rowlen, srows, spr, sdiv;
} rownorm_shape;

static rownorm_shape rownorm_shape_of(const ir_node *n) {
  rownorm_shape r = {0, 0, 1, 0, 1};
  if (n->op == CLCNN_OP_INSTANCENORM) {
    const instancenorm_params *p = n->params;
    r.rows = p->batch * p->channels;
    r.rowlen = p->inner;
    r.srows = p->channels;
    r.spr = 1;
    r.sdiv = r.rowlen;
  } else if (n->op == CLCNN_OP_GROUPNORM) {
    const groupnorm_params *p = n->params;
    const int64_t cpg = p->channels / p->num_groups;
    r.rows = p->batch * p->num_groups;
    r.rowlen = cpg * p->inner;
    r.srows = p->num_groups;
    r.spr = p->per_channel ? cpg : 1;
    r.sdiv = p->per_channel ? p->inner : r.rowlen;
  } else { /* LayerNormalization */
    const layernorm_params *p = n->params;
    r.rows = p->outer;
    r.rowlen = p->inner;
  }
  if (r.srows < 1) r.srows = 1;
  if (r.sdiv < 1) r.sdiv = 1;
  return r;
}

static const char *rownorm_check(const ocl_device_info *dev, const ir_graph *g,
                                 const ir_node *n) {
  (void)dev;
  const char *why = float_input(g, n);
  if (why) return why;
  if (n->op == CLCNN_OP_LAYERNORM) {
    const layernorm_params *p = n->params;
    for (int i = 1; i < 3; i++) {
      const ir_value *v = ir_in(g, n, i);
      if (!v) continue;
      int64_t numel = shape_numel(v->t.rank, v->t.dims);
      if (numel != p->inner && (!v->is_const || !v->t.data))
        return "LayerNormalization with a broadcast, non-constant Scale or B is not supported "
               "on OpenCL";
    }
  }
  return NULL;
}

/* Expands LayerNormalization's Scale or B (constant, broadcasting to the
 * normalised dims [axis:] of X) to `inner` floats. */
static void expand_param(const clcnn_tensor *x, int axis, const clcnn_tensor *s, float *dst,
                         int64_t inner) {
  const int k = x->rank - axis;
  int64_t sstride[CLCNN_MAX_RANK] = {0}, st = 1;
  for (int i = s->rank - 1; i >= 0; i--) {
    int d = i - (s->rank - k);
    if (d >= 0) sstride[d] = s->dims[i] == 1 ? 0 : st;
    st *= s->dims[i];
  }
  const float *src = s->data;
  for (int64_t j = 0; j < inner; j++) {
    int64_t rem = j, off = 0;
    for (int d = k - 1; d >= 0; d--) {
      int64_t dim = x->dims[axis + d];
      off += (rem % dim) * sstride[d];
      rem /= dim;
    }
    dst[j] = src[off];
  }
}

static clcnn_status upload_expanded(ocl_node *on, int i, cl_mem *out, clcnn_err *err) {
  const ir_graph *g = on->g;
  const ir_node *n = on->n;
  const layernorm_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0), *v = ir_in(g, n, i);
  float *buf = malloc(sizeof(float) * (size_t)(p->inner ? p->inner : 1));
  if (!buf) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  expand_param(&x->t, p->axis, &v->t, buf, p->inner);
  clcnn_status st = ocl_upload(on, buf, sizeof(float) * (size_t)p->inner, out, err);
  free(buf);
  return st;
}

static clcnn_status rownorm_prepare(ocl_node *on, clcnn_err *err) {
  const ir_graph *g = on->g;
  const ir_node *n = on->n;
  const ocl_device_info *dev = ocl_node_device(on);
  const bool gpu = ocl_gpu_variant(on);
  rownorm_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  on->state = s;
  const rownorm_shape r = rownorm_shape_of(n);
  float eps = 0;
  s->has_bias = true;
  bool has_mean = false, has_inv = false;
  if (n->op == CLCNN_OP_INSTANCENORM) {
    eps = ((const instancenorm_params *)n->params)->epsilon;
  } else if (n->op == CLCNN_OP_GROUPNORM) {
    eps = ((const groupnorm_params *)n->params)->epsilon;
  } else {
    const layernorm_params *p = n->params;
    eps = p->epsilon;
    s->has_bias = ir_in(g, n, 2) != NULL;
    has_mean = ir_out(g, n, 1) != NULL;
    has_inv = ir_out(g, n, 2) != NULL;
    for (int i = 1; i < 3; i++) {
      const ir_value *v = ir_in(g, n, i);
      if (!v || shape_numel(v->t.rank, v->t.dims) == p->inner) continue;
      clcnn_status st = upload_expanded(on, i, i == 1 ? &s->scale : &s->bias, err);
      if (st) return st;
    }
  }
  /* GPU form: a work-group per row, up to 256 work-items (a power of two,
   * about one vector of the row each); CPU form: a work-item per row. */
  int lws = 1;
  if (gpu) {
    size_t maxw = dev->max_work_group_size ? dev->max_work_group_size : 64;
    while (lws < 256 && (size_t)lws * 2 <= maxw && (int64_t)lws * 4 < r.rowlen) lws *= 2;
  }
  char opts[512] = "", lit[OCL_FLOAT_LITERAL_MAX];
  ocl_opt(opts, sizeof opts, "-DROWS=%lldu -DROWLEN=%lld", (long long)r.rows,
          (long long)r.rowlen);
  ocl_opt(opts, sizeof opts, "-DSROWS=%lldu -DSPR=%lldu -DSDIV=%lld", (long long)r.srows,
          (long long)r.spr, (long long)r.sdiv);
  ocl_opt(opts, sizeof opts, "-DEPS=%s -DVW=%d -DLWS=%d", ocl_float_literal(eps, lit),
          gpu ? 4 : 8, lws);
  if (s->has_bias) ocl_opt(opts, sizeof opts, "-DHAS_BIAS");
  if (has_mean) ocl_opt(opts, sizeof opts, "-DHAS_MEAN");
  if (has_inv) ocl_opt(opts, sizeof opts, "-DHAS_INV");
  s->local = (size_t)lws;
  s->global = (size_t)r.rows * (size_t)lws;
  return ocl_kernel(on, "norm.cl", "rownorm_f32", opts, &s->k, err);
}

static clcnn_status rownorm_run(ocl_node *on, const ocl_tensor *in, int nin,
                                const ocl_tensor *out, int nout, clcnn_err *err) {
  const rownorm_state *s = on->state;
  if (!s->global) return CLCNN_OK;
  cl_mem xm = in[0].mem, ym = out[0].mem;
  cl_mem sm = s->scale ? s->scale : in[1].mem;
  cl_mem bm = s->bias ? s->bias : s->has_bias && nin > 2 ? in[2].mem : sm;
  cl_uint xo = ocl_elem_offset(&in[0]), yo = ocl_elem_offset(&out[0]);
  cl_uint so = s->scale ? 0 : ocl_elem_offset(&in[1]);
  cl_uint bo = s->bias || !(s->has_bias && nin > 2) ? 0 : ocl_elem_offset(&in[2]);
  /* Absent statistics outputs: the kernel does not touch them. */
  cl_mem mm = nout > 1 && out[1].mem ? out[1].mem : ym;
  cl_mem im = nout > 2 && out[2].mem ? out[2].mem : ym;
  cl_uint mo = nout > 1 && out[1].mem ? ocl_elem_offset(&out[1]) : 0;
  cl_uint io = nout > 2 && out[2].mem ? ocl_elem_offset(&out[2]) : 0;
  clcnn_status st = ocl_args(s->k, err, sizeof xm, &xm, sizeof xo, &xo, sizeof sm, &sm,
                             sizeof so, &so, sizeof bm, &bm, sizeof bo, &bo, sizeof ym, &ym,
                             sizeof yo, &yo, sizeof mm, &mm, sizeof mo, &mo, sizeof im, &im,
                             sizeof io, &io, (size_t)0);
  if (st) return st;
  size_t local = s->local;
  return ocl_enqueue(on, s->k, 1, &s->global, local > 1 ? &local : NULL, err);
}

/* -------------------------------------------------------------------- LRN */

typedef struct lrn_state {
  cl_kernel k;
  size_t global[2];
} lrn_state;

static const char *lrn_check(const ocl_device_info *dev, const ir_graph *g, const ir_node *n) {
  (void)dev;
  return float_input(g, n);
}

static clcnn_status lrn_prepare(ocl_node *on, clcnn_err *err) {
  const lrn_params *p = on->n->params;
  const bool gpu = ocl_gpu_variant(on);
  lrn_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  on->state = s;
  stream_split sp = split_rows(gpu, p->batch * p->channels, p->inner, false);
  char opts[512] = "", l1[OCL_FLOAT_LITERAL_MAX], l2[OCL_FLOAT_LITERAL_MAX],
       l3[OCL_FLOAT_LITERAL_MAX];
  const float alpha_n = p->alpha / (float)p->size; /* as the CPU backend */
  ocl_opt(opts, sizeof opts, "-DC=%lld -DINNER=%lldu -DNC=%lldu", (long long)p->channels,
          (long long)p->inner, (long long)(p->batch * p->channels));
  ocl_opt(opts, sizeof opts, "-DLO=%lld -DHI=%lld", (long long)((p->size - 1) / 2),
          (long long)(p->size / 2));
  ocl_opt(opts, sizeof opts, "-DBIAS=%s -DALPHA_N=%s -DNBETA=%s", ocl_float_literal(p->bias, l1),
          ocl_float_literal(alpha_n, l2), ocl_float_literal(-p->beta, l3));
  ocl_opt(opts, sizeof opts, "-DVW=%d -DITEMS=%d", sp.vw, sp.items);
  s->global[0] = sp.global[0];
  s->global[1] = sp.global[1];
  return ocl_kernel(on, "norm.cl", "lrn_nchw_f32", opts, &s->k, err);
}

static clcnn_status lrn_run(ocl_node *on, const ocl_tensor *in, int nin, const ocl_tensor *out,
                            int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  const lrn_state *s = on->state;
  if (!s->global[0]) return CLCNN_OK;
  cl_uint xo = ocl_elem_offset(&in[0]), yo = ocl_elem_offset(&out[0]);
  clcnn_status st = ocl_args(s->k, err, sizeof(cl_mem), &in[0].mem, sizeof xo, &xo,
                             sizeof(cl_mem), &out[0].mem, sizeof yo, &yo, (size_t)0);
  if (st) return st;
  return ocl_enqueue(on, s->k, 2, s->global, NULL, err);
}

/* Half storage: the data input and the output (the statistics are float). */
static int batchnorm_half(const ir_graph *g, const ir_node *n, int input) {
  (void)g;
  return (input == -1 && n->nout == 1) || input == 0;
}

static const ocl_op batchnorm_ocl = {batchnorm_check, batchnorm_prepare, batchnorm_run, NULL,
                                     batchnorm_half};
static const ocl_op rownorm_ocl = {rownorm_check, rownorm_prepare, rownorm_run, NULL, NULL};
static const ocl_op lrn_ocl = {lrn_check, lrn_prepare, lrn_run, NULL, NULL};

const ocl_op *const ocl_ops_norm[CLCNN_OP_COUNT] = {
    [CLCNN_OP_BATCHNORM] = &batchnorm_ocl, [CLCNN_OP_INSTANCENORM] = &rownorm_ocl,
    [CLCNN_OP_LAYERNORM] = &rownorm_ocl,   [CLCNN_OP_GROUPNORM] = &rownorm_ocl,
    [CLCNN_OP_LRN] = &lrn_ocl,
};
