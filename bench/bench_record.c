/* Append N float32 records of shape D0xD1xD2 under one key and read them
 * back, as ../shared/bench/py_baseline.py does for h5py / zarr-python.
 *   bench_record URI N D0 D1 D2 [random|smooth]
 * URI e.g. "zarr:/tmp/b.zarr?codec=blosclz&level=9&shuffle=bit".
 * Prints one line of figures. Not a test. */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "simrec.h"

static long long du_total;
static int du_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)p;
	(void)f;
	if (flag == FTW_F)
		du_total += (long long)sb->st_blocks * 512;
	return 0;
}

static void die(simrec_t *rec, int rc, const char *what)
{
	fprintf(stderr, "bench_record: %s: %s (%s)\n", what,
	        simrec_strerror(rc), simrec_errmsg(rec));
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr,
		        "usage: bench_record URI N D0 D1 D2 [random|smooth]\n");
		return 2;
	}
	const char *uri = argv[1];
	size_t n = strtoull(argv[2], NULL, 10);
	size_t shape[3] = {strtoull(argv[3], NULL, 10),
	                   strtoull(argv[4], NULL, 10),
	                   strtoull(argv[5], NULL, 10)};
	int smooth = argc > 6 && !strcmp(argv[6], "smooth");
	size_t elems = shape[0] * shape[1] * shape[2];
	float **arrays = malloc(n * sizeof *arrays);
	unsigned long long rng = 88172645463325252ULL;
	for (size_t i = 0; i < n; i++) {
		arrays[i] = malloc(elems * sizeof(float));
		bench_fill_f32(arrays[i], elems, smooth, shape[2],
		               1 + 0.01 * (double)i, &rng);
	}
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	simrec_t *rec;
	int rc;
	double t0 = bench_now(), wsum = 0;
	if ((rc = simrec_open(&rec, uri, &o)))
		die(NULL, rc, "open");
	for (size_t i = 0; i < n; i++) {
		double s = bench_now();
		if ((rc = simrec_record(rec, "train/what", SIMREC_FLOAT32, 3,
		                        shape, arrays[i])))
			die(rec, rc, "record");
		wsum += bench_now() - s;
	}
	if ((rc = simrec_close(rec)))
		die(NULL, rc, "close");
	const char *colon = strchr(uri, ':');
	char path[4096];
	snprintf(path, sizeof path, "%s", colon ? colon + 1 : uri);
	char *q = strchr(path, '?');
	if (q)
		*q = 0;
	if (!getenv("BENCH_NOSYNC"))
		bench_sync_tree(path);
	double wtot = bench_now() - t0;
	/* size on disk */
	nftw(path, du_cb, 16, FTW_PHYS);
	/* read back: 20 slices [:n/2, b, t, :] and the whole dataset */
	o.mode = SIMREC_MODE_READONLY;
	if ((rc = simrec_open(&rec, uri, &o)))
		die(NULL, rc, "reopen");
	simrec_dataset_t *ds;
	if ((rc = simrec_get_all(rec, "train/what", &ds)))
		die(rec, rc, "get_all");
	float *slice = malloc((n / 2 + 1) * shape[2] * sizeof(float));
	double ssum = 0;
	for (int i = 0; i < 20; i++) {
		size_t st[4] = {
		        0, (size_t)(bench_urand(&rng) * (double)shape[0]),
		        (size_t)(bench_urand(&rng) * (double)shape[1]), 0};
		size_t ct[4] = {n / 2 ? n / 2 : 1, 1, 1, shape[2]};
		double s = bench_now();
		if ((rc = simrec_dataset_read(ds, st, ct, slice,
		                              ct[0] * shape[2] *
		                                      sizeof(float))))
			die(rec, rc, "slice");
		ssum += bench_now() - s;
	}
	float *full = malloc(n * elems * sizeof(float));
	double r0 = bench_now();
	if ((rc = simrec_dataset_read(ds, NULL, NULL, full,
	                              n * elems * sizeof(float))))
		die(rec, rc, "read");
	double rtot = bench_now() - r0;
	int ok = 1;
	for (size_t i = 0; i < n; i++)
		ok &= memcmp(full + i * elems, arrays[i],
		             elems * sizeof(float)) == 0;
	simrec_dataset_close(ds);
	simrec_close(rec);
	double mb = (double)n * (double)elems * 4 / 1e6;
	printf("simrec %s %s n=%zu shape=(%zu, %zu, %zu) write_total_s=%.3f "
	       "write_mean_s=%.4f write_MBps=%.1f slice_read_mean_s=%.5f "
	       "read_total_s=%.3f read_MBps=%.1f size_MB=%.1f raw_MB=%.1f "
	       "roundtrip_ok=%s\n",
	       uri, smooth ? "smooth" : "random", n, shape[0], shape[1],
	       shape[2], wtot, wsum / (double)n, mb / wtot, ssum / 20, rtot,
	       mb / rtot, (double)du_total / 1e6, mb, ok ? "True" : "False");
	return ok ? 0 : 1;
}
