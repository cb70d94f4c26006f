/* DropBlock, paper semantics: the expected-fraction formula against dropblock.md's table, the
 * realised fraction against the formula on many shapes, block geometry, channel drop when the
 * block covers the map, normalisation (batch and per sample), nothing kept, the backward. */
#include <stdlib.h>
#include <string.h>

#include "dropouts/dropblock.h"
#include "dropouts/schedule.h"
#include "tests/check.h"
#include "tests/gradcheck.h"

static void test_expected_fraction_table(void) {
    struct { int map, k; double want; } t[] = {{56, 7, 0.0946}, {28, 7, 0.0939}, {14, 7, 0.0929},
                                               {14, 5, 0.0938}, {7, 7, 0.1000}, {7, 3, 0.0947}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        db_dropblock_cfg cfg = {t[i].k, 0, DB_SEM_PAPER};
        double e = db_dropblock_expected_fraction(&cfg, 0.9f, t[i].map, t[i].map);
        CHECK(fabs(e - t[i].want) <= 5e-5 + 1e-9, "%dx%d k%d: %.5f, table %.4f", t[i].map, t[i].map, t[i].k, e, t[i].want);
    }
    /* eq. 1 for square maps */
    CHECK_CLOSE(db_dropblock_gamma(0.9f, 7, 14, 14), 0.1 / 49 * 196 / 64, 1e-7, 1e-6);
}

typedef struct { int n, c, h, w; float *x, *y; uint8_t *m; float *s; } buf;
static buf alloc_buf(int n, int c, int h, int w) {
    buf b = {n, c, h, w, NULL, NULL, NULL, NULL};
    size_t len = (size_t)n * c * h * w;
    b.x = malloc(len * sizeof(float)); b.y = malloc(len * sizeof(float));
    b.m = malloc(len); b.s = malloc((size_t)n * sizeof(float));
    for (size_t i = 0; i < len; i++) b.x[i] = 1.0f;
    return b;
}
static void free_buf(buf *b) { free(b->x); free(b->y); free(b->m); free(b->s); }

static void test_realised_fraction(void) {
    struct { int h, w, k; float kp; } t[] = {{14, 14, 7, 0.9f}, {13, 9, 4, 0.9f}, {7, 7, 7, 0.9f},
                                            {5, 6, 9, 0.8f}, {28, 28, 1, 0.9f}, {10, 16, 3, 0.7f}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        /* enough planes that the sd of the fraction is about 0.001 even when one block covers
         * the map (then every plane is a single Bernoulli draw) */
        int kh = t[i].k < t[i].h ? t[i].k : t[i].h, kw = t[i].k < t[i].w ? t[i].k : t[i].w;
        long planes = 200000L * kh * kw / (t[i].h * t[i].w);
        if (planes < 4096) planes = 4096;
        buf b = alloc_buf((int)(planes / 64), 64, t[i].h, t[i].w);
        db_drop_key k = {7, 1, 3, t[i].kp};
        db_dropblock_cfg cfg = {t[i].k, 0, DB_SEM_PAPER};
        CHECK_OK(db_dropblock_check(&k, &cfg, b.c, b.n, b.h, b.w));
        uint64_t dropped = db_dropblock_forward(b.y, b.m, b.s, b.x, &k, &cfg, b.c, b.n, b.h, b.w);
        double units = (double)b.n * b.c * b.h * b.w, frac = dropped / units;
        double want = db_dropblock_expected_fraction(&cfg, t[i].kp, t[i].h, t[i].w);
        CHECK(fabs(frac - want) <= 0.003, "%dx%d k%d keep %g: realised %.4f, expected %.4f", t[i].h, t[i].w,
              t[i].k, t[i].kp, frac, want);
        /* batch normalisation: the output sums to the input's sum (all ones) */
        double sum = 0;
        for (size_t j = 0; j < (size_t)units; j++) sum += b.y[j];
        CHECK(fabs(sum - units) <= 1e-3 * units, "sum of outputs %.1f, of inputs %.0f", sum, units);
        free_buf(&b);
    }
}

