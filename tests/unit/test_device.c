/* OpenCL device enumeration and selection (host/device.c).
 *
 * Selection rules are tested on synthetic device lists, so they run on every
 * machine; enumeration is tested on the real OpenCL installation, and the test
 * exits 77 (skip) after the synthetic cases when there is no OpenCL platform.
 * "No ICD at all" is tested by re-running this executable with an empty
 * OCL_ICD_VENDORS directory. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clcnn.h"
#include "device.h"

/* ------------------------------------------------------ synthetic lists */

static ocl_device_info fake[5];

static void fake_dev(ocl_device_info *d, int index, ocl_device_type type, bool integrated,
                     bool available, const char *name, const char *platform) {
  memset(d, 0, sizeof *d);
  d->index = index;
  d->type = type;
  d->integrated_gpu = integrated;
  d->unified_memory = integrated || type == OCL_DEVICE_CPU;
  d->available = available;
  snprintf(d->name, sizeof d->name, "%s", name);
  snprintf(d->platform_name, sizeof d->platform_name, "%s", platform);
  snprintf(d->platform_version, sizeof d->platform_version, "OpenCL 3.0 %s", platform);
  snprintf(d->driver_version, sizeof d->driver_version, "1.0");
  snprintf(d->opencl_c_version, sizeof d->opencl_c_version, "OpenCL C 1.2");
  d->extensions = "";
}

static void fake_setup(void) {
  fake_dev(&fake[0], 0, OCL_DEVICE_CPU, false, true, "pthread-skylake-avx512",
           "Portable Computing Language");
  fake_dev(&fake[1], 1, OCL_DEVICE_GPU, true, true, "Intel(R) UHD Graphics 630",
           "Intel(R) OpenCL HD Graphics");
  fake_dev(&fake[2], 2, OCL_DEVICE_GPU, false, true, "NVIDIA GeForce RTX 3080", "NVIDIA CUDA");
  fake_dev(&fake[3], 3, OCL_DEVICE_ACCELERATOR, false, true, "Example FPGA", "Vendor FPGA SDK");
  fake_dev(&fake[4], 4, OCL_DEVICE_GPU, false, false, "AMD Radeon RX 6800",
           "AMD Accelerated Parallel Processing");
}

static int sel(const ocl_device_info *devs, int count, const char *spec, clcnn_err *err) {
  int index = 12345;
  memset(err, 0, sizeof *err);
  clcnn_status st = ocl_device_select_from(devs, count, spec, &index, err);
  if (st != CLCNN_OK) {
    ck_assert_int_eq(st, CLCNN_ERROR_DEVICE);
    ck_assert_int_eq(err->status, CLCNN_ERROR_DEVICE);
    ck_assert_int_eq(index, OCL_DEVICE_CPU_BACKEND);
    return -100;
  }
  return index;
}

START_TEST(test_best_order) {
  clcnn_err err;
  /* discrete GPU, then integrated GPU, then accelerator, then CPU OpenCL */
  ck_assert_int_eq(sel(fake, 5, "best", &err), 2);
  ck_assert_int_eq(sel(fake, 5, NULL, &err), 2);
  ck_assert_int_eq(sel(fake, 5, "", &err), 2);
  ck_assert_int_eq(sel(fake, 5, "  BEST ", &err), 2);
  ck_assert_int_eq(sel(fake, 5, "opencl", &err), 2);
  fake[2].available = false; /* the discrete GPU left: the integrated one */
  ck_assert_int_eq(sel(fake, 5, "best", &err), 1);
  fake[1].available = false;
  ck_assert_int_eq(sel(fake, 5, "best", &err), 3);
  fake[3].available = false;
  ck_assert_int_eq(sel(fake, 5, "best", &err), 0);
  fake[0].available = false; /* nothing usable: the CPU backend */
  ck_assert_int_eq(sel(fake, 5, "best", &err), OCL_DEVICE_CPU_BACKEND);
  ck_assert_int_eq(sel(fake, 5, "opencl", &err), -100);
  ck_assert_int_eq(sel(NULL, 0, "best", &err), OCL_DEVICE_CPU_BACKEND);
  ck_assert_int_eq(sel(NULL, 0, NULL, &err), OCL_DEVICE_CPU_BACKEND);
}
END_TEST

