/* The operator registry: everything here is generated from ops.def. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Each family file ends with a table indexed by op id (see STYLE.md). */
#define OP(ID, NAME, FAM) extern const op_front *const op_front_##FAM[CLCNN_OP_COUNT];
#include "ops.def"
#undef OP

static const char *const op_names[CLCNN_OP_COUNT] = {
#define OP(ID, NAME, FAM) [CLCNN_OP_##ID] = NAME,
#include "ops.def"
#undef OP
};

int op_lookup(const char *domain, const char *op_type) {
  if (domain && domain[0] && strcmp(domain, "ai.onnx") != 0) return -1;
  if (!op_type) return -1;
  for (int i = 0; i < CLCNN_OP_COUNT; i++)
    if (strcmp(op_names[i], op_type) == 0) return i;
  return -1;
}

const char *op_name(int op) {
  return (op >= 0 && op < CLCNN_OP_COUNT) ? op_names[op] : "?";
}

/* NULL-terminated attribute names per operator, from ONNX's schemas. */
static const char *const *const op_attrs[CLCNN_OP_COUNT] = {
#define ATTRS(ID, ...) [CLCNN_OP_##ID] = (const char *const[]){__VA_ARGS__},
#include "op_attrs.def"
#undef ATTRS
};

bool op_attr_known(int op, const char *name) {
  if (op < 0 || op >= CLCNN_OP_COUNT || !op_attrs[op]) return false;
  for (const char *const *a = op_attrs[op]; *a; a++)
    if (strcmp(*a, name) == 0) return true;
  return false;
}

void op_attr_list(int op, char *buf, size_t len) {
  size_t at = 0;
  buf[0] = 0;
  if (op >= 0 && op < CLCNN_OP_COUNT && op_attrs[op])
    for (const char *const *a = op_attrs[op]; *a && at < len; a++)
      at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? ", " : "", *a);
  if (!buf[0]) snprintf(buf, len, "none");
}

/* A node with no params and one output whose shape equals its first input's. */
static clcnn_status no_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  (void)n;
  (void)err;
  return CLCNN_OK;
}
static clcnn_status missing_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  return err_set(err, CLCNN_ERROR_UNSUPPORTED, "operator %s has no implementation yet",
                 op_name(n->op));
}
static const op_front missing_front = {0, no_parse, missing_infer, NULL};

const op_front *op_front_get(int op) {
  const op_front *f = NULL;
  switch (op) {
#define OP(ID, NAME, FAM) \
  case CLCNN_OP_##ID:     \
    f = op_front_##FAM[op]; \
    break;
#include "ops.def"
#undef OP
    default:
      return NULL;
  }
  return f ? f : &missing_front;
}

/* One line per operator whose infer() reads input values (op_value_inputs). */
#define IN(i) (1u << (i))
static const uint32_t value_inputs[CLCNN_OP_COUNT] = {
    [CLCNN_OP_RESHAPE] = IN(1),
    [CLCNN_OP_EXPAND] = IN(1),
    [CLCNN_OP_TILE] = IN(1),                                 /* repeats */
    [CLCNN_OP_SLICE] = IN(1) | IN(2) | IN(3) | IN(4),        /* starts, ends, axes, steps */
    [CLCNN_OP_PAD] = IN(1) | IN(3),                          /* pads, axes */
    [CLCNN_OP_SPLIT] = IN(1),
    [CLCNN_OP_SQUEEZE] = IN(1),
    [CLCNN_OP_UNSQUEEZE] = IN(1),
    [CLCNN_OP_RESIZE] = IN(1) | IN(2) | IN(3),               /* roi, scales, sizes */
    [CLCNN_OP_UPSAMPLE] = IN(1),                             /* scales */
    [CLCNN_OP_REDUCEMEAN] = IN(1),                           /* axes (opset 13/18) */
    [CLCNN_OP_REDUCEMAX] = IN(1),
    [CLCNN_OP_REDUCESUM] = IN(1),
    [CLCNN_OP_REDUCEMIN] = IN(1),
    [CLCNN_OP_REDUCEPROD] = IN(1),
    [CLCNN_OP_REDUCEL1] = IN(1),
    [CLCNN_OP_REDUCEL2] = IN(1),
    [CLCNN_OP_REDUCESUMSQUARE] = IN(1),
    [CLCNN_OP_REDUCELOGSUMEXP] = IN(1),
    [CLCNN_OP_CONSTANT_OF_SHAPE] = IN(0),
    [CLCNN_OP_RANGE] = IN(0) | IN(1) | IN(2),
    [CLCNN_OP_DROPOUT] = IN(1) | IN(2),                      /* ratio, training_mode */
    [CLCNN_OP_TOPK] = IN(1),                                 /* K */
    [CLCNN_OP_CUMSUM] = IN(1),                               /* axis */
    [CLCNN_OP_ONEHOT] = IN(1),                               /* depth */
    [CLCNN_OP_IF] = IN(0),                                   /* the condition */
    [CLCNN_OP_LOOP] = 0xffffffffu,                           /* runs on constants */
    [CLCNN_OP_TRILU] = IN(1),                                /* k */
};
#undef IN

uint32_t op_value_inputs(int op) {
  return op >= 0 && op < CLCNN_OP_COUNT ? value_inputs[op] : 0;
}
