// gpu-probe: what cuDNN offers for our convolutions on the GPU's packed NCHW layout, and what
// db_cudnn_conv_create takes. For each distinct convolution shape of ResNet-20 (32x32, batch
// 128) and ResNet-50 (224, batch 64), both built from the engine's own graphs, and of a
// RetinaNet/FPN neck and head at 640x640 (batch 8, written out: the network is not built yet),
// it prints each pass's algorithms from cuDNN's heuristics (status, determinism, math type,
// workspace) and measured (cudnnFind*: time), then the choice in fp32 and in deterministic
// mode, or why none could be made. Seconds to run; every line flushed as it is written.
// nhwc: the same for bf16 on channels-last operands (--conv-layout nhwc, as gpu-check's
// resnet20_steps_bf16_nhwc makes them): ResNet-20's stem, a 3x3 and a strided 3x3 at the check's
// batches, ResNet-50's stem and a 1x1; a stem (3 channels) without backward-data, as the graph
// makes a network input's.
//
//   gpu-probe [resnet20|resnet50|fpn|nhwc ...]   (default: all four)
#include <cuda_runtime.h>
#include <cudnn.h>
#include <stdio.h>
#include <string.h>

#include "core/status.h"
#include "nets/conv_cudnn.h"
#include "nets/model.h"

typedef struct {
    int n, cin, h, w, cout, k, stride, pad;
} shape;

static void print_list(db_cudnn *h, const db_cudnn_conv_dims *d, int pass, int measured) {
    db_cudnn_algo_info a[16];
    int n = 0;
    if (db_cudnn_conv_list(h, d, pass, measured, a, 16, &n) != DB_OK) {
        printf("    %-15s %s: %s\n", db_cudnn_pass_name(pass), measured ? "measured" : "heuristic", db_last_error());
        return;
    }
    printf("    %-15s %s:", db_cudnn_pass_name(pass), measured ? "measured " : "heuristic");
    for (int i = 0; i < n; i++) {
        printf(" [algo %d %s%s%s ws %.1fM", a[i].algo, a[i].status == CUDNN_STATUS_SUCCESS ? "ok" : cudnnGetErrorString((cudnnStatus_t)a[i].status),
               a[i].deterministic ? " det" : " nondet", a[i].tensor_ops ? " tensor-op" : " fma", a[i].workspace / 1048576.0);
        if (a[i].ms >= 0) printf(" %.3f ms", a[i].ms);
        printf("]");
    }
    printf("\n");
}

// nhwc: bf16 on channels-last operands (no backward-data for fewer than 8 channels: a network input's)
static int probe(db_cudnn *h, const char *net, const shape *s, int nhwc) {
    const int no_dx = nhwc && s->cin < 8;
    printf("%s: n %d, %d -> %d channels, %dx%d map, %dx%d kernel, stride %d, pad %d%s\n", net, s->n, s->cin, s->cout, s->h, s->w,
           s->k, s->k, s->stride, s->pad, nhwc ? no_dx ? ", bf16 channels-last, no backward-data" : ", bf16 channels-last" : "");
    int failed = 0;
    for (int det = 0; det < 2; det++) {
        db_cudnn_conv_dims d = {s->n, s->cin, s->h, s->w, s->cout, s->k, s->k, s->stride, s->stride, s->pad, s->pad, det, 0, 0,
                                nhwc, nhwc, no_dx};
        if (!det)
            for (int pass = 0; pass < DB_CONV_PASSES; pass++) {
                print_list(h, &d, pass, 0);
                print_list(h, &d, pass, 1);
            }
        db_cudnn_conv *c = NULL;
        size_t ws = 0;
        char how[400];
        if (db_cudnn_conv_create(&c, h, &d, &ws) == DB_OK) {
            db_cudnn_conv_describe(c, how, sizeof how);
            printf("  chosen (%s): %s; workspace %.1f MiB\n", det ? "deterministic" : "fastest", how, ws / 1048576.0);
        } else {
            printf("  NO CHOICE (%s): %s\n", det ? "deterministic" : "fastest", db_last_error());
            failed = 1;
        }
        db_cudnn_conv_destroy(c);
    }
    fflush(stdout);
    return failed;
}

