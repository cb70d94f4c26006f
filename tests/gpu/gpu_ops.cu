// gpu-check: cuDNN's pooling (max, average counting padding) and cuBLAS's linear layer against
// the CPU ops, within 1e-4 of the largest value (summation orders differ; batch norm's checks,
// run between them, are tests/gpu/gpu_bn.cu's); the element-wise twins, the global average
// pool, the option-A shortcut and the accuracy count bit for bit, the loss within 1e-6 (CUDA's
// exp and log). The GPU's maps are NCHW, the CPU's CNHW: inputs are moved to the GPU's order and
// results back before comparing.
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nets/conv_cudnn.h"
#include "nets/linear_cublas.h"
#include "nets/ops.h"
#include "nets/ops_cuda.h"
#include "tests/gpu/gpu_compare.h"

static void check_pool(db_cudnn *h, db_gpu_report report, int max, int k, int stride, int pad) {
    const int planes = 32 * 8, hh = 15, ww = 15;
    int oh = (hh + 2 * pad - k) / stride + 1, ow = (ww + 2 * pad - k) / stride + 1;
    long nx = (long)planes * hh * ww, ny = (long)planes * oh * ow;
    float *x = (float *)malloc(sizeof(float) * nx), *y = (float *)malloc(sizeof(float) * ny);
    float *dy = (float *)malloc(sizeof(float) * ny), *dx = (float *)malloc(sizeof(float) * nx);
    float *ws = (float *)malloc(sizeof(float) * db_pool_workspace(k, stride, oh, ow, 1));
    fill(x, nx, 11, -1, 1); fill(dy, ny, 12, -1, 1);
    if (max) {
        db_maxpool_forward(y, x, planes, hh, ww, k, stride, pad, oh, ow, ws, 1);
        db_maxpool_backward(dx, dy, x, planes, hh, ww, k, stride, pad, oh, ow, 0, ws, 1);
    } else {
        db_avgpool_forward(y, x, planes, hh, ww, k, stride, pad, oh, ow, ws, 1);
        db_avgpool_backward(dx, dy, planes, hh, ww, k, stride, pad, oh, ow, 0, ws, 1);
    }
    free(ws);
    float *ex = dev(x, nx), *edy = dev(dy, ny), *ey = dev(NULL, ny), *edx = dev(NULL, nx);
    int ok = db_cudnn_pool_forward(h, max, ey, ex, planes, hh, ww, k, stride, pad) == DB_OK &&
             db_cudnn_pool_backward(h, max, edx, edy, ey, ex, planes, hh, ww, k, stride, pad, 0) == DB_OK &&
             cudaDeviceSynchronize() == cudaSuccess;
    double e1 = err_vs(ey, y, ny), e2 = err_vs(edx, dx, nx);
    char name[64], detail[300];
    snprintf(name, sizeof name, "%spool_k%d_s%d_p%d", max ? "max" : "avg", k, stride, pad);
    snprintf(detail, sizeof detail, "%srelative error forward %.2g, backward %.2g", ok ? "" : db_last_error(), e1, e2);
    report(ok && e1 <= 1e-4 && e2 <= 1e-4, name, detail);
    if (max) { /* the window kernel (AmoebaNet's pools) on ResNet's symmetric padding: each pixel gathers from its
                * windows in the CPU's order */
        ok = db_pool_window_backward_cuda(edx, edy, ex, 1, planes, hh, ww, k, stride, pad, oh, ow, 0, 0) == 0 &&
             cudaDeviceSynchronize() == cudaSuccess;
        long d = differ(edx, dx, nx);
        snprintf(name, sizeof name, "maxpool_k%d_s%d_p%d_gather_bit_identical", k, stride, pad);
        snprintf(detail, sizeof detail, "%ld of %ld input gradients differ", d, nx);
        report(ok && !d, name, detail);
    }
    cudaFree(ex); cudaFree(edy); cudaFree(ey); cudaFree(edx);
    free(x); free(y); free(dy); free(dx);
}

