/* JPEG fixtures for the tests of the readers that decode them (tests/check.h) */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>

#include "tests/check.h"

typedef struct { struct jpeg_error_mgr pub; jmp_buf jump; char msg[JMSG_LENGTH_MAX]; } jpeg_fail;

static void jpeg_failed(j_common_ptr c) {
    jpeg_fail *e = (jpeg_fail *)c->err;
    (*c->err->format_message)(c, e->msg);
    longjmp(e->jump, 1);
}

db_status db_test_write_jpeg(const char *path, const uint8_t *px, int h, int w, int c) {
    FILE *f = fopen(path, "wb");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    struct jpeg_compress_struct j;
    jpeg_fail e;
    memset(&e, 0, sizeof e);
    j.err = jpeg_std_error(&e.pub);
    e.pub.error_exit = jpeg_failed;
    if (setjmp(e.jump)) {
        jpeg_destroy_compress(&j);
        fclose(f);
        return db_fail(DB_ERR_IO, "%s: %s", path, e.msg);
    }
    jpeg_create_compress(&j);
    jpeg_stdio_dest(&j, f);
    j.image_width = (JDIMENSION)w;
    j.image_height = (JDIMENSION)h;
    j.input_components = c;
    j.in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&j);
    jpeg_set_quality(&j, 90, TRUE);
    jpeg_start_compress(&j, TRUE);
    while (j.next_scanline < j.image_height) {
        JSAMPROW r = (JSAMPROW)(px + (size_t)j.next_scanline * w * c);
        jpeg_write_scanlines(&j, &r, 1);
    }
    jpeg_finish_compress(&j);
    jpeg_destroy_compress(&j);
    return fclose(f) == 0 ? DB_OK : db_fail(DB_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
}

