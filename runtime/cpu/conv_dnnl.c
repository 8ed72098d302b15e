/* CPU backend: 2-D Conv through oneDNN's convolution primitives (see
 * conv_dnnl.h for why and how). */
#include "conv_dnnl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../backend.h"
#include "../ops/conv.h"
#include "clcnn_config.h"
#include "threadpool.h"

#if CLCNN_HAVE_DNNL
#include <dnnl.h>
#include <pthread.h>

/* Output channels of a piece: at most this many pieces per thread, so that a
 * thread that loses its core holds up little (single-threaded, oneDNN's
 * kernels run as fast on 16 output channels as on 64 here). */
#define PIECES_PER_THREAD 2

typedef struct dnnl_piece {
  dnnl_primitive_t prim;
  dnnl_memory_t src, wei, bias, dst;
  dnnl_stream_t stream;
  int64_t o0, o1; /* output channels [o0, o1) */
  int64_t dst_at; /* its output's place in dst_buf, in floats */
} dnnl_piece;

struct conv_dnnl {
  dnnl_engine_t engine;
  int block;           /* channels per block of the blocked layout (16 or 8) */
  bool src_blocked;    /* false: the kernel reads NCHW directly (few input channels) */
  int npieces;
  dnnl_piece *pieces;
  float *src_buf;      /* the blocked input of one image */
  float *dst_buf;      /* the blocked output of one image */
  /* Both in the backend's shared scratch (cpu_scratch_get; src first, dst
   * at dst_at floats), bound to the pieces' memories while it stays where
   * it was; else (no backend: constant folding) the node's own. */
  bool in_scratch;
  int64_t dst_at;
  void *bound;
  int64_t C, M, IH, IW, OH, OW, batch;
  char impl[64];
};

/* ------------------------------------------------- layout conversions */

typedef struct relayout_task {
  const float *x;
  const float *residual;
  float *y;
  int64_t channels, hw;
  int block;
  const ir_node *n;
} relayout_task;

/* Hw positions per tile of a conversion: a tile of one block stays in L1. */
#define RELAYOUT_TILE 64

/* NCHW -> nChw{B}c for channel blocks [begin, end); channels past the last
 * are zero (oneDNN reads the padded lanes). */
static void block_rows(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const relayout_task *t = arg;
  const int B = t->block;
  const int64_t hw = t->hw;
  for (int64_t cb = begin; cb < end; cb++) {
    float *dst = t->y + cb * hw * B;
    int64_t nc = t->channels - cb * B < B ? t->channels - cb * B : B;
    for (int64_t h0 = 0; h0 < hw; h0 += RELAYOUT_TILE) {
      int64_t h1 = h0 + RELAYOUT_TILE < hw ? h0 + RELAYOUT_TILE : hw;
      for (int64_t c = 0; c < nc; c++) {
        const float *src = t->x + (cb * B + c) * hw;
        for (int64_t i = h0; i < h1; i++) dst[i * B + c] = src[i];
      }
      for (int64_t c = nc; c < B; c++)
        for (int64_t i = h0; i < h1; i++) dst[i * B + c] = 0.0f;
    }
  }
}

/* nChw{B}c -> NCHW for channel blocks [begin, end), adding the residual and
 * applying the node's activation to each finished block. */
static void unblock_rows(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const relayout_task *t = arg;
  const int B = t->block;
  const int64_t hw = t->hw;
  for (int64_t cb = begin; cb < end; cb++) {
    const float *src = t->x + cb * hw * B;
    int64_t nc = t->channels - cb * B < B ? t->channels - cb * B : B;
    for (int64_t h0 = 0; h0 < hw; h0 += RELAYOUT_TILE) {
      int64_t h1 = h0 + RELAYOUT_TILE < hw ? h0 + RELAYOUT_TILE : hw;
      for (int64_t c = 0; c < nc; c++) {
        float *dst = t->y + (cb * B + c) * hw;
        if (t->residual) {
          const float *r = t->residual + (cb * B + c) * hw;
          for (int64_t i = h0; i < h1; i++) dst[i] = src[i * B + c] + r[i];
        } else {
          for (int64_t i = h0; i < h1; i++) dst[i] = src[i * B + c];
        }
      }
    }
    if (t->n->act_op >= 0) {
      float *rows = t->y + cb * B * hw;
      cpu_unary_apply(t->n->act_op, t->n->act_params, rows, rows, (size_t)(nc * hw));
    }
  }
}

