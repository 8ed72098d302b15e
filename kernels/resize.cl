/* OpenCL kernels: the resize family (Resize, Upsample).
 *
 * The host computes, per resized axis, the same tables as the CPU backend
 * (runtime/cpu/resize.c): for every output coordinate the input indices it
 * reads (clamped to the edge) and, for linear and cubic modes, their
 * weights; tf_crop_and_resize marks coordinates outside the input, whose
 * output is the extrapolation value. The tables are computed once, in
 * double precision, so device and CPU pick the same pixels and weights.
 * Each kernel is compiled only under -DK_<its name> (host/node.c adds it). */

#ifndef VW
#define VW 8
#endif

/* --------------------------------------------------------------- nearest */

/* Nearest: a gather of any element type (T is the unsigned integer of the
 * element's size). The output is walked in order; the innermost axis has
 * size DI (input size II) and reads through the table at OI unless it is
 * not resized (ID_I); outer slot k (1..7, D1 next to the innermost) has
 * output size D_k, input stride S_k and, when resized (TAB_k), its table at
 * O_k. A table entry of -1 means: the extrapolation value EXTV (bits).
 * Work-item: VW consecutive outputs of one row. */
#ifdef K_resize_nearest_nd_any
#ifndef T
#define T uint
#endif
#define RZ_TV CAT(T, VW)
#ifndef OUTER
#define OUTER 1
#endif
#ifndef EXTV
#define EXTV 0
#endif
#ifndef OI
#define OI 0
#endif

/* Slot k: output index i_ = o % D_k; source offset from the table or i_. */
#define RZ_SLOT(k, D, S, O, TAB)                 \
  {                                              \
    int q_ = o / (D);                            \
    int i_ = o - q_ * (D);                       \
    o = q_;                                      \
    if (TAB) {                                   \
      int v_ = tab[(O) + i_];                    \
      ext = ext || v_ < 0;                       \
      src += v_ * (S);                           \
    } else {                                     \
      src += i_ * (S);                           \
    }                                            \
  }

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
#ifndef O1
#define O1 0
#endif
#ifndef O2
#define O2 0
#endif
#ifndef O3
#define O3 0
#endif
#ifndef O4
#define O4 0
#endif
#ifndef O5
#define O5 0
#endif
#ifndef O6
#define O6 0
#endif
#ifndef O7
#define O7 0
#endif
#ifndef TAB1
#define TAB1 0
#endif
#ifndef TAB2
#define TAB2 0
#endif
#ifndef TAB3
#define TAB3 0
#endif
#ifndef TAB4
#define TAB4 0
#endif
#ifndef TAB5
#define TAB5 0
#endif
#ifndef TAB6
#define TAB6 0
#endif
#ifndef TAB7
#define TAB7 0
#endif

__kernel void resize_nearest_nd_any(__global const T *x, uint x_off, __global const int *tab,
                                    __global T *y, uint y_off) {
  int c = (int)get_global_id(0) * VW;
  int o = (int)get_global_id(1);
  if (o >= OUTER || c >= DI) return;
  __global T *ys = y + y_off + o * DI + c;
  int src = 0;
  bool ext = false;
  RZ_SLOT(1, D1, S1, O1, TAB1)
  RZ_SLOT(2, D2, S2, O2, TAB2)
  RZ_SLOT(3, D3, S3, O3, TAB3)
  RZ_SLOT(4, D4, S4, O4, TAB4)
  RZ_SLOT(5, D5, S5, O5, TAB5)
  RZ_SLOT(6, D6, S6, O6, TAB6)
  RZ_SLOT(7, D7, S7, O7, TAB7)
  int m = DI - c < VW ? DI - c : VW;
  const T e = (T)(EXTV);
  if (ext) {
    if (m == VW) CAT(vstore, VW)((RZ_TV)(e), 0, ys);
    else for (int i = 0; i < m; i++) ys[i] = e;
    return;
  }
  const __global T *xs = x + x_off + src;
#ifdef ID_I
  if (m == VW) {
    CAT(vstore, VW)(CAT(vload, VW)(0, xs + c), 0, ys);
    return;
  }
  for (int i = 0; i < m; i++) ys[i] = xs[c + i];
#else
  const __global int *ti = tab + OI + c;
  if (m == VW) {
    T v[VW];
#pragma unroll
    for (int i = 0; i < VW; i++) {
      int k = ti[i];
      v[i] = k >= 0 ? xs[k] : e;
    }
    CAT(vstore, VW)(CAT(vload, VW)(0, v), 0, ys);
    return;
  }
  for (int i = 0; i < m; i++) {
    int k = ti[i];
    ys[i] = k >= 0 ? xs[k] : e;
  }
#endif
}
#endif

