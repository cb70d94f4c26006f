#include "dropouts/dropblock.h"

#include <math.h>
#include <stddef.h>
#include <string.h>
#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "core/rand_bulk.h"

static int clip(int k, int m) { return k < m ? k : m; }

enum { DB_EXPECT_MAXK = 64 }; /* blocks up to this size take the fast path of the expectation */

double db_dropblock_gamma(float keep_prob, int block, int h, int w) {
    int kh = clip(block, h), kw = clip(block, w);
    return (1.0 - keep_prob) * h * w / ((double)kh * kw) / ((double)(h - kh + 1) * (w - kw + 1));
}

db_dropblock_rules db_dropblock_rules_for(const db_dropblock_cfg *b, float keep_prob, int h, int w) {
    db_dropblock_rules r;
    memset(&r, 0, sizeof r);
    r.kh = clip(b->block_size, h);
    r.kw = clip(b->block_size, w);
    r.ah = r.kh / 2; /* TF's SAME padding: an even block reaches one cell further up/left */
    r.aw = r.kw / 2;
    r.gamma = (float)db_dropblock_gamma(keep_prob, b->block_size, h, w);
    r.ylo = 0, r.yhi = h - 1, r.xlo = 0, r.xhi = w - 1;
    int valid = 0;
    switch (b->sem) {
    case DB_SEM_PAPER: valid = 1; break;
    case DB_SEM_TORCHVISION: valid = 1; r.eps = 1e-6f; break;
    case DB_SEM_TIMM: r.shared = 1; r.eps = 1e-7f; break;
    case DB_SEM_MIGUELVR: /* k is never clipped: a seed reaches k/2 cells, past the map's edge if need be */
        r.kh = r.kw = b->block_size;
        r.gamma = (float)((1.0 - keep_prob) / ((double)b->block_size * b->block_size));
        r.ah = (r.kh - 1) / 2; /* its max-pool crop puts the extra cell down/right */
        r.aw = (r.kw - 1) / 2;
        r.shared = 1;
        break;
    case DB_SEM_DARKNET: { /* a square of min(k, h, w), and gamma from that clipped square */
        int s = clip(clip(b->block_size, h), w);
        r.kh = r.kw = s;
        r.gamma = (float)((1.0 - keep_prob) / ((double)s * s));
        r.ah = r.aw = 0;
        r.one_seed = 1;
        r.per_sample = 1;
        break;
    }
    }
    if (valid) { /* seeds only where the whole block fits */
        r.ylo = r.ah, r.yhi = h - 1 - (r.kh - 1 - r.ah);
        r.xlo = r.aw, r.xhi = w - 1 - (r.kw - 1 - r.aw);
    }
    r.per_sample |= b->per_sample;
    r.t = db_u01_threshold(r.gamma);
    r.rw = r.xhi - r.xlo + 1;
    r.rn = r.rw * (r.yhi - r.ylo + 1);
    /* P(binomial(16, g) <= m), each term from its logarithm (no overflow, g of 0 and 1 exact) */
    const double g = r.gamma < 0.0f ? 0.0 : r.gamma > 1.0f ? 1.0 : r.gamma;
    double below = 0.0;
    for (int m = 0; m < DB_DROPBLOCK_GROUP; m++) {
        const int rest = DB_DROPBLOCK_GROUP - m;
        double term = (m == 0 ? 1.0 : g == 0.0 ? 0.0 : pow(g, m)) * (rest == 0 ? 1.0 : g == 1.0 ? 0.0 : pow(1.0 - g, rest));
        for (int i = 0; i < m; i++) term = term * (DB_DROPBLOCK_GROUP - i) / (i + 1);
        below += term;
        const double v = ldexp(below, 32);
        r.more[m] = v >= 4294967296.0 ? 4294967296ull : (uint64_t)v;
    }
    return r;
}