/* Every dropped unit lies in a kh x kw square of dropped units centred on a valid seed. */
static void test_block_geometry(void) {
    int h = 11, w = 8, k = 4, kh = 4, kw = 4;
    buf b = alloc_buf(8, 16, h, w);
    db_drop_key key = {3, 0, 0, 0.8f};
    db_dropblock_cfg cfg = {k, 0, DB_SEM_PAPER};
    db_dropblock_forward(b.y, b.m, b.s, b.x, &key, &cfg, b.c, b.n, h, w);
    long bad = 0, blocks = 0;
    for (int p = 0; p < b.c * b.n; p++) {
        const uint8_t *m = b.m + (size_t)p * h * w;
        uint8_t cover[11 * 8] = {0};
        for (int sy = kh / 2; sy < h - (kh - 1) / 2; sy++)
            for (int sx = kw / 2; sx < w - (kw - 1) / 2; sx++) {
                int full = 1;
                for (int y = sy - kh / 2; y < sy - kh / 2 + kh; y++)
                    for (int x = sx - kw / 2; x < sx - kw / 2 + kw; x++) full &= m[y * w + x];
                if (!full) continue;
                blocks++;
                for (int y = sy - kh / 2; y < sy - kh / 2 + kh; y++)
                    for (int x = sx - kw / 2; x < sx - kw / 2 + kw; x++) cover[y * w + x] = 1;
            }
        for (int i = 0; i < h * w; i++) bad += m[i] != cover[i];
    }
    CHECK(blocks > 0, "no blocks dropped");
    CHECK(bad == 0, "%ld dropped units outside any whole valid block", bad);
    free_buf(&b);
}

static void test_channel_drop_and_edges(void) {
    buf b = alloc_buf(32, 32, 5, 4);
    db_drop_key key = {1, 0, 0, 0.75f};
    db_dropblock_cfg cfg = {9, 0, DB_SEM_PAPER}; /* larger than the map: whole channels */
    uint64_t dropped = db_dropblock_forward(b.y, b.m, b.s, b.x, &key, &cfg, b.c, b.n, 5, 4);
    long mixed = 0;
    for (int p = 0; p < 32 * 32; p++) {
        int z = 0;
        for (int i = 0; i < 20; i++) z += b.m[p * 20 + i];
        mixed += z != 0 && z != 20;
    }
    CHECK(mixed == 0, "%ld planes partly dropped with a block over the whole map", mixed);
    double frac = dropped / (32.0 * 32 * 20);
    CHECK(fabs(frac - 0.25) <= 4 * sqrt(0.25 * 0.75 / 1024), "channel drop fraction %.4f", frac);
    /* nothing kept: zeros, not NaN */
    key.keep_prob = 1e-6f;
    db_dropblock_forward(b.y, b.m, b.s, b.x, &key, &cfg, b.c, b.n, 5, 4);
    long nonzero = 0;
    for (int i = 0; i < 32 * 32 * 20; i++) nonzero += b.y[i] != 0.0f;
    CHECK(nonzero == 0 && b.s[0] == 0.0f, "all dropped: %ld non-zero outputs, scale %g", nonzero, b.s[0]);
    /* keep_prob 1: identity */
    key.keep_prob = 1.0f;
    CHECK(db_dropblock_forward(b.y, b.m, b.s, b.x, &key, &cfg, b.c, b.n, 5, 4) == 0, "keep_prob 1 dropped units");
    cfg.block_size = 0;
    CHECK(db_dropblock_check(&key, &cfg, 1, 1, 1, 1) == DB_ERR_ARG, "block size 0 accepted");
    free_buf(&b);
}

