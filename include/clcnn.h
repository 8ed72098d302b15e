/*
 * clcnn — run ONNX convolutional networks on any OpenCL device, with a CPU
 * backend that gives the same answers where a device or an operator is missing.
 *
 * The objects, from outside in:
 *   clcnn_context  options, allocator and log hooks; shared by every model and
 *                  session created from it. Thread-safe.
 *   clcnn_model    an imported ONNX graph. Immutable after load; may be used by
 *                  many threads at once (to create sessions, to query I/O).
 *   clcnn_session  a model bound to a device and to concrete input shapes: the
 *                  plan, the memory and the compiled kernels. One thread at a
 *                  time per session; many sessions may run at once.
 *
 * Every fallible call returns a clcnn_status (0 = ok, negative = error) and
 * writes its results through out-parameters. The library never prints, exits
 * or aborts. A detailed message (node, operator, raw OpenCL error, build log)
 * is kept: clcnn_last_error() gives the calling thread's last one, and
 * clcnn_session_error() the session's.
 */
#ifndef CLCNN_H
#define CLCNN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(CLCNN_BUILDING)
#define CLCNN_API __declspec(dllexport)
#elif defined(__GNUC__)
#define CLCNN_API __attribute__((visibility("default")))
#else
#define CLCNN_API
#endif

#define CLCNN_VERSION_MAJOR 0
#define CLCNN_VERSION_MINOR 1
#define CLCNN_VERSION_PATCH 0
/** Compile-time version: major * 10000 + minor * 100 + patch. */
#define CLCNN_VERSION_NUMBER \
  (CLCNN_VERSION_MAJOR * 10000 + CLCNN_VERSION_MINOR * 100 + CLCNN_VERSION_PATCH)
/** Largest tensor rank the library handles. */
#define CLCNN_MAX_RANK 8

/** Status codes. 0 is success; every error is negative. */
typedef enum clcnn_status {
  CLCNN_OK = 0,
  CLCNN_ERROR_INVALID_ARGUMENT = -1, /**< a NULL handle, a bad option, a wrong name */
  CLCNN_ERROR_IO = -2,               /**< a file could not be opened or read */
  CLCNN_ERROR_INVALID_MODEL = -3,    /**< malformed, truncated or inconsistent model */
  CLCNN_ERROR_UNSUPPORTED = -4,      /**< an operator, attribute or type we do not run */
  CLCNN_ERROR_SHAPE = -5,            /**< shapes that do not fit together */
  CLCNN_ERROR_OUT_OF_MEMORY = -6,    /**< host or device allocation failed */
  CLCNN_ERROR_DEVICE = -7,           /**< no such device, or an OpenCL call failed */
  CLCNN_ERROR_KERNEL_BUILD = -8,     /**< an OpenCL program failed to build */
  CLCNN_ERROR_NOT_FOUND = -9,        /**< no input/output with that name */
  CLCNN_ERROR_INTERNAL = -10,        /**< a bug in clcnn: please report it */
  CLCNN_ERROR_CANCELLED = -11        /**< the caller cancelled (a cancel flag, a progress callback) */
} clcnn_status;

/** Element types, with ONNX's TensorProto.DataType numbers. float32 is the
 *  compute type; int64 is used for shapes and indices.
 *
 *  float16 inputs and outputs are IEEE half floats (uint16_t bit patterns);
 *  a model's float16 weights are widened to float32 when it loads and its
 *  float16 values are computed in float32 (see clcnn_session_set_input()).
 *
 *  The 4- and 2-bit integer types (quantized models, opset 21 and later)
 *  hold ONE ELEMENT PER BYTE in clcnn tensors: the value itself, sign-extended
 *  for INT4 and INT2 (int8_t -8..7 and -2..1), zero-extended for UINT4 and
 *  UINT2 (uint8_t 0..15 and 0..3). ONNX's packed form (two or four elements
 *  per byte) is unpacked when a model or a TensorProto file is read and
 *  packed again when one is written. FLOAT4E2M1 is held the same way: one
 *  4-bit code (sign, 2 exponent bits, 1 mantissa bit) in the low bits of
 *  each byte.
 *
 *  The 8-bit float types (FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2,
 *  FLOAT8E5M2FNUZ, FLOAT8E8M0) and FLOAT4E2M1 are bit patterns as ONNX
 *  defines them; like float16 they are computed in float32 inside a model. */
typedef enum clcnn_dtype {
  CLCNN_DTYPE_UNDEFINED = 0,
  CLCNN_DTYPE_FLOAT32 = 1,
  CLCNN_DTYPE_UINT8 = 2,
  CLCNN_DTYPE_INT8 = 3,
  CLCNN_DTYPE_UINT16 = 4,
  CLCNN_DTYPE_INT16 = 5,
  CLCNN_DTYPE_INT32 = 6,
  CLCNN_DTYPE_INT64 = 7,
  CLCNN_DTYPE_BOOL = 9,
  CLCNN_DTYPE_FLOAT16 = 10,
  CLCNN_DTYPE_FLOAT64 = 11,
  CLCNN_DTYPE_UINT32 = 12,
  CLCNN_DTYPE_UINT64 = 13,
  CLCNN_DTYPE_BFLOAT16 = 16, /**< bfloat16 bit patterns; computed in float32, like float16 */
  CLCNN_DTYPE_FLOAT8E4M3FN = 17,   /**< 8-bit float, bias 7, no infinity, max 448 */
  CLCNN_DTYPE_FLOAT8E4M3FNUZ = 18, /**< bias 8, no infinity or -0, one NaN (0x80), max 240 */
  CLCNN_DTYPE_FLOAT8E5M2 = 19,     /**< bias 15, IEEE-like (infinity, NaNs), max 57344 */
  CLCNN_DTYPE_FLOAT8E5M2FNUZ = 20, /**< bias 16, no infinity or -0, one NaN (0x80), max 57344 */
  CLCNN_DTYPE_UINT4 = 21, /**< one element per byte, 0..15 */
  CLCNN_DTYPE_INT4 = 22,  /**< one element per byte, -8..7 */
  CLCNN_DTYPE_FLOAT4E2M1 = 23, /**< one 4-bit code per byte, bias 1, no infinity or NaN, max 6 */
  CLCNN_DTYPE_FLOAT8E8M0 = 24, /**< an exponent only: 2^(b - 127), 0xff is NaN */
  CLCNN_DTYPE_UINT2 = 25, /**< one element per byte, 0..3 */
  CLCNN_DTYPE_INT2 = 26   /**< one element per byte, -2..1 */
} clcnn_dtype;

