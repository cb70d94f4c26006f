/* libFuzzer target: the VOC label-map reader (datasets/voc.c, libpng). Any input must give a
 * map of h x w indices or fail with a message. */
#include <stdlib.h>

#include "datasets/voc.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64];
    int fd = fuzz_file(data, size, path);
    uint8_t *px = NULL;
    int h = 0, w = 0;
    if (db_label_png_read(path, &px, &h, &w) == DB_OK) {
        if (h < 1 || w < 1 || !px) abort();
        volatile unsigned sum = 0;
        for (size_t i = 0; i < (size_t)h * w; i++) sum += px[i]; /* every byte is there */
        free(px);
    }
    close(fd);
    return 0;
}
