/* Training-loop tests on small in-memory data: memorisation, determinism, checkpoint and
 * resume, divergence, bad checkpoint folders and files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "train/checkpoint.h"
#include "train/train.h"
#include "core/philox.h"
#include "tests/check.h"

/* n images 1x8x8 of 4 classes: class k lights quadrant k, plus noise; or pure noise with random
 * labels when noise_only (nothing to learn but memorisation). */
static void make_data(db_dataset *d, int n, uint64_t seed, int noise_only) {
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "synthetic");
    d->n = n; d->c = 1; d->h = d->w = 8; d->num_classes = 4;
    d->images = malloc((size_t)n * 64);
    d->labels = malloc(sizeof *d->labels * n);
    for (int i = 0; i < n; i++) {
        db_u32x4 r = db_rand4(seed, 5, 0, (uint64_t)i);
        int k = (int)(r.v[0] % 4);
        d->labels[i] = (uint8_t)k;
        for (int p = 0; p < 64; p++) {
            int y = p / 8, x = p % 8, q = (y >= 4) * 2 + (x >= 4);
            uint32_t noise = db_rand4(seed, 6, (uint32_t)i, (uint64_t)p).v[0] % 256;
            d->images[(size_t)i * 64 + p] = (uint8_t)(noise_only ? noise : (q == k ? 160 : 40) + noise % 64);
        }
    }
}

static void small_config(db_config *c) {
    db_config_defaults(c);
    strcpy(c->model, "resnet8");
    c->batch = 16;
    c->epochs = 3;
    c->lr = 0.05f;
    c->augment_pad = 1;
    c->augment_flip = 0; /* a flip would move the quadrant that carries the label */
    c->threads = 2;
}

static char *temp_dir(void) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/dropbench-test-XXXXXX");
    return mkdtemp(path);
}

/* The whole file as a string (NULL if unreadable). */
static char *read_file_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 20);
    if (buf) fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    return buf;
}

static void test_overfit_64_samples(void) {
    db_dataset d;
    make_data(&d, 64, 3, 1);
    db_config c;
    small_config(&c);
    c.batch = 64; c.epochs = 150; c.weight_decay = 0; c.augment_pad = 0; c.augment_flip = 0;
    c.lr_schedule[0] = '\0';
    strcpy(c.lr_schedule, "constant");
    db_train_summary s;
    CHECK_OK(db_train(&c, &d, &d, NULL, &s));
    CHECK(s.final_test[0] < 0.05, "loss on the 64 memorised samples is %g", s.final_test[0]);
    CHECK(s.final_test[1] == 1.0, "top1 on the memorised samples is %g", s.final_test[1]);
    CHECK(s.task && s.task->score == 1 && !strcmp(s.task->test_names[1], "top1") && s.best_score == 1.0,
          "the summary's task and score");
    db_dataset_free(&d);
}

static void test_learns_pattern(void) {
    db_dataset tr, te;
    make_data(&tr, 512, 1, 0);
    make_data(&te, 256, 2, 0);
    db_config c;
    small_config(&c);
    const char *regs[5] = {"none", "dropout", "spatial_dropout", "dropblock", "droppath"};
    db_train_summary s;
    for (int i = 0; i < 5; i++) { /* every regularizer at its default placement still learns */
        strcpy(c.regularizer, regs[i]);
        CHECK_OK(db_train(&c, &tr, &te, NULL, &s));
        CHECK(s.final_test[1] > 0.9, "%s: held-out top1 %g", regs[i], s.final_test[1]);
    }
    /* Cutout acts on the training images only: a 3x3 patch leaves the pattern learnable, a
     * patch wider than the image leaves nothing to learn (held-out images stay whole) */
    strcpy(c.regularizer, "none");
    c.cutout = 3;
    CHECK_OK(db_train(&c, &tr, &te, NULL, &s));
    CHECK(s.final_test[1] > 0.9, "cutout 3: held-out top1 %g", s.final_test[1]);
    c.cutout = 16;
    CHECK_OK(db_train(&c, &tr, &te, NULL, &s));
    CHECK(s.final_test[1] < 0.5, "cutout over the whole image, yet held-out top1 %g", s.final_test[1]);
    db_dataset_free(&tr);
    db_dataset_free(&te);
}

typedef struct { db_epoch_result r[8]; int n; } history;
static db_status keep(const db_epoch_result *r, const db_epoch_sites *sites, void *user) {
    history *h = user;
    (void)sites;
    if (h->n < 8) h->r[h->n++] = *r;
    return DB_OK;
}

static int same_results(const history *a, const history *b) {
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++)
        if (a->r[i].train_loss != b->r[i].train_loss || memcmp(a->r[i].test, b->r[i].test, sizeof a->r[i].test) ||
            memcmp(a->r[i].train, b->r[i].train, sizeof a->r[i].train) || a->r[i].lr != b->r[i].lr)
            return 0;
    return 1;
}

