/* The lock store: "?lock=redis://..." wraps any store so that every
 * operation runs inside a section of the redis readers-writer lock named
 * "scheme:path":
 *   - reads (lookup, read, attributes, list, describe) in a read section,
 *   - writes (create, write of every chunk, set, attributes, commit, close)
 *     in a write section that first checks the fencing token: a writer
 *     opening the store records its token in the root attribute
 *     "_simrec_lock_token"; a store since taken over by a newer writer (a
 *     larger token there: another job, or after `simrec lock break`)
 *     refuses this writer with SIMREC_ELOCK, chunk writes included, and
 *     each record call asks first (lk_fenced), so the writer learns it at
 *     its next call even when the record only fills a buffer. The
 *     other writers of one job (meta_writer 0) adopt the token that the
 *     job's first writer recorded;
 *   - stores flagged SR_STORE_FLUSH_IN_LOCK (HDF5) commit before each
 *     release, so readers find the file consistent once the lock is free.
 * Sections nest: an operation inside a section of the same or a stronger
 * kind (a read inside simrec_list's callback, a read inside a write) joins
 * it; only the outermost section takes and releases the lock. A write
 * inside a read section is refused (SIMREC_ELOCK), never upgraded.
 * Parallel HDF5 (a collective store over several writers): writer 0 alone
 * holds the lock, and its fencing token is broadcast to the others. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lock/lock.h"
#include "store.h"

#define LOCK_TIMEOUT 120.0
#define TOKEN_ATTR   "_simrec_lock_token"

typedef struct locked {
	sr_store *in;
	simrec_lock_t *lock;
	int holder; /* this process takes the lock (see above) */
	int depth;  /* sections entered and not yet left */
	simrec_lock_mode_t held;
	int64_t session; /* this writer's fencing token (-1: none yet) */
	uint64_t token;  /* the token of the current outermost section */
} locked;

static int collective(const sr_store *st)
{
	const locked *L = st->impl;
	return st->comm != MPI_COMM_NULL &&
	       (L->in->ops->flags & SR_STORE_COLLECTIVE);
}

static int lock_fail(sr_store *st, int rc)
{
	locked *L = st->impl;
	return sr_fail(st->err, rc, "store '%s': %s", st->uri.name,
	               simrec_lock_errmsg(L->lock));
}

static int stored_token(sr_store *st, int64_t *out)
{
	sr_store *in = ((locked *)st->impl)->in;
	simrec_attr_t a;
	int rc = in->ops->attr_get(in, "", TOKEN_ATTR, &a);
	*out = -1;
	if (rc == SIMREC_ENOKEY)
		return 0;
	if (!rc && a.type == SIMREC_ATTR_INT)
		*out = a.i;
	simrec_attr_clear(&a);
	return rc;
}

/* Refuse a writer whose store was taken over by a newer writer. */
static int fence(sr_store *st)
{
	locked *L = st->impl;
	int64_t stored;
	int rc = stored_token(st, &stored);
	if (!rc && stored > L->session)
		rc = sr_fail(st->err, SIMREC_ELOCK,
		             "store '%s': a newer writer (token %lld) took "
		             "it over; this writer (token %lld) may no longer "
		             "write it",
		             st->uri.name, (long long)stored,
		             (long long)L->session);
	return rc;
}

/* At open: a job's first writer records its token, the job's other
 * writers adopt it. */
static int start_session(sr_store *st, uint64_t token)
{
	locked *L = st->impl;
	sr_store *in = L->in;
	int64_t stored;
	int rc = stored_token(st, &stored);
	if (rc)
		return rc;
	if (!st->meta_writer && stored >= 0 && !collective(st)) {
		L->session = stored;
		return 0;
	}
	L->session = (int64_t)token;
	if (stored > L->session && L->holder && !collective(st)) {
		/* at open, nobody can have taken a token after ours: the
		 * counter fell behind this store (the lock server lost its
		 * data, or the store was copied). Move it past the store. */
		uint64_t t2;
		rc = sr_lock_raise_token(L->lock, (uint64_t)stored, &t2);
		if (rc)
			return lock_fail(st, rc);
		L->session = (int64_t)t2;
	}
	if (stored > L->session)
		return fence(st);
	simrec_attr_t t = {.type = SIMREC_ATTR_INT, .i = L->session};
	return in->ops->attr_set(in, "", TOKEN_ATTR, &t);
}

