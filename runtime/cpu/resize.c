/* CPU backend: the resize family. */
#include "../internal.h"

const cpu_op *const cpu_ops_resize[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
