/* Parameters of the reduce family (ReduceMean, ReduceMax, ReduceSum), shared
 * by the front half and every backend. */
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
} reduce_params;

#endif /* CLCNN_OPS_REDUCE_H */
