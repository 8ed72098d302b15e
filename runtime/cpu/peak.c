/* The CPU backend's peak rates for clcnn_device_peak_get(): FP32
 * multiply-adds on registers, one thread per backend thread, and a
 * streaming copy of a buffer larger than the caches. Measured on each call
 * (well under a second); nothing is cached. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../backend.h"
#include "../internal.h"

#define PEAK_MAX_THREADS 256
#define COPY_BYTES ((size_t)256 << 20) /* per buffer: far beyond any cache */

/* 16 floats: one AVX-512 register, two AVX ones. */
typedef float v16 __attribute__((vector_size(64)));

/* 8 independent chains of `iters` multiply-adds on 16 lanes: 256 flops an
 * iteration, 8 vector FMAs in flight (enough to cover their latency on two
 * FMA ports). Contraction into FMA is asked for here: ISO C mode leaves it
 * off. The sum is returned so that the loop stays. */
#if defined(__clang__)
#define CONTRACT_ATTR
#define CONTRACT_PRAGMA _Pragma("clang fp contract(fast)")
#else
#define CONTRACT_ATTR __attribute__((optimize("fp-contract=fast")))
#define CONTRACT_PRAGMA
#endif
#define FMA_CHAINS_BODY                                                     \
  CONTRACT_PRAGMA                                                           \
  v16 x0, x1, x2, x3, x4, x5, x6, x7;                                       \
  for (int l = 0; l < 16; l++) {                                            \
    x0[l] = (float)l * 1e-3f;                                               \
    x1[l] = x0[l] + 1, x2[l] = x0[l] + 2, x3[l] = x0[l] + 3, x4[l] = x0[l] + 4; \
    x5[l] = x0[l] + 5, x6[l] = x0[l] + 6, x7[l] = x0[l] + 7;                \
  }                                                                         \
  for (long i = 0; i < iters; i++) {                                        \
    x0 = x0 * a + b, x1 = x1 * a + b, x2 = x2 * a + b, x3 = x3 * a + b;     \
    x4 = x4 * a + b, x5 = x5 * a + b, x6 = x6 * a + b, x7 = x7 * a + b;     \
  }                                                                         \
  v16 s = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7));                \
  float t = 0;                                                              \
  for (int l = 0; l < 16; l++) t += s[l];                                   \
  return t;

CONTRACT_ATTR __attribute__((noinline)) static float fma_chains_base(
    long iters, float a, float b) {
  FMA_CHAINS_BODY
}

/* x86: the widest ISA the CPU reports, chosen at run time by feature (not
 * by CPU model, which a newer CPU than the compiler knows would fail). */
#if defined(__GNUC__) && defined(__x86_64__)
#define PEAK_X86 1
CONTRACT_ATTR __attribute__((noinline, target("avx512f,fma"))) static float
fma_chains_avx512(long iters, float a, float b) {
  FMA_CHAINS_BODY
}
CONTRACT_ATTR __attribute__((noinline, target("avx2,fma"))) static float
fma_chains_avx2(long iters, float a, float b) {
  FMA_CHAINS_BODY
}
#endif

