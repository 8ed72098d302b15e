/* Sessions: a model bound to a device and concrete input shapes.
 * create: clone graph -> bind input shapes -> infer + fold -> passes ->
 *         partition -> memory plan -> prepare kernels
 * run:    every live node in order, on its backend. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "clcnn_config.h"
#if CLCNN_HAVE_OPENCL
#include "clcnn_opencl.h"
#include "ocl.h"
#endif

#define ARENA_ALIGN 64

static clcnn_status session_fail(const clcnn_session *cs, clcnn_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void clcnn_session_options_default(clcnn_session_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
}

static int find_graph_input(const ir_graph *g, const char *name) {
  for (int i = 0; i < g->ninputs; i++)
    if (strcmp(g->values[g->inputs[i]].name, name) == 0) return g->inputs[i];
  return -1;
}

static int find_graph_output(const ir_graph *g, const char *name) {
  for (int i = 0; i < g->noutputs; i++)
    if (strcmp(g->values[g->outputs[i]].name, name) == 0) return g->outputs[i];
  return -1;
}

/* Concrete shapes for every graph input: the caller's, else the model's with
 * open dimensions set to 1. */
static clcnn_status bind_inputs(clcnn_session *s, const clcnn_input_shape *shapes, int nshapes,
                                clcnn_err *err) {
  ir_graph *g = &s->g;
  for (int i = 0; i < nshapes; i++) {
    if (!shapes[i].name)
      return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "input shape %d has no name", i);
    int v = find_graph_input(g, shapes[i].name);
    if (v < 0) {
      char names[1024] = "";
      for (int k = 0; k < g->ninputs; k++) {
        size_t l = strlen(names);
        snprintf(names + l, sizeof names - l, "%s'%s'", k ? ", " : "", g->values[g->inputs[k]].name);
      }
      return err_set(err, CLCNN_ERROR_NOT_FOUND, "the model has no input '%s' (its inputs: %s)",
                     shapes[i].name, names);
    }
    ir_value *val = &g->values[v];
    if (shapes[i].rank < 0 || shapes[i].rank > CLCNN_MAX_RANK ||
        (val->t.rank != shapes[i].rank && val->t.rank > 0))
      return err_set(err, CLCNN_ERROR_SHAPE, "input '%s' has rank %d in the model, not %d",
                     val->name, val->t.rank, shapes[i].rank);
    for (int d = 0; d < shapes[i].rank; d++) {
      int64_t want = shapes[i].dims[d];
      if (want < 0 || want > ((int64_t)1 << 31))
        return err_set(err, CLCNN_ERROR_SHAPE, "input '%s': dimension %d = %lld is invalid",
                       val->name, d, (long long)want);
      if (val->t.rank && val->t.dims[d] >= 0 && val->t.dims[d] != want)
        return err_set(err, CLCNN_ERROR_SHAPE,
                       "input '%s': dimension %d is fixed to %lld by the model, not %lld",
                       val->name, d, (long long)val->t.dims[d], (long long)want);
    }
    ir_set_shape(val, val->t.dtype, shapes[i].rank, shapes[i].dims);
  }
  for (int i = 0; i < g->ninputs; i++) {
    ir_value *val = &g->values[g->inputs[i]];
    if (val->shape_known) continue;
    int64_t dims[CLCNN_MAX_RANK];
    for (int d = 0; d < val->t.rank; d++) dims[d] = val->t.dims[d] >= 0 ? val->t.dims[d] : 1;
    ir_set_shape(val, val->t.dtype, val->t.rank, dims);
  }
  for (int i = 0; i < g->nvalues; i++) /* constants know their shape */
    if (g->values[i].is_const) g->values[i].shape_known = true;
  return CLCNN_OK;
}

/* The CPU arena: every non-constant value that a live node writes or the
 * caller feeds gets a buffer, shared with others whose lifetimes do not
 * overlap. Graph inputs live from step 0; graph outputs to the end. */
