/* Recorders left open: closed at process exit (atexit, serial
 * recorders), at MPI_Finalize (the collective layer calls
 * sr_close_forgotten from its MPI_COMM_SELF delete callback) and after a
 * SIGTERM (the handler only sets a flag; the next simrec call acts on it,
 * see docs/safety.md "At exit and at the time limit"). Each close prints
 * one line naming the store, so that the omission is visible. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/env.h"
#include "../common/escape.h"
#include "recorder.h"

static pthread_mutex_t open_mu = PTHREAD_MUTEX_INITIALIZER;
static simrec_t *open_head; /* in open order */
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static volatile sig_atomic_t term_seen;
static int close_failed; /* a close at exit failed: exit status 1 */

static void on_term(int sig)
{
	SR_UNUSED(sig);
	term_seen = 1; /* SA_RESETHAND: a second SIGTERM kills at once */
}

/* The SIGTERM flag, unless the program handles SIGTERM itself or
 * SIMREC_ON_TERM=0. */
static void install_term(void)
{
	const char *env = sr_env(SR_ENV_SIMREC_ON_TERM);
	if (env && !strcmp(env, "0"))
		return;
	struct sigaction old;
	if (sigaction(SIGTERM, NULL, &old) || old.sa_handler != SIG_DFL ||
	    (old.sa_flags & SA_SIGINFO))
		return;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sa.sa_flags = SA_RESETHAND | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
}

static void at_exit(void);

static void once_setup(void)
{
	atexit(at_exit);
	install_term();
}

void sr_rec_track(simrec_t *rec, const char *uris)
{
	char masked[1024];
	simrec_uri_masked(uris ? uris : "", masked, sizeof masked);
	sr_escape(rec->label, sizeof rec->label, masked, strlen(masked), 0);
	rec->owner = getpid();
	pthread_once(&exit_once, once_setup);
	pthread_mutex_lock(&open_mu);
	simrec_t **p = &open_head;
	while (*p)
		p = &(*p)->open_next;
	*p = rec;
	rec->open_next = NULL;
	pthread_mutex_unlock(&open_mu);
}

void sr_rec_untrack(simrec_t *rec)
{
	pthread_mutex_lock(&open_mu);
	for (simrec_t **p = &open_head; *p; p = &(*p)->open_next)
		if (*p == rec) {
			*p = rec->open_next;
			break;
		}
	pthread_mutex_unlock(&open_mu);
}

/* The first open recorder of this process that matches (mpi: one over a
 * communicator); a forked child's copies are not its own. */
static simrec_t *first_open(int mpi)
{
	pthread_mutex_lock(&open_mu);
	simrec_t *r = open_head;
	while (r && (r->owner != getpid() || !!r->coll != mpi))
		r = r->open_next;
	pthread_mutex_unlock(&open_mu);
	return r;
}

int sr_close_forgotten(int mpi, const char *when)
{
	int failed = 0;
	simrec_t *rec;
	while ((rec = first_open(mpi))) {
		int readonly =
		        !rec->nst ? rec->opts.mode == SIMREC_MODE_READONLY
		                  : rec->st[0]->mode == SIMREC_MODE_READONLY;
		char label[sizeof rec->label];
		memcpy(label, rec->label, sizeof label);
		int speak = !readonly && rec->rank == 0;
		int rc = simrec_close(rec);
		const char *why = rc ? simrec_errmsg(NULL) : "";
		if (speak || rc)
			fprintf(stderr,
			        "simrec: the recorder of '%s' was not closed "
			        "by "
			        "the program: closed %s%s%s\n",
			        label, when,
			        rc ? ": FAILED, records may be lost: "
			           : " (nothing lost)",
			        why);
		failed |= rc != 0;
	}
	close_failed |= failed;
	return failed;
}

static void at_exit(void)
{
	sr_close_forgotten(0, "at exit");
	simrec_t *rec = first_open(1);
	if (rec && rec->rank == 0)
		fprintf(stderr,
		        "simrec: the recorder of '%s' was not closed and MPI "
		        "was not finalized: records since its last flush are "
		        "lost\n",
		        rec->label);
	if (close_failed || rec)
		_exit(1); /* the close failed: the exit status says so */
}

int sr_term_pending(void)
{
	return term_seen != 0;
}

void sr_term_act(void)
{
	sr_close_forgotten(1, "after SIGTERM");
	sr_close_forgotten(0, "after SIGTERM");
	/* the handler was reset to the default: die as SIGTERM asked */
	raise(SIGTERM);
	_exit(128 + SIGTERM);
}

int sr_term_serial(void)
{
	if (!term_seen || first_open(1))
		return 0; /* the collective layer acts at its next step */
	sr_term_act();
	return 0;
}
