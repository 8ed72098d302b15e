/* The OpenCL program binary cache (host/program_cache.c).
 *
 * Key and directory rules run everywhere; the build tests need an OpenCL
 * device, and the test exits 77 (skip) after the others when there is none.
 * Every test works in its own temporary directory. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <nettle/version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "program_cache.h"

#define HEADER 88 /* entry header size (see program_cache.c) */

static const char *kSource =
    "__kernel void axpb(__global const float *x, __global float *y) {\n"
    "  size_t i = get_global_id(0);\n"
    "  y[i] = x[i] * SCALE + OFFSET;\n"
    "}\n";
static const char *kOptions3 = "-DSCALE=3.0f -DOFFSET=1.0f";
static const char *kOptions2 = "-DSCALE=2.0f -DOFFSET=1.0f";

/* ------------------------------------------------------------- helpers */

static char tmp_root[64];

static void tmp_setup(void) {
  snprintf(tmp_root, sizeof tmp_root, "/tmp/clcnn-cache-test-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmp_root));
}

static void rm_rf(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    chmod(path, 0700);
    DIR *d = opendir(path);
    if (d) {
      struct dirent *e;
      while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        rm_rf(sub);
      }
      closedir(d);
    }
    rmdir(path);
  } else {
    unlink(path);
  }
}

static void tmp_teardown(void) {
  if (tmp_root[0]) rm_rf(tmp_root);
  tmp_root[0] = 0;
}

static void tmp_path(char *buf, size_t len, const char *name) {
  snprintf(buf, len, "%s/%s", tmp_root, name);
}

/* Files in dir: total, and those ending in ".bin". */
static int count_files(const char *dir, int *bins) {
  int n = 0;
  *bins = 0;
  DIR *d = opendir(dir);
  if (!d) return -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    n++;
    size_t l = strlen(e->d_name);
    if (l > 4 && !strcmp(e->d_name + l - 4, ".bin")) (*bins)++;
  }
  closedir(d);
  return n;
}

static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
  ck_assert_ptr_nonnull(buf);
  ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static void spit(const char *path, const unsigned char *buf, size_t len) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
  ck_assert_int_eq(fclose(f), 0);
}

/* One OpenCL device with a context and a queue. */
typedef struct env {
  const ocl_device_info *info;
  cl_context ctx;
  cl_command_queue q;
} env;

static bool env_open(env *e) {
  memset(e, 0, sizeof *e);
  const ocl_device_info *devs;
  int count = 0, index = -1;
  if (ocl_devices_list(&devs, &count, NULL) != CLCNN_OK || count == 0) return false;
  if (ocl_device_select_from(devs, count, "best", &index, NULL) != CLCNN_OK || index < 0)
    return false;
  e->info = &devs[index];
  cl_int rc;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)e->info->platform,
                                   0};
  e->ctx = clCreateContext(props, 1, &e->info->device, NULL, NULL, &rc);
  if (rc != CL_SUCCESS) return false;
  e->q = clCreateCommandQueue(e->ctx, e->info->device, 0, &rc);
  return rc == CL_SUCCESS;
}

static void env_close(env *e) {
  if (e->q) clReleaseCommandQueue(e->q);
  if (e->ctx) clReleaseContext(e->ctx);
  memset(e, 0, sizeof *e);
}

/* Runs axpb from `prog` on 64 floats; true when y == x * scale + 1. */
static bool run_axpb(env *e, cl_program prog, float scale) {
  enum { N = 64 };
  float x[N], y[N];
  for (int i = 0; i < N; i++) {
    x[i] = (float)i - 7.5f;
    y[i] = -1234.0f;
  }
  cl_int rc;
  bool ok = false;
  cl_kernel k = clCreateKernel(prog, "axpb", &rc);
  if (rc != CL_SUCCESS) return false;
  cl_mem bx = clCreateBuffer(e->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof x, x, &rc);
  cl_mem by = clCreateBuffer(e->ctx, CL_MEM_WRITE_ONLY, sizeof y, NULL, &rc);
  if (bx && by) {
    size_t global = N;
    rc = clSetKernelArg(k, 0, sizeof bx, &bx);
    rc |= clSetKernelArg(k, 1, sizeof by, &by);
    if (rc == CL_SUCCESS)
      rc = clEnqueueNDRangeKernel(e->q, k, 1, NULL, &global, NULL, 0, NULL, NULL);
    if (rc == CL_SUCCESS)
      rc = clEnqueueReadBuffer(e->q, by, CL_TRUE, 0, sizeof y, y, 0, NULL, NULL);
    if (rc == CL_SUCCESS) {
      ok = true;
      for (int i = 0; i < N; i++) ok = ok && y[i] == x[i] * scale + 1.0f;
    }
  }
  if (bx) clReleaseMemObject(bx);
  if (by) clReleaseMemObject(by);
  clReleaseKernel(k);
  return ok;
}

