/* CPU backend: the norm family. */
#include "../internal.h"

const cpu_op *const cpu_ops_norm[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
