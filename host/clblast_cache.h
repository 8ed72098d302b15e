/* CLBlast is entered by one thread at a time, and what it caches per OpenCL
 * context is forgotten when clcnn releases that context. */
#ifndef CLCNN_HOST_CLBLAST_CACHE_H
#define CLCNN_HOST_CLBLAST_CACHE_H

#include "device.h"

/* Around every CLBlast call: takes the process-wide lock and notes that
 * CLBlast has programs for `ctx`. */
void ocl_clblast_enter(cl_context ctx);
void ocl_clblast_leave(void);

/* Forgets what CLBlast cached for `ctx` (its compiled programs). Called
 * before clcnn releases a context it used: a later context at the same
 * address must not find stale programs. No-op without CLBlast. */
void ocl_clblast_release_context(cl_context ctx);

#endif
