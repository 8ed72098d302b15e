/* Optimisation passes on an inferred graph (every shape known, constants
 * folded; per_run nodes, whose shapes come with each run, are left alone).
 * Each pass rewires value indices and marks removed nodes dead; nothing is
 * deleted, so node indices stay valid. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ops/conv.h"
#include "ops/norm.h"
#include "ops/quant.h"
#include "ops/shape.h"

int graph_readers(const ir_graph *g, int v) {
  int count = g->values[v].is_output ? 1 : 0;
  for (int i = 0; i < g->nnodes; i++) {
    const ir_node *n = &g->nodes[i];
    if (n->dead) continue;
    for (int k = 0; k < n->nin; k++)
      if (n->in[k] == v) count++;
  }
  return count;
}

/* The only live node reading value v, or -1 (several readers, a graph output,
 * or none). */
static int sole_reader(const ir_graph *g, int v) {
  if (g->values[v].is_output) return -1;
  int found = -1;
  for (int i = 0; i < g->nnodes; i++) {
    const ir_node *n = &g->nodes[i];
    if (n->dead) continue;
    for (int k = 0; k < n->nin; k++)
      if (n->in[k] == v) {
        if (found >= 0 && found != i) return -1;
        found = i;
      }
  }
  return found;
}

static void replace_uses(ir_graph *g, int from, int to) {
  for (int i = 0; i < g->nnodes; i++) {
    ir_node *n = &g->nodes[i];
    if (n->dead) continue;
    for (int k = 0; k < n->nin; k++)
      if (n->in[k] == from) n->in[k] = to;
  }
}

/* Identity, and Dropout at inference, pass their input through. Consumers
 * read the input directly; a node whose output is a graph output stays. */
static void remove_identities(ir_graph *g) {
  for (int i = 0; i < g->nnodes; i++) {
    ir_node *n = &g->nodes[i];
    if (n->dead || n->per_run || (n->op != CLCNN_OP_IDENTITY && n->op != CLCNN_OP_DROPOUT))
      continue;
    if (n->nin < 1 || n->in[0] < 0 || n->nout < 1 || n->out[0] < 0) continue;
    if (n->nout > 1 && n->out[1] >= 0 && graph_readers(g, n->out[1]) > 0) continue; /* mask used */
    int in = n->in[0], out = n->out[0];
    if (g->values[out].is_output) continue;
    replace_uses(g, out, in);
    n->dead = true;
  }
}

static int add_const(ir_graph *g, const char *base, const char *suffix, int rank,
                     const int64_t *dims, float *data) {
  char name[512];
  snprintf(name, sizeof name, "%s%s", base, suffix);
  int v = ir_add_value(g, name);
  if (v < 0) return -1;
  ir_set_const(&g->values[v], CLCNN_DTYPE_FLOAT32, rank, dims, data);
  return v;
}

/* Conv followed by an inference BatchNormalization: the BN's per-channel
 * affine map is folded into the Conv's weights and bias. */
