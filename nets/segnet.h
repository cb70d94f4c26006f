/* The segmentation network of the paper's Table 4, as the official TPU code builds it
 * (tensorflow/tpu models/official/retinanet/retinanet_architecture.py, retinanet_segmentation):
 * a ResNet backbone (nets/resnet.c), its FPN on levels 3..5 with bilinear top-down resizing
 * (nets/fpn.h), a head shared over the levels (head_convs x (3x3 convolution, batch norm per
 * level, ReLU), then a 3x3 convolution with a bias), the levels above the first resized
 * bilinearly (aligned corners) to the first's map and summed, a batch norm and ReLU, and a 3x3
 * convolution to the class logits (with a bias), at stride 2^min_level (8). The head's weights
 * are normal with standard deviation 0.01, its biases 0.
 * Regularizer sites: the backbone's (its groups 1..4), and in the head (group 5, "head" in
 * reg_groups) after each batch norm and ReLU and after the fused map's: the paper found DropBlock
 * in the FCN head better than in the backbone. Differences from the official code, stated in the
 * recipes: the head's convolutions before a batch norm have no bias (the norm would remove it);
 * the FPN convolutions initialise as the engine's others; batch norm keeps the run's momentum
 * and epsilon. */
#ifndef DB_NETS_SEGNET_H
#define DB_NETS_SEGNET_H

#include "nets/model.h"

#ifdef __cplusplus
extern "C" { /* tests/gpu builds these networks from CUDA code */
#endif

enum { DB_SEGNET_HEAD_GROUP = 5 };

typedef struct {
    db_model_config backbone; /* resnet18 or resnet50: input, width, regularizers */
    int min_level, max_level; /* 3 and 5 (min_level 2: logits at stride 4, from C2) */
    int fpn_width;            /* 256 */
    int head_convs;           /* 3 */
    int classes;              /* including the background */
} db_segnet_config;

/* 1 for the segmenters' names (fcn-*) */
int db_model_is_segmenter(const char *model);
/* The backbone of a segmenter's name: fcn-resnet18-fpn -> resnet18 (resnet18 and resnet50) */
db_status db_segnet_backbone(const char *model, char *backbone, size_t n);
/* The official defaults on a backbone for K classes and an h x w x c input */
db_status db_segnet_defaults(db_segnet_config *cfg, const char *backbone, int classes, int c, int h, int w);
/* Builds and finalizes the network for batches of up to n_max; its output: the class logits
 * (classes x h/2^min_level x w/2^min_level) */
db_status db_segnet_build(db_graph *g, const db_segnet_config *cfg, int n_max);

#ifdef __cplusplus
}
#endif
#endif
