#include "datasets/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/dirs.h"
#include "datasets/fetch.h"

/* Every entry of archive under part/ */
static db_status extract(const char *archive, const char *part, db_unpack_stats *st) {
    struct archive *in = archive_read_new(), *out = archive_write_disk_new();
    if (!in || !out) {
        archive_read_free(in);
        archive_write_free(out);
        return db_fail(DB_ERR_NOMEM, "out of memory");
    }
    archive_read_support_filter_all(in);
    archive_read_support_format_all(in);
    /* entries are checked here (a relative path with no ".." step; no links, so nothing written can
     * lead elsewhere) and written below part, a path libarchive's own checks would refuse when it
     * is absolute or holds a ".." (--into ../data) */
    archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME);
    db_status s = DB_OK;
    if (archive_read_open_filename(in, archive, 1 << 16) != ARCHIVE_OK)
        s = db_fail(DB_ERR_FORMAT, "%s: cannot open as an archive: %s", archive, archive_error_string(in));
    struct archive_entry *e;
    int r = ARCHIVE_OK;
    char path[8192], name_buf[512];
    while (s == DB_OK && (r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
        const char *entry = archive_entry_pathname(e), *name = name_buf;
        snprintf(name_buf, sizeof name_buf, "%s", entry ? entry : ""); /* set_pathname below frees the entry's own */
        if (!entry || !*entry || entry[0] == '/' || !strcmp(entry, "..") || !strncmp(entry, "../", 3) ||
            strstr(entry, "/../") || (strlen(entry) >= 3 && !strcmp(entry + strlen(entry) - 3, "/.."))) {
            s = db_fail(DB_ERR_FORMAT, "%s: entry '%s' would land outside the folder: refused", archive, name);
            break;
        }
        if (archive_entry_filetype(e) == AE_IFLNK || archive_entry_hardlink(e)) {
            s = db_fail(DB_ERR_FORMAT, "%s: entry '%s' is a link: refused (a data set's archive holds files and folders)",
                        archive, name);
            break;
        }
        if (archive_entry_filetype(e) != AE_IFREG && archive_entry_filetype(e) != AE_IFDIR) {
            s = db_fail(DB_ERR_FORMAT, "%s: entry '%s' is neither a file nor a folder: refused", archive, name);
            break;
        }
        if (snprintf(path, sizeof path, "%s/%s", part, entry) >= (int)sizeof path) {
            s = db_fail(DB_ERR_FORMAT, "%s: entry '%.80s...': the path is too long", archive, name);
            break;
        }
        archive_entry_set_pathname(e, path);
        if (archive_write_header(out, e) != ARCHIVE_OK) {
            s = db_fail(DB_ERR_IO, "%s: entry '%s': %s", archive, name, archive_error_string(out));
            break;
        }
        const void *buf;
        size_t len;
        la_int64_t at;
        int d;
        while ((d = archive_read_data_block(in, &buf, &len, &at)) == ARCHIVE_OK) {
            if (archive_write_data_block(out, buf, len, at) != ARCHIVE_OK) {
                s = db_fail(DB_ERR_IO, "%s: entry '%s': %s", archive, name, archive_error_string(out));
                break;
            }
            st->bytes += (int64_t)len;
        }
        if (s == DB_OK && d != ARCHIVE_EOF)
            s = db_fail(DB_ERR_FORMAT, "%s: entry '%s' is truncated or corrupt: %s", archive, name, archive_error_string(in));
        if (s == DB_OK && archive_write_finish_entry(out) != ARCHIVE_OK)
            s = db_fail(DB_ERR_IO, "%s: entry '%s': %s", archive, name, archive_error_string(out));
        if (archive_entry_filetype(e) == AE_IFDIR) st->dirs++;
        else st->files++;
    }
    if (s == DB_OK && r != ARCHIVE_EOF)
        s = db_fail(DB_ERR_FORMAT, "%s: truncated or corrupt archive: %s", archive, archive_error_string(in));
    if (s == DB_OK && archive_write_close(out) != ARCHIVE_OK)
        s = db_fail(DB_ERR_IO, "%s: %s", archive, archive_error_string(out));
    archive_read_free(in);
    archive_write_free(out);
    return s;
}

/* The top-level entries of part, renamed into dest once none of them is there already */
static db_status move_out(const char *part, const char *dest, db_unpack_stats *st) {
    char from[8192], to[8192];
    struct dirent *de;
    struct stat sb;
    for (int pass = 0; pass < 2; pass++) { /* pass 0 checks, pass 1 moves */
        DIR *dir = opendir(part);
        if (!dir) return db_fail(DB_ERR_IO, "%s: cannot read: %s", part, strerror(errno));
        db_status s = DB_OK;
        while (s == DB_OK && (de = readdir(dir))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            snprintf(from, sizeof from, "%s/%s", part, de->d_name);
            snprintf(to, sizeof to, "%s/%s", dest, de->d_name);
            if (pass == 0 && lstat(to, &sb) == 0)
                s = db_fail(DB_ERR_ARG, "%s is there already: remove it to unpack again (nothing was moved)", to);
            else if (pass == 1 && rename(from, to) != 0)
                s = db_fail(DB_ERR_IO, "%s: cannot move into place: %s", to, strerror(errno));
            else if (pass == 1 && st->n_top++ < 8)
                snprintf(st->top[st->n_top - 1], sizeof st->top[0], "%s", de->d_name);
        }
        closedir(dir);
        DB_TRY(s);
    }
    return DB_OK;
}

db_status db_unpack(const char *archive, const char *dest, db_unpack_stats *st) {
    memset(st, 0, sizeof *st);
    const char *base = strrchr(archive, '/');
    base = base ? base + 1 : archive;
    char part[4400], probe[4500];
    if (snprintf(part, sizeof part, "%s/.unpack-%s.part", dest, base) >= (int)sizeof part)
        return db_fail(DB_ERR_ARG, "%s: the folder's name is too long", dest);
    DB_TRY(db_remove_tree(part)); /* what an interrupted unpack left */
    struct stat sb;
    const int made = stat(dest, &sb) != 0; /* the folder is this unpack's: a refused archive leaves none */
    snprintf(probe, sizeof probe, "%s/x", part);
    DB_TRY(db_make_dirs_for(probe));
    db_status s = extract(archive, part, st);
    if (s == DB_OK) s = move_out(part, dest, st);
    db_status rm = db_remove_tree(part);
    if (s != DB_OK && made) rmdir(dest); /* only when nothing else came into it */
    return s != DB_OK ? s : rm;
}