START_TEST(test_best_ties_keep_list_order) {
  clcnn_err err;
  fake_dev(&fake[0], 0, OCL_DEVICE_CPU, false, true, "cpu a", "p");
  fake_dev(&fake[1], 1, OCL_DEVICE_GPU, false, true, "gpu a", "p");
  fake_dev(&fake[2], 2, OCL_DEVICE_GPU, false, true, "gpu b", "p");
  ck_assert_int_eq(sel(fake, 3, "best", &err), 1);
  fake_dev(&fake[3], 3, OCL_DEVICE_OTHER, false, true, "custom", "p");
  ck_assert_int_eq(sel(fake + 3, 1, "best", &err), 0);
}
END_TEST

START_TEST(test_by_type) {
  clcnn_err err;
  ck_assert_int_eq(sel(fake, 5, "gpu", &err), 1); /* first GPU in list order */
  ck_assert_int_eq(sel(fake, 5, "GPU", &err), 1);
  ck_assert_int_eq(sel(fake, 5, "cpu-opencl", &err), 0);
  ck_assert_int_eq(sel(fake, 5, "accelerator", &err), 3);
  ck_assert_int_eq(sel(fake, 5, "cpu", &err), OCL_DEVICE_CPU_BACKEND);
  ck_assert_int_eq(sel(fake, 5, " Cpu\n", &err), OCL_DEVICE_CPU_BACKEND);
  /* unavailable devices are skipped */
  fake[1].available = false;
  ck_assert_int_eq(sel(fake, 5, "gpu", &err), 2);
  fake[2].available = false;
  ck_assert_int_eq(sel(fake, 5, "gpu", &err), -100);
  ck_assert_ptr_nonnull(strstr(err.msg, "RTX 3080"));
  /* none of that type */
  ck_assert_int_eq(sel(fake, 1, "gpu", &err), -100);
  ck_assert_ptr_nonnull(strstr(err.msg, "pthread-skylake-avx512"));
  ck_assert_ptr_nonnull(strstr(err.msg, "\"cpu\""));
  ck_assert_int_eq(sel(fake, 1, "accelerator", &err), -100);
  ck_assert_int_eq(sel(NULL, 0, "cpu-opencl", &err), -100);
  ck_assert_ptr_nonnull(strstr(err.msg, "no OpenCL device"));
  ck_assert_int_eq(sel(NULL, 0, "cpu", &err), OCL_DEVICE_CPU_BACKEND);
}
END_TEST

START_TEST(test_by_index) {
  clcnn_err err;
  ck_assert_int_eq(sel(fake, 5, "opencl:0", &err), 0);
  ck_assert_int_eq(sel(fake, 5, "opencl:2", &err), 2);
  ck_assert_int_eq(sel(fake, 5, "OpenCL:3", &err), 3);
  ck_assert_int_eq(sel(fake, 5, "1", &err), 1);
  ck_assert_int_eq(sel(fake, 5, " 3 ", &err), 3);
  ck_assert_int_eq(sel(fake, 5, "opencl:5", &err), -100);
  /* the message lists every device, with its index and type */
  for (int i = 0; i < 5; i++) ck_assert_ptr_nonnull(strstr(err.msg, fake[i].name));
  ck_assert_ptr_nonnull(strstr(err.msg, "opencl:4"));
  ck_assert_ptr_nonnull(strstr(err.msg, "integrated gpu"));
  ck_assert_ptr_nonnull(strstr(err.msg, "unavailable"));
  ck_assert_int_eq(sel(fake, 5, "99", &err), -100);
  ck_assert_int_eq(sel(fake, 5, "opencl:4", &err), -100); /* unavailable */
  ck_assert_int_eq(sel(fake, 5, "opencl:", &err), -100);
  ck_assert_int_eq(sel(fake, 5, "opencl:x", &err), -100);
  ck_assert_int_eq(sel(fake, 5, "opencl:-1", &err), -100);
  ck_assert_int_eq(sel(fake, 5, "99999999999999999999", &err), -100);
  ck_assert_int_eq(sel(NULL, 0, "opencl:0", &err), -100);
  ck_assert_int_eq(sel(NULL, 0, "0", &err), -100);
}
END_TEST