/* seed positions in [lo, hi] whose block (a before, k - 1 - a after) covers pos */
static int covering(int pos, int k, int a, int lo, int hi) {
    int s0 = pos + a - k + 1, s1 = pos + a;
    if (s0 < lo) s0 = lo;
    if (s1 > hi) s1 = hi;
    return s1 >= s0 ? s1 - s0 + 1 : 0;
}

double db_dropblock_expected_fraction(const db_dropblock_cfg *b, float keep_prob, int h, int w) {
    db_dropblock_rules r = db_dropblock_rules_for(b, keep_prob, h, w);
    double g = r.gamma > 1.0f ? 1.0 : r.gamma, s = 0.0;
    if (r.one_seed) {
        double positions = (double)(r.yhi - r.ylo + 1) * (r.xhi - r.xlo + 1);
        return (1.0 - pow(1.0 - g, positions)) * r.kh * r.kw / ((double)h * w);
    }
    /* n(y, x) = rows(y) * cols(x) and both take at most k + 1 values: sum over value pairs
     * (training calls this for every site and step) */
    double ny[DB_EXPECT_MAXK + 1] = {0}, nx[DB_EXPECT_MAXK + 1] = {0};
    if (r.kh > DB_EXPECT_MAXK || r.kw > DB_EXPECT_MAXK) {
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                s += 1.0 - pow(1.0 - g, covering(y, r.kh, r.ah, r.ylo, r.yhi) * covering(x, r.kw, r.aw, r.xlo, r.xhi));
        return s / ((double)h * w);
    }
    for (int y = 0; y < h; y++) ny[covering(y, r.kh, r.ah, r.ylo, r.yhi)] += 1.0;
    for (int x = 0; x < w; x++) nx[covering(x, r.kw, r.aw, r.xlo, r.xhi)] += 1.0;
    for (int a = 1; a <= r.kh; a++)
        for (int b2 = 1; ny[a] > 0 && b2 <= r.kw; b2++)
            if (nx[b2] > 0) s += ny[a] * nx[b2] * (1.0 - pow(1.0 - g, (double)a * b2));
    return s / ((double)h * w);
}

static const char *const sem_names[] = {"paper", "timm", "torchvision", "miguelvr", "darknet"};

db_status db_semantics_parse(const char *name, db_semantics *out) {
    for (int i = 0; i < (int)(sizeof sem_names / sizeof *sem_names); i++)
        if (!strcmp(name, sem_names[i])) { *out = (db_semantics)i; return DB_OK; }
    return db_fail(DB_ERR_ARG, "unknown DropBlock semantics '%s' (paper, timm, torchvision, miguelvr, darknet)", name);
}

const char *db_semantics_name(db_semantics s) {
    return (unsigned)s < sizeof sem_names / sizeof *sem_names ? sem_names[s] : "?";
}

db_status db_dropblock_check(const db_drop_key *k, const db_dropblock_cfg *b, int c, int n, int h, int w) {
    DB_TRY(db_drop_check(k, c, n, h, w));
    if (b->block_size < 1) return db_fail(DB_ERR_ARG, "block size %d must be at least 1", b->block_size);
    if ((unsigned)b->sem > DB_SEM_DARKNET) return db_fail(DB_ERR_ARG, "unknown DropBlock semantics %d", (int)b->sem);
    if (b->sem == DB_SEM_TORCHVISION && b->block_size % 2 == 0)
        return db_fail(DB_ERR_ARG, "semantics torchvision takes odd block sizes only (its drop_block2d "
                                   "mis-sizes even ones), got %d", b->block_size);
    return DB_OK;
}

/* Zero the block of a seed at (sy, sx) in plane m, clipped to the map; returns the units it
 * newly dropped. Blocks are short: byte stores, no memset call. */
