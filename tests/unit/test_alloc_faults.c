/* Host allocation faults: the n-th allocation that the library makes from
 * the calling thread fails, for n = 1, 2, ... over loading a model, creating
 * a CPU-backend session and running it twice, until a walk passes with no
 * allocation left to fail. Each step must end in an error status with a
 * message, or succeed with the right answer (an allocation it could do
 * without); nothing may crash, and the next session must work. Under the
 * sanitize suite (ASan + LeakSanitizer) nothing may leak either.
 *
 * The allocator is replaced for the whole process (malloc, calloc, realloc,
 * posix_memalign, aligned_alloc and free forward to the next definition:
 * libc's, or ASan's in the sanitizer build); only the test's own thread,
 * while armed, sees failures, so the OpenMP runtime and the other threads
 * are left alone. On the CPU backend every allocation of the thread counts
 * but oneDNN's (which does not survive a failed malloc of its own);
 * on an OpenCL device (when one exists) only those that clcnn's own code
 * makes, since the OpenCL driver does not survive a failed malloc of its own.
 *   test_alloc_faults MODEL.onnx */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn.h"

/* ------------------------------------------------------------ allocator */

static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static void (*next_free)(void *);
static int (*next_posix_memalign)(void **, size_t, size_t);
static void *(*next_aligned_alloc)(size_t, size_t);

/* The allocator runs while a sanitizer runtime initialises itself, before
 * its shadow memory exists: none of it may be instrumented. */
#if defined(__GNUC__)
#define NO_SAN __attribute__((no_sanitize_address, no_sanitize("undefined")))
#else
#define NO_SAN
#endif

/* dlsym allocates (calloc) before next_calloc is known: from here. */
static _Alignas(16) char boot[8192];
static size_t boot_used;
static bool resolving;

/* No thread-local storage: the allocator is called while the program is
 * loaded, before it may be used. Only the armed thread touches the rest. */
static _Atomic bool armed;
static pthread_t armed_thread;
static long countdown; /* the allocation that brings it to 0 fails */
static long counted;   /* allocations seen while armed */
static bool fired;
static bool only_clcnn;          /* count only the allocations clcnn's code makes */
static const void *clcnn_base;   /* where libclcnn is loaded */

NO_SAN static void resolve(void) {
  if (next_free || resolving) return;
  resolving = true;
  next_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
  next_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
  next_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
  next_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
  next_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
  next_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
  resolving = false;
}

NO_SAN static bool fail_now(const void *caller) {
  if (!armed || !pthread_equal(pthread_self(), armed_thread)) return false;
  if (only_clcnn) {
    Dl_info di;
    armed = false; /* dladdr may allocate */
    bool ours = dladdr(caller, &di) && di.dli_fbase == clcnn_base;
    armed = true;
    if (!ours) return false;
  } else {
    /* oneDNN (C++: its allocations come through libstdc++'s operator new)
     * crashes on a failed allocation of its own: like the OpenCL driver,
     * it is left alone. clcnn's handling of oneDNN's failures is tested
     * where they are returned (a status). */
    Dl_info di;
    armed = false; /* dladdr may allocate */
    bool foreign = dladdr(caller, &di) && di.dli_fname &&
                   (strstr(di.dli_fname, "libstdc++") || strstr(di.dli_fname, "libdnnl") ||
                    strstr(di.dli_fname, "libgomp"));
    armed = true;
    if (foreign) return false;
  }
  counted++;
  if (countdown > 0 && --countdown == 0) {
    fired = true;
    return true;
  }
  return false;
}

NO_SAN static bool from_boot(const void *p) {
  return (const char *)p >= boot && (const char *)p < boot + sizeof boot;
}

NO_SAN void *malloc(size_t n) {
  resolve();
  if (fail_now(__builtin_return_address(0))) {
    errno = ENOMEM;
    return NULL;
  }
  return next_malloc(n);
}

NO_SAN void *calloc(size_t n, size_t size) {
  resolve();
  if (!next_calloc) { /* inside dlsym */
    size_t bytes = (n * size + 15) & ~(size_t)15;
    if (boot_used + bytes > sizeof boot) return NULL;
    void *p = boot + boot_used;
    boot_used += bytes;
    return p; /* static storage: already zero */
  }
  if (fail_now(__builtin_return_address(0))) {
    errno = ENOMEM;
    return NULL;
  }
  return next_calloc(n, size);
}

