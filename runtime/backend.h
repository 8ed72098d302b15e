/* The backend interface (DESIGN.md decision 3).
 *
 * A backend — the CPU backend, one OpenCL device — is one table of functions.
 * The runtime (runtime/sched.c) asks each backend which nodes it supports,
 * partitions the graph, inserts the transfers, plans one arena per backend
 * from one liveness analysis over the whole schedule, and runs the schedule
 * through this table. A backend never sees the session, the schedule or
 * another backend: it is asked, it never asks.
 *
 * Memory: a backend hands out one arena buffer per session (alloc) and
 * tensors are (buffer, byte offset) pairs into it, or into the backend's own
 * copy of a constant (constant). A backend with `host_memory` set (the CPU
 * backend) holds plain host memory: its buffer handles are host pointers, and
 * the runtime moves values between it and a device with the device's
 * upload/download. Values between two devices go through a host buffer. */
#ifndef CLCNN_BACKEND_H
#define CLCNN_BACKEND_H

#include "internal.h"

/* A value as a backend holds it: its shape, and where its bytes are. */
typedef struct backend_tensor {
  clcnn_dtype dtype;
  int rank;
  int64_t dims[CLCNN_MAX_RANK];
  void *buf;      /* the backend's buffer: a host pointer (host_memory backends) or a
                     cl_mem; NULL for an omitted optional input or output */
  size_t offset;  /* bytes from the start of buf */
} backend_tensor;

typedef struct backend backend;

typedef struct backend_ops {
  /* NULL if the backend can run node `n`, else why not (a static string). */
  const char *(*supports)(backend *b, const ir_graph *g, const ir_node *n);
  /* Half storage (runtime/precision.c): whether the node, on this backend,
   * can read float activation input `input` (-1: write its outputs) stored
   * as half (ir_value.half, a backend_tensor of dtype FLOAT16). 0: no; 1:
   * yes, whatever its other activations are; 2: yes, when every activation
   * of the node is stored alike (copies and views of bytes). Asked before
   * prepare, which then reads ir_value.half. NULL: never (host backends). */
  int (*half)(backend *b, const ir_graph *g, const ir_node *n, int input);
  /* Builds what node `node` needs (kernels, packed weights). On
   * KERNEL_BUILD or UNSUPPORTED the runtime gives the node to the next
   * backend; any other error fails the session. */
  clcnn_status (*prepare)(backend *b, const ir_graph *g, int node, clcnn_err *err);
  /* Frees what prepare built (also after a failed prepare). */
  void (*release)(backend *b, int node);
  /* The backend's copy of constant value v (uploaded once, and shared by the
   * sessions of one model on one device where the backend can). */
  clcnn_status (*constant)(backend *b, const ir_graph *g, int v, backend_tensor *t,
                           clcnn_err *err);
  /* The session's arena on this backend, `bytes` long (bytes may be 0). */
  clcnn_status (*alloc)(backend *b, size_t bytes, void **buf, clcnn_err *err);
  void (*free)(backend *b, void *buf);
  /* Host -> backend and backend -> host copies of `bytes` bytes. Both return
   * only when the host memory may be reused (upload) or holds the data
   * (download), after everything enqueued before them: a transfer is a
   * synchronisation point of the schedule. NULL for host_memory backends. */
  clcnn_status (*upload)(backend *b, const backend_tensor *dst, const void *src, size_t bytes,
                         clcnn_err *err);
  clcnn_status (*download)(backend *b, void *dst, const backend_tensor *src, size_t bytes,
                           clcnn_err *err);
  /* Runs (or enqueues, in order) node `node` on tensors of this backend.
   * Omitted optional inputs and outputs have buf == NULL. */
  clcnn_status (*run)(backend *b, const ir_graph *g, int node, const backend_tensor *in, int nin,
                      const backend_tensor *out, int nout, clcnn_err *err);
  /* Waits for everything enqueued. NULL: the backend runs synchronously. */
  clcnn_status (*synchronize)(backend *b, clcnn_err *err);
  /* Time of node's last run in ms, valid after synchronize, for profiling
   * sessions. NULL: the runtime times the run call itself. */
  double (*node_ms)(backend *b, int node);
  /* Device memory the backend holds for the session besides its arena
   * (constants, packed weights, scratch), and the part of it shared with
   * other sessions (weights of the same model). */
  void (*memory)(backend *b, size_t *total, size_t *shared);
  /* Device programs this backend obtained for the session: compiled from
   * source and loaded from the disk cache (programs an earlier session of
   * the same context had built are neither). NULL: none. */
  void (*programs)(backend *b, int *compiled, int *loaded);
  /* Copies between an application's native buffer (a cl_mem of the
   * backend's context) at native_offset and a tensor of the backend
   * (to_native: tensor -> native), or host memory when t is NULL. Waits for
   * the copy. NULL: the backend has no native buffers. */
  clcnn_status (*native_copy)(backend *b, void *native, size_t native_offset,
                              const backend_tensor *t, void *host, size_t bytes, bool to_native,
                              clcnn_err *err);
  /* The native context and queue the backend runs on (cl_context,
   * cl_command_queue). NULL: none. */
  void (*native)(backend *b, void **context, void **queue);
  /* Frees the backend and everything prepare built that release did not. */
  void (*destroy)(backend *b);
} backend_ops;