/* ------------------------------------------------ weights per model */

/* The reordered weights of a model's convolutions, shared by all its
 * sessions (a model attachment, freed with the model): the second session
 * of a model packs nothing. Keyed by the model's weight data (only
 * constants the model owns: a session's own folded ones could reuse an
 * address), the piece's output channels and the kernel's layout. */
typedef struct packed_weights {
  const float *w;
  int64_t o0, o1;
  dnnl_memory_desc_t md;
  void *data;
  struct packed_weights *next;
} packed_weights;

typedef struct packed_registry {
  pthread_mutex_t lock;
  packed_weights *head;
} packed_registry;

static const char packed_key = 0;

static void *registry_create(void *arg) {
  (void)arg;
  packed_registry *r = calloc(1, sizeof *r);
  if (r) pthread_mutex_init(&r->lock, NULL);
  return r;
}

static void registry_free(void *obj) {
  packed_registry *r = obj;
  if (!r) return;
  for (packed_weights *p = r->head, *next; p; p = next) {
    next = p->next;
    free(p->data);
    free(p);
  }
  pthread_mutex_destroy(&r->lock);
  free(r);
}

/* ------------------------------------------------------------ creation */

typedef struct create_args {
  const cpu_node *cn;
  conv_dnnl *d;
  const float *w, *bias;
  packed_registry *shared; /* the model's packed weights, or NULL: the piece's own */
  int64_t KH, KW;
  dnnl_dims_t strides, dilates, pad_l, pad_r;
  clcnn_status st;
} create_args;

/* The convolution primitive of output channels [o0, o1) with the chosen
 * layouts, its memories and its reordered weights. false: oneDNN has no
 * kernel for it (or none better than a GEMM), or out of memory (*oom). */
