/* OpenCL programs from source or from the on-disk binary cache. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "program_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <nettle/version.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* nettle 4 dropped the length argument of the digest functions. */
#if NETTLE_VERSION_MAJOR >= 4
#define SHA256_DIGEST(ctx, out) sha256_digest((ctx), (out))
#else
#define SHA256_DIGEST(ctx, out) sha256_digest((ctx), SHA256_DIGEST_SIZE, (out))
#endif

/* Entry layout (all integers little-endian):
 *    0  magic "CLCNNPRG"          8 bytes
 *    8  format version            u32
 *   12  header size (88)          u32
 *   16  key                       32 bytes
 *   48  binary length             u64
 *   56  SHA-256 of the binary     32 bytes
 *   88  the binary                                                      */
#define ENTRY_MAGIC "CLCNNPRG"
#define ENTRY_VERSION 1u
#define ENTRY_HEADER OCL_CACHE_ENTRY_HEADER
#define ENTRY_MAX_BINARY ((uint64_t)1 << 30) /* sanity bound: 1 GiB */

/* Room kept in an error message for callers that prefix it (node name...). */
#define MSG_BUDGET (CLCNN_ERR_MAX - 256)

/* ------------------------------------------------------------- helpers */

static void note_add(ocl_build_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note_add(ocl_build_report *r, const char *fmt, ...) {
  size_t at = strlen(r->note);
  if (at + 3 >= sizeof r->note) return;
  if (at) {
    memcpy(r->note + at, "; ", 3);
    at += 2;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->note + at, sizeof r->note - at, fmt, ap);
  va_end(ap);
}

static void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
static uint64_t get_u64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static void hex(const uint8_t *b, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[b[i] >> 4];
    out[2 * i + 1] = digits[b[i] & 15];
  }
  out[2 * n] = 0;
}

void ocl_sha256(const void *data, size_t len, uint8_t out[OCL_CACHE_KEY_SIZE]) {
  struct sha256_ctx c;
  sha256_init(&c);
  sha256_update(&c, len, data);
  SHA256_DIGEST(&c, out);
}

/* One key field: its length (u64 LE) then its bytes, so that no two field
 * lists hash the same input. */
static void key_field(struct sha256_ctx *c, const char *s) {
  if (!s) s = "";
  size_t n = strlen(s);
  uint8_t len[8];
  put_u64(len, n);
  sha256_update(c, sizeof len, len);
  sha256_update(c, n, (const uint8_t *)s);
}

void ocl_cache_key(const ocl_device_info *info, const char *source, const char *options,
                   uint8_t key[OCL_CACHE_KEY_SIZE]) {
  struct sha256_ctx c;
  sha256_init(&c);
  key_field(&c, "clcnn program cache key");
  key_field(&c, source);
  key_field(&c, options);
  key_field(&c, info ? info->platform_name : "");
  key_field(&c, info ? info->platform_version : "");
  key_field(&c, info ? info->name : "");
  key_field(&c, info ? info->driver_version : "");
  key_field(&c, OCL_CACHE_CLCNN_VERSION);
  SHA256_DIGEST(&c, key);
}

bool ocl_cache_dir(const ocl_cache_config *cfg, char *buf, size_t len) {
  if (!buf || len == 0) return false;
  buf[0] = 0;
  if (cfg && cfg->disabled) return false;
  int w = -1;
  const char *env;
  if (cfg && cfg->dir && cfg->dir[0]) {
    w = snprintf(buf, len, "%s", cfg->dir);
  } else if ((env = getenv("CLCNN_CACHE_DIR")) && env[0]) {
    w = snprintf(buf, len, "%s", env);
  } else if ((env = getenv("XDG_CACHE_HOME")) && env[0] == '/') {
    /* The XDG spec says relative values are to be ignored. */
    w = snprintf(buf, len, "%s/clcnn", env);
  } else if ((env = getenv("HOME")) && env[0]) {
    w = snprintf(buf, len, "%s/.cache/clcnn", env);
  }
  if (w <= 0 || (size_t)w >= len) {
    buf[0] = 0;
    return false;
  }
  /* No trailing slashes (but keep "/"). */
  while (w > 1 && buf[w - 1] == '/') buf[--w] = 0;
  return true;
}

