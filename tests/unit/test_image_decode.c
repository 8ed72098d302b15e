/* The CLI's image decoder (tools/cli_image.c, built here with
 * CLI_IMAGE_FAULTS): PNG (8- and 16-bit, written here with stored deflate
 * blocks, so the expected pixels are known without another decoder), BMP
 * (24-bit, written here) and a baseline JPEG from the fuzz corpus decode to
 * the pixels they hold, in every channel count; hostile files found by the
 * fuzzer are refused with their reason; and when any of stb_image's
 * assertion checks or allocations fails, at every point of every decode,
 * the decode reports an error, holds no memory afterwards, and the next
 * decode is right. */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The fault hooks of a CLI_IMAGE_FAULTS build. */
extern long cli_image_fail_assert_in, cli_image_fail_alloc_in;
long cli_image_blocks_out(void);

static const char *src_root;

/* ----------------------------------------------------------- file makers */

typedef struct bytes {
  uint8_t *p;
  size_t n, cap;
} bytes;

static void put(bytes *b, const void *d, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2;
    b->p = realloc(b->p, b->cap);
    ck_assert_ptr_nonnull(b->p);
  }
  memcpy(b->p + b->n, d, n);
  b->n += n;
}
static void put8(bytes *b, unsigned v) {
  uint8_t c = (uint8_t)v;
  put(b, &c, 1);
}
static void put32be(bytes *b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) put8(b, v >> s);
}
static void put16le(bytes *b, unsigned v) {
  put8(b, v);
  put8(b, v >> 8);
}
static void put32le(bytes *b, uint32_t v) {
  put16le(b, v & 0xffff);
  put16le(b, v >> 16);
}

static uint32_t crc32_of(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xffffffffu;
}

static void png_chunk(bytes *b, const char *type, const uint8_t *d, size_t n) {
  bytes t = {0};
  put(&t, type, 4);
  if (n) put(&t, d, n);
  put32be(b, (uint32_t)n);
  put(b, t.p, t.n);
  put32be(b, crc32_of(t.p, t.n));
  free(t.p);
}

/* A PNG of w x h pixels of c channels (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA)
 * of `depth` 8 or 16 bits, big-endian samples from `px` (row-major), with
 * filter 0 and a zlib stream of stored blocks. */
static bytes make_png(int w, int h, int c, int depth, const uint16_t *px) {
  static const uint8_t color_type[5] = {0, 0, 4, 2, 6};
  bytes raw = {0}, z = {0}, f = {0};
  for (int y = 0; y < h; y++) {
    put8(&raw, 0);
    for (int i = 0; i < w * c; i++) {
      uint16_t v = px[(size_t)y * w * c + i];
      if (depth == 16) put8(&raw, v >> 8);
      put8(&raw, v & 0xff);
    }
  }
  put8(&z, 0x78);
  put8(&z, 0x01);
  for (size_t at = 0; at < raw.n || at == 0;) {
    size_t len = raw.n - at > 65535 ? 65535 : raw.n - at;
    put8(&z, at + len == raw.n ? 1 : 0);
    put16le(&z, (unsigned)len);
    put16le(&z, (unsigned)~len & 0xffff);
    put(&z, raw.p + at, len);
    at += len;
    if (!len) break;
  }
  uint32_t a = 1, s2 = 0;
  for (size_t i = 0; i < raw.n; i++) {
    a = (a + raw.p[i]) % 65521;
    s2 = (s2 + a) % 65521;
  }
  put32be(&z, s2 << 16 | a);
  put(&f, "\x89PNG\r\n\x1a\n", 8);
  uint8_t ihdr[13];
  bytes hb = {0};
  put32be(&hb, (uint32_t)w);
  put32be(&hb, (uint32_t)h);
  memcpy(ihdr, hb.p, 8);
  ihdr[8] = (uint8_t)depth;
  ihdr[9] = color_type[c];
  ihdr[10] = ihdr[11] = ihdr[12] = 0;
  png_chunk(&f, "IHDR", ihdr, 13);
  png_chunk(&f, "IDAT", z.p, z.n);
  png_chunk(&f, "IEND", NULL, 0);
  free(raw.p);
  free(z.p);
  free(hb.p);
  return f;
}

