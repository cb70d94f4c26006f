/* The results store (results/store.h): the SQLite file opened (created, or upgraded in place
 * in one transaction), the paper's values in it, runs whose process died marked interrupted,
 * and the checked helpers its other files share (results/store_internal.h). */
#include "results/store_internal.h"

#include "build/gen/paper_tables.h"
#include "core/dirs.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

db_status db_store_fail(db_store *s, int rc, const char *what, const char *file, int line) {
    const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    int base = rc & 0xff;
    db_status st = base == SQLITE_NOMEM ? DB_ERR_NOMEM
                   : base == SQLITE_NOTADB || base == SQLITE_CORRUPT ? DB_ERR_FORMAT
                                                                     : DB_ERR_IO;
    const char *hint = base == SQLITE_BUSY || base == SQLITE_LOCKED ? " (another process holds the database locked)"
                       : base == SQLITE_READONLY ? " (the file or its folder is read-only)"
                       : base == SQLITE_FULL ? " (the disk is full; the run's checkpoint is intact)"
                       : base == SQLITE_NOTADB || base == SQLITE_CORRUPT ? " (not a dropbench database, or corrupt)"
                                                                          : "";
    return db_fail(st, "%s: %s: %s%s [%s:%d]", s->path, what, msg, hint, file, line);
}

db_status db_store_exec(db_store *s, const char *sql, const char *what) {
    SQL_TRY(s, sqlite3_exec(s->db, sql, NULL, NULL, NULL), what);
    return DB_OK;
}

/* Schema version 1. STRICT tables (SQLite >= 3.37); times are ISO-8601 UTC text. */
static const char *const schema_v1 =
    "CREATE TABLE studies(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, recipe TEXT, created TEXT NOT NULL)"
    " STRICT;"
    "CREATE TABLE runs(id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, study_id INTEGER REFERENCES studies(id),"
    " recipe TEXT,"
    " config TEXT NOT NULL, fingerprint TEXT NOT NULL, model TEXT, dataset TEXT, regularizer TEXT NOT NULL,"
    " keep_prob REAL, block_size INTEGER, semantics TEXT, seed INTEGER NOT NULL, epochs INTEGER,"
    " device TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN"
    " ('planned','running','done','failed','diverged','interrupted')),"
    " started TEXT, heartbeat TEXT, ended TEXT, exit_reason TEXT, host TEXT, pid INTEGER,"
    " checkpoint_dir TEXT, epochs_done INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE INDEX runs_resume ON runs(checkpoint_dir, fingerprint);"
    "CREATE TABLE metrics(run_id INTEGER NOT NULL REFERENCES runs(id), epoch INTEGER NOT NULL,"
    " step INTEGER NOT NULL, split TEXT NOT NULL, name TEXT NOT NULL, value REAL,"
    " PRIMARY KEY (run_id, epoch, step, split, name)) STRICT;"
    "CREATE TABLE provenance(run_id INTEGER NOT NULL REFERENCES runs(id), key TEXT NOT NULL, value TEXT,"
    " PRIMARY KEY (run_id, key)) STRICT;"
    "CREATE TABLE paper_values(source TEXT NOT NULL, model TEXT NOT NULL, dataset TEXT NOT NULL,"
    " regularizer TEXT NOT NULL, params TEXT NOT NULL, metric TEXT NOT NULL, value REAL,"
    " plusminus REAL, status TEXT NOT NULL, PRIMARY KEY (source, model, dataset, regularizer, params, metric))"
    " STRICT;";

/* Migrations from version v-1 to v, in order; the file is upgraded in place in one transaction.
 * A new file is created as v1 and brought up through all of them. */