/** Log levels passed to the log callback. */
typedef enum clcnn_log_level {
  CLCNN_LOG_ERROR = 0,
  CLCNN_LOG_WARNING = 1,
  CLCNN_LOG_INFO = 2,
  CLCNN_LOG_DEBUG = 3
} clcnn_log_level;

typedef struct clcnn_context clcnn_context;
typedef struct clcnn_model clcnn_model;
typedef struct clcnn_session clcnn_session;

/** Log callback. May be called from any thread that uses the library; the
 *  message is valid only during the call. */
typedef void (*clcnn_log_fn)(void *user, clcnn_log_level level, const char *message);

/** Allocator hooks for host memory. All three are set, or none (NULL: libc).
 *  They must be thread-safe. Large buffers are requested with 64-byte alignment. */
typedef struct clcnn_allocator {
  void *(*alloc)(void *user, size_t size, size_t alignment);
  void (*free)(void *user, void *ptr);
  void *user;
} clcnn_allocator;

/** Context options. Fill with clcnn_options_default() and then change fields;
 *  `size` lets fields be appended without breaking the ABI. */
typedef struct clcnn_options {
  size_t size;              /**< sizeof(clcnn_options), set by clcnn_options_default() */
  clcnn_allocator allocator;
  clcnn_log_fn log;         /**< NULL: no logging */
  void *log_user;
  clcnn_log_level log_level; /**< messages above this level are not passed on */
  int num_threads;          /**< CPU backend threads; 0 = one per core. The context
                                 keeps one pool of that many threads (the calling
                                 one included), started at its first CPU loop and
                                 shared by its sessions: a session that finds it
                                 busy with another runs on its own thread alone */
  const char *cache_dir;    /**< program binary cache; NULL = $CLCNN_CACHE_DIR,
                                 else $XDG_CACHE_HOME/clcnn, else ~/.cache/clcnn */
  int disable_cache;        /**< non-zero: never read or write the program cache */
} clcnn_options;

/** Fills `opts` with defaults (no hooks, all cores, default cache). */
CLCNN_API void clcnn_options_default(clcnn_options *opts);

/** Version of the library at run time, as "MAJOR.MINOR.PATCH". Static string. */
CLCNN_API const char *clcnn_version(void);

/** Static, human readable name of a status ("invalid model", ...). */
CLCNN_API const char *clcnn_status_str(clcnn_status status);

/** The calling thread's message for its last failed call into the library
 *  ("" when none). Valid until that thread's next failing call. */
CLCNN_API const char *clcnn_last_error(void);

/** Creates a context. `opts` may be NULL for defaults. The options' strings
 *  are copied. Errors: INVALID_ARGUMENT, OUT_OF_MEMORY. */
CLCNN_API clcnn_status clcnn_context_create(const clcnn_options *opts, clcnn_context **out);

/** Frees a context. Every model and session created from it must be freed
 *  first. NULL does nothing. */
CLCNN_API void clcnn_context_free(clcnn_context *ctx);

/* ---------------------------------------------------------------- devices */

/** What kind of device a clcnn_device_info describes. */
typedef enum clcnn_device_type {
  CLCNN_DEVICE_TYPE_CPU_BACKEND = 0,    /**< clcnn's own CPU backend (always there) */
  CLCNN_DEVICE_TYPE_GPU = 1,            /**< a discrete GPU */
  CLCNN_DEVICE_TYPE_INTEGRATED_GPU = 2, /**< a GPU that shares memory with the host */
  CLCNN_DEVICE_TYPE_CPU = 3,            /**< a CPU OpenCL driver (PoCL, Intel's CPU runtime) */
  CLCNN_DEVICE_TYPE_ACCELERATOR = 4,    /**< an FPGA, DSP, ... */
  CLCNN_DEVICE_TYPE_OTHER = 5
} clcnn_device_type;

/** One device a session can run on. Strings belong to the library and live
 *  as long as the process. */
typedef struct clcnn_device_info {
  /** Stable across runs and machines with the same setup:
   *  "PLATFORM|VENDOR|NAME|DRIVER" (with "|#K" for the K-th identical device),
   *  "cpu" for the CPU backend. clcnn_session_options.device accepts it. */
  const char *id;
  const char *name;
  const char *vendor;
  const char *platform;        /**< OpenCL platform name ("" for the CPU backend) */
  const char *driver_version;
  const char *opencl_version;  /**< "OpenCL 3.0 ..." ("" for the CPU backend) */
  clcnn_device_type type;
  int index;                   /**< N of "opencl:N" in this process; -1 for the CPU backend */
  int compute_units;           /**< OpenCL compute units; CPU cores for the CPU backend */
  uint64_t global_memory_bytes;
  uint64_t max_allocation_bytes; /**< the largest single buffer */
  int fp16;                    /**< half-precision arithmetic (cl_khr_fp16) */
  int best;                    /**< what device "best" picks */
  int available;               /**< sessions can run on it */
  const char *unavailable_reason; /**< why not (NULL when available): the driver says so,
                                       no compiler, or a context cannot be created */
} clcnn_device_info;

