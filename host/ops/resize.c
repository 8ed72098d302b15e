/* OpenCL backend: the resize family (Resize, Upsample, GridSample). Kernels
 * in kernels/resize.cl (GridSample: with 2 or 3 spatial dims, every mode).
 *
 * Nearest mode runs on the device for every element type, every rank and
 * every nearest_mode and coordinate_transformation_mode. Linear and cubic
 * modes (antialias and exclude_outside included) run on the device when
 * only the last two axes are resized, the usual case of images; resizing
 * other axes (volumes, channels) runs on the CPU backend.
 *
 * prepare() builds, in double precision, the same per-axis tables as the
 * CPU backend (runtime/cpu/resize.c, build_axis): for each output
 * coordinate the input indices (clamped to the edge) and the weights, so
 * that both backends read the same pixels with the same weights. The
 * kernel then reproduces the CPU's separable passes in the same order. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../ocl.h"
#include "../../runtime/ops/resize.h"
#include "../../runtime/ops/shape.h"
#include "../kernel_options.h"

#define MAX_TAPS 64 /* taps per axis the interpolation kernel unrolls */

/* ------------------------------------------------------------- tables */

/* One axis: taps input indices and weights per output coordinate, and the
 * tf_crop_and_resize flags. */
typedef struct axis_tab {
  int64_t in, out;
  int taps;
  int32_t *idx;    /* [out * taps]; nearest: -1 = extrapolate */
  float *w;        /* [out * taps] (linear, cubic) */
  int32_t *ext;    /* [out] (tf_crop_and_resize) */
} axis_tab;

static void axis_free(axis_tab *t) {
  free(t->idx);
  free(t->w);
  free(t->ext);
  memset(t, 0, sizeof *t);
}

