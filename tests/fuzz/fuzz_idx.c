/* libFuzzer target: the IDX reader (datasets/idx.c). The first byte chooses which file of the
 * pair the rest of the input is (images or labels; either may be gzip); the other one is a
 * small valid file. Any input must load or fail with a message, never crash or leak. */
#include <string.h>

#include "datasets/dataset.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    /* two 2x2 images and their labels */
    static const uint8_t images[] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8};
    static const uint8_t labels[] = {0, 0, 8, 1, 0, 0, 0, 2, 3, 9};
    char fuzz_path[64], other_path[64];
    int as_labels = data[0] & 1;
    int f1 = fuzz_file(data + 1, size - 1, fuzz_path);
    int f2 = as_labels ? fuzz_file(images, sizeof images, other_path) : fuzz_file(labels, sizeof labels, other_path);
    db_dataset d;
    if (db_idx_load(as_labels ? other_path : fuzz_path, as_labels ? fuzz_path : other_path, 10, "fuzz", &d) == DB_OK) {
        if (d.n < 1 || !d.images || !d.labels) abort();
        for (int i = 0; i < d.n; i++)
            if (d.labels[i] >= 10) abort(); /* a label the reader let through out of range */
    }
    db_dataset_free(&d);
    close(f1);
    close(f2);
    return 0;
}
