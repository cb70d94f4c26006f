/* dropbench data list | fetch NAME... | verify NAME...: the data-set cache (datasets/fetch.h) */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/cli.h"
#include "datasets/fetch.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: dropbench data list   [--data-dir DIR] [--catalog FILE]\n"
            "       dropbench data fetch  NAME... [--data-dir DIR] [--catalog FILE] [--mirror URL] [--offline]\n"
            "                             [--retries N] [--retry-delay S] [--timeout S] [--connect-timeout S]\n"
            "       dropbench data verify NAME... [--data-dir DIR] [--catalog FILE]\n"
            "\n"
            "The cache is --data-dir, else $XDG_CACHE_HOME/dropbench, else ~/.cache/dropbench; a data set's\n"
            "files go to CACHE/NAME/. A download is kept only once its size and checksum match the catalog;\n"
            "a cut one continues where it stopped. --catalog adds or replaces entries with lines of\n"
            "  NAME FILE URL SIZE MD5 SHA256   ('-' for unknown; at least one checksum)\n"
            "--mirror URL fetches each file from URL/FILENAME instead of the publisher. --offline (or\n"
            "DROPBENCH_OFFLINE=1) never uses the network. --timeout: seconds without data before a try is\n"
            "abandoned (default 60). The usual proxy variables (https_proxy, no_proxy) are honoured.\n");
}

typedef struct {
    const char *dir, *catalog;
    db_fetch_opts fo;
    const char *names[64];
    int n_names;
} data_args;

static int parse(int argc, char **argv, data_args *a) {
    memset(a, 0, sizeof *a);
    db_fetch_defaults(&a->fo);
    a->catalog = getenv("DROPBENCH_CATALOG");
    a->fo.mirror = getenv("DROPBENCH_MIRROR");
    const char *off = getenv("DROPBENCH_OFFLINE");
    a->fo.offline = off && *off && strcmp(off, "0");
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        char *end;
        if (!strcmp(o, "--offline")) { a->fo.offline = 1; continue; }
        if (!strcmp(o, "--quiet")) { a->fo.progress = 0; continue; }
        if (o[0] != '-') {
            if (a->n_names == 64) { fprintf(stderr, "dropbench data: too many names\n"); return DB_EXIT_USAGE; }
            a->names[a->n_names++] = o;
            continue;
        }
        if (!v) { fprintf(stderr, "dropbench data: %s needs a value\n", o); return DB_EXIT_USAGE; }
        i++;
        if (!strcmp(o, "--data-dir")) a->dir = v;
        else if (!strcmp(o, "--catalog")) a->catalog = v;
        else if (!strcmp(o, "--mirror")) a->fo.mirror = v;
        else if (!strcmp(o, "--retries") && db_cli_parse_long(v, 0, &n) && n <= 100) a->fo.retries = (int)n;
        else if (!strcmp(o, "--timeout") && db_cli_parse_long(v, 1, &n) && n <= 86400) a->fo.stall_timeout = n;
        else if (!strcmp(o, "--connect-timeout") && db_cli_parse_long(v, 1, &n) && n <= 86400) a->fo.connect_timeout = n;
        else if (!strcmp(o, "--retry-delay") && (a->fo.retry_delay = strtod(v, &end), *v && !*end) &&
                 a->fo.retry_delay >= 0 && a->fo.retry_delay <= 3600) {
        } else {
            fprintf(stderr, "dropbench data: bad option or value: %s %s\n", o, v);
            usage(stderr);
            return DB_EXIT_USAGE;
        }
    }
    return DB_EXIT_OK;
}

static const char *human(int64_t b, char *buf, size_t n) {
    if (b < 0) snprintf(buf, n, "?");
    else if (b >= 1000000000) snprintf(buf, n, "%.1f GB", b / 1e9);
    else if (b >= 1000000) snprintf(buf, n, "%.1f MB", b / 1e6);
    else snprintf(buf, n, "%.1f kB", b / 1e3);
    return buf;
}

