/* OpenCL backend: the conv family (Conv, ConvTranspose), float32 (a Conv's
 * image, residual and output may be stored as half: ocl_storage_options), NCHW,
 * 1 to 3 spatial dims. Kernels in kernels/conv.cl; matrix products through
 * host/gemm_dispatch (clcnn's kernels or CLBlast). Per node, prepare picks:
 *
 *   depthwise  one input channel per group (1-D, 2-D): its own kernel.
 *   gemm       1x1, stride 1, no padding: the image is the matrix, one
 *              product batched over images and groups.
 *   direct     stride 1, 1-D or 2-D, on CPU devices: the input is copied
 *              into a zero-padded scratch image and an implicit-GEMM kernel
 *              with register tiles reads it (conv.cl explains the layout).
 *   im2col     everything else (strides, 3-D, GPUs): im2col of a band of
 *              output rows into scratch, then a product batched over groups.
 *   convt      ConvTranspose: a gather-form direct kernel over weights
 *              re-packed at prepare (they must be constant).
 *
 * CLCNN_CONV=direct or CLCNN_CONV=im2col in the environment forces one of
 * those two where it applies (tests, benchmarks). Bias and the fused
 * activation are applied in every kernel's (or product's) epilogue, and so
 * is a fused residual Add (a 4th input, runtime/passes.c: graph_fuse_residual)
 * on the gemm, direct and im2col paths, the ones a Conv with a residual
 * takes (the pass leaves depthwise convolutions alone). The scratch is the
 * session's (ocl_scratch_*), shared by all its nodes. */
#include <stdlib.h>
#include <string.h>

#include "../gemm_dispatch.h"
#include "../ocl.h"
#include "../../runtime/ops/conv.h"
#include "../kernel_options.h"

#define ELEMS_MAX ((int64_t)1 << 31)
/* Largest im2col band (floats); larger matrices are built band by band. */
#define IM2COL_BAND_FLOATS ((int64_t)1 << 23)

enum { PATH_DEPTHWISE, PATH_GEMM, PATH_DIRECT, PATH_IM2COL, PATH_CONVT };

typedef struct conv_state {
  int path;
  cl_kernel k;              /* direct, depthwise, convt, im2col */
  cl_kernel pad;            /* direct: the padded copy; gemm: a half image widened */
  size_t global[3], pad_global[3];
  ocl_gemm_plan plan;       /* gemm; im2col: a full band */
  ocl_gemm_plan plan_last;  /* im2col: the last band when it is shorter */
  ocl_epilogue epi;         /* direct, depthwise: the activation's run-time part */
  int64_t band, rows;       /* im2col: output rows (oz, oy) per band, in all */
  int64_t ow;               /* im2col: output width (columns per row) */
  bool im2col_rows;         /* im2col: one output row per work-item */
  int64_t in_image, out_image; /* elements of one image of X and Y */
  bool scratch;             /* holds the session's scratch */
  cl_mem wpacked;           /* convt: re-packed weights */
} conv_state;

/* Geometry with 3 spatial dims (leading dims of 1 for 1-D and 2-D). */
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

static int choose_path(const ocl_node *on, const ir_node *n) {
  const conv_params *p = n->params;
  if (n->op == CLCNN_OP_CONV_TRANSPOSE) return PATH_CONVT;
  if (p->depthwise && p->geom.nspatial <= 2) return PATH_DEPTHWISE;
  if (p->pointwise) return PATH_GEMM;
  bool stride1 = true;
  for (int i = 0; i < p->geom.nspatial; i++) stride1 &= p->geom.strides[i] == 1;
  bool direct_ok = stride1 && p->geom.nspatial <= 2;
  const ocl_conv_knob knob = ocl_node_knobs(on)->conv; /* CLCNN_CONV */
  if (knob == OCL_CONV_IM2COL) return PATH_IM2COL;
  if (direct_ok && knob == OCL_CONV_DIRECT) return PATH_DIRECT;
  return direct_ok && !ocl_gpu_variant(on) ? PATH_DIRECT : PATH_IM2COL;
}

