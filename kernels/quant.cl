/* The quant family: QuantizeLinear and DequantizeLinear, float32 <-> QT
 * (char or uchar), one work-item per element.
 *   QT, QMIN, QMAX    the quantized type and its range
 *   PER_AXIS          one scale (and zero point) per index along the axis:
 *                     element i uses (i / INNER) % AXIS_N; else one in all
 *   HAS_ZP            a zero point is given (else 0) */
#ifdef PER_AXIS
#define QPARAM(i) (((i) / INNER) % AXIS_N)
#else
#define QPARAM(i) 0u
#endif

/* The zero point of parameter c, as a float (0 without HAS_ZP). */
#ifdef HAS_ZP
#define ZERO_POINT(c) ((float)z[z_off + (c)])
#else
#define ZERO_POINT(c) 0.0f
#endif

#ifdef K_quantize_f32
/* y = saturate(rint(x / scale) + zero_point); NaN gives the zero point. */
__kernel void quantize_f32(__global const float *x, uint x_off, __global const float *s,
                           uint s_off, __global const QT *z, uint z_off, __global QT *y,
                           uint y_off, uint n) {
  uint i = (uint)get_global_id(0);
  if (i >= n) return;
  uint c = QPARAM(i);
  float zp = ZERO_POINT(c);
  float q = x[x_off + i] / s[s_off + c];
  float r = isnan(q) ? zp : clamp(rint(q) + zp, (float)QMIN, (float)QMAX);
  y[y_off + i] = (QT)(int)r;
}
#endif

#ifdef K_dequantize_f32
/* y = (x - zero_point) * scale. */
__kernel void dequantize_f32(__global const QT *x, uint x_off, __global const float *s,
                             uint s_off, __global const QT *z, uint z_off, __global float *y,
                             uint y_off, uint n) {
  uint i = (uint)get_global_id(0);
  if (i >= n) return;
  uint c = QPARAM(i);
  float zp = ZERO_POINT(c);
  y[y_off + i] = ((float)x[x_off + i] - zp) * s[s_off + c];
}
#endif
