/* Parameters of the binary family (Add, Sub, Mul, Div, Pow, PRelu, Max, Min,
 * Sum, Mean, Mod, the comparisons Equal, Greater, GreaterOrEqual, Less,
 * LessOrEqual, the logic And, Or, Xor, and Where), shared by the front half
 * and every backend, and the broadcasting plan both backends use.
 *
 * Semantics: numpy (multidirectional) broadcasting over all inputs; the
 * variadic Max, Min, Sum and Mean take 1 or more inputs. PRelu broadcasts the
 * slope to X only (unidirectional); a slope of shape [C] on X of rank >= 3
 * whose shape does not broadcast is taken per channel (axis 1), as the
 * opset <= 6 operator did and as old converters still write.
 *
 * Element types: float32 for all; Add, Sub, Mul, Div, Max, Min and Sum also
 * take float64, float16 (computed in float32), int64, int32, int8 and uint8,
 * Mean float64 and float16 (integer Div truncates toward zero like
 * C; a division by zero gives 0). Pow: base float32, int64 or int32,
 * exponent float32, int64 or int32; the result has the base's type.
 *
 * Mod: float32, float64, float16 (computed in float32), int64, int32, int8,
 * uint8. fmod = 0 (integers only in ONNX; floats accepted too): the result
 * has the sign of the divisor, like Python's %; fmod = 1: the sign of the
 * dividend, like C's fmod. An integer x mod 0 gives 0.
 * Comparisons: both inputs of one type (float32, float64, float16, int64,
 * int32, int8, uint8, bool); the output is bool. And, Or, Xor: bool.
 * Where(condition, X, Y): condition bool; X and Y of one type (any type with
 * an element size); the three broadcast together; y = condition ? X : Y. */
#ifndef CLCNN_OPS_BINARY_H
#define CLCNN_OPS_BINARY_H

#include <stdbool.h>
#include <stdint.h>

#include "../internal.h"

typedef struct binary_params {
  /* PRelu, set by infer: 1 when the slope ([C]) is applied on axis 1 of X
   * (view it as [C, 1, ..., 1] of rank(X) - 1). */
  int prelu_per_channel;
  int fmod; /* Mod: the 'fmod' attribute (0 or 1) */
} binary_params;

/* Broadcast of two tensors a and b to an output y, simplified: dimensions of
 * size 1 in y are dropped and neighbouring dimensions that a and b broadcast
 * alike are merged, so that y is [dims[0], ..., dims[rank-1]] and the
 * element (i0, .., ik) of y reads a[sum i_d * sa[d]] and b[sum i_d * sb[d]]
 * (element strides, 0 on broadcast dimensions; both are 0 where y is wider
 * than a and b, as in a variadic operator's first step). The common cases
 * reduce to rank 1 (same shape; a scalar) or rank 2..3 with the last stride
 * of one operand 0 (a per-channel [C, 1, 1] operand). A scalar y is rank 1,
 * dims[0] = 1. */
typedef struct bcast_plan {
  int rank;
  int64_t dims[CLCNN_MAX_RANK];
  int64_t sa[CLCNN_MAX_RANK];
  int64_t sb[CLCNN_MAX_RANK];
} bcast_plan;

/* Builds the plan of a and b (each of rank <= ry and numpy-broadcastable to
 * y's shape). Returns false when they are not. */
bool bcast_plan_make(int ra, const int64_t *da, int rb, const int64_t *db, int ry,
                     const int64_t *dy, bcast_plan *p);

#endif /* CLCNN_OPS_BINARY_H */
