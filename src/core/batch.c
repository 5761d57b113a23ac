/* Datasets being recorded: the table of open datasets, their metadata
 * checks, and the batching of small records up to chunk boundaries. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dims.h"
#include "write.h"

static size_t hash(const char *s)
{
	size_t h = 5381;
	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

sr_dset *sr_dset_find(simrec_t *rec, const char *key)
{
	for (sr_dset *d = rec->tab[hash(key) % rec->tabsize]; d; d = d->next)
		if (!strcmp(d->key, key))
			return d;
	return NULL;
}

static void dset_free(simrec_t *rec, sr_dset *d)
{
	for (int i = 0; i < rec->nst; i++)
		if (d->h[i])
			rec->st[i]->ops->release(rec->st[i], d->h[i]);
	for (size_t i = 0; d->vbuf && i < d->nbuf; i++)
		free(d->vbuf[i].data);
	free(d->vbuf);
	free(d->buf);
	free(d->key);
	free(d);
}

void sr_dset_remove(simrec_t *rec, const char *key)
{
	sr_dset **pp = &rec->tab[hash(key) % rec->tabsize];
	for (; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->key, key)) {
			sr_dset *d = *pp;
			*pp = d->next;
			dset_free(rec, d);
			return;
		}
}

void sr_dset_free_all(simrec_t *rec)
{
	for (size_t i = 0; i < rec->tabsize; i++)
		while (rec->tab[i]) {
			sr_dset *d = rec->tab[i];
			rec->tab[i] = d->next;
			dset_free(rec, d);
		}
}

static int sr_dset_write_rows(simrec_t *rec, sr_dset *d, size_t row0,
                              size_t nrows, size_t total, const void *data)
{
	sr_meta m = d->m;
	m.shape[0] = total;
	size_t start[SIMREC_MAX_NDIM] = {0}, count[SIMREC_MAX_NDIM];
	memcpy(count, m.shape, sizeof count);
	start[0] = row0;
	count[0] = d->empty_writes ? 0 : nrows;
	if (d->agg) {
		start[1] = d->col0;
		count[1] = d->ncol;
	}
	int rc = 0;
	for (int i = 0; i < rec->nst && !rc; i++) {
		sr_store *st = rec->st[i];
		/* several writers: the extent moves only with the commit mark
		 */
		m.shape[0] = d->agg && st->hold_extent ? d->mark : total;
		/* a writer that owns no chunk of a global array writes
		 * nothing (a collective store still takes part) */
		if (d->agg && !d->ncol && st->comm == MPI_COMM_NULL)
			continue;
		rc = sr_dtype_is_vlen(m.dtype)
		             ? st->ops->write_vlen(st, d->h[i], &m, row0, nrows,
		                                   data)
		             : sr_write_store(st, d->h[i], d, &m, start, count,
		                              data);
		/* the store's detail: in this thread's sink (the I/O
		 * thread has its own), which sr_wrap reads */
		if (rc && rc != SIMREC_ENOMEM)
			sr_wrap(&rec->err, rc, "key '%s' in '%s'", d->key,
			        st->uri.name);
	}
	return rc;
}

int sr_dset_flush(simrec_t *rec, sr_dset *d)
{
	if (d->nbuf == d->flushed)
		return 0;
	int rc = sr_dset_write_rows(rec, d, d->row0, d->nbuf, d->row0 + d->nbuf,
	                            d->vbuf ? (void *)d->vbuf : d->buf);
	if (!rc)
		d->flushed = d->nbuf;
	return rc;
}

static void fmt_shape(char *buf, size_t cap, int ndim, const size_t *shape)
{
	int n = snprintf(buf, cap, "(");
	for (int i = 0; i < ndim && (size_t)n < cap; i++)
		n += snprintf(buf + n, cap - (size_t)n, "%s%zu", i ? ", " : "",
		              shape[i]);
	if ((size_t)n < cap)
		snprintf(buf + n, cap - (size_t)n, ndim == 1 ? ",)" : ")");
}

/* Rows of a partial last chunk of an existing dataset go back into the
 * batch buffer, so the next write rewrites that chunk whole. */
