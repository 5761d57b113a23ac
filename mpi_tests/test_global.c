/* simrec_record_global under mpiexec.
 *   test_global write URI STEP0 STEPS
 *       records steps STEP0 .. STEP0+STEPS-1 of three global arrays
 *       (g1: 1-D float64 (1000,), g2: 2-D int32 (37, 23), g3: 3-D float64
 *       (13, 11, 7)) cut into uneven blocks of a 1-D, 2-D and 3-D process
 *       grid; with 3 or more ranks the last rank's blocks are empty, and a
 *       grid dimension of 3 or more parts has an empty part. Then every
 *       step from 0 is read back (rank 0, simrec_open read-only; a memory:
 *       store on rank 0 before close, which needs one writer) and compared
 *       with the formula, element by element.
 *       With SIMREC_TEST_KILL_RANK, _STEP and _FIFO set, that rank writes
 *       its pid into the FIFO at that step and waits to be killed.
 *   test_global check URI
 *       every step each key shows (a store left by a killed job) is whole
 *       (simrec_dataset_verify) and holds the formula's values; prints
 *       "steps N" with the fewest steps of any key.
 *   test_global bad URI
 *       every bad decomposition fails on every rank with the same status
 *       and a message naming the ranks, and stores nothing; a fill value
 *       makes an uncovered region legal (it reads back as the fill).
 * The value of element (step s, linear global index i) is the formula of
 * check_global.py. Exit status 0 on success; any failed check aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simrec.h"

#include "test_check.h"

static int size;

typedef struct gkey {
	const char *name;
	simrec_dtype_t dt;
	int ndim;
	size_t shape[3];
} gkey;

static const gkey keys[] = {
        {"g1", SIMREC_FLOAT64, 1, {1000}},
        {"field/g2", SIMREC_INT32, 2, {37, 23}},
        {"field/g3", SIMREC_FLOAT64, 3, {13, 11, 7}},
};
enum { NKEYS = 3 };

static double fvalue(int s, size_t i)
{
	return (double)s * 100000.0 + (double)i + 0.25;
}

static int32_t ivalue(int s, size_t i)
{
	return (int32_t)(((size_t)s * 7919u + i * 31u) % 100003u);
}

/* Part j of n split into p uneven parts (weights j+1; with 3 or more
 * parts, part 1 is empty): [*lo, *hi). */
static void split(size_t n, int p, int j, size_t *lo, size_t *hi)
{
	size_t wsum = 0, wj0 = 0;
	for (int k = 0; k < p; k++) {
		size_t w = p >= 3 && k == 1 ? 0 : (size_t)k + 1;
		if (k < j)
			wj0 += w;
		wsum += w;
	}
	size_t wj = p >= 3 && j == 1 ? 0 : (size_t)j + 1;
	*lo = n * wj0 / wsum;
	*hi = n * (wj0 + wj) / wsum;
}

/* This rank's block of k: a grid of the ranks but the last (3 or more
 * ranks: the last one's block is empty). */
static void my_block(const gkey *k, size_t *start, size_t *count)
{
	int used = size >= 3 ? size - 1 : size;
	int dims[3] = {0, 0, 0};
	MPI_Dims_create(used, k->ndim, dims);
	int r = rank;
	for (int i = k->ndim - 1; i >= 0; i--) {
		int c = r % dims[i];
		r /= dims[i];
		size_t lo, hi;
		split(k->shape[i], dims[i], c, &lo, &hi);
		start[i] = lo;
		count[i] = hi - lo;
	}
	if (rank >= used)
		for (int i = 0; i < k->ndim; i++) {
			start[i] = 0;
			count[i] = 0;
		}
}

static size_t elems(int nd, const size_t *c)
{
	size_t n = 1;
	for (int i = 0; i < nd; i++)
		n *= c[i];
	return n;
}

