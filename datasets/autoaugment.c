#include "datasets/autoaugment.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/philox.h"
#include "datasets/augment.h"

#define FILL 128

/* The ImageNet policy (the AutoAugment paper's appendix): per sub-policy two (operation,
 * probability, level) steps; level -1 for the operations without a magnitude */
typedef struct { db_aa_op op; float p; int level; } aa_step;
static const aa_step policy[25][2] = {
    {{DB_AA_POSTERIZE, 0.4f, 8}, {DB_AA_ROTATE, 0.6f, 9}},
    {{DB_AA_SOLARIZE, 0.6f, 5}, {DB_AA_AUTOCONTRAST, 0.6f, -1}},
    {{DB_AA_EQUALIZE, 0.8f, -1}, {DB_AA_EQUALIZE, 0.6f, -1}},
    {{DB_AA_POSTERIZE, 0.6f, 7}, {DB_AA_POSTERIZE, 0.6f, 6}},
    {{DB_AA_EQUALIZE, 0.4f, -1}, {DB_AA_SOLARIZE, 0.2f, 4}},
    {{DB_AA_EQUALIZE, 0.4f, -1}, {DB_AA_ROTATE, 0.8f, 8}},
    {{DB_AA_SOLARIZE, 0.6f, 3}, {DB_AA_EQUALIZE, 0.6f, -1}},
    {{DB_AA_POSTERIZE, 0.8f, 5}, {DB_AA_EQUALIZE, 1.0f, -1}},
    {{DB_AA_ROTATE, 0.2f, 3}, {DB_AA_SOLARIZE, 0.6f, 8}},
    {{DB_AA_EQUALIZE, 0.6f, -1}, {DB_AA_POSTERIZE, 0.4f, 6}},
    {{DB_AA_ROTATE, 0.8f, 8}, {DB_AA_COLOR, 0.4f, 0}},
    {{DB_AA_ROTATE, 0.4f, 9}, {DB_AA_EQUALIZE, 0.6f, -1}},
    {{DB_AA_EQUALIZE, 0.0f, -1}, {DB_AA_EQUALIZE, 0.8f, -1}},
    {{DB_AA_INVERT, 0.6f, -1}, {DB_AA_EQUALIZE, 1.0f, -1}},
    {{DB_AA_COLOR, 0.6f, 4}, {DB_AA_CONTRAST, 1.0f, 8}},
    {{DB_AA_ROTATE, 0.8f, 8}, {DB_AA_COLOR, 1.0f, 2}},
    {{DB_AA_COLOR, 0.8f, 8}, {DB_AA_SOLARIZE, 0.8f, 7}},
    {{DB_AA_SHARPNESS, 0.4f, 7}, {DB_AA_INVERT, 0.6f, -1}},
    {{DB_AA_SHEAR_X, 0.6f, 5}, {DB_AA_EQUALIZE, 1.0f, -1}},
    {{DB_AA_COLOR, 0.4f, 0}, {DB_AA_EQUALIZE, 0.6f, -1}},
    {{DB_AA_EQUALIZE, 0.4f, -1}, {DB_AA_SOLARIZE, 0.2f, 4}},
    {{DB_AA_SOLARIZE, 0.6f, 5}, {DB_AA_AUTOCONTRAST, 0.6f, -1}},
    {{DB_AA_INVERT, 0.6f, -1}, {DB_AA_EQUALIZE, 1.0f, -1}},
    {{DB_AA_COLOR, 0.6f, 4}, {DB_AA_CONTRAST, 1.0f, 8}},
    {{DB_AA_EQUALIZE, 0.8f, -1}, {DB_AA_EQUALIZE, 0.6f, -1}},
};

/* The value of level 0..9 (10 even steps over the paper's range); *signed_op when it takes a
 * random sign */
static float level_value(db_aa_op op, int level, int *signed_op) {
    const float t = (float)level / 9.0f;
    *signed_op = 0;
    switch (op) {
    case DB_AA_POSTERIZE: return (float)(8 - (int)lrintf((float)level / 2.25f)); /* 8, 8, 7, 7, .. 4 */
    case DB_AA_SOLARIZE: return 255.0f * (1.0f - t);
    case DB_AA_ROTATE: *signed_op = 1; return 30.0f * t;
    case DB_AA_SHEAR_X: *signed_op = 1; return 0.3f * t;
    case DB_AA_COLOR:
    case DB_AA_CONTRAST:
    case DB_AA_SHARPNESS: *signed_op = 1; return 0.9f * t; /* the factor is 1 + this */
    default: return 0.0f;
    }
}

/* y = d + f (x - d) over n bytes, clipped and truncated (as PIL's blend) */
static void blend(uint8_t *x, const uint8_t *d, float f, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const float v = (float)d[i] + f * (float)(x[i] - d[i]);
        x[i] = v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t)v;
    }
}