START_TEST(test_by_name) {
  clcnn_err err;
  ck_assert_int_eq(sel(fake, 5, "rtx", &err), 2);
  ck_assert_int_eq(sel(fake, 5, "GeForce RTX 3080", &err), 2);
  ck_assert_int_eq(sel(fake, 5, "uhd graphics", &err), 1);
  ck_assert_int_eq(sel(fake, 5, "PTHREAD", &err), 0);
  ck_assert_int_eq(sel(fake, 5, "fpga", &err), 3);
  /* first match in list order */
  ck_assert_int_eq(sel(fake, 5, "e", &err), 0);
  /* only an unavailable device matches */
  ck_assert_int_eq(sel(fake, 5, "radeon", &err), -100);
  ck_assert_ptr_nonnull(strstr(err.msg, "not available"));
  /* nothing matches: the message names the spec and lists the devices */
  ck_assert_int_eq(sel(fake, 5, "no-such-device", &err), -100);
  ck_assert_ptr_nonnull(strstr(err.msg, "no-such-device"));
  for (int i = 0; i < 5; i++) ck_assert_ptr_nonnull(strstr(err.msg, fake[i].name));
  ck_assert_int_eq(sel(NULL, 0, "rtx", &err), -100);
  ck_assert_ptr_nonnull(strstr(err.msg, "no OpenCL device was found"));
}
END_TEST

START_TEST(test_select_bad_args) {
  clcnn_err err = {0};
  ck_assert_int_eq(ocl_device_select_from(fake, 5, "best", NULL, &err),
                   CLCNN_ERROR_INVALID_ARGUMENT);
  int index;
  ck_assert_int_eq(ocl_device_select_from(NULL, 3, "best", &index, &err),
                   CLCNN_ERROR_INVALID_ARGUMENT);
  /* err may be NULL */
  ck_assert_int_eq(ocl_device_select_from(fake, 5, "nothing", &index, NULL), CLCNN_ERROR_DEVICE);
}
END_TEST

START_TEST(test_extensions) {
  ocl_device_info d = fake[0];
  d.extensions = "cl_khr_fp16 cl_khr_fp64  cl_khr_subgroups_extended\tcl_intel_subgroups";
  ck_assert(ocl_device_has_extension(&d, "cl_khr_fp16"));
  ck_assert(ocl_device_has_extension(&d, "cl_khr_fp64"));
  ck_assert(ocl_device_has_extension(&d, "cl_intel_subgroups"));
  ck_assert(!ocl_device_has_extension(&d, "cl_khr_fp1"));
  ck_assert(!ocl_device_has_extension(&d, "cl_khr_subgroups"));
  ck_assert(!ocl_device_has_extension(&d, "khr_fp16"));
  ck_assert(!ocl_device_has_extension(&d, ""));
  ck_assert(!ocl_device_has_extension(NULL, "cl_khr_fp16"));
  d.extensions = NULL;
  ck_assert(!ocl_device_has_extension(&d, "cl_khr_fp16"));
}
END_TEST

START_TEST(test_describe_truncates) {
  char buf[4096];
  fake[2].global_mem_size = (cl_ulong)10 << 30;
  fake[2].fp16 = true;
  ocl_device_describe(&fake[2], buf, sizeof buf);
  ck_assert_ptr_nonnull(strstr(buf, "NVIDIA GeForce RTX 3080"));
  ck_assert_ptr_nonnull(strstr(buf, "opencl:2"));
  ck_assert_ptr_nonnull(strstr(buf, "NVIDIA CUDA"));
  ck_assert_ptr_nonnull(strstr(buf, "10 GiB"));
  ck_assert_ptr_nonnull(strstr(buf, "fp16"));
  ck_assert(strchr(buf, '\n') != NULL);
  size_t full = strlen(buf);
  for (size_t len = 1; len < full + 2; len += 7) {
    char small[4096];
    memset(small, 'X', sizeof small);
    ocl_device_describe(&fake[2], small, len);
    ck_assert_uint_lt(strlen(small), len);
    ck_assert_int_eq(strncmp(small, buf, strlen(small)), 0);
    ck_assert_int_eq(small[len], 'X'); /* nothing written past len */
  }
  ocl_device_describe(&fake[2], buf, 0); /* no crash */
  ocl_device_describe(NULL, buf, sizeof buf);
  ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_error_str) {
  ck_assert_str_eq(ocl_error_str(CL_SUCCESS), "CL_SUCCESS");
  ck_assert_str_eq(ocl_error_str(-11), "CL_BUILD_PROGRAM_FAILURE");
  ck_assert_str_eq(ocl_error_str(-5), "CL_OUT_OF_RESOURCES");
  ck_assert_str_eq(ocl_error_str(-1001), "CL_PLATFORM_NOT_FOUND_KHR");
  ck_assert_str_eq(ocl_error_str(-9999), "CL_UNKNOWN_ERROR");
}
END_TEST

