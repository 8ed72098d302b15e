/* OpenCL backend: the dynamic family (NonZero, NonMaxSuppression) has no
 * kernels. Its output shapes depend on the data, so these nodes and what is
 * computed from them run per run on the CPU backend, after the static
 * schedule (runtime/sched.c, docs/design-dynamic-shapes.md). */
#include "../ocl.h"

const ocl_op *const ocl_ops_dynamic[CLCNN_OP_COUNT] = {0};