/* ITU-R 601 luma in 16-bit fixed point, rounded (PIL's conversion to grey) */
static inline uint8_t luma(int r, int g, int b) { return (uint8_t)((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16); }

static void equalize_plane(uint8_t *x, size_t n) {
    size_t hist[256] = {0};
    for (size_t i = 0; i < n; i++) hist[x[i]]++;
    int nonzero = 0, last = 0;
    for (int i = 0; i < 256; i++)
        if (hist[i]) nonzero++, last = i;
    if (nonzero <= 1) return;
    const size_t step = (n - hist[last]) / 255;
    if (!step) return;
    uint8_t lut[256];
    size_t acc = step / 2;
    for (int i = 0; i < 256; i++) {
        const size_t v = acc / step;
        lut[i] = (uint8_t)(v > 255 ? 255 : v);
        acc += hist[i];
    }
    for (size_t i = 0; i < n; i++) x[i] = lut[x[i]];
}

/* Per channel, lo..hi onto 0..255 with PIL's arithmetic: truncated x 255/(hi - lo) - lo 255/(hi - lo)
 * in double (so a pixel at hi can land on 254) */
static void autocontrast_plane(uint8_t *x, size_t n) {
    int lo = 255, hi = 0;
    for (size_t i = 0; i < n; i++) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
    }
    if (hi <= lo) return;
    const double scale = 255.0 / (hi - lo), offset = -lo * scale;
    uint8_t lut[256];
    for (int v = 0; v < 256; v++) {
        const int m = (int)(v * scale + offset);
        lut[v] = (uint8_t)(m < 0 ? 0 : m > 255 ? 255 : m);
    }
    for (size_t i = 0; i < n; i++) x[i] = lut[x[i]];
}

/* An affine map from output to input pixels, (x, y) -> (a x + b y + c, d x + e y + f), sampled at
 * the nearest pixel with PIL's arithmetic: from the first pixel's centre, stepping a (d) along a
 * row and b (e) down the rows, in 16.16 fixed point (floored) while every corner maps within
 * +-32768, else in double (truncated); FILL where a pixel falls outside */
static int64_t fix16(double v) { return (int64_t)floor(v * 65536.0 + 0.5); }
static int fixed_fits(const double m[6], int x, int y) {
    return fabs(x * m[0] + y * m[1] + m[2]) < 32768.0 && fabs(x * m[3] + y * m[4] + m[5]) < 32768.0;
}
static int64_t floor16(int64_t v) { return v >= 0 ? v >> 16 : -((-v + 65535) >> 16); }

static void warp(uint8_t *img, uint8_t *tmp, int c, int h, int w, const double m[6]) {
    const size_t plane = (size_t)h * w;
    memcpy(tmp, img, plane * (size_t)c);
    const int fixed = fixed_fits(m, 0, 0) && fixed_fits(m, w, h) && fixed_fits(m, 0, h) && fixed_fits(m, w, 0);
    const int64_t a0 = fix16(m[0]), a1 = fix16(m[1]), a3 = fix16(m[3]), a4 = fix16(m[4]);
    int64_t a2 = fix16(m[2] + m[0] * 0.5 + m[1] * 0.5), a5 = fix16(m[5] + m[3] * 0.5 + m[4] * 0.5);
    double xo = m[2] + m[1] * 0.5 + m[0] * 0.5, yo = m[5] + m[4] * 0.5 + m[3] * 0.5;
    for (int y = 0; y < h; y++, a2 += a1, a5 += a4, xo += m[1], yo += m[4]) {
        int64_t fx = a2, fy = a5;
        double xx = xo, yy = yo;
        for (int x = 0; x < w; x++, fx += a0, fy += a3, xx += m[0], yy += m[3]) {
            const int64_t ix = fixed ? floor16(fx) : xx < 0.0 ? -1 : (int64_t)xx,
                          iy = fixed ? floor16(fy) : yy < 0.0 ? -1 : (int64_t)yy;
            const int inside = ix >= 0 && ix < w && iy >= 0 && iy < h;
            for (int k = 0; k < c; k++)
                img[(size_t)k * plane + (size_t)y * w + x] = inside ? tmp[(size_t)k * plane + (size_t)iy * w + ix] : FILL;
        }
    }
}

/* x rounded to 15 decimals, as PIL rounds its rotation matrix (correctly rounded, as Python's round) */
static double round15(double x) {
    char b[64];
    snprintf(b, sizeof b, "%.15f", x);
    return strtod(b, NULL);
}

