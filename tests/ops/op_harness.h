/* One helper runs a one-node ONNX model on the OpenCL backend (strict: no
 * fallback) and on the CPU backend and compares every output, so that a new
 * test case is a few lines (STYLE.md, after ggml's test-backend-ops).
 *
 *   ht_input x = HT_INPUT("X", 4, 1, 3, 17, 19);
 *   ht_attr a[] = {HT_INTS("kernel_shape", 3, 3), HT_INT("group", 1)};
 *   ck_assert_int_eq(ht_run("Conv", 13, ins, 2, 1, a, 2, 1e-4f), HT_PASS);
 *
 * Inputs are filled with seeded uniform values in [lo, hi] unless data is
 * given; an input with `constant` set becomes an initializer (weights,
 * shapes, axes). The model goes through the real ONNX import path. */
#ifndef CLCNN_TEST_OP_HARNESS_H
#define CLCNN_TEST_OP_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "clcnn.h"
#include "model_builder.h"

typedef struct ht_input {
  const char *name;
  clcnn_dtype dtype;     /* 0 means float32 */
  int rank;
  int64_t dims[CLCNN_MAX_RANK];
  bool constant;         /* an initializer rather than a graph input */
  const void *data;      /* NULL: random in [lo, hi] (floats) or [0, hi] (ints) */
  float lo, hi;          /* 0, 0 means [-1, 1] */
  bool omitted;          /* an omitted optional input ("" in the node) */
} ht_input;

/* Attributes are the model builder's (tests/common/model_builder.h). */
typedef mb_attr ht_attr;

#define HT_DIMS(...) .rank = (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), \
                     .dims = {__VA_ARGS__}
#define HT_INPUT(nm, ...) ((ht_input){.name = nm, HT_DIMS(__VA_ARGS__)})
#define HT_WEIGHT(nm, ...) ((ht_input){.name = nm, .constant = true, HT_DIMS(__VA_ARGS__)})
#define HT_OMITTED ((ht_input){.name = "", .omitted = true})
#define HT_INT MB_INT
#define HT_FLOAT MB_FLOAT
#define HT_STRING MB_STRING
#define HT_INTS MB_INTS
#define HT_FLOATS MB_FLOATS

typedef enum { HT_PASS = 0, HT_FAIL = 1, HT_SKIP = 77 } ht_result;

/* Runs op_type (default domain, `opset`) with the inputs and attributes on
 * the OpenCL device (CLCNN_TEST_DEVICE or "opencl", strict) and on the CPU
 * backend, and compares each of its `nout` outputs: |a - b| <= tol * (1 + |b|).
 * Prints a one-line description of any failure (the case, the worst element).
 * HT_SKIP when no OpenCL device exists. */
ht_result ht_run(const char *op_type, int opset, const ht_input *inputs, int nin, int nout,
                 const ht_attr *attrs, int nattr, float tol);

/* The same for a serialised model (any graph): its non-constant inputs are
 * fed from `inputs` (by name) and every graph output is compared. `desc`
 * names the case in failure messages. */
ht_result ht_run_model(const char *desc, const uint8_t *bytes, size_t len, const ht_input *inputs,
                       int nin, float tol);

/* Whether an OpenCL device is present (else the suite exits 77). Call it
 * first: it also records the CLCNN_* knobs the tests set (ht_env_restore).
 *
 * Small-shapes mode, for slow simulated devices (the oclgrind suite): with
 * CLCNN_TEST_MAX_ELEMS=N in the environment, a case whose inputs (weights
 * included) and outputs hold more than N elements in all runs on the CPU
 * backend only, and counts as passed; how many cases ran on the device and
 * how many were left out is printed at exit. */
bool ht_have_opencl(void);

/* Sets CLCNN_OCL_VARIANT, CLCNN_CONV, CLCNN_GEMM and CLCNN_TUNE back to the
 * values they had when the test started (unset if they were unset): tests
 * that set one call it afterwards, so that a suite that runs the whole test
 * under, say, CLCNN_GEMM=own keeps it. */
void ht_env_restore(void);

/* The main() of an op test: exits 77 without OpenCL, else runs each test
 * function in its own test case of suite `name` (600 s each) and returns 0
 * when all pass. */
struct TTest;
typedef struct ht_test {
  const char *name;
  const struct TTest *test;
} ht_test;
int ht_main(const char *name, const ht_test *tests, int count);
#define HT_TEST(fn) {#fn, fn}

#endif
