/* CPU backend: the gemm family (Gemm, MatMul), float32.
 * Matrix products go to cpu_sgemm (gemm_core.c); a product with one row or one
 * column (a fully connected layer at batch 1) is a matrix-vector product,
 * done here with threads, since SGEMM spends most of its time packing the
 * weights in that case. */
#include "../ops/gemm.h"

#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "threadpool.h"

#ifdef _OPENMP
#define GEMM_PRAGMA(x) _Pragma(#x)
#define GEMM_SIMD_REDUCE(...) GEMM_PRAGMA(omp simd reduction(+ : __VA_ARGS__))
#define GEMM_SIMD GEMM_PRAGMA(omp simd)
#else
#define GEMM_SIMD_REDUCE(...)
#define GEMM_SIMD
#endif


/* Least work (multiply-adds) worth waking threads for. */
#define GEMM_PAR_MIN ((int64_t)1 << 16)
/* Columns of y per task in gemv_axpy (stays in L1). */
#define GEMV_COLS 512

/* A matrix-vector product's operands (gemv_dot, gemv_axpy). */
typedef struct gemv_task {
  const float *mat, *v;
  int64_t rows, len, cols, ld;
  float alpha, beta;
  float *y;
} gemv_task;

/* Items of gemv_dot: blocks of 4 rows. */
static void gemv_dot_blocks(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const gemv_task *g = arg;
  const float *mat = g->mat, *v = g->v;
  const int64_t rows = g->rows, len = g->len, ld = g->ld;
  const float alpha = g->alpha, beta = g->beta;
  float *y = g->y;
  for (int64_t blk = begin; blk < end; blk++) {
    int64_t r = blk * 4;
    float acc[4] = {0, 0, 0, 0};
    if (r + 4 <= rows) {
      const float *m0 = mat + r * ld, *m1 = m0 + ld, *m2 = m1 + ld, *m3 = m2 + ld;
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      GEMM_SIMD_REDUCE(s0, s1, s2, s3)
      for (int64_t i = 0; i < len; i++) {
        float x = v[i];
        s0 += m0[i] * x;
        s1 += m1[i] * x;
        s2 += m2[i] * x;
        s3 += m3[i] * x;
      }
      acc[0] = s0, acc[1] = s1, acc[2] = s2, acc[3] = s3;
    } else {
      for (int64_t q = r; q < rows; q++) {
        const float *mq = mat + q * ld;
        float s = 0;
        GEMM_SIMD_REDUCE(s)
        for (int64_t i = 0; i < len; i++) s += mq[i] * v[i];
        acc[q - r] = s;
      }
    }
    for (int64_t q = r; q < rows && q < r + 4; q++)
      y[q] = alpha * acc[q - r] + (beta != 0.0f ? beta * y[q] : 0.0f);
  }
}

/* y[r] = alpha * dot(mat[r, :], v) + beta * y[r] for r < rows; mat is
 * [rows, len] with leading dim ld. beta == 0 ignores y's old value. */
static void gemv_dot(const float *mat, int64_t rows, int64_t len, int64_t ld, const float *v,
                     float alpha, float beta, float *y, cpu_pool *pool, int nt) {
  const int64_t blocks = (rows + 3) / 4;
  gemv_task g = {
      .mat = mat, .v = v, .rows = rows, .len = len, .ld = ld, .alpha = alpha, .beta = beta, .y = y};
  cpu_parallel_for(pool, rows * len >= GEMM_PAR_MIN ? nt : 1, blocks, 1, gemv_dot_blocks, &g);
}

/* Items of gemv_axpy: runs of GEMV_COLS columns. */
static void gemv_axpy_cols(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const gemv_task *g = arg;
  const float *mat = g->mat, *v = g->v;
  const int64_t len = g->len, cols = g->cols, ld = g->ld;
  const float alpha = g->alpha, beta = g->beta;
  float *y = g->y;
  for (int64_t t = begin; t < end; t++) {
    int64_t c0 = t * GEMV_COLS, w = cols - c0 < GEMV_COLS ? cols - c0 : GEMV_COLS;
    float acc[GEMV_COLS];
    for (int64_t c = 0; c < w; c++) acc[c] = 0.0f;
    int64_t l = 0;
    for (; l + 4 <= len; l += 4) {
      const float *m0 = mat + l * ld + c0, *m1 = m0 + ld, *m2 = m1 + ld, *m3 = m2 + ld;
      float v0 = v[l], v1 = v[l + 1], v2 = v[l + 2], v3 = v[l + 3];
      GEMM_SIMD
      for (int64_t c = 0; c < w; c++) acc[c] += v0 * m0[c] + v1 * m1[c] + v2 * m2[c] + v3 * m3[c];
    }
    for (; l < len; l++) {
      const float *m0 = mat + l * ld + c0;
      float v0 = v[l];
      GEMM_SIMD
      for (int64_t c = 0; c < w; c++) acc[c] += v0 * m0[c];
    }
    float *yc = y + c0;
    if (beta != 0.0f)
      for (int64_t c = 0; c < w; c++) yc[c] = alpha * acc[c] + beta * yc[c];
    else
      for (int64_t c = 0; c < w; c++) yc[c] = alpha * acc[c];
  }
}

