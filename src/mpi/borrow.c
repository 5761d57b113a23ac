/* The zero-copy step (opts.zero_copy, SIMREC_ZERO_COPY; include/simrec.h,
 * simrec_wait): record_all and record_global borrow the caller's buffer
 * until simrec_wait, simrec_flush or simrec_close.
 *
 * Every rank keeps the list of the buffers it lent (whatever the step's
 * move did with them), so that a step recorded from a buffer still lent
 * is refused on every rank (the step's agreement carries the refusal), and
 * under SIMREC_ZERO_COPY_CHECK a checksum of each, taken at the call and
 * again at its release.
 *
 * What reads a lent buffer after the call returned:
 *   - the writer's I/O thread, when the rank is its own writer (a group of
 *     one) and writes the step straight from it (record_all.c,
 *     record_global.c): released once sr_io_wait returned;
 *   - this rank's copy thread, when its group shares a step window: the
 *     thread copies the block into its place in the window and raises the
 *     rank's flag (release), as the calling thread does without zero-copy
 *     (move_shm.c); the writer's I/O thread waits for the flags as before.
 *     Jobs run in order, so the copy of a step into window b ends before
 *     the copy of the step that reuses b; a window is freed (grown) only
 *     after this rank's thread went idle (sr_borrow_drain).
 * TSan sees the copy thread's stores into the window and its flag (release)
 * as it sees the I/O thread's loads (acquire) on the writer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/env.h"
#include "coll.h"

/* opts.zero_copy, else SIMREC_ZERO_COPY; -1 (and rec->err): bad. */
static int wanted_mode(simrec_t *rec)
{
	int mode = rec->opts.zero_copy;
	const char *v = sr_env(SR_ENV_SIMREC_ZERO_COPY);
	if (mode == SIMREC_ZERO_COPY_OFF && v && *v) {
		mode = !strcmp(v, "0")       ? SIMREC_ZERO_COPY_OFF
		       : !strcmp(v, "1")     ? SIMREC_ZERO_COPY_ON
		       : !strcmp(v, "check") ? SIMREC_ZERO_COPY_CHECK
		                             : -1;
		if (mode < 0)
			sr_fail(&rec->err, SIMREC_ECONFIG,
			        "SIMREC_ZERO_COPY='%s': give 0, 1 or check", v);
		return mode;
	}
	if (mode < SIMREC_ZERO_COPY_OFF || mode > SIMREC_ZERO_COPY_CHECK) {
		sr_fail(&rec->err, SIMREC_ECONFIG,
		        "opts.zero_copy = %d: give SIMREC_ZERO_COPY_OFF, _ON "
		        "or _CHECK",
		        mode);
		return -1;
	}
	return mode;
}

int sr_borrow_init(simrec_t *rec)
{
	int mode = wanted_mode(rec);
	/* one mode on every rank (simrec_wait is collective when on) */
	int v = mode;
	MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, rec->comm);
	sr_agg_of(rec)->borrow.mode = v < 0 ? 0 : v;
	return mode < 0 ? SIMREC_ECONFIG : 0;
}

/* A checksum of n bytes (64-bit words, multiply-xor; the tail bytewise). */
static uint64_t checksum(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0x9e3779b97f4a7c15u ^ n;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0x100000001b3u;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3u;
	return h;
}

int sr_borrow_check(simrec_t *rec, const char *key, const void *p, size_t n)
{
	sr_agg *a = sr_agg_of(rec);
	if (!a->borrow.mode || !p || !n)
		return 0;
	uintptr_t lo = (uintptr_t)p, hi = lo + n;
	for (size_t i = 0; i < a->borrow.n; i++) {
		const sr_lent *l = &a->borrow.lent[i];
		uintptr_t llo = (uintptr_t)l->p, lhi = llo + l->n;
		if (lo < lhi && llo < hi)
			return sr_fail(&rec->err, SIMREC_EINVAL,
			               "key '%s': rank %d's buffer is still "
			               "borrowed by a step of '%s' (zero-copy "
			               "mode): call simrec_wait() before "
			               "recording it again; nothing was stored",
			               key, rec->rank, l->key);
	}
	return 0;
}

void sr_borrow_note(simrec_t *rec, const char *key, const void *p, size_t n,
                    int direct)
{
	sr_agg *a = sr_agg_of(rec);
	sr_borrow_state *b = &a->borrow;
	if (!b->mode || !p || !n)
		return;
	b->direct |= direct;
	/* out of memory: not refused again, not checked; still waited for */
	if (SR_GROW_N(b->lent, b->cap, b->n + 1))
		return;
	sr_lent *l = &b->lent[b->n++];
	l->p = p;
	l->n = n;
	snprintf(l->key, sizeof l->key, "%s", key);
	l->sum = b->mode == SIMREC_ZERO_COPY_CHECK ? checksum(p, n) : 0;
}

/* ---- the rank's copy thread -------------------------------------------- */

