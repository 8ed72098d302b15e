/* libFuzzer target: bytes as the content of a file given to `clcnn run
 * --input`, through the CLI's readers (tools/cli_input.c): .npy, ONNX
 * TensorProto .pb and images (stb_image), then the shape check and the dtype
 * conversion to what the model input wants. The first byte chooses that
 * model input and the options; the rest is the file. Every input must end
 * in a tensor that matches what the reader promises, or in exactly one
 * error line. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Images of more pixels than this that the CLI would still decode (up to
 * 2^28) are skipped: seconds of work per input (a 56-byte BMP can claim 31
 * million pixels, and stb_image decodes them from nothing). Larger ones go
 * in: the CLI must refuse them from their header. */
#define FUZZ_MAX_PIXELS (1 << 20)

/* The CLI's message functions (tools/clcnn.c holds the real ones, next to
 * main()): here they count and keep the last error. */
static int n_errors;
static char last_error[512];

void cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  n_errors++;
}

void cli_note(const char *fmt, ...) { (void)fmt; }

void cli_dims_str(int rank, const int64_t *dims, char *buf, size_t len) {
  size_t at = 0;
  buf[0] = 0;
  for (int i = 0; i < rank && at < len; i++)
    at += (size_t)snprintf(buf + at, len - at, "%s%lld", i ? "x" : "", (long long)dims[i]);
}

static const clcnn_dtype dtypes[8] = {
    CLCNN_DTYPE_FLOAT32, CLCNN_DTYPE_FLOAT64, CLCNN_DTYPE_INT64, CLCNN_DTYPE_INT32,
    CLCNN_DTYPE_INT8,    CLCNN_DTYPE_UINT8,   CLCNN_DTYPE_BOOL,  CLCNN_DTYPE_FLOAT16};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  /* Byte 0: bits 0-2 the input's dtype; bit 3 a grey (1-channel) input,
   * else 3 channels; bit 4 fixed spatial dims 6x5, else open; bit 5 a --size
   * of 3x4; bit 6 --mean/--std; bit 7 a --shape of 1x3x2x2. */
  uint8_t cfg = data[0];
  clcnn_io_info io;
  memset(&io, 0, sizeof io);
  io.name = "x";
  io.dtype = dtypes[cfg & 7];
  io.rank = 4;
  io.dims[0] = 1;
  io.dims[1] = cfg & 8 ? 1 : 3;
  io.dims[2] = cfg & 16 ? 6 : -1;
  io.dims[3] = cfg & 16 ? 5 : -1;
  cli_input_opts o;
  memset(&o, 0, sizeof o);
  o.file = "fuzz-input";
  if (cfg & 32) {
    o.size_w = 3;
    o.size_h = 4;
  }
  if (cfg & 64) {
    o.nmean = o.nstd = 1;
    o.mean[0] = 0.5f;
    o.std[0] = 0.25f;
  }
  if (cfg & 128) {
    o.have_shape = true;
    o.rank = 4;
    o.dims[0] = 1;
    o.dims[1] = 3;
    o.dims[2] = o.dims[3] = 2;
  }
  /* The file's bytes in a heap block of their own: ASan sees overreads. */
  size_t n = size - 1;
  int w, h;
  if (cli_image_header(data + 1, n, &w, &h) && (int64_t)w * h > FUZZ_MAX_PIXELS &&
      (int64_t)w * h <= ((int64_t)1 << 28))
    return 0;
  uint8_t *file = malloc(n ? n : 1);
  if (!file) return 0;
  if (n) memcpy(file, data + 1, n);
  n_errors = 0;
  cli_input in;
  int rc = cli_input_from_memory(&io, &o, o.file, file, n, &in);
  free(file);
  if (rc != CLI_OK) {
    if (n_errors != 1 || !last_error[0]) abort(); /* exactly one error line */
    return 0;
  }
  if (n_errors) abort();
  const clcnn_tensor *t = &in.t;
  if (t->dtype != io.dtype || t->rank < 0 || t->rank > CLCNN_MAX_RANK || !t->data) abort();
  int64_t numel = 1;
  for (int i = 0; i < t->rank; i++) {
    if (t->dims[i] < 0) abort();
    numel *= t->dims[i];
  }
  if (o.have_shape && (t->rank != 4 || t->dims[1] != 3 || t->dims[2] != 2 || t->dims[3] != 2))
    abort();
  /* Every element is readable (ASan checks the block's size). */
  volatile double sink = 0;
  size_t bytes = (size_t)numel * dtype_size(t->dtype);
  for (size_t i = 0; i < bytes; i++) sink += ((const uint8_t *)t->data)[i];
  (void)sink;
  cli_input_free(&in);
  return 0;
}
