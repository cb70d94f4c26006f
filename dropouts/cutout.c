#include "dropouts/cutout.h"

#include <stddef.h>

void db_cutout(float *x, const int *ids, int size, uint64_t seed, uint32_t step, int c, int n, int h, int w) {
    if (size < 1) return;
    #pragma omp parallel for schedule(static)
    for (int j = 0; j < n; j++) {
        int y0, x0;
        db_cutout_corner(seed, step, ids[j], size, h, w, &y0, &x0);
        for (int ch = 0; ch < c; ch++) {
            float *plane = x + ((size_t)ch * n + j) * h * w;
            for (int y = y0 < 0 ? 0 : y0; y < y0 + size && y < h; y++)
                for (int xx = x0 < 0 ? 0 : x0; xx < x0 + size && xx < w; xx++) plane[(size_t)y * w + xx] = 0.0f;
        }
    }
}
