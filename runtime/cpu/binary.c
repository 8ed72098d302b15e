/* CPU backend: the binary family.
 *
 * Every operator runs as y = f(a, b) over a bcast_plan (ops/binary.h): the
 * plan collapses the shapes so that the innermost dimension is one
 * contiguous row where each operand is either a vector (stride 1) or a
 * scalar (stride 0). Same-shape operands and scalar operands become one long
 * row; a per-channel [C, 1, 1] operand becomes rows of H*W against one
 * value. Each (operator, type) has three row kernels, vector-vector,
 * vector-scalar and scalar-vector, so the inner loops are plain and
 * vectorise; rows and long rows are split into tasks across threads.
 * Variadic operators fold their inputs into the output one at a time. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "../ops/binary.h"
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
#define CHUNK ((int64_t)1 << 14)

/* What a row kernel may need beyond its pointers: the generic Pow reads the
 * element types and the inner strides (0 or 1); the others ignore it. */
typedef struct row_ctx {
  clcnn_dtype ta, tb, ty;
  int64_t sa, sb;
} row_ctx;

typedef void (*row_fn)(const void *a, const void *b, void *y, int64_t n, const row_ctx *c);
enum { ROW_VV = 0, ROW_VS = 1, ROW_SV = 2 };

/* The row where both operands are scalars (a variadic operator's first two
 * inputs can both be broadcast along the output's inner dimension): one
 * element, then copies of it. */
static void row_ss(row_fn fn, const char *a, const char *b, char *y, size_t ey, int64_t n,
                   const row_ctx *c) {
  fn(a, b, y, 1, c);
  size_t done = ey, total = (size_t)n * ey;
  while (done < total) {
    size_t k = done < total - done ? done : total - done;
    memcpy(y + done, y, k);
    done += k;
  }
}

/* Defines NAME_vv, NAME_vs, NAME_sv computing y = EXPR (of type TY) from
 * elements A and B (of type T), and the table NAME[3] of them. */
