/* The optimizers' updates (SGD with momentum and weight decay, RMSProp, the weights' moving
 * average), the learning-rate schedules, and the random numbers: Philox known answers and the
 * bulk generator against the scalar one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/philox.h"
#include "core/rand_bulk.h"
#include "nets/optim.h"
#include "nets/sgd.h"
#include "tests/check.h"
#include "tests/gradcheck.h"

static void test_sgd_update(void) {
    /* one element by hand: g = 0.5, p = 2, v = 1, lr 0.1, mu 0.9, wd 0.01 */
    float p = 2.0f, v = 1.0f;
    db_sgd_element(&p, &v, 0.5f, 0.1f, 0.9f, 0.01f, 0);
    CHECK_CLOSE(v, 0.9 + 0.52, 1e-6, 0);
    CHECK_CLOSE(p, 2.0 - 0.1 * 1.42, 1e-6, 0);
    p = 2.0f; v = 1.0f;
    db_sgd_element(&p, &v, 0.5f, 0.1f, 0.9f, 0.01f, 1);
    CHECK_CLOSE(p, 2.0 - 0.1 * (0.52 + 0.9 * 1.42), 1e-6, 0);
    /* weight decay skips BN/bias parameters unless asked */
    db_graph g;
    tc_tiny_resnet8(&g, 4, 2, 1);
    db_graph_init_params(&g, 1);
    memset(g.grad_arena.base, 0, g.grad_arena.size * sizeof(float));
    db_sgd opt;
    db_sgd_config sc = {.weight_decay = 0.5f};
    CHECK_OK(db_sgd_init(&opt, &g, &sc));
    float conv0 = g.params[0].data[0];
    db_sgd_step(&opt, &g, 1.0f);
    CHECK_CLOSE(g.params[0].data[0], conv0 * 0.5, 1e-7, 0);
    CHECK(g.params[1].data[0] == 1.0f, "BN gamma decayed to %g", g.params[1].data[0]);
    opt.cfg.decay_bn_bias = 1;
    db_sgd_step(&opt, &g, 1.0f);
    CHECK(g.params[1].data[0] == 0.5f, "decay_bn_bias: gamma %g", g.params[1].data[0]);
    db_sgd_free(&opt);
    db_graph_free(&g);
}

/* TensorFlow 1's RMSProp by hand (p 2, g 0.5, wd 0.01, lr 0.1, decay 0.9, momentum 0.9, epsilon
 * 1, the mean square from 1): two steps, numbers worked in double precision */
static void test_rmsprop_update(void) {
    float p = 2.0f, mom = 0.0f, ms = 1.0f;
    db_rmsprop_element(&p, &mom, &ms, 0.5f, 0.1f, 0.9f, 0.9f, 1.0f, 0.01f);
    CHECK_CLOSE(ms, 0.92704, 1e-6, 0);
    CHECK_CLOSE(mom, 0.0374591552, 1e-6, 0);
    CHECK_CLOSE(p, 1.9625408448, 1e-6, 0);
    db_rmsprop_element(&p, &mom, &ms, 0.5f, 0.1f, 0.9f, 0.9f, 1.0f, 0.01f);
    CHECK_CLOSE(ms, 0.8613370565, 1e-6, 0);
    CHECK_CLOSE(mom, 0.0718003363, 1e-6, 0);
    CHECK_CLOSE(p, 1.8907405085, 1e-6, 0);
    /* through the optimizer: the state holds velocity and mean squares (from 1) */
    db_graph g;
    tc_tiny_resnet8(&g, 4, 2, 1);
    db_graph_init_params(&g, 1);
    for (size_t i = 0; i < g.grad_arena.size; i++) g.grad_arena.base[i] = 0.5f;
    db_sgd opt;
    db_sgd_config sc = {.momentum = 0.9f, .rmsprop = 1, .rms_decay = 0.9f, .rms_epsilon = 1.0f};
    CHECK_OK(db_sgd_init(&opt, &g, &sc));
    CHECK(opt.velocity.size == 2 * g.param_arena.size && opt.mean_square && opt.mean_square[0] == 1.0f && !opt.ema_params,
          "RMSProp state: %zu values for %zu parameters", opt.velocity.size, g.param_arena.size);
    const float w0 = g.params[0].data[0];
    db_sgd_step(&opt, &g, 0.1f);
    CHECK_CLOSE(g.params[0].data[0], w0 - 0.1 * 0.5 / sqrt(0.9 + 0.1 * 0.25 + 1.0), 1e-6, 0);
    db_sgd_free(&opt);
    db_graph_free(&g);
}

