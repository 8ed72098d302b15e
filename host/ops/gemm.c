/* OpenCL backend: the gemm family. */
#include "../ocl.h"

const ocl_op *const ocl_ops_gemm[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