/* Creates `dir` and its missing parents with mode 0700 and checks that it is
 * a directory of ours that nobody else can write to. */
static bool ensure_dir(const char *dir, ocl_build_report *r) {
  char *p = strdup(dir);
  if (!p) {
    note_add(r, "out of memory");
    return false;
  }
  int mk_errno = 0;
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    if (mkdir(p, 0700) != 0 && errno != EEXIST) mk_errno = errno;
    *s = '/';
  }
  if (mkdir(p, 0700) != 0 && errno != EEXIST) mk_errno = errno;
  free(p);

  struct stat st;
  if (stat(dir, &st) != 0) {
    note_add(r, "cannot create cache directory %s: %s", dir, strerror(mk_errno ? mk_errno : errno));
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    note_add(r, "cache path %s is not a directory", dir);
    return false;
  }
  if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
    note_add(r, "cache directory %s is not private (owner uid %u, mode %04o): not used", dir,
             (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
    return false;
  }
  return true;
}

static bool read_all(int fd, uint8_t *buf, size_t n) {
  size_t at = 0;
  while (at < n) {
    ssize_t k = read(fd, buf + at, n - at);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    at += (size_t)k;
  }
  return true;
}

static bool write_all(int fd, const uint8_t *buf, size_t n) {
  size_t at = 0;
  while (at < n) {
    ssize_t k = write(fd, buf + at, n - at);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      if (k == 0) errno = EIO;
      return false;
    }
    at += (size_t)k;
  }
  return true;
}

const char *ocl_cache_entry_check(const uint8_t *buf, size_t size,
                                  const uint8_t key[OCL_CACHE_KEY_SIZE]) {
  if (size < ENTRY_HEADER + 1 || size - ENTRY_HEADER > ENTRY_MAX_BINARY) return "bad size";
  if (memcmp(buf, ENTRY_MAGIC, 8) != 0) return "bad magic";
  if (get_u32(buf + 8) != ENTRY_VERSION || get_u32(buf + 12) != ENTRY_HEADER)
    return "unknown format version";
  if (memcmp(buf + 16, key, OCL_CACHE_KEY_SIZE) != 0) return "key mismatch";
  if (get_u64(buf + 48) != size - ENTRY_HEADER) return "length mismatch (truncated?)";
  uint8_t sum[SHA256_DIGEST_SIZE];
  ocl_sha256(buf + ENTRY_HEADER, size - ENTRY_HEADER, sum);
  if (memcmp(sum, buf + 56, sizeof sum) != 0) return "checksum mismatch";
  return NULL;
}

typedef enum load_result { LOAD_MISS, LOAD_OK, LOAD_BAD } load_result;

/* Reads and verifies an entry. On LOAD_OK, *file is the malloc'd file and the
 * binary is its bytes from ENTRY_HEADER on; on LOAD_BAD, `why` says what is wrong. */
static load_result load_entry(const char *path, const uint8_t key[OCL_CACHE_KEY_SIZE],
                              uint8_t **file, size_t *bin_len, char *why, size_t why_len) {
  *file = NULL;
  *bin_len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return LOAD_MISS;
    snprintf(why, why_len, "cannot open: %s", strerror(errno));
    return LOAD_BAD;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    snprintf(why, why_len, "not a regular file");
    return LOAD_BAD;
  }
  if ((uint64_t)st.st_size < ENTRY_HEADER + 1 ||
      (uint64_t)st.st_size > ENTRY_HEADER + ENTRY_MAX_BINARY) {
    close(fd);
    snprintf(why, why_len, "bad size (%lld bytes)", (long long)st.st_size);
    return LOAD_BAD;
  }
  size_t size = (size_t)st.st_size;
  uint8_t *buf = malloc(size);
  if (!buf) {
    close(fd);
    snprintf(why, why_len, "out of memory reading it");
    return LOAD_BAD;
  }
  bool ok = read_all(fd, buf, size);
  close(fd);
  const char *bad = ok ? ocl_cache_entry_check(buf, size, key) : "read failed";
  if (bad) {
    free(buf);
    snprintf(why, why_len, "%s", bad);
    return LOAD_BAD;
  }
  *file = buf;
  *bin_len = size - ENTRY_HEADER;
  return LOAD_OK;
}

