/* See op_harness.h. Builds the one-node model with protobuf-c, so the test
 * goes through the same import path as a real model. */
#include "op_harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "onnx.pb-c.h"

#define HT_MAX 16

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float rnd01(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (float)((rng_state >> 40) & 0xFFFFFF) / (float)0x1000000;
}

static void *make_data(const ht_input *in, size_t *bytes) {
  clcnn_dtype dt = in->dtype ? in->dtype : CLCNN_DTYPE_FLOAT32;
  int64_t n = shape_numel(in->rank, in->dims);
  size_t es = dtype_size(dt);
  *bytes = (size_t)n * es;
  void *p = malloc(*bytes ? *bytes : 1);
  if (!p) return NULL;
  if (in->data) {
    memcpy(p, in->data, *bytes);
    return p;
  }
  float lo = in->lo, hi = in->hi;
  if (lo == 0 && hi == 0) lo = -1, hi = 1;
  for (int64_t i = 0; i < n; i++) {
    float r = lo + (hi - lo) * rnd01();
    if (dt == CLCNN_DTYPE_FLOAT32) ((float *)p)[i] = r;
    else if (dt == CLCNN_DTYPE_INT64) ((int64_t *)p)[i] = (int64_t)floorf(r);
    else if (dt == CLCNN_DTYPE_INT32) ((int32_t *)p)[i] = (int32_t)floorf(r);
    else memset((char *)p + i * (int64_t)es, 0, es);
  }
  return p;
}

bool ht_have_opencl(void) {
  clcnn_context *ctx;
  if (clcnn_context_create(NULL, &ctx)) return false;
  /* A session needs a model; probing through the device list is internal,
   * so ask the simplest way: a strict session on "opencl" of an Identity. */
  clcnn_context_free(ctx);
  ht_input x = HT_INPUT("X", 1, 4);
  return ht_run("Relu", 13, &x, 1, 1, NULL, 0, 0.0f) != HT_SKIP;
}

