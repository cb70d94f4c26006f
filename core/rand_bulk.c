#include "core/rand_bulk.h"

#include <string.h>

#include "core/philox.h"

#ifdef __AVX2__
#include <immintrin.h>

/* hi and lo halves of a * m for eight 32-bit lanes: the even lanes' products from one
 * multiply, the odd lanes' from another, then interleaved back. */
static inline void mulhilo8(__m256i a, __m256i m, __m256i *hi, __m256i *lo) {
    __m256i even = _mm256_mul_epu32(a, m), odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

/* Philox's ten rounds over `groups` groups of eight counters (c0..c3 word by word) */
static inline void rounds8(__m256i *c0, __m256i *c1, __m256i *c2, __m256i *c3, int groups, uint64_t seed) {
    const __m256i m0 = _mm256_set1_epi32((int)0xD2511F53u), m1 = _mm256_set1_epi32((int)0xCD9E8D57u);
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++) {
        const __m256i vk0 = _mm256_set1_epi32((int)k0), vk1 = _mm256_set1_epi32((int)k1);
        for (int g = 0; g < groups; g++) {
            __m256i hi0, lo0, hi1, lo1;
            mulhilo8(c0[g], m0, &hi0, &lo0);
            mulhilo8(c2[g], m1, &hi1, &lo1);
            c0[g] = _mm256_xor_si256(_mm256_xor_si256(hi1, c1[g]), vk0);
            c1[g] = lo1;
            c2[g] = _mm256_xor_si256(_mm256_xor_si256(hi0, c3[g]), vk1);
            c3[g] = lo0;
        }
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

/* The counters' words: index ctr[i] of lane i, then stream and step */
static inline void load8(__m256i *c0, __m256i *c1, __m256i *c2, __m256i *c3, const uint64_t *ctr, uint32_t stream,
                         uint32_t step) {
    uint32_t lo[8], hi[8];
    for (int i = 0; i < 8; i++) lo[i] = (uint32_t)ctr[i], hi[i] = (uint32_t)(ctr[i] >> 32);
    *c0 = _mm256_loadu_si256((const __m256i *)lo);
    *c1 = _mm256_loadu_si256((const __m256i *)hi);
    *c2 = _mm256_set1_epi32((int)stream);
    *c3 = _mm256_set1_epi32((int)step);
}

/* Blocks b0 .. b0 + 8*DB_GROUPS - 1 into out, block by block (each block's four words in
 * order). Several independent groups of eight lanes per round: one group alone waits on the
 * multiplies' latency (dev VM, one thread: one group 1.05 ns per word, two 0.81, four 0.73;
 * the scalar code 2.1). */
#define DB_GROUPS 4
static void blocks(uint32_t *out, uint64_t seed, uint32_t stream, uint32_t step, uint64_t b0) {
    __m256i c0[DB_GROUPS], c1[DB_GROUPS], c2[DB_GROUPS], c3[DB_GROUPS];
    for (int g = 0; g < DB_GROUPS; g++) {
        uint64_t ctr[8];
        for (int i = 0; i < 8; i++) ctr[i] = b0 + (uint64_t)(8 * g + i);
        load8(&c0[g], &c1[g], &c2[g], &c3[g], ctr, stream, step);
    }
    rounds8(c0, c1, c2, c3, DB_GROUPS, seed);
    for (int g = 0; g < DB_GROUPS; g++) { /* 4 x 8 (word-major) to 8 x 4 (block-major) */
        __m256i t0 = _mm256_unpacklo_epi32(c0[g], c1[g]), t1 = _mm256_unpackhi_epi32(c0[g], c1[g]);
        __m256i t2 = _mm256_unpacklo_epi32(c2[g], c3[g]), t3 = _mm256_unpackhi_epi32(c2[g], c3[g]);
        __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
        __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
        uint32_t *o = out + 32 * g;
        _mm256_storeu_si256((__m256i *)o, _mm256_permute2x128_si256(u0, u1, 0x20));
        _mm256_storeu_si256((__m256i *)(o + 8), _mm256_permute2x128_si256(u2, u3, 0x20));
        _mm256_storeu_si256((__m256i *)(o + 16), _mm256_permute2x128_si256(u0, u1, 0x31));
        _mm256_storeu_si256((__m256i *)(o + 24), _mm256_permute2x128_si256(u2, u3, 0x31));
    }
}

/* out[i] = word 0 of db_rand4(seed, stream, step, ctr[i]) for i < n (n <= 8): scattered
 * counters, one vector pass */
static void word0_at(uint32_t *out, uint64_t seed, uint32_t stream, uint32_t step, const uint64_t *ctr, int n) {
    uint64_t c[8] = {0};
    uint32_t w[8];
    for (int i = 0; i < n; i++) c[i] = ctr[i];
    __m256i c0, c1, c2, c3;
    load8(&c0, &c1, &c2, &c3, c, stream, step);
    rounds8(&c0, &c1, &c2, &c3, 1, seed);
    _mm256_storeu_si256((__m256i *)w, c0);
    for (int i = 0; i < n; i++) out[i] = w[i];
}
#else
#define DB_GROUPS 4
static void word0_at(uint32_t *out, uint64_t seed, uint32_t stream, uint32_t step, const uint64_t *ctr, int n) {
    for (int i = 0; i < n; i++) out[i] = db_rand4(seed, stream, step, ctr[i]).v[0];
}
static void blocks(uint32_t *out, uint64_t seed, uint32_t stream, uint32_t step, uint64_t b0) {
    for (int i = 0; i < 8 * DB_GROUPS; i++) {
        db_u32x4 r = db_rand4(seed, stream, step, b0 + (uint64_t)i);
        memcpy(out + 4 * i, r.v, sizeof r.v);
    }
}
#endif

void db_rand_words(uint32_t *out, uint64_t seed, uint32_t stream, uint32_t step, uint64_t unit0,
                   int count) {
    enum { WORDS = 32 * DB_GROUPS };
    uint32_t buf[WORDS];
    uint64_t u = unit0, end = unit0 + (uint64_t)(count > 0 ? count : 0);
    while (u < end) {
        uint64_t b0 = u >> 2;
        int skip = (int)(u & 3);
        int take = (int)(end - u < (uint64_t)(WORDS - skip) ? end - u : (uint64_t)(WORDS - skip));
        if (skip == 0 && take == WORDS) {
            blocks(out, seed, stream, step, b0);
        } else {
            blocks(buf, seed, stream, step, b0);
            memcpy(out, buf + skip, (size_t)take * sizeof *out);
        }
        out += take;
        u += (uint64_t)take;
    }
}

/* The low 16 bits of a tied unit's uniform decide (the rare second draw of db_rare_below) */
static int tie_below(uint64_t seed, uint32_t stream, uint32_t step, uint64_t u, uint32_t t) {
    return (db_rand4(seed, stream, step, u | (1ull << 63)).v[0] & 0xffffu) < (t & 0xffffu);
}

/* The units of one pass of blocks() */
enum { DB_PASS_UNITS = 16 * 8 * DB_GROUPS };

/* Bit i of lt[i / 64] (eq) says byte i of b[0 .. DB_PASS_UNITS-1] is below (equal to) tb */
static void byte_masks(uint64_t *lt, uint64_t *eq, const uint8_t *b, uint32_t tb) {
#ifdef __AVX2__
    const __m256i vt = _mm256_set1_epi8((char)tb);
    for (int i = 0; i < DB_PASS_UNITS / 32; i++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(b + 32 * i));
        uint64_t le = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(v, vt), v));
        uint64_t e = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, vt));
        if (i & 1) lt[i / 2] |= (le & ~e) << 32, eq[i / 2] |= e << 32;
        else lt[i / 2] = le & ~e, eq[i / 2] = e;
    }
