/* The runtime's plan of a session (DESIGN.md decision 3): partition over the
 * session's backends, explicit transfer steps, one liveness analysis over the
 * whole schedule with one arena per backend, and the run loop (with verify
 * mode and profiling). Backends are reached only through runtime/backend.h.
 *
 * The schedule is a list of steps: nodes, each on one backend, and
 * transfers of a value from one backend to another. A value crossing between
 * two devices goes through its host slot (device -> host, host -> device).
 * Every transfer returns only when its source may be reused and its
 * destination holds the data, and each backend runs its own steps in order,
 * so a buffer is free for reuse right after its last step — the liveness
 * below is exact. Graph inputs keep their slots for the whole session (a
 * second run reads the inputs last set), graph outputs until read back.
 *
 * Data-dependent shapes (docs/design-dynamic-shapes.md): the nodes marked
 * per_run (NonZero, NonMaxSuppression and everything computed from their
 * outputs) are not in the steps. They form the session's tail, a subgraph
 * copied once; after the steps, each run copies it again, binds its inputs
 * to the values the steps left on the host and folds it node by node on the
 * CPU backend, with the actual shapes (run_tail). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "ops/layout.h"

static _Thread_local sched_refuse_fn test_refuse;
static _Thread_local void *test_refuse_user;

void sched_set_test_refuse(sched_refuse_fn fn, void *user) {
  test_refuse = fn;
  test_refuse_user = user;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Bytes of v where it is stored (half on its device: ir_value.half). */
static size_t value_bytes(const ir_value *v) {
  return (size_t)shape_numel(v->t.rank, v->t.dims) * value_elem_bytes(v);
}

static bool is_graph_input(const ir_graph *g, int v) { return g->values[v].is_input; }

/* A value that the steps compute (or the caller feeds) and the tail reads. */
static bool tail_input(const ir_graph *g, int v) {
  return v >= 0 && !g->values[v].is_const && !g->values[v].dynamic;
}

/* ------------------------------------------------------------- partition */

/* Offers each live node to the backends in order; the first whose supports()
 * accepts it and whose prepare() succeeds runs it. Reasons for refusals are
 * kept per node (clcnn info shows them); strict mode turns any node that is
 * not on a device into one error listing them all. */
static clcnn_status partition(clcnn_session *s, clcnn_err *err) {
  ir_graph *g = &s->g;
  clcnn_err reasons = {0};
  int nn = g->nnodes ? g->nnodes : 1;
  s->fallback_reason = calloc((size_t)nn, sizeof(char *));
  s->host_prepared = calloc((size_t)nn, sizeof(bool));
  if (!s->fallback_reason || !s->host_prepared)
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  for (int i = 0; i < g->nnodes; i++) g->nodes[i].backend = -1;
  if (s->precision != CLCNN_PRECISION_FP32) { /* where each node would go, unprepared */
    int *first = malloc(sizeof(int) * (size_t)nn);
    if (!first) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < g->nnodes; i++) {
      const ir_node *n = &g->nodes[i];
      first[i] = -1;
      for (int b = 0; b < s->nbackends && first[i] < 0 && !n->dead && !n->per_run; b++)
        if (!(test_refuse && test_refuse(test_refuse_user, b, s->backends[b]->name, g, i)) &&
            !s->backends[b]->ops->supports(s->backends[b], g, n))
          first[i] = b;
    }
    precision_mark(s, first);
    free(first);
  }
  for (int i = 0; i < g->nnodes; i++) {
    ir_node *n = &g->nodes[i];
    if (n->dead || n->per_run) continue;
    char why_all[1024] = "";
    for (int b = 0; b < s->nbackends && n->backend < 0; b++) {
      backend *be = s->backends[b];
      clcnn_err e = {0};
      const char *why = NULL;
      if (test_refuse && test_refuse(test_refuse_user, b, be->name, g, i))
        why = "refused by the test hook";
      else
        why = be->ops->supports(be, g, n);
      if (!why) {
        clcnn_status st = be->ops->prepare(be, g, i, &e);
        if (st == CLCNN_OK) {
          n->backend = b;
          if (b == s->host) s->host_prepared[i] = true;
          break;
        }
        be->ops->release(be, i);
        if (st != CLCNN_ERROR_KERNEL_BUILD && st != CLCNN_ERROR_UNSUPPORTED)
          return err_set(err, st, "node '%s' (%s) on %s: %s", n->name, n->op_type, be->name,
                         e.msg);
        if (s->strict && st == CLCNN_ERROR_KERNEL_BUILD) reasons.status = st;
        why = e.msg;
        ctx_log(s->ctx, CLCNN_LOG_WARNING, "node '%s' (%s) does not run on %s: %s", n->name,
                n->op_type, be->name, why);
      }
      size_t at = strlen(why_all);
      snprintf(why_all + at, sizeof why_all - at, "%s%s%s%s", at ? "; " : "",
               s->nbackends > 2 ? be->name : "", s->nbackends > 2 ? ": " : "", why);
    }
    if (n->backend < 0)
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "node '%s' (%s) cannot run on any backend: %s",
                     n->name, n->op_type, why_all);
    if (why_all[0] && !(s->fallback_reason[i] = strdup(why_all)))
      return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    if (s->strict && n->backend == s->host && s->nbackends > 1)
      err_append(&reasons, CLCNN_ERROR_UNSUPPORTED, "node '%s' (%s): %s", n->name, n->op_type,
                 why_all);
  }
  if (reasons.msg[0])
    return err_set(err, reasons.status ? reasons.status : CLCNN_ERROR_UNSUPPORTED,
                   "strict mode: these nodes cannot run on %s: %s", s->device, reasons.msg);
  clcnn_status pst = precision_repair(s, err);
  if (pst) return pst;
  /* Verify mode runs every device node on the CPU backend too. */
  for (int i = 0; s->verify && i < g->nnodes; i++) {
    ir_node *n = &g->nodes[i];
    if (n->dead || n->per_run || n->backend == s->host) continue;
    backend *cpu = s->backends[s->host];
    clcnn_err e = {0};
    const char *why = cpu->ops->supports(cpu, g, n);
    clcnn_status st = why ? err_set(&e, CLCNN_ERROR_UNSUPPORTED, "%s", why)
                          : cpu->ops->prepare(cpu, g, i, &e);
    s->host_prepared[i] = true; /* released with the session even if prepare failed */
    if (st)
      return err_set(err, st, "verify mode: node '%s' (%s) cannot run on the CPU backend: %s",
                     n->name, n->op_type, e.msg);
  }
  return CLCNN_OK;
}

