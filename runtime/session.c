/* Sessions: a model bound to devices and concrete input shapes.
 * create: clone graph -> bind input shapes -> infer + fold -> passes ->
 *         open backends -> schedule (runtime/sched.c: partition, transfers,
 *         memory plan, constants)
 * run:    the schedule's steps in order. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "image.h"
#include "clcnn_config.h"
#if CLCNN_HAVE_OPENCL
#include "clcnn_opencl.h"
#endif

static clcnn_status session_fail(const clcnn_session *cs, clcnn_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

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

/* NOT_FOUND for an input the model does not have, listing those it has. */
static clcnn_status no_such_input(const ir_graph *g, const char *name, clcnn_err *err) {
  char names[1024] = "";
  for (int k = 0; k < g->ninputs; k++) {
    size_t l = strlen(names);
    snprintf(names + l, sizeof names - l, "%s'%s'", k ? ", " : "", g->values[g->inputs[k]].name);
  }
  return err_set(err, CLCNN_ERROR_NOT_FOUND, "the model has no input '%s' (its inputs: %s)", name,
                 names);
}

/* Whether a shape fits input `val` of the model: its rank (where the model
 * gives one) and every fixed dimension. */
static clcnn_status check_input_shape(const ir_graph *g, const ir_value *val, int rank,
                                      const int64_t *dims, clcnn_err *err) {
  if (rank < 0 || rank > CLCNN_MAX_RANK || (val->t.rank != rank && val->t.rank > 0))
    return err_set(err, CLCNN_ERROR_SHAPE, "input '%s' has rank %d in the model, not %d",
                   val->name, val->t.rank, rank);
  for (int d = 0; d < rank; d++) {
    int64_t want = dims[d];
    if (want < 0 || want > ((int64_t)1 << 31))
      return err_set(err, CLCNN_ERROR_SHAPE, "input '%s': dimension %d = %lld is invalid",
                     val->name, d, (long long)want);
    if (val->t.rank && val->t.dims[d] >= 0 && val->t.dims[d] != want)
      return err_set(err, CLCNN_ERROR_SHAPE,
                     "input '%s': dimension %d is fixed to %lld by the model, not %lld", val->name,
                     d, (long long)val->t.dims[d], (long long)want);
  }
  int64_t numel;
  if (!shape_numel_within(rank, dims, graph_max_elements(g), &numel))
    return err_set(err, CLCNN_ERROR_SHAPE, "input '%s': %s has more than %s elements", val->name,
                   shape_str(rank, dims, (char[128]){0}, 128),
                   elements_str(graph_max_elements(g), (char[32]){0}, 32));
  return CLCNN_OK;
}

/* Inputs given a value at creation (clcnn_session_options.bound_inputs)
 * become constants of the session's graph (copied) and leave its list of
 * inputs; s->bound keeps them for clcnn_session_set_input() and
 * clcnn_session_input(). */
