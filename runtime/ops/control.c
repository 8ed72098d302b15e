/* Front half of the control family: If.
 *
 * clcnn specialises a session on one static graph (DESIGN.md decision 2), so
 * an If runs only when its condition is a constant at session creation (an
 * initializer, or a value that shape inference folds: exporters emit If on
 * shape tests, such as "is this dimension zero"). Shape inference then
 * replaces the node by the nodes of the branch it takes (control_inline_if):
 * no backend ever sees an If. A branch reads outer values by name; the
 * importer lists them as the If node's inputs after the condition
 * (runtime/onnx_import.c), which is what keeps the outer graph in an order
 * where they are computed first.
 *
 * A condition computed from a data-dependent shape (torchvision's detectors
 * test "is the selection empty?" on what NonZero kept, before their NMS) is
 * not known then: such an If joins the per-run tail (runtime/infer.c), where
 * each run binds the condition as a constant and inlines the branch taken,
 * as at creation (docs/design-dynamic-shapes.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api.h"
#include "../internal.h"
#include "shape.h"

static const ir_graph *branch(const ir_node *n, int which) {
  const ir_attr *a = ir_attr_find(n, which ? "then_branch" : "else_branch");
  return a && a->type == IR_ATTR_GRAPH ? a->graph : NULL;
}

/* The outer names the branches read, then_branch's first: entry p of the
 * list, or the count when p < 0. */
static int outer_walk(const ir_node *n, int p, const char **out) {
  int count = 0;
  for (int b = 1; b >= 0; b--) {
    const ir_graph *g = branch(n, b);
    if (!g) continue;
    for (int j = 0; j < g->ninputs; j++) {
      const char *name = g->values[g->inputs[j]].name;
      bool seen = false;
      if (b == 0) { /* else_branch: skip names then_branch has */
        const ir_graph *t = branch(n, 1);
        for (int i = 0; t && i < t->ninputs && !seen; i++)
          seen = !strcmp(t->values[t->inputs[i]].name, name);
      }
      for (int i = 0; i < j && !seen; i++) seen = !strcmp(g->values[g->inputs[i]].name, name);
      if (seen) continue;
      if (count == p) {
        *out = name;
        return count;
      }
      count++;
    }
  }
  return count;
}

int control_if_outer_count(const ir_node *n) {
  const char *unused = NULL;
  return outer_walk(n, -1, &unused);
}

const char *control_if_outer_name(const ir_node *n, int p) {
  const char *name = NULL;
  outer_walk(n, p, &name);
  return name;
}

static clcnn_status if_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  const ir_graph *t = branch(n, 1), *e = branch(n, 0);
  if (!t || !e)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                   "attributes 'then_branch' and 'else_branch' (graphs) are required");
  int outer = control_if_outer_count(n);
  if (n->nin != 1 + outer || n->in[0] < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 1 input (the condition)");
  if (n->nout < 1) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "has no outputs");
  if (t->noutputs != n->nout || e->noutputs != n->nout)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                   "the branches have %d and %d outputs, the node %d", t->noutputs, e->noutputs,
                   n->nout);
  return CLCNN_OK;
}

static clcnn_status if_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g, (void)n;
  return err_set(err, CLCNN_ERROR_INTERNAL, "If reached shape inference without being inlined");
}

/* A name for a value copied from a branch: its own when free, else
 * "<if node>/<name>", numbered if need be. */
static int add_branch_value(ir_graph *g, const char *if_name, const char *name) {
  if (ir_find_value(g, name) < 0) return ir_add_value(g, name);
  char buf[512];
  snprintf(buf, sizeof buf, "%s/%s", if_name, name);
  for (int k = 2; ir_find_value(g, buf) >= 0 && k < 1000000; k++)
    snprintf(buf, sizeof buf, "%s/%s_%d", if_name, name, k);
  return ir_add_value(g, buf);
}

