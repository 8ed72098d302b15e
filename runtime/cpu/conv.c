/* CPU backend: the conv family. */
#include "../internal.h"

const cpu_op *const cpu_ops_conv[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