static bool piece_create(create_args *a, dnnl_piece *pc, int64_t o0, int64_t o1, bool *oom) {
  conv_dnnl *d = a->d;
  const int64_t Mp = o1 - o0;
  const dnnl_format_tag_t blocked = d->block == 16 ? dnnl_nChw16c : dnnl_nChw8c;
  dnnl_dims_t sd = {1, d->C, d->IH, d->IW}, wd = {Mp, d->C, a->KH, a->KW}, bd = {Mp},
              dd = {1, Mp, d->OH, d->OW};
  dnnl_memory_desc_t smd, wmd, wany, bmd, dmd;
  if (dnnl_memory_desc_init_by_tag(&smd, 4, sd, dnnl_f32, d->src_blocked ? blocked : dnnl_nchw) ||
      dnnl_memory_desc_init_by_tag(&wmd, 4, wd, dnnl_f32, dnnl_oihw) ||
      dnnl_memory_desc_init_by_tag(&wany, 4, wd, dnnl_f32, dnnl_format_tag_any) ||
      dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_x) ||
      dnnl_memory_desc_init_by_tag(&dmd, 4, dd, dnnl_f32, blocked))
    return false;
  dnnl_convolution_desc_t cd;
  if (dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference,
                                                 dnnl_convolution_direct, &smd, &wany,
                                                 a->bias ? &bmd : NULL, &dmd, a->strides,
                                                 a->dilates, a->pad_l, a->pad_r))
    return false;
  dnnl_primitive_desc_t pd = NULL;
  if (dnnl_primitive_desc_create(&pd, &cd, NULL, d->engine, NULL)) return false;
  const char *impl = NULL;
  bool ok = dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success &&
            impl && !strstr(impl, "gemm") && !strstr(impl, "ref");
  if (ok) snprintf(d->impl, sizeof d->impl, "%s", impl);
  const dnnl_memory_desc_t *wq = ok ? dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)
                                    : NULL;
  ok = ok && wq && dnnl_primitive_create(&pc->prim, pd) == dnnl_success;
  dnnl_memory_desc_t wkd; /* the query's answer lives in pd */
  if (ok) wkd = *wq;
  dnnl_primitive_desc_destroy(pd);
  if (!ok) return false;
  const dnnl_memory_desc_t *wk = &wkd;
  pc->o0 = o0;
  pc->o1 = o1;
  /* The kernel's weights: our OIHW rows [o0, o1) reordered once per model
   * (or per session, where they are not the model's). */
  packed_weights *pw = NULL;
  if (a->shared) {
    pthread_mutex_lock(&a->shared->lock);
    for (pw = a->shared->head; pw; pw = pw->next)
      if (pw->w == a->w && pw->o0 == o0 && pw->o1 == o1 && dnnl_memory_desc_equal(&pw->md, wk))
        break;
    ok = pw ? dnnl_memory_create(&pc->wei, wk, d->engine, pw->data) == dnnl_success &&
                  dnnl_stream_create(&pc->stream, d->engine, dnnl_stream_default_flags) ==
                      dnnl_success
            : true;
    pthread_mutex_unlock(&a->shared->lock);
    if (pw) {
      if (!ok) {
        *oom = true;
        return false;
      }
      goto memories;
    }
  }
  dnnl_memory_t user = NULL;
  dnnl_primitive_desc_t rpd = NULL;
  dnnl_primitive_t reorder = NULL;
  void *packed = NULL;
  if (a->shared) {
    size_t bytes = dnnl_memory_desc_get_size(wk);
    packed = aligned_alloc(64, (bytes + 63) / 64 * 64);
    ok = packed != NULL;
  }
  ok = ok &&
       dnnl_memory_create(&pc->wei, wk, d->engine, packed ? packed : DNNL_MEMORY_ALLOCATE) ==
           dnnl_success &&
       dnnl_memory_create(&user, &wmd, d->engine,
                          (void *)(a->w + o0 * d->C * a->KH * a->KW)) == dnnl_success &&
       dnnl_reorder_primitive_desc_create(&rpd, &wmd, d->engine, wk, d->engine, NULL) ==
           dnnl_success &&
       dnnl_primitive_create(&reorder, rpd) == dnnl_success &&
       dnnl_stream_create(&pc->stream, d->engine, dnnl_stream_default_flags) == dnnl_success;
  if (ok) {
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, pc->wei}};
    ok = dnnl_primitive_execute(reorder, pc->stream, 2, args) == dnnl_success &&
         dnnl_stream_wait(pc->stream) == dnnl_success;
  }
  if (reorder) dnnl_primitive_destroy(reorder);
  if (rpd) dnnl_primitive_desc_destroy(rpd);
  if (user) dnnl_memory_destroy(user);
  if (ok && packed) { /* offered to the model's other sessions */
    packed_weights *e = calloc(1, sizeof *e);
    if ((ok = e != NULL)) {
      *e = (packed_weights){.w = a->w, .o0 = o0, .o1 = o1, .md = *wk, .data = packed};
      pthread_mutex_lock(&a->shared->lock);
      e->next = a->shared->head;
      a->shared->head = e;
      pthread_mutex_unlock(&a->shared->lock);
    }
  }
  if (!ok) {
    if (pc->wei) dnnl_memory_destroy(pc->wei);
    pc->wei = NULL;
    free(packed);
    *oom = true; /* the descriptors were accepted: what failed is memory */
    return false;
  }