/* -------------------------------------------------------------- schedule */

static clcnn_status add_step(clcnn_session *s, int *cap, sched_step st, clcnn_err *err) {
  if (s->nsteps == *cap) {
    int c = *cap ? *cap * 2 : 64;
    sched_step *p = realloc(s->steps, sizeof *p * (size_t)c);
    if (!p) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    s->steps = p;
    *cap = c;
  }
  s->steps[s->nsteps++] = st;
  return CLCNN_OK;
}

static int first_bit(uint32_t m) {
  for (int b = 0; b < 32; b++)
    if (m & (1u << b)) return b;
  return -1;
}

/* The steps: graph inputs staged where they are read, then every node in
 * order, preceded by the transfers that bring its inputs to its backend. */
static clcnn_status build_steps(clcnn_session *s, clcnn_err *err) {
  ir_graph *g = &s->g;
  int nv = g->nvalues ? g->nvalues : 1, cap = 0;
  uint32_t *valid = calloc((size_t)nv, sizeof *valid); /* at this point of the schedule */
  s->input_on = calloc((size_t)nv, sizeof *s->input_on);
  s->output_on = malloc(sizeof(int) * (size_t)nv);
  s->output_on_host = calloc((size_t)nv, sizeof(bool));
  clcnn_status st = CLCNN_OK;
  if (!valid || !s->input_on || !s->output_on || !s->output_on_host) {
    st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    goto out;
  }
  const uint32_t host_bit = 1u << s->host;
  for (int v = 0; v < g->nvalues; v++) s->output_on[v] = s->host;
  /* Graph inputs: one staging step per backend that reads the input; at run
   * time each is skipped when that backend still holds the input last set. */
  for (int k = 0; k < g->ninputs; k++) {
    int v = g->inputs[k];
    s->input_on[v] = host_bit;
    uint32_t readers = 0;
    for (int i = 0; i < g->nnodes; i++) {
      const ir_node *n = &g->nodes[i];
      if (n->dead) continue;
      for (int j = 0; j < n->nin; j++)
        if (n->in[j] == v) readers |= n->per_run ? host_bit : 1u << n->backend;
    }
    if (g->values[v].is_output) readers |= host_bit;
    /* The host first: a device's copy may have to go through it. */
    for (int pass = 0; pass < 2; pass++)
      for (int b = 0; b < s->nbackends; b++) {
        if (!(readers & (1u << b)) || (pass == 0) != (b == s->host)) continue;
        st = add_step(s, &cap,
                      (sched_step){STEP_TRANSFER, -1, v, b, s->host, true, false}, err);
        if (st) goto out;
      }
    valid[v] = readers | host_bit;
  }
  for (int i = 0; i < g->nnodes; i++) {
    const ir_node *n = &g->nodes[i];
    if (n->dead || n->per_run) continue;
    int b = n->backend;
    for (int j = 0; j < n->nin; j++) {
      int v = n->in[j];
      if (v < 0 || g->values[v].is_const || (valid[v] & (1u << b))) continue;
      if (!valid[v]) {
        st = err_set(err, CLCNN_ERROR_INTERNAL, "node '%s' reads '%s' before it is computed",
                     n->name, g->values[v].name);
        goto out;
      }
      if (!(valid[v] & host_bit)) { /* device -> host, then (maybe) host -> device */
        st = add_step(s, &cap,
                      (sched_step){STEP_TRANSFER, -1, v, s->host, first_bit(valid[v]), false, false}, err);
        if (st) goto out;
        valid[v] |= host_bit;
      }
      if (b != s->host) {
        st = add_step(s, &cap, (sched_step){STEP_TRANSFER, -1, v, b, s->host, false, false}, err);
        if (st) goto out;
        valid[v] |= 1u << b;
      }
    }
    st = add_step(s, &cap, (sched_step){STEP_NODE, i, -1, b, b, false, false}, err);
    if (st) goto out;
    for (int j = 0; j < n->nout; j++)
      if (n->out[j] >= 0) {
        valid[n->out[j]] = 1u << b;
        s->output_on[n->out[j]] = b;
      }
  }
  /* Last, what the tail reads comes to the host. */
  for (int i = 0; i < g->nnodes; i++) {
    const ir_node *n = &g->nodes[i];
    if (n->dead || !n->per_run) continue;
    for (int j = 0; j < n->nin; j++) {
      int v = n->in[j];
      if (!tail_input(g, v) || (valid[v] & host_bit)) continue;
      st = add_step(s, &cap,
                    (sched_step){STEP_TRANSFER, -1, v, s->host, first_bit(valid[v]), false, false}, err);
      if (st) goto out;
      valid[v] |= host_bit;
    }
  }
out:
  free(valid);
  return st;
}

/* ------------------------------------------------------------ memory plan */

/* Operators whose output is their input's bytes under another shape. */
static bool is_view_op(int op) {
  return op == CLCNN_OP_RESHAPE || op == CLCNN_OP_FLATTEN || op == CLCNN_OP_SQUEEZE ||
         op == CLCNN_OP_UNSQUEEZE;
}

/* Concat in place: where every dimension before the axis is 1 (a batch of
 * one concatenated along channels, as Inception's and GoogLeNet's blocks
 * are), each input is one contiguous stretch of the output, so its producer
 * can write it there: the input's buffer on the Concat's backend becomes
 * that stretch of the output's (root and offset, with the views' rules), and
 * the Concat has nothing left to do. All inputs or none: each must be a value
 * of its own (no view of it, not a graph input or a constant, in no other
 * Concat placed so, once in this one), and each stretch must start at the
 * backend's alignment. Cells are value * nbackends + backend.
 *
 * A dense block (DenseNet) concatenates the same growing list again and
 * again: Concat(x0, f1), Concat(x0, f1, f2), ... Concat(x0, f1, ..., fL).
 * Each of those is the start of the longest one, so where the longest is
 * placed the shorter ones become views of its first bytes and copy nothing
 * either (the features are written once, in the block's one buffer). */

