/* The GEMM entry point of the OpenCL backend: clcnn's own kernels
 * (kernels/gemm.cl) or CLBlast, chosen per layer and per device; and the
 * scratch buffer that the nodes of a session share. See gemm_dispatch.h. */
#include "gemm_dispatch.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clcnn_config.h"
#include "clblast_cache.h"
#include "kernel_options.h"

#if CLCNN_HAVE_CLBLAST
#include <clblast_c.h>
#endif

/* Largest element index a kernel computes (uint arithmetic). */
#define GEMM_INDEX_MAX ((size_t)0xffffffffu)

void ocl_gemm_desc_init(ocl_gemm_desc *d, bool ta, bool tb, size_t m, size_t n, size_t k) {
  memset(d, 0, sizeof *d);
  d->ta = ta;
  d->tb = tb;
  d->m = m;
  d->n = n;
  d->k = k;
  d->lda = ta ? m : k;
  d->ldb = tb ? k : n;
  d->ldc = n;
  d->nb0 = d->nb1 = 1;
  d->alpha = 1.0f;
  d->bias_scale = 1.0f;
  d->act_op = -1;
}

/* ------------------------------------------------------------ helpers */

/* One past the last element an operand touches: rows x ld plus batches. */
static size_t extent(size_t rows, size_t cols, size_t ld, const size_t *stride, size_t nb0,
                     size_t nb1) {
  if (!rows || !cols) return 0;
  return (rows - 1) * ld + cols + (nb0 - 1) * stride[0] + (nb1 - 1) * stride[1];
}

static size_t a_extent(const ocl_gemm_desc *d) {
  return d->ta ? extent(d->k, d->m, d->lda, d->sa, d->nb0, d->nb1)
               : extent(d->m, d->k, d->lda, d->sa, d->nb0, d->nb1);
}
static size_t b_extent(const ocl_gemm_desc *d) {
  return d->tb ? extent(d->n, d->k, d->ldb, d->sb, d->nb0, d->nb1)
               : extent(d->k, d->n, d->ldb, d->sb, d->nb0, d->nb1);
}
static size_t c_extent(const ocl_gemm_desc *d) {
  return extent(d->m, d->n, d->ldc, d->sc, d->nb0, d->nb1);
}
static size_t bias_extent(const ocl_gemm_desc *d) {
  if (!d->bias || !d->m || !d->n) return 0;
  return (d->m - 1) * d->bias_rs + (d->n - 1) * d->bias_cs + (d->nb0 - 1) * d->sbias[0] +
         (d->nb1 - 1) * d->sbias[1] + 1;
}

/* The -D options every gemm.cl kernel of this product shares. The sizes
 * and leading dimensions are kernel arguments (gemm_size_args), not options:
 * the products of a network share a few programs, which is what makes the
 * first session fast to create. */
static void common_options(const ocl_gemm_desc *d, char *o, size_t len) {
  char lit[OCL_FLOAT_LITERAL_MAX];
  ocl_opt(o, len, "-DTA=%d -DTB=%d", d->ta ? 1 : 0, d->tb ? 1 : 0);
  if (d->nb0 * d->nb1 > 1) {
    ocl_opt(o, len, "-DNB1=%zuu", d->nb1);
    ocl_opt(o, len, "-DSA0=%zu -DSA1=%zu -DSB0=%zu -DSB1=%zu -DSC0=%zu -DSC1=%zu", d->sa[0],
            d->sa[1], d->sb[0], d->sb[1], d->sc[0], d->sc[1]);
    if (d->bias) ocl_opt(o, len, "-DSBIAS0=%zu -DSBIAS1=%zu", d->sbias[0], d->sbias[1]);
  }
  if (d->bias) {
    ocl_opt(o, len, "-DHAS_BIAS -DBIAS_RS=%zuu -DBIAS_CS=%zuu", d->bias_rs, d->bias_cs);
    if (d->bias_scale != 1.0f)
      ocl_opt(o, len, "-DBIAS_SCALE=%s", ocl_float_literal(d->bias_scale, lit));
  }
  /* Storage roles (kernels/common.cl): B is X, C is Y, the residual R. */
  if (d->b_half) ocl_opt(o, len, "-DX_HALF");
  if (d->c_half) ocl_opt(o, len, "-DY_HALF");
  if (d->res_half) ocl_opt(o, len, "-DR_HALF");
}

