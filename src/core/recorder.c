/* The recorder: argument checks, fan-out to every store, batching of small
 * records up to chunk boundaries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attr_json.h"
#include "recorder.h"

double sr_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void simrec_options_init(simrec_options_t *o)
{
	memset(o, 0, sizeof *o);
	o->mode = SIMREC_MODE_APPEND;
	o->chunk_bytes = 0; /* the store's default */
	o->codec = NULL; /* the store's default: lz4 for zarr, none for HDF5 */
	o->level = 5;
	o->shuffle = SIMREC_SHUFFLE_BYTE;
	o->nthreads = 0; /* 2 blosc threads */
}

const char *simrec_errmsg(const simrec_t *rec)
{
	if (!rec)
		return "no recorder";
	return rec->err.msg[0] ? rec->err.msg : "no error";
}

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

static void dset_remove(simrec_t *rec, const char *key)
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

int sr_open_stores(simrec_t *rec, const char *uris, MPI_Comm comm,
                   int meta_writer)
{
	char *list = strdup(uris), *save = NULL;
	if (!list)
		return SIMREC_ENOMEM;
	int rc = 0;
	for (char *u = strtok_r(list, ";", &save); u && !rc;
	     u = strtok_r(NULL, ";", &save)) {
		while (*u == ' ')
			u++;
		if (!*u)
			continue;
		if (rec->nst == SR_MAX_STORES)
			rc = sr_fail(&rec->err, SIMREC_ECONFIG,
			             "more than %d stores in '%s'",
			             SR_MAX_STORES, uris);
		else
			rc = sr_store_open(u, &rec->opts, comm, meta_writer,
			                   &rec->err, &rec->st[rec->nst]);
		if (!rc)
			rec->nst++;
	}
	if (!rc && rec->nst == 0)
		rc = sr_fail(&rec->err, SIMREC_EURI, "no store URI given");
	free(list);
	return rc;
}

int sr_rec_alloc(simrec_t **out, const simrec_options_t *opts)
{
	simrec_t *rec = calloc(1, sizeof *rec);
	if (!rec)
		return SIMREC_ENOMEM;
	rec->tabsize = 256;
	rec->tab = calloc(rec->tabsize, sizeof *rec->tab);
	if (!rec->tab) {
		free(rec);
		return SIMREC_ENOMEM;
	}
	if (opts)
		rec->opts = *opts;
	else
		simrec_options_init(&rec->opts);
	/* keep our own copy of the codec name */
	if (rec->opts.codec) {
		snprintf(rec->codec, sizeof rec->codec, "%s", rec->opts.codec);
		rec->opts.codec = rec->codec;
	}
	const char *env = getenv("SIMREC_IO_SUMMARY");
	if (env && *env && strcmp(env, "0"))
		rec->opts.io_summary = 1;
	rec->comm = MPI_COMM_NULL;
	rec->size = 1;
	*out = rec;
	return 0;
}

void sr_rec_free(simrec_t *rec)
{
	for (size_t i = 0; i < rec->tabsize; i++)
		while (rec->tab[i]) {
			sr_dset *d = rec->tab[i];
			rec->tab[i] = d->next;
			dset_free(rec, d);
		}
	free(rec->tab);
	free(rec);
}

/* Serial open; also used by simrec_open_comm (src/mpi/). */
int simrec_open(simrec_t **out, const char *uris, const simrec_options_t *opts)
{
	if (!out)
		return SIMREC_EINVAL;
	*out = NULL;
	const char *env = getenv("SIMREC_STORE");
	if (env && *env)
		uris = env;
	if (!uris)
		return SIMREC_EINVAL;
	simrec_t *rec;
	int rc = sr_rec_alloc(&rec, opts);
	if (rc)
		return rc;
	rc = sr_open_stores(rec, uris, MPI_COMM_NULL, 1);
	if (rc) {
		fprintf(stderr, "simrec: %s\n", rec->err.msg);
		for (int i = 0; i < rec->nst; i++)
			sr_store_close(rec->st[i], NULL);
		sr_rec_free(rec);
		return rc;
	}
	*out = rec;
	return 0;
}

