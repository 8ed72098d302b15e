/* `clcnn bench MODEL [--device X|all] [--runs N] [--warmup N] [--batch N]
 * [--json FILE]`: creation time, first-run and steady-state latency,
 * throughput and memory, one row per device. */
#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define MAX_DEVICES 64

typedef struct bench_row {
  const char *requested;
  char device[256];
  char error[1024]; /* empty when the row succeeded */
  double create_cold_ms, cold_first_run_ms, create_warm_ms, create_second_ms, first_run_ms;
  int programs_compiled, programs_loaded; /* by the cold and the warm session */
  double median_ms, min_ms, max_ms, mean_ms, throughput;
  size_t host_peak, session_host, device_bytes;
  size_t second_device_bytes;  /* what a second session of the model adds on the device */
  size_t shared_device_bytes;  /* what it shares with the first (weights) */
  double flops;                /* the model's, from a profiled run (0: unknown) */
  double peak_gflops;          /* the device's FP32 peak (clcnn_device_peak_get; 0: unknown) */
} bench_row;

typedef struct bench_args {
  const char *model, *device, *json;
  int runs, warmup;
  long long batch; /* 0: the model's */
  clcnn_precision precision;
} bench_args;

static int set_and_run(clcnn_session *s, const cli_input *in, int n, char *why, size_t len) {
  for (int i = 0; i < n; i++)
    if (clcnn_session_set_input(s, in[i].name, &in[i].t)) {
      snprintf(why, len, "%s", clcnn_session_error(s));
      return CLI_FAIL;
    }
  if (clcnn_session_run(s)) {
    snprintf(why, len, "%s", clcnn_session_error(s));
    return CLI_FAIL;
  }
  return CLI_OK;
}

static void clean_line(char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20) *s = ' ';
}

/* One device: fills `row` (row->error on failure). */
/* Removes the bench's cache directory and the entries in it. */
static void remove_tree(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    char path[4200];
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
    closedir(d);
  }
  rmdir(dir);
}

/* One device: fills `row` (row->error on failure).
 *   cold    the first session in a new context whose program cache is empty,
 *           and its first run; the context is then freed, which finishes
 *           writing the program cache (entries are written in the background
 *           after a session's first run)
 *   warm    the first session of a new context on the cache the cold one
 *           filled: what the next process start costs
 *   second  another session of the model in that context while the warm one
 *           lives (another thread, another tile size): programs and weights
 *           are shared, so it costs its activations and little time */
