/* Parameters of the gemm family (Gemm, MatMul), shared by the front half
 * and every backend. Flat structs: they are copied with memcpy. */
#ifndef CLCNN_OPS_GEMM_H
#define CLCNN_OPS_GEMM_H

#include <stdint.h>

#include "../internal.h"

/* Gemm: Y[M, N] = alpha * op(A) * op(B) + beta * C, where op(A) is [M, K]
 * (A is [K, M] when trans_a), op(B) is [K, N] (B is [N, K] when trans_b) and
 * C, optional, broadcasts unidirectionally to [M, N]. */
typedef struct gemm_params {
  /* Attributes (parse). */
  float alpha, beta;
  int trans_a, trans_b;
  /* Resolved by infer. */
  int64_t m, n, k;
  int has_c; /* C is present (it is read only when beta != 0) */
  /* C viewed as [c_rows, c_cols] (a 1-D C is [1, N]); each is 1
   * (broadcast) or M / N respectively. */
  int64_t c_rows, c_cols;
} gemm_params;

/* MatMul with numpy semantics: A [..., M, K] x B [..., K, N] -> [..., M, N],
 * batch dims broadcast. A 1-D A is [1, K] with M removed from the output,
 * a 1-D B is [K, 1] with N removed. Batch arrays are aligned to the
 * output's batch rank (left-padded with 1). */
typedef struct matmul_params {
  int64_t m, n, k;
  int batch_rank;                  /* output rank minus the matrix dims */
  int64_t batch[CLCNN_MAX_RANK];   /* output batch dims */
  int64_t a_batch[CLCNN_MAX_RANK]; /* A's batch dims (1 where broadcast) */
  int64_t b_batch[CLCNN_MAX_RANK]; /* B's batch dims (1 where broadcast) */
  int64_t batch_count;             /* product of batch[] */
  int a_vector, b_vector;          /* A / B was 1-D */
} matmul_params;

/* Resolves a MatMul of A and B (any element types) into p and the output
 * shape; SHAPE when they do not multiply or broadcast. Shared with the quant
 * family (MatMulInteger, QLinearMatMul). */
clcnn_status matmul_resolve(const clcnn_tensor *a, const clcnn_tensor *b, matmul_params *p,
                            int *out_rank, int64_t *out_dims, clcnn_err *err);
/* Einsum: the equation is parsed into per-input labels (parse) and, with
 * the shapes, into one list of distinct labels with their sizes and each
 * input's stride along each (infer). A label is a letter, or one dim of the
 * ellipsis (broadcast, right-aligned, across the inputs). A label that an
 * input repeats reads its diagonal (the strides add up). The output holds
 * the listed labels (implicit: the ellipsis, then the letters that occur
 * once, in ASCII order); every other label is summed over. float32 and
 * float64. */
#define EINSUM_MAX_INPUTS 8
#define EINSUM_MAX_LABELS 32
#define EINSUM_ELLIPSIS 1 /* in a term: where the ellipsis stands */

typedef struct einsum_params {
  /* parse: letters as their characters, EINSUM_ELLIPSIS for "..." */
  int nin;
  int nterm[EINSUM_MAX_INPUTS];
  char term[EINSUM_MAX_INPUTS][CLCNN_MAX_RANK + 1];
  int explicit_out;
  int nout_term;
  char out_term[CLCNN_MAX_RANK + 1];
  /* infer */
  int nlabels;
  int64_t size[EINSUM_MAX_LABELS];
  int64_t stride[EINSUM_MAX_INPUTS][EINSUM_MAX_LABELS]; /* 0: the input lacks the label */
  int nout;                        /* output rank */
  int out_label[CLCNN_MAX_RANK];   /* label of each output dim */
  int nsum;                        /* labels summed over */
  int sum_label[EINSUM_MAX_LABELS];
  /* Two float32 inputs whose labels are batch (both and the output), m (A
   * and the output), n (B and the output) or k (both, summed), none repeated:
   * a batched matrix product after transposes. */
  int gemm;
  int nb, nm, nn, nk;
  int bl[EINSUM_MAX_LABELS], ml[EINSUM_MAX_LABELS], nl[EINSUM_MAX_LABELS],
      kl[EINSUM_MAX_LABELS];
} einsum_params;

#endif /* CLCNN_OPS_GEMM_H */