/* Moves the `count` nodes at the end of g->nodes to position `at`. */
static clcnn_status rotate_nodes(ir_graph *g, int at, int count, clcnn_err *err) {
  ir_node *tmp = malloc(sizeof(ir_node) * (size_t)(count ? count : 1));
  if (!tmp) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory inlining If");
  int old = g->nnodes - count;
  memcpy(tmp, g->nodes + old, sizeof(ir_node) * (size_t)count);
  memmove(g->nodes + at + count, g->nodes + at, sizeof(ir_node) * (size_t)(old - at));
  memcpy(g->nodes + at, tmp, sizeof(ir_node) * (size_t)count);
  free(tmp);
  for (int v = 0; v < g->nvalues; v++) g->values[v].producer = -1;
  for (int i = 0; i < g->nnodes; i++)
    for (int k = 0; k < g->nodes[i].nout; k++)
      if (g->nodes[i].out[k] >= 0) g->values[g->nodes[i].out[k]].producer = i;
  return CLCNN_OK;
}

/* Front-half parse of a node copied from a branch. */
static clcnn_status parse_copied(const ir_graph *g, ir_node *n, const char *if_name,
                                 clcnn_err *err) {
  n->op = op_lookup(n->domain, n->op_type);
  if (n->op < 0)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "node '%s' (in the branch that If '%s' takes): operator %s is not supported",
                   n->name, if_name, n->op_type);
  const op_front *f = op_front_get(n->op);
  if (f->params_size && !(n->params = calloc(1, f->params_size)))
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  clcnn_err e = {0};
  clcnn_status st = f->parse(g, n, &e);
  if (st)
    return err_set(err, st, "node '%s' (%s, in the branch that If '%s' takes): %s", n->name,
                   n->op_type, if_name, e.msg);
  return CLCNN_OK;
}

clcnn_status control_inline_if(ir_graph *g, int node, clcnn_err *err) {
  ir_node *n = &g->nodes[node];
  char if_name[256];
  snprintf(if_name, sizeof if_name, "%s", n->name);
  const ir_value *cond = ir_in(g, n, 0);
  if (!cond || !cond->is_const || !cond->t.data)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "node '%s' (If): the condition '%s' is not a constant when the session is "
                   "created; clcnn runs an If only when its condition is known then (it "
                   "inlines the branch taken)",
                   if_name, cond ? cond->name : "");
  if (clcnn_tensor_numel(&cond->t) != 1)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "node '%s' (If): the condition has %lld elements",
                   if_name, (long long)clcnn_tensor_numel(&cond->t));
  bool taken = cond->t.dtype == CLCNN_DTYPE_FLOAT32 || cond->t.dtype == CLCNN_DTYPE_FLOAT64
                   ? tensor_get_f64(&cond->t, 0) != 0
                   : tensor_get_i64(&cond->t, 0) != 0;
  const ir_graph *b = branch(n, taken);
  if (!b) return err_set(err, CLCNN_ERROR_INTERNAL, "node '%s' (If): no branch", if_name);
  const int nout = n->nout;
  int *map = malloc(sizeof(int) * (size_t)(b->nvalues ? b->nvalues : 1));
  if (!map) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory inlining If");
  clcnn_status st = CLCNN_OK;
  /* Branch values into the outer graph: its inputs are the If's inputs
   * (found by name among the outer names), its constants and node outputs
   * new values. */
  for (int v = 0; v < b->nvalues && st == CLCNN_OK; v++) {
    const ir_value *bv = &b->values[v];
    map[v] = -1;
    if (bv->is_input) {
      int count = control_if_outer_count(&g->nodes[node]);
      for (int p = 0; p < count && map[v] < 0; p++)
        if (!strcmp(control_if_outer_name(&g->nodes[node], p), bv->name))
          map[v] = g->nodes[node].in[1 + p];
      if (map[v] < 0)
        st = err_set(err, CLCNN_ERROR_INTERNAL, "node '%s' (If): outer value '%s' not found",
                     if_name, bv->name);
      continue;
    }
    int nv = add_branch_value(g, if_name, bv->name);
    if (nv < 0) {
      st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory inlining If");
      break;
    }
    map[v] = nv;
    if (bv->is_const) { /* shares the model's data, as a session's graph does */
      ir_value *d = &g->values[nv];
      d->t = bv->t;
      d->is_const = true;
      d->owns_data = false;
      d->shape_known = true;
    }
  }
  /* The branch's nodes, then an Identity per output, at the end ... */
  int first = g->nnodes;
  for (int i = 0; i < b->nnodes && st == CLCNN_OK; i++) {
    const ir_node *bn = &b->nodes[i];
    int k = ir_add_node(g, bn->name, bn->op_type, bn->domain, bn->nin, bn->nout);
    if (k < 0) {
      st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory inlining If");
      break;
    }
    ir_node *d = &g->nodes[k];
    for (int j = 0; j < bn->nin; j++) d->in[j] = bn->in[j] >= 0 ? map[bn->in[j]] : -1;
    for (int j = 0; j < bn->nout; j++) d->out[j] = bn->out[j] >= 0 ? map[bn->out[j]] : -1;
    d->opset = bn->opset;
    if (ir_node_copy_attrs(d, bn) != CLCNN_OK)
      st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory inlining If");
  }
  for (int k = 0; k < nout && st == CLCNN_OK; k++) {
    if (g->nodes[node].out[k] < 0) continue;
    char name[300];
    snprintf(name, sizeof name, "%s/output_%d", if_name, k);
    int id = ir_add_node(g, name, "Identity", "", 1, 1);
    if (id < 0) {
      st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory inlining If");
      break;
    }
    g->nodes[id].in[0] = map[b->outputs[k]];
    g->nodes[id].out[0] = g->nodes[node].out[k];
    g->nodes[id].opset = g->nodes[node].opset;
  }
  free(map);
  for (int k = 0; k < nout && st == CLCNN_OK; k++) g->nodes[node].out[k] = -1;
  int count = g->nnodes - first;
  /* ... moved right after the If, which is gone. */
  if (st == CLCNN_OK) st = rotate_nodes(g, node + 1, count, err);
  if (st) return st;
  g->nodes[node].dead = true;
  for (int i = node + 1; i <= node + count; i++)
    if ((st = parse_copied(g, &g->nodes[i], if_name, err))) return st;
  return CLCNN_OK;
}