bool ocl_device_fast_fma(const ocl_device_info *dev) {
  cl_device_fp_config fp = 0;
  if (clGetDeviceInfo(dev->device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp, &fp, NULL) !=
      CL_SUCCESS)
    return false;
  return (fp & CL_FP_FMA) && !(fp & CL_FP_SOFT_FLOAT);
}

const size_t *ocl_cpu_local(const ocl_node *on) {
  static const size_t one[3] = {1, 1, 1};
  return ocl_gpu_variant(on) ? NULL : one;
}

/* ------------------------------------------------------ own kernels */

void ocl_gemm_cpu_tile(const ocl_device_info *dev, size_t m, size_t n, int *tm, int *tn,
                       int *vw) {
  const bool wide = dev->preferred_vector_width_float >= 16;
  const int max_tm = wide ? 8 : 6;
  /* Columns: the tile that wastes least of the last column tile; at equal
   * waste the wider one (each A element serves more columns). Each tile is
   * a program of its own, built and code-generated once per process on a
   * cold cache, so there are few: on PoCL (AVX-512) 8 x 32 tiles ran no
   * faster than 8 x 16 (ResNet-50, DenseNet-121, Inception v1, SqueezeNet,
   * MobileNetV2 within noise) and their code generation was the largest
   * share of ResNet-50's cold first run, so there are none. 8-wide vectors
   * and taller tiles are slower. */
  static const struct { int tn, vw; double cost; } cands[] = {
      {16, 16, 1.0}, {16, 8, 1.2}, {8, 8, 1.45}};
  double best = 1e30;
  for (size_t i = 0; i < sizeof cands / sizeof *cands; i++) {
    if (!wide && cands[i].vw == 16) continue;
    if ((size_t)cands[i].tn > n) continue;
    size_t tiles = (n + (size_t)cands[i].tn - 1) / (size_t)cands[i].tn;
    double c = (double)(tiles * (size_t)cands[i].tn) / (double)n * cands[i].cost;
    if (c < best) {
      best = c;
      *tn = cands[i].tn;
      *vw = cands[i].vw;
    }
  }
  /* Rows: as few wasted rows as possible, the tallest such tile. */
  if (m <= (size_t)max_tm) {
    *tm = (int)m;
    return;
  }
  size_t best_rows = SIZE_MAX;
  for (int t = max_tm; t >= max_tm / 2; t--) {
    size_t rows = (m + (size_t)t - 1) / (size_t)t * (size_t)t;
    if (rows < best_rows) {
      best_rows = rows;
      *tm = t;
    }
  }
}

