/* See op_harness.h. Builds the one-node model with protobuf-c, so the test
 * goes through the same import path as a real model. */
#include "op_harness.h"

#include <check.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "model_builder.h"

#define HT_MAX 16

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float rnd01(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (float)((rng_state >> 40) & 0xFFFFFF) / (float)0x1000000;
}

static void *make_data(const ht_input *in, size_t *bytes) {
  clcnn_dtype dt = in->dtype ? in->dtype : CLCNN_DTYPE_FLOAT32;
  int64_t n = shape_numel(in->rank, in->dims);
  size_t es = dtype_size(dt);
  *bytes = (size_t)n * es;
  void *p = malloc(*bytes ? *bytes : 1);
  if (!p) return NULL;
  if (in->data) {
    memcpy(p, in->data, *bytes);
    return p;
  }
  float lo = in->lo, hi = in->hi;
  if (lo == 0 && hi == 0) lo = -1, hi = 1;
  for (int64_t i = 0; i < n; i++) {
    float r = lo + (hi - lo) * rnd01();
    if (dt == CLCNN_DTYPE_FLOAT32) ((float *)p)[i] = r;
    else if (dt == CLCNN_DTYPE_INT64) ((int64_t *)p)[i] = (int64_t)floorf(r);
    else if (dt == CLCNN_DTYPE_INT32) ((int32_t *)p)[i] = (int32_t)floorf(r);
    else memset((char *)p + i * (int64_t)es, 0, es);
  }
  return p;
}

/* Small-shapes mode (CLCNN_TEST_MAX_ELEMS=N, for slow simulated devices such
 * as Oclgrind): a case whose inputs and outputs hold more than N elements in
 * all is not run on the device. The counts are printed at exit. */
static long small_max = -1; /* -1: not read yet; 0: every case runs */
static int small_run, small_skipped;

static void small_report(void) {
  printf("small-shapes mode (CLCNN_TEST_MAX_ELEMS=%ld): %d cases run on the device, %d larger "
         "ones left out\n",
         small_max, small_run, small_skipped);
  fflush(stdout);
}

static long small_limit(void) {
  if (small_max < 0) {
    const char *s = getenv("CLCNN_TEST_MAX_ELEMS");
    small_max = s && s[0] ? strtol(s, NULL, 10) : 0;
    if (small_max < 0) small_max = 0;
    if (small_max) atexit(small_report);
  }
  return small_max;
}

static int64_t input_elems(const ht_input *inputs, int nin) {
  int64_t n = 0;
  for (int i = 0; i < nin; i++)
    if (!inputs[i].omitted) n += shape_numel(inputs[i].rank, inputs[i].dims);
  return n;
}

/* The knobs the op tests set, as they were when the test started. */
static const char *const env_knobs[] = {"CLCNN_OCL_VARIANT", "CLCNN_CONV", "CLCNN_GEMM",
                                        "CLCNN_TUNE"};
#define NKNOBS (sizeof env_knobs / sizeof *env_knobs)
static char *env_start[NKNOBS];
static bool env_saved;

static void env_save(void) {
  if (env_saved) return;
  env_saved = true;
  for (size_t i = 0; i < NKNOBS; i++) {
    const char *v = getenv(env_knobs[i]);
    env_start[i] = v ? strdup(v) : NULL;
  }
}

void ht_env_restore(void) {
  env_save();
  for (size_t i = 0; i < NKNOBS; i++) {
    if (env_start[i]) setenv(env_knobs[i], env_start[i], 1);
    else unsetenv(env_knobs[i]);
  }
}

/* Probed in a child process: OpenCL runtimes do not survive fork(), and
 * Check forks each test, so the parent must not start OpenCL itself. */
