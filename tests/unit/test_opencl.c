/* The OpenCL side of the API: interop with the application's context, queue
 * and buffers (also where the test hook of runtime/backend.h sends the nodes
 * that read an input buffer or write an output buffer to the CPU backend, and
 * for a model of two outputs); an out-of-order queue refused; the program
 * binary cache seen through sessions (cold, warm); and faults: a kernel that
 * fails to build, a device allocation that fails (injected), a device that
 * does not exist. Skips (77) without OpenCL. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "clcnn.h"
#include "clcnn_opencl.h"
#include "kernel_dir.h"
#include "model_builder.h"
#include "ocl.h"

static const char *src_dir = ".";
static clcnn_context *ctx;
static clcnn_model *model;
static char cache_dir[] = "/tmp/clcnn-test-cache-XXXXXX";

/* The model built in b, loaded in context c (b is freed). */
static clcnn_model *load_built_in(clcnn_context *c, mb *b) {
  size_t len;
  uint8_t *bytes = mb_pack(b, &len);
  clcnn_model *m = NULL;
  ck_assert_int_eq(clcnn_model_load_memory(c, bytes, len, NULL, &m), CLCNN_OK);
  free(bytes);
  mb_free(b);
  return m;
}

/* A small CNN block: Conv -> Relu -> Add(skip) -> GlobalAveragePool, with
 * weights ((i * mul) % mod - off) / div and bias i * bstep; with
 * `relu_output` the Relu's value "r" is a second graph output. */
static clcnn_model *build_block(clcnn_context *c, int mul, int mod, int off, float div, float bstep,
                                bool relu_output) {
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, 4, 9, 9});
  float w[4 * 4 * 9], bias[4];
  for (int i = 0; i < 4 * 4 * 9; i++) w[i] = (float)((i * mul) % mod - off) / div;
  for (int i = 0; i < 4; i++) bias[i] = bstep * (float)i;
  mb_init_f32(b, "w", 4, (int64_t[]){4, 4, 3, 3}, w);
  mb_init_f32(b, "b", 1, (int64_t[]){4}, bias);
  mb_node(b, "Conv", "x,w,b", "c", 1, (mb_attr[]){MB_INTS("pads", 1, 1, 1, 1)});
  mb_node(b, "Relu", "c", "r", 0, NULL);
  mb_node(b, "Add", "r,x", "a", 0, NULL);
  mb_node(b, "GlobalAveragePool", "a", "y", 0, NULL);
  mb_output(b, "y");
  if (relu_output) mb_output(b, "r");
  return load_built_in(c, b);
}

static clcnn_model *make_model(clcnn_context *c) {
  return build_block(c, 37, 17, 8, 32.0f, 0.1f, false);
}

static float input[4 * 81];

static void run_and_get(clcnn_session *s, float out[4]) {
  clcnn_tensor t = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4, .dims = {1, 4, 9, 9}, .data = input};
  ck_assert_int_eq(clcnn_session_set_input(s, "x", &t), CLCNN_OK);
  ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "%s", clcnn_session_error(s));
  clcnn_tensor y;
  ck_assert_int_eq(clcnn_session_output(s, "y", &y), CLCNN_OK);
  memcpy(out, y.data, 4 * sizeof(float));
}

static void reference(float out[4]) {
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "cpu";
  clcnn_session *s;
  ck_assert_int_eq(clcnn_session_create(model, &so, NULL, 0, &s), CLCNN_OK);
  run_and_get(s, out);
  clcnn_session_free(s);
}

static void setup(void) {
  clcnn_options o;
  clcnn_options_default(&o);
  o.cache_dir = cache_dir;
  ck_assert_int_eq(clcnn_context_create(&o, &ctx), CLCNN_OK);
  model = make_model(ctx);
  for (int i = 0; i < 4 * 81; i++) input[i] = (float)((i * 13) % 29 - 14) / 7.0f;
}
static void teardown(void) {
  sched_set_test_refuse(NULL, NULL);
  clcnn_model_free(model);
  clcnn_context_free(ctx);
}

START_TEST(interop_context_queue_buffers) {
  cl_platform_id platform;
  cl_device_id device;
  ck_assert_int_eq(clGetPlatformIDs(1, &platform, NULL), CL_SUCCESS);
  ck_assert_int_eq(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL), CL_SUCCESS);
  cl_int rc;
  cl_context cl_ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &rc);
  ck_assert_int_eq(rc, CL_SUCCESS);
  cl_command_queue q = clCreateCommandQueue(cl_ctx, device, 0, &rc);
  ck_assert_int_eq(rc, CL_SUCCESS);
  clcnn_session *s = NULL;
  ck_assert_msg(clcnn_session_create_opencl(model, NULL, cl_ctx, q, NULL, 0, &s) == CLCNN_OK, "%s",
                clcnn_last_error());
  cl_context got_ctx;
  cl_command_queue got_q;
  ck_assert_int_eq(clcnn_session_opencl_queue(s, &got_ctx, &got_q), CLCNN_OK);
  ck_assert_ptr_eq(got_ctx, cl_ctx);
  ck_assert_ptr_eq(got_q, q);
  /* Input and output as the application's buffers, at offsets. */
  cl_mem in = clCreateBuffer(cl_ctx, CL_MEM_READ_WRITE, 64 + sizeof input, NULL, &rc);
  cl_mem out = clCreateBuffer(cl_ctx, CL_MEM_READ_WRITE, 128 + 16, NULL, &rc);
  ck_assert_int_eq(clEnqueueWriteBuffer(q, in, CL_TRUE, 64, sizeof input, input, 0, NULL, NULL),
                   CL_SUCCESS);
  ck_assert_int_eq(clcnn_session_set_input_buffer(s, "x", in, 64), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_get_output_buffer(s, "y", out, 128), CLCNN_ERROR_INVALID_ARGUMENT);
  ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "%s", clcnn_session_error(s));
  ck_assert_int_eq(clcnn_session_get_output_buffer(s, "y", out, 128), CLCNN_OK);
  float got[4], want[4];
  ck_assert_int_eq(clEnqueueReadBuffer(q, out, CL_TRUE, 128, 16, got, 0, NULL, NULL), CL_SUCCESS);
  reference(want);
  for (int i = 0; i < 4; i++)
    ck_assert_msg(fabsf(got[i] - want[i]) <= 1e-4f * (1 + fabsf(want[i])), "%d: %f vs %f", i,
                  got[i], want[i]);
  /* Errors: too small a buffer, an unknown name. */
  ck_assert_int_eq(clcnn_session_set_input_buffer(s, "x", out, 0), CLCNN_ERROR_INVALID_ARGUMENT);
  ck_assert_int_eq(clcnn_session_set_input_buffer(s, "nope", in, 0), CLCNN_ERROR_NOT_FOUND);
  clcnn_session_free(s);
  /* The library released only its own references: the queue still works. */
  ck_assert_int_eq(clFinish(q), CL_SUCCESS);
  /* A queue of another context is refused. */
  cl_context other = clCreateContext(NULL, 1, &device, NULL, NULL, &rc);
  ck_assert_int_eq(clcnn_session_create_opencl(model, NULL, other, q, NULL, 0, &s),
                   CLCNN_ERROR_INVALID_ARGUMENT);
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.profile = 1; /* the queue has no profiling */
  ck_assert_int_eq(clcnn_session_create_opencl(model, &so, cl_ctx, q, NULL, 0, &s),
                   CLCNN_ERROR_INVALID_ARGUMENT);
  clReleaseContext(other);
  clReleaseMemObject(in);
  clReleaseMemObject(out);
  clReleaseCommandQueue(q);
  clReleaseContext(cl_ctx);
  /* A CPU session has no queue. */
  so.profile = 0;
  so.device = "cpu";
  ck_assert_int_eq(clcnn_session_create(model, &so, NULL, 0, &s), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_opencl_queue(s, &got_ctx, &got_q), CLCNN_ERROR_INVALID_ARGUMENT);
  clcnn_session_free(s);
}
END_TEST

