/* The zero-copy step under mpiexec: test_zerocopy URI STEPS [changed]
 *
 * opts.zero_copy = SIMREC_ZERO_COPY_CHECK. Every rank records, per step,
 * a (R, C) float64 block with simrec_record_all and its slab of an
 * (R * np, C2) int32 global array with simrec_record_global, from two
 * buffers of each it alternates (two steps lent at once), calling
 * simrec_wait every second step; the last steps stay lent into a
 * simrec_flush and into simrec_close. After each release the buffers
 * still hold what the formula made (simrec wrote nothing into them).
 * Detected misuse, refused with SIMREC_EINVAL on every rank and storing
 * nothing: a step recorded from a lent buffer (record_all and
 * record_global, also a buffer overlapping a lent one). With "changed",
 * the last rank writes into a lent buffer of a key of its own, and
 * simrec_wait fails with SIMREC_EINVAL on every rank. Rank 0 reads every
 * step back (reopened read-only; a memory: store before close) and
 * compares each element with the formula. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_check.h"

enum { R = 64, C = 33, R2 = 40, C2 = 17 };

static int size;

static double uval(int step, int r, size_t i)
{
	return step * 1e6 + r * 1e4 + (double)i * 0.25;
}

static int32_t gval(int step, size_t row, size_t col)
{
	return (int32_t)(step * 100000 + (int)row * 100 + (int)col);
}

static void fill(double *u, int32_t *g, int step)
{
	for (size_t i = 0; i < (size_t)R * C; i++)
		u[i] = uval(step, rank, i);
	for (size_t i = 0; i < (size_t)R2 * C2; i++)
		g[i] = gval(step, (size_t)rank * R2 + i / C2, i % C2);
}

/* The buffers of step still hold the formula's values. */
static void unchanged(const double *u, const int32_t *g, int step)
{
	for (size_t i = 0; i < (size_t)R * C; i++)
		CHECK(u[i] == uval(step, rank, i));
	for (size_t i = 0; i < (size_t)R2 * C2; i++)
		CHECK(g[i] == gval(step, (size_t)rank * R2 + i / C2, i % C2));
}

static void record(simrec_t *rec, const double *u, const int32_t *g)
{
	size_t sh[2] = {R, C}, gs[2] = {(size_t)R2 * (size_t)size, C2};
	size_t st[2] = {(size_t)rank * R2, 0}, ct[2] = {R2, C2};
	CHECK_RC(rec, simrec_record_all(rec, "zc/u", SIMREC_FLOAT64, 2, sh, u),
	         0);
	CHECK_RC(rec,
	         simrec_record_global(rec, "zc/g", SIMREC_INT32, 2, gs, st, ct,
	                              g),
	         0);
}

/* Misuse while u and g are lent: refused on every rank, nothing stored. */
static void misuse(simrec_t *rec, const double *u, const int32_t *g)
{
	size_t sh[2] = {R, C}, half[1] = {R * C / 2};
	size_t gs[2] = {(size_t)R2 * (size_t)size, C2};
	size_t st[2] = {(size_t)rank * R2, 0}, ct[2] = {R2, C2};
	CHECK_RC(rec, simrec_record_all(rec, "zc/u", SIMREC_FLOAT64, 2, sh, u),
	         SIMREC_EINVAL);
	CHECK(simrec_errmsg(rec)[0] != 0);
	/* the second half of a lent block, under another key */
	CHECK_RC(rec,
	         simrec_record_all(rec, "zc/half", SIMREC_FLOAT64, 1, half,
	                           u + R * C / 2),
	         SIMREC_EINVAL);
	CHECK_RC(rec,
	         simrec_record_global(rec, "zc/g", SIMREC_INT32, 2, gs, st, ct,
	                              g),
	         SIMREC_EINVAL);
}