static clcnn_status own_prepare(ocl_node *on, ocl_gemm_plan *p, clcnn_err *err) {
  const ocl_gemm_desc *d = &p->d;
  const ocl_device_info *dev = ocl_node_device(on);
  char o[2048] = "";
  char lit[OCL_FLOAT_LITERAL_MAX];
  common_options(d, o, sizeof o);
  if (d->alpha != 1.0f) ocl_opt(o, sizeof o, "-DALPHA=%s", ocl_float_literal(d->alpha, lit));
  if (d->beta != 0.0f) ocl_opt(o, sizeof o, "-DBETA=%s", ocl_float_literal(d->beta, lit));
  ocl_epilogue_split(d->act_op, d->act_params, &p->epi, o, sizeof o);
  if (ocl_device_fast_fma(dev)) ocl_opt(o, sizeof o, "-DFAST_FMA");
  const size_t batch = d->nb0 * d->nb1;
  const char *name = "gemm_f32";
  p->has_local = false;
  if (ocl_gpu_variant(on)) {
    /* 16 x 16 work-items computing 64 x 64 (8 x 8 and 32 x 32 on small
     * devices); tiny products take one dot per work-item. */
    int ts = dev->max_work_group_size >= 256 ? 64 : 32, wp = 4, tsk = 16;
    if (d->m < 16 || d->n < 16 || dev->max_work_group_size < 64 ||
        dev->local_mem_size < (cl_ulong)(2 * tsk * (ts + 1) * 4)) {
      name = "gemm_dot_f32";
      p->global[0] = d->n;
      p->global[1] = d->m;
    } else {
      ocl_opt(o, sizeof o, "-DGPU -DTSM=%d -DTSN=%d -DTSK=%d -DWPM=%d -DWPN=%d", ts, ts, tsk, wp,
              wp);
      p->local[0] = p->local[1] = (size_t)(ts / wp);
      p->local[2] = 1;
      p->global[0] = (d->n + (size_t)ts - 1) / (size_t)ts * p->local[0];
      p->global[1] = (d->m + (size_t)ts - 1) / (size_t)ts * p->local[1];
      p->has_local = true;
    }
  } else if (d->tb || d->n < 8) {
    /* Columns of B are contiguous in k (or too few columns for a vector):
     * dot products along k. */
    name = "gemm_dot_f32";
    p->global[0] = d->n;
    p->global[1] = d->m;
  } else {
    int tm = 1, tn = 8, vw = 8;
    ocl_gemm_cpu_tile(dev, d->m, d->n, &tm, &tn, &vw);
    ocl_opt(o, sizeof o, "-DTM=%d -DTN=%d -DVW=%d", tm, tn, vw);
    p->global[0] = (d->n + (size_t)tn - 1) / (size_t)tn;
    p->global[1] = (d->m + (size_t)tm - 1) / (size_t)tm;
  }
  p->global[2] = batch;
  if (!p->has_local && !ocl_gpu_variant(on)) {
    /* One work-item per work-group (ocl_cpu_local). */
    p->local[0] = p->local[1] = p->local[2] = 1;
    p->has_local = true;
  }
  return ocl_kernel(on, "gemm.cl", name, o, &p->kernel, err);
}

/* Sets M, N, K, LDA, LDB, LDC: the last six arguments of every gemm.cl
 * kernel, from argument `first` on (ocl_gemm_prepare checked that they fit). */
static clcnn_status gemm_size_args(cl_kernel k, cl_uint first, const ocl_gemm_desc *d,
                                   clcnn_err *err) {
  const int64_t v[6] = {(int64_t)d->m,   (int64_t)d->n,   (int64_t)d->k,
                        (int64_t)d->lda, (int64_t)d->ldb, (int64_t)d->ldc};
  return ocl_size_args(k, first, v, 6, err);
}

static clcnn_status own_run(ocl_node *on, const ocl_gemm_plan *p, cl_mem a, cl_uint a_off,
                            cl_mem b, cl_uint b_off, cl_mem c, cl_uint c_off, cl_mem bias,
                            cl_uint bias_off, cl_mem res, size_t res_off, clcnn_err *err) {
  clcnn_status st = ocl_args(p->kernel, err, sizeof(cl_mem), &a, sizeof(cl_uint), &a_off,
                             sizeof(cl_mem), &b, sizeof(cl_uint), &b_off, sizeof(cl_mem), &c,
                             sizeof(cl_uint), &c_off, sizeof(cl_mem), &bias, sizeof(cl_uint),
                             &bias_off, (size_t)0);
  if (!st) st = gemm_size_args(p->kernel, 8, &p->d, err);
  if (!st) st = ocl_epilogue_args(p->kernel, 14, &p->epi, res, res_off, c, err);
  if (st) return st;
  return ocl_enqueue(on, p->kernel, 3, p->global, p->has_local ? p->local : NULL, err);
}

/* ------------------------------------------------------------- CLBlast */

#if CLCNN_HAVE_CLBLAST
/* CLBlast is entered by one thread at a time: it must not run concurrently
 * on one queue, and its cache is cleared from session teardown. */