/* Builds kSource with `options` through the cache in `dir`, checks that the
 * program runs right, and returns the report. */
static ocl_build_report build_check(env *e, const ocl_cache_config *cfg, const char *options,
                                    float scale) {
  ocl_build_report r;
  clcnn_err err = {0};
  cl_program prog = (cl_program)1;
  clcnn_status st = ocl_program_build_ex(e->ctx, e->info->device, e->info, kSource, options, cfg,
                                         &prog, &r, &err);
  ck_assert_msg(st == CLCNN_OK, "build failed: %s", err.msg);
  ck_assert_ptr_nonnull(prog);
  ck_assert_msg(run_axpb(e, prog, scale), "program gives wrong results (hit %d)", r.cache_hit);
  clReleaseProgram(prog);
  return r;
}

static mode_t mode_of(const char *path) {
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  return st.st_mode & 07777;
}

/* ------------------------------------------------- tests without OpenCL */

START_TEST(test_key) {
  ocl_device_info a;
  memset(&a, 0, sizeof a);
  snprintf(a.platform_name, sizeof a.platform_name, "Portable Computing Language");
  snprintf(a.platform_version, sizeof a.platform_version, "OpenCL 3.0 PoCL 3.1");
  snprintf(a.name, sizeof a.name, "pthread-cpu");
  snprintf(a.driver_version, sizeof a.driver_version, "3.1");
  uint8_t k0[32], k1[32];
  ocl_cache_key(&a, "src", "-DA=1", k0);
  ocl_cache_key(&a, "src", "-DA=1", k1);
  ck_assert_mem_eq(k0, k1, 32);

  ocl_cache_key(&a, "src2", "-DA=1", k1);
  ck_assert(memcmp(k0, k1, 32) != 0);
  ocl_cache_key(&a, "src", "-DA=2", k1);
  ck_assert(memcmp(k0, k1, 32) != 0);
  /* field boundaries matter: ("srcx", "") is not ("src", "x") */
  ocl_cache_key(&a, "src-DA=1", "", k1);
  ck_assert(memcmp(k0, k1, 32) != 0);

  ocl_device_info b = a;
  snprintf(b.platform_name, sizeof b.platform_name, "Other");
  ocl_cache_key(&b, "src", "-DA=1", k1);
  ck_assert(memcmp(k0, k1, 32) != 0);
  b = a;
  snprintf(b.platform_version, sizeof b.platform_version, "OpenCL 3.0 PoCL 3.2");
  ocl_cache_key(&b, "src", "-DA=1", k1);
  ck_assert(memcmp(k0, k1, 32) != 0);
  b = a;
  snprintf(b.name, sizeof b.name, "pthread-cpu2");
  ocl_cache_key(&b, "src", "-DA=1", k1);
  ck_assert(memcmp(k0, k1, 32) != 0);
  b = a;
  snprintf(b.driver_version, sizeof b.driver_version, "3.2");
  ocl_cache_key(&b, "src", "-DA=1", k1);
  ck_assert(memcmp(k0, k1, 32) != 0);
  /* fields outside the key do not change it */
  b = a;
  b.compute_units = 99;
  ocl_cache_key(&b, "src", "-DA=1", k1);
  ck_assert_mem_eq(k0, k1, 32);
}
END_TEST

