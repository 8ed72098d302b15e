/* CPU backend: the binary family. */
#include "../internal.h"

const cpu_op *const cpu_ops_binary[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
