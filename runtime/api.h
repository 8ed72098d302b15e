/* The objects behind the public handles, and the pipeline stages a session
 * runs through. Internal: tools and tests may include it, applications not. */
#ifndef CLCNN_API_H
#define CLCNN_API_H

#include <pthread.h>

#include "backend.h"
#include "internal.h"

/* State that backends share between sessions (runtime/backend.h). */
typedef struct attachment {
  const void *key;
  void *obj;
  void (*release)(void *obj);
} attachment;
#define ATTACHMENT_MAX 32
typedef struct attachment_list {
  pthread_mutex_t lock;
  attachment items[ATTACHMENT_MAX];
  int count;
} attachment_list;

struct clcnn_context {
  clcnn_options opts;
  char *cache_dir;        /* copy of opts.cache_dir */
  attachment_list attached; /* per device: contexts and compiled programs */
};

struct clcnn_model {
  clcnn_context *ctx;
  ir_graph g;             /* imported, parsed; immutable after load */
  char *base_dir;         /* where external data was read from (may be NULL) */
  clcnn_io_info *inputs, *outputs;
  int ninputs, noutputs;
  char *problems;         /* unsupported operators/attributes (permissive loads), or NULL */
  attachment_list attached; /* per device: the weights uploaded there */
};

/* ---------------------------------------------------------------- the plan */

#define SESSION_MAX_BACKENDS 8
#define SESSION_MAX_IMAGE_INPUTS 8

typedef enum sched_step_kind { STEP_NODE = 0, STEP_TRANSFER = 1 } sched_step_kind;

/* One step of a session's schedule (runtime/sched.c). */
typedef struct sched_step {
  sched_step_kind kind;
  int node;          /* STEP_NODE: the node */
  int value;         /* STEP_TRANSFER: the value moved */
  int backend;       /* STEP_NODE: where the node runs; STEP_TRANSFER: the destination */
  int from;          /* STEP_TRANSFER: the source */
  bool input_stage;  /* a graph input brought to `backend` at the start of a run: skipped
                        when `backend` still holds the input last set */
  bool in_place;     /* STEP_NODE: a Concat whose inputs the memory plan placed inside
                        its output: nothing to run */
} sched_step;

struct clcnn_session {
  const clcnn_model *model;
  clcnn_context *ctx;
  ir_graph g;                 /* the model's graph bound to concrete shapes */
  clcnn_err err;
  char device[256];
  bool strict, profile, verify, ran;
  const volatile int *cancel; /* the options' flag, read between steps (NULL: none) */
  int image_inputs[SESSION_MAX_IMAGE_INPUTS]; /* graph inputs that take images */
  int nimage_inputs;
  double verify_tolerance;
  clcnn_precision precision;  /* FP32 or FP16 (AUTO is FP16 with force_fp32 from calibration) */
  bool *force_fp32;           /* per node, or NULL: keeps float32 storage (auto precision) */
  /* Backends in the order nodes are offered to them; the CPU backend last. */
  backend *backends[SESSION_MAX_BACKENDS];
  int nbackends;
  int host;                   /* index of the CPU backend (host memory) */
  int native;                 /* index of the backend on the application's queue, or -1 */
  bool *host_prepared;        /* per node: the CPU backend prepared it (verify mode) */
  char **fallback_reason;     /* per node not on the first backend: why */
  sched_step *steps;
  int nsteps;
  void *arena[SESSION_MAX_BACKENDS];
  size_t arena_bytes[SESSION_MAX_BACKENDS];
  size_t *slot;               /* [v * nbackends + b]: offset in arena b, SIZE_MAX: none */
  backend_tensor *consts; /* [v * nbackends + b]: constant v on backend b */
  uint32_t *input_on;         /* per value: backends holding the graph input last set */
  int *output_on;             /* per value: the backend that holds a graph output after a run */
  bool *output_on_host;       /* per value: the host slot holds this run's output */
  size_t const_bytes;
  clcnn_profile_entry *prof;  /* per step when profiling */
  int nprof;
  char **prof_text;           /* strings the profile entries point to */
  clcnn_verify_entry *ver;    /* verify mode: per device node of the last run */
  int nver, ver_first;
  int *bound, nbound;         /* inputs bound to values at creation (now constants) */
  /* The per_run nodes (data-dependent shapes: runtime/sched.c): their graph,
   * its copy computed by the last run, and the value maps both ways. */
  ir_graph tail, tail_run;
  int *tail_map;              /* tail value -> session value; NULL: no tail */
  int *tail_of;               /* session value -> tail value, or -1 */
};

/* Precision (runtime/precision.c, DESIGN.md decision 10). Before the
 * partition prepares nodes: marks the values that a device will store as
 * half (ir_value.half), from the backends each node would be offered to
 * first. After it: unmarks what a fallback made impossible and prepares the
 * nodes that touch those values again. No-ops at FP32. */
void precision_mark(clcnn_session *s, const int *first_backend);
clcnn_status precision_repair(clcnn_session *s, clcnn_err *err);
/* A node's storage as text for info and profiles: "fp32", "fp16", or
 * "fp32>fp16" / "fp16>fp32" (its first input's, then its output's). */