static uint64_t paint(uint8_t *m, const db_dropblock_rules *r, int sy, int sx, int h, int w) {
    int y0 = sy - r->ah, x0 = sx - r->aw, y1 = y0 + r->kh, x1 = x0 + r->kw;
    if (r->kw <= 8 && y0 >= 0 && x0 >= 0 && y1 <= h && x1 <= w && (size_t)(y1 - 1) * w + x0 + 8 <= (size_t)h * w) {
        /* a whole block inside the plane, 8 bytes a row: a row's bytes are 0 or 1, so the
         * pattern's bits (bit 0 of each of the block's kw bytes) not yet set are the fresh
         * units; the bytes past the block are written back as they were, inside this plane */
        const uint64_t pat = 0x0101010101010101ull >> (8 * (8 - r->kw));
        uint64_t fresh = 0;
        for (uint8_t *p = m + (size_t)y0 * w + x0, *e = p + (size_t)r->kh * w; p < e; p += w) {
            uint64_t row;
            memcpy(&row, p, sizeof row);
            fresh += (uint64_t)__builtin_popcountll(~row & pat);
            row |= pat;
            memcpy(p, &row, sizeof row);
        }
        return fresh;
    }
    if (y0 < 0) y0 = 0;
    if (x0 < 0) x0 = 0;
    if (y1 > h) y1 = h;
    if (x1 > w) x1 = w;
    uint64_t fresh = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            fresh += !m[(size_t)y * w + x];
            m[(size_t)y * w + x] = 1;
        }
    return fresh;
}

/* u / d by a multiply: floor(u * m / 2^40) with m = floor(2^40 / d) + 1 is u / d whenever
 * u * d < 2^40 (the excess u / 2^40 stays below 1 / d); larger numerators divide */
typedef struct { uint64_t m, d, below; } divider;
static divider divider_for(uint64_t d) { return (divider){(1ull << 40) / d + 1, d, (1ull << 40) / d}; }
static inline uint64_t quot(uint64_t u, divider v) { return u < v.below ? (u * v.m) >> 40 : u / v.d; }

/* Bit i says words[i] >= lo, for i < len (<= 64): the seeding groups found by vector compares,
 * not a branch per group (a fifth of them seed at keep_prob 0.9, unpredictably) */
static uint64_t at_least(const uint32_t *words, int len, uint32_t lo) {
    uint64_t bits = 0;
    int i = 0;
#if defined(__AVX512F__)
    const __m512i vlo = _mm512_set1_epi32((int)lo);
    for (; i + 16 <= len; i += 16)
        bits |= (uint64_t)_mm512_cmpge_epu32_mask(_mm512_loadu_si512(words + i), vlo) << i;
#elif defined(__AVX2__)
    const __m256i flip = _mm256_set1_epi32((int)0x80000000u), vlo = _mm256_set1_epi32((int)(lo ^ 0x80000000u));
    for (; i + 8 <= len; i += 8) { /* unsigned w < lo as signed after flipping the top bits */
        __m256i v = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(words + i)), flip);
        bits |= (uint64_t)(uint8_t)~_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(vlo, v))) << i;
    }
#endif
    for (; i < len; i++) bits |= (uint64_t)(words[i] >= lo) << i;
    return bits;
}

/* Sample j's masks: `planes` planes (its c channels, or one for a shared mask) whose seed
 * positions are numbered consecutively from db_dropblock_base. A word per group of 16 positions
 * in bulk; the rare groups that seed (about 16 gamma of them) are painted from their seed bits.
 * A group that straddles two samples is drawn by both, each painting its own positions. */
