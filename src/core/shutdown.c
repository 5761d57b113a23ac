/* Recorders left open: closed at process exit (atexit, serial
 * recorders), at MPI_Finalize (the collective layer calls
 * sr_close_forgotten from its MPI_COMM_SELF delete callback) and after a
 * SIGTERM (the handler only sets a flag; the next simrec call acts on it,
 * see docs/safety.md "At exit and at the time limit"). Each close prints
 * one line naming the store, so that the omission is visible. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recorder.h"

static int close_failed; /* a close at exit failed: exit status 1 */

int sr_close_forgotten(int mpi, const char *when)
{
	int failed = 0;
	simrec_t *rec;
	while ((rec = sr_rec_first_open(mpi))) {
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
	/* a collective recorder cannot be closed by this rank alone (the
	 * others may be waiting in a collective call, or gone): nothing is
	 * flushed; what was flushed stays */
	simrec_t *rec = sr_rec_first_open(1);
	if (rec)
		fprintf(stderr,
		        "simrec: rank %d: the recorder of '%s' was not closed "
		        "and MPI was not finalized: not closed (collective), "
		        "records since its last flush are lost\n",
		        rec->rank, rec->label);
	if (close_failed || rec)
		_exit(1); /* the close failed: the exit status says so */
}

int simrec_abandon(simrec_t *rec)
{
	if (!rec)
		return SIMREC_EINVAL;
	sr_rec_untrack(rec);
	fprintf(stderr,
	        "simrec: rank %d abandons the recorder of '%s' (leaving on "
	        "a failure): not closed, records since its last flush are "
	        "lost\n",
	        rec->rank, rec->label);
	return 0;
}

void sr_term_act(void)
{
	sr_close_forgotten(1, "after SIGTERM");
	sr_close_forgotten(0, "after SIGTERM");
	/* the handler was reset to the default: die as SIGTERM asked */
	raise(SIGTERM);
	_exit(128 + SIGTERM);
}

/* At load: the exit handler and the SIGTERM action, for tracked.c. */
__attribute__((constructor)) static void shutdown_setup(void)
{
	sr_term_hook = sr_term_act;
	sr_exit_hook = at_exit;
}
