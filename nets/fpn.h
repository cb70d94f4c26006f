/* The feature pyramid (Lin et al. 2017) as the official TPU code builds it on a ResNet
 * (tensorflow/tpu models/official/retinanet/retinanet_architecture.py, resnet_fpn): lateral 1x1
 * convolutions on C3..C5 (the ResNet's groups 2..4, strides 8, 16, 32), the top-down path from
 * P5 (nearest 2x upsampling, or bilinear resizing with aligned corners to the finer map as the
 * segmentation code asks), added to the laterals, a 3x3 convolution after each; above P5, P6 by a
 * stride-2 3x3 convolution on P5 before its batch norm and each next level by one on the ReLU of
 * the last; a batch norm on every level. Every convolution has a bias. */
#ifndef DB_NETS_FPN_H
#define DB_NETS_FPN_H

#include "nets/graph.h"

typedef struct {
    int min_level, max_level; /* 3..5 from 3 (the detector 3..7, the segmenter 3..5) */
    int width;                /* channels of every level (256) */
    int bilinear;             /* top-down by bilinear resizing instead of nearest 2x upsampling */
    float bn_momentum, bn_eps;
} db_fpn_config;

/* The backbone of a network named KIND-BACKBONE-fpn (retinanet-resnet50-fpn -> resnet50): resnet18
 * or resnet50; another name is an error naming the kind's two (what: "detector", "segmenter") */
db_status db_fpn_model_backbone(const char *model, const char *kind, const char *what, char *backbone, size_t n);

/* The levels min..max of the pyramid on the trunk's taps (taps[k]: the output of ResNet group
 * k, taps[2..4] = C3..C5) into p[level]; errors stay in g->status */
void db_fpn_build(db_graph *g, const db_fpn_config *c, const int *taps, int *p);

#endif