/** Every device: each OpenCL device of every platform (also those that
 *  cannot be used, with the reason), then the CPU backend, last. Enumerated
 *  once per process; thread-safe. `*devices` belongs to the library.
 *  No OpenCL installation is not an error (only the CPU backend is listed).
 *  Errors: INVALID_ARGUMENT, DEVICE (the OpenCL platforms cannot be listed;
 *  the CPU backend is still given), OUT_OF_MEMORY. */
CLCNN_API clcnn_status clcnn_devices(const clcnn_device_info **devices, int *count);

/** A device's peak rates as clcnn measures them with small kernels of its
 *  own: the ceilings against which clcnn run --profile places each layer. */
typedef struct clcnn_device_peak {
  double fp32_gflops;   /**< FP32 multiply-adds on registers, GFLOP/s (one counts 2) */
  double fp16_gflops;   /**< the same in half precision (cl_khr_fp16); 0 where absent */
  double bandwidth_gbs; /**< a streaming copy of a large buffer: bytes read plus
                             written per second, GB/s */
  int from_cache;       /**< 1: read from the cache directory, not measured by this call */
} clcnn_device_peak;

/** The peak rates of `device` (a device string as clcnn_session_options.device
 *  takes: "best", "opencl:0", an id, "cpu" for the CPU backend with the
 *  context's threads). An OpenCL device's are kept in the context's cache
 *  directory (keyed by device, driver and clcnn version, like kernel
 *  binaries) and read from there unless `remeasure` is non-zero; measuring
 *  takes about a second per device and is best done on an idle machine.
 *  Errors: INVALID_ARGUMENT, DEVICE (no such device, or an OpenCL call
 *  failed), KERNEL_BUILD, OUT_OF_MEMORY. */
CLCNN_API clcnn_status clcnn_device_peak_get(clcnn_context *ctx, const char *device,
                                             int remeasure, clcnn_device_peak *out);

/* ---------------------------------------------------------------- tensors */

/** A tensor view: shape plus a pointer to densely packed, row-major data.
 *  The view never owns its data. */
typedef struct clcnn_tensor {
  clcnn_dtype dtype;
  int rank;
  int64_t dims[CLCNN_MAX_RANK];
  void *data;
} clcnn_tensor;

/** Number of elements of a view (1 for rank 0). */
CLCNN_API int64_t clcnn_tensor_numel(const clcnn_tensor *t);

/* ------------------------------------------------------------------ model */

/** Description of a model input or output. Strings and the view belong to
 *  the model and live as long as it does. A dimension is -1 where the model
 *  leaves it open; `dim_names[i]` is then its symbolic name (or NULL). */
typedef struct clcnn_io_info {
  const char *name;
  clcnn_dtype dtype;
  int rank;
  int64_t dims[CLCNN_MAX_RANK];
  const char *dim_names[CLCNN_MAX_RANK];
} clcnn_io_info;

/** Loads an ONNX model from a file. External data files are read only from
 *  the model's directory. Every unsupported operator or attribute is listed in
 *  the error message at once. On error `*out` is NULL and clcnn_last_error()
 *  says why. Thread-safe. Errors: INVALID_ARGUMENT, IO, INVALID_MODEL,
 *  UNSUPPORTED, OUT_OF_MEMORY. */
CLCNN_API clcnn_status clcnn_model_load_file(clcnn_context *ctx, const char *path,
                                             clcnn_model **out);

/** Loads an ONNX model from memory (copied; the caller keeps `data`).
 *  `base_dir` is where external data files are looked for (NULL: a model with
 *  external data is an error). Same errors as clcnn_model_load_file(). */
CLCNN_API clcnn_status clcnn_model_load_memory(clcnn_context *ctx, const void *data,
                                               size_t size, const char *base_dir,
                                               clcnn_model **out);

/** Frees a model. Sessions created from it must be freed first. NULL does nothing. */
CLCNN_API void clcnn_model_free(clcnn_model *model);

/** Number of graph inputs (initializers excluded) and outputs. */
CLCNN_API int clcnn_model_input_count(const clcnn_model *model);
CLCNN_API int clcnn_model_output_count(const clcnn_model *model);

/** Describes input or output `index`. Errors: INVALID_ARGUMENT (bad index). */
CLCNN_API clcnn_status clcnn_model_input_info(const clcnn_model *model, int index,
                                              clcnn_io_info *info);
CLCNN_API clcnn_status clcnn_model_output_info(const clcnn_model *model, int index,
                                               clcnn_io_info *info);

/** Whether a session needs the *value* of input `index` when it is created,
 *  not only its shape: the input decides shapes or parameters that clcnn
 *  fixes per session (Reshape's shape, Slice's starts and ends, Resize's
 *  scales and sizes, Pad's pads, Tile's repeats, Expand's shape, Split's
 *  split, axes of Squeeze, Unsqueeze and the reductions, Range's bounds,
 *  ConstantOfShape's shape), directly or through nodes that compute them.
 *  Give such an input in clcnn_session_options.bound_inputs; without a value
 *  clcnn_session_create() fails with UNSUPPORTED ("... must be a constant").
 *  Writes 1 or 0 to `*needed`. Thread-safe. Errors: INVALID_ARGUMENT (NULL
 *  argument, bad index), OUT_OF_MEMORY. */
CLCNN_API clcnn_status clcnn_model_input_needs_value(const clcnn_model *model, int index,
                                                     int *needed);

