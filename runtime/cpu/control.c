/* CPU backend: the control family. If never reaches a backend: shape
 * inference replaces it by the branch it takes (runtime/ops/control.c). */
#include "../internal.h"

const cpu_op *const cpu_ops_control[CLCNN_OP_COUNT] = {
    [CLCNN_OP_IF] = NULL,
};
