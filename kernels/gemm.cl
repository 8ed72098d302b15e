/* OpenCL kernels: matrix products for the gemm family (Gemm, MatMul) and
 * for the convolutions that are matrix products (host/gemm_dispatch.c
 * prepares them and chooses between them and CLBlast).
 *
 *   C[z](m, n) = act(ALPHA * sum_k A[z](m, k) B[z](k, n)
 *                    + BETA * C[z](m, n) + BIAS_SCALE * bias[z](m, n))
 *
 * for m < M, n < N and a batch z = z0 * NB1 + z1 (global dim 2). Matrices are
 * row-major; every size below is in elements.
 *
 * Kernel arguments after the buffers (the same for every layer, so one
 * program serves every product of a kind: few programs, fast cold starts)
 *   M, N, K          sizes
 *   LDA, LDB, LDC    leading dims
 *   EPILOGUE_ARGS    (common.cl) a residual added after the bias, with C's
 *                    layout, and the piecewise-linear activation
 *
 * -D options
 *   TA, TB           1: transposed, A(m, k) = a[k * LDA + m], B(k, n) = b[n * LDB + k]
 *   NB1              inner batch count (default 1)
 *   SA0 SA1 SB0 SB1 SC0 SC1   batch strides of A, B, C (default 0)
 *   ALPHA            scale of the product (default 1)
 *   BETA             when defined, C's old value times BETA is added
 *   HAS_BIAS         adds BIAS_SCALE (default 1) * bias[m * BIAS_RS + n * BIAS_CS]
 *                    (a stride of 0 broadcasts); batch strides SBIAS0, SBIAS1
 *   ACT_*            fused activation (common.cl, host/ops/unary.h)
 *
 * gemm_f32, CPU form (default): one work-item computes a TM x TN register
 *   tile (TN = NV vectors of VW floats along n), no local memory. B must have
 *   contiguous rows (TB 0) and N >= TN. The last column tile is shifted left
 *   to end at N and stores only the columns no other tile stores. Global
 *   (ceil(N / TN), ceil(M / TM), batch).
 * gemm_f32, GPU form (-DGPU): a work-group of (TSN / WPN) x (TSM / WPM)
 *   work-items computes a TSM x TSN block from TSK-deep tiles of A and B in
 *   local memory, WPM x WPN outputs per work-item. Global (ceil(N / TSN) *
 *   TSN / WPN, ceil(M / TSM) * TSM / WPM, batch), local (TSN / WPN, TSM / WPM).
 * gemm_dot_f32: one output per work-item, a dot product along k (vectors
 *   when both operands are contiguous in k). Global (N, M, batch).
 * gemm_prologue_f32 / gemm_act_f32: the epilogue around an external GEMM
 *   (CLBlast, called with beta 1): C = BETA * C + BIAS_SCALE * bias before,
 *   C = act(C + residual) after. Global (N, M, batch).
 * Storage (common.cl): B is role X, C role Y, the residual role R; A and
 * the bias are float. The CLBlast epilogue kernels are float only.
 * gemm_f32 is built with TM (CPU form) or GPU defined; the other kernels
 * need neither. Each kernel is compiled only under -DK_<its name>
 * (host/node.c adds it). */

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

#ifndef NB1
#define NB1 1
#endif
#ifndef SA0
#define SA0 0
#endif
#ifndef SA1
#define SA1 0
#endif
#ifndef SB0
#define SB0 0
#endif
#ifndef SB1
#define SB1 0
#endif
#ifndef SC0
#define SC0 0
#endif
#ifndef SC1
#define SC1 0
#endif
#ifndef SBIAS0
#define SBIAS0 0
#endif
#ifndef SBIAS1
#define SBIAS1 0
#endif
#ifndef BIAS_SCALE
#define BIAS_SCALE 1.0f
#endif
#ifndef BIAS_RS
#define BIAS_RS 0
#endif
#ifndef BIAS_CS
#define BIAS_CS 0
#endif
#ifndef TA
#define TA 0
#endif
#ifndef TB
#define TB 0
#endif

/* The sizes that every kernel takes last (host/gemm_dispatch.c sets them). */
#define GEMM_SIZES , const uint M, const uint N, const uint K, const uint LDA, const uint LDB, \
                     const uint LDC

#define BATCH_OFF(S0, S1, z) ((z) / NB1 * (uint)(S0) + (z) % NB1 * (uint)(S1))