#else
    for (int i = 0; i < DB_PASS_UNITS / 64; i++) {
        lt[i] = eq[i] = 0;
        for (int j = 0; j < 64; j++) {
            lt[i] |= (uint64_t)(b[64 * i + j] < tb) << j;
            eq[i] |= (uint64_t)(b[64 * i + j] == tb) << j;
        }
    }
#endif
}

/* n tied units (offsets at[] from c0, counters ctr[]) drawn in one vector pass: the low 16
 * bits of the second draw decide (db_rare_below) */
static void settle(uint64_t *bits, const int *at, const uint64_t *ctr, int n, uint64_t seed, uint32_t stream,
                   uint32_t step, uint32_t t) {
    uint32_t r[8];
    word0_at(r, seed, stream, step, ctr, n);
    for (int i = 0; i < n; i++)
        if ((r[i] & 0xffffu) < (t & 0xffffu)) bits[at[i] / 64] |= 1ull << (at[i] % 64);
}

/* Every tied unit of ties[0 .. words-1] (bit i of word w: unit c0 + 64 w + i) whose second
 * draw is below t gets its bit set in bits, eight draws per vector pass */
static void settle_ties(uint64_t *bits, const uint64_t *ties, int words, uint64_t seed, uint32_t stream, uint32_t step,
                        uint64_t c0, uint32_t t) {
    uint64_t ctr[8];
    int at[8], n = 0;
    for (int w = 0; w < words; w++)
        for (uint64_t e = ties[w]; e; e &= e - 1) {
            at[n] = 64 * w + __builtin_ctzll(e);
            ctr[n] = (c0 + (uint64_t)at[n]) | (1ull << 63);
            if (++n == 8) settle(bits, at, ctr, n, seed, stream, step, t), n = 0;
        }
    if (n) settle(bits, at, ctr, n, seed, stream, step, t);
}

