/* Front half of the resize family: attributes, validation, shape inference.
 * Resize (opset 10: scales; 11+: roi, scales, sizes; 18: axes, aspect
 * policies, antialias) and Upsample (opset 7: scales attribute; 9: input). */
#include <math.h>
#include <string.h>

#include "../internal.h"
#include "resize.h"
#include "shape.h"

static bool str_is(const char *a, const char *b) { return strcmp(a, b) == 0; }

static clcnn_status parse_mode(const ir_node *n, resize_params *p, clcnn_err *err) {
  const char *s;
  clcnn_status st = op_attr_string(n, "mode", "nearest", &s, err);
  if (st) return st;
  if (str_is(s, "nearest")) p->mode = RESIZE_NEAREST;
  else if (str_is(s, "linear") || (n->op == CLCNN_OP_UPSAMPLE && str_is(s, "bilinear")))
    p->mode = RESIZE_LINEAR;
  else if (str_is(s, "cubic") && n->op == CLCNN_OP_RESIZE && n->opset >= 11)
    p->mode = RESIZE_CUBIC;
  else return err_set(err, CLCNN_ERROR_UNSUPPORTED, "attribute 'mode' = '%s' is not supported", s);
  return CLCNN_OK;
}

static clcnn_status upsample_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  resize_params *p = n->params;
  clcnn_status st = op_arity(n, n->opset >= 9 ? 2 : 1, n->opset >= 9 ? 2 : 1, 1, 1, err);
  if (st) return st;
  if ((st = parse_mode(n, p, err))) return st;
  p->coord = RESIZE_ASYMMETRIC;
  p->nearest = RESIZE_LEGACY;
  p->naxes_attr = -1;
  p->nscales_attr = -1;
  if (n->opset < 9) {
    const ir_attr *a = ir_attr_find(n, "scales");
    if (!a || a->type != IR_ATTR_FLOATS)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'scales' (floats) is required");
    if (ir_attr_floats(n, "scales", p->scales_attr, CLCNN_MAX_RANK) < 0)
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "attribute 'scales' has too many values");
    p->nscales_attr = (int)a->n;
  }
  return CLCNN_OK;
}

static clcnn_status resize_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  resize_params *p = n->params;
  clcnn_status st;
  p->naxes_attr = -1;
  p->nscales_attr = -1;
  p->cubic_a = -0.75f;
  if (n->opset < 11) {
    if ((st = op_arity(n, 2, 2, 1, 1, err))) return st;
    if ((st = parse_mode(n, p, err))) return st;
    p->coord = RESIZE_ASYMMETRIC;
    p->nearest = RESIZE_LEGACY;
    return CLCNN_OK;
  }
  if ((st = op_arity(n, n->opset >= 13 ? 1 : 3, 4, 1, 1, err))) return st;
  if ((st = parse_mode(n, p, err))) return st;
  const char *s;
  if ((st = op_attr_string(n, "coordinate_transformation_mode", "half_pixel", &s, err))) return st;
  if (str_is(s, "half_pixel")) p->coord = RESIZE_HALF_PIXEL;
  else if (str_is(s, "half_pixel_symmetric")) p->coord = RESIZE_HALF_PIXEL_SYMMETRIC;
  else if (str_is(s, "pytorch_half_pixel")) p->coord = RESIZE_PYTORCH_HALF_PIXEL;
  else if (str_is(s, "align_corners")) p->coord = RESIZE_ALIGN_CORNERS;
  else if (str_is(s, "asymmetric")) p->coord = RESIZE_ASYMMETRIC;
  else if (str_is(s, "tf_half_pixel_for_nearest")) p->coord = RESIZE_TF_HALF_PIXEL_FOR_NEAREST;
  else if (str_is(s, "tf_crop_and_resize")) p->coord = RESIZE_TF_CROP_AND_RESIZE;
  else
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "attribute 'coordinate_transformation_mode' = '%s' is not supported", s);
  if ((st = op_attr_string(n, "nearest_mode", "round_prefer_floor", &s, err))) return st;
  if (str_is(s, "round_prefer_floor")) p->nearest = RESIZE_ROUND_PREFER_FLOOR;
  else if (str_is(s, "round_prefer_ceil")) p->nearest = RESIZE_ROUND_PREFER_CEIL;
  else if (str_is(s, "floor")) p->nearest = RESIZE_FLOOR;
  else if (str_is(s, "ceil")) p->nearest = RESIZE_CEIL;
  else
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "attribute 'nearest_mode' = '%s' is not supported",
                   s);
  int64_t v;
  if ((st = op_attr_float(n, "cubic_coeff_a", -0.75f, &p->cubic_a, err))) return st;
  if ((st = op_attr_int(n, "exclude_outside", 0, &v, err))) return st;
  if (v != 0 && v != 1)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'exclude_outside' must be 0 or 1");
  p->exclude_outside = (int)v;
  if ((st = op_attr_float(n, "extrapolation_value", 0.0f, &p->extrapolation_value, err)))
    return st;
  p->aspect = RESIZE_STRETCH;
  if (n->opset >= 18) {
    if ((st = op_attr_int(n, "antialias", 0, &v, err))) return st;
    if (v != 0 && v != 1)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'antialias' must be 0 or 1");
    p->antialias = (int)v && p->mode != RESIZE_NEAREST; /* no effect on nearest */
    if ((st = op_attr_ints(n, "axes", p->axes_attr, CLCNN_MAX_RANK, &p->naxes_attr, err)))
      return st;
    if ((st = op_attr_string(n, "keep_aspect_ratio_policy", "stretch", &s, err))) return st;
    if (str_is(s, "stretch")) p->aspect = RESIZE_STRETCH;
    else if (str_is(s, "not_larger")) p->aspect = RESIZE_NOT_LARGER;
    else if (str_is(s, "not_smaller")) p->aspect = RESIZE_NOT_SMALLER;
    else
      return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                     "attribute 'keep_aspect_ratio_policy' = '%s' is not supported", s);
  }
  return CLCNN_OK;
}

