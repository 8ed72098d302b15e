/* CPU backend: the unary family, and the activation applied by Conv, Gemm
 * and MatMul nodes that have one fused (cpu_unary_apply). */
#include <math.h>
#include <string.h>

#include "../internal.h"
#include "../ops/unary.h"
#include "threadpool.h"

/* `omp simd` asks for vectorisation even at -O2 (where GCC's cost model
 * would not vectorise a loop that needs an epilogue). It is a hint: clang
 * warns where it cannot follow it (sanitizer builds, calls to libm without
 * -fno-math-errno), which is no reason to fail a -Werror build. */
#if defined(_OPENMP)
#define SIMD _Pragma("omp simd")
#else
#define SIMD
#endif
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

/* Elements per task when a node is split across threads. */
#define CHUNK ((size_t)1 << 14)

static inline float f32_from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}
static inline uint32_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

/* c ? a : b, on the bits. With trapping math (the default) GCC turns
 * `c ? const : x` followed by float arithmetic into branches and gives up
 * vectorising the loop; a select on the bits stays branch-free. */
static inline float fsel(int c, float a, float b) {
  const uint32_t m = 0u - (uint32_t)c;
  return f32_from_bits((f32_bits(a) & m) | (f32_bits(b) & ~m));
}

/* exp(x) in float, within about 1 ulp (including subnormal results,
 * overflow to +inf, exp(-inf) = 0 and NaN), written without branches so that
 * a loop calling it vectorises: Cody-Waite reduction x = k ln2 + r with
 * |r| <= ln2/2, a degree 7 Taylor polynomial for exp(r), and 2^k applied as
 * two exact powers of two so that k may reach both ends of the float range.
 * No float-to-int conversion: k comes from the bits of the rounding sum, so
 * a NaN input (which flows through to the result) is never converted. */
static inline float vexpf(float x) {
  float xc = fsel(x > 88.75f, 88.75f, x); /* exp(88.75) > FLT_MAX: overflows to inf below */
  xc = fsel(x < -104.0f, -104.0f, xc);    /* exp(-104) rounds to 0 */
  /* k = round(x / ln2): adding 1.5 * 2^23 leaves k in the low mantissa bits. */
  const float t = xc * 1.44269504088896341f + 12582912.0f;
  const float kf = t - 12582912.0f;
  const int32_t k = (int32_t)(f32_bits(t) - 0x4B400000u); /* -150 .. 128 */
  float r = xc - kf * 0.693359375f; /* ln2 in two parts; kf * hi is exact */
  r = r + kf * 2.12194440e-4f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t k1 = k / 2, k2 = k - k1;
  return p * f32_from_bits((uint32_t)(k1 + 127) << 23) *
         f32_from_bits((uint32_t)(k2 + 127) << 23);
}

static inline float softplusf(float x) {
  /* log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|)). */
  return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
}

/* tanh(x), within a few ulp, vectorisable: an odd Taylor polynomial where
 * |x| < 0.4 (the next term is below 1e-8 relative), else
 * sign(x) (1 - 2 / (exp(2|x|) + 1)), which has no cancellation there. */
static inline float vtanhf(float x) {
  const float x2 = x * x;
  float p = -929569.0f / 638512875.0f;
  p = p * x2 + 21844.0f / 6081075.0f;
  p = p * x2 - 1382.0f / 155925.0f;
  p = p * x2 + 62.0f / 2835.0f;
  p = p * x2 - 17.0f / 315.0f;
  p = p * x2 + 2.0f / 15.0f;
  p = p * x2 - 1.0f / 3.0f;
  const float small = x + x * x2 * p;
  const float ax = f32_from_bits(f32_bits(x) & 0x7FFFFFFFu);
  const float big = 1.0f - 2.0f / (vexpf(2.0f * ax) + 1.0f); /* 1 for large |x|; NaN stays */
  const float big_signed = f32_from_bits(f32_bits(big) | (f32_bits(x) & 0x80000000u));
  return fsel(ax < 0.4f, small, big_signed);
}

/* Mish: x tanh(log(1 + e^x)) = x n (n + 2) / (n (n + 2) + 2) with n = e^x,
 * exact algebra and no cancellation; beyond x = 20 the factor is 1 in float
 * (and n^2 would overflow). */
