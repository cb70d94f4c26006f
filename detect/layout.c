#include "detect/layout.h"

#include <stddef.h>

/* to_rows 1: rows from levels; 0: levels from rows */
static void move(float *rows, float *const *levels, const db_anchors *a, int n, int C, int to_rows) {
    const int A = a->per_position;
    for (int l = 0; l < a->levels; l++) {
        const int h = a->level_h[l], w = a->level_w[l], hw = h * w;
        float *lv = levels[l];
        #pragma omp parallel for schedule(static)
        for (int j = 0; j < n; j++)
            for (int p = 0; p < hw; p++)
                for (int an = 0; an < A; an++) {
                    float *row = rows + ((size_t)j * a->n + a->level_first[l] + (size_t)p * A + an) * C;
                    for (int c = 0; c < C; c++) {
                        float *v = lv + (((size_t)(an * C + c) * n + j) * hw + p);
                        if (to_rows) row[c] = *v;
                        else *v = row[c];
                    }
                }
    }
}

void db_detect_gather(float *rows, const float *const *levels, const db_anchors *a, int n, int C) {
    move(rows, (float *const *)levels, a, n, C, 1);
}

void db_detect_scatter(float *const *levels, const float *rows, const db_anchors *a, int n, int C) {
    move((float *)rows, levels, a, n, C, 0);
}
