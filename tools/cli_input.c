/* Inputs for `clcnn run` and `clcnn bench`: TensorProto .pb files, .npy
 * arrays (a small strict reader), images (tools/cli_image.c, bilinear resize,
 * normalisation into NCHW float32), and deterministic pseudo-random data. */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "clcnn_config.h"
#include "onnx_io.h"

#define MAX_ELEMS ((int64_t)1 << 34) /* 16 Gi elements: far beyond any input */

/* ------------------------------------------------------------- tensors */

double cli_tensor_get(const clcnn_tensor *t, int64_t i) {
  return t->data ? tensor_get_f64(t, i) : 0;
}

static bool convertible(clcnn_dtype d) {
  switch (d) {
    case CLCNN_DTYPE_FLOAT32:
    case CLCNN_DTYPE_FLOAT64:
    case CLCNN_DTYPE_FLOAT16:
    case CLCNN_DTYPE_INT64:
    case CLCNN_DTYPE_INT32:
    case CLCNN_DTYPE_INT8:
    case CLCNN_DTYPE_UINT8:
    case CLCNN_DTYPE_INT16:
    case CLCNN_DTYPE_UINT16:
    case CLCNN_DTYPE_UINT32:
    case CLCNN_DTYPE_UINT64:
    case CLCNN_DTYPE_BOOL: return true;
    default: return false;
  }
}

static void tensor_put(clcnn_tensor *t, int64_t i, double v) {
  switch (t->dtype) {
    case CLCNN_DTYPE_FLOAT32: ((float *)t->data)[i] = (float)v; break;
    case CLCNN_DTYPE_FLOAT64: ((double *)t->data)[i] = v; break;
    case CLCNN_DTYPE_FLOAT16: ((uint16_t *)t->data)[i] = f16_from_double(v); break;
    case CLCNN_DTYPE_INT64: ((int64_t *)t->data)[i] = (int64_t)v; break;
    case CLCNN_DTYPE_INT32: ((int32_t *)t->data)[i] = (int32_t)v; break;
    case CLCNN_DTYPE_INT8: ((int8_t *)t->data)[i] = (int8_t)v; break;
    case CLCNN_DTYPE_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
    case CLCNN_DTYPE_INT16: ((int16_t *)t->data)[i] = (int16_t)v; break;
    case CLCNN_DTYPE_UINT16: ((uint16_t *)t->data)[i] = (uint16_t)v; break;
    case CLCNN_DTYPE_UINT32: ((uint32_t *)t->data)[i] = (uint32_t)v; break;
    case CLCNN_DTYPE_UINT64: ((uint64_t *)t->data)[i] = (uint64_t)v; break;
    case CLCNN_DTYPE_BOOL: ((uint8_t *)t->data)[i] = v != 0; break;
    default: break;
  }
}

/* The finite values a type holds; false for bool (any value converts). */
static bool value_range(clcnn_dtype d, double *lo, double *hi) {
  switch (d) {
    case CLCNN_DTYPE_FLOAT32: *lo = -FLT_MAX, *hi = FLT_MAX; return true;
    case CLCNN_DTYPE_FLOAT64: *lo = -DBL_MAX, *hi = DBL_MAX; return true;
    /* 2^63 is a double; the largest double below it is the largest int64
     * that a double reaching here (an integer) can be. */
    case CLCNN_DTYPE_INT64: *lo = -9223372036854775808.0, *hi = 9223372036854774784.0; return true;
    case CLCNN_DTYPE_INT32: *lo = INT32_MIN, *hi = INT32_MAX; return true;
    case CLCNN_DTYPE_INT8: *lo = INT8_MIN, *hi = INT8_MAX; return true;
    case CLCNN_DTYPE_UINT8: *lo = 0, *hi = UINT8_MAX; return true;
    case CLCNN_DTYPE_INT16: *lo = INT16_MIN, *hi = INT16_MAX; return true;
    case CLCNN_DTYPE_UINT16: *lo = 0, *hi = UINT16_MAX; return true;
    case CLCNN_DTYPE_UINT32: *lo = 0, *hi = UINT32_MAX; return true;
    /* The largest double below 2^64, as for int64 above. */
    case CLCNN_DTYPE_UINT64: *lo = 0, *hi = 18446744073709549568.0; return true;
    default: return false;
  }
}