static void test_per_sample_and_backward(void) {
    buf b = alloc_buf(16, 8, 9, 9);
    db_drop_key key = {5, 2, 9, 0.8f};
    db_dropblock_cfg cfg = {3, 1, DB_SEM_PAPER};
    db_dropblock_forward(b.y, b.m, b.s, b.x, &key, &cfg, b.c, b.n, 9, 9);
    int bad_sum = 0;
    for (int j = 0; j < b.n; j++) { /* each sample's outputs sum to its unit count */
        double s = 0;
        for (int ch = 0; ch < b.c; ch++)
            for (int i = 0; i < 81; i++) s += b.y[((size_t)ch * b.n + j) * 81 + i];
        bad_sum += fabs(s - 8 * 81) > 1e-2;
    }
    CHECK(bad_sum == 0, "%d samples not normalised to their own count", bad_sum);
    size_t len = (size_t)b.n * b.c * 81;
    float *dy = malloc(len * sizeof(float)), *dx = malloc(len * sizeof(float));
    tc_fill(dy, len, 6, -1, 1);
    db_dropblock_backward(dx, dy, b.m, b.s, b.c, b.n, 9, 9, 0);
    long bad = 0;
    for (size_t i = 0; i < len; i++) bad += dx[i] != (b.m[i] ? 0.0f : dy[i] * b.s[(i / 81) % b.n]);
    CHECK(bad == 0, "%ld gradients pass where the mask dropped or are scaled wrongly", bad);
    free(dy); free(dx);
    free_buf(&b);
}

/* The CPU's scatter of blocks from seeds and the per-unit gather the GPU runs give the same
 * mask, bit for bit, including odd and even blocks and blocks clipped to the map. */
static void test_scatter_equals_gather(void) {
    /* keep_prob 0.7 mostly; 0.2 and 0.05 give groups of several seeds (beyond four: more than
     * one draw for their places) */
    struct { int h, w, k; db_semantics sem; float kp; } t[] = {
        {9, 7, 3, DB_SEM_PAPER, 0.7f},     {8, 8, 4, DB_SEM_PAPER, 0.7f},    {5, 6, 9, DB_SEM_PAPER, 0.7f},
        {12, 5, 2, DB_SEM_PAPER, 0.7f},    {9, 7, 4, DB_SEM_TIMM, 0.7f},     {8, 8, 3, DB_SEM_TORCHVISION, 0.7f},
        {10, 7, 4, DB_SEM_MIGUELVR, 0.7f}, {7, 5, 6, DB_SEM_MIGUELVR, 0.7f}, {6, 9, 3, DB_SEM_TIMM, 0.7f},
        {9, 7, 2, DB_SEM_PAPER, 0.2f},     {6, 9, 1, DB_SEM_TIMM, 0.05f},    {11, 3, 1, DB_SEM_PAPER, 0.05f}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        int h = t[i].h, w = t[i].w;
        buf b = alloc_buf(6, 5, h, w);
        db_drop_key key = {11, 4, 2, t[i].kp};
        db_dropblock_cfg cfg = {t[i].k, 0, t[i].sem};
        db_dropblock_forward(b.y, b.m, b.s, b.x, &key, &cfg, b.c, b.n, h, w);
        db_dropblock_rules r = db_dropblock_rules_for(&cfg, key.keep_prob, h, w);
        long differ = 0, drops = 0;
        for (int ch = 0; ch < b.c; ch++)
            for (int j = 0; j < b.n; j++) {
                uint64_t base = db_dropblock_base(&r, j, ch, b.c);
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) {
                        int g = db_dropblock_dropped(&key, &r, base, y, x);
                        differ += g != b.m[((size_t)ch * b.n + j) * h * w + y * w + x];
                        drops += g;
                    }
            }
        CHECK(drops > 0 && differ == 0, "%s %dx%d k%d: %ld of the units differ (%ld dropped)",
              db_semantics_name(t[i].sem), h, w, t[i].k, differ, drops);
        free_buf(&b);
    }
}

/* A group's seeds are 16 independent draws of probability gamma: each place's rate, a pair's
 * joint rate, and how many a group holds against the binomial, at a small, a middle and a large
 * gamma; gamma 0 seeds nothing and gamma 1 everything. */
