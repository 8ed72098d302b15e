/* OpenCL backend: the indexing family. Kernels in kernels/indexing.cl.
 *
 * GatherElements runs on the device when its indices are constant (as
 * Gather does): they are checked at session creation and resolved into one
 * source offset per output element, so the kernel only moves elements and
 * no index can be out of range at run time. The other operators of the
 * family (and GatherElements with computed indices) run on the CPU backend,
 * which the runtime chooses by itself. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../ocl.h"
#include "../../runtime/ops/indexing.h"
#include "../kernel_options.h"

typedef struct gather_state {
  cl_kernel k;
  cl_mem src;
  cl_uint n;
} gather_state;

static const char *gather_elements_check(const ocl_device_info *dev, const ir_graph *g,
                                         const ir_node *n) {
  (void)dev;
  const ir_value *x = ir_in(g, n, 0), *idx = ir_in(g, n, 1);
  if (!x || !idx) return "an input is missing";
  if (!idx->is_const || !idx->t.data)
    return "GatherElements runs on OpenCL only with constant indices";
  if (!ocl_bits_type(dtype_size(x->t.dtype))) return "this data type is not supported on OpenCL";
  if (clcnn_tensor_numel(&x->t) >= INT_MAX || clcnn_tensor_numel(&idx->t) >= INT_MAX)
    return "tensors of 2^31 elements or more are not supported on OpenCL";
  return NULL;
}

static clcnn_status gather_elements_prepare(ocl_node *on, clcnn_err *err) {
  const elements_params *p = on->n->params;
  const ir_value *x = ir_in(on->g, on->n, 0), *iv = ir_in(on->g, on->n, 1);
  gather_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  on->state = s;
  const clcnn_tensor *idx = &iv->t;
  const int r = idx->rank, axis = p->axis;
  int64_t xs[CLCNN_MAX_RANK], acc = 1;
  for (int d = x->t.rank - 1; d >= 0; d--) xs[d] = acc, acc *= x->t.dims[d];
  const int64_t n = clcnn_tensor_numel(idx), lim = x->t.dims[axis];
  s->n = (cl_uint)n;
  if (n == 0) return CLCNN_OK;
  cl_int *src = malloc(sizeof(cl_int) * (size_t)n);
  if (!src) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  int64_t pos[CLCNN_MAX_RANK] = {0}, base = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t j = tensor_get_i64(idx, i);
    if (j < 0) j += lim;
    if (j < 0 || j >= lim) {
      free(src);
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "index %lld is out of range [%lld, %lld)",
                     (long long)tensor_get_i64(idx, i), (long long)-lim, (long long)lim);
    }
    src[i] = (cl_int)(base + j * xs[axis]);
    for (int d = r - 1; d >= 0; d--) { /* the odometer of the CPU backend */
      if (d != axis) base += xs[d];
      if (++pos[d] < idx->dims[d]) break;
      if (d != axis) base -= xs[d] * idx->dims[d];
      pos[d] = 0;
    }
  }
  clcnn_status st = ocl_upload(on, src, sizeof(cl_int) * (size_t)n, &s->src, err);
  free(src);
  if (st) return st;
  char opts[128] = "";
  ocl_opt(opts, sizeof opts, "-DT=%s", ocl_bits_type(dtype_size(x->t.dtype)));
  return ocl_kernel(on, "indexing.cl", "gather_elements_any", opts, &s->k, err);
}

static clcnn_status gather_elements_run(ocl_node *on, const ocl_tensor *in, int nin,
                                        const ocl_tensor *out, int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  gather_state *s = on->state;
  if (!s->n) return CLCNN_OK;
  cl_uint xo = ocl_elem_offset(&in[0]), yo = ocl_elem_offset(&out[0]);
  clcnn_status st = ocl_args(s->k, err, sizeof(cl_mem), &in[0].mem, sizeof(cl_uint), &xo,
                             sizeof(cl_mem), &s->src, sizeof(cl_mem), &out[0].mem,
                             sizeof(cl_uint), &yo, sizeof(cl_uint), &s->n, (size_t)0);
  if (st) return st;
  size_t global = s->n;
  return ocl_enqueue(on, s->k, 1, &global, NULL, err);
}

/* ----------------------------------------------------------------- table */

static const ocl_op gather_elements_ocl = {gather_elements_check, gather_elements_prepare,
                                           gather_elements_run, NULL, NULL};

const ocl_op *const ocl_ops_indexing[CLCNN_OP_COUNT] = {
    [CLCNN_OP_GATHER_ELEMENTS] = &gather_elements_ocl,
};
