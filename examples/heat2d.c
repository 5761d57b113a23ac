/* 2-D heat diffusion on an NY x NX grid, split in row blocks over the
 * ranks: rank r owns NY / np rows, plus one for the first NY % np ranks, so
 * any rank count works (ranks beyond NY own no row). Every 10 steps the
 * ranks record the temperature field as one global array with
 * simrec_record_global: heat/T has shape (steps, NY, NX), the same bytes
 * whatever the rank count. Rank 0 records the field's mean (heat/mean) and
 * the step's time independently. After the run rank 0 reads the store back
 * with the C reader (no MPI needed for that part), prints a summary and
 * fails if the field's mean read back differs from heat/mean.
 *
 *   mpirun -n 4 heat2d [STORE] [STEPS] [NX] [NY]
 * STORE defaults to "zarr:heat.zarr" (the zarr v2 / LMDB store). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simrec.h"

#define EVERY     10  /* steps between two snapshots */
#define ALPHA     0.2 /* diffusion number (stable up to 0.25) */
#define READ_ROWS 64  /* rows the summary reads at a time */

/* this rank's rows [row0, row0 + rows) of the ny x nx grid, and the ranks
 * holding the rows above and below */
typedef struct {
	int nx, ny, rows, row0, up, down;
} domain_t;

static void die(simrec_t *rec, int rc, const char *what)
{
	fprintf(stderr, "heat2d: %s: %s: %s\n", what, simrec_strerror(rc),
	        simrec_errmsg(rec));
	MPI_Abort(MPI_COMM_WORLD, 1);
}

static domain_t decompose(int nx, int ny, int rank, int size)
{
	domain_t d = {.nx = nx, .ny = ny};
	d.rows = ny / size + (rank < ny % size ? 1 : 0);
	d.row0 = rank * (ny / size) + (rank < ny % size ? rank : ny % size);
	/* ranks 0 .. active-1 own rows; the others only take part in the
	 * collective calls */
	int active = size < ny ? size : ny;
	d.up = rank > 0 && rank < active ? rank - 1 : MPI_PROC_NULL;
	d.down = rank < active - 1 ? rank + 1 : MPI_PROC_NULL;
	return d;
}

/* the initial field: a Gaussian bump in the middle of the grid; T holds a
 * halo row above and below the rank's rows */
static void initial(const domain_t *d, double *T)
{
	for (int j = 1; j <= d->rows; j++)
		for (int i = 0; i < d->nx; i++) {
			double x = (double)i / d->nx - 0.5,
			       y = (double)(d->row0 + j - 1) / d->ny - 0.5;
			T[j * d->nx + i] = exp(-40 * (x * x + y * y));
		}
}

/* one explicit step with insulated borders (a border cell's missing
 * neighbour is the cell itself) */
static void diffuse(const domain_t *d, const double *T, double *Tn)
{
	int nx = d->nx;
	for (int j = 1; j <= d->rows; j++) {
		int gj = d->row0 + j - 1;
		for (int i = 0; i < nx; i++) {
			int k = j * nx + i;
			double c = T[k];
			double n = gj > 0 ? T[k - nx] : c,
			       s = gj < d->ny - 1 ? T[k + nx] : c;
			double w = i > 0 ? T[k - 1] : c,
			       e = i < nx - 1 ? T[k + 1] : c;
			Tn[k] = c + ALPHA * (n + s + w + e - 4 * c);
		}
	}
}

