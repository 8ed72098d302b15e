/* `clcnn info MODEL [--device X] [--strict] [--shape [NAME=]DIMS]...`: what
 * a model is made of, and everything that keeps it from running, all at once
 * (at the shapes given, open dimensions 1 otherwise). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct op_count {
  char name[160]; /* "Conv", or "domain:Op" outside the default domain */
  int count;
  bool unsupported;
} op_count;

static int cmp_count(const void *a, const void *b) {
  const op_count *x = a, *y = b;
  if (x->count != y->count) return y->count - x->count;
  return strcmp(x->name, y->name);
}

static void print_io(const char *title, const clcnn_io_info *io, int n) {
  printf("%-12s%d\n", title, n);
  int w = 4;
  for (int i = 0; i < n; i++)
    if ((int)strlen(io[i].name) > w) w = (int)strlen(io[i].name);
  if (w > 40) w = 40;
  for (int i = 0; i < n; i++) {
    char shape[512];
    bool unknown = io[i].dtype == CLCNN_DTYPE_UNDEFINED && io[i].rank == 0;
    cli_io_shape_str(&io[i], shape, sizeof shape);
    printf("  %-*s  %-8s %s\n", w, io[i].name,
           io[i].dtype == CLCNN_DTYPE_UNDEFINED ? "?" : dtype_name(io[i].dtype),
           unknown ? "(not declared)" : shape);
  }
}

static void print_count(const char *label, double v, const char *unit) {
  static const char *const prefix[] = {"", "K", "M", "G", "T", "P"};
  int k = 0;
  double x = v;
  while (x >= 1000 && k < 5) x /= 1000, k++;
  if (k == 0)
    printf("%-12s%.0f%s%s\n", label, v, unit[0] ? " " : "", unit);
  else
    printf("%-12s%.0f (%.2f %s%s)\n", label, v, x, prefix[k], unit);
}

/* Parameters: initializers plus the tensors of Constant nodes. */
static double count_params(const ir_graph *g) {
  double n = 0;
  for (int v = 0; v < g->nvalues; v++)
    if (g->values[v].is_const) n += (double)shape_numel(g->values[v].t.rank, g->values[v].t.dims);
  for (int i = 0; i < g->nnodes; i++) {
    const ir_node *nd = &g->nodes[i];
    if (strcmp(nd->op_type, "Constant") != 0 || (nd->domain[0] && strcmp(nd->domain, "ai.onnx")))
      continue;
    for (int a = 0; a < nd->nattr; a++) {
      const ir_attr *at = &nd->attr[a];
      if (at->type == IR_ATTR_TENSOR && at->t)
        n += (double)clcnn_tensor_numel(at->t);
      else if (at->type == IR_ATTR_FLOATS || at->type == IR_ATTR_INTS)
        n += (double)at->n;
      else if (at->type == IR_ATTR_FLOAT || at->type == IR_ATTR_INT)
        n += 1;
    }
  }
  return n;
}