/* The Concat of step k when its output could be placed: batch-one along an
 * existing axis, a buffer of its own; else NULL. */
static const ir_node *concat_candidate(const clcnn_session *s, const int *root, int k) {
  const ir_graph *g = &s->g;
  const sched_step *sp = &s->steps[k];
  if (sp->kind != STEP_NODE) return NULL;
  const ir_node *n = &g->nodes[sp->node];
  if (n->op != CLCNN_OP_CONCAT || n->per_run || n->nout < 1 || n->out[0] < 0 || n->nin < 1 ||
      !n->params)
    return NULL;
  const ir_value *y = &g->values[n->out[0]];
  const concat_params *p = n->params;
  const size_t cy = (size_t)n->out[0] * (size_t)s->nbackends + (size_t)sp->backend;
  if (y->is_const || y->dynamic || root[cy] != (int)cy || p->axis < 0 || p->axis >= y->t.rank)
    return NULL;
  for (int d = 0; d < p->axis; d++)
    if (y->t.dims[d] != 1) return NULL;
  return n;
}

/* Whether Concat a (step ka) lists the first inputs of the longer b (step
 * kb), on the same backend and axis. */
static bool concat_is_start_of(const clcnn_session *s, int ka, const ir_node *a, int kb,
                               const ir_node *b) {
  if (s->steps[ka].backend != s->steps[kb].backend || a->nin >= b->nin ||
      ((const concat_params *)a->params)->axis != ((const concat_params *)b->params)->axis)
    return false;
  for (int j = 0; j < a->nin; j++)
    if (a->in[j] != b->in[j]) return false;
  return true;
}

static void concat_in_place(clcnn_session *s, int *root, size_t *offset) {
  ir_graph *g = &s->g;
  const int nb = s->nbackends;
  const size_t cells = (size_t)g->nvalues * (size_t)nb;
  for (int k = 0; k < s->nsteps; k++) {
    sched_step *sp = &s->steps[k];
    const ir_node *n = concat_candidate(s, root, k);
    if (!n) continue;
    /* The start of a longer Concat waits for that one. */
    bool is_start = false;
    for (int k2 = 0; k2 < s->nsteps && !is_start; k2++) {
      const ir_node *n2 = k2 == k ? NULL : concat_candidate(s, root, k2);
      is_start = n2 && concat_is_start_of(s, k, n, k2, n2);
    }
    if (is_start) continue;
    const ir_value *y = &g->values[n->out[0]];
    const size_t cy = (size_t)n->out[0] * (size_t)nb + (size_t)sp->backend;
    const size_t align = s->backends[sp->backend]->align ? s->backends[sp->backend]->align : 64;
    size_t at = 0;
    bool ok = true;
    for (int j = 0; ok && j < n->nin; j++) {
      const int x = n->in[j];
      const size_t cx = (size_t)x * (size_t)nb + (size_t)sp->backend;
      ok = x >= 0 && !g->values[x].is_const && !g->values[x].is_input &&
           g->values[x].t.dtype == y->t.dtype && root[cx] == (int)cx && at % align == 0;
      for (int i = 0; ok && i < j; i++) ok = n->in[i] != x;
      for (size_t c = 0; ok && c < cells; c++) ok = c == cx || root[c] != (int)cx;
      if (ok) at += value_bytes(&g->values[x]);
    }
    if (!ok || at != value_bytes(y)) continue;
    at = 0;
    for (int j = 0; j < n->nin; j++) {
      const size_t cx = (size_t)n->in[j] * (size_t)nb + (size_t)sp->backend;
      root[cx] = (int)cy;
      offset[cx] = at;
      at += value_bytes(&g->values[n->in[j]]);
    }
    sp->in_place = true;
    /* Its starts: views of its first bytes (when nothing views them). */
    for (int k2 = 0; k2 < s->nsteps; k2++) {
      const ir_node *n2 = k2 == k ? NULL : concat_candidate(s, root, k2);
      if (!n2 || !concat_is_start_of(s, k2, n2, k, n)) continue;
      const size_t c2 = (size_t)n2->out[0] * (size_t)nb + (size_t)sp->backend;
      bool viewed = false;
      for (size_t c = 0; c < cells && !viewed; c++) viewed = c != c2 && root[c] == (int)c2;
      if (viewed || g->values[n2->out[0]].t.dtype != y->t.dtype) continue;
      root[c2] = (int)cy;
      offset[c2] = 0;
      s->steps[k2].in_place = true;
    }
  }
}

/* One liveness analysis over the steps: the buffer of value v on backend b
 * lives from the step that writes it there (its node, or a transfer to b) to
 * the last step that reads it there (a node, or a transfer from b). Graph
 * inputs live for the whole session, graph outputs until they are read. */
