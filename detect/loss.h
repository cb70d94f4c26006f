/* RetinaNet's training loss, as the official code (retinanet_model.py): a sigmoid focal loss
 * over every class of every anchor not ignored (one-hot targets, background all zeros) plus a
 * Huber loss on the box codes of the anchors whose target code is non-zero, both summed over the
 * batch and divided by its number of positive anchors + 1 (the box loss by 4 times that);
 * total = class loss + box_weight * box loss. Ignored anchors (between the matcher's two
 * thresholds) take no part, in the loss or the count; the official labeler, whose thresholds
 * are both 0.5, has none, and would count them as positives and score them as background. Per-element bodies with their gradients (host and
 * device), then the batch loss over anchor-major arrays: logits[i * K + k] and codes[i * 4 + j]
 * for anchor i of the batch (image, level, position, anchor). */
#ifndef DB_DETECT_LOSS_H
#define DB_DETECT_LOSS_H

#include <math.h>

#include "core/hd.h"

/* alpha_t (1 - p_t)^gamma * CE(logit, t), p = sigmoid(logit), p_t = p for t = 1, 1 - p for
 * t = 0, alpha_t = alpha or 1 - alpha; its derivative in the logit into *grad. CE in the stable
 * form max(x, 0) - x t + log1p(exp(-|x|)). */
DB_HD float db_focal1(float x, int t, float alpha, float gamma, float *grad) {
    float e = expf(-fabsf(x)), ce = fmaxf(x, 0.0f) - (t ? x : 0.0f) + log1pf(e);
    float p = x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
    if (t) {
        float m = powf(1.0f - p, gamma);
        *grad = alpha * m * (p - 1.0f - gamma * p * ce);
        return alpha * m * ce;
    }
    float m = powf(p, gamma);
    *grad = (1.0f - alpha) * m * (p + gamma * (1.0f - p) * ce);
    return (1.0f - alpha) * m * ce;
}

/* Huber loss of d = prediction - target: d^2 / 2 within delta, delta (|d| - delta / 2) beyond;
 * its derivative in the prediction into *grad */
DB_HD float db_huber1(float d, float delta, float *grad) {
    float a = fabsf(d);
    if (a <= delta) { *grad = d; return 0.5f * d * d; }
    *grad = d > 0.0f ? delta : -delta;
    return delta * (a - 0.5f * delta);
}

typedef struct {
    float alpha, gamma;   /* 0.25, 1.5 (the official code's default; the RetinaNet paper's gamma is 2) */
    float huber_delta;    /* 0.1 */
    float box_weight;     /* 50 */
} db_detect_loss_cfg;

#ifdef __cplusplus
extern "C" {
#endif
db_detect_loss_cfg db_detect_loss_defaults(void);

typedef struct { double total, cls, box; long positives; } db_detect_loss_parts;

/* The loss of n anchors (a whole batch) with K classes: logits (n x K), codes (n x 4), cls
 * targets (n: class, -1 background, -2 ignored), box targets (n x 4). Gradients of the total
 * into dlogits and dcodes (either may be NULL). */
db_detect_loss_parts db_detect_loss(float *dlogits, float *dcodes, const float *logits, const float *codes,
                                    const int *cls_t, const float *box_t, long n, int K,
                                    const db_detect_loss_cfg *c);

#ifdef __cplusplus
}
#endif

#endif
