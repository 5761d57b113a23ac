/* Collective recording: N ranks aggregated onto M writer ranks.
 *
 * Ranks are split into contiguous groups of g ranks, each with its first
 * rank as writer (topology.c). A step of simrec_record_all:
 *   1. every rank checks its arguments; the writer prepares the step
 *      buffer its I/O thread is not writing from (it waits for the
 *      background write only before touching the store: a new key);
 *   2. one MPI_Allreduce agrees on the key, dtype, shape and any failure
 *      (agree.c), so every rank returns the same status;
 *   3. queued independent calls travel to the writers (deferred.c);
 *   4. the step reaches the writer: when the group shares memory every
 *      rank copies (or compresses) its block into the writer's shared
 *      window itself (shm.c), else the arrays are gathered straight from
 *      the callers' buffers (MPI_Gather); they are free at return;
 *   5. the writer hands the step to its I/O thread (io_thread.c) and
 *      returns: the file I/O of step k runs while step k+1 is computed
 *      and moved into the other buffer. Two step buffers on the writer
 *      bound the memory; the other ranks keep none.
 * Writers of a store that does collective I/O (parallel HDF5 with M > 1)
 * write in the calling thread instead, since the I/O itself calls MPI.
 * The first step of a key also agrees on the writers' creation of its
 * dataset. See docs/mpi.md. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/encoded.h"
#include "coll.h"

/* The writer's dataset for key: writer 0 decides (existing or new),
 * the others follow its metadata. */
static int writer_dset(simrec_t *rec, const char *key, simrec_dtype_t dt,
                       int ndim, const size_t *shape, int first, sr_dset **out)
{
	sr_agg *a = sr_agg_of(rec);
	size_t full[SIMREC_MAX_NDIM];
	full[0] = (size_t)rec->size;
	if (ndim)
		memcpy(full + 1, shape, (size_t)ndim * sizeof *shape);
	sr_dset_init init = {.col0 = (size_t)a->gidx * a->g,
	                     .ncol = (size_t)a->gsize,
	                     .group = a->g};
	/* a new dataset touches the store: the I/O thread must be idle */
	if (!sr_dset_find(rec, key))
		sr_io_wait(rec);
	/* known already (every writer made it at the key's first step)? then
	 * nobody needs to talk, and the metadata the I/O thread may be
	 * growing is not read here */
	if (a->collective || a->ngroups == 1 || !first)
		return sr_dset_get(rec, key, dt, ndim + 1, full, 0, &init, out);
	int rc = 0;
	sr_meta m;
	memset(&m, 0, sizeof m);
	if (rec->rank == 0) {
		rc = sr_dset_get(rec, key, dt, ndim + 1, full, 0, &init, out);
		if (!rc)
			m = (*out)->m;
	}
	int st[2] = {rc, 0};
	MPI_Bcast(st, 2, MPI_INT, 0, a->writers);
	MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, 0, a->writers);
	if (rec->rank == 0)
		return rc;
	if (st[0])
		return sr_fail(&rec->err, st[0], "writer 0 failed on '%s'",
		               key);
	init.known = &m;
	return sr_dset_get(rec, key, dt, ndim + 1, full, 0, &init, out);
}

static int check_existing(simrec_t *rec, const char *key, simrec_dtype_t dt,
                          int ndim, const size_t *shape)
{
	size_t full[SIMREC_MAX_NDIM];
	full[0] = (size_t)rec->size;
	if (ndim)
		memcpy(full + 1, shape, (size_t)ndim * sizeof *shape);
	sr_dset *d = sr_dset_find(rec, key);
	if (d && sr_record_matches(d, dt, ndim + 1, full))
		return 0;
	/* the I/O thread may be writing rec->err: wait before any store
	 * access or failure message */
	sr_io_wait(rec);
	if (d)
		return sr_check_record(rec, d, dt, ndim + 1, full);
	sr_dset tmp;
	memset(&tmp, 0, sizeof tmp);
	tmp.key = (char *)key;
	void *h = NULL;
	sr_store *st = rec->st[0];
	int rc = st->ops->lookup(st, key, &tmp.m, &h);
	if (h)
		st->ops->release(st, h);
	if (rc == SIMREC_ENOKEY)
		return 0;
	if (rc == SIMREC_EKIND ||
	    (!rc && tmp.m.is_value && tmp.m.is_value != 4))
		return sr_fail(&rec->err, SIMREC_EKIND,
		               "key '%s' in '%s' is not a recorded dataset",
		               key, st->uri.path);
	return rc ? rc : sr_check_record(rec, &tmp, dt, ndim + 1, full);
}

