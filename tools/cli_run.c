/* `clcnn run MODEL [options]`: feed inputs, run, summarise and save outputs,
 * optionally time repeated runs and profile every node. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "onnx_io.h"

#define MAX_ARGS 64

typedef struct run_args {
  const char *model, *device, *output_dir, *profile_json;
  const char *inputs[MAX_ARGS];
  int ninputs;
  const char *shapes[MAX_ARGS];
  int nshapes;
  float mean[4], std[4];
  int nmean, nstd;
  int size_w, size_h;
  bool profile;
  int runs; /* 0: none beyond the first */
  bool strict; /* refuse any fallback to the CPU backend */
  bool verify; /* run each device node on the CPU backend too and compare */
  double verify_tol;
} run_args;

static int parse_args(int argc, char **argv, run_args *a) {
  memset(a, 0, sizeof *a);
  for (int i = 1; i < argc; i++) {
    const char *v;
    int r;
    if ((r = cli_opt(argc, argv, &i, "--device", &v)) != 0) {
      if (r < 0) return CLI_USAGE;
      a->device = v;
    } else if (strcmp(argv[i], "--strict") == 0) {
      a->strict = true;
    } else if (strcmp(argv[i], "--verify") == 0) {
      a->verify = true;
    } else if ((r = cli_opt(argc, argv, &i, "--verify-tolerance", &v)) != 0) {
      char *end;
      if (r < 0) return CLI_USAGE;
      a->verify_tol = strtod(v, &end);
      if (*end || !(a->verify_tol > 0)) {
        cli_error("--verify-tolerance: '%s' is not a positive number", v);
        return CLI_USAGE;
      }
      a->verify = true;
    } else if ((r = cli_opt(argc, argv, &i, "--input", &v)) != 0) {
      if (r < 0) return CLI_USAGE;
      if (a->ninputs == MAX_ARGS) {
        cli_error("run: too many --input options");
        return CLI_USAGE;
      }
      a->inputs[a->ninputs++] = v;
    } else if ((r = cli_opt(argc, argv, &i, "--shape", &v)) != 0) {
      if (r < 0) return CLI_USAGE;
      if (a->nshapes == MAX_ARGS) {
        cli_error("run: too many --shape options");
        return CLI_USAGE;
      }
      a->shapes[a->nshapes++] = v;
    } else if ((r = cli_opt(argc, argv, &i, "--output-dir", &v)) != 0) {
      if (r < 0) return CLI_USAGE;
      a->output_dir = v;
    } else if ((r = cli_opt(argc, argv, &i, "--mean", &v)) != 0) {
      if (r < 0 || !cli_parse_floats(v, a->mean, 4, &a->nmean, "--mean")) return CLI_USAGE;
    } else if ((r = cli_opt(argc, argv, &i, "--std", &v)) != 0) {
      if (r < 0 || !cli_parse_floats(v, a->std, 4, &a->nstd, "--std")) return CLI_USAGE;
      for (int k = 0; k < a->nstd; k++)
        if (a->std[k] == 0) {
          cli_error("--std: values must not be 0");
          return CLI_USAGE;
        }
    } else if ((r = cli_opt(argc, argv, &i, "--size", &v)) != 0) {
      int rank;
      int64_t d[CLCNN_MAX_RANK];
      if (r < 0 || !cli_parse_dims(v, &rank, d, "--size")) return CLI_USAGE;
      if (rank != 2 || d[0] < 1 || d[1] < 1 || d[0] > 65536 || d[1] > 65536) {
        cli_error("--size: '%s' is not WxH (e.g. 224x224)", v);
        return CLI_USAGE;
      }
      a->size_w = (int)d[0];
      a->size_h = (int)d[1];
    } else if ((r = cli_opt(argc, argv, &i, "--runs", &v)) != 0) {
      long long n;
      if (r < 0 || !cli_parse_int(v, 1, 1000000, "--runs", &n)) return CLI_USAGE;
      a->runs = (int)n;
    } else if ((r = cli_opt(argc, argv, &i, "--profile-json", &v)) != 0) {
      if (r < 0) return CLI_USAGE;
      a->profile_json = v;
    } else if (strcmp(argv[i], "--profile") == 0) {
      a->profile = true;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      cli_error("run: unknown option '%s' (see 'clcnn help')", argv[i]);
      return CLI_USAGE;
    } else if (a->model) {
      cli_error("run: more than one model given ('%s' and '%s')", a->model, argv[i]);
      return CLI_USAGE;
    } else {
      a->model = argv[i];
    }
  }
  if (!a->model) {
    cli_error("run: no model given (usage: clcnn run MODEL [options])");
    return CLI_USAGE;
  }
  return CLI_OK;
}

