/* Helpers shared by the MPI benchmarks. Define BENCH_NAME (the program's
 * name, which starts its messages) before including. */
#ifndef SIMREC_BENCH_MPI_UTIL_H
#define SIMREC_BENCH_MPI_UTIL_H

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "bench_util.h"
#include "simrec.h"
#ifdef BENCH_HAVE_HDF5
#include <hdf5.h>
#endif

/* Print "BENCH_NAME: what: detail" and end every rank. */
static inline void bench_fail(const char *what, const char *detail)
{
	fprintf(stderr, BENCH_NAME ": %s: %s\n", what, detail ? detail : "");
	MPI_Abort(MPI_COMM_WORLD, 1);
}

/* bench_fail with simrec's message if rc is a failure of rec's call. */
static inline void bench_check(simrec_t *rec, int rc, const char *what)
{
	if (rc) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s (%s)", simrec_strerror(rc),
		         simrec_errmsg(rec));
		bench_fail(what, msg);
	}
}

/* The store a simrec method writes under dir: its path (the file or
 * directory NAME.h5 or NAME.zarr) and URI. Returns 0 if method is not one
 * of zarr, zarr+dir, zarr+dir-lz4, hdf5, hdf5-all. */
static inline int bench_simrec_store(const char *method, const char *dir,
                                     const char *name, char path[4200],
                                     char uri[4300])
{
	/* scheme, file suffix, query of each simrec method */
	static const char *const m[][4] = {
	        {"zarr", "zarr:", ".zarr", "?codec=none"},
	        {"zarr+dir", "zarr+dir:", ".zarr", "?codec=none"},
	        {"zarr+dir-lz4", "zarr+dir:", ".zarr", "?codec=lz4"},
	        {"hdf5", "hdf5:", ".h5", ""},
	        {"hdf5-all", "hdf5:", ".h5", ""}};
	size_t i = 0, nm = sizeof m / sizeof m[0];
	while (i < nm && strcmp(method, m[i][0]))
		i++;
	if (i == nm)
		return 0;
	snprintf(path, 4200, "%s/%s%s", dir, name, m[i][2]);
	snprintf(uri, 4300, "%s%s%s", m[i][1], path, m[i][3]);
	return 1;
}

/* Peak RSS of this process, KiB. */
static inline long bench_max_rss_kib(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return u.ru_maxrss;
}

#ifdef BENCH_HAVE_HDF5
/* The end of a parallel HDF5 write by hand: flush the file f, release the
 * n handles ids and f, fsync the file on rank 0 and wait for every rank,
 * so that the data is durable when it returns. */
static inline void bench_h5_finish(hid_t f, const hid_t *ids, int n,
                                   const char *path, MPI_Comm comm)
{
	int rank;
	if (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0)
		bench_fail("H5Fflush", path);
	for (int k = 0; k < n; k++)
		H5Idec_ref(ids[k]);
	H5Fclose(f);
	MPI_Comm_rank(comm, &rank);
	if (!rank)
		bench_sync_tree(path);
	MPI_Barrier(comm);
}
#endif

#endif