/* Keys whose dataset every writer has (the same list on every rank), and
 * how their steps travel (the same within a group); NULL if not seen. */
const sr_enc *sr_key_seen(sr_agg *a, const char *key)
{
	for (size_t i = 0; i < a->nseen; i++)
		if (!strcmp(a->seen[i], key))
			return &a->enc[i];
	return NULL;
}

void sr_key_mark(sr_agg *a, const char *key, const sr_enc *e)
{
	char *k = strdup(key);
	char **p = k ? realloc(a->seen, (a->nseen + 1) * sizeof *p) : NULL;
	if (p)
		a->seen = p;
	sr_enc *q = p ? realloc(a->enc, (a->nseen + 1) * sizeof *q) : NULL;
	if (!q) {
		free(k); /* only costs one more agreement next time */
		return;
	}
	a->enc = q;
	a->seen[a->nseen] = k;
	a->enc[a->nseen++] = *e;
}

/* Arguments of one step, checked on every rank before the agreement. */
static int check_step(simrec_t *rec, const char *key, simrec_dtype_t dt,
                      int ndim, const size_t *shape, const void *data,
                      size_t *bytes)
{
	int rc = sr_check_writable(rec, key);
	if (!rc && (dt == SIMREC_BYTES || dt == SIMREC_STRING))
		rc = sr_fail(&rec->err, SIMREC_EINVAL,
		             "key '%s': simrec_record_all takes numeric "
		             "arrays",
		             key);
	if (!rc && ndim > SIMREC_MAX_NDIM - 2)
		rc = sr_fail(&rec->err, SIMREC_EINVAL,
		             "key '%s': ndim must be 0..%d for record_all (the "
		             "dataset adds steps and ranks)",
		             key, SIMREC_MAX_NDIM - 2);
	if (!rc)
		rc = sr_check_array(rec, key, dt, ndim, shape, data);
	*bytes = 0;
	if (rc)
		return rc;
	size_t b = simrec_dtype_size(dt);
	for (int i = 0; i < ndim; i++)
		b *= shape[i]; /* checked by sr_check_array */
	if (b > (size_t)INT32_MAX)
		return sr_fail(
		        &rec->err, SIMREC_EINVAL,
		        "key '%s': a rank's array may hold at most 2 GiB", key);
	*bytes = b;
	return 0;
}

/* The writer's step buffer: the one its I/O thread is not writing from
 * (the thread finished the step before last before it took the last
 * one), and large enough. Other ranks need none. */
int sr_slot_prepare(simrec_t *rec, size_t need)
{
	sr_agg *a = sr_agg_of(rec);
	sr_slot *s = &a->slot[a->cur];
	if (!a->is_writer || need <= s->cap)
		return 0;
	void *p = realloc(s->buf, need);
	if (!p)
		return sr_fail(&rec->err, SIMREC_ENOMEM,
		               "rank %d: out of memory for a %zu-byte step",
		               rec->rank, need);
	s->buf = p;
	s->cap = need;
	return 0;
}

/* The writer's frames buffer: sizes and offsets, then the frames. */
static size_t frames_need(const sr_agg *a, size_t bytes)
{
	return sr_frames_hdr(a->gsize) +
	       (size_t)a->gsize * sr_encoded_bound(bytes);
}

/* The writer decides, at a key's first step, whether its group's ranks
 * encode their own blocks from now on, and tells them. */
