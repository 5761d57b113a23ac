/* Reading: dataset handles (dtype, shape, hyperslab reads into caller
 * buffers), attributes and listing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/utf8.h"
#include "recorder.h"

struct simrec_dataset {
	simrec_t *rec;
	sr_store *st;
	void *h;
	sr_meta m;  /* as stored */
	int last;   /* view of the last record only */
	size_t row; /* that record */
	char *key;
};

static int open_handle(simrec_t *rec, const char *key, int last,
                       simrec_dataset_t **out)
{
	if (!out)
		return SIMREC_EINVAL;
	*out = NULL;
	if (!rec || !key)
		return SIMREC_EINVAL;
	rec->err.msg[0] = 0;
	if (sr_check_readable(rec))
		return SIMREC_ENOTSUP;
	if (*key && !sr_key_valid(key))
		return sr_fail(&rec->err, SIMREC_EINVAL, "invalid key '%s'",
		               key);
	sr_dset *pending = sr_dset_find(rec, key);
	int rc = pending ? sr_dset_flush(rec, pending) : 0;
	if (rc)
		return rc;
	simrec_dataset_t *ds = calloc(1, sizeof *ds);
	if (!ds || !(ds->key = strdup(key))) {
		free(ds);
		return sr_fail(&rec->err, SIMREC_ENOMEM, "out of memory");
	}
	ds->rec = rec;
	ds->st = rec->st[0];
	rec->err.msg[0] = 0;
	rc = ds->st->ops->lookup(ds->st, key, &ds->m, &ds->h);
	if (rc == SIMREC_ENOKEY && !rec->err.msg[0]) /* else the store's */
		sr_fail(&rec->err, rc, "no key '%s' in '%s'", key,
		        sr_store_name(ds->st));
	else if (rc == SIMREC_EKIND)
		sr_fail(&rec->err, rc,
		        "key '%s' in '%s' is a group, not a dataset", key,
		        sr_store_name(ds->st));
	else if (!rc && last && ds->m.kind == SR_RECORDS) {
		if (ds->m.ndim == 0 || ds->m.shape[0] == 0)
			rc = sr_fail(&rec->err, SIMREC_ERANGE,
			             "key '%s' has no records yet", key);
		ds->last = 1;
		ds->row = ds->m.ndim ? ds->m.shape[0] - 1 : 0;
	}
	if (rc) {
		simrec_dataset_close(ds);
		return rc;
	}
	*out = ds;
	return 0;
}

int simrec_get_all(simrec_t *rec, const char *key, simrec_dataset_t **out)
{
	return open_handle(rec, key, 0, out);
}

int simrec_get(simrec_t *rec, const char *key, simrec_dataset_t **out)
{
	return open_handle(rec, key, 1, out);
}

void simrec_dataset_close(simrec_dataset_t *ds)
{
	if (!ds)
		return;
	if (ds->h)
		ds->st->ops->release(ds->st, ds->h);
	free(ds->key);
	free(ds);
}

simrec_dtype_t simrec_dataset_dtype(const simrec_dataset_t *ds)
{
	return ds->m.dtype;
}

int simrec_dataset_ndim(const simrec_dataset_t *ds)
{
	return ds->m.ndim - ds->last;
}

void simrec_dataset_shape(const simrec_dataset_t *ds, size_t *shape)
{
	memcpy(shape, ds->m.shape + ds->last,
	       (size_t)simrec_dataset_ndim(ds) * sizeof *shape);
}

size_t simrec_dataset_size(const simrec_dataset_t *ds)
{
	size_t n = 1;
	for (int i = ds->last; i < ds->m.ndim; i++)
		n *= ds->m.shape[i];
	return n;
}

int simrec_dataset_chunks(const simrec_dataset_t *ds, size_t *chunks)
{
	memcpy(chunks, ds->m.chunks, (size_t)ds->m.ndim * sizeof *chunks);
	return 0;
}

/* The I/O summary of one read (SIMREC_IO_SUMMARY): its time and, where
 * the store tells them, its parts. */
static void read_summary(const simrec_dataset_t *ds, size_t bytes, double t)
{
	const sr_store *s = ds->st;
	fprintf(stderr,
	        "simrec: read '%s' from '%s': %.1f MB in %.4f s (%.0f MB/s)",
	        ds->key, s->uri.name, (double)bytes / 1e6, t,
	        t > 0 ? (double)bytes / 1e6 / t : 0.0);
	if (s->r_chunks)
		fprintf(stderr,
		        "; %zu chunks, %.1f MB stored; fetch %.4f s, decode "
		        "and copy %.4f s over %d thread(s)",
		        s->r_chunks, (double)s->r_stored / 1e6, s->r_fetch,
		        s->r_decode, s->r_threads);
	fputc('\n', stderr);
}

