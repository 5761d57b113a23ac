/* Strings, bytes and attributes of every kind from every rank of an MPI
 * job, next to record_all, then read back serially (by rank 0 after the
 * collective close) and by h5py / zarr-python (interop_matrix.py).
 *   mpiexec -n NP interop_mpi URI STEPS */
#include <string.h>

#include "check.h"

/* field's rank columns [r0, r1); if all (a reopened store, or rank 0's
 * memory store, where every rank's independent records go): the strings
 * of every rank, each once, the raw records' count, the attributes */
static void read_back(simrec_t *rec, int steps, int r0, int r1, int all)
{
	simrec_dataset_t *ds;
	int size;
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	CHECK_OK(rec, simrec_get_all(rec, "field", &ds));
	size_t sh[4], nv = (size_t)steps * (size_t)size * 6;
	CHECK(simrec_dataset_ndim(ds) == 4);
	simrec_dataset_shape(ds, sh);
	CHECK(sh[0] == (size_t)steps && sh[1] == (size_t)size && sh[2] == 2 &&
	      sh[3] == 3);
	double *v = malloc(nv * sizeof *v);
	CHECK(v != NULL);
	CHECK_OK(rec, simrec_dataset_read(ds, NULL, NULL, v, nv * sizeof *v));
	for (int s = 0; s < steps; s++)
		for (int r = r0; r < r1; r++)
			for (int k = 0; k < 6; k++)
				CHECK(v[((size_t)s * (size_t)size + (size_t)r) *
				                6 +
				        (size_t)k] ==
				      1000.0 * s + 10.0 * r + k);
	free(v);
	simrec_dataset_close(ds);
	if (!all)
		return;
	CHECK_OK(rec, simrec_get_all(rec, "log/text", &ds));
	size_t n;
	simrec_dataset_shape(ds, &n);
	CHECK(n == (size_t)(steps * size));
	for (int r = 0; r < size; r++)
		for (int s = 0; s < steps; s++) {
			char want[64], got[64];
			snprintf(want, sizeof want, "rank %d step %d é", r, s);
			int found = 0;
			for (size_t i = 0; i < n; i++) {
				size_t len;
				CHECK_OK(rec,
				         simrec_dataset_read_bytes(
				                 ds, i, got, sizeof got, &len));
				found += !strcmp(got, want);
			}
			CHECK(found == 1);
		}
	simrec_dataset_close(ds);
	CHECK_OK(rec, simrec_get_all(rec, "log/raw", &ds));
	simrec_dataset_shape(ds, &n);
	CHECK(n == (size_t)(steps * size));
	simrec_dataset_close(ds);
	simrec_attr_t a;
	CHECK_OK(rec, simrec_attr_get(rec, "", "u", &a));
	CHECK(a.type == SIMREC_ATTR_UINT && a.u == UINT64_MAX);
	CHECK_OK(rec, simrec_attr_get(rec, "log", "flag", &a));
	CHECK(a.type == SIMREC_ATTR_BOOL && a.i == 1);
	CHECK_OK(rec, simrec_attr_get(rec, "field", "arr", &a));
	CHECK(a.type == SIMREC_ATTR_ARRAY && a.count == 3 &&
	      ((int64_t *)a.data)[0] == -1 && ((int64_t *)a.data)[2] == 1);
	simrec_attr_clear(&a);
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	if (argc != 3) {
		fprintf(stderr, "usage: interop_mpi URI STEPS\n");
		return 2;
	}
	int rank, size, steps = atoi(argv[2]);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	simrec_t *rec;
	CHECK_OK(NULL, simrec_open_comm(&rec, argv[1], &o, MPI_COMM_WORLD));
	const size_t shape[2] = {2, 3};
	for (int s = 0; s < steps; s++) {
		double v[6];
		for (int k = 0; k < 6; k++)
			v[k] = 1000.0 * s + 10.0 * rank + k;
		CHECK_OK(rec, simrec_record_all(rec, "field", SIMREC_FLOAT64, 2,
		                                shape, v));
		char t[64];
		int n = snprintf(t, sizeof t, "rank %d step %d é", rank, s);
		CHECK_OK(rec, simrec_record_bytes(rec, "log/text",
		                                  SIMREC_STRING, t, (size_t)n));
		CHECK_OK(rec, simrec_record_bytes(rec, "log/raw", SIMREC_BYTES,
		                                  t, (size_t)(s % 5)));
	}
	if (rank == 0) {
		const int64_t arr[3] = {-1, 0, 1};
		CHECK_OK(rec, simrec_attr_set_uint(rec, "", "u", UINT64_MAX));
		CHECK_OK(rec, simrec_attr_set_bool(rec, "log", "flag", 1));
		CHECK_OK(rec, simrec_attr_set_array(rec, "field", "arr",
		                                    SIMREC_INT64, 3, arr));
		CHECK_OK(rec, simrec_attr_set_string(rec, "log", "unit", "K"));
	}
	int memory = !strncmp(argv[1], "memory:", 7);
	if (memory) {
		/* the store lives in its writers' memory: each writer reads
		 * its group's records back before the close (docs/mpi.md:
		 * contiguous groups of ceil(N / M) ranks) */
		CHECK_OK(rec, simrec_flush(rec));
		const char *w = getenv("SIMREC_WRITERS");
		int m = w && atoi(w) > 0 ? atoi(w) : 1;
		int g = (size + m - 1) / m;
		if (rank % g == 0)
			read_back(rec, steps, rank,
			          rank + g < size ? rank + g : size, rank == 0);
	}
	CHECK_OK(rec, simrec_close(rec));
	if (!memory && rank == 0) {
		o.mode = SIMREC_MODE_READONLY;
		CHECK_OK(NULL, simrec_open(&rec, argv[1], &o));
		read_back(rec, steps, 0, size, 1);
		CHECK_OK(rec, simrec_close(rec));
	}
	if (rank == 0)
		printf("interop mpi: ok\n");
	MPI_Finalize();
	return 0;
}
