/* CPU backend: the layout family. */
#include "../internal.h"

const cpu_op *const cpu_ops_layout[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
