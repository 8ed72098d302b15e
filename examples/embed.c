/* Embedding clcnn: load a model, list its inputs and outputs, run it once on
 * a device and print what comes out. Uses only the public API (clcnn.h).
 *
 *     embed MODEL [DEVICE]        DEVICE: cpu, best (default), gpu, opencl:N ... */
#include <clcnn.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what, clcnn_status st) {
  fprintf(stderr, "embed: %s: %s: %s\n", what, clcnn_status_str(st), clcnn_last_error());
  return 1;
}

static void print_info(const char *kind, const clcnn_io_info *io) {
  printf("%s %s: %s [", kind, io->name, io->dtype == CLCNN_DTYPE_FLOAT32 ? "float32" : "other");
  for (int d = 0; d < io->rank; d++) {
    if (io->dims[d] >= 0) printf("%s%lld", d ? ", " : "", (long long)io->dims[d]);
    else printf("%s%s", d ? ", " : "", io->dim_names[d] ? io->dim_names[d] : "?");
  }
  printf("]\n");
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: embed MODEL [DEVICE]\n");
    return 2;
  }
  clcnn_context *ctx = NULL;
  clcnn_model *model = NULL;
  clcnn_session *session = NULL;
  void *data = NULL;
  int rc = 1;
  clcnn_status st;
  if ((st = clcnn_context_create(NULL, &ctx))) return fail("context", st);
  if ((st = clcnn_model_load_file(ctx, argv[1], &model))) {
    rc = fail("load", st);
    goto out;
  }
  clcnn_io_info io;
  for (int i = 0; i < clcnn_model_input_count(model); i++)
    if (clcnn_model_input_info(model, i, &io) == CLCNN_OK) print_info("input ", &io);
  for (int i = 0; i < clcnn_model_output_count(model); i++)
    if (clcnn_model_output_info(model, i, &io) == CLCNN_OK) print_info("output", &io);

  clcnn_session_options opts;
  clcnn_session_options_default(&opts);
  opts.device = argc > 2 ? argv[2] : "best";
  /* No shapes given: open dimensions become 1. */
  if ((st = clcnn_session_create(model, &opts, NULL, 0, &session))) {
    rc = fail("session", st);
    goto out;
  }
  printf("device: %s\n", clcnn_session_device(session));

  /* Fill every float input with a ramp in [0, 1). */
  for (int i = 0; i < clcnn_model_input_count(model); i++) {
    clcnn_tensor t;
    clcnn_model_input_info(model, i, &io);
    if ((st = clcnn_session_input(session, io.name, &t))) { rc = fail("input", st); goto out; }
    if (t.dtype != CLCNN_DTYPE_FLOAT32) {
      fprintf(stderr, "embed: input %s is not float32; this example feeds floats only\n", io.name);
      goto out;
    }
    int64_t n = clcnn_tensor_numel(&t);
    free(data);
    if (!(data = malloc((size_t)n * sizeof(float) + 1))) { fprintf(stderr, "embed: out of memory\n"); goto out; }
    for (int64_t k = 0; k < n; k++) ((float *)data)[k] = (float)(k % 256) / 256.0f;
    t.data = data;
    if ((st = clcnn_session_set_input(session, io.name, &t))) { rc = fail("set input", st); goto out; }
  }
  if ((st = clcnn_session_run(session))) {
    fprintf(stderr, "embed: run: %s\n", clcnn_session_error(session));
    goto out;
  }
  for (int i = 0; i < clcnn_model_output_count(model); i++) {
    clcnn_tensor t;
    clcnn_model_output_info(model, i, &io);
    if ((st = clcnn_session_output(session, io.name, &t))) { rc = fail("output", st); goto out; }
    printf("%s: shape", io.name);
    for (int d = 0; d < t.rank; d++) printf("%s%lld", d ? "x" : " ", (long long)t.dims[d]);
    printf(", first values:");
    for (int64_t k = 0; k < clcnn_tensor_numel(&t) && k < 5; k++)
      printf(" %g", t.dtype == CLCNN_DTYPE_FLOAT32 ? ((const float *)t.data)[k] : 0.0);
    printf("\n");
  }
  rc = 0;
out:
  free(data);
  clcnn_session_free(session);
  clcnn_model_free(model);
  clcnn_context_free(ctx);
  return rc;
}