#define BIN_KERNELS_T(NAME, T, TY, EXPR)                                                    \
  static void NAME##_vv(const void *pa, const void *pb, void *py, int64_t n,               \
                        const row_ctx *c) {                                                 \
    (void)c;                                                                                \
    const T *a = pa, *b = pb;                                                               \
    TY *y = py;                                                                             \
    SIMD for (int64_t i = 0; i < n; i++) {                                                  \
      const T A = a[i], B = b[i];                                                           \
      y[i] = (TY)(EXPR);                                                                    \
    }                                                                                       \
  }                                                                                         \
  static void NAME##_vs(const void *pa, const void *pb, void *py, int64_t n,               \
                        const row_ctx *c) {                                                 \
    (void)c;                                                                                \
    const T *a = pa;                                                                        \
    const T B = *(const T *)pb;                                                             \
    TY *y = py;                                                                             \
    SIMD for (int64_t i = 0; i < n; i++) {                                                  \
      const T A = a[i];                                                                     \
      y[i] = (TY)(EXPR);                                                                    \
    }                                                                                       \
  }                                                                                         \
  static void NAME##_sv(const void *pa, const void *pb, void *py, int64_t n,               \
                        const row_ctx *c) {                                                 \
    (void)c;                                                                                \
    const T A = *(const T *)pa;                                                             \
    const T *b = pb;                                                                        \
    TY *y = py;                                                                             \
    SIMD for (int64_t i = 0; i < n; i++) {                                                  \
      const T B = b[i];                                                                     \
      y[i] = (TY)(EXPR);                                                                    \
    }                                                                                       \
  }                                                                                         \
  static const row_fn NAME[3] = {NAME##_vv, NAME##_vs, NAME##_sv};
#define BIN_KERNELS(NAME, T, EXPR) BIN_KERNELS_T(NAME, T, T, EXPR)

/* float32. Max and Min propagate NaN like numpy. */
BIN_KERNELS(f32_add, float, A + B)
BIN_KERNELS(f32_sub, float, A - B)
BIN_KERNELS(f32_mul, float, A * B)
BIN_KERNELS(f32_div, float, A / B)
BIN_KERNELS(f32_max, float, (A > B || A != A) ? A : B)
BIN_KERNELS(f32_min, float, (A < B || A != A) ? A : B)
BIN_KERNELS(f32_prelu, float, A < 0.0f ? A * B : A)
BIN_KERNELS(f64_add, double, A + B)
BIN_KERNELS(f64_sub, double, A - B)
BIN_KERNELS(f64_mul, double, A * B)
BIN_KERNELS(f64_div, double, A / B)
BIN_KERNELS(f64_max, double, (A > B || A != A) ? A : B)
BIN_KERNELS(f64_min, double, (A < B || A != A) ? A : B)

/* Mod of floats: fmod (the sign of the dividend), or with fmod = 0 the sign
 * of the divisor (numpy's mod). */
static inline float pymod_f32(float a, float b) {
  float r = fmodf(a, b);
  return (r != 0.0f && ((r < 0.0f) != (b < 0.0f))) ? r + b : r;
}
static inline double pymod_f64(double a, double b) {
  double r = fmod(a, b);
  return (r != 0.0 && ((r < 0.0) != (b < 0.0))) ? r + b : r;
}
BIN_KERNELS(f32_fmod, float, fmodf(A, B))
BIN_KERNELS(f64_fmod, double, fmod(A, B))
BIN_KERNELS(f32_mod, float, pymod_f32(A, B))
BIN_KERNELS(f64_mod, double, pymod_f64(A, B))

/* Integer division truncating toward zero; x / 0 gives 0 and MIN / -1 wraps
 * to MIN instead of trapping. */
static inline int64_t div_i64(int64_t a, int64_t b) {
  return b == 0 ? 0 : b == -1 ? (int64_t)(0u - (uint64_t)a) : a / b;
}
static inline int32_t div_i32(int32_t a, int32_t b) {
  return b == 0 ? 0 : b == -1 ? (int32_t)(0u - (uint32_t)a) : a / b;
}
static inline int8_t div_i8(int8_t a, int8_t b) { return b == 0 ? 0 : (int8_t)(a / b); }
static inline int16_t div_i16(int16_t a, int16_t b) { return b == 0 ? 0 : (int16_t)(a / b); }
#define UDIV(P, T) \
  static inline T div_##P(T a, T b) { return b == 0 ? 0 : (T)(a / b); }
UDIV(u8, uint8_t)
UDIV(u16, uint16_t)
UDIV(u32, uint32_t)
UDIV(u64, uint64_t)
#undef UDIV

/* Integer remainders: x mod 0 gives 0 (and x mod -1 is 0, where C's
 * MIN % -1 would trap). fmod: the sign of the dividend (C's %); mod: the
 * sign of the divisor (Python's %). */
#define INT_MOD(P, T)                                                   \
  static inline T fmod_##P(T a, T b) {                                  \
    return (b == 0 || b == (T)-1) ? 0 : (T)(a % b);                     \
  }                                                                     \
  static inline T mod_##P(T a, T b) {                                   \
    T r = fmod_##P(a, b);                                               \
    return (r != 0 && ((r < 0) != (b < 0))) ? (T)(r + b) : r;           \
  }
INT_MOD(i64, int64_t)
INT_MOD(i32, int32_t)
INT_MOD(i8, int8_t)
INT_MOD(i16, int16_t)
#undef INT_MOD
/* Unsigned: both remainders are C's. */
#define UINT_MOD(P, T)                                                                  \
  static inline T fmod_##P(T a, T b) { return b == 0 ? 0 : (T)(a % b); }              \
  static inline T mod_##P(T a, T b) { return fmod_##P(a, b); }
UINT_MOD(u8, uint8_t)
UINT_MOD(u16, uint16_t)
UINT_MOD(u32, uint32_t)
UINT_MOD(u64, uint64_t)
#undef UINT_MOD