static void test_group_seeds(void) {
    struct { int k; db_semantics sem; float kp; int h; } t[] = {
        {3, DB_SEM_PAPER, 0.9f, 28}, {3, DB_SEM_PAPER, 0.9f, 7},  {1, DB_SEM_PAPER, 0.5f, 4},
        {1, DB_SEM_MIGUELVR, 0.1f, 4}, {1, DB_SEM_MIGUELVR, 0.75f, 4}, {3, DB_SEM_PAPER, 1.0f, 28},
        {1, DB_SEM_MIGUELVR, 1e-9f, 4}};
    enum { GROUPS = 200000 };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        db_dropblock_cfg cfg = {t[i].k, 0, t[i].sem};
        db_drop_key key = {5, 3, 17, t[i].kp};
        db_dropblock_rules r = db_dropblock_rules_for(&cfg, t[i].kp, t[i].h, t[i].h);
        const double g = r.gamma > 1.0f ? 1.0 : r.gamma;
        long at[16] = {0}, pair = 0, count[17] = {0};
        for (uint64_t grp = 0; grp < GROUPS; grp++) {
            uint32_t bits = db_dropblock_group_seeds(&key, &r, grp, db_dropblock_group_word(&key, grp));
            for (int p = 0; p < 16; p++) at[p] += bits >> p & 1;
            pair += (bits >> 3 & 1) && (bits >> 12 & 1);
            count[__builtin_popcount(bits)]++;
        }
        int bad = 0;
        const double sd1 = sqrt(g * (1 - g) / GROUPS), sd2 = sqrt(g * g * (1 - g * g) / GROUPS);
        for (int p = 0; p < 16; p++) bad += fabs((double)at[p] / GROUPS - g) > 5 * sd1 + 1e-12;
        bad += fabs((double)pair / GROUPS - g * g) > 5 * sd2 + 1e-12;
        for (int m = 0; m <= 16; m++) { /* P(m seeds) = C(16, m) g^m (1-g)^(16-m) */
            double pm = pow(g, m) * pow(1 - g, 16 - m);
            for (int j = 0; j < m; j++) pm = pm * (16 - j) / (j + 1);
            bad += fabs((double)count[m] / GROUPS - pm) > 5 * sqrt(pm * (1 - pm) / GROUPS) + 1e-12;
        }
        CHECK(bad == 0, "gamma %.4g: %d rates off (place 0 %.5f, place 15 %.5f, pair %.5f, none %.5f)", g, bad,
              (double)at[0] / GROUPS, (double)at[15] / GROUPS, (double)pair / GROUPS, (double)count[0] / GROUPS);
        /* a lone seed's place is exactly floor(16 v / D) of the word's offset v in its interval
         * of width D: each place's first word, and the word before it on the place before */
        const uint64_t m0 = r.more[0], d = r.more[1] - r.more[0];
        int off = 0;
        for (uint64_t p = 1; d >= 16 && p < 16; p++) {
            const uint64_t v = (p * d + 15) / 16; /* ceil(p D / 16) */
            off += db_dropblock_group_seeds(&key, &r, 0, (uint32_t)(m0 + v)) != 1u << p;
            off += db_dropblock_group_seeds(&key, &r, 0, (uint32_t)(m0 + v - 1)) != 1u << (p - 1);
        }
        CHECK(off == 0, "gamma %.4g: %d places of a lone seed off their exact boundaries", g, off);
    }
}

/* Every preset: the realised fraction against its exact expectation on square and rectangular
 * maps, odd and even blocks, blocks larger than the map; the expectations against the
 * Monte-Carlo table of dropblock.md section 3 (+-0.005 there); normalisation keeps the mean. */
