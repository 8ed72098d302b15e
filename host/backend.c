/* The OpenCL backend behind the backend interface (runtime/backend.h): one
 * device of a session. It runs the nodes the runtime gives it on its own
 * in-order queue, in the context and with the programs that every session on
 * the device shares (host/devctx.h); constants come from the model's shared
 * weight store. It knows nothing of sessions, schedules or other backends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocl_backend.h"

#define DEV_ALIGN 256 /* >= CL_DEVICE_MEM_BASE_ADDR_ALIGN (bits/8) on real devices */

/* The kernels take element offsets, counts and strides as 32-bit integers
 * (uint and int both; 64-bit integer arithmetic is slow on GPUs, and 2^31
 * floats are 8 GiB, more than most devices allocate in one buffer): every
 * tensor must end within 2^31 elements of its buffer's start. The runtime
 * checks it (backend.max_elements). A test lowers it (ocl_test_index_limit). */
#define OCL_MAX_ELEMENTS ((uint64_t)1 << 31)
static _Atomic uint64_t test_max_elements;
void ocl_test_index_limit(uint64_t n) { test_max_elements = n; }

/* ---------------------------------------------------------- op registry */

#define OP(ID, NAME, FAM) extern const ocl_op *const ocl_ops_##FAM[CLCNN_OP_COUNT];
#include "ops.def"
#undef OP

const ocl_op *ocl_op_get(int op) {
  switch (op) {
#define OP(ID, NAME, FAM) \
  case CLCNN_OP_##ID:     \
    return ocl_ops_##FAM[op];
#include "ops.def"
#undef OP
    default:
      return NULL;
  }
}

static clcnn_status cl_fail(clcnn_err *err, clcnn_status st, cl_int code, const char *what) {
  return err_set(err, st, "%s failed: %s (%d)", what, ocl_error_str(code), (int)code);
}

static ocl_backend *impl(backend *b) { return b->impl; }

/* ------------------------------------------------------------ the table */

static const char *ocl_supports(backend *b, const ir_graph *g, const ir_node *n) {
  const ocl_op *op = ocl_op_get(n->op);
  if (!op) return "no OpenCL kernel for this operator";
  return op->check ? op->check(impl(b)->dev, g, n) : NULL;
}

static int ocl_half_storage(backend *b, const ir_graph *g, const ir_node *n, int input) {
  (void)b;
  const ocl_op *op = ocl_op_get(n->op);
  return op && op->half ? op->half(g, n, input) : 0;
}

static clcnn_status ocl_prepare(backend *b, const ir_graph *g, int node, clcnn_err *err) {
  ocl_backend *be = impl(b);
  ocl_node *on = &be->nodes[node];
  *on = (ocl_node){.be = be, .g = g, .n = &g->nodes[node]};
  be->prepared[node] = true; /* release() frees what a failed prepare left */
  const ocl_op *op = ocl_op_get(on->n->op);
  return op->prepare ? op->prepare(on, err) : CLCNN_OK;
}

static void ocl_release(backend *b, int node) {
  ocl_backend *be = impl(b);
  if (!be->prepared[node]) return;
  ocl_node *on = &be->nodes[node];
  const ocl_op *op = on->n ? ocl_op_get(on->n->op) : NULL;
  if (op && op->release) op->release(on);
  else free(on->state);
  for (int k = 0; k < on->nkernels; k++) clReleaseKernel(on->kernels[k]);
  for (int k = 0; k < on->nbuffers; k++) clReleaseMemObject(on->buffers[k]);
  if (be->events[node]) clReleaseEvent(be->events[node]);
  be->events[node] = NULL;
  memset(on, 0, sizeof *on);
  be->prepared[node] = false;
}

static void fill_shape(backend_tensor *t, const ir_value *val) {
  t->dtype = val->t.dtype;
  t->rank = val->t.rank;
  memcpy(t->dims, val->t.dims, sizeof t->dims);
}

