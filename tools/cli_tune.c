/* `clcnn tune MODEL [--device X] [--runs N]`: times both implementations of
 * every matrix product of the model (clcnn's GEMM kernels and CLBlast) on
 * the device and keeps the faster of each in the cache directory, where
 * every later session on that device finds it (host/gemm_dispatch.c).
 * Prints the model's median run time before and after. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clcnn_config.h"

typedef struct tune_args {
  const char *model, *device;
  int runs;
  clcnn_precision precision;
} tune_args;

#if CLCNN_HAVE_OPENCL && CLCNN_HAVE_CLBLAST
/* Median ms of `runs` runs (after one) of the model in a new context;
 * `ms_create` gets the session creation time. */
static int timed_session(const tune_args *a, cli_input *in, int nin, double *median,
                         double *ms_create) {
  clcnn_context *ctx = NULL;
  clcnn_model *m = NULL;
  clcnn_session *s = NULL;
  int rc = CLI_FAIL;
  double *t = calloc((size_t)a->runs, sizeof *t);
  if (!t || clcnn_context_create(NULL, &ctx) || clcnn_model_load_file(ctx, a->model, &m)) {
    cli_error("%s", t ? clcnn_last_error() : "out of memory");
    goto out;
  }
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = a->device;
  so.precision = a->precision;
  double t0 = cli_now_ms();
  if (clcnn_session_create(m, &so, NULL, 0, &s)) {
    cli_error("%s", clcnn_last_error());
    goto out;
  }
  *ms_create = cli_now_ms() - t0;
  for (int r = -1; r < a->runs; r++) {
    for (int i = 0; i < nin; i++)
      if (clcnn_session_set_input(s, in[i].name, &in[i].t)) goto fail;
    double r0 = cli_now_ms();
    if (clcnn_session_run(s)) goto fail;
    if (r >= 0) t[r] = cli_now_ms() - r0;
  }
  *median = cli_median(t, a->runs);
  rc = CLI_OK;
  goto out;
fail:
  cli_error("%s", clcnn_session_error(s));
out:
  free(t);
  clcnn_session_free(s);
  clcnn_model_free(m);
  clcnn_context_free(ctx);
  return rc;
}

#endif

int cli_tune(int argc, char **argv) {
  tune_args a = {.runs = 10};
  for (int i = 1; i < argc; i++) {
    const char *v;
    int r;
    long long x;
    if ((r = cli_opt(argc, argv, &i, "--device", &v)) != 0) {
      if (r < 0) return CLI_USAGE;
      a.device = v;
    } else if ((r = cli_opt(argc, argv, &i, "--runs", &v)) != 0) {
      if (r < 0 || !cli_parse_int(v, 1, 100000, "--runs", &x)) return CLI_USAGE;
      a.runs = (int)x;
    } else if ((r = cli_precision_opt(argc, argv, &i, &a.precision)) != 0) {
      if (r < 0) return CLI_USAGE;
    } else if (!cli_model_arg("tune", argv[i], &a.model)) {
      return CLI_USAGE;
    }
  }
  if (!a.model) {
    cli_error("tune: no model given (usage: clcnn tune MODEL [--device X] [--runs N])");
    return CLI_USAGE;
  }
#if !CLCNN_HAVE_OPENCL || !CLCNN_HAVE_CLBLAST
  cli_error("tune: this clcnn was built without %s: there is nothing to choose between",
            CLCNN_HAVE_OPENCL ? "CLBlast" : "OpenCL");
  return CLI_FAIL;
#else
  clcnn_context *ctx = NULL;
  clcnn_model *m = NULL;
  cli_input *in = NULL;
  int nin = 0, rc = CLI_FAIL;
  if (clcnn_context_create(NULL, &ctx) || clcnn_model_load_file(ctx, a.model, &m)) {
    cli_error("%s", clcnn_last_error());
    goto out;
  }
  if (cli_inputs_random(m, 0, &in, &nin)) goto out;
  double before, after, tuning, create_before, create_after;
  if (timed_session(&a, in, nin, &before, &create_before)) goto out;
  /* A context made while CLCNN_TUNE=1 times every product its sessions
   * prepare (the variable is read when the context first opens the device;
   * this process is the tool's own, so setting it changes nobody else's). */
  setenv("CLCNN_TUNE", "1", 1);
  double unused;
  int trc = timed_session(&a, in, nin, &unused, &tuning);
  unsetenv("CLCNN_TUNE");
  if (trc || timed_session(&a, in, nin, &after, &create_after)) goto out;
  printf("before   median of %d runs %.3f ms (session creation %.1f ms)\n", a.runs, before,
         create_before);
  printf("tuning   session creation %.1f ms: each matrix product timed with clcnn's kernels\n"
         "         and with CLBlast, the faster kept in the cache directory\n",
         tuning);
  printf("after    median of %d runs %.3f ms (session creation %.1f ms, a new context\n"
         "         reading the stored choices): %.2fx\n",
         a.runs, after, create_after, after > 0 ? before / after : 0);
  rc = CLI_OK;
out:
  cli_inputs_free(in, nin);
  clcnn_model_free(m);
  clcnn_context_free(ctx);
  return rc;
#endif
}
