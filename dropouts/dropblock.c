#include "dropouts/dropblock.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

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

/* Seeds and blocks of one channel plane into m (h*w bytes); returns the dropped count. */
static uint64_t plane_mask(uint8_t *m, const db_drop_key *k, float gamma, uint64_t base, int kh, int kw,
                           int h, int w) {
    const uint32_t stream = DB_STREAM_SITE + k->site;
    memset(m, 0, (size_t)h * w);
    for (int y = kh / 2; y < h - (kh - 1) / 2; y++) {
        int x0 = kw / 2, x1 = w - (kw - 1) / 2;
        uint64_t u = base + (uint64_t)y * w + x0;
        db_u32x4 r = db_rand4(k->seed, stream, k->step, u >> 2);
        for (int x = x0; x < x1; x++, u++) {
            if ((u & 3) == 0) r = db_rand4(k->seed, stream, k->step, u >> 2);
            if (!(db_u01(r.v[u & 3]) < gamma)) continue;
            for (int by = y - kh / 2; by < y - kh / 2 + kh; by++)
                memset(m + (size_t)by * w + (x - kw / 2), 1, (size_t)kw);
        }
    }
    uint64_t dropped = 0;
    for (size_t i = 0; i < (size_t)h * w; i++) dropped += m[i];
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

/* din (+)= dout where the mask kept the unit, times its sample's scale; the forward's output
 * is this map applied to its input. */
void db_dropblock_backward(float *din, const float *dout, const uint8_t *mask, const float *scales,
                           int c, int n, int h, int w, int accum) {
    const int hw = h * w;
    #pragma omp parallel for schedule(static)
    for (long p = 0; p < (long)c * n; p++) {
        const float s = scales[p % n];
        const uint8_t *m = mask + (size_t)p * hw;
        const float *g = dout + (size_t)p * hw;
        float *d = din + (size_t)p * hw;
        for (int i = 0; i < hw; i++) {
            float v = m[i] ? 0.0f : g[i] * s;
            d[i] = accum ? d[i] + v : v;
        }
    }
}
