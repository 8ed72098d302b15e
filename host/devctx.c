/* Shared OpenCL contexts, programs and weights (host/devctx.h). */
#include "devctx.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clblast_cache.h"
#include "ocl.h"

/* ------------------------------------------------------------ buffers */

/* Test hooks (host/ocl.h): when a count is > 0, the call of that kind that
 * brings it to 0 fails. */
static _Atomic int fault_countdown[OCL_FAULT_KINDS];
void ocl_test_fail(ocl_fault kind, int nth) { fault_countdown[kind] = nth; }
void ocl_test_fail_allocation(int nth) { ocl_test_fail(OCL_FAULT_ALLOC, nth); }
int ocl_test_fail_pending(ocl_fault kind) { return fault_countdown[kind]; }
bool ocl_fault_now(ocl_fault kind) {
  return fault_countdown[kind] > 0 && --fault_countdown[kind] == 0;
}

static _Atomic int lost_after = -1; /* enqueues left before the loss; -1: never */
void ocl_test_device_lost(int after) { lost_after = after; }
bool ocl_device_lost_now(bool counts) {
  int left = lost_after;
  if (left < 0) return false;
  if (left == 0) return true;
  if (counts) lost_after = left - 1;
  return false;
}

cl_mem ocl_create_buffer(cl_context ctx, cl_mem_flags flags, size_t bytes, void *host,
                         cl_int *rc) {
  if (ocl_fault_now(OCL_FAULT_ALLOC)) {
    *rc = CL_MEM_OBJECT_ALLOCATION_FAILURE;
    return NULL;
  }
  return clCreateBuffer(ctx, flags, bytes, host, rc);
}

/* ----------------------------------------------------------- programs */

typedef struct program_entry {
  char *file, *options;
  cl_program program;
} program_entry;

/* A program built from source whose disk-cache entry is still to write. */
typedef struct pending_write {
  cl_program program; /* retained */
  char *path;
  uint8_t key[OCL_CACHE_KEY_SIZE];
} pending_write;

struct ocl_devctx {
  const ocl_device_info *dev;
  cl_context ctx;
  bool app_owned;           /* the application's context: freed with its last session */
  int refs;                 /* sessions using it (under the registry's lock) */
  ocl_cache_config cache;   /* its dir resolved from the environment once */
  char cache_dir[OCL_CACHE_PATH_MAX];
  ocl_knobs knobs;
  pthread_mutex_t lock;     /* the program list */
  program_entry *programs;
  int nprograms, cap;
  /* Cache entries are written by a thread of the devctx after a session's
   * run, not while sessions are created (ocl_devctx_write_cache). */
  pending_write *pending;     /* under `lock` */
  int npending, pending_cap;
  bool writer_busy;           /* under `lock`: a writer owns the queue */
  bool writer_joinable;       /* `writer` is a thread to join */
  pthread_t writer;
  struct devctx_registry *registry;
};

static void pending_free(pending_write *w) {
  clReleaseProgram(w->program);
  free(w->path);
}

/* Writes queued entries until none is left; run by the writer thread, and
 * by devctx_destroy for what came after it. */
static void write_pending(ocl_devctx *dc) {
  ocl_build_report *r = malloc(sizeof *r); /* large: keep it off the stack */
  for (;;) {
    pthread_mutex_lock(&dc->lock);
    if (dc->npending == 0 || !r) {
      dc->writer_busy = false;
      pthread_mutex_unlock(&dc->lock);
      break;
    }
    pending_write w = dc->pending[--dc->npending];
    pthread_mutex_unlock(&dc->lock);
    memset(r, 0, sizeof *r);
    /* A failed write only costs the next process a build. */
    ocl_program_cache_write(w.program, dc->dev->device, w.path, w.key, r);
    pending_free(&w);
  }
  free(r);
}

static void *cache_writer(void *arg) {
  /* The application's signals are for its own threads. */
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  write_pending(arg);
  return NULL;
}

