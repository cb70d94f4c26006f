#include "train/train.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "train/checkpoint.h"
#include "train/init_from.h"
#include "train/results_csv.h"
#include "train/step.h"
#include "core/log.h"
#include "core/clock.h"
#include "core/dist.h"
#include "core/gemm.h"
#include "datasets/batch.h"
#include "datasets/pipeline.h"
#include "datasets/select.h"
#include "dropouts/cutout.h"
#include "dropouts/droppath.h"
#include "dropouts/schedule.h"
#include "nets/model.h"
#include "nets/optim.h"

static db_status stopped(const db_config *cfg, int epoch, int step, int steps);

db_augment db_train_augment(const db_config *cfg) {
    /* autoaugment: after the data set's own crop and flip (inception's on image folders) */
    const int aa = !strcmp(cfg->augment, "autoaugment");
    db_augment a = {cfg->augment_pad, cfg->augment_flip,
                    !strcmp(cfg->augment, "inception") || (aa && db_data_is_folder(cfg->dataset)), cfg->crop_area_min,
                    cfg->scale_min, cfg->scale_max, aa};
    return a;
}

static db_status make_schedule(const db_config *c, db_lr_schedule *s) {
    memset(s, 0, sizeof *s);
    s->kind = !strcmp(c->lr_schedule, "step")          ? DB_LR_STEP
              : !strcmp(c->lr_schedule, "cosine")      ? DB_LR_COSINE
              : !strcmp(c->lr_schedule, "exponential") ? DB_LR_EXPONENTIAL
                                                       : DB_LR_CONSTANT;
    s->base = c->lr; s->gamma = c->lr_gamma; s->final = c->lr_final;
    s->decay_rate = c->lr_decay_rate, s->decay_epochs = c->lr_decay_epochs;
    s->warmup_epochs = c->warmup_epochs; s->warmup_start = c->warmup_start;
    const char *p = c->milestones;
    while (*p && s->n_milestones < DB_LR_MAX_MILESTONES) {
        char *end;
        s->milestones[s->n_milestones++] = strtof(p, &end);
        p = *end ? end + 1 : end;
    }
    return DB_OK;
}

typedef struct {
    db_graph g;
    db_sgd opt;
    db_stepper st;        /* the device the steps run on */
    db_pipeline *pipe;    /* the epoch's batches, prepared ahead (NULL between epochs) */
    int *order, *labels;
    int *shard;           /* data parallel: this replica's part of the epoch's order, batch by batch */
    db_ckpt_meta *meta;   /* history and position; grows to cfg->epochs entries */
    const db_task *task;  /* what the network computes: its loss, counts, evaluation, metrics */
    void *task_state;     /* the task's per-run state (db_task.build) */
    int lock_fd;          /* the checkpoint folder's lock, held while training (-1: none) */
} run_state;

static void run_free(run_state *r) {
    db_pipeline_stop(r->pipe); /* first: its workers read the order */
    if (r->task && r->task->free_state) r->task->free_state(r->task_state);
    db_stepper_free(&r->st);
    db_graph_free(&r->g);
    db_sgd_free(&r->opt);
    free(r->order); free(r->labels); free(r->shard); free(r->meta);
    db_ckpt_unlock(r->lock_fd);
}

/* A synchronised batch norm's sums, added over the processes (nets/graph.h bn_sync) */
static db_status sum_over_processes(double *x, size_t n, void *ctx) {
    (void)ctx;
    return db_dist_sum_doubles(x, n, "a synchronised batch norm");
}

