/* Peak rates of a device (clcnn_device_peak_get(), host/peak.c): multiply-
 * adds on registers, and a streaming copy. Nothing here runs models.
 *
 * PEAK_W is the vector width of a work-item (4 on GPUs, whose lanes are
 * work-items anyway; 16 on CPU devices, one AVX-512 register), PEAK_HALF
 * builds the half-precision form. */
#ifndef PEAK_W
#define PEAK_W 4
#endif
#define PEAK_VEC_(t, w) t##w
#define PEAK_VEC(t, w) PEAK_VEC_(t, w)

/* Eight independent chains of multiply-adds per work-item, so that the
 * latency of one never stalls the next; `a` < 1 keeps the values finite.
 * Flops per work-item: iters * 8 * PEAK_W * 2. Every lane reaches the sum
 * written at the end, so that no lane or loop can be dropped. */
#define PEAK_FMA(T, a, b, iters)                                                \
  T x0 = (T)(get_global_id(0) * 1e-6f), x1 = x0 + (T)1, x2 = x0 + (T)2;       \
  T x3 = x0 + (T)3, x4 = x0 + (T)4, x5 = x0 + (T)5, x6 = x0 + (T)6, x7 = x0 + (T)7; \
  for (int i = 0; i < iters; i++) {                                            \
    x0 = mad(x0, a, b); x1 = mad(x1, a, b); x2 = mad(x2, a, b); x3 = mad(x3, a, b); \
    x4 = mad(x4, a, b); x5 = mad(x5, a, b); x6 = mad(x6, a, b); x7 = mad(x7, a, b); \
  }                                                                            \
  T s = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7));

/* The sum of s's lanes as a float4 (PEAK_W is 4, 8 or 16). */
#if PEAK_W == 16
#define PEAK_FOLD(s) ((s).lo.lo + (s).lo.hi + (s).hi.lo + (s).hi.hi)
#elif PEAK_W == 8
#define PEAK_FOLD(s) ((s).lo + (s).hi)
#else
#define PEAK_FOLD(s) (s)
#endif

__kernel void peak_fma_f32(__global float *out, float a, float b, int iters) {
  PEAK_FMA(PEAK_VEC(float, PEAK_W), a, b, iters)
  float4 f = PEAK_FOLD(s);
  out[get_global_id(0)] = f.x + f.y + f.z + f.w;
}

#ifdef PEAK_HALF
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
__kernel void peak_fma_f16(__global float *out, float af, float bf, int iters) {
  half a = (half)af, b = (half)bf;
  PEAK_FMA(PEAK_VEC(half, PEAK_W), a, b, iters)
  half4 f = PEAK_FOLD(s);
  out[get_global_id(0)] = (float)(f.x + f.y + f.z + f.w);
}
#endif

/* Each work-item copies one float4: bytes moved = 2 * 16 * global size. */
__kernel void peak_copy(__global const float4 *restrict src, __global float4 *restrict dst) {
  size_t i = get_global_id(0);
  dst[i] = src[i];
}