static clcnn_status clblast_prepare(ocl_node *on, ocl_gemm_plan *p, clcnn_err *err) {
  const ocl_gemm_desc *d = &p->d;
  char lit[OCL_FLOAT_LITERAL_MAX];
  p->eglobal[0] = d->n;
  p->eglobal[1] = d->m;
  p->eglobal[2] = d->nb0 * d->nb1;
  clcnn_status st;
  if (d->bias || d->beta != 0.0f) {
    char o[2048] = "";
    common_options(d, o, sizeof o);
    if (d->beta != 0.0f) ocl_opt(o, sizeof o, "-DBETA=%s", ocl_float_literal(d->beta, lit));
    if ((st = ocl_kernel(on, "gemm.cl", "gemm_prologue_f32", o, &p->prologue, err))) return st;
  }
  if (d->act_op >= 0 || d->residual) {
    char o[2048] = "";
    common_options(d, o, sizeof o);
    ocl_epilogue_split(d->act_op, d->act_params, &p->epi, o, sizeof o);
    if ((st = ocl_kernel(on, "gemm.cl", "gemm_act_f32", o, &p->act, err))) return st;
  }
  return CLCNN_OK;
}

static clcnn_status clblast_fail(clcnn_err *err, CLBlastStatusCode s, const char *what) {
  return err_set(err, CLCNN_ERROR_DEVICE, "CLBlast %s failed with status %d", what, (int)s);
}

static clcnn_status clblast_run(ocl_node *on, const ocl_gemm_plan *p, cl_mem a, size_t a_off,
                                cl_mem b, size_t b_off, cl_mem c, size_t c_off, cl_mem bias,
                                size_t bias_off, cl_mem res, size_t res_off, clcnn_err *err) {
  const ocl_gemm_desc *d = &p->d;
  clcnn_status st;
  if (p->prologue) {
    cl_uint co = (cl_uint)c_off, bo = (cl_uint)bias_off;
    cl_mem bm = bias ? bias : c;
    if ((st = ocl_args(p->prologue, err, sizeof(cl_mem), &c, sizeof co, &co, sizeof(cl_mem), &bm,
                       sizeof bo, &bo, (size_t)0)) ||
        (st = gemm_size_args(p->prologue, 4, d, err)) ||
        (st = ocl_enqueue(on, p->prologue, 3, p->eglobal, NULL, err)))
      return st;
  }
  cl_command_queue q = ocl_node_queue(on);
  const float beta = p->prologue ? 1.0f : 0.0f;
  const CLBlastTranspose ta = d->ta ? CLBlastTransposeYes : CLBlastTransposeNo;
  const CLBlastTranspose tb = d->tb ? CLBlastTransposeYes : CLBlastTransposeNo;
  CLBlastStatusCode s = CLBlastSuccess;
  ocl_clblast_enter(ocl_node_context(on));
  for (size_t z0 = 0; z0 < d->nb0 && s == CLBlastSuccess; z0++) {
    size_t ao = a_off + z0 * d->sa[0], bo = b_off + z0 * d->sb[0], co = c_off + z0 * d->sc[0];
    if (d->nb1 > 1)
      s = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, ta, tb, d->m, d->n, d->k, d->alpha, a,
                                     ao, d->lda, d->sa[1], b, bo, d->ldb, d->sb[1], beta, c, co,
                                     d->ldc, d->sc[1], d->nb1, &q, NULL);
    else
      s = CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, d->m, d->n, d->k, d->alpha, a, ao, d->lda,
                       b, bo, d->ldb, beta, c, co, d->ldc, &q, NULL);
  }
  ocl_clblast_leave();
  if (s != CLBlastSuccess) return clblast_fail(err, s, "SGEMM");
  if (p->act) {
    cl_uint co = (cl_uint)c_off;
    if ((st = ocl_args(p->act, err, sizeof(cl_mem), &c, sizeof co, &co, (size_t)0)) ||
        (st = gemm_size_args(p->act, 2, d, err)) ||
        (st = ocl_epilogue_args(p->act, 8, &p->epi, res, res_off, c, err)) ||
        (st = ocl_enqueue(on, p->act, 3, p->eglobal, NULL, err)))
      return st;
  }
  return CLCNN_OK;
}
#endif

