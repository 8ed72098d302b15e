/* Front half of the binary family: attributes, validation, shape inference,
 * and the broadcasting plan shared by the backends. */
#include <string.h>

#include "../internal.h"
#include "binary.h"

/* No tensor this family produces may be larger than this. */
#define MAX_NUMEL ((int64_t)1 << 40)

bool bcast_plan_make(int ra, const int64_t *da, int rb, const int64_t *db, int ry,
                     const int64_t *dy, bcast_plan *p) {
  if (ra < 0 || rb < 0 || ra > ry || rb > ry || ry > CLCNN_MAX_RANK) return false;
  bool ba[CLCNN_MAX_RANK], bb[CLCNN_MAX_RANK]; /* broadcast along this dimension */
  int r = 0;
  for (int d = 0; d < ry; d++) {
    int64_t y = dy[d];
    int64_t a = d < ry - ra ? 1 : da[d - (ry - ra)];
    int64_t b = d < ry - rb ? 1 : db[d - (ry - rb)];
    if ((a != y && a != 1) || (b != y && b != 1)) return false;
    if (y == 1) continue; /* nothing to iterate */
    bool fa = a == 1, fb = b == 1;
    if (r > 0 && fa == ba[r - 1] && fb == bb[r - 1]) {
      p->dims[r - 1] *= y; /* both contiguous in a and b alike: merge */
    } else {
      p->dims[r] = y;
      ba[r] = fa;
      bb[r] = fb;
      r++;
    }
  }
  if (r == 0) { /* a scalar (or all-ones) output */
    p->rank = 1;
    p->dims[0] = 1;
    p->sa[0] = p->sb[0] = 0;
    return true;
  }
  int64_t ka = 1, kb = 1;
  for (int d = r - 1; d >= 0; d--) {
    p->sa[d] = ba[d] ? 0 : ka;
    p->sb[d] = bb[d] ? 0 : kb;
    if (!ba[d]) ka *= p->dims[d];
    if (!bb[d]) kb *= p->dims[d];
  }
  p->rank = r;
  return true;
}

static bool is_variadic(int op) {
  return op == CLCNN_OP_MAX || op == CLCNN_OP_MIN || op == CLCNN_OP_SUM || op == CLCNN_OP_MEAN;
}

static bool is_comparison(int op) {
  return op == CLCNN_OP_EQUAL || op == CLCNN_OP_GREATER || op == CLCNN_OP_GREATER_OR_EQUAL ||
         op == CLCNN_OP_LESS || op == CLCNN_OP_LESS_OR_EQUAL;
}

static bool is_logic(int op) {
  return op == CLCNN_OP_AND || op == CLCNN_OP_OR || op == CLCNN_OP_XOR;
}

static clcnn_status binary_parse(const ir_graph *g, ir_node *n, clcnn_err *err) {
  (void)g;
  binary_params *p = n->params;
  if (is_variadic(n->op)) {
    if (n->nin < 1) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects at least 1 input");
  } else if (n->op == CLCNN_OP_WHERE) {
    if (n->nin != 3)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 3 inputs, got %d", n->nin);
  } else if (n->nin != 2) {
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 2 inputs, got %d", n->nin);
  }
  for (int i = 0; i < n->nin; i++)
    if (n->in[i] < 0) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input %d is missing", i);
  if (n->nout != 1 || n->out[0] < 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "expects 1 output, got %d", n->nout);
  /* From opset 7 (the oldest this library reads) these operators have no
   * attributes: the opset <= 6 'broadcast' and 'axis' are gone. Mod has
   * 'fmod'. */
  if (n->op == CLCNN_OP_MOD) {
    const ir_attr *a = ir_attr_find(n, "fmod");
    if (a && (a->type != IR_ATTR_INT || (a->i != 0 && a->i != 1)))
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "attribute 'fmod' must be 0 or 1");
    p->fmod = a ? (int)a->i : 0;
  }
  return CLCNN_OK;
}