/* ------------------------------------------- interop with mixed backends */

/* The test hook: the device refuses the operators listed in `user` (a list
 * of op ids ending with -1); they run on the CPU backend. */
static bool refuse_ops(void *user, int backend_index, const char *backend_name, const ir_graph *g,
                       int node) {
  (void)backend_index;
  if (strcmp(backend_name, "cpu") == 0) return false;
  for (const int *op = user; *op >= 0; op++)
    if (g->nodes[node].op == *op) return true;
  return false;
}

/* The block of make_model() with other weights and a second output: the
 * Relu output "r", which the Add also reads. */
static clcnn_model *make_model2(clcnn_context *c) {
  return build_block(c, 29, 13, 6, 16.0f, -0.2f, true);
}

#define NX (4 * 81)
typedef struct io_case {
  const char *names[2];
  size_t counts[2];
  int nout;
} io_case;
static const io_case one_output = {{"y"}, {4}, 1};
static const io_case two_outputs = {{"y", "r"}, {4, NX}, 2};

/* The CPU backend's outputs of `m` for input x. */
static void cpu_outputs(const clcnn_model *m, const io_case *io, const float *x, float **out) {
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "cpu";
  clcnn_session *s;
  ck_assert_int_eq(clcnn_session_create(m, &so, NULL, 0, &s), CLCNN_OK);
  clcnn_tensor t = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4, .dims = {1, 4, 9, 9},
                    .data = (void *)x};
  ck_assert_int_eq(clcnn_session_set_input(s, "x", &t), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_run(s), CLCNN_OK);
  for (int o = 0; o < io->nout; o++) {
    clcnn_tensor y;
    ck_assert_int_eq(clcnn_session_output(s, io->names[o], &y), CLCNN_OK);
    memcpy(out[o], y.data, io->counts[o] * sizeof(float));
  }
  clcnn_session_free(s);
}

static void expect_close(const char *what, int run, const char *name, const float *got,
                         const float *want, size_t n) {
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(fabsf(got[i] - want[i]) <= 1e-4f * (1 + fabsf(want[i])),
                  "%s, run %d: %s[%zu] = %.7g, want %.7g", what, run, name, i, got[i], want[i]);
}

/* Checks every output of the last run: read into the application's buffer
 * (at an offset, with get_output_buffer) and through the host view. */
static void check_run(const char *what, int run, clcnn_session *s, cl_command_queue q,
                      cl_mem out, const io_case *io, float **want) {
  size_t off = 128;
  for (int o = 0; o < io->nout; o++) {
    size_t bytes = io->counts[o] * sizeof(float);
    float *got = calloc(io->counts[o], sizeof(float));
    ck_assert_msg(clcnn_session_get_output_buffer(s, io->names[o], out, off) == CLCNN_OK,
                  "%s: get_output_buffer(%s): %s", what, io->names[o], clcnn_session_error(s));
    ck_assert_int_eq(clEnqueueReadBuffer(q, out, CL_TRUE, off, bytes, got, 0, NULL, NULL),
                     CL_SUCCESS);
    expect_close(what, run, io->names[o], got, want[o], io->counts[o]);
    clcnn_tensor y;
    ck_assert_int_eq(clcnn_session_output(s, io->names[o], &y), CLCNN_OK);
    expect_close(what, run, io->names[o], y.data, want[o], io->counts[o]);
    free(got);
    off += bytes + 64;
  }
}

/* One interop session of `m` with the device refusing `refused`: the input
 * comes from the application's buffer (then overwritten: the session holds
 * its own copy), runs again without a new input, then from host memory,
 * then from the buffer again. */
static void interop_case(const clcnn_model *m, const io_case *io, const int *refused,
                         const char *what) {
  cl_platform_id platform;
  cl_device_id device;
  ck_assert_int_eq(clGetPlatformIDs(1, &platform, NULL), CL_SUCCESS);
  ck_assert_int_eq(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL), CL_SUCCESS);
  cl_int rc;
  cl_context cl_ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &rc);
  ck_assert_int_eq(rc, CL_SUCCESS);
  cl_command_queue q = clCreateCommandQueue(cl_ctx, device, CL_QUEUE_PROFILING_ENABLE, &rc);
  ck_assert_int_eq(rc, CL_SUCCESS);
  float x2[NX];
  for (int i = 0; i < NX; i++) x2[i] = (float)((i * 7) % 23 - 11) / 5.0f;
  float *want[2], *want2[2];
  for (int o = 0; o < io->nout; o++) {
    want[o] = calloc(io->counts[o], sizeof(float));
    want2[o] = calloc(io->counts[o], sizeof(float));
  }
  cpu_outputs(m, io, input, want);
  cpu_outputs(m, io, x2, want2);

  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.profile = 1; /* to see where each node ran */
  sched_set_test_refuse(refuse_ops, (void *)refused);
  clcnn_session *s = NULL;
  clcnn_status st = clcnn_session_create_opencl(m, &so, cl_ctx, q, NULL, 0, &s);
  sched_set_test_refuse(NULL, NULL);
  ck_assert_msg(st == CLCNN_OK, "%s: %s", what, clcnn_last_error());

  cl_mem in = clCreateBuffer(cl_ctx, CL_MEM_READ_WRITE, 64 + sizeof input, NULL, &rc);
  ck_assert_int_eq(rc, CL_SUCCESS);
  cl_mem out = clCreateBuffer(cl_ctx, CL_MEM_READ_WRITE, 128 + 2 * 64 + (4 + NX) * 4, NULL, &rc);
  ck_assert_int_eq(rc, CL_SUCCESS);
  ck_assert_int_eq(clEnqueueWriteBuffer(q, in, CL_TRUE, 64, sizeof input, input, 0, NULL, NULL),
                   CL_SUCCESS);
  ck_assert_msg(clcnn_session_set_input_buffer(s, "x", in, 64) == CLCNN_OK, "%s: %s", what,
                clcnn_session_error(s));
  /* The session copied the input: overwriting the buffer changes nothing. */
  ck_assert_int_eq(clEnqueueWriteBuffer(q, in, CL_TRUE, 64, sizeof x2, x2, 0, NULL, NULL),
                   CL_SUCCESS);
  ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "%s: %s", what, clcnn_session_error(s));
  check_run(what, 1, s, q, out, io, want);
  /* Each node ran where the hook sent it. */
  const clcnn_profile_entry *pe;
  int pc, nodes = 0;
  ck_assert_int_eq(clcnn_session_profile(s, &pe, &pc), CLCNN_OK);
  for (int i = 0; i < pc; i++) {
    if (strcmp(pe[i].op, "Transfer") == 0) continue;
    nodes++;
    bool cpu = false;
    for (const int *op = refused; *op >= 0; op++)
      if (strncmp(pe[i].op, op_name(*op), strlen(op_name(*op))) == 0) cpu = true;
    ck_assert_msg(strcmp(pe[i].backend, cpu ? "cpu" : "opencl") == 0, "%s: %s (%s) ran on %s",
                  what, pe[i].node, pe[i].op, pe[i].backend);
  }
  ck_assert_int_eq(nodes, 3); /* Conv+Relu, Add, GlobalAveragePool */
  /* Again without setting the input: the same answer, not zeros. */
  ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "%s: %s", what, clcnn_session_error(s));
  check_run(what, 2, s, q, out, io, want);
  /* From host memory. */
  clcnn_tensor t = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4, .dims = {1, 4, 9, 9}, .data = input};
  ck_assert_int_eq(clcnn_session_set_input(s, "x", &t), CLCNN_OK);
  ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "%s: %s", what, clcnn_session_error(s));
  check_run(what, 3, s, q, out, io, want);
  /* From the buffer again, which now holds x2; the buffer is released at
   * once, before the run. */
  ck_assert_int_eq(clcnn_session_set_input_buffer(s, "x", in, 64), CLCNN_OK);
  clReleaseMemObject(in);
  ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "%s: %s", what, clcnn_session_error(s));
  check_run(what, 4, s, q, out, io, want2);
  ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "%s: %s", what, clcnn_session_error(s));
  check_run(what, 5, s, q, out, io, want2);
  clcnn_session_free(s);
  ck_assert_int_eq(clFinish(q), CL_SUCCESS);
  clReleaseMemObject(out);
  clReleaseCommandQueue(q);
  clReleaseContext(cl_ctx);
  for (int o = 0; o < io->nout; o++) free(want[o]), free(want2[o]);
}