static void verify(simrec_t *rec, int steps)
{
	simrec_dataset_t *ds;
	size_t sh[4];
	CHECK_RC(rec, simrec_get_all(rec, "zc/u", &ds), 0);
	simrec_dataset_shape(ds, sh);
	CHECK(simrec_dataset_ndim(ds) == 4 && sh[0] == (size_t)steps &&
	      sh[1] == (size_t)size && sh[2] == R && sh[3] == C);
	size_t n = (size_t)steps * (size_t)size * R * C;
	double *u = malloc(n * sizeof *u);
	CHECK(u);
	CHECK_RC(rec, simrec_dataset_read(ds, NULL, NULL, u, n * sizeof *u), 0);
	for (size_t k = 0; k < n; k++)
		CHECK(u[k] == uval((int)(k / ((size_t)size * R * C)),
		                   (int)(k / (R * C) % (size_t)size),
		                   k % (R * C)));
	free(u);
	simrec_dataset_close(ds);
	CHECK_RC(rec, simrec_get_all(rec, "zc/g", &ds), 0);
	simrec_dataset_shape(ds, sh);
	CHECK(simrec_dataset_ndim(ds) == 3 && sh[0] == (size_t)steps &&
	      sh[1] == (size_t)R2 * (size_t)size && sh[2] == C2);
	n = (size_t)steps * sh[1] * C2;
	int32_t *g = malloc(n * sizeof *g);
	CHECK(g);
	CHECK_RC(rec, simrec_dataset_read(ds, NULL, NULL, g, n * sizeof *g), 0);
	for (size_t k = 0; k < n; k++)
		CHECK(g[k] ==
		      gval((int)(k / (sh[1] * C2)), k / C2 % sh[1], k % C2));
	free(g);
	simrec_dataset_close(ds);
	/* the refused key was never made */
	CHECK_RC(rec, simrec_get_all(rec, "zc/half", &ds), SIMREC_ENOKEY);
}

/* The last rank writes into a lent buffer: simrec_wait says so on every
 * rank (the step of zc/changed may hold either value). */
static void changed(simrec_t *rec, double *u)
{
	size_t sh[2] = {R, C};
	for (size_t i = 0; i < (size_t)R * C; i++)
		u[i] = 1.0;
	CHECK_RC(rec,
	         simrec_record_all(rec, "zc/changed", SIMREC_FLOAT64, 2, sh, u),
	         0);
	if (rank == size - 1)
		u[R * C - 1] = 2.0;
	CHECK_RC(rec, simrec_wait(rec), SIMREC_EINVAL);
	if (rank == size - 1)
		CHECK(strstr(simrec_errmsg(rec), "changed while borrowed"));
	/* released: a new step from it is fine */
	CHECK_RC(rec,
	         simrec_record_all(rec, "zc/changed", SIMREC_FLOAT64, 2, sh, u),
	         0);
	CHECK_RC(rec, simrec_wait(rec), 0);
}

/* Steps 0 .. steps-1: two buffers lent at once, a wait every second
 * step, misuse tried while lent, a flush with a step lent; the last step
 * stays lent (in u[(steps - 1) % 2], g[...]). */
static void run(simrec_t *rec, int steps, double **u, int32_t **g)
{
	for (int b = 0; b < 2; b++) {
		u[b] = malloc(sizeof(double) * R * C);
		g[b] = malloc(sizeof(int32_t) * R2 * C2);
		CHECK(u[b] && g[b]);
	}
	for (int s = 0; s < steps; s++) {
		int b = s % 2;
		fill(u[b], g[b], s);
		record(rec, u[b], g[b]);
		if (s == 1)
			misuse(rec, u[b], g[b]);
		if (s == steps - 1)
			break; /* lent into the close (or changed()) */
		if (s == 2) {  /* the flush waits for it, and releases it */
			CHECK_RC(rec, simrec_flush(rec), 0);
			unchanged(u[b], g[b], s);
		} else if (b == 1) {
			CHECK_RC(rec, simrec_wait(rec), 0);
			unchanged(u[0], g[0], s - 1);
			unchanged(u[1], g[1], s);
		}
	}
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (argc < 3) {
		fprintf(stderr, "usage: test_zerocopy URI STEPS [changed]\n");
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	const char *uri = argv[1];
	int steps = atoi(argv[2]);
	CHECK(steps >= 4);
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	o.zero_copy = SIMREC_ZERO_COPY_CHECK;
	simrec_t *rec;
	CHECK_RC(NULL, simrec_open_comm(&rec, uri, &o, MPI_COMM_WORLD), 0);
	/* nothing lent yet: a wait is a no-op */
	CHECK_RC(rec, simrec_wait(rec), 0);
	double *u[2];
	int32_t *g[2];
	run(rec, steps, u, g);
	double *other = malloc(sizeof(double) * R * C);
	CHECK(other);
	if (argc > 3 && !strcmp(argv[3], "changed"))
		changed(rec, other);
	/* the close waits for the lent buffers (not an error) */
	close_and_verify(rec, uri, steps, verify);
	int last = (steps - 1) % 2;
	unchanged(u[last], g[last], steps - 1);
	for (int b = 0; b < 2; b++) {
		free(u[b]);
		free(g[b]);
	}
	free(other);
	MPI_Finalize();
	if (rank == 0)
		printf("test_zerocopy %s np=%d: ok\n", uri, size);
	return 0;
}
