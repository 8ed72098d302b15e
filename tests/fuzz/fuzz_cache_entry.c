/* libFuzzer target: bytes as a program-cache entry read from disk, through
 * the reader's checks (host/program_cache.c, ocl_cache_entry_check()): size,
 * magic, version, key, length, checksum. No OpenCL call is made. The reader
 * must never read out of bounds, and must accept exactly the entries whose
 * every field is right: this file checks each acceptance on its own. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "program_cache.h"

static uint64_t le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

/* An accepted entry, checked field by field without the reader's code. */
static void check_accepted(const uint8_t *e, size_t size, const uint8_t key[OCL_CACHE_KEY_SIZE]) {
  const size_t hdr = OCL_CACHE_ENTRY_HEADER;
  uint8_t sum[OCL_CACHE_KEY_SIZE];
  if (size <= hdr || memcmp(e, "CLCNNPRG", 8) != 0 || e[8] != 1 || e[9] || e[10] || e[11] ||
      e[12] != hdr || e[13] || e[14] || e[15] || memcmp(e + 16, key, OCL_CACHE_KEY_SIZE) != 0 ||
      le64(e + 48) != size - hdr)
    abort();
  ocl_sha256(e + hdr, size - hdr, sum);
  if (memcmp(sum, e + 56, sizeof sum) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* The reader gets its own heap copy, so that ASan sees any read past the
   * end of the file's bytes. */
  uint8_t *e = malloc(size ? size : 1);
  if (!e) return 0;
  if (size) memcpy(e, data, size);
  /* The key of the cache slot the entry was found in: a fixed one, and the
   * one the entry itself claims (so that the length and checksum checks are
   * reached). */
  uint8_t keys[2][OCL_CACHE_KEY_SIZE];
  ocl_sha256("clcnn fuzz", 10, keys[0]);
  memset(keys[1], 0, sizeof keys[1]);
  if (size >= 16 + OCL_CACHE_KEY_SIZE) memcpy(keys[1], data + 16, OCL_CACHE_KEY_SIZE);
  for (int k = 0; k < 2; k++) {
    const char *bad = ocl_cache_entry_check(e, size, keys[k]);
    if (!bad) check_accepted(e, size, keys[k]);
    else if (!bad[0]) abort(); /* a rejection says why */
  }
  free(e);
  return 0;
}
