/* Fully connected layer, feature-major (f,n) -> (o,n), and the classification loss. */

#include "core/gemm.h"
#include "nets/bodies.h"
#include "nets/ops.h"

void db_linear_forward(float *out, const float *in, const float *weight, const float *bias, int f,
                       int o, int n) {
    for (int i = 0; i < o; i++)
        for (int j = 0; j < n; j++) out[(size_t)i * n + j] = bias ? bias[i] : 0.0f;
    db_sgemm(0, 0, o, n, f, 1.0f, weight, f, in, n, 1.0f, out, n);
}

void db_linear_backward(float *din, float *dweight, float *dbias, const float *dout,
                        const float *in, const float *weight, int f, int o, int n, int accum) {
    db_sgemm(0, 1, o, f, n, 1.0f, dout, n, in, n, 0.0f, dweight, f);
    if (dbias)
        for (int i = 0; i < o; i++) dbias[i] = db_row_sum(dout + (size_t)i * n, n);
    if (din) db_sgemm(1, 0, f, n, o, 1.0f, weight, f, dout, n, accum ? 1.0f : 0.0f, din, n);
}

double db_softmax_xent(float *dlogits, const float *logits, const int *labels, int k, int n,
                       float smoothing) {
    double total = 0.0;
    for (int j = 0; j < n; j++) total += db_xent_sample(dlogits, logits, labels[j], k, n, j, smoothing);
    return total / n;
}

void db_topk_correct(const float *logits, const int *labels, int k, int n, int *top1, int *top5) {
    int c1 = 0, c5 = 0;
    for (int j = 0; j < n; j++) {
        int rank = db_label_rank(logits, labels[j], k, n, j);
        c1 += rank == 0;
        c5 += rank >= 0 && rank < 5;
    }
    *top1 = c1;
    *top5 = c5;
}