/* A constant float input of exactly `count` values into out; UNSUPPORTED if
 * not constant. */
static clcnn_status const_floats(const ir_value *v, const char *what, int count, double *out,
                                 clcnn_err *err) {
  if (!v->is_const || !v->t.data)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input '%s' must be a constant", what);
  if (v->t.dtype != CLCNN_DTYPE_FLOAT32 && v->t.dtype != CLCNN_DTYPE_FLOAT64 &&
      v->t.dtype != CLCNN_DTYPE_FLOAT16)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input '%s' must be a float tensor", what);
  if (clcnn_tensor_numel(&v->t) != count)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input '%s' has %lld values; %d expected", what,
                   (long long)clcnn_tensor_numel(&v->t), count);
  for (int i = 0; i < count; i++) {
    out[i] = v->t.dtype == CLCNN_DTYPE_FLOAT16
                 ? f16_to_float(((const uint16_t *)v->t.data)[i])
                 : tensor_get_f64(&v->t, i);
    if (!isfinite(out[i]))
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input '%s' has a non-finite value", what);
  }
  return CLCNN_OK;
}

/* An input that is present and not empty (empty tensors stand for "absent"
 * in Resize 11-12). */
static const ir_value *given(const ir_graph *g, const ir_node *n, int i) {
  const ir_value *v = ir_in(g, n, i);
  return v && clcnn_tensor_numel(&v->t) > 0 ? v : NULL;
}