/* The block's values at step s (C order within the block). */
static void *make_block(const gkey *k, int s, const size_t *start,
                        const size_t *count)
{
	size_t n = elems(k->ndim, count);
	void *buf = malloc(n ? n * 8 : 1);
	CHECK(buf);
	size_t idx[3] = {0, 0, 0};
	for (size_t e = 0; e < n; e++) {
		size_t lin = 0;
		for (int i = 0; i < k->ndim; i++)
			lin = lin * k->shape[i] + start[i] + idx[i];
		if (k->dt == SIMREC_INT32)
			((int32_t *)buf)[e] = ivalue(s, lin);
		else
			((double *)buf)[e] = fvalue(s, lin);
		for (int i = k->ndim - 1; i >= 0; i--) {
			if (++idx[i] < count[i])
				break;
			idx[i] = 0;
		}
	}
	return buf;
}

/* The victim of a kill test: its pid to the FIFO, then wait. */
static void maybe_pause(int s)
{
	const char *kr = getenv("SIMREC_TEST_KILL_RANK");
	const char *ks = getenv("SIMREC_TEST_KILL_STEP");
	const char *kf = getenv("SIMREC_TEST_KILL_FIFO");
	if (!kr || !ks || !kf || atoi(kr) != rank || atoi(ks) != s)
		return;
	FILE *f = fopen(kf, "w");
	CHECK(f);
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
	for (;;)
		pause();
}

static void record_step(simrec_t *rec, int s)
{
	maybe_pause(s);
	for (int j = 0; j < NKEYS; j++) {
		const gkey *k = &keys[j];
		size_t start[3], count[3];
		my_block(k, start, count);
		void *b = make_block(k, s, start, count);
		CHECK_RC(rec,
		         simrec_record_global(rec, k->name, k->dt, k->ndim,
		                              k->shape, start, count, b),
		         0);
		free(b);
	}
}

/* Every step 0 .. steps-1 of every key, element by element (steps < 0:
 * as many as each key shows, all whole; returns the fewest). */
static int verify(simrec_t *rec, int steps)
{
	int fewest = -1;
	for (int j = 0; j < NKEYS; j++) {
		const gkey *k = &keys[j];
		simrec_dataset_t *ds;
		CHECK_RC(rec, simrec_get_all(rec, k->name, &ds), 0);
		size_t sh[4];
		CHECK(simrec_dataset_ndim(ds) == k->ndim + 1);
		simrec_dataset_shape(ds, sh);
		int want = steps;
		if (steps < 0) {
			size_t whole = 0;
			want = (int)sh[0];
			CHECK_RC(rec, simrec_dataset_verify(ds, &whole), 0);
			CHECK(whole == sh[0]);
		}
		fewest = fewest < 0 || want < fewest ? want : fewest;
		CHECK(sh[0] == (size_t)want);
		for (int i = 0; i < k->ndim; i++)
			CHECK(sh[i + 1] == k->shape[i]);
		size_t n = elems(k->ndim, k->shape);
		unsigned char *buf = malloc((size_t)want * n * 8 + 1);
		CHECK(buf);
		CHECK_RC(rec,
		         simrec_dataset_read(ds, NULL, NULL, buf,
		                             (size_t)want * n * 8),
		         0);
		for (int s = 0; s < want; s++)
			for (size_t e = 0; e < n; e++) {
				size_t at = (size_t)s * n + e;
				if (k->dt == SIMREC_INT32)
					CHECK(((int32_t *)(void *)buf)[at] ==
					      ivalue(s, e));
				else
					CHECK(((double *)(void *)buf)[at] ==
					      fvalue(s, e));
			}
		free(buf);
		simrec_dataset_close(ds);
	}
	return fewest;
}

static void verify_all(simrec_t *rec, int steps)
{
	verify(rec, steps);
}

