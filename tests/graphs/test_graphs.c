/* Whole graphs the way they break (DESIGN.md, Testing): seeded random DAGs of
 * element-wise operators with several inputs and several outputs (some of
 * them also read by later nodes), Concat+Slice, Clip+Exp and a Gather whose
 * indices are a graph input (so that it runs on the CPU backend). Each DAG
 * runs on the CPU backend (the reference) and then
 *   (a) on the OpenCL device (CLCNN_TEST_DEVICE, else "opencl"),
 *   (b) the same with the test hook refusing a seeded ~30% of nodes on the
 *       device (they go to the CPU backend),
 *   (c) on two devices "opencl:0,opencl:1" with nodes sent to device 1 and
 *       to the CPU backend by the hook (skipped with a note when fewer than
 *       two OpenCL devices exist; meson runs the binary a second time with
 *       POCL_DEVICES="pthread pthread"),
 * each session three times: inputs set, run; run again without setting them;
 * a new value for every input but the first, run.
 *
 * Tolerance: every value carries a bound on its magnitude and on the error
 * the two backends may accumulate (in units of float epsilon: 0 for Relu of
 * an input, a few ulp for each transcendental function, propagated through
 * Add/Sub/Mul), so element-wise chains are compared nearly exactly without
 * false failures after cancellation.
 *
 * The hooked sessions are profiled: each node must have run where the hook
 * sent it, and each value that crosses backends must appear as a Transfer
 * step of its size. Also: verify mode (every device node agrees with the CPU
 * backend) and the transfers of a chain forced across backends.
 *
 * On a failure the test prints the seed, the DAG, the backend of each node
 * and the worst element, and goes on with the next DAG. Reproduce one DAG
 * with CLCNN_GRAPHS_ONLY=SEED:SHAPE; CLCNN_GRAPHS_SEED, CLCNN_GRAPHS_COUNT
 * and CLCNN_GRAPHS_BIG change the seeds and the numbers of small and big
 * DAGs. Exits 77 without an OpenCL device. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "clcnn.h"
#include "model_builder.h"

#define MAXV 60   /* values of a DAG (inputs, constants, node outputs) */
#define MAXN 40   /* nodes of a DAG */
#define MAXIN 6
#define MAXOUT 14
#define MAX_PRINTED_FAILURES 12

/* The shapes every DAG picks from ([R, C]): kernels are specialised by
 * shape, so a small fixed set bounds the number of programs to compile. */
static const int64_t shapes[][2] = {{1, 3}, {5, 7}, {16, 33}, {61, 129}, {256, 1000},
                                    {1024, 2048}};
enum { SHAPE_SMALL_COUNT = 4, SHAPE_MID = 4, SHAPE_BIG = 5 };

/* ------------------------------------------------------------------ rng */