/* The moving average of the weights: TensorFlow's warm-up min(decay, (1+t)/(10+t)), the running
 * statistics averaged too, and the exchange for evaluation undone exactly */
static void test_weight_ema(void) {
    db_graph g;
    tc_tiny_resnet8(&g, 4, 2, 1);
    db_graph_init_params(&g, 1);
    for (size_t i = 0; i < g.param_arena.size; i++) g.param_arena.base[i] = 3.0f;
    for (size_t i = 0; i < g.state_arena.size; i++) g.state_arena.base[i] = 2.0f;
    db_sgd opt;
    db_sgd_config sc = {.momentum = 0.9f, .ema_decay = 0.9999f};
    CHECK_OK(db_sgd_init(&opt, &g, &sc));
    CHECK(opt.velocity.size == 2 * g.param_arena.size + g.state_arena.size && opt.ema_params[0] == 3.0f &&
          opt.ema_state[0] == 2.0f, "the average starts from the weights (%zu values)", opt.velocity.size);
    for (size_t i = 0; i < g.param_arena.size; i++) g.param_arena.base[i] = 1.0f;
    for (size_t i = 0; i < g.state_arena.size; i++) g.state_arena.base[i] = 0.0f;
    db_sgd_ema_update(&opt, &g, 1); /* decay 2/11: 3 - (9/11)(3 - 1) */
    CHECK_CLOSE(opt.ema_params[5], 3.0 - (9.0 / 11.0) * 2.0, 1e-6, 0);
    CHECK_CLOSE(opt.ema_state[1], 2.0 - (9.0 / 11.0) * 2.0, 1e-6, 0);
    db_sgd_ema_update(&opt, &g, 1000000); /* late: the decay itself */
    CHECK_CLOSE(opt.ema_params[5], 1.0 + 0.9999 * (3.0 - (9.0 / 11.0) * 2.0 - 1.0), 1e-6, 0);
    const float avg = opt.ema_params[5];
    db_sgd_ema_swap(&opt, &g);
    CHECK(g.param_arena.base[5] == avg && opt.ema_params[5] == 1.0f, "swap: weight %g, average %g", g.param_arena.base[5],
          opt.ema_params[5]);
    db_sgd_ema_swap(&opt, &g);
    CHECK(g.param_arena.base[5] == 1.0f && opt.ema_params[5] == avg && g.state_arena.base[1] == 0.0f,
          "swapped back: weight %g", g.param_arena.base[5]);
    db_sgd_free(&opt);
    db_graph_free(&g);
}

