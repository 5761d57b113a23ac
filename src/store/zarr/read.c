/* zarr's reads: a selection's chunks fetched in the order they are stored,
 * then decoded on up to `threads` threads, straight into the caller's
 * buffer where a chunk is one contiguous run of it (else through a
 * scratch chunk per thread). */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../common/clock.h"
#include "zarr.h"

/* A directory store holds the bytes it fetched until read_end: a batch
 * stops at this many stored bytes (LMDB's are pointers into its map). */
#define DIR_BATCH_BYTES ((size_t)64 << 20)

/* LMDB: chunks whose pages are asked ahead of their decoding, so that the
 * disk reads them while earlier ones decode. */
#define AHEAD 8
/* chunks of a slice asked of the disk together (ask_runs; a layer of
 * files keeps that many open from the ask to the get) */
#define RUNS_AHEAD SR_KV_ASK_MAX

typedef struct rchunk {
	size_t idx[SIMREC_MAX_NDIM];
	const void *v; /* stored bytes; NULL: missing (reads as the fill) */
	size_t len;
} rchunk;

typedef struct rjob {
	sr_store *st;
	const zds *d;
	const sr_meta *m;
	const size_t *start, *count;
	void *buf;
	size_t isz, cbytes;
	rchunk *c;
	size_t n;   /* chunks in this batch */
	int mapped; /* values are pages of the store's map (LMDB) */
	int inner;  /* blosc threads inside one decode */
	void *scratch[SR_POOL_MAX];
	double t_decode[SR_POOL_MAX];
	pthread_mutex_t mu;
	int rc; /* the first failure; its message in st->err */
} rjob;

static void fail_once(rjob *j, int rc, const sr_err *e)
{
	pthread_mutex_lock(&j->mu);
	if (!__atomic_load_n(&j->rc, __ATOMIC_RELAXED)) {
		*j->st->err = *e;
		__atomic_store_n(&j->rc, rc, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&j->mu);
}

/* Where chunk c decodes: the caller's buffer if the chunk is whole and
 * one contiguous run of the selection, else this worker's scratch. */
static void *target(rjob *j, const size_t *sst, const size_t *n, int worker,
                    int *direct)
{
	const sr_meta *m = j->m;
	int full = 1;
	for (int i = 0; i < m->ndim; i++)
		full &= n[i] == m->chunks[i];
	*direct = full && sr_region_contiguous(m->ndim, n, j->count);
	if (*direct) {
		size_t off = 0;
		for (int i = 0; i < m->ndim; i++)
			off = off * j->count[i] + sst[i];
		return (char *)j->buf + off * j->isz;
	}
	if (!j->scratch[worker])
		j->scratch[worker] = malloc(j->cbytes ? j->cbytes : 1);
	return j->scratch[worker];
}

/* Ask the kernel to read chunk i's pages now (MADV_WILLNEED): a page
 * fault in the map reads only a little around it, synchronously. */
static void ask_ahead(const rjob *j, size_t i)
{
	if (!j->mapped || i >= j->n || !j->c[i].v)
		return;
	uintptr_t ps = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)j->c[i].v, b = a + j->c[i].len;
	a -= a % ps;
	madvise((void *)a, b - a, MADV_WILLNEED);
}

static void decode_one(void *arg, size_t i, int worker)
{
	rjob *j = arg;
	const sr_meta *m = j->m;
	const rchunk *c = &j->c[i];
	if (__atomic_load_n(&j->rc, __ATOMIC_RELAXED))
		return; /* another chunk failed: the read fails */
	ask_ahead(j, i + AHEAD);
	double t0 = sr_clock();
	size_t cst[SIMREC_MAX_NDIM], sst[SIMREC_MAX_NDIM], n[SIMREC_MAX_NDIM];
	zarr_overlap(m->ndim, m->chunks, c->idx, j->start, j->count, cst, sst,
	             n);
	int direct;
	void *dst = target(j, sst, n, worker, &direct);
	sr_err e = {{0}};
	int rc = dst ? 0 : sr_fail(&e, SIMREC_ENOMEM, "out of memory");
	if (!rc && !c->v)
		for (size_t k = 0; k < j->cbytes / j->isz; k++)
			memcpy((char *)dst + k * j->isz, j->d->fill, j->isz);
	else if (!rc)
		rc = sr_codec_decode(j->d->compressed, c->v, c->len, dst,
		                     j->cbytes, j->inner, &e);
	if (!rc && !direct)
		sr_copy_region(m->ndim, j->isz, dst, m->chunks, cst, j->buf,
		               j->count, sst, n);
	if (rc) {
		char ck[4096];
		zarr_chunk_key(ck, sizeof ck, j->d, m->ndim, c->idx);
		if (rc != SIMREC_ENOMEM)
			sr_wrap(&e, rc, "chunk '%s' of '%s' is corrupt", ck,
			        j->st->uri.path);
		fail_once(j, rc, &e);
	}
	j->t_decode[worker] += sr_clock() - t0;
}

