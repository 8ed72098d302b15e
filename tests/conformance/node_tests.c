/* Runs ONNX's backend node test cases (onnx/backend/test/data/node/test_*:
 * model.onnx + test_data_set_N/{input,output}_K.pb) through the public API
 * and compares with the expected outputs that ONNX ships.
 *
 *   node_tests [--device D] [--precision fp32|fp16|auto] [--filter SUBSTR]
 *              [--verbose] [--report FILE] [--models RTOL] DIR
 *
 * With --models, every subdirectory holding a model.onnx is a case (the model
 * zoo written by tools/zoo.py and tools/reference.py), and an output passes
 * when max|got - want| <= RTOL * max|want| (a tolerance relative to the
 * output's scale, as for logits).
 *
 * Every graph output of a case is compared (output_K.pb is matched to the
 * output its TensorProto names, else to the K-th graph output), and a failing
 * case lists each output that differs with its error, one per line; with
 * --verbose every output's error is printed, passing or not.
 *
 * A case is skipped, with its reason printed, when its model uses an operator
 * outside clcnn's list or a feature clcnn refuses at load or session creation
 * (an unsupported data type or attribute value). Everything else must match:
 * any failure makes the exit status 1. --report writes one line per case
 * ("case<TAB>status<TAB>ops<TAB>reason") for the conformance report tool.
 * Exit 77 when DIR does not exist (the onnx wheel is not installed). */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api.h"
#include "clcnn.h"
#include "onnx_io.h"

#define MAX_IO 16

typedef enum { CASE_PASS, CASE_FAIL, CASE_SKIP } case_result;

static bool verbose;
static double model_rtol = 0; /* > 0: whole-model tolerance (see --models) */
static clcnn_precision precision = CLCNN_PRECISION_FP32; /* --precision */

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dir(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Compares with ONNX's backend-test tolerance for floats (rtol 1e-3, atol
 * 1e-5 — slightly looser absolute tolerance than ONNX's 1e-7 because we sum
 * in a different order; float16 outputs too, which clcnn computes in float32
 * and rounds once where the reference rounds after each operation: one unit
 * in the last place of a half is at most 2^-10 relative, within 1e-3) and
 * exactly for integers. NaN must match NaN. */
static bool compare(const clcnn_tensor *got, const clcnn_tensor *want, char *why, size_t len) {
  char a[128], b[128];
  if (got->dtype != want->dtype) {
    snprintf(why, len, "dtype %s, expected %s", dtype_name(got->dtype), dtype_name(want->dtype));
    return false;
  }
  bool same = got->rank == want->rank;
  for (int d = 0; same && d < got->rank; d++) same = got->dims[d] == want->dims[d];
  if (!same) {
    snprintf(why, len, "shape %s, expected %s", shape_str(got->rank, got->dims, a, sizeof a),
             shape_str(want->rank, want->dims, b, sizeof b));
    return false;
  }
  int64_t n = clcnn_tensor_numel(want);
  const bool floats = want->dtype == CLCNN_DTYPE_FLOAT32 || want->dtype == CLCNN_DTYPE_FLOAT64 ||
                      want->dtype == CLCNN_DTYPE_FLOAT16 || want->dtype == CLCNN_DTYPE_BFLOAT16;
  /* bfloat16 keeps 8 bits: one unit is 2^-8 of the value. */
  const double rtol = want->dtype == CLCNN_DTYPE_BFLOAT16 ? 8e-3 : 1e-3;
  if (model_rtol > 0 && floats) {
    double scale = 0, worst = 0;
    int64_t at = 0;
    for (int64_t i = 0; i < n; i++) {
      double w = fabs(tensor_get_f64(want, i)), e = fabs(tensor_get_f64(got, i) - tensor_get_f64(want, i));
      if (w > scale) scale = w;
      if (!(e <= worst)) worst = e, at = i; /* NaN counts as worst */
    }
    bool ok = worst <= model_rtol * scale;
    snprintf(why, len, "max error %.3g at element %lld is %.3g x max|ref| %.4g (tolerance %.3g)",
             worst, (long long)at, scale ? worst / scale : worst, scale, model_rtol);
    return ok;
  }
  snprintf(why, len, "matches");
  for (int64_t i = 0; i < n; i++) {
    if (floats) { /* float16 too: computed in float32, it may differ by one unit */
      double g = tensor_get_f64(got, i), w = tensor_get_f64(want, i);
      if (isnan(w) && isnan(g)) continue;
      if (isinf(w) && g == w) continue;
      if (!(fabs(g - w) <= 1e-5 + rtol * fabs(w))) {
        snprintf(why, len, "element %lld is %.8g, expected %.8g", (long long)i, g, w);
        return false;
      }
    } else if (dtype_is_f8(want->dtype)) {
      /* float8 / float4: the same value exactly, the sign of zero included;
       * any NaN matches any NaN (the formats have several, E4M3FN's and
       * E5M2's signed) */
      double g = tensor_get_f64(got, i), w = tensor_get_f64(want, i);
      if (isnan(w) && isnan(g)) continue;
      if (g != w || signbit(g) != signbit(w)) {
        snprintf(why, len, "element %lld is %.8g (0x%02x), expected %.8g (0x%02x)", (long long)i,
                 g, ((const uint8_t *)got->data)[i], w, ((const uint8_t *)want->data)[i]);
        return false;
      }
    } else {
      size_t es = dtype_size(want->dtype);
      if (memcmp((const char *)got->data + i * es, (const char *)want->data + i * es, es) != 0) {
        snprintf(why, len, "element %lld is %lld, expected %lld", (long long)i,
                 (long long)tensor_get_i64(got, i), (long long)tensor_get_i64(want, i));
        return false;
      }
    }
  }
  return true;
}

