/* What a configuration means beyond its keys (train/config.h): the rules a valid one keeps, the
 * device a run lands on, the data, backbone and regularizer plan it resolves to, and the values
 * its auto keys take. The keys themselves, their text form and the fingerprint: config.c. */
#include "train/config.h"

#include "core/cuda.h"
#include "core/log.h"
#include "datasets/select.h"
#include "datasets/synthetic.h"
#include "dropouts/dropblock.h"
#include "nets/amoebanet.h"
#include "nets/gpu_backend.h"
#include "nets/model.h"
#include "nets/retinanet.h"
#include "nets/segnet.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The networks that predict per position (detectors, segmenters): the data sets they train on
 * and what they refuse */
typedef struct {
    const char *noun, *task, *sets, *holds, *models;
} dense_kind;

static const dense_kind dense[2] = {
    {"detector", "detection", "fmnist-detect or coco2017", "boxes", "retinanet-resnet18-fpn or retinanet-resnet50-fpn"},
    {"segmenter", "segmentation", "fmnist-segment", "label maps", "fcn-resnet18-fpn or fcn-resnet50-fpn"},
};

static db_status dense_rules(const db_config *c, const dense_kind *k, int is_model, int is_data) {
    if (is_model && !is_data)
        return db_fail(DB_ERR_ARG, "model %s is a %s: it trains on a %s set (dataset %s), not %s", c->model, k->noun,
                       k->task, k->sets, c->dataset);
    if (!is_model && is_data)
        return db_fail(DB_ERR_ARG, "dataset %s holds %s: train a %s on it (model %s), not %s", c->dataset, k->holds,
                       k->noun, k->models, c->model);
    if (is_model && (c->cutout || c->label_smoothing > 0 || strcmp(c->augment, "crop-flip")))
        return db_fail(DB_ERR_ARG, "%ss train with crops and flips that move their %s (augment crop-flip); cutout and "
                       "label_smoothing are for classifiers", k->noun, k->holds);
    return DB_OK;
}

db_status db_config_network_rules(const db_config *c) {
    db_model_config mc;
    const int detector = db_model_is_detector(c->model), segmenter = db_model_is_segmenter(c->model);
    char backbone[24];
    if (detector) {
        DB_TRY(db_retinanet_backbone(c->model, backbone, sizeof backbone));
    } else if (segmenter) {
        DB_TRY(db_segnet_backbone(c->model, backbone, sizeof backbone));
    } else {
        DB_TRY(db_model_defaults(&mc, c->model));
    }
    if (strcmp(c->shortcut, "A") && strcmp(c->shortcut, "B"))
        return db_fail(DB_ERR_ARG, "shortcut: '%s' must be A or B", c->shortcut);
    if (!db_model_is_amoebanet(c->model) && (c->cells || strcmp(c->stem, "auto") || c->dense_keep_prob > 0 ||
                                             c->reg_last_cells != 1.0f || c->aux_weight > 0))
        return db_fail(DB_ERR_ARG, "cells, stem, dense_keep_prob, aux_weight and reg_last_cells are the AmoebaNets'; %s has none",
                       c->model);
    if (strcmp(c->stem, "auto") && strcmp(c->stem, "imagenet") && strcmp(c->stem, "basic"))
        return db_fail(DB_ERR_ARG, "stem: '%s' must be auto, imagenet or basic", c->stem);
    if (!segmenter && c->min_level != 3)
        return db_fail(DB_ERR_ARG, "min_level %d: only segmenters take another finest level than 3", c->min_level);
    return DB_OK;
}

