/* Front half of the norm family: BatchNormalization (inference),
 * InstanceNormalization, LayerNormalization, GroupNormalization, LRN,
 * LpNormalization and MeanVarianceNormalization.
 * Attributes, validation and shape inference. */
#include "norm.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

/* Fails with INVALID_MODEL on an attribute not in `names` (NULL-ended). */
static clcnn_status check_attr_names(const ir_node *n, const char *const *names, clcnn_err *err) {
  for (int i = 0; i < n->nattr; i++) {
    bool known = false;
    for (const char *const *s = names; *s && !known; s++) known = strcmp(n->attr[i].name, *s) == 0;
    if (!known)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "unknown attribute '%s' (opset %d)",
                     n->attr[i].name, n->opset);
  }
  return CLCNN_OK;
}

static clcnn_status get_float(const ir_node *n, const char *name, float def, float *out,
                              clcnn_err *err) {
  const ir_attr *a = ir_attr_find(n, name);
  if (!a) {
    *out = def;
    return CLCNN_OK;
  }
  if (a->type == IR_ATTR_FLOAT)
    *out = a->f;
  else if (a->type == IR_ATTR_INT)
    *out = (float)a->i;
  else
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute '%s' must be a float", name);
  if (!isfinite(*out))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute '%s' is not finite", name);
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

/* stash_type of LayerNormalization / GroupNormalization: the statistics are
 * computed in float with double accumulation whatever it says. */
static clcnn_status get_stash_type(const ir_node *n, int *out, clcnn_err *err) {
  int64_t v = CLCNN_DTYPE_FLOAT32;
  clcnn_status st = get_int(n, "stash_type", CLCNN_DTYPE_FLOAT32, &v, err);
  if (st) return st;
  if (v != CLCNN_DTYPE_FLOAT32 && v != CLCNN_DTYPE_FLOAT16 && v != CLCNN_DTYPE_FLOAT64 &&
      v != 16 /* bfloat16 */)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'stash_type' = %lld is invalid",
                   (long long)v);
  *out = (int)v;
  return CLCNN_OK;
}

static clcnn_status check_arity(const ir_node *n, int min_in, int max_in, int min_out, int max_out,
                                clcnn_err *err) {
  if (n->nin < min_in || n->nin > max_in)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects %d to %d inputs, got %d", min_in,
                   max_in, n->nin);
  if (n->nout < min_out || n->nout > max_out)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects %d to %d outputs, got %d", min_out,
                   max_out, n->nout);
  for (int i = 0; i < min_in; i++)
    if (n->in[i] < 0)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "required input %d is missing", i);
  if (n->out[0] < 0) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "output 0 is missing");
  return CLCNN_OK;
}

static clcnn_status need_float(const ir_value *v, const char *what, clcnn_err *err) {
  if (v->t.dtype != CLCNN_DTYPE_FLOAT32)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "input '%s' has type %s; only float32 is supported", what,
                   dtype_name(v->t.dtype));
  return CLCNN_OK;
}

/* Product of dims[from:to]; the shapes were checked by inference upstream,
 * but a hostile model must not overflow here either. */
static int64_t dims_product(const clcnn_tensor *t, int from, int to) {
  int64_t p = 1;
  for (int i = from; i < to; i++) {
    if (t->dims[i] < 0) return -1;
    if (t->dims[i] && p > INT64_MAX / t->dims[i]) return -1;
    p *= t->dims[i];
  }
  return p;
}

/* X of rank >= 2 (N x C x D1 ... Dn): N, C and the product of the Dk. */
static clcnn_status nc_split(const ir_value *x, int64_t *batch, int64_t *channels, int64_t *inner,
                             clcnn_err *err) {
  char buf[128];
  if (x->t.rank < 2)
    return err_set(err, CLCNN_ERROR_SHAPE, "input X of shape %s must have rank >= 2 (N x C x ...)",
                   shape_str(x->t.rank, x->t.dims, buf, sizeof buf));
  *batch = x->t.dims[0];
  *channels = x->t.dims[1];
  *inner = dims_product(&x->t, 2, x->t.rank);
  if (*batch < 0 || *channels < 0 || *inner < 0 || dims_product(&x->t, 0, x->t.rank) < 0)
    return err_set(err, CLCNN_ERROR_SHAPE, "input X has an invalid shape %s",
                   shape_str(x->t.rank, x->t.dims, buf, sizeof buf));
  return CLCNN_OK;
}

