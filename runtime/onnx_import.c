/* ONNX import: protobuf-c structures (generated from the system's onnx.proto)
 * into the graph IR. Everything read from the file is untrusted: sizes are
 * checked before they are used, and any problem is an error status. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "onnx.pb-c.h"
#include "onnx_io.h"

static bool dims_valid(size_t n, const int64_t *dims, int64_t *numel) {
  return n <= CLCNN_MAX_RANK && shape_numel_checked((int)n, dims, numel);
}

/* Resolves an external data location against the model directory: only
 * relative paths that stay inside it (no "..", no absolute path, no symlink
 * that leads out) are accepted. */
static clcnn_status external_path(const char *base_dir, const char *location, char *out,
                                  size_t len, clcnn_err *err) {
  if (!base_dir)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                   "tensor data is in an external file '%s', but the model was loaded from "
                   "memory without a base directory", location);
  if (!location[0] || location[0] == '/' || strstr(location, "\\"))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                   "external data path '%s' must be relative to the model's directory", location);
  /* Reject any ".." path component. */
  for (const char *p = location; *p;) {
    const char *e = strchr(p, '/');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                     "external data path '%s' leaves the model's directory", location);
    p += n;
    while (*p == '/') p++;
  }
  char joined[PATH_MAX];
  if ((size_t)snprintf(joined, sizeof joined, "%s/%s", base_dir, location) >= sizeof joined)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "external data path '%s' is too long", location);
  char real_base[PATH_MAX], real_file[PATH_MAX];
  if (!realpath(base_dir, real_base) || !realpath(joined, real_file))
    return err_set(err, CLCNN_ERROR_IO, "cannot open external data file '%s': %s", joined,
                   strerror(errno));
  size_t bl = strlen(real_base);
  if (strncmp(real_file, real_base, bl) != 0 || (real_file[bl] != '/' && bl > 1))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                   "external data path '%s' resolves outside the model's directory", location);
  if (strlen(real_file) + 1 > len)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "external data path '%s' is too long", location);
  strcpy(out, real_file);
  return CLCNN_OK;
}

static clcnn_status read_external(const Onnx__TensorProto *tp, const char *base_dir, void *dst,
                                  size_t bytes, clcnn_err *err) {
  const char *location = NULL;
  int64_t offset = 0, length = -1;
  for (size_t i = 0; i < tp->n_external_data; i++) {
    const Onnx__StringStringEntryProto *kv = tp->external_data[i];
    if (!kv->key || !kv->value) continue;
    if (strcmp(kv->key, "location") == 0) location = kv->value;
    else if (strcmp(kv->key, "offset") == 0) offset = strtoll(kv->value, NULL, 10);
    else if (strcmp(kv->key, "length") == 0) length = strtoll(kv->value, NULL, 10);
  }
  if (!location) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "external data has no location");
  if (offset < 0 || (length >= 0 && (size_t)length != bytes))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                   "external data '%s': offset %lld / length %lld do not fit %zu bytes", location,
                   (long long)offset, (long long)length, bytes);
  char path[PATH_MAX];
  clcnn_status st = external_path(base_dir, location, path, sizeof path, err);
  if (st) return st;
  FILE *f = fopen(path, "rb");
  if (!f) return err_set(err, CLCNN_ERROR_IO, "cannot open external data file '%s'", path);
  st = CLCNN_OK;
  if (fseeko(f, (off_t)offset, SEEK_SET) != 0 || fread(dst, 1, bytes, f) != bytes)
    st = err_set(err, CLCNN_ERROR_INVALID_MODEL,
                 "external data file '%s' is shorter than offset %lld + %zu bytes", path,
                 (long long)offset, bytes);
  fclose(f);
  return st;
}

/* take: tp is the caller's own decoded message, decoded once: its raw data
 * (malloc'd by protobuf-c) becomes the tensor's instead of being copied. */