static clcnn_status ocl_constant(backend *b, const ir_graph *g, int v, backend_tensor *t,
                                 clcnn_err *err) {
  ocl_backend *be = impl(b);
  const ir_value *val = &g->values[v];
  fill_shape(t, val);
  t->offset = 0;
  if (be->const_mem[v]) {
    t->buf = be->const_mem[v];
    return CLCNN_OK;
  }
  size_t bytes = (size_t)shape_numel(val->t.rank, val->t.dims) * dtype_size(val->t.dtype);
  if (bytes > be->dev->max_alloc_size)
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "%s allows at most %llu bytes in one buffer",
                   be->dev->name, (unsigned long long)be->dev->max_alloc_size);
  clcnn_status st = CLCNN_OK;
  if (be->weights && bytes) {
    /* A value the session does not own is the model's (shared by its
     * sessions, immutable): found by address. */
    st = val->owns_data ? ocl_weights_get(be->weights, val->t.data, bytes, &be->const_mem[v], err)
                        : ocl_weights_get_model(be->weights, val->t.data, bytes,
                                                &be->const_mem[v], err);
    if (st == CLCNN_OK) be->const_shared_bytes += bytes;
  } else {
    cl_int rc;
    be->const_mem[v] = ocl_create_buffer(be->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                         bytes ? bytes : 4, bytes ? val->t.data : (void *)&bytes,
                                         &rc);
    if (rc != CL_SUCCESS) {
      be->const_mem[v] = NULL;
      return cl_fail(err, CLCNN_ERROR_OUT_OF_MEMORY, rc, "clCreateBuffer");
    }
    be->const_private[v] = true;
  }
  if (st == CLCNN_OK) be->const_bytes += bytes;
  t->buf = be->const_mem[v];
  return st;
}

static clcnn_status ocl_alloc(backend *b, size_t bytes, void **buf, clcnn_err *err) {
  ocl_backend *be = impl(b);
  *buf = NULL;
  if (bytes > be->dev->max_alloc_size)
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY,
                   "the activation arena needs %zu bytes; %s allows at most %llu in one buffer",
                   bytes, be->dev->name, (unsigned long long)be->dev->max_alloc_size);
  cl_int rc;
  cl_mem m = ocl_create_buffer(be->ctx, CL_MEM_READ_WRITE, bytes ? bytes : 4, NULL, &rc);
  if (rc != CL_SUCCESS)
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "cannot allocate a %zu-byte arena on %s: %s",
                   bytes, be->dev->name, ocl_error_str(rc));
  *buf = m;
  return CLCNN_OK;
}

static void ocl_free(backend *b, void *buf) {
  (void)b;
  if (buf) clReleaseMemObject((cl_mem)buf);
}

static clcnn_status ocl_upload_tensor(backend *b, const backend_tensor *dst, const void *src,
                                      size_t bytes, clcnn_err *err) {
  /* Blocking: the host slot may be overwritten by the next CPU node. */
  if (ocl_fault_now(OCL_FAULT_TRANSFER))
    return cl_fail(err, CLCNN_ERROR_DEVICE, CL_OUT_OF_RESOURCES, "clEnqueueWriteBuffer");
  if (ocl_device_lost_now(false))
    return cl_fail(err, CLCNN_ERROR_DEVICE, CL_DEVICE_NOT_AVAILABLE, "clEnqueueWriteBuffer");
  cl_int rc = clEnqueueWriteBuffer(impl(b)->queue, (cl_mem)dst->buf, CL_TRUE, dst->offset, bytes,
                                   src, 0, NULL, NULL);
  return rc == CL_SUCCESS ? CLCNN_OK : cl_fail(err, CLCNN_ERROR_DEVICE, rc, "clEnqueueWriteBuffer");
}