/* Writes an entry atomically: a private temporary file in the same
 * directory, fsync, rename over `path`. */
static bool write_entry(const char *dir, const char *path, const uint8_t key[OCL_CACHE_KEY_SIZE],
                        const uint8_t *bin, size_t len, ocl_build_report *r) {
  char tmp[OCL_CACHE_PATH_MAX];
  char kh[2 * OCL_CACHE_KEY_SIZE + 1];
  hex(key, OCL_CACHE_KEY_SIZE, kh);
  /* A dot name that never ends in ".bin": never mistaken for an entry. */
  int w = snprintf(tmp, sizeof tmp, "%s/.%.16s.tmp.XXXXXX", dir, kh);
  if (w < 0 || (size_t)w >= sizeof tmp) {
    note_add(r, "cache path too long");
    return false;
  }
  int fd = mkstemp(tmp);
  if (fd < 0) {
    note_add(r, "cannot write to cache directory %s: %s", dir, strerror(errno));
    return false;
  }
  uint8_t hdr[ENTRY_HEADER];
  memcpy(hdr, ENTRY_MAGIC, 8);
  put_u32(hdr + 8, ENTRY_VERSION);
  put_u32(hdr + 12, ENTRY_HEADER);
  memcpy(hdr + 16, key, OCL_CACHE_KEY_SIZE);
  put_u64(hdr + 48, len);
  ocl_sha256(bin, len, hdr + 56);
  bool ok = write_all(fd, hdr, sizeof hdr) && write_all(fd, bin, len) && fsync(fd) == 0;
  int saved = errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (ok && rename(tmp, path) != 0) {
    ok = false;
    saved = errno;
  }
  if (!ok) {
    unlink(tmp);
    note_add(r, "cannot write cache entry %s: %s", path, strerror(saved));
  }
  return ok;
}

/* --------------------------------------------------------------- OpenCL */

/* A program from a verified binary, built; NULL (and `why`) if refused. */
static cl_program program_from_binary(cl_context ctx, cl_device_id dev, const uint8_t *bin,
                                      size_t len, const char *options, char *why, size_t why_len) {
  cl_int rc = CL_SUCCESS, bst = CL_SUCCESS;
  const unsigned char *p = bin;
  cl_program prog = clCreateProgramWithBinary(ctx, 1, &dev, &len, &p, &bst, &rc);
  if (rc != CL_SUCCESS || bst != CL_SUCCESS || !prog) {
    snprintf(why, why_len, "clCreateProgramWithBinary: %s",
             ocl_error_str(rc != CL_SUCCESS ? rc : bst));
    if (prog) clReleaseProgram(prog);
    return NULL;
  }
  rc = clBuildProgram(prog, 1, &dev, options, NULL, NULL);
  if (rc != CL_SUCCESS) {
    snprintf(why, why_len, "clBuildProgram on the binary: %s", ocl_error_str(rc));
    clReleaseProgram(prog);
    return NULL;
  }
  return prog;
}

/* The build log of `prog` for `dev`, malloc'd, or NULL. */
static char *build_log(cl_program prog, cl_device_id dev) {
  size_t n = 0;
  if (clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, 0, NULL, &n) != CL_SUCCESS || n == 0)
    return NULL;
  char *log = malloc(n + 1);
  if (!log) return NULL;
  if (clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, n, log, NULL) != CL_SUCCESS) {
    free(log);
    return NULL;
  }
  log[n] = 0;
  /* Trim trailing white space and NULs. */
  size_t k = strlen(log);
  while (k && (log[k - 1] == '\n' || log[k - 1] == ' ' || log[k - 1] == '\r' || log[k - 1] == '\t'))
    log[--k] = 0;
  return log;
}

