/* Shape inference with constant folding: one pass in topological order.
 * A node whose inputs are all constant is run on the CPU backend right away
 * and its outputs become constants, which is what turns PyTorch's shape
 * subgraphs (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) into plain
 * constants before any backend sees the graph. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* Folding larger outputs would trade a little run time for a lot of memory
 * (an Expand or ConstantOfShape of activations' size). */
#define FOLD_MAX_BYTES ((size_t)64 << 20)
/* No tensor may be larger than this (2^40 elements would be 4 TiB). */

static clcnn_status fold_node(ir_graph *g, ir_node *n, clcnn_err *err) {
  clcnn_tensor in[n->nin ? n->nin : 1];
  clcnn_tensor out[n->nout ? n->nout : 1];
  memset(in, 0, sizeof(clcnn_tensor) * (size_t)(n->nin ? n->nin : 1));
  memset(out, 0, sizeof(clcnn_tensor) * (size_t)(n->nout ? n->nout : 1));
  for (int i = 0; i < n->nin; i++)
    if (n->in[i] >= 0) in[i] = g->values[n->in[i]].t;
  clcnn_status st = CLCNN_OK;
  for (int k = 0; k < n->nout && st == CLCNN_OK; k++) {
    ir_value *v = ir_out(g, n, k);
    if (!v) continue;
    out[k] = v->t;
    size_t bytes = (size_t)shape_numel(v->t.rank, v->t.dims) * dtype_size(v->t.dtype);
    out[k].data = calloc(1, bytes ? bytes : 1);
    if (!out[k].data) st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory folding");
  }
  if (st == CLCNN_OK) st = cpu_run_node(g, n, in, out, err);
  for (int k = 0; k < n->nout; k++) {
    ir_value *v = ir_out(g, n, k);
    if (!v) continue;
    if (st != CLCNN_OK) {
      free(out[k].data);
      continue;
    }
    /* A dynamic output comes back with its actual dims, within the bound. */
    size_t bytes = (size_t)shape_numel(out[k].rank, out[k].dims) * dtype_size(out[k].dtype);
    void *data = out[k].data;
    if (v->dynamic && bytes) data = realloc(data, bytes);
    ir_set_const(v, out[k].dtype, out[k].rank, out[k].dims, data ? data : out[k].data);
    v->dynamic = false;
  }
  if (st == CLCNN_OK) n->dead = true;
  return st;
}

/* Nodes fold when their inputs are all constant and their outputs at most
 * `fold_max` bytes. A node that reads a dynamic value is left for the run
 * (per_run, its outputs dynamic); so is one whose infer() marks an output
 * dynamic (NonZero, NonMaxSuppression) unless it folds. */