static clcnn_status ocl_download_tensor(backend *b, void *dst, const backend_tensor *src,
                                        size_t bytes, clcnn_err *err) {
  if (ocl_fault_now(OCL_FAULT_TRANSFER))
    return cl_fail(err, CLCNN_ERROR_DEVICE, CL_OUT_OF_RESOURCES, "clEnqueueReadBuffer");
  if (ocl_device_lost_now(false))
    return cl_fail(err, CLCNN_ERROR_DEVICE, CL_DEVICE_NOT_AVAILABLE, "clEnqueueReadBuffer");
  cl_int rc = clEnqueueReadBuffer(impl(b)->queue, (cl_mem)src->buf, CL_TRUE, src->offset, bytes,
                                  dst, 0, NULL, NULL);
  return rc == CL_SUCCESS ? CLCNN_OK : cl_fail(err, CLCNN_ERROR_DEVICE, rc, "clEnqueueReadBuffer");
}

static ocl_tensor device_view(const backend_tensor *t) {
  ocl_tensor o;
  memset(&o, 0, sizeof o);
  o.dtype = t->dtype;
  o.rank = t->rank;
  memcpy(o.dims, t->dims, sizeof o.dims);
  o.mem = (cl_mem)t->buf;
  o.offset = t->offset;
  return o;
}

static clcnn_status ocl_run(backend *b, const ir_graph *g, int node, const backend_tensor *in,
                            int nin, const backend_tensor *out, int nout, clcnn_err *err) {
  ocl_backend *be = impl(b);
  enum { MAX_IO = 64 };
  ocl_tensor din[MAX_IO], dout[MAX_IO];
  if (nin > MAX_IO || nout > MAX_IO)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "more than %d inputs or outputs", MAX_IO);
  for (int k = 0; k < nin; k++) din[k] = device_view(&in[k]);
  for (int k = 0; k < nout; k++) dout[k] = device_view(&out[k]);
  be->nodes[node].ms = 0;
  return ocl_op_get(g->nodes[node].op)->run(&be->nodes[node], din, nin, dout, nout, err);
}

static clcnn_status ocl_synchronize(backend *b, clcnn_err *err) {
  ocl_backend *be = impl(b);
  cl_int rc = clFinish(be->queue);
  if (rc == CL_SUCCESS && ocl_device_lost_now(false)) rc = CL_DEVICE_NOT_AVAILABLE;
  if (rc != CL_SUCCESS) return cl_fail(err, CLCNN_ERROR_DEVICE, rc, "clFinish");
  if (be->profile) ocl_node_collect_times(be);
  ocl_devctx_write_cache(be->dc);
  return CLCNN_OK;
}

static double ocl_node_ms(backend *b, int node) { return impl(b)->nodes[node].ms; }

static void ocl_programs(backend *b, int *compiled, int *loaded) {
  const ocl_backend *be = impl(b);
  *compiled = be->programs_built - be->programs_from_disk;
  *loaded = be->programs_from_disk;
}

static void ocl_memory(backend *b, size_t *total, size_t *shared) {
  const ocl_backend *be = impl(b);
  *total = be->const_bytes;
  *shared = be->const_shared_bytes;
  for (int i = 0; i < be->nnodes; i++) {
    *total += be->nodes[i].buffer_bytes + be->nodes[i].shared_bytes;
    *shared += be->nodes[i].shared_bytes;
  }
}

static clcnn_status ocl_native_copy(backend *b, void *native, size_t native_offset,
                                    const backend_tensor *t, void *host, size_t bytes,
                                    bool to_native, clcnn_err *err) {
  ocl_backend *be = impl(b);
  cl_mem buf = (cl_mem)native;
  size_t have = 0;
  cl_int rc = clGetMemObjectInfo(buf, CL_MEM_SIZE, sizeof have, &have, NULL);
  if (rc != CL_SUCCESS) return cl_fail(err, CLCNN_ERROR_INVALID_ARGUMENT, rc, "clGetMemObjectInfo");
  if (native_offset > have || have - native_offset < bytes)
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT,
                   "it needs %zu bytes at offset %zu; the buffer has %zu", bytes, native_offset,
                   have);
  if (!bytes) return CLCNN_OK;
  if (t && to_native)
    rc = clEnqueueCopyBuffer(be->queue, (cl_mem)t->buf, buf, t->offset, native_offset, bytes, 0,
                             NULL, NULL);
  else if (t)
    rc = clEnqueueCopyBuffer(be->queue, buf, (cl_mem)t->buf, native_offset, t->offset, bytes, 0,
                             NULL, NULL);
  else if (to_native)
    rc = clEnqueueWriteBuffer(be->queue, buf, CL_TRUE, native_offset, bytes, host, 0, NULL, NULL);
  else
    rc = clEnqueueReadBuffer(be->queue, buf, CL_TRUE, native_offset, bytes, host, 0, NULL, NULL);
  /* The caller may reuse or release its buffer once we return. */
  if (rc == CL_SUCCESS) rc = clFinish(be->queue);
  return rc == CL_SUCCESS ? CLCNN_OK : cl_fail(err, CLCNN_ERROR_DEVICE, rc, "copying a buffer");
}

