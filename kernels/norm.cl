/* OpenCL kernels: the norm family (BatchNormalization for inference,
 * InstanceNormalization, LayerNormalization, GroupNormalization, LRN).
 * Each kernel is compiled only under -DK_<its name> (host/node.c adds it). */

#define VEC CAT(float, VW)
#define VLOAD CAT(vload, VW)
#define VSTORE CAT(vstore, VW)
#define ACTV CAT(act_apply, VW) /* a fused activation (ACT_*, common.cl) */

/* Sum of the lanes of a VEC. */
#if VW == 4
#define HSUM(v) ((v).s0 + (v).s1 + (v).s2 + (v).s3)
#else
#define HSUM(v) ((v).s0 + (v).s1 + (v).s2 + (v).s3 + (v).s4 + (v).s5 + (v).s6 + (v).s7)
#endif

/* ------------------------------------------------------------ batchnorm
 * y = x * a[c] + b[c] over rows of BLOCK elements, c = row % NSTAT.
 * Constant statistics: `ab` holds a (NSTAT floats) then b, folded on the
 * host. With -DSTATS (statistics that are not constants): a and b are
 * computed here from scale, bias, mean and var (each with its offset).
 * -D EPS (STATS), VW, ITEMS (vectors per work-item), RPI (rows per
 * work-item), ACT_* (a fused activation, common.cl); arguments ROWS, BLOCK,
 * NSTAT (so that the layers of a network share a program: DenseNet-121 had
 * 62 of them). Storage (common.cl): x is role X, y role Y. Work: (chunks
 * of a row, groups of RPI rows). */
#ifdef K_batchnorm_nchw_f32
__kernel void batchnorm_nchw_f32(__global const XT *x, uint x_off, __global const float *ab,
                                 uint ab_off, __global const float *bias, uint b_off,
                                 __global const float *mean, uint m_off,
                                 __global const float *var, uint v_off, __global YT *y,
                                 uint y_off, const uint ROWS, const uint BLOCK,
                                 const uint NSTAT) {
  const uint j0 = (uint)get_global_id(0) * (VW * ITEMS);
  const uint r0 = (uint)get_global_id(1) * RPI;
  if (j0 >= BLOCK) return;
  for (uint row = r0; row < r0 + RPI && row < ROWS; row++) {
    const uint c = row % NSTAT;
#ifdef STATS
    const float a = ab[ab_off + c] / sqrt(var[v_off + c] + EPS);
    const float b = bias[b_off + c] - mean[m_off + c] * a;
#else
    const float a = ab[c], b = ab[NSTAT + c];
#endif
    __global const XT *xr = x + x_off + row * BLOCK;
    __global YT *yr = y + y_off + row * BLOCK;
    uint j = j0;
    for (int k = 0; k < ITEMS; k++, j += VW) {
      if (j + VW <= BLOCK) {
        VSTORE_Y(VW, ACTV(VLOAD_X(VW, 0, xr + j) * a + b), 0, yr + j);
      } else {
        for (; j < BLOCK; j++) STORE_Y(act_apply(LOAD_X(j, xr) * a + b), j, yr);
        break;
      }
    }
  }
}
#endif

/* ------------------------------------------- group / instance / layer norm
 * Rows of ROWLEN elements normalised by their own mean and variance (two
 * passes), then scaled: y = (x - mean) * inv_std * scale[s] + bias[s] with
 * s = (row % SROWS) * SPR + j / SDIV for position j of the row:
 *   LayerNormalization     SROWS = 1, SPR = 0, SDIV = 1        (s = j)
 *   InstanceNormalization  SROWS = C, SPR = 1, SDIV = ROWLEN   (s = c)
 *   GroupNormalization 18  SROWS = G, SPR = 1, SDIV = ROWLEN   (s = group)
 *   GroupNormalization 21  SROWS = G, SPR = C/G, SDIV = inner  (s = channel)
 * -D ROWS, ROWLEN, SROWS, SPR, SDIV, EPS, VW; HAS_BIAS; HAS_MEAN, HAS_INV
 * (LayerNormalization's optional outputs); LWS work-items per row: 1 is the
 * CPU form (no barriers), more the GPU form (a __local tree reduction; LWS a
 * power of two). Work: ROWS * LWS, work-groups of LWS. */
#ifdef K_rownorm_f32
#if LWS > 1
float group_sum(float v, __local float *tmp) {
  const uint l = get_local_id(0);
  tmp[l] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint s = LWS / 2; s > 0; s >>= 1) {
    if (l < s) tmp[l] += tmp[l + s];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  v = tmp[0];
  barrier(CLK_LOCAL_MEM_FENCE);
  return v;
}
#define ROW_SUM(v) group_sum(v, tmp)
#else
#define ROW_SUM(v) (v)
#endif