/* Loads dir/prefix_0.pb, prefix_1.pb, ... into t (and, when names is not
 * NULL, each TensorProto's name, possibly NULL, to free with free_names). */
static int load_set(const char *dir, const char *prefix, clcnn_tensor *t, char **names, int max,
                    char *why, size_t len) {
  int n = 0;
  for (; n < max; n++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s_%d.pb", dir, prefix, n);
    struct stat sb;
    if (stat(path, &sb) != 0) break;
    clcnn_err err = {0};
    if (onnx_tensor_load(path, &t[n], names ? &names[n] : NULL, &err)) {
      snprintf(why, len, "%s", err.msg);
      for (int k = 0; k < n; k++) {
        free(t[k].data);
        if (names) free(names[k]);
      }
      return -1;
    }
  }
  return n;
}

static void free_names(char **names, int n) {
  for (int k = 0; k < n; k++) free(names[k]), names[k] = NULL;
}

/* map[k]: the expected tensor of the model's k-th output. By name when the
 * n expected tensors name n distinct graph outputs, else by position. */
static void match_outputs(const clcnn_model *m, char *const *names, int n, int *map) {
  int by_name[MAX_IO];
  bool ok = n == m->noutputs;
  for (int k = 0; ok && k < n; k++) {
    by_name[k] = -1;
    for (int j = 0; j < n && by_name[k] < 0; j++)
      if (names[j] && !strcmp(names[j], m->outputs[k].name)) by_name[k] = j;
    ok = by_name[k] >= 0;
    for (int i = 0; ok && i < k; i++) ok = by_name[i] != by_name[k];
  }
  for (int k = 0; k < n; k++) map[k] = ok ? by_name[k] : k;
}

/* Operators of a model, for the report ("Add,Mul"). */
static void model_ops(const clcnn_model *m, char *buf, size_t len) {
  buf[0] = 0;
  for (int i = 0; i < m->g.nnodes; i++) {
    const char *op = m->g.nodes[i].op_type;
    bool seen = false;
    for (int j = 0; j < i && !seen; j++) seen = strcmp(m->g.nodes[j].op_type, op) == 0;
    if (seen) continue;
    size_t l = strlen(buf);
    snprintf(buf + l, len - l, "%s%s", l ? "," : "", op);
  }
}

/* clcnn specialises a session on static shapes (DESIGN.md decision 2), so
 * inputs that decide shapes (Reshape's shape, Slice's starts, Resize's
 * sizes, axes...) need their values when the session is created. ONNX's
 * node tests feed them as graph inputs: the runner asks the library which
 * inputs those are (clcnn_model_input_needs_value) and gives them their test
 * values in clcnn_session_options.bound_inputs, as an application would. */
static bool same_tensor(const clcnn_tensor *a, const clcnn_tensor *b) {
  if (a->dtype != b->dtype || a->rank != b->rank) return false;
  for (int d = 0; d < a->rank; d++)
    if (a->dims[d] != b->dims[d]) return false;
  size_t bytes = (size_t)clcnn_tensor_numel(a) * dtype_size(a->dtype);
  return !bytes || memcmp(a->data, b->data, bytes) == 0;
}

