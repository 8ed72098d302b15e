/* clcnn: the command-line tool. main(), the subcommand table, usage text and
 * the helpers every subcommand shares. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"
#include "clcnn_config.h"
#include "onnx_io.h"
#if CLCNN_HAVE_OPENCL
#include "device.h"
#endif

static const char usage_text[] =
    "usage: clcnn COMMAND [ARGS]\n"
    "\n"
    "Run ONNX convolutional networks on OpenCL devices and on the CPU backend.\n"
    "\n"
    "commands:\n"
    "  info MODEL [--device X] [--strict] [--precision P] [--shape [NAME=]DIMS]...\n"
    "      inputs, outputs, opset, operators, parameters, FLOPs, and every\n"
    "      unsupported operator or attribute; exits 1 if the model cannot run;\n"
    "      with --device, the schedule: each node's backend (and why it is not on\n"
    "      the device), its precision, and every transfer between backends\n"
    "  run MODEL [options]\n"
    "      run the model once and summarise its outputs\n"
    "      --device X            cpu, best, gpu, cpu-opencl, opencl:N, or a name; a list\n"
    "                            (opencl:0,opencl:1) spreads nodes over several devices\n"
    "                            (default: $CLCNN_DEVICE, else best)\n"
    "      --strict              refuse to fall back to the CPU backend; list every reason\n"
    "      --precision P         fp32 (default), fp16 (half storage of activations on the\n"
    "                            device, float32 arithmetic) or auto (fp16 for the layers\n"
    "                            that stay within 1e-2 of float32 on a calibration run)\n"
    "      --verify              also run every device node on the CPU backend from the\n"
    "                            same inputs, report each node's error and name the first\n"
    "                            that differs (exit 1 if any does)\n"
    "      --verify-tolerance T  a node agrees when max|err| <= T * max(1, max|cpu|)\n"
    "                            (default 1e-3)\n"
    "      --input [NAME=]FILE   .pb TensorProto, .npy array, or PNG/JPEG/BMP image\n"
    "                            (NAME= may be left out for a single-input model);\n"
    "                            without --input: pseudo-random data (seed 0)\n"
    "      --shape [NAME=]DIMS   concrete shape, e.g. 1x3x224x224\n"
    "      --size WxH            resize images to W x H (default: the input's H, W)\n"
    "      --mean A,B,C --std A,B,C   image normalisation per channel after\n"
    "                            scaling to [0,1] (default: mean 0, std 1)\n"
    "      --output-dir DIR      write each output as DIR/<name>.pb (TensorProto)\n"
    "      --output-image FILE   write the first output (1xCxHxW, C = 1 to 4) as a PNG,\n"
    "                            undoing --mean/--std and clamping to [0,1]\n"
    "      --output-depth 8|16   bits per sample of --output-image (default 8)\n"
    "      --tile WxH            run an image-to-image model over the --input image at its\n"
    "                            own size in tiles of WxH (one session, reused), blended\n"
    "                            seamlessly; the output scale (x2, x4) comes from the model\n"
    "      --overlap N           pixels neighbouring tiles share (default 32, at most half\n"
    "                            a tile; exact where the receptive field is within N/4)\n"
    "      --runs N              time N more runs and print their median\n"
    "      --profile             per-step timing table (nodes and transfers)\n"
    "      --profile-json FILE   the per-node timings as JSON\n"
    "  bench MODEL [options]\n"
    "      session creation, first run and steady-state latency, throughput, memory\n"
    "      --device X|all        a device, or one row per device (default: best)\n"
    "      --runs N (20)  --warmup N (3)  --batch N (first dim of every input)\n"
    "      --precision P         fp32, fp16 or auto (as for run)\n"
    "      --json FILE           the results as a JSON array of objects\n"
    "  tune MODEL [--device X] [--runs N] [--precision P]\n"
    "      time clcnn's GEMM kernels and CLBlast on every matrix product of the model\n"
    "      and keep the faster of each in the cache directory for later sessions;\n"
    "      prints the median run time (of N, default 10) before and after\n"
    "  devices [--verbose] [--peak [--remeasure]]\n"
    "                            every device with its id (which --device takes), type,\n"
    "                            memory and fp16; --verbose adds what was probed, --peak\n"
    "                            the measured FP32/fp16 GFLOP/s and bandwidth (cached)\n"
    "  demo [MODEL]              run the sample model on the best device and on the CPU\n"
    "                            backend, check they agree, and benchmark both\n"
    "  help                      this text\n"
    "\n"
    "  clcnn --version           the library version\n"
    "\n"
    "Exit status: 0 on success, 1 on an error (one line on stderr), 2 on a usage error.\n";

typedef struct cli_command {
  const char *name;
  int (*fn)(int argc, char **argv);
} cli_command;

static int cli_help(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fputs(usage_text, stdout);
  return CLI_OK;
}

static const cli_command commands[] = {
    {"info", cli_info},
    {"run", cli_run},
    {"bench", cli_bench},
    {"devices", cli_devices},
    {"demo", cli_demo},
    {"tune", cli_tune},
    {"help", cli_help},
};

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage_text, stdout);
    return CLI_OK;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) return cli_help(0, NULL);
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
    printf("clcnn %s\n", clcnn_version());
    return CLI_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(cmd, commands[i].name) == 0) {
      /* `clcnn CMD --help` gives the usage text too. */
      for (int k = 2; k < argc; k++)
        if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) return cli_help(0, NULL);
      int rc = commands[i].fn(argc - 1, argv + 1);
      if (fflush(stdout) != 0 && rc == CLI_OK) {
        cli_error("cannot write the standard output: %s", strerror(errno));
        rc = CLI_FAIL;
      }
      return rc;
    }
  }
  cli_error("unknown command '%s' (try 'clcnn help')", cmd);
  return CLI_USAGE;
}