/* A bottom-up 24-bit BMP of w x h RGB pixels `px` (row-major, top row first). */
static bytes make_bmp(int w, int h, const uint8_t *px) {
  bytes f = {0};
  size_t row = ((size_t)w * 3 + 3) & ~(size_t)3;
  put(&f, "BM", 2);
  put32le(&f, (uint32_t)(54 + row * h));
  put32le(&f, 0);
  put32le(&f, 54);
  put32le(&f, 40);
  put32le(&f, (uint32_t)w);
  put32le(&f, (uint32_t)h);
  put16le(&f, 1);
  put16le(&f, 24);
  for (int i = 0; i < 6; i++) put32le(&f, 0);
  for (int y = h - 1; y >= 0; y--) {
    for (int x = 0; x < w; x++) {
      const uint8_t *p = px + ((size_t)y * w + x) * 3;
      put8(&f, p[2]);
      put8(&f, p[1]);
      put8(&f, p[0]);
    }
    for (size_t k = (size_t)w * 3; k < row; k++) put8(&f, 0);
  }
  return f;
}

/* A file of the fuzz corpus, without its first byte (the fuzzer's options). */
static bytes corpus_file(const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/fuzz/corpus/fuzz_cli_inputs/%s", src_root, name);
  FILE *fp = fopen(path, "rb");
  ck_assert_msg(fp != NULL, "cannot open %s", path);
  bytes b = {0};
  uint8_t buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, fp)) > 0) put(&b, buf, n);
  fclose(fp);
  ck_assert_uint_gt(b.n, 1);
  memmove(b.p, b.p + 1, --b.n);
  return b;
}

/* ------------------------------------------------------------ the fixtures */

static uint16_t png8[5 * 3 * 4], png16[4 * 2 * 3];
static uint8_t bmp_px[3 * 2 * 3];

static void fill_pixels(void) {
  uint32_t r = 12345;
  for (size_t i = 0; i < sizeof png8 / sizeof *png8; i++)
    png8[i] = (uint16_t)((r = r * 1103515245u + 12345u) >> 16 & 0xff);
  for (size_t i = 0; i < sizeof png16 / sizeof *png16; i++)
    png16[i] = (uint16_t)((r = r * 1103515245u + 12345u) >> 16);
  for (size_t i = 0; i < sizeof bmp_px; i++)
    bmp_px[i] = (uint8_t)((r = r * 1103515245u + 12345u) >> 16);
}

/* ---------------------------------------------------------------- decoding */

START_TEST(png_8bit_every_channel_count) {
  fill_pixels();
  for (int c = 1; c <= 4; c++) {
    bytes f = make_png(5, 3, c, 8, png8);
    for (int want = 0; want <= 4; want++) {
      cli_pixels p;
      char why[256];
      ck_assert_msg(cli_image_decode(f.p, f.n, want, &p, why, sizeof why) == CLI_OK,
                    "%d-channel PNG as %d: %s", c, want, why);
      int oc = want ? want : c;
      ck_assert_int_eq(p.w, 5);
      ck_assert_int_eq(p.h, 3);
      ck_assert_int_eq(p.c, oc);
      ck_assert(!p.deep);
      const uint8_t *d = p.data;
      if (oc == c)
        for (int i = 0; i < 5 * 3 * c; i++) ck_assert_uint_eq(d[i], png8[i]);
      if (c == 3 && oc == 4) /* an opaque alpha is added */
        for (int i = 0; i < 15; i++) {
          for (int k = 0; k < 3; k++) ck_assert_uint_eq(d[i * 4 + k], png8[i * 3 + k]);
          ck_assert_uint_eq(d[i * 4 + 3], 255);
        }
      cli_pixels_free(&p);
      ck_assert_int_eq(cli_image_blocks_out(), 0);
    }
    free(f.p);
  }
}
END_TEST