static clcnn_status resize_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  resize_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0);
  clcnn_status st;
  if (!dtype_size(x->t.dtype))
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input type %s is not supported",
                   dtype_name(x->t.dtype));
  if (p->mode != RESIZE_NEAREST && x->t.dtype != CLCNN_DTYPE_FLOAT32)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "%s interpolation of %s is not supported (float32 only)",
                   p->mode == RESIZE_LINEAR ? "linear" : "cubic", dtype_name(x->t.dtype));
  int rank = x->t.rank;
  p->rank = rank;
  /* The axes that scales/sizes/roi describe. */
  int axes[CLCNN_MAX_RANK], na = rank;
  if (p->naxes_attr >= 0) {
    bool seen[CLCNN_MAX_RANK] = {false};
    na = p->naxes_attr;
    for (int i = 0; i < na; i++) {
      if (!shape_axis(p->axes_attr[i], rank, &axes[i]))
        return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is out of range for rank %d",
                       (long long)p->axes_attr[i], rank);
      if (seen[axes[i]]) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "an axis is repeated");
      seen[axes[i]] = true;
    }
  } else {
    for (int i = 0; i < rank; i++) axes[i] = i;
  }
  double scales[CLCNN_MAX_RANK], roi[2 * CLCNN_MAX_RANK];
  int64_t sizes[CLCNN_MAX_RANK];
  bool have_scales = false, have_sizes = false;
  for (int a = 0; a < rank; a++) {
    p->scale[a] = 1.0;
    p->roi_start[a] = 0.0;
    p->roi_end[a] = 1.0;
  }
  if (p->nscales_attr >= 0) { /* Upsample-7 */
    if (p->nscales_attr != rank)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'scales' has %d values for rank %d",
                     p->nscales_attr, rank);
    for (int i = 0; i < rank; i++) scales[i] = p->scales_attr[i];
    have_scales = true;
  } else if (n->op == CLCNN_OP_UPSAMPLE || n->opset < 11) { /* Upsample-9, Resize-10 */
    if ((st = const_floats(ir_in(g, n, 1), "scales", rank, scales, err))) return st;
    have_scales = true;
  } else {
    const ir_value *vr = given(g, n, 1), *vs = given(g, n, 2), *vz = given(g, n, 3);
    if (vs && vz)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'scales' and 'sizes' are both given");
    if (!vs && !vz)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "one of 'scales' and 'sizes' is required");
    if (vs) {
      if ((st = const_floats(vs, "scales", na, scales, err))) return st;
      have_scales = true;
    } else {
      int k = 0;
      if ((st = op_const_ints(g, n, 3, "sizes", sizes, CLCNN_MAX_RANK, &k, err))) return st;
      if (k != na)
        return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'sizes' has %d values; %d expected", k, na);
      have_sizes = true;
    }
    if (p->coord == RESIZE_TF_CROP_AND_RESIZE) {
      if (!vr)
        return err_set(err, CLCNN_ERROR_INVALID_MODEL, "tf_crop_and_resize needs the 'roi' input");
      if ((st = const_floats(vr, "roi", 2 * na, roi, err))) return st;
      for (int i = 0; i < na; i++) {
        p->roi_start[axes[i]] = roi[i];
        p->roi_end[axes[i]] = roi[na + i];
      }
    }
  }
  int64_t dims[CLCNN_MAX_RANK];
  memcpy(dims, x->t.dims, sizeof dims);
  if (have_scales) {
    for (int i = 0; i < na; i++) {
      int a = axes[i];
      double s = scales[i];
      if (!(s > 0.0) || s > 1e9)
        return err_set(err, CLCNN_ERROR_INVALID_MODEL, "scale %g is not a positive number", s);
      double o = floor((double)x->t.dims[a] * (p->roi_end[a] - p->roi_start[a]) * s);
      if (!(o >= 0.0) || o > (double)SHAPE_MAX_NUMEL)
        return err_set(err, CLCNN_ERROR_SHAPE, "the output size of axis %d is invalid", a);
      p->scale[a] = s;
      dims[a] = (int64_t)o;
    }
  } else if (have_sizes) {
    double common = 0.0;
    bool have_common = false;
    for (int i = 0; i < na; i++) {
      int a = axes[i];
      if (sizes[i] < 0 || sizes[i] > SHAPE_MAX_NUMEL)
        return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'sizes' has the invalid value %lld",
                       (long long)sizes[i]);
      if (x->t.dims[a] == 0) {
        if (sizes[i] != 0)
          return err_set(err, CLCNN_ERROR_SHAPE, "cannot resize the empty axis %d", a);
        continue;
      }
      double s = (double)sizes[i] / (double)x->t.dims[a];
      if (!have_common || (p->aspect == RESIZE_NOT_LARGER && s < common) ||
          (p->aspect == RESIZE_NOT_SMALLER && s > common))
        common = s;
      have_common = true;
      p->scale[a] = s;
      dims[a] = sizes[i];
    }
    if (p->aspect != RESIZE_STRETCH) {
      for (int i = 0; i < na; i++) {
        int a = axes[i];
        if (x->t.dims[a] == 0) continue;
        p->scale[a] = common;
        dims[a] = (int64_t)(common * (double)x->t.dims[a] + 0.5);
      }
    }
  }
  for (int a = 0; a < rank; a++) {
    if (dims[a] > 0 && !(p->scale[a] > 0.0))
      return err_set(err, CLCNN_ERROR_SHAPE, "axis %d has scale 0", a);
    if (dims[a] > 0 && x->t.dims[a] == 0)
      return err_set(err, CLCNN_ERROR_SHAPE, "cannot resize the empty axis %d", a);
    bool roi_id = p->coord != RESIZE_TF_CROP_AND_RESIZE ||
                  (fabs(p->roi_start[a]) <= 1e-9 && fabs(p->roi_end[a] - 1.0) <= 1e-9);
    p->identity[a] = fabs(p->scale[a] - 1.0) <= 1e-9 && dims[a] == x->t.dims[a] && roi_id;
  }
  if (!shape_dims_ok(rank, dims)) {
    char buf[160];
    return err_set(err, CLCNN_ERROR_SHAPE, "the output shape %s is invalid or too large",
                   shape_str(rank, dims, buf, sizeof buf));
  }
  ir_set_shape(ir_out(g, n, 0), x->t.dtype, rank, dims);
  return CLCNN_OK;
}