static int take(sr_store *st, simrec_lock_mode_t mode, int fenced,
                uint64_t *tok)
{
	locked *L = st->impl;
	uint64_t token = 0;
	int rc = L->holder ? simrec_lock_acquire(L->lock, mode, LOCK_TIMEOUT,
	                                         &token)
	                   : 0;
	int acquired = L->holder && !rc;
	if (rc)
		rc = lock_fail(st, rc);
	if (mode == SIMREC_LOCK_WRITE && collective(st)) {
		long long v[2] = {rc, (long long)token};
		MPI_Bcast(v, 2, MPI_LONG_LONG, 0, st->comm);
		if (!rc && v[0])
			rc = sr_fail(st->err, (int)v[0],
			             "store '%s': writer 0 could not take the "
			             "lock",
			             st->uri.path);
		token = (uint64_t)v[1];
	}
	if (!rc && fenced && mode == SIMREC_LOCK_WRITE)
		rc = fence(st);
	if (rc && acquired)
		simrec_lock_release(L->lock);
	*tok = token;
	return rc;
}

/* Enter a section; *entered says whether leave() must be called. */
static int enter(sr_store *st, simrec_lock_mode_t mode, int fenced,
                 int *entered)
{
	locked *L = st->impl;
	*entered = 0;
	if (L->depth > 0) {
		if (mode == SIMREC_LOCK_WRITE && L->held != SIMREC_LOCK_WRITE)
			return sr_fail(st->err, SIMREC_ELOCK,
			               "store '%s': cannot write inside a read "
			               "section (e.g. from simrec_list's "
			               "callback)",
			               st->uri.path);
		L->depth++;
		*entered = 1;
		return 0;
	}
	uint64_t token;
	int rc = take(st, mode, fenced, &token);
	if (rc)
		return rc;
	L->token = token;
	L->held = mode;
	L->depth = 1;
	*entered = 1;
	return 0;
}

/* Leave a section entered by enter(); the outermost one commits (for
 * SR_STORE_FLUSH_IN_LOCK stores, after writes) and releases. */
static int leave(sr_store *st, int entered, int status, int committed)
{
	locked *L = st->impl;
	if (!entered || --L->depth > 0)
		return status;
	sr_store *in = L->in;
	if (L->held == SIMREC_LOCK_WRITE && !status && !committed &&
	    (in->ops->flags & SR_STORE_FLUSH_IN_LOCK))
		status = in->ops->commit(in);
	if (!L->holder)
		return status;
	/* a lease lost during the section: the data may interleave with a
	 * newer writer's, say so */
	int rc = simrec_lock_release(L->lock);
	if (rc && !status)
		status = lock_fail(st, rc);
	return status;
}

#define INNER(st) (((locked *)(st)->impl)->in)

#define READ_SECTION(st, call)                                         \
	do {                                                           \
		int entered_;                                          \
		int rc_ = enter((st), SIMREC_LOCK_READ, 0, &entered_); \
		if (!rc_)                                              \
			rc_ = (call);                                  \
		return leave((st), entered_, rc_, 0);                  \
	} while (0)

#define WRITE_SECTION(st, call)                                         \
	do {                                                            \
		int entered_;                                           \
		int rc_ = enter((st), SIMREC_LOCK_WRITE, 1, &entered_); \
		if (!rc_)                                               \
			rc_ = (call);                                   \
		return leave((st), entered_, rc_, 0);                   \
	} while (0)

static int lk_open(sr_store *st)
{
	locked *L = st->impl;
	int entered;
	simrec_lock_mode_t mode = st->mode == SIMREC_MODE_READONLY
	                                  ? SIMREC_LOCK_READ
	                                  : SIMREC_LOCK_WRITE;
	/* opening reads (and a writer may create) the store; no fencing
	 * yet: the token lives in the store */
	int rc = enter(st, mode, 0, &entered);
	int opened = !rc && !(rc = L->in->ops->open(L->in));
	if (opened && mode == SIMREC_LOCK_WRITE)
		rc = start_session(st, L->token);
	rc = leave(st, entered, rc, 1);
	if (rc && opened)
		L->in->ops->close(L->in);
	return rc;
}

static int lk_close(sr_store *st)
{
	locked *L = st->impl;
	int rc = 0, entered = 0;
	/* closing a writable store writes its last metadata */
	if (st->mode != SIMREC_MODE_READONLY)
		rc = enter(st, SIMREC_LOCK_WRITE, 1, &entered);
	int rc2 = L->in->ops->close(L->in);
	rc = leave(st, entered, rc ? rc : rc2, 1);
	sr_uri_free(&L->in->uri);
	free(L->in);
	simrec_lock_close(L->lock);
	free(L);
	st->impl = NULL;
	return rc;
}

