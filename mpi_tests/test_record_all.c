/* simrec_record_all under mpiexec: test_record_all URI STEPS
 * Every rank records a (3, 5) float64 and an int32 scalar per step, rank 0
 * and the last rank make independent records, one step has a mismatched
 * shape on one rank. Afterwards rank 0 reads everything back (from a
 * reopened store, or from the memory store before close) and compares
 * element by element. SIMREC_WRITERS sets M. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_check.h"

static int size;

static double value(int step, int r, int i)
{
	return step * 1000.0 + r * 10.0 + i * 0.5;
}

/* rank columns [c0, c1) of field/u and field/n; rank 0's and the last
 * rank's independent records and the attribute too if globals */
static void verify(simrec_t *rec, int steps, int c0, int c1, int globals)
{
	simrec_dataset_t *ds;
	CHECK_RC(rec, simrec_get_all(rec, "field/u", &ds), 0);
	size_t sh[4];
	CHECK(simrec_dataset_ndim(ds) == 4);
	simrec_dataset_shape(ds, sh);
	CHECK(sh[0] == (size_t)steps && sh[1] == (size_t)size && sh[2] == 3 &&
	      sh[3] == 5);
	double *u = malloc((size_t)steps * (size_t)size * 15 * sizeof *u);
	CHECK_RC(rec,
	         simrec_dataset_read(ds, NULL, NULL, u,
	                             (size_t)steps * (size_t)size * 15 * 8),
	         0);
	for (int s = 0; s < steps; s++)
		for (int r = c0; r < c1; r++)
			for (int i = 0; i < 15; i++)
				CHECK(u[((size_t)s * (size_t)size + (size_t)r) *
				                15 +
				        (size_t)i] == value(s, r, i));
	free(u);
	simrec_dataset_close(ds);
	CHECK_RC(rec, simrec_get_all(rec, "field/n", &ds), 0);
	int32_t *n = malloc((size_t)steps * (size_t)size * 4);
	CHECK_RC(rec,
	         simrec_dataset_read(ds, NULL, NULL, n,
	                             (size_t)steps * (size_t)size * 4),
	         0);
	for (int s = 0; s < steps; s++)
		for (int r = c0; r < c1; r++)
			CHECK(n[s * size + r] == s * 100 + r);
	free(n);
	simrec_dataset_close(ds);
	if (!globals)
		return;
	/* independent records: rank 0 every step, the last rank every 3rd */
	CHECK_RC(rec, simrec_get_all(rec, "global/time", &ds), 0);
	simrec_dataset_shape(ds, sh);
	CHECK(sh[0] == (size_t)steps);
	double *t = malloc((size_t)steps * 8);
	CHECK_RC(rec, simrec_dataset_read(ds, NULL, NULL, t, (size_t)steps * 8),
	         0);
	for (int s = 0; s < steps; s++)
		CHECK(t[s] == 0.25 * s);
	free(t);
	simrec_dataset_close(ds);
	CHECK_RC(rec, simrec_get_all(rec, "global/last", &ds), 0);
	simrec_dataset_shape(ds, sh);
	CHECK(sh[0] == (size_t)((steps + 2) / 3));
	simrec_dataset_close(ds);
	simrec_attr_t a;
	CHECK_RC(rec, simrec_attr_get(rec, "field", "ranks", &a), 0);
	CHECK(a.type == SIMREC_ATTR_INT && a.i == size);
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (argc < 3) {
		fprintf(stderr, "usage: test_record_all URI STEPS\n");
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	const char *uri = argv[1];
	int steps = atoi(argv[2]);
	int memory = !strncmp(uri, "memory:", 7);
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	o.chunk_bytes = 4096; /* several chunks even for small data */
	simrec_t *rec;
	CHECK_RC(NULL, simrec_open_comm(&rec, uri, &o, MPI_COMM_WORLD), 0);
	const size_t shape[2] = {3, 5}, bad[2] = {3, 6};
	double u[15];
	for (int s = 0; s < steps; s++) {
		for (int i = 0; i < 15; i++)
			u[i] = value(s, rank, i);
		CHECK_RC(rec,
		         simrec_record_all(rec, "field/u", SIMREC_FLOAT64, 2,
		                           shape, u),
		         0);
		int32_t n = s * 100 + rank;
		CHECK_RC(rec,
		         simrec_record_all(rec, "field/n", SIMREC_INT32, 0,
		                           NULL, &n),
		         0);
		if (rank == 0) {
			double t = 0.25 * s;
			CHECK_RC(rec,
			         simrec_record(rec, "global/time",
			                       SIMREC_FLOAT64, 0, NULL, &t),
			         0);
		}
		if (rank == size - 1 && s % 3 == 0)
			CHECK_RC(rec,
			         simrec_record(rec, "global/last", SIMREC_INT32,
			                       0, NULL, &n),
			         0);
		if (s == 1) {
			/* one rank with another shape: every rank fails alike,
			 * and the step is not written */
			int odd = size > 1 ? rank == 1 : 1;
			int rc = simrec_record_all(rec, "field/u",
			                           SIMREC_FLOAT64, 2,
			                           odd ? bad : shape, u);
			CHECK(rc == SIMREC_ESHAPE);
			CHECK(strstr(simrec_errmsg(rec), "field/u") != NULL);
			if (size > 1)
				CHECK(strstr(simrec_errmsg(rec), "rank 1") !=
				      NULL);
			rc = simrec_record_all(rec, "field/u", SIMREC_INT32, 2,
			                       shape, u);
			CHECK(rc == SIMREC_EDTYPE);
		}
	}
	if (rank == size - 1)
		CHECK_RC(rec, simrec_attr_set_int(rec, "field", "ranks", size),
		         0);
	CHECK_RC(rec, simrec_flush(rec), 0);
	if (memory) {
		/* each writer's memory holds its group's columns (docs/mpi.md:
		 * contiguous groups of g = ceil(N / M) ranks, the first one
		 * writes; one writer by default on one node) */
		char *w = getenv("SIMREC_WRITERS");
		int m = w && atoi(w) > 0 ? atoi(w) : 1;
		int g = (size + m - 1) / m;
		if (rank % g == 0)
			verify(rec, steps, rank,
			       rank + g < size ? rank + g : size, rank == 0);
	}
	CHECK_RC(rec, simrec_close(rec), 0);
	if (!memory && rank == 0) {
		/* a post-run reader: serial, read-only */
		o.mode = SIMREC_MODE_READONLY;
		CHECK_RC(NULL, simrec_open(&rec, uri, &o), 0);
		verify(rec, steps, 0, size, 1);
		CHECK_RC(rec, simrec_close(rec), 0);
	}
	MPI_Finalize();
	if (rank == 0)
		printf("test_record_all %s np=%d: ok\n", uri, size);
	return 0;
}
