/* CPU backend: the dynamic family (NonZero, NonMaxSuppression). Each output
 * buffer has the upper-bound shape from infer(); run() writes the actual
 * dims into out[0].dims and the data densely for those dims. */
#include "../ops/dynamic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"

/* -------------------------------------------------------------- NonZero */

static bool element_nonzero(const clcnn_tensor *x, int64_t i, size_t es) {
  switch (x->dtype) {
    case CLCNN_DTYPE_FLOAT32:
    case CLCNN_DTYPE_FLOAT64: return tensor_get_f64(x, i) != 0; /* NaN counts, -0 does not */
    case CLCNN_DTYPE_FLOAT16: return (((const uint16_t *)x->data)[i] & 0x7fff) != 0;
    default: {
      const uint8_t *p = (const uint8_t *)x->data + (size_t)i * es;
      for (size_t b = 0; b < es; b++)
        if (p[b]) return true;
      return false;
    }
  }
}

/* Indices of the non-zero elements in row-major order: row d of the output
 * holds their coordinate d. */
static clcnn_status nonzero_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                                int nout, clcnn_err *err) {
  (void)cn, (void)nin, (void)nout, (void)err;
  const clcnn_tensor *x = &in[0];
  size_t es = dtype_size(x->dtype);
  int64_t numel = clcnn_tensor_numel(x), count = 0;
  for (int64_t i = 0; i < numel; i++) count += element_nonzero(x, i, es);
  int rank = x->rank > 0 ? x->rank : 1;
  int64_t *y = out[0].data, j = 0;
  for (int64_t i = 0; i < numel; i++) {
    if (!element_nonzero(x, i, es)) continue;
    int64_t rest = i;
    for (int d = x->rank - 1; d >= 0; d--) {
      y[(int64_t)d * count + j] = x->dims[d] ? rest % x->dims[d] : 0;
      rest = x->dims[d] ? rest / x->dims[d] : 0;
    }
    if (x->rank == 0) y[j] = 0;
    j++;
  }
  out[0].dims[0] = rank;
  out[0].dims[1] = count;
  return CLCNN_OK;
}

/* ---------------------------------------------------- NonMaxSuppression */

typedef struct nms_box {
  float score;
  int64_t index;
} nms_box;

/* Higher scores first; equal scores by lower box index; NaN last. */
static int nms_order(const void *a, const void *b) {
  const nms_box *x = a, *y = b;
  bool xn = isnan(x->score), yn = isnan(y->score);
  if (xn != yn) return xn ? 1 : -1;
  if (!xn && x->score != y->score) return x->score > y->score ? -1 : 1;
  return (x->index > y->index) - (x->index < y->index);
}

/* Box corners as x_min, x_max, y_min, y_max. */
static void nms_corners(const float *b, int center, float *c) {
  if (center) {
    float hw = b[2] / 2, hh = b[3] / 2;
    c[0] = b[0] - hw, c[1] = b[0] + hw, c[2] = b[1] - hh, c[3] = b[1] + hh;
  } else {
    c[0] = b[1] < b[3] ? b[1] : b[3], c[1] = b[1] < b[3] ? b[3] : b[1];
    c[2] = b[0] < b[2] ? b[0] : b[2], c[3] = b[0] < b[2] ? b[2] : b[0];
  }
}

/* Whether box a suppresses box b: IoU above the threshold. Boxes that do not
 * overlap, or have no area, never suppress each other. */
static bool nms_suppresses(const float *a, const float *b, float iou_threshold) {
  float ix0 = a[0] > b[0] ? a[0] : b[0], ix1 = a[1] < b[1] ? a[1] : b[1];
  if (ix1 <= ix0) return false;
  float iy0 = a[2] > b[2] ? a[2] : b[2], iy1 = a[3] < b[3] ? a[3] : b[3];
  if (iy1 <= iy0) return false;
  float inter = (ix1 - ix0) * (iy1 - iy0);
  float area_a = (a[1] - a[0]) * (a[3] - a[2]), area_b = (b[1] - b[0]) * (b[3] - b[2]);
  float uni = area_a + area_b - inter;
  if (inter <= 0 || area_a <= 0 || area_b <= 0 || uni <= 0) return false;
  return inter / uni > iou_threshold;
}

