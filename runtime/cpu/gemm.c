/* CPU backend: the gemm family. */
#include "../internal.h"

const cpu_op *const cpu_ops_gemm[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