static clcnn_status plan_cpu(clcnn_session *s, clcnn_err *err) {
  ir_graph *g = &s->g;
  int nv = g->nvalues;
  s->val = malloc(sizeof(session_value) * (size_t)(nv ? nv : 1));
  plan_item *items = malloc(sizeof(plan_item) * (size_t)(nv ? nv : 1));
  int *item_value = malloc(sizeof(int) * (size_t)(nv ? nv : 1));
  size_t *offsets = malloc(sizeof(size_t) * (size_t)(nv ? nv : 1));
  int *first = malloc(sizeof(int) * (size_t)(nv ? nv : 1));
  int *last = malloc(sizeof(int) * (size_t)(nv ? nv : 1));
  clcnn_status st = CLCNN_OK;
  if (!s->val || !items || !item_value || !offsets || !first || !last) {
    st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory planning memory");
    goto out;
  }
  for (int v = 0; v < nv; v++) {
    s->val[v].offset = SIZE_MAX;
    s->val[v].bytes = 0;
    first[v] = -1;
    last[v] = -1;
  }
  for (int i = 0; i < g->ninputs; i++) first[g->inputs[i]] = last[g->inputs[i]] = 0;
  /* With a device, only graph inputs/outputs and what CPU nodes touch need
   * host memory; values that only device nodes touch stay on the device. */
  for (int i = 0; i < g->noutputs; i++)
    if (!g->values[g->outputs[i]].is_const && first[g->outputs[i]] < 0)
      first[g->outputs[i]] = g->values[g->outputs[i]].producer >= 0
                                 ? g->values[g->outputs[i]].producer : 0;
  for (int i = 0; i < g->nnodes; i++) {
    const ir_node *n = &g->nodes[i];
    if (n->dead || n->backend != BACKEND_CPU) continue;
    for (int k = 0; k < n->nout; k++) {
      int v = n->out[k];
      if (v < 0 || g->values[v].is_const) continue;
      if (first[v] < 0) first[v] = i;
      if (last[v] < i) last[v] = i;
    }
    for (int k = 0; k < n->nin; k++) {
      int v = n->in[k];
      if (v < 0 || g->values[v].is_const) continue;
      if (first[v] < 0) first[v] = i; /* produced on the device: moved to its producer below */
      if (last[v] < i) last[v] = i;
    }
  }
  int n = 0;
  /* Graph outputs live to the end; so do graph inputs, so that a second run
   * without a new set_input() reads the same inputs. */
  for (int i = 0; i < g->noutputs; i++)
    if (first[g->outputs[i]] >= 0) last[g->outputs[i]] = g->nnodes;
  for (int i = 0; i < g->ninputs; i++) last[g->inputs[i]] = g->nnodes;
  /* A device value read by a CPU node gets its host copy at that point, but
   * its first step is kept at its producer: simple and safe. */
  for (int v = 0; v < nv; v++)
    if (first[v] >= 0 && g->values[v].producer >= 0 && g->values[v].producer < first[v])
      first[v] = g->values[v].producer;
  for (int v = 0; v < nv; v++) {
    if (first[v] < 0 || g->values[v].is_const) continue;
    const ir_value *val = &g->values[v];
    size_t bytes = (size_t)shape_numel(val->t.rank, val->t.dims) * dtype_size(val->t.dtype);
    s->val[v].bytes = bytes;
    items[n] = (plan_item){bytes, first[v], last[v]};
    item_value[n++] = v;
  }
  st = plan_arena(items, n, ARENA_ALIGN, offsets, &s->arena_bytes, err);
  if (st) goto out;
  for (int i = 0; i < n; i++) s->val[item_value[i]].offset = offsets[i];
  s->arena = aligned_alloc(ARENA_ALIGN, (s->arena_bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN + ARENA_ALIGN);
  if (!s->arena)
    st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory: the activation arena needs %zu bytes",
                 s->arena_bytes);
  else
    memset(s->arena, 0, s->arena_bytes);
out:
  free(items);
  free(item_value);
  free(offsets);
  free(first);
  free(last);
  return st;
}