static void exchange_halos(const domain_t *d, double *T)
{
	int nx = d->nx;
	MPI_Sendrecv(T + nx, nx, MPI_DOUBLE, d->up, 0, T + (d->rows + 1) * nx,
	             nx, MPI_DOUBLE, d->down, 0, MPI_COMM_WORLD,
	             MPI_STATUS_IGNORE);
	MPI_Sendrecv(T + d->rows * nx, nx, MPI_DOUBLE, d->down, 1, T, nx,
	             MPI_DOUBLE, d->up, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
}

/* Collective: the field as one global array, the mean and time on rank 0 */
static void snapshot(simrec_t *rec, const domain_t *d, const double *T,
                     int step)
{
	const size_t gshape[2] = {(size_t)d->ny, (size_t)d->nx},
	             start[2] = {(size_t)d->row0, 0},
	             count[2] = {(size_t)d->rows, (size_t)d->nx};
	int rc = simrec_record_global(rec, "heat/T", SIMREC_FLOAT64, 2, gshape,
	                              start, count, T + d->nx);
	if (rc)
		die(rec, rc, "record_global heat/T");
	double local = 0, total;
	for (int k = d->nx; k < (d->rows + 1) * d->nx; k++)
		local += T[k];
	MPI_Reduce(&local, &total, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
	int rank;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	if (rank)
		return;
	double mean = total / ((double)d->nx * d->ny), t = step * ALPHA;
	if ((rc = simrec_record(rec, "heat/mean", SIMREC_FLOAT64, 0, NULL,
	                        &mean)) ||
	    (rc = simrec_record(rec, "heat/time", SIMREC_FLOAT64, 0, NULL, &t)))
		die(rec, rc, "record heat/mean, heat/time");
}

/* min, max and sum of the last snapshot, READ_ROWS rows at a time:
 * memory stays bounded whatever the grid */
static int last_snapshot(simrec_dataset_t *ds, const size_t *sh, double *lo,
                         double *hi, double *sum)
{
	double *buf = malloc(READ_ROWS * sh[2] * sizeof *buf);
	int rc = buf ? 0 : SIMREC_ENOMEM;
	*lo = 1e300, *hi = -1e300, *sum = 0;
	for (size_t r = 0; !rc && r < sh[1]; r += READ_ROWS) {
		size_t n = sh[1] - r < READ_ROWS ? sh[1] - r : READ_ROWS;
		size_t st[3] = {sh[0] - 1, r, 0}, ct[3] = {1, n, sh[2]};
		rc = simrec_dataset_read(ds, st, ct, buf,
		                         n * sh[2] * sizeof *buf);
		for (size_t i = 0; !rc && i < n * sh[2]; i++) {
			*lo = buf[i] < *lo ? buf[i] : *lo;
			*hi = buf[i] > *hi ? buf[i] : *hi;
			*sum += buf[i];
		}
	}
	free(buf);
	return rc;
}

/* the recorded means; returns the last one in *last, or fails */
static int read_means(simrec_t *rec, size_t steps, double *last)
{
	simrec_dataset_t *ds;
	int rc = simrec_get_all(rec, "heat/mean", &ds);
	if (rc)
		return rc;
	size_t n = 0;
	if (simrec_dataset_ndim(ds) == 1)
		simrec_dataset_shape(ds, &n);
	double *m = n == steps ? malloc(n * sizeof *m) : NULL;
	if (n != steps)
		rc = SIMREC_ESHAPE;
	else if (!m)
		rc = SIMREC_ENOMEM;
	else
		rc = simrec_dataset_read(ds, NULL, NULL, m, n * sizeof *m);
	if (!rc) {
		printf("  heat/mean: %zu records, first %.6f last %.6f\n", n,
		       m[0], m[n - 1]);
		*last = m[n - 1];
	}
	free(m);
	simrec_dataset_close(ds);
	return rc;
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
	size_t sh[3];
	if (simrec_dataset_ndim(ds) != 3)
		die(rec, SIMREC_ESHAPE, "heat/T is not (steps, NY, NX)");
	simrec_dataset_shape(ds, sh);
	if (!sh[0] || !sh[1] || sh[2] - 1 >= (size_t)1 << 20)
		die(rec, SIMREC_ESHAPE,
		    "heat/T: no snapshot, or NX not 1..2^20");
	printf("read back %s: heat/T %s shape (%zu, %zu, %zu)\n", uri,
	       simrec_dtype_name(simrec_dataset_dtype(ds)), sh[0], sh[1],
	       sh[2]);
	double lo, hi, sum, last = 0;
	if ((rc = last_snapshot(ds, sh, &lo, &hi, &sum)))
		die(rec, rc, "read heat/T");
	double mean = sum / (double)(sh[1] * sh[2]);
	printf("  last snapshot: min %.4f max %.4f mean %.6f\n", lo, hi, mean);
	simrec_dataset_close(ds);
	if ((rc = read_means(rec, sh[0], &last)))
		die(rec, rc, "read heat/mean");
	simrec_attr_t a;
	if (!simrec_attr_get(rec, "heat", "alpha", &a))
		printf("  attribute heat.alpha = %g\n", a.d);
	simrec_close(rec);
	/* the field read back holds every cell once: its mean is the one the
	 * run computed, up to the order of the sums */
	if (fabs(mean - last) > 1e-12 * fmax(1, fabs(last))) {
		fprintf(stderr,
		        "heat2d: the last snapshot's mean %.17g differs from "
		        "heat/mean %.17g\n",
		        mean, last);
		return 1;
	}
	return 0;
}

static simrec_t *open_store(const char *uri, const domain_t *d, int rank)
{
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
	if (rank == 0 &&
	    ((rc = simrec_attr_set_double(rec, "heat", "alpha", ALPHA)) ||
	     (rc = simrec_attr_set_int(rec, "heat", "nx", d->nx)) ||
	     (rc = simrec_attr_set_int(rec, "heat", "ny", d->ny)) ||
	     (rc = simrec_attr_set_int(rec, "heat", "every", EVERY))))
		die(rec, rc, "attributes of heat");
	return rec;
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
	if (steps < 0 || nx < 1 || ny < 1 || nx > 1 << 20 || ny > 1 << 20) {
		if (rank == 0)
			fprintf(stderr, "heat2d: STEPS >= 0, 1 <= NX, NY <= "
			                "2^20\n");
		MPI_Finalize();
		return 2;
	}
	domain_t d = decompose(nx, ny, rank, size);
	double *T = calloc((size_t)(d.rows + 2) * (size_t)nx, sizeof *T),
	       *Tn = calloc((size_t)(d.rows + 2) * (size_t)nx, sizeof *T);
	if (!T || !Tn)
		die(NULL, SIMREC_ENOMEM, "field");
	initial(&d, T);
	simrec_t *rec = open_store(uri, &d, rank);
	for (int step = 0; step <= steps; step++) {
		exchange_halos(&d, T);
		if (step % EVERY == 0)
			snapshot(rec, &d, T, step);
		diffuse(&d, T, Tn);
		double *tmp = T;
		T = Tn;
		Tn = tmp;
	}
	int rc = simrec_close(rec);
	if (rc)
		die(NULL, rc, "close");
	free(T);
	free(Tn);
	int status = 0;
	if (rank == 0 && strncmp(uri, "memory:", 7))
		status = summarize(uri);
	MPI_Finalize();
	return status;
}
