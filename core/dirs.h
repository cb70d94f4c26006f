/* Folders made as they are needed, parents first (mkdir -p): for a checkpoint folder, a results
 * file's folder, a download's set folder. An existing folder is fine; a path that cannot be a
 * folder (below a regular file, unwritable) fails naming the part that could not be made. */
#ifndef DB_CORE_DIRS_H
#define DB_CORE_DIRS_H

#include <stddef.h>

#include "core/status.h"

/* dir and every missing folder above it */
db_status db_make_dirs(const char *dir);
/* The folder that holds path (nothing for a bare file name) */
db_status db_make_dirs_for(const char *path);
/* rm -r of path (files, folders, links; a link is removed, not followed); a missing path is fine */
db_status db_remove_tree(const char *path);
/* An absolute path written one way: repeated and trailing slashes dropped, "." and ".." parts
 * resolved by name (links are not followed: the folder may not exist yet), in place */
void db_path_tidy(char *path);

/* path as one shell word, for commands written for later (the report's Reproduce lines): as it is
 * when it holds only characters a shell takes literally, else in single quotes; out, or "" where
 * n cannot hold it */
const char *db_shell_word(const char *path, char *out, size_t n);

/* A folder the tool replaces whole (a run's predictions, a report): filled beside it as DIR.part,
 * then swapped in (the previous one moved to DIR.old, the new renamed into place, the old removed),
 * so that a stop at any point leaves one whole folder, which the next begin finds. Each carries a
 * marker file; a folder without it is replaced only when it holds nothing but `own` names and
 * one of them holds `sign` (what the tool wrote before it had markers); "", ".", ".." and "/" are refused. `what` names the
 * option in messages. */
typedef struct {
    const char *what;          /* "predictions_dir", "--out" */
    const char *marker;        /* ".dropbench-predictions" */
    const char *marker_text;   /* a line saying what the folder is */
    const char *const *own;    /* NULL-terminated, or NULL: none */
    const char *sign;          /* text that one of those files holds in its first 4 KiB (the tool's
                                * title), so that a folder of the same names written by someone else
                                * is not taken for one (NULL: the names alone) */
} db_swap_kind;
/* Whether dir may serve: neither it nor DIR.part nor DIR.old a folder the tool did not write */
db_status db_swap_check(const char *dir, const db_swap_kind *k);
/* Starts the new folder: part (n bytes) receives the path to fill, emptied, with the marker */
db_status db_swap_begin(const char *dir, const db_swap_kind *k, char *part, size_t n);
/* Puts part in dir's place */
db_status db_swap_commit(const char *dir, const db_swap_kind *k, const char *part);

#endif
