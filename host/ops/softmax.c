/* OpenCL backend: the softmax family. */
#include "../ocl.h"

const ocl_op *const ocl_ops_softmax[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
