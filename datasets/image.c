#include "datasets/image.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} jerr;

static void on_error(j_common_ptr c) {
    jerr *e = (jerr *)c->err;
    (*c->err->format_message)(c, e->msg);
    longjmp(e->jump, 1);
}

/* Warnings that mean missing image data (libjpeg would paper over it with grey) count as
 * errors; the benign ones (stray bytes before a marker, which real photo collections have) do
 * not. */
static void on_message(j_common_ptr c, int level) {
    jerr *e = (jerr *)c->err;
    int code = c->err->msg_code;
    if (level < 0 && (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_MUST_RESYNC)) {
        if (!e->pub.num_warnings) (*c->err->format_message)(c, e->msg);
        e->pub.num_warnings++;
    }
}

void db_image_free(db_image *img) {
    free(img->px);
    memset(img, 0, sizeof *img);
}

db_status db_jpeg_load(const char *path, db_crop_fn pick, void *ctx, int out_h, int out_w, db_image *img, db_crop *crop) {
    memset(img, 0, sizeof *img);
    FILE *f = fopen(path, "rb");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    unsigned char sig[8] = {0};
    size_t got = fread(sig, 1, sizeof sig, f);
    rewind(f);
    if (got == 8 && !memcmp(sig, "\x89PNG\r\n\x1a\n", 8)) {
        fclose(f);
        return db_fail(DB_ERR_FORMAT, "%s: a PNG file with a JPEG name: convert it to JPEG (ImageNet's training set "
                       "has one such file; the usual preparation scripts convert it)", path);
    }
    struct jpeg_decompress_struct c;
    jerr e;
    memset(&e, 0, sizeof e);
    c.err = jpeg_std_error(&e.pub);
    e.pub.error_exit = on_error;
    e.pub.emit_message = on_message;
    uint8_t *volatile px = NULL;
    uint8_t *volatile row = NULL;
    if (setjmp(e.jump)) {
        jpeg_destroy_decompress(&c);
        fclose(f);
        free(px);
        free(row);
        return db_fail(DB_ERR_FORMAT, "%s: not a readable JPEG: %s", path, e.msg);
    }
    jpeg_create_decompress(&c);
    jpeg_stdio_src(&c, f);
    jpeg_read_header(&c, TRUE);
    if (c.image_width < 1 || c.image_height < 1 || c.image_width > 30000 || c.image_height > 30000) {
        snprintf(e.msg, sizeof e.msg, "%ux%u pixels", c.image_width, c.image_height);
        longjmp(e.jump, 1);
    }
    int H = (int)c.image_height, W = (int)c.image_width;
    pick(H, W, ctx, crop);
    int denom = 1; /* the coarsest 1/2^k keeping the crop at least out_h x out_w */
    while (denom < 8 && crop->h / (2 * denom) >= out_h && crop->w / (2 * denom) >= out_w) denom *= 2;
    c.scale_num = 1;
    c.scale_denom = (unsigned)denom;
    int cmyk = c.jpeg_color_space == JCS_CMYK || c.jpeg_color_space == JCS_YCCK;
    int inverted = c.saw_Adobe_marker; /* Adobe's CMYK is stored inverted */
    c.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    c.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&c);
    int h = (int)c.output_height, w = (int)c.output_width, comps = c.output_components;
    if ((double)h * w > 1e8) { /* a header can claim any size: refuse before allocating */
        snprintf(e.msg, sizeof e.msg, "%dx%d pixels after scaling is more than this reader takes", w, h);
        longjmp(e.jump, 1);
    }
    px = malloc((size_t)h * w * 3);
    row = malloc((size_t)w * comps);
    if (!px || !row) {
        snprintf(e.msg, sizeof e.msg, "out of memory for %dx%d pixels", w, h);
        longjmp(e.jump, 1);
    }
    while ((int)c.output_scanline < h) {
        JSAMPROW r = row;
        int y = (int)c.output_scanline;
        jpeg_read_scanlines(&c, &r, 1);
        uint8_t *dst = px + (size_t)y * w * 3;
        if (comps == 3) memcpy(dst, row, (size_t)w * 3);
        else if (comps == 4)
            for (int x = 0; x < w; x++) {
                const uint8_t *q = row + 4 * x;
                unsigned k = inverted ? q[3] : 255u - q[3];
                for (int ch = 0; ch < 3; ch++) {
                    unsigned v = inverted ? q[ch] : 255u - q[ch];
                    dst[3 * x + ch] = (uint8_t)((v * k + 127) / 255);
                }
            }
        else
            for (int x = 0; x < w; x++) dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = row[x];
    }
    jpeg_finish_decompress(&c);
    int warned = (int)e.pub.num_warnings;
    jpeg_destroy_decompress(&c);
    fclose(f);
    free(row);
    if (warned) {
        free(px);
        return db_fail(DB_ERR_FORMAT, "%s: corrupt or truncated JPEG: %s", path, e.msg);
    }
    img->px = px; img->h = h; img->w = w; img->c = 3;
    double sy = (double)h / H, sx = (double)w / W;
    crop->y0 *= sy; crop->h *= sy; crop->x0 *= sx; crop->w *= sx;
    return DB_OK;
}

/* The source pixels of one output pixel and their weights (w: room for the widest filter) */
typedef struct {
    int lo, n;
    float *w;
} taps;