/* --------------------------------------------------- the real platforms */

START_TEST(test_list_real) {
  const ocl_device_info *devs = NULL;
  int count = -1;
  clcnn_err err = {0};
  ck_assert_int_eq(ocl_devices_list(&devs, &count, &err), CLCNN_OK);
  ck_assert_int_gt(count, 0);
  ck_assert_ptr_nonnull(devs);
  for (int i = 0; i < count; i++) {
    const ocl_device_info *d = &devs[i];
    ck_assert_int_eq(d->index, i);
    ck_assert_ptr_nonnull(d->device);
    ck_assert_ptr_nonnull(d->platform);
    ck_assert_uint_gt(strlen(d->name), 0);
    ck_assert_uint_gt(strlen(d->platform_name), 0);
    ck_assert_uint_gt(strlen(d->platform_version), 0);
    ck_assert_uint_gt(strlen(d->driver_version), 0);
    ck_assert_ptr_nonnull(strstr(d->opencl_c_version, "OpenCL C"));
    ck_assert_int_ge(d->opencl_c_major, 1);
    ck_assert_ptr_nonnull(d->extensions);
    ck_assert_uint_gt(d->global_mem_size, 0);
    ck_assert_uint_gt(d->local_mem_size, 0);
    ck_assert_uint_gt(d->max_alloc_size, 0);
    ck_assert_uint_le(d->max_alloc_size, d->global_mem_size);
    ck_assert_uint_gt(d->compute_units, 0);
    ck_assert_uint_gt(d->max_work_group_size, 0);
    ck_assert_uint_gt(d->max_work_item_sizes[0], 0);
    ck_assert_int_le((int)d->type, (int)OCL_DEVICE_OTHER);
    ck_assert(!d->integrated_gpu || d->type == OCL_DEVICE_GPU);
    ck_assert(d->fp16 == ocl_device_has_extension(d, "cl_khr_fp16"));
    /* names are trimmed */
    ck_assert(d->name[0] != ' ' && d->name[strlen(d->name) - 1] != ' ');

    char buf[4096];
    ocl_device_describe(d, buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, d->name));
    ck_assert_ptr_nonnull(strstr(buf, d->platform_name));
  }
  /* cached: the same array again */
  const ocl_device_info *again = NULL;
  int count2 = 0;
  ck_assert_int_eq(ocl_devices_list(&again, &count2, NULL), CLCNN_OK);
  ck_assert_ptr_eq(again, devs);
  ck_assert_int_eq(count2, count);
  /* released and enumerated again: same devices */
  cl_device_id first = devs[0].device;
  ocl_devices_release();
  ck_assert_int_eq(ocl_devices_list(&again, &count2, NULL), CLCNN_OK);
  ck_assert_int_eq(count2, count);
  ck_assert_ptr_eq(again[0].device, first);
  ck_assert_int_eq(ocl_devices_list(NULL, &count2, &err), CLCNN_ERROR_INVALID_ARGUMENT);
}
END_TEST

typedef struct list_result {
  const ocl_device_info *devs;
  int count;
  clcnn_status st;
} list_result;

static void *list_thread(void *arg) {
  list_result *r = arg;
  r->st = ocl_devices_list(&r->devs, &r->count, NULL);
  return NULL;
}

