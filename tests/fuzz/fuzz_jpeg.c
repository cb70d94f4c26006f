/* libFuzzer target: JPEG decoding and the crop/resample around it (datasets/image.c). The
 * first bytes choose the crop and the output size; the rest is the file. Any input must
 * decode and resample inside its buffers or fail with a message. */
#include <math.h>

#include "datasets/image.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void pick(int H, int W, void *ctx, db_crop *c) {
    const uint8_t *b = ctx; /* a crop inside the image from four bytes */
    c->h = 1 + (H - 1) * (b[0] / 255.0);
    c->w = 1 + (W - 1) * (b[1] / 255.0);
    c->y0 = (H - c->h) * (b[2] / 255.0);
    c->x0 = (W - c->w) * (b[3] / 255.0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 6) return 0;
    int out = 1 + data[4] % 64, mirror = data[5] & 1;
    char path[64];
    int fd = fuzz_file(data + 6, size - 6, path);
    db_image img;
    db_crop crop;
    if (db_jpeg_load(path, pick, (void *)data, out, out, &img, &crop) == DB_OK) {
        float *px = malloc(sizeof(float) * 3 * (size_t)out * out), *scratch = malloc(sizeof(float) * 3 * (size_t)img.h * out);
        if (db_image_resample(&img, &crop, out, out, mirror, px, scratch) != DB_OK) abort();
        for (int i = 0; i < 3 * out * out; i++)
            if (!(px[i] >= -0.01f && px[i] <= 255.01f)) abort(); /* a weighted mean of bytes */
        free(px);
        free(scratch);
        db_image_free(&img);
    }
    close(fd);
    return 0;
}
