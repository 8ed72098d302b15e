/* Parameters of the dynamic family: operators whose output shape depends on
 * the values of their inputs (NonZero, NonMaxSuppression). Their front half
 * gives an upper bound of the output shape and marks the output dynamic; the
 * CPU backend writes the actual dims when it runs them (see
 * docs/design-dynamic-shapes.md and runtime/sched.c). */
#ifndef CLCNN_OPS_DYNAMIC_H
#define CLCNN_OPS_DYNAMIC_H

#include <stdint.h>

typedef struct nms_params {
  int center_point_box; /* 0: [y1, x1, y2, x2] (any two corners); 1: [xc, yc, w, h] */
  /* Set by infer: */
  int64_t batches, classes, boxes;
} nms_params;

#endif /* CLCNN_OPS_DYNAMIC_H */
