/* libFuzzer target: the CIFAR reader (datasets/cifar.c) on arbitrary archives: both class
 * counts, both splits. Any input must load or fail with a message, never crash or leak. */
#include "datasets/cifar.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64];
    int fd = fuzz_file(data, size, path);
    static const char *splits[2] = {"train", "test"};
    for (int k = 0; k < 4; k++) {
        int classes = k < 2 ? 10 : 100;
        db_dataset d;
        if (db_cifar_load(path, classes, splits[k & 1], &d) == DB_OK) {
            if (d.n < 1 || d.c != 3 || d.h != 32 || d.w != 32) abort();
            for (int i = 0; i < d.n; i++)
                if (d.labels[i] >= classes) abort();
        }
        db_dataset_free(&d);
    }
    close(fd);
    return 0;
}