// the distinct convolution shapes of one of the engine's networks
static int probe_model(db_cudnn *h, const char *arch, int hw, int classes, int batch) {
    db_model_config mc;
    db_graph g;
    if (db_model_defaults(&mc, arch) != DB_OK) return 1;
    mc.in_c = 3; mc.in_h = mc.in_w = hw; mc.classes = classes;
    mc.unfused = 1;
    if (db_model_build(&g, &mc, batch) != DB_OK) { printf("%s: %s\n", arch, db_last_error()); return 1; }
    shape seen[128];
    int n_seen = 0, failed = 0;
    for (int i = 0; i < g.n_ops; i++) {
        const db_op *op = &g.ops[i];
        if (op->kind != DB_OP_CONV) continue;
        const db_conv_dims *c = &op->u.conv;
        shape s = {batch, c->cin, c->h, c->w, c->cout, c->kh, c->sh, c->ph}; // square kernels
        int known = 0;
        for (int j = 0; j < n_seen && !known; j++) known = !memcmp(&seen[j], &s, sizeof s);
        if (known || n_seen == 128) continue;
        seen[n_seen++] = s;
        failed |= probe(h, arch, &s, 0);
    }
    db_graph_free(&g);
    return failed;
}

// RetinaNet's FPN on ResNet-50 at 640x640 (C3-C5 at 80, 40, 20): laterals, outputs, P6 from C5,
// P7, and a head layer and its class (9 anchors x 80) and box (9 x 4) outputs on P3
static int probe_fpn(db_cudnn *h) {
    static const shape s[] = {{8, 512, 80, 80, 256, 1, 1, 0},   {8, 1024, 40, 40, 256, 1, 1, 0}, {8, 2048, 20, 20, 256, 1, 1, 0},
                              {8, 256, 80, 80, 256, 3, 1, 1},   {8, 256, 40, 40, 256, 3, 1, 1},  {8, 256, 20, 20, 256, 3, 1, 1},
                              {8, 2048, 20, 20, 256, 3, 2, 1},  {8, 256, 10, 10, 256, 3, 2, 1},  {8, 256, 80, 80, 720, 3, 1, 1},
                              {8, 256, 80, 80, 36, 3, 1, 1}};
    int failed = 0;
    for (size_t i = 0; i < sizeof s / sizeof *s; i++) failed |= probe(h, "fpn", &s[i], 0);
    return failed;
}

// bf16 on channels-last operands: ResNet-20's stem at the whole-step check's training and
// evaluation batches (32, 20), its 3x3 and its strided 3x3, ResNet-50's stem and a 1x1 (batch 64)
static int probe_nhwc(db_cudnn *h) {
    static const shape s[] = {{32, 3, 32, 32, 16, 3, 1, 1},  {20, 3, 32, 32, 16, 3, 1, 1},   {32, 16, 32, 32, 16, 3, 1, 1},
                              {32, 16, 32, 32, 32, 3, 2, 1}, {64, 3, 224, 224, 64, 7, 2, 3}, {64, 256, 56, 56, 64, 1, 1, 0}};
    int failed = 0;
    for (size_t i = 0; i < sizeof s / sizeof *s; i++) failed |= probe(h, "nhwc", &s[i], 1);
    return failed;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices < 1) {
        printf("gpu-probe: no CUDA device\n");
        return 2;
    }
    db_cudnn *h = NULL;
    if (db_cudnn_create(&h) != DB_OK) { printf("gpu-probe: %s\n", db_last_error()); return 1; }
    printf("gpu-probe: cuDNN %zu, fp32 data on packed NCHW (nhwc: bf16 on channels-last)\n", db_cudnn_version());
    int failed = 0;
    for (int i = argc > 1 ? 1 : 0; i < (argc > 1 ? argc : 1); i++) {
        const char *what = argc > 1 ? argv[i] : "all";
        int all = !strcmp(what, "all");
        if (all || !strcmp(what, "resnet20")) failed |= probe_model(h, "resnet20", 32, 10, 128);
        if (all || !strcmp(what, "resnet50")) failed |= probe_model(h, "resnet50", 224, 1000, 64);
        if (all || !strcmp(what, "fpn")) failed |= probe_fpn(h);
        if (all || !strcmp(what, "nhwc")) failed |= probe_nhwc(h);
    }
    db_cudnn_destroy(h);
    printf("gpu-probe: %s\n", failed ? "some shapes have no usable algorithm (NO CHOICE above)" : "every shape has its algorithms");
    return failed;
}