int sr_dset_write_rows(simrec_t *rec, sr_dset *d, size_t row0, size_t nrows,
                       size_t total, const void *data)
{
	sr_meta m = d->m;
	m.shape[0] = total;
	size_t start[SIMREC_MAX_NDIM] = {0}, count[SIMREC_MAX_NDIM];
	memcpy(count, m.shape, sizeof count);
	start[0] = row0;
	count[0] = nrows;
	if (d->agg) {
		start[1] = d->col0;
		count[1] = d->ncol;
	}
	int rc = 0;
	for (int i = 0; i < rec->nst && !rc; i++) {
		sr_store *st = rec->st[i];
		rc = sr_dtype_is_vlen(m.dtype)
		             ? st->ops->write_vlen(st, d->h[i], &m, row0, nrows,
		                                   data)
		             : st->ops->write(st, d->h[i], &m, start, count,
		                              data);
		if (rc && rc != SIMREC_ENOMEM)
			sr_fail(&rec->err, rc, "key '%s' in '%s:%s': %s",
			        d->key, st->uri.scheme, st->uri.path,
			        rec->err.msg[0] ? rec->err.msg
			                        : simrec_strerror(rc));
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
	if (!d->nbuf)
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

int sr_check_record(simrec_t *rec, const sr_dset *d, simrec_dtype_t dt,
                    int ndim, const size_t *shape)
{
	const sr_meta *m = &d->m;
	int same_shape = ndim == m->ndim - 1;
	for (int i = 0; same_shape && i < ndim; i++)
		same_shape = shape[i] == m->shape[i + 1];
	if (dt == m->dtype && same_shape)
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
		d->buf = malloc(c0 * d->row_bytes);
	return (sr_dtype_is_vlen(d->m.dtype) ? !d->vbuf : c0 > 1 && !d->buf)
	               ? SIMREC_ENOMEM
	               : 0;
}

/* Chunks of an aggregated dataset (steps, nranks, *local): sized like any
 * other from one group's slab, and never straddling two groups. */
static void agg_chunks(sr_meta *m, size_t isz, size_t target, size_t group)
{
	size_t sh[SIMREC_MAX_NDIM];
	memcpy(sh, m->shape + 1, (size_t)(m->ndim - 1) * sizeof *sh);
	sh[0] = group;
	sr_chunk_shape(m->ndim - 1, sh, isz, target, m->chunks);
	while (group % m->chunks[1])
		m->chunks[1]--;
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
	}
	for (int i = 0; i < rec->nst && !rc && !(init && init->known); i++) {
		sr_store *st = rec->st[i];
		sr_meta m;
		rc = st->ops->lookup(st, key, &m, &d->h[i]);
		if (rc == SIMREC_ENOKEY) {
			rc = 0;
			continue;
		}
		if (rc == SIMREC_EKIND ||
		    (!rc && m.is_value && m.is_value != 4))
			rc = sr_fail(&rec->err, SIMREC_EKIND,
			             "key '%s' in '%s' is %s, not a recorded "
			             "dataset",
			             key, st->uri.path,
			             rc                ? "a group"
			             : m.is_value == 3 ? "a contiguous array "
			                                 "(not chunked, not "
			                                 "extendible)"
			             : m.is_value == 2 ? "a fixed-size array "
			                                 "(not extendible, no "
			                                 "simrec record marker)"
			                               : "a value from "
			                                 "simrec_set");
		else if (rc)
			sr_fail(&rec->err, rc, "key '%s' in '%s': %s", key,
			        st->uri.path, rec->err.msg);
		else if (m.ndim < 1)
			rc = sr_fail(&rec->err, SIMREC_ESHAPE,
			             "key '%s' in '%s' is a 0-d array; cannot "
			             "append",
			             key, st->uri.path);
		if (!rc && !existed) {
			d->m = m;
			existed = 1;
		}
	}
	if (!rc && existed) {
		d->row_bytes =
		        sr_row_elems(&d->m) * simrec_dtype_size(d->m.dtype);
		rc = sr_check_record(rec, d, dt, ndim, shape);
	}
	if (!rc && !existed) {
		sr_meta *m = &d->m;
		m->dtype = dt;
		m->ndim = ndim + 1;
		m->shape[0] = 0;
		if (ndim)
			memcpy(m->shape + 1, shape,
			       (size_t)ndim * sizeof *shape);
		size_t isz = simrec_dtype_size(dt);
		size_t cb = rec->st[0]->chunk_bytes;
		if (sr_dtype_is_vlen(dt)) {
			size_t per = vlen_hint > 64 ? vlen_hint : 64;
			m->chunks[0] = cb / per ? cb / per : 1;
			if (m->chunks[0] > 65536)
				m->chunks[0] = 65536;
		} else if (init) {
			agg_chunks(m, isz, cb, init->group);
		} else {
			sr_chunk_shape(ndim, shape, isz, cb, m->chunks);
		}
		d->row_bytes = sr_row_elems(m) * isz;
	}
	if (init) {
		d->agg = 1;
		d->col0 = init->col0;
		d->ncol = init->ncol;
		d->row_bytes = d->row_bytes / d->m.shape[1] * init->ncol;
	}
	for (int i = 0; i < rec->nst && !rc; i++) {
		if (d->h[i])
			continue;
		if (init && init->known && existed) {
			sr_meta ignored;
			rc = rec->st[i]->ops->lookup(rec->st[i], key, &ignored,
			                             &d->h[i]);
			if (rc)
				sr_fail(&rec->err, rc,
				        "cannot open '%s' in '%s': %s", key,
				        rec->st[i]->uri.path, rec->err.msg);
			continue;
		}
		rc = sr_lock_write_begin(rec->st[i]);
		if (!rc)
			rc = rec->st[i]->ops->create(rec->st[i], key, &d->m,
			                             &d->h[i]);
		rc = sr_lock_write_end(rec->st[i], rc);
		if (rc && rc != SIMREC_ENOMEM)
			sr_fail(&rec->err, rc, "cannot create '%s' in '%s': %s",
			        key, rec->st[i]->uri.path, rec->err.msg);
	}
	if (!rc)
		rc = dset_alloc_buf(d);
	if (!rc && existed)
		rc = load_tail(rec, d);
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

static int check_writable(simrec_t *rec, const char *key)
{
	if (!rec)
		return SIMREC_EINVAL;
	rec->err.msg[0] = 0;
	if (!sr_key_valid(key))
		return sr_fail(
		        &rec->err, SIMREC_EINVAL,
		        "invalid key '%s' (expected '/'-separated names, "
		        "no empty, '.' or '..' parts)",
		        key ? key : "(null)");
	for (int i = 0; i < rec->nst; i++)
		if (rec->st[i]->mode == SIMREC_MODE_READONLY)
			return sr_fail(
			        &rec->err, SIMREC_EREADONLY,
			        "cannot write key '%s': store '%s:%s' is "
			        "open read-only",
			        key, rec->st[i]->uri.scheme,
			        rec->st[i]->uri.path);
	return 0;
}

static int check_array(simrec_t *rec, const char *key, simrec_dtype_t dt,
                       int ndim, const size_t *shape, const void *data)
{
	if ((int)dt < 0 || dt >= SIMREC_NDTYPES || sr_dtype_is_vlen(dt))
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': invalid dtype %d (use "
		               "simrec_record_bytes for bytes/strings)",
		               key, (int)dt);
	if (ndim < 0 || ndim >= SIMREC_MAX_NDIM || (ndim && !shape) || !data)
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': ndim must be 0..%d with a shape, and "
		               "data non-NULL",
		               key, SIMREC_MAX_NDIM - 1);
	for (int i = 0; i < ndim; i++)
		if (shape[i] == 0)
			return sr_fail(&rec->err, SIMREC_EINVAL,
			               "key '%s': dimension %d has extent 0",
			               key, i);
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
		sr_blob *b = &d->vbuf[d->nbuf];
		b->data = malloc(in->len ? in->len : 1);
		if (!b->data)
			return sr_fail(&rec->err, SIMREC_ENOMEM,
			               "out of memory");
		memcpy(b->data, in->data, in->len);
		b->len = in->len;
	} else {
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

int sr_record_local(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
                    const size_t *shape, const void *data)
{
	sr_dset *d;
	int rc = sr_dset_get(rec, key, dt, ndim, shape, 0, NULL, &d);
	if (!rc)
		rc = sr_dset_append(rec, d, data);
	if (!rc)
		rec->bytes_in += d->row_bytes;
	return rc;
}

int simrec_record(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
                  const size_t *shape, const void *data)
{
	int rc = check_writable(rec, key);
	if (!rc)
		rc = check_array(rec, key, dt, ndim, shape, data);
	if (rc)
		return rc;
	if (rec->comm != MPI_COMM_NULL && !sr_agg_local_ok(rec))
		return sr_agg_defer(rec, SR_OP_RECORD, key, dt, ndim, shape,
		                    data, 0, NULL, NULL);
	double t0 = sr_now();
	rc = sr_record_local(rec, key, dt, ndim, shape, data);
	rec->t_in += sr_now() - t0;
	return rc;
}

int simrec_record_bytes(simrec_t *rec, const char *key, simrec_dtype_t dt,
                        const void *data, size_t len)
{
	int rc = check_writable(rec, key);
	if (rc)
		return rc;
	if (!sr_dtype_is_vlen(dt) || (!data && len))
		return sr_fail(
		        &rec->err, SIMREC_EINVAL,
		        "key '%s': simrec_record_bytes takes SIMREC_BYTES "
		        "or SIMREC_STRING and non-NULL data",
		        key);
	if (rec->comm != MPI_COMM_NULL && !sr_agg_local_ok(rec))
		return sr_agg_defer(rec, SR_OP_BYTES, key, dt, 0, NULL, data,
		                    len, NULL, NULL);
	double t0 = sr_now();
	sr_dset *d;
	rc = sr_dset_get(rec, key, dt, 0, NULL, len, NULL, &d);
	sr_blob b = {(void *)data, len};
	if (!rc)
		rc = sr_dset_append(rec, d, &b);
	if (!rc)
		rec->bytes_in += len;
	rec->t_in += sr_now() - t0;
	return rc;
}

int simrec_record_all(simrec_t *rec, const char *key, simrec_dtype_t dt,
                      int ndim, const size_t *shape, const void *data)
{
	if (!rec)
		return SIMREC_EINVAL;
	if (rec->comm != MPI_COMM_NULL)
		return sr_agg_record_all(rec, key, dt, ndim, shape, data);
	/* a serial recorder is a communicator of one rank */
	int rc = check_writable(rec, key);
	if (!rc)
		rc = check_array(rec, key, dt, ndim, shape, data);
	if (rc)
		return rc;
	size_t sh[SIMREC_MAX_NDIM];
	sh[0] = 1;
	if (ndim)
		memcpy(sh + 1, shape, (size_t)ndim * sizeof *shape);
	double t0 = sr_now();
	rc = sr_record_local(rec, key, dt, ndim + 1, sh, data);
	rec->t_in += sr_now() - t0;
	return rc;
}

int simrec_set(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
               const size_t *shape, const void *data)
{
	int rc = check_writable(rec, key);
	if (!rc)
		rc = check_array(rec, key, dt, ndim, shape, data);
	if (rc)
		return rc;
	if (rec->comm != MPI_COMM_NULL && !sr_agg_local_ok(rec))
		return sr_agg_defer(rec, SR_OP_SET, key, dt, ndim, shape, data,
		                    0, NULL, NULL);
	double t0 = sr_now();
	dset_remove(rec, key); /* a recorded dataset is replaced whole */
	sr_meta m = {.dtype = dt, .ndim = ndim, .is_value = 1};
	if (ndim)
		memcpy(m.shape, shape, (size_t)ndim * sizeof *shape);
	size_t isz = simrec_dtype_size(dt);
	if (ndim > 0) {
		sr_chunk_shape(ndim - 1, shape + 1, isz,
		               rec->st[0]->chunk_bytes, m.chunks);
		if (m.chunks[0] > shape[0])
			m.chunks[0] = shape[0];
	}
	size_t start[SIMREC_MAX_NDIM] = {0};
	for (int i = 0; i < rec->nst && !rc; i++) {
		sr_store *st = rec->st[i];
		void *h = NULL;
		rc = sr_lock_write_begin(st);
		if (!rc)
			rc = st->ops->create(st, key, &m, &h);
		if (!rc)
			rc = st->ops->write(st, h, &m, start, m.shape, data);
		rc = sr_lock_write_end(st, rc);
		if (h)
			st->ops->release(st, h);
		if (rc && rc != SIMREC_ENOMEM)
			sr_fail(&rec->err, rc, "cannot set '%s' in '%s': %s",
			        key, st->uri.path, rec->err.msg);
	}
	if (!rc)
		rec->bytes_in += sr_meta_elems(&m) * isz;
	rec->t_in += sr_now() - t0;
	return rc;
}

int sr_flush_local(simrec_t *rec)
{
	int rc = 0;
	for (size_t i = 0; i < rec->tabsize; i++)
		for (sr_dset *d = rec->tab[i]; d; d = d->next) {
			int r = sr_dset_flush(rec, d);
			if (r && !rc)
				rc = r;
		}
	for (int i = 0; i < rec->nst; i++) {
		int r = sr_lock_write_begin(rec->st[i]);
		if (!r)
			r = rec->st[i]->ops->commit(rec->st[i]);
		r = sr_lock_write_end(rec->st[i], r);
		if (r && !rc)
			rc = sr_fail(&rec->err, r, "commit of '%s' failed: %s",
			             rec->st[i]->uri.path, rec->err.msg);
	}
	return rc;
}

int simrec_flush(simrec_t *rec)
{
	if (!rec)
		return SIMREC_EINVAL;
	double t0 = sr_now();
	int rc = rec->comm != MPI_COMM_NULL ? sr_agg_flush(rec)
	                                    : sr_flush_local(rec);
	rec->t_in += sr_now() - t0;
	return rc;
}

static void print_summary(simrec_t *rec)
{
	double mb = (double)rec->bytes_in / 1e6;
	fprintf(stderr,
	        "simrec: I/O summary: %.1f MB recorded in %.3f s inside simrec "
	        "(%.1f MB/s)\n",
	        mb, rec->t_in, rec->t_in > 0 ? mb / rec->t_in : 0.0);
}

int simrec_close(simrec_t *rec)
{
	if (!rec)
		return 0;
	int rc;
	if (rec->comm != MPI_COMM_NULL) {
		rc = sr_agg_close(rec);
	} else {
		double t0 = sr_now();
		rc = 0;
		if (rec->st[0] && rec->st[0]->mode != SIMREC_MODE_READONLY)
			rc = sr_flush_local(rec);
		rec->t_in += sr_now() - t0;
		if (rec->opts.io_summary)
			print_summary(rec);
	}
	for (size_t i = 0; i < rec->tabsize; i++)
		while (rec->tab[i]) {
			sr_dset *d = rec->tab[i];
			rec->tab[i] = d->next;
			dset_free(rec, d);
		}
	for (int i = 0; i < rec->nst; i++)
		sr_store_close(rec->st[i], &rc);
	rec->nst = 0;
	if (rec->comm != MPI_COMM_NULL)
		sr_agg_free(rec);
	sr_rec_free(rec);
	return rc;
}

/* ---- attributes and listing ---- */

static const char *norm_key(const char *key)
{
	return !key || !strcmp(key, "/") ? "" : key;
}

static int attr_set(simrec_t *rec, const char *key, const char *name,
                    const simrec_attr_t *a)
{
	key = norm_key(key);
	if (!rec)
		return SIMREC_EINVAL;
	int rc = *key ? check_writable(rec, key) : check_writable(rec, "root");
	if (rc)
		return rc;
	if (!name || !*name || !strncmp(name, "_simrec", 7))
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': invalid attribute name '%s'", key,
		               name ? name : "(null)");
	if (rec->comm != MPI_COMM_NULL && !sr_agg_local_ok(rec))
		return sr_agg_defer(rec, SR_OP_ATTR, key, 0, 0, NULL, NULL, 0,
		                    name, a);
	for (int i = 0; i < rec->nst && !rc; i++) {
		sr_store *st = rec->st[i];
		rc = sr_lock_write_begin(st);
		if (!rc)
			rc = st->ops->attr_set(st, key, name, a);
		rc = sr_lock_write_end(st, rc);
		if (rc && rc != SIMREC_ENOMEM)
			sr_fail(&rec->err, rc,
			        "attribute '%s' of '%s' in '%s': %s", name, key,
			        st->uri.path, rec->err.msg);
	}
	return rc;
}

