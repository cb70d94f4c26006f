/* Boxes and their anchor-relative codes as the official RetinaNet code keeps them
 * (tensorflow/tpu models/official/retinanet: object_detection/faster_rcnn_box_coder.py and
 * region_similarity_calculator.py): corners (ymin, xmin, ymax, xmax) in input pixels, IoU
 * without the +1 pixel convention, codes (ty, tx, th, tw) with no scale factors and 1e-8 added
 * to every size before dividing or taking a log. Per-box bodies, host and device (core/hd.h). */
#ifndef DB_DETECT_BOXES_H
#define DB_DETECT_BOXES_H

#include <math.h>

#include "core/hd.h"

typedef struct { float y0, x0, y1, x1; } db_box;

enum { DB_BOX_CODE = 4 }; /* ty, tx, th, tw */
#define DB_BOX_EPS 1e-8f

DB_HD float db_box_area(db_box b) { return (b.y1 - b.y0) * (b.x1 - b.x0); }

/* Intersection over union; 0 where they do not meet (so also where the union is empty) */
DB_HD float db_box_iou(db_box a, db_box b) {
    float h = fminf(a.y1, b.y1) - fmaxf(a.y0, b.y0), w = fminf(a.x1, b.x1) - fmaxf(a.x0, b.x0);
    if (h <= 0.0f || w <= 0.0f) return 0.0f;
    float inter = h * w;
    return inter / (db_box_area(a) + db_box_area(b) - inter);
}

/* The code of box b against anchor a: centre offsets in anchor sizes, log size ratios */
DB_HD void db_box_encode(float code[DB_BOX_CODE], db_box b, db_box a) {
    float ha = a.y1 - a.y0 + DB_BOX_EPS, wa = a.x1 - a.x0 + DB_BOX_EPS;
    float h = b.y1 - b.y0 + DB_BOX_EPS, w = b.x1 - b.x0 + DB_BOX_EPS;
    code[0] = (0.5f * (b.y0 + b.y1) - 0.5f * (a.y0 + a.y1)) / ha;
    code[1] = (0.5f * (b.x0 + b.x1) - 0.5f * (a.x0 + a.x1)) / wa;
    code[2] = logf(h / ha);
    code[3] = logf(w / wa);
}

/* The box a code stands for against anchor a (the decoder adds no epsilon, as the official) */
DB_HD db_box db_box_decode(const float code[DB_BOX_CODE], db_box a) {
    float ha = a.y1 - a.y0, wa = a.x1 - a.x0;
    float yc = code[0] * ha + 0.5f * (a.y0 + a.y1), xc = code[1] * wa + 0.5f * (a.x0 + a.x1);
    float h = expf(code[2]) * ha, w = expf(code[3]) * wa;
    db_box b = {yc - 0.5f * h, xc - 0.5f * w, yc + 0.5f * h, xc + 0.5f * w};
    return b;
}

#endif
