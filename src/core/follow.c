/* Live follow: simrec_follow (a reader waiting for new committed records)
 * and the finished mark a writer sets when it closes a store for good
 * (the root attribute "_simrec_finished", docs/format.md). */
#include <math.h>
#include <string.h>

#include "../common/clock.h"
#include "recorder.h"

#define FINISHED_ATTR SR_FINISHED_ATTR
/* ?poll=: seconds between two looks while waiting, where no notification
 * comes (settings.h) */
#define POLL_DEFAULT 0.5
/* A store's notification may come a little before the commit it
 * announces is visible (SR_STORE_NOTIFY_EARLY: LMDB writes its meta page,
 * then publishes the transaction in its lock file's shared memory, which
 * no notification sees): after a notification that showed nothing new,
 * look again after 1, 2, 4 ... SETTLE_MAX ms. */
#define SETTLE_FIRST 0.001
#define SETTLE_MAX   0.064

/* Is st marked finished? (absent: no) */
static int finished(sr_store *st, int *fin)
{
	simrec_attr_t a;
	*fin = 0;
	int rc = st->ops->attr_get(st, "", FINISHED_ATTR, &a);
	if (rc == SIMREC_ENOKEY)
		return 0;
	if (rc)
		return rc;
	*fin = a.type == SIMREC_ATTR_BOOL && a.i;
	simrec_attr_clear(&a);
	return 0;
}

/* The committed records of key (a key not there yet: 0, *absent set). */
static int count(simrec_t *rec, sr_store *st, const char *key, size_t *n,
                 int *absent)
{
	sr_meta m;
	void *h = NULL;
	*n = 0;
	int rc = st->ops->lookup(st, key, &m, &h);
	*absent = rc == SIMREC_ENOKEY;
	if (rc == SIMREC_ENOKEY)
		return 0;
	if (rc == SIMREC_EKIND)
		return sr_fail(&rec->err, rc,
		               "key '%s' in '%s' is a group, not a dataset",
		               key, sr_store_name(st));
	if (rc)
		return rc;
	if (!sr_kind_appends(m.kind) || m.ndim == 0)
		rc = sr_fail(&rec->err, SIMREC_EKIND,
		             "key '%s' in '%s' holds a value, not records", key,
		             sr_store_name(st));
	else
		*n = m.shape[0];
	if (h)
		st->ops->release(st, h);
	return rc;
}

/* One look: the finished mark first, then the count, so that a mark seen
 * covers every record the count then shows. */
static int look(simrec_t *rec, sr_store *st, const char *key, size_t *n,
                int *fin)
{
	int absent = 0;
	int rc = finished(st, fin);
	if (!rc)
		rc = count(rec, st, key, n, &absent);
	/* a finished store never gets the key: not a wait that ends */
	if (!rc && *fin && absent)
		rc = sr_fail(&rec->err, SIMREC_ENOKEY,
		             "no key '%s' in '%s' (its writer finished "
		             "without it)",
		             key, st->uri.name);
	return rc;
}

static int follow_args(simrec_t *rec, const char *key, double timeout_s,
                       size_t *now)
{
	if (!rec || !key || !now)
		return SIMREC_EINVAL;
	rec->err.msg[0] = 0;
	if (isnan(timeout_s))
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "follow '%s': the timeout is NaN", key);
	if (!sr_key_valid(key))
		return sr_fail(&rec->err, SIMREC_EINVAL, "invalid key '%s'",
		               key);
	return sr_check_readable(rec);
}

