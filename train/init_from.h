/* A run started from another run's weights: every parameter (and batch-norm running statistic)
 * that a classification run's checkpoint holds under the same name and shape is copied in after
 * initialisation. For a detector this is its backbone pretrained as a classifier: the paper's
 * "ImageNet-pretrained" column, at small scale pretrained on Fashion-MNIST (key init_from). */
#ifndef DB_TRAIN_INIT_FROM_H
#define DB_TRAIN_INIT_FROM_H

#include "nets/graph.h"
#include "train/config.h"

/* g: the run's graph, initialised; dir: the classification run's checkpoint folder, of the
 * classifier this run's backbone is (its model, width and input channels, any class count).
 * *copied: the parameter tensors copied. A checkpoint of another network is refused, saying so. */
db_status db_init_from(db_graph *g, const db_config *cfg, const char *dir, int *copied);

#endif
