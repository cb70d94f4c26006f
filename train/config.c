/* The configuration's keys (train/config.h): their table, defaults and parsing, their text form
 * (written with every run, read back on resume) and the fingerprint. What a configuration means
 * beyond its keys: config_rules.c. */
#include "train/config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef enum { K_INT, K_U64, K_FLOAT, K_BOOL, K_STR, K_AUTO_BOOL /* 0, 1 or auto (-1) */ } key_type;

typedef struct {
    const char *key;
    key_type type;
    size_t offset, size;
    double min, max;
    int affects_result;  /* part of the fingerprint; 2: only when away from its neutral value (a later key) */
    const char *help;
    const char *neutral; /* affects_result 2: the value left out of the fingerprint (NULL: the default) */
} key_def;

#define F(name) offsetof(db_config, name), sizeof(((db_config *)0)->name)
static const key_def keys[] = {
    {"model", K_STR, F(model), 0, 0, 1, "resnet20, resnet32, resnet56, resnet<6n+2>, resnet18, resnet50; detectors retinanet-resnet18-fpn, retinanet-resnet50-fpn; segmenters fcn-resnet18-fpn, fcn-resnet50-fpn; amoebanet-b (the paper's Table 2), amoebanet-a, amoebanet-c, amoebanet-d", NULL},
    {"width", K_INT, F(width), 0, 4096, 2, "channels of the network's first group (0: the model's own: 16 for the CIFAR ResNets, 64 for the ImageNet ones and the detectors' backbones)", NULL},
    {"fpn_width", K_INT, F(fpn_width), 1, 4096, 2, "detectors and segmenters: channels of the FPN levels and the heads (256)", NULL},
    {"head_convs", K_INT, F(head_convs), -1, 8, 2, "detectors and segmenters: 3x3 convolutions in each head before its prediction (-1: the model's own, the official codes' 4 for detectors and 3 for segmenters)", NULL},
    {"cells", K_INT, F(cells), 0, 240, 2, "AmoebaNets: normal cells in all, the official num_cells: 3N for AmoebaNet-B (N, F), whose F is width (0: the model's own, 18: (6, 256) with width 256)", NULL},
    {"stem", K_STR, F(stem), 0, 0, 2, "AmoebaNets: imagenet (3x3/2 convolution and two reduction cells), basic (3x3/1 convolution: the official code's other stem, for small images) or auto (imagenet from 128 pixels up, else basic)", NULL},
    {"dense_keep_prob", K_FLOAT, F(dense_keep_prob), 0, 1, 2, "AmoebaNets: keep probability of the dropout before the classifier (0: the model's own, the official 0.5; 1: none)", NULL},
    {"aux_weight", K_FLOAT, F(aux_weight), 0, 10, 2, "AmoebaNets: train with the auxiliary head (after the last normal cell before the second reduction), its softmax cross-entropy (label-smoothed as the main one) added with this weight to the training loss (0: none; the official code 0.4)", NULL},
    {"min_level", K_INT, F(min_level), 2, 3, 2, "segmenters: the finest pyramid level, the logits' stride 2^min_level (3, the official; 2 for small images)", NULL},
    {"max_level", K_INT, F(max_level), 5, 9, 2, "detectors: the top pyramid level (7: P3-P7; the input must be a multiple of 2^max_level)", NULL},
    {"det_negative_iou", K_FLOAT, F(det_negative_iou), 0, 1, 2, "detectors: anchors whose best IoU is below this are background, up to 0.5 ignored (0.4, the RetinaNet paper; the official code 0.5)", NULL},
    {"init_from", K_STR, F(init_from), 0, 0, 2, "start from a classification run's checkpoint folder: every parameter it holds under the same name (a detector's backbone pretrained as a classifier); the weights as trained, not their moving average", NULL},
    {"det_alpha", K_FLOAT, F(det_alpha), 0, 1, 2, "detectors: the focal loss's alpha (0.25)", NULL},
    {"det_gamma", K_FLOAT, F(det_gamma), 0, 10, 2, "detectors: the focal loss's gamma (1.5, the official code; the RetinaNet paper 2)", NULL},
    {"scale_min", K_FLOAT, F(scale_min), 0.05, 10, 2, "detectors on coco2017 and segmenters: the smallest random scale of the image's long side, a fraction of the input side (1: no jitter; the official codes' train_scale_min, 0.75 for segmentation)", NULL},
    {"scale_max", K_FLOAT, F(scale_max), 0.05, 10, 2, "detectors on coco2017 and segmenters: the largest random scale; above 1 the scaled image is cropped at random (1: no jitter; the official segmentation code's 1.5)", NULL},
    {"shortcut", K_STR, F(shortcut), 0, 0, 1, "CIFAR ResNets: A (zero-padded identity) or B (1x1 conv + BN)", NULL},
    {"zero_init_last_bn", K_BOOL, F(zero_init_last_bn), 0, 1, 1, "start each block's last BN gamma at 0", NULL},
    {"bn_momentum", K_FLOAT, F(bn_momentum), 0, 1, 1, "running-statistics momentum (PyTorch sense)", NULL},
    {"bn_eps", K_FLOAT, F(bn_eps), 1e-12, 1, 1, "batch-norm epsilon", NULL},
    {"bn_sync", K_BOOL, F(bn_sync), 0, 1, 2, "data parallel: batch norm in training over every process's samples together (synchronised batch norm: its sums added over the processes at every batch norm, forward and backward), instead of each process's own; one process: no change", NULL},
    {"bn_group", K_INT, F(bn_group), 0, 65536, 2, "samples per batch-norm group in training: each group of a replica's batch normalised with its own statistics (ghost batch norm; the official TPU codes' per-core batch; a data-parallel run's replicas normalise their own samples, so --bn-group B/N on one process trains as N replicas); 0: the whole batch", NULL},
    {"dataset", K_STR, F(dataset), 0, 0, 1, "fashion-mnist, mnist (IDX files), cifar10, cifar100 (binary version), imagenet (train/ and val/ folders of JPEGs), synthetic; for detectors fmnist-detect (dropbench data make fmnist-detect) and coco2017 (annotations/ and train2017/, val2017/ JPEG folders; dropbench data fetch and unpack); for segmenters fmnist-segment (the same set's label maps) and voc2012 (VOCdevkit/VOC2012 or its contents: JPEGs, label PNGs, the SBD train_aug list when present)", NULL},
    {"data_dir", K_STR, F(data_dir), 0, 0, 0, "the data set's folder (default: the Debian package's for Fashion-MNIST/MNIST, else the cache's, where dropbench data fetch puts it)", NULL},
    {"train_limit", K_INT, F(train_limit), 0, 1e9, 1, "use the first N training samples (0: all)", NULL},
    {"test_limit", K_INT, F(test_limit), 0, 1e9, 1, "use the first N test samples (0: all)", NULL},
    {"augment_pad", K_INT, F(augment_pad), 0, 64, 1, "random-crop padding in pixels (0: no crop)", NULL},
    {"augment_flip", K_BOOL, F(augment_flip), 0, 1, 1, "random horizontal flip", NULL},
    {"augment", K_STR, F(augment), 0, 0, 2, "crop-flip (pad, random crop, flip), inception (random resized crop, flip) or autoaugment", NULL},
    {"crop_area_min", K_FLOAT, F(crop_area_min), 0.001, 1, 2, "inception: the smallest crop, as a fraction of the image's area", NULL},
    {"eval_crop_fraction", K_FLOAT, F(eval_crop_fraction), 0.1, 1, 2, "inception: evaluation centre crop over the short side (224/256)", NULL},
    {"epochs", K_INT, F(epochs), 1, 100000, 1, "training epochs", NULL},
    {"eval_every", K_INT, F(eval_every), 1, 100000, 0, "evaluate on the test set every N epochs and after the last (the epochs between record no test metrics; training is the same)", NULL},
    {"batch", K_INT, F(batch), 1, 65536, 1, "batch size", NULL},
    {"lr", K_FLOAT, F(lr), 0, 100, 1, "base learning rate", NULL},
    {"lr_schedule", K_STR, F(lr_schedule), 0, 0, 1, "constant, step, cosine or exponential", NULL},
    {"lr_decay_rate", K_FLOAT, F(lr_decay_rate), 0, 1, 2, "exponential schedule: lr times this every lr_decay_epochs, counted from epoch 0 (TensorFlow's staircase; the floor is lr_final)", NULL},
    {"lr_decay_epochs", K_FLOAT, F(lr_decay_epochs), 0.001, 1e5, 2, "exponential schedule: epochs between two decays", NULL},
    {"milestones", K_STR, F(milestones), 0, 0, 1, "step schedule: epochs where lr *= lr_gamma, e.g. 125,200,250", NULL},
    {"lr_gamma", K_FLOAT, F(lr_gamma), 0, 1, 1, "step schedule factor", NULL},
    {"lr_final", K_FLOAT, F(lr_final), 0, 100, 1, "cosine schedule: final learning rate; exponential: the floor", NULL},
    {"warmup_epochs", K_FLOAT, F(warmup_epochs), 0, 1e5, 1, "linear warm-up length in epochs", NULL},
    {"warmup_start", K_FLOAT, F(warmup_start), 0, 1, 1, "warm-up starts at lr*warmup_start", NULL},
    {"momentum", K_FLOAT, F(momentum), 0, 1, 1, "SGD momentum (RMSProp's with optimizer rmsprop)", NULL},
    {"nesterov", K_BOOL, F(nesterov), 0, 1, 1, "Nesterov momentum", NULL},
    {"weight_decay", K_FLOAT, F(weight_decay), 0, 1, 1, "L2 weight decay", NULL},
    {"decay_bn_bias", K_BOOL, F(decay_bn_bias), 0, 1, 1, "also decay batch-norm parameters and biases", NULL},
    {"optimizer", K_STR, F(optimizer), 0, 0, 2, "sgd or rmsprop (TensorFlow 1's, the official AmoebaNet code's: the weight decay added to the gradient, the mean square starting at 1, epsilon inside the root; momentum is its momentum)", NULL},
    {"rmsprop_decay", K_FLOAT, F(rmsprop_decay), 0, 0.999999, 2, "rmsprop: the decay of the gradient's mean square", NULL},
    {"rmsprop_epsilon", K_FLOAT, F(rmsprop_epsilon), 1e-12, 100, 2, "rmsprop: added to the mean square inside the square root (the official AmoebaNet code's 1.0)", NULL},
    {"ema_decay", K_FLOAT, F(ema_decay), 0, 0.999999, 2, "keep a moving average of the weights and batch-norm statistics (TensorFlow's, min(decay, (1+t)/(10+t)) after step t) and evaluate it instead of the weights (0: off; the official AmoebaNet code 0.9999)", NULL},
    {"cutout", K_INT, F(cutout), 0, 4096, 1, "Cutout: zero one square of this side per training image (0: off)", NULL},
    {"label_smoothing", K_FLOAT, F(label_smoothing), 0, 1, 1, "label smoothing epsilon", NULL},
    {"regularizer", K_STR, F(regularizer), 0, 0, 1, "none, dropout, spatial_dropout, dropblock (at the model's sites) or droppath (whole residual branches, rate growing with depth)", NULL},
    {"keep_prob", K_FLOAT, F(keep_prob), 1e-6, 1, 1, "the regularizer's target keep probability", NULL},
    {"block_size", K_INT, F(block_size), 1, 100000, 1, "DropBlock's block size", NULL},
    {"reg_groups", K_STR, F(reg_groups), 0, 0, 1, "groups that get the regularizer, e.g. 2,3 (counted from 1); segmenters also head (the FCN head's sites)", NULL},
    {"reg_last_cells", K_FLOAT, F(reg_last_cells), 1e-6, 1, 2, "AmoebaNets: the regularizer only in the last fraction of the cells, counting every cell (the paper's 0.5: the last 50 percent); 1: all", NULL},
    {"reg_skip", K_AUTO_BOOL, F(reg_skip), 0, 1, 1, "also on the shortcuts; auto: DropBlock yes (the paper's conv+skip), dropout and SpatialDropout no (the paper's conv branches only)", NULL},
    {"keep_prob_schedule", K_STR, F(keep_prob_schedule), 0, 0, 1, "linear (1 -> keep_prob over training) or fixed; auto: linear for DropBlock (and for DropPath on an AmoebaNet, as its official code), fixed for the others (the official code schedules DropBlock only)", NULL},
    {"group_scaling", K_AUTO_BOOL, F(group_scaling), 0, 1, 1, "group g of G drops at p/4^(G-g); auto: for DropBlock on a ResNet (as the official code; not on an AmoebaNet), not for the others; DropPath on a ResNet ignores it (its rate grows with depth)", NULL},
    {"reg_per_sample", K_BOOL, F(reg_per_sample), 0, 1, 1, "DropBlock: normalise per sample, not over the batch", NULL},
    {"semantics", K_STR, F(semantics), 0, 0, 1, "DropBlock's mask rules: paper, timm, torchvision, miguelvr or darknet", NULL},
    {"device", K_STR, F(device), 0, 0, 2, "auto (CUDA when a usable GPU is present, else CPU), cpu or cuda", "cpu"},
    {"image_size", K_INT, F(image_size), 8, 2048, 2, "image folders (imagenet), coco2017 and voc2012: the network's input side in pixels (coco2017 and voc2012: the long side, padded to a square)", NULL},
    {"loader_workers", K_INT, F(loader_workers), 0, 64, 0, "threads preparing batches ahead of the trainer (0: none; the batches are the same)", NULL},
    {"synthetic", K_STR, F(synthetic), 0, 0, 2, "dataset synthetic: N_TRAIN,N_TEST,C,H,W,CLASSES (class-dependent brightness plus noise)", NULL},
    {"tf32", K_BOOL, F(tf32), 0, 1, 2, "CUDA: TF32 tensor-core math in convolutions and linear layers (default fp32)", NULL},
    {"precision", K_STR, F(precision), 0, 0, 2, "CUDA: fp32 (the default), tf32 (TF32 tensor-core math in convolutions and linear layers, as tf32 1) or bf16 (the convolutions in bfloat16 on tensor cores, accumulating in fp32: their inputs and output gradients rounded to bfloat16 at each use, the weights from the fp32 master weights once a step, their results in fp32 (cuDNN's cast back; 1x1 passes on cuBLAS GEMMs where faster write fp32); depthwise convolutions, batch norm, the linear layers, the other ops and the optimizer stay fp32)", "fp32"},
    {"conv_layout", K_STR, F(conv_layout), 0, 0, 2, "CUDA, precision bf16: the layout of the convolutions' bfloat16 operands, nchw (the tensors' own) or nhwc (channels-last: the casts to and from bfloat16 transpose, and cuDNN's tensor-core kernels take it without transposing; no cuBLAS GEMM path); auto: nchw (nhwc is built and not yet measured on a GPU)", "nchw"},
    {"gpu_bn", K_STR, F(gpu_bn), 0, 0, 2, "CUDA: batch norm's kernels, cudnn (cuDNN's, with a separate ReLU pass each way) or fused (dropbench's own, nets/bn_cuda.cu: the ReLU in the same passes, the sums in double, the same bits run after run); auto: cudnn (fused is built and not yet measured on a GPU)", "cudnn"},
    {"deterministic", K_BOOL, F(deterministic), 0, 1, 2, "CUDA: only convolution algorithms cuDNN flags deterministic, the same bits run after run (default: the fastest measured, which may add in another order each time)", NULL},
    {"seed", K_U64, F(seed), 0, 0, 1, "drives initialisation, data order and augmentation", NULL},
    {"threads", K_INT, F(threads), 1, 1024, 0, "CPU threads (bit-identical results need the same count)", NULL},
    {"replica_check", K_INT, F(replica_check), 0, 1000000, 0, "data parallel: every this many steps (and after every epoch) the processes compare checksums of their weights and batch-norm statistics, and stop with an error if any differs (0: after every epoch only)", NULL},
    {"dist_timeout", K_FLOAT, F(dist_timeout), 1, 1e7, 0, "data parallel: seconds a process waits for the others at a step before it ends the run with an error (a process that died or hangs; the last checkpoint continues the run)", NULL},
    {"dist_bucket_mb", K_FLOAT, F(dist_bucket_mb), 0, 65536, 0, "data parallel: the gradients are summed over the processes in buckets of this many MiB, each begun during the backward pass once its gradients are final (CPU: the same bits as one sum after it; GPU: NCCL on a stream of its own; 0: one sum after the backward pass)", NULL},
    {"world_size", K_INT, F(world_size), 0, 65536, 2, "processes of a data-parallel run, each training batch/world_size samples of every batch (mpirun -np N or srun -n N starts them; the run records the number it had): a recipe's number must be the launch's (0: as launched)", NULL},
    {"checkpoint_dir", K_STR, F(checkpoint_dir), 0, 0, 0, "write a checkpoint there after every epoch", NULL},
    {"metrics", K_STR, F(metrics), 0, 0, 0, "write per-epoch results to this CSV file", NULL},
    {"predictions_dir", K_STR, F(predictions_dir), 0, 0, 0, "detectors and segmenters: write each evaluation's predictions there, replacing the previous (detections.json in COCO's results format for eval coco; a palette PNG per label map, named as it, for eval miou)", NULL},
    {"site_metrics", K_STR, F(site_metrics), 0, 0, 0, "write each regularizer site's realised and expected drop fraction per epoch to this CSV", NULL},
};
#define NKEYS (sizeof keys / sizeof *keys)