static clcnn_status bind_values(clcnn_session *s, const clcnn_bound_input *b, int nb,
                                clcnn_err *err) {
  ir_graph *g = &s->g;
  if (nb < 0 || (nb > 0 && !b))
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT,
                   "bound_inputs is NULL or bound_input_count (%d) is negative", nb);
  if (nb && !(s->bound = malloc(sizeof(int) * (size_t)nb)))
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  for (int i = 0; i < nb; i++) {
    const clcnn_tensor *t = &b[i].value;
    if (!b[i].name)
      return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "bound input %d has no name", i);
    for (int k = 0; k < s->nbound; k++)
      if (!strcmp(g->values[s->bound[k]].name, b[i].name))
        return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "input '%s' is bound twice",
                       b[i].name);
    int v = find_graph_input(g, b[i].name);
    if (v < 0) return no_such_input(g, b[i].name, err);
    ir_value *val = &g->values[v];
    if (t->dtype != val->t.dtype)
      return err_set(err, CLCNN_ERROR_SHAPE, "bound input '%s' is %s, the model's input is %s",
                     val->name, dtype_name(t->dtype), dtype_name(val->t.dtype));
    clcnn_status st = check_input_shape(g, val, t->rank, t->dims, err);
    if (st) return st;
    if (val->shape_known) { /* the caller's shapes name it too */
      bool same = val->t.rank == t->rank;
      for (int d = 0; same && d < t->rank; d++) same = val->t.dims[d] == t->dims[d];
      if (!same)
        return err_set(err, CLCNN_ERROR_SHAPE,
                       "input '%s': the bound value is %s, the shape given for it %s", val->name,
                       shape_str(t->rank, t->dims, (char[128]){0}, 128),
                       shape_str(val->t.rank, val->t.dims, (char[128]){0}, 128));
    }
    size_t bytes = (size_t)clcnn_tensor_numel(t) * dtype_size(t->dtype);
    if (bytes && !t->data)
      return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "bound input '%s': data is NULL",
                     val->name);
    void *copy = malloc(bytes ? bytes : 1);
    if (!copy) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    if (bytes) memcpy(copy, t->data, bytes);
    ir_set_const(val, t->dtype, t->rank, t->dims, copy);
    val->is_input = false;
    s->bound[s->nbound++] = v;
    int kept = 0;
    for (int k = 0; k < g->ninputs; k++)
      if (g->inputs[k] != v) g->inputs[kept++] = g->inputs[k];
    g->ninputs = kept;
  }
  return CLCNN_OK;
}

/* Concrete shapes for every graph input: the caller's, else the model's with
 * open dimensions set to 1; values for the bound ones. */
static clcnn_status bind_inputs(clcnn_session *s, const clcnn_input_shape *shapes, int nshapes,
                                const clcnn_session_options *o, clcnn_err *err) {
  ir_graph *g = &s->g;
  for (int i = 0; i < nshapes; i++) {
    if (!shapes[i].name)
      return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "input shape %d has no name", i);
    int v = find_graph_input(g, shapes[i].name);
    if (v < 0) return no_such_input(g, shapes[i].name, err);
    ir_value *val = &g->values[v];
    clcnn_status st = check_input_shape(g, val, shapes[i].rank, shapes[i].dims, err);
    if (st) return st;
    ir_set_shape(val, val->t.dtype, shapes[i].rank, shapes[i].dims);
  }
  clcnn_status st = bind_values(s, o->bound_inputs, o->bound_input_count, err);
  if (st) return st;
  for (int i = 0; i < g->ninputs; i++) {
    ir_value *val = &g->values[g->inputs[i]];
    if (val->shape_known) continue;
    int64_t dims[CLCNN_MAX_RANK];
    for (int d = 0; d < val->t.rank; d++) dims[d] = val->t.dims[d] >= 0 ? val->t.dims[d] : 1;
    int64_t numel;
    if (!shape_numel_within(val->t.rank, dims, graph_max_elements(g), &numel))
      return err_set(err, CLCNN_ERROR_SHAPE, "input '%s': %s has more than %s elements",
                     val->name, shape_str(val->t.rank, dims, (char[128]){0}, 128),
                     elements_str(graph_max_elements(g), (char[32]){0}, 32));
    ir_set_shape(val, val->t.dtype, val->t.rank, dims);
  }
  for (int i = 0; i < g->nvalues; i++) /* constants know their shape */
    if (g->values[i].is_const) g->values[i].shape_known = true;
  return CLCNN_OK;
}

/* The value index of input `name` if it was bound at creation, else -1. */
static int find_bound_input(const clcnn_session *s, const char *name) {
  for (int k = 0; k < s->nbound; k++)
    if (!strcmp(s->g.values[s->bound[k]].name, name)) return s->bound[k];
  return -1;
}

