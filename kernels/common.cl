/* Helpers shared by the OpenCL kernels (prepended to every kernels/FILE.cl).
 *
 * CAT(a, b) pastes after expansion: CAT(vload, VW) is vload8 when -DVW=8.
 *
 * The activation: act_apply(x), act_apply4, act_apply8, act_apply16 apply the
 * unary operator chosen by -D (host/ops/unary.h: ocl_activation_options
 * writes the options). One definition of each formula, the CPU backend's
 * (runtime/ops/unary.h), serves the unary kernels and every kernel with a
 * fused activation. ACT_BODY(T) is written once for scalars and vectors:
 * comparisons of vectors give lane masks and ?: then selects per lane. */

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#define ACT_K(T, v) ((T)(v))

/* Clip as the CPU backend: min first, so that lo > hi gives hi (also used
 * with bounds read at run time). */
#define CLIP(T, x, lo, hi)                                                      \
  ((x) < ACT_K(T, lo) ? ACT_K(T, (lo) > (hi) ? (hi) : (lo))                     \
                      : (x) > ACT_K(T, hi) ? ACT_K(T, hi) : (x))

#if defined(ACT_RELU)
#define ACT_BODY(T) return x < ACT_K(T, 0.0f) ? ACT_K(T, 0.0f) : x;
#elif defined(ACT_LEAKYRELU)
#define ACT_BODY(T) return x < ACT_K(T, 0.0f) ? ACT_K(T, ACT_ALPHA) * x : x;
#elif defined(ACT_ELU)
#define ACT_BODY(T) return x < ACT_K(T, 0.0f) ? ACT_K(T, ACT_ALPHA) * expm1(x) : x;
#elif defined(ACT_SELU)
#define ACT_BODY(T)                                                      \
  return x > ACT_K(T, 0.0f) ? ACT_K(T, ACT_GAMMA) * x                    \
                            : ACT_K(T, ACT_GAMMA * ACT_ALPHA) * expm1(x);
#elif defined(ACT_SIGMOID)
#define ACT_BODY(T) return ACT_K(T, 1.0f) / (ACT_K(T, 1.0f) + exp(-x));
#elif defined(ACT_HARDSIGMOID) || defined(ACT_HARDSWISH)
#if defined(ACT_HARDSWISH)
#define ACT_HS_OUT(v) (x * (v))
#else
#define ACT_HS_OUT(v) (v)
#endif
#define ACT_BODY(T)                                        \
  T v = ACT_K(T, ACT_ALPHA) * x + ACT_K(T, ACT_BETA);      \
  v = v < ACT_K(T, 0.0f) ? ACT_K(T, 0.0f) : v;             \
  v = v > ACT_K(T, 1.0f) ? ACT_K(T, 1.0f) : v;             \
  return ACT_HS_OUT(v);
#elif defined(ACT_TANH)
#define ACT_BODY(T) return tanh(x);
#elif defined(ACT_CLIP)
#define ACT_BODY(T) return CLIP(T, x, ACT_MIN, ACT_MAX);
#elif defined(ACT_SOFTPLUS)
#define ACT_BODY(T) return fmax(x, ACT_K(T, 0.0f)) + log1p(exp(-fabs(x)));
#elif defined(ACT_MISH)
#define ACT_BODY(T) return x * tanh(fmax(x, ACT_K(T, 0.0f)) + log1p(exp(-fabs(x))));
#elif defined(ACT_GELU) && defined(ACT_GELU_TANH)
#define ACT_BODY(T)                                                                  \
  return ACT_K(T, 0.5f) * x *                                                        \
         (ACT_K(T, 1.0f) +                                                           \
          tanh(ACT_K(T, 0.79788456080286535588f) * (x + ACT_K(T, 0.044715f) * x * x * x)));
#elif defined(ACT_GELU)
#define ACT_BODY(T) \
  return ACT_K(T, 0.5f) * x * (ACT_K(T, 1.0f) + erf(x * ACT_K(T, 0.70710678118654752440f)));
