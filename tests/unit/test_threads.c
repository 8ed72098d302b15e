/* Threads: 8 threads share two models, each creating sessions on the CPU
 * backend and on the OpenCL device (when there is one), alternately, and
 * running them with inputs of their own; 1000 runs in all. Every output must
 * be bit-identical to what a single-threaded session of the same backend
 * gave for the same input. Covers the shared device contexts, programs and
 * weights (host/devctx.c), the per-thread test hook and last-error, and the
 * CPU backend's threads. Without OpenCL, only CPU sessions run. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn.h"
#include "model_builder.h"

enum { THREADS = 8, RUNS_PER_THREAD = 125, INPUTS = 4, BACKENDS = 2 };
enum { C = 64, H = 13, W = 11, NX = C * H * W }; /* C = 64: the Conv is on the oneDNN path */

static clcnn_context *ctx;
static clcnn_model *models[2];
static const char *devices[BACKENDS] = {"cpu", "opencl"};
static int nbackends = 1;
static float inputs[INPUTS][NX];
/* [model][backend][input][output]: the single-threaded answers. */
static float *want[2][BACKENDS][INPUTS][2];
static size_t want_n[2][2];

/* Model 0: Conv+Relu, a residual Add, GlobalAveragePool; two outputs, the
 * Add's value also read by the pool (5.3M multiply-adds: oneDNN on the CPU
 * backend, its packed weights shared by the sessions). Model 1: depthwise
 * Conv, Sigmoid, Mul. */
static clcnn_model *make_model(int which) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, C, H, W});
  float w[C * C * 9], bias[C];
  for (int i = 0; i < C * C * 9; i++) w[i] = (float)((i * 31 + which * 7) % 23 - 11) / 64.0f;
  for (int i = 0; i < C; i++) bias[i] = 0.05f * (float)(i - 3);
  if (which == 0) {
    mb_init_f32(b, "w", 4, (int64_t[]){C, C, 3, 3}, w);
    mb_init_f32(b, "b", 1, (int64_t[]){C}, bias);
    mb_node(b, "Conv", "x,w,b", "c", 1, (mb_attr[]){MB_INTS("pads", 1, 1, 1, 1)});
    mb_node(b, "Relu", "c", "r", 0, NULL);
    mb_node(b, "Add", "r,x", "a", 0, NULL);
    mb_node(b, "GlobalAveragePool", "a", "y", 0, NULL);
    mb_output(b, "y");
    mb_output(b, "a");
  } else {
    mb_init_f32(b, "w", 4, (int64_t[]){C, 1, 3, 3}, w);
    mb_init_f32(b, "b", 1, (int64_t[]){C}, bias);
    mb_node(b, "Conv", "x,w,b", "c", 2,
            (mb_attr[]){MB_INTS("pads", 1, 1, 1, 1), MB_INT("group", C)});
    mb_node(b, "Sigmoid", "c", "s", 0, NULL);
    mb_node(b, "Mul", "s,x", "y", 0, NULL);
    mb_output(b, "y");
  }
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  clcnn_model *m = NULL;
  if (clcnn_model_load_memory(ctx, bytes, len, NULL, &m)) m = NULL;
  free(bytes);
  mb_free(b);
  return m;
}

static const char *out_name(int model, int k) { return model == 0 && k == 1 ? "a" : "y"; }
static int out_count(int model) { return model == 0 ? 2 : 1; }

/* Runs a session on input `in`; copies its outputs into out[] (NX floats
 * each, malloc'd when NULL). Returns a message on failure, NULL on success. */
static const char *run_once(clcnn_session *s, int model, int in, float **out, size_t *n,
                            char *why, size_t len) {
  clcnn_tensor t = {CLCNN_DTYPE_FLOAT32, 4, {1, C, H, W}, inputs[in]};
  if (clcnn_session_set_input(s, "x", &t) || clcnn_session_run(s)) {
    snprintf(why, len, "run: %s", clcnn_session_error(s));
    return why;
  }
  for (int k = 0; k < out_count(model); k++) {
    clcnn_tensor y;
    if (clcnn_session_output(s, out_name(model, k), &y)) {
      snprintf(why, len, "output: %s", clcnn_session_error(s));
      return why;
    }
    n[k] = (size_t)clcnn_tensor_numel(&y);
    if (n[k] > NX) return "an output larger than the input";
    if (!out[k] && !(out[k] = malloc(NX * sizeof(float)))) return "out of memory";
    memcpy(out[k], y.data, n[k] * sizeof(float));
  }
  return NULL;
}