static void decide_encoding(simrec_t *rec, sr_dset *d, size_t bytes, sr_enc *e)
{
	sr_agg *a = sr_agg_of(rec);
	memset(e, 0, sizeof *e);
	/* a group of one: the I/O thread encodes, overlapping the next
	 * step; offsets of the frames are ints */
	if (a->is_writer && a->gsize > 1 && !a->collective &&
	    frames_need(a, bytes) <= (size_t)INT_MAX)
		e->on = sr_dset_encoding(rec, d, &e->c);
	MPI_Bcast(e, (int)sizeof *e, MPI_BYTE, 0, a->group);
}

/* Gather the group's frames onto the writer (sizes, then bytes). */
static void gather_frames(sr_agg *a, sr_slot *s)
{
	int len = (int)a->elen;
	if (!a->is_writer) {
		MPI_Gather(&len, 1, MPI_INT, NULL, 0, MPI_INT, 0, a->group);
		MPI_Gatherv(a->ebuf, len, MPI_BYTE, NULL, NULL, NULL, MPI_BYTE,
		            0, a->group);
		return;
	}
	int *sizes = (int *)(void *)s->buf, *displs = sizes + a->gsize;
	MPI_Gather(&len, 1, MPI_INT, sizes, 1, MPI_INT, 0, a->group);
	int off = 0; /* at most INT_MAX: decide_encoding */
	for (int i = 0; i < a->gsize; i++) {
		displs[i] = off;
		off += sizes[i];
	}
	MPI_Gatherv(a->ebuf, len, MPI_BYTE, s->buf + sr_frames_hdr(a->gsize),
	            sizes, displs, MPI_BYTE, 0, a->group);
}

/* The dataset still takes the frames its ranks were told to make. */
static int check_encoding(simrec_t *rec, sr_dset *d, const sr_enc *e)
{
	sr_codec c;
	if (sr_dset_encoding(rec, d, &c) == e->on &&
	    !strcmp(c.cname, e->c.cname) && c.level == e->c.level &&
	    c.shuffle == e->c.shuffle)
		return 0;
	return sr_fail(&rec->err, SIMREC_EINVAL,
	               "key '%s': its layout or codec changed since its first "
	               "step; the ranks' compressed blocks do not fit it",
	               d->key);
}

/* The step into the shared window of buffer cur (shm.c): every rank
 * copies its block, or the frame it compressed before the agreement
 * (encode_step: the ranks compress as they arrive, not all at once after
 * it, and a failure fails the step on every rank), into its place, in
 * parallel, then raises its flag; the writer's I/O thread waits for the
 * flags, not the writer. */
static int shm_transfer(simrec_t *rec, const sr_enc *seen, const void *data,
                        size_t bytes, const unsigned char **out)
{
	sr_agg *a = sr_agg_of(rec);
	int enc = seen && seen->on;
	size_t bound = sr_encoded_bound(bytes), hdr = sr_frames_hdr(a->gsize),
	       fl = sr_shm_hdr(a->gsize);
	/* the same outcome on the group's ranks: none touches a window */
	int rc = sr_shm_reserve(rec, fl + frames_need(a, bytes));
	if (rc)
		return rc;
	int b = a->cur;
	unsigned seq = ++a->wseq; /* the same on the group's ranks */
	atomic_uint *flags = (atomic_uint *)(void *)a->wbase[b];
	unsigned char *step = a->wbase[b] + fl;
	MPI_Win_sync(a->win[b]); /* after the agreement: buffer b is free */
	if (!enc) {
		memcpy(step + (size_t)a->grank * bytes, data, bytes);
	} else { /* elen <= bound: sr_encode_block */
		int *sizes = (int *)(void *)step;
		memcpy(step + hdr + (size_t)a->grank * bound, a->ebuf, a->elen);
		sizes[a->grank] = (int)a->elen;
		if (a->is_writer) /* the offsets (ints: decide_encoding) */
			for (int i = 0; i < a->gsize; i++)
				sizes[a->gsize + i] = (int)((size_t)i * bound);
	}
	atomic_store_explicit(&flags[a->grank], seq, memory_order_release);
	if (a->is_writer) {
		a->rdy = (sr_ready){.flags = flags, .seq = seq, .n = a->gsize};
		*out = step;
	}
	return 0;
}

