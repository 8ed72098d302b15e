/* Image decoding for the CLI: PNG, JPEG and BMP through a copy of stb_image
 * built into this file, so that a hostile file gives an error instead of
 * ending the process.
 *
 * Why a copy of its own and not Debian's libstb: stb_image checks its state
 * with assert(), and some of those checks depend on the entropy-coded data
 * (a 217-byte JPEG found by fuzz_cli_inputs trips one in the Huffman
 * decoder), so no header check can refuse every file that would abort. Here
 * STBI_ASSERT jumps back to cli_image_decode(), which frees every block stb
 * allocated (STBI_MALLOC and friends keep them on a list) and reports the
 * file as corrupt. The checks that stop stb writing past its tables or
 * allocating gigabytes for a small file still come first: a jump cannot undo
 * a write out of bounds. */
#include <limits.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clcnn_config.h"

bool cli_is_image(const uint8_t *m, size_t n) {
  return (n >= 8 && memcmp(m, "\x89PNG\r\n\x1a\n", 8) == 0) ||
         (n >= 3 && m[0] == 0xff && m[1] == 0xd8 && m[2] == 0xff) ||
         (n >= 2 && m[0] == 'B' && m[1] == 'M');
}

#if CLCNN_HAVE_STB

/* ------------------------------------------------ stb's memory and asserts */

/* Every block stb holds during one decode, in a list, so that an escape
 * from an assertion can free them. Only this thread's decode uses it. */
typedef union block_head {
  struct {
    union block_head *prev, *next;
  } link;
  max_align_t align; /* keeps the block behind the head aligned as malloc's */
} block_head;

static _Thread_local block_head *live_blocks;
static _Thread_local long blocks_out; /* allocated and not freed, handed out or not */

#ifdef CLI_IMAGE_FAULTS
/* Test builds (tests/unit/test_image_decode.c): the Nth assertion check or
 * allocation from now fails, so that every escape and every out-of-memory
 * path inside stb can be walked. */
long cli_image_fail_assert_in, cli_image_fail_alloc_in;
static bool fault_now(long *left) { return *left > 0 && --*left == 0; }
long cli_image_blocks_out(void) { return blocks_out; }
#define FAULT(kind) fault_now(&cli_image_fail_##kind##_in)
#else
#define FAULT(kind) false
#endif

static _Thread_local jmp_buf *assert_escape;

static void block_link(block_head *b) {
  b->link.prev = NULL;
  b->link.next = live_blocks;
  if (live_blocks) live_blocks->link.prev = b;
  live_blocks = b;
}

static void block_unlink(block_head *b) {
  if (b->link.prev) b->link.prev->link.next = b->link.next;
  else if (live_blocks == b) live_blocks = b->link.next;
  if (b->link.next) b->link.next->link.prev = b->link.prev;
  b->link.prev = b->link.next = NULL;
}

/* Zeroed, so that whatever stb reads before writing is the same on every
 * run (it does read unwritten memory on some hostile files: see
 * jpeg_tables_unsound()). */
static void *stb_block_malloc(size_t size) {
  if (size > SIZE_MAX - sizeof(block_head) || FAULT(alloc)) return NULL;
  block_head *b = calloc(1, sizeof *b + size);
  if (!b) return NULL;
  block_link(b);
  blocks_out++;
  return b + 1;
}

static void stb_block_free(void *p) {
  if (!p) return;
  block_head *b = (block_head *)p - 1;
  block_unlink(b);
  free(b);
  blocks_out--;
}

static void *stb_block_realloc(void *p, size_t size) {
  if (!p) return stb_block_malloc(size);
  if (size > SIZE_MAX - sizeof(block_head) || FAULT(alloc)) return NULL;
  block_head *b = (block_head *)p - 1;
  block_unlink(b);
  block_head *nb = realloc(b, sizeof *b + size);
  if (!nb) {
    block_link(b); /* stb still owns the old block */
    return NULL;
  }
  block_link(nb);
  return nb + 1;
}

static void free_live_blocks(void) {
  while (live_blocks) {
    block_head *b = live_blocks;
    block_unlink(b);
    free(b);
    blocks_out--;
  }
}

/* An stb assertion failed: the file is inconsistent in a way stb did not
 * expect. Back to the decode that called stb (there always is one: stb is
 * only entered through stb_guarded() below). */
static _Noreturn void stb_assert_failed(void) { longjmp(*assert_escape, 1); }

#define STBI_ASSERT(x) ((x) && !FAULT(assert) ? (void)0 : stb_assert_failed())
#define STBI_MALLOC(sz) stb_block_malloc(sz)
#define STBI_REALLOC(p, newsz) stb_block_realloc(p, newsz)
#define STBI_FREE(p) stb_block_free(p)
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
/* stb declares every entry point static here, the unused ones too; GCC
 * reports those at the end of the file, so this one stays off for it all. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wtype-limits"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

/* ------------------------------------------------- checks before stb runs */

