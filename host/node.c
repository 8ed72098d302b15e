/* Helpers that operator implementations (host/ops/FAMILY.c) use to build
 * kernels, upload constants and enqueue work (host/ocl.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_options.h"
#include "ocl_backend.h"

const ocl_device_info *ocl_node_device(const ocl_node *on) { return on->be->dev; }
cl_context ocl_node_context(const ocl_node *on) { return on->be->ctx; }
cl_command_queue ocl_node_queue(const ocl_node *on) { return on->be->queue; }
const ocl_knobs *ocl_node_knobs(const ocl_node *on) { return ocl_devctx_knobs(on->be->dc); }
const ocl_cache_config *ocl_node_cache(const ocl_node *on) { return ocl_devctx_cache(on->be->dc); }

bool ocl_gpu_variant(const ocl_node *on) {
  switch (ocl_node_knobs(on)->variant) {
    case OCL_KNOB_GPU: return true;
    case OCL_KNOB_CPU: return false;
    default: return on->be->dev->type == OCL_DEVICE_GPU;
  }
}

bool ocl_half(const ocl_node *on, int i) {
  const ir_value *v = i < 0 ? ir_out(on->g, on->n, 0) : ir_in(on->g, on->n, i);
  return v && v->half;
}

int ocl_half_alike(const ir_graph *g, const ir_node *n, int input) {
  (void)g;
  (void)n;
  (void)input;
  return 2;
}

void ocl_storage_options(const ocl_node *on, int x_in, int b_in, int r_in, char *o, size_t len) {
  if (x_in >= 0 && ocl_half(on, x_in)) ocl_opt(o, len, "-DX_HALF");
  if (b_in >= 0 && ocl_half(on, b_in)) ocl_opt(o, len, "-DB_HALF");
  if (r_in >= 0 && ocl_half(on, r_in)) ocl_opt(o, len, "-DR_HALF");
  if (ocl_half(on, -1)) ocl_opt(o, len, "-DY_HALF");
}

static clcnn_status cl_fail(clcnn_err *err, clcnn_status st, cl_int code, const char *what) {
  return err_set(err, st, "%s failed: %s (%d)", what, ocl_error_str(code), (int)code);
}

clcnn_status ocl_kernel(ocl_node *on, const char *file, const char *name, const char *options,
                        cl_kernel *out, clcnn_err *err) {
  if (on->nkernels >= OCL_NODE_MAX_KERNELS)
    return err_set(err, CLCNN_ERROR_INTERNAL, "too many kernels for one node");
  /* The program holds only this kernel: every kernel of kernels/FILE is
   * compiled only under -DK_<its name>, since PoCL generates code for every
   * kernel of a program (also when it loads a cached binary). */
  if (!options) options = "";
  size_t len = strlen(options) + strlen(name) + 8;
  char *opts = malloc(len);
  if (!opts) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  snprintf(opts, len, "%s%s-DK_%s", options, options[0] ? " " : "", name);
  cl_program prog;
  bool built = false, from_disk = false;
  clcnn_status st = ocl_devctx_program(on->be->dc, file, opts, &prog, &built, &from_disk, err);
  free(opts);
  if (st) return st;
  on->be->programs_built += built;
  on->be->programs_from_disk += from_disk;
  cl_int rc;
  cl_kernel k = clCreateKernel(prog, name, &rc);
  if (rc != CL_SUCCESS) return cl_fail(err, CLCNN_ERROR_KERNEL_BUILD, rc, name);
  on->kernels[on->nkernels++] = k;
  *out = k;
  return CLCNN_OK;
}

clcnn_status ocl_upload(ocl_node *on, const void *data, size_t bytes, cl_mem *out,
                        clcnn_err *err) {
  ocl_backend *be = on->be;
  if (bytes > be->dev->max_alloc_size)
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY,
                   "a %zu-byte buffer exceeds the device's largest allocation (%llu bytes)", bytes,
                   (unsigned long long)be->dev->max_alloc_size);
  if (data && be->weights) {
    clcnn_status st = ocl_weights_get(be->weights, data, bytes, out, err);
    if (st == CLCNN_OK) on->shared_bytes += bytes;
    return st;
  }
  if (on->nbuffers >= OCL_NODE_MAX_BUFFERS)
    return err_set(err, CLCNN_ERROR_INTERNAL, "too many buffers for one node");
  cl_int rc;
  cl_mem m = ocl_create_buffer(be->ctx, CL_MEM_READ_ONLY | (data ? CL_MEM_COPY_HOST_PTR : 0),
                               bytes ? bytes : 4, (void *)data, &rc);
  if (rc != CL_SUCCESS) return cl_fail(err, CLCNN_ERROR_OUT_OF_MEMORY, rc, "clCreateBuffer");
  on->buffers[on->nbuffers++] = m;
  on->buffer_bytes += bytes;
  *out = m;
  return CLCNN_OK;
}

