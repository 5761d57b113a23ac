/* The datastore table: one line per backend. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/codec.h"
#include "../core/internal.h"

extern const sr_store_ops sr_memory_ops;
extern const sr_store_ops sr_zarr_lmdb_ops;
extern const sr_store_ops sr_zarr_dir_ops;
extern const sr_store_ops sr_redis_ops;
#ifdef SIMREC_HAVE_HDF5
extern const sr_store_ops sr_hdf5_ops;
#endif

static const sr_store_ops *const registry[] = {
        &sr_memory_ops, &sr_zarr_lmdb_ops, &sr_zarr_dir_ops, &sr_redis_ops,
#ifdef SIMREC_HAVE_HDF5
        &sr_hdf5_ops,
#endif
};

const sr_store_ops *sr_store_find(const char *scheme)
{
	for (size_t i = 0; i < sizeof registry / sizeof *registry; i++)
		if (!strcmp(registry[i]->scheme, scheme))
			return registry[i];
	return NULL;
}

static int parse_size(const char *v, size_t *out)
{
	char *end;
	unsigned long long x = strtoull(v, &end, 10);
	if (end == v)
		return -1;
	if (*end == 'k' || *end == 'K')
		x <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		x <<= 20, end++;
	else if (*end == 'g' || *end == 'G')
		x <<= 30, end++;
	if (*end)
		return -1;
	*out = (size_t)x;
	return 0;
}

/* Options, then URI parameters on top of them. */
static int apply_params(sr_store *st, const simrec_options_t *o, sr_err *e)
{
	const sr_uri *u = &st->uri;
	st->mode = o->mode;
	/* one file per chunk in a directory store: bigger chunks, fewer
	 * files (measured: 1 MiB chunk files halve the bandwidth) */
	st->chunk_bytes = o->chunk_bytes                   ? o->chunk_bytes
	                  : !strcmp(u->scheme, "zarr+dir") ? (8u << 20)
	                                                   : (1u << 20);
	snprintf(st->codec.cname, sizeof st->codec.cname, "%s",
	         o->codec ? o->codec
	         : !strcmp(u->scheme, "hdf5") || !strcmp(u->scheme, "redis")
	                 ? "none"
	                 : "lz4");
	st->codec.level = o->level;
	st->codec.shuffle = (int)o->shuffle;
	st->codec.nthreads = o->nthreads > 0 ? o->nthreads : 2;
	for (int i = 0; i < u->nparams; i++) {
		const char *k = u->keys[i], *v = u->vals[i];
		char *end = NULL;
		if (!strcmp(k, "codec")) {
			snprintf(st->codec.cname, sizeof st->codec.cname, "%s",
			         v);
		} else if (!strcmp(k, "level")) {
			st->codec.level = (int)strtol(v, &end, 10);
		} else if (!strcmp(k, "shuffle")) {
			st->codec.shuffle = !strcmp(v, "none")   ? 0
			                    : !strcmp(v, "byte") ? 1
			                    : !strcmp(v, "bit")  ? 2
			                                         : -1;
		} else if (!strcmp(k, "threads")) {
			st->codec.nthreads = (int)strtol(v, &end, 10);
		} else if (!strcmp(k, "chunk_bytes")) {
			if (parse_size(v, &st->chunk_bytes))
				end = (char *)v;
		} else if (!strcmp(k, "mode")) {
			st->mode = !strcmp(v, "r")   ? SIMREC_MODE_READONLY
			           : !strcmp(v, "w") ? SIMREC_MODE_CREATE
			           : !strcmp(v, "a") ? SIMREC_MODE_APPEND
			                             : (simrec_mode_t)-1;
		} else if (strcmp(k, "lock") && strcmp(k, "prefix") &&
		           strcmp(k, "password") && strcmp(k, "user") &&
		           strcmp(k, "map_size") && strcmp(k, "sync") &&
		           strcmp(k, "timeout") && strcmp(k, "reconnect") &&
		           strcmp(k, "lease")) {
			return sr_fail(e, SIMREC_EURI,
			               "store '%s:%s': unknown parameter '%s'",
			               u->scheme, u->path, k);
		}
		if (end && *end)
			return sr_fail(e, SIMREC_EURI,
			               "store '%s:%s': bad value '%s' for '%s'",
			               u->scheme, u->path, v, k);
	}
	if (st->codec.level < 0 || st->codec.level > 9 ||
	    st->codec.shuffle < 0 || st->codec.shuffle > 2 ||
	    (int)st->mode < 0 || st->codec.nthreads < 1 ||
	    st->chunk_bytes > (1u << 30))
		return sr_fail(e, SIMREC_ECONFIG,
		               "store '%s:%s': level must be 0-9, shuffle "
		               "none/byte/bit, mode r/w/a, threads >= 1, "
		               "chunk_bytes <= 1 GiB",
		               u->scheme, u->path);
	if (!sr_codec_valid(st->codec.cname) &&
	    !((!strcmp(st->codec.cname, "deflate") ||
	       !strcmp(st->codec.cname, "lzf")) &&
	      strcmp(u->scheme, "hdf5") == 0))
		return sr_fail(e, SIMREC_ECONFIG,
		               "store '%s:%s': unknown codec '%s' (lz4, "
		               "blosclz, lz4hc, zstd, zlib, none%s)",
		               u->scheme, u->path, st->codec.cname,
		               strcmp(u->scheme, "hdf5") ? ""
		                                         : ", deflate, lzf");
	return 0;
}