/* ------------------------------------------------------- linear, cubic */

/* Linear and cubic interpolation of the last two axes (float32): x is
 * [OUTER, HI, WI], y [OUTER, HO, WO]. Per output row yo the H table gives
 * TH input rows and weights, per output column the W table TW columns and
 * weights (tables at OHI/OHW and OWI/OWW; with EXT, the flags of
 * tf_crop_and_resize at OHE and OWE). ID_H / ID_W: that axis is not
 * resized. The arithmetic follows the CPU backend's separable passes
 * exactly: W_FIRST when the W pass runs first (it shrinks more), and each
 * pass sums its taps as the CPU does (ACC_ROWS: taps after the first are
 * skipped when their weight is 0; ACC_ROW1 -- a pass over the last axis --
 * sums from 0, except two taps without EXT). Work-item: VW consecutive
 * outputs of one row. */
#ifdef K_resize_interp_nchw_f32
#ifndef TH
#define TH 2
#endif
#ifndef TW
#define TW 2
#endif

/* res = sum of w[k] * v[k] over n taps, in the order of interp_rows(). */
#define ACC_ROWS(res, w, v, n)                        \
  {                                                   \
    if ((n) == 2) {                                   \
      res = w[0] * v[0] + w[1] * v[1];                \
    } else {                                          \
      res = w[0] * v[0];                              \
      for (int k_ = 1; k_ < (n); k_++)                \
        if (w[k_] != 0.0f) res += w[k_] * v[k_];      \
    }                                                 \
  }
/* ... in the order of interp_row1(). */
#ifdef EXT
#define RZ_EXT 1
#else
#define RZ_EXT 0
#endif
#define ACC_ROW1(res, w, v, n)                        \
  {                                                   \
    if ((n) == 2 && !RZ_EXT) {                        \
      res = w[0] * v[0] + w[1] * v[1];                \
    } else {                                          \
      res = 0.0f;                                     \
      for (int k_ = 0; k_ < (n); k_++) res += w[k_] * v[k_]; \
    }                                                 \
  }
/* The H pass runs over an inner size of 1 (a single column) when the
 * current width is 1: it then sums like interp_row1(). */
#ifdef H_ROW1
#define ACC_H ACC_ROW1
#else
#define ACC_H ACC_ROWS
#endif

/* Output column xo of the row whose input rows (offsets), H weights and H
 * extrapolation flag are given. */
float rz_interp_one(const __global float *xs, __global const int *it, __global const float *wt,
                  const int *rows, const float *hw, bool hext, float e, int xo) {
  float res;
#ifdef ID_W
  /* Only H is resized. */
  float v[TH];
#pragma unroll
  for (int k = 0; k < TH; k++) v[k] = xs[rows[k] + xo];
  if (hext) res = e;
  else ACC_H(res, hw, v, TH)
#else
  int wi[TW];
  float ww[TW];
#pragma unroll
  for (int k = 0; k < TW; k++) {
    wi[k] = it[OWI + xo * TW + k];
    ww[k] = wt[OWW + xo * TW + k];
  }
  bool wext = RZ_EXT && it[OWE + xo] != 0;
#if defined(ID_H)
  /* Only W is resized. */
  float v[TW];
#pragma unroll
  for (int k = 0; k < TW; k++) v[k] = xs[rows[0] + wi[k]];
  if (wext) res = e;
  else ACC_ROW1(res, ww, v, TW)
#elif defined(W_FIRST)
  /* W pass over the TH input rows, then the H pass. */
  float u[TH];
#pragma unroll
  for (int kh = 0; kh < TH; kh++) {
    float v[TW];
#pragma unroll
    for (int k = 0; k < TW; k++) v[k] = xs[rows[kh] + wi[k]];
    if (wext) u[kh] = e;
    else ACC_ROW1(u[kh], ww, v, TW)
  }
  if (hext) res = e;
  else ACC_H(res, hw, u, TH)
#else
  /* H pass at the TW input columns, then the W pass. */
  float t[TW];
#pragma unroll
  for (int kw = 0; kw < TW; kw++) {
    float v[TH];
#pragma unroll
    for (int k = 0; k < TH; k++) v[k] = xs[rows[k] + wi[kw]];
    if (hext) t[kw] = e;
    else ACC_H(t[kw], hw, v, TH)
  }
  if (wext) res = e;
  else ACC_ROW1(res, ww, t, TW)
#endif
#endif
  return res;
}