int cli_info(int argc, char **argv) {
  const char *path = NULL, *device = NULL, *shape_args[CLCNN_MAX_RANK * 8];
  int nshape_args = 0;
  bool strict = false;
  clcnn_precision precision = CLCNN_PRECISION_FP32;
  for (int i = 1; i < argc; i++) {
    int r;
    const char *v;
    if ((r = cli_opt(argc, argv, &i, "--device", &device))) {
      if (r < 0) return CLI_USAGE;
    } else if ((r = cli_opt(argc, argv, &i, "--shape", &v))) {
      if (r < 0) return CLI_USAGE;
      if (nshape_args == (int)(sizeof shape_args / sizeof *shape_args)) {
        cli_error("info: too many --shape options");
        return CLI_USAGE;
      }
      shape_args[nshape_args++] = v;
    } else if (strcmp(argv[i], "--strict") == 0) {
      strict = true;
    } else if ((r = cli_precision_opt(argc, argv, &i, &precision)) != 0) {
      if (r < 0) return CLI_USAGE;
    } else if (!cli_model_arg("info", argv[i], &path)) {
      return CLI_USAGE;
    }
  }
  if (!path) {
    cli_error("info: no model given (usage: clcnn info MODEL [--device X] [--shape [NAME=]DIMS])");
    return CLI_USAGE;
  }

  clcnn_context *ctx;
  if (clcnn_context_create(NULL, &ctx)) {
    cli_error("%s", clcnn_last_error());
    return CLI_FAIL;
  }
  clcnn_model *m;
  if (cli_load_model(ctx, path, true, &m)) {
    clcnn_context_free(ctx);
    return CLI_FAIL;
  }
  const ir_graph *g = &m->g;
  /* --shape names inputs: checked before anything is printed. */
  clcnn_input_shape shapes[sizeof shape_args / sizeof *shape_args];
  for (int k = 0; k < nshape_args; k++) {
    int idx;
    const char *dims;
    if (cli_resolve_input(m, "--shape", shape_args[k], true, &idx, &dims) ||
        !cli_parse_dims(dims, &shapes[k].rank, shapes[k].dims, "--shape")) {
      clcnn_model_free(m);
      clcnn_context_free(ctx);
      return CLI_USAGE;
    }
    clcnn_io_info io;
    clcnn_model_input_info(m, idx, &io);
    shapes[k].name = io.name;
  }

  printf("%-12s%s\n", "model", path);
  printf("%-12s%lld\n", "ir_version", (long long)g->ir_version);
  printf("%-12s%d\n", "opset", g->opset);
  print_io("inputs", m->inputs, m->ninputs);
  print_io("outputs", m->outputs, m->noutputs);

  /* Operators with counts, most used first. */
  op_count *ops = calloc((size_t)(g->nnodes ? g->nnodes : 1), sizeof *ops);
  int nops = 0;
  if (!ops) {
    cli_error("out of memory");
    clcnn_model_free(m);
    clcnn_context_free(ctx);
    return CLI_FAIL;
  }
  for (int i = 0; i < g->nnodes; i++) {
    const ir_node *n = &g->nodes[i];
    char name[160];
    if (n->domain[0] && strcmp(n->domain, "ai.onnx") != 0)
      snprintf(name, sizeof name, "%s:%s", n->domain, n->op_type);
    else
      snprintf(name, sizeof name, "%s", n->op_type);
    int k = 0;
    while (k < nops && strcmp(ops[k].name, name) != 0) k++;
    if (k == nops) snprintf(ops[nops++].name, sizeof ops[k].name, "%s", name);
    ops[k].count++;
    if (n->op < 0) ops[k].unsupported = true;
  }
  qsort(ops, (size_t)nops, sizeof *ops, cmp_count);
  printf("%-12s%d node%s, %d operator type%s\n", "operators", g->nnodes, g->nnodes == 1 ? "" : "s",
         nops, nops == 1 ? "" : "s");
  int w = 4;
  for (int k = 0; k < nops; k++)
    if ((int)strlen(ops[k].name) > w) w = (int)strlen(ops[k].name);
  if (w > 40) w = 40;
  for (int k = 0; k < nops; k++)
    printf("  %-*s %6d%s\n", w, ops[k].name, ops[k].count,
           ops[k].unsupported ? "  (unsupported)" : "");
  free(ops);

  print_count("parameters", count_params(g), "");

  /* FLOPs and placement from a session at the default shapes. */
  int nproblems = 0;
  char session_why[CLCNN_ERR_MAX] = "";
  clcnn_session *s = NULL;
  if (m->problems) {
    snprintf(session_why, sizeof session_why, "the model has unsupported parts");
  } else {
    clcnn_session_options so;
    clcnn_session_options_default(&so);
    so.device = device ? device : "cpu";
    so.strict = strict;
    so.precision = precision;
    if (clcnn_session_create(m, &so, shapes, nshape_args, &s))
      snprintf(session_why, sizeof session_why, "%s", clcnn_last_error());
  }
  if (s) {
    double flops = 0;
    int live = 0, on[SESSION_MAX_BACKENDS] = {0}, transfers = 0, per_run = 0;
    for (int i = 0; i < s->g.nnodes; i++) {
      const ir_node *n = &s->g.nodes[i];
      if (n->dead || n->op < 0) continue;
      live++;
      if (n->per_run) { /* shapes known only when it runs: no FLOPs either */
        per_run++;
        continue;
      }
      if (n->backend >= 0 && n->backend < s->nbackends) on[n->backend]++;
      const op_front *f = op_front_get(n->op);
      if (f && f->flops) flops += f->flops(&s->g, n);
    }
    for (int k = 0; k < s->nsteps; k++) transfers += s->steps[k].kind == STEP_TRANSFER;
    char at_shapes[1024] = "";
    size_t at = 0;
    for (int i = 0; i < m->ninputs && at < sizeof at_shapes; i++) {
      clcnn_tensor t;
      char d[256] = "?";
      if (clcnn_session_input(s, m->inputs[i].name, &t) == CLCNN_OK)
        cli_dims_str(t.rank, t.dims, d, sizeof d);
      at += (size_t)snprintf(at_shapes + at, sizeof at_shapes - at, "%s%s=%s", i ? ", " : "",
                             m->inputs[i].name, d);
    }
    print_count("FLOPs", flops, "FLOP");
    printf("%-12s%s\n", "  at shapes", m->ninputs ? at_shapes : "(no inputs)");
    size_t host = 0, dev = 0;
    char hb[32], db[32], split[256] = "";
    clcnn_session_memory(s, &host, &dev);
    for (int b = 0; b < s->nbackends; b++) {
      size_t l = strlen(split);
      snprintf(split + l, sizeof split - l, "%s%d on %s", b ? ", " : "", on[b], s->backends[b]->name);
    }
    if (per_run) {
      size_t l = strlen(split);
      snprintf(split + l, sizeof split - l, ", %d on cpu per run (data-dependent shapes)",
               per_run);
    }
    printf("%-12s%s: %d live node%s after optimisation (%s), %d transfer%s\n", "session",
           clcnn_session_device(s), live, live == 1 ? "" : "s", split, transfers,
           transfers == 1 ? "" : "s");
    printf("%-12shost %s, device %s\n", "memory", cli_bytes_str((double)host, hb, sizeof hb),
           cli_bytes_str((double)dev, db, sizeof db));
    if (s->precision != CLCNN_PRECISION_FP32) {
      int half_nodes = 0, device_nodes = 0;
      for (int k = 0; k < s->nsteps; k++) {
        const sched_step *sp = &s->steps[k];
        if (sp->kind != STEP_NODE || sp->backend == s->host) continue;
        device_nodes++;
        half_nodes += strcmp(precision_of_node(&s->g, &s->g.nodes[sp->node]), "fp32") != 0;
      }
      printf("%-12s%s: %d of %d device nodes read or write half storage\n", "precision",
             cli_precision_name(s->precision), half_nodes, device_nodes);
    }
    if (device) {
      /* The schedule: which node runs where and why, and every transfer. */
      printf("schedule\n");
      for (int k = 0; k < s->nsteps; k++) {
        const sched_step *sp = &s->steps[k];
        if (sp->kind == STEP_TRANSFER) {
          const ir_value *v = &s->g.values[sp->value];
          char d[128], by[32];
          cli_dims_str(v->t.rank, v->t.dims, d, sizeof d);
          size_t bytes = (size_t)clcnn_tensor_numel(&v->t) * dtype_size(v->t.dtype);
          char route[160];
          snprintf(route, sizeof route, "%s->%s", s->backends[sp->from]->name,
                   s->backends[sp->backend]->name);
          printf("  %-14s %-22s %s %s (%s)%s\n", route, "Transfer", v->name, d,
                 cli_bytes_str((double)bytes, by, sizeof by),
                 sp->input_stage ? "  -- input, skipped while the device holds it" : "");
          continue;
        }
        const ir_node *n = &s->g.nodes[sp->node];
        const char *why = s->fallback_reason ? s->fallback_reason[sp->node] : NULL;
        char prec[32] = ""; /* storage of the node's input and output (--precision) */
        if (s->precision != CLCNN_PRECISION_FP32)
          snprintf(prec, sizeof prec, "  [%s]", precision_of_node(&s->g, n));
        printf("  %-14s %-22s %s%s%s%s\n", s->backends[sp->backend]->name, n->op_type, n->name,
               prec, why ? "  -- " : "", why ? why : "");
      }
      for (int i = 0; i < s->g.nnodes; i++) {
        const ir_node *n = &s->g.nodes[i];
        if (!n->dead && n->per_run)
          printf("  %-14s %-22s %s  -- per run: its shapes depend on the data\n", "cpu",
                 n->op_type, n->name);
      }
    }
    clcnn_session_free(s);
  } else {
    printf("%-12sn/a (%s)\n", "FLOPs", session_why);
  }

  /* Every problem, one per line. */
  if (m->problems) {
    printf("problems\n");
    const char *p = m->problems;
    while (*p) {
      const char *e = strstr(p, "; ");
      size_t len = e ? (size_t)(e - p) : strlen(p);
      printf("  %.*s\n", (int)len, p);
      nproblems++;
      p += len;
      if (e) p += 2;
    }
  } else if (!s && session_why[0]) {
    printf("problems\n  %s\n", session_why);
    nproblems++;
  } else {
    printf("problems    none\n");
  }

  clcnn_model_free(m);
  clcnn_context_free(ctx);
  if (nproblems) {
    cli_error("%s cannot run%s%s: %d problem%s (listed above)", path, device ? " on " : "",
              device ? device : "", nproblems, nproblems == 1 ? "" : "s");
    return CLI_FAIL;
  }
  return CLI_OK;
}
