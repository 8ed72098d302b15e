/* Front half of the quant family (QuantizeLinear, DequantizeLinear,
 * DynamicQuantizeLinear, QLinearConv, QLinearMatMul, ConvInteger,
 * MatMulInteger): attributes, validation, shape inference.
 *
 * float16 scales arrive as float32 (graph_lower_float16), so every scale is
 * float32 here. A DequantizeLinear whose inputs are constant (the weights of
 * a QDQ model) folds to float32 at session creation like any other node. */
#include <string.h>

#include "quant.h"
#include "shape.h"

/* Types a QuantizeLinear produces and a DequantizeLinear reads. */
static bool quant_type(clcnn_dtype dt) {
  switch (dt) {
    case CLCNN_DTYPE_INT8:
    case CLCNN_DTYPE_UINT8:
    case CLCNN_DTYPE_INT16:
    case CLCNN_DTYPE_UINT16:
    case CLCNN_DTYPE_INT4:
    case CLCNN_DTYPE_UINT4:
    case CLCNN_DTYPE_INT2:
    case CLCNN_DTYPE_UINT2:
    case CLCNN_DTYPE_FLOAT8E4M3FN:
    case CLCNN_DTYPE_FLOAT8E4M3FNUZ:
    case CLCNN_DTYPE_FLOAT8E5M2:
    case CLCNN_DTYPE_FLOAT8E5M2FNUZ:
    case CLCNN_DTYPE_FLOAT4E2M1: return true;
    default: return false;
  }
}

static bool byte_type(clcnn_dtype dt) {
  return dt == CLCNN_DTYPE_INT8 || dt == CLCNN_DTYPE_UINT8;
}

static clcnn_status need_float_scale(const ir_value *v, const char *what, clcnn_err *err) {
  if (v->t.dtype != CLCNN_DTYPE_FLOAT32)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "'%s' has type %s; float32 or float16 is needed",
                   what, dtype_name(v->t.dtype));
  return CLCNN_OK;
}

/* ------------------------------------------------- Quantize / Dequantize */

static clcnn_status qdq_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  qdq_params *p = n->params;
  const bool quantize = n->op == CLCNN_OP_QUANTIZE_LINEAR;
  clcnn_status st = op_arity(n, 2, 3, 1, 1, err);
  if (st) return st;
  int64_t v;
  if ((st = op_attr_int(n, "axis", 1, &p->axis_attr, err))) return st;
  if ((st = op_attr_int(n, "block_size", 0, &p->block_size, err))) return st;
  if ((st = op_attr_int(n, "saturate", 1, &v, err))) return st;
  p->saturate = quantize ? (int)v : 1;
  if (p->block_size < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'block_size' must be >= 0");
  if ((st = op_attr_int(n, "output_dtype", 0, &v, err))) return st;
  p->output_dtype = (clcnn_dtype)v;
  if (v) {
    clcnn_dtype dt = (clcnn_dtype)v;
    if (quantize ? !quant_type(dt) : (dt != CLCNN_DTYPE_FLOAT32 && dt != CLCNN_DTYPE_FLOAT16))
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "output_dtype %lld is not supported",
                     (long long)v);
    if (dt == CLCNN_DTYPE_FLOAT16) p->output_dtype = CLCNN_DTYPE_FLOAT32; /* computed in float32 */
  }
  if ((st = op_attr_int(n, "precision", 0, &v, err))) return st;
  if (v && v != CLCNN_DTYPE_FLOAT32)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "precision %lld is not supported (float32 is)", (long long)v);
  return CLCNN_OK;
}

