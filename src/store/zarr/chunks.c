/* zarr's chunks: keys, writes (whole or read-modify-write), encoded frames,
 * vlen items, reads, the size summary and the check of every chunk. */
#include <string.h>

#include "../../common/clock.h"
#include "../../common/size.h"
#include "zarr.h"

/* Chunk key "key/i.j.k", or "key/i/j/k" with dimension_separator "/"
 * ("key/0" for a 0-d array). */
void zarr_chunk_key(char *buf, size_t cap, const zds *d, int ndim,
                    const size_t *idx)
{
	int n = snprintf(buf, cap, "%s%s", d->key, *d->key ? "/" : "");
	if (ndim == 0)
		snprintf(buf + n, cap - (size_t)n, "0");
	for (int i = 0; i < ndim && n >= 0 && (size_t)n < cap; i++)
		n += snprintf(buf + n, cap - (size_t)n, "%s%zu",
		              i ? (d->sep == '/' ? "/" : ".") : "", idx[i]);
}

/* Chunk keys of one dataset at or past a chunk row, to delete. */
typedef struct drop_ctx {
	const zds *d;
	int ndim;
	size_t plen, row; /* prefix "key/" length; first chunk row dropped */
	sr_strv keys;
	int rc;
} drop_ctx;

/* k is "key/i.j.k" (or "key/i/j/k"): ndim decimal indices, the first >=
 * c->row. Anything else under the prefix (.zattrs, foreign files) stays. */
static int drop_cb(const char *k, void *arg)
{
	drop_ctx *c = arg;
	const char *p = k + c->plen;
	size_t first = 0;
	for (int i = 0; i < c->ndim; i++) {
		if (i && *p++ != c->d->sep)
			return 0;
		if (*p < '0' || *p > '9')
			return 0;
		char *end;
		unsigned long long x = strtoull(p, &end, 10);
		if (!i)
			first = (size_t)x;
		p = end;
	}
	if (*p || first < c->row)
		return 0;
	return c->rc = sr_strv_add(&c->keys, k);
}

/* A cut dataset (simrec_truncate): its chunk objects wholly past the new
 * shape are deleted (as zarr-python's resize does), so that a later
 * larger shape never shows the cut records again. */
static int drop_chunks(sr_store *st, zds *d, const sr_meta *m)
{
	zarr_store *z = st->impl;
	char *prefix = zarr_cat_key(d->key, "");
	if (!prefix)
		return SIMREC_ENOMEM;
	drop_ctx c = {.d = d, .ndim = m->ndim, .plen = strlen(prefix)};
	c.row = m->shape[0] / m->chunks[0] + (m->shape[0] % m->chunks[0] != 0);
	int rc = z->kvo->list(z->kv, prefix, drop_cb, &c);
	if (!rc)
		rc = c.rc;
	for (size_t i = 0; i < c.keys.n && !rc; i++)
		rc = z->kvo->del(z->kv, c.keys.v[i]);
	sr_strv_free(&c.keys);
	free(prefix);
	if (rc == SIMREC_ENOMEM)
		sr_fail(st->err, rc, "out of memory cutting '%s'", d->key);
	return rc;
}

static int update_shape(sr_store *st, zds *d, const sr_meta *m)
{
	if (!st->meta_writer || !m->ndim || d->stored_rows == m->shape[0])
		return 0;
	/* only the shape changes: compressor, fill value and any other
	 * fields (written by zarr-python, say) stay as they are */
	json_t *j = NULL;
	int rc = zarr_get_json(st->impl, d->key, ".zarray", &j, st->err);
	if (!rc)
		rc = json_object_set_new(j, "shape",
		                         zarr_size_array(m->ndim, m->shape))
		             ? SIMREC_ENOMEM
		             : zarr_put_json(st->impl, d->key, ".zarray", j,
		                             st->err);
	json_decref(j);
	/* several writers: chunks past the extent are others' steps */
	if (!rc && m->shape[0] < d->stored_rows && !st->hold_extent)
		rc = drop_chunks(st, d, m);
	if (!rc)
		d->stored_rows = m->shape[0];
	return rc;
}

