/* Front half of the gemm family: attributes, validation, shape inference. */
#include "../internal.h"

const op_front *const op_front_gemm[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