static int default_threads(const clcnn_context *ctx) {
  if (ctx->opts.num_threads > 0) return ctx->opts.num_threads;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

static clcnn_status prepare_cpu(clcnn_session *s, clcnn_err *err) {
  ir_graph *g = &s->g;
  s->cpu = calloc((size_t)(g->nnodes ? g->nnodes : 1), sizeof(cpu_node));
  s->cpu_prepared = calloc((size_t)(g->nnodes ? g->nnodes : 1), sizeof(bool));
  if (!s->cpu || !s->cpu_prepared)
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  int threads = default_threads(s->ctx);
  for (int i = 0; i < g->nnodes; i++) {
    const ir_node *n = &g->nodes[i];
    if (n->dead || n->backend != BACKEND_CPU) continue;
    const cpu_op *op = cpu_op_get(n->op);
    s->cpu[i] = (cpu_node){.g = g, .n = n, .state = NULL, .nthreads = threads};
    const char *why = op->check ? op->check(g, n) : NULL;
    if (why)
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "node '%s' (%s): %s", n->name, n->op_type, why);
    if (op->prepare) {
      clcnn_err e = {0};
      clcnn_status st = op->prepare(&s->cpu[i], &e);
      if (st) return err_set(err, st, "node '%s' (%s): %s", n->name, n->op_type, e.msg);
    }
    s->cpu_prepared[i] = true;
  }
  return CLCNN_OK;
}

static clcnn_tensor value_tensor(const clcnn_session *s, int v) {
  clcnn_tensor t = s->g.values[v].t;
  if (!s->g.values[v].is_const)
    t.data = s->val[v].offset == SIZE_MAX ? NULL : s->arena + s->val[v].offset;
  return t;
}

static void free_profile(clcnn_session *s) {
  if (s->prof_text)
    for (int i = 0; i < s->nprof * 2; i++) free(s->prof_text[i]);
  free(s->prof_text);
  free(s->prof);
  s->prof = NULL;
  s->prof_text = NULL;
  s->nprof = 0;
}

static clcnn_status setup_profile(clcnn_session *s, clcnn_err *err) {
  ir_graph *g = &s->g;
  s->prof = calloc((size_t)(g->nnodes ? g->nnodes : 1), sizeof(clcnn_profile_entry));
  s->prof_text = calloc((size_t)(g->nnodes ? g->nnodes : 1) * 2, sizeof(char *));
  if (!s->prof || !s->prof_text) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  for (int i = 0; i < g->nnodes; i++) {
    const ir_node *n = &g->nodes[i];
    if (n->dead) continue;
    int k = s->nprof++;
    char op[128], shape[128] = "";
    if (n->act_op >= 0) snprintf(op, sizeof op, "%s+%s", n->op_type, op_name(n->act_op));
    else snprintf(op, sizeof op, "%s", n->op_type);
    const ir_value *o = ir_out(g, n, 0);
    if (o) shape_str(o->t.rank, o->t.dims, shape, sizeof shape);
    s->prof_text[2 * k] = strdup(op);
    s->prof_text[2 * k + 1] = strdup(shape);
    if (!s->prof_text[2 * k] || !s->prof_text[2 * k + 1])
      return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    const op_front *f = op_front_get(n->op);
    s->prof[k] = (clcnn_profile_entry){.node = n->name, .op = s->prof_text[2 * k],
                                       .backend = n->backend == BACKEND_CPU ? "cpu" : "opencl",
                                       .shape = s->prof_text[2 * k + 1], .ms = 0,
                                       .flops = f->flops ? f->flops(g, n) : 0};
  }
  return CLCNN_OK;
}

