/* simrec_record_all against plain MPI-IO, same bytes, same disk, same run.
 *   mpiexec -n NP bench_mpi URI MB_PER_RANK STEPS [REPEATS]
 * URI like "hdf5:/data/b.h5" or "zarr+dir:/data/b.zarr?codec=none".
 * Each repeat writes STEPS steps of MB_PER_RANK per rank with
 * simrec_record_all (then close and fsync), and the same layout with
 * MPI_File_write_at_all into a file beside it (then sync); the two are
 * interleaved and the medians compared. SIMREC_WRITERS sets M. Not a test. */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "simrec.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	int rank, size;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (argc < 4) {
		if (!rank)
			fprintf(stderr, "usage: bench_mpi URI MB_PER_RANK "
			                "STEPS [REPEATS]\n");
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	const char *uri = argv[1];
	size_t bytes = (size_t)(atof(argv[2]) * 1e6) / 8 * 8;
	int steps = atoi(argv[3]), reps = argc > 4 ? atoi(argv[4]) : 3;
	double *data = malloc(bytes);
	for (size_t i = 0; i < bytes / 8; i++)
		data[i] = rank + 1e-6 * (double)i;
	char path[4096], raw[4200];
	const char *c = strchr(uri, ':');
	snprintf(path, sizeof path, "%s", c ? c + 1 : uri);
	char *q = strchr(path, '?');
	if (q)
		*q = 0;
	snprintf(raw, sizeof raw, "%s.mpiio", path);
	double *ts = malloc((size_t)reps * sizeof *ts),
	       *tm = malloc((size_t)reps * sizeof *tm);
	const size_t shape[1] = {bytes / 8};
	for (int r = 0; r < reps; r++) {
		/* simrec */
		simrec_options_t o;
		simrec_options_init(&o);
		o.mode = SIMREC_MODE_CREATE;
		simrec_t *rec;
		MPI_Barrier(MPI_COMM_WORLD);
		double t0 = MPI_Wtime();
		if (simrec_open_comm(&rec, uri, &o, MPI_COMM_WORLD))
			MPI_Abort(MPI_COMM_WORLD, 1);
		for (int s = 0; s < steps; s++)
			if (simrec_record_all(rec, "bench/x", SIMREC_FLOAT64, 1,
			                      shape, data))
				MPI_Abort(MPI_COMM_WORLD, 1);
		if (simrec_close(rec))
			MPI_Abort(MPI_COMM_WORLD, 1);
		if (!rank)
			nftw(path, bench_sync_cb, 16, FTW_PHYS);
		MPI_Barrier(MPI_COMM_WORLD);
		ts[r] = MPI_Wtime() - t0;
		/* plain MPI-IO: step s, rank k at offset (s * size + k) * bytes
		 */
		MPI_File fh;
		MPI_Barrier(MPI_COMM_WORLD);
		t0 = MPI_Wtime();
		MPI_File_open(MPI_COMM_WORLD, raw,
		              MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL,
		              &fh);
		for (int s = 0; s < steps; s++)
			MPI_File_write_at_all(fh,
			                      ((MPI_Offset)s * size + rank) *
			                              (MPI_Offset)bytes,
			                      data, (int)bytes, MPI_BYTE,
			                      MPI_STATUS_IGNORE);
		MPI_File_sync(fh);
		MPI_File_close(&fh);
		MPI_Barrier(MPI_COMM_WORLD);
		tm[r] = MPI_Wtime() - t0;
		if (!rank)
			unlink(raw);
	}
	qsort(ts, (size_t)reps, sizeof *ts, cmp);
	qsort(tm, (size_t)reps, sizeof *tm, cmp);
	double mb = (double)bytes * steps * size / 1e6;
	if (!rank) {
		const char *w = getenv("SIMREC_WRITERS");
		printf("bench_mpi %s np=%d M=%s %.0f MB: simrec_record_all "
		       "%.1f MB/s, "
		       "MPI_File_write_at_all %.1f MB/s, ratio %.2f\n",
		       uri, size, w ? w : "per-node", mb, mb / ts[reps / 2],
		       mb / tm[reps / 2], tm[reps / 2] / ts[reps / 2]);
	}
	free(data);
	free(ts);
	free(tm);
	MPI_Finalize();
	return 0;
}
