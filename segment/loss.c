#include "segment/loss.h"

#include <math.h>
#include <stdlib.h>

#include "nets/ops.h"

double db_seg_loss(float *dlogits, const float *logits, const uint8_t *labels, int n, int K, int h, int w, int H, int W,
                   int ignore, long *counted) {
    const size_t hw = (size_t)h * w;
    const int sy = H / h, sx = W / w;
    double *sums = calloc((size_t)n + 1, sizeof *sums);
    long *counts = calloc((size_t)n + 1, sizeof *counts), total = 0;
    if (!sums || !counts) { free(sums); free(counts); *counted = -1; return NAN; }
    for (int i = 0; i < n; i++) /* the count first: the gradient's scale */
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) counts[i] += labels[(size_t)i * H * W + (size_t)y * sy * W + (size_t)x * sx] != ignore;
    for (int i = 0; i < n; i++) total += counts[i];
    const float scale = total ? 1.0f / (float)total : 0.0f;
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        double s = 0.0;
        for (size_t p = 0; p < hw; p++) {
            const int y = (int)(p / w), x = (int)(p % w);
            const int t = labels[(size_t)i * H * W + (size_t)y * sy * W + (size_t)x * sx];
            const float *l = logits + (size_t)i * hw + p; /* class k at l[k n hw] */
            if (t == ignore) {
                if (dlogits)
                    for (int k = 0; k < K; k++) dlogits[((size_t)k * n + i) * hw + p] = 0.0f;
                continue;
            }
            float m = l[0];
            for (int k = 1; k < K; k++) m = fmaxf(m, l[(size_t)k * n * hw]);
            double z = 0.0;
            for (int k = 0; k < K; k++) z += exp((double)l[(size_t)k * n * hw] - m);
            s += log(z) + m - l[(size_t)t * n * hw];
            if (dlogits)
                for (int k = 0; k < K; k++) {
                    const float pk = (float)(exp((double)l[(size_t)k * n * hw] - m) / z);
                    dlogits[((size_t)k * n + i) * hw + p] = (pk - (k == t)) * scale;
                }
        }
        sums[i] = s;
    }
    double loss = 0.0;
    for (int i = 0; i < n; i++) loss += sums[i];
    free(sums);
    free(counts);
    *counted = total;
    return total ? loss / (double)total : 0.0;
}

void db_seg_predict(uint8_t *pred, const float *logits, int i, int n, int K, int h, int w, int H, int W, float *scratch) {
    const size_t hw = (size_t)h * w, HW = (size_t)H * W;
    for (int k = 0; k < K; k++) db_resize_forward(scratch + k * HW, logits + ((size_t)k * n + i) * hw, 1, h, w, H, W);
    for (size_t p = 0; p < HW; p++) {
        int best = 0;
        for (int k = 1; k < K; k++)
            if (scratch[k * HW + p] > scratch[best * HW + p]) best = k;
        pred[p] = (uint8_t)best;
    }
}