int simrec_follow(simrec_t *rec, const char *key, size_t have, double timeout_s,
                  size_t *now)
{
	int rc = follow_args(rec, key, timeout_s, now);
	if (rc)
		return rc;
	*now = 0;
	/* this recorder's own records of key count once written */
	sr_dset *pending = sr_dset_find(rec, key);
	if (pending && (rc = sr_dset_flush(rec, pending)))
		return rc;
	sr_store *st = rec->st[0];
	double poll = st->set.has_poll ? st->set.poll : POLL_DEFAULT;
	double end = timeout_s < 0 ? INFINITY : sr_clock() + timeout_s;
	/* memory: only this recorder writes it, and it is here */
	int waits = !(st->flags & SR_STORE_PRIVATE);
	double settle = 0; /* 0: no notification to settle */
	for (;;) {
		int fin;
		/* armed before the look: a commit after it wakes the wait */
		if (waits && (rc = sr_store_notify_arm(st, key)))
			return rc;
		if ((rc = look(rec, st, key, now, &fin)))
			return rc;
		if (*now > have)
			return 0;
		if (fin)
			return sr_fail(&rec->err, SIMREC_EFINISHED,
			               "key '%s' in '%s': the writer finished "
			               "with %zu records",
			               key, st->uri.name, *now);
		double left = end - sr_clock();
		if (!waits)
			return sr_fail(&rec->err, SIMREC_ETIMEDOUT,
			               "key '%s' in '%s': no record after %zu "
			               "(this recorder is the store's only "
			               "writer: nothing comes while it waits)",
			               key, st->uri.name, have);
		if (left <= 0)
			return sr_fail(&rec->err, SIMREC_ETIMEDOUT,
			               "key '%s' in '%s': no record after %zu "
			               "within %g s",
			               key, st->uri.name, have, timeout_s);
		double w = left < poll ? left : poll;
		w = settle > 0 && settle < w ? settle : w;
		if (sr_store_notify_wait(st, w) &&
		    (st->flags & SR_STORE_NOTIFY_EARLY))
			settle = SETTLE_FIRST;
		else if (settle > 0)
			settle = settle * 2 > SETTLE_MAX ? 0 : settle * 2;
	}
}

/* The stores a writer marks (or clears): the metadata writer, and every
 * writer of a collective store (parallel HDF5 writes attributes
 * together). */
static int marks(const simrec_t *rec, const sr_store *st)
{
	if (rec->opts.mode == SIMREC_MODE_READONLY ||
	    st->mode == SIMREC_MODE_READONLY)
		return 0;
	int coll =
	        st->comm != MPI_COMM_NULL && (st->flags & SR_STORE_COLLECTIVE);
	return coll || st->meta_writer;
}

static int set_mark(sr_store *st, int value)
{
	simrec_attr_t a = {
	        .type = SIMREC_ATTR_BOOL, .i = value, .u = value, .d = value};
	int rc = st->ops->attr_set(st, "", FINISHED_ATTR, &a);
	return rc ? rc : st->ops->commit(st);
}

int sr_finish_clear(simrec_t *rec, sr_store *st)
{
	if (!marks(rec, st) || rec->opts.mode != SIMREC_MODE_APPEND)
		return 0;
	int fin = 0;
	int rc = st->meta_writer ? finished(st, &fin) : 0;
	if (st->comm != MPI_COMM_NULL && (st->flags & SR_STORE_COLLECTIVE))
		MPI_Bcast(&fin, 1, MPI_INT, 0, st->comm);
	if (!rc && fin)
		rc = set_mark(st, 0);
	return rc ? sr_wrap(&rec->err, rc,
	                    "store '%s': cannot clear its finished mark",
	                    st->uri.name)
	          : 0;
}

/* A collective store (several parallel HDF5 writers) is marked after
 * every writer closed it, by its metadata writer alone, through an open of
 * its own: marked while open, the mark would be a collective metadata
 * write, which HDF5 1.10 makes right only when every writer's metadata
 * cache holds the same objects, and a read by some writers only (rec.get
 * on rank 0 before the close) makes them differ (the writers then hung in
 * the flush). */
static int collective(const sr_store *st)
{
	return st->comm != MPI_COMM_NULL && (st->flags & SR_STORE_COLLECTIVE);
}

void sr_finish_mark(simrec_t *rec, int *failed, int *later)
{
	for (int i = 0; i < rec->nst; i++) {
		sr_store *st = rec->st[i];
		int coll = collective(st);
		later[i] = coll && marks(rec, st) && st->meta_writer;
		failed[i] = !coll && marks(rec, st) && set_mark(st, 1);
	}
}

void sr_finish_mark_closed(simrec_t *rec, const sr_uri *uri)
{
	simrec_options_t o = rec->opts;
	o.mode = SIMREC_MODE_APPEND;
	sr_err e = {0};
	sr_store *st;
	if (sr_store_open(uri, &o, MPI_COMM_NULL, 1, &e, &st))
		return; /* as a mark that fails while open: not the close's */
	set_mark(st, 1);
	sr_store_close(st, NULL);
}