/* The step onto the writer: through the shared window, or gathered into
 * the writer's step buffer (raw blocks, or the frames). */
static int transfer(simrec_t *rec, const sr_enc *seen, const void *data,
                    size_t bytes, const unsigned char **out)
{
	sr_agg *a = sr_agg_of(rec);
	sr_slot *s = &a->slot[a->cur];
	int enc = seen ? seen->on : 0; /* k > 1: the runs' frames */
	memset(&a->rdy, 0, sizeof a->rdy);
	if (a->shm && enc <= 1)
		return shm_transfer(rec, seen, data, bytes, out);
	if (enc)
		gather_frames(a, s);
	else
		MPI_Gather(data, (int)bytes, MPI_BYTE,
		           a->is_writer ? s->buf : NULL, (int)bytes, MPI_BYTE,
		           0, a->group);
	*out = s->buf;
	return 0;
}

/* Move the step onto the writer, which writes it (in the background). */
static int gather_and_write(simrec_t *rec, const char *key, simrec_dtype_t dt,
                            int ndim, const size_t *shape, const void *data,
                            size_t bytes)
{
	sr_agg *a = sr_agg_of(rec);
	const sr_enc *seen = sr_key_seen(a, key);
	int rc = 0, first = !seen, enc = seen && seen->on;
	sr_enc e;
	memset(&e, 0, sizeof e);
	double t0 = sr_now();
	const unsigned char *buf = NULL;
	int xrc = transfer(rec, seen, data, bytes, &buf);
	a->t_gather += sr_now() - t0;
	if (a->is_writer) {
		sr_dset *d = NULL;
		rc = writer_dset(rec, key, dt, ndim, shape, first, &d);
		if (xrc)
			rc = xrc;
		if (first)
			rc = sr_agree_status(rec, rc);
		if (!rc && first)
			decide_encoding(rec, d, bytes, &e);
		if (!rc && enc)
			rc = check_encoding(rec, d, seen);
		if (!rc)
			sr_io_submit(rec, d, buf, enc);
		else if (!first)
			sr_io_fail(rec, d, rc); /* reported later */
		if (!first)
			rc = 0;
	} else {
		if (first)
			rc = sr_agree_status(rec, 0);
		if (!rc && first)
			decide_encoding(rec, NULL, bytes, &e);
	}
	if (!rc && first)
		sr_key_mark(a, key, &e);
	a->cur ^= 1;
	return rc;
}

/* A step of a key whose ranks encode their blocks: this rank's frame. */
static int encode_step(simrec_t *rec, const sr_enc *e, simrec_dtype_t dt,
                       const void *data, size_t bytes)
{
	sr_agg *a = sr_agg_of(rec);
	double t0 = sr_now();
	int rc = sr_encode_block(&e->c, simrec_dtype_size(dt), data, bytes,
	                         &a->ebuf, &a->ecap, &a->elen, &rec->err);
	a->t_encode += sr_now() - t0;
	return rc;
}

/* Chunks of k > 1 rank blocks: the first rank of each run of k needs room
 * for the run's blocks (asked before the agreement, so that a failure
 * fails every rank). */
static int prepare_run(simrec_t *rec, int k, size_t bytes)
{
	sr_agg *a = sr_agg_of(rec);
	size_t need = (size_t)k * bytes;
	if (k < 2 || a->grank % k || need <= a->kcap)
		return 0;
	void *p = realloc(a->kbuf, need);
	if (!p)
		return sr_fail(&rec->err, SIMREC_ENOMEM,
		               "rank %d: out of memory for %d blocks of %zu "
		               "bytes",
		               rec->rank, k, bytes);
	a->kbuf = p;
	a->kcap = need;
	return 0;
}

/* Chunks of k > 1 rank blocks, after the agreement (every rank of the
 * group is here, with blocks of the same size): the first rank of each
 * run of k gathers the run's blocks, which are the chunk's bytes in
 * order, and encodes them; the others send no frame. A failed encoding
 * sends none either: the writer refuses the step, and a later call
 * reports that on every rank. */
