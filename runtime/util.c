/* Errors, element types and shape arithmetic. */
#include <math.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

clcnn_status err_set(clcnn_err *e, clcnn_status status, const char *fmt, ...) {
  if (!e) return status;
  /* Through a copy: callers may pass e->msg itself as an argument, to put
   * context in front of a message ("transfer of 'x': %s", e->msg). */
  char msg[sizeof e->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  memcpy(e->msg, msg, sizeof msg);
  e->status = status;
  return status;
}

bool flag_is_set(const volatile int *flag) {
  if (!flag) return false;
#if defined(__GNUC__)
  return __atomic_load_n(flag, __ATOMIC_ACQUIRE) != 0;
#else
  return *flag != 0;
#endif
}

clcnn_status err_append(clcnn_err *e, clcnn_status status, const char *fmt, ...) {
  if (!e) return status;
  if (e->status == CLCNN_OK) e->status = status;
  size_t len = strlen(e->msg);
  if (len && len + 2 < sizeof e->msg) {
    memcpy(e->msg + len, "; ", 3);
    len += 2;
  }
  if (len + 1 < sizeof e->msg) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg + len, sizeof e->msg - len, fmt, ap);
    va_end(ap);
  }
  return e->status;
}

size_t dtype_size(clcnn_dtype dt) {
  switch (dt) {
    case CLCNN_DTYPE_FLOAT32: return 4;
    case CLCNN_DTYPE_UINT8: return 1;
    case CLCNN_DTYPE_INT8: return 1;
    case CLCNN_DTYPE_UINT16: return 2;
    case CLCNN_DTYPE_INT16: return 2;
    case CLCNN_DTYPE_UINT4:
    case CLCNN_DTYPE_INT4:
    case CLCNN_DTYPE_UINT2:
    case CLCNN_DTYPE_INT2: return 1; /* one element per byte (clcnn.h) */
    case CLCNN_DTYPE_INT32: return 4;
    case CLCNN_DTYPE_INT64: return 8;
    case CLCNN_DTYPE_UINT32: return 4;
    case CLCNN_DTYPE_UINT64: return 8;
    case CLCNN_DTYPE_BOOL: return 1;
    case CLCNN_DTYPE_FLOAT16: return 2;
    case CLCNN_DTYPE_BFLOAT16: return 2;
    case CLCNN_DTYPE_FLOAT64: return 8;
    default: return 0;
  }
}

int dtype_packed_bits(clcnn_dtype dt) {
  switch (dt) {
    case CLCNN_DTYPE_UINT4:
    case CLCNN_DTYPE_INT4: return 4;
    case CLCNN_DTYPE_UINT2:
    case CLCNN_DTYPE_INT2: return 2;
    default: return 0;
  }
}

bool dtype_int_range(clcnn_dtype dt, int64_t *lo, int64_t *hi) {
  switch (dt) {
    case CLCNN_DTYPE_UINT8: *lo = 0, *hi = 255; return true;
    case CLCNN_DTYPE_INT8: *lo = -128, *hi = 127; return true;
    case CLCNN_DTYPE_UINT16: *lo = 0, *hi = 65535; return true;
    case CLCNN_DTYPE_INT16: *lo = -32768, *hi = 32767; return true;
    case CLCNN_DTYPE_INT32: *lo = INT32_MIN, *hi = INT32_MAX; return true;
    case CLCNN_DTYPE_INT64: *lo = INT64_MIN, *hi = INT64_MAX; return true;
    case CLCNN_DTYPE_UINT32: *lo = 0, *hi = UINT32_MAX; return true;
    case CLCNN_DTYPE_UINT64: *lo = 0, *hi = INT64_MAX; return true; /* as far as int64 goes */
    case CLCNN_DTYPE_UINT4: *lo = 0, *hi = 15; return true;
    case CLCNN_DTYPE_INT4: *lo = -8, *hi = 7; return true;
    case CLCNN_DTYPE_UINT2: *lo = 0, *hi = 3; return true;
    case CLCNN_DTYPE_INT2: *lo = -2, *hi = 1; return true;
    default: return false;
  }
}