static const int refuse_none[] = {-1};
static const int refuse_add[] = {CLCNN_OP_ADD, -1};          /* x read on both backends */
static const int refuse_readers[] = {CLCNN_OP_CONV, CLCNN_OP_ADD, -1}; /* x read on the CPU only */
static const int refuse_gap[] = {CLCNN_OP_GLOBALAVERAGEPOOL, -1};     /* y made on the CPU */
static const int refuse_all[] = {CLCNN_OP_CONV, CLCNN_OP_ADD, CLCNN_OP_GLOBALAVERAGEPOOL, -1};

START_TEST(interop_input_read_on_cpu) {
  interop_case(model, &one_output, refuse_add, "Add on the CPU");
  interop_case(model, &one_output, refuse_readers, "Conv and Add on the CPU");
}
END_TEST

START_TEST(interop_output_made_on_cpu) {
  interop_case(model, &one_output, refuse_gap, "GlobalAveragePool on the CPU");
  interop_case(model, &one_output, refuse_all, "every node on the CPU");
}
END_TEST

START_TEST(interop_two_outputs) {
  clcnn_model *m2 = make_model2(ctx);
  interop_case(m2, &two_outputs, refuse_none, "two outputs");
  interop_case(m2, &two_outputs, refuse_add, "two outputs, Add on the CPU");
  interop_case(m2, &two_outputs, refuse_gap, "two outputs, GlobalAveragePool on the CPU");
  interop_case(m2, &two_outputs, refuse_readers, "two outputs, Conv and Add on the CPU");
  clcnn_model_free(m2);
}
END_TEST

START_TEST(interop_out_of_order_queue_refused) {
  cl_platform_id platform;
  cl_device_id device;
  ck_assert_int_eq(clGetPlatformIDs(1, &platform, NULL), CL_SUCCESS);
  ck_assert_int_eq(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL), CL_SUCCESS);
  cl_command_queue_properties props = 0;
  ck_assert_int_eq(clGetDeviceInfo(device, CL_DEVICE_QUEUE_PROPERTIES, sizeof props, &props, NULL),
                   CL_SUCCESS);
  if (!(props & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE)) {
    printf("note: the device has no out-of-order queues; that case is skipped\n");
    return;
  }
  cl_int rc;
  cl_context cl_ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &rc);
  ck_assert_int_eq(rc, CL_SUCCESS);
  cl_command_queue q =
      clCreateCommandQueue(cl_ctx, device, CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &rc);
  ck_assert_int_eq(rc, CL_SUCCESS);
  clcnn_session *s = (clcnn_session *)&s; /* must be set to NULL */
  ck_assert_int_eq(clcnn_session_create_opencl(model, NULL, cl_ctx, q, NULL, 0, &s),
                   CLCNN_ERROR_INVALID_ARGUMENT);
  ck_assert_ptr_null(s);
  ck_assert_msg(strlen(clcnn_last_error()) > 0, "no message");
  /* Still the caller's: the queue works. */
  ck_assert_int_eq(clFinish(q), CL_SUCCESS);
  clReleaseCommandQueue(q);
  clReleaseContext(cl_ctx);
}
END_TEST

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strstr(e->d_name, ".bin")) n++;
  closedir(d);
  return n;
}

/* A session of `m` on the device, its program counts, and its output. */
static clcnn_session *device_session(const clcnn_model *m, int *compiled, int *loaded) {
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "opencl";
  clcnn_session *s;
  ck_assert_msg(clcnn_session_create(m, &so, NULL, 0, &s) == CLCNN_OK, "%s", clcnn_last_error());
  ck_assert_int_eq(clcnn_session_programs(s, compiled, loaded), CLCNN_OK);
  return s;
}

static clcnn_context *context_on(const char *dir) {
  clcnn_options o;
  clcnn_options_default(&o);
  o.cache_dir = dir;
  clcnn_context *c;
  ck_assert_int_eq(clcnn_context_create(&o, &c), CLCNN_OK);
  return c;
}

/* Cache entries are written after a session's first run (in the background)
 * or when the context goes, never while the session is created; the next
 * context loads every program from them. */
START_TEST(cache_cold_then_warm) {
  char dir[] = "/tmp/clcnn-test-cold-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  clcnn_context *c1 = context_on(dir);
  clcnn_model *m1 = make_model(c1);
  int compiled = -1, loaded = -1;
  clcnn_session *s = device_session(m1, &compiled, &loaded);
  ck_assert_int_gt(compiled, 0);
  ck_assert_int_eq(loaded, 0);
  ck_assert_int_eq(count_entries(dir), 0); /* nothing fetched while creating */
  float a[4], b[4];
  run_and_get(s, a);
  clcnn_session_free(s);
  clcnn_model_free(m1);
  clcnn_context_free(c1); /* finishes the writes */
  ck_assert_int_eq(count_entries(dir), compiled);
  struct stat sb;
  ck_assert_int_eq(stat(dir, &sb), 0);
  ck_assert_int_eq(sb.st_mode & 0777, 0700);

  /* Warm: a new context loads every program, compiles none. */
  clcnn_context *c2 = context_on(dir);
  clcnn_model *m2 = make_model(c2);
  int c2c = -1, c2l = -1;
  s = device_session(m2, &c2c, &c2l);
  ck_assert_int_eq(c2c, 0);
  ck_assert_int_eq(c2l, compiled);
  run_and_get(s, b);
  for (int i = 0; i < 4; i++) ck_assert_float_eq(a[i], b[i]);
  /* A second session of the context finds them in memory. */
  clcnn_session *s2 = device_session(m2, &c2c, &c2l);
  ck_assert_int_eq(c2c + c2l, 0);
  clcnn_session_free(s2);
  clcnn_session_free(s);
  clcnn_model_free(m2);
  clcnn_context_free(c2);
  ck_assert_int_eq(count_entries(dir), compiled); /* no new entries */

  /* A session that never ran: its entries are written when its context goes. */
  char dir3[] = "/tmp/clcnn-test-norun-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir3));
  clcnn_context *c3 = context_on(dir3);
  clcnn_model *m3 = make_model(c3);
  s = device_session(m3, &c2c, &c2l);
  ck_assert_int_eq(count_entries(dir3), 0);
  clcnn_session_free(s);
  clcnn_model_free(m3);
  clcnn_context_free(c3);
  ck_assert_int_eq(count_entries(dir3), c2c);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, dir3);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A second session of a model on a device shares the first one's programs
 * and weights: it adds only its activations, finds every program in memory,
 * and keeps working when the first is freed. */