static double cubic_kernel(double x, double A) {
  x = fabs(x);
  if (x <= 1.0) return ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
  if (x < 2.0) return ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A;
  return 0.0;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Taps per output coordinate of axis a and the first tap's offset, as the
 * CPU backend sizes its filters; false when the filter is too wide. */
static bool axis_taps(const resize_params *p, int a, int64_t out, int *taps, int *first) {
  *first = 0;
  if (p->mode == RESIZE_NEAREST) {
    *taps = 1;
    return true;
  }
  double scale = p->scale[a];
  double aa = p->antialias && scale < 1.0 ? scale : 1.0;
  double support = p->mode == RESIZE_CUBIC ? 2.0 : 1.0;
  double f = floor(-support / aa) + 1.0;
  if (!(f > -(double)(1 << 20)) || (double)out * (2.0 - 2.0 * f) > (double)((int64_t)1 << 32))
    return false;
  *first = (int)f;
  *taps = 2 - 2 * *first;
  return true;
}

/* The table of axis a: the arithmetic of runtime/cpu/resize.c build_axis(),
 * line for line, so that both backends choose the same inputs and weights. */
static clcnn_status build_axis(const resize_params *p, int a, int64_t in, int64_t out,
                               axis_tab *t, clcnn_err *err) {
  t->in = in;
  t->out = out;
  bool nearest = p->mode == RESIZE_NEAREST;
  double scale = p->scale[a];
  double aa = p->antialias && scale < 1.0 ? scale : 1.0;
  int first;
  if (!axis_taps(p, a, out, &t->taps, &first))
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "the antialiasing filter for scale %g is too wide",
                   scale);
  size_t n = (size_t)(out > 0 ? out : 1) * (size_t)t->taps;
  t->idx = malloc(n * sizeof(int32_t));
  if (!nearest) t->w = malloc(n * sizeof(float));
  if (p->coord == RESIZE_TF_CROP_AND_RESIZE)
    t->ext = calloc((size_t)(out > 0 ? out : 1), sizeof(int32_t));
  double *wd = nearest ? NULL : malloc((size_t)t->taps * sizeof(double));
  if (!t->idx || (!nearest && (!t->w || !wd)) ||
      (p->coord == RESIZE_TF_CROP_AND_RESIZE && !t->ext)) {
    free(wd);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory for the resize tables");
  }
  for (int64_t x = 0; x < out; x++) {
    int32_t *ix = t->idx + x * t->taps;
    if (p->identity[a]) {
      for (int k = 0; k < t->taps; k++) ix[k] = (int32_t)x;
      if (!nearest) {
        for (int k = 0; k < t->taps; k++) t->w[x * t->taps + k] = 0.0f;
        t->w[x * t->taps] = 1.0f;
      }
      continue;
    }
    double xo = resize_coord(p->coord, (double)x, scale, in, out, p->roi_start[a], p->roi_end[a]);
    if (xo != xo) xo = 0.0;
    bool ext = p->coord == RESIZE_TF_CROP_AND_RESIZE && (xo < 0.0 || xo > (double)(in - 1));
    if (t->ext) t->ext[x] = ext;
    if (nearest) {
      double fl = floor(xo), frac = xo - fl, v;
      if (frac == 0.0) v = xo;
      else if (p->nearest == RESIZE_ROUND_PREFER_FLOOR) v = frac <= 0.5 ? fl : fl + 1.0;
      else if (p->nearest == RESIZE_ROUND_PREFER_CEIL) v = frac < 0.5 ? fl : fl + 1.0;
      else if (p->nearest == RESIZE_FLOOR || (p->nearest == RESIZE_LEGACY && scale >= 1.0)) v = fl;
      else v = fl + 1.0;
      v = v < 0.0 ? 0.0 : v > (double)(in - 1) ? (double)(in - 1) : v;
      ix[0] = ext ? -1 : (int32_t)v;
      continue;
    }
    double base = ceil(xo) - 1.0, ratio = xo - base;
    if (!(base > -1e15 && base < 1e15)) base = 0.0, ratio = 1.0;
    double sum = 0.0;
    for (int k = 0; k < t->taps; k++) {
      int i = first + k;
      double arg = ((double)i - ratio) * aa;
      double w = p->mode == RESIZE_CUBIC ? cubic_kernel(arg, p->cubic_a)
                                         : (fabs(arg) < 1.0 ? 1.0 - fabs(arg) : 0.0);
      int64_t src = (int64_t)base + i;
      if (p->exclude_outside && (src < 0 || src >= in)) w = 0.0;
      wd[k] = w;
      sum += w;
      ix[k] = (int32_t)clamp64(src, 0, in - 1);
    }
    bool norm = p->antialias || p->exclude_outside;
    for (int k = 0; k < t->taps; k++)
      t->w[x * t->taps + k] = (float)(norm && sum != 0.0 ? wd[k] / sum : wd[k]);
  }
  free(wd);
  return CLCNN_OK;
}

/* ------------------------------------------------------------- helpers */

static const char *bits_type(size_t es) {
  switch (es) {
    case 1: return "uchar";
    case 2: return "ushort";
    case 4: return "uint";
    case 8: return "ulong";
    default: return NULL;
  }
}

static size_t ceil_div(int64_t a, int64_t b) { return (size_t)((a + b - 1) / b); }

typedef struct resize_state {
  cl_kernel k;
  bool interp;       /* linear/cubic kernel (else nearest) */
  bool empty;
  cl_mem itab, wtab; /* tables (nearest: itab only; may be a dummy) */
  size_t global[3];
} resize_state;

/* Appends an int array to a growing buffer; returns its offset or -1. */
static int64_t append_ints(int32_t **buf, int64_t *len, const int32_t *v, int64_t n) {
  int32_t *b = realloc(*buf, sizeof(int32_t) * (size_t)(*len + n + 1));
  if (!b) return -1;
  *buf = b;
  if (n) memcpy(b + *len, v, sizeof(int32_t) * (size_t)n);
  int64_t at = *len;
  *len += n;
  return at;
}

