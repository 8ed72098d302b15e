/* The CPU backend behind the backend interface (runtime/backend.h): the
 * operator table of runtime/cpu/registry.c, host memory, synchronous runs.
 * It supports every operator that passed the front half: it is the reference
 * devices are compared with and the fallback for what they cannot run. */
#include <stdlib.h>
#include <string.h>

#include "../backend.h"
#include "threadpool.h"

#define CPU_ALIGN 64

typedef struct cpu_backend {
  cpu_node *nodes;     /* per graph node: the kernels' state */
  cpu_scratch scratch; /* shared by the nodes */
  const clcnn_model *model;
  bool *prepared;
  int nnodes;
  int threads;
  cpu_pool *pool;      /* the context's (threadpool.h); NULL: loops run inline */
} cpu_backend;

/* The pool hangs off the context as an attachment: created by the first
 * CPU backend of the context, shared by all its sessions, freed with it. */
static const char pool_key = 0;

static void *pool_create(void *arg) { return cpu_pool_create(*(const int *)arg); }

static void pool_release(void *obj) { cpu_pool_free(obj); }

cpu_pool *cpu_pool_of_context(clcnn_context *ctx, int nthreads) {
  if (!ctx || nthreads <= 1) return NULL;
  return context_attachment(ctx, &pool_key, pool_create, &nthreads, pool_release);
}

void cpu_scratch_reserve(const cpu_node *cn, size_t bytes) {
  if (cn->scratch && bytes > cn->scratch->need) cn->scratch->need = bytes;
}

void *cpu_scratch_get(const cpu_node *cn) {
  cpu_scratch *s = cn->scratch;
  if (!s) return NULL;
  if (s->have < s->need) {
    free(s->buf);
    s->have = 0;
    size_t rounded = (s->need + CPU_ALIGN - 1) / CPU_ALIGN * CPU_ALIGN;
    if (!(s->buf = aligned_alloc(CPU_ALIGN, rounded))) return NULL;
    s->have = s->need;
  }
  return s->buf;
}

static const char *cpu_supports(backend *b, const ir_graph *g, const ir_node *n) {
  (void)b;
  const cpu_op *op = cpu_op_get(n->op);
  if (!op) return "not an operator clcnn knows";
  return op->check ? op->check(g, n) : NULL;
}

static clcnn_status cpu_prepare(backend *b, const ir_graph *g, int node, clcnn_err *err) {
  cpu_backend *c = b->impl;
  const ir_node *n = &g->nodes[node];
  c->nodes[node] = (cpu_node){.g = g, .n = n, .state = NULL, .nthreads = c->threads,
                              .pool = c->pool, .scratch = &c->scratch, .model = c->model};
  const cpu_op *op = cpu_op_get(n->op);
  clcnn_status st = op->prepare ? op->prepare(&c->nodes[node], err) : CLCNN_OK;
  c->prepared[node] = true; /* release() frees partial state too */
  return st;
}

static void cpu_release(backend *b, int node) {
  cpu_backend *c = b->impl;
  if (!c->prepared[node]) return;
  const cpu_op *op = cpu_op_get(c->nodes[node].n->op);
  if (op && op->release) op->release(&c->nodes[node]);
  memset(&c->nodes[node], 0, sizeof c->nodes[node]);
  c->prepared[node] = false;
}

static clcnn_status cpu_constant(backend *b, const ir_graph *g, int v, backend_tensor *t,
                                 clcnn_err *err) {
  (void)b, (void)err;
  const ir_value *val = &g->values[v];
  t->dtype = val->t.dtype;
  t->rank = val->t.rank;
  memcpy(t->dims, val->t.dims, sizeof t->dims);
  t->buf = val->t.data;
  t->offset = 0;
  return CLCNN_OK;
}

static clcnn_status cpu_alloc(backend *b, size_t bytes, void **buf, clcnn_err *err) {
  (void)b;
  size_t rounded = (bytes + CPU_ALIGN - 1) / CPU_ALIGN * CPU_ALIGN + CPU_ALIGN;
  *buf = aligned_alloc(CPU_ALIGN, rounded);
  if (!*buf)
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY,
                   "out of memory: the CPU activation arena needs %zu bytes", bytes);
  memset(*buf, 0, rounded);
  return CLCNN_OK;
}

static void cpu_free(backend *b, void *buf) {
  (void)b;
  free(buf);
}

static clcnn_tensor host_view(const backend_tensor *t) {
  clcnn_tensor h;
  memset(&h, 0, sizeof h);
  if (!t->buf) return h; /* omitted: dtype UNDEFINED, data NULL */
  h.dtype = t->dtype;
  h.rank = t->rank;
  memcpy(h.dims, t->dims, sizeof h.dims);
  h.data = (uint8_t *)t->buf + t->offset;
  return h;
}

static clcnn_status cpu_run(backend *b, const ir_graph *g, int node, const backend_tensor *in,
                            int nin, const backend_tensor *out, int nout, clcnn_err *err) {
  cpu_backend *c = b->impl;
  enum { MAX_IO = 64 };
  clcnn_tensor hin[MAX_IO], hout[MAX_IO];
  if (nin > MAX_IO || nout > MAX_IO)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "more than %d inputs or outputs", MAX_IO);
  for (int k = 0; k < nin; k++) hin[k] = host_view(&in[k]);
  for (int k = 0; k < nout; k++) hout[k] = host_view(&out[k]);
  return cpu_op_get(g->nodes[node].op)->run(&c->nodes[node], hin, nin, hout, nout, err);
}

static void cpu_memory(backend *b, size_t *total, size_t *shared) {
  (void)b;
  *total = 0; /* host memory is counted by the session */
  *shared = 0;
}

static void cpu_destroy(backend *b) {
  if (!b) return;
  cpu_backend *c = b->impl;
  if (c) {
    for (int i = 0; i < c->nnodes; i++) cpu_release(b, i);
    free(c->nodes);
    free(c->prepared);
    free(c->scratch.buf);
    free(c);
  }
  free(b);
}

static const backend_ops cpu_backend_ops = {
    .supports = cpu_supports,
    .prepare = cpu_prepare,
    .release = cpu_release,
    .constant = cpu_constant,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .run = cpu_run,
    .memory = cpu_memory,
    .destroy = cpu_destroy,
};

clcnn_status cpu_backend_open(const backend_open_args *a, backend **out, clcnn_err *err) {
  backend *b = calloc(1, sizeof *b);
  cpu_backend *c = calloc(1, sizeof *c);
  int nn = a->nnodes ? a->nnodes : 1;
  if (b && c) {
    c->nodes = calloc((size_t)nn, sizeof *c->nodes);
    c->prepared = calloc((size_t)nn, sizeof *c->prepared);
  }
  if (!b || !c || !c->nodes || !c->prepared) {
    if (c) {
      free(c->nodes);
      free(c->prepared);
    }
    free(c);
    free(b);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  c->nnodes = a->nnodes;
  c->threads = a->threads > 0 ? a->threads : 1;
  c->pool = cpu_pool_of_context(a->ctx, c->threads);
  c->model = a->model;
  b->ops = &cpu_backend_ops;
  b->impl = c;
  b->host_memory = true;
  strcpy(b->name, "cpu");
  strcpy(b->device, "cpu");
  *out = b;
  return CLCNN_OK;
}
