/* Two record_all keys of different dtypes and sizes through the shared
 * window with compression: k/mid (float64, 40000 per rank) first, then
 * k/late8 (uint8, 300001 per rank, incompressible). The second key's
 * blocks are smaller than the first's, so the window is not regrown and
 * the ranks' frame buffers are larger than its frames' bound: each frame
 * must still fit its slot. Rank 0 reads everything back bit for bit.
 * usage: test_shm_mixed URI STEPS */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simrec.h"

static int rank, size;

#define CHECK(c)                                                      \
	do {                                                          \
		if (!(c)) {                                           \
			fprintf(stderr, "rank %d: %s:%d: %s\n", rank, \
			        __FILE__, __LINE__, #c);              \
			MPI_Abort(MPI_COMM_WORLD, 1);                 \
		}                                                     \
	} while (0)

#define CHECK_RC(rec, call)                                               \
	do {                                                              \
		int rc_ = (call);                                         \
		if (rc_) {                                                \
			fprintf(stderr, "rank %d: %s:%d: %s = %d (%s)\n", \
			        rank, __FILE__, __LINE__, #call, rc_,     \
			        simrec_errmsg(rec));                      \
			MPI_Abort(MPI_COMM_WORLD, 1);                     \
		}                                                         \
	} while (0)

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9u;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebu;
	x ^= x >> 31;
	return x;
}

typedef struct {
	const char *name;
	simrec_dtype_t dt;
	size_t n;
} key_def;

static const key_def K[] = {{"k/mid", SIMREC_FLOAT64, 40000},
                            {"k/late8", SIMREC_UINT8, 300001}};
enum { NK = 2 };

static void fill(unsigned char *b, int k, int s, int r)
{
	for (size_t i = 0; i < K[k].n; i++) {
		uint64_t x = mix(((uint64_t)k << 56) ^ ((uint64_t)s << 36) ^
		                 ((uint64_t)r << 28) ^ i);
		if (K[k].dt == SIMREC_UINT8)
			b[i] = (uint8_t)x;
		else
			((double *)(void *)b)[i] =
			        (double)(x >> 11) * 0x1p-53 + s * 1e3 + r;
	}
}

static void verify(const char *uri, int steps, unsigned char *got,
                   unsigned char *want)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	CHECK_RC(NULL, simrec_open(&rec, uri, &o));
	for (int k = 0; k < NK; k++) {
		simrec_dataset_t *ds;
		CHECK_RC(rec, simrec_get_all(rec, K[k].name, &ds));
		size_t sh[4];
		simrec_dataset_shape(ds, sh);
		CHECK(sh[0] == (size_t)steps && sh[1] == (size_t)size &&
		      sh[2] == K[k].n);
		size_t bytes = K[k].n * simrec_dtype_size(K[k].dt);
		for (int s = 0; s < steps; s++)
			for (int r = 0; r < size; r++) {
				size_t start[3] = {(size_t)s, (size_t)r, 0},
				       count[3] = {1, 1, K[k].n};
				CHECK_RC(rec,
				         simrec_dataset_read(ds, start, count,
				                             got, bytes));
				fill(want, k, s, r);
				CHECK(!memcmp(got, want, bytes));
			}
		simrec_dataset_close(ds);
	}
	CHECK_RC(rec, simrec_close(rec));
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (argc < 3) {
		fprintf(stderr, "usage: test_shm_mixed URI STEPS\n");
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	int steps = atoi(argv[2]);
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	simrec_t *rec;
	CHECK_RC(NULL, simrec_open_comm(&rec, argv[1], &o, MPI_COMM_WORLD));
	unsigned char *buf = malloc(400000), *want = malloc(400000);
	CHECK(buf && want);
	for (int s = 0; s < steps; s++)
		for (int k = 0; k < NK; k++) {
			fill(buf, k, s, rank);
			CHECK_RC(rec, simrec_record_all(rec, K[k].name, K[k].dt,
			                                1, &K[k].n, buf));
			/* the caller's buffer is free at return */
			memset(buf, 0xA5, 400000);
		}
	CHECK_RC(rec, simrec_close(rec));
	MPI_Barrier(MPI_COMM_WORLD);
	if (rank == 0)
		verify(argv[1], steps, buf, want);
	free(buf);
	free(want);
	MPI_Finalize();
	if (rank == 0)
		printf("shm_mixed np=%d: ok\n", size);
	return 0;
}