static double resize_flops(const ir_graph *g, const ir_node *n) {
  const resize_params *p = n->params;
  const ir_value *y = ir_out(g, n, 0);
  if (!y || p->mode == RESIZE_NEAREST) return 0.0;
  int active = 0;
  for (int a = 0; a < p->rank; a++) active += !p->identity[a];
  double taps = p->mode == RESIZE_LINEAR ? 2.0 : 4.0;
  return 2.0 * taps * active * (double)clcnn_tensor_numel(&y->t);
}

static const op_front resize_front = {sizeof(resize_params), resize_parse, resize_infer,
                                      resize_flops};
static const op_front upsample_front = {sizeof(resize_params), upsample_parse, resize_infer,
                                        resize_flops};

/* ------------------------------------------------------------ GridSample */

static clcnn_status gridsample_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  gridsample_params *p = n->params;
  clcnn_status st = op_arity(n, 2, 2, 1, 1, err);
  if (st) return st;
  /* Opset 20 renamed bilinear and bicubic to linear and cubic. */
  const bool v20 = n->opset >= 20;
  const char *mode, *pad;
  int64_t ac;
  if ((st = op_attr_string(n, "mode", v20 ? "linear" : "bilinear", &mode, err)) ||
      (st = op_attr_string(n, "padding_mode", "zeros", &pad, err)) ||
      (st = op_attr_int(n, "align_corners", 0, &ac, err)))
    return st;
  if (!strcmp(mode, v20 ? "linear" : "bilinear")) p->mode = GRID_LINEAR;
  else if (!strcmp(mode, "nearest")) p->mode = GRID_NEAREST;
  else if (!strcmp(mode, v20 ? "cubic" : "bicubic")) p->mode = GRID_CUBIC;
  else
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'mode' = '%s' is not valid in opset %d",
                   mode, n->opset);
  if (!strcmp(pad, "zeros")) p->padding = GRID_ZEROS;
  else if (!strcmp(pad, "border")) p->padding = GRID_BORDER;
  else if (!strcmp(pad, "reflection")) p->padding = GRID_REFLECTION;
  else
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'padding_mode' = '%s' is not valid",
                   pad);
  p->align_corners = ac != 0;
  return CLCNN_OK;
}

static clcnn_status gridsample_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  gridsample_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  const ir_value *grid = op_data_input(g, n, 1, err);
  if (!grid) return err->status;
  char a[160], b[160];
  if (x->t.dtype != CLCNN_DTYPE_FLOAT32 || grid->t.dtype != CLCNN_DTYPE_FLOAT32)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "X and grid must be float32 (%s, %s)",
                   dtype_name(x->t.dtype), dtype_name(grid->t.dtype));
  int r = x->t.rank - 2;
  if (r < 1 || r > 3 || (n->opset < 20 && r != 2))
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "X has rank %d; 4-D (and from opset 20 3-D and 5-D) inputs are supported",
                   x->t.rank);
  if (grid->t.rank != r + 2 || grid->t.dims[0] != x->t.dims[0] || grid->t.dims[r + 1] != r)
    return err_set(err, CLCNN_ERROR_SHAPE, "grid %s does not fit X %s: [N, spatial..., %d] expected",
                   shape_str(grid->t.rank, grid->t.dims, a, sizeof a),
                   shape_str(x->t.rank, x->t.dims, b, sizeof b), r);
  p->r = r;
  p->n = x->t.dims[0];
  p->c = x->t.dims[1];
  for (int d = 0; d < r; d++) p->in[d] = x->t.dims[2 + d];
  p->points = shape_numel(r, grid->t.dims + 1);
  int64_t od[CLCNN_MAX_RANK] = {p->n, p->c};
  for (int d = 0; d < r; d++) od[2 + d] = grid->t.dims[1 + d];
  return op_set_output(g, n, 0, CLCNN_DTYPE_FLOAT32, r + 2, od, err);
}

static double gridsample_flops(const ir_graph *g, const ir_node *n) {
  const gridsample_params *p = n->params;
  const ir_value *y = ir_out(g, n, 0);
  if (!p || !y) return 0;
  double taps = p->mode == GRID_NEAREST ? 1 : p->mode == GRID_LINEAR ? 2 : 4;
  return 2.0 * pow(taps, p->r) * (double)clcnn_tensor_numel(&y->t);
}

