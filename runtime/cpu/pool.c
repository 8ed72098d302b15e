/* CPU backend: the pool family. */
#include "../internal.h"

const cpu_op *const cpu_ops_pool[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
