/* Embedding clcnn: load a model, list its inputs and outputs, run it once on
 * a device and print what comes out. Uses only the public API (clcnn.h).
 *
 *     embed MODEL [DEVICE]        DEVICE: cpu, best (default), gpu, opencl:N ... */
#include <clcnn.h>
#include <stdio.h>
#include <stdlib.h>

/* Every fallible call returns a status; clcnn_last_error() says why it failed. */
#define CHECK(call, what)                                                                      \
  do {                                                                                         \
    clcnn_status st_ = (call);                                                                 \
    if (st_ != CLCNN_OK) {                                                                     \
      fprintf(stderr, "embed: %s: %s: %s\n", what, clcnn_status_str(st_), clcnn_last_error()); \
      goto out;                                                                                \
    }                                                                                          \
  } while (0)

static void print_io(const char *kind, const clcnn_io_info *io) {
  printf("%s %s: %s [", kind, io->name, io->dtype == CLCNN_DTYPE_FLOAT32 ? "float32" : "other");
  for (int d = 0; d < io->rank; d++) {
    const char *sym = io->dim_names[d] ? io->dim_names[d] : "?";
    if (io->dims[d] >= 0)
      printf("%s%lld", d ? ", " : "", (long long)io->dims[d]);
    else
      printf("%s%s", d ? ", " : "", sym);
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
  float *data = NULL;
  clcnn_io_info io;
  clcnn_tensor t;
  int rc = 1;
  CHECK(clcnn_context_create(NULL, &ctx), "context");
  CHECK(clcnn_model_load_file(ctx, argv[1], &model), "load");
  for (int i = 0; i < clcnn_model_input_count(model); i++)
    if (clcnn_model_input_info(model, i, &io) == CLCNN_OK) print_io("input ", &io);
  for (int i = 0; i < clcnn_model_output_count(model); i++)
    if (clcnn_model_output_info(model, i, &io) == CLCNN_OK) print_io("output", &io);

  clcnn_session_options opts;
  clcnn_session_options_default(&opts);
  opts.device = argc > 2 ? argv[2] : "best";
  /* No shapes given: open dimensions become 1. */
  CHECK(clcnn_session_create(model, &opts, NULL, 0, &session), "session");
  printf("device: %s\n", clcnn_session_device(session));

  /* Fill every input (float32 here) with a ramp in [0, 1). */
  for (int i = 0; i < clcnn_model_input_count(model); i++) {
    CHECK(clcnn_model_input_info(model, i, &io), "input info");
    CHECK(clcnn_session_input(session, io.name, &t), "input shape");
    if (t.dtype != CLCNN_DTYPE_FLOAT32) {
      fprintf(stderr, "embed: input %s is not float32; this example feeds floats only\n", io.name);
      goto out;
    }
    int64_t n = clcnn_tensor_numel(&t);
    free(data);
    if (!(data = malloc((size_t)n * sizeof(float) + 1))) {
      fprintf(stderr, "embed: out of memory\n");
      goto out;
    }
    for (int64_t k = 0; k < n; k++) data[k] = (float)(k % 256) / 256.0f;
    t.data = data;
    CHECK(clcnn_session_set_input(session, io.name, &t), "set input");
  }
  CHECK(clcnn_session_run(session), "run");
  for (int i = 0; i < clcnn_model_output_count(model); i++) {
    CHECK(clcnn_model_output_info(model, i, &io), "output info");
    CHECK(clcnn_session_output(session, io.name, &t), "output");
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
  clcnn_session_free(session); /* each free accepts NULL */
  clcnn_model_free(model);
  clcnn_context_free(ctx);
  return rc;
}
