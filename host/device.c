/* OpenCL devices: enumeration, capability probing and selection. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "device.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- errors */

const char *ocl_error_str(cl_int code) {
  switch (code) {
#define E(x) \
  case x: return #x;
    E(CL_SUCCESS)
    E(CL_DEVICE_NOT_FOUND)
    E(CL_DEVICE_NOT_AVAILABLE)
    E(CL_COMPILER_NOT_AVAILABLE)
    E(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    E(CL_OUT_OF_RESOURCES)
    E(CL_OUT_OF_HOST_MEMORY)
    E(CL_PROFILING_INFO_NOT_AVAILABLE)
    E(CL_MEM_COPY_OVERLAP)
    E(CL_IMAGE_FORMAT_MISMATCH)
    E(CL_IMAGE_FORMAT_NOT_SUPPORTED)
    E(CL_BUILD_PROGRAM_FAILURE)
    E(CL_MAP_FAILURE)
    E(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    E(CL_COMPILE_PROGRAM_FAILURE)
    E(CL_LINKER_NOT_AVAILABLE)
    E(CL_LINK_PROGRAM_FAILURE)
    E(CL_DEVICE_PARTITION_FAILED)
    E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    E(CL_INVALID_VALUE)
    E(CL_INVALID_DEVICE_TYPE)
    E(CL_INVALID_PLATFORM)
    E(CL_INVALID_DEVICE)
    E(CL_INVALID_CONTEXT)
    E(CL_INVALID_QUEUE_PROPERTIES)
    E(CL_INVALID_COMMAND_QUEUE)
    E(CL_INVALID_HOST_PTR)
    E(CL_INVALID_MEM_OBJECT)
    E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    E(CL_INVALID_IMAGE_SIZE)
    E(CL_INVALID_SAMPLER)
    E(CL_INVALID_BINARY)
    E(CL_INVALID_BUILD_OPTIONS)
    E(CL_INVALID_PROGRAM)
    E(CL_INVALID_PROGRAM_EXECUTABLE)
    E(CL_INVALID_KERNEL_NAME)
    E(CL_INVALID_KERNEL_DEFINITION)
    E(CL_INVALID_KERNEL)
    E(CL_INVALID_ARG_INDEX)
    E(CL_INVALID_ARG_VALUE)
    E(CL_INVALID_ARG_SIZE)
    E(CL_INVALID_KERNEL_ARGS)
    E(CL_INVALID_WORK_DIMENSION)
    E(CL_INVALID_WORK_GROUP_SIZE)
    E(CL_INVALID_WORK_ITEM_SIZE)
    E(CL_INVALID_GLOBAL_OFFSET)
    E(CL_INVALID_EVENT_WAIT_LIST)
    E(CL_INVALID_EVENT)
    E(CL_INVALID_OPERATION)
    E(CL_INVALID_GL_OBJECT)
    E(CL_INVALID_BUFFER_SIZE)
    E(CL_INVALID_MIP_LEVEL)
    E(CL_INVALID_GLOBAL_WORK_SIZE)
    E(CL_INVALID_PROPERTY)
    E(CL_INVALID_IMAGE_DESCRIPTOR)
    E(CL_INVALID_COMPILER_OPTIONS)
    E(CL_INVALID_LINKER_OPTIONS)
    E(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef E
    case -69: return "CL_INVALID_PIPE_SIZE";
    case -70: return "CL_INVALID_DEVICE_QUEUE";
    case -71: return "CL_INVALID_SPEC_ID";
    case -72: return "CL_MAX_SIZE_RESTRICTION_EXCEEDED";
    case CL_PLATFORM_NOT_FOUND_KHR: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "CL_UNKNOWN_ERROR";
  }
}

/* --------------------------------------------------------------- probing */

/* Trims leading and trailing white space in place (drivers pad names). */
static void trim(char *s) {
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
  size_t i = 0;
  while (s[i] && isspace((unsigned char)s[i])) i++;
  if (i) memmove(s, s + i, n - i + 1);
}

/* Copies a string query into buf (truncated to fit, NUL-terminated, trimmed).
 * "" when the query fails. */
static void platform_str(cl_platform_id p, cl_platform_info what, char *buf, size_t len) {
  size_t need = 0;
  buf[0] = 0;
  if (clGetPlatformInfo(p, what, 0, NULL, &need) != CL_SUCCESS || need == 0) return;
  if (need <= len) {
    if (clGetPlatformInfo(p, what, len, buf, NULL) != CL_SUCCESS) buf[0] = 0;
  } else {
    char *tmp = malloc(need);
    if (tmp && clGetPlatformInfo(p, what, need, tmp, NULL) == CL_SUCCESS) {
      memcpy(buf, tmp, len - 1);
    }
    buf[len - 1] = 0;
    free(tmp);
  }
  buf[len - 1] = 0;
  trim(buf);
}

static void device_str(cl_device_id d, cl_device_info what, char *buf, size_t len) {
  size_t need = 0;
  buf[0] = 0;
  if (clGetDeviceInfo(d, what, 0, NULL, &need) != CL_SUCCESS || need == 0) return;
  if (need <= len) {
    if (clGetDeviceInfo(d, what, len, buf, NULL) != CL_SUCCESS) buf[0] = 0;
  } else {
    char *tmp = malloc(need);
    if (tmp && clGetDeviceInfo(d, what, need, tmp, NULL) == CL_SUCCESS) {
      memcpy(buf, tmp, len - 1);
    }
    buf[len - 1] = 0;
    free(tmp);
  }
  buf[len - 1] = 0;
  trim(buf);
}

/* The whole string of a query, malloc'd ("" on failure); NULL only when out
 * of memory. */
static char *device_str_dup(cl_device_id d, cl_device_info what) {
  size_t need = 0;
  if (clGetDeviceInfo(d, what, 0, NULL, &need) != CL_SUCCESS || need == 0) return calloc(1, 1);
  char *s = malloc(need + 1);
  if (!s) return NULL;
  if (clGetDeviceInfo(d, what, need, s, NULL) != CL_SUCCESS) need = 0;
  s[need] = 0;
  return s;
}

static cl_ulong dev_ulong(cl_device_id d, cl_device_info what) {
  cl_ulong v = 0;
  if (clGetDeviceInfo(d, what, sizeof v, &v, NULL) != CL_SUCCESS) return 0;
  return v;
}

static cl_uint dev_uint(cl_device_id d, cl_device_info what) {
  cl_uint v = 0;
  if (clGetDeviceInfo(d, what, sizeof v, &v, NULL) != CL_SUCCESS) return 0;
  return v;
}

static size_t dev_size(cl_device_id d, cl_device_info what) {
  size_t v = 0;
  if (clGetDeviceInfo(d, what, sizeof v, &v, NULL) != CL_SUCCESS) return 0;
  return v;
}

static bool dev_bool(cl_device_id d, cl_device_info what) {
  cl_bool v = CL_FALSE;
  if (clGetDeviceInfo(d, what, sizeof v, &v, NULL) != CL_SUCCESS) return false;
  return v != CL_FALSE;
}

/* Whether the space-separated list `list` holds the word `word`. */
static bool has_word(const char *list, const char *word) {
  if (!list || !word || !*word) return false;
  size_t n = strlen(word);
  for (const char *p = list; (p = strstr(p, word)) != NULL; p += n) {
    bool start = p == list || isspace((unsigned char)p[-1]);
    bool end = p[n] == 0 || isspace((unsigned char)p[n]);
    if (start && end) return true;
  }
  return false;
}

bool ocl_device_has_extension(const ocl_device_info *d, const char *ext) {
  return d && has_word(d->extensions, ext);
}

/* "OpenCL C 1.2 ..." or "OpenCL 1.2 ..." → 1, 2. */
static void parse_version(const char *s, const char *prefix, int *major, int *minor) {
  size_t n = strlen(prefix);
  *major = *minor = 0;
  if (strncmp(s, prefix, n) != 0) return;
  int a = 0, b = 0;
  if (sscanf(s + n, "%d.%d", &a, &b) == 2 && a > 0) {
    *major = a;
    *minor = b;
  }
}

/* A device that lists fine may still fail to initialise (a driver without
 * its kernel module, a GPU in a bad state): try a context once. */
static void check_context(ocl_device_info *di) {
  cl_int rc;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)di->platform, 0};
  cl_context c = clCreateContext(props, 1, &di->device, NULL, NULL, &rc);
  if (rc == CL_SUCCESS && c) {
    clReleaseContext(c);
    return;
  }
  snprintf(di->unavailable_reason, sizeof di->unavailable_reason,
           "a context cannot be created on it: %s (%d)", ocl_error_str(rc), (int)rc);
}

/* "PLATFORM|VENDOR|NAME|DRIVER", then "|#K" for repeats of the same. */
static void make_ids(ocl_device_info *devs, int n) {
  for (int i = 0; i < n; i++) {
    ocl_device_info *d = &devs[i];
    snprintf(d->id, sizeof d->id, "%s|%s|%s|%s", d->platform_name, d->vendor, d->name,
             d->driver_version);
    int same = 1;
    for (int k = 0; k < i; k++)
      if (!strcmp(devs[k].platform_name, d->platform_name) && !strcmp(devs[k].vendor, d->vendor) &&
          !strcmp(devs[k].name, d->name) && !strcmp(devs[k].driver_version, d->driver_version))
        same++;
    if (same > 1) {
      size_t at = strlen(d->id);
      snprintf(d->id + at, sizeof d->id - at, "|#%d", same);
    }
  }
}

static clcnn_status probe_device(ocl_device_info *di, int platform_index, cl_platform_id p,
                                 const char *pname, const char *pvendor, const char *pversion,
                                 cl_device_id d, clcnn_err *err) {
  memset(di, 0, sizeof *di);
  di->platform_index = platform_index;
  di->platform = p;
  di->device = d;
  snprintf(di->platform_name, sizeof di->platform_name, "%s", pname);
  snprintf(di->platform_vendor, sizeof di->platform_vendor, "%s", pvendor);
  snprintf(di->platform_version, sizeof di->platform_version, "%s", pversion);
  device_str(d, CL_DEVICE_NAME, di->name, sizeof di->name);
  device_str(d, CL_DEVICE_VENDOR, di->vendor, sizeof di->vendor);
  device_str(d, CL_DRIVER_VERSION, di->driver_version, sizeof di->driver_version);
  device_str(d, CL_DEVICE_VERSION, di->device_version, sizeof di->device_version);
  device_str(d, CL_DEVICE_OPENCL_C_VERSION, di->opencl_c_version, sizeof di->opencl_c_version);
  parse_version(di->opencl_c_version, "OpenCL C ", &di->opencl_c_major, &di->opencl_c_minor);
  if (di->opencl_c_major == 0) {
    /* OpenCL 1.0 devices lack the query: their C version is the device's. */
    parse_version(di->device_version, "OpenCL ", &di->opencl_c_major, &di->opencl_c_minor);
  }

  cl_device_type t = 0;
  if (clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof t, &t, NULL) != CL_SUCCESS) t = 0;
  if (t & CL_DEVICE_TYPE_GPU)
    di->type = OCL_DEVICE_GPU;
  else if (t & CL_DEVICE_TYPE_ACCELERATOR)
    di->type = OCL_DEVICE_ACCELERATOR;
  else if (t & CL_DEVICE_TYPE_CPU)
    di->type = OCL_DEVICE_CPU;
  else
    di->type = OCL_DEVICE_OTHER;

  di->available = true;
  if (!dev_bool(d, CL_DEVICE_AVAILABLE))
    snprintf(di->unavailable_reason, sizeof di->unavailable_reason,
             "the driver says it is not available (CL_DEVICE_AVAILABLE is false)");
  else if (!dev_bool(d, CL_DEVICE_COMPILER_AVAILABLE))
    snprintf(di->unavailable_reason, sizeof di->unavailable_reason,
             "it has no OpenCL C compiler (CL_DEVICE_COMPILER_AVAILABLE is false)");
  else
    check_context(di);
  di->available = di->unavailable_reason[0] == 0;
  di->global_mem_size = dev_ulong(d, CL_DEVICE_GLOBAL_MEM_SIZE);
  di->local_mem_size = dev_ulong(d, CL_DEVICE_LOCAL_MEM_SIZE);
  cl_device_local_mem_type lmt = CL_GLOBAL;
  if (clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_TYPE, sizeof lmt, &lmt, NULL) != CL_SUCCESS)
    lmt = CL_GLOBAL;
  di->local_mem_dedicated = lmt == CL_LOCAL;
  di->max_alloc_size = dev_ulong(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
  di->max_constant_buffer_size = dev_ulong(d, CL_DEVICE_MAX_CONSTANT_BUFFER_SIZE);
  di->global_mem_cache_size = dev_ulong(d, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE);
  di->compute_units = dev_uint(d, CL_DEVICE_MAX_COMPUTE_UNITS);
  di->max_work_group_size = dev_size(d, CL_DEVICE_MAX_WORK_GROUP_SIZE);
  cl_uint dims = dev_uint(d, CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS);
  if (dims >= 3 && dims <= 64) {
    size_t sizes[64] = {0};
    if (clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_ITEM_SIZES, dims * sizeof(size_t), sizes, NULL) ==
        CL_SUCCESS)
      memcpy(di->max_work_item_sizes, sizes, sizeof di->max_work_item_sizes);
  }
  di->max_clock_mhz = dev_uint(d, CL_DEVICE_MAX_CLOCK_FREQUENCY);
  di->mem_base_addr_align_bits = dev_uint(d, CL_DEVICE_MEM_BASE_ADDR_ALIGN);
  di->address_bits = dev_uint(d, CL_DEVICE_ADDRESS_BITS);
  di->preferred_vector_width_float = dev_uint(d, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT);
  di->profiling_timer_resolution_ns = dev_size(d, CL_DEVICE_PROFILING_TIMER_RESOLUTION);
  di->images = dev_bool(d, CL_DEVICE_IMAGE_SUPPORT);
  /* Deprecated in OpenCL 2.0 but still answered by every driver we know;
   * a failing query reads as "not unified". */
  di->unified_memory = dev_bool(d, CL_DEVICE_HOST_UNIFIED_MEMORY);
  di->integrated_gpu = di->type == OCL_DEVICE_GPU && di->unified_memory;

  char *ext = device_str_dup(d, CL_DEVICE_EXTENSIONS);
  if (!ext) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory probing OpenCL devices");
  di->extensions = ext;
  di->fp16 = has_word(ext, "cl_khr_fp16");
  di->fp64 = has_word(ext, "cl_khr_fp64");
  di->subgroups = has_word(ext, "cl_khr_subgroups") || has_word(ext, "cl_intel_subgroups");
  return CLCNN_OK;
}