typedef struct rng {
  uint64_t s;
} rng;
static uint64_t rng_next(rng *r) { /* splitmix64 */
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static int rng_int(rng *r, int n) { return (int)(rng_next(r) % (uint64_t)n); }
static double rng_unit(rng *r) { return (double)(rng_next(r) >> 11) / 9007199254740992.0; }
static uint64_t hash3(uint64_t a, uint64_t b, uint64_t c) {
  rng r = {a * 0x100000001B3ull ^ b * 0xC2B2AE3D27D4EB4Full ^ c};
  rng_next(&r);
  return rng_next(&r);
}

/* ------------------------------------------------------------------ DAG */

typedef enum gop {
  G_RELU, G_NEG, G_ABS, G_SIGMOID, G_TANH, G_CLIP, G_EXP, G_ADD, G_SUB, G_MUL, G_CONCAT,
  G_SLICE, G_GATHER
} gop;
static const char *const gop_onnx[] = {"Relu", "Neg",  "Abs", "Sigmoid", "Tanh",
                                       "Clip", "Exp",  "Add", "Sub",     "Mul",
                                       "Concat", "Slice", "Gather"};

typedef struct gvalue {
  char name[16];
  clcnn_dtype dtype;
  int64_t dims[2];
  int producer;      /* node, or -1 for graph inputs and constants */
  bool is_input, is_const, is_output;
  bool pickable;     /* float [R, C]: an operand for element-wise nodes */
  double m;          /* bound on |value| */
  double e;          /* bound on |device - cpu|, in units of FLT_EPSILON */
  int readers;
  float *data;       /* constants: their data */
} gvalue;

typedef struct gnode {
  gop op;
  int in[3], nin;    /* value indices (constants included) */
  int out;
  int axis;          /* Concat, Slice */
  int64_t start;     /* Slice */
} gnode;

typedef struct dag {
  uint64_t seed;
  int shape;
  int64_t R, C;
  gvalue v[MAXV];
  int nv;
  gnode n[MAXN];
  int nn;
  int inputs[MAXIN], ninputs; /* graph inputs (float ones and "idx") */
  int outputs[MAXOUT], noutputs;
  uint8_t *bytes;
  size_t len;
} dag;

/* graph_optimize runs an element-wise activation inside the Add that feeds
 * it when the Add's result has no other reader and is no graph output (the
 * Relu after a residual connection): node k is then not a node of the
 * session. The Add it joined, or -1. */
static int fused_into(const dag *d, int k) {
  const gnode *n = &d->n[k];
  switch (n->op) {
    case G_RELU: case G_NEG: case G_ABS: case G_SIGMOID: case G_TANH: case G_CLIP: case G_EXP:
      break;
    default:
      return -1;
  }
  const gvalue *x = &d->v[n->in[0]];
  if (x->producer < 0 || d->n[x->producer].op != G_ADD || x->readers != 1 || x->is_output)
    return -1;
  for (int j = 1; j < n->nin; j++)
    if (!d->v[n->in[j]].is_const) return -1;
  return x->producer;
}

static int64_t numel(const gvalue *v) { return v->dims[0] * v->dims[1]; }
static size_t vbytes(const gvalue *v) {
  return (size_t)numel(v) * (v->dtype == CLCNN_DTYPE_INT64 ? 8 : 4);
}

static int add_value(dag *d, const char *prefix, clcnn_dtype dt, int64_t r, int64_t c) {
  if (d->nv >= MAXV) return -1;
  int i = d->nv++;
  gvalue *v = &d->v[i];
  memset(v, 0, sizeof *v);
  snprintf(v->name, sizeof v->name, "%s%d", prefix, i);
  v->dtype = dt;
  v->dims[0] = r;
  v->dims[1] = c;
  v->producer = -1;
  v->pickable = dt == CLCNN_DTYPE_FLOAT32 && r == d->R && c == d->C;
  return i;
}

static int add_const(dag *d, int64_t r, int64_t c, const float *vals, rng *g) {
  int i = add_value(d, "c", CLCNN_DTYPE_FLOAT32, r, c);
  gvalue *v = &d->v[i];
  v->is_const = true;
  v->pickable = false;
  v->data = malloc((size_t)(r * c) * sizeof(float));
  for (int64_t k = 0; k < r * c; k++) v->data[k] = vals ? vals[k] : (float)(2 * rng_unit(g) - 1);
  v->m = 1;
  if (vals)
    for (int64_t k = 0; k < r * c; k++) v->m = fmax(v->m, fabs(vals[k]));
  return i;
}

/* An operand: half the time a value nobody reads yet (keeps the number of
 * sinks, hence outputs, small), else any, biased to recent values. */
static int pick(dag *d, rng *g, int not_this) {
  int cand[MAXV], nc = 0, fresh[MAXV], nf = 0;
  for (int i = 0; i < d->nv; i++) {
    if (!d->v[i].pickable || i == not_this) continue;
    cand[nc++] = i;
    if (d->v[i].readers == 0) fresh[nf++] = i;
  }
  if (nc == 0) return not_this;
  if (nf && rng_int(g, 2) == 0) return fresh[rng_int(g, nf)];
  double u = rng_unit(g);
  return cand[nc - 1 - (int)((double)nc * u * u)];
}

static int emit(dag *d, gop op, int a, int b, int c, int out) {
  gnode *n = &d->n[d->nn++];
  memset(n, 0, sizeof *n);
  n->op = op;
  n->in[0] = a, n->in[1] = b, n->in[2] = c;
  n->nin = c >= 0 ? 3 : b >= 0 ? 2 : 1;
  n->out = out;
  for (int k = 0; k < n->nin; k++) d->v[n->in[k]].readers++;
  d->v[out].producer = d->nn - 1;
  return d->nn - 1;
}

/* Unary node on value a; fills the bounds of its output. */
static int unary(dag *d, gop op, int a) {
  const gvalue *x = &d->v[a];
  int o = add_value(d, "v", CLCNN_DTYPE_FLOAT32, d->R, d->C);
  gvalue *y = &d->v[o];
  switch (op) {
    case G_SIGMOID: y->m = 1, y->e = 0.25 * x->e + 4; break;
    case G_TANH: y->m = fmin(1, x->m), y->e = x->e + 4; break;
    case G_EXP: y->m = exp(x->m), y->e = y->m * (x->e + 4); break;
    default: y->m = x->m, y->e = x->e; break;
  }
  emit(d, op, a, -1, -1, o);
  return o;
}

static void gen_dag(dag *d, uint64_t seed, int shape) {
  memset(d, 0, sizeof *d);
  d->seed = seed;
  d->shape = shape;
  d->R = shapes[shape][0];
  d->C = shapes[shape][1];
  rng g = {seed * 0x2545F4914F6CDD1Dull + 1};
  bool big = shape >= SHAPE_MID;
  int nfloat = 1 + rng_int(&g, 3);
  bool gather = rng_int(&g, 100) < 40;
  int target = big ? 3 + rng_int(&g, 5) : 3 + rng_int(&g, 14);
  for (int i = 0; i < nfloat; i++) {
    int v = add_value(d, "x", CLCNN_DTYPE_FLOAT32, d->R, d->C);
    d->v[v].is_input = true;
    d->v[v].m = 1 + rng_int(&g, 3);
    d->inputs[d->ninputs++] = v;
  }
  int idx = -1;
  if (gather) {
    idx = add_value(d, "idx", CLCNN_DTYPE_INT64, d->R, 1);
    d->v[idx].is_input = true;
    d->v[idx].pickable = false;
    d->inputs[d->ninputs++] = idx;
  }
  /* Every float input is read: the first nodes take them in turn. */
  int next_input = 0;
  while (d->nn < target && d->nv < MAXV - 8 && d->nn < MAXN - 3) {
    int a = next_input < nfloat ? d->inputs[next_input++] : pick(d, &g, -1);
    int w = rng_int(&g, 100);
    gop op;
    if (w < 10) op = G_RELU;
    else if (w < 16) op = G_NEG;
    else if (w < 22) op = G_ABS;
    else if (w < 29) op = G_SIGMOID;
    else if (w < 36) op = G_TANH;
    else if (w < 43) op = G_EXP;       /* Clip then Exp */
    else if (w < 56) op = G_ADD;
    else if (w < 66) op = G_SUB;
    else if (w < 76) op = G_MUL;
    else if (w < 84) op = G_CONCAT;    /* Concat then Slice */
    else if (w < 92 && gather) op = G_GATHER;
    else op = G_RELU;
    const gvalue *x = &d->v[a];
    if (op == G_EXP) {
      float lim = 4;
      int lo = add_const(d, 1, 1, (float[]){-lim}, &g); /* rank 0 in the model */
      int hi = add_const(d, 1, 1, (float[]){lim}, &g);
      int c = add_value(d, "v", CLCNN_DTYPE_FLOAT32, d->R, d->C);
      d->v[c].m = fmin(x->m, lim);
      d->v[c].e = x->e;
      emit(d, G_CLIP, a, lo, hi, c);
      unary(d, G_EXP, c);
    } else if (op == G_ADD || op == G_SUB || op == G_MUL) {
      int b;
      int kind = rng_int(&g, 10);
      if (kind < 2) b = add_const(d, 1, d->C, NULL, &g);      /* broadcast [1, C] */
      else if (kind < 3) b = add_const(d, d->R, d->C, NULL, &g);
      else b = pick(d, &g, rng_int(&g, 4) ? a : -1);           /* sometimes x op x */
      const gvalue *y = &d->v[b];
      double m = op == G_MUL ? x->m * y->m : x->m + y->m;
      if (m > 1e4) {
        unary(d, G_TANH, a);
        continue;
      }
      int o = add_value(d, "v", CLCNN_DTYPE_FLOAT32, d->R, d->C);
      d->v[o].m = m;
      d->v[o].e = (op == G_MUL ? y->m * x->e + x->m * y->e : x->e + y->e) + m;
      emit(d, op, a, b, -1, o);
    } else if (op == G_CONCAT) {
      int b = pick(d, &g, -1);
      int axis = rng_int(&g, 2);
      int64_t len = axis ? d->C : d->R;
      int cv = add_value(d, "v", CLCNN_DTYPE_FLOAT32, axis ? d->R : 2 * d->R,
                         axis ? 2 * d->C : d->C);
      d->v[cv].m = fmax(x->m, d->v[b].m);
      d->v[cv].e = fmax(x->e, d->v[b].e);
      int ni = emit(d, G_CONCAT, a, b, -1, cv);
      d->n[ni].axis = axis;
      int o = add_value(d, "v", CLCNN_DTYPE_FLOAT32, d->R, d->C);
      d->v[o].m = d->v[cv].m;
      d->v[o].e = d->v[cv].e;
      int64_t starts[3] = {0, 1, len};
      int si = emit(d, G_SLICE, cv, -1, -1, o);
      d->n[si].axis = axis;
      d->n[si].start = starts[rng_int(&g, 3)];
    } else if (op == G_GATHER) {
      int o = add_value(d, "v", CLCNN_DTYPE_FLOAT32, d->R, d->C);
      d->v[o].m = x->m;
      d->v[o].e = x->e;
      emit(d, G_GATHER, a, idx, -1, o);
    } else {
      unary(d, op, a);
    }
  }
  /* Outputs: every sink, and some values that later nodes also read. */
  for (int i = 0; i < d->nv && d->noutputs < MAXOUT; i++) {
    gvalue *v = &d->v[i];
    if (v->producer < 0) continue;
    int pct = v->pickable ? 25 : 15;
    if (v->readers == 0 || rng_int(&g, 100) < pct) {
      v->is_output = true;
      d->outputs[d->noutputs++] = i;
    }
  }
  /* The model. */
  mb *b = mb_new(13);
  for (int i = 0; i < d->ninputs; i++) {
    const gvalue *v = &d->v[d->inputs[i]];
    mb_input(b, v->name, v->dtype, v->dtype == CLCNN_DTYPE_INT64 ? 1 : 2, v->dims);
  }
  int cnum = 0;
  for (int k = 0; k < d->nn; k++) {
    gnode *n = &d->n[k];
    char ins[128] = "";
    for (int j = 0; j < n->nin; j++) {
      const gvalue *v = &d->v[n->in[j]];
      if (v->is_const) {
        if (n->op == G_CLIP) mb_init_f32(b, v->name, 0, (int64_t[]){1}, v->data);
        else if (v->dims[0] == 1 && v->dims[1] == d->C && d->R != 1)
          mb_init_f32(b, v->name, 1, (int64_t[]){d->C}, v->data); /* broadcast */
        else mb_init_f32(b, v->name, 2, v->dims, v->data);
      }
      size_t l = strlen(ins);
      snprintf(ins + l, sizeof ins - l, "%s%s", j ? "," : "", v->name);
    }
    if (n->op == G_SLICE) {
      char s[16], e[16], a[16];
      snprintf(s, sizeof s, "s%d_%d", k, cnum++);
      snprintf(e, sizeof e, "e%d_%d", k, cnum++);
      snprintf(a, sizeof a, "a%d_%d", k, cnum++);
      int64_t len = n->axis ? d->C : d->R;
      mb_init_i64(b, s, 1, (int64_t[]){1}, (int64_t[]){n->start});
      mb_init_i64(b, e, 1, (int64_t[]){1}, (int64_t[]){n->start + len});
      mb_init_i64(b, a, 1, (int64_t[]){1}, (int64_t[]){n->axis});
      size_t l = strlen(ins);
      snprintf(ins + l, sizeof ins - l, ",%s,%s,%s", s, e, a);
    }
    if (n->op == G_CONCAT) {
      mb_node(b, "Concat", ins, d->v[n->out].name, 1, (mb_attr[]){MB_INT("axis", n->axis)});
    } else if (n->op == G_GATHER) {
      /* indices [R, 1] -> a graph input of shape [R]? Gather of [R, C] by
       * [R] along axis 0 gives [R, C]. The input is declared [R]. */
      mb_node(b, "Gather", ins, d->v[n->out].name, 1, (mb_attr[]){MB_INT("axis", 0)});
    } else {
      mb_node(b, gop_onnx[n->op], ins, d->v[n->out].name, 0, NULL);
    }
  }
  for (int i = 0; i < d->noutputs; i++) mb_output(b, d->v[d->outputs[i]].name);
  d->bytes = mb_pack(b, &d->len);
  mb_free(b);
}

static void dag_free(dag *d) {
  for (int i = 0; i < d->nv; i++) free(d->v[i].data);
  free(d->bytes);
  d->bytes = NULL;
}

/* ---------------------------------------------------------- the test hook */

/* Where the hook sends node k: index into the session's backend list
 * (0: the first device, 1: the second device or the CPU backend, ...). */
typedef struct hook_ctx {
  const dag *d;
  int target[MAXN];
  int calls;
} hook_ctx;

static int node_index(const dag *d, const char *name) {
  if (!name || name[0] != 'n') return -1;
  char *end;
  long k = strtol(name + 1, &end, 10);
  return (*end || k < 0 || k >= d->nn) ? -1 : (int)k;
}

static bool refuse_hook(void *user, int backend_index, const char *backend_name,
                        const ir_graph *g, int node) {
  hook_ctx *h = user;
  h->calls++;
  if (!backend_name || strcmp(backend_name, "cpu") == 0) return false;
  int k = node_index(h->d, g->nodes[node].name);
  return k >= 0 && backend_index < h->target[k];
}

/* ------------------------------------------------------------- the runs */

typedef struct feed {
  void *data[MAXIN];
} feed;

static void make_feed(const dag *d, feed *f, uint64_t salt, const feed *keep_first) {
  rng g = {d->seed * 31 + salt};
  for (int i = 0; i < d->ninputs; i++) {
    const gvalue *v = &d->v[d->inputs[i]];
    int64_t n = v->dtype == CLCNN_DTYPE_INT64 ? v->dims[0] : numel(v);
    f->data[i] = malloc(vbytes(v));
    if (i == 0 && keep_first && d->ninputs > 1) {
      memcpy(f->data[i], keep_first->data[i], vbytes(v));
      continue;
    }
    if (v->dtype == CLCNN_DTYPE_INT64) {
      for (int64_t k = 0; k < n; k++)
        ((int64_t *)f->data[i])[k] = (int64_t)rng_int(&g, (int)(2 * d->R)) - d->R;
    } else {
      for (int64_t k = 0; k < n; k++)
        ((float *)f->data[i])[k] = (float)((2 * rng_unit(&g) - 1) * v->m);
    }
  }
}
static void feed_free(const dag *d, feed *f) {
  for (int i = 0; i < d->ninputs; i++) free(f->data[i]);
}

static bool set_inputs(const dag *d, clcnn_session *s, const feed *f, int first, char *why,
                       size_t wl) {
  for (int i = first; i < d->ninputs; i++) {
    const gvalue *v = &d->v[d->inputs[i]];
    clcnn_tensor t = {.dtype = v->dtype, .rank = v->dtype == CLCNN_DTYPE_INT64 ? 1 : 2,
                      .dims = {v->dims[0], v->dims[1]}, .data = f->data[i]};
    if (clcnn_session_set_input(s, v->name, &t) != CLCNN_OK) {
      snprintf(why, wl, "set_input(%s): %s", v->name, clcnn_session_error(s));
      return false;
    }
  }
  return true;
}

typedef struct refs {
  float *out[MAXOUT];
} refs;

static clcnn_context *ctx;
static int failures, printed, dags_run, sessions_run, mixed_reads, device_nodes, cpu_nodes;
static double worst_ratio;
static int n_devices;

static const char *test_device(void) {
  const char *dv = getenv("CLCNN_TEST_DEVICE");
  return dv && dv[0] ? dv : "opencl";
}

static void print_dag(const dag *d, const char *variant, const hook_ctx *h,
                      const clcnn_session *s) {
  printf("  DAG seed %llu shape %lldx%lld (reproduce: CLCNN_GRAPHS_ONLY=%llu:%d), variant %s\n",
         (unsigned long long)d->seed, (long long)d->R, (long long)d->C,
         (unsigned long long)d->seed, d->shape, variant);
  printf("  inputs:");
  for (int i = 0; i < d->ninputs; i++) printf(" %s", d->v[d->inputs[i]].name);
  printf("; outputs:");
  for (int i = 0; i < d->noutputs; i++) printf(" %s", d->v[d->outputs[i]].name);
  printf("\n");
  const clcnn_profile_entry *pe = NULL;
  int pc = 0;
  if (s && clcnn_session_profile(s, &pe, &pc) != CLCNN_OK) pc = 0;
  for (int k = 0; k < d->nn; k++) {
    const gnode *n = &d->n[k];
    char line[256];
    int l = snprintf(line, sizeof line, "    n%-2d %s = %s(", k, d->v[n->out].name,
                     gop_onnx[n->op]);
    for (int j = 0; j < n->nin; j++)
      l += snprintf(line + l, sizeof line - (size_t)l, "%s%s", j ? "," : "", d->v[n->in[j]].name);
    if (n->op == G_CONCAT) l += snprintf(line + l, sizeof line - (size_t)l, ";axis=%d", n->axis);
    if (n->op == G_SLICE)
      l += snprintf(line + l, sizeof line - (size_t)l, ";axis=%d,start=%lld", n->axis,
                    (long long)n->start);
    snprintf(line + l, sizeof line - (size_t)l, ")");
    const char *ran = "?";
    char nm[16];
    snprintf(nm, sizeof nm, "n%d", k);
    for (int i = 0; i < pc; i++)
      if (strcmp(pe[i].op, "Transfer") != 0 && strcmp(pe[i].node, nm) == 0) ran = pe[i].backend;
    printf("%-48s hook target %d, ran on %s  |v|<=%.3g err<=%.3g eps\n", line,
           h ? h->target[k] : 0, ran, d->v[n->out].m, d->v[n->out].e);
  }
  for (int i = 0; i < pc; i++)
    if (strcmp(pe[i].op, "Transfer") == 0)
      printf("    transfer %s %s %zu bytes\n", pe[i].node, pe[i].backend, pe[i].bytes);
}

static void report(const dag *d, const char *variant, const hook_ctx *h, const clcnn_session *s,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void report(const dag *d, const char *variant, const hook_ctx *h, const clcnn_session *s,
                 const char *fmt, ...) {
  failures++;
  if (printed++ >= MAX_PRINTED_FAILURES) return;
  va_list ap;
  va_start(ap, fmt);
  printf("FAIL seed %llu [%s]: ", (unsigned long long)d->seed, variant);
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  print_dag(d, variant, h, s);
  fflush(stdout);
}

/* Compares every output of s with the reference; false (and reported) on
 * the first that differs. */
static bool compare(const dag *d, clcnn_session *s, const refs *r, const char *variant,
                    const hook_ctx *h, int run) {
  for (int o = 0; o < d->noutputs; o++) {
    const gvalue *v = &d->v[d->outputs[o]];
    clcnn_tensor t;
    if (clcnn_session_output(s, v->name, &t) != CLCNN_OK) {
      report(d, variant, h, s, "run %d: output %s: %s", run, v->name, clcnn_session_error(s));
      return false;
    }
    if (t.dtype != CLCNN_DTYPE_FLOAT32 || t.rank != 2 || t.dims[0] != v->dims[0] ||
        t.dims[1] != v->dims[1]) {
      report(d, variant, h, s, "run %d: output %s has rank %d dims %lldx%lld, want %lldx%lld", run,
           v->name, t.rank, (long long)t.dims[0], (long long)(t.rank > 1 ? t.dims[1] : 0),
           (long long)v->dims[0], (long long)v->dims[1]);
      return false;
    }
    const float *got = t.data, *want = r->out[o];
    double allowed = 2.0 * v->e * FLT_EPSILON + 1e-30;
    int64_t n = numel(v), worst = -1, bad = 0, first_bad = -1;
    double worst_r = 0;
    for (int64_t i = 0; i < n; i++) {
      double a = got[i], b = want[i], q;
      if (isnan(a) || isnan(b)) q = (isnan(a) && isnan(b)) ? 0 : INFINITY;
      else q = fabs(a - b) / allowed;
      if (q > worst_r) worst_r = q, worst = i;
      if (q > 1 && bad++ == 0) first_bad = i;
    }
    if (worst_r > worst_ratio && worst_r <= 1) worst_ratio = worst_r;
    if (worst_r > 1) {
      report(d, variant, h, s,
           "run %d: output %s element %lld (row %lld, col %lld): got %.9g, CPU %.9g, "
           "|diff| %.3g > allowed %.3g; %lld of %lld elements differ, the first at %lld",
           run, v->name, (long long)worst, (long long)(worst / v->dims[1]),
           (long long)(worst % v->dims[1]), got[worst], want[worst],
           fabs((double)got[worst] - want[worst]), allowed, (long long)bad, (long long)n,
           (long long)first_bad);
      return false;
    }
  }
  return true;
}

static bool reference(const dag *d, const clcnn_model *m, const feed *f, refs *r) {
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "cpu";
  clcnn_session *s = NULL;
  char why[512];
  if (clcnn_session_create(m, &so, NULL, 0, &s) != CLCNN_OK) {
    report(d, "cpu", NULL, NULL, "CPU session: %s", clcnn_last_error());
    return false;
  }
  bool ok = set_inputs(d, s, f, 0, why, sizeof why);
  if (!ok) report(d, "cpu", NULL, NULL, "%s", why);
  if (ok && clcnn_session_run(s) != CLCNN_OK) {
    report(d, "cpu", NULL, NULL, "CPU run: %s", clcnn_session_error(s));
    ok = false;
  }
  for (int o = 0; ok && o < d->noutputs; o++) {
    const gvalue *v = &d->v[d->outputs[o]];
    clcnn_tensor t;
    if (clcnn_session_output(s, v->name, &t) != CLCNN_OK) {
      report(d, "cpu", NULL, NULL, "CPU output %s: %s", v->name, clcnn_session_error(s));
      ok = false;
      break;
    }
    r->out[o] = malloc(vbytes(v));
    memcpy(r->out[o], t.data, vbytes(v));
  }
  clcnn_session_free(s);
  return ok;
}
static void refs_free(refs *r) {
  for (int o = 0; o < MAXOUT; o++) free(r->out[o]), r->out[o] = NULL;
}

/* Which backend node k should run on, given the hook's targets and the
 * backend names of the session's list (the CPU backend last). */
static bool device_can_run(const gnode *n) { return n->op != G_GATHER; }

/* Checks the profile of a hooked session: every node on the backend the hook
 * sent it to, and every value that crosses backends moved by a transfer. */
static bool check_profile(const dag *d, clcnn_session *s, const hook_ctx *h, const char *variant,
                          const char *const *names, int nbackends, int run) {
  const clcnn_profile_entry *pe;
  int pc;
  if (clcnn_session_profile(s, &pe, &pc) != CLCNN_OK) {
    report(d, variant, h, s, "profile: %s", clcnn_session_error(s));
    return false;
  }
  const char *ran[MAXN] = {0};
  for (int i = 0; i < pc; i++) {
    if (strcmp(pe[i].op, "Transfer") == 0) {
      int vi = -1;
      for (int k = 0; k < d->nv; k++)
        if (strcmp(d->v[k].name, pe[i].node) == 0) vi = k;
      if (vi < 0 || !strstr(pe[i].backend, "->") ||
          (pe[i].bytes != 0 && pe[i].bytes != vbytes(&d->v[vi]))) {
        report(d, variant, h, s, "run %d: transfer entry '%s' '%s' %zu bytes: not a value of the "
             "DAG, no FROM->TO, or the wrong size", run, pe[i].node, pe[i].backend, pe[i].bytes);
        return false;
      }
      continue;
    }
    int k = node_index(d, pe[i].node);
    if (k < 0) {
      report(d, variant, h, s, "run %d: profile entry for unknown node '%s' (%s)", run, pe[i].node,
           pe[i].op);
      return false;
    }
    if (ran[k]) {
      report(d, variant, h, s, "run %d: node %s twice in the profile", run, pe[i].node);
      return false;
    }
    ran[k] = pe[i].backend;
  }
  for (int k = 0; k < d->nn; k++) {
    const int p = fused_into(d, k);
    if (p >= 0) {
      if (ran[k]) {
        report(d, variant, h, s, "run %d: n%d should run inside n%d", run, k, p);
        return false;
      }
      ran[k] = ran[p];
      continue;
    }
    if (!ran[k]) {
      report(d, variant, h, s, "run %d: node n%d missing from the profile", run, k);
      return false;
    }
    const char *want = device_can_run(&d->n[k]) ? names[h->target[k]] : "cpu";
    if (want && strcmp(ran[k], want) != 0) {
      report(d, variant, h, s, "run %d: node n%d (%s) ran on %s, the hook sent it to %s", run, k,
           gop_onnx[d->n[k].op], ran[k], want);
      return false;
    }
  }
  /* Each value produced on P and read on Q != P: a transfer to Q. */
  for (int k = 0; k < d->nn; k++) {
    const gnode *r = &d->n[k];
    for (int j = 0; j < r->nin; j++) {
      const gvalue *v = &d->v[r->in[j]];
      if (v->producer < 0) continue;
      const char *p = ran[v->producer], *q = ran[k];
      if (strcmp(p, q) == 0) continue;
      bool found = false;
      for (int i = 0; i < pc && !found; i++) {
        if (strcmp(pe[i].op, "Transfer") || strcmp(pe[i].node, v->name)) continue;
        const char *arrow = strstr(pe[i].backend, "->");
        found = arrow && strcmp(arrow + 2, q) == 0 && pe[i].bytes > 0;
      }
      if (!found) {
        report(d, variant, h, s, "run %d: %s is produced on %s (n%d) and read on %s (n%d), but "
             "no transfer of it to %s with bytes > 0 is in the profile", run, v->name, p,
             v->producer, q, k, q);
        return false;
      }
    }
  }
  (void)nbackends;
  return true;
}

/* One session of the DAG on `device`, hooked when h != NULL: three runs. */
static bool run_session(const dag *d, const clcnn_model *m, const char *device, hook_ctx *h,
                        const char *variant, const char *const *names, int nbackends,
                        const feed *fa, const feed *fb, const refs *ra, const refs *rb) {
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = device;
  so.profile = h != NULL;
  clcnn_session *s = NULL;
  if (h) {
    h->calls = 0;
    sched_set_test_refuse(refuse_hook, h);
  }
  clcnn_status st = clcnn_session_create(m, &so, NULL, 0, &s);
  bool ok = true;
  char why[1024];
  if (st != CLCNN_OK) {
    report(d, variant, h, NULL, "session on '%s': %s: %s", device, clcnn_status_str(st),
         clcnn_last_error());
    ok = false;
    goto out;
  }
  sessions_run++;
  if (h && h->calls == 0) {
    report(d, variant, h, s, "the test hook was never asked");
    ok = false;
    goto out;
  }
  size_t host = 0, dev = 0, shared = 0;
  if (clcnn_session_memory(s, &host, &dev) != CLCNN_OK ||
      clcnn_session_memory_shared(s, &shared) != CLCNN_OK || shared > dev) {
    report(d, variant, h, s, "memory: device %zu bytes, shared %zu", dev, shared);
    ok = false;
    goto out;
  }
  for (int run = 1; ok && run <= 3; run++) {
    const feed *f = run == 3 ? fb : fa;
    int first = run == 3 && d->ninputs > 1 ? 1 : 0; /* run 3 keeps input 0 */
    if (run != 2 && !set_inputs(d, s, f, first, why, sizeof why)) {
      report(d, variant, h, s, "run %d: %s", run, why);
      ok = false;
      break;
    }
    if ((st = clcnn_session_run(s)) != CLCNN_OK) {
      report(d, variant, h, s, "run %d: %s: %s", run, clcnn_status_str(st), clcnn_session_error(s));
      ok = false;
      break;
    }
    ok = compare(d, s, run == 3 ? rb : ra, variant, h, run);
    if (ok && h) ok = check_profile(d, s, h, variant, names, nbackends, run);
  }
  if (ok && h) {
    const clcnn_profile_entry *pe;
    int pc;
    if (clcnn_session_profile(s, &pe, &pc) == CLCNN_OK)
      for (int i = 0; i < pc; i++) {
        if (strcmp(pe[i].op, "Transfer") == 0) continue;
        if (strcmp(pe[i].backend, "cpu") == 0) cpu_nodes++;
        else device_nodes++;
      }
  }
out:
  if (h) sched_set_test_refuse(NULL, NULL);
  clcnn_session_free(s);
  return ok;
}

/* Counts values read by nodes the hook sends to different backends. */
static void count_mixed(const dag *d, const hook_ctx *h) {
  for (int i = 0; i < d->nv; i++) {
    int seen = -1;
    for (int k = 0; k < d->nn; k++) {
      const gnode *n = &d->n[k];
      for (int j = 0; j < n->nin; j++) {
        if (n->in[j] != i) continue;
        int t = device_can_run(n) ? h->target[k] : 99;
        if (seen < 0) seen = t;
        else if (seen != t) {
          mixed_reads++;
          return;
        }
      }
    }
  }
}

static void run_dag(uint64_t seed, int shape) {
  dag *d = calloc(1, sizeof *d);
  gen_dag(d, seed, shape);
  clcnn_model *m = NULL;
  feed fa = {{0}}, fb = {{0}};
  refs ra = {{0}}, rb = {{0}};
  if (clcnn_model_load_memory(ctx, d->bytes, d->len, NULL, &m) != CLCNN_OK) {
    report(d, "load", NULL, NULL, "load: %s", clcnn_last_error());
    goto out;
  }
  make_feed(d, &fa, 1, NULL);
  make_feed(d, &fb, 2, &fa);
  if (!reference(d, m, &fa, &ra) || !reference(d, m, &fb, &rb)) goto out;
  dags_run++;
  const char *dev = test_device();
  /* (a) the device alone. */
  run_session(d, m, dev, NULL, "device", NULL, 0, &fa, &fb, &ra, &rb);
  /* (b) ~30% of the nodes refused on the device. */
  hook_ctx h = {.d = d};
  for (int k = 0; k < d->nn; k++) h.target[k] = hash3(seed, (uint64_t)k, 1) % 100 < 30;
  count_mixed(d, &h);
  const char *names_b[] = {"opencl", "cpu"};
  run_session(d, m, dev, &h, "device+hook", names_b, 2, &fa, &fb, &ra, &rb);
  /* (c) two devices and the CPU backend. */
  if (n_devices >= 2) {
    hook_ctx h2 = {.d = d};
    for (int k = 0; k < d->nn; k++) {
      int r = (int)(hash3(seed, (uint64_t)k, 2) % 100);
      h2.target[k] = r < 35 ? 1 : r < 55 ? 2 : 0;
    }
    const char *names_c[] = {"opencl:0", "opencl:1", "cpu"};
    run_session(d, m, "opencl:0,opencl:1", &h2, "2 devices+hook", names_c, 3, &fa, &fb, &ra,
                &rb);
  }
out:
  refs_free(&ra);
  refs_free(&rb);
  feed_free(d, &fa);
  feed_free(d, &fb);
  clcnn_model_free(m);
  dag_free(d);
  free(d);
}

static uint64_t base_seed(void) {
  const char *s = getenv("CLCNN_GRAPHS_SEED");
  return s && *s ? strtoull(s, NULL, 0) : 20240601;
}
static int env_int(const char *name, int def) {
  const char *s = getenv(name);
  return s && *s ? atoi(s) : def;
}
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void summary(const char *what, double t0) {
  printf("%s: %d DAGs, %d device sessions (%d device / %d CPU nodes in hooked sessions, "
         "%d DAGs with a value read on two backends), worst error %.2f of the allowed, %.1f s\n",
         what, dags_run, sessions_run, device_nodes, cpu_nodes, mixed_reads, worst_ratio,
         now() - t0);
  fflush(stdout);
}

static void reset_counters(void) {
  failures = printed = dags_run = sessions_run = mixed_reads = device_nodes = cpu_nodes = 0;
  worst_ratio = 0;
}

START_TEST(random_small_dags) {
  reset_counters();
  double t0 = now();
  int count = env_int("CLCNN_GRAPHS_COUNT", 600);
  uint64_t seed0 = base_seed();
  for (int i = 0; i < count; i++) {
    rng g = {seed0 + (uint64_t)i};
    int shape = rng_int(&g, 20) == 0 ? SHAPE_MID : rng_int(&g, SHAPE_SMALL_COUNT);
    run_dag(seed0 + (uint64_t)i, shape);
  }
  summary("small DAGs", t0);
  ck_assert_msg(failures == 0, "%d failures (see above)", failures);
  ck_assert_int_gt(mixed_reads, 0);
  ck_assert_int_gt(cpu_nodes, 0);
}
END_TEST

START_TEST(random_big_dags) {
  reset_counters();
  double t0 = now();
  int count = env_int("CLCNN_GRAPHS_BIG", 3);
  uint64_t seed0 = base_seed() + 1000000;
  for (int i = 0; i < count; i++) run_dag(seed0 + (uint64_t)i, SHAPE_BIG);
  summary("big DAGs", t0);
  ck_assert_msg(failures == 0, "%d failures (see above)", failures);
}
END_TEST

START_TEST(only_one_dag) {
  reset_counters();
  const char *spec = getenv("CLCNN_GRAPHS_ONLY");
  char *end;
  uint64_t seed = strtoull(spec, &end, 0);
  int shape = *end == ':' ? atoi(end + 1) : 0;
  if (shape < 0 || shape > SHAPE_BIG) shape = 0;
  run_dag(seed, shape);
  summary("one DAG", now());
  ck_assert_msg(failures == 0, "%d failures (see above)", failures);
}
END_TEST

/* Verify mode: each device node also runs on the CPU backend; on PoCL every
 * node agrees, and the report lists exactly the nodes that ran on a device. */
static void verify_one(uint64_t seed, const char *device, int ndev) {
  dag *d = calloc(1, sizeof *d);
  gen_dag(d, seed, 2);
  clcnn_model *m = NULL;
  ck_assert_int_eq(clcnn_model_load_memory(ctx, d->bytes, d->len, NULL, &m), CLCNN_OK);
  feed fa = {{0}};
  make_feed(d, &fa, 1, NULL);
  refs ra = {{0}};
  ck_assert(reference(d, m, &fa, &ra));
  hook_ctx h = {.d = d};
  bool on_device[MAXN];
  int expected = 0;
  for (int k = 0; k < d->nn; k++) {
    h.target[k] = (int)(hash3(seed, (uint64_t)k, 3) % (uint64_t)(ndev + 1));
    if (k == 0) h.target[k] = 0; /* at least one node on a device */
    on_device[k] = h.target[k] < ndev && device_can_run(&d->n[k]) && fused_into(d, k) < 0;
    expected += on_device[k];
  }
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = device;
  so.verify = 1;
  sched_set_test_refuse(refuse_hook, &h);
  clcnn_session *s = NULL;
  clcnn_status st = clcnn_session_create(m, &so, NULL, 0, &s);
  sched_set_test_refuse(NULL, NULL);
  ck_assert_msg(st == CLCNN_OK, "seed %llu: %s", (unsigned long long)seed, clcnn_last_error());
  const clcnn_verify_entry *ve;
  int vc, first;
  ck_assert_int_eq(clcnn_session_verify_report(s, &ve, &vc, &first), CLCNN_ERROR_INVALID_ARGUMENT);
  char why[512];
  ck_assert_msg(set_inputs(d, s, &fa, 0, why, sizeof why), "%s", why);
  for (int run = 1; run <= 2; run++) {
    ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "seed %llu: %s", (unsigned long long)seed,
                  clcnn_session_error(s));
    int before = failures;
    if (!compare(d, s, &ra, "verify", &h, run)) ck_abort_msg("seed %llu: verify mode changed an "
                                                             "answer", (unsigned long long)seed);
    ck_assert_int_eq(failures, before);
    ck_assert_int_eq(clcnn_session_verify_report(s, &ve, &vc, &first), CLCNN_OK);
    if (vc != expected) print_dag(d, "verify", &h, NULL);
    ck_assert_msg(vc == expected, "seed %llu: %d verify entries, %d device nodes",
                  (unsigned long long)seed, vc, expected);
    ck_assert_msg(first == -1, "seed %llu: first failure %d (%s, error %g)",
                  (unsigned long long)seed, first, first >= 0 ? ve[first].node : "",
                  first >= 0 ? ve[first].error : 0.0);
    bool seen[MAXN] = {0};
    for (int i = 0; i < vc; i++) {
      int k = node_index(d, ve[i].node);
      ck_assert_msg(k >= 0 && on_device[k] && !seen[k], "seed %llu: entry %d node '%s'",
                    (unsigned long long)seed, i, ve[i].node);
      seen[k] = true;
      ck_assert_msg(ve[i].ok && ve[i].error <= 1e-3 && isfinite(ve[i].max_abs_error),
                    "seed %llu: %s (%s on %s) error %g", (unsigned long long)seed, ve[i].node,
                    ve[i].op, ve[i].backend, ve[i].error);
      /* "Add+Relu" for an Add that took its activation in. */
      ck_assert_int_eq(strncmp(ve[i].op, gop_onnx[d->n[k].op], strlen(gop_onnx[d->n[k].op])), 0);
      ck_assert_msg(strcmp(ve[i].backend, "cpu") != 0 && strncmp(ve[i].backend, "opencl", 6) == 0,
                    "%s", ve[i].backend);
      if (ndev == 2) {
        const char *want = h.target[k] ? "opencl:1" : "opencl:0";
        ck_assert_str_eq(ve[i].backend, want);
      }
    }
  }
  clcnn_session_free(s);
  /* Without verify there is no report. */
  so.verify = 0;
  ck_assert_int_eq(clcnn_session_create(m, &so, NULL, 0, &s), CLCNN_OK);
  ck_assert(set_inputs(d, s, &fa, 0, why, sizeof why));
  ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_verify_report(s, &ve, &vc, &first), CLCNN_ERROR_INVALID_ARGUMENT);
  clcnn_session_free(s);
  refs_free(&ra);
  feed_free(d, &fa);
  clcnn_model_free(m);
  dag_free(d);
  free(d);
}