static clcnn_status fold_batchnorm(ir_graph *g, clcnn_err *err) {
  for (int i = 0; i < g->nnodes; i++) {
    ir_node *conv = &g->nodes[i];
    if (conv->dead || conv->per_run || conv->op != CLCNN_OP_CONV || conv->act_op >= 0) continue;
    if (conv->nout < 1 || conv->out[0] < 0) continue;
    int r = sole_reader(g, conv->out[0]);
    if (r < 0) continue;
    ir_node *bn = &g->nodes[r];
    if (bn->op != CLCNN_OP_BATCHNORM || bn->per_run || bn->in[0] != conv->out[0]) continue;
    if (bn->nout > 1 && bn->out[1] >= 0) continue; /* training outputs */
    const ir_value *w = ir_in(g, conv, 1);
    const ir_value *bias = ir_in(g, conv, 2);
    if (!w || !w->is_const || w->t.dtype != CLCNN_DTYPE_FLOAT32) continue;
    if (bias && (!bias->is_const || bias->t.dtype != CLCNN_DTYPE_FLOAT32)) continue;
    int64_t cout = w->t.dims[0];
    int64_t per = shape_numel(w->t.rank, w->t.dims) / (cout ? cout : 1);
    /* Weights and bias that only this Conv reads are scaled where they are
     * (a model's weights are held once, not twice, after the load); shared
     * ones are copied. */
    const int wv = conv->in[1], bv = conv->nin > 2 ? conv->in[2] : -1;
    const bool w_here = sole_reader(g, wv) == i && w->owns_data;
    const bool b_here = bias && sole_reader(g, bv) == i && bias->owns_data;
    float *a = malloc(sizeof(float) * (size_t)cout), *b = malloc(sizeof(float) * (size_t)cout);
    float *nw = w_here ? w->t.data : malloc(sizeof(float) * (size_t)(cout * per));
    float *nb = b_here ? bias->t.data : malloc(sizeof(float) * (size_t)cout);
    if (!a || !b || !nw || !nb) {
      free(a), free(b);
      if (!w_here) free(nw);
      if (!b_here) free(nb);
      return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory folding BatchNormalization");
    }
    clcnn_err ignored = {0}; /* a BN that cannot fold simply stays */
    if (batchnorm_fold_scale(g, bn, a, b, cout, &ignored) != CLCNN_OK) {
      free(a), free(b);
      if (!w_here) free(nw);
      if (!b_here) free(nb);
      continue;
    }
    const float *ow = w->t.data, *ob = bias ? bias->t.data : NULL;
    for (int64_t o = 0; o < cout; o++) { /* element by element: in place is fine */
      for (int64_t k = 0; k < per; k++) nw[o * per + k] = ow[o * per + k] * a[o];
      nb[o] = (ob ? ob[o] : 0.0f) * a[o] + b[o];
    }
    free(a);
    free(b);
    int64_t wdims[CLCNN_MAX_RANK];
    memcpy(wdims, w->t.dims, sizeof wdims);
    int wrank = w->t.rank;
    char base[400];
    snprintf(base, sizeof base, "%s", conv->name);
    /* add_const may move g->values */
    int vw = w_here ? wv : add_const(g, base, "/folded_W", wrank, wdims, nw);
    int vb = vw < 0 ? -1 : b_here ? bv : add_const(g, base, "/folded_B", 1, &cout, nb);
    if (vw < 0 || vb < 0) {
      if (vw < 0 && !w_here) free(nw);
      if (!b_here) free(nb);
      return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory folding BatchNormalization");
    }
    conv = &g->nodes[i];
    bn = &g->nodes[r];
    if (conv->nin < 3) {
      int *in = realloc(conv->in, sizeof(int) * 3);
      if (!in) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      conv->in = in;
      conv->in[2] = -1;
      conv->nin = 3;
    }
    conv->in[1] = vw;
    conv->in[2] = vb;
    conv->out[0] = bn->out[0];
    g->values[bn->out[0]].producer = i;
    bn->dead = true;
  }
  return CLCNN_OK;
}

/* A producer of floats followed by an element-wise activation: the
 * activation runs inside the producer's kernel. */
static clcnn_status fuse_activations(ir_graph *g, clcnn_err *err) {
  for (int i = 0; i < g->nnodes; i++) {
    ir_node *p = &g->nodes[i];
    if (p->dead || p->per_run || p->act_op >= 0) continue;
    /* Add and Sum: the Relu after a residual connection. */
    /* BatchNormalization: the Relu of a pre-activation block (DenseNet). */
    if (p->op != CLCNN_OP_CONV && p->op != CLCNN_OP_CONV_TRANSPOSE && p->op != CLCNN_OP_GEMM &&
        p->op != CLCNN_OP_MATMUL && p->op != CLCNN_OP_ADD && p->op != CLCNN_OP_SUM &&
        p->op != CLCNN_OP_BATCHNORM)
      continue;
    bool more_outputs = false; /* BatchNormalization's training outputs */
    for (int k = 1; k < p->nout; k++)
      if (p->out[k] >= 0) more_outputs = true;
    if (more_outputs ||
        (p->op == CLCNN_OP_BATCHNORM && ((const batchnorm_params *)p->params)->training))
      continue;
    if (p->nout < 1 || p->out[0] < 0 || g->values[p->out[0]].t.dtype != CLCNN_DTYPE_FLOAT32)
      continue;
    int r = sole_reader(g, p->out[0]);
    if (r < 0) continue;
    ir_node *act = &g->nodes[r];
    if (!op_is_activation(act->op) || act->per_run || act->nin < 1 || act->in[0] != p->out[0])
      continue;
    bool extra_inputs = false; /* Clip's min/max are folded into its params */
    for (int k = 1; k < act->nin; k++)
      if (act->in[k] >= 0 && !g->values[act->in[k]].is_const) extra_inputs = true;
    if (extra_inputs || act->nout < 1 || act->out[0] < 0) continue;
    const op_front *f = op_front_get(act->op);
    if (f->params_size) {
      p->act_params = malloc(f->params_size);
      if (!p->act_params) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      memcpy(p->act_params, act->params, f->params_size);
    }
    p->act_op = act->op;
    p->out[0] = act->out[0];
    g->values[act->out[0]].producer = i;
    act->dead = true;
  }
  return CLCNN_OK;
}