static clcnn_status plan_memory(clcnn_session *s, clcnn_err *err) {
  ir_graph *g = &s->g;
  int nb = s->nbackends, nv = g->nvalues;
  size_t cells = (size_t)(nv ? nv : 1) * (size_t)nb;
  int *first = malloc(sizeof(int) * cells), *last = malloc(sizeof(int) * cells);
  plan_item *items = malloc(sizeof(plan_item) * cells);
  int *item_cell = malloc(sizeof(int) * cells);
  int *root = malloc(sizeof(int) * cells);
  size_t *offset = malloc(sizeof(size_t) * cells); /* a cell's place in its root's buffer */
  size_t *offsets = malloc(sizeof(size_t) * cells);
  s->slot = malloc(sizeof(size_t) * cells);
  clcnn_status st = CLCNN_OK;
  if (!first || !last || !items || !item_cell || !root || !offset || !offsets || !s->slot) {
    st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory planning memory");
    goto out;
  }
  for (size_t c = 0; c < cells; c++) {
    first[c] = last[c] = -1;
    s->slot[c] = SIZE_MAX;
  }
#define TOUCH(v, b, k)                                           \
  do {                                                           \
    size_t c_ = (size_t)(v) * (size_t)nb + (size_t)(b);          \
    if (first[c_] < 0) first[c_] = (k);                          \
    if (last[c_] < (k)) last[c_] = (k);                          \
  } while (0)
  const int end = s->nsteps;
  for (int k = 0; k < s->nsteps; k++) {
    const sched_step *sp = &s->steps[k];
    if (sp->kind == STEP_TRANSFER) {
      TOUCH(sp->value, sp->from, k);
      TOUCH(sp->value, sp->backend, k);
      continue;
    }
    const ir_node *n = &g->nodes[sp->node];
    for (int j = 0; j < n->nin; j++)
      if (n->in[j] >= 0 && !g->values[n->in[j]].is_const) TOUCH(n->in[j], sp->backend, k);
    for (int j = 0; j < n->nout; j++)
      if (n->out[j] >= 0 && !g->values[n->out[j]].is_const) TOUCH(n->out[j], sp->backend, k);
  }
  for (int i = 0; i < g->noutputs; i++) {
    int v = g->outputs[i];
    if (g->values[v].is_const || g->values[v].dynamic) continue; /* the tail's own */
    TOUCH(v, s->output_on[v], end);
    TOUCH(v, s->host, end); /* read back into it */
  }
  for (int i = 0; i < g->nnodes; i++) { /* the tail reads its inputs after the steps */
    const ir_node *n = &g->nodes[i];
    if (n->dead || !n->per_run) continue;
    for (int j = 0; j < n->nin; j++)
      if (tail_input(g, n->in[j])) TOUCH(n->in[j], s->host, end);
  }
  /* A graph input has a slot where something reads it (a node, a transfer,
   * the caller as an output), for the whole session; an input that nothing
   * reads (only its shape mattered: Shape folded) needs no memory. */
  for (int i = 0; i < g->ninputs; i++) {
    int v = g->inputs[i];
    for (int b = 0; b < nb; b++) {
      size_t c = (size_t)v * (size_t)nb + (size_t)b;
      if (first[c] >= 0) {
        first[c] = 0;
        last[c] = end;
      }
    }
  }
#undef TOUCH
  /* Views: the output of a Reshape, Flatten, Squeeze or Unsqueeze holds the
   * same bytes in the same order as its input, so on the backend that runs
   * it the two share one buffer, which lives as long as both; the node's
   * copy then finds source and destination the same and does nothing.
   * (Values are written once, by their producer or a transfer, and no
   * operator runs in place, so nothing writes the shared bytes while both
   * are live.) */
  for (size_t c = 0; c < cells; c++) root[c] = (int)c, offset[c] = 0;
  for (int k = 0; k < s->nsteps; k++) {
    const sched_step *sp = &s->steps[k];
    if (sp->kind != STEP_NODE) continue;
    const ir_node *n = &g->nodes[sp->node];
    if (!is_view_op(n->op) || n->per_run || n->nin < 1 || n->nout < 1) continue;
    int x = n->in[0], y = n->out[0];
    if (x < 0 || y < 0 || g->values[x].is_const || g->values[y].is_const ||
        g->values[y].dynamic || g->values[x].t.dtype != g->values[y].t.dtype ||
        value_bytes(&g->values[x]) != value_bytes(&g->values[y]))
      continue;
    size_t cx = (size_t)x * (size_t)nb + (size_t)sp->backend;
    size_t cy = (size_t)y * (size_t)nb + (size_t)sp->backend;
    root[cy] = root[cx]; /* steps are in order: cx's root is final */
  }
  concat_in_place(s, root, offset);
  for (size_t c = 0; c < cells; c++) {
    size_t r = (size_t)root[c];
    if (r == c || first[c] < 0) continue;
    if (first[r] < 0 || first[c] < first[r]) first[r] = first[c];
    if (last[c] > last[r]) last[r] = last[c];
  }
  for (int b = 0; b < nb; b++) {
    int n = 0;
    for (int v = 0; v < nv; v++) {
      size_t c = (size_t)v * (size_t)nb + (size_t)b;
      if (first[c] < 0 || g->values[v].is_const || root[c] != (int)c) continue;
      items[n] = (plan_item){value_bytes(&g->values[v]), first[c], last[c]};
      item_cell[n++] = (int)c;
    }
    backend *be = s->backends[b];
    st = plan_arena(items, n, be->align ? be->align : 64, offsets, &s->arena_bytes[b], err);
    if (st) goto out;
    for (int i = 0; i < n; i++) s->slot[item_cell[i]] = offsets[i];
    for (int v = 0; v < nv; v++) { /* views take their root's place */
      size_t c = (size_t)v * (size_t)nb + (size_t)b;
      if (root[c] != (int)c && first[c] >= 0) s->slot[c] = s->slot[root[c]] + offset[c];
    }
    if (!n && b != s->host) continue;
    if ((st = be->ops->alloc(be, s->arena_bytes[b], &s->arena[b], err))) goto out;
  }
out:
  free(first);
  free(last);
  free(items);
  free(item_cell);
  free(root);
  free(offset);
  free(offsets);
  return st;
}

/* Constants bound once per backend that reads them. */
static clcnn_status bind_constants(clcnn_session *s, clcnn_err *err) {
  ir_graph *g = &s->g;
  int nb = s->nbackends;
  s->consts = calloc((size_t)(g->nvalues ? g->nvalues : 1) * (size_t)nb, sizeof *s->consts);
  if (!s->consts) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  for (int i = 0; i < g->nnodes; i++) {
    const ir_node *n = &g->nodes[i];
    if (n->dead || n->per_run) continue; /* the tail reads constants from the graph */
    for (int j = 0; j < n->nin; j++) {
      int v = n->in[j];
      if (v < 0 || !g->values[v].is_const) continue;
      for (int b = 0; b < nb; b++) {
        bool reads = n->backend == b || (b == s->host && s->host_prepared[i]);
        backend_tensor *t = &s->consts[(size_t)v * (size_t)nb + (size_t)b];
        if (!reads || t->buf) continue;
        clcnn_err e = {0};
        backend *be = s->backends[b];
        clcnn_status st = be->ops->constant(be, g, v, t, &e);
        if (st)
          return err_set(err, st, "constant '%s' (%zu bytes) on %s: %s", g->values[v].name,
                         value_bytes(&g->values[v]), be->name, e.msg);
        if (!t->buf && value_bytes(&g->values[v]))
          return err_set(err, CLCNN_ERROR_INTERNAL, "constant '%s' has no data on %s",
                         g->values[v].name, be->name);
      }
    }
  }
  return CLCNN_OK;
}