void db_config_defaults(db_config *c) {
    memset(c, 0, sizeof *c);
    strcpy(c->model, "resnet20");
    strcpy(c->shortcut, "A");
    c->fpn_width = 256, c->head_convs = -1, c->min_level = 3, c->max_level = 7;
    c->det_negative_iou = 0.4f, c->det_alpha = 0.25f, c->det_gamma = 1.5f;
    c->scale_min = c->scale_max = 1.0f;
    c->bn_momentum = 0.1f;
    c->bn_eps = 1e-5f;
    strcpy(c->dataset, "fashion-mnist");
    c->augment_pad = 2;
    c->augment_flip = 1;
    strcpy(c->augment, "crop-flip");
    c->crop_area_min = 0.08f;
    c->eval_crop_fraction = 0.875f;
    c->epochs = 15;
    c->eval_every = 1;
    c->batch = 128;
    c->lr = 0.1f;
    strcpy(c->lr_schedule, "cosine");
    c->lr_decay_rate = 0.97f, c->lr_decay_epochs = 2.4f;
    strcpy(c->optimizer, "sgd");
    c->rmsprop_decay = 0.9f, c->rmsprop_epsilon = 1.0f;
    strcpy(c->semantics, "paper");
    c->lr_gamma = 0.1f;
    c->warmup_start = 0.1f;
    c->momentum = 0.9f;
    c->weight_decay = 5e-4f;
    strcpy(c->regularizer, "none");
    c->keep_prob = 0.9f;
    c->block_size = 3;
    strcpy(c->reg_groups, "3");
    c->reg_last_cells = 1.0f;
    strcpy(c->stem, "auto");
    c->reg_skip = -1; /* auto: as the paper and the official code place each regularizer */
    c->group_scaling = -1;
    strcpy(c->keep_prob_schedule, "auto");
    strcpy(c->device, "auto");
    strcpy(c->precision, "fp32");
    strcpy(c->conv_layout, "auto");
    strcpy(c->gpu_bn, "auto");
    c->loader_workers = 1;
    c->image_size = 224;
    strcpy(c->synthetic, "5000,1000,3,32,32,10");
    c->seed = 1;
    c->threads = 2;
    c->dist_timeout = 600.0f;
    c->dist_bucket_mb = 4.0f;
}