static const op_front gridsample_front = {sizeof(gridsample_params), gridsample_parse,
                                          gridsample_infer, gridsample_flops};

/* -------------------------------------------------------------- RoiAlign */

static clcnn_status roialign_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  roialign_params *p = n->params;
  clcnn_status st = op_arity(n, 3, 3, 1, 1, err);
  if (st) return st;
  /* Opset 16 added coordinate_transformation_mode (default half_pixel);
   * opset 10 behaves as output_half_pixel. */
  const char *mode, *coord;
  int64_t oh, ow, sr;
  float scale;
  if ((st = op_attr_string(n, "mode", "avg", &mode, err)) ||
      (st = op_attr_string(n, "coordinate_transformation_mode",
                           n->opset >= 16 ? "half_pixel" : "output_half_pixel", &coord, err)) ||
      (st = op_attr_int(n, "output_height", 1, &oh, err)) ||
      (st = op_attr_int(n, "output_width", 1, &ow, err)) ||
      (st = op_attr_int(n, "sampling_ratio", 0, &sr, err)) ||
      (st = op_attr_float(n, "spatial_scale", 1.0f, &scale, err)))
    return st;
  if (!strcmp(mode, "avg")) p->mode = ROI_AVG;
  else if (!strcmp(mode, "max")) p->mode = ROI_MAX;
  else return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'mode' = '%s' is not valid", mode);
  if (!strcmp(coord, "half_pixel")) p->half_pixel = 1;
  else if (!strcmp(coord, "output_half_pixel")) p->half_pixel = 0;
  else
    return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                   "attribute 'coordinate_transformation_mode' = '%s' is not valid", coord);
  if (oh < 1 || ow < 1 || oh > (1 << 20) || ow > (1 << 20))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                   "output_height and output_width must be in 1..2^20 (%lld, %lld)",
                   (long long)oh, (long long)ow);
  if (sr < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "sampling_ratio must not be negative (%lld)",
                   (long long)sr);
  if (sr > 256) /* the CPU kernel's ROI_MAX_GRID */
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "sampling_ratio %lld is not supported (at most 256 samples per bin and dim)",
                   (long long)sr);
  if (!(scale > 0) || !isfinite(scale))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "spatial_scale must be positive (%g)",
                   (double)scale);
  p->out_h = oh, p->out_w = ow, p->sampling_ratio = sr, p->spatial_scale = scale;
  return CLCNN_OK;
}

static clcnn_status roialign_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  roialign_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  const ir_value *rois = op_data_input(g, n, 1, err);
  if (!rois) return err->status;
  const ir_value *bi = op_data_input(g, n, 2, err);
  if (!bi) return err->status;
  char a[160], b[160];
  if (x->t.dtype != CLCNN_DTYPE_FLOAT32 || rois->t.dtype != CLCNN_DTYPE_FLOAT32)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "X and rois must be float32 (%s, %s)",
                   dtype_name(x->t.dtype), dtype_name(rois->t.dtype));
  if (bi->t.dtype != CLCNN_DTYPE_INT64)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "batch_indices must be int64, not %s",
                   dtype_name(bi->t.dtype));
  if (x->t.rank != 4)
    return err_set(err, CLCNN_ERROR_SHAPE, "X has rank %d; [N, C, H, W] expected", x->t.rank);
  if (rois->t.rank != 2 || rois->t.dims[1] != 4 || bi->t.rank != 1 ||
      bi->t.dims[0] != rois->t.dims[0])
    return err_set(err, CLCNN_ERROR_SHAPE,
                   "rois %s and batch_indices %s: [R, 4] and [R] expected",
                   shape_str(rois->t.rank, rois->t.dims, a, sizeof a),
                   shape_str(bi->t.rank, bi->t.dims, b, sizeof b));
  p->n = x->t.dims[0], p->c = x->t.dims[1], p->h = x->t.dims[2], p->w = x->t.dims[3];
  p->rois = rois->t.dims[0];
  int64_t od[4] = {p->rois, p->c, p->out_h, p->out_w};
  return op_set_output(g, n, 0, CLCNN_DTYPE_FLOAT32, 4, od, err);
}

static const op_front roialign_front = {sizeof(roialign_params), roialign_parse, roialign_infer,
                                        NULL};

const op_front *const op_front_resize[CLCNN_OP_COUNT] = {
    [CLCNN_OP_RESIZE] = &resize_front,
    [CLCNN_OP_UPSAMPLE] = &upsample_front,
    [CLCNN_OP_GRIDSAMPLE] = &gridsample_front,
    [CLCNN_OP_ROIALIGN] = &roialign_front,
};