backend_tensor sched_tensor(const clcnn_session *s, int v, int b) {
  backend_tensor t;
  memset(&t, 0, sizeof t);
  if (v < 0) return t;
  const ir_value *val = &s->g.values[v];
  size_t c = (size_t)v * (size_t)s->nbackends + (size_t)b;
  if (val->is_const) {
    t = s->consts[c];
    if (!t.buf) { /* a constant no node of b reads (a graph output): the host's data */
      t.dtype = val->t.dtype;
      t.rank = val->t.rank;
      memcpy(t.dims, val->t.dims, sizeof t.dims);
    }
    return t;
  }
  t.dtype = val->half && b != s->host ? CLCNN_DTYPE_FLOAT16 : val->t.dtype;
  t.rank = val->t.rank;
  memcpy(t.dims, val->t.dims, sizeof t.dims);
  if (s->slot[c] != SIZE_MAX) {
    t.buf = s->arena[b];
    t.offset = s->slot[c];
  }
  return t;
}

static void *host_ptr(const clcnn_session *s, int v) {
  size_t off = s->slot[(size_t)v * (size_t)s->nbackends + (size_t)s->host];
  return off == SIZE_MAX ? NULL : (uint8_t *)s->arena[s->host] + off;
}

/* -------------------------------------------------------------- profiling */

static clcnn_status setup_profile(clcnn_session *s, clcnn_err *err) {
  ir_graph *g = &s->g;
  int n = s->nsteps ? s->nsteps : 1;
  s->prof = calloc((size_t)n, sizeof *s->prof);
  s->prof_text = calloc((size_t)n * 3, sizeof(char *));
  if (!s->prof || !s->prof_text) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  s->nprof = s->nsteps;
  for (int k = 0; k < s->nsteps; k++) {
    const sched_step *sp = &s->steps[k];
    char op[128], shape[128] = "", where[160];
    const ir_value *o;
    double flops = 0;
    size_t io_bytes = 0;
    const char *node;
    if (sp->kind == STEP_NODE) {
      const ir_node *nd = &g->nodes[sp->node];
      const char *sum = nd->op == CLCNN_OP_CONV && nd->nin > 3 ? "+Add" : ""; /* residual */
      if (nd->act_op >= 0)
        snprintf(op, sizeof op, "%s%s+%s", nd->op_type, sum, op_name(nd->act_op));
      else if (sum[0])
        snprintf(op, sizeof op, "%s%s", nd->op_type, sum);
      else snprintf(op, sizeof op, "%s%s", nd->op_type, sp->in_place ? " (in place)" : "");
      snprintf(where, sizeof where, "%s", s->backends[sp->backend]->name);
      o = ir_out(g, nd, 0);
      const op_front *f = op_front_get(nd->op);
      flops = f->flops ? f->flops(g, nd) : 0;
      node = nd->name;
      for (int j = 0; j < nd->nin; j++)
        if (nd->in[j] >= 0) io_bytes += value_bytes(&g->values[nd->in[j]]);
      for (int j = 0; j < nd->nout; j++)
        if (nd->out[j] >= 0) io_bytes += value_bytes(&g->values[nd->out[j]]);
    } else {
      snprintf(op, sizeof op, "Transfer");
      snprintf(where, sizeof where, "%s->%s", s->backends[sp->from]->name,
               s->backends[sp->backend]->name);
      o = &g->values[sp->value];
      node = o->name;
    }
    if (o) shape_str(o->t.rank, o->t.dims, shape, sizeof shape);
    s->prof_text[3 * k] = strdup(op);
    s->prof_text[3 * k + 1] = strdup(shape);
    s->prof_text[3 * k + 2] = strdup(where);
    if (!s->prof_text[3 * k] || !s->prof_text[3 * k + 1] || !s->prof_text[3 * k + 2])
      return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    s->prof[k] = (clcnn_profile_entry){
        .node = node, .op = s->prof_text[3 * k], .backend = s->prof_text[3 * k + 2],
        .shape = s->prof_text[3 * k + 1], .flops = flops, .io_bytes = io_bytes,
        .precision = sp->kind == STEP_NODE ? precision_of_node(g, &g->nodes[sp->node]) : ""};
  }
  return CLCNN_OK;
}

/* ------------------------------------------------------------------ tail */

/* The per_run nodes as a graph of their own, copied once per session: its
 * inputs are the values the steps leave on the host; its own values have no
 * shape until a run gives them one. */