static int check_mode(const char *uri, int least)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	CHECK_RC(NULL, simrec_open(&rec, uri, &o), 0);
	int steps = verify(rec, -1);
	CHECK_RC(rec, simrec_close(rec), 0);
	/* every step acknowledged by a flush before a kill is visible */
	CHECK(steps >= least);
	printf("steps %d\n", steps);
	return 0;
}

static int write_mode(const char *uri, int step0, int steps)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = step0 ? SIMREC_MODE_APPEND : SIMREC_MODE_CREATE;
	simrec_t *rec;
	CHECK_RC(NULL, simrec_open_comm(&rec, uri, &o, MPI_COMM_WORLD), 0);
	for (int s = step0; s < step0 + steps; s++) {
		record_step(rec, s);
		if (s % 3 == 2) {
			CHECK_RC(rec, simrec_flush(rec), 0);
			/* durable on every rank: a kill test's lower bound */
			if (rank == 0) {
				printf("acked %d\n", s + 1);
				fflush(stdout);
			}
		}
	}
	close_and_verify(rec, uri, step0 + steps, verify_all);
	if (rank == 0)
		printf("test_global write np=%d steps %d..%d: ok\n", size,
		       step0, step0 + steps - 1);
	return 0;
}

/* One bad step of key "bad": every rank gets want, the message names
 * what (on every rank). */
