/* bench_gemm_libs: SGEMM candidates for the CPU backend at ResNet-50 shapes
 * (docs/performance.md, "CPU GEMM libraries"). Standalone, not built by
 * meson; one binary per library, row-major C[M,N] = A[M,K] B[K,N]:
 *   gcc -O2 -fopenmp -DLIB_OPENBLAS bench_gemm_libs.c -o gb_openblas -lopenblas
 *   gcc -O2 -fopenmp -DLIB_BLIS -I/usr/include/x86_64-linux-gnu/blis-openmp \
 *       bench_gemm_libs.c -o gb_blis -lblis
 *   gcc -O2 -fopenmp -DLIB_DNNL bench_gemm_libs.c -o gb_dnnl -ldnnl
 *   ./gb_LIB MODE [REPS]   prints "M N K GFLOP/s" (median of REPS) per shape
 * MODE 0: the library single-threaded, one call; 1: clcnn's split
 * (runtime/cpu/gemm_core.c: 2 OpenMP threads, 4 blocks per thread taken
 * dynamically, the library single-threaded per block); 2: the library's own
 * 2 threads. Process-wide thread settings are fine here, in a benchmark. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <omp.h>
#if defined(LIB_OPENBLAS)
#include <cblas.h>
void openblas_set_num_threads(int);
char *openblas_get_corename(void);
#elif defined(LIB_BLIS)
#include <blis.h>
#elif defined(LIB_DNNL)
#include <dnnl.h>
#endif
static int g_lib_threads = 1;
static void gemm1(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
#if defined(LIB_OPENBLAS)
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, a, lda, b, ldb, 0.f, c, ldc);
#elif defined(LIB_BLIS)
  rntm_t r = BLIS_RNTM_INITIALIZER;
  bli_rntm_set_num_threads(g_lib_threads, &r);
  float one = 1.f, zero = 0.f;
  bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &one, (float *)a, lda, 1, (float *)b, ldb, 1, &zero, c, ldc, 1, NULL, &r);
#elif defined(LIB_DNNL)
  dnnl_sgemm('N', 'N', m, n, k, 1.f, a, lda, b, ldb, 0.f, c, ldc);
#endif
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmpd(const void *x, const void *y) { double a = *(double *)x, b = *(double *)y; return a < b ? -1 : a > b; }
static void run_mode(int mode, int m, int n, int k, const float *a, const float *b, float *c) {
  if (mode == 0) { g_lib_threads = 1; gemm1(m, n, k, a, k, b, n, c, n); return; }
  if (mode == 2) { g_lib_threads = 2; gemm1(m, n, k, a, k, b, n, c, n); return; }
  int t = 2; int split_n = n >= m; int len = split_n ? n : m;
  int chunk = (len + 4 * t - 1) / (4 * t); chunk = (chunk + 15) / 16 * 16;
  if (chunk < 64) chunk = len < 64 ? len : 64;
  int blocks = (len + chunk - 1) / chunk;
  g_lib_threads = 1;
#pragma omp parallel for num_threads(2) schedule(dynamic, 1)
  for (int bi = 0; bi < blocks; bi++) {
    int s = bi * chunk, e = s + chunk < len ? s + chunk : len;
    if (split_n) gemm1(m, e - s, k, a, k, b + s, n, c + s, n);
    else gemm1(e - s, n, k, a + (size_t)s * k, k, b, n, c + (size_t)s * n, n);
  }
}
int main(int argc, char **argv) {
  static const int sh[][3] = {{64,12544,147},{64,3136,64},{64,3136,576},{256,3136,64},{64,3136,256},
    {128,784,1152},{512,784,128},{128,784,512},{256,196,2304},{1024,196,256},{256,196,1024},
    {512,49,4608},{2048,49,512},{512,49,2048},{1024,1024,1024}};
  int ns = sizeof sh / sizeof sh[0];
  int mode = argc > 1 ? atoi(argv[1]) : 0; /* 0 st, 1 split2, 2 lib2 */
  int reps = argc > 2 ? atoi(argv[2]) : 7;
#if defined(LIB_OPENBLAS)
  openblas_set_num_threads(mode == 2 ? 2 : 1);
  fprintf(stderr, "openblas core %s\n", openblas_get_corename());
#elif defined(LIB_BLIS)
  fprintf(stderr, "blis arch %s\n", bli_arch_string(bli_arch_query_id()));
#elif defined(LIB_DNNL)
  if (mode != 2) omp_set_num_threads(1); /* bench only: st mode */
  if (mode == 1) omp_set_num_threads(2);
#endif
  for (int s = 0; s < ns; s++) {
    int m = sh[s][0], n = sh[s][1], k = sh[s][2];
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n), *c = malloc(sizeof(float) * m * n);
    for (long i = 0; i < (long)m * k; i++) a[i] = (float)((i * 7919) % 1000) / 1000.f - .5f;
    for (long i = 0; i < (long)k * n; i++) b[i] = (float)((i * 104729) % 1000) / 1000.f - .5f;
    double fl = 2.0 * m * n * k, t[64];
    int r = reps; double one = 0;
    run_mode(mode, m, n, k, a, b, c);
    double t0 = now(); run_mode(mode, m, n, k, a, b, c); one = now() - t0;
    int inner = one < 0.02 ? (int)(0.02 / one) + 1 : 1;
    for (int i = 0; i < r; i++) { t0 = now(); for (int j = 0; j < inner; j++) run_mode(mode, m, n, k, a, b, c); t[i] = (now() - t0) / inner; }
    qsort(t, r, sizeof *t, cmpd);
    printf("%d %d %d %.1f\n", m, n, k, fl / t[r / 2] * 1e-9);
    free(a); free(b); free(c);
  }
  return 0;
}
