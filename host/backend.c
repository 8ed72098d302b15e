/* The OpenCL backend of a session: context and queue, programs (through the
 * binary cache), the device arena, constants, transfers at backend
 * boundaries, and the helpers that operator implementations use. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "gemm_dispatch.h"
#include "ocl.h"

#define DEV_ALIGN 256 /* >= CL_DEVICE_MEM_BASE_ADDR_ALIGN (bits/8) on real devices */

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

/* ------------------------------------------------------------- session */

typedef struct ocl_program_entry {
  char *file, *options;
  cl_program program;
} ocl_program_entry;

struct ocl_session {
  const ocl_device_info *dev;
  cl_context ctx;
  cl_command_queue queue;
  ocl_cache_config cache;
  bool profile;
  ocl_program_entry *programs;
  int nprograms, programs_cap;
  ocl_node *nodes;        /* per graph node */
  bool *prepared;         /* per graph node */
  cl_mem arena;
  size_t arena_bytes, const_bytes;
  size_t *dev_offset;     /* per value, SIZE_MAX: not in the arena */
  cl_mem *const_mem;      /* per value: constants read by device nodes */
  bool *host_valid, *dev_valid;
  cl_event *events;       /* per node when profiling (last kernel's event) */
  int builds, cache_hits;
};

extern const struct embedded_file {
  const char *name;
  const char *data;
  size_t size;
} clcnn_embedded_kernels[];

/* Test hook: when > 0, the n-th device allocation from now fails as if the
 * device were out of memory (tests/unit/test_faults.c). */
static _Atomic int fail_alloc_countdown;
void ocl_test_fail_allocation(int nth) { fail_alloc_countdown = nth; }

static cl_mem create_buffer(cl_context ctx, cl_mem_flags flags, size_t bytes, void *host,
                            cl_int *rc) {
  if (fail_alloc_countdown > 0 && --fail_alloc_countdown == 0) {
    *rc = CL_MEM_OBJECT_ALLOCATION_FAILURE;
    return NULL;
  }
  return clCreateBuffer(ctx, flags, bytes, host, rc);
}

const ocl_device_info *ocl_node_device(const ocl_node *on) { return on->os->dev; }
cl_context ocl_node_context(const ocl_node *on) { return on->os->ctx; }
cl_command_queue ocl_node_queue(const ocl_node *on) { return on->os->queue; }

static clcnn_status cl_fail(clcnn_err *err, clcnn_status st, cl_int code, const char *what) {
  return err_set(err, st, "%s failed: %s (%d)", what, ocl_error_str(code), (int)code);
}

/* Kernel source: CLCNN_KERNEL_DIR/FILE when set (kernel development), else
 * the copy embedded at build time. common.cl is prepended to every file. */