static void bench_device(const char *path, const clcnn_options *copts, const cli_input *in,
                         int nin, const clcnn_input_shape *shapes,
                         const bench_args *a, const char *device, bench_row *row) {
  memset(row, 0, sizeof *row);
  row->requested = device;
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = device;
  so.precision = a->precision;
  clcnn_context *wctx = NULL;
  clcnn_model *wm = NULL;
  clcnn_session *s = NULL, *second = NULL;
  double *times = NULL;
  int ignored = 0;
  if (clcnn_context_create(copts, &wctx) || clcnn_model_load_file(wctx, path, &wm)) {
    snprintf(row->error, sizeof row->error, "%s", clcnn_last_error());
    goto out;
  }
  double t0 = cli_now_ms();
  if (clcnn_session_create(wm, &so, shapes, nin, &s)) {
    snprintf(row->error, sizeof row->error, "%s", clcnn_last_error());
    goto out;
  }
  row->create_cold_ms = cli_now_ms() - t0;
  snprintf(row->device, sizeof row->device, "%s", clcnn_session_device(s));
  clcnn_session_programs(s, &row->programs_compiled, &ignored);
  t0 = cli_now_ms();
  if (set_and_run(s, in, nin, row->error, sizeof row->error)) goto out;
  row->cold_first_run_ms = cli_now_ms() - t0;
  clcnn_session_free(s);
  s = NULL;
  clcnn_model_free(wm);
  wm = NULL;
  clcnn_context_free(wctx);
  wctx = NULL;
  if (clcnn_context_create(copts, &wctx) || clcnn_model_load_file(wctx, path, &wm)) {
    snprintf(row->error, sizeof row->error, "%s", clcnn_last_error());
    goto out;
  }
  t0 = cli_now_ms();
  if (clcnn_session_create(wm, &so, shapes, nin, &s)) {
    snprintf(row->error, sizeof row->error, "%s", clcnn_last_error());
    goto out;
  }
  row->create_warm_ms = cli_now_ms() - t0;
  clcnn_session_programs(s, &ignored, &row->programs_loaded);
  t0 = cli_now_ms();
  if (clcnn_session_create(wm, &so, shapes, nin, &second)) {
    snprintf(row->error, sizeof row->error, "%s", clcnn_last_error());
    goto out;
  }
  row->create_second_ms = cli_now_ms() - t0;
  size_t total = 0, shared = 0;
  clcnn_session_memory(second, NULL, &total);
  clcnn_session_memory_shared(second, &shared);
  row->second_device_bytes = total - shared;
  row->shared_device_bytes = shared;
  clcnn_session_free(second);
  second = NULL;

  t0 = cli_now_ms();  if (set_and_run(s, in, nin, row->error, sizeof row->error)) goto out;
  row->first_run_ms = cli_now_ms() - t0;
  bool dots = isatty(STDERR_FILENO) && a->runs + a->warmup > 1, dotted = false;
  for (int r = 0; r < a->warmup; r++) {
    t0 = cli_now_ms();
    if (set_and_run(s, in, nin, row->error, sizeof row->error)) goto out;
    if (dots && cli_now_ms() - t0 > 500) fputc('.', stderr), dotted = true;
  }
  times = malloc(sizeof *times * (size_t)a->runs);
  if (!times) {
    snprintf(row->error, sizeof row->error, "out of memory");
    goto out;
  }
  for (int r = 0; r < a->runs; r++) {
    t0 = cli_now_ms();
    if (set_and_run(s, in, nin, row->error, sizeof row->error)) goto out;
    times[r] = cli_now_ms() - t0;
    if (dots && times[r] > 500) fputc('.', stderr), dotted = true;
  }
  if (dotted) fputc('\n', stderr);
  row->min_ms = row->max_ms = times[0];
  double sum = 0;
  for (int r = 0; r < a->runs; r++) {
    if (times[r] < row->min_ms) row->min_ms = times[r];
    if (times[r] > row->max_ms) row->max_ms = times[r];
    sum += times[r];
  }
  row->mean_ms = sum / a->runs;
  row->median_ms = cli_median(times, a->runs);
  int64_t batch = a->batch;
  if (!batch) batch = nin && shapes[0].rank ? shapes[0].dims[0] : 1;
  row->throughput = row->median_ms > 0 ? (double)batch * 1e3 / row->median_ms : 0;
  clcnn_session_memory(s, &row->session_host, &row->device_bytes);
  row->host_peak = cli_peak_rss();
  /* The model's FLOPs, from one profiled run of another session, and the
   * device's FP32 peak (cached in the default cache directory for OpenCL
   * devices, measured for the CPU backend): the share of the peak that the
   * steady state reaches. Neither is an error when it cannot be had. */
  so.profile = 1;
  char why[256];
  const clcnn_profile_entry *e;
  int ne = 0;
  if (clcnn_session_create(wm, &so, shapes, nin, &second) == CLCNN_OK &&
      set_and_run(second, in, nin, why, sizeof why) == CLI_OK &&
      clcnn_session_profile(second, &e, &ne) == CLCNN_OK)
    for (int i = 0; i < ne; i++) row->flops += e[i].flops;
  const char *spec = device ? device : getenv("CLCNN_DEVICE");
  if (!spec || !spec[0]) spec = "best";
  clcnn_context *pctx = NULL;
  clcnn_device_peak pk;
  if (!strchr(spec, ',') && clcnn_context_create(NULL, &pctx) == CLCNN_OK &&
      clcnn_device_peak_get(pctx, spec, 0, &pk) == CLCNN_OK)
    row->peak_gflops = pk.fp32_gflops;
  clcnn_context_free(pctx);
out:
  clean_line(row->error);
  free(times);
  clcnn_session_free(second);
  clcnn_session_free(s);
  clcnn_model_free(wm);
  clcnn_context_free(wctx);
}