START_TEST(test_list_threads) {
  /* The OpenCL runtime is loaded on this thread first: PoCL's LLVM replaces
   * the calling thread's signal stack when it starts, which AddressSanitizer
   * cannot free when that thread exits (an LLVM/ASan clash, not ours). Then
   * the cache is dropped so that the threads race to enumerate again. */
  const ocl_device_info *devs;
  int count;
  ck_assert_int_eq(ocl_devices_list(&devs, &count, NULL), CLCNN_OK);
  ocl_devices_release();
  enum { N = 8 };
  pthread_t th[N];
  list_result res[N];
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, list_thread, &res[i]), 0);
  for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < N; i++) {
    ck_assert_int_eq(res[i].st, CLCNN_OK);
    ck_assert_ptr_eq(res[i].devs, res[0].devs);
    ck_assert_int_eq(res[i].count, res[0].count);
    ck_assert_int_gt(res[i].count, 0);
  }
}
END_TEST

START_TEST(test_select_real) {
  const ocl_device_info *devs = NULL;
  int count = 0, index = -5, want = -5;
  clcnn_err err = {0};
  ck_assert_int_eq(ocl_devices_list(&devs, &count, &err), CLCNN_OK);

  unsetenv("CLCNN_DEVICE");
  ck_assert_int_eq(ocl_device_select_from(devs, count, "best", &want, &err), CLCNN_OK);
  ck_assert_int_eq(ocl_device_select(NULL, &index, &err), CLCNN_OK);
  ck_assert_int_eq(index, want);
  ck_assert_int_ge(index, 0); /* an available device exists here */
  ck_assert_int_eq(ocl_device_select("best", &index, &err), CLCNN_OK);
  ck_assert_int_eq(index, want);

  /* the environment is consulted for a NULL spec only */
  setenv("CLCNN_DEVICE", "cpu", 1);
  ck_assert_int_eq(ocl_device_select(NULL, &index, &err), CLCNN_OK);
  ck_assert_int_eq(index, OCL_DEVICE_CPU_BACKEND);
  ck_assert_int_eq(ocl_device_select("best", &index, &err), CLCNN_OK);
  ck_assert_int_eq(index, want);
  setenv("CLCNN_DEVICE", "opencl:0", 1);
  ck_assert_int_eq(ocl_device_select(NULL, &index, &err), CLCNN_OK);
  ck_assert_int_eq(index, 0);
  setenv("CLCNN_DEVICE", "no such device anywhere", 1);
  ck_assert_int_eq(ocl_device_select(NULL, &index, &err), CLCNN_ERROR_DEVICE);
  ck_assert_ptr_nonnull(strstr(err.msg, "no such device anywhere"));
  ck_assert_ptr_nonnull(strstr(err.msg, devs[0].name));
  setenv("CLCNN_DEVICE", "", 1);
  ck_assert_int_eq(ocl_device_select(NULL, &index, &err), CLCNN_OK);
  ck_assert_int_eq(index, want);
  unsetenv("CLCNN_DEVICE");

  /* by name, in another case */
  char upper[OCL_NAME_MAX];
  snprintf(upper, sizeof upper, "%s", devs[0].name);
  for (char *p = upper; *p; p++) *p = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
  ck_assert_int_eq(ocl_device_select(upper, &index, &err), CLCNN_OK);
  ck_assert_int_eq(index, 0);
  ck_assert_int_eq(ocl_device_select("cpu", &index, &err), CLCNN_OK);
  ck_assert_int_eq(index, OCL_DEVICE_CPU_BACKEND);

  /* the type words find a device of that type */
  static const char *words[] = {"gpu", "cpu-opencl", "accelerator"};
  static const ocl_device_type types[] = {OCL_DEVICE_GPU, OCL_DEVICE_CPU, OCL_DEVICE_ACCELERATOR};
  for (int w = 0; w < 3; w++) {
    int first = -1;
    for (int i = 0; i < count && first < 0; i++)
      if (devs[i].type == types[w] && devs[i].available) first = i;
    clcnn_status st = ocl_device_select(words[w], &index, &err);
    if (first < 0) {
      ck_assert_int_eq(st, CLCNN_ERROR_DEVICE);
    } else {
      ck_assert_int_eq(st, CLCNN_OK);
      ck_assert_int_eq(index, first);
    }
  }
}
END_TEST

/* The child run of test_no_icd: no ICD is registered, so there is no
 * platform; that must read as "no device", not as an error or a crash. */
