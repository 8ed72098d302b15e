/* OpenCL kernels: the binary family (Add, Sub, Mul, Div, Pow, PRelu, Max,
 * Min; Sum, Mean, Max and Min fold their inputs one at a time).
 *
 * The output is walked as ROWS rows of INNER contiguous elements over the
 * broadcast plan of runtime/ops/binary.h: operand a (b) reads the row's first
 * element at sum idx_d * SA_d (SB_d) over the NOUTER outer dimensions, and
 * then either INNER contiguous elements (ISA = 1) or one value for the whole
 * row (ISA = 0). Same-shape operands are one row; a scalar operand is one row
 * with ISB = 0; a per-channel [C, 1, 1] operand is rows of H*W with ISB = 0.
 *
 * -D OP_ADD | OP_SUB | OP_MUL | OP_DIV | OP_POW | OP_PRELU | OP_MAX | OP_MIN
 *    | OP_FIRST (y = a: the copy of a one-input variadic)
 *    ISA, ISB, NOUTER
 *    ODIMS, OSA, OSB  outer dims and strides (comma lists, NOUTER > 0)
 *    VW     vector width (4 or 8)
 *    ITEMS  vectors per work-item along a row (contiguous)
 *    RPI    rows per work-item
 *    SCALE_DIV  divide the result by this (Mean's last step)
 *    ACT_*  a fused activation after Add or Sum (common.cl)
 * Storage (common.cl): a is role X, b role B, y role Y.
 * Arguments ROWS, INNER (sizes are not options: steps of one kind share a
 * program whatever their shape).
 * Work: dimension 0 over chunks of VW*ITEMS of a row, dimension 1 over groups
 * of RPI rows. The kernel is compiled only under -DK_binary_f32 (host/node.c
 * adds it). */

#define VEC CAT(float, VW)
#define VLOAD CAT(vload, VW)
#define VSTORE CAT(vstore, VW)
#define ACTV CAT(act_apply, VW) /* a fused activation (ACT_*, common.cl) */

#if defined(OP_ADD)
#define BIN(T, a, b) ((a) + (b))
#elif defined(OP_SUB)
#define BIN(T, a, b) ((a) - (b))
#elif defined(OP_MUL)
#define BIN(T, a, b) ((a) * (b))
#elif defined(OP_DIV)
#define BIN(T, a, b) ((a) / (b))
#elif defined(OP_POW)
#define BIN(T, a, b) pow(a, b)
#elif defined(OP_PRELU)
#define BIN(T, a, b) ((a) < (T)(0.0f) ? (a) * (b) : (a))
#elif defined(OP_MAX) /* NaN propagates, as numpy */
#define BIN(T, a, b) (((a) > (b) || isnan(a)) ? (a) : (b))
#elif defined(OP_MIN)
#define BIN(T, a, b) (((a) < (b) || isnan(a)) ? (a) : (b))
#else /* OP_FIRST */
#define BIN(T, a, b) (a)
#endif

#ifdef SCALE_DIV
#define OUT(T, v) ((v) / (T)(SCALE_DIV))
#else
#define OUT(T, v) (v)
#endif

#if NOUTER > 0
__constant uint odims[NOUTER] = {ODIMS};
__constant uint osa[NOUTER] = {OSA};
__constant uint osb[NOUTER] = {OSB};
#endif

#ifdef K_binary_f32
/* One row segment [j0, j1) where a and b are vectors or row constants. */
__kernel void binary_f32(__global const XT *a, uint a_off, __global const BT *b,
                         uint b_off, __global YT *y, uint y_off, const uint ROWS,
                         const uint INNER) {
  const uint j0 = (uint)get_global_id(0) * (VW * ITEMS);
  const uint r0 = (uint)get_global_id(1) * RPI;
  if (j0 >= INNER) return;
  for (uint row = r0; row < r0 + RPI && row < ROWS; row++) {
    uint oa = a_off, ob = b_off;
#if NOUTER > 0
    uint r = row;
    for (int d = NOUTER - 1; d >= 0; d--) {
      const uint i = r % odims[d];
      r /= odims[d];
      oa += i * osa[d];
      ob += i * osb[d];
    }
#endif
    __global const XT *ar = a + oa;
    __global const BT *br = b + ob;
    __global YT *yr = y + y_off + row * INNER;
#if !ISA
    const float as = LOAD_X(0, ar);
#endif
#if !ISB
    const float bs = LOAD_B(0, br);
#if defined(OP_POW)
    /* x^2 and x^1 exactly, as the CPU backend does for a row exponent. */
    const int pow_mode = bs == 2.0f ? 2 : bs == 1.0f ? 1 : 0;
#endif
#endif
    uint j = j0;
    for (int k = 0; k < ITEMS; k++, j += VW) {
      if (j + VW <= INNER) {
#if ISA
        const VEC va = VLOAD_X(VW, 0, ar + j);
#else
        const VEC va = (VEC)(as);
#endif
#if ISB
        const VEC vb = VLOAD_B(VW, 0, br + j);
#else
        const VEC vb = (VEC)(bs);
#endif
#if defined(OP_POW) && !ISB
        const VEC v = pow_mode == 2 ? va * va : pow_mode == 1 ? va : pow(va, vb);
#else
        const VEC v = BIN(VEC, va, vb);
#endif
        VSTORE_Y(VW, ACTV(OUT(VEC, v)), 0, yr + j);
      } else {
        for (; j < INNER; j++) {
#if ISA
          const float sa = LOAD_X(j, ar);
#else
          const float sa = as;
#endif
#if ISB
          const float sb = LOAD_B(j, br);
#else
          const float sb = bs;
#endif
#if defined(OP_POW) && !ISB
          const float v = pow_mode == 2 ? sa * sa : pow_mode == 1 ? sa : pow(sa, sb);
#else
          const float v = BIN(float, sa, sb);
#endif
          STORE_Y(act_apply(OUT(float, v)), j, yr);
        }
        break;
      }
    }
  }
}
#endif
