/* dropbench model: what a network is made of, and where regularizers can go. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "nets/amoebanet.h"
#include "nets/model.h"
#include "nets/retinanet.h"
#include "nets/segnet.h"

int db_cmd_model(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        fprintf(argc < 2 ? stderr : stdout,
                "usage: dropbench model NAME [--input C,H,W] [--classes K] [--shortcut A|B] [--layers]\n"
                "       dropbench model amoebanet-X [--n N] [--f F] [--stem imagenet|basic] [--aux] [...]\n"
                "NAME: a classifier (resnet20, resnet<6n+2>, resnet18, resnet50) or a detector (retinanet-resnet18-fpn,\n"
                "retinanet-resnet50-fpn: the official P3-P7, FPN 256, 4-convolution heads, 9 anchors; defaults\n"
                "3x640x640 and 80 classes) or a segmenter (fcn-resnet18-fpn, fcn-resnet50-fpn: the official FPN on\n"
                "P3-P5 and its 3-convolution FCN head; defaults 3x512x512 and 21 classes, VOC's) or AmoebaNet-B (N, F)\n"
                "(amoebanet-b: N normal cells per stack, 3 stacks, F filters; default (6, 256) at 3x331x331, the paper's\n"
                "Table 2; --aux adds the training graph's auxiliary head) or its siblings amoebanet-a, -c and -d (the\n"
                "official model_specs.py's other cells)\n");
        return argc < 2 ? DB_EXIT_USAGE : DB_EXIT_OK;
    }
    const int detector = db_model_is_detector(argv[1]), segmenter = db_model_is_segmenter(argv[1]),
              amoeba = db_model_is_amoebanet(argv[1]);
    db_model_config mc;
    db_retinanet_config rc;
    db_segnet_config sc;
    char backbone[24];
    db_status s = detector    ? db_retinanet_backbone(argv[1], backbone, sizeof backbone)
                  : segmenter ? db_segnet_backbone(argv[1], backbone, sizeof backbone)
                              : db_model_defaults(&mc, argv[1]);
    if (s != DB_OK) return db_cli_error(s);
    if (detector) {
        if ((s = db_retinanet_defaults(&rc, backbone, 80, 3, 640, 640)) != DB_OK) return db_cli_error(s);
        mc = rc.backbone;
        mc.classes = 80;
    }
    if (segmenter) {
        if ((s = db_segnet_defaults(&sc, backbone, 21, 3, 512, 512)) != DB_OK) return db_cli_error(s);
        mc = sc.backbone;
        mc.classes = 21;
    }
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
        else if (amoeba && !strcmp(argv[i], "--aux")) mc.aux_head = 1;
        else if (amoeba && (!strcmp(argv[i], "--n") || !strcmp(argv[i], "--f")) && more) {
            long v;
            if (!db_cli_parse_long(argv[i + 1], 1, &v) || v > 4096) {
                fprintf(stderr, "dropbench model: %s wants an integer from 1 to 4096, got '%s'\n", argv[i], argv[i + 1]);
                return DB_EXIT_USAGE;
            }
            if (argv[i][2] == 'n') mc.cells = 3 * (int)v;
            else mc.width = (int)v;
            i++;
        } else if (amoeba && !strcmp(argv[i], "--stem") && more) {
            i++;
            if (strcmp(argv[i], "imagenet") && strcmp(argv[i], "basic")) {
                fprintf(stderr, "dropbench model: --stem wants imagenet or basic, got '%s'\n", argv[i]);
                return DB_EXIT_USAGE;
            }
            mc.stem = argv[i][0] == 'i' ? 'i' : 'b';
        }
        else { fprintf(stderr, "dropbench model: unknown option '%s'\n", argv[i]); return DB_EXIT_USAGE; }
    }
    db_graph g;
    db_amoeba_cell cells[DB_AMOEBA_MAX_CELLS];
    int n_cells = 0;
    if (amoeba) {
        s = db_amoebanet_build(&g, &mc, 1, cells, &n_cells);
    } else if (detector) {
        rc.backbone = mc;
        rc.classes = mc.classes;
        s = db_retinanet_build(&g, &rc, 1);
    } else if (segmenter) {
        sc.backbone = mc;
        sc.classes = mc.classes;
        s = db_segnet_build(&g, &sc, 1);
    } else {
        s = db_model_build(&g, &mc, 1);
    }
    if (s != DB_OK) return db_cli_error(s);
    size_t shared = 0;
    for (int p = 0; p < g.n_params; p++) shared += g.params[p].tied ? g.params[p].size : 0;
    printf("%s: input %dx%dx%d, %d classes, %zu parameters, %d ops\n", detector ? argv[1] : mc.arch, mc.in_c, mc.in_h,
           mc.in_w, mc.classes, db_graph_param_count(&g), g.n_ops);
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
