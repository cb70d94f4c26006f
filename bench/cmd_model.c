/* dropbench model: what a network is made of, and where regularizers can go. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "nets/amoebanet.h"
#include "nets/model.h"
#include "nets/retinanet.h"
#include "nets/segnet.h"
#include "train/config.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: dropbench model NAME [--input C,H,W] [--classes K] [--layers] [--KEY VALUE ...]\n"
            "       dropbench model amoebanet-X [--n N] [--f F] [--aux] [...]\n"
            "NAME: a classifier (resnet20, resnet<6n+2>, resnet18, resnet50) or a detector (retinanet-resnet18-fpn,\n"
            "retinanet-resnet50-fpn: the official P3-P7, FPN 256, 4-convolution heads, 9 anchors; defaults\n"
            "3x640x640 and 80 classes) or a segmenter (fcn-resnet18-fpn, fcn-resnet50-fpn: the official FPN on\n"
            "P3-P5 and its 3-convolution FCN head; defaults 3x512x512 and 21 classes, VOC's) or AmoebaNet-B (N, F)\n"
            "(amoebanet-b: N normal cells per stack, 3 stacks, F filters; default (6, 256) at 3x331x331, the paper's\n"
            "Table 2; --n N is --cells 3N, --f F is --width F; --aux adds the training graph's auxiliary head) or its\n"
            "siblings amoebanet-a, -c and -d (the official model_specs.py's other cells).\n"
            "The network is built as dropbench train builds it, from the same keys (a recipe's work too):\n");
    db_config_usage(f, 1);
}

int db_cmd_model(int argc, char **argv) {
    if (argc < 2 || db_cli_wants_help(argc, argv)) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? DB_EXIT_USAGE : DB_EXIT_OK;
    }
    const char *name = argv[1];
    const int detector = db_model_is_detector(name), segmenter = db_model_is_segmenter(name),
              amoeba = db_model_is_amoebanet(name);
    db_model_config mc; /* the classifier's own input and classes, or the official detector's and segmenter's */
    int in_c = 3, in_h = detector ? 640 : 512, in_w = in_h, classes = detector ? 80 : 21;
    db_status s = detector || segmenter ? DB_OK : db_model_defaults(&mc, name);
    if (s != DB_OK) return db_cli_error(s);
    if (!detector && !segmenter) in_c = mc.in_c, in_h = mc.in_h, in_w = mc.in_w, classes = mc.classes;
    db_config cfg; /* the network's keys, read and checked as train reads and checks them */
    db_config_defaults(&cfg);
    if ((s = db_config_set(&cfg, "model", name)) != DB_OK) return db_cli_error(s);
    int layers = 0, aux = 0;
    for (int i = 2; i < argc; i++) {
        char key[64];
        const char *a = argv[i], *v;
        long k;
        if (!strcmp(a, "--layers")) { layers = 1; continue; }
        if (amoeba && !strcmp(a, "--aux")) { aux = 1; continue; }
        if (strncmp(a, "--", 2)) { fprintf(stderr, "dropbench model: unexpected argument '%s'\n", a); return DB_EXIT_USAGE; }
        if (!db_cli_key_value("model", argc, argv, &i, key, sizeof key, &v)) return DB_EXIT_USAGE;
        if (!strcmp(key, "input")) {
            if (!db_cli_parse_shape(v, &in_c, &in_h, &in_w)) {
                fprintf(stderr, "dropbench model: --input wants C,H,W, got '%s'\n", v);
                return DB_EXIT_USAGE;
            }
        } else if (!strcmp(key, "classes")) {
            if (!db_cli_long_opt("model", "--classes", v, 2, 1000000, &k)) return DB_EXIT_USAGE;
            classes = (int)k;
        } else if (amoeba && (!strcmp(key, "n") || !strcmp(key, "f"))) { /* the paper's (N, F): cells 3N, width F */
            if (!db_cli_long_opt("model", key[0] == 'n' ? "--n" : "--f", v, 1, key[0] == 'n' ? 80 : 4096, &k))
                return DB_EXIT_USAGE;
            if (key[0] == 'n') cfg.cells = 3 * (int)k;
            else cfg.width = (int)k;
        } else if (db_config_is_network_key(key)) {
            if (db_config_set(&cfg, key, v) != DB_OK) {
                fprintf(stderr, "dropbench model: %s (dropbench model --help lists the keys)\n", db_last_error());
                return DB_EXIT_USAGE;
            }
        } else {
            fprintf(stderr, "dropbench model: unknown option '%s' (the network's keys: dropbench model --help)\n", a);
            return DB_EXIT_USAGE;
        }
    }
    if ((s = db_config_network_rules(&cfg)) != DB_OK) return db_cli_error(s);
    db_graph g;
    db_amoeba_cell cells[DB_AMOEBA_MAX_CELLS];
    int n_cells = 0;
    db_retinanet_config rc;
    db_segnet_config sc;
    if (detector) {
        if ((s = db_config_detector(&cfg, classes, in_c, in_h, in_w, &rc)) == DB_OK) s = db_retinanet_build(&g, &rc, 1);
    } else if (segmenter) {
        if ((s = db_config_segmenter(&cfg, classes, in_c, in_h, in_w, &sc)) == DB_OK) s = db_segnet_build(&g, &sc, 1);
    } else if ((s = db_config_classifier(&cfg, classes, in_c, in_h, in_w, &mc)) == DB_OK) {
        mc.aux_head |= aux;
        s = amoeba ? db_amoebanet_build(&g, &mc, 1, cells, &n_cells) : db_model_build(&g, &mc, 1);
    }
    if (s != DB_OK) return db_cli_error(s);
    size_t shared = 0;
    for (int p = 0; p < g.n_params; p++) shared += g.params[p].tied ? g.params[p].size : 0;
    printf("%s: input %dx%dx%d, %d classes, %zu parameters, %d ops\n", name, in_c, in_h, in_w, classes,
           db_graph_param_count(&g), g.n_ops);
    if (detector) {
        printf("outputs (level: class logits, box codes; %d anchors per position; one set of head weights for all "
               "levels, counted once: the other levels' %zu shared values are not in the count):\n", rc.anchors, shared);
        for (int i = 0; i + 1 < g.n_outputs; i += 2) {
            const db_tensor *c = db_graph_output_at(&g, i), *b = db_graph_output_at(&g, i + 1);
            printf("  P%d  %dx%dx%d  %dx%dx%d\n", rc.min_level + i / 2, c->c, c->h, c->w, b->c, b->h, b->w);
        }
    }
    if (amoeba) {
        printf("AmoebaNet-%c (%d, %d): %d normal cells in all, %s stem%s; cells (group, filters f, output):\n",
               argv[1][strlen(argv[1]) - 1] - 'a' + 'A', mc.cells / 3, mc.width, mc.cells, mc.stem == 'i' ? "ImageNet" : "basic",
               mc.aux_head ? ", with the auxiliary head (its parameters counted)" : "");
        static const char *const kinds[] = {"stem", "reduction", "normal"};
        for (int i = 0; i < n_cells && i < DB_AMOEBA_MAX_CELLS; i++) {
            const db_amoeba_cell *c = &cells[i];
            printf("  cell %2d  %-9s  group %d  f %4d  -> %4dx%dx%d\n", c->index,
                   kinds[c->kind == 's' ? 0 : c->kind == 'r' ? 1 : 2], c->group, c->f, c->c, c->h, c->w);
        }
        db_amoebanet_print_spec(stdout, argv[1]);
    }
    if (layers)
        for (int i = 0; i < g.n_ops; i++) {
            const db_tensor *y = &g.tensors[g.ops[i].out];
            printf("  %-10s -> %4dx%dx%d%s%s\n", db_op_kind_name(g.ops[i].kind), y->c, y->h, y->w,
                   g.ops[i].param[0] >= 0 ? "  " : "", g.ops[i].param[0] >= 0 ? g.params[g.ops[i].param[0]].name : "");
        }
    printf("regularizer sites (%d):\n", g.n_sites);
    for (int i = 0; i < g.n_sites; i++) {
        const db_site *st = &g.sites[i];
        printf("  group %d %s %d  %-8s %-20s %4dx%dx%d\n", st->group, amoeba ? "cell" : "block", st->res_block,
               db_site_kind_name(st->kind), st->name, st->c, st->h, st->w);
    }
    db_graph_free(&g);
    return DB_EXIT_OK;
}