int cli_tensor_convert(clcnn_tensor *t, clcnn_dtype to, char *why, size_t why_len) {
  if (t->dtype == to) return 0;
  if (!convertible(t->dtype) || !convertible(to)) {
    snprintf(why, why_len, "cannot convert %s to %s", dtype_name(t->dtype), dtype_name(to));
    return -1;
  }
  int64_t n = shape_numel(t->rank, t->dims);
  /* int64 values beyond 2^53 would lose digits through double: refuse. */
  if (t->dtype == CLCNN_DTYPE_INT64 && to != CLCNN_DTYPE_INT64)
    for (int64_t i = 0; i < n; i++) {
      int64_t v = ((const int64_t *)t->data)[i];
      if (v > ((int64_t)1 << 53) || v < -((int64_t)1 << 53)) {
        snprintf(why, why_len, "int64 value %lld does not fit %s", (long long)v, dtype_name(to));
        return -1;
      }
    }
  clcnn_tensor o = *t;
  o.dtype = to;
  o.data = malloc((size_t)n * dtype_size(to) + 1);
  if (!o.data) {
    snprintf(why, why_len, "out of memory");
    return -1;
  }
  for (int64_t i = 0; i < n; i++) {
    double v = cli_tensor_get(t, i);
    if (to != CLCNN_DTYPE_FLOAT32 && to != CLCNN_DTYPE_FLOAT64 && to != CLCNN_DTYPE_FLOAT16 &&
        to != CLCNN_DTYPE_BOOL &&
        (v != v || v != floor(v))) {
      snprintf(why, why_len, "value %g is not an integer (the input is %s)", v, dtype_name(to));
      free(o.data);
      return -1;
    }
    /* A value out of the type's range has no conversion (C leaves it
     * undefined): refuse it rather than wrap or saturate. Infinities are
     * floats' own. */
    double lo, hi;
    bool is_float = to == CLCNN_DTYPE_FLOAT32 || to == CLCNN_DTYPE_FLOAT64;
    if (value_range(to, &lo, &hi) && (v < lo || v > hi) && !(is_float && isinf(v))) {
      snprintf(why, why_len, "value %g does not fit %s", v, dtype_name(to));
      free(o.data);
      return -1;
    }
    tensor_put(&o, i, v);
  }
  free(t->data);
  *t = o;
  return 0;
}

/* ---------------------------------------------------------------- .npy */

/* A cursor over the header dictionary text. */
typedef struct npy_p {
  const char *s, *end;
} npy_p;

static void npy_ws(npy_p *p) {
  while (p->s < p->end && (*p->s == ' ' || *p->s == '\t')) p->s++;
}

static bool npy_char(npy_p *p, char c) {
  npy_ws(p);
  if (p->s < p->end && *p->s == c) {
    p->s++;
    return true;
  }
  return false;
}

/* A quoted string (no escapes: none of the legal values need them). */
static bool npy_str(npy_p *p, char *out, size_t len) {
  npy_ws(p);
  if (p->s >= p->end || (*p->s != '\'' && *p->s != '"')) return false;
  char q = *p->s++;
  size_t n = 0;
  while (p->s < p->end && *p->s != q) {
    if (*p->s == '\\' || n + 1 >= len) return false;
    out[n++] = *p->s++;
  }
  if (p->s >= p->end) return false;
  p->s++;
  out[n] = 0;
  return true;
}