struct backend {
  const backend_ops *ops;
  char name[64];        /* "cpu", "opencl", "opencl:1": in info, profiles and messages */
  char device[256];     /* the device's name (clcnn_session_device) */
  bool host_memory;     /* buffers are host pointers */
  size_t align;         /* alignment of arena offsets (0: 64 bytes) */
  /* Kernels index a buffer with 32-bit integers: every tensor a node of this
   * backend reads or writes must end (element offset in its buffer plus its
   * element count) at or before this many elements. The runtime checks each
   * one when the session is planned, so that no offset, count or stride a
   * kernel receives can wrap. 0: no limit. */
  uint64_t max_elements;
  void *impl;           /* the backend's own state */
};

/* What a backend is opened with. */
typedef struct backend_open_args {
  clcnn_context *ctx;          /* options, and the place for state shared per context */
  const clcnn_model *model;    /* state shared per model (weights) hangs off it */
  int nnodes, nvalues;         /* of the session's graph */
  int threads;                 /* CPU threads */
  bool profile;                /* collect per-node times */
  const char *cache_dir;       /* program binary cache (the context's option) */
  bool disable_cache;
} backend_open_args;

/* The CPU backend (runtime/cpu/backend.c). */
clcnn_status cpu_backend_open(const backend_open_args *a, backend **out, clcnn_err *err);

/* Device backends: those this build has (runtime/backends.c). `spec` is one
 * entry of a session's device list ("best", "gpu", "opencl:1", a name). On
 * *out == NULL with CLCNN_OK, `spec` named no device but the CPU backend is
 * acceptable for it ("best" on a machine without OpenCL). */
clcnn_status device_backend_open(const char *spec, const backend_open_args *a, backend **out,
                                 clcnn_err *err);
/* A device backend on an application's native context and queue
 * (clcnn_session_create_opencl). */
clcnn_status device_backend_open_native(void *native_context, void *native_queue,
                                        const backend_open_args *a, backend **out,
                                        clcnn_err *err);

/* The devices of the device backends this build has, for clcnn_devices():
 * a malloc'd array of malloc'd strings, the caller's. */
clcnn_status device_backend_list(clcnn_device_info **out, int *count, clcnn_err *err);
/* clcnn_device_peak_get() for a device of a device backend (`spec` as for
 * device_backend_open; a->ctx, cache_dir and disable_cache are read). */
clcnn_status device_backend_peak(const char *spec, const backend_open_args *a, bool remeasure,
                                 clcnn_device_peak *out, clcnn_err *err);
/* The CPU backend's peak with `threads` threads (runtime/cpu/peak.c). */
clcnn_status cpu_backend_peak(int threads, clcnn_device_peak *out, clcnn_err *err);

/* State that backends keep per context or per model and share between
 * sessions: created under a lock on first use, freed with the context or the
 * model. `key` identifies the owner's kind (the address of a static). */
typedef void *(*attachment_create_fn)(void *arg);
typedef void (*attachment_free_fn)(void *obj);
void *context_attachment(clcnn_context *ctx, const void *key, attachment_create_fn create,
                         void *arg, attachment_free_fn release);
void *model_attachment(const clcnn_model *model, const void *key, attachment_create_fn create,
                       void *arg, attachment_free_fn release);

/* Test hook: when set (for the calling thread), the partition asks it
 * before each backend's supports(); true makes that backend refuse the node
 * ("refused by the test hook"), as if it could not run it. Tests use it to
 * force nodes onto the CPU backend or onto a second device. */
typedef bool (*sched_refuse_fn)(void *user, int backend_index, const char *backend_name,
                                const ir_graph *g, int node);
void sched_set_test_refuse(sched_refuse_fn fn, void *user);

#endif
