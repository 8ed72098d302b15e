/* The graph IR: values, nodes, attributes, topological order, copies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static char *dup_str(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static void attr_free(ir_attr *a) {
  free(a->name);
  free(a->s);
  free(a->floats);
  free(a->ints);
  for (size_t i = 0; a->strings && i < a->n; i++) free(a->strings[i]);
  free(a->strings);
  if (a->t) {
    free(a->t->data);
    free(a->t);
  }
  if (a->graph) {
    ir_graph_free(a->graph);
    free(a->graph);
  }
}

static void node_free(ir_node *n) {
  free(n->name);
  free(n->op_type);
  free(n->domain);
  free(n->in);
  free(n->out);
  for (int i = 0; i < n->nattr; i++) attr_free(&n->attr[i]);
  free(n->attr);
  free(n->params);
  free(n->act_params);
}

static void value_free(ir_value *v) {
  free(v->name);
  for (int i = 0; i < CLCNN_MAX_RANK; i++) free(v->dim_names[i]);
  if (v->owns_data) free(v->t.data);
}

void ir_graph_free(ir_graph *g) {
  if (!g) return;
  for (int i = 0; i < g->nvalues; i++) value_free(&g->values[i]);
  for (int i = 0; i < g->nnodes; i++) node_free(&g->nodes[i]);
  free(g->values);
  free(g->nodes);
  free(g->inputs);
  free(g->outputs);
  memset(g, 0, sizeof *g);
}

int ir_add_value(ir_graph *g, const char *name) {
  if (g->nvalues == g->values_cap) {
    int cap = g->values_cap ? g->values_cap * 2 : 64;
    ir_value *nv = realloc(g->values, (size_t)cap * sizeof *nv);
    if (!nv) return -1;
    g->values = nv;
    g->values_cap = cap;
  }
  ir_value *v = &g->values[g->nvalues];
  memset(v, 0, sizeof *v);
  v->name = dup_str(name ? name : "");
  if (!v->name) return -1;
  v->producer = -1;
  for (int i = 0; i < CLCNN_MAX_RANK; i++) v->t.dims[i] = -1;
  return g->nvalues++;
}

int ir_find_value(const ir_graph *g, const char *name) {
  /* Later values shadow earlier ones of the same name (none in valid ONNX). */
  for (int i = g->nvalues - 1; i >= 0; i--)
    if (strcmp(g->values[i].name, name) == 0) return i;
  return -1;
}

int ir_add_node(ir_graph *g, const char *name, const char *op_type, const char *domain, int nin,
                int nout) {
  if (g->nnodes == g->nodes_cap) {
    int cap = g->nodes_cap ? g->nodes_cap * 2 : 64;
    ir_node *nn = realloc(g->nodes, (size_t)cap * sizeof *nn);
    if (!nn) return -1;
    g->nodes = nn;
    g->nodes_cap = cap;
  }
  ir_node *n = &g->nodes[g->nnodes];
  memset(n, 0, sizeof *n);
  char gen[64];
  if (!name || !name[0]) {
    snprintf(gen, sizeof gen, "%s_%d", op_type ? op_type : "node", g->nnodes);
    name = gen;
  }
  n->name = dup_str(name);
  n->op_type = dup_str(op_type ? op_type : "");
  n->domain = dup_str(domain ? domain : "");
  n->in = malloc(sizeof(int) * (size_t)(nin > 0 ? nin : 1));
  n->out = malloc(sizeof(int) * (size_t)(nout > 0 ? nout : 1));
  if (!n->name || !n->op_type || !n->domain || !n->in || !n->out) {
    node_free(n);
    return -1;
  }
  for (int i = 0; i < nin; i++) n->in[i] = -1;
  for (int i = 0; i < nout; i++) n->out[i] = -1;
  n->nin = nin;
  n->nout = nout;
  n->op = -1;
  n->act_op = -1;
  return g->nnodes++;
}

void ir_set_const(ir_value *v, clcnn_dtype dtype, int rank, const int64_t *dims, void *data) {
  if (v->owns_data) free(v->t.data);
  ir_set_shape(v, dtype, rank, dims);
  v->t.data = data;
  v->is_const = true;
  v->owns_data = true;
}

