/* OpenCL kernels: the layout family (Concat, Split, Slice, Transpose, Gather,
 * Tile, Expand, Pad).
 *
 * These kernels only move elements, so one source serves every data type:
 * the element type T is the unsigned integer of the element's size
 * (-DT=uchar, ushort, uint or ulong) and kernels named *_any take it from
 * there. VW is the number of consecutive elements one work-item moves with
 * vload/vstore (alignment of one element suffices for those): wide on CPUs
 * (PoCL), 16 bytes on GPUs.
 *
 * Shapes are -D constants (DESIGN.md decision 2), given by the host after it
 * merges adjacent axes that are contiguous on both sides. The iteration space
 * is described by slots counted from the innermost axis: DI is the innermost
 * size and SI its source stride; D1..D15 are the outer axes (D1 next to the
 * innermost) with source strides S1..S15 and destination strides T1..T15.
 * Absent slots default to size 1, which the compiler folds away. Indices are
 * int: the host refuses tensors of 2^31 elements or more. CAT comes from
 * common.cl.
 *
 * Each kernel is compiled only under -DK_<its name> (host/node.c adds it). */

#ifndef T
#define T uint
#endif
#ifndef VW
#define VW 4
#endif
#define TV CAT(T, VW)
#define LY_VLOAD CAT(vload, VW)
#define LY_VSTORE CAT(vstore, VW)

#ifndef DI
#define DI 1
#endif
#ifndef SI
#define SI 1
#endif
#ifndef SB
#define SB 0
#endif
#ifndef OUTER
#define OUTER 1
#endif

/* Outer slot defaults: size 1, strides 0. */
#ifndef D1
#define D1 1
#endif
#ifndef D2
#define D2 1
#endif
#ifndef D3
#define D3 1
#endif
#ifndef D4
#define D4 1
#endif
#ifndef D5
#define D5 1
#endif
#ifndef D6
#define D6 1
#endif
#ifndef D7
#define D7 1
#endif
#ifndef D8
#define D8 1
#endif
#ifndef D9
#define D9 1
#endif
#ifndef D10
#define D10 1
#endif
#ifndef D11
#define D11 1
#endif
#ifndef D12
#define D12 1
#endif
#ifndef D13
#define D13 1
#endif
#ifndef D14
#define D14 1
#endif
#ifndef D15
#define D15 1
#endif
#ifndef S1
#define S1 0
#endif
#ifndef S2
#define S2 0
#endif
#ifndef S3
#define S3 0
#endif
#ifndef S4
#define S4 0
#endif
#ifndef S5
#define S5 0
#endif
#ifndef S6
#define S6 0
#endif
#ifndef S7
#define S7 0
#endif
#ifndef S8
#define S8 0
#endif
#ifndef S9
#define S9 0
#endif
#ifndef S10
#define S10 0
#endif
#ifndef S11
#define S11 0
#endif
#ifndef S12
#define S12 0
#endif
#ifndef S13
#define S13 0
#endif
#ifndef S14
#define S14 0
#endif
#ifndef S15
#define S15 0
#endif
#ifndef T1
#define T1 0
#endif
#ifndef T2
#define T2 0
#endif
#ifndef T3
#define T3 0
#endif
#ifndef T4
#define T4 0
#endif
#ifndef T5
#define T5 0
#endif
#ifndef T6
#define T6 0
#endif
#ifndef T7
#define T7 0
#endif
#ifndef T8
#define T8 0
#endif
#ifndef T9
#define T9 0
#endif
#ifndef T10
#define T10 0
#endif
#ifndef T11
#define T11 0
#endif
#ifndef T12
#define T12 0
#endif
#ifndef T13
#define T13 0
#endif
#ifndef T14
#define T14 0
#endif
#ifndef T15
#define T15 0
#endif

/* Splits the flat outer index o over slot k: adds its source (and
 * destination) offset. Slots of size 1 compile to nothing. */