START_TEST(verify_mode) {
  for (uint64_t i = 0; i < 6; i++) verify_one(base_seed() + 5000 + i, test_device(), 1);
  if (n_devices >= 2)
    for (uint64_t i = 0; i < 3; i++) verify_one(base_seed() + 6000 + i, "opencl:0,opencl:1", 2);
}
END_TEST

/* A chain x -> Relu (device) -> Neg (CPU, by the hook) -> Abs (device) ->
 * output, plus the Relu output as a second output: the profile shows the two
 * transfers with their sizes, and a third output read back from the CPU. */
static bool refuse_neg(void *user, int backend_index, const char *backend_name,
                       const ir_graph *g, int node) {
  (void)user, (void)backend_index;
  return strcmp(backend_name, "cpu") != 0 && g->nodes[node].op == CLCNN_OP_NEG;
}

START_TEST(profile_transfers) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 2, (int64_t[]){16, 33});
  mb_node(b, "Relu", "x", "r", 0, NULL);
  mb_node(b, "Neg", "r", "n", 0, NULL);
  mb_node(b, "Abs", "n", "y", 0, NULL);
  mb_output(b, "y");
  mb_output(b, "r");
  mb_output(b, "n");
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  mb_free(b);
  clcnn_model *m;
  ck_assert_int_eq(clcnn_model_load_memory(ctx, bytes, len, NULL, &m), CLCNN_OK);
  free(bytes);
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = test_device();
  so.profile = 1;
  sched_set_test_refuse(refuse_neg, NULL);
  clcnn_session *s = NULL;
  clcnn_status st = clcnn_session_create(m, &so, NULL, 0, &s);
  sched_set_test_refuse(NULL, NULL);
  ck_assert_msg(st == CLCNN_OK, "%s", clcnn_last_error());
  float x[16 * 33];
  for (int i = 0; i < 16 * 33; i++) x[i] = (float)(i % 7) - 3.0f;
  clcnn_tensor t = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 2, .dims = {16, 33}, .data = x};
  ck_assert_int_eq(clcnn_session_set_input(s, "x", &t), CLCNN_OK);
  for (int run = 0; run < 2; run++) {
    ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "%s", clcnn_session_error(s));
    const clcnn_profile_entry *pe;
    int pc;
    ck_assert_int_eq(clcnn_session_profile(s, &pe, &pc), CLCNN_OK);
    int to_cpu = 0, to_dev = 0;
    for (int i = 0; i < pc; i++) {
      if (strcmp(pe[i].op, "Transfer") == 0) {
        ck_assert_ptr_nonnull(strstr(pe[i].backend, "->"));
        if (strcmp(pe[i].node, "r") == 0 && strstr(pe[i].backend, "->cpu")) {
          ck_assert_uint_eq(pe[i].bytes, 16 * 33 * 4);
          to_cpu++;
        }
        if (strcmp(pe[i].node, "n") == 0 && strncmp(pe[i].backend, "cpu->", 5) == 0) {
          ck_assert_uint_eq(pe[i].bytes, 16 * 33 * 4);
          to_dev++;
        }
        ck_assert(pe[i].ms >= 0);
      } else if (strcmp(pe[i].op, "Neg") == 0) {
        ck_assert_str_eq(pe[i].backend, "cpu");
        ck_assert_uint_eq(pe[i].bytes, 0);
      } else {
        ck_assert_str_ne(pe[i].backend, "cpu");
      }
    }
    ck_assert_msg(to_cpu == 1 && to_dev == 1, "run %d: %d transfers of r to the CPU, %d of n "
                  "to the device", run, to_cpu, to_dev);
    const char *names[] = {"r", "n", "y"};
    for (int o = 0; o < 3; o++) {
      clcnn_tensor out;
      ck_assert_int_eq(clcnn_session_output(s, names[o], &out), CLCNN_OK);
      const float *v = out.data;
      for (int i = 0; i < 16 * 33; i++) {
        float r = x[i] > 0 ? x[i] : 0;
        float want = o == 0 ? r : o == 1 ? -r : r;
        ck_assert_msg(v[i] == want, "%s[%d] = %g, want %g", names[o], i, v[i], want);
      }
    }
  }
  clcnn_session_free(s);
  clcnn_model_free(m);
}
END_TEST