NO_SAN void *realloc(void *p, size_t n) {
  resolve();
  if (from_boot(p)) {
    void *q = malloc(n);
    if (q) memcpy(q, p, n); /* boot blocks are never grown in practice */
    return q;
  }
  if (fail_now(__builtin_return_address(0))) {
    errno = ENOMEM;
    return NULL;
  }
  return next_realloc(p, n);
}

NO_SAN int posix_memalign(void **out, size_t align, size_t n) {
  resolve();
  if (fail_now(__builtin_return_address(0))) return ENOMEM;
  return next_posix_memalign(out, align, n);
}

NO_SAN void *aligned_alloc(size_t align, size_t n) {
  resolve();
  if (fail_now(__builtin_return_address(0))) {
    errno = ENOMEM;
    return NULL;
  }
  return next_aligned_alloc(align, n);
}

NO_SAN void free(void *p) {
  if (!p || from_boot(p)) return;
  resolve();
  next_free(p);
}

static void arm(long nth) {
  counted = 0;
  fired = false;
  countdown = nth;
  armed_thread = pthread_self();
  armed = true;
}
static void disarm(void) { armed = false; }

/* ------------------------------------------------------------------ test */

static int failures;
#define CHECK(cond, ...)                      \
  do {                                        \
    if (!(cond)) {                            \
      printf("FAIL %s:%d: ", __FILE__, __LINE__); \
      printf(__VA_ARGS__);                    \
      printf("\n");                           \
      failures++;                             \
    }                                         \
  } while (0)

static uint8_t *bytes;
static size_t nbytes;
static clcnn_context *ctx;

typedef struct outcome {
  clcnn_status st;
  char where[32];
  char msg[512];
  float out[64];
  int64_t nout;
} outcome;

static float input[1 << 16];

/* Load, create on the CPU backend, set the input, run twice, read the first
 * output; the first failure ends it. */
static const char *device = "cpu";

static void walk(outcome *o) {
  memset(o, 0, sizeof *o);
  clcnn_model *m = NULL;
  clcnn_session *s = NULL;
  clcnn_io_info info;
  o->st = clcnn_model_load_memory(ctx, bytes, nbytes, NULL, &m);
  if (o->st) {
    snprintf(o->where, sizeof o->where, "load");
    snprintf(o->msg, sizeof o->msg, "%s", clcnn_last_error());
    goto out;
  }
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = device;
  o->st = clcnn_session_create(m, &so, NULL, 0, &s);
  if (o->st) {
    snprintf(o->where, sizeof o->where, "create");
    snprintf(o->msg, sizeof o->msg, "%s", clcnn_last_error());
    goto out;
  }
  if ((o->st = clcnn_model_input_info(m, 0, &info))) {
    snprintf(o->where, sizeof o->where, "input info");
    snprintf(o->msg, sizeof o->msg, "%s", clcnn_last_error());
    goto out;
  }
  clcnn_tensor x;
  if ((o->st = clcnn_session_input(s, info.name, &x))) {
    snprintf(o->where, sizeof o->where, "input view");
    snprintf(o->msg, sizeof o->msg, "%s", clcnn_session_error(s));
    goto out;
  }
  x.data = input;
  const char *steps[] = {"set input", "run 1", "run 2"};
  for (int k = 0; k < 3; k++) {
    o->st = k == 0 ? clcnn_session_set_input(s, info.name, &x) : clcnn_session_run(s);
    if (o->st) {
      snprintf(o->where, sizeof o->where, "%s", steps[k]);
      snprintf(o->msg, sizeof o->msg, "%s", clcnn_session_error(s));
      goto out;
    }
  }
  clcnn_io_info oi;
  clcnn_tensor y;
  if ((o->st = clcnn_model_output_info(m, 0, &oi)) ||
      (o->st = clcnn_session_output(s, oi.name, &y))) {
    snprintf(o->where, sizeof o->where, "output");
    snprintf(o->msg, sizeof o->msg, "%s", clcnn_session_error(s));
    goto out;
  }
  o->nout = clcnn_tensor_numel(&y);
  for (int64_t i = 0; i < o->nout && i < 64; i++) o->out[i] = ((const float *)y.data)[i];
out:
  clcnn_session_free(s);
  clcnn_model_free(m);
}

