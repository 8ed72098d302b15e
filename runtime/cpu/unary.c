/* CPU backend: the unary family. */
#include "../internal.h"

const cpu_op *const cpu_ops_unary[CLCNN_OP_COUNT] = {
    [0] = NULL,
};

/* Placeholders until the unary family lands (replaced by it). */
void cpu_unary_apply(int op, const void *params, const float *x, float *y, size_t n) {
  (void)op, (void)params, (void)x, (void)y, (void)n;
}
bool op_is_activation(int op) { return (void)op, false; }