/* Serialises the one-node model; returns malloc'd bytes. */
static uint8_t *build_model(const char *op_type, int opset, const ht_input *inputs, int nin,
                            int nout, const ht_attr *attrs, int nattr, void **data, size_t *len) {
  Onnx__ModelProto model;
  Onnx__GraphProto graph;
  Onnx__NodeProto node;
  Onnx__OperatorSetIdProto opsetid;
  Onnx__OperatorSetIdProto *opsets[1] = {&opsetid};
  Onnx__NodeProto *nodes[1] = {&node};
  Onnx__AttributeProto attr[HT_MAX], *attrp[HT_MAX];
  Onnx__TensorProto init[HT_MAX], *initp[HT_MAX];
  Onnx__ValueInfoProto vin[HT_MAX], *vinp[HT_MAX], vout[HT_MAX], *voutp[HT_MAX];
  Onnx__TypeProto tin[HT_MAX], tout[HT_MAX];
  Onnx__TypeProto__Tensor ttin[HT_MAX], ttout[HT_MAX];
  Onnx__TensorShapeProto shp[HT_MAX];
  Onnx__TensorShapeProto__Dimension dim[HT_MAX][CLCNN_MAX_RANK], *dimp[HT_MAX][CLCNN_MAX_RANK];
  char *in_names[HT_MAX], *out_names[HT_MAX];
  char out_buf[HT_MAX][16];
  int64_t dims_copy[HT_MAX][CLCNN_MAX_RANK];

  onnx__model_proto__init(&model);
  onnx__graph_proto__init(&graph);
  onnx__node_proto__init(&node);
  onnx__operator_set_id_proto__init(&opsetid);
  opsetid.domain = "";
  opsetid.has_version = 1;
  opsetid.version = opset;
  model.has_ir_version = 1;
  model.ir_version = 8;
  model.n_opset_import = 1;
  model.opset_import = opsets;
  model.graph = &graph;
  graph.name = "harness";
  graph.n_node = 1;
  graph.node = nodes;
  node.op_type = (char *)op_type;
  node.name = "node";
  node.n_input = (size_t)nin;
  node.input = in_names;
  node.n_output = (size_t)nout;
  node.output = out_names;
  int ninit = 0, ngin = 0;
  for (int i = 0; i < nin; i++) {
    const ht_input *in = &inputs[i];
    in_names[i] = (char *)(in->omitted ? "" : in->name);
    if (in->omitted) continue;
    for (int d = 0; d < in->rank; d++) dims_copy[i][d] = in->dims[d];
    clcnn_dtype dt = in->dtype ? in->dtype : CLCNN_DTYPE_FLOAT32;
    if (in->constant) {
      Onnx__TensorProto *t = &init[ninit];
      onnx__tensor_proto__init(t);
      t->name = (char *)in->name;
      t->n_dims = (size_t)in->rank;
      t->dims = dims_copy[i];
      t->has_data_type = 1;
      t->data_type = dt;
      t->has_raw_data = 1;
      t->raw_data.data = make_data(in, &t->raw_data.len);
      data[i] = t->raw_data.data;
      initp[ninit] = t;
      ninit++;
    } else {
      Onnx__ValueInfoProto *v = &vin[ngin];
      onnx__value_info_proto__init(v);
      onnx__type_proto__init(&tin[ngin]);
      onnx__type_proto__tensor__init(&ttin[ngin]);
      onnx__tensor_shape_proto__init(&shp[ngin]);
      v->name = (char *)in->name;
      v->type = &tin[ngin];
      tin[ngin].value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
      tin[ngin].tensor_type = &ttin[ngin];
      ttin[ngin].has_elem_type = 1;
      ttin[ngin].elem_type = dt;
      ttin[ngin].shape = &shp[ngin];
      shp[ngin].n_dim = (size_t)in->rank;
      shp[ngin].dim = dimp[ngin];
      for (int d = 0; d < in->rank; d++) {
        onnx__tensor_shape_proto__dimension__init(&dim[ngin][d]);
        dim[ngin][d].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        dim[ngin][d].dim_value = in->dims[d];
        dimp[ngin][d] = &dim[ngin][d];
      }
      vinp[ngin] = v;
      ngin++;
    }
  }
  graph.n_initializer = (size_t)ninit;
  graph.initializer = initp;
  graph.n_input = (size_t)ngin;
  graph.input = vinp;
  for (int k = 0; k < nout; k++) {
    snprintf(out_buf[k], sizeof out_buf[k], "Y%d", k);
    out_names[k] = out_buf[k];
    onnx__value_info_proto__init(&vout[k]);
    onnx__type_proto__init(&tout[k]);
    onnx__type_proto__tensor__init(&ttout[k]);
    vout[k].name = out_buf[k];
    vout[k].type = &tout[k];
    tout[k].value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tout[k].tensor_type = &ttout[k];
    voutp[k] = &vout[k];
  }
  graph.n_output = (size_t)nout;
  graph.output = voutp;
  for (int a = 0; a < nattr; a++) {
    Onnx__AttributeProto *p = &attr[a];
    onnx__attribute_proto__init(p);
    p->name = (char *)attrs[a].name;
    p->has_type = 1;
    p->type = (Onnx__AttributeProto__AttributeType)attrs[a].type;
    switch (attrs[a].type) {
      case 1: p->has_f = 1; p->f = attrs[a].f; break;
      case 2: p->has_i = 1; p->i = attrs[a].i; break;
      case 3:
        p->has_s = 1;
        p->s.data = (uint8_t *)attrs[a].s;
        p->s.len = strlen(attrs[a].s);
        break;
      case 6: p->n_floats = (size_t)attrs[a].n; p->floats = (float *)attrs[a].floats; break;
      case 7: p->n_ints = (size_t)attrs[a].n; p->ints = (int64_t *)attrs[a].ints; break;
      default: break;
    }
    attrp[a] = p;
  }
  node.n_attribute = (size_t)nattr;
  node.attribute = attrp;
  *len = onnx__model_proto__get_packed_size(&model);
  uint8_t *buf = malloc(*len);
  if (buf) onnx__model_proto__pack(&model, buf);
  return buf;
}

static const char *test_device(void) {
  const char *d = getenv("CLCNN_TEST_DEVICE");
  return d && d[0] ? d : "opencl";
}