/* ------------------------------------------------------------ the cache */

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static bool g_done;
static ocl_device_info *g_devs;
static int g_count;
static clcnn_err g_err; /* status and message of the enumeration */

static void free_devs(ocl_device_info *devs, int count) {
  for (int i = 0; i < count; i++) free((void *)devs[i].extensions);
  free(devs);
}

/* Enumerates every device into *out / *count. */
static clcnn_status enumerate(ocl_device_info **out, int *count, clcnn_err *err) {
  *out = NULL;
  *count = 0;
  cl_uint np = 0;
  cl_int rc = clGetPlatformIDs(0, NULL, &np);
  if (rc == CL_PLATFORM_NOT_FOUND_KHR || (rc == CL_SUCCESS && np == 0)) return CLCNN_OK;
  if (rc != CL_SUCCESS)
    return err_set(err, CLCNN_ERROR_DEVICE, "clGetPlatformIDs failed: %s (%d)", ocl_error_str(rc),
                   (int)rc);
  cl_platform_id *plats = calloc(np, sizeof *plats);
  if (!plats) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory listing platforms");
  rc = clGetPlatformIDs(np, plats, &np);
  if (rc != CL_SUCCESS) {
    free(plats);
    if (rc == CL_PLATFORM_NOT_FOUND_KHR) return CLCNN_OK;
    return err_set(err, CLCNN_ERROR_DEVICE, "clGetPlatformIDs failed: %s (%d)", ocl_error_str(rc),
                   (int)rc);
  }

  clcnn_status st = CLCNN_OK;
  ocl_device_info *devs = NULL;
  int n = 0, cap = 0;
  char *pname = malloc(OCL_NAME_MAX), *pvendor = malloc(OCL_NAME_MAX);
  char *pversion = malloc(OCL_VERSION_MAX);
  if (!pname || !pvendor || !pversion) {
    st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory listing platforms");
    goto done;
  }
  for (cl_uint p = 0; p < np && st == CLCNN_OK; p++) {
    cl_uint nd = 0;
    /* CL_DEVICE_NOT_FOUND, or a broken platform: skip it, keep the others. */
    if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
      continue;
    cl_device_id *ids = calloc(nd, sizeof *ids);
    if (!ids) {
      st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory listing devices");
      break;
    }
    if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, ids, &nd) != CL_SUCCESS) {
      free(ids);
      continue;
    }
    platform_str(plats[p], CL_PLATFORM_NAME, pname, OCL_NAME_MAX);
    platform_str(plats[p], CL_PLATFORM_VENDOR, pvendor, OCL_NAME_MAX);
    platform_str(plats[p], CL_PLATFORM_VERSION, pversion, OCL_VERSION_MAX);
    for (cl_uint d = 0; d < nd; d++) {
      if (n == cap) {
        int ncap = cap ? 2 * cap : 4;
        ocl_device_info *nd_ = realloc(devs, (size_t)ncap * sizeof *devs);
        if (!nd_) {
          st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory listing devices");
          break;
        }
        devs = nd_;
        cap = ncap;
      }
      st = probe_device(&devs[n], (int)p, plats[p], pname, pvendor, pversion, ids[d], err);
      if (st != CLCNN_OK) break;
      devs[n].index = n;
      n++;
    }
    free(ids);
  }