static void check_linear(db_cublas *h, db_gpu_report report, int f, int o, int n) {
    long ni = (long)f * n, no = (long)o * n, nw = (long)o * f;
    float *x = (float *)malloc(sizeof(float) * ni), *w = (float *)malloc(sizeof(float) * nw), *b = (float *)malloc(sizeof(float) * o);
    float *y = (float *)malloc(sizeof(float) * no), *dy = (float *)malloc(sizeof(float) * no);
    float *dx = (float *)malloc(sizeof(float) * ni), *dw = (float *)malloc(sizeof(float) * nw), *dbias = (float *)malloc(sizeof(float) * o);
    fill(x, ni, 21, -1, 1); fill(w, nw, 22, -0.1f, 0.1f); fill(b, o, 23, -0.5f, 0.5f); fill(dy, no, 24, -1, 1);
    db_linear_forward(y, x, w, b, f, o, n);
    db_linear_backward(dx, dw, dbias, dy, x, w, f, o, n, 0);
    float *ex = dev(x, ni), *ew = dev(w, nw), *eb = dev(b, o), *ey = dev(NULL, no), *edy = dev(dy, no);
    float *edx = dev(NULL, ni), *edw = dev(NULL, nw), *edb = dev(NULL, o);
    int ok = db_cublas_linear_forward(h, ey, ex, ew, eb, f, o, n) == DB_OK &&
             db_cublas_linear_backward(h, edx, edw, edb, edy, ex, ew, f, o, n, 0) == DB_OK && cudaDeviceSynchronize() == cudaSuccess;
    double e[4] = {err_vs(ey, y, no), err_vs(edx, dx, ni), err_vs(edw, dw, nw), err_vs(edb, dbias, o)};
    char name[64], detail[300];
    snprintf(name, sizeof name, "linear_f%d_o%d_n%d", f, o, n);
    snprintf(detail, sizeof detail, "%srelative error out %.2g, din %.2g, dweight %.2g, dbias %.2g", ok ? "" : db_last_error(),
             e[0], e[1], e[2], e[3]);
    report(ok && fmax(fmax(e[0], e[1]), fmax(e[2], e[3])) <= 1e-4, name, detail);
    float *all[] = {ex, ew, eb, ey, edy, edx, edw, edb};
    for (float *p : all) cudaFree(p);
    free(x); free(w); free(b); free(y); free(dy); free(dx); free(dw); free(dbias);
}

