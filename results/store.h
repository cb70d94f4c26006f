/* The results store: every run dropbench makes, in one SQLite file (default
 * results/dropbench.db), with its fully resolved configuration, provenance and full metric
 * history. Versioned schema (PRAGMA user_version) upgraded in place; WAL, a busy timeout and one
 * transaction per logical write, so several processes can record into one file at once. */
#ifndef DB_RESULTS_STORE_H
#define DB_RESULTS_STORE_H

#include <stdint.h>
#include <stdio.h>

#include "core/status.h"

#define DB_STORE_DEFAULT "results/dropbench.db"
#define DB_STORE_SCHEMA 5 /* the user_version this build writes */

typedef struct db_store db_store;

/* $DROPBENCH_DB when set and not empty, else DB_STORE_DEFAULT */
const char *db_store_default_path(void);

/* A run as it starts: what identifies and describes it. Strings may be empty, not NULL. */
typedef struct {
    const char *config;        /* the fully resolved configuration, key=value lines */
    const char *fingerprint;   /* of the keys that change results: resume finds the run by it */
    const char *family;        /* the fingerprint without the seed: runs that differ only in it */
    const char *model, *dataset, *regularizer, *semantics, *device, *checkpoint_dir, *recipe, *study;
    const char *recipe_text;   /* the study's recipe file, recorded with the study (may be NULL) */
    double keep_prob;
    int block_size;
    uint64_t seed;
    int epochs;
    const char *cell;          /* the study cell's label, e.g. "regularizer=dropblock,seed=2" (NULL: none) */
    const char *condition;     /* the label without the seed: runs of one condition differ only in it */
    const char *task;          /* what the run computes: classification (detection, segmentation later) */
    const char *primary_metric;/* the metric that scores it, as split/name: "test/top1" */
    int resume;                /* the run continues from its checkpoint: take up its interrupted record */
    const char *checkpoint_as_given; /* the folder as the user gave it (relative, as runs recorded before
                                        absolute folders hold it): also found when resuming; NULL: none */
    int64_t take_up;           /* dropbench resume RUN: that record, continued (0: found as above) */
    int finished;              /* resume: the checkpoint is of a finished run, so a done record of
                                  the same folder and settings is all there is to it */
    const char *reshard_note;  /* a take-up at another number of data-parallel processes ("2 -> 1
                                  process after 3 finished epochs"): in the take-up's transaction the
                                  record's configuration and fingerprint become info's and the note is
                                  added to its provenance 'resharded' (regress leaves such runs out);
                                  NULL: none */
    const char *attempt;       /* the batch job this process runs in and its restart count ("slurm job 812,
                                  restart 1"), recorded with the run (provenance slurm_attempt) at each
                                  start: a running record of the same job at another restart is of a
                                  process the scheduler ended (a task requeued after a node died). NULL:
                                  none */
} db_run_info;

typedef struct { const char *key; const char *value; } db_kv;
typedef struct { const char *split, *name; double value; } db_metric;

/* Opens (creating the file and its folder, or upgrading an older schema) and marks runs of this
 * host whose process is gone as interrupted. Refuses a file from a newer schema, a corrupt or
 * non-SQLite file, and a read-only one, each with a message naming the file. */
db_status db_store_open(db_store **out, const char *path);
/* db_store_open for a database that must be there already (a command that reads or adds to
 * what it holds): a missing file is DB_ERR_IO "no results database at PATH", and is not made. */
db_status db_store_open_existing(db_store **out, const char *path);
void db_store_close(db_store *s);
/* A private in-memory copy of the database at path, read without writing the file (a read-only
 * file, a downloaded CI artifact, a database other processes are writing; a missing one is
 * refused as db_store_open_existing refuses it, never made): an older schema is
 * upgraded in the copy, runs whose process is gone show as interrupted in it. For readers; what
 * is written to the copy is lost with it. */