START_TEST(sessions_share_programs_and_weights) {
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "opencl";
  clcnn_session *a = NULL, *b = NULL;
  ck_assert_msg(clcnn_session_create(model, &so, NULL, 0, &a) == CLCNN_OK, "%s",
                clcnn_last_error());
  int entries = count_entries(cache_dir);
  size_t dev_a = 0, shared_a = 0, dev_b = 0, shared_b = 0;
  ck_assert_int_eq(clcnn_session_memory(a, NULL, &dev_a), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_memory_shared(a, &shared_a), CLCNN_OK);
  /* The weights (4x4x3x3 + 4 floats, perhaps repacked) are in the shared part. */
  ck_assert_uint_ge(shared_a, (4 * 4 * 9 + 4) * sizeof(float));
  ck_assert_uint_le(shared_a, dev_a);
  ck_assert_msg(clcnn_session_create(model, &so, NULL, 0, &b) == CLCNN_OK, "%s",
                clcnn_last_error());
  ck_assert_int_eq(clcnn_session_memory(b, NULL, &dev_b), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_memory_shared(b, &shared_b), CLCNN_OK);
  ck_assert_uint_eq(shared_b, shared_a);
  ck_assert_uint_eq(dev_b, dev_a);
  ck_assert_int_eq(count_entries(cache_dir), entries); /* nothing built anew */
  float x[4], y[4], want[4];
  run_and_get(a, x);
  clcnn_session_free(a); /* the weights belong to the model, not to a */
  run_and_get(b, y);
  reference(want);
  for (int i = 0; i < 4; i++) {
    ck_assert_float_eq(x[i], y[i]);
    ck_assert_msg(fabsf(y[i] - want[i]) <= 1e-4f * (1 + fabsf(want[i])), "%d: %f vs %f", i, y[i],
                  want[i]);
  }
  clcnn_session_free(b);
  /* A session of another model does not see these weights. */
  clcnn_model *m2 = make_model(ctx);
  ck_assert_int_eq(clcnn_session_create(m2, &so, NULL, 0, &a), CLCNN_OK);
  ck_assert_int_eq(clcnn_session_memory_shared(a, &shared_b), CLCNN_OK);
  ck_assert_uint_eq(shared_b, shared_a); /* its own store, just as large */
  run_and_get(a, y);
  for (int i = 0; i < 4; i++) ck_assert_float_eq(x[i], y[i]);
  clcnn_session_free(a);
  clcnn_model_free(m2);
}
END_TEST

/* Sessions of one model on one device, created and run on several threads
 * at once: the shared context, programs and weights are taken under locks. */
typedef struct thread_job {
  float want[4];
  int runs, ok;
  char why[512];
} thread_job;

static void *session_thread(void *arg) {
  thread_job *j = arg;
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "opencl";
  clcnn_session *s = NULL;
  if (clcnn_session_create(model, &so, NULL, 0, &s)) {
    snprintf(j->why, sizeof j->why, "create: %s", clcnn_last_error());
    return NULL;
  }
  clcnn_tensor t = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4, .dims = {1, 4, 9, 9}, .data = input};
  j->ok = 1;
  for (int r = 0; r < j->runs && j->ok; r++) {
    clcnn_tensor y;
    if (clcnn_session_set_input(s, "x", &t) || clcnn_session_run(s) ||
        clcnn_session_output(s, "y", &y)) {
      snprintf(j->why, sizeof j->why, "run %d: %s", r, clcnn_session_error(s));
      j->ok = 0;
      break;
    }
    for (int i = 0; i < 4; i++)
      if (!(fabsf(((float *)y.data)[i] - j->want[i]) <= 1e-4f * (1 + fabsf(j->want[i])))) {
        snprintf(j->why, sizeof j->why, "run %d, element %d: %f vs %f", r, i,
                 ((float *)y.data)[i], j->want[i]);
        j->ok = 0;
      }
  }
  clcnn_session_free(s);
  return NULL;
}