/* The most source pixels one output pixel of a span of len over n reads */
static int max_taps(double len, int n) {
    double scale = len / n;
    return (int)ceil(2.0 * (scale > 1 ? scale : 1.0)) + 3;
}

/* Output coordinate o of n over a source span [s0, s0+len) of a line of `size` pixels: a
 * triangle filter, its support widened to the footprint when shrinking */
static void weights(double s0, double len, int n, int o, int size, taps *t) {
    double scale = len / n, support = scale > 1 ? scale : 1.0;
    double centre = s0 + (o + 0.5) * scale;
    int lo = (int)floor(centre - support), hi = (int)ceil(centre + support);
    if (lo < 0) lo = 0;
    if (hi > size) hi = size;
    double sum = 0;
    for (int i = lo; i < hi; i++) {
        double d = fabs((i + 0.5 - centre) / support);
        t->w[i - lo] = (float)(d < 1 ? 1 - d : 0);
        sum += t->w[i - lo];
    }
    t->lo = lo;
    t->n = hi - lo;
    if (sum <= 0) { /* nothing under the filter: the nearest pixel */
        int i = (int)centre;
        t->lo = i < 0 ? 0 : i >= size ? size - 1 : i;
        t->n = 1;
        t->w[0] = 1;
        return;
    }
    for (int i = 0; i < t->n; i++) t->w[i] = (float)(t->w[i] / sum);
}

db_status db_image_resample(const db_image *img, const db_crop *crop, int oh, int ow, int mirror, float *out, float *scratch) {
    const int C = img->c;
    if (C < 1 || C > 4) return db_fail(DB_ERR_INTERNAL, "resampling %d channels", C);
    int mx = max_taps(crop->w, ow), my = max_taps(crop->h, oh);
    float *wbuf = malloc(sizeof(float) * (size_t)(mx > my ? mx : my));
    if (!wbuf) return db_fail(DB_ERR_NOMEM, "out of memory resampling");
    taps t = {0, 0, wbuf};
    /* the rows the vertical pass reads */
    double sy = crop->h / oh, supy = sy > 1 ? sy : 1;
    int r0 = (int)floor(crop->y0 - supy), r1 = (int)ceil(crop->y0 + crop->h + supy);
    if (r0 < 0) r0 = 0;
    if (r1 > img->h) r1 = img->h;
    int rows = r1 - r0;
    /* horizontal pass: rows r0..r1 to ow columns, per channel */
    for (int x = 0; x < ow; x++) {
        int xo = mirror ? ow - 1 - x : x;
        weights(crop->x0, crop->w, ow, x, img->w, &t);
        for (int y = 0; y < rows; y++) {
            const uint8_t *src = img->px + ((size_t)(r0 + y) * img->w + t.lo) * C;
            float a[4] = {0, 0, 0, 0};
            for (int i = 0; i < t.n; i++)
                for (int ch = 0; ch < C; ch++) a[ch] += t.w[i] * src[C * i + ch];
            for (int ch = 0; ch < C; ch++) scratch[((size_t)ch * rows + y) * ow + xo] = a[ch];
        }
    }
    /* vertical pass */
    for (int y = 0; y < oh; y++) {
        weights(crop->y0, crop->h, oh, y, img->h, &t);
        for (int ch = 0; ch < C; ch++) {
            float *dst = out + ((size_t)ch * oh + y) * ow;
            for (int x = 0; x < ow; x++) dst[x] = 0;
            for (int i = 0; i < t.n; i++) {
                int r = t.lo + i - r0;
                if (r < 0 || r >= rows) continue;
                const float *src = scratch + ((size_t)ch * rows + r) * ow;
                for (int x = 0; x < ow; x++) dst[x] += t.w[i] * src[x];
            }
        }
    }
    free(wbuf);
    return DB_OK;
}

db_status db_image_to_planes(const db_image *img, const db_crop *crop, int oh, int ow, int mirror, const float *scale,
                             const float *bias, float *const *planes, int stride, const char *what) {
    const size_t plane = (size_t)oh * ow;
    const int C = img->c;
    float *pix = malloc(sizeof(float) * (size_t)C * plane), *scratch = malloc(sizeof(float) * (size_t)C * img->h * ow);
    db_status st = pix && scratch ? DB_OK : db_fail(DB_ERR_NOMEM, "out of memory resampling %s", what);
    if (st == DB_OK) st = db_image_resample(img, crop, oh, ow, mirror, pix, scratch);
    for (int c = 0; c < C && st == DB_OK; c++)
        for (int y = 0; y < oh; y++) {
            const float *src = pix + c * plane + (size_t)y * ow;
            float *dst = planes[c] + (size_t)y * stride;
            for (int x = 0; x < ow; x++) dst[x] = src[x] * scale[c] + bias[c];
        }
    free(pix);
    free(scratch);
    return st;
}

db_status db_jpeg_to_planes(const char *path, db_crop_fn pick, void *ctx, int oh, int ow, int mirror,
                            const float *scale, const float *bias, float *const *planes, int stride) {
    db_image img;
    db_crop crop;
    DB_TRY(db_jpeg_load(path, pick, ctx, oh, ow, &img, &crop));
    db_status st = db_image_to_planes(&img, &crop, oh, ow, mirror, scale, bias, planes, stride, path);
    db_image_free(&img);
    return st;
}
