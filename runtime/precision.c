/* Session precision (DESIGN.md decision 10): which activations a device
 * stores as IEEE half.
 *
 * A float32 value is stored as half (ir_value.half) when one device backend
 * produces it and every node that reads it runs on that backend and can
 * read it so (backend_ops.half), and it is not a graph input or output, a
 * constant, or a value of the per-run tail. Nodes at the edge of a half
 * region read float and write half or the other way round: the kernels take
 * each tensor's storage as an option, so no conversion steps are needed and
 * nothing that crosses between backends is ever half. Copies and views
 * (backend_ops.half returns 2) need their input and output stored alike;
 * the rule is applied until nothing changes (clearing a value never makes
 * another one possible, so this ends).
 *
 * The marks are made before the partition prepares the nodes, from the
 * backend each node would go to first (precision_mark); a node that then
 * falls back to another backend invalidates the values it touches, which
 * are unmarked, and the device nodes that touch them are prepared again
 * (precision_repair). */
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* What node i on backend b says about its input j (-1: its outputs). */
static int half_mode(const clcnn_session *s, const int *backend_of, int i, int j) {
  const ir_node *n = &s->g.nodes[i];
  const int b = backend_of[i];
  if (n->dead || n->per_run || b < 0 || b == s->host) return 0;
  if (s->force_fp32 && s->force_fp32[i]) return 0;
  backend *be = s->backends[b];
  return be->ops->half ? be->ops->half(be, &s->g, n, j) : 0;
}

static bool float_activation(const ir_value *v) {
  return v->t.dtype == CLCNN_DTYPE_FLOAT32 && !v->is_const && !v->is_input && !v->is_output &&
         !v->dynamic && v->producer >= 0;
}

/* Whether value v can be half with these node placements. */
static bool value_can_be_half(const clcnn_session *s, const int *backend_of, int v) {
  const ir_graph *g = &s->g;
  const ir_value *val = &g->values[v];
  if (!float_activation(val)) return false;
  const int p = val->producer;
  if (!half_mode(s, backend_of, p, -1)) return false;
  for (int i = 0; i < g->nnodes; i++) {
    const ir_node *n = &g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->nin; j++) {
      if (n->in[j] != v) continue;
      if (backend_of[i] != backend_of[p] || !half_mode(s, backend_of, i, j)) return false;
    }
  }
  return true;
}

/* Unmarks every activation of node i when they are not stored alike and
 * the node needs them to be. True when something changed. */
static bool make_uniform(clcnn_session *s, const int *backend_of, int i, bool *touched) {
  ir_graph *g = &s->g;
  const ir_node *n = &g->nodes[i];
  if (half_mode(s, backend_of, i, -1) != 2) return false;
  int halves = 0, floats = 0;
  for (int pass = 0; pass < 2; pass++) {
    const int count = pass ? n->nout : n->nin;
    for (int j = 0; j < count; j++) {
      const int v = pass ? n->out[j] : n->in[j];
      if (v < 0 || g->values[v].t.dtype != CLCNN_DTYPE_FLOAT32 || g->values[v].is_const) continue;
      if (g->values[v].half) halves++;
      else floats++;
    }
  }
  if (!halves || !floats) return false;
  for (int pass = 0; pass < 2; pass++) {
    const int count = pass ? n->nout : n->nin;
    for (int j = 0; j < count; j++) {
      const int v = pass ? n->out[j] : n->in[j];
      if (v < 0 || !g->values[v].half) continue;
      g->values[v].half = false;
      if (touched) touched[v] = true;
    }
  }
  return true;
}

/* Clears the values that are not possible any more (and, through copies
 * and views, those that must follow them) until nothing changes. */
static void settle(clcnn_session *s, const int *backend_of, bool *touched) {
  ir_graph *g = &s->g;
  for (bool changed = true; changed;) {
    changed = false;
    for (int v = 0; v < g->nvalues; v++) {
      if (!g->values[v].half || value_can_be_half(s, backend_of, v)) continue;
      g->values[v].half = false;
      if (touched) touched[v] = true;
      changed = true;
    }
    for (int i = 0; i < g->nnodes; i++) changed |= make_uniform(s, backend_of, i, touched);
  }
}

void precision_mark(clcnn_session *s, const int *first_backend) {
  ir_graph *g = &s->g;
  for (int v = 0; v < g->nvalues; v++) g->values[v].half = false;
  if (s->precision == CLCNN_PRECISION_FP32) return;
  for (int v = 0; v < g->nvalues; v++)
    g->values[v].half = value_can_be_half(s, first_backend, v);
  settle(s, first_backend, NULL);
}

clcnn_status precision_repair(clcnn_session *s, clcnn_err *err) {
  ir_graph *g = &s->g;
  if (s->precision == CLCNN_PRECISION_FP32) return CLCNN_OK;
  int nn = g->nnodes ? g->nnodes : 1, nv = g->nvalues ? g->nvalues : 1;
  int *backend_of = malloc(sizeof(int) * (size_t)nn);
  bool *touched = calloc((size_t)nv, sizeof(bool));
  clcnn_status st = CLCNN_OK;
  if (!backend_of || !touched) {
    st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    goto out;
  }
  for (int i = 0; i < g->nnodes; i++) backend_of[i] = g->nodes[i].backend;
  settle(s, backend_of, touched);
  /* The device nodes that touch an unmarked value were prepared for half. */
  for (int i = 0; i < g->nnodes && !st; i++) {
    const ir_node *n = &g->nodes[i];
    if (n->dead || n->per_run || n->backend < 0 || n->backend == s->host) continue;
    bool again = false;
    for (int j = 0; j < n->nin && !again; j++) again = n->in[j] >= 0 && touched[n->in[j]];
    for (int j = 0; j < n->nout && !again; j++) again = n->out[j] >= 0 && touched[n->out[j]];
    if (!again) continue;
    backend *be = s->backends[n->backend];
    be->ops->release(be, i);
    clcnn_err e = {0};
    if ((st = be->ops->prepare(be, g, i, &e)))
      st = err_set(err, st, "node '%s' (%s) on %s, prepared again for float32 storage: %s",
                   n->name, n->op_type, be->name, e.msg);
  }
out:
  free(backend_of);
  free(touched);
  return st;
}

const char *precision_of_node(const ir_graph *g, const ir_node *n) {
  int in = -1, out = -1; /* -1: no float activation; 0 float; 1 half */
  for (int j = 0; j < n->nin && in < 0; j++) {
    const ir_value *v = n->in[j] >= 0 ? &g->values[n->in[j]] : NULL;
    if (v && v->t.dtype == CLCNN_DTYPE_FLOAT32 && !v->is_const) in = v->half;
  }
  for (int j = 0; j < n->nout && out < 0; j++) {
    const ir_value *v = n->out[j] >= 0 ? &g->values[n->out[j]] : NULL;
    if (v && v->t.dtype == CLCNN_DTYPE_FLOAT32) out = v->half;
  }
  if (in < 0) in = out;
  if (out < 0) out = in;
  if (in == 1 && out == 1) return "fp16";
  if (in == 1) return "fp16>fp32";
  if (out == 1) return "fp32>fp16";
  return "fp32";
}