ht_result ht_run(const char *op_type, int opset, const ht_input *inputs, int nin, int nout,
                 const ht_attr *attrs, int nattr, float tol) {
  if (nin > HT_MAX || nout > HT_MAX || nattr > HT_MAX) return HT_FAIL;
  void *data[HT_MAX] = {0};
  size_t len = 0;
  uint8_t *bytes = build_model(op_type, opset, inputs, nin, nout, attrs, nattr, data, &len);
  ht_result result = HT_FAIL;
  clcnn_context *ctx = NULL;
  clcnn_model *m = NULL;
  clcnn_session *dev = NULL, *cpu = NULL;
  void *feed[HT_MAX] = {0};
  char desc[256];
  snprintf(desc, sizeof desc, "%s(opset %d", op_type, opset);
  for (int i = 0; i < nin; i++) {
    char sh[96];
    size_t l = strlen(desc);
    snprintf(desc + l, sizeof desc - l, ", %s%s", inputs[i].omitted ? "-" : "",
             inputs[i].omitted ? "" : shape_str(inputs[i].rank, inputs[i].dims, sh, sizeof sh));
  }
  strncat(desc, ")", sizeof desc - strlen(desc) - 1);
  if (!bytes || clcnn_context_create(NULL, &ctx) ||
      clcnn_model_load_memory(ctx, bytes, len, NULL, &m)) {
    printf("FAIL %s: load: %s\n", desc, clcnn_last_error());
    goto out;
  }
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = test_device();
  so.strict = 1;
  clcnn_status st = clcnn_session_create(m, &so, NULL, 0, &dev);
  if (st == CLCNN_ERROR_DEVICE) {
    result = HT_SKIP;
    goto out;
  }
  if (st) {
    printf("FAIL %s: OpenCL session: %s\n", desc, clcnn_last_error());
    goto out;
  }
  so.device = "cpu";
  so.strict = 0;
  if (clcnn_session_create(m, &so, NULL, 0, &cpu)) {
    printf("FAIL %s: CPU session: %s\n", desc, clcnn_last_error());
    goto out;
  }
  for (int i = 0; i < nin; i++) {
    if (inputs[i].omitted || inputs[i].constant) continue;
    clcnn_tensor t = {.dtype = inputs[i].dtype ? inputs[i].dtype : CLCNN_DTYPE_FLOAT32,
                      .rank = inputs[i].rank};
    memcpy(t.dims, inputs[i].dims, sizeof t.dims);
    size_t b;
    t.data = feed[i] = make_data(&inputs[i], &b);
    if (clcnn_session_set_input(dev, inputs[i].name, &t) ||
        clcnn_session_set_input(cpu, inputs[i].name, &t)) {
      printf("FAIL %s: set input: %s\n", desc, clcnn_last_error());
      goto out;
    }
  }
  if (clcnn_session_run(dev)) {
    printf("FAIL %s: OpenCL run: %s\n", desc, clcnn_session_error(dev));
    goto out;
  }
  if (clcnn_session_run(cpu)) {
    printf("FAIL %s: CPU run: %s\n", desc, clcnn_session_error(cpu));
    goto out;
  }
  result = HT_PASS;
  for (int k = 0; k < nout; k++) {
    char name[16];
    snprintf(name, sizeof name, "Y%d", k);
    clcnn_tensor a, b;
    if (clcnn_session_output(dev, name, &a) || clcnn_session_output(cpu, name, &b)) {
      printf("FAIL %s: output %s missing\n", desc, name);
      result = HT_FAIL;
      break;
    }
    bool same = a.rank == b.rank && a.dtype == b.dtype;
    for (int d = 0; same && d < a.rank; d++) same = a.dims[d] == b.dims[d];
    if (!same) {
      char sa[96], sb[96];
      printf("FAIL %s: output %s shape %s vs CPU %s\n", desc, name,
             shape_str(a.rank, a.dims, sa, sizeof sa), shape_str(b.rank, b.dims, sb, sizeof sb));
      result = HT_FAIL;
      break;
    }
    int64_t n = clcnn_tensor_numel(&a), worst = -1;
    double worst_err = 0;
    for (int64_t i = 0; i < n; i++) {
      double x = tensor_get_f64(&a, i), y = tensor_get_f64(&b, i);
      double e = fabs(x - y) / (1.0 + fabs(y));
      if (isnan(x) != isnan(y)) e = INFINITY;
      if (isnan(x) && isnan(y)) e = 0;
      if (e > worst_err) worst_err = e, worst = i;
    }
    if (worst_err > tol) {
      printf("FAIL %s: output %s element %lld: OpenCL %.7g, CPU %.7g (error %.3g > %.3g)\n",
             desc, name, (long long)worst, tensor_get_f64(&a, worst), tensor_get_f64(&b, worst),
             worst_err, (double)tol);
      result = HT_FAIL;
    }
  }
out:
  for (int i = 0; i < HT_MAX; i++) free(data[i]), free(feed[i]);
  free(bytes);
  clcnn_session_free(dev);
  clcnn_session_free(cpu);
  clcnn_model_free(m);
  clcnn_context_free(ctx);
  return result;
}