int context_threads(const clcnn_context *ctx) {
  if (ctx->opts.num_threads > 0) return ctx->opts.num_threads;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

static clcnn_status add_backend(clcnn_session *s, backend *b, clcnn_err *err) {
  if (s->nbackends == SESSION_MAX_BACKENDS) {
    b->ops->destroy(b);
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "at most %d devices in one session",
                   SESSION_MAX_BACKENDS - 1);
  }
  for (int i = 0; i < s->nbackends; i++)
    if (!strcmp(s->backends[i]->name, b->name)) {
      clcnn_status st = err_set(err, CLCNN_ERROR_INVALID_ARGUMENT,
                                "device %s (%s) is listed twice", b->name, b->device);
      b->ops->destroy(b);
      return st;
    }
  s->backends[s->nbackends++] = b;
  return CLCNN_OK;
}

/* The session's backends: the devices of the list in `spec` (or the
 * application's queue), then the CPU backend, which takes what they cannot
 * run. */
static clcnn_status open_backends(clcnn_session *s, const char *spec, void *native_ctx,
                                  void *native_queue, clcnn_err *err) {
  backend_open_args a = {.ctx = s->ctx, .model = s->model, .nnodes = s->g.nnodes,
                         .nvalues = s->g.nvalues, .threads = context_threads(s->ctx),
                         .profile = s->profile, .cache_dir = s->ctx->opts.cache_dir,
                         .disable_cache = s->ctx->opts.disable_cache != 0};
  clcnn_status st;
  backend *b = NULL;
  s->native = -1;
  if (native_queue) {
    if ((st = device_backend_open_native(native_ctx, native_queue, &a, &b, err))) return st;
    s->native = 0;
    if ((st = add_backend(s, b, err))) return st;
  } else {
    /* A device id may hold commas: a spec that is one id is not a list. */
    const clcnn_device_info *devs;
    int ndev = 0;
    bool one_id = false;
    if (strchr(spec, ',') && clcnn_devices(&devs, &ndev) == CLCNN_OK)
      for (int i = 0; i < ndev; i++) one_id |= !strcmp(devs[i].id, spec);
    if (one_id) {
      if ((st = device_backend_open(spec, &a, &b, err))) return st;
      if (b && (st = add_backend(s, b, err))) return st;
      spec = "cpu"; /* the list below then adds nothing */
    }
    char list[1024];
    if (strlen(spec) >= sizeof list)
      return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "the device list is too long");
    strcpy(list, spec);
    char *save = NULL;
    int entries = 0;
    for (char *e = strtok_r(list, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
      while (*e == ' ') e++;
      entries++;
      if (!strcmp(e, "cpu")) continue;
      b = NULL;
      if ((st = device_backend_open(e, &a, &b, err))) return st;
      if (!b) { /* "best" without any device: the CPU backend */
        if (s->strict)
          return err_set(err, CLCNN_ERROR_DEVICE, "strict mode: no OpenCL device found for '%s'",
                         e);
        continue;
      }
      if ((st = add_backend(s, b, err))) return st;
    }
    if (!entries) return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "empty device list '%s'", spec);
  }
  if (s->nbackends == 1) snprintf(s->backends[0]->name, sizeof s->backends[0]->name, "opencl");
  s->device[0] = 0;
  for (int i = 0; i < s->nbackends; i++) {
    size_t at = strlen(s->device);
    snprintf(s->device + at, sizeof s->device - at, "%s%s", i ? ", " : "", s->backends[i]->device);
  }
  if ((st = cpu_backend_open(&a, &b, err))) return st;
  s->host = s->nbackends;
  if ((st = add_backend(s, b, err))) return st;
  if (s->nbackends == 1) snprintf(s->device, sizeof s->device, "cpu");
  return CLCNN_OK;
}

