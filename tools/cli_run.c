/* `clcnn run MODEL [options]`: feed inputs, run, summarise and save outputs,
 * optionally time repeated runs and profile every node. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "clcnn_config.h"
#include "onnx_io.h"

#if CLCNN_HAVE_STB
#include <stb/stb_image_write.h>
/* In libstb (stb_image_write.c) but not declared by its header. */
unsigned char *stbi_zlib_compress(unsigned char *data, int data_len, int *out_len, int quality);
#endif

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
  clcnn_precision precision;
  double verify_tol;
  int tile_w, tile_h; /* --tile (0: a whole-image run) */
  int overlap;        /* --overlap (-1: the library's default) */
  const char *output_image; /* --output-image */
  int output_depth;   /* 8 or 16 */
} run_args;

static int parse_args(int argc, char **argv, run_args *a) {
  memset(a, 0, sizeof *a);
  a->overlap = -1;
  a->output_depth = 8;
  for (int i = 1; i < argc; i++) {
    const char *v;
    int r;
    if ((r = cli_opt(argc, argv, &i, "--device", &v)) != 0) {
      if (r < 0) return CLI_USAGE;
      a->device = v;
    } else if (strcmp(argv[i], "--strict") == 0) {
      a->strict = true;
    } else if ((r = cli_precision_opt(argc, argv, &i, &a->precision)) != 0) {
      if (r < 0) return CLI_USAGE;
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
    } else if ((r = cli_opt(argc, argv, &i, "--tile", &v)) != 0) {
      int rank;
      int64_t d[CLCNN_MAX_RANK];
      if (r < 0 || !cli_parse_dims(v, &rank, d, "--tile")) return CLI_USAGE;
      if (rank != 2 || d[0] < 1 || d[1] < 1 || d[0] > 65536 || d[1] > 65536) {
        cli_error("--tile: '%s' is not WxH (e.g. 512x512)", v);
        return CLI_USAGE;
      }
      a->tile_w = (int)d[0];
      a->tile_h = (int)d[1];
    } else if ((r = cli_opt(argc, argv, &i, "--overlap", &v)) != 0) {
      long long n;
      if (r < 0 || !cli_parse_int(v, 0, 32768, "--overlap", &n)) return CLI_USAGE;
      a->overlap = (int)n;
    } else if ((r = cli_opt(argc, argv, &i, "--output-image", &v)) != 0) {
      if (r < 0) return CLI_USAGE;
      a->output_image = v;
    } else if ((r = cli_opt(argc, argv, &i, "--output-depth", &v)) != 0) {
      long long n;
      if (r < 0 || !cli_parse_int(v, 8, 16, "--output-depth", &n)) return CLI_USAGE;
      if (n != 8 && n != 16) {
        cli_error("--output-depth: %lld is not 8 or 16", n);
        return CLI_USAGE;
      }
      a->output_depth = (int)n;
    } else if ((r = cli_opt(argc, argv, &i, "--runs", &v)) != 0) {
      long long n;
      if (r < 0 || !cli_parse_int(v, 1, 1000000, "--runs", &n)) return CLI_USAGE;
      a->runs = (int)n;
    } else if ((r = cli_opt(argc, argv, &i, "--profile-json", &v)) != 0) {
      if (r < 0) return CLI_USAGE;
      a->profile_json = v;
    } else if (strcmp(argv[i], "--profile") == 0) {
      a->profile = true;
    } else if (!cli_model_arg("run", argv[i], &a->model)) {
      return CLI_USAGE;
    }
  }
  if (!a->model) {
    cli_error("run: no model given (usage: clcnn run MODEL [options])");
    return CLI_USAGE;
  }
  if (a->overlap >= 0 && !a->tile_w) {
    cli_error("run: --overlap needs --tile");
    return CLI_USAGE;
  }
  if (a->tile_w && (a->size_w || a->nshapes || a->runs || a->profile || a->profile_json ||
                    a->verify)) {
    cli_error("run: --tile takes the image at its own size and runs many tiles: it does not go "
              "with --size, --shape, --runs, --profile or --verify");
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

/* The peak rates of the backends a profile names ("cpu", "opencl",
 * "opencl:N"; "opencl" is the session's --device), from
 * clcnn_device_peak_get(): cached for OpenCL devices, measured once
 * otherwise (a note says so). A backend whose peak cannot be had gets none. */
#define PROFILE_PEAKS 8
typedef struct profile_peaks {
  clcnn_context *ctx;
  const char *device; /* the session's --device */
  int n;
  char name[PROFILE_PEAKS][32];
  clcnn_device_peak peak[PROFILE_PEAKS];
  bool ok[PROFILE_PEAKS];
} profile_peaks;

static const clcnn_device_peak *peak_of(profile_peaks *pp, const char *be) {
  if (!pp || !strcmp(be, "Transfer")) return NULL;
  for (int i = 0; i < pp->n; i++)
    if (!strcmp(pp->name[i], be)) return pp->ok[i] ? &pp->peak[i] : NULL;
  if (pp->n == PROFILE_PEAKS) return NULL;
  int i = pp->n++;
  snprintf(pp->name[i], sizeof pp->name[i], "%s", be);
  const char *spec = !strcmp(be, "opencl") ? (pp->device ? pp->device : "best") : be;
  clcnn_device_peak cached;
  if (strcmp(spec, "cpu") && clcnn_device_peak_get(pp->ctx, spec, 0, &cached) == CLCNN_OK &&
      cached.from_cache) {
    pp->peak[i] = cached;
    pp->ok[i] = true;
    return &pp->peak[i];
  }
  cli_note("measuring the peak of %s for the roofline columns (once%s)", be,
           strcmp(spec, "cpu") ? "; kept in the cache" : "");
  pp->ok[i] = clcnn_device_peak_get(pp->ctx, spec, 0, &pp->peak[i]) == CLCNN_OK &&
              pp->peak[i].fp32_gflops > 0 && pp->peak[i].bandwidth_gbs > 0;
  if (!pp->ok[i]) cli_note("no peak for %s: %s", be, clcnn_last_error());
  return pp->ok[i] ? &pp->peak[i] : NULL;
}

/* Where a node sits on its device's roofline: its intensity (FLOP per byte
 * of inputs and outputs) against the device's balance (peak FLOP/s over
 * bandwidth) says whether compute or memory bounds it, and `roof` is its
 * speed as a share of that bound. */
static void roofline(const clcnn_profile_entry *e, const clcnn_device_peak *pk, char *bound,
                     size_t blen, char *roof, size_t rlen) {
  snprintf(bound, blen, "-");
  snprintf(roof, rlen, "-");
  if (!pk || e->ms <= 0 || !strcmp(e->op, "Transfer") || (!e->flops && !e->io_bytes)) return;
  double balance = pk->fp32_gflops / pk->bandwidth_gbs; /* FLOP/byte */
  double intensity = e->io_bytes ? e->flops / (double)e->io_bytes : 1e30;
  bool compute = intensity >= balance;
  double ceiling = compute ? pk->fp32_gflops : intensity * pk->bandwidth_gbs; /* GFLOP/s */
  double achieved = gflops(e->flops, e->ms);
  if (!e->flops) { /* data movement only: against the bandwidth */
    ceiling = pk->bandwidth_gbs;
    achieved = (double)e->io_bytes / (e->ms * 1e6);
  }
  snprintf(bound, blen, "%s", compute ? "compute" : "memory");
  snprintf(roof, rlen, "%.0f%%", ceiling > 0 ? 100 * achieved / ceiling : 0);
}

static void print_profile_row(int k, const clcnn_profile_entry *e, double total,
                              profile_peaks *pp) {
  char rate[32], bound[16], roof[16];
  if (!strcmp(e->op, "Transfer")) /* bandwidth, not FLOPs */
    snprintf(rate, sizeof rate, "%.2f GB/s", e->ms > 0 ? (double)e->bytes / (e->ms * 1e6) : 0);
  else
    snprintf(rate, sizeof rate, "%.2f", gflops(e->flops, e->ms));
  roofline(e, peak_of(pp, strcmp(e->op, "Transfer") ? e->backend : "Transfer"), bound,
           sizeof bound, roof, sizeof roof);
  printf("%4d  %-32.32s %-20.20s %-14.14s %-16.16s %9.3f %12s %10zu %6.1f%% %8s %6s %s\n", k,
         e->node, e->op, e->backend, e->shape, e->ms, rate, e->bytes,
         total > 0 ? 100 * e->ms / total : 0, bound, roof, e->precision);
}

static void print_profile(const clcnn_profile_entry *e, int n, profile_peaks *pp) {
  double total = 0, flops = 0;
  for (int i = 0; i < n; i++) total += e[i].ms, flops += e[i].flops;
  printf("\nprofile (last run, %d steps in run order: nodes and transfers; bound and roof: the\n"
         "device's roofline from `clcnn devices --peak`, roof = speed / the bound's ceiling)\n",
         n);
  printf("%4s  %-32s %-20s %-14s %-16s %9s %12s %10s %7s %8s %6s %s\n", "#", "node", "op",
         "backend", "shape", "ms", "GFLOP/s", "bytes", "time", "bound", "roof", "storage");
  for (int i = 0; i < n; i++) print_profile_row(i, &e[i], total, pp);
  printf("total: %.3f ms, %.4g GFLOP, %.2f GFLOP/s", total, flops / 1e9, gflops(flops, total));
  const clcnn_device_peak *pk = n ? peak_of(pp, e[n - 1].backend) : NULL;
  if (pk && total > 0)
    printf(" (%.1f%% of %s's %.1f GFLOP/s peak)", 100 * gflops(flops, total) / pk->fp32_gflops,
           e[n - 1].backend, pk->fp32_gflops);
  printf("\n");
  const clcnn_profile_entry **order = malloc(sizeof *order * (size_t)(n ? n : 1));
  if (!order) return;
  for (int i = 0; i < n; i++) order[i] = &e[i];
  qsort(order, (size_t)n, sizeof *order, cmp_entry_ms);
  printf("\ntop %d by time\n", n < 10 ? n : 10);
  for (int i = 0; i < n && i < 10; i++)
    print_profile_row((int)(order[i] - e), order[i], total, pp);
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
    fprintf(f, ", \"precision\": ");
    cli_json_string(f, e[i].precision);
    fprintf(f, ", \"ms\": ");
    cli_json_number(f, e[i].ms);
    fprintf(f, ", \"flops\": ");
    cli_json_number(f, e[i].flops);
    fprintf(f, ", \"bytes\": %zu, \"io_bytes\": %zu", e[i].bytes, e[i].io_bytes);
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

/* -------------------------------------------------------------- images */

static void image_opts_from_args(const run_args *a, int channels, clcnn_image_options *io) {
  clcnn_image_options_default(io);
  for (int k = 0; k < 4; k++) {
    if (a->nmean) io->mean[k] = a->mean[a->nmean > 1 && k < a->nmean ? k : 0];
    if (a->nstd) io->std[k] = a->std[a->nstd > 1 && k < a->nstd ? k : 0];
  }
  (void)channels;
}

static bool mean_std_fit(const run_args *a, int channels) {
  if ((a->nmean > 1 && a->nmean != channels) || (a->nstd > 1 && a->nstd != channels)) {
    cli_error("--mean/--std: give 1 or %d values for a %d-channel tensor", channels, channels);
    return false;
  }
  return true;
}

#if CLCNN_HAVE_STB
static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n) {
  static uint32_t table[256];
  if (!table[1])
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
  crc = ~crc;
  for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

static void put_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static bool png_chunk(FILE *f, const char *type, const unsigned char *data, size_t n) {
  unsigned char hdr[8], crc[4];
  put_be32(hdr, (uint32_t)n);
  memcpy(hdr + 4, type, 4);
  put_be32(crc, crc32_update(crc32_update(0, hdr + 4, 4), data, n));
  return fwrite(hdr, 1, 8, f) == 8 && (!n || fwrite(data, 1, n, f) == n) &&
         fwrite(crc, 1, 4, f) == 4;
}

/* A 16-bit PNG (stb_image_write writes 8-bit only): rows with the Sub filter,
 * deflated by stb's zlib. */
static bool write_png16(const char *path, int w, int h, int c, const uint16_t *px) {
  size_t bpp = (size_t)c * 2, line = 1 + (size_t)w * bpp, n = line * (size_t)h;
  if (n > (size_t)1 << 30) return false;
  unsigned char *raw = malloc(n);
  if (!raw) return false;
  for (int y = 0; y < h; y++) {
    unsigned char *r = raw + (size_t)y * line;
    r[0] = 1; /* Sub */
    const uint16_t *s = px + (size_t)y * w * c;
    for (size_t i = 0; i < (size_t)w * c; i++) {
      r[1 + 2 * i] = (unsigned char)(s[i] >> 8);
      r[2 + 2 * i] = (unsigned char)s[i];
    }
    for (size_t i = line - 1; i >= 1 + bpp; i--) r[i] = (unsigned char)(r[i] - r[i - bpp]);
  }
  int zlen = 0;
  unsigned char *z = stbi_zlib_compress(raw, (int)n, &zlen, 8);
  free(raw);
  if (!z) return false;
  static const unsigned char color_type[5] = {0, 0, 4, 2, 6};
  unsigned char ihdr[13];
  put_be32(ihdr, (uint32_t)w);
  put_be32(ihdr + 4, (uint32_t)h);
  ihdr[8] = 16, ihdr[9] = color_type[c], ihdr[10] = ihdr[11] = ihdr[12] = 0;
  FILE *f = fopen(path, "wb");
  bool ok = f && fwrite("\x89PNG\r\n\x1a\n", 1, 8, f) == 8 && png_chunk(f, "IHDR", ihdr, 13) &&
            png_chunk(f, "IDAT", z, (size_t)zlen) && png_chunk(f, "IEND", NULL, 0);
  if (f && fclose(f) != 0) ok = false;
  free(z);
  return ok;
}
#endif

/* Writes output `name` (float32 [1, C, H, W], C 1..4) as a PNG of `depth` bits. */
static int write_output_image(const run_args *a, const char *name, const clcnn_tensor *t) {
  if (t->dtype != CLCNN_DTYPE_FLOAT32 || t->rank != 4 || t->dims[0] != 1 || t->dims[1] < 1 ||
      t->dims[1] > 4 || t->dims[2] < 1 || t->dims[3] < 1 || t->dims[2] > 65535 ||
      t->dims[3] > 65535) {
    char d[256];
    cli_dims_str(t->rank, t->dims, d, sizeof d);
    cli_error("--output-image: output '%s' is %s %s: an image needs float32 1xCxHxW with C = 1 "
              "(gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA), at most 65535 pixels a side",
              name, dtype_name(t->dtype), d);
    return CLI_FAIL;
  }
#if CLCNN_HAVE_STB
  int c = (int)t->dims[1], h = (int)t->dims[2], w = (int)t->dims[3];
  if (!mean_std_fit(a, c)) return CLI_FAIL;
  clcnn_image_options io;
  image_opts_from_args(a, c, &io);
  size_t ss = a->output_depth == 16 ? 2 : 1;
  clcnn_image img = {malloc((size_t)w * h * c * ss), w, h, c,
                     ss == 2 ? CLCNN_PIXEL_UINT16 : CLCNN_PIXEL_UINT8, 0};
  if (!img.data) {
    cli_error("out of memory for the output image");
    return CLI_FAIL;
  }
  if (clcnn_tensor_to_image(t, &io, &img)) {
    cli_error("--output-image: %s", clcnn_last_error());
    free(img.data);
    return CLI_FAIL;
  }
  bool ok = ss == 2 ? write_png16(a->output_image, w, h, c, img.data)
                    : stbi_write_png(a->output_image, w, h, c, img.data, w * c) != 0;
  free(img.data);
  if (!ok) {
    cli_error("--output-image: cannot write '%s': %s", a->output_image,
              errno ? strerror(errno) : "failed");
    return CLI_FAIL;
  }
  printf("    image %s (%dx%d, %d channel%s, %d-bit PNG)\n", a->output_image, w, h, c,
         c == 1 ? "" : "s", a->output_depth);
  return CLI_OK;
#else
  cli_error("--output-image: this clcnn was built without stb (install libstb-dev)");
  return CLI_FAIL;
#endif
}

/* --------------------------------------------------------------- tiles */

static int tile_progress(void *user, int done, int total) {
  (void)user;
  if (isatty(STDERR_FILENO)) fprintf(stderr, "\rclcnn: tile %d of %d%s", done, total,
                                     done == total ? "\n" : "");
  return 0;
}

/* Loads an image at its own size into a [1, C, H, W] tensor (C: the model's,
 * else 1 for gray and 3 for color images). */
static int load_image_tensor(const run_args *a, const char *path, const clcnn_io_info *io,
                             clcnn_tensor *t) {
#if CLCNN_HAVE_STB
  void *file;
  size_t size;
  clcnn_err err = {0};
  if (onnx_read_file(path, &file, &size, &err)) {
    cli_error("--tile: %s", err.msg);
    return CLI_FAIL;
  }
  cli_pixels px;
  char why[256];
  int drc = cli_image_decode(file, size, 0, &px, why, sizeof why);
  free(file);
  if (drc) {
    cli_error("--tile: cannot decode image '%s': %s (--tile takes PNG, JPEG or BMP images)", path,
              why);
    return CLI_FAIL;
  }
  int w = px.w, h = px.h, c = px.c;
  int mc = io->rank == 4 && io->dims[1] > 0 ? (int)io->dims[1] : c <= 2 ? 1 : 3;
  if (mc > 4 || !mean_std_fit(a, mc) || (int64_t)w * h * mc > ((int64_t)1 << 31)) {
    if (mc > 4) cli_error("--tile: input '%s' has %d channels; an image gives 1 to 4", io->name, mc);
    else if ((int64_t)w * h * mc > ((int64_t)1 << 31)) cli_error("image '%s' is too large", path);
    cli_pixels_free(&px);
    return CLI_FAIL;
  }
  clcnn_image img = {px.data, w, h, c, px.deep ? CLCNN_PIXEL_UINT16 : CLCNN_PIXEL_UINT8, 0};
  clcnn_image_options o;
  image_opts_from_args(a, mc, &o);
  *t = (clcnn_tensor){CLCNN_DTYPE_FLOAT32, 4, {1, mc, h, w}, NULL};
  t->data = malloc(sizeof(float) * (size_t)mc * (size_t)w * (size_t)h);
  if (!t->data || clcnn_image_to_tensor(&img, &o, t)) {
    cli_error("image '%s': %s", path, t->data ? clcnn_last_error() : "out of memory");
    free(t->data);
    t->data = NULL;
    cli_pixels_free(&px);
    return CLI_FAIL;
  }
  cli_pixels_free(&px);
  return CLI_OK;
#else
  (void)a, (void)io, (void)t;
  cli_error("--tile: '%s': this clcnn was built without stb_image (install libstb-dev)", path);
  return CLI_FAIL;
#endif
}

/* `run --tile`: the model over an image of any size, tile by tile. */
static int run_tiled(const run_args *a, clcnn_model *m, const cli_input_opts *io_opts) {
  int rc = CLI_FAIL;
  clcnn_tiler *t = NULL;
  clcnn_tensor in = {0}, out = {0};
  clcnn_io_info io;
  if (clcnn_model_input_count(m) != 1) {
    cli_error("--tile: the model has %d inputs; a tiled run needs one (an image)",
              clcnn_model_input_count(m));
    return CLI_FAIL;
  }
  clcnn_model_input_info(m, 0, &io);
  if (!io_opts[0].file) {
    cli_error("--tile: give the image with --input FILE");
    return CLI_USAGE;
  }
  if (load_image_tensor(a, io_opts[0].file, &io, &in)) return CLI_FAIL;
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = a->device;
  so.strict = a->strict;
  clcnn_tile_options to;
  clcnn_tile_options_default(&to);
  to.tile_width = a->tile_w;
  to.tile_height = a->tile_h;
  to.overlap = a->overlap;
  to.progress = tile_progress;
  double t0 = cli_now_ms();
  if (clcnn_tiler_create(m, &so, &to, &t) ||
      clcnn_tiler_output_shape(t, (int)in.dims[1], (int)in.dims[2], (int)in.dims[3], &out)) {
    cli_error("%s", clcnn_last_error());
    goto out;
  }
  size_t n = (size_t)clcnn_tensor_numel(&out);
  if (!(out.data = malloc(n * sizeof(float)))) {
    cli_error("out of memory for the output (%zu floats)", n);
    goto out;
  }
  if (clcnn_tiler_run(t, &in, &out)) {
    cli_error("%s", clcnn_last_error());
    goto out;
  }
  double ms = cli_now_ms() - t0;
  clcnn_io_info oi;
  clcnn_model_output_info(m, 0, &oi);
  char d[256];
  cli_dims_str(in.rank, in.dims, d, sizeof d);
  printf("inputs\n  %s  float32 %s  %s\n", io.name, d, io_opts[0].file);
  char ov[32] = "default";
  if (a->overlap >= 0) snprintf(ov, sizeof ov, "%d", a->overlap);
  printf("tiles    %dx%d, overlap %s, scale x%lld\n", a->tile_w, a->tile_h, ov,
         (long long)(out.dims[3] / in.dims[3]));
  cli_dims_str(out.rank, out.dims, d, sizeof d);
  stats sx = tensor_stats(&out);
  printf("outputs\n  %s  float32 %s", oi.name, d);
  if (sx.n) printf("  min %.6g  mean %.6g  max %.6g", sx.min, sx.mean, sx.max);
  if (sx.nan) printf("  (%lld NaN)", (long long)sx.nan);
  printf("\n");
  if (a->output_dir) {
    char *taken[1] = {NULL}, file[4096];
    int st = ensure_dir(a->output_dir) || save_output(a->output_dir, oi.name, &out, taken, 0, file,
                                                       sizeof file);
    free(taken[0]);
    if (st) goto out;
    printf("    saved %s\n", file);
  }
  if (a->output_image && write_output_image(a, oi.name, &out)) goto out;
  printf("timing   sessions and tiled run %.3f ms\n", ms);
  rc = CLI_OK;
out:
  clcnn_tiler_free(t);
  free(in.data);
  free(out.data);
  return rc;
}

/* ----------------------------------------------------------------- run */

/* Feeds every input but those bound at session creation. */
static int set_inputs(clcnn_session *s, const cli_input *in, const bool *bound, int n) {
  for (int i = 0; i < n; i++)
    if (!bound[i] && clcnn_session_set_input(s, in[i].name, &in[i].t)) {
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
  bool *bound = NULL; /* per input: bound to its value at session creation */
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

  if (a->tile_w) {
    rc = run_tiled(a, m, io_opts);
    goto out;
  }

  /* Inputs, and from them the session's shapes. An input whose value
   * decides shapes (Reshape's shape, Slice's starts...) is bound to its
   * value when the session is created. */
  clcnn_input_shape *shapes = calloc((size_t)nin + 1, sizeof *shapes);
  clcnn_bound_input *values = calloc((size_t)nin + 1, sizeof *values);
  if (!shapes || !values || !(bound = calloc((size_t)nin + 1, sizeof *bound))) {
    cli_error("out of memory");
    free(shapes);
    free(values);
    goto out;
  }
  int nrandom = 0, nshapes = 0, nvalues = 0;
  for (int i = 0; i < nin; i++) {
    clcnn_io_info io;
    clcnn_model_input_info(m, i, &io);
    int needs = 0;
    if (clcnn_model_input_needs_value(m, i, &needs) == CLCNN_OK && needs && !io_opts[i].file) {
      cli_error("input '%s' decides shapes in the model: give its value with --input %s=FILE",
                io.name, io.name);
      free(shapes);
      free(values);
      goto out;
    }
    if (cli_input_make(&io, &io_opts[i], 0x5eedull * (uint64_t)i, &in[i])) {
      free(shapes);
      free(values);
      goto out;
    }
    nrandom += in[i].random;
    if (needs) {
      bound[i] = true;
      values[nvalues++] = (clcnn_bound_input){in[i].name, in[i].t};
      continue;
    }
    shapes[nshapes].name = in[i].name;
    shapes[nshapes].rank = in[i].t.rank;
    memcpy(shapes[nshapes++].dims, in[i].t.dims, sizeof shapes[0].dims);
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
  so.precision = a->precision;
  so.profile = a->profile || a->profile_json;
  so.verify = a->verify;
  so.verify_tolerance = a->verify_tol;
  so.bound_inputs = values;
  so.bound_input_count = nvalues;
  double t0 = cli_now_ms();
  clcnn_status st = clcnn_session_create(m, &so, shapes, nshapes, &s);
  double create_ms = cli_now_ms() - t0;
  free(shapes);
  free(values);
  if (st) {
    cli_error("%s", clcnn_last_error());
    goto out;
  }

  t0 = cli_now_ms();
  if (set_inputs(s, in, bound, nin)) goto out;
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
      if (set_inputs(s, in, bound, nin)) goto out;
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
    printf("  %s  %s %s  %s%s\n", in[i].name, dtype_name(in[i].t.dtype), d,
           in[i].random ? "(pseudo-random)" : io_opts[i].file,
           bound[i] ? " (bound at session creation: it decides shapes)" : "");
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
    if (i == 0 && a->output_image && write_output_image(a, io.name, &t)) goto out;
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
    profile_peaks pp = {.ctx = ctx, .device = a->device};
    if (a->profile) print_profile(e, n, &pp);
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
  free(bound);
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