/* Kahn's algorithm; keeps the model's order where it is already valid. */
clcnn_status ir_toposort(ir_graph *g, clcnn_err *err) {
  int nn = g->nnodes;
  clcnn_status st = CLCNN_OK;
  int *producer = malloc(sizeof(int) * (size_t)(g->nvalues ? g->nvalues : 1));
  int *pending = calloc((size_t)(nn ? nn : 1), sizeof(int));
  int *order = malloc(sizeof(int) * (size_t)(nn ? nn : 1));
  bool *done = calloc((size_t)(nn ? nn : 1), sizeof(bool));
  if (!producer || !pending || !order || !done) {
    st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory sorting the graph");
    goto out;
  }
  for (int v = 0; v < g->nvalues; v++) producer[v] = -1;
  for (int i = 0; i < nn; i++)
    for (int o = 0; o < g->nodes[i].nout; o++) {
      int v = g->nodes[i].out[o];
      if (v < 0) continue;
      if (producer[v] >= 0 || g->values[v].is_const || g->values[v].is_input) {
        st = err_set(err, CLCNN_ERROR_INVALID_MODEL,
                     "value '%s' is assigned more than once (node '%s')", g->values[v].name,
                     g->nodes[i].name);
        goto out;
      }
      producer[v] = i;
    }
  for (int i = 0; i < nn; i++)
    for (int k = 0; k < g->nodes[i].nin; k++) {
      int v = g->nodes[i].in[k];
      if (v < 0) continue;
      if (producer[v] < 0 && !g->values[v].is_const && !g->values[v].is_input) {
        st = err_set(err, CLCNN_ERROR_INVALID_MODEL,
                     "node '%s' reads '%s', which no node, initializer or input provides",
                     g->nodes[i].name, g->values[v].name);
        goto out;
      }
    }
  /* Repeatedly take the first node in model order whose inputs are ready:
   * O(n^2) in the worst case, but models are in order already, so one pass. */
  int count = 0;
  bool progress = true;
  while (count < nn && progress) {
    progress = false;
    for (int i = 0; i < nn; i++) {
      if (done[i]) continue;
      bool ready = true;
      for (int k = 0; k < g->nodes[i].nin && ready; k++) {
        int v = g->nodes[i].in[k];
        if (v >= 0 && producer[v] >= 0 && !done[producer[v]]) ready = false;
      }
      if (!ready) continue;
      done[i] = true;
      order[count++] = i;
      progress = true;
    }
  }
  if (count < nn) {
    int first = 0;
    while (done[first]) first++;
    st = err_set(err, CLCNN_ERROR_INVALID_MODEL,
                 "the graph has a cycle (node '%s' depends on its own output)",
                 g->nodes[first].name);
    goto out;
  }
  ir_node *sorted = malloc(sizeof(ir_node) * (size_t)(nn > 0 ? nn : 1));
  if (!sorted) {
    st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory sorting the graph");
    goto out;
  }
  for (int i = 0; i < nn; i++) sorted[i] = g->nodes[order[i]];
  /* g->nodes is NULL in a graph without nodes. */
  if (nn) memcpy(g->nodes, sorted, sizeof(ir_node) * (size_t)nn);
  free(sorted);
  for (int v = 0; v < g->nvalues; v++) g->values[v].producer = -1;
  for (int i = 0; i < nn; i++)
    for (int o = 0; o < g->nodes[i].nout; o++)
      if (g->nodes[i].out[o] >= 0) g->values[g->nodes[i].out[o]].producer = i;
out:
  free(producer);
  free(pending);
  free(order);
  free(done);
  return st;
}

/* ---------------------------------------------------------------- clone */

static clcnn_status attr_clone(const ir_attr *s, ir_attr *d) {
  memset(d, 0, sizeof *d);
  d->type = s->type;
  d->f = s->f;
  d->i = s->i;
  d->n = s->n;
  d->name = dup_str(s->name);
  if (!d->name) return CLCNN_ERROR_OUT_OF_MEMORY;
  if (s->s && !(d->s = dup_str(s->s))) return CLCNN_ERROR_OUT_OF_MEMORY;
  if (s->floats) {
    if (!(d->floats = malloc(sizeof(float) * (s->n ? s->n : 1)))) return CLCNN_ERROR_OUT_OF_MEMORY;
    memcpy(d->floats, s->floats, sizeof(float) * s->n);
  }
  if (s->ints) {
    if (!(d->ints = malloc(sizeof(int64_t) * (s->n ? s->n : 1)))) return CLCNN_ERROR_OUT_OF_MEMORY;
    memcpy(d->ints, s->ints, sizeof(int64_t) * s->n);
  }
  if (s->strings) {
    if (!(d->strings = calloc(s->n ? s->n : 1, sizeof(char *)))) return CLCNN_ERROR_OUT_OF_MEMORY;
    for (size_t i = 0; i < s->n; i++)
      if (!(d->strings[i] = dup_str(s->strings[i]))) return CLCNN_ERROR_OUT_OF_MEMORY;
  }
  if (s->t) {
    if (!(d->t = malloc(sizeof *d->t))) return CLCNN_ERROR_OUT_OF_MEMORY;
    *d->t = *s->t;
    size_t bytes = (size_t)clcnn_tensor_numel(s->t) * dtype_size(s->t->dtype);
    d->t->data = malloc(bytes ? bytes : 1);
    if (!d->t->data) return CLCNN_ERROR_OUT_OF_MEMORY;
    if (bytes) memcpy(d->t->data, s->t->data, bytes);
  }
  if (s->graph) {
    clcnn_err e = {0};
    if (!(d->graph = calloc(1, sizeof *d->graph))) return CLCNN_ERROR_OUT_OF_MEMORY;
    if (ir_graph_clone(s->graph, d->graph, &e) != CLCNN_OK) {
      free(d->graph);
      d->graph = NULL;
      return CLCNN_ERROR_OUT_OF_MEMORY;
    }
  }
  return CLCNN_OK;
}