static uint64_t sample_masks(uint8_t *mask, const db_drop_key *k, const db_dropblock_rules *r, int j, int planes,
                             int c, int n, int h, int w) {
    enum { RUN = 1024 };
    const int hw = h * w;
    const uint64_t first = db_dropblock_base(r, j, 0, c), end = first + (uint64_t)planes * (uint64_t)r->rn;
    const uint64_t g_end = (end + DB_DROPBLOCK_GROUP - 1) / DB_DROPBLOCK_GROUP;
    const divider by_rn = divider_for((uint64_t)r->rn), by_rw = divider_for((uint64_t)r->rw);
    uint32_t words[RUN];
    uint64_t dropped = 0;
    for (int p = 0; p < planes; p++) memset(mask + ((size_t)p * n + j) * hw, 0, (size_t)hw);
    if (r->more[0] > UINT32_MAX) return 0; /* no group ever seeds */
    const uint32_t none = (uint32_t)r->more[0];
    for (uint64_t g0 = first / DB_DROPBLOCK_GROUP; g0 < g_end; g0 += RUN) {
        const int len = g_end - g0 < RUN ? (int)(g_end - g0) : RUN;
        db_rand_words(words, k->seed, DB_STREAM_SITE + k->site, k->step, g0, len);
        for (int i0 = 0; i0 < len; i0 += 64) {
            uint64_t seeding = at_least(words + i0, len - i0 < 64 ? len - i0 : 64, none);
            for (; seeding; seeding &= seeding - 1) {
                const int i = i0 + __builtin_ctzll(seeding);
                const uint64_t g = g0 + (uint64_t)i;
                for (uint32_t bits = db_dropblock_group_seeds(k, r, g, words[i]); bits; bits &= bits - 1) {
                    const uint64_t at = g * DB_DROPBLOCK_GROUP + (uint64_t)__builtin_ctz(bits);
                    if (at < first || at >= end) continue;
                    const uint64_t u = at - first, p = quot(u, by_rn), pos = u - p * (uint64_t)r->rn;
                    const int y = (int)quot(pos, by_rw), x = (int)(pos - (uint64_t)y * (uint64_t)r->rw);
                    dropped += paint(mask + ((size_t)p * n + j) * hw, r, r->ylo + y, r->xlo + x, h, w);
                }
            }
        }
    }
    return dropped;
}

/* darknet's corner for a seed at position p of a map side m, block side k: a corner past the
 * last one that fits wraps back by m - k (so the corners spread over 0..m-k, the two ends at half
 * weight), then is clamped */
static int corner(int p, int m, int k) {
    if (p > m - k) p -= m - k;
    return p < 0 ? 0 : p > m - k ? m - k : p;
}

/* darknet: the position with the smallest word below gamma (the first on a tie) is the block's
 * top-left corner, wrapped back inside the map. */
static uint64_t plane_one_seed(uint8_t *m, const db_drop_key *k, const db_dropblock_rules *r, uint64_t base,
                               int h, int w) {
    const uint32_t t = db_u01_threshold(r->gamma);
    uint32_t words[1024], best = 0;
    int at = -1;
    memset(m, 0, (size_t)h * w);
    for (int o0 = 0; o0 < h * w; o0 += 1024) {
        int len = h * w - o0 < 1024 ? h * w - o0 : 1024;
        db_rand_words(words, k->seed, DB_STREAM_SITE + k->site, k->step, base + (uint64_t)o0, len);
        for (int i = 0; i < len; i++)
            if ((words[i] >> 8) < t && (at < 0 || words[i] < best)) best = words[i], at = o0 + i;
    }
    if (at < 0) return 0;
    return paint(m, r, corner(at / w, h, r->kh), corner(at % w, w, r->kw), h, w);
}

uint64_t db_dropblock_forward(float *out, uint8_t *mask, float *scales, const float *in,
                              const db_drop_key *k, const db_dropblock_cfg *b, int c, int n, int h,
                              int w) {
    uint64_t dropped = db_dropblock_mask(mask, scales, k, b, c, n, h, w);
    db_dropblock_backward(out, in, mask, scales, c, n, h, w, 0); /* the same masked scaling */
    return dropped;
}

