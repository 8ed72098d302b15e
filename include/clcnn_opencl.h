/*
 * clcnn OpenCL interop: run a session on the application's own OpenCL
 * context and command queue, and pass inputs and outputs as its cl_mem
 * buffers, without a copy through the host.
 *
 * Ownership: the library retains the context and the queue it is given
 * (clRetainContext/clRetainCommandQueue) and releases the queue when the
 * session is freed, the context when its last session is freed and the model
 * no longer holds weights uploaded into it (the device copies of a model's
 * weights are shared by its sessions on that context and freed with the
 * model). It never releases anything the caller did not hand over, and never
 * keeps a caller's cl_mem after the call that received it returns.
 */
#ifndef CLCNN_OPENCL_H
#define CLCNN_OPENCL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#ifdef __APPLE__
#include <OpenCL/cl.h>
#else
#include <CL/cl.h>
#endif

#include "clcnn.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Creates a session that runs on the device of `queue`, in `context` (the
 *  queue must belong to the context and be in order: an out-of-order queue
 *  is refused). opts->device is ignored; nodes the device cannot run go to the
 *  CPU backend as in clcnn_session_create(). With opts->profile the queue must
 *  have been created with CL_QUEUE_PROFILING_ENABLE. The application may keep
 *  using the queue; clcnn enqueues its work on it in order. Thread-safety as
 *  clcnn_session_create(): the application must not enqueue on the queue from
 *  another thread while a clcnn call on this session runs. Errors:
 *  INVALID_ARGUMENT (NULL handles, a queue of another context, an
 *  out-of-order queue, profiling not enabled), DEVICE (the queue's device is
 *  not one clcnn can see), and those of clcnn_session_create(). */
CLCNN_API clcnn_status clcnn_session_create_opencl(const clcnn_model *model,
                                                   const clcnn_session_options *opts,
                                                   cl_context context, cl_command_queue queue,
                                                   const clcnn_input_shape *shapes,
                                                   int shape_count, clcnn_session **out);

/** Sets input `name` from `buffer` at byte `offset` (the input's exact size
 *  is read; dtype and shape are the session's). The data is copied, device to
 *  device, into the session's own memory for that input before this call
 *  returns; the buffer may be reused or released at once. It stays the input
 *  for every later clcnn_session_run() until the input is set again (by this
 *  call or clcnn_session_set_input()). Where only CPU-backend nodes read the
 *  input, it is read back to the host instead. The buffer must belong to the
 *  session's context. Errors: NOT_FOUND, INVALID_ARGUMENT (not an OpenCL
 *  session, buffer too small), DEVICE (the copy failed). */
CLCNN_API clcnn_status clcnn_session_set_input_buffer(clcnn_session *session, const char *name,
                                                      cl_mem buffer, size_t offset);

/** Copies output `name` of the last run into `buffer` at byte `offset`,
 *  device to device, and waits for the copy. Errors: NOT_FOUND,
 *  INVALID_ARGUMENT (no run yet, not an OpenCL session, buffer too small),
 *  DEVICE. */
CLCNN_API clcnn_status clcnn_session_get_output_buffer(clcnn_session *session, const char *name,
                                                       cl_mem buffer, size_t offset);

/** The context and queue an OpenCL session runs on (not retained for the
 *  caller). Errors: INVALID_ARGUMENT (a session on the CPU backend). */
CLCNN_API clcnn_status clcnn_session_opencl_queue(const clcnn_session *session,
                                                  cl_context *context, cl_command_queue *queue);

#ifdef __cplusplus
}
#endif
#endif /* CLCNN_OPENCL_H */
