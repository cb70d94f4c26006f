/* The training library's pieces on their own: checkpoint classification (every kind of broken
 * file gets its own code, and only the ones a fresh start gets past count as unusable), the
 * configuration reader as the inverse of the writer, and the recipe parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nets/model.h"
#include "nets/optim.h"
#include "core/dirs.h"
#include "tests/check.h"
#include "train/checkpoint.h"
#include "train/config.h"
#include "train/recipe.h"
#include "study/study.h"

typedef struct { db_graph g; db_sgd opt; } small_net;

static db_status build(small_net *n, int width) {
    db_model_config mc;
    DB_TRY(db_model_defaults(&mc, "resnet8"));
    mc.in_c = 1; mc.in_h = mc.in_w = 8; mc.classes = 3; mc.width = width;
    DB_TRY(db_model_build(&n->g, &mc, 4));
    db_graph_init_params(&n->g, 1);
    db_sgd_config sc = {.momentum = 0.9f, .weight_decay = 1e-4f};
    return db_sgd_init(&n->opt, &n->g, &sc);
}

static void free_net(small_net *n) {
    db_graph_free(&n->g);
    db_sgd_free(&n->opt);
}

static long file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static void copy_file(const char *from, const char *to, long keep) {
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    CHECK(a && b, "copy %s -> %s", from, to);
    if (!a || !b) { if (a) fclose(a); if (b) fclose(b); return; }
    int c;
    for (long i = 0; (keep < 0 || i < keep) && (c = fgetc(a)) != EOF; i++) fputc(c, b);
    fclose(a);
    fclose(b);
}

/* Writes n bytes at `at`, or with invert XORs them into what is there (so the byte surely changes) */
static void poke(const char *path, long at, const void *bytes, size_t n, int invert) {
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL, "open %s", path);
    if (!f) return;
    unsigned char buf[16] = {0};
    CHECK(n <= sizeof buf, "poke of %zu bytes", n);
    memcpy(buf, bytes, n < sizeof buf ? n : sizeof buf);
    if (invert) {
        unsigned char old[16] = {0};
        fseek(f, at, SEEK_SET);
        CHECK(fread(old, 1, n, f) == n, "read %s at %ld", path, at);
        for (size_t i = 0; i < n && i < sizeof buf; i++) buf[i] ^= old[i];
    }
    fseek(f, at, SEEK_SET);
    fwrite(buf, 1, n < sizeof buf ? n : sizeof buf, f);
    fclose(f);
}

/* Loads dir's checkpoint into n and returns the status (the meta freed) */
static db_status load(const char *dir, small_net *n) {
    db_ckpt_meta *m = NULL;
    db_status s = db_ckpt_load(dir, &n->g, &n->opt, &m);
    free(m);
    return s;
}