static void test_semantics_fractions(void) {
    struct { db_semantics sem; int h, w, k; float kp; } t[] = {
        {DB_SEM_TIMM, 14, 14, 7, 0.9f},     {DB_SEM_TIMM, 13, 9, 4, 0.9f},      {DB_SEM_TIMM, 5, 6, 9, 0.8f},
        {DB_SEM_TORCHVISION, 14, 14, 7, 0.9f}, {DB_SEM_TORCHVISION, 10, 16, 3, 0.7f},
        {DB_SEM_MIGUELVR, 14, 14, 7, 0.9f}, {DB_SEM_MIGUELVR, 13, 9, 4, 0.9f},  {DB_SEM_MIGUELVR, 5, 6, 9, 0.8f},
        {DB_SEM_DARKNET, 14, 14, 7, 0.9f},  {DB_SEM_DARKNET, 13, 9, 4, 0.8f},   {DB_SEM_DARKNET, 5, 6, 9, 0.8f}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        db_dropblock_cfg cfg = {t[i].k, 0, t[i].sem};
        /* enough independent planes for an sd of the fraction near 0.001 (as in
         * test_realised_fraction); a shared mask makes each sample one plane */
        int kh = t[i].k < t[i].h ? t[i].k : t[i].h, kw = t[i].k < t[i].w ? t[i].k : t[i].w;
        long planes = 200000L * kh * kw / (t[i].h * t[i].w);
        if (planes < 4096) planes = 4096;
        int shared = t[i].sem == DB_SEM_TIMM || t[i].sem == DB_SEM_MIGUELVR;
        buf b = alloc_buf((int)(shared ? planes : planes / 4), 4, t[i].h, t[i].w);
        db_drop_key k = {21, 2, 5, t[i].kp};
        CHECK_OK(db_dropblock_check(&k, &cfg, b.c, b.n, b.h, b.w));
        uint64_t dropped = db_dropblock_forward(b.y, b.m, b.s, b.x, &k, &cfg, b.c, b.n, b.h, b.w);
        double units = (double)b.n * b.c * b.h * b.w, frac = dropped / units, sum = 0;
        double want = db_dropblock_expected_fraction(&cfg, t[i].kp, t[i].h, t[i].w);
        CHECK(fabs(frac - want) <= 0.003, "%s %dx%d k%d keep %g: realised %.4f, expected %.4f",
              db_semantics_name(t[i].sem), t[i].h, t[i].w, t[i].k, t[i].kp, frac, want);
        for (size_t j = 0; j < (size_t)units; j++) sum += b.y[j];
        CHECK(fabs(sum - units) <= 1e-3 * units, "%s: sum of outputs %.1f, of inputs %.0f",
              db_semantics_name(t[i].sem), sum, units);
        free_buf(&b);
    }
    struct { db_semantics sem; int map; double mc; } mc[] = {
        {DB_SEM_PAPER, 56, 0.094},   {DB_SEM_PAPER, 14, 0.091},   {DB_SEM_PAPER, 7, 0.101},
        {DB_SEM_TIMM, 56, 0.111},    {DB_SEM_TIMM, 14, 0.205},    {DB_SEM_TIMM, 7, 0.933},
        {DB_SEM_MIGUELVR, 56, 0.090}, {DB_SEM_MIGUELVR, 14, 0.072}, {DB_SEM_MIGUELVR, 7, 0.056},
        {DB_SEM_DARKNET, 56, 0.016}, {DB_SEM_DARKNET, 14, 0.082}, {DB_SEM_DARKNET, 7, 0.100}};
    for (size_t i = 0; i < sizeof mc / sizeof *mc; i++) {
        db_dropblock_cfg cfg = {7, 0, mc[i].sem};
        double e = db_dropblock_expected_fraction(&cfg, 0.9f, mc[i].map, mc[i].map);
        CHECK(fabs(e - mc[i].mc) <= 0.0055, "%s %dx%d k7: expected %.4f, dropblock.md's estimate %.3f",
              db_semantics_name(mc[i].sem), mc[i].map, mc[i].map, e, mc[i].mc);
    }
}

/* What distinguishes the presets: shared masks, darknet's single corner block and per-sample
 * normalisation, the even-block offsets, torchvision's odd-only sizes, names. */
