/* Front half of the conv family (Conv, ConvTranspose): attributes,
 * validation, shape inference; and the sliding-window geometry shared with
 * the pool family. */
#include <string.h>

#include "conv.h"

/* Attribute values beyond this are refused: they would only serve to
 * overflow the size arithmetic. */
#define WINDOW_ATTR_MAX ((int64_t)1 << 24)
/* Largest tensor (elements) the front half accepts. */
#define NUMEL_MAX ((int64_t)1 << 40)

/* ---------------------------------------------------------------- helpers */

int64_t window_numel(int rank, const int64_t *dims) {
  int64_t p = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0) return -1;
    if (dims[i] && p > NUMEL_MAX / dims[i]) return -1;
    p *= dims[i];
  }
  return p > NUMEL_MAX ? -1 : p;
}

static clcnn_status check_arity(const ir_node *n, int min_in, int max_in, int max_out,
                                clcnn_err *err) {
  if (n->nin < min_in || n->nin > max_in)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects %d to %d inputs, got %d", min_in,
                   max_in, n->nin);
  if (n->nout < 1 || n->nout > max_out)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 1 to %d outputs, got %d", max_out,
                   n->nout);
  for (int i = 0; i < min_in; i++)
    if (n->in[i] < 0)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "required input %d is missing", i);
  if (n->out[0] < 0) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "output 0 is missing");
  return CLCNN_OK;
}

static clcnn_status get_int(const ir_node *n, const char *name, int64_t def, int64_t *out,
                            clcnn_err *err) {
  const ir_attr *a = ir_attr_find(n, name);
  if (!a) {
    *out = def;
    return CLCNN_OK;
  }
  if (a->type != IR_ATTR_INT)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute '%s' must be an int", name);
  *out = a->i;
  return CLCNN_OK;
}

/* An ints attribute with at most `max` values, each in [lo, hi]; *count is
 * -1 when absent. */
static clcnn_status get_ints(const ir_node *n, const char *name, int max, int64_t lo, int64_t hi,
                             int64_t *out, int *count, clcnn_err *err) {
  const ir_attr *a = ir_attr_find(n, name);
  *count = -1;
  if (!a) return CLCNN_OK;
  if (a->type != IR_ATTR_INTS)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute '%s' must be a list of ints", name);
  if (a->n > (size_t)max)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "attribute '%s' has %zu values; at most %d "
                   "are supported",
                   name, a->n, max);
  for (size_t i = 0; i < a->n; i++) {
    if (a->ints[i] < lo || a->ints[i] > hi)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                     "attribute '%s' value %lld is out of range [%lld, %lld]", name,
                     (long long)a->ints[i], (long long)lo, (long long)hi);
    out[i] = a->ints[i];
  }
  *count = (int)a->n;
  return CLCNN_OK;
}

/* floor(a / 2) for any sign. */
static int64_t floor_half(int64_t a) { return a >= 0 ? a / 2 : -((-a + 1) / 2); }

/* --------------------------------------------------------- window geometry */

