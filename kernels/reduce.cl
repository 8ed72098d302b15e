/* OpenCL kernels: the reduce family (ReduceMean, ReduceSum, ReduceMax) on
 * the front half's merged view of the input (adjacent dims of one kind
 * merged, size-1 dims dropped), in which the output is the kept dims in
 * order.
 *
 * -D OP_SUM | OP_MEAN | OP_MAX, COUNT (elements per output, for the mean)
 *    NK, KDIMS, KSTRIDES  the kept dims other than a kept last one, with
 *                         their input strides (comma lists when NK > 0)
 *    NR, RDIMS, RSTRIDES  the reduced dims other than a reduced last one
 *    RCOUNT               product of RDIMS (1 when NR == 0)
 *    LAST                 size of the last (innermost, contiguous) dim
 *    NOUT                 product of KDIMS (1 when NK == 0)
 *    VW (4 or 8)
 * reduce_last_f32 (the last dim is reduced): each output sums RCOUNT
 *   contiguous runs of LAST; LWS work-items per output (1: the CPU form;
 *   more: the GPU form with a __local reduction, LWS a power of two).
 *   Work: NOUT * LWS.
 * reduce_kept_f32 (the last dim is kept): a work-item takes VW adjacent
 *   outputs along it and walks the reduced dims. Work: (ceil(LAST / VW), NOUT).
 * Each kernel is compiled only under -DK_<its name> (host/node.c adds it). */

#define VEC CAT(float, VW)
#define VLOAD CAT(vload, VW)
#define VSTORE CAT(vstore, VW)

#if defined(OP_MAX)
#define INIT (-INFINITY)
#define ACC(a, v) ((a) = (v) > (a) ? (v) : (a)) /* NaN skipped, as the CPU backend */
#define RESULT(a) (a)
#define COMBINE(a, b) ((b) > (a) ? (b) : (a))
#else
#define INIT 0.0f
#define ACC(a, v) ((a) += (v))
#define COMBINE(a, b) ((a) + (b))
#if defined(OP_MEAN)
#define RESULT(a) ((a) / (float)(COUNT))
#else
#define RESULT(a) (a)
#endif
#endif

#if NK > 0
__constant uint kdims[NK] = {KDIMS};
__constant uint kstrides[NK] = {KSTRIDES};
#endif
#if NR > 0
__constant uint rdims[NR] = {RDIMS};
__constant uint rstrides[NR] = {RSTRIDES};
#endif

/* Input offset of kept index o (over KDIMS). */
uint kept_offset(uint o) {
  uint off = 0;
#if NK > 0
  for (int d = NK - 1; d >= 0; d--) {
    off += (o % kdims[d]) * kstrides[d];
    o /= kdims[d];
  }
#endif
  return off;
}

/* Input offset of reduced index r (over RDIMS). */
uint reduced_offset(uint r) {
  uint off = 0;
#if NR > 0
  for (int d = NR - 1; d >= 0; d--) {
    off += (r % rdims[d]) * rstrides[d];
    r /= rdims[d];
  }
#endif
  return off;
}

#if VW == 4
#define HRED(v) COMBINE(COMBINE((v).s0, (v).s1), COMBINE((v).s2, (v).s3))
#else
#define HRED(v) COMBINE(COMBINE(COMBINE((v).s0, (v).s1), COMBINE((v).s2, (v).s3)), \
                        COMBINE(COMBINE((v).s4, (v).s5), COMBINE((v).s6, (v).s7)))
#endif

#ifdef K_reduce_last_f32
__kernel void reduce_last_f32(__global const float *x, uint x_off, __global float *y,
                              uint y_off) {
#if LWS > 1
  __local float tmp[LWS];
  const uint o = (uint)get_group_id(0), lid = (uint)get_local_id(0);
#else
  const uint o = (uint)get_global_id(0), lid = 0;
  if (o >= NOUT) return;
#endif
  __global const float *xo = x + x_off + kept_offset(o);
  const uint nvec = LAST / VW, tail = nvec * VW;
  VEC acc = (VEC)(INIT);
  float acc1 = INIT;
  for (uint r = 0; r < RCOUNT; r++) {
    __global const float *xr = xo + reduced_offset(r);
    for (uint v = lid; v < nvec; v += LWS) {
      const VEC xv = VLOAD(v, xr);
      ACC(acc, xv);
    }
    for (uint j = tail + lid; j < LAST; j += LWS) ACC(acc1, xr[j]);
  }
  float a = COMBINE(HRED(acc), acc1);
#if LWS > 1
  tmp[lid] = a;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint s = LWS / 2; s > 0; s >>= 1) {
    if (lid < s) tmp[lid] = COMBINE(tmp[lid], tmp[lid + s]);
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (lid == 0) y[y_off + o] = RESULT(tmp[0]);
#else
  y[y_off + o] = RESULT(a);
#endif
}
#endif

#ifdef K_reduce_kept_f32
__kernel void reduce_kept_f32(__global const float *x, uint x_off, __global float *y,
                              uint y_off) {
  const uint j = (uint)get_global_id(0) * VW, o = (uint)get_global_id(1);
  if (j >= LAST || o >= NOUT) return;
  __global const float *xo = x + x_off + kept_offset(o) + j;
  __global float *yo = y + y_off + o * LAST + j;
  if (j + VW <= LAST) {
    VEC acc = (VEC)(INIT);
    for (uint r = 0; r < RCOUNT; r++) {
      const VEC xv = VLOAD(0, xo + reduced_offset(r));
      ACC(acc, xv);
    }
    VSTORE(RESULT(acc), 0, yo);
  } else {
    for (uint t = 0; t < LAST - j; t++) {
      float acc = INIT;
      for (uint r = 0; r < RCOUNT; r++) ACC(acc, xo[reduced_offset(r) + t]);
      yo[t] = RESULT(acc);
    }
  }
}
#endif
