/* OpenCL devices: enumeration, capability probing and selection.
 *
 * The list of devices is built once per process (on the first call that needs
 * it) and shared read-only by every thread. Nothing here prints; failures come
 * back as a clcnn_status with a message in a clcnn_err. */
#ifndef CLCNN_HOST_DEVICE_H
#define CLCNN_HOST_DEVICE_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120 /* OpenCL 1.2 host API is the floor */
#endif
#ifdef __APPLE__
#include <OpenCL/cl.h>
#else
#include <CL/cl.h>
#endif

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

/* clGetPlatformIDs' answer when the ICD loader finds no platform at all
 * (cl_khr_icd). Means "no OpenCL here", not an error. */
#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

/* Index that ocl_device_select() returns for "run on the CPU backend". */
#define OCL_DEVICE_CPU_BACKEND (-1)

typedef enum ocl_device_type {
  OCL_DEVICE_GPU = 0,
  OCL_DEVICE_CPU = 1,         /* a CPU OpenCL driver (PoCL, Intel CPU runtime) */
  OCL_DEVICE_ACCELERATOR = 2, /* FPGAs, DSPs, ... */
  OCL_DEVICE_OTHER = 3        /* CL_DEVICE_TYPE_CUSTOM or an unknown type */
} ocl_device_type;

#define OCL_NAME_MAX 256
#define OCL_VERSION_MAX 512
#define OCL_ID_MAX 1100

/* Everything probed about one device. Strings are always NUL-terminated
 * (truncated to fit). The handles stay valid for the life of the process. */
typedef struct ocl_device_info {
  int index;          /* position in ocl_devices_list(): "opencl:N" */
  int platform_index; /* position of the platform in clGetPlatformIDs() */
  cl_platform_id platform;
  cl_device_id device;

  char platform_name[OCL_NAME_MAX];
  char platform_vendor[OCL_NAME_MAX];
  char platform_version[OCL_VERSION_MAX]; /* "OpenCL 3.0 PoCL 3.1+debian ..." */
  char name[OCL_NAME_MAX];                /* CL_DEVICE_NAME, trimmed */
  char vendor[OCL_NAME_MAX];
  char driver_version[OCL_VERSION_MAX];   /* CL_DRIVER_VERSION */
  char device_version[OCL_VERSION_MAX];   /* CL_DEVICE_VERSION: "OpenCL 3.0 ..." */
  char opencl_c_version[OCL_VERSION_MAX]; /* "OpenCL C 1.2 ..." */
  int opencl_c_major, opencl_c_minor;     /* parsed from opencl_c_version (0.0 if not) */

  ocl_device_type type;
  bool integrated_gpu; /* a GPU that shares memory with the host */
  bool available;      /* CL_DEVICE_AVAILABLE and a compiler present */

  cl_ulong global_mem_size; /* bytes */
  cl_ulong local_mem_size;  /* bytes */
  bool local_mem_dedicated; /* CL_LOCAL: real on-chip local memory (GPUs) */
  cl_ulong max_alloc_size;  /* CL_DEVICE_MAX_MEM_ALLOC_SIZE, bytes */
  cl_ulong max_constant_buffer_size;
  cl_ulong global_mem_cache_size;
  cl_uint compute_units; /* CL_DEVICE_MAX_COMPUTE_UNITS */
  size_t max_work_group_size;
  size_t max_work_item_sizes[3];
  cl_uint max_clock_mhz;            /* CL_DEVICE_MAX_CLOCK_FREQUENCY */
  cl_uint mem_base_addr_align_bits; /* CL_DEVICE_MEM_BASE_ADDR_ALIGN */
  cl_uint address_bits;
  cl_uint preferred_vector_width_float;
  size_t profiling_timer_resolution_ns;

  bool fp16;           /* cl_khr_fp16 */
  bool fp64;           /* cl_khr_fp64 */
  bool subgroups;      /* cl_khr_subgroups or cl_intel_subgroups */
  bool images;         /* CL_DEVICE_IMAGE_SUPPORT */
  bool unified_memory; /* CL_DEVICE_HOST_UNIFIED_MEMORY */

  const char *extensions; /* CL_DEVICE_EXTENSIONS, owned by the list */

  /* Stable across processes: "PLATFORM|VENDOR|NAME|DRIVER", with "|#K" added
   * for the K-th (K >= 2) device of identical strings. Selects the device. */
  char id[OCL_ID_MAX];
  /* Why the device is not available ("" when it is): CL_DEVICE_AVAILABLE
   * false, no compiler, or a context that cannot be created on it. */
  char unavailable_reason[OCL_NAME_MAX];
} ocl_device_info;