/* Where row m of A starts and how far apart consecutive k are. */
#if TA
#define A_ROW(m) (m)
#define A_KS LDA
#else
#define A_ROW(m) ((m) * LDA)
#define A_KS 1
#endif
/* Where column n of B starts and how far apart consecutive k are. */
#if TB
#define B_COL(n) ((n) * LDB)
#define B_KS 1
#else
#define B_COL(n) (n)
#define B_KS LDB
#endif

/* The scalar epilogue of output (m, n); c points at C(m, n), r at the
 * residual's (m, n) (read when res_on). */
#if defined(K_gemm_dot_f32) || (defined(K_gemm_f32) && defined(GPU))
#define GEMM_EPILOGUE(acc, c, r, bias, m, n) \
  gemm_epilogue(acc, c, r, bias, m, n, res_on, act_alpha, act_lo, act_hi)
inline float gemm_epilogue(float acc, __global const YT *c, __global const RT *r,
                           __global const float *bias, uint m, uint n, const uint res_on,
                           const float act_alpha, const float act_lo, const float act_hi) {
#ifdef ALPHA
  acc *= ALPHA;
#endif
#ifdef BETA
  acc = mad(BETA, LOAD_Y(0, c), acc);
#endif
#ifdef HAS_BIAS
  acc = mad(BIAS_SCALE, bias[m * BIAS_RS + n * BIAS_CS], acc);
#endif
  if (res_on) acc += LOAD_R(0, r);
  acc = act_apply(acc);
  EPILOGUE_PWL(float, acc);
  return acc;
}
#endif

#if defined(K_gemm_f32) && defined(TM)
/* ------------------------------------------------------------ CPU form */

#if TB
#error "the CPU form of gemm_f32 needs B with contiguous rows (TB 0)"
#endif
#define NV (TN / VW)
#define VEC CAT(float, VW)
#define VLOAD CAT(vload, VW)
#define VSTORE CAT(vstore, VW)
#define ACTV CAT(act_apply, VW)

#ifndef UNROLL_K
#define UNROLL_K 4
#endif

__kernel void gemm_f32(__global const float *restrict a, uint a_off,
                       __global const XT *restrict b, uint b_off, __global YT *c,
                       uint c_off, __global const float *restrict bias,
                       uint bias_off GEMM_SIZES EPILOGUE_ARGS) {
  const uint z = get_global_id(2);
  const uint n_nom = (uint)get_global_id(0) * TN, m0 = (uint)get_global_id(1) * TM;
  if (n_nom >= N || m0 >= M) return;
  const uint n0 = n_nom + TN <= N ? n_nom : N - TN;
  a += a_off + BATCH_OFF(SA0, SA1, z);
  b += b_off + BATCH_OFF(SB0, SB1, z) + n0;
  c += c_off + BATCH_OFF(SC0, SC1, z);
  res += res_off + BATCH_OFF(SC0, SC1, z);
  bias += bias_off + BATCH_OFF(SBIAS0, SBIAS1, z);

  /* Rows past M read row M - 1; their results are not stored. */
  const __global float *ar[TM];
#pragma unroll
  for (int i = 0; i < TM; i++) ar[i] = a + A_ROW(min(m0 + i, (uint)M - 1));

  VEC acc[TM][NV];
#pragma unroll
  for (int i = 0; i < TM; i++)
#pragma unroll
    for (int j = 0; j < NV; j++) acc[i][j] = (VEC)0.0f;

  /* One step of k: a row of B times a column of A into the tile. K is a
   * kernel argument, so the unrolling by UNROLL_K is written out. */
#define GEMM_K_STEP(k)                                                            \
  {                                                                               \
    VEC bv[NV];                                                                   \
    _Pragma("unroll") for (int j = 0; j < NV; j++) bv[j] = VLOAD_X(VW, 0, b + (k) * LDB + j * VW); \
    _Pragma("unroll") for (int i = 0; i < TM; i++) {                              \
      const VEC av = (VEC)(ar[i][(k) * A_KS]);                                    \
      _Pragma("unroll") for (int j = 0; j < NV; j++) acc[i][j] = FMA(av, bv[j], acc[i][j]); \
    }                                                                             \
  }
  uint k = 0;
  for (; k + UNROLL_K <= K; k += UNROLL_K) {
#pragma unroll
    for (uint u = 0; u < UNROLL_K; u++) GEMM_K_STEP(k + u)
  }
  for (; k < K; k++) GEMM_K_STEP(k)
#undef GEMM_K_STEP

#pragma unroll
  for (int i = 0; i < TM; i++) {
    const uint m = m0 + i;
    if (m >= M) break;
    __global YT *cr = c + m * LDC;
#pragma unroll
    for (int j = 0; j < NV; j++) {
      const uint n = n0 + j * VW;
      VEC v = acc[i][j];
#ifdef ALPHA
      v *= ALPHA;
#endif
#ifdef BETA
      v = mad((VEC)BETA, VLOAD_Y(VW, 0, cr + n), v);
#endif
#ifdef HAS_BIAS
#if BIAS_CS == 0
      v += (VEC)(BIAS_SCALE * bias[m * BIAS_RS]);
#elif BIAS_CS == 1
      v = mad((VEC)BIAS_SCALE, VLOAD(0, bias + m * BIAS_RS + n), v);
#else
      {
        float t[VW];
        for (int l = 0; l < VW; l++) t[l] = bias[m * BIAS_RS + (n + l) * BIAS_CS];
        v = mad((VEC)BIAS_SCALE, VLOAD(0, t), v);
      }
#endif
#endif
      if (res_on) v += VLOAD_R(VW, 0, res + m * LDC + n);
      v = ACTV(v);
      EPILOGUE_PWL(VEC, v);
      if (n >= n_nom) {
        VSTORE_Y(VW, v, 0, cr + n);
      } else if (n + VW > n_nom) {
        /* Shifted last tile: only the columns past the previous tile. */
        float t[VW];
        VSTORE(v, 0, t);
        for (uint l = n_nom - n; l < VW; l++) STORE_Y(t[l], n + l, cr);
      }
    }
  }
}

