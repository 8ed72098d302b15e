/* OpenCL backend: the reduce family. */
#include "../ocl.h"

const ocl_op *const ocl_ops_reduce[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
