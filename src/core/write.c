/* The write stage: a dataset's rows to one store. A writer's columns of a
 * collective dataset (record_all's ranks, a global array's rows) go out
 * as one hyperslab whose chunks the writer owns whole; into a store where
 * every rank writes itself (redis), whose element lists each hold a fixed
 * number of columns (docs/redis-format.md), they go out one chunk row at a
 * time, so the lists are the same whatever the number of writers (a
 * restart on another rank count appends to them). */
#include <string.h>

#include "write.h"

static int per_chunk_row(const sr_store *st, const sr_dset *d, size_t nrows)
{
	return (st->flags & SR_STORE_DISTRIBUTED) && d->agg && nrows == 1 &&
	       d->m.ndim >= 2 && d->ncol > d->m.chunks[1] &&
	       d->ncol % d->m.chunks[1] == 0;
}

size_t sr_write_cols(const sr_store *st, const sr_dset *d)
{
	SR_UNUSED(st); /* per_chunk_row's lists hold chunks[1] columns */
	return d->ncol && d->ncol % d->m.chunks[1] ? d->ncol : d->m.chunks[1];
}

int sr_write_store(sr_store *st, void *h, const sr_dset *d, const sr_meta *m,
                   const size_t *start, const size_t *count, const void *data)
{
	if (!per_chunk_row(st, d, count[0]))
		return st->ops->write(st, h, m, start, count, data);
	size_t c1 = d->m.chunks[1];
	size_t s[SIMREC_MAX_NDIM], c[SIMREC_MAX_NDIM];
	memcpy(s, start, (size_t)m->ndim * sizeof *s);
	memcpy(c, count, (size_t)m->ndim * sizeof *c);
	c[1] = c1;
	size_t bytes = d->row_bytes / d->ncol * c1; /* one chunk row */
	int rc = 0;
	for (size_t j = 0; j < d->ncol && !rc; j += c1) {
		s[1] = start[1] + j;
		rc = st->ops->write(st, h, m, s, c,
		                    (const unsigned char *)data +
		                            j / c1 * bytes);
	}
	return rc;
}
