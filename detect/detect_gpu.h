/* The detector's training loss on the GPU graph's own outputs (nets/graph_cuda.h), so that a
 * training step sends the batch's targets up instead of the ten output maps down and their
 * gradients back (about 1.6 GB each way for a batch of 64 at COCO's 640 pixels): the level maps
 * gathered into anchor rows, the focal + Huber loss and its gradients (detect/detect_cuda.h, the
 * CPU's bodies summed in a fixed order), the gradients scattered into the outputs' gradients,
 * which the next backward takes. Built into the GPU backend (nets/gpu_backend.h). */
#ifndef DB_DETECT_DETECT_GPU_H
#define DB_DETECT_DETECT_GPU_H

#include "core/status.h"
#include "detect/anchors.h"
#include "detect/loss.h"
#include "nets/graph_cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct db_gpu_detect db_gpu_detect;

/* For a detector on gg whose outputs are, level by level, the class logits (A*K channels) and
 * the box codes (A*4), over anchors a (kept by the caller), for batches of up to n_max images */
db_status db_gpu_detect_create(db_gpu_detect **out, db_gpu_graph *gg, const db_anchors *a, int K, int n_max);
void db_gpu_detect_destroy(db_gpu_detect *d);
/* After db_gpu_graph_forward(gg, .., 0) of a batch of n: the loss of the targets (cls_t, box_t:
 * host arrays of n * anchors and 4 n * anchors, as db_label_anchors makes them) into *r, and
 * the outputs' gradients on the device (waits for the loss's parts) */
db_status db_gpu_detect_loss(db_gpu_detect *d, const int *cls_t, const float *box_t, int n, const db_detect_loss_cfg *c,
                             db_detect_loss_parts *r);

#ifdef __cplusplus
}
#endif
#endif
