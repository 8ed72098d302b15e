/* Front half of the gemm family (Gemm, MatMul): attributes, validation,
 * shape inference. */
#include <math.h>
#include <string.h>

#include "gemm.h"
#include "shape.h"

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
  /* C is required before opset 11. */
  clcnn_status st = check_arity(n, n->opset >= 11 ? 2 : 3, 3, err);
  if (st) return st;
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
  return check_arity(n, 2, 2, err);
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

/* ---------------------------------------------------------------- Einsum */

static bool is_label(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* One term of the equation, s[0 .. len), into out (letters and
 * EINSUM_ELLIPSIS). */
static clcnn_status einsum_term(const char *s, size_t len, char *out, int *count, clcnn_err *err) {
  int k = 0;
  bool ellipsis = false;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (c == ' ') continue;
    if (c == '.') {
      if (ellipsis || i + 2 >= len || s[i + 1] != '.' || s[i + 2] != '.')
        return err_set(err, CLCNN_ERROR_INVALID_MODEL, "a term has a malformed or second ellipsis");
      ellipsis = true;
      i += 2;
      c = EINSUM_ELLIPSIS;
    } else if (!is_label(c)) {
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'%c' is not a label (letters only)", c);
    }
    if (k >= CLCNN_MAX_RANK)
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "a term has more than %d labels", CLCNN_MAX_RANK);
    out[k++] = c;
  }
  *count = k;
  return CLCNN_OK;
}

static clcnn_status einsum_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  einsum_params *p = n->params;
  if (n->nin < 1 || n->nin > EINSUM_MAX_INPUTS)
    return err_set(err, n->nin < 1 ? CLCNN_ERROR_INVALID_MODEL : CLCNN_ERROR_UNSUPPORTED,
                   "has %d inputs; 1 to %d are supported", n->nin, EINSUM_MAX_INPUTS);
  for (int i = 0; i < n->nin; i++)
    if (n->in[i] < 0) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input %d is missing", i);
  if (n->nout != 1 || n->out[0] < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 1 output, got %d", n->nout);
  const ir_attr *a = ir_attr_find(n, "equation");
  if (!a || a->type != IR_ATTR_STRING || !a->s)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'equation' (a string) is required");
  const char *eq = a->s, *arrow = strstr(eq, "->");
  size_t lhs = arrow ? (size_t)(arrow - eq) : strlen(eq);
  p->nin = 0;
  clcnn_status st;
  for (size_t start = 0;;) {
    size_t end = start;
    while (end < lhs && eq[end] != ',') end++;
    if (p->nin >= n->nin)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "the equation '%s' has more terms than the %d inputs",
                     eq, n->nin);
    if ((st = einsum_term(eq + start, end - start, p->term[p->nin], &p->nterm[p->nin], err)))
      return st;
    p->nin++;
    if (end >= lhs) break;
    start = end + 1;
  }
  if (p->nin != n->nin)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "the equation '%s' has %d terms for %d inputs", eq,
                   p->nin, n->nin);
  p->explicit_out = arrow != NULL;
  p->nout_term = 0;
  if (arrow && (st = einsum_term(arrow + 2, strlen(arrow + 2), p->out_term, &p->nout_term, err)))
    return st;
  for (int i = 0; i < p->nout_term; i++)
    for (int j = 0; j < i; j++)
      if (p->out_term[i] == p->out_term[j])
        return err_set(err, CLCNN_ERROR_INVALID_MODEL, "the output repeats a label");
  return CLCNN_OK;
}

/* Label id of a letter or of ellipsis dim j (codes below 'A'). */
static int label_find(int *ids, int *count, int code) {
  for (int i = 0; i < *count; i++)
    if (ids[i] == code) return i;
  if (*count >= EINSUM_MAX_LABELS) return -1;
  ids[*count] = code;
  return (*count)++;
}

