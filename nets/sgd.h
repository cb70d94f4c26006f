/* The SGD update of one parameter element, shared by the CPU loop and the CUDA launcher.
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

#endif
