/* bench_conv: the 3x3 and 1x1 convolutions of ResNet-50 (batch 1, with
 * bias) on the OpenCL backend and on the CPU backend, each a one-node model
 * through the public API (the OpenCL session strict: nothing falls back),
 * against OpenBLAS SGEMM of the equivalent matrix product (M = Cout,
 * N = output H * W, K = Cin * kh * kw) measured in the same run. Prints the median
 * time of several runs, GFLOP/s and the ratio to OpenBLAS.
 *
 *   build/tools/bench_conv [--runs N] [--threads N] [--device SPEC] [--no-cpu]
 *                          [--shape CIN,COUT,K,HW[,STRIDE]]...
 *
 * On a machine that other work shares, multi-threaded OpenBLAS loses most
 * when a core is taken from it; --threads 1 compares one core with one.
 *
 * A session run includes copying the input in and the output out (memcpy on
 * a CPU device); the conv's own time is what the profile says (also shown).
 * CLCNN_CONV=direct|im2col and CLCNN_GEMM=own|clblast choose the OpenCL
 * path, CLCNN_TUNE=1 lets clcnn measure. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clcnn.h"
#include "clcnn_config.h"
#include "onnx.pb-c.h"

#if CLCNN_HAVE_CBLAS
#include <cblas.h>
#endif

typedef struct shape {
  int cin, cout, k, hw, stride;
} shape;

static const shape resnet50[] = {
    {64, 64, 3, 56, 1},  {128, 128, 3, 28, 1}, {256, 256, 3, 14, 1},  {512, 512, 3, 7, 1},
    {256, 64, 1, 56, 1}, {64, 256, 1, 56, 1},  {1024, 256, 1, 14, 1}, {2048, 512, 1, 7, 1},
};

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float rnd(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (float)((rng >> 40) & 0xFFFFFF) / (float)0x800000 - 1.0f;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* A one-node model: y = Conv(x, w, b), pads k / 2. */
static uint8_t *conv_model(const shape *s, size_t *len) {
  Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
  Onnx__GraphProto graph = ONNX__GRAPH_PROTO__INIT;
  Onnx__NodeProto node = ONNX__NODE_PROTO__INIT;
  Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT;
  Onnx__OperatorSetIdProto *opsets[1] = {&opset};
  Onnx__NodeProto *nodes[1] = {&node};
  opset.domain = "";
  opset.has_version = 1;
  opset.version = 13;
  model.has_ir_version = 1;
  model.ir_version = 8;
  model.n_opset_import = 1;
  model.opset_import = opsets;
  model.graph = &graph;
  graph.name = "bench";
  /* Initializers: weights and bias. */
  int64_t wdims[4] = {s->cout, s->cin, s->k, s->k}, bdims[1] = {s->cout};
  size_t wn = (size_t)s->cout * (size_t)s->cin * (size_t)(s->k * s->k);
  float *w = malloc(wn * sizeof(float)), *b = malloc((size_t)s->cout * sizeof(float));
  float scale = 1.0f / sqrtf((float)(s->cin * s->k * s->k));
  for (size_t i = 0; i < wn; i++) w[i] = rnd() * scale;
  for (int i = 0; i < s->cout; i++) b[i] = rnd() * 0.1f;
  Onnx__TensorProto ti[2] = {ONNX__TENSOR_PROTO__INIT, ONNX__TENSOR_PROTO__INIT};
  Onnx__TensorProto *tip[2] = {&ti[0], &ti[1]};
  ti[0].name = "w";
  ti[0].n_dims = 4;
  ti[0].dims = wdims;
  ti[0].has_data_type = 1;
  ti[0].data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  ti[0].has_raw_data = 1;
  ti[0].raw_data.data = (uint8_t *)w;
  ti[0].raw_data.len = wn * sizeof(float);
  ti[1] = ti[0];
  ti[1].name = "b";
  ti[1].n_dims = 1;
  ti[1].dims = bdims;
  ti[1].raw_data.data = (uint8_t *)b;
  ti[1].raw_data.len = (size_t)s->cout * sizeof(float);
  graph.n_initializer = 2;
  graph.initializer = tip;
  /* Input and output. */
  int64_t xd[4] = {1, s->cin, s->hw, s->hw};
  Onnx__TensorShapeProto__Dimension dim[4], *dimp[4];
  for (int i = 0; i < 4; i++) {
    onnx__tensor_shape_proto__dimension__init(&dim[i]);
    dim[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    dim[i].dim_value = xd[i];
    dimp[i] = &dim[i];
  }
  Onnx__TensorShapeProto shp = ONNX__TENSOR_SHAPE_PROTO__INIT;
  shp.n_dim = 4;
  shp.dim = dimp;
  Onnx__TypeProto__Tensor tt = ONNX__TYPE_PROTO__TENSOR__INIT;
  Onnx__TypeProto__Tensor ttout = ONNX__TYPE_PROTO__TENSOR__INIT;
  tt.has_elem_type = ttout.has_elem_type = 1;
  tt.elem_type = ttout.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tt.shape = &shp;
  Onnx__TypeProto ty = ONNX__TYPE_PROTO__INIT, tyout = ONNX__TYPE_PROTO__INIT;
  ty.value_case = tyout.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  ty.tensor_type = &tt;
  tyout.tensor_type = &ttout;
  Onnx__ValueInfoProto vin = ONNX__VALUE_INFO_PROTO__INIT, vout = ONNX__VALUE_INFO_PROTO__INIT;
  Onnx__ValueInfoProto *vinp[1] = {&vin}, *voutp[1] = {&vout};
  vin.name = "x";
  vin.type = &ty;
  vout.name = "y";
  vout.type = &tyout;
  graph.n_input = 1;
  graph.input = vinp;
  graph.n_output = 1;
  graph.output = voutp;
  /* The node. */
  char *ins[3] = {"x", "w", "b"}, *outs[1] = {"y"};
  int64_t pads[4] = {s->k / 2, s->k / 2, s->k / 2, s->k / 2};
  Onnx__AttributeProto pa = ONNX__ATTRIBUTE_PROTO__INIT, *pap[1] = {&pa};
  pa.name = "pads";
  pa.has_type = 1;
  pa.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  pa.n_ints = 4;
  pa.ints = pads;
  node.op_type = "Conv";
  node.name = "conv";
  node.n_input = 3;
  node.input = ins;
  node.n_output = 1;
  node.output = outs;
  int64_t strides[2] = {s->stride, s->stride};
  Onnx__AttributeProto sa = ONNX__ATTRIBUTE_PROTO__INIT, *attrs[2] = {&pa, &sa};
  sa.name = "strides";
  sa.has_type = 1;
  sa.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  sa.n_ints = 2;
  sa.ints = strides;
  (void)pap;
  node.n_attribute = 2;
  node.attribute = attrs;
  graph.n_node = 1;
  graph.node = nodes;
  *len = onnx__model_proto__get_packed_size(&model);
  uint8_t *buf = malloc(*len);
  if (buf) onnx__model_proto__pack(&model, buf);
  free(w);
  free(b);
  return buf;
}

typedef struct result {
  double ms, kernel_ms; /* median wall time of a run; median profiled node time */
  bool ok;
} result;

/* The three contenders of one shape, timed in turns (one run of each per
 * round) so that whatever else the machine does hits them alike. */
typedef struct contender {
  clcnn_session *s;   /* NULL: OpenBLAS */
  double *t;          /* per run, ms */
  bool ok;
} contender;

static clcnn_session *open_session(const clcnn_model *m, const char *device, int strict,
                                   int profile, const clcnn_tensor *x) {
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = device;
  so.strict = strict;
  so.profile = profile;
  clcnn_session *s = NULL;
  if (clcnn_session_create(m, &so, NULL, 0, &s)) {
    fprintf(stderr, "bench_conv: session on %s: %s\n", device, clcnn_last_error());
    return NULL;
  }
  bool ok = clcnn_session_set_input(s, "x", x) == CLCNN_OK;
  for (int i = 0; ok && i < 2; i++) ok = clcnn_session_run(s) == CLCNN_OK; /* warm up */
  if (!ok) {
    fprintf(stderr, "bench_conv: run on %s: %s\n", device, clcnn_session_error(s));
    clcnn_session_free(s);
    return NULL;
  }
  return s;
}

typedef struct blas_data {
  int m, n, k;
  float *a, *b, *c;
} blas_data;

/* OpenBLAS threads for the OpenBLAS column: all cores (or --threads). The
 * CPU backend sets OpenBLAS to one thread for the whole process (it splits
 * products over its own OpenMP threads), so the column sets its own count
 * around each block of runs and puts the process's back afterwards. */
static int blas_threads;

static int blas_begin(void) {
#if CLCNN_HAVE_CBLAS && defined(OPENBLAS_VERSION)
  int before = openblas_get_num_threads();
  openblas_set_num_threads(blas_threads > 0 ? blas_threads : openblas_get_num_procs());
  return before;
#else
  return 0;
#endif
}

static void blas_end(int before) {
#if CLCNN_HAVE_CBLAS && defined(OPENBLAS_VERSION)
  openblas_set_num_threads(before);
#else
  (void)before;
#endif
}

static void blas_run(const blas_data *d) {
#if CLCNN_HAVE_CBLAS
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->m, d->n, d->k, 1.0f, d->a, d->k,
              d->b, d->n, 0.0f, d->c, d->n);
#else
  (void)d;
#endif
}