static int load_tail(simrec_t *rec, sr_dset *d)
{
	size_t nrows = d->m.shape[0], c0 = d->m.chunks[0];
	d->row0 = nrows - nrows % c0;
	d->nbuf = d->flushed = nrows % c0;
	sr_store *st = rec->st[0];
	if (d->vbuf) {
		for (size_t i = 0; i < d->nbuf; i++) {
			int rc = st->ops->read_vlen(st, d->h[0], &d->m,
			                            d->row0 + i, &d->vbuf[i]);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (!d->nbuf || !d->row_bytes)
		return 0;
	size_t start[SIMREC_MAX_NDIM] = {0}, count[SIMREC_MAX_NDIM];
	memcpy(count, d->m.shape, sizeof count);
	start[0] = d->row0;
	count[0] = d->nbuf;
	if (d->agg) {
		start[1] = d->col0;
		count[1] = d->ncol;
	}
	return st->ops->read(st, d->h[0], &d->m, start, count, d->buf);
}

int sr_record_matches(const sr_dset *d, simrec_dtype_t dt, int ndim,
                      const size_t *shape)
{
	const sr_meta *m = &d->m;
	int same_shape = ndim == m->ndim - 1;
	for (int i = 0; same_shape && i < ndim; i++)
		same_shape = shape[i] == m->shape[i + 1];
	return dt == m->dtype && same_shape;
}

int sr_check_record(simrec_t *rec, const sr_dset *d, simrec_dtype_t dt,
                    int ndim, const size_t *shape)
{
	const sr_meta *m = &d->m;
	if (sr_record_matches(d, dt, ndim, shape))
		return 0;
	char a[128], b[128];
	fmt_shape(a, sizeof a, ndim, shape);
	fmt_shape(b, sizeof b, m->ndim - 1, m->shape + 1);
	return sr_fail(&rec->err,
	               dt != m->dtype ? SIMREC_EDTYPE : SIMREC_ESHAPE,
	               "key '%s': record of %s %s does not match the dataset's "
	               "records of %s %s; nothing was stored",
	               d->key, simrec_dtype_name(dt), a,
	               simrec_dtype_name(m->dtype), b);
}

static int dset_alloc_buf(sr_dset *d)
{
	size_t c0 = d->m.chunks[0];
	if (sr_dtype_is_vlen(d->m.dtype))
		d->vbuf = calloc(c0, sizeof *d->vbuf);
	else if (c0 > 1)
		d->buf = malloc(c0 * d->row_bytes + 1);
	return (sr_dtype_is_vlen(d->m.dtype) ? !d->vbuf : c0 > 1 && !d->buf)
	               ? SIMREC_ENOMEM
	               : 0;
}

/* Chunks of an aggregated dataset (steps, nranks, *local): sized like any
 * other from one group's slab, and never straddling two groups. With a
 * codec and groups of several ranks, a rank's block of at least min(256 KiB,
 * target) bytes (and at most max(target, 64 MiB)) is one chunk (1, 1, *local):
 * each rank then compresses its own block before the gather; a smaller
 * block makes chunks of the fewest k consecutive blocks that reach that
 * size (1, k, *local), k dividing the group and below it, compressed by
 * the first rank of each k (src/core/encoded.c). */
static void agg_chunks(sr_meta *m, size_t isz, size_t target, size_t group,
                       int codec)
{
	size_t local = isz;
	for (int i = 2; i < m->ndim; i++)
		local = m->shape[i] && local > SIZE_MAX / m->shape[i]
		                ? SIZE_MAX
		                : local * m->shape[i];
	size_t lo = target < (256u << 10) ? target : (256u << 10);
	size_t hi = target > (64u << 20) ? target : (64u << 20);
	size_t k = 1;
	while (codec && local && local < lo && ++k < group)
		if (group % k == 0 && k * local >= lo)
			break;
	if (codec && group > 1 && k < group && k * local >= lo &&
	    k * local <= hi) {
		m->chunks[0] = 1;
		m->chunks[1] = k;
		for (int i = 2; i < m->ndim; i++)
			m->chunks[i] = m->shape[i] ? m->shape[i] : 1;
		return;
	}
	size_t sh[SIMREC_MAX_NDIM];
	memcpy(sh, m->shape + 1, (size_t)(m->ndim - 1) * sizeof *sh);
	sh[0] = group;
	sr_chunk_shape(m->ndim - 1, sh, isz, target, m->chunks);
	while (group % m->chunks[1])
		m->chunks[1]--;
}

/* Look key up in every store: its metadata (from the first store that has
 * it) and each store's handle. *existed says whether any store had it. */
static int lookup_existing(simrec_t *rec, sr_dset *d, int *existed)
{
	int rc = 0;
	for (int i = 0; i < rec->nst && !rc; i++) {
		sr_store *st = rec->st[i];
		sr_meta m;
		rc = st->ops->lookup(st, d->key, &m, &d->h[i]);
		if (rc == SIMREC_ENOKEY) {
			rc = 0;
			continue;
		}
		if (rc == SIMREC_EKIND || (!rc && !sr_kind_appends(m.kind)))
			rc = sr_fail(&rec->err, SIMREC_EKIND,
			             "key '%s' in '%s' is %s, not a recorded "
			             "dataset",
			             d->key, sr_store_name(st),
			             rc ? "a group"
			             : m.kind == SR_CONTIGUOUS_ARRAY
			                     ? "a contiguous array "
			                       "(not chunked, not "
			                       "extendible)"
			             : m.kind == SR_FIXED_ARRAY
			                     ? "a fixed-size array "
			                       "(not extendible, no "
			                       "simrec record marker)"
			                     : "a value from "
			                       "simrec_set");
		else if (rc)
			sr_wrap(&rec->err, rc, "key '%s' in '%s'", d->key,
			        sr_store_name(st));
		else if (m.ndim < 1)
			rc = sr_fail(&rec->err, SIMREC_ESHAPE,
			             "key '%s' in '%s' is a 0-d array; cannot "
			             "append",
			             d->key, sr_store_name(st));
		if (!rc && !*existed) {
			d->m = m;
			*existed = 1;
		}
	}
	return rc;
}

/* Metadata of a new dataset of records of (dt, ndim, shape). */
static void new_meta(simrec_t *rec, sr_dset *d, simrec_dtype_t dt, int ndim,
                     const size_t *shape, size_t vlen_hint,
                     const sr_dset_init *init)
{
	sr_meta *m = &d->m;
	m->dtype = dt;
	m->ndim = ndim + 1;
	m->shape[0] = 0;
	if (ndim)
		memcpy(m->shape + 1, shape, (size_t)ndim * sizeof *shape);
	size_t isz = simrec_dtype_size(dt);
	size_t cb = rec->st[0]->chunk_bytes;
	if (sr_dtype_is_vlen(dt)) {
		size_t per = vlen_hint > 64 ? vlen_hint : 64;
		m->chunks[0] = cb / per ? cb / per : 1;
		if (m->chunks[0] > 65536)
			m->chunks[0] = 65536;
	} else if (init && init->chunks) {
		memcpy(m->chunks, init->chunks,
		       (size_t)m->ndim * sizeof *m->chunks);
	} else if (init) {
		/* stores that take frames encoded by the ranks */
		agg_chunks(m, isz, cb, init->group,
		           rec->nst == 1 && rec->st[0]->ops->write_encoded &&
		                   strcmp(rec->st[0]->codec.cname, "none"));
	} else {
		sr_chunk_shape(ndim, shape, isz, cb, m->chunks);
	}
	d->row_bytes = sr_row_elems(m) * isz;
}

/* Handles in the stores that lack one: open (metadata known from writer
 * 0) or create the dataset. */
static int open_handles(simrec_t *rec, sr_dset *d, const sr_dset_init *init,
                        int existed)
{
	int rc = 0, created = 0;
	for (int i = 0; i < rec->nst && !rc; i++) {
		sr_store *st = rec->st[i];
		if (d->h[i])
			continue;
		if (init && init->known && existed) {
			sr_meta ignored;
			rc = st->ops->lookup(st, d->key, &ignored, &d->h[i]);
			if (rc)
				sr_wrap(&rec->err, rc,
				        "cannot open '%s' in '%s'", d->key,
				        sr_store_name(st));
			continue;
		}
		rc = st->ops->create(st, d->key, &d->m, &d->h[i]);
		if (rc && rc != SIMREC_ENOMEM)
			sr_wrap(&rec->err, rc, "cannot create '%s' in '%s'",
			        d->key, sr_store_name(st));
		if (!rc && d->agg && st->meta_writer && st->ops->split &&
		    d->m.ndim >= 2)
			rc = st->ops->split(st, d->h[i], &d->m,
			                    sr_write_cols(st, d));
		created = 1;
	}
	/* record_all's datasets have columns: their axis 1 is the rank */
	sr_dims_role role = init && !init->plain && !init->chunks
	                            ? SR_DIMS_RANKS
	                            : SR_DIMS_RECORDS;
	if (!rc && created)
		rc = sr_dims_apply(rec, d->key, &d->m, role);
	return rc;
}

int sr_dset_get(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
                const size_t *shape, size_t vlen_hint, const sr_dset_init *init,
                sr_dset **out)
{
	sr_dset *d = sr_dset_find(rec, key);
	if (d) {
		*out = d;
		return sr_check_record(rec, d, dt, ndim, shape);
	}
	d = calloc(1, sizeof *d);
	if (!d || !(d->key = strdup(key))) {
		free(d);
		return sr_fail(&rec->err, SIMREC_ENOMEM, "out of memory");
	}
	int rc = 0, existed = 0;
	if (init && init->known) {
		d->m = *init->known;
		existed = d->m.shape[0] > 0;
	} else {
		rc = lookup_existing(rec, d, &existed);
	}
	if (!rc && existed) {
		d->row_bytes =
		        sr_row_elems(&d->m) * simrec_dtype_size(d->m.dtype);
		rc = sr_check_record(rec, d, dt, ndim, shape);
	}
	if (!rc && !existed)
		new_meta(rec, d, dt, ndim, shape, vlen_hint, init);
	if (init && !init->plain) {
		d->agg = 1;
		d->col0 = init->col0;
		d->ncol = init->ncol;
		d->row_bytes = d->row_bytes / d->m.shape[1] * init->ncol;
	}
	if (!rc)
		rc = open_handles(rec, d, init, existed);
	if (!rc)
		rc = dset_alloc_buf(d);
	if (!rc && existed)
		rc = load_tail(rec, d);
	d->mark = d->m.shape[0];
	if (rc) {
		dset_free(rec, d);
		return rc;
	}
	size_t b = hash(key) % rec->tabsize;
	d->next = rec->tab[b];
	rec->tab[b] = d;
	*out = d;
	return 0;
}

/* Append one row (a record) to d: batched, or written straight from the
 * caller's buffer when a chunk holds one record. */
int sr_dset_append(simrec_t *rec, sr_dset *d, const void *data)
{
	size_t c0 = d->m.chunks[0];
	if (c0 == 1 && !d->vbuf) {
		int rc = sr_dset_write_rows(rec, d, d->m.shape[0], 1,
		                            d->m.shape[0] + 1, data);
		if (!rc)
			d->m.shape[0]++;
		return rc;
	}
	if (d->vbuf) {
		const sr_blob *in = data;
		for (int i = 0; i < rec->nst; i++) {
			sr_store *st = rec->st[i];
			int rc = st->ops->check_vlen
			                 ? st->ops->check_vlen(st, d->h[i],
			                                       &d->m, in)
			                 : 0;
			if (rc)
				return rc;
		}
		sr_blob *b = &d->vbuf[d->nbuf];
		b->data = malloc(in->len ? in->len : 1);
		if (!b->data)
			return sr_fail(&rec->err, SIMREC_ENOMEM,
			               "out of memory");
		memcpy(b->data, in->data, in->len);
		b->len = in->len;
	} else if (!d->empty_writes) {
		memcpy(d->buf + d->nbuf * d->row_bytes, data, d->row_bytes);
	}
	d->nbuf++;
	d->m.shape[0]++;
	if (d->nbuf < c0)
		return 0;
	int rc = sr_dset_flush(rec, d);
	if (rc) {
		/* the failed row is not part of the dataset */
		d->nbuf--;
		d->m.shape[0]--;
		if (d->vbuf)
			free(d->vbuf[d->nbuf].data);
		return rc;
	}
	for (size_t i = 0; d->vbuf && i < d->nbuf; i++)
		free(d->vbuf[i].data);
	d->row0 += d->nbuf;
	d->nbuf = d->flushed = 0;
	return 0;
}
