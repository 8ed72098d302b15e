/* OpenCL kernels: the pool family (MaxPool, AveragePool, LpPool,
 * GlobalAveragePool, GlobalMaxPool), float32, NCHW. The formulas are the
 * CPU backend's (runtime/cpu/pool.c): taps in the padding are skipped; an
 * average divides by the taps inside the input (COUNT_PAD 0) or inside the
 * padded input (COUNT_PAD 1); Lp sums |x|^P over the taps inside the input.
 *
 * pool_f32: XCH chunks of VW neighbouring outputs of a row per work-item
 *   (a whole row on CPUs); a vector load per tap that lies inside the row.
 *   -D KIND (0 max, 1 average, 2 Lp), P (Lp exponent), COUNT_PAD,
 *   KD KH KW SD SH SW DD DH DW (the window, leading 1 for fewer than 3
 *   spatial dims), PD PT PL (pads at the start), ED EH EW (pads at the
 *   end), VW; arguments ID IH IW OD OH OW (spatial dims) and XCH, so that
 *   the pools of one window share a program. Global (ceil(OW / (VW * XCH)),
 *   OD * OH, N * C).
 * maxpool_idx_f32: MaxPool with its Indices output, one output per
 *   work-item (flat index into N x C x spatial; with STORAGE_ORDER 1 the
 *   position within the plane is column-major, ix * IH + iy). Global
 *   (OD * OH * OW, N * C).
 * global_pool_f32: one plane per work-item (CPU form) or per work-group of
 *   LOCAL work-items (-DLOCAL, GPU form). -D KIND (0 max, 1 average);
 *   arguments SIZE (elements per plane), PLANES. Global (PLANES) or (PLANES
 *   * LOCAL).
 * Each kernel is compiled only under -DK_<its name> (host/node.c adds it). */

#define KIND_MAX 0
#define KIND_AVG 1
#define KIND_LP 2

#if defined(VW) && VW > 1
#define VEC CAT(float, VW)
#define VLOAD CAT(vload, VW)
#define VSTORE CAT(vstore, VW)
#elif defined(VW)
#define VEC float
#define VLOAD(i, p) ((p)[i])
#define VSTORE(v, i, p) ((p)[i] = (v))
#endif

#ifdef K_pool_f32
/* Number of taps start + k * d (k < n) inside [lo, hi). */
inline int tap_count(int start, int n, int d, int lo, int hi) {
  int k0 = start >= lo ? 0 : (lo - start + d - 1) / d;
  int k1 = hi - start <= 0 ? 0 : (hi - start + d - 1) / d;
  k1 = min(k1, n);
  return max(k1 - k0, 0);
}

#if KIND == KIND_MAX
#define INIT (-INFINITY)
#define OUTSIDE (-INFINITY)
#define ACC(a, v) fmax(a, v)
#elif KIND == KIND_AVG
#define INIT 0.0f
#define OUTSIDE 0.0f
#define ACC(a, v) ((a) + (v))
#elif P == 1
#define INIT 0.0f
#define OUTSIDE 0.0f
#define ACC(a, v) ((a) + fabs(v))
#elif P == 2
#define INIT 0.0f
#define OUTSIDE 0.0f
#define ACC(a, v) mad(v, v, a)
#else
#define INIT 0.0f
#define OUTSIDE 0.0f
#define ACC(a, v) ((a) + pow(fabs(v), (float)P))
#endif

/* VW inputs at stride SW from p. */
#if VW > 1 && SW == 1
#define LOADS(p) VLOAD_X(VW, 0, p)
#define LOAD_EXTENT VW
#elif VW > 1 && SW == 2
#define VW2_2 4
#define VW2_4 8
#define VW2_8 16
#define LOADS(p) (VLOAD_X(CAT(VW2_, VW), 0, p).even)
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

__kernel void pool_f32(__global const XT *restrict x, uint x_off, __global YT *restrict y,
                       uint y_off, const int ID, const int IH, const int IW, const int OD,
                       const int OH, const int OW, const uint XCH) {
  const uint r = get_global_id(1), plane = get_global_id(2);
  if (r >= (uint)(OD * OH)) return;
  const int oy = r % OH, oz = r / OH;
  const __global XT *xp = x + x_off + plane * (ID * IH * IW);
  __global YT *yr = y + y_off + plane * (OD * OH * OW) + r * OW;
#if KIND == KIND_AVG
  const int cz = COUNT_PAD ? tap_count(oz * SD - PD, KD, DD, -PD, ID + ED)
                           : tap_count(oz * SD - PD, KD, DD, 0, ID);
  const int cy = COUNT_PAD ? tap_count(oy * SH - PT, KH, DH, -PT, IH + EH)
                           : tap_count(oy * SH - PT, KH, DH, 0, IH);
#endif
  for (uint ch = 0; ch < XCH; ch++) {
    const uint ox0 = (get_global_id(0) * XCH + ch) * VW;
    if (ox0 >= (uint)OW) break;
    const int ix0 = (int)ox0 * SW - PL;
    VEC acc = (VEC)INIT;
    for (int kz = 0; kz < KD; kz++) {
      const int iz = oz * SD - PD + kz * DD;
      if (iz < 0 || iz >= ID) continue;
#pragma unroll
      for (int ky = 0; ky < KH; ky++) {
        const int iy = oy * SH - PT + ky * DH;
        if (iy < 0 || iy >= IH) continue;
        const __global XT *xr = xp + (iz * IH + iy) * IW;
#pragma unroll
        for (int kx = 0; kx < KW; kx++) {
          /* A tap whose inputs (every element the vector load touches) lie
           * inside the row: one vector load; else element by element. */
          const int ix = ix0 + kx * DW;
          if (ix >= 0 && ix + LOAD_EXTENT <= IW) {
            acc = ACC(acc, LOADS(xr + ix));
          } else {
            float t[VW];
            for (int l = 0; l < VW; l++)
              t[l] = ix + l * SW >= 0 && ix + l * SW < IW ? LOAD_X(ix + l * SW, xr) : OUTSIDE;
            acc = ACC(acc, VLOAD(0, t));
          }
        }
      }
    }
    float t[VW];
    VSTORE(acc, 0, t);
    for (uint l = 0; l < VW && ox0 + l < (uint)OW; l++) {
      float v = t[l];
#if KIND == KIND_AVG
      const int sx = (int)(ox0 + l) * SW - PL;
      const int cx =
          COUNT_PAD ? tap_count(sx, KW, DW, -PL, IW + EW) : tap_count(sx, KW, DW, 0, IW);
      const float cnt = (float)(cz * cy) * (float)cx;
      v = cnt > 0.0f ? v / cnt : 0.0f;
#elif KIND == KIND_LP && P == 2
      v = sqrt(v);
#elif KIND == KIND_LP && P != 1
      v = pow(v, 1.0f / (float)P);
#endif
      STORE_Y(v, ox0 + l, yr);
    }
  }
}
#endif