/* ----------------------------------------------------------------- check */

static const char *conv_check(const ocl_device_info *dev, const ir_graph *g, const ir_node *n) {
  (void)dev;
  if (!ocl_activation_supported(n->act_op))
    return "the fused activation is not supported on OpenCL";
  const conv_params *cp = n->params;
  if (n->nin > 3 && ir_in(g, n, 3) &&
      (n->op != CLCNN_OP_CONV || (cp->depthwise && cp->geom.nspatial <= 2)))
    return "a residual fused into a depthwise convolution";
  for (int i = 0; i < n->nin; i++) {
    const ir_value *v = ir_in(g, n, i);
    if (v && shape_numel(v->t.rank, v->t.dims) >= ELEMS_MAX)
      return "a tensor of 2^31 elements or more";
  }
  const ir_value *y = ir_out(g, n, 0);
  if (shape_numel(y->t.rank, y->t.dims) >= ELEMS_MAX) return "a tensor of 2^31 elements or more";
  if (n->op == CLCNN_OP_CONV_TRANSPOSE) {
    const ir_value *w = ir_in(g, n, 1);
    if (!w->is_const || !w->t.data)
      return "ConvTranspose weights that are not constant are not supported on OpenCL";
  }
  return NULL;
}

/* --------------------------------------------------------------- prepare */

/* Bias, fused activation, and fma() where the device fuses it. Kernels that
 * take EPILOGUE_ARGS get the piecewise-linear activations in *epi (run
 * time); with epi NULL every activation is a -D option. */
static void add_epilogue(const ocl_node *on, bool bias, ocl_epilogue *epi, char *o, size_t len) {
  const ir_node *n = on->n;
  ocl_storage_options(on, -1, -1, 3, o, len); /* y and the residual; x where a kernel reads it */
  if (ocl_device_fast_fma(ocl_node_device(on))) ocl_opt(o, len, "-DFAST_FMA");
  if (bias) ocl_opt(o, len, "-DHAS_BIAS");
  if (epi)
    ocl_epilogue_split(n->act_op, n->act_params, epi, o, len);
  else
    ocl_activation_options(n->act_op, n->act_params, o, len);
}

/* Float scratch: the padded copy, the im2col matrix, a half image widened. */
static clcnn_status reserve(ocl_node *on, conv_state *s, size_t floats, clcnn_err *err) {
  clcnn_status st = ocl_scratch_reserve(on, floats * sizeof(float), err);
  if (st == CLCNN_OK) s->scratch = true;
  return st;
}

static clcnn_status prepare_depthwise(ocl_node *on, conv_state *s, const geom3 *g, bool bias,
                                      clcnn_err *err) {
  const conv_params *p = on->n->params;
  const bool gpu = ocl_gpu_variant(on);
  /* 8 lanes on CPUs whatever the width (4 for narrow rows wasted as many
   * lanes, and was a second program per window). */
  int vw = gpu ? 1 : !(g->s[2] > 2) ? 8 : 4;
  char o[2048] = "";
  ocl_opt(o, sizeof o, "-DKH=%lld -DKW=%lld -DSH=%lld -DSW=%lld -DDH=%lld -DDW=%lld",
          (long long)g->k[1], (long long)g->k[2], (long long)g->s[1], (long long)g->s[2],
          (long long)g->d[1], (long long)g->d[2]);
  /* CPUs: a whole output row per work-item; GPUs: one output. */
  const int64_t xch = gpu ? 1 : (g->out[2] + vw - 1) / vw;
  ocl_opt(o, sizeof o, "-DPT=%lld -DPL=%lld -DVW=%d", (long long)g->pb[1], (long long)g->pb[2],
          vw);
  if (ocl_half(on, 0)) ocl_opt(o, sizeof o, "-DX_HALF");
  add_epilogue(on, bias, &s->epi, o, sizeof o);
  s->global[0] = (size_t)((g->out[2] + vw * xch - 1) / (vw * xch));
  s->global[1] = (size_t)g->out[1];
  s->global[2] = (size_t)(p->batch * p->out_channels);
  /* The sizes are arguments: the depthwise layers of a network with one
   * window share a program (MobileNetV2 had 10). */
  const int64_t sizes[] = {p->in_channels, p->out_channels, p->group_out, g->in[1],
                           g->in[2],       g->out[1],       g->out[2],    xch};
  clcnn_status st = ocl_kernel(on, "conv.cl", "depthwise_f32", o, &s->k, err);
  return st ? st : ocl_size_args(s->k, 8, sizes, 8, err);
}