static char *kernel_source(const char *file, clcnn_err *err) {
  const char *files[2] = {"common.cl", file};
  char *parts[2] = {NULL, NULL};
  size_t sizes[2] = {0, 0};
  const char *dir = getenv("CLCNN_KERNEL_DIR");
  for (int i = 0; i < 2; i++) {
    if (dir && dir[0]) {
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", dir, files[i]);
      FILE *f = fopen(path, "rb");
      if (!f) {
        free(parts[0]);
        err_set(err, CLCNN_ERROR_IO, "CLCNN_KERNEL_DIR: cannot open '%s'", path);
        return NULL;
      }
      fseek(f, 0, SEEK_END);
      long n = ftell(f);
      fseek(f, 0, SEEK_SET);
      parts[i] = malloc((size_t)(n > 0 ? n : 0) + 1);
      if (!parts[i] || (n > 0 && fread(parts[i], 1, (size_t)n, f) != (size_t)n)) {
        fclose(f);
        free(parts[0]);
        free(parts[1]);
        err_set(err, CLCNN_ERROR_IO, "cannot read '%s'", path);
        return NULL;
      }
      fclose(f);
      sizes[i] = (size_t)(n > 0 ? n : 0);
    } else {
      const struct embedded_file *e = clcnn_embedded_kernels;
      while (e->name && strcmp(e->name, files[i]) != 0) e++;
      if (!e->name) {
        free(parts[0]);
        err_set(err, CLCNN_ERROR_INTERNAL, "no embedded kernel file '%s'", files[i]);
        return NULL;
      }
      parts[i] = malloc(e->size + 1);
      if (!parts[i]) {
        free(parts[0]);
        err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
        return NULL;
      }
      memcpy(parts[i], e->data, e->size);
      sizes[i] = e->size;
    }
  }
  char *src = malloc(sizes[0] + sizes[1] + 2);
  if (src) {
    memcpy(src, parts[0], sizes[0]);
    src[sizes[0]] = '\n';
    memcpy(src + sizes[0] + 1, parts[1], sizes[1]);
    src[sizes[0] + 1 + sizes[1]] = 0;
  } else {
    err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  free(parts[0]);
  free(parts[1]);
  return src;
}

static clcnn_status get_program(ocl_session *os, const char *file, const char *options,
                                cl_program *out, clcnn_err *err) {
  for (int i = 0; i < os->nprograms; i++)
    if (!strcmp(os->programs[i].file, file) && !strcmp(os->programs[i].options, options)) {
      *out = os->programs[i].program;
      return CLCNN_OK;
    }
  if (os->nprograms == os->programs_cap) {
    int cap = os->programs_cap ? os->programs_cap * 2 : 16;
    ocl_program_entry *p = realloc(os->programs, sizeof *p * (size_t)cap);
    if (!p) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    os->programs = p;
    os->programs_cap = cap;
  }
  char *src = kernel_source(file, err);
  if (!src) return err->status;
  char opts[4096];
  snprintf(opts, sizeof opts, "-cl-std=CL1.2 -cl-mad-enable -cl-no-signed-zeros %s", options);
  bool hit = false;
  cl_program prog = NULL;
  clcnn_status st = ocl_program_build(os->ctx, os->dev->device, os->dev, src, opts, &os->cache,
                                      &prog, &hit, err);
  free(src);
  if (st) return st;
  os->builds++;
  if (hit) os->cache_hits++;
  ocl_program_entry *e = &os->programs[os->nprograms];
  e->file = strdup(file);
  e->options = strdup(options);
  e->program = prog;
  if (!e->file || !e->options) {
    free(e->file);
    free(e->options);
    clReleaseProgram(prog);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  os->nprograms++;
  *out = prog;
  return CLCNN_OK;
}

clcnn_status ocl_kernel(ocl_node *on, const char *file, const char *name, const char *options,
                        cl_kernel *out, clcnn_err *err) {
  if (on->nkernels >= OCL_NODE_MAX_KERNELS)
    return err_set(err, CLCNN_ERROR_INTERNAL, "too many kernels for one node");
  cl_program prog;
  clcnn_status st = get_program(on->os, file, options ? options : "", &prog, err);
  if (st) return st;
  cl_int rc;
  cl_kernel k = clCreateKernel(prog, name, &rc);
  if (rc != CL_SUCCESS) return cl_fail(err, CLCNN_ERROR_KERNEL_BUILD, rc, name);
  on->kernels[on->nkernels++] = k;
  *out = k;
  return CLCNN_OK;
}

clcnn_status ocl_upload(ocl_node *on, const void *data, size_t bytes, cl_mem *out,
                        clcnn_err *err) {
  if (on->nbuffers >= OCL_NODE_MAX_BUFFERS)
    return err_set(err, CLCNN_ERROR_INTERNAL, "too many buffers for one node");
  if (bytes > on->os->dev->max_alloc_size)
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY,
                   "a %zu-byte buffer exceeds the device's largest allocation (%llu bytes)", bytes,
                   (unsigned long long)on->os->dev->max_alloc_size);
  cl_int rc;
  cl_mem m = create_buffer(on->os->ctx,
                            CL_MEM_READ_ONLY | (data ? CL_MEM_COPY_HOST_PTR : 0),
                            bytes ? bytes : 4, (void *)data, &rc);
  if (rc != CL_SUCCESS) return cl_fail(err, CLCNN_ERROR_OUT_OF_MEMORY, rc, "clCreateBuffer");
  on->buffers[on->nbuffers++] = m;
  on->buffer_bytes += bytes;
  *out = m;
  return CLCNN_OK;
}

clcnn_status ocl_enqueue(ocl_node *on, cl_kernel k, cl_uint work_dim, const size_t *global,
                         const size_t *local, clcnn_err *err) {
  size_t g[3];
  for (cl_uint i = 0; i < work_dim; i++) {
    g[i] = global[i] ? global[i] : 1;
    if (local && local[i]) g[i] = (g[i] + local[i] - 1) / local[i] * local[i];
  }
  cl_event ev = NULL;
  ocl_session *os = on->os;
  cl_int rc = clEnqueueNDRangeKernel(os->queue, k, work_dim, NULL, g, local, 0, NULL,
                                     os->profile ? &ev : NULL);
  if (rc != CL_SUCCESS) return cl_fail(err, CLCNN_ERROR_DEVICE, rc, "clEnqueueNDRangeKernel");
  if (ev) {
    /* Accumulate this kernel's time into the node once the queue finishes:
     * keep only the events of the current node, timed in finish(). */
    int idx = (int)(on - os->nodes);
    if (os->events[idx]) {
      cl_ulong a = 0, b = 0;
      clWaitForEvents(1, &os->events[idx]);
      clGetEventProfilingInfo(os->events[idx], CL_PROFILING_COMMAND_START, sizeof a, &a, NULL);
      clGetEventProfilingInfo(os->events[idx], CL_PROFILING_COMMAND_END, sizeof b, &b, NULL);
      on->ms += (double)(b - a) / 1e6;
      clReleaseEvent(os->events[idx]);
    }
    os->events[idx] = ev;
  }
  return CLCNN_OK;
}

clcnn_status ocl_args(cl_kernel k, clcnn_err *err, ...) {
  va_list ap;
  va_start(ap, err);
  cl_uint i = 0;
  for (;;) {
    size_t size = va_arg(ap, size_t);
    if (!size) break;
    const void *p = va_arg(ap, const void *);
    cl_int rc = clSetKernelArg(k, i, size, p);
    if (rc != CL_SUCCESS) {
      va_end(ap);
      return err_set(err, CLCNN_ERROR_DEVICE, "clSetKernelArg(%u) failed: %s (%d)", i,
                     ocl_error_str(rc), (int)rc);
    }
    i++;
  }
  va_end(ap);
  return CLCNN_OK;
}

void ocl_opt(char *buf, size_t len, const char *fmt, ...) {
  size_t at = strlen(buf);
  if (at + 2 >= len) return;
  buf[at++] = ' ';
  buf[at] = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf + at, len - at, fmt, ap);
  va_end(ap);
}

