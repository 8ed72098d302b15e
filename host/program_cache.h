/* OpenCL programs: build from source, or load a binary from the on-disk cache
 * (DESIGN.md decision 6).
 *
 * An entry is <dir>/<hex key>.bin where the key is SHA-256 over the kernel
 * source, the build options, the platform name and version, the device name,
 * the driver version and the clcnn version. The file holds a header (magic,
 * format version, the key, the binary's length and SHA-256) and then the
 * binary. Magic, key, length and checksum are verified before the binary
 * reaches the driver; an entry that fails any check, or that the driver
 * refuses, is rebuilt from source and replaced. Entries are written to a
 * temporary file in the same directory, fsync'd and renamed, so readers in
 * other processes see either nothing or a whole entry. The directory is
 * created private (0700); a directory that is not ours or that others may
 * write to is not used. Caching problems never fail a build: they are
 * reported in the build report's note. Nothing here prints. */
#ifndef CLCNN_HOST_PROGRAM_CACHE_H
#define CLCNN_HOST_PROGRAM_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"

#define OCL_CACHE_KEY_SIZE 32 /* SHA-256 */
#define OCL_CACHE_PATH_MAX 4096
#define OCL_CACHE_NOTE_MAX 1024
/* Version string hashed into the key: a new clcnn never reads old binaries. */
#define OCL_CACHE_CLCNN_VERSION "0.1.0"

typedef struct ocl_cache_config {
  const char *dir; /* NULL or "": $CLCNN_CACHE_DIR, else $XDG_CACHE_HOME/clcnn,
                      else $HOME/.cache/clcnn */
  bool disabled;   /* never read or write the cache */
  bool defer_write; /* a miss is not written by the build: the report says
                       write_pending, and ocl_program_cache_write() writes it
                       later (fetching a binary makes some drivers, PoCL among
                       them, generate code for the whole program) */
} ocl_cache_config;

/* What ocl_program_build_ex() did with the cache (for logging and tests). */
typedef struct ocl_build_report {
  bool cache_hit;                /* the program came from a cached binary */
  bool cache_written;            /* a new entry was written (after a miss or a rejection) */
  bool cache_rejected;           /* an entry existed but was damaged or refused by the driver */
  bool write_pending;            /* defer_write: the entry at `path` is still to write */
  uint8_t key[OCL_CACHE_KEY_SIZE]; /* the entry's key, when write_pending */
  char path[OCL_CACHE_PATH_MAX]; /* the entry's path; "" when the cache was not used */
  char note[OCL_CACHE_NOTE_MAX]; /* why the cache was skipped, an entry rejected or
                                    not written; "" when there is nothing to say */
} ocl_build_report;

/* Builds `source` with `options` for device `dev` of context `ctx` (which
 * `info` describes), through the cache unless cfg (may be NULL: defaults) says
 * otherwise. On success *out is a built program the caller releases with
 * clReleaseProgram(). `options` may be NULL. `report` may be NULL.
 * Thread-safe and safe across processes sharing a cache directory.
 * Errors: INVALID_ARGUMENT, OUT_OF_MEMORY, DEVICE (an OpenCL call failed),
 * KERNEL_BUILD (the source does not compile: the message holds the options
 * and the build log, truncated to fit). */
clcnn_status ocl_program_build_ex(cl_context ctx, cl_device_id dev, const ocl_device_info *info,
                                  const char *source, const char *options,
                                  const ocl_cache_config *cfg, cl_program *out,
                                  ocl_build_report *report, clcnn_err *err);

/* The same, reporting only whether the program came from the cache
 * (`cache_hit` may be NULL). */
clcnn_status ocl_program_build(cl_context ctx, cl_device_id dev, const ocl_device_info *info,
                               const char *source, const char *options, const ocl_cache_config *cfg,
                               cl_program *out, bool *cache_hit, clcnn_err *err);

/* Writes the cache entry of a program built from source (a pending write of
 * ocl_program_build_ex, or right after the build): fetches its binary for
 * `dev` and stores it at `path` under `key`, atomically. False (and a note
 * in `r`) when the driver gives no binary or the file cannot be written. */
bool ocl_program_cache_write(cl_program prog, cl_device_id dev, const char *path,
                             const uint8_t key[OCL_CACHE_KEY_SIZE], ocl_build_report *r);

/* The cache key of a program (what the entry's name and header hold). */
void ocl_cache_key(const ocl_device_info *info, const char *source, const char *options,
                   uint8_t key[OCL_CACHE_KEY_SIZE]);

/* SHA-256 of `len` bytes (cache keys, checksums, and the weights that
 * sessions share). */
void ocl_sha256(const void *data, size_t len, uint8_t out[OCL_CACHE_KEY_SIZE]);

/* Bytes of a cache entry before its binary. */
#define OCL_CACHE_ENTRY_HEADER 88u
/* Verifies the `size` bytes of a cache entry read from disk against `key`:
 * size, magic, format version, key, binary length and checksum. NULL when
 * the entry is good (its binary is the size - OCL_CACHE_ENTRY_HEADER bytes
 * from buf + OCL_CACHE_ENTRY_HEADER), else what is wrong. Calls no OpenCL
 * function (tests/fuzz/fuzz_cache_entry.c). */
const char *ocl_cache_entry_check(const uint8_t *buf, size_t size,
                                  const uint8_t key[OCL_CACHE_KEY_SIZE]);

/* Small data of clcnn's own kept beside the programs (a device's measured
 * peak): an entry like a program's, same header, checksum and atomic
 * write, whose payload is `len` bytes under `key` (make it with
 * ocl_cache_key() from a string of its own). Read: false on a miss, a
 * damaged entry or one larger than `cap`. Nothing is reported: the data can
 * always be made again. */
bool ocl_cache_data_read(const ocl_cache_config *cfg, const uint8_t key[OCL_CACHE_KEY_SIZE],
                         void *buf, size_t cap, size_t *len);
bool ocl_cache_data_write(const ocl_cache_config *cfg, const uint8_t key[OCL_CACHE_KEY_SIZE],
                          const void *data, size_t len);

/* The cache directory that `cfg` (may be NULL) selects, into buf. False (buf
 * "") when the cache is disabled, no directory can be found (no $HOME) or the
 * path does not fit. Does not create anything. */
bool ocl_cache_dir(const ocl_cache_config *cfg, char *buf, size_t len);

#endif /* CLCNN_HOST_PROGRAM_CACHE_H */
