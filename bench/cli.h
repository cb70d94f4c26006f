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
int db_cmd_data(int argc, char **argv);   /* list, fetch, verify, unpack, make, bench */
int db_cmd_eval(int argc, char **argv);   /* coco, miou */

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
/* An option's value checked, saying what is wrong on standard error ("dropbench CMD: OPT needs a
 * value", "... OPT wants final or best, got 'x'", "... OPT wants a whole number from 1 to 256,
 * got '0'"); value NULL: the option came last, without one.
 * db_cli_choice: the index of value in the NULL-terminated choices, or -1.
 * db_cli_long_opt: 1 with *out set when value is a whole number in [min, max], else 0. */
int db_cli_choice(const char *cmd, const char *opt, const char *value, const char *const *choices);
int db_cli_long_opt(const char *cmd, const char *opt, const char *value, long min, long max, long *out);
/* argv[*i], an option "--KEY VALUE" or "--KEY=VALUE" (it starts with "--"): KEY (as written, without
 * the dashes) into key, its value into *value, *i moved past what it took. 0 after saying what is
 * wrong (a value missing, a key too long) on standard error. */
int db_cli_key_value(const char *cmd, int argc, char **argv, int *i, char *key, size_t n, const char **value);
/* Does option argv[i] have a value after it: a next argument that is not itself an option
 * ("--..."; a value that starts so is written OPT=VALUE where the command takes that, or ./--x
 * for a path)? */
int db_cli_has_value(int argc, char **argv, int i);
/* Says why arg was refused: "OPT needs a value" when it is one of valued (NULL-ended), else
 * "unexpected argument 'ARG'" */
void db_cli_refuse(const char *cmd, const char *arg, const char *const *valued);

/* This program's absolute path, for the commands dropbench writes for later (a job script, the
 * lines it prints to run next, the report's Reproduce section), which may run from another
 * folder: /proc/self/exe, unless that is not this program (started through the loader,
 * ld-linux ./dropbench, or under valgrind), else argv[0] made absolute, else "dropbench" (as
 * found on PATH). *is_self_exe (may be NULL): 1 when it is /proc/self/exe. */
void db_cli_set_argv0(const char *argv0);
const char *db_cli_program(int *is_self_exe);

#endif
