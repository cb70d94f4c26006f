/* The resolved configuration of a training run. Every key lives in one table (config.c) that
 * the command line and recipe files both go through: an unknown key or a bad value is an
 * error naming the key (and, for files, the line), and the whole resolved configuration can
 * be printed back, which is what a run records as its provenance. */
#ifndef DB_BENCH_CONFIG_H
#define DB_BENCH_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "core/status.h"
#include "datasets/select.h"
#include "nets/graph.h"
#include "nets/model.h"
#include "nets/retinanet.h"
#include "nets/segnet.h"

typedef struct db_config {
    /* model */
    char model[24];
    char shortcut[2];
    int width;                    /* channels of the first group (0: the model's own, 16 or 64) */
    int fpn_width, head_convs, max_level; /* detectors: the FPN's channels, the heads' depth, the top level */
    int min_level;                /* segmenters: the finest level, the logits' stride 2^min_level */
    int cells;                    /* AmoebaNet: normal cells in all (0: the model's own, 18) */
    char stem[12];                /* AmoebaNet: auto, imagenet or basic */
    float dense_keep_prob;        /* AmoebaNet: the classifier's dropout keep probability (0: the model's own) */
    float aux_weight;             /* AmoebaNet: the auxiliary head's loss weight (0: no auxiliary head) */
    float det_negative_iou;       /* detectors: an anchor below this IoU with every box is background */
    float det_alpha, det_gamma;   /* detectors: the focal loss */
    float scale_min, scale_max; /* detectors on coco2017 and segmenters: the scale jitter (1, 1: none) */
    char init_from[512];          /* a classification run's checkpoint folder to start from ("": none) */
    int zero_init_last_bn;
    float bn_momentum, bn_eps;
    int bn_group;
    int bn_sync;
    /* data */
    char dataset[32];
    char data_dir[512];
    int train_limit, test_limit;  /* use only the first N samples (0: all) */
    int augment_pad, augment_flip;
    char augment[16];             /* crop-flip, inception or autoaugment */
    float crop_area_min;          /* inception: smallest crop area, a fraction of the image */
    float eval_crop_fraction;     /* inception: the evaluation centre crop over the short side */
    /* optimisation */
    int epochs, batch;
    int eval_every;               /* evaluate every N epochs and after the last */
    float lr;
    char lr_schedule[16];         /* constant, step, cosine, exponential */
    float lr_decay_rate, lr_decay_epochs; /* exponential: the factor, every so many epochs */
    char milestones[64];          /* step: comma-separated epochs */
    float lr_gamma, lr_final, warmup_epochs, warmup_start;
    float momentum;
    int nesterov;
    float weight_decay;
    int decay_bn_bias;
    char optimizer[12];           /* sgd or rmsprop */
    float rmsprop_decay, rmsprop_epsilon;
    float ema_decay;              /* > 0: evaluate a moving average of the weights */
    float label_smoothing;
    int cutout;                   /* Cutout's square side in pixels (0: off) */
    /* regularizer at the model's sites */
    char regularizer[24];         /* none, dropout, spatial_dropout, dropblock, droppath */
    float keep_prob;
    int block_size;
    char reg_groups[32];          /* comma-separated groups, counted from 1 */
    float reg_last_cells;         /* AmoebaNet: only the last fraction of the cells (1: all) */
    int reg_skip;                 /* also on the shortcuts (-1: auto) */
    char keep_prob_schedule[8];   /* linear, fixed or auto */
    int group_scaling;            /* group g of G at p / 4^(G-g) (-1: auto) */
    int reg_per_sample;           /* DropBlock: normalise per sample */
    char semantics[16];           /* DropBlock's mask rules: paper or another implementation's */
    /* run */
    char device[8];               /* auto, cpu or cuda (db_config_resolve_device turns auto into one) */
    int tf32;                     /* cuda: TF32 tensor-core math allowed */
    char precision[8];            /* cuda: fp32, tf32 (as tf32 1) or bf16 (convolutions in bfloat16) */
    char conv_layout[8];          /* cuda, precision bf16: the convolutions' operands auto, nchw or nhwc */
    char gpu_bn[8];               /* cuda: batch norm's kernels, auto, cudnn or fused */
    int deterministic;            /* cuda: deterministic convolution algorithms only */
    int image_size;               /* image folders: the network's input side */
    int loader_workers;           /* threads preparing batches ahead (0: on the training thread) */
    char synthetic[64];           /* dataset synthetic: N_TRAIN,N_TEST,C,H,W,CLASSES */
    uint64_t seed;
    int threads;
    int world_size;
    int replica_check;
    float dist_timeout;
    float dist_bucket_mb;     /* data parallel: MiB per gradient bucket summed during the backward (0: after it) */
    char checkpoint_dir[512];
    char predictions_dir[512]; /* detectors and segmenters: each evaluation's predictions */
    char metrics[512];            /* CSV of per-epoch results ("" for none) */
    char site_metrics[512];       /* CSV of per-epoch, per-regularizer-site drop fractions */
} db_config;