static void test_determinism(void) {
    db_dataset tr, te;
    make_data(&tr, 256, 1, 0);
    make_data(&te, 128, 2, 0);
    db_config c;
    small_config(&c);
    history h[3];
    memset(h, 0, sizeof h);
    for (int i = 0; i < 3; i++) {
        if (i == 2) c.seed = 2;
        db_train_hooks hk = {.on_epoch = keep, .user = &h[i]};
        db_train_summary s;
        CHECK_OK(db_train(&c, &tr, &te, &hk, &s));
    }
    CHECK(h[0].n == 3, "3 epochs recorded, got %d", h[0].n);
    CHECK(same_results(&h[0], &h[1]), "same seed, same threads: results differ");
    CHECK(!same_results(&h[0], &h[2]), "another seed gave the same results");
    db_dataset_free(&tr);
    db_dataset_free(&te);
}

static void test_checkpoint_resume(void) {
    db_dataset tr, te;
    make_data(&tr, 256, 1, 0);
    make_data(&te, 128, 2, 0);
    db_config c;
    small_config(&c);
    /* with DropBlock on: its masks are keyed by the step, so a resume must draw the same ones */
    strcpy(c.regularizer, "dropblock");
    c.block_size = 2;
    strcpy(c.reg_groups, "2,3");
    char *dir = temp_dir();
    CHECK(dir != NULL, "mkdtemp");
    snprintf(c.checkpoint_dir, sizeof c.checkpoint_dir, "%s/ck", dir);
    history straight, split;
    memset(&straight, 0, sizeof straight);
    memset(&split, 0, sizeof split);
    db_train_summary s;
    db_train_hooks hk = {.on_epoch = keep, .user = &straight};
    db_config c0 = c;
    c0.checkpoint_dir[0] = '\0';
    snprintf(c0.site_metrics, sizeof c0.site_metrics, "%s/straight.csv", dir);
    snprintf(c.site_metrics, sizeof c.site_metrics, "%s/split.csv", dir);
    CHECK_OK(db_train(&c0, &tr, &te, &hk, &s));
    /* the same run, stopped after one epoch (as if killed), then resumed twice */
    hk.user = &split;
    hk.max_epochs_this_call = 1;
    CHECK_OK(db_train(&c, &tr, &te, &hk, &s));
    CHECK(s.epochs_done == 1 && db_ckpt_exists(c.checkpoint_dir), "epoch 1 checkpointed");
    hk.resume = 1;
    hk.max_epochs_this_call = 0;
    CHECK_OK(db_train(&c, &tr, &te, &hk, &s));
    CHECK(s.resumed_from == 1 && s.epochs_done == 3, "resumed from %d, done %d", s.resumed_from, s.epochs_done);
    CHECK(same_results(&straight, &split), "a resumed run differs from an uninterrupted one");
    CHECK(straight.r[2].drop_fraction > 0.0 && straight.r[2].drop_fraction < 0.2 &&
          straight.r[2].drop_fraction == split.r[2].drop_fraction,
          "realised drop fractions %.4f and %.4f", straight.r[2].drop_fraction, split.r[2].drop_fraction);
    /* the per-site records (3 epochs x 6 sites of resnet8 groups 2, 3) survive the checkpoint:
     * the same file, byte for byte */
    char *a = read_file_text(c0.site_metrics), *b = read_file_text(c.site_metrics);
    int lines = 0;
    for (const char *q = a; q && *q; q++) lines += *q == '\n';
    CHECK(a && b && !strcmp(a, b) && lines == 1 + 3 * 6, "site metrics differ after a resume, or %d lines", lines);
    free(a); free(b);
    c.site_metrics[0] = '\0';
    /* another thread count would not continue bit for bit: refused, naming the count */
    c.threads = 1;
    CHECK(db_train(&c, &tr, &te, &hk, &s) == DB_ERR_CKPT_THREADS, "resume with another thread count accepted");
    CHECK(strstr(db_last_error(), "--threads 2") != NULL, "message: %s", db_last_error());
    c.threads = 2;
    /* another configuration must not resume from it */
    c.seed = 9;
    CHECK(db_train(&c, &tr, &te, &hk, &s) == DB_ERR_CKPT_CONFIG, "resume with another seed accepted");
    CHECK(strstr(db_last_error(), "another configuration") != NULL, "message: %s", db_last_error());
    c.seed = 1;
    /* a flipped byte and a truncated file are refused with a clear message */
    char path[1100];
    db_ckpt_path(c.checkpoint_dir, path, sizeof path);
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL, "open %s", path);
    if (f) {
        fseek(f, 200, SEEK_SET);
        int ch = fgetc(f);
        fseek(f, 200, SEEK_SET);
        fputc(ch ^ 0x40, f);
        fclose(f);
    }
    CHECK(db_train(&c, &tr, &te, &hk, &s) == DB_ERR_CKPT_CORRUPT, "corrupt checkpoint accepted");
    CHECK(strstr(db_last_error(), "checksum") && strstr(db_last_error(), path), "message: %s", db_last_error());
    CHECK(truncate(path, 100) == 0, "truncate");
    CHECK(db_train(&c, &tr, &te, &hk, &s) == DB_ERR_CKPT_TRUNCATED, "truncated checkpoint accepted");
    CHECK(strstr(db_last_error(), "truncated") != NULL, "message: %s", db_last_error());
    unlink(path);
    rmdir(c.checkpoint_dir);
    rmdir(dir);
    db_dataset_free(&tr);
    db_dataset_free(&te);
}