/* A per-channel (or per-group) parameter input: float32 with `count` elements. */
static clcnn_status check_vector(const ir_value *v, const char *what, int64_t count, const char *of,
                                 clcnn_err *err) {
  char buf[128];
  clcnn_status st = need_float(v, what, err);
  if (st) return st;
  if (v->t.rank < 1 || dims_product(&v->t, 0, v->t.rank) != count)
    return err_set(err, CLCNN_ERROR_SHAPE, "input '%s' of shape %s must have %lld elements (%s)",
                   what, shape_str(v->t.rank, v->t.dims, buf, sizeof buf), (long long)count, of);
  return CLCNN_OK;
}

static double numel_flops(const ir_graph *g, const ir_node *n, double per_element) {
  const ir_value *x = ir_in(g, n, 0);
  if (!x) return 0;
  return per_element * (double)shape_numel(x->t.rank, x->t.dims);
}

/* ----------------------------------------------------- BatchNormalization */

static clcnn_status batchnorm_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  batchnorm_params *p = n->params;
  static const char *const names7[] = {"epsilon", "momentum", "spatial", NULL};
  static const char *const names9[] = {"epsilon", "momentum", NULL};
  static const char *const names14[] = {"epsilon", "momentum", "training_mode", NULL};
  clcnn_status st = check_arity(n, 5, 5, 1, n->opset >= 14 ? 3 : 5, err);
  if (st) return st;
  st = check_attr_names(n, n->opset >= 14 ? names14 : n->opset >= 9 ? names9 : names7, err);
  if (st) return st;
  float momentum = 0.9f;
  int64_t spatial = 1, training = 0;
  if ((st = get_float(n, "epsilon", 1e-5f, &p->epsilon, err)) ||
      (st = get_float(n, "momentum", 0.9f, &momentum, err)) ||
      (st = get_int(n, "spatial", 1, &spatial, err)) ||
      (st = get_int(n, "training_mode", 0, &training, err)))
    return st;
  if (p->epsilon < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'epsilon' = %g is negative",
                   (double)p->epsilon);
  if (spatial != 0 && spatial != 1)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'spatial' = %lld must be 0 or 1",
                   (long long)spatial);
  if (training != 0 && training != 1)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                   "attribute 'training_mode' = %lld must be 0 or 1", (long long)training);
  for (int k = 1; k < n->nout && !training; k++)
    if (n->out[k] >= 0)
      return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                     "output %d (training statistics) needs training_mode = 1", k);
  p->spatial = (int)spatial;
  p->training = (int)training;
  p->momentum = momentum;
  return CLCNN_OK;
}

static clcnn_status batchnorm_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  batchnorm_params *p = n->params;
  static const char *const names[] = {"X", "scale", "B", "input_mean", "input_var"};
  const ir_value *x = ir_in(g, n, 0);
  clcnn_status st = need_float(x, "X", err);
  if (st) return st;
  int64_t batch, channels, inner;
  if ((st = nc_split(x, &batch, &channels, &inner, err))) return st;
  p->batch = batch;
  p->channels = channels;
  p->nstat = p->spatial ? channels : channels * inner;
  p->block = p->spatial ? inner : 1;
  for (int i = 1; i < 5; i++) {
    st = check_vector(ir_in(g, n, i), names[i], p->nstat,
                      p->spatial ? "one per channel" : "C x D1 x ... x Dn, spatial = 0", err);
    if (st) return st;
  }
  ir_set_shape(ir_out(g, n, 0), CLCNN_DTYPE_FLOAT32, x->t.rank, x->t.dims);
  for (int k = 1; k < 3 && k < n->nout; k++) /* training mode's running statistics */
    if (n->out[k] >= 0) ir_set_shape(ir_out(g, n, k), CLCNN_DTYPE_FLOAT32, 1, &channels);
  return CLCNN_OK;
}