/* Overlap of chunk idx with the selection: in-chunk start, in-selection
 * start, count. */
void zarr_overlap(int ndim, const size_t *chunks, const size_t *idx,
                  const size_t *start, const size_t *count, size_t *cstart,
                  size_t *sstart, size_t *n)
{
	for (int i = 0; i < ndim; i++) {
		size_t c0 = idx[i] * chunks[i], c1 = c0 + chunks[i];
		size_t s0 = start[i], s1 = start[i] + count[i];
		size_t a = c0 > s0 ? c0 : s0, b = c1 < s1 ? c1 : s1;
		cstart[i] = a - c0;
		sstart[i] = a - s0;
		n[i] = b - a;
	}
}

/* One write of whole chunks: what every chunk of it needs. */
typedef struct wctx {
	sr_store *st;
	zds *d;
	const sr_meta *m;
	const size_t *start, *count, *lo, *hi;
	const void *data;
	size_t cbytes, isz;
	int threads; /* workers (1: the serial path, the store's buffer) */
	/* time in encoding (serial only: put_threads) and in the kv layer,
	 * per worker */
	double t_encode, t_write[SR_POOL_MAX];
} wctx;

/* Encode one chunk and put it; no codec: its bytes go to the store as
 * they are (no copy into a buffer). A compressed write is serial
 * (put_threads): it encodes into the store's buffer. */
static int put_chunk(wctx *w, const char *ck, const void *src, int worker)
{
	zarr_store *z = w->st->impl;
	const zds *d = w->d;
	const void *out = src;
	size_t clen = w->cbytes;
	int rc = 0;
	if (strcmp(d->codec.cname, "none")) { /* serial: put_threads */
		double t0 = sr_clock();
		rc = sr_codec_encode(&d->codec, w->isz, src, w->cbytes,
		                     &z->cbuf, &z->ccap, &clen, w->st->err);
		out = z->cbuf;
		w->t_encode += sr_clock() - t0;
	}
	double t1 = sr_clock();
	if (!rc)
		rc = z->kvo->put(z->kv, ck, out, clen);
	w->t_write[worker] += sr_clock() - t1;
	return rc;
}

/* A chunk stored raw (no codec) that is not one contiguous run of the
 * caller's data: assembled straight into the store's page where the kv
 * layer offers that (LMDB: MDB_RESERVE), not in a buffer and then copied
 * again by put. The region outside the selection is zero, as in an
 * assembled chunk. */
static int reserve_chunk(wctx *w, const char *ck, const size_t *cst,
                         const size_t *sst, const size_t *n, int full)
{
	zarr_store *z = w->st->impl;
	const sr_meta *m = w->m;
	double t0 = sr_clock();
	void *page;
	int rc = z->kvo->reserve(z->kv, ck, w->cbytes, &page);
	if (!rc) {
		if (!full)
			memset(page, 0, w->cbytes);
		sr_copy_region(m->ndim, w->isz, w->data, w->count, sst, page,
		               m->chunks, cst, n);
	}
	w->t_write[0] += sr_clock() - t0;
	return rc;
}

/* Write chunk idx of the selection: compressed in place when it is one
 * contiguous run of the caller's data, else assembled (padded with zero)
 * in the worker's buffer *buf (capacity *cap). */
