#include "dropouts/dropblock.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "core/rand_bulk.h"

static int clip(int k, int m) { return k < m ? k : m; }

double db_dropblock_gamma(float keep_prob, int block, int h, int w) {
    int kh = clip(block, h), kw = clip(block, w);
    return (1.0 - keep_prob) * h * w / ((double)kh * kw) / ((double)(h - kh + 1) * (w - kw + 1));
}

/* valid seed rows for a block of size k in a map of m: [k/2, m - (k-1)/2) */
static int covering(int pos, int k, int m) {
    int lo = pos - (k - 1 - k / 2), hi = pos + k / 2;     /* seeds whose block covers pos */
    int vlo = k / 2, vhi = m - (k - 1) / 2 - 1;           /* the valid seed range */
    if (lo < vlo) lo = vlo;
    if (hi > vhi) hi = vhi;
    return hi >= lo ? hi - lo + 1 : 0;
}

double db_dropblock_expected_fraction(float keep_prob, int block, int h, int w) {
    int kh = clip(block, h), kw = clip(block, w);
    double g = db_dropblock_gamma(keep_prob, block, h, w), s = 0.0;
    if (g > 1.0) g = 1.0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) s += 1.0 - pow(1.0 - g, covering(y, kh, h) * covering(x, kw, w));
    return s / ((double)h * w);
}

db_status db_dropblock_check(const db_drop_key *k, const db_dropblock_cfg *b, int c, int n, int h, int w) {
    DB_TRY(db_drop_check(k, c, n, h, w));
    if (b->block < 1) return db_fail(DB_ERR_ARG, "block size %d must be at least 1", b->block);
    return DB_OK;
}

/* Seeds and blocks of one channel plane into m (h*w bytes); returns the dropped count. The
 * seeds are the hits of the bulk generator over the span from the first to the last valid seed
 * position (the words between two rows' valid stretches are drawn and ignored): the same words
 * and threshold the gather body (db_dropblock_dropped) uses. */
static uint64_t plane_mask(uint8_t *m, const db_drop_key *k, float gamma, uint64_t base, int kh, int kw,
                           int h, int w) {
    const int xlo = kw / 2, xhi = w - (kw - 1) / 2, end = (h - (kh - 1) / 2 - 1) * w + xhi;
    const uint32_t t = db_u01_threshold(gamma);
    int hits[1024];
    uint64_t dropped = 0;
    memset(m, 0, (size_t)h * w);
    for (int o0 = (kh / 2) * w + xlo; o0 < end; o0 += 1024) {
        int nhit = db_rand_hits(hits, k->seed, DB_STREAM_SITE + k->site, k->step, base + (uint64_t)o0,
                                end - o0 < 1024 ? end - o0 : 1024, t);
        for (int i = 0; i < nhit; i++) {
            int y = (o0 + hits[i]) / w, x = (o0 + hits[i]) % w;
            if (x < xlo || x >= xhi) continue;
            for (int by = y - kh / 2; by < y - kh / 2 + kh; by++) {
                uint8_t *row = m + (size_t)by * w + (x - kw / 2);
                for (int bx = 0; bx < kw; bx++) { /* blocks are short: no memset call */
                    dropped += !row[bx];
                    row[bx] = 1;
                }
            }
        }
    }
    return dropped;
}

uint64_t db_dropblock_forward(float *out, uint8_t *mask, float *scales, const float *in,
                              const db_drop_key *k, const db_dropblock_cfg *b, int c, int n, int h,
                              int w) {
    const int kh = clip(b->block, h), kw = clip(b->block, w), hw = h * w;
    const float gamma = (float)db_dropblock_gamma(k->keep_prob, b->block, h, w);
    uint64_t dropped = 0;
    #pragma omp parallel for reduction(+ : dropped) schedule(static)
    for (long p = 0; p < (long)c * n; p++) {
        uint64_t base = ((uint64_t)(p % n) * c + (uint64_t)(p / n)) * hw;
        dropped += plane_mask(mask + (size_t)p * hw, k, gamma, base, kh, kw, h, w);
    }
    /* kept counts: over the batch, or per sample (planes p with p % n == j) */
    for (int j = 0; j < n; j++) {
        uint64_t units = (uint64_t)c * hw, drop = 0;
        if (b->per_sample) {
            for (int ch = 0; ch < c; ch++) {
                const uint8_t *m = mask + ((size_t)ch * n + j) * hw;
                for (int i = 0; i < hw; i++) drop += m[i];
            }
        } else {
            units *= (uint64_t)n;
            drop = dropped;
        }
        scales[j] = drop < units ? (float)((double)units / (double)(units - drop)) : 0.0f;
    }
    db_dropblock_backward(out, in, mask, scales, c, n, h, w, 0); /* the same masked scaling */
    return dropped;
}

/* One plane: d (+)= g * s where the mask kept the unit (m[i] == 0). restrict, the hoisted accum
 * and the bit-mask select let the compiler vectorise it. */
static void apply_mask(float *restrict d, const float *restrict g, const uint8_t *restrict m, float s,
                       int hw, int accum) {
    if (accum)
        for (int i = 0; i < hw; i++) d[i] += db_masked(g[i] * s, (uint32_t)m[i] - 1u);
    else
        for (int i = 0; i < hw; i++) d[i] = db_masked(g[i] * s, (uint32_t)m[i] - 1u);
}

/* din (+)= dout where the mask kept the unit, times its sample's scale; the forward's output
 * is this map applied to its input. */
void db_dropblock_backward(float *din, const float *dout, const uint8_t *mask, const float *scales,
                           int c, int n, int h, int w, int accum) {
    const int hw = h * w;
    #pragma omp parallel for schedule(static)
    for (long p = 0; p < (long)c * n; p++)
        apply_mask(din + (size_t)p * hw, dout + (size_t)p * hw, mask + (size_t)p * hw, scales[p % n], hw, accum);
}