/* y[c] = alpha * sum_l v[l] * mat[l, c] + beta * y[c] for c < cols; mat is
 * [len, cols] with leading dim ld. */
static void gemv_axpy(const float *mat, int64_t len, int64_t cols, int64_t ld, const float *v,
                      float alpha, float beta, float *y, cpu_pool *pool, int nt) {
  const int64_t tasks = (cols + GEMV_COLS - 1) / GEMV_COLS;
  gemv_task g = {
      .mat = mat, .v = v, .len = len, .cols = cols, .ld = ld, .alpha = alpha, .beta = beta, .y = y};
  cpu_parallel_for(pool, len * cols >= GEMM_PAR_MIN ? nt : 1, tasks, 1, gemv_axpy_cols, &g);
}

/* Y[M, N] (leading dim N) = alpha * op(A) op(B) + beta * Y, A and B dense
 * with their natural leading dims. */
static void matmul(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                   const float *b, float beta, float *y, cpu_pool *pool, int nt) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int64_t i = 0; i < m * n; i++) y[i] = beta != 0.0f ? beta * y[i] : 0.0f;
    return;
  }
  if (m == 1) {
    /* a is a vector of k whichever way it is stored. */
    if (tb)
      gemv_dot(b, n, k, k, a, alpha, beta, y, pool, nt);
    else
      gemv_axpy(b, k, n, n, a, alpha, beta, y, pool, nt);
    return;
  }
  if (n == 1) {
    if (ta)
      gemv_axpy(a, k, m, m, b, alpha, beta, y, pool, nt);
    else
      gemv_dot(a, m, k, k, b, alpha, beta, y, pool, nt);
    return;
  }
  cpu_sgemm(pool, nt, ta, tb, m, n, k, alpha, a, ta ? m : k, b, tb ? k : n, beta, y, n);
}

/* The fused activation over pieces of ACT_CHUNK elements (fixed by the
 * count alone, so results do not depend on threads). */
#define ACT_CHUNK ((int64_t)1 << 14)

typedef struct act_task {
  const ir_node *n;
  float *y;
  int64_t count;
} act_task;

static void act_chunks(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const act_task *k = arg;
  for (int64_t t = begin; t < end; t++) {
    int64_t len = k->count - t * ACT_CHUNK < ACT_CHUNK ? k->count - t * ACT_CHUNK : ACT_CHUNK;
    cpu_unary_apply(k->n->act_op, k->n->act_params, k->y + t * ACT_CHUNK, k->y + t * ACT_CHUNK,
                    (size_t)len);
  }
}

static void apply_act(const ir_node *n, float *y, int64_t count, cpu_pool *pool, int nt) {
  if (n->act_op < 0 || count <= 0) return;
  act_task k = {.n = n, .y = y, .count = count};
  cpu_parallel_for(pool, nt, (count + ACT_CHUNK - 1) / ACT_CHUNK, 1, act_chunks, &k);
}

/* ------------------------------------------------------------------ Gemm */

static clcnn_status gemm_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                             int nout, clcnn_err *err) {
  (void)nout, (void)err;
  const gemm_params *p = cn->n->params;
  const float *a = in[0].data, *b = in[1].data;
  const float *c = nin > 2 && in[2].data ? in[2].data : NULL;
  float *y = out[0].data;
  const int64_t M = p->m, N = p->n;
  float beta = 0.0f;
  /* beta * C first, in Y; the product accumulates onto it. */
  if (c && p->beta != 0.0f) {
    beta = p->beta;
    for (int64_t i = 0; i < M; i++) {
      const float *ci = c + (p->c_rows == 1 ? 0 : i * p->c_cols);
      float *yi = y + i * N;
      if (p->c_cols == 1)
        for (int64_t j = 0; j < N; j++) yi[j] = ci[0];
      else
        memcpy(yi, ci, sizeof(float) * (size_t)N);
    }
  }
  matmul(p->trans_a, p->trans_b, M, N, p->k, p->alpha, a, b, beta, y, cn->pool, cn->nthreads);
  apply_act(cn->n, y, M * N, cn->pool, cn->nthreads);
  return CLCNN_OK;
}