static double batchnorm_flops(const ir_graph *g, const ir_node *n) { return numel_flops(g, n, 2); }

clcnn_status batchnorm_fold_scale(const ir_graph *g, const ir_node *bn, float *scale, float *shift,
                                  int64_t channels, clcnn_err *err) {
  static const char *const names[] = {"X", "scale", "B", "input_mean", "input_var"};
  if (bn->op != CLCNN_OP_BATCHNORM || bn->nin != 5)
    return err_set(err, CLCNN_ERROR_INTERNAL, "not a BatchNormalization node");
  const batchnorm_params *p = bn->params;
  if (!p) return err_set(err, CLCNN_ERROR_INTERNAL, "BatchNormalization node was not parsed");
  if (!p->spatial && p->block != 1)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "statistics are not per channel (spatial = 0)");
  if (p->training) return err_set(err, CLCNN_ERROR_UNSUPPORTED, "training mode");
  for (int k = 1; k < bn->nout; k++)
    if (bn->out[k] >= 0)
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "training outputs are present");
  const float *v[5] = {NULL};
  for (int i = 1; i < 5; i++) {
    const ir_value *in = ir_in(g, bn, i);
    if (!in || !in->is_const || !in->t.data)
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input '%s' is not a constant", names[i]);
    if (in->t.dtype != CLCNN_DTYPE_FLOAT32)
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input '%s' is not float32", names[i]);
    if (shape_numel(in->t.rank, in->t.dims) != channels)
      return err_set(err, CLCNN_ERROR_SHAPE, "input '%s' does not have %lld elements", names[i],
                     (long long)channels);
    v[i] = in->t.data;
  }
  for (int64_t c = 0; c < channels; c++) {
    double a = (double)v[1][c] / sqrt((double)v[4][c] + (double)p->epsilon);
    scale[c] = (float)a;
    shift[c] = (float)((double)v[2][c] - (double)v[3][c] * a);
  }
  return CLCNN_OK;
}

static const op_front batchnorm_front = {sizeof(batchnorm_params), batchnorm_parse, batchnorm_infer,
                                         batchnorm_flops};

/* -------------------------------------------------- InstanceNormalization */

static clcnn_status instancenorm_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  instancenorm_params *p = n->params;
  static const char *const names[] = {"epsilon", NULL};
  clcnn_status st = check_arity(n, 3, 3, 1, 1, err);
  if (st || (st = check_attr_names(n, names, err))) return st;
  if ((st = get_float(n, "epsilon", 1e-5f, &p->epsilon, err))) return st;
  if (p->epsilon < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'epsilon' = %g is negative",
                   (double)p->epsilon);
  return CLCNN_OK;
}

static clcnn_status instancenorm_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  instancenorm_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0);
  clcnn_status st = need_float(x, "X", err);
  if (st || (st = nc_split(x, &p->batch, &p->channels, &p->inner, err))) return st;
  if ((st = check_vector(ir_in(g, n, 1), "scale", p->channels, "one per channel", err)) ||
      (st = check_vector(ir_in(g, n, 2), "B", p->channels, "one per channel", err)))
    return st;
  ir_set_shape(ir_out(g, n, 0), CLCNN_DTYPE_FLOAT32, x->t.rank, x->t.dims);
  return CLCNN_OK;
}

static double instancenorm_flops(const ir_graph *g, const ir_node *n) {
  return numel_flops(g, n, 5);
}

static const op_front instancenorm_front = {sizeof(instancenorm_params), instancenorm_parse,
                                            instancenorm_infer, instancenorm_flops};

/* ----------------------------------------------------- LayerNormalization */

