/* The unit-test runner: runs every registered test (or those whose name contains argv[1]),
 * prints one line per test and ends with "N passed, N failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "include/dropbench.h" /* the public header must stay self-contained */
#include "tests/check.h"

int db_test_failures;

void db_test_mkdtemp(char *dir, const char *tag) {
    snprintf(dir, 64, "/tmp/dbtest_%s_XXXXXX", tag);
    CHECK(mkdtemp(dir) != NULL, "mkdtemp %s failed", dir);
}

const char *db_test_path(const char *dir, const char *name) {
    static char bufs[32][256];
    static int next;
    char *b = bufs[next++ % 32];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

void db_test_rmtree(const char *dir) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(strncmp(dir, "/tmp/dbtest_", 12) == 0 && system(cmd) == 0, "cannot remove %s", dir);
}

extern const db_test db_tests_ops[], db_tests_net[], db_tests_datasets[], db_tests_train[], db_tests_dropouts[],
    db_tests_dropblock[], db_tests_store[], db_tests_stats[], db_tests_report[], db_tests_cifar[],
    db_tests_pipeline[], db_tests_folder[], db_tests_coco[], db_tests_miou[], db_tests_harness[], db_tests_detect[], db_tests_fmnist_detect[],
    db_tests_detset[], db_tests_segment[], db_tests_amoebanet[], db_tests_spatial[], db_tests_optim[], db_tests_autoaugment[], db_tests_report_choice[];
static const db_test *suites[] = {db_tests_ops, db_tests_spatial, db_tests_net, db_tests_optim, db_tests_datasets, db_tests_train,
                                  db_tests_dropouts, db_tests_dropblock, db_tests_store, db_tests_stats, db_tests_report, db_tests_report_choice,
                                  db_tests_cifar, db_tests_pipeline, db_tests_autoaugment, db_tests_folder,
                                  db_tests_coco, db_tests_miou, db_tests_harness, db_tests_detect, db_tests_fmnist_detect,
                                  db_tests_detset, db_tests_segment, db_tests_amoebanet};

int main(int argc, char **argv) {
    int passed = 0, failed = 0;
    for (size_t s = 0; s < sizeof suites / sizeof *suites; s++)
        for (const db_test *t = suites[s]; t->name; t++) {
            if (argc > 1 && !strstr(t->name, argv[1])) continue;
            struct timespec a, b;
            clock_gettime(CLOCK_MONOTONIC, &a);
            db_test_failures = 0;
            t->fn();
            clock_gettime(CLOCK_MONOTONIC, &b);
            double sec = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9;
            printf("%s %s (%.2fs)\n", db_test_failures ? "FAIL" : "ok  ", t->name, sec);
            fflush(stdout);
            if (db_test_failures) failed++; else passed++;
        }
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
