/* record_all steps compressed by the ranks themselves (see encoded.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/codec.h"
#include "encoded.h"

int sr_dset_encoding(simrec_t *rec, const sr_dset *d, sr_codec *c)
{
	const sr_meta *m = &d->m;
	/* k = chunks[1] whole rank blocks per chunk, none across groups */
	if (rec->nst != 1 || !d->agg || sr_dtype_is_vlen(m->dtype) ||
	    m->ndim < 2 || m->chunks[0] != 1 || m->chunks[1] < 1 ||
	    m->chunks[1] > (size_t)INT_MAX || d->ncol % m->chunks[1] ||
	    d->col0 % m->chunks[1])
		return 0;
	for (int i = 2; i < m->ndim; i++)
		if (m->chunks[i] != m->shape[i])
			return 0;
	sr_store *st = rec->st[0];
	if (!st->ops->write_encoded || !st->ops->encoded_codec || !d->h[0])
		return 0;
	return st->ops->encoded_codec(st, d->h[0], c) == 1 ? (int)m->chunks[1]
	                                                   : 0;
}

int sr_encode_block(const sr_codec *c, size_t isz, const void *src, size_t n,
                    void **buf, size_t *cap, size_t *len, sr_err *e)
{
	/* blosc fills as much of the destination as it is given: a buffer
	 * grown by a larger block earlier would let an incompressible
	 * block's frame exceed the bound, which the shared window's slots
	 * (one bound per rank) rely on. So it gets at most the bound. */
	size_t bound = sr_codec_bound(n);
	size_t give = *cap < bound ? *cap : bound;
	int rc = sr_codec_encode(c, isz, src, n, buf, &give, len, e);
	if (give > *cap)
		*cap = give; /* grown to the bound */
	if (!rc && *len > bound)
		rc = sr_fail(e, SIMREC_ECODEC,
		             "a frame of %zu bytes exceeds the bound %zu of a "
		             "%zu-byte block",
		             *len, bound, n);
	return rc;
}

size_t sr_encoded_bound(size_t n)
{
	return sr_codec_bound(n);
}

int sr_dset_append_encoded(simrec_t *rec, sr_dset *d,
                           const unsigned char *frames, const int *sizes,
                           const int *displs)
{
	sr_store *st = rec->st[0];
	/* a chunk holds k rank blocks: the first rank of each k sent its
	 * frame, the others none */
	size_t k = d->m.chunks[1], n = d->ncol / k, nd = (size_t)d->m.ndim;
	size_t block = d->row_bytes / d->ncol * k;
	size_t *idx = calloc(n * nd, sizeof *idx);
	size_t *lens = malloc(n * sizeof *lens);
	const void **fr = malloc(n * sizeof *fr);
	int rc = 0;
	if (!idx || !lens || !fr)
		rc = sr_fail(&rec->err, SIMREC_ENOMEM, "out of memory");
	for (size_t i = 0; i < d->ncol && !rc; i++) {
		if (sizes[i] < 0 || displs[i] < 0 || (i % k && sizes[i])) {
			rc = sr_fail(&rec->err, SIMREC_EFORMAT,
			             "key '%s': rank %zu sent a frame of %d "
			             "bytes",
			             d->key, d->col0 + i, sizes[i]);
			break;
		}
		if (i % k)
			continue;
		size_t j = i / k;
		fr[j] = frames + displs[i];
		lens[j] = (size_t)sizes[i];
		rc = sr_codec_frame_check(fr[j], lens[j], block, NULL,
		                          &rec->err);
		idx[j * nd] = d->m.shape[0];
		idx[j * nd + 1] = (d->col0 + i) / k;
	}
	sr_meta m = d->m;
	/* several writers: the extent moves only with the commit mark */
	m.shape[0] = st->hold_extent ? d->mark : d->m.shape[0] + 1;
	if (!rc) {
		rc = st->ops->write_encoded(st, d->h[0], &m, n, idx, fr, lens);
		if (rc && rc != SIMREC_ENOMEM)
			sr_wrap(&rec->err, rc, "key '%s' in '%s'", d->key,
			        st->uri.name);
	}
	if (!rc)
		d->m.shape[0]++;
	free(idx);
	free(lens);
	free(fr);
	return rc;
}