static clcnn_status tensor_decode(Onnx__TensorProto *tp, const char *base_dir, bool take,
                                  clcnn_tensor *out, clcnn_err *err) {
  memset(out, 0, sizeof *out);
  const char *name = tp->name ? tp->name : "";
  clcnn_dtype dt = (clcnn_dtype)tp->data_type;
  size_t es = dtype_size(dt);
  /* Sub-byte types are stored packed (the first element in the lowest bits)
   * and held one element per byte (clcnn.h). */
  const int bits = dtype_packed_bits(dt);
  if (!es)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "tensor '%s' has unsupported data type %d", name,
                   tp->data_type);
  int64_t numel;
  if (!dims_valid(tp->n_dims, tp->dims, &numel))
    return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                   "tensor '%s' has an invalid shape (rank %zu, negative or huge dims)", name,
                   tp->n_dims);
  size_t n = (size_t)numel;
  size_t bytes = bits ? (n * (size_t)bits + 7) / 8 : n * es; /* as stored */
  bool external =
      tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  /* Check the size of inline data before allocating, so that a few bytes of
   * hostile model cannot make the loader reserve gigabytes. */
  size_t have = 0;
  if (!external && tp->has_raw_data) {
    if (tp->raw_data.len != bytes)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                     "tensor '%s' has %zu bytes of raw data, its shape needs %zu", name,
                     tp->raw_data.len, bytes);
  } else if (!external) {
    switch (dt) {
      case CLCNN_DTYPE_FLOAT32: have = tp->n_float_data; break;
      case CLCNN_DTYPE_INT64: have = tp->n_int64_data; break;
      case CLCNN_DTYPE_FLOAT64: have = tp->n_double_data; break;
      case CLCNN_DTYPE_UINT32:
      case CLCNN_DTYPE_UINT64: have = tp->n_uint64_data; break;
      case CLCNN_DTYPE_INT32:
      case CLCNN_DTYPE_INT8:
      case CLCNN_DTYPE_UINT8:
      case CLCNN_DTYPE_INT16:
      case CLCNN_DTYPE_UINT16:
      case CLCNN_DTYPE_BOOL:
      case CLCNN_DTYPE_FLOAT16:
      case CLCNN_DTYPE_BFLOAT16:
      case CLCNN_DTYPE_FLOAT8E4M3FN:
      case CLCNN_DTYPE_FLOAT8E4M3FNUZ:
      case CLCNN_DTYPE_FLOAT8E5M2:
      case CLCNN_DTYPE_FLOAT8E5M2FNUZ:
      case CLCNN_DTYPE_FLOAT8E8M0: have = tp->n_int32_data; break;
      case CLCNN_DTYPE_INT4:
      case CLCNN_DTYPE_UINT4:
      case CLCNN_DTYPE_INT2:
      case CLCNN_DTYPE_UINT2:
      case CLCNN_DTYPE_FLOAT4E2M1: have = tp->n_int32_data; break; /* one packed byte each */
      default: break;
    }
    if (have != (bits ? bytes : n))
      return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                     "tensor '%s' has %zu values, its shape needs %zu", name, have, n);
  }
  void *data = NULL;
  const bool taken = take && !external && tp->has_raw_data && !bits && bytes && tp->raw_data.data;
  if (taken) {
    data = tp->raw_data.data;
    tp->raw_data.data = NULL; /* free_unpacked skips it */
    tp->raw_data.len = 0;
    tp->has_raw_data = 0;
  } else if (!(data = malloc(bytes ? bytes : 1))) {
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory for tensor '%s' (%zu bytes)",
                   name, bytes);
  }
  clcnn_status st = CLCNN_OK;
  if (taken) {
    /* nothing to copy */
  } else if (external) {
    st = read_external(tp, base_dir, data, bytes, err);
  } else if (tp->has_raw_data) {
    if (bytes) memcpy(data, tp->raw_data.data, bytes);
  } else {
    switch (dt) {
      case CLCNN_DTYPE_FLOAT32:
        if (bytes) memcpy(data, tp->float_data, bytes);
        break;
      case CLCNN_DTYPE_INT64:
        if (bytes) memcpy(data, tp->int64_data, bytes);
        break;
      case CLCNN_DTYPE_FLOAT64:
        if (bytes) memcpy(data, tp->double_data, bytes);
        break;
      case CLCNN_DTYPE_UINT64:
        if (bytes) memcpy(data, tp->uint64_data, bytes);
        break;
      case CLCNN_DTYPE_UINT32:
        for (size_t i = 0; i < n; i++) ((uint32_t *)data)[i] = (uint32_t)tp->uint64_data[i];
        break;
      default:
        for (size_t i = 0; i < (bits ? bytes : n); i++) {
          int32_t v = tp->int32_data[i];
          if (es == 4) ((int32_t *)data)[i] = v;
          else if (es == 2) ((uint16_t *)data)[i] = (uint16_t)v;
          else ((uint8_t *)data)[i] = (uint8_t)v;
        }
        break;
    }
  }
  if (st == CLCNN_OK && bits) { /* widen in place, from the end */
    void *w = realloc(data, n ? n : 1);
    if (!w) st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory for tensor '%s'", name);
    else data = w;
    if (st == CLCNN_OK) {
      bool sign = dt == CLCNN_DTYPE_INT4 || dt == CLCNN_DTYPE_INT2;
      uint8_t *p = data;
      for (size_t i = n; i-- > 0;) {
        unsigned v = (p[i * (size_t)bits / 8] >> (i * (size_t)bits % 8)) & ((1u << bits) - 1);
        p[i] = (uint8_t)(sign && (v >> (bits - 1)) ? v | (0xffu << bits) : v);
      }
    }
  }
  if (st) {
    free(data);
    return st;
  }
  out->dtype = dt;
  out->rank = (int)tp->n_dims;
  for (size_t i = 0; i < tp->n_dims; i++) out->dims[i] = tp->dims[i];
  out->data = data;
  return CLCNN_OK;
}