/* ------------------------------------------------------------ messages */

static void vmessage(const char *prefix, const char *fmt, va_list ap) {
  char buf[8192];
  vsnprintf(buf, sizeof buf, fmt, ap);
  for (char *p = buf; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = ' ';
  fflush(stdout); /* keep stdout and stderr in order on a terminal */
  fprintf(stderr, "%s%s\n", prefix, buf);
}

void cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage("clcnn: error: ", fmt, ap);
  va_end(ap);
}

void cli_note(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage("clcnn: ", fmt, ap);
  va_end(ap);
}

/* Length of the valid UTF-8 sequence at s, or 0. */
static int utf8_len(const unsigned char *s) {
  unsigned c = s[0];
  int n;
  unsigned min;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0)
    n = 2, min = 0x80, c &= 0x1f;
  else if ((c & 0xf0) == 0xe0)
    n = 3, min = 0x800, c &= 0x0f;
  else if ((c & 0xf8) == 0xf0)
    n = 4, min = 0x10000, c &= 0x07;
  else
    return 0;
  for (int i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    c = (c << 6) | (s[i] & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
  return n;
}

void cli_json_string(FILE *f, const char *s) {
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  fputc('"', f);
  while (*p) {
    unsigned c = *p;
    if (c == '"' || c == '\\') {
      fputc('\\', f);
      fputc((int)c, f);
      p++;
    } else if (c < 0x20 || c == 0x7f) {
      switch (c) {
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default: fprintf(f, "\\u%04x", c); break;
      }
      p++;
    } else {
      int n = utf8_len(p);
      if (n == 0) {
        fputs("\\ufffd", f);
        p++;
      } else {
        fwrite(p, 1, (size_t)n, f);
        p += n;
      }
    }
  }
  fputc('"', f);
}

void cli_json_number(FILE *f, double v) {
  if (isfinite(v))
    fprintf(f, "%.17g", v);
  else
    fputs("null", f);
}

/* ------------------------------------------------------------- options */

bool cli_model_arg(const char *cmd, const char *arg, const char **model) {
  if (arg[0] == '-' && arg[1]) {
    cli_error("%s: unknown option '%s' (see 'clcnn help')", cmd, arg);
    return false;
  }
  if (*model) {
    cli_error("%s: more than one model given ('%s' and '%s')", cmd, *model, arg);
    return false;
  }
  *model = arg;
  return true;
}

int cli_opt(int argc, char **argv, int *i, const char *name, const char **value) {
  const char *a = argv[*i];
  size_t len = strlen(name);
  if (strncmp(a, name, len) != 0) return 0;
  if (a[len] == '=') {
    *value = a + len + 1;
    return 1;
  }
  if (a[len] != 0) return 0;
  if (*i + 1 >= argc) {
    cli_error("%s needs a value", name);
    return -1;
  }
  *value = argv[++*i];
  return 1;
}

static const char *const precision_names[] = {"fp32", "fp16", "auto"};

const char *cli_precision_name(clcnn_precision p) {
  return (int)p >= 0 && (int)p < 3 ? precision_names[p] : "?";
}

int cli_precision_opt(int argc, char **argv, int *i, clcnn_precision *out) {
  const char *v;
  int r = cli_opt(argc, argv, i, "--precision", &v);
  if (r <= 0) return r;
  for (int p = 0; p < 3; p++)
    if (!strcmp(v, precision_names[p])) {
      *out = (clcnn_precision)p;
      return 1;
    }
  cli_error("--precision: '%s' is not fp32, fp16 or auto", v);
  return -1;
}

bool cli_parse_int(const char *s, long long lo, long long hi, const char *what, long long *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (!s[0] || isspace((unsigned char)s[0]) || *end || errno || v < lo || v > hi) {
    cli_error("%s: '%s' is not an integer from %lld to %lld", what, s, lo, hi);
    return false;
  }
  *out = v;
  return true;
}

static int find_input(const clcnn_model *m, const char *name, size_t len) {
  for (int i = 0; i < clcnn_model_input_count(m); i++) {
    clcnn_io_info io;
    clcnn_model_input_info(m, i, &io);
    if (strlen(io.name) == len && strncmp(io.name, name, len) == 0) return i;
  }
  return -1;
}

static void input_names(const clcnn_model *m, char *buf, size_t len) {
  size_t at = 0;
  buf[0] = 0;
  for (int i = 0; i < clcnn_model_input_count(m) && at < len; i++) {
    clcnn_io_info io;
    clcnn_model_input_info(m, i, &io);
    at += (size_t)snprintf(buf + at, len - at, "%s'%s'", i ? ", " : "", io.name);
  }
}

int cli_resolve_input(const clcnn_model *m, const char *opt, const char *arg, bool last_eq,
                      int *index, const char **value) {
  if (last_eq) {
    const char *eq = strrchr(arg, '=');
    if (eq) {
      int k = find_input(m, arg, (size_t)(eq - arg));
      if (k < 0) {
        char names[1024];
        input_names(m, names, sizeof names);
        cli_error("%s: the model has no input '%.*s' (its inputs: %s)", opt, (int)(eq - arg), arg,
                  names);
        return CLI_USAGE;
      }
      *index = k;
      *value = eq + 1;
      return CLI_OK;
    }
  } else {
    for (const char *eq = strchr(arg, '='); eq; eq = strchr(eq + 1, '=')) {
      int k = find_input(m, arg, (size_t)(eq - arg));
      if (k >= 0) {
        *index = k;
        *value = eq + 1;
        return CLI_OK;
      }
    }
  }
  if (clcnn_model_input_count(m) == 1) {
    *index = 0;
    *value = arg;
    return CLI_OK;
  }
  char names[1024];
  input_names(m, names, sizeof names);
  cli_error("%s '%s': name the input as NAME=... (the model's inputs: %s)", opt, arg, names);
  return CLI_USAGE;
}

bool cli_parse_dims(const char *s, int *rank, int64_t *dims, const char *what) {
  int r = 0;
  const char *p = s;
  if (!*p) {
    cli_error("%s: empty shape (write it as 1x3x224x224)", what);
    return false;
  }
  for (;;) {
    if (r == CLCNN_MAX_RANK) {
      cli_error("%s: '%s' has more than %d dimensions", what, s, CLCNN_MAX_RANK);
      return false;
    }
    if (!isdigit((unsigned char)*p)) {
      cli_error("%s: '%s' is not a shape like 1x3x224x224", what, s);
      return false;
    }
    char *end;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (errno || v > ((int64_t)1 << 31)) {
      cli_error("%s: dimension %d of '%s' is too large", what, r, s);
      return false;
    }
    dims[r++] = v;
    p = end;
    if (*p == 0) break;
    if (*p != 'x' && *p != 'X' && *p != ',') {
      cli_error("%s: '%s' is not a shape like 1x3x224x224", what, s);
      return false;
    }
    p++;
  }
  *rank = r;
  return true;
}

bool cli_parse_floats(const char *s, float *out, int max, int *count, const char *what) {
  int n = 0;
  const char *p = s;
  for (;;) {
    if (n == max) {
      cli_error("%s: more than %d values in '%s'", what, max, s);
      return false;
    }
    char *end;
    errno = 0;
    double v = strtod(p, &end);
    if (end == p || errno || !isfinite(v) || fabs(v) > 3e38 || (*end != ',' && *end != 0) ||
        isspace((unsigned char)*p)) {
      cli_error("%s: '%s' is not a comma-separated list of numbers", what, s);
      return false;
    }
    out[n++] = (float)v;
    if (*end == 0) break;
    p = end + 1;
  }
  *count = n;
  return true;
}

/* --------------------------------------------------------------- misc */

double cli_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double cli_median(const double *v, int n) {
  double *c = malloc(sizeof(double) * (size_t)n);
  if (!c) return v[0];
  memcpy(c, v, sizeof(double) * (size_t)n);
  qsort(c, (size_t)n, sizeof(double), cmp_double);
  double m = n % 2 ? c[n / 2] : 0.5 * (c[n / 2 - 1] + c[n / 2]);
  free(c);
  return m;
}

/* The high-water mark of this process's own address space: VmHWM where
 * /proc has it. Not getrusage()'s ru_maxrss there, which Linux carries over
 * exec from the address space the process had before it (a fork of its
 * parent): started from a 300 MiB Python script, clcnn would report 300 MiB. */
size_t cli_peak_rss(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (f) {
    char line[256];
    unsigned long long kib = 0;
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
      found = sscanf(line, "VmHWM: %llu kB", &kib) == 1;
    fclose(f);
    if (found) return (size_t)kib * 1024;
  }
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (size_t)ru.ru_maxrss * 1024; /* Linux: kilobytes */
}

void cli_sanitize_name(const char *name, char *out, size_t len) {
  size_t n = 0;
  for (const char *p = name ? name : ""; *p && n + 1 < len; p++) {
    char c = *p;
    out[n++] =
        (isalnum((unsigned char)c) && !(c & 0x80)) || c == '.' || c == '_' || c == '-' ? c : '_';
  }
  out[n] = 0;
  /* "", "." and ".." cannot be file names of their own. */
  if (n == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0) {
    for (size_t i = 0; i < n; i++) out[i] = '_';
    if (n == 0 && len > 1) snprintf(out, len, "_");
  }
}

void cli_dims_str(int rank, const int64_t *dims, char *buf, size_t len) {
  shape_str(rank, dims, buf, len);
}

void cli_io_shape_str(const clcnn_io_info *io, char *buf, size_t len) {
  size_t at = 0;
  at += (size_t)snprintf(buf, len, "[");
  for (int i = 0; i < io->rank && at < len; i++) {
    const char *sep = i ? ", " : "";
    int w;
    if (io->dims[i] >= 0)
      w = snprintf(buf + at, len - at, "%s%lld", sep, (long long)io->dims[i]);
    else if (io->dim_names[i] && io->dim_names[i][0])
      w = snprintf(buf + at, len - at, "%s%s", sep, io->dim_names[i]);
    else
      w = snprintf(buf + at, len - at, "%s?", sep);
    if (w < 0) break;
    at += (size_t)w;
  }
  if (at < len) snprintf(buf + at, len - at, "]");
}

char *cli_bytes_str(double bytes, char *buf, size_t len) {
  static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int k = 0;
  while (bytes >= 1024 && k < 4) bytes /= 1024, k++;
  if (k == 0)
    snprintf(buf, len, "%.0f B", bytes);
  else
    snprintf(buf, len, "%.2f %s", bytes, unit[k]);
  return buf;
}

int cli_device_list(const char **names, int max) {
  /* Every usable OpenCL device, then the CPU backend. */
  int n = 0;
#if CLCNN_HAVE_OPENCL
  static char slots[64][16];
  const ocl_device_info *devs = NULL;
  int count = 0;
  clcnn_err err = {0};
  if (ocl_devices_list(&devs, &count, &err) == CLCNN_OK)
    for (int i = 0; i < count && n < max - 1 && n < 64; i++) {
      if (!devs[i].available) continue;
      snprintf(slots[n], sizeof slots[n], "opencl:%d", i);
      names[n] = slots[n];
      n++;
    }
#endif
  if (n < max) names[n++] = "cpu";
  return n;
}

int cli_load_model(clcnn_context *ctx, const char *path, bool permissive, clcnn_model **out) {
  clcnn_err err = {0};
  void *data;
  size_t size;
  *out = NULL;
  if (onnx_read_file(path, &data, &size, &err)) {
    cli_error("%s", err.msg);
    return CLI_FAIL;
  }
  char *dir = strdup(path);
  if (!dir) {
    free(data);
    cli_error("out of memory");
    return CLI_FAIL;
  }
  char *slash = strrchr(dir, '/');
  if (slash == dir)
    slash[1] = 0;
  else if (slash)
    *slash = 0;
  else
    strcpy(dir, ".");
  clcnn_status st = model_load(ctx, data, size, data, dir, permissive, out, &err);
  free(dir);
  if (st) {
    cli_error("%s: %s", path, err.msg);
    return CLI_FAIL;
  }
  return CLI_OK;
}