clcnn_status graph_fold_at_load(ir_graph *g, clcnn_err *err) { return fold_batchnorm(g, err); }

clcnn_status graph_fuse_residual(ir_graph *g, clcnn_err *err) {
  (void)err;
  for (int i = 0; i < g->nnodes; i++) {
    ir_node *conv = &g->nodes[i];
    if (conv->dead || conv->per_run || conv->op != CLCNN_OP_CONV || conv->act_op >= 0) continue;
    const conv_params *cp = conv->params;
    if (!cp || cp->depthwise || conv->nin > 3 || conv->nout < 1 || conv->out[0] < 0) continue;
    const int y = conv->out[0];
    if (g->values[y].t.dtype != CLCNN_DTYPE_FLOAT32) continue;
    int r = sole_reader(g, y);
    if (r < 0) continue;
    ir_node *add = &g->nodes[r];
    if (add->op != CLCNN_OP_ADD || add->per_run || add->nin != 2 || add->nout < 1 ||
        add->out[0] < 0)
      continue;
    int other = add->in[0] == y ? add->in[1] : add->in[0];
    if (other < 0 || other == y) continue;
    const ir_value *ov = &g->values[other], *yv = &g->values[y];
    /* The same shape (no broadcast), and computed before the Conv runs: the
     * node order is the schedule's topological order. */
    if (ov->t.dtype != CLCNN_DTYPE_FLOAT32 || ov->t.rank != yv->t.rank ||
        memcmp(ov->t.dims, yv->t.dims, sizeof(int64_t) * (size_t)yv->t.rank) != 0 ||
        ov->producer >= i)
      continue;
    int *in = realloc(conv->in, sizeof(int) * 4);
    if (!in) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    conv->in = in;
    for (int k = conv->nin; k < 3; k++) conv->in[k] = -1;
    conv->in[3] = other;
    conv->nin = 4;
    conv->act_op = add->act_op; /* the Relu after the sum */
    conv->act_params = add->act_params;
    add->act_op = -1;
    add->act_params = NULL;
    conv->out[0] = add->out[0];
    g->values[add->out[0]].producer = i;
    add->dead = true;
  }
  return CLCNN_OK;
}

clcnn_status graph_optimize(ir_graph *g, clcnn_err *err) {
  remove_identities(g);
  clcnn_status st = fold_batchnorm(g, err);
  if (st == CLCNN_OK) st = fuse_activations(g, err);
  return st;
}

/* ------------------------------------------------- float16 and bfloat16 */

/* The 16-, 8- and 4-bit float types, which are stored as they are and
 * computed in float32. */
static bool low_float(clcnn_dtype dt) {
  return dt == CLCNN_DTYPE_FLOAT16 || dt == CLCNN_DTYPE_BFLOAT16 || dtype_is_f8(dt);
}

/* Element i of low_float data as a float, exact. */
static float low_get(clcnn_dtype dt, const void *src, int64_t i) {
  if (dtype_is_f8(dt)) return f8_to_float(dt, ((const uint8_t *)src)[i]);
  const uint16_t h = ((const uint16_t *)src)[i];
  return dt == CLCNN_DTYPE_BFLOAT16 ? bf16_to_float(h) : f16_to_float(h);
}