START_TEST(test_dir_resolution) {
  char buf[4096];
  ocl_cache_config cfg = {0};
  unsetenv("CLCNN_CACHE_DIR");
  unsetenv("XDG_CACHE_HOME");
  setenv("HOME", "/home/someone", 1);
  ck_assert(ocl_cache_dir(NULL, buf, sizeof buf));
  ck_assert_str_eq(buf, "/home/someone/.cache/clcnn");
  setenv("XDG_CACHE_HOME", "relative/ignored", 1);
  ck_assert(ocl_cache_dir(&cfg, buf, sizeof buf));
  ck_assert_str_eq(buf, "/home/someone/.cache/clcnn");
  setenv("XDG_CACHE_HOME", "/xdg/cache", 1);
  ck_assert(ocl_cache_dir(&cfg, buf, sizeof buf));
  ck_assert_str_eq(buf, "/xdg/cache/clcnn");
  setenv("CLCNN_CACHE_DIR", "/var/tmp/mine/", 1);
  ck_assert(ocl_cache_dir(&cfg, buf, sizeof buf));
  ck_assert_str_eq(buf, "/var/tmp/mine");
  cfg.dir = "/explicit//";
  ck_assert(ocl_cache_dir(&cfg, buf, sizeof buf));
  ck_assert_str_eq(buf, "/explicit");
  cfg.dir = "";
  ck_assert(ocl_cache_dir(&cfg, buf, sizeof buf));
  ck_assert_str_eq(buf, "/var/tmp/mine");
  cfg.disabled = true;
  ck_assert(!ocl_cache_dir(&cfg, buf, sizeof buf));
  ck_assert_str_eq(buf, "");
  cfg.disabled = false;
  ck_assert(!ocl_cache_dir(&cfg, buf, 5)); /* does not fit */
  ck_assert_str_eq(buf, "");
  unsetenv("CLCNN_CACHE_DIR");
  unsetenv("XDG_CACHE_HOME");
  unsetenv("HOME");
  ck_assert(!ocl_cache_dir(NULL, buf, sizeof buf));
}
END_TEST

START_TEST(test_bad_args) {
  clcnn_err err = {0};
  cl_program prog = (cl_program)1;
  bool hit = true;
  ck_assert_int_eq(ocl_program_build(NULL, NULL, NULL, kSource, NULL, NULL, &prog, &hit, &err),
                   CLCNN_ERROR_INVALID_ARGUMENT);
  ck_assert_ptr_null(prog);
  ck_assert(!hit);
  ck_assert_int_eq(ocl_program_build(NULL, NULL, NULL, kSource, NULL, NULL, NULL, NULL, NULL),
                   CLCNN_ERROR_INVALID_ARGUMENT);
}
END_TEST

/* ---------------------------------------------------- tests with OpenCL */

START_TEST(test_cold_then_warm) {
  env e;
  ck_assert(env_open(&e));
  char dir[256];
  tmp_path(dir, sizeof dir, "cache");
  ocl_cache_config cfg = {.dir = dir};

  ocl_build_report r = build_check(&e, &cfg, kOptions3, 3.0f);
  ck_assert(!r.cache_hit);
  ck_assert(!r.cache_rejected);
  ck_assert_msg(r.cache_written, "not written: %s", r.note);
  ck_assert_str_eq(r.note, "");
  ck_assert_int_eq(strncmp(r.path, dir, strlen(dir)), 0);
  ck_assert_int_eq(mode_of(dir), 0700);
  ck_assert_int_eq(mode_of(r.path), 0600);
  int bins, n = count_files(dir, &bins);
  ck_assert_int_eq(n, 1); /* no temporary file left */
  ck_assert_int_eq(bins, 1);

  /* the name is the hex key */
  uint8_t key[32];
  char want[512];
  ocl_cache_key(e.info, kSource, kOptions3, key);
  int at = snprintf(want, sizeof want, "%s/", dir);
  for (int i = 0; i < 32; i++) at += snprintf(want + at, sizeof want - at, "%02x", key[i]);
  snprintf(want + at, sizeof want - at, ".bin");
  ck_assert_str_eq(r.path, want);

  ocl_build_report r2 = build_check(&e, &cfg, kOptions3, 3.0f);
  ck_assert(r2.cache_hit);
  ck_assert(!r2.cache_written);
  ck_assert(!r2.cache_rejected);
  ck_assert_str_eq(r2.path, r.path);

  /* other options: another entry */
  ocl_build_report r3 = build_check(&e, &cfg, kOptions2, 2.0f);
  ck_assert(!r3.cache_hit);
  ck_assert(r3.cache_written);
  ck_assert_str_ne(r3.path, r.path);
  count_files(dir, &bins);
  ck_assert_int_eq(bins, 2);
  ck_assert(build_check(&e, &cfg, kOptions2, 2.0f).cache_hit);

  /* the short form */
  cl_program prog = NULL;
  bool hit = false;
  clcnn_err err = {0};
  ck_assert_int_eq(
      ocl_program_build(e.ctx, e.info->device, e.info, kSource, kOptions3, &cfg, &prog, &hit, &err),
      CLCNN_OK);
  ck_assert(hit);
  ck_assert(run_axpb(&e, prog, 3.0f));
  clReleaseProgram(prog);
  env_close(&e);
}
END_TEST

