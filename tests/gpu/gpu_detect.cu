// gpu-check's detector part (detect/detect_cuda.cu): the level <-> anchor-row moves bit for bit
// against the CPU's (detect/layout.c) on a whole P3-P7 pyramid, and the focal + Huber loss
// against the CPU's (detect/loss.c): the positives exactly, the parts and every gradient within
// 1e-5 relative (CUDA's exp, log1p and pow against the C library's), the same bits on a rerun.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_cuda.h"
#include "detect/layout.h"
#include "tests/gpu/gpu_check.h"

static unsigned lcg(unsigned *s) { return *s = *s * 1664525u + 1013904223u; }
static float uniform(unsigned *s, float lo, float hi) { return lo + (hi - lo) * (float)(lcg(s) >> 8) / 16777216.0f; }

static void *dev_alloc(size_t bytes, const void *from) {
    void *d = NULL;
    if (cudaMalloc(&d, bytes) != cudaSuccess) { fprintf(stderr, "gpu-check: out of device memory\n"); exit(1); }
    if (from) cudaMemcpy(d, from, bytes, cudaMemcpyHostToDevice);
    else cudaMemset(d, 0, bytes);
    return d;
}

/* The largest |a - b| over the largest |b| (0 when both are 0) */
static double rel_gap(const float *a, const float *b, long n) {
    double worst = 0, scale = 0;
    for (long i = 0; i < n; i++) worst = fmax(worst, fabs((double)a[i] - b[i])), scale = fmax(scale, fabs((double)b[i]));
    return scale > 0 ? worst / scale : worst;
}

static void check_moves(db_gpu_report report, const db_anchors *a, int n, int C) {
    const long rows_len = (long)n * a->n * C;
    float *levels[DB_ANCHOR_MAX_LEVELS], *dlevels[DB_ANCHOR_MAX_LEVELS];
    unsigned s = 7;
    for (int l = 0; l < a->levels; l++) {
        const long len = (long)a->per_position * C * n * a->level_h[l] * a->level_w[l];
        levels[l] = (float *)malloc(sizeof(float) * len);
        for (long i = 0; i < len; i++) levels[l][i] = uniform(&s, -1, 1);
        dlevels[l] = db_upload_nchw(levels[l], a->per_position * C, n, (size_t)a->level_h[l] * a->level_w[l]);
    }
    float *rows = (float *)malloc(sizeof(float) * rows_len), *got = (float *)malloc(sizeof(float) * rows_len);
    float *drows = (float *)dev_alloc(sizeof(float) * rows_len, NULL);
    db_detect_gather(rows, (const float *const *)levels, a, n, C);
    int bad = db_detect_gather_cuda(drows, (const float *const *)dlevels, a, n, C, 0) || cudaDeviceSynchronize();
    cudaMemcpy(got, drows, sizeof(float) * rows_len, cudaMemcpyDeviceToHost);
    long differ = 0;
    for (long i = 0; i < rows_len; i++) differ += memcmp(&got[i], &rows[i], sizeof(float)) != 0;
    char detail[200];
    snprintf(detail, sizeof detail, "%ld of %ld anchor-row values differ", differ, rows_len);
    report(!bad && differ == 0, "detect_gather_bit_identical", detail);
    /* back: new rows into the levels (their gradients) */
    for (long i = 0; i < rows_len; i++) rows[i] = uniform(&s, -1, 1);
    cudaMemcpy(drows, rows, sizeof(float) * rows_len, cudaMemcpyHostToDevice);
    db_detect_scatter(levels, rows, a, n, C);
    bad = db_detect_scatter_cuda(dlevels, drows, a, n, C, 0) || cudaDeviceSynchronize();
    differ = 0;
    for (int l = 0; l < a->levels; l++) {
        const size_t hw = (size_t)a->level_h[l] * a->level_w[l];
        const long len = (long)a->per_position * C * n * hw;
        float *back = (float *)malloc(sizeof(float) * len);
        db_download_cnhw(back, dlevels[l], a->per_position * C, n, hw);
        for (long i = 0; i < len; i++) differ += memcmp(&back[i], &levels[l][i], sizeof(float)) != 0;
        free(back);
        free(levels[l]);
        cudaFree(dlevels[l]);
    }
    snprintf(detail, sizeof detail, "%ld level values differ", differ);
    report(!bad && differ == 0, "detect_scatter_bit_identical", detail);
    free(rows); free(got); cudaFree(drows);
}

