/* OpenCL backend: the binary family. */
#include "../ocl.h"

const ocl_op *const ocl_ops_binary[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