int simrec_attr_set_double(simrec_t *rec, const char *key, const char *name,
                           double value)
{
	simrec_attr_t a = {.type = SIMREC_ATTR_DOUBLE, .d = value};
	return attr_set(rec, key, name, &a);
}

int simrec_attr_set_int(simrec_t *rec, const char *key, const char *name,
                        int64_t value)
{
	simrec_attr_t a = {.type = SIMREC_ATTR_INT, .i = value};
	return attr_set(rec, key, name, &a);
}

int simrec_attr_set_uint(simrec_t *rec, const char *key, const char *name,
                         uint64_t value)
{
	simrec_attr_t a = {.type = SIMREC_ATTR_UINT, .u = value};
	return attr_set(rec, key, name, &a);
}

int simrec_attr_set_bool(simrec_t *rec, const char *key, const char *name,
                         int value)
{
	simrec_attr_t a = {.type = SIMREC_ATTR_BOOL, .i = value != 0};
	return attr_set(rec, key, name, &a);
}

int simrec_attr_set_array(simrec_t *rec, const char *key, const char *name,
                          simrec_dtype_t dt, size_t count, const void *data)
{
	simrec_attr_t a = {.type = SIMREC_ATTR_ARRAY,
	                   .dtype = dt,
	                   .count = count,
	                   .data = (void *)data};
	return simrec_attr_set(rec, key, name, &a);
}

