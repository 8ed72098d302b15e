/* OpenCL kernels: the conv family (Conv, ConvTranspose), float32, NCHW.
 * host/ops/conv.c chooses the kernel per node and writes the -D options;
 * 1x1 and im2col'd convolutions are matrix products (kernels/gemm.cl or
 * CLBlast, through host/gemm_dispatch.c).
 *
 * conv_pad_f32      copies the input into a zero-padded scratch image.
 * conv_direct_f32   stride-1 convolution (any kernel, dilation, padding,
 *                   groups) straight from the padded image: an implicit GEMM
 *                   over "virtual" output pixels q = oy * PW + ox, where PW
 *                   is the padded width. Tap (c, ky, kx) of the outputs
 *                   q .. q + VW - 1 reads padded elements c * PLANE + q +
 *                   ky * DY * PW + kx * DX .. + VW - 1, one contiguous vector,
 *                   whatever the row. The PW - OW virtual pixels past the end
 *                   of each row are computed and dropped. One work-item
 *                   computes TM output channels x TN virtual pixels.
 * conv_im2col_f32   the im2col matrix of a band of output positions (any
 *                   geometry, 1 to 3 spatial dims), for a GEMM.
 * depthwise_f32     one input channel per group: XCH chunks of VW
 *                   neighbouring outputs of a row per work-item (a whole row
 *                   on CPUs), vector loads inside the image. The window is
 *                   -D options; channels, image sizes and XCH are
 *                   arguments, then EPILOGUE_ARGS (its residual unused).
 * convt_f32         ConvTranspose in gather form: each output position sums
 *                   the taps that reach it; TCO output channels per
 *                   work-item from weights re-packed with channels innermost.
 *
 * Storage (common.cl): x is role X (read once into the float scratch by
 * conv_pad_f32 and the im2col kernels, or directly by depthwise_f32), y role
 * Y, the residual role R; the scratch is float, convt_f32 float only.
 * Each kernel is compiled only under -DK_<its name> (host/node.c adds it).
 * Shared -D options: HAS_BIAS (bias per output channel), ACT_* (fused
 * activation, common.cl), VW (vector width, 1 for scalars where allowed). */

/* Multiply-add: fma() where the device fuses it in hardware (-DFAST_FMA,
 * from CL_FP_FMA; PoCL does not define FP_FAST_FMAF), else mad(), which
 * compilers may leave as a multiply and an add. */
#ifndef FMA
#ifdef FAST_FMA
#define FMA(a, b, c) fma(a, b, c)
#else
#define FMA(a, b, c) mad(a, b, c)
#endif
#endif

#if defined(VW) && VW > 1
#define VEC CAT(float, VW)
#define VLOAD CAT(vload, VW)
#define VSTORE CAT(vstore, VW)
#define ACTV CAT(act_apply, VW)
#elif defined(VW)
#define VEC float
#define VLOAD(i, p) ((p)[i])
#define VSTORE(v, i, p) ((p)[i] = (v))
#define ACTV act_apply
#endif

/* --------------------------------------------------------------- pad copy
 * Arguments IH IW (input), PH PW (padded), PT PL (pads at the top and left),
 * PVW (padded elements per work-item). Global (ceil(PW / PVW), PH, N * C). */
#ifdef K_conv_pad_f32
__kernel void conv_pad_f32(__global const XT *restrict x, uint x_off,
                           __global float *restrict xp, const int IH, const int IW, const int PH,
                           const int PW, const int PT, const int PL, const uint PVW) {
  const uint px0 = get_global_id(0) * PVW, py = get_global_id(1), plane = get_global_id(2);
  if (px0 >= PW || py >= PH) return;
  const uint px1 = min(px0 + PVW, (uint)PW);
  const int iy = (int)py - PT;
  __global float *dst = xp + plane * (PH * PW) + py * PW;
  if (iy < 0 || iy >= IH) {
    for (uint px = px0; px < px1; px++) dst[px] = 0.0f;
    return;
  }
  /* Zeros, the input row, zeros: no test per element. */
  const __global XT *xr = x + x_off + plane * (IH * IW) + iy * IW - PL;
  const uint a = clamp((uint)PL, px0, px1), b = clamp((uint)(PL + IW), px0, px1);
  for (uint px = px0; px < a; px++) dst[px] = 0.0f;
  for (uint px = a; px < b; px++) dst[px] = LOAD_X(px, xr);
  for (uint px = b; px < px1; px++) dst[px] = 0.0f;
}
#endif

