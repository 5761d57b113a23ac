/* The seed's workload through simrec's C API, one phase per run, so that
 * run_seed.py can drop the page cache between phases:
 *   bench_seed URI N write [ROWS]   N random float64 records of
 *                                   (10, ROWS, 200), ROWS 10000 by default
 *   bench_seed URI N slice [ROWS]   20 slices [:N/2, b, t, :]
 *   bench_seed URI N whole [ROWS]   the whole dataset
 * Prints one JSON line of figures (seconds, and a checksum of what was
 * written or read). Not a test. */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "simrec.h"

#define KEY "train/what"
static size_t shape[3] = {10, 10000, 200};

static void die(simrec_t *rec, int rc, const char *what)
{
	fprintf(stderr, "bench_seed: %s: %s (%s)\n", what, simrec_strerror(rc),
	        rec ? simrec_errmsg(rec) : "");
	exit(1);
}

static simrec_t *open_uri(const char *uri, simrec_mode_t mode)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = mode;
	simrec_t *rec;
	int rc = simrec_open(&rec, uri, &o);
	if (rc)
		die(NULL, rc, "open");
	return rec;
}

static int write_phase(const char *uri, size_t n, size_t elems)
{
	double *a = malloc(elems * sizeof *a), sum = 0, wsum = 0;
	unsigned long long rng = 88172645463325252ULL;
	simrec_t *rec = open_uri(uri, SIMREC_MODE_CREATE);
	double t0 = bench_now();
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < elems; j++)
			sum += a[j] = bench_urand(&rng);
		double s = bench_now();
		int rc = simrec_record(rec, KEY, SIMREC_FLOAT64, 3, shape, a);
		if (rc)
			die(rec, rc, "record");
		wsum += bench_now() - s;
	}
	/* the arrays exist before the clock starts in the seed: take their
	 * filling out of the total */
	double fill = bench_now() - t0 - wsum;
	int rc = simrec_close(rec);
	if (rc)
		die(NULL, rc, "close");
	printf("{\"write_s\": %.6f, \"mean_write_s\": %.6f, \"sum\": %.17g}\n",
	       bench_now() - t0 - fill, wsum / (double)n, sum);
	free(a);
	return 0;
}

static int read_phase(const char *uri, size_t n, size_t elems, int whole)
{
	simrec_t *rec = open_uri(uri, SIMREC_MODE_READONLY);
	simrec_dataset_t *ds;
	int rc = simrec_get_all(rec, KEY, &ds);
	if (rc)
		die(rec, rc, "get_all");
	unsigned long long rng = 1234567ULL;
	double sum = 0, t = 0;
	size_t half = n / 2 ? n / 2 : 1;
	size_t cap = whole ? n * elems : half * shape[2];
	double *buf = malloc(cap * sizeof *buf);
	for (int i = 0; i < (whole ? 1 : 20); i++) {
		size_t st[4] = {0, (size_t)(bench_urand(&rng) * 10),
		                (size_t)(bench_urand(&rng) * (double)shape[1]),
		                0};
		size_t ct[4] = {half, 1, 1, shape[2]};
		double s = bench_now();
		rc = simrec_dataset_read(ds, whole ? NULL : st,
		                         whole ? NULL : ct, buf,
		                         cap * sizeof *buf);
		t += bench_now() - s;
		if (rc)
			die(rec, rc, "read");
	}
	for (size_t j = 0; whole && j < cap; j++)
		sum += buf[j];
	simrec_dataset_close(ds);
	simrec_close(rec);
	printf("{\"%s\": %.6f, \"sum\": %.17g}\n",
	       whole ? "whole_s" : "slice_s", whole ? t : t / 20, sum);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr,
		        "usage: bench_seed URI N write|slice|whole [ROWS]\n");
		return 2;
	}
	if (argc == 5)
		shape[1] = strtoull(argv[4], NULL, 10);
	size_t n = strtoull(argv[2], NULL, 10);
	size_t elems = shape[0] * shape[1] * shape[2];
	if (!strcmp(argv[3], "write"))
		return write_phase(argv[1], n, elems);
	return read_phase(argv[1], n, elems, !strcmp(argv[3], "whole"));
}