/* ---------------------------------------------------------------- session */

/** The concrete shape of one input for clcnn_session_create(). */
typedef struct clcnn_input_shape {
  const char *name;
  int rank;
  int64_t dims[CLCNN_MAX_RANK];
} clcnn_input_shape;

/** A value for a model input given when a session is created: see
 *  clcnn_session_options.bound_inputs. */
typedef struct clcnn_bound_input {
  const char *name;    /**< the model input's name */
  clcnn_tensor value;  /**< its dtype, shape and data (densely packed, row-major) */
} clcnn_bound_input;

/** A session's precision on OpenCL devices (clcnn_session_options.precision).
 *  Half storage keeps an activation as IEEE half (2 bytes) in device memory,
 *  read and written through vload_half / vstore_half, core OpenCL 1.2, so
 *  every device has it; arithmetic stays float32. It halves the memory and
 *  the bandwidth of the layers that use it; values past 65504 become
 *  infinite, and each stored value is rounded to 11 significant bits
 *  (relative error up to 2^-11). */
typedef enum clcnn_precision {
  CLCNN_PRECISION_FP32 = 0, /**< everything float32 (the default) */
  /** Half storage for the activations that flow between layers that have
   *  it on the device (convolutions, pools, element-wise operators,
   *  Concat, Reshape and friends); graph inputs and outputs, values that
   *  cross to another backend and the inputs of other operators stay
   *  float32. `clcnn info --precision fp16` lists each layer's. */
  CLCNN_PRECISION_FP16 = 1,
  /** As FP16, but calibrated when the session is created: one run on
   *  `calibration_inputs` compares every device layer with the CPU
   *  backend's float32 result from the same inputs, and the layers past
   *  `precision_tolerance` keep float32 (the session is then planned
   *  again). Creation costs about one verify-mode run more. */
  CLCNN_PRECISION_AUTO = 2
} clcnn_precision;

/** Session options. Fill with clcnn_session_options_default(). */
typedef struct clcnn_session_options {
  size_t size;          /**< sizeof(clcnn_session_options) */
  /** Which device runs the session: "cpu" (the CPU backend), "best" (default:
   *  the best OpenCL device found, else the CPU backend), "gpu", "cpu-opencl",
   *  "accelerator" (the first OpenCL device of that type), "opencl:N" (the N-th
   *  device of `clcnn devices`), or a substring of a device name. NULL: the
   *  CLCNN_DEVICE environment variable, else "best". A comma-separated list
   *  ("opencl:0,opencl:1") opens several devices in one session: each node
   *  runs on the first device of the list that can run it, the CPU backend
   *  takes the rest, and the values that cross between them are copied by
   *  explicit transfer steps. */
  const char *device;
  /** Non-zero: refuse to fall back to the CPU backend for any node; the error
   *  lists every node that would have. The part of a graph whose shapes
   *  depend on the data (NonZero, NonMaxSuppression and what is computed from
   *  them) always runs on the CPU backend and is not refused. */
  int strict;
  /** Non-zero: collect per-node timings (see clcnn_session_profile()). */
  int profile;
  /** Non-zero: every node that runs on a device is also run on the CPU
   *  backend, from the inputs the device node read, and the two outputs are
   *  compared (see clcnn_session_verify_report()). Slow: a debugging tool for
   *  a driver that computes a wrong answer. */
  int verify;
  /** Verify mode's tolerance: a node agrees when
   *  max|device - cpu| <= verify_tolerance * max(1, max|cpu|) on every
   *  output. 0: 1e-3. */
  double verify_tolerance;
  /** Inputs whose values are given now, when the session is created, and
   *  bound as constants of the session: what an input that decides shapes
   *  needs (see clcnn_model_input_needs_value()), and allowed for any input
   *  (the graph is then folded around it). Each value's dtype must be the
   *  input's and its shape must fit the model's (the fixed dims equal);
   *  it is the input's shape in the session (an entry for it in `shapes`
   *  must agree). The array, the names and the data are read by
   *  clcnn_session_create() only: the values are copied, the caller keeps
   *  ownership. A bound input is not fed at run time:
   *  clcnn_session_set_input() accepts exactly the bound value (and does
   *  nothing) and refuses any other. Errors of clcnn_session_create():
   *  NOT_FOUND (no input of that name), SHAPE (another dtype or shape),
   *  INVALID_ARGUMENT (NULL name or data, a count < 0, an input bound
   *  twice). NULL / 0: none. */
  const clcnn_bound_input *bound_inputs;
  int bound_input_count;
  /** NULL, or a flag that another thread may set non-zero to stop a run of
   *  this session: clcnn_session_run() reads it with an atomic load before
   *  each step of its schedule (each node and each transfer) and returns
   *  CLCNN_ERROR_CANCELLED, with no work left in flight, at the first step
   *  that finds it set. A step that has begun finishes first (one operator
   *  is not interrupted), so a run stops within one node's time; on an
   *  OpenCL device a session with a flag therefore waits for each node
   *  before it queues the next (a little time per node). The flag
   *  belongs to the caller, must outlive the session and is never written
   *  by the library: clear it before the next run, which then runs
   *  normally (the inputs last set are kept). Store to it atomically (a C11
   *  atomic_int, or __atomic_store_n); this is the one thing about a session
   *  that another thread may touch while it runs. */
  const volatile int *cancel;
  /** Inputs that take images (clcnn_session_set_input_image()): NULL, or
   *  `image_input_count` entries, each naming one input (at most 8). */
  const struct clcnn_image_input *image_inputs;
  int image_input_count;
  /** The largest element count of any tensor of the session: the inputs and
   *  every value shape inference gives. A larger one fails creation with
   *  SHAPE. 0: 2^34. Lower it to bound the memory an untrusted model can make
   *  a session ask for. */
  int64_t max_tensor_elements;
  /** How an OpenCL device stores activations (DESIGN.md decision 10). The
   *  CPU backend always computes and stores float32. Default
   *  CLCNN_PRECISION_FP32. */
  clcnn_precision precision;
  /** CLCNN_PRECISION_AUTO's tolerance: a layer keeps half storage when,
   *  from the inputs the device read, its output differs from the float32
   *  CPU backend's by at most precision_tolerance * max(1, max|cpu|).
   *  0: 1e-2. */
  double precision_tolerance;
  /** CLCNN_PRECISION_AUTO's calibration inputs: values for the inputs that
   *  are not bound (as bound_inputs gives them: dtype and the session's
   *  shape; copied). An input left out gets a fixed pseudo-random pattern,
   *  uniform in [-1, 1). NULL / 0: the pattern for every input (a tiler,
   *  clcnn_tiler_create(), takes none: each tile size is calibrated on it). */
  const clcnn_bound_input *calibration_inputs;
  int calibration_input_count;
} clcnn_session_options;