static void test_lr_schedules(void) {
    db_lr_schedule s = {.kind = DB_LR_STEP, .base = 0.4f, .gamma = 0.1f, .n_milestones = 3,
                        .milestones = {125, 200, 250}, .warmup_epochs = 5, .warmup_start = 0.0f};
    CHECK_CLOSE(db_lr_at(&s, 0.0, 270), 0.0, 1e-9, 0);
    CHECK_CLOSE(db_lr_at(&s, 2.5, 270), 0.2, 1e-6, 0);
    CHECK_CLOSE(db_lr_at(&s, 100, 270), 0.4, 1e-6, 0);
    CHECK_CLOSE(db_lr_at(&s, 125, 270), 0.04, 1e-6, 0);
    CHECK_CLOSE(db_lr_at(&s, 249.9, 270), 0.004, 1e-6, 0);
    CHECK_CLOSE(db_lr_at(&s, 260, 270), 0.0004, 1e-7, 0);
    db_lr_schedule c = {.kind = DB_LR_COSINE, .base = 0.1f, .final = 0.0f};
    CHECK_CLOSE(db_lr_at(&c, 0, 10), 0.1, 1e-7, 0);
    CHECK_CLOSE(db_lr_at(&c, 5, 10), 0.05, 1e-7, 0);
    CHECK_CLOSE(db_lr_at(&c, 10, 10), 0.0, 1e-7, 0);
    c.warmup_epochs = 2; c.warmup_start = 0.1f;
    CHECK_CLOSE(db_lr_at(&c, 0, 10), 0.01, 1e-7, 0);
    CHECK_CLOSE(db_lr_at(&c, 2, 10), 0.1, 1e-7, 0);
    CHECK_CLOSE(db_lr_at(&c, 6, 10), 0.05, 1e-7, 0);
    /* exponential, staircase from epoch 0 (the official AmoebaNet code's), warm-up over it, a floor */
    db_lr_schedule e = {.kind = DB_LR_EXPONENTIAL, .base = 1.0f, .decay_rate = 0.5f, .decay_epochs = 2.4f, .final = 0.1f};
    CHECK_CLOSE(db_lr_at(&e, 0, 100), 1.0, 1e-7, 0);
    CHECK_CLOSE(db_lr_at(&e, 2.39, 100), 1.0, 1e-7, 0);
    CHECK_CLOSE(db_lr_at(&e, 2.4, 100), 0.5, 1e-7, 0);
    CHECK_CLOSE(db_lr_at(&e, 5.0, 100), 0.25, 1e-7, 0);
    CHECK_CLOSE(db_lr_at(&e, 50, 100), 0.1, 1e-7, 0);
    /* the 141st boundary (the official 0.97 every 2.4 epochs over 340), on the dot: decayed there */
    db_lr_schedule o = {.kind = DB_LR_EXPONENTIAL, .base = 1.0f, .decay_rate = 0.97f, .decay_epochs = 2.4f};
    CHECK_CLOSE(db_lr_at(&o, 141 * 2.4, 340) / db_lr_at(&o, 141 * 2.4 - 0.001, 340), 0.97, 1e-6, 0);
    e.warmup_epochs = 3, e.warmup_start = 0.0f;
    CHECK_CLOSE(db_lr_at(&e, 0.0, 100), 0.1, 1e-7, 0); /* the floor through the warm-up */
    CHECK_CLOSE(db_lr_at(&e, 1.5, 100), 0.5, 1e-7, 0);
    CHECK_CLOSE(db_lr_at(&e, 3.0, 100), 0.5, 1e-7, 0);
}

static void test_philox_known_answers(void) {
    /* Random123's published Philox4x32-10 test vectors */
    db_u32x4 z = {{0, 0, 0, 0}}, f = {{~0u, ~0u, ~0u, ~0u}};
    db_u32x4 pi = {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}};
    db_u32x4 r = db_philox4x32_10(z, 0, 0);
    CHECK(r.v[0] == 0x6627e8d5u && r.v[1] == 0xe169c58du && r.v[2] == 0xbc57ac4cu && r.v[3] == 0x9b00dbd8u,
          "zero vector: %08x %08x %08x %08x", r.v[0], r.v[1], r.v[2], r.v[3]);
    r = db_philox4x32_10(f, ~0u, ~0u);
    CHECK(r.v[0] == 0x408f276du && r.v[1] == 0x41c83b0eu && r.v[2] == 0xa20bc7c6u && r.v[3] == 0x6d5451fdu,
          "ones vector: %08x %08x %08x %08x", r.v[0], r.v[1], r.v[2], r.v[3]);
    r = db_philox4x32_10(pi, 0xa4093822u, 0x299f31d0u);
    CHECK(r.v[0] == 0xd16cfe09u && r.v[1] == 0x94fdccebu && r.v[2] == 0x5001e420u && r.v[3] == 0x24126ea1u,
          "pi vector: %08x %08x %08x %08x", r.v[0], r.v[1], r.v[2], r.v[3]);
    /* uniform draws: mean near 1/2 */
    double s = 0;
    for (int i = 0; i < 100000; i++) s += db_u01(db_rand4(42, 1, 0, (uint64_t)i).v[0]);
    CHECK(fabs(s / 100000 - 0.5) < 0.005, "mean of uniforms %g", s / 100000);
}

