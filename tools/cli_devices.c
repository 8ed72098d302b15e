/* `clcnn devices [--verbose] [--peak [--remeasure]]`: every device a session
 * can run on, from the public API (clcnn_devices()), and which one "best"
 * picks; --verbose adds everything probed about each OpenCL device, --peak
 * each device's measured peak rates (clcnn_device_peak_get(): cached for
 * OpenCL devices, --remeasure measures again). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "clcnn_config.h"
#if CLCNN_HAVE_OPENCL
#include "device.h"
#endif

static const char *type_str(clcnn_device_type t) {
  switch (t) {
    case CLCNN_DEVICE_TYPE_CPU_BACKEND: return "clcnn CPU backend";
    case CLCNN_DEVICE_TYPE_GPU: return "gpu";
    case CLCNN_DEVICE_TYPE_INTEGRATED_GPU: return "integrated gpu";
    case CLCNN_DEVICE_TYPE_CPU: return "cpu (OpenCL)";
    case CLCNN_DEVICE_TYPE_ACCELERATOR: return "accelerator";
    default: return "other";
  }
}

int cli_devices(int argc, char **argv) {
  bool verbose = false, peak = false, remeasure = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--verbose")) {
      verbose = true;
    } else if (!strcmp(argv[i], "--peak")) {
      peak = true;
    } else if (!strcmp(argv[i], "--remeasure")) {
      remeasure = peak = true;
    } else {
      cli_error("devices: unknown argument '%s' (usage: clcnn devices [--verbose] [--peak "
                "[--remeasure]])",
                argv[i]);
      return CLI_USAGE;
    }
  }
  clcnn_context *ctx = NULL;
  if (peak && clcnn_context_create(NULL, &ctx) != CLCNN_OK) {
    cli_error("%s", clcnn_last_error());
    return CLI_FAIL;
  }
  int rc = CLI_OK;
  const clcnn_device_info *d;
  int n = 0;
  if (clcnn_devices(&d, &n) != CLCNN_OK)
    printf("note: %s (only the CPU backend is listed)\n", clcnn_last_error());
  if (n <= 1)
    printf("No OpenCL device found%s. Sessions run on the CPU backend.\n",
           CLCNN_HAVE_OPENCL ? " (no ICD, platform or device)" : ": built without OpenCL");
  const clcnn_device_info *best = NULL;
  for (int i = 0; i < n; i++) {
    char g[32], a[32];
    if (d[i].best) best = &d[i];
    if (d[i].index >= 0)
      printf("opencl:%d  %s%s\n", d[i].index, d[i].name, d[i].available ? "" : "  (unavailable)");
    else
      printf("cpu  %s\n", d[i].name);
    if (!d[i].available) printf("  unavailable:     %s\n", d[i].unavailable_reason);
    printf("  id:              %s\n", d[i].id);
    printf("  type:            %s\n", type_str(d[i].type));
    if (d[i].platform[0]) printf("  platform:        %s\n", d[i].platform);
    printf("  vendor:          %s\n", d[i].vendor);
    printf("  driver:          %s\n", d[i].driver_version);
    if (d[i].opencl_version[0]) printf("  version:         %s\n", d[i].opencl_version);
    printf("  compute units:   %d\n", d[i].compute_units);
    printf("  memory:          %s (largest buffer %s)\n",
           cli_bytes_str((double)d[i].global_memory_bytes, g, sizeof g),
           cli_bytes_str((double)d[i].max_allocation_bytes, a, sizeof a));
    printf("  fp16:            %s\n", d[i].fp16 ? "yes" : "no");
    clcnn_device_peak pk;
    if (peak && d[i].available) {
      if (clcnn_device_peak_get(ctx, d[i].id, remeasure, &pk) != CLCNN_OK) {
        cli_error("%s: cannot measure its peak: %s", d[i].id, clcnn_last_error());
        rc = CLI_FAIL;
      } else {
        printf("  peak fp32:       %.1f GFLOP/s\n", pk.fp32_gflops);
        if (pk.fp16_gflops > 0) printf("  peak fp16:       %.1f GFLOP/s\n", pk.fp16_gflops);
        printf("  peak bandwidth:  %.1f GB/s (copy, read + write)%s\n", pk.bandwidth_gbs,
               pk.from_cache ? "  [cached; --remeasure to measure again]" : "");
        printf("  balance:         %.1f FLOP/byte (layers below it are memory-bound)\n",
               pk.fp32_gflops / pk.bandwidth_gbs);
      }
    }
#if CLCNN_HAVE_OPENCL
    const ocl_device_info *devs;
    int count;
    clcnn_err err = {0};
    if (verbose && d[i].index >= 0 && ocl_devices_list(&devs, &count, &err) == CLCNN_OK &&
        d[i].index < count) {
      char buf[8192];
      ocl_device_describe(&devs[d[i].index], buf, sizeof buf);
      printf("  probed:\n");
      for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
        printf("    %s\n", line);
    }
#else
    (void)verbose; /* the probed details come from the OpenCL backend */
#endif
    printf("\n");
  }
  if (best && best->index >= 0)
    printf("best: opencl:%d (%s)\n", best->index, best->name);
  else
    printf("best: the CPU backend\n");
  printf("Select a device with --device (or CLCNN_DEVICE): cpu, best, gpu, cpu-opencl,\n"
         "opencl:N, a name substring, or the id above.\n");
  clcnn_context_free(ctx);
  return rc;
}
