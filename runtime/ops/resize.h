/* Parameters of the resize family (Resize, Upsample), shared by the front half
 * (runtime/ops/resize.c) and the backends. Flat struct: no pointers.
 *
 * After infer, every output coordinate x along axis a maps to the input
 * coordinate resize_coord() below gives, from scale[a] (the scale factor the
 * spec uses: output/input, or the 'scales' value), the input and output
 * sizes and the roi. Interpolation is separable: axes are resized one at a
 * time, in increasing order; axes with identity[a] set are left alone. */
#ifndef CLCNN_OPS_RESIZE_H
#define CLCNN_OPS_RESIZE_H

#include <stdint.h>

#include "clcnn.h"

typedef enum resize_mode {
  RESIZE_NEAREST = 0,
  RESIZE_LINEAR = 1,
  RESIZE_CUBIC = 2
} resize_mode;

typedef enum resize_coord_mode {
  RESIZE_HALF_PIXEL = 0,
  RESIZE_HALF_PIXEL_SYMMETRIC = 1,
  RESIZE_PYTORCH_HALF_PIXEL = 2,
  RESIZE_ALIGN_CORNERS = 3,
  RESIZE_ASYMMETRIC = 4,
  RESIZE_TF_HALF_PIXEL_FOR_NEAREST = 5,
  RESIZE_TF_CROP_AND_RESIZE = 6
} resize_coord_mode;

typedef enum resize_nearest_mode {
  RESIZE_ROUND_PREFER_FLOOR = 0,
  RESIZE_ROUND_PREFER_CEIL = 1,
  RESIZE_FLOOR = 2,
  RESIZE_CEIL = 3,
  RESIZE_LEGACY = 4 /* Resize-10, Upsample: floor when upsampling, ceil when downsampling */
} resize_nearest_mode;

typedef enum resize_aspect {
  RESIZE_STRETCH = 0,
  RESIZE_NOT_LARGER = 1,
  RESIZE_NOT_SMALLER = 2
} resize_aspect;

typedef struct resize_params {
  int mode;        /* resize_mode */
  int coord;       /* resize_coord_mode */
  int nearest;     /* resize_nearest_mode */
  int aspect;      /* resize_aspect (opset 18) */
  int antialias;   /* opset 18: linear/cubic filters widen when downsampling */
  int exclude_outside;
  float cubic_a;
  float extrapolation_value;
  int naxes_attr;  /* opset 18 'axes'; -1: all axes */
  int64_t axes_attr[CLCNN_MAX_RANK];
  int nscales_attr; /* Upsample opset 7 'scales' attribute; -1: none */
  float scales_attr[CLCNN_MAX_RANK];
  /* infer */
  int rank;
  int identity[CLCNN_MAX_RANK];    /* axis a is copied unchanged */
  double scale[CLCNN_MAX_RANK];
  double roi_start[CLCNN_MAX_RANK]; /* tf_crop_and_resize; else 0 */
  double roi_end[CLCNN_MAX_RANK];   /* tf_crop_and_resize; else 1 */
} resize_params;

/* Input coordinate of output coordinate x along one axis (the ONNX
 * coordinate_transformation_mode formulas). in_size/out_size are the
 * integer sizes; scale * in_size is the spec's (real) output length. */
static inline double resize_coord(int coord, double x, double scale, int64_t in_size,
                                  int64_t out_size, double roi_start, double roi_end) {
  double out_len = scale * (double)in_size;
  switch (coord) {
    case RESIZE_ALIGN_CORNERS:
      return out_len == 1.0 ? 0.0 : x * (double)(in_size - 1) / (out_len - 1.0);
    case RESIZE_ASYMMETRIC:
      return x / scale;
    case RESIZE_TF_HALF_PIXEL_FOR_NEAREST:
      return (x + 0.5) / scale;
    case RESIZE_TF_CROP_AND_RESIZE: {
      double span = (roi_end - roi_start) * (double)(in_size - 1);
      double v = out_len == 1.0 ? span / 2.0 : x * span / (out_len - 1.0);
      return v + roi_start * (double)(in_size - 1);
    }
    case RESIZE_PYTORCH_HALF_PIXEL:
      return out_len == 1.0 ? -0.5 : (x + 0.5) / scale - 0.5;
    case RESIZE_HALF_PIXEL_SYMMETRIC: {
      double adjustment = (double)out_size / out_len;
      double offset = (double)in_size / 2.0 * (1.0 - adjustment);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case RESIZE_HALF_PIXEL:
    default:
      return (x + 0.5) / scale - 0.5;
  }
}

/* GridSample: X [N, C, D_1 .. D_r] sampled at the points of grid
 * [N, O_1 .. O_r, r] (normalized to [-1, 1]; the last component is the
 * innermost dim, as x before y) into [N, C, O_1 .. O_r], r = 1..3. As ONNX's
 * reference: the point is unnormalized (align_corners: -1 and 1 are the
 * centres of the corner elements, else their outer edges), rounded half to
 * even for nearest; outside [lo, hi] (0 and D-1 with align_corners, else
 * -0.5 and D-0.5) it is clamped (border) or reflected (reflection) but for
 * cubic (as PyTorch and onnxruntime); then
 * each tap (1, 2 or 4 per dim: nearest, linear, cubic with a = -0.75)
 * outside the tensor reads 0 (zeros), the nearest element (border) or its
 * reflection. */
typedef enum grid_mode { GRID_LINEAR = 0, GRID_NEAREST = 1, GRID_CUBIC = 2 } grid_mode;
typedef enum grid_padding { GRID_ZEROS = 0, GRID_BORDER = 1, GRID_REFLECTION = 2 } grid_padding;

typedef struct gridsample_params {
  int mode;    /* grid_mode */
  int padding; /* grid_padding */
  int align_corners;
  /* infer */
  int r;                         /* spatial dims */
  int64_t n, c;                  /* batch and channels */
  int64_t in[3];                 /* D_1 .. D_r */
  int64_t points;                /* O_1 * .. * O_r */
} gridsample_params;

/* RoiAlign: X [N, C, H, W], rois [R, 4] (x1, y1, x2, y2 in X's coordinates
 * times 1/spatial_scale) and batch_indices [R] into [R, C, out_h, out_w]. As
 * ONNX's reference and onnxruntime: each bin of a region averages (avg) or
 * takes the largest of (max; of each sample's four weighted taps, as those
 * do) sampling_ratio^2 bilinear samples (0: ceil(region / bins) per dim, at
 * most 256 per dim: a larger sampling_ratio is refused); a
 * sample beyond one pixel outside X reads 0. half_pixel shifts the region by
 * -0.5 pixel; output_half_pixel (opset 10's only mode, torchvision's
 * aligned=False) does not, and makes a region at least one pixel wide. */
typedef enum roi_mode { ROI_AVG = 0, ROI_MAX = 1 } roi_mode;

typedef struct roialign_params {
  int mode;       /* roi_mode */
  int half_pixel; /* coordinate_transformation_mode */
  int64_t out_h, out_w, sampling_ratio;
  float spatial_scale;
  /* infer */
  int64_t n, c, h, w, rois;
} roialign_params;

#endif /* CLCNN_OPS_RESIZE_H */