clcnn_status window_parse(const ir_node *n, window_attrs *a, clcnn_err *err) {
  clcnn_status st;
  const ir_attr *ap = ir_attr_find(n, "auto_pad");
  a->auto_pad = AUTO_PAD_NOTSET;
  if (ap) {
    if (ap->type != IR_ATTR_STRING || !ap->s)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'auto_pad' must be a string");
    if (strcmp(ap->s, "NOTSET") == 0)
      a->auto_pad = AUTO_PAD_NOTSET;
    else if (strcmp(ap->s, "SAME_UPPER") == 0)
      a->auto_pad = AUTO_PAD_SAME_UPPER;
    else if (strcmp(ap->s, "SAME_LOWER") == 0)
      a->auto_pad = AUTO_PAD_SAME_LOWER;
    else if (strcmp(ap->s, "VALID") == 0)
      a->auto_pad = AUTO_PAD_VALID;
    else
      return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                     "attribute 'auto_pad' = '%s' is invalid "
                     "(NOTSET, SAME_UPPER, SAME_LOWER or VALID)",
                     ap->s);
  }
  if ((st = get_ints(n, "kernel_shape", CLCNN_MAX_RANK, 1, WINDOW_ATTR_MAX, a->kernel, &a->nkernel,
                     err)) ||
      (st = get_ints(n, "pads", 2 * CLCNN_MAX_RANK, 0, WINDOW_ATTR_MAX, a->pads, &a->npads, err)) ||
      (st = get_ints(n, "strides", CLCNN_MAX_RANK, 1, WINDOW_ATTR_MAX, a->strides, &a->nstrides,
                     err)) ||
      (st = get_ints(n, "dilations", CLCNN_MAX_RANK, 1, WINDOW_ATTR_MAX, a->dilations,
                     &a->ndilations, err)))
    return st;
  if (a->npads >= 0 && a->npads % 2)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                   "attribute 'pads' has %d values; it needs two per spatial dim", a->npads);
  int ns = -1;
  const char *from = NULL;
  const int counts[4] = {a->nkernel, a->npads >= 0 ? a->npads / 2 : -1, a->nstrides, a->ndilations};
  static const char *const names[4] = {"kernel_shape", "pads", "strides", "dilations"};
  for (int i = 0; i < 4; i++) {
    if (counts[i] < 0) continue;
    if (ns < 0) {
      ns = counts[i];
      from = names[i];
    } else if (counts[i] != ns) {
      return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                     "attribute '%s' implies %d spatial dims but '%s' implies %d", names[i],
                     counts[i], from, ns);
    }
  }
  return CLCNN_OK;
}

