/* The CPU backend's thread pool: see threadpool.h for what it promises.
 *
 * How a loop runs. The caller takes `busy` (a try-lock: taken means run
 * inline), writes the loop's parameters into the pool, sets `pending` to the
 * number of chunks and publishes the loop in one 64-bit word, `claim`:
 * generation (32 bits) | number of chunks (16) | next chunk (16). Each thread
 * claims a chunk with a compare-and-swap that advances `next` and succeeds
 * only while the word still holds the generation it read, so a worker that
 * wakes late and reads the parameters of a newer loop fails its swap and
 * runs nothing of it; a successful swap proves the parameters it read were
 * that loop's (the next loop's are written only after every chunk of this
 * one was claimed and run). The thread that finishes the last chunk wakes
 * the caller if it sleeps. The 32-bit generation could only be confused
 * by a thread that stalls between its read and its swap for 2^32 loops.
 *
 * Waking. Workers that see no new generation spin for SPIN_NS with a pause
 * instruction, then sleep on `wake`. The publishing store of `claim` and a
 * worker's increment of `sleepers` are sequentially consistent, as are the
 * worker's decrement of `pending` and the caller's `caller_sleeping`: each
 * side reads the other's variable after writing its own, so one of them
 * always sees the other and no wake-up is lost. */
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "clcnn_config.h"

#if CLCNN_HAVE_DNNL && defined(_OPENMP)
#include <omp.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define CPU_PAUSE() __asm__ __volatile__("yield")
#else
#define CPU_PAUSE() ((void)0)
#endif

/* How long an idle thread spins before it sleeps. */
#define SPIN_NS 50000
/* Chunks per thread of a loop (more than one, so that a thread that loses
 * its core delays only a small part of the loop). */
#define CHUNKS_PER_THREAD 16
#define MAX_CHUNKS 0xFFFF

typedef struct worker {
  cpu_pool *pool;
  int index;
  uint32_t gen; /* the generation when the worker was started */
  pthread_t tid;
} worker;

struct cpu_pool {
  int nthreads;
  int nworkers; /* started */
  bool started; /* workers were started (under busy) */
  worker *workers;
  atomic_bool busy;
  atomic_bool stop;
  atomic_uint_least64_t claim; /* gen << 32 | nchunks << 16 | next */
  uint32_t gen;                /* the caller's copy (under busy) */
  /* The loop's parameters, written by the caller before it publishes the
   * generation; atomics so that a worker that reads them late is no race. */
  _Atomic(cpu_task_fn) fn;
  _Atomic(void *) arg;
  atomic_int_least64_t n, chunk;
  atomic_int threads;
  atomic_int_least64_t pending; /* chunks not yet finished */
  pthread_mutex_t lock;
  pthread_cond_t wake, done;
  atomic_int sleepers;
  atomic_bool caller_sleeping;
};

static _Thread_local bool on_worker;

bool cpu_pool_on_worker(void) { return on_worker; }

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint32_t word_gen(uint64_t w) { return (uint32_t)(w >> 32); }

/* Claims and runs chunks of generation `gen` until none is left. */
static void run_chunks(cpu_pool *p, uint32_t gen, int thread) {
  uint64_t w = atomic_load_explicit(&p->claim, memory_order_acquire);
  for (;;) {
    if (word_gen(w) != gen) return;
    uint32_t nchunks = (uint32_t)(w >> 16) & MAX_CHUNKS, next = (uint32_t)w & MAX_CHUNKS;
    if (next >= nchunks) return;
    if (thread >= atomic_load_explicit(&p->threads, memory_order_relaxed)) return;
    cpu_task_fn fn = atomic_load_explicit(&p->fn, memory_order_relaxed);
    void *arg = atomic_load_explicit(&p->arg, memory_order_relaxed);
    int64_t n = atomic_load_explicit(&p->n, memory_order_relaxed);
    int64_t chunk = atomic_load_explicit(&p->chunk, memory_order_relaxed);
    if (!atomic_compare_exchange_weak_explicit(&p->claim, &w, w + 1, memory_order_acquire,
                                               memory_order_acquire))
      continue; /* w holds the current word */
    int64_t begin = (int64_t)next * chunk, end = begin + chunk < n ? begin + chunk : n;
    fn(arg, begin, end, thread);
    if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->caller_sleeping)) {
      pthread_mutex_lock(&p->lock);
      pthread_cond_signal(&p->done);
      pthread_mutex_unlock(&p->lock);
    }
    w = atomic_load_explicit(&p->claim, memory_order_acquire);
  }
}

static void *worker_main(void *varg) {
  worker *self = varg;
  cpu_pool *p = self->pool;
  on_worker = true;
#if CLCNN_HAVE_DNNL && defined(_OPENMP)
  /* This thread is ours: oneDNN inside a chunk runs on it alone. */
  omp_set_num_threads(1);
#endif
  uint32_t seen = self->gen;
  for (;;) {
    /* Spin, then sleep, until a new generation or stop. */
    int64_t t0 = 0;
    for (unsigned i = 0;; i++) {
      if (atomic_load_explicit(&p->stop, memory_order_relaxed) ||
          word_gen(atomic_load_explicit(&p->claim, memory_order_relaxed)) != seen)
        break;
      CPU_PAUSE();
      if ((i & 63) == 63) {
        int64_t t = now_ns();
        if (!t0)
          t0 = t;
        else if (t - t0 > SPIN_NS) {
          pthread_mutex_lock(&p->lock);
          atomic_fetch_add(&p->sleepers, 1);
          while (!atomic_load(&p->stop) && word_gen(atomic_load(&p->claim)) == seen)
            pthread_cond_wait(&p->wake, &p->lock);
          atomic_fetch_sub(&p->sleepers, 1);
          pthread_mutex_unlock(&p->lock);
          break;
        }
      }
    }
    if (atomic_load(&p->stop)) break;
    seen = word_gen(atomic_load_explicit(&p->claim, memory_order_acquire));
    run_chunks(p, seen, self->index);
  }
  return NULL;
}