static clcnn_status session_build(clcnn_session *s, const clcnn_session_options *o,
                                  const clcnn_input_shape *shapes, int nshapes, clcnn_err *err) {
  clcnn_status st = ir_graph_clone(&s->model->g, &s->g, err);
  if (st) return st;
  if ((st = bind_inputs(s, shapes, nshapes, err))) return st;
  if ((st = graph_infer(&s->g, err))) return st;
  if ((st = graph_optimize(&s->g, err))) return st;
  const char *dev = o->device;
  if (!dev || !dev[0]) dev = getenv("CLCNN_DEVICE");
  if (!dev || !dev[0]) dev = "best";
  snprintf(s->device, sizeof s->device, "cpu");
  for (int i = 0; i < s->g.nnodes; i++) s->g.nodes[i].backend = BACKEND_CPU;
#if CLCNN_HAVE_OPENCL
  int index = OCL_DEVICE_CPU_BACKEND;
  if (s->user_cl_queue) {
    if ((st = ocl_session_open_user(s, (cl_context)s->user_cl_context,
                                    (cl_command_queue)s->user_cl_queue, err)))
      return st;
    if ((st = ocl_session_partition(s, err))) return st;
  } else if ((st = ocl_device_select(dev, &index, err))) {
    return st;
  } else if (index != OCL_DEVICE_CPU_BACKEND) {
    if ((st = ocl_session_open(s, index, err))) return st;
    if ((st = ocl_session_partition(s, err))) return st;
  } else if (s->strict && strcmp(dev, "cpu") != 0) {
    return err_set(err, CLCNN_ERROR_DEVICE, "strict mode: no OpenCL device found for '%s'", dev);
  }
#else
  if (strcmp(dev, "cpu") != 0 && strcmp(dev, "best") != 0)
    return err_set(err, CLCNN_ERROR_DEVICE,
                   "device '%s' is not available: this clcnn was built without OpenCL", dev);
#endif
  if ((st = plan_cpu(s, err))) return st;
  if ((st = prepare_cpu(s, err))) return st;
#if CLCNN_HAVE_OPENCL
  if (s->ocl && (st = ocl_session_allocate(s, err))) return st;
#endif
  if (s->profile && (st = setup_profile(s, err))) return st;
  for (int v = 0; v < s->g.nvalues; v++)
    if (s->g.values[v].owns_data)
      s->const_bytes += (size_t)shape_numel(s->g.values[v].t.rank, s->g.values[v].t.dims) *
                        dtype_size(s->g.values[v].t.dtype);
  return CLCNN_OK;
}

static clcnn_status session_create(const clcnn_model *model, const clcnn_session_options *opts,
                                   void *cl_ctx, void *cl_queue, const clcnn_input_shape *shapes,
                                   int shape_count, clcnn_session **out) {
  clcnn_err err = {0};
  if (out) *out = NULL;
  if (!model || !out || (shape_count > 0 && !shapes) || shape_count < 0) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_session_create: bad argument");
    return api_fail(&err);
  }
  clcnn_session_options o;
  clcnn_session_options_default(&o);
  if (opts) {
    if (opts->size < sizeof(size_t) || opts->size > sizeof o) {
      err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT,
              "clcnn_session_options.size is %zu: fill it with clcnn_session_options_default()",
              opts->size);
      return api_fail(&err);
    }
    memcpy(&o, opts, opts->size);
  }
  if (model->problems) {
    err_set(&err, CLCNN_ERROR_UNSUPPORTED, "the model cannot run: %s", model->problems);
    return api_fail(&err);
  }
  clcnn_session *s = calloc(1, sizeof *s);
  if (!s) {
    err_set(&err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    return api_fail(&err);
  }
  s->model = model;
  s->ctx = model->ctx;
  s->strict = o.strict != 0;
  s->profile = o.profile != 0;
  s->user_cl_context = cl_ctx;
  s->user_cl_queue = cl_queue;
  clcnn_status st = session_build(s, &o, shapes, shape_count, &err);
  if (st) {
    clcnn_session_free(s);
    ctx_log(model->ctx, CLCNN_LOG_ERROR, "%s", err.msg);
    return api_fail(&err);
  }
  *out = s;
  return CLCNN_OK;
}

clcnn_status clcnn_session_create(const clcnn_model *model, const clcnn_session_options *opts,
                                  const clcnn_input_shape *shapes, int shape_count,
                                  clcnn_session **out) {
  return session_create(model, opts, NULL, NULL, shapes, shape_count, out);
}