db_status db_config_validate(const db_config *c) {
    const int detector = db_model_is_detector(c->model), segmenter = db_model_is_segmenter(c->model);
    DB_TRY(db_config_network_rules(c));
    if (strcmp(c->lr_schedule, "constant") && strcmp(c->lr_schedule, "step") && strcmp(c->lr_schedule, "cosine") &&
        strcmp(c->lr_schedule, "exponential"))
        return db_fail(DB_ERR_ARG, "lr_schedule: '%s' must be constant, step, cosine or exponential", c->lr_schedule);
    if (strcmp(c->optimizer, "sgd") && strcmp(c->optimizer, "rmsprop"))
        return db_fail(DB_ERR_ARG, "optimizer: '%s' must be sgd or rmsprop", c->optimizer);
    if (!strcmp(c->optimizer, "rmsprop") && c->nesterov)
        return db_fail(DB_ERR_ARG, "nesterov is SGD's; optimizer rmsprop takes plain momentum (nesterov 0)");
    static const char *const datasets[] = {"fashion-mnist", "mnist", "cifar10", "cifar100", "synthetic", "imagenet",
                                           "fmnist-detect", "coco2017", "fmnist-segment", "voc2012"};
    int known = 0;
    for (size_t i = 0; i < sizeof datasets / sizeof *datasets; i++) known |= !strcmp(c->dataset, datasets[i]);
    if (!known)
        return db_fail(DB_ERR_ARG, "dataset: '%s' must be fashion-mnist, mnist, cifar10, cifar100, synthetic, imagenet, "
                       "fmnist-detect, coco2017, fmnist-segment or voc2012", c->dataset);
    DB_TRY(dense_rules(c, &dense[0], detector, db_data_is_detection(c->dataset)));
    DB_TRY(dense_rules(c, &dense[1], segmenter, db_data_is_segmentation(c->dataset)));
    const int coco = !strcmp(c->dataset, "coco2017"), voc = !strcmp(c->dataset, "voc2012");
    const int jitter = c->scale_min != 1.0f || c->scale_max != 1.0f;
    if (c->scale_min > c->scale_max)
        return db_fail(DB_ERR_ARG, "scale_min %g is above scale_max %g", c->scale_min, c->scale_max);
    if (jitter && !coco && !segmenter)
        return db_fail(DB_ERR_ARG, "scale_min and scale_max jitter the scale of coco2017's images and of segmentation "
                       "sets; %s crops with augment_pad", c->dataset);
    if ((coco || voc) && c->augment_pad > 0)
        return db_fail(DB_ERR_ARG, "%s images are scaled to image_size and padded, not cropped: augment_pad 0 (the "
                       "scale jitter is scale_min and scale_max)", c->dataset);
    if (jitter && c->augment_pad > 0)
        return db_fail(DB_ERR_ARG, "scale_min and scale_max crop the scaled image themselves: augment_pad 0");
    if (c->predictions_dir[0] && !detector && !segmenter)
        return db_fail(DB_ERR_ARG, "predictions_dir: detectors and segmenters write their predictions; %s is a classifier",
                       c->model);
    if (c->bn_sync && c->bn_group > 0)
        return db_fail(DB_ERR_ARG, "bn_sync normalises the whole batch over the processes; bn_group splits it: one or the other");
    if (c->bn_group > 0 && c->batch % c->bn_group)
        return db_fail(DB_ERR_ARG, "bn_group %d does not divide the batch %d", c->bn_group, c->batch);
    if (detector && c->det_negative_iou > 0.5f)
        return db_fail(DB_ERR_ARG, "det_negative_iou %g: at most the positive IoU, 0.5", c->det_negative_iou);
    int spec[6];
    if (!strcmp(c->dataset, "synthetic")) DB_TRY(db_synthetic_parse(c->synthetic, spec));
    if (strcmp(c->device, "auto") && strcmp(c->device, "cpu") && strcmp(c->device, "cuda"))
        return db_fail(DB_ERR_ARG, "device: '%s' must be auto, cpu or cuda", c->device);
    if (strcmp(c->precision, "fp32") && strcmp(c->precision, "tf32") && strcmp(c->precision, "bf16"))
        return db_fail(DB_ERR_ARG, "precision: '%s' must be fp32, tf32 or bf16", c->precision);
    if (c->tf32 && strcmp(c->precision, "fp32") && strcmp(c->precision, "tf32"))
        return db_fail(DB_ERR_ARG, "tf32 1 and precision %s: give one of them", c->precision);
    if (strcmp(c->conv_layout, "auto") && strcmp(c->conv_layout, "nchw") && strcmp(c->conv_layout, "nhwc"))
        return db_fail(DB_ERR_ARG, "conv_layout: '%s' must be auto, nchw or nhwc", c->conv_layout);
    if (strcmp(c->gpu_bn, "auto") && strcmp(c->gpu_bn, "cudnn") && strcmp(c->gpu_bn, "fused"))
        return db_fail(DB_ERR_ARG, "gpu_bn: '%s' must be auto, cudnn or fused", c->gpu_bn);
    if (!strcmp(c->conv_layout, "nhwc") && strcmp(c->precision, "bf16"))
        return db_fail(DB_ERR_ARG, "conv_layout nhwc is the layout of precision bf16's operands; precision is %s (add "
                       "--precision bf16 or leave out --conv-layout)", c->precision);
    if (strcmp(c->augment, "crop-flip") && strcmp(c->augment, "inception") && strcmp(c->augment, "autoaugment"))
        return db_fail(DB_ERR_ARG, "augment: '%s' must be crop-flip, inception or autoaugment", c->augment);
    db_reg_plan plan;
    DB_TRY(db_config_reg_plan(c, &plan));
    const char *s = c->milestones;
    int count = 0;
    while (*s) {
        char *end;
        double v = strtod(s, &end);
        if (end == s || !isfinite(v) || v < 0 || (*end != ',' && *end != '\0') || ++count > 8)
            return db_fail(DB_ERR_ARG, "milestones: '%s' must be up to 8 comma-separated epochs", c->milestones);
        s = *end ? end + 1 : end;
    }
    if (!strcmp(c->lr_schedule, "step") && count == 0)
        return db_fail(DB_ERR_ARG, "lr_schedule step needs milestones (e.g. --milestones 125,200,250)");
    return DB_OK;
}

