/* CLBlast's process-wide state (host/clblast_cache.h). */
#include "clblast_cache.h"

#include <pthread.h>
#include <stdbool.h>

#include "clcnn_config.h"

#if CLCNN_HAVE_CLBLAST
#include <clblast_c.h>

static pthread_mutex_t clblast_lock = PTHREAD_MUTEX_INITIALIZER;

/* Contexts CLBlast has compiled programs for (cleared with the context). */
#define CLBLAST_CTX_MAX 64
static cl_context clblast_ctx[CLBLAST_CTX_MAX];
static int clblast_nctx;
static bool clblast_overflow;

void ocl_clblast_enter(cl_context ctx) {
  pthread_mutex_lock(&clblast_lock);
  for (int i = 0; i < clblast_nctx; i++)
    if (clblast_ctx[i] == ctx) return;
  if (clblast_nctx < CLBLAST_CTX_MAX)
    clblast_ctx[clblast_nctx++] = ctx;
  else
    clblast_overflow = true;
}

void ocl_clblast_leave(void) { pthread_mutex_unlock(&clblast_lock); }

void ocl_clblast_release_context(cl_context ctx) {
  pthread_mutex_lock(&clblast_lock);
  bool used = clblast_overflow;
  for (int i = 0; i < clblast_nctx; i++)
    if (clblast_ctx[i] == ctx) {
      used = true;
      clblast_ctx[i] = clblast_ctx[--clblast_nctx];
      break;
    }
  /* CLBlast's C API clears its whole cache; programs of other live contexts
   * are rebuilt (from CLBlast's binary cache) on their next use. */
  if (used) {
    CLBlastClearCache();
    if (clblast_nctx == 0) clblast_overflow = false;
  }
  pthread_mutex_unlock(&clblast_lock);
}
#else
void ocl_clblast_enter(cl_context ctx) { (void)ctx; }
void ocl_clblast_leave(void) {}
void ocl_clblast_release_context(cl_context ctx) { (void)ctx; }
#endif
