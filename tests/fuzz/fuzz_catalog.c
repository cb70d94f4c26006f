/* libFuzzer target: the catalog-file parser (datasets/catalog.c). Whatever it accepts must be
 * usable: plain file names, hex checksums, at least one of them. */
#include <string.h>

#include "datasets/catalog.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64];
    int fd = fuzz_file(data, size, path);
    db_catalog c;
    if (db_catalog_load(&c, path) == DB_OK) {
        for (int i = 0; i < c.n; i++) {
            const db_catalog_file *f = &c.files[i];
            if (strchr(f->file, '/') || !f->file[0] || (!f->md5[0] && !f->sha256[0])) abort();
            if (f->md5[0] && strlen(f->md5) != 32) abort();
            if (f->sha256[0] && strlen(f->sha256) != 64) abort();
        }
        db_catalog_free(&c);
    }
    close(fd);
    return 0;
}