static clcnn_status layernorm_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  layernorm_params *p = n->params;
  static const char *const names[] = {"axis", "epsilon", "stash_type", NULL};
  clcnn_status st = check_arity(n, 2, 3, 1, 3, err);
  if (st || (st = check_attr_names(n, names, err))) return st;
  if ((st = get_int(n, "axis", -1, &p->axis_attr, err)) ||
      (st = get_float(n, "epsilon", 1e-5f, &p->epsilon, err)) ||
      (st = get_stash_type(n, &p->stash_type, err)))
    return st;
  if (p->epsilon < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'epsilon' = %g is negative",
                   (double)p->epsilon);
  if (p->axis_attr < -CLCNN_MAX_RANK || p->axis_attr >= CLCNN_MAX_RANK)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'axis' = %lld is out of range",
                   (long long)p->axis_attr);
  bool stats = (n->nout > 1 && n->out[1] >= 0) || (n->nout > 2 && n->out[2] >= 0);
  if (stats && p->stash_type != CLCNN_DTYPE_FLOAT32)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "outputs Mean/InvStdDev with stash_type = %d are not supported (float only)",
                   p->stash_type);
  return CLCNN_OK;
}

/* Scale/B must broadcast (unidirectionally) to X.shape[axis:]. Returns the
 * element count, or -1 when it does not. */
static int64_t layernorm_param_numel(const clcnn_tensor *x, int axis, const clcnn_tensor *s) {
  int k = x->rank - axis; /* rank of the normalised block */
  int lead = s->rank - k;
  for (int i = 0; i < lead; i++) /* extra leading dims must be 1 */
    if (s->dims[i] != 1) return -1;
  for (int i = lead < 0 ? 0 : lead; i < s->rank; i++) {
    int64_t xd = x->dims[axis + (i - lead)];
    if (s->dims[i] != xd && s->dims[i] != 1) return -1;
  }
  return dims_product(s, 0, s->rank);
}

static clcnn_status layernorm_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  layernorm_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0);
  char buf[128], buf2[128];
  clcnn_status st = need_float(x, "X", err);
  if (st) return st;
  int r = x->t.rank;
  if (r < 1) return err_set(err, CLCNN_ERROR_SHAPE, "input X must have rank >= 1");
  if (p->axis_attr < -r || p->axis_attr >= r)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                   "attribute 'axis' = %lld is out of range for rank %d", (long long)p->axis_attr,
                   r);
  p->axis = (int)(p->axis_attr < 0 ? p->axis_attr + r : p->axis_attr);
  p->outer = dims_product(&x->t, 0, p->axis);
  p->inner = dims_product(&x->t, p->axis, r);
  if (p->outer < 0 || p->inner < 0)
    return err_set(err, CLCNN_ERROR_SHAPE, "input X has an invalid shape %s",
                   shape_str(r, x->t.dims, buf, sizeof buf));
  static const char *const names[] = {"X", "Scale", "B"};
  for (int i = 1; i < 3; i++) {
    const ir_value *s = ir_in(g, n, i);
    if (!s) {
      p->bias_numel = 0;
      continue;
    }
    if ((st = need_float(s, names[i], err))) return st;
    int64_t numel = layernorm_param_numel(&x->t, p->axis, &s->t);
    if (numel < 0)
      return err_set(err, CLCNN_ERROR_SHAPE,
                     "input '%s' of shape %s does not broadcast to the normalised shape of X %s "
                     "(axis %d)",
                     names[i], shape_str(s->t.rank, s->t.dims, buf, sizeof buf),
                     shape_str(r, x->t.dims, buf2, sizeof buf2), p->axis);
    if (i == 1)
      p->scale_numel = numel;
    else
      p->bias_numel = numel;
  }
  ir_set_shape(ir_out(g, n, 0), CLCNN_DTYPE_FLOAT32, r, x->t.dims);
  int64_t sdims[CLCNN_MAX_RANK];
  for (int i = 0; i < r; i++) sdims[i] = i < p->axis ? x->t.dims[i] : 1;
  for (int k = 1; k < 3; k++) {
    ir_value *o = ir_out(g, n, k);
    if (o) ir_set_shape(o, CLCNN_DTYPE_FLOAT32, r, sdims);
  }
  return CLCNN_OK;
}

static double layernorm_flops(const ir_graph *g, const ir_node *n) { return numel_flops(g, n, 7); }

static const op_front layernorm_front = {sizeof(layernorm_params), layernorm_parse, layernorm_infer,
                                         layernorm_flops};

/* ----------------------------------------------------- GroupNormalization */

