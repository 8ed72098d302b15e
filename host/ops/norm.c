/* OpenCL backend: the norm family. */
#include "../ocl.h"

const ocl_op *const ocl_ops_norm[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
