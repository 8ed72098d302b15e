/* Unit tests of the CPU backend's thread pool (runtime/cpu/threadpool.h):
 * every item runs exactly once over a grid of (items, grain, pool threads,
 * loop threads); thread indexes stay in range and no index is held by two
 * threads at once; a nested call and a call while another thread's loop
 * runs complete inline; several host threads share one pool without
 * deadlock; a pool of one thread and a NULL pool run inline; workers that
 * went to sleep wake for the next loop, and a caller that went to sleep
 * wakes when a slow chunk ends; pools are created and freed repeatedly
 * (leaks show in the sanitize suite). */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/threadpool.h"

enum { MAX_THREADS = 16 };

/* What a loop saw: per item, how often it ran; per thread index, whether a
 * chunk holds it now, and errors. */
typedef struct seen {
  atomic_int *count;
  int64_t n;
  int max_thread; /* indexes must be below this */
  atomic_int busy[MAX_THREADS];
  atomic_int bad_thread, overlap, chunks;
  atomic_int threads_used[MAX_THREADS];
  int sleep_us_off_caller; /* chunks not on thread 0 sleep this long */
} seen;

static void sleep_us(int us) {
  struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

static void record(void *arg, int64_t begin, int64_t end, int thread) {
  seen *s = arg;
  atomic_fetch_add(&s->chunks, 1);
  if (thread < 0 || thread >= s->max_thread || thread >= MAX_THREADS) {
    atomic_fetch_add(&s->bad_thread, 1);
    return;
  }
  if (atomic_exchange(&s->busy[thread], 1)) atomic_fetch_add(&s->overlap, 1);
  atomic_store(&s->threads_used[thread], 1);
  if (begin < 0 || end > s->n || begin >= end) atomic_fetch_add(&s->bad_thread, 1);
  for (int64_t i = begin; i < end && i >= 0 && i < s->n; i++) atomic_fetch_add(&s->count[i], 1);
  if (thread != 0 && s->sleep_us_off_caller) sleep_us(s->sleep_us_off_caller);
  atomic_store(&s->busy[thread], 0);
}

static seen *seen_new(int64_t n, int max_thread) {
  seen *s = calloc(1, sizeof *s);
  s->count = calloc((size_t)(n ? n : 1), sizeof *s->count);
  s->n = n;
  s->max_thread = max_thread;
  return s;
}

/* The first item that did not run exactly once, or -1 (one assertion per
 * loop: check writes a message for each assertion). */
static int64_t first_wrong(atomic_int *count, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (atomic_load(&count[i]) != 1) return i;
  return -1;
}

static void seen_check(const seen *s, const char *what) {
  int64_t i = first_wrong(s->count, s->n);
  ck_assert_msg(i < 0, "%s: item %lld ran %d times", what, (long long)i,
                i < 0 ? 1 : atomic_load(&s->count[i]));
  ck_assert_msg(atomic_load(&s->bad_thread) == 0, "%s: thread index or range out of bounds",
                what);
  ck_assert_msg(atomic_load(&s->overlap) == 0, "%s: a thread index held by two threads", what);
}

static void seen_free(seen *s) {
  free(s->count);
  free(s);
}

static void run_checked(cpu_pool *pool, int nthreads, int64_t n, int64_t grain) {
  int limit = nthreads < cpu_pool_threads(pool) ? nthreads : cpu_pool_threads(pool);
  if (limit < 1) limit = 1;
  seen *s = seen_new(n, limit);
  cpu_parallel_for(pool, nthreads, n, grain, record, s);
  char what[128];
  snprintf(what, sizeof what, "pool %d, nthreads %d, n %lld, grain %lld", cpu_pool_threads(pool),
           nthreads, (long long)n, (long long)grain);
  seen_check(s, what);
  if (n > 0 && grain >= n) ck_assert_int_eq(atomic_load(&s->chunks), 1);
  seen_free(s);
}

START_TEST(every_item_once) {
  static const int64_t ns[] = {0, 1, 2, 3, 7, 64, 1000, 4097, 100003};
  static const int64_t grains[] = {1, 3, 64, 5000};
  static const int pools[] = {1, 2, 3, 4, 8};
  for (size_t pi = 0; pi < sizeof pools / sizeof pools[0]; pi++) {
    cpu_pool *pool = cpu_pool_create(pools[pi]);
    ck_assert_ptr_nonnull(pool);
    ck_assert_int_eq(cpu_pool_threads(pool), pools[pi]);
    int nts[] = {1, 2, pools[pi], pools[pi] + 3};
    for (size_t ti = 0; ti < 4; ti++)
      for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
        for (size_t gi = 0; gi < sizeof grains / sizeof grains[0]; gi++)
          run_checked(pool, nts[ti], ns[ni], grains[gi]);
    cpu_pool_free(pool);
  }
}
END_TEST

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Many items and a pool of 4: more than one thread takes part (on a busy
 * machine a worker may be late for many loops, not for 10 s of them), and
 * the loop is split into more chunks than threads. */
START_TEST(threads_take_part) {
  cpu_pool *pool = cpu_pool_create(4);
  ck_assert_ptr_nonnull(pool);
  int used = 0, max_chunks = 0;
  const double t0 = now_s();
  while (used < 2 && now_s() - t0 < 10.0) {
    seen *s = seen_new(20000, 4);
    s->sleep_us_off_caller = 20;
    cpu_parallel_for(pool, 4, s->n, 1, record, s);
    seen_check(s, "threads_take_part");
    int u = 0;
    for (int t = 0; t < 4; t++) u += atomic_load(&s->threads_used[t]);
    if (u > used) used = u;
    if (atomic_load(&s->chunks) > max_chunks) max_chunks = atomic_load(&s->chunks);
    seen_free(s);
  }
  ck_assert_int_ge(used, 2);
  ck_assert_int_ge(max_chunks, 8 * 4);
  cpu_pool_free(pool);
}
END_TEST

START_TEST(null_pool_and_one_thread_inline) {
  run_checked(NULL, 4, 1000, 1);
  cpu_pool *pool = cpu_pool_create(1);
  ck_assert_ptr_nonnull(pool);
  seen *s = seen_new(5000, 1);
  cpu_parallel_for(pool, 8, s->n, 1, record, s);
  seen_check(s, "pool of 1");
  ck_assert_int_eq(atomic_load(&s->chunks), 1);
  seen_free(s);
  cpu_pool_free(pool);
  cpu_pool_free(NULL);
  ck_assert_int_eq(cpu_pool_threads(NULL), 1);
}
END_TEST

/* A loop whose chunks each run an inner loop on the same pool. */
typedef struct nested {
  cpu_pool *pool;
  int64_t inner_n;
  atomic_int *count; /* [outer][inner] */
  atomic_int bad;
} nested;

typedef struct inner_arg {
  nested *nd;
  int64_t row;
} inner_arg;

static void inner_fn(void *arg, int64_t begin, int64_t end, int thread) {
  inner_arg *ia = arg;
  if (thread != 0) atomic_fetch_add(&ia->nd->bad, 1); /* nested: inline, thread 0 */
  for (int64_t i = begin; i < end; i++)
    atomic_fetch_add(&ia->nd->count[ia->row * ia->nd->inner_n + i], 1);
}

static void outer_fn(void *arg, int64_t begin, int64_t end, int thread) {
  nested *nd = arg;
  (void)thread;
  for (int64_t r = begin; r < end; r++) {
    inner_arg ia = {nd, r};
    cpu_parallel_for(nd->pool, 4, nd->inner_n, 1, inner_fn, &ia);
  }
}

START_TEST(nested_calls_run_inline) {
  cpu_pool *pool = cpu_pool_create(3);
  ck_assert_ptr_nonnull(pool);
  const int64_t outer = 97, inner = 301;
  nested nd = {.pool = pool, .inner_n = inner};
  nd.count = calloc((size_t)(outer * inner), sizeof *nd.count);
  cpu_parallel_for(pool, 3, outer, 1, outer_fn, &nd);
  ck_assert_int_eq(first_wrong(nd.count, outer * inner), -1);
  ck_assert_int_eq(atomic_load(&nd.bad), 0);
  free(nd.count);
  cpu_pool_free(pool);
}
END_TEST

/* Host threads share one pool: whoever finds it busy runs inline. */
enum { CALLERS = 4, LOOPS = 150 };

typedef struct caller_arg {
  cpu_pool *pool;
  int id;
  atomic_int failures;
} caller_arg;

static void *caller_main(void *arg) {
  caller_arg *ca = arg;
  for (int l = 0; l < LOOPS; l++) {
    int64_t n = 1 + (l * 131 + ca->id * 17) % 3000;
    seen *s = seen_new(n, 3);
    cpu_parallel_for(ca->pool, 3, n, 1 + l % 5, record, s);
    if (first_wrong(s->count, n) >= 0) atomic_fetch_add(&ca->failures, 1);
    if (atomic_load(&s->bad_thread) || atomic_load(&s->overlap)) atomic_fetch_add(&ca->failures, 1);
    seen_free(s);
  }
  return NULL;
}

START_TEST(concurrent_callers) {
  cpu_pool *pool = cpu_pool_create(3);
  ck_assert_ptr_nonnull(pool);
  pthread_t t[CALLERS];
  caller_arg args[CALLERS];
  for (int i = 0; i < CALLERS; i++) {
    args[i] = (caller_arg){.pool = pool, .id = i};
    ck_assert_int_eq(pthread_create(&t[i], NULL, caller_main, &args[i]), 0);
  }
  for (int i = 0; i < CALLERS; i++) {
    pthread_join(t[i], NULL);
    ck_assert_int_eq(atomic_load(&args[i].failures), 0);
  }
  cpu_pool_free(pool);
}
END_TEST

/* Idle workers sleep after tens of microseconds: loops after a pause must
 * still complete (and use them); a chunk that is slow on a worker makes the
 * caller sleep until it ends. */
START_TEST(sleep_and_wake) {
  cpu_pool *pool = cpu_pool_create(2);
  ck_assert_ptr_nonnull(pool);
  for (int rep = 0; rep < 30; rep++) {
    sleep_us(rep % 3 == 0 ? 2000 : 100);
    seen *s = seen_new(4000, 2);
    s->sleep_us_off_caller = rep % 2 ? 300 : 0;
    cpu_parallel_for(pool, 2, s->n, 1, record, s);
    seen_check(s, "sleep_and_wake");
    seen_free(s);
  }
  cpu_pool_free(pool);
}
END_TEST

/* Pools created and freed, used or not (workers start at the first loop). */
START_TEST(create_free_repeatedly) {
  for (int i = 0; i < 40; i++) {
    cpu_pool *pool = cpu_pool_create(1 + i % 5);
    ck_assert_ptr_nonnull(pool);
    if (i % 2) run_checked(pool, 8, 257, 1);
    cpu_pool_free(pool);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("threadpool");
  /* One case per test, so that CK_RUN_CASE can pick one. */
  const struct {
    const char *name;
    const TTest *test;
  } tests[] = {{"every_item_once", every_item_once},
               {"threads_take_part", threads_take_part},
               {"null_pool_and_one_thread_inline", null_pool_and_one_thread_inline},
               {"nested_calls_run_inline", nested_calls_run_inline},
               {"concurrent_callers", concurrent_callers},
               {"sleep_and_wake", sleep_and_wake},
               {"create_free_repeatedly", create_free_repeatedly}};
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
    TCase *tc = tcase_create(tests[i].name);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tests[i].test);
    suite_add_tcase(s, tc);
  }
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
