/* Compares two PNGs of the same size and bit depth for tests/gimp/test_gimp.sh:
 *
 *   png_diff A B TOL color|alpha|luma [X Y W H [outside]]
 *
 * color: A's colour samples against B's (both gray or both RGB); pixels that
 *        are fully transparent in A are left out (PNG writers may zero them).
 * alpha: A's alpha against B's (both must have one).
 * luma:  a gray A against the Rec. 601 luma (0.299 R + 0.587 G + 0.114 B,
 *        rounded) of an RGB B.
 * With a rectangle, only the pixels inside it (or, with "outside", those
 * outside it) are compared.
 * Prints the largest absolute difference in samples (of 255 or 65535) and
 * exits 0 when it is at most TOL, 1 when not, 2 on bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stb/stb_image.h>

typedef struct png {
  int w, h, c, deep;
  void *px;
} png;

static int load(const char *path, png *p) {
  p->deep = stbi_is_16_bit(path);
  p->px = p->deep ? (void *)stbi_load_16(path, &p->w, &p->h, &p->c, 0)
                  : (void *)stbi_load(path, &p->w, &p->h, &p->c, 0);
  if (!p->px) fprintf(stderr, "png_diff: cannot read %s: %s\n", path, stbi_failure_reason());
  return p->px != NULL;
}

static double sample(const png *p, size_t pixel, int k) {
  size_t i = pixel * (size_t)p->c + (size_t)k;
  return p->deep ? ((const unsigned short *)p->px)[i] : ((const unsigned char *)p->px)[i];
}

int main(int argc, char **argv) {
  if (argc != 5 && argc != 9 && argc != 10) {
    fprintf(stderr, "usage: png_diff A B TOL color|alpha|luma [X Y W H [outside]]\n");
    return 2;
  }
  int rect = argc >= 9, outside = argc == 10 && !strcmp(argv[9], "outside");
  int rx = rect ? atoi(argv[5]) : 0, ry = rect ? atoi(argv[6]) : 0;
  int rw = rect ? atoi(argv[7]) : 0, rh = rect ? atoi(argv[8]) : 0;
  png a, b;
  if (!load(argv[1], &a) || !load(argv[2], &b)) return 2;
  double tol = atof(argv[3]);
  const char *mode = argv[4];
  int ca = a.c <= 2 ? 1 : 3, cb = b.c <= 2 ? 1 : 3; /* colour samples */
  int alpha_a = a.c == 2 || a.c == 4, alpha_b = b.c == 2 || b.c == 4;
  if (a.w != b.w || a.h != b.h || a.deep != b.deep) {
    fprintf(stderr, "png_diff: %dx%d %d-bit against %dx%d %d-bit\n", a.w, a.h, a.deep ? 16 : 8,
            b.w, b.h, b.deep ? 16 : 8);
    return 2;
  }
  int luma = !strcmp(mode, "luma"), alpha = !strcmp(mode, "alpha");
  if ((!luma && !alpha && strcmp(mode, "color")) || (alpha && (!alpha_a || !alpha_b)) ||
      (luma && (ca != 1 || cb != 3)) || (!luma && !alpha && ca != cb)) {
    fprintf(stderr, "png_diff: mode %s does not fit %d and %d channels\n", mode, a.c, b.c);
    return 2;
  }
  double worst = 0;
  size_t n = (size_t)a.w * (size_t)a.h, counted = 0;
  for (size_t p = 0; p < n; p++) {
    if (rect) {
      int x = (int)(p % (size_t)a.w), y = (int)(p / (size_t)a.w);
      int in = x >= rx && x < rx + rw && y >= ry && y < ry + rh;
      if (in == outside) continue;
    }
    if (!alpha && alpha_a && sample(&a, p, a.c - 1) == 0) continue;
    counted++;
    if (alpha) {
      double d = sample(&a, p, a.c - 1) - sample(&b, p, b.c - 1);
      if (d < 0) d = -d;
      if (d > worst) worst = d;
    } else if (luma) {
      double y = 0.299 * sample(&b, p, 0) + 0.587 * sample(&b, p, 1) + 0.114 * sample(&b, p, 2);
      double d = sample(&a, p, 0) - (double)(long)(y + 0.5);
      if (d < 0) d = -d;
      if (d > worst) worst = d;
    } else {
      for (int k = 0; k < ca; k++) {
        double d = sample(&a, p, k) - sample(&b, p, k);
        if (d < 0) d = -d;
        if (d > worst) worst = d;
      }
    }
  }
  printf("%s: max |diff| %g of %d over %zu pixels (tolerance %g)\n", mode, worst,
         a.deep ? 65535 : 255, counted, tol);
  stbi_image_free(a.px);
  stbi_image_free(b.px);
  return counted > 0 && worst <= tol ? 0 : 1;
}
