/* What every command shares: how statuses become messages and exit codes, argument parsing, and
 * what the command shows while the libraries work (their log messages, a run's progress). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/cli.h"
#include "core/dist.h"
#include "core/log.h"
#include "results/store.h"
#include "train/task.h"

/* "dropbench", or "dropbench [rank 2]" in the other processes of a data-parallel run */
static const char *who(void) {
    static char name[48];
    const db_dist_info *d = db_dist();
    if (d->rank == 0) return "dropbench";
    snprintf(name, sizeof name, "dropbench [rank %d]", d->rank);
    return name;
}

int db_cli_error(db_status s) {
    fprintf(stderr, "%s: %s\n", who(), db_last_error()[0] ? db_last_error() : db_status_name(s));
    db_status p = db_status_primary(s);
    if (p == DB_ERR_DIVERGED) return DB_EXIT_DIVERGED;
    if (p == DB_ERR_INTERRUPTED) return DB_EXIT_INTERRUPTED;
    return p == DB_ERR_ARG ? DB_EXIT_USAGE : DB_EXIT_FAIL;
}

int db_cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

int db_cli_parse_long(const char *s, long min, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno || v < min) return 0;
    *out = v;
    return 1;
}

int db_cli_parse_shape(const char *s, int *c, int *h, int *w) {
    int *dim[3] = {c, h, w};
    for (int k = 0; k < 3; k++) { /* each a whole number from 1 to 65536 (no int wraps), comma-separated */
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < 1 || v > 65536 || *end != (k < 2 ? ',' : '\0')) return 0;
        *dim[k] = (int)v;
        s = end + 1;
    }
    return 1;
}

int db_cli_choice(const char *cmd, const char *opt, const char *value, const char *const *choices) {
    int n = 0;
    while (choices[n]) n++;
    for (int i = 0; value && i < n; i++)
        if (!strcmp(value, choices[i])) return i;
    char list[256] = "";
    for (int i = 0; i < n; i++) /* "a", "a or b", "a, b or c" */
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ",
                 choices[i]);
    if (value) fprintf(stderr, "dropbench %s: %s wants %s, got '%s'\n", cmd, opt, list, value);
    else fprintf(stderr, "dropbench %s: %s needs a value: %s\n", cmd, opt, list);
    return -1;
}

int db_cli_long_opt(const char *cmd, const char *opt, const char *value, long min, long max, long *out) {
    long v;
    if (value && db_cli_parse_long(value, min, &v) && v <= max) { *out = v; return 1; }
    if (value) fprintf(stderr, "dropbench %s: %s wants a whole number from %ld to %ld, got '%s'\n", cmd, opt, min, max, value);
    else fprintf(stderr, "dropbench %s: %s needs a value: a whole number from %ld to %ld\n", cmd, opt, min, max);
    return 0;
}

int db_cli_has_value(int argc, char **argv, int i) {
    return i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0;
}

void db_cli_refuse(const char *cmd, const char *arg, const char *const *valued) {
    for (int k = 0; valued && valued[k]; k++)
        if (!strcmp(arg, valued[k])) {
            fprintf(stderr, "dropbench %s: %s needs a value\n", cmd, arg);
            return;
        }
    fprintf(stderr, "dropbench %s: unexpected argument '%s'\n", cmd, arg);
}

int db_cli_key_value(const char *cmd, int argc, char **argv, int *i, char *key, size_t n, const char **value) {
    const char *a = argv[*i] + 2, *eq = strchr(a, '=');
    size_t len = eq ? (size_t)(eq - a) : strlen(a);
    if (len >= n) { fprintf(stderr, "dropbench %s: unknown option '%s'\n", cmd, argv[*i]); return 0; }
    memcpy(key, a, len);
    key[len] = '\0';
    if (eq) { *value = eq + 1; return 1; }
    if (!db_cli_has_value(argc, argv, *i)) {
        fprintf(stderr, "dropbench %s: %s needs a value%s\n", cmd, argv[*i],
                *i + 1 < argc ? " (one that starts with -- goes as --key=VALUE)" : "");
        return 0;
    }
    *value = argv[++*i];
    return 1;
}