/* Bit for bit, or within `tol` * (1 + |b|) where a fallback may sum in
 * another order (the GEMM's own loop when oneDNN cannot allocate). */
static bool close_output(const outcome *a, const outcome *b, float tol) {
  if (a->nout != b->nout) return false;
  for (int64_t i = 0; i < a->nout && i < 64; i++) {
    if (tol == 0 && memcmp(&a->out[i], &b->out[i], sizeof(float)) != 0) return false;
    if (!(fabsf(a->out[i] - b->out[i]) <= tol * (1 + fabsf(b->out[i])))) return false;
  }
  return true;
}
static bool same_output(const outcome *a, const outcome *b) { return close_output(a, b, 0); }

static void run_walks(const char *label) {
  outcome ref, got, again;
  walk(&ref); /* also brings up the CPU libraries' own state */
  CHECK(ref.st == CLCNN_OK, "the walk fails without faults: %s %s", ref.where, ref.msg);
  if (ref.st) return;
  long n = 1, failed_clean = 0, succeeded_anyway = 0, total = -1;
  for (; n < 200000; n++) {
    arm(n);
    walk(&got);
    disarm();
    if (!fired) {
      total = n - 1;
      CHECK(got.st == CLCNN_OK && same_output(&got, &ref), "the walk with no fault left differs");
      break;
    }
    if (got.st == CLCNN_OK) {
      /* The failed allocation had a fallback: the answer must not change. */
      succeeded_anyway++;
      CHECK(close_output(&got, &ref, 1e-4f),
            "allocation %ld failed, status OK, but the output differs", n);
    } else {
      failed_clean++;
      CHECK(got.msg[0] != 0, "allocation %ld failed: status %d at %s with no message", n,
            (int)got.st, got.where);
    }
    walk(&again);
    CHECK(again.st == CLCNN_OK && same_output(&again, &ref),
          "after allocation %ld failed (%s), the next walk fails or differs: %s %s", n, got.where,
          again.where, again.msg);
    if (failures > 20) break;
  }
  CHECK(total >= 0, "the walk never ran out of allocations to fail (%ld)", n);
  printf("alloc faults on %s: %ld allocation sites in load + create + 2 runs; %ld gave an error "
         "status with a message, %ld were survived with the same output; %d failures\n",
         label, total, failed_clean, succeeded_anyway, failures);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.onnx\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    printf("cannot open %s\n", argv[1]);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  nbytes = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  bytes = malloc(nbytes);
  if (!bytes || fread(bytes, 1, nbytes, f) != nbytes) return 1;
  fclose(f);
  for (size_t i = 0; i < sizeof input / sizeof *input; i++)
    input[i] = (float)((i * 7919) % 255) / 127.0f - 1.0f;
  clcnn_options o;
  clcnn_options_default(&o);
  o.num_threads = 1; /* no worker threads: every allocation is on this one */
  if (clcnn_context_create(&o, &ctx) != CLCNN_OK) {
    printf("context: %s\n", clcnn_last_error());
    return 1;
  }
  run_walks("cpu");
  clcnn_device_info const *devs;
  int ndev = 0;
  bool opencl = false;
  if (clcnn_devices(&devs, &ndev) == CLCNN_OK)
    for (int i = 0; i < ndev; i++) opencl |= devs[i].index >= 0 && devs[i].available;
  if (opencl) {
    Dl_info di;
    if (dladdr((const void *)clcnn_version, &di)) clcnn_base = di.dli_fbase;
    only_clcnn = clcnn_base != NULL;
    device = "opencl";
    if (only_clcnn) run_walks("opencl");
  } else {
    printf("no OpenCL device: the device walk is skipped\n");
  }
  clcnn_context_free(ctx);
  free(bytes);
  return failures ? 1 : 0;
}