/* ------------------------------------------------------ direct, stride 1
 * -D KH KW DY DX (kernel, dilation), TM TN VW; arguments C (input
 * channels), G (groups), CG MG (input and output channels per group), PW
 * PLANE (padded width and padded image size), OH OW, QN (= OH * PW), then
 * EPILOGUE_ARGS (common.cl: a residual with y's layout, Relu/Clip). Global
 * (ceil(QN / TN), ceil(MG / TM), N * G). The scratch holds TN + (KW - 1) *
 * DX floats past the last image (read by dropped lanes only). */
#ifdef K_conv_direct_f32
#define NV (TN / VW)
#define KSZ (CG * KH * KW)
#ifndef UNROLL_C
#define UNROLL_C 1
#endif

__kernel void conv_direct_f32(__global const float *restrict xp, __global const float *restrict w,
                              uint w_off, __global const float *restrict bias, uint bias_off,
                              __global YT *restrict y, uint y_off, const int C, const int G,
                              const int CG, const int MG, const uint PW, const uint PLANE,
                              const uint OH, const uint OW, const uint QN EPILOGUE_ARGS) {
  const uint q0 = get_global_id(0) * TN, m0 = get_global_id(1) * TM, z = get_global_id(2);
  if (q0 >= QN || m0 >= MG) return;
  const uint b = z / G, g = z % G;
  xp += (b * C + g * CG) * PLANE + q0;
  /* Channels past MG read channel MG - 1; their results are dropped. */
  const __global float *wr[TM];
#pragma unroll
  for (int i = 0; i < TM; i++) wr[i] = w + w_off + (g * MG + min(m0 + i, (uint)MG - 1)) * KSZ;

  VEC acc[TM][NV];
#pragma unroll
  for (int i = 0; i < TM; i++)
#pragma unroll
    for (int j = 0; j < NV; j++) acc[i][j] = (VEC)0.0f;

#pragma unroll UNROLL_C
  for (uint c = 0; c < CG; c++) {
    const __global float *xc = xp + c * PLANE;
#pragma unroll
    for (int ky = 0; ky < KH; ky++) {
#pragma unroll
      for (int kx = 0; kx < KW; kx++) {
        const __global float *xr = xc + ky * (DY * PW) + kx * DX;
        VEC xv[NV];
#pragma unroll
        for (int j = 0; j < NV; j++) xv[j] = VLOAD(0, xr + j * VW);
        const uint kk = (c * KH + ky) * KW + kx;
#pragma unroll
        for (int i = 0; i < TM; i++) {
          const VEC wv = (VEC)(wr[i][kk]);
#pragma unroll
          for (int j = 0; j < NV; j++) acc[i][j] = FMA(wv, xv[j], acc[i][j]);
        }
      }
    }
  }

#pragma unroll
  for (int i = 0; i < TM; i++) {
    const uint m = m0 + i;
    if (m >= MG) break;
    __global YT *yr = y + y_off + ((b * G + g) * MG + m) * (OH * OW);
    const __global RT *rr = res + res_off + ((b * G + g) * MG + m) * (OH * OW);
#ifdef HAS_BIAS
    const VEC bv = (VEC)(bias[bias_off + g * MG + m]);
#endif
#pragma unroll
    for (int j = 0; j < NV; j++) {
      const uint q = q0 + j * VW;
      if (q >= QN) break;
      VEC v = acc[i][j];
#ifdef HAS_BIAS
      v += bv;
#endif
      const uint oy = q / PW, ox = q % PW;
      const bool whole = ox + VW <= OW; /* the VW outputs lie in one row */
      if (res_on) {
        if (whole) {
          v += VLOAD_R(VW, 0, rr + oy * OW + ox);
        } else {
          float t[VW];
          for (uint l = 0; l < VW; l++) {
            const uint ql = q + l, oxl = ql % PW;
            t[l] = ql < QN && oxl < OW ? LOAD_R(ql / PW * OW + oxl, rr) : 0.0f;
          }
          v += VLOAD(0, t);
        }
      }
      v = ACTV(v);
      EPILOGUE_PWL(VEC, v);
      if (whole) {
        VSTORE_Y(VW, v, 0, yr + oy * OW + ox);
      } else {
        float t[VW];
        VSTORE(v, 0, t);
        for (uint l = 0; l < VW && q + l < QN; l++) {
          const uint ql = q + l, oxl = ql % PW;
          if (oxl < OW) STORE_Y(t[l], ql / PW * OW + oxl, yr);
        }
      }
    }
  }
}
#endif