static clcnn_status infer_nodes(ir_graph *g, size_t fold_max, clcnn_err *err) {
  for (int i = 0; i < g->nnodes; i++) {
    ir_node *n = &g->nodes[i];
    if (n->dead) continue;
    if (n->op < 0)
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "node '%s': operator %s is not supported",
                     n->name, n->op_type);
    if (n->op == CLCNN_OP_IF && n->nin > 0 && ir_in(g, n, 0) && ir_in(g, n, 0)->dynamic) {
      /* A condition computed from a data-dependent shape (torchvision's
       * "no boxes left" test before NMS): the If waits for the run's tail,
       * where the condition is a constant and the If is inlined. */
      n->per_run = true;
      for (int k = 0; k < n->nout; k++)
        if (ir_out(g, n, k)) ir_out(g, n, k)->dynamic = true;
      continue;
    }
    if (n->op == CLCNN_OP_LOOP) { /* runs here on constants, else per run */
      bool dyn = false, all_const = true;
      const char *why = NULL;
      for (int k = 0; k < n->nin; k++) {
        const ir_value *v = ir_in(g, n, k);
        if (!v) continue;
        dyn |= v->dynamic;
        if (!v->is_const && all_const) all_const = false, why = v->name;
      }
      if (dyn) {
        n->per_run = true;
        for (int k = 0; k < n->nout; k++)
          if (ir_out(g, n, k)) ir_out(g, n, k)->dynamic = true;
        continue;
      }
      if (!all_const)
        return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                       "node '%s' (Loop): input '%s' is not a constant when the session is "
                       "created; clcnn runs a Loop only on constants (or after a node whose "
                       "output shape depends on the data, in each run)",
                       n->name, why);
      clcnn_status st = control_fold_loop(g, i, err);
      if (st) return st;
      continue;
    }
    if (n->op == CLCNN_OP_IF) { /* its branch's nodes come next */
      clcnn_status st = control_inline_if(g, i, err);
      if (st) return st;
      continue;
    }
    bool after_dynamic = false;
    for (int k = 0; k < n->nin; k++) after_dynamic |= ir_in(g, n, k) && ir_in(g, n, k)->dynamic;
    if (after_dynamic) {
      n->per_run = true;
      for (int k = 0; k < n->nout; k++)
        if (ir_out(g, n, k)) ir_out(g, n, k)->dynamic = true;
      continue;
    }
    bool all_const = true;
    for (int k = 0; k < n->nin; k++) {
      ir_value *v = ir_in(g, n, k);
      if (!v) continue;
      if (!v->shape_known && !v->is_const)
        return err_set(err, CLCNN_ERROR_INTERNAL, "node '%s': input '%s' has no shape", n->name,
                       v->name);
      if (!v->is_const) all_const = false;
    }
    const op_front *f = op_front_get(n->op);
    clcnn_err e = {0};
    clcnn_status st = f->infer(g, n, &e);
    if (st)
      return err_set(err, st, "node '%s' (%s): %s", n->name, n->op_type, e.msg);
    bool outputs_const = true;
    size_t out_bytes = 0;
    for (int k = 0; k < n->nout; k++) {
      ir_value *v = ir_out(g, n, k);
      if (!v) continue;
      if (!v->shape_known)
        return err_set(err, CLCNN_ERROR_INTERNAL, "node '%s' (%s): output %d has no shape",
                       n->name, n->op_type, k);
      int64_t numel;
      if (!shape_numel_within(v->t.rank, v->t.dims, graph_max_elements(g), &numel))
        return err_set(err, CLCNN_ERROR_SHAPE,
                       "node '%s' (%s): output '%s' would have an invalid or huge shape "
                       "(more than %s elements)",
                       n->name, n->op_type, v->name,
                       elements_str(graph_max_elements(g), (char[32]){0}, 32));
      out_bytes += (size_t)numel * dtype_size(v->t.dtype);
      if (!v->is_const) outputs_const = false;
    }
    if (outputs_const) { /* infer() produced the values itself (Shape, Constant) */
      n->dead = true;
      continue;
    }
    if (all_const && out_bytes <= fold_max) {
      st = fold_node(g, n, &e);
      if (st)
        return err_set(err, st, "node '%s' (%s): constant folding failed: %s", n->name,
                       n->op_type, e.msg);
    }
    for (int k = 0; !n->dead && k < n->nout; k++)
      if (ir_out(g, n, k) && ir_out(g, n, k)->dynamic) n->per_run = true;
  }
  for (int i = 0; i < g->noutputs; i++) {
    ir_value *v = &g->values[g->outputs[i]];
    if (!v->shape_known && !v->is_const && !v->dynamic)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "graph output '%s' is never computed",
                     v->name);
  }
  return CLCNN_OK;
}

clcnn_status graph_infer(ir_graph *g, clcnn_err *err) {
  return infer_nodes(g, FOLD_MAX_BYTES, err);
}

clcnn_status graph_fold_all(ir_graph *g, clcnn_err *err) {
  clcnn_status st = infer_nodes(g, SIZE_MAX, err);
  for (int i = 0; st == CLCNN_OK && i < g->nnodes; i++)
    if (!g->nodes[i].dead)
      st = err_set(err, CLCNN_ERROR_INTERNAL, "node '%s' (%s) did not fold", g->nodes[i].name,
                   g->nodes[i].op_type);
  return st;
}

void graph_value_inputs(const ir_graph *g, bool *needed) {
  for (int v = 0; v < g->nvalues; v++) needed[v] = false;
  /* Nodes are in topological order: a node's readers come after it. */
  for (int i = g->nnodes - 1; i >= 0; i--) {
    const ir_node *n = &g->nodes[i];
    if (n->dead || n->op < 0) continue;
    uint32_t mask = op_value_inputs(n->op);
    bool out_needed = false;
    /* Shape and Size read only shapes; what NonZero and NonMaxSuppression
     * compute is known per run, and what reads it runs then (the tail), so
     * their inputs need no value at creation either. */
    if (n->op != CLCNN_OP_SHAPE && n->op != CLCNN_OP_SIZE && n->op != CLCNN_OP_NONZERO &&
        n->op != CLCNN_OP_NON_MAX_SUPPRESSION)
      for (int k = 0; k < n->nout; k++) out_needed |= n->out[k] >= 0 && needed[n->out[k]];
    for (int k = 0; k < n->nin; k++)
      if (n->in[k] >= 0 && (out_needed || (k < 32 && (mask >> k & 1u)))) needed[n->in[k]] = true;
  }
}