#elif defined(ACT_ERF)
#define ACT_BODY(T) return erf(x);
#elif defined(ACT_EXP)
#define ACT_BODY(T) return exp(x);
#elif defined(ACT_LOG)
#define ACT_BODY(T) return log(x);
#elif defined(ACT_SQRT)
#define ACT_BODY(T) return sqrt(x);
#elif defined(ACT_NEG)
#define ACT_BODY(T) return -x;
#elif defined(ACT_ABS)
#define ACT_BODY(T) return fabs(x);
#elif defined(ACT_RECIPROCAL)
#define ACT_BODY(T) return ACT_K(T, 1.0f) / x;
#else /* ACT_NONE */
#define ACT_BODY(T) return x;
#endif

float act_apply(float x) { ACT_BODY(float) }
float4 act_apply4(float4 x) { ACT_BODY(float4) }
float8 act_apply8(float8 x) { ACT_BODY(float8) }
float16 act_apply16(float16 x) { ACT_BODY(float16) }

/* Storage of activations (DESIGN.md decision 10; host/kernel_options.h:
 * ocl_storage_options writes the options). Arithmetic is always float; a
 * tensor may be stored as IEEE half and is then read and written through
 * vload_half / vstore_half_rte, which are core OpenCL 1.2 (no cl_khr_fp16
 * needed: half is only the type of the pointer). Each role of a kernel has
 * its own type and accessors:
 *   X  the main input (and the scratch copies made of it: padded image,
 *      im2col matrix, the B operand of a convolution's product)
 *   Y  the output        R  a fused residual        B  a binary op's 2nd input
 * -DX_HALF, -DY_HALF, -DR_HALF, -DB_HALF store that role in half. Accessors:
 * LOAD_X(i, p) is element i of p, VLOAD_X(n, i, p) the n-vector at p + i * n
 * (n = 1, 2, 4, 8, 16; any element alignment),
 * STORE_Y(v, i, p) and VSTORE_Y(n, v, i, p) the stores (round to nearest). */
#define LOAD_F(i, p) ((p)[i])
#define VLOAD_F(n, i, p) CAT(VLOAD_F, n)(i, p)
#define VLOAD_F1(i, p) ((p)[i])
#define VLOAD_F2 vload2
#define VLOAD_F4 vload4
#define VLOAD_F8 vload8
#define VLOAD_F16 vload16
#define STORE_F(v, i, p) ((p)[i] = (v))
#define VSTORE_F(n, v, i, p) CAT(VSTORE_F, n)(v, i, p)
#define VSTORE_F1(v, i, p) ((p)[i] = (v))
#define VSTORE_F2 vstore2
#define VSTORE_F4 vstore4
#define VSTORE_F8 vstore8
#define VSTORE_F16 vstore16
/* Vectors of halves: PoCL 3.1 compiles vload_half8 and friends to loads
 * that assume 16-byte alignment (a fault on CPUs at any other offset) and
 * converts element by element, so vectors are moved as ushort vectors and
 * converted here with integer operations that vectorise. Loads are exact
 * (normals and subnormals by a multiply by 2^112 of the shifted bits,
 * infinities and NaNs kept); stores round to nearest even as vstore_half_rte
 * does (values from 65520 up become infinity, NaN a quiet NaN). */
#define HALF_ACCESS(n)                                                               \
  float##n load_half##n(uint i, const __global half *p) {                            \
    const uint##n h = convert_uint##n(vload##n(i, (const __global ushort *)p));      \
    const uint##n em = h & 0x7fffu;                                                  \
    float##n f = as_float##n(em << 13) * 0x1p112f;                                  \
    f = select(f, as_float##n((em << 13) | 0x7f800000u), em >= 0x7c00u);             \
    return as_float##n(as_uint##n(f) | ((h & 0x8000u) << 16));                       \
  }                                                                                  \
  void store_half##n(float##n v, uint i, __global half *p) {                         \
    uint##n f = as_uint##n(v);                                                       \
    const uint##n sign = (f >> 16) & 0x8000u;                                        \
    f &= 0x7fffffffu;                                                                \
    const uint##n big = select((uint##n)0x7c00u, (uint##n)0x7e00u, f > 0x7f800000u); \
    const uint##n sub = as_uint##n(as_float##n(f) + 0.5f) - 0x3f000000u;             \
    const uint##n norm = (f + 0xc8000fffu + ((f >> 13) & 1u)) >> 13;                 \
    uint##n o = select(norm, sub, f < 0x38800000u);                                  \
    o = select(o, big, f >= 0x47800000u);                                            \
    vstore##n(convert_ushort##n(o | sign), i, (__global ushort *)p);                 \
  }