static int device_said;
void db_config_device_said(void) { device_said = 1; }

/* Precision is a GPU setting: a run that lands on the CPU with another is refused, not quietly
 * trained in fp32 under a record that says otherwise */
static db_status cpu_precision(const db_config *c, const char *why) {
    if (!strcmp(c->gpu_bn, "fused"))
        return db_fail(DB_ERR_ARG, "gpu_bn fused is for --device cuda; %s (the CPU's batch norm has its ReLU fused "
                       "already: leave out --gpu-bn there)", why);
    if (!strcmp(c->precision, "fp32") && !c->tf32) return DB_OK;
    return db_fail(DB_ERR_ARG, "precision %s is for --device cuda; %s, and the CPU trains in fp32 (leave out --precision "
                   "and --tf32 there)", c->tf32 ? "tf32" : c->precision, why);
}

db_status db_config_resolve_device(db_config *c) {
    if (!strcmp(c->device, "cpu")) return cpu_precision(c, "this run is on the CPU");
    int asked = !strcmp(c->device, "cuda");
    db_cuda_info ci;
    db_cuda_query(&ci);
    char why[512] = "";
    if (!db_cuda_built())
        snprintf(why, sizeof why, "this dropbench was built without CUDA (nvcc and cuDNN were not found at build time)");
    else if (!ci.device_count)
        snprintf(why, sizeof why, "no CUDA device on this machine");
    else if (!db_gpu_backend_load()) /* cuDNN or cuBLAS missing here, or a stale object */
        snprintf(why, sizeof why, "%s", db_last_error());
    if (!why[0]) {
        strcpy(c->device, "cuda");
        if (!asked && !device_said++) db_log(DB_LOG_NOTE, "using CUDA device %s (--device cpu for the CPU)", ci.name);
        return DB_OK;
    }
    if (asked) return db_fail(DB_ERR_UNSUPPORTED, "device cuda: %s", why);
    DB_TRY(cpu_precision(c, why));
    strcpy(c->device, "cpu"); /* auto */
    if (!device_said++ && db_cuda_built())
        db_log(DB_LOG_NOTE, "%s, using CPU", ci.device_count ? why : "no CUDA device");
    return DB_OK;
}


db_data_spec db_config_data(const db_config *c) {
    db_data_spec d = {c->dataset, c->data_dir, c->synthetic, c->image_size, c->eval_crop_fraction, c->train_limit,
                      c->test_limit};
    return d;
}

db_status db_config_runnable(const db_config *c) {
    DB_TRY(db_config_validate(c));
    if (!db_data_known(c->dataset))
        return db_fail(DB_ERR_UNSUPPORTED, "dataset '%s' is not available yet: this version reads %s", c->dataset,
                       db_data_names());
    int folder = db_data_is_folder(c->dataset);
    if (!strcmp(c->augment, "autoaugment")) return DB_OK; /* after the set's own crop and flip, either kind */
    if ((strcmp(c->augment, "inception") == 0) != folder)
        return db_fail(DB_ERR_ARG, "augment %s is for %s; dataset %s takes %s", c->augment,
                       folder ? "the in-memory data sets" : "image folders (imagenet)", c->dataset,
                       folder ? "inception" : "crop-flip");
    return DB_OK;
}

