/* See model_builder.h. Everything is allocated on the heap and freed by
 * mb_free(); the protobuf-c structures point into the builder's storage. */
#include "model_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"

#define MB_MAX 64

struct mb {
  Onnx__ModelProto model;
  Onnx__GraphProto graph;
  Onnx__OperatorSetIdProto opset;
  Onnx__OperatorSetIdProto *opsetp[1];
  Onnx__NodeProto nodes[MB_MAX], *nodep[MB_MAX];
  Onnx__AttributeProto attrs[MB_MAX][16], *attrp[MB_MAX][16];
  Onnx__TensorProto inits[MB_MAX], *initp[MB_MAX];
  Onnx__StringStringEntryProto ext[MB_MAX][3], *extp[MB_MAX][3];
  Onnx__ValueInfoProto ins[MB_MAX], *inp[MB_MAX], outs[MB_MAX], *outp[MB_MAX];
  Onnx__TypeProto types[MB_MAX];
  Onnx__TypeProto__Tensor ttypes[MB_MAX];
  Onnx__TensorShapeProto shapes[MB_MAX];
  Onnx__TensorShapeProto__Dimension dims[MB_MAX][CLCNN_MAX_RANK], *dimp[MB_MAX][CLCNN_MAX_RANK];
  char *strings[MB_MAX * 24]; /* every string we allocated */
  int nstrings;
  char **lists[MB_MAX * 2];   /* node input/output arrays */
  int nlists;
  void *blobs[MB_MAX * 8];
  int nblobs;
};

static char *keep(mb *b, const char *s) {
  char *d = strdup(s ? s : "");
  if (b->nstrings < MB_MAX * 24) b->strings[b->nstrings++] = d;
  return d;
}

static void *keep_blob(mb *b, void *p) {
  if (b->nblobs < MB_MAX * 8) b->blobs[b->nblobs++] = p;
  return p;
}

mb *mb_new(int opset) {
  mb *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  onnx__model_proto__init(&b->model);
  onnx__graph_proto__init(&b->graph);
  onnx__operator_set_id_proto__init(&b->opset);
  b->opset.domain = keep(b, "");
  b->opset.has_version = 1;
  b->opset.version = opset;
  b->opsetp[0] = &b->opset;
  b->model.has_ir_version = 1;
  b->model.ir_version = 8;
  b->model.n_opset_import = 1;
  b->model.opset_import = b->opsetp;
  b->model.graph = &b->graph;
  b->graph.name = keep(b, "test");
  b->graph.node = b->nodep;
  b->graph.initializer = b->initp;
  b->graph.input = b->inp;
  b->graph.output = b->outp;
  return b;
}

void mb_free(mb *b) {
  if (!b) return;
  for (int i = 0; i < b->nstrings; i++) free(b->strings[i]);
  for (int i = 0; i < b->nlists; i++) free(b->lists[i]);
  for (int i = 0; i < b->nblobs; i++) free(b->blobs[i]);
  free(b);
}

void mb_input(mb *b, const char *name, clcnn_dtype dtype, int rank, const int64_t *dims) {
  int i = (int)b->graph.n_input;
  if (i >= MB_MAX / 2) return;
  Onnx__ValueInfoProto *v = &b->ins[i];
  onnx__value_info_proto__init(v);
  onnx__type_proto__init(&b->types[i]);
  onnx__type_proto__tensor__init(&b->ttypes[i]);
  onnx__tensor_shape_proto__init(&b->shapes[i]);
  v->name = keep(b, name);
  v->type = &b->types[i];
  b->types[i].value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  b->types[i].tensor_type = &b->ttypes[i];
  b->ttypes[i].has_elem_type = 1;
  b->ttypes[i].elem_type = dtype;
  b->ttypes[i].shape = &b->shapes[i];
  b->shapes[i].n_dim = (size_t)rank;
  b->shapes[i].dim = b->dimp[i];
  for (int d = 0; d < rank; d++) {
    Onnx__TensorShapeProto__Dimension *dm = &b->dims[i][d];
    onnx__tensor_shape_proto__dimension__init(dm);
    if (dims[d] >= 0) {
      dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      dm->dim_value = dims[d];
    } else {
      char nm[16];
      snprintf(nm, sizeof nm, "d%d", d);
      dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      dm->dim_param = keep(b, nm);
    }
    b->dimp[i][d] = dm;
  }
  b->inp[i] = v;
  b->graph.n_input++;
}

void mb_output(mb *b, const char *name) {
  int i = (int)b->graph.n_output;
  if (i >= MB_MAX) return;
  Onnx__ValueInfoProto *v = &b->outs[i];
  onnx__value_info_proto__init(v);
  v->name = keep(b, name);
  /* Output types are optional in practice; give the type only (float). */
  int t = MB_MAX / 2 + i;
  if (t < MB_MAX) {
    onnx__type_proto__init(&b->types[t]);
    onnx__type_proto__tensor__init(&b->ttypes[t]);
    b->types[t].value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    b->types[t].tensor_type = &b->ttypes[t];
    v->type = &b->types[t];
  }
  b->outp[i] = v;
  b->graph.n_output++;
}