clcnn_status onnx_tensor_decode(const void *proto, const char *base_dir, clcnn_tensor *out,
                                clcnn_err *err) {
  /* Not taken: the caller's message may be decoded again. */
  return tensor_decode((Onnx__TensorProto *)proto, base_dir, false, out, err);
}

/* ------------------------------------------------------------ attributes */

static char *dup_bytes(const uint8_t *p, size_t n) {
  char *s = malloc(n + 1);
  if (!s) return NULL;
  if (n) memcpy(s, p, n);
  s[n] = 0;
  return s;
}

/* Subgraphs nest at most this deep (an If inside a branch of an If...):
 * a hostile model cannot exhaust the stack. */
#define MAX_SUBGRAPH_DEPTH 16

static clcnn_status import_body(const Onnx__GraphProto *gp, const char *base_dir, ir_graph *g,
                                int depth, clcnn_err *err, clcnn_err *problems);

static clcnn_status import_attr(const Onnx__AttributeProto *ap, ir_attr *a, const char *base_dir,
                                int opset, int depth, clcnn_err *err, clcnn_err *problems) {
  memset(a, 0, sizeof *a);
  a->name = dup_bytes((const uint8_t *)(ap->name ? ap->name : ""), strlen(ap->name ? ap->name : ""));
  if (!a->name) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  if (ap->ref_attr_name && ap->ref_attr_name[0])
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "attribute '%s' refers to a function attribute", a->name);
  a->type = ap->has_type ? (ir_attr_type)ap->type : IR_ATTR_UNDEFINED;
  switch (a->type) {
    case IR_ATTR_FLOAT: a->f = ap->f; break;
    case IR_ATTR_INT: a->i = ap->i; break;
    case IR_ATTR_STRING:
      if (!(a->s = dup_bytes(ap->s.data, ap->s.len)))
        return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      break;
    case IR_ATTR_FLOATS:
      a->n = ap->n_floats;
      if (!(a->floats = malloc(sizeof(float) * (a->n ? a->n : 1))))
        return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      if (a->n) memcpy(a->floats, ap->floats, sizeof(float) * a->n);
      break;
    case IR_ATTR_INTS:
      a->n = ap->n_ints;
      if (!(a->ints = malloc(sizeof(int64_t) * (a->n ? a->n : 1))))
        return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      if (a->n) memcpy(a->ints, ap->ints, sizeof(int64_t) * a->n);
      break;
    case IR_ATTR_STRINGS:
      a->n = ap->n_strings;
      if (!(a->strings = calloc(a->n ? a->n : 1, sizeof(char *))))
        return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      for (size_t i = 0; i < a->n; i++)
        if (!(a->strings[i] = dup_bytes(ap->strings[i].data, ap->strings[i].len)))
          return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      break;
    case IR_ATTR_TENSOR: {
      if (!ap->t) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "tensor attribute without a tensor");
      if (!(a->t = calloc(1, sizeof *a->t)))
        return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      clcnn_status st = onnx_tensor_decode(ap->t, base_dir, a->t, err);
      if (st) return st;
      break;
    }
    case IR_ATTR_GRAPH: {
      /* A subgraph (If's branches): imported whole; its nodes are parsed
       * only when a branch is inlined (runtime/ops/control.c), so that a
       * branch that is never taken cannot make the model fail. */
      if (!ap->g) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "graph attribute without a graph");
      if (depth >= MAX_SUBGRAPH_DEPTH)
        return err_set(err, CLCNN_ERROR_UNSUPPORTED, "subgraphs nest more than %d deep",
                       MAX_SUBGRAPH_DEPTH);
      if (!(a->graph = calloc(1, sizeof *a->graph)))
        return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      a->graph->opset = opset;
      clcnn_err e = {0};
      clcnn_status st = import_body(ap->g, base_dir, a->graph, depth + 1, &e, problems);
      if (st) return err_set(err, st, "subgraph '%s': %s", a->name, e.msg);
      break;
    }
    default:
      /* Sparse tensors, type protos and lists of graphs/tensors: recorded by
       * type so that front halves can refuse them by name. */
      break;
  }
  return CLCNN_OK;
}