/* ------------------------------------------------------------------ Loop */

/* Loop runs on constants only (DESIGN.md decision 2: no shape may depend on
 * an iteration count at session creation). Exporters write a Loop where a
 * model iterates over its data: torchvision's Mask R-CNN pastes each
 * detection's mask into the image in one, after NMS, so the Loop is in the
 * per-run tail and its inputs are constants there. Each iteration folds a
 * copy of the body with the iteration number, the condition, the carried
 * values and the outer values it reads bound as constants. */

#define LOOP_MAX_ITERATIONS 4096

static const ir_graph *loop_body(const ir_node *n) {
  const ir_attr *a = ir_attr_find(n, "body");
  return a && a->type == IR_ATTR_GRAPH ? a->graph : NULL;
}

int control_loop_outer_count(const ir_node *n) {
  const ir_graph *b = loop_body(n);
  return b ? b->ninputs - b->nformal : 0;
}

const char *control_loop_outer_name(const ir_node *n, int p) {
  const ir_graph *b = loop_body(n);
  return b ? b->values[b->inputs[b->nformal + p]].name : NULL;
}

static clcnn_status loop_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  const ir_graph *b = loop_body(n);
  if (!b) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'body' (a graph) is required");
  const int carried = b->nformal - 2;
  if (carried < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                   "the body declares %d inputs; at least 2 (iteration, condition) expected",
                   b->nformal);
  if (n->nin != 2 + carried + control_loop_outer_count(n))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                   "has %d inputs; M, cond and %d carried values expected",
                   n->nin - control_loop_outer_count(n), carried);
  if (b->noutputs < 1 + carried || n->nout != b->noutputs - 1)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                   "the body has %d outputs and the node %d; 1 + %d carried + scans expected",
                   b->noutputs, n->nout, carried);
  for (int k = 0; k < carried; k++)
    if (n->in[2 + k] < 0)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "carried value %d is missing", k);
  return CLCNN_OK;
}

static clcnn_status loop_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g, (void)n;
  return err_set(err, CLCNN_ERROR_INTERNAL, "Loop reached shape inference without being run");
}