static clcnn_status program_from_source(cl_context ctx, cl_device_id dev,
                                        const ocl_device_info *info, const char *source,
                                        const char *options, cl_program *out, clcnn_err *err) {
  cl_int rc = CL_SUCCESS;
  cl_program prog = clCreateProgramWithSource(ctx, 1, &source, NULL, &rc);
  if (rc != CL_SUCCESS || !prog) {
    if (prog) clReleaseProgram(prog);
    return err_set(err,
                   rc == CL_OUT_OF_HOST_MEMORY ? CLCNN_ERROR_OUT_OF_MEMORY : CLCNN_ERROR_DEVICE,
                   "clCreateProgramWithSource failed: %s (%d)", ocl_error_str(rc), (int)rc);
  }
  rc = clBuildProgram(prog, 1, &dev, options, NULL, NULL);
  if (rc == CL_SUCCESS) {
    *out = prog;
    return CLCNN_OK;
  }
  clcnn_status st = CLCNN_ERROR_KERNEL_BUILD;
  if (rc == CL_OUT_OF_HOST_MEMORY) st = CLCNN_ERROR_OUT_OF_MEMORY;
  if (rc == CL_OUT_OF_RESOURCES || rc == CL_INVALID_DEVICE || rc == CL_INVALID_OPERATION)
    st = CLCNN_ERROR_DEVICE;
  char *log = build_log(prog, dev);
  clReleaseProgram(prog);

  const char *opt = options ? options : "";
  size_t opt_len = strlen(opt);
  int opt_show = opt_len > 400 ? 400 : (int)opt_len;
  err_set(err, st, "OpenCL program build failed on \"%s\": %s (%d); options \"%.*s%s\"",
          info ? info->name : "?", ocl_error_str(rc), (int)rc, opt_show, opt,
          (size_t)opt_show < opt_len ? "..." : "");
  if (err && log && log[0]) {
    static const char head[] = "; build log:\n";
    size_t at = strlen(err->msg);
    size_t log_len = strlen(log);
    if (at + sizeof head + 128 < MSG_BUDGET) {
      memcpy(err->msg + at, head, sizeof head);
      at += sizeof head - 1;
      size_t room = MSG_BUDGET - at - 1;
      if (log_len <= room) {
        memcpy(err->msg + at, log, log_len + 1);
      } else {
        /* The first errors matter most: keep the head, cut at a line end
         * when one is near, and say how much is left out. */
        size_t keep = room - 64, cut = keep;
        while (cut > keep / 2 && log[cut] != '\n') cut--;
        if (cut <= keep / 2) cut = keep;
        memcpy(err->msg + at, log, cut);
        snprintf(err->msg + at + cut, CLCNN_ERR_MAX - at - cut,
                 "\n[... %zu more bytes of build log]", log_len - cut);
      }
    }
  } else {
    err_append(err, st, "no build log");
  }
  free(log);
  return st;
}