static const key_def *find(const char *key) {
    char k[64];
    size_t n = strlen(key);
    if (n >= sizeof k) return NULL;
    for (size_t i = 0; i <= n; i++) k[i] = key[i] == '-' ? '_' : key[i];
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].key, k) == 0) return &keys[i];
    return NULL;
}

/* Keys under an earlier name, still read (checkpoints and recipes written before the rename) */
static const char *const renamed[][2] = {{"det_scale_min", "scale_min"}, {"det_scale_max", "scale_max"}};

/* A key as given ('-' for '_', or its earlier name), NULL when unknown */
static const key_def *lookup(const char *key) {
    const key_def *k = find(key);
    for (size_t i = 0; !k && i < sizeof renamed / sizeof *renamed; i++) {
        size_t j = 0; /* the key with '-' read as '_', as find() reads it */
        while (key[j] && renamed[i][0][j] && (key[j] == '-' ? '_' : key[j]) == renamed[i][0][j]) j++;
        if (!key[j] && !renamed[i][0][j]) k = find(renamed[i][1]);
    }
    return k;
}

const char *db_config_key_name(const char *key) {
    const key_def *k = lookup(key);
    return k ? k->key : NULL;
}

db_status db_config_set(db_config *c, const char *key, const char *value) {
    const key_def *k = lookup(key);
    if (!k) return db_fail(DB_ERR_ARG, "unknown key '%s'", key);
    char *p = (char *)c + k->offset, *end = NULL;
    errno = 0;
    switch (k->type) {
    case K_INT: case K_BOOL: {
        long v = strtol(value, &end, 10);
        if (*value == '\0' || *end != '\0' || errno || v < k->min || v > k->max)
            return db_fail(DB_ERR_ARG, "%s: '%s' is not an integer in [%g, %g]", k->key, value, k->min, k->max);
        *(int *)p = (int)v;
        return DB_OK;
    }
    case K_U64: {
        unsigned long long v = strtoull(value, &end, 10);
        if (*value == '\0' || *value == '-' || *end != '\0' || errno)
            return db_fail(DB_ERR_ARG, "%s: '%s' is not a non-negative integer", k->key, value);
        *(uint64_t *)p = v;
        return DB_OK;
    }
    case K_FLOAT: {
        double v = strtod(value, &end);
        if (*value == '\0' || *end != '\0' || errno || !isfinite(v) || v < k->min || v > k->max)
            return db_fail(DB_ERR_ARG, "%s: '%s' is not a number in [%g, %g]", k->key, value, k->min, k->max);
        *(float *)p = (float)v;
        return DB_OK;
    }
    case K_AUTO_BOOL:
        if (!strcmp(value, "auto")) { *(int *)p = -1; return DB_OK; }
        if (strcmp(value, "0") && strcmp(value, "1"))
            return db_fail(DB_ERR_ARG, "%s: '%s' must be 0, 1 or auto", k->key, value);
        *(int *)p = value[0] - '0';
        return DB_OK;
    case K_STR:
        if (strlen(value) >= k->size)
            return db_fail(DB_ERR_ARG, "%s: value longer than %zu characters", k->key, k->size - 1);
        for (const char *c = value; *c; c++) /* (a line break would be a key=value line of its own when recorded) */
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                return db_fail(DB_ERR_ARG, "%s: a value with a line break or another control character", k->key);
        memset(p, 0, k->size);
        strcpy(p, value);
        return DB_OK;
    }
    return db_fail(DB_ERR_INTERNAL, "config: bad key type");
}