/* -------------------------------------------------- session lifecycle */

/* The parts of a session both ways of opening share. */
static clcnn_status session_init(clcnn_session *s, const ocl_device_info *dev, clcnn_err *err) {
  ocl_session *os = calloc(1, sizeof *os);
  if (!os) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  s->ocl = os;
  os->dev = dev;
  os->profile = s->profile;
  os->cache.dir = s->ctx->opts.cache_dir;
  os->cache.disabled = s->ctx->opts.disable_cache != 0;
  int nn = s->g.nnodes ? s->g.nnodes : 1, nv = s->g.nvalues ? s->g.nvalues : 1;
  os->nodes = calloc((size_t)nn, sizeof *os->nodes);
  os->prepared = calloc((size_t)nn, sizeof *os->prepared);
  os->events = calloc((size_t)nn, sizeof *os->events);
  os->dev_offset = malloc(sizeof(size_t) * (size_t)nv);
  os->const_mem = calloc((size_t)nv, sizeof(cl_mem));
  os->host_valid = calloc((size_t)nv, sizeof(bool));
  os->dev_valid = calloc((size_t)nv, sizeof(bool));
  if (!os->nodes || !os->prepared || !os->events || !os->dev_offset || !os->const_mem ||
      !os->host_valid || !os->dev_valid)
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  for (int v = 0; v < s->g.nvalues; v++) os->dev_offset[v] = SIZE_MAX;
  snprintf(s->device, sizeof s->device, "%s", os->dev->name);
  return CLCNN_OK;
}

clcnn_status ocl_session_open(clcnn_session *s, int index, clcnn_err *err) {
  const ocl_device_info *devs;
  int count;
  clcnn_status st = ocl_devices_list(&devs, &count, err);
  if (st) return st;
  if (index < 0 || index >= count)
    return err_set(err, CLCNN_ERROR_DEVICE, "no OpenCL device %d", index);
  if ((st = session_init(s, &devs[index], err))) return st;
  ocl_session *os = s->ocl;
  cl_int rc;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)os->dev->platform,
                                   0};
  os->ctx = clCreateContext(props, 1, &os->dev->device, NULL, NULL, &rc);
  if (rc != CL_SUCCESS) return cl_fail(err, CLCNN_ERROR_DEVICE, rc, "clCreateContext");
  os->queue = clCreateCommandQueue(os->ctx, os->dev->device,
                                   os->profile ? CL_QUEUE_PROFILING_ENABLE : 0, &rc);
  if (rc != CL_SUCCESS) return cl_fail(err, CLCNN_ERROR_DEVICE, rc, "clCreateCommandQueue");
  return CLCNN_OK;
}