static void expect_bad(simrec_t *rec, const size_t *shape, simrec_dtype_t dt,
                       const size_t *start, const size_t *count, int want,
                       const char *what)
{
	double buf[64];
	for (int i = 0; i < 64; i++)
		buf[i] = i;
	int rc = simrec_record_global(rec, "bad", dt, 2, shape, start, count,
	                              buf);
	if (rc != want || !strstr(simrec_errmsg(rec), what)) {
		fprintf(stderr,
		        "rank %d: expected %s naming '%s', got %s: %s\n", rank,
		        simrec_err_name(want), what, simrec_err_name(rc),
		        simrec_errmsg(rec));
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
}

/* Rows [rank*2, rank*2+2) of a (2*size, 4) array: a valid decomposition
 * to spoil. */
static void good_block(size_t *start, size_t *count)
{
	start[0] = (size_t)rank * 2;
	start[1] = 0;
	count[0] = 2;
	count[1] = 4;
}

static void bad_cases(simrec_t *rec)
{
	size_t shape[2] = {(size_t)size * 2, 4}, start[2], count[2];
	char name[64];
	/* a block outside the shape, on the last rank */
	good_block(start, count);
	if (rank == size - 1)
		count[1] = 5;
	snprintf(name, sizeof name, "rank %d", size - 1);
	expect_bad(rec, shape, SIMREC_FLOAT64, start, count, SIMREC_ERANGE,
	           name);
	/* an uncovered region (rank 0's rows missing), no fill value */
	good_block(start, count);
	if (rank == 0)
		count[0] = 0;
	expect_bad(rec, shape, SIMREC_FLOAT64, start, count, SIMREC_EINVAL,
	           "no rank covers the element at [0:1, 0:1]");
	if (size < 2)
		return;
	/* overlapping blocks: rank 1 also takes rank 0's second row */
	good_block(start, count);
	if (rank == 1) {
		start[0] = 1;
		count[0] = 3;
	}
	expect_bad(rec, shape, SIMREC_FLOAT64, start, count, SIMREC_EINVAL,
	           "ranks 0 and 1 overlap in [1:2, 0:4]");
	/* a global shape that differs on rank 1 */
	good_block(start, count);
	size_t other[2] = {shape[0], 5};
	expect_bad(rec, rank == 1 ? other : shape, SIMREC_FLOAT64, start, count,
	           SIMREC_ESHAPE, "rank 1");
	/* a dtype that differs on rank 1 */
	expect_bad(rec, shape, rank == 1 ? SIMREC_FLOAT32 : SIMREC_FLOAT64,
	           start, count, SIMREC_EDTYPE, "rank 1");
}

static int bad_mode(const char *uri)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_APPEND;
	simrec_t *rec;
	CHECK_RC(NULL, simrec_open_comm(&rec, uri, &o, MPI_COMM_WORLD), 0);
	bad_cases(rec);
	/* a global shape other than the existing dataset's (g1 is (1000,),
	 * made here in a memory: store) */
	size_t sh = 999, st = 0, ct = rank == 0 ? 999 : 0;
	double *b = calloc(1000, sizeof *b);
	CHECK(b);
	if (!strncmp(uri, "memory:", 7)) {
		size_t sh0 = 1000, ct0 = rank == 0 ? 1000 : 0;
		CHECK_RC(rec,
		         simrec_record_global(rec, "g1", SIMREC_FLOAT64, 1,
		                              &sh0, &st, &ct0, b),
		         0);
	}
	CHECK_RC(rec,
	         simrec_record_global(rec, "g1", SIMREC_FLOAT64, 1, &sh, &st,
	                              &ct, b),
	         SIMREC_ESHAPE);
	free(b);
	/* with a fill value an uncovered region is legal: rank 0's rows */
	double fill = -1.5;
	CHECK_RC(rec, simrec_global_fill(rec, "filled", SIMREC_FLOAT64, &fill),
	         0);
	size_t shape[2] = {(size_t)size * 2, 4}, start[2], count[2];
	good_block(start, count);
	if (rank == 0)
		count[0] = 0;
	double v[8];
	for (int i = 0; i < 8; i++)
		v[i] = rank * 100 + i;
	CHECK_RC(rec,
	         simrec_record_global(rec, "filled", SIMREC_FLOAT64, 2, shape,
	                              start, count, v),
	         0);
	/* blocks that change after a good step are checked again: every
	 * rank's rows 0..1 overlap (a fill value allows holes, not this) */
	if (size > 1) {
		start[0] = 0;
		count[0] = 2;
		CHECK_RC(rec,
		         simrec_record_global(rec, "filled", SIMREC_FLOAT64, 2,
		                              shape, start, count, v),
		         SIMREC_EINVAL);
	}
	CHECK_RC(rec, simrec_close(rec), 0);
	MPI_Barrier(MPI_COMM_WORLD);
	if (rank == 0 && strncmp(uri, "memory:", 7)) {
		o.mode = SIMREC_MODE_READONLY;
		CHECK_RC(NULL, simrec_open(&rec, uri, &o), 0);
		simrec_dataset_t *ds;
		CHECK(simrec_get_all(rec, "bad", &ds) == SIMREC_ENOKEY);
		CHECK_RC(rec, simrec_get_all(rec, "filled", &ds), 0);
		size_t n = (size_t)size * 8;
		double *all = malloc(n * sizeof *all);
		CHECK(all);
		CHECK_RC(rec, simrec_dataset_read(ds, NULL, NULL, all, n * 8),
		         0);
		for (size_t i = 0; i < n; i++)
			CHECK(all[i] ==
			      (i < 8 ? -1.5 : (double)(i / 8 * 100 + i % 8)));
		free(all);
		simrec_dataset_close(ds);
		CHECK_RC(rec, simrec_close(rec), 0);
	}
	if (rank == 0)
		printf("test_global bad np=%d: ok\n", size);
	return 0;
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	int rc = 2;
	if (argc == 5 && !strcmp(argv[1], "write"))
		rc = write_mode(argv[2], atoi(argv[3]), atoi(argv[4]));
	else if ((argc == 3 || argc == 4) && !strcmp(argv[1], "check") &&
	         rank == 0)
		rc = check_mode(argv[2], argc == 4 ? atoi(argv[3]) : 0);
	else if (argc == 3 && !strcmp(argv[1], "bad"))
		rc = bad_mode(argv[2]);
	else if (rank == 0)
		fprintf(stderr, "usage: test_global write URI STEP0 STEPS | "
		                "bad URI\n");
	MPI_Finalize();
	return rc;
}