/* ------------------------------------------------------------ the graph */

static int value_for_name(ir_graph *g, const char *name) {
  int v = ir_find_value(g, name);
  return v >= 0 ? v : ir_add_value(g, name);
}

static clcnn_status import_type(const Onnx__ValueInfoProto *vi, ir_value *v, bool keep_dims,
                                clcnn_err *err) {
  if (!vi->type) return CLCNN_OK; /* outputs may omit types */
  if (vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !vi->type->tensor_type)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "'%s' is not a dense tensor (sequences, maps and optionals are not supported)",
                   vi->name ? vi->name : "");
  const Onnx__TypeProto__Tensor *tt = vi->type->tensor_type;
  if (tt->has_elem_type) v->t.dtype = (clcnn_dtype)tt->elem_type;
  if (!keep_dims || !tt->shape) return CLCNN_OK;
  if (tt->shape->n_dim > CLCNN_MAX_RANK)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "'%s' has rank %zu; at most %d is supported",
                   v->name, tt->shape->n_dim, CLCNN_MAX_RANK);
  v->t.rank = (int)tt->shape->n_dim;
  for (size_t i = 0; i < tt->shape->n_dim; i++) {
    const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
    v->t.dims[i] = -1;
    if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
      /* -1 is not valid ONNX, but exporters write it (PaddlePaddle) for an
       * open dimension and onnxruntime reads it so: so do we. */
      if (d->dim_value == -1) continue;
      if (d->dim_value < 0 || d->dim_value > CLCNN_MAX_ELEMENTS)
        return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'%s' has an invalid dimension %lld",
                       v->name, (long long)d->dim_value);
      v->t.dims[i] = d->dim_value;
    } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && d->dim_param) {
      free(v->dim_names[i]);
      v->dim_names[i] = dup_bytes((const uint8_t *)d->dim_param, strlen(d->dim_param));
    }
  }
  return CLCNN_OK;
}

/* The values a subgraph reads that nothing in it defines (no initializer,
 * no node output) belong to an enclosing graph: they become its inputs. */