static clcnn_status session_build(clcnn_session *s, const clcnn_session_options *o,
                                  const clcnn_input_shape *shapes, int nshapes, void *native_ctx,
                                  void *native_queue, clcnn_err *err) {
  clcnn_status st = ir_graph_clone(&s->model->g, &s->g, err);
  if (st) return st;
  s->g.max_elements = o->max_tensor_elements;
  if ((st = bind_inputs(s, shapes, nshapes, o, err))) return st;
  if (o->image_input_count < 0 || o->image_input_count > SESSION_MAX_IMAGE_INPUTS ||
      (o->image_input_count && !o->image_inputs))
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT,
                   "clcnn_session_options: %d image inputs (at most %d, and a list of them)",
                   o->image_input_count, SESSION_MAX_IMAGE_INPUTS);
  for (int i = 0; i < o->image_input_count; i++)
    if ((st = image_input_graph(&s->g, &o->image_inputs[i], &s->image_inputs[s->nimage_inputs++],
                                err)))
      return st;
  if ((st = graph_infer(&s->g, err))) return st;
  if ((st = graph_optimize(&s->g, err))) return st;
  const char *dev = o->device;
  if (!dev || !dev[0]) dev = getenv("CLCNN_DEVICE");
  if (!dev || !dev[0]) dev = "best";
  if ((st = open_backends(s, dev, native_ctx, native_queue, err))) return st;
  if ((st = graph_fuse_residual(&s->g, err))) return st;
  if ((st = sched_build(s, err))) return st;
  for (int v = 0; v < s->g.nvalues; v++)
    if (s->g.values[v].owns_data)
      s->const_bytes += (size_t)shape_numel(s->g.values[v].t.rank, s->g.values[v].t.dims) *
                        dtype_size(s->g.values[v].t.dtype);
  return CLCNN_OK;
}

static clcnn_status session_create(const clcnn_model *model, const clcnn_session_options *opts,
                                   void *cl_ctx, void *cl_queue, const clcnn_input_shape *shapes,
                                   int shape_count, clcnn_session **out);

/* A calibration input: a fixed pseudo-random pattern (uniform in [-1, 1)
 * for floats, 0..255 for 8-bit integers, 0 for other types). */
static void calibration_pattern(clcnn_tensor *t) {
  uint32_t r = 0x2545f491u;
  const int64_t count = clcnn_tensor_numel(t);
  const size_t es = dtype_size(t->dtype);
  memset(t->data, 0, (size_t)count * es);
  for (int64_t i = 0; i < count; i++) {
    r = r * 1664525u + 1013904223u;
    const float f = (float)(r >> 8) / 8388608.0f - 1.0f;
    if (t->dtype == CLCNN_DTYPE_FLOAT32) ((float *)t->data)[i] = f;
    else if (t->dtype == CLCNN_DTYPE_FLOAT16) ((uint16_t *)t->data)[i] = f16_from_double(f);
    else if (es == 1 && t->dtype != CLCNN_DTYPE_BOOL) ((uint8_t *)t->data)[i] = (uint8_t)(r >> 24);
  }
}

/* CLCNN_PRECISION_AUTO: a session with half storage wherever possible runs
 * once in verify mode on the calibration inputs; every device node whose
 * output is past the tolerance is marked to keep float32 (force_fp32, per
 * node of the session graph, which the same model, options and shapes
 * build again identically). */