static const char *const migrations[DB_STORE_SCHEMA + 1] = {
    NULL, NULL, /* v1 is the first: created whole */
    /* v2: a run's family, the fingerprint of its settings without the seed (the runs that differ
     * only in their seed), for statistics over seeds; NULL for runs recorded before v2 */
    "ALTER TABLE runs ADD COLUMN family TEXT; CREATE INDEX runs_family ON runs(family, status);",
    /* v3: what a run is inside its study (the cell's label, and its condition: the label without
     * the seed) and what it computes (its task and the metric that scores it), so that readers
     * need only the store; NULL for runs recorded before v3 */
    "ALTER TABLE runs ADD COLUMN cell TEXT; ALTER TABLE runs ADD COLUMN condition TEXT;"
    " ALTER TABLE runs ADD COLUMN task TEXT; ALTER TABLE runs ADD COLUMN primary_metric TEXT;",
    /* v4: every `regress` against a baseline and its checks, for the report's nightly section */
    "CREATE TABLE regressions(id INTEGER PRIMARY KEY, at TEXT NOT NULL, baseline TEXT NOT NULL,"
    " checks INTEGER NOT NULL, failures INTEGER NOT NULL, skipped INTEGER NOT NULL) STRICT;"
    " CREATE TABLE regress_checks(regression_id INTEGER NOT NULL REFERENCES regressions(id), seq INTEGER NOT NULL,"
    " kind TEXT NOT NULL, name TEXT NOT NULL, outcome TEXT NOT NULL CHECK (outcome IN ('ok','fail','skip')),"
    " detail TEXT, PRIMARY KEY (regression_id, seq)) STRICT;",
    /* v5: the running process's identity beside its pid (boot id and start time), so that a
     * dead run whose pid was reused is still seen as dead; NULL before v5 */
    "ALTER TABLE runs ADD COLUMN pid_start TEXT;",
};

/* One integer from a one-row query */
db_status db_store_query_int(db_store *s, const char *sql, const char *what, int *v) {
    sqlite3_stmt *st;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), what);
    int rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    SQL_TRY(s, rc, what);
    return DB_OK;
}

/* The next CSV field of *p (RFC 4180: quotes, "" for a quote) into out; 1 while the line goes on */
static int csv_next(const char **p, char *out, size_t n) {
    const char *c = *p;
    size_t k = 0;
    int quoted = *c == '"';
    if (quoted) c++;
    for (; *c && (quoted || (*c != ',' && *c != '\n')); c++) {
        if (quoted && *c == '"') {
            if (c[1] == '"') c++;
            else { quoted = 0; continue; }
        }
        if (k + 1 < n) out[k++] = *c;
    }
    out[k] = '\0';
    int more = *c == ',';
    *p = *c ? c + 1 : c;
    return more;
}

/* The paper's reported numbers (results/paper/paper-tables.csv, compiled in), into an empty
 * paper_values table; the caller holds the transaction. */
static db_status load_paper(db_store *s) {
    int have = 0;
    DB_TRY(db_store_query_int(s, "SELECT count(*) FROM paper_values", "reading the paper's values", &have));
    if (have) return DB_OK;
    const char *p = strchr(db_paper_tables_csv, '\n'); /* past the header */
    while (p && *++p) {
        char f[9][256];
        int i = 0, more = 1;
        for (; i < 9 && more; i++) more = csv_next(&p, f[i], sizeof f[i]);
        if (i != 9) return db_fail(DB_ERR_INTERNAL, "paper-tables.csv: a line with %d fields, not 9", i);
        sqlite3_stmt *st;
        SQL_TRY(s, sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO paper_values VALUES (?,?,?,?,?,?,?,?,?)", -1, &st,
                                      NULL), "loading the paper's values");
        for (int k = 0; k < 9; k++) {
            if ((k == 6 || k == 7) && !f[k][0]) sqlite3_bind_null(st, k + 1);
            else if (k == 6 || k == 7) sqlite3_bind_double(st, k + 1, atof(f[k]));
            else sqlite3_bind_text(st, k + 1, f[k], -1, SQLITE_TRANSIENT);
        }
        DB_TRY(db_store_step_done(s, st, "loading the paper's values"));
        p = strchr(p - 1, '\n');
    }
    return DB_OK;
}

