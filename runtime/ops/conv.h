/* Parameters of the conv family (Conv, ConvTranspose), shared by the front
 * half and every backend, and the sliding-window geometry that the pool
 * family shares with it. Flat structs: they are copied with memcpy.
 *
 * Layout is NCHW (N x C x D1 x ... x Dn); spatial arrays hold the n spatial
 * dims in order (D1 first). The front half supports 1 to 3 spatial dims. */
#ifndef CLCNN_OPS_CONV_H
#define CLCNN_OPS_CONV_H

#include <stdbool.h>
#include <stdint.h>

#include "../internal.h"

/* Largest number of spatial dims the front half accepts. */
#define WINDOW_MAX_SPATIAL 3

/* The auto_pad attribute. */
typedef enum auto_pad_mode {
  AUTO_PAD_NOTSET = 0,
  AUTO_PAD_SAME_UPPER = 1, /* out = ceil(in / stride); odd padding extra at the end */
  AUTO_PAD_SAME_LOWER = 2, /* same, extra padding at the beginning */
  AUTO_PAD_VALID = 3       /* no padding */
} auto_pad_mode;

/* Sliding-window attributes as written in the model (parse). A count of -1
 * means the attribute is absent. pads are [x1_begin, x2_begin, ...,
 * x1_end, x2_end, ...] as in ONNX. */
typedef struct window_attrs {
  int auto_pad; /* auto_pad_mode */
  int nkernel, npads, nstrides, ndilations;
  int64_t kernel[CLCNN_MAX_RANK];
  int64_t pads[2 * CLCNN_MAX_RANK];
  int64_t strides[CLCNN_MAX_RANK];
  int64_t dilations[CLCNN_MAX_RANK];
} window_attrs;

/* Resolved geometry of a sliding window (infer): everything a kernel needs.
 * For Conv and the pools, `in` is the input's and `out` the output's spatial
 * shape, and output position o reads input positions
 * o * strides - pads_begin + k * dilations, k in [0, kernel).
 * For ConvTranspose the same relation holds with the roles of input and
 * output swapped: input position i writes output positions
 * i * strides - pads_begin + k * dilations (pads crop the output; they may
 * be negative when output_shape asks for more than the natural size). */
typedef struct window_geom {
  int nspatial;
  int64_t in[CLCNN_MAX_RANK];
  int64_t out[CLCNN_MAX_RANK];
  int64_t kernel[CLCNN_MAX_RANK];
  int64_t strides[CLCNN_MAX_RANK];
  int64_t dilations[CLCNN_MAX_RANK];
  int64_t pads_begin[CLCNN_MAX_RANK];
  int64_t pads_end[CLCNN_MAX_RANK];
  int64_t in_size;     /* product of in[] */
  int64_t out_size;    /* product of out[] */
  int64_t kernel_size; /* product of kernel[] */
} window_geom;

/* Conv and ConvTranspose.
 * Conv: X [N, C_in, in...], W [C_out, C_in/group, kernel...], B [C_out].
 * ConvTranspose: X [N, C_in, in...], W [C_in, C_out/group, kernel...], B [C_out].
 * Whether B is present is read from the node's inputs (a pass may add it). */
typedef struct conv_params {
  /* Attributes (parse). */
  window_attrs win;
  int64_t group;
  int noutput_padding; /* ConvTranspose; -1 absent */
  int64_t output_padding[CLCNN_MAX_RANK];
  int noutput_shape;                    /* ConvTranspose; -1 absent */
  int64_t output_shape[CLCNN_MAX_RANK]; /* spatial dims only */
  /* Resolved by infer. */
  window_geom geom;
  int64_t batch;        /* N */
  int64_t in_channels;  /* C_in */
  int64_t out_channels; /* C_out */
  int64_t group_in;     /* C_in / group */
  int64_t group_out;    /* C_out / group */
  int pointwise;        /* Conv: kernel 1, stride 1, no padding: a plain GEMM */
  int depthwise;        /* Conv: group == C_in > 1 (one input channel per group) */
} conv_params;

/* Shared with the pool family (defined in runtime/ops/conv.c). */

/* Reads auto_pad, kernel_shape, pads, strides and dilations of node n and
 * checks their values and that their lengths agree. */
clcnn_status window_parse(const ir_node *n, window_attrs *a, clcnn_err *err);

/* Resolves the geometry of a Conv or pool window over `nspatial` input dims
 * `in`. `kernel` is the kernel shape (from the weights) or NULL to take
 * kernel_shape from the attributes. ceil_mode rounds the output size up
 * (the last window must start inside the input or the left padding).
 * Fails with SHAPE when the window does not fit. */
clcnn_status window_resolve(const window_attrs *a, int nspatial, const int64_t *in,
                            const int64_t *kernel, bool ceil_mode, window_geom *geom,
                            clcnn_err *err);

/* Product of dims with overflow check: -1 when a dim is negative or the
 * product exceeds 2^40. */
int64_t window_numel(int rank, const int64_t *dims);

#endif /* CLCNN_OPS_CONV_H */
