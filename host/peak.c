/* clcnn_device_peak_get() for OpenCL devices: kernels/peak.cl times
 * multiply-adds on registers (FP32, and half where the device has
 * cl_khr_fp16) and a streaming copy; the result is kept in the program
 * cache directory under a key of the device, driver and clcnn version, so
 * that a profile can be placed against it without measuring again. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "devctx.h"

#define PEAK_CACHE_WHAT "clcnn device peak v3" /* v2 entries may hold a cold launch */
#define PEAK_MIN_SECONDS 0.05 /* a timed launch lasts at least this */

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static clcnn_status cl_failed(clcnn_err *err, const char *what, cl_int rc) {
  return err_set(err, rc == CL_OUT_OF_RESOURCES || rc == CL_MEM_OBJECT_ALLOCATION_FAILURE ||
                              rc == CL_OUT_OF_HOST_MEMORY
                          ? CLCNN_ERROR_OUT_OF_MEMORY
                          : CLCNN_ERROR_DEVICE,
                 "measuring the device's peak: %s failed: %s (%d)", what, ocl_error_str(rc), rc);
}

/* Seconds of one launch of `k` over `global` work-items, finished. */
static clcnn_status launch(cl_command_queue q, cl_kernel k, size_t global, double *sec,
                           clcnn_err *err) {
  double t0 = now_s();
  cl_int rc = clEnqueueNDRangeKernel(q, k, 1, NULL, &global, NULL, 0, NULL, NULL);
  if (rc != CL_SUCCESS) return cl_failed(err, "clEnqueueNDRangeKernel", rc);
  if ((rc = clFinish(q)) != CL_SUCCESS) return cl_failed(err, "clFinish", rc);
  *sec = now_s() - t0;
  return CLCNN_OK;
}

/* GFLOP/s of kernel `name` (peak_fma_f32 or peak_fma_f16) of `prog`: one
 * untimed launch first (drivers such as PoCL generate a kernel's code at its
 * first launch; timing that one once kept the iterations at their start and
 * cached a peak of 2 GFLOP/s), then iterations double until a launch lasts
 * PEAK_MIN_SECONDS, and the best of three such launches. `width` is the
 * kernel's vector width. */
static clcnn_status measure_fma(cl_context ctx, cl_command_queue q, cl_program prog,
                                const char *name, int width, size_t global, double *gflops,
                                clcnn_err *err) {
  cl_int rc;
  cl_kernel k = clCreateKernel(prog, name, &rc);
  if (rc != CL_SUCCESS) return cl_failed(err, "clCreateKernel", rc);
  cl_mem out = ocl_create_buffer(ctx, CL_MEM_WRITE_ONLY, global * sizeof(float), NULL, &rc);
  clcnn_status st = CLCNN_OK;
  if (rc != CL_SUCCESS) {
    st = cl_failed(err, "clCreateBuffer", rc);
    goto done;
  }
  float a = 0.9999f, b = 1e-4f;
  cl_int iters = 64;
  double best = 0;
  for (int timed = 0, warm = 0; timed < 3;) {
    rc = clSetKernelArg(k, 0, sizeof out, &out);
    rc |= clSetKernelArg(k, 1, sizeof a, &a);
    rc |= clSetKernelArg(k, 2, sizeof b, &b);
    rc |= clSetKernelArg(k, 3, sizeof iters, &iters);
    if (rc != CL_SUCCESS) {
      st = cl_failed(err, "clSetKernelArg", rc);
      goto done;
    }
    double sec;
    if ((st = launch(q, k, global, &sec, err))) goto done;
    if (!warm++) continue;
    if (sec < PEAK_MIN_SECONDS && iters < (1 << 24)) {
      iters *= 2;
      continue;
    }
    double rate = (double)global * iters * 8.0 * width * 2.0 / sec;
    if (rate > best) best = rate;
    timed++;
  }
  *gflops = best / 1e9;
done:
  if (out) clReleaseMemObject(out);
  clReleaseKernel(k);
  return st;
}

/* GB/s (read + written) of peak_copy over the largest buffer pair the
 * device allows up to 256 MiB each: the best of four launches after one
 * to warm up. */
