/* dropbench model: what a network is made of, and where regularizers can go. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "nets/model.h"

static const char *op_name(db_op_kind k) {
    static const char *names[] = {"conv", "bn", "relu", "add", "shortcutA", "maxpool", "avgpool", "gap", "linear", "regularizer"};
    return names[k];
}

int db_cmd_model(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        fprintf(argc < 2 ? stderr : stdout,
                "usage: dropbench model NAME [--input C,H,W] [--classes K] [--shortcut A|B] [--layers]\n");
        return argc < 2 ? DB_EXIT_USAGE : DB_EXIT_OK;
    }
    db_model_config mc;
    db_status s = db_model_defaults(&mc, argv[1]);
    if (s != DB_OK) return db_cli_error(s);
    int layers = 0;
    for (int i = 2; i < argc; i++) {
        int more = i + 1 < argc;
        if (!strcmp(argv[i], "--layers")) layers = 1;
        else if (!strcmp(argv[i], "--input") && more) {
            if (!db_cli_parse_shape(argv[++i], &mc.in_c, &mc.in_h, &mc.in_w)) {
                fprintf(stderr, "dropbench model: --input wants C,H,W, got '%s'\n", argv[i]);
                return DB_EXIT_USAGE;
            }
        } else if (!strcmp(argv[i], "--classes") && more) {
            long k;
            if (!db_cli_parse_long(argv[++i], 2, &k) || k > 1000000) {
                fprintf(stderr, "dropbench model: --classes wants an integer >= 2, got '%s'\n", argv[i]);
                return DB_EXIT_USAGE;
            }
            mc.classes = (int)k;
        }
        else if (!strcmp(argv[i], "--shortcut") && more) mc.shortcut = argv[++i][0];
        else { fprintf(stderr, "dropbench model: unknown option '%s'\n", argv[i]); return DB_EXIT_USAGE; }
    }
    db_graph g;
    s = db_model_build(&g, &mc, 1);
    if (s != DB_OK) return db_cli_error(s);
    printf("%s: input %dx%dx%d, %d classes, %zu parameters, %d ops\n", mc.arch, mc.in_c, mc.in_h, mc.in_w,
           mc.classes, db_graph_param_count(&g), g.n_ops);
    if (layers)
        for (int i = 0; i < g.n_ops; i++) {
            const db_tensor *y = &g.tensors[g.ops[i].out];
            printf("  %-10s -> %4dx%dx%d%s%s\n", op_name(g.ops[i].kind), y->c, y->h, y->w,
                   g.ops[i].param[0] >= 0 ? "  " : "", g.ops[i].param[0] >= 0 ? g.params[g.ops[i].param[0]].name : "");
        }
    printf("regularizer sites (%d):\n", g.n_sites);
    for (int i = 0; i < g.n_sites; i++) {
        const db_site *st = &g.sites[i];
        printf("  group %d block %d  %-8s %-20s %4dx%dx%d\n", st->group, st->res_block,
               st->kind == DB_SITE_SHORTCUT ? "shortcut" : "conv", st->name, st->c, st->h, st->w);
    }
    db_graph_free(&g);
    return DB_EXIT_OK;
}