static float fma_chains(long iters, float a, float b) {
#ifdef PEAK_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return fma_chains_avx512(iters, a, b);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return fma_chains_avx2(iters, a, b);
#endif
  return fma_chains_base(iters, a, b);
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Where a round's threads wait to start together (go) or to give up
 * (abort: not every thread could be created). */
typedef struct peak_start {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int state; /* 0 wait, 1 go, 2 abort */
} peak_start;

/* One thread's part of a round: `iters` of fma_chains, or (n > 0) a copy
 * of n bytes. */
typedef struct peak_job {
  peak_start *start;
  long iters;
  const char *src;
  char *dst;
  size_t n;
  float sink;
} peak_job;

static void job_work(peak_job *j) {
  if (j->n) memcpy(j->dst, j->src, j->n);
  else j->sink = fma_chains(j->iters, 0.9999f, 1e-4f);
}

static void *job_thread(void *arg) {
  peak_job *j = arg;
  pthread_mutex_lock(&j->start->lock);
  while (!j->start->state) pthread_cond_wait(&j->start->cond, &j->start->lock);
  int state = j->start->state;
  pthread_mutex_unlock(&j->start->lock);
  if (state == 1) job_work(j);
  return NULL;
}

static void set_state(peak_start *st, int state) {
  pthread_mutex_lock(&st->lock);
  st->state = state;
  pthread_cond_broadcast(&st->cond);
  pthread_mutex_unlock(&st->lock);
}

/* Runs jobs[0..threads) together, jobs[0] on this thread, and returns the
 * seconds from their common start to the last one's end (< 0: not every
 * thread could be started). */
static double run_round(peak_job *jobs, int threads) {
  peak_start st = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
  pthread_t tid[PEAK_MAX_THREADS];
  int started = 1;
  for (int t = 0; t < threads; t++) jobs[t].start = &st;
  for (; started < threads; started++)
    if (pthread_create(&tid[started], NULL, job_thread, &jobs[started]) != 0) break;
  bool all = started == threads;
  set_state(&st, all ? 1 : 2);
  double t0 = now_s();
  if (all) job_work(&jobs[0]);
  for (int t = 1; t < started; t++) pthread_join(tid[t], NULL);
  double sec = now_s() - t0;
  pthread_cond_destroy(&st.cond);
  pthread_mutex_destroy(&st.lock);
  return all ? sec : -1;
}

clcnn_status cpu_backend_peak(int threads, clcnn_device_peak *out, clcnn_err *err) {
  memset(out, 0, sizeof *out);
  if (threads < 1) threads = 1;
  if (threads > PEAK_MAX_THREADS) threads = PEAK_MAX_THREADS;
  peak_job *jobs = calloc((size_t)threads, sizeof *jobs);
  if (!jobs) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");

  /* FMA: the iteration count doubles until a round takes 50 ms; then the
   * best of three rounds of that size. */
  long iters = 1 << 12;
  double best = 0;
  for (int timed = 0; timed < 3;) {
    for (int t = 0; t < threads; t++) jobs[t] = (peak_job){.iters = iters};
    double sec = run_round(jobs, threads);
    if (sec < 0) goto no_threads;
    if (sec < 0.05 && iters < (1L << 30)) {
      iters *= 2;
      continue;
    }
    double rate = 256.0 * (double)iters * threads / sec;
    if (rate > best) best = rate;
    timed++;
  }
  out->fp32_gflops = best / 1e9;

  /* Copy: each thread a slice of two buffers of COPY_BYTES (touched once
   * before timing, so that page faults are not measured); best of 3. */
  char *src = malloc(COPY_BYTES), *dst = malloc(COPY_BYTES);
  if (src && dst) {
    memset(src, 1, COPY_BYTES);
    memset(dst, 0, COPY_BYTES);
    size_t slice = COPY_BYTES / (size_t)threads & ~(size_t)63;
    best = 0;
    for (int r = 0; r < 4; r++) {
      for (int t = 0; t < threads; t++)
        jobs[t] = (peak_job){.src = src + (size_t)t * slice, .dst = dst + (size_t)t * slice,
                             .n = slice};
      double sec = run_round(jobs, threads);
      if (sec < 0) {
        free(src);
        free(dst);
        goto no_threads;
      }
      double rate = sec > 0 ? 2.0 * (double)slice * threads / sec : 0;
      if (r > 0 && rate > best) best = rate; /* round 0 warms up */
    }
    out->bandwidth_gbs = best / 1e9;
  }
  free(src);
  free(dst);
  free(jobs);
  return CLCNN_OK;

no_threads:
  free(jobs);
  return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "cannot start %d threads to measure the CPU",
                 threads);
}
