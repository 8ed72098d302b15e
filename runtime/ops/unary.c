/* Front half of the unary family: attributes, validation, shape inference.
 * Every operator of the family has one input and one output of the same
 * shape and type; they differ only in their attributes, so one parse and one
 * infer serve them all. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "../internal.h"
#include "unary.h"

/* A float attribute (an int one is accepted and converted); `def` when absent. */
static clcnn_status attr_float(const ir_node *n, const char *name, float def, float *out,
                               clcnn_err *err) {
  const ir_attr *a = ir_attr_find(n, name);
  if (!a) {
    *out = def;
  } else if (a->type == IR_ATTR_FLOAT) {
    *out = a->f;
  } else if (a->type == IR_ATTR_INT) {
    *out = (float)a->i;
  } else {
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute '%s' must be a float", name);
  }
  return CLCNN_OK;
}

static clcnn_status unary_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  unary_params *p = n->params;
  bool clip_inputs = n->op == CLCNN_OP_CLIP && n->opset >= 11;
  int max_in = clip_inputs ? 3 : 1;
  if (n->nin < 1 || n->nin > max_in)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects %s input%s, got %d",
                   clip_inputs ? "1 to 3" : "1", clip_inputs ? "s" : "", n->nin);
  if (n->in[0] < 0) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input 'X' is required");
  if (n->nout != 1 || n->out[0] < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 1 output, got %d", n->nout);

  clcnn_status st = CLCNN_OK;
  switch (n->op) {
    case CLCNN_OP_LEAKYRELU:
      st = attr_float(n, "alpha", 0.01f, &p->alpha, err);
      break;
    case CLCNN_OP_ELU:
      st = attr_float(n, "alpha", 1.0f, &p->alpha, err);
      break;
    case CLCNN_OP_SELU:
      st = attr_float(n, "alpha", 1.67326319217681884765625f, &p->alpha, err);
      if (st == CLCNN_OK) st = attr_float(n, "gamma", 1.05070102214813232421875f, &p->gamma, err);
      break;
    case CLCNN_OP_HARDSIGMOID:
      st = attr_float(n, "alpha", 0.2f, &p->alpha, err);
      if (st == CLCNN_OK) st = attr_float(n, "beta", 0.5f, &p->beta, err);
      break;
    case CLCNN_OP_HARDSWISH:
      p->alpha = 1.0f / 6.0f;
      p->beta = 0.5f;
      break;
    case CLCNN_OP_CELU:
    case CLCNN_OP_THRESHOLDEDRELU:
      st = attr_float(n, "alpha", 1.0f, &p->alpha, err);
      if (st == CLCNN_OK && n->op == CLCNN_OP_CELU && p->alpha == 0.0f)
        st = err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'alpha' must not be 0");
      break;
    case CLCNN_OP_SHRINK:
      st = attr_float(n, "lambd", 0.5f, &p->alpha, err);
      if (st == CLCNN_OK) st = attr_float(n, "bias", 0.0f, &p->beta, err);
      break;
    case CLCNN_OP_CLIP:
      if (n->opset < 11) {
        st = attr_float(n, "min", -FLT_MAX, &p->min, err);
        if (st == CLCNN_OK) st = attr_float(n, "max", FLT_MAX, &p->max, err);
        if (st == CLCNN_OK && (isnan(p->min) || isnan(p->max)))
          st = err_set(err, CLCNN_ERROR_INVALID_MODEL,
                       "attributes 'min' and 'max' must not be NaN");
      } else {
        p->min = -INFINITY; /* completed by infer from the inputs */
        p->max = INFINITY;
      }
      break;
    case CLCNN_OP_GELU: {
      const ir_attr *a = ir_attr_find(n, "approximate");
      if (a && a->type != IR_ATTR_STRING)
        return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'approximate' must be a string");
      const char *s = ir_attr_string(n, "approximate", "none");
      if (strcmp(s, "none") == 0)
        p->approximate = GELU_APPROX_NONE;
      else if (strcmp(s, "tanh") == 0)
        p->approximate = GELU_APPROX_TANH;
      else
        return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                       "attribute 'approximate' = '%s' is not valid (none or tanh)", s);
      break;
    }
    default:
      break;
  }
  return st;
}

/* Whether the operator takes element type dt. */
static bool unary_dtype_ok(const ir_node *n, clcnn_dtype dt) {
  if (n->op == CLCNN_OP_NOT) return dt == CLCNN_DTYPE_BOOL;
  if (dt == CLCNN_DTYPE_FLOAT32) return true;
  if (dt == CLCNN_DTYPE_FLOAT64) return n->op != CLCNN_OP_CLIP || n->opset >= 11;
  bool is_int = dt == CLCNN_DTYPE_INT64 || dt == CLCNN_DTYPE_INT32 || dt == CLCNN_DTYPE_INT8;
  switch (n->op) {
    case CLCNN_OP_RELU:
    case CLCNN_OP_NEG:
      return is_int;
    case CLCNN_OP_ABS:
    case CLCNN_OP_SIGN:
      return is_int || dt == CLCNN_DTYPE_UINT8;
    case CLCNN_OP_CLIP: /* integer bounds come only as inputs */
      return n->opset >= 11 && (is_int || dt == CLCNN_DTYPE_UINT8);
    default:
      return false;
  }
}

