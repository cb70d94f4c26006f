#include "dropouts/dropblock.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

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

/* Seeds and blocks of one plane into m (h*w bytes); returns the dropped count. The seeds are
 * the hits of the bulk generator over the span from the first to the last seed position (the
 * units between two rows' stretches are drawn and ignored): the same decisions (db_rare_below) the
 * gather body (db_dropblock_dropped) uses. */
static uint64_t plane_mask(uint8_t *m, const db_drop_key *k, const db_dropblock_rules *r, uint64_t base, int h,
                           int w) {
    const int end = r->yhi * w + r->xhi + 1;
    int hits[1024 + DB_RAND_HITS_SLACK];
    uint64_t dropped = 0;
    memset(m, 0, (size_t)h * w);
    for (int o0 = r->ylo * w + r->xlo; o0 < end; o0 += 1024) {
        int nhit = db_rand_hits(hits, k->seed, DB_STREAM_SITE + k->site, k->step, base + (uint64_t)o0,
                                end - o0 < 1024 ? end - o0 : 1024, r->t);
        for (int i = 0; i < nhit; i++) {
            int y = (o0 + hits[i]) / w, x = (o0 + hits[i]) % w;
            if (x >= r->xlo && x <= r->xhi) dropped += paint(m, r, y, x, h, w);
        }
    }
    return dropped;
}

/* u / d by a multiply: floor(u * m / 2^40) with m = floor(2^40 / d) + 1 is u / d whenever
 * u * d < 2^40 (the excess u / 2^40 stays below 1 / d); larger numerators divide */
typedef struct { uint64_t m, d, below; } divider;
static divider divider_for(uint64_t d) { return (divider){(1ull << 40) / d + 1, d, (1ull << 40) / d}; }
static inline uint64_t quot(uint64_t u, divider v) { return u < v.below ? (u * v.m) >> 40 : u / v.d; }

/* Every channel plane of sample j. Its planes' units are consecutive in the logical NCHW
 * order (channel after channel), so one run of bulk draws covers them all: long runs waste
 * nothing of the generator's passes, which a small map's seed span alone would (a 7x7 map's
 * span is 33 units). Positions outside the seed region are drawn and ignored. The seeds come
 * as a bitmap and are painted straight from its set bits. */
static uint64_t sample_masks(uint8_t *mask, const db_drop_key *k, const db_dropblock_rules *r, int j, int c, int n,
                             int h, int w) {
    enum { RUN = 4096 };
    const int hw = h * w;
    const long units = (long)c * hw;
    const uint64_t base = db_dropblock_base(r, j, 0, c, hw);
    const divider by_hw = divider_for((uint64_t)hw), by_w = divider_for((uint64_t)w);
    uint64_t bits[RUN / 64 + 2], dropped = 0;
    for (int ch = 0; ch < c; ch++) memset(mask + ((size_t)ch * n + j) * hw, 0, (size_t)hw);
    for (long o0 = 0; o0 < units; o0 += RUN) {
        const uint64_t u0 = base + (uint64_t)o0, skip = u0 & 63;
        const int len = units - o0 < RUN ? (int)(units - o0) : RUN, words = (int)((skip + (uint64_t)len + 63) / 64);
        db_rand_bits(bits, k->seed, DB_STREAM_SITE + k->site, k->step, u0, len, r->t);
        for (int wd = 0; wd < words; wd++)
            for (uint64_t b = bits[wd]; b; b &= b - 1) {
                uint64_t u = (uint64_t)o0 + 64 * (uint64_t)wd + (uint64_t)__builtin_ctzll(b) - skip;
                uint64_t ch = quot(u, by_hw), pos = u - ch * (uint64_t)hw;
                int y = (int)quot(pos, by_w), x = (int)(pos - (uint64_t)y * (uint64_t)w);
                if (y >= r->ylo && y <= r->yhi && x >= r->xlo && x <= r->xhi)
                    dropped += paint(mask + ((size_t)ch * n + j) * hw, r, y, x, h, w);
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
    if (r.shared) { /* one plane per sample (channel 0's), copied to its other channels */
        #pragma omp parallel for reduction(+ : dropped) schedule(static)
        for (int j = 0; j < n; j++) {
            uint8_t *m0 = mask + (size_t)j * hw;
            uint64_t d = plane_mask(m0, k, &r, db_dropblock_base(&r, j, 0, c, hw), h, w);
            for (int ch = 1; ch < c; ch++) memcpy(mask + ((size_t)ch * n + j) * hw, m0, (size_t)hw);
            dropped += d * (uint64_t)c;
        }
    } else if (r.one_seed) {
        #pragma omp parallel for reduction(+ : dropped) schedule(static)
        for (long p = 0; p < (long)c * n; p++) {
            uint64_t base = db_dropblock_base(&r, (int)(p % n), (int)(p / n), c, hw);
            dropped += plane_one_seed(mask + (size_t)p * hw, k, &r, base, h, w);
        }
    } else {
        #pragma omp parallel for reduction(+ : dropped) schedule(static)
        for (int j = 0; j < n; j++) dropped += sample_masks(mask, k, &r, j, c, n, h, w);
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