done:
  free(pname);
  free(pvendor);
  free(pversion);
  free(plats);
  if (st != CLCNN_OK) {
    free_devs(devs, n);
    return st;
  }
  if (n == 0) {
    free(devs);
    devs = NULL;
  }
  make_ids(devs, n);
  *out = devs;
  *count = n;
  return CLCNN_OK;
}

clcnn_status ocl_devices_list(const ocl_device_info **out, int *count, clcnn_err *err) {
  if (!out || !count)
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "ocl_devices_list: NULL argument");
  pthread_mutex_lock(&g_lock);
  if (!g_done) {
    memset(&g_err, 0, sizeof g_err);
    g_err.status = enumerate(&g_devs, &g_count, &g_err);
    /* Out of memory may pass; keep trying on later calls. Other results are
     * what this process's OpenCL installation says, and do not change. */
    g_done = g_err.status != CLCNN_ERROR_OUT_OF_MEMORY;
  }
  clcnn_status st = g_err.status;
  if (st == CLCNN_OK) {
    *out = g_devs;
    *count = g_count;
  } else {
    *out = NULL;
    *count = 0;
    err_set(err, st, "%s", g_err.msg);
  }
  pthread_mutex_unlock(&g_lock);
  return st;
}

void ocl_devices_release(void) {
  pthread_mutex_lock(&g_lock);
  free_devs(g_devs, g_count);
  g_devs = NULL;
  g_count = 0;
  g_done = false;
  memset(&g_err, 0, sizeof g_err);
  pthread_mutex_unlock(&g_lock);
}