static void encode_run(simrec_t *rec, const sr_enc *e, simrec_dtype_t dt,
                       const void *data, size_t bytes)
{
	sr_agg *a = sr_agg_of(rec);
	double t0 = sr_now();
	int k = e->on;
	if (a->kcomm_k != k) { /* the group is here: split it */
		if (a->kcomm_k)
			MPI_Comm_free(&a->kcomm);
		MPI_Comm_split(a->group, a->grank / k, a->grank, &a->kcomm);
		a->kcomm_k = k;
	}
	int first = a->grank % k == 0;
	MPI_Gather(data, (int)bytes, MPI_BYTE, first ? a->kbuf : NULL,
	           (int)bytes, MPI_BYTE, 0, a->kcomm);
	a->elen = 0;
	if (first && sr_encode_block(&e->c, simrec_dtype_size(dt), a->kbuf,
	                             (size_t)k * bytes, &a->ebuf, &a->ecap,
	                             &a->elen, &rec->err))
		a->elen = 0;
	a->t_encode += sr_now() - t0;
}

static int serial_record_all(simrec_t *rec, const char *key, simrec_dtype_t dt,
                             int ndim, const size_t *shape, const void *data)
{
	size_t bytes, sh[SIMREC_MAX_NDIM];
	int rc = check_step(rec, key, dt, ndim, shape, data, &bytes);
	if (rc)
		return rc;
	sh[0] = 1; /* a serial recorder is a communicator of one rank */
	if (ndim)
		memcpy(sh + 1, shape, (size_t)ndim * sizeof *shape);
	double t0 = sr_now();
	rc = sr_record_local(rec, key, dt, ndim + 1, sh, data);
	rec->t_in += sr_now() - t0;
	return rc;
}

int simrec_record_all(simrec_t *rec, const char *key, simrec_dtype_t dt,
                      int ndim, const size_t *shape, const void *data)
{
	if (!rec)
		return SIMREC_EINVAL;
	if (!rec->coll)
		return serial_record_all(rec, key, dt, ndim, shape, data);
	sr_agg *a = sr_agg_of(rec);
	double t0 = sr_now();
	/* the I/O thread may still write the last step (into its own sink):
	 * rec->err is ours */
	rec->err.msg[0] = 0;
	size_t bytes;
	int local = check_step(rec, key, dt, ndim, shape, data, &bytes);
	/* writers check the record against an existing dataset now, so
	 * that a mismatch fails on every rank */
	if (!local && a->is_writer)
		local = check_existing(rec, key, dt, ndim, shape);
	/* a key whose earlier background write failed records nothing
	 * more, on every rank; other keys go on (a failure of theirs is
	 * reported by the next flush or close, or their next step) */
	if (!local && a->is_writer)
		local = sr_io_key_error(rec, key, &rec->err);
	const sr_enc *e = local ? NULL : sr_key_seen(a, key);
	int enc = e ? e->on : 0, shm = a->shm && enc <= 1;
	if (!local && !shm)
		local = sr_slot_prepare(rec, !a->is_writer ? bytes
		                          : enc         ? frames_need(a, bytes)
		                                : bytes * (size_t)a->gsize);
	/* every rank compresses its own block (before the agreement, so
	 * that a failure fails every rank); chunks of several blocks after
	 * it (encode_run) */
	if (!local && enc == 1)
		local = encode_step(rec, e, dt, data, bytes);
	if (!local && enc > 1)
		local = prepare_run(rec, enc, bytes);
	/* buffer cur is free once the writer enters the agreement: its I/O
	 * thread no longer reads it (shm.c relies on this) */
	if (a->is_writer)
		sr_io_wait_buf(rec,
		               !shm ? a->slot[a->cur].buf
		               : a->wbase[a->cur]
		                       ? a->wbase[a->cur] + sr_shm_hdr(a->gsize)
		                       : NULL);
	double t1 = sr_now();
	int64_t maxpend = 0;
	int rc = sr_agree_step(rec, key, dt, ndim, shape, local,
	                       (int64_t)a->npend, &maxpend);
	a->t_agree += sr_now() - t1;
	if (rc)
		return rc;
	rc = sr_exchange_pending(rec, maxpend);
	if (enc > 1)
		encode_run(rec, e, dt, data, bytes);
	int r2 = gather_and_write(rec, key, dt, ndim, shape, data, bytes);
	if (!rc)
		rc = r2;
	if (!r2)
		rec->bytes_in += bytes;
	rec->t_in += sr_now() - t0;
	return rc;
}