static int no_icd_child(void) {
  const ocl_device_info *devs = (const ocl_device_info *)1;
  int count = -1, index = 99;
  clcnn_err err = {0};
  clcnn_status st = ocl_devices_list(&devs, &count, &err);
  if (st != CLCNN_OK || count != 0 || devs != NULL) {
    fprintf(stderr, "no-ICD list: status %d count %d: %s\n", st, count, err.msg);
    return 1;
  }
  if (ocl_device_select("best", &index, &err) != CLCNN_OK || index != OCL_DEVICE_CPU_BACKEND) {
    fprintf(stderr, "no-ICD best: %d\n", index);
    return 2;
  }
  if (ocl_device_select("gpu", &index, &err) != CLCNN_ERROR_DEVICE ||
      !strstr(err.msg, "no OpenCL device was found")) {
    fprintf(stderr, "no-ICD gpu: %s\n", err.msg);
    return 3;
  }
  /* The public list: only the CPU backend, picked by "best". */
  const clcnn_device_info *pub;
  int npub = 0;
  if (clcnn_devices(&pub, &npub) != CLCNN_OK || npub != 1 ||
      pub[0].type != CLCNN_DEVICE_TYPE_CPU_BACKEND || !pub[0].best || strcmp(pub[0].id, "cpu")) {
    fprintf(stderr, "no-ICD clcnn_devices: %d entries\n", npub);
    return 4;
  }
  ocl_devices_release();
  return 0;
}

/* clcnn_devices(): every OpenCL device, then the CPU backend; one "best";
 * each available device's id selects that very device in a session; an
 * unavailable one says why. */
START_TEST(test_public_devices) {
  const clcnn_device_info *d;
  int n = 0;
  ck_assert_int_eq(clcnn_devices(&d, &n), CLCNN_OK);
  const ocl_device_info *devs;
  int count = 0;
  clcnn_err err = {0};
  ck_assert_int_eq(ocl_devices_list(&devs, &count, &err), CLCNN_OK);
  ck_assert_int_eq(n, count + 1);
  ck_assert_int_eq(d[n - 1].type, CLCNN_DEVICE_TYPE_CPU_BACKEND);
  ck_assert_str_eq(d[n - 1].id, "cpu");
  ck_assert_int_eq(d[n - 1].index, -1);
  int best = 0;
  for (int i = 0; i < n; i++) best += d[i].best != 0;
  ck_assert_int_eq(best, 1);
  clcnn_context *ctx;
  ck_assert_int_eq(clcnn_context_create(NULL, &ctx), CLCNN_OK);
  /* y = Relu(x), x and y float 2x3, opset 13 (onnx.helper's serialisation). */
  static const uint8_t relu_model[] = {
      0x08, 0x07, 0x3a, 0x3b, 0x0a, 0x0c, 0x0a, 0x01, 0x78, 0x12, 0x01, 0x79, 0x22, 0x04,
      0x52, 0x65, 0x6c, 0x75, 0x12, 0x01, 0x67, 0x5a, 0x13, 0x0a, 0x01, 0x78, 0x12, 0x0e,
      0x0a, 0x0c, 0x08, 0x01, 0x12, 0x08, 0x0a, 0x02, 0x08, 0x02, 0x0a, 0x02, 0x08, 0x03,
      0x62, 0x13, 0x0a, 0x01, 0x79, 0x12, 0x0e, 0x0a, 0x0c, 0x08, 0x01, 0x12, 0x08, 0x0a,
      0x02, 0x08, 0x02, 0x0a, 0x02, 0x08, 0x03, 0x42, 0x04, 0x0a, 0x00, 0x10, 0x0d};
  clcnn_model *m = NULL;
  ck_assert_msg(clcnn_model_load_memory(ctx, relu_model, sizeof relu_model, NULL, &m) == CLCNN_OK,
                "%s", clcnn_last_error());
  for (int i = 0; i < n; i++) {
    ck_assert_ptr_nonnull(d[i].id);
    ck_assert_ptr_nonnull(d[i].name);
    ck_assert_int_gt(d[i].compute_units, 0);
    ck_assert_uint_gt(d[i].global_memory_bytes, 0);
    ck_assert_uint_le(d[i].max_allocation_bytes, d[i].global_memory_bytes);
    if (!d[i].available) {
      ck_assert_ptr_nonnull(d[i].unavailable_reason);
      ck_assert_int_gt(strlen(d[i].unavailable_reason), 0);
      continue;
    }
    ck_assert_ptr_null(d[i].unavailable_reason);
    for (int k = 0; k < i; k++) ck_assert_str_ne(d[k].id, d[i].id);
    clcnn_session_options so;
    clcnn_session_options_default(&so);
    so.device = d[i].id;
    clcnn_session *s = NULL;
    ck_assert_msg(clcnn_session_create(m, &so, NULL, 0, &s) == CLCNN_OK, "%s: %s", d[i].id,
                  clcnn_last_error());
    ck_assert_str_eq(clcnn_session_device(s), d[i].index >= 0 ? d[i].name : "cpu");
    clcnn_session_free(s);
  }
  clcnn_model_free(m);
  clcnn_context_free(ctx);
  /* The same list on every call. */
  const clcnn_device_info *again;
  int n2;
  ck_assert_int_eq(clcnn_devices(&again, &n2), CLCNN_OK);
  ck_assert_ptr_eq(again, d);
  ck_assert_int_eq(n2, n);
  ck_assert_int_eq(clcnn_devices(NULL, &n2), CLCNN_ERROR_INVALID_ARGUMENT);
}
END_TEST