static void check_elementwise(db_gpu_report report) {
    const int c = 16, cout = 32, n = 8, h = 16, w = 16, stride = 2, oh = 8, ow = 8;
    const long len = (long)c * n * h * w, olen = (long)cout * n * oh * ow;
    float *a = (float *)malloc(sizeof(float) * len), *b = (float *)malloc(sizeof(float) * len);
    float *r = (float *)malloc(sizeof(float) * len), *acc = (float *)malloc(sizeof(float) * len);
    float *so = (float *)malloc(sizeof(float) * olen), *sg = (float *)malloc(sizeof(float) * olen);
    fill(a, len, 31, -1, 1); fill(b, len, 32, -1, 1); fill(sg, olen, 33, -1, 1);
    float *ea = dev(a, len), *eb = dev(b, len), *er = dev(NULL, len), *eacc = dev(b, len), *eso = dev(NULL, olen), *esg = dev(sg, olen);
    char detail[200];
    long bad;
    /* relu forward, and its backward accumulating into b */
    db_relu_forward(r, a, len);
    memcpy(acc, b, sizeof(float) * len);
    db_relu_backward(acc, a, r, len, 1);
    bad = db_relu_forward_cuda(er, ea, len, 0) || db_relu_backward_cuda(eacc, ea, er, len, 1, 0) || cudaDeviceSynchronize();
    snprintf(detail, sizeof detail, "%ld + %ld of %ld values differ", differ(er, r, len), differ(eacc, acc, len), len);
    report(!bad && differ(er, r, len) == 0 && differ(eacc, acc, len) == 0, "relu_bit_identical", detail);
    /* add, and a pass-through gradient accumulating */
    db_add_forward(r, a, b, len);
    memcpy(acc, b, sizeof(float) * len);
    db_pass_backward(acc, a, len, 1);
    cudaMemcpy(eacc, b, sizeof(float) * len, cudaMemcpyHostToDevice);
    bad = db_add_forward_cuda(er, ea, eb, len, 0) || db_pass_backward_cuda(eacc, ea, len, 1, 0) || cudaDeviceSynchronize();
    snprintf(detail, sizeof detail, "%ld + %ld of %ld values differ", differ(er, r, len), differ(eacc, acc, len), len);
    report(!bad && differ(er, r, len) == 0 && differ(eacc, acc, len) == 0, "add_and_pass_bit_identical", detail);
    /* relu(a + b) in one pass, and its backward (the sum's gradient set, b's accumulated), against
     * the CPU's add, ReLU and pass; whole float4s, then unaligned pointers and an odd length */
    for (int odd = 0; odd < 2; odd++) {
        const long m = len - 3 * odd, o = odd;
        float *sum = (float *)malloc(sizeof(float) * len), *gsum = (float *)malloc(sizeof(float) * len);
        float *ag = dev(NULL, len);
        db_add_forward(sum, a + o, b + o, m);
        db_relu_forward(r, sum, m);
        db_relu_backward(gsum, b + o, r, m, 0); /* the ReLU's gradient of dout = b */
        memcpy(acc, a, sizeof(float) * len);
        db_pass_backward(acc + o, gsum, m, 1);
        cudaMemcpy(eacc, a, sizeof(float) * len, cudaMemcpyHostToDevice);
        bad = db_add_relu_forward_cuda(er, ea + o, eb + o, m, 0) ||
              db_add_relu_backward_cuda(ag, eacc + o, eb + o, er, m, 1, 0) || cudaDeviceSynchronize();
        long d1 = differ(er, r, m), d2 = differ(ag, gsum, m), d3 = differ(eacc, acc, len);
        snprintf(detail, sizeof detail, "%ld values from %s: %ld + %ld + %ld differ", m, odd ? "unaligned pointers" : "float4s",
                 d1, d2, d3);
        report(!bad && !d1 && !d2 && !d3, odd ? "add_relu_unaligned_bit_identical" : "add_relu_bit_identical", detail);
        cudaFree(ag);
        free(sum); free(gsum);
    }
    /* option-A shortcut, forward and backward, on the GPU's NCHW maps */
    float *ea_n = db_upload_nchw(a, c, n, (size_t)h * w), *esg_n = db_upload_nchw(sg, cout, n, (size_t)oh * ow);
    db_shortcut_a_forward(so, a, c, cout, n, h, w, stride, oh, ow);
    db_shortcut_a_backward(r, sg, c, n, h, w, stride, oh, ow, 0);
    bad = db_shortcut_a_forward_cuda(eso, ea_n, c, cout, n, h, w, stride, oh, ow, 0) ||
          db_shortcut_a_backward_cuda(er, esg_n, c, cout, n, h, w, stride, oh, ow, 0, 0) || cudaDeviceSynchronize();
    long d1 = differ_nchw(eso, so, cout, n, (size_t)oh * ow), d2 = differ_nchw(er, r, c, n, (size_t)h * w);
    snprintf(detail, sizeof detail, "%ld + %ld values differ", d1, d2);
    report(!bad && d1 == 0 && d2 == 0, "shortcut_a_bit_identical", detail);
    /* global average pool: NCHW maps in, the feature-major vector (c, n) out as on the CPU */
    db_gap_forward(so, a, c * n, h * w);
    db_gap_backward(r, sg, c * n, h * w, 0);
    bad = db_gap_forward_cuda(eso, ea_n, c, n, h * w, 0) || db_gap_backward_cuda(er, esg, c, n, h * w, 0, 0) ||
          cudaDeviceSynchronize();
    d1 = differ(eso, so, c * n), d2 = differ_nchw(er, r, c, n, (size_t)h * w);
    snprintf(detail, sizeof detail, "%ld + %ld values differ", d1, d2);
    report(!bad && d1 == 0 && d2 == 0, "global_avgpool_bit_identical", detail);
    cudaFree(ea_n); cudaFree(esg_n);
    /* loss with label smoothing over 10 classes x 128 samples, and the accuracy counts */
    const int k = 10, m = 128;
    float logits[10 * 128], dl[10 * 128];
    int labels[128], top1, top5, counts[2];
    fill(logits, k * m, 34, -4, 4);
    for (int j = 0; j < m; j++) labels[j] = (j * 7) % k;
    logits[3 * m + 5] = logits[labels[5] * m + 5]; /* a tie, ranked by class index */
    double loss = db_softmax_xent(dl, logits, labels, k, m, 0.1f), gloss = 0;
    db_topk_correct(logits, labels, k, m, &top1, &top5);
    float *el = dev(logits, k * m), *edl = dev(NULL, k * m);
    int *elab = NULL, *ecounts = NULL;
    double *eloss = NULL, *escr = NULL;
    cudaMalloc(&elab, sizeof labels); cudaMalloc(&ecounts, sizeof counts); cudaMalloc(&eloss, sizeof(double));
    cudaMalloc(&escr, sizeof(double) * m);
    cudaMemcpy(elab, labels, sizeof labels, cudaMemcpyHostToDevice);
    bad = db_softmax_xent_cuda(eloss, edl, el, elab, k, m, 0.1f, escr, 0) || db_topk_correct_cuda(ecounts, el, elab, k, m, 0) ||
          cudaDeviceSynchronize();
    cudaMemcpy(&gloss, eloss, sizeof gloss, cudaMemcpyDeviceToHost);
    cudaMemcpy(counts, ecounts, sizeof counts, cudaMemcpyDeviceToHost);
    double e = err_vs(edl, dl, k * m);
    snprintf(detail, sizeof detail, "loss %.9g vs %.9g, dlogits relative error %.2g; top-1 %d vs %d, top-5 %d vs %d", gloss, loss, e,
             counts[0], top1, counts[1], top5);
    report(!bad && fabs(gloss - loss) <= 1e-6 * fabs(loss) && e <= 1e-6 && counts[0] == top1 && counts[1] == top5,
           "softmax_xent_and_topk", detail);
    float *all[] = {ea, eb, er, eacc, eso, esg, el, edl};
    for (float *p : all) cudaFree(p);
    cudaFree(elab); cudaFree(ecounts); cudaFree(eloss); cudaFree(escr);
    free(a); free(b); free(r); free(acc); free(so); free(sg);
}