#define LY_STEP_S(k)              \
  {                               \
    int q_ = o / D##k;            \
    src += (o - q_ * D##k) * S##k; \
    o = q_;                       \
  }
#define LY_STEP_ST(k)              \
  {                                \
    int q_ = o / D##k;             \
    int i_ = o - q_ * D##k;        \
    src += i_ * S##k;              \
    dst += i_ * T##k;              \
    o = q_;                        \
  }
#define LY_ALL(STEP) \
  STEP(1) STEP(2) STEP(3) STEP(4) STEP(5) STEP(6) STEP(7) STEP(8) STEP(9) STEP(10) STEP(11) \
  STEP(12) STEP(13) STEP(14) STEP(15)

/* ------------------------------------------------------------ copy2d */

/* y[y_off + r * y_stride + c] = x[x_off + r * x_stride + c], r < rows,
 * c < cols. Concat copies each input into its slab of the output with it,
 * Split each slab of the input into an output. The sizes are arguments, not
 * -D constants, so that every input of every Concat shares one program (a
 * DenseNet block has dozens of inputs of different sizes); a copy gains
 * nothing from constant sizes. Work-item: VW consecutive columns of a row. */
#ifdef K_copy2d_rows_any
__kernel void copy2d_rows_any(__global const T *x, uint x_off, uint x_stride,
                              __global T *y, uint y_off, uint y_stride, uint rows, uint cols) {
  uint c = (uint)get_global_id(0) * VW;
  uint r = (uint)get_global_id(1);
  if (r >= rows || c >= cols) return;
  const __global T *xs = x + x_off + r * x_stride + c;
  __global T *ys = y + y_off + r * y_stride + c;
  if (c + VW <= cols) {
    LY_VSTORE(LY_VLOAD(0, xs), 0, ys);
  } else {
    for (uint i = 0; i < cols - c; i++) ys[i] = xs[i];
  }
}
#endif


/* All parts of a Concat (or, with SPLIT, of a Split) in one launch. The
 * parts and the big tensor b (rows x stride) share one buffer; part k is
 * rows x cols, at element table[3k], and occupies columns table[3k + 2] ..
 * + cols of b, with cols = table[3k + 1]. Work-item: VW consecutive columns
 * of one row of one part (ranges are sized for the widest part). */
#ifdef K_parts_copy_any
__kernel void parts_copy_any(__global T *buf, __global const uint *table, uint b_off,
                             uint stride, uint rows) {
  uint c = (uint)get_global_id(0) * VW;
  uint r = (uint)get_global_id(1);
  uint k = (uint)get_global_id(2);
  uint cols = table[3 * k + 1];
  if (r >= rows || c >= cols) return;
  uint part = table[3 * k] + r * cols + c;
  uint big = b_off + r * stride + table[3 * k + 2] + c;
#ifdef SPLIT
  __global const T *xs = buf + big;
  __global T *ys = buf + part;
#else
  __global const T *xs = buf + part;
  __global T *ys = buf + big;
#endif
  if (c + VW <= cols) {
    LY_VSTORE(LY_VLOAD(0, xs), 0, ys);
  } else {
    for (uint i = 0; i < cols - c; i++) ys[i] = xs[i];
  }
}
#endif

/* ----------------------------------------------------- strided copy */

/* The contiguous output y (OUTER x DI elements) reads, at outer index o and
 * inner index c, x[SB + sum_k i_k * S_k + c * SI], where i_k are the digits
 * of o in the slot sizes. Slice (steps, negative ones too), Transpose,
 * Expand (stride 0) and Tile (an axis split in repeat x size, the repeat
 * with stride 0) are all this. Work-item: VW consecutive inner elements of
 * one outer index. */
#ifdef K_strided_copy_nd_any
__kernel void strided_copy_nd_any(__global const T *x, uint x_off, __global T *y, uint y_off) {
  int c = (int)get_global_id(0) * VW;
  int o = (int)get_global_id(1);
  if (o >= OUTER || c >= DI) return;
  __global T *ys = y + y_off + o * DI + c;
  int src = SB;
  LY_ALL(LY_STEP_S)
  const __global T *xs = x + x_off + src + c * SI;
#if SI == 1
  if (c + VW <= DI) {
    LY_VSTORE(LY_VLOAD(0, xs), 0, ys);
    return;
  }
#elif SI == 0
  if (c + VW <= DI) {
    LY_VSTORE((TV)(xs[0]), 0, ys);
    return;
  }
#else
  if (c + VW <= DI) {
    T v[VW];
#pragma unroll
    for (int i = 0; i < VW; i++) v[i] = xs[i * SI];
    LY_VSTORE(LY_VLOAD(0, v), 0, ys);
    return;
  }
#endif
  for (int i = 0; i < DI - c; i++) ys[i] = xs[i * SI];
}
#endif


/* --------------------------------------------------- tiled transpose */

/* A transpose whose output-contiguous axis (the inner slot, source stride
 * SI) is strided in the source while another axis Q (size DQ, source
 * stride 1, destination stride TQ) is contiguous there. Outer slots carry
 * source and destination strides. Work-item: a TB x TB tile read with
 * TB-wide loads along Q and written with TB-wide stores along the inner
 * axis, transposed in registers (CPUs). */
#ifndef DQ
#define DQ 1
#endif
#ifndef TQ
#define TQ 1
#endif

#define LY_T8 CAT(T, 8)
#define LY_COL8(s) (LY_T8)(r0.s, r1.s, r2.s, r3.s, r4.s, r5.s, r6.s, r7.s)

#ifdef K_transpose_tile8_nd_any
__kernel void transpose_tile8_nd_any(__global const T *x, uint x_off, __global T *y,
                                     uint y_off) {
  int p0 = (int)get_global_id(0) * 8; /* along the inner (output-contiguous) axis */
  int q0 = (int)get_global_id(1) * 8; /* along Q (source-contiguous) */
  int o = (int)get_global_id(2);
  if (o >= OUTER || p0 >= DI || q0 >= DQ) return;
  int src = SB, dst = 0;
  LY_ALL(LY_STEP_ST)
  const __global T *xs = x + x_off + src + p0 * SI + q0;
  __global T *ys = y + y_off + dst + q0 * TQ + p0;
  if (p0 + 8 <= DI && q0 + 8 <= DQ) {
    LY_T8 r0 = vload8(0, xs), r1 = vload8(0, xs + SI), r2 = vload8(0, xs + 2 * SI),
          r3 = vload8(0, xs + 3 * SI), r4 = vload8(0, xs + 4 * SI), r5 = vload8(0, xs + 5 * SI),
          r6 = vload8(0, xs + 6 * SI), r7 = vload8(0, xs + 7 * SI);
    vstore8(LY_COL8(s0), 0, ys);
    vstore8(LY_COL8(s1), 0, ys + TQ);
    vstore8(LY_COL8(s2), 0, ys + 2 * TQ);
    vstore8(LY_COL8(s3), 0, ys + 3 * TQ);
    vstore8(LY_COL8(s4), 0, ys + 4 * TQ);
    vstore8(LY_COL8(s5), 0, ys + 5 * TQ);
    vstore8(LY_COL8(s6), 0, ys + 6 * TQ);
    vstore8(LY_COL8(s7), 0, ys + 7 * TQ);
  } else {
    int mp = DI - p0 < 8 ? DI - p0 : 8, mq = DQ - q0 < 8 ? DQ - q0 : 8;
    for (int q = 0; q < mq; q++)
      for (int p = 0; p < mp; p++) ys[q * TQ + p] = xs[p * SI + q];
  }
}
#endif


/* The same transpose for GPUs: a work-group of (TS, TS / 4) stages a TS x TS
 * tile in local memory (one column of padding against bank conflicts), so
 * that both the reads and the writes are coalesced. */
#ifndef TS
#define TS 32
#endif

#ifdef K_transpose_local_nd_any
__kernel void transpose_local_nd_any(__global const T *x, uint x_off, __global T *y,
                                     uint y_off) {
  __local T tile[TS][TS + 1];
  int lx = (int)get_local_id(0), ly = (int)get_local_id(1);
  int p0 = (int)get_group_id(0) * TS, q0 = (int)get_group_id(1) * TS;
  int o = (int)get_global_id(2);
  int src = SB, dst = 0;
  LY_ALL(LY_STEP_ST)
  /* Read: consecutive work-items take consecutive q (source-contiguous). */
  for (int j = ly; j < TS; j += TS / 4) {
    int p = p0 + j, q = q0 + lx;
    if (p < DI && q < DQ) tile[j][lx] = x[x_off + src + p * SI + q];
  }
  barrier(CLK_LOCAL_MEM_FENCE);
  /* Write: consecutive work-items take consecutive p (output-contiguous). */
  for (int j = ly; j < TS; j += TS / 4) {
    int q = q0 + j, p = p0 + lx;
    if (p < DI && q < DQ) y[y_off + dst + q * TQ + p] = tile[lx][j];
  }
}
#endif


/* ---------------------------------------------------------------- gather */

/* Gather along one axis with constant indices: x viewed as
 * [GO, GA, GI] (outer, the gathered axis, inner), y as [GO, NI, GI];
 * idx holds NI indices already made non-negative and checked by the host.
 * Work-item: VW consecutive inner elements of one (outer, index) pair, or,
 * when GI is 1, VW consecutive indices. */
#ifndef GO
#define GO 1
#endif
#ifndef GA
#define GA 1
#endif
#ifndef GI
#define GI 1
#endif
#ifndef NI
#define NI 1
#endif

#ifdef K_gather_axis_any
__kernel void gather_axis_any(__global const T *x, uint x_off, __global const int *idx,
                              __global T *y, uint y_off) {
  int c = (int)get_global_id(0) * VW;
  int j = (int)get_global_id(1);
  int o = (int)get_global_id(2);
#if GI == 1
  if (c >= NI || o >= GO) return;
  const __global T *xs = x + x_off + o * GA;
  __global T *ys = y + y_off + o * NI + c;
  int m = NI - c < VW ? NI - c : VW;
  for (int i = 0; i < m; i++) ys[i] = xs[idx[c + i]];
#else
  if (c >= GI || j >= NI || o >= GO) return;
  const __global T *xs = x + x_off + (o * GA + idx[j]) * GI + c;
  __global T *ys = y + y_off + (o * NI + j) * GI + c;
  if (c + VW <= GI) {
    LY_VSTORE(LY_VLOAD(0, xs), 0, ys);
  } else {
    for (int i = 0; i < GI - c; i++) ys[i] = xs[i];
  }
#endif
}
#endif


/* ------------------------------------------------------------------- pad */

/* Pad (and crop: negative pads). Output slot k has size D_k, the input
 * size I_k, pad before B_k, source stride S_k; the inner slot DI, II, BI,
 * source stride 1. Output index o along an axis reads input index o - B,
 * mapped into [0, I) by MODE (0 constant: outside is the value, 1 reflect,
 * 2 edge, 3 wrap). The value is PADV (bits of the element) or, with
 * VALUE_INPUT, the element v[v_off]. Work-item: VW consecutive inner
 * outputs of one outer index. */
#ifndef MODE
#define MODE 0
#endif
#ifndef PADV
#define PADV 0
#endif
#ifndef II
#define II 1
#endif
#ifndef BI
#define BI 0
#endif
#ifndef I1
#define I1 1
#endif
#ifndef I2
#define I2 1
#endif
#ifndef I3
#define I3 1
#endif
#ifndef I4
#define I4 1
#endif
#ifndef I5
#define I5 1
#endif
#ifndef I6
#define I6 1
#endif
#ifndef I7
#define I7 1
#endif
#ifndef B1
#define B1 0
#endif
#ifndef B2
#define B2 0
#endif
#ifndef B3
#define B3 0
#endif
#ifndef B4
#define B4 0
#endif
#ifndef B5
#define B5 0
#endif
#ifndef B6
#define B6 0
#endif
#ifndef B7
#define B7 0
#endif

/* Maps i (any int) into [0, n) for the non-constant modes. */
int ly_pad_map(int i, int n) {
#if MODE == 1 /* reflect: ... 2 1 | 0 1 2 ... n-1 | n-2 ... */
  if (n == 1) return 0;
  int period = 2 * (n - 1);
  int r = i % period;
  if (r < 0) r += period;
  return r < n ? r : period - r;
#elif MODE == 2 /* edge */
  return i < 0 ? 0 : i >= n ? n - 1 : i;
#else /* wrap */
  int r = i % n;
  return r < 0 ? r + n : r;
#endif
}

#if MODE == 0
#define LY_PSTEP(k)                        \
  {                                        \
    int q_ = o / D##k;                     \
    int i_ = o - q_ * D##k - B##k;         \
    inside = inside && i_ >= 0 && i_ < I##k; \
    src += i_ * S##k;                      \
    o = q_;                                \
  }
#else
#define LY_PSTEP(k)                               \
  {                                               \
    int q_ = o / D##k;                            \
    src += ly_pad_map(o - q_ * D##k - B##k, I##k) * S##k; \
    o = q_;                                       \
  }
#endif

#ifdef K_pad_nd_any
__kernel void pad_nd_any(__global const T *x, uint x_off, __global const T *v, uint v_off,
                         __global T *y, uint y_off) {
  int c = (int)get_global_id(0) * VW;
  int o = (int)get_global_id(1);
  if (o >= OUTER || c >= DI) return;
  __global T *ys = y + y_off + o * DI + c;
  int src = 0;
  bool inside = true;
  LY_PSTEP(1) LY_PSTEP(2) LY_PSTEP(3) LY_PSTEP(4) LY_PSTEP(5) LY_PSTEP(6) LY_PSTEP(7)
  const __global T *xs = x + x_off + src;
  int m = DI - c < VW ? DI - c : VW;
  int i0 = c - BI;
#if MODE == 0
#ifdef VALUE_INPUT
  T value = v[v_off];
#else
  T value = (T)(PADV);
#endif
  if (!inside) {
    if (m == VW) LY_VSTORE((TV)(value), 0, ys);
    else for (int i = 0; i < m; i++) ys[i] = value;
    return;
  }
  if (m == VW && i0 >= 0 && i0 + VW <= II) {
    LY_VSTORE(LY_VLOAD(0, xs + i0), 0, ys);
    return;
  }
  for (int i = 0; i < m; i++) {
    int k = i0 + i;
    ys[i] = k >= 0 && k < II ? xs[k] : value;
  }
#else
  if (m == VW && i0 >= 0 && i0 + VW <= II) {
    LY_VSTORE(LY_VLOAD(0, xs + i0), 0, ys);
    return;
  }
  for (int i = 0; i < m; i++) ys[i] = xs[ly_pad_map(i0 + i, II)];
#endif
}
#endif