static clcnn_status calibrate(const clcnn_model *model, const clcnn_session_options *o,
                              void *cl_ctx, void *cl_queue, const clcnn_input_shape *shapes,
                              int shape_count, bool **force, clcnn_err *err) {
  *force = NULL;
  clcnn_session_options co = *o;
  co.precision = CLCNN_PRECISION_FP16;
  co.verify = 1;
  co.verify_tolerance = o->precision_tolerance > 0 ? o->precision_tolerance : 1e-2;
  co.profile = 0;
  co.cancel = NULL;
  clcnn_session *c = NULL;
  clcnn_status st = session_create(model, &co, cl_ctx, cl_queue, shapes, shape_count, &c);
  if (st) return err_set(err, st, "precision auto, calibration session: %s", clcnn_last_error());
  void *data = NULL;
  for (int k = 0; k < c->g.ninputs && !st; k++) {
    const ir_value *v = &c->g.values[c->g.inputs[k]];
    const clcnn_tensor *given = NULL;
    for (int j = 0; j < o->calibration_input_count && !given; j++)
      if (o->calibration_inputs[j].name && !strcmp(o->calibration_inputs[j].name, v->name))
        given = &o->calibration_inputs[j].value;
    clcnn_tensor t;
    if ((st = clcnn_session_input(c, v->name, &t))) break;
    if (!given) {
      free(data);
      data = malloc((size_t)clcnn_tensor_numel(&t) * dtype_size(t.dtype) + 1);
      if (!data) {
        st = CLCNN_ERROR_OUT_OF_MEMORY;
        break;
      }
      t.data = data;
      calibration_pattern(&t);
      given = &t;
    }
    st = clcnn_session_set_input(c, v->name, given);
  }
  free(data);
  if (st) {
    err_set(err, st, "precision auto, calibration input: %s", clcnn_session_error(c));
    clcnn_session_free(c);
    return st;
  }
  if ((st = clcnn_session_run(c))) {
    err_set(err, st, "precision auto, calibration run: %s", clcnn_session_error(c));
    clcnn_session_free(c);
    return st;
  }
  *force = calloc((size_t)(c->g.nnodes ? c->g.nnodes : 1), sizeof(bool));
  if (!*force) st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  for (int e = 0; e < c->nver && !st; e++) {
    if (c->ver[e].ok) continue;
    for (int i = 0; i < c->g.nnodes; i++)
      if (c->g.nodes[i].name == c->ver[e].node) (*force)[i] = true;
    ctx_log(model->ctx, CLCNN_LOG_INFO, "precision auto: '%s' (%s) keeps float32 (error %.3g)",
            c->ver[e].node, c->ver[e].op, c->ver[e].error);
  }
  clcnn_session_free(c);
  return st;
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
  if (o.verify_tolerance < 0 || o.verify_tolerance != o.verify_tolerance) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "verify_tolerance must be >= 0");
    return api_fail(&err);
  }
  if (o.max_tensor_elements < 0) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "max_tensor_elements must be >= 0");
    return api_fail(&err);
  }
  if ((int)o.precision < CLCNN_PRECISION_FP32 || (int)o.precision > CLCNN_PRECISION_AUTO ||
      o.precision_tolerance < 0 || o.precision_tolerance != o.precision_tolerance ||
      o.calibration_input_count < 0 || (o.calibration_input_count && !o.calibration_inputs)) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT,
            "clcnn_session_options: precision %d (fp32 0, fp16 1, auto 2), precision_tolerance "
            ">= 0 and a list of calibration inputs are needed",
            (int)o.precision);
    return api_fail(&err);
  }
  if (model->problems) {
    err_set(&err, CLCNN_ERROR_UNSUPPORTED, "the model cannot run: %s", model->problems);
    return api_fail(&err);
  }
  bool *force = NULL;
  if (o.precision == CLCNN_PRECISION_AUTO) {
    clcnn_status cst = calibrate(model, &o, cl_ctx, cl_queue, shapes, shape_count, &force, &err);
    if (cst) {
      ctx_log(model->ctx, CLCNN_LOG_ERROR, "%s", err.msg);
      return api_fail(&err);
    }
  }
  clcnn_session *s = calloc(1, sizeof *s);
  if (!s) {
    free(force);
    err_set(&err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    return api_fail(&err);
  }
  s->precision = o.precision;
  s->force_fp32 = force;
  s->model = model;
  s->ctx = model->ctx;
  s->strict = o.strict != 0;
  s->profile = o.profile != 0;
  s->verify = o.verify != 0;
  s->cancel = o.cancel;
  s->verify_tolerance = o.verify_tolerance > 0 ? o.verify_tolerance : 1e-3;
  s->ver_first = -1;
  clcnn_status st = session_build(s, &o, shapes, shape_count, cl_ctx, cl_queue, &err);
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

/* Bytes of a value of the session's graph. */
static size_t value_size(const ir_value *v) {
  return (size_t)shape_numel(v->t.rank, v->t.dims) * dtype_size(v->t.dtype);
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
  if (s->native < 0)
    return session_fail(s, CLCNN_ERROR_INVALID_ARGUMENT,
                        "the session was not created with clcnn_session_create_opencl(): use "
                        "host tensors");
  *v = input ? find_graph_input(&s->g, name) : find_graph_output(&s->g, name);
  if (*v < 0 && input && find_bound_input(s, name) >= 0)
    return session_fail(s, CLCNN_ERROR_INVALID_ARGUMENT,
                        "input '%s' was bound to a value when the session was created", name);
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
  backend *b = s->backends[s->native];
  backend_tensor t = sched_tensor(s, v, s->native);
  size_t bytes = value_size(&s->g.values[v]);
  if (t.buf) { /* the device reads it: device to device, kept there */
    st = b->ops->native_copy(b, buffer, offset, &t, NULL, bytes, false, &e);
    if (!st) s->input_on[v] = 1u << s->native;
  } else if (!sched_tensor(s, v, s->host).buf) { /* nothing reads it: nothing to copy */
    s->input_on[v] = 1u << s->host;
  } else { /* only CPU nodes read it */
    backend_tensor h = sched_tensor(s, v, s->host);
    st = b->ops->native_copy(b, buffer, offset, NULL, (uint8_t *)h.buf + h.offset, bytes, false,
                             &e);
    if (!st) s->input_on[v] = 1u << s->host;
  }
  if (st) return session_fail(s, st, "input '%s': %s", name, e.msg);
  s->ran = false;
  return CLCNN_OK;
}

clcnn_status clcnn_session_get_output_buffer(clcnn_session *s, const char *name, cl_mem buffer,
                                             size_t offset) {
  int v;
  clcnn_status st = interop_value(s, name, buffer, false, &v);
  if (st) return st;
  clcnn_err e = {0};
  backend *b = s->backends[s->native];
  const ir_value *val = &s->g.values[v];
  size_t bytes = value_size(val);
  if (!val->is_const && !val->is_input && !val->dynamic && s->output_on[v] == s->native) {
    backend_tensor t = sched_tensor(s, v, s->native);
    st = b->ops->native_copy(b, buffer, offset, &t, NULL, bytes, true, &e);
  } else { /* computed on the CPU backend (or a constant): from the host */
    clcnn_tensor h;
    st = sched_value_to_host(s, v, &h, &e);
    bytes = (size_t)clcnn_tensor_numel(&h) * dtype_size(h.dtype); /* the actual shape's */
    if (!st && bytes) st = b->ops->native_copy(b, buffer, offset, NULL, h.data, bytes, true, &e);
  }
  if (st) return session_fail(s, st, "output '%s': %s", name, e.msg);
  return CLCNN_OK;
}

clcnn_status clcnn_session_opencl_queue(const clcnn_session *s, cl_context *context,
                                        cl_command_queue *queue) {
  int dev = s ? (s->native >= 0 ? s->native : (s->host > 0 ? 0 : -1)) : -1;
  if (!context || !queue || dev < 0 || !s->backends[dev]->ops->native) {
    clcnn_err err;
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT,
            "clcnn_session_opencl_queue: NULL argument or a CPU-backend session");
    return api_fail(&err);
  }
  void *c = NULL, *q = NULL;
  s->backends[dev]->ops->native(s->backends[dev], &c, &q);
  *context = (cl_context)c;
  *queue = (cl_command_queue)q;
  return CLCNN_OK;
}
#endif

