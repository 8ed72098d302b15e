/* Internal declarations shared by the runtime, the backends and the tests.
 * Nothing here is installed; the public API is include/clcnn.h. */
#ifndef CLCNN_INTERNAL_H
#define CLCNN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clcnn.h"

/* ------------------------------------------------------------ operators */

typedef enum op_id {
#define OP(ID, NAME, FAM) CLCNN_OP_##ID,
#include "ops.def"
#undef OP
  CLCNN_OP_COUNT
} op_id;

/* Operator id for an ONNX (domain, op_type), or -1. Domain "" and "ai.onnx"
 * are the default domain; any other domain gives -1. */
int op_lookup(const char *domain, const char *op_type);
/* ONNX name of an operator id ("?" for an invalid id). */
const char *op_name(int op);
/* True when some version of operator `op`'s ONNX schema defines an attribute
 * called `name` (runtime/op_attrs.def). */
bool op_attr_known(int op, const char *name);
/* The attribute names of `op`, comma-separated, into buf ("none" if it has none). */
void op_attr_list(int op, char *buf, size_t len);

/* ---------------------------------------------------------------- errors */

#define CLCNN_ERR_MAX 4096

/* A status with a message. Functions that can fail take a clcnn_err * and
 * return the status they wrote into it. */
typedef struct clcnn_err {
  clcnn_status status;
  char msg[CLCNN_ERR_MAX];
} clcnn_err;

