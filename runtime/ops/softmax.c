/* Front half of the softmax family: attributes, validation, shape inference. */
#include "../internal.h"

const op_front *const op_front_softmax[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