/* ---------------------------------------------------------------- MatMul */

static clcnn_status matmul_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                               int nout, clcnn_err *err) {
  (void)nin, (void)nout, (void)err;
  const matmul_params *p = cn->n->params;
  const float *a = in[0].data, *b = in[1].data;
  float *y = out[0].data;
  const int64_t M = p->m, N = p->n, K = p->k, br = p->batch_rank;
  const int nt = cn->nthreads;
  bool b_shared = true, a_full = true;
  for (int i = 0; i < br; i++) {
    if (p->b_batch[i] != 1) b_shared = false;
    if (p->a_batch[i] != p->batch[i]) a_full = false;
  }
  if (b_shared && a_full && p->batch_count * M <= 0x7fffffff) {
    /* One product: A's batch folds into its rows. */
    matmul(false, false, p->batch_count * M, N, K, 1.0f, a, b, 0.0f, y, cn->pool, nt);
  } else {
    /* Element strides of each batch dim in A and B (0 where broadcast). */
    int64_t sa[CLCNN_MAX_RANK], sb[CLCNN_MAX_RANK];
    int64_t za = M * K, zb = K * N;
    for (int i = (int)br - 1; i >= 0; i--) {
      sa[i] = p->a_batch[i] == 1 ? 0 : za;
      sb[i] = p->b_batch[i] == 1 ? 0 : zb;
      za *= p->a_batch[i];
      zb *= p->b_batch[i];
    }
    for (int64_t t = 0; t < p->batch_count; t++) {
      int64_t rem = t, oa = 0, ob = 0;
      for (int i = (int)br - 1; i >= 0; i--) {
        int64_t idx = rem % p->batch[i];
        rem /= p->batch[i];
        oa += idx * sa[i];
        ob += idx * sb[i];
      }
      matmul(false, false, M, N, K, 1.0f, a + oa, b + ob, 0.0f, y + t * M * N, cn->pool, nt);
    }
  }
  apply_act(cn->n, y, p->batch_count * M * N, cn->pool, nt);
  return CLCNN_OK;
}

/* ---------------------------------------------------------------- Einsum */

/* dst (contiguous, in the order of `labels`) = src read with each label's
 * stride: a transpose, or a diagonal where strides were added up. */
static void einsum_gather(const float *src, float *dst, const einsum_params *p, int nl,
                          const int *labels, const int64_t *strides) {
  int64_t idx[EINSUM_MAX_LABELS] = {0}, total = 1, off = 0;
  for (int i = 0; i < nl; i++) total *= p->size[labels[i]];
  for (int64_t e = 0; e < total; e++) {
    dst[e] = src[off];
    for (int i = nl - 1; i >= 0; i--) {
      int l = labels[i];
      off += strides[l];
      if (++idx[i] < p->size[l]) break;
      off -= strides[l] * p->size[l];
      idx[i] = 0;
    }
  }
}

/* Batched matrix product: A as [batch, m, k], B as [batch, k, n] (gathered
 * contiguous), C as [batch, m, n], then C into the output's order. */
static clcnn_status einsum_gemm(cpu_node *cn, const einsum_params *p, const float *a,
                                const float *b, float *y, clcnn_err *err) {
  int la[EINSUM_MAX_LABELS], lb[EINSUM_MAX_LABELS], lc[EINSUM_MAX_LABELS], na = 0, nb = 0, nc = 0;
  int64_t batch = 1, m = 1, n = 1, k = 1;
  for (int i = 0; i < p->nb; i++) {
    la[na++] = lb[nb++] = lc[nc++] = p->bl[i];
    batch *= p->size[p->bl[i]];
  }
  for (int i = 0; i < p->nm; i++) la[na++] = lc[nc++] = p->ml[i], m *= p->size[p->ml[i]];
  for (int i = 0; i < p->nk; i++) la[na++] = p->kl[i], k *= p->size[p->kl[i]];
  for (int i = 0; i < p->nk; i++) lb[nb++] = p->kl[i];
  for (int i = 0; i < p->nn; i++) lb[nb++] = lc[nc++] = p->nl[i], n *= p->size[p->nl[i]];
  float *ta = malloc(sizeof(float) * (size_t)(batch * m * k + batch * k * n + batch * m * n + 1));
  if (!ta) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  float *tb = ta + batch * m * k, *tc = tb + batch * k * n;
  einsum_gather(a, ta, p, na, la, p->stride[0]);
  einsum_gather(b, tb, p, nb, lb, p->stride[1]);
  for (int64_t i = 0; i < batch; i++)
    cpu_sgemm(cn->pool, cn->nthreads, false, false, m, n, k, 1.0f, ta + i * m * k, k,
              tb + i * k * n, n, 0.0f, tc + i * m * n, n);
  /* C's strides per label, then the output in its own order. */
  int64_t cs[EINSUM_MAX_LABELS] = {0}, acc = 1;
  for (int i = nc - 1; i >= 0; i--) cs[lc[i]] = acc, acc *= p->size[lc[i]];
  einsum_gather(tc, y, p, p->nout, p->out_label, cs);
  free(ta);
  return CLCNN_OK;
}