static const char *argv0 = "dropbench";
void db_cli_set_argv0(const char *a) { if (a && a[0]) argv0 = a; }

const char *db_cli_program(int *is_self_exe) {
    static char path[4096];
    int self = 0;
    ssize_t len = readlink("/proc/self/exe", path, sizeof path - 1);
    if (len > 0) {
        path[len] = '\0';
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path, *preload = getenv("LD_PRELOAD");
        self = strncmp(base, "ld-", 3) && !(preload && strstr(preload, "vgpreload"));
        if (len > 10 && !strcmp(path + len - 10, " (deleted)")) path[len - 10] = '\0'; /* rebuilt since: the new one */
    }
    if (!self && !(strchr(argv0, '/') && realpath(argv0, path))) snprintf(path, sizeof path, "%s", argv0);
    if (is_self_exe) *is_self_exe = self;
    return path;
}

static int quiet, progress_shown;

static void sink(db_log_kind kind, const char *msg, void *user) {
    (void)user;
    if (db_dist()->rank > 0 && kind != DB_LOG_NOTE) return; /* the first process shows the run */
    if (kind == DB_LOG_PROGRESS) {
        if (quiet || !isatty(2)) return;
        if (msg[0]) fprintf(stderr, "\r%s", msg);
        else if (progress_shown) fprintf(stderr, "\r%80s\r", "");
        progress_shown = msg[0] != '\0';
        return;
    }
    if (progress_shown) { fprintf(stderr, "\r%80s\r", ""); progress_shown = 0; }
    if (kind == DB_LOG_NOTE) fprintf(stderr, "%s: %s\n", who(), msg);
    else { printf("%s\n", msg); fflush(stdout); }
}

void db_cli_log_init(void) { db_log_set_sink(sink, NULL); }
void db_cli_set_quiet(int q) { quiet = q; }

static int run_epochs, run_batch;
static const db_task *run_task;

/* " top1 70.63%" or " loss 0.7526" (a diverging loss " loss 2.491e+33", not 34 digits): a task's
 * metric as the epoch and result lines show it */
static int show_metric(char *out, size_t n, const char *name, double v, int percent) {
    return percent ? snprintf(out, n, " %s %.2f%%", name, 100 * v)
                   : snprintf(out, n, fabs(v) < 1e6 ? " %s %.4f" : " %s %.4g", name, v);
}

static void on_start(const db_config *cfg, void *user) {
    (void)user;
    char dir[4096];
    const char *origin;
    db_data_spec spec = db_config_data(cfg);
    db_data_dir(&spec, dir, sizeof dir, &origin);
    run_epochs = cfg->epochs;
    run_batch = cfg->batch;
    run_task = db_config_task(cfg);
    printf("dropbench train: %s on %s (%s: %s), %d epochs, batch %d, seed %llu, %d threads, device %s\n", cfg->model,
           cfg->dataset, dir, origin, cfg->epochs, cfg->batch, (unsigned long long)cfg->seed, cfg->threads, cfg->device);
    fflush(stdout);
}

static void on_recorded(int64_t run, int resumed, const char *db_path, const char *events, void *user) {
    (void)user;
    printf("%s run %lld in %s (events: %s)\n", resumed ? "continuing" : "recording", (long long)run, db_path, events);
    fflush(stdout); /* shown before the first epoch even when stdout is a pipe */
}

static void on_step(int epoch, int step, int steps, double loss, double ips, void *user) {
    (void)user;
    /* time left in the whole run, evaluation not counted */
    double left = ((double)(run_epochs - epoch) * steps + steps - step) * run_batch / (ips > 0 ? ips : 1);
    db_log(DB_LOG_PROGRESS, "  epoch %d/%d  step %d/%d  loss %.4f  %.0f img/s  ETA %dm%02ds   ", epoch, run_epochs, step,
           steps, loss, ips, (int)left / 60, (int)left % 60);
}