static void gemm_epilogue(const ocl_node *on, bool bias, ocl_gemm_desc *d, size_t group_out) {
  const ir_node *n = on->n;
  d->residual = n->nin > 3 && ir_in(on->g, n, 3) != NULL;
  d->c_half = ocl_half(on, -1);
  d->res_half = d->residual && ocl_half(on, 3);
  if (bias) {
    d->bias = true;
    d->bias_rs = 1;
    d->bias_cs = 0;
    d->sbias[1] = group_out;
  }
  d->act_op = n->act_op;
  d->act_params = n->act_params;
}

/* The padded copy kernel (conv_pad_f32): x into the float scratch, planes
 * of IH x IW with pads (pt, pl) to PH x PW; a row per work-item on CPUs. */
static clcnn_status prepare_pad(ocl_node *on, conv_state *s, int64_t images, int64_t ih,
                                int64_t iw, int64_t ph, int64_t pw, int64_t pt, int64_t pl,
                                clcnn_err *err) {
  const int pvw = ocl_gpu_variant(on) ? 1 : (int)pw;
  s->pad_global[0] = (size_t)((pw + pvw - 1) / pvw);
  s->pad_global[1] = (size_t)ph;
  s->pad_global[2] = (size_t)images;
  const int64_t pad_sizes[] = {ih, iw, ph, pw, pt, pl, pvw};
  clcnn_status st = ocl_kernel(on, "conv.cl", "conv_pad_f32", ocl_half(on, 0) ? "-DX_HALF" : "",
                               &s->pad, err);
  return st ? st : ocl_size_args(s->pad, 3, pad_sizes, 7, err);
}

static clcnn_status prepare_gemm(ocl_node *on, conv_state *s, bool bias, clcnn_err *err) {
  const conv_params *p = on->n->params;
  const size_t G = (size_t)p->group, Cg = (size_t)p->group_in, Mg = (size_t)p->group_out;
  const size_t hw = (size_t)p->geom.out_size;
  ocl_gemm_desc d;
  ocl_gemm_desc_init(&d, false, false, Mg, hw, Cg);
  d.ldb = hw;
  d.nb0 = (size_t)p->batch;
  d.nb1 = G;
  d.sb[0] = (size_t)p->in_channels * hw;
  d.sc[0] = (size_t)p->out_channels * hw;
  d.sa[1] = Mg * Cg;
  d.sb[1] = Cg * hw;
  d.sc[1] = Mg * hw;
  gemm_epilogue(on, bias, &d, Mg);
  /* A half image: read as it is by the GPU form (once per tile into local
   * memory); widened into the float scratch first on CPUs, whose register
   * tiles would convert each element once per tile of output channels. */
  if (ocl_half(on, 0) && ocl_gpu_variant(on)) d.b_half = true;
  if (ocl_half(on, 0) && !ocl_gpu_variant(on)) {
    const int64_t images = p->batch * p->in_channels;
    clcnn_status st = reserve(on, s, (size_t)(images * (int64_t)hw), err);
    if (st || (st = prepare_pad(on, s, images, 1, (int64_t)hw, 1, (int64_t)hw, 0, 0, err)))
      return st;
  }
  return ocl_gemm_prepare(on, &d, &s->plan, err);
}