/* ------------------------------------------------------------ choosing */

#if CLCNN_HAVE_CLBLAST
/* Choices measured in this process: (device, product) -> implementation. */
typedef struct tune_entry {
  char *key;
  ocl_gemm_impl impl;
} tune_entry;

static pthread_mutex_t tune_lock = PTHREAD_MUTEX_INITIALIZER;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static tune_entry *tune_cache;
static int tune_count, tune_cap;

static void tune_key(const ocl_node *on, const ocl_gemm_desc *d, char *key, size_t len) {
  const ocl_device_info *dev = ocl_node_device(on);
  snprintf(key, len,
           "%s|%s|%s|%d%d m%zu n%zu k%zu ld%zu,%zu,%zu b%zu,%zu s%zu,%zu,%zu,%zu,%zu,%zu "
           "a%g b%g bias%d,%zu,%zu act%d",
           dev->platform_version, dev->name, dev->driver_version, d->ta, d->tb, d->m, d->n, d->k,
           d->lda, d->ldb, d->ldc, d->nb0, d->nb1, d->sa[0], d->sa[1], d->sb[0], d->sb[1],
           d->sc[0], d->sc[1], (double)d->alpha, (double)d->beta, d->bias, d->bias_rs,
           d->bias_cs, d->act_op);
}

static void tune_remember(const char *key, ocl_gemm_impl impl);

/* A choice on disk: an entry of the program cache under the SHA-256 of the
 * key (which names the device and driver; the clcnn version is hashed in
 * too), holding "clcnn-gemm own" or "clcnn-gemm clblast". */
#define TUNE_WHAT "clcnn gemm choice v1"
static ocl_gemm_impl tune_read(const ocl_node *on, const char *key) {
  uint8_t h[OCL_CACHE_KEY_SIZE];
  ocl_cache_key(ocl_node_device(on), TUNE_WHAT, key, h);
  char text[64];
  size_t len;
  /* The context's cache, else the default one: a context with a cache of
   * its own (clcnn bench's, for cold starts) still uses `clcnn tune`'s
   * choices. */
  const ocl_cache_config *cfg = ocl_node_cache(on), dflt = {0};
  if (!ocl_cache_data_read(cfg, h, text, sizeof text - 1, &len) &&
      (cfg->disabled || !ocl_cache_data_read(&dflt, h, text, sizeof text - 1, &len)))
    return OCL_GEMM_AUTO;
  text[len] = 0;
  if (!strcmp(text, "clcnn-gemm own\n")) return OCL_GEMM_OWN;
  if (!strcmp(text, "clcnn-gemm clblast\n")) return OCL_GEMM_CLBLAST;
  return OCL_GEMM_AUTO;
}

static void tune_write(const ocl_node *on, const char *key, ocl_gemm_impl impl) {
  uint8_t h[OCL_CACHE_KEY_SIZE];
  ocl_cache_key(ocl_node_device(on), TUNE_WHAT, key, h);
  const char *text = impl == OCL_GEMM_CLBLAST ? "clcnn-gemm clblast\n" : "clcnn-gemm own\n";
  ocl_cache_data_write(ocl_node_cache(on), h, text, strlen(text));
}

/* This process's choice, else the one on disk (remembered for the process). */
static ocl_gemm_impl tune_lookup(const ocl_node *on, const char *key) {
  ocl_gemm_impl r = OCL_GEMM_AUTO;
  pthread_mutex_lock(&tune_lock);
  for (int i = 0; i < tune_count; i++)
    if (!strcmp(tune_cache[i].key, key)) r = tune_cache[i].impl;
  pthread_mutex_unlock(&tune_lock);
  if (r == OCL_GEMM_AUTO && (r = tune_read(on, key)) != OCL_GEMM_AUTO) tune_remember(key, r);
  return r;
}

