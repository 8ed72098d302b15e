/* `clcnn devices`: every OpenCL platform and device with what was probed,
 * and which one "best" picks. */
#include <stdio.h>

#include "cli.h"
#include "clcnn_config.h"
#if CLCNN_HAVE_OPENCL
#include "device.h"
#endif

int cli_devices(int argc, char **argv) {
  (void)argv;
  if (argc > 1) {
    cli_error("devices takes no arguments");
    return CLI_USAGE;
  }
#if CLCNN_HAVE_OPENCL
  const ocl_device_info *devs = NULL;
  int count = 0;
  clcnn_err err = {0};
  if (ocl_devices_list(&devs, &count, &err)) {
    cli_error("%s", err.msg);
    return CLI_FAIL;
  }
  if (count == 0)
    printf("No OpenCL device found (no ICD, platform or device). Sessions run on the CPU "
           "backend.\n");
  char buf[8192];
  for (int i = 0; i < count; i++) {
    ocl_device_describe(&devs[i], buf, sizeof buf);
    fputs(buf, stdout);
    printf("\n");
  }
  int best = OCL_DEVICE_CPU_BACKEND;
  if (ocl_device_select_from(devs, count, "best", &best, &err) == CLCNN_OK &&
      best != OCL_DEVICE_CPU_BACKEND)
    printf("best: opencl:%d (%s)\n", best, devs[best].name);
  else
    printf("best: the CPU backend\n");
#else
  printf("This clcnn was built without OpenCL: sessions run on the CPU backend.\n");
#endif
  printf("cpu: the CPU backend (always available)\n");
  return CLI_OK;
}