static db_status migrate(db_store *s) {
    int v, tables;
    DB_TRY(db_store_exec(s, "BEGIN IMMEDIATE", "locking the database to check its schema"));
    db_status st = db_store_query_int(s, "PRAGMA user_version", "reading the schema version", &v);
    if (st == DB_OK) st = db_store_query_int(s, "SELECT count(*) FROM sqlite_schema", "reading the schema", &tables);
    if (st == DB_OK && v > DB_STORE_SCHEMA)
        st = db_fail(DB_ERR_FORMAT, "%s: schema version %d is newer than this dropbench's (%d): use a newer dropbench",
                     s->path, v, DB_STORE_SCHEMA);
    if (st == DB_OK && v == 0 && tables > 0)
        st = db_fail(DB_ERR_FORMAT, "%s: an SQLite file that is not a dropbench database (it has tables and no "
                     "schema version)", s->path);
    int from = v;
    if (st == DB_OK && v == 0 && (st = db_store_exec(s, schema_v1, "creating the schema")) == DB_OK) from = 1;
    for (int to = from + 1; st == DB_OK && to <= DB_STORE_SCHEMA; to++)
        if (migrations[to]) st = db_store_exec(s, migrations[to], "upgrading the schema");
    if (st == DB_OK) st = load_paper(s);
    if (st == DB_OK && v != DB_STORE_SCHEMA) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", DB_STORE_SCHEMA);
        st = db_store_exec(s, sql, "writing the schema version");
    }
    if (st == DB_OK) return db_store_exec(s, "COMMIT", "committing the schema");
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

/* The pid namespace this process sees pids in (the inode of /proc/self/ns/pid), "" where unknown */
static void own_pid_space(char *out, size_t n) {
    char link[64];
    ssize_t k = readlink("/proc/self/ns/pid", link, sizeof link - 1);
    out[0] = '\0';
    if (k <= 0) return;
    link[k] = '\0';
    const char *open = strchr(link, '[');
    if (open) snprintf(out, n, "%.*s", (int)strcspn(open + 1, "]"), open + 1);
}

/* This boot's id (Linux /proc; "" where unknown) */
static void own_boot(char *out, size_t n) {
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    out[0] = '\0';
    if (!f) return;
    if (!fgets(out, (int)n, f)) out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

/* A process's identity on this machine: the boot's id, the process's start time and the pid
 * namespace its pid is counted in (Linux /proc; "" where unknown). A pid may be reused, and two
 * containers of one host name have pids of their own; this triple is neither. */
void db_store_process_identity(pid_t pid, char *out, size_t n) {
    char path[64], buf[1024], boot[64];
    out[0] = '\0';
    own_boot(boot, sizeof boot);
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = boot[0] ? fopen(path, "r") : NULL;
    if (!f) return;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    const char *p = strrchr(buf, ')'); /* after the command name, which may hold spaces */
    unsigned long long start = 0;
    /* fields 3..22 after it: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
     * cutime cstime priority nice threads itrealvalue starttime */
    if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &start) == 1) {
        char space[32];
        own_pid_space(space, sizeof space);
        snprintf(out, n, "%s/%llu%s%s", boot, start, space[0] ? "/" : "", space);
    }
}

/* The length of an identity's "boot/start" part (a record written before namespaces were
 * recorded has no more) */
static size_t boot_and_start(const char *id) {
    const char *slash = strchr(id, '/'), *next = slash ? strchr(slash + 1, '/') : NULL;
    return next ? (size_t)(next - id) : strlen(id);
}

/* 1 when a recorded identity's pid counts in this process's pid namespace, so that this process
 * can judge whether it lives: its namespace is ours, or it names none (recorded before namespaces
 * were), or another boot of this host (whose processes are all gone) */
int db_store_pid_space_ours(const char *recorded) {
    const char *slash = recorded ? strchr(recorded, '/') : NULL;
    const char *space = slash ? strchr(slash + 1, '/') : NULL;
    if (!space) return 1;
    char mine[32], boot[64];
    own_boot(boot, sizeof boot);
    if (strlen(boot) != (size_t)(slash - recorded) || strncmp(boot, recorded, (size_t)(slash - recorded))) return 1;
    own_pid_space(mine, sizeof mine);
    return !strcmp(space + 1, mine);
}

