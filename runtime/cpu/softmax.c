/* CPU backend: the softmax family. */
#include "../internal.h"

const cpu_op *const cpu_ops_softmax[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
