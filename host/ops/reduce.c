/* OpenCL backend: the reduce family (ReduceMean, ReduceSum, ReduceMax) on
 * float32, over the front half's merged view (runtime/ops/reduce.h): when
 * the innermost dim is reduced, each output sums contiguous runs (one
 * work-item, or on GPUs one work-group, per output); when it is kept, a
 * work-item takes a vector of adjacent outputs and walks the reduced dims.
 * Empty axes with noop_with_empty_axes are a copy (a sum over nothing). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ocl.h"
#include "../../runtime/ops/reduce.h"
#include "../kernel_options.h"

#define MAX_ELEMS ((int64_t)1 << 31)

typedef struct reduce_state {
  cl_kernel k;
  cl_uint dims;
  size_t global[2], local;
} reduce_state;

static const char *reduce_check(const ocl_device_info *dev, const ir_graph *g,
                                const ir_node *n) {
  (void)dev;
  const ir_value *x = ir_in(g, n, 0);
  if (x->t.dtype != CLCNN_DTYPE_FLOAT32) return "only float32 is supported on OpenCL";
  if (shape_numel(x->t.rank, x->t.dims) >= MAX_ELEMS) return "tensor too large (2^31 elements)";
  if (n->act_op >= 0) return "a fused activation on a reduce node is not supported";
  return NULL;
}

static void opt_list(char *buf, size_t len, const char *name, const int64_t *v, int n) {
  char list[CLCNN_MAX_RANK * 24] = "";
  for (int i = 0; i < n; i++) {
    size_t l = strlen(list);
    snprintf(list + l, sizeof list - l, "%s%lldu", i ? "," : "", (long long)v[i]);
  }
  ocl_opt(buf, len, "-D%s=%s", name, list);
}

static clcnn_status reduce_prepare(ocl_node *on, clcnn_err *err) {
  const ir_node *n = on->n;
  const reduce_params *p = n->params;
  const ocl_device_info *dev = ocl_node_device(on);
  const bool gpu = ocl_gpu_variant(on);
  reduce_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  on->state = s;
  const ir_value *y = ir_out(on->g, n, 0);
  if (shape_numel(y->t.rank, y->t.dims) == 0) return CLCNN_OK;

  /* Split the view into kept and reduced dims (with input strides); the
   * innermost dim is handled apart. */
  const int r = p->rank;
  int64_t stride[CLCNN_MAX_RANK], kd[CLCNN_MAX_RANK], ks[CLCNN_MAX_RANK], rd[CLCNN_MAX_RANK],
      rs[CLCNN_MAX_RANK];
  int nk = 0, nr = 0;
  int64_t st = 1;
  for (int d = r - 1; d >= 0; d--) {
    stride[d] = st;
    st *= p->dims[d];
  }
  for (int d = 0; d < r - 1; d++) {
    if (p->reduced[d]) {
      rd[nr] = p->dims[d];
      rs[nr++] = stride[d];
    } else {
      kd[nk] = p->dims[d];
      ks[nk++] = stride[d];
    }
  }
  const bool last_reduced = p->reduced[r - 1] != 0;
  const int64_t last = p->dims[r - 1];
  int64_t nout = 1, rcount = 1;
  for (int i = 0; i < nk; i++) nout *= kd[i];
  for (int i = 0; i < nr; i++) rcount *= rd[i];

  const int vw = gpu ? 4 : 8;
  int lws = 1;
  if (last_reduced && gpu) {
    size_t maxw = dev->max_work_group_size ? dev->max_work_group_size : 64;
    while (lws < 256 && (size_t)lws * 2 <= maxw && (int64_t)lws * 4 < last) lws *= 2;
  }
  const char *op = p->noop || p->mask == 0          ? "OP_SUM"
                   : n->op == CLCNN_OP_REDUCEMAX    ? "OP_MAX"
                   : n->op == CLCNN_OP_REDUCEMEAN   ? "OP_MEAN"
                                                    : "OP_SUM";
  char opts[1024] = "";
  ocl_opt(opts, sizeof opts, "-D%s -DCOUNT=%lld", op, (long long)p->count);
  ocl_opt(opts, sizeof opts, "-DNK=%d -DNR=%d", nk, nr);
  if (nk) {
    opt_list(opts, sizeof opts, "KDIMS", kd, nk);
    opt_list(opts, sizeof opts, "KSTRIDES", ks, nk);
  }
  if (nr) {
    opt_list(opts, sizeof opts, "RDIMS", rd, nr);
    opt_list(opts, sizeof opts, "RSTRIDES", rs, nr);
  }
  ocl_opt(opts, sizeof opts, "-DRCOUNT=%lldu -DLAST=%lldu -DNOUT=%lldu", (long long)rcount,
          (long long)last, (long long)nout);
  ocl_opt(opts, sizeof opts, "-DVW=%d -DLWS=%d", vw, lws);
  if (last_reduced) {
    s->dims = 1;
    s->global[0] = (size_t)nout * (size_t)lws;
    s->local = (size_t)lws;
  } else {
    s->dims = 2;
    s->global[0] = (size_t)((last + vw - 1) / vw);
    s->global[1] = (size_t)nout;
  }
  return ocl_kernel(on, "reduce.cl", last_reduced ? "reduce_last_f32" : "reduce_kept_f32", opts,
                    &s->k, err);
}

static clcnn_status reduce_run(ocl_node *on, const ocl_tensor *in, int nin, const ocl_tensor *out,
                               int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  const reduce_state *s = on->state;
  if (!s->k) return CLCNN_OK;
  cl_uint xo = ocl_elem_offset(&in[0]), yo = ocl_elem_offset(&out[0]);
  clcnn_status st = ocl_args(s->k, err, sizeof(cl_mem), &in[0].mem, sizeof xo, &xo,
                             sizeof(cl_mem), &out[0].mem, sizeof yo, &yo, (size_t)0);
  if (st) return st;
  size_t local = s->local;
  return ocl_enqueue(on, s->k, s->dims, s->global, local > 1 ? &local : NULL, err);
}

static const ocl_op reduce_ocl = {reduce_check, reduce_prepare, reduce_run, NULL, NULL};

const ocl_op *const ocl_ops_reduce[CLCNN_OP_COUNT] = {
    [CLCNN_OP_REDUCEMEAN] = &reduce_ocl,
    [CLCNN_OP_REDUCEMAX] = &reduce_ocl,
    [CLCNN_OP_REDUCESUM] = &reduce_ocl,
};
