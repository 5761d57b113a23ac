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
 *   4. plan (core/plan.c): at a key's first step the writers' dataset
 *      (writer 0 decides, the others follow its metadata) and how the
 *      steps travel (raw blocks, or frames the ranks encode);
 *   5. move: when the group shares memory every rank copies (or
 *      compresses) its block into the writer's shared window itself
 *      (move_shm.c), else the arrays are gathered straight from the
 *      callers' buffers (move_gather.c); they are free at return;
 *   6. write: the writer hands the step to its I/O thread (io_thread.c),
 *      which writes it through core/write.c, and returns: the file I/O of step
 * k runs while step k+1 is computed and moved into the other buffer. Two step
 * buffers on the writer bound the memory; the other ranks keep none. Writers of
 * a store that does collective I/O (parallel HDF5 with M > 1) write in the
 * calling thread instead, since the I/O itself calls MPI. publish: the commit
 * mark at flush (core/publish.c). See docs/mpi.md. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/plan.h"
#include "../core/publish.h"
#include "coll.h"

/* The writer's dataset for key (core's plan): writer 0 decides
 * (existing or new), the others follow its metadata. */
static int writer_dataset(simrec_t *rec, const char *key, simrec_dtype_t dt,
                          int ndim, const size_t *shape, int first,
                          sr_dset **out)
{
	sr_agg *a = sr_agg_of(rec);
	sr_dset_init init = {.col0 = (size_t)a->topo.group_index *
	                             a->topo.ranks_per_group,
	                     .ncol = (size_t)a->topo.group_size,
	                     .group = a->topo.ranks_per_group};
	/* known already (every writer made it at the key's first step)? then
	 * nobody needs to talk, and the metadata the I/O thread may be
	 * growing is not read here */
	if (a->topo.collective || a->topo.ngroups == 1 || !first)
		return sr_plan_all_dataset(rec, key, dt, ndim, shape, &init,
		                           out);
	int rc = 0;
	sr_meta m;
	memset(&m, 0, sizeof m);
	if (rec->rank == 0) {
		rc = sr_plan_all_dataset(rec, key, dt, ndim, shape, &init, out);
		if (!rc)
			m = (*out)->m;
	}
	MPI_Bcast(&rc, 1, MPI_INT, 0, a->topo.writers);
	MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, 0, a->topo.writers);
	if (rec->rank == 0)
		return rc;
	if (rc)
		return sr_fail(&rec->err, rc, "writer 0 failed on '%s'", key);
	init.known = &m;
	return sr_plan_all_dataset(rec, key, dt, ndim, shape, &init, out);
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

/* How steps of dataset d travel, as core's plan says (k blocks per
 * frame, 0: raw). */
static sr_travel travel_of(simrec_t *rec, const sr_dset *d)
{
	sr_travel t;
	memset(&t, 0, sizeof t);
	t.run_blocks = sr_dset_encoding(rec, d, &t.codec);
	t.kind = t.run_blocks == 0   ? SR_TRAVEL_RAW
	         : t.run_blocks == 1 ? SR_TRAVEL_RANK_FRAMES
	                             : SR_TRAVEL_RUN_FRAMES;
	return t;
}

/* The writer decides, at a key's first step, whether its group's ranks
 * encode their own blocks from now on, and tells them. */
static void decide_travel(simrec_t *rec, sr_dset *d, size_t bytes, sr_travel *t)
{
	sr_agg *a = sr_agg_of(rec);
	memset(t, 0, sizeof *t);
	/* a group of one: the I/O thread encodes, overlapping the next
	 * step; offsets of the frames are ints */
	if (a->topo.is_writer && a->topo.group_size > 1 &&
	    !a->topo.collective && sr_frames_need(a, bytes) <= (size_t)INT_MAX)
		*t = travel_of(rec, d);
	MPI_Bcast(t, (int)sizeof *t, MPI_BYTE, 0, a->topo.group);
}

/* The dataset still takes the frames its ranks were told to make. */
static int check_travel(simrec_t *rec, sr_dset *d, const sr_travel *t)
{
	sr_travel now = travel_of(rec, d);
	if (now.run_blocks == t->run_blocks &&
	    !strcmp(now.codec.cname, t->codec.cname) &&
	    now.codec.level == t->codec.level &&
	    now.codec.shuffle == t->codec.shuffle)
		return 0;
	return sr_fail(&rec->err, SIMREC_EINVAL,
	               "key '%s': its layout or codec changed since its first "
	               "step; the ranks' compressed blocks do not fit it",
	               d->key);
}

