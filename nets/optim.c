#include "nets/optim.h"

#include <math.h>

#include "nets/sgd.h"

db_status db_sgd_init(db_sgd *opt, const db_graph *g, const db_sgd_config *cfg) {
    opt->cfg = *cfg;
    opt->velocity = (db_arena){0};
    opt->velocity.used = g->param_arena.size;
    return db_arena_alloc(&opt->velocity); /* zeroed */
}

void db_sgd_step(db_sgd *opt, db_graph *g, float lr) {
    const db_sgd_config *c = &opt->cfg;
    for (int i = 0; i < g->n_params; i++) {
        db_param *p = &g->params[i];
        if (p->tied) continue; /* its gradient went to the parameter whose values it uses */
        float *v = opt->velocity.base + (p->data - g->param_arena.base);
        float wd = db_sgd_decays(p, c) ? c->weight_decay : 0.0f;
        float *w = p->data;
        const float *gr = p->grad;
        long n = (long)p->size;
        #pragma omp parallel for schedule(static) if (n > 65536)
        for (long j = 0; j < n; j++) db_sgd_element(&w[j], &v[j], gr[j], lr, c->momentum, wd, c->nesterov);
    }
}

void db_sgd_free(db_sgd *opt) { db_arena_free(&opt->velocity); }

float db_lr_at(const db_lr_schedule *s, double epoch, int total_epochs) {
    if (epoch < s->warmup_epochs) {
        double t = epoch / s->warmup_epochs;
        return (float)(s->base * (s->warmup_start + (1.0 - s->warmup_start) * t));
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
    }
    return s->base;
}
