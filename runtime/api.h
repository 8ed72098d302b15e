/* The objects behind the public handles, and the pipeline stages a session
 * runs through. Internal: tools and tests may include it, applications not. */
#ifndef CLCNN_API_H
#define CLCNN_API_H

#include <pthread.h>

#include "internal.h"

struct clcnn_context {
  clcnn_options opts;
  char *cache_dir;        /* copy of opts.cache_dir */
};

struct clcnn_model {
  clcnn_context *ctx;
  ir_graph g;             /* imported, parsed; immutable after load */
  char *base_dir;         /* where external data was read from (may be NULL) */
  clcnn_io_info *inputs, *outputs;
  int ninputs, noutputs;
  char *problems;         /* unsupported operators/attributes (permissive loads), or NULL */
};

/* One buffer of a value in the CPU arena, SIZE_MAX when the value has none. */
typedef struct session_value {
  size_t offset;
  size_t bytes;
} session_value;

typedef struct ocl_session ocl_session; /* host/: the OpenCL side of a session */

struct clcnn_session {
  const clcnn_model *model;
  clcnn_context *ctx;
  ir_graph g;                 /* the model's graph bound to concrete shapes */
  clcnn_err err;
  char device[256];
  bool strict, profile, ran;
  cpu_node *cpu;              /* per node (state of CPU kernels) */
  bool *cpu_prepared;
  session_value *val;         /* per value */
  uint8_t *arena;             /* CPU activations */
  size_t arena_bytes, const_bytes;
  ocl_session *ocl;           /* NULL when everything runs on the CPU backend */
  char **fallback_reason;     /* per node on the CPU although a device was chosen: why */
  void *user_cl_context;      /* the application's cl_context / cl_command_queue */
  void *user_cl_queue;        /* (clcnn_session_create_opencl), else NULL */
  clcnn_profile_entry *prof;  /* per live node when profiling */
  int nprof;
  char **prof_text;           /* strings the profile entries point to */
};

/* Logging through the context's callback (never to stdout/stderr). */
void ctx_log(const clcnn_context *ctx, clcnn_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records `err` as the calling thread's last error; returns its status. */
clcnn_status api_fail(const clcnn_err *err);

/* Loads a model. With `permissive`, unsupported operators do not fail the
 * load: they are kept (op = -1) and listed in model->problems, which is what
 * `clcnn info` needs. */
clcnn_status model_load(clcnn_context *ctx, const void *data, size_t size, const char *base_dir,
                        bool permissive, clcnn_model **out, clcnn_err *err);

/* Pipeline stages (runtime/infer.c, runtime/passes.c). */
/* Shape inference in topological order, folding every node whose inputs are
 * all constant by running it on the CPU backend. */
clcnn_status graph_infer(ir_graph *g, clcnn_err *err);
/* Optimisation passes on an inferred graph: identity/dropout removal,
 * Conv+BatchNormalization folding, activation fusion, dead node removal. */
clcnn_status graph_optimize(ir_graph *g, clcnn_err *err);
/* Number of live nodes reading value v (graph outputs count as a reader). */
int graph_readers(const ir_graph *g, int v);

/* Memory planning (runtime/plan.c): one arena, offsets reused between
 * buffers whose lifetimes [first, last] (node steps) do not overlap. */
typedef struct plan_item {
  size_t bytes;
  int first, last;
} plan_item;
clcnn_status plan_arena(const plan_item *items, int n, size_t alignment, size_t *offsets,
                        size_t *total, clcnn_err *err);

#endif