cpu_pool *cpu_pool_create(int nthreads) {
  cpu_pool *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->nthreads = nthreads > 1 ? nthreads : 1;
  if (p->nthreads > 1 && !(p->workers = calloc((size_t)p->nthreads - 1, sizeof *p->workers))) {
    free(p);
    return NULL;
  }
  if (pthread_mutex_init(&p->lock, NULL)) goto fail_mutex;
  if (pthread_cond_init(&p->wake, NULL)) goto fail_wake;
  if (pthread_cond_init(&p->done, NULL)) goto fail_done;
  atomic_init(&p->busy, false);
  atomic_init(&p->stop, false);
  atomic_init(&p->claim, 0);
  atomic_init(&p->fn, NULL);
  atomic_init(&p->arg, NULL);
  atomic_init(&p->n, 0);
  atomic_init(&p->chunk, 0);
  atomic_init(&p->threads, 0);
  atomic_init(&p->pending, 0);
  atomic_init(&p->sleepers, 0);
  atomic_init(&p->caller_sleeping, false);
  return p;
fail_done:
  pthread_cond_destroy(&p->wake);
fail_wake:
  pthread_mutex_destroy(&p->lock);
fail_mutex:
  free(p->workers);
  free(p);
  return NULL;
}

void cpu_pool_free(cpu_pool *p) {
  if (!p) return;
  if (p->nworkers) {
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->stop, true);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nworkers; i++) pthread_join(p->workers[i].tid, NULL);
  }
  pthread_cond_destroy(&p->done);
  pthread_cond_destroy(&p->wake);
  pthread_mutex_destroy(&p->lock);
  free(p->workers);
  free(p);
}

int cpu_pool_threads(const cpu_pool *p) { return p ? p->nthreads : 1; }

/* Starts the workers (under busy, before the first loop is published). */
static void start_workers(cpu_pool *p) {
  p->started = true;
  for (int i = 0; i < p->nthreads - 1; i++) {
    worker *w = &p->workers[p->nworkers];
    *w = (worker){.pool = p, .index = p->nworkers + 1, .gen = p->gen};
    if (pthread_create(&w->tid, NULL, worker_main, w)) break;
    p->nworkers++;
  }
}

void cpu_parallel_for(cpu_pool *p, int nthreads, int64_t n, int64_t grain, cpu_task_fn fn,
                      void *arg) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  bool expect = false;
  if (!p || nthreads <= 1 || p->nthreads <= 1 || n <= grain ||
      !atomic_compare_exchange_strong(&p->busy, &expect, true)) {
    fn(arg, 0, n, 0);
    return;
  }
  if (!p->started) start_workers(p);
  int nt = nthreads < p->nworkers + 1 ? nthreads : p->nworkers + 1;
  int64_t chunk = (n + (int64_t)CHUNKS_PER_THREAD * nt - 1) / ((int64_t)CHUNKS_PER_THREAD * nt);
  if (chunk < grain) chunk = grain;
  if ((n + chunk - 1) / chunk > MAX_CHUNKS) chunk = (n + MAX_CHUNKS - 1) / MAX_CHUNKS;
  int64_t nchunks = (n + chunk - 1) / chunk;
  if (nt <= 1 || nchunks <= 1) {
    atomic_store_explicit(&p->busy, false, memory_order_release);
    fn(arg, 0, n, 0);
    return;
  }
  atomic_store_explicit(&p->fn, fn, memory_order_relaxed);
  atomic_store_explicit(&p->arg, arg, memory_order_relaxed);
  atomic_store_explicit(&p->n, n, memory_order_relaxed);
  atomic_store_explicit(&p->chunk, chunk, memory_order_relaxed);
  atomic_store_explicit(&p->threads, nt, memory_order_relaxed);
  atomic_store_explicit(&p->pending, nchunks, memory_order_relaxed);
  p->gen++;
  atomic_store(&p->claim, (uint64_t)p->gen << 32 | (uint64_t)nchunks << 16);
  if (atomic_load(&p->sleepers) > 0) {
    pthread_mutex_lock(&p->lock);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
  }
  run_chunks(p, p->gen, 0);
  /* Wait for the chunks other threads still run: spin, then sleep. */
  int64_t t0 = 0;
  for (unsigned i = 0; atomic_load(&p->pending) != 0; i++) {
    CPU_PAUSE();
    if ((i & 63) != 63) continue;
    int64_t t = now_ns();
    if (!t0) {
      t0 = t;
    } else if (t - t0 > SPIN_NS) {
      pthread_mutex_lock(&p->lock);
      atomic_store(&p->caller_sleeping, true);
      while (atomic_load(&p->pending) != 0) pthread_cond_wait(&p->done, &p->lock);
      atomic_store(&p->caller_sleeping, false);
      pthread_mutex_unlock(&p->lock);
      break;
    }
  }
  atomic_store_explicit(&p->busy, false, memory_order_release);
}
