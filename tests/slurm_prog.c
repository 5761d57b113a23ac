/* A user's MPI program for the batch scripts of slurm/ (not heat2d): each
 * rank owns a block of one global array of G float64 values, and step s
 * records u[i] = 1000 s + i with simrec_record_global.
 *   slurm_prog write URI STEPS [fail]   record STEPS steps (fail: then
 *                                       every rank exits 1)
 *   slurm_prog hold URI STEPS READY GO  2 steps, flush, rank 0 writes a
 *                                       line to the FIFO READY and waits
 *                                       for one on GO, then the other steps
 *   slurm_prog term URI STEPS READY     2 steps, flush, a line to READY,
 *                                       then steps of at least 1 ms each
 *                                       (the computation) until a SIGTERM
 *                                       ends it (exits 3 after STEPS)
 *   slurm_prog check URI MIN MAX        serial: the store holds between
 *                                       MIN and MAX steps, each whole and
 *                                       equal to the formula
 * Exits 0 on success, 1 on a failure (printed). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <simrec.h>

#define G   24
#define KEY "field/u"

static double value(size_t step, size_t i)
{
	return 1000.0 * (double)step + (double)i;
}

static int failed(int rc, simrec_t *rec, const char *what)
{
	if (rc)
		fprintf(stderr, "slurm_prog: %s: %s\n", what,
		        simrec_errmsg(rec));
	return rc != 0;
}

static int one_step(simrec_t *rec, size_t step, int rank, int size)
{
	size_t y0 = (size_t)rank * G / (size_t)size;
	size_t y1 = (size_t)(rank + 1) * G / (size_t)size;
	double block[G];
	for (size_t i = y0; i < y1; i++)
		block[i - y0] = value(step, i);
	size_t global = G, start = y0, count = y1 - y0;
	return simrec_record_global(rec, KEY, SIMREC_FLOAT64, 1, &global,
	                            &start, &count, block);
}

/* rank 0: one line to the FIFO ready, then (go not NULL) wait for one
 * on go; every rank waits for rank 0 */
static void handshake(int rank, const char *ready, const char *go)
{
	if (rank == 0) {
		FILE *f = fopen(ready, "w");
		if (!f || fprintf(f, "ready\n") < 0 || fclose(f)) {
			perror(ready);
			MPI_Abort(MPI_COMM_WORLD, 1);
		}
		char line[16];
		f = go ? fopen(go, "r") : NULL;
		if (go && (!f || !fgets(line, sizeof line, f))) {
			perror(go);
			MPI_Abort(MPI_COMM_WORLD, 1);
		}
		if (f)
			fclose(f);
	}
	MPI_Barrier(MPI_COMM_WORLD);
}

static int run(int argc, char **argv)
{
	const char *mode = argv[1], *uri = argv[2];
	size_t steps = strtoul(argv[3], NULL, 10);
	int rank, size;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	int hold = !strcmp(mode, "hold") && argc == 6;
	int term = !strcmp(mode, "term") && argc == 5;
	simrec_t *rec;
	if (failed(simrec_open_comm(&rec, uri, NULL, MPI_COMM_WORLD), NULL,
	           "open"))
		return 1;
	int rc = 0;
	const struct timespec compute = {0, 1000000};
	for (size_t s = 0; s < steps && !rc; s++) {
		if (term && s > 1)
			nanosleep(&compute, NULL);
		rc = one_step(rec, s, rank, size);
		if (!rc && s == 1 && (hold || term)) {
			rc = simrec_flush(rec);
			if (!rc)
				handshake(rank, argv[4], hold ? argv[5] : NULL);
		}
	}
	failed(rc, rec, "record");
	int crc = simrec_close(rec);
	failed(crc, NULL, "close");
	if (!rc && !crc && rank == 0)
		printf("slurm_prog: %zu steps on %d ranks\n", steps, size);
	if (term)
		return 3; /* never reached when SIGTERM came */
	return rc || crc || (argc == 5 && !strcmp(argv[4], "fail"));
}

static int check(const char *uri, size_t lo, size_t hi)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	simrec_dataset_t *ds;
	if (failed(simrec_open(&rec, uri, &o), NULL, "open"))
		return 1;
	if (failed(simrec_get_all(rec, KEY, &ds), rec, "get " KEY)) {
		simrec_close(rec);
		return 1;
	}
	size_t shape[2] = {0, 0}, whole = 0;
	int bad = simrec_dataset_ndim(ds) != 2;
	if (!bad)
		simrec_dataset_shape(ds, shape);
	bad = bad || shape[1] != G || shape[0] < lo || shape[0] > hi;
	double *u = bad ? NULL : malloc(shape[0] * G * sizeof *u);
	bad = bad || !u ||
	      failed(simrec_dataset_read(ds, NULL, NULL, u,
	                                 shape[0] * G * sizeof *u),
	             rec, "read");
	int v = bad ? 0 : simrec_dataset_verify(ds, &whole);
	/* ENOTSUP: the store cannot tell, whole is the shape */
	bad = bad || (v != SIMREC_ENOTSUP && failed(v, rec, "verify")) ||
	      whole != shape[0];
	for (size_t s = 0; !bad && s < shape[0]; s++)
		for (size_t i = 0; i < G; i++)
			if (u[s * G + i] != value(s, i)) {
				fprintf(stderr, "step %zu [%zu] = %g\n", s, i,
				        u[s * G + i]);
				bad = 1;
				break;
			}
	free(u);
	simrec_dataset_close(ds);
	simrec_close(rec);
	printf("%s: %zu steps of %zu (want %zu to %zu, %zu whole)%s\n", KEY,
	       shape[0], shape[1], lo, hi, whole, bad ? ": FAIL" : ": ok");
	return bad;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "check"))
		return check(argv[2], strtoul(argv[3], NULL, 10),
		             strtoul(argv[4], NULL, 10));
	if (argc < 4 || argc > 6) {
		fprintf(stderr,
		        "usage: slurm_prog write|hold|term|check ...\n");
		return 2;
	}
	MPI_Init(&argc, &argv);
	int rc = run(argc, argv);
	MPI_Finalize();
	return rc;
}