static bool npy_word(npy_p *p, const char *w) {
  npy_ws(p);
  size_t n = strlen(w);
  if ((size_t)(p->end - p->s) >= n && memcmp(p->s, w, n) == 0) {
    p->s += n;
    return true;
  }
  return false;
}

int cli_npy_load(const char *path, clcnn_tensor *out, char *why, size_t why_len) {
  memset(out, 0, sizeof *out);
  clcnn_err err = {0};
  void *buf;
  size_t size;
  if (onnx_read_file(path, &buf, &size, &err)) {
    snprintf(why, why_len, "%s", err.msg);
    return -1;
  }
  int rc = cli_npy_parse(buf, size, out, why, why_len);
  free(buf);
  return rc;
}

int cli_npy_parse(const void *data, size_t size, clcnn_tensor *out, char *why, size_t why_len) {
  memset(out, 0, sizeof *out);
  const uint8_t *b = data;
  int rc = -1;
#define FAIL(...)                        \
  do {                                   \
    snprintf(why, why_len, __VA_ARGS__); \
    goto done;                           \
  } while (0)
  if (size < 10 || memcmp(b, "\x93NUMPY", 6) != 0) FAIL("not a .npy file (bad magic)");
  int major = b[6], minor = b[7];
  size_t hlen, hstart;
  if (major == 1 && minor == 0) {
    hlen = (size_t)b[8] | (size_t)b[9] << 8;
    hstart = 10;
  } else if ((major == 2 || major == 3) && minor == 0) {
    if (size < 12) FAIL("truncated .npy header");
    hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    hstart = 12;
  } else {
    FAIL(".npy format version %d.%d is not supported (1.0, 2.0, 3.0 are)", major, minor);
  }
  if (hlen == 0 || hlen > size - hstart) FAIL(".npy header length %zu exceeds the file", hlen);
  const char *h = (const char *)b + hstart;
  if (h[hlen - 1] != '\n') FAIL(".npy header does not end with a newline");
  for (size_t i = 0; i + 1 < hlen; i++)
    if (h[i] == 0 || h[i] == '\n') FAIL(".npy header has a stray control character");
  npy_p p = {h, h + hlen - 1};
  char descr[16] = "";
  int have_descr = 0, have_order = 0, have_shape = 0;
  bool fortran = false;
  int rank = 0;
  int64_t dims[CLCNN_MAX_RANK];
  if (!npy_char(&p, '{')) FAIL(".npy header is not a dictionary");
  while (!npy_char(&p, '}')) {
    char key[32];
    if (!npy_str(&p, key, sizeof key) || !npy_char(&p, ':')) FAIL("malformed .npy header");
    if (strcmp(key, "descr") == 0 && !have_descr++) {
      if (!npy_str(&p, descr, sizeof descr)) FAIL(".npy header: 'descr' is not a type string");
    } else if (strcmp(key, "fortran_order") == 0 && !have_order++) {
      if (npy_word(&p, "True"))
        fortran = true;
      else if (!npy_word(&p, "False"))
        FAIL(".npy header: 'fortran_order' is not True/False");
    } else if (strcmp(key, "shape") == 0 && !have_shape++) {
      if (!npy_char(&p, '(')) FAIL(".npy header: 'shape' is not a tuple");
      while (!npy_char(&p, ')')) {
        npy_ws(&p);
        if (rank == CLCNN_MAX_RANK) FAIL(".npy array has more than %d dimensions", CLCNN_MAX_RANK);
        int64_t v = 0;
        int digits = 0;
        while (p.s < p.end && isdigit((unsigned char)*p.s)) {
          v = v * 10 + (*p.s++ - '0');
          if (++digits > 12) FAIL(".npy header: a dimension is too large");
        }
        if (!digits) FAIL(".npy header: 'shape' is not a tuple of integers");
        dims[rank++] = v;
        if (!npy_char(&p, ',')) {
          if (!npy_char(&p, ')')) FAIL(".npy header: 'shape' is not a tuple of integers");
          break;
        }
      }
    } else {
      FAIL(".npy header: unexpected or repeated key '%s'", key);
    }
    if (!npy_char(&p, ',')) {
      if (!npy_char(&p, '}')) FAIL("malformed .npy header");
      break;
    }
  }
  npy_ws(&p);
  if (p.s != p.end) FAIL("malformed .npy header (text after the dictionary)");
  if (!have_descr || !have_order || !have_shape)
    FAIL(".npy header lacks 'descr', 'fortran_order' or 'shape'");
  if (fortran) FAIL(".npy array is in Fortran order: save it C-contiguous (np.ascontiguousarray)");
  static const struct {
    const char *descr;
    clcnn_dtype dtype;
  } types[] = {{"<f4", CLCNN_DTYPE_FLOAT32}, {"<f8", CLCNN_DTYPE_FLOAT64},
               {"<f2", CLCNN_DTYPE_FLOAT16}, {"<i8", CLCNN_DTYPE_INT64},
               {"<i4", CLCNN_DTYPE_INT32},   {"<i2", CLCNN_DTYPE_INT16},
               {"|i1", CLCNN_DTYPE_INT8},    {"<u8", CLCNN_DTYPE_UINT64},
               {"<u4", CLCNN_DTYPE_UINT32},  {"<u2", CLCNN_DTYPE_UINT16},
               {"|u1", CLCNN_DTYPE_UINT8},   {"|b1", CLCNN_DTYPE_BOOL}};
  clcnn_dtype dt = CLCNN_DTYPE_UNDEFINED;
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcmp(descr, types[i].descr) == 0) dt = types[i].dtype;
  if (!dt)
    FAIL(".npy dtype '%s' is not supported (<f4 <f8 <f2 <i8 <i4 <i2 |i1 <u8 <u4 <u2 |u1 |b1 are)",
         descr);
  int64_t numel = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] && numel > MAX_ELEMS / dims[i]) FAIL(".npy shape is too large");
    numel *= dims[i];
  }
  size_t bytes = (size_t)numel * dtype_size(dt);
  size_t have = size - hstart - hlen;
  if (bytes != have) FAIL(".npy data is %zu bytes but its shape and dtype need %zu", have, bytes);
  out->dtype = dt;
  out->rank = rank;
  for (int i = 0; i < rank; i++) out->dims[i] = dims[i];
  out->data = malloc(bytes ? bytes : 1);
  if (!out->data) FAIL("out of memory");
  memcpy(out->data, b + hstart + hlen, bytes);
  rc = 0;