#ifdef K_maxpool_idx_f32
__kernel void maxpool_idx_f32(__global const float *restrict x, uint x_off,
                              __global float *restrict y, uint y_off, __global long *restrict idx,
                              uint idx_off) {
  const uint o = get_global_id(0), plane = get_global_id(1);
  if (o >= OD * OH * OW) return;
  const int ox = o % OW, oy = o / OW % OH, oz = o / (OW * OH);
  const __global float *xp = x + x_off + plane * (ID * IH * IW);
  float best = -INFINITY;
  long arg = -1;
  for (int kz = 0; kz < KD; kz++) {
    const int iz = oz * SD - PD + kz * DD;
    if (iz < 0 || iz >= ID) continue;
    for (int ky = 0; ky < KH; ky++) {
      const int iy = oy * SH - PT + ky * DH;
      if (iy < 0 || iy >= IH) continue;
      for (int kx = 0; kx < KW; kx++) {
        const int ix = ox * SW - PL + kx * DW;
        if (ix < 0 || ix >= IW) continue;
        const int at = (iz * IH + iy) * IW + ix;
        const float v = xp[at];
        if (arg < 0 || v > best) {
          best = v;
          arg = STORAGE_ORDER ? ix * IH + iy : at;
        }
      }
    }
  }
  const uint yi = plane * (OD * OH * OW) + o;
  y[y_off + yi] = best;
  idx[idx_off + yi] = arg >= 0 ? (long)plane * (ID * IH * IW) + arg : -1;
}
#endif

#ifdef K_global_pool_f32
#if KIND == KIND_MAX
#define G_INIT (-INFINITY)
#define G_ACC(a, v) fmax(a, v)
#else
#define G_INIT 0.0f
#define G_ACC(a, v) ((a) + (v))
#endif

#ifndef LOCAL
/* CPU form: 16 partial results in a vector, then a tree. */
__kernel void global_pool_f32(__global const XT *restrict x, uint x_off,
                              __global YT *restrict y, uint y_off, const uint SIZE,
                              const uint PLANES) {
  const uint plane = get_global_id(0);
  if (plane >= PLANES) return;
  const __global XT *xp = x + x_off + plane * SIZE;
  float16 a16 = (float16)G_INIT;
  uint i = 0;
  for (; i + 16 <= SIZE; i += 16) a16 = G_ACC(a16, VLOAD_X(16, 0, xp + i));
  float8 a8 = G_ACC(a16.lo, a16.hi);
  float4 a4 = G_ACC(a8.lo, a8.hi);
  float2 a2 = G_ACC(a4.lo, a4.hi);
  float a = G_ACC(a2.lo, a2.hi);
  for (; i < SIZE; i++) a = G_ACC(a, LOAD_X(i, xp));
#if KIND == KIND_AVG
  a = SIZE > 0 ? a / (float)SIZE : 0.0f;
#endif
  STORE_Y(a, y_off + plane, y);
}
#else
/* GPU form: LOCAL work-items per plane, a tree in local memory. */
__kernel __attribute__((reqd_work_group_size(LOCAL, 1, 1))) void global_pool_f32(
    __global const XT *restrict x, uint x_off, __global YT *restrict y, uint y_off,
    const uint SIZE, const uint PLANES) {
  const uint plane = get_group_id(0), lid = get_local_id(0);
  __local float part[LOCAL];
  const __global XT *xp = x + x_off + plane * SIZE;
  float a = G_INIT;
  if (plane < PLANES)
    for (uint i = lid; i < SIZE; i += LOCAL) a = G_ACC(a, LOAD_X(i, xp));
  part[lid] = a;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint s = LOCAL / 2; s > 0; s >>= 1) {
    if (lid < s) part[lid] = G_ACC(part[lid], part[lid + s]);
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (lid == 0 && plane < PLANES) {
    a = part[0];
#if KIND == KIND_AVG
    a = SIZE > 0 ? a / (float)SIZE : 0.0f;
#endif
    STORE_Y(a, y_off + plane, y);
  }
}
#endif
#endif