/* Resolves how the scale (input 1) and zero point (input 2) apply to x. */
static clcnn_status qdq_layout(const ir_graph *g, const ir_node *n, qdq_params *p,
                               clcnn_err *err) {
  const ir_value *x = ir_in(g, n, 0), *s = ir_in(g, n, 1), *z = ir_in(g, n, 2);
  char bx[128], bs[128];
  int64_t ns = shape_numel(s->t.rank, s->t.dims);
  int r = x->t.rank;
  p->outer = 1;
  p->n = shape_numel(r, x->t.dims);
  p->inner = 1;
  p->nblocks = 1;
  p->mode = QDQ_PER_TENSOR;
  if (ns != 1 || s->t.rank > 1) {
    int axis;
    if (!shape_axis(p->axis_attr, r, &axis))
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is out of range for rank %d",
                     (long long)p->axis_attr, r);
    p->outer = shape_numel(axis, x->t.dims);
    p->n = x->t.dims[axis];
    p->inner = shape_numel(r - axis - 1, x->t.dims + axis + 1);
    if (!p->block_size) {
      if (s->t.rank != 1 || s->t.dims[0] != p->n)
        return err_set(err, CLCNN_ERROR_SHAPE,
                       "scale of shape %s does not fit x (%s) along axis %d: one value or %lld "
                       "are needed (or block_size)",
                       shape_str(s->t.rank, s->t.dims, bs, sizeof bs),
                       shape_str(r, x->t.dims, bx, sizeof bx), axis, (long long)p->n);
      p->mode = QDQ_PER_AXIS;
    } else {
      bool fits = s->t.rank == r;
      for (int d = 0; fits && d < r; d++)
        fits = d == axis ? s->t.dims[d] == (p->n + p->block_size - 1) / p->block_size
                         : s->t.dims[d] == x->t.dims[d];
      if (!fits)
        return err_set(err, CLCNN_ERROR_SHAPE,
                       "scale of shape %s does not fit x (%s) in blocks of %lld along axis %d",
                       shape_str(s->t.rank, s->t.dims, bs, sizeof bs),
                       shape_str(r, x->t.dims, bx, sizeof bx), (long long)p->block_size, axis);
      p->mode = QDQ_BLOCKED;
      p->nblocks = s->t.dims[axis];
    }
  }
  p->has_zero_point = z != NULL;
  if (z) {
    bool same = z->t.rank == s->t.rank || shape_numel(z->t.rank, z->t.dims) == 1;
    for (int d = 0; same && d < z->t.rank && z->t.rank == s->t.rank; d++)
      same = z->t.dims[d] == s->t.dims[d];
    if (!same || shape_numel(z->t.rank, z->t.dims) != ns)
      return err_set(err, CLCNN_ERROR_SHAPE, "zero point of shape %s does not match the scale (%s)",
                     shape_str(z->t.rank, z->t.dims, bx, sizeof bx),
                     shape_str(s->t.rank, s->t.dims, bs, sizeof bs));
  }
  return CLCNN_OK;
}

static clcnn_status quantize_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  qdq_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  const ir_value *s = x ? op_data_input(g, n, 1, err) : NULL;
  if (!s) return err->status;
  const ir_value *z = ir_in(g, n, 2);
  clcnn_status st;
  if (x->t.dtype != CLCNN_DTYPE_FLOAT32)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input 'x' has type %s; float32 or float16 is "
                   "needed", dtype_name(x->t.dtype));
  if ((st = need_float_scale(s, "y_scale", err))) return st;
  clcnn_dtype qt = p->output_dtype ? p->output_dtype : CLCNN_DTYPE_UINT8;
  if (p->lowp) { /* float8 / float4, computed in float32 (a float32 zero point) */
    if (z && z->t.dtype != CLCNN_DTYPE_FLOAT32)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "the zero point is %s but the output is %s",
                     dtype_name(z->t.dtype), dtype_name(p->lowp));
    if ((st = qdq_layout(g, n, p, err))) return st;
    p->qtype = p->lowp;
    return op_set_output(g, n, 0, CLCNN_DTYPE_FLOAT32, x->t.rank, x->t.dims, err);
  }
  if (z) {
    if (p->output_dtype && z->t.dtype != p->output_dtype)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                     "the zero point is %s but output_dtype is %s", dtype_name(z->t.dtype),
                     dtype_name(p->output_dtype));
    qt = z->t.dtype;
  }
  if (!quant_type(qt) || dtype_is_f8(qt)) /* float8 / float4 have lowp set at load */
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "quantization to %s is not supported",
                   dtype_name(qt));
  if ((st = qdq_layout(g, n, p, err))) return st;
  p->qtype = qt;
  return op_set_output(g, n, 0, qt, x->t.rank, x->t.dims, err);
}

