/* Programs that forget simrec_close, and a job ended by SIGTERM.
 *   test_noclose serial URI N    no MPI: N records of "x", return from
 *                                main without simrec_close
 *   test_noclose mpi URI N       record_all "y" N steps, rank 0 also N
 *                                records of "x", MPI_Finalize, no close
 *   test_noclose fail URI N      as mpi with a flush after each step,
 *                                but before step N rank 1 calls exit(1)
 *                                while the others enter record_all: the
 *                                job must end (not hang), steps 0..N-1
 *                                stay whole
 *   test_noclose term URI FIFO   record_all "y" until killed; after step
 *                                5, rank 0 writes every rank's pid on one
 *                                line to FIFO; prints "acked N" after each
 *                                step every rank returned from
 *   test_noclose hold URI FIFO   no MPI: 3 records of "x", flush, a
 *                                second open of its own refused, its pid
 *                                to FIFO.out, a line from FIFO.in, 4 more,
 *                                close
 *   test_noclose second URI      no MPI: an open for writing must be
 *                                refused with SIMREC_ELOCK (exit 0)
 *   test_noclose read URI N NP   checks the store: "x" has N records
 *                                (NP 0: only "x"); "y" has N steps of NP
 *                                ranks (N given as ">=K": at least K);
 *                                every value as written
 * For memory: the writer itself checks nothing after exit: its message
 * and exit status tell (noclose.sh). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_check.h"

static double xval(size_t i, size_t j)
{
	return (double)i * 10.0 + (double)j;
}

static double yval(size_t step, size_t r, size_t j)
{
	return (double)step * 100.0 + (double)r * 10.0 + (double)j;
}

static void record_x(simrec_t *rec, size_t i)
{
	double v[4];
	size_t shape[1] = {4};
	for (size_t j = 0; j < 4; j++)
		v[j] = xval(i, j);
	CHECK_RC(rec, simrec_record(rec, "x", SIMREC_FLOAT64, 1, shape, v), 0);
}

static void record_y(simrec_t *rec, size_t step)
{
	double v[3];
	size_t shape[1] = {3};
	for (size_t j = 0; j < 3; j++)
		v[j] = yval(step, (size_t)rank, j);
	CHECK_RC(rec, simrec_record_all(rec, "y", SIMREC_FLOAT64, 1, shape, v),
	         0);
}

static int run_serial(const char *uri, size_t n)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	simrec_t *rec;
	CHECK_RC(NULL, simrec_open(&rec, uri, &o), 0);
	for (size_t i = 0; i < n; i++)
		record_x(rec, i);
	return 0; /* no simrec_close */
}

static simrec_t *open_mpi(const char *uri)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	simrec_t *rec;
	CHECK_RC(NULL, simrec_open_comm(&rec, uri, &o, MPI_COMM_WORLD), 0);
	return rec;
}

static int run_mpi(const char *uri, size_t n)
{
	simrec_t *rec = open_mpi(uri);
	for (size_t i = 0; i < n; i++) {
		record_y(rec, i);
		if (rank == 0)
			record_x(rec, i);
	}
	MPI_Finalize();
	return 0; /* no simrec_close */
}

static int run_fail(const char *uri, size_t n)
{
	simrec_t *rec = open_mpi(uri);
	for (size_t i = 0;; i++) {
		if (i == n && rank == 1) {
			fprintf(stderr, "rank 1: exit(1) before step %zu\n", i);
			exit(1);
		}
		record_y(rec, i);
		if (rank == 0)
			record_x(rec, i);
		CHECK_RC(rec, simrec_flush(rec), 0);
		if (i > n + 1000) {
			fprintf(stderr, "rank %d: step %zu: never stopped\n",
			        rank, i);
			MPI_Abort(MPI_COMM_WORLD, 3);
		}
	}
}

static void send_pids(const char *fifo)
{
	int size;
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	int me = (int)getpid();
	int *pids = malloc((size_t)size * sizeof *pids);
	CHECK(pids);
	MPI_Gather(&me, 1, MPI_INT, pids, 1, MPI_INT, 0, MPI_COMM_WORLD);
	if (rank == 0) {
		FILE *f = fopen(fifo, "w");
		CHECK(f);
		for (int r = 0; r < size; r++)
			fprintf(f, "%d%c", pids[r], r + 1 < size ? ' ' : '\n');
		CHECK(fclose(f) == 0);
	}
	free(pids);
}

static int run_term(const char *uri, const char *fifo)
{
	simrec_t *rec = open_mpi(uri);
	for (size_t i = 0; i < 1000000; i++) {
		record_y(rec, i);
		if (rank == 0) {
			printf("acked %zu\n", i + 1);
			fflush(stdout);
		}
		if (i == 5)
			send_pids(fifo);
	}
	fprintf(stderr, "rank %d: SIGTERM never acted on\n", rank);
	MPI_Abort(MPI_COMM_WORLD, 3);
	return 3;
}