#if CLCNN_HAVE_OPENCL
clcnn_status clcnn_session_create_opencl(const clcnn_model *model,
                                         const clcnn_session_options *opts, cl_context context,
                                         cl_command_queue queue, const clcnn_input_shape *shapes,
                                         int shape_count, clcnn_session **out) {
  if (!context || !queue) {
    clcnn_err err;
    if (out) *out = NULL;
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_session_create_opencl: NULL context or queue");
    return api_fail(&err);
  }
  return session_create(model, opts, context, queue, shapes, shape_count, out);
}

static clcnn_status interop_value(clcnn_session *s, const char *name, cl_mem buffer, bool input,
                                  int *v) {
  if (!s || !name || !buffer) {
    clcnn_err err;
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "NULL argument");
    return s ? session_fail(s, err.status, "%s", err.msg) : api_fail(&err);
  }
  if (!s->ocl)
    return session_fail(s, CLCNN_ERROR_INVALID_ARGUMENT,
                        "the session runs on the CPU backend: use host tensors");
  *v = input ? find_graph_input(&s->g, name) : find_graph_output(&s->g, name);
  if (*v < 0)
    return session_fail(s, CLCNN_ERROR_NOT_FOUND, "the model has no %s '%s'",
                        input ? "input" : "output", name);
  if (!input && !s->ran && !s->g.values[*v].is_const)
    return session_fail(s, CLCNN_ERROR_INVALID_ARGUMENT,
                        "output '%s' is not computed yet: call clcnn_session_run() first", name);
  return CLCNN_OK;
}

clcnn_status clcnn_session_set_input_buffer(clcnn_session *s, const char *name, cl_mem buffer,
                                            size_t offset) {
  int v;
  clcnn_status st = interop_value(s, name, buffer, true, &v);
  if (st) return st;
  clcnn_err e = {0};
  if ((st = ocl_session_copy_buffer(s, v, buffer, offset, true, &e)))
    return session_fail(s, st, "input '%s': %s", name, e.msg);
  s->ran = false;
  return CLCNN_OK;
}

clcnn_status clcnn_session_get_output_buffer(clcnn_session *s, const char *name, cl_mem buffer,
                                             size_t offset) {
  int v;
  clcnn_status st = interop_value(s, name, buffer, false, &v);
  if (st) return st;
  clcnn_err e = {0};
  if ((st = ocl_session_copy_buffer(s, v, buffer, offset, false, &e)))
    return session_fail(s, st, "output '%s': %s", name, e.msg);
  return CLCNN_OK;
}

clcnn_status clcnn_session_opencl_queue(const clcnn_session *s, cl_context *context,
                                        cl_command_queue *queue) {
  if (!s || !context || !queue || !s->ocl) {
    clcnn_err err;
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT,
            "clcnn_session_opencl_queue: NULL argument or a CPU-backend session");
    return api_fail(&err);
  }
  ocl_session_queue(s, context, queue);
  return CLCNN_OK;
}
#endif

void clcnn_session_free(clcnn_session *s) {
  if (!s) return;
  for (int i = 0; s->cpu && i < s->g.nnodes; i++) {
    if (!s->cpu_prepared[i]) continue;
    const cpu_op *op = cpu_op_get(s->g.nodes[i].op);
    if (op && op->release) op->release(&s->cpu[i]);
  }
#if CLCNN_HAVE_OPENCL
  ocl_session_close(s);
#endif
  for (int i = 0; s->fallback_reason && i < s->g.nnodes; i++) free(s->fallback_reason[i]);
  free(s->fallback_reason);
  free(s->cpu);
  free(s->cpu_prepared);
  free(s->val);
  free(s->arena);
  free_profile(s);
  ir_graph_free(&s->g);
  free(s);
}

const char *clcnn_session_device(const clcnn_session *s) { return s ? s->device : ""; }

const char *clcnn_session_error(const clcnn_session *s) { return s ? s->err.msg : ""; }

static clcnn_status session_fail(const clcnn_session *cs, clcnn_status st, const char *fmt, ...) {
  clcnn_session *s = (clcnn_session *)cs; /* the message is the only thing written */
  va_list ap;
  va_start(ap, fmt);
  s->err.status = st;
  vsnprintf(s->err.msg, sizeof s->err.msg, fmt, ap);
  va_end(ap);
  return api_fail(&s->err);
}

