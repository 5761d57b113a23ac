/* The write stage of one collective step (see write.h): the one entry
 * the collective layer's I/O thread and the serial calls write a step
 * through; it dispatches to the dataset's append (raw or frames) or to a
 * joined array's rows-then-count. */
#include "encoded.h"
#include "joined.h"
#include "write.h"

int sr_write_step(simrec_t *rec, const sr_step_write *w)
{
	sr_dset *d = w->d;
	if (w->count)
		return sr_joined_write(rec, d, w->count, w->rows, w->buf);
	if (!w->frames)
		return sr_dset_append(rec, d, w->buf);
	const int *sizes = w->buf;
	const int *displs = sizes + d->ncol;
	return sr_dset_append_encoded(rec, d,
	                              (const unsigned char *)w->buf +
	                                      sr_frames_hdr((int)d->ncol),
	                              sizes, displs);
}