static int write_json(const char *path, const bench_args *a, long long batch, const bench_row *rows,
                      int n) {
  FILE *f = fopen(path, "w");
  if (!f) {
    cli_error("--json: cannot write '%s': %s", path, strerror(errno));
    return CLI_FAIL;
  }
  fprintf(f, "[");
  for (int i = 0; i < n; i++) {
    const bench_row *r = &rows[i];
    fprintf(f, "%s\n  {\"model\": ", i ? "," : "");
    cli_json_string(f, a->model);
    fprintf(f, ", \"device\": ");
    cli_json_string(f, r->device[0] ? r->device : r->requested);
    fprintf(f, ", \"requested_device\": ");
    cli_json_string(f, r->requested ? r->requested : "");
    fprintf(f, ", \"batch\": %lld, \"precision\": \"%s\"", batch, cli_precision_name(a->precision));
    if (r->error[0]) {
      fprintf(f, ", \"error\": ");
      cli_json_string(f, r->error);
      fprintf(f, "}");
      continue;
    }
    static const char *const keys[] = {"create_cold_ms", "cold_first_run_ms", "create_warm_ms",
                                       "create_second_ms", "first_run_ms",    "median_ms",
                                       "min_ms",         "max_ms",            "mean_ms",
                                       "throughput"};
    const double vals[] = {r->create_cold_ms,   r->cold_first_run_ms, r->create_warm_ms,
                           r->create_second_ms, r->first_run_ms,      r->median_ms,
                           r->min_ms,           r->max_ms,            r->mean_ms,
                           r->throughput};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
      fprintf(f, ", \"%s\": ", keys[k]);
      cli_json_number(f, vals[k]);
    }
    fprintf(f, ", \"host_peak_bytes\": %zu, \"session_host_bytes\": %zu, \"device_bytes\": %zu",
            r->host_peak, r->session_host, r->device_bytes);
    fprintf(f, ", \"second_session_device_bytes\": %zu, \"shared_device_bytes\": %zu",
            r->second_device_bytes, r->shared_device_bytes);
    fprintf(f, ", \"programs_compiled\": %d, \"programs_loaded\": %d", r->programs_compiled,
            r->programs_loaded);
    fprintf(f, ", \"flops\": ");
    cli_json_number(f, r->flops);
    fprintf(f, ", \"peak_gflops_per_s\": ");
    cli_json_number(f, r->peak_gflops);
    fprintf(f, ", \"runs\": %d, \"warmup\": %d}", a->runs, a->warmup);
  }
  fprintf(f, "\n]\n");
  if (ferror(f) | (fclose(f) != 0)) {
    cli_error("--json: cannot write '%s'", path);
    return CLI_FAIL;
  }
  return CLI_OK;
}

static void print_table(const bench_row *rows, int n, long long batch, const bench_args *a) {
  printf("%d runs after %d warmup, batch %lld, precision %s; cold: a new context on an empty\n"
         "program cache (session creation, then its first run: 'cold 1st'), warm: a new context\n"
         "on that cache, 2nd: another session beside the warm one (shared programs and weights;\n"
         "'2nd dev' is the device memory it adds); progs: programs compiled cold / loaded warm;\n"
         "GFLOP/s at the median, and its share of the device's FP32 peak (clcnn devices --peak)\n",
         a->runs, a->warmup, batch, cli_precision_name(a->precision));
  printf("%-24s %9s %9s %9s %9s %9s %10s %9s %9s %10s %11s %11s %11s %9s %9s %7s\n", "device",
         "cold ms", "cold 1st", "warm ms", "2nd ms", "first ms", "median ms", "min ms", "max ms",
         "images/s", "peak RSS", "session", "2nd dev", "progs", "GFLOP/s", "% peak");
  for (int i = 0; i < n; i++) {
    const bench_row *r = &rows[i];
    const char *name = r->device[0] ? r->device : r->requested ? r->requested : "default";
    if (r->error[0]) {
      printf("%-24.24s failed: %s\n", name, r->error);
      continue;
    }
    char peak[32], sess[32], second[32];
    cli_bytes_str((double)r->host_peak, peak, sizeof peak);
    cli_bytes_str((double)(r->session_host + r->device_bytes), sess, sizeof sess);
    cli_bytes_str((double)r->second_device_bytes, second, sizeof second);
    char progs[32], rate[32] = "-", share[32] = "-";
    snprintf(progs, sizeof progs, "%d/%d", r->programs_compiled, r->programs_loaded);
    double gf = r->median_ms > 0 ? r->flops / (r->median_ms * 1e6) : 0;
    if (r->flops > 0) snprintf(rate, sizeof rate, "%.2f", gf);
    if (r->flops > 0 && r->peak_gflops > 0)
      snprintf(share, sizeof share, "%.1f%%", 100 * gf / r->peak_gflops);
    printf("%-24.24s %9.3f %9.3f %9.3f %9.3f %9.3f %10.3f %9.3f %9.3f %10.1f %11s %11s %11s %9s "
           "%9s %7s\n",
           name, r->create_cold_ms, r->cold_first_run_ms, r->create_warm_ms, r->create_second_ms,
           r->first_run_ms, r->median_ms, r->min_ms, r->max_ms, r->throughput, peak, sess, second,
           progs, rate, share);
  }
}

