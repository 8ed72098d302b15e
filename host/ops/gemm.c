/* OpenCL backend: the gemm family (Gemm, MatMul), float32. Both are one
 * product through host/gemm_dispatch (clcnn's kernels or CLBlast):
 *
 * Gemm: C (scaled by beta, broadcast to [M, N]) is the product's bias
 *   operand, read in place; a constant transposed B (a fully connected
 *   layer's weights) is stored untransposed at prepare on CPU devices, so
 *   that the register-tiled kernel reads rows of it.
 * MatMul: batch dims are turned into at most two strides per operand (dims
 *   that walk together are merged, broadcast dims get stride 0); when B is
 *   shared by every batch the batch folds into A's rows, one product. More
 *   than two batch dims left run as several products.
 * The fused activation is the product's epilogue. */
#include <stdlib.h>
#include <string.h>

#include "../ocl.h"
#include "../../runtime/ops/gemm.h"
#include "../kernel_options.h"

#include "../gemm_dispatch.h"

#define ELEMS_MAX ((int64_t)1 << 31)

typedef struct gemm_state {
  ocl_gemm_plan plan;
  cl_mem packed_b;        /* Gemm: B stored untransposed, or NULL */
  /* MatMul with more than two batch dims left: the outer ones, run as
   * separate products. */
  int nouter;
  int64_t outer[CLCNN_MAX_RANK];
  int64_t outer_sa[CLCNN_MAX_RANK], outer_sb[CLCNN_MAX_RANK], outer_sc[CLCNN_MAX_RANK];
} gemm_state;

static const char *check_common(const ir_graph *g, const ir_node *n) {
  if (!ocl_activation_supported(n->act_op))
    return "the fused activation is not supported on OpenCL";
  for (int i = 0; i < n->nin; i++) {
    const ir_value *v = ir_in(g, n, i);
    if (v && shape_numel(v->t.rank, v->t.dims) >= ELEMS_MAX)
      return "a tensor of 2^31 elements or more";
  }
  const ir_value *y = ir_out(g, n, 0);
  if (shape_numel(y->t.rank, y->t.dims) >= ELEMS_MAX) return "a tensor of 2^31 elements or more";
  return NULL;
}

static gemm_state *state_new(ocl_node *on, clcnn_err *err) {
  gemm_state *s = calloc(1, sizeof *s);
  if (!s) err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  on->state = s;
  return s;
}

/* ------------------------------------------------------------------ Gemm */

static const char *gemm_check(const ocl_device_info *dev, const ir_graph *g, const ir_node *n) {
  (void)dev;
  return check_common(g, n);
}

static clcnn_status gemm_prepare(ocl_node *on, clcnn_err *err) {
  const ir_node *n = on->n;
  const gemm_params *p = n->params;
  gemm_state *s = state_new(on, err);
  if (!s) return err->status;
  ocl_gemm_desc d;
  bool tb = p->trans_b != 0;
  const ir_value *b = ir_in(on->g, n, 1);
  if (tb && b->is_const && b->t.data && !ocl_gpu_variant(on) && p->m > 1) {
    /* [N, K] -> [K, N]. With M == 1 the dot-product kernel reads the
     * transposed weights once, as they are. */
    const float *src = b->t.data;
    size_t nn = (size_t)p->n, kk = (size_t)p->k;
    float *t = malloc(sizeof(float) * (nn * kk > 0 ? nn * kk : 1));
    if (!t) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    for (size_t i = 0; i < nn; i++)
      for (size_t j = 0; j < kk; j++) t[j * nn + i] = src[i * kk + j];
    clcnn_status st = ocl_upload(on, t, sizeof(float) * nn * kk, &s->packed_b, err);
    free(t);
    if (st) return st;
    tb = false;
  }
  ocl_gemm_desc_init(&d, p->trans_a != 0, tb, (size_t)p->m, (size_t)p->n, (size_t)p->k);
  d.alpha = p->alpha;
  if (p->has_c && p->beta != 0.0f) {
    d.bias = true;
    d.bias_scale = p->beta;
    d.bias_rs = p->c_rows == 1 ? 0 : (size_t)p->c_cols;
    d.bias_cs = p->c_cols == 1 ? 0 : 1;
  }
  d.act_op = n->act_op;
  d.act_params = n->act_params;
  return ocl_gemm_prepare(on, &d, &s->plan, err);
}

static clcnn_status gemm_run(ocl_node *on, const ocl_tensor *in, int nin, const ocl_tensor *out,
                             int nout, clcnn_err *err) {
  (void)nout;
  gemm_state *s = on->state;
  const ocl_tensor *c = nin > 2 && in[2].mem && s->plan.d.bias ? &in[2] : NULL;
  cl_mem b = s->packed_b ? s->packed_b : in[1].mem;
  size_t b_off = s->packed_b ? 0 : ocl_elem_offset(&in[1]);
  return ocl_gemm(on, &s->plan, in[0].mem, ocl_elem_offset(&in[0]), b, b_off, out[0].mem,
                  ocl_elem_offset(&out[0]), c ? c->mem : NULL, c ? ocl_elem_offset(c) : 0, NULL, 0, err);
}

/* ---------------------------------------------------------------- MatMul */

