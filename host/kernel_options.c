/* Build options of OpenCL kernels (host/kernel_options.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "kernel_options.h"
#include "../runtime/ops/unary.h"

void ocl_opt(char *buf, size_t len, const char *fmt, ...) {
  size_t at = strlen(buf);
  if (at + 2 >= len) return;
  buf[at++] = ' ';
  buf[at] = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf + at, len - at, fmt, ap);
  va_end(ap);
}

char *ocl_float_literal(float v, char out[OCL_FLOAT_LITERAL_MAX]) {
  if (isnan(v)) {
    snprintf(out, OCL_FLOAT_LITERAL_MAX, "NAN");
    return out;
  }
  if (isinf(v)) {
    snprintf(out, OCL_FLOAT_LITERAL_MAX, v < 0 ? "(-INFINITY)" : "INFINITY");
    return out;
  }
  char num[OCL_FLOAT_LITERAL_MAX];
  snprintf(num, sizeof num, "%.9g", (double)v);
  /* "1" is not a float literal; "1.0f", "1e+30f" and "0.5f" are. */
  const char *frac = strpbrk(num, ".e") ? "" : ".0";
  if (signbit(v))
    snprintf(out, OCL_FLOAT_LITERAL_MAX, "(%s%sf)", num, frac);
  else
    snprintf(out, OCL_FLOAT_LITERAL_MAX, "%s%sf", num, frac);
  return out;
}

/* The -D name of each activation and which parameters it reads. */
enum { P_ALPHA = 1, P_BETA = 2, P_GAMMA = 4, P_MINMAX = 8 };

static const char *act_name(int op, int *pmask) {
  *pmask = 0;
  switch (op) {
    case CLCNN_OP_RELU: return "RELU";
    case CLCNN_OP_LEAKYRELU: *pmask = P_ALPHA; return "LEAKYRELU";
    case CLCNN_OP_ELU: *pmask = P_ALPHA; return "ELU";
    case CLCNN_OP_SELU: *pmask = P_ALPHA | P_GAMMA; return "SELU";
    case CLCNN_OP_SIGMOID: return "SIGMOID";
    case CLCNN_OP_HARDSIGMOID: *pmask = P_ALPHA | P_BETA; return "HARDSIGMOID";
    case CLCNN_OP_HARDSWISH: *pmask = P_ALPHA | P_BETA; return "HARDSWISH";
    case CLCNN_OP_TANH: return "TANH";
    case CLCNN_OP_CLIP: *pmask = P_MINMAX; return "CLIP";
    case CLCNN_OP_SOFTPLUS: return "SOFTPLUS";
    case CLCNN_OP_MISH: return "MISH";
    case CLCNN_OP_GELU: return "GELU";
    case CLCNN_OP_ERF: return "ERF";
    case CLCNN_OP_EXP: return "EXP";
    case CLCNN_OP_LOG: return "LOG";
    case CLCNN_OP_SQRT: return "SQRT";
    case CLCNN_OP_NEG: return "NEG";
    case CLCNN_OP_ABS: return "ABS";
    case CLCNN_OP_RECIPROCAL: return "RECIPROCAL";
    default: return NULL;
  }
}


bool ocl_activation_supported(int act_op) {
  int mask;
  return act_op < 0 || act_name(act_op, &mask) != NULL;
}

void ocl_activation_options(int act_op, const void *act_params, char *buf, size_t len) {
  int mask;
  const char *name = act_op >= 0 ? act_name(act_op, &mask) : NULL;
  if (!name) return;
  unary_params def;
  const unary_params *p = act_params;
  if (!p) {
    def = unary_params_default(act_op);
    p = &def;
  }
  char lit[OCL_FLOAT_LITERAL_MAX];
  ocl_opt(buf, len, "-DACT_%s", name);
  if (mask & P_ALPHA) ocl_opt(buf, len, "-DACT_ALPHA=%s", ocl_float_literal(p->alpha, lit));
  if (mask & P_BETA) ocl_opt(buf, len, "-DACT_BETA=%s", ocl_float_literal(p->beta, lit));
  if (mask & P_GAMMA) ocl_opt(buf, len, "-DACT_GAMMA=%s", ocl_float_literal(p->gamma, lit));
  if (mask & P_MINMAX) {
    ocl_opt(buf, len, "-DACT_MIN=%s", ocl_float_literal(p->min, lit));
    ocl_opt(buf, len, "-DACT_MAX=%s", ocl_float_literal(p->max, lit));
  }
  if (act_op == CLCNN_OP_GELU && p->approximate == GELU_APPROX_TANH)
    ocl_opt(buf, len, "-DACT_GELU_TANH");
}

void ocl_epilogue_split(int act_op, const void *act_params, ocl_epilogue *e, char *buf,
                        size_t len) {
  *e = (ocl_epilogue){1.0f, -INFINITY, INFINITY};
  unary_params def;
  const unary_params *p = act_params;
  if (act_op >= 0 && !p) {
    def = unary_params_default(act_op);
    p = &def;
  }
  switch (act_op) {
    case -1: return;
    case CLCNN_OP_RELU: e->lo = 0.0f; return;
    case CLCNN_OP_LEAKYRELU: e->alpha = p->alpha; return;
    case CLCNN_OP_CLIP:
      /* min > max clips everything to max, as the CPU backend's CLIP. */
      e->lo = p->min > p->max ? p->max : p->min;
      e->hi = p->max;
      return;
    default: ocl_activation_options(act_op, act_params, buf, len);
  }
}

const char *ocl_bits_type(size_t es) {
  switch (es) {
    case 1: return "uchar";
    case 2: return "ushort";
    case 4: return "uint";
    case 8: return "ulong";
    default: return NULL;
  }
}
