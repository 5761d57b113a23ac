/* One key's background write fails; the others go on.
 *   test_keyfail DIR [noflush|twokeys]
 * record_all of "a" and "b" into zarr+dir:DIR/s.zarr for 30 steps, a flush
 * after every step. After step 3, rank 0 plants a directory under the name
 * of every chunk that step 12 of "a" writes (the names of step 0's chunks
 * with 12 in front), so that write fails in the writer's background
 * thread. Asserted, on every rank: each call's status is the same
 * everywhere; the flush after step 12 fails naming key "a" and the
 * store's path (the cause, reported once); every later record_all of "a"
 * fails at once; every record_all of "b" and every other flush succeed,
 * and so does close. Afterwards "a" holds steps 0..11 and "b" all 30,
 * each value as recorded. With noflush, no flush before close: the
 * record_all of "a" after step 12 reports the cause (its write of step 12
 * ended before the writer took step 12 of "b"), later ones fail at once,
 * close fails with that status (step 12 of "a", recorded since the last
 * successful flush, was lost), and "a" still holds steps 0..11 (its rows
 * written before the failure, made durable by close).
 * With twokeys, a third key "c", recorded up to step 12 only, fails the
 * same way in the same step: the flush after step 12 reports a's cause,
 * the next flush c's (a second failure waits behind the first instead of
 * being lost), and "c" holds steps 0..11. */
#include <dirent.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "simrec.h"

enum { STEPS = 30, BAD = 12, N = 2048 };
static int rank, size;

static void fail(const char *what)
{
	fprintf(stderr, "rank %d: %s\n", rank, what);
	MPI_Abort(MPI_COMM_WORLD, 1);
}

static double value(long s, int r, size_t i, int k)
{
	return (double)s * 1e6 + r * 1e4 + (double)i + k * 0.5;
}

/* the same status on every rank */
static int same(int rc)
{
	int lo = rc, hi = rc;
	MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	if (lo != hi)
		fail("a call's status differs between ranks");
	return rc;
}

/* a directory in the place of every chunk of step BAD of key */
static void plant(const char *store, const char *key)
{
	char dir[1024], p[1100];
	snprintf(dir, sizeof dir, "%s/%s", store, key);
	DIR *d = opendir(dir);
	if (!d)
		fail("no directory for the key");
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (strncmp(e->d_name, "0.", 2))
			continue;
		snprintf(p, sizeof p, "%s/%d%s", dir, BAD, e->d_name + 1);
		if (mkdir(p, 0755))
			fail("cannot plant a directory");
		snprintf(p, sizeof p, "%s/%d%s/x", dir, BAD, e->d_name + 1);
		if (mkdir(p, 0755))
			fail("cannot plant a directory");
		n++;
	}
	closedir(d);
	if (!n)
		fail("the key has no chunk of step 0");
}

static void check_key(simrec_t *rec, const char *key, int k, size_t steps)
{
	simrec_dataset_t *ds;
	size_t shape[3];
	if (simrec_get_all(rec, key, &ds))
		fail(simrec_errmsg(rec));
	simrec_dataset_shape(ds, shape);
	if (shape[0] != steps || shape[1] != (size_t)size || shape[2] != N) {
		fprintf(stderr, "%s has %zu steps, not %zu\n", key, shape[0],
		        steps);
		fail("wrong shape");
	}
	double *v = malloc((size_t)size * N * sizeof *v);
	for (size_t s = 0; v && s < steps; s++) {
		size_t start[3] = {s, 0, 0}, count[3] = {1, shape[1], N};
		if (simrec_dataset_read(ds, start, count, v,
		                        (size_t)size * N * sizeof *v))
			fail(simrec_errmsg(rec));
		for (int r = 0; r < size; r++)
			for (size_t i = 0; i < N; i++)
				if (v[(size_t)r * N + i] !=
				    value((long)s, r, i, k))
					fail("a value differs");
	}
	free(v);
	simrec_dataset_close(ds);
}

int main(int argc, char **argv)
{
	const char *mode = argc == 3 ? argv[2] : "";
	int noflush = !strcmp(mode, "noflush"), two = !strcmp(mode, "twokeys");
	if (argc < 2 || argc > 3 || (argc == 3 && !noflush && !two)) {
		fprintf(stderr, "usage: test_keyfail DIR [noflush|twokeys]\n");
		return 2;
	}
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	char store[512], uri[600];
	snprintf(store, sizeof store, "%s/s.zarr", argv[1]);
	snprintf(uri, sizeof uri, "zarr+dir:%s?codec=none", store);
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	o.chunk_bytes = N * sizeof(double); /* a chunk: one step of a rank */
	simrec_t *rec;
	if (same(simrec_open_comm(&rec, uri, &o, MPI_COMM_WORLD)))
		fail("open");
	static double u[N];
	size_t n = N;
	for (long s = 0; s < STEPS; s++) {
		if (s == 4 && rank == 0)
			plant(store, "a");
		if (two && s == 4 && rank == 0)
			plant(store, "c");
		MPI_Barrier(MPI_COMM_WORLD);
		for (size_t i = 0; i < N; i++)
			u[i] = value(s, rank, i, 0);
		int ra = same(
		        simrec_record_all(rec, "a", SIMREC_FLOAT64, 1, &n, u));
		if (ra && rank == 0 && s == BAD + 1)
			printf("step %ld: a: %s\n", s, simrec_errmsg(rec));
		/* without flushes the first refused step reports the cause */
		if (noflush && ra && s == BAD + 1 &&
		    (!strstr(simrec_errmsg(rec), store) ||
		     strstr(simrec_errmsg(rec), "reported before")))
			fail("record_all of a: the cause not reported");
		/* step BAD is written in the background: its failure is
		 * reported by the flush after it; later steps of "a" fail */
		if (!ra != (s <= BAD) ||
		    (ra && !strstr(simrec_errmsg(rec), "key 'a'")))
			fail("record_all of a: wrong status");
		for (size_t i = 0; i < N; i++)
			u[i] = value(s, rank, i, 1);
		if (same(simrec_record_all(rec, "b", SIMREC_FLOAT64, 1, &n, u)))
			fail(simrec_errmsg(rec));
		for (size_t i = 0; i < N; i++)
			u[i] = value(s, rank, i, 2);
		if (two && s <= BAD &&
		    same(simrec_record_all(rec, "c", SIMREC_FLOAT64, 1, &n, u)))
			fail(simrec_errmsg(rec));
		if (noflush)
			continue;
		int rf = same(simrec_flush(rec));
		if (rf && rank == 0)
			printf("step %ld: flush: %s\n", s, simrec_errmsg(rec));
		const char *why = s == BAD ? "key 'a'" : "key 'c'";
		if (!rf != (s != BAD && (!two || s != BAD + 1)) ||
		    (rf && (!strstr(simrec_errmsg(rec), why) ||
		            !strstr(simrec_errmsg(rec), store))))
			fail("flush: wrong status, or the cause not named");
	}
	int rc = same(simrec_close(rec));
	if (noflush ? !rc || !strstr(simrec_errmsg(NULL), "key 'a'") : rc)
		fail(simrec_errmsg(NULL));
	MPI_Barrier(MPI_COMM_WORLD);
	if (rank == 0) {
		o.mode = SIMREC_MODE_READONLY;
		if (simrec_open(&rec, uri, &o))
			fail("reopen");
		check_key(rec, "a", 0, BAD);
		check_key(rec, "b", 1, STEPS);
		if (two)
			check_key(rec, "c", 2, BAD);
		simrec_close(rec);
		printf("keyfail: ok\n");
	}
	MPI_Finalize();
	return 0;
}