static void *dup_data(const clcnn_tensor *t) {
  size_t bytes = (size_t)clcnn_tensor_numel(t) * dtype_size(t->dtype);
  void *d = malloc(bytes ? bytes : 1);
  if (d && bytes) memcpy(d, t->data, bytes);
  return d;
}

static void bind_const(ir_value *v, const clcnn_tensor *t) {
  v->t = *t;
  v->is_const = v->shape_known = true;
  v->owns_data = v->dynamic = false;
}

/* One iteration: the body folded with its inputs bound (not owned: the
 * caller's tensors outlive the copy); out[k] copies of its outputs. */
static clcnn_status loop_iteration(const ir_graph *body, const clcnn_tensor *bound, int nbound,
                                   clcnn_tensor *out, const char *name, clcnn_err *err) {
  ir_graph c;
  clcnn_status st = ir_graph_clone(body, &c, err);
  if (st) return st;
  for (int k = 0; k < nbound && k < c.ninputs; k++) bind_const(&c.values[c.inputs[k]], &bound[k]);
  for (int i = 0; i < c.nnodes && st == CLCNN_OK; i++) {
    if (c.nodes[i].op == CLCNN_OP_LOOP) /* iterations would multiply */
      st = err_set(err, CLCNN_ERROR_UNSUPPORTED, "node '%s' (Loop): a Loop in its body ('%s') is "
                   "not supported", name, c.nodes[i].name);
    else
      st = parse_copied(&c, &c.nodes[i], name, err);
  }
  if (st == CLCNN_OK) {
    clcnn_err e = {0};
    if ((st = graph_fold_all(&c, &e)))
      err_set(err, st, "node '%s' (Loop): in its body: %s", name, e.msg);
  }
  int k = 0;
  for (; st == CLCNN_OK && k < c.noutputs; k++) {
    const ir_value *v = &c.values[c.outputs[k]];
    if (!v->is_const || (!v->t.data && clcnn_tensor_numel(&v->t)))
      st = err_set(err, CLCNN_ERROR_INTERNAL, "node '%s' (Loop): body output %d was not computed",
                   name, k);
    else if (!(out[k] = v->t, out[k].data = dup_data(&v->t)))
      st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory in Loop");
  }
  if (st)
    while (k-- > 0) free(out[k].data), out[k].data = NULL;
  ir_graph_free(&c);
  return st;
}