/* ---- flush and close --------------------------------------------------- */

/* The commit mark (writers of a store with hold_extent, after every
 * writer's flush and sync): the rows of each record_all key that every
 * writer has made durable is their minimum; writer 0 publishes it as the
 * extent and syncs again. A writer whose flush failed keeps the old
 * mark, so no reader ever sees a step that a writer has not written; a key
 * whose background write failed (d->broken) counts the rows written
 * before the failure, so its steps stop at the last one every writer
 * wrote. Collective over the writers. */
static int publish_marks(simrec_t *rec, int ok)
{
	sr_agg *a = sr_agg_of(rec);
	enum { B = 64 };
	int rc = 0;
	for (size_t i0 = 0; i0 < a->nseen; i0 += B) {
		size_t n = a->nseen - i0 < B ? a->nseen - i0 : B;
		uint64_t v[B];
		sr_dset *ds[B];
		for (size_t i = 0; i < n; i++) {
			ds[i] = sr_dset_find(rec, a->seen[i0 + i]);
			/* a broken key's rows stop before its failed write
			 * (nothing is appended to it after it), and are
			 * durable once this flush succeeded */
			v[i] = !ds[i] ? 0
			       : ok   ? (uint64_t)ds[i]->m.shape[0]
			              : (uint64_t)ds[i]->mark;
		}
		MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_UINT64_T, MPI_MIN,
		              a->writers);
		for (size_t i = 0; i < n; i++) {
			sr_dset *d = ds[i];
			if (!d || v[i] <= d->mark)
				continue;
			for (int k = 0; rec->rank == 0 && k < rec->nst; k++) {
				sr_store *st = rec->st[k];
				if (!st->hold_extent || !d->h[k])
					continue;
				sr_meta m = d->m;
				m.shape[0] = (size_t)v[i];
				size_t start[SIMREC_MAX_NDIM] = {0},
				       count[SIMREC_MAX_NDIM] = {0};
				int r = st->ops->write(st, d->h[k], &m, start,
				                       count, NULL);
				if (r && !rc)
					rc = sr_fail(&rec->err, r,
					             "key '%s' in '%s': cannot "
					             "publish %zu steps: %s",
					             d->key, st->uri.path,
					             (size_t)v[i],
					             rec->err.msg);
			}
			if (!rc)
				d->mark = (size_t)v[i];
		}
	}
	for (int k = 0; !rc && rec->rank == 0 && k < rec->nst; k++) {
		sr_store *st = rec->st[k];
		int r = st->hold_extent ? st->ops->commit(st) : 0;
		if (r)
			rc = sr_fail(&rec->err, r, "commit of '%s' failed: %s",
			             st->uri.path, rec->err.msg);
	}
	return rc;
}

static int coll_flush(simrec_t *rec)
{
	sr_agg *a = sr_agg_of(rec);
	int rc = sr_io_take_error(rec, &rec->err);
	int64_t pend = (int64_t)a->npend;
	MPI_Allreduce(MPI_IN_PLACE, &pend, 1, MPI_INT64_T, MPI_MAX, rec->comm);
	int r2 = sr_exchange_pending(rec, pend);
	if (!rc)
		rc = r2;
	if (a->is_writer && rec->nst &&
	    rec->st[0]->mode != SIMREC_MODE_READONLY) {
		double t0 = sr_now();
		r2 = sr_flush_local(rec);
		if (a->hold)
			r2 = r2 ? (publish_marks(rec, 0), r2)
			        : publish_marks(rec, 1);
		a->t_io += sr_now() - t0;
		if (!rc)
			rc = r2;
	}
	return sr_agree_status(rec, rc);
}