/* The bulk (vectorised) generator returns exactly db_rand4's words, for any start and length,
 * across a carry into the index's high word. */
static void test_rand_words_match_scalar(void) {
    static const uint64_t starts[] = {0, 1, 3, 5, 31, 4095, (1ull << 34) - 13, 0x7fffffffull * 4 - 6};
    static const int counts[] = {0, 1, 3, 4, 7, 32, 33, 100, 257};
    uint32_t out[300];
    int bad = 0;
    for (size_t a = 0; a < sizeof starts / sizeof *starts; a++)
        for (size_t b = 0; b < sizeof counts / sizeof *counts; b++) {
            out[counts[b]] = 0xdeadbeefu;
            db_rand_words(out, 0x123456789abcdefull, 77, 9, starts[a], counts[b]);
            for (int i = 0; i < counts[b]; i++) {
                uint64_t u = starts[a] + (uint64_t)i;
                bad += out[i] != db_rand4(0x123456789abcdefull, 77, 9, u >> 2).v[u & 3];
            }
            bad += out[counts[b]] != 0xdeadbeefu; /* nothing written past count */
        }
    CHECK(bad == 0, "%d bulk words differ from db_rand4 (or overran)", bad);
    /* the bulk flags against the per-unit body, thresholds with many ties (top byte 3), none
     * below (0), everything below (2^24), at unaligned starts */
    static const uint32_t ts[] = {3u << 16 | 0x8000u, 0, 1u << 24, 0x00e6a0u, 200u << 16};
    int nbad = 0, ties = 0;
    uint8_t flags[1100];
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 0; b < sizeof ts / sizeof *ts; b++) {
            uint64_t u0 = starts[a] * 7 + 3;
            db_rand_below(flags, 42, 5, 6, u0, 1037, ts[b]);
            for (int i = 0; i < 1037; i++) {
                nbad += flags[i] != db_rare_below(42, 5, 6, u0 + (uint64_t)i, ts[b]);
                db_u32x4 r = db_rand4(42, 5, 6, (u0 + (uint64_t)i) >> 4);
                ties += ((r.v[((u0 + (uint64_t)i) >> 2) & 3] >> (8 * ((u0 + i) & 3))) & 0xff) == (ts[b] >> 16);
            }
        }
    CHECK(nbad == 0 && ties > 20, "%d bulk rare-event decisions differ from db_rare_below (%d ties seen)", nbad, ties);
    /* the decision is a uniform draw: P(below) = t / 2^24 */
    long below = 0;
    for (uint64_t u = 0; u < 400000; u++) below += db_rare_below(9, 1, 2, u, 0x00e6a0u);
    CHECK(fabs(below / 400000.0 - 0x00e6a0 / 16777216.0) < 4 * sqrt(0.0035 / 400000.0),
          "rare-event rate %.5f, want %.5f", below / 400000.0, 0x00e6a0 / 16777216.0);
}

const db_test db_tests_optim[] = {
    {"philox_known_answers", test_philox_known_answers},
    {"rand_words_match_scalar", test_rand_words_match_scalar},
    {"sgd_update_and_weight_decay", test_sgd_update},
    {"lr_schedules", test_lr_schedules},
    {"rmsprop_update", test_rmsprop_update},
    {"weight_ema", test_weight_ema},
    {NULL, NULL},
};
