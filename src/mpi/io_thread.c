/* The writer's I/O thread: the file I/O of step k runs while the ranks
 * compute and gather step k+1 (into the other step buffer). One job at a
 * time; the caller's next submit (or any store access) waits for the
 * previous one. The thread's failures go to its own sink (a->io.err), so
 * the caller's thread may fail (and write rec->err) meanwhile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coll.h"

/* A step in a shared window: wait until every rank's block is in
 * (move_shm.c explains the ordering). The ranks may still be
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

/* One job: wait for its step to be complete, then write it (core). */
static int append(simrec_t *rec, const sr_io_job *j)
{
	wait_ready(&j->ready);
	return sr_write_step(rec, &j->step);
}

/* A failure of the writer's (under its mutex, if any): the first waits to
 * be reported; every key that breaks meanwhile (newly_broken) waits
 * behind it, so that it is reported too. */
static void note_failure(sr_agg *a, const sr_dset *d, int rc, const char *msg,
                         int newly_broken)
{
	sr_io_failure **p = &a->io.unreported;
	if (*p && !newly_broken)
		return;
	while (*p)
		p = &(*p)->next;
	sr_io_failure *f = calloc(1, sizeof *f);
	if (!f) {
		a->io.lost = a->io.lost ? a->io.lost : rc;
		return;
	}
	f->status = rc;
	f->d = d;
	snprintf(f->msg, sizeof f->msg, "%s", msg);
	*p = f;
}

/* The first failure's status, if any (under the mutex). */
static int first_status(const sr_agg *a)
{
	return a->io.unreported ? a->io.unreported->status : a->io.lost;
}

/* The writer's mutex, where there is a thread. */
static void io_lock(sr_agg *a)
{
	if (a->io.running)
		pthread_mutex_lock(&a->io.mu);
}

static void io_unlock(sr_agg *a)
{
	if (a->io.running)
		pthread_mutex_unlock(&a->io.mu);
}

/* The failure at *p reported into e (under the mutex): it leaves the
 * queue. */
static int report(sr_io_failure **p, sr_err *e)
{
	sr_io_failure *f = *p;
	int rc = sr_fail(e, f->status, "%s", f->msg);
	*p = f->next;
	free(f);
	return rc;
}

static void *io_main(void *arg)
{
	simrec_t *rec = arg;
	sr_agg *a = sr_agg_of(rec);
	sr_err_redirect(&a->io.err);
	pthread_mutex_lock(&a->io.mu);
	for (;;) {
		while (!a->io.has_job && !a->io.quit)
			pthread_cond_wait(&a->io.cv, &a->io.mu);
		if (!a->io.has_job)
			break;
		pthread_mutex_unlock(&a->io.mu);
		a->io.err.msg[0] = 0;
		double t0 = sr_clock();
		sr_io_job j = a->io.job;
		int rc = append(rec, &j);
		double dt = sr_clock() - t0;
		pthread_mutex_lock(&a->io.mu);
		a->time.io += dt;
		int nb = rc && j.step.d->agg && !j.step.d->broken;
		if (nb)
			j.step.d->broken = rc;
		if (rc)
			note_failure(a, j.step.d, rc, a->io.err.msg, nb);
		a->io.has_job = 0;
		pthread_cond_broadcast(&a->io.cv);
	}
	pthread_mutex_unlock(&a->io.mu);
	return NULL;
}

int sr_io_start(simrec_t *rec)
{
	sr_agg *a = sr_agg_of(rec);
	if (pthread_mutex_init(&a->io.mu, NULL))
		return SIMREC_ENOMEM;
	if (pthread_cond_init(&a->io.cv, NULL)) {
		pthread_mutex_destroy(&a->io.mu);
		return SIMREC_ENOMEM;
	}
	/* without a thread the writer appends in the calling thread */
	a->io.running = pthread_create(&a->io.thread, NULL, io_main, rec) == 0;
	if (!a->io.running) {
		pthread_cond_destroy(&a->io.cv);
		pthread_mutex_destroy(&a->io.mu);
	}
	return 0;
}

/* The failures never reported (the recorder is going). */
static void drop_failures(sr_agg *a)
{
	while (a->io.unreported) {
		sr_io_failure *f = a->io.unreported;
		a->io.unreported = f->next;
		free(f);
	}
}

void sr_io_stop(simrec_t *rec)
{
	sr_agg *a = sr_agg_of(rec);
	if (!a->io.running) {
		drop_failures(a);
		return;
	}
	pthread_mutex_lock(&a->io.mu);
	a->io.quit = 1;
	pthread_cond_broadcast(&a->io.cv);
	pthread_mutex_unlock(&a->io.mu);
	pthread_join(a->io.thread, NULL);
	pthread_mutex_destroy(&a->io.mu);
	pthread_cond_destroy(&a->io.cv);
	a->io.running = 0;
	drop_failures(a);
}

int sr_io_wait(simrec_t *rec)
{
	sr_agg *a = sr_agg_of(rec);
	if (!a)
		return 0;
	if (!a->io.running)
		return first_status(a);
	double t0 = sr_clock();
	pthread_mutex_lock(&a->io.mu);
	while (a->io.has_job)
		pthread_cond_wait(&a->io.cv, &a->io.mu);
	int rc = first_status(a);
	pthread_mutex_unlock(&a->io.mu);
	a->time.wait += sr_clock() - t0;
	return rc;
}

void sr_io_wait_buf(simrec_t *rec, const void *buf)
{
	sr_agg *a = sr_agg_of(rec);
	if (!a->io.running || !buf)
		return;
	double t0 = sr_clock();
	pthread_mutex_lock(&a->io.mu);
	while (a->io.has_job && a->io.job.step.buf == buf)
		pthread_cond_wait(&a->io.cv, &a->io.mu);
	pthread_mutex_unlock(&a->io.mu);
	a->time.wait += sr_clock() - t0;
}

int sr_io_take_error(simrec_t *rec, sr_err *e)
{
	sr_agg *a = sr_agg_of(rec);
	int rc = sr_io_wait(rec);
	if (!rc)
		return 0;
	/* reported once: the recorder goes on */
	io_lock(a);
	if (a->io.unreported)
		rc = report(&a->io.unreported, e);
	else
		rc = sr_fail(e, a->io.lost,
		             "a background write failed; its message was lost "
		             "(out of memory)");
	if (!a->io.unreported)
		a->io.lost = 0;
	io_unlock(a);
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
	sr_io_failure **p = &a->io.unreported;
	while (rc && *p && (*p)->d != d)
		p = &(*p)->next;
	if (rc && *p) {
		report(p, e);
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
	char msg[SR_ERRLEN];
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
	sr_dset *d = j->step.d;
	if (!a->io.running) {
		double t0 = sr_clock();
		int rc = d->broken ? d->broken : append(rec, j);
		a->time.io += sr_clock() - t0;
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
	pthread_mutex_lock(&a->io.mu);
	if (d->broken) {
		pthread_mutex_unlock(&a->io.mu);
		dropped(rec, d);
		return;
	}
	a->io.job = *j;
	a->io.has_job = 1;
	pthread_cond_broadcast(&a->io.cv);
	pthread_mutex_unlock(&a->io.mu);
}

void sr_io_submit(simrec_t *rec, const sr_step_write *step)
{
	sr_agg *a = sr_agg_of(rec);
	sr_io_job j = {.step = *step, .ready = a->move.ready};
	submit(rec, &j);
}