START_TEST(sessions_on_threads) {
  enum { THREADS = 6 };
  pthread_t th[THREADS];
  thread_job jobs[THREADS];
  float want[4];
  reference(want);
  for (int i = 0; i < THREADS; i++) {
    memset(&jobs[i], 0, sizeof jobs[i]);
    memcpy(jobs[i].want, want, sizeof want);
    jobs[i].runs = 20;
    ck_assert_int_eq(pthread_create(&th[i], NULL, session_thread, &jobs[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < THREADS; i++) ck_assert_msg(jobs[i].ok, "thread %d: %s", i, jobs[i].why);
}
END_TEST

START_TEST(kernel_build_failure_falls_back) {
  /* A kernel directory whose every family file but common.cl fails to compile. */
  char dir[64];
  ck_assert(kernel_dir_make(src_dir, "*", dir, sizeof dir));
  setenv("CLCNN_KERNEL_DIR", dir, 1);
  clcnn_options o;
  clcnn_options_default(&o);
  o.disable_cache = 1;
  clcnn_context *c2;
  ck_assert_int_eq(clcnn_context_create(&o, &c2), CLCNN_OK);
  clcnn_model *m2 = make_model(c2);
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "opencl";
  clcnn_session *s;
  /* Not strict: every node falls back to the CPU backend; results are right. */
  ck_assert_msg(clcnn_session_create(m2, &so, NULL, 0, &s) == CLCNN_OK, "%s", clcnn_last_error());
  float got[4], want[4];
  run_and_get(s, got);
  clcnn_session_free(s);
  reference(want);
  for (int i = 0; i < 4; i++) ck_assert(fabsf(got[i] - want[i]) <= 1e-4f * (1 + fabsf(want[i])));
  /* Strict: refused, with the build log in the message. */
  so.strict = 1;
  ck_assert_int_eq(clcnn_session_create(m2, &so, NULL, 0, &s), CLCNN_ERROR_KERNEL_BUILD);
  ck_assert_ptr_null(s);
  ck_assert_msg(strstr(clcnn_last_error(), "error") != NULL, "%s", clcnn_last_error());
  unsetenv("CLCNN_KERNEL_DIR");
  clcnn_model_free(m2);
  clcnn_context_free(c2);
  kernel_dir_remove(dir);
}
END_TEST

START_TEST(allocation_failure_injected) {
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "opencl";
  /* Fail the 1st, 2nd, ... device allocation until creation needs fewer. */
  int failures = 0;
  for (int nth = 1; nth < 64; nth++) {
    ocl_test_fail_allocation(nth);
    clcnn_session *s = NULL;
    clcnn_status st = clcnn_session_create(model, &so, NULL, 0, &s);
    ocl_test_fail_allocation(0);
    if (st == CLCNN_OK) {
      float got[4];
      run_and_get(s, got);
      clcnn_session_free(s);
      break;
    }
    ck_assert_msg(st == CLCNN_ERROR_OUT_OF_MEMORY, "allocation %d: status %d: %s", nth, st,
                  clcnn_last_error());
    ck_assert_ptr_null(s);
    ck_assert(strlen(clcnn_last_error()) > 0);
    failures++;
  }
  ck_assert_int_gt(failures, 0);
}
END_TEST

/* Every OpenCL call of each kind fails once, in turn (the n-th buffer
 * creation, program build, kernel enqueue, transfer), in session creation
 * and in runs of a two-output model whose Add runs on the CPU backend (so
 * that transfers cross). Each gives a clear status and message or, for a
 * program build, a fallback to the CPU backend with the right answer; a
 * session whose run failed runs right the next time; nothing leaks (ASan in
 * the sanitize suite); the next session is right. */
START_TEST(faults_injected_at_every_site) {
  static const char *const kinds[] = {"buffer creation", "program build", "kernel enqueue",
                                      "transfer"};
  static const int refused[] = {CLCNN_OP_ADD, -1};
  clcnn_model *m = make_model2(ctx);
  float y_want[4], r_want[NX], *want[2] = {y_want, r_want};
  cpu_outputs(m, &two_outputs, input, want);
  clcnn_model_free(m);
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "opencl";
  sched_set_test_refuse(refuse_ops, (void *)refused);
  for (int kind = 0; kind < OCL_FAULT_KINDS; kind++) {
    int injected = 0;
    for (int nth = 1; nth < 400; nth++) {
      char what[128];
      snprintf(what, sizeof what, "%s #%d", kinds[kind], nth);
      /* A context of its own each time: programs and weights are built and
       * uploaded again, so every site of creation is reached. */
      clcnn_options co;
      clcnn_options_default(&co);
      co.cache_dir = cache_dir;
      clcnn_context *c2;
      ck_assert_int_eq(clcnn_context_create(&co, &c2), CLCNN_OK);
      clcnn_model *m2 = make_model2(c2);
      ocl_test_fail((ocl_fault)kind, nth);
      clcnn_session *s = NULL;
      clcnn_status st = clcnn_session_create(m2, &so, NULL, 0, &s);
      clcnn_tensor t = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4, .dims = {1, 4, 9, 9},
                        .data = input};
      bool failed_run = false;
      for (int r = 0; st == CLCNN_OK && r < 3; r++) {
        clcnn_status rs = clcnn_session_set_input(s, "x", &t);
        if (rs == CLCNN_OK) rs = clcnn_session_run(s);
        for (int o = 0; rs == CLCNN_OK && o < 2; o++) {
          clcnn_tensor y;
          rs = clcnn_session_output(s, two_outputs.names[o], &y);
          if (rs == CLCNN_OK)
            expect_close(what, r, two_outputs.names[o], y.data, want[o], two_outputs.counts[o]);
        }
        if (rs != CLCNN_OK) {
          ck_assert_msg(rs == CLCNN_ERROR_DEVICE || rs == CLCNN_ERROR_OUT_OF_MEMORY,
                        "%s: run %d: status %d: %s", what, r, rs, clcnn_session_error(s));
          ck_assert_msg(strlen(clcnn_session_error(s)) > 0, "%s: no message", what);
          failed_run = true;
        }
      }
      bool happened = ocl_test_fail_pending((ocl_fault)kind) == 0;
      ocl_test_fail((ocl_fault)kind, 0);
      if (st != CLCNN_OK) {
        ck_assert_msg(st == CLCNN_ERROR_OUT_OF_MEMORY || st == CLCNN_ERROR_DEVICE ||
                          st == CLCNN_ERROR_KERNEL_BUILD,
                      "%s: create: status %d: %s", what, st, clcnn_last_error());
        ck_assert_ptr_null(s);
        ck_assert_msg(strlen(clcnn_last_error()) > 0, "%s: no message", what);
      } else if (failed_run) { /* the failure passed: the same session runs right */
        ck_assert_int_eq(clcnn_session_set_input(s, "x", &t), CLCNN_OK);
        ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "%s: rerun: %s", what,
                      clcnn_session_error(s));
        clcnn_tensor y;
        ck_assert_int_eq(clcnn_session_output(s, "r", &y), CLCNN_OK);
        expect_close(what, 9, "r", y.data, r_want, NX);
      }
      clcnn_session_free(s);
      clcnn_model_free(m2);
      clcnn_context_free(c2);
      if (!happened) break; /* fewer calls of this kind than nth: every site was hit */
      injected++;
    }
    ck_assert_msg(injected > 0, "no %s happened at all", kinds[kind]);
    printf("faults: %d %s sites failed in turn\n", injected, kinds[kind]);
  }
  sched_set_test_refuse(NULL, NULL);
}
END_TEST

/* Kernels index buffers with 32 bits: a tensor that ends past the limit
 * (2^31 elements, lowered here by the test hook) is refused when the session
 * is created, naming the node; at the limit it runs. Relu -> Relu on N
 * floats (N * 4 a multiple of the arena's 256-byte alignment): x, the
 * intermediate and y are all live at the second node, so the arena holds
 * them at element offsets 0, N and 2N, and the last ends at element 3N. */
/* Reshape, Flatten, Squeeze and Unsqueeze share their input's buffer (the
 * memory plan's views): a chain of them, a view whose input is read again
 * after it (by Neg, so both live together), a view that is a graph output, a
 * view of the graph input, and (forced) a view of a value that crossed from
 * the device to the CPU backend; on the CPU backend and on the device, each
 * session run twice, against values computed here. */
START_TEST(views_share_buffers) {
  enum { N = 2 * 3 * 4 };
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 3, (int64_t[]){2, 3, 4});
  mb_init_i64(b, "s6x4", 1, (int64_t[]){2}, (const int64_t[]){6, 4});
  mb_init_i64(b, "ax0", 1, (int64_t[]){1}, (const int64_t[]){0});
  mb_node(b, "Sigmoid", "x", "sg", 0, NULL);
  mb_node(b, "Reshape", "sg,s6x4", "r", 0, NULL);        /* 6x4 */
  mb_node(b, "Unsqueeze", "r,ax0", "u", 0, NULL);        /* 1x6x4 */
  mb_node(b, "Flatten", "u", "f", 1, (mb_attr[]){MB_INT("axis", 1)}); /* 1x24 */
  mb_node(b, "Relu", "f", "y1", 0, NULL);
  mb_node(b, "Neg", "sg", "y2", 0, NULL);                /* sg read after its views */
  mb_node(b, "Squeeze", "u,ax0", "y3", 0, NULL);         /* a view as a graph output */
  mb_node(b, "Reshape", "x,s6x4", "xr", 0, NULL);        /* a view of the graph input */
  mb_node(b, "Abs", "xr", "y4", 0, NULL);
  mb_output(b, "y1");
  mb_output(b, "y2");
  mb_output(b, "y3");
  mb_output(b, "y4");
  clcnn_model *m = load_built_in(ctx, b);
  float x[N], sg[N];
  for (int i = 0; i < N; i++) {
    x[i] = (float)((i * 7) % 11 - 5) / 2.0f;
    sg[i] = 1.0f / (1.0f + expf(-x[i]));
  }
  static const int refuse_unsqueeze[] = {CLCNN_OP_UNSQUEEZE, -1}; /* on the CPU backend */
  const char *devices[3] = {"cpu", "opencl", "opencl"};
  for (int d = 0; d < 3; d++) {
    clcnn_session_options so;
    clcnn_session_options_default(&so);
    so.device = devices[d];
    if (d == 2) sched_set_test_refuse(refuse_ops, (void *)refuse_unsqueeze);
    clcnn_session *s = NULL;
    ck_assert_msg(clcnn_session_create(m, &so, NULL, 0, &s) == CLCNN_OK, "%s", clcnn_last_error());
    sched_set_test_refuse(NULL, NULL);
    for (int run = 0; run < 2; run++) {
      clcnn_tensor t = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 3, .dims = {2, 3, 4}, .data = x};
      ck_assert_int_eq(clcnn_session_set_input(s, "x", &t), CLCNN_OK);
      ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "%s", clcnn_session_error(s));
      clcnn_tensor y[4];
      static const char *names[4] = {"y1", "y2", "y3", "y4"};
      for (int k = 0; k < 4; k++) ck_assert_int_eq(clcnn_session_output(s, names[k], &y[k]), CLCNN_OK);
      ck_assert_int_eq(y[0].rank, 2);
      ck_assert_int_eq(y[0].dims[1], N);
      ck_assert_int_eq(y[2].rank, 2);
      ck_assert_int_eq(y[2].dims[0], 6);
      for (int i = 0; i < N; i++) {
        const float *y1 = y[0].data, *y2 = y[1].data, *y3 = y[2].data, *y4 = y[3].data;
        ck_assert_msg(fabsf(y1[i] - sg[i]) < 1e-5f, "%s run %d: y1[%d] %g, want %g", devices[d], run,
                      i, y1[i], sg[i]);
        ck_assert_msg(fabsf(y2[i] + sg[i]) < 1e-5f, "%s: y2[%d]", devices[d], i);
        ck_assert_msg(fabsf(y3[i] - sg[i]) < 1e-5f, "%s: y3[%d]", devices[d], i);
        ck_assert_msg(y4[i] == fabsf(x[i]), "%s: y4[%d]", devices[d], i);
      }
    }
    clcnn_session_free(s);
  }
  clcnn_model_free(m);
}
END_TEST

