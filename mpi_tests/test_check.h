/* Checks of the MPI test programs: a failed check prints where and why
 * (with the recorder's message) and aborts the job; rank is the
 * program's MPI rank, set by it. */
#ifndef SIMREC_TEST_CHECK_H
#define SIMREC_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "simrec.h"

static int rank;

#define CHECK(c)                                                              \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "rank %d: %s:%d: check failed: %s\n", \
			        rank, __FILE__, __LINE__, #c);                \
			MPI_Abort(MPI_COMM_WORLD, 1);                         \
		}                                                             \
	} while (0)
#define CHECK_RC(rec, e, want)                                             \
	do {                                                               \
		int rc_ = (e);                                             \
		if (rc_ != (want)) {                                       \
			fprintf(stderr, "rank %d: %s:%d: %s = %s (%s)\n",  \
			        rank, __FILE__, __LINE__, #e,              \
			        simrec_err_name(rc_), simrec_errmsg(rec)); \
			MPI_Abort(MPI_COMM_WORLD, 1);                      \
		}                                                          \
	} while (0)

/* Collective: close rec after steps 0 .. upto-1 were recorded; rank 0
 * checks them all with verify: a memory: store before the close (it lives
 * only as long as its recorder), any other store reopened read-only after
 * it. */
static inline void close_and_verify(simrec_t *rec, const char *uri, int upto,
                                    void (*verify)(simrec_t *, int))
{
	int memory = !strncmp(uri, "memory:", 7);
	if (memory && rank == 0)
		verify(rec, upto);
	CHECK_RC(rec, simrec_close(rec), 0);
	MPI_Barrier(MPI_COMM_WORLD);
	if (!memory && rank == 0) {
		simrec_options_t o;
		simrec_options_init(&o);
		o.mode = SIMREC_MODE_READONLY;
		CHECK_RC(NULL, simrec_open(&rec, uri, &o), 0);
		verify(rec, upto);
		CHECK_RC(rec, simrec_close(rec), 0);
	}
}

#endif