CLCNN_API void clcnn_session_options_default(clcnn_session_options *opts);

/** Creates a session: binds `model` to a device and to concrete input shapes.
 *  `shapes` gives the shapes of inputs whose model dims are open (or that the
 *  caller wants to change); inputs not listed keep the model's dims, and any
 *  open dimension left is 1. Runs shape inference, optimisation passes,
 *  partitioning, memory planning and kernel compilation. Thread-safe with
 *  respect to the model. On error `*out` is NULL and clcnn_last_error() says
 *  why. Errors: INVALID_ARGUMENT, NOT_FOUND (unknown input name), SHAPE,
 *  UNSUPPORTED, DEVICE, KERNEL_BUILD, OUT_OF_MEMORY. */
CLCNN_API clcnn_status clcnn_session_create(const clcnn_model *model,
                                            const clcnn_session_options *opts,
                                            const clcnn_input_shape *shapes, int shape_count,
                                            clcnn_session **out);

/** Frees a session and all its host and device memory. NULL does nothing. */
CLCNN_API void clcnn_session_free(clcnn_session *session);

/** Name of the device the session runs on (static for the session's life). */
CLCNN_API const char *clcnn_session_device(const clcnn_session *session);

/** Copies `tensor` into input `name`. dtype and shape must equal the session's
 *  (see clcnn_session_input()): a float16 input of the model takes
 *  CLCNN_DTYPE_FLOAT16 data (IEEE half bit patterns), which the session widens
 *  to float32 for computing; a float16 output (clcnn_session_output()) is
 *  rounded back to half at the end. An input bound at session creation
 *  (clcnn_session_options.bound_inputs) takes only its bound value, which
 *  changes nothing; another value is INVALID_ARGUMENT (create a session with
 *  the new value). Errors: NOT_FOUND, SHAPE, INVALID_ARGUMENT. */
CLCNN_API clcnn_status clcnn_session_set_input(clcnn_session *session, const char *name,
                                               const clcnn_tensor *tensor);

/** Runs the graph on the inputs last set. Errors: DEVICE, OUT_OF_MEMORY,
 *  INTERNAL (the session's message says which node failed), CANCELLED (the
 *  session options' `cancel` flag was set; the outputs are not computed). */
CLCNN_API clcnn_status clcnn_session_run(clcnn_session *session);

/** Views the concrete shape of input or output `name` (data NULL). An
 *  output whose shape depends on the input values (computed from NonZero or
 *  NonMaxSuppression) has it only after a run: before the first, its dims
 *  are -1 (and its rank -1 where that is not known either); after a run,
 *  the last run's shape. */
CLCNN_API clcnn_status clcnn_session_input(const clcnn_session *session, const char *name,
                                           clcnn_tensor *view);

/** Views output `name` after clcnn_session_run(). The data belongs to the
 *  session and stays valid until the next run or the session is freed. The
 *  view has this run's shape, which for an output computed from NonZero or
 *  NonMaxSuppression may change from run to run (such a part of the graph
 *  runs on the CPU backend after the rest: docs/design-dynamic-shapes.md).
 *  Errors: NOT_FOUND, INVALID_ARGUMENT (no run yet). */
CLCNN_API clcnn_status clcnn_session_output(const clcnn_session *session, const char *name,
                                            clcnn_tensor *view);

/** Peak memory of the session in bytes: host (CPU arena, constants, scratch)
 *  and device (OpenCL arenas, scratch and weights of every device of the
 *  session; 0 on the CPU backend). Either pointer may be NULL. */
CLCNN_API clcnn_status clcnn_session_memory(const clcnn_session *session, size_t *host_bytes,
                                            size_t *device_bytes);

/** The part of clcnn_session_memory()'s device bytes that the session shares
 *  with other sessions of the same model on the same device and context
 *  (weights are uploaded once per model and device; compiled programs are
 *  kept per context and device). A second session of a model costs about
 *  device_bytes - shared_device_bytes. */
CLCNN_API clcnn_status clcnn_session_memory_shared(const clcnn_session *session,
                                                   size_t *shared_device_bytes);

/** How many device programs creating the session compiled from source and
 *  how many it loaded from the program cache on disk; programs that another
 *  session of the same context had already built count in neither (both 0
 *  for a session on the CPU backend). The first session on a device
 *  compiles its programs; later processes load them, since their cache
 *  entries are written by a background thread after the session's first
 *  run (or when the context is freed). Errors: INVALID_ARGUMENT. */
CLCNN_API clcnn_status clcnn_session_programs(const clcnn_session *session, int *compiled,
                                              int *loaded);

