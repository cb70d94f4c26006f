/* AmoebaNet-B (Real et al. 2019), the network of the DropBlock paper's Table 2, and its siblings
 * A, C and D (the same network with other cells; A and D use the 1x7_7x1 operation), as the official TPU
 * code builds them (tensorflow/tpu models/official/amoeba_net: model_specs.py for the cells,
 * network_utils.py for their mechanics, model_builder.py for the network); nets/AMOEBANET.md sets
 * the structure down with its sources. A stem (ImageNet: a 3x3/2 VALID convolution and two
 * reduction cells; basic: a 3x3/1 VALID convolution, the official code's other stem, for small
 * images), then `cells` normal cells in all with a reduction cell before cells int(k/3 * cells),
 * k = 1, 2, filters doubling at each; ReLU, global pooling, dropout and the classifier; in
 * training an auxiliary head after the last normal cell before the second reduction.
 *
 * Regularizer sites, per cell (res_block: the cell's number, counting every cell in order from 0,
 * stem cells included; group: 1 the stem cells, 2 the cells before the first reduction, 3 and 4
 * the reduction cells and the normal cells after them): after every batch norm of a cell (conv
 * sites; an operation's last one is its output, where DropPath acts), on the identity operations
 * ("none", the cells' skip connections: shortcut sites), and on the pooling operations' outputs
 * (no batch norm there: DropPath's only). reg.last_cells restricts the regularizer to the last
 * fraction of the cells (the paper's "last 50% of the cells"). DropPath here is the official
 * code's: every operation but "none", one keep probability for all cells (no growth with depth),
 * scheduled linearly over training; the official code drops paths in every cell, stem cells
 * included, which here is reg_groups 1,2,3,4 (the key's default, 3, covers one group only).
 *
 * Where this differs from the official code (said in the recipes): convolutions start as the
 * engine's Kaiming fan-out normal, not TensorFlow's truncated normal, and the classifiers uniform
 * on fan-in (the official: variance scaling on fan-out, zero biases); the classifier's dropout is the
 * engine's inverted dropout. */
#ifndef DB_NETS_AMOEBANET_H
#define DB_NETS_AMOEBANET_H

#include <stdio.h>

#include "nets/model.h"

enum { DB_AMOEBA_REDUCTIONS = 2, DB_AMOEBA_STEM_FILTERS = 32, DB_AMOEBA_MAX_CELLS = 256 };

/* One cell as built: kind 's' (stem), 'r' (reduction) or 'n' (normal), its number in order, its
 * filter size f, its group, its output's shape, its ops (the graph's first_op .. first_op+n_ops-1) */
typedef struct {
    char kind;
    int index, f, group;
    int c, h, w;
    int first_op, n_ops;
} db_amoeba_cell;

/* 1 for the AmoebaNet names: amoebanet-a, amoebanet-b (the DropBlock paper's), amoebanet-c,
 * amoebanet-d, the four cell pairs of the official model_specs.py */
int db_model_is_amoebanet(const char *model);
/* The official defaults for the model named (amoebanet-b when it names none): (6, 256), i.e. 18
 * normal cells, F 256, the ImageNet stem, 331x331x3, dense dropout keep 0.5, batch norm momentum
 * 0.1 (decay 0.9) and epsilon 1e-5 (the official training flags) */
void db_amoebanet_defaults(db_model_config *cfg, const char *model);
/* The stem for a square input of this side when none is asked for: 'i' (ImageNet) from 128
 * pixels up, else 'b' (basic) */
char db_amoebanet_auto_stem(int side);
/* Builds and finalizes cfg's AmoebaNet for batches of up to n_max. cells (room for
 * DB_AMOEBA_MAX_CELLS, or NULL) receives the cells built, *n_cells their count. */
db_status db_amoebanet_build(db_graph *g, const db_model_config *cfg, int n_max, db_amoeba_cell *cells, int *n_cells);
/* The model's cells: operations, hidden-state indices and outputs, as the official specification
 * lists them (for `dropbench model`) */
void db_amoebanet_print_spec(FILE *f, const char *model);

#endif