#undef FAIL
done:
  return rc;
}

/* -------------------------------------------------------------- images */

#if CLCNN_HAVE_STB
/* Bilinear resize of an HWC float image (half-pixel centres, as in OpenCV
 * and PIL), writing NCHW planes `dst` of dw x dh. */
static void resize_bilinear_chw(const float *src, int sw, int sh, int c, float *dst, int dw,
                                int dh) {
  double sx = (double)sw / dw, sy = (double)sh / dh;
  for (int y = 0; y < dh; y++) {
    double fy = (y + 0.5) * sy - 0.5;
    if (fy < 0) fy = 0;
    int y0 = (int)fy;
    if (y0 > sh - 1) y0 = sh - 1;
    int y1 = y0 + 1 < sh ? y0 + 1 : sh - 1;
    float wy = (float)(fy - y0);
    if (wy > 1) wy = 1;
    for (int x = 0; x < dw; x++) {
      double fx = (x + 0.5) * sx - 0.5;
      if (fx < 0) fx = 0;
      int x0 = (int)fx;
      if (x0 > sw - 1) x0 = sw - 1;
      int x1 = x0 + 1 < sw ? x0 + 1 : sw - 1;
      float wx = (float)(fx - x0);
      if (wx > 1) wx = 1;
      for (int k = 0; k < c; k++) {
        float a = src[((size_t)y0 * sw + x0) * c + k], b = src[((size_t)y0 * sw + x1) * c + k];
        float d = src[((size_t)y1 * sw + x0) * c + k], e = src[((size_t)y1 * sw + x1) * c + k];
        float top = a + (b - a) * wx, bot = d + (e - d) * wx;
        dst[((size_t)k * dh + y) * dw + x] = top + (bot - top) * wy;
      }
    }
  }
}
#endif