static clcnn_status prepare_direct(ocl_node *on, conv_state *s, const geom3 *g, bool bias,
                                   clcnn_err *err) {
  const conv_params *p = on->n->params;
  const ocl_device_info *dev = ocl_node_device(on);
  const int64_t PH = g->in[1] + g->pb[1] + g->pe[1], PW = g->in[2] + g->pb[2] + g->pe[2];
  const int64_t plane = PH * PW, qn = g->out[1] * PW;
  const int64_t images = p->batch * p->in_channels;
  int tm = 1, tn = 8, vw = 8;
  ocl_gemm_cpu_tile(dev, (size_t)p->group_out, (size_t)qn, &tm, &tn, &vw);
  const int64_t floats = images * plane + tn + (g->k[2] - 1) * g->d[2];
  if (floats >= ELEMS_MAX)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "the padded input is too large (2^31 elements)");
  clcnn_status st = reserve(on, s, (size_t)floats, err);
  if (st || (st = prepare_pad(on, s, images, g->in[1], g->in[2], PH, PW, g->pb[1], g->pb[2], err)))
    return st;
  /* The convolution: the kernel's shape and the tile are options, the
   * sizes arguments (the layers of a network share a few programs). */
  char c[2048] = "";
  ocl_opt(c, sizeof c, "-DKH=%lld -DKW=%lld -DDY=%lld -DDX=%lld", (long long)g->k[1],
          (long long)g->k[2], (long long)g->d[1], (long long)g->d[2]);
  ocl_opt(c, sizeof c, "-DTM=%d -DTN=%d -DVW=%d", tm, tn, vw);
  add_epilogue(on, bias, &s->epi, c, sizeof c);
  s->global[0] = (size_t)((qn + tn - 1) / tn);
  s->global[1] = (size_t)((p->group_out + tm - 1) / tm);
  s->global[2] = (size_t)(p->batch * p->group);
  const int64_t sizes[] = {p->in_channels, p->group, p->group_in, p->group_out, PW, plane,
                           g->out[1], g->out[2], qn};
  if ((st = ocl_kernel(on, "conv.cl", "conv_direct_f32", c, &s->k, err))) return st;
  return ocl_size_args(s->k, 7, sizes, 9, err);
}

/* -D options of a 3-D kernel window: size, strides, dilations, leading pads. */
static void window_options(const geom3 *g, char *o, size_t len) {
  ocl_opt(o, len, "-DKD=%lld -DKH=%lld -DKW=%lld -DSD=%lld -DSH=%lld -DSW=%lld",
          (long long)g->k[0], (long long)g->k[1], (long long)g->k[2], (long long)g->s[0],
          (long long)g->s[1], (long long)g->s[2]);
  ocl_opt(o, len, "-DDD=%lld -DDH=%lld -DDW=%lld -DPD=%lld -DPT=%lld -DPL=%lld",
          (long long)g->d[0], (long long)g->d[1], (long long)g->d[2], (long long)g->pb[0],
          (long long)g->pb[1], (long long)g->pb[2]);
}

/* -D options of the whole 3-D geometry (ConvTranspose). */
static void geom_options(const geom3 *g, char *o, size_t len) {
  ocl_opt(o, len, "-DID=%lld -DIH=%lld -DIW=%lld -DOD=%lld -DOH=%lld -DOW=%lld",
          (long long)g->in[0], (long long)g->in[1], (long long)g->in[2], (long long)g->out[0],
          (long long)g->out[1], (long long)g->out[2]);
  window_options(g, o, len);
}

static clcnn_status im2col_plan(ocl_node *on, int64_t ncols, bool bias, ocl_gemm_plan *plan,
                                clcnn_err *err) {
  const conv_params *p = on->n->params;
  const size_t Mg = (size_t)p->group_out, K = (size_t)(p->group_in * p->geom.kernel_size);
  ocl_gemm_desc d;
  ocl_gemm_desc_init(&d, false, false, Mg, (size_t)ncols, K);
  d.ldc = (size_t)p->geom.out_size;
  d.nb1 = (size_t)p->group;
  d.sa[1] = Mg * K;
  d.sb[1] = K * (size_t)ncols;
  d.sc[1] = Mg * (size_t)p->geom.out_size;
  gemm_epilogue(on, bias, &d, Mg);
  return ocl_gemm_prepare(on, &d, plan, err);
}

