/* CPU backend: the shape family. Reshape, Flatten, Squeeze, Unsqueeze,
 * Identity and Dropout copy their input (the runtime may alias them
 * instead); Shape, Size, Constant, ConstantOfShape and Range write their
 * values; Cast and CastLike convert between the supported element types. */
#include <string.h>

#include "../internal.h"
#include "../ops/shape.h"

static size_t tensor_bytes(const clcnn_tensor *t) {
  return (size_t)clcnn_tensor_numel(t) * dtype_size(t->dtype);
}

/* Fills count elements of es bytes with *val. */
static void fill(void *dst, size_t count, const void *val, size_t es) {
  switch (es) {
    case 1: memset(dst, *(const uint8_t *)val, count); break;
    case 2: {
      uint16_t v, *d = dst;
      memcpy(&v, val, 2);
      for (size_t i = 0; i < count; i++) d[i] = v;
      break;
    }
    case 4: {
      uint32_t v, *d = dst;
      memcpy(&v, val, 4);
      for (size_t i = 0; i < count; i++) d[i] = v;
      break;
    }
    case 8: {
      uint64_t v, *d = dst;
      memcpy(&v, val, 8);
      for (size_t i = 0; i < count; i++) d[i] = v;
      break;
    }
    default: break;
  }
}

/* Reshape, Flatten, Squeeze, Unsqueeze, Identity: the data is unchanged. */
static clcnn_status copy_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                             int nout, clcnn_err *err) {
  (void)cn, (void)nin, (void)nout;
  size_t bytes = tensor_bytes(&out[0]);
  if (bytes != tensor_bytes(&in[0]))
    return err_set(err, CLCNN_ERROR_INTERNAL, "input and output sizes differ");
  if (bytes && out[0].data != in[0].data) memcpy(out[0].data, in[0].data, bytes);
  return CLCNN_OK;
}

static clcnn_status dropout_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                                int nout, clcnn_err *err) {
  clcnn_status st = copy_run(cn, in, nin, out, nout, err);
  if (st || nout < 2 || !out[1].data) return st;
  uint8_t one[8];
  shape_scalar_store(out[1].dtype, 1.0, one);
  fill(out[1].data, (size_t)clcnn_tensor_numel(&out[1]), one, dtype_size(out[1].dtype));
  return CLCNN_OK;
}

static clcnn_status shape_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                              int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  const shape_params *p = cn->n->params;
  int64_t len = p->end - p->start;
  if (out[0].rank != 1 || out[0].dims[0] != len || p->end > in[0].rank)
    return err_set(err, CLCNN_ERROR_INTERNAL, "Shape: output does not match the input rank");
  for (int64_t i = 0; i < len; i++) ((int64_t *)out[0].data)[i] = in[0].dims[p->start + i];
  return CLCNN_OK;
}

/* Constant: infer made the output value a constant; copy its data. */
static clcnn_status constant_run(cpu_node *cn, const clcnn_tensor *in, int nin,
                                 clcnn_tensor *out, int nout, clcnn_err *err) {
  (void)in, (void)nin, (void)nout;
  const ir_node *n = cn->n;
  const ir_value *v = n->out[0] >= 0 ? &cn->g->values[n->out[0]] : NULL;
  if (!v || !v->t.data || tensor_bytes(&v->t) != tensor_bytes(&out[0]))
    return err_set(err, CLCNN_ERROR_INTERNAL, "Constant: the value is not available");
  size_t bytes = tensor_bytes(&out[0]);
  if (bytes && out[0].data != v->t.data) memcpy(out[0].data, v->t.data, bytes);
  return CLCNN_OK;
}

static clcnn_status cos_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                            int nout, clcnn_err *err) {
  (void)in, (void)nin, (void)nout, (void)err;
  const constant_of_shape_params *p = cn->n->params;
  fill(out[0].data, (size_t)clcnn_tensor_numel(&out[0]), p->value, dtype_size(out[0].dtype));
  return CLCNN_OK;
}

/* ------------------------------------------------------------------ Cast */

enum { CAST_CHUNK = 1024 };

static bool is_float_type(clcnn_dtype dt) {
  return dt == CLCNN_DTYPE_FLOAT32 || dt == CLCNN_DTYPE_FLOAT64 || dt == CLCNN_DTYPE_FLOAT16 ||
         dt == CLCNN_DTYPE_BFLOAT16 || dtype_is_f8(dt);
}