/* ------------------------------------------------------------- outputs */

typedef struct stats {
  double min, max, mean;
  int64_t n, nan;
} stats;

static stats tensor_stats(const clcnn_tensor *t) {
  stats s = {INFINITY, -INFINITY, 0, 0, 0};
  int64_t numel = clcnn_tensor_numel(t);
  double sum = 0;
  for (int64_t i = 0; i < numel; i++) {
    double v = cli_tensor_get(t, i);
    if (v != v) {
      s.nan++;
      continue;
    }
    if (v < s.min) s.min = v;
    if (v > s.max) s.max = v;
    sum += v;
    s.n++;
  }
  s.mean = s.n ? sum / (double)s.n : NAN;
  return s;
}

static bool classifier_like(const clcnn_tensor *t) {
  if (t->rank == 2) return t->dims[0] == 1 && t->dims[1] >= 2;
  if (t->rank == 4) return t->dims[0] == 1 && t->dims[1] >= 2 && t->dims[2] == 1 && t->dims[3] == 1;
  return false;
}

static void print_top5(const clcnn_tensor *t) {
  int64_t n = clcnn_tensor_numel(t);
  int64_t idx[5];
  double val[5];
  int k = 0;
  for (int64_t i = 0; i < n; i++) {
    double v = cli_tensor_get(t, i);
    if (v != v) continue;
    int pos = k;
    while (pos > 0 && val[pos - 1] < v) pos--;
    if (pos >= 5) continue;
    int last = k < 5 ? k : 4;
    for (int j = last; j > pos; j--) {
      idx[j] = idx[j - 1];
      val[j] = val[j - 1];
    }
    idx[pos] = i;
    val[pos] = v;
    if (k < 5) k++;
  }
  printf("    top-5:");
  for (int j = 0; j < k; j++) printf("  %lld (%.6g)", (long long)idx[j], val[j]);
  printf("\n");
}

/* Writes output `name` under dir, with a file name no earlier output took. */
static int save_output(const char *dir, const char *name, const clcnn_tensor *t, char **taken,
                       int ntaken, char *file, size_t len) {
  char base[200];
  cli_sanitize_name(name, base, sizeof base);
  char cand[256];
  snprintf(cand, sizeof cand, "%s", base);
  for (int k = 2;; k++) {
    bool clash = false;
    for (int j = 0; j < ntaken; j++)
      if (taken[j] && strcmp(taken[j], cand) == 0) clash = true;
    if (!clash) break;
    snprintf(cand, sizeof cand, "%s_%d", base, k);
  }
  taken[ntaken] = strdup(cand);
  snprintf(file, len, "%s/%s.pb", dir, cand);
  clcnn_err err = {0};
  if (onnx_tensor_save(file, name, t, &err)) {
    cli_error("output '%s': %s", name, err.msg);
    return CLI_FAIL;
  }
  return CLI_OK;
}

static int ensure_dir(const char *dir) {
  struct stat sb;
  if (stat(dir, &sb) == 0) {
    if (S_ISDIR(sb.st_mode)) return CLI_OK;
    cli_error("--output-dir: '%s' exists and is not a directory", dir);
    return CLI_FAIL;
  }
  if (mkdir(dir, 0777) != 0) {
    cli_error("--output-dir: cannot create '%s': %s", dir, strerror(errno));
    return CLI_FAIL;
  }
  return CLI_OK;
}

/* ------------------------------------------------------------- profile */

static int cmp_entry_ms(const void *a, const void *b) {
  const clcnn_profile_entry *x = *(const clcnn_profile_entry *const *)a;
  const clcnn_profile_entry *y = *(const clcnn_profile_entry *const *)b;
  return (x->ms < y->ms) - (x->ms > y->ms);
}

static double gflops(double flops, double ms) { return ms > 0 ? flops / (ms * 1e6) : 0; }

static void print_profile_row(int k, const clcnn_profile_entry *e, double total) {
  char rate[32];
  if (!strcmp(e->op, "Transfer")) /* bandwidth, not FLOPs */
    snprintf(rate, sizeof rate, "%.2f GB/s", e->ms > 0 ? (double)e->bytes / (e->ms * 1e6) : 0);
  else
    snprintf(rate, sizeof rate, "%.2f", gflops(e->flops, e->ms));
  printf("%4d  %-32.32s %-20.20s %-14.14s %-16.16s %9.3f %12s %10zu %6.1f%%\n", k, e->node, e->op,
         e->backend, e->shape, e->ms, rate, e->bytes, total > 0 ? 100 * e->ms / total : 0);
}

