/* The SGD update of one parameter element, shared by the CPU loop and the CUDA launcher.
 * PyTorch's formulation: d = g + wd*p; v = mu*v + d; step = nesterov ? d + mu*v : v. */
#ifndef DB_NETS_SGD_H
#define DB_NETS_SGD_H

#include "core/hd.h"

DB_HD void db_sgd_element(float *p, float *v, float g, float lr, float mu, float wd, int nesterov) {
    float d = g + wd * *p;
    float vn = mu * *v + d;
    *v = vn;
    *p -= lr * (nesterov ? d + mu * vn : vn);
}

#endif
