#include "train/predictions.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/dirs.h"
#include "datasets/fetch.h"

#define MARKER ".dropbench-predictions"

/* DB_OK when path is absent or a predictions folder this tool wrote */
static db_status replaceable(const char *path) {
    struct stat st;
    char marker[1200];
    if (lstat(path, &st) != 0) return DB_OK;
    snprintf(marker, sizeof marker, "%s/" MARKER, path);
    if (S_ISDIR(st.st_mode) && stat(marker, &st) == 0) return DB_OK;
    return db_fail(DB_ERR_IO, "%s exists and holds no predictions written by dropbench (no %s): remove it or choose "
                   "another predictions_dir", path, MARKER);
}

/* dir without trailing slashes, and beside it its .part and .old names; "", "." and "/" refused */
static db_status names(const char *dir, char *clean, char *part, char *old, size_t n) {
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--;
    if (len == 0 || (len == 1 && (dir[0] == '.' || dir[0] == '/')) || (len == 2 && !strncmp(dir, "..", 2)))
        return db_fail(DB_ERR_ARG, "predictions_dir '%s': a folder of its own, replaced by each evaluation", dir);
    if (len + 6 >= n) return db_fail(DB_ERR_ARG, "predictions_dir %s: the path is too long", dir);
    snprintf(clean, n, "%.*s", (int)len, dir);
    snprintf(part, n, "%s.part", clean);
    snprintf(old, n, "%s.old", clean);
    return DB_OK;
}

db_status db_predictions_check(const char *dir) {
    char clean[1100], part[1100], old[1100];
    DB_TRY(names(dir, clean, part, old, sizeof clean));
    DB_TRY(replaceable(clean));
    DB_TRY(replaceable(part));
    return replaceable(old);
}

db_status db_predictions_begin(const char *dir, char *part, size_t n) {
    char clean[1100], p[1100], old[1100];
    DB_TRY(names(dir, clean, p, old, sizeof clean));
    DB_TRY(db_predictions_check(dir));
    struct stat st;
    if (lstat(clean, &st) != 0 && lstat(old, &st) == 0 && rename(old, clean) != 0) /* a swap cut short: the old back */
        return db_fail(DB_ERR_IO, "%s: cannot put it back as %s: %s", old, clean, strerror(errno));
    if (snprintf(part, n, "%s", p) >= (int)n) return db_fail(DB_ERR_ARG, "%s: the path is too long", p);
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
    char clean[1100], p[1100], old[1100];
    DB_TRY(names(dir, clean, p, old, sizeof clean));
    DB_TRY(db_predictions_check(dir));
    struct stat st;
    /* the previous predictions stay whole at every moment: moved aside, the new put in place, the
     * old removed last (a kill between leaves DIR.old, which the next begin puts back) */
    DB_TRY(db_remove_tree(old));
    if (lstat(clean, &st) == 0 && rename(clean, old) != 0)
        return db_fail(DB_ERR_IO, "%s: cannot move it aside to %s: %s", clean, old, strerror(errno));
    if (rename(part, clean) != 0) return db_fail(DB_ERR_IO, "%s: cannot rename to %s: %s", part, clean, strerror(errno));
    return db_remove_tree(old);
}