/* The program's binary for `dev`, malloc'd; NULL (and `why`) on failure. */
static uint8_t *program_binary(cl_program prog, cl_device_id dev, size_t *len, char *why,
                               size_t why_len) {
  *len = 0;
  cl_uint nd = 0;
  cl_int rc = clGetProgramInfo(prog, CL_PROGRAM_NUM_DEVICES, sizeof nd, &nd, NULL);
  if (rc != CL_SUCCESS || nd == 0 || nd > 4096) {
    snprintf(why, why_len, "CL_PROGRAM_NUM_DEVICES: %s", ocl_error_str(rc));
    return NULL;
  }
  cl_device_id *devs = calloc(nd, sizeof *devs);
  size_t *sizes = calloc(nd, sizeof *sizes);
  unsigned char **bins = calloc(nd, sizeof *bins);
  uint8_t *result = NULL;
  if (!devs || !sizes || !bins) {
    snprintf(why, why_len, "out of memory");
    goto done;
  }
  rc = clGetProgramInfo(prog, CL_PROGRAM_DEVICES, nd * sizeof *devs, devs, NULL);
  if (rc == CL_SUCCESS)
    rc = clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, nd * sizeof *sizes, sizes, NULL);
  if (rc != CL_SUCCESS) {
    snprintf(why, why_len, "CL_PROGRAM_BINARY_SIZES: %s", ocl_error_str(rc));
    goto done;
  }
  cl_uint k = 0;
  while (k < nd && devs[k] != dev) k++;
  if (k == nd || sizes[k] == 0 || sizes[k] > ENTRY_MAX_BINARY) {
    snprintf(why, why_len, "the driver gives no binary for this device");
    goto done;
  }
  /* Room for every device's binary: not every driver honours NULL entries. */
  for (cl_uint i = 0; i < nd; i++) {
    if (sizes[i] == 0) continue;
    bins[i] = malloc(sizes[i]);
    if (!bins[i]) {
      snprintf(why, why_len, "out of memory");
      goto done;
    }
  }
  rc = clGetProgramInfo(prog, CL_PROGRAM_BINARIES, nd * sizeof *bins, bins, NULL);
  if (rc != CL_SUCCESS) {
    snprintf(why, why_len, "CL_PROGRAM_BINARIES: %s", ocl_error_str(rc));
    goto done;
  }
  result = bins[k];
  bins[k] = NULL;
  *len = sizes[k];
done:
  if (bins)
    for (cl_uint i = 0; i < nd; i++) free(bins[i]);
  free(bins);
  free(sizes);
  free(devs);
  return result;
}

bool ocl_program_cache_write(cl_program prog, cl_device_id dev, const char *path,
                             const uint8_t key[OCL_CACHE_KEY_SIZE], ocl_build_report *r) {
  char dir[OCL_CACHE_PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash) {
    note_add(r, "cache path %s has no directory", path);
    return false;
  }
  if (slash == dir)
    slash[1] = 0; /* the root directory */
  else
    *slash = 0;
  char why[256] = "";
  size_t len = 0;
  uint8_t *bin = program_binary(prog, dev, &len, why, sizeof why);
  if (!bin) {
    note_add(r, "no program binary to cache: %s", why);
    return false;
  }
  bool ok = write_entry(dir, path, key, bin, len, r);
  free(bin);
  return ok;
}

/* ------------------------------------------------------------ the build */

clcnn_status ocl_program_build_ex(cl_context ctx, cl_device_id dev, const ocl_device_info *info,
                                  const char *source, const char *options,
                                  const ocl_cache_config *cfg, cl_program *out,
                                  ocl_build_report *report, clcnn_err *err) {
  ocl_build_report local;
  ocl_build_report *r = report ? report : &local;
  memset(r, 0, sizeof *r);
  if (out) *out = NULL;
  if (!ctx || !dev || !source || !out)
    return err_set(err, CLCNN_ERROR_INVALID_ARGUMENT, "ocl_program_build: NULL argument");

  char dir[OCL_CACHE_PATH_MAX];
  char path[OCL_CACHE_PATH_MAX];
  uint8_t key[OCL_CACHE_KEY_SIZE];
  bool use_cache = false;
  if (!(cfg && cfg->disabled)) {
    if (!info) {
      note_add(r, "no device description: cache not used");
    } else if (!ocl_cache_dir(cfg, dir, sizeof dir)) {
      note_add(r, "no cache directory (set CLCNN_CACHE_DIR or HOME, path too long?)");
    } else if (ensure_dir(dir, r)) {
      char kh[2 * OCL_CACHE_KEY_SIZE + 1];
      ocl_cache_key(info, source, options, key);
      hex(key, OCL_CACHE_KEY_SIZE, kh);
      int w = snprintf(path, sizeof path, "%s/%s.bin", dir, kh);
      if (w > 0 && (size_t)w < sizeof path) {
        use_cache = true;
        snprintf(r->path, sizeof r->path, "%s", path);
      } else {
        note_add(r, "cache path too long");
      }
    }
  }

  if (use_cache) {
    uint8_t *file = NULL;
    size_t len = 0;
    char why[256] = "";
    load_result lr = load_entry(path, key, &file, &len, why, sizeof why);
    if (lr == LOAD_OK) {
      cl_program prog =
          program_from_binary(ctx, dev, file + ENTRY_HEADER, len, options, why, sizeof why);
      free(file);
      if (prog) {
        r->cache_hit = true;
        *out = prog;
        return CLCNN_OK;
      }
      lr = LOAD_BAD;
    }
    if (lr == LOAD_BAD) {
      r->cache_rejected = true;
      note_add(r, "cache entry %s rejected (%s): rebuilt from source", path, why);
    }
  }

  cl_program prog = NULL;
  clcnn_status st = program_from_source(ctx, dev, info, source, options, &prog, err);
  if (st != CLCNN_OK) {
    /* A rejected entry for a source that does not build is of no use. */
    if (r->cache_rejected) unlink(path);
    return st;
  }

  if (use_cache && cfg && cfg->defer_write) {
    r->write_pending = true;
    memcpy(r->key, key, sizeof key);
  } else if (use_cache) {
    r->cache_written = ocl_program_cache_write(prog, dev, path, key, r);
  }
  *out = prog;
  return CLCNN_OK;
}