int simrec_dataset_read(simrec_dataset_t *ds, const size_t *start,
                        const size_t *count, void *buf, size_t bufsize)
{
	if (!ds)
		return SIMREC_EINVAL;
	sr_err *e = &ds->rec->err;
	if (!buf)
		return sr_fail(e, SIMREC_EINVAL,
		               "key '%s': simrec_dataset_read needs a buffer",
		               ds->key);
	if (sr_dtype_is_vlen(ds->m.dtype))
		return sr_fail(e, SIMREC_EINVAL,
		               "key '%s' holds bytes/strings: use "
		               "simrec_dataset_read_bytes",
		               ds->key);
	size_t st[SIMREC_MAX_NDIM], ct[SIMREC_MAX_NDIM], n = 1;
	int nd = ds->m.ndim, off = ds->last;
	if (off) {
		st[0] = ds->row;
		ct[0] = 1;
	}
	for (int i = off; i < nd; i++) {
		st[i] = start ? start[i - off] : 0;
		ct[i] = count ? count[i - off] : ds->m.shape[i] - st[i];
		if (st[i] > ds->m.shape[i] || ct[i] > ds->m.shape[i] - st[i])
			return sr_fail(
			        e, SIMREC_ERANGE,
			        "key '%s': selection %zu+%zu in dimension %d "
			        "exceeds the extent %zu",
			        ds->key, st[i], ct[i], i - off, ds->m.shape[i]);
		n *= ct[i];
	}
	size_t need = n * simrec_dtype_size(ds->m.dtype);
	if (bufsize < need)
		return sr_fail(e, SIMREC_ETRUNC,
		               "key '%s': buffer of %zu bytes, selection needs "
		               "%zu",
		               ds->key, bufsize, need);
	if (n == 0)
		return 0;
	sr_store *s = ds->st;
	s->r_fetch = s->r_decode = 0;
	s->r_chunks = s->r_stored = 0;
	s->r_threads = 0;
	double t0 = sr_clock();
	int rc = s->ops->read(s, ds->h, &ds->m, st, ct, buf);
	if (!rc && ds->rec->opts.io_summary)
		read_summary(ds, need, sr_clock() - t0);
	if (rc && rc != SIMREC_ENOMEM)
		sr_wrap(e, rc, "reading '%s' from '%s'", ds->key,
		        sr_store_name(ds->st));
	return rc;
}

int simrec_dataset_read_bytes(simrec_dataset_t *ds, size_t index, void *buf,
                              size_t cap, size_t *len)
{
	if (!ds)
		return SIMREC_EINVAL;
	sr_err *e = &ds->rec->err;
	if (!len || (cap && !buf))
		return sr_fail(e, SIMREC_EINVAL,
		               "key '%s': simrec_dataset_read_bytes needs len "
		               "and, with a capacity, a buffer",
		               ds->key);
	if (!sr_dtype_is_vlen(ds->m.dtype))
		return sr_fail(e, SIMREC_EINVAL,
		               "key '%s' is numeric: use simrec_dataset_read",
		               ds->key);
	size_t row = ds->last ? ds->row : index;
	/* a set text or bytes value is one item of no dimension */
	size_t nrows = ds->m.ndim ? ds->m.shape[0] : 1;
	if ((ds->last && index != 0) || row >= nrows)
		return sr_fail(e, SIMREC_ERANGE,
		               "key '%s': index %zu out of range", ds->key,
		               index);
	sr_blob b;
	int rc = ds->st->ops->read_vlen(ds->st, ds->h, &ds->m, row, &b);
	if (rc)
		return rc;
	size_t bad = ds->m.dtype == SIMREC_STRING ? sr_utf8_bad(b.data, b.len)
	                                          : b.len;
	if (bad < b.len) {
		free(b.data);
		return sr_fail(e, SIMREC_EFORMAT,
		               "key '%s' in '%s': string item %zu is not valid "
		               "UTF-8 (byte %zu)",
		               ds->key, sr_store_name(ds->st), row, bad);
	}
	*len = b.len;
	size_t n = b.len < cap ? b.len : cap;
	if (n)
		memcpy(buf, b.data, n);
	if (cap > b.len)
		((char *)buf)[b.len] = 0;
	free(b.data);
	if (cap < b.len)
		return sr_fail(e, SIMREC_ETRUNC,
		               "key '%s': item %zu has %zu bytes, buffer %zu",
		               ds->key, index, *len, cap);
	return 0;
}

