#include "core/dirs.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
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

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

db_status db_remove_tree(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) != 0) return DB_OK;
    if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0) /* (never into another file system mounted inside) */
        return db_fail(DB_ERR_IO, "%s: cannot remove: %s", path, strerror(errno));
    return DB_OK;
}

/* Does file (a regular one) hold sign in its first 4 KiB? */
static int signed_by(const char *dir, const char *name, const char *sign) {
    char path[4400], head[4097];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    FILE *f = lstat(path, &st) == 0 && S_ISREG(st.st_mode) ? fopen(path, "rb") : NULL;
    if (!f) return 0;
    size_t n = fread(head, 1, sizeof head - 1, f);
    fclose(f);
    head[n] = '\0';
    return strstr(head, sign) != NULL;
}

/* Does the folder hold only names of k->own, one of them signed by the tool (k->sign), or nothing,
 * where the kind has such names? */
static int only_own(const char *path, const db_swap_kind *k) {
    DIR *d = k->own ? opendir(path) : NULL;
    if (!d) return 0;
    int ok = 1, sign = !k->sign, entries = 0;
    for (struct dirent *e; ok && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        entries++;
        int mine = 0;
        for (int i = 0; k->own[i] && !mine; i++) mine = !strcmp(e->d_name, k->own[i]);
        ok = mine;
        if (mine && !sign) sign = signed_by(path, e->d_name, k->sign);
    }
    closedir(d);
    return ok && (sign || !entries); /* an empty folder is anyone's to fill */
}

/* DB_OK when path is absent or a folder the tool wrote */
static db_status replaceable(const char *path, const db_swap_kind *k) {
    struct stat st;
    char marker[4400];
    if (lstat(path, &st) != 0) return DB_OK;
    snprintf(marker, sizeof marker, "%s/%s", path, k->marker);
    if (S_ISDIR(st.st_mode) && (stat(marker, &st) == 0 || only_own(path, k))) return DB_OK;
    return db_fail(DB_ERR_IO, "%s exists and was not written by dropbench (no %s in it): remove it or choose another %s",
                   path, k->marker, k->what);
}

/* dir without trailing slashes, and beside it its .part and .old names */
static db_status names(const char *dir, const db_swap_kind *k, char *clean, char *part, char *old, size_t n) {
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--;
    if (len == 0 || (len == 1 && (dir[0] == '.' || dir[0] == '/')) || (len == 2 && !strncmp(dir, "..", 2)))
        return db_fail(DB_ERR_ARG, "%s '%s': a folder of its own, replaced whole each time", k->what, dir);
    if (len + 6 >= n) return db_fail(DB_ERR_ARG, "%s %s: the path is too long", k->what, dir);
    snprintf(clean, n, "%.*s", (int)len, dir);
    snprintf(part, n, "%s.part", clean);
    snprintf(old, n, "%s.old", clean);
    return DB_OK;
}

db_status db_swap_check(const char *dir, const db_swap_kind *k) {
    char clean[1100], part[1100], old[1100];
    DB_TRY(names(dir, k, clean, part, old, sizeof clean));
    DB_TRY(replaceable(clean, k));
    DB_TRY(replaceable(part, k));
    return replaceable(old, k);
}

db_status db_swap_begin(const char *dir, const db_swap_kind *k, char *part, size_t n) {
    char clean[1100], p[1100], old[1100];
    DB_TRY(names(dir, k, clean, p, old, sizeof clean));
    DB_TRY(db_swap_check(dir, k));
    struct stat st;
    if (lstat(clean, &st) != 0 && lstat(old, &st) == 0 && rename(old, clean) != 0) /* a swap cut short: the old back */
        return db_fail(DB_ERR_IO, "%s: cannot put it back as %s: %s", old, clean, strerror(errno));
    if (snprintf(part, n, "%s", p) >= (int)n) return db_fail(DB_ERR_ARG, "%s: the path is too long", p);
    DB_TRY(db_remove_tree(part));
    char marker[1200];
    snprintf(marker, sizeof marker, "%s/%s", part, k->marker);
    DB_TRY(db_make_dirs_for(marker));
    FILE *f = fopen(marker, "w");
    if (!f) return db_fail(DB_ERR_IO, "%s: cannot write: %s", marker, strerror(errno));
    const int wrote = fprintf(f, "%s\n", k->marker_text) >= 0;
    if (fclose(f) != 0 || !wrote) return db_fail(DB_ERR_IO, "%s: cannot write: %s", marker, strerror(errno));
    return DB_OK;
}

db_status db_swap_commit(const char *dir, const db_swap_kind *k, const char *part) {
    char clean[1100], p[1100], old[1100];
    DB_TRY(names(dir, k, clean, p, old, sizeof clean));
    DB_TRY(db_swap_check(dir, k));
    struct stat st;
    /* the previous folder stays whole at every moment: moved aside, the new put in place, the old
     * removed last (a kill between leaves DIR.old, which the next begin puts back) */
    DB_TRY(db_remove_tree(old));
    if (lstat(clean, &st) == 0 && rename(clean, old) != 0)
        return db_fail(DB_ERR_IO, "%s: cannot move it aside to %s: %s", clean, old, strerror(errno));
    if (rename(part, clean) != 0) return db_fail(DB_ERR_IO, "%s: cannot rename to %s: %s", part, clean, strerror(errno));
    return db_remove_tree(old);
}

const char *db_shell_word(const char *path, char *out, size_t n) {
    static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._+-,:=@%";
    size_t len = strlen(path), at = 0;
    if (n == 0) return out;
    out[0] = '\0';
    if (len && path[strspn(path, plain)] == '\0') {
        if (len < n) memcpy(out, path, len + 1);
        return out;
    }
    if (n < 3) return out;
    out[at++] = '\'';
    for (const char *p = path; *p; p++) { /* a ' ends the quotes, is escaped, and opens them again */
        const size_t w = *p == '\'' ? 4 : 1;
        if (at + w + 2 > n) { out[0] = '\0'; return out; }
        memcpy(out + at, *p == '\'' ? "'\\''" : p, w);
        at += w;
    }
    out[at++] = '\'';
    out[at] = '\0';
    return out;
}

void db_path_tidy(char *path) {
    if (path[0] != '/') return;
    size_t out = 0; /* path[0..out) is tidy: "/" or "/a/b" */
    const char *p = path;
    while (*p) {
        while (*p == '/') p++;
        const char *end = p + strcspn(p, "/");
        const size_t len = (size_t)(end - p);
        if (len == 0 || (len == 1 && p[0] == '.')) {
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (out > 0 && path[out - 1] != '/') out--; /* the last part goes, */
            if (out > 0) out--;                             /* and its slash */
        } else {
            path[out++] = '/';
            memmove(path + out, p, len); /* never ahead of p: out only shrinks what was read */
            out += len;
        }
        p = end;
    }
    if (out == 0) path[out++] = '/';
    path[out] = '\0';
}