static int64_t append_floats(float **buf, int64_t *len, const float *v, int64_t n) {
  float *b = realloc(*buf, sizeof(float) * (size_t)(*len + n + 1));
  if (!b) return -1;
  *buf = b;
  if (n) memcpy(b + *len, v, sizeof(float) * (size_t)n);
  int64_t at = *len;
  *len += n;
  return at;
}

/* ------------------------------------------------------------- check */

static const char *resize_check(const ocl_device_info *dev, const ir_graph *g, const ir_node *n) {
  (void)dev;
  const resize_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
  if (!x || !y) return "the data input or output is missing";
  if (!bits_type(dtype_size(x->t.dtype))) return "this data type is not supported on OpenCL";
  if (shape_numel(x->t.rank, x->t.dims) >= INT_MAX || shape_numel(y->t.rank, y->t.dims) >= INT_MAX)
    return "tensors of 2^31 elements or more are not supported on OpenCL";
  if (p->mode == RESIZE_NEAREST) return NULL;
  if (x->t.dtype != CLCNN_DTYPE_FLOAT32) return "interpolation of this type is not supported";
  int r = x->t.rank;
  for (int a = 0; a < r - 2; a++)
    if (!p->identity[a])
      return "linear and cubic Resize run on OpenCL only over the last two axes";
  for (int a = r - 2 < 0 ? 0 : r - 2; a < r; a++) {
    int taps, first;
    if (!p->identity[a] && (!axis_taps(p, a, y->t.dims[a], &taps, &first) || taps > MAX_TAPS))
      return "this antialiasing filter is too wide for OpenCL";
  }
  return NULL;
}

/* ------------------------------------------------------------- nearest */

/* Nearest (and any resize that changes nothing): a table gather. */
static clcnn_status prepare_nearest(ocl_node *on, resize_state *s, clcnn_err *err) {
  const resize_params *p = on->n->params;
  const ir_value *x = ir_in(on->g, on->n, 0), *y = ir_out(on->g, on->n, 0);
  size_t es = dtype_size(x->t.dtype);
  int r = x->t.rank;
  /* Axes outermost first: output size, input stride, table offset or -1.
   * Neighbouring axes that are not resized merge. */
  int64_t od[CLCNN_MAX_RANK + 1], sx[CLCNN_MAX_RANK + 1], toff[CLCNN_MAX_RANK + 1];
  int64_t xs[CLCNN_MAX_RANK], stride = 1;
  for (int a = r - 1; a >= 0; a--) {
    xs[a] = stride;
    stride *= x->t.dims[a];
  }
  int32_t *tab = NULL;
  int64_t tlen = 0;
  int k = 0;
  clcnn_status st = CLCNN_OK;
  for (int a = 0; a < r; a++) {
    bool id = p->identity[a] || p->mode != RESIZE_NEAREST; /* interp: all-identity copy */
    if (id && y->t.dims[a] == 1) continue;
    if (id && k > 0 && toff[k - 1] < 0) {
      od[k - 1] *= y->t.dims[a];
      sx[k - 1] = xs[a];
      continue;
    }
    od[k] = y->t.dims[a];
    sx[k] = xs[a];
    toff[k] = -1;
    if (!id) {
      axis_tab t = {0};
      st = build_axis(p, a, x->t.dims[a], y->t.dims[a], &t, err);
      if (!st && (toff[k] = append_ints(&tab, &tlen, t.idx, t.out)) < 0)
        st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      axis_free(&t);
      if (st) break;
    }
    k++;
  }
  if (st) {
    free(tab);
    return st;
  }
  if (k == 0) {
    od[0] = 1;
    sx[0] = 1;
    toff[0] = -1;
    k = 1;
  }
  if (k > 8) {
    free(tab);
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "too many resized axes");
  }
  /* A buffer even without tables: the kernel takes one. */
  st = ocl_upload(on, tab ? (const void *)tab : (const void *)&tlen,
                  tab ? sizeof(int32_t) * (size_t)(tlen ? tlen : 1) : sizeof tlen, &s->itab, err);
  free(tab);
  if (st) return st;
  int vw = ocl_gpu_variant(on) ? 16 / (int)es : 64 / (int)es;
  vw = vw < 2 ? 2 : vw > 16 ? 16 : vw;
  char opts[2048] = "";
  int64_t outer = 1;
  for (int j = 0; j < k - 1; j++) outer *= od[j];
  uint8_t ev[8];
  uint64_t bits = 0;
  shape_scalar_store(x->t.dtype, p->extrapolation_value, ev);
  memcpy(&bits, ev, es); /* little-endian hosts and devices */
  ocl_opt(opts, sizeof opts, "-DT=%s -DVW=%d -DEXTV=0x%llx%s",
          bits_type(es), vw, (unsigned long long)bits, es == 8 ? "UL" : "u");
  ocl_opt(opts, sizeof opts, "-DDI=%lld -DOUTER=%lld", (long long)od[k - 1], (long long)outer);
  if (toff[k - 1] < 0) ocl_opt(opts, sizeof opts, "-DID_I");
  else ocl_opt(opts, sizeof opts, "-DOI=%lld", (long long)toff[k - 1]);
  for (int j = k - 2, slot = 1; j >= 0; j--, slot++) {
    ocl_opt(opts, sizeof opts, "-DD%d=%lld -DS%d=%lld", slot, (long long)od[j], slot,
            (long long)sx[j]);
    if (toff[j] >= 0)
      ocl_opt(opts, sizeof opts, "-DTAB%d=1 -DO%d=%lld", slot, slot, (long long)toff[j]);
  }
  s->global[0] = ceil_div(od[k - 1], vw);
  s->global[1] = (size_t)outer;
  s->global[2] = 1;
  return ocl_kernel(on, "resize.cl", "resize_nearest_nd_any", opts, &s->k, err);
}

