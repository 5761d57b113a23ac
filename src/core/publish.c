/* The publish stage (see publish.h). */
#include "publish.h"

int sr_publish_mark(simrec_t *rec, sr_dset *d, size_t rows)
{
	int rc = 0;
	for (int k = 0; k < rec->nst; k++) {
		sr_store *st = rec->st[k];
		if (!st->hold_extent || !d->h[k])
			continue;
		sr_meta m = d->m;
		m.shape[0] = rows;
		size_t start[SIMREC_MAX_NDIM] = {0},
		       count[SIMREC_MAX_NDIM] = {0};
		int r = st->ops->write(st, d->h[k], &m, start, count, NULL);
		if (r && !rc)
			rc = sr_wrap(
			        &rec->err, r,
			        "key '%s' in '%s': cannot publish %zu steps",
			        d->key, sr_store_name(st), rows);
	}
	return rc;
}

int sr_publish_commit(simrec_t *rec)
{
	for (int k = 0; k < rec->nst; k++) {
		sr_store *st = rec->st[k];
		int r = st->hold_extent ? st->ops->commit(st) : 0;
		if (r)
			return sr_wrap(&rec->err, r, "commit of '%s' failed",
			               sr_store_name(st));
	}
	return 0;
}