int simrec_attr_set(simrec_t *rec, const char *key, const char *name,
                    const simrec_attr_t *a)
{
	if (!rec || !a)
		return SIMREC_EINVAL;
	int rc = sr_attr_check(a, &rec->err);
	return rc ? rc : attr_set(rec, key, name, a);
}

int simrec_attr_set_string(simrec_t *rec, const char *key, const char *name,
                           const char *value)
{
	if (!value)
		return SIMREC_EINVAL;
	simrec_attr_t a = {.type = SIMREC_ATTR_STRING, .s = (char *)value};
	return attr_set(rec, key, name, &a);
}

/* Reads need a store: on a recorder opened over a communicator only the
 * writer ranks hold one. */
int sr_check_readable(simrec_t *rec);
int sr_check_readable(simrec_t *rec)
{
	if (rec->comm != MPI_COMM_NULL)
		sr_agg_io_wait(rec);
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
	key = norm_key(key);
	sr_store *st = rec->st[0];
	int rc = sr_lock_read_begin(st);
	if (!rc)
		rc = st->ops->attr_get(st, key, name, out);
	sr_lock_read_end(st);
	if (rc == SIMREC_ENOKEY)
		sr_fail(&rec->err, rc, "no attribute '%s' on '%s' in '%s'",
		        name, *key ? key : "/", st->uri.path);
	return rc;
}

