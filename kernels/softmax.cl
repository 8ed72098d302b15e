/* OpenCL kernels: the softmax family (Softmax, LogSoftmax). The input is
 * [OUTER, N, INNER], normalised along N: the maximum is subtracted before
 * exponentiation, then y = exp(x - m) / s or, with LOG, (x - m) - log(s).
 *
 * -D OUTER, N, INNER, VW (4 or 8); LOG for LogSoftmax.
 * softmax_rows_f32 (INNER == 1): rows of N contiguous elements, LWS
 *   work-items per row (1: the CPU form, no barriers; more: the GPU form, a
 *   __local reduction, LWS a power of two). Work: OUTER * LWS.
 * softmax_cols_f32 (INNER > 1): a work-item takes VW adjacent positions of
 *   INNER and walks N with stride INNER. Work: (ceil(INNER / VW), OUTER).
 * Each kernel is compiled only under -DK_<its name> (host/node.c adds it). */

#define VEC CAT(float, VW)
#define VLOAD CAT(vload, VW)
#define VSTORE CAT(vstore, VW)

#ifdef LOG
#define FINISH(T, x, m, f) (((x) - (m)) - (f))   /* f = log(s) */
#define FACTOR(s) log(s)
#else
#define FINISH(T, x, m, f) (exp((x) - (m)) * (f)) /* f = 1 / s */
#define FACTOR(s) (1.0f / (s))
#endif

#if VW == 4
#define HMAX(v) fmax(fmax((v).s0, (v).s1), fmax((v).s2, (v).s3))
#define HSUM(v) ((v).s0 + (v).s1 + (v).s2 + (v).s3)
#else
#define HMAX(v) fmax(fmax(fmax((v).s0, (v).s1), fmax((v).s2, (v).s3)), \
                     fmax(fmax((v).s4, (v).s5), fmax((v).s6, (v).s7)))
#define HSUM(v) ((v).s0 + (v).s1 + (v).s2 + (v).s3 + (v).s4 + (v).s5 + (v).s6 + (v).s7)
#endif

#ifdef K_softmax_rows_f32
#if LWS > 1
float group_reduce(float v, __local float *tmp, int is_max) {
  const uint l = get_local_id(0);
  tmp[l] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint s = LWS / 2; s > 0; s >>= 1) {
    if (l < s) tmp[l] = is_max ? fmax(tmp[l], tmp[l + s]) : tmp[l] + tmp[l + s];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  v = tmp[0];
  barrier(CLK_LOCAL_MEM_FENCE);
  return v;
}
#define ROW_MAX(v) group_reduce(v, tmp, 1)
#define ROW_SUM(v) group_reduce(v, tmp, 0)
#else
#define ROW_MAX(v) (v)
#define ROW_SUM(v) (v)
#endif

__kernel void softmax_rows_f32(__global const float *x, uint x_off, __global float *y,
                               uint y_off) {
#if LWS > 1
  __local float tmp[LWS];
  const uint row = (uint)get_group_id(0), lid = (uint)get_local_id(0);
#else
  const uint row = (uint)get_global_id(0), lid = 0;
  if (row >= OUTER) return;
#endif
  __global const float *xr = x + x_off + row * N;
  __global float *yr = y + y_off + row * N;
  const uint nvec = N / VW, tail = nvec * VW;
  VEC vm = (VEC)(-INFINITY);
  float m1 = -INFINITY;
  for (uint v = lid; v < nvec; v += LWS) vm = fmax(vm, VLOAD(v, xr));
  for (uint j = tail + lid; j < N; j += LWS) m1 = fmax(m1, xr[j]);
  const float m = ROW_MAX(fmax(HMAX(vm), m1));
  VEC vs = (VEC)(0.0f);
  float s1 = 0.0f;
  for (uint v = lid; v < nvec; v += LWS) vs += exp(VLOAD(v, xr) - m);
  for (uint j = tail + lid; j < N; j += LWS) s1 += exp(xr[j] - m);
  const float f = FACTOR(ROW_SUM(HSUM(vs) + s1));
  for (uint v = lid; v < nvec; v += LWS) VSTORE(FINISH(VEC, VLOAD(v, xr), m, f), v, yr);
  for (uint j = tail + lid; j < N; j += LWS) yr[j] = FINISH(float, xr[j], m, f);
}
#endif

#ifdef K_softmax_cols_f32
__kernel void softmax_cols_f32(__global const float *x, uint x_off, __global float *y,
                               uint y_off) {
  const uint j = (uint)get_global_id(0) * VW, o = (uint)get_global_id(1);
  if (j >= INNER || o >= OUTER) return;
  __global const float *xc = x + x_off + o * (N * INNER) + j;
  __global float *yc = y + y_off + o * (N * INNER) + j;
  if (j + VW <= INNER) {
    VEC m = (VEC)(-INFINITY), s = (VEC)(0.0f);
    for (uint k = 0; k < N; k++) m = fmax(m, VLOAD(0, xc + k * INNER));
    for (uint k = 0; k < N; k++) s += exp(VLOAD(0, xc + k * INNER) - m);
    const VEC f = FACTOR(s);
    for (uint k = 0; k < N; k++)
      VSTORE(FINISH(VEC, VLOAD(0, xc + k * INNER), m, f), 0, yc + k * INNER);
  } else {
    for (uint t = 0; t < INNER - j; t++) {
      float m = -INFINITY, s = 0.0f;
      for (uint k = 0; k < N; k++) m = fmax(m, xc[k * INNER + t]);
      for (uint k = 0; k < N; k++) s += exp(xc[k * INNER + t] - m);
      const float f = FACTOR(s);
      for (uint k = 0; k < N; k++) yc[k * INNER + t] = FINISH(float, xc[k * INNER + t], m, f);
    }
  }
}
#endif