static void test_semantics_rules(void) {
    buf b = alloc_buf(24, 6, 9, 8);
    db_drop_key key = {8, 1, 4, 0.7f};
    for (int sem = DB_SEM_TIMM; sem <= DB_SEM_MIGUELVR; sem += DB_SEM_MIGUELVR - DB_SEM_TIMM) {
        db_dropblock_cfg cfg = {3, 0, (db_semantics)sem};
        db_dropblock_forward(b.y, b.m, b.s, b.x, &key, &cfg, b.c, b.n, 9, 8);
        long differ = 0;
        for (int ch = 1; ch < b.c; ch++) differ += memcmp(b.m + (size_t)ch * b.n * 72, b.m, (size_t)b.n * 72) != 0;
        CHECK(differ == 0, "%s: %ld channels' masks differ from channel 0's", db_semantics_name((db_semantics)sem), differ);
    }
    db_dropblock_cfg dk = {4, 0, DB_SEM_DARKNET};
    db_dropblock_forward(b.y, b.m, b.s, b.x, &key, &dk, b.c, b.n, 9, 8);
    long bad = 0, blocks = 0;
    for (int p = 0; p < b.c * b.n; p++) { /* nothing, or one whole 4x4 block */
        const uint8_t *m = b.m + (size_t)p * 72;
        int cnt = 0, y0 = 9, x0 = 8;
        for (int i = 0; i < 72; i++)
            if (m[i]) { cnt++; if (i / 8 < y0) y0 = i / 8; if (i % 8 < x0) x0 = i % 8; }
        if (!cnt) continue;
        blocks++;
        int whole = cnt == 16 && y0 + 4 <= 9 && x0 + 4 <= 8;
        for (int y = y0; whole && y < y0 + 4; y++)
            for (int x = x0; x < x0 + 4; x++) whole &= m[y * 8 + x];
        bad += !whole;
    }
    CHECK(blocks > 0 && bad == 0, "darknet: %ld of %ld planes hold something else than one 4x4 block", bad, blocks);
    int bad_sum = 0;
    for (int j = 0; j < b.n; j++) { /* per-sample normalisation */
        double s = 0;
        for (int ch = 0; ch < b.c; ch++)
            for (int i = 0; i < 72; i++) s += b.y[((size_t)ch * b.n + j) * 72 + i];
        bad_sum += fabs(s - 6 * 72) > 1e-2;
    }
    CHECK(bad_sum == 0, "darknet: %d samples not normalised to their own count", bad_sum);
    /* even blocks: the paper reaches up/left, miguelvr down/right */
    db_dropblock_cfg pk = {4, 0, DB_SEM_PAPER}, mk = {4, 0, DB_SEM_MIGUELVR};
    db_dropblock_rules pr = db_dropblock_rules_for(&pk, 0.9f, 9, 8), mr = db_dropblock_rules_for(&mk, 0.9f, 9, 8);
    CHECK(pr.ah == 2 && pr.ylo == 2 && pr.yhi == 7 && mr.ah == 1 && mr.ylo == 0 && mr.yhi == 8,
          "offsets: paper a=%d rows %d..%d, miguelvr a=%d rows %d..%d", pr.ah, pr.ylo, pr.yhi, mr.ah, mr.ylo, mr.yhi);
    CHECK_CLOSE(mr.gamma, 0.1 / 16, 1e-7, 1e-6);
    db_dropblock_cfg tv = {4, 0, DB_SEM_TORCHVISION};
    CHECK(db_dropblock_check(&key, &tv, 1, 1, 9, 8) == DB_ERR_ARG, "torchvision accepted an even block");
    db_semantics s;
    CHECK(db_semantics_parse("miguelvr", &s) == DB_OK && s == DB_SEM_MIGUELVR, "miguelvr not parsed");
    CHECK(db_semantics_parse("keras", &s) == DB_ERR_ARG, "unknown semantics accepted");
    free_buf(&b);
}

static void test_keep_prob_schedules(void) {
    /* linear from 1 to 0.9 over steps 0..1000 */
    CHECK(db_keep_prob_at(0.9f, 0, 1000, 1) == 1.0f, "step 0");
    CHECK_CLOSE(db_keep_prob_at(0.9f, 500, 1000, 1), 0.95, 1e-7, 0);
    CHECK_CLOSE(db_keep_prob_at(0.9f, 1000, 1000, 1), 0.9, 1e-7, 0);
    CHECK_CLOSE(db_keep_prob_at(0.9f, 5000, 1000, 1), 0.9, 1e-7, 0);
    CHECK_CLOSE(db_keep_prob_at(0.9f, 250, 1000, 0), 0.9, 1e-7, 0); /* fixed */
    /* ResNet-50, groups 3 and 4 of 4: group 4 at p, group 3 at p/4 */
    CHECK_CLOSE(db_group_keep_prob(0.9f, 4, 4, 1), 0.9, 1e-7, 0);
    CHECK_CLOSE(db_group_keep_prob(0.9f, 3, 4, 1), 0.975, 1e-7, 0);
    CHECK_CLOSE(db_group_keep_prob(0.9f, 1, 3, 1), 1.0 - 0.1 / 16, 1e-7, 0);
    CHECK_CLOSE(db_group_keep_prob(0.9f, 3, 4, 0), 0.9, 1e-7, 0);
}

