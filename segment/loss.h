/* The segmentation loss and prediction as the official TPU code computes them
 * (tensorflow/tpu models/official/retinanet/retinanet_segmentation_model.py): the network's
 * logits lie at stride s of the image (8), so training compares them with the labels taken at
 * every s-th row and column from the top left (labels[0::s, 0::s]); softmax cross-entropy per
 * pixel, pixels labelled `ignore` (255) left out, the sum divided by the pixels counted.
 * Evaluation resizes each image's logits bilinearly, corners aligned, to the labels' size and
 * takes the arg-max class per pixel. Logits are CNHW planes (class k of image i at
 * logits + (k n + i) h w), labels one byte per pixel, H x W per image. */
#ifndef DB_SEGMENT_LOSS_H
#define DB_SEGMENT_LOSS_H

#include <stdint.h>

/* The mean cross-entropy over the counted pixels of the n images (0 when none is counted), the
 * count through *counted; with dlogits, its gradient (softmax - one-hot) / counted, 0 at the
 * ignored pixels. Labels are 0..K-1 or ignore (checked when the data set is read). Per-image
 * sums in a fixed order: the same bits with any thread count. */
double db_seg_loss(float *dlogits, const float *logits, const uint8_t *labels, int n, int K, int h, int w, int H, int W,
                   int ignore, long *counted);
/* Image i's prediction at H x W (pred, one class per pixel): its logits resized with aligned
 * corners, then the arg-max (the lowest class on ties); scratch: K * H * W floats */
void db_seg_predict(uint8_t *pred, const float *logits, int i, int n, int K, int h, int w, int H, int W, float *scratch);

#endif