void mb_init(mb *b, const char *name, clcnn_dtype dtype, int rank, const int64_t *dims,
             const void *data) {
  int i = (int)b->graph.n_initializer;
  if (i >= MB_MAX) return;
  Onnx__TensorProto *t = &b->inits[i];
  onnx__tensor_proto__init(t);
  t->name = keep(b, name);
  t->n_dims = (size_t)rank;
  t->dims = keep_blob(b, malloc(sizeof(int64_t) * (size_t)(rank ? rank : 1)));
  size_t n = 1;
  for (int d = 0; d < rank; d++) {
    t->dims[d] = dims[d];
    n *= (size_t)(dims[d] > 0 ? dims[d] : 0);
  }
  size_t es = dtype == CLCNN_DTYPE_INT64 || dtype == CLCNN_DTYPE_FLOAT64 ? 8
              : dtype == CLCNN_DTYPE_FLOAT32 || dtype == CLCNN_DTYPE_INT32 ? 4 : 1;
  t->has_data_type = 1;
  t->data_type = dtype;
  t->has_raw_data = 1;
  /* Huge declared dims (malformed-input tests) get no data at all. */
  t->raw_data.len = n < ((size_t)1 << 28) ? n * es : 0;
  t->raw_data.data = keep_blob(b, calloc(1, t->raw_data.len ? t->raw_data.len : 1));
  if (data && t->raw_data.len) memcpy(t->raw_data.data, data, t->raw_data.len);
  b->initp[i] = t;
  b->graph.n_initializer++;
}

void mb_init_f32(mb *b, const char *name, int rank, const int64_t *dims, const float *data) {
  mb_init(b, name, CLCNN_DTYPE_FLOAT32, rank, dims, data);
}

void mb_init_i64(mb *b, const char *name, int rank, const int64_t *dims, const int64_t *data) {
  mb_init(b, name, CLCNN_DTYPE_INT64, rank, dims, data);
}

void mb_external(mb *b, const char *name, const char *location, int64_t offset, int64_t length) {
  for (size_t i = 0; i < b->graph.n_initializer; i++) {
    Onnx__TensorProto *t = &b->inits[i];
    if (strcmp(t->name, name) != 0) continue;
    const char *keys[3] = {"location", "offset", "length"};
    char vals[3][64];
    snprintf(vals[0], sizeof vals[0], "%s", location);
    snprintf(vals[1], sizeof vals[1], "%lld", (long long)offset);
    snprintf(vals[2], sizeof vals[2], "%lld", (long long)length);
    for (int k = 0; k < 3; k++) {
      onnx__string_string_entry_proto__init(&b->ext[i][k]);
      b->ext[i][k].key = keep(b, keys[k]);
      b->ext[i][k].value = keep(b, k == 0 ? location : vals[k]);
      b->extp[i][k] = &b->ext[i][k];
    }
    t->has_raw_data = 0;
    t->n_external_data = 3;
    t->external_data = b->extp[i];
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  }
}

static char **split_list(mb *b, const char *list, size_t *n) {
  char **out = calloc(16, sizeof(char *));
  *n = 0;
  if (b->nlists < MB_MAX * 2) b->lists[b->nlists++] = out;
  if (!list || !list[0]) return out;
  const char *p = list;
  while (*n < 16) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%.*s", (int)len, p);
    out[(*n)++] = keep(b, tmp);
    if (!e) break;
    p = e + 1;
  }
  return out;
}

void mb_node(mb *b, const char *op_type, const char *inputs, const char *outputs, int nattr,
             const mb_attr *attrs) {
  int i = (int)b->graph.n_node;
  if (i >= MB_MAX) return;
  Onnx__NodeProto *n = &b->nodes[i];
  onnx__node_proto__init(n);
  char nm[32];
  snprintf(nm, sizeof nm, "n%d", i);
  n->name = keep(b, nm);
  n->op_type = keep(b, op_type);
  n->input = split_list(b, inputs, &n->n_input);
  n->output = split_list(b, outputs, &n->n_output);
  for (int a = 0; a < nattr && a < 16; a++) {
    Onnx__AttributeProto *p = &b->attrs[i][a];
    onnx__attribute_proto__init(p);
    p->name = keep(b, attrs[a].name);
    p->has_type = 1;
    p->type = (Onnx__AttributeProto__AttributeType)attrs[a].type;
    switch (attrs[a].type) {
      case 1: p->has_f = 1; p->f = attrs[a].f; break;
      case 2: p->has_i = 1; p->i = attrs[a].i; break;
      case 3:
        p->has_s = 1;
        p->s.data = (uint8_t *)keep(b, attrs[a].s);
        p->s.len = strlen(attrs[a].s);
        break;
      case 6:
        p->n_floats = (size_t)attrs[a].n;
        p->floats = keep_blob(b, malloc(sizeof(float) * 16));
        memcpy(p->floats, attrs[a].floats, sizeof(float) * 16);
        break;
      case 5: p->g = attrs[a].graph ? &attrs[a].graph->graph : NULL; break;
      case 7:
        p->n_ints = (size_t)attrs[a].n;
        p->ints = keep_blob(b, malloc(sizeof(int64_t) * 16));
        memcpy(p->ints, attrs[a].ints, sizeof(int64_t) * 16);
        break;
      default: break;
    }
    b->attrp[i][a] = p;
  }
  n->n_attribute = (size_t)(nattr < 16 ? nattr : 16);
  n->attribute = b->attrp[i];
  b->nodep[i] = n;
  b->graph.n_node++;
}

uint8_t *mb_pack(mb *b, size_t *len) {
  *len = onnx__model_proto__get_packed_size(&b->model);
  uint8_t *buf = malloc(*len ? *len : 1);
  if (buf) onnx__model_proto__pack(&b->model, buf);
  return buf;
}