clcnn_status ocl_program_build(cl_context ctx, cl_device_id dev, const ocl_device_info *info,
                               const char *source, const char *options, const ocl_cache_config *cfg,
                               cl_program *out, bool *cache_hit, clcnn_err *err) {
  ocl_build_report *r = malloc(sizeof *r); /* large: keep it off the stack */
  if (!r) {
    if (out) *out = NULL;
    if (cache_hit) *cache_hit = false;
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  clcnn_status st = ocl_program_build_ex(ctx, dev, info, source, options, cfg, out, r, err);
  if (cache_hit) *cache_hit = st == CLCNN_OK && r->cache_hit;
  free(r);
  return st;
}

/* ------------------------------------------------------------ small data */

/* The entry path of `key` in the cache that cfg selects, creating the
 * directory; false when the cache is off or unusable. */
static bool data_path(const ocl_cache_config *cfg, const uint8_t key[OCL_CACHE_KEY_SIZE],
                      char *dir, char *path, ocl_build_report *r) {
  if (!ocl_cache_dir(cfg, dir, OCL_CACHE_PATH_MAX) || !ensure_dir(dir, r)) return false;
  char kh[2 * OCL_CACHE_KEY_SIZE + 1];
  hex(key, OCL_CACHE_KEY_SIZE, kh);
  int w = snprintf(path, OCL_CACHE_PATH_MAX, "%s/%s.bin", dir, kh);
  return w > 0 && w < OCL_CACHE_PATH_MAX;
}

bool ocl_cache_data_read(const ocl_cache_config *cfg, const uint8_t key[OCL_CACHE_KEY_SIZE],
                         void *buf, size_t cap, size_t *len) {
  char dir[OCL_CACHE_PATH_MAX], path[OCL_CACHE_PATH_MAX], why[256];
  ocl_build_report r;
  memset(&r, 0, sizeof r);
  *len = 0;
  if (!data_path(cfg, key, dir, path, &r)) return false;
  uint8_t *file = NULL;
  size_t n = 0;
  if (load_entry(path, key, &file, &n, why, sizeof why) != LOAD_OK) return false;
  bool ok = n <= cap;
  if (ok) {
    memcpy(buf, file + ENTRY_HEADER, n);
    *len = n;
  }
  free(file);
  return ok;
}

bool ocl_cache_data_write(const ocl_cache_config *cfg, const uint8_t key[OCL_CACHE_KEY_SIZE],
                          const void *data, size_t len) {
  char dir[OCL_CACHE_PATH_MAX], path[OCL_CACHE_PATH_MAX];
  ocl_build_report r;
  memset(&r, 0, sizeof r);
  return len > 0 && data_path(cfg, key, dir, path, &r) &&
         write_entry(dir, path, key, data, len, &r);
}