memories:;
  pc->dst_at = (o0 / d->block) * d->OH * d->OW * d->block;
  ok = dnnl_memory_create(&pc->src, &smd, d->engine, d->src_buf ? d->src_buf : DNNL_MEMORY_NONE) ==
           dnnl_success &&
       dnnl_memory_create(&pc->dst, &dmd, d->engine,
                          d->dst_buf ? d->dst_buf + pc->dst_at : DNNL_MEMORY_NONE) ==
           dnnl_success &&
       (!a->bias || dnnl_memory_create(&pc->bias, &bmd, d->engine, (void *)(a->bias + o0)) ==
                        dnnl_success);
  if (!ok) *oom = true;
  return ok;
}

static void piece_free(dnnl_piece *pc) {
  if (pc->prim) dnnl_primitive_destroy(pc->prim);
  if (pc->src) dnnl_memory_destroy(pc->src);
  if (pc->wei) dnnl_memory_destroy(pc->wei);
  if (pc->bias) dnnl_memory_destroy(pc->bias);
  if (pc->dst) dnnl_memory_destroy(pc->dst);
  if (pc->stream) dnnl_stream_destroy(pc->stream);
  memset(pc, 0, sizeof *pc);
}

void conv_dnnl_free(conv_dnnl *d) {
  if (!d) return;
  for (int i = 0; i < d->npieces; i++) piece_free(&d->pieces[i]);
  free(d->pieces);
  if (!d->in_scratch) {
    free(d->src_buf);
    free(d->dst_buf);
  }
  if (d->engine) dnnl_engine_destroy(d->engine);
  free(d);
}

/* Pieces of whole blocks for `block`-channel blocking; false: no kernel. */
static bool pieces_create(create_args *a, int block, bool *oom) {
  conv_dnnl *d = a->d;
  const int nt = a->cn->nthreads > 1 ? a->cn->nthreads : 1;
  d->block = block;
  d->src_blocked = d->C >= block;
  const int64_t mblocks = (d->M + block - 1) / block;
  const int64_t cblocks = (d->C + block - 1) / block;
  int64_t np = nt * PIECES_PER_THREAD;
  if (nt == 1) np = 1;
  if (np > mblocks) np = mblocks;
  const int64_t src_floats = d->src_blocked ? cblocks * block * d->IH * d->IW : 0;
  const int64_t dst_floats = mblocks * block * d->OH * d->OW;
  d->in_scratch = a->cn->scratch != NULL;
  if (d->in_scratch) { /* bound at the first run */
    d->src_buf = d->dst_buf = NULL;
    d->dst_at = (src_floats + 15) / 16 * 16;
    cpu_scratch_reserve(a->cn, sizeof(float) * (size_t)(d->dst_at + dst_floats));
  } else {
    free(d->src_buf);
    free(d->dst_buf);
    d->src_buf = src_floats ? malloc(sizeof(float) * (size_t)src_floats) : NULL;
    d->dst_buf = malloc(sizeof(float) * (size_t)dst_floats);
  }
  d->pieces = calloc((size_t)np, sizeof *d->pieces);
  if ((!d->in_scratch && ((d->src_blocked && !d->src_buf) || !d->dst_buf)) || !d->pieces) {
    *oom = true;
    return false;
  }
  for (int64_t i = 0; i < np; i++) {
    int64_t b0 = mblocks * i / np, b1 = mblocks * (i + 1) / np;
    int64_t o1 = b1 * block < d->M ? b1 * block : d->M;
    d->npieces = (int)i + 1;
    if (!piece_create(a, &d->pieces[i], b0 * block, o1, oom)) return false;
  }
  return true;
}

static void create_all(void *arg) {
  create_args *a = arg;
  conv_dnnl *d = a->d;
  bool oom = false;
  /* 16-channel blocks where the CPU has AVX-512 kernels, else 8 (AVX2). */
  static const int blocks[] = {16, 8};
  for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
    if (pieces_create(a, blocks[i], &oom)) {
      a->st = CLCNN_OK;
      return;
    }
    for (int k = 0; k < d->npieces; k++) piece_free(&d->pieces[k]);
    free(d->pieces);
    d->pieces = NULL;
    d->npieces = 0;
    if (oom) break;
  }
  a->st = oom ? CLCNN_ERROR_OUT_OF_MEMORY : CLCNN_ERROR_UNSUPPORTED;
}