/* Adds the time of node `idx`'s pending event to the node, and forgets it. */
static void take_event_time(ocl_backend *be, int idx, bool wait) {
  cl_event ev = be->events[idx];
  if (!ev) return;
  if (wait) clWaitForEvents(1, &ev);
  cl_ulong a = 0, b = 0;
  clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof a, &a, NULL);
  clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof b, &b, NULL);
  be->nodes[idx].ms += (double)(b - a) / 1e6;
  clReleaseEvent(ev);
  be->events[idx] = NULL;
}

void ocl_node_collect_times(ocl_backend *be) {
  for (int i = 0; i < be->nnodes; i++) take_event_time(be, i, false);
}

clcnn_status ocl_enqueue(ocl_node *on, cl_kernel k, cl_uint work_dim, const size_t *global,
                         const size_t *local, clcnn_err *err) {
  size_t g[3];
  for (cl_uint i = 0; i < work_dim; i++) {
    g[i] = global[i] ? global[i] : 1;
    if (local && local[i]) g[i] = (g[i] + local[i] - 1) / local[i] * local[i];
  }
  cl_event ev = NULL;
  ocl_backend *be = on->be;
  if (ocl_fault_now(OCL_FAULT_ENQUEUE))
    return cl_fail(err, CLCNN_ERROR_DEVICE, CL_OUT_OF_RESOURCES, "clEnqueueNDRangeKernel");
  if (ocl_device_lost_now(true))
    return cl_fail(err, CLCNN_ERROR_DEVICE, CL_DEVICE_NOT_AVAILABLE, "clEnqueueNDRangeKernel");
  cl_int rc = clEnqueueNDRangeKernel(be->queue, k, work_dim, NULL, g, local, 0, NULL,
                                     be->profile ? &ev : NULL);
  if (rc != CL_SUCCESS) return cl_fail(err, CLCNN_ERROR_DEVICE, rc, "clEnqueueNDRangeKernel");
  if (ev) {
    /* A node with several kernels: the earlier kernel's time is added now,
     * the last one's when the backend synchronises. */
    int idx = (int)(on - be->nodes);
    take_event_time(be, idx, true);
    be->events[idx] = ev;
  }
  return CLCNN_OK;
}

clcnn_status ocl_size_args(cl_kernel k, cl_uint first, const int64_t *v, int n,
                           clcnn_err *err) {
  for (int i = 0; i < n; i++) {
    if (v[i] < 0 || v[i] > (int64_t)UINT32_MAX)
      return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                     "kernel size argument %d (%lld) does not fit 32 bits", i, (long long)v[i]);
    const cl_uint u = (cl_uint)v[i];
    cl_int rc = clSetKernelArg(k, first + (cl_uint)i, sizeof u, &u);
    if (rc != CL_SUCCESS)
      return err_set(err, CLCNN_ERROR_DEVICE, "clSetKernelArg(%u) failed: %s (%d)",
                     first + (cl_uint)i, ocl_error_str(rc), (int)rc);
  }
  return CLCNN_OK;
}

clcnn_status ocl_epilogue_args(cl_kernel k, cl_uint first, const struct ocl_epilogue *e,
                               cl_mem res, size_t res_off, cl_mem placeholder, clcnn_err *err) {
  if (res_off > UINT32_MAX)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "a residual offset past 2^32 elements");
  const cl_mem r = res ? res : placeholder;
  const cl_uint off = res ? (cl_uint)res_off : 0, on = res ? 1 : 0;
  const struct {
    size_t size;
    const void *p;
  } a[] = {{sizeof r, &r},         {sizeof off, &off},   {sizeof on, &on},
           {sizeof e->alpha, &e->alpha}, {sizeof e->lo, &e->lo}, {sizeof e->hi, &e->hi}};
  for (cl_uint i = 0; i < sizeof a / sizeof *a; i++) {
    cl_int rc = clSetKernelArg(k, first + i, a[i].size, a[i].p);
    if (rc != CL_SUCCESS)
      return err_set(err, CLCNN_ERROR_DEVICE, "clSetKernelArg(%u) failed: %s (%d)", first + i,
                     ocl_error_str(rc), (int)rc);
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