clcnn_status ir_node_copy_attrs(ir_node *dst, const ir_node *src) {
  if (!src->nattr) return CLCNN_OK;
  dst->attr = calloc((size_t)src->nattr, sizeof(ir_attr));
  if (!dst->attr) return CLCNN_ERROR_OUT_OF_MEMORY;
  for (int a = 0; a < src->nattr; a++) {
    dst->nattr = a + 1;
    if (attr_clone(&src->attr[a], &dst->attr[a]) != CLCNN_OK) return CLCNN_ERROR_OUT_OF_MEMORY;
  }
  return CLCNN_OK;
}

/* Appends a copy of value `s` to dst (constant data shared, not owned);
 * its index, or -1 (out of memory). */
static int copy_value(ir_graph *dst, const ir_value *s) {
  int k = ir_add_value(dst, s->name);
  if (k < 0) return -1;
  ir_value *d = &dst->values[k];
  char *name = d->name;
  *d = *s;
  d->name = name;
  d->owns_data = false;
  for (int j = 0; j < CLCNN_MAX_RANK; j++) {
    d->dim_names[j] = NULL;
    if (s->dim_names[j] && !(d->dim_names[j] = dup_str(s->dim_names[j]))) return -1;
  }
  return k;
}

/* Appends a copy of node `s` (attributes and params copied); its inputs and
 * outputs are s's through `vmap` (NULL: the same indices). */
static int copy_node(ir_graph *dst, const ir_node *s, const int *vmap) {
  int k = ir_add_node(dst, s->name, s->op_type, s->domain, s->nin, s->nout);
  if (k < 0) return -1;
  ir_node *d = &dst->nodes[k];
  for (int i = 0; i < s->nin; i++) d->in[i] = vmap && s->in[i] >= 0 ? vmap[s->in[i]] : s->in[i];
  for (int i = 0; i < s->nout; i++)
    d->out[i] = vmap && s->out[i] >= 0 ? vmap[s->out[i]] : s->out[i];
  d->op = s->op;
  d->opset = s->opset;
  d->act_op = s->act_op;
  d->backend = s->backend;
  d->dead = s->dead;
  if (ir_node_copy_attrs(d, s) != CLCNN_OK) return -1;
  const op_front *f = s->op >= 0 ? op_front_get(s->op) : NULL;
  if (s->params && f && f->params_size) {
    if (!(d->params = malloc(f->params_size))) return -1;
    memcpy(d->params, s->params, f->params_size);
  }
  const op_front *af = s->act_op >= 0 ? op_front_get(s->act_op) : NULL;
  if (s->act_params && af && af->params_size) {
    if (!(d->act_params = malloc(af->params_size))) return -1;
    memcpy(d->act_params, s->act_params, af->params_size);
  }
  return k;
}

clcnn_status ir_graph_clone(const ir_graph *src, ir_graph *dst, clcnn_err *err) {
  memset(dst, 0, sizeof *dst);
  dst->opset = src->opset;
  dst->ir_version = src->ir_version;
  dst->max_elements = src->max_elements;
  for (int i = 0; i < src->nvalues; i++)
    if (copy_value(dst, &src->values[i]) < 0) goto oom;
  for (int i = 0; i < src->nnodes; i++)
    if (copy_node(dst, &src->nodes[i], NULL) < 0) goto oom;
  if (src->ninputs) {
    if (!(dst->inputs = malloc(sizeof(int) * (size_t)src->ninputs))) goto oom;
    memcpy(dst->inputs, src->inputs, sizeof(int) * (size_t)src->ninputs);
  }
  dst->ninputs = src->ninputs;
  dst->nformal = src->nformal;
  if (src->noutputs) {
    if (!(dst->outputs = malloc(sizeof(int) * (size_t)src->noutputs))) goto oom;
    memcpy(dst->outputs, src->outputs, sizeof(int) * (size_t)src->noutputs);
  }
  dst->noutputs = src->noutputs;
  return CLCNN_OK;
oom:
  ir_graph_free(dst);
  return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory copying the graph");
}