/* Integers wrap on overflow (computed unsigned: no undefined behaviour). */
#define INT_KERNELS(P, T, U)                        \
  BIN_KERNELS(P##_add, T, (U)A + (U)B)              \
  BIN_KERNELS(P##_sub, T, (U)A - (U)B)              \
  BIN_KERNELS(P##_mul, T, (U)A * (U)B)               \
  BIN_KERNELS(P##_div, T, div_##P(A, B))            \
  BIN_KERNELS(P##_max, T, A > B ? A : B)            \
  BIN_KERNELS(P##_min, T, A < B ? A : B)            \
  BIN_KERNELS(P##_mod, T, mod_##P(A, B))            \
  BIN_KERNELS(P##_fmod, T, fmod_##P(A, B))
INT_KERNELS(i64, int64_t, uint64_t)
INT_KERNELS(i32, int32_t, uint32_t)
INT_KERNELS(i8, int8_t, uint32_t)
INT_KERNELS(u8, uint8_t, uint32_t)
INT_KERNELS(i16, int16_t, uint32_t)
INT_KERNELS(u16, uint16_t, uint32_t)
INT_KERNELS(u32, uint32_t, uint32_t)
INT_KERNELS(u64, uint64_t, uint64_t)
#undef INT_KERNELS

/* Comparisons (output bool, one byte 0 or 1) of every computing type; bool
 * inputs compare as bytes. */
#define CMP_KERNELS(P, T)                                   \
  BIN_KERNELS_T(P##_eq, T, uint8_t, A == B)                 \
  BIN_KERNELS_T(P##_gt, T, uint8_t, A > B)                  \
  BIN_KERNELS_T(P##_ge, T, uint8_t, A >= B)                 \
  BIN_KERNELS_T(P##_lt, T, uint8_t, A < B)                  \
  BIN_KERNELS_T(P##_le, T, uint8_t, A <= B)
CMP_KERNELS(f32, float)
CMP_KERNELS(f64, double)
CMP_KERNELS(i64, int64_t)
CMP_KERNELS(i32, int32_t)
CMP_KERNELS(i8, int8_t)
CMP_KERNELS(u8, uint8_t)
CMP_KERNELS(i16, int16_t)
CMP_KERNELS(u16, uint16_t)
CMP_KERNELS(u32, uint32_t)
CMP_KERNELS(u64, uint64_t)
#undef CMP_KERNELS

/* Logic on bool bytes (any non-zero byte is true). */
BIN_KERNELS(b_and, uint8_t, (A != 0) & (B != 0))
BIN_KERNELS(b_or, uint8_t, (A != 0) | (B != 0))
BIN_KERNELS(b_xor, uint8_t, (A != 0) ^ (B != 0))

/* float32 Pow; the common constant exponents of decomposed normalisations
 * (x^2, x^1) avoid powf. */
static void f32_pow_vv(const void *pa, const void *pb, void *py, int64_t n, const row_ctx *c) {
  (void)c;
  const float *a = pa, *b = pb;
  float *y = py;
  for (int64_t i = 0; i < n; i++) y[i] = powf(a[i], b[i]);
}
static void f32_pow_vs(const void *pa, const void *pb, void *py, int64_t n, const row_ctx *c) {
  (void)c;
  const float *a = pa;
  const float e = *(const float *)pb;
  float *y = py;
  if (e == 2.0f) {
    SIMD for (int64_t i = 0; i < n; i++) y[i] = a[i] * a[i];
  } else if (e == 1.0f) {
    SIMD for (int64_t i = 0; i < n; i++) y[i] = a[i];
  } else {
    for (int64_t i = 0; i < n; i++) y[i] = powf(a[i], e);
  }
}
static void f32_pow_sv(const void *pa, const void *pb, void *py, int64_t n, const row_ctx *c) {
  (void)c;
  const float x = *(const float *)pa;
  const float *b = pb;
  float *y = py;
  for (int64_t i = 0; i < n; i++) y[i] = powf(x, b[i]);
}
static const row_fn f32_pow[3] = {f32_pow_vv, f32_pow_vs, f32_pow_sv};

/* Pow with an integer base or mixed types, element by element: exact
 * integer powers for integer operands (wrapping; a negative exponent gives
 * the truncated 1 / x^-e), double precision otherwise. */
static inline double load_f64(const void *p, clcnn_dtype t, int64_t i) {
  switch (t) {
    case CLCNN_DTYPE_FLOAT32: return ((const float *)p)[i];
    case CLCNN_DTYPE_INT64: return (double)((const int64_t *)p)[i];
    case CLCNN_DTYPE_UINT64: return (double)((const uint64_t *)p)[i];
    case CLCNN_DTYPE_UINT32: return ((const uint32_t *)p)[i];
    default: return ((const int32_t *)p)[i];
  }
}
static inline int64_t load_i64(const void *p, clcnn_dtype t, int64_t i) {
  switch (t) {
    case CLCNN_DTYPE_INT64:
    case CLCNN_DTYPE_UINT64: return ((const int64_t *)p)[i]; /* the bits: powers wrap */
    case CLCNN_DTYPE_UINT32: return ((const uint32_t *)p)[i];
    default: return ((const int32_t *)p)[i];
  }
}
static int64_t ipow(int64_t base, int64_t e) {
  if (e < 0) return base == 1 ? 1 : base == -1 ? ((e & 1) ? -1 : 1) : 0;
  uint64_t r = 1, b = (uint64_t)base;
  while (e) {
    if (e & 1) r *= b;
    b *= b;
    e >>= 1;
  }
  return (int64_t)r;
}
static inline int64_t f64_to_i64(double v) {
  if (v != v) return 0;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  return (int64_t)v;
}
static void pow_generic(const void *pa, const void *pb, void *py, int64_t n, const row_ctx *c) {
  const bool ints = c->ta != CLCNN_DTYPE_FLOAT32 && c->tb != CLCNN_DTYPE_FLOAT32;
  for (int64_t i = 0; i < n; i++) {
    int64_t ia = i * c->sa, ib = i * c->sb;
    if (c->ty == CLCNN_DTYPE_FLOAT32) {
      ((float *)py)[i] = (float)pow(load_f64(pa, c->ta, ia), load_f64(pb, c->tb, ib));
      continue;
    }
    int64_t v = ints ? ipow(load_i64(pa, c->ta, ia), load_i64(pb, c->tb, ib))
                     : f64_to_i64(pow(load_f64(pa, c->ta, ia), load_f64(pb, c->tb, ib)));
    if (c->ty == CLCNN_DTYPE_INT64)
      ((int64_t *)py)[i] = v;
    else
      ((int32_t *)py)[i] = (int32_t)(uint32_t)(uint64_t)v;
  }
}
static const row_fn pow_generic_fns[3] = {pow_generic, pow_generic, pow_generic};

/* The row kernels of an operator for element type dt, or NULL. */
static const row_fn *find_kernels(int op, clcnn_dtype dt, int fmod_flag) {
#define BY_TYPE(P)                                                          \
  switch (op) {                                                             \
    case CLCNN_OP_ADD:                                                      \
    case CLCNN_OP_SUM:                                                      \
    case CLCNN_OP_MEAN: return P##_add;                                     \
    case CLCNN_OP_SUB: return P##_sub;                                      \
    case CLCNN_OP_MUL: return P##_mul;                                      \
    case CLCNN_OP_DIV: return P##_div;                                      \
    case CLCNN_OP_MAX: return P##_max;                                      \
    case CLCNN_OP_MIN: return P##_min;                                      \
    case CLCNN_OP_MOD: return fmod_flag ? P##_fmod : P##_mod;               \
    case CLCNN_OP_EQUAL: return P##_eq;                                     \
    case CLCNN_OP_GREATER: return P##_gt;                                   \
    case CLCNN_OP_GREATER_OR_EQUAL: return P##_ge;                          \
    case CLCNN_OP_LESS: return P##_lt;                                      \
    case CLCNN_OP_LESS_OR_EQUAL: return P##_le;                             \
    default: break;                                                         \
  }                                                                         \
  break;
  switch (dt) {
    case CLCNN_DTYPE_FLOAT32:
      if (op == CLCNN_OP_PRELU) return f32_prelu;
      if (op == CLCNN_OP_POW) return f32_pow;
      BY_TYPE(f32)
    case CLCNN_DTYPE_FLOAT64: BY_TYPE(f64)
    case CLCNN_DTYPE_INT64: BY_TYPE(i64)
    case CLCNN_DTYPE_INT32: BY_TYPE(i32)
    case CLCNN_DTYPE_INT8: BY_TYPE(i8)
    case CLCNN_DTYPE_UINT8: BY_TYPE(u8)
    case CLCNN_DTYPE_INT16: BY_TYPE(i16)
    case CLCNN_DTYPE_UINT16: BY_TYPE(u16)
    case CLCNN_DTYPE_UINT32: BY_TYPE(u32)
    case CLCNN_DTYPE_UINT64: BY_TYPE(u64)
    case CLCNN_DTYPE_BOOL:
      switch (op) {
        case CLCNN_OP_AND: return b_and;
        case CLCNN_OP_OR: return b_or;
        case CLCNN_OP_XOR: return b_xor;
        case CLCNN_OP_EQUAL: return u8_eq;
        default: break;
      }
      break;
    default: break;
  }
#undef BY_TYPE
  return NULL;
}

/* Offsets into a and b of the first element of row `row` (rows are the
 * iterations of all plan dimensions but the last). */
static void row_offsets(const bcast_plan *p, int64_t row, int64_t *idx, int64_t *oa,
                        int64_t *ob) {
  int64_t a = 0, b = 0;
  for (int d = p->rank - 2; d >= 0; d--) {
    idx[d] = row % p->dims[d];
    row /= p->dims[d];
    a += idx[d] * p->sa[d];
    b += idx[d] * p->sb[d];
  }
  *oa = a;
  *ob = b;
}

/* One broadcast binary node split over threads: tasks are pieces of long
 * rows or runs of short rows, fixed by the shapes alone. */
typedef struct bcast_task {
  const bcast_plan *p;
  row_fn fn;
  row_ctx ctx;
  bool ss;
  const char *a, *b;
  char *y;
  size_t ea, eb, ey;
  int64_t inner, isa, isb, segs, per, rows;
} bcast_task;

/* Long rows: task t is piece t % segs of row t / segs. */
static void bcast_segments(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const bcast_task *k = arg;
  for (int64_t t = begin; t < end; t++) {
    int64_t idx[CLCNN_MAX_RANK], oa, ob;
    const int64_t row = t / k->segs, j0 = (t % k->segs) * CHUNK;
    const int64_t len = k->inner - j0 < CHUNK ? k->inner - j0 : CHUNK;
    row_offsets(k->p, row, idx, &oa, &ob);
    const char *pa = k->a + (size_t)(oa + j0 * k->isa) * k->ea;
    const char *pb = k->b + (size_t)(ob + j0 * k->isb) * k->eb;
    char *py = k->y + (size_t)(row * k->inner + j0) * k->ey;
    if (k->ss)
      row_ss(k->fn, pa, pb, py, k->ey, len, &k->ctx);
    else
      k->fn(pa, pb, py, len, &k->ctx);
  }
}

/* Short rows: task t is rows [t per, (t + 1) per), walked with an odometer. */
static void bcast_row_runs(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const bcast_task *k = arg;
  const bcast_plan *p = k->p;
  const int r = p->rank;
  for (int64_t t = begin; t < end; t++) {
    int64_t idx[CLCNN_MAX_RANK], oa, ob;
    const int64_t r0 = t * k->per, r1 = k->rows - r0 < k->per ? k->rows : r0 + k->per;
    row_offsets(p, r0, idx, &oa, &ob);
    for (int64_t row = r0; row < r1; row++) {
      const char *pa = k->a + (size_t)oa * k->ea, *pb = k->b + (size_t)ob * k->eb;
      char *py = k->y + (size_t)(row * k->inner) * k->ey;
      if (k->ss)
        row_ss(k->fn, pa, pb, py, k->ey, k->inner, &k->ctx);
      else
        k->fn(pa, pb, py, k->inner, &k->ctx);
      for (int d = r - 2; d >= 0; d--) {
        oa += p->sa[d];
        ob += p->sb[d];
        if (++idx[d] < p->dims[d]) break;
        oa -= p->dims[d] * p->sa[d];
        ob -= p->dims[d] * p->sb[d];
        idx[d] = 0;
      }
    }
  }
}

/* y = f(a, b) over the plan; ea, eb, ey are element sizes in bytes. */
static void bcast_exec(const bcast_plan *p, const row_fn fns[3], row_ctx ctx, const char *a,
                       size_t ea, const char *b, size_t eb, char *y, size_t ey, cpu_pool *pool,
                       int nthreads) {
  const int r = p->rank;
  const int64_t inner = p->dims[r - 1];
  const int64_t isa = p->sa[r - 1], isb = p->sb[r - 1];
  bcast_task k = {.p = p, .fn = fns[isa ? (isb ? ROW_VV : ROW_VS) : (isb ? ROW_SV : ROW_VS)],
                  .ctx = ctx, .ss = !isa && !isb, .a = a, .b = b, .y = y, .ea = ea, .eb = eb,
                  .ey = ey, .inner = inner, .isa = isa, .isb = isb};
  k.ctx.sa = isa;
  k.ctx.sb = isb;
  int64_t rows = 1;
  for (int d = 0; d < r - 1; d++) rows *= p->dims[d];
  if (rows == 0 || inner == 0) return;
  k.rows = rows;
  const int nt = rows * inner >= 2 * CHUNK ? nthreads : 1;
  if (inner >= CHUNK) { /* long rows: tasks are pieces of rows */
    k.segs = (inner + CHUNK - 1) / CHUNK;
    cpu_parallel_for(pool, nt, rows * k.segs, 1, bcast_segments, &k);
    return;
  }
  /* short rows: tasks are runs of rows */
  k.per = CHUNK / inner;
  cpu_parallel_for(pool, nt, (rows + k.per - 1) / k.per, 1, bcast_row_runs, &k);
}

/* Element strides of tensor t broadcast to an output of rank ry (0 along
 * broadcast dimensions). */
static void bcast_strides(const clcnn_tensor *t, int ry, const int64_t *dy, int64_t *st) {
  int64_t k = 1;
  for (int d = ry - 1; d >= 0; d--) {
    int td = d - (ry - t->rank);
    int64_t dim = td >= 0 ? t->dims[td] : 1;
    st[d] = (dim == 1 && dy[d] != 1) || td < 0 ? 0 : k;
    if (td >= 0) k *= dim;
  }
}

/* Where(condition, X, Y): one walk over the output with the three inputs'
 * strides; elements are moved as bytes (any type). */
static clcnn_status where_run(const clcnn_tensor *in, clcnn_tensor *y, clcnn_err *err) {
  const int r = y->rank;
  const size_t es = dtype_size(y->dtype);
  if (in[1].dtype != y->dtype || in[2].dtype != y->dtype || !es)
    return err_set(err, CLCNN_ERROR_INTERNAL, "Where: X, Y and the output differ in type");
  for (int k = 0; k < 3; k++)
    if (in[k].rank > r) return err_set(err, CLCNN_ERROR_INTERNAL, "Where: input %d has a higher rank", k);
  int64_t sc[CLCNN_MAX_RANK], sx[CLCNN_MAX_RANK], sy[CLCNN_MAX_RANK], idx[CLCNN_MAX_RANK] = {0};
  bcast_strides(&in[0], r, y->dims, sc);
  bcast_strides(&in[1], r, y->dims, sx);
  bcast_strides(&in[2], r, y->dims, sy);
  const uint8_t *c = in[0].data;
  const char *x = in[1].data, *z = in[2].data;
  char *o = y->data;
  const int64_t numel = clcnn_tensor_numel(y);
  const int64_t last = r ? y->dims[r - 1] : 1;
  const int64_t lc = r ? sc[r - 1] : 0, lx = r ? sx[r - 1] : 0, lz = r ? sy[r - 1] : 0;
  int64_t oc = 0, ox = 0, oz = 0;
  for (int64_t at = 0; at < numel; at += last) {
    for (int64_t j = 0; j < last; j++)
      memcpy(o + (size_t)(at + j) * es,
             c[oc + j * lc] ? x + (size_t)(ox + j * lx) * es : z + (size_t)(oz + j * lz) * es, es);
    for (int d = r - 2; d >= 0; d--) {
      oc += sc[d];
      ox += sx[d];
      oz += sy[d];
      if (++idx[d] < y->dims[d]) break;
      oc -= sc[d] * idx[d];
      ox -= sx[d] * idx[d];
      oz -= sy[d] * idx[d];
      idx[d] = 0;
    }
  }
  return CLCNN_OK;
}

static bool is_comparison(int op) {
  return op == CLCNN_OP_EQUAL || op == CLCNN_OP_GREATER || op == CLCNN_OP_GREATER_OR_EQUAL ||
         op == CLCNN_OP_LESS || op == CLCNN_OP_LESS_OR_EQUAL;
}

static clcnn_status binary_compute(const cpu_node *cn, const clcnn_tensor *in, int nin,
                                   clcnn_tensor *y, clcnn_err *err) {
  const int op = cn->n->op;
  const size_t ey = dtype_size(y->dtype);
  if (nin < 1 || !ey) return err_set(err, CLCNN_ERROR_INTERNAL, "bad inputs or output");
  const int64_t numel = clcnn_tensor_numel(y);
  if (numel == 0) return CLCNN_OK;
  if (op == CLCNN_OP_WHERE) {
    if (nin != 3) return err_set(err, CLCNN_ERROR_INTERNAL, "Where: expects 3 inputs");
    return where_run(in, y, err);
  }

  if (nin == 1) { /* variadic with one input: a copy */
    if (in[0].dtype != y->dtype || clcnn_tensor_numel(&in[0]) != numel)
      return err_set(err, CLCNN_ERROR_INTERNAL, "output does not match the input");
    if (y->data != in[0].data) memmove(y->data, in[0].data, (size_t)numel * ey);
    return CLCNN_OK;
  }

  const binary_params *bp = cn->n->params;
  const row_fn *fns;
  row_ctx ctx = {in[0].dtype, in[1].dtype, y->dtype, 0, 0};
  const bool f32_pow_ok = in[0].dtype == CLCNN_DTYPE_FLOAT32 && in[1].dtype == CLCNN_DTYPE_FLOAT32;
  if (op == CLCNN_OP_POW && !f32_pow_ok)
    fns = pow_generic_fns;
  else
    fns = find_kernels(op, in[0].dtype, bp ? bp->fmod : 0);
  if (!fns)
    return err_set(err, CLCNN_ERROR_UNSUPPORTED, "%s of %s is not supported", op_name(op),
                   dtype_name(in[0].dtype));
  const clcnn_dtype want_y = is_comparison(op) ? CLCNN_DTYPE_BOOL : in[0].dtype;
  if (op != CLCNN_OP_POW && y->dtype != want_y)
    return err_set(err, CLCNN_ERROR_INTERNAL, "output type does not match the inputs");
  if (is_comparison(op) && nin != 2)
    return err_set(err, CLCNN_ERROR_INTERNAL, "%s expects 2 inputs", op_name(op));

  /* PRelu's legacy per-channel slope [C] is viewed as [C, 1, ..., 1]. */
  clcnn_tensor b = in[1];
  if (op == CLCNN_OP_PRELU && bp && bp->prelu_per_channel && in[0].rank >= 2) {
    b.rank = in[0].rank - 1;
    b.dims[0] = in[1].dims[0];
    for (int i = 1; i < b.rank; i++) b.dims[i] = 1;
  }

  for (int k = 1; k < nin; k++) {
    const clcnn_tensor *ta = k == 1 ? &in[0] : y, *tb = k == 1 ? &b : &in[k];
    if (tb->dtype != (op == CLCNN_OP_POW ? ctx.tb : in[0].dtype))
      return err_set(err, CLCNN_ERROR_INTERNAL, "input %d has an unexpected type", k);
    bcast_plan plan;
    if (!bcast_plan_make(ta->rank, ta->dims, tb->rank, tb->dims, y->rank, y->dims, &plan))
      return err_set(err, CLCNN_ERROR_INTERNAL, "input %d does not broadcast to the output", k);
    bcast_exec(&plan, fns, ctx, ta->data, dtype_size(ta->dtype), tb->data, dtype_size(tb->dtype),
               y->data, ey, cn->pool, cn->nthreads);
  }

  if (op == CLCNN_OP_MEAN && y->dtype == CLCNN_DTYPE_FLOAT64) {
    double *v = y->data;
    const double count = (double)nin;
    SIMD for (int64_t i = 0; i < numel; i++) v[i] /= count;
  } else if (op == CLCNN_OP_MEAN) {
    float *v = y->data;
    const float count = (float)nin;
    SIMD for (int64_t i = 0; i < numel; i++) v[i] /= count;
  }
  return CLCNN_OK;
}

/* float16 operands are computed in float32: each float16 input (and a
 * float16 output) gets a float32 copy, rounded back at the end. */
static clcnn_status binary_run_unfused(cpu_node *cn, const clcnn_tensor *in, int nin,
                                       clcnn_tensor *out, clcnn_err *err) {
  bool half = false;
  for (int k = 0; k < nin; k++) half |= in[k].dtype == CLCNN_DTYPE_FLOAT16;
  half |= out[0].dtype == CLCNN_DTYPE_FLOAT16;
  if (!half || cn->n->op == CLCNN_OP_WHERE) return binary_compute(cn, in, nin, &out[0], err);

  clcnn_tensor win[nin > 0 ? nin : 1], wy = out[0];
  void *bufs[(nin > 0 ? nin : 1) + 1];
  int nbufs = 0;
  memset(win, 0, sizeof win);
  clcnn_status st = CLCNN_OK;
  for (int k = 0; k <= nin && st == CLCNN_OK; k++) {
    const clcnn_tensor *t = k < nin ? &in[k] : &out[0];
    clcnn_tensor *w = k < nin ? &win[k] : &wy;
    *w = *t;
    if (t->dtype != CLCNN_DTYPE_FLOAT16) continue;
    const int64_t n = clcnn_tensor_numel(t);
    float *f = malloc(sizeof(float) * (size_t)(n ? n : 1));
    if (!f) {
      st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
      break;
    }
    bufs[nbufs++] = f;
    if (k < nin)
      for (int64_t i = 0; i < n; i++) f[i] = f16_to_float(((const uint16_t *)t->data)[i]);
    w->dtype = CLCNN_DTYPE_FLOAT32;
    w->data = f;
  }
  if (st == CLCNN_OK) st = binary_compute(cn, win, nin, &wy, err);
  if (st == CLCNN_OK && out[0].dtype == CLCNN_DTYPE_FLOAT16) {
    const int64_t n = clcnn_tensor_numel(&out[0]);
    const float *f = wy.data;
    for (int64_t i = 0; i < n; i++) ((uint16_t *)out[0].data)[i] = f16_from_double(f[i]);
  }
  for (int k = 0; k < nbufs; k++) free(bufs[k]);
  return st;
}

/* Add and Sum may carry the activation that followed them (graph_optimize). */
static clcnn_status binary_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                               int nout, clcnn_err *err) {
  (void)nout;
  clcnn_status st = binary_run_unfused(cn, in, nin, out, err);
  if (st == CLCNN_OK && cn->n->act_op >= 0 && out[0].dtype == CLCNN_DTYPE_FLOAT32)
    cpu_unary_apply(cn->n->act_op, cn->n->act_params, out[0].data, out[0].data,
                    (size_t)clcnn_tensor_numel(&out[0]));
  return st;
}

static const cpu_op binary_cpu = {NULL, NULL, binary_run, NULL};

const cpu_op *const cpu_ops_binary[CLCNN_OP_COUNT] = {
    [CLCNN_OP_ADD] = &binary_cpu, [CLCNN_OP_SUB] = &binary_cpu,
    [CLCNN_OP_MUL] = &binary_cpu, [CLCNN_OP_DIV] = &binary_cpu,
    [CLCNN_OP_POW] = &binary_cpu, [CLCNN_OP_PRELU] = &binary_cpu,
    [CLCNN_OP_MAX] = &binary_cpu, [CLCNN_OP_MIN] = &binary_cpu,
    [CLCNN_OP_SUM] = &binary_cpu, [CLCNN_OP_MEAN] = &binary_cpu,
    [CLCNN_OP_MOD] = &binary_cpu, [CLCNN_OP_EQUAL] = &binary_cpu,
    [CLCNN_OP_GREATER] = &binary_cpu, [CLCNN_OP_GREATER_OR_EQUAL] = &binary_cpu,
    [CLCNN_OP_LESS] = &binary_cpu, [CLCNN_OP_LESS_OR_EQUAL] = &binary_cpu,
    [CLCNN_OP_AND] = &binary_cpu, [CLCNN_OP_OR] = &binary_cpu,
    [CLCNN_OP_XOR] = &binary_cpu, [CLCNN_OP_WHERE] = &binary_cpu,
};