clcnn_status clcnn_session_set_input(clcnn_session *s, const char *name, const clcnn_tensor *t) {
  if (!s || !name || !t) {
    clcnn_err err;
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_session_set_input: NULL argument");
    return s ? session_fail(s, err.status, "%s", err.msg) : api_fail(&err);
  }
  int v = find_graph_input(&s->g, name);
  if (v < 0) return session_fail(s, CLCNN_ERROR_NOT_FOUND, "the model has no input '%s'", name);
  const ir_value *val = &s->g.values[v];
  char want[128], got[128];
  if (t->dtype != val->t.dtype)
    return session_fail(s, CLCNN_ERROR_SHAPE, "input '%s' is %s, not %s", name,
                        dtype_name(val->t.dtype), dtype_name(t->dtype));
  bool same = t->rank == val->t.rank;
  for (int d = 0; same && d < t->rank; d++) same = t->dims[d] == val->t.dims[d];
  if (!same)
    return session_fail(s, CLCNN_ERROR_SHAPE,
                        "input '%s' has shape %s in this session, not %s (create a session "
                        "for the new shape)", name,
                        shape_str(val->t.rank, val->t.dims, want, sizeof want),
                        shape_str(t->rank, t->dims, got, sizeof got));
  if (!t->data && s->val[v].bytes)
    return session_fail(s, CLCNN_ERROR_INVALID_ARGUMENT, "input '%s': data is NULL", name);
  if (s->val[v].offset != SIZE_MAX && s->val[v].bytes)
    memcpy(s->arena + s->val[v].offset, t->data, s->val[v].bytes);
#if CLCNN_HAVE_OPENCL
  ocl_session_host_wrote(s, v);
#endif
  s->ran = false;
  return CLCNN_OK;
}

static clcnn_status run_graph(clcnn_session *s) {
  ir_graph *g = &s->g;
  int step = 0;
  enum { MAX_IO = 64 };
  for (int i = 0; i < g->nnodes; i++) {
    ir_node *n = &g->nodes[i];
    if (n->dead) continue;
    clcnn_tensor in[MAX_IO], out[MAX_IO];
    if (n->nin > MAX_IO || n->nout > MAX_IO)
      return session_fail(s, CLCNN_ERROR_UNSUPPORTED, "node '%s' has more than %d inputs/outputs",
                          n->name, MAX_IO);
    for (int k = 0; k < n->nin; k++) {
      if (n->in[k] < 0) memset(&in[k], 0, sizeof in[k]);
      else in[k] = value_tensor(s, n->in[k]);
    }
    for (int k = 0; k < n->nout; k++) {
      if (n->out[k] < 0) memset(&out[k], 0, sizeof out[k]);
      else out[k] = value_tensor(s, n->out[k]);
    }
    double t0 = s->profile ? now_ms() : 0;
    clcnn_err e = {0};
    clcnn_status st = CLCNN_OK;
#if CLCNN_HAVE_OPENCL
    if (n->backend == BACKEND_OPENCL) {
      st = ocl_session_run_node(s, i, &e);
      if (st) return session_fail(s, st, "%s", e.msg);
      step++;
      continue;
    }
    if (s->ocl) { /* a CPU node: bring its inputs to the host */
      for (int k = 0; k < n->nin && st == CLCNN_OK; k++)
        if (n->in[k] >= 0) st = ocl_session_to_host(s, n->in[k], &e);
      if (st) return session_fail(s, st, "node '%s' (%s): %s", n->name, n->op_type, e.msg);
    }
#endif
    const cpu_op *op = cpu_op_get(n->op);
    st = op->run(&s->cpu[i], in, n->nin, out, n->nout, &e);
    if (st)
      return session_fail(s, st, "node '%s' (%s): %s", n->name, n->op_type, e.msg);
#if CLCNN_HAVE_OPENCL
    for (int k = 0; k < n->nout; k++)
      if (n->out[k] >= 0) ocl_session_host_wrote(s, n->out[k]);
#endif
    if (s->profile) s->prof[step].ms = now_ms() - t0;
    step++;
  }
#if CLCNN_HAVE_OPENCL
  if (s->ocl) {
    clcnn_err e = {0};
    clcnn_status st = CLCNN_OK;
    /* Outputs stay on the device until asked for (clcnn_session_output or
     * clcnn_session_get_output_buffer). */
    st = ocl_session_finish(s, &e);
    if (st) return session_fail(s, st, "%s", e.msg);
    if (s->profile)
      for (int i = 0, k = 0; i < g->nnodes; i++) {
        if (g->nodes[i].dead) continue;
        if (g->nodes[i].backend == BACKEND_OPENCL) s->prof[k].ms = ocl_session_node_ms(s, i);
        k++;
      }
  }
#endif
  s->ran = true;
  return CLCNN_OK;
}

