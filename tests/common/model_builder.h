/* Builds small ONNX models in C for tests (serialised with protobuf-c, so
 * they go through the real import path):
 *
 *   mb *b = mb_new(13);
 *   mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, 3, 8, 8});
 *   mb_init_f32(b, "w", 4, (int64_t[]){4, 3, 3, 3}, weights);
 *   mb_node(b, "Conv", "x,w", "y", 1, (mb_attr[]){MB_INTS("pads", 1, 1, 1, 1)});
 *   mb_output(b, "y");
 *   size_t len; uint8_t *bytes = mb_pack(b, &len);
 *
 * Inputs of mb_node are a comma-separated list; an empty item is an omitted
 * optional input ("x,,b"). */
#ifndef CLCNN_TEST_MODEL_BUILDER_H
#define CLCNN_TEST_MODEL_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "clcnn.h"

typedef struct mb mb;

typedef struct mb_attr {
  const char *name;
  int type; /* ONNX AttributeType: 1 float, 2 int, 3 string, 5 graph, 6 floats, 7 ints */
  float f;
  int64_t i;
  const char *s;
  int n;
  int64_t ints[16];
  float floats[16];
  struct mb *graph; /* type 5: another builder's graph (it must outlive mb_pack) */
} mb_attr;

#define MB_INT(nm, v) ((mb_attr){.name = nm, .type = 2, .i = (v)})
#define MB_FLOAT(nm, v) ((mb_attr){.name = nm, .type = 1, .f = (v)})
#define MB_STRING(nm, v) ((mb_attr){.name = nm, .type = 3, .s = (v)})
/* A subgraph (If's branches): the nodes, initializers and outputs of `sub`,
 * which may read the enclosing graph's values by name. */
#define MB_GRAPH(nm, sub) ((mb_attr){.name = nm, .type = 5, .graph = (sub)})
#define MB_INTS(nm, ...) ((mb_attr){.name = nm, .type = 7, \
    .n = (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), .ints = {__VA_ARGS__}})
#define MB_FLOATS(nm, ...) ((mb_attr){.name = nm, .type = 6, \
    .n = (int)(sizeof((float[]){__VA_ARGS__}) / sizeof(float)), .floats = {__VA_ARGS__}})

mb *mb_new(int opset);
void mb_free(mb *b);
/* A graph input; a dim of -1 is symbolic (named "dN"). */
void mb_input(mb *b, const char *name, clcnn_dtype dtype, int rank, const int64_t *dims);
void mb_output(mb *b, const char *name);
/* An initializer; data is copied (NULL: zeros). */
void mb_init(mb *b, const char *name, clcnn_dtype dtype, int rank, const int64_t *dims,
             const void *data);
void mb_init_f32(mb *b, const char *name, int rank, const int64_t *dims, const float *data);
void mb_init_i64(mb *b, const char *name, int rank, const int64_t *dims, const int64_t *data);
/* A node of the default domain (op_type may be any string). */
void mb_node(mb *b, const char *op_type, const char *inputs, const char *outputs, int nattr,
             const mb_attr *attrs);
/* Sets external data on initializer `name`: location, offset, length. */
void mb_external(mb *b, const char *name, const char *location, int64_t offset, int64_t length);
/* Serialises the model (malloc'd). */
uint8_t *mb_pack(mb *b, size_t *len);

#endif