static clcnn_status collect_outer_values(ir_graph *g, clcnn_err *err) {
  bool *made = calloc((size_t)(g->nvalues ? g->nvalues : 1), sizeof(bool));
  int *inputs = realloc(g->inputs, sizeof(int) * (size_t)(g->nvalues ? g->nvalues : 1));
  if (!made || !inputs) {
    free(made);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  g->inputs = inputs;
  for (int i = 0; i < g->nnodes; i++)
    for (int k = 0; k < g->nodes[i].nout; k++)
      if (g->nodes[i].out[k] >= 0) made[g->nodes[i].out[k]] = true;
  for (int v = 0; v < g->nvalues; v++) {
    ir_value *val = &g->values[v];
    if (made[v] || val->is_const || val->is_input) continue;
    val->is_input = true;
    g->inputs[g->ninputs++] = v;
  }
  free(made);
  return CLCNN_OK;
}

/* If node k of g reads, after its condition, every outer value that its
 * branches read, in the order of control_if_outer_name() (a Loop after its
 * own inputs, those its body reads): so that the outer graph's order puts
 * their producers first. */
static clcnn_status add_implicit_inputs(ir_graph *g, int k, clcnn_err *err) {
  const bool loop = g->nodes[k].op == CLCNN_OP_LOOP;
  int extra = loop ? control_loop_outer_count(&g->nodes[k]) : control_if_outer_count(&g->nodes[k]);
  if (!extra) return CLCNN_OK;
  ir_node *n = &g->nodes[k];
  int *in = realloc(n->in, sizeof(int) * (size_t)(n->nin + extra));
  if (!in) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  n->in = in;
  for (int p = 0; p < extra; p++) {
    int v = value_for_name(g, loop ? control_loop_outer_name(&g->nodes[k], p)
                                   : control_if_outer_name(&g->nodes[k], p));
    if (v < 0) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    n = &g->nodes[k];
    n->in[n->nin++] = v;
  }
  return CLCNN_OK;
}

static clcnn_status import_graph(const Onnx__ModelProto *mp, const char *base_dir, ir_graph *g,
                                 clcnn_err *err, clcnn_err *problems) {
  const Onnx__GraphProto *gp = mp->graph;
  /* Opsets: the default domain is what we run; other domains are only an
   * error if a node uses them (reported per node below). */
  g->opset = -1;
  for (size_t i = 0; i < mp->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *os = mp->opset_import[i];
    if (!os->domain || !os->domain[0] || strcmp(os->domain, "ai.onnx") == 0)
      g->opset = (int)(os->has_version ? os->version : 1);
  }
  if (g->opset < 0) {
    if (mp->n_opset_import == 0 && mp->ir_version < 3) g->opset = 1;
    else
      return err_set(err, mp->n_opset_import ? CLCNN_ERROR_UNSUPPORTED : CLCNN_ERROR_INVALID_MODEL,
                     "the model imports no default-domain (ai.onnx) opset; only the default "
                     "domain is supported");
  }
  /* Opsets 23 to 25 only add element types (float8, int4...) to the
   * operators clcnn runs; their float32/int64 semantics are those of 22. */
  if (g->opset < 7 || g->opset > 27)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED,
                   "default-domain opset %d is not supported (7 to 27 are)", g->opset);
  g->ir_version = mp->has_ir_version ? mp->ir_version : 0;
  return import_body(gp, base_dir, g, 0, err, problems);
}

/* A graph's initializers, inputs, nodes and outputs into g (g->opset set).
 * A subgraph (depth > 0) may read values of the enclosing graphs by name:
 * those become its inputs (g->inputs, is_input), in order of first use, and
 * an If node lists the outer values its branches read after its condition,
 * so that the outer graph's order puts their producers first. */