/* ---------------------------------------------------- linear and cubic */

static clcnn_status prepare_interp(ocl_node *on, resize_state *s, clcnn_err *err) {
  const resize_params *p = on->n->params;
  const ir_value *x = ir_in(on->g, on->n, 0), *y = ir_out(on->g, on->n, 0);
  int r = x->t.rank, ah = r - 2, aw = r - 1;
  bool id_h = ah < 0 || p->identity[ah], id_w = p->identity[aw];
  if (id_h && id_w) return prepare_nearest(on, s, err); /* nothing to interpolate: a copy */
  s->interp = true;
  int64_t hi = ah < 0 ? 1 : x->t.dims[ah], ho = ah < 0 ? 1 : y->t.dims[ah];
  int64_t wi = x->t.dims[aw], wo = y->t.dims[aw], outer = 1;
  for (int a = 0; a < r - 2; a++) outer *= x->t.dims[a];
  axis_tab th = {0}, tw = {0};
  int32_t *it = NULL;
  float *wt = NULL;
  int64_t ilen = 0, wlen = 0;
  int64_t ohi = 0, ohw = 0, ohe = 0, owi = 0, oww = 0, owe = 0;
  bool ext = p->coord == RESIZE_TF_CROP_AND_RESIZE;
  clcnn_status st = CLCNN_OK;
  if (!id_h) st = build_axis(p, ah, hi, ho, &th, err);
  if (!st && !id_w) st = build_axis(p, aw, wi, wo, &tw, err);
  if (!st) {
    bool ok = true;
    if (!id_h) {
      ok = ok && (ohi = append_ints(&it, &ilen, th.idx, ho * th.taps)) >= 0;
      ok = ok && (ohw = append_floats(&wt, &wlen, th.w, ho * th.taps)) >= 0;
      if (ext) ok = ok && (ohe = append_ints(&it, &ilen, th.ext, ho)) >= 0;
    }
    if (!id_w) {
      ok = ok && (owi = append_ints(&it, &ilen, tw.idx, wo * tw.taps)) >= 0;
      ok = ok && (oww = append_floats(&wt, &wlen, tw.w, wo * tw.taps)) >= 0;
      if (ext) ok = ok && (owe = append_ints(&it, &ilen, tw.ext, wo)) >= 0;
    }
    if (!ok) st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  if (!st) st = ocl_upload(on, it, sizeof(int32_t) * (size_t)(ilen ? ilen : 1), &s->itab, err);
  if (!st) st = ocl_upload(on, wt, sizeof(float) * (size_t)(wlen ? wlen : 1), &s->wtab, err);
  free(it);
  free(wt);
  int taps_h = th.taps, taps_w = tw.taps;
  axis_free(&th);
  axis_free(&tw);
  if (st) return st;
  /* The CPU's pass order: axes by increasing scale, the H axis first on a
   * tie (runtime/cpu/resize.c pass_order). */
  bool w_first = !id_h && !id_w && p->scale[aw] < p->scale[ah];
  /* The H pass sums like interp_row1() when it runs over one column. */
  bool h_row1 = (w_first || id_w ? wo : wi) == 1;
  const bool gpu = ocl_gpu_variant(on);
  int vw = gpu ? 1 : 8;
  float e = p->extrapolation_value;
  uint32_t ebits;
  memcpy(&ebits, &e, 4);
  char opts[1024] = "";
  ocl_opt(opts, sizeof opts, "-DVW=%d -DEXTV=0x%xu", vw, ebits);
  ocl_opt(opts, sizeof opts, "-DHI=%lld -DWI=%lld -DHO=%lld -DWO=%lld -DOUTER=%lld",
          (long long)hi, (long long)wi, (long long)ho, (long long)wo, (long long)outer);
  if (id_h) ocl_opt(opts, sizeof opts, "-DID_H");
  else ocl_opt(opts, sizeof opts, "-DTH=%d -DOHI=%lld -DOHW=%lld -DOHE=%lld", taps_h,
               (long long)ohi, (long long)ohw, (long long)ohe);
  if (id_w) ocl_opt(opts, sizeof opts, "-DID_W");
  else ocl_opt(opts, sizeof opts, "-DTW=%d -DOWI=%lld -DOWW=%lld -DOWE=%lld", taps_w,
               (long long)owi, (long long)oww, (long long)owe);
  if (ext) ocl_opt(opts, sizeof opts, "-DEXT");
  if (w_first) ocl_opt(opts, sizeof opts, "-DW_FIRST");
  if (h_row1) ocl_opt(opts, sizeof opts, "-DH_ROW1");
  s->global[0] = ceil_div(wo, vw);
  s->global[1] = (size_t)ho;
  s->global[2] = (size_t)outer;
  return ocl_kernel(on, "resize.cl", "resize_interp_nchw_f32", opts, &s->k, err);
}

/* ------------------------------------------------------- prepare, run */

static clcnn_status resize_prepare(ocl_node *on, clcnn_err *err) {
  resize_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  on->state = s;
  const resize_params *p = on->n->params;
  const ir_value *y = ir_out(on->g, on->n, 0);
  if (shape_numel(y->t.rank, y->t.dims) == 0) {
    s->empty = true;
    return CLCNN_OK;
  }
  return p->mode == RESIZE_NEAREST ? prepare_nearest(on, s, err) : prepare_interp(on, s, err);
}

static clcnn_status resize_run(ocl_node *on, const ocl_tensor *in, int nin, const ocl_tensor *out,
                               int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  resize_state *s = on->state;
  if (s->empty) return CLCNN_OK;
  cl_uint xo = ocl_elem_offset(&in[0]), yo = ocl_elem_offset(&out[0]);
  clcnn_status st;
  if (s->interp)
    st = ocl_args(s->k, err, sizeof(cl_mem), &in[0].mem, sizeof(cl_uint), &xo, sizeof(cl_mem),
                  &s->itab, sizeof(cl_mem), &s->wtab, sizeof(cl_mem), &out[0].mem,
                  sizeof(cl_uint), &yo, (size_t)0);
  else
    st = ocl_args(s->k, err, sizeof(cl_mem), &in[0].mem, sizeof(cl_uint), &xo, sizeof(cl_mem),
                  &s->itab, sizeof(cl_mem), &out[0].mem, sizeof(cl_uint), &yo, (size_t)0);
  if (st) return st;
  return ocl_enqueue(on, s->k, s->interp ? 3 : 2, s->global, NULL, err);
}

/* ------------------------------------------------------------ GridSample */

typedef struct gridsample_state {
  cl_kernel k;
  size_t global[2];
} gridsample_state;

static const char *gridsample_check(const ocl_device_info *dev, const ir_graph *g,
                                    const ir_node *n) {
  (void)dev;
  const gridsample_params *p = n->params;
  const ir_value *x = ir_in(g, n, 0), *grid = ir_in(g, n, 1);
  if (!x || !grid) return "an input is missing";
  if (p->r < 2 || p->r > 3) return "GridSample runs on OpenCL for 2 and 3 spatial dims";
  if (clcnn_tensor_numel(&x->t) >= INT_MAX || clcnn_tensor_numel(&grid->t) >= INT_MAX ||
      p->n * p->c * p->points >= INT_MAX)
    return "tensors of 2^31 elements or more are not supported on OpenCL";
  return NULL;
}

static clcnn_status gridsample_prepare(ocl_node *on, clcnn_err *err) {
  const gridsample_params *p = on->n->params;
  gridsample_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  on->state = s;
  s->global[0] = (size_t)p->points;
  s->global[1] = (size_t)p->n;
  if (!p->points || !p->n || !p->c) return CLCNN_OK;
  char opts[512] = "";
  ocl_opt(opts, sizeof opts, "-DGS_R=%d -DGS_MODE=%d -DGS_PAD=%d -DGS_ALIGN=%d -DGS_C=%lld -DGS_P=%lld",
          p->r, p->mode, p->padding, p->align_corners, (long long)p->c, (long long)p->points);
  for (int d = 0; d < p->r; d++) ocl_opt(opts, sizeof opts, "-DGS_D%d=%lld", d, (long long)p->in[d]);
  return ocl_kernel(on, "resize.cl", "gridsample_f32", opts, &s->k, err);
}

static clcnn_status gridsample_run(ocl_node *on, const ocl_tensor *in, int nin,
                                   const ocl_tensor *out, int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  gridsample_state *s = on->state;
  if (!s->k) return CLCNN_OK;
  cl_uint xo = ocl_elem_offset(&in[0]), go = ocl_elem_offset(&in[1]), yo = ocl_elem_offset(&out[0]);
  clcnn_status st = ocl_args(s->k, err, sizeof(cl_mem), &in[0].mem, sizeof(cl_uint), &xo,
                             sizeof(cl_mem), &in[1].mem, sizeof(cl_uint), &go, sizeof(cl_mem),
                             &out[0].mem, sizeof(cl_uint), &yo, (size_t)0);
  if (st) return st;
  return ocl_enqueue(on, s->k, 2, s->global, NULL, err);
}

/* ----------------------------------------------------------------- table */

static const ocl_op resize_ocl = {resize_check, resize_prepare, resize_run, NULL, NULL};
static const ocl_op gridsample_ocl = {gridsample_check, gridsample_prepare, gridsample_run, NULL,
                                      NULL};

const ocl_op *const ocl_ops_resize[CLCNN_OP_COUNT] = {
    [CLCNN_OP_RESIZE] = &resize_ocl,
    [CLCNN_OP_UPSAMPLE] = &resize_ocl,
    [CLCNN_OP_GRIDSAMPLE] = &gridsample_ocl,
};
