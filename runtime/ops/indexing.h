/* Parameters of the indexing family (GatherElements, GatherND,
 * ScatterElements and the older Scatter, ScatterND, OneHot, Trilu): operators
 * whose element positions come from index tensors or from the indices
 * themselves. Shared by the front half (runtime/ops/indexing.c) and the
 * backends. Flat structs: no pointers. Fields marked "infer" are set at
 * session creation.
 *
 * Index tensors are int64 or int32; a negative index counts from the end of
 * its axis. An index out of range is an error at run time (when the indices
 * are constant, already at session creation). Data of any element type moves
 * by its size; the reductions of the scatters (add, mul, max, min) work on
 * float32, float64, int64 and int32. */
#ifndef CLCNN_OPS_INDEXING_H
#define CLCNN_OPS_INDEXING_H

#include <stdint.h>

#include "clcnn.h"

typedef enum scatter_reduction {
  SCATTER_NONE = 0,
  SCATTER_ADD = 1,
  SCATTER_MUL = 2,
  SCATTER_MAX = 3,
  SCATTER_MIN = 4
} scatter_reduction;

/* GatherElements: output (same shape as indices, same rank as data) at
 * position p reads data at p with p[axis] replaced by indices[p].
 * ScatterElements / Scatter: output = data, then for each position p of
 * indices, output[p with p[axis] = indices[p]] (op)= updates[p], in order. */
typedef struct elements_params {
  int64_t axis_attr;
  int reduction; /* scatter_reduction */
  int axis;      /* infer: normalized */
} elements_params;

/* GatherND with batch_dims b over data [B..., D_b..., S...] and indices
 * [B..., I..., k]: for each batch and index tuple, the slice
 * data[batch, i_0, ..., i_{k-1}, :] (slice elements each).
 * ScatterND (b = 0): output = data, then each slice of updates is written
 * (or reduced) at data[i_0, ..., i_{k-1}, :], in order. */
typedef struct nd_params {
  int64_t batch_dims;
  int reduction; /* ScatterND: scatter_reduction */
  /* infer */
  int k;                       /* last dim of indices: index length */
  int64_t batch;               /* product of the b batch dims */
  int64_t tuples;              /* index tuples per batch */
  int64_t slice;               /* elements per slice */
  int64_t dims[CLCNN_MAX_RANK];   /* data dims b .. b + k - 1 (bounds of each index) */
  int64_t strides[CLCNN_MAX_RANK]; /* their strides in data, in elements */
  int64_t batch_stride;        /* elements of data per batch */
} nd_params;

/* OneHot(indices, depth, values): output has indices' shape with an axis of
 * length depth inserted at `axis`; element = values[1] where the index (a
 * negative one + depth) equals the position along it, else values[0]. An
 * index outside [-depth, depth - 1] gives a row of values[0]. */
typedef struct onehot_params {
  int64_t axis_attr;
  /* infer */
  int axis;
  int64_t depth;
  int64_t outer, inner; /* indices viewed as [outer, inner] around the axis */
} onehot_params;

/* Trilu: the last two dims [rows, cols] of each matrix keep the elements on
 * and above (upper) or on and below (lower) the k-th diagonal (element (i,
 * j) is kept when j - i >= k, resp. j - i <= k); the rest become 0. */
typedef struct trilu_params {
  int upper;
  /* infer */
  int64_t k;
  int64_t matrices, rows, cols;
} trilu_params;

#endif /* CLCNN_OPS_INDEXING_H */