static db_status setup(const db_config *cfg, const db_dataset *train, const db_dataset *test,
                       const db_train_hooks *hooks, run_state *r) {
    r->task = db_config_task(cfg);
    const db_dist_info *dist = db_dist();
    const int P = dist->size, b = cfg->batch / P, writer = dist->rank == 0;
    DB_TRY(r->task->build(&r->g, cfg, train, b, &r->task_state));
    r->g.replica = dist->rank;
    if (cfg->bn_sync && P > 1) DB_TRY(db_graph_set_bn_sync(&r->g, sum_over_processes, NULL, P));
    db_graph_init_params(&r->g, cfg->seed);
    const int own = hooks->resume && cfg->checkpoint_dir[0] && db_ckpt_exists(cfg->checkpoint_dir);
    if (cfg->init_from[0] && !own) /* a checkpoint of this run replaces the starting weights: not read then */
        DB_TRY(db_init_from(&r->g, cfg, cfg->init_from, NULL));
    db_graph_set_seed(&r->g, cfg->seed);
    db_sgd_config sc = {.momentum = cfg->momentum, .nesterov = cfg->nesterov, .weight_decay = cfg->weight_decay,
                        .decay_bn_bias = cfg->decay_bn_bias, .rmsprop = !strcmp(cfg->optimizer, "rmsprop"),
                        .rms_decay = cfg->rmsprop_decay, .rms_epsilon = cfg->rmsprop_epsilon, .ema_decay = cfg->ema_decay};
    DB_TRY(db_sgd_init(&r->opt, &r->g, &sc));
    int maxn = train->n > test->n ? train->n : test->n;
    r->order = malloc(sizeof(int) * maxn);
    r->labels = malloc(sizeof(int) * b);
    r->shard = P > 1 ? malloc(sizeof(int) * (size_t)(train->n / cfg->batch) * b) : NULL;
    r->meta = db_ckpt_meta_alloc(cfg->epochs, db_graph_n_reg(&r->g));
    if (!r->order || !r->labels || !r->meta || (P > 1 && !r->shard)) return db_fail(DB_ERR_NOMEM, "out of memory");
    r->meta->fingerprint = db_config_fingerprint(cfg);
    r->meta->seed = cfg->seed;
    r->meta->threads = cfg->threads;
    r->meta->world = P;
    /* the first process writes the results files and checkpoints; every process reads them */
    if (writer) DB_TRY(db_train_outputs_ready(cfg));
    if (!cfg->checkpoint_dir[0]) return DB_OK;
    if (writer) DB_TRY(db_ckpt_lock(cfg->checkpoint_dir, &r->lock_fd));
    if (!hooks->resume || !db_ckpt_exists(cfg->checkpoint_dir)) return DB_OK;
    db_ckpt_meta *m = NULL;
    DB_TRY(db_ckpt_load(cfg->checkpoint_dir, &r->g, &r->opt, &m));
    uint64_t want = r->meta->fingerprint;
    /* resharded: the same settings at the checkpoint's number */
    if (m->world != P && (m->world == hooks->reshard_from || hooks->reshard_from < 0)) {
        db_config was = *cfg;
        was.world_size = m->world > 1 ? m->world : 0;
        want = db_config_fingerprint(&was);
        was.world_size = 1; /* (a recipe's explicit 1) */
        if (m->world == 1 && m->fingerprint == db_config_fingerprint(&was)) want = m->fingerprint;
        if (writer)
            db_log(DB_LOG_NOTE, "%s: continuing a checkpoint of %d process%s as %d: each trains %d of every %d "
                   "samples now, not %d", cfg->checkpoint_dir, m->world, m->world == 1 ? "" : "es", P, b, cfg->batch,
                   cfg->batch / m->world);
    } else if (m->world != P) {
        int w = m->world;
        free(m);
        return db_fail(DB_ERR_CKPT_WORLD, "%s: the checkpoint was written by %d process%s, this run has %d; resume "
                       "with %d (mpirun -np %d or srun -n %d): each process's batch and batch norm depend on the "
                       "number (or dropbench resume RUN --reshard to go on with %d)", cfg->checkpoint_dir, w,
                       w == 1 ? "" : "es", P, w, w, w, P);
    }
    const int steps = train->n / cfg->batch;
    const int64_t at = m->step - (int64_t)m->epoch * steps; /* steps into its epoch: 0 at a boundary */
    if (m->epoch != m->n_history || m->step < 0 || at < 0 || at >= steps || (!m->partial && at != 0)) {
        free(m);
        return db_fail(DB_ERR_CKPT_CORRUPT, "%s: the checkpoint's position (epoch, step) does not fit its history or "
                       "this run's %d steps an epoch (another training set under the same settings?)",
                       cfg->checkpoint_dir, steps);
    }
    if (m->fingerprint != want || m->seed != cfg->seed || m->n_history > cfg->epochs ||
        m->n_sites != r->meta->n_sites) {
        free(m);
        return db_fail(DB_ERR_CKPT_CONFIG, "%s: the checkpoint belongs to a run with another configuration; "
                       "resume with the same settings or use another --checkpoint-dir", cfg->checkpoint_dir);
    }
    if (m->threads != cfg->threads) {
        int t = m->threads;
        free(m);
        return db_fail(DB_ERR_CKPT_THREADS, "%s: the checkpoint was written with --threads %d; resume with --threads %d "
                       "(results are bit-identical only for the same thread count)", cfg->checkpoint_dir, t, t);
    }
    r->meta->epoch = m->epoch; r->meta->step = m->step; r->meta->n_history = m->n_history;
    memcpy(r->meta->history, m->history, sizeof(db_epoch_result) * m->n_history);
    memcpy(r->meta->sites, m->sites, sizeof(db_site_stat) * (size_t)m->n_history * (size_t)m->n_sites);
    for (int i = 0; i < m->n_history; i++) /* not in the checkpoint: from the sites' records, as after the epoch */
        r->meta->history[i].expected_fraction =
            db_graph_whole_fractions(&r->g, r->meta->sites + (size_t)i * m->n_sites).expected_fraction;
    r->meta->partial = m->partial;
    r->meta->part_loss_sum = m->part_loss_sum; r->meta->part_seconds = m->part_seconds; r->meta->part_lr = m->part_lr;
    memcpy(r->meta->part_sums, m->part_sums, sizeof m->part_sums);
    memcpy(r->meta->part_sites, m->part_sites, sizeof(double) * 3 * (size_t)m->n_sites);
    free(m);
    if (!writer) { /* the saved counts are the processes' sums: the first process carries them on */
        memset(r->meta->part_sums, 0, sizeof r->meta->part_sums);
        memset(r->meta->part_sites, 0, sizeof(double) * 3 * (size_t)r->meta->n_sites);
    }
    return DB_OK;
}

