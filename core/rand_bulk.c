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

#else
#define DB_GROUPS 4
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
