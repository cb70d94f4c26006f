/* keep_prob over training and across a network's groups (shared/reference/dropblock.md, 8-9).
 * Pure functions of the training step, so evaluation (which takes no step) never moves them
 * and a resumed run continues the same curve. */
#ifndef DB_DROPOUTS_SCHEDULE_H
#define DB_DROPOUTS_SCHEDULE_H

#include "core/hd.h"

/* Linear schedule: 1.0 at step 0 down to `target` at the last training step (last_step =
 * total steps - 1); fixed when scheduled is 0. Steps past the end stay at the target. */
DB_HD float db_keep_prob_at(float target, long step, long last_step, int scheduled) {
    if (!scheduled || last_step <= 0 || step >= last_step) return target;
    if (step <= 0) return 1.0f;
    return (float)(1.0 - (double)step / (double)last_step * (1.0 - (double)target));
}

/* The official code's per-group rate: group g of G drops at p / 4^(G-g) (ResNet-50 with
 * groups 3 and 4: group 4 at p, group 3 at p/4). Off: every group at p. */
DB_HD float db_group_keep_prob(float keep_prob, int group, int groups, int scaled) {
    if (!scaled || group >= groups) return keep_prob;
    double p = 1.0 - (double)keep_prob;
    for (int g = group; g < groups; g++) p /= 4.0;
    return (float)(1.0 - p);
}

#endif
