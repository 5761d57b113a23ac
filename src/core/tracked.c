/* The writing recorders this process has open (closed for the program
 * at exit by shutdown.c, which registers itself here at load) and the
 * SIGTERM flag: the handler only sets it; the next simrec call acts. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/env.h"
#include "../common/escape.h"
#include "recorder.h"

void (*sr_term_hook)(void);
void (*sr_exit_hook)(void);

static pthread_mutex_t open_mu = PTHREAD_MUTEX_INITIALIZER;
static simrec_t *open_head; /* in open order */
static pthread_once_t term_once = PTHREAD_ONCE_INIT;
static volatile sig_atomic_t term_seen;

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

void sr_rec_track(simrec_t *rec, const char *uris)
{
	char masked[1024];
	simrec_uri_masked(uris ? uris : "", masked, sizeof masked);
	sr_escape(rec->label, sizeof rec->label, masked, strlen(masked), 0);
	rec->owner = getpid();
	pthread_once(&term_once, install_term);
	/* after this recorder's stores opened: the exit handler runs before
	 * theirs (HDF5 closes its library in an atexit handler of its own) */
	if (sr_exit_hook)
		atexit(sr_exit_hook);
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

simrec_t *sr_rec_first_open(int mpi)
{
	pthread_mutex_lock(&open_mu);
	simrec_t *r = open_head;
	while (r && (r->owner != getpid() || !!r->coll != mpi))
		r = r->open_next;
	pthread_mutex_unlock(&open_mu);
	return r;
}

int sr_term_pending(void)
{
	return term_seen != 0;
}

int sr_term_serial(void)
{
	/* with a collective recorder open, its next step acts */
	if (term_seen && sr_term_hook && !sr_rec_first_open(1))
		sr_term_hook();
	return 0;
}