static void print_profile(const clcnn_profile_entry *e, int n) {
  double total = 0, flops = 0;
  for (int i = 0; i < n; i++) total += e[i].ms, flops += e[i].flops;
  printf("\nprofile (last run, %d steps in run order: nodes and transfers)\n", n);
  printf("%4s  %-32s %-20s %-14s %-16s %9s %12s %10s %7s\n", "#", "node", "op", "backend", "shape",
         "ms", "GFLOP/s", "bytes", "time");
  for (int i = 0; i < n; i++) print_profile_row(i, &e[i], total);
  printf("total: %.3f ms, %.4g GFLOP, %.2f GFLOP/s\n", total, flops / 1e9, gflops(flops, total));
  const clcnn_profile_entry **order = malloc(sizeof *order * (size_t)(n ? n : 1));
  if (!order) return;
  for (int i = 0; i < n; i++) order[i] = &e[i];
  qsort(order, (size_t)n, sizeof *order, cmp_entry_ms);
  printf("\ntop %d by time\n", n < 10 ? n : 10);
  for (int i = 0; i < n && i < 10; i++) print_profile_row((int)(order[i] - e), order[i], total);
  free(order);
}

static int write_profile_json(const char *path, const char *model, const char *device,
                              const clcnn_profile_entry *e, int n) {
  FILE *f = fopen(path, "w");
  if (!f) {
    cli_error("--profile-json: cannot write '%s': %s", path, strerror(errno));
    return CLI_FAIL;
  }
  double total = 0, flops = 0;
  for (int i = 0; i < n; i++) total += e[i].ms, flops += e[i].flops;
  fprintf(f, "{\n  \"model\": ");
  cli_json_string(f, model);
  fprintf(f, ",\n  \"device\": ");
  cli_json_string(f, device);
  fprintf(f, ",\n  \"total_ms\": ");
  cli_json_number(f, total);
  fprintf(f, ",\n  \"total_flops\": ");
  cli_json_number(f, flops);
  fprintf(f, ",\n  \"gflops_per_s\": ");
  cli_json_number(f, gflops(flops, total));
  fprintf(f, ",\n  \"nodes\": [");
  for (int i = 0; i < n; i++) {
    fprintf(f, "%s\n    {\"index\": %d, \"node\": ", i ? "," : "", i);
    cli_json_string(f, e[i].node);
    fprintf(f, ", \"op\": ");
    cli_json_string(f, e[i].op);
    fprintf(f, ", \"backend\": ");
    cli_json_string(f, e[i].backend);
    fprintf(f, ", \"shape\": ");
    cli_json_string(f, e[i].shape);
    fprintf(f, ", \"ms\": ");
    cli_json_number(f, e[i].ms);
    fprintf(f, ", \"flops\": ");
    cli_json_number(f, e[i].flops);
    fprintf(f, ", \"bytes\": %zu", e[i].bytes);
    fprintf(f, ", \"gflops_per_s\": ");
    cli_json_number(f, gflops(e[i].flops, e[i].ms));
    fprintf(f, "}");
  }
  fprintf(f, "\n  ]\n}\n");
  if (ferror(f) | (fclose(f) != 0)) {
    cli_error("--profile-json: cannot write '%s'", path);
    return CLI_FAIL;
  }
  return CLI_OK;
}

/* -------------------------------------------------------------- verify */

/* Verify mode's report; 0 when every device node agrees with the CPU
 * backend. */
