/* Faults: what a reader sees after a writer is killed or the disk fills,
 * and a bad key in the middle of a run.
 *
 *   test_faults write URI STEPS FLUSH_EVERY ELEMS
 *       record_all "run/u" (ELEMS float64 per rank) for STEPS steps,
 *       simrec_flush every FLUSH_EVERY steps; stops at the first failure.
 *       Rank 0 prints "acked N" after each successful flush and
 *       "failed after N: MESSAGE" on failure. With SIMREC_TEST_KILL_RANK,
 *       _STEP and _FIFO set, that rank writes its pid to the FIFO at that
 *       step (whoever reads it kills the rank) and goes on recording.
 *       With SIMREC_TEST_ACK_STEP and _ACK_FIFO set, rank 0 writes
 *       "acked N" to the FIFO once, after the first flush that
 *       acknowledges at least that many steps (whoever reads it knows
 *       those steps are durable), and goes on recording.
 *       SIMREC_TEST_STEP_USEC paces the run: each step "computes" that
 *       long before its record_all (a run that outlives a fault).
 *   test_faults check URI [=N | >=N]
 *       serial reader: every visible step of "run/u" must hold exactly
 *       what was recorded (no zero-filled or torn rank); the number of
 *       steps must equal (=N) or reach (>=N) N. Prints "steps S torn T".
 *   test_faults badkey URI
 *       record_all of "good" for 20 steps; at step 5 record_all of
 *       "good/child" must fail with the same status on every rank; all
 *       20 steps of "good" must read back afterwards. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simrec.h"

static int rank, size;

static double value(long s, int r, size_t i)
{
	return 1.0 + (double)s * 1e4 + r * 100.0 + (double)(i % 100);
}

static void die(const char *what, simrec_t *rec, int rc)
{
	fprintf(stderr, "rank %d: %s: %s (%s)\n", rank, what,
	        simrec_strerror(rc), rec ? simrec_errmsg(rec) : "");
	MPI_Abort(MPI_COMM_WORLD, 1);
}

static int do_write(const char *uri, long steps, long every, size_t elems)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	o.chunk_bytes = 65536;
	simrec_t *rec;
	int rc = simrec_open_comm(&rec, uri, &o, MPI_COMM_WORLD);
	if (rc)
		die("open", NULL, rc);
	const char *kr = getenv("SIMREC_TEST_KILL_RANK");
	const char *ks = getenv("SIMREC_TEST_KILL_STEP");
	const char *kf = getenv("SIMREC_TEST_KILL_FIFO");
	int victim = kr && ks && kf && atoi(kr) == rank;
	const char *as = getenv("SIMREC_TEST_ACK_STEP");
	const char *af = getenv("SIMREC_TEST_ACK_FIFO");
	int ack_pending = as && af && rank == 0;
	const char *us = getenv("SIMREC_TEST_STEP_USEC");
	long usec = us ? atol(us) : 0;
	double *u = malloc(elems * sizeof *u);
	if (!u)
		die("malloc", NULL, SIMREC_ENOMEM);
	long acked = 0;
	for (long s = 0; s < steps && !rc; s++) {
		if (victim && s == atol(ks)) {
			FILE *f = fopen(kf, "w");
			if (f) {
				fprintf(f, "%ld\n", (long)getpid());
				fclose(f);
			}
		}
		if (usec > 0)
			usleep((useconds_t)usec);
		for (size_t i = 0; i < elems; i++)
			u[i] = value(s, rank, i);
		rc = simrec_record_all(rec, "run/u", SIMREC_FLOAT64, 1, &elems,
		                       u);
		if (!rc && (s + 1) % every == 0) {
			rc = simrec_flush(rec);
			if (!rc)
				acked = s + 1;
			if (!rc && rank == 0) {
				printf("acked %ld\n", acked);
				fflush(stdout);
			}
			if (!rc && ack_pending && acked >= atol(as)) {
				FILE *f = fopen(af, "w");
				if (f) {
					fprintf(f, "acked %ld\n", acked);
					fclose(f);
				}
				ack_pending = 0;
			}
		}
	}
	if (rc && rank == 0) {
		printf("failed after %ld: %s\n", acked, simrec_errmsg(rec));
		fflush(stdout);
	}
	int rc2 = simrec_close(rec);
	if (rank == 0 && rc2) {
		printf("close: %s\n", simrec_strerror(rc2));
		fflush(stdout);
	}
	free(u);
	return 0;
}

static int do_check(const char *uri, const char *expect)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	int rc = simrec_open(&rec, uri, &o);
	if (rc) {
		printf("open failed: %s\n", simrec_strerror(rc));
		return 1;
	}
	simrec_dataset_t *ds = NULL;
	size_t shape[SIMREC_MAX_NDIM] = {0}, steps = 0, torn = 0;
	rc = simrec_get_all(rec, "run/u", &ds);
	if (rc == SIMREC_ENOKEY) {
		rc = 0; /* nothing published yet */
	} else if (!rc) {
		simrec_dataset_shape(ds, shape);
		steps = shape[0];
	}
	size_t row = shape[1] * shape[2];
	double *buf = row ? malloc(row * sizeof *buf) : NULL;
	for (size_t s = 0; !rc && s < steps; s++) {
		size_t start[3] = {s, 0, 0}, count[3] = {1, shape[1], shape[2]};
		rc = simrec_dataset_read(ds, start, count, buf,
		                         row * sizeof *buf);
		int bad = 0;
		for (size_t r = 0; !rc && r < shape[1]; r++)
			for (size_t i = 0; i < shape[2]; i++)
				if (buf[r * shape[2] + i] !=
				    value((long)s, (int)r, i))
					bad = 1;
		torn += (size_t)bad;
	}
	if (rc)
		printf("read failed: %s: %s\n", simrec_strerror(rc),
		       simrec_errmsg(rec));
	printf("steps %zu torn %zu\n", steps, torn);
	free(buf);
	simrec_dataset_close(ds);
	simrec_close(rec);
	if (rc || torn)
		return 1;
	if (expect && expect[0] == '=' && steps != strtoul(expect + 1, 0, 10))
		return 1;
	if (expect && expect[0] == '>' && steps < strtoul(expect + 2, NULL, 10))
		return 1;
	return 0;
}