static void ocl_native(backend *b, void **context, void **queue) {
  *context = impl(b)->ctx;
  *queue = impl(b)->queue;
}

static void ocl_destroy(backend *b) {
  if (!b) return;
  ocl_backend *be = impl(b);
  if (be) {
    if (be->queue) clFinish(be->queue);
    /* Also after a failed open, where any of the arrays may be missing. */
    for (int i = 0; be->nodes && be->prepared && i < be->nnodes; i++) ocl_release(b, i);
    for (int v = 0; be->const_mem && be->const_private && v < be->nvalues; v++)
      if (be->const_mem[v] && be->const_private[v]) clReleaseMemObject(be->const_mem[v]);
    if (be->queue) clReleaseCommandQueue(be->queue);
    ocl_devctx_release(be->dc);
    free(be->nodes);
    free(be->prepared);
    free(be->events);
    free(be->const_mem);
    free(be->const_private);
    free(be);
  }
  free(b);
}

static const backend_ops ocl_backend_ops = {
    .supports = ocl_supports,
    .half = ocl_half_storage,
    .prepare = ocl_prepare,
    .release = ocl_release,
    .constant = ocl_constant,
    .alloc = ocl_alloc,
    .free = ocl_free,
    .upload = ocl_upload_tensor,
    .download = ocl_download_tensor,
    .run = ocl_run,
    .synchronize = ocl_synchronize,
    .node_ms = ocl_node_ms,
    .memory = ocl_memory,
    .programs = ocl_programs,
    .native_copy = ocl_native_copy,
    .native = ocl_native,
    .destroy = ocl_destroy,
};

/* ------------------------------------------------------------- opening */

/* The backend on device `dev`: the shared context (or the application's),
 * and `queue` when given (retained), else a queue of its own. */