__kernel void rownorm_f32(__global const float *x, uint x_off, __global const float *scale,
                          uint s_off, __global const float *bias, uint b_off, __global float *y,
                          uint y_off, __global float *mean_out, uint m_off,
                          __global float *inv_out, uint i_off) {
#if LWS > 1
  __local float tmp[LWS];
  const uint row = (uint)get_group_id(0), lid = (uint)get_local_id(0);
#else
  const uint row = (uint)get_global_id(0), lid = 0;
  if (row >= ROWS) return;
#endif
  __global const float *xr = x + x_off + row * ROWLEN;
  __global float *yr = y + y_off + row * ROWLEN;
  /* Vectors of the row split between the LWS work-items, interleaved (so
   * that a GPU work-group reads contiguous memory); the tail is scalar. */
  const uint nvec = ROWLEN / VW, tail = nvec * VW;
  VEC acc = (VEC)(0.0f);
  float acc1 = 0.0f;
  for (uint v = lid; v < nvec; v += LWS) acc += VLOAD(v, xr);
  for (uint j = tail + lid; j < ROWLEN; j += LWS) acc1 += xr[j];
  const float mean = ROW_SUM(HSUM(acc) + acc1) / (float)ROWLEN;
  acc = (VEC)(0.0f);
  acc1 = 0.0f;
  for (uint v = lid; v < nvec; v += LWS) {
    const VEC d = VLOAD(v, xr) - mean;
    acc += d * d;
  }
  for (uint j = tail + lid; j < ROWLEN; j += LWS) {
    const float d = xr[j] - mean;
    acc1 += d * d;
  }
  const float var = ROW_SUM(HSUM(acc) + acc1) / (float)ROWLEN;
  const float inv = 1.0f / sqrt(var + EPS);
#ifdef HAS_MEAN
  if (lid == 0) mean_out[m_off + row] = mean;
#endif
#ifdef HAS_INV
  if (lid == 0) inv_out[i_off + row] = inv;
#endif
  __global const float *sr = scale + s_off + (row % SROWS) * SPR;
  __global const float *br = bias + b_off + (row % SROWS) * SPR;
#if SDIV == ROWLEN
  /* One scale for the row: y = x * a + b. */
  const float a = inv * sr[0];
#ifdef HAS_BIAS
  const float b = br[0] - mean * a;
#else
  const float b = -mean * a;
#endif
  for (uint v = lid; v < nvec; v += LWS) VSTORE(VLOAD(v, xr) * a + b, v, yr);
  for (uint j = tail + lid; j < ROWLEN; j += LWS) yr[j] = xr[j] * a + b;
#elif SDIV == 1
  for (uint v = lid; v < nvec; v += LWS) {
    VEC r = (VLOAD(v, xr) - mean) * inv * VLOAD(v, sr);
#ifdef HAS_BIAS
    r += VLOAD(v, br);
#endif
    VSTORE(r, v, yr);
  }
  for (uint j = tail + lid; j < ROWLEN; j += LWS) {
    float r = (xr[j] - mean) * inv * sr[j];
#ifdef HAS_BIAS
    r += br[j];
#endif
    yr[j] = r;
  }
#else
  /* A scale per block of SDIV elements (a channel of a group). */
  for (uint j = lid; j < ROWLEN; j += LWS) {
    float r = (xr[j] - mean) * inv * sr[j / SDIV];
#ifdef HAS_BIAS
    r += br[j / SDIV];
#endif
    yr[j] = r;
  }
#endif
}
#endif

/* ------------------------------------------------------------------ LRN
 * y = x * (BIAS + ALPHA_N * sum over the channel window of x^2)^(-BETA),
 * window [c - LO, c + HI] clipped to [0, C).
 * -D C, INNER, NC (N * C), LO, HI, BIAS, ALPHA_N (alpha / size), NBETA (-beta),
 * VW, ITEMS. Work: (chunks of a plane, N * C). */
#ifdef K_lrn_nchw_f32
__kernel void lrn_nchw_f32(__global const float *x, uint x_off, __global float *y, uint y_off) {
  const uint j0 = (uint)get_global_id(0) * (VW * ITEMS);
  const uint nc = (uint)get_global_id(1);
  if (j0 >= INNER || nc >= NC) return;
  const int c = (int)(nc % C);
  const int c0 = max(c - LO, 0), c1 = min(c + HI, C - 1);
  __global const float *xn = x + x_off + (nc - (uint)c) * INNER;
  __global const float *xr = x + x_off + nc * INNER;
  __global float *yr = y + y_off + nc * INNER;
  uint j = j0;
  for (int k = 0; k < ITEMS; k++, j += VW) {
    if (j + VW <= INNER) {
      VEC acc = (VEC)(0.0f);
      for (int c2 = c0; c2 <= c1; c2++) {
        const VEC v = VLOAD(0, xn + c2 * INNER + j);
        acc += v * v;
      }
      VSTORE(VLOAD(0, xr + j) * pow(BIAS + ALPHA_N * acc, (VEC)(NBETA)), 0, yr + j);
    } else {
      for (; j < INNER; j++) {
        float acc = 0.0f;
        for (int c2 = c0; c2 <= c1; c2++) {
          const float v = xn[c2 * INNER + j];
          acc += v * v;
        }
        yr[j] = xr[j] * pow(BIAS + ALPHA_N * acc, NBETA);
      }
      break;
    }
  }
}
#endif