/* Any equation: for each output element, the sum over the summed labels of
 * the product of the inputs (in double). */
#define EINSUM_LOOP(T)                                                                \
  do {                                                                                \
    const T *x[EINSUM_MAX_INPUTS];                                                    \
    for (int i = 0; i < p->nin; i++) x[i] = in[i].data;                               \
    T *y = out[0].data;                                                               \
    int64_t oi[CLCNN_MAX_RANK] = {0}, ooff[EINSUM_MAX_INPUTS] = {0}, ny = 1, ns = 1;  \
    for (int d = 0; d < p->nout; d++) ny *= p->size[p->out_label[d]];                 \
    for (int s = 0; s < p->nsum; s++) ns *= p->size[p->sum_label[s]];                 \
    for (int64_t e = 0; e < ny; e++) {                                                \
      int64_t si[EINSUM_MAX_LABELS] = {0}, soff[EINSUM_MAX_INPUTS];                   \
      for (int i = 0; i < p->nin; i++) soff[i] = ooff[i];                             \
      double acc = 0;                                                                 \
      for (int64_t t = 0; t < ns; t++) {                                              \
        double prod = 1;                                                              \
        for (int i = 0; i < p->nin; i++) prod *= (double)x[i][soff[i]];               \
        acc += prod;                                                                  \
        for (int s = p->nsum - 1; s >= 0; s--) {                                      \
          int l = p->sum_label[s];                                                    \
          for (int i = 0; i < p->nin; i++) soff[i] += p->stride[i][l];                \
          if (++si[s] < p->size[l]) break;                                            \
          for (int i = 0; i < p->nin; i++) soff[i] -= p->stride[i][l] * p->size[l];   \
          si[s] = 0;                                                                  \
        }                                                                             \
      }                                                                               \
      y[e] = (T)acc;                                                                  \
      for (int d = p->nout - 1; d >= 0; d--) {                                        \
        int l = p->out_label[d];                                                      \
        for (int i = 0; i < p->nin; i++) ooff[i] += p->stride[i][l];                  \
        if (++oi[d] < p->size[l]) break;                                              \
        for (int i = 0; i < p->nin; i++) ooff[i] -= p->stride[i][l] * p->size[l];     \
        oi[d] = 0;                                                                    \
      }                                                                               \
    }                                                                                 \
  } while (0)

static clcnn_status einsum_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                               int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  const einsum_params *p = cn->n->params;
  size_t ybytes = (size_t)clcnn_tensor_numel(&out[0]) * dtype_size(out[0].dtype);
  for (int l = 0; l < p->nlabels; l++)
    if (p->size[l] == 0) { /* an empty sum: zeros */
      if (ybytes) memset(out[0].data, 0, ybytes);
      return CLCNN_OK;
    }
  if (p->gemm) return einsum_gemm(cn, p, in[0].data, in[1].data, out[0].data, err);
  if (out[0].dtype == CLCNN_DTYPE_FLOAT64) EINSUM_LOOP(double);
  else EINSUM_LOOP(float);
  return CLCNN_OK;
}

static const cpu_op gemm_cpu = {NULL, NULL, gemm_run, NULL};
static const cpu_op einsum_cpu = {NULL, NULL, einsum_run, NULL};
static const cpu_op matmul_cpu = {NULL, NULL, matmul_run, NULL};

const cpu_op *const cpu_ops_gemm[CLCNN_OP_COUNT] = {
    [CLCNN_OP_GEMM] = &gemm_cpu,
    [CLCNN_OP_MATMUL] = &matmul_cpu,
    [CLCNN_OP_EINSUM] = &einsum_cpu,
};
