#include "study/report_input.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dirs.h"
#include "results/store.h"
#include "nets/amoebanet.h"
#include "nets/retinanet.h"
#include "nets/segnet.h"
#include "train/recipe.h"

/* A detector's row of the paper's Table 3, a segmenter's of Table 4, an AmoebaNet's of Table 2 (""
 * for none: a Cutout, label smoothing or AutoAugment run, another regularizer, DropBlock outside the FCN head,
 * which Table 4 has no number for) */
static void dense_row_of(const db_config *c, db_rep_cell *x) {
    const int det = db_model_is_detector(c->model), seg = db_model_is_segmenter(c->model),
              amoeba = !strcmp(c->model, "amoebanet-b"); /* Table 2's network; the other cells have no row */
    x->dense_table = det ? 3 : seg ? 4 : amoeba ? 2 : 0;
    const char *row = "";
    if ((det || seg || amoeba) && !c->cutout && (c->label_smoothing == 0 || amoeba) && /* AmoebaNet's recipe smooths */
        strcmp(c->augment, "autoaugment")) { /* (the paper's Tables 2-4 use none) */
        if (!strcmp(c->regularizer, "none")) row = "none";
        else if (amoeba && !strcmp(c->regularizer, "dropblock")) row = "DropBlock";
        else if (det && !strcmp(c->regularizer, "dropblock")) row = c->block_size == 1 ? "dropout-like DropBlock" : "DropBlock";
        else if (seg && !strcmp(c->regularizer, "dropblock"))
            row = strstr(c->reg_groups, "head") ? "DropBlock (in FCN head)" : DB_REP_ROW_BACKBONE;
    }
    snprintf(x->dense_row, sizeof x->dense_row, "%s", row);
}

/* The paper's Table 1 row a configuration stands for ("" when none: also every detector, whose
 * runs score AP, not Table 1's top-1, and every AmoebaNet, Table 2's) */
static const char *paper_row(const db_config *c) {
    if (db_model_is_detector(c->model) || db_model_is_segmenter(c->model) || db_model_is_amoebanet(c->model)) return "";
    int ls = c->label_smoothing > 0, none = !strcmp(c->regularizer, "none");
    if (!strcmp(c->augment, "autoaugment")) return none && !ls && !c->cutout ? "AutoAugment" : "";
    if (!strcmp(c->regularizer, "dropblock")) return ls ? "DropBlock + label smoothing" : "DropBlock";
    if (c->cutout && none && !ls) return "Cutout";
    if (ls && none && !c->cutout) return "label smoothing";
    if (ls || c->cutout) return "";
    if (!strcmp(c->regularizer, "dropout")) return "dropout";
    if (!strcmp(c->regularizer, "spatial_dropout")) return "SpatialDropout";
    if (!strcmp(c->regularizer, "droppath")) return "DropPath";
    return "none";
}