/* Every OpenCL device of every platform, in platform order then device order.
 * Built on the first call and cached for the process; thread-safe. No ICD, no
 * platform or no device is not an error: *count is 0 (and *out NULL).
 * A platform whose devices cannot be listed is skipped. The array belongs to
 * the library (read-only) and lives until ocl_devices_release().
 * Errors: DEVICE (clGetPlatformIDs failed other than "no platform"),
 * OUT_OF_MEMORY. */
clcnn_status ocl_devices_list(const ocl_device_info **out, int *count, clcnn_err *err);

/* Frees the cached list, so that the next ocl_devices_list() enumerates
 * again. Only for process teardown and tests: no pointer obtained from
 * ocl_devices_list() may be used afterwards. */
void ocl_devices_release(void);

/* Chooses a device. `spec` (case-insensitive):
 *   NULL          the CLCNN_DEVICE environment variable, else "best"
 *   "" / "best"   the best OpenCL device: a discrete GPU, then an integrated
 *                 GPU, then an accelerator, then a CPU OpenCL device (first in
 *                 list order within a class); the CPU backend when none exists
 *   "cpu"         the CPU backend (*index = OCL_DEVICE_CPU_BACKEND)
 *   "opencl"      the best OpenCL device; an error when none exists
 *   "gpu", "cpu-opencl", "accelerator"   the first device of that type
 *   "opencl:N", "N"                      device N of ocl_devices_list()
 *   a device's id (ocl_device_info.id), exactly
 *   anything else a substring of a device name (first match)
 * Unavailable devices (CL_DEVICE_AVAILABLE false, no compiler) are never
 * chosen. Errors: DEVICE (nothing matches; the message lists the devices),
 * plus those of ocl_devices_list(). */
clcnn_status ocl_device_select(const char *spec, int *index, clcnn_err *err);

/* The same selection over a given list (used by ocl_device_select(); exposed
 * for tests with synthetic devices). `spec` NULL means "best" here: the
 * environment is not consulted. */
clcnn_status ocl_device_select_from(const ocl_device_info *devs, int count, const char *spec,
                                    int *index, clcnn_err *err);

/* The public description of every device (clcnn_devices()), in list
 * order: a malloc'd array of malloc'd strings, the caller's for good (they
 * stay valid after ocl_devices_release()). */
clcnn_status ocl_devices_public(clcnn_device_info **out, int *count, clcnn_err *err);

/* The index "best" picks among `devs` (available devices only), or -1. */
int ocl_device_best(const ocl_device_info *devs, int count);

/* "gpu", "integrated gpu", "cpu", "accelerator" or "other". */
const char *ocl_device_type_str(const ocl_device_info *d);

/* Whether the device's extension string lists `ext` (an exact word). */
bool ocl_device_has_extension(const ocl_device_info *d, const char *ext);

/* A multi-line human description of a device (for `clcnn devices`), ending in
 * a newline. Always NUL-terminates `buf` when len > 0; truncates to fit. */
void ocl_device_describe(const ocl_device_info *d, char *buf, size_t len);

/* Name of an OpenCL error code ("CL_OUT_OF_RESOURCES"); "CL_UNKNOWN_ERROR"
 * for codes it does not know. Static string. */
const char *ocl_error_str(cl_int code);

#endif /* CLCNN_HOST_DEVICE_H */