/* Damages the entry at `path` with `damage`, then checks that the next build
 * rejects it, still gives a working program and replaces the entry. */
static void check_damage(env *e, const ocl_cache_config *cfg, const char *path,
                         void (*damage)(const char *path), const char *expect_note) {
  damage(path);
  ocl_build_report r = build_check(e, cfg, kOptions3, 3.0f);
  ck_assert(!r.cache_hit);
  ck_assert(r.cache_rejected);
  ck_assert_msg(r.cache_written, "not replaced: %s", r.note);
  ck_assert_msg(strstr(r.note, expect_note) != NULL, "note \"%s\" lacks \"%s\"", r.note,
                expect_note);
  ocl_build_report r2 = build_check(e, cfg, kOptions3, 3.0f);
  ck_assert_msg(r2.cache_hit, "replaced entry not used: %s", r2.note);
}

static void flip_binary(const char *path) {
  size_t len;
  unsigned char *b = slurp(path, &len);
  ck_assert_uint_gt(len, HEADER + 16);
  b[HEADER + (len - HEADER) / 2] ^= 0x5a;
  b[len - 1] ^= 0xff;
  spit(path, b, len);
  free(b);
}
static void flip_one_bit(const char *path) {
  size_t len;
  unsigned char *b = slurp(path, &len);
  b[HEADER + 3] ^= 0x01;
  spit(path, b, len);
  free(b);
}
static void truncate_half(const char *path) {
  size_t len;
  unsigned char *b = slurp(path, &len);
  spit(path, b, HEADER + (len - HEADER) / 2);
  free(b);
}
static void truncate_header(const char *path) {
  size_t len;
  unsigned char *b = slurp(path, &len);
  spit(path, b, 40);
  free(b);
}
static void truncate_empty(const char *path) {
  ck_assert_int_eq(truncate(path, 0), 0);
}
static void append_garbage(const char *path) {
  FILE *f = fopen(path, "ab");
  ck_assert_ptr_nonnull(f);
  fputs("trailing garbage", f);
  fclose(f);
}
static void bad_magic(const char *path) {
  size_t len;
  unsigned char *b = slurp(path, &len);
  b[0] ^= 0x20;
  spit(path, b, len);
  free(b);
}
static void bad_version(const char *path) {
  size_t len;
  unsigned char *b = slurp(path, &len);
  b[8] = 99;
  spit(path, b, len);
  free(b);
}
static void bad_checksum(const char *path) {
  size_t len;
  unsigned char *b = slurp(path, &len);
  b[56] ^= 0x01;
  spit(path, b, len);
  free(b);
}

START_TEST(test_damaged_entries) {
  env e;
  ck_assert(env_open(&e));
  char dir[256];
  tmp_path(dir, sizeof dir, "cache");
  ocl_cache_config cfg = {.dir = dir};
  ocl_build_report r = build_check(&e, &cfg, kOptions3, 3.0f);
  ck_assert(r.cache_written);
  check_damage(&e, &cfg, r.path, flip_binary, "checksum mismatch");
  check_damage(&e, &cfg, r.path, flip_one_bit, "checksum mismatch");
  check_damage(&e, &cfg, r.path, truncate_half, "length mismatch");
  check_damage(&e, &cfg, r.path, truncate_header, "bad size");
  check_damage(&e, &cfg, r.path, truncate_empty, "bad size");
  check_damage(&e, &cfg, r.path, append_garbage, "length mismatch");
  check_damage(&e, &cfg, r.path, bad_magic, "bad magic");
  check_damage(&e, &cfg, r.path, bad_version, "format version");
  check_damage(&e, &cfg, r.path, bad_checksum, "checksum mismatch");
  int bins, n = count_files(dir, &bins);
  ck_assert_int_eq(n, 1);
  ck_assert_int_eq(bins, 1);
  env_close(&e);
}
END_TEST

/* An entry for other options, renamed to this key's file name: its header's
 * key gives it away, and the program built is the right one. */