static bool is_int_type(clcnn_dtype dt) {
  return dt == CLCNN_DTYPE_INT64 || dt == CLCNN_DTYPE_INT32 || dt == CLCNN_DTYPE_INT16 ||
         dt == CLCNN_DTYPE_INT8 || dt == CLCNN_DTYPE_UINT64 || dt == CLCNN_DTYPE_UINT32 ||
         dt == CLCNN_DTYPE_UINT16 || dt == CLCNN_DTYPE_UINT8;
}

/* Whether operator `op` computes in type dt (Pow: the base's type; Where:
 * X's type). */
static bool binary_dtype_ok(int op, clcnn_dtype dt) {
  if (op == CLCNN_OP_WHERE) return dtype_size(dt) != 0;
  if (is_logic(op)) return dt == CLCNN_DTYPE_BOOL;
  if (is_comparison(op) || op == CLCNN_OP_MOD) {
    if (dt == CLCNN_DTYPE_FLOAT64 || dt == CLCNN_DTYPE_FLOAT16 || is_int_type(dt)) return true;
    if (dt == CLCNN_DTYPE_BOOL) return op == CLCNN_OP_EQUAL;
  }
  if (dt == CLCNN_DTYPE_FLOAT32) return true;
  switch (op) {
    case CLCNN_OP_ADD:
    case CLCNN_OP_SUB:
    case CLCNN_OP_MUL:
    case CLCNN_OP_DIV:
    case CLCNN_OP_MAX:
    case CLCNN_OP_MIN:
    case CLCNN_OP_SUM:
      return is_int_type(dt) || dt == CLCNN_DTYPE_FLOAT64 || dt == CLCNN_DTYPE_FLOAT16;
    case CLCNN_OP_MEAN:
      return dt == CLCNN_DTYPE_FLOAT64 || dt == CLCNN_DTYPE_FLOAT16;
    case CLCNN_OP_POW:
      return dt == CLCNN_DTYPE_INT64 || dt == CLCNN_DTYPE_INT32;
    default:
      return false;
  }
}

static clcnn_status check_numel(int rank, const int64_t *dims, clcnn_err *err) {
  int64_t total = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0) return err_set(err, CLCNN_ERROR_SHAPE, "negative dimension");
    if (dims[i] && total > MAX_NUMEL / dims[i]) {
      char s[128];
      return err_set(err, CLCNN_ERROR_SHAPE, "output shape %s is too large",
                     shape_str(rank, dims, s, sizeof s));
    }
    total *= dims[i];
  }
  return CLCNN_OK;
}

static clcnn_status prelu_infer(ir_graph *g, ir_node *n, int *rank, int64_t *dims,
                                clcnn_err *err) {
  const clcnn_tensor *x = &ir_in(g, n, 0)->t, *s = &ir_in(g, n, 1)->t;
  binary_params *p = n->params;
  p->prelu_per_channel = 0;
  int r;
  int64_t d[CLCNN_MAX_RANK];
  bool ok = s->rank <= x->rank && shape_broadcast(x->rank, x->dims, s->rank, s->dims, &r, d);
  for (int i = 0; ok && i < r; i++) ok = d[i] == x->dims[i];
  if (!ok) {
    if (s->rank == 1 && x->rank >= 3 && s->dims[0] == x->dims[1]) {
      p->prelu_per_channel = 1;
    } else {
      char sx[128], ss[128];
      return err_set(err, CLCNN_ERROR_SHAPE,
                     "slope of shape %s does not broadcast to X of shape %s",
                     shape_str(s->rank, s->dims, ss, sizeof ss),
                     shape_str(x->rank, x->dims, sx, sizeof sx));
    }
  }
  *rank = x->rank;
  memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
  return CLCNN_OK;
}