clcnn_status window_resolve(const window_attrs *a, int nspatial, const int64_t *in,
                            const int64_t *kernel, bool ceil_mode, window_geom *geom,
                            clcnn_err *err) {
  if (nspatial < 1 || nspatial > WINDOW_MAX_SPATIAL)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "%d spatial dims; only 1 to %d are supported",
                   nspatial, WINDOW_MAX_SPATIAL);
  const int counts[4] = {a->nkernel, a->npads >= 0 ? a->npads / 2 : -1, a->nstrides, a->ndilations};
  static const char *const names[4] = {"kernel_shape", "pads", "strides", "dilations"};
  for (int i = 0; i < 4; i++)
    if (counts[i] >= 0 && counts[i] != nspatial)
      return err_set(err, CLCNN_ERROR_SHAPE,
                     "attribute '%s' has values for %d spatial dims but the input has %d", names[i],
                     counts[i], nspatial);
  if (!kernel && a->nkernel < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'kernel_shape' is missing");
  memset(geom, 0, sizeof *geom);
  geom->nspatial = nspatial;
  for (int i = 0; i < nspatial; i++) {
    int64_t k = kernel ? kernel[i] : a->kernel[i];
    if (kernel && a->nkernel >= 0 && a->kernel[i] != k)
      return err_set(err, CLCNN_ERROR_SHAPE,
                     "attribute 'kernel_shape' (%lld in dim %d) does not match the weights (%lld)",
                     (long long)a->kernel[i], i, (long long)k);
    if (k < 1 || k > WINDOW_ATTR_MAX)
      return err_set(err, CLCNN_ERROR_SHAPE, "kernel size %lld in dim %d is invalid", (long long)k,
                     i);
    int64_t s = a->nstrides >= 0 ? a->strides[i] : 1;
    int64_t d = a->ndilations >= 0 ? a->dilations[i] : 1;
    int64_t x = in[i];
    if (x < 1)
      return err_set(err, CLCNN_ERROR_SHAPE, "input spatial dim %d is %lld", i, (long long)x);
    int64_t span = (k - 1) * d + 1; /* extent of the dilated window */
    int64_t pb = 0, pe = 0, out;
    switch (a->auto_pad) {
      case AUTO_PAD_SAME_UPPER:
      case AUTO_PAD_SAME_LOWER: {
        out = (x + s - 1) / s;
        int64_t total = (out - 1) * s + span - x;
        if (total < 0) total = 0;
        int64_t small = total / 2;
        pb = a->auto_pad == AUTO_PAD_SAME_UPPER ? small : total - small;
        pe = total - pb;
        break;
      }
      case AUTO_PAD_VALID:
        if (x < span)
          return err_set(err, CLCNN_ERROR_SHAPE,
                         "window of %lld (kernel %lld, dilation %lld) is larger than the "
                         "input (%lld) in spatial dim %d",
                         (long long)span, (long long)k, (long long)d, (long long)x, i);
        out = (x - span) / s + 1;
        break;
      default: {
        if (a->npads >= 0) {
          pb = a->pads[i];
          pe = a->pads[i + nspatial];
        }
        int64_t room = x + pb + pe - span;
        if (room < 0)
          return err_set(err, CLCNN_ERROR_SHAPE,
                         "window of %lld (kernel %lld, dilation %lld) is larger than the "
                         "padded input (%lld) in spatial dim %d",
                         (long long)span, (long long)k, (long long)d, (long long)(x + pb + pe), i);
        out = room / s + 1;
        if (ceil_mode && room % s) {
          out++;
          /* The last window must start inside the input or left padding. */
          if ((out - 1) * s >= x + pb) out--;
        }
        break;
      }
    }
    geom->in[i] = x;
    geom->out[i] = out;
    geom->kernel[i] = k;
    geom->strides[i] = s;
    geom->dilations[i] = d;
    geom->pads_begin[i] = pb;
    geom->pads_end[i] = pe;
  }
  geom->in_size = window_numel(nspatial, geom->in);
  geom->out_size = window_numel(nspatial, geom->out);
  geom->kernel_size = window_numel(nspatial, geom->kernel);
  int64_t padded[CLCNN_MAX_RANK];
  for (int i = 0; i < nspatial; i++)
    padded[i] = geom->in[i] + geom->pads_begin[i] + geom->pads_end[i];
  if (geom->in_size < 0 || geom->out_size < 0 || geom->kernel_size < 0 ||
      window_numel(nspatial, padded) < 0)
    return err_set(err, CLCNN_ERROR_SHAPE, "spatial sizes are too large");
  return CLCNN_OK;
}

/* ------------------------------------------------------------ Conv family */

static clcnn_status conv_parse_common(const ir_node *n, conv_params *p, bool transpose,
                                      clcnn_err *err) {
  clcnn_status st = check_arity(n, 2, 3, 1, err);
  if (st) return st;
  if ((st = window_parse(n, &p->win, err))) return st;
  if ((st = get_int(n, "group", 1, &p->group, err))) return st;
  if (p->group < 1 || p->group > ((int64_t)1 << 31))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'group' = %lld is invalid",
                   (long long)p->group);
  p->noutput_padding = -1;
  p->noutput_shape = -1;
  if (transpose) {
    if ((st = get_ints(n, "output_padding", CLCNN_MAX_RANK, 0, WINDOW_ATTR_MAX, p->output_padding,
                       &p->noutput_padding, err)) ||
        (st = get_ints(n, "output_shape", CLCNN_MAX_RANK, 1, NUMEL_MAX, p->output_shape,
                       &p->noutput_shape, err)))
      return st;
  }
  return CLCNN_OK;
}

static clcnn_status conv_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  return conv_parse_common(n, n->params, false, err);
}

static clcnn_status convt_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  return conv_parse_common(n, n->params, true, err);
}

