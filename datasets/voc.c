#include "datasets/voc.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char msg[256];
} png_err;

static void on_error(png_structp p, png_const_charp msg) {
    png_err *e = png_get_error_ptr(p);
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    png_longjmp(p, 1);
}

static void on_warning(png_structp p, png_const_charp msg) { (void)p; (void)msg; }

/* An 8-bit PNG's bytes: a label map's indices (palette or grey, any depth up to 8), or, with
 * image set, an 8-bit grey image's values (anything else refused); px NULL: only its size */
static db_status png_read8(const char *path, uint8_t **px, int *h, int *w, int image) {
    if (px) *px = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    png_err e = {""};
    png_structp p = png_create_read_struct(PNG_LIBPNG_VER_STRING, &e, on_error, on_warning);
    png_infop info = p ? png_create_info_struct(p) : NULL;
    uint8_t *volatile buf = NULL;
    png_bytep *volatile rows = NULL;
    if (!p || !info) {
        png_destroy_read_struct(&p, &info, NULL);
        fclose(f);
        return db_fail(DB_ERR_NOMEM, "%s: libpng could not start", path);
    }
    if (setjmp(png_jmpbuf(p))) {
        png_destroy_read_struct(&p, &info, NULL);
        fclose(f);
        free(buf);
        free(rows);
        return db_fail(DB_ERR_FORMAT, "%s: not a readable PNG: %s", path, e.msg);
    }
    png_init_io(p, f);
    png_set_user_limits(p, 20000, 20000);
    png_read_info(p, info);
    png_uint_32 width = png_get_image_width(p, info), height = png_get_image_height(p, info);
    int type = png_get_color_type(p, info), depth = png_get_bit_depth(p, info);
    if (image && (type != PNG_COLOR_TYPE_GRAY || depth != 8)) {
        snprintf(e.msg, sizeof e.msg, "colour type %d with %d-bit samples: this reader takes 8-bit grey images", type, depth);
        png_longjmp(p, 1);
    }
    if ((type != PNG_COLOR_TYPE_PALETTE && type != PNG_COLOR_TYPE_GRAY) || depth > 8) {
        snprintf(e.msg, sizeof e.msg, "colour type %d with %d-bit samples: a label map is a palette or 8-bit grey image",
                 type, depth);
        png_longjmp(p, 1);
    }
    if (!px) {
        png_destroy_read_struct(&p, &info, NULL);
        fclose(f);
        *h = (int)height, *w = (int)width;
        return DB_OK;
    }
    if (depth < 8) png_set_packing(p); /* one byte per index, no palette expansion */
    png_read_update_info(p, info);
    buf = malloc((size_t)width * height);
    rows = malloc(sizeof *rows * height);
    if (!buf || !rows) {
        snprintf(e.msg, sizeof e.msg, "out of memory for %ux%u", width, height);
        png_longjmp(p, 1);
    }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = buf + (size_t)y * width;
    png_read_image(p, rows);
    png_read_end(p, NULL);
    png_destroy_read_struct(&p, &info, NULL);
    fclose(f);
    free(rows);
    *px = buf;
    *h = (int)height;
    *w = (int)width;
    return DB_OK;
}

db_status db_label_png_read(const char *path, uint8_t **px, int *h, int *w) { return png_read8(path, px, h, w, 0); }

db_status db_label_png_size(const char *path, int *h, int *w) { return png_read8(path, NULL, h, w, 0); }

db_status db_grey_png_read(const char *path, uint8_t **px, int *h, int *w) { return png_read8(path, px, h, w, 1); }

/* An 8-bit PNG of px: palette (VOC's colour map) or greyscale */
static db_status png_write8(const char *path, const uint8_t *px, int h, int w, int palette) {
    FILE *f = fopen(path, "wb");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    png_err e = {""};
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, &e, on_error, on_warning);
    png_infop info = p ? png_create_info_struct(p) : NULL;
    if (!p || !info || setjmp(png_jmpbuf(p))) {
        png_destroy_write_struct(&p, &info);
        fclose(f);
        return db_fail(DB_ERR_IO, "%s: cannot write the PNG: %s", path, e.msg);
    }
    png_init_io(p, f);
    png_set_IHDR(p, info, (png_uint_32)w, (png_uint_32)h, 8, palette ? PNG_COLOR_TYPE_PALETTE : PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_color pal[256]; /* VOC's colour map: the bits of the index spread over R, G and B */
    for (int i = 0; i < 256; i++) {
        int r = 0, g = 0, b = 0, c = i;
        for (int j = 0; j < 8; j++, c >>= 3) {
            r |= ((c >> 0) & 1) << (7 - j);
            g |= ((c >> 1) & 1) << (7 - j);
            b |= ((c >> 2) & 1) << (7 - j);
        }
        pal[i].red = (png_byte)r; pal[i].green = (png_byte)g; pal[i].blue = (png_byte)b;
    }
    if (palette) png_set_PLTE(p, info, pal, 256);
    png_write_info(p, info);
    for (int y = 0; y < h; y++) png_write_row(p, (png_const_bytep)(px + (size_t)y * w));
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &info);
    return fclose(f) == 0 ? DB_OK : db_fail(DB_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
}

db_status db_label_png_write(const char *path, const uint8_t *px, int h, int w) { return png_write8(path, px, h, w, 1); }

db_status db_grey_png_write(const char *path, const uint8_t *px, int h, int w) { return png_write8(path, px, h, w, 0); }