void db_config_defaults(db_config *c);
/* Set one key from text; the key may use '-' for '_'. */
db_status db_config_set(db_config *c, const char *key, const char *value);
/* A key's name as the configuration table spells it ('-' read as '_', an earlier name as its
 * present one); NULL for an unknown key */
const char *db_config_key_name(const char *key);
/* One key's value as db_config_write writes it, into out (n bytes, truncated to fit) */
db_status db_config_value_text(const db_config *c, const char *key, char *out, size_t n);
/* Cross-key checks (e.g. milestones parse, schedule name known); the network's among them. */
db_status db_config_validate(const db_config *c);
/* The checks of the keys that shape the network (db_config_is_network_key) alone: the model
 * known, shortcut A or B, the AmoebaNets' keys on an AmoebaNet only, min_level a segmenter's */
db_status db_config_network_rules(const db_config *c);
/* 1 when key (with '-' for '_') shapes the network (width, cells, stem, fpn_width, head_convs,
 * min_level, max_level, shortcut, ...): `dropbench model` takes those as train does */
int db_config_is_network_key(const char *key);
/* Turns device auto into cpu or cuda for this machine (saying once on stderr why it is the CPU
 * when a GPU was possible) and checks an explicit choice; before fingerprinting a run. */
db_status db_config_resolve_device(db_config *c);
/* The device choice was already said to the user (by the study process whose cell this is):
 * db_config_resolve_device says nothing more */
void db_config_device_said(void);
/* Can this build run the configuration (its data set and augmentation implemented)? A valid
 * configuration may still be one that only a later version can run, e.g. a paper recipe on
 * ImageNet: the message says what is missing. Checked before a run is recorded. */
db_status db_config_runnable(const db_config *c);
/* The data and settings fit together (a batch no larger than the training set, dividing among the
 * P processes, its bn_group dividing each process's share; test images shaped as the training
 * images): checked once the data are read, before anything is built */
db_status db_config_fits_data(const db_config *c, const db_dataset *train, const db_dataset *test, int processes);
/* c with its auto placement keys resolved as the paper and the official code place each
 * regularizer: DropBlock on the conv branch and the shortcut, scaled per group (group g of G at
 * p/4^(G-g)) and scheduled (keep_prob linear from 1); dropout and SpatialDropout on the conv
 * branches only (the paper's definition of its dropout baseline), unscaled and fixed (the
 * official code scales and schedules DropBlock only; what the paper's baselines did it does not
 * say: an assumption); DropPath unscaled and fixed (on AmoebaNet scheduled, as the official
 * AmoebaNet code's drop path; and no per-group scaling on AmoebaNet, a ResNet rule); without a regularizer the values these keys
 * had before auto existed (1, 0, linear: they mean nothing there, and keep such runs'
 * fingerprints). Explicit values stay as they are. */
void db_config_effective(const db_config *c, db_config *out);
/* The data set the keys describe (pointing into c) */
db_data_spec db_config_data(const db_config *c);
/* What a run's configuration sets of a network's ResNet (the classifier's, or a detector's or
 * segmenter's backbone): width (when given), zero-initialised last gammas, batch-norm momentum
 * and epsilon, the regularizer plan, DropBlock unfused on a GPU */
db_status db_config_backbone(const db_config *cfg, db_model_config *b);
/* The network a run of cfg builds for inputs of c x h x w and `classes` classes, by its kind: a
 * classifier's (the ResNets, AmoebaNets), a detector's or a segmenter's configuration, the
 * network keys over the model's defaults and db_config_backbone's settings. The tasks' builds
 * and `dropbench model` both make their networks through these. */
db_status db_config_classifier(const db_config *cfg, int classes, int c, int h, int w, db_model_config *mc);
db_status db_config_detector(const db_config *cfg, int classes, int c, int h, int w, db_retinanet_config *rc);
db_status db_config_segmenter(const db_config *cfg, int classes, int c, int h, int w, db_segnet_config *sc);
/* The regularizer placement the keys describe (kind, keep_prob, groups, skip, schedule, ...),
 * checked; the one place that turns those keys into a plan. */
db_status db_config_reg_plan(const db_config *c, db_reg_plan *plan);
/* "key=value" lines of every key, in table order. */
void db_config_write(const db_config *c, FILE *f);
/* The inverse of db_config_write: key=value lines (any order, keys missing from the text keep
 * their defaults) into a validated configuration; a line that is not key=value, an unknown key
 * or a bad value is DB_ERR_FORMAT naming the line. */
db_status db_config_read(db_config *c, const char *text);
/* Lines of "  --key VALUE   help" for usage messages: every key, or the network's alone */
void db_config_usage(FILE *f, int network_only);
/* A 64-bit FNV-1a hash of the keys that change what a run computes (not threads or paths):
 * a checkpoint only resumes a run with the same fingerprint. Keys added after the first
 * release count only when set away from their default, so earlier runs keep their
 * fingerprints. */
uint64_t db_config_fingerprint(const db_config *c);
/* The fingerprint with the seed left out: the same for runs that differ only in their seed */
uint64_t db_config_family(const db_config *c);

#endif