clcnn_status clcnn_session_run(clcnn_session *s) {
  if (!s) {
    clcnn_err err;
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_session_run: NULL session");
    return api_fail(&err);
  }
  clcnn_status st = run_graph(s);
#if CLCNN_HAVE_OPENCL
  /* Device copies of graph inputs may have been overwritten by later
   * activations of this run: the next run uploads them again from the host,
   * unless they are set anew. (Done after the run, not before the next one,
   * so that an input set by clcnn_session_set_input_buffer() is not replaced
   * by the stale host copy.) */
  for (int k = 0; s->ocl && k < s->g.ninputs; k++) ocl_session_host_wrote(s, s->g.inputs[k]);
#endif
  return st;
}

clcnn_status clcnn_session_input(const clcnn_session *s, const char *name, clcnn_tensor *view) {
  if (!s || !name || !view) {
    clcnn_err err;
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_session_input: NULL argument");
    return api_fail(&err);
  }
  int v = find_graph_input(&s->g, name);
  if (v < 0) v = find_graph_output(&s->g, name);
  if (v < 0) return session_fail(s, CLCNN_ERROR_NOT_FOUND, "no input or output '%s'", name);
  *view = s->g.values[v].t;
  view->data = NULL;
  return CLCNN_OK;
}

clcnn_status clcnn_session_output(const clcnn_session *s, const char *name, clcnn_tensor *view) {
  if (!s || !name || !view) {
    clcnn_err err;
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_session_output: NULL argument");
    return api_fail(&err);
  }
  int v = find_graph_output(&s->g, name);
  if (v < 0) return session_fail(s, CLCNN_ERROR_NOT_FOUND, "the model has no output '%s'", name);
  if (!s->ran && !s->g.values[v].is_const)
    return session_fail(s, CLCNN_ERROR_INVALID_ARGUMENT,
                        "output '%s' is not computed yet: call clcnn_session_run() first", name);
#if CLCNN_HAVE_OPENCL
  if (s->ocl) {
    clcnn_err e = {0};
    /* Reading the output back is the only change: the session stays usable
     * by its one thread as before. */
    if (ocl_session_to_host((clcnn_session *)s, v, &e))
      return session_fail(s, e.status, "output '%s': %s", name, e.msg);
  }
#endif
  *view = value_tensor(s, v);
  return CLCNN_OK;
}

clcnn_status clcnn_session_memory(const clcnn_session *s, size_t *host, size_t *device) {
  if (!s) {
    clcnn_err err;
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_session_memory: NULL session");
    return api_fail(&err);
  }
  if (host) *host = s->arena_bytes + s->const_bytes;
  if (device) *device = 0;
#if CLCNN_HAVE_OPENCL
  if (device) *device = ocl_session_device_bytes(s);
#endif
  return CLCNN_OK;
}

clcnn_status clcnn_session_profile(const clcnn_session *s, const clcnn_profile_entry **entries,
                                   int *count) {
  if (!s || !entries || !count) {
    clcnn_err err;
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_session_profile: NULL argument");
    return api_fail(&err);
  }
  if (!s->profile)
    return session_fail(s, CLCNN_ERROR_INVALID_ARGUMENT,
                        "profiling is off: create the session with options.profile = 1");
  *entries = s->prof;
  *count = s->nprof;
  return CLCNN_OK;
}