bool ht_have_opencl(void) {
  env_save();
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ht_input x = HT_INPUT("X", 1, 4);
    _exit(ht_run("Relu", 13, &x, 1, 1, NULL, 0, 0.0f) == HT_SKIP ? 1 : 0);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Serialises the one-node model; returns malloc'd bytes. data[i] gets the
 * constant data of input i (freed by the caller). */
static uint8_t *build_model(const char *op_type, int opset, const ht_input *inputs, int nin,
                            int nout, const ht_attr *attrs, int nattr, void **data, size_t *len) {
  mb *b = mb_new(opset);
  if (!b) return NULL;
  char in_list[512] = "", out_list[256] = "";
  for (int i = 0; i < nin; i++) {
    const ht_input *in = &inputs[i];
    size_t l = strlen(in_list);
    snprintf(in_list + l, sizeof in_list - l, "%s%s", i ? "," : "", in->omitted ? "" : in->name);
    if (in->omitted) continue;
    clcnn_dtype dt = in->dtype ? in->dtype : CLCNN_DTYPE_FLOAT32;
    if (in->constant) {
      size_t bytes;
      data[i] = make_data(in, &bytes);
      mb_init(b, in->name, dt, in->rank, in->dims, data[i]);
    } else {
      mb_input(b, in->name, dt, in->rank, in->dims);
    }
  }
  for (int k = 0; k < nout; k++) {
    char name[16];
    snprintf(name, sizeof name, "Y%d", k);
    size_t l = strlen(out_list);
    snprintf(out_list + l, sizeof out_list - l, "%s%s", k ? "," : "", name);
    mb_output(b, name);
  }
  mb_node(b, op_type, in_list, out_list, nattr, attrs);
  uint8_t *bytes = mb_pack(b, len);
  mb_free(b);
  return bytes;
}

static const char *test_device(void) {
  const char *d = getenv("CLCNN_TEST_DEVICE");
  return d && d[0] ? d : "opencl";
}

ht_result ht_run_model(const char *desc, const uint8_t *bytes, size_t len, const ht_input *inputs,
                       int nin, float tol) {
  if (nin > HT_MAX) return HT_FAIL;
  ht_result result = HT_FAIL;
  clcnn_context *ctx = NULL;
  clcnn_model *m = NULL;
  clcnn_session *dev = NULL, *cpu = NULL;
  void *feed[HT_MAX] = {0};
  if (clcnn_context_create(NULL, &ctx) ||
      clcnn_model_load_memory(ctx, bytes, len, NULL, &m)) {
    printf("FAIL %s: load: %s\n", desc, clcnn_last_error());
    goto out;
  }
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  /* The CPU backend first: in small-shapes mode its outputs' sizes decide
   * whether the case runs on the device at all. */
  so.device = "cpu";
  if (clcnn_session_create(m, &so, NULL, 0, &cpu)) {
    printf("FAIL %s: CPU session: %s\n", desc, clcnn_last_error());
    goto out;
  }
  for (int i = 0; i < nin; i++) {
    if (inputs[i].omitted || inputs[i].constant) continue;
    clcnn_tensor t = {.dtype = inputs[i].dtype ? inputs[i].dtype : CLCNN_DTYPE_FLOAT32,
                      .rank = inputs[i].rank};
    memcpy(t.dims, inputs[i].dims, sizeof t.dims);
    size_t b;
    t.data = feed[i] = make_data(&inputs[i], &b);
    if (clcnn_session_set_input(cpu, inputs[i].name, &t)) {
      printf("FAIL %s: set input: %s\n", desc, clcnn_last_error());
      goto out;
    }
  }
  if (clcnn_session_run(cpu)) {
    printf("FAIL %s: CPU run: %s\n", desc, clcnn_session_error(cpu));
    goto out;
  }
  if (small_limit()) {
    int64_t elems = input_elems(inputs, nin);
    for (int k = 0; k < clcnn_model_output_count(m); k++) {
      clcnn_io_info oi;
      clcnn_tensor b;
      clcnn_model_output_info(m, k, &oi);
      if (clcnn_session_output(cpu, oi.name, &b) == CLCNN_OK) elems += clcnn_tensor_numel(&b);
    }
    if (elems > small_limit()) {
      printf("left out (small shapes): %s, %lld elements\n", desc, (long long)elems);
      small_skipped++;
      result = HT_PASS;
      goto out;
    }
    small_run++;
  }
  so.device = test_device();
  so.strict = 1;
  clcnn_status st = clcnn_session_create(m, &so, NULL, 0, &dev);
  if (st == CLCNN_ERROR_DEVICE) {
    result = HT_SKIP;
    goto out;
  }
  if (st) {
    printf("FAIL %s: OpenCL session: %s\n", desc, clcnn_last_error());
    goto out;
  }
  for (int i = 0; i < nin; i++) {
    if (inputs[i].omitted || inputs[i].constant) continue;
    clcnn_tensor t = {.dtype = inputs[i].dtype ? inputs[i].dtype : CLCNN_DTYPE_FLOAT32,
                      .rank = inputs[i].rank, .data = feed[i]};
    memcpy(t.dims, inputs[i].dims, sizeof t.dims);
    if (clcnn_session_set_input(dev, inputs[i].name, &t)) {
      printf("FAIL %s: set input: %s\n", desc, clcnn_last_error());
      goto out;
    }
  }
  if (clcnn_session_run(dev)) {
    printf("FAIL %s: OpenCL run: %s\n", desc, clcnn_session_error(dev));
    goto out;
  }
  result = HT_PASS;
  for (int k = 0; k < clcnn_model_output_count(m); k++) {
    clcnn_io_info oi;
    clcnn_model_output_info(m, k, &oi);
    const char *name = oi.name;
    clcnn_tensor a, b;
    if (clcnn_session_output(dev, name, &a) || clcnn_session_output(cpu, name, &b)) {
      printf("FAIL %s: output %s missing\n", desc, name);
      result = HT_FAIL;
      break;
    }
    bool same = a.rank == b.rank && a.dtype == b.dtype;
    for (int d = 0; same && d < a.rank; d++) same = a.dims[d] == b.dims[d];
    if (!same) {
      char sa[96], sb[96];
      printf("FAIL %s: output %s shape %s vs CPU %s\n", desc, name,
             shape_str(a.rank, a.dims, sa, sizeof sa), shape_str(b.rank, b.dims, sb, sizeof sb));
      result = HT_FAIL;
      break;
    }
    int64_t n = clcnn_tensor_numel(&a), worst = -1;
    double worst_err = 0;
    for (int64_t i = 0; i < n; i++) {
      double x = tensor_get_f64(&a, i), y = tensor_get_f64(&b, i);
      double e = fabs(x - y) / (1.0 + fabs(y));
      if (isnan(x) != isnan(y)) e = INFINITY;
      if (isnan(x) && isnan(y)) e = 0;
      if (e > worst_err) worst_err = e, worst = i;
    }
    if (worst_err > tol) {
      printf("FAIL %s: output %s element %lld: OpenCL %.7g, CPU %.7g (error %.3g > %.3g)\n",
             desc, name, (long long)worst, tensor_get_f64(&a, worst), tensor_get_f64(&b, worst),
             worst_err, (double)tol);
      result = HT_FAIL;
    }
  }
out:
  for (int i = 0; i < HT_MAX; i++) free(feed[i]);
  clcnn_session_free(dev);
  clcnn_session_free(cpu);
  clcnn_model_free(m);
  clcnn_context_free(ctx);
  return result;
}

ht_result ht_run(const char *op_type, int opset, const ht_input *inputs, int nin, int nout,
                 const ht_attr *attrs, int nattr, float tol) {
  if (nin > HT_MAX || nout > HT_MAX || nattr > HT_MAX) return HT_FAIL;
  void *data[HT_MAX] = {0};
  size_t len = 0;
  uint8_t *bytes = build_model(op_type, opset, inputs, nin, nout, attrs, nattr, data, &len);
  char desc[256];
  snprintf(desc, sizeof desc, "%s(opset %d", op_type, opset);
  for (int i = 0; i < nin; i++) {
    char sh[96];
    size_t l = strlen(desc);
    snprintf(desc + l, sizeof desc - l, ", %s%s", inputs[i].omitted ? "-" : "",
             inputs[i].omitted ? "" : shape_str(inputs[i].rank, inputs[i].dims, sh, sizeof sh));
  }
  strncat(desc, ")", sizeof desc - strlen(desc) - 1);
  ht_result result = bytes ? ht_run_model(desc, bytes, len, inputs, nin, tol) : HT_FAIL;
  for (int i = 0; i < HT_MAX; i++) free(data[i]);
  free(bytes);
  return result;
}

int ht_main(const char *name, const ht_test *tests, int count) {
  if (!ht_have_opencl()) {
    printf("SKIP: no OpenCL device\n");
    return 77;
  }
  Suite *s = suite_create(name);
  for (int i = 0; i < count; i++) {
    TCase *tc = tcase_create(tests[i].name);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, tests[i].test);
    suite_add_tcase(s, tc);
  }
  SRunner *sr = srunner_create(s);
  /* In one process: an OpenCL runtime started before a fork() does not work
   * in the child (PoCL's worker threads are gone). */
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