static clcnn_status groupnorm_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  groupnorm_params *p = n->params;
  static const char *const names18[] = {"epsilon", "num_groups", NULL};
  static const char *const names21[] = {"epsilon", "num_groups", "stash_type", NULL};
  clcnn_status st = check_arity(n, 3, 3, 1, 1, err);
  if (st || (st = check_attr_names(n, n->opset >= 21 ? names21 : names18, err))) return st;
  if (!ir_attr_find(n, "num_groups"))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'num_groups' is required");
  if ((st = get_float(n, "epsilon", 1e-5f, &p->epsilon, err)) ||
      (st = get_int(n, "num_groups", 0, &p->num_groups, err)) ||
      (st = get_stash_type(n, &p->stash_type, err)))
    return st;
  if (p->epsilon < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'epsilon' = %g is negative",
                   (double)p->epsilon);
  if (p->num_groups < 1)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'num_groups' = %lld must be >= 1",
                   (long long)p->num_groups);
  p->per_channel = n->opset >= 21;
  return CLCNN_OK;
}

static clcnn_status groupnorm_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  groupnorm_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0);
  clcnn_status st = need_float(x, "X", err);
  if (st || (st = nc_split(x, &p->batch, &p->channels, &p->inner, err))) return st;
  if (p->num_groups > p->channels || p->channels % p->num_groups != 0)
    return err_set(err, CLCNN_ERROR_SHAPE, "%lld channels do not divide into %lld groups",
                   (long long)p->channels, (long long)p->num_groups);
  int64_t count = p->per_channel ? p->channels : p->num_groups;
  const char *of = p->per_channel ? "one per channel (opset >= 21)" : "one per group (opset 18)";
  if ((st = check_vector(ir_in(g, n, 1), "scale", count, of, err)) ||
      (st = check_vector(ir_in(g, n, 2), "bias", count, of, err)))
    return st;
  ir_set_shape(ir_out(g, n, 0), CLCNN_DTYPE_FLOAT32, x->t.rank, x->t.dims);
  return CLCNN_OK;
}

static double groupnorm_flops(const ir_graph *g, const ir_node *n) { return numel_flops(g, n, 5); }

static const op_front groupnorm_front = {sizeof(groupnorm_params), groupnorm_parse, groupnorm_infer,
                                         groupnorm_flops};

/* -------------------------------------------------------------------- LRN */

static clcnn_status lrn_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  lrn_params *p = n->params;
  static const char *const names[] = {"alpha", "beta", "bias", "size", NULL};
  clcnn_status st = check_arity(n, 1, 1, 1, 1, err);
  if (st || (st = check_attr_names(n, names, err))) return st;
  if (!ir_attr_find(n, "size"))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'size' is required");
  if ((st = get_float(n, "alpha", 1e-4f, &p->alpha, err)) ||
      (st = get_float(n, "beta", 0.75f, &p->beta, err)) ||
      (st = get_float(n, "bias", 1.0f, &p->bias, err)) ||
      (st = get_int(n, "size", 0, &p->size, err)))
    return st;
  if (p->size < 1 || p->size > (int64_t)1 << 30)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'size' = %lld is invalid",
                   (long long)p->size);
  return CLCNN_OK;
}

static clcnn_status lrn_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  lrn_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0);
  clcnn_status st = need_float(x, "X", err);
  if (st || (st = nc_split(x, &p->batch, &p->channels, &p->inner, err))) return st;
  ir_set_shape(ir_out(g, n, 0), CLCNN_DTYPE_FLOAT32, x->t.rank, x->t.dims);
  return CLCNN_OK;
}

static double lrn_flops(const ir_graph *g, const ir_node *n) {
  const lrn_params *p = n->params;
  return numel_flops(g, n, 2.0 * (double)(p ? p->size : 1) + 4);
}

static const op_front lrn_front = {sizeof(lrn_params), lrn_parse, lrn_infer, lrn_flops};

/* -------------------------------------------------------- LpNormalization */