/* History entry i's per-site record, names filled into names[256] */
static db_epoch_sites epoch_sites(const run_state *r, int i, const char *names[256]) {
    int ns = r->meta->n_sites < 256 ? r->meta->n_sites : 256;
    for (int k = 0; k < ns; k++) names[k] = db_graph_reg_site(&r->g, k, NULL)->name;
    db_epoch_sites es = {ns, names, r->meta->sites + (size_t)i * r->meta->n_sites};
    return es;
}

static void summarise(const run_state *r, int resumed_from, db_train_summary *out) {
    const db_ckpt_meta *m = r->meta;
    const int score = r->task->score;
    out->epochs_done = m->epoch;
    out->resumed_from = resumed_from;
    out->task = r->task;
    for (int i = 0; i < m->n_history; i++) {
        const db_epoch_result *h = &m->history[i];
        if (h->test[score] > out->best_score) out->best_score = h->test[score];
        out->train_seconds += h->seconds;
        memcpy(out->final_test, h->test, sizeof h->test);
    }
}

/* Record a divergence in the summary and return DB_ERR_DIVERGED with the reason. */
static db_status diverged(const run_state *r, int resumed_from, db_train_summary *out, int epoch, int step,
                          const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static db_status diverged(const run_state *r, int resumed_from, db_train_summary *out, int epoch, int step,
                          const char *fmt, ...) {
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    summarise(r, resumed_from, out);
    out->status = DB_ERR_DIVERGED;
    out->diverged_epoch = epoch;
    out->diverged_step = step;
    return db_fail(DB_ERR_DIVERGED, "training diverged: %s; lower --lr or add warm-up", why);
}

/* Data parallel (core/dist.h): a step's loss as the mean of the processes' (each its shard's
 * mean), whether any process's weights went non-finite, and whether any was asked to stop, so
 * that every process takes the same decisions at the same step */
static db_status agree_step(double *loss, int *finite, int *stop) {
    const int p = db_dist()->size;
    double v[3] = {*loss, *finite ? 0.0 : 1.0, db_train_stop_pending() ? 1.0 : 0.0};
    DB_TRY(db_dist_sum_doubles(v, 3, "the step's loss"));
    *loss = v[0] / p, *finite = v[1] == 0.0, *stop = v[2] > 0.0;
    return DB_OK;
}

/* A non-finite result of step `step` (from 0) of the epoch: the run recorded as diverged there */
static db_status step_diverged(const run_state *r, int resumed_from, db_train_summary *out, int epoch, int step, double loss,
                               const db_lr_schedule *sched, int steps, int epochs) {
    return diverged(r, resumed_from, out, epoch + 1, step, "%s at epoch %d, step %d (learning rate %g)",
                    !isfinite(loss) ? (isnan(loss) ? "the loss became NaN" : "the loss became Inf")
                                    : "the weights or batch-norm statistics became NaN or Inf",
                    epoch + 1, step, db_lr_at(sched, epoch + (double)step / steps, epochs));
}

/* A task whose step results come a step late (a GPU's classification): the last step's, counted
 * into the epoch's loss and sums before anything reads them; data parallel: its loss is the
 * processes' mean, as every step's (each process flushes at the same points) */
static db_status flush_step(run_state *r, double *loss_sum, double *loss, double *sums, int *finite) {
    int have = 0, stop = 0;
    *finite = 1, *loss = 0.0;
    if (!r->task->train_flush) return DB_OK;
    DB_TRY(r->task->train_flush(&r->st, r->task_state, loss, sums, finite, &have));
    if (db_dist()->size > 1) DB_TRY(agree_step(loss, finite, &stop));
    *loss_sum += *loss;
    if (!isfinite(*loss)) *finite = 0;
    return DB_OK;
}

/* Data parallel: the epoch's counts (the task's and the regularizers') summed over the processes,
 * so every process holds the totals; *stop 1 when any process was asked to stop */
static db_status agree_counts(run_state *r, double *sums, int *stop) {
    if (db_dist()->size < 2) return DB_OK;
    double v[DB_TASK_MAX_METRICS + 1];
    memcpy(v, sums, sizeof(double) * DB_TASK_MAX_METRICS);
    v[DB_TASK_MAX_METRICS] = *stop;
    DB_TRY(db_dist_sum_doubles(v, DB_TASK_MAX_METRICS + 1, "the epoch's counts"));
    memcpy(sums, v, sizeof(double) * DB_TASK_MAX_METRICS);
    *stop = v[DB_TASK_MAX_METRICS] > 0.0;
    double *rs = r->meta->part_sites; /* scratch of n_sites x 3 until a partial checkpoint fills it */
    db_graph_get_reg_sums(&r->g, rs);
    DB_TRY(db_dist_sum_doubles(rs, 3 * (size_t)r->meta->n_sites, "the regularizers' counts"));
    db_graph_set_reg_sums(&r->g, rs);
    return DB_OK;
}

/* Data parallel: the processes' weights and running statistics must be the same bits after every
 * step (the same update from the same summed gradient); a checksum of each against the first
 * process's says whether they are */
static db_status agree_weights(const db_graph *g, long step) {
    const db_arena *a[2] = {&g->param_arena, &g->state_arena};
    uint64_t h[2] = {0, 0};
    for (int k = 0; k < 2; k++) { /* a multiply-add over 32-bit words: order-sensitive, vectorisable */
        const uint32_t *w = (const uint32_t *)a[k]->base;
        uint64_t x = 0x9E3779B97F4A7C15ull;
        for (size_t i = 0; i < a[k]->size; i++) x = (x ^ w[i]) * 0x100000001B3ull + i;
        h[k] = x;
    }
    uint64_t first[2] = {h[0], h[1]};
    DB_TRY(db_dist_broadcast(first, sizeof first, 0, "the weights' checksum"));
    double differ = first[0] != h[0] || first[1] != h[1];
    DB_TRY(db_dist_sum_doubles(&differ, 1, "the weights' checksum"));
    if (differ > 0)
        return db_fail(DB_ERR_INTERNAL, "after step %ld the weights or batch-norm statistics of %g of the %d processes "
                       "differ from the first's (this one's %s): the replicas no longer train one model", step, differ,
                       db_dist()->size, first[0] != h[0] || first[1] != h[1] ? "do" : "do not");
    return DB_OK;
}

/* Data parallel: every process starts from the same point of the run (each read the checkpoint
 * folder itself) with the same weights */
static db_status agree_start(const run_state *r) {
    const db_ckpt_meta *m = r->meta;
    int64_t mine[4] = {m->epoch, m->step, m->partial, m->n_history}, first[4];
    memcpy(first, mine, sizeof mine);
    DB_TRY(db_dist_broadcast(first, sizeof first, 0, "the starting point"));
    double differ = memcmp(first, mine, sizeof mine) != 0;
    DB_TRY(db_dist_sum_doubles(&differ, 1, "the starting point"));
    if (differ > 0)
        return db_fail(DB_ERR_IO, "the processes start from different points (this one: epoch %lld, step %lld; the first: "
                       "epoch %lld, step %lld): every process reads the checkpoint folder, so it must be on a file "
                       "system they all share", (long long)mine[0], (long long)mine[1], (long long)first[0],
                       (long long)first[1]);
    return agree_weights(&r->g, (long)m->step);
}

/* The test metrics. Data parallel: a task whose metrics are means over the images scores one
 * share of the test set per process, combined by their counts; a task that shards its own
 * evaluation (AP, mIOU: eval_sharded) is called on every process; another is scored by the
 * first process alone and sent to the others. Every process returns the same values and
 * status. */
static db_status evaluate(run_state *r, const db_dataset *test, const db_norm *norm, double *out) {
    const db_dist_info *d = db_dist();
    if (d->size < 2) return r->task->evaluate(&r->st, r->task_state, test, norm, r->order, out);
    double v[DB_TASK_MAX_METRICS + 1] = {0};
    db_status s = DB_OK;
    /* a share, or the whole set on the first process, may take hours (COCO on a CPU), not a
     * step's limit; the launcher ends the others should one die */
    const double limit = db_dist_timeout();
    db_dist_set_timeout(1e9);
    if (r->task->eval_sharded) { /* its combine agrees failures; a process failing before it ends
                                   * the job (main aborts every process), so no collective here */
        s = r->task->evaluate(&r->st, r->task_state, test, norm, r->order, out);
        db_dist_set_timeout(limit);
        return s;
    }
    if (r->task->eval_means) {
        int first, count;
        db_dist_share(test->n, 0, &first, &count);
        if (count > 0) {
            db_dataset part = *test; /* a view of the share: the same buffers from `first` on */
            part.n = count;
            if (part.images) part.images += (size_t)first * test->c * test->h * test->w;
            if (part.labels) part.labels += first;
            if (part.files) part.files += first;
            s = r->task->evaluate(&r->st, r->task_state, &part, norm, r->order, out);
            for (int k = 0; k < r->task->n_test; k++) v[k] = out[k] * count;
        }
        v[DB_TASK_MAX_METRICS] = s != DB_OK;
        db_status bs = db_dist_sum_doubles(v, DB_TASK_MAX_METRICS + 1, "the evaluation");
        db_dist_set_timeout(limit);
        DB_TRY(bs);
        for (int k = 0; k < r->task->n_test; k++) out[k] = v[k] / test->n;
    } else {
        if (d->rank == 0) s = r->task->evaluate(&r->st, r->task_state, test, norm, r->order, out);
        memcpy(v, out, sizeof(double) * DB_TASK_MAX_METRICS);
        v[DB_TASK_MAX_METRICS] = s != DB_OK;
        db_status bs = db_dist_broadcast(v, sizeof v, 0, "the evaluation");
        db_dist_set_timeout(limit);
        DB_TRY(bs);
        memcpy(out, v, sizeof(double) * DB_TASK_MAX_METRICS);
    }
    if (s != DB_OK) return s;
    if (v[DB_TASK_MAX_METRICS] > 0.0) return db_fail(DB_ERR_INTERNAL, "another process's evaluation failed (its message says why)");
    return DB_OK;
}

static db_status train_epochs(const db_config *cfg, const db_dataset *train, const db_dataset *test,
                              const db_train_hooks *hooks, run_state *r, db_train_summary *out) {
    db_norm norm;
    DB_TRY(db_norm_compute(train, &norm));
    db_lr_schedule sched;
    make_schedule(cfg, &sched);
    db_augment aug = db_train_augment(cfg);
    const int B = cfg->batch, steps = train->n / B; /* the last partial batch is dropped */
    const db_dist_info *dist = db_dist();
    const int P = dist->size, b = B / P, writer = dist->rank == 0; /* b: this process's part of a batch */
    const int late = r->task->train_flush && db_stepper_late(&r->st); /* step results come a step late (a GPU's) */
    db_graph *g = &r->g;
    int resumed_from = r->meta->epoch, ran = 0;
    out->resumed_from = resumed_from; /* known to the caller however the run ends */
    for (int i = 0; hooks->on_restored && i < r->meta->n_history; i++) {
        const char *names[256];
        db_epoch_sites es = epoch_sites(r, i, names);
        DB_TRY(hooks->on_restored(&r->meta->history[i], &es, hooks->user));
    }
    db_graph_set_last_step(g, (long)steps * cfg->epochs - 1);
    for (int epoch = r->meta->epoch; epoch < cfg->epochs; epoch++) {
        if (hooks->max_epochs_this_call && ran == hooks->max_epochs_this_call) break;
        db_epoch_order(train->n, cfg->seed, (uint32_t)epoch, r->order);
        const int *order = r->order; /* batch s: order[s*b .. s*b + b-1] */
        if (P > 1) { /* this process's samples of every batch, in the same global order */
            for (int s = 0; s < steps; s++)
                memcpy(r->shard + (size_t)s * b, r->order + (size_t)s * B + (size_t)dist->rank * b, sizeof(int) * b);
            order = r->shard;
        }
        double t0 = db_now(), loss_sum = 0.0, lr = 0.0, sums[DB_TASK_MAX_METRICS] = {0};
        int s0 = 0;
        if (r->meta->partial) { /* continue inside the epoch a stop interrupted */
            db_ckpt_meta *m = r->meta;
            int64_t at = m->step - (int64_t)epoch * steps;
            if (at <= 0 || at >= steps)
                return db_fail(DB_ERR_CKPT_CORRUPT, "%s: the checkpoint's step %lld is not inside epoch %d", cfg->checkpoint_dir,
                               (long long)m->step, epoch + 1);
            s0 = (int)at;
            loss_sum = m->part_loss_sum; lr = m->part_lr;
            memcpy(sums, m->part_sums, sizeof sums);
            t0 -= m->part_seconds;
            db_graph_set_reg_sums(g, m->part_sites);
            m->partial = 0, m->part_loss_sum = m->part_lr = m->part_seconds = 0; /* (as an unstopped run's) */
            memset(m->part_sums, 0, sizeof m->part_sums);
        }
        db_pipeline_cfg pc = {train, order, b, s0, steps, &aug, &norm, cfg->seed, (uint32_t)epoch,
                              cfg->loader_workers, 2 * cfg->loader_workers};
        DB_TRY(db_pipeline_start(&r->pipe, &pc));
        for (int s = s0; s < steps; s++) {
            DB_TRY(db_pipeline_take(r->pipe, db_stepper_input(&r->st), db_stepper_labels(&r->st)));
            if (cfg->cutout) /* on the normalised input: the patch becomes the mean image value */
                db_cutout(db_stepper_input(&r->st), order + (size_t)s * b, cfg->cutout, cfg->seed, (uint32_t)epoch,
                          train->c, b, train->h, train->w);
            db_graph_set_step(g, (long)r->meta->step); /* keys this step's masks and keep_prob */
            double loss;
            int finite;
            const db_task_batch tb = {cfg->label_smoothing, train, order + (size_t)s * b, cfg->seed, (uint32_t)epoch,
                                      &aug};
            DB_TRY(r->task->train_step(&r->st, r->task_state, &tb, &loss, sums, &finite));
            int stop_agreed = 0;
            if (P > 1) DB_TRY(agree_step(&loss, &finite, &stop_agreed));
            if (!isfinite(loss) || !finite) /* (a late result is the step before's) */
                return step_diverged(r, resumed_from, out, epoch, late ? s - 1 : s, loss, &sched, steps, cfg->epochs);
            loss_sum += loss;
            lr = db_lr_at(&sched, epoch + (double)s / steps, cfg->epochs);
            DB_TRY(db_stepper_backward_update(&r->st, (float)lr));
            r->meta->step++;
            if (P > 1 && cfg->replica_check > 0 && r->meta->step % cfg->replica_check == 0) {
                DB_TRY(db_stepper_pull(&r->st)); /* a GPU's weights to the host (nothing on the CPU) */
                DB_TRY(agree_weights(g, (long)r->meta->step));
            }
            if (hooks->on_step && (s % 10 == 9 || s == steps - 1))
                hooks->on_step(epoch + 1, s + 1, steps, late ? (s ? loss_sum / s : 0.0) : loss_sum / (s + 1),
                               (s + 1.0) * B / (db_now() - t0), hooks->user); /* (the steps counted so far) */
            /* one process: a signal now; several: one that any of them had when the step began */
            if ((P > 1 ? stop_agreed : db_train_stop_pending()) && s < steps - 1) { /* keep the epoch's sums so far */
                db_ckpt_meta *m = r->meta;
                int any = 1, flushed = 1;
                double last = 0.0;
                DB_TRY(flush_step(r, &loss_sum, &last, sums, &flushed));
                if (!flushed) return step_diverged(r, resumed_from, out, epoch, s, last, &sched, steps, cfg->epochs);
                DB_TRY(db_stepper_pull(&r->st)); /* the device's counts first, then summed over the processes */
                DB_TRY(agree_counts(r, sums, &any));
                m->partial = 1;
                m->part_loss_sum = loss_sum; m->part_lr = lr; m->part_seconds = db_now() - t0;
                memcpy(m->part_sums, sums, sizeof sums);
                db_graph_get_reg_sums(g, m->part_sites);
                if (writer && cfg->checkpoint_dir[0]) {
                    DB_TRY(db_ckpt_save(cfg->checkpoint_dir, g, &r->opt, m));
                    DB_TRY(db_ckpt_mark_progress(cfg->checkpoint_dir, epoch, cfg->epochs, 1));
                }
                if (!db_train_stop_pending()) db_train_request_stop(SIGTERM); /* another process's: said as such below */
                m->partial = 0;
                return stopped(cfg, epoch, s + 1, steps);
            }
        }
        db_pipeline_stop(r->pipe);
        r->pipe = NULL;
        int flushed = 1;
        double last = 0.0;
        DB_TRY(flush_step(r, &loss_sum, &last, sums, &flushed)); /* the last step's results, where they come late */
        if (!flushed) return step_diverged(r, resumed_from, out, epoch, steps - 1, last, &sched, steps, cfg->epochs);
        DB_TRY(db_stepper_pull(&r->st)); /* the device's state for the checks, records and checkpoint */
        int stop_after = db_train_stop_pending();
        DB_TRY(agree_counts(r, sums, &stop_after));
        if (P > 1) DB_TRY(agree_weights(g, (long)r->meta->step));
        double secs = db_now() - t0;
        if (!db_graph_finite(g)) /* the epoch's last update overflowed */
            return diverged(r, resumed_from, out, epoch + 1, steps,
                            "the weights or batch-norm statistics became NaN or Inf at the end of epoch %d", epoch + 1);
        db_epoch_result res = {.epoch = epoch + 1, .lr = lr, .train_loss = loss_sum / steps, .seconds = secs,
                               .images_per_s = (double)steps * B / secs,
                               .drop_fraction = db_graph_take_drop_fraction(
                                   g, r->meta->sites + (size_t)r->meta->n_history * r->meta->n_sites),
                               .keep_prob = strcmp(cfg->regularizer, "none")
                                                ? db_keep_prob_at(cfg->keep_prob, (long)r->meta->step - 1, (long)steps * cfg->epochs - 1,
                                                                  r->g.reg.scheduled)
                                                : -1.0};
        res.expected_fraction = /* (the take above filled the epoch's site records) */
            db_graph_whole_fractions(g, r->meta->sites + (size_t)r->meta->n_history * r->meta->n_sites).expected_fraction;
        r->task->train_metrics(sums, (double)steps * B, res.train);
        const int evaluated = (epoch + 1) % cfg->eval_every == 0 || epoch + 1 == cfg->epochs;
        for (int k = 0; k < DB_TASK_MAX_METRICS; k++) res.test[k] = NAN; /* not evaluated this epoch */
        if (evaluated) { /* with a moving average, its weights are the ones scored (a GPU's: the swap sent up) */
            const int ema = r->opt.ema_params != NULL;
            db_sgd_ema_swap(&r->opt, g);
            db_status es = ema ? db_stepper_push(&r->st) : DB_OK;
            if (es == DB_OK) es = evaluate(r, test, &norm, res.test);
            db_sgd_ema_swap(&r->opt, g);
            db_status ps = ema ? db_stepper_push(&r->st) : DB_OK;
            DB_TRY(es);
            DB_TRY(ps);
        }
        const double test_loss = res.test[r->task->test_loss];
        if (evaluated && !isfinite(test_loss))
            return diverged(r, resumed_from, out, epoch + 1, steps, "the test loss is %s after epoch %d",
                            isnan(test_loss) ? "NaN" : "Inf", epoch + 1);
        r->meta->history[r->meta->n_history++] = res;
        r->meta->epoch = epoch + 1;
        ran++;
        if (writer && cfg->checkpoint_dir[0]) {
            DB_TRY(db_ckpt_save(cfg->checkpoint_dir, g, &r->opt, r->meta));
            DB_TRY(db_ckpt_mark_progress(cfg->checkpoint_dir, epoch + 1, cfg->epochs, 0));
        }
        if (writer && cfg->metrics[0]) DB_TRY(db_results_write_metrics(cfg->metrics, r->task, r->meta->history, r->meta->n_history));
        if (writer && cfg->site_metrics[0]) DB_TRY(db_results_write_sites(cfg->site_metrics, g, r->meta));
        if (hooks->on_epoch) {
            const char *names[256];
            db_epoch_sites es = epoch_sites(r, r->meta->n_history - 1, names);
            if (evaluated && r->task->extra) res.n_extra = r->task->extra(r->task_state, &res.extra_names, &res.extra);
            DB_TRY(hooks->on_epoch(&res, &es, hooks->user));
        }
        if (P > 1) { /* the first process's writes (checkpoint, results, database) may outlast a step's limit */
            const double limit = db_dist_timeout();
            double none = 0;
            db_dist_set_timeout(1e9);
            db_status bs = db_dist_sum_doubles(&none, 1, "the epoch's end");
            db_dist_set_timeout(limit);
            DB_TRY(bs);
        }
        if ((P > 1 ? stop_after : db_train_stop_pending()) && epoch + 1 < cfg->epochs) { /* several: as agreed */
            if (!db_train_stop_pending()) db_train_request_stop(SIGTERM);
            summarise(r, resumed_from, out);
            return stopped(cfg, epoch + 1, 0, steps);
        }
    }
    if (!ran && r->meta->epoch == cfg->epochs && resumed_from == cfg->epochs && writer) { /* every epoch was in the
        * checkpoint: a kill after its save may have left the progress file and results files an epoch behind */
        if (cfg->checkpoint_dir[0]) DB_TRY(db_ckpt_mark_progress(cfg->checkpoint_dir, cfg->epochs, cfg->epochs, 0));
        if (cfg->metrics[0]) DB_TRY(db_results_write_metrics(cfg->metrics, r->task, r->meta->history, r->meta->n_history));
        if (cfg->site_metrics[0]) DB_TRY(db_results_write_sites(cfg->site_metrics, g, r->meta));
    }
    summarise(r, resumed_from, out);
    return DB_OK;
}

/* The message of a requested stop after `step` steps of epoch `epoch` (0-based) */
static db_status stopped(const db_config *cfg, int epoch, int step, int steps) {
    char where[96];
    if (step) snprintf(where, sizeof where, "in epoch %d at step %d of %d", epoch + 1, step, steps);
    else snprintf(where, sizeof where, "after epoch %d", epoch);
    int sig = db_train_stop_take();
    if (!cfg->checkpoint_dir[0])
        return db_fail(DB_ERR_INTERRUPTED, "stopped by signal %d %s; without --checkpoint-dir the run cannot continue",
                       sig, where);
    return db_fail(DB_ERR_INTERRUPTED, "stopped by signal %d %s; the checkpoint in %s continues it (dropbench resume "
                   "or --resume)", sig, where, cfg->checkpoint_dir);
}

db_status db_train_outputs_ready(const db_config *cfg) {
    if (cfg->metrics[0]) DB_TRY(db_results_probe(cfg->metrics));
    if (cfg->site_metrics[0]) DB_TRY(db_results_probe(cfg->site_metrics));
    return cfg->checkpoint_dir[0] ? db_ckpt_prepare_dir(cfg->checkpoint_dir) : DB_OK;
}

db_status db_train(const db_config *cfg, const db_dataset *train, const db_dataset *test,
                   const db_train_hooks *hooks, db_train_summary *out) {
    static const db_train_hooks none = {0};
    if (!hooks) hooks = &none;
    memset(out, 0, sizeof *out);
    DB_TRY(db_config_validate(cfg));
    omp_set_dynamic(0); /* a team that shrinks under load would regroup the reductions */
    db_dist_set_timeout(cfg->dist_timeout);
    omp_set_num_threads(cfg->threads);
    db_blas_set_threads(cfg->threads);
    run_state r = {0};
    r.lock_fd = -1;
    db_status s = db_config_fits_data(cfg, train, test, db_dist()->size);
    out->refused = s != DB_OK;
    if (s == DB_OK) s = setup(cfg, train, test, hooks, &r);
    if (s == DB_OK) s = db_stepper_init(&r.st, &r.g, &r.opt, r.labels, cfg);
    if (s == DB_OK && r.st.gg) {
        r.st.gpu->graph_describe(r.st.gg, out->device_setup, sizeof out->device_setup);
        db_log(DB_LOG_NOTE, "cuda: %s", out->device_setup);
    }
    if (s == DB_OK) s = db_stepper_push(&r.st);
    if (s == DB_OK && db_dist()->size > 1) s = agree_start(&r);
    if (s == DB_OK) s = train_epochs(cfg, train, test, hooks, &r, out);
    out->status = s;
    run_free(&r);
    return s;
}

db_status db_train_from_config(const db_config *cfg, const db_train_hooks *hooks, db_train_summary *out) {
    db_dataset train, test;
    memset(out, 0, sizeof *out);
    DB_TRY(db_config_runnable(cfg));
    db_data_spec spec = db_config_data(cfg);
    DB_TRY(db_data_load(&spec, &train, &test));
    db_status s = db_train(cfg, &train, &test, hooks, out);
    db_dataset_free(&train);
    db_dataset_free(&test);
    return s;
}