void db_rand_bits(uint64_t *bits, uint64_t seed, uint32_t stream, uint32_t step, uint64_t unit0, int count,
                  uint32_t t) {
    enum { PASS = DB_PASS_UNITS, UNITS = 4 * PASS, WORDS = UNITS / 64 }; /* 2048 units a round: about eight ties, one vector pass */
    uint32_t buf[PASS / 4];
    uint64_t lt[WORDS], eq[WORDS];
    const uint32_t tb = t >> 16;
    const uint64_t first = unit0 & ~(uint64_t)63, end = unit0 + (uint64_t)(count > 0 ? count : 0);
    const int words = count > 0 ? (int)((end - first + 63) / 64) : 0;
    bits[words] = 0;
    for (uint64_t c0 = unit0 & ~(uint64_t)(PASS - 1); c0 < end; c0 += UNITS) {
        int passes = end - c0 < UNITS ? (int)((end - c0 + PASS - 1) / PASS) : UNITS / PASS;
        for (int p = 0; p < passes; p++) {
            blocks(buf, seed, stream, step, (c0 + (uint64_t)(p * PASS)) >> 4);
            byte_masks(lt + p * (PASS / 64), eq + p * (PASS / 64), (const uint8_t *)buf, tb);
        }
        /* the words [w0, w1) of this round hold asked-for units; in its first and last word,
         * units before unit0 or from end on are cleared */
        const int lo = unit0 > c0 ? (int)(unit0 - c0) : 0, hi = end - c0 < UNITS ? (int)(end - c0) : UNITS;
        const int w0 = lo / 64, w1 = (hi + 63) / 64;
        if (tb >= 256) /* every unit is below */
            for (int w = w0; w < w1; w++) lt[w] = ~0ull, eq[w] = 0;
        if (lo % 64) lt[w0] &= ~0ull << (lo % 64), eq[w0] &= ~0ull << (lo % 64);
        if (hi % 64) lt[w1 - 1] &= ~0ull >> (64 - hi % 64), eq[w1 - 1] &= ~0ull >> (64 - hi % 64);
        settle_ties(lt + w0, eq + w0, w1 - w0, seed, stream, step, c0 + (uint64_t)(64 * w0), t); /* 1 in 256 */
        memcpy(bits + (int64_t)(c0 - first) / 64 + w0, lt + w0, (size_t)(w1 - w0) * sizeof *bits);
    }
}

int db_rand_hits(int *hits, uint64_t seed, uint32_t stream, uint32_t step, uint64_t unit0, int count,
                 uint32_t t) {
    enum { RUN = 4096 };
    uint64_t bits[RUN / 64 + 2];
    int nhit = 0;
    for (int o0 = 0; o0 < count; o0 += RUN) {
        const uint64_t u0 = unit0 + (uint64_t)o0;
        const int len = count - o0 < RUN ? count - o0 : RUN, words = (int)((u0 & 63) + (uint64_t)len + 63) / 64;
        db_rand_bits(bits, seed, stream, step, u0, len, t);
        for (int w = 0; w < words; w++) {
            /* the set bits in order, four at a time without a branch per bit; hits has room
             * for the stores past the last hit (DB_RAND_HITS_SLACK) */
            uint64_t b = bits[w];
            const int base = o0 + 64 * w - (int)(u0 & 63), n = __builtin_popcountll(b);
            for (int k = 0; k < n; k += 4) {
                int *h = hits + nhit + k;
                h[0] = base + __builtin_ctzll(b | 1ull << 63), b &= b - 1;
                h[1] = base + __builtin_ctzll(b | 1ull << 63), b &= b - 1;
                h[2] = base + __builtin_ctzll(b | 1ull << 63), b &= b - 1;
                h[3] = base + __builtin_ctzll(b | 1ull << 63), b &= b - 1;
            }
            nhit += n;
        }
    }
    return nhit;
}

void db_rand_below(uint8_t *flags, uint64_t seed, uint32_t stream, uint32_t step, uint64_t unit0, int count,
                   uint32_t t) {
    enum { BYTES = 4 * 32 * DB_GROUPS };
    uint32_t buf[BYTES / 4];
    const uint32_t tb = t >> 16;
    for (int o0 = 0; o0 < count; o0 += BYTES - 4) {
        uint64_t u0 = unit0 + (uint64_t)o0;
        int skip = (int)(u0 & 3), len = count - o0 < BYTES - 4 ? count - o0 : BYTES - 4;
        db_rand_words(buf, seed, stream, step, u0 >> 2, (skip + len + 3) / 4);
        const uint8_t *b = (const uint8_t *)buf + skip;
        uint8_t *f = flags + o0;
        if (tb >= 256) { /* every unit is below */
            memset(f, 1, (size_t)len);
            continue;
        }
        const uint8_t t8 = (uint8_t)tb;
        int ties = 0;
        for (int j = 0; j < len; j++) { /* vectorised on bytes: the byte decides all but the ties */
            f[j] = b[j] < t8;
            ties += b[j] == t8;
        }
        for (const uint8_t *q = b; ties-- > 0; q++) { /* about two per chunk: memchr finds them */
            q = memchr(q, (int)tb, (size_t)(b + len - q));
            f[q - b] = (uint8_t)tie_below(seed, stream, step, u0 + (uint64_t)(q - b), t);
        }
    }
}
