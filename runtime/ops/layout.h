/* Parameters of the layout family (Concat, Split, Slice, Transpose, Gather,
 * Tile, Expand, Pad, DepthToSpace, SpaceToDepth), shared by the front half
 * (runtime/ops/layout.c) and the backends. Flat structs: no pointers. Fields
 * marked "infer" are completed at session creation from the input shapes and
 * constant inputs; the output shapes (set by infer) complete the description. */
#ifndef CLCNN_OPS_LAYOUT_H
#define CLCNN_OPS_LAYOUT_H

#include <stdint.h>

#include "clcnn.h"

/* Concat: inputs are joined along `axis`; their sizes come from their shapes. */
typedef struct concat_params {
  int64_t axis_attr;
  int axis; /* infer: normalized */
} concat_params;

/* Split: output k takes its own size along `axis` (from its shape), in order. */
typedef struct split_params {
  int64_t axis_attr;
  int num_outputs; /* opset 18 attribute; 0 when absent */
  int axis;        /* infer: normalized */
} split_params;

/* Slice, normalized by infer per input axis: output index i along axis a
 * reads input index start[a] + i * step[a] (steps may be negative). Axes
 * that are not sliced have start 0 and step 1. */
typedef struct slice_params {
  /* opset < 10 attributes */
  int nattr; /* entries of starts/ends (and axes if has_axes); -1 for opset >= 10 */
  int has_axes;
  int64_t attr_starts[CLCNN_MAX_RANK];
  int64_t attr_ends[CLCNN_MAX_RANK];
  int64_t attr_axes[CLCNN_MAX_RANK];
  /* infer */
  int rank;
  int64_t start[CLCNN_MAX_RANK];
  int64_t step[CLCNN_MAX_RANK];
} slice_params;

/* Transpose: output axis i is input axis perm[i]. */
typedef struct transpose_params {
  int nperm_attr; /* -1: no 'perm' (reverse) */
  int64_t perm_attr[CLCNN_MAX_RANK];
  int rank;                /* infer */
  int perm[CLCNN_MAX_RANK]; /* infer */
} transpose_params;

/* Gather: output = data[..., indices, ...] along `axis`; negative indices
 * count from the end. */
typedef struct gather_params {
  int64_t axis_attr;
  int axis; /* infer */
} gather_params;

/* Tile: output dim i = input dim i * repeats[i]. */
typedef struct tile_params {
  int rank;                         /* infer */
  int64_t repeats[CLCNN_MAX_RANK];  /* infer, from the constant input */
} tile_params;

/* Expand: numpy broadcast of the input to the output shape (from infer). */
typedef struct expand_params {
  int rank; /* infer: output rank */
} expand_params;

typedef enum pad_mode {
  PAD_CONSTANT = 0,
  PAD_REFLECT = 1,
  PAD_EDGE = 2,
  PAD_WRAP = 3
} pad_mode;

/* Pad: output index o along axis a reads input index o - begin[a], mapped
 * into range by the mode where it falls outside (constant: the value).
 * Negative pads crop. */
typedef struct pad_params {
  int mode; /* pad_mode */
  /* opset < 11 attributes */
  int npads_attr; /* -1 for opset >= 11 */
  int64_t pads_attr[2 * CLCNN_MAX_RANK];
  float value_attr;
  /* infer */
  int rank;
  int64_t begin[CLCNN_MAX_RANK];
  int64_t end[CLCNN_MAX_RANK];
  int value_from_input; /* constant_value is a non-constant input: read it at run */
  uint8_t value[8];     /* the constant, in the data type's representation */
} pad_params;

/* DepthToSpace / SpaceToDepth on [N, C, H, W] with block b:
 * DepthToSpace gives [N, C / b^2, H b, W b]; output (n, c, h b + i, w b + j)
 * reads input channel (i b + j) C/b^2 + c in DCR mode (the default) and
 * c b^2 + i b + j in CRD mode (opset 11), at (h, w). SpaceToDepth is the
 * inverse of DCR: [N, C b^2, H / b, W / b]. */
typedef struct depth_space_params {
  int64_t blocksize;
  int crd; /* DepthToSpace mode CRD */
} depth_space_params;

#endif /* CLCNN_OPS_LAYOUT_H */