static clcnn_status prepare_im2col(ocl_node *on, conv_state *s, const geom3 *g, bool bias,
                                   clcnn_err *err) {
  const conv_params *p = on->n->params;
  const int64_t ksz = p->geom.kernel_size, K = p->group_in * ksz;
  const int64_t rows = g->out[0] * g->out[1], ow = g->out[2];
  const int64_t per_row = p->in_channels * ksz * ow; /* every group's rows */
  int64_t band = per_row > 0 ? IM2COL_BAND_FLOATS / per_row : rows;
  if (band < 1) band = 1;
  if (band >= rows) {
    band = rows;
  } else {
    int64_t bands = (rows + band - 1) / band;
    band = (rows + bands - 1) / bands;
  }
  if (per_row * band >= ELEMS_MAX)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "the im2col matrix is too large");
  s->band = band;
  s->rows = rows;
  s->ow = ow;
  clcnn_status st = reserve(on, s, (size_t)(per_row * band), err);
  if (st) return st;
  if ((st = im2col_plan(on, band * ow, bias, &s->plan, err))) return st;
  int64_t last = rows - (rows - 1) / band * band;
  if (last != band && (st = im2col_plan(on, last * ow, bias, &s->plan_last, err))) return st;
  /* GPUs: one element per work-item; CPUs: one output row. */
  const bool gpu = ocl_gpu_variant(on);
  /* The GPU kernel's window is an option, the CPU kernel's arguments (its
   * work per work-item is a row, so it gains nothing from constants); the
   * sizes are arguments of both. */
  char o[2048] = "-DVW=1";
  if (ocl_half(on, 0)) ocl_opt(o, sizeof o, "-DX_HALF"); /* a float matrix from a half x */
  if (gpu) window_options(g, o, sizeof o);
  s->global[1] = (size_t)K;
  s->global[2] = (size_t)p->group;
  s->im2col_rows = !gpu;
  const int64_t sizes[] = {p->in_channels, p->group, p->group_in, g->in[0],  g->in[1],
                           g->in[2],       g->out[0], g->out[1],  g->out[2]};
  if ((st = ocl_kernel(on, "conv.cl", gpu ? "conv_im2col_f32" : "conv_im2col_rows_f32", o,
                       &s->k, err)) ||
      (st = ocl_size_args(s->k, 5, sizes, 9, err)))
    return st;
  if (gpu) return CLCNN_OK;
  const int64_t window[] = {g->k[0], g->k[1], g->k[2], g->s[0],  g->s[1],  g->s[2],
                            g->d[0], g->d[1], g->d[2], g->pb[0], g->pb[1], g->pb[2]};
  return ocl_size_args(s->k, 14, window, 12, err);
}

