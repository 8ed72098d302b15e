/* Parameters of the norm family (BatchNormalization, InstanceNormalization,
 * LayerNormalization, GroupNormalization, LRN, LpNormalization,
 * MeanVarianceNormalization), shared by the front half and every backend. Flat structs: they are copied with memcpy. */
#ifndef CLCNN_OPS_NORM_H
#define CLCNN_OPS_NORM_H

#include <stdint.h>

#include "../internal.h"

/* BatchNormalization (inference): y = (x - mean[p]) / sqrt(var[p] + eps) *
 * scale[p] + B[p], where p is the channel (spatial = 1) or, for opset 7 with
 * spatial = 0, the index into C x D1 x ... x Dn. */
typedef struct batchnorm_params {
  float epsilon;
  float momentum; /* training mode: running = input * momentum + batch * (1 - momentum) */
  int spatial; /* 1, or 0 (opset 7 only): statistics per C x D1.. element */
  /* training_mode = 1 (opset 14+): normalised by the batch's own mean and
   * (population) variance; outputs 1 and 2, where present, are the running
   * mean and variance. Runs on the CPU backend only, never folded. */
  int training;
  /* Set by infer: */
  int64_t batch;    /* N */
  int64_t channels; /* C */
  int64_t nstat;    /* number of statistics: C (spatial) or C*inner */
  int64_t block;    /* elements sharing one statistic: inner (spatial) or 1 */
} batchnorm_params;

/* InstanceNormalization: per (n, c) mean and variance over D1 x ... x Dn. */
typedef struct instancenorm_params {
  float epsilon;
  /* Set by infer: */
  int64_t batch, channels, inner;
} instancenorm_params;

/* LayerNormalization: statistics over dims [axis, rank). */
typedef struct layernorm_params {
  int64_t axis_attr; /* as written (may be negative) */
  float epsilon;
  int stash_type; /* ONNX dtype of the statistics; computed in float/double */
  /* Set by infer: */
  int axis;                        /* normalised axis */
  int64_t outer;                   /* prod(dims[0:axis]) */
  int64_t inner;                   /* prod(dims[axis:]) */
  int64_t scale_numel, bias_numel; /* inner, or less when broadcast */
} layernorm_params;

/* GroupNormalization: statistics per (n, group) over C/G x D1 x ... x Dn.
 * Opset 18: scale and bias have one value per group; opset 21: per channel. */
typedef struct groupnorm_params {
  float epsilon;
  int64_t num_groups;
  int per_channel; /* 1 from opset 21 */
  int stash_type;
  /* Set by infer: */
  int64_t batch, channels, inner;
} groupnorm_params;

/* LRN across channels: y = x / (bias + alpha / size * sum(x^2 over the
 * window [c - floor((size-1)/2), c + ceil((size-1)/2)]))^beta. */
typedef struct lrn_params {
  float alpha, beta, bias;
  int64_t size;
  /* Set by infer: */
  int64_t batch, channels, inner;
} lrn_params;

/* LpNormalization: y = x / ||x||_p along `axis` (p = 1 or 2), the input
 * viewed as [outer, len, inner]; a zero norm gives 0 (as onnxruntime). */
typedef struct lpnorm_params {
  int64_t axis_attr;
  int p;
  /* Set by infer: */
  int axis;
  int64_t outer, len, inner;
} lpnorm_params;

/* MeanVarianceNormalization: y = (x - mean) / (sqrt(var) + 1e-9), with mean
 * and (population) variance over `axes` (default 0, 2, 3). */
typedef struct mvn_params {
  int naxes;
  int64_t axes[CLCNN_MAX_RANK];
  /* Set by infer: */
  uint32_t mask; /* bit i: input dim i is reduced */
} mvn_params;

/* For an inference BatchNormalization node whose scale, B, mean and var
 * inputs are constant: per-channel y = x * scale[c] + shift[c], c <
 * channels. Returns UNSUPPORTED when an input is not constant (or when the
 * statistics are not per channel), SHAPE when their size is not `channels`. */
clcnn_status batchnorm_fold_scale(const ir_graph *g, const ir_node *bn, float *scale, float *shift,
                                  int64_t channels, clcnn_err *err);

#endif /* CLCNN_OPS_NORM_H */
