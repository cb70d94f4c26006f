/* The report: the results store turned into the paper's tables and figures beside ours, with
 * honest statistics. The harness (study/report_input.c) reads the store and hands this module
 * plain values; it analyses them (analyse.c), plots them through gnuplot
 * (plots.c) and writes one document twice, Markdown and self-contained HTML (doc.c). */
#ifndef DB_REPORT_REPORT_H
#define DB_REPORT_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "core/status.h"
#include "results/store.h"

/* One cell of a study's matrix, as its recipe defines it */
typedef struct {
    char label[256];       /* e.g. "seed=2,regularizer=dropblock" */
    char condition[256];   /* the label without its seed: the cells of one condition differ in seed only */
    char fingerprint[24];  /* the run that fills the cell has this fingerprint */
    char fingerprint2[24]; /* or this one ("" for none): device auto runs on the CPU or on CUDA */
    uint64_t seed;
    int is_baseline;       /* no regularizer, and the least Cutout and label smoothing of the study's cells */
    char paper_row[48];    /* the paper's Table 1 regularizer this condition stands for ("" none) */
    int dense_table;       /* a detector's 3, a segmenter's 4: the paper's table for its row (0: Table 1's) */
    char dense_row[48];    /* the row of that table: Table 3's "none", "dropout-like DropBlock" (block size 1),
                            * "DropBlock"; Table 4's "none", "DropBlock (in FCN head)"; "" none */
    int pretrained;        /* a backbone started from a classifier (init_from): the pretrained column */
    char regularizer[24], schedule[8], groups[32];
    char dataset[32];
    int epochs, train_limit;   /* what kind of study it is: a pipeline check, an analogue, the paper's */
    int cutout, autoaugment;   /* the augmentation beside the regularizer (Cutout's side; AutoAugment's policy) */
    double label_smoothing;
    double keep_prob;
    int block_size, skip;
    char command[4400];    /* how to run this cell alone */
} db_rep_cell;

/* Table 4's row of DropBlock outside the FCN head, which the paper reports as worse than the
 * head's without a number */
#define DB_REP_ROW_BACKBONE "DropBlock (in backbone)"

typedef struct {
    char name[64], description[256], recipe[512];
    int nassumptions;
    char assumption[16][600];  /* the recipe's readings of the paper it does not state */
    int nrequires;
    char requires[4][128];     /* the file names (no folder) of the recipes its requires lines name */
    int ncells;
    db_rep_cell *cells;
    int nruns;
    db_run_row *runs;      /* every run recorded for the study (several may fill one cell) */
    char provenance[4096]; /* key=value lines of its newest run */
    char problem[600];     /* why its cells are unknown (a recipe this version cannot read), or "" */
} db_rep_study;

typedef struct {
    const char *db_path;
    char db_for_commands[4096]; /* db_path made absolute for the Reproduce commands (as given where it cannot be) */
    int nstudies;
    db_rep_study *studies;
    int npaper;
    const db_paper_value *paper;
    const char *dropbench_version; /* "git commit (dirty)" of the build writing the report */
    const char *program;           /* the command the Reproduce lines run: its absolute path (NULL: "dropbench") */
    db_regression regression;      /* the latest `dropbench regress` on this database (found 0: none) */
} db_rep_input;

typedef struct {
    int plots;             /* run gnuplot (when installed) */
    const char *gnuplot;   /* its command ("gnuplot") */
    int best;              /* score runs by their best test top-1 over the epochs (the paper's
                              practice), not the final one */
    int summary;           /* also write out_dir/SUMMARY.md (db_doc_write_summary) */
} db_rep_options;

/* Writes out_dir/REPORT.md, out_dir/index.html (and with opt->summary SUMMARY.md) and out_dir/plots/ (gnuplot scripts, data, PNG
 * and SVG images). Says on log what it wrote and what it skipped. */
db_status db_report_write(const db_rep_input *in, const char *out_dir, const db_rep_options *opt, FILE *log);

#endif
