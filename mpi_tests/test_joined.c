/* simrec_record_joined under mpiexec: test_joined write URI STEP0 STEPS
 * Step s holds T(s) rows of 3 float64 (T = 0 every 4th step from 2), row g
 * being (s*1e4 + g, + 0.1, + 0.2); the ranks split them in rank order,
 * ranks r with r % 3 == 1 giving none. So the step's rows are the same
 * whatever the rank count, and a run on another rank count appends to the
 * same arrays. Then rank 0 reads every step from 0 back
 * (simrec_joined_read; a memory: store before close) and compares; a
 * rank with another row shape fails the step on every rank. The formula
 * is check_joined.py's. Exit status 0 on success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simrec.h"

#include "test_check.h"

static int size;

static size_t total_rows(int s)
{
	return s % 4 == 2 ? 0 : 5 + (size_t)(s * 7 % 11);
}

static double value(int s, size_t g, int c)
{
	return s * 1e4 + (double)g + c * 0.1;
}

static size_t weight(int r)
{
	return r % 3 == 1 ? 0 : (size_t)r + 1;
}

/* This rank's rows of step s: [*lo, *hi). */
static void my_rows(int s, size_t *lo, size_t *hi)
{
	size_t w0 = 0, wsum = 0;
	for (int r = 0; r < size; r++) {
		if (r < rank)
			w0 += weight(r);
		wsum += weight(r);
	}
	size_t t = total_rows(s);
	*lo = t * w0 / wsum;
	*hi = t * (w0 + weight(rank)) / wsum;
}

static void verify(simrec_t *rec, int steps)
{
	double buf[64 * 3];
	for (int s = 0; s < steps; s++) {
		size_t n = 99, row0;
		CHECK_RC(rec,
		         simrec_joined_read(rec, "part/pos", s, buf, sizeof buf,
		                            &n),
		         0);
		CHECK(n == total_rows(s));
		CHECK_RC(rec, simrec_joined_step(rec, "part/pos", s, &row0, &n),
		         0);
		CHECK(n == total_rows(s));
		for (size_t g = 0; g < n; g++)
			for (int c = 0; c < 3; c++)
				CHECK(buf[g * 3 + (size_t)c] == value(s, g, c));
	}
	size_t row0, n;
	CHECK(simrec_joined_step(rec, "part/pos", (size_t)steps, &row0, &n) ==
	      SIMREC_ERANGE);
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	/* test_joined write URI STEP0 STEPS (as test_global's runs) */
	CHECK(argc == 5 && !strcmp(argv[1], "write"));
	const char *uri = argv[2];
	int step0 = atoi(argv[3]), steps = atoi(argv[4]);
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = step0 ? SIMREC_MODE_APPEND : SIMREC_MODE_CREATE;
	o.chunk_bytes = 256; /* rows over several chunks */
	simrec_t *rec;
	CHECK_RC(NULL, simrec_open_comm(&rec, uri, &o, MPI_COMM_WORLD), 0);
	double rows[64 * 3];
	for (int s = step0; s < step0 + steps; s++) {
		size_t lo, hi;
		my_rows(s, &lo, &hi);
		for (size_t g = lo; g < hi; g++)
			for (int c = 0; c < 3; c++)
				rows[(g - lo) * 3 + (size_t)c] = value(s, g, c);
		size_t shape[2] = {hi - lo, 3};
		CHECK_RC(rec,
		         simrec_record_joined(rec, "part/pos", SIMREC_FLOAT64,
		                              2, shape, hi > lo ? rows : NULL),
		         0);
		if (s == step0 && size > 1) { /* rank 1's rows of 4 columns */
			size_t bad[2] = {1, rank == 1 ? 4 : 3};
			int rc = simrec_record_joined(
			        rec, "part/pos", SIMREC_FLOAT64, 2, bad, rows);
			CHECK(rc == SIMREC_ESHAPE);
			CHECK(strstr(simrec_errmsg(rec), "rank 1") != NULL);
		}
		if (s % 3 == 1)
			CHECK_RC(rec, simrec_flush(rec), 0);
	}
	close_and_verify(rec, uri, step0 + steps, verify);
	if (rank == 0)
		printf("test_joined np=%d steps %d..%d: ok\n", size, step0,
		       step0 + steps - 1);
	MPI_Finalize();
	return 0;
}