static db_status on_epoch(const db_epoch_result *r, const db_epoch_sites *es, void *user) {
    (void)es; (void)user;
    db_log(DB_LOG_PROGRESS, "%s", ""); /* the progress line goes */
    char drop[32] = "", train[160] = "", test[160] = "";
    if (r->drop_fraction >= 0) snprintf(drop, sizeof drop, "  dropped %.4f", r->drop_fraction);
    const db_task *t = run_task;
    size_t used = 0;
    for (int k = 0; k < t->n_train && used < sizeof train; k++)
        used += (size_t)show_metric(train + used, sizeof train - used, t->train_names[k], r->train[k], t->train_percent[k]);
    used = 0;
    for (int k = 0; k < t->n_test && used < sizeof test; k++)
        used += (size_t)show_metric(test + used, sizeof test - used, t->test_names[k], r->test[k], t->test_percent[k]);
    if (isnan(r->test[t->test_loss])) snprintf(test, sizeof test, " not evaluated (eval_every)");
    char loss[48];
    show_metric(loss, sizeof loss, "loss", r->train_loss, 0);
    printf("epoch %3d/%d  lr %.4g  train%s%s  |  test%s  |  %.1fs %.0f img/s%s\n", r->epoch, run_epochs, r->lr, loss,
           train, test, r->seconds, r->images_per_s, drop);
    fflush(stdout);
    return DB_OK;
}

static void on_finished(const db_train_summary *sum, void *user) {
    (void)user;
    if (sum->resumed_from && !quiet) printf("(resumed after epoch %d)\n", sum->resumed_from);
    /* the scoring metric first with its best, then the others, the loss last */
    const db_task *t = sum->task;
    char line[400], part[80];
    int k = t->score, pct = t->test_percent[k];
    show_metric(part, sizeof part, t->test_names[k], sum->final_test[k], pct);
    snprintf(line, sizeof line, "result: test%s (best %.*f%s)", part, pct ? 2 : 4, (pct ? 100 : 1) * sum->best_score,
             pct ? "%" : "");
    for (int i = 0; i < t->n_test; i++) {
        if (i == t->score || i == t->test_loss) continue;
        show_metric(part, sizeof part, t->test_names[i], sum->final_test[i], t->test_percent[i]);
        snprintf(line + strlen(line), sizeof line - strlen(line), ",%s", part);
    }
    show_metric(part, sizeof part, t->test_names[t->test_loss], sum->final_test[t->test_loss], 0);
    printf("%s,%s after %d epochs, %.1f s of training\n", line, part, sum->epochs_done, sum->train_seconds);
    fflush(stdout);
}

const db_run_hooks *db_cli_run_hooks(void) {
    static const db_run_hooks shown = {on_start, on_recorded, on_finished, {on_epoch, NULL, on_step, NULL, 0, 0, 0}};
    static const db_run_hooks quiet_hooks = {NULL, NULL, on_finished, {NULL, NULL, NULL, NULL, 0, 0, 0}};
    return quiet ? &quiet_hooks : &shown;
}

int db_cli_study_end(db_status s, const db_study_result *res, const char *study, const char *db_path, long only) {
    if (s == DB_ERR_INTERRUPTED && res->stopped) return DB_EXIT_INTERRUPTED; /* said as it stopped */
    if (s == DB_OK && only < 0) {
        db_store *store;
        printf("\n");
        if ((s = db_store_open(&store, db_path)) == DB_OK) {
            s = db_store_list(store, study, stdout);
            db_store_close(store);
        }
    }
    if (s != DB_OK) return db_cli_error(s);
    printf("study: %d cells, %d ran now, %d done before, %d failed\n", res->cells, res->ran, res->done_before, res->failed);
    return res->failed ? DB_EXIT_FAIL : DB_EXIT_OK;
}
