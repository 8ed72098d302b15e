/* OpenCL kernels: the indexing family.
 *
 * GatherElements with constant indices: the host resolves every output
 * element's source offset once (negative indices made non-negative, each
 * checked against its axis), so the kernel is a plain gather of any element
 * type (T: the unsigned integer of the element's size). Indices are int: the
 * host refuses tensors of 2^31 elements or more.
 * Each kernel is compiled only under -DK_<its name> (host/node.c adds it). */

#ifndef T
#define T uint
#endif

#ifdef K_gather_elements_any
__kernel void gather_elements_any(__global const T *x, uint x_off, __global const int *src,
                                  __global T *y, uint y_off, uint n) {
  uint i = get_global_id(0);
  if (i >= n) return;
  y[y_off + i] = x[x_off + src[i]];
}
#endif