clcnn_status conv_dnnl_create(const cpu_node *cn, conv_dnnl **out, clcnn_err *err) {
  *out = NULL;
  const ir_node *n = cn->n;
  const conv_params *p = n->params;
  const window_geom *g = &p->geom;
  /* 1x1 kernels stay on SGEMM: strided ones read a quarter of the input,
   * which the blocked copy would convert whole (1.6x slower in ResNet-50). */
  if (n->op != CLCNN_OP_CONV || g->nspatial != 2 || p->group != 1 || g->kernel_size == 1)
    return CLCNN_OK;
  const char *knob = getenv("CLCNN_CONV"); /* docs/environment.md */
  if (knob && !strcmp(knob, "im2col")) return CLCNN_OK;
  const ir_value *w = ir_in(cn->g, n, 1), *b = ir_in(cn->g, n, 2);
  const ir_value *x = ir_in(cn->g, n, 0);
  if (!x || x->t.dtype != CLCNN_DTYPE_FLOAT32 || !w || !w->is_const ||
      w->t.dtype != CLCNN_DTYPE_FLOAT32 || (b && (!b->is_const || b->t.dtype != CLCNN_DTYPE_FLOAT32)))
    return CLCNN_OK;
  /* Small layers: the copies and the split cost more than they save. */
  if (p->out_channels < 8 || g->out_size * p->out_channels * p->in_channels * g->kernel_size < 4e6)
    return CLCNN_OK;
  conv_dnnl *d = calloc(1, sizeof *d);
  if (!d) return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
  d->C = p->in_channels;
  d->M = p->out_channels;
  d->IH = g->in[0];
  d->IW = g->in[1];
  d->OH = g->out[0];
  d->OW = g->out[1];
  d->batch = p->batch;
  if (dnnl_engine_create(&d->engine, dnnl_cpu, 0) != dnnl_success) {
    free(d);
    return CLCNN_OK;
  }
  create_args a = {.cn = cn, .d = d, .w = w->t.data, .bias = b ? b->t.data : NULL,
                   .KH = g->kernel[0], .KW = g->kernel[1]};
  if (cn->model && !w->owns_data) /* the model's weights: packed once for its sessions */
    a.shared = model_attachment(cn->model, &packed_key, registry_create, NULL, registry_free);
  for (int i = 0; i < 2; i++) {
    a.strides[i] = g->strides[i];
    a.dilates[i] = g->dilations[i] - 1; /* oneDNN counts the gaps */
    a.pad_l[i] = g->pads_begin[i];
    a.pad_r[i] = g->pads_end[i];
  }
  cpu_dnnl_single(create_all, &a);
  if (a.st != CLCNN_OK) {
    conv_dnnl_free(d);
    return a.st == CLCNN_ERROR_OUT_OF_MEMORY
               ? err_set(err, CLCNN_ERROR_OUT_OF_MEMORY,
                         "out of memory preparing the oneDNN convolution of node '%s'", n->name)
               : CLCNN_OK;
  }
  *out = d;
  return CLCNN_OK;
}

/* ----------------------------------------------------------------- run */

typedef struct exec_task {
  conv_dnnl *d;
  relayout_task unblock; /* the piece's output channels, back into NCHW */
  bool failed;
} exec_task;

typedef struct exec_one {
  dnnl_piece *pc;
  bool ok;
} exec_one;

static void exec_piece(void *arg) {
  exec_one *e = arg;
  dnnl_piece *pc = e->pc;
  dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, pc->src}, {DNNL_ARG_WEIGHTS, pc->wei},
                             {DNNL_ARG_DST, pc->dst}, {DNNL_ARG_BIAS, pc->bias}};
  e->ok = dnnl_primitive_execute(pc->prim, pc->stream, pc->bias ? 4 : 3, args) == dnnl_success &&
          dnnl_stream_wait(pc->stream) == dnnl_success;
}

