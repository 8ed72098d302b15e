/* clcnn_devices(): the device backends' devices, then the CPU backend.
 * Enumerated once per process (the OpenCL installation does not change while
 * it runs); a failure to list OpenCL platforms is remembered and returned
 * with the CPU backend's entry, so callers can still run. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "clcnn_config.h"

static pthread_mutex_t devices_lock = PTHREAD_MUTEX_INITIALIZER;
static clcnn_device_info *devices;
static int ndevices;
static clcnn_err devices_err;
static bool devices_done;

/* The CPU backend as a device: all cores, the machine's memory. */
static void cpu_entry(clcnn_device_info *d, bool best) {
  long cores = sysconf(_SC_NPROCESSORS_ONLN), pages = sysconf(_SC_PHYS_PAGES);
  long page = sysconf(_SC_PAGESIZE);
  uint64_t mem = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
  *d = (clcnn_device_info){.id = "cpu", .name = "clcnn CPU backend", .vendor = "clcnn",
                           .platform = "", .driver_version = CLCNN_VERSION_STRING,
                           .opencl_version = "", .type = CLCNN_DEVICE_TYPE_CPU_BACKEND,
                           .index = -1, .compute_units = cores > 0 ? (int)cores : 1,
                           .global_memory_bytes = mem, .max_allocation_bytes = mem,
                           .fp16 = 0, .best = best, .available = 1};
}

clcnn_status clcnn_devices(const clcnn_device_info **out, int *count) {
  clcnn_err err = {0};
  if (!out || !count) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_devices: NULL argument");
    return api_fail(&err);
  }
  pthread_mutex_lock(&devices_lock);
  if (!devices_done) {
    clcnn_device_info *list = NULL;
    int n = 0;
    clcnn_status st = device_backend_list(&list, &n, &devices_err);
    clcnn_device_info *all = realloc(list, sizeof *all * (size_t)(n + 1));
    if (!all) {
      err_set(&devices_err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      free(list); /* its strings leak; out of memory here is hopeless anyway */
      list = NULL;
      n = 0;
    } else {
      bool any_best = false;
      for (int i = 0; i < n; i++) any_best |= all[i].best != 0;
      cpu_entry(&all[n], !any_best);
      devices = all;
      ndevices = n + 1;
    }
    devices_done = all != NULL;
    (void)st; /* kept in devices_err */
  }
  *out = devices;
  *count = ndevices;
  clcnn_status st = devices_err.status;
  if (st) err = devices_err;
  pthread_mutex_unlock(&devices_lock);
  return st ? api_fail(&err) : CLCNN_OK;
}

clcnn_status clcnn_device_peak_get(clcnn_context *ctx, const char *device, int remeasure,
                                   clcnn_device_peak *out) {
  clcnn_err err = {0};
  if (!ctx || !out) {
    err_set(&err, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_device_peak_get: NULL argument");
    return api_fail(&err);
  }
  memset(out, 0, sizeof *out);
  const char *spec = device && device[0] ? device : "best";
  backend_open_args a = {.ctx = ctx, .threads = context_threads(ctx),
                         .cache_dir = ctx->opts.cache_dir,
                         .disable_cache = ctx->opts.disable_cache != 0};
  clcnn_status st = CLCNN_OK;
  if (strcmp(spec, "cpu") != 0) st = device_backend_peak(spec, &a, remeasure != 0, out, &err);
  /* "cpu", or a spec that names no OpenCL device but allows the CPU backend. */
  if (!st && out->fp32_gflops == 0) st = cpu_backend_peak(a.threads, out, &err);
  return st ? api_fail(&err) : CLCNN_OK;
}
