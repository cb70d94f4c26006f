/* Philox4x32-10 (Salmon et al., SC'11), a counter-based generator: the draw for a given
 * (seed, stream, step, index) never depends on thread layout or on what was drawn before, so
 * CPU, GPU and a resumed run all draw the same numbers (design principle 2). */
#ifndef DB_PHILOX_H
#define DB_PHILOX_H

#include <math.h>
#include <stdint.h>

#include "core/hd.h"

typedef struct { uint32_t v[4]; } db_u32x4;

DB_HD void db_philox_mulhilo(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo) {
    uint64_t p = (uint64_t)a * (uint64_t)b;
    *hi = (uint32_t)(p >> 32);
    *lo = (uint32_t)p;
}

/* The raw block function: 10 rounds over a 128-bit counter with a 64-bit key. */
DB_HD db_u32x4 db_philox4x32_10(db_u32x4 ctr, uint32_t k0, uint32_t k1) {
    for (int r = 0; r < 10; r++) {
        uint32_t hi0, lo0, hi1, lo1;
        db_philox_mulhilo(0xD2511F53u, ctr.v[0], &hi0, &lo0);
        db_philox_mulhilo(0xCD9E8D57u, ctr.v[2], &hi1, &lo1);
        db_u32x4 n;
        n.v[0] = hi1 ^ ctr.v[1] ^ k0;
        n.v[1] = lo1;
        n.v[2] = hi0 ^ ctr.v[3] ^ k1;
        n.v[3] = lo0;
        ctr = n;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return ctr;
}

/* Four 32-bit draws for (seed, stream, step, index). stream names the consumer (a parameter
 * tensor, a regularizer site, the data order, ...), step the training step or epoch. */
DB_HD db_u32x4 db_rand4(uint64_t seed, uint32_t stream, uint32_t step, uint64_t index) {
    db_u32x4 c;
    c.v[0] = (uint32_t)index;
    c.v[1] = (uint32_t)(index >> 32);
    c.v[2] = stream;
    c.v[3] = step;
    return db_philox4x32_10(c, (uint32_t)seed, (uint32_t)(seed >> 32));
}

/* A uniform float in [0, 1) with 24 random bits. */
DB_HD float db_u01(uint32_t x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

/* T with db_u01(x) < p exactly when (x >> 8) < T: db_u01 is (x >> 8) * 2^-24 without rounding,
 * so the comparison moves to integers (what the CPU loops vectorise) without changing one
 * decision. */
DB_HD uint32_t db_u01_threshold(float p) {
    if (!(p > 0.0f)) return 0;
    if (p >= 1.0f) return 1u << 24;
    return (uint32_t)ceilf(p * 16777216.0f);
}

/* Is unit u's 24-bit uniform below t (a db_u01_threshold)? Its top 8 bits are byte u % 4 of
 * word (u / 4) % 4 of the block at index u / 16, so one block serves sixteen units; only when
 * that byte ties with t's top byte (1 unit in 256) are its low 16 bits drawn, from the block at
 * index u | 2^63, which no unit's first draw uses. Exactly the decision db_u01(w) < p of a
 * whole word per unit, at a quarter of the Philox work: what the regularizers' masks use. */
DB_HD int db_rare_below(uint64_t seed, uint32_t stream, uint32_t step, uint64_t u, uint32_t t) {
    db_u32x4 r = db_rand4(seed, stream, step, u >> 4);
    uint32_t b = (r.v[(u >> 2) & 3] >> (8 * (u & 3))) & 0xffu, tb = t >> 16;
    if (b != tb) return b < tb;
    return (db_rand4(seed, stream, step, u | (1ull << 63)).v[0] & 0xffffu) < (t & 0xffffu);
}

/* A uniform double in [0, 1) from two draws (53 bits). */
DB_HD double db_u01d(uint32_t a, uint32_t b) {
    uint64_t x = ((uint64_t)a << 21) ^ (uint64_t)(b >> 11);
    return (double)(x & ((1ull << 53) - 1)) * (1.0 / 9007199254740992.0);
}

/* Streams used by the engine; regularizer sites take streams from DB_STREAM_SITE upwards. */
enum {
    DB_STREAM_INIT = 1,      /* + parameter index: weight initialisation */
    DB_STREAM_ORDER = 0x1000, /* data order per epoch */
    DB_STREAM_AUGMENT = 0x1001, /* augmentation draws per sample */
    DB_STREAM_CUTOUT = 0x1002, /* Cutout's patch centres per sample */
    DB_STREAM_SYNTHETIC = 0x1003, /* synthetic data sets: labels (step 0), pixels (step 1 + sample) */
    DB_STREAM_DETECT_SET = 0x1004, /* the Fashion-MNIST detection set: step = split, index = canvas draws */
    DB_STREAM_AUTOAUGMENT = 0x1005, /* AutoAugment's sub-policy, probabilities and signs per sample */
    DB_STREAM_SITE = 0x10000 /* + site id: regularizer masks */
};

#endif
