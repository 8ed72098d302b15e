/* The CPU backend's operator table, generated from ops.def: each family file
 * runtime/cpu/FAMILY.c ends with a table indexed by op id. */
#include "../internal.h"

#define OP(ID, NAME, FAM) extern const cpu_op *const cpu_ops_##FAM[CLCNN_OP_COUNT];
#include "../ops.def"
#undef OP

static clcnn_status missing_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                                int nout, clcnn_err *err) {
  (void)in, (void)nin, (void)out, (void)nout;
  return err_set(err, CLCNN_ERROR_UNSUPPORTED, "no CPU kernel for %s", op_name(cn->n->op));
}
static const char *missing_check(const ir_graph *g, const ir_node *n) {
  (void)g, (void)n;
  return "no CPU kernel for this operator";
}
static const cpu_op missing_op = {missing_check, NULL, missing_run, NULL};

const cpu_op *cpu_op_get(int op) {
  const cpu_op *o = NULL;
  switch (op) {
#define OP(ID, NAME, FAM) \
  case CLCNN_OP_##ID:     \
    o = cpu_ops_##FAM[op]; \
    break;
#include "../ops.def"
#undef OP
    default:
      return NULL;
  }
  return o ? o : &missing_op;
}

clcnn_status cpu_run_node(const ir_graph *g, const ir_node *n, const clcnn_tensor *in,
                          clcnn_tensor *out, clcnn_err *err) {
  const cpu_op *op = cpu_op_get(n->op);
  if (!op) return err_set(err, CLCNN_ERROR_INTERNAL, "invalid operator id %d", n->op);
  const char *why = op->check ? op->check(g, n) : NULL;
  if (why) return err_set(err, CLCNN_ERROR_UNSUPPORTED, "%s", why);
  cpu_node cn = {.g = g, .n = n, .state = NULL, .nthreads = 1};
  clcnn_status st = op->prepare ? op->prepare(&cn, err) : CLCNN_OK;
  if (st == CLCNN_OK) st = op->run(&cn, in, n->nin, out, n->nout, err);
  if (op->release) op->release(&cn);
  return st;
}
