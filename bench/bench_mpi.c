/* One collective write of a fixed workload by one method, timed.
 *   mpiexec -n NP bench_mpi METHOD DIR TOTAL_MIB STEPS [smooth|random]
 *                          [COMPUTE_MS [sleep|busy]]
 * TOTAL_MIB (MiB, fractions allowed) of float32 are written in STEPS
 * steps; each rank gives TOTAL/STEPS/NP bytes per step, so the step at
 * every NP is the same (NP, n) array. METHOD is one of
 *   zarr          simrec_record_all into zarr:DIR/b.zarr?codec=none (LMDB)
 *   zarr+dir      ... zarr+dir:DIR/b.zarr?codec=none
 *   zarr+dir-lz4  ... zarr+dir:DIR/b.zarr?codec=lz4 (shuffle, level 5)
 *   zarr+dir-all  ... zarr+dir:DIR/b.zarr?codec=none, every rank a writer
 *   hdf5          ... hdf5:DIR/b.h5, default writers (one per node)
 *   hdf5-all      ... hdf5:DIR/b.h5 with every rank a writer
 *   mpiio         MPI_File_write_at_all of each rank's block, MPI_File_sync
 *   gather        MPI_Gather to rank 0, pwrite, fdatasync
 *   phdf5         parallel HDF5 by hand: chunk = one rank's block, fill
 *                 time NEVER, collective H5Dwrite, H5Fflush, fsync
 *   adios2        ADIOS2 BP5, default aggregation (one aggregator per
 *                 node): a global (NP, n) variable, per step begin_step,
 *                 a deferred put of the rank's row, end_step; close, then
 *                 an fsync of every file of DIR/b.bp (built with
 *                 BENCH_HAVE_ADIOS2: bench/run_bench.py --adios2)
 *   adios2-ew     the same with AggregationType EveryoneWrites
 *   METHOD-zc     a simrec METHOD with opts.zero_copy: record_all borrows
 *                 the block, simrec_wait after the compute phase
 * Every method ends with its data durable (simrec's close, then an fsync of
 * every file of the store, which costs nothing where close already synced)
 * and the clock runs from a barrier before the open to a barrier after
 * the sync. DIR must exist and be empty; the caller deletes it.
 * COMPUTE_MS > 0 adds a compute phase after every step's write, the same
 * for every method: every rank sleeps (or spins, with busy) that long. It
 * is in the wall time but not in the I/O time (wall - compute), and it is
 * what an overlapped record_all hides its writes behind.
 * Rank 0 prints one line of key=value fields (see bench/README.md). Not a
 * test: bench/run_bench.py runs it for every method and rank count. */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NAME "bench_mpi"
#include "bench_mpi_util.h"

typedef struct run {
	MPI_Comm comm;
	int rank, size, steps;
	const char *dir, *method;
	const float *data; /* this rank's block, the same at every step */
	size_t n;          /* float32 per rank per step */
	double t_call;     /* seconds inside simrec_record_all on this rank */
	double t_wait;     /* -zc: seconds inside simrec_wait on this rank */
	double compute;    /* seconds of compute per step (0: none) */
	int busy;          /* spin instead of sleeping */
	double t_compute;  /* seconds in the compute phase on this rank */
	double t_open, t_steps, t_close; /* phases, from rank 0's clock */
} run;

/* The caller's work between two steps: sleep or spin r->compute s. */
static void compute(run *r)
{
	if (!(r->compute > 0))
		return;
	double t0 = MPI_Wtime();
	if (r->busy) {
		volatile double x = 1.0;
		while (MPI_Wtime() - t0 < r->compute)
			for (int k = 0; k < 1000; k++)
				x = x * 1.0000001 + 1e-9;
	} else {
		struct timespec ts = {
		        (time_t)r->compute,
		        (long)((r->compute - (double)(time_t)r->compute) *
		               1e9)};
		while (nanosleep(&ts, &ts))
			;
	}
	r->t_compute += MPI_Wtime() - t0;
}

