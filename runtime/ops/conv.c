/* Front half of the conv family: attributes, validation, shape inference. */
#include "../internal.h"

const op_front *const op_front_conv[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