/** The session's message for its last failed call ("" when none). */
CLCNN_API const char *clcnn_session_error(const clcnn_session *session);

/** One step's timing from the last run of a session created with `profile`:
 *  a node, or a transfer of a value between backends (op "Transfer"). */
typedef struct clcnn_profile_entry {
  const char *node;     /**< node name; for a transfer, the value moved (owned by the session) */
  const char *op;       /**< ONNX operator (with fused activation, e.g. "Conv+Relu"), or "Transfer" */
  const char *backend;  /**< "cpu", "opencl" (or "opencl:N" in a session of several devices);
                             for a transfer "FROM->TO", e.g. "cpu->opencl" */
  const char *shape;    /**< output shape as text, e.g. "1x64x56x56" */
  double ms;            /**< time in milliseconds (OpenCL: from events) */
  double flops;         /**< floating point operations of the node */
  size_t bytes;         /**< bytes a transfer moved (0 for nodes, and for a transfer skipped
                             because the destination already held the value) */
  size_t io_bytes;      /**< a node: the bytes of its inputs and outputs, the least memory
                             traffic it can have (with `flops`, where it sits on the
                             device's roofline); 0 for a transfer */
  const char *precision; /**< a node's storage (clcnn_session_options.precision): "fp32",
                             "fp16", or "fp32>fp16" / "fp16>fp32" (its first input's, then
                             its output's); "" for a transfer */
} clcnn_profile_entry;

/** Per-node profile of the last run. `*entries` belongs to the session and is
 *  valid until the next run. Errors: INVALID_ARGUMENT (profiling not enabled). */
CLCNN_API clcnn_status clcnn_session_profile(const clcnn_session *session,
                                             const clcnn_profile_entry **entries, int *count);

/** What verify mode found for one node that ran on a device in the last run. */
typedef struct clcnn_verify_entry {
  const char *node;        /**< node name (owned by the session) */
  const char *op;          /**< ONNX operator, with a fused activation ("Conv+Relu") */
  const char *backend;     /**< the device backend that ran it ("opencl", "opencl:1") */
  double max_abs_error;    /**< max|device - cpu| over all its outputs */
  double max_abs_ref;      /**< max|cpu| over all its outputs */
  double error;            /**< max_abs_error / max(1, max_abs_ref); infinite on a NaN
                                or an infinity where the CPU backend has a finite value */
  int ok;                  /**< error <= the session's verify tolerance */
} clcnn_verify_entry;

/** Verify mode's report of the last run, in schedule order (device nodes
 *  only). `*first_failure` (may be NULL) is the index of the first entry that
 *  is not ok, or -1 when every node agrees. `*entries` belongs to the session
 *  and is valid until the next run. Errors: INVALID_ARGUMENT (the session was
 *  not created with `verify`, or has not run). */
CLCNN_API clcnn_status clcnn_session_verify_report(const clcnn_session *session,
                                                   const clcnn_verify_entry **entries,
                                                   int *count, int *first_failure);

/* ----------------------------------------------------------------- images */

/** Sample types of an application's image (clcnn_image). */
typedef enum clcnn_pixel_type {
  CLCNN_PIXEL_UINT8 = 0,   /**< 0..255 is 0..1 */
  CLCNN_PIXEL_UINT16 = 1,  /**< 0..65535 is 0..1 (host byte order) */
  CLCNN_PIXEL_FLOAT32 = 2  /**< 0..1 nominal; written back unclamped */
} clcnn_pixel_type;

/** An application's interleaved image: `height` rows of `width` pixels of
 *  `channels` samples each: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA (alpha is
 *  always last, color always R, G, B). Rows are `stride` bytes apart (0:
 *  packed, width * channels * sample size); a stride and a `data` pointer
 *  moved into a larger image view a rectangle of it. The view never owns its
 *  data. Sample pointers must be aligned for their type. */
typedef struct clcnn_image {
  void *data;
  int width, height;
  int channels;            /**< 1, 2, 3 or 4 */
  clcnn_pixel_type type;
  size_t stride;           /**< bytes from one row to the next; 0: packed */
} clcnn_image;

/** Channel order of the model's tensor (the image is always RGB). */
typedef enum clcnn_channel_order {
  CLCNN_CHANNEL_ORDER_RGB = 0,  /**< tensor channels R, G, B (, A) */
  CLCNN_CHANNEL_ORDER_BGR = 1   /**< tensor channels B, G, R (, A): OpenCV, Caffe models */
} clcnn_channel_order;

/** How image samples become tensor values and back. Fill with
 *  clcnn_image_options_default(). Into a tensor, per tensor channel k:
 *  t = (s * range - mean[k]) / std[k], where s is the sample scaled to [0, 1]
 *  (integers divided by 255 or 65535; floats as they are). Back into an
 *  image: s = (t * std[k] + mean[k]) / range, clamped to [0, 1], rounded to
 *  the nearest integer sample (floats are not clamped; NaN becomes 0).
 *  mean and std are indexed by the tensor's channel, after `order`. */
typedef struct clcnn_image_options {
  size_t size;          /**< sizeof(clcnn_image_options), set by clcnn_image_options_default() */
  float mean[4];        /**< per tensor channel; default 0 */
  float std[4];         /**< per tensor channel; default 1; must not be 0 */
  float range;          /**< the value of a full-scale sample before mean/std; default 1
                             (255 for models trained on 0..255) */
  clcnn_channel_order order; /**< default RGB */
} clcnn_image_options;

/** Fills `opts` with defaults: mean 0, std 1, range 1, RGB order. */
CLCNN_API void clcnn_image_options_default(clcnn_image_options *opts);