/* New float32 data for n elements of a low_float type (NULL: out of memory). */
static float *widen_low(clcnn_dtype dt, const void *src, int64_t n) {
  float *d = malloc(sizeof(float) * (size_t)(n ? n : 1));
  if (!d) return NULL;
  for (int64_t i = 0; i < n; i++) d[i] = low_get(dt, src, i);
  return d;
}

/* The float8 / float4 type that value v holds before lowering (its own
 * type, or what the Cast or QuantizeLinear that writes it produces), else
 * UNDEFINED. */
static clcnn_dtype f8_type_of(const ir_graph *g, int v) {
  if (v < 0) return CLCNN_DTYPE_UNDEFINED;
  if (dtype_is_f8(g->values[v].t.dtype)) return g->values[v].t.dtype;
  for (int i = 0; i < g->nnodes; i++) {
    const ir_node *n = &g->nodes[i];
    if (n->nout < 1 || n->out[0] != v || !n->params) continue;
    if (n->op == CLCNN_OP_CAST) {
      const cast_params *p = n->params;
      return dtype_is_f8(p->to) ? p->to : p->round_f8;
    }
    if (n->op == CLCNN_OP_QUANTIZE_LINEAR) {
      const qdq_params *p = n->params;
      if (p->lowp) return p->lowp;
      if (dtype_is_f8(p->output_dtype)) return p->output_dtype;
      return n->nin > 2 ? f8_type_of(g, n->in[2]) : CLCNN_DTYPE_UNDEFINED;
    }
    return CLCNN_DTYPE_UNDEFINED;
  }
  return CLCNN_DTYPE_UNDEFINED;
}

/* A value named after `base` with `suffix`, unique in the graph. */
static int add_named_value(ir_graph *g, const char *base, const char *suffix) {
  char name[600];
  snprintf(name, sizeof name, "%s%s", base, suffix);
  for (int k = 2; ir_find_value(g, name) >= 0 && k < 1000; k++)
    snprintf(name, sizeof name, "%s%s_%d", base, suffix, k);
  return ir_add_value(g, name);
}

/* Adds a Cast node from value `from` to value `to` converting to `dt`. */
static clcnn_status add_cast(ir_graph *g, int from, int to, clcnn_dtype dt, clcnn_err *err) {
  char name[600];
  snprintf(name, sizeof name, "%s/to_%s", g->values[to].name, dtype_name(dt));
  int k = ir_add_node(g, name, "Cast", "", 1, 1);
  if (k < 0) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  ir_node *n = &g->nodes[k];
  n->op = CLCNN_OP_CAST;
  n->opset = g->opset;
  cast_params *p = calloc(1, sizeof *p);
  if (!p) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  p->to = dt;
  /* to a float8 type: the values are that type's already (exact either
   * way), and infinity and NaN stay what they are */
  p->saturate = !dtype_is_f8(dt);
  n->params = p;
  n->in[0] = from;
  n->out[0] = to;
  return CLCNN_OK;
}