/* ------------------------------------------------------------ selection */

const char *ocl_device_type_str(const ocl_device_info *d) {
  switch (d->type) {
    case OCL_DEVICE_GPU: return d->integrated_gpu ? "integrated gpu" : "gpu";
    case OCL_DEVICE_CPU: return "cpu";
    case OCL_DEVICE_ACCELERATOR: return "accelerator";
    default: return "other";
  }
}

/* Lower is better for "best". */
static int device_class(const ocl_device_info *d) {
  switch (d->type) {
    case OCL_DEVICE_GPU: return d->integrated_gpu ? 1 : 0;
    case OCL_DEVICE_ACCELERATOR: return 2;
    case OCL_DEVICE_CPU: return 3;
    default: return 4;
  }
}

int ocl_device_best(const ocl_device_info *devs, int count) {
  int best = -1;
  for (int i = 0; i < count; i++) {
    if (!devs[i].available) continue;
    if (best < 0 || device_class(&devs[i]) < device_class(&devs[best])) best = i;
  }
  return best;
}

/* Case-insensitive: s[0..n) equals word. */
static bool word_eq(const char *s, size_t n, const char *word) {
  return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* Case-insensitive substring search of needle[0..n) in hay. */
static bool contains_ci(const char *hay, const char *needle, size_t n) {
  if (n == 0) return true;
  for (; *hay; hay++) {
    if (strncasecmp(hay, needle, n) == 0) return true;
  }
  return false;
}

/* Parses digits s[0..n) as a non-negative int; false if not all digits. */
static bool parse_index(const char *s, size_t n, int *out) {
  if (n == 0 || n > 9) return false;
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

/* Error naming the spec and listing the devices. */
static clcnn_status no_match(const ocl_device_info *devs, int count, const char *spec, size_t n,
                             const char *why, clcnn_err *err) {
  if (count == 0) {
    return err_set(err, CLCNN_ERROR_DEVICE,
                   "device \"%.*s\": %s; no OpenCL device was found (use \"cpu\" for the CPU "
                   "backend)",
                   (int)(n > 200 ? 200 : n), spec, why);
  }
  for (int i = 0; i < count; i++) {
    if (i == 0) {
      err_set(err, CLCNN_ERROR_DEVICE,
              "device \"%.*s\": %s; available: opencl:%d \"%s\" (%s, %s%s)",
              (int)(n > 200 ? 200 : n), spec, why, i, devs[i].name, ocl_device_type_str(&devs[i]),
              devs[i].platform_name, devs[i].available ? "" : ", unavailable");
    } else {
      err_append(err, CLCNN_ERROR_DEVICE, "opencl:%d \"%s\" (%s, %s%s)", i, devs[i].name,
                 ocl_device_type_str(&devs[i]), devs[i].platform_name,
                 devs[i].available ? "" : ", unavailable");
    }
  }
  return err_append(err, CLCNN_ERROR_DEVICE, "or \"cpu\" for the CPU backend");
}

static clcnn_status first_of_type(const ocl_device_info *devs, int count, ocl_device_type t,
                                  const char *spec, size_t n, int *index, clcnn_err *err) {
  for (int i = 0; i < count; i++) {
    if (devs[i].type == t && devs[i].available) {
      *index = i;
      return CLCNN_OK;
    }
  }
  return no_match(devs, count, spec, n, "no available OpenCL device of that type", err);
}

clcnn_status ocl_device_select_from(const ocl_device_info *devs, int count, const char *spec,
                                    int *index, clcnn_err *err) {
  if (!index) return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "ocl_device_select: NULL index");
  *index = OCL_DEVICE_CPU_BACKEND;
  if (count < 0 || (count > 0 && !devs))
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "ocl_device_select: bad device list");
  if (!spec) spec = "";
  /* Trim white space (specs often come from the environment). */
  while (isspace((unsigned char)*spec)) spec++;
  size_t n = strlen(spec);
  while (n && isspace((unsigned char)spec[n - 1])) n--;

  if (n == 0 || word_eq(spec, n, "best")) {
    *index = ocl_device_best(devs, count); /* -1: the CPU backend */
    return CLCNN_OK;
  }
  if (word_eq(spec, n, "cpu")) return CLCNN_OK;
  if (word_eq(spec, n, "opencl")) {
    int b = ocl_device_best(devs, count);
    if (b < 0) return no_match(devs, count, spec, n, "no available OpenCL device", err);
    *index = b;
    return CLCNN_OK;
  }
  if (word_eq(spec, n, "gpu"))
    return first_of_type(devs, count, OCL_DEVICE_GPU, spec, n, index, err);
  if (word_eq(spec, n, "cpu-opencl"))
    return first_of_type(devs, count, OCL_DEVICE_CPU, spec, n, index, err);
  if (word_eq(spec, n, "accelerator"))
    return first_of_type(devs, count, OCL_DEVICE_ACCELERATOR, spec, n, index, err);

  int i = -1;
  bool numeric = parse_index(spec, n, &i);
  if (!numeric && n > 7 && strncasecmp(spec, "opencl:", 7) == 0) {
    numeric = parse_index(spec + 7, n - 7, &i);
    if (!numeric) return no_match(devs, count, spec, n, "not a device index", err);
  }
  if (numeric) {
    if (i >= count) return no_match(devs, count, spec, n, "no device with that index", err);
    if (!devs[i].available)
      return no_match(devs, count, spec, n, "that device is not available", err);
    *index = i;
    return CLCNN_OK;
  }

  for (int k = 0; k < count; k++) /* a device's id, as clcnn_devices() gives it */
    if (strlen(devs[k].id) == n && strncmp(devs[k].id, spec, n) == 0) {
      if (!devs[k].available)
        return no_match(devs, count, spec, n, "that device is not available", err);
      *index = k;
      return CLCNN_OK;
    }
  bool unavailable = false;
  for (int k = 0; k < count; k++) {
    if (!contains_ci(devs[k].name, spec, n)) continue;
    if (devs[k].available) {
      *index = k;
      return CLCNN_OK;
    }
    unavailable = true;
  }
  return no_match(
      devs, count, spec, n,
      unavailable ? "the matching devices are not available" : "no device name contains that", err);
}