__kernel void resize_interp_nchw_f32(__global const float *x, uint x_off,
                                     __global const int *it, __global const float *wt,
                                     __global float *y, uint y_off) {
  int c = (int)get_global_id(0) * VW;
  int yo = (int)get_global_id(1);
  int o = (int)get_global_id(2);
  if (c >= WO || yo >= HO || o >= OUTER) return;
  const __global float *xs = x + x_off + o * (HI * WI);
  __global float *ys = y + y_off + (o * HO + yo) * WO;
  const float e = as_float((uint)(EXTV));
  int m = WO - c < VW ? WO - c : VW;
#ifdef ID_H
  int rows[1] = {yo * WI};
  float hw[1] = {1.0f};
  bool hext = false;
#else
  int rows[TH]; /* offsets of the input rows */
  float hw[TH];
#pragma unroll
  for (int k = 0; k < TH; k++) {
    rows[k] = it[OHI + yo * TH + k] * WI;
    hw[k] = wt[OHW + yo * TH + k];
  }
  bool hext = RZ_EXT && it[OHE + yo] != 0;
#endif
  if (m == VW) {
#pragma unroll
    for (int i = 0; i < VW; i++)
      ys[c + i] = rz_interp_one(xs, it, wt, rows, hw, hext, e, c + i);
  } else {
    for (int i = 0; i < m; i++)
      ys[c + i] = rz_interp_one(xs, it, wt, rows, hw, hext, e, c + i);
  }
}
#endif

/* ------------------------------------------------------------ gridsample */

/* GridSample of float32, as the CPU backend (runtime/cpu/resize.c, whose
 * comments give the rules): GS_R spatial dims (2 or 3) of sizes GS_D0..,
 * GS_C channels, GS_P points per image; GS_MODE 0 linear, 1 nearest, 2
 * cubic; GS_PAD 0 zeros, 1 border, 2 reflection; GS_ALIGN align_corners.
 * Work-item: one point of one image, every channel. */
#ifdef K_gridsample_f32
#ifndef GS_D1
#define GS_D1 1
#endif
#ifndef GS_D2
#define GS_D2 1
#endif
#define GS_TAPS (GS_MODE == 1 ? 1 : GS_MODE == 0 ? 2 : 4)

static float gs_reflect(float x, float lo, float hi) {
  float range = hi - lo;
  if (range <= 0.0f) return lo;
  if (x < lo) {
    float dx = lo - x, k = floor(dx / range), rem = dx - k * range;
    return fmod(k, 2.0f) == 0.0f ? lo + rem : hi - rem;
  }
  if (x > hi) {
    float dx = x - hi, k = floor(dx / range), rem = dx - k * range;
    return fmod(k, 2.0f) == 0.0f ? hi - rem : lo + rem;
  }
  return x;
}

/* The element a tap at integer position i reads, or -1 for a zero. */
static int gs_tap(float i, int size, float lo, float hi) {
#if GS_PAD == 1
  return i < 0.0f ? 0 : i > (float)(size - 1) ? size - 1 : (int)i;
#elif GS_PAD == 2
  int k = (int)gs_reflect(i, lo, hi);
  return k < 0 ? 0 : k >= size ? size - 1 : k;
#else
  return i >= 0.0f && i < (float)size ? (int)i : -1;
#endif
}