clcnn_status graph_lower_float16(ir_graph *g, clcnn_err *err) {
  bool changed = false;
  /* Float8 and float4 quantization, read while the types are still there:
   * QuantizeLinear and DequantizeLinear work on float32 holding the
   * quantized type's values (qdq_params.lowp). */
  for (int i = 0; i < g->nnodes; i++) {
    ir_node *n = &g->nodes[i];
    if ((n->op != CLCNN_OP_QUANTIZE_LINEAR && n->op != CLCNN_OP_DEQUANTIZE_LINEAR) || !n->params)
      continue;
    qdq_params *p = n->params;
    p->lowp = f8_type_of(g, n->op == CLCNN_OP_QUANTIZE_LINEAR ? n->out[0] : n->in[0]);
    if (!p->lowp && n->nin > 2) p->lowp = f8_type_of(g, n->in[2]);
  }
  /* CastLike to a low float type (of a constant or graph input) rounds like
   * a Cast to it. */
  for (int i = 0; i < g->nnodes; i++) {
    ir_node *n = &g->nodes[i];
    if (n->op != CLCNN_OP_CAST_LIKE || !n->params || n->nin < 2 || n->in[1] < 0) continue;
    cast_params *p = n->params;
    const clcnn_dtype like = g->values[n->in[1]].t.dtype;
    if (dtype_is_f8(like)) p->round_f8 = like;
    else if (like == CLCNN_DTYPE_BFLOAT16) p->round_bf16 = 1;
    else if (like == CLCNN_DTYPE_FLOAT16) p->round_half = 1;
  }
  /* Weights and constants: widened once, here, for every session. */
  for (int v = 0; v < g->nvalues; v++) {
    ir_value *val = &g->values[v];
    if (!val->is_const || !low_float(val->t.dtype)) continue;
    float *d = widen_low(val->t.dtype, val->t.data, shape_numel(val->t.rank, val->t.dims));
    if (!d) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory widening '%s'", val->name);
    if (val->owns_data) free(val->t.data);
    val->t.data = d;
    val->t.dtype = CLCNN_DTYPE_FLOAT32;
    val->owns_data = true;
  }
  for (int i = 0; i < g->nnodes; i++) {
    ir_node *n = &g->nodes[i];
    if (n->op == CLCNN_OP_CONSTANT) {
      for (int a = 0; a < n->nattr; a++) {
        clcnn_tensor *t = n->attr[a].type == IR_ATTR_TENSOR ? n->attr[a].t : NULL;
        if (!t || !low_float(t->dtype)) continue;
        float *d = widen_low(t->dtype, t->data, clcnn_tensor_numel(t));
        if (!d) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
        free(t->data);
        t->data = d;
        t->dtype = CLCNN_DTYPE_FLOAT32;
      }
    } else if (n->op == CLCNN_OP_CONSTANT_OF_SHAPE && n->params) {
      constant_of_shape_params *p = n->params;
      if (!low_float(p->dtype)) continue;
      float f = low_get(p->dtype, p->value, 0);
      memset(p->value, 0, sizeof p->value);
      memcpy(p->value, &f, 4);
      p->dtype = CLCNN_DTYPE_FLOAT32;
    } else if (n->op == CLCNN_OP_CAST && n->params) {
      cast_params *p = n->params;
      if (!low_float(p->to)) continue;
      if (dtype_is_f8(p->to)) p->round_f8 = p->to;
      else if (p->to == CLCNN_DTYPE_BFLOAT16) p->round_bf16 = 1;
      else p->round_half = 1;
      p->to = CLCNN_DTYPE_FLOAT32;
    }
  }
  /* float16 and bfloat16 graph inputs: the caller's values are widened by
   * a Cast that everything else reads. */
  for (int i = 0; i < g->ninputs; i++) {
    int v = g->inputs[i];
    if (!low_float(g->values[v].t.dtype)) continue;
    int w = add_named_value(g, g->values[v].name, ":float32");
    if (w < 0) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    replace_uses(g, v, w);
    clcnn_status st = add_cast(g, v, w, CLCNN_DTYPE_FLOAT32, err);
    if (st) return st;
    changed = true;
  }
  /* float16 and bfloat16 graph outputs (as the model declares them):
   * computed in float32 and narrowed by a last Cast. */
  for (int i = 0; i < g->noutputs; i++) {
    int v = g->outputs[i];
    ir_value *val = &g->values[v];
    const clcnn_dtype low = val->t.dtype;
    if (!low_float(low) || val->is_input) continue;
    bool rewired = false;
    for (int k = 0; k < i; k++) rewired |= g->outputs[k] == v;
    if (rewired) continue; /* listed twice */
    int w = add_named_value(g, val->name, ":float32");
    if (w < 0) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    val = &g->values[v];
    ir_value *wv = &g->values[w];
    replace_uses(g, v, w);
    if (val->is_const) { /* the constant moves to w, already widened */
      wv->t = val->t;
      wv->is_const = true;
      wv->owns_data = val->owns_data;
      val->t.data = NULL;
      val->is_const = val->owns_data = false;
      val->t.dtype = low;
    } else {
      for (int k = 0; k < g->nnodes; k++)
        for (int o = 0; o < g->nodes[k].nout; o++)
          if (g->nodes[k].out[o] == v) g->nodes[k].out[o] = w;
    }
    clcnn_status st = add_cast(g, w, v, low, err);
    if (st) return st;
    changed = true;
  }
  return changed ? ir_toposort(g, err) : CLCNN_OK;
}