START_TEST(png_16bit_keeps_its_samples) {
  fill_pixels();
  bytes f = make_png(4, 2, 3, 16, png16);
  cli_pixels p;
  char why[256];
  ck_assert_msg(cli_image_decode(f.p, f.n, 0, &p, why, sizeof why) == CLI_OK, "%s", why);
  ck_assert(p.deep);
  ck_assert_int_eq(p.c, 3);
  for (int i = 0; i < 4 * 2 * 3; i++) ck_assert_uint_eq(((const uint16_t *)p.data)[i], png16[i]);
  cli_pixels_free(&p);
  free(f.p);
}
END_TEST

START_TEST(bmp_24bit) {
  fill_pixels();
  bytes f = make_bmp(3, 2, bmp_px);
  int w, h;
  ck_assert(cli_image_header(f.p, f.n, &w, &h));
  ck_assert_int_eq(w, 3);
  ck_assert_int_eq(h, 2);
  cli_pixels p;
  char why[256];
  ck_assert_msg(cli_image_decode(f.p, f.n, 3, &p, why, sizeof why) == CLI_OK, "%s", why);
  ck_assert_mem_eq(p.data, bmp_px, sizeof bmp_px);
  cli_pixels_free(&p);
  free(f.p);
}
END_TEST

START_TEST(jpeg_grey) {
  bytes f = corpus_file("grey.jpg"); /* 8x8, every sample 128 */
  cli_pixels p;
  char why[256];
  ck_assert_msg(cli_image_decode(f.p, f.n, 0, &p, why, sizeof why) == CLI_OK, "%s", why);
  ck_assert_int_eq(p.w, 8);
  ck_assert_int_eq(p.h, 8);
  ck_assert_int_eq(p.c, 1);
  for (int i = 0; i < 64; i++) ck_assert_uint_eq(((const uint8_t *)p.data)[i], 128);
  cli_pixels_free(&p);
  free(f.p);
}
END_TEST

/* ---------------------------------------------------------------- refusals */

static void expect_refused(const uint8_t *d, size_t n, const char *reason) {
  cli_pixels p;
  char why[256] = "";
  ck_assert_int_eq(cli_image_decode(d, n, 3, &p, why, sizeof why), CLI_FAIL);
  ck_assert_ptr_null(p.data);
  ck_assert_msg(strstr(why, reason) != NULL, "expected '%s', got '%s'", reason, why);
  ck_assert_int_eq(cli_image_blocks_out(), 0);
}

START_TEST(hostile_files_refused) {
  /* A scan that uses Huffman tables no DHT defined: stb decoded it with a
   * table it never filled, reading what the heap held, and once failed its
   * own assertion (the fuzzer's CI run). */
  bytes f = corpus_file("regress_jpeg_scan_uses_undefined_huffman_table.jpg");
  expect_refused(f.p, f.n, "Huffman table that the file does not define");
  free(f.p);
  f = corpus_file("regress_jpeg_huffman_over_256_codes.jpg");
  expect_refused(f.p, f.n, "more than 256 codes");
  free(f.p);
  f = corpus_file("regress_png_idat_claims_2gib.png");
  expect_refused(f.p, f.n, "PNG chunk runs past the end");
  free(f.p);
  /* A BMP header that claims 20000 x 20000 pixels and has none. */
  fill_pixels();
  f = make_bmp(3, 2, bmp_px);
  f.p[18] = f.p[22] = 0x20, f.p[19] = f.p[23] = 0x4e; /* 20000 = 0x4e20 */
  expect_refused(f.p, f.n, "20000x20000: too large");
  free(f.p);
  /* Truncated at every length: refused (or, a BMP, decoded from what is
   * there), never a crash. */
  bytes png = make_png(5, 3, 3, 8, png8);
  for (size_t n = 0; n < png.n; n++) {
    cli_pixels p;
    char why[256];
    if (cli_image_decode(png.p, n, 0, &p, why, sizeof why) == CLI_OK) cli_pixels_free(&p);
    ck_assert_int_eq(cli_image_blocks_out(), 0);
  }
  free(png.p);
  static const uint8_t text[] = "not an image";
  expect_refused(text, sizeof text, "not a PNG, JPEG or BMP");
}
END_TEST