/* The detection and segmentation networks' ops (nets/upsample_cuda.cu): nearest upsampling by 2,
 * bilinear resizing up and down, the channel bias, forward and accumulating backward, on NCHW
 * maps against the CPU's CNHW bits */
static void check_resample(db_gpu_report report) {
    const int c = 6, n = 4, h = 5, w = 7;
    const int shapes[3][2] = {{10, 14}, {9, 13}, {3, 4}}; /* x2 nearest; bilinear up; bilinear down */
    const long len = (long)c * n * h * w;
    float *a = (float *)malloc(sizeof(float) * len), *r = (float *)malloc(sizeof(float) * len);
    fill(a, len, 41, -1, 1);
    float *ea = db_upload_nchw(a, c, n, (size_t)h * w), *er = dev(NULL, len);
    char detail[200];
    for (int k = 0; k < 3; k++) {
        const int oh = shapes[k][0], ow = shapes[k][1];
        const long olen = (long)c * n * oh * ow;
        float *so = (float *)malloc(sizeof(float) * olen), *sg = (float *)malloc(sizeof(float) * olen);
        fill(sg, olen, 42 + k, -1, 1);
        float *eso = dev(NULL, olen), *esg = db_upload_nchw(sg, c, n, (size_t)oh * ow);
        for (long i = 0; i < len; i++) r[i] = 0.5f; /* the backward adds to what is there */
        cudaMemcpy(er, r, sizeof(float) * len, cudaMemcpyHostToDevice);
        int bad;
        if (k == 0) {
            db_upsample_forward(so, a, c * n, h, w, 2);
            db_upsample_backward(r, sg, c * n, h, w, 2, 1);
            bad = db_upsample_forward_cuda(eso, ea, c * n, h, w, 2, 0) ||
                  db_upsample_backward_cuda(er, esg, c * n, h, w, 2, 1, 0) || cudaDeviceSynchronize();
        } else {
            db_resize_forward(so, a, c * n, h, w, oh, ow);
            db_resize_backward(r, sg, c * n, h, w, oh, ow, 1);
            bad = db_resize_forward_cuda(eso, ea, c * n, h, w, oh, ow, 0) ||
                  db_resize_backward_cuda(er, esg, c * n, h, w, oh, ow, 1, 0) || cudaDeviceSynchronize();
        }
        long d1 = differ_nchw(eso, so, c, n, (size_t)oh * ow), d2 = differ_nchw(er, r, c, n, (size_t)h * w);
        snprintf(detail, sizeof detail, "%dx%d -> %dx%d: %ld + %ld values differ", h, w, oh, ow, d1, d2);
        report(!bad && d1 == 0 && d2 == 0, k ? (oh > h ? "resize_up_bit_identical" : "resize_down_bit_identical")
                                             : "upsample_bit_identical", detail);
        cudaFree(eso); cudaFree(esg);
        free(so); free(sg);
    }
    /* the channel bias: forward, and its gradients (dbias set, din accumulating) */
    float bias[6], db_h[6], db_d[6], *o = (float *)malloc(sizeof(float) * len), *g = (float *)malloc(sizeof(float) * len);
    fill(bias, c, 45, -1, 1);
    fill(g, len, 46, -1, 1);
    for (long i = 0; i < len; i++) r[i] = 0.25f;
    db_bias_forward(o, a, bias, c, (size_t)n * h * w);
    db_bias_backward(r, db_h, g, c, (size_t)n * h * w, 1);
    float *eb = dev(bias, c), *edb = dev(NULL, c), *eo = dev(NULL, len), *eg = db_upload_nchw(g, c, n, (size_t)h * w);
    float *ed = db_upload_nchw(r, c, n, (size_t)h * w);
    for (long i = 0; i < len; i++) r[i] = 0.25f;
    cudaMemcpy(ed, r, sizeof(float) * len, cudaMemcpyHostToDevice); /* 0.25 everywhere, in either layout */
    db_bias_backward(r, db_h, g, c, (size_t)n * h * w, 1);
    int bad = db_bias_forward_cuda(eo, ea, eb, c, n, (size_t)h * w, 0) ||
              db_bias_backward_cuda(ed, edb, eg, c, n, (size_t)h * w, 1, 0) || cudaDeviceSynchronize();
    cudaMemcpy(db_d, edb, sizeof db_d, cudaMemcpyDeviceToHost);
    long d1 = differ_nchw(eo, o, c, n, (size_t)h * w), d2 = differ_nchw(ed, r, c, n, (size_t)h * w);
    long d3 = memcmp(db_d, db_h, sizeof db_h) != 0;
    snprintf(detail, sizeof detail, "%ld + %ld values and %ld bias gradients differ", d1, d2, d3 ? (long)c : 0L);
    report(!bad && d1 == 0 && d2 == 0 && !d3, "channel_bias_bit_identical", detail);
    cudaFree(ea); cudaFree(er); cudaFree(eb); cudaFree(edb); cudaFree(eo); cudaFree(eg); cudaFree(ed);
    free(a); free(r); free(o); free(g);
}