/* Common checks of X, W, B: float32, ranks, positive dims. */
static clcnn_status conv_check_inputs(const ir_graph *g, const ir_node *n, clcnn_err *err) {
  static const char *const names[3] = {"X", "W", "B"};
  char buf[128];
  for (int i = 0; i < 3; i++) {
    const ir_value *v = ir_in(g, n, i);
    if (!v) continue;
    if (v->t.dtype != CLCNN_DTYPE_FLOAT32)
      return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                     "input '%s' has type %s; only float32 is supported", names[i],
                     dtype_name(v->t.dtype));
    if (window_numel(v->t.rank, v->t.dims) < 0)
      return err_set(err, CLCNN_ERROR_SHAPE, "input '%s' has an invalid or too large shape %s",
                     names[i], shape_str(v->t.rank, v->t.dims, buf, sizeof buf));
  }
  const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1);
  if (x->t.rank < 3)
    return err_set(err, CLCNN_ERROR_SHAPE,
                   "input 'X' of shape %s must have rank >= 3 "
                   "(N x C x D1 ...)",
                   shape_str(x->t.rank, x->t.dims, buf, sizeof buf));
  if (x->t.rank > 2 + WINDOW_MAX_SPATIAL)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "input 'X' of rank %d: only 1 to %d spatial "
                   "dims are supported",
                   x->t.rank, WINDOW_MAX_SPATIAL);
  if (w->t.rank != x->t.rank)
    return err_set(err, CLCNN_ERROR_SHAPE, "weights 'W' of shape %s must have the rank of X (%d)",
                   shape_str(w->t.rank, w->t.dims, buf, sizeof buf), x->t.rank);
  for (int i = 0; i < w->t.rank; i++)
    if (w->t.dims[i] < 1)
      return err_set(err, CLCNN_ERROR_SHAPE, "weights 'W' have an empty shape %s",
                     shape_str(w->t.rank, w->t.dims, buf, sizeof buf));
  if (x->t.dims[1] < 1) return err_set(err, CLCNN_ERROR_SHAPE, "input 'X' has no channels");
  return CLCNN_OK;
}

static clcnn_status check_bias(const ir_graph *g, const ir_node *n, int64_t channels,
                               clcnn_err *err) {
  const ir_value *b = ir_in(g, n, 2);
  char buf[128];
  if (b && (b->t.rank != 1 || b->t.dims[0] != channels))
    return err_set(err, CLCNN_ERROR_SHAPE, "bias 'B' of shape %s must be [%lld]",
                   shape_str(b->t.rank, b->t.dims, buf, sizeof buf), (long long)channels);
  return CLCNN_OK;
}

/* Sets output 0 to [N, C, out...] after checking the sizes the CPU GEMM
 * handles (int dims). */
static clcnn_status conv_set_output(ir_graph *g, ir_node *n, const conv_params *p, clcnn_err *err) {
  int64_t dims[CLCNN_MAX_RANK];
  int ns = p->geom.nspatial;
  dims[0] = p->batch;
  dims[1] = p->out_channels;
  for (int i = 0; i < ns; i++) dims[2 + i] = p->geom.out[i];
  char buf[128];
  if (window_numel(ns + 2, dims) < 0)
    return err_set(err, CLCNN_ERROR_SHAPE, "output shape %s is too large",
                   shape_str(ns + 2, dims, buf, sizeof buf));
  const int64_t int_max = 0x7fffffff;
  if (p->geom.out_size > int_max || p->geom.in_size > int_max ||
      p->geom.kernel_size > int_max / p->group_in || p->geom.kernel_size > int_max / p->group_out)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "convolution too large for 32-bit GEMM sizes");
  ir_set_shape(ir_out(g, n, 0), CLCNN_DTYPE_FLOAT32, ns + 2, dims);
  return CLCNN_OK;
}