#elif defined(K_gemm_f32) && defined(GPU)
/* ------------------------------------------------------------ GPU form */

#define RTSM (TSM / WPM)
#define RTSN (TSN / WPN)
#define NTHREADS (RTSM * RTSN)

__kernel __attribute__((reqd_work_group_size(RTSN, RTSM, 1))) void gemm_f32(
    __global const float *restrict a, uint a_off, __global const XT *restrict b, uint b_off,
    __global YT *c, uint c_off, __global const float *restrict bias,
    uint bias_off GEMM_SIZES EPILOGUE_ARGS) {
  const uint z = get_global_id(2);
  const uint tn = get_local_id(0), tm = get_local_id(1), tid = tm * RTSN + tn;
  const uint n_base = get_group_id(0) * TSN, m_base = get_group_id(1) * TSM;
  a += a_off + BATCH_OFF(SA0, SA1, z);
  b += b_off + BATCH_OFF(SB0, SB1, z);
  c += c_off + BATCH_OFF(SC0, SC1, z);
  res += res_off + BATCH_OFF(SC0, SC1, z);
  bias += bias_off + BATCH_OFF(SBIAS0, SBIAS1, z);
  /* +1: no bank conflicts when a column is read. */
  __local float as[TSK][TSM + 1];
  __local float bs[TSK][TSN + 1];
  float acc[WPM][WPN];
#pragma unroll
  for (int i = 0; i < WPM; i++)
#pragma unroll
    for (int j = 0; j < WPN; j++) acc[i][j] = 0.0f;

  for (uint k0 = 0; k0 < K; k0 += TSK) {
    /* Neighbouring work-items read neighbouring addresses. */
#pragma unroll
    for (uint r = 0; r < (TSM * TSK + NTHREADS - 1) / NTHREADS; r++) {
      const uint e = tid + r * NTHREADS;
      if (TSM * TSK % NTHREADS && e >= TSM * TSK) break;
#if TA
      const uint mm = e % TSM, kk = e / TSM;
#else
      const uint kk = e % TSK, mm = e / TSK;
#endif
      const uint m = m_base + mm, k = k0 + kk;
      as[kk][mm] = m < M && k < K ? a[A_ROW(m) + k * A_KS] : 0.0f;
    }
#pragma unroll
    for (uint r = 0; r < (TSN * TSK + NTHREADS - 1) / NTHREADS; r++) {
      const uint e = tid + r * NTHREADS;
      if (TSN * TSK % NTHREADS && e >= TSN * TSK) break;
#if TB
      const uint kk = e % TSK, nn = e / TSK;
#else
      const uint nn = e % TSN, kk = e / TSN;
#endif
      const uint n = n_base + nn, k = k0 + kk;
      bs[kk][nn] = n < N && k < K ? LOAD_X(B_COL(n) + k * B_KS, b) : 0.0f;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
#pragma unroll
    for (int kk = 0; kk < TSK; kk++) {
      float bv[WPN];
#pragma unroll
      for (int j = 0; j < WPN; j++) bv[j] = bs[kk][tn + j * RTSN];
#pragma unroll
      for (int i = 0; i < WPM; i++) {
        const float av = as[kk][tm + i * RTSM];
#pragma unroll
        for (int j = 0; j < WPN; j++) acc[i][j] = FMA(av, bv[j], acc[i][j]);
      }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }

#pragma unroll
  for (int i = 0; i < WPM; i++) {
    const uint m = m_base + tm + i * RTSM;
#pragma unroll
    for (int j = 0; j < WPN; j++) {
      const uint n = n_base + tn + j * RTSN;
      if (m < M && n < N)
        STORE_Y(GEMM_EPILOGUE(acc[i][j], c + m * LDC + n, res + m * LDC + n, bias, m, n),
                m * LDC + n, c);
    }
  }
}
#endif

/* ---------------------------------------------------- one dot per output */

#ifdef K_gemm_dot_f32
__kernel void gemm_dot_f32(__global const float *restrict a, uint a_off,
                           __global const XT *restrict b, uint b_off, __global YT *c,
                           uint c_off, __global const float *restrict bias,
                           uint bias_off GEMM_SIZES EPILOGUE_ARGS) {
  const uint n = get_global_id(0), m = get_global_id(1), z = get_global_id(2);
  if (n >= N || m >= M) return;
  const __global float *ar = a + a_off + BATCH_OFF(SA0, SA1, z) + A_ROW(m);
  const __global XT *bc = b + b_off + BATCH_OFF(SB0, SB1, z) + B_COL(n);
  c += c_off + BATCH_OFF(SC0, SC1, z);
  res += res_off + BATCH_OFF(SC0, SC1, z);
  bias += bias_off + BATCH_OFF(SBIAS0, SBIAS1, z);
  float acc = 0.0f;
  uint k = 0;
#if A_KS == 1 && B_KS == 1
  float8 acc8 = (float8)0.0f;
  for (; k + 8 <= K; k += 8) acc8 = FMA(vload8(0, ar + k), VLOAD_X(8, 0, bc + k), acc8);
  float4 acc4 = acc8.lo + acc8.hi;
  acc = (acc4.x + acc4.y) + (acc4.z + acc4.w);
#endif
  for (; k < K; k++) acc = FMA(ar[k * A_KS], LOAD_X(k * B_KS, bc), acc);
  STORE_Y(GEMM_EPILOGUE(acc, c + m * LDC + n, res + m * LDC + n, bias, m, n), m * LDC + n, c);
}
#endif

/* ------------------------------------------ epilogue of an external GEMM */

#ifdef K_gemm_prologue_f32
__kernel void gemm_prologue_f32(__global float *c, uint c_off, __global const float *bias,
                                uint bias_off GEMM_SIZES) {
  const uint n = get_global_id(0), m = get_global_id(1), z = get_global_id(2);
  if (n >= N || m >= M) return;
  c += c_off + BATCH_OFF(SC0, SC1, z) + m * LDC + n;
  float v = 0.0f;
#ifdef BETA
  v = BETA * c[0];
#endif
#ifdef HAS_BIAS
  bias += bias_off + BATCH_OFF(SBIAS0, SBIAS1, z);
  v = mad(BIAS_SCALE, bias[m * BIAS_RS + n * BIAS_CS], v);
#endif
  c[0] = v;
}
#endif

#ifdef K_gemm_act_f32
__kernel void gemm_act_f32(__global float *c, uint c_off GEMM_SIZES EPILOGUE_ARGS) {
  const uint n = get_global_id(0), m = get_global_id(1), z = get_global_id(2);
  if (n >= N || m >= M) return;
  c += c_off + BATCH_OFF(SC0, SC1, z) + m * LDC + n;
  float v = c[0];
  if (res_on) v += LOAD_R(res_off + BATCH_OFF(SC0, SC1, z) + m * LDC + n, res);
  v = act_apply(v);
  EPILOGUE_PWL(float, v);
  c[0] = v;
}
#endif
