/* The fuzz targets' shared piece: the readers take paths, so each input is handed to them as an
 * in-memory file (memfd) named by its /proc/self/fd path. */
#ifndef DB_TESTS_FUZZ_INPUT_H
#define DB_TESTS_FUZZ_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* A memfd holding data; its path in path (64 bytes). Returns the fd (close it after) or -1. */
static int fuzz_file(const uint8_t *data, size_t size, char *path) {
    int fd = memfd_create("fuzz", 0);
    if (fd < 0) abort();
    for (size_t off = 0; off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) abort();
        off += (size_t)w;
    }
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

#endif
