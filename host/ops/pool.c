/* OpenCL backend: the pool family (MaxPool, AveragePool, LpPool,
 * GlobalAveragePool, GlobalMaxPool), float32, NCHW, 1 to 3 spatial dims.
 * Kernels in kernels/pool.cl. Window pools compute a whole output row per
 * work-item in vectors on CPU devices, one output per work-item on GPUs;
 * MaxPool with its Indices output takes a kernel of one output per
 * work-item. Global pools reduce one plane per work-item (CPU) or per
 * work-group (GPU). int8/uint8 MaxPool runs on the CPU. */
#include <stdlib.h>
#include <string.h>

#include "../gemm_dispatch.h"
#include "../ocl.h"
#include "../../runtime/ops/pool.h"
#include "../kernel_options.h"

#define ELEMS_MAX ((int64_t)1 << 31)

typedef struct pool_state {
  cl_kernel k;
  size_t global[3], local[3];
  bool has_local;
  bool indices;
  int64_t sizes[7]; /* pool_f32: ID IH IW OD OH OW XCH; global_pool_f32: SIZE PLANES */
  int nsizes;
} pool_state;

typedef struct geom3 {
  int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
} geom3;

static void geom3_from(const window_geom *g, geom3 *o) {
  int off = 3 - g->nspatial;
  for (int i = 0; i < 3; i++) {
    int j = i - off;
    bool real = j >= 0;
    o->in[i] = real ? g->in[j] : 1;
    o->out[i] = real ? g->out[j] : 1;
    o->k[i] = real ? g->kernel[j] : 1;
    o->s[i] = real ? g->strides[j] : 1;
    o->d[i] = real ? g->dilations[j] : 1;
    o->pb[i] = real ? g->pads_begin[j] : 0;
    o->pe[i] = real ? g->pads_end[j] : 0;
  }
}

static const char *pool_check(const ocl_device_info *dev, const ir_graph *g, const ir_node *n) {
  (void)dev;
  const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
  if (x->t.dtype != CLCNN_DTYPE_FLOAT32)
    return "int8 and uint8 pooling is not supported on OpenCL";
  if (shape_numel(x->t.rank, x->t.dims) >= ELEMS_MAX ||
      shape_numel(y->t.rank, y->t.dims) >= ELEMS_MAX)
    return "a tensor of 2^31 elements or more";
  return NULL;
}

