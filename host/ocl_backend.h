/* The state of one OpenCL device in a session: private to host/backend.c
 * (the backend table) and host/node.c (the helpers operators use). */
#ifndef CLCNN_HOST_OCL_BACKEND_H
#define CLCNN_HOST_OCL_BACKEND_H

#include "devctx.h"
#include "ocl.h"

/* Adds the times of the events still pending to their nodes (profiling). */
void ocl_node_collect_times(struct ocl_backend *be);

struct ocl_backend {
  const ocl_device_info *dev;
  ocl_devctx *dc;          /* the shared context and its programs */
  ocl_weights *weights;    /* the model's shared weights on it; NULL: uploads are private */
  cl_context ctx;          /* dc's */
  cl_command_queue queue;  /* the session's own, or the application's (retained) */
  bool profile;
  int nnodes, nvalues;
  ocl_node *nodes;         /* per graph node */
  bool *prepared;          /* per graph node */
  cl_event *events;        /* per node when profiling (its last kernel's event) */
  cl_mem *const_mem;       /* per value: constants bound on this device */
  bool *const_private;     /* per value: const_mem is this session's to release */
  size_t const_bytes, const_shared_bytes;
  int programs_built, programs_from_disk;
};

#endif
