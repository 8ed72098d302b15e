/* Front half of the reduce family: attributes, validation, shape inference. */
#include "../internal.h"

const op_front *const op_front_reduce[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