/* 1 when pid has ended but its parent has not reaped it yet (a zombie: state Z or X in /proc) */
static int process_ended(pid_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

/* Is the run recorded as process pid (identity as recorded, maybe "") alive on this host? */
int db_store_process_alive(pid_t pid, const char *recorded) {
    if (pid <= 0 || !db_store_pid_space_ours(recorded)) return 1; /* unknown, or another container's: not ours to judge */
    if (kill(pid, 0) != 0 && errno == ESRCH) return 0;
    if (process_ended(pid)) return 0; /* killed, not yet reaped (a launcher's child, as mpirun's) */
    if (!recorded || !recorded[0]) return 1;
    char now[128];
    db_store_process_identity(pid, now, sizeof now);
    if (!now[0]) return 1;
    /* another process now has the pid (another start, or another boot): the run's is gone. The
     * namespace, checked above, is left out: a record written before it was has none */
    const size_t a = boot_and_start(now), b = boot_and_start(recorded);
    return a == b && !strncmp(now, recorded, a);
}

/* Runs of this host still marked running whose process no longer exists were killed. Each is
 * marked only while its record still names the process found dead: one another process took up
 * meanwhile (a resume) is its now. */
static db_status mark_interrupted(db_store *s) {
    sqlite3_stmt *q;
    SQL_TRY(s, sqlite3_prepare_v2(s->db, "SELECT id, pid, pid_start FROM runs WHERE status = 'running' AND host = ?", -1,
                                  &q, NULL), "finding unfinished runs");
    sqlite3_bind_text(q, 1, s->host, -1, SQLITE_STATIC);
    struct { int64_t id, pid; char start[128]; } dead[256];
    int ndead = 0, rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && ndead < 256) {
        pid_t pid = (pid_t)sqlite3_column_int64(q, 1);
        const char *start = (const char *)sqlite3_column_text(q, 2);
        if (db_store_process_alive(pid, start)) continue;
        dead[ndead].id = sqlite3_column_int64(q, 0), dead[ndead].pid = pid;
        snprintf(dead[ndead++].start, sizeof dead[0].start, "%s", start ? start : "");
    }
    sqlite3_finalize(q);
    SQL_TRY(s, rc, "finding unfinished runs");
    for (int i = 0; i < ndead; i++) {
        sqlite3_stmt *u;
        SQL_TRY(s, sqlite3_prepare_v2(s->db, "UPDATE runs SET status = 'interrupted', exit_reason = 'the process "
                                             "ended without finishing (killed?)' WHERE id = ? AND status = 'running'"
                                             " AND host = ? AND pid IS ? AND ifnull(pid_start, '') = ?",
                                      -1, &u, NULL), "marking an interrupted run");
        sqlite3_bind_int64(u, 1, dead[i].id);
        sqlite3_bind_text(u, 2, s->host, -1, SQLITE_STATIC);
        sqlite3_bind_int64(u, 3, dead[i].pid);
        sqlite3_bind_text(u, 4, dead[i].start, -1, SQLITE_STATIC);
        rc = sqlite3_step(u);
        sqlite3_finalize(u);
        SQL_TRY(s, rc, "marking an interrupted run");
    }
    return DB_OK;
}

const char *db_store_default_path(void) {
    const char *e = getenv("DROPBENCH_DB");
    return e && e[0] ? e : DB_STORE_DEFAULT;
}

static void mkdir_parent(const char *path) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return;
    *slash = '\0';
    mkdir(dir, 0777); /* one level, as results/ of the default path; errors surface at open */
}

/* A path SQLite can open: shorter than its VFS's limit (else it says only "unable to open") */
static db_status path_fits(const char *path, const char *what) {
    if (!path || !path[0]) /* SQLite would open a private temporary database and lose it all */
        return db_fail(DB_ERR_ARG, "%s's path is empty (--db needs a path)", what);
    sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
    size_t max = vfs && vfs->mxPathname > 0 ? (size_t)vfs->mxPathname : 512;
    if (max > sizeof ((db_store *)0)->path - 1) max = sizeof ((db_store *)0)->path - 1;
    size_t n = strlen(path);
    char cwd[4096];
    if (path[0] != '/' && getcwd(cwd, sizeof cwd)) n += strlen(cwd) + 1; /* SQLite opens it from the working folder */
    if (n >= max)
        return db_fail(DB_ERR_ARG, "%.80s...: %s's path is %zu bytes long, SQLite takes at most %zu (use a shorter "
                       "path or a symbolic link)", path, what, n, max - 1);
    return DB_OK;
}

