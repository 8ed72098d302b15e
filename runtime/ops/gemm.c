/* Front half of the gemm family (Gemm, MatMul): attributes, validation,
 * shape inference. */
#include <math.h>
#include <string.h>

#include "gemm.h"

/* Largest tensor (elements) accepted, and the largest matrix dim (the CPU
 * GEMM takes int sizes). */
#define NUMEL_MAX ((int64_t)1 << 40)
#define DIM_MAX ((int64_t)0x7fffffff)

static int64_t numel_checked(int rank, const int64_t *dims) {
  int64_t p = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0) return -1;
    if (dims[i] && p > NUMEL_MAX / dims[i]) return -1;
    p *= dims[i];
  }
  return p;
}

static clcnn_status check_attr_names(const ir_node *n, const char *const *names, clcnn_err *err) {
  for (int i = 0; i < n->nattr; i++) {
    bool known = false;
    for (const char *const *s = names; *s && !known; s++) known = strcmp(n->attr[i].name, *s) == 0;
    if (!known)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "unknown attribute '%s' (opset %d)",
                     n->attr[i].name, n->opset);
  }
  return CLCNN_OK;
}

static clcnn_status check_arity(const ir_node *n, int min_in, int max_in, clcnn_err *err) {
  if (n->nin < min_in || n->nin > max_in)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects %d to %d inputs, got %d", min_in,
                   max_in, n->nin);
  if (n->nout != 1 || n->out[0] < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 1 output, got %d", n->nout);
  for (int i = 0; i < min_in; i++)
    if (n->in[i] < 0)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "required input %d is missing", i);
  return CLCNN_OK;
}

static clcnn_status need_float(const ir_value *v, const char *what, clcnn_err *err) {
  char buf[128];
  if (v->t.dtype != CLCNN_DTYPE_FLOAT32)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "input '%s' has type %s; only float32 is supported", what,
                   dtype_name(v->t.dtype));
  if (numel_checked(v->t.rank, v->t.dims) < 0)
    return err_set(err, CLCNN_ERROR_SHAPE, "input '%s' has an invalid shape %s", what,
                   shape_str(v->t.rank, v->t.dims, buf, sizeof buf));
  return CLCNN_OK;
}

/* ------------------------------------------------------------------ Gemm */

static clcnn_status gemm_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  gemm_params *p = n->params;
  static const char *const names[] = {"alpha", "beta", "transA", "transB", NULL};
  /* C is required before opset 11. */
  clcnn_status st = check_arity(n, n->opset >= 11 ? 2 : 3, 3, err);
  if (st) return st;
  if ((st = check_attr_names(n, names, err))) return st;
  static const char *const fnames[2] = {"alpha", "beta"};
  float *fv[2] = {&p->alpha, &p->beta};
  for (int i = 0; i < 2; i++) {
    const ir_attr *a = ir_attr_find(n, fnames[i]);
    *fv[i] = 1.0f;
    if (!a) continue;
    if (a->type == IR_ATTR_FLOAT)
      *fv[i] = a->f;
    else if (a->type == IR_ATTR_INT)
      *fv[i] = (float)a->i;
    else
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute '%s' must be a float", fnames[i]);
  }
  static const char *const inames[2] = {"transA", "transB"};
  int *iv[2] = {&p->trans_a, &p->trans_b};
  for (int i = 0; i < 2; i++) {
    const ir_attr *a = ir_attr_find(n, inames[i]);
    *iv[i] = 0;
    if (!a) continue;
    if (a->type != IR_ATTR_INT || (a->i != 0 && a->i != 1))
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute '%s' must be 0 or 1", inames[i]);
    *iv[i] = (int)a->i;
  }
  return CLCNN_OK;
}