/* exact: floats with 9 digits (the fingerprint's form, kept since the first release); else the
 * shortest form that reads back as the same float (0.1, not 0.100000001) */
static void write_value(const db_config *c, const key_def *k, FILE *f, int exact) {
    const char *p = (const char *)c + k->offset;
    switch (k->type) {
    case K_INT: case K_BOOL: fprintf(f, "%d", *(const int *)p); break;
    case K_U64: fprintf(f, "%llu", (unsigned long long)*(const uint64_t *)p); break;
    case K_FLOAT: {
        float v = *(const float *)p;
        char b[32];
        for (int digits = exact ? 9 : 6; digits <= 9; digits++) {
            snprintf(b, sizeof b, "%.*g", digits, v);
            if (strtof(b, NULL) == v) break;
        }
        fputs(b, f);
        break;
    }
    case K_STR: fputs(p, f); break;
    case K_AUTO_BOOL: {
        int v = *(const int *)p;
        if (v < 0) fputs("auto", f);
        else fprintf(f, "%d", v);
        break;
    }
    }
}

db_status db_config_value_text(const db_config *c, const char *key, char *out, size_t n) {
    const key_def *k = lookup(key);
    if (!k) return db_fail(DB_ERR_ARG, "unknown key '%s'", key);
    FILE *f = n > 1 ? fmemopen(out, n, "w") : NULL;
    if (!f) return db_fail(DB_ERR_NOMEM, "out of memory");
    write_value(c, k, f, 0);
    fclose(f);
    return DB_OK;
}