void clcnn_session_free(clcnn_session *s) {
  if (!s) return;
  sched_free(s);
  for (int b = s->nbackends - 1; b >= 0; b--) s->backends[b]->ops->destroy(s->backends[b]);
  ir_graph_free(&s->g);
  free(s->bound);
  free(s->force_fp32);
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
  if (v < 0 && (v = find_bound_input(s, name)) >= 0) {
    const clcnn_tensor *c = &s->g.values[v].t;
    size_t bytes = (size_t)clcnn_tensor_numel(c) * dtype_size(c->dtype);
    bool same = t->dtype == c->dtype && t->rank == c->rank && (t->data || !bytes);
    for (int d = 0; same && d < c->rank; d++) same = t->dims[d] == c->dims[d];
    if (same && bytes) same = memcmp(t->data, c->data, bytes) == 0;
    if (same) return CLCNN_OK;
    return session_fail(s, CLCNN_ERROR_INVALID_ARGUMENT,
                        "input '%s' was bound to a value when the session was created "
                        "(bound_inputs): create a session for another value", name);
  }
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
  size_t bytes = value_size(val);
  if (!t->data && bytes)
    return session_fail(s, CLCNN_ERROR_INVALID_ARGUMENT, "input '%s': data is NULL", name);
  backend_tensor h = sched_tensor(s, v, s->host);
  if (bytes && h.buf) memcpy((uint8_t *)h.buf + h.offset, t->data, bytes); /* no buf: unread */
  s->input_on[v] = 1u << s->host;
  s->ran = false;
  return CLCNN_OK;
}