/* Each set once, in catalog order */
static int list(const db_catalog *c, const db_fetch_opts *fo) {
    printf("%-22s %5s %10s  %-28s %s\n", "NAME", "FILES", "SIZE", "IN THE CACHE", "ABOUT");
    for (int i = 0; i < c->n; i++) {
        int first = 1;
        for (int j = 0; j < i; j++) first &= strcmp(c->files[j].set, c->files[i].set) != 0;
        if (!first) continue;
        int idx[64], n = db_catalog_files(c, c->files[i].set, idx, 64), have = 0, partial = 0;
        int64_t size = 0;
        for (int k = 0; k < n; k++) {
            const db_catalog_file *f = &c->files[idx[k]];
            char path[4200], part[4300];
            db_fetch_path(fo, f, path, sizeof path);
            snprintf(part, sizeof part, "%s.part", path);
            struct stat st;
            have += stat(path, &st) == 0 && (f->size < 0 || st.st_size == f->size);
            partial += stat(part, &st) == 0;
            size = size < 0 || f->size < 0 ? -1 : size + f->size;
        }
        char sz[32], state[64];
        snprintf(state, sizeof state, "%d of %d%s", have, n, partial ? " (a download in part)" : "");
        printf("%-22s %5d %10s  %-28s %s\n", c->files[i].set, n, human(size, sz, sizeof sz), state,
               db_catalog_about(c->files[i].set));
    }
    printf("cache: %s\n", fo->root);
    return DB_EXIT_OK;
}

/* fetch (verify = 0) or verify every file of every named set; goes on past a failed file */
static int each_file(const db_catalog *c, const data_args *a, int verify) {
    int failed = 0;
    for (int s = 0; s < a->n_names; s++) {
        int idx[64], n = db_catalog_files(c, a->names[s], idx, 64);
        if (!n) {
            fprintf(stderr, "dropbench data: unknown data set '%s' (dropbench data list shows them; ImageNet must be "
                    "downloaded by hand after registering, then given as data_dir)\n", a->names[s]);
            return DB_EXIT_USAGE;
        }
        for (int k = 0; k < n; k++) {
            const db_catalog_file *f = &c->files[idx[k]];
            db_digest d;
            char path[4200];
            db_fetch_path(&a->fo, f, path, sizeof path);
            int cached = 0;
            db_status st = verify ? db_verify_file(f, path, &d) : db_fetch_file(f, &a->fo, &cached, &d);
            if (st != DB_OK) {
                fprintf(stderr, "dropbench data: %s\n", db_last_error());
                failed++;
                continue;
            }
            printf("%s/%s: ok (%s%s), sha256 %s\n", f->set, f->file, verify || cached ? "in the cache, " : "fetched, ",
                   f->md5[0] ? "MD5 verified" : "SHA-256 verified", d.sha256);
        }
    }
    return failed ? DB_EXIT_FAIL : DB_EXIT_OK;
}

int db_cmd_data(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? DB_EXIT_USAGE : DB_EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "list") && strcmp(sub, "fetch") && strcmp(sub, "verify")) {
        fprintf(stderr, "dropbench data: unknown subcommand '%s'\n", sub);
        usage(stderr);
        return DB_EXIT_USAGE;
    }
    data_args a;
    int rc = parse(argc, argv, &a);
    if (rc != DB_EXIT_OK) return rc;
    if (strcmp(sub, "list") && !a.n_names) {
        fprintf(stderr, "dropbench data %s: name a data set (dropbench data list)\n", sub);
        return DB_EXIT_USAGE;
    }
    if (!strcmp(sub, "list") && a.n_names) {
        fprintf(stderr, "dropbench data list: takes no names\n");
        return DB_EXIT_USAGE;
    }
    char root[4096];
    db_status s = db_data_root(a.dir, root, sizeof root);
    if (s != DB_OK) return db_cli_error(s);
    a.fo.root = root;
    db_catalog c;
    if ((s = db_catalog_load(&c, a.catalog)) != DB_OK) return db_cli_error(s);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        db_catalog_free(&c);
        fprintf(stderr, "dropbench data: libcurl did not start\n");
        return DB_EXIT_FAIL;
    }
    rc = !strcmp(sub, "list") ? list(&c, &a.fo) : each_file(&c, &a, !strcmp(sub, "verify"));
    curl_global_cleanup();
    db_catalog_free(&c);
    return rc;
}