/* AmoebaNet's cell ops (nets/cells_cuda.cu) against the CPU's bits: depthwise convolution and
 * TensorFlow-SAME max and average pooling on even and odd maps (the odd padding pixel below and
 * right), forward and backward (din accumulating onto 0.5), subsampling at both offsets, and
 * channel concatenation */
/* The depthwise weight gradient over many weights (48 channels x 25 taps: several blocks of
 * its per-weight sums), through the column-sum scratch, against the CPU's bits */
static void check_dw_wide(db_gpu_report report) {
    const int c = 48, n = 2, h = 9, k = 5;
    db_dw_dims d;
    db_dw_dims_same(&d, c, k, k, 1, h, h);
    const size_t hw = (size_t)h * h, ohw = (size_t)d.oh * d.ow, nw = (size_t)c * k * k;
    const long len = (long)c * n * hw, olen = (long)c * n * ohw;
    float *x = (float *)malloc(sizeof(float) * len), *g = (float *)malloc(sizeof(float) * olen);
    float *wt = (float *)malloc(sizeof(float) * nw), *dw = (float *)malloc(sizeof(float) * nw), *dwd = (float *)malloc(sizeof(float) * nw);
    float *ws = (float *)malloc(sizeof(float) * db_dw_workspace(&d, 1));
    fill(x, len, 101, -1, 1); fill(g, olen, 102, -1, 1); fill(wt, (long)nw, 103, -1, 1);
    db_dw_backward(NULL, dw, g, x, wt, ws, &d, n, 0, 1);
    float *ex = db_upload_nchw(x, c, n, hw), *eg = db_upload_nchw(g, c, n, ohw), *ew = dev(wt, (long)nw), *edw = dev(NULL, (long)nw);
    float *scratch = dev(NULL, (long)db_dw_backward_cuda_scratch(&d, n));
    int bad = db_dw_backward_cuda(NULL, edw, eg, ex, ew, &d, n, 0, scratch, 0) || cudaDeviceSynchronize();
    cudaMemcpy(dwd, edw, sizeof(float) * nw, cudaMemcpyDeviceToHost);
    long differ = 0;
    for (size_t i = 0; i < nw; i++) differ += memcmp(&dwd[i], &dw[i], sizeof(float)) != 0;
    char detail[160];
    snprintf(detail, sizeof detail, "%d channels, 5x5 taps on 9x9: %ld of %zu weight gradients differ", c, differ, nw);
    report(!bad && !differ, "depthwise_wide_weight_gradient_bit_identical", detail);
    cudaFree(ex); cudaFree(eg); cudaFree(ew); cudaFree(edw); cudaFree(scratch);
    free(x); free(g); free(wt); free(dw); free(dwd); free(ws);
}

