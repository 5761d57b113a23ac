/* A writer fenced off by a newer one learns it at its next call.
 *   test_fenced write URI READY GO   (MPI) 3 steps of record_all "run/u"
 *                                    and record_global "run/g", rank 0's
 *                                    records of "indep/e", a flush; rank
 *                                    0 writes a line to the FIFO READY
 *                                    and waits for one from the FIFO GO
 *                                    (meanwhile a newer writer takes the
 *                                    store over); then every call must
 *                                    fail with SIMREC_ELOCK on every rank
 *                                    at once: record_all, record_global,
 *                                    rank 0's record (buffered: no chunk
 *                                    write), flush and close
 *   test_fenced takeover URI         no MPI: opens the store for
 *                                    appending, records "takeover/x",
 *                                    closes
 *   test_fenced read URI NP [g]      no MPI: "run/u" holds 3 steps of NP
 *                                    ranks, "indep/e" 3 records,
 *                                    "takeover/x" 1, with g "run/g" 3
 *                                    steps, every value as written
 * The chunks are large (1 MiB), so that none of the fenced calls writes a
 * chunk: only asking the lock tells them. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_check.h"

enum { N = 4, STEPS = 3 };

static double val(size_t step, size_t r, size_t j)
{
	return (double)step * 100.0 + (double)r * 10.0 + (double)j;
}

/* the same status on every rank, and it is want */
static void all_get(simrec_t *rec, int rc, int want, const char *what)
{
	int lo = rc, hi = rc;
	MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	if (lo != want || hi != want) {
		fprintf(stderr, "rank %d: %s returned %s (ranks %s..%s): %s\n",
		        rank, what, simrec_err_name(rc), simrec_err_name(lo),
		        simrec_err_name(hi), simrec_errmsg(rec));
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	if (want == SIMREC_ELOCK && rc &&
	    !strstr(simrec_errmsg(rec), "newer writer")) {
		fprintf(stderr,
		        "rank %d: %s: the message does not name the "
		        "newer writer: %s\n",
		        rank, what, simrec_errmsg(rec));
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
}

static int step(simrec_t *rec, size_t s, int nranks)
{
	double v[N];
	size_t shape[1] = {N};
	for (size_t j = 0; j < N; j++)
		v[j] = val(s, (size_t)rank, j);
	int rc = simrec_record_all(rec, "run/u", SIMREC_FLOAT64, 1, shape, v);
	all_get(rec, rc, rc, "record_all");
	if (rc)
		return rc;
	size_t gshape[1] = {(size_t)nranks * N}, start[1] = {(size_t)rank * N};
	rc = simrec_record_global(rec, "run/g", SIMREC_FLOAT64, 1, gshape,
	                          start, shape, v);
	all_get(rec, rc, rc, "record_global");
	return rc;
}

static void wait_for_takeover(const char *ready, const char *go)
{
	if (rank == 0) {
		FILE *f = fopen(ready, "w");
		CHECK(f != NULL);
		fprintf(f, "ready\n");
		CHECK(fclose(f) == 0);
		char line[16];
		f = fopen(go, "r");
		CHECK(f != NULL && fgets(line, sizeof line, f) != NULL);
		fclose(f);
	}
	MPI_Barrier(MPI_COMM_WORLD);
}

static int run_write(const char *uri, const char *ready, const char *go)
{
	int nranks;
	MPI_Comm_size(MPI_COMM_WORLD, &nranks);
	simrec_options_t o;
	simrec_options_init(&o);
	o.chunk_bytes = 1 << 20;
	simrec_t *rec;
	CHECK_RC(NULL, simrec_open_comm(&rec, uri, &o, MPI_COMM_WORLD), 0);
	double e[N];
	size_t shape[1] = {N};
	for (size_t s = 0; s < STEPS; s++) {
		CHECK_RC(rec, step(rec, s, nranks), 0);
		for (size_t j = 0; j < N; j++)
			e[j] = val(s, 9, j);
		if (rank == 0)
			CHECK_RC(rec,
			         simrec_record(rec, "indep/e", SIMREC_FLOAT64,
			                       1, shape, e),
			         0);
	}
	all_get(rec, simrec_flush(rec), 0, "flush");
	wait_for_takeover(ready, go);
	/* fenced: each call fails at once, on every rank */
	int rc = step(rec, STEPS, nranks);
	all_get(rec, rc, SIMREC_ELOCK, "record_all after the takeover");
	size_t gshape[1] = {(size_t)nranks * N}, start[1] = {(size_t)rank * N};
	rc = simrec_record_global(rec, "run/g", SIMREC_FLOAT64, 1, gshape,
	                          start, shape, e);
	all_get(rec, rc, SIMREC_ELOCK, "record_global after the takeover");
	if (rank == 0)
		CHECK_RC(rec,
		         simrec_record(rec, "indep/e", SIMREC_FLOAT64, 1, shape,
		                       e),
		         SIMREC_ELOCK);
	all_get(rec, simrec_flush(rec), SIMREC_ELOCK,
	        "flush after the takeover");
	rc = simrec_close(rec);
	all_get(NULL, rc, SIMREC_ELOCK, "close after the takeover");
	if (rank == 0)
		printf("fenced np=%d: every call failed with SIMREC_ELOCK on "
		       "every rank\n",
		       nranks);
	return 0;
}

static int run_takeover(const char *uri)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_APPEND;
	simrec_t *rec;
	CHECK_RC(NULL, simrec_open(&rec, uri, &o), 0);
	double x = 42;
	size_t shape[1] = {1};
	CHECK_RC(rec,
	         simrec_record(rec, "takeover/x", SIMREC_FLOAT64, 1, shape, &x),
	         0);
	CHECK_RC(rec, simrec_close(rec), 0);
	return 0;
}

/* key holds steps records of shape (rows, N); value(step, row, j) */
static void read_key(simrec_t *rec, const char *key, size_t steps, size_t rows,
                     int ranked)
{
	simrec_dataset_t *ds;
	CHECK_RC(rec, simrec_get_all(rec, key, &ds), 0);
	size_t sh[3] = {0};
	simrec_dataset_shape(ds, sh);
	int nd = simrec_dataset_ndim(ds);
	size_t cols = nd == 3 ? sh[1] * sh[2] : sh[1];
	CHECK(sh[0] == steps && cols == rows * N);
	double *v = malloc(steps * cols * sizeof *v);
	CHECK(v != NULL);
	size_t start[3] = {0}, count[3] = {sh[0], sh[1], sh[2]};
	CHECK_RC(rec,
	         simrec_dataset_read(ds, start, count, v,
	                             steps * cols * sizeof *v),
	         0);
	for (size_t s = 0; s < steps; s++)
		for (size_t r = 0; r < rows; r++)
			for (size_t j = 0; j < N; j++)
				CHECK(v[(s * rows + r) * N + j] ==
				      val(s, ranked ? r : 9, j));
	free(v);
	simrec_dataset_close(ds);
}

static int run_read(const char *uri, size_t np, int global)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	CHECK_RC(NULL, simrec_open(&rec, uri, &o), 0);
	read_key(rec, "run/u", STEPS, np, 1);
	if (global)
		read_key(rec, "run/g", STEPS, np, 1);
	read_key(rec, "indep/e", STEPS, 1, 0);
	simrec_dataset_t *ds;
	CHECK_RC(rec, simrec_get_all(rec, "takeover/x", &ds), 0);
	size_t sh[2];
	simrec_dataset_shape(ds, sh);
	CHECK(sh[0] == 1);
	simrec_dataset_close(ds);
	CHECK_RC(rec, simrec_close(rec), 0);
	printf("fenced read: the fenced writer's steps before the takeover, "
	       "the newer writer's record, nothing after\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "write")) {
		MPI_Init(&argc, &argv);
		MPI_Comm_rank(MPI_COMM_WORLD, &rank);
		int rc = run_write(argv[2], argv[3], argv[4]);
		MPI_Finalize();
		return rc;
	}
	if (argc == 3 && !strcmp(argv[1], "takeover"))
		return run_takeover(argv[2]);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "read"))
		return run_read(argv[2], (size_t)atol(argv[3]), argc == 5);
	fprintf(stderr, "usage: test_fenced write URI READY GO | takeover URI "
	                "| read URI NP [g]\n");
	return 2;
}
