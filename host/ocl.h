/* The OpenCL backend: what a session holds on the device, and the interface
 * every operator family implements in host/ops/FAMILY.c (the same four steps
 * as the CPU backend: check, prepare, run, release). */
#ifndef CLCNN_HOST_OCL_H
#define CLCNN_HOST_OCL_H

#include "device.h"
#include "program_cache.h"

struct clcnn_session;

/* A device tensor: shape plus a (buffer, byte offset) pair. Activations are
 * all in one arena buffer, so kernels take (buffer, offset) pairs and no
 * sub-buffers are created (DESIGN.md decision 4). */
typedef struct ocl_tensor {
  clcnn_dtype dtype;
  int rank;
  int64_t dims[CLCNN_MAX_RANK];
  cl_mem mem;      /* NULL for an omitted optional input */
  size_t offset;   /* in bytes; always a multiple of 64 in the arena, 0 for constants */
} ocl_tensor;

/* Element offset of a tensor (kernels take offsets in elements). */
static inline cl_uint ocl_elem_offset(const ocl_tensor *t) {
  size_t es = dtype_size(t->dtype);
  return (cl_uint)(t->offset / (es ? es : 1));
}

#define OCL_NODE_MAX_KERNELS 8
#define OCL_NODE_MAX_BUFFERS 8

typedef struct ocl_session ocl_session;

/* One node on the device. Kernels and buffers registered here are released
 * by the session; `state` is the op's own (freed by its release()). */
typedef struct ocl_node {
  ocl_session *os;
  const ir_graph *g;
  const ir_node *n;
  cl_kernel kernels[OCL_NODE_MAX_KERNELS];
  int nkernels;
  cl_mem buffers[OCL_NODE_MAX_BUFFERS];
  int nbuffers;
  size_t buffer_bytes;   /* device memory of `buffers` (packed weights...) */
  void *state;
  double ms;             /* last run's time from events (profiling) */
} ocl_node;

typedef struct ocl_op {
  /* NULL if the device can run this node, else a reason (static string):
   * an attribute, a dtype or a size this implementation does not handle. */
  const char *(*check)(const ocl_device_info *dev, const ir_graph *g, const ir_node *n);
  /* Build kernels (ocl_kernel), upload or re-pack constant weights
   * (ocl_upload). Runs once at session creation. A KERNEL_BUILD error makes
   * the node fall back to the CPU backend (or fails the session if strict). */
  clcnn_status (*prepare)(ocl_node *on, clcnn_err *err);
  /* Enqueue the node's kernels (ocl_enqueue) on the session's queue. Inputs
   * and outputs are on the device; nothing may block. */
  clcnn_status (*run)(ocl_node *on, const ocl_tensor *in, int nin, const ocl_tensor *out,
                      int nout, clcnn_err *err);
  /* Optional: free on->state (kernels and buffers are released for you). */
  void (*release)(ocl_node *on);
} ocl_op;

/* The OpenCL implementation of an operator, or NULL (runs on the CPU). */
const ocl_op *ocl_op_get(int op);

/* ---- helpers for operator implementations (host/backend.c) ---- */

/* The kernel `name` of kernels/FILE (e.g. "pool.cl"), built with `options`
 * ("-DKH=3 -DKW=3 ..."). Programs are built once per (file, options) per
 * session, through the binary cache. The kernel is owned by `on`.
 * Errors: KERNEL_BUILD (message with the build log), DEVICE, OUT_OF_MEMORY. */
clcnn_status ocl_kernel(ocl_node *on, const char *file, const char *name, const char *options,
                        cl_kernel *out, clcnn_err *err);

/* A device buffer owned by `on`, filled from `data` (may be NULL). */
clcnn_status ocl_upload(ocl_node *on, const void *data, size_t bytes, cl_mem *out,
                        clcnn_err *err);

/* Enqueues `k` over a work_dim-dimensional range; `local` may be NULL. The
 * global size is rounded up to a multiple of local, so kernels must check
 * bounds. Records a profiling event when the session profiles. */
clcnn_status ocl_enqueue(ocl_node *on, cl_kernel k, cl_uint work_dim, const size_t *global,
                         const size_t *local, clcnn_err *err);

/* Sets kernel arguments in order: each argument is given as (size, pointer),
 * terminated by a size of 0. Example:
 *   ocl_args(k, err, sizeof(cl_mem), &x->mem, sizeof(cl_uint), &xoff, 0) */
clcnn_status ocl_args(cl_kernel k, clcnn_err *err, ...);

/* Appends " -DNAME=value" (printf format) to an options string. */
void ocl_opt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The session's device. */
const ocl_device_info *ocl_node_device(const ocl_node *on);
cl_context ocl_node_context(const ocl_node *on);
cl_command_queue ocl_node_queue(const ocl_node *on);

/* ---- the session side (host/backend.c, called from runtime/session.c) ---- */

/* Opens the device `index` of ocl_devices_list(): context, profiling queue. */
clcnn_status ocl_session_open(struct clcnn_session *s, int index, clcnn_err *err);
/* Opens the session on the application's context and queue (retained). */
clcnn_status ocl_session_open_user(struct clcnn_session *s, cl_context ctx,
                                   cl_command_queue queue, clcnn_err *err);
void ocl_session_queue(const struct clcnn_session *s, cl_context *ctx, cl_command_queue *queue);
/* Copies value v between a caller's buffer and the session (to_session: an
 * input; else an output, waited for). */
clcnn_status ocl_session_copy_buffer(struct clcnn_session *s, int v, cl_mem buf, size_t offset,
                                     bool to_session, clcnn_err *err);
/* Test hook: the nth device allocation from now fails (0: none). */
void ocl_test_fail_allocation(int nth);
/* Assigns nodes to the device where ocl_op_get()/check() accept them and
 * prepares them; a node whose prepare fails with KERNEL_BUILD falls back to
 * the CPU (strict: every reason is collected into one error). */
clcnn_status ocl_session_partition(struct clcnn_session *s, clcnn_err *err);
/* Plans the device arena, uploads constants read by device nodes. */
clcnn_status ocl_session_allocate(struct clcnn_session *s, clcnn_err *err);
/* Runs node i on the device, moving inputs that live on the host first. */
clcnn_status ocl_session_run_node(struct clcnn_session *s, int i, clcnn_err *err);
/* Makes value v valid on the host (reads it back if the device has it). */
clcnn_status ocl_session_to_host(struct clcnn_session *s, int v, clcnn_err *err);
/* Marks value v as written on the host (after a CPU node or set_input). */
void ocl_session_host_wrote(struct clcnn_session *s, int v);
/* Waits for the queue; fills per-node times when profiling. */
clcnn_status ocl_session_finish(struct clcnn_session *s, clcnn_err *err);
/* Device memory: arena + constants + op buffers. */
size_t ocl_session_device_bytes(const struct clcnn_session *s);
/* Time of node i's last run from events, in ms (profiling sessions). */
double ocl_session_node_ms(const struct clcnn_session *s, int i);
void ocl_session_close(struct clcnn_session *s);

#endif
