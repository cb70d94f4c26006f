/* The SGD and RMSProp updates of one parameter element, shared by the CPU loop and the CUDA
 * launcher.
 * PyTorch's formulation: d = g + wd*p; v = mu*v + d; step = nesterov ? d + mu*v : v.
 * Every multiply-add is an explicit fmaf: nvcc would otherwise contract some of them into
 * FMAs and the C compiler (ISO mode) none, and the two devices would drift apart by an ulp per
 * step. With fmaf both compute the same correctly rounded values, bit for bit. */
#ifndef DB_NETS_SGD_H
#define DB_NETS_SGD_H

#include <math.h>

#include "core/hd.h"

DB_HD void db_sgd_element(float *p, float *v, float g, float lr, float mu, float wd, int nesterov) {
    float d = fmaf(wd, *p, g);
    float vn = fmaf(mu, *v, d);
    *v = vn;
    *p = fmaf(-lr, nesterov ? fmaf(mu, vn, d) : vn, *p);
}

/* TensorFlow 1's RMSProp (tf.train.RMSPropOptimizer, not centred), the official AmoebaNet code's
 * optimizer, with the weight decay added to the gradient as its L2 loss does: d = g + wd*p;
 * ms = rho*ms + (1-rho)*d^2 (ms starts at 1, as TensorFlow's slot); mom = mu*mom +
 * lr*d/sqrt(ms + eps); p -= mom. */
DB_HD void db_rmsprop_element(float *p, float *mom, float *ms, float g, float lr, float rho, float mu, float eps,
                              float wd) {
    float d = fmaf(wd, *p, g);
    float s = fmaf(rho, *ms, (1.0f - rho) * d * d);
    *ms = s;
    float m = fmaf(mu, *mom, lr * d / sqrtf(s + eps));
    *mom = m;
    *p -= m;
}

#endif