clcnn_status clcnn_session_set_input_image(clcnn_session *s, const char *name,
                                           const clcnn_image *img) {
  if (!s || !name || !img) {
    clcnn_err err;
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_session_set_input_image: NULL argument");
    return s ? session_fail(s, err.status, "%s", err.msg) : api_fail(&err);
  }
  int v = find_graph_input(&s->g, name);
  if (v < 0) return session_fail(s, CLCNN_ERROR_NOT_FOUND, "the model has no input '%s'", name);
  bool image = false;
  for (int i = 0; i < s->nimage_inputs; i++) image |= s->image_inputs[i] == v;
  if (!image)
    return session_fail(s, CLCNN_ERROR_INVALID_ARGUMENT,
                        "input '%s' takes tensors: name it in clcnn_session_options.image_inputs "
                        "to give it images",
                        name);
  clcnn_err err = {0};
  size_t stride;
  if (image_check(img, &stride, &err)) return session_fail(s, err.status, "%s", err.msg);
  const clcnn_tensor *t = &s->g.values[v].t;
  clcnn_pixel_type want = t->dtype == CLCNN_DTYPE_UINT8 ? CLCNN_PIXEL_UINT8 : CLCNN_PIXEL_FLOAT32;
  if (img->type != want || img->channels != t->dims[3] || img->height != t->dims[1] ||
      img->width != t->dims[2])
    return session_fail(s, CLCNN_ERROR_SHAPE,
                        "image input '%s' takes %s images of %lldx%lld with %lld channels, not "
                        "%s %dx%d with %d",
                        name, want == CLCNN_PIXEL_UINT8 ? "8-bit" : "float", (long long)t->dims[2],
                        (long long)t->dims[1], (long long)t->dims[3],
                        img->type == CLCNN_PIXEL_UINT8 ? "8-bit"
                        : img->type == CLCNN_PIXEL_UINT16 ? "16-bit" : "float",
                        img->width, img->height, img->channels);
  size_t row = (size_t)img->width * (size_t)img->channels * dtype_size(t->dtype);
  clcnn_tensor in = *t;
  in.data = img->data;
  void *packed = NULL;
  if (stride != row) { /* rows apart: packed here first */
    if (!(packed = malloc(row * (size_t)img->height)))
      return session_fail(s, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory (an image of %dx%d)",
                          img->width, img->height);
    for (int y = 0; y < img->height; y++)
      memcpy((char *)packed + row * (size_t)y, (const char *)img->data + stride * (size_t)y, row);
    in.data = packed;
  }
  clcnn_status st = clcnn_session_set_input(s, name, &in);
  free(packed);
  return st;
}

clcnn_status clcnn_session_run(clcnn_session *s) {
  if (!s) {
    clcnn_err err;
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_session_run: NULL session");
    return api_fail(&err);
  }
  clcnn_err e = {0};
  s->ran = false;
  clcnn_status st = sched_run(s, &e);
  if (st) return session_fail(s, st, "%s", e.msg);
  s->ran = true;
  return CLCNN_OK;
}

