/* Parameters of the softmax family (Softmax, LogSoftmax), shared by the
 * front half and every backend. */
#ifndef CLCNN_OPS_SOFTMAX_H
#define CLCNN_OPS_SOFTMAX_H

#include <stdint.h>

/* The input is viewed as [outer, n, inner] and normalised along n.
 * Before opset 13 the input is coerced to 2D at `axis` (inner = 1 and n is
 * the product of dims[axis:]); from opset 13 n = dims[axis]. */
typedef struct softmax_params {
  int64_t axis_attr; /* as written (may be negative) */
  int coerce_2d;     /* opset < 13 */
  /* Set by infer: */
  int axis; /* normalised axis */
  int64_t outer, n, inner;
} softmax_params;

#endif /* CLCNN_OPS_SOFTMAX_H */