/* One job: the copy (or the frame) and the flag. */
static void copy_one(const sr_copy_job *j)
{
	if (!j->size) {
		memcpy(j->dst, j->src, j->n);
	} else { /* straight into the slot: the bound is its capacity */
		void *p = j->dst;
		size_t cap = sr_encoded_bound(j->n), len = 0;
		sr_err e;
		if (sr_encode_block(&j->codec, j->isz, j->src, j->n, &p, &cap,
		                    &len, &e) ||
		    p != j->dst)
			len = 0; /* the writer refuses a frame of 0 bytes */
		*j->size = (int)len;
	}
	atomic_store_explicit(j->flag, j->seq, memory_order_release);
}

static void *copy_main(void *arg)
{
	sr_borrow_state *b = arg;
	pthread_mutex_lock(&b->mu);
	for (;;) {
		while (!b->count && !b->quit)
			pthread_cond_wait(&b->cv, &b->mu);
		if (!b->count)
			break;
		sr_copy_job j = b->q[b->head];
		b->busy = 1;
		pthread_mutex_unlock(&b->mu);
		double t0 = sr_clock();
		copy_one(&j);
		double dt = sr_clock() - t0;
		pthread_mutex_lock(&b->mu);
		b->t_copy += dt;
		b->head = (b->head + 1) % SR_COPY_QUEUE;
		b->count--;
		b->busy = 0;
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

/* Start the thread at the first job; without one, copy here. */
static int copy_start(sr_borrow_state *b)
{
	if (b->running)
		return 1;
	if (b->failed)
		return 0;
	if (pthread_mutex_init(&b->mu, NULL))
		goto fail;
	if (pthread_cond_init(&b->cv, NULL)) {
		pthread_mutex_destroy(&b->mu);
		goto fail;
	}
	if (pthread_create(&b->thread, NULL, copy_main, b)) {
		pthread_cond_destroy(&b->cv);
		pthread_mutex_destroy(&b->mu);
		goto fail;
	}
	b->running = 1;
	return 1;
fail:
	b->failed = 1;
	return 0;
}

void sr_borrow_copy(simrec_t *rec, const sr_copy_job *j)
{
	sr_borrow_state *b = &sr_agg_of(rec)->borrow;
	if (!copy_start(b)) {
		copy_one(j);
		return;
	}
	pthread_mutex_lock(&b->mu);
	while (b->count == SR_COPY_QUEUE)
		pthread_cond_wait(&b->cv, &b->mu);
	b->q[(b->head + b->count) % SR_COPY_QUEUE] = *j;
	b->count++;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

void sr_borrow_drain(simrec_t *rec)
{
	sr_borrow_state *b = &sr_agg_of(rec)->borrow;
	if (!b->running)
		return;
	pthread_mutex_lock(&b->mu);
	while (b->count || b->busy)
		pthread_cond_wait(&b->cv, &b->mu);
	pthread_mutex_unlock(&b->mu);
}

/* ---- release ------------------------------------------------------------ */

int sr_borrow_release(simrec_t *rec)
{
	sr_agg *a = sr_agg_of(rec);
	sr_borrow_state *b = &a->borrow;
	if (!b->mode)
		return 0;
	double t0 = sr_clock();
	sr_borrow_drain(rec);
	if (b->direct && a->topo.is_writer)
		sr_io_wait(rec); /* its failure: reported as before */
	int rc = 0;
	for (size_t i = 0; i < b->n && b->mode == SIMREC_ZERO_COPY_CHECK; i++) {
		const sr_lent *l = &b->lent[i];
		if (!rc && checksum(l->p, l->n) != l->sum)
			rc = sr_fail(
			        &rec->err, SIMREC_EINVAL,
			        "key '%s': rank %d's buffer changed while "
			        "borrowed (zero-copy mode: write it only "
			        "after simrec_wait()); the stored step may "
			        "hold the changed bytes",
			        l->key, rec->rank);
	}
	b->n = 0;
	b->direct = 0;
	a->time.lent += sr_clock() - t0;
	return rc;
}

void sr_borrow_forget_last(simrec_t *rec, size_t keep)
{
	sr_agg *a = sr_agg_of(rec);
	sr_borrow_state *b = &a->borrow;
	if (!b->mode || b->n <= keep)
		return;
	/* a failed step: nothing of it may read the buffer past the call */
	sr_borrow_drain(rec);
	if (a->topo.is_writer)
		sr_io_wait(rec);
	b->n = keep;
}

void sr_borrow_free(sr_agg *a)
{
	sr_borrow_state *b = &a->borrow;
	if (b->running) {
		pthread_mutex_lock(&b->mu);
		b->quit = 1;
		pthread_cond_broadcast(&b->cv);
		pthread_mutex_unlock(&b->mu);
		pthread_join(b->thread, NULL);
		pthread_cond_destroy(&b->cv);
		pthread_mutex_destroy(&b->mu);
		b->running = 0;
	}
	free(b->lent);
	b->lent = NULL;
	b->n = b->cap = 0;
}

int simrec_wait(simrec_t *rec)
{
	if (!rec)
		return SIMREC_EINVAL;
	if (!rec->coll || !sr_zero_copy(sr_agg_of(rec)))
		return 0;
	double t0 = sr_clock();
	rec->err.msg[0] = 0;
	int rc = sr_agree_status(rec, sr_borrow_release(rec));
	rec->t_in += sr_clock() - t0;
	return rc;
}