int cli_bench(int argc, char **argv) {
  bench_args a = {.runs = 20, .warmup = 3};
  for (int i = 1; i < argc; i++) {
    const char *v;
    int r;
    long long x;
    if ((r = cli_opt(argc, argv, &i, "--device", &v)) != 0) {
      if (r < 0) return CLI_USAGE;
      a.device = v;
    } else if ((r = cli_opt(argc, argv, &i, "--runs", &v)) != 0) {
      if (r < 0 || !cli_parse_int(v, 1, 1000000, "--runs", &x)) return CLI_USAGE;
      a.runs = (int)x;
    } else if ((r = cli_opt(argc, argv, &i, "--warmup", &v)) != 0) {
      if (r < 0 || !cli_parse_int(v, 0, 1000000, "--warmup", &x)) return CLI_USAGE;
      a.warmup = (int)x;
    } else if ((r = cli_opt(argc, argv, &i, "--batch", &v)) != 0) {
      if (r < 0 || !cli_parse_int(v, 1, 1 << 20, "--batch", &x)) return CLI_USAGE;
      a.batch = x;
    } else if ((r = cli_opt(argc, argv, &i, "--json", &v)) != 0) {
      if (r < 0) return CLI_USAGE;
      a.json = v;
    } else if ((r = cli_precision_opt(argc, argv, &i, &a.precision)) != 0) {
      if (r < 0) return CLI_USAGE;
    } else if (!cli_model_arg("bench", argv[i], &a.model)) {
      return CLI_USAGE;
    }
  }
  if (!a.model) {
    cli_error("bench: no model given (usage: clcnn bench MODEL [--device X|all] [--runs N] ...)");
    return CLI_USAGE;
  }

  const char *devices[MAX_DEVICES];
  int ndev;
  if (a.device && strcmp(a.device, "all") == 0) {
    ndev = cli_device_list(devices, MAX_DEVICES);
  } else {
    devices[0] = a.device; /* NULL: $CLCNN_DEVICE, else best */
    ndev = 1;
  }

  int rc = CLI_FAIL;
  clcnn_context *ctx = NULL;
  clcnn_model *m = NULL;
  char cache_dir[] = "/tmp/clcnn-bench-cache-XXXXXX";
  bool have_cache_dir = false;
  cli_input *in = NULL;
  clcnn_input_shape *shapes = NULL;
  bench_row *rows = NULL;
  int nin = 0;
  /* "Cold" session creation means an empty program cache: the bench gets a
   * cache directory of its own, empty at the start and removed at the end.
   * (A driver's own cache, such as PoCL's ~/.cache/pocl, may still be warm.) */
  have_cache_dir = mkdtemp(cache_dir) != NULL;
  clcnn_options copts;
  clcnn_options_default(&copts);
  if (have_cache_dir) copts.cache_dir = cache_dir;
  if (clcnn_context_create(&copts, &ctx)) {
    cli_error("%s", clcnn_last_error());
    goto out;
  }
  if (clcnn_model_load_file(ctx, a.model, &m)) {
    cli_error("%s", clcnn_last_error());
    goto out;
  }
  if (cli_inputs_random(m, a.batch, &in, &nin)) goto out;
  shapes = calloc((size_t)nin + 1, sizeof *shapes);
  rows = calloc((size_t)ndev + 1, sizeof *rows);
  if (!shapes || !rows) {
    cli_error("out of memory");
    goto out;
  }
  for (int i = 0; i < nin; i++) {
    shapes[i].name = in[i].name;
    shapes[i].rank = in[i].t.rank;
    memcpy(shapes[i].dims, in[i].t.dims, sizeof shapes[i].dims);
  }
  long long batch = a.batch ? a.batch : (nin && shapes[0].rank ? shapes[0].dims[0] : 1);

  int failed = 0;
  for (int d = 0; d < ndev; d++) {
    bench_device(a.model, &copts, in, nin, shapes, &a, devices[d], &rows[d]);
    if (rows[d].error[0]) failed++;
  }
  print_table(rows, ndev, batch, &a);
  if (a.json && write_json(a.json, &a, batch, rows, ndev)) goto out;
  if (failed == 1 && ndev == 1) {
    cli_error("%s", rows[0].error);
  } else if (failed) {
    cli_error("%d of %d devices failed (see the table)", failed, ndev);
  } else {
    rc = CLI_OK;
  }
out:
  cli_inputs_free(in, nin);
  free(shapes);
  free(rows);
  clcnn_model_free(m);
  clcnn_context_free(ctx);
  if (have_cache_dir) remove_tree(cache_dir);
  return rc;
}
