/* Recipes (the text files in bench/recipes/): one experiment as plain text. Lines are `key = value` with any
 * train key (dropbench train --help), `study = NAME`, `description = TEXT`, `assumption = TEXT` (a
 * reading of the paper it does not state, one per line, shown in the report), `vary.KEY = A, B,
 * C` for the keys the study sweeps (a value holding a comma is written in double quotes: "3,4"),
 * `row.NAME.KEY = VALUE` for a table's rows that differ in several keys at once (the rows of
 * the paper's Table 1), `include = FILE` (relative to the recipe's folder) for settings
 * several recipes share, and `requires = FILE` (relative alike) for a study whose runs this
 * one's start from (init_from: the pretrained backbones), which `dropbench study` runs first;
 * `#` starts a comment. The study is the matrix of every row (or the base
 * settings alone when there are no rows) times every combination of the varied values; seeds
 * are varied like any key, so every regularizer sees the same seeds (paired). Errors name the
 * file and line. */
#ifndef DB_TRAIN_RECIPE_H
#define DB_TRAIN_RECIPE_H

#include <stddef.h>

#include "train/config.h"

enum { DB_RECIPE_MAX_VARY = 8, DB_RECIPE_MAX_VALUES = 32, DB_RECIPE_MAX_ROWS = 16, DB_RECIPE_MAX_ROW_KEYS = 16,
       DB_RECIPE_MAX_ASSUMPTIONS = 16, DB_RECIPE_MAX_REQUIRES = 4 };

typedef struct {
    char name[32];
    int nkeys;
    char key[DB_RECIPE_MAX_ROW_KEYS][40];
    char value[DB_RECIPE_MAX_ROW_KEYS][64];
} db_recipe_row;

typedef struct db_recipe {
    char path[512];
    char study[64];
    char description[256];
    /* `assumption = TEXT` lines: every reading of the paper it does not state, shown in the report */
    int nassumptions;
    char assumption[DB_RECIPE_MAX_ASSUMPTIONS][600];
    /* `requires = FILE` lines: the recipes whose studies run first, as paths from the working
     * folder (FILE relative to the recipe's folder) */
    int nrequires;
    char requires[DB_RECIPE_MAX_REQUIRES][1024];
    db_config base;
    int nvary;
    char vary_key[DB_RECIPE_MAX_VARY][40];
    int nvalues[DB_RECIPE_MAX_VARY];
    char value[DB_RECIPE_MAX_VARY][DB_RECIPE_MAX_VALUES][64];
    int nrows;
    db_recipe_row row[DB_RECIPE_MAX_ROWS];
    char *text; /* the whole file, included files inlined, as recorded with the study */
    size_t text_len, text_cap;
} db_recipe;

db_status db_recipe_load(const char *path, db_recipe *r);
/* The same from a recipe's recorded text (includes already inlined); name stands for the file
 * in messages and labels */
db_status db_recipe_load_text(const char *name, const char *text, db_recipe *r);
void db_recipe_free(db_recipe *r);
/* A 64-bit FNV-1a hash of the recipe's text (includes inlined): whether a file read again is
 * still the recipe a study planned from */
uint64_t db_recipe_text_hash(const db_recipe *r);
int db_recipe_cells(const db_recipe *r);
/* Cell i's configuration (validated) and its label, e.g. "regularizer=dropblock,seed=2" (with
 * rows: "row=dropout,seed=2"); its
 * checkpoint folder is runs/STUDY/LABEL unless the recipe sets checkpoint_dir (then below it). */
db_status db_recipe_cell(const db_recipe *r, int i, db_config *out, char *label, size_t n);
/* A cell's condition: its label without the seed ("seed=2,regularizer=dropblock" ->
 * "regularizer=dropblock"; "all" when only the seed varies). A value may hold commas
 * ("reg_groups=3,4"): a part without '=' continues the one before it. */
void db_recipe_condition(const char *label, char *out, size_t n);

#endif