static clcnn_status lpnorm_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  lpnorm_params *p = n->params;
  static const char *const names[] = {"axis", "p", NULL};
  int64_t pv = 2;
  clcnn_status st = check_arity(n, 1, 1, 1, 1, err);
  if (st || (st = check_attr_names(n, names, err)) ||
      (st = get_int(n, "axis", -1, &p->axis_attr, err)) || (st = get_int(n, "p", 2, &pv, err)))
    return st;
  if (pv != 1 && pv != 2)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'p' = %lld: only 1 and 2 are valid",
                   (long long)pv);
  p->p = (int)pv;
  return CLCNN_OK;
}

static clcnn_status lpnorm_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  lpnorm_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0);
  clcnn_status st = need_float(x, "input", err);
  if (st) return st;
  int r = x->t.rank;
  if (r < 1) return err_set(err, CLCNN_ERROR_SHAPE, "input must have rank >= 1");
  if (p->axis_attr < -r || p->axis_attr >= r)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is out of range for rank %d",
                   (long long)p->axis_attr, r);
  p->axis = (int)(p->axis_attr < 0 ? p->axis_attr + r : p->axis_attr);
  p->outer = dims_product(&x->t, 0, p->axis);
  p->len = x->t.dims[p->axis];
  p->inner = dims_product(&x->t, p->axis + 1, r);
  ir_set_shape(ir_out(g, n, 0), CLCNN_DTYPE_FLOAT32, r, x->t.dims);
  return CLCNN_OK;
}

static double lpnorm_flops(const ir_graph *g, const ir_node *n) { return numel_flops(g, n, 3); }

static const op_front lpnorm_front = {sizeof(lpnorm_params), lpnorm_parse, lpnorm_infer,
                                      lpnorm_flops};

/* ---------------------------------------------- MeanVarianceNormalization */

static clcnn_status mvn_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  mvn_params *p = n->params;
  static const char *const names[] = {"axes", NULL};
  clcnn_status st = check_arity(n, 1, 1, 1, 1, err);
  if (st || (st = check_attr_names(n, names, err))) return st;
  const ir_attr *a = ir_attr_find(n, "axes");
  if (a && a->type != IR_ATTR_INTS)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'axes' must be a list of ints");
  int k = ir_attr_ints(n, "axes", p->axes, CLCNN_MAX_RANK);
  if (k == -2)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'axes' has more than %d entries",
                   CLCNN_MAX_RANK);
  if (k < 0) {
    static const int64_t def[3] = {0, 2, 3};
    memcpy(p->axes, def, sizeof def);
    k = 3;
  }
  p->naxes = k;
  return CLCNN_OK;
}

static clcnn_status mvn_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  mvn_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0);
  clcnn_status st = need_float(x, "X", err);
  if (st) return st;
  int r = x->t.rank;
  p->mask = 0;
  for (int i = 0; i < p->naxes; i++) {
    int64_t a = p->axes[i];
    if (a < -r || a >= r)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is out of range for rank %d",
                     (long long)a, r);
    if (a < 0) a += r;
    if (p->mask & (1u << a))
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "axis %lld is repeated", (long long)a);
    p->mask |= 1u << a;
  }
  if (dims_product(&x->t, 0, r) < 0)
    return err_set(err, CLCNN_ERROR_SHAPE, "input X has an invalid shape");
  ir_set_shape(ir_out(g, n, 0), CLCNN_DTYPE_FLOAT32, r, x->t.dims);
  return CLCNN_OK;
}

static double mvn_flops(const ir_graph *g, const ir_node *n) { return numel_flops(g, n, 5); }

static const op_front mvn_front = {sizeof(mvn_params), mvn_parse, mvn_infer, mvn_flops};

const op_front *const op_front_norm[CLCNN_OP_COUNT] = {
    [CLCNN_OP_BATCHNORM] = &batchnorm_front,
    [CLCNN_OP_INSTANCENORM] = &instancenorm_front,
    [CLCNN_OP_LAYERNORM] = &layernorm_front,
    [CLCNN_OP_GROUPNORM] = &groupnorm_front,
    [CLCNN_OP_LRN] = &lrn_front,
    [CLCNN_OP_LPNORM] = &lpnorm_front,
    [CLCNN_OP_MVN] = &mvn_front,
};
