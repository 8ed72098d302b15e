/* tests/common/kernel_dir.h */
#include "kernel_dir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Whether family `name` (a file name without ".cl") is in the list. */
static bool listed(const char *list, const char *name) {
  if (!strcmp(list, "*")) return strcmp(name, "common") != 0;
  size_t n = strlen(name);
  for (const char *p = list; *p;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == n && !strncmp(p, name, n)) return true;
    p += len + (e ? 1 : 0);
  }
  return false;
}

bool kernel_dir_make(const char *src_dir, const char *broken, char *dir, size_t len) {
  snprintf(dir, len, "/tmp/clcnn-kernels-XXXXXX");
  if (!mkdtemp(dir)) return false;
  char from[4200], to[4200];
  snprintf(from, sizeof from, "%s/kernels", src_dir);
  DIR *d = opendir(from);
  if (!d) return false;
  bool ok = true;
  for (struct dirent *e; ok && (e = readdir(d));) {
    size_t n = strlen(e->d_name);
    if (n < 4 || strcmp(e->d_name + n - 3, ".cl")) continue;
    char family[256];
    snprintf(family, sizeof family, "%.*s", (int)(n - 3), e->d_name);
    snprintf(from, sizeof from, "%s/kernels/%s", src_dir, e->d_name);
    snprintf(to, sizeof to, "%s/%s", dir, e->d_name);
    FILE *out = fopen(to, "w");
    if (!out) {
      ok = false;
      break;
    }
    if (listed(broken, family)) {
      fputs("__kernel void broken(__global float *x) { this is not OpenCL C; }\n", out);
    } else {
      FILE *in = fopen(from, "r");
      int c;
      ok = in != NULL;
      while (in && (c = fgetc(in)) != EOF) fputc(c, out);
      if (in) fclose(in);
    }
    ok &= fclose(out) == 0;
  }
  closedir(d);
  return ok;
}

void kernel_dir_remove(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  char path[4200];
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}
