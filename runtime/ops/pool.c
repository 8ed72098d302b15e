/* Front half of the pool family: attributes, validation, shape inference. */
#include "../internal.h"

const op_front *const op_front_pool[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
