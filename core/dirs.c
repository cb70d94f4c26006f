#include "core/dirs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

db_status db_make_dirs(const char *dir) {
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) return db_fail(DB_ERR_ARG, "%.200s...: path too long", dir);
    size_t n = strlen(p);
    if (!n) return db_fail(DB_ERR_ARG, "an empty folder name");
    while (n > 1 && p[n - 1] == '/') p[--n] = '\0';
    for (char *q = p + 1;; q++) {
        int end = *q == '\0';
        if (*q == '/' || end) {
            *q = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST)
                return db_fail(DB_ERR_IO, "%s: cannot create the folder: %s", p, strerror(errno));
            if (end) break;
            *q = '/';
        }
    }
    struct stat sb;
    if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode)) return db_fail(DB_ERR_IO, "%s: exists and is not a folder", p);
    return DB_OK;
}

db_status db_make_dirs_for(const char *path) {
    char p[4096];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p) return db_fail(DB_ERR_ARG, "%.200s...: path too long", path);
    char *slash = strrchr(p, '/');
    if (!slash) return DB_OK;
    if (slash == p) return DB_OK; /* the root */
    *slash = '\0';
    return db_make_dirs(p);
}
