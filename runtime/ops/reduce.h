/* Parameters of the reduce family (ReduceMean, ReduceMax, ReduceSum,
 * ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceSumSquare,
 * ReduceLogSumExp, ArgMax, ArgMin; TopK and CumSum at the end), shared by
 * the front half and every backend.
 *
 * Element types: float32, float64, int64 and int32 for all but ReduceL2 and
 * ReduceLogSumExp (floats only); ReduceMax, ReduceMin, ArgMax and ArgMin
 * also uint8 and int8, ReduceMax and ReduceMin bool. A reduction over no
 * elements gives its identity: 0 for sums, 1 for the product, the lowest /
 * highest value for ReduceMax / ReduceMin, -inf for ReduceLogSumExp.
 * ArgMax and ArgMin reduce one axis to int64 indices (the first extreme, or
 * the last with select_last_index); their input is viewed as
 * [outer, len, inner] around that axis. */
#ifndef CLCNN_OPS_REDUCE_H
#define CLCNN_OPS_REDUCE_H

#include <stdbool.h>
#include <stdint.h>

#include "clcnn.h"

typedef struct reduce_params {
  int keepdims;
  int noop_with_empty_axes;
  int axes_from_input; /* axes come from input 1 (opset >= 18; ReduceSum >= 13) */
  int naxes;           /* axes as written (attribute or input); 0: none */
  int64_t axes[CLCNN_MAX_RANK];
  /* Set by infer: */
  int noop;      /* empty axes with noop_with_empty_axes: a copy */
  uint32_t mask; /* bit i set: input dim i is reduced */
  /* The input with adjacent dims of the same kind merged: dims[i] is kept
   * (reduced[i] == 0) or reduced (1). Backends iterate over this. */
  int rank;
  int64_t dims[CLCNN_MAX_RANK];
  uint8_t reduced[CLCNN_MAX_RANK];
  int64_t count; /* elements reduced into each output element */
  /* ArgMax, ArgMin: */
  int64_t axis_attr;
  int select_last_index;
  int axis;                    /* infer: normalized */
  int64_t outer, len, inner;   /* infer: the view around the axis */
} reduce_params;

/* TopK: the k largest (or smallest) elements along `axis`, sorted (ties:
 * the lower index first, as onnxruntime), and their int64 indices. The input
 * is viewed as [outer, len, inner]; k is an attribute before opset 10 and a
 * constant input from then on. float32, float64, int64, int32. */
typedef struct topk_params {
  int64_t axis_attr;
  int64_t k_attr; /* opset < 10 */
  int largest;
  int sorted; /* 0 is allowed; the output is sorted all the same */
  /* infer */
  int axis;
  int64_t k;
  int64_t outer, len, inner;
} topk_params;

/* CumSum(x, axis): running sums along the axis (a constant scalar input),
 * optionally exclusive (each sum leaves out its own element) and reverse
 * (from the end). float32 (summed in double), float64, int64, int32. */
typedef struct cumsum_params {
  int exclusive, reverse;
  /* infer */
  int axis;
  int64_t outer, len, inner;
} cumsum_params;

#endif /* CLCNN_OPS_REDUCE_H */