/* Concat in place: a batch-one Concat along channels whose inputs the memory
 * plan puts inside its output (one of them also read after it), a dense
 * block's pair of Concats (the shorter a view of the longer's start), next to
 * Concats that must copy (batch 2; the same input twice; a graph input; a
 * value already placed by an earlier Concat), on the CPU backend, the device,
 * and the device with the Concats forced onto the CPU backend; two runs
 * each, against values computed here. */
START_TEST(concat_in_place) {
  enum { C = 4, HW = 16, N1 = C * HW }; /* 256 bytes an input: aligned on every backend */
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, C, 4, 4});
  mb_input(b, "z", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){2, C, 4, 4});
  mb_node(b, "Relu", "x", "a", 0, NULL);
  mb_node(b, "Sigmoid", "x", "s", 0, NULL);
  mb_node(b, "Abs", "x", "t", 0, NULL);
  mb_node(b, "Concat", "a,s,t", "c1", 1, (mb_attr[]){MB_INT("axis", 1)});  /* in place */
  mb_node(b, "Neg", "s", "y2", 0, NULL);                                    /* s read after */
  mb_node(b, "Concat", "a,a", "c2", 1, (mb_attr[]){MB_INT("axis", 1)});    /* twice: copies */
  mb_node(b, "Concat", "x,t", "c3", 1, (mb_attr[]){MB_INT("axis", 1)});    /* graph input */
  mb_node(b, "Relu", "z", "zr", 0, NULL);
  mb_node(b, "Concat", "zr,zr", "c4", 1, (mb_attr[]){MB_INT("axis", 1)});  /* batch 2 */
  mb_node(b, "Exp", "c1", "y1", 0, NULL);
  /* A dense block: d1 is the start of d2, and f2 (read from d1) goes after
   * it in d2's buffer; both Concats in place, d1 a view of d2's first half. */
  mb_node(b, "Tanh", "x", "p", 0, NULL);
  mb_node(b, "Neg", "p", "q", 0, NULL);
  mb_node(b, "Concat", "p,q", "d1", 1, (mb_attr[]){MB_INT("axis", 1)});
  mb_node(b, "Sigmoid", "d1", "f2", 0, NULL);
  mb_node(b, "Concat", "p,q,f2", "d2", 1, (mb_attr[]){MB_INT("axis", 1)});
  mb_node(b, "Exp", "d2", "y3", 0, NULL);
  const char *outs[] = {"y1", "y2", "c2", "c3", "c4", "d1", "y3"};
  enum { NOUT = sizeof outs / sizeof outs[0] };
  for (int i = 0; i < NOUT; i++) mb_output(b, outs[i]);
  clcnn_model *m = load_built_in(ctx, b);
  float x[N1], z[2 * N1], a[N1], sg[N1], t[N1];
  for (int i = 0; i < N1; i++) {
    x[i] = (float)((i * 5) % 13 - 6) / 3.0f;
    a[i] = x[i] > 0 ? x[i] : 0;
    sg[i] = 1.0f / (1.0f + expf(-x[i]));
    t[i] = fabsf(x[i]);
  }
  for (int i = 0; i < 2 * N1; i++) z[i] = (float)((i * 3) % 7 - 3);
  static const int refuse_concat[] = {CLCNN_OP_CONCAT, -1};
  const char *devices[3] = {"cpu", "opencl", "opencl"};
  for (int d = 0; d < 3; d++) {
    clcnn_session_options so;
    clcnn_session_options_default(&so);
    so.device = devices[d];
    so.profile = 1;
    if (d == 2) sched_set_test_refuse(refuse_ops, (void *)refuse_concat);
    clcnn_session *s = NULL;
    ck_assert_msg(clcnn_session_create(m, &so, NULL, 0, &s) == CLCNN_OK, "%s", clcnn_last_error());
    sched_set_test_refuse(NULL, NULL);
    for (int run = 0; run < 2; run++) {
      clcnn_tensor tx = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4, .dims = {1, C, 4, 4}, .data = x};
      clcnn_tensor tz = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4, .dims = {2, C, 4, 4}, .data = z};
      ck_assert_int_eq(clcnn_session_set_input(s, "x", &tx), CLCNN_OK);
      ck_assert_int_eq(clcnn_session_set_input(s, "z", &tz), CLCNN_OK);
      ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "%s", clcnn_session_error(s));
      clcnn_tensor y[NOUT];
      for (int k = 0; k < NOUT; k++)
        ck_assert_int_eq(clcnn_session_output(s, outs[k], &y[k]), CLCNN_OK);
      const float *y1 = y[0].data, *y2 = y[1].data, *c2 = y[2].data, *c3 = y[3].data,
                  *c4 = y[4].data, *d1 = y[5].data, *y3 = y[6].data;
      for (int i = 0; i < N1; i++) {
        const float th = tanhf(x[i]);
        const float parts[4] = {th, -th, 1.0f / (1.0f + expf(-th)), 1.0f / (1.0f + expf(th))};
        ck_assert_msg(fabsf(d1[i] - th) < 1e-6f && fabsf(d1[N1 + i] + th) < 1e-6f,
                      "%s run %d: d1[%d]", devices[d], run, i);
        for (int p = 0; p < 4; p++)
          ck_assert_msg(fabsf(y3[p * N1 + i] - expf(parts[p])) < 1e-4f * expf(parts[p]),
                        "%s run %d: y3[%d] = %g, expected %g", devices[d], run, p * N1 + i,
                        y3[p * N1 + i], expf(parts[p]));
      }
      for (int i = 0; i < N1; i++) {
        const float parts[3] = {a[i], sg[i], t[i]};
        for (int p = 0; p < 3; p++)
          ck_assert_msg(fabsf(y1[p * N1 + i] - expf(parts[p])) < 1e-4f * expf(parts[p]),
                        "%s run %d: y1[%d]", devices[d], run, p * N1 + i);
        ck_assert_msg(fabsf(y2[i] + sg[i]) < 1e-6f, "%s: y2[%d]", devices[d], i);
        ck_assert_msg(c2[i] == a[i] && c2[N1 + i] == a[i], "%s: c2[%d]", devices[d], i);
        ck_assert_msg(c3[i] == x[i] && c3[N1 + i] == t[i], "%s: c3[%d]", devices[d], i);
      }
      for (int n = 0; n < 2; n++)
        for (int i = 0; i < N1; i++) {
          float r = z[n * N1 + i] > 0 ? z[n * N1 + i] : 0;
          ck_assert_msg(c4[n * 2 * N1 + i] == r && c4[n * 2 * N1 + N1 + i] == r, "%s: c4",
                        devices[d]);
        }
    }
    /* Exactly the first and the dense block's two ran in place (the
     * profile says so). */
    const clcnn_profile_entry *e;
    int n = 0, in_place = 0;
    ck_assert_int_eq(clcnn_session_profile(s, &e, &n), CLCNN_OK);
    for (int i = 0; i < n; i++) in_place += strstr(e[i].op, "(in place)") != NULL;
    ck_assert_msg(in_place == 3, "%s: %d Concats in place, expected 3", devices[d], in_place);
    clcnn_session_free(s);
  }
  clcnn_model_free(m);
}
END_TEST