static int print_verify(const clcnn_session *s) {
  const clcnn_verify_entry *e;
  int n, first;
  if (clcnn_session_verify_report(s, &e, &n, &first)) {
    cli_error("%s", clcnn_session_error(s));
    return CLI_FAIL;
  }
  printf("\nverify (each device node against the CPU backend, from the same inputs)\n");
  printf("%4s  %-32s %-20s %-10s %12s %12s %10s  %s\n", "#", "node", "op", "backend",
         "max|err|", "max|cpu|", "error", "");
  int bad = 0;
  for (int i = 0; i < n; i++) {
    bad += !e[i].ok;
    printf("%4d  %-32.32s %-20.20s %-10.10s %12.4g %12.4g %10.3g  %s\n", i, e[i].node, e[i].op,
           e[i].backend, e[i].max_abs_error, e[i].max_abs_ref, e[i].error,
           e[i].ok ? "ok" : "DIFFERS");
  }
  if (!n) printf("  no node ran on a device: nothing to compare\n");
  if (first >= 0) {
    printf("%d of %d device nodes differ from the CPU backend; the first is '%s' (%s) on %s: "
           "error %.3g\n", bad, n, e[first].node, e[first].op, e[first].backend, e[first].error);
    cli_error("verify: node '%s' (%s) on %s differs from the CPU backend (error %.3g)",
              e[first].node, e[first].op, e[first].backend, e[first].error);
    return CLI_FAIL;
  }
  printf("all %d device nodes agree with the CPU backend\n", n);
  return CLI_OK;
}

/* ----------------------------------------------------------------- run */

static int set_inputs(clcnn_session *s, const cli_input *in, int n) {
  for (int i = 0; i < n; i++)
    if (clcnn_session_set_input(s, in[i].name, &in[i].t)) {
      cli_error("%s", clcnn_session_error(s));
      return CLI_FAIL;
    }
  return CLI_OK;
}

