/* Model descriptions: which network to build on a graph. */
#ifndef DB_NETS_MODEL_H
#define DB_NETS_MODEL_H

#include "nets/graph.h"

#ifdef __cplusplus
extern "C" { /* tests/gpu drives graphs from CUDA code */
#endif

typedef struct {
    char arch[24];         /* resnet20/32/56/110 (any 6n+2), resnet18, resnet50, amoebanet-a/b/c/d */
    int in_c, in_h, in_w;  /* input channels and size */
    int classes;
    int width;             /* channels of the first group: 16 for CIFAR ResNets, 64 for ImageNet;
                            * AmoebaNet: F, the filters of its first normal cells (256) */
    int cells;             /* AmoebaNet: normal cells in all, the official num_cells (3N for (N, F)) */
    char stem;             /* AmoebaNet: 'i' the ImageNet stem, 'b' the basic one (nets/amoebanet.h) */
    float dense_keep;      /* AmoebaNet: the classifier's dropout keep probability (1: none) */
    int aux_head;          /* AmoebaNet: the auxiliary head, a second output (the logits first) */
    char shortcut;         /* CIFAR ResNets: 'A' zero-padded identity (He et al.), 'B' 1x1 conv + BN */
    int zero_init_last_bn; /* gamma of each block's last BN starts at 0 */
    float bn_momentum, bn_eps;
    int bn_group;          /* samples per batch-norm group in training (nets/graph.h; 0: the whole batch) */
    db_reg_plan reg;       /* regularizers at the sites (kind DB_REG_NONE: none) */
    int unfused;           /* keep DropBlock as an op of its own, not inside the BN before it
                            * (the same results; for tests and benchmarks) */
} db_model_config;

/* Defaults for an architecture name (width, shortcut, BN constants); input and classes are
 * left for the caller. */
db_status db_model_defaults(db_model_config *cfg, const char *arch);
/* Build (and finalize) the model on g for batches of up to n_max. */
db_status db_model_build(db_graph *g, const db_model_config *cfg, int n_max);
/* cfg's ResNet without its classifier on tensor x of a graph being built (its regularizer
 * plan set from cfg): returns the last group's output; taps[i] receives group i's output (i from
 * 1; taps[0] the stem's, -1 where the family has no such group). Errors are the graph's. */
int db_resnet_trunk(db_graph *g, const db_model_config *cfg, int x, int taps[5]);

#ifdef __cplusplus
}
#endif
#endif
