/* Fully connected layer, feature-major (f,n) -> (o,n), and the classification loss. */
#include <float.h>
#include <math.h>

#include "core/gemm.h"
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
        for (int i = 0; i < o; i++) {
            double s = 0.0;
            for (int j = 0; j < n; j++) s += dout[(size_t)i * n + j];
            dbias[i] = (float)s;
        }
    if (din) db_sgemm(1, 0, f, n, o, 1.0f, weight, f, dout, n, accum ? 1.0f : 0.0f, din, n);
}

double db_softmax_xent(float *dlogits, const float *logits, const int *labels, int k, int n,
                       float smoothing) {
    double total = 0.0;
    for (int j = 0; j < n; j++) {
        float mx = -FLT_MAX;
        for (int i = 0; i < k; i++) mx = fmaxf(mx, logits[(size_t)i * n + j]);
        double z = 0.0;
        for (int i = 0; i < k; i++) z += exp((double)logits[(size_t)i * n + j] - mx);
        double logz = log(z) + mx, loss = 0.0;
        for (int i = 0; i < k; i++) {
            double q = smoothing / k + (i == labels[j] ? 1.0 - smoothing : 0.0);
            double logp = logits[(size_t)i * n + j] - logz;
            if (q > 0.0) loss -= q * logp;
            if (dlogits) dlogits[(size_t)i * n + j] = (float)((exp(logp) - q) / n);
        }
        total += loss;
    }
    return total / n;
}

void db_topk_correct(const float *logits, const int *labels, int k, int n, int *top1, int *top5) {
    int c1 = 0, c5 = 0;
    for (int j = 0; j < n; j++) {
        float v = logits[(size_t)labels[j] * n + j];
        if (isnan(v)) continue; /* a NaN logit is never a correct answer */
        int above = 0; /* classes ranked strictly before the label; ties go to the lower index */
        for (int i = 0; i < k; i++) {
            float u = logits[(size_t)i * n + j];
            if (u > v || isnan(u) || (u == v && i < labels[j])) above++;
        }
        c1 += above == 0;
        c5 += above < 5;
    }
    *top1 = c1;
    *top5 = c5;
}