clcnn_status ocl_device_select(const char *spec, int *index, clcnn_err *err) {
  if (!index) return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "ocl_device_select: NULL index");
  *index = OCL_DEVICE_CPU_BACKEND;
  if (!spec) spec = getenv("CLCNN_DEVICE");
  /* "cpu" needs no OpenCL at all: do not even load the ICD. */
  if (spec) {
    const char *s = spec;
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (word_eq(s, n, "cpu")) return CLCNN_OK;
  }
  const ocl_device_info *devs = NULL;
  int count = 0;
  clcnn_status st = ocl_devices_list(&devs, &count, err);
  if (st != CLCNN_OK) return st;
  return ocl_device_select_from(devs, count, spec, index, err);
}

/* ---------------------------------------------------------- description */

typedef struct outbuf {
  char *buf;
  size_t len, at;
} outbuf;

static void out_printf(outbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(outbuf *o, const char *fmt, ...) {
  if (o->len == 0 || o->at >= o->len - 1) return;
  va_list ap;
  va_start(ap, fmt);
  int w = vsnprintf(o->buf + o->at, o->len - o->at, fmt, ap);
  va_end(ap);
  if (w < 0) return;
  o->at += (size_t)w;
  if (o->at > o->len - 1) o->at = o->len - 1;
}

static const char *human_bytes(cl_ulong b, char *buf, size_t len) {
  static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)b;
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    u++;
  }
  if (u == 0 || v == (double)(cl_ulong)v)
    snprintf(buf, len, "%.0f %s", v, units[u]);
  else
    snprintf(buf, len, "%.1f %s", v, units[u]);
  return buf;
}