static clcnn_status pool_prepare(ocl_node *on, clcnn_err *err) {
  const pool_params *p = on->n->params;
  pool_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  on->state = s;
  const bool gpu = ocl_gpu_variant(on);
  const int64_t planes = p->batch * p->channels;
  char o[2048] = "";
  if (!p->indices) ocl_storage_options(on, 0, -1, -1, o, sizeof o);
  if (p->global) {
    ocl_opt(o, sizeof o, "-DKIND=%d", p->kind == POOL_MAX ? 0 : 1);
    s->sizes[0] = p->geom.in_size;
    s->sizes[1] = planes;
    s->nsizes = 2;
    if (gpu) {
      const size_t local = 64;
      ocl_opt(o, sizeof o, "-DLOCAL=%zu", local);
      s->global[0] = (size_t)planes * local;
      s->local[0] = local;
      s->local[1] = s->local[2] = 1;
      s->has_local = true;
    } else {
      s->global[0] = (size_t)planes;
    }
    s->global[1] = s->global[2] = 1;
    return ocl_kernel(on, "pool.cl", "global_pool_f32", o, &s->k, err);
  }
  geom3 g;
  geom3_from(&p->geom, &g);
  /* The spatial dims: -D options of the Indices kernel, arguments of
   * pool_f32 (the pools of a network with one window share its program). */
  char dims[256] = "";
  ocl_opt(dims, sizeof dims, "-DID=%lld -DIH=%lld -DIW=%lld -DOD=%lld -DOH=%lld -DOW=%lld",
          (long long)g.in[0], (long long)g.in[1], (long long)g.in[2], (long long)g.out[0],
          (long long)g.out[1], (long long)g.out[2]);
  ocl_opt(o, sizeof o, "-DKD=%lld -DKH=%lld -DKW=%lld -DSD=%lld -DSH=%lld -DSW=%lld",
          (long long)g.k[0], (long long)g.k[1], (long long)g.k[2], (long long)g.s[0],
          (long long)g.s[1], (long long)g.s[2]);
  ocl_opt(o, sizeof o, "-DDD=%lld -DDH=%lld -DDW=%lld -DPD=%lld -DPT=%lld -DPL=%lld",
          (long long)g.d[0], (long long)g.d[1], (long long)g.d[2], (long long)g.pb[0],
          (long long)g.pb[1], (long long)g.pb[2]);
  if (p->indices) {
    s->indices = true;
    ocl_opt(o, sizeof o, "%s -DSTORAGE_ORDER=%d", dims, p->storage_order ? 1 : 0);
    s->global[0] = (size_t)p->geom.out_size;
    s->global[1] = (size_t)planes;
    s->global[2] = 1;
    return ocl_kernel(on, "pool.cl", "maxpool_idx_f32", o, &s->k, err);
  }
  /* CPUs: a whole output row per work-item, in vectors of 8 whatever the
   * width (one program per window); GPUs: one output. */
  const int vw = gpu ? 1 : 8;
  const int64_t xch = gpu ? 1 : (g.out[2] + vw - 1) / vw;
  ocl_opt(o, sizeof o, "-DKIND=%d -DP=%lld -DCOUNT_PAD=%d -DVW=%d", p->kind, (long long)p->p,
          p->count_include_pad ? 1 : 0, vw);
  const int64_t sizes[7] = {g.in[0], g.in[1], g.in[2], g.out[0], g.out[1], g.out[2], xch};
  memcpy(s->sizes, sizes, sizeof sizes);
  s->nsizes = 7;
  ocl_opt(o, sizeof o, "-DED=%lld -DEH=%lld -DEW=%lld", (long long)g.pe[0], (long long)g.pe[1],
          (long long)g.pe[2]);
  s->global[0] = (size_t)((g.out[2] + vw * xch - 1) / (vw * xch));
  s->global[1] = (size_t)(g.out[0] * g.out[1]);
  s->global[2] = (size_t)planes;
  return ocl_kernel(on, "pool.cl", "pool_f32", o, &s->k, err);
}

static clcnn_status pool_run(ocl_node *on, const ocl_tensor *in, int nin, const ocl_tensor *out,
                             int nout, clcnn_err *err) {
  (void)nin;
  pool_state *s = on->state;
  cl_uint xo = ocl_elem_offset(&in[0]), yo = ocl_elem_offset(&out[0]);
  clcnn_status st;
  if (s->indices && nout > 1 && out[1].mem) {
    cl_uint io = ocl_elem_offset(&out[1]);
    st = ocl_args(s->k, err, sizeof(cl_mem), &in[0].mem, sizeof xo, &xo, sizeof(cl_mem),
                  &out[0].mem, sizeof yo, &yo, sizeof(cl_mem), &out[1].mem, sizeof io, &io,
                  (size_t)0);
  } else {
    st = ocl_args(s->k, err, sizeof(cl_mem), &in[0].mem, sizeof xo, &xo, sizeof(cl_mem),
                  &out[0].mem, sizeof yo, &yo, (size_t)0);
  }
  if (!st && s->nsizes) st = ocl_size_args(s->k, 4, s->sizes, s->nsizes, err);
  if (st) return st;
  return ocl_enqueue(on, s->k, 3, s->global, s->has_local ? s->local : ocl_cpu_local(on), err);
}

/* Half storage: input and output of the pools without Indices. */
static int pool_half(const ir_graph *g, const ir_node *n, int input) {
  (void)g;
  const pool_params *p = n->params;
  return p && !p->indices && (input == -1 || input == 0);
}

static const ocl_op pool_ocl = {pool_check, pool_prepare, pool_run, NULL, pool_half};

const ocl_op *const ocl_ops_pool[CLCNN_OP_COUNT] = {
    [CLCNN_OP_MAXPOOL] = &pool_ocl,
    [CLCNN_OP_AVERAGEPOOL] = &pool_ocl,
    [CLCNN_OP_LPPOOL] = &pool_ocl,
    [CLCNN_OP_GLOBALAVERAGEPOOL] = &pool_ocl,
    [CLCNN_OP_GLOBALMAXPOOL] = &pool_ocl,
};