static int write_chunk(wctx *w, const size_t *idx, void **buf, size_t *cap,
                       int worker)
{
	zarr_store *z = w->st->impl;
	const sr_meta *m = w->m;
	int nd = m->ndim;
	size_t cst[SIMREC_MAX_NDIM], sst[SIMREC_MAX_NDIM], n[SIMREC_MAX_NDIM];
	zarr_overlap(nd, m->chunks, idx, w->start, w->count, cst, sst, n);
	int full = 1;
	for (int i = 0; i < nd; i++)
		full &= n[i] == m->chunks[i];
	int contiguous = sr_region_contiguous(nd, n, w->count);
	char ck[4096];
	zarr_chunk_key(ck, sizeof ck, w->d, nd, idx);
	if (!(full && contiguous) && z->kvo->reserve &&
	    !strcmp(w->d->codec.cname, "none"))
		return reserve_chunk(w, ck, cst, sst, n, full);
	const void *src;
	if (full && contiguous) {
		size_t off = 0;
		for (int i = 0; i < nd; i++)
			off = off * w->count[i] + sst[i];
		src = (const char *)w->data + off * w->isz;
	} else {
		if (sr_grow(buf, cap, w->cbytes))
			return sr_fail(w->st->err, SIMREC_ENOMEM,
			               "out of memory");
		if (!full)
			memset(*buf, 0, w->cbytes);
		sr_copy_region(nd, w->isz, w->data, w->count, sst, *buf,
		               m->chunks, cst, n);
		src = *buf;
	}
	return put_chunk(w, ck, src, worker);
}

/* Several chunks put at once: the items, the first failure. */
typedef struct par_put {
	int (*fn)(void *arg, size_t i, int worker);
	void *arg;
	int rc;
	sr_err err;
} par_put;

static void par_put_one(void *arg, size_t i, int worker)
{
	par_put *p = arg;
	if (__atomic_load_n(&p->rc, __ATOMIC_RELAXED))
		return; /* another chunk failed: the write fails */
	sr_err e = {{0}};
	sr_err *prev = sr_err_redirect(&e);
	int rc = p->fn(p->arg, i, worker);
	sr_err_redirect(prev);
	int none = 0;
	if (rc &&
	    __atomic_compare_exchange_n(&p->rc, &none, rc, 0, __ATOMIC_ACQ_REL,
	                                __ATOMIC_ACQUIRE))
		p->err = e;
}

/* Workers for a write of n chunks of bytes in all: the `threads` setting
 * where the kv layer takes concurrent puts (zarr+dir: the copies into the
 * page cache of a writer's chunk files run on several cores, as several
 * ranks writing their own files would) and nothing is compressed here
 * (blosc compresses under one global lock: the chunks would take turns,
 * each on one thread instead of `threads`), at most one per MiB written
 * (a thread costs more than a small write); else 1. */
#define PUT_BYTES_PER_THREAD ((size_t)1 << 20)
static int put_threads(sr_store *st, const zds *d, size_t n, size_t bytes,
                       int compress)
{
	const zarr_store *z = st->impl;
	size_t t = (size_t)d->codec.nthreads;
	if (!z->kvo->concurrent_put || d->staged || compress)
		return 1;
	if (t > SR_POOL_MAX)
		t = SR_POOL_MAX;
	if (t > n)
		t = n;
	if (t > bytes / PUT_BYTES_PER_THREAD)
		t = bytes / PUT_BYTES_PER_THREAD;
	return t < 2 ? 1 : (int)t;
}

/* Run fn for items 0..n-1 on threads workers (1: in order on this thread,
 * stopping at the first failure); the first failure's status, its message
 * in st->err. */
static int put_all(sr_store *st, int threads, size_t n,
                   int (*fn)(void *arg, size_t i, int worker), void *arg)
{
	if (threads < 2) {
		int rc = 0;
		for (size_t i = 0; i < n && !rc; i++)
			rc = fn(arg, i, 0);
		return rc;
	}
	par_put p = {.fn = fn, .arg = arg};
	sr_parallel(threads, n, par_put_one, &p);
	if (p.rc)
		memcpy(sr_err_target(st->err), &p.err, sizeof p.err);
	return p.rc;
}

static int chunk_item(void *arg, size_t i, int worker)
{
	wctx *w = arg;
	zarr_store *z = w->st->impl;
	int nd = w->m->ndim;
	/* item i of the chunk grid lo..hi, the last index fastest */
	size_t idx[SIMREC_MAX_NDIM], r = i;
	for (int k = nd - 1; k >= 0; k--) {
		size_t span = w->hi[k] - w->lo[k] + 1;
		idx[k] = w->lo[k] + r % span;
		r /= span;
	}
	/* the serial path: the store's buffer, else the worker's */
	if (w->threads > 1)
		return write_chunk(w, idx, &z->wb[worker].chunk,
		                   &z->wb[worker].chcap, worker);
	return write_chunk(w, idx, &z->chunk, &z->chcap, worker);
}

