/* Public API: context, errors, models. Sessions are in session.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "backend.h"
#include "clcnn_config.h"
#include "onnx_io.h"

static _Thread_local char last_error[CLCNN_ERR_MAX];

clcnn_status api_fail(const clcnn_err *err) {
  snprintf(last_error, sizeof last_error, "%s", err->msg);
  return err->status ? err->status : CLCNN_ERROR_INTERNAL;
}

const char *clcnn_last_error(void) { return last_error; }

const char *clcnn_version(void) { return CLCNN_VERSION_STRING; }

const char *clcnn_status_str(clcnn_status s) {
  switch (s) {
    case CLCNN_OK: return "ok";
    case CLCNN_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case CLCNN_ERROR_IO: return "input/output error";
    case CLCNN_ERROR_INVALID_MODEL: return "invalid model";
    case CLCNN_ERROR_UNSUPPORTED: return "unsupported";
    case CLCNN_ERROR_SHAPE: return "shape mismatch";
    case CLCNN_ERROR_OUT_OF_MEMORY: return "out of memory";
    case CLCNN_ERROR_DEVICE: return "device error";
    case CLCNN_ERROR_KERNEL_BUILD: return "kernel build failed";
    case CLCNN_ERROR_NOT_FOUND: return "not found";
    case CLCNN_ERROR_INTERNAL: return "internal error";
    case CLCNN_ERROR_CANCELLED: return "cancelled";
  }
  return "unknown status";
}

void ctx_log(const clcnn_context *ctx, clcnn_log_level level, const char *fmt, ...) {
  if (!ctx || !ctx->opts.log || level > ctx->opts.log_level) return;
  char buf[CLCNN_ERR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  ctx->opts.log(ctx->opts.log_user, level, buf);
}

/* ---------------------------------------------------------------- context */

void clcnn_options_default(clcnn_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->log_level = CLCNN_LOG_WARNING;
}