const char *dtype_name(clcnn_dtype dt) {
  switch (dt) {
    case CLCNN_DTYPE_FLOAT32: return "float32";
    case CLCNN_DTYPE_UINT8: return "uint8";
    case CLCNN_DTYPE_INT8: return "int8";
    case CLCNN_DTYPE_UINT16: return "uint16";
    case CLCNN_DTYPE_INT16: return "int16";
    case CLCNN_DTYPE_UINT4: return "uint4";
    case CLCNN_DTYPE_INT4: return "int4";
    case CLCNN_DTYPE_UINT2: return "uint2";
    case CLCNN_DTYPE_INT2: return "int2";
    case CLCNN_DTYPE_INT32: return "int32";
    case CLCNN_DTYPE_INT64: return "int64";
    case CLCNN_DTYPE_UINT32: return "uint32";
    case CLCNN_DTYPE_UINT64: return "uint64";
    case CLCNN_DTYPE_BOOL: return "bool";
    case CLCNN_DTYPE_FLOAT16: return "float16";
    case CLCNN_DTYPE_BFLOAT16: return "bfloat16";
    case CLCNN_DTYPE_FLOAT64: return "float64";
    default: return "undefined";
  }
}

int64_t shape_numel(int rank, const int64_t *dims) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  return n;
}

bool shape_numel_checked(int rank, const int64_t *dims, int64_t *numel) {
  return shape_numel_within(rank, dims, CLCNN_MAX_ELEMENTS, numel);
}

bool shape_numel_within(int rank, const int64_t *dims, int64_t limit, int64_t *numel) {
  if (rank < 0 || rank > CLCNN_MAX_RANK) return false;
  if (limit <= 0 || limit > CLCNN_MAX_ELEMENTS) limit = CLCNN_MAX_ELEMENTS;
  int64_t total = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0 || dims[i] > limit) return false;
    if (dims[i] && total > limit / dims[i]) return false;
    total *= dims[i];
  }
  *numel = total;
  return true;
}

int64_t graph_max_elements(const ir_graph *g) {
  return g->max_elements > 0 && g->max_elements < CLCNN_MAX_ELEMENTS ? g->max_elements
                                                                      : CLCNN_MAX_ELEMENTS;
}

char *elements_str(int64_t n, char *buf, size_t len) {
  if (n > 0 && (n & (n - 1)) == 0) {
    int k = 0;
    while (((int64_t)1 << k) != n) k++;
    snprintf(buf, len, "2^%d", k);
  } else {
    snprintf(buf, len, "%lld", (long long)n);
  }
  return buf;
}

char *shape_str(int rank, const int64_t *dims, char *buf, size_t len) {
  size_t at = 0;
  buf[0] = 0;
  if (rank == 0) {
    snprintf(buf, len, "scalar");
    return buf;
  }
  for (int i = 0; i < rank && at < len; i++) {
    int w = snprintf(buf + at, len - at, i ? "x%" PRId64 : "%" PRId64, dims[i]);
    if (w < 0) break;
    at += (size_t)w;
  }
  return buf;
}

bool shape_broadcast(int ra, const int64_t *a, int rb, const int64_t *b, int *rout,
                     int64_t *out) {
  int r = ra > rb ? ra : rb;
  if (r > CLCNN_MAX_RANK) return false;
  for (int i = 0; i < r; i++) {
    int64_t da = i < r - ra ? 1 : a[i - (r - ra)];
    int64_t db = i < r - rb ? 1 : b[i - (r - rb)];
    if (da == db || db == 1)
      out[i] = da;
    else if (da == 1)
      out[i] = db;
    else
      return false;
  }
  *rout = r;
  return true;
}

void ir_set_shape(ir_value *v, clcnn_dtype dtype, int rank, const int64_t *dims) {
  v->t.dtype = dtype;
  v->t.rank = rank;
  for (int i = 0; i < CLCNN_MAX_RANK; i++) v->t.dims[i] = i < rank ? dims[i] : 0;
  v->shape_known = true;
}