/* METHOD-zc: METHOD with the zero-copy step (the caller waits for its
 * buffer after the compute phase, before the next step writes it). */
static int zero_copy_method(const char *m, char base[64])
{
	size_t n = strlen(m);
	int zc = n > 3 && n < 64 && !strcmp(m + n - 3, "-zc");
	snprintf(base, 64, "%.*s", (int)(zc ? n - 3 : n), m);
	return zc;
}

static int run_simrec(run *r)
{
	char uri[4300], path[4200], base[64];
	int zc = zero_copy_method(r->method, base);
	if (!bench_simrec_store(base, r->dir, "b", path, uri))
		return 0;
	/* every rank a writer */
	int all = !strcmp(base, "hdf5-all") || !strcmp(base, "zarr+dir-all");
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	o.zero_copy = zc ? SIMREC_ZERO_COPY_ON : SIMREC_ZERO_COPY_OFF;
	if (all)
		o.writers = r->size;
	const size_t shape[1] = {r->n};
	simrec_t *rec;
	double t0 = MPI_Wtime();
	bench_check(NULL, simrec_open_comm(&rec, uri, &o, r->comm), "open");
	double t1 = MPI_Wtime();
	for (int s = 0; s < r->steps; s++) {
		double c = MPI_Wtime();
		int rc = simrec_record_all(rec, "bench/x", SIMREC_FLOAT32, 1,
		                           shape, r->data);
		r->t_call += MPI_Wtime() - c;
		bench_check(rec, rc, "simrec_record_all");
		compute(r);
		if (zc) { /* the buffer is the caller's again */
			c = MPI_Wtime();
			rc = simrec_wait(rec);
			r->t_wait += MPI_Wtime() - c;
			bench_check(rec, rc, "simrec_wait");
		}
	}
	double t2 = MPI_Wtime();
	bench_check(NULL, simrec_close(rec), "close");
	if (!r->rank)
		bench_sync_tree(path);
	MPI_Barrier(r->comm);
	double t3 = MPI_Wtime();
	r->t_open = t1 - t0, r->t_steps = t2 - t1, r->t_close = t3 - t2;
	return 1;
}

static void run_mpiio(run *r)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/b.raw", r->dir);
	size_t bytes = r->n * sizeof(float);
	MPI_File fh;
	double t0 = MPI_Wtime();
	if (MPI_File_open(r->comm, path, MPI_MODE_CREATE | MPI_MODE_WRONLY,
	                  MPI_INFO_NULL, &fh) != MPI_SUCCESS)
		bench_fail("MPI_File_open", path);
	double t1 = MPI_Wtime();
	/* step s, rank k at offset (s * size + k) * bytes: the layout of the
	 * (steps, size, n) array */
	for (int s = 0; s < r->steps; s++) {
		MPI_Offset off =
		        ((MPI_Offset)s * r->size + r->rank) * (MPI_Offset)bytes;
		if (MPI_File_write_at_all(fh, off, r->data, (int)r->n,
		                          MPI_FLOAT,
		                          MPI_STATUS_IGNORE) != MPI_SUCCESS)
			bench_fail("MPI_File_write_at_all", path);
		compute(r);
	}
	double t2 = MPI_Wtime();
	if (MPI_File_sync(fh) != MPI_SUCCESS)
		bench_fail("MPI_File_sync", path);
	MPI_File_close(&fh);
	MPI_Barrier(r->comm);
	r->t_open = t1 - t0, r->t_steps = t2 - t1;
	r->t_close = MPI_Wtime() - t2;
}