/* Is the selection's part of chunk idx one contiguous run, small enough
 * to decode alone? Its first item and length in the chunk, and where it
 * lands (sst, n: as zarr_overlap). */
static int run_of(const rjob *j, const size_t *idx, size_t *off, size_t *run,
                  size_t *sst, size_t *n)
{
	const sr_meta *m = j->m;
	size_t cst[SIMREC_MAX_NDIM];
	zarr_overlap(m->ndim, m->chunks, idx, j->start, j->count, cst, sst, n);
	int nd = m->ndim;
	if (!sr_region_contiguous(nd, n, m->chunks))
		return 0;
	*off = 0;
	*run = 1;
	for (int k = 0; k < nd; k++) {
		*off = *off * m->chunks[k] + cst[k];
		*run *= n[k];
	}
	/* large runs: a whole decode is as cheap */
	return *run * 4 <= j->cbytes / j->isz;
}

static void will_need(const void *v, size_t lo, size_t hi)
{
	uintptr_t ps = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)v + lo, b = (uintptr_t)v + hi;
	a -= a % ps;
	if (b > a)
		madvise((void *)a, b - a, MADV_WILLNEED);
}

/* A layer of files (kv ask): the next RUNS_AHEAD chunk files of the
 * selection are asked of the disk at once, so that their reads overlap
 * instead of waiting for the disk one file after another. */
static void ask_files(rjob *j, const size_t *lo, const size_t *hi,
                      const size_t *from)
{
	zarr_store *z = j->st->impl;
	const sr_meta *m = j->m;
	size_t idx[SIMREC_MAX_NDIM], k = 0;
	memcpy(idx, from, sizeof idx);
	char ck[4096];
	do {
		zarr_chunk_key(ck, sizeof ck, j->d, m->ndim, idx);
		z->kvo->ask(z->kv, ck);
	} while (++k < RUNS_AHEAD && sr_chunk_next(m->ndim, lo, hi, idx));
}

/* LMDB: the pages that the run decodes of the next RUNS_AHEAD chunks will
 * touch are asked of the disk together (first every frame's header and
 * block table, then the blocks holding the runs), so that a slice
 * through many chunks waits for about two of the disk's latencies, not
 * for two per chunk. Only a hint: every failure is left to the read. */
static void ask_runs(rjob *j, const size_t *lo, const size_t *hi,
                     const size_t *from)
{
	zarr_store *z = j->st->impl;
	const sr_meta *m = j->m;
	if (z->kvo->ask) {
		ask_files(j, lo, hi, from);
		return;
	}
	if (z->kvo != &sr_kv_lmdb || !j->d->compressed)
		return;
	struct {
		const void *v;
		size_t len, off, run;
	} r[RUNS_AHEAD];
	size_t idx[SIMREC_MAX_NDIM], sst[SIMREC_MAX_NDIM], n[SIMREC_MAX_NDIM],
	        nr = 0, a, b;
	memcpy(idx, from, sizeof idx);
	char ck[4096];
	do {
		if (!run_of(j, idx, &r[nr].off, &r[nr].run, sst, n))
			return; /* not a slice of runs: the batch path */
		zarr_chunk_key(ck, sizeof ck, j->d, m->ndim, idx);
		if (!z->kvo->get(z->kv, ck, zarr_stored_max(j->cbytes),
		                 &r[nr].v, &r[nr].len)) {
			will_need(r[nr].v, 0,
			          r[nr].len < 8192 ? r[nr].len : 8192);
			nr++;
		}
	} while (nr < RUNS_AHEAD && sr_chunk_next(m->ndim, lo, hi, idx));
	if (nr < 2)
		return; /* one chunk: nothing to overlap */
	for (size_t i = 0; i < nr; i++)
		if (!sr_codec_items_span(r[i].v, r[i].len, r[i].off, r[i].run,
		                         j->cbytes, &a, &b))
			will_need(r[i].v, a, b);
}

