/* The writer of the live-follow tests: every rank owns a band of rows of
 * "field/T" (record_global, uneven bands, a rank may own none), and the
 * job records N steps, each flushed (committed) before the next.
 *   follow_writer URI N PACE
 * Rank 0 prints "open PID" once the store is open (PID: its own, for a
 * test's kill -9), then reads one byte from the file PACE (a FIFO the test
 * writes) before each step and prints "step S" once step S is flushed,
 * so that the test, not the clock, sets the pace. Then it closes the
 * recorder (the finished mark). Exit 0, or 1 on a failure. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "follow_data.h"
#include "test_check.h"

/* rows [*r0, *r0 + *n) of this rank's band */
static void band(int r, int size, size_t *r0, size_t *n)
{
	size_t base = FOLLOW_NY / (size_t)size,
	       extra = FOLLOW_NY % (size_t)size;
	size_t ur = (size_t)r;
	*r0 = ur * base + (ur < extra ? ur : extra);
	*n = base + (ur < extra);
}

static void step(simrec_t *rec, int size, size_t s)
{
	size_t r0, n;
	band(rank, size, &r0, &n);
	double *b = malloc((n ? n : 1) * FOLLOW_NX * sizeof *b);
	CHECK(b);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < FOLLOW_NX; j++)
			b[i * FOLLOW_NX + j] = follow_value(s, r0 + i, j);
	size_t g[2] = {FOLLOW_NY, FOLLOW_NX}, st[2] = {r0, 0},
	       c[2] = {n, FOLLOW_NX};
	CHECK_RC(rec,
	         simrec_record_global(rec, FOLLOW_KEY, SIMREC_FLOAT64, 2, g, st,
	                              c, b),
	         0);
	free(b);
	CHECK_RC(rec, simrec_flush(rec), 0);
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	int size;
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	CHECK(argc == 4);
	long nsteps = atol(argv[2]);
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	simrec_t *rec;
	CHECK_RC(NULL, simrec_open_comm(&rec, argv[1], &o, MPI_COMM_WORLD), 0);
	FILE *pace = NULL;
	if (rank == 0) {
		CHECK((pace = fopen(argv[3], "r")));
		printf("open %ld\n", (long)getpid());
		fflush(stdout);
	}
	for (long s = 0; s < nsteps; s++) {
		int go = rank == 0 ? fgetc(pace) != EOF : 0;
		MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
		CHECK(go);
		step(rec, size, (size_t)s);
		if (rank == 0) {
			printf("step %ld\n", s);
			fflush(stdout);
		}
	}
	CHECK_RC(rec, simrec_close(rec), 0);
	if (pace)
		fclose(pace);
	MPI_Finalize();
	return 0;
}