static clcnn_status gemm_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  gemm_params *p = n->params;
  const ir_value *a = ir_in(g, n, 0), *b = ir_in(g, n, 1), *c = ir_in(g, n, 2);
  char ba[128], bb[128];
  clcnn_status st;
  if ((st = need_float(a, "A", err)) || (st = need_float(b, "B", err)) ||
      (c && (st = need_float(c, "C", err))))
    return st;
  if (a->t.rank != 2 || b->t.rank != 2)
    return err_set(err, CLCNN_ERROR_SHAPE, "inputs A (%s) and B (%s) must be matrices",
                   shape_str(a->t.rank, a->t.dims, ba, sizeof ba),
                   shape_str(b->t.rank, b->t.dims, bb, sizeof bb));
  int64_t m = p->trans_a ? a->t.dims[1] : a->t.dims[0];
  int64_t k = p->trans_a ? a->t.dims[0] : a->t.dims[1];
  int64_t kb = p->trans_b ? b->t.dims[1] : b->t.dims[0];
  int64_t nn = p->trans_b ? b->t.dims[0] : b->t.dims[1];
  if (k != kb)
    return err_set(err, CLCNN_ERROR_SHAPE,
                   "A (%s%s) and B (%s%s) do not multiply: inner dims %lld and %lld",
                   shape_str(a->t.rank, a->t.dims, ba, sizeof ba), p->trans_a ? ", transposed" : "",
                   shape_str(b->t.rank, b->t.dims, bb, sizeof bb), p->trans_b ? ", transposed" : "",
                   (long long)k, (long long)kb);
  if (m > DIM_MAX || nn > DIM_MAX || k > DIM_MAX)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "matrix dims beyond 2^31 are not supported");
  int64_t dims[2] = {m, nn};
  if (numel_checked(2, dims) < 0)
    return err_set(err, CLCNN_ERROR_SHAPE, "output %lldx%lld is too large", (long long)m,
                   (long long)nn);
  p->m = m;
  p->n = nn;
  p->k = k;
  p->has_c = c != NULL;
  p->c_rows = p->c_cols = 1;
  if (c) {
    /* Unidirectional broadcast of C to [M, N]. */
    if (c->t.rank > 2)
      return err_set(err, CLCNN_ERROR_SHAPE, "C of shape %s does not broadcast to %lldx%lld",
                     shape_str(c->t.rank, c->t.dims, ba, sizeof ba), (long long)m, (long long)nn);
    int64_t cr = c->t.rank == 2 ? c->t.dims[0] : 1;
    int64_t cc = c->t.rank >= 1 ? c->t.dims[c->t.rank - 1] : 1;
    if ((cr != 1 && cr != m) || (cc != 1 && cc != nn))
      return err_set(err, CLCNN_ERROR_SHAPE, "C of shape %s does not broadcast to %lldx%lld",
                     shape_str(c->t.rank, c->t.dims, ba, sizeof ba), (long long)m, (long long)nn);
    p->c_rows = cr;
    p->c_cols = cc;
  }
  ir_set_shape(ir_out(g, n, 0), CLCNN_DTYPE_FLOAT32, 2, dims);
  return CLCNN_OK;
}

static double gemm_flops(const ir_graph *g, const ir_node *n) {
  (void)g;
  const gemm_params *p = n->params;
  return 2.0 * (double)p->m * (double)p->n * (double)p->k;
}

/* ---------------------------------------------------------------- MatMul */

static clcnn_status matmul_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  static const char *const names[] = {NULL};
  clcnn_status st = check_arity(n, 2, 2, err);
  if (st) return st;
  return check_attr_names(n, names, err);
}