static clcnn_status build_tail(clcnn_session *s, clcnn_err *err) {
  ir_graph *g = &s->g;
  bool any = false;
  for (int i = 0; i < g->nnodes; i++) any |= !g->nodes[i].dead && g->nodes[i].per_run;
  if (!any) return CLCNN_OK;
  bool *keep = calloc((size_t)g->nnodes, sizeof(bool));
  s->tail_of = malloc(sizeof(int) * (size_t)g->nvalues);
  if (!keep || !s->tail_of) {
    free(keep);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  for (int i = 0; i < g->nnodes; i++) keep[i] = !g->nodes[i].dead && g->nodes[i].per_run;
  clcnn_status st = ir_graph_extract(g, keep, &s->tail, &s->tail_map, err);
  free(keep);
  if (st) return st;
  for (int v = 0; v < g->nvalues; v++) s->tail_of[v] = -1;
  for (int k = 0; k < s->tail.nvalues; k++) {
    ir_value *t = &s->tail.values[k];
    s->tail_of[s->tail_map[k]] = k;
    t->dynamic = false;
    if (t->is_const || t->is_input) continue;
    t->shape_known = false;
    t->t.data = NULL;
  }
  int nper = 0;
  for (int i = 0; i < g->nnodes; i++) nper += !g->nodes[i].dead && g->nodes[i].per_run;
  ctx_log(s->ctx, CLCNN_LOG_INFO,
          "%d nodes have data-dependent shapes or follow one: they run on the CPU backend at each "
          "run, after the %d steps", nper, s->nsteps);
  return CLCNN_OK;
}

/* Every tensor a node reads or writes on a backend with 32-bit kernel
 * indexing ends within backend.max_elements of its buffer's start: the
 * element offsets, counts and strides its kernels take all fit. The one
 * check of that kind, made once the memory plan has fixed every offset. */
static clcnn_status check_index_limits(const clcnn_session *s, clcnn_err *err) {
  const ir_graph *g = &s->g;
  for (int k = 0; k < s->nsteps; k++) {
    const sched_step *sp = &s->steps[k];
    if (sp->kind != STEP_NODE) continue;
    const backend *be = s->backends[sp->backend];
    if (!be->max_elements) continue;
    const ir_node *n = &g->nodes[sp->node];
    for (int j = 0; j < n->nin + n->nout; j++) {
      int v = j < n->nin ? n->in[j] : n->out[j - n->nin];
      if (v < 0) continue;
      backend_tensor t = sched_tensor(s, v, sp->backend);
      if (!t.buf) continue;
      const size_t es = dtype_size(t.dtype) ? dtype_size(t.dtype) : 1;
      /* numel is at most 2^34 (shape_numel_checked) and the offset is inside
       * an allocated buffer: no overflow in 64 bits. */
      const uint64_t end = (uint64_t)(t.offset / es) + (uint64_t)shape_numel(t.rank, t.dims);
      if (end > be->max_elements)
        return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                       "node '%s' (%s) on %s: its %s '%s' ends at element %llu of its buffer "
                       "(offset %llu + %lld elements); the kernels of %s index with 32 bits, "
                       "up to %llu elements",
                       n->name, n->op_type, be->name, j < n->nin ? "input" : "output",
                       g->values[v].name, (unsigned long long)end,
                       (unsigned long long)(t.offset / es),
                       (long long)shape_numel(t.rank, t.dims), be->name,
                       (unsigned long long)be->max_elements);
    }
  }
  return CLCNN_OK;
}

/* ------------------------------------------------------------------ build */