/* clcnn_device_peak_get(): plausible rates for the first OpenCL device and
 * the CPU backend; the OpenCL one is kept in the cache directory and read
 * back equal (to the 6 digits it is stored with), measured again with
 * `remeasure`, after its entry is damaged, and always when the cache is
 * off; bad arguments and unknown devices are errors. */
static void check_plausible(const clcnn_device_peak *p) {
  ck_assert_msg(p->fp32_gflops > 0.1 && p->fp32_gflops < 1e6, "fp32 %g", p->fp32_gflops);
  ck_assert_msg(p->bandwidth_gbs > 0.05 && p->bandwidth_gbs < 1e5, "bw %g", p->bandwidth_gbs);
  ck_assert(p->fp16_gflops >= 0);
}

START_TEST(test_peak) {
  char dir[] = "/tmp/clcnn-peak-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  clcnn_options o;
  clcnn_options_default(&o);
  o.cache_dir = dir;
  clcnn_context *ctx;
  ck_assert_int_eq(clcnn_context_create(&o, &ctx), CLCNN_OK);
  clcnn_device_peak a, b;
  ck_assert_msg(clcnn_device_peak_get(ctx, "opencl:0", 0, &a) == CLCNN_OK, "%s",
                clcnn_last_error());
  check_plausible(&a);
  ck_assert_int_eq(a.from_cache, 0);
  ck_assert_int_eq(clcnn_device_peak_get(ctx, "opencl:0", 0, &b), CLCNN_OK);
  ck_assert_int_eq(b.from_cache, 1);
  ck_assert_double_eq_tol(b.fp32_gflops, a.fp32_gflops, 1e-5 * a.fp32_gflops);
  ck_assert_double_eq_tol(b.bandwidth_gbs, a.bandwidth_gbs, 1e-5 * a.bandwidth_gbs);
  ck_assert_int_eq(clcnn_device_peak_get(ctx, "opencl:0", 1, &b), CLCNN_OK);
  ck_assert_int_eq(b.from_cache, 0);
  /* The peak's entry is the small one beside peak.cl's programs; flipping a
   * byte of it makes the next call measure again (and write a good one). */
  char entry[4096] = "";
  struct stat st;
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  for (struct dirent *e; (e = readdir(d));) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (e->d_name[0] != '.' && stat(path, &st) == 0 && st.st_size < 256)
      snprintf(entry, sizeof entry, "%s", path);
  }
  closedir(d);
  ck_assert_msg(entry[0], "no small cache entry in %s", dir);
  ck_assert_int_eq(stat(entry, &st), 0);
  ck_assert_int_lt(st.st_size, 256);
  FILE *f = fopen(entry, "r+b");
  ck_assert_ptr_nonnull(f);
  fseek(f, -3, SEEK_END);
  fputc('#', f);
  fclose(f);
  ck_assert_int_eq(clcnn_device_peak_get(ctx, "opencl:0", 0, &b), CLCNN_OK);
  ck_assert_int_eq(b.from_cache, 0);
  ck_assert_int_eq(clcnn_device_peak_get(ctx, "opencl:0", 0, &b), CLCNN_OK);
  ck_assert_int_eq(b.from_cache, 1);
  /* The CPU backend: measured every time. */
  ck_assert_int_eq(clcnn_device_peak_get(ctx, "cpu", 0, &b), CLCNN_OK);
  check_plausible(&b);
  ck_assert_int_eq(b.from_cache, 0);
  ck_assert_int_eq(clcnn_device_peak_get(ctx, "no-such-device-anywhere", 0, &b),
                   CLCNN_ERROR_DEVICE);
  ck_assert(strlen(clcnn_last_error()) > 0);
  ck_assert_int_eq(clcnn_device_peak_get(NULL, "cpu", 0, &b), CLCNN_ERROR_INVALID_ARGUMENT);
  ck_assert_int_eq(clcnn_device_peak_get(ctx, "cpu", 0, NULL), CLCNN_ERROR_INVALID_ARGUMENT);
  clcnn_context_free(ctx);
  /* No cache: measured each time. */
  o.disable_cache = 1;
  ck_assert_int_eq(clcnn_context_create(&o, &ctx), CLCNN_OK);
  ck_assert_int_eq(clcnn_device_peak_get(ctx, "opencl:0", 0, &b), CLCNN_OK);
  ck_assert_int_eq(b.from_cache, 0);
  clcnn_context_free(ctx);
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_no_icd) {
  char dir[] = "/tmp/clcnn-no-icd-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    setenv("OCL_ICD_VENDORS", dir, 1); /* an empty vendors directory */
    unsetenv("OCL_ICD_FILENAMES");
    execl("/proc/self/exe", "test_device", "--no-icd-child", (char *)NULL);
    _exit(127);
  }
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  rmdir(dir);
  ck_assert_msg(WIFEXITED(status), "child died");
  ck_assert_msg(WEXITSTATUS(status) == 0, "no-ICD child failed with %d", WEXITSTATUS(status));
}
END_TEST