/* Collective stores (parallel HDF5): writer 0 alone holds the lock for
 * all writers, who write (and flush) together. */
static int lock_holder(const sr_store *st)
{
	return st->lock && (st->meta_writer || st->comm == MPI_COMM_NULL ||
	                    !(st->ops->flags & SR_STORE_COLLECTIVE));
}

int sr_store_open(const char *uri, const simrec_options_t *o, MPI_Comm comm,
                  int meta_writer, sr_err *e, sr_store **out)
{
	*out = NULL;
	sr_store *st = calloc(1, sizeof *st);
	if (!st)
		return sr_fail(e, SIMREC_ENOMEM, "out of memory");
	st->err = e;
	st->comm = comm;
	st->meta_writer = meta_writer;
	int rc = sr_uri_parse(uri, &st->uri, e);
	if (rc) {
		free(st);
		return rc;
	}
	st->ops = sr_store_find(st->uri.scheme);
	if (!st->ops)
		rc = sr_fail(
		        e, SIMREC_EURI,
		        "store URI '%s': unknown scheme '%s' (memory, zarr, "
		        "zarr+dir, hdf5, redis)",
		        uri, st->uri.scheme);
	if (!rc)
		rc = apply_params(st, o, e);
	if (!rc && strcmp(st->uri.scheme, "memory") && !st->uri.path[0])
		rc = sr_fail(e, SIMREC_EURI, "store URI '%s' has no path", uri);
	const char *lk = st->ops ? sr_uri_param(&st->uri, "lock") : NULL;
	if (!rc && lk) {
		char res[4200];
		snprintf(res, sizeof res, "%s:%s", st->uri.scheme,
		         st->uri.path);
		const char *ls = sr_uri_param(&st->uri, "lease");
		rc = simrec_lock_open(&st->lock, lk, res, ls ? atof(ls) : 0);
		if (rc)
			sr_fail(e, rc, "store '%s': cannot open its lock on %s",
			        uri, lk);
	}
	/* opening reads (and for a writer may write) the file: under the
	 * lock, read or write as the mode is */
	int held = !rc && lock_holder(st) &&
	           !simrec_lock_acquire(st->lock,
	                                st->mode == SIMREC_MODE_READONLY
	                                        ? SIMREC_LOCK_READ
	                                        : SIMREC_LOCK_WRITE,
	                                120.0, NULL);
	if (!rc && lock_holder(st) && !held)
		rc = sr_fail(e, SIMREC_ETIMEDOUT, "store '%s': %s", uri,
		             simrec_lock_errmsg(st->lock));
	if (!rc)
		rc = st->ops->open(st);
	if (held)
		simrec_lock_release(st->lock);
	if (rc)
		simrec_lock_close(st->lock);
	if (rc) {
		sr_uri_free(&st->uri);
		free(st);
		return rc;
	}
	*out = st;
	return 0;
}