static void run_gather(run *r)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/b.raw", r->dir);
	size_t bytes = r->n * sizeof(float), step = bytes * (size_t)r->size;
	float *all = NULL;
	int fd = -1;
	double t0 = MPI_Wtime();
	if (!r->rank) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		all = malloc(step);
		if (fd < 0 || !all)
			bench_fail("open", path);
	}
	double t1 = MPI_Wtime();
	for (int s = 0; s < r->steps; s++) {
		MPI_Gather(r->data, (int)r->n, MPI_FLOAT, all, (int)r->n,
		           MPI_FLOAT, 0, r->comm);
		if (!r->rank) {
			size_t done = 0;
			while (done < step) {
				ssize_t w = pwrite(
				        fd, (char *)all + done, step - done,
				        (off_t)(step * (size_t)s + done));
				if (w <= 0)
					bench_fail("pwrite", path);
				done += (size_t)w;
			}
		}
		compute(r);
	}
	double t2 = MPI_Wtime();
	if (!r->rank) {
		if (fdatasync(fd))
			bench_fail("fdatasync", path);
		close(fd);
		free(all);
	}
	MPI_Barrier(r->comm);
	r->t_open = t1 - t0, r->t_steps = t2 - t1;
	r->t_close = MPI_Wtime() - t2;
}

#ifdef BENCH_HAVE_HDF5
static void run_phdf5(run *r)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/b.h5", r->dir);
	double t0 = MPI_Wtime();
	hsize_t dims[3] = {(hsize_t)r->steps, (hsize_t)r->size, r->n};
	hsize_t cnt[3] = {1, 1, r->n}; /* one chunk per rank block */
	bench_h5 h;
	bench_h5_start(&h, path, r->comm, "x", H5T_NATIVE_FLOAT, 3, dims, cnt,
	               cnt);
	double t1 = MPI_Wtime();
	for (int s = 0; s < r->steps; s++) {
		hsize_t st[3] = {(hsize_t)s, (hsize_t)r->rank, 0};
		H5Sselect_hyperslab(h.space, H5S_SELECT_SET, st, NULL, cnt,
		                    NULL);
		if (H5Dwrite(h.d, H5T_NATIVE_FLOAT, h.mem, h.space, h.dxpl,
		             r->data) < 0)
			bench_fail("H5Dwrite", path);
		compute(r);
	}
	double t2 = MPI_Wtime();
	bench_h5_finish(&h, path, r->comm);
	r->t_open = t1 - t0, r->t_steps = t2 - t1;
	r->t_close = MPI_Wtime() - t2;
}
#endif

#ifdef BENCH_HAVE_ADIOS2
/* ADIOS2 BP5 (ew: EveryoneWrites): a global (np, n) variable, this rank's
 * row per step; durable by an fsync of the .bp directory's files. */
static void run_adios2(run *r, int ew)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/b.bp", r->dir);
	size_t shape[2] = {(size_t)r->size, r->n},
	       start[2] = {(size_t)r->rank, 0}, count[2] = {1, r->n};
	bench_bp b;
	double t0 = MPI_Wtime();
	bench_bp_open(&b, r->comm, path, "data", adios2_type_float, 2, shape,
	              start, count, ew);
	double t1 = MPI_Wtime();
	for (int s = 0; s < r->steps; s++) {
		double c = MPI_Wtime();
		bench_bp_step(&b, r->data);
		r->t_call += MPI_Wtime() - c;
		compute(r);
	}
	double t2 = MPI_Wtime();
	bench_bp_close(&b, r->comm, r->rank, path);
	r->t_open = t1 - t0, r->t_steps = t2 - t1;
	r->t_close = MPI_Wtime() - t2;
	adios2_finalize(b.ad);
}
#endif