/* Room for threads workers' buffers (kept for the next write). */
static int grow_wb(zarr_store *z, int threads)
{
	if (threads <= z->nwb)
		return 0;
	zarr_wbuf *x = realloc(z->wb, (size_t)threads * sizeof *x);
	if (!x)
		return SIMREC_ENOMEM;
	memset(x + z->nwb, 0, (size_t)(threads - z->nwb) * sizeof *x);
	z->wb = x;
	z->nwb = threads;
	return 0;
}

static int write_chunks(sr_store *st, void *ds, const sr_meta *m,
                        const size_t *start, const size_t *count,
                        const void *data)
{
	zarr_store *z = st->impl;
	zds *d = ds;
	int nd = m->ndim;
	size_t lo[SIMREC_MAX_NDIM], hi[SIMREC_MAX_NDIM], nchunks = 1;
	for (int i = 0; i < nd; i++) {
		if (!count[i]) {
			/* no data: only publish the extent (a commit mark) */
			int rc = d->txn_open ? 0 : zarr_begin(z);
			d->txn_open = 0;
			if (rc)
				return rc;
			rc = update_shape(st, d, m);
			return rc ? (z->kvo->abort(z->kv), rc)
			          : z->kvo->commit(z->kv);
		}
		lo[i] = start[i] / m->chunks[i];
		hi[i] = (start[i] + count[i] - 1) / m->chunks[i];
		nchunks *= hi[i] - lo[i] + 1; /* <= the elements written */
	}
	wctx wc = {.st = st,
	           .d = d,
	           .m = m,
	           .start = start,
	           .count = count,
	           .lo = lo,
	           .hi = hi,
	           .data = data,
	           .isz = simrec_dtype_size(m->dtype),
	           .threads = 1};
	wctx *w = &wc;
	int rc = 0;
	if (sr_size_prod(nd, m->chunks, w->isz, &w->cbytes))
		return sr_fail(st->err, SIMREC_EINVAL,
		               "'%s': chunk size overflows", d->key);
	/* the chunks' bytes (a partial chunk counted whole): the write's
	 * size, for the number of workers */
	size_t bytes = nchunks > SR_SIZE_MAX / w->cbytes ? SR_SIZE_MAX
	                                                 : nchunks * w->cbytes;
	int threads = w->threads = put_threads(
	        st, d, nchunks, bytes, strcmp(d->codec.cname, "none") != 0);
	if (threads > 1 && grow_wb(z, threads))
		return sr_fail(st->err, SIMREC_ENOMEM, "out of memory");
	rc = d->txn_open ? 0 : zarr_begin(z); /* see zarr_create */
	d->txn_open = 0;
	if (rc)
		return rc;
	rc = put_all(st, threads, nchunks, chunk_item, w);
	double tw = 0;
	for (int i = 0; i < threads; i++)
		tw = w->t_write[i] > tw ? w->t_write[i] : tw;
	st->t_encode += w->t_encode;
	st->t_write += tw; /* the slowest worker's: time the write took */
	if (!rc)
		rc = update_shape(st, d, m);
	if (rc) {
		z->kvo->abort(z->kv);
		return rc;
	}
	double t0 = sr_clock();
	rc = z->kvo->commit(z->kv);
	st->t_write += sr_clock() - t0; /* LMDB writes its pages here */
	return rc;
}

/* A staged value (simrec_set, simrec_set_bytes) is published (swapped in
 * whole) once its chunks are written, or dropped if they are not. */
static int published(zarr_store *z, zds *d, int rc)
{
	if (!d->staged)
		return rc;
	d->staged = 0;
	if (rc)
		z->kvo->unstage(z->kv);
	else
		rc = z->kvo->publish(z->kv);
	return rc;
}

