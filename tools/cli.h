/* The clcnn command-line tool: what the subcommands share.
 *
 * Conventions: every subcommand returns the process exit status (0 ok,
 * 1 error, 2 usage error) and reports an error with exactly one line on
 * stderr through cli_error(). Results go to stdout. */
#ifndef CLCNN_CLI_H
#define CLCNN_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "api.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Subcommands (tools/cli_*.c). argv[0] is the subcommand's name. */
int cli_info(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_devices(int argc, char **argv);
int cli_demo(int argc, char **argv);
int cli_tune(int argc, char **argv);

/* ------------------------------------------------------------ messages */

/* "clcnn: <message>" on one line of stderr: newlines and other control
 * characters in the message (library messages can carry build logs) are
 * replaced by spaces. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints a note on stderr (same one-line cleaning), for progress and hints. */
void cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes `s` as a JSON string literal (quotes included): control characters
 * escaped, invalid UTF-8 replaced by U+FFFD. */
void cli_json_string(FILE *f, const char *s);
/* A finite number as JSON, or null. */
void cli_json_number(FILE *f, double v);

/* ------------------------------------------------------------- options */

/* Option scanning: if argv[*i] is `--name VALUE` or `--name=VALUE`, stores
 * VALUE, advances *i past it and returns 1; returns 0 if argv[*i] is another
 * argument; -1 (after cli_error) when the value is missing. */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **value);
/* `--precision fp32|fp16|auto` as cli_opt() scans it: 1 with *out set, 0
 * for another argument, -1 (after cli_error) for a missing or bad value. */
int cli_precision_opt(int argc, char **argv, int *i, clcnn_precision *out);
/* "fp32", "fp16", "auto". */
const char *cli_precision_name(clcnn_precision p);
/* An argument of subcommand `cmd` that is no known option: the model's
 * path, once. False (after cli_error) for an unknown option or a second
 * model. */
bool cli_model_arg(const char *cmd, const char *arg, const char **model);
/* Parses a whole-string integer in [lo, hi]; false (after cli_error naming
 * `what`) otherwise. */
bool cli_parse_int(const char *s, long long lo, long long hi, const char *what, long long *out);
/* "1x3x224x224" (at most CLCNN_MAX_RANK dims, each >= 0). */
bool cli_parse_dims(const char *s, int *rank, int64_t *dims, const char *what);
/* "NAME=VALUE" or "VALUE" (single-input models) to (input index, value) for
 * option `opt`. `last_eq`: split at the last '=' (shapes) or at the first
 * '=' whose prefix names an input (file names may hold '='). CLI_USAGE
 * (after cli_error listing the inputs) when no input matches. */
int cli_resolve_input(const clcnn_model *m, const char *opt, const char *arg, bool last_eq,
                      int *index, const char **value);
/* "0.485,0.456,0.406": 1 to `max` finite numbers. */
bool cli_parse_floats(const char *s, float *out, int max, int *count, const char *what);

/* --------------------------------------------------------------- misc */

double cli_now_ms(void);
double cli_median(const double *v, int n); /* n > 0 */
/* Peak resident set size of this process in bytes (VmHWM, else getrusage). */
size_t cli_peak_rss(void);
/* A file name made from a tensor name: characters outside [A-Za-z0-9._-]
 * become '_'; empty, "." and ".." become "_" etc. `out` holds `len` bytes. */
void cli_sanitize_name(const char *name, char *out, size_t len);
/* "1x3x224x224" or, for model descriptions, "[N,3,224,224]" with symbolic
 * dims by name ("?" where unnamed). */
void cli_dims_str(int rank, const int64_t *dims, char *buf, size_t len);
void cli_io_shape_str(const clcnn_io_info *io, char *buf, size_t len);
/* "12.3 MiB" (B, KiB, MiB, GiB) into buf; returns buf. */
char *cli_bytes_str(double bytes, char *buf, size_t len);

/* Devices that `--device all` iterates over. */
int cli_device_list(const char **names, int max);

/* Loads a model through the internal loader. `permissive` keeps unsupported
 * nodes (see model_load()). On error prints it and returns non-zero. */