static const char *matmul_check(const ocl_device_info *dev, const ir_graph *g,
                                const ir_node *n) {
  (void)dev;
  return check_common(g, n);
}

static clcnn_status matmul_prepare(ocl_node *on, clcnn_err *err) {
  const ir_node *n = on->n;
  const matmul_params *p = n->params;
  gemm_state *s = state_new(on, err);
  if (!s) return err->status;
  const int64_t M = p->m, N = p->n, K = p->k;
  const int br = p->batch_rank;
  /* Element strides of each batch dim (0 where broadcast). */
  int64_t dims[CLCNN_MAX_RANK], sa[CLCNN_MAX_RANK], sb[CLCNN_MAX_RANK], sc[CLCNN_MAX_RANK];
  int64_t za = M * K, zb = K * N, zc = M * N;
  for (int i = br - 1; i >= 0; i--) {
    dims[i] = p->batch[i];
    sa[i] = p->a_batch[i] == 1 ? 0 : za;
    sb[i] = p->b_batch[i] == 1 ? 0 : zb;
    sc[i] = zc;
    za *= p->a_batch[i];
    zb *= p->b_batch[i];
    zc *= p->batch[i];
  }
  /* Drop dims of 1, merge a dim into its inner neighbour where all three
   * operands walk them as one. */
  int r = 0;
  for (int i = 0; i < br; i++) {
    if (dims[i] == 1) continue;
    if (r > 0 && sa[r - 1] == sa[i] * dims[i] && sb[r - 1] == sb[i] * dims[i] &&
        sc[r - 1] == sc[i] * dims[i]) {
      dims[r - 1] *= dims[i];
      sa[r - 1] = sa[i];
      sb[r - 1] = sb[i];
      sc[r - 1] = sc[i];
      continue;
    }
    dims[r] = dims[i];
    sa[r] = sa[i];
    sb[r] = sb[i];
    sc[r] = sc[i];
    r++;
  }
  ocl_gemm_desc d;
  int64_t m = M;
  /* B shared and A walked in order: the batch is more rows of A. */
  if (r == 1 && sb[0] == 0 && sa[0] == M * K && sc[0] == M * N) {
    m = M * dims[0];
    r = 0;
  }
  ocl_gemm_desc_init(&d, false, false, (size_t)m, (size_t)N, (size_t)K);
  d.lda = (size_t)K;
  d.ldb = (size_t)N;
  d.ldc = (size_t)N;
  /* The innermost two dims are the product's batch, the rest loop here. */
  int nb = r < 2 ? r : 2;
  s->nouter = r - nb;
  for (int i = 0; i < s->nouter; i++) {
    s->outer[i] = dims[i];
    s->outer_sa[i] = sa[i];
    s->outer_sb[i] = sb[i];
    s->outer_sc[i] = sc[i];
  }
  if (nb == 1) {
    d.nb1 = (size_t)dims[r - 1];
    d.sa[1] = (size_t)sa[r - 1];
    d.sb[1] = (size_t)sb[r - 1];
    d.sc[1] = (size_t)sc[r - 1];
  } else if (nb == 2) {
    d.nb0 = (size_t)dims[r - 2];
    d.nb1 = (size_t)dims[r - 1];
    d.sa[0] = (size_t)sa[r - 2];
    d.sa[1] = (size_t)sa[r - 1];
    d.sb[0] = (size_t)sb[r - 2];
    d.sb[1] = (size_t)sb[r - 1];
    d.sc[0] = (size_t)sc[r - 2];
    d.sc[1] = (size_t)sc[r - 1];
  }
  d.act_op = n->act_op;
  d.act_params = n->act_params;
  return ocl_gemm_prepare(on, &d, &s->plan, err);
}

static clcnn_status matmul_run(ocl_node *on, const ocl_tensor *in, int nin,
                               const ocl_tensor *out, int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  gemm_state *s = on->state;
  size_t ao = ocl_elem_offset(&in[0]), bo = ocl_elem_offset(&in[1]),
         co = ocl_elem_offset(&out[0]);
  int64_t count = 1;
  for (int i = 0; i < s->nouter; i++) count *= s->outer[i];
  for (int64_t t = 0; t < count; t++) {
    int64_t rem = t, oa = 0, ob = 0, oc = 0;
    for (int i = s->nouter - 1; i >= 0; i--) {
      int64_t idx = rem % s->outer[i];
      rem /= s->outer[i];
      oa += idx * s->outer_sa[i];
      ob += idx * s->outer_sb[i];
      oc += idx * s->outer_sc[i];
    }
    clcnn_status st = ocl_gemm(on, &s->plan, in[0].mem, ao + (size_t)oa, in[1].mem,
                               bo + (size_t)ob, out[0].mem, co + (size_t)oc, NULL, 0, NULL, 0,
                               err);
    if (st) return st;
  }
  return CLCNN_OK;
}

static const ocl_op gemm_ocl = {gemm_check, gemm_prepare, gemm_run, NULL, NULL};
static const ocl_op matmul_ocl = {matmul_check, matmul_prepare, matmul_run, NULL, NULL};

const ocl_op *const ocl_ops_gemm[CLCNN_OP_COUNT] = {
    [CLCNN_OP_GEMM] = &gemm_ocl,
    [CLCNN_OP_MATMUL] = &matmul_ocl,
};