void ocl_device_describe(const ocl_device_info *d, char *buf, size_t len) {
  if (!buf || len == 0) return;
  buf[0] = 0;
  if (!d) return;
  outbuf o = {buf, len, 0};
  char a[32], b[32], c[32];
  out_printf(&o, "opencl:%d  %s%s\n", d->index, d->name, d->available ? "" : "  (unavailable)");
  if (!d->available && d->unavailable_reason[0])
    out_printf(&o, "  unavailable:     %s\n", d->unavailable_reason);
  if (d->id[0]) out_printf(&o, "  id:              %s\n", d->id);
  out_printf(&o, "  type:            %s\n", ocl_device_type_str(d));
  out_printf(&o, "  platform:        %s (%s)\n", d->platform_name, d->platform_version);
  out_printf(&o, "  vendor:          %s\n", d->vendor);
  out_printf(&o, "  driver:          %s\n", d->driver_version);
  out_printf(&o, "  device version:  %s\n", d->device_version);
  out_printf(&o, "  OpenCL C:        %s\n", d->opencl_c_version);
  out_printf(&o, "  compute units:   %u at %u MHz\n", (unsigned)d->compute_units,
             (unsigned)d->max_clock_mhz);
  out_printf(&o, "  global memory:   %s (largest buffer %s)\n",
             human_bytes(d->global_mem_size, a, sizeof a),
             human_bytes(d->max_alloc_size, b, sizeof b));
  out_printf(&o, "  local memory:    %s%s\n", human_bytes(d->local_mem_size, c, sizeof c),
             d->local_mem_dedicated ? "" : " (emulated in global memory)");
  out_printf(&o, "  work-group size: %zu (items %zu x %zu x %zu)\n", d->max_work_group_size,
             d->max_work_item_sizes[0], d->max_work_item_sizes[1], d->max_work_item_sizes[2]);
  out_printf(&o, "  features:       %s%s%s%s%s%s\n", d->fp16 ? " fp16" : "", d->fp64 ? " fp64" : "",
             d->subgroups ? " subgroups" : "", d->images ? " images" : "",
             d->unified_memory ? " unified-memory" : "",
             (d->fp16 || d->fp64 || d->subgroups || d->images || d->unified_memory) ? "" : " none");
}