clcnn_status sched_build(clcnn_session *s, clcnn_err *err) {
  clcnn_status st;
  if ((st = partition(s, err))) return st;
  if ((st = build_steps(s, err))) return st;
  if ((st = plan_memory(s, err))) return st;
  if ((st = bind_constants(s, err))) return st;
  if ((st = build_tail(s, err))) return st;
  if ((st = check_index_limits(s, err))) return st;
  /* Step names serve the verify report too. */
  if ((s->profile || s->verify) && (st = setup_profile(s, err))) return st;
  if (s->verify) {
    s->ver = calloc((size_t)(s->nsteps ? s->nsteps : 1), sizeof *s->ver);
    if (!s->ver) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  int on[SESSION_MAX_BACKENDS] = {0}, transfers = 0;
  for (int k = 0; k < s->nsteps; k++) {
    if (s->steps[k].kind == STEP_NODE) on[s->steps[k].backend]++;
    else transfers++;
  }
  char msg[512] = "";
  for (int b = 0; b < s->nbackends; b++) {
    size_t at = strlen(msg);
    snprintf(msg + at, sizeof msg - at, "%s%d on %s", b ? ", " : "", on[b], s->backends[b]->name);
  }
  ctx_log(s->ctx, CLCNN_LOG_INFO, "schedule: %s, %d transfer steps", msg, transfers);
  return CLCNN_OK;
}

void sched_free(clcnn_session *s) {
  for (int i = 0; s->host_prepared && i < s->g.nnodes; i++) {
    const ir_node *n = &s->g.nodes[i];
    if (n->dead) continue;
    if (n->backend >= 0 && n->backend != s->host) s->backends[n->backend]->ops->release(s->backends[n->backend], i);
    if (s->host_prepared[i]) s->backends[s->host]->ops->release(s->backends[s->host], i);
  }
  for (int b = 0; b < s->nbackends; b++)
    if (s->arena[b]) s->backends[b]->ops->free(s->backends[b], s->arena[b]);
  if (s->prof_text)
    for (int i = 0; i < s->nprof * 3; i++) free(s->prof_text[i]);
  free(s->prof_text);
  free(s->prof);
  free(s->ver);
  free(s->consts);
  free(s->slot);
  free(s->steps);
  free(s->input_on);
  free(s->output_on);
  free(s->output_on_host);
  for (int i = 0; s->fallback_reason && i < s->g.nnodes; i++) free(s->fallback_reason[i]);
  free(s->fallback_reason);
  free(s->host_prepared);
  ir_graph_free(&s->tail);
  ir_graph_free(&s->tail_run);
  free(s->tail_map);
  free(s->tail_of);
}

/* -------------------------------------------------------------------- run */

/* Copies value v from backend `from` to backend `to`; one of them is the
 * host. Both calls return when the copy is complete. */
static clcnn_status transfer(clcnn_session *s, int v, int from, int to, clcnn_err *err) {
  size_t bytes = value_bytes(&s->g.values[v]);
  if (!bytes || from == to) return CLCNN_OK;
  void *h = host_ptr(s, v);
  if (!h) return err_set(err, CLCNN_ERROR_INTERNAL, "'%s' has no host buffer", s->g.values[v].name);
  backend_tensor t;
  if (to == s->host) {
    t = sched_tensor(s, v, from);
    return s->backends[from]->ops->download(s->backends[from], h, &t, bytes, err);
  }
  if (from != s->host) {
    clcnn_status st = transfer(s, v, from, s->host, err);
    if (st) return st;
  }
  t = sched_tensor(s, v, to);
  return s->backends[to]->ops->upload(s->backends[to], &t, h, bytes, err);
}

/* A graph input to backend b from wherever the input last set is. */
static clcnn_status stage_input(clcnn_session *s, int v, int b, bool *moved, clcnn_err *err) {
  *moved = false;
  if (s->input_on[v] & (1u << b)) return CLCNN_OK;
  const uint32_t host_bit = 1u << s->host;
  int from = (s->input_on[v] & host_bit) ? s->host : first_bit(s->input_on[v]);
  if (from < 0) return err_set(err, CLCNN_ERROR_INTERNAL, "input '%s' is nowhere", s->g.values[v].name);
  clcnn_status st = transfer(s, v, from, b, err);
  if (st) return st;
  if (from != s->host) s->input_on[v] |= host_bit;
  s->input_on[v] |= 1u << b;
  *moved = true;
  return CLCNN_OK;
}

/* Bytes of v as the CPU backend holds it (float32 where a device has half). */
static size_t host_bytes(const ir_value *v) {
  return (size_t)shape_numel(v->t.rank, v->t.dims) * dtype_size(v->t.dtype);
}

/* Value v from backend b into host memory `dst` (host_bytes(v) long), a
 * half value widened to float32. */
static clcnn_status download_widened(clcnn_session *s, backend *dev, int v, int b, void *dst,
                                     clcnn_err *err) {
  const ir_value *val = &s->g.values[v];
  const size_t bytes = value_bytes(val);
  if (!bytes) return CLCNN_OK;
  backend_tensor dt = sched_tensor(s, v, b);
  clcnn_status st = dev->ops->download(dev, dst, &dt, bytes, err);
  if (st || !val->half) return st;
  /* In place, from the end: element i's 2 bytes sit before its 4. */
  uint8_t *p = dst;
  for (int64_t i = shape_numel(val->t.rank, val->t.dims) - 1; i >= 0; i--) {
    uint16_t h;
    memcpy(&h, p + 2 * i, sizeof h);
    const float f = f16_to_float(h);
    memcpy(p + 4 * i, &f, sizeof f);
  }
  return CLCNN_OK;
}

/* Verify mode: node i ran on a device; run it on the CPU backend from the
 * inputs the device read, and compare every output. */
static clcnn_status verify_node(clcnn_session *s, int step, clcnn_err *err) {
  const sched_step *sp = &s->steps[step];
  ir_graph *g = &s->g;
  const ir_node *n = &g->nodes[sp->node];
  backend *dev = s->backends[sp->backend], *cpu = s->backends[s->host];
  enum { MAX_IO = 64 };
  backend_tensor hin[MAX_IO], hout[MAX_IO];
  void *dout[MAX_IO];
  void *owned[3 * MAX_IO];
  int nowned = 0;
  clcnn_status st = CLCNN_OK;
  if (n->nin > MAX_IO || n->nout > MAX_IO)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "node '%s' has too many inputs", n->name);
  if (dev->ops->synchronize && (st = dev->ops->synchronize(dev, err))) return st;
  for (int j = 0; j < n->nin && !st; j++) {
    int v = n->in[j];
    hin[j] = sched_tensor(s, v, s->host);
    if (v < 0 || g->values[v].is_const) continue;
    size_t bytes = host_bytes(&g->values[v]);
    void *buf = malloc(bytes ? bytes : 1);
    if (!buf) {
      st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      break;
    }
    owned[nowned++] = buf;
    st = download_widened(s, dev, v, sp->backend, buf, err);
    hin[j].buf = buf;
    hin[j].offset = 0;
  }
  for (int j = 0; j < n->nout && !st; j++) {
    int v = n->out[j];
    memset(&hout[j], 0, sizeof hout[j]);
    dout[j] = NULL;
    if (v < 0) continue;
    size_t bytes = host_bytes(&g->values[v]);
    void *a = malloc(bytes ? bytes : 1), *b = malloc(bytes ? bytes : 1);
    if (a) owned[nowned++] = a;
    if (b) owned[nowned++] = b;
    if (!a || !b) {
      st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      break;
    }
    st = download_widened(s, dev, v, sp->backend, a, err);
    dout[j] = a;
    hout[j] = sched_tensor(s, v, s->host);
    hout[j].buf = b;
    hout[j].offset = 0;
  }
  if (!st) {
    clcnn_err e = {0};
    st = cpu->ops->run(cpu, g, sp->node, hin, n->nin, hout, n->nout, &e);
    if (st) st = err_set(err, st, "verify mode: node '%s' (%s) on the CPU backend: %s", n->name,
                         n->op_type, e.msg);
  }
  if (!st) {
    double max_err = 0, max_ref = 0;
    for (int j = 0; j < n->nout; j++) {
      if (!dout[j]) continue;
      clcnn_tensor a = {hout[j].dtype, hout[j].rank, {0}, dout[j]};
      clcnn_tensor b = {hout[j].dtype, hout[j].rank, {0}, hout[j].buf};
      if (dtype_size(a.dtype) == 0) continue;
      int64_t count = shape_numel(hout[j].rank, hout[j].dims);
      for (int64_t e = 0; e < count; e++) {
        double x = tensor_get_f64(&a, e), y = tensor_get_f64(&b, e);
        double d = fabs(x - y);
        if (isnan(x) && isnan(y)) d = 0;
        else if (isnan(d) || (isinf(d) && isfinite(y))) d = INFINITY;
        else if (isinf(x) && x == y) d = 0;
        if (d > max_err) max_err = d;
        if (isfinite(y) && fabs(y) > max_ref) max_ref = fabs(y);
      }
    }
    clcnn_verify_entry *ve = &s->ver[s->nver++];
    ve->node = n->name;
    ve->op = s->prof[step].op;
    ve->backend = dev->name;
    ve->max_abs_error = max_err;
    ve->max_abs_ref = max_ref;
    ve->error = max_err / (max_ref > 1 ? max_ref : 1);
    ve->ok = ve->error <= s->verify_tolerance;
    if (!ve->ok && s->ver_first < 0) s->ver_first = s->nver - 1;
  }
  for (int i = 0; i < nowned; i++) free(owned[i]);
  return st;
}

