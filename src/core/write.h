/* The write stage of a step (see write.c). */
#ifndef SIMREC_WRITE_H
#define SIMREC_WRITE_H

#include "recorder.h"

/* Write hyperslab (start, count) of d's rows (data, C order) to store st
 * (handle h) with metadata m, whole chunks, as st->ops->write does. */
int sr_write_store(sr_store *st, void *h, const sr_dset *d, const sr_meta *m,
                   const size_t *start, const size_t *count, const void *data);

/* The columns of dimension 1 that each of st's writes of d's rows holds:
 * one chunk row where sr_write_store cuts the rows into chunk rows, else
 * the writer's columns. */
size_t sr_write_cols(const sr_store *st, const sr_dset *d);

/* One step of the write stage: d's row from buf (raw columns, or frames:
 * buf holds the sizes and offsets of d->ncol frames (sr_frames_hdr),
 * then the frames), or a joined array's step (rows rows of d from buf,
 * then one row of count). */
typedef struct sr_step_write {
	sr_dset *d;
	const void *buf;
	int frames;
	sr_dset *count;
	size_t rows;
} sr_step_write;

/* Write the step to the stores; a failure names the key. */
int sr_write_step(simrec_t *rec, const sr_step_write *w);

#endif
