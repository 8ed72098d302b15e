/* OpenCL backend: the control family. If never reaches a backend: shape
 * inference replaces it by the branch it takes (runtime/ops/control.c). */
#include "../ocl.h"

const ocl_op *const ocl_ops_control[CLCNN_OP_COUNT] = {
    [CLCNN_OP_IF] = NULL,
};