uint64_t db_dropblock_mask(uint8_t *mask, float *scales, const db_drop_key *k, const db_dropblock_cfg *b, int c,
                           int n, int h, int w) {
    const int hw = h * w;
    const db_dropblock_rules r = db_dropblock_rules_for(b, k->keep_prob, h, w);
    uint64_t dropped = 0;
    if (r.one_seed) {
        #pragma omp parallel for reduction(+ : dropped) schedule(static)
        for (long p = 0; p < (long)c * n; p++) {
            uint64_t base = db_dropblock_base(&r, (int)(p % n), (int)(p / n), c);
            dropped += plane_one_seed(mask + (size_t)p * hw, k, &r, base, h, w);
        }
    } else if (r.shared) { /* one plane per sample (channel 0's), copied to its other channels */
        #pragma omp parallel for reduction(+ : dropped) schedule(static)
        for (int j = 0; j < n; j++) {
            uint64_t d = sample_masks(mask, k, &r, j, 1, c, n, h, w);
            for (int ch = 1; ch < c; ch++) memcpy(mask + ((size_t)ch * n + j) * hw, mask + (size_t)j * hw, (size_t)hw);
            dropped += d * (uint64_t)c;
        }
    } else {
        #pragma omp parallel for reduction(+ : dropped) schedule(static)
        for (int j = 0; j < n; j++) dropped += sample_masks(mask, k, &r, j, c, c, n, h, w);
    }
    /* kept counts: over the batch, or per sample (planes p with p % n == j) */
    for (int j = 0; j < n; j++) {
        uint64_t units = (uint64_t)c * hw, drop = 0;
        if (r.per_sample) {
            for (int ch = 0; ch < c; ch++) {
                const uint8_t *m = mask + ((size_t)ch * n + j) * hw;
                for (int i = 0; i < hw; i++) drop += m[i];
            }
        } else {
            units *= (uint64_t)n;
            drop = dropped;
        }
        scales[j] = db_dropblock_scale(units, drop, r.eps);
    }
    return dropped;
}

/* One plane: d (+)= g * s where the mask kept the unit. restrict and the hoisted accum let the
 * compiler vectorise it (the apply body is a bit-mask select for that reason). */
static void apply_plane(float *restrict d, const float *restrict g, const uint8_t *restrict m, float s, int hw,
                        int accum) {
    if (accum)
        for (int i = 0; i < hw; i++) d[i] += db_dropblock_apply1(g[i], m[i], s);
    else
        for (int i = 0; i < hw; i++) d[i] = db_dropblock_apply1(g[i], m[i], s);
}

/* din (+)= dout where the mask kept the unit, times its sample's scale; the forward's output
 * is this map applied to its input. */
void db_dropblock_backward(float *din, const float *dout, const uint8_t *mask, const float *scales,
                           int c, int n, int h, int w, int accum) {
    const int hw = h * w;
    int uniform = 1;
    for (int j = 1; j < n; j++) uniform &= scales[j] == scales[0];
    if (uniform) { /* batch-global normalisation: one long loop, not c*n short ones */
        const size_t len = (size_t)c * n * hw, chunk = 16384;
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < len; i += chunk)
            apply_plane(din + i, dout + i, mask + i, scales[0], (int)(len - i < chunk ? len - i : chunk), accum);
        return;
    }
    #pragma omp parallel for schedule(static)
    for (long p = 0; p < (long)c * n; p++)
        apply_plane(din + (size_t)p * hw, dout + (size_t)p * hw, mask + (size_t)p * hw, scales[p % n], hw, accum);
}

void db_dropblock_add(float *y, const float *a, const float *b, const uint8_t *mask, const float *scales, int c,
                      int n, int h, int w) {
    const int hw = h * w;
    #pragma omp parallel for schedule(static)
    for (long p = 0; p < (long)c * n; p++) {
        float *restrict yp = y + (size_t)p * hw;
        const float *restrict ap = a + (size_t)p * hw, *restrict bp = b + (size_t)p * hw;
        const uint8_t *restrict m = mask + (size_t)p * hw;
        const float s = scales[p % n];
        for (int i = 0; i < hw; i++) yp[i] = ap[i] + db_dropblock_apply1(bp[i], m[i], s);
    }
}
