/* OpenCL kernels: the unary family. The formula is common.cl's act_apply,
 * chosen by -DACT_xxx (host/ops/unary.c writes the options). The element
 * count n is an argument, not a -D constant: nothing here would unroll on
 * it, and every tensor size would otherwise be one more program to build.
 *
 * -D VW     vector width (4 or 8)
 *    ITEMS  vectors per work-item (contiguous)
 * Storage (common.cl): unary_f32's x is role X, y role Y; clip_dynamic_f32
 * is float.
 * Each kernel is compiled only under -DK_<its name> (host/node.c adds it). */

#define VEC CAT(float, VW)
#define VLOAD CAT(vload, VW)
#define VSTORE CAT(vstore, VW)
#define ACTV CAT(act_apply, VW)

#ifdef K_unary_f32
__kernel void unary_f32(__global const XT *x, uint x_off, __global YT *y, uint y_off,
                        uint n) {
  uint i = (uint)get_global_id(0) * (VW * ITEMS);
  x += x_off;
  y += y_off;
  for (int k = 0; k < ITEMS; k++, i += VW) {
    if (i + VW <= n) {
      VSTORE_Y(VW, ACTV(VLOAD_X(VW, 0, x + i)), 0, y + i);
    } else {
      for (; i < n; i++) STORE_Y(act_apply(LOAD_X(i, x)), i, y);
      return;
    }
  }
}
#endif

/* Clip whose bounds are inputs that are not constants (read here, when the
 * node runs): -D HAS_MIN, HAS_MAX when given; VW, ITEMS as above. */
#ifdef K_clip_dynamic_f32
__kernel void clip_dynamic_f32(__global const float *x, uint x_off, __global float *y,
                               uint y_off, uint n, __global const float *mn, uint mn_off,
                               __global const float *mx, uint mx_off) {
#ifdef HAS_MIN
  const float lo = mn[mn_off];
#else
  const float lo = -INFINITY;
#endif
#ifdef HAS_MAX
  const float hi = mx[mx_off];
#else
  const float hi = INFINITY;
#endif
  uint i = (uint)get_global_id(0) * (VW * ITEMS);
  x += x_off;
  y += y_off;
  for (int k = 0; k < ITEMS; k++, i += VW) {
    if (i + VW <= n) {
      const VEC v = VLOAD(0, x + i);
      VSTORE(CLIP(VEC, v, lo, hi), 0, y + i);
    } else {
      for (; i < n; i++) y[i] = CLIP(float, x[i], lo, hi);
      return;
    }
  }
}
#endif