/* Decodes an image (`size` bytes; `path` names it in messages) into a
 * [1, C, H, W] float32 tensor for input `io`. */
static int image_load(const char *path, const uint8_t *data, size_t size, const clcnn_io_info *io,
                      const cli_input_opts *o, clcnn_tensor *out) {
#if CLCNN_HAVE_STB
  /* Channels as the model wants them: 1 gray, 2 gray + alpha, 4 RGBA (an
   * opaque alpha where the file has none), else RGB. */
  int ch = io->rank == 4 && io->dims[1] >= 1 && io->dims[1] <= 4 ? (int)io->dims[1] : 3;
  if (o->have_shape && o->rank == 4 && o->dims[1] >= 1 && o->dims[1] <= 4) ch = (int)o->dims[1];
  if (io->rank != 4 && io->rank > 0) {
    cli_error("input '%s': an image needs a rank-4 NCHW input, the model's is rank %d", io->name,
              io->rank);
    return CLI_FAIL;
  }
  if (io->rank == 4 && io->dims[1] >= 0 && (io->dims[1] < 1 || io->dims[1] > 4)) {
    cli_error("input '%s': an image gives 1 to 4 channels, the model wants %lld (NCHW)", io->name,
              (long long)io->dims[1]);
    return CLI_FAIL;
  }
  if (io->rank == 4 && io->dims[0] > 1) {
    cli_error("input '%s': the model wants a batch of %lld, an image gives 1", io->name,
              (long long)io->dims[0]);
    return CLI_FAIL;
  }
  if ((o->nmean > 1 && o->nmean != ch) || (o->nstd > 1 && o->nstd != ch)) {
    cli_error("--mean/--std: give 1 or %d values for a %d-channel input", ch, ch);
    return CLI_FAIL;
  }
  cli_pixels img;
  char why[256];
  if (cli_image_decode(data, size, ch, &img, why, sizeof why)) {
    cli_error("cannot decode image '%s': %s", path, why);
    return CLI_FAIL;
  }
  int w = img.w, h = img.h;
  /* Target size: --size, else --shape, else the model's H, W, else the image's. */
  int64_t th = h, tw = w;
  if (o->size_w > 0) {
    tw = o->size_w;
    th = o->size_h;
  } else if (o->have_shape && o->rank == 4) {
    th = o->dims[2];
    tw = o->dims[3];
  } else if (io->rank == 4) {
    if (io->dims[2] > 0) th = io->dims[2];
    if (io->dims[3] > 0) tw = io->dims[3];
  }
  if (th <= 0 || tw <= 0 || th * tw > ((int64_t)1 << 28)) {
    cli_pixels_free(&img);
    cli_error("input '%s': cannot resize the image to %lldx%lld", io->name, (long long)tw,
              (long long)th);
    return CLI_FAIL;
  }
  size_t n = (size_t)w * (size_t)h * (size_t)ch;
  float *src = malloc(n * sizeof(float));
  float *dst = malloc((size_t)th * (size_t)tw * (size_t)ch * sizeof(float));
  if (!src || !dst) {
    free(src);
    free(dst);
    cli_pixels_free(&img);
    cli_error("out of memory loading image '%s'", path);
    return CLI_FAIL;
  }
  if (img.deep)
    for (size_t i = 0; i < n; i++) src[i] = ((const uint16_t *)img.data)[i] / 65535.0f;
  else
    for (size_t i = 0; i < n; i++) src[i] = ((const unsigned char *)img.data)[i] / 255.0f;
  cli_pixels_free(&img);
  resize_bilinear_chw(src, w, h, ch, dst, (int)tw, (int)th);
  free(src);
  size_t plane = (size_t)th * (size_t)tw;
  for (int k = 0; k < ch; k++) {
    float mean = o->nmean ? o->mean[o->nmean > 1 ? k : 0] : 0.0f;
    float sd = o->nstd ? o->std[o->nstd > 1 ? k : 0] : 1.0f;
    for (size_t i = 0; i < plane; i++) dst[k * plane + i] = (dst[k * plane + i] - mean) / sd;
  }
  out->dtype = CLCNN_DTYPE_FLOAT32;
  out->rank = 4;
  out->dims[0] = 1;
  out->dims[1] = ch;
  out->dims[2] = th;
  out->dims[3] = tw;
  out->data = dst;
  return CLI_OK;
#else
  (void)data;
  (void)size;
  (void)io;
  (void)o;
  (void)out;
  cli_error("'%s' is an image, but this clcnn was built without stb_image (install libstb-dev)",
            path);
  return CLI_FAIL;
#endif
}

