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

size_t value_elem_bytes(const ir_value *v) { return v->half ? 2 : dtype_size(v->t.dtype); }

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
    case CLCNN_DTYPE_FLOAT8E4M3FN:
    case CLCNN_DTYPE_FLOAT8E4M3FNUZ:
    case CLCNN_DTYPE_FLOAT8E5M2:
    case CLCNN_DTYPE_FLOAT8E5M2FNUZ:
    case CLCNN_DTYPE_FLOAT8E8M0:
    case CLCNN_DTYPE_FLOAT4E2M1: return 1; /* one element per byte */
    default: return 0;
  }
}

int dtype_packed_bits(clcnn_dtype dt) {
  switch (dt) {
    case CLCNN_DTYPE_UINT4:
    case CLCNN_DTYPE_INT4:
    case CLCNN_DTYPE_FLOAT4E2M1: return 4;
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
    case CLCNN_DTYPE_FLOAT8E4M3FN: return "float8e4m3fn";
    case CLCNN_DTYPE_FLOAT8E4M3FNUZ: return "float8e4m3fnuz";
    case CLCNN_DTYPE_FLOAT8E5M2: return "float8e5m2";
    case CLCNN_DTYPE_FLOAT8E5M2FNUZ: return "float8e5m2fnuz";
    case CLCNN_DTYPE_FLOAT4E2M1: return "float4e2m1";
    case CLCNN_DTYPE_FLOAT8E8M0: return "float8e8m0";
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
    case CLCNN_DTYPE_FLOAT8E4M3FN:
    case CLCNN_DTYPE_FLOAT8E4M3FNUZ:
    case CLCNN_DTYPE_FLOAT8E5M2:
    case CLCNN_DTYPE_FLOAT8E5M2FNUZ:
    case CLCNN_DTYPE_FLOAT8E8M0:
    case CLCNN_DTYPE_FLOAT4E2M1: return f8_to_float(t->dtype, ((const uint8_t *)t->data)[i]);
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

/* -------------------------------------------- 8-bit and 4-bit floats */

/* The layout of a small float format and what its top patterns mean
 * (ONNX's Cast: the float8 tables; FLOAT4E2M1: no infinity, no NaN). */
typedef enum { F8_IEEE, F8_FN, F8_FNUZ, F8_FINITE } f8_kind;
typedef struct f8_format {
  int ebits, mbits, bias;
  f8_kind kind; /* IEEE: the top exponent holds inf and NaNs; FN: only S.1111.111 is NaN;
                   FNUZ: 0x80 is the one NaN and there is no -0; FINITE: neither */
} f8_format;

static const f8_format *f8_format_of(clcnn_dtype dt) {
  static const f8_format e4m3fn = {4, 3, 7, F8_FN}, e4m3fnuz = {4, 3, 8, F8_FNUZ},
                         e5m2 = {5, 2, 15, F8_IEEE}, e5m2fnuz = {5, 2, 16, F8_FNUZ},
                         e2m1 = {2, 1, 1, F8_FINITE};
  switch (dt) {
    case CLCNN_DTYPE_FLOAT8E4M3FN: return &e4m3fn;
    case CLCNN_DTYPE_FLOAT8E4M3FNUZ: return &e4m3fnuz;
    case CLCNN_DTYPE_FLOAT8E5M2: return &e5m2;
    case CLCNN_DTYPE_FLOAT8E5M2FNUZ: return &e5m2fnuz;
    case CLCNN_DTYPE_FLOAT4E2M1: return &e2m1;
    default: return NULL;
  }
}

bool dtype_is_f8(clcnn_dtype dt) {
  return f8_format_of(dt) != NULL || dt == CLCNN_DTYPE_FLOAT8E8M0;
}

/* The largest finite value of a format. */
static double f8_max(const f8_format *f) {
  const int top = (1 << f->ebits) - 1; /* the all-ones exponent */
  switch (f->kind) {
    case F8_IEEE: return ldexp(2.0 - ldexp(1.0, -f->mbits), top - 1 - f->bias);
    case F8_FN: return ldexp(2.0 - ldexp(2.0, -f->mbits), top - f->bias);
    default: return ldexp(2.0 - ldexp(1.0, -f->mbits), top - f->bias);
  }
}

float f8_to_float(clcnn_dtype dt, uint8_t b) {
  const f8_format *f = f8_format_of(dt);
  if (!f) { /* FLOAT8E8M0: 2^(b - 127); 0xff is NaN */
    if (dt != CLCNN_DTYPE_FLOAT8E8M0 || b == 0xff) return NAN;
    return ldexpf(1.0f, (int)b - 127);
  }
  const unsigned sbit = 1u << (f->ebits + f->mbits), code = b & (2 * sbit - 1);
  const unsigned e = (code >> f->mbits) & ((1u << f->ebits) - 1), m = code & ((1u << f->mbits) - 1);
  const bool neg = code & sbit;
  if (f->kind == F8_FNUZ && code == sbit) return NAN;
  if (f->kind == F8_FN && (code & (sbit - 1)) == sbit - 1) return neg ? -NAN : NAN;
  if (f->kind == F8_IEEE && e == (1u << f->ebits) - 1)
    return m ? (neg ? -NAN : NAN) : neg ? -INFINITY : INFINITY;
  double v = e ? ldexp(1.0 + ldexp((double)m, -f->mbits), (int)e - f->bias)
               : ldexp((double)m, 1 - f->bias - f->mbits);
  return (float)(neg ? -v : v);
}

/* FLOAT8E8M0 (2^-127 to 2^127 and NaN), as the table of ONNX's Cast gives
 * it (onnxruntime agrees): `up` rounds any fraction up, `down` truncates,
 * `nearest` rounds up from half way (1.5 * 2^e and above); out of range (0,
 * negative values, infinity, or rounded past 2^127) with saturate the
 * nearest end, without it NaN. */
static uint8_t e8m0_from_double(double v, bool saturate, int round_mode) {
  if (v != v) return 0xff;
  if (!(v >= 0x1p-127 && v <= 0x1p127)) return saturate ? (v > 1 ? 0xfe : 0x00) : 0xff;
  int ex;
  const double m = 2.0 * frexp(v, &ex); /* v = m * 2^(ex - 1), m in [1, 2) */
  int e = ex - 1;
  if (m > 1.0 && (round_mode == F8_ROUND_UP || (round_mode == F8_ROUND_NEAREST && m >= 1.5))) e++;
  if (e > 127) return saturate ? 0xfe : 0xff;
  return (uint8_t)(e + 127);
}

uint8_t f8_from_double(clcnn_dtype dt, double v, bool saturate, int round_mode) {
  const f8_format *f = f8_format_of(dt);
  if (!f) return dt == CLCNN_DTYPE_FLOAT8E8M0 ? e8m0_from_double(v, saturate, round_mode) : 0;
  const unsigned sbit = 1u << (f->ebits + f->mbits), top = (1u << f->ebits) - 1;
  const unsigned sign = signbit(v) ? sbit : 0;
  const double a = fabs(v), max = f8_max(f);
  /* the patterns of NaN and of the largest finite value, unsigned */
  const unsigned nan = f->kind == F8_FNUZ ? sbit
                       : f->kind == F8_FN ? sbit - 1
                                          : (top << f->mbits) | (1u << (f->mbits - 1));
  const unsigned maxcode = f->kind == F8_IEEE ? ((top - 1) << f->mbits) | ((1u << f->mbits) - 1)
                           : f->kind == F8_FN ? sbit - 2
                                              : sbit - 1;
  /* NaN; FLOAT4E2M1 has none and ONNX's reference data gives -0 */
  if (a != a) return (uint8_t)(f->kind == F8_FINITE ? sbit : f->kind == F8_FNUZ ? nan : sign | nan);
  if (a == 0) return f->kind == F8_FNUZ ? 0 : (uint8_t)sign;
  /* a in units of the spacing q of its binade (the smallest binade for
   * subnormals), rounded to nearest, ties to even */
  double r = 0;
  int ex = 0, emin = 1 - f->bias;
  if (a <= max * 2) { /* else: overflow (and a / q could be huge) */
    (void)frexp(a, &ex);
    ex = ex - 1 < emin ? emin : ex - 1; /* a = 1.x * 2^ex, or subnormal */
    r = nearbyint(ldexp(a, f->mbits - ex));
  }
  if (a > max * 2 || ldexp(r, ex - f->mbits) > max) { /* overflow, infinity included */
    if (saturate || f->kind == F8_FINITE) return (uint8_t)(sign | maxcode);
    if (f->kind == F8_IEEE) return (uint8_t)(sign | (top << f->mbits));
    return (uint8_t)(f->kind == F8_FNUZ ? nan : sign | nan);
  }
  if (r == 0) return f->kind == F8_FNUZ ? 0 : (uint8_t)sign;
  unsigned n = (unsigned)r, one = 1u << f->mbits;
  if (n < one) return (uint8_t)(sign | n); /* subnormal */
  if (n >= 2 * one) n >>= 1, ex++;         /* rounded up into the next binade */
  return (uint8_t)(sign | ((unsigned)(ex + f->bias) << f->mbits) | (n - one));
}

float f8_round(clcnn_dtype dt, double v, bool saturate, int round_mode) {
  return f8_to_float(dt, f8_from_double(dt, v, saturate, round_mode));
}
