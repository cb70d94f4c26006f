/* What the results store's own files share (store.c: opening, the schema, liveness; record.c:
 * a run's records; show.c: listing and export; regress.c, merge.c, query.c, lookup.c): the
 * handle and the checked SQLite helpers. Not for the rest of dropbench, which uses
 * results/store.h. */
#ifndef DB_RESULTS_STORE_INTERNAL_H
#define DB_RESULTS_STORE_INTERNAL_H

#include <sqlite3.h>
#include <sys/types.h>

#include "results/store.h"

struct db_store {
    sqlite3 *db;
    char path[1024];
    char host[256];
};

/* Every SQLite call's result goes through here: a message with the file and what failed. */
#define SQL_TRY(s, call, what)                                                                       \
    do {                                                                                             \
        int rc_ = (call);                                                                            \
        if (rc_ != SQLITE_OK && rc_ != SQLITE_DONE && rc_ != SQLITE_ROW)                             \
            return db_store_fail((s), rc_, (what), __FILE__, __LINE__);                                        \
    } while (0)

/* The status and message for a failed SQLite call (the file, what, SQLite's words, a hint) */
db_status db_store_fail(db_store *s, int rc, const char *what, const char *file, int line);
/* Step a statement once and finalize it */
db_status db_store_step_done(db_store *s, sqlite3_stmt *st, const char *what);
/* ATTACH another dropbench database of this schema version as `alias` ("base", "shard"); on
 * failure nothing stays attached. what names its role in messages ("the baseline"). */
db_status db_store_attach(db_store *s, const char *path, const char *alias, const char *what);
/* The current time as ISO-8601 UTC text (the store's times) */
void db_store_now_iso(char *buf, size_t n);
/* Statements without results, checked */
db_status db_store_exec(db_store *s, const char *sql, const char *what);
/* BEGIN IMMEDIATE ... COMMIT around fn; a failure rolls back and keeps the first message */
db_status db_store_in_transaction(db_store *s, db_status (*fn)(db_store *, void *), void *ctx, const char *what);
/* A process's identity as the store records it with a running run (its start time, so that a
 * reused pid is not taken for it, and its pid namespace), whether the recorded one counts its pid
 * where this process does (not another container's of the same host name), and whether it still
 * runs (1 when not ours to judge) */
void db_store_process_identity(pid_t pid, char *out, size_t n);
int db_store_pid_space_ours(const char *recorded);
int db_store_process_alive(pid_t pid, const char *recorded);
/* A key's value in a run's configuration text (its "key=value" lines) into out; 0 (out "") when
 * absent. In SQL (a store opened writable): config_value(CONFIG, KEY), NULL when absent */
int db_store_config_value(const char *config, const char *key, char *out, size_t n);
/* A run's training throughput as regress compares it and the report shows it, an SQL expression:
 * the mean images/s of its epochs after the first when it has several (the first epoch's warm-up,
 * thread pools starting, memory first touched, a GPU's algorithm search, left out), else its one
 * epoch's. SCHEMA: "" or "base."; RUN: the alias of its runs row. */
#define DB_SQL_THROUGHPUT(schema, run)                                                                              \
    "(SELECT avg(value) FROM " schema "metrics WHERE run_id = " run ".id AND split = 'train' AND name = 'images_per_s'" \
    " AND step = 0 AND (epoch > 1 OR " run ".epochs_done <= 1))"

/* db_store_ensure_study inside the caller's transaction: the version of study name recorded with
 * this recipe text, or a new one (NAME, NAME#2, ...) */
db_status db_store_study_version(db_store *s, const char *name, const char *recipe_text, char *recorded, size_t n,
                                 int *versioned);
/* One integer from a one-row query */
db_status db_store_query_int(db_store *s, const char *sql, const char *what, int *v);

#endif