/* Sets status and message (printf format); returns `status`. */
clcnn_status err_set(clcnn_err *e, clcnn_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* True when `flag` is non-NULL and set (an atomic acquire load): the cancel
 * flags that another thread may set while a run goes on. */
bool flag_is_set(const volatile int *flag);
/* Appends "; " and a message to an existing one (to list several problems at
 * once), keeping the first error status. Returns the status kept. */
clcnn_status err_append(clcnn_err *e, clcnn_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------- graph IR */

/* ONNX AttributeProto.AttributeType numbers. */
typedef enum ir_attr_type {
  IR_ATTR_UNDEFINED = 0,
  IR_ATTR_FLOAT = 1,
  IR_ATTR_INT = 2,
  IR_ATTR_STRING = 3,
  IR_ATTR_TENSOR = 4,
  IR_ATTR_GRAPH = 5,
  IR_ATTR_FLOATS = 6,
  IR_ATTR_INTS = 7,
  IR_ATTR_STRINGS = 8
} ir_attr_type;

typedef struct ir_attr {
  char *name;
  ir_attr_type type;
  float f;
  int64_t i;
  char *s;              /* STRING (NUL-terminated copy) */
  size_t n;             /* element count of floats/ints/strings */
  float *floats;
  int64_t *ints;
  char **strings;
  clcnn_tensor *t;      /* TENSOR: dense data, owned */
  struct ir_graph *graph; /* GRAPH: the subgraph (If's branches), owned; NULL for others */
} ir_attr;

/* A value: a graph input, an initializer/constant, or a node output.
 * t.dtype and t.dims describe it (-1 dims are unknown until shape inference);
 * t.data is non-NULL only for constants. */
typedef struct ir_value {
  char *name;
  clcnn_tensor t;
  char *dim_names[CLCNN_MAX_RANK]; /* symbolic dims of graph inputs/outputs */
  bool is_const;       /* initializer, Constant node or folded: t.data valid */
  bool owns_data;      /* t.data was allocated for this graph and is freed with it */
  bool is_input;       /* a graph input the caller feeds */
  bool is_output;      /* a graph output */
  bool shape_known;    /* set by shape inference */
  int producer;        /* index of the producing node, -1 if none */
  /* The shape depends on input values, known only after a run: the output
   * of NonZero or NonMaxSuppression (t.dims is then an upper bound) and
   * every value computed from one (no shape before the run). Such values are
   * computed per run by the per_run nodes (runtime/sched.c). */
  bool dynamic;
  /* Stored as IEEE half on the device backend that produces and reads it
   * (a session's fp16 precision, runtime/precision.c); its dtype stays
   * float32, the value every other part of clcnn sees. */
  bool half;
} ir_value;

/* Bytes per element of v where it is stored (2 for a half value). */
size_t value_elem_bytes(const ir_value *v);

typedef struct ir_node {
  char *name;          /* never NULL: imported name or a generated one */
  char *op_type;       /* ONNX op_type as written in the model */
  char *domain;
  int op;              /* op_id, or -1 when unsupported */
  int opset;           /* opset version of the node's domain */
  int nin, nout;
  int *in;             /* value indices; -1 for an omitted optional input */
  int *out;            /* value indices; -1 for an omitted optional output */
  int nattr;
  ir_attr *attr;
  void *params;        /* typed parameters from the front half (op_front.params_size bytes) */
  int act_op;          /* fused unary activation (op_id), -1 for none */
  void *act_params;    /* that activation's params */
  int backend;         /* index of the session backend that runs it (runtime/sched.c), -1 none */
  bool dead;           /* removed by a pass: skipped everywhere */
  /* Writes a dynamic value: not in the static schedule; inferred with the
   * actual shapes and run on the CPU backend at each run (runtime/sched.c). */
  bool per_run;
} ir_node;

typedef struct ir_graph {
  ir_value *values;
  int nvalues, values_cap;
  ir_node *nodes;      /* kept in topological order after import */
  int nnodes, nodes_cap;
  int *inputs, ninputs;   /* graph inputs the caller feeds (initializers excluded) */
  /* A subgraph: how many of its inputs it declares (a Loop body's iteration
   * number, condition and carried values); the outer values it reads by name
   * follow them in `inputs`. */
  int nformal;
  int *outputs, noutputs;
  int opset;              /* default-domain opset */
  int64_t ir_version;
  /* The largest element count of any value (a session's
   * max_tensor_elements); 0: CLCNN_MAX_ELEMENTS. */
  int64_t max_elements;
} ir_graph;

/* Graph building and lookup (runtime/graph.c). */
void ir_graph_free(ir_graph *g);
/* Deep copy; constant data that `src` owns is shared, not copied, and marked
 * not owned in the copy (the source must outlive the copy). */
clcnn_status ir_graph_clone(const ir_graph *src, ir_graph *dst, clcnn_err *err);
/* The subgraph of the nodes with keep[i], in src's order, and the values
 * they read or write, copied as ir_graph_clone() does. Its inputs are the
 * non-constant values that its nodes read and none of them writes; its
 * outputs the graph outputs of src that they write. (*map)[k] is the index
 * in src of value k (malloc'd, the caller's). */
clcnn_status ir_graph_extract(const ir_graph *src, const bool *keep, ir_graph *dst, int **map,
                              clcnn_err *err);
/* Adds a value; returns its index or -1 (out of memory). `name` is copied. */
int ir_add_value(ir_graph *g, const char *name);
/* Index of the value called `name`, or -1. */
int ir_find_value(const ir_graph *g, const char *name);
/* Adds a node with room for nin inputs and nout outputs (set to -1); returns
 * its index or -1. Strings are copied; name may be NULL (one is generated). */
int ir_add_node(ir_graph *g, const char *name, const char *op_type, const char *domain,
                int nin, int nout);
/* Sorts nodes topologically. Fails with INVALID_MODEL on a cycle or on an
 * input that no node, initializer or graph input produces. */
clcnn_status ir_toposort(ir_graph *g, clcnn_err *err);
/* Gives value `v` constant data (takes ownership of `data`, allocated with
 * malloc), sets dtype and dims. */
void ir_set_const(ir_value *v, clcnn_dtype dtype, int rank, const int64_t *dims, void *data);

/* Copies src's attributes (subgraphs included) into dst, which has none. */
clcnn_status ir_node_copy_attrs(ir_node *dst, const ir_node *src);

/* If (runtime/ops/control.c). A branch is a subgraph whose inputs
 * (g->inputs) are the outer values it reads, by name. An If node's inputs
 * are its condition and then the outer values its branches read: the
 * distinct names of then_branch's inputs followed by those of else_branch
 * not already listed, which control_if_outer_name(n, 0 ..
 * control_if_outer_count(n) - 1) gives in that order. */
int control_if_outer_count(const ir_node *n);
const char *control_if_outer_name(const ir_node *n, int p);
/* Replaces If node `node`, whose condition is a constant, by the nodes of
 * the branch it takes (parsed here) and an Identity per output, right after
 * it in g->nodes (so that shape inference goes on with them). A condition
 * that is not constant is UNSUPPORTED, naming the node. */
clcnn_status control_inline_if(ir_graph *g, int node, clcnn_err *err);
/* Loop: its inputs are M, the condition, the N carried values and then the
 * outer values its body reads (the body's inputs after its declared ones,
 * control_loop_outer_*). control_fold_loop() runs Loop node `node`, whose
 * inputs are all constants, on the CPU backend (the body folded once per
 * iteration) and makes its outputs constants: at session creation or in the
 * per-run tail, where every input is a constant. */
int control_loop_outer_count(const ir_node *n);
const char *control_loop_outer_name(const ir_node *n, int p);
clcnn_status control_fold_loop(ir_graph *g, int node, clcnn_err *err);

/* Attribute access. Each returns `def` (or -1 / NULL) when the attribute is
 * absent. ir_attr_ints/floats copy at most `max` elements and return the
 * count, -1 if absent, or -2 if there are more than `max`. */
const ir_attr *ir_attr_find(const ir_node *n, const char *name);
int64_t ir_attr_int(const ir_node *n, const char *name, int64_t def);
float ir_attr_float(const ir_node *n, const char *name, float def);
const char *ir_attr_string(const ir_node *n, const char *name, const char *def);
int ir_attr_ints(const ir_node *n, const char *name, int64_t *out, int max);
int ir_attr_floats(const ir_node *n, const char *name, float *out, int max);

/* Input i of node n as a value, or NULL when omitted / out of range. */
static inline ir_value *ir_in(const ir_graph *g, const ir_node *n, int i) {
  return (i < n->nin && n->in[i] >= 0) ? &g->values[n->in[i]] : NULL;
}
static inline ir_value *ir_out(const ir_graph *g, const ir_node *n, int i) {
  return (i < n->nout && n->out[i] >= 0) ? &g->values[n->out[i]] : NULL;
}

/* ---------------------------------------------------------------- tensors */

/* The largest element count of any tensor (2^34: no CNN tensor comes near
 * it). Every shape that comes from outside (a model, the caller's input
 * shapes) or out of shape inference is checked against it with
 * shape_numel_checked(), so that later products of sizes, byte counts and
 * offsets cannot overflow. */
#define CLCNN_MAX_ELEMENTS ((int64_t)1 << 34)

size_t dtype_size(clcnn_dtype dt);     /* 0 for unsupported */
const char *dtype_name(clcnn_dtype dt);
/* Bits per element of ONNX's packed form of a sub-byte type (4 for int4 and
 * uint4, 2 for int2 and uint2), 0 for every other type. clcnn holds these
 * types one element per byte (clcnn.h). */
int dtype_packed_bits(clcnn_dtype dt);
/* The value range of an integer type (bool excluded); false for others. */
bool dtype_int_range(clcnn_dtype dt, int64_t *lo, int64_t *hi);
/* ONNX's TensorProto.DataType number of bfloat16, which clcnn reads (widened
 * to float32) but does not otherwise handle. */
#define ONNX_DTYPE_BFLOAT16 16
int64_t shape_numel(int rank, const int64_t *dims);
/* The element count of a shape whose dims are all >= 0 and whose product is
 * at most CLCNN_MAX_ELEMENTS, checked without overflow; false otherwise. */
bool shape_numel_checked(int rank, const int64_t *dims, int64_t *numel);
/* The same against `limit` elements (0 or more than CLCNN_MAX_ELEMENTS:
 * CLCNN_MAX_ELEMENTS). */
bool shape_numel_within(int rank, const int64_t *dims, int64_t limit, int64_t *numel);
/* The element limit of the values of `g` (its max_elements, else
 * CLCNN_MAX_ELEMENTS). */
int64_t graph_max_elements(const ir_graph *g);
/* An element count as text: "2^34" for a power of two, else the number. */
char *elements_str(int64_t n, char *buf, size_t len);
/* "1x3x224x224" into buf; returns buf. */
char *shape_str(int rank, const int64_t *dims, char *buf, size_t len);
/* Multidirectional (numpy) broadcast of a and b into out. Returns false if
 * the shapes do not broadcast. */
bool shape_broadcast(int ra, const int64_t *a, int rb, const int64_t *b, int *rout,
                     int64_t *out);
/* Sets the output value's dtype and shape (marks shape_known). */
void ir_set_shape(ir_value *v, clcnn_dtype dtype, int rank, const int64_t *dims);
/* Reads element i of an integer or float constant as int64 / double. */
int64_t tensor_get_i64(const clcnn_tensor *t, int64_t i);
double tensor_get_f64(const clcnn_tensor *t, int64_t i);
/* IEEE half precision <-> float/double, round to nearest even. */
float f16_to_float(uint16_t h);
uint16_t f16_from_double(double v);
/* v rounded to the nearest half float (ties to even), as a float: what a
 * round trip through float16 gives (infinity beyond 65504, NaN stays NaN). */
float f16_round(double v);
/* bfloat16 (the top half of a float32) -> float, exact. */
float bf16_to_float(uint16_t b);
/* The nearest bfloat16 (ties to even; NaN stays NaN), and that value as a
 * float. */
uint16_t bf16_from_float(float f);
float bf16_round(double v);
/* The 8-bit float types (FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2,
 * FLOAT8E5M2FNUZ, FLOAT8E8M0) and FLOAT4E2M1 (one code per byte), as ONNX's
 * Cast defines them: to nearest, ties to even; out of range (infinity
 * included) with `saturate` the largest finite value, without it infinity
 * (E5M2) or NaN (the others); FNUZ types have no -0; FLOAT4E2M1 always
 * saturates. FLOAT8E8M0 is a power of two (2^-127 to 2^127) rounded by
 * `round_mode` (F8_ROUND_*, ONNX's Cast 24 attribute); out of range (0 and
 * negative values included) it saturates to an end or becomes NaN. */
bool dtype_is_f8(clcnn_dtype dt);
enum { F8_ROUND_UP = 0, F8_ROUND_DOWN = 1, F8_ROUND_NEAREST = 2 };
float f8_to_float(clcnn_dtype dt, uint8_t b);
uint8_t f8_from_double(clcnn_dtype dt, double v, bool saturate, int round_mode);
/* v rounded to dt, as a float (f8_to_float of f8_from_double). */
float f8_round(clcnn_dtype dt, double v, bool saturate, int round_mode);

/* ------------------------------------------------- operator front halves */

/* What every operator family provides before any backend sees a node. */
typedef struct op_front {
  size_t params_size; /* bytes of the flat (pointer-free) params struct; 0: none */
  /* At model load: validate the node's arity and attributes and fill
   * n->params (already zeroed, params_size bytes). An unsupported attribute
   * value is CLCNN_ERROR_UNSUPPORTED; a malformed one INVALID_MODEL. The
   * message names what is wrong (the caller prefixes node and operator). */
  clcnn_status (*parse)(const ir_graph *g, ir_node *n, clcnn_err *err);
  /* At session creation, with every input's dtype and shape known (and data
   * for constant inputs): set dtype and shape of each output with
   * ir_set_shape(). May complete n->params from constant inputs (Reshape's
   * shape, Slice's starts, Pad's pads, Resize's scales...). When an input the
   * operator needs to be constant is not, return UNSUPPORTED. May also set
   * an output constant (Shape does) with ir_set_const(). */
  clcnn_status (*infer)(ir_graph *g, ir_node *n, clcnn_err *err);
  /* Floating point operations of the node (for info and profiles); NULL: 0. */
  double (*flops)(const ir_graph *g, const ir_node *n);
} op_front;

/* The front half of an operator (never NULL for a valid id). */
const op_front *op_front_get(int op);
/* Bit i set: the front half's infer() reads the value, not only the shape, of
 * input i of `op` (Reshape's shape, Slice's starts, Resize's sizes, axes...),
 * so it must be constant when the session is created. A graph input that
 * reaches such an input through nodes that fold is a value input of the
 * model (graph_value_inputs(), clcnn_model_input_needs_value()). */
uint32_t op_value_inputs(int op);

/* ----------------------------------------------------------- CPU backend */

typedef struct cpu_pool cpu_pool; /* runtime/cpu/threadpool.h */

/* Scratch memory that the nodes of one CPU backend share: they run one at a
 * time, so one buffer as large as the largest request serves them all. */
typedef struct cpu_scratch {
  size_t need; /* the largest request of prepare() */
  size_t have;
  void *buf;
} cpu_scratch;

typedef struct cpu_node {
  const ir_graph *g;
  const ir_node *n;
  void *state;   /* prepare()'s private data; release() frees it */
  int nthreads;  /* threads the kernel may use (per-thread scratch is sized by it) */
  cpu_pool *pool; /* where its loops run (cpu_parallel_for); NULL: inline */
  cpu_scratch *scratch; /* the backend's shared scratch; NULL: allocate your own */
  const clcnn_model *model; /* the session's model (state shared by its sessions), or NULL */
} cpu_node;

/* prepare(): the node's run() will need `bytes` of shared scratch. */
void cpu_scratch_reserve(const cpu_node *cn, size_t bytes);
/* run(): the shared scratch (64-byte aligned, at least every size reserved),
 * allocated at the first run that needs it; NULL when out of memory. Its
 * contents do not survive from one node's run to the next. */
void *cpu_scratch_get(const cpu_node *cn);

typedef struct cpu_op {
  /* NULL, or a reason this node cannot run here (static string). The CPU
   * backend accepts every node that passed parse and infer, so this is
   * mostly NULL. */
  const char *(*check)(const ir_graph *g, const ir_node *n);
  /* Optional: pack weights, allocate scratch. Inputs that are constant can be
   * read from cn->g->values[...].t.data. */
  clcnn_status (*prepare)(cpu_node *cn, clcnn_err *err);
  /* Computes out[] from in[]. Omitted optional inputs have data == NULL and
   * dtype UNDEFINED. Output buffers are allocated by the caller with the
   * shapes from infer(). Must not keep pointers to in/out after returning.
   * An output that infer() marked dynamic has the upper-bound shape on entry;
   * run() writes its actual dims (same rank) into out[k].dims and its data
   * densely for them. */
  clcnn_status (*run)(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                      int nout, clcnn_err *err);
  /* Optional: frees cn->state. */
  void (*release)(cpu_node *cn);
} cpu_op;

/* The CPU implementation of an operator (never NULL for a valid id). */
const cpu_op *cpu_op_get(int op);

/* Applies a unary operator (relu, clip, sigmoid... any op of the unary
 * family) with its params to n floats, in place allowed (x == y). Used for
 * activations fused into Conv and Gemm. Defined in runtime/cpu/unary.c. */
void cpu_unary_apply(int op, const void *params, const float *x, float *y, size_t n);
/* Whether `op` can be fused as an activation (element-wise on floats). */
bool op_is_activation(int op);

/* Runs one node on the CPU backend on the given tensors (prepare, run,
 * release). Used for constant folding and by tests. */
clcnn_status cpu_run_node(const ir_graph *g, const ir_node *n, const clcnn_tensor *in,
                          clcnn_tensor *out, clcnn_err *err);

/* C = alpha * op(A) * op(B) + beta * C, row-major, op = transpose when the
 * flag is set; oneDNN or CBLAS (OpenBLAS) where available, else a blocked
 * loop. Uses up to `nthreads` threads of `pool` (NULL: the calling thread
 * alone); the library runs single-threaded inside each block: two thread
 * pools fighting over the cores cost 3-5x. The blocks depend on nthreads
 * only, not on how many threads take part, so results do too.
 * Defined in runtime/cpu/gemm_core.c. */
void cpu_sgemm(cpu_pool *pool, int nthreads, bool trans_a, bool trans_b, int64_t m, int64_t n,
               int64_t k, float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
               float beta, float *c, int64_t ldc);

/* Runs fn(arg) on the calling thread with oneDNN kept to that one thread:
 * directly on a pool worker (whose nthreads-var is 1), else inside a
 * one-thread OpenMP region of our own, so that the caller's OpenMP settings
 * are never changed (gemm_core.c's top comment). Without oneDNN: fn(arg). */
void cpu_dnnl_single(void (*fn)(void *arg), void *arg);

#endif /* CLCNN_INTERNAL_H */