/* A selection that is one contiguous run inside a compressed chunk is
 * decoded alone (only the blosc blocks holding it): slicing a big dataset
 * then costs about what it returns. Returns 1 if it handled the chunk. */
static int read_run(rjob *j, const char *ck, const size_t *idx, int *rc)
{
	sr_store *st = j->st;
	const sr_meta *m = j->m;
	size_t sst[SIMREC_MAX_NDIM], n[SIMREC_MAX_NDIM], off, run;
	int nd = m->ndim;
	if (!run_of(j, idx, &off, &run, sst, n))
		return 0;
	zarr_store *z = st->impl;
	const void *v;
	size_t len, ts = 0;
	*rc = z->kvo->get(z->kv, ck, zarr_stored_max(j->cbytes), &v, &len);
	if (*rc == SIMREC_ENOKEY)
		return 0; /* missing chunk: the general path decides (the
		           * status tells it not to look again) */
	if (!*rc && !sr_codec_frame_check(v, len, j->cbytes, &ts, st->err) &&
	    ts != j->isz)
		return 0; /* another writer's typesize: decode it whole */
	if (!*rc && sr_grow(&z->chunk, &z->chcap, run * j->isz))
		*rc = sr_fail(st->err, SIMREC_ENOMEM, "out of memory");
	if (!*rc)
		*rc = sr_codec_decode_items(v, len, off, run, j->isz, j->cbytes,
		                            z->chunk, st->err);
	if (*rc && *rc != SIMREC_ENOMEM)
		sr_wrap(st->err, *rc, "chunk '%s' of '%s' is corrupt", ck,
		        st->uri.path);
	if (!*rc) {
		size_t zero[SIMREC_MAX_NDIM] = {0};
		sr_copy_region(nd, j->isz, z->chunk, n, zero, j->buf, j->count,
		               sst, n);
		st->r_stored += len;
		st->r_chunks++;
	}
	return 1;
}

/* A chunk inside the selection that is not stored: it reads as the fill
 * value if the .zarray declares one, else it is damage. simrec declares
 * none for numbers: its commit mark publishes a shape only once every
 * chunk under it is stored, so a missing one was lost (deleted, a copy
 * cut short), and zeros in its place would be data nobody recorded. */
static int missing(rjob *j, const char *ck, rchunk *c)
{
	c->v = NULL;
	c->len = 0;
	if (j->d->has_fill)
		return 0;
	return sr_fail(j->st->err, SIMREC_EFORMAT,
	               "chunk '%s' of '%s' is missing in '%s' (inside the "
	               "shape, and the dataset declares no fill value)",
	               ck, j->d->key, j->st->uri.path);
}

/* LMDB's values in the order of their pages in the file (missing chunks
 * first): the disk reads ahead instead of seeking. */
static int by_place(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const rchunk *)a)->v,
	          y = (uintptr_t)((const rchunk *)b)->v;
	return x < y ? -1 : x > y;
}

/* Decode the n chunks fetched into j->c, on up to threads threads. */
static int decode_batch(rjob *j, size_t n, int threads)
{
	sr_store *st = j->st;
	zarr_store *z = st->impl;
	j->n = n;
	j->mapped = z->kvo == &sr_kv_lmdb;
	if (j->mapped)
		qsort(j->c, n, sizeof *j->c, by_place);
	for (size_t i = 0; i < AHEAD; i++)
		ask_ahead(j, i);
	int par = n > 1 && threads > 1;
	j->inner = par ? 1 : threads;
	int used = par ? sr_parallel(threads, n, decode_one, j) : 1;
	for (size_t i = 0; !par && i < n; i++)
		decode_one(j, i, 0);
	if (used > st->r_threads)
		st->r_threads = used;
	return j->rc;
}