static clcnn_status einsum_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  einsum_params *p = n->params;
  const ir_value *x0 = ir_in(g, n, 0);
  const clcnn_dtype dt = x0->t.dtype;
  if (dt != CLCNN_DTYPE_FLOAT32 && dt != CLCNN_DTYPE_FLOAT64)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "inputs of type %s are not supported",
                   dtype_name(dt));
  /* Ellipsis rank: the largest that any input gives it. */
  int erank = 0, ell[EINSUM_MAX_INPUTS];
  for (int i = 0; i < p->nin; i++) {
    const ir_value *x = ir_in(g, n, i);
    if (x->t.dtype != dt)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input %d is %s, input 0 %s", i,
                     dtype_name(x->t.dtype), dtype_name(dt));
    bool has = memchr(p->term[i], EINSUM_ELLIPSIS, (size_t)p->nterm[i]) != NULL;
    int letters = p->nterm[i] - (has ? 1 : 0);
    ell[i] = x->t.rank - letters;
    if ((!has && ell[i] != 0) || ell[i] < 0)
      return err_set(err, CLCNN_ERROR_SHAPE, "input %d has rank %d; term %d has %d labels", i,
                     x->t.rank, i, letters);
    if (ell[i] > erank) erank = ell[i];
  }
  int ids[EINSUM_MAX_LABELS], count = 0, occurs[EINSUM_MAX_LABELS] = {0};
  for (int l = 0; l < EINSUM_MAX_LABELS; l++) p->size[l] = -1;
  memset(p->stride, 0, sizeof p->stride);
  for (int i = 0; i < p->nin; i++) {
    const ir_value *x = ir_in(g, n, i);
    int64_t st[CLCNN_MAX_RANK], acc = 1;
    for (int d = x->t.rank - 1; d >= 0; d--) st[d] = acc, acc *= x->t.dims[d];
    int d = 0;
    for (int t = 0; t < p->nterm[i]; t++) {
      int dims_here = p->term[i][t] == EINSUM_ELLIPSIS ? ell[i] : 1;
      for (int e = 0; e < dims_here; e++, d++) {
        int code = p->term[i][t] == EINSUM_ELLIPSIS ? 2 + (erank - ell[i] + e) : p->term[i][t];
        int l = label_find(ids, &count, code);
        if (l < 0)
          return err_set(err, CLCNN_ERROR_UNSUPPORTED, "more than %d labels", EINSUM_MAX_LABELS);
        int64_t sz = x->t.dims[d];
        occurs[l]++;
        if (code < 'A') { /* ellipsis dims broadcast */
          if (sz == 1) continue; /* stride 0 */
          if (p->size[l] > 1 && p->size[l] != sz)
            return err_set(err, CLCNN_ERROR_SHAPE, "the ellipsis dims do not broadcast (%lld, %lld)",
                           (long long)p->size[l], (long long)sz);
        } else if (p->size[l] >= 0 && p->size[l] != sz) {
          return err_set(err, CLCNN_ERROR_SHAPE, "label '%c' has sizes %lld and %lld", code,
                         (long long)p->size[l], (long long)sz);
        }
        p->size[l] = sz;
        p->stride[i][l] += st[d];
      }
    }
  }
  for (int l = 0; l < count; l++)
    if (p->size[l] < 0) p->size[l] = 1; /* an ellipsis dim of size 1 everywhere */
  p->nlabels = count;
  /* Output labels (an explicit output without the ellipsis sums its dims). */
  p->nout = 0;
  bool in_out[EINSUM_MAX_LABELS] = {false};
  int out_codes[2 * CLCNN_MAX_RANK], nc = 0;
  if (p->explicit_out) {
    for (int t = 0; t < p->nout_term; t++) {
      if (p->out_term[t] == EINSUM_ELLIPSIS)
        for (int e = 0; e < erank; e++) out_codes[nc++] = 2 + e;
      else
        out_codes[nc++] = p->out_term[t];
    }
  } else {
    for (int e = 0; e < erank; e++) out_codes[nc++] = 2 + e;
    for (int c = 'A'; c <= 'z'; c++) {
      if (!is_label((char)c)) continue;
      for (int l = 0; l < count; l++)
        if (ids[l] == c && occurs[l] == 1 && nc < 2 * CLCNN_MAX_RANK) out_codes[nc++] = c;
    }
  }
  if (nc > CLCNN_MAX_RANK)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "the output would have rank %d", nc);
  int64_t od[CLCNN_MAX_RANK];
  for (int t = 0; t < nc; t++) {
    int l = -1;
    for (int k = 0; k < count && l < 0; k++)
      if (ids[k] == out_codes[t]) l = k;
    if (l < 0)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "output label '%c' is in no input",
                     out_codes[t] >= 'A' ? out_codes[t] : '.');
    in_out[l] = true;
    p->out_label[p->nout++] = l;
    od[t] = p->size[l];
  }
  p->nsum = 0;
  for (int l = 0; l < count; l++)
    if (!in_out[l]) p->sum_label[p->nsum++] = l;
  /* The batched GEMM form. */
  p->gemm = p->nin == 2 && dt == CLCNN_DTYPE_FLOAT32;
  p->nb = p->nm = p->nn = p->nk = 0;
  for (int i = 0; i < 2 && p->gemm; i++) /* no repeated letters (diagonals) */
    for (int t = 0; t < p->nterm[i] && p->gemm; t++)
      for (int u = 0; u < t; u++)
        if (p->term[i][t] == p->term[i][u]) p->gemm = 0;
  for (int l = 0; l < count && p->gemm; l++) {
    bool a = p->stride[0][l] != 0, b = p->stride[1][l] != 0;
    if (p->size[l] == 1) continue; /* size 1: no dim at all */
    if (a && b && in_out[l]) p->bl[p->nb++] = l;
    else if (a && !b && in_out[l]) p->ml[p->nm++] = l;
    else if (!a && b && in_out[l]) p->nl[p->nn++] = l;
    else if (a && b && !in_out[l]) p->kl[p->nk++] = l;
    else p->gemm = 0; /* a label only one input has, summed: not a product */
  }
  return op_set_output(g, n, 0, dt, nc, od, err);
}

static double einsum_flops(const ir_graph *g, const ir_node *n) {
  (void)g;
  const einsum_params *p = n->params;
  double f = 1;
  for (int l = 0; l < p->nlabels; l++) f *= (double)p->size[l];
  return f * p->nin;
}

static const op_front gemm_front = {sizeof(gemm_params), gemm_parse, gemm_infer, gemm_flops};
static const op_front einsum_front = {sizeof(einsum_params), einsum_parse, einsum_infer,
                                      einsum_flops};
static const op_front matmul_front = {sizeof(matmul_params), matmul_parse, matmul_infer,
                                      matmul_flops};

const op_front *const op_front_gemm[CLCNN_OP_COUNT] = {
    [CLCNN_OP_GEMM] = &gemm_front,
    [CLCNN_OP_MATMUL] = &matmul_front,
    [CLCNN_OP_EINSUM] = &einsum_front,
};