static clcnn_status open_on(const ocl_device_info *dev, cl_context app_ctx, cl_command_queue queue,
                            const backend_open_args *a, backend **out, clcnn_err *err) {
  *out = NULL;
  backend *b = calloc(1, sizeof *b);
  ocl_backend *be = calloc(1, sizeof *be);
  if (!b || !be) {
    free(b);
    free(be);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  b->ops = &ocl_backend_ops;
  b->impl = be;
  snprintf(b->name, sizeof b->name, "opencl:%d", dev->index);
  snprintf(b->device, sizeof b->device, "%s", dev->name);
  size_t align = dev->mem_base_addr_align_bits / 8;
  b->align = align > DEV_ALIGN ? align : DEV_ALIGN;
  uint64_t lim = test_max_elements;
  b->max_elements = lim ? lim : OCL_MAX_ELEMENTS;
  be->dev = dev;
  be->profile = a->profile;
  be->nnodes = a->nnodes;
  be->nvalues = a->nvalues;
  size_t nn = (size_t)(a->nnodes ? a->nnodes : 1), nv = (size_t)(a->nvalues ? a->nvalues : 1);
  be->nodes = calloc(nn, sizeof *be->nodes);
  be->prepared = calloc(nn, sizeof *be->prepared);
  be->events = calloc(nn, sizeof *be->events);
  be->const_mem = calloc(nv, sizeof *be->const_mem);
  be->const_private = calloc(nv, sizeof *be->const_private);
  clcnn_status st = CLCNN_OK;
  if (!be->nodes || !be->prepared || !be->events || !be->const_mem || !be->const_private) {
    st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    goto fail;
  }
  ocl_cache_config cache = {.dir = a->cache_dir, .disabled = a->disable_cache};
  if ((st = ocl_devctx_acquire(a->ctx, dev, app_ctx, &cache, &be->dc, err))) goto fail;
  be->ctx = ocl_devctx_context(be->dc);
  be->weights = ocl_weights_of(a->model, be->dc);
  if (queue) {
    clRetainCommandQueue(queue);
    be->queue = queue;
  } else {
    cl_int rc;
    be->queue = clCreateCommandQueue(be->ctx, dev->device,
                                     a->profile ? CL_QUEUE_PROFILING_ENABLE : 0, &rc);
    if (rc != CL_SUCCESS) {
      be->queue = NULL;
      st = cl_fail(err, CLCNN_ERROR_DEVICE, rc, "clCreateCommandQueue");
      goto fail;
    }
  }
  *out = b;
  return CLCNN_OK;
fail:
  ocl_destroy(b);
  return st;
}

clcnn_status ocl_backend_open(const char *spec, const backend_open_args *a, backend **out,
                              clcnn_err *err);
clcnn_status ocl_backend_open(const char *spec, const backend_open_args *a, backend **out,
                              clcnn_err *err) {
  *out = NULL;
  int index;
  clcnn_status st = ocl_device_select(spec, &index, err);
  if (st || index == OCL_DEVICE_CPU_BACKEND) return st;
  const ocl_device_info *devs;
  int count;
  if ((st = ocl_devices_list(&devs, &count, err))) return st;
  if (index < 0 || index >= count) return err_set(err, CLCNN_ERROR_DEVICE, "no OpenCL device %d", index);
  return open_on(&devs[index], NULL, NULL, a, out, err);
}

clcnn_status ocl_backend_open_native(void *context, void *queue, const backend_open_args *a,
                                     backend **out, clcnn_err *err);
clcnn_status ocl_backend_open_native(void *context, void *queue, const backend_open_args *a,
                                     backend **out, clcnn_err *err) {
  *out = NULL;
  cl_context ctx = context;
  cl_command_queue q = queue;
  cl_context qctx = NULL;
  cl_device_id qdev = NULL;
  cl_command_queue_properties qprops = 0;
  cl_int rc = clGetCommandQueueInfo(q, CL_QUEUE_CONTEXT, sizeof qctx, &qctx, NULL);
  if (rc == CL_SUCCESS) rc = clGetCommandQueueInfo(q, CL_QUEUE_DEVICE, sizeof qdev, &qdev, NULL);
  if (rc == CL_SUCCESS)
    rc = clGetCommandQueueInfo(q, CL_QUEUE_PROPERTIES, sizeof qprops, &qprops, NULL);
  if (rc != CL_SUCCESS)
    return cl_fail(err, CLCNN_ERROR_INVALID_ARGUMENT, rc, "clGetCommandQueueInfo on the queue given");
  if (qctx != ctx)
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "the queue does not belong to the context");
  if (qprops & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE)
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT,
                   "the queue is out of order (CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE): clcnn "
                   "orders its kernels and copies by the queue, so it needs an in-order queue");
  if (a->profile && !(qprops & CL_QUEUE_PROFILING_ENABLE))
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT,
                   "profiling needs a queue created with CL_QUEUE_PROFILING_ENABLE");
  const ocl_device_info *devs;
  int count;
  clcnn_status st = ocl_devices_list(&devs, &count, err);
  if (st) return st;
  for (int i = 0; i < count; i++)
    if (devs[i].device == qdev) return open_on(&devs[i], ctx, q, a, out, err);
  return err_set(err, CLCNN_ERROR_DEVICE, "the queue's device is not one clcnn enumerates");
}