/* Residual connections: Conv followed by an Add of a value of its shape
 * becomes one Conv+Add(+Relu) in every session (graph_fuse_residual)
 * on the oneDNN path (3x3, 5.3M multiply-adds) and the SGEMM path (1x1), and
 * stays a separate Add where it must: the Conv's output is also a graph
 * output, the other operand broadcasts. Against convolutions computed here,
 * on the CPU backend and on the device (whose direct and 1x1 GEMM kernels add
 * the residual in their epilogue), twice. */
enum { RC = 32, RH = 24, RP = RH * RH };

static float res_w3(int m, int c, int k) { return (float)((m * 7 + c * 3 + k * 5) % 17 - 8) / 64.0f; }
static float res_w1(int m, int c) { return (float)((m * 5 + c * 11) % 13 - 6) / 32.0f; }

START_TEST(residual_fused) {
  static float w3[RC * RC * 9], b3[RC], w1[RC * RC], rb[RC], x[RC * RP];
  for (int m = 0; m < RC; m++) {
    for (int c = 0; c < RC; c++) {
      for (int k = 0; k < 9; k++) w3[(m * RC + c) * 9 + k] = res_w3(m, c, k);
      w1[m * RC + c] = res_w1(m, c);
    }
    b3[m] = (float)(m % 5) / 4.0f - 0.5f;
    rb[m] = (float)(m % 3) - 1.0f;
  }
  for (int i = 0; i < RC * RP; i++) x[i] = (float)((i * 13) % 29 - 14) / 7.0f;
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 4, (int64_t[]){1, RC, RH, RH});
  mb_init_f32(b, "w3", 4, (int64_t[]){RC, RC, 3, 3}, w3);
  mb_init_f32(b, "b3", 1, (int64_t[]){RC}, b3);
  mb_init_f32(b, "w1", 4, (int64_t[]){RC, RC, 1, 1}, w1);
  mb_init_f32(b, "rb", 4, (int64_t[]){1, RC, 1, 1}, rb);
  mb_attr pad1[] = {MB_INTS("pads", 1, 1, 1, 1)};
  mb_node(b, "Conv", "x,w3,b3", "t1", 1, pad1);
  mb_node(b, "Add", "t1,x", "s1", 0, NULL); /* fused, with the Relu */
  mb_node(b, "Relu", "s1", "y1", 0, NULL);
  mb_node(b, "Conv", "x,w1", "t2", 0, NULL);
  mb_node(b, "Add", "x,t2", "y2", 0, NULL); /* fused, residual first */
  mb_node(b, "Conv", "x,w3,b3", "c3", 1, pad1);
  mb_node(b, "Add", "c3,x", "y3", 0, NULL); /* c3 is an output: not fused */
  mb_node(b, "Conv", "x,w1", "t4", 0, NULL);
  mb_node(b, "Add", "t4,rb", "y4", 0, NULL); /* broadcast: not fused */
  const char *outs[] = {"y1", "y2", "c3", "y3", "y4"};
  for (int i = 0; i < 5; i++) mb_output(b, outs[i]);
  clcnn_model *m = load_built_in(ctx, b);
  /* The convolutions, in double. */
  static float conv3[RC * RP], conv1[RC * RP];
  for (int o = 0; o < RC; o++)
    for (int py = 0; py < RH; py++)
      for (int px = 0; px < RH; px++) {
        double a3 = b3[o], a1 = 0;
        for (int c = 0; c < RC; c++) {
          a1 += (double)w1[o * RC + c] * x[c * RP + py * RH + px];
          for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
              int iy = py + ky - 1, ix = px + kx - 1;
              if (iy < 0 || iy >= RH || ix < 0 || ix >= RH) continue;
              a3 += (double)w3[(o * RC + c) * 9 + ky * 3 + kx] * x[c * RP + iy * RH + ix];
            }
        }
        conv3[o * RP + py * RH + px] = (float)a3;
        conv1[o * RP + py * RH + px] = (float)a1;
      }
  const char *devices[2] = {"cpu", "opencl"};
  for (int d = 0; d < 2; d++) {
    clcnn_session_options so;
    clcnn_session_options_default(&so);
    so.device = devices[d];
    so.profile = 1;
    clcnn_session *s = NULL;
    ck_assert_msg(clcnn_session_create(m, &so, NULL, 0, &s) == CLCNN_OK, "%s", clcnn_last_error());
    for (int run = 0; run < 2; run++) {
      clcnn_tensor tx = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4, .dims = {1, RC, RH, RH}, .data = x};
      ck_assert_int_eq(clcnn_session_set_input(s, "x", &tx), CLCNN_OK);
      ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "%s", clcnn_session_error(s));
      clcnn_tensor y[5];
      for (int k = 0; k < 5; k++) ck_assert_int_eq(clcnn_session_output(s, outs[k], &y[k]), CLCNN_OK);
      for (int i = 0; i < RC * RP; i++) {
        float r1 = conv3[i] + x[i] > 0 ? conv3[i] + x[i] : 0;
        float want[5] = {r1, x[i] + conv1[i], conv3[i], conv3[i] + x[i], conv1[i] + rb[i / RP]};
        for (int k = 0; k < 5; k++) {
          float got = ((const float *)y[k].data)[i];
          ck_assert_msg(fabsf(got - want[k]) <= 1e-4f * (1.0f + fabsf(want[k])),
                        "%s run %d: %s[%d] = %g, expected %g", devices[d], run, outs[k], i, got,
                        want[k]);
        }
      }
    }
    const clcnn_profile_entry *e;
    int n = 0, fused_relu = 0, fused = 0, adds = 0;
    ck_assert_int_eq(clcnn_session_profile(s, &e, &n), CLCNN_OK);
    for (int i = 0; i < n; i++) {
      const bool fused_node = !strncmp(e[i].op, "Conv+Add", 8);
      fused_relu += !strcmp(e[i].op, "Conv+Add+Relu");
      fused += !strcmp(e[i].op, "Conv+Add");
      adds += !strcmp(e[i].op, "Add");
      /* The device runs the fused nodes itself (no fallback). */
      if (d == 1 && fused_node)
        ck_assert_msg(!strncmp(e[i].backend, "opencl", 6), "%s ran on %s", e[i].op,
                      e[i].backend);
    }
    ck_assert_msg(fused_relu == 1 && fused == 1 && adds == 2,
                  "%s: %d Conv+Add+Relu, %d Conv+Add, %d Add (expected 1, 1, 2)", devices[d],
                  fused_relu, fused, adds);
    clcnn_session_free(s);
  }
  clcnn_model_free(m);
}
END_TEST