/* Each plane's dropped units as a bounding box; 0 when the plane drops nothing. cnt gets the count. */
static int plane_box(const uint8_t *m, int h, int w, int *y0, int *x0, int *y1, int *x1, int *cnt) {
    *y0 = h; *x0 = w; *y1 = -1; *x1 = -1; *cnt = 0;
    for (int i = 0; i < h * w; i++)
        if (m[i]) {
            int y = i / w, x = i % w;
            (*cnt)++;
            if (y < *y0) *y0 = y;
            if (x < *x0) *x0 = x;
            if (y > *y1) *y1 = y;
            if (x > *x1) *x1 = x;
        }
    return *cnt > 0;
}

/* darknet wraps a corner past the last one that fits back by m - k before clamping it: on a
 * 14x14 map with k = 7 the corners spread over 0..7 (the ends at half weight), where clamping
 * alone would put half of all blocks at 7. The position distribution, not only the fraction. */
static void test_darknet_positions(void) {
    buf b = alloc_buf(64, 64, 14, 14);
    db_dropblock_cfg dk = {7, 0, DB_SEM_DARKNET};
    long hist[8] = {0}, blocks = 0, bad = 0;
    for (uint64_t step = 0; step < 4; step++) {
        db_drop_key key = {11, 2, step, 0.5f};
        db_dropblock_forward(b.y, b.m, b.s, b.x, &key, &dk, b.c, b.n, 14, 14);
        for (int p = 0; p < b.c * b.n; p++) {
            int y0, x0, y1, x1, cnt;
            if (!plane_box(b.m + (size_t)p * 196, 14, 14, &y0, &x0, &y1, &x1, &cnt)) continue;
            blocks++;
            bad += cnt != 49 || y1 - y0 != 6 || x1 - x0 != 6 || x0 > 7 || y0 > 7;
            if (x0 <= 7) hist[x0]++;
        }
    }
    CHECK(blocks > 10000 && bad == 0, "%ld blocks, %ld not one 7x7 square inside the map", blocks, bad);
    /* expected shares: 1/14 at 0 and 7, 2/14 at 1..6 */
    for (int x = 0; x <= 7; x++) {
        double want = (x == 0 || x == 7 ? 1.0 : 2.0) / 14, got = (double)hist[x] / (double)blocks;
        CHECK(fabs(got - want) < 0.015, "corner column %d: share %.4f, want %.4f", x, got, want);
    }
    free_buf(&b);
}

/* A block larger than the map: darknet drops a square of min(k, h, w) with gamma from that
 * square; miguelvr never clips k, so a seed reaches k/2 cells whatever the map (its gamma p/k^2). */