void ocl_devctx_write_cache(ocl_devctx *dc) {
  pthread_mutex_lock(&dc->lock);
  const bool start = dc->npending > 0 && !dc->writer_busy;
  if (start) dc->writer_busy = true;
  pthread_mutex_unlock(&dc->lock);
  if (!start) return;
  /* Only the thread that set writer_busy gets here; the last writer has
   * left its loop and is joined at once. */
  if (dc->writer_joinable) pthread_join(dc->writer, NULL);
  dc->writer_joinable = pthread_create(&dc->writer, NULL, cache_writer, dc) == 0;
  if (!dc->writer_joinable) {
    pthread_mutex_lock(&dc->lock);
    dc->writer_busy = false; /* written by devctx_destroy instead */
    pthread_mutex_unlock(&dc->lock);
  }
}

/* Queues the entry of a program just built (the lock is not held). */
static void queue_write(ocl_devctx *dc, cl_program p, const ocl_build_report *r) {
  pending_write w = {p, strdup(r->path), {0}};
  memcpy(w.key, r->key, sizeof w.key);
  if (!w.path) return;
  pthread_mutex_lock(&dc->lock);
  if (dc->npending == dc->pending_cap) {
    int cap = dc->pending_cap ? 2 * dc->pending_cap : 16;
    pending_write *t = realloc(dc->pending, sizeof *t * (size_t)cap);
    if (t) {
      dc->pending = t;
      dc->pending_cap = cap;
    }
  }
  if (dc->npending < dc->pending_cap) {
    clRetainProgram(p);
    dc->pending[dc->npending++] = w;
    w.path = NULL;
  }
  pthread_mutex_unlock(&dc->lock);
  free(w.path);
}


/* The devctxs of one clcnn_context. */
typedef struct devctx_registry {
  pthread_mutex_t lock;
  ocl_devctx **items;
  int count, cap;
} devctx_registry;

static const int registry_key = 0;

static void devctx_destroy(ocl_devctx *dc) {
  /* Entries still to write are written now: the next process needs them. */
  if (dc->writer_joinable) pthread_join(dc->writer, NULL);
  write_pending(dc);
  free(dc->pending);
  for (int i = 0; i < dc->nprograms; i++) {
    clReleaseProgram(dc->programs[i].program);
    free(dc->programs[i].file);
    free(dc->programs[i].options);
  }
  free(dc->programs);
  if (dc->ctx) {
    ocl_clblast_release_context(dc->ctx); /* CLBlast's programs for it */
    clReleaseContext(dc->ctx);
  }
  pthread_mutex_destroy(&dc->lock);
  free(dc);
}

static void *registry_create(void *arg) {
  (void)arg;
  devctx_registry *r = calloc(1, sizeof *r);
  if (r) pthread_mutex_init(&r->lock, NULL);
  return r;
}

static void registry_free(void *obj) {
  devctx_registry *r = obj;
  for (int i = 0; i < r->count; i++) devctx_destroy(r->items[i]);
  free(r->items);
  pthread_mutex_destroy(&r->lock);
  free(r);
}

clcnn_status ocl_devctx_acquire(clcnn_context *ctx, const ocl_device_info *dev,
                                cl_context app_context, const ocl_cache_config *cache,
                                ocl_devctx **out, clcnn_err *err) {
  *out = NULL;
  devctx_registry *r = context_attachment(ctx, &registry_key, registry_create, NULL, registry_free);
  if (!r) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  clcnn_status st = CLCNN_OK;
  pthread_mutex_lock(&r->lock);
  for (int i = 0; i < r->count; i++) {
    ocl_devctx *dc = r->items[i];
    if (dc->dev == dev && (app_context ? dc->ctx == app_context : !dc->app_owned)) {
      dc->refs++;
      *out = dc;
      goto done;
    }
  }
  if (r->count == r->cap) {
    int cap = r->cap ? 2 * r->cap : 4;
    ocl_devctx **p = realloc(r->items, sizeof *p * (size_t)cap);
    if (!p) {
      st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      goto done;
    }
    r->items = p;
    r->cap = cap;
  }
  ocl_devctx *dc = calloc(1, sizeof *dc);
  if (!dc) {
    st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  pthread_mutex_init(&dc->lock, NULL);
  dc->dev = dev;
  dc->registry = r;
  dc->cache = *cache; /* the strings are the context's, which outlives dc */
  dc->cache.defer_write = true;
  /* CLCNN_CACHE_DIR, XDG_CACHE_HOME and HOME once, not at every build. */
  if (!dc->cache.disabled && ocl_cache_dir(&dc->cache, dc->cache_dir, sizeof dc->cache_dir))
    dc->cache.dir = dc->cache_dir;
  ocl_knobs_read(&dc->knobs);
  if (app_context) {
    clRetainContext(app_context);
    dc->ctx = app_context;
    dc->app_owned = true;
  } else {
    cl_int rc;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)dev->platform, 0};
    dc->ctx = clCreateContext(props, 1, &dev->device, NULL, NULL, &rc);
    if (rc != CL_SUCCESS) {
      st = err_set(err, CLCNN_ERROR_DEVICE, "clCreateContext failed on %s: %s (%d)", dev->name,
                   ocl_error_str(rc), (int)rc);
      dc->ctx = NULL;
      devctx_destroy(dc);
      goto done;
    }
  }
  dc->refs = 1;
  r->items[r->count++] = dc;
  *out = dc;
