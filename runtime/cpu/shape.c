/* CPU backend: the shape family. */
#include "../internal.h"

const cpu_op *const cpu_ops_shape[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