static void tune_remember(const char *key, ocl_gemm_impl impl) {
  pthread_mutex_lock(&tune_lock);
  if (tune_count == tune_cap) {
    int cap = tune_cap ? 2 * tune_cap : 32;
    tune_entry *t = realloc(tune_cache, sizeof *t * (size_t)cap);
    if (t) {
      tune_cache = t;
      tune_cap = cap;
    }
  }
  if (tune_count < tune_cap) {
    char *k = strdup(key);
    if (k) tune_cache[tune_count++] = (tune_entry){k, impl};
  }
  pthread_mutex_unlock(&tune_lock);
}

/* A scratch buffer of `floats` zeros for timing. */
static cl_mem tune_buffer(ocl_node *on, size_t floats, cl_int *rc) {
  size_t bytes = (floats ? floats : 1) * sizeof(float);
  cl_mem m = clCreateBuffer(ocl_node_context(on), CL_MEM_READ_WRITE, bytes, NULL, rc);
  if (*rc != CL_SUCCESS) return NULL;
  float zero = 0.0f;
  *rc = clEnqueueFillBuffer(ocl_node_queue(on), m, &zero, sizeof zero, 0, bytes, 0, NULL, NULL);
  if (*rc != CL_SUCCESS) {
    clReleaseMemObject(m);
    return NULL;
  }
  return m;
}

/* Best of a few runs of plan p (after one warm-up run), in seconds; a
 * negative value when it failed. */
static double time_plan(ocl_node *on, const ocl_gemm_plan *p, cl_mem a, cl_mem b, cl_mem c,
                        cl_mem bias) {
  clcnn_err e = {0};
  double best = -1;
  for (int r = 0; r < 4; r++) {
    double t = now_s();
    if (ocl_gemm(on, p, a, 0, b, 0, c, 0, bias, 0, p->d.residual ? c : NULL, 0, &e)) return -1;
    if (clFinish(ocl_node_queue(on)) != CL_SUCCESS) return -1;
    t = now_s() - t;
    if (r > 0 && (best < 0 || t < best)) best = t;
  }
  return best;
}
#endif

clcnn_status ocl_gemm_prepare(ocl_node *on, const ocl_gemm_desc *d, ocl_gemm_plan *plan,
                              clcnn_err *err) {
  memset(plan, 0, sizeof *plan);
  plan->d = *d;
  if (!d->m || !d->n || !d->nb0 || !d->nb1) {
    plan->impl = OCL_GEMM_OWN; /* nothing to compute */
    return CLCNN_OK;
  }
  if (a_extent(d) > GEMM_INDEX_MAX || b_extent(d) > GEMM_INDEX_MAX ||
      c_extent(d) > GEMM_INDEX_MAX || bias_extent(d) > GEMM_INDEX_MAX ||
      d->m * d->n > GEMM_INDEX_MAX || d->nb0 * d->nb1 > GEMM_INDEX_MAX)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "matrix product %zux%zux%zu (batch %zu) is too large for 32-bit indexing",
                   d->m, d->n, d->k, d->nb0 * d->nb1);
  ocl_gemm_impl impl = d->impl;
  const bool half = d->b_half || d->c_half || d->res_half;
  if (half && (d->beta != 0.0f || impl == OCL_GEMM_CLBLAST))
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "half storage with beta or through CLBlast (float32 only)");
  if (half) impl = OCL_GEMM_OWN; /* CLBlast's SGEMM reads and writes float32 */
  bool tune = false;
  char key[2048];