static db_status load_cells(const db_rep_input *in, db_rep_study *st, const char *text, const char *path) {
    const char *db_path = in->db_for_commands, *program = in->program ? in->program : "dropbench";
    db_recipe *r = malloc(sizeof *r);
    if (!r) return db_fail(DB_ERR_NOMEM, "out of memory");
    db_status s = db_recipe_load_text(path, text, r);
    if (s != DB_OK) {
        snprintf(st->problem, sizeof st->problem, "its recorded recipe does not load in this version: %s", db_last_error());
        free(r);
        return DB_OK;
    }
    snprintf(st->description, sizeof st->description, "%s", r->description);
    for (int i = 0; i < r->nassumptions && i < (int)(sizeof st->assumption / sizeof *st->assumption); i++)
        snprintf(st->assumption[st->nassumptions++], sizeof st->assumption[0], "%s", r->assumption[i]);
    for (int i = 0; i < r->nrequires && i < (int)(sizeof st->requires / sizeof *st->requires); i++) {
        const char *base = strrchr(r->requires[i], '/') ? strrchr(r->requires[i], '/') + 1 : r->requires[i];
        snprintf(st->requires[st->nrequires++], sizeof st->requires[0], "%s", base);
    }
    int n = db_recipe_cells(r);
    st->cells = calloc((size_t)n, sizeof *st->cells);
    double *aug = malloc(sizeof *aug * (size_t)(n ? n : 1));
    if (!st->cells || !aug) { free(aug); db_recipe_free(r); free(r); return db_fail(DB_ERR_NOMEM, "out of memory"); }
    for (int i = 0; i < n && s == DB_OK; i++) {
        db_config c;
        db_rep_cell *x = &st->cells[i];
        if ((s = db_recipe_cell(r, i, &c, x->label, sizeof x->label)) != DB_OK) break;
        db_recipe_condition(x->label, x->condition, sizeof x->condition);
        if (!strcmp(c.device, "auto")) { /* filled by a run on either device, whichever its machine had */
            strcpy(c.device, "cuda");
            snprintf(x->fingerprint2, sizeof x->fingerprint2, "%016llx", (unsigned long long)db_config_fingerprint(&c));
            strcpy(c.device, "cpu");
        }
        snprintf(x->fingerprint, sizeof x->fingerprint, "%016llx", (unsigned long long)db_config_fingerprint(&c));
        x->seed = c.seed;
        x->is_baseline = !strcmp(c.regularizer, "none");
        x->autoaugment = !strcmp(c.augment, "autoaugment");
        x->cutout = c.cutout;
        x->label_smoothing = c.label_smoothing;
        /* 0: none of them; cutout outweighs any smoothing, AutoAugment either */
        aug[i] = c.cutout * 2.0 + c.label_smoothing + (x->autoaugment ? 1e6 : 0.0);
        snprintf(x->paper_row, sizeof x->paper_row, "%s", paper_row(&c));
        dense_row_of(&c, x);
        x->pretrained = c.init_from[0] != 0;
        snprintf(x->regularizer, sizeof x->regularizer, "%s", c.regularizer);
        db_config e; /* the placement as it runs, auto keys resolved */
        db_config_effective(&c, &e);
        snprintf(x->schedule, sizeof x->schedule, "%s", e.keep_prob_schedule);
        snprintf(x->groups, sizeof x->groups, "%s", c.reg_groups);
        x->keep_prob = c.keep_prob;
        x->block_size = c.block_size;
        x->skip = e.reg_skip;
        snprintf(x->dataset, sizeof x->dataset, "%s", c.dataset);
        x->epochs = c.epochs;
        x->train_limit = c.train_limit;
        char w[3][1400];
        snprintf(x->command, sizeof x->command, "%s study %s --cell %d --db %s", db_shell_word(program, w[0], sizeof w[0]),
                 db_shell_word(path, w[1], sizeof w[1]), i, db_shell_word(db_path, w[2], sizeof w[2]));
        st->ncells++;
    }
    /* The baseline: no regularizer and the least of AutoAugment, Cutout and label smoothing any of
     * the study's cells has (none of them in a Table 1 study, where each is a condition: without a
     * plain no-regularizer row there is no baseline; label smoothing where every cell has it, as
     * the AmoebaNet recipes) */
    double least = INFINITY;
    for (int i = 0; i < st->ncells; i++) if (aug[i] < least) least = aug[i];
    for (int i = 0; i < st->ncells; i++) st->cells[i].is_baseline &= aug[i] == least;
    free(aug);
    db_recipe_free(r);
    free(r);
    return s;
}

/* A cell another study already ran (the same settings) is not run again by this one (study
 * skips it): bring that run in, so the cell shows its result instead of "missing" */