/* Two ways in which stb_image before 2.28 (Debian 12 has a 2022 snapshot)
 * reads or writes outside its Huffman tables, both found by fuzz_cli_inputs:
 * - a DHT segment that gives one table more than 256 codes makes it write
 *   past the table (ASan saw it);
 * - a scan that uses a table no DHT segment defined before it makes it
 *   decode with a table it never filled: it reads uninitialised memory and
 *   then past the table's end, and may fail its own assertion (the run
 *   depends on what the heap held, so it aborted once in CI and not again).
 * This walks the markers the way stb reads them (bytes past the end read as
 * 0, a stray 0xFF 0x00 in coded data is data) and names the first problem,
 * or returns NULL. It may look at more segments than stb does, never at
 * fewer; where stb would refuse a segment itself, it stops looking. */
static const char *jpeg_tables_unsound(const uint8_t *p, size_t n) {
#define AT(k) ((k) < n ? p[k] : 0)
  if (n < 2 || p[0] != 0xff || p[1] != 0xd8) return NULL; /* not a JPEG */
  bool defined[2][4] = {{false}}; /* [DC, AC][table id] */
  size_t i = 2;
  while (i < n) {
    if (p[i] != 0xff) { /* coded data, or bytes stb skips to the next marker */
      i++;
      continue;
    }
    while (i < n && p[i] == 0xff) i++; /* fill bytes */
    if (i >= n) break;
    uint8_t m = p[i++];
    if (m == 0x00 || m == 0x01 || (m >= 0xd0 && m <= 0xd8)) continue; /* no length */
    if (m == 0xd9) break;                                              /* EOI */
    size_t len = (size_t)AT(i) << 8 | AT(i + 1);
    if (len < 2) break; /* stb stops here */
    if (m == 0xc4) { /* DHT: one or more tables */
      long left = (long)len - 2;
      size_t at = i + 2;
      while (left > 0) {
        uint8_t q = AT(at);
        if ((q >> 4) > 1 || (q & 15) > 3) return NULL; /* stb refuses the segment */
        unsigned codes = 0;
        for (size_t k = 1; k <= 16; k++) codes += AT(at + k);
        if (codes > 256) return "a JPEG Huffman table has more than 256 codes";
        defined[q >> 4][q & 15] = true;
        at += 17 + codes;
        left -= 17 + (long)codes;
      }
      if (left != 0) return NULL; /* stb refuses the segment */
    } else if (m == 0xda) { /* SOS: components, each with its DC and AC table */
      unsigned ns = AT(i + 2);
      size_t sel = i + 3, spectral = sel + 2 * (size_t)ns;
      unsigned ss = AT(spectral), se = AT(spectral + 1);
      for (unsigned k = 0; k < ns; k++) {
        unsigned dc = AT(sel + 2 * k + 1) >> 4, ac = AT(sel + 2 * k + 1) & 15;
        if (dc > 3 || ac > 3) return NULL; /* stb refuses the scan */
        /* A scan from coefficient 0 decodes DC codes; one that reaches
         * past 0 decodes AC codes (baseline: both; progressive: one). */
        if ((ss == 0 && !defined[0][dc]) || (se > 0 && !defined[1][ac]))
          return "a JPEG scan uses a Huffman table that the file does not define";
      }
    }
    i += len;
  }
  return NULL;
#undef AT
}

/* stb_image grows its buffer for a PNG's IDAT chunk to the length the chunk
 * claims before reading it: a 93-byte file made it allocate 2 GiB (found by
 * fuzz_cli_inputs). True when every chunk up to IEND lies inside the file,
 * so that stb's buffer stays within twice the file's size. */
static bool png_chunks_fit(const uint8_t *p, size_t n) {
  if (n < 8 || memcmp(p, "\x89PNG\r\n\x1a\n", 8) != 0) return true; /* not a PNG */
  size_t at = 8;
  while (n - at >= 8) {
    uint32_t len = (uint32_t)p[at] << 24 | (uint32_t)p[at + 1] << 16 | (uint32_t)p[at + 2] << 8 |
                   p[at + 3];
    if (len > n - at - 8) return false;
    if (memcmp(p + at + 4, "IEND", 4) == 0) return true;
    at += 8 + (size_t)len;
    at = n - at >= 4 ? at + 4 : n; /* the CRC */
  }
  return true;
}

/* Why stb_image must not see `data` (NULL: it may). */
static const char *image_refused(const uint8_t *data, size_t size) {
  if (!cli_is_image(data, size)) return "not a PNG, JPEG or BMP file";
  if (size > INT_MAX) return "the file is larger than 2 GiB";
  const char *jpeg = jpeg_tables_unsound(data, size);
  if (jpeg) return jpeg;
  if (!png_chunks_fit(data, size)) return "a PNG chunk runs past the end of the file";
  return NULL;
}

