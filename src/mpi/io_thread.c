/* The writer's I/O thread: the file I/O of step k runs while the ranks
 * compute and gather step k+1 (into the other step buffer). One job at a
 * time; the caller's next submit (or any store access) waits for the
 * previous one. The thread's failures go to its own sink (a->io_err), so
 * the caller's thread may fail (and write rec->err) meanwhile. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../core/encoded.h"
#include "../core/joined.h"
#include "coll.h"

/* A step in a shared window: wait until every rank's block is in
 * (src/mpi/shm.c explains the ordering). The ranks may still be
 * compressing, on the cores this thread would take: sleep, backing off
 * up to 1 ms (the write then starts that much later, inside the compute
 * phase it overlaps). */
static void wait_ready(const sr_ready *r)
{
	long ns = 10000;
	for (int i = 0; r->flags && i < r->n; i++)
		while (atomic_load_explicit(&r->flags[i],
		                            memory_order_acquire) != r->seq) {
			nanosleep(&(struct timespec){.tv_nsec = ns}, NULL);
			ns = ns < 1000000 ? 2 * ns : ns;
		}
}

/* One job: a step of raw blocks, of the ranks' frames, or of a joined
 * array. */
static int append(simrec_t *rec, const sr_io_job *j)
{
	sr_dset *d = j->d;
	wait_ready(&j->rdy);
	if (j->count)
		return sr_joined_write(rec, d, j->count, j->rows, j->buf);
	if (!j->enc)
		return sr_dset_append(rec, d, j->buf);
	const int *sizes = j->buf;
	const int *displs = sizes + d->ncol;
	return sr_dset_append_encoded(rec, d,
	                              (const unsigned char *)j->buf +
	                                      sr_frames_hdr((int)d->ncol),
	                              sizes, displs);
}

/* A failure of the writer's (under its mutex, if any): the first waits to
 * be reported; a key that breaks meanwhile (newly_broken) waits behind
 * it, so that it is reported too. */
static void note_failure(sr_agg *a, sr_dset *d, int rc, const char *msg,
                         int newly_broken)
{
	if (!a->io_status) {
		a->io_status = rc;
		a->io_d = d;
		snprintf(a->io_msg, sizeof a->io_msg, "%s", msg);
	} else if (newly_broken && !a->io_next) {
		a->io_next = rc;
		a->io_next_d = d;
		snprintf(a->io_next_msg, sizeof a->io_next_msg, "%s", msg);
	}
}

/* The writer's mutex, where there is a thread. */
static void io_lock(sr_agg *a)
{
	if (a->has_thread)
		pthread_mutex_lock(&a->mu);
}

static void io_unlock(sr_agg *a)
{
	if (a->has_thread)
		pthread_mutex_unlock(&a->mu);
}

/* The waiting failure reported (under the mutex): the next one waits. */
static void reported(sr_agg *a)
{
	a->io_status = a->io_next;
	a->io_d = a->io_next_d;
	snprintf(a->io_msg, sizeof a->io_msg, "%s", a->io_next_msg);
	a->io_next = 0;
	a->io_next_d = NULL;
	a->io_next_msg[0] = 0;
}

static void *io_main(void *arg)
{
	simrec_t *rec = arg;
	sr_agg *a = sr_agg_of(rec);
	sr_err_redirect(&a->io_err);
	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (!a->job && !a->quit)
			pthread_cond_wait(&a->cv, &a->mu);
		if (!a->job)
			break;
		pthread_mutex_unlock(&a->mu);
		a->io_err.msg[0] = 0;
		double t0 = sr_now();
		sr_io_job j = a->next;
		int rc = append(rec, &j);
		double dt = sr_now() - t0;
		pthread_mutex_lock(&a->mu);
		a->t_io += dt;
		int nb = rc && j.d->agg && !j.d->broken;
		if (nb)
			j.d->broken = rc;
		if (rc)
			note_failure(a, j.d, rc, a->io_err.msg, nb);
		a->job = 0;
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

int sr_io_start(simrec_t *rec)
{
	sr_agg *a = sr_agg_of(rec);
	if (pthread_mutex_init(&a->mu, NULL))
		return SIMREC_ENOMEM;
	if (pthread_cond_init(&a->cv, NULL)) {
		pthread_mutex_destroy(&a->mu);
		return SIMREC_ENOMEM;
	}
	/* without a thread the writer appends in the calling thread */
	a->has_thread = pthread_create(&a->thr, NULL, io_main, rec) == 0;
	if (!a->has_thread) {
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->mu);
	}
	return 0;
}

void sr_io_stop(simrec_t *rec)
{
	sr_agg *a = sr_agg_of(rec);
	if (!a->has_thread)
		return;
	pthread_mutex_lock(&a->mu);
	a->quit = 1;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thr, NULL);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	a->has_thread = 0;
}