static clcnn_session *open_session(int model, int backend) {
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = devices[backend];
  clcnn_session *s = NULL;
  if (clcnn_session_create(models[model], &so, NULL, 0, &s)) return NULL;
  return s;
}

typedef struct job {
  int id, runs, mismatches;
  char why[512];
} job;

static void *worker(void *arg) {
  job *j = arg;
  float *got[2] = {NULL, NULL};
  size_t n[2];
  unsigned seed = 0x9e3779b9u * (unsigned)(j->id + 1);
  for (int r = 0; r < RUNS_PER_THREAD && !j->why[0];) {
    seed = seed * 1664525u + 1013904223u;
    int model = (int)(seed >> 8) % 2, backend = (int)(seed >> 12) % nbackends;
    clcnn_session *s = open_session(model, backend);
    if (!s) {
      snprintf(j->why, sizeof j->why, "create %s: %s", devices[backend], clcnn_last_error());
      break;
    }
    /* A few runs per session, with different inputs, then a new session. */
    for (int k = 0; k < 5 && r < RUNS_PER_THREAD; k++, r++) {
      int in = (int)((seed >> (16 + k)) % INPUTS);
      if (run_once(s, model, in, got, n, j->why, sizeof j->why)) break;
      for (int o = 0; o < out_count(model); o++)
        if (n[o] != want_n[model][o] ||
            memcmp(got[o], want[model][backend][in][o], n[o] * sizeof(float)) != 0)
          j->mismatches++;
      j->runs++;
    }
    clcnn_session_free(s);
  }
  free(got[0]);
  free(got[1]);
  return NULL;
}

START_TEST(threads_share_models_bit_identical) {
  /* The single-threaded answers, per model, backend and input. */
  for (int m = 0; m < 2; m++)
    for (int b = 0; b < nbackends; b++) {
      clcnn_session *s = open_session(m, b);
      ck_assert_msg(s != NULL, "%s: %s", devices[b], clcnn_last_error());
      for (int i = 0; i < INPUTS; i++) {
        char why[512];
        const char *e = run_once(s, m, i, want[m][b][i], want_n[m], why, sizeof why);
        ck_assert_msg(e == NULL, "%s", e ? e : "");
      }
      clcnn_session_free(s);
    }
  pthread_t th[THREADS];
  job jobs[THREADS];
  for (int i = 0; i < THREADS; i++) {
    memset(&jobs[i], 0, sizeof jobs[i]);
    jobs[i].id = i;
    ck_assert_int_eq(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
  }
  int runs = 0, mismatches = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(th[i], NULL);
    ck_assert_msg(!jobs[i].why[0], "thread %d: %s", i, jobs[i].why);
    runs += jobs[i].runs;
    mismatches += jobs[i].mismatches;
  }
  printf("%d threads, %d runs on %s, %d outputs differ from single-threaded runs\n", THREADS,
         runs, nbackends == 2 ? "the CPU backend and OpenCL" : "the CPU backend", mismatches);
  ck_assert_int_eq(runs, THREADS * RUNS_PER_THREAD);
  ck_assert_int_eq(mismatches, 0);
  for (int m = 0; m < 2; m++)
    for (int b = 0; b < nbackends; b++)
      for (int i = 0; i < INPUTS; i++)
        for (int o = 0; o < 2; o++) free(want[m][b][i][o]);
}
END_TEST

int main(void) {
  for (int i = 0; i < INPUTS; i++)
    for (int k = 0; k < NX; k++) inputs[i][k] = (float)((k * (7 + 2 * i) + 3 * i) % 41 - 20) / 9.0f;
  const clcnn_device_info *devs;
  int n = 0;
  clcnn_devices(&devs, &n);
  for (int i = 0; i < n; i++) /* an OpenCL device "opencl" can open */
    if (devs[i].index >= 0 && devs[i].available) nbackends = 2;
  if (nbackends == 1) printf("note: no OpenCL device: CPU sessions only\n");
  Suite *s = suite_create("threads");
  TCase *tc = tcase_create("threads");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, threads_share_models_bit_identical);
  suite_add_tcase(s, tc);
  if (clcnn_context_create(NULL, &ctx)) return 1;
  SRunner *sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  models[0] = make_model(0);
  models[1] = make_model(1);
  if (!models[0] || !models[1]) {
    fprintf(stderr, "test_threads: the models do not load: %s\n", clcnn_last_error());
    return 1;
  }
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  clcnn_model_free(models[0]);
  clcnn_model_free(models[1]);
  clcnn_context_free(ctx);
  return failed ? 1 : 0;
}