static clcnn_status conv_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  conv_params *p = n->params;
  clcnn_status st = conv_check_inputs(g, n, err);
  if (st) return st;
  const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1);
  int ns = x->t.rank - 2;
  p->batch = x->t.dims[0];
  p->in_channels = x->t.dims[1];
  p->out_channels = w->t.dims[0];
  if (p->in_channels % p->group || p->out_channels % p->group)
    return err_set(err, CLCNN_ERROR_SHAPE,
                   "group = %lld does not divide the input channels (%lld) and the output "
                   "channels (%lld)",
                   (long long)p->group, (long long)p->in_channels, (long long)p->out_channels);
  p->group_in = p->in_channels / p->group;
  p->group_out = p->out_channels / p->group;
  if (w->t.dims[1] != p->group_in)
    return err_set(err, CLCNN_ERROR_SHAPE,
                   "weights 'W' have %lld input channels per group but X has %lld channels "
                   "in %lld groups",
                   (long long)w->t.dims[1], (long long)p->in_channels, (long long)p->group);
  if ((st = check_bias(g, n, p->out_channels, err))) return st;
  if ((st = window_resolve(&p->win, ns, x->t.dims + 2, w->t.dims + 2, false, &p->geom, err)))
    return st;
  p->pointwise = 1;
  for (int i = 0; i < ns; i++)
    if (p->geom.kernel[i] != 1 || p->geom.strides[i] != 1 || p->geom.pads_begin[i] ||
        p->geom.pads_end[i])
      p->pointwise = 0;
  p->depthwise = p->group > 1 && p->group_in == 1;
  return conv_set_output(g, n, p, err);
}

