/* 2-D heat diffusion, the domain split in row blocks over the ranks.
 * Every few steps each rank records its block of the temperature field
 * with simrec_record_all; rank 0 records the global mean temperature and
 * the step's time independently. After the run rank 0 reads the store back
 * with the C reader (no MPI needed for that part) and prints a summary.
 *
 *   mpirun -n 4 heat2d [STORE] [STEPS] [NX] [NY]
 * STORE defaults to "zarr:heat.zarr" (the zarr v2 / LMDB store). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simrec.h"

static void die(simrec_t *rec, int rc, const char *what)
{
	fprintf(stderr, "heat2d: %s: %s: %s\n", what, simrec_strerror(rc),
	        simrec_errmsg(rec));
	MPI_Abort(MPI_COMM_WORLD, 1);
}

static int summarize(const char *uri)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	int rc = simrec_open(&rec, uri, &o);
	if (rc) {
		fprintf(stderr, "heat2d: cannot reopen %s: %s: %s\n", uri,
		        simrec_strerror(rc), simrec_errmsg(NULL));
		return 1;
	}
	simrec_dataset_t *ds;
	if ((rc = simrec_get_all(rec, "heat/T", &ds)))
		die(rec, rc, "get heat/T");
	size_t sh[4];
	simrec_dataset_shape(ds, sh);
	printf("read back %s: heat/T %s shape (%zu, %zu, %zu, %zu)\n", uri,
	       simrec_dtype_name(simrec_dataset_dtype(ds)), sh[0], sh[1], sh[2],
	       sh[3]);
	/* the last snapshot, one rank block at a time: bounded memory */
	size_t n = sh[2] * sh[3];
	double *blk = malloc(n * sizeof *blk), lo = 1e300, hi = -1e300, sum = 0;
	for (size_t r = 0; r < sh[1]; r++) {
		size_t st[4] = {sh[0] - 1, r, 0, 0},
		       ct[4] = {1, 1, sh[2], sh[3]};
		if ((rc = simrec_dataset_read(ds, st, ct, blk,
		                              n * sizeof *blk)))
			die(rec, rc, "read");
		for (size_t i = 0; i < n; i++) {
			lo = blk[i] < lo ? blk[i] : lo;
			hi = blk[i] > hi ? blk[i] : hi;
			sum += blk[i];
		}
	}
	printf("  last snapshot: min %.4f max %.4f mean %.6f\n", lo, hi,
	       sum / (double)(n * sh[1]));
	free(blk);
	simrec_dataset_close(ds);
	if ((rc = simrec_get_all(rec, "heat/mean", &ds)))
		die(rec, rc, "get heat/mean");
	simrec_dataset_shape(ds, sh);
	double *m = malloc(sh[0] * sizeof *m);
	if ((rc = simrec_dataset_read(ds, NULL, NULL, m, sh[0] * sizeof *m)))
		die(rec, rc, "read mean");
	printf("  heat/mean: %zu records, first %.6f last %.6f\n", sh[0], m[0],
	       m[sh[0] - 1]);
	free(m);
	simrec_dataset_close(ds);
	simrec_attr_t a;
	if (!simrec_attr_get(rec, "heat", "alpha", &a))
		printf("  attribute heat.alpha = %g\n", a.d);
	simrec_close(rec);
	return 0;
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	int rank, size;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	const char *uri = argc > 1 ? argv[1] : "zarr:heat.zarr";
	int steps = argc > 2 ? atoi(argv[2]) : 200;
	int nx = argc > 3 ? atoi(argv[3]) : 256,
	    ny = argc > 4 ? atoi(argv[4]) : 256;
	int every = 10;
	int rows = ny / size + (rank < ny % size ? 1 : 0);
	/* rows differ when size does not divide ny: record a fixed block of
	 * ny / size + 1 rows, padded, so every rank gives the same shape */
	int brows = ny / size + (ny % size ? 1 : 0);
	double *T = calloc((size_t)(rows + 2) * (size_t)nx, sizeof *T),
	       *Tn = calloc((size_t)(rows + 2) * (size_t)nx, sizeof *T),
	       *blk = calloc((size_t)brows * (size_t)nx, sizeof *T);
	int row0 = rank * (ny / size) + (rank < ny % size ? rank : ny % size);
	for (int j = 1; j <= rows; j++)
		for (int i = 0; i < nx; i++) {
			double x = (double)i / nx - 0.5,
			       y = (double)(row0 + j - 1) / ny - 0.5;
			T[j * nx + i] = exp(-40 * (x * x + y * y));
		}
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	simrec_t *rec;
	int rc = simrec_open_comm(&rec, uri, &o, MPI_COMM_WORLD);
	if (rc) {
		/* no recorder to ask: the detail of this thread's failed open
		 */
		if (rank == 0)
			fprintf(stderr, "heat2d: cannot open '%s': %s: %s\n",
			        uri, simrec_strerror(rc), simrec_errmsg(NULL));
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	const double alpha = 0.2;
	if (rank == 0) {
		simrec_attr_set_double(rec, "heat", "alpha", alpha);
		simrec_attr_set_int(rec, "heat", "nx", nx);
		simrec_attr_set_int(rec, "heat", "ny", ny);
	}
	int up = rank > 0 ? rank - 1 : MPI_PROC_NULL,
	    down = rank < size - 1 ? rank + 1 : MPI_PROC_NULL;
	const size_t shape[2] = {(size_t)brows, (size_t)nx};
	for (int step = 0; step <= steps; step++) {
		MPI_Sendrecv(T + nx, nx, MPI_DOUBLE, up, 0, T + (rows + 1) * nx,
		             nx, MPI_DOUBLE, down, 0, MPI_COMM_WORLD,
		             MPI_STATUS_IGNORE);
		MPI_Sendrecv(T + rows * nx, nx, MPI_DOUBLE, down, 1, T, nx,
		             MPI_DOUBLE, up, 1, MPI_COMM_WORLD,
		             MPI_STATUS_IGNORE);
		if (step % every == 0) {
			memcpy(blk, T + nx,
			       (size_t)rows * (size_t)nx * sizeof *T);
			if ((rc = simrec_record_all(rec, "heat/T",
			                            SIMREC_FLOAT64, 2, shape,
			                            blk)))
				die(rec, rc, "record_all");
			double local = 0, total;
			for (int k = nx; k < (rows + 1) * nx; k++)
				local += T[k];
			MPI_Reduce(&local, &total, 1, MPI_DOUBLE, MPI_SUM, 0,
			           MPI_COMM_WORLD);
			if (rank == 0) {
				double mean = total / ((double)nx * ny),
				       t = step * alpha;
				if ((rc = simrec_record(rec, "heat/mean",
				                        SIMREC_FLOAT64, 0, NULL,
				                        &mean)) ||
				    (rc = simrec_record(rec, "heat/time",
				                        SIMREC_FLOAT64, 0, NULL,
				                        &t)))
					die(rec, rc, "record");
			}
		}
		for (int j = 1; j <= rows; j++) {
			int gj = row0 + j - 1;
			for (int i = 0; i < nx; i++) {
				int k = j * nx + i;
				double c = T[k];
				double n = gj > 0 ? T[k - nx] : c,
				       s = gj < ny - 1 ? T[k + nx] : c;
				double w = i > 0 ? T[k - 1] : c,
				       e = i < nx - 1 ? T[k + 1] : c;
				Tn[k] = c + alpha * (n + s + w + e - 4 * c);
			}
		}
		double *tmp = T;
		T = Tn;
		Tn = tmp;
	}
	if ((rc = simrec_close(rec)))
		die(NULL, rc, "close");
	free(T);
	free(Tn);
	free(blk);
	int status = 0;
	if (rank == 0 && strncmp(uri, "memory:", 7))
		status = summarize(uri);
	MPI_Finalize();
	return status;
}