/* A reader's database must be there: one never made just to be read (a mistyped --db) */
static db_status must_exist(const char *path) {
    if (access(path, F_OK) == 0) return DB_OK;
    return db_fail(DB_ERR_IO, "no results database at %s (%s): run a study first (make reproduce)", path, strerror(errno));
}

db_status db_store_open_existing(db_store **out, const char *path) {
    *out = NULL;
    DB_TRY(path_fits(path, "the database"));
    DB_TRY(must_exist(path));
    return db_store_open(out, path);
}

/* tidy_path(TEXT) in SQL: db_path_tidy's form of a recorded folder (records written before folders
 * were tidied: runs//x/ found as runs/x) */
static void tidy_path_sql(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    const unsigned char *v = sqlite3_value_text(argv[0]);
    if (!v) { sqlite3_result_null(ctx); return; }
    char *t = strdup((const char *)v);
    if (!t) { sqlite3_result_error_nomem(ctx); return; }
    db_path_tidy(t);
    sqlite3_result_text(ctx, t, -1, free);
}

int db_store_config_value(const char *config, const char *key, char *out, size_t n) {
    size_t kl = strlen(key);
    out[0] = '\0';
    for (const char *l = config; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, key, kl) && l[kl] == '=') {
            snprintf(out, n, "%.*s", (int)strcspn(l + kl + 1, "\n"), l + kl + 1);
            return 1;
        }
    return 0;
}

/* config_value(CONFIG, KEY) in SQL: db_store_config_value's, NULL when absent */
static void config_value_sql(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    const unsigned char *config = sqlite3_value_text(argv[0]), *key = sqlite3_value_text(argv[1]);
    char v[256];
    if (config && key && db_store_config_value((const char *)config, (const char *)key, v, sizeof v))
        sqlite3_result_text(ctx, v, -1, SQLITE_TRANSIENT);
    else sqlite3_result_null(ctx);
}

