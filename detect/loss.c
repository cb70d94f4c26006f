#include "detect/loss.h"

#include "detect/boxes.h"

db_detect_loss_cfg db_detect_loss_defaults(void) {
    db_detect_loss_cfg c = {0.25f, 2.0f, 0.1f, 50.0f};
    return c;
}

db_detect_loss_parts db_detect_loss(float *dlogits, float *dcodes, const float *logits, const float *codes,
                                    const int *cls_t, const float *box_t, long n, int K,
                                    const db_detect_loss_cfg *c) {
    db_detect_loss_parts r = {0, 0, 0, 0};
    for (long i = 0; i < n; i++) r.positives += cls_t[i] >= 0;
    const double norm = (double)r.positives + 1.0;
    const float gc = (float)(1.0 / norm), gb = (float)(c->box_weight / (4.0 * norm));
    double cls = 0.0, box = 0.0;
    #pragma omp parallel for reduction(+ : cls, box) schedule(static)
    for (long i = 0; i < n; i++) {
        const float *x = logits + i * K;
        for (int k = 0; k < K; k++) {
            float g = 0.0f;
            if (cls_t[i] != -2) cls += db_focal1(x[k], cls_t[i] == k, c->alpha, c->gamma, &g);
            if (dlogits) dlogits[i * K + k] = g * gc;
        }
        for (int j = 0; j < DB_BOX_CODE; j++) {
            float g = 0.0f, t = box_t[i * DB_BOX_CODE + j];
            if (t != 0.0f) box += db_huber1(codes[i * DB_BOX_CODE + j] - t, c->huber_delta, &g);
            if (dcodes) dcodes[i * DB_BOX_CODE + j] = g * gb;
        }
    }
    r.cls = cls / norm;
    r.box = box / (4.0 * norm);
    r.total = r.cls + c->box_weight * r.box;
    return r;
}
