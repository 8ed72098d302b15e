/* A command-line image filter: runs an ONNX image-to-image model (denoiser,
 * x2/x4 upscaler, ...) over a PNG/JPEG/BMP picture of any size in tiles, with
 * progress on stderr, and writes a PNG. Ctrl-C cancels between tiles. Uses
 * only the public API (clcnn.h), and stb for image files.
 *
 *     denoise MODEL IN OUT.png [--device X] [--tile N] [--overlap N]
 *             [--mean A,B,C --std A,B,C]
 *
 * Memory: the input and output pictures in 8 or 16 bits, one tile, and one
 * row of tiles of the output in float32, however large the picture. */
#include <clcnn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

static volatile int cancel_flag; /* set by SIGINT, read by the tiler between tiles */

static void on_sigint(int sig) {
  (void)sig;
  __atomic_store_n(&cancel_flag, 1, __ATOMIC_RELEASE);
}

/* Progress on one line of stderr: "tile 12/48". */
static int progress(void *user, int done, int total) {
  fprintf(stderr, "\r%s: tile %d/%d", (const char *)user, done, total);
  if (done == total) fputc('\n', stderr);
  return 0; /* non-zero would cancel */
}

static int parse_floats(const char *s, float *v) {
  int n = 0;
  char *end;
  while (n < 4) {
    v[n++] = strtof(s, &end);
    if (end == s) return 0;
    if (*end != ',') break;
    s = end + 1;
  }
  for (int k = n; k < 4; k++) v[k] = v[n - 1]; /* one value: every channel */
  return *end == 0;
}

static int usage(void) {
  fprintf(stderr, "usage: denoise MODEL IN OUT.png [--device X] [--tile N] [--overlap N] "
                  "[--mean A,B,C] [--std A,B,C]\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 4) return usage();
  const char *model_path = argv[1], *in_path = argv[2], *out_path = argv[3];
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  clcnn_tile_options to;
  clcnn_tile_options_default(&to);
  clcnn_image_options io;
  clcnn_image_options_default(&io);
  for (int i = 4; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) return usage();
    if (!strcmp(argv[i], "--device")) so.device = v;
    else if (!strcmp(argv[i], "--tile")) to.tile_width = to.tile_height = atoi(v);
    else if (!strcmp(argv[i], "--overlap")) to.overlap = atoi(v);
    else if (!strcmp(argv[i], "--mean")) {
      if (!parse_floats(v, io.mean)) return usage();
    } else if (!strcmp(argv[i], "--std")) {
      if (!parse_floats(v, io.std)) return usage();
    } else {
      return usage();
    }
    i++;
  }

  int w, h, c, rc = 1;
  int deep = stbi_is_16_bit(in_path);
  void *pixels = deep ? (void *)stbi_load_16(in_path, &w, &h, &c, 0)
                      : (void *)stbi_load(in_path, &w, &h, &c, 0);
  if (!pixels) {
    fprintf(stderr, "denoise: cannot read %s: %s\n", in_path, stbi_failure_reason());
    return 1;
  }
  clcnn_image in = {pixels, w, h, c, deep ? CLCNN_PIXEL_UINT16 : CLCNN_PIXEL_UINT8, 0};
  clcnn_context *ctx = NULL;
  clcnn_model *model = NULL;
  clcnn_tiler *tiler = NULL;
  unsigned char *out_px = NULL;
  clcnn_tensor shape;
  clcnn_status st;

  to.progress = progress;
  to.progress_user = (void *)"denoise";
  to.cancel = &cancel_flag;
  signal(SIGINT, on_sigint);
  if ((st = clcnn_context_create(NULL, &ctx)) ||
      (st = clcnn_model_load_file(ctx, model_path, &model)) ||
      (st = clcnn_tiler_create(model, &so, &to, &tiler)) ||
      /* The output's size (x2 for an upscaler) and channels, from the model. */
      (st = clcnn_tiler_output_shape(tiler, 0, h, w, &shape)))
    goto fail;
  int oc = (int)shape.dims[1], ow = (int)shape.dims[3], oh = (int)shape.dims[2];
  if (oc > 4) {
    fprintf(stderr, "denoise: the model gives %d channels, not an image\n", oc);
    goto out;
  }
  /* The output keeps the input's alpha only where the model makes one. */
  clcnn_image out = {NULL, ow, oh, oc, CLCNN_PIXEL_UINT8, 0};
  if (!(out.data = out_px = malloc((size_t)ow * oh * oc))) {
    fprintf(stderr, "denoise: out of memory for a %dx%d picture\n", ow, oh);
    goto out;
  }
  fprintf(stderr, "denoise: %dx%d -> %dx%d on %s\n", w, h, ow, oh,
          so.device ? so.device : "the best device");
  if ((st = clcnn_tiler_run_image(tiler, &in, &io, &out))) goto fail;
  if (!stbi_write_png(out_path, ow, oh, oc, out_px, ow * oc)) {
    fprintf(stderr, "denoise: cannot write %s\n", out_path);
    goto out;
  }
  fprintf(stderr, "denoise: wrote %s\n", out_path);
  rc = 0;
  goto out;
fail:
  fprintf(stderr, "\ndenoise: %s: %s\n", clcnn_status_str(st), clcnn_last_error());
  if (st == CLCNN_ERROR_CANCELLED) rc = 130;
out:
  clcnn_tiler_free(tiler); /* each free accepts NULL */
  clcnn_model_free(model);
  clcnn_context_free(ctx);
  stbi_image_free(pixels);
  free(out_px);
  return rc;
}