clcnn_status matmul_resolve(const clcnn_tensor *at, const clcnn_tensor *bt, matmul_params *p,
                            int *out_rank, int64_t *out_dims, clcnn_err *err) {
  char ba[128], bb[128];
  int ra = at->rank, rb = bt->rank;
  if (ra < 1 || rb < 1)
    return err_set(err, CLCNN_ERROR_SHAPE, "MatMul of a scalar (A %s, B %s)",
                   shape_str(ra, at->dims, ba, sizeof ba),
                   shape_str(rb, bt->dims, bb, sizeof bb));
  memset(p, 0, sizeof *p);
  p->a_vector = ra == 1;
  p->b_vector = rb == 1;
  /* Matrix views. */
  p->m = ra == 1 ? 1 : at->dims[ra - 2];
  p->k = at->dims[ra - 1];
  int64_t kb = rb == 1 ? bt->dims[0] : bt->dims[rb - 2];
  p->n = rb == 1 ? 1 : bt->dims[rb - 1];
  if (p->k != kb)
    return err_set(err, CLCNN_ERROR_SHAPE,
                   "A (%s) and B (%s) do not multiply: inner dims "
                   "%lld and %lld",
                   shape_str(ra, at->dims, ba, sizeof ba), shape_str(rb, bt->dims, bb, sizeof bb),
                   (long long)p->k, (long long)kb);
  if (p->m > DIM_MAX || p->n > DIM_MAX || p->k > DIM_MAX)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "matrix dims beyond 2^31 are not supported");
  /* Batch dims: broadcast. */
  int bra = ra > 2 ? ra - 2 : 0, brb = rb > 2 ? rb - 2 : 0;
  int br;
  int64_t bdims[CLCNN_MAX_RANK];
  if (!shape_broadcast(bra, at->dims, brb, bt->dims, &br, bdims))
    return err_set(err, CLCNN_ERROR_SHAPE, "batch dims of A (%s) and B (%s) do not broadcast",
                   shape_str(ra, at->dims, ba, sizeof ba),
                   shape_str(rb, bt->dims, bb, sizeof bb));
  p->batch_rank = br;
  for (int i = 0; i < br; i++) {
    p->batch[i] = bdims[i];
    p->a_batch[i] = i < br - bra ? 1 : at->dims[i - (br - bra)];
    p->b_batch[i] = i < br - brb ? 1 : bt->dims[i - (br - brb)];
  }
  p->batch_count = numel_checked(br, bdims);
  int orank = 0;
  for (int i = 0; i < br; i++) out_dims[orank++] = bdims[i];
  if (!p->a_vector) out_dims[orank++] = p->m;
  if (!p->b_vector) out_dims[orank++] = p->n;
  if (orank > CLCNN_MAX_RANK || p->batch_count < 0 || numel_checked(orank, out_dims) < 0 ||
      (double)p->batch_count * (double)p->m * (double)p->n > (double)NUMEL_MAX)
    return err_set(err, CLCNN_ERROR_SHAPE, "output of MatMul of A (%s) and B (%s) is too large",
                   shape_str(ra, at->dims, ba, sizeof ba),
                   shape_str(rb, bt->dims, bb, sizeof bb));
  *out_rank = orank;
  return CLCNN_OK;
}

static clcnn_status matmul_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  matmul_params *p = n->params;
  const ir_value *a = ir_in(g, n, 0), *b = ir_in(g, n, 1);
  clcnn_status st;
  if ((st = need_float(a, "A", err)) || (st = need_float(b, "B", err))) return st;
  int orank;
  int64_t odims[CLCNN_MAX_RANK];
  if ((st = matmul_resolve(&a->t, &b->t, p, &orank, odims, err))) return st;
  ir_set_shape(ir_out(g, n, 0), CLCNN_DTYPE_FLOAT32, orank, odims);
  return CLCNN_OK;
}

static double matmul_flops(const ir_graph *g, const ir_node *n) {
  (void)g;
  const matmul_params *p = n->params;
  return 2.0 * (double)p->batch_count * (double)p->m * (double)p->n * (double)p->k;
}

static const op_front gemm_front = {sizeof(gemm_params), gemm_parse, gemm_infer, gemm_flops};
static const op_front matmul_front = {sizeof(matmul_params), matmul_parse, matmul_infer,
                                      matmul_flops};

const op_front *const op_front_gemm[CLCNN_OP_COUNT] = {
    [CLCNN_OP_GEMM] = &gemm_front,
    [CLCNN_OP_MATMUL] = &matmul_front,
};