static int frames(const sr_travel *t)
{
	return t && t->kind != SR_TRAVEL_RAW;
}

/* Zero-copy, a group of one: the writer's I/O thread writes the step
 * straight from the caller's buffer (borrow.c). */
static int direct(const sr_agg *a)
{
	return sr_zero_copy(a) && a->topo.group_size == 1;
}

/* The move: through the shared window, or gathered into the writer's
 * step buffer (zero-copy in a group of one: none). */
static int move(simrec_t *rec, const sr_travel *t, size_t isz, const void *data,
                size_t bytes, const unsigned char **out)
{
	sr_agg *a = sr_agg_of(rec);
	memset(&a->move.ready, 0, sizeof a->move.ready);
	double t0 = sr_clock();
	int rc = 0;
	if (direct(a))
		*out = data;
	else if (a->shm.on && (!t || t->kind != SR_TRAVEL_RUN_FRAMES))
		rc = sr_move_shm(rec, t, isz, data, bytes, out);
	else
		*out = sr_move_gather(rec, t, data, bytes);
	a->time.move += sr_clock() - t0;
	return rc;
}

/* The writer's side after the move: its dataset (plan), the key's first
 * step's agreement and travel, and the step to the write stage. */
static int writer_step(simrec_t *rec, const sr_step_call *c, int xrc,
                       const sr_travel *seen, const unsigned char *buf,
                       sr_travel *t)
{
	int first = !seen;
	sr_dset *d = NULL;
	int rc = writer_dataset(rec, c->key, c->dtype, c->ndim, c->shape, first,
	                        &d);
	if (xrc)
		rc = xrc;
	if (first)
		rc = sr_agree_status(rec, rc);
	if (!rc && first)
		decide_travel(rec, d, c->bytes, t);
	if (!rc && frames(seen))
		rc = check_travel(rec, d, seen);
	if (!rc) {
		sr_step_write w = {.d = d, .buf = buf, .frames = frames(seen)};
		sr_io_submit(rec, &w);
	} else if (!first) {
		sr_io_fail(rec, d, rc); /* reported later */
	}
	return first ? rc : 0;
}

/* A record_all step's own arguments, for sr_step_agree_run. */
typedef struct all_step {
	sr_step_call call;
	const void *data;
	const sr_travel *seen;
} all_step;

/* After the agreement: the runs' frames, the move, the writer's plan and
 * write. */
static int run_step(simrec_t *rec, void *ctx)
{
	const all_step *s = ctx;
	const sr_step_call *c = &s->call;
	sr_agg *a = sr_agg_of(rec);
	if (s->seen && s->seen->kind == SR_TRAVEL_RUN_FRAMES)
		sr_move_run_frames(rec, s->seen, c->dtype, s->data, c->bytes);
	sr_travel t;
	memset(&t, 0, sizeof t);
	const unsigned char *buf = NULL;
	int rc = 0, xrc = move(rec, s->seen, simrec_dtype_size(c->dtype),
	                       s->data, c->bytes, &buf);
	if (a->topo.is_writer) {
		rc = writer_step(rec, c, xrc, s->seen, buf, &t);
	} else if (!s->seen) { /* a failed move: the writer's to report */
		rc = sr_agree_status(rec, 0);
		if (!rc)
			decide_travel(rec, NULL, c->bytes, &t);
	}
	if (!rc && !s->seen)
		sr_key_mark(a, c->key, &t);
	a->move.current ^= 1;
	return rc;
}

/* A step of a key whose ranks encode their blocks: this rank's frame. */
static int encode_step(simrec_t *rec, const sr_travel *t, simrec_dtype_t dt,
                       const void *data, size_t bytes)
{
	sr_agg *a = sr_agg_of(rec);
	double t0 = sr_clock();
	int rc = sr_encode_block(&t->codec, simrec_dtype_size(dt), data, bytes,
	                         &a->move.frame, &a->move.frame_cap,
	                         &a->move.frame_len, &rec->err);
	a->time.encode += sr_clock() - t0;
	return rc;
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
	double t0 = sr_clock();
	rc = sr_record_local(rec, key, dt, ndim + 1, sh, data);
	rec->t_in += sr_clock() - t0;
	return rc;
}

/* This rank's checks and preparations before the agreement, so that a
 * failure fails every rank. */
