#include "nets/optim.h"

#include <math.h>
#include <string.h>

#include "nets/sgd.h"

db_status db_sgd_init(db_sgd *opt, const db_graph *g, const db_sgd_config *cfg) {
    const size_t np = g->param_arena.size, ns = g->state_arena.size;
    memset(opt, 0, sizeof *opt);
    opt->cfg = *cfg;
    opt->velocity.used = np * (cfg->rmsprop ? 2 : 1) + (cfg->ema_decay > 0 ? np + ns : 0);
    DB_TRY(db_arena_alloc(&opt->velocity)); /* zeroed */
    float *next = opt->velocity.base + np;
    if (cfg->rmsprop) {
        opt->mean_square = next, next += np;
        for (size_t i = 0; i < np; i++) opt->mean_square[i] = 1.0f;
    }
    if (cfg->ema_decay > 0) {
        opt->ema_params = next, opt->ema_state = next + np;
        memcpy(opt->ema_params, g->param_arena.base, np * sizeof(float));
        memcpy(opt->ema_state, g->state_arena.base, ns * sizeof(float));
    }
    return DB_OK;
}

void db_sgd_step(db_sgd *opt, db_graph *g, float lr) {
    const db_sgd_config *c = &opt->cfg;
    for (int i = 0; i < g->n_params; i++) {
        db_param *p = &g->params[i];
        if (p->tied) continue; /* its gradient went to the parameter whose values it uses */
        const size_t at = (size_t)(p->data - g->param_arena.base);
        float *v = opt->velocity.base + at;
        float wd = db_sgd_decays(p, c) ? c->weight_decay : 0.0f;
        float *w = p->data;
        const float *gr = p->grad;
        long n = (long)p->size;
        if (c->rmsprop) {
            float *ms = opt->mean_square + at;
            #pragma omp parallel for schedule(static) if (n > 65536)
            for (long j = 0; j < n; j++)
                db_rmsprop_element(&w[j], &v[j], &ms[j], gr[j], lr, c->rms_decay, c->momentum, c->rms_epsilon, wd);
        } else {
            #pragma omp parallel for schedule(static) if (n > 65536)
            for (long j = 0; j < n; j++) db_sgd_element(&w[j], &v[j], gr[j], lr, c->momentum, wd, c->nesterov);
        }
    }
}

/* shadow -= (1 - d) * (shadow - value), TensorFlow's form */
static void average(float *shadow, const float *value, size_t n, float d) {
    const float k = 1.0f - d;
    #pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) shadow[i] -= k * (shadow[i] - value[i]);
}

float db_sgd_ema_decay(const db_sgd *opt, long t) {
    const double warm = (1.0 + (double)t) / (10.0 + (double)t);
    return (float)(warm < opt->cfg.ema_decay ? warm : opt->cfg.ema_decay);
}

void db_sgd_ema_update(db_sgd *opt, const db_graph *g, long t) {
    if (!opt->ema_params) return;
    const float d = db_sgd_ema_decay(opt, t);
    average(opt->ema_params, g->param_arena.base, g->param_arena.size, d);
    average(opt->ema_state, g->state_arena.base, g->state_arena.size, d);
}

static void swap(float *a, float *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float t = a[i];
        a[i] = b[i], b[i] = t;
    }
}

void db_sgd_ema_swap(db_sgd *opt, db_graph *g) {
    if (!opt->ema_params) return;
    swap(opt->ema_params, g->param_arena.base, g->param_arena.size);
    swap(opt->ema_state, g->state_arena.base, g->state_arena.size);
}

void db_sgd_free(db_sgd *opt) { db_arena_free(&opt->velocity); }

float db_lr_at(const db_lr_schedule *s, double epoch, int total_epochs) {
    if (epoch < s->warmup_epochs) {
        double t = epoch / s->warmup_epochs, lr = s->base * (s->warmup_start + (1.0 - s->warmup_start) * t);
        /* the exponential schedule's floor holds through the warm-up too, as the official code's */
        return (float)(s->kind == DB_LR_EXPONENTIAL && lr < s->final ? s->final : lr);
    }
    switch (s->kind) {
    case DB_LR_CONSTANT: return s->base;
    case DB_LR_STEP: {
        double lr = s->base;
        for (int i = 0; i < s->n_milestones; i++)
            if (epoch >= s->milestones[i]) lr *= s->gamma;
        return (float)lr;
    }
    case DB_LR_COSINE: {
        double span = total_epochs - s->warmup_epochs;
        double t = span > 0 ? (epoch - s->warmup_epochs) / span : 1.0;
        if (t > 1.0) t = 1.0;
        return (float)(s->final + (s->base - s->final) * 0.5 * (1.0 + cos(M_PI * t)));
    }
    case DB_LR_EXPONENTIAL: {
        /* the key is a float (2.4 is 2.4000001, 4e-8 off): a step on a boundary counts as past it */
        double lr = s->base * pow(s->decay_rate, floor(epoch / s->decay_epochs * (1.0 + 1e-7)));
        return (float)(lr > s->final ? lr : s->final);
    }
    }
    return s->base;
}