void db_config_write(const db_config *c, FILE *f) {
    for (size_t i = 0; i < NKEYS; i++) {
        fprintf(f, "%s=", keys[i].key);
        write_value(c, &keys[i], f, 0);
        fputc('\n', f);
    }
}

db_status db_config_read(db_config *c, const char *text) {
    db_config_defaults(c);
    int line_no = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
        char line[1200];
        line_no++;
        if ((size_t)(end - p) >= sizeof line) return db_fail(DB_ERR_FORMAT, "configuration line %d is too long", line_no);
        memcpy(line, p, (size_t)(end - p));
        line[end - p] = '\0';
        p = nl ? nl + 1 : end;
        if (!line[0]) continue;
        char *eq = strchr(line, '=');
        if (!eq) return db_fail(DB_ERR_FORMAT, "configuration line %d: '%s' is not key=value", line_no, line);
        *eq = '\0';
        if (db_config_set(c, line, eq + 1) != DB_OK) {
            char why[1024];
            snprintf(why, sizeof why, "%s", db_last_error());
            return db_fail(DB_ERR_FORMAT, "configuration line %d: %s", line_no, why);
        }
    }
    return db_config_validate(c);
}

/* A key's value as text (what db_config_write prints) */
static void key_text(const db_config *c, const key_def *k, char *buf, size_t n, int exact) {
    buf[0] = '\0';
    FILE *m = fmemopen(buf, n - 1, "w");
    if (!m) return;
    write_value(c, k, m, exact);
    long len = ftell(m);
    fclose(m);
    buf[len < 0 ? 0 : (size_t)len < n ? (size_t)len : n - 1] = '\0';
}