static inline float vmishf(float x) {
  const float n = vexpf(x), q = n * (n + 2.0f);
  return x * fsel(x > 20.0f, 1.0f, q / (q + 2.0f));
}

#define SQRT1_2_F 0.70710678118654752440f
#define SQRT_2_OVER_PI_F 0.79788456080286535588f


bool op_is_activation(int op) {
  switch (op) {
    case CLCNN_OP_RELU:
    case CLCNN_OP_LEAKYRELU:
    case CLCNN_OP_ELU:
    case CLCNN_OP_SELU:
    case CLCNN_OP_SIGMOID:
    case CLCNN_OP_HARDSIGMOID:
    case CLCNN_OP_HARDSWISH:
    case CLCNN_OP_TANH:
    case CLCNN_OP_CLIP:
    case CLCNN_OP_SOFTPLUS:
    case CLCNN_OP_MISH:
    case CLCNN_OP_GELU:
    case CLCNN_OP_ERF:
    case CLCNN_OP_EXP:
    case CLCNN_OP_LOG:
    case CLCNN_OP_SQRT:
    case CLCNN_OP_NEG:
    case CLCNN_OP_ABS:
    case CLCNN_OP_RECIPROCAL:
      return true;
    default:
      return false;
  }
}

void cpu_unary_apply(int op, const void *params, const float *x, float *y, size_t n) {
  unary_params def;
  const unary_params *p = params;
  if (!p) {
    def = unary_params_default(op);
    p = &def;
  }
  const float alpha = p->alpha, beta = p->beta, gamma = p->gamma;
  switch (op) {
    case CLCNN_OP_RELU:
      SIMD for (size_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
      break;
    case CLCNN_OP_LEAKYRELU:
      /* Written as selects of x or 0 followed by arithmetic: GCC (with
       * trapping math) does not vectorise `x < 0 ? alpha * x : x`. */
      SIMD for (size_t i = 0; i < n; i++) {
        const float v = x[i], pos = v < 0.0f ? 0.0f : v, neg = v < 0.0f ? v : 0.0f;
        y[i] = pos + alpha * neg;
      }
      break;
    case CLCNN_OP_ELU:
      for (size_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? alpha * expm1f(x[i]) : x[i];
      break;
    case CLCNN_OP_SELU:
      for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? gamma * x[i] : gamma * alpha * expm1f(x[i]);
      break;
    case CLCNN_OP_SIGMOID:
      SIMD for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + vexpf(-x[i]));
      break;
    case CLCNN_OP_HARDSIGMOID:
      SIMD for (size_t i = 0; i < n; i++) {
        float v = alpha * x[i] + beta;
        v = v < 0.0f ? 0.0f : v;
        y[i] = v > 1.0f ? 1.0f : v;
      }
      break;
    case CLCNN_OP_HARDSWISH:
      SIMD for (size_t i = 0; i < n; i++) {
        const float v = alpha * x[i] + beta;
        float w = v > 1.0f ? 1.0f : v;
        w = v < 0.0f ? 0.0f : w;
        y[i] = x[i] * w;
      }
      break;
    case CLCNN_OP_TANH:
      SIMD for (size_t i = 0; i < n; i++) y[i] = vtanhf(x[i]);
      break;
    case CLCNN_OP_CLIP: {
      const float lo = p->min, hi = p->max;
      SIMD for (size_t i = 0; i < n; i++) {
        float v = x[i] < lo ? lo : x[i];
        y[i] = v > hi ? hi : v;
      }
      break;
    }
    case CLCNN_OP_SOFTPLUS:
      for (size_t i = 0; i < n; i++) y[i] = softplusf(x[i]);
      break;
    case CLCNN_OP_MISH:
      SIMD for (size_t i = 0; i < n; i++) y[i] = vmishf(x[i]);
      break;
    case CLCNN_OP_GELU:
      if (p->approximate == GELU_APPROX_TANH) {
        /* (1 + tanh(z)) / 2 = sigmoid(2z): no cancellation where tanh(z) ~ -1. */
        SIMD for (size_t i = 0; i < n; i++) {
          const float v = x[i], z = SQRT_2_OVER_PI_F * (v + 0.044715f * v * v * v);
          y[i] = v / (1.0f + vexpf(-2.0f * z));
        }
      } else {
        /* 1 + erf(x / sqrt 2) = erfc(-x / sqrt 2), accurate also where it is tiny. */
        for (size_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * erfcf(-x[i] * SQRT1_2_F);
      }
      break;
    case CLCNN_OP_ERF:
      for (size_t i = 0; i < n; i++) y[i] = erff(x[i]);
      break;
    case CLCNN_OP_EXP:
      for (size_t i = 0; i < n; i++) y[i] = expf(x[i]);
      break;
    case CLCNN_OP_LOG:
      for (size_t i = 0; i < n; i++) y[i] = logf(x[i]);
      break;
    case CLCNN_OP_SQRT:
      SIMD for (size_t i = 0; i < n; i++) y[i] = sqrtf(x[i]);
      break;
    case CLCNN_OP_NEG:
      SIMD for (size_t i = 0; i < n; i++) y[i] = -x[i];
      break;
    case CLCNN_OP_ABS:
      SIMD for (size_t i = 0; i < n; i++) y[i] = fabsf(x[i]);
      break;
    case CLCNN_OP_RECIPROCAL:
      SIMD for (size_t i = 0; i < n; i++) y[i] = 1.0f / x[i];
      break;
    case CLCNN_OP_FLOOR:
      SIMD for (size_t i = 0; i < n; i++) y[i] = floorf(x[i]);
      break;
    case CLCNN_OP_CEIL:
      SIMD for (size_t i = 0; i < n; i++) y[i] = ceilf(x[i]);
      break;
    case CLCNN_OP_ROUND:
      /* Halves to even whatever the floating-point environment's mode. */
      for (size_t i = 0; i < n; i++) {
        const float v = x[i], r = roundf(v); /* halves away from zero */
        y[i] = (fabsf(v - truncf(v)) == 0.5f) ? 2.0f * roundf(0.5f * v) : r;
      }
      break;
    case CLCNN_OP_SIGN:
      SIMD for (size_t i = 0; i < n; i++) {
        const float v = x[i];
        y[i] = v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : v; /* 0, -0 and NaN stay */
      }
      break;
    case CLCNN_OP_SIN:
      for (size_t i = 0; i < n; i++) y[i] = sinf(x[i]);
      break;
    case CLCNN_OP_COS:
      for (size_t i = 0; i < n; i++) y[i] = cosf(x[i]);
      break;
    case CLCNN_OP_SOFTSIGN:
      SIMD for (size_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + fabsf(x[i]));
      break;
    case CLCNN_OP_CELU:
      for (size_t i = 0; i < n; i++) {
        const float v = x[i];
        y[i] = v > 0.0f ? v : alpha * expm1f(v / alpha);
      }
      break;
    case CLCNN_OP_THRESHOLDEDRELU:
      SIMD for (size_t i = 0; i < n; i++) y[i] = x[i] > alpha ? x[i] : 0.0f;
      break;
    case CLCNN_OP_SHRINK:
      SIMD for (size_t i = 0; i < n; i++) {
        const float v = x[i];
        y[i] = v < -alpha ? v + beta : v > alpha ? v - beta : 0.0f;
      }
      break;
    default:
      /* Not a unary operator: op_is_activation() says so, so nobody fuses
       * one; leave the data as it is rather than guess. */
      if (x != y) memmove(y, x, n * sizeof *y);
      break;
  }
}

/* float64: the same functions in double precision (no fast paths). */
static double round_half_even(double v) {
  const double r = round(v);
  return fabs(v - trunc(v)) == 0.5 ? 2.0 * round(0.5 * v) : r;
}

static void unary_f64(int op, const unary_params *p, const double *x, double *y, size_t n) {
  const double alpha = p->alpha, beta = p->beta, gamma = p->gamma;
  for (size_t i = 0; i < n; i++) {
    const double v = x[i];
    double r;
    switch (op) {
      case CLCNN_OP_RELU: r = v < 0.0 ? 0.0 : v; break;
      case CLCNN_OP_LEAKYRELU: r = v < 0.0 ? alpha * v : v; break;
      case CLCNN_OP_ELU: r = v < 0.0 ? alpha * expm1(v) : v; break;
      case CLCNN_OP_SELU: r = v > 0.0 ? gamma * v : gamma * alpha * expm1(v); break;
      case CLCNN_OP_SIGMOID: r = 1.0 / (1.0 + exp(-v)); break;
      case CLCNN_OP_HARDSIGMOID: r = fmax(0.0, fmin(1.0, alpha * v + beta)); break;
      case CLCNN_OP_HARDSWISH: r = v * fmax(0.0, fmin(1.0, v / 6.0 + 0.5)); break;
      case CLCNN_OP_TANH: r = tanh(v); break;
      case CLCNN_OP_CLIP: {
        const double lo = p->min, hi = p->max;
        r = v < lo ? lo : v;
        r = r > hi ? hi : r;
        break;
      }
      case CLCNN_OP_SOFTPLUS: r = fmax(v, 0.0) + log1p(exp(-fabs(v))); break;
      case CLCNN_OP_MISH: r = v * tanh(fmax(v, 0.0) + log1p(exp(-fabs(v)))); break;
      case CLCNN_OP_GELU:
        r = p->approximate == GELU_APPROX_TANH
                ? 0.5 * v * (1.0 + tanh(0.79788456080286535588 * (v + 0.044715 * v * v * v)))
                : 0.5 * v * erfc(-v * 0.70710678118654752440);
        break;
      case CLCNN_OP_ERF: r = erf(v); break;
      case CLCNN_OP_EXP: r = exp(v); break;
      case CLCNN_OP_LOG: r = log(v); break;
      case CLCNN_OP_SQRT: r = sqrt(v); break;
      case CLCNN_OP_NEG: r = -v; break;
      case CLCNN_OP_ABS: r = fabs(v); break;
      case CLCNN_OP_RECIPROCAL: r = 1.0 / v; break;
      case CLCNN_OP_FLOOR: r = floor(v); break;
      case CLCNN_OP_CEIL: r = ceil(v); break;
      case CLCNN_OP_ROUND: r = round_half_even(v); break;
      case CLCNN_OP_SIGN: r = v > 0.0 ? 1.0 : v < 0.0 ? -1.0 : v; break;
      case CLCNN_OP_SIN: r = sin(v); break;
      case CLCNN_OP_COS: r = cos(v); break;
      case CLCNN_OP_SOFTSIGN: r = v / (1.0 + fabs(v)); break;
      case CLCNN_OP_CELU: r = v > 0.0 ? v : alpha * expm1(v / alpha); break;
      case CLCNN_OP_THRESHOLDEDRELU: r = v > alpha ? v : 0.0; break;
      case CLCNN_OP_SHRINK: r = v < -alpha ? v + beta : v > alpha ? v - beta : 0.0; break;
      default: r = v; break;
    }
    y[i] = r;
  }
}

/* Integer Relu, Neg, Abs, Sign and Clip. Negation wraps (in unsigned arithmetic,
 * so that the minimum value negates to itself without undefined behaviour).
 * Clip's bounds are already within T's range. */
#define INT_UNARY(NAME, T, U)                                                \
  static void NAME(int op, const T *x, T *y, size_t n, int64_t lo, int64_t hi) { \
    switch (op) {                                                            \
      case CLCNN_OP_RELU:                                                    \
        for (size_t i = 0; i < n; i++) y[i] = x[i] < 0 ? 0 : x[i];           \
        break;                                                               \
      case CLCNN_OP_NEG:                                                     \
        for (size_t i = 0; i < n; i++) y[i] = (T)(0u - (U)x[i]);             \
        break;                                                               \
      case CLCNN_OP_ABS:                                                     \
        for (size_t i = 0; i < n; i++) y[i] = x[i] < 0 ? (T)(0u - (U)x[i]) : x[i]; \
        break;                                                               \
      case CLCNN_OP_SIGN:                                                    \
        for (size_t i = 0; i < n; i++) y[i] = (T)((x[i] > 0) - (x[i] < 0));  \
        break;                                                               \
      default: { /* CLCNN_OP_CLIP */                                         \
        const T l = (T)lo, h = (T)hi;                                        \
        for (size_t i = 0; i < n; i++) {                                     \
          T v = x[i] < l ? l : x[i];                                         \
          y[i] = v > h ? h : v;                                              \
        }                                                                    \
        break;                                                               \
      }                                                                      \
    }                                                                        \
  }
INT_UNARY(unary_i64, int64_t, uint64_t)
INT_UNARY(unary_i32, int32_t, uint32_t)
INT_UNARY(unary_i8, int8_t, uint8_t)
INT_UNARY(unary_u8, uint8_t, uint8_t)
#undef INT_UNARY

/* An integer Clip bound read from input t (absent: `def`), clamped to
 * [tmin, tmax]. */
static int64_t int_bound(const clcnn_tensor *t, int64_t def, int64_t tmin, int64_t tmax) {
  if (!t->data || clcnn_tensor_numel(t) != 1) return def;
  int64_t v;
  if (t->dtype == CLCNN_DTYPE_FLOAT32 || t->dtype == CLCNN_DTYPE_FLOAT64) {
    double d = tensor_get_f64(t, 0);
    if (d != d) return def;
    v = d <= (double)tmin ? tmin : d >= (double)tmax ? tmax : (int64_t)d;
  } else {
    v = tensor_get_i64(t, 0);
  }
  return v < tmin ? tmin : v > tmax ? tmax : v;
}

/* A float32 unary node split over threads in pieces of CHUNK elements (the
 * pieces do not depend on the thread count, so neither do the results). */
typedef struct unary_task {
  int op;
  const void *params;
  const float *x;
  float *y;
  size_t n;
} unary_task;

static void unary_chunks(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const unary_task *t = arg;
  for (int64_t c = begin; c < end; c++) {
    size_t b = (size_t)c * CHUNK, len = t->n - b < CHUNK ? t->n - b : CHUNK;
    cpu_unary_apply(t->op, t->params, t->x + b, t->y + b, len);
  }
}

static clcnn_status unary_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                              int nout, clcnn_err *err) {
  (void)nout;
  const int op = cn->n->op;
  const size_t n = (size_t)clcnn_tensor_numel(&in[0]);
  if ((size_t)clcnn_tensor_numel(&out[0]) != n || in[0].dtype != out[0].dtype)
    return err_set(err, CLCNN_ERROR_INTERNAL, "output does not match the input");
  if (n == 0) return CLCNN_OK;
  /* Clip's bound inputs, when given (whether constant or not). */
  const clcnn_tensor *bmin = op == CLCNN_OP_CLIP && nin > 1 && in[1].data ? &in[1] : NULL;
  const clcnn_tensor *bmax = op == CLCNN_OP_CLIP && nin > 2 && in[2].data ? &in[2] : NULL;
  switch (in[0].dtype) {
    case CLCNN_DTYPE_FLOAT32: {
      const float *x = in[0].data;
      float *y = out[0].data;
      const void *params = cn->n->params;
      unary_params clip;
      if (op == CLCNN_OP_CLIP && (bmin || bmax)) {
        clip = params ? *(const unary_params *)params : unary_params_default(op);
        if (bmin && clcnn_tensor_numel(bmin) == 1) clip.min = (float)tensor_get_f64(bmin, 0);
        if (bmax && clcnn_tensor_numel(bmax) == 1) clip.max = (float)tensor_get_f64(bmax, 0);
        params = &clip;
      }
      unary_task task = {.op = op, .params = params, .x = x, .y = y, .n = n};
      cpu_parallel_for(cn->pool, cn->nthreads, (int64_t)((n + CHUNK - 1) / CHUNK), 1, unary_chunks,
                       &task);
      return CLCNN_OK;
    }
#define INT_CASE(DT, FN, TMIN, TMAX)                                              \
  case DT:                                                                        \
    FN(op, in[0].data, out[0].data, n, bmin ? int_bound(bmin, TMIN, TMIN, TMAX) : TMIN, \
       bmax ? int_bound(bmax, TMAX, TMIN, TMAX) : TMAX);                          \
    return CLCNN_OK;
    INT_CASE(CLCNN_DTYPE_INT64, unary_i64, INT64_MIN, INT64_MAX)
    INT_CASE(CLCNN_DTYPE_INT32, unary_i32, INT32_MIN, INT32_MAX)
    INT_CASE(CLCNN_DTYPE_INT8, unary_i8, INT8_MIN, INT8_MAX)
#undef INT_CASE
    case CLCNN_DTYPE_FLOAT64: {
      unary_params q = cn->n->params ? *(const unary_params *)cn->n->params
                                     : unary_params_default(op);
      double lo = q.min, hi = q.max;
      if (bmin && clcnn_tensor_numel(bmin) == 1) lo = tensor_get_f64(bmin, 0);
      if (bmax && clcnn_tensor_numel(bmax) == 1) hi = tensor_get_f64(bmax, 0);
      if (op == CLCNN_OP_CLIP) { /* bounds in double, not rounded to float */
        const double *x = in[0].data;
        double *y = out[0].data;
        for (size_t i = 0; i < n; i++) {
          double v = x[i] < lo ? lo : x[i];
          y[i] = v > hi ? hi : v;
        }
        return CLCNN_OK;
      }
      unary_f64(op, &q, in[0].data, out[0].data, n);
      return CLCNN_OK;
    }
    case CLCNN_DTYPE_BOOL: { /* Not */
      const uint8_t *x = in[0].data;
      uint8_t *y = out[0].data;
      for (size_t i = 0; i < n; i++) y[i] = x[i] == 0;
      return CLCNN_OK;
    }
    case CLCNN_DTYPE_UINT8:
      if (op == CLCNN_OP_SIGN) {
        const uint8_t *x = in[0].data;
        uint8_t *y = out[0].data;
        for (size_t i = 0; i < n; i++) y[i] = x[i] != 0;
      } else if (op == CLCNN_OP_ABS) {
        if (out[0].data != in[0].data) memmove(out[0].data, in[0].data, n);
      } else {
        unary_u8(op, in[0].data, out[0].data, n, bmin ? int_bound(bmin, 0, 0, UINT8_MAX) : 0,
                 bmax ? int_bound(bmax, UINT8_MAX, 0, UINT8_MAX) : UINT8_MAX);
      }
      return CLCNN_OK;
    default:
      break;
  }
  return err_set(err, CLCNN_ERROR_UNSUPPORTED, "input type %s is not supported",
                 dtype_name(in[0].dtype));
}

static const cpu_op unary_cpu = {NULL, NULL, unary_run, NULL};

const cpu_op *const cpu_ops_unary[CLCNN_OP_COUNT] = {
    [CLCNN_OP_RELU] = &unary_cpu,        [CLCNN_OP_LEAKYRELU] = &unary_cpu,
    [CLCNN_OP_ELU] = &unary_cpu,         [CLCNN_OP_SELU] = &unary_cpu,
    [CLCNN_OP_SIGMOID] = &unary_cpu,     [CLCNN_OP_HARDSIGMOID] = &unary_cpu,
    [CLCNN_OP_HARDSWISH] = &unary_cpu,   [CLCNN_OP_TANH] = &unary_cpu,
    [CLCNN_OP_CLIP] = &unary_cpu,        [CLCNN_OP_SOFTPLUS] = &unary_cpu,
    [CLCNN_OP_MISH] = &unary_cpu,        [CLCNN_OP_GELU] = &unary_cpu,
    [CLCNN_OP_ERF] = &unary_cpu,         [CLCNN_OP_EXP] = &unary_cpu,
    [CLCNN_OP_LOG] = &unary_cpu,         [CLCNN_OP_SQRT] = &unary_cpu,
    [CLCNN_OP_NEG] = &unary_cpu,         [CLCNN_OP_ABS] = &unary_cpu,
    [CLCNN_OP_RECIPROCAL] = &unary_cpu, [CLCNN_OP_NOT] = &unary_cpu,
    [CLCNN_OP_FLOOR] = &unary_cpu,       [CLCNN_OP_CEIL] = &unary_cpu,
    [CLCNN_OP_ROUND] = &unary_cpu,       [CLCNN_OP_SIGN] = &unary_cpu,
    [CLCNN_OP_SIN] = &unary_cpu,         [CLCNN_OP_COS] = &unary_cpu,
    [CLCNN_OP_SOFTSIGN] = &unary_cpu,    [CLCNN_OP_CELU] = &unary_cpu,
    [CLCNN_OP_THRESHOLDEDRELU] = &unary_cpu, [CLCNN_OP_SHRINK] = &unary_cpu,
};