static clcnn_status convt_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  conv_params *p = n->params;
  clcnn_status st = conv_check_inputs(g, n, err);
  if (st) return st;
  const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1);
  int ns = x->t.rank - 2;
  p->batch = x->t.dims[0];
  p->in_channels = x->t.dims[1];
  if (p->in_channels % p->group)
    return err_set(err, CLCNN_ERROR_SHAPE,
                   "group = %lld does not divide the input channels "
                   "(%lld)",
                   (long long)p->group, (long long)p->in_channels);
  if (w->t.dims[0] != p->in_channels)
    return err_set(err, CLCNN_ERROR_SHAPE, "weights 'W' have %lld input channels but X has %lld",
                   (long long)w->t.dims[0], (long long)p->in_channels);
  p->group_in = p->in_channels / p->group;
  p->group_out = w->t.dims[1];
  if (p->group_out > NUMEL_MAX / p->group)
    return err_set(err, CLCNN_ERROR_SHAPE, "too many output channels");
  p->out_channels = p->group_out * p->group;
  if ((st = check_bias(g, n, p->out_channels, err))) return st;

  const window_attrs *wa = &p->win;
  int counts[2] = {p->noutput_padding, p->noutput_shape};
  if (counts[0] >= 0 && counts[0] != ns)
    return err_set(err, CLCNN_ERROR_SHAPE,
                   "attribute 'output_padding' has %d values for %d "
                   "spatial dims",
                   counts[0], ns);
  if (counts[1] >= 0 && counts[1] != ns && counts[1] != ns + 2)
    return err_set(err, CLCNN_ERROR_SHAPE,
                   "attribute 'output_shape' has %d values for %d "
                   "spatial dims",
                   counts[1], ns);
  if (wa->npads >= 0 && wa->npads != 2 * ns)
    return err_set(err, CLCNN_ERROR_SHAPE, "attribute 'pads' has %d values for %d spatial dims",
                   wa->npads, ns);
  if (wa->nkernel >= 0 && wa->nkernel != ns)
    return err_set(err, CLCNN_ERROR_SHAPE,
                   "attribute 'kernel_shape' has %d values for %d "
                   "spatial dims",
                   wa->nkernel, ns);
  if ((wa->nstrides >= 0 && wa->nstrides != ns) || (wa->ndilations >= 0 && wa->ndilations != ns))
    return err_set(err, CLCNN_ERROR_SHAPE,
                   "attributes 'strides' and 'dilations' need %d "
                   "values",
                   ns);
  window_geom *ge = &p->geom;
  memset(ge, 0, sizeof *ge);
  ge->nspatial = ns;
  for (int i = 0; i < ns; i++) {
    int64_t k = w->t.dims[2 + i];
    if (wa->nkernel >= 0 && wa->kernel[i] != k)
      return err_set(err, CLCNN_ERROR_SHAPE,
                     "attribute 'kernel_shape' (%lld in dim %d) does not match the weights (%lld)",
                     (long long)wa->kernel[i], i, (long long)k);
    if (k > WINDOW_ATTR_MAX)
      return err_set(err, CLCNN_ERROR_SHAPE, "kernel size %lld is too large", (long long)k);
    int64_t s = wa->nstrides >= 0 ? wa->strides[i] : 1;
    int64_t d = wa->ndilations >= 0 ? wa->dilations[i] : 1;
    int64_t op = p->noutput_padding >= 0 ? p->output_padding[i] : 0;
    int64_t xin = x->t.dims[2 + i];
    if (xin < 1)
      return err_set(err, CLCNN_ERROR_SHAPE, "input spatial dim %d is %lld", i, (long long)xin);
    if (xin > NUMEL_MAX / s)
      return err_set(err, CLCNN_ERROR_SHAPE, "input spatial dim %d is too large", i);
    int64_t natural = s * (xin - 1) + op + (k - 1) * d + 1; /* output without padding */
    int64_t pb = 0, pe = 0, out;
    if (p->noutput_shape >= 0 || wa->auto_pad == AUTO_PAD_SAME_UPPER ||
        wa->auto_pad == AUTO_PAD_SAME_LOWER) {
      out = p->noutput_shape >= 0 ? p->output_shape[p->noutput_shape - ns + i] : xin * s;
      int64_t total = natural - out;
      if (wa->auto_pad == AUTO_PAD_SAME_UPPER) {
        pb = floor_half(total);
        pe = total - pb;
      } else {
        pe = floor_half(total);
        pb = total - pe;
      }
    } else {
      if (wa->auto_pad == AUTO_PAD_NOTSET && wa->npads >= 0) {
        pb = wa->pads[i];
        pe = wa->pads[i + ns];
      }
      out = natural - pb - pe;
    }
    if (out < 1)
      return err_set(err, CLCNN_ERROR_SHAPE, "output spatial dim %d would be %lld", i,
                     (long long)out);
    ge->in[i] = xin;
    ge->out[i] = out;
    ge->kernel[i] = k;
    ge->strides[i] = s;
    ge->dilations[i] = d;
    ge->pads_begin[i] = pb;
    ge->pads_end[i] = pe;
  }
  ge->in_size = window_numel(ns, ge->in);
  ge->out_size = window_numel(ns, ge->out);
  ge->kernel_size = window_numel(ns, ge->kernel);
  if (ge->in_size < 0 || ge->out_size < 0 || ge->kernel_size < 0)
    return err_set(err, CLCNN_ERROR_SHAPE, "spatial sizes are too large");
  p->pointwise = 0;
  p->depthwise = 0;
  return conv_set_output(g, n, p, err);
}

static double conv_flops(const ir_graph *g, const ir_node *n) {
  (void)g;
  const conv_params *p = n->params;
  /* Both directions: 2 * N * C_out * (C_in / group) * kernel * (smaller image). */
  double img = n->op == CLCNN_OP_CONV ? (double)p->geom.out_size : (double)p->geom.in_size;
  return 2.0 * (double)p->batch * (double)p->out_channels * (double)p->group_in *
         (double)p->geom.kernel_size * img;
}

static const op_front conv_front = {sizeof(conv_params), conv_parse, conv_infer, conv_flops};
static const op_front convt_front = {sizeof(conv_params), convt_parse, convt_infer, conv_flops};

const op_front *const op_front_conv[CLCNN_OP_COUNT] = {
    [CLCNN_OP_CONV] = &conv_front,
    [CLCNN_OP_CONV_TRANSPOSE] = &convt_front,
};