/* Per batch and class: boxes above score_threshold (when given) by falling
 * score, each kept unless a kept box of the same class overlaps it by more
 * than iou_threshold, until max_output_boxes_per_class are kept. Output rows
 * [batch, class, box] in that order. */
static clcnn_status nms_run(cpu_node *cn, const clcnn_tensor *in, int nin, clcnn_tensor *out,
                            int nout, clcnn_err *err) {
  (void)nout;
  const nms_params *p = cn->n->params;
  const float *boxes = in[0].data, *scores = in[1].data;
  int64_t max_out = 0;
  float iou_threshold = 0, score_threshold = 0;
  bool have_score = false;
  if (nin > 2 && in[2].data && clcnn_tensor_numel(&in[2]) > 0) max_out = tensor_get_i64(&in[2], 0);
  if (nin > 3 && in[3].data && clcnn_tensor_numel(&in[3]) > 0)
    iou_threshold = (float)tensor_get_f64(&in[3], 0);
  if (nin > 4 && in[4].data && clcnn_tensor_numel(&in[4]) > 0) {
    score_threshold = (float)tensor_get_f64(&in[4], 0);
    have_score = true;
  }
  int64_t nb = p->boxes, limit = out[0].dims[0], count = 0;
  if (max_out > nb) max_out = nb;
  int64_t *y = out[0].data;
  nms_box *cand = malloc(sizeof *cand * (size_t)(nb ? nb : 1));
  float *corners = malloc(sizeof(float) * 4 * (size_t)(nb ? nb : 1));
  int64_t *kept = malloc(sizeof(int64_t) * (size_t)(nb ? nb : 1));
  clcnn_status st = CLCNN_OK;
  if (!cand || !corners || !kept) {
    st = err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory");
    goto out;
  }
  for (int64_t b = 0; b < p->batches && max_out > 0; b++) {
    for (int64_t i = 0; i < nb; i++)
      nms_corners(boxes + (b * nb + i) * 4, p->center_point_box, corners + 4 * i);
    for (int64_t c = 0; c < p->classes; c++) {
      const float *sc = scores + (b * p->classes + c) * nb;
      int64_t ncand = 0, nkept = 0;
      for (int64_t i = 0; i < nb; i++)
        if (!have_score || sc[i] > score_threshold) cand[ncand++] = (nms_box){sc[i], i};
      qsort(cand, (size_t)ncand, sizeof *cand, nms_order);
      for (int64_t k = 0; k < ncand && nkept < max_out; k++) {
        const float *box = corners + 4 * cand[k].index;
        bool keep = true;
        for (int64_t j = 0; j < nkept && keep; j++)
          keep = !nms_suppresses(corners + 4 * kept[j], box, iou_threshold);
        if (!keep) continue;
        if (count == limit) {
          st = err_set(err, CLCNN_ERROR_INTERNAL, "more boxes selected than the %lld planned",
                       (long long)limit);
          goto out;
        }
        kept[nkept++] = cand[k].index;
        y[3 * count] = b, y[3 * count + 1] = c, y[3 * count + 2] = cand[k].index;
        count++;
      }
    }
  }
  out[0].dims[0] = count;
  out[0].dims[1] = 3;
out:
  free(cand);
  free(corners);
  free(kept);
  return st;
}

static const cpu_op nonzero_cpu = {NULL, NULL, nonzero_run, NULL};
static const cpu_op nms_cpu = {NULL, NULL, nms_run, NULL};

const cpu_op *const cpu_ops_dynamic[CLCNN_OP_COUNT] = {
    [CLCNN_OP_NONZERO] = &nonzero_cpu,
    [CLCNN_OP_NON_MAX_SUPPRESSION] = &nms_cpu,
};