static clcnn_status import_body(const Onnx__GraphProto *gp, const char *base_dir, ir_graph *g,
                                int depth, clcnn_err *err, clcnn_err *problems) {
  clcnn_status st;
  const bool sub = depth > 0;
  for (size_t i = 0; i < gp->n_initializer; i++) {
    const Onnx__TensorProto *tp = gp->initializer[i];
    if (!tp->name || !tp->name[0])
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "initializer %zu has no name", i);
    if (ir_find_value(g, tp->name) >= 0)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "initializer '%s' is defined twice", tp->name);
    int v = ir_add_value(g, tp->name);
    if (v < 0) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    clcnn_tensor t;
    /* The message is onnx_import_model's own (const here only to read),
     * and each initializer is decoded once: its bytes are taken. */
    st = tensor_decode((Onnx__TensorProto *)tp, base_dir, true, &t, err);
    if (st) return st;
    ir_set_const(&g->values[v], t.dtype, t.rank, t.dims, t.data);
  }
  if (gp->n_sparse_initializer)
    err_append(problems, CLCNN_ERROR_UNSUPPORTED, "sparse initializers are not supported");

  g->inputs = malloc(sizeof(int) * (gp->n_input ? gp->n_input : 1));
  if (!g->inputs) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  for (size_t i = 0; i < gp->n_input; i++) {
    const Onnx__ValueInfoProto *vi = gp->input[i];
    if (!vi->name || !vi->name[0])
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "graph input %zu has no name", i);
    int v = ir_find_value(g, vi->name);
    if (v >= 0 && g->values[v].is_const) continue; /* an initializer listed as input */
    if (v >= 0)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "graph input '%s' is listed twice", vi->name);
    v = ir_add_value(g, vi->name);
    if (v < 0) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    g->values[v].is_input = true;
    st = import_type(vi, &g->values[v], true, err);
    if (st) return st;
    if (sub) { /* a Loop body's: its values are bound at each iteration */
      g->inputs[g->ninputs++] = v;
      continue;
    }
    if (!vi->type)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "graph input '%s' has no type", vi->name);
    if (!dtype_size(g->values[v].t.dtype))
      return err_set(err, CLCNN_ERROR_UNSUPPORTED, "graph input '%s' has unsupported type %d",
                     vi->name, (int)g->values[v].t.dtype);
    g->inputs[g->ninputs++] = v;
  }
  g->nformal = g->ninputs;

  for (size_t i = 0; i < gp->n_node; i++) {
    const Onnx__NodeProto *np = gp->node[i];
    if (!np->op_type)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "node %zu has no operator type", i);
    int k = ir_add_node(g, np->name, np->op_type, np->domain, (int)np->n_input, (int)np->n_output);
    if (k < 0) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    ir_node *n = &g->nodes[k];
    for (size_t j = 0; j < np->n_input; j++) {
      if (!np->input[j] || !np->input[j][0]) continue; /* omitted optional input */
      int v = value_for_name(g, np->input[j]);
      if (v < 0) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      n = &g->nodes[k];
      n->in[j] = v;
    }
    for (size_t j = 0; j < np->n_output; j++) {
      if (!np->output[j] || !np->output[j][0]) continue;
      int v = value_for_name(g, np->output[j]);
      if (v < 0) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      n = &g->nodes[k];
      n->out[j] = v;
    }
    if (np->n_attribute) {
      n->attr = calloc(np->n_attribute, sizeof(ir_attr));
      if (!n->attr) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      for (size_t j = 0; j < np->n_attribute; j++) {
        n->nattr = (int)j + 1;
        st = import_attr(np->attribute[j], &n->attr[j], base_dir, g->opset, depth, err, problems);
        n = &g->nodes[k];
        if (st == CLCNN_ERROR_UNSUPPORTED) {
          err_append(problems, st, "node '%s' (%s): %s", n->name, n->op_type, err->msg);
          err->status = CLCNN_OK;
          err->msg[0] = 0;
        } else if (st) {
          char why[CLCNN_ERR_MAX];
          snprintf(why, sizeof why, "%s", err->msg);
          return err_set(err, st, "node '%s' (%s): %s", n->name, n->op_type, why);
        }
      }
    }
    n->op = op_lookup(n->domain, n->op_type);
    n->opset = g->opset;
    if ((n->op == CLCNN_OP_IF || n->op == CLCNN_OP_LOOP) && (st = add_implicit_inputs(g, k, err)))
      return st;
  }

  g->outputs = malloc(sizeof(int) * (gp->n_output ? gp->n_output : 1));
  if (!g->outputs) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  for (size_t i = 0; i < gp->n_output; i++) {
    const Onnx__ValueInfoProto *vi = gp->output[i];
    if (sub) { /* a branch may return an outer value as it is */
      int v = vi->name && vi->name[0] ? value_for_name(g, vi->name) : -1;
      if (v < 0)
        return err_set(err, CLCNN_ERROR_INVALID_MODEL, "subgraph output %zu has no name", i);
      g->outputs[g->noutputs++] = v;
      continue;
    }
    int v = vi->name ? ir_find_value(g, vi->name) : -1;
    if (v < 0)
      return err_set(err, CLCNN_ERROR_INVALID_MODEL, "graph output '%s' is produced by no node",
                     vi->name ? vi->name : "");
    g->values[v].is_output = true;
    if (vi->type && vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
      err_append(problems, CLCNN_ERROR_UNSUPPORTED,
                 "graph output '%s' is not a dense tensor (sequences, maps and optionals are "
                 "not supported)", vi->name);
    /* Keep the declared symbolic names for describing the model; the shape
     * itself comes from inference. */
    if (vi->type && vi->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
        vi->type->tensor_type && vi->type->tensor_type->shape &&
        !g->values[v].is_const && !g->values[v].is_input) {
      ir_value tmp;
      memset(&tmp, 0, sizeof tmp);
      tmp.name = g->values[v].name;
      st = import_type(vi, &tmp, true, err);
      if (st == CLCNN_OK) {
        g->values[v].t.rank = tmp.t.rank;
        for (int d = 0; d < CLCNN_MAX_RANK; d++) {
          g->values[v].t.dims[d] = d < tmp.t.rank ? tmp.t.dims[d] : -1;
          free(g->values[v].dim_names[d]);
          g->values[v].dim_names[d] = tmp.dim_names[d];
        }
        if (tmp.t.dtype) g->values[v].t.dtype = tmp.t.dtype;
      } else {
        for (int d = 0; d < CLCNN_MAX_RANK; d++) free(tmp.dim_names[d]);
        return st;
      }
    }
    g->outputs[g->noutputs++] = v;
  }
  if (g->noutputs == 0)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "the graph has no outputs");
  if (sub && (st = collect_outer_values(g, err))) return st;
  return ir_toposort(g, err);
}