static clcnn_status dequantize_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  qdq_params *p = n->params;
  const ir_value *x = op_data_input(g, n, 0, err);
  const ir_value *s = x ? op_data_input(g, n, 1, err) : NULL;
  if (!s) return err->status;
  const ir_value *z = ir_in(g, n, 2);
  clcnn_status st;
  const clcnn_dtype xt = p->lowp && x->t.dtype == CLCNN_DTYPE_FLOAT32 ? p->lowp : x->t.dtype;
  if ((!quant_type(xt) && xt != CLCNN_DTYPE_INT32) || (dtype_is_f8(xt) && !p->lowp))
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "dequantization of %s is not supported",
                   dtype_name(xt));
  if ((st = need_float_scale(s, "x_scale", err))) return st;
  if (z && z->t.dtype != x->t.dtype)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "the zero point is %s but x is %s",
                   dtype_name(z->t.dtype), dtype_name(x->t.dtype));
  if ((st = qdq_layout(g, n, p, err))) return st;
  p->qtype = xt;
  return op_set_output(g, n, 0, CLCNN_DTYPE_FLOAT32, x->t.rank, x->t.dims, err);
}

static double qdq_flops(const ir_graph *g, const ir_node *n) {
  const ir_value *x = ir_in(g, n, 0);
  return 2.0 * (double)shape_numel(x->t.rank, x->t.dims);
}

/* --------------------------------------------------- DynamicQuantizeLinear */

static clcnn_status dynq_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  return op_arity(n, 1, 1, 3, 3, err);
}

static clcnn_status dynq_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  const ir_value *x = op_data_input(g, n, 0, err);
  if (!x) return err->status;
  if (x->t.dtype != CLCNN_DTYPE_FLOAT32)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input 'x' has type %s; float32 is needed",
                   dtype_name(x->t.dtype));
  clcnn_status st = op_set_output(g, n, 0, CLCNN_DTYPE_UINT8, x->t.rank, x->t.dims, err);
  if (!st) st = op_set_output(g, n, 1, CLCNN_DTYPE_FLOAT32, 0, NULL, err);
  if (!st) st = op_set_output(g, n, 2, CLCNN_DTYPE_UINT8, 0, NULL, err);
  return st;
}

/* ------------------------------------------------ QLinearConv, ConvInteger */

static clcnn_status qconv_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  qconv_params *p = n->params;
  const bool qlinear = n->op == CLCNN_OP_QLINEAR_CONV;
  clcnn_status st = qlinear ? op_arity(n, 8, 9, 1, 1, err) : op_arity(n, 2, 4, 1, 1, err);
  if (st) return st;
  if ((st = window_parse(n, &p->conv.win, err))) return st;
  if ((st = op_attr_int(n, "group", 1, &p->conv.group, err))) return st;
  if (p->conv.group < 1 || p->conv.group > ((int64_t)1 << 31))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'group' = %lld is invalid",
                   (long long)p->conv.group);
  return CLCNN_OK;
}

/* A zero point or scale that is one value or one per channel (`per`). */
static clcnn_status per_tensor_or(const ir_value *v, const char *what, int64_t per, bool *per_ch,
                                  clcnn_err *err) {
  int64_t nv = shape_numel(v->t.rank, v->t.dims);
  *per_ch = false;
  if (nv == 1 && v->t.rank <= 1) return CLCNN_OK;
  if (per > 0 && v->t.rank == 1 && nv == per) {
    *per_ch = true;
    return CLCNN_OK;
  }
  char b[128];
  return err_set(err, CLCNN_ERROR_SHAPE, "'%s' of shape %s must be one value%s", what,
                 shape_str(v->t.rank, v->t.dims, b, sizeof b),
                 per > 0 ? " or one per channel" : "");
}