done:
  pthread_mutex_unlock(&r->lock);
  return st;
}

void ocl_devctx_release(ocl_devctx *dc) {
  if (!dc) return;
  devctx_registry *r = dc->registry;
  bool destroy = false;
  pthread_mutex_lock(&r->lock);
  /* clcnn's own contexts stay for the next session; an application's goes
   * with its last session, as clcnn_opencl.h promises. */
  if (--dc->refs == 0 && dc->app_owned) {
    for (int i = 0; i < r->count; i++)
      if (r->items[i] == dc) {
        r->items[i] = r->items[--r->count];
        break;
      }
    destroy = true;
  }
  pthread_mutex_unlock(&r->lock);
  if (destroy) devctx_destroy(dc);
}

cl_context ocl_devctx_context(const ocl_devctx *dc) { return dc->ctx; }
const ocl_knobs *ocl_devctx_knobs(const ocl_devctx *dc) { return &dc->knobs; }

static bool env_is(const char *name, const char *value) {
  const char *v = getenv(name);
  return v && !strcmp(v, value);
}

const ocl_cache_config *ocl_devctx_cache(const ocl_devctx *dc) { return &dc->cache; }

void ocl_knobs_read(ocl_knobs *k) {
  memset(k, 0, sizeof *k);
  k->variant = env_is("CLCNN_OCL_VARIANT", "gpu")   ? OCL_KNOB_GPU
               : env_is("CLCNN_OCL_VARIANT", "cpu") ? OCL_KNOB_CPU
                                                    : OCL_KNOB_AUTO;
  k->conv = env_is("CLCNN_CONV", "im2col")   ? OCL_CONV_IM2COL
            : env_is("CLCNN_CONV", "direct") ? OCL_CONV_DIRECT
                                             : OCL_CONV_AUTO;
  k->gemm = env_is("CLCNN_GEMM", "own")       ? OCL_GEMM_KNOB_OWN
            : env_is("CLCNN_GEMM", "clblast") ? OCL_GEMM_KNOB_CLBLAST
                                              : OCL_GEMM_KNOB_AUTO;
  k->tune = env_is("CLCNN_TUNE", "1");
  const char *dir = getenv("CLCNN_KERNEL_DIR");
  if (dir) snprintf(k->kernel_dir, sizeof k->kernel_dir, "%s", dir);
}

extern const struct embedded_file {
  const char *name;
  const char *data;
  size_t size;
} clcnn_embedded_kernels[];

/* One kernel file: DIR/FILE when `dir` is not empty (CLCNN_KERNEL_DIR, for
 * kernel development), else the copy embedded at build time. Returns
 * malloc'd text. */
