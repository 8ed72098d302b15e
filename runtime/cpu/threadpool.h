/* The CPU backend's thread pool (runtime/cpu/threadpool.c).
 *
 * One pool per clcnn_context, shared by its sessions: created with the
 * context's thread count the first time a CPU backend is opened
 * (cpu_pool_of_context), its N-1 worker threads started at its first
 * parallel loop, freed (workers joined) with the context.
 *
 * cpu_parallel_for() splits [0, n) into chunks of at least `grain` items,
 * many more chunks than threads (about 16 per thread), claimed one at a time
 * from an atomic counter by the calling thread and the workers. A thread that
 * loses its core for a while delays only the chunk it holds; the others take
 * the rest. Workers that find no work spin for a few tens of microseconds
 * (with a pause instruction) and then sleep on a condition variable; the
 * caller, once no chunk is left to claim, waits the same way for the chunks
 * still running.
 *
 * One loop runs on the pool at a time. A call made while the pool runs
 * another caller's loop (sessions on several host threads), or from inside a
 * loop's function (nested), or with a NULL pool, runs the whole range inline
 * on the calling thread as thread 0: it never blocks on another caller and
 * never deadlocks. A nested call's per-thread scratch must therefore not be
 * the outer loop's.
 *
 * Workers are plain pthreads: no signal mask, environment or process-wide
 * setting is touched. Where oneDNN was built with OpenMP, each worker sets its
 * own thread's nthreads-var to 1 (the threads are ours); the host's threads
 * are never touched. A worker that cannot be started leaves the pool with
 * fewer threads (none: every loop inline); no error reaches the user. */
#ifndef CLCNN_CPU_THREADPOOL_H
#define CLCNN_CPU_THREADPOOL_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cpu_pool cpu_pool;
typedef struct clcnn_context clcnn_context;

/* Runs items [begin, end) on thread `thread`, in [0, nthreads) of the loop
 * (0 is the calling thread, and every inline run). */
typedef void (*cpu_task_fn)(void *arg, int64_t begin, int64_t end, int thread);

/* A pool of `nthreads` threads, the caller's included (workers start at the
 * first loop); NULL when out of memory (loops then run inline). */
cpu_pool *cpu_pool_create(int nthreads);
/* Stops and joins the workers and frees the pool; NULL does nothing. No loop
 * may be running on it. */
void cpu_pool_free(cpu_pool *p);
/* The pool's thread count (1 for NULL). */
int cpu_pool_threads(const cpu_pool *p);

/* Calls fn over [0, n) in chunks of at least `grain` (>= 1) items with at
 * most `nthreads` threads of the pool, and returns when every item has run.
 * Each item runs exactly once; the thread index passed is below
 * min(nthreads, cpu_pool_threads(p)) and is held by one thread at a time.
 * nthreads <= 1, n <= grain, a NULL or busy pool, or a nested call: one call
 * fn(arg, 0, n, 0) on the calling thread. */
void cpu_parallel_for(cpu_pool *p, int nthreads, int64_t n, int64_t grain, cpu_task_fn fn,
                      void *arg);

/* Whether the calling thread is a worker of some pool. */
bool cpu_pool_on_worker(void);

/* The context's pool, created on the first call with `nthreads` threads;
 * NULL if it could not be created (loops then run inline). Defined in
 * runtime/cpu/backend.c. */
cpu_pool *cpu_pool_of_context(clcnn_context *ctx, int nthreads);

#endif /* CLCNN_CPU_THREADPOOL_H */