static clcnn_status measure_copy(const ocl_device_info *dev, cl_context ctx, cl_command_queue q,
                                 cl_program prog, double *gbs, clcnn_err *err) {
  size_t bytes = (size_t)256 << 20;
  if (dev->max_alloc_size / 2 < bytes) bytes = (size_t)(dev->max_alloc_size / 2);
  if (dev->global_mem_size / 8 < bytes) bytes = (size_t)(dev->global_mem_size / 8);
  bytes &= ~(size_t)((1 << 20) - 1);
  if (bytes < ((size_t)1 << 20)) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY,
                                                "measuring the device's peak: too little memory");
  cl_int rc;
  cl_kernel k = clCreateKernel(prog, "peak_copy", &rc);
  if (rc != CL_SUCCESS) return cl_failed(err, "clCreateKernel", rc);
  cl_mem src = ocl_create_buffer(ctx, CL_MEM_READ_ONLY, bytes, NULL, &rc);
  cl_mem dst = rc == CL_SUCCESS ? ocl_create_buffer(ctx, CL_MEM_WRITE_ONLY, bytes, NULL, &rc) : NULL;
  clcnn_status st = CLCNN_OK;
  if (rc != CL_SUCCESS) {
    st = cl_failed(err, "clCreateBuffer", rc);
    goto done;
  }
  float zero = 0;
  rc = clEnqueueFillBuffer(q, src, &zero, sizeof zero, 0, bytes, 0, NULL, NULL);
  rc |= clSetKernelArg(k, 0, sizeof src, &src);
  rc |= clSetKernelArg(k, 1, sizeof dst, &dst);
  if (rc != CL_SUCCESS) {
    st = cl_failed(err, "clEnqueueFillBuffer/clSetKernelArg", rc);
    goto done;
  }
  double best = 0;
  for (int r = 0; r < 5; r++) {
    double sec;
    if ((st = launch(q, k, bytes / 16, &sec, err))) goto done;
    double rate = sec > 0 ? 2.0 * (double)bytes / sec : 0;
    if (r > 0 && rate > best) best = rate;
  }
  *gbs = best / 1e9;
done:
  if (src) clReleaseMemObject(src);
  if (dst) clReleaseMemObject(dst);
  clReleaseKernel(k);
  return st;
}

static clcnn_status measure(const ocl_device_info *dev, ocl_devctx *dc, clcnn_device_peak *out,
                            clcnn_err *err) {
  cl_context ctx = ocl_devctx_context(dc);
  cl_int rc;
  cl_command_queue q = clCreateCommandQueue(ctx, dev->device, 0, &rc);
  if (rc != CL_SUCCESS) return cl_failed(err, "clCreateCommandQueue", rc);
  /* Enough work-items to fill any device many times over; on a CPU device
   * each is one wide register's worth of lanes. */
  const bool cpu = dev->type == OCL_DEVICE_CPU;
  const int width = cpu ? 16 : 4;
  size_t global = (size_t)(dev->compute_units ? dev->compute_units : 1) * (cpu ? 256 : 2048);
  char opts[64];
  snprintf(opts, sizeof opts, "-DPEAK_W=%d", width);
  cl_program prog;
  clcnn_status st = ocl_devctx_program(dc, "peak.cl", opts, &prog, NULL, NULL, err);
  if (!st) st = measure_fma(ctx, q, prog, "peak_fma_f32", width, global, &out->fp32_gflops, err);
  if (!st) st = measure_copy(dev, ctx, q, prog, &out->bandwidth_gbs, err);
  if (!st && dev->fp16) {
    cl_program half;
    snprintf(opts, sizeof opts, "-DPEAK_W=%d -DPEAK_HALF", width);
    st = ocl_devctx_program(dc, "peak.cl", opts, &half, NULL, NULL, err);
    if (!st) st = measure_fma(ctx, q, half, "peak_fma_f16", width, global, &out->fp16_gflops, err);
  }
  clReleaseCommandQueue(q);
  return st;
}

clcnn_status ocl_device_peak(const char *spec, const backend_open_args *a, bool remeasure,
                             clcnn_device_peak *out, clcnn_err *err) {
  memset(out, 0, sizeof *out);
  const ocl_device_info *devs;
  int count = 0, index = OCL_DEVICE_CPU_BACKEND;
  clcnn_status st = ocl_devices_list(&devs, &count, err);
  if (!st) st = ocl_device_select(spec, &index, err);
  if (st || index == OCL_DEVICE_CPU_BACKEND) return st; /* "best" without OpenCL: all zero */
  const ocl_device_info *dev = &devs[index];
  ocl_cache_config cache = {.dir = a->cache_dir, .disabled = a->disable_cache};
  uint8_t key[OCL_CACHE_KEY_SIZE];
  ocl_cache_key(dev, PEAK_CACHE_WHAT, "", key);
  char text[256];
  size_t len;
  if (!remeasure && ocl_cache_data_read(&cache, key, text, sizeof text - 1, &len)) {
    text[len] = 0;
    double f32, f16, bw;
    if (sscanf(text, "clcnn-peak fp32 %lf fp16 %lf bandwidth %lf", &f32, &f16, &bw) == 3 &&
        f32 > 0 && bw > 0 && f16 >= 0) {
      *out = (clcnn_device_peak){f32, f16, bw, 1};
      return CLCNN_OK;
    }
  }
  ocl_devctx *dc;
  if ((st = ocl_devctx_acquire(a->ctx, dev, NULL, &cache, &dc, err))) return st;
  st = measure(dev, dc, out, err);
  ocl_devctx_release(dc);
  if (st) {
    memset(out, 0, sizeof *out);
    return st;
  }
  int n = snprintf(text, sizeof text, "clcnn-peak fp32 %.6g fp16 %.6g bandwidth %.6g\n",
                   out->fp32_gflops, out->fp16_gflops, out->bandwidth_gbs);
  if (n > 0 && (size_t)n < sizeof text) ocl_cache_data_write(&cache, key, text, (size_t)n);
  return CLCNN_OK;
}