static void test_checkpoint_kinds(void) {
    char dir[64], good[1100], path[1100];
    db_test_mkdtemp(dir, "ckpt");
    small_net n, other;
    CHECK_OK(build(&n, 4));
    CHECK_OK(build(&other, 8));
    db_ckpt_meta *meta = db_ckpt_meta_alloc(2, db_graph_n_reg(&n.g));
    CHECK(meta != NULL, "meta");
    if (!meta) return;
    meta->fingerprint = 42; meta->seed = 7; meta->epoch = 2; meta->step = 20; meta->threads = 1; meta->n_history = 2;
    meta->history[0].epoch = 1; meta->history[1].epoch = 2;
    CHECK_OK(db_ckpt_save(dir, &n.g, &n.opt, meta));
    db_ckpt_path(dir, path, sizeof path);
    snprintf(good, sizeof good, "%s/good.dbck", dir);
    copy_file(path, good, -1);
    long size = file_size(good);
    CHECK(size > 100, "checkpoint of %ld bytes", size);
    CHECK_OK(load(dir, &n));

    /* each kind of damage, with the code a caller acts on */
    struct { const char *what; long at; const char *bytes; size_t n; long cut; int append; db_status want; int invert; } cases[] = {
        {"bad magic", 0, "XXXXXX", 6, -1, 0, DB_ERR_CKPT_NOT, 0},
        {"another format version", 8, "\x04\x00\x00\x00", 4, -1, 0, DB_ERR_CKPT_VERSION, 0},
        {"negative history count", 8 + 4 + 8 + 8 + 4 + 8, "\xff\xff\xff\xff", 4, -1, 0, DB_ERR_CKPT_CORRUPT, 0},
        {"impossible tensor size", 8 + 4 + 8 + 8 + 4 + 8 + 12, "\xff\xff\xff\xff\xff\xff\xff\xff", 8, -1, 0,
         DB_ERR_CKPT_CORRUPT, 0},
        {"a flipped parameter byte", -200, "\xff", 1, -1, 0, DB_ERR_CKPT_CORRUPT, 1},
        {"trailing bytes", 0, NULL, 0, -1, 1, DB_ERR_CKPT_CORRUPT, 0},
        {"cut inside the magic", 0, NULL, 0, 6, 0, DB_ERR_CKPT_TRUNCATED, 0},
        {"cut inside the header", 0, NULL, 0, 30, 0, DB_ERR_CKPT_TRUNCATED, 0},
        {"cut inside the tensors", 0, NULL, 0, size / 2, 0, DB_ERR_CKPT_TRUNCATED, 0},
        {"cut before the checksum", 0, NULL, 0, size - 4, 0, DB_ERR_CKPT_TRUNCATED, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        copy_file(good, path, cases[i].cut);
        if (cases[i].bytes) poke(path, cases[i].at < 0 ? size + cases[i].at : cases[i].at, cases[i].bytes, cases[i].n,
                                  cases[i].invert);
        if (cases[i].append) { FILE *f = fopen(path, "ab"); if (f) { fputs("extra", f); fclose(f); } }
        db_status s = load(dir, &n);
        CHECK(s == cases[i].want, "%s: %s (%s), want %s", cases[i].what, db_status_name(s), db_last_error(),
              db_status_name(cases[i].want));
        CHECK(strstr(db_last_error(), path) != NULL, "%s: the message names no file: %s", cases[i].what, db_last_error());
        CHECK(db_ckpt_unusable(s), "%s: not unusable", cases[i].what);
        CHECK(db_status_primary(s) == DB_ERR_FORMAT, "%s: primary %s", cases[i].what, db_status_name(db_status_primary(s)));
    }
    /* another network's checkpoint */
    copy_file(good, path, -1);
    db_status s = load(dir, &other);
    CHECK(s == DB_ERR_CKPT_NETWORK && db_ckpt_unusable(s), "another network: %s", db_status_name(s));
    /* what a fresh start does not fix is not unusable */
    CHECK(!db_ckpt_unusable(DB_ERR_CKPT_THREADS) && !db_ckpt_unusable(DB_ERR_IO) && !db_ckpt_unusable(DB_OK) &&
          !db_ckpt_unusable(DB_ERR_FORMAT) && db_ckpt_unusable(DB_ERR_CKPT_CONFIG), "unusable classification");
    CHECK(db_status_primary(DB_ERR_CKPT_CONFIG) == DB_ERR_ARG && db_status_primary(DB_ERR_CKPT_THREADS) == DB_ERR_ARG,
          "configuration mismatches are argument errors");
    /* a missing file is an i/o error, not a broken checkpoint */
    unlink(path);
    s = load(dir, &n);
    CHECK(s == DB_ERR_IO && !db_ckpt_unusable(s), "missing checkpoint: %s", db_status_name(s));
    /* nothing of a damaged file reaches the model: it is verified before anything is loaded */
    copy_file(good, path, -1);
    CHECK_OK(load(dir, &n));
    free(meta);
    free_net(&n);
    free_net(&other);
    db_test_rmtree(dir);
}

static void test_config_read_write(void) {
    db_config a, b;
    db_config_defaults(&a);
    CHECK_OK(db_config_set(&a, "regularizer", "dropblock"));
    CHECK_OK(db_config_set(&a, "keep-prob", "0.85"));
    CHECK_OK(db_config_set(&a, "reg_groups", "2,3"));
    CHECK_OK(db_config_set(&a, "lr", "0.1"));
    CHECK_OK(db_config_set(&a, "label_smoothing", "0.1"));
    CHECK_OK(db_config_set(&a, "seed", "18446744073709551615"));
    CHECK_OK(db_config_set(&a, "checkpoint_dir", "runs/x y"));
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    db_config_write(&a, m);
    fclose(m);
    CHECK_OK(db_config_read(&b, text));
    CHECK(memcmp(&a, &b, sizeof a) == 0, "read(write(c)) differs from c");
    CHECK(db_config_fingerprint(&a) == db_config_fingerprint(&b), "fingerprints differ");
    free(text);
    /* auto placement: written as auto, read back as auto; resolved per regularizer, and an
     * explicit value equal to what auto means is the same run (the same fingerprint) */
    db_config_defaults(&a);
    CHECK(a.reg_skip == -1 && a.group_scaling == -1 && !strcmp(a.keep_prob_schedule, "auto"), "auto defaults");
    text = NULL;
    m = open_memstream(&text, &len);
    db_config_write(&a, m);
    fclose(m);
    CHECK(text && strstr(text, "reg_skip=auto\n") && strstr(text, "group_scaling=auto\n"), "auto not written");
    CHECK_OK(db_config_read(&b, text));
    CHECK(memcmp(&a, &b, sizeof a) == 0, "auto did not read back");
    free(text);
    static const struct { const char *reg; int skip, scaling; const char *schedule; } want[] = {
        {"dropblock", 1, 1, "linear"}, {"dropout", 0, 0, "fixed"}, {"spatial_dropout", 0, 0, "fixed"},
        {"droppath", 0, 0, "fixed"}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        db_config c, e, x;
        db_config_defaults(&c);
        CHECK_OK(db_config_set(&c, "regularizer", want[i].reg));
        db_config_effective(&c, &e);
        CHECK(e.reg_skip == want[i].skip && e.group_scaling == want[i].scaling &&
              !strcmp(e.keep_prob_schedule, want[i].schedule), "%s: auto means skip %d scaling %d %s", want[i].reg,
              e.reg_skip, e.group_scaling, e.keep_prob_schedule);
        db_reg_plan plan;
        CHECK_OK(db_config_reg_plan(&c, &plan));
        CHECK(plan.on_skip == want[i].skip && plan.group_scaling == want[i].scaling &&
              plan.scheduled == !strcmp(want[i].schedule, "linear"), "%s: the plan does not follow auto", want[i].reg);
        x = c; /* the same placement written out */
        x.reg_skip = want[i].skip;
        x.group_scaling = want[i].scaling;
        strcpy(x.keep_prob_schedule, want[i].schedule);
        CHECK(db_config_fingerprint(&x) == db_config_fingerprint(&c), "%s: explicit and auto fingerprints differ",
              want[i].reg);
        CHECK_OK(db_config_set(&x, "reg_skip", want[i].skip ? "0" : "1"));
        CHECK(db_config_fingerprint(&x) != db_config_fingerprint(&c), "%s: another placement, the same fingerprint",
              want[i].reg);
    }
    /* without a regularizer auto keeps the values of before (1, 0, linear): baseline runs keep
     * their fingerprints */
    {
        db_config none, old;
        db_config_defaults(&none);
        old = none;
        CHECK_OK(db_config_set(&old, "reg_skip", "1"));
        CHECK_OK(db_config_set(&old, "group_scaling", "0"));
        CHECK_OK(db_config_set(&old, "keep_prob_schedule", "linear"));
        CHECK(!strcmp(none.regularizer, "none") && db_config_fingerprint(&none) == db_config_fingerprint(&old),
              "a run without a regularizer changed its fingerprint");
    }
    CHECK(db_config_set(&a, "reg_skip", "2") == DB_ERR_ARG && db_config_set(&a, "group_scaling", "yes") == DB_ERR_ARG,
          "bad auto values accepted");
    /* keys missing from the text keep their defaults; the order does not matter */
    CHECK_OK(db_config_read(&b, "epochs=3\nmodel=resnet8\n"));
    db_config_defaults(&a);
    a.epochs = 3;
    strcpy(a.model, "resnet8");
    CHECK(memcmp(&a, &b, sizeof a) == 0, "a partial text");
    /* errors name the line */
    CHECK(db_config_read(&b, "epochs=3\nno equals sign\n") == DB_ERR_FORMAT && strstr(db_last_error(), "line 2"),
          "a line without '=': %s", db_last_error());
    CHECK(db_config_read(&b, "epochs=3\nepochs=x\n") == DB_ERR_FORMAT && strstr(db_last_error(), "line 2") &&
          strstr(db_last_error(), "epochs"), "a bad value: %s", db_last_error());
    CHECK(db_config_read(&b, "no_such_key=1\n") == DB_ERR_FORMAT && strstr(db_last_error(), "no_such_key"),
          "an unknown key: %s", db_last_error());
    CHECK(db_config_read(&b, "lr_schedule=step\nmilestones=\n") != DB_OK, "an invalid whole (step without milestones)");
}

static void test_recipe_parser(void) {
    char dir[64];
    db_test_mkdtemp(dir, "recipe");
    FILE *f = fopen(db_test_path(dir, "shared.inc"), "w");
    CHECK(f != NULL, "write shared.inc");
    if (!f) return;
    fprintf(f, "model = resnet8   # a comment\nepochs = 2\n");
    fclose(f);
    f = fopen(db_test_path(dir, "r.txt"), "w");
    if (!f) return;
    fprintf(f, "study = demo\ndescription = a test\ninclude = shared.inc\nrow.base.regularizer = none\n"
               "row.db.regularizer = dropblock\nrow.db.block_size = 3\nvary.reg_groups = \"2\", \"2,3\"\n"
               "vary.seed = 1, 2\n");
    fclose(f);
    db_recipe *r = malloc(sizeof *r);
    CHECK_OK(db_recipe_load(db_test_path(dir, "r.txt"), r));
    CHECK(!strcmp(r->study, "demo") && !strcmp(r->description, "a test"), "study '%s', description '%s'", r->study,
          r->description);
    CHECK(db_recipe_cells(r) == 2 * 2 * 2, "%d cells", db_recipe_cells(r));
    db_config c;
    char label[256], cond[256];
    /* rows slowest, the last vary key fastest */
    CHECK_OK(db_recipe_cell(r, 0, &c, label, sizeof label));
    CHECK(!strcmp(label, "row=base,reg_groups=2,seed=1") && !strcmp(c.regularizer, "none") && c.epochs == 2 &&
          !strcmp(c.model, "resnet8"), "cell 0: %s", label);
    CHECK_OK(db_recipe_cell(r, 7, &c, label, sizeof label));
    CHECK(!strcmp(label, "row=db,reg_groups=2,3,seed=2") && !strcmp(c.regularizer, "dropblock") && c.block_size == 3 &&
          !strcmp(c.reg_groups, "2,3") && c.seed == 2, "cell 7: %s", label);
    CHECK(strstr(c.checkpoint_dir, "runs/demo/row=db,reg_groups=2,3,seed=2") != NULL, "folder %s", c.checkpoint_dir);
    db_recipe_condition(label, cond, sizeof cond);
    CHECK(!strcmp(cond, "row=db,reg_groups=2,3"), "condition '%s'", cond);
    db_recipe_condition("seed=4", cond, sizeof cond);
    CHECK(!strcmp(cond, "all"), "condition of a seed alone '%s'", cond);
    CHECK(r->text && strstr(r->text, "model = resnet8"), "the recorded text inlines the include");
    /* the recorded text loads again to the same matrix */
    db_recipe *r2 = malloc(sizeof *r2);
    CHECK_OK(db_recipe_load_text("demo", r->text, r2));
    CHECK(db_recipe_cells(r2) == 8, "reloaded: %d cells", db_recipe_cells(r2));
    db_recipe_free(r2);
    db_recipe_free(r);
    /* errors name the file and line */
    static const struct { const char *text, *want; } bad[] = {
        {"study = x\nepochs = 1\nlearning_rate = 0.1\n", ":3"},
        {"study = x\nvary.keep_prob = 0.9, 1.5\n", ":2"},
        {"epochs = 1\n", "study = NAME"},
        {"study = x\nthis line has no equals sign\n", ":2"},
        {"study = x\nvary.seed = 1\nvary.seed = 2\n", "seed"},
        {"study = x\nrow.a.seed = 1\nvary.seed = 1, 2\n", "seed"},
        {"study = x\ninclude = missing.inc\n", "missing.inc"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        f = fopen(db_test_path(dir, "bad.txt"), "w");
        if (!f) break;
        fputs(bad[i].text, f);
        fclose(f);
        db_status s = db_recipe_load(db_test_path(dir, "bad.txt"), r);
        CHECK(s != DB_OK && strstr(db_last_error(), bad[i].want), "recipe %zu: %s (%s), want '%s'", i, db_status_name(s),
              db_last_error(), bad[i].want);
        if (s == DB_OK) db_recipe_free(r);
    }
    /* bounded input: a NUL byte, an include that is no regular file (/dev/zero would never end),
     * a matrix too large to count, a recipe larger than 1 MiB */
    f = fopen(db_test_path(dir, "nul.txt"), "wb");
    if (f) { fwrite("study = x\nepochs = 1\0 2\n", 1, 24, f); fclose(f); }
    CHECK(db_recipe_load(db_test_path(dir, "nul.txt"), r) == DB_ERR_FORMAT && strstr(db_last_error(), "NUL"),
          "a NUL byte: %s", db_last_error());
    f = fopen(db_test_path(dir, "zero.txt"), "w");
    if (f) { fputs("study = x\ninclude = /dev/zero\n", f); fclose(f); }
    CHECK(db_recipe_load(db_test_path(dir, "zero.txt"), r) != DB_OK && strstr(db_last_error(), "not a regular file"),
          "include /dev/zero: %s", db_last_error());
    f = fopen(db_test_path(dir, "big.txt"), "w");
    if (f) {
        fputs("study = x\n", f);
        for (int v = 0; v < 8; v++) {
            fprintf(f, "vary.%s = ", (const char *[]){"seed", "epochs", "batch", "train_limit", "test_limit",
                                                       "loader_workers", "block_size", "threads"}[v]);
            for (int k = 1; k <= 32; k++) fprintf(f, "%s%d", k > 1 ? ", " : "", k);
            fputc('\n', f);
        }
        fclose(f);
    }
    CHECK(db_recipe_load(db_test_path(dir, "big.txt"), r) == DB_ERR_ARG && strstr(db_last_error(), "more than 100000 cells"),
          "a matrix of 32^8 cells: %s", db_last_error());
    f = fopen(db_test_path(dir, "huge.txt"), "w");
    if (f) {
        fputs("study = x\n", f);
        for (int k = 0; k < 40000; k++) fputs("# a comment line that makes the recipe large\n", f);
        fclose(f);
    }
    CHECK(db_recipe_load(db_test_path(dir, "huge.txt"), r) == DB_ERR_FORMAT && strstr(db_last_error(), "larger than"),
          "a 1.8 MB recipe: %s", db_last_error());
    free(r);
    free(r2);
    db_test_rmtree(dir);
}

/* Checkpoint folders written one way, so that one folder is one record */
static void test_path_tidy(void) {
    static const char *const cases[][2] = {
        {"/w/runs/x/", "/w/runs/x"}, {"/w//runs///x", "/w/runs/x"}, {"/w/./runs/./x/.", "/w/runs/x"},
        {"/w/runs/y/../x", "/w/runs/x"}, {"/w/../../x", "/x"}, {"/..", "/"}, {"/", "/"}, {"//", "/"},
        {"/a/b/c/../../d/", "/a/d"}, {"/a/..b/.c/", "/a/..b/.c"}, {"relative/x/", "relative/x/"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char p[64];
        snprintf(p, sizeof p, "%s", cases[i][0]);
        db_path_tidy(p);
        CHECK(!strcmp(p, cases[i][1]), "%s tidied to %s, want %s", cases[i][0], p, cases[i][1]);
    }
}

/* A cell that cannot run here (device cuda on a machine without one) but whose finished twin is
 * in the store is done before, in the plan and in the study, which runs without refusing; with
 * no twin the study is refused before anything is recorded */
static void test_study_done_elsewhere(void) {
    char dir[] = "/tmp/dropbench-study-XXXXXX", recipe[128], db[128];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(recipe, sizeof recipe, "%s/g.txt", dir);
    snprintf(db, sizeof db, "%s/g.db", dir);
    FILE *f = fopen(recipe, "w");
    CHECK(f != NULL, "writing the recipe");
    if (!f) return;
    fputs("study = gpudone\ndevice = cuda\nepochs = 1\n", f);
    fclose(f);
    static db_recipe r;
    CHECK_OK(db_recipe_load(recipe, &r));
    db_study_cell *cells = NULL;
    int n = 0;
    CHECK_OK(db_study_plan(&r, db, &cells, &n));
    if (n != 1 || cells[0].state != DB_CELL_CANNOT_RUN) { /* a machine with a usable GPU: nothing to show */
        printf("    (skipped: device cuda can run here)\n");
        free(cells);
        db_recipe_free(&r);
        return;
    }
    db_study_result res;
    CHECK(db_study_run(&r, db, -1, NULL, &res) != DB_OK && access(db, F_OK) != 0, "a study that cannot run was not refused "
          "before recording");
    /* its twin done (on a GPU machine, merged here) */
    char fp[32], *config = NULL;
    size_t len = 0;
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)db_config_fingerprint(&cells[0].config));
    FILE *m = open_memstream(&config, &len);
    db_config_write(&cells[0].config, m);
    fclose(m);
    db_store *st;
    CHECK_OK(db_store_open(&st, db));
    db_run_info in = {config, fp, "fam", "resnet20", "fashion-mnist", "none", "", "cuda", "", "", "", NULL, 1, 0, 1, 1,
                      NULL, NULL, NULL, NULL, 0, NULL, 0, 0, NULL, NULL};
    int64_t run = 0;
    int resumed = 0;
    CHECK_OK(db_store_begin_run(st, &in, NULL, 0, &run, &resumed));
    CHECK_OK(db_store_end_run(st, run, "done", NULL));
    db_store_close(st);
    free(config);
    free(cells);
    CHECK_OK(db_study_plan(&r, db, &cells, &n));
    CHECK(n == 1 && cells[0].state == DB_CELL_DONE_BEFORE && cells[0].prior == run, "the plan: state %d, prior %lld",
          n ? (int)cells[0].state : -1, n ? (long long)cells[0].prior : 0LL);
    free(cells);
    CHECK(db_study_run(&r, db, -1, NULL, &res) == DB_OK && res.done_before == 1 && res.ran == 0,
          "the study: %s; %d done before", db_last_error(), res.done_before);
    db_recipe_free(&r);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "rm");
}

const db_test db_tests_harness[] = {
    {"path_tidy", test_path_tidy},
    {"checkpoint_classification", test_checkpoint_kinds},
    {"config_read_inverts_write", test_config_read_write},
    {"recipe_parser", test_recipe_parser},
    {"study_done_elsewhere", test_study_done_elsewhere},
    {NULL, NULL},
};