/* Only in programs that store something as half, and 16 lanes only where a
 * kernel loads 16 (PoCL warns about each function of 16 lanes without
 * AVX-512, on stderr). */
#if defined(X_HALF) || defined(Y_HALF) || defined(R_HALF) || defined(B_HALF)
HALF_ACCESS(2)
HALF_ACCESS(4)
HALF_ACCESS(8)
#if defined(K_global_pool_f32) || defined(K_pool_f32) || defined(K_depthwise_f32)
HALF_ACCESS(16)
#endif
#endif
#define load_half1(i, p) vload_half(i, p)
#define store_half1(v, i, p) vstore_half_rte(v, i, p)
#define LOAD_H(i, p) vload_half(i, p)
#define VLOAD_H(n, i, p) CAT(load_half, n)(i, p)
#define STORE_H(v, i, p) vstore_half_rte(v, i, p)
#define VSTORE_H(n, v, i, p) CAT(store_half, n)(v, i, p)
#ifdef X_HALF
#define XT half
#define XS_ H
#else
#define XT float
#define XS_ F
#endif
#ifdef Y_HALF
#define YT half
#define YS_ H
#else
#define YT float
#define YS_ F
#endif
#ifdef R_HALF
#define RT half
#define RS_ H
#else
#define RT float
#define RS_ F
#endif
#ifdef B_HALF
#define BT half
#define BS_ H
#else
#define BT float
#define BS_ F
#endif
#define LOAD_X(i, p) CAT(LOAD_, XS_)(i, p)
#define VLOAD_X(n, i, p) CAT(VLOAD_, XS_)(n, i, p)
#define STORE_X(v, i, p) CAT(STORE_, XS_)(v, i, p)
#define LOAD_Y(i, p) CAT(LOAD_, YS_)(i, p)
#define VLOAD_Y(n, i, p) CAT(VLOAD_, YS_)(n, i, p)
#define STORE_Y(v, i, p) CAT(STORE_, YS_)(v, i, p)
#define VSTORE_Y(n, v, i, p) CAT(VSTORE_, YS_)(n, v, i, p)
#define LOAD_R(i, p) CAT(LOAD_, RS_)(i, p)
#define VLOAD_R(n, i, p) CAT(VLOAD_, RS_)(n, i, p)
#define LOAD_B(i, p) CAT(LOAD_, BS_)(i, p)
#define VLOAD_B(n, i, p) CAT(VLOAD_, BS_)(n, i, p)

/* The run-time part of an epilogue, in the kernels that take EPILOGUE_ARGS
 * after their sizes (host/kernel_options.h: ocl_epilogue_args sets them):
 *   res, res_off, res_on   when res_on, res[res_off + i] is added to output
 *                          element i after the bias (a residual Add fused
 *                          into the producer; res has the output's layout);
 *   act_alpha, act_lo, act_hi   the piecewise-linear activations, which need
 *                          no program of their own: negatives are scaled by
 *                          act_alpha, then clipped to [act_lo, act_hi] (none:
 *                          1, -inf, inf; Relu: 1, 0, inf; LeakyRelu: alpha,
 *                          -inf, inf; Clip: 1, min, max with min <= max).
 * Comparisons leave NaN as it is, as the CPU backend's formulas do. Other
 * activations stay -D options (ACT_*, act_apply), applied before these. */
#define EPILOGUE_ARGS                                                                    \
  , __global const RT *res, const uint res_off, const uint res_on,                    \
      const float act_alpha, const float act_lo, const float act_hi
#define EPILOGUE_PWL(T, v)                                        \
  do {                                                            \
    v = v < (T)0.0f ? (T)act_alpha * v : v;                       \
    v = v < (T)act_lo ? (T)act_lo : v;                            \
    v = v > (T)act_hi ? (T)act_hi : v;                            \
  } while (0)
