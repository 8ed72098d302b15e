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
  , __global const float *res, const uint res_off, const uint res_on,                    \
      const float act_alpha, const float act_lo, const float act_hi
#define EPILOGUE_PWL(T, v)                                        \
  do {                                                            \
    v = v < (T)0.0f ? (T)act_alpha * v : v;                       \
    v = v < (T)act_lo ? (T)act_lo : v;                            \
    v = v > (T)act_hi ? (T)act_hi : v;                            \
  } while (0)
