/* RetinaNet's anchors (the official code's anchors.py): on each pyramid level l (stride 2^l)
 * and each position (y, x) of its map, centres at ((y + 0.5) 2^l, (x + 0.5) 2^l), one anchor per
 * octave scale s in 0, 1/S, .., (S-1)/S and aspect pair (ax, ay) in that order: width
 * anchor_scale * 2^l * 2^s * ax, height the same with ay. Levels in order, then positions row
 * by row, then the S * A anchors of a position. */
#ifndef DB_DETECT_ANCHORS_H
#define DB_DETECT_ANCHORS_H

#include "core/status.h"
#include "detect/boxes.h"

enum { DB_ANCHOR_MAX_LEVELS = 8, DB_ANCHOR_MAX_ASPECTS = 8 };

typedef struct {
    int min_level, max_level;  /* 3 and 7 */
    int scales;                /* octave scales per level: 3 */
    int n_aspects;             /* 3 */
    float aspect[DB_ANCHOR_MAX_ASPECTS][2]; /* (x, y) multipliers: (1, 1), (1.4, 0.7), (0.7, 1.4) */
    float anchor_scale;        /* 4: the base anchor is 4 strides wide */
} db_anchor_cfg;

typedef struct {
    db_box *boxes;  /* every anchor, in the order above */
    int n;          /* how many */
    int per_position;                      /* scales * n_aspects */
    int levels;                            /* max_level - min_level + 1 */
    int level_h[DB_ANCHOR_MAX_LEVELS], level_w[DB_ANCHOR_MAX_LEVELS]; /* each level's map */
    int level_first[DB_ANCHOR_MAX_LEVELS]; /* index of each level's first anchor */
} db_anchors;

#ifdef __cplusplus
extern "C" {
#endif
/* The official defaults: levels 3..7, 3 scales, the three aspect pairs, anchor scale 4 */
db_anchor_cfg db_anchor_defaults(void);
/* The anchors of an h x w input; both must be multiples of 2^max_level (as the official code
 * requires of its square input), else DB_ERR_ARG saying so. */
db_status db_anchors_make(db_anchors *a, const db_anchor_cfg *cfg, int h, int w);
void db_anchors_free(db_anchors *a);

#ifdef __cplusplus
}
#endif

#endif