/* ------------------------------------------------------------ the decoder */

/* One call into stb: what it is given and what it gives back. */
typedef struct stb_call {
  const uint8_t *data;
  int size, channels;   /* in */
  int w, h, c;          /* out */
  bool deep;            /* out (load); in: decode 16-bit samples */
  bool info_only, ok;   /* ok: stb succeeded */
  void *px;             /* out (load) */
} stb_call;

static void stb_run(stb_call *q) {
  if (q->info_only) {
    q->ok = stbi_info_from_memory(q->data, q->size, &q->w, &q->h, &q->c) != 0;
    return;
  }
  q->deep = stbi_is_16_bit_from_memory(q->data, q->size) != 0; /* 16-bit PNGs keep it */
  q->px = q->deep ? (void *)stbi_load_16_from_memory(q->data, q->size, &q->w, &q->h, &q->c,
                                                     q->channels)
                  : (void *)stbi_load_from_memory(q->data, q->size, &q->w, &q->h, &q->c,
                                                  q->channels);
  q->ok = q->px != NULL;
}

/* stb_run() with stb's assertions caught: false when one failed, with every
 * block stb held freed. Else q->px (when set) is the caller's to free with
 * block_free_unlinked(). Nothing here is modified between setjmp() and
 * the longjmp() back but *q, which lives outside this frame. */
static bool stb_guarded(stb_call *q) {
  jmp_buf env;
  assert_escape = &env;
  if (setjmp(env)) {
    assert_escape = NULL;
    free_live_blocks();
    return false;
  }
  stb_run(q);
  assert_escape = NULL;
  if (q->px) block_unlink((block_head *)q->px - 1);
  free_live_blocks(); /* none on success: stb frees its own */
  return true;
}

static void block_free_unlinked(void *p) {
  if (!p) return;
  free((block_head *)p - 1);
  blocks_out--;
}

static bool guarded_info(const uint8_t *data, size_t size, int *w, int *h) {
  stb_call q = {.data = data, .size = (int)size, .info_only = true};
  if (!stb_guarded(&q) || !q.ok) return false;
  *w = q.w;
  *h = q.h;
  return true;
}

bool cli_image_header(const uint8_t *data, size_t size, int *w, int *h) {
  return !image_refused(data, size) && guarded_info(data, size, w, h);
}

int cli_image_decode(const uint8_t *data, size_t size, int channels, cli_pixels *out, char *why,
                     size_t why_len) {
  memset(out, 0, sizeof *out);
  const char *refused = image_refused(data, size);
  if (refused) {
    snprintf(why, why_len, "%s", refused);
    return CLI_FAIL;
  }
  /* The size from the header first: a file of a few bytes can claim
   * millions of pixels, which stb_image would allocate and decode (from
   * nothing: it reads zeros past the end of a BMP). */
  int w, h;
  if (guarded_info(data, size, &w, &h) &&
      (w <= 0 || h <= 0 || (int64_t)w * h > CLI_IMAGE_MAX_PIXELS)) {
    snprintf(why, why_len, "the image is %dx%d: too large", w, h);
    return CLI_FAIL;
  }
  stb_call q = {.data = data, .size = (int)size, .channels = channels};
  if (!stb_guarded(&q)) {
    snprintf(why, why_len, "corrupt %s data (the decoder's consistency check failed)",
             data[0] == 0xff ? "JPEG" : data[0] == 'B' ? "BMP" : "PNG");
    return CLI_FAIL;
  }
  if (!q.ok) {
    const char *r = stbi_failure_reason();
    snprintf(why, why_len, "%s", r ? r : "unknown reason");
    return CLI_FAIL;
  }
  if (q.w <= 0 || q.h <= 0 || (int64_t)q.w * q.h > CLI_IMAGE_MAX_PIXELS) {
    block_free_unlinked(q.px);
    snprintf(why, why_len, "the image is %dx%d: too large", q.w, q.h);
    return CLI_FAIL;
  }
  *out = (cli_pixels){q.px, q.w, q.h, channels ? channels : q.c, q.deep};
  return CLI_OK;
}

void cli_pixels_free(cli_pixels *p) {
  if (!p || !p->data) return;
  block_free_unlinked(p->data);
  p->data = NULL;
}

#else /* no stb_image */

bool cli_image_header(const uint8_t *data, size_t size, int *w, int *h) {
  (void)data, (void)size, (void)w, (void)h;
  return false;
}

int cli_image_decode(const uint8_t *data, size_t size, int channels, cli_pixels *out, char *why,
                     size_t why_len) {
  (void)data, (void)size, (void)channels;
  memset(out, 0, sizeof *out);
  snprintf(why, why_len, "this clcnn was built without stb_image (install libstb-dev)");
  return CLI_FAIL;
}

void cli_pixels_free(cli_pixels *p) { (void)p; }

#endif