db_status db_store_open(db_store **out, const char *path) {
    *out = NULL;
    DB_TRY(path_fits(path, "the database"));
    db_store *s = calloc(1, sizeof *s);
    if (!s) return db_fail(DB_ERR_NOMEM, "out of memory");
    snprintf(s->path, sizeof s->path, "%s", path);
    if (gethostname(s->host, sizeof s->host - 1) != 0) strcpy(s->host, "unknown");
    mkdir_parent(path);
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    db_status st = DB_OK;
    if (rc != SQLITE_OK) st = db_store_fail(s, rc, "cannot open the database", __FILE__, __LINE__);
    if (st == DB_OK && sqlite3_db_readonly(s->db, "main") == 1)
        st = db_fail(DB_ERR_IO, "%s: the database is read-only (check the file's and its folder's permissions)", path);
    if (st == DB_OK && (rc = sqlite3_create_function(s->db, "tidy_path", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                                     tidy_path_sql, NULL, NULL)) != SQLITE_OK)
        st = db_store_fail(s, rc, "registering tidy_path", __FILE__, __LINE__);
    if (st == DB_OK && (rc = sqlite3_create_function(s->db, "config_value", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                                     config_value_sql, NULL, NULL)) != SQLITE_OK)
        st = db_store_fail(s, rc, "registering config_value", __FILE__, __LINE__);
    if (st == DB_OK) {
        sqlite3_busy_timeout(s->db, 10000);
        /* several processes opening a new file at once: the switch to WAL can meet another's lock
         * without SQLite waiting on it (no busy handler there), so it is retried for up to 10 s */
        for (int tries = 0;; tries++) {
            rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
            if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || tries == 200) break;
            struct timespec pause = {0, 50 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
        if (rc != SQLITE_OK) st = db_store_fail(s, rc, "switching to WAL", __FILE__, __LINE__);
    }
    if (st == DB_OK) st = db_store_exec(s, "PRAGMA foreign_keys = ON", "enabling foreign keys");
    if (st == DB_OK) st = migrate(s);
    if (st == DB_OK) st = mark_interrupted(s);
    if (st != DB_OK) { db_store_close(s); return st; }
    *out = s;
    return DB_OK;
}

/* The file read without writing it: read-only, or, when SQLite cannot open it so (a WAL-mode file
 * in a folder it may not write, e.g. a downloaded artifact), as an immutable file */
static int open_readonly(const char *path, sqlite3 **db, int *wal_unread) {
    char uri[2200], wal[2200];
    int rc = SQLITE_CANTOPEN;
    struct stat st;
    snprintf(wal, sizeof wal, "%s-wal", path);
    *wal_unread = 0;
    for (int immutable = 0; immutable < 2 && rc != SQLITE_OK; immutable++) {
        if (*db) { sqlite3_close(*db); *db = NULL; }
        if (immutable && stat(wal, &st) == 0 && st.st_size > 0) { /* immutable reads the file without its WAL */
            *wal_unread = 1;
            return SQLITE_CANTOPEN;
        }
        snprintf(uri, sizeof uri, "file:");
        size_t u = strlen(uri);
        for (const char *p = path; *p && u + 4 < sizeof uri; p++) /* a file: URI: ?, # and % escaped */
            u += (size_t)(strchr("?#%", *p) ? snprintf(uri + u, sizeof uri - u, "%%%02X", (unsigned char)*p)
                                            : snprintf(uri + u, sizeof uri - u, "%c", *p));
        snprintf(uri + u, sizeof uri - u, "?mode=ro%s", immutable ? "&immutable=1" : "");
        rc = sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
        if (rc == SQLITE_OK) rc = sqlite3_exec(*db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
    }
    return rc;
}

db_status db_store_open_copy(db_store **out, const char *path) {
    *out = NULL;
    DB_TRY(path_fits(path, "the database"));
    DB_TRY(must_exist(path));
    if (access(path, R_OK) != 0) return db_fail(DB_ERR_IO, "%s: cannot read the database: %s", path, strerror(errno));
    db_store *s = calloc(1, sizeof *s);
    if (!s) return db_fail(DB_ERR_NOMEM, "out of memory");
    snprintf(s->path, sizeof s->path, "%s", path);
    if (gethostname(s->host, sizeof s->host - 1) != 0) strcpy(s->host, "unknown");
    sqlite3 *src = NULL;
    int wal_unread;
    int rc = open_readonly(path, &src, &wal_unread);
    db_status st = DB_OK;
    if (rc != SQLITE_OK && wal_unread)
        st = db_fail(DB_ERR_IO, "%s: its write-ahead log %s-wal holds changes not yet in the file, which SQLite reads "
                     "only where it may write %s-shm (this folder is read-only here): copy the database and its -wal "
                     "file to a writable folder, or open it once where it can be written", path, path, path);
    else if (rc != SQLITE_OK)
        st = db_fail(rc == SQLITE_NOTADB ? DB_ERR_FORMAT : DB_ERR_IO, "%s: cannot read the database: %s", path,
                     src ? sqlite3_errmsg(src) : sqlite3_errstr(rc));
    if (st == DB_OK && (rc = sqlite3_open(":memory:", &s->db)) != SQLITE_OK)
        st = db_store_fail(s, rc, "cannot make the in-memory copy", __FILE__, __LINE__);
    if (st == DB_OK) {
        sqlite3_backup *b = sqlite3_backup_init(s->db, "main", src, "main");
        rc = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(s->db);
        int fin = b ? sqlite3_backup_finish(b) : rc;
        if (rc != SQLITE_DONE || fin != SQLITE_OK)
            st = db_fail(rc == SQLITE_NOTADB ? DB_ERR_FORMAT : DB_ERR_IO, "%s: cannot copy the database: %s", path,
                         sqlite3_errstr(rc == SQLITE_DONE ? fin : rc));
    }
    sqlite3_close(src);
    if (st == DB_OK) st = migrate(s);          /* in the copy: the file stays as it is */
    if (st == DB_OK) st = mark_interrupted(s);
    if (st != DB_OK) { db_store_close(s); return st; }
    *out = s;
    return DB_OK;
}

void db_store_close(db_store *s) {
    if (!s) return;
    sqlite3_close(s->db);
    free(s);
}

void db_store_now_iso(char *buf, size_t n) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* An older dropbench's database attached as ALIAS in its upgraded form, made in memory: the file
 * itself (an accepted baseline, a shard) is left as it was, readable by the version that wrote it */
static db_status attach_upgraded(db_store *s, const char *path, const char *alias) {
    db_store *old;
    DB_TRY(db_store_open_copy(&old, path));
    sqlite3_int64 n = 0;
    unsigned char *image = sqlite3_serialize(old->db, "main", &n, 0);
    db_store_close(old);
    if (!image) return db_fail(DB_ERR_NOMEM, "%s: out of memory upgrading a copy of it", path);
    char sql[96];
    snprintf(sql, sizeof sql, "ATTACH DATABASE ':memory:' AS %s", alias);
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_free(image);
        return db_store_fail(s, rc, "attaching the upgraded copy", __FILE__, __LINE__);
    }
    rc = sqlite3_deserialize(s->db, alias, image, n, n, SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE);
    if (rc != SQLITE_OK) { /* (the image is SQLite's to free either way) */
        snprintf(sql, sizeof sql, "DETACH DATABASE %s", alias);
        sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        return db_store_fail(s, rc, "attaching the upgraded copy", __FILE__, __LINE__);
    }
    return DB_OK;
}

db_status db_store_attach(db_store *s, const char *path, const char *alias, const char *what) {
    DB_TRY(path_fits(path, what));
    if (access(path, R_OK) != 0) return db_fail(DB_ERR_IO, "%s: cannot read %s: %s", path, what, strerror(errno));
    struct stat a, b;
    if (stat(path, &a) == 0 && stat(s->path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        return db_fail(DB_ERR_ARG, "%s: %s is the database itself (give another file)", path, what);
    char sql[96];
    sqlite3_stmt *st;
    snprintf(sql, sizeof sql, "ATTACH DATABASE ? AS %s", alias);
    SQL_TRY(s, sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), "attaching a database");
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    int v = 0, rc = sqlite3_step(st); /* SQLite reads the file's header here, */
    sqlite3_finalize(st);
    snprintf(sql, sizeof sql, "PRAGMA %s.user_version", alias);
    db_status r = DB_OK;
    if (rc == SQLITE_DONE && (rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL)) == SQLITE_OK) { /* its pages here */
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) v = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    if (rc != SQLITE_ROW) { /* the message names the file read, in SQLite's words for the code */
        int base = rc & 0xff;
        r = db_fail(base == SQLITE_NOTADB || base == SQLITE_CORRUPT ? DB_ERR_FORMAT : DB_ERR_IO,
                    "%s: cannot read %s: %s%s", path, what, sqlite3_errstr(rc),
                    base == SQLITE_NOTADB || base == SQLITE_CORRUPT ? " (not a dropbench database, or corrupt)" : "");
    }
    if (r == DB_OK && v > 0 && v < DB_STORE_SCHEMA) { /* an older dropbench's file: read as upgraded in memory */
        snprintf(sql, sizeof sql, "DETACH DATABASE %s", alias);
        sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        return attach_upgraded(s, path, alias);
    }
    if (r == DB_OK && v != DB_STORE_SCHEMA)
        r = db_fail(DB_ERR_FORMAT, "%s (%s): schema version %d, this dropbench reads %d", path, what, v, DB_STORE_SCHEMA);
    if (r != DB_OK) {
        snprintf(sql, sizeof sql, "DETACH DATABASE %s", alias);
        sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    }
    return r;
}

db_status db_store_step_done(db_store *s, sqlite3_stmt *st, const char *what) {
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    SQL_TRY(s, rc, what);
    return DB_OK;
}

/* BEGIN IMMEDIATE ... COMMIT around fn; a failure rolls back and keeps the first message. */
db_status db_store_in_transaction(db_store *s, db_status (*fn)(db_store *, void *), void *ctx, const char *what) {
    DB_TRY(db_store_exec(s, "BEGIN IMMEDIATE", what));
    db_status st = fn(s, ctx);
    if (st == DB_OK) st = db_store_exec(s, "COMMIT", what);
    if (st != DB_OK) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}