/** An input of a session that takes images: the conversion of
 *  clcnn_image_to_tensor() (same channel mapping, scale, mean, std and
 *  order) becomes part of the session's graph — a Cast, a Transpose from
 *  interleaved to planar and a 1x1 convolution ahead of the model — so it
 *  runs where the model runs: on the device for an OpenCL session, and only
 *  the image's own samples cross the bus (a quarter of the float tensor for
 *  8-bit images). The input is then uint8 (or float32) [1, H, W, channels]
 *  for clcnn_session_input() and clcnn_session_set_input(); its H and W are
 *  the model input's, as given to clcnn_session_create(). */
typedef struct clcnn_image_input {
  const char *name;   /**< the model's input: float32 [1, C, H, W] with C 1..4 */
  clcnn_pixel_type type; /**< CLCNN_PIXEL_UINT8 or CLCNN_PIXEL_FLOAT32 (16-bit
                              images: convert them with clcnn_image_to_tensor()) */
  int channels;       /**< the images' channels: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA */
  const clcnn_image_options *opts; /**< NULL: defaults; read at session creation */
} clcnn_image_input;

/** Copies `image` into image input `name` of `session` (declared in
 *  clcnn_session_options.image_inputs); its type, channels, width and height
 *  must be the input's. The rows are packed (the stride may be anything
 *  clcnn_image allows); the conversion runs with the session's next run.
 *  Errors: INVALID_ARGUMENT (not an image input, a bad image), NOT_FOUND,
 *  SHAPE (another size, type or channel count). */
CLCNN_API clcnn_status clcnn_session_set_input_image(clcnn_session *session, const char *name,
                                                     const clcnn_image *image);

/** Converts `image` into `tensor`, a float32 NCHW view [1, C, H, W] (or
 *  [C, H, W]) whose H and W are the image's and whose data the caller
 *  allocated. Channels map by what the tensor has: C = 3 or 4 takes the
 *  image's color (gray is repeated into R, G, B); C = 1 or 2 takes gray (the
 *  Rec. 601 luma 0.299 R + 0.587 G + 0.114 B of a color image); C = 2 or 4
 *  takes the alpha last (1.0, opaque, for an image without alpha); C = 1 or
 *  3 drops the image's alpha. Runs on the host, on the calling thread (a
 *  session's image input, clcnn_image_input, does the same conversion on
 *  the session's device).
 *  `opts` may be NULL for defaults. Thread-safe: it touches only its
 *  arguments. Errors: INVALID_ARGUMENT (NULL pointer, a bad type, channel
 *  count, stride or option), SHAPE (the tensor is not float32 [1,] C, H, W
 *  with 1 <= C <= 4 and the image's H and W). */
CLCNN_API clcnn_status clcnn_image_to_tensor(const clcnn_image *image,
                                             const clcnn_image_options *opts,
                                             clcnn_tensor *tensor);

/** Converts a float32 NCHW tensor [1, C, H, W] (or [C, H, W]), e.g. a view
 *  from clcnn_session_output(), back into `image` (same H and W, data
 *  allocated by the caller): the inverse of clcnn_image_to_tensor(), with
 *  the same channel mapping the other way (a 1- or 2-channel tensor is
 *  repeated into R, G, B; a color tensor gives its luma to a gray image), the
 *  inverse of mean/std, clamping and rounding, and an opaque alpha where the
 *  tensor has none. Host-side and thread-safe as clcnn_image_to_tensor();
 *  same errors. */
CLCNN_API clcnn_status clcnn_tensor_to_image(const clcnn_tensor *tensor,
                                             const clcnn_image_options *opts,
                                             clcnn_image *image);

/* ------------------------------------------------------------ tiled runs */

/** Progress of a tiled run: called on the running thread before the first
 *  tile (done = 0) and after each tile (done = 1..total). A non-zero return
 *  cancels the run (clcnn_tiler_run() returns CLCNN_ERROR_CANCELLED). */
typedef int (*clcnn_progress_fn)(void *user, int done, int total);

/** What feeds the model beyond an image that is smaller than a tile. (An
 *  image at least as large as a tile never needs padding: the last tile of a
 *  row or column is moved inwards to end at the image's edge, and the tiles
 *  between are spread evenly.) */
typedef enum clcnn_tile_padding {
  /** Default: the tile shrinks to the image in that dimension; a session of
   *  that size is created (and kept for the next image of the same size).
   *  The result then equals a whole-image run. A model whose H and W are
   *  fixed cannot shrink and is padded as REFLECT. */
  CLCNN_TILE_PADDING_NONE = 0,
  /** The image is mirrored (without repeating its edge pixel) to fill the
   *  tile: no new session; the pixels near the image's border differ from a
   *  whole-image run, which sees the model's own (zero) padding there. */
  CLCNN_TILE_PADDING_REFLECT = 1,
  /** The edge pixels are repeated to fill the tile; as REFLECT otherwise. */
  CLCNN_TILE_PADDING_REPLICATE = 2
} clcnn_tile_padding;