/* The keys that shape the network (db_config_is_network_key): `dropbench model` takes them too */
static const char *const network_keys[] = {"width", "fpn_width", "head_convs", "cells", "stem", "dense_keep_prob",
                                           "aux_weight", "min_level", "max_level", "shortcut"};

static int is_network(const key_def *k) {
    for (size_t i = 0; k && i < sizeof network_keys / sizeof *network_keys; i++)
        if (!strcmp(k->key, network_keys[i])) return 1;
    return 0;
}

int db_config_is_network_key(const char *key) { return is_network(find(key)); }

void db_config_usage(FILE *f, int network_only) {
    db_config d;
    db_config_defaults(&d);
    for (size_t i = 0; i < NKEYS; i++) {
        if (network_only && !is_network(&keys[i])) continue;
        char def[64];
        key_text(&d, &keys[i], def, sizeof def, 0);
        char opt[40];
        snprintf(opt, sizeof opt, "--%s", keys[i].key);
        for (char *q = opt + 2; *q; q++) if (*q == '_') *q = '-';
        fprintf(f, "  %-22s %s%s%s%s\n", opt, keys[i].help, *def ? " [" : "", def, *def ? "]" : "");
    }
}

/* The name a key is hashed under: a renamed key keeps its earlier name there, so the runs recorded
 * before the rename are still found as the same runs (resume, study's skipping, report, regress) */