/* ----------------------------------------------------------------- im2col
 * -D KD KH KW, SD SH SW, DD DH DW (kernel, strides, dilations), PD PT PL
 * (pads at the start of each dim); arguments C G CG (channels, groups,
 * channels per group), ID IH IW, OD OH OW (spatial dims, leading 1 for
 * fewer than 3).
 * Row (c, kz, ky, kx) of group g, column p - r0 * OW for output position p:
 *   col[(g * CG * KSZ + row) * ncols + p - r0 * OW]
 * r0 (the first output row of the band, counting (oz, oy) rows) and ncols
 * are arguments.
 * conv_im2col_f32 (GPU form): VW columns per work-item. Global
 *   (ceil(ncols / VW), CG * KSZ, G).
 * conv_im2col_rows_f32 (CPU form): one output row (OW columns) per
 *   work-item: zeros, a strided copy, zeros. The window is arguments after
 *   the sizes (KD KH KW SD SH SW DD DH DW PD PT PL), not -D options: one
 *   program for every layer. Global (ncols / OW, CG * KSZ, G). */
#if defined(K_conv_im2col_f32) || defined(K_conv_im2col_rows_f32)
#define KSZ3 (KD * KH * KW)
#define IM2COL_SIZES                                                                        \
  , const int C, const int G, const int CG, const int ID, const int IH, const int IW,      \
      const int OD, const int OH, const int OW
#endif

#ifdef K_conv_im2col_f32
__kernel void conv_im2col_f32(__global const XT *restrict x, uint x_off,
                              __global float *restrict col, uint r0, uint ncols IM2COL_SIZES) {
  const uint c0 = get_global_id(0) * VW, row = get_global_id(1), g = get_global_id(2);
  if (c0 >= ncols || row >= CG * KSZ3) return;
  const uint c = row / KSZ3, t = row % KSZ3;
  const int kx = t % KW, ky = t / KW % KH, kz = t / (KW * KH);
  const __global XT *xc = x + x_off + (g * CG + c) * (ID * IH * IW);
  __global float *dst = col + (g * (CG * KSZ3) + row) * ncols;
  uint p = r0 * OW + c0;
  int ox = p % OW, oy = p / OW % OH, oz = p / (OW * OH);
  for (uint i = c0; i < c0 + VW && i < ncols; i++) {
    const int iz = oz * SD - PD + kz * DD, iy = oy * SH - PT + ky * DH,
              ix = ox * SW - PL + kx * DW;
    dst[i] = iz >= 0 && iz < ID && iy >= 0 && iy < IH && ix >= 0 && ix < IW
                 ? LOAD_X((iz * IH + iy) * IW + ix, xc)
                 : 0.0f;
    if (++ox == OW) {
      ox = 0;
      if (++oy == OH) {
        oy = 0;
        oz++;
      }
    }
  }
}
#endif