int simrec_dataset_describe(simrec_dataset_t *ds, char **json)
{
	if (!ds)
		return SIMREC_EINVAL;
	if (!json)
		return sr_fail(&ds->rec->err, SIMREC_EINVAL,
		               "key '%s': simrec_dataset_describe needs json",
		               ds->key);
	*json = NULL;
	char *extra = ds->st->ops->describe
	                      ? ds->st->ops->describe(ds->st, ds->h, &ds->m)
	                      : NULL;
	size_t n = (extra ? strlen(extra) : 2) + 64;
	*json = malloc(n);
	if (!*json) {
		free(extra);
		return SIMREC_ENOMEM;
	}
	/* {"store": scheme, ...extra fields} */
	const char *body = extra && extra[0] == '{' ? extra + 1 : "}";
	snprintf(*json, n, "{\"store\": \"%s\"%s%s", ds->st->uri.scheme,
	         strcmp(body, "}") ? ", " : "", body);
	free(extra);
	return 0;
}

long long simrec_disk_bytes(simrec_t *rec)
{
	if (!rec || !rec->nst)
		return -1;
	return rec->st[0]->ops->disk_bytes(rec->st[0]);
}

/* Reads need a store: on a recorder opened over a communicator only the
 * writer ranks hold one. */
int sr_check_readable(simrec_t *rec)
{
	if (rec->coll)
		rec->coll->io_wait(rec);
	if (rec->nst == 0)
		return sr_fail(
		        &rec->err, SIMREC_ENOTSUP,
		        "rank %d opened no store (only writer ranks do); "
		        "read on a writer rank, e.g. rank 0",
		        rec->rank);
	return 0;
}

int simrec_attr_get(simrec_t *rec, const char *key, const char *name,
                    simrec_attr_t *out)
{
	if (!rec || !name || !out)
		return SIMREC_EINVAL;
	if (sr_check_readable(rec))
		return SIMREC_ENOTSUP;
	key = sr_key_root(key);
	sr_store *st = rec->st[0];
	int rc = st->ops->attr_get(st, key, name, out);
	if (rc == SIMREC_ENOKEY)
		sr_fail(&rec->err, rc, "no attribute '%s' on '%s' in '%s'",
		        name, *key ? key : "/", sr_store_name(st));
	return rc;
}

/* The library's own attributes ("_simrec...": run id, lock token) are
 * not the caller's: listings skip them, as HDF5's already does. */
typedef struct attr_filter {
	int (*fn)(const char *name, void *arg);
	void *arg;
} attr_filter;

static int own_hidden(const char *name, void *arg)
{
	attr_filter *f = arg;
	return strncmp(name, "_simrec", 7) ? f->fn(name, f->arg) : 0;
}

int simrec_attr_list(simrec_t *rec, const char *key,
                     int (*fn)(const char *name, void *arg), void *arg)
{
	if (!rec || !fn)
		return SIMREC_EINVAL;
	if (sr_check_readable(rec))
		return SIMREC_ENOTSUP;
	key = sr_key_root(key);
	attr_filter f = {fn, arg};
	int rc = rec->st[0]->ops->attr_list(rec->st[0], key, own_hidden, &f);
	if (rc == SIMREC_ENOKEY)
		sr_fail(&rec->err, rc, "no key '%s' in '%s'", key,
		        sr_store_name(rec->st[0]));
	return rc;
}

int simrec_list(simrec_t *rec, const char *prefix,
                int (*fn)(const char *key, int is_dataset, void *arg),
                void *arg)
{
	if (!rec || !fn)
		return SIMREC_EINVAL;
	if (sr_check_readable(rec))
		return SIMREC_ENOTSUP;
	return rec->st[0]->ops->list(rec->st[0], sr_key_root(prefix), fn, arg);
}

