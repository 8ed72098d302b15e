/* The device backends this build has. The runtime opens devices only through
 * these two functions; everything else goes through the backend table. */
#include <string.h>

#include "backend.h"
#include "clcnn_config.h"

#if CLCNN_HAVE_OPENCL
/* host/backend.c */
clcnn_status ocl_backend_open(const char *spec, const backend_open_args *a, backend **out,
                              clcnn_err *err);
clcnn_status ocl_backend_open_native(void *context, void *queue, const backend_open_args *a,
                                     backend **out, clcnn_err *err);
/* host/device.c */
clcnn_status ocl_devices_public(clcnn_device_info **out, int *count, clcnn_err *err);
/* host/peak.c */
clcnn_status ocl_device_peak(const char *spec, const backend_open_args *a, bool remeasure,
                             clcnn_device_peak *out, clcnn_err *err);
#endif

clcnn_status device_backend_list(clcnn_device_info **out, int *count, clcnn_err *err) {
  *out = NULL;
  *count = 0;
#if CLCNN_HAVE_OPENCL
  return ocl_devices_public(out, count, err);
#else
  (void)err;
  return CLCNN_OK;
#endif
}

clcnn_status device_backend_open(const char *spec, const backend_open_args *a, backend **out,
                                 clcnn_err *err) {
  *out = NULL;
#if CLCNN_HAVE_OPENCL
  return ocl_backend_open(spec, a, out, err);
#else
  (void)a;
  if (!strcmp(spec, "best")) return CLCNN_OK;
  return err_set(err, CLCNN_ERROR_DEVICE,
                 "device '%s' is not available: this clcnn was built without OpenCL", spec);
#endif
}

clcnn_status device_backend_open_native(void *context, void *queue, const backend_open_args *a,
                                        backend **out, clcnn_err *err) {
  *out = NULL;
#if CLCNN_HAVE_OPENCL
  return ocl_backend_open_native(context, queue, a, out, err);
#else
  (void)context, (void)queue, (void)a;
  return err_set(err, CLCNN_ERROR_DEVICE, "this clcnn was built without OpenCL");
#endif
}

clcnn_status device_backend_peak(const char *spec, const backend_open_args *a, bool remeasure,
                                 clcnn_device_peak *out, clcnn_err *err) {
#if CLCNN_HAVE_OPENCL
  return ocl_device_peak(spec, a, remeasure, out, err);
#else
  (void)a, (void)remeasure, (void)out;
  return err_set(err, CLCNN_ERROR_DEVICE,
                 "device '%s' is not available: this clcnn was built without OpenCL", spec);
#endif
}
