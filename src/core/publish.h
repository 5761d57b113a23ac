/* The publish stage: the commit mark of a dataset that several writers
 * append to (stores with hold_extent). The collective layer agrees on the
 * rows every writer made durable; writer 0 publishes them here. */
#ifndef SIMREC_PUBLISH_H
#define SIMREC_PUBLISH_H

#include "recorder.h"

/* Publish rows as d's extent in every store that holds its extent at the
 * mark (a write of no data); a failure names the key and the store. */
int sr_publish_mark(simrec_t *rec, sr_dset *d, size_t rows);

/* Make the published marks durable (commit of every such store). */
int sr_publish_commit(simrec_t *rec);

#endif