static case_result run_case(clcnn_context *ctx, const char *dir, const char *device, char *ops,
                            size_t opslen, char *why, size_t len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  void *data;
  size_t size;
  clcnn_err err = {0};
  ops[0] = 0;
  if (onnx_read_file(path, &data, &size, &err)) {
    snprintf(why, len, "%s", err.msg);
    return CASE_FAIL;
  }
  clcnn_model *m = NULL;
  clcnn_status st = model_load(ctx, data, size, data, dir, true, &m, &err);
  if (st) {
    snprintf(why, len, "load: %s", err.msg);
    return st == CLCNN_ERROR_UNSUPPORTED ? CASE_SKIP : CASE_FAIL;
  }
  model_ops(m, ops, opslen);
  if (m->problems) {
    snprintf(why, len, "%s", m->problems);
    clcnn_model_free(m);
    return CASE_SKIP;
  }
  int norig = m->ninputs;
  if (norig > MAX_IO) {
    snprintf(why, len, "the model has %d inputs; the runner takes at most %d", norig, MAX_IO);
    clcnn_model_free(m);
    return CASE_SKIP;
  }
  bool needs[MAX_IO] = {0};
  for (int k = 0; k < norig && k < MAX_IO; k++) {
    int nv = 0;
    clcnn_model_input_needs_value(m, k, &nv);
    needs[k] = nv != 0;
  }
  case_result result = CASE_PASS;
  clcnn_session *s = NULL;
  clcnn_tensor in[MAX_IO], want[MAX_IO], bound[MAX_IO] = {{0}};
  char *want_names[MAX_IO] = {0};
  int nin = 0, nout = 0;
  for (int set = 0; result == CASE_PASS; set++) {
    char sdir[4096];
    snprintf(sdir, sizeof sdir, "%s/test_data_set_%d", dir, set);
    if (!is_dir(sdir)) break;
    nin = load_set(sdir, "input", in, NULL, MAX_IO, why, len);
    nout = nin < 0 ? -1 : load_set(sdir, "output", want, want_names, MAX_IO, why, len);
    if (nin < 0 || nout < 0) {
      if (nin > 0)
        for (int k = 0; k < nin; k++) free(in[k].data);
      result = CASE_FAIL;
      break;
    }
    if (nin != norig || nout != m->noutputs) {
      snprintf(why, len, "test data has %d inputs / %d outputs, the model %d / %d", nin, nout,
               norig, m->noutputs);
      result = CASE_SKIP;
    }
    /* Other values for the bound inputs: another session. */
    bool other = false;
    for (int k = 0; result == CASE_PASS && s && k < norig; k++)
      other |= needs[k] && !same_tensor(&bound[k], &in[k]);
    if (other) {
      clcnn_session_free(s);
      s = NULL;
    }
    if (!s)
      for (int k = 0; k < norig; k++) free(bound[k].data), bound[k].data = NULL;
    if (result == CASE_PASS && !s) {
      clcnn_input_shape shapes[MAX_IO];
      clcnn_bound_input values[MAX_IO];
      int nshapes = 0, nvalues = 0;
      for (int k = 0; k < norig; k++) {
        if (needs[k]) {
          values[nvalues++] = (clcnn_bound_input){m->inputs[k].name, in[k]};
          bound[k] = in[k]; /* kept for the next set's comparison */
          in[k].data = NULL;
          continue;
        }
        shapes[nshapes].name = m->inputs[k].name;
        shapes[nshapes].rank = in[k].rank;
        memcpy(shapes[nshapes++].dims, in[k].dims, sizeof shapes[0].dims);
      }
      clcnn_session_options so;
      clcnn_session_options_default(&so);
      so.device = device;
      so.precision = precision;
      so.bound_inputs = values;
      so.bound_input_count = nvalues;
      st = clcnn_session_create(m, &so, shapes, nshapes, &s);
      if (st) {
        snprintf(why, len, "session: %s", clcnn_last_error());
        result = st == CLCNN_ERROR_UNSUPPORTED ? CASE_SKIP : CASE_FAIL;
      }
    }
    for (int k = 0; result == CASE_PASS && k < norig; k++) {
      if (!needs[k] && clcnn_session_set_input(s, m->inputs[k].name, &in[k])) {
        snprintf(why, len, "set input: %s", clcnn_session_error(s));
        result = CASE_FAIL;
      }
    }
    if (result == CASE_PASS && clcnn_session_run(s)) {
      snprintf(why, len, "run: %s", clcnn_session_error(s));
      result = clcnn_session_error(s)[0] && strstr(clcnn_session_error(s), "not supported")
                   ? CASE_SKIP
                   : CASE_FAIL;
    }
    /* Every output, not just the first that differs: which of them are
     * wrong says where in the network it went wrong. */
    if (result == CASE_PASS) {
      int map[MAX_IO], nbad = 0;
      char bad[4096] = "", w1[512] = "";
      size_t used = 0;
      match_outputs(m, want_names, nout, map);
      for (int k = 0; k < nout; k++) {
        const char *name = m->outputs[k].name;
        clcnn_tensor got;
        char w[512];
        bool ok = false;
        if (clcnn_session_output(s, name, &got))
          snprintf(w, sizeof w, "%s", clcnn_session_error(s));
        else
          ok = compare(&got, &want[map[k]], w, sizeof w);
        if (verbose) printf("  output %d '%s' (set %d): %s%s\n", k, name, set, ok ? "" : "FAIL: ", w);
        if (ok) continue;
        nbad++;
        snprintf(w1, sizeof w1, "%s", w);
        if (used < sizeof bad) {
          int l = snprintf(bad + used, sizeof bad - used, "\n  output %d '%s' (set %d): %s", k, name,
                           set, w);
          used += l > 0 ? (size_t)l : 0;
        }
      }
      if (nbad) {
        if (nout == 1) snprintf(why, len, "output '%s' (set %d): %s", m->outputs[0].name, set, w1);
        else snprintf(why, len, "%d of %d outputs differ:%s", nbad, nout, bad);
        result = CASE_FAIL;
      }
    }
    for (int k = 0; k < nin; k++) free(in[k].data);
    for (int k = 0; k < nout; k++) free(want[k].data);
    free_names(want_names, nout);
  }
  for (int k = 0; k < norig && k < MAX_IO; k++) free(bound[k].data);
  clcnn_session_free(s);
  clcnn_model_free(m);
  return result;
}