static const char *fingerprint_name(const char *key) {
    for (size_t i = 0; i < sizeof renamed / sizeof *renamed; i++)
        if (!strcmp(key, renamed[i][1])) return renamed[i][0];
    return key;
}

uint64_t db_config_fingerprint(const db_config *c_in) {
    /* what the keys mean, not how they were written: auto placements count as what they resolve
     * to, so an explicit reg_skip = 1 and an auto that means it are the same run */
    db_config resolved, defaults;
    const db_config *c = &resolved;
    db_config_effective(c_in, &resolved);
    db_config_defaults(&defaults);
    char value[600], def[600];
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < NKEYS; i++) {
        if (!keys[i].affects_result) continue;
        key_text(c, &keys[i], value, sizeof value, 1);
        if (keys[i].affects_result == 2) { /* a later key: only when away from its neutral value */
            if (keys[i].neutral) snprintf(def, sizeof def, "%s", keys[i].neutral);
            else key_text(&defaults, &keys[i], def, sizeof def, 1);
            if (!strcmp(value, def)) continue;
        }
        for (const char *q = fingerprint_name(keys[i].key); *q; q++) { h ^= (unsigned char)*q; h *= 1099511628211ull; }
        h ^= '='; h *= 1099511628211ull;
        for (const char *q = value; *q; q++) { h ^= (unsigned char)*q; h *= 1099511628211ull; }
    }
    return h;
}

uint64_t db_config_family(const db_config *c) {
    db_config d = *c;
    d.seed = 0;
    return db_config_fingerprint(&d);
}