START_TEST(test_entry_under_wrong_name) {
  env e;
  ck_assert(env_open(&e));
  char dir[256];
  tmp_path(dir, sizeof dir, "cache");
  ocl_cache_config cfg = {.dir = dir};
  ocl_build_report r3 = build_check(&e, &cfg, kOptions3, 3.0f);
  ocl_build_report r2 = build_check(&e, &cfg, kOptions2, 2.0f);
  ck_assert(r3.cache_written && r2.cache_written);
  ck_assert_int_eq(rename(r3.path, r2.path), 0);
  ocl_build_report r = build_check(&e, &cfg, kOptions2, 2.0f); /* checks SCALE=2 */
  ck_assert(!r.cache_hit);
  ck_assert(r.cache_rejected);
  ck_assert_ptr_nonnull(strstr(r.note, "key mismatch"));
  ck_assert(build_check(&e, &cfg, kOptions2, 2.0f).cache_hit);
  env_close(&e);
}
END_TEST

/* A well-formed entry (right key, right checksum) whose binary the driver
 * cannot load: rebuilt from source and replaced. */
START_TEST(test_driver_refuses_binary) {
  env e;
  ck_assert(env_open(&e));
  char dir[256];
  tmp_path(dir, sizeof dir, "cache");
  ocl_cache_config cfg = {.dir = dir};
  ocl_build_report r = build_check(&e, &cfg, kOptions3, 3.0f);
  ck_assert(r.cache_written);

  /* Re-seal the entry (same header, new length and checksum) around bytes
   * that are no program binary. */
  size_t len;
  unsigned char *b = slurp(r.path, &len);
  const char junk[] = "this is not a program binary for any OpenCL driver, really";
  size_t jl = sizeof junk;
  unsigned char *nb = malloc(HEADER + jl);
  ck_assert_ptr_nonnull(nb);
  memcpy(nb, b, HEADER);
  memcpy(nb + HEADER, junk, jl);
  for (int i = 0; i < 8; i++) nb[48 + i] = (unsigned char)((uint64_t)jl >> (8 * i));
  {
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, jl, (const uint8_t *)junk);
#if NETTLE_VERSION_MAJOR >= 4
    sha256_digest(&c, nb + 56);
#else
    sha256_digest(&c, 32, nb + 56);
#endif
  }
  spit(r.path, nb, HEADER + jl);
  free(nb);
  free(b);

  ocl_build_report r2 = build_check(&e, &cfg, kOptions3, 3.0f);
  ck_assert(!r2.cache_hit);
  ck_assert(r2.cache_rejected);
  ck_assert(r2.cache_written);
  ck_assert_msg(strstr(r2.note, "clCreateProgramWithBinary") || strstr(r2.note, "clBuildProgram"),
                "note: %s", r2.note);
  ck_assert(build_check(&e, &cfg, kOptions3, 3.0f).cache_hit);
  env_close(&e);
}
END_TEST

/* Child mode: wait on fd until the parent lets go, then build through the
 * cache in dir. Exit 0 when the program works. */
static int writer_child(const char *dir, int fd) {
  char c;
  while (read(fd, &c, 1) > 0) {
  }
  env e;
  if (!env_open(&e)) return 10;
  ocl_cache_config cfg = {.dir = dir};
  ocl_build_report r;
  clcnn_err err = {0};
  cl_program prog = NULL;
  clcnn_status st = ocl_program_build_ex(e.ctx, e.info->device, e.info, kSource, kOptions3, &cfg,
                                         &prog, &r, &err);
  if (st != CLCNN_OK) {
    fprintf(stderr, "writer: %s\n", err.msg);
    return 11;
  }
  int rc = run_axpb(&e, prog, 3.0f) ? 0 : 12;
  if (r.note[0] && !r.cache_hit && !r.cache_written) {
    fprintf(stderr, "writer: %s\n", r.note);
    rc = 13;
  }
  clReleaseProgram(prog);
  env_close(&e);
  ocl_devices_release();
  return rc;
}

