/* OpenCL backend: the indexing family. Operators without an entry here run
 * on the CPU backend (the runtime places them there). */
#include "../ocl.h"

const ocl_op *const ocl_ops_indexing[CLCNN_OP_COUNT] = {
    [CLCNN_OP_GATHER_ELEMENTS] = NULL,
};
