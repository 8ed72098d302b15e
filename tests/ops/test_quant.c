/* OpenCL vs CPU: QuantizeLinear and DequantizeLinear (the element-wise forms
 * the OpenCL backend runs) on int8 and uint8, per tensor and per axis (every
 * axis of a 4-D tensor, odd sizes), with and without a zero point, scales
 * and zero points as graph inputs and as constants. Tolerance 0: both
 * backends divide correctly rounded, round ties to even and saturate, so the
 * quantized values are identical, and the dequantized ones are one float
 * multiplication. Values reach past the type's range (saturation) and hit
 * ties (x / scale = k + 0.5). The ONNX node tests check the CPU backend
 * against ONNX's reference. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "op_harness.h"

static const float scales[7] = {0.05f, 0.1f, 0.25f, 0.02f, 0.5f, 0.125f, 0.03f};
static const int8_t zp_s8[7] = {0, -3, 5, 17, -128, 127, 1};
static const uint8_t zp_u8[7] = {128, 0, 255, 3, 77, 200, 10};

static void quantize_case(clcnn_dtype qt, int rank, const int64_t *dims, int axis, bool zp,
                          bool constant, int opset) {
  ht_input in[3] = {{.name = "x", .rank = rank, .lo = -40, .hi = 40}};
  for (int i = 0; i < rank; i++) in[0].dims[i] = dims[i];
  int64_t n = axis >= 0 ? dims[axis] : 1;
  in[1] = (ht_input){.name = "s", .rank = axis >= 0 ? 1 : 0, .dims = {n}, .data = scales,
                     .constant = constant};
  in[2] = (ht_input){.name = "z", .dtype = qt, .rank = axis >= 0 ? 1 : 0, .dims = {n},
                     .data = qt == CLCNN_DTYPE_INT8 ? (const void *)zp_s8 : (const void *)zp_u8,
                     .constant = constant};
  ht_attr a = HT_INT("axis", axis >= 0 ? axis : 1);
  ck_assert_msg(ht_run("QuantizeLinear", opset, in, zp ? 3 : 2, 1, &a, 1, 0.0f) == HT_PASS,
                "QuantizeLinear %s axis %d zp %d const %d failed", qt == CLCNN_DTYPE_INT8 ? "int8" : "uint8",
                axis, zp, constant);
}

static void dequantize_case(clcnn_dtype qt, int rank, const int64_t *dims, int axis, bool zp,
                            bool constant) {
  int64_t count = 1;
  for (int i = 0; i < rank; i++) count *= dims[i];
  uint8_t *q = malloc((size_t)count);
  for (int64_t i = 0; i < count; i++) q[i] = (uint8_t)(i * 37 + 11);
  ht_input in[3] = {{.name = "x", .dtype = qt, .rank = rank, .data = q}};
  for (int i = 0; i < rank; i++) in[0].dims[i] = dims[i];
  int64_t n = axis >= 0 ? dims[axis] : 1;
  in[1] = (ht_input){.name = "s", .rank = axis >= 0 ? 1 : 0, .dims = {n}, .data = scales,
                     .constant = constant};
  in[2] = (ht_input){.name = "z", .dtype = qt, .rank = axis >= 0 ? 1 : 0, .dims = {n},
                     .data = qt == CLCNN_DTYPE_INT8 ? (const void *)zp_s8 : (const void *)zp_u8,
                     .constant = constant};
  ht_attr a = HT_INT("axis", axis >= 0 ? axis : 1);
  ck_assert_msg(ht_run("DequantizeLinear", 13, in, zp ? 3 : 2, 1, &a, 1, 0.0f) == HT_PASS,
                "DequantizeLinear axis %d zp %d const %d failed", axis, zp, constant);
  free(q);
}

static const int64_t shape4[4] = {2, 7, 5, 3};

START_TEST(quantize) {
  const clcnn_dtype types[2] = {CLCNN_DTYPE_INT8, CLCNN_DTYPE_UINT8};
  for (int t = 0; t < 2; t++)
    for (int axis = -1; axis < 4; axis++) {
      quantize_case(types[t], 4, shape4, axis, true, false, 13);
      quantize_case(types[t], 4, shape4, axis, true, true, 13);
    }
  quantize_case(CLCNN_DTYPE_UINT8, 4, shape4, -1, false, false, 13); /* uint8 without zp */
  quantize_case(CLCNN_DTYPE_INT8, 2, (const int64_t[]){1, 1001}, -1, true, true, 10);
}
END_TEST

START_TEST(dequantize) {
  const clcnn_dtype types[2] = {CLCNN_DTYPE_INT8, CLCNN_DTYPE_UINT8};
  for (int t = 0; t < 2; t++)
    for (int axis = -1; axis < 4; axis++) {
      dequantize_case(types[t], 4, shape4, axis, true, false);
      dequantize_case(types[t], 4, shape4, axis, axis != 2, true);
    }
  dequantize_case(CLCNN_DTYPE_UINT8, 3, (const int64_t[]){3, 1, 1031}, 0, true, true);
}
END_TEST

int main(void) {
  const ht_test tests[] = {HT_TEST(quantize), HT_TEST(dequantize)};
  return ht_main("ops-quant", tests, (int)(sizeof tests / sizeof *tests));
}