/* Saturating float -> int64, truncating toward zero; NaN -> 0. */
static inline int64_t f2i(double v, double lo, double hi) {
  if (v != v) return 0;
  if (v <= lo) return (int64_t)lo;
  if (v >= hi) return (int64_t)hi;
  return (int64_t)v;
}

static void read_f(clcnn_dtype dt, const void *src, size_t n, double *d) {
  switch (dt) {
    case CLCNN_DTYPE_FLOAT32:
      for (size_t i = 0; i < n; i++) d[i] = ((const float *)src)[i];
      break;
    case CLCNN_DTYPE_FLOAT64: memcpy(d, src, n * sizeof(double)); break;
    case CLCNN_DTYPE_FLOAT16:
      for (size_t i = 0; i < n; i++) d[i] = f16_to_float(((const uint16_t *)src)[i]);
      break;
    case CLCNN_DTYPE_BFLOAT16:
      for (size_t i = 0; i < n; i++) d[i] = bf16_to_float(((const uint16_t *)src)[i]);
      break;
    default:
      if (dtype_is_f8(dt))
        for (size_t i = 0; i < n; i++) d[i] = f8_to_float(dt, ((const uint8_t *)src)[i]);
      break;
  }
}

static void read_i(clcnn_dtype dt, const void *src, size_t n, int64_t *v) {
  switch (dt) {
    case CLCNN_DTYPE_INT64: memcpy(v, src, n * sizeof(int64_t)); break;
    case CLCNN_DTYPE_INT32:
      for (size_t i = 0; i < n; i++) v[i] = ((const int32_t *)src)[i];
      break;
    case CLCNN_DTYPE_INT8:
    case CLCNN_DTYPE_INT4:
    case CLCNN_DTYPE_INT2:
      for (size_t i = 0; i < n; i++) v[i] = ((const int8_t *)src)[i];
      break;
    case CLCNN_DTYPE_UINT8:
    case CLCNN_DTYPE_UINT4:
    case CLCNN_DTYPE_UINT2:
      for (size_t i = 0; i < n; i++) v[i] = ((const uint8_t *)src)[i];
      break;
    case CLCNN_DTYPE_INT16:
      for (size_t i = 0; i < n; i++) v[i] = ((const int16_t *)src)[i];
      break;
    case CLCNN_DTYPE_UINT16:
      for (size_t i = 0; i < n; i++) v[i] = ((const uint16_t *)src)[i];
      break;
    case CLCNN_DTYPE_UINT32:
      for (size_t i = 0; i < n; i++) v[i] = ((const uint32_t *)src)[i];
      break;
    case CLCNN_DTYPE_UINT64: /* the bits: exact for the integer casts, which wrap */
      memcpy(v, src, n * sizeof(int64_t));
      break;
    case CLCNN_DTYPE_BOOL:
      for (size_t i = 0; i < n; i++) v[i] = ((const uint8_t *)src)[i] != 0;
      break;
    default: break;
  }
}

static void write_from_i(clcnn_dtype dt, const int64_t *v, size_t n, void *dst);

/* Floats to any type: integers truncate toward zero and saturate (the
 * sub-byte ones wrap). n <= CAST_CHUNK. */
