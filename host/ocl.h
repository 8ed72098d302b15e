/* The OpenCL backend: what a session holds on the device, and the interface
 * every operator family implements in host/ops/FAMILY.c (the same four steps
 * as the CPU backend: check, prepare, run, release). */
#ifndef CLCNN_HOST_OCL_H
#define CLCNN_HOST_OCL_H

#include "devctx.h"
#include "device.h"
#include "kernel_options.h"
#include "program_cache.h"

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

/* Element offset of a tensor (kernels take offsets in elements). It fits:
 * the runtime checked that every tensor of the node ends within 2^31
 * elements (backend.max_elements, host/backend.c). */
static inline cl_uint ocl_elem_offset(const ocl_tensor *t) {
  size_t es = dtype_size(t->dtype);
  return (cl_uint)(t->offset / (es ? es : 1));
}

#define OCL_NODE_MAX_KERNELS 8
#define OCL_NODE_MAX_BUFFERS 8

typedef struct ocl_backend ocl_backend; /* host/backend.c: one device of a session */

/* One node on the device. Kernels and buffers registered here are released
 * by the session; `state` is the op's own (freed by its release()). */
typedef struct ocl_node {
  ocl_backend *be;
  const ir_graph *g;
  const ir_node *n;
  cl_kernel kernels[OCL_NODE_MAX_KERNELS];
  int nkernels;
  cl_mem buffers[OCL_NODE_MAX_BUFFERS];
  int nbuffers;
  size_t buffer_bytes;   /* device memory of `buffers` and scratch the node holds */
  size_t shared_bytes;   /* weights it uploaded through the model's shared store */
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
  /* Optional: backend_ops.half for this operator (runtime/backend.h):
   * whether prepare can build kernels that read float input `input` (-1:
   * write the outputs) stored as half; 2 when every activation of the node
   * must then be stored alike. NULL: float32 only. Prepare finds what the
   * runtime chose with ocl_half() and ocl_storage_options(). */
  int (*half)(const ir_graph *g, const ir_node *n, int input);
} ocl_op;

/* The OpenCL implementation of an operator, or NULL (runs on the CPU). */
const ocl_op *ocl_op_get(int op);

/* ---- helpers for operator implementations (host/node.c) ---- */

/* The kernel `name` of kernels/FILE (e.g. "pool.cl"), built with `options`
 * ("-DKH=3 -DKW=3 ...") plus "-DK_<name>": every kernel of a family file
 * sits under #ifdef K_<name>, so a program holds only the kernel asked for.
 * Programs are built once per (file, options) per context and device,
 * shared by its sessions, through the binary cache. The kernel is owned by `on`.
 * Errors: KERNEL_BUILD (message with the build log), DEVICE, OUT_OF_MEMORY. */
clcnn_status ocl_kernel(ocl_node *on, const char *file, const char *name, const char *options,
                        cl_kernel *out, clcnn_err *err);

/* A read-only device buffer filled from `data` (weights, packed weights,
 * index tables): shared by the sessions of the model on this device, found
 * again by its contents. With `data` NULL, an uninitialised buffer of the
 * node's own. Either is released for you. */
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

/* Sets arguments first .. first + n - 1 of `k` to the 32-bit integers v[],
 * once, when the node is prepared: the sizes that kernels take as arguments
 * rather than as -D options, so that the layers of a network share a few
 * programs (fast first sessions). UNSUPPORTED when a value does not fit. */
clcnn_status ocl_size_args(cl_kernel k, cl_uint first, const int64_t *v, int n, clcnn_err *err);

/* Sets a kernel's EPILOGUE_ARGS (kernels/common.cl) from argument `first`
 * on: the residual `res` at element offset `res_off` (NULL: none, and
 * `placeholder`, any buffer, fills its slot) and the activation `e`. */
struct ocl_epilogue;
clcnn_status ocl_epilogue_args(cl_kernel k, cl_uint first, const struct ocl_epilogue *e,
                               cl_mem res, size_t res_off, cl_mem placeholder, clcnn_err *err);


/* Whether the node's input `i` (-1: output 0) is stored as half on the
 * device (ir_value.half: the session's fp16 precision). */
bool ocl_half(const ocl_node *on, int i);
/* Appends the storage options of kernels/common.cl's roles for the tensors
 * stored as half: -DX_HALF for input x_in, -DB_HALF for input b_in,
 * -DR_HALF for input r_in (-1: the kernel has no such role) and -DY_HALF
 * for output 0. */
void ocl_storage_options(const ocl_node *on, int x_in, int b_in, int r_in, char *o, size_t len);

/* ocl_op.half of the operators that move elements as bits (copies, views,
 * Concat, Split, Slice, Transpose, ...): 2 for every input and the outputs,
 * half storage when they are all stored alike. */
int ocl_half_alike(const ir_graph *g, const ir_node *n, int input);

/* Which form of a kernel suits the node's device: true for the GPU form
 * (work-groups sharing __local memory, coalesced vectors), false for the CPU
 * form (one work-item per register tile, no __local memory or barriers). The
 * device type decides, unless CLCNN_OCL_VARIANT was "gpu" or "cpu" when the
 * context first used the device (to test both forms on one device). */
bool ocl_gpu_variant(const ocl_node *on);

/* The environment knobs of the node's context and device (host/devctx.h). */
const ocl_knobs *ocl_node_knobs(const ocl_node *on);
/* The program cache of the node's device context (tuning choices live there too). */
const ocl_cache_config *ocl_node_cache(const ocl_node *on);

/* The session's device. */
const ocl_device_info *ocl_node_device(const ocl_node *on);
cl_context ocl_node_context(const ocl_node *on);
cl_command_queue ocl_node_queue(const ocl_node *on);

/* Test hooks: the nth OpenCL call of a kind from now fails (0: none), as
 * the driver would fail it: buffer creation (OUT_OF_MEMORY), a program
 * build (KERNEL_BUILD), a kernel enqueue and a transfer (DEVICE). */
typedef enum ocl_fault {
  OCL_FAULT_ALLOC = 0,
  OCL_FAULT_BUILD = 1,
  OCL_FAULT_ENQUEUE = 2,
  OCL_FAULT_TRANSFER = 3,
  OCL_FAULT_KINDS = 4
} ocl_fault;
void ocl_test_fail(ocl_fault kind, int nth);
/* Calls of `kind` left before the failure (0: it happened, or none set). */
int ocl_test_fail_pending(ocl_fault kind);
/* True when this call of `kind` is the one to fail (counts it down). */
bool ocl_fault_now(ocl_fault kind);
/* The allocation hook alone (ocl_test_fail(OCL_FAULT_ALLOC, nth)). */
void ocl_test_fail_allocation(int nth);
/* Test hook: the device "goes away" after `after` more kernel enqueues
 * (-1: it is back): from then on every enqueue, transfer and clFinish fails
 * with CL_DEVICE_NOT_AVAILABLE, as a driver reports a GPU that was reset or
 * unplugged. */
void ocl_test_device_lost(int after);
/* True once the device is gone (ocl_test_device_lost); `counts` says whether
 * this call is an enqueue that counts towards it. */
bool ocl_device_lost_now(bool counts);
/* Test hook: OpenCL backends opened from now on accept tensors ending at up
 * to `n` elements of their buffer instead of 2^31 (0: back to 2^31), so that
 * a test reaches the limit without allocating 8 GiB. */
void ocl_test_index_limit(uint64_t n);

#endif
