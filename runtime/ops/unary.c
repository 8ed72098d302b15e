/* Front half of the unary family: attributes, validation, shape inference. */
#include "../internal.h"

const op_front *const op_front_unary[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