/* The 3x3 smoothing (1 1 1 / 1 5 1 / 1 1 1, over 13) of the interior; the border as it is */
static void smooth_plane(uint8_t *out, const uint8_t *x, int h, int w) {
    memcpy(out, x, (size_t)h * w);
    for (int y = 1; y + 1 < h; y++)
        for (int i = 1; i + 1 < w; i++) {
            int s = 4 * x[y * w + i];
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) s += x[(y + dy) * w + i + dx];
            out[y * w + i] = (uint8_t)((s + 6) / 13);
        }
}

void db_aa_apply(db_aa_op op, float v, uint8_t *img, uint8_t *tmp, int c, int h, int w) {
    const size_t plane = (size_t)h * w, n = plane * (size_t)c;
    switch (op) {
    case DB_AA_POSTERIZE: {
        const int bits = v < 1 ? 1 : v > 8 ? 8 : (int)v;
        const uint8_t mask = (uint8_t)(0xFF << (8 - bits));
        for (size_t i = 0; i < n; i++) img[i] &= mask;
        break;
    }
    case DB_AA_SOLARIZE:
        for (size_t i = 0; i < n; i++) img[i] = (float)img[i] >= v ? (uint8_t)(255 - img[i]) : img[i];
        break;
    case DB_AA_INVERT:
        for (size_t i = 0; i < n; i++) img[i] = (uint8_t)(255 - img[i]);
        break;
    case DB_AA_AUTOCONTRAST:
        for (int k = 0; k < c; k++) autocontrast_plane(img + (size_t)k * plane, plane);
        break;
    case DB_AA_EQUALIZE:
        for (int k = 0; k < c; k++) equalize_plane(img + (size_t)k * plane, plane);
        break;
    case DB_AA_COLOR: /* towards the image's grey version */
        if (c != 3) break;
        for (size_t i = 0; i < plane; i++) tmp[i] = luma(img[i], img[plane + i], img[2 * plane + i]);
        for (int k = 0; k < 3; k++) blend(img + (size_t)k * plane, tmp, 1.0f + v, plane);
        break;
    case DB_AA_CONTRAST: { /* towards the mean grey */
        double sum = 0;
        if (c == 3)
            for (size_t i = 0; i < plane; i++) sum += luma(img[i], img[plane + i], img[2 * plane + i]);
        else
            for (size_t i = 0; i < n; i++) sum += img[i];
        memset(tmp, (int)(sum / (double)(c == 3 ? plane : n) + 0.5), n);
        blend(img, tmp, 1.0f + v, n);
        break;
    }
    case DB_AA_SHARPNESS:
        for (int k = 0; k < c; k++) smooth_plane(tmp + (size_t)k * plane, img + (size_t)k * plane, h, w);
        blend(img, tmp, 1.0f + v, n);
        break;
    case DB_AA_ROTATE: { /* about the centre (w/2, h/2); counter-clockwise on screen (y down) for v > 0 */
        const double r = -((double)v * (M_PI / 180.0)), cx = w / 2.0, cy = h / 2.0;
        double m[6] = {round15(cos(r)), round15(sin(r)), 0.0, round15(-sin(r)), round15(cos(r)), 0.0};
        m[2] = m[0] * -cx + m[1] * -cy + cx;
        m[5] = m[3] * -cx + m[4] * -cy + cy;
        warp(img, tmp, c, h, w, m);
        break;
    }
    case DB_AA_SHEAR_X: {
        const double m[6] = {1.0, v, 0.0, 0.0, 1.0, 0.0};
        warp(img, tmp, c, h, w, m);
        break;
    }
    default: break;
    }
}

db_aa_draw db_aa_draw_for(uint64_t seed, uint32_t epoch, int sample) {
    const db_u32x4 r = db_rand4(seed, DB_STREAM_AUTOAUGMENT, epoch, (uint64_t)sample);
    db_aa_draw d = {(int)db_uniform_below(r.v[0], 25u), {0, 0}, {0, 0}, {0, 0}};
    for (int k = 0; k < 2; k++) {
        const aa_step *s = &policy[d.sub][k];
        int signed_op;
        const float u = (float)(r.v[1 + k] >> 8) * (1.0f / 16777216.0f); /* [0, 1) */
        d.op[k] = s->op;
        d.applies[k] = u < s->p;
        d.value[k] = s->level >= 0 ? level_value(s->op, s->level, &signed_op) : 0.0f;
        if (s->level >= 0 && signed_op && (r.v[3] >> k & 1u)) d.value[k] = -d.value[k];
    }
    return d;
}

void db_autoaugment(uint8_t *img, uint8_t *tmp, int c, int h, int w, uint64_t seed, uint32_t epoch, int sample) {
    const db_aa_draw d = db_aa_draw_for(seed, epoch, sample);
    for (int k = 0; k < 2; k++)
        if (d.applies[k]) db_aa_apply(d.op[k], d.value[k], img, tmp, c, h, w);
}
