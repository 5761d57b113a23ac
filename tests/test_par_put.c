/* A zarr+dir write of several MiB puts its chunk files on several
 * threads (threads=4, codec none; docs/mpi.md "Writers"). Its chunks
 * must read back as written, its edge chunks (assembled, padded) too,
 * and a put that fails on one of the threads must fail the write with
 * its cause, naming the key and the chunk, and publish nothing of it.
 *   test_par_put DIR
 * Records 3 steps of "x", (2, 500001) float64 (8 MB: with chunk_bytes=1M
 * the chunks are (1, 1, 125001), 8 a step, the last of each row
 * partial), into zarr+dir:DIR/s.zarr. Then plants a non-empty directory
 * where chunk 3.1.2 of step 3 goes and records step 3: the record (or
 * the flush after it) fails with SIMREC_EIO naming 'x' and '3.1.2'.
 * Reopened read-only, "x" has exactly 3 steps, each value as recorded.
 * That the puts overlap is asserted through the library's test hook
 * (sr_test_after_put, src/store/zarr/kv.h): in the write of step 1, the
 * first put to return (a chunk's) waits until another put returns on
 * another thread
 * (a serial write would never come: the wait ends after 60 s and the
 * check fails). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "check.h"

__attribute__((visibility("default"))) void sr_test_after_put(void);

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int armed, waiting, overlapped;
static pthread_t first;

void sr_test_after_put(void)
{
	pthread_mutex_lock(&mu);
	if (armed && !overlapped) {
		if (!waiting) {
			waiting = 1;
			first = pthread_self();
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 60;
			while (!overlapped &&
			       pthread_cond_timedwait(&cv, &mu, &until) !=
			               ETIMEDOUT)
				;
			armed = 0; /* met or given up: no more waits */
		} else if (!pthread_equal(first, pthread_self())) {
			overlapped = 1;
			pthread_cond_broadcast(&cv);
		}
	}
	pthread_mutex_unlock(&mu);
}

#define ROWS  2
#define COLS  500001
#define STEPS 3

static double value(int s, size_t r, size_t c)
{
	return s * 1e7 + (double)r * 1e6 + (double)c;
}

static void fill(int s, double *v)
{
	for (size_t r = 0; r < ROWS; r++)
		for (size_t c = 0; c < COLS; c++)
			v[r * COLS + c] = value(s, r, c);
}

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	char store[2048], uri[2200], p[2300];
	snprintf(store, sizeof store, "%s/s.zarr", argv[1]);
	snprintf(uri, sizeof uri,
	         "zarr+dir:%s?codec=none&chunk_bytes=1M&threads=4", store);
	double *v = malloc(ROWS * COLS * sizeof *v);
	CHECK(v);
	size_t shape[2] = {ROWS, COLS};

	simrec_t *rec;
	CHECK_OK(NULL, simrec_open(&rec, uri, NULL));
	for (int s = 0; s < STEPS; s++) {
		fill(s, v);
		/* from step 1 on (the dataset exists: a write's first put is
		 * a chunk's) */
		pthread_mutex_lock(&mu);
		armed = s == 1;
		pthread_mutex_unlock(&mu);
		CHECK_OK(rec,
		         simrec_record(rec, "x", SIMREC_FLOAT64, 2, shape, v));
	}
	CHECK_OK(rec, simrec_flush(rec));
	pthread_mutex_lock(&mu);
	int ran_at_once = overlapped;
	armed = 0;
	pthread_mutex_unlock(&mu);
	CHECK(ran_at_once); /* two puts of one write ran at once */
	simrec_dataset_t *ds;
	size_t chunks[3];
	CHECK_OK(rec, simrec_get_all(rec, "x", &ds));
	CHECK_OK(rec, simrec_dataset_chunks(ds, chunks));
	simrec_dataset_close(ds);
	CHECK(chunks[0] == 1 && chunks[1] == 1 && chunks[2] == 125001);

	/* a directory with a child where one chunk of step 3 goes: its
	 * rename fails */
	snprintf(p, sizeof p, "%s/x/%d.1.2", store, STEPS);
	CHECK(!mkdir(p, 0755));
	snprintf(p, sizeof p, "%s/x/%d.1.2/child", store, STEPS);
	CHECK(!mkdir(p, 0755));
	fill(STEPS, v);
	int rc = simrec_record(rec, "x", SIMREC_FLOAT64, 2, shape, v);
	if (!rc)
		rc = simrec_flush(rec);
	CHECK_RC(rec, rc, SIMREC_EIO);
	fprintf(stderr, "the failed write: %s\n", simrec_errmsg(rec));
	CHECK(strstr(simrec_errmsg(rec), "'x'"));
	CHECK(strstr(simrec_errmsg(rec), "3.1.2"));
	simrec_close(rec); /* its status: the same failure, or none */

	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	CHECK_OK(NULL, simrec_open(&rec, uri, &o));
	CHECK_OK(rec, simrec_get_all(rec, "x", &ds));
	size_t got[3];
	simrec_dataset_shape(ds, got);
	CHECK(got[0] == STEPS && got[1] == ROWS && got[2] == COLS);
	double *r = malloc(ROWS * COLS * sizeof *r);
	CHECK(r);
	for (int s = 0; s < STEPS; s++) {
		size_t start[3] = {(size_t)s, 0, 0}, count[3] = {1, ROWS, COLS};
		CHECK_OK(rec, simrec_dataset_read(ds, start, count, r,
		                                  ROWS * COLS * sizeof *r));
		fill(s, v);
		CHECK(!memcmp(r, v, ROWS * COLS * sizeof *r));
	}
	simrec_dataset_close(ds);
	CHECK_OK(rec, simrec_close(rec));
	free(r);
	free(v);
	return 0;
}