static int lk_commit(sr_store *st)
{
	sr_store *in = INNER(st);
	if (st->mode == SIMREC_MODE_READONLY)
		return in->ops->commit(in);
	int entered;
	int rc = enter(st, SIMREC_LOCK_WRITE, 1, &entered);
	if (!rc)
		rc = in->ops->commit(in);
	return leave(st, entered, rc, 1);
}

static int lk_lookup(sr_store *st, const char *key, sr_meta *m, void **ds)
{
	READ_SECTION(st, INNER(st)->ops->lookup(INNER(st), key, m, ds));
}

static int lk_create(sr_store *st, const char *key, const sr_meta *m, void **ds)
{
	WRITE_SECTION(st, INNER(st)->ops->create(INNER(st), key, m, ds));
}

static int lk_write(sr_store *st, void *ds, const sr_meta *m,
                    const size_t *start, const size_t *count, const void *data)
{
	INNER(st)->hold_extent = st->hold_extent;
	WRITE_SECTION(st, INNER(st)->ops->write(INNER(st), ds, m, start, count,
	                                        data));
}

static int lk_write_vlen(sr_store *st, void *ds, const sr_meta *m, size_t row0,
                         size_t n, const sr_blob *items)
{
	INNER(st)->hold_extent = st->hold_extent;
	WRITE_SECTION(st, INNER(st)->ops->write_vlen(INNER(st), ds, m, row0, n,
	                                             items));
}

static int lk_split(sr_store *st, void *ds, const sr_meta *m, size_t cols)
{
	sr_store *in = INNER(st);
	if (!in->ops->split)
		return 0;
	WRITE_SECTION(st, in->ops->split(in, ds, m, cols));
}

static int lk_read(sr_store *st, void *ds, const sr_meta *m,
                   const size_t *start, const size_t *count, void *buf)
{
	READ_SECTION(st,
	             INNER(st)->ops->read(INNER(st), ds, m, start, count, buf));
}

static int lk_read_vlen(sr_store *st, void *ds, const sr_meta *m, size_t index,
                        sr_blob *out)
{
	READ_SECTION(st,
	             INNER(st)->ops->read_vlen(INNER(st), ds, m, index, out));
}

static int lk_check_vlen(sr_store *st, void *ds, const sr_meta *m,
                         const sr_blob *item)
{
	sr_store *in = INNER(st);
	return in->ops->check_vlen ? in->ops->check_vlen(in, ds, m, item) : 0;
}

static int lk_encoded_codec(sr_store *st, void *ds, sr_codec *c)
{
	sr_store *in = INNER(st);
	return in->ops->encoded_codec && in->ops->write_encoded
	               ? in->ops->encoded_codec(in, ds, c)
	               : 0;
}

static int lk_write_encoded(sr_store *st, void *ds, const sr_meta *m, size_t n,
                            const size_t *idx, const void *const *frames,
                            const size_t *lens)
{
	INNER(st)->hold_extent = st->hold_extent;
	WRITE_SECTION(st, INNER(st)->ops->write_encoded(INNER(st), ds, m, n,
	                                                idx, frames, lens));
}

static void lk_release(sr_store *st, void *ds)
{
	INNER(st)->ops->release(INNER(st), ds);
}

static int lk_attr_set(sr_store *st, const char *key, const char *name,
                       const simrec_attr_t *a)
{
	WRITE_SECTION(st, INNER(st)->ops->attr_set(INNER(st), key, name, a));
}

static int lk_attr_get(sr_store *st, const char *key, const char *name,
                       simrec_attr_t *out)
{
	READ_SECTION(st, INNER(st)->ops->attr_get(INNER(st), key, name, out));
}

static int lk_attr_list(sr_store *st, const char *key, sr_attr_fn fn, void *arg)
{
	READ_SECTION(st, INNER(st)->ops->attr_list(INNER(st), key, fn, arg));
}

static int lk_list(sr_store *st, const char *prefix, sr_list_fn fn, void *arg)
{
	READ_SECTION(st, INNER(st)->ops->list(INNER(st), prefix, fn, arg));
}