START_TEST(test_concurrent_writers) {
  char dir[256];
  tmp_path(dir, sizeof dir, "shared");
  enum { P = 4 };
  for (int round = 0; round < 2; round++) {
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    pid_t pids[P];
    for (int i = 0; i < P; i++) {
      pids[i] = fork();
      ck_assert_int_ge(pids[i], 0);
      if (pids[i] == 0) {
        /* A fresh process image: OpenCL runtimes do not survive fork(). */
        close(fd[1]);
        char fdarg[16];
        snprintf(fdarg, sizeof fdarg, "%d", fd[0]);
        execl("/proc/self/exe", "test_program_cache", "--writer", dir, fdarg, (char *)NULL);
        _exit(127);
      }
    }
    close(fd[0]);
    close(fd[1]); /* go */
    for (int i = 0; i < P; i++) {
      int status = 0;
      ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
      ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d failed: %d", i,
                    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    int bins, n = count_files(dir, &bins);
    ck_assert_int_eq(bins, 1);
    ck_assert_int_eq(n, 1); /* no temporary files left behind */
    if (round == 0) rm_rf(dir);
  }
  env e;
  ck_assert(env_open(&e));
  ocl_cache_config cfg = {.dir = dir};
  ck_assert(build_check(&e, &cfg, kOptions3, 3.0f).cache_hit);
  env_close(&e);
}
END_TEST

START_TEST(test_dir_under_file) {
  env e;
  ck_assert(env_open(&e));
  char file[256], dir[300];
  tmp_path(file, sizeof file, "file");
  spit(file, (const unsigned char *)"x", 1);
  snprintf(dir, sizeof dir, "%s/cache/deeper", file);
  ocl_cache_config cfg = {.dir = dir};
  ocl_build_report r = build_check(&e, &cfg, kOptions3, 3.0f);
  ck_assert(!r.cache_hit);
  ck_assert(!r.cache_written);
  ck_assert_str_eq(r.path, "");
  ck_assert_msg(strstr(r.note, "cannot create cache directory"), "note: %s", r.note);
  /* the cache path is a regular file itself */
  cfg.dir = file;
  r = build_check(&e, &cfg, kOptions3, 3.0f);
  ck_assert(!r.cache_written);
  ck_assert_msg(strstr(r.note, "not a directory"), "note: %s", r.note);
  env_close(&e);
}
END_TEST

START_TEST(test_dir_read_only) {
  if (geteuid() == 0) {
    /* root writes through mode bits: the case cannot be made here (the
     * path-under-a-file case covers an unusable directory). */
    printf("test_dir_read_only: running as root, chmod 0500 case skipped\n");
    return;
  }
  env e;
  ck_assert(env_open(&e));
  char dir[256];
  tmp_path(dir, sizeof dir, "ro");
  ck_assert_int_eq(mkdir(dir, 0500), 0);
  ocl_cache_config cfg = {.dir = dir};
  ocl_build_report r = build_check(&e, &cfg, kOptions3, 3.0f);
  ck_assert(!r.cache_hit);
  ck_assert(!r.cache_written);
  ck_assert_msg(strstr(r.note, "cannot write"), "note: %s", r.note);
  int bins;
  ck_assert_int_eq(count_files(dir, &bins), 0);
  env_close(&e);
}
END_TEST

START_TEST(test_dir_not_private) {
  env e;
  ck_assert(env_open(&e));
  char dir[256];
  tmp_path(dir, sizeof dir, "open");
  ck_assert_int_eq(mkdir(dir, 0700), 0);
  ck_assert_int_eq(chmod(dir, 0777), 0);
  ocl_cache_config cfg = {.dir = dir};
  ocl_build_report r = build_check(&e, &cfg, kOptions3, 3.0f);
  ck_assert(!r.cache_written);
  ck_assert_msg(strstr(r.note, "not private"), "note: %s", r.note);
  int bins;
  ck_assert_int_eq(count_files(dir, &bins), 0);
  if (geteuid() == 0) {
    /* someone else's directory */
    ck_assert_int_eq(chmod(dir, 0700), 0);
    ck_assert_int_eq(chown(dir, 65534, 65534), 0);
    r = build_check(&e, &cfg, kOptions3, 3.0f);
    ck_assert(!r.cache_written);
    ck_assert_msg(strstr(r.note, "not private"), "note: %s", r.note);
  }
  env_close(&e);
}
END_TEST

START_TEST(test_created_dirs_private) {
  env e;
  ck_assert(env_open(&e));
  umask(022);
  char a[256], b[300], c[350];
  tmp_path(a, sizeof a, "a");
  snprintf(b, sizeof b, "%s/b", a);
  snprintf(c, sizeof c, "%s/c", b);
  ocl_cache_config cfg = {.dir = c};
  ocl_build_report r = build_check(&e, &cfg, kOptions3, 3.0f);
  ck_assert_msg(r.cache_written, "note: %s", r.note);
  ck_assert_int_eq(mode_of(a), 0700);
  ck_assert_int_eq(mode_of(b), 0700);
  ck_assert_int_eq(mode_of(c), 0700);
  env_close(&e);
}
END_TEST

START_TEST(test_env_dirs) {
  env e;
  ck_assert(env_open(&e));
  char dir[256], home[256], path[512];
  int bins;
  /* $CLCNN_CACHE_DIR */
  tmp_path(dir, sizeof dir, "envdir");
  setenv("CLCNN_CACHE_DIR", dir, 1);
  ocl_build_report r = build_check(&e, NULL, kOptions3, 3.0f);
  ck_assert(r.cache_written);
  ck_assert_int_eq(count_files(dir, &bins), 1);
  /* $XDG_CACHE_HOME/clcnn */
  unsetenv("CLCNN_CACHE_DIR");
  tmp_path(dir, sizeof dir, "xdg");
  setenv("XDG_CACHE_HOME", dir, 1);
  ocl_cache_config cfg = {0};
  r = build_check(&e, &cfg, kOptions3, 3.0f);
  ck_assert(r.cache_written);
  snprintf(path, sizeof path, "%s/clcnn", dir);
  ck_assert_int_eq(count_files(path, &bins), 1);
  /* $HOME/.cache/clcnn */
  unsetenv("XDG_CACHE_HOME");
  tmp_path(home, sizeof home, "home");
  ck_assert_int_eq(mkdir(home, 0755), 0);
  setenv("HOME", home, 1);
  r = build_check(&e, NULL, kOptions3, 3.0f);
  ck_assert(r.cache_written);
  snprintf(path, sizeof path, "%s/.cache/clcnn", home);
  ck_assert_int_eq(count_files(path, &bins), 1);
  ck_assert(build_check(&e, NULL, kOptions3, 3.0f).cache_hit);
  /* nowhere at all: still builds */
  unsetenv("HOME");
  r = build_check(&e, NULL, kOptions3, 3.0f);
  ck_assert(!r.cache_hit && !r.cache_written);
  ck_assert_str_ne(r.note, "");
  env_close(&e);
}
END_TEST

START_TEST(test_disabled) {
  env e;
  ck_assert(env_open(&e));
  char dir[256];
  tmp_path(dir, sizeof dir, "cache");
  ocl_cache_config cfg = {.dir = dir, .disabled = true};
  ocl_build_report r = build_check(&e, &cfg, kOptions3, 3.0f);
  ck_assert(!r.cache_hit && !r.cache_written && !r.cache_rejected);
  ck_assert_str_eq(r.path, "");
  ck_assert_str_eq(r.note, "");
  struct stat st;
  ck_assert_int_ne(stat(dir, &st), 0); /* not even created */
  /* an existing entry is not read either */
  cfg.disabled = false;
  ck_assert(build_check(&e, &cfg, kOptions3, 3.0f).cache_written);
  cfg.disabled = true;
  ck_assert(!build_check(&e, &cfg, kOptions3, 3.0f).cache_hit);
  /* no device description: built, cache not used */
  cfg.disabled = false;
  ocl_build_report r2;
  cl_program prog = NULL;
  clcnn_err err = {0};
  ck_assert_int_eq(
      ocl_program_build_ex(e.ctx, e.info->device, NULL, kSource, kOptions3, &cfg, &prog, &r2, &err),
      CLCNN_OK);
  ck_assert(!r2.cache_hit && !r2.cache_written);
  ck_assert(run_axpb(&e, prog, 3.0f));
  clReleaseProgram(prog);
  env_close(&e);
}
END_TEST

START_TEST(test_build_error) {
  env e;
  ck_assert(env_open(&e));
  char dir[256];
  tmp_path(dir, sizeof dir, "cache");
  ocl_cache_config cfg = {.dir = dir};
  const char *bad =
      "__kernel void broken(__global float *y) {\n"
      "  y[get_global_id(0)] = undeclared_thing_xyz * 2.0f;\n"
      "}\n";
  clcnn_err err = {0};
  cl_program prog = (cl_program)1;
  bool hit = true;
  clcnn_status st = ocl_program_build(e.ctx, e.info->device, e.info, bad, "-DMARKER_OPTION=1", &cfg,
                                      &prog, &hit, &err);
  ck_assert_int_eq(st, CLCNN_ERROR_KERNEL_BUILD);
  ck_assert_int_eq(err.status, CLCNN_ERROR_KERNEL_BUILD);
  ck_assert_ptr_null(prog);
  ck_assert(!hit);
  ck_assert_msg(strstr(err.msg, "build log"), "msg: %s", err.msg);
  ck_assert_msg(strstr(err.msg, "undeclared_thing_xyz"), "msg: %s", err.msg);
  ck_assert_msg(strstr(err.msg, "MARKER_OPTION"), "msg: %s", err.msg);
  ck_assert_msg(strstr(err.msg, e.info->name), "msg: %s", err.msg);
  int bins;
  count_files(dir, &bins);
  ck_assert_int_eq(bins, 0);

  /* a long log is cut to fit, and says so (compilers stop after ~20
   * errors: long names make each error long) */
  char name[241];
  memset(name, 'q', 240);
  name[240] = 0;
  size_t cap = 100000, at = 0;
  char *many = malloc(cap);
  ck_assert_ptr_nonnull(many);
  at += (size_t)snprintf(many + at, cap - at, "__kernel void k(__global float *y) {\n");
  for (int i = 0; i < 40; i++)
    at += (size_t)snprintf(many + at, cap - at, "  y[%d] = first_%s_%d;\n", i, name, i);
  snprintf(many + at, cap - at, "}\n");
  st = ocl_program_build(e.ctx, e.info->device, e.info, many, NULL, &cfg, &prog, NULL, &err);
  ck_assert_int_eq(st, CLCNN_ERROR_KERNEL_BUILD);
  ck_assert_uint_gt(strlen(err.msg), 3000);
  ck_assert_uint_lt(strlen(err.msg), CLCNN_ERR_MAX - 200); /* room for callers' prefixes */
  ck_assert_msg(strstr(err.msg, "more bytes of build log"), "msg: %s", err.msg);
  ck_assert_msg(strstr(err.msg, "first_qqq"), "msg: %s", err.msg);
  free(many);
  env_close(&e);
}
END_TEST

/* ------------------------------------------------------------------ main */

static int probe_devices(char *why, size_t len) {
  int fd[2];
  if (pipe(fd) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    env e;
    bool ok = env_open(&e);
    if (!ok) dprintf(fd[1], "no usable OpenCL device (no platform, or none available)");
    env_close(&e);
    _exit(ok ? 0 : 1);
  }
  close(fd[1]);
  ssize_t n = read(fd[0], why, len - 1);
  why[n > 0 ? n : 0] = 0;
  close(fd[0]);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "--writer") == 0) return writer_child(argv[2], atoi(argv[3]));

  char why[1024] = "";
  int have = probe_devices(why, sizeof why);

  Suite *s = suite_create("program_cache");
  TCase *tc = tcase_create("rules");
  tcase_add_test(tc, test_key);
  tcase_add_test(tc, test_dir_resolution);
  tcase_add_test(tc, test_bad_args);
  suite_add_tcase(s, tc);
  if (have == 1) {
    TCase *cl = tcase_create("opencl");
    tcase_set_timeout(cl, 300); /* PoCL's first compile of a kernel is slow */
    tcase_add_checked_fixture(cl, tmp_setup, tmp_teardown);
    tcase_add_test(cl, test_cold_then_warm);
    tcase_add_test(cl, test_damaged_entries);
    tcase_add_test(cl, test_entry_under_wrong_name);
    tcase_add_test(cl, test_driver_refuses_binary);
    tcase_add_test(cl, test_concurrent_writers);
    tcase_add_test(cl, test_dir_under_file);
    tcase_add_test(cl, test_dir_read_only);
    tcase_add_test(cl, test_dir_not_private);
    tcase_add_test(cl, test_created_dirs_private);
    tcase_add_test(cl, test_env_dirs);
    tcase_add_test(cl, test_disabled);
    tcase_add_test(cl, test_build_error);
    suite_add_tcase(s, cl);
  }
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (failed) return failed;
  if (have != 1) {
    printf("SKIP: OpenCL program cache tests not run: %s\n", why[0] ? why : "probe failed");
    return 77;
  }
  return 0;
}
