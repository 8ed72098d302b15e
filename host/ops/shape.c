/* OpenCL backend: the shape family. Kernels in kernels/shape.cl.
 *
 * Reshape, Flatten, Squeeze, Unsqueeze and Identity keep the data as it is:
 * a device copy (the runtime may remove some of them altogether). Dropout is
 * the same copy at inference, and writes its mask (all true) when one is
 * asked for. Cast converts between float32, float16, int64, int32, int8,
 * uint8 and bool on the device, as the CPU backend does; float64 (which
 * devices may lack) runs on the CPU. Shape, Constant and ConstantOfShape are
 * folded at load time and never reach a backend. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../ocl.h"
#include "../../runtime/ops/shape.h"
#include "../kernel_options.h"

/* Elements per work-item: 64 bytes on CPUs, 16 on GPUs (neighbouring
 * work-items on neighbouring addresses). 2..16. */
static int vec_width(const ocl_node *on, size_t es) {
  int bytes = ocl_gpu_variant(on) ? 16 : 64;
  int vw = bytes / (int)(es ? es : 1);
  return vw < 2 ? 2 : vw > 16 ? 16 : vw;
}

static bool too_big(const ir_value *v) {
  return v && shape_numel(v->t.rank, v->t.dims) >= INT_MAX;
}

/* A flat kernel over n elements: copy (x, x_off, y, y_off, n), fill
 * (y, y_off, n) or cast (as copy). */
typedef struct flat_state {
  cl_kernel copy;   /* output 0 from input 0 (copy or cast) */
  cl_kernel fill;   /* Dropout's mask */
  cl_uint n, n_mask;
  int vw, vw_mask;
  bool view; /* a copy that the memory plan may give the same place as its source */
} flat_state;

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

static clcnn_status run_flat(ocl_node *on, const ocl_tensor *in, int nin, const ocl_tensor *out,
                             int nout, clcnn_err *err) {
  (void)nin;
  flat_state *s = on->state;
  clcnn_status st;
  const bool in_place = s->view && in[0].mem == out[0].mem &&
                        ocl_elem_offset(&in[0]) == ocl_elem_offset(&out[0]); /* a view: done */
  if (s->copy && s->n && !in_place) {
    cl_uint xo = ocl_elem_offset(&in[0]), yo = ocl_elem_offset(&out[0]);
    st = ocl_args(s->copy, err, sizeof(cl_mem), &in[0].mem, sizeof(cl_uint), &xo, sizeof(cl_mem),
                  &out[0].mem, sizeof(cl_uint), &yo, sizeof(cl_uint), &s->n, (size_t)0);
    if (st) return st;
    size_t g = ceil_div(s->n, (size_t)s->vw);
    if ((st = ocl_enqueue(on, s->copy, 1, &g, NULL, err))) return st;
  }
  if (s->fill && s->n_mask && nout > 1 && out[1].mem) {
    cl_uint yo = ocl_elem_offset(&out[1]);
    st = ocl_args(s->fill, err, sizeof(cl_mem), &out[1].mem, sizeof(cl_uint), &yo,
                  sizeof(cl_uint), &s->n_mask, (size_t)0);
    if (st) return st;
    size_t g = ceil_div(s->n_mask, (size_t)s->vw_mask);
    if ((st = ocl_enqueue(on, s->fill, 1, &g, NULL, err))) return st;
  }
  return CLCNN_OK;
}

/* ------------------------------------------- Reshape and friends: a copy */

static const char *copy_check(const ocl_device_info *dev, const ir_graph *g, const ir_node *n) {
  (void)dev;
  const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
  if (!x || !y) return "the data input or output is missing";
  if (!ocl_bits_type(dtype_size(x->t.dtype))) return "this data type is not supported on OpenCL";
  if (too_big(x)) return "tensors of 2^31 elements or more are not supported on OpenCL";
  const ir_value *mask = ir_out(g, n, 1);
  if (mask && (!ocl_bits_type(dtype_size(mask->t.dtype)) || too_big(mask)))
    return "this Dropout mask type is not supported on OpenCL";
  return NULL;
}

static clcnn_status copy_prepare(ocl_node *on, clcnn_err *err) {
  flat_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  on->state = s;
  const ir_value *x = ir_in(on->g, on->n, 0);
  size_t es = value_elem_bytes(x); /* input and output are stored alike (ocl_half_alike) */
  s->view = on->n->op != CLCNN_OP_DROPOUT;
  s->n = (cl_uint)shape_numel(x->t.rank, x->t.dims);
  s->vw = vec_width(on, es);
  char opts[256] = "";
  ocl_opt(opts, sizeof opts, "-DT=%s -DVW=%d", ocl_bits_type(es), s->vw);
  clcnn_status st = ocl_kernel(on, "shape.cl", "copy_flat_any", opts, &s->copy, err);
  if (st) return st;
  const ir_value *mask = ir_out(on->g, on->n, 1);
  if (on->n->op == CLCNN_OP_DROPOUT && mask) {
    size_t ms = dtype_size(mask->t.dtype);
    uint8_t one[8];
    uint64_t bits = 0;
    shape_scalar_store(mask->t.dtype, 1.0, one);
    memcpy(&bits, one, ms); /* little-endian hosts and devices */
    s->n_mask = (cl_uint)shape_numel(mask->t.rank, mask->t.dims);
    s->vw_mask = vec_width(on, ms);
    char mopts[256] = "";
    ocl_opt(mopts, sizeof mopts, "-DT=%s -DVW=%d -DFILLV=0x%llx%s", ocl_bits_type(ms), s->vw_mask,
            (unsigned long long)bits, ms == 8 ? "UL" : "u");
    st = ocl_kernel(on, "shape.cl", "fill_flat_any", mopts, &s->fill, err);
  }
  return st;
}