db_status db_config_fits_data(const db_config *cfg, const db_dataset *train, const db_dataset *test, int P) {
    if (test->c != train->c || test->h != train->h || test->w != train->w)
        return db_fail(DB_ERR_FORMAT, "test images (%dx%dx%d) differ from training images (%dx%dx%d)",
                       test->c, test->h, test->w, train->c, train->h, train->w);
    if (train->n < cfg->batch)
        return db_fail(DB_ERR_ARG, "batch %d is larger than the %d training samples", cfg->batch, train->n);
    /* data parallel: each of P processes trains B/P samples of every batch of B */
    const int b = cfg->batch / P;
    if (P > 1 && cfg->batch % P)
        return db_fail(DB_ERR_ARG, "batch %d does not divide among the %d processes", cfg->batch, P);
    if (P > 1 && cfg->bn_group > 0 && b % cfg->bn_group)
        return db_fail(DB_ERR_ARG, "bn_group %d does not divide the %d samples of each process's batch", cfg->bn_group, b);
    if (P > 1 && !strcmp(cfg->device, "cuda") && cfg->bn_sync)
        return db_fail(DB_ERR_UNSUPPORTED, "bn_sync: a synchronised batch norm runs on the CPU only in this version "
                       "(device cpu, or each GPU's own batch norm)");
    return DB_OK;
}

/* The groups of reg_groups as a bit mask (bit g for group g), checked against the model. */
static db_status parse_groups(const db_config *c, unsigned *mask) {
    const int seg = db_model_is_segmenter(c->model);
    int max_group = !strcmp(c->model, "resnet18") || !strcmp(c->model, "resnet50") || db_model_is_detector(c->model) ||
                    seg || db_model_is_amoebanet(c->model) ? 4 : 3;
    const char *s = c->reg_groups;
    *mask = 0;
    while (*s) {
        char *end;
        long g = strtol(s, &end, 10);
        if (seg && !strncmp(s, "head", 4)) g = DB_SEGNET_HEAD_GROUP, end = (char *)s + 4; /* the FCN head's sites */
        else if (g > max_group) g = -1;
        if (end == s || g < 1 || (*end != ',' && *end != '\0'))
            return db_fail(DB_ERR_ARG, "reg_groups: '%s' must be groups between 1 and %d of %s%s, comma-separated",
                           c->reg_groups, max_group, c->model, seg ? " or head" : "");
        *mask |= 1u << g;
        s = *end ? end + 1 : end;
    }
    return DB_OK;
}

db_status db_config_backbone(const db_config *cfg, db_model_config *b) {
    if (cfg->width > 0) b->width = cfg->width;
    if (db_model_is_amoebanet(cfg->model)) {
        if (cfg->cells > 0) b->cells = cfg->cells;
        b->stem = !strcmp(cfg->stem, "auto") ? db_amoebanet_auto_stem(b->in_h) : cfg->stem[0];
        if (cfg->dense_keep_prob > 0) b->dense_keep = cfg->dense_keep_prob;
        b->aux_head = cfg->aux_weight > 0;
    }
    b->zero_init_last_bn = cfg->zero_init_last_bn;
    b->bn_momentum = cfg->bn_momentum, b->bn_eps = cfg->bn_eps, b->bn_group = cfg->bn_group;
    b->unfused = !strcmp(cfg->device, "cuda"); /* the GPU runs DropBlock as an op of its own */
    return db_config_reg_plan(cfg, &b->reg);
}

db_status db_config_classifier(const db_config *cfg, int classes, int c, int h, int w, db_model_config *mc) {
    DB_TRY(db_model_defaults(mc, cfg->model));
    mc->in_c = c, mc->in_h = h, mc->in_w = w;
    mc->classes = classes;
    mc->shortcut = cfg->shortcut[0];
    return db_config_backbone(cfg, mc);
}

/* What the keys set of a detector's or segmenter's FPN and heads, and of its backbone */
static db_status dense_keys(const db_config *cfg, db_model_config *backbone, int *fpn_width, int *head_convs) {
    *fpn_width = cfg->fpn_width;
    if (cfg->head_convs >= 0) *head_convs = cfg->head_convs; /* else the model's own */
    return db_config_backbone(cfg, backbone);
}

db_status db_config_detector(const db_config *cfg, int classes, int c, int h, int w, db_retinanet_config *rc) {
    char backbone[24];
    DB_TRY(db_retinanet_backbone(cfg->model, backbone, sizeof backbone));
    DB_TRY(db_retinanet_defaults(rc, backbone, classes, c, h, w));
    rc->max_level = cfg->max_level;
    return dense_keys(cfg, &rc->backbone, &rc->fpn_width, &rc->head_convs);
}