/* --------------------------------------------------------------- random */

static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Floats uniform in [-1, 1); integers in [0, 10); bools 0/1. */
static void fill_random(clcnn_tensor *t, uint64_t seed) {
  uint64_t s = seed;
  int64_t n = shape_numel(t->rank, t->dims);
  for (int64_t i = 0; i < n; i++) {
    uint64_t r = splitmix64(&s);
    double u = (double)(r >> 11) * (1.0 / 9007199254740992.0);
    switch (t->dtype) {
      case CLCNN_DTYPE_FLOAT32:
      case CLCNN_DTYPE_FLOAT64: tensor_put(t, i, 2 * u - 1); break;
      case CLCNN_DTYPE_BOOL: tensor_put(t, i, r & 1); break;
      case CLCNN_DTYPE_FLOAT16: ((uint16_t *)t->data)[i] = 0x3c00; break; /* 1.0 */
      default: tensor_put(t, i, (double)(r % 10)); break;
    }
  }
}

/* ---------------------------------------------------------------- inputs */

static bool same_dims(int ra, const int64_t *a, int rb, const int64_t *b) {
  if (ra != rb) return false;
  for (int i = 0; i < ra; i++)
    if (a[i] != b[i]) return false;
  return true;
}

int cli_input_make(const clcnn_io_info *io, const cli_input_opts *o, uint64_t seed, cli_input *in) {
  memset(in, 0, sizeof *in);
  in->name = io->name;
  if (!o->file) {
    clcnn_tensor *t = &in->t;
    t->dtype = io->dtype;
    if (o->have_shape) {
      t->rank = o->rank;
      for (int i = 0; i < o->rank; i++) t->dims[i] = o->dims[i];
    } else {
      t->rank = io->rank;
      for (int i = 0; i < io->rank; i++) t->dims[i] = io->dims[i] >= 0 ? io->dims[i] : 1;
    }
    size_t es = dtype_size(t->dtype);
    int64_t numel = 1;
    for (int i = 0; i < t->rank; i++) {
      if (t->dims[i] && numel > MAX_ELEMS / t->dims[i]) {
        cli_error("input '%s': shape too large", io->name);
        return CLI_FAIL;
      }
      numel *= t->dims[i];
    }
    if (!es) {
      cli_error("input '%s' has type %s, which the tool cannot fill", io->name,
                dtype_name(t->dtype));
      return CLI_FAIL;
    }
    t->data = malloc((size_t)numel * es + 1);
    if (!t->data) {
      cli_error("out of memory for input '%s' (%lld elements)", io->name, (long long)numel);
      return CLI_FAIL;
    }
    fill_random(t, seed);
    in->random = true;
    return CLI_OK;
  }

  /* A file: its content says what it is. */
  struct stat sb;
  if (stat(o->file, &sb) != 0) {
    cli_error("input '%s': cannot open '%s': %s", io->name, o->file, strerror(errno));
    return CLI_FAIL;
  }
  if (!S_ISREG(sb.st_mode)) {
    cli_error("input '%s': '%s' is not a regular file", io->name, o->file);
    return CLI_FAIL;
  }
  void *buf;
  size_t size;
  clcnn_err err = {0};
  if (onnx_read_file(o->file, &buf, &size, &err)) {
    cli_error("input '%s': %s", io->name, err.msg);
    return CLI_FAIL;
  }
  int rc = cli_input_from_memory(io, o, o->file, buf, size, in);
  free(buf);
  return rc;
}