#if CLCNN_HAVE_CLBLAST
  if (impl == OCL_GEMM_AUTO) {
    const ocl_gemm_knob knob = ocl_node_knobs(on)->gemm; /* CLCNN_GEMM */
    if (knob == OCL_GEMM_KNOB_OWN)
      impl = OCL_GEMM_OWN;
    else if (knob == OCL_GEMM_KNOB_CLBLAST)
      impl = OCL_GEMM_CLBLAST;
  }
  if (impl == OCL_GEMM_AUTO && d->k == 0) impl = OCL_GEMM_OWN;
  if (impl == OCL_GEMM_AUTO) {
    tune_key(on, d, key, sizeof key);
    impl = tune_lookup(on, key);
    if (impl == OCL_GEMM_AUTO && ocl_node_knobs(on)->tune) tune = true; /* CLCNN_TUNE */
    if (impl == OCL_GEMM_AUTO && !tune)
      impl = ocl_node_device(on)->type == OCL_DEVICE_GPU ? OCL_GEMM_CLBLAST : OCL_GEMM_OWN;
  }
#else
  if (impl == OCL_GEMM_CLBLAST)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "this build of clcnn has no CLBlast");
  impl = OCL_GEMM_OWN;
  (void)key;
#endif
  clcnn_status st;
  if (!tune) {
    plan->impl = impl;
#if CLCNN_HAVE_CLBLAST
    if (impl == OCL_GEMM_CLBLAST) return clblast_prepare(on, plan, err);
#endif
    return own_prepare(on, plan, err);
  }
#if CLCNN_HAVE_CLBLAST
  /* Tuning: build both, time both on zeroed buffers of the right sizes. */
  ocl_gemm_plan own = *plan, blas = *plan;
  own.impl = OCL_GEMM_OWN;
  blas.impl = OCL_GEMM_CLBLAST;
  if ((st = own_prepare(on, &own, err))) return st;
  if ((st = clblast_prepare(on, &blas, err))) return st;
  cl_int rc = CL_SUCCESS;
  cl_mem a = tune_buffer(on, a_extent(d), &rc), b = a ? tune_buffer(on, b_extent(d), &rc) : NULL;
  cl_mem c = b ? tune_buffer(on, c_extent(d), &rc) : NULL;
  cl_mem bias = c && d->bias ? tune_buffer(on, bias_extent(d), &rc) : NULL;
  double t_own = -1, t_blas = -1;
  if (c && (!d->bias || bias)) {
    t_own = time_plan(on, &own, a, b, c, bias);
    t_blas = time_plan(on, &blas, a, b, c, bias);
  }
  if (a) clReleaseMemObject(a);
  if (b) clReleaseMemObject(b);
  if (c) clReleaseMemObject(c);
  if (bias) clReleaseMemObject(bias);
  if (t_own < 0 && t_blas < 0)
    return err_set(err, CLCNN_ERROR_DEVICE, "timing the matrix product %zux%zux%zu failed",
                   d->m, d->n, d->k);
  *plan = (t_blas >= 0 && (t_own < 0 || t_blas < t_own)) ? blas : own;
  tune_remember(key, plan->impl);
  tune_write(on, key, plan->impl);
  return CLCNN_OK;
#else
  (void)st;
  return CLCNN_OK;
#endif
}

clcnn_status ocl_gemm(ocl_node *on, const ocl_gemm_plan *plan, cl_mem a, size_t a_off, cl_mem b,
                      size_t b_off, cl_mem c, size_t c_off, cl_mem bias, size_t bias_off,
                      cl_mem res, size_t res_off, clcnn_err *err) {
  const ocl_gemm_desc *d = &plan->d;
  if (!d->m || !d->n || !d->nb0 || !d->nb1) return CLCNN_OK;
  if (d->residual != (res != NULL))
    return err_set(err, CLCNN_ERROR_INTERNAL, "a matrix product's residual %s",
                   d->residual ? "is missing" : "was not prepared for");
  if (a_off > GEMM_INDEX_MAX - a_extent(d) || b_off > GEMM_INDEX_MAX - b_extent(d) ||
      c_off > GEMM_INDEX_MAX - c_extent(d) || bias_off > GEMM_INDEX_MAX - bias_extent(d) ||
      (res && res_off > GEMM_INDEX_MAX - c_extent(d)))
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "buffer offsets past 2^32 elements");
#if CLCNN_HAVE_CLBLAST
  if (plan->impl == OCL_GEMM_CLBLAST)
    return clblast_run(on, plan, a, a_off, b, b_off, c, c_off, bias, bias_off, res, res_off, err);