db_status db_config_segmenter(const db_config *cfg, int classes, int c, int h, int w, db_segnet_config *sc) {
    char backbone[24];
    DB_TRY(db_segnet_backbone(cfg->model, backbone, sizeof backbone));
    DB_TRY(db_segnet_defaults(sc, backbone, classes, c, h, w));
    sc->min_level = cfg->min_level;
    return dense_keys(cfg, &sc->backbone, &sc->fpn_width, &sc->head_convs);
}

db_status db_config_reg_plan(const db_config *c, db_reg_plan *plan) {
    static const char *names[] = {"none", "dropout", "spatial_dropout", "dropblock", "droppath"};
    static const db_reg_kind kinds[] = {DB_REG_NONE, DB_REG_DROPOUT, DB_REG_SPATIAL, DB_REG_DROPBLOCK, DB_REG_DROPPATH};
    memset(plan, 0, sizeof *plan);
    int known = 0;
    for (int i = 0; i < 5; i++)
        if (!strcmp(c->regularizer, names[i])) { plan->kind = kinds[i]; known = 1; }
    if (!known)
        return db_fail(DB_ERR_ARG, "regularizer: '%s' must be none, dropout, spatial_dropout, dropblock or droppath",
                       c->regularizer);
    if (strcmp(c->keep_prob_schedule, "linear") && strcmp(c->keep_prob_schedule, "fixed") &&
        strcmp(c->keep_prob_schedule, "auto"))
        return db_fail(DB_ERR_ARG, "keep_prob_schedule: '%s' must be linear, fixed or auto", c->keep_prob_schedule);
    DB_TRY(parse_groups(c, &plan->groups));
    db_config e;
    db_config_effective(c, &e);
    if (plan->kind != DB_REG_NONE && !plan->groups)
        return db_fail(DB_ERR_ARG, "reg_groups: the regularizer needs at least one group");
    plan->keep_prob = c->keep_prob;
    plan->block_size = c->block_size;
    plan->on_skip = e.reg_skip;
    plan->scheduled = !strcmp(e.keep_prob_schedule, "linear");
    plan->group_scaling = e.group_scaling;
    plan->per_sample = c->reg_per_sample;
    plan->last_cells = c->reg_last_cells;
    db_semantics sem;
    if (db_semantics_parse(c->semantics, &sem) != DB_OK)
        return db_fail(DB_ERR_ARG, "semantics: '%s' must be paper, timm, torchvision, miguelvr or darknet", c->semantics);
    if (plan->kind == DB_REG_DROPBLOCK && sem == DB_SEM_TORCHVISION && c->block_size % 2 == 0)
        return db_fail(DB_ERR_ARG, "semantics torchvision takes odd block sizes only, block_size is %d", c->block_size);
    plan->semantics = (int)sem;
    return DB_OK; /* n_groups is the model's to set */
}

void db_config_effective(const db_config *c, db_config *out) {
    *out = *c;
    int dropblock = !strcmp(c->regularizer, "dropblock");
    /* without a regularizer placement means nothing: auto keeps the values these keys had before
     * auto existed (1, 0, linear), so runs without one keep their fingerprints */
    int none = !strcmp(c->regularizer, "none"), amoeba = db_model_is_amoebanet(c->model);
    /* AmoebaNet: no per-group scaling (the ResNet code's rule), and its DropPath is the official
     * AmoebaNet code's, scheduled from 1 like DropBlock */
    int scheduled = dropblock || none || (amoeba && !strcmp(c->regularizer, "droppath"));
    if (out->reg_skip < 0) out->reg_skip = dropblock || none;
    if (out->group_scaling < 0) out->group_scaling = dropblock && !amoeba;
    /* the layout auto takes: NCHW until channels-last is measured on a GPU */
    if (!strcmp(out->conv_layout, "auto")) strcpy(out->conv_layout, "nchw");
    if (!strcmp(out->gpu_bn, "auto")) strcpy(out->gpu_bn, "cudnn"); /* until the fused kernels are measured */
    if (!strcmp(out->keep_prob_schedule, "auto")) {
        memset(out->keep_prob_schedule, 0, sizeof out->keep_prob_schedule);
        strcpy(out->keep_prob_schedule, scheduled ? "linear" : "fixed");
    }
}