static int prepare_step(simrec_t *rec, all_step *s, const size_t *shape)
{
	sr_agg *a = sr_agg_of(rec);
	sr_step_call *c = &s->call;
	int local = check_step(rec, c->key, c->dtype, c->ndim, shape, s->data,
	                       &c->bytes);
	if (!local)
		local = sr_borrow_check(rec, c->key, s->data, c->bytes);
	/* writers check the record against an existing dataset now, so
	 * that a mismatch fails on every rank */
	if (!local && a->topo.is_writer)
		local = sr_plan_all_check(rec, c->key, c->dtype, c->ndim,
		                          shape);
	/* a key whose earlier background write failed records nothing
	 * more, on every rank; other keys go on (a failure of theirs is
	 * reported by the next flush or close, or their next step) */
	if (!local && a->topo.is_writer)
		local = sr_io_key_error(rec, c->key, &rec->err);
	const sr_travel *t = local ? NULL : sr_key_seen(a, c->key);
	s->seen = t;
	int kind = t ? (int)t->kind : SR_TRAVEL_RAW;
	int shm = a->shm.on && kind != SR_TRAVEL_RUN_FRAMES;
	if (!local && !shm && !direct(a))
		local = sr_step_buf_prepare(
		        rec, !a->topo.is_writer ? c->bytes
		             : kind != SR_TRAVEL_RAW
		                     ? sr_frames_need(a, c->bytes)
		                     : c->bytes * (size_t)a->topo.group_size);
	/* every rank compresses its own block (before the agreement, so
	 * that a failure fails every rank; in zero-copy mode with a shared
	 * window after it, on the rank's copy thread); chunks of several
	 * blocks after it (sr_move_run_frames) */
	if (!local && kind == SR_TRAVEL_RANK_FRAMES &&
	    !(shm && sr_zero_copy(a)))
		local = encode_step(rec, t, c->dtype, s->data, c->bytes);
	if (!local && kind == SR_TRAVEL_RUN_FRAMES)
		local = sr_move_run_prepare(rec, t->run_blocks, c->bytes);
	/* buffer current is free once the writer enters the agreement: its
	 * I/O thread no longer reads it (move_shm.c relies on this) */
	int b = a->move.current;
	if (a->topo.is_writer)
		sr_io_wait_buf(rec,
		               !shm ? a->move.step_buf[b].buf
		               : a->shm.base[b]
		                       ? a->shm.base[b] +
		                                 sr_shm_hdr(a->topo.group_size)
		                       : NULL);
	return local;
}

int simrec_record_all(simrec_t *rec, const char *key, simrec_dtype_t dt,
                      int ndim, const size_t *shape, const void *data)
{
	if (!rec)
		return SIMREC_EINVAL;
	if (!rec->coll)
		return serial_record_all(rec, key, dt, ndim, shape, data);
	/* the I/O thread may still write the last step (into its own sink):
	 * rec->err is ours */
	rec->err.msg[0] = 0;
	all_step s = {.call = {.key = key,
	                       .dtype = dt,
	                       .ndim = ndim,
	                       .shape = shape,
	                       .t0 = sr_clock(),
	                       .run = run_step},
	              .data = data};
	s.call.ctx = &s;
	int local = prepare_step(rec, &s, shape);
	size_t lent = sr_agg_of(rec)->borrow.n;
	int rc = sr_step_agree_run(rec, &s.call, local);
	if (rc)
		sr_borrow_forget_last(rec, lent);
	else
		sr_borrow_note(rec, key, data, s.call.bytes,
		               direct(sr_agg_of(rec)));
	return rc;
}

/* ---- flush and close --------------------------------------------------- */

/* The commit mark (writers of a store with hold_extent, after every
 * writer's flush and sync): the rows of each record_all or record_global
 * key that every writer has made durable is their minimum; writer 0
 * publishes it (core/publish.c). A writer whose flush failed keeps the old
 * mark, so no reader ever sees a step that a writer has not written; a key
 * whose background write failed (d->broken) counts the rows written
 * before the failure, so its steps stop at the last one every writer
 * wrote. Collective over the writers. */
static int publish_marks(simrec_t *rec, int ok)
{
	sr_agg *a = sr_agg_of(rec);
	enum { B = 64 };
	int rc = 0;
	for (size_t i0 = 0; i0 < a->keys.n; i0 += B) {
		size_t n = a->keys.n - i0 < B ? a->keys.n - i0 : B;
		uint64_t v[B];
		sr_dset *ds[B];
		for (size_t i = 0; i < n; i++) {
			ds[i] = sr_dset_find(rec, a->keys.names[i0 + i]);
			/* a broken key's rows stop before its failed write
			 * (nothing is appended to it after it), and are
			 * durable once this flush succeeded */
			v[i] = !ds[i] ? 0
			       : ok   ? (uint64_t)ds[i]->m.shape[0]
			              : (uint64_t)ds[i]->mark;
		}
		MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_UINT64_T, MPI_MIN,
		              a->topo.writers);
		for (size_t i = 0; i < n; i++) {
			sr_dset *d = ds[i];
			if (!d || v[i] <= d->mark)
				continue;
			int r = rec->rank == 0
			                ? sr_publish_mark(rec, d, (size_t)v[i])
			                : 0;
			if (r && !rc)
				rc = r;
			if (!rc)
				d->mark = (size_t)v[i];
		}
	}
	if (!rc && rec->rank == 0)
		rc = sr_publish_commit(rec);
	return rc;
}

