#include "datasets/pipeline.h"

#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db_pipeline {
    db_pipeline_cfg c;
    size_t floats;       /* one batch's input */
    float *slots;        /* depth batches */
    int *labels;         /* depth * batch */
    int *ready;          /* per slot: the step it holds, -1 while empty or being filled */
    db_status *status;   /* per slot: how its fill went */
    char (*why)[1024];   /* per slot: the message of a failed fill */
    int next_claim;      /* the next step a worker starts */
    int next_take;       /* the next step the trainer takes */
    int stop;
    pthread_mutex_t mu;
    pthread_cond_t changed;
    pthread_t *threads;
    int started;
};

static db_status fill(const db_pipeline *p, int step, float *input, int *labels) {
    const db_pipeline_cfg *c = &p->c;
    return db_batch_fill(c->data, c->order + (size_t)step * c->batch, c->batch, c->aug, c->norm, c->seed, c->epoch,
                         input, labels);
}

static void *worker(void *arg) {
    db_pipeline *p = arg;
    omp_set_num_threads(1); /* one core per worker: the trainer's OpenMP team keeps the rest */
    pthread_mutex_lock(&p->mu);
    for (;;) {
        /* the next step, once its slot is free (the trainer took the step depth before it) */
        while (!p->stop && p->next_claim < p->c.steps && p->next_claim >= p->next_take + p->c.depth)
            pthread_cond_wait(&p->changed, &p->mu);
        if (p->stop || p->next_claim >= p->c.steps) break;
        int step = p->next_claim++, slot = step % p->c.depth;
        pthread_mutex_unlock(&p->mu);
        db_status s = fill(p, step, p->slots + (size_t)slot * p->floats, p->labels + (size_t)slot * p->c.batch);
        pthread_mutex_lock(&p->mu);
        p->status[slot] = s; /* the message is this thread's: hand it over */
        if (s != DB_OK) snprintf(p->why[slot], sizeof p->why[slot], "%s", db_last_error());
        p->ready[slot] = step;
        pthread_cond_broadcast(&p->changed);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

db_status db_pipeline_start(db_pipeline **out, const db_pipeline_cfg *c) {
    *out = NULL;
    if (c->batch < 1 || c->workers < 0 || c->workers > 64 || c->first < 0)
        return db_fail(DB_ERR_ARG, "pipeline: batch %d, workers %d (0 to 64)", c->batch, c->workers);
    db_pipeline *p = calloc(1, sizeof *p);
    if (!p) return db_fail(DB_ERR_NOMEM, "out of memory");
    p->c = *c;
    if (p->c.depth < 1) p->c.depth = 1;
    p->floats = (size_t)c->data->c * c->batch * c->data->h * c->data->w;
    p->next_claim = p->next_take = c->first;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->changed, NULL);
    *out = p;
    if (!c->workers) return DB_OK;
    p->slots = malloc(sizeof(float) * p->floats * (size_t)p->c.depth);
    p->labels = malloc(sizeof(int) * (size_t)c->batch * (size_t)p->c.depth);
    p->ready = malloc(sizeof(int) * (size_t)p->c.depth);
    p->status = calloc((size_t)p->c.depth, sizeof *p->status);
    p->why = calloc((size_t)p->c.depth, sizeof *p->why);
    p->threads = calloc((size_t)c->workers, sizeof *p->threads);
    if (!p->slots || !p->labels || !p->ready || !p->status || !p->why || !p->threads) {
        db_pipeline_stop(p);
        *out = NULL;
        return db_fail(DB_ERR_NOMEM, "pipeline: out of memory for %d batches", p->c.depth);
    }
    for (int i = 0; i < p->c.depth; i++) p->ready[i] = -1;
    for (int i = 0; i < c->workers; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
            db_pipeline_stop(p);
            *out = NULL;
            return db_fail(DB_ERR_INTERNAL, "pipeline: cannot start a worker thread");
        }
        p->started++;
    }
    return DB_OK;
}

db_status db_pipeline_take(db_pipeline *p, float *input, int *labels) {
    if (p->next_take >= p->c.steps) return db_fail(DB_ERR_INTERNAL, "pipeline: step %d is past the epoch", p->next_take);
    if (!p->c.workers) return fill(p, p->next_take++, input, labels);
    int step = p->next_take, slot = step % p->c.depth;
    pthread_mutex_lock(&p->mu);
    while (p->ready[slot] != step) pthread_cond_wait(&p->changed, &p->mu);
    pthread_mutex_unlock(&p->mu);
    if (p->status[slot] != DB_OK) return db_fail(p->status[slot], "%s", p->why[slot]); /* left in its slot: stop() ends it */
    memcpy(input, p->slots + (size_t)slot * p->floats, sizeof(float) * p->floats);
    memcpy(labels, p->labels + (size_t)slot * p->c.batch, sizeof(int) * (size_t)p->c.batch);
    pthread_mutex_lock(&p->mu);
    p->ready[slot] = -1;
    p->next_take++;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->mu);
    return DB_OK;
}

void db_pipeline_stop(db_pipeline *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->started; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->changed);
    free(p->slots); free(p->labels); free(p->ready); free(p->status); free(p->why); free(p->threads);
    free(p);
}