static void check_cells(db_gpu_report report) {
    check_dw_wide(report);
    const int c = 5, n = 3, sides[2] = {8, 9}, cfg[4][2] = {{3, 1}, {3, 2}, {5, 1}, {5, 2}};
    char detail[200], name[64];
    for (int si = 0; si < 2; si++)
        for (int q = 0; q < 4; q++) {
            const int h = sides[si], k = cfg[q][0], st = cfg[q][1];
            db_dw_dims d;
            db_dw_dims_same(&d, c, k, k, st, h, h);
            const size_t hw = (size_t)h * h, ohw = (size_t)d.oh * d.ow;
            const long len = (long)c * n * hw, olen = (long)c * n * ohw;
            float *x = (float *)malloc(sizeof(float) * len), *dx = (float *)malloc(sizeof(float) * len);
            float *y = (float *)malloc(sizeof(float) * olen), *g = (float *)malloc(sizeof(float) * olen);
            float wt[5 * 25], dw[5 * 25], dwd[5 * 25];
            float *ws = (float *)malloc(sizeof(float) * db_dw_workspace(&d, 1));
            fill(x, len, 51 + q, -1, 1); fill(g, olen, 61 + q, -1, 1); fill(wt, c * k * k, 71 + q, -1, 1);
            float *ex = db_upload_nchw(x, c, n, hw), *eg = db_upload_nchw(g, c, n, ohw), *ey = dev(NULL, olen);
            float *ew = dev(wt, c * k * k), *edw = dev(NULL, c * k * k), *edx = dev(NULL, len);
            for (long i = 0; i < len; i++) dx[i] = 0.5f; /* the backward adds to what is there */
            cudaMemcpy(edx, dx, sizeof(float) * len, cudaMemcpyHostToDevice);
            db_dw_forward(y, x, wt, ws, &d, n, 1);
            db_dw_backward(dx, dw, g, x, wt, ws, &d, n, 1, 1);
            float *scratch = dev(NULL, (long)db_dw_backward_cuda_scratch(&d, n));
            int bad = db_dw_forward_cuda(ey, ex, ew, &d, n, 0) || db_dw_backward_cuda(edx, edw, eg, ex, ew, &d, n, 1, scratch, 0) ||
                      cudaDeviceSynchronize();
            cudaMemcpy(dwd, edw, sizeof(float) * c * k * k, cudaMemcpyDeviceToHost);
            cudaFree(scratch);
            long d1 = differ_nchw(ey, y, c, n, ohw), d2 = differ_nchw(edx, dx, c, n, hw);
            long d3 = memcmp(dwd, dw, sizeof(float) * c * k * k) != 0;
            snprintf(detail, sizeof detail, "%dx%d, %dx%d stride %d: %ld outputs, %ld input and %s weight gradients differ",
                     h, h, k, k, st, d1, d2, d3 ? "some" : "no");
            snprintf(name, sizeof name, "depthwise_%dx%d_k%d_s%d_bit_identical", h, h, k, st);
            report(!bad && !d1 && !d2 && !d3, name, detail);
            for (int max = 0; max < 2 && k == 3; max++) { /* the cells' 3x3 pools, and the 2x2 max on stride 2 */
                for (int k2 = 3; k2 >= 2; k2--) {
                    if (k2 == 2 && (!max || st == 1)) continue;
                    db_dw_dims p;
                    db_dw_dims_same(&p, c, k2, k2, st, h, h);
                    for (long i = 0; i < len; i++) dx[i] = 0.5f;
                    cudaMemcpy(edx, dx, sizeof(float) * len, cudaMemcpyHostToDevice);
                    float *pws = (float *)malloc(sizeof(float) * db_pool_workspace(k2, st, p.oh, p.ow, 1));
                    if (max) {
                        db_maxpool_forward(y, x, c * n, h, h, k2, st, p.pad_top, p.oh, p.ow, pws, 1);
                        db_maxpool_backward(dx, g, x, c * n, h, h, k2, st, p.pad_top, p.oh, p.ow, 1, pws, 1);
                    } else {
                        db_avgpool_excl_forward(y, x, c * n, h, h, k2, st, p.pad_top, p.oh, p.ow, pws, 1);
                        db_avgpool_excl_backward(dx, g, c * n, h, h, k2, st, p.pad_top, p.oh, p.ow, 1, pws, 1);
                    }
                    free(pws);
                    bad = db_pool_window_forward_cuda(ey, ex, max, c * n, h, h, k2, st, p.pad_top, p.oh, p.ow, 0) ||
                          db_pool_window_backward_cuda(edx, eg, ex, max, c * n, h, h, k2, st, p.pad_top, p.oh, p.ow, 1, 0) ||
                          cudaDeviceSynchronize();
                    d1 = differ_nchw(ey, y, c, n, (size_t)p.oh * p.ow), d2 = differ_nchw(edx, dx, c, n, hw);
                    snprintf(detail, sizeof detail, "%dx%d, %dx%d stride %d SAME: %ld outputs and %ld gradients differ", h, h,
                             k2, k2, st, d1, d2);
                    snprintf(name, sizeof name, "%s_pool_same_%dx%d_k%d_s%d_bit_identical", max ? "max" : "avg", h, h, k2, st);
                    report(!bad && !d1 && !d2, name, detail);
                }
            }
            cudaFree(ex); cudaFree(eg); cudaFree(ey); cudaFree(ew); cudaFree(edw); cudaFree(edx);
            free(x); free(dx); free(y); free(g); free(ws);
        }
    /* subsampling by 2 from (0, 0) and (1, 1) of a 7x7 map; concatenation of 3 and 5 channels */
    const int h = 7, oh = 4, ca = 3, cb = 5;
    const size_t hw = (size_t)h * h, ohw = (size_t)oh * oh;
    const long len = (long)c * n * hw, olen = (long)c * n * ohw;
    float *x = (float *)malloc(sizeof(float) * len), *dx = (float *)malloc(sizeof(float) * len);
    float *y = (float *)malloc(sizeof(float) * olen), *g = (float *)malloc(sizeof(float) * olen);
    fill(x, len, 81, -1, 1); fill(g, olen, 82, -1, 1);
    float *ex = db_upload_nchw(x, c, n, hw), *eg = db_upload_nchw(g, c, n, ohw), *ey = dev(NULL, olen), *edx = dev(NULL, len);
    for (int off = 0; off < 2; off++) {
        for (long i = 0; i < len; i++) dx[i] = 0.5f;
        cudaMemcpy(edx, dx, sizeof(float) * len, cudaMemcpyHostToDevice);
        db_subsample_forward(y, x, c * n, h, h, 2, off);
        db_subsample_backward(dx, g, c * n, h, h, 2, off, 1);
        int bad = db_subsample_forward_cuda(ey, ex, c * n, h, h, 2, off, 0) ||
                  db_subsample_backward_cuda(edx, eg, c * n, h, h, 2, off, 1, 0) || cudaDeviceSynchronize();
        long d1 = differ_nchw(ey, y, c, n, ohw), d2 = differ_nchw(edx, dx, c, n, hw);
        snprintf(detail, sizeof detail, "7x7 by 2 from %d: %ld outputs and %ld gradients differ", off, d1, d2);
        report(!bad && !d1 && !d2, off ? "subsample_shifted_bit_identical" : "subsample_bit_identical", detail);
    }
    cudaFree(ex); cudaFree(eg); cudaFree(ey); cudaFree(edx);
    free(x); free(dx); free(y); free(g);
    const long la = (long)ca * n * hw, lb = (long)cb * n * hw, lo = la + lb;
    float *a = (float *)malloc(sizeof(float) * la), *b = (float *)malloc(sizeof(float) * lb), *o = (float *)malloc(sizeof(float) * lo);
    float *go = (float *)malloc(sizeof(float) * lo), *da = (float *)malloc(sizeof(float) * la), *dbh = (float *)malloc(sizeof(float) * lb);
    fill(a, la, 91, -1, 1); fill(b, lb, 92, -1, 1); fill(go, lo, 93, -1, 1);
    for (long i = 0; i < la; i++) da[i] = 0.5f;
    float *ea = db_upload_nchw(a, ca, n, hw), *eb = db_upload_nchw(b, cb, n, hw), *eo = dev(NULL, lo);
    float *ego = db_upload_nchw(go, ca + cb, n, hw), *eda = dev(da, la), *edb = dev(NULL, lb); /* 0.5 in either layout */
    db_concat_forward(o, a, b, ca, cb, (size_t)n * hw);
    db_concat_backward(da, dbh, go, ca, cb, (size_t)n * hw, 1, 0);
    int bad = db_concat_forward_cuda(eo, ea, eb, ca, cb, n, hw, 0) ||
              db_concat_backward_cuda(eda, edb, ego, ca, cb, n, hw, 1, 0, 0) || cudaDeviceSynchronize();
    long d1 = differ_nchw(eo, o, ca + cb, n, hw), d2 = differ_nchw(eda, da, ca, n, hw), d3 = differ_nchw(edb, dbh, cb, n, hw);
    snprintf(detail, sizeof detail, "3 + 5 channels: %ld outputs, %ld + %ld gradients differ", d1, d2, d3);
    report(!bad && !d1 && !d2 && !d3, "concat_bit_identical", detail);
    cudaFree(ea); cudaFree(eb); cudaFree(eo); cudaFree(ego); cudaFree(eda); cudaFree(edb);
    free(a); free(b); free(o); free(go); free(da); free(dbh);
}

