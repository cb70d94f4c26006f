/* libFuzzer target: the COCO JSON reader (datasets/coco.c) and, on what it accepts, the box
 * evaluator (eval/coco_eval.c). The first byte chooses which file the rest is: the instances
 * (with a small valid results file) or the results (with a small valid ground truth). The
 * twelve numbers must be -1 or within [0, 1]. */
#include <string.h>

#include "datasets/coco.h"
#include "eval/coco_eval.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char gt_text[] = "{\"images\":[{\"id\":1},{\"id\":2}],\"categories\":[{\"id\":3}],\"annotations\":["
                              "{\"id\":1,\"image_id\":1,\"category_id\":3,\"bbox\":[0,0,40,40],\"area\":1600,\"iscrowd\":0},"
                              "{\"id\":2,\"image_id\":2,\"category_id\":3,\"bbox\":[5,5,100,90],\"area\":8000,\"iscrowd\":1}]}";
static const char dt_text[] = "[{\"image_id\":1,\"category_id\":3,\"bbox\":[2,1,38,41],\"score\":0.8},"
                              "{\"image_id\":2,\"category_id\":3,\"bbox\":[10,10,50,50],\"score\":0.8}]";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int results = data[0] & 1;
    char fuzz_path[64], other_path[64];
    int f1 = fuzz_file(data + 1, size - 1, fuzz_path);
    const char *other = results ? gt_text : dt_text;
    int f2 = fuzz_file((const uint8_t *)other, strlen(other), other_path);
    db_coco c;
    if (db_coco_load_gt(&c, results ? other_path : fuzz_path) == DB_OK) {
        if (db_coco_load_results(&c, results ? fuzz_path : other_path) == DB_OK && c.n_dt <= 5000 && c.n_gt <= 5000 &&
            (double)c.n_images * c.n_categories <= 1e6) {
            db_coco_result r;
            if (db_coco_evaluate(&c, &r) == DB_OK) {
                for (int i = 0; i < DB_COCO_STATS; i++)
                    if (!(r.stats[i] == -1 || (r.stats[i] >= 0 && r.stats[i] <= 1 + 1e-12))) abort();
                db_coco_result_free(&r);
            }
        }
        db_coco_free(&c);
    }
    close(f1);
    close(f2);
    return 0;
}
