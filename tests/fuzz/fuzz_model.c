/* libFuzzer target: bytes as an ONNX model, through the whole public API on
 * the CPU backend. Load it; give every open input dimension a small size;
 * create a session whose tensors are limited to FUZZ_MAX_ELEMENTS elements
 * (session option max_tensor_elements); set deterministic inputs; run twice
 * and read every output, which must be the same both times. Every call must
 * end with a status: a crash, a leak, a sanitizer report or two runs that
 * disagree is a finding. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "clcnn.h"
#include "internal.h"

/* 256 KiB of float32 per tensor: enough for every operator's interesting
 * cases, small enough that a session cannot exhaust the fuzzer's memory. */
#define FUZZ_MAX_ELEMENTS ((int64_t)1 << 16)
/* Sessions whose graph needs more floating point operations than this are
 * created (and freed) but not run, so that one input cannot time out. */
#define FUZZ_MAX_FLOPS 5e7

/* FUZZ_VERBOSE=1: say how far each input got (for curating the corpus). */
static void note(const char *what, const char *why) {
  static int verbose = -1;
  if (verbose < 0) verbose = getenv("FUZZ_VERBOSE") != NULL;
  if (verbose) fprintf(stderr, "fuzz_model: %s%s%s\n", what, why ? ": " : "", why ? why : "");
}

static void fill_input(void *data, clcnn_dtype dt, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    int v = (int)(i * 7 % 11) - 5; /* -5..5 */
    switch (dt) {
      case CLCNN_DTYPE_FLOAT32: ((float *)data)[i] = (float)v * 0.25f; break;
      case CLCNN_DTYPE_FLOAT64: ((double *)data)[i] = v * 0.25; break;
      case CLCNN_DTYPE_FLOAT16: ((uint16_t *)data)[i] = f16_from_double(v * 0.25); break;
      case CLCNN_DTYPE_UINT8: ((uint8_t *)data)[i] = (uint8_t)(v + 5); break;
      case CLCNN_DTYPE_INT8: ((int8_t *)data)[i] = (int8_t)v; break;
      case CLCNN_DTYPE_BOOL: ((uint8_t *)data)[i] = (uint8_t)(v > 0); break;
      case CLCNN_DTYPE_INT32: ((int32_t *)data)[i] = v; break;
      case CLCNN_DTYPE_INT64: ((int64_t *)data)[i] = v; break;
      default: return;
    }
  }
}

static double graph_flops(const ir_graph *g) {
  double total = 0;
  for (int i = 0; i < g->nnodes; i++) {
    const ir_node *n = &g->nodes[i];
    if (n->dead || n->op < 0) continue;
    const op_front *f = op_front_get(n->op);
    if (f->flops) total += f->flops(g, n);
  }
  return total;
}

/* Copies of the outputs of the first run, compared with the second. */
static int run_and_compare(clcnn_session *s, const clcnn_model *m) {
  int nout = clcnn_model_output_count(m);
  void **first = calloc((size_t)nout + 1, sizeof *first);
  size_t *bytes = calloc((size_t)nout + 1, sizeof *bytes);
  if (!first || !bytes) goto done;
  for (int run = 0; run < 2; run++) {
    if (clcnn_session_run(s) != CLCNN_OK) {
      note("run failed", clcnn_session_error(s));
      goto done;
    }
    for (int k = 0; k < nout; k++) {
      clcnn_io_info info;
      clcnn_tensor t;
      if (clcnn_model_output_info(m, k, &info) != CLCNN_OK) abort();
      if (clcnn_session_output(s, info.name, &t) != CLCNN_OK) abort(); /* ran: must exist */
      int64_t n = clcnn_tensor_numel(&t);
      size_t b = (size_t)n * dtype_size(t.dtype);
      if (n < 0 || (n > 0 && !t.data)) abort();
      if (run == 0) {
        bytes[k] = b;
        if (b && (first[k] = malloc(b))) memcpy(first[k], t.data, b);
      } else if (b != bytes[k] || (first[k] && memcmp(first[k], t.data, b) != 0)) {
        /* NaNs compare equal bitwise; a difference is uninitialised or
         * stale memory read by some kernel. */
        fprintf(stderr, "output '%s' differs between two runs of one session\n", info.name);
        abort();
      }
    }
  }
  note("ran twice", NULL);
done:
  for (int k = 0; first && k < nout; k++) free(first[k]);
  free(first);
  free(bytes);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  clcnn_options o;
  clcnn_options_default(&o);
  o.num_threads = 1;
  o.disable_cache = 1;
  clcnn_context *ctx = NULL;
  if (clcnn_context_create(&o, &ctx) != CLCNN_OK) abort();
  clcnn_model *m = NULL;
  if (clcnn_model_load_memory(ctx, data, size, NULL, &m) != CLCNN_OK) {
    if (!clcnn_last_error()[0]) abort(); /* a failed load says why */
    note("load failed", clcnn_last_error());
    clcnn_context_free(ctx);
    return 0;
  }
  int nin = clcnn_model_input_count(m);
  clcnn_input_shape *shapes = calloc((size_t)nin + 1, sizeof *shapes);
  if (!shapes) abort();
  for (int i = 0; i < nin; i++) {
    clcnn_io_info info;
    if (clcnn_model_input_info(m, i, &info) != CLCNN_OK) abort();
    shapes[i].name = info.name;
    shapes[i].rank = info.rank;
    for (int d = 0; d < info.rank; d++)
      shapes[i].dims[d] = info.dims[d] >= 0 ? info.dims[d] : d == 0 ? 1 : 5;
  }
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "cpu";
  so.max_tensor_elements = FUZZ_MAX_ELEMENTS;
  clcnn_session *s = NULL;
  if (clcnn_session_create(m, &so, shapes, nin, &s) != CLCNN_OK) {
    if (!clcnn_last_error()[0]) abort();
    note("session failed", clcnn_last_error());
    goto out;
  }
  if (graph_flops(&s->g) > FUZZ_MAX_FLOPS) {
    note("not run", "too many FLOPs");
    goto out;
  }
  for (int i = 0; i < nin; i++) {
    clcnn_tensor t;
    if (clcnn_session_input(s, shapes[i].name, &t) != CLCNN_OK) abort();
    int64_t n = clcnn_tensor_numel(&t);
    size_t b = (size_t)n * dtype_size(t.dtype);
    t.data = malloc(b ? b : 1);
    if (!t.data) abort();
    fill_input(t.data, t.dtype, n);
    clcnn_status st = clcnn_session_set_input(s, shapes[i].name, &t);
    free(t.data);
    if (st != CLCNN_OK) abort(); /* the session's own shape and dtype */
  }
  run_and_compare(s, m);
out:
  clcnn_session_free(s);
  free(shapes);
  clcnn_model_free(m);
  clcnn_context_free(ctx);
  return 0;
}