static clcnn_status binary_infer(ir_graph *g, ir_node *n, clcnn_err *err) {
  const clcnn_tensor *x0 = &ir_in(g, n, 0)->t;
  const bool where = n->op == CLCNN_OP_WHERE;
  /* The type the operator computes in: Where's X, the others' input 0. */
  const clcnn_dtype dt = where ? ir_in(g, n, 1)->t.dtype : x0->dtype;
  if (where && x0->dtype != CLCNN_DTYPE_BOOL)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input 'condition' must be bool, not %s",
                   dtype_name(x0->dtype));
  if (!binary_dtype_ok(n->op, dt))
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input type %s is not supported", dtype_name(dt));
  for (int i = where ? 2 : 1; i < n->nin; i++) {
    clcnn_dtype di = ir_in(g, n, i)->t.dtype;
    if (n->op == CLCNN_OP_POW) {
      if (di != CLCNN_DTYPE_FLOAT32 && di != CLCNN_DTYPE_INT64 && di != CLCNN_DTYPE_INT32 &&
          di != CLCNN_DTYPE_UINT64 && di != CLCNN_DTYPE_UINT32)
        return err_set(err, CLCNN_ERROR_UNSUPPORTED, "exponent type %s is not supported",
                       dtype_name(di));
    } else if (di != dt) {
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "input %d has type %s but input %d has %s", i,
                     dtype_name(di), where ? 1 : 0, dtype_name(dt));
    }
  }

  int rank = x0->rank;
  int64_t dims[CLCNN_MAX_RANK];
  if (rank < 0 || rank > CLCNN_MAX_RANK)
    return err_set(err, CLCNN_ERROR_SHAPE, "input rank %d is not supported", rank);
  memcpy(dims, x0->dims, sizeof(int64_t) * (size_t)rank);
  if (n->op == CLCNN_OP_PRELU) {
    clcnn_status st = prelu_infer(g, n, &rank, dims, err);
    if (st != CLCNN_OK) return st;
  } else {
    for (int i = 1; i < n->nin; i++) {
      const clcnn_tensor *t = &ir_in(g, n, i)->t;
      int r;
      int64_t d[CLCNN_MAX_RANK];
      if (!shape_broadcast(rank, dims, t->rank, t->dims, &r, d)) {
        char s0[128], s1[128];
        return err_set(err, CLCNN_ERROR_SHAPE, "input shapes %s and %s do not broadcast",
                       shape_str(rank, dims, s0, sizeof s0),
                       shape_str(t->rank, t->dims, s1, sizeof s1));
      }
      rank = r;
      memcpy(dims, d, sizeof(int64_t) * (size_t)r);
    }
  }
  clcnn_status st = check_numel(rank, dims, err);
  if (st != CLCNN_OK) return st;
  ir_set_shape(ir_out(g, n, 0), is_comparison(n->op) ? CLCNN_DTYPE_BOOL : dt, rank, dims);
  return CLCNN_OK;
}

static double binary_flops(const ir_graph *g, const ir_node *n) {
  const ir_value *y = ir_out(g, n, 0);
  if (!y) return 0.0;
  double numel = (double)shape_numel(y->t.rank, y->t.dims);
  int ops = n->nin > 1 ? n->nin - 1 : 1;
  if (n->op == CLCNN_OP_MEAN) ops++;
  return numel * ops;
}

static const op_front binary_front = {sizeof(binary_params), binary_parse, binary_infer,
                                      binary_flops};

const op_front *const op_front_binary[CLCNN_OP_COUNT] = {
    [CLCNN_OP_ADD] = &binary_front, [CLCNN_OP_SUB] = &binary_front,
    [CLCNN_OP_MUL] = &binary_front, [CLCNN_OP_DIV] = &binary_front,
    [CLCNN_OP_POW] = &binary_front, [CLCNN_OP_PRELU] = &binary_front,
    [CLCNN_OP_MAX] = &binary_front, [CLCNN_OP_MIN] = &binary_front,
    [CLCNN_OP_SUM] = &binary_front, [CLCNN_OP_MEAN] = &binary_front,
    [CLCNN_OP_MOD] = &binary_front, [CLCNN_OP_EQUAL] = &binary_front,
    [CLCNN_OP_GREATER] = &binary_front, [CLCNN_OP_GREATER_OR_EQUAL] = &binary_front,
    [CLCNN_OP_LESS] = &binary_front, [CLCNN_OP_LESS_OR_EQUAL] = &binary_front,
    [CLCNN_OP_AND] = &binary_front, [CLCNN_OP_OR] = &binary_front,
    [CLCNN_OP_XOR] = &binary_front, [CLCNN_OP_WHERE] = &binary_front,
};