/* ------------------------------------------------- the public description */

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

clcnn_status ocl_devices_public(clcnn_device_info **out, int *count, clcnn_err *err) {
  *out = NULL;
  *count = 0;
  const ocl_device_info *devs;
  int n;
  clcnn_status st = ocl_devices_list(&devs, &n, err);
  if (st || n == 0) return st;
  clcnn_device_info *list = calloc((size_t)n, sizeof *list);
  if (!list) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  int best = ocl_device_best(devs, n);
  for (int i = 0; i < n; i++) {
    const ocl_device_info *d = &devs[i];
    clcnn_device_info *o = &list[i];
    static const clcnn_device_type types[] = {
        [OCL_DEVICE_GPU] = CLCNN_DEVICE_TYPE_GPU, [OCL_DEVICE_CPU] = CLCNN_DEVICE_TYPE_CPU,
        [OCL_DEVICE_ACCELERATOR] = CLCNN_DEVICE_TYPE_ACCELERATOR,
        [OCL_DEVICE_OTHER] = CLCNN_DEVICE_TYPE_OTHER};
    o->type = d->integrated_gpu ? CLCNN_DEVICE_TYPE_INTEGRATED_GPU : types[d->type];
    o->index = d->index;
    o->compute_units = (int)d->compute_units;
    o->global_memory_bytes = d->global_mem_size;
    o->max_allocation_bytes = d->max_alloc_size;
    o->fp16 = d->fp16;
    o->best = i == best;
    o->available = d->available;
    o->id = dup_or_empty(d->id);
    o->name = dup_or_empty(d->name);
    o->vendor = dup_or_empty(d->vendor);
    o->platform = dup_or_empty(d->platform_name);
    o->driver_version = dup_or_empty(d->driver_version);
    o->opencl_version = dup_or_empty(d->device_version);
    o->unavailable_reason = d->available ? NULL : dup_or_empty(d->unavailable_reason);
    if (!o->id || !o->name || !o->vendor || !o->platform || !o->driver_version ||
        !o->opencl_version || (!d->available && !o->unavailable_reason)) {
      for (int k = 0; k <= i; k++) {
        free((void *)list[k].id);
        free((void *)list[k].name);
        free((void *)list[k].vendor);
        free((void *)list[k].platform);
        free((void *)list[k].driver_version);
        free((void *)list[k].opencl_version);
        free((void *)list[k].unavailable_reason);
      }
      free(list);
      return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    }
  }
  *out = list;
  *count = n;
  return CLCNN_OK;
}
