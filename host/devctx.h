/* What the sessions on one OpenCL device share (DESIGN.md, the pipeline's
 * "programs and weights shared per context, model and device"):
 *
 *   ocl_devctx   one per clcnn_context and device (or per application
 *                cl_context): the cl_context and every program built in it,
 *                kept in memory besides the disk cache. A second session on
 *                the device builds only the programs it has not seen.
 *   ocl_weights  one per model and cl_context: constant buffers (weights,
 *                packed weights, tables), uploaded once and found again by
 *                the SHA-256 of their bytes. Freed with the model.
 *
 * Both are thread-safe; sessions on several threads use them at once. */
#ifndef CLCNN_HOST_DEVCTX_H
#define CLCNN_HOST_DEVCTX_H

#include "backend.h"
#include "device.h"
#include "program_cache.h"

typedef struct ocl_devctx ocl_devctx;
typedef struct ocl_weights ocl_weights;

/* The environment variables that steer the OpenCL backend (docs/environment.md),
 * read once, when the devctx is created (the first session of a
 * clcnn_context on a device): a change to the environment reaches the next
 * clcnn_context, never a kernel choice in the middle of one. */
typedef enum { OCL_KNOB_AUTO = 0, OCL_KNOB_CPU, OCL_KNOB_GPU } ocl_variant_knob;
typedef enum { OCL_CONV_AUTO = 0, OCL_CONV_IM2COL, OCL_CONV_DIRECT } ocl_conv_knob;
typedef enum { OCL_GEMM_KNOB_AUTO = 0, OCL_GEMM_KNOB_OWN, OCL_GEMM_KNOB_CLBLAST } ocl_gemm_knob;
typedef struct ocl_knobs {
  ocl_variant_knob variant; /* CLCNN_OCL_VARIANT: "cpu", "gpu"; else by device type */
  ocl_conv_knob conv;       /* CLCNN_CONV: "im2col", "direct"; else chosen per layer */
  ocl_gemm_knob gemm;       /* CLCNN_GEMM: "own", "clblast"; else chosen per layer */
  bool tune;                /* CLCNN_TUNE=1: time both GEMMs of a layer at prepare */
  char kernel_dir[OCL_CACHE_PATH_MAX]; /* CLCNN_KERNEL_DIR: .cl files from here; "": embedded */
} ocl_knobs;

/* Reads the knobs from the environment (what ocl_devctx_acquire does). */
void ocl_knobs_read(ocl_knobs *k);

/* The shared context of device `dev` in `ctx` (created on first use and
 * kept until clcnn_context_free), or, with `app_context`, the one for the
 * application's cl_context (retained; released with its last session).
 * `cache` is the program cache's configuration (its strings must outlive
 * `ctx`'s devctxs: they are the context's). Release with
 * ocl_devctx_release(). Errors: DEVICE, OUT_OF_MEMORY. */
clcnn_status ocl_devctx_acquire(clcnn_context *ctx, const ocl_device_info *dev,
                                cl_context app_context, const ocl_cache_config *cache,
                                ocl_devctx **out, clcnn_err *err);
void ocl_devctx_release(ocl_devctx *dc);
cl_context ocl_devctx_context(const ocl_devctx *dc);
/* The knobs read when the devctx was created. */
const ocl_knobs *ocl_devctx_knobs(const ocl_devctx *dc);
/* Its program cache's configuration (the directory resolved once). */
const ocl_cache_config *ocl_devctx_cache(const ocl_devctx *dc);

/* The program of kernels/FILE built with `options`: from memory, else from
 * the disk cache or source (ocl_program_build). The program stays the
 * devctx's: kernels created from it keep it alive. `*built` (may be NULL)
 * says whether it had to be built or loaded now, `*from_disk` whether that
 * came from the disk cache. Errors: KERNEL_BUILD, DEVICE, IO, OUT_OF_MEMORY. */
clcnn_status ocl_devctx_program(ocl_devctx *dc, const char *file, const char *options,
                                cl_program *out, bool *built, bool *from_disk, clcnn_err *err);

/* Starts writing the disk-cache entries of the programs built since the
 * last call, on a thread of the devctx, unless one is at it already. Called
 * after a session's run: fetching a program's binary can cost as much as
 * building it (PoCL generates code for it), so it happens neither while a
 * session is created nor during its first run. What is still queued when the
 * devctx goes is written then. */
void ocl_devctx_write_cache(ocl_devctx *dc);

/* The weight store of `model` on the devctx's context; NULL when it cannot
 * have one (out of memory, too many contexts): the caller then uploads
 * privately. */
ocl_weights *ocl_weights_of(const clcnn_model *model, ocl_devctx *dc);

/* A read-only buffer holding `bytes` bytes of `data`: the one already in the
 * store with the same contents, or a new one. The store owns it.
 * Errors: OUT_OF_MEMORY. */
clcnn_status ocl_weights_get(ocl_weights *w, const void *data, size_t bytes, cl_mem *out,
                             clcnn_err *err);
/* The same for data that the model owns (immutable while the store lives,
 * which is the model's life): found again by its address without hashing
 * it, so that a later session of the model pays nothing for its weights. */
clcnn_status ocl_weights_get_model(ocl_weights *w, const void *data, size_t bytes, cl_mem *out,
                                   clcnn_err *err);

/* clCreateBuffer, with the test hook that makes the n-th allocation fail. */
cl_mem ocl_create_buffer(cl_context ctx, cl_mem_flags flags, size_t bytes, void *host,
                         cl_int *rc);

#endif