/* ------------------------------------------------------------------ main */

/* Whether an OpenCL device exists, asked in a child process so that this
 * process (and the tests it forks) starts with OpenCL untouched. */
static int probe_devices(char *why, size_t len) {
  int fd[2];
  if (pipe(fd) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    const ocl_device_info *devs;
    int count = 0;
    clcnn_err err = {0};
    clcnn_status st = ocl_devices_list(&devs, &count, &err);
    dprintf(fd[1], "%s", st == CLCNN_OK ? "no OpenCL platform or device found" : err.msg);
    _exit(st == CLCNN_OK && count > 0 ? 0 : 1);
  }
  close(fd[1]);
  ssize_t n = read(fd[0], why, len - 1);
  why[n > 0 ? n : 0] = 0;
  close(fd[0]);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--no-icd-child") == 0) return no_icd_child();

  char why[1024] = "";
  int have = probe_devices(why, sizeof why);

  Suite *s = suite_create("device");
  TCase *tc = tcase_create("select");
  tcase_add_checked_fixture(tc, fake_setup, NULL);
  tcase_add_test(tc, test_best_order);
  tcase_add_test(tc, test_best_ties_keep_list_order);
  tcase_add_test(tc, test_by_type);
  tcase_add_test(tc, test_by_index);
  tcase_add_test(tc, test_by_name);
  tcase_add_test(tc, test_select_bad_args);
  tcase_add_test(tc, test_extensions);
  tcase_add_test(tc, test_describe_truncates);
  tcase_add_test(tc, test_error_str);
  tcase_add_test(tc, test_no_icd);
  suite_add_tcase(s, tc);
  if (have == 1) {
    TCase *real = tcase_create("opencl");
    tcase_set_timeout(real, 120);
    tcase_add_test(real, test_list_real);
    tcase_add_test(real, test_list_threads);
    tcase_add_test(real, test_select_real);
    tcase_add_test(real, test_public_devices);
    tcase_add_test(real, test_peak);
    suite_add_tcase(s, real);
  }
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (failed) return failed;
  if (have != 1) {
    printf("SKIP: OpenCL device tests not run: %s\n", why[0] ? why : "probe failed");
    return 77;
  }
  return 0;
}
