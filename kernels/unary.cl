/* OpenCL kernels: the unary family. The formula is common.cl's act_apply,
 * chosen by -DACT_xxx (host/ops/unary.c writes the options).
 *
 * -D N      elements
 *    VW     vector width (4 or 8)
 *    ITEMS  vectors per work-item (contiguous) */

#define VEC CAT(float, VW)
#define VLOAD CAT(vload, VW)
#define VSTORE CAT(vstore, VW)
#define ACTV CAT(act_apply, VW)

__kernel void unary_f32(__global const float *x, uint x_off, __global float *y, uint y_off) {
  uint i = (uint)get_global_id(0) * (VW * ITEMS);
  x += x_off;
  y += y_off;
  for (int k = 0; k < ITEMS; k++, i += VW) {
    if (i + VW <= N) {
      VSTORE(ACTV(VLOAD(0, x + i)), 0, y + i);
    } else {
      for (; i < N; i++) y[i] = act_apply(x[i]);
      return;
    }
  }
}