static void exec_pieces(void *arg, int64_t begin, int64_t end, int thread) {
  exec_task *t = arg;
  for (int64_t i = begin; i < end; i++) {
    exec_one e = {.pc = &t->d->pieces[i]};
    cpu_dnnl_single(exec_piece, &e);
    if (!e.ok) t->failed = true; /* a benign race: any writer writes true */
    /* Its blocks while they are in this core's cache, with no wait for
     * the other pieces. */
    const int B = t->d->block;
    unblock_rows(&t->unblock, e.pc->o0 / B, (e.pc->o1 + B - 1) / B, thread);
  }
}

clcnn_status conv_dnnl_run(const cpu_node *cn, conv_dnnl *d, const float *x, const float *residual,
                           float *y, clcnn_err *err) {
  const int nt = cn->nthreads;
  const int B = d->block;
  const int64_t ihw = d->IH * d->IW, ohw = d->OH * d->OW;
  const int64_t cblocks = (d->C + B - 1) / B;
  if (d->in_scratch) {
    void *base = cpu_scratch_get(cn);
    if (!base)
      return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY,
                     "out of memory for the CPU backend's scratch (node '%s')", cn->n->name);
    if (base != d->bound) {
      d->src_buf = d->src_blocked ? base : NULL;
      d->dst_buf = (float *)base + d->dst_at;
      for (int i = 0; i < d->npieces; i++) {
        dnnl_piece *pc = &d->pieces[i];
        if ((d->src_blocked && dnnl_memory_set_data_handle(pc->src, d->src_buf) != dnnl_success) ||
            dnnl_memory_set_data_handle(pc->dst, d->dst_buf + pc->dst_at) != dnnl_success)
          return err_set(err, CLCNN_ERROR_INTERNAL, "oneDNN refused the scratch of node '%s'",
                         cn->n->name);
      }
      d->bound = base;
    }
  }
  for (int64_t img = 0; img < d->batch; img++) {
    const float *xi = x + img * d->C * ihw;
    if (d->src_blocked) {
      relayout_task bt = {.x = xi, .y = d->src_buf, .channels = d->C, .hw = ihw, .block = B,
                          .n = cn->n};
      cpu_parallel_for(cn->pool, nt, cblocks, 1, block_rows, &bt);
    } else {
      for (int i = 0; i < d->npieces; i++)
        if (dnnl_memory_set_data_handle(d->pieces[i].src, (void *)xi) != dnnl_success)
          return err_set(err, CLCNN_ERROR_INTERNAL, "oneDNN refused the input of node '%s'",
                         cn->n->name);
    }
    exec_task et = {.d = d,
                    .unblock = {.x = d->dst_buf,
                                .residual = residual ? residual + img * d->M * ohw : NULL,
                                .y = y + img * d->M * ohw, .channels = d->M, .hw = ohw,
                                .block = B, .n = cn->n}};
    cpu_parallel_for(cn->pool, nt, d->npieces, 1, exec_pieces, &et);
    if (et.failed)
      return err_set(err, CLCNN_ERROR_INTERNAL, "oneDNN's convolution failed in node '%s'",
                     cn->n->name);
  }
  return CLCNN_OK;
}

const char *conv_dnnl_impl(const conv_dnnl *d) { return d ? d->impl : ""; }

#else /* no oneDNN */

clcnn_status conv_dnnl_create(const cpu_node *cn, conv_dnnl **out, clcnn_err *err) {
  (void)cn;
  (void)err;
  *out = NULL;
  return CLCNN_OK;
}

void conv_dnnl_free(conv_dnnl *d) { (void)d; }

clcnn_status conv_dnnl_run(const cpu_node *cn, conv_dnnl *d, const float *x, const float *residual,
                           float *y, clcnn_err *err) {
  (void)d, (void)x, (void)residual, (void)y;
  return err_set(err, CLCNN_ERROR_INTERNAL, "node '%s': no oneDNN in this build", cn->n->name);
}

const char *conv_dnnl_impl(const conv_dnnl *d) {
  (void)d;
  return "";
}

#endif