/* The hand-written and peer methods. */
static void run_other(run *r)
{
	if (!strcmp(r->method, "mpiio"))
		run_mpiio(r);
	else if (!strcmp(r->method, "gather"))
		run_gather(r);
#ifdef BENCH_HAVE_HDF5
	else if (!strcmp(r->method, "phdf5"))
		run_phdf5(r);
#endif
#ifdef BENCH_HAVE_ADIOS2
	else if (!strcmp(r->method, "adios2") ||
	         !strcmp(r->method, "adios2-ew"))
		run_adios2(r, !strcmp(r->method, "adios2-ew"));
#endif
	else
		bench_fail("unknown method", r->method);
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	run r = {.comm = MPI_COMM_WORLD};
	MPI_Comm_rank(r.comm, &r.rank);
	MPI_Comm_size(r.comm, &r.size);
	if (argc < 5) {
		if (!r.rank)
			fprintf(stderr, "usage: bench_mpi METHOD DIR TOTAL_MIB "
			                "STEPS [smooth|random] "
			                "[COMPUTE_MS [sleep|busy]]\n");
		MPI_Abort(r.comm, 2);
	}
	r.method = argv[1];
	r.dir = argv[2];
	double total_mib = atof(argv[3]);
	r.steps = atoi(argv[4]);
	int smooth = argc <= 5 || strcmp(argv[5], "random");
	r.compute = argc > 6 ? atof(argv[6]) / 1000 : 0;
	r.busy = argc > 7 && !strcmp(argv[7], "busy");
	if (!(r.compute >= 0) || r.compute > 3600)
		bench_fail("COMPUTE_MS must be in 0..3600000", argv[6]);
	if (!(total_mib > 0) || r.steps < 1)
		bench_fail("TOTAL_MIB and STEPS must be positive", argv[3]);
	r.n = (size_t)(total_mib * 1048576 / 4 / r.steps / r.size);
	if (!r.n)
		bench_fail("workload too small for this many ranks", argv[3]);
	/* each rank's block is its slice of one global smooth field */
	float *data = malloc(r.n * sizeof *data);
	if (!data)
		bench_fail("out of memory", NULL);
	unsigned long long rng = 88172645463325252ULL + (unsigned)r.rank;
	bench_fill_f32(data, r.n, smooth, 4096, 1 + 0.01 * r.rank, &rng);
	r.data = data;
	long rss0 = bench_max_rss_kib();

	MPI_Barrier(r.comm);
	double t0 = MPI_Wtime();
	if (!run_simrec(&r))
		run_other(&r);
	double wall = MPI_Wtime() - t0;

	/* peak RSS: rank 0 (simrec's writer, gather's writer) and the max */
	long rss = bench_max_rss_kib(), rss_max = 0;
	MPI_Reduce(&rss, &rss_max, 1, MPI_LONG, MPI_MAX, 0, r.comm);
	/* in_call: share of the wall time inside record_all; in_step: share
	 * of the steps (record_all + compute) inside record_all */
	double frac[2] = {r.t_call / wall,
	                  r.t_call + r.t_compute > 0
	                          ? r.t_call / (r.t_call + r.t_compute)
	                          : 0},
	       *fr = NULL;
	if (!r.rank)
		fr = malloc((size_t)r.size * sizeof frac);
	MPI_Gather(frac, 2, MPI_DOUBLE, fr, 2, MPI_DOUBLE, 0, r.comm);
	if (!r.rank) {
		double bytes = (double)r.n * 4 * r.steps * r.size;
		/* the I/O time: the wall time less rank 0's compute phase */
		double io = wall - r.t_compute;
		printf("method=%s np=%d bytes=%.0f steps=%d data=%s "
		       "seconds=%.4f MBps=%.1f open_s=%.4f steps_s=%.4f "
		       "close_s=%.4f rss0_kib=%ld rss_kib=%ld rss_max_kib=%ld "
		       "compute_s=%.4f io_s=%.4f io_MBps=%.1f call_s=%.4f "
		       "wait_s=%.4f",
		       r.method, r.size, bytes, r.steps,
		       smooth ? "smooth" : "random", wall, bytes / 1e6 / wall,
		       r.t_open, r.t_steps, r.t_close, rss0, rss, rss_max,
		       r.t_compute, io, io > 0 ? bytes / 1e6 / io : 0, r.t_call,
		       r.t_wait);
		for (int j = 0; j < 2; j++) {
			printf(j ? " in_step=" : " in_call=");
			for (int k = 0; k < r.size; k++)
				printf("%s%.4f", k ? ":" : "", fr[2 * k + j]);
		}
		printf("\n");
		free(fr);
	}
	free(data);
	MPI_Finalize();
	return 0;
}