clcnn_status clcnn_context_create(const clcnn_options *opts, clcnn_context **out) {
  clcnn_err err = {0};
  if (!out) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_context_create: out is NULL");
    return api_fail(&err);
  }
  *out = NULL;
  clcnn_options o;
  clcnn_options_default(&o);
  if (opts) {
    if (opts->size < offsetof(clcnn_options, size) + sizeof(size_t) || opts->size > sizeof o) {
      err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT,
              "clcnn_options.size is %zu: fill the struct with clcnn_options_default()",
              opts->size);
      return api_fail(&err);
    }
    memcpy(&o, opts, opts->size);
    o.size = sizeof o;
  }
  if ((o.allocator.alloc || o.allocator.free) && !(o.allocator.alloc && o.allocator.free)) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "allocator: set both alloc and free, or neither");
    return api_fail(&err);
  }
  if (o.num_threads < 0) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "num_threads must be >= 0");
    return api_fail(&err);
  }
  clcnn_context *ctx = calloc(1, sizeof *ctx);
  if (!ctx) {
    err_set(&err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    return api_fail(&err);
  }
  ctx->opts = o;
  pthread_mutex_init(&ctx->attached.lock, NULL);
  if (o.cache_dir && !(ctx->cache_dir = strdup(o.cache_dir))) {
    pthread_mutex_destroy(&ctx->attached.lock);
    free(ctx);
    err_set(&err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    return api_fail(&err);
  }
  ctx->opts.cache_dir = ctx->cache_dir;
  *out = ctx;
  return CLCNN_OK;
}

/* ------------------------------------------------------------ attachments */

static void *attachment_get(attachment_list *l, const void *key, attachment_create_fn create,
                            void *arg, attachment_free_fn release) {
  void *obj = NULL;
  pthread_mutex_lock(&l->lock);
  for (int i = 0; i < l->count && !obj; i++)
    if (l->items[i].key == key) obj = l->items[i].obj;
  if (!obj && (l->count < ATTACHMENT_MAX) && (obj = create(arg)))
    l->items[l->count++] = (attachment){key, obj, release};
  pthread_mutex_unlock(&l->lock);
  return obj;
}

static void attachments_free(attachment_list *l) {
  /* Last attached first: a later attachment may refer to an earlier one. */
  for (int i = l->count - 1; i >= 0; i--) l->items[i].release(l->items[i].obj);
  l->count = 0;
  pthread_mutex_destroy(&l->lock);
}

void *context_attachment(clcnn_context *ctx, const void *key, attachment_create_fn create,
                         void *arg, attachment_free_fn release) {
  return attachment_get(&ctx->attached, key, create, arg, release);
}

void *model_attachment(const clcnn_model *model, const void *key, attachment_create_fn create,
                       void *arg, attachment_free_fn release) {
  /* The model stays immutable for its users: only this list changes, under its lock. */
  return attachment_get(&((clcnn_model *)model)->attached, key, create, arg, release);
}

void clcnn_context_free(clcnn_context *ctx) {
  if (!ctx) return;
  attachments_free(&ctx->attached);
  free(ctx->cache_dir);
  free(ctx);
}

/* ------------------------------------------------------------------ model */

static void fill_io(const ir_graph *g, int v, clcnn_io_info *info) {
  const ir_value *val = &g->values[v];
  memset(info, 0, sizeof *info);
  info->name = val->name;
  info->dtype = val->t.dtype;
  info->rank = val->t.rank;
  for (int i = 0; i < val->t.rank && i < CLCNN_MAX_RANK; i++) {
    info->dims[i] = val->t.dims[i];
    info->dim_names[i] = val->dim_names[i];
  }
}

clcnn_status model_load(clcnn_context *ctx, const void *data, size_t size, void *owned,
                        const char *base_dir, bool permissive, clcnn_model **out, clcnn_err *err) {
  *out = NULL;
  clcnn_model *m = calloc(1, sizeof *m);
  if (!m) {
    free(owned);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  m->ctx = ctx;
  pthread_mutex_init(&m->attached.lock, NULL);
  if (base_dir && !(m->base_dir = strdup(base_dir))) {
    free(owned);
    pthread_mutex_destroy(&m->attached.lock);
    free(m);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  clcnn_err problems = {0};
  clcnn_status st = onnx_import_model(data, size, owned, base_dir, &m->g, &problems, err);
  if (st == CLCNN_OK && problems.status) {
    if (!permissive) {
      st = err_set(err, problems.status, "the model cannot run: %s", problems.msg);
    } else if (!(m->problems = strdup(problems.msg))) {
      st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    }
  }
  if (st == CLCNN_OK) st = graph_lower_float16(&m->g, err);
  /* Once per model what needs no shapes (BatchNormalization folded into
   * the Conv before it): sessions then share the folded weights, which
   * device backends find again by address instead of hashing them. */
  if (st == CLCNN_OK) st = graph_fold_at_load(&m->g, err);
  if (st == CLCNN_OK) {
    m->ninputs = m->g.ninputs;
    m->noutputs = m->g.noutputs;
    m->inputs = calloc((size_t)m->ninputs + 1, sizeof *m->inputs);
    m->outputs = calloc((size_t)m->noutputs + 1, sizeof *m->outputs);
    if (!m->inputs || !m->outputs) st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  if (st) {
    clcnn_model_free(m);
    return st;
  }
  for (int i = 0; i < m->ninputs; i++) fill_io(&m->g, m->g.inputs[i], &m->inputs[i]);
  for (int i = 0; i < m->noutputs; i++) fill_io(&m->g, m->g.outputs[i], &m->outputs[i]);
  *out = m;
  return CLCNN_OK;
}

clcnn_status clcnn_model_load_memory(clcnn_context *ctx, const void *data, size_t size,
                                     const char *base_dir, clcnn_model **out) {
  clcnn_err err = {0};
  if (out) *out = NULL;
  if (!ctx || !out || (!data && size)) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_model_load_memory: NULL argument");
    return api_fail(&err);
  }
  if (model_load(ctx, data, size, NULL, base_dir, false, out, &err)) {
    ctx_log(ctx, CLCNN_LOG_ERROR, "%s", err.msg);
    return api_fail(&err);
  }
  return CLCNN_OK;
}

clcnn_status clcnn_model_load_file(clcnn_context *ctx, const char *path, clcnn_model **out) {
  clcnn_err err = {0};
  if (out) *out = NULL;
  if (!ctx || !path || !out) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_model_load_file: NULL argument");
    return api_fail(&err);
  }
  void *data;
  size_t size;
  if (onnx_read_file(path, &data, &size, &err)) return api_fail(&err);
  /* External data lives beside the model. */
  char *dir = strdup(path);
  if (!dir) {
    free(data);
    err_set(&err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    return api_fail(&err);
  }
  char *slash = strrchr(dir, '/');
  if (slash == dir) slash[1] = 0;
  else if (slash) *slash = 0;
  else strcpy(dir, ".");
  clcnn_status st = model_load(ctx, data, size, data, dir, false, out, &err);
  free(dir);
  if (st) {
    char msg[CLCNN_ERR_MAX];
    snprintf(msg, sizeof msg, "%s", err.msg);
    err_set(&err, st, "%s: %s", path, msg);
    ctx_log(ctx, CLCNN_LOG_ERROR, "%s", err.msg);
    return api_fail(&err);
  }
  return CLCNN_OK;
}

void clcnn_model_free(clcnn_model *m) {
  if (!m) return;
  attachments_free(&m->attached); /* device copies of its weights */
  ir_graph_free(&m->g);
  free(m->inputs);
  free(m->outputs);
  free(m->base_dir);
  free(m->problems);
  free(m);
}

int clcnn_model_input_count(const clcnn_model *m) { return m ? m->ninputs : 0; }
int clcnn_model_output_count(const clcnn_model *m) { return m ? m->noutputs : 0; }

clcnn_status clcnn_model_input_info(const clcnn_model *m, int i, clcnn_io_info *info) {
  clcnn_err err = {0};
  if (!m || !info || i < 0 || i >= m->ninputs) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_model_input_info: bad argument or index %d",
            i);
    return api_fail(&err);
  }
  *info = m->inputs[i];
  return CLCNN_OK;
}

clcnn_status clcnn_model_output_info(const clcnn_model *m, int i, clcnn_io_info *info) {
  clcnn_err err = {0};
  if (!m || !info || i < 0 || i >= m->noutputs) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT,
            "clcnn_model_output_info: bad argument or index %d", i);
    return api_fail(&err);
  }
  *info = m->outputs[i];
  return CLCNN_OK;
}

clcnn_status clcnn_model_input_needs_value(const clcnn_model *m, int i, int *needed) {
  clcnn_err err = {0};
  if (!m || !needed || i < 0 || i >= m->ninputs) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT,
            "clcnn_model_input_needs_value: bad argument or index %d", i);
    return api_fail(&err);
  }
  bool *need = malloc(sizeof(bool) * (size_t)(m->g.nvalues ? m->g.nvalues : 1));
  if (!need) {
    err_set(&err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    return api_fail(&err);
  }
  graph_value_inputs(&m->g, need);
  *needed = need[m->g.inputs[i]] ? 1 : 0;
  free(need);
  return CLCNN_OK;
}