#ifdef K_conv_im2col_rows_f32
__kernel void conv_im2col_rows_f32(__global const XT *restrict x, uint x_off,
                                   __global float *restrict col, uint r0,
                                   uint ncols IM2COL_SIZES, const int KD, const int KH,
                                   const int KW, const int SD, const int SH, const int SW,
                                   const int DD, const int DH, const int DW, const int PD,
                                   const int PT, const int PL) {
  const uint rr = get_global_id(0), row = get_global_id(1), g = get_global_id(2);
  if (rr * OW >= ncols || row >= CG * KSZ3) return;
  const uint c = row / KSZ3, t = row % KSZ3;
  const int kx = t % KW, ky = t / KW % KH, kz = t / (KW * KH);
  const uint r = r0 + rr;
  const int oy = r % OH, oz = r / OH;
  __global float *dst = col + (g * (CG * KSZ3) + row) * ncols + rr * OW;
  const int iz = oz * SD - PD + kz * DD, iy = oy * SH - PT + ky * DH;
  if (iz < 0 || iz >= ID || iy < 0 || iy >= IH) {
    for (int ox = 0; ox < OW; ox++) dst[ox] = 0.0f;
    return;
  }
  /* Output columns whose tap ox * SW + off falls inside the row: [lo, hi). */
  const int off = kx * DW - PL;
  const __global XT *src = x + x_off + ((g * CG + c) * ID + iz) * (IH * IW) + iy * IW + off;
  const int lo = min(off >= 0 ? 0 : (-off + SW - 1) / SW, OW);
  const int hi = clamp(IW - off <= 0 ? 0 : (IW - off + SW - 1) / SW, lo, OW);
  for (int ox = 0; ox < lo; ox++) dst[ox] = 0.0f;
  for (int ox = lo; ox < hi; ox++) dst[ox] = LOAD_X(ox * SW, src);
  for (int ox = hi; ox < OW; ox++) dst[ox] = 0.0f;
}
#endif

/* -------------------------------------------------------------- depthwise
 * -D C (input channels), COUT, MULT (output channels per input channel),
 * IH IW OH OW KH KW SH SW DH DW PT PL, VW, XCH. Global
 * (ceil(OW / (VW * XCH)), OH, N * COUT). */
#ifdef K_depthwise_f32
/* VW inputs at stride SW from p. */
#if VW > 1 && SW == 1
#define LOADS(p) VLOAD_X(VW, 0, p)
#define LOAD_EXTENT VW
#elif VW > 1 && SW == 2
#define LOADS(p) (VLOAD_X(CAT(VW2_, VW), 0, p).even)
#define VW2_2 4
#define VW2_4 8
#define VW2_8 16
#define LOAD_EXTENT (2 * VW)
#else
inline VEC loads_strided(const __global XT *p) {
  float t[VW];
  for (int l = 0; l < VW; l++) t[l] = LOAD_X(l * SW, p);
  return VLOAD(0, t);
}
#define LOADS(p) loads_strided(p)
#define LOAD_EXTENT ((VW - 1) * SW + 1)
#endif

__kernel void depthwise_f32(__global const XT *restrict x, uint x_off,
                            __global const float *restrict w, uint w_off,
                            __global const float *restrict bias, uint bias_off,
                            __global YT *restrict y, uint y_off, const uint C,
                            const uint COUT, const uint MULT, const int IH, const int IW,
                            const uint OH, const uint OW, const uint XCH EPILOGUE_ARGS) {
  const uint oy = get_global_id(1), z = get_global_id(2);
  if (oy >= OH) return;
  const uint m = z % COUT, b = z / COUT, c = m / MULT;
  const __global XT *xp = x + x_off + (b * C + c) * (IH * IW);
  float wk[KH * KW];
#pragma unroll
  for (int t = 0; t < KH * KW; t++) wk[t] = w[w_off + m * (KH * KW) + t];
  __global YT *yr = y + y_off + z * (OH * OW) + oy * OW;
  for (uint ch = 0; ch < XCH; ch++) {
    const uint ox0 = (get_global_id(0) * XCH + ch) * VW;
    if (ox0 >= OW) break;
    const int ix0 = (int)ox0 * SW - PL;
    VEC acc = (VEC)0.0f;
#pragma unroll
    for (int ky = 0; ky < KH; ky++) {
      const int iy = (int)oy * SH - PT + ky * DH;
      if (iy < 0 || iy >= IH) continue;
      const __global XT *xr = xp + iy * IW;
#pragma unroll
      for (int kx = 0; kx < KW; kx++) {
        /* A tap whose VW inputs (every element the vector load touches) lie
         * inside the row: one vector load; else one checked element at a
         * time (the chunks at the ends of a row). */
        const int ix = ix0 + kx * DW;
        VEC v;
        if (ix >= 0 && ix + LOAD_EXTENT <= IW) {
          v = LOADS(xr + ix);
        } else {
          float t[VW];
          for (int l = 0; l < VW; l++)
            t[l] = ix + l * SW >= 0 && ix + l * SW < IW ? LOAD_X(ix + l * SW, xr) : 0.0f;
          v = VLOAD(0, t);
        }
        acc = FMA((VEC)(wk[ky * KW + kx]), v, acc);
      }
    }
#ifdef HAS_BIAS
    acc += (VEC)(bias[bias_off + m]);
#endif
    acc = ACTV(acc);
    EPILOGUE_PWL(VEC, acc);
    if (ox0 + VW <= OW) {
      VSTORE_Y(VW, acc, 0, yr + ox0);
    } else {
      float t[VW];
      VSTORE(acc, 0, t);
      for (uint l = 0; ox0 + l < OW; l++) STORE_Y(t[l], ox0 + l, yr);
    }
  }
}
#endif

