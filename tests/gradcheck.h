/* Finite-difference gradient checking shared by the op and network tests. */
#ifndef DB_TESTS_GRADCHECK_H
#define DB_TESTS_GRADCHECK_H

#include <stddef.h>
#include <stdint.h>

/* Fill with uniform values in [lo, hi) from a fixed seed. */
void tc_fill(float *x, size_t n, uint64_t seed, float lo, float hi);
/* Central differences of L = loss(ctx) with respect to x[i] for up to `samples` indices spread
 * over x, compared against analytic[i]; reports each mismatch as a CHECK failure naming what.
 * Returns the number of mismatches. */
int tc_gradcheck(const char *what, double (*loss)(void *ctx), void *ctx, float *x,
                 const float *analytic, size_t n, int samples, float h, double atol, double rtol);

#endif
