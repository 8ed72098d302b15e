/* A kernel directory for CLCNN_KERNEL_DIR in tests: a temporary copy of
 * SOURCE_ROOT/kernels/ in which some families do not compile, to make
 * program builds fail on purpose.
 *
 *   char dir[64];
 *   kernel_dir_make(src_dir, "norm", dir, sizeof dir);   // only norm.cl broken
 *   setenv("CLCNN_KERNEL_DIR", dir, 1); ...
 *   kernel_dir_remove(dir);
 *
 * `broken` is a comma-separated list of families ("norm,pool"), or "*" for
 * every family but common.cl. Returns false when a file cannot be copied. */
#ifndef CLCNN_TEST_KERNEL_DIR_H
#define CLCNN_TEST_KERNEL_DIR_H

#include <stdbool.h>
#include <stddef.h>

bool kernel_dir_make(const char *src_dir, const char *broken, char *dir, size_t len);
void kernel_dir_remove(const char *dir);

#endif