int cli_load_model(clcnn_context *ctx, const char *path, bool permissive, clcnn_model **out);

/* ------------------------------------------------------------- inputs */

/* One model input fed by the tool; `t.data` is malloc'd. */
typedef struct cli_input {
  const char *name; /* the model's input name */
  clcnn_tensor t;
  bool random; /* pseudo-random data */
} cli_input;

/* How inputs are made (tools/cli_input.c). */
typedef struct cli_input_opts {
  const char *file; /* NULL: pseudo-random */
  bool have_shape;  /* --shape given for this input */
  int rank;
  int64_t dims[CLCNN_MAX_RANK];
  int size_w, size_h; /* --size (0: none) */
  float mean[4], std[4];
  int nmean, nstd;
} cli_input_opts;

/* Fills `in` for model input `io` as `o` says: a .pb TensorProto, a .npy
 * array or an image (by content), converted to the input's dtype; or
 * pseudo-random data of the --shape or the model's shape (open dims = 1).
 * `seed` makes the random data deterministic. Prints its error. */
int cli_input_make(const clcnn_io_info *io, const cli_input_opts *o, uint64_t seed, cli_input *in);
/* The same for the `size` bytes of a file's content (`file` names it in
 * messages): the readers behind cli_input_make(), on memory. */
int cli_input_from_memory(const clcnn_io_info *io, const cli_input_opts *o, const char *file,
                          const uint8_t *data, size_t size, cli_input *in);
void cli_input_free(cli_input *in);
/* Pseudo-random tensors for every input of `m` (seed 0x5eed * index), of the
 * model's shapes with open dims 1 and, with batch > 0, the first dim
 * `batch`: what bench and tune time. *out (count entries) is freed with
 * cli_inputs_free(). Prints its error. */
int cli_inputs_random(const clcnn_model *m, long long batch, cli_input **out, int *count);
void cli_inputs_free(cli_input *in, int count);

/* Strict .npy reader (v1/v2/v3; <f4 <f8 <f2 <i8 <i4 <i2 |i1 <u8 <u4 <u2 |u1 |b1; C
 * order). On error returns non-zero with `why` filled. */
int cli_npy_load(const char *path, clcnn_tensor *out, char *why, size_t why_len);
/* The same reader on the `size` bytes of a .npy file in memory. */
int cli_npy_parse(const void *data, size_t size, clcnn_tensor *out, char *why, size_t why_len);

/* Images (tools/cli_image.c: PNG, JPEG and BMP through a copy of stb_image
 * whose failed assertions become errors). */
#define CLI_IMAGE_MAX_PIXELS ((int64_t)1 << 28)
typedef struct cli_pixels {
  void *data; /* h rows of w pixels of c interleaved channels, uint8 or uint16 */
  int w, h, c;
  bool deep; /* uint16 samples (16-bit PNG) */
} cli_pixels;
/* True when `data` starts like a PNG, JPEG or BMP file. */
bool cli_is_image(const uint8_t *data, size_t size);
/* True when `data` is an image that the CLI would decode (PNG, JPEG or BMP
 * that passes the CLI's checks: no JPEG table stb overflows on, no PNG chunk
 * past the end of the file), with the width and height its header claims.
 * Decodes no pixels. */
bool cli_image_header(const uint8_t *data, size_t size, int *w, int *h);
/* Decodes `size` bytes into `out` with `channels` channels (0: the file's).
 * Refuses images of more than CLI_IMAGE_MAX_PIXELS pixels from their header.
 * On error returns CLI_FAIL with `why` filled and nothing to free. */
int cli_image_decode(const uint8_t *data, size_t size, int channels, cli_pixels *out, char *why,
                     size_t why_len);
void cli_pixels_free(cli_pixels *p);
/* Converts `t` in place to dtype `to` (numeric types only). */
int cli_tensor_convert(clcnn_tensor *t, clcnn_dtype to, char *why, size_t why_len);
/* Element i of a tensor as a double (0 for types it cannot read). */
double cli_tensor_get(const clcnn_tensor *t, int64_t i);

#endif