/* Clip from opset 11: a bound given as input is a scalar (of X's type, in
 * a valid model; others are converted). A constant one goes into the
 * params, another one is read when the node runs. */
static clcnn_status clip_bound(const ir_graph *g, const ir_node *n, int i, const char *name,
                               float *out, clcnn_err *err) {
  const ir_value *v = ir_in(g, n, i);
  if (!v) return CLCNN_OK;
  unary_params *p = n->params;
  if (shape_numel(v->t.rank, v->t.dims) != 1)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input '%s' must be a scalar", name);
  if (!dtype_size(v->t.dtype) || v->t.dtype == CLCNN_DTYPE_FLOAT16)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input '%s' of type %s is not supported", name,
                   dtype_name(v->t.dtype));
  if (!v->is_const || !v->t.data) {
    p->bounds_dynamic = 1;
    return CLCNN_OK;
  }
  double d = tensor_get_f64(&v->t, 0);
  if (isnan(d)) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input '%s' is NaN", name);
  *out = (float)d;
  return CLCNN_OK;
}

static clcnn_status unary_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  const ir_value *x = ir_in(g, n, 0);
  if (!unary_dtype_ok(n, x->t.dtype))
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input type %s is not supported",
                   dtype_name(x->t.dtype));
  if (n->op == CLCNN_OP_CLIP && n->opset >= 11) {
    unary_params *p = n->params;
    p->min = -INFINITY;
    p->max = INFINITY;
    p->bounds_dynamic = 0;
    clcnn_status st = clip_bound(g, n, 1, "min", &p->min, err);
    if (st == CLCNN_OK) st = clip_bound(g, n, 2, "max", &p->max, err);
    if (st != CLCNN_OK) return st;
  }
  ir_set_shape(ir_out(g, n, 0), x->t.dtype, x->t.rank, x->t.dims);
  return CLCNN_OK;
}

static double unary_flops(const ir_graph *g, const ir_node *n) {
  const ir_value *y = ir_out(g, n, 0);
  return y ? (double)shape_numel(y->t.rank, y->t.dims) : 0.0;
}

static const op_front unary_front = {sizeof(unary_params), unary_parse, unary_infer,
                                     unary_flops};

/* The params parse() sets by default (for fused activations and callers
 * that pass none). */
unary_params unary_params_default(int op) {
  unary_params p;
  memset(&p, 0, sizeof p);
  p.min = -INFINITY;
  p.max = INFINITY;
  switch (op) {
    case CLCNN_OP_LEAKYRELU: p.alpha = 0.01f; break;
    case CLCNN_OP_ELU: p.alpha = 1.0f; break;
    case CLCNN_OP_SELU:
      p.alpha = 1.67326319217681884765625f;
      p.gamma = 1.05070102214813232421875f;
      break;
    case CLCNN_OP_HARDSIGMOID:
      p.alpha = 0.2f;
      p.beta = 0.5f;
      break;
    case CLCNN_OP_HARDSWISH:
      p.alpha = 1.0f / 6.0f;
      p.beta = 0.5f;
      break;
    case CLCNN_OP_CELU:
    case CLCNN_OP_THRESHOLDEDRELU: p.alpha = 1.0f; break;
    case CLCNN_OP_SHRINK: p.alpha = 0.5f; break;
    default: break;
  }
  return p;
}

const op_front *const op_front_unary[CLCNN_OP_COUNT] = {
    [CLCNN_OP_RELU] = &unary_front,        [CLCNN_OP_LEAKYRELU] = &unary_front,
    [CLCNN_OP_ELU] = &unary_front,         [CLCNN_OP_SELU] = &unary_front,
    [CLCNN_OP_SIGMOID] = &unary_front,     [CLCNN_OP_HARDSIGMOID] = &unary_front,
    [CLCNN_OP_HARDSWISH] = &unary_front,   [CLCNN_OP_TANH] = &unary_front,
    [CLCNN_OP_CLIP] = &unary_front,        [CLCNN_OP_SOFTPLUS] = &unary_front,
    [CLCNN_OP_MISH] = &unary_front,        [CLCNN_OP_GELU] = &unary_front,
    [CLCNN_OP_ERF] = &unary_front,         [CLCNN_OP_EXP] = &unary_front,
    [CLCNN_OP_LOG] = &unary_front,         [CLCNN_OP_SQRT] = &unary_front,
    [CLCNN_OP_NEG] = &unary_front,         [CLCNN_OP_ABS] = &unary_front,
    [CLCNN_OP_RECIPROCAL] = &unary_front, [CLCNN_OP_NOT] = &unary_front,
    [CLCNN_OP_FLOOR] = &unary_front,       [CLCNN_OP_CEIL] = &unary_front,
    [CLCNN_OP_ROUND] = &unary_front,       [CLCNN_OP_SIGN] = &unary_front,
    [CLCNN_OP_SIN] = &unary_front,         [CLCNN_OP_COS] = &unary_front,
    [CLCNN_OP_SOFTSIGN] = &unary_front,    [CLCNN_OP_CELU] = &unary_front,
    [CLCNN_OP_THRESHOLDEDRELU] = &unary_front, [CLCNN_OP_SHRINK] = &unary_front,
};