static clcnn_status qconv_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  qconv_params *q = n->params;
  conv_params *p = &q->conv;
  const bool qlinear = n->op == CLCNN_OP_QLINEAR_CONV;
  const int iw = qlinear ? 3 : 1; /* index of w */
  const ir_value *x = op_data_input(g, n, 0, err);
  const ir_value *w = x ? op_data_input(g, n, iw, err) : NULL;
  if (!w) return err->status;
  char b[128];
  if (!byte_type(x->t.dtype) || !byte_type(w->t.dtype))
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "x is %s and w %s; int8 or uint8 are supported",
                   dtype_name(x->t.dtype), dtype_name(w->t.dtype));
  if (x->t.rank < 3 || x->t.rank > 2 + WINDOW_MAX_SPATIAL || w->t.rank != x->t.rank)
    return err_set(err, CLCNN_ERROR_SHAPE, "x of shape %s and w of rank %d: 1 to %d spatial dims "
                   "are supported", shape_str(x->t.rank, x->t.dims, b, sizeof b), w->t.rank,
                   WINDOW_MAX_SPATIAL);
  int ns = x->t.rank - 2;
  p->batch = x->t.dims[0];
  p->in_channels = x->t.dims[1];
  p->out_channels = w->t.dims[0];
  if (p->in_channels < 1 || p->out_channels < 1 || p->in_channels % p->group ||
      p->out_channels % p->group)
    return err_set(err, CLCNN_ERROR_SHAPE,
                   "group = %lld does not divide the input channels (%lld) and the output "
                   "channels (%lld)", (long long)p->group, (long long)p->in_channels,
                   (long long)p->out_channels);
  p->group_in = p->in_channels / p->group;
  p->group_out = p->out_channels / p->group;
  if (w->t.dims[1] != p->group_in)
    return err_set(err, CLCNN_ERROR_SHAPE,
                   "w has %lld input channels per group but x has %lld channels in %lld groups",
                   (long long)w->t.dims[1], (long long)p->in_channels, (long long)p->group);
  clcnn_status st =
      window_resolve(&p->win, ns, x->t.dims + 2, w->t.dims + 2, false, &p->geom, err);
  if (st) return st;
  /* Zero points, scales and bias. */
  const int ixz = 2, iwz = qlinear ? 5 : 3;
  const ir_value *xz = ir_in(g, n, ixz), *wz = ir_in(g, n, iwz);
  bool per = false, wper = false;
  if (xz) {
    if (xz->t.dtype != x->t.dtype)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "x's zero point is not %s",
                     dtype_name(x->t.dtype));
    if ((st = per_tensor_or(xz, "x_zero_point", 0, &per, err))) return st;
  }
  if (wz) {
    if (wz->t.dtype != w->t.dtype)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "w's zero point is not %s",
                     dtype_name(w->t.dtype));
    if ((st = per_tensor_or(wz, "w_zero_point", p->out_channels, &wper, err))) return st;
  }
  q->per_channel_w = wper;
  clcnn_dtype out = CLCNN_DTYPE_INT32;
  if (qlinear) {
    const ir_value *xs = ir_in(g, n, 1), *ws = ir_in(g, n, 4), *ys = ir_in(g, n, 6);
    const ir_value *yz = ir_in(g, n, 7), *bias = ir_in(g, n, 8);
    if (!xs || !ws || !ys || !xz || !wz || !yz)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "the scales and zero points are required");
    if ((st = need_float_scale(xs, "x_scale", err)) || (st = need_float_scale(ws, "w_scale", err)) ||
        (st = need_float_scale(ys, "y_scale", err)))
      return st;
    if ((st = per_tensor_or(ws, "w_scale", p->out_channels, &per, err))) return st;
    q->per_channel_w |= per ? 1 : 0;
    if ((st = per_tensor_or(xs, "x_scale", 0, &per, err)) ||
        (st = per_tensor_or(ys, "y_scale", 0, &per, err)) ||
        (st = per_tensor_or(yz, "y_zero_point", 0, &per, err)))
      return st;
    if (!byte_type(yz->t.dtype))
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "y_zero_point is %s; int8 or uint8 are "
                     "supported", dtype_name(yz->t.dtype));
    out = yz->t.dtype;
    q->has_bias = bias != NULL;
    if (bias && (bias->t.dtype != CLCNN_DTYPE_INT32 || bias->t.rank != 1 ||
                 bias->t.dims[0] != p->out_channels))
      return err_set(err, CLCNN_ERROR_SHAPE, "B must be int32 [%lld]", (long long)p->out_channels);
  }
  int64_t dims[CLCNN_MAX_RANK];
  dims[0] = p->batch;
  dims[1] = p->out_channels;
  for (int i = 0; i < ns; i++) dims[2 + i] = p->geom.out[i];
  return op_set_output(g, n, 0, out, ns + 2, dims, err);
}

static double qconv_flops(const ir_graph *g, const ir_node *n) {
  (void)g;
  const conv_params *p = &((const qconv_params *)n->params)->conv;
  return 2.0 * (double)p->batch * (double)p->out_channels * (double)p->group_in *
         (double)p->geom.kernel_size * (double)p->geom.out_size;
}

/* --------------------------------------------- QLinearMatMul, MatMulInteger */

static clcnn_status qmatmul_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  return n->op == CLCNN_OP_QLINEAR_MATMUL ? op_arity(n, 8, 8, 1, 1, err)
                                          : op_arity(n, 2, 4, 1, 1, err);
}