db_status db_store_open_copy(db_store **out, const char *path);
/* Records a run as running (with its provenance), or, when it resumes (info->resume) and a run
 * with the same checkpoint folder and fingerprint was interrupted or failed, takes that one up
 * again (*resumed = 1), as it does info->take_up's record; a run that starts from scratch always
 * gets a record of its own. A resume of a finished checkpoint (info->finished) whose done record
 * is here records nothing: *run is that record, *resumed = 2.
 * A run with a study name joins that study (created with the recipe text on first use). */
db_status db_store_begin_run(db_store *s, const db_run_info *info, const db_kv *prov, int nprov, int64_t *run,
                             int *resumed);
/* The study a recipe's runs join: the one of this name recorded with the same recipe text (its
 * includes inlined), or a new one. A name taken by another recipe text (the recipe or an include
 * changed since) is never joined, so that no study's runs get lost under another's recipe: the
 * new text becomes study NAME#2 (#3, ...), *versioned = 1. *recorded gets the name used. */
db_status db_store_ensure_study(db_store *s, const char *name, const char *recipe_text, char *recorded, size_t n,
                                int *versioned);
/* One provenance entry of a run, added or replaced; read back into out ("" when the run has none) */
db_status db_store_set_provenance(db_store *s, int64_t run, const char *key, const char *value);
db_status db_store_get_provenance(db_store *s, int64_t run, const char *key, char *out, size_t n);
/* The same of a study's newest run that has it ("" when none) */
db_status db_store_study_provenance(db_store *s, const char *study, const char *key, char *out, size_t n);
/* The id of a finished (done) run with this fingerprint, or 0 */
db_status db_store_find_done(db_store *s, const char *fingerprint, int64_t *run);
/* One epoch's metrics and the heartbeat, in one transaction. NaN values are stored as NULL. */
db_status db_store_epoch(db_store *s, int64_t run, int epoch, int64_t step, const db_metric *m, int n);
/* status: done, failed, diverged or interrupted; reason may be empty */
db_status db_store_end_run(db_store *s, int64_t run, const char *status, const char *reason);
/* The record of a run refused before its first epoch (its checkpoint is another configuration's,
 * say), made by this process and still running, deleted: a refusal records nothing */
db_status db_store_discard_run(db_store *s, int64_t run);
/* One run's record as stored (strings never NULL; free with db_run_record_free) */
typedef struct {
    char *config, *status, *checkpoint_dir, *recipe, *study, *recipe_text, *host, *exit_reason;
    char *cell, *condition;    /* "" for runs outside a study or recorded before schema 3 */
    int64_t pid;
    int epochs_done;
    int alive_here;            /* running, and its process (of this host and pid namespace) lives */
} db_run_record;
db_status db_store_get_run(db_store *s, int64_t run, db_run_record *out);
void db_run_record_free(db_run_record *r);
/* A study's recorded recipe text and the recipe file its runs named (malloc'd) */
db_status db_store_get_study(db_store *s, const char *name, char **recipe_path, char **recipe_text);
/* Human-readable listings; study NULL or "" lists every run */
db_status db_store_list(db_store *s, const char *study, FILE *out);
db_status db_store_show(db_store *s, int64_t run, FILE *out);
/* Every metric of every run (or of one run when run > 0), one row each with its run's
 * identifying columns: CSV (RFC 4180 quoting) or JSON (an array of runs, each with its
 * configuration, provenance and metrics). */
db_status db_store_export(db_store *s, int64_t run, int json, FILE *out);

/* Folds a shard database (e.g. one cluster task's) into this one in one transaction: runs are
 * matched by uuid, so merging twice adds nothing; a run that went further in the shard is
 * brought up to date. *added counts new runs, *present runs already here, *updated those of
 * them that the shard changed (progress or metrics this database lacked). */
db_status db_store_merge(db_store *s, const char *shard, int *added, int *present, int *updated);