static clcnn_status prepare_convt(ocl_node *on, conv_state *s, const geom3 *g, bool bias,
                                  clcnn_err *err) {
  const conv_params *p = on->n->params;
  const ir_value *wv = ir_in(on->g, on->n, 1);
  const int64_t G = p->group, Cg = p->group_in, Mg = p->group_out, ksz = p->geom.kernel_size;
  const int vw = Mg >= 8 ? 8 : Mg >= 3 ? 4 : Mg == 2 ? 2 : 1;
  const int64_t mgp = (Mg + vw - 1) / vw * vw;
  const size_t count = (size_t)(G * ksz * Cg * mgp);
  float *wp = calloc(count ? count : 1, sizeof(float));
  if (!wp) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  const float *w = wv->t.data; /* [C_in][Mg][ksz] */
  for (int64_t gi = 0; gi < G; gi++)
    for (int64_t c = 0; c < Cg; c++)
      for (int64_t m = 0; m < Mg; m++)
        for (int64_t t = 0; t < ksz; t++)
          wp[((gi * ksz + t) * Cg + c) * mgp + m] = w[((gi * Cg + c) * Mg + m) * ksz + t];
  clcnn_status st = ocl_upload(on, wp, count * sizeof(float), &s->wpacked, err);
  free(wp);
  if (st) return st;
  char o[2048] = "";
  ocl_opt(o, sizeof o, "-DC=%lld -DG=%lld -DCG=%lld -DMG=%lld -DMGP=%lld -DVW=%d",
          (long long)p->in_channels, (long long)G, (long long)Cg, (long long)Mg,
          (long long)mgp, vw);
  geom_options(g, o, sizeof o);
  add_epilogue(on, bias, NULL, o, sizeof o);
  s->global[0] = (size_t)p->geom.out_size;
  s->global[1] = (size_t)(mgp / vw);
  s->global[2] = (size_t)(p->batch * G);
  return ocl_kernel(on, "conv.cl", "convt_f32", o, &s->k, err);
}

static clcnn_status conv_prepare(ocl_node *on, clcnn_err *err) {
  const ir_node *n = on->n;
  const conv_params *p = n->params;
  conv_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  on->state = s;
  geom3 g;
  geom3_from(&p->geom, &g);
  const bool bias = ir_in(on->g, n, 2) != NULL;
  s->in_image = p->in_channels * p->geom.in_size;
  s->out_image = p->out_channels * p->geom.out_size;
  s->path = choose_path(on, n);
  switch (s->path) {
    case PATH_DEPTHWISE: return prepare_depthwise(on, s, &g, bias, err);
    case PATH_GEMM: return prepare_gemm(on, s, bias, err);
    case PATH_DIRECT: return prepare_direct(on, s, &g, bias, err);
    case PATH_IM2COL: return prepare_im2col(on, s, &g, bias, err);
    default: return prepare_convt(on, s, &g, bias, err);
  }
}

static void conv_release(ocl_node *on) {
  conv_state *s = on->state;
  if (s && s->scratch) ocl_scratch_release(on);
  free(s);
  on->state = NULL;
}

/* ------------------------------------------------------------------- run */

