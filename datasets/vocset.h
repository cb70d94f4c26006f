/* PASCAL VOC 2012 for segmentation: the JPEG images and their label maps (palette PNGs whose
 * indices are the classes: background 0, the 20 categories 1..20, borders 255), decoded per
 * batch (datasets/segbatch.h). The folder is VOC2012 itself (JPEGImages/, SegmentationClass/,
 * ImageSets/Segmentation/) or one holding VOCdevkit/VOC2012 as the archive unpacks. Splits:
 *  - train: with the SBD augmentation present as the DeepLab conversion lays it out
 *    (SegmentationClassAug/ holding grey or palette label PNGs, and the list
 *    ImageSets/Segmentation/train_aug.txt or trainaug.txt), its 10,582 images, as the paper
 *    trains; without it VOC's own train.txt (1,464 images) with SegmentationClass/;
 *  - val: val.txt (1,449) with SegmentationClass/.
 * A list line is an image id (2007_000032) or, as DeepLab's lists, the image's path first. Each
 * image's size comes from its label map's header; a missing image or label map is an error naming
 * it and its line in the list. */
#ifndef DB_DATASETS_VOCSET_H
#define DB_DATASETS_VOCSET_H

#include "datasets/dataset.h"

enum { DB_VOC_CLASSES = 21 };

/* split: train or val; size: the network's input side (image_size) */
db_status db_vocset_load(const char *dir, const char *split, int size, db_dataset *out);

#endif