/* Median over runs of the profiled node time of a session (profiling waits
 * between the kernels of a node, so wall times come from another session). */
static double kernel_ms(clcnn_session *s, int runs) {
  double *k = malloc(sizeof(double) * (size_t)runs);
  int n = 0;
  for (int i = 0; i < runs; i++) {
    const clcnn_profile_entry *pe = NULL;
    int count = 0;
    if (clcnn_session_run(s) || clcnn_session_profile(s, &pe, &count)) break;
    k[n] = 0;
    for (int j = 0; j < count; j++) k[n] += pe[j].ms;
    n++;
  }
  double r = n ? median(k, n) : NAN;
  free(k);
  return r;
}

static void usage(void) {
  fprintf(stderr,
          "usage: bench_conv [--runs N] [--threads N] [--device SPEC] [--no-cpu]\n"
          "                  [--shape CIN,COUT,K,HW[,STRIDE]]...\n"
          "  Times ResNet-50's 3x3 and 1x1 convolutions (or the shapes given) on the\n"
          "  OpenCL backend (SPEC, default \"opencl\"), on the CPU backend and as an\n"
          "  OpenBLAS SGEMM of the same size. --threads N limits PoCL, OpenBLAS and\n"
          "  the CPU backend to N threads; --no-cpu leaves the CPU backend out.\n");
}