clcnn_status ir_graph_extract(const ir_graph *src, const bool *keep, ir_graph *dst, int **map,
                              clcnn_err *err) {
  memset(dst, 0, sizeof *dst);
  *map = NULL;
  dst->opset = src->opset;
  dst->ir_version = src->ir_version;
  dst->max_elements = src->max_elements;
  int nv = src->nvalues ? src->nvalues : 1;
  int *vmap = malloc(sizeof(int) * (size_t)nv);
  bool *written = calloc((size_t)nv, sizeof(bool));
  if (!vmap || !written) goto oom;
  for (int v = 0; v < src->nvalues; v++) vmap[v] = -1;
  for (int i = 0; i < src->nnodes; i++) {
    const ir_node *n = &src->nodes[i];
    if (!keep[i]) continue;
    for (int pass = 0; pass < 2; pass++)
      for (int k = 0; k < (pass ? n->nout : n->nin); k++) {
        int v = pass ? n->out[k] : n->in[k];
        if (v < 0) continue;
        if (pass) written[v] = true;
        if (vmap[v] < 0 && (vmap[v] = copy_value(dst, &src->values[v])) < 0) goto oom;
      }
  }
  if (!(*map = malloc(sizeof(int) * (size_t)(dst->nvalues ? dst->nvalues : 1)))) goto oom;
  if (!(dst->inputs = malloc(sizeof(int) * (size_t)(dst->nvalues ? dst->nvalues : 1)))) goto oom;
  if (!(dst->outputs = malloc(sizeof(int) * (size_t)(dst->nvalues ? dst->nvalues : 1)))) goto oom;
  for (int v = 0; v < src->nvalues; v++) {
    if (vmap[v] < 0) continue;
    ir_value *d = &dst->values[vmap[v]];
    (*map)[vmap[v]] = v;
    d->producer = -1;
    d->is_input = !written[v] && !d->is_const;
    d->is_output = written[v] && src->values[v].is_output;
    if (d->is_input) dst->inputs[dst->ninputs++] = vmap[v];
    if (d->is_output) dst->outputs[dst->noutputs++] = vmap[v];
  }
  for (int i = 0; i < src->nnodes; i++) {
    if (!keep[i]) continue;
    int k = copy_node(dst, &src->nodes[i], vmap);
    if (k < 0) goto oom;
    for (int j = 0; j < dst->nodes[k].nout; j++)
      if (dst->nodes[k].out[j] >= 0) dst->values[dst->nodes[k].out[j]].producer = k;
  }
  free(vmap);
  free(written);
  return CLCNN_OK;
oom:
  free(vmap);
  free(written);
  free(*map);
  *map = NULL;
  ir_graph_free(dst);
  return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory copying the graph");
}

/* ------------------------------------------------------------ attributes */

const ir_attr *ir_attr_find(const ir_node *n, const char *name) {
  for (int i = 0; i < n->nattr; i++)
    if (strcmp(n->attr[i].name, name) == 0) return &n->attr[i];
  return NULL;
}

int64_t ir_attr_int(const ir_node *n, const char *name, int64_t def) {
  const ir_attr *a = ir_attr_find(n, name);
  return (a && a->type == IR_ATTR_INT) ? a->i : def;
}

float ir_attr_float(const ir_node *n, const char *name, float def) {
  const ir_attr *a = ir_attr_find(n, name);
  if (a && a->type == IR_ATTR_FLOAT) return a->f;
  if (a && a->type == IR_ATTR_INT) return (float)a->i;
  return def;
}

const char *ir_attr_string(const ir_node *n, const char *name, const char *def) {
  const ir_attr *a = ir_attr_find(n, name);
  return (a && a->type == IR_ATTR_STRING && a->s) ? a->s : def;
}

int ir_attr_ints(const ir_node *n, const char *name, int64_t *out, int max) {
  const ir_attr *a = ir_attr_find(n, name);
  if (!a || a->type != IR_ATTR_INTS) return -1;
  if (a->n > (size_t)max) return -2;
  for (size_t i = 0; i < a->n; i++) out[i] = a->ints[i];
  return (int)a->n;
}

int ir_attr_floats(const ir_node *n, const char *name, float *out, int max) {
  const ir_attr *a = ir_attr_find(n, name);
  if (!a || a->type != IR_ATTR_FLOATS) return -1;
  if (a->n > (size_t)max) return -2;
  for (size_t i = 0; i < a->n; i++) out[i] = a->floats[i];
  return (int)a->n;
}