/* A study's runs read back as plain values (for the report) */
typedef struct { char name[64]; double drop_fraction, expected_fraction; } db_site_row;
typedef struct {
    int64_t id;
    char fingerprint[24], family[24], status[16], regularizer[24], device[16];
    uint64_t seed;
    int epochs, epochs_done;
    char exit_reason[300];
    char metric[32];              /* what scores it (runs.primary_metric; test/top1 before schema 3) */
    double wall_s;                /* from its start to its end (or last heartbeat), NaN if unknown */
    char commit[16];              /* the first 10 characters of the build's git commit ("" unknown) */
    double final_score, best_score; /* that metric after the last epoch, and its best over the epochs */
    double final_top5, images_per_s, drop_fraction; /* NaN where missing */
    double expected_fraction;     /* drop_fraction's expectation, weighted alike (NaN: recorded before it was) */
    int ncurve;
    double *curve;                /* the scoring metric after epochs 1..epochs_done (NaN where missing) */
    int nsites;
    db_site_row *sites;           /* the last epoch's realised and expected fraction per site */
} db_run_row;
db_status db_store_study_runs(db_store *s, const char *study, db_run_row **rows, int *n);
/* Run `id` appended to *rows (e.g. a finished run of another study that fills a cell) */
db_status db_store_append_run(db_store *s, int64_t id, db_run_row **rows, int *n);
void db_run_rows_free(db_run_row *rows, int n);
/* Every study's name, in the order they were created (malloc'd array) */
db_status db_store_studies(db_store *s, char (**names)[64], int *n);
/* The provenance of the study's newest run as "key=value" lines */
db_status db_store_latest_provenance(db_store *s, const char *study, char *out, size_t n);

/* The paper's reported values (paper_values) */
typedef struct {
    char source[16], model[48], regularizer[48], params[128], metric[32], status[24];
    double value, plusminus;   /* plusminus NaN where the paper gives none */
} db_paper_value;
db_status db_store_paper_values(db_store *s, db_paper_value **out, int *n);

/* Baselines by name ("tags"): a consistent copy of the whole database at this moment (VACUUM
 * INTO), kept as baselines/NAME.db beside the database; regress takes a tag or a path. */
db_status db_store_tag(db_store *s, const char *name, char *path_out, size_t n);
/* The file of tag `name` for the database at db_path (whether or not it exists); an invalid
 * name (anything but letters, digits, '.', '_', '-') is an error */
db_status db_store_tag_path(const char *db_path, const char *name, char *out, size_t n);

/* Nightly regression against a baseline database: every finished run here that has a finished
 * twin (same settings fingerprint) in the baseline is compared. Deterministic canary: its final
 * test metrics must equal the twin's exactly (the same seed and thread count give the same bits
 * on the same build flags). Throughput: on the same CPU model (provenance), training images/s
 * (the mean of the epochs after the first where there are several: DB_SQL_THROUGHPUT) must not
 * fall below the twin's / max_slowdown. Statistical: for every family (runs
 * that differ only in their seed) with at least 3 finished runs here and 4 in the baseline, the
 * olympic mean of the final test top-1 must reach the baseline's reference-convergence bound at
 * level alpha (db_rcp_bound in core/stats.h, trimmed sd); families with fewer runs are listed as
 * skipped. Writes one line per check to out and, with junit non-NULL, a JUnit XML file (a
 * skipped check a test case with <skipped/>, counted in the suite's tests and skipped);
 * *failures counts failed checks, *checks all checks made, *skipped the ones not made. The
 * comparison and every check (skips too) are recorded in the store (db_store_last_regression). */
db_status db_store_regress(db_store *s, const char *baseline, double max_slowdown, double alpha, FILE *out,
                           const char *junit, int *checks, int *failures, int *skipped);

/* The latest regress recorded in the store (db_store_regress records each one with its checks,
 * in one transaction): found 0 when there is none. Its rows: failures first, then skips, then
 * passes, each in the order they ran. Free with db_regression_free. */
typedef struct {
    char kind[16];   /* canary, throughput, statistical */
    char name[300], detail[300];
    int outcome;     /* 1 passed, 0 failed, -1 skipped */
} db_regress_check;
typedef struct {
    int found;
    char at[32], baseline[1024];
    int checks, failures, skipped;
    int nrows;
    db_regress_check *rows;
} db_regression;
db_status db_store_last_regression(db_store *s, db_regression *out);
void db_regression_free(db_regression *r);

#endif