int main(int argc, char **argv) {
  const char *device = "cpu", *filter = NULL, *dir = NULL, *report_path = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--device") && i + 1 < argc) device = argv[++i];
    else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
    else if (!strcmp(argv[i], "--report") && i + 1 < argc) report_path = argv[++i];
    else if (!strcmp(argv[i], "--verbose")) verbose = true;
    else if (!strcmp(argv[i], "--models") && i + 1 < argc) model_rtol = atof(argv[++i]);
    else if (!strcmp(argv[i], "--precision") && i + 1 < argc) {
      const char *p = argv[++i];
      precision = !strcmp(p, "fp16") ? CLCNN_PRECISION_FP16
                  : !strcmp(p, "auto") ? CLCNN_PRECISION_AUTO
                                       : CLCNN_PRECISION_FP32;
    }
    else dir = argv[i];
  }
  if (!dir) {
    fprintf(stderr, "usage: %s [--device D] [--filter S] [--verbose] [--report F] DIR\n", argv[0]);
    return 2;
  }
  if (!is_dir(dir)) {
    printf("SKIP: no ONNX node test data at '%s' (install the onnx wheel: pip install "
           "onnx==1.22.0)\n", dir);
    return 77;
  }
  DIR *d = opendir(dir);
  if (!d) return 2;
  char **names = NULL;
  int n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (model_rtol > 0) {
      char mp[4096];
      struct stat sb;
      snprintf(mp, sizeof mp, "%s/%s/model.onnx", dir, e->d_name);
      if (stat(mp, &sb) != 0) continue;
    } else if (strncmp(e->d_name, "test_", 5) != 0) {
      continue;
    }
    if (filter && !strstr(e->d_name, filter)) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 256;
      names = realloc(names, sizeof(char *) * (size_t)cap);
      if (!names) return 2;
    }
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof(char *), cmp_names);
  clcnn_context *ctx;
  if (clcnn_context_create(NULL, &ctx)) return 2;
  FILE *report = report_path ? fopen(report_path, "w") : NULL;
  int pass = 0, fail = 0, skip = 0;
  for (int i = 0; i < n; i++) {
    char path[4096], why[4096] = "", ops[1024];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    case_result r = run_case(ctx, path, device, ops, sizeof ops, why, sizeof why);
    if (r == CASE_SKIP && model_rtol > 0) r = CASE_FAIL; /* every zoo model must run */
    if (r == CASE_PASS) pass++;
    if (r == CASE_FAIL) fail++;
    if (r == CASE_SKIP) skip++;
    if (r == CASE_FAIL) printf("FAIL %s: %s\n", names[i], why);
    else if (r == CASE_SKIP) printf("skip %s: %s\n", names[i], why);
    else if (verbose) printf("pass %s\n", names[i]);
    if (report) { /* one line per case: a multi-line reason joined with "; " */
      fprintf(report, "%s\t%s\t%s\t", names[i],
              r == CASE_PASS ? "pass" : r == CASE_FAIL ? "fail" : "skip", ops);
      for (const char *c = why; *c; c++) {
        if (*c != '\n') fputc(*c, report);
        else {
          fputs(c == why || c[-1] == ':' ? " " : "; ", report);
          while (c[1] == ' ') c++;
        }
      }
      fputc('\n', report);
    }
    fflush(stdout);
    free(names[i]);
  }
  free(names);
  if (report) fclose(report);
  clcnn_context_free(ctx);
  printf("%s on device %s: %d passed, %d failed, %d skipped\n", model_rtol > 0 ? "models" : "node tests", device, pass, fail, skip);
  printf("%d passed, %d failed, %d skipped\n", pass, fail, skip);
  return fail ? 1 : 0;
}