int zarr_write(sr_store *st, void *ds, const sr_meta *m, const size_t *start,
               const size_t *count, const void *data)
{
	zarr_store *z = st->impl;
	zds *d = ds;
	int rc = write_chunks(st, ds, m, start, count, data);
	if (d->txn_open) { /* returned before its transaction */
		d->txn_open = 0;
		rc = rc ? (z->kvo->abort(z->kv), rc) : z->kvo->commit(z->kv);
	}
	return published(z, d, rc);
}

int zarr_encoded_codec(sr_store *st, void *ds, sr_codec *c)
{
	SR_UNUSED(st);
	const zds *d = ds;
	if (!d->compressed || !strcmp(d->codec.cname, "none"))
		return 0;
	*c = d->codec;
	return 1;
}

typedef struct enc_put {
	zarr_store *z;
	zds *d;
	int ndim;
	const size_t *idx, *lens;
	const void *const *frames;
} enc_put;

static int enc_item(void *arg, size_t i, int worker)
{
	SR_UNUSED(worker);
	enc_put *p = arg;
	char ck[4096];
	zarr_chunk_key(ck, sizeof ck, p->d, p->ndim,
	               p->idx + i * (size_t)p->ndim);
	return p->z->kvo->put(p->z->kv, ck, p->frames[i], p->lens[i]);
}

/* Chunk objects already encoded (blosc frames, as numcodecs writes
 * them): put unchanged, then the extent, in one transaction. */
int zarr_write_encoded(sr_store *st, void *ds, const sr_meta *m, size_t n,
                       const size_t *idx, const void *const *frames,
                       const size_t *lens)
{
	zarr_store *z = st->impl;
	zds *d = ds;
	int rc = zarr_begin(z);
	if (rc)
		return rc;
	double t0 = sr_clock();
	enc_put p = {z, d, m->ndim, idx, lens, frames};
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++)
		bytes += lens[i]; /* each below its chunk's bound: no wrap */
	rc = put_all(st, put_threads(st, d, n, bytes, 0), n, enc_item, &p);
	if (!rc)
		rc = update_shape(st, d, m);
	if (rc) {
		z->kvo->abort(z->kv);
		return rc;
	}
	rc = z->kvo->commit(z->kv);
	st->t_write += sr_clock() - t0;
	return rc;
}

int zarr_write_vlen(sr_store *st, void *ds, const sr_meta *m, size_t row0,
                    size_t n, const sr_blob *items)
{
	zarr_store *z = st->impl;
	zds *d = ds;
	size_t c = m->chunks[0];
	int rc = d->txn_open ? 0 : zarr_begin(z); /* see zarr_create */
	d->txn_open = 0;
	if (rc)
		return published(z, d, rc);
	static const sr_blob empty = {NULL, 0};
	sr_blob *pad = calloc(c, sizeof *pad);
	if (!pad)
		rc = SIMREC_ENOMEM;
	for (size_t r = row0; !rc && r < row0 + n; r += c - r % c) {
		size_t ci = r / c, first = ci * c;
		for (size_t i = 0; i < c; i++) {
			size_t row = first + i;
			pad[i] = row >= row0 && row < row0 + n
			                 ? items[row - row0]
			                 : empty;
		}
		/* chunks at the end of the array hold c items too (zarr pads)
		 */
		void *enc;
		size_t elen, clen;
		if (sr_vlen_encode(pad, c, &enc, &elen)) {
			rc = sr_fail(st->err, SIMREC_ENOMEM, "out of memory");
			break;
		}
		rc = sr_codec_encode(&d->codec, 1, enc, elen, &z->cbuf,
		                     &z->ccap, &clen, st->err);
		free(enc);
		char ck[4096];
		zarr_chunk_key(ck, sizeof ck, d, 1, &ci);
		if (!rc)
			rc = z->kvo->put(z->kv, ck, z->cbuf, clen);
	}
	free(pad);
	if (!rc)
		rc = update_shape(st, d, m);
	rc = rc ? (z->kvo->abort(z->kv), rc) : z->kvo->commit(z->kv);
	return published(z, d, rc);
}