static void write_from_f(clcnn_dtype dt, const double *d, size_t n, void *dst) {
  switch (dt) {
    case CLCNN_DTYPE_FLOAT32:
      for (size_t i = 0; i < n; i++) ((float *)dst)[i] = (float)d[i];
      break;
    case CLCNN_DTYPE_FLOAT64: memcpy(dst, d, n * sizeof(double)); break;
    case CLCNN_DTYPE_FLOAT16:
      for (size_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = f16_from_double(d[i]);
      break;
    case CLCNN_DTYPE_BFLOAT16: /* through float: bfloat16 is a rounded float */
      for (size_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = bf16_from_float((float)d[i]);
      break;
    case CLCNN_DTYPE_INT64:
      for (size_t i = 0; i < n; i++) {
        double v = d[i];
        ((int64_t *)dst)[i] = v != v                           ? 0
                              : v >= 9223372036854775807.0     ? INT64_MAX
                              : v <= -9223372036854775808.0    ? INT64_MIN
                                                               : (int64_t)v;
      }
      break;
    case CLCNN_DTYPE_INT32:
      for (size_t i = 0; i < n; i++)
        ((int32_t *)dst)[i] = (int32_t)f2i(d[i], -2147483648.0, 2147483647.0);
      break;
    case CLCNN_DTYPE_INT8:
      for (size_t i = 0; i < n; i++) ((int8_t *)dst)[i] = (int8_t)f2i(d[i], -128.0, 127.0);
      break;
    case CLCNN_DTYPE_UINT8:
      for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = (uint8_t)f2i(d[i], 0.0, 255.0);
      break;
    case CLCNN_DTYPE_INT16:
      for (size_t i = 0; i < n; i++) ((int16_t *)dst)[i] = (int16_t)f2i(d[i], -32768.0, 32767.0);
      break;
    case CLCNN_DTYPE_UINT16:
      for (size_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = (uint16_t)f2i(d[i], 0.0, 65535.0);
      break;
    case CLCNN_DTYPE_UINT32:
      for (size_t i = 0; i < n; i++)
        ((uint32_t *)dst)[i] = (uint32_t)f2i(d[i], 0.0, 4294967295.0);
      break;
    case CLCNN_DTYPE_UINT64:
      for (size_t i = 0; i < n; i++) {
        double v = d[i];
        ((uint64_t *)dst)[i] = !(v > 0.0)                  ? 0
                               : v >= 18446744073709551615.0 ? UINT64_MAX
                                                             : (uint64_t)v;
      }
      break;
    case CLCNN_DTYPE_INT4:
    case CLCNN_DTYPE_UINT4:
    case CLCNN_DTYPE_INT2:
    case CLCNN_DTYPE_UINT2: {
      /* ONNX's data for these: truncate, then wrap around like an integer
       * cast (Cast(-9.0) to int4 is 7). */
      int64_t v[CAST_CHUNK];
      for (size_t i = 0; i < n; i++) v[i] = f2i(d[i], -9.2e18, 9.2e18);
      write_from_i(dt, v, n, dst);
      break;
    }
    case CLCNN_DTYPE_BOOL:
      for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = d[i] != 0.0;
      break;
    default: break;
  }
}

/* Integers to any type: narrower integers wrap around (two's complement). */
static void write_from_i(clcnn_dtype dt, const int64_t *v, size_t n, void *dst) {
  switch (dt) {
    case CLCNN_DTYPE_FLOAT32:
      for (size_t i = 0; i < n; i++) ((float *)dst)[i] = (float)v[i];
      break;
    case CLCNN_DTYPE_FLOAT64:
      for (size_t i = 0; i < n; i++) ((double *)dst)[i] = (double)v[i];
      break;
    case CLCNN_DTYPE_FLOAT16:
      for (size_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = f16_from_double((double)v[i]);
      break;
    case CLCNN_DTYPE_BFLOAT16:
      for (size_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = bf16_from_float((float)v[i]);
      break;
    case CLCNN_DTYPE_INT64: memcpy(dst, v, n * sizeof(int64_t)); break;
    case CLCNN_DTYPE_INT32:
      for (size_t i = 0; i < n; i++) ((int32_t *)dst)[i] = (int32_t)(uint32_t)(uint64_t)v[i];
      break;
    case CLCNN_DTYPE_INT8:
      for (size_t i = 0; i < n; i++) ((int8_t *)dst)[i] = (int8_t)(uint8_t)(uint64_t)v[i];
      break;
    case CLCNN_DTYPE_UINT8:
      for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = (uint8_t)(uint64_t)v[i];
      break;
    case CLCNN_DTYPE_INT16:
      for (size_t i = 0; i < n; i++) ((int16_t *)dst)[i] = (int16_t)(uint16_t)(uint64_t)v[i];
      break;
    case CLCNN_DTYPE_UINT16:
      for (size_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = (uint16_t)(uint64_t)v[i];
      break;
    case CLCNN_DTYPE_UINT32:
      for (size_t i = 0; i < n; i++) ((uint32_t *)dst)[i] = (uint32_t)(uint64_t)v[i];
      break;
    case CLCNN_DTYPE_UINT64: memcpy(dst, v, n * sizeof(int64_t)); break;
    case CLCNN_DTYPE_INT4:
    case CLCNN_DTYPE_UINT4:
    case CLCNN_DTYPE_INT2:
    case CLCNN_DTYPE_UINT2: { /* the low bits, sign-extended for the signed types */
      const int bits = dtype_packed_bits(dt);
      const bool sign = dt == CLCNN_DTYPE_INT4 || dt == CLCNN_DTYPE_INT2;
      for (size_t i = 0; i < n; i++) {
        unsigned b = (unsigned)((uint64_t)v[i] & ((1u << bits) - 1));
        ((uint8_t *)dst)[i] = (uint8_t)(sign && (b >> (bits - 1)) ? b | (0xffu << bits) : b);
      }
      break;
    }
    case CLCNN_DTYPE_BOOL:
      for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = v[i] != 0;
      break;
    default: break;
  }
}

static clcnn_status cast_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                             int nout, clcnn_err *err) {
  (void)nin, (void)nout;
  clcnn_dtype from = in[0].dtype, to = out[0].dtype;
  size_t es_in = dtype_size(from), es_out = dtype_size(to);
  if (!es_in || !es_out)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "cast from %s to %s is not supported",
                   dtype_name(from), dtype_name(to));
  size_t count = (size_t)clcnn_tensor_numel(&in[0]);
  const cast_params *p = cn->n->params;
  const bool lowered = p && (p->round_half || p->round_bf16 || p->round_f8);
  if ((lowered && to == CLCNN_DTYPE_FLOAT32) || dtype_is_f8(to)) {
    /* a lowered Cast to float16, bfloat16, float8 or float4 (float32
     * holding the rounded values), or a Cast to float8 or float4 */
    const bool sat = p ? p->saturate != 0 : true;
    const int mode = p ? p->round_mode : F8_ROUND_UP;
    double buf[CAST_CHUNK];
    int64_t ibuf[CAST_CHUNK];
    for (size_t at = 0; at < count; at += CAST_CHUNK) {
      size_t n = count - at < CAST_CHUNK ? count - at : CAST_CHUNK;
      if (is_float_type(from)) {
        read_f(from, (const uint8_t *)in[0].data + at * es_in, n, buf);
      } else if (from == CLCNN_DTYPE_UINT64) {
        for (size_t i = 0; i < n; i++) buf[i] = (double)((const uint64_t *)in[0].data)[at + i];
      } else {
        read_i(from, (const uint8_t *)in[0].data + at * es_in, n, ibuf);
        for (size_t i = 0; i < n; i++) buf[i] = (double)ibuf[i];
      }
      if (dtype_is_f8(to)) {
        uint8_t *b = (uint8_t *)out[0].data + at;
        for (size_t i = 0; i < n; i++) b[i] = f8_from_double(to, buf[i], sat, mode);
      } else if (p->round_f8) {
        float *y = (float *)out[0].data + at;
        for (size_t i = 0; i < n; i++) y[i] = f8_round(p->round_f8, buf[i], sat, mode);
      } else {
        float *y = (float *)out[0].data + at;
        for (size_t i = 0; i < n; i++)
          y[i] = p->round_bf16 ? bf16_round(buf[i]) : f16_round(buf[i]);
      }
    }
    return CLCNN_OK;
  }
  if (from == to) {
    if (count && out[0].data != in[0].data) memcpy(out[0].data, in[0].data, count * es_in);
    return CLCNN_OK;
  }
  const uint8_t *src = in[0].data;
  uint8_t *dst = out[0].data;
  bool fsrc = is_float_type(from);
  /* Common pairs without the intermediate buffer. */
  if (from == CLCNN_DTYPE_INT64 && to == CLCNN_DTYPE_FLOAT32) {
    for (size_t i = 0; i < count; i++) ((float *)dst)[i] = (float)((const int64_t *)src)[i];
    return CLCNN_OK;
  }
  if (from == CLCNN_DTYPE_INT32 && to == CLCNN_DTYPE_INT64) {
    for (size_t i = 0; i < count; i++) ((int64_t *)dst)[i] = ((const int32_t *)src)[i];
    return CLCNN_OK;
  }
  if (from == CLCNN_DTYPE_FLOAT32 && to == CLCNN_DTYPE_FLOAT16) {
    for (size_t i = 0; i < count; i++)
      ((uint16_t *)dst)[i] = f16_from_double(((const float *)src)[i]);
    return CLCNN_OK;
  }
  if (from == CLCNN_DTYPE_FLOAT16 && to == CLCNN_DTYPE_FLOAT32) {
    for (size_t i = 0; i < count; i++)
      ((float *)dst)[i] = f16_to_float(((const uint16_t *)src)[i]);
    return CLCNN_OK;
  }
  union {
    double f[CAST_CHUNK];
    int64_t i[CAST_CHUNK];
  } buf;
  for (size_t at = 0; at < count; at += CAST_CHUNK) {
    size_t n = count - at < CAST_CHUNK ? count - at : CAST_CHUNK;
    if (fsrc) {
      read_f(from, src + at * es_in, n, buf.f);
      write_from_f(to, buf.f, n, dst + at * es_out);
    } else if (from == CLCNN_DTYPE_UINT64 && is_float_type(to)) { /* beyond int64's range */
      for (size_t i = 0; i < n; i++) buf.f[i] = (double)((const uint64_t *)src)[at + i];
      write_from_f(to, buf.f, n, dst + at * es_out);
    } else {
      read_i(from, src + at * es_in, n, buf.i);
      write_from_i(to, buf.i, n, dst + at * es_out);
    }
  }
  return CLCNN_OK;
}

/* ----------------------------------------------------------- Range, Size */

/* Element i = start + i * delta: exact in integers (wrapping), in double
 * for floats, rounded once to the output type. */
static clcnn_status range_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                              int nout, clcnn_err *err) {
  (void)cn, (void)nout;
  if (nin != 3 || out[0].rank != 1)
    return err_set(err, CLCNN_ERROR_INTERNAL, "Range: bad inputs or output");
  const int64_t len = out[0].dims[0];
  const clcnn_dtype dt = out[0].dtype;
  if (dt == CLCNN_DTYPE_INT64 || dt == CLCNN_DTYPE_INT32) {
    const uint64_t s = (uint64_t)tensor_get_i64(&in[0], 0), d = (uint64_t)tensor_get_i64(&in[2], 0);
    for (int64_t i = 0; i < len; i++) {
      const uint64_t v = s + (uint64_t)i * d;
      if (dt == CLCNN_DTYPE_INT64)
        ((int64_t *)out[0].data)[i] = (int64_t)v;
      else
        ((int32_t *)out[0].data)[i] = (int32_t)(uint32_t)v;
    }
    return CLCNN_OK;
  }
  const double s = tensor_get_f64(&in[0], 0), d = tensor_get_f64(&in[2], 0);
  const size_t es = dtype_size(dt);
  for (int64_t i = 0; i < len; i++) {
    uint8_t v[8];
    shape_scalar_store(dt, s + (double)i * d, v);
    memcpy((uint8_t *)out[0].data + (size_t)i * es, v, es);
  }
  return CLCNN_OK;
}

static clcnn_status size_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                             int nout, clcnn_err *err) {
  (void)cn, (void)nin, (void)nout;
  if (out[0].dtype != CLCNN_DTYPE_INT64 || clcnn_tensor_numel(&out[0]) != 1)
    return err_set(err, CLCNN_ERROR_INTERNAL, "Size: the output is not an int64 scalar");
  *(int64_t *)out[0].data = clcnn_tensor_numel(&in[0]);
  return CLCNN_OK;
}

/* ----------------------------------------------------------------- table */

static const cpu_op copy_cpu = {NULL, NULL, copy_run, NULL};
static const cpu_op dropout_cpu = {NULL, NULL, dropout_run, NULL};
static const cpu_op shape_cpu = {NULL, NULL, shape_run, NULL};
static const cpu_op constant_cpu = {NULL, NULL, constant_run, NULL};
static const cpu_op cos_cpu = {NULL, NULL, cos_run, NULL};
static const cpu_op cast_cpu = {NULL, NULL, cast_run, NULL};
static const cpu_op range_cpu = {NULL, NULL, range_run, NULL};
static const cpu_op size_cpu = {NULL, NULL, size_run, NULL};

const cpu_op *const cpu_ops_shape[CLCNN_OP_COUNT] = {
    [CLCNN_OP_RESHAPE] = &copy_cpu,
    [CLCNN_OP_FLATTEN] = &copy_cpu,
    [CLCNN_OP_SQUEEZE] = &copy_cpu,
    [CLCNN_OP_UNSQUEEZE] = &copy_cpu,
    [CLCNN_OP_IDENTITY] = &copy_cpu,
    [CLCNN_OP_DROPOUT] = &dropout_cpu,
    [CLCNN_OP_SHAPE] = &shape_cpu,
    [CLCNN_OP_CONSTANT] = &constant_cpu,
    [CLCNN_OP_CONSTANT_OF_SHAPE] = &cos_cpu,
    [CLCNN_OP_CAST] = &cast_cpu,
    [CLCNN_OP_CAST_LIKE] = &cast_cpu,
    [CLCNN_OP_RANGE] = &range_cpu,
    [CLCNN_OP_SIZE] = &size_cpu,
};