int main(int argc, char **argv) {
  int runs = 20, threads = 0;
  bool with_cpu = true;
  const char *device = "opencl";
  shape custom[32];
  int ncustom = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
      runs = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
      threads = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--no-cpu")) {
      with_cpu = false;
    } else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
      device = argv[++i];
    } else if (!strcmp(argv[i], "--shape") && i + 1 < argc && ncustom < 32) {
      shape *s = &custom[ncustom];
      s->stride = 1;
      if (sscanf(argv[++i], "%d,%d,%d,%d,%d", &s->cin, &s->cout, &s->k, &s->hw, &s->stride) < 4 ||
          s->cin < 1 || s->cout < 1 || s->k < 1 || s->hw < 1 || s->stride < 1) {
        usage();
        return 2;
      }
      ncustom++;
    } else {
      usage();
      return strcmp(argv[i], "--help") ? 2 : 0;
    }
  }
  if (runs < 1) runs = 1;
  const shape *shapes = ncustom ? custom : resnet50;
  int nshapes = ncustom ? ncustom : (int)(sizeof resnet50 / sizeof *resnet50);
#if !CLCNN_HAVE_CBLAS
  fprintf(stderr, "bench_conv: built without CBLAS: no OpenBLAS column\n");
#endif
  clcnn_options opts;
  clcnn_options_default(&opts);
  if (threads > 0) {
    /* Before any OpenCL call: PoCL reads it when it starts its workers. */
    char n[16];
    snprintf(n, sizeof n, "%d", threads);
    setenv("POCL_MAX_PTHREAD_COUNT", n, 1);
    opts.num_threads = threads;
    blas_threads = threads;
  }
  clcnn_context *ctx = NULL;
  if (clcnn_context_create(&opts, &ctx)) {
    fprintf(stderr, "bench_conv: %s\n", clcnn_last_error());
    return 1;
  }
  printf("%-22s %7s | %8s %7s %7s | %8s %7s | %8s %7s | %8s %8s\n", "conv (Cin>Cout KxK @HW)",
         "GFLOP", "OCL ms", "kern ms", "GFLOP/s", "CPU ms", "GFLOP/s", "BLAS ms", "GFLOP/s",
         "OCL/BLAS", "CPU/BLAS");
  int failures = 0;
  double sum_ocl = 0, sum_cpu = 0, sum_blas = 0;
  for (int i = 0; i < nshapes; i++) {
    const shape *s = &shapes[i];
    const int ohw = (s->hw + 2 * (s->k / 2) - s->k) / s->stride + 1;
    double flop = 2.0 * s->cout * (double)ohw * ohw * (double)s->cin * s->k * s->k;
    size_t len = 0;
    uint8_t *bytes = conv_model(s, &len);
    clcnn_model *m = NULL;
    if (!bytes || clcnn_model_load_memory(ctx, bytes, len, NULL, &m)) {
      fprintf(stderr, "bench_conv: model: %s\n", clcnn_last_error());
      free(bytes);
      failures++;
      continue;
    }
    size_t xn = (size_t)s->cin * (size_t)s->hw * (size_t)s->hw;
    float *xd = malloc(sizeof(float) * xn);
    for (size_t j = 0; j < xn; j++) xd[j] = rnd();
    clcnn_tensor x = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4,
                      .dims = {1, s->cin, s->hw, s->hw}, .data = xd};
    blas_data bd = {s->cout, ohw * ohw, s->cin * s->k * s->k, NULL, NULL, NULL};
    bd.a = malloc(sizeof(float) * (size_t)bd.m * (size_t)bd.k);
    bd.b = malloc(sizeof(float) * (size_t)bd.k * (size_t)bd.n);
    bd.c = malloc(sizeof(float) * (size_t)bd.m * (size_t)bd.n);
    for (size_t j = 0; j < (size_t)bd.m * (size_t)bd.k; j++) bd.a[j] = rnd();
    for (size_t j = 0; j < (size_t)bd.k * (size_t)bd.n; j++) bd.b[j] = rnd();
    contender c[3] = {{NULL, NULL, CLCNN_HAVE_CBLAS != 0},
                      {open_session(m, device, 1, 0, &x), NULL, false},
                      {with_cpu ? open_session(m, "cpu", 0, 0, &x) : NULL, NULL, false}};
    c[1].ok = c[1].s != NULL;
    c[2].ok = c[2].s != NULL;
    int blas_saved = blas_begin();
    blas_run(&bd);
    blas_run(&bd);
    blas_end(blas_saved);
    for (int j = 0; j < 3; j++) c[j].t = malloc(sizeof(double) * (size_t)runs);
    /* Rounds of a few runs of each in turn, a pause between them: OpenBLAS's
     * threads spin for a while after a call, and PoCL's and OpenMP's take
     * time to yield; each block starts with one untimed run. */
    const int rounds = runs >= 15 ? 5 : runs >= 6 ? 3 : 1;
    for (int r = 0, done = 0; r < rounds; r++) {
      int upto = runs * (r + 1) / rounds;
      for (int j = 0; j < 3; j++) {
        if (!c[j].ok) continue;
        nanosleep(&(struct timespec){0, 200000000}, NULL);
        int saved = j == 0 ? blas_begin() : 0; /* OpenBLAS's own thread count */
        for (int t = done - 1; t < upto && c[j].ok; t++) {
          double t0 = now_s();
          if (j == 0)
            blas_run(&bd);
          else if (clcnn_session_run(c[j].s)) {
            fprintf(stderr, "bench_conv: %s\n", clcnn_session_error(c[j].s));
            c[j].ok = false;
          }
          if (t >= done) c[j].t[t] = (now_s() - t0) * 1e3;
        }
        if (j == 0) blas_end(saved);
      }
      done = upto;
    }
    result blas = {c[0].ok ? median(c[0].t, runs) : 0, 0, c[0].ok};
    result ocl = {c[1].ok ? median(c[1].t, runs) : 0, NAN, c[1].ok};
    result cpu = {c[2].ok ? median(c[2].t, runs) : 0, 0, c[2].ok};
    for (int j = 0; j < 3; j++) {
      clcnn_session_free(c[j].s);
      free(c[j].t);
    }
    free(bd.a);
    free(bd.b);
    free(bd.c);
    clcnn_session *prof = ocl.ok ? open_session(m, device, 1, 1, &x) : NULL;
    if (prof) ocl.kernel_ms = kernel_ms(prof, runs);
    clcnn_session_free(prof);
    char name[64];
    snprintf(name, sizeof name, "%d>%d %dx%d @%d%s", s->cin, s->cout, s->k, s->k, s->hw,
             s->stride > 1 ? " s2" : "");
    if (s->stride > 2) snprintf(name, sizeof name, "%d>%d %dx%d @%d s%d", s->cin, s->cout, s->k,
                                s->k, s->hw, s->stride);
    double gf = flop / 1e9;
    printf("%-22s %7.3f | %8.3f %7.3f %7.1f | %8.3f %7.1f | %8.3f %7.1f | %7.0f%% %7.0f%%\n",
           name, gf, ocl.ok ? ocl.ms : NAN, ocl.kernel_ms, ocl.ok ? gf / ocl.ms * 1e3 : NAN,
           cpu.ok ? cpu.ms : NAN, cpu.ok ? gf / cpu.ms * 1e3 : NAN, blas.ok ? blas.ms : NAN,
           blas.ok ? gf / blas.ms * 1e3 : NAN, ocl.ok && blas.ok ? 100.0 * blas.ms / ocl.ms : NAN,
           cpu.ok && blas.ok ? 100.0 * blas.ms / cpu.ms : NAN);
    fflush(stdout);
    if (!ocl.ok || (with_cpu && !cpu.ok)) failures++;
    if (ocl.ok) sum_ocl += ocl.ms;
    if (cpu.ok) sum_cpu += cpu.ms;
    if (blas.ok) sum_blas += blas.ms;
    free(xd);
    free(bytes);
    clcnn_model_free(m);
  }
  printf("%-22s %7s | %8.3f %7s %7s | %8.3f %7s | %8.3f %7s | %7.0f%% %7.0f%%\n", "total", "",
         sum_ocl, "", "", sum_cpu, "", sum_blas, "", sum_ocl > 0 ? 100.0 * sum_blas / sum_ocl : NAN,
         sum_cpu > 0 ? 100.0 * sum_blas / sum_cpu : NAN);
  clcnn_context_free(ctx);
  return failures ? 1 : 0;
}