static void test_large_blocks(void) {
    db_dropblock_cfg dk = {9, 0, DB_SEM_DARKNET}, mk = {9, 0, DB_SEM_MIGUELVR}, pk = {9, 0, DB_SEM_PAPER};
    db_dropblock_rules dr = db_dropblock_rules_for(&dk, 0.9f, 5, 6), mr = db_dropblock_rules_for(&mk, 0.9f, 5, 6),
                       pr = db_dropblock_rules_for(&pk, 0.9f, 5, 6);
    CHECK(dr.kh == 5 && dr.kw == 5, "darknet block %dx%d on 5x6, want 5x5", dr.kh, dr.kw);
    CHECK_CLOSE(dr.gamma, 0.1 / 25, 1e-8, 1e-6);
    CHECK(mr.kh == 9 && mr.kw == 9 && mr.ah == 4 && mr.ylo == 0 && mr.yhi == 4, "miguelvr block %dx%d a=%d seeds %d..%d",
          mr.kh, mr.kw, mr.ah, mr.ylo, mr.yhi);
    CHECK_CLOSE(mr.gamma, 0.1 / 81, 1e-8, 1e-6);
    CHECK(pr.kh == 5 && pr.kw == 6, "the paper clips per axis: %dx%d", pr.kh, pr.kw);
    /* darknet on 5x6: every block is the 5x5 square at column 0 or 1 */
    buf b = alloc_buf(32, 64, 5, 6);
    db_drop_key key = {3, 1, 0, 0.5f};
    db_dropblock_forward(b.y, b.m, b.s, b.x, &key, &dk, b.c, b.n, 5, 6);
    long blocks = 0, bad = 0;
    for (int p = 0; p < b.c * b.n; p++) {
        int y0, x0, y1, x1, cnt;
        if (!plane_box(b.m + (size_t)p * 30, 5, 6, &y0, &x0, &y1, &x1, &cnt)) continue;
        blocks++;
        bad += cnt != 25 || y0 != 0 || y1 != 4 || x1 - x0 != 4;
    }
    CHECK(blocks > 100 && bad == 0, "darknet k 9 on 5x6: %ld of %ld planes not a 5x5 square", bad, blocks);
    /* miguelvr on 7x7 with k 9: a lone seed at column x covers max(0, x-4)..min(6, x+4), so a
     * block narrower than the map is at least 5 wide (clipping k to 7 would allow 4) */
    buf m = alloc_buf(64, 64, 7, 7);
    key.keep_prob = 0.8f;
    long lone = 0, narrow = 0;
    for (uint64_t step = 0; step < 32; step++) {
        key.step = step;
        db_dropblock_forward(m.y, m.m, m.s, m.x, &key, &mk, m.c, m.n, 7, 7);
        for (int j = 0; j < m.n; j++) { /* shared across channels: channel 0's plane */
            int y0, x0, y1, x1, cnt;
            if (!plane_box(m.m + (size_t)j * 49, 7, 7, &y0, &x0, &y1, &x1, &cnt)) continue;
            if (cnt != (y1 - y0 + 1) * (x1 - x0 + 1)) continue; /* more than one seed */
            lone++;
            narrow += x1 - x0 + 1 < 5 || y1 - y0 + 1 < 5;
        }
    }
    CHECK(lone > 50 && narrow == 0, "miguelvr k 9 on 7x7: %ld of %ld lone blocks narrower than 5", narrow, lone);
    /* the realised fraction of these unclipped blocks agrees with the exact expectation */
    key.keep_prob = 0.5f;
    double dropped = 0, units = 0;
    for (uint64_t step = 100; step < 140; step++) {
        key.step = step;
        db_dropblock_forward(m.y, m.m, m.s, m.x, &key, &mk, m.c, m.n, 7, 7);
        for (long i = 0; i < (long)m.n * 49; i++) dropped += m.m[i];
        units += (double)m.n * 49;
    }
    double e = db_dropblock_expected_fraction(&mk, 0.5f, 7, 7);
    CHECK(fabs(dropped / units - e) < 0.1 * e, "miguelvr k 9 on 7x7: realised %.4f, expected %.4f", dropped / units, e);
    free_buf(&b);
    free_buf(&m);
}

const db_test db_tests_dropblock[] = {
    {"dropblock_darknet_positions", test_darknet_positions},
    {"dropblock_large_blocks", test_large_blocks},
    {"keep_prob_schedules", test_keep_prob_schedules},
    {"dropblock_scatter_equals_gather", test_scatter_equals_gather},
    {"dropblock_group_seeds", test_group_seeds},
    {"dropblock_expected_fraction_table", test_expected_fraction_table},
    {"dropblock_realised_fraction", test_realised_fraction},
    {"dropblock_block_geometry", test_block_geometry},
    {"dropblock_channel_drop_and_edges", test_channel_drop_and_edges},
    {"dropblock_per_sample_and_backward", test_per_sample_and_backward},
    {"dropblock_semantics_fractions", test_semantics_fractions},
    {"dropblock_semantics_rules", test_semantics_rules},
    {NULL, NULL},
};
