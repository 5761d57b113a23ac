/* The write stage of a step (see write.c). */
#ifndef SIMREC_WRITE_H
#define SIMREC_WRITE_H

#include "recorder.h"

/* Write hyperslab (start, count) of d's rows (data, C order) to store st
 * (handle h) with metadata m, whole chunks, as st->ops->write does. */
int sr_write_store(sr_store *st, void *h, const sr_dset *d, const sr_meta *m,
                   const size_t *start, const size_t *count, const void *data);

#endif
