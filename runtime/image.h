/* Image <-> NCHW float conversion (runtime/image.c), with the plane and row
 * strides that runtime/tile.c needs to convert one tile or one band of rows
 * in place. Internal. */
#ifndef CLCNN_IMAGE_H
#define CLCNN_IMAGE_H

#include "internal.h"

/* Checks an image view; writes its row stride in bytes. */
clcnn_status image_check(const clcnn_image *img, size_t *stride, clcnn_err *err);
/* `opts` (NULL: defaults) checked and copied into `out`. */
clcnn_status image_opts_resolve(const clcnn_image_options *opts, clcnn_image_options *out,
                                clcnn_err *err);
/* The image (checked) into `channels` float planes: sample (x, y) of tensor
 * channel k goes to dst[k * plane + y * row + x]. */
clcnn_status image_to_planes(const clcnn_image *img, const clcnn_image_options *o, float *dst,
                             int channels, size_t plane, size_t row, clcnn_err *err);
/* The inverse: `channels` planes laid out as above into the image (checked). */
clcnn_status planes_to_image(const float *src, int channels, size_t plane, size_t row,
                             const clcnn_image_options *o, clcnn_image *img, clcnn_err *err);
/* A view of the rectangle (x, y, w, h) of a checked image. */
clcnn_image image_crop(const clcnn_image *img, size_t stride, int x, int y, int w, int h);

/* Puts the conversion of image input `ii` ahead of the graph (after the
 * inputs' shapes are bound, before inference): the model's input `ii->name`
 * becomes the output of Cast (8-bit images), Transpose (NHWC to NCHW) and a
 * 1x1 Conv that applies the channel mapping, scale, mean and std; a new graph
 * input of that name, uint8 or float32 [1, H, W, channels], takes its place.
 * `*input` is the new input's value. */
clcnn_status image_input_graph(ir_graph *g, const clcnn_image_input *ii, int *input,
                               clcnn_err *err);

#endif
