/* Memory planning: buffers with disjoint lifetimes share arena space.
 * Greedy by size (largest first), each placed at the lowest offset that does
 * not collide with an already placed buffer alive at the same time. This is
 * the classic heuristic of inference runtimes: near-optimal on CNN chains,
 * O(n^2) on a few hundred buffers. Used by both backends. */
#include <stdlib.h>

#include "api.h"

static size_t align_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

clcnn_status plan_arena(const plan_item *items, int n, size_t alignment, size_t *offsets,
                        size_t *total, clcnn_err *err) {
  *total = 0;
  if (n <= 0) return CLCNN_OK;
  int *order = malloc(sizeof(int) * (size_t)n);
  int *placed = malloc(sizeof(int) * (size_t)n);
  if (!order || !placed) {
    free(order);
    free(placed);
    return err_set(err, CLCNN_ERROR_OUT_OF_MEMORY, "out of memory planning memory");
  }
  for (int i = 0; i < n; i++) order[i] = i;
  /* Insertion sort by size, largest first (stable, no global state). */
  for (int i = 1; i < n; i++) {
    int k = order[i], j = i - 1;
    while (j >= 0 && (items[order[j]].bytes < items[k].bytes)) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = k;
  }
  int nplaced = 0;
  for (int oi = 0; oi < n; oi++) {
    int i = order[oi];
    size_t size = align_up(items[i].bytes ? items[i].bytes : 1, alignment);
    size_t off = 0;
    /* Try offsets in increasing order: 0 and the end of every overlapping
     * placed buffer; take the first that fits among all of them. */
    bool moved = true;
    while (moved) {
      moved = false;
      for (int pj = 0; pj < nplaced; pj++) {
        int j = placed[pj];
        if (items[j].last < items[i].first || items[i].last < items[j].first) continue;
        size_t js = align_up(items[j].bytes ? items[j].bytes : 1, alignment);
        if (off < offsets[j] + js && offsets[j] < off + size) {
          off = offsets[j] + js;
          moved = true;
        }
      }
    }
    offsets[i] = off;
    placed[nplaced++] = i;
    if (off + size > *total) *total = off + size;
  }
  free(order);
  free(placed);
  return CLCNN_OK;
}