START_TEST(index_limit) {
  enum { N = 1024 };
  mb *b = mb_new(13);
  mb_input(b, "x", CLCNN_DTYPE_FLOAT32, 2, (int64_t[]){1, N});
  mb_node(b, "Relu", "x", "t", 0, NULL);
  mb_node(b, "Relu", "t", "y", 0, NULL);
  mb_output(b, "y");
  clcnn_model *m = load_built_in(ctx, b);
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "opencl";
  so.strict = 1;
  static float x[N];
  for (int i = 0; i < N; i++) x[i] = (float)(i % 7) - 3.0f;
  /* The smallest limit that fails. */
  ocl_test_index_limit(3 * N - 1);
  clcnn_session *s = NULL;
  ck_assert_int_eq(clcnn_session_create(m, &so, NULL, 0, &s), CLCNN_ERROR_UNSUPPORTED);
  ck_assert_ptr_null(s);
  const char *msg = clcnn_last_error();
  ck_assert_msg(strstr(msg, "(Relu) on opencl") && strstr(msg, "ends at element 3072") &&
                    strstr(msg, "32 bits, up to 3071 elements"),
                "%s", msg);
  /* The largest tensor end that passes: exactly at the limit. */
  ocl_test_index_limit(3 * N);
  ck_assert_msg(clcnn_session_create(m, &so, NULL, 0, &s) == CLCNN_OK, "%s", clcnn_last_error());
  ocl_test_index_limit(0);
  clcnn_tensor t = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 2, .dims = {1, N}, .data = x};
  ck_assert_int_eq(clcnn_session_set_input(s, "x", &t), CLCNN_OK);
  ck_assert_msg(clcnn_session_run(s) == CLCNN_OK, "%s", clcnn_session_error(s));
  clcnn_tensor y;
  ck_assert_int_eq(clcnn_session_output(s, "y", &y), CLCNN_OK);
  for (int i = 0; i < N; i++) ck_assert_float_eq(((const float *)y.data)[i], x[i] > 0 ? x[i] : 0);
  clcnn_session_free(s);
  /* Back to the real limit: the same session plan is far inside it. */
  ck_assert_int_eq(clcnn_session_create(m, &so, NULL, 0, &s), CLCNN_OK);
  clcnn_session_free(s);
  clcnn_model_free(m);
}
END_TEST

/* A device that goes away in the middle of a run (a GPU reset, an eGPU
 * unplugged): the run returns DEVICE with the driver's error and does not
 * hang, later runs fail the same way, the session frees cleanly, and once the
 * device is back a new session gives the right answer. */
START_TEST(device_lost_mid_run) {
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  so.device = "opencl";
  clcnn_session *s;
  ck_assert_msg(clcnn_session_create(model, &so, NULL, 0, &s) == CLCNN_OK, "%s",
                clcnn_last_error());
  float want[4], got[4];
  reference(want);
  run_and_get(s, got);
  ocl_test_device_lost(1); /* the second kernel of the next run finds it gone */
  clcnn_tensor t = {.dtype = CLCNN_DTYPE_FLOAT32, .rank = 4, .dims = {1, 4, 9, 9}, .data = input};
  ck_assert_int_eq(clcnn_session_set_input(s, "x", &t), CLCNN_OK);
  for (int r = 0; r < 2; r++) {
    ck_assert_int_eq(clcnn_session_run(s), CLCNN_ERROR_DEVICE);
    ck_assert_msg(strstr(clcnn_session_error(s), "CL_DEVICE_NOT_AVAILABLE"), "%s",
                  clcnn_session_error(s));
  }
  clcnn_tensor y;
  ck_assert_int_ne(clcnn_session_output(s, "y", &y), CLCNN_OK); /* nothing stale */
  clcnn_session_free(s);
  ocl_test_device_lost(-1);
  ck_assert_int_eq(clcnn_session_create(model, &so, NULL, 0, &s), CLCNN_OK);
  run_and_get(s, got);
  for (int i = 0; i < 4; i++) ck_assert_float_eq_tol(got[i], want[i], 1e-4f);
  clcnn_session_free(s);
}
END_TEST

START_TEST(no_such_device) {
  clcnn_session_options so;
  clcnn_session_options_default(&so);
  clcnn_session *s = NULL;
  so.device = "opencl:99";
  ck_assert_int_eq(clcnn_session_create(model, &so, NULL, 0, &s), CLCNN_ERROR_DEVICE);
  ck_assert_ptr_null(s);
  so.device = "a device nobody has";
  ck_assert_int_eq(clcnn_session_create(model, &so, NULL, 0, &s), CLCNN_ERROR_DEVICE);
  ck_assert(strlen(clcnn_last_error()) > 0);
}
END_TEST

int main(int argc, char **argv) {
  if (argc > 1) src_dir = argv[1];
  const ocl_device_info *devs;
  int count = 0;
  clcnn_err err = {0};
  if (ocl_devices_list(&devs, &count, &err) != CLCNN_OK || count == 0) {
    printf("SKIP: no OpenCL device (%s)\n", err.msg[0] ? err.msg : "none found");
    return 77;
  }
  if (!mkdtemp(cache_dir)) return 1;
  rmdir(cache_dir); /* the library must create it (0700) */
  Suite *s = suite_create("opencl");
  TCase *tc = tcase_create("opencl");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, interop_context_queue_buffers);
  tcase_add_test(tc, views_share_buffers);
  tcase_add_test(tc, concat_in_place);
  tcase_add_test(tc, residual_fused);
  tcase_add_test(tc, interop_input_read_on_cpu);
  tcase_add_test(tc, interop_output_made_on_cpu);
  tcase_add_test(tc, interop_two_outputs);
  tcase_add_test(tc, interop_out_of_order_queue_refused);
  tcase_add_test(tc, cache_cold_then_warm);
  tcase_add_test(tc, sessions_share_programs_and_weights);
  tcase_add_test(tc, sessions_on_threads);
  tcase_add_test(tc, kernel_build_failure_falls_back);
  tcase_add_test(tc, allocation_failure_injected);
  tcase_add_test(tc, faults_injected_at_every_site);
  tcase_add_test(tc, index_limit);
  tcase_add_test(tc, device_lost_mid_run);
  tcase_add_test(tc, no_such_device);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache_dir);
  if (system(cmd) != 0) return 1;
  return failed ? 1 : 0;
}