int zarr_read_vlen(sr_store *st, void *ds, const sr_meta *m, size_t index,
                   sr_blob *out)
{
	zarr_store *z = st->impl;
	zds *d = ds;
	size_t ci = index / m->chunks[0];
	char ck[4096];
	zarr_chunk_key(ck, sizeof ck, d, 1, &ci);
	int rc = zarr_read_begin(z);
	if (rc)
		return rc;
	const void *v;
	size_t len;
	/* vlen items have no size in the metadata: the chunk's own bound */
	rc = z->kvo->get(z->kv, ck, SR_ZARR_VLEN_CHUNK_MAX, &v, &len);
	void *dec = NULL;
	size_t dlen = len;
	if (!rc && d->compressed) {
		dlen = sr_codec_decoded_size(v, len);
		dec = malloc(dlen ? dlen : 1);
		if (!dec)
			rc = SIMREC_ENOMEM;
		else
			rc = sr_codec_decode(1, v, len, dec, dlen, 1, st->err);
	}
	/* numcodecs writes every row of the chunk: an item count past the
	 * chunk's rows, or short of the recorded ones, is no chunk of ours */
	size_t c0 = m->chunks[0], k0 = index - index % c0,
	       cnt = rc ? 0 : sr_vlen_count(dec ? dec : v, dlen),
	       need = m->shape[0] - k0 < c0 ? m->shape[0] - k0 : c0;
	if (!rc && (cnt > c0 || cnt < need)) {
		rc = sr_fail(st->err, SIMREC_EFORMAT,
		             "chunk '%s' of '%s' is corrupt: %zu items, the "
		             "chunk has %zu rows",
		             ck, st->uri.path, cnt, c0);
		free(dec);
		z->kvo->read_end(z->kv);
		return rc;
	}
	if (!rc)
		rc = sr_vlen_item(dec ? dec : v, dlen, index % m->chunks[0],
		                  out);
	if (rc == SIMREC_ENOKEY) {
		out->data = calloc(1, 1);
		out->len = 0;
		rc = out->data ? 0 : SIMREC_ENOMEM;
	} else if (rc == SIMREC_EFORMAT) {
		sr_fail(st->err, rc, "chunk '%s' of '%s' is corrupt", ck,
		        st->uri.path);
	}
	free(dec);
	z->kvo->read_end(z->kv);
	return rc;
}

long long zarr_disk_bytes(sr_store *st)
{
	zarr_store *z = st->impl;
	return z->kvo->disk_bytes(z->kv);
}

typedef struct sum_ctx {
	zarr_store *z;
	long long bytes, chunks;
	size_t max; /* a chunk's bound (a bigger one is not counted) */
} sum_ctx;

static int sum_cb(const char *k, void *arg)
{
	sum_ctx *c = arg;
	const char *leaf = strrchr(k, '/');
	const void *v;
	size_t n;
	if (leaf && leaf[1] != '.' &&
	    !c->z->kvo->get(c->z->kv, k, c->max, &v, &n)) {
		c->bytes += (long long)n;
		c->chunks++;
	}
	return 0;
}

char *zarr_describe(sr_store *st, void *ds, const sr_meta *m)
{
	zarr_store *z = st->impl;
	zds *d = ds;
	json_t *j = NULL;
	char *prefix = zarr_cat_key(d->key, "");
	size_t cbytes, isz = simrec_dtype_size(m->dtype);
	sum_ctx c = {z, 0, 0,
	             isz && !sr_size_prod(m->ndim, m->chunks, isz, &cbytes)
	                     ? zarr_stored_max(cbytes)
	                     : SR_ZARR_VLEN_CHUNK_MAX};
	if (!prefix || zarr_read_begin(z)) {
		free(prefix);
		return NULL;
	}
	zarr_get_json(z, d->key, ".zarray", &j, st->err);
	/* chunk keys are "key/i.j" with no further '/' */
	z->kvo->list(z->kv, prefix, sum_cb, &c);
	z->kvo->read_end(z->kv);
	free(prefix);
	json_t *o = json_object();
	json_object_set(o, "compressor", json_object_get(j, "compressor"));
	json_object_set(o, "filters", json_object_get(j, "filters"));
	json_object_set_new(o, "stored_bytes", json_integer(c.bytes));
	json_object_set_new(o, "stored_chunks", json_integer(c.chunks));
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	json_decref(j);
	return text;
}