/* ------------------------------------------------------------------ faults */

/* Makes the Nth assertion check (or allocation) of a decode fail, for every
 * N until a decode runs through without reaching N: each failed decode must
 * say why and hold nothing, and a normal decode afterwards must give the
 * same pixels as before. Returns how many points were walked. */
static int walk_faults(const bytes *f, int want, bool allocations) {
  cli_pixels good;
  char why[256];
  ck_assert_msg(cli_image_decode(f->p, f->n, want, &good, why, sizeof why) == CLI_OK, "%s", why);
  ck_assert_int_eq(cli_image_blocks_out(), 1); /* good's pixels */
  size_t bytes_px = (size_t)good.w * good.h * good.c * (good.deep ? 2 : 1);
  int n = 1;
  for (;; n++) {
    long *hook = allocations ? &cli_image_fail_alloc_in : &cli_image_fail_assert_in;
    *hook = n;
    cli_pixels p;
    int rc = cli_image_decode(f->p, f->n, want, &p, why, sizeof why);
    bool fired = *hook == 0;
    *hook = 0;
    if (!fired) {
      ck_assert_int_eq(rc, CLI_OK);
      cli_pixels_free(&p);
      break;
    }
    /* Only good's pixels may be held now. */
    if (rc == CLI_OK) { /* stb got over a failed allocation (it may: realloc) */
      ck_assert_mem_eq(p.data, good.data, bytes_px);
      cli_pixels_free(&p);
    } else {
      ck_assert_ptr_null(p.data);
      ck_assert(why[0] != 0);
      if (!allocations)
        ck_assert_msg(strstr(why, "consistency check failed") != NULL, "assert %d: %s", n, why);
    }
    ck_assert_msg(cli_image_blocks_out() == 1, "%s %d: %ld blocks held after: %s",
                  allocations ? "allocation" : "assertion check", n, cli_image_blocks_out(),
                  rc == CLI_OK ? "decoded" : why);
    cli_pixels again;
    ck_assert(cli_image_decode(f->p, f->n, want, &again, why, sizeof why) == CLI_OK);
    ck_assert_mem_eq(again.data, good.data, bytes_px);
    cli_pixels_free(&again);
  }
  cli_pixels_free(&good);
  ck_assert_int_eq(cli_image_blocks_out(), 0);
  return n - 1;
}

START_TEST(every_assertion_and_allocation_fails_cleanly) {
  fill_pixels();
  bytes files[4] = {make_png(5, 3, 3, 8, png8), make_png(4, 2, 3, 16, png16),
                    make_bmp(3, 2, bmp_px), corpus_file("grey.jpg")};
  const char *names[4] = {"PNG", "16-bit PNG", "BMP", "JPEG"};
  for (int i = 0; i < 4; i++) {
    for (int want = 0; want <= 4; want += 4) {
      int asserts = walk_faults(&files[i], want, false);
      int allocs = walk_faults(&files[i], want, true);
      /* Every decode checks something and allocates something. */
      ck_assert_msg(asserts > 0 && allocs > 0, "%s as %d channels: %d assertion checks, %d allocations",
                    names[i], want, asserts, allocs);
    }
    free(files[i].p);
  }
}
END_TEST

int main(int argc, char **argv) {
  src_root = argc > 1 ? argv[1] : ".";
  Suite *s = suite_create("image_decode");
  TCase *tc = tcase_create("decode");
  tcase_add_test(tc, png_8bit_every_channel_count);
  tcase_add_test(tc, png_16bit_keeps_its_samples);
  tcase_add_test(tc, bmp_24bit);
  tcase_add_test(tc, jpeg_grey);
  tcase_add_test(tc, hostile_files_refused);
  tcase_add_test(tc, every_assertion_and_allocation_fails_cleanly);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