static int coll_flush(simrec_t *rec)
{
	sr_agg *a = sr_agg_of(rec);
	/* buffers still lent are waited for (a changed one fails) */
	int rc = sr_borrow_release(rec);
	int r0 = sr_io_take_error(rec, &rec->err);
	if (!rc)
		rc = r0;
	int64_t pend[2] = {(int64_t)a->deferred.len, sr_term_pending()};
	MPI_Allreduce(MPI_IN_PLACE, pend, 2, MPI_INT64_T, MPI_MAX, rec->comm);
	/* a SIGTERM every rank agreed on: flush and close now (not in
	 * simrec_close, which is closing already), then die */
	if (pend[1] && !a->closing)
		sr_term_act();
	int r2 = sr_exchange_pending(rec, pend[0]);
	if (!rc)
		rc = r2;
	if (a->topo.is_writer && rec->nst &&
	    rec->st[0]->mode != SIMREC_MODE_READONLY) {
		double t0 = sr_clock();
		r2 = sr_flush_local(rec);
		if (a->topo.hold_marks)
			r2 = r2 ? (publish_marks(rec, 0), r2)
			        : publish_marks(rec, 1);
		a->time.io += sr_clock() - t0;
		if (!rc)
			rc = r2;
	}
	return sr_agree_status(rec, rc);
}

static void print_summary(simrec_t *rec)
{
	sr_agg *a = sr_agg_of(rec);
	enum { N = 13 };
	double v[N] = {(double)rec->bytes_in,
	               rec->t_in,
	               a->time.io,
	               a->time.move,
	               a->time.agree,
	               a->time.wait,
	               (double)a->topo.is_writer,
	               a->time.encode,
	               0,
	               0,
	               (double)(a->topo.is_writer && a->shm.on),
	               a->time.lent,
	               a->borrow.t_copy};
	/* the writers' stores: compressing, writing, making durable (and
	 * every rank compressing its own block: src/core/encoded.h) */
	for (int k = 0; a->topo.is_writer && k < rec->nst; k++) {
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
	        rec->size, a->topo.ngroups, sum[0] / 1e6, mn[0] / 1e6,
	        mx[0] / 1e6, mn[1], mx[1], mx[3], mx[4], mx[5], mx[2],
	        mx[2] > 0 ? sum[0] / 1e6 / mx[2] : 0.0, mx[7], mx[8], mx[9],
	        (int)sum[10], a->topo.ngroups);
	if (a->borrow.mode)
		fprintf(stderr,
		        "  zero-copy: waiting for lent buffers %.3f s, copying "
		        "them into the step windows in the background %.3f s "
		        "(max over ranks)\n",
		        mx[11], mx[12]);
}

static int coll_close(simrec_t *rec)
{
	double t0 = sr_clock();
	sr_agg_of(rec)->closing = 1;
	int rc = coll_flush(rec);
	/* a failure since the last successful flush fails close too (kept
	 * with agreed statuses: the same on every rank) */
	if (!rc)
		rc = sr_agree_status(rec, sr_rec_lost(rec));
	rec->t_in += sr_clock() - t0;
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
	sr_borrow_free(a);
	sr_shm_free(a);
	for (int i = 0; i < 2; i++)
		free(a->move.step_buf[i].buf);
	free(a->deferred.calls);
	free(a->move.rank_bytes);
	free(a->move.rank_offsets);
	for (size_t i = 0; i < a->keys.n; i++)
		free(a->keys.names[i]);
	free(a->keys.names);
	free(a->keys.travel);
	free(a->move.frame);
	free(a->move.run_buf);
	sr_global_free(a);
	sr_joined_free(a);
	if (a->move.run_blocks)
		MPI_Comm_free(&a->move.run_comm);
	if (a->topo.group != MPI_COMM_NULL)
		MPI_Comm_free(&a->topo.group);
	if (a->topo.writers != MPI_COMM_NULL)
		MPI_Comm_free(&a->topo.writers);
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
	if (a->deferred.applying || (rec->rank == 0 && !a->topo.collective)) {
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
