/* ONNX files: model import and TensorProto (.pb) tensors. */
#ifndef CLCNN_ONNX_IO_H
#define CLCNN_ONNX_IO_H

#include "internal.h"

/* Decodes a serialized ModelProto into `g` (emptied first). Hard errors
 * (malformed data, a missing value, a cycle) return a status with `err` set
 * and leave `g` empty. Unsupported operators and attributes do not stop the
 * import: each is appended to `problems` (its status set) and the node keeps
 * op = -1, so that a caller can list them all at once. With `owned` (the
 * malloc'd buffer that data points into, a file read whole), the buffer is
 * freed as soon as it is decoded, in every case: the model's weights are
 * then held once, not three times (file, decoded message, graph), at the
 * peak of a load. */
clcnn_status onnx_import_model(const void *data, size_t size, void *owned, const char *base_dir,
                               ir_graph *g, clcnn_err *problems, clcnn_err *err);

/* Decodes an Onnx__TensorProto (passed as void * to keep protobuf-c out of
 * this header) into a tensor whose data is malloc'd. */
clcnn_status onnx_tensor_decode(const void *proto, const char *base_dir, clcnn_tensor *out,
                                clcnn_err *err);

/* Reads a whole file into malloc'd memory. */
clcnn_status onnx_read_file(const char *path, void **data, size_t *size, clcnn_err *err);

/* Reads a TensorProto .pb file; out->data and *name (if name) are malloc'd. */
clcnn_status onnx_tensor_load(const char *path, clcnn_tensor *out, char **name, clcnn_err *err);
/* The same on the `size` bytes of a serialized TensorProto in memory
 * (`what` names them in messages). */
clcnn_status onnx_tensor_decode_bytes(const void *data, size_t size, const char *what,
                                      clcnn_tensor *out, char **name, clcnn_err *err);

/* Writes a tensor as a TensorProto .pb file (raw data). */
clcnn_status onnx_tensor_save(const char *path, const char *name, const clcnn_tensor *t,
                              clcnn_err *err);

#endif