static long long lk_disk_bytes(sr_store *st)
{
	int entered;
	if (enter(st, SIMREC_LOCK_READ, 0, &entered))
		return -1;
	long long n = INNER(st)->ops->disk_bytes(INNER(st));
	leave(st, entered, 0, 0);
	return n;
}

static char *lk_describe(sr_store *st, void *ds, const sr_meta *m)
{
	sr_store *in = INNER(st);
	int entered;
	if (!in->ops->describe || enter(st, SIMREC_LOCK_READ, 0, &entered))
		return NULL;
	char *s = in->ops->describe(in, ds, m);
	leave(st, entered, 0, 0);
	return s;
}

static int lk_check(sr_store *st, void *ds, const sr_meta *m, size_t *whole)
{
	sr_store *in = INNER(st);
	if (!in->ops->check) {
		*whole = m->ndim ? m->shape[0] : 1;
		return 0;
	}
	READ_SECTION(st, in->ops->check(in, ds, m, whole));
}

static int lk_check_stored(sr_store *st, void *ds, const sr_meta *m,
                           size_t *whole)
{
	sr_store *in = INNER(st);
	if (!in->ops->check_stored)
		return lk_check(st, ds, m, whole);
	READ_SECTION(st, in->ops->check_stored(in, ds, m, whole));
}

/* One read section (writer 0 alone for a collective store: the
 * collective layer spreads its status) reading the stored token. */
static int lk_fenced(sr_store *st)
{
	locked *L = st->impl;
	if (st->mode == SIMREC_MODE_READONLY || !L->holder)
		return 0;
	int entered;
	int rc = enter(st, SIMREC_LOCK_READ, 0, &entered);
	if (!rc)
		rc = fence(st);
	return leave(st, entered, rc, 1);
}

static const sr_store_ops locked_ops = {
        .version = SR_STORE_OPS_VERSION,
        .scheme = "lock",
        .open = lk_open,
        .close = lk_close,
        .commit = lk_commit,
        .lookup = lk_lookup,
        .create = lk_create,
        .write = lk_write,
        .write_vlen = lk_write_vlen,
        .read = lk_read,
        .read_vlen = lk_read_vlen,
        .check_vlen = lk_check_vlen,
        .release = lk_release,
        .attr_set = lk_attr_set,
        .attr_get = lk_attr_get,
        .attr_list = lk_attr_list,
        .list = lk_list,
        .disk_bytes = lk_disk_bytes,
        .describe = lk_describe,
        .check = lk_check,
        .check_stored = lk_check_stored,
        .encoded_codec = lk_encoded_codec,
        .write_encoded = lk_write_encoded,
        .fenced = lk_fenced,
        .split = lk_split,
};

static void free_wrapper(sr_store *st)
{
	locked *L = st->impl;
	if (L) {
		simrec_lock_close(L->lock);
		if (L->in) {
			sr_uri_free(&L->in->uri);
			free(L->in);
		}
		free(L);
	}
	sr_uri_free(&st->uri);
	free(st);
}

int sr_locked_wrap(sr_store *inner, sr_store **out)
{
	*out = NULL;
	sr_err *e = inner->err;
	sr_store *st = calloc(1, sizeof *st);
	locked *L = calloc(1, sizeof *L);
	if (!st || !L) {
		free(st);
		free(L);
		sr_uri_free(&inner->uri);
		free(inner);
		return sr_fail(e, SIMREC_ENOMEM, "out of memory");
	}
	*st = *inner; /* mode, codec, chunk size, comm, err as the inner's */
	st->ops = &locked_ops;
	st->impl = L;
	L->in = inner;
	L->session = -1;
	inner->shared = 1;
	int rc = sr_uri_copy(&inner->uri, &st->uri, e);
	if (rc) {
		st->uri = (sr_uri){0};
		free_wrapper(st);
		return rc;
	}
	L->holder = st->meta_writer || st->comm == MPI_COMM_NULL ||
	            !(inner->ops->flags & SR_STORE_COLLECTIVE);
	char res[4200]; /* the lock name never holds a password */
	sr_store_lock_name(inner, res, sizeof res);
	double lease = inner->set.has_lease ? inner->set.lease : 0;
	rc = simrec_lock_open(&L->lock, inner->uri.lock, res, lease);
	if (rc)
		rc = sr_fail(e, rc, "store '%s': cannot open its lock",
		             inner->uri.name);
	if (!rc)
		rc = lk_open(st);
	if (rc) {
		free_wrapper(st);
		return rc;
	}
	*out = st;
	return 0;
}