clcnn_status clcnn_session_input(const clcnn_session *s, const char *name, clcnn_tensor *view) {
  if (!s || !name || !view) {
    clcnn_err err;
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_session_input: NULL argument");
    return api_fail(&err);
  }
  int v = find_graph_input(&s->g, name);
  if (v < 0) v = find_bound_input(s, name);
  if (v < 0) v = find_graph_output(&s->g, name);
  if (v < 0) return session_fail(s, CLCNN_ERROR_NOT_FOUND, "no input or output '%s'", name);
  const ir_value *val = &s->g.values[v];
  *view = val->t;
  clcnn_err e = {0};
  if (val->dynamic && !(s->ran && sched_value_to_host((clcnn_session *)s, v, view, &e) == CLCNN_OK)) {
    /* Known after a run: every dim -1, and the rank too where it is not known. */
    view->rank = val->shape_known ? val->t.rank : -1;
    for (int d = 0; d < CLCNN_MAX_RANK; d++) view->dims[d] = -1;
  }
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
  clcnn_err e = {0};
  /* Reading the output back is the only change: the session stays usable by
   * its one thread as before. */
  if (sched_value_to_host((clcnn_session *)s, v, view, &e))
    return session_fail(s, e.status, "output '%s': %s", name, e.msg);
  return CLCNN_OK;
}

clcnn_status clcnn_session_memory(const clcnn_session *s, size_t *host, size_t *device) {
  if (!s) {
    clcnn_err err;
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_session_memory: NULL session");
    return api_fail(&err);
  }
  size_t dev = 0;
  for (int b = 0; b < s->nbackends; b++) {
    size_t total = 0, shared = 0;
    s->backends[b]->ops->memory(s->backends[b], &total, &shared);
    if (b != s->host) dev += total + s->arena_bytes[b];
  }
  if (host) *host = s->arena_bytes[s->host] + s->const_bytes;
  if (device) *device = dev;
  return CLCNN_OK;
}

clcnn_status clcnn_session_memory_shared(const clcnn_session *s, size_t *shared_device) {
  if (!s || !shared_device) {
    clcnn_err err;
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_session_memory_shared: NULL argument");
    return api_fail(&err);
  }
  *shared_device = 0;
  for (int b = 0; b < s->nbackends; b++) {
    size_t total = 0, shared = 0;
    s->backends[b]->ops->memory(s->backends[b], &total, &shared);
    *shared_device += shared;
  }
  return CLCNN_OK;
}

clcnn_status clcnn_session_programs(const clcnn_session *s, int *compiled, int *loaded) {
  if (!s || !compiled || !loaded) {
    clcnn_err err;
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_session_programs: NULL argument");
    return api_fail(&err);
  }
  *compiled = *loaded = 0;
  for (int b = 0; b < s->nbackends; b++) {
    int c = 0, l = 0;
    if (s->backends[b]->ops->programs) s->backends[b]->ops->programs(s->backends[b], &c, &l);
    *compiled += c;
    *loaded += l;
  }
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

clcnn_status clcnn_session_verify_report(const clcnn_session *s, const clcnn_verify_entry **entries,
                                         int *count, int *first_failure) {
  if (!s || !entries || !count) {
    clcnn_err err;
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_session_verify_report: NULL argument");
    return api_fail(&err);
  }
  if (!s->verify)
    return session_fail(s, CLCNN_ERROR_INVALID_ARGUMENT,
                        "verify mode is off: create the session with options.verify = 1");
  if (!s->ran)
    return session_fail(s, CLCNN_ERROR_INVALID_ARGUMENT,
                        "no verified run yet: call clcnn_session_run() first");
  *entries = s->ver;
  *count = s->nver;
  if (first_failure) *first_failure = s->ver_first;
  return CLCNN_OK;
}
