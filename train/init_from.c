#include "train/init_from.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "nets/model.h"
#include "nets/optim.h"
#include "nets/retinanet.h"
#include "nets/segnet.h"
#include "train/checkpoint.h"

/* The classifier whose checkpoint this run starts from, with k classes */
static db_status source(db_graph *cg, const db_config *cfg, const db_graph *g, int k) {
    db_model_config mc;
    char backbone[24];
    const int detector = db_model_is_detector(cfg->model) || db_model_is_segmenter(cfg->model);
    if (db_model_is_detector(cfg->model)) DB_TRY(db_retinanet_backbone(cfg->model, backbone, sizeof backbone));
    if (db_model_is_segmenter(cfg->model)) DB_TRY(db_segnet_backbone(cfg->model, backbone, sizeof backbone));
    DB_TRY(db_model_defaults(&mc, detector ? backbone : cfg->model));
    if (cfg->width > 0) mc.width = cfg->width;
    if (!detector) mc.shortcut = cfg->shortcut[0];
    mc.in_c = g->tensors[0].c, mc.in_h = mc.in_w = 64, mc.classes = k;
    return db_model_build(cg, &mc, 1);
}

static const db_param *named(const db_graph *g, const char *name, size_t size) {
    for (int p = 0; p < g->n_params; p++)
        if (!strcmp(g->params[p].name, name) && g->params[p].size == size) return &g->params[p];
    return NULL;
}

static db_status init_from(db_graph *g, const db_config *cfg, const char *dir, int *copied) {
    uint64_t total;
    db_graph cg;
    int n = 0, tensors = 0;
    if (copied) *copied = 0;
    uint64_t sizes[3];
    DB_TRY(db_ckpt_sizes(dir, sizes));
    total = sizes[0];
    /* the class count from the checkpoint's size: each class adds a row to the last layer (the
     * arena pads each tensor, so the estimate is checked against the built network's arena) */
    DB_TRY(source(&cg, cfg, g, 2));
    const size_t base = cg.param_arena.size, per = cg.params[cg.n_params - 2].size / 2 + 1; /* fc.weight: 2 rows */
    db_graph_free(&cg);
    int k = -1;
    const long guess = total >= base ? 2 + (long)((total - base) / per) : -1;
    for (long c = guess - 8 < 2 ? 2 : guess - 8; guess > 0 && c <= guess + 8 && c <= 100000 && k < 0; c++) {
        DB_TRY(source(&cg, cfg, g, (int)c));
        if (cg.param_arena.size == total) k = (int)c;
        db_graph_free(&cg);
    }
    if (k < 0)
        return db_fail(DB_ERR_ARG, "init_from %s: its %llu parameters are no classifier of this run's backbone (%s, width %d, "
                       "%d input channels): a classification run's checkpoint of the same network is wanted",
                       dir, (unsigned long long)total, cfg->model, cfg->width, g->tensors[0].c);
    DB_TRY(source(&cg, cfg, g, k));
    db_sgd opt = {0}; /* room for whatever optimizer state the source run kept (read, not used) */
    opt.velocity.used = sizes[2];
    db_ckpt_meta *meta = NULL;
    db_status s = db_arena_alloc(&opt.velocity);
    if (s == DB_OK) s = db_ckpt_load(dir, &cg, &opt, &meta);
    free(meta);
    for (int p = 0; p < g->n_params && s == DB_OK; p++) {
        const db_param *q = g->params[p].tied ? NULL : named(&cg, g->params[p].name, g->params[p].size);
        if (!q) continue;
        memcpy(g->params[p].data, q->data, q->size * sizeof(float));
        n++;
    }
    for (int i = 0; i < g->n_ops && s == DB_OK; i++) { /* batch norms' running statistics, by their gamma's name */
        const db_op *op = &g->ops[i];
        if (op->kind != DB_OP_BN) continue;
        for (int j = 0; j < cg.n_ops; j++) {
            const db_op *o = &cg.ops[j];
            if (o->kind == DB_OP_BN && !strcmp(cg.params[o->param[0]].name, g->params[op->param[0]].name) &&
                cg.tensors[o->out].c == g->tensors[op->out].c) {
                memcpy(op->run, o->run, 2 * sizeof(float) * (size_t)g->tensors[op->out].c);
                tensors++;
                break;
            }
        }
    }
    if (s == DB_OK && n == 0) s = db_fail(DB_ERR_ARG, "init_from %s: no parameter in common with %s", dir, cfg->model);
    if (s == DB_OK)
        db_log(DB_LOG_NOTE, "init_from %s: %d parameter tensors and %d batch norms' running statistics copied from a "
               "%d-class classifier; the other parameters keep their initialisation", dir, n, tensors, k);
    if (copied) *copied = n;
    db_sgd_free(&opt);
    db_graph_free(&cg);
    return s;
}

db_status db_init_from(db_graph *g, const db_config *cfg, const char *dir, int *copied) {
    db_status s = init_from(g, cfg, dir, copied);
    if (s != db_status_primary(s)) { /* the starting weights' checkpoint is broken: the source run's fault, not the
                                      * run's own checkpoint (which a study would set aside and start again) */
        char why[1400];
        snprintf(why, sizeof why, "%s", db_last_error());
        s = db_fail(db_status_primary(s), "init_from %s: the starting weights cannot be read: %s", dir, why);
    }
    return s;
}
