/* Between a detector's level outputs and the anchor-major rows the loss and the
 * post-processing read: level l's output is CNHW with A*C channels (channel a*C + c: anchor a's
 * value c) on an h_l x w_l map; row r = (image j, anchor i of the image in db_anchors order:
 * level, row, column, anchor) holds C values. The gradient goes back the same way. */
#ifndef DB_DETECT_LAYOUT_H
#define DB_DETECT_LAYOUT_H

#include "detect/anchors.h"

#ifdef __cplusplus
extern "C" {
#endif
/* rows (n * a->n x C) from levels[l] (a->levels outputs of A*C channels, batch n) */
void db_detect_gather(float *rows, const float *const *levels, const db_anchors *a, int n, int C);
/* levels[l] (their gradients) from rows, overwriting */
void db_detect_scatter(float *const *levels, const float *rows, const db_anchors *a, int n, int C);

#ifdef __cplusplus
}
#endif

#endif