static db_status borrow_runs(db_store *s, db_rep_study *x) {
    for (int c = 0; c < x->ncells; c++) {
        const db_rep_cell *cell = &x->cells[c];
        int have = 0;
        for (int i = 0; i < x->nruns && !have; i++)
            have = !strcmp(x->runs[i].fingerprint, cell->fingerprint) ||
                   (cell->fingerprint2[0] && !strcmp(x->runs[i].fingerprint, cell->fingerprint2));
        for (int f = 0; !have && f < 2; f++) {
            const char *fp = f ? cell->fingerprint2 : cell->fingerprint;
            int64_t id = 0;
            if (!fp[0]) continue;
            DB_TRY(db_store_find_done(s, fp, &id));
            if (id) { DB_TRY(db_store_append_run(s, id, &x->runs, &x->nruns)); have = 1; }
        }
    }
    return DB_OK;
}

void db_report_input_free(db_rep_input *in) {
    for (int i = 0; i < in->nstudies; i++) {
        free(in->studies[i].cells);
        db_run_rows_free(in->studies[i].runs, in->studies[i].nruns);
    }
    free(in->studies);
    free((void *)in->paper);
    db_regression_free(&in->regression);
}

static db_status load_input(db_store *s, const char *db_path, const char *only, db_rep_input *in) {
    char (*names)[64] = NULL;
    int n = 0;
    DB_TRY(db_store_studies(s, &names, &n));
    in->studies = calloc((size_t)(n ? n : 1), sizeof *in->studies);
    if (!in->studies) { free(names); return db_fail(DB_ERR_NOMEM, "out of memory"); }
    db_status st = DB_OK;
    for (int i = 0; i < n && st == DB_OK; i++) {
        if (only && strcmp(only, names[i])) continue;
        db_rep_study *x = &in->studies[in->nstudies++];
        snprintf(x->name, sizeof x->name, "%s", names[i]);
        char *path = NULL, *text = NULL;
        st = db_store_get_study(s, names[i], &path, &text);
        if (st == DB_OK) {
            snprintf(x->recipe, sizeof x->recipe, "%s", path);
            st = load_cells(in, x, text, path[0] ? path : names[i]);
        } else if (st == DB_ERR_ARG) { /* a study with no recorded recipe */
            snprintf(x->problem, sizeof x->problem, "%s", db_last_error());
            st = DB_OK;
        }
        free(path);
        free(text);
        if (st == DB_OK) st = db_store_study_runs(s, names[i], &x->runs, &x->nruns);
        if (st == DB_OK) st = borrow_runs(s, x);
        if (st == DB_OK) st = db_store_latest_provenance(s, names[i], x->provenance, sizeof x->provenance);
    }
    if (st == DB_OK && only && !in->nstudies && n) { /* no command lists the study names: the message does */
        char known[600] = "";
        size_t at = 0;
        int shown = 0;
        for (; shown < n && at + strlen(names[shown]) + 40 < sizeof known; shown++)
            at += (size_t)snprintf(known + at, sizeof known - at, "%s%s", shown ? ", " : "", names[shown]);
        if (shown < n) snprintf(known + at, sizeof known - at, " and %d more", n - shown);
        st = db_fail(DB_ERR_ARG, "%s: no study '%s'; its studies: %s", db_path, only, known);
    }
    free(names);
    if (st == DB_OK && !in->nstudies)
        st = db_fail(DB_ERR_ARG, "%s has no studies yet: run one first (make reproduce, or ./dropbench study RECIPE)", db_path);
    db_paper_value *pv = NULL;
    if (st == DB_OK) st = db_store_paper_values(s, &pv, &in->npaper);
    in->paper = pv;
    if (st == DB_OK) st = db_store_last_regression(s, &in->regression);
    return st;
}

db_status db_report_collect(const char *db_path, const char *only, db_rep_input *in) {
    db_store *s; /* a copy: the report never writes the database (it may be read-only, or a CI artifact); a missing
                  * one is refused, never made */
    DB_TRY(db_store_open_copy(&s, db_path));
    in->db_path = db_path;
    if (!realpath(db_path, in->db_for_commands)) snprintf(in->db_for_commands, sizeof in->db_for_commands, "%s", db_path);
    db_status st = load_input(s, db_path, only, in);
    db_store_close(s);
    return st;
}