void sr_store_close(sr_store *st, int *status)
{
	if (!st)
		return;
	/* closing a writable file writes its last metadata: under the lock */
	int locked = st->mode != SIMREC_MODE_READONLY && st->lock &&
	             !sr_lock_write_begin(st);
	int rc = st->ops->close(st);
	if (locked && lock_holder(st))
		simrec_lock_release(st->lock);
	if (rc && status && !*status)
		*status = rc;
	simrec_lock_close(st->lock);
	sr_uri_free(&st->uri);
	free(st);
}

/* ---- the lock around store I/O ------------------------------------------
 * A writer takes the write lock for each write section (a chunk row, a set,
 * attributes), checks that no newer writer (a larger fencing token) wrote
 * the store since, and records its token as the root attribute
 * "_simrec_lock_token". Readers take the read lock for each read. */

#define LOCK_TIMEOUT 120.0
#define TOKEN_ATTR   "_simrec_lock_token"

int sr_lock_write_begin(sr_store *st)
{
	if (!st->lock)
		return 0;
	uint64_t token = 0;
	int rc = lock_holder(st)
	                 ? simrec_lock_acquire(st->lock, SIMREC_LOCK_WRITE,
	                                       LOCK_TIMEOUT, &token)
	                 : 0;
	/* parallel HDF5: the others learn the holder's token, and every
	 * writer takes part in the (collective) attribute write below */
	if (st->comm != MPI_COMM_NULL &&
	    (st->ops->flags & SR_STORE_COLLECTIVE)) {
		long long v[2] = {rc, (long long)token};
		MPI_Bcast(v, 2, MPI_LONG_LONG, 0, st->comm);
		rc = (int)v[0];
		token = (uint64_t)v[1];
	}
	if (rc)
		return sr_fail(st->err, rc, "store '%s': %s", st->uri.path,
		               simrec_lock_errmsg(st->lock));
	simrec_attr_t a;
	if (!st->ops->attr_get(st, "", TOKEN_ATTR, &a)) {
		if ((uint64_t)a.i > token) {
			if (lock_holder(st))
				simrec_lock_release(st->lock);
			return sr_fail(
			        st->err, SIMREC_ELOCK,
			        "store '%s': a newer writer (token %lld) "
			        "wrote it; this writer (token %llu) lost its "
			        "lease",
			        st->uri.path, (long long)a.i,
			        (unsigned long long)token);
		}
		simrec_attr_clear(&a);
	}
	simrec_attr_t t = {.type = SIMREC_ATTR_INT, .i = (int64_t)token};
	rc = st->ops->attr_set(st, "", TOKEN_ATTR, &t);
	if (rc && lock_holder(st))
		simrec_lock_release(st->lock);
	return rc;
}

int sr_lock_write_end(sr_store *st, int status)
{
	if (!st->lock)
		return status;
	/* readers must find the file consistent once the lock is free */
	if ((st->ops->flags & SR_STORE_FLUSH_IN_LOCK) && !status)
		status = st->ops->commit(st);
	if (!lock_holder(st))
		return status;
	/* a lease lost during the section: the data may interleave with a
	 * newer writer's, say so */
	int rc = simrec_lock_release(st->lock);
	if (rc && !status)
		status = sr_fail(st->err, rc, "store '%s': %s", st->uri.path,
		                 simrec_lock_errmsg(st->lock));
	return status;
}

int sr_lock_read_begin(sr_store *st)
{
	if (!st->lock)
		return 0;
	int rc = simrec_lock_acquire(st->lock, SIMREC_LOCK_READ, LOCK_TIMEOUT,
	                             NULL);
	return rc ? sr_fail(st->err, rc, "store '%s': %s", st->uri.path,
	                    simrec_lock_errmsg(st->lock))
	          : 0;
}

void sr_lock_read_end(sr_store *st)
{
	if (st->lock)
		simrec_lock_release(st->lock);
}