/* ------------------------------------------------------------------ Cast */

static bool cast_type_ok(clcnn_dtype dt) {
  switch (dt) {
    case CLCNN_DTYPE_FLOAT32:
    case CLCNN_DTYPE_FLOAT16:
    case CLCNN_DTYPE_INT64:
    case CLCNN_DTYPE_INT32:
    case CLCNN_DTYPE_INT8:
    case CLCNN_DTYPE_UINT8:
    case CLCNN_DTYPE_BOOL: return true;
    default: return false;
  }
}

/* OpenCL C name of a (non-half) type. */
static const char *cl_type(clcnn_dtype dt) {
  switch (dt) {
    case CLCNN_DTYPE_FLOAT32: return "float";
    case CLCNN_DTYPE_INT64: return "long";
    case CLCNN_DTYPE_INT32: return "int";
    case CLCNN_DTYPE_INT8: return "char";
    case CLCNN_DTYPE_UINT8:
    case CLCNN_DTYPE_BOOL: return "uchar";
    default: return "uint";
  }
}

static bool is_int(clcnn_dtype dt) {
  return dt == CLCNN_DTYPE_INT64 || dt == CLCNN_DTYPE_INT32 || dt == CLCNN_DTYPE_INT8 ||
         dt == CLCNN_DTYPE_UINT8 || dt == CLCNN_DTYPE_BOOL;
}

static const char *cast_check(const ocl_device_info *dev, const ir_graph *g, const ir_node *n) {
  (void)dev;
  const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
  if (!x || !y) return "the data input or output is missing";
  clcnn_dtype from = x->t.dtype, to = y->t.dtype;
  const cast_params *p = n->params;
  if (too_big(x)) return "tensors of 2^31 elements or more are not supported on OpenCL";
  if (p->round_bf16) return "Cast to bfloat16 is not supported on OpenCL";
  if (p->round_f8 || dtype_is_f8(from) || dtype_is_f8(to))
    return "Cast to or from the float8 and float4 types is not supported on OpenCL";
  if (p->round_half && (from == CLCNN_DTYPE_INT64 || from == CLCNN_DTYPE_INT32))
    return "Cast from int32/int64 to float16 is not supported on OpenCL";
  if (from == to && !p->round_half)
    return ocl_bits_type(dtype_size(from)) ? NULL : "this data type is not supported on OpenCL";
  if (!cast_type_ok(from) || !cast_type_ok(to))
    return "Cast from or to this type is not supported on OpenCL";
  /* Integers wider than 24 bits would round twice on the way to half (once
   * to float): the CPU rounds once. */
  if (to == CLCNN_DTYPE_FLOAT16 && (from == CLCNN_DTYPE_INT64 || from == CLCNN_DTYPE_INT32))
    return "Cast from int32/int64 to float16 is not supported on OpenCL";
  return NULL;
}

static clcnn_status cast_prepare(ocl_node *on, clcnn_err *err) {
  const ir_value *x = ir_in(on->g, on->n, 0), *y = ir_out(on->g, on->n, 0);
  clcnn_dtype from = x->t.dtype, to = y->t.dtype;
  /* A Cast to float16 lowered to float32 rounds floats through half;
   * the other types it accepts are exact in half already. */
  const cast_params *p = on->n->params;
  const bool round_half = p->round_half && from == CLCNN_DTYPE_FLOAT32;
  if (from == to && !round_half) return copy_prepare(on, err);
  flat_state *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  on->state = s;
  s->n = (cl_uint)shape_numel(x->t.rank, x->t.dims);
  size_t es = dtype_size(from) > dtype_size(to) ? dtype_size(from) : dtype_size(to);
  s->vw = vec_width(on, es);
  char opts[256] = "";
  ocl_opt(opts, sizeof opts, "-DVW=%d", s->vw);
  if (from == CLCNN_DTYPE_FLOAT16) ocl_opt(opts, sizeof opts, "-DFROM_HALF");
  else ocl_opt(opts, sizeof opts, "-DSRC_T=%s", cl_type(from));
  if (from == CLCNN_DTYPE_BOOL) ocl_opt(opts, sizeof opts, "-DFROM_BOOL");
  if (to == CLCNN_DTYPE_FLOAT16) ocl_opt(opts, sizeof opts, "-DTO_HALF");
  else ocl_opt(opts, sizeof opts, "-DDST_T=%s", cl_type(to));
  if (to == CLCNN_DTYPE_BOOL) ocl_opt(opts, sizeof opts, "-DTO_BOOL");
  else if (is_int(to) && !is_int(from)) ocl_opt(opts, sizeof opts, "-DSAT");
  else if (round_half) ocl_opt(opts, sizeof opts, "-DROUND_HALF");
  return ocl_kernel(on, "shape.cl", "cast_flat_any", opts, &s->copy, err);
}

/* ----------------------------------------------------------------- table */

static const ocl_op copy_ocl = {copy_check, copy_prepare, run_flat, NULL, ocl_half_alike};
static const ocl_op cast_ocl = {cast_check, cast_prepare, run_flat, NULL, NULL};

const ocl_op *const ocl_ops_shape[CLCNN_OP_COUNT] = {
    [CLCNN_OP_RESHAPE] = &copy_ocl,   [CLCNN_OP_FLATTEN] = &copy_ocl,
    [CLCNN_OP_SQUEEZE] = &copy_ocl,   [CLCNN_OP_UNSQUEEZE] = &copy_ocl,
    [CLCNN_OP_IDENTITY] = &copy_ocl,  [CLCNN_OP_DROPOUT] = &copy_ocl,
    [CLCNN_OP_CAST] = &cast_ocl,
};