void simrec_attr_clear(simrec_attr_t *a)
{
	if (a) {
		free(a->s);
		free(a->data);
		a->s = NULL;
		a->data = NULL;
	}
}

int simrec_attr_list(simrec_t *rec, const char *key,
                     int (*fn)(const char *name, void *arg), void *arg)
{
	if (!rec || !fn)
		return SIMREC_EINVAL;
	if (sr_check_readable(rec))
		return SIMREC_ENOTSUP;
	key = norm_key(key);
	int rc = sr_lock_read_begin(rec->st[0]);
	if (!rc)
		rc = rec->st[0]->ops->attr_list(rec->st[0], key, fn, arg);
	sr_lock_read_end(rec->st[0]);
	if (rc == SIMREC_ENOKEY)
		sr_fail(&rec->err, rc, "no key '%s' in '%s'", key,
		        rec->st[0]->uri.path);
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
	int rc = sr_lock_read_begin(rec->st[0]);
	if (!rc)
		rc = rec->st[0]->ops->list(rec->st[0], norm_key(prefix), fn,
		                           arg);
	sr_lock_read_end(rec->st[0]);
	return rc;
}

/* Used by dataset.c: make key's buffered rows visible to readers. */
int sr_flush_key(simrec_t *rec, const char *key);
int sr_flush_key(simrec_t *rec, const char *key)
{
	sr_dset *d = sr_dset_find(rec, key);
	return d ? sr_dset_flush(rec, d) : 0;
}
