/* A small test harness: each test is a function; CHECK records a failure with file and line
 * and lets the test go on; the runner prints one line per test and "N passed, N failed". */
#ifndef DB_TESTS_CHECK_H
#define DB_TESTS_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "core/status.h"

extern int db_test_failures; /* failures in the test now running */

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            db_test_failures++;                                                 \
            fprintf(stderr, "    %s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fprintf(stderr, "\n");                                              \
        }                                                                       \
    } while (0)

/* |a-b| <= atol + rtol*|b| */
#define CHECK_CLOSE(a, b, atol, rtol)                                           \
    CHECK(fabs((double)(a) - (double)(b)) <= (atol) + (rtol) * fabs((double)(b)), \
          "%s = %.8g, %s = %.8g", #a, (double)(a), #b, (double)(b))

/* A call returning db_status must succeed; on failure print the library's message. */
#define CHECK_OK(expr)                                                          \
    do {                                                                        \
        db_status check_s_ = (expr);                                            \
        CHECK(check_s_ == DB_OK, "%s -> %s: %s", #expr, db_status_name(check_s_), \
              db_last_error());                                                 \
    } while (0)

typedef struct {
    const char *name;
    void (*fn)(void);
} db_test;

/* Fixture folders (tests/main.c): a fresh /tmp/dbtest_TAG_XXXXXX written into dir (64 bytes);
 * dir/name in rotating buffers, enough for every path one test keeps; the folder removed with
 * everything in it. */
void db_test_mkdtemp(char *dir, const char *tag);
const char *db_test_path(const char *dir, const char *name);
void db_test_rmtree(const char *dir);
/* A JPEG (quality 90) at path of h x w pixels of c (1 or 3) interleaved channels (tests/jpeg_fixture.c) */
db_status db_test_write_jpeg(const char *path, const uint8_t *px, int h, int w, int c);

#endif