static int count_devices(void) {
  cl_uint np = 0;
  if (clGetPlatformIDs(0, NULL, &np) != CL_SUCCESS || np == 0) return 0;
  cl_platform_id *p = calloc(np, sizeof *p);
  int total = 0;
  if (clGetPlatformIDs(np, p, NULL) == CL_SUCCESS)
    for (cl_uint i = 0; i < np; i++) {
      cl_uint nd = 0;
      if (clGetDeviceIDs(p[i], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) == CL_SUCCESS) total += (int)nd;
    }
  free(p);
  return total;
}

int main(void) {
  n_devices = count_devices();
  if (n_devices == 0) {
    printf("SKIP: no OpenCL device\n");
    return 77;
  }
  if (n_devices < 2)
    printf("note: %d OpenCL device: the two-device case (c) is skipped "
           "(POCL_DEVICES=\"pthread pthread\" gives two)\n", n_devices);
  if (clcnn_context_create(NULL, &ctx) != CLCNN_OK) {
    printf("context: %s\n", clcnn_last_error());
    return 1;
  }
  Suite *s = suite_create("graphs");
  TCase *tc = tcase_create("graphs");
  tcase_set_timeout(tc, 1200);
  const char *only = getenv("CLCNN_GRAPHS_ONLY");
  if (only && *only) {
    tcase_add_test(tc, only_one_dag);
  } else {
    tcase_add_test(tc, profile_transfers);
    tcase_add_test(tc, verify_mode);
    tcase_add_test(tc, random_small_dags);
    tcase_add_test(tc, random_big_dags);
  }
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  /* One process: an OpenCL runtime does not survive fork(). */
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  clcnn_context_free(ctx);
  return failed ? 1 : 0;
}
