#include "detect/loss.h"

#include <omp.h>

#include "detect/boxes.h"

db_detect_loss_cfg db_detect_loss_defaults(void) {
    db_detect_loss_cfg c = {0.25f, 1.5f, 0.1f, 50.0f};
    return c;
}

db_detect_loss_parts db_detect_loss(float *dlogits, float *dcodes, const float *logits, const float *codes,
                                    const int *cls_t, const float *box_t, long n, int K,
                                    const db_detect_loss_cfg *c) {
    db_detect_loss_parts r = {0, 0, 0, 0};
    for (long i = 0; i < n; i++) r.positives += cls_t[i] >= 0;
    const double norm = (double)r.positives + 1.0;
    const float gc = (float)(1.0 / norm), gb = (float)(c->box_weight / (4.0 * norm));
    /* each thread a fixed run of anchors, its sums added in thread order: the same bits for the
     * same thread count, whatever order the threads finish in */
    enum { MAXT = 256 };
    double part[2 * MAXT] = {0};
    #pragma omp parallel num_threads(omp_get_max_threads() < MAXT ? omp_get_max_threads() : MAXT)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const long lo = n * t / nt, hi = n * (t + 1) / nt;
        double cls = 0.0, box = 0.0;
        for (long i = lo; i < hi; i++) {
            const float *x = logits + i * K;
            for (int k = 0; k < K; k++) {
                float g = 0.0f;
                if (cls_t[i] != -2) cls += db_focal1(x[k], cls_t[i] == k, c->alpha, c->gamma, &g);
                if (dlogits) dlogits[i * K + k] = g * gc;
            }
            for (int j = 0; j < DB_BOX_CODE; j++) {
                float g = 0.0f, tj = box_t[i * DB_BOX_CODE + j];
                if (tj != 0.0f) box += db_huber1(codes[i * DB_BOX_CODE + j] - tj, c->huber_delta, &g);
                if (dcodes) dcodes[i * DB_BOX_CODE + j] = g * gb;
            }
        }
        part[2 * t] = cls, part[2 * t + 1] = box;
    }
    double cls = 0.0, box = 0.0;
    for (int t = 0; t < MAXT; t++) cls += part[2 * t], box += part[2 * t + 1];
    r.cls = cls / norm;
    r.box = box / (4.0 * norm);
    r.total = r.cls + c->box_weight * r.box;
    return r;
}