static int run_main(const run_args *a, clcnn_context *ctx) {
  int rc = CLI_FAIL;
  clcnn_model *m = NULL;
  clcnn_session *s = NULL;
  cli_input *in = NULL;
  cli_input_opts *io_opts = NULL;
  char **taken = NULL;
  double *times = NULL;
  int nin = 0, nout = 0;

  if (clcnn_model_load_file(ctx, a->model, &m)) {
    cli_error("%s", clcnn_last_error());
    goto out;
  }
  nin = clcnn_model_input_count(m);
  nout = clcnn_model_output_count(m);
  in = calloc((size_t)nin + 1, sizeof *in);
  io_opts = calloc((size_t)nin + 1, sizeof *io_opts);
  taken = calloc((size_t)nout + 1, sizeof *taken);
  if (!in || !io_opts || !taken) {
    cli_error("out of memory");
    goto out;
  }
  for (int i = 0; i < nin; i++) {
    io_opts[i].size_w = a->size_w;
    io_opts[i].size_h = a->size_h;
    memcpy(io_opts[i].mean, a->mean, sizeof a->mean);
    memcpy(io_opts[i].std, a->std, sizeof a->std);
    io_opts[i].nmean = a->nmean;
    io_opts[i].nstd = a->nstd;
  }
  for (int k = 0; k < a->ninputs; k++) {
    int idx;
    const char *file;
    if (cli_resolve_input(m, "--input", a->inputs[k], false, &idx, &file)) goto usage;
    if (io_opts[idx].file) {
      clcnn_io_info io;
      clcnn_model_input_info(m, idx, &io);
      cli_error("--input: input '%s' is given twice", io.name);
      goto usage;
    }
    io_opts[idx].file = file;
  }
  for (int k = 0; k < a->nshapes; k++) {
    int idx;
    const char *dims;
    if (cli_resolve_input(m, "--shape", a->shapes[k], true, &idx, &dims)) goto usage;
    if (io_opts[idx].have_shape) {
      clcnn_io_info io;
      clcnn_model_input_info(m, idx, &io);
      cli_error("--shape: input '%s' is given twice", io.name);
      goto usage;
    }
    if (!cli_parse_dims(dims, &io_opts[idx].rank, io_opts[idx].dims, "--shape")) goto usage;
    io_opts[idx].have_shape = true;
  }

  /* Inputs, and from them the session's shapes. */
  clcnn_input_shape *shapes = calloc((size_t)nin + 1, sizeof *shapes);
  if (!shapes) {
    cli_error("out of memory");
    goto out;
  }
  int nrandom = 0;
  for (int i = 0; i < nin; i++) {
    clcnn_io_info io;
    clcnn_model_input_info(m, i, &io);
    if (cli_input_make(&io, &io_opts[i], 0x5eedull * (uint64_t)i, &in[i])) {
      free(shapes);
      goto out;
    }
    nrandom += in[i].random;
    shapes[i].name = in[i].name;
    shapes[i].rank = in[i].t.rank;
    memcpy(shapes[i].dims, in[i].t.dims, sizeof shapes[i].dims);
  }
  if (nrandom)
    printf(
        "note: no --input for %d of %d input%s: using deterministic pseudo-random data "
        "(seed 0)\n",
        nrandom, nin, nin == 1 ? "" : "s");

  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = a->device;
  so.strict = a->strict;
  so.profile = a->profile || a->profile_json;
  so.verify = a->verify;
  so.verify_tolerance = a->verify_tol;
  double t0 = cli_now_ms();
  clcnn_status st = clcnn_session_create(m, &so, shapes, nin, &s);
  double create_ms = cli_now_ms() - t0;
  free(shapes);
  if (st) {
    cli_error("%s", clcnn_last_error());
    goto out;
  }

  t0 = cli_now_ms();
  if (set_inputs(s, in, nin)) goto out;
  if (clcnn_session_run(s)) {
    cli_error("%s", clcnn_session_error(s));
    goto out;
  }
  double first_ms = cli_now_ms() - t0;
  if (a->runs) {
    times = malloc(sizeof *times * (size_t)a->runs);
    if (!times) {
      cli_error("out of memory");
      goto out;
    }
    for (int r = 0; r < a->runs; r++) {
      t0 = cli_now_ms();
      if (set_inputs(s, in, nin)) goto out;
      if (clcnn_session_run(s)) {
        cli_error("%s", clcnn_session_error(s));
        goto out;
      }
      times[r] = cli_now_ms() - t0;
    }
  }

  printf("device   %s\n", clcnn_session_device(s));
  printf("inputs\n");
  for (int i = 0; i < nin; i++) {
    char d[256];
    cli_dims_str(in[i].t.rank, in[i].t.dims, d, sizeof d);
    printf("  %s  %s %s  %s\n", in[i].name, dtype_name(in[i].t.dtype), d,
           in[i].random ? "(pseudo-random)" : io_opts[i].file);
  }
  if (a->output_dir && ensure_dir(a->output_dir)) goto out;
  printf("outputs\n");
  for (int i = 0; i < nout; i++) {
    clcnn_io_info io;
    clcnn_tensor t;
    clcnn_model_output_info(m, i, &io);
    if (clcnn_session_output(s, io.name, &t)) {
      cli_error("%s", clcnn_session_error(s));
      goto out;
    }
    char d[256];
    cli_dims_str(t.rank, t.dims, d, sizeof d);
    stats sx = tensor_stats(&t);
    printf("  %s  %s %s", io.name, dtype_name(t.dtype), d);
    if (sx.n) printf("  min %.6g  mean %.6g  max %.6g", sx.min, sx.mean, sx.max);
    if (sx.nan) printf("  (%lld NaN)", (long long)sx.nan);
    printf("\n");
    if (classifier_like(&t)) print_top5(&t);
    if (a->output_dir) {
      char file[4096];
      if (save_output(a->output_dir, io.name, &t, taken, i, file, sizeof file)) goto out;
      printf("    saved %s\n", file);
    }
  }
  printf("timing   create %.3f ms, first run %.3f ms", create_ms, first_ms);
  if (a->runs) {
    double mn = times[0], mx = times[0];
    for (int r = 1; r < a->runs; r++) {
      if (times[r] < mn) mn = times[r];
      if (times[r] > mx) mx = times[r];
    }
    printf(", median of %d runs %.3f ms (min %.3f, max %.3f)", a->runs, cli_median(times, a->runs),
           mn, mx);
  }
  printf("\n");

  if (so.profile) {
    const clcnn_profile_entry *e;
    int n;
    if (clcnn_session_profile(s, &e, &n)) {
      cli_error("%s", clcnn_session_error(s));
      goto out;
    }
    if (a->profile) print_profile(e, n);
    if (a->profile_json &&
        write_profile_json(a->profile_json, a->model, clcnn_session_device(s), e, n))
      goto out;
  }
  rc = CLI_OK;
  if (a->verify && print_verify(s) != 0) rc = CLI_FAIL;
  goto out;
usage:
  rc = CLI_USAGE;
out:
  clcnn_session_free(s);
  for (int i = 0; in && i < nin; i++) cli_input_free(&in[i]);
  for (int i = 0; taken && i < nout; i++) free(taken[i]);
  free(taken);
  free(in);
  free(io_opts);
  free(times);
  clcnn_model_free(m);
  return rc;
}

int cli_run(int argc, char **argv) {
  run_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc) return rc;
  clcnn_context *ctx;
  if (clcnn_context_create(NULL, &ctx)) {
    cli_error("%s", clcnn_last_error());
    return CLI_FAIL;
  }
  rc = run_main(&a, ctx);
  clcnn_context_free(ctx);
  return rc;
}