/* Front-half parse of every node; every problem is collected, not only the
 * first, so that a user sees the whole list at once. */
static void parse_nodes(ir_graph *g, clcnn_err *problems) {
  for (int i = 0; i < g->nnodes; i++) {
    ir_node *n = &g->nodes[i];
    if (n->op < 0) {
      if (n->domain[0] && strcmp(n->domain, "ai.onnx") != 0)
        err_append(problems, CLCNN_ERROR_UNSUPPORTED,
                   "node '%s': operator %s of domain '%s' is not supported", n->name, n->op_type,
                   n->domain);
      else
        err_append(problems, CLCNN_ERROR_UNSUPPORTED, "node '%s': operator %s is not supported",
                   n->name, n->op_type);
      continue;
    }
    /* An attribute no version of the operator defines is a mistake (a
     * misspelt `perm` would silently give the default); onnxruntime
     * refuses such nodes too. */
    int bad = -1;
    for (int j = 0; j < n->nattr && bad < 0; j++)
      if (n->attr[j].name && !op_attr_known(n->op, n->attr[j].name)) bad = j;
    if (bad >= 0) {
      char known[512];
      op_attr_list(n->op, known, sizeof known);
      err_append(problems, CLCNN_ERROR_INVALID_MODEL,
                 "node '%s' (%s): unknown attribute '%s' (%s takes: %s)", n->name, n->op_type,
                 n->attr[bad].name, n->op_type, known);
      n->op = -1; /* never reaches a backend */
      continue;
    }
    const op_front *f = op_front_get(n->op);
    if (f->params_size && !n->params) {
      n->params = calloc(1, f->params_size);
      if (!n->params) {
        err_append(problems, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
        return;
      }
    }
    clcnn_err e = {0};
    clcnn_status st = f->parse(g, n, &e);
    if (st) {
      err_append(problems, st, "node '%s' (%s): %s", n->name, n->op_type, e.msg);
      n->op = -1; /* never reaches a backend */
    }
  }
}

clcnn_status onnx_import_model(const void *data, size_t size, void *owned, const char *base_dir,
                               ir_graph *g, clcnn_err *problems, clcnn_err *err) {
  memset(g, 0, sizeof *g);
  if (!data || size == 0) {
    free(owned);
    return err_set(err, CLCNN_ERROR_INVALID_MODEL, "the model is empty");
  }
  Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, size, data);
  free(owned);
  if (!mp)
    return err_set(err, CLCNN_ERROR_INVALID_MODEL,
                   "not a valid ONNX model (the protobuf does not decode: truncated or corrupt)");
  clcnn_status st = CLCNN_OK;
  if (!mp->graph) {
    st = err_set(err, CLCNN_ERROR_INVALID_MODEL, "the model has no graph");
  } else {
    st = import_graph(mp, base_dir, g, err, problems);
    if (st == CLCNN_OK) parse_nodes(g, problems);
  }
  onnx__model_proto__free_unpacked(mp, NULL);
  if (st) ir_graph_free(g);
  return st;
}