int64_t tensor_get_i64(const clcnn_tensor *t, int64_t i) {
  switch (t->dtype) {
    case CLCNN_DTYPE_INT64: return ((const int64_t *)t->data)[i];
    case CLCNN_DTYPE_INT32: return ((const int32_t *)t->data)[i];
    case CLCNN_DTYPE_INT8:
    case CLCNN_DTYPE_INT4:
    case CLCNN_DTYPE_INT2: return ((const int8_t *)t->data)[i];
    case CLCNN_DTYPE_UINT8:
    case CLCNN_DTYPE_UINT4:
    case CLCNN_DTYPE_UINT2: return ((const uint8_t *)t->data)[i];
    case CLCNN_DTYPE_INT16: return ((const int16_t *)t->data)[i];
    case CLCNN_DTYPE_UINT16: return ((const uint16_t *)t->data)[i];
    case CLCNN_DTYPE_UINT32: return ((const uint32_t *)t->data)[i];
    case CLCNN_DTYPE_UINT64: { /* saturated: shape values never come near */
      uint64_t v = ((const uint64_t *)t->data)[i];
      return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
    }
    case CLCNN_DTYPE_BOOL: return ((const uint8_t *)t->data)[i] != 0;
    case CLCNN_DTYPE_FLOAT32: return (int64_t)((const float *)t->data)[i];
    case CLCNN_DTYPE_FLOAT64: return (int64_t)((const double *)t->data)[i];
    default: return 0;
  }
}

double tensor_get_f64(const clcnn_tensor *t, int64_t i) {
  switch (t->dtype) {
    case CLCNN_DTYPE_FLOAT32: return ((const float *)t->data)[i];
    case CLCNN_DTYPE_FLOAT16: return f16_to_float(((const uint16_t *)t->data)[i]);
    case CLCNN_DTYPE_BFLOAT16: return bf16_to_float(((const uint16_t *)t->data)[i]);
    case CLCNN_DTYPE_FLOAT64: return ((const double *)t->data)[i];
    case CLCNN_DTYPE_UINT64: return (double)((const uint64_t *)t->data)[i];
    default: return (double)tensor_get_i64(t, i);
  }
}

int64_t clcnn_tensor_numel(const clcnn_tensor *t) {
  return t ? shape_numel(t->rank, t->dims) : 0;
}

/* IEEE half precision <-> float/double, round to nearest even. */
float f16_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, b;
  if (e == 0x1f) {
    b = sign | 0x7f800000u | (m << 13);
  } else if (e) {
    b = sign | ((e + 112u) << 23) | (m << 13);
  } else if (m) { /* subnormal: normalize */
    int sh = 0;
    while (!(m & 0x400u)) {
      m <<= 1;
      sh++;
    }
    b = sign | ((uint32_t)(113 - sh) << 23) | ((m & 0x3ffu) << 13);
  } else {
    b = sign;
  }
  float f;
  memcpy(&f, &b, 4);
  return f;
}

uint16_t f16_from_double(double v) {
  uint16_t sign = signbit(v) ? 0x8000u : 0;
  double a = fabs(v);
  if (a != a) return (uint16_t)(sign | 0x7e00u);
  if (a >= 65520.0) return (uint16_t)(sign | 0x7c00u); /* rounds to infinity */
  if (a < 6.103515625e-05) /* below 2^-14: subnormal, units of 2^-24 */
    return (uint16_t)(sign | (uint16_t)nearbyint(a * 16777216.0));
  int ex;
  double f = frexp(a, &ex); /* a = f * 2^ex, f in [0.5, 1) */
  int e = ex - 1;           /* a = (2f) * 2^e, 2f in [1, 2) */
  double m = nearbyint((2.0 * f - 1.0) * 1024.0);
  if (m >= 1024.0) {
    m = 0;
    e++;
  }
  return (uint16_t)(sign | (uint16_t)((e + 15) << 10) | (uint16_t)m);
}


float f16_round(double v) { return f16_to_float(f16_from_double(v)); }

float bf16_to_float(uint16_t b) {
  uint32_t u = (uint32_t)b << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

uint16_t bf16_from_float(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* a quiet NaN */
  u += 0x7fffu + ((u >> 16) & 1); /* to nearest, ties to even (overflow gives inf) */
  return (uint16_t)(u >> 16);
}

float bf16_round(double v) { return bf16_to_float(bf16_from_float((float)v)); }