const char *precision_of_node(const ir_graph *g, const ir_node *n);

/* Logging through the context's callback (never to stdout/stderr). */
void ctx_log(const clcnn_context *ctx, clcnn_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records `err` as the calling thread's last error; returns its status. */
clcnn_status api_fail(const clcnn_err *err);
/* The CPU threads of `ctx`: its num_threads option, else one per online CPU. */
int context_threads(const clcnn_context *ctx);

/* Loads a model. With `permissive`, unsupported operators do not fail the
 * load: they are kept (op = -1) and listed in model->problems, which is what
 * `clcnn info` needs. `owned`: see onnx_import_model() (freed in every
 * case; NULL when the caller keeps the buffer). */
clcnn_status model_load(clcnn_context *ctx, const void *data, size_t size, void *owned,
                        const char *base_dir, bool permissive, clcnn_model **out, clcnn_err *err);

/* Pipeline stages (runtime/infer.c, runtime/passes.c). */
/* Shape inference in topological order, folding every node whose inputs are
 * all constant by running it on the CPU backend. */
clcnn_status graph_infer(ir_graph *g, clcnn_err *err);
/* graph_infer() on a graph whose inputs are all constants, folding every
 * node whatever its size: how the per-run part of a session runs. */
clcnn_status graph_fold_all(ir_graph *g, clcnn_err *err);
/* needed[v] for every value v: its value (not only its shape) decides the
 * shapes or parameters of the graph at session creation, because it reaches
 * an op_front.value_inputs input through nodes that must then fold. Shape and
 * Size read only their input's shape. */
void graph_value_inputs(const ir_graph *g, bool *needed);
/* Optimisation passes on an inferred graph: identity/dropout removal,
 * Conv+BatchNormalization folding, activation fusion, dead node removal. */
clcnn_status graph_optimize(ir_graph *g, clcnn_err *err);
/* float16 computed in float32 (a session's fp16 precision is a storage
 * format on the device, runtime/precision.c; DESIGN.md decision 10),
 * applied to a model when it loads: float16 initializers and Constant/ConstantOfShape values are
 * widened to float32 (exactly), a Cast to float16 becomes a float32 Cast
 * that rounds through half (cast_params.round_half), a float16 graph input
 * is widened by a Cast that every reader reads instead, and a graph output
 * that the model declares float16 is narrowed by a last Cast. The model's
 * inputs and outputs keep their float16 type. The fp16 precision then
 * stores float32 values as half between the device layers that have it,
 * as it does for any float32 model. bfloat16, the float8 types and float4e2m1 are lowered
 * the same way (cast_params.round_bf16 / round_f8); a QuantizeLinear to or
 * DequantizeLinear from a float8 / float4 type works on float32 holding
 * that type's values (qdq_params.lowp), and a CastLike to a low type rounds
 * like the Cast. */
clcnn_status graph_lower_float16(ir_graph *g, clcnn_err *err);
/* Conv followed by an Add of a value of the same shape computed before it
 * (a residual connection): the Add's other operand becomes the Conv's
 * internal 4th input, added after the bias and before the activation, and
 * the Add's activation moves onto the Conv ("Conv+Add+Relu" in profiles).
 * The CPU backend's Conv and the OpenCL backend's (the gemm, direct and
 * im2col paths: host/ops/conv.c) read that input, so every session takes
 * this pass, before scheduling; depthwise convolutions keep their Add. */
clcnn_status graph_fuse_residual(ir_graph *g, clcnn_err *err);
/* What graph_optimize does that needs no shapes (Conv+BatchNormalization
 * folding), done once when a model loads so that its sessions share the
 * result. */
clcnn_status graph_fold_at_load(ir_graph *g, clcnn_err *err);
/* Number of live nodes reading value v (graph outputs count as a reader). */
int graph_readers(const ir_graph *g, int v);

/* The schedule (runtime/sched.c): partition the live nodes over
 * s->backends, insert transfers, plan one arena per backend from one liveness
 * analysis over the steps, bind constants. */
clcnn_status sched_build(clcnn_session *s, clcnn_err *err);
/* Runs every step; outputs stay where they were computed until read. */
clcnn_status sched_run(clcnn_session *s, clcnn_err *err);
/* Brings graph output (or input) v to its host slot; returns its view. */
clcnn_status sched_value_to_host(clcnn_session *s, int v, clcnn_tensor *view, clcnn_err *err);
/* Frees what sched_build made (arenas, node state is the backends'). */
void sched_free(clcnn_session *s);
/* A backend's view of value v (a slot of its arena or its constant copy). */
backend_tensor sched_tensor(const clcnn_session *s, int v, int b);

/* Memory planning (runtime/plan.c): one arena, offsets reused between
 * buffers whose lifetimes [first, last] (node steps) do not overlap. */
typedef struct plan_item {
  size_t bytes;
  int first, last;
} plan_item;
clcnn_status plan_arena(const plan_item *items, int n, size_t alignment, size_t *offsets,
                        size_t *total, clcnn_err *err);

#endif
