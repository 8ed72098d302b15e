/* Parameters of the pool family (MaxPool, AveragePool, LpPool,
 * GlobalAveragePool, GlobalMaxPool), shared by the front half and every
 * backend. Flat structs: they are copied with memcpy. Layout is NCHW. */
#ifndef CLCNN_OPS_POOL_H
#define CLCNN_OPS_POOL_H

#include <stdint.h>

#include "conv.h"

typedef enum pool_kind { POOL_MAX = 0, POOL_AVG = 1, POOL_LP = 2 } pool_kind;

/* MaxPool, AveragePool, LpPool over a window; GlobalAveragePool and
 * GlobalMaxPool over the whole of D1 x ... x Dn (global = 1: the window
 * attributes are unused; geom.in and geom.kernel are the spatial dims,
 * geom.out is all 1, geom.in_size their product). */
typedef struct pool_params {
  int kind; /* pool_kind */
  int global;
  /* Attributes (parse). */
  window_attrs win;
  int ceil_mode;         /* MaxPool/AveragePool (opset 10+), LpPool (opset 18+) */
  int count_include_pad; /* AveragePool: pads count in the divisor */
  int storage_order;     /* MaxPool: 0 row major, 1 column major (Indices only) */
  int64_t p;             /* LpPool: exponent (>= 1) */
  /* Resolved by infer. Window taps that fall in the padding are skipped:
   * max ignores them, average divides by the number of taps inside the
   * input (count_include_pad = 0) or inside the padded input [-pads_begin,
   * in + pads_end) (= 1; taps past that, from ceil_mode, never count), Lp
   * sums |x|^p over the taps inside the input. */
  window_geom geom;
  int64_t batch, channels;
  int indices; /* MaxPool: the Indices output is requested */
} pool_params;

#endif /* CLCNN_OPS_POOL_H */