clcnn_status ocl_session_open_user(clcnn_session *s, cl_context ctx, cl_command_queue queue,
                                   clcnn_err *err) {
  cl_context qctx = NULL;
  cl_device_id qdev = NULL;
  cl_command_queue_properties qprops = 0;
  cl_int rc = clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof qctx, &qctx, NULL);
  if (rc == CL_SUCCESS)
    rc = clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof qdev, &qdev, NULL);
  if (rc == CL_SUCCESS)
    rc = clGetCommandQueueInfo(queue, CL_QUEUE_PROPERTIES, sizeof qprops, &qprops, NULL);
  if (rc != CL_SUCCESS)
    return cl_fail(err, CLCNN_ERROR_INVALID_ARGUMENT, rc, "clGetCommandQueueInfo on the queue given");
  if (qctx != ctx)
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "the queue does not belong to the context");
  if (s->profile && !(qprops & CL_QUEUE_PROFILING_ENABLE))
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT,
                   "profiling needs a queue created with CL_QUEUE_PROFILING_ENABLE");
  const ocl_device_info *devs;
  int count;
  clcnn_status st = ocl_devices_list(&devs, &count, err);
  if (st) return st;
  int index = -1;
  for (int i = 0; i < count; i++)
    if (devs[i].device == qdev) index = i;
  if (index < 0)
    return err_set(err, CLCNN_ERROR_DEVICE, "the queue's device is not one clcnn enumerates");
  if ((st = session_init(s, &devs[index], err))) return st;
  clRetainContext(ctx);
  clRetainCommandQueue(queue);
  s->ocl->ctx = ctx;
  s->ocl->queue = queue;
  return CLCNN_OK;
}

void ocl_session_queue(const clcnn_session *s, cl_context *ctx, cl_command_queue *queue) {
  *ctx = s->ocl->ctx;
  *queue = s->ocl->queue;
}

static void release_node(ocl_session *os, int i) {
  ocl_node *on = &os->nodes[i];
  const ocl_op *op = on->n ? ocl_op_get(on->n->op) : NULL;
  if (os->prepared[i] && op && op->release) op->release(on);
  else free(on->state);
  for (int k = 0; k < on->nkernels; k++) clReleaseKernel(on->kernels[k]);
  for (int k = 0; k < on->nbuffers; k++) clReleaseMemObject(on->buffers[k]);
  if (os->events && os->events[i]) clReleaseEvent(os->events[i]);
  if (os->events) os->events[i] = NULL;
  memset(on, 0, sizeof *on);
  os->prepared[i] = false;
}

clcnn_status ocl_session_partition(clcnn_session *s, clcnn_err *err) {
  ocl_session *os = s->ocl;
  ir_graph *g = &s->g;
  clcnn_err reasons = {0};
  int on_device = 0;
  s->fallback_reason = calloc((size_t)(g->nnodes ? g->nnodes : 1), sizeof(char *));
  if (!s->fallback_reason) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  for (int i = 0; i < g->nnodes; i++) {
    ir_node *n = &g->nodes[i];
    n->backend = BACKEND_CPU;
    if (n->dead) continue;
    const ocl_op *op = ocl_op_get(n->op);
    const char *why = !op ? "no OpenCL kernel for this operator"
                          : op->check ? op->check(os->dev, g, n) : NULL;
    if (!why) {
      ocl_node *on = &os->nodes[i];
      *on = (ocl_node){.os = os, .g = g, .n = n};
      clcnn_err e = {0};
      clcnn_status st = op->prepare ? op->prepare(on, &e) : CLCNN_OK;
      os->prepared[i] = true;
      if (st == CLCNN_OK) {
        n->backend = BACKEND_OPENCL;
        on_device++;
        continue;
      }
      release_node(os, i);
      if (st != CLCNN_ERROR_KERNEL_BUILD && st != CLCNN_ERROR_UNSUPPORTED)
        return err_set(err, st, "node '%s' (%s): %s", n->name, n->op_type, e.msg);
      ctx_log(s->ctx, CLCNN_LOG_WARNING, "node '%s' (%s) falls back to the CPU: %s", n->name,
              n->op_type, e.msg);
      s->fallback_reason[i] = strdup(e.msg);
      if (s->strict) {
        err_append(&reasons, st, "node '%s' (%s): %s", n->name, n->op_type, e.msg);
        if (st == CLCNN_ERROR_KERNEL_BUILD) reasons.status = st; /* the most specific */
      }
      continue;
    }
    s->fallback_reason[i] = strdup(why);
    if (s->strict)
      err_append(&reasons, CLCNN_ERROR_UNSUPPORTED, "node '%s' (%s): %s", n->name, n->op_type,
                 why);
  }
  if (reasons.status)
    return err_set(err, reasons.status,
                   "strict mode: these nodes cannot run on %s: %s", os->dev->name, reasons.msg);
  ctx_log(s->ctx, CLCNN_LOG_INFO, "%d nodes on %s, %d programs built (%d from the cache)",
          on_device, os->dev->name, os->builds, os->cache_hits);
  return CLCNN_OK;
}