static void print_summary(simrec_t *rec)
{
	sr_agg *a = sr_agg_of(rec);
	enum { N = 11 };
	double v[N] = {(double)rec->bytes_in,
	               rec->t_in,
	               a->t_io,
	               a->t_gather,
	               a->t_agree,
	               a->t_wait,
	               (double)a->is_writer,
	               a->t_encode,
	               0,
	               0,
	               (double)(a->is_writer && a->shm)};
	/* the writers' stores: compressing, writing, making durable (and
	 * every rank compressing its own block: src/core/encoded.h) */
	for (int k = 0; a->is_writer && k < rec->nst; k++) {
		v[7] += rec->st[k]->t_encode;
		v[8] += rec->st[k]->t_write;
		v[9] += rec->st[k]->t_sync;
	}
	double mx[N], mn[N], sum[N];
	MPI_Reduce(v, mx, N, MPI_DOUBLE, MPI_MAX, 0, rec->comm);
	MPI_Reduce(v, mn, N, MPI_DOUBLE, MPI_MIN, 0, rec->comm);
	MPI_Reduce(v, sum, N, MPI_DOUBLE, MPI_SUM, 0, rec->comm);
	if (rec->rank)
		return;
	fprintf(stderr,
	        "simrec: I/O summary over %d ranks, %d writer(s):\n"
	        "  recorded %.1f MB (per rank %.1f .. %.1f MB)\n"
	        "  time in simrec calls per rank %.3f .. %.3f s\n"
	        "    of which gather %.3f s, agreement %.3f s, waiting for "
	        "the I/O thread %.3f s (max over ranks)\n"
	        "  writer I/O time %.3f s max; %.1f MB/s aggregate\n"
	        "    of which encode %.3f s, write %.3f s, sync %.3f s (max "
	        "over writers; encode: over ranks)\n"
	        "  steps reach the writer through shared memory in %d of %d "
	        "group(s), by MPI_Gather in the others\n",
	        rec->size, a->ngroups, sum[0] / 1e6, mn[0] / 1e6, mx[0] / 1e6,
	        mn[1], mx[1], mx[3], mx[4], mx[5], mx[2],
	        mx[2] > 0 ? sum[0] / 1e6 / mx[2] : 0.0, mx[7], mx[8], mx[9],
	        (int)sum[10], a->ngroups);
}

static int coll_close(simrec_t *rec)
{
	double t0 = sr_now();
	int rc = coll_flush(rec);
	rec->t_in += sr_now() - t0;
	if (rec->opts.io_summary)
		print_summary(rec);
	return rc;
}

static void agg_free(simrec_t *rec)
{
	sr_agg *a = sr_agg_of(rec);
	if (!a)
		return;
	sr_io_stop(rec);
	sr_shm_free(a);
	for (int i = 0; i < 2; i++)
		free(a->slot[i].buf);
	free(a->pend);
	free(a->counts);
	free(a->displs);
	for (size_t i = 0; i < a->nseen; i++)
		free(a->seen[i]);
	free(a->seen);
	free(a->enc);
	free(a->ebuf);
	free(a->kbuf);
	sr_global_free(a);
	sr_joined_free(a);
	if (a->kcomm_k)
		MPI_Comm_free(&a->kcomm);
	if (a->group != MPI_COMM_NULL)
		MPI_Comm_free(&a->group);
	if (a->writers != MPI_COMM_NULL)
		MPI_Comm_free(&a->writers);
	free(a);
	rec->coll_state = NULL;
}

/* After the stores are closed (a collective store's close still uses the
 * writers' communicator). */
static void coll_free(simrec_t *rec)
{
	agg_free(rec);
	MPI_Comm_free(&rec->comm);
}

static int coll_local_ok(simrec_t *rec)
{
	sr_agg *a = sr_agg_of(rec);
	if (a->applying || (rec->rank == 0 && !a->collective)) {
		sr_io_wait(rec);
		return 1;
	}
	return 0;
}

static const sr_coll_ops coll_ops_table = {
        .local_ok = coll_local_ok,
        .defer = sr_defer_call,
        .io_wait = sr_io_wait,
        .flush = coll_flush,
        .close = coll_close,
        .free = coll_free,
};

const sr_coll_ops *sr_coll_table(void)
{
	return &coll_ops_table;
}
