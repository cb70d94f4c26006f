/* The detector's training loss on the GPU graph's own outputs (nets/graph_cuda.h hands them over
 * in nets/gpu_backend.cu), so that a
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

#ifdef __cplusplus
extern "C" {
#endif

typedef struct db_gpu_detect db_gpu_detect;

/* For a detector whose outputs are, level by level, the class logits (A*K channels) and the box
 * codes (A*4) as NCHW device maps, over anchors a (kept by the caller), for batches of up to
 * n_max images */
db_status db_gpu_detect_create(db_gpu_detect **out, const db_anchors *a, int K, int n_max);
void db_gpu_detect_destroy(db_gpu_detect *d);
/* On stream (a cudaStream_t), after the forward of a batch of n: the loss of the targets
 * (cls_t, box_t: host arrays of n * anchors and 4 n * anchors, as db_label_anchors makes them)
 * over the levels' device maps cls[l] and box[l] into *r, their gradients set into dcls[l] and
 * dbox[l] (waits for the loss's parts) */
db_status db_gpu_detect_loss(db_gpu_detect *d, void *stream, const float *const *cls, const float *const *box,
                             float *const *dcls, float *const *dbox, const int *cls_t, const float *box_t, int n,
                             const db_detect_loss_cfg *c, db_detect_loss_parts *r);

#ifdef __cplusplus
}
#endif
#endif
