/* Front half of the binary family: attributes, validation, shape inference. */
#include "../internal.h"

const op_front *const op_front_binary[CLCNN_OP_COUNT] = {
    [0] = NULL,
};