static char *read_kernel_file(const char *dir, const char *file, size_t *size, clcnn_err *err) {
  if (dir[0]) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "rb");
    if (!f) {
      err_set(err, CLCNN_ERROR_IO, "CLCNN_KERNEL_DIR: cannot open '%s'", path);
      return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)(n > 0 ? n : 0) + 1);
    if (!p || (n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n)) {
      fclose(f);
      free(p);
      err_set(err, CLCNN_ERROR_IO, "cannot read '%s'", path);
      return NULL;
    }
    fclose(f);
    *size = (size_t)(n > 0 ? n : 0);
    return p;
  }
  const struct embedded_file *e = clcnn_embedded_kernels;
  while (e->name && strcmp(e->name, file) != 0) e++;
  if (!e->name) {
    err_set(err, CLCNN_ERROR_INTERNAL, "no embedded kernel file '%s'", file);
    return NULL;
  }
  char *p = malloc(e->size + 1);
  if (!p) {
    err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    return NULL;
  }
  memcpy(p, e->data, e->size);
  *size = e->size;
  return p;
}

/* common.cl, a newline, then FILE. */
static char *kernel_source(const char *dir, const char *file, clcnn_err *err) {
  size_t n0 = 0, n1 = 0;
  char *common = read_kernel_file(dir, "common.cl", &n0, err);
  if (!common) return NULL;
  char *body = read_kernel_file(dir, file, &n1, err);
  char *src = body ? malloc(n0 + n1 + 2) : NULL;
  if (src) {
    memcpy(src, common, n0);
    src[n0] = '\n';
    memcpy(src + n0 + 1, body, n1);
    src[n0 + 1 + n1] = 0;
  } else if (body) {
    err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  free(common);
  free(body);
  return src;
}

static cl_program find_program(ocl_devctx *dc, const char *file, const char *options) {
  for (int i = 0; i < dc->nprograms; i++)
    if (!strcmp(dc->programs[i].file, file) && !strcmp(dc->programs[i].options, options))
      return dc->programs[i].program;
  return NULL;
}

clcnn_status ocl_devctx_program(ocl_devctx *dc, const char *file, const char *options,
                                cl_program *out, bool *built, bool *from_disk, clcnn_err *err) {
  if (built) *built = false;
  if (from_disk) *from_disk = false;
  pthread_mutex_lock(&dc->lock);
  cl_program p = find_program(dc, file, options);
  pthread_mutex_unlock(&dc->lock);
  if (p) {
    *out = p;
    return CLCNN_OK;
  }
  /* Built without the lock: sessions on other threads keep building their
   * own programs meanwhile. Two threads may build the same one; the first
   * kept wins. */
  if (ocl_fault_now(OCL_FAULT_BUILD))
    return err_set(err, CLCNN_ERROR_KERNEL_BUILD,
                   "building %s failed: CL_BUILD_PROGRAM_FAILURE (injected by the test hook)", file);
  char *src = kernel_source(dc->knobs.kernel_dir, file, err);
  if (!src) return err->status;
  char opts[4096];
  /* -w: no warnings, which some compilers (PoCL's clang) print on the
   * process's stderr besides the build log; errors still come in the log. */
  snprintf(opts, sizeof opts, "-cl-std=CL1.2 -cl-mad-enable -cl-no-signed-zeros -w %s", options);
  ocl_build_report *report = malloc(sizeof *report); /* large: keep it off the stack */
  if (!report) {
    free(src);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  clcnn_status st = ocl_program_build_ex(dc->ctx, dc->dev->device, dc->dev, src, opts,
                                         &dc->cache, &p, report, err);
  free(src);
  const bool hit = st == CLCNN_OK && report->cache_hit;
  if (st == CLCNN_OK && report->write_pending) queue_write(dc, p, report);
  free(report);
  if (st) return st;
  pthread_mutex_lock(&dc->lock);
  cl_program kept = find_program(dc, file, options);
  if (!kept && dc->nprograms == dc->cap) {
    int cap = dc->cap ? dc->cap * 2 : 16;
    program_entry *e = realloc(dc->programs, sizeof *e * (size_t)cap);
    if (e) {
      dc->programs = e;
      dc->cap = cap;
    }
  }
  if (!kept && dc->nprograms < dc->cap) {
    program_entry *e = &dc->programs[dc->nprograms];
    e->file = strdup(file);
    e->options = strdup(options);
    if (e->file && e->options) {
      e->program = p;
      dc->nprograms++;
      kept = p;
    } else {
      free(e->file);
      free(e->options);
    }
  }
  pthread_mutex_unlock(&dc->lock);
  if (kept != p) clReleaseProgram(p);
  if (!kept) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  if (built) *built = true;
  if (from_disk) *from_disk = hit;
  *out = kept;
  return CLCNN_OK;
}

/* ------------------------------------------------------------ weights */

typedef struct weight_entry {
  uint8_t hash[OCL_CACHE_KEY_SIZE];
  size_t bytes;
  cl_mem mem;
  const void *model_data; /* the model's bytes it was made from (ocl_weights_get_model), or NULL */
} weight_entry;

struct ocl_weights {
  cl_context ctx; /* retained: the buffers' context outlives the devctx if need be */
  pthread_mutex_t lock;
  weight_entry *items;
  int count, cap;
};

static void *weights_create(void *arg) {
  ocl_weights *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->ctx = arg;
  clRetainContext(w->ctx);
  pthread_mutex_init(&w->lock, NULL);
  return w;
}

static void weights_free(void *obj) {
  ocl_weights *w = obj;
  for (int i = 0; i < w->count; i++) clReleaseMemObject(w->items[i].mem);
  free(w->items);
  pthread_mutex_destroy(&w->lock);
  clReleaseContext(w->ctx);
  free(w);
}

ocl_weights *ocl_weights_of(const clcnn_model *model, ocl_devctx *dc) {
  /* Keyed by the cl_context, which the store retains: no other context can
   * have its address while the store lives. */
  return model_attachment(model, dc->ctx, weights_create, dc->ctx, weights_free);
}

/* The buffer holding `bytes` of `data`: an entry with those contents (for
 * model data: from that address), else a new one. */
static clcnn_status weights_get(ocl_weights *w, const void *data, size_t bytes, bool model_data,
                                cl_mem *out, clcnn_err *err) {
  clcnn_status st = CLCNN_OK;
  /* Model data is found by address only (hashing a model's weights cost a
   * first session a fifth of its creation); derived data, such as weights
   * a kernel packs its own way, by the SHA-256 of its bytes. */
  uint8_t hash[OCL_CACHE_KEY_SIZE] = {0};
  if (!model_data) ocl_sha256(data, bytes, hash);
  pthread_mutex_lock(&w->lock);
  for (int i = 0; i < w->count; i++)
    if (w->items[i].bytes == bytes &&
        (model_data ? w->items[i].model_data == data
                    : !w->items[i].model_data && !memcmp(w->items[i].hash, hash, sizeof hash))) {
      *out = w->items[i].mem;
      goto done;
    }
  if (w->count == w->cap) {
    int cap = w->cap ? 2 * w->cap : 64;
    weight_entry *p = realloc(w->items, sizeof *p * (size_t)cap);
    if (!p) {
      st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      goto done;
    }
    w->items = p;
    w->cap = cap;
  }
  cl_int rc;
  cl_mem m = ocl_create_buffer(w->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes ? bytes : 4,
                               bytes ? (void *)data : (void *)&bytes, &rc);
  if (rc != CL_SUCCESS) {
    st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "cannot allocate %zu bytes of weights: %s (%d)",
                 bytes, ocl_error_str(rc), (int)rc);
    goto done;
  }
  w->items[w->count++] =
      (weight_entry){.bytes = bytes, .mem = m, .model_data = model_data ? data : NULL};
  memcpy(w->items[w->count - 1].hash, hash, sizeof hash);
  *out = m;
done:
  pthread_mutex_unlock(&w->lock);
  return st;
}

clcnn_status ocl_weights_get(ocl_weights *w, const void *data, size_t bytes, cl_mem *out,
                             clcnn_err *err) {
  return weights_get(w, data, bytes, false, out, err);
}

clcnn_status ocl_weights_get_model(ocl_weights *w, const void *data, size_t bytes, cl_mem *out,
                                   clcnn_err *err) {
  return weights_get(w, data, bytes, true, out, err);
}
