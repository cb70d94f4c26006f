/* libFuzzer target: the VOC label-map reader (datasets/voc.c, libpng). Any input must give a
 * map of h x w indices or fail with a message. Before the reader sees an input, every chunk's
 * CRC is set right (zlib's crc32 over type and data): a mutation inside a chunk then reaches
 * libpng's parser and decoder instead of stopping at the CRC check. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "datasets/voc.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each chunk (4-byte big-endian length, 4-byte type, data, 4-byte CRC) after the signature, its
 * CRC recomputed, as far as whole chunks go */
static void fix_crcs(uint8_t *p, size_t size) {
    for (size_t at = 8; at + 12 <= size;) {
        uint32_t len = (uint32_t)p[at] << 24 | (uint32_t)p[at + 1] << 16 | (uint32_t)p[at + 2] << 8 | p[at + 3];
        if (len > size - at - 12) break;
        uLong crc = crc32(0L, p + at + 4, (uInt)len + 4);
        uint8_t *c = p + at + 8 + len;
        c[0] = (uint8_t)(crc >> 24); c[1] = (uint8_t)(crc >> 16); c[2] = (uint8_t)(crc >> 8); c[3] = (uint8_t)crc;
        at += 12 + (size_t)len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) abort();
    memcpy(copy, data, size);
    fix_crcs(copy, size);
    char path[64];
    int fd = fuzz_file(copy, size, path);
    free(copy);
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