static int gs_taps(float g, int size, int *idx, float *w) {
#if GS_ALIGN
  const float lo = 0.0f, hi = (float)(size - 1);
  float x = (g + 1.0f) * 0.5f * (float)(size - 1);
#else
  const float lo = -0.5f, hi = (float)size - 0.5f;
  float x = ((g + 1.0f) * (float)size - 1.0f) * 0.5f;
#endif
  if (!isfinite(x)) {
    for (int k = 0; k < GS_TAPS; k++) idx[k] = -1, w[k] = 0.0f;
    return GS_TAPS;
  }
#if GS_MODE == 1
  x = rint(x);
#endif
#if GS_MODE != 2
  if (x < lo || x > hi) {
#if GS_PAD == 1
    x = clamp(x, 0.0f, (float)(size - 1));
#elif GS_PAD == 2
    x = gs_reflect(x, lo, hi);
#endif
  }
#endif
  const float lim = (float)size + 8.0f;
  x = clamp(x, -lim, lim);
#if GS_MODE == 1
  idx[0] = gs_tap(trunc(x), size, lo, hi);
  w[0] = 1.0f;
#else
  float x0 = floor(x), t = x - x0;
#if GS_MODE == 0
  w[0] = 1.0f - t;
  w[1] = t;
  float first = x0;
#else
  const float a = -0.75f;
  float u = t + 1.0f;
  w[0] = ((a * u - 5.0f * a) * u + 8.0f * a) * u - 4.0f * a;
  w[1] = ((a + 2.0f) * t - (a + 3.0f)) * t * t + 1.0f;
  u = 1.0f - t;
  w[2] = ((a + 2.0f) * u - (a + 3.0f)) * u * u + 1.0f;
  u = 2.0f - t;
  w[3] = ((a * u - 5.0f * a) * u + 8.0f * a) * u - 4.0f * a;
  float first = x0 - 1.0f;
#endif
  for (int k = 0; k < GS_TAPS; k++) idx[k] = gs_tap(first + (float)k, size, lo, hi);
#endif
  return GS_TAPS;
}

__kernel void gridsample_f32(__global const float *x, uint x_off, __global const float *grid,
                             uint g_off, __global float *y, uint y_off) {
  const int pt = (int)get_global_id(0), b = (int)get_global_id(1);
  if (pt >= GS_P) return;
  const int dims[3] = {GS_D0, GS_D1, GS_D2};
  const int plane = GS_D0 * GS_D1 * GS_D2;
  int stride[3];
  stride[GS_R - 1] = 1;
  for (int d = GS_R - 2; d >= 0; d--) stride[d] = stride[d + 1] * dims[d + 1];
  __global const float *gp = grid + g_off + (b * GS_P + pt) * GS_R;
  int idx[3][4];
  float w[3][4];
  for (int d = 0; d < GS_R; d++) gs_taps(gp[GS_R - 1 - d], dims[d], idx[d], w[d]);
  int total = 1;
  for (int d = 0; d < GS_R; d++) total *= GS_TAPS;
  int off[64];
  float wt[64];
  int m = 0;
  for (int t = 0; t < total; t++) {
    int rest = t, o = 0;
    float wv = 1.0f;
    bool zero = false;
    for (int d = GS_R - 1; d >= 0; d--) {
      int k = rest % GS_TAPS;
      rest /= GS_TAPS;
      if (idx[d][k] < 0) zero = true;
      o += idx[d][k] * stride[d];
      wv *= w[d][k];
    }
    if (zero || wv == 0.0f) continue;
    off[m] = o;
    wt[m++] = wv;
  }
  __global const float *xb = x + x_off + b * GS_C * plane;
  __global float *yb = y + y_off + b * GS_C * GS_P + pt;
  for (int c = 0; c < GS_C; c++) {
    __global const float *xc = xb + c * plane;
    float acc = 0.0f;
    for (int k = 0; k < m; k++) acc += wt[k] * xc[off[k]];
    yb[c * GS_P] = acc;
  }
}
#endif