int sr_io_wait(simrec_t *rec)
{
	sr_agg *a = sr_agg_of(rec);
	if (!a)
		return 0;
	if (!a->has_thread)
		return a->io_status;
	double t0 = sr_now();
	pthread_mutex_lock(&a->mu);
	while (a->job)
		pthread_cond_wait(&a->cv, &a->mu);
	int rc = a->io_status;
	pthread_mutex_unlock(&a->mu);
	a->t_wait += sr_now() - t0;
	return rc;
}

void sr_io_wait_buf(simrec_t *rec, const void *buf)
{
	sr_agg *a = sr_agg_of(rec);
	if (!a->has_thread || !buf)
		return;
	double t0 = sr_now();
	pthread_mutex_lock(&a->mu);
	while (a->job && a->next.buf == buf)
		pthread_cond_wait(&a->cv, &a->mu);
	pthread_mutex_unlock(&a->mu);
	a->t_wait += sr_now() - t0;
}

int sr_io_take_error(simrec_t *rec, sr_err *e)
{
	sr_agg *a = sr_agg_of(rec);
	int rc = sr_io_wait(rec);
	if (rc) { /* reported once: the recorder goes on */
		sr_fail(e, rc, "%s", a->io_msg);
		io_lock(a);
		reported(a);
		io_unlock(a);
	}
	return rc;
}

int sr_io_key_error(simrec_t *rec, const char *key, sr_err *e)
{
	sr_agg *a = sr_agg_of(rec);
	sr_dset *d = sr_dset_find(rec, key);
	if (!d)
		return 0;
	io_lock(a);
	int rc = d->broken;
	/* its cause, if it still waits to be reported */
	if (rc && a->io_status && a->io_d == d) {
		sr_fail(e, rc, "%s", a->io_msg);
		reported(a);
	} else if (rc && a->io_next && a->io_next_d == d) {
		sr_fail(e, rc, "%s", a->io_next_msg);
		a->io_next = 0;
		a->io_next_d = NULL;
		a->io_next_msg[0] = 0;
	} else if (rc) {
		sr_fail(e, rc,
		        "key '%s': a write of it failed (reported before): "
		        "nothing more is recorded under it, its steps stop "
		        "at %zu",
		        key, d->m.shape[0]);
	}
	io_unlock(a);
	return rc;
}

void sr_io_fail(simrec_t *rec, sr_dset *d, int rc)
{
	sr_agg *a = sr_agg_of(rec);
	io_lock(a);
	int nb = rc && d && d->agg && !d->broken;
	if (nb)
		d->broken = rc;
	if (rc)
		note_failure(a, d, rc, rec->err.msg, nb);
	io_unlock(a);
}

/* A step of a key whose earlier write failed (found by the I/O thread
 * after the step's record_all checked the key): not written, since its
 * rows would land in the place of the failed ones; a failure to report
 * if none is pending. */
static void dropped(simrec_t *rec, sr_dset *d)
{
	sr_agg *a = sr_agg_of(rec);
	char msg[sizeof a->io_msg];
	snprintf(msg, sizeof msg,
	         "key '%s': a step was not written: an earlier write of it "
	         "failed, its steps stop at %zu",
	         d->key, d->m.shape[0]);
	io_lock(a);
	note_failure(a, d, d->broken, msg, 0);
	io_unlock(a);
}

static void submit(simrec_t *rec, const sr_io_job *j)
{
	sr_agg *a = sr_agg_of(rec);
	sr_dset *d = j->d;
	if (!a->has_thread) {
		double t0 = sr_now();
		int rc = d->broken ? d->broken : append(rec, j);
		a->t_io += sr_now() - t0;
		if (rc && d->broken == rc)
			dropped(rec, d);
		else
			sr_io_fail(rec, d, rc);
		return;
	}
	/* one job at a time; a failure of another key's write does not stop
	 * this one (it is reported by the next flush or close, or the next
	 * record_all of that key) */
	sr_io_wait(rec);
	pthread_mutex_lock(&a->mu);
	if (d->broken) {
		pthread_mutex_unlock(&a->mu);
		dropped(rec, d);
		return;
	}
	a->next = *j;
	a->job = 1;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

void sr_io_submit(simrec_t *rec, sr_dset *d, const void *buf, int enc)
{
	sr_agg *a = sr_agg_of(rec);
	sr_io_job j = {.d = d, .buf = buf, .enc = enc, .rdy = a->rdy};
	submit(rec, &j);
}

void sr_io_submit_joined(simrec_t *rec, sr_dset *rows_d, sr_dset *count,
                         size_t rows, const void *buf)
{
	sr_io_job j = {.d = rows_d, .buf = buf, .count = count, .rows = rows};
	submit(rec, &j);
}
