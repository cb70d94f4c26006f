#include "train/predictions.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "datasets/fetch.h"

#define MARKER ".dropbench-predictions"

/* 1 when path is absent or a predictions folder this tool wrote */
static db_status replaceable(const char *path) {
    struct stat st;
    char marker[1200];
    if (lstat(path, &st) != 0) return DB_OK;
    snprintf(marker, sizeof marker, "%s/" MARKER, path);
    if (S_ISDIR(st.st_mode) && stat(marker, &st) == 0) return DB_OK;
    return db_fail(DB_ERR_IO, "%s exists and holds no predictions written by dropbench (no %s): remove it or choose "
                   "another predictions_dir", path, MARKER);
}

db_status db_predictions_begin(const char *dir, char *part, size_t n) {
    if (snprintf(part, n, "%s.part", dir) >= (int)n) return db_fail(DB_ERR_ARG, "%s: the path is too long", dir);
    DB_TRY(replaceable(dir));
    DB_TRY(replaceable(part));
    DB_TRY(db_remove_tree(part));
    char marker[1200];
    snprintf(marker, sizeof marker, "%s/" MARKER, part);
    DB_TRY(db_make_dirs_for(marker));
    FILE *f = fopen(marker, "w");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot write: %s", marker, strerror(errno));
    const int wrote = fputs("predictions written by dropbench train; replaced by each evaluation\n", f) >= 0;
    if (fclose(f) != 0 || !wrote) return db_fail(DB_ERR_IO, "%s: cannot write: %s", marker, strerror(errno));
    return DB_OK;
}

db_status db_predictions_commit(const char *dir, const char *part) {
    DB_TRY(replaceable(dir));
    DB_TRY(db_remove_tree(dir));
    if (rename(part, dir) != 0) return db_fail(DB_ERR_IO, "%s: cannot rename to %s: %s", part, dir, strerror(errno));
    return DB_OK;
}