/** Tiled run options. Fill with clcnn_tile_options_default(). */
typedef struct clcnn_tile_options {
  size_t size;         /**< sizeof(clcnn_tile_options), set by clcnn_tile_options_default() */
  /** Input tile size in pixels. 0 (default): the model input's H and W where
   *  they are fixed, else 512. A model with fixed H and W needs exactly them. */
  int tile_width, tile_height;
  /** Input pixels that neighbouring tiles share (at least; the tiles of a
   *  row are spread evenly), at most half a tile. -1 (default): 32, or a
   *  quarter of the smaller tile side where that is less. Each tile's first
   *  and last overlap/4 pixels next to another tile get no weight and the
   *  next overlap/2 pixels blend linearly into the neighbour (a seam-free
   *  feather). The result equals a whole-image run (to rounding) when every
   *  output pixel depends only on input pixels at most overlap/4 away (e.g.
   *  overlap 16 for four 3x3 convolutions). 0: the tiles abut, hard seams. */
  int overlap;
  const char *input;   /**< the model's input, which the tiles feed; NULL: its
                            only one (a tiler needs a model with one input) */
  const char *output;  /**< the output assembled; NULL: the first output */
  clcnn_tile_padding padding; /**< default CLCNN_TILE_PADDING_NONE */
  clcnn_progress_fn progress; /**< NULL: none */
  void *progress_user;
  /** NULL, or a flag that another thread may set non-zero to cancel; it is
   *  read with an atomic load between tiles and, where the session options
   *  give no `cancel` flag of their own, between the steps of each tile's
   *  session run too, so a large tile of a large model stops within one
   *  node's time. Store to it atomically (a C11 atomic_int, or
   *  __atomic_store_n). */
  const volatile int *cancel;
} clcnn_tile_options;

/** Fills `opts` with defaults: tiles of the model's size (else 512x512),
 *  overlap -1 (32, or less for small tiles), the model's input, its first
 *  output, no padding, no progress, no cancel. */
CLCNN_API void clcnn_tile_options_default(clcnn_tile_options *opts);

/** A tiler runs a fully convolutional image-to-image model (denoising,
 *  super-resolution, segmentation) over images of any size in tiles of a
 *  fixed size, through one session per tile size that is reused for every
 *  tile and every image. The output's integer scale (x2, x4 super-resolution;
 *  1 for most models) and channel count are found from the session's output
 *  shape. One thread at a time per tiler; many tilers may run at once. */
typedef struct clcnn_tiler clcnn_tiler;

/** Creates a tiler for `model` (which must outlive it). `session_opts`
 *  (NULL: defaults) choose the device etc. of the sessions, `opts` (NULL:
 *  defaults) the tiling; both are copied (strings too). Sessions are created
 *  when the first image comes, so errors of the model or the device may come
 *  from clcnn_tiler_output_shape() or clcnn_tiler_run() too. On error `*out`
 *  is NULL and clcnn_last_error() says why. Thread-safe with respect to the
 *  model. Errors: INVALID_ARGUMENT (a bad option; image inputs in the
 *  session options; tiles other than the model's fixed H and W; a model without exactly one input, or whose input
 *  is not float32 [1, C, H, W]), NOT_FOUND (no such input or output),
 *  OUT_OF_MEMORY. */
CLCNN_API clcnn_status clcnn_tiler_create(const clcnn_model *model,
                                          const clcnn_session_options *session_opts,
                                          const clcnn_tile_options *opts, clcnn_tiler **out);

/** Frees a tiler and its sessions. NULL does nothing. */
CLCNN_API void clcnn_tiler_free(clcnn_tiler *tiler);

/** The output shape for an input image of `channels` x `height` x `width`
 *  (channels 0: the model's, or 3 where the model leaves it open): writes
 *  rank 4, [1, C_out, height * scale, width * scale] and FLOAT32 into
 *  `shape` (data NULL). Creates the session for that tile size if there is
 *  none yet. Errors: INVALID_ARGUMENT, SHAPE (the output is not the tile
 *  times an integer scale), and those of clcnn_session_create(). */
CLCNN_API clcnn_status clcnn_tiler_output_shape(clcnn_tiler *tiler, int channels, int height,
                                                int width, clcnn_tensor *shape);

/** Runs the model over `input`, a float32 NCHW tensor [1, C, H, W] of any H
 *  and W, and writes `output`, a float32 [1, C_out, H * scale, W * scale]
 *  tensor that the caller allocated (see clcnn_tiler_output_shape()). Memory
 *  beyond the two tensors: one tile's input and output and the session's
 *  own. The tiler's progress callback and cancel flag are honoured between
 *  tiles; on CLCNN_ERROR_CANCELLED or any error the output's content is
 *  unspecified. Errors: INVALID_ARGUMENT, SHAPE, CANCELLED, and those of
 *  clcnn_session_create() and clcnn_session_run(); clcnn_last_error() says
 *  which tile failed. */
CLCNN_API clcnn_status clcnn_tiler_run(clcnn_tiler *tiler, const clcnn_tensor *input,
                                       clcnn_tensor *output);

/** clcnn_tiler_run() from and to an application's images, converted tile by
 *  tile with `image_opts` (NULL: defaults; see clcnn_image_to_tensor() for
 *  the channel mapping). The tiles have the model's channel count, or 1 for
 *  a gray and 3 for a color image where the model leaves it open. `output`
 *  is width * scale by height * scale, of any sample type and channel count
 *  (the model's output must have 1 to 4 channels). Memory beyond the two images: one tile's input
 *  and output, and one row of tiles of the output in float32 (where tiles
 *  blend), never a float copy of either whole image. The images must not
 *  overlap. Errors: as clcnn_tiler_run(), and those of clcnn_image_to_tensor(). */
CLCNN_API clcnn_status clcnn_tiler_run_image(clcnn_tiler *tiler, const clcnn_image *input,
                                             const clcnn_image_options *image_opts,
                                             clcnn_image *output);

/** One-shot clcnn_tiler_create(), clcnn_tiler_run() and clcnn_tiler_free():
 *  `output` must already have the right shape (the scale times the input's
 *  H and W). Same errors. */
CLCNN_API clcnn_status clcnn_tiled_run(const clcnn_model *model,
                                       const clcnn_session_options *session_opts,
                                       const clcnn_tile_options *opts,
                                       const clcnn_tensor *input, clcnn_tensor *output);

#ifdef __cplusplus
}
#endif
#endif /* CLCNN_H */