static void test_bad_checkpoint_dir(void) {
    db_dataset d;
    make_data(&d, 64, 1, 0);
    db_config c;
    small_config(&c);
    char *dir = temp_dir();
    char file[128];
    snprintf(file, sizeof file, "%s/plain-file", dir);
    FILE *f = fopen(file, "w");
    if (f) fclose(f);
    snprintf(c.checkpoint_dir, sizeof c.checkpoint_dir, "%s/ck", file); /* below a file: never creatable */
    db_train_summary s;
    CHECK(db_train(&c, &d, &d, NULL, &s) == DB_ERR_IO, "a checkpoint folder below a file was accepted");
    CHECK(strstr(db_last_error(), c.checkpoint_dir) != NULL, "message names the folder: %s", db_last_error());
    CHECK(s.epochs_done == 0, "trained %d epochs before failing", s.epochs_done);
    unlink(file);
    rmdir(dir);
    db_dataset_free(&d);
}

static void test_divergence(void) {
    db_dataset d;
    make_data(&d, 128, 1, 0);
    db_config c;
    small_config(&c);
    /* weight decay 1 at lr 100 multiplies every weight by -99 per step: overflow within 20 steps */
    c.lr = 100.0f; c.weight_decay = 1.0f; c.momentum = 0.0f; strcpy(c.lr_schedule, "constant");
    db_train_summary s;
    db_status st = db_train(&c, &d, &d, NULL, &s);
    CHECK(st == DB_ERR_DIVERGED, "lr 100 gave %s", db_status_name(st));
    CHECK(s.status == DB_ERR_DIVERGED && s.diverged_epoch >= 1, "summary status %d epoch %d", s.status, s.diverged_epoch);
    CHECK(strstr(db_last_error(), "diverged") != NULL, "message: %s", db_last_error());
    db_dataset_free(&d);
}