/* ------------------------------------------------------- tensor files */

clcnn_status onnx_read_file(const char *path, void **data, size_t *size, clcnn_err *err) {
  *data = NULL;
  *size = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return err_set(err, CLCNN_ERROR_IO, "cannot open '%s': %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    fclose(f);
    return err_set(err, CLCNN_ERROR_IO, "'%s' is not a regular file", path);
  }
  size_t n = (size_t)sb.st_size;
  void *buf = malloc(n ? n : 1);
  if (!buf) {
    fclose(f);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory reading '%s'", path);
  }
  if (fread(buf, 1, n, f) != n) {
    fclose(f);
    free(buf);
    return err_set(err, CLCNN_ERROR_IO, "cannot read '%s'", path);
  }
  fclose(f);
  *data = buf;
  *size = n;
  return CLCNN_OK;
}

clcnn_status onnx_tensor_load(const char *path, clcnn_tensor *out, char **name, clcnn_err *err) {
  void *buf;
  size_t size;
  memset(out, 0, sizeof *out);
  if (name) *name = NULL;
  clcnn_status st = onnx_read_file(path, &buf, &size, err);
  if (st) return st;
  st = onnx_tensor_decode_bytes(buf, size, path, out, name, err);
  free(buf);
  return st;
}

clcnn_status onnx_tensor_decode_bytes(const void *data, size_t size, const char *what,
                                      clcnn_tensor *out, char **name, clcnn_err *err) {
  memset(out, 0, sizeof *out);
  if (name) *name = NULL;
  Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, size, data);
  if (!tp) return err_set(err, CLCNN_ERROR_INVALID_MODEL, "'%s' is not an ONNX TensorProto", what);
  clcnn_status st = onnx_tensor_decode(tp, NULL, out, err);
  if (st == CLCNN_OK && name && tp->name) {
    *name = dup_bytes((const uint8_t *)tp->name, strlen(tp->name));
    if (!*name) {
      free(out->data);
      out->data = NULL;
      st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    }
  }
  onnx__tensor_proto__free_unpacked(tp, NULL);
  return st;
}

clcnn_status onnx_tensor_save(const char *path, const char *name, const clcnn_tensor *t,
                              clcnn_err *err) {
  Onnx__TensorProto tp;
  onnx__tensor_proto__init(&tp);
  int64_t dims[CLCNN_MAX_RANK];
  for (int i = 0; i < t->rank; i++) dims[i] = t->dims[i];
  tp.n_dims = (size_t)t->rank;
  tp.dims = dims;
  tp.has_data_type = 1;
  tp.data_type = (int32_t)t->dtype;
  tp.name = (char *)(name ? name : "");
  tp.has_raw_data = 1;
  size_t n = (size_t)clcnn_tensor_numel(t);
  tp.raw_data.len = n * dtype_size(t->dtype);
  tp.raw_data.data = t->data;
  const int bits = dtype_packed_bits(t->dtype);
  uint8_t *packed = NULL;
  if (bits) { /* ONNX's packed form: the first element in the lowest bits */
    tp.raw_data.len = (n * (size_t)bits + 7) / 8;
    if (!(packed = calloc(tp.raw_data.len + 1, 1)))
      return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory writing '%s'", path);
    for (size_t i = 0; i < n; i++)
      packed[i * (size_t)bits / 8] |= (uint8_t)((((const uint8_t *)t->data)[i] & ((1u << bits) - 1))
                                                << (i * (size_t)bits % 8));
    tp.raw_data.data = packed;
  }
  size_t len = onnx__tensor_proto__get_packed_size(&tp);
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) {
    free(packed);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory writing '%s'", path);
  }
  onnx__tensor_proto__pack(&tp, buf);
  free(packed);
  FILE *f = fopen(path, "wb");
  clcnn_status st = CLCNN_OK;
  if (!f || fwrite(buf, 1, len, f) != len)
    st = err_set(err, CLCNN_ERROR_IO, "cannot write '%s': %s", path, strerror(errno));
  if (f && fclose(f) != 0 && st == CLCNN_OK)
    st = err_set(err, CLCNN_ERROR_IO, "cannot write '%s': %s", path, strerror(errno));
  free(buf);
  return st;
}
