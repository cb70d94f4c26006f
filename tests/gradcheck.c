#include "tests/gradcheck.h"

#include <math.h>

#include "core/philox.h"
#include "tests/check.h"

void tc_fill(float *x, size_t n, uint64_t seed, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * db_u01(db_rand4(seed, 7, 0, i).v[0]);
}

int tc_gradcheck_n(const char *what, double (*loss)(void *ctx), void *ctx, float *x,
                   const float *analytic, size_t n, int samples, float h, double atol, double rtol,
                   int strict, int *checked) {
    int bad = 0;
    size_t stride = n <= (size_t)samples ? 1 : n / samples;
    for (size_t i = 0; i < n; i += stride) {
        float keep = x[i];
        x[i] = keep + h;
        double lp = loss(ctx);
        x[i] = keep - h;
        double lm = loss(ctx);
        x[i] = keep;
        double num = (lp - lm) / (2.0 * h);
        if (checked) (*checked)++;
        if (fabs(num - analytic[i]) > atol + rtol * fabs(num)) {
            if (!strict) { bad++; continue; }
            if (bad < 5)
                CHECK(0, "%s[%zu]: analytic %.6g, numeric %.6g", what, i, analytic[i], num);
            else
                db_test_failures++;
            bad++;
        }
    }
    return bad;
}