/* The channels-last casts of --conv-layout nhwc (nets/ops_cuda.h) against the plain casts with
 * the transpose done here, bit for bit: to bfloat16, back (set and added), for shapes that fill
 * the 32x32 tiles partly (and c 1, hw 1, which take the plain casts) */
static void check_nhwc_casts(db_gpu_report report) {
    static const int shapes[][3] = {{3, 37, 45}, {2, 70, 1025}, {2, 1, 50}, {5, 64, 1}, {1, 3, 12544}}; /* n, c, hw */
    char detail[320];
    long bad_to = 0, bad_back = 0, bad_acc = 0, unchanged = 0, total = 0;
    int failed = 0;
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        const int n = shapes[k][0], c = shapes[k][1], hw = shapes[k][2];
        const long len = (long)n * c * hw;
        float *x = (float *)malloc(sizeof(float) * len), *y = (float *)malloc(sizeof(float) * len);
        float *r1 = (float *)malloc(sizeof(float) * len), *r2 = (float *)malloc(sizeof(float) * len);
        uint16_t *plain = (uint16_t *)malloc(2 * len), *t = (uint16_t *)malloc(2 * len);
        fill(x, len, 7 + (unsigned)k, -3.0f, 3.0f);
        fill(y, len, 70 + (unsigned)k, -1.0f, 1.0f);
        float *ex = dev(x, len), *ea = dev(NULL, len), *eb = dev(NULL, len), *eya = dev(y, len), *eyb = dev(y, len);
        uint16_t *ep = NULL, *et = NULL;
        failed |= cudaMalloc(&ep, 2 * len) != cudaSuccess || cudaMalloc(&et, 2 * len) != cudaSuccess;
        failed |= failed || db_to_bf16_cuda(ep, ex, len, 0) || db_to_bf16_nhwc_cuda(et, ex, n, c, hw, 0) ||
                  db_from_bf16_cuda(ea, ep, len, 0, 0) || db_from_bf16_nhwc_cuda(eb, et, n, c, hw, 0, 0) ||
                  db_from_bf16_cuda(eya, ep, len, 1, 0) || db_from_bf16_nhwc_cuda(eyb, et, n, c, hw, 1, 0) ||
                  cudaDeviceSynchronize() != cudaSuccess;
        if (!failed) {
            cudaMemcpy(plain, ep, 2 * len, cudaMemcpyDeviceToHost);
            cudaMemcpy(t, et, 2 * len, cudaMemcpyDeviceToHost);
            for (long b = 0; b < n; b++)
                for (long ch = 0; ch < c; ch++)
                    for (long p = 0; p < hw; p++) bad_to += t[(b * hw + p) * c + ch] != plain[(b * c + ch) * hw + p];
            cudaMemcpy(r1, ea, sizeof(float) * len, cudaMemcpyDeviceToHost);
            cudaMemcpy(r2, eb, sizeof(float) * len, cudaMemcpyDeviceToHost);
            for (long i = 0; i < len; i++) bad_back += memcmp(&r1[i], &r2[i], sizeof(float)) != 0;
            cudaMemcpy(r1, eya, sizeof(float) * len, cudaMemcpyDeviceToHost);
            cudaMemcpy(r2, eyb, sizeof(float) * len, cudaMemcpyDeviceToHost);
            for (long i = 0; i < len; i++) bad_acc += memcmp(&r1[i], &r2[i], sizeof(float)) != 0, unchanged += r1[i] == y[i];
            total += len;
        }
        cudaFree(ex); cudaFree(ea); cudaFree(eb); cudaFree(eya); cudaFree(eyb); cudaFree(ep); cudaFree(et);
        free(x); free(y); free(r1); free(r2); free(plain); free(t);
    }
    snprintf(detail, sizeof detail, "%s5 shapes: %ld values to bfloat16, %ld back, %ld added back differ from the plain casts "
             "transposed (%ld of %ld sums equal to what they were added to)", failed ? "a cast failed; " : "", bad_to, bad_back,
             bad_acc, unchanged, total);
    /* (an addition that did nothing everywhere would also agree) */
    report(!failed && !bad_to && !bad_back && !bad_acc && unchanged * 100 < total, "bf16_nhwc_casts_bit_identical", detail);
}

extern "C" void db_gpu_check_bn_pool(db_gpu_report report) {
    check_elementwise(report);
    check_nhwc_casts(report);
    check_resample(report);
    check_cells(report);
    db_cudnn *h = NULL;
    if (db_cudnn_create(&h) != DB_OK) { report(0, "cudnn_handle", db_last_error()); return; }
    db_gpu_check_bn(report, h); /* tests/gpu/gpu_bn.cu */
    check_pool(h, report, 1, 3, 2, 1); /* ResNet's stem pool */
    check_pool(h, report, 1, 2, 2, 0);
    check_pool(h, report, 0, 3, 1, 1);
    check_pool(h, report, 0, 2, 2, 0);
    db_cudnn_destroy(h);
    db_cublas *b = NULL;
    if (db_cublas_create(&b, 0) != DB_OK) { report(0, "cublas_handle", db_last_error()); return; }
    check_linear(b, report, 64, 10, 128);   /* ResNet-20's classifier */
    check_linear(b, report, 2048, 1000, 32); /* ResNet-50's */
    db_cublas_destroy(b);
}