static bool node_reads(const ir_node *n, int v) {
  for (int k = 0; k < n->nin; k++)
    if (n->in[k] == v) return true;
  return false;
}

clcnn_status ocl_session_allocate(clcnn_session *s, clcnn_err *err) {
  ocl_session *os = s->ocl;
  ir_graph *g = &s->g;
  int nv = g->nvalues;
  plan_item *items = malloc(sizeof(plan_item) * (size_t)(nv ? nv : 1));
  int *item_value = malloc(sizeof(int) * (size_t)(nv ? nv : 1));
  size_t *offsets = malloc(sizeof(size_t) * (size_t)(nv ? nv : 1));
  clcnn_status st = CLCNN_OK;
  if (!items || !item_value || !offsets) {
    st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    goto out;
  }
  int n = 0;
  for (int v = 0; v < nv; v++) {
    const ir_value *val = &g->values[v];
    int first = -1, last = -1;
    for (int i = 0; i < g->nnodes; i++) {
      const ir_node *nd = &g->nodes[i];
      if (nd->dead || nd->backend != BACKEND_OPENCL) continue;
      bool writes = false;
      for (int k = 0; k < nd->nout; k++) writes |= nd->out[k] == v;
      if (writes || node_reads(nd, v)) {
        if (first < 0) first = i;
        last = i;
      }
    }
    if (first < 0) continue;
    size_t bytes = (size_t)shape_numel(val->t.rank, val->t.dims) * dtype_size(val->t.dtype);
    if (val->is_const) {
      /* Constants read by device nodes are uploaded once. */
      cl_int rc;
      os->const_mem[v] = create_buffer(os->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                        bytes ? bytes : 4, bytes ? val->t.data : (void *)&bytes,
                                        &rc);
      if (rc != CL_SUCCESS) {
        st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY,
                     "cannot put constant '%s' (%zu bytes) on %s: %s", val->name, bytes,
                     os->dev->name, ocl_error_str(rc));
        goto out;
      }
      os->const_bytes += bytes;
      continue;
    }
    /* A value produced on the host and read on the device is uploaded at
     * its first device use; it lives on the device from then on. */
    items[n] = (plan_item){bytes, first, last};
    item_value[n++] = v;
  }
  st = plan_arena(items, n, DEV_ALIGN, offsets, &os->arena_bytes, err);
  if (st) goto out;
  for (int i = 0; i < n; i++) os->dev_offset[item_value[i]] = offsets[i];
  if (os->arena_bytes) {
    if (os->arena_bytes > os->dev->max_alloc_size) {
      st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY,
                   "the activation arena needs %zu bytes; %s allows at most %llu in one buffer",
                   os->arena_bytes, os->dev->name,
                   (unsigned long long)os->dev->max_alloc_size);
      goto out;
    }
    cl_int rc;
    os->arena = create_buffer(os->ctx, CL_MEM_READ_WRITE, os->arena_bytes, NULL, &rc);
    if (rc != CL_SUCCESS) {
      st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "cannot allocate a %zu-byte arena on %s: %s",
                   os->arena_bytes, os->dev->name, ocl_error_str(rc));
      goto out;
    }
  }
out:
  free(items);
  free(item_value);
  free(offsets);
  return st;
}

