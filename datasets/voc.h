/* PASCAL VOC label maps: PNGs whose pixel values are class indices — palette images (the
 * index, not the colour, is the class; 255 marks borders to ignore) or 8-bit greyscale — read
 * with libpng without any colour conversion. Predictions are written the same way. */
#ifndef DB_DATASETS_VOC_H
#define DB_DATASETS_VOC_H

#include <stdint.h>

#include "core/status.h"

/* *px (h*w bytes, row-major) receives the indices; free() it. Other colour types, 16-bit
 * samples, and damaged files are errors naming the file. */
db_status db_label_png_read(const char *path, uint8_t **px, int *h, int *w);
/* A label map's size from its header (the same checks of its kind, without reading the pixels) */
db_status db_label_png_size(const char *path, int *h, int *w);
/* A palette PNG of indices (VOC's colour map), for tests and for writing predictions */
db_status db_label_png_write(const char *path, const uint8_t *px, int h, int w);
/* An 8-bit grey image (other colour types and depths are errors naming the file) */
db_status db_grey_png_read(const char *path, uint8_t **px, int *h, int *w);
/* An 8-bit greyscale PNG (db_label_png_read and db_grey_png_read read it back unchanged) */
db_status db_grey_png_write(const char *path, const uint8_t *px, int h, int w);

#endif
