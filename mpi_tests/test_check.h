/* Checks of the MPI test programs: a failed check prints where and why
 * (with the recorder's message) and aborts the job; rank is the
 * program's MPI rank, set by it. */
#ifndef SIMREC_TEST_CHECK_H
#define SIMREC_TEST_CHECK_H

#include <stdio.h>

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

#endif