static int verify_as(simrec_dataset_t *ds, size_t *whole, int decode)
{
	if (!ds)
		return SIMREC_EINVAL;
	if (!whole)
		return sr_fail(&ds->rec->err, SIMREC_EINVAL,
		               "key '%s': simrec_dataset_verify needs whole",
		               ds->key);
	*whole = ds->m.ndim && ds->m.kind == SR_RECORDS ? ds->m.shape[0] : 1;
	if (!ds->st->ops->check)
		return sr_fail(&ds->rec->err, SIMREC_ENOTSUP,
		               "'%s': the %s store cannot verify '%s'",
		               sr_store_name(ds->st), ds->st->uri.scheme,
		               ds->key);
	ds->rec->err.msg[0] = 0;
	if (!decode && ds->st->ops->check_stored)
		return ds->st->ops->check_stored(ds->st, ds->h, &ds->m, whole);
	return ds->st->ops->check(ds->st, ds->h, &ds->m, whole);
}

int simrec_dataset_verify(simrec_dataset_t *ds, size_t *whole)
{
	return verify_as(ds, whole, 1);
}

int simrec_dataset_verify_stored(simrec_dataset_t *ds, size_t *whole)
{
	return verify_as(ds, whole, 0);
}

/* Is truncating key to rows in st allowed? (m, h: the dataset) */
static int truncate_check(simrec_t *rec, sr_store *st, const char *key,
                          size_t rows, const sr_meta *m)
{
	/* another program's growable array (4) is cut along dim 0 too */
	if (!sr_kind_appends(m->kind) || !m->ndim)
		return sr_fail(&rec->err, SIMREC_EKIND,
		               "key '%s' in '%s' is a value, not records: "
		               "nothing to cut",
		               key, sr_store_name(st));
	if (rows > m->shape[0])
		return sr_fail(&rec->err, SIMREC_ERANGE,
		               "key '%s' in '%s' has no %zu records", key,
		               sr_store_name(st), rows);
	if (rows < m->shape[0] && sr_dtype_is_vlen(m->dtype))
		return sr_fail(&rec->err, SIMREC_ENOTSUP,
		               "key '%s': byte-string datasets cannot be "
		               "truncated",
		               key);
	return 0;
}

/* Every store's dataset of key, looked up (released by the caller). */
static int truncate_lookup(simrec_t *rec, const char *key, size_t rows,
                           sr_meta *m, void **h)
{
	int rc = 0;
	for (int i = 0; i < rec->nst && !rc; i++) {
		sr_store *st = rec->st[i];
		if (st->mode == SIMREC_MODE_READONLY)
			return sr_fail(&rec->err, SIMREC_EREADONLY,
			               "'%s' is open read-only",
			               sr_store_name(st));
		rc = st->ops->lookup(st, key, &m[i], &h[i]);
		if (rc && !rec->err.msg[0])
			sr_fail(&rec->err, rc, "key '%s' in '%s': %s", key,
			        sr_store_name(st),
			        rc == SIMREC_ENOKEY ? "no such key"
			                            : simrec_strerror(rc));
		if (!rc)
			rc = truncate_check(rec, st, key, rows, &m[i]);
	}
	return rc;
}

int simrec_truncate(simrec_t *rec, const char *key, size_t rows)
{
	if (!rec)
		return SIMREC_EINVAL;
	rec->err.msg[0] = 0;
	if (!key)
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "simrec_truncate needs a key");
	if (rec->coll || !rec->nst)
		return sr_fail(&rec->err, SIMREC_ENOTSUP,
		               "truncate works on a serial recorder only");
	return sr_truncate_local(rec, key, rows);
}

int sr_truncate_local(simrec_t *rec, const char *key, size_t rows)
{
	/* the rows still batched first, so the stores see them all; a
	 * refused truncate then changes nothing and loses nothing */
	sr_dset *d = sr_dset_find(rec, key);
	int rc = d ? sr_dset_flush(rec, d) : 0;
	if (rc)
		return rc;
	sr_meta m[SR_MAX_STORES];
	void *h[SR_MAX_STORES] = {NULL};
	rc = truncate_lookup(rec, key, rows, m, h);
	for (int i = 0; i < rec->nst && !rc; i++) {
		sr_store *st = rec->st[i];
		if (rows < m[i].shape[0]) {
			/* a write of no data sets only the extent */
			size_t start[SIMREC_MAX_NDIM] = {0},
			       count[SIMREC_MAX_NDIM] = {0};
			m[i].shape[0] = rows;
			rc = st->ops->write(st, h[i], &m[i], start, count,
			                    NULL);
		}
		if (!rc)
			rc = st->ops->commit(st);
		if (i == rec->nst - 1 || rc)
			sr_dset_remove(rec, key); /* its batch is stale now */
	}
	for (int i = 0; i < rec->nst; i++)
		if (h[i])
			rec->st[i]->ops->release(rec->st[i], h[i]);
	return rc;
}
