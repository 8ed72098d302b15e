/* Optimisation passes on an inferred graph (every shape known, constants
 * folded; per_run nodes, whose shapes come with each run, are left alone).
 * Each pass rewires value indices and marks removed nodes dead; nothing is
 * deleted, so node indices stay valid. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ops/norm.h"

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
    float *a = malloc(sizeof(float) * (size_t)cout), *b = malloc(sizeof(float) * (size_t)cout);
    float *nw = malloc(sizeof(float) * (size_t)(cout * per)), *nb = malloc(sizeof(float) * (size_t)cout);
    if (!a || !b || !nw || !nb) {
      free(a), free(b), free(nw), free(nb);
      return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory folding BatchNormalization");
    }
    clcnn_err ignored = {0}; /* a BN that cannot fold simply stays */
    if (batchnorm_fold_scale(g, bn, a, b, cout, &ignored) != CLCNN_OK) {
      free(a), free(b), free(nw), free(nb);
      continue;
    }
    const float *ow = w->t.data, *ob = bias ? bias->t.data : NULL;
    for (int64_t o = 0; o < cout; o++) {
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
    int vw = add_const(g, base, "/folded_W", wrank, wdims, nw); /* may move g->values */
    int vb = vw >= 0 ? add_const(g, base, "/folded_B", 1, &cout, nb) : -1;
    if (vw < 0 || vb < 0) {
      if (vw < 0) free(nw);
      free(nb);
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
    if (p->op != CLCNN_OP_CONV && p->op != CLCNN_OP_CONV_TRANSPOSE && p->op != CLCNN_OP_GEMM &&
        p->op != CLCNN_OP_MATMUL)
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

clcnn_status graph_optimize(ir_graph *g, clcnn_err *err) {
  remove_identities(g);
  clcnn_status st = fold_batchnorm(g, err);
  if (st == CLCNN_OK) st = fuse_activations(g, err);
  return st;
}