static void test_config_errors(void) {
    db_config c;
    db_config_defaults(&c);
    CHECK(db_config_set(&c, "no_such_key", "1") == DB_ERR_ARG, "unknown key accepted");
    CHECK(strstr(db_last_error(), "no_such_key") != NULL, "message: %s", db_last_error());
    CHECK(db_config_set(&c, "epochs", "0") == DB_ERR_ARG, "epochs 0 accepted");
    CHECK(db_config_set(&c, "lr", "0.1x") == DB_ERR_ARG, "lr 0.1x accepted");
    CHECK(db_config_set(&c, "lr", "nan") == DB_ERR_ARG, "lr nan accepted");
    CHECK(db_config_set(&c, "seed", "-1") == DB_ERR_ARG, "seed -1 accepted");
    CHECK_OK(db_config_set(&c, "weight-decay", "1e-4"));
    CHECK_CLOSE(c.weight_decay, 1e-4, 1e-10, 0);
    CHECK_OK(db_config_set(&c, "lr_schedule", "step"));
    CHECK(db_config_validate(&c) == DB_ERR_ARG, "step schedule without milestones accepted");
    CHECK_OK(db_config_set(&c, "milestones", "125,200,250"));
    CHECK_OK(db_config_validate(&c));
    CHECK_OK(db_config_set(&c, "milestones", "125,,200"));
    CHECK(db_config_validate(&c) == DB_ERR_ARG, "bad milestones accepted");
    db_config a, b;
    db_config_defaults(&a);
    db_config_defaults(&b);
    b.threads = 7;
    strcpy(b.checkpoint_dir, "/elsewhere");
    CHECK(db_config_fingerprint(&a) == db_config_fingerprint(&b), "threads and paths change the fingerprint");
    b.lr = 0.2f;
    CHECK(db_config_fingerprint(&a) != db_config_fingerprint(&b), "lr does not change the fingerprint");
    /* the convolutions' layout: auto means nchw (the same run written either way); nhwc is another */
    db_config_defaults(&b);
    CHECK_OK(db_config_set(&a, "precision", "bf16"));
    CHECK_OK(db_config_set(&b, "precision", "bf16"));
    CHECK_OK(db_config_set(&b, "conv_layout", "nchw"));
    CHECK(db_config_fingerprint(&a) == db_config_fingerprint(&b), "conv_layout nchw and auto fingerprint apart");
    CHECK_OK(db_config_set(&b, "conv_layout", "nhwc"));
    CHECK_OK(db_config_validate(&b));
    CHECK(db_config_fingerprint(&a) != db_config_fingerprint(&b), "conv_layout nhwc has auto's fingerprint");
    CHECK_OK(db_config_set(&b, "precision", "tf32"));
    CHECK(db_config_validate(&b) == DB_ERR_ARG, "conv_layout nhwc accepted without bf16");
    /* batch norm's kernels on the GPU: auto means cuDNN's; the fused ones are another run */
    db_config_defaults(&a);
    db_config_defaults(&b);
    CHECK_OK(db_config_set(&b, "gpu_bn", "cudnn"));
    CHECK(db_config_fingerprint(&a) == db_config_fingerprint(&b), "gpu_bn cudnn and auto fingerprint apart");
    CHECK_OK(db_config_set(&b, "gpu_bn", "fused"));
    CHECK(db_config_fingerprint(&a) != db_config_fingerprint(&b), "gpu_bn fused has auto's fingerprint");
    /* a renamed key hashes under its earlier name: this configuration's fingerprint as a9f5837
     * (det_scale_min, det_scale_max) computed it, so runs recorded before the rename are still found */
    db_config_defaults(&a);
    CHECK_OK(db_config_set(&a, "model", "retinanet-resnet18-fpn"));
    CHECK_OK(db_config_set(&a, "dataset", "coco2017"));
    CHECK_OK(db_config_set(&a, "augment_pad", "0"));
    CHECK_OK(db_config_set(&a, "scale_min", "0.75"));
    CHECK_OK(db_config_set(&a, "det-scale-max", "1.25"));
    CHECK(a.scale_max == 1.25f && db_config_fingerprint(&a) == 0x9f615343b95a6f2aull,
          "the renamed scale keys' fingerprint changed: %016llx", (unsigned long long)db_config_fingerprint(&a));
}

/* What tells a finished run's weights (another run may start from them: init_from) from a half
 * trained run's: the progress written beside each checkpoint */
static void test_checkpoint_progress(void) {
    char dir[64];
    db_test_mkdtemp(dir, "progress");
    int known = -1;
    CHECK(db_ckpt_finished(dir, &known) == DB_ERR_ARG && strstr(db_last_error(), "no checkpoint there"),
          "an empty folder: %s", db_last_error());
    FILE *f = fopen(db_test_path(dir, "checkpoint.dbck"), "w"); /* only its presence is read here */
    CHECK(f && fclose(f) == 0, "cannot make the stand-in checkpoint");
    CHECK(db_ckpt_finished(dir, &known) == DB_OK && known == 0, "a checkpoint from before progress was written");
    CHECK_OK(db_ckpt_mark_progress(dir, 1, 3, 0));
    CHECK(db_ckpt_finished(dir, &known) == DB_ERR_ARG && known == 1 && strstr(db_last_error(), "1 of its 3 epochs"),
          "one epoch of three: %s", db_last_error());
    CHECK_OK(db_ckpt_mark_progress(dir, 2, 3, 1));
    CHECK(db_ckpt_finished(dir, &known) == DB_ERR_ARG && strstr(db_last_error(), "and part of the next"),
          "stopped inside epoch 3: %s", db_last_error());
    CHECK_OK(db_ckpt_mark_progress(dir, 3, 3, 0));
    CHECK(db_ckpt_finished(dir, &known) == DB_OK && known == 1, "finished: %s", db_last_error());
    f = fopen(db_test_path(dir, "progress"), "w");
    CHECK(f && fputs("garbage\n", f) >= 0 && fclose(f) == 0, "cannot write the progress file");
    CHECK(db_ckpt_finished(dir, &known) == DB_ERR_ARG && strstr(db_last_error(), "not a run's progress"),
          "a damaged progress file: %s", db_last_error());
    CHECK(access(db_test_path(dir, "progress.tmp"), F_OK) != 0, "the progress's temporary file left behind");
    db_test_rmtree(dir);
}

const db_test db_tests_train[] = {
    {"config_errors", test_config_errors},
    {"overfit_64_samples", test_overfit_64_samples},
    {"learns_a_pattern", test_learns_pattern},
    {"determinism_same_seed_same_threads", test_determinism},
    {"checkpoint_resume_bit_identical", test_checkpoint_resume},
    {"unwritable_checkpoint_dir", test_bad_checkpoint_dir},
    {"divergence_stops_the_run", test_divergence},
    {"checkpoint_progress", test_checkpoint_progress},
    {NULL, NULL},
};
