/* `clcnn demo [MODEL]`: the README's first command. Runs the sample CNN on
 * the best device found and on the CPU backend, checks that the two agree
 * (and agree with onnxruntime's reference output when it is beside the
 * model), prints the top-5 classes, then one benchmark row per device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "onnx_io.h"

#ifndef CLCNN_SOURCE_DIR
#define CLCNN_SOURCE_DIR "."
#endif

/* Relative agreement of two outputs: max|a-b| / max(1e-6, max|b|). */
static double rel_diff(const clcnn_tensor *a, const clcnn_tensor *b) {
  int64_t n = clcnn_tensor_numel(b);
  double worst = 0, scale = 1e-6;
  for (int64_t i = 0; i < n; i++) {
    double x = ((const float *)a->data)[i], y = ((const float *)b->data)[i];
    if (fabs(y) > scale) scale = fabs(y);
    if (!(fabs(x - y) <= worst)) worst = fabs(x - y);
  }
  return worst / scale;
}

static int run_on(const clcnn_model *m, const char *device, const cli_input *in,
                  clcnn_session **out, double *ms) {
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = device;
  if (clcnn_session_create(m, &so, NULL, 0, out)) {
    cli_error("%s: %s", device, clcnn_last_error());
    return CLI_FAIL;
  }
  double t0 = cli_now_ms();
  if (clcnn_session_set_input(*out, in->name, &in->t) || clcnn_session_run(*out)) {
    cli_error("%s: %s", device, clcnn_session_error(*out));
    return CLI_FAIL;
  }
  *ms = cli_now_ms() - t0;
  return CLI_OK;
}

int cli_demo(int argc, char **argv) {
  const char *model_path = argc > 1 ? argv[1] : CLCNN_SOURCE_DIR "/examples/sample_cnn.onnx";
  char ref_path[4096], input_path[4096];
  snprintf(ref_path, sizeof ref_path, "%.*s/test_data_set_0/output_0.pb",
           (int)(strlen(model_path) > 5 ? strlen(model_path) - 5 : 0), model_path);
  snprintf(input_path, sizeof input_path, "%.*s/test_data_set_0/input_0.pb",
           (int)(strlen(model_path) > 5 ? strlen(model_path) - 5 : 0), model_path);
  clcnn_context *ctx = NULL;
  clcnn_model *m = NULL;
  clcnn_session *best = NULL, *cpu = NULL;
  cli_input in = {0};
  clcnn_tensor ref = {0};
  int rc = CLI_FAIL;
  if (clcnn_context_create(NULL, &ctx)) {
    cli_error("%s", clcnn_last_error());
    return CLI_FAIL;
  }
  if (clcnn_model_load_file(ctx, model_path, &m)) {
    cli_error("%s", clcnn_last_error());
    goto out;
  }
  if (clcnn_model_input_count(m) != 1) {
    cli_error("the demo takes a model with one input");
    goto out;
  }
  clcnn_io_info io;
  clcnn_model_input_info(m, 0, &io);
  cli_input_opts opts = {0};
  FILE *f = fopen(input_path, "rb");
  if (f) {
    fclose(f);
    opts.file = input_path;
  }
  if (cli_input_make(&io, &opts, 0, &in)) goto out;
  printf("clcnn %s demo: %s\n", clcnn_version(), model_path);
  printf("input  %s %s\n", io.name, opts.file ? opts.file : "(pseudo-random)");
  double best_ms = 0, cpu_ms = 0;
  if (run_on(m, "best", &in, &best, &best_ms) || run_on(m, "cpu", &in, &cpu, &cpu_ms)) goto out;
  clcnn_io_info oi;
  clcnn_model_output_info(m, 0, &oi);
  clcnn_tensor a, b;
  clcnn_session_output(best, oi.name, &a);
  clcnn_session_output(cpu, oi.name, &b);
  double d = rel_diff(&a, &b);
  printf("best device: %s (first run %.1f ms)\n", clcnn_session_device(best), best_ms);
  printf("CPU backend: first run %.1f ms\n", cpu_ms);
  printf("agreement   best vs CPU backend: max error %.2e of the output's scale %s\n", d,
         d <= 1e-3 ? "(ok)" : "(MISMATCH)");
  bool ok = d <= 1e-3;
  clcnn_err err = {0};
  if (onnx_tensor_load(ref_path, &ref, NULL, &err) == CLCNN_OK &&
      clcnn_tensor_numel(&ref) == clcnn_tensor_numel(&b)) {
    double r = rel_diff(&b, &ref);
    printf("            CPU backend vs onnxruntime reference: %.2e %s\n", r,
           r <= 1e-3 ? "(ok)" : "(MISMATCH)");
    ok = ok && r <= 1e-3;
  }
  int64_t n = clcnn_tensor_numel(&b);
  int top[5] = {-1, -1, -1, -1, -1};
  for (int k = 0; k < 5 && k < n; k++)
    for (int64_t i = 0; i < n; i++) {
      bool used = false;
      for (int j = 0; j < k; j++) used |= top[j] == i;
      if (!used && (top[k] < 0 || ((float *)b.data)[i] > ((float *)b.data)[top[k]])) top[k] = (int)i;
    }
  printf("top-5 of '%s':", oi.name);
  for (int k = 0; k < 5 && top[k] >= 0; k++) printf("  %d (%.4f)", top[k], ((float *)b.data)[top[k]]);
  printf("\n\n");
  clcnn_session_free(best);
  clcnn_session_free(cpu);
  best = cpu = NULL;
  /* One bench row per device, through the same code as `clcnn bench`. */
  char *bench_argv[] = {"bench", (char *)model_path, "--device", "all", "--runs", "20", NULL};
  rc = cli_bench(6, bench_argv);
  if (rc == CLI_OK && !ok) {
    cli_error("the devices disagree");
    rc = CLI_FAIL;
  }
out:
  free(ref.data);
  cli_input_free(&in);
  clcnn_session_free(best);
  clcnn_session_free(cpu);
  clcnn_model_free(m);
  clcnn_context_free(ctx);
  return rc;
}
