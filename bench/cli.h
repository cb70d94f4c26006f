/* The dropbench command: a thin layer of argument parsing and messages over libdropbench. */
#ifndef DB_BENCH_CLI_H
#define DB_BENCH_CLI_H

#include "core/status.h"

/* Exit codes */
enum { DB_EXIT_OK = 0, DB_EXIT_FAIL = 1, DB_EXIT_USAGE = 2, DB_EXIT_DIVERGED = 3,
       DB_EXIT_INTERRUPTED = 4 /* stopped by a signal after writing a checkpoint: resume continues it */ };

int db_cmd_train(int argc, char **argv);
int db_cmd_bench(int argc, char **argv);
int db_cmd_model(int argc, char **argv);
int db_cmd_kernel(int argc, char **argv);
int db_cmd_results(int argc, char **argv); /* list, show, export, merge */
int db_cmd_study(int argc, char **argv);
int db_cmd_regress(int argc, char **argv);
int db_cmd_slurm(int argc, char **argv);
int db_cmd_resume(int argc, char **argv);
int db_cmd_tag(int argc, char **argv);
int db_cmd_report(int argc, char **argv);
int db_cmd_data(int argc, char **argv);   /* list, fetch, verify, bench */
int db_cmd_eval(int argc, char **argv);   /* coco */

/* One training run with its record in the results database (db_path NULL: none), progress on
 * the terminal and the epoch lines; returns the exit code. labels name the study, the recipe
 * file and the cell a run belongs to ("" for a plain `train`), and carry the recipe's text. */
typedef struct { const char *study, *recipe, *cell, *recipe_text; } db_run_labels;
struct db_config;
int db_cli_run_training(const struct db_config *cfg, const char *db_path, int quiet, int resume,
                        const db_run_labels *labels);

/* Every cell of a study (or cell `only` when >= 0): finished ones skipped, interrupted ones
 * resumed from their checkpoints; refuses a study this version cannot run before recording
 * anything. dry lists the cells (show: with their resolved configurations). */
typedef struct { int dry, show, quiet; long only; } db_study_opts;
struct db_recipe;
int db_cli_run_study(const struct db_recipe *r, const char *db_path, const db_study_opts *o);

/* Print "dropbench: <message>" for a failed status and return the exit code it maps to. */
int db_cli_error(db_status s);
/* Parse a whole decimal integer >= min; 0 on anything else. */
int db_cli_parse_long(const char *s, long min, long *out);
/* Parse "C,H,W" */
int db_cli_parse_shape(const char *s, int *c, int *h, int *w);

#endif