/* ---------------------------------------------------------- ConvTranspose
 * -D C G CG MG, ID IH IW OD OH OW KD KH KW SD SH SW DD DH DW PD PT PL (as
 * im2col, with input and output in their ConvTranspose roles), TCO (output
 * channels per work-item: VW), MGP (MG rounded up to TCO). Weights re-packed
 * as wp[((g * KSZ + tap) * CG + c) * MGP + m]. Global (OD * OH * OW,
 * ceil(MG / TCO), N * G). */
#ifdef K_convt_f32
__kernel void convt_f32(__global const float *restrict x, uint x_off,
                        __global const float *restrict wp, __global const float *restrict bias,
                        uint bias_off, __global float *restrict y, uint y_off) {
  const uint o = get_global_id(0), mt = get_global_id(1), z = get_global_id(2);
  if (o >= OD * OH * OW || mt * VW >= MG) return;
  const uint b = z / G, g = z % G;
  const int ox = o % OW, oy = o / OW % OH, oz = o / (OW * OH);
  const __global float *xb = x + x_off + (b * C + g * CG) * (ID * IH * IW);
  const __global float *wb = wp + g * (KD * KH * KW * CG * MGP) + mt * VW;
  VEC acc = (VEC)0.0f;
  for (int kz = 0; kz < KD; kz++) {
    const int tz = oz + PD - kz * DD;
    if (tz < 0 || tz % SD) continue;
    const int iz = tz / SD;
    if (iz >= ID) continue;
    for (int ky = 0; ky < KH; ky++) {
      const int ty = oy + PT - ky * DH;
      if (ty < 0 || ty % SH) continue;
      const int iy = ty / SH;
      if (iy >= IH) continue;
      for (int kx = 0; kx < KW; kx++) {
        const int tx = ox + PL - kx * DW;
        if (tx < 0 || tx % SW) continue;
        const int ix = tx / SW;
        if (ix >= IW) continue;
        const __global float *xi = xb + (iz * IH + iy) * IW + ix;
        const __global float *wt = wb + ((kz * KH + ky) * KW + kx) * (CG * MGP);
        for (uint c = 0; c < CG; c++)
          acc = FMA((VEC)(xi[c * (ID * IH * IW)]), VLOAD(0, wt + c * MGP), acc);
      }
    }
  }
  float t[VW];
  VSTORE(acc, 0, t);
  __global float *yo = y + y_off + ((b * G + g) * MG + mt * VW) * (OD * OH * OW) + o;
  for (uint l = 0; l < VW && mt * VW + l < MG; l++) {
    float v = t[l];
#ifdef HAS_BIAS
    v += bias[bias_off + g * MG + mt * VW + l];
#endif
    yo[l * (OD * OH * OW)] = act_apply(v);
  }
}
#endif
