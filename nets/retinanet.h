/* RetinaNet (Lin et al. 2017) as the official TPU code builds it (tensorflow/tpu
 * models/official/retinanet/retinanet_architecture.py): a ResNet backbone (nets/resnet.c,
 * DropBlock at its sites only), an FPN from its groups 2..4 (C3..C5: lateral 1x1 convolutions,
 * top-down nearest 2x upsampling and addition, a 3x3 convolution after each), P6 by a stride-2
 * 3x3 convolution on P5 before its batch norm, P7 by one on ReLU(P6), batch norm on every level;
 * a class head and a box head shared over the levels (head_convs x (3x3 convolution, batch norm
 * per level, ReLU), then a 3x3 convolution to A*K class logits, bias -log((1-prior)/prior), or
 * to A*4 box codes), their weights normal with standard deviation 0.01.
 * Differences from the official code, each an assumption stated in the recipes: convolutions
 * pad symmetrically (TensorFlow's SAME pads a stride-2 convolution at the bottom and right
 * only); the head's convolutions before a batch norm have no bias (it would be removed by the
 * norm exactly); the FPN's layers initialise as the engine's other convolutions (Kaiming) where
 * the official uses Glorot; biases get no weight decay (the official decays every variable but
 * the batch norms'); batch norm keeps the run's bn_momentum and bn_eps (0.1 and 1e-5 by
 * default; the official 0.003 in this sense, TensorFlow's decay 0.997, and 1e-4). */
#ifndef DB_NETS_RETINANET_H
#define DB_NETS_RETINANET_H

#include "nets/model.h"

#ifdef __cplusplus
extern "C" { /* tests/gpu builds these networks from CUDA code */
#endif

typedef struct {
    db_model_config backbone; /* resnet18 or resnet50 (any engine ResNet with 4 groups): input,
                               * width, regularizers */
    int min_level, max_level; /* 3 and 7 (min 3..5, max from 5) */
    int fpn_width;            /* 256 */
    int head_convs;           /* 4 */
    int anchors;              /* A per position: 9 */
    int classes;              /* K, no background class */
    float prior;              /* 0.01: the class logits' starting probability */
} db_retinanet_config;

/* 1 for the detectors' names (retinanet-*) */
int db_model_is_detector(const char *model);
/* The backbone of a detector's name: retinanet-resnet18-fpn -> resnet18 (resnet18 and resnet50) */
db_status db_retinanet_backbone(const char *model, char *backbone, size_t n);
/* The official defaults on a ResNet-50 for K classes and an h x w x c input */
db_status db_retinanet_defaults(db_retinanet_config *cfg, const char *backbone, int classes, int c, int h, int w);
/* Builds and finalizes the detector for batches of up to n_max. Its outputs, in order: for each
 * level from min to max, the class logits (A*K channels, channel a*K + k) and then the box codes
 * (A*4 channels, channel a*4 + j), on that level's map. */
db_status db_retinanet_build(db_graph *g, const db_retinanet_config *cfg, int n_max);

#ifdef __cplusplus
}
#endif
#endif