/* Fetch the selection's chunks (idx from lo to hi) batch by batch and
 * decode each batch. */
static int read_chunks(rjob *j, size_t *lo, size_t *hi, size_t nchunks)
{
	sr_store *st = j->st;
	zarr_store *z = st->impl;
	const sr_meta *m = j->m;
	size_t idx[SIMREC_MAX_NDIM], nb = 0, bytes = 0, k = 0;
	memcpy(idx, lo, sizeof idx);
	char ck[4096];
	int rc = 0, more = 1;
	while (!rc && more) {
		if (k++ % RUNS_AHEAD == 0)
			ask_runs(j, lo, hi, idx);
		zarr_chunk_key(ck, sizeof ck, j->d, m->ndim, idx);
		double t0 = sr_clock();
		if (!j->d->compressed || !read_run(j, ck, idx, &rc)) {
			rchunk *c = &j->c[nb++];
			memcpy(c->idx, idx, sizeof c->idx);
			if (rc != SIMREC_ENOKEY) /* read_run found it missing */
				rc = z->kvo->get(
				        z->kv, ck,
				        j->d->compressed
				                ? zarr_stored_max(j->cbytes)
				                : j->cbytes,
				        &c->v, &c->len);
			if (rc == SIMREC_ENOKEY)
				rc = missing(j, ck, c);
			bytes += c->len;
		}
		st->r_fetch += sr_clock() - t0;
		more = sr_chunk_next(m->ndim, lo, hi, idx);
		int flush = !more || nb == nchunks ||
		            (z->kvo != &sr_kv_lmdb && bytes >= DIR_BATCH_BYTES);
		if (!rc && nb && flush) {
			rc = decode_batch(j, nb, st->codec.nthreads);
			st->r_chunks += nb;
			st->r_stored += bytes;
			nb = bytes = 0;
			if (more &&
			    z->kvo != &sr_kv_lmdb) { /* free the batch */
				z->kvo->read_end(z->kv);
				rc = rc ? rc : zarr_read_begin(z);
			}
		}
	}
	return rc;
}

int zarr_read(sr_store *st, void *ds, const sr_meta *m, const size_t *start,
              const size_t *count, void *buf)
{
	zarr_store *z = st->impl;
	const zds *d = ds;
	int nd = m->ndim;
	rjob j = {.st = st,
	          .d = d,
	          .m = m,
	          .start = start,
	          .count = count,
	          .buf = buf,
	          .isz = simrec_dtype_size(m->dtype)};
	size_t lo[SIMREC_MAX_NDIM] = {0}, hi[SIMREC_MAX_NDIM] = {0}, n = 1;
	for (int i = 0; i < nd; i++) {
		if (!count[i])
			return 0;
		lo[i] = start[i] / m->chunks[i];
		hi[i] = (start[i] + count[i] - 1) / m->chunks[i];
		n *= hi[i] - lo[i] + 1; /* at most the selection's elements */
	}
	if (sr_size_prod(nd, m->chunks, j.isz, &j.cbytes))
		return sr_fail(st->err, SIMREC_EFORMAT,
		               "'%s' in '%s': chunk size overflows", d->key,
		               st->uri.path);
	/* a batch holds at most 4096 chunks (the rest follow) */
	size_t cap = n < 4096 ? n : 4096;
	j.c = malloc(cap * sizeof *j.c);
	if (!j.c)
		return sr_fail(st->err, SIMREC_ENOMEM, "out of memory");
	pthread_mutex_init(&j.mu, NULL);
	int rc = zarr_read_begin(z);
	if (!rc) {
		rc = read_chunks(&j, lo, hi, cap);
		if (z->kvo->ask) /* forget the files asked, not read */
			z->kvo->ask(z->kv, NULL);
		z->kvo->read_end(z->kv);
	}
	for (int w = 0; w < SR_POOL_MAX; w++) {
		free(j.scratch[w]);
		st->r_decode += j.t_decode[w];
	}
	pthread_mutex_destroy(&j.mu);
	free(j.c);
	return rc;
}