static void check_loss(db_gpu_report report, long n, int K) {
    unsigned s = 11;
    float *logits = (float *)malloc(sizeof(float) * n * K), *codes = (float *)malloc(sizeof(float) * n * 4);
    float *box_t = (float *)malloc(sizeof(float) * n * 4), *dl = (float *)malloc(sizeof(float) * n * K);
    float *dc = (float *)malloc(sizeof(float) * n * 4), *gl = (float *)malloc(sizeof(float) * n * K);
    float *gcodes = (float *)malloc(sizeof(float) * n * 4);
    int *cls_t = (int *)malloc(sizeof(int) * n);
    for (long i = 0; i < n * K; i++) logits[i] = uniform(&s, -6, 4);
    for (long i = 0; i < n; i++) {
        const float u = uniform(&s, 0, 1);
        cls_t[i] = u < 0.1f ? -2 : u < 0.9f ? -1 : (int)(lcg(&s) % (unsigned)K);
        for (int j = 0; j < 4; j++) {
            codes[i * 4 + j] = uniform(&s, -1, 1);
            box_t[i * 4 + j] = cls_t[i] >= 0 ? uniform(&s, -0.5f, 0.5f) : 0.0f;
        }
    }
    const db_detect_loss_cfg cfg = db_detect_loss_defaults();
    db_detect_loss_parts cpu = db_detect_loss(dl, dc, logits, codes, cls_t, box_t, n, K, &cfg), gpu[2];
    float *e_logits = (float *)dev_alloc(sizeof(float) * n * K, logits), *e_codes = (float *)dev_alloc(sizeof(float) * n * 4, codes);
    float *e_box = (float *)dev_alloc(sizeof(float) * n * 4, box_t), *e_dl = (float *)dev_alloc(sizeof(float) * n * K, NULL);
    float *e_dc = (float *)dev_alloc(sizeof(float) * n * 4, NULL);
    int *e_cls = (int *)dev_alloc(sizeof(int) * n, cls_t);
    void *work = dev_alloc(db_detect_loss_cuda_workspace(n), NULL);
    int bad = 0, grads_same = 1;
    float *first = (float *)malloc(sizeof(float) * n * (K + 4));
    for (int r = 0; r < 2; r++) {
        bad |= db_detect_loss_cuda(&gpu[r], e_dl, e_dc, e_logits, e_codes, e_cls, e_box, n, K, &cfg, work, 0);
        cudaMemcpy(gl, e_dl, sizeof(float) * n * K, cudaMemcpyDeviceToHost);
        cudaMemcpy(gcodes, e_dc, sizeof(float) * n * 4, cudaMemcpyDeviceToHost);
        if (r == 0) memcpy(first, gl, sizeof(float) * n * K), memcpy(first + n * K, gcodes, sizeof(float) * n * 4);
        else grads_same = !memcmp(first, gl, sizeof(float) * n * K) && !memcmp(first + n * K, gcodes, sizeof(float) * n * 4);
    }
    free(first);
    const double e_cls_part = fabs(gpu[0].cls - cpu.cls) / fabs(cpu.cls), e_box_part = fabs(gpu[0].box - cpu.box) / fabs(cpu.box);
    const double e_gl = rel_gap(gl, dl, n * K), e_gc = rel_gap(gcodes, dc, n * 4);
    const int rerun_same = memcmp(&gpu[0], &gpu[1], sizeof gpu[0]) == 0 && grads_same;
    char detail[300];
    snprintf(detail, sizeof detail, "%ld anchors x %d classes: positives %ld vs %ld; class part %.3g, box part %.3g, "
             "gradients %.3g and %.3g relative; a rerun %s", n, K, gpu[0].positives, cpu.positives, e_cls_part, e_box_part,
             e_gl, e_gc, rerun_same ? "the same bits" : "differs");
    report(!bad && gpu[0].positives == cpu.positives && e_cls_part < 1e-5 && e_box_part < 1e-5 && e_gl < 1e-5 &&
               e_gc < 1e-5 && rerun_same && cpu.positives > 0,
           "detect_focal_huber_loss", detail);
    cudaFree(e_logits); cudaFree(e_codes); cudaFree(e_box); cudaFree(e_dl); cudaFree(e_dc); cudaFree(e_cls); cudaFree(work);
    free(logits); free(codes); free(box_t); free(dl); free(dc); free(gl); free(gcodes); free(cls_t);
}

extern "C" void db_gpu_check_detect(db_gpu_report report) {
    db_anchors a;
    db_anchor_cfg cfg = db_anchor_defaults(); /* P3-P7 of a 128 x 128 input: 16x16 down to 1x1 */
    if (db_anchors_make(&a, &cfg, 128, 128) != DB_OK) { report(0, "detect_anchors", db_last_error()); return; }
    check_moves(report, &a, 3, 5);
    check_loss(report, 3L * a.n, 10);
    db_anchors_free(&a);
}