static ocl_tensor device_tensor(ocl_session *os, const ir_graph *g, int v) {
  ocl_tensor t;
  memset(&t, 0, sizeof t);
  if (v < 0) return t;
  const ir_value *val = &g->values[v];
  t.dtype = val->t.dtype;
  t.rank = val->t.rank;
  memcpy(t.dims, val->t.dims, sizeof t.dims);
  if (val->is_const) {
    t.mem = os->const_mem[v];
  } else {
    t.mem = os->arena;
    t.offset = os->dev_offset[v];
  }
  return t;
}

static size_t value_bytes(const ir_value *v) {
  return (size_t)shape_numel(v->t.rank, v->t.dims) * dtype_size(v->t.dtype);
}

clcnn_status ocl_session_run_node(clcnn_session *s, int i, clcnn_err *err) {
  ocl_session *os = s->ocl;
  ir_graph *g = &s->g;
  ir_node *n = &g->nodes[i];
  enum { MAX_IO = 64 };
  ocl_tensor in[MAX_IO], out[MAX_IO];
  if (n->nin > MAX_IO || n->nout > MAX_IO)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "node '%s' has too many inputs", n->name);
  for (int k = 0; k < n->nin; k++) {
    int v = n->in[k];
    in[k] = device_tensor(os, g, v);
    if (v < 0 || g->values[v].is_const || os->dev_valid[v]) continue;
    size_t bytes = value_bytes(&g->values[v]);
    if (bytes) {
      cl_int rc = clEnqueueWriteBuffer(os->queue, os->arena, CL_FALSE, os->dev_offset[v], bytes,
                                       s->arena + s->val[v].offset, 0, NULL, NULL);
      if (rc != CL_SUCCESS) return cl_fail(err, CLCNN_ERROR_DEVICE, rc, "clEnqueueWriteBuffer");
    }
    os->dev_valid[v] = true;
  }
  for (int k = 0; k < n->nout; k++) out[k] = device_tensor(os, g, n->out[k]);
  clcnn_err e = {0};
  os->nodes[i].ms = 0;
  clcnn_status st = ocl_op_get(n->op)->run(&os->nodes[i], in, n->nin, out, n->nout, &e);
  if (st) return err_set(err, st, "node '%s' (%s) on %s: %s", n->name, n->op_type, os->dev->name, e.msg);
  for (int k = 0; k < n->nout; k++) {
    int v = n->out[k];
    if (v < 0) continue;
    os->dev_valid[v] = true;
    os->host_valid[v] = false;
  }
  return CLCNN_OK;
}

clcnn_status ocl_session_to_host(clcnn_session *s, int v, clcnn_err *err) {
  ocl_session *os = s->ocl;
  const ir_value *val = &s->g.values[v];
  if (val->is_const || os->host_valid[v] || !os->dev_valid[v]) return CLCNN_OK;
  size_t bytes = value_bytes(val);
  if (bytes) {
    if (s->val[v].offset == SIZE_MAX)
      return err_set(err, CLCNN_ERROR_INTERNAL, "value '%s' has no host buffer", val->name);
    cl_int rc = clEnqueueReadBuffer(os->queue, os->arena, CL_TRUE, os->dev_offset[v], bytes,
                                    s->arena + s->val[v].offset, 0, NULL, NULL);
    if (rc != CL_SUCCESS) return cl_fail(err, CLCNN_ERROR_DEVICE, rc, "clEnqueueReadBuffer");
  }
  os->host_valid[v] = true;
  return CLCNN_OK;
}