#endif
  return own_run(on, plan, a, (cl_uint)a_off, b, (cl_uint)b_off, c, (cl_uint)c_off,
                 bias ? bias : c, (cl_uint)bias_off, res, res_off, err);
}

/* ------------------------------------------------------------- scratch */

/* One entry per session that holds scratch: the buffer and the nodes that
 * reserved it. Keyed by the session (a context or even a queue may be shared
 * by sessions running on different threads, a session never is). */
typedef struct scratch_entry {
  const ocl_backend *be;
  cl_mem mem;
  size_t bytes;
  int users;
} scratch_entry;

static pthread_mutex_t scratch_lock = PTHREAD_MUTEX_INITIALIZER;
static scratch_entry *scratch;
static int scratch_count, scratch_cap;

static scratch_entry *scratch_find(const ocl_backend *be) {
  for (int i = 0; i < scratch_count; i++)
    if (scratch[i].be == be) return &scratch[i];
  return NULL;
}

/* The node's hold on the scratch: a marker in its state would need every op
 * to carry one, so holds are counted per session and the op releases. */
clcnn_status ocl_scratch_reserve(ocl_node *on, size_t bytes, clcnn_err *err) {
  if (!bytes) bytes = sizeof(float);
  const ocl_device_info *dev = ocl_node_device(on);
  if (bytes > dev->max_alloc_size)
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY,
                   "a %zu-byte scratch buffer exceeds the device's largest allocation (%llu "
                   "bytes)", bytes, (unsigned long long)dev->max_alloc_size);
  clcnn_status st = CLCNN_OK;
  pthread_mutex_lock(&scratch_lock);
  scratch_entry *e = scratch_find(on->be);
  if (!e) {
    if (scratch_count == scratch_cap) {
      int cap = scratch_cap ? 2 * scratch_cap : 8;
      scratch_entry *t = realloc(scratch, sizeof *t * (size_t)cap);
      if (!t) {
        pthread_mutex_unlock(&scratch_lock);
        return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      }
      scratch = t;
      scratch_cap = cap;
    }
    e = &scratch[scratch_count++];
    *e = (scratch_entry){on->be, NULL, 0, 0};
  }
  if (bytes > e->bytes) {
    cl_int rc;
    cl_mem m = clCreateBuffer(ocl_node_context(on), CL_MEM_READ_WRITE, bytes, NULL, &rc);
    if (rc != CL_SUCCESS) {
      st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY,
                   "cannot allocate %zu bytes of scratch on %s: %s (%d)", bytes, dev->name,
                   ocl_error_str(rc), (int)rc);
    } else {
      if (e->mem) clReleaseMemObject(e->mem);
      on->buffer_bytes += bytes - e->bytes;
      e->mem = m;
      e->bytes = bytes;
    }
  }
  if (st == CLCNN_OK) e->users++;
  if (e->users == 0) {
    /* A first reservation that failed: drop the empty entry. */
    *e = scratch[--scratch_count];
  }
  pthread_mutex_unlock(&scratch_lock);
  return st;
}

cl_mem ocl_scratch_get(const ocl_node *on) {
  pthread_mutex_lock(&scratch_lock);
  scratch_entry *e = scratch_find(on->be);
  cl_mem m = e ? e->mem : NULL;
  pthread_mutex_unlock(&scratch_lock);
  return m;
}

void ocl_scratch_release(ocl_node *on) {
  pthread_mutex_lock(&scratch_lock);
  scratch_entry *e = scratch_find(on->be);
  if (e && --e->users <= 0) {
    if (e->mem) clReleaseMemObject(e->mem);
    *e = scratch[--scratch_count];
  }
  pthread_mutex_unlock(&scratch_lock);
}