int cli_input_from_memory(const clcnn_io_info *io, const cli_input_opts *o, const char *file,
                          const uint8_t *data, size_t size, cli_input *in) {
  memset(in, 0, sizeof *in);
  in->name = io->name;
  char why[512];
  if (size >= 6 && memcmp(data, "\x93NUMPY", 6) == 0) {
    if (cli_npy_parse(data, size, &in->t, why, sizeof why)) {
      cli_error("input '%s': %s: %s", io->name, file, why);
      return CLI_FAIL;
    }
  } else if (cli_is_image(data, size)) {
    if (image_load(file, data, size, io, o, &in->t)) return CLI_FAIL;
  } else {
    clcnn_err err = {0};
    if (onnx_tensor_decode_bytes(data, size, file, &in->t, NULL, &err)) {
      cli_error("input '%s': %s (not a .npy file or an image either)", io->name, err.msg);
      return CLI_FAIL;
    }
  }
  if (o->have_shape && !same_dims(o->rank, o->dims, in->t.rank, in->t.dims)) {
    char a[128], b[128];
    cli_error("input '%s': '%s' has shape %s, --shape says %s", io->name, file,
              (cli_dims_str(in->t.rank, in->t.dims, a, sizeof a), a),
              (cli_dims_str(o->rank, o->dims, b, sizeof b), b));
    cli_input_free(in);
    return CLI_FAIL;
  }
  if (in->t.dtype != io->dtype) {
    clcnn_dtype from = in->t.dtype;
    if (cli_tensor_convert(&in->t, io->dtype, why, sizeof why)) {
      cli_error("input '%s': '%s' holds %s, the model wants %s: %s", io->name, file,
                dtype_name(from), dtype_name(io->dtype), why);
      cli_input_free(in);
      return CLI_FAIL;
    }
    cli_note("input '%s': converted %s to %s", io->name, dtype_name(from), dtype_name(io->dtype));
  }
  return CLI_OK;
}

void cli_input_free(cli_input *in) {
  if (!in) return;
  free(in->t.data);
  in->t.data = NULL;
}

int cli_inputs_random(const clcnn_model *m, long long batch, cli_input **out, int *count) {
  int n = clcnn_model_input_count(m);
  *count = 0;
  *out = calloc((size_t)n + 1, sizeof **out);
  if (!*out) {
    cli_error("out of memory");
    return CLI_FAIL;
  }
  for (int i = 0; i < n; i++) {
    clcnn_io_info io;
    clcnn_model_input_info(m, i, &io);
    cli_input_opts o;
    memset(&o, 0, sizeof o);
    o.have_shape = true;
    o.rank = io.rank;
    for (int d = 0; d < io.rank; d++) o.dims[d] = io.dims[d] >= 0 ? io.dims[d] : 1;
    if (batch > 0 && io.rank > 0) o.dims[0] = batch;
    if (cli_input_make(&io, &o, 0x5eedull * (uint64_t)i, &(*out)[i])) {
      cli_inputs_free(*out, i);
      *out = NULL;
      return CLI_FAIL;
    }
    *count = i + 1;
  }
  return CLI_OK;
}

void cli_inputs_free(cli_input *in, int count) {
  for (int i = 0; in && i < count; i++) cli_input_free(&in[i]);
  free(in);
}