clcnn_status ocl_session_copy_buffer(clcnn_session *s, int v, cl_mem buf, size_t offset,
                                     bool to_session, clcnn_err *err) {
  ocl_session *os = s->ocl;
  const ir_value *val = &s->g.values[v];
  size_t bytes = value_bytes(val), have = 0;
  cl_int rc = clGetMemObjectInfo(buf, CL_MEM_SIZE, sizeof have, &have, NULL);
  if (rc != CL_SUCCESS) return cl_fail(err, CLCNN_ERROR_INVALID_ARGUMENT, rc, "clGetMemObjectInfo");
  if (offset > have || have - offset < bytes)
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT,
                   "'%s' needs %zu bytes at offset %zu; the buffer has %zu", val->name, bytes,
                   offset, have);
  if (!bytes) return CLCNN_OK;
  bool on_device = os->dev_offset[v] != SIZE_MAX;
  if (to_session) {
    if (on_device) {
      rc = clEnqueueCopyBuffer(os->queue, buf, os->arena, offset, os->dev_offset[v], bytes, 0,
                               NULL, NULL);
      if (rc != CL_SUCCESS) return cl_fail(err, CLCNN_ERROR_DEVICE, rc, "clEnqueueCopyBuffer");
      os->dev_valid[v] = true;
      os->host_valid[v] = false;
      return CLCNN_OK;
    }
    /* Only CPU nodes read this input: it has to come to the host. */
    rc = clEnqueueReadBuffer(os->queue, buf, CL_TRUE, offset, bytes, s->arena + s->val[v].offset,
                             0, NULL, NULL);
    if (rc != CL_SUCCESS) return cl_fail(err, CLCNN_ERROR_DEVICE, rc, "clEnqueueReadBuffer");
    os->host_valid[v] = true;
    return CLCNN_OK;
  }
  if (val->is_const)
    rc = clEnqueueWriteBuffer(os->queue, buf, CL_TRUE, offset, bytes, val->t.data, 0, NULL, NULL);
  else if (on_device && os->dev_valid[v])
    rc = clEnqueueCopyBuffer(os->queue, os->arena, buf, os->dev_offset[v], offset, bytes, 0, NULL,
                             NULL);
  else
    rc = clEnqueueWriteBuffer(os->queue, buf, CL_TRUE, offset, bytes, s->arena + s->val[v].offset,
                              0, NULL, NULL);
  if (rc == CL_SUCCESS) rc = clFinish(os->queue);
  if (rc != CL_SUCCESS) return cl_fail(err, CLCNN_ERROR_DEVICE, rc, "copying an output");
  return CLCNN_OK;
}

void ocl_session_host_wrote(clcnn_session *s, int v) {
  if (!s->ocl) return;
  s->ocl->host_valid[v] = true;
  s->ocl->dev_valid[v] = false;
}

clcnn_status ocl_session_finish(clcnn_session *s, clcnn_err *err) {
  ocl_session *os = s->ocl;
  cl_int rc = clFinish(os->queue);
  if (rc != CL_SUCCESS) return cl_fail(err, CLCNN_ERROR_DEVICE, rc, "clFinish");
  if (os->profile)
    for (int i = 0; i < s->g.nnodes; i++) {
      if (!os->events[i]) continue;
      cl_ulong a = 0, b = 0;
      clGetEventProfilingInfo(os->events[i], CL_PROFILING_COMMAND_START, sizeof a, &a, NULL);
      clGetEventProfilingInfo(os->events[i], CL_PROFILING_COMMAND_END, sizeof b, &b, NULL);
      os->nodes[i].ms += (double)(b - a) / 1e6;
      clReleaseEvent(os->events[i]);
      os->events[i] = NULL;
    }
  return CLCNN_OK;
}

double ocl_session_node_ms(const clcnn_session *s, int i) {
  return s->ocl ? s->ocl->nodes[i].ms : 0;
}

size_t ocl_session_device_bytes(const clcnn_session *s) {
  const ocl_session *os = s->ocl;
  if (!os) return 0;
  size_t total = os->arena_bytes + os->const_bytes;
  for (int i = 0; i < s->g.nnodes; i++) total += os->nodes[i].buffer_bytes;
  return total;
}

void ocl_session_close(clcnn_session *s) {
  ocl_session *os = s->ocl;
  if (!os) return;
  if (os->queue) clFinish(os->queue);
  for (int i = 0; os->nodes && i < s->g.nnodes; i++) release_node(os, i);
  if (os->ctx) ocl_gemm_release_context(os->ctx); /* CLBlast's cache for it */
  for (int v = 0; os->const_mem && v < s->g.nvalues; v++)
    if (os->const_mem[v]) clReleaseMemObject(os->const_mem[v]);
  if (os->arena) clReleaseMemObject(os->arena);
  for (int i = 0; i < os->nprograms; i++) {
    clReleaseProgram(os->programs[i].program);
    free(os->programs[i].file);
    free(os->programs[i].options);
  }
  free(os->programs);
  if (os->queue) clReleaseCommandQueue(os->queue);
  if (os->ctx) clReleaseContext(os->ctx);
  free(os->nodes);
  free(os->prepared);
  free(os->events);
  free(os->dev_offset);
  free(os->const_mem);
  free(os->host_valid);
  free(os->dev_valid);
  free(os);
  s->ocl = NULL;
}
