/* OpenCL kernels: the shape family (Reshape, Flatten, Squeeze, Unsqueeze,
 * Identity, Dropout: a copy; Dropout's mask: a fill; Cast: a conversion).
 * Shape, Constant and ConstantOfShape are folded when a model is loaded and
 * never reach a device.
 *
 * The element count n is an argument, not a -D constant: one program then
 * serves every reshape of a network (a copy gains nothing from a constant
 * size). Each kernel is compiled only under -DK_<its name> (host/node.c adds
 * it). Work-item: VW consecutive elements. */

#ifndef VW
#define VW 8
#endif

/* ------------------------------------------------------------ copy, fill */

/* T is the unsigned integer of the element's size (uchar .. ulong): a
 * copy moves bits. */
#ifndef T
#define T uint
#endif
#define SH_TV CAT(T, VW)

#ifdef K_copy_flat_any
__kernel void copy_flat_any(__global const T *x, uint x_off, __global T *y, uint y_off, uint n) {
  uint i = (uint)get_global_id(0) * VW;
  if (i >= n) return;
  if (i + VW <= n) {
    CAT(vstore, VW)(CAT(vload, VW)(0, x + x_off + i), 0, y + y_off + i);
  } else {
    for (uint k = i; k < n; k++) y[y_off + k] = x[x_off + k];
  }
}
#endif

/* y = the element FILLV (its bits, e.g. 0x3f800000u for 1.0f). */
#ifdef K_fill_flat_any
__kernel void fill_flat_any(__global T *y, uint y_off, uint n) {
  uint i = (uint)get_global_id(0) * VW;
  if (i >= n) return;
  if (i + VW <= n) {
    CAT(vstore, VW)((SH_TV)((T)(FILLV)), 0, y + y_off + i);
  } else {
    for (uint k = i; k < n; k++) y[y_off + k] = (T)(FILLV);
  }
}
#endif

/* ------------------------------------------------------------------ Cast */

/* SRC_T -> DST_T as the CPU backend converts (runtime/cpu/shape.c):
 *   FROM_HALF        the source is IEEE half (read with vload_half)
 *   FROM_BOOL        the source is bool (any non-zero byte is 1)
 *   TO_HALF          the destination is half (vstore_half_rte: nearest even;
 *                    NaN is 0x7e00 with the sign, as on the CPU)
 *   TO_BOOL          the destination is bool: x != 0
 *   SAT              float to integer: toward zero, saturated, NaN -> 0 (the
 *                    NaN test is explicit: OpenCL C says convert_*_sat(NaN)
 *                    is 0, but not every implementation does it; Oclgrind
 *                    21.10 gives the most negative integer)
 *   ROUND_HALF       float to float, rounded to the nearest half float
 *   (otherwise)      a C conversion: integers wrap or extend, integers to
 *                    float round to nearest. */
#ifdef K_cast_flat_any
#ifdef FROM_HALF
#define CAST_SRC_PTR __global const half *
#define CAST_LOAD(i) vload_half((i), x)
#else
#define CAST_SRC_PTR __global const SRC_T *
#ifdef FROM_BOOL
#define CAST_LOAD(i) (x[i] != 0 ? (SRC_T)1 : (SRC_T)0)
#else
#define CAST_LOAD(i) x[i]
#endif
#endif

#ifdef TO_HALF
#define CAST_DST_PTR __global half *
/* NaN as the CPU writes it (a quiet NaN, 0x7e00, with the sign): drivers
 * differ in the payload they keep. */
#define CAST_STORE(i, v)                                                       \
  {                                                                            \
    float v_ = (v);                                                            \
    if (isnan(v_)) ((__global ushort *)y)[i] = (ushort)(signbit(v_) ? 0xfe00 : 0x7e00); \
    else vstore_half_rte(v_, (i), y);                                          \
  }
#else
#define CAST_DST_PTR __global DST_T *
#if defined(TO_BOOL)
#define CAST_STORE(i, v) (y[i] = (v) != 0 ? (DST_T)1 : (DST_T)0)
#elif defined(SAT)
#define CAST_STORE(i, v)                                                       \
  {                                                                            \
    float v_ = (v);                                                            \
    y[i] = isnan(v_) ? (DST_T)0 : CAT(CAT(convert_, DST_T), _sat_rtz)(v_);     \
  }
#elif defined(ROUND_HALF)
/* float to float through half precision (a Cast to float16 computed in
 * float32): the nearest half, ties to even, as a float. Scaling by powers
 * of two is exact, so rint does the one rounding. */
inline float cast_round_half(float v) {
  float a = fabs(v);
  if (isnan(v)) return v;
  if (a >= 65520.0f) return copysign(INFINITY, v);
  if (a < 6.103515625e-05f) return copysign(rint(a * 16777216.0f) * 5.9604644775390625e-08f, v);
  float q = ldexp(1.0f, ilogb(a) - 10);
  return copysign(rint(a / q) * q, v);
}
#define CAST_STORE(i, v) (y[i] = cast_round_half(v))
#else
#define CAST_STORE(i, v) (y[i] = (DST_T)(v))
#endif
#endif

__kernel void cast_flat_any(CAST_SRC_PTR x, uint x_off, CAST_DST_PTR y, uint y_off, uint n) {
  uint i = (uint)get_global_id(0) * VW;
  if (i >= n) return;
  uint m = n - i < VW ? n - i : VW;
  for (uint k = 0; k < m; k++) {
    CAST_STORE(y_off + i + k, CAST_LOAD(x_off + i + k));
  }
}
#endif