/* Every chunk inside the shape present and decoding (vlen: present). */
/* A chunk as zarr_check finds it: NULL if sound (decoded into z->chunk
 * when decode is set, else only its size and frame header checked). */
static const char *chunk_flaw(sr_store *st, zds *d, const void *v, size_t len,
                              size_t expect, int decode)
{
	zarr_store *z = st->impl;
	int bad;
	if (decode)
		bad = sr_codec_decode(d->compressed, v, len, z->chunk, expect,
		                      st->codec.nthreads, st->err) != 0;
	else if (d->compressed)
		bad = sr_codec_frame_check(v, len, expect, NULL, st->err) != 0;
	else if ((bad = len != expect))
		sr_fail(st->err, SIMREC_EFORMAT,
		        "raw chunk has %zu bytes, expected %zu", len, expect);
	if (!bad)
		return NULL;
	return d->compressed ? "chunk short or does not decode" : "chunk short";
}

static int check_chunks(sr_store *st, void *ds, const sr_meta *m, size_t *whole,
                        int decode)
{
	zarr_store *z = st->impl;
	zds *d = ds;
	int nd = m->ndim;
	*whole = nd ? m->shape[0] : 1;
	size_t isz = simrec_dtype_size(m->dtype), celems = 1;
	size_t lo[SIMREC_MAX_NDIM] = {0}, hi[SIMREC_MAX_NDIM],
	       idx[SIMREC_MAX_NDIM] = {0};
	for (int i = 0; i < nd; i++) {
		if (!m->shape[i] || !m->chunks[i])
			return 0;
		celems *= m->chunks[i];
		hi[i] = (m->shape[i] - 1) / m->chunks[i];
	}
	if (!nd)
		return 0;
	if (isz && sr_grow(&z->chunk, &z->chcap, celems * isz))
		return sr_fail(st->err, SIMREC_ENOMEM, "out of memory");
	int rc = zarr_read_begin(z);
	if (rc)
		return rc;
	sr_torn t = {0};
	char ck[4096];
	do {
		if (sr_torn_stop(&t, m, idx[0]))
			break;
		zarr_chunk_key(ck, sizeof ck, d, nd, idx);
		const void *v;
		size_t len;
		int r = z->kvo->get(z->kv, ck,
		                    isz ? zarr_stored_max(celems * isz)
		                        : SR_ZARR_VLEN_CHUNK_MAX,
		                    &v, &len);
		const char *why = r == SIMREC_ENOKEY ? "chunk missing"
		                  : r                ? "chunk unreadable"
		                                     : NULL;
		if (!r && isz)
			why = chunk_flaw(st, d, v, len, celems * isz, decode);
		if (why && !t.nbad)
			snprintf(t.first, sizeof t.first, "'%.100s': %.100s",
			         ck, r || !isz ? why : st->err->msg);
		if (why)
			sr_torn_add(&t, m, idx[0], why);
	} while (sr_chunk_next(nd, lo, hi, idx));
	z->kvo->read_end(z->kv);
	return sr_store_torn(st, d->key, m, &t, whole);
}

int zarr_check(sr_store *st, void *ds, const sr_meta *m, size_t *whole)
{
	return check_chunks(st, ds, m, whole, 1);
}

int zarr_check_stored(sr_store *st, void *ds, const sr_meta *m, size_t *whole)
{
	return check_chunks(st, ds, m, whole, 0);
}