clcnn_status control_fold_loop(ir_graph *g, int node, clcnn_err *err) {
  ir_node *n = &g->nodes[node];
  const ir_graph *body = loop_body(n);
  char name[256];
  snprintf(name, sizeof name, "%s", n->name);
  const int carried = body->nformal - 2, scans = n->nout - carried;
  const int outer = control_loop_outer_count(n), nbound = 2 + carried + outer;
  int64_t trips = LOOP_MAX_ITERATIONS + 1;
  bool cond = true;
  const ir_value *m = ir_in(g, n, 0), *c0 = ir_in(g, n, 1);
  if (m) {
    if (!shape_is_index_type(m->t.dtype) || clcnn_tensor_numel(&m->t) != 1)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "node '%s' (Loop): M must be one int64",
                     name);
    trips = tensor_get_i64(&m->t, 0);
  }
  if (c0) {
    if (clcnn_tensor_numel(&c0->t) != 1)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "node '%s' (Loop): cond must be one value",
                     name);
    cond = tensor_get_i64(&c0->t, 0) != 0;
  }
  clcnn_tensor *bound = calloc((size_t)nbound, sizeof(clcnn_tensor));
  clcnn_tensor *res = calloc((size_t)(body->noutputs ? body->noutputs : 1), sizeof(clcnn_tensor));
  clcnn_tensor *scan = calloc((size_t)(scans ? scans : 1), sizeof(clcnn_tensor)); /* stacked */
  int64_t *iter = malloc(sizeof(int64_t));
  uint8_t *cflag = malloc(1);
  clcnn_status st = CLCNN_OK;
  if (!bound || !res || !scan || !iter || !cflag)
    st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory in Loop");
  /* Carried values start as the node's inputs (copies: each iteration
   * replaces them); outer values are read in place. */
  for (int k = 0; st == CLCNN_OK && k < carried; k++) {
    const ir_value *v = ir_in(g, n, 2 + k);
    bound[2 + k] = v->t;
    if (!(bound[2 + k].data = dup_data(&v->t)))
      st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory in Loop");
  }
  for (int p = 0; st == CLCNN_OK && p < outer; p++) bound[2 + carried + p] = ir_in(g, n, 2 + carried + p)->t;
  int64_t done = 0;
  for (; st == CLCNN_OK && done < trips && cond; done++) {
    if (done >= LOOP_MAX_ITERATIONS) {
      st = err_set(err, CLCNN_ERROR_UNSUPPORTED, "node '%s' (Loop): more than %d iterations",
                   name, LOOP_MAX_ITERATIONS);
      break;
    }
    *iter = done;
    *cflag = 1;
    bound[0] = (clcnn_tensor){CLCNN_DTYPE_INT64, 0, {0}, iter};
    bound[1] = (clcnn_tensor){CLCNN_DTYPE_BOOL, 0, {0}, cflag};
    if ((st = loop_iteration(body, bound, nbound, res, name, err))) break;
    cond = tensor_get_i64(&res[0], 0) != 0;
    free(res[0].data);
    for (int k = 0; k < carried; k++) free(bound[2 + k].data), bound[2 + k] = res[1 + k];
    /* Scan outputs: this iteration's value appended along a new first axis. */
    for (int k = 0; st == CLCNN_OK && k < scans; k++) {
      clcnn_tensor *y = &res[1 + carried + k], *acc = &scan[k];
      size_t bytes = (size_t)clcnn_tensor_numel(y) * dtype_size(y->dtype);
      if (done == 0) {
        if (y->rank + 1 > CLCNN_MAX_RANK)
          st = err_set(err, CLCNN_ERROR_UNSUPPORTED, "node '%s' (Loop): scan output %d has rank %d",
                       name, k, y->rank);
        *acc = *y;
        acc->rank = y->rank + 1;
        acc->dims[0] = 0;
        for (int d = 0; d < y->rank; d++) acc->dims[1 + d] = y->dims[d];
        acc->data = NULL;
      } else {
        bool same = acc->dtype == y->dtype && acc->rank == y->rank + 1;
        for (int d = 0; same && d < y->rank; d++) same = acc->dims[1 + d] == y->dims[d];
        if (!same)
          st = err_set(err, CLCNN_ERROR_SHAPE,
                       "node '%s' (Loop): scan output %d changes shape between iterations", name, k);
      }
      void *grown = st ? NULL : realloc(acc->data, (size_t)(acc->dims[0] + 1) * (bytes ? bytes : 1));
      if (!st && !grown) st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory in Loop");
      if (!st) {
        acc->data = grown;
        memcpy((char *)grown + (size_t)acc->dims[0] * bytes, y->data, bytes);
        acc->dims[0]++;
      }
      free(y->data);
      y->data = NULL;
    }
  }
  if (st == CLCNN_OK && done == 0 && scans)
    st = err_set(err, CLCNN_ERROR_UNSUPPORTED,
                 "node '%s' (Loop): no iteration ran, so its scan outputs have no known shape",
                 name);
  for (int k = 0; st == CLCNN_OK && k < n->nout; k++) {
    ir_value *v = ir_out(g, n, k);
    clcnn_tensor *t = k < carried ? &bound[2 + k] : &scan[k - carried];
    if (v) ir_set_const(v, t->dtype, t->rank, t->dims, t->data);
    else free(t->data);
    t->data = NULL;
  }
  for (int k = 0; bound && k < carried; k++) free(bound[2 + k].data);
  for (int k = 0; scan && k < scans; k++) free(scan[k].data);
  free(bound), free(res), free(scan), free(iter), free(cflag);
  if (st == CLCNN_OK) g->nodes[node].dead = true;
  return st;
}

/* ----------------------------------------------------------------- table */

static const op_front if_front = {0, if_parse, if_infer, NULL};
static const op_front loop_front = {0, loop_parse, loop_infer, NULL};

const op_front *const op_front_control[CLCNN_OP_COUNT] = {
    [CLCNN_OP_IF] = &if_front,
    [CLCNN_OP_LOOP] = &loop_front,
};