static void check_key(simrec_t *rec, const char *key, size_t want, int atleast,
                      size_t np)
{
	simrec_dataset_t *ds;
	CHECK_RC(rec, simrec_get_all(rec, key, &ds), 0);
	size_t shape[3] = {0, 0, 0};
	CHECK(simrec_dataset_ndim(ds) == (np ? 3 : 2));
	simrec_dataset_shape(ds, shape);
	size_t row = np ? np * 3 : 4;
	if (atleast ? shape[0] < want : shape[0] != want) {
		fprintf(stderr, "%s: %zu records, want %s%zu\n", key, shape[0],
		        atleast ? ">=" : "", want);
		exit(1);
	}
	double *v = malloc((shape[0] * row + 1) * sizeof *v);
	CHECK(v);
	size_t start[3] = {0, 0, 0};
	CHECK_RC(rec,
	         simrec_dataset_read(ds, start, shape, v,
	                             shape[0] * row * sizeof *v),
	         0);
	for (size_t i = 0; i < shape[0]; i++)
		for (size_t k = 0; k < row; k++) {
			double w = np ? yval(i, k / 3, k % 3) : xval(i, k);
			if (v[i * row + k] != w) {
				fprintf(stderr,
				        "%s[%zu] element %zu: %g, want %g\n",
				        key, i, k, v[i * row + k], w);
				exit(1);
			}
		}
	printf("%s: %zu records, all as written\n", key, shape[0]);
	free(v);
	simrec_dataset_close(ds);
}

static int run_hold(const char *uri, const char *fifo)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	simrec_t *rec;
	CHECK_RC(NULL, simrec_open(&rec, uri, &o), 0);
	for (size_t i = 0; i < 3; i++)
		record_x(rec, i);
	CHECK_RC(rec, simrec_flush(rec), 0);
	/* its own second open is refused, and must not drop its lock (a
	 * process's fcntl locks went with any descriptor of the file) */
	simrec_t *again = NULL;
	simrec_options_t a;
	simrec_options_init(&a);
	CHECK(simrec_open(&again, uri, &a) == SIMREC_ELOCK);
	char path[4096], line[64];
	snprintf(path, sizeof path, "%s.out", fifo);
	FILE *f = fopen(path, "w");
	CHECK(f && fprintf(f, "%ld\n", (long)getpid()) > 0 && !fclose(f));
	snprintf(path, sizeof path, "%s.in", fifo);
	f = fopen(path, "r");
	CHECK(f && fgets(line, sizeof line, f) && !fclose(f));
	for (size_t i = 3; i < 7; i++)
		record_x(rec, i);
	CHECK_RC(rec, simrec_close(rec), 0);
	return 0;
}

static int run_second(const char *uri)
{
	simrec_t *rec;
	int rc = simrec_open(&rec, uri, NULL);
	fprintf(stderr, "%s: %s\n", simrec_err_name(rc), simrec_errmsg(NULL));
	if (!rc)
		simrec_close(rec);
	return rc == SIMREC_ELOCK ? 0 : 1;
}

static int run_read(const char *uri, const char *n, size_t np)
{
	int atleast = !strncmp(n, ">=", 2);
	size_t want = strtoul(n + (atleast ? 2 : 0), NULL, 10);
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	CHECK_RC(NULL, simrec_open(&rec, uri, &o), 0);
	if (!atleast)
		check_key(rec, "x", want, 0, 0);
	if (np)
		check_key(rec, "y", want, atleast, np);
	CHECK_RC(rec, simrec_close(rec), 0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || (argc < 4 && strcmp(argv[1], "second"))) {
		fprintf(stderr,
		        "usage: test_noclose serial|mpi|fail|term|read URI "
		        "N|FIFO [NP]\n");
		return 2;
	}
	const char *mode = argv[1], *uri = argv[2];
	if (!strcmp(mode, "serial"))
		return run_serial(uri, strtoul(argv[3], NULL, 10));
	if (!strcmp(mode, "hold"))
		return run_hold(uri, argv[3]);
	if (!strcmp(mode, "second"))
		return run_second(uri);
	if (!strcmp(mode, "read"))
		return run_read(uri, argv[3],
		                argc > 4 ? strtoul(argv[4], NULL, 10) : 0);
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	if (!strcmp(mode, "mpi"))
		return run_mpi(uri, strtoul(argv[3], NULL, 10));
	if (!strcmp(mode, "fail"))
		return run_fail(uri, strtoul(argv[3], NULL, 10));
	if (!strcmp(mode, "term"))
		return run_term(uri, argv[3]);
	fprintf(stderr, "unknown mode '%s'\n", mode);
	MPI_Abort(MPI_COMM_WORLD, 2);
	return 2;
}