static int do_badkey(const char *uri)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	simrec_t *rec;
	int rc = simrec_open_comm(&rec, uri, &o, MPI_COMM_WORLD);
	if (rc)
		die("open", NULL, rc);
	size_t n = 4;
	double u[4];
	for (long s = 0; s < 20; s++) {
		for (size_t i = 0; i < n; i++)
			u[i] = value(s, rank, i);
		if (s == 5) {
			rc = simrec_record_all(rec, "good/child",
			                       SIMREC_FLOAT64, 1, &n, u);
			int lo = rc, hi = rc;
			MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN,
			              MPI_COMM_WORLD);
			MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX,
			              MPI_COMM_WORLD);
			if (!rc || lo != hi) {
				fprintf(stderr,
				        "rank %d: bad key gave %d (%d..%d)\n",
				        rank, rc, lo, hi);
				MPI_Abort(MPI_COMM_WORLD, 1);
			}
			if (rank == 0)
				printf("bad key: %s: %s\n", simrec_err_name(rc),
				       simrec_errmsg(rec));
		}
		rc = simrec_record_all(rec, "good", SIMREC_FLOAT64, 1, &n, u);
		if (rc)
			die("record_all good", rec, rc);
	}
	if ((rc = simrec_flush(rec)))
		die("flush", rec, rc);
	if ((rc = simrec_close(rec)))
		die("close", NULL, rc);
	MPI_Barrier(MPI_COMM_WORLD);
	if (rank)
		return 0;
	o.mode = SIMREC_MODE_READONLY;
	if ((rc = simrec_open(&rec, uri, &o)))
		die("reopen", NULL, rc);
	simrec_dataset_t *ds;
	if ((rc = simrec_get_all(rec, "good", &ds)))
		die("get good", rec, rc);
	size_t shape[3];
	simrec_dataset_shape(ds, shape);
	if (shape[0] != 20 || shape[1] != (size_t)size || shape[2] != n) {
		fprintf(stderr, "good has shape %zu x %zu x %zu\n", shape[0],
		        shape[1], shape[2]);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	double *all = malloc(20 * (size_t)size * n * sizeof *all);
	size_t start[3] = {0, 0, 0};
	if (!all || simrec_dataset_read(ds, start, shape, all,
	                                20 * (size_t)size * n * sizeof *all))
		die("read good", rec, SIMREC_EIO);
	for (size_t s = 0; s < 20; s++)
		for (size_t r = 0; r < (size_t)size; r++)
			for (size_t i = 0; i < n; i++)
				if (all[(s * (size_t)size + r) * n + i] !=
				    value((long)s, (int)r, i)) {
					fprintf(stderr, "good[%zu,%zu,%zu]\n",
					        s, r, i);
					MPI_Abort(MPI_COMM_WORLD, 1);
				}
	free(all);
	simrec_dataset_close(ds);
	simrec_close(rec);
	printf("badkey: ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "check"))
		return do_check(argv[2], argc > 3 ? argv[3] : NULL);
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	int rc = 2;
	if (argc == 6 && !strcmp(argv[1], "write"))
		rc = do_write(argv[2], atol(argv[3]), atol(argv[4]),
		              (size_t)atol(argv[5]));
	else if (argc == 3 && !strcmp(argv[1], "badkey"))
		rc = do_badkey(argv[2]);
	else if (rank == 0)
		fprintf(stderr, "usage: see the comment in test_faults.c\n");
	MPI_Finalize();
	return rc;
}