static clcnn_status conv_run(ocl_node *on, const ocl_tensor *in, int nin, const ocl_tensor *out,
                             int nout, clcnn_err *err) {
  (void)nout;
  conv_state *s = on->state;
  const bool has_bias = nin > 2 && in[2].mem;
  cl_mem x = in[0].mem, w = in[1].mem, y = out[0].mem, b = has_bias ? in[2].mem : in[1].mem;
  cl_mem res = nin > 3 ? in[3].mem : NULL; /* a fused residual Add */
  const size_t ro = res ? ocl_elem_offset(&in[3]) : 0;
  cl_uint xo = ocl_elem_offset(&in[0]), wo = ocl_elem_offset(&in[1]), yo = ocl_elem_offset(&out[0]);
  cl_uint bo = has_bias ? ocl_elem_offset(&in[2]) : 0;
  clcnn_status st;
  switch (s->path) {
    case PATH_DEPTHWISE:
      if ((st = ocl_args(s->k, err, sizeof x, &x, sizeof xo, &xo, sizeof w, &w, sizeof wo, &wo,
                         sizeof b, &b, sizeof bo, &bo, sizeof y, &y, sizeof yo, &yo, (size_t)0)) ||
          (st = ocl_epilogue_args(s->k, 16, &s->epi, NULL, 0, y, err)))
        return st;
      return ocl_enqueue(on, s->k, 3, s->global, ocl_cpu_local(on), err);
    case PATH_GEMM:
      if (s->pad) { /* a half image widened into the scratch first */
        cl_mem xf = ocl_scratch_get(on);
        if (!xf) return err_set(err, CLCNN_ERROR_INTERNAL, "the session's scratch is gone");
        if ((st = ocl_args(s->pad, err, sizeof x, &x, sizeof xo, &xo, sizeof xf, &xf, (size_t)0)) ||
            (st = ocl_enqueue(on, s->pad, 3, s->pad_global, ocl_cpu_local(on), err)))
          return st;
        x = xf;
        xo = 0;
      }
      return ocl_gemm(on, &s->plan, w, wo, x, xo, y, yo, has_bias ? b : NULL, bo, res, ro, err);
    case PATH_DIRECT: {
      cl_mem xp = ocl_scratch_get(on);
      if (!xp) return err_set(err, CLCNN_ERROR_INTERNAL, "the session's scratch is gone");
      if ((st = ocl_args(s->pad, err, sizeof x, &x, sizeof xo, &xo, sizeof xp, &xp, (size_t)0)) ||
          (st = ocl_enqueue(on, s->pad, 3, s->pad_global, ocl_cpu_local(on), err)))
        return st;
      if ((st = ocl_args(s->k, err, sizeof xp, &xp, sizeof w, &w, sizeof wo, &wo, sizeof b, &b,
                         sizeof bo, &bo, sizeof y, &y, sizeof yo, &yo, (size_t)0)) ||
          (st = ocl_epilogue_args(s->k, 16, &s->epi, res, ro, y, err)))
        return st;
      return ocl_enqueue(on, s->k, 3, s->global, ocl_cpu_local(on), err);
    }
    case PATH_IM2COL: {
      cl_mem col = ocl_scratch_get(on);
      if (!col) return err_set(err, CLCNN_ERROR_INTERNAL, "the session's scratch is gone");
      const conv_params *p = on->n->params;
      for (int64_t img = 0; img < p->batch; img++) {
        cl_uint xi = xo + (cl_uint)(img * s->in_image);
        for (int64_t r0 = 0; r0 < s->rows; r0 += s->band) {
          const int64_t nr = s->rows - r0 < s->band ? s->rows - r0 : s->band;
          const ocl_gemm_plan *plan = nr == s->band ? &s->plan : &s->plan_last;
          cl_uint r0u = (cl_uint)r0, ncols = (cl_uint)(nr * s->ow);
          size_t global[3] = {s->im2col_rows ? (size_t)nr : (size_t)ncols, s->global[1],
                              s->global[2]};
          if ((st = ocl_args(s->k, err, sizeof x, &x, sizeof xi, &xi, sizeof col, &col,
                             sizeof r0u, &r0u, sizeof ncols, &ncols, (size_t)0)) ||
              (st = ocl_enqueue(on, s->k, 3, global, ocl_cpu_local(on), err)))
            return st;
          const size_t at = (size_t)(img * s->out_image + r0 * s->ow);
          if ((st = ocl_gemm(on, plan, w, wo, col, 0, y, yo + at, has_bias ? b : NULL, bo, res,
                             ro + at, err)))
            return st;
        }
      }
      return CLCNN_OK;
    }
    default:
      if ((st = ocl_args(s->k, err, sizeof x, &x, sizeof xo, &xo, sizeof s->wpacked, &s->wpacked,
                         sizeof b, &b, sizeof bo, &bo, sizeof y, &y, sizeof yo, &yo, (size_t)0)))
        return st;
      return ocl_enqueue(on, s->k, 3, s->global, ocl_cpu_local(on), err);
  }
}

/* Half storage: the image, the residual and the output of a Conv (not
 * ConvTranspose, whose kernel is float32 only). */
static int conv_half(const ir_graph *g, const ir_node *n, int input) {
  (void)g;
  return n->op == CLCNN_OP_CONV && (input == -1 || input == 0 || input == 3);
}

static const ocl_op conv_ocl = {conv_check, conv_prepare, conv_run, conv_release, conv_half};

const ocl_op *const ocl_ops_conv[CLCNN_OP_COUNT] = {
    [CLCNN_OP_CONV] = &conv_ocl,
    [CLCNN_OP_CONV_TRANSPOSE] = &conv_ocl,
};