static clcnn_status run_step(clcnn_session *s, int k, clcnn_err *err) {
  const sched_step *sp = &s->steps[k];
  ir_graph *g = &s->g;
  backend *be = s->backends[sp->backend];
  clcnn_profile_entry *pe = s->profile ? &s->prof[k] : NULL;
  double t0 = pe ? now_ms() : 0;
  clcnn_status st;
  if (sp->kind == STEP_TRANSFER) {
    const ir_value *val = &g->values[sp->value];
    bool moved = true;
    if (sp->input_stage) st = stage_input(s, sp->value, sp->backend, &moved, err);
    else st = transfer(s, sp->value, sp->from, sp->backend, err);
    if (st) return err_set(err, st, "transfer of '%s' to %s: %s", val->name, be->name, err->msg);
    if (pe) {
      pe->ms = now_ms() - t0;
      pe->bytes = moved ? value_bytes(val) : 0;
    }
    return CLCNN_OK;
  }
  const ir_node *n = &g->nodes[sp->node];
  enum { MAX_IO = 64 };
  backend_tensor in[MAX_IO], out[MAX_IO];
  if (n->nin > MAX_IO || n->nout > MAX_IO)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "node '%s' has more than %d inputs/outputs",
                   n->name, MAX_IO);
  for (int j = 0; j < n->nin; j++) in[j] = sched_tensor(s, n->in[j], sp->backend);
  for (int j = 0; j < n->nout; j++) out[j] = sched_tensor(s, n->out[j], sp->backend);
  clcnn_err e = {0};
  st = sp->in_place ? CLCNN_OK : be->ops->run(be, g, sp->node, in, n->nin, out, n->nout, &e);
  if (st) return err_set(err, st, "node '%s' (%s) on %s: %s", n->name, n->op_type, be->name, e.msg);
  if (pe && !be->ops->node_ms) pe->ms = sp->in_place ? 0 : now_ms() - t0;
  if (s->verify && sp->backend != s->host) return verify_node(s, k, err);
  return CLCNN_OK;
}

/* The tail of this run: a fresh copy whose inputs are bound, as constants,
 * to this run's values on the host, folded node by node on the CPU backend
 * with the actual shapes. Its values are the outputs' views until the next
 * run. */
static clcnn_status run_tail(clcnn_session *s, clcnn_err *err) {
  ir_graph_free(&s->tail_run);
  memset(&s->tail_run, 0, sizeof s->tail_run);
  clcnn_status st = ir_graph_clone(&s->tail, &s->tail_run, err);
  if (st) return st;
  ir_graph *rg = &s->tail_run;
  for (int k = 0; k < rg->ninputs; k++) {
    int tv = rg->inputs[k], v = s->tail_map[tv];
    const ir_value *val = &s->g.values[v];
    if (val->is_input) {
      bool moved;
      if ((st = stage_input(s, v, s->host, &moved, err))) return st;
    }
    void *data = host_ptr(s, v);
    if (!data && value_bytes(val))
      return err_set(err, CLCNN_ERROR_INTERNAL, "'%s' is not on the host", val->name);
    ir_value *d = &rg->values[tv];
    d->t = val->t;
    d->t.data = data;
    d->is_const = d->shape_known = true;
    d->owns_data = d->dynamic = false;
  }
  return graph_fold_all(rg, err);
}

/* With a cancel flag (clcnn_session_options.cancel), each step starts when
 * the one before has finished (a device's queue holds one node at a time,
 * at the cost of a wait per node), and only while the flag is clear: a run
 * stops within one node's time. */
static clcnn_status cancel_point(clcnn_session *s, int k, clcnn_err *err) {
  if (!s->cancel) return CLCNN_OK;
  backend *prev = k > 0 ? s->backends[s->steps[k - 1].backend] : NULL;
  clcnn_err e = {0};
  clcnn_status st;
  if (prev && prev->ops->synchronize && (st = prev->ops->synchronize(prev, &e)))
    return err_set(err, st, "%s: %s", prev->name, e.msg);
  if (flag_is_set(s->cancel))
    return err_set(err, CLCNN_ERROR_CANCELLED, "run cancelled after %d of %d steps", k, s->nsteps);
  return CLCNN_OK;
}

clcnn_status sched_run(clcnn_session *s, clcnn_err *err) {
  s->nver = 0;
  s->ver_first = -1;
  for (int k = 0; k < s->nsteps; k++) {
    clcnn_status st = cancel_point(s, k, err);
    if (!st) st = run_step(s, k, err);
    if (st) {
      /* Leave no work in flight that reads or writes the session's buffers. */
      for (int b = 0; b < s->nbackends; b++) {
        clcnn_err ignored;
        if (s->backends[b]->ops->synchronize) s->backends[b]->ops->synchronize(s->backends[b], &ignored);
      }
      return st;
    }
  }
  for (int b = 0; b < s->nbackends; b++) {
    backend *be = s->backends[b];
    if (!be->ops->synchronize) continue;
    clcnn_status st = be->ops->synchronize(be, err);
    if (st) return err_set(err, st, "%s: %s", be->name, err->msg);
  }
  for (int k = 0; s->profile && k < s->nsteps; k++) {
    const sched_step *sp = &s->steps[k];
    backend *be = s->backends[sp->backend];
    if (sp->kind == STEP_NODE && be->ops->node_ms) s->prof[k].ms = be->ops->node_ms(be, sp->node);
  }
  for (int i = 0; i < s->g.noutputs; i++) {
    int v = s->g.outputs[i];
    s->output_on_host[v] = s->output_on[v] == s->host;
  }
  if (s->tail_map) {
    clcnn_status st = run_tail(s, err);
    if (st) return err_set(err, st, "data-dependent part: %s", err->msg);
  }
  return CLCNN_OK;
}

clcnn_status sched_value_to_host(clcnn_session *s, int v, clcnn_tensor *view, clcnn_err *err) {
  const ir_value *val = &s->g.values[v];
  *view = val->t;
  if (val->is_const) return CLCNN_OK;
  if (val->dynamic) { /* computed by this run's tail */
    int tv = s->tail_of ? s->tail_of[v] : -1;
    if (tv < 0 || tv >= s->tail_run.nvalues || !s->tail_run.values[tv].is_const)
      return err_set(err, CLCNN_ERROR_INTERNAL, "'%s' was not computed", val->name);
    *view = s->tail_run.values[tv].t;
    return CLCNN_OK;
  }
  clcnn_status st = CLCNN_OK;
  if (is_graph_input(&s->g, v)) {
    bool moved;
    st = stage_input(s, v, s->host, &moved, err);
  } else if (!s->output_on_host[v]) {
    st = transfer(s, v, s->output_on[v], s->host, err);
    if (!st) s->output_on_host[v] = true;
  }
  view->data = host_ptr(s, v);
  return st;
}