static clcnn_status qmatmul_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  qmatmul_params *q = n->params;
  const bool qlinear = n->op == CLCNN_OP_QLINEAR_MATMUL;
  const int ib = qlinear ? 3 : 1;
  const ir_value *a = op_data_input(g, n, 0, err);
  const ir_value *b = a ? op_data_input(g, n, ib, err) : NULL;
  if (!b) return err->status;
  if (!byte_type(a->t.dtype) || !byte_type(b->t.dtype))
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "a is %s and b %s; int8 or uint8 are supported",
                   dtype_name(a->t.dtype), dtype_name(b->t.dtype));
  int orank;
  int64_t odims[CLCNN_MAX_RANK];
  clcnn_status st = matmul_resolve(&a->t, &b->t, &q->mm, &orank, odims, err);
  if (st) return st;
  const int iaz = 2, ibz = qlinear ? 5 : 3;
  const ir_value *az = ir_in(g, n, iaz), *bz = ir_in(g, n, ibz);
  bool per;
  q->per_row_a = q->per_col_b = 0;
  if (az) {
    if (az->t.dtype != a->t.dtype)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "a's zero point is not %s",
                     dtype_name(a->t.dtype));
    if ((st = per_tensor_or(az, "a_zero_point", qlinear ? 0 : q->mm.m, &per, err))) return st;
    q->per_row_a = per;
  }
  if (bz) {
    if (bz->t.dtype != b->t.dtype)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "b's zero point is not %s",
                     dtype_name(b->t.dtype));
    if ((st = per_tensor_or(bz, "b_zero_point", q->mm.n, &per, err))) return st;
    q->per_col_b = per;
  }
  clcnn_dtype out = CLCNN_DTYPE_INT32;
  if (qlinear) {
    const ir_value *as = ir_in(g, n, 1), *bs = ir_in(g, n, 4), *ys = ir_in(g, n, 6);
    const ir_value *yz = ir_in(g, n, 7);
    if (!as || !bs || !ys || !az || !bz || !yz)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "the scales and zero points are required");
    if ((st = need_float_scale(as, "a_scale", err)) || (st = need_float_scale(bs, "b_scale", err)) ||
        (st = need_float_scale(ys, "y_scale", err)))
      return st;
    if ((st = per_tensor_or(as, "a_scale", 0, &per, err)) ||
        (st = per_tensor_or(bs, "b_scale", q->mm.n, &per, err)))
      return st;
    q->per_col_b |= per ? 1 : 0;
    if ((st = per_tensor_or(ys, "y_scale", 0, &per, err)) ||
        (st = per_tensor_or(yz, "y_zero_point", 0, &per, err)))
      return st;
    if (!byte_type(yz->t.dtype))
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "y_zero_point is %s; int8 or uint8 are "
                     "supported", dtype_name(yz->t.dtype));
    out = yz->t.dtype;
  }
  return op_set_output(g, n, 0, out, orank, odims, err);
}

static double qmatmul_flops(const ir_graph *g, const ir_node *n) {
  (void)g;
  const matmul_params *p = &((const qmatmul_params *)n->params)->mm;
  return 2.0 * (double)p->batch_count * (double)p->m * (double)p->n * (double)p->k;
}

/* ----------------------------------------------------------------- table */

static const op_front quantize_front = {sizeof(qdq_params), qdq_parse, quantize_infer, qdq_flops};
static const op_front dequantize_front = {sizeof(qdq_params), qdq_parse, dequantize_infer,
                                          qdq_flops};
static const op_front dynq_front = {0, dynq_parse, dynq_infer, qdq_flops};
static const op_front qconv_front = {sizeof(qconv_params), qconv_parse, qconv_infer, qconv_flops};
static const op_front qmatmul_front = {sizeof(qmatmul_params), qmatmul_parse, qmatmul_infer,
                                       qmatmul_flops};

const op_front *const op_front_quant[CLCNN_OP_COUNT] = {
    [CLCNN_OP_QUANTIZE_LINEAR] = &quantize_front,
    [CLCNN_OP_DEQUANTIZE_LINEAR] = &dequantize_front,
    [CLCNN_OP_DYNAMIC_QUANTIZE_LINEAR] = &dynq_front,
    [CLCNN_OP_QLINEAR_CONV] = &qconv_front,
    [CLCNN_OP_CONV_INTEGER] = &qconv_front,
    [CLCNN_OP_QLINEAR_MATMUL] = &qmatmul_front,
    [CLCNN_OP_MATMUL_INTEGER] = &qmatmul_front,
};
