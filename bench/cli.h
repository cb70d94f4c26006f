/* The dropbench command: a thin layer of argument parsing and messages over libdropbench. */
#ifndef DB_BENCH_CLI_H
#define DB_BENCH_CLI_H

#include "core/status.h"
#include "study/study.h"

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

/* How the command shows what the libraries do (bench/cli.c): the log sink (information on
 * standard output, notes on standard error as "dropbench: ...", progress lines only on a
 * terminal), and the hooks that print a run's header, its record and its epochs. quiet keeps
 * only the information and notes. */
void db_cli_log_init(void);
void db_cli_set_quiet(int quiet);
/* The display hooks for runs (quiet: only the result line of each finished run) */
const db_run_hooks *db_cli_run_hooks(void);
/* A study's end (`study`, `resume --study`): its runs listed (a whole study), the counts, the
 * exit code */
int db_cli_study_end(db_status s, const db_study_result *res, const char *study, const char *db_path, long only);

/* Print "dropbench: <message>" for a failed status and return the exit code it maps to. */
int db_cli_error(db_status s);
/* Does any argument after the command ask for help (--help or -h)? Every subcommand answers it
 * with its usage on standard output and exit 0. */
int db_cli_wants_help(int argc, char **argv);
/* Parse a whole decimal integer >= min; 0 on anything else. */
int db_cli_parse_long(const char *s, long min, long *out);
/* Parse "C,H,W" */
int db_cli_parse_shape(const char *s, int *c, int *h, int *w);

#endif
