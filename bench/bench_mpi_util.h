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
	        {"zarr+dir-all", "zarr+dir:", ".zarr", "?codec=none"},
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
/* A parallel HDF5 write by hand: the file, one chunked dataset with fill
 * time NEVER, a collective transfer list and the memory space of one
 * rank's block. */
typedef struct bench_h5 {
	hid_t fapl, f, space, dcpl, d, dxpl, mem;
} bench_h5;

/* Create path over comm (H5Pset_fapl_mpio) and in it the dataset name of
 * type t, shape dims and chunks chunk (ndim each); mem is a space of
 * shape cnt. */
static inline void bench_h5_start(bench_h5 *h, const char *path, MPI_Comm comm,
                                  const char *name, hid_t t, int ndim,
                                  const hsize_t *dims, const hsize_t *chunk,
                                  const hsize_t *cnt)
{
	h->fapl = H5Pcreate(H5P_FILE_ACCESS);
	H5Pset_fapl_mpio(h->fapl, comm, MPI_INFO_NULL);
	h->f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, h->fapl);
	if (h->f < 0)
		bench_fail("H5Fcreate", path);
	h->space = H5Screate_simple(ndim, dims, NULL);
	h->dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_chunk(h->dcpl, ndim, chunk);
	H5Pset_fill_time(h->dcpl, H5D_FILL_TIME_NEVER);
	h->d = H5Dcreate2(h->f, name, t, h->space, H5P_DEFAULT, h->dcpl,
	                  H5P_DEFAULT);
	if (h->d < 0)
		bench_fail("H5Dcreate2", path);
	h->dxpl = H5Pcreate(H5P_DATASET_XFER);
	H5Pset_dxpl_mpio(h->dxpl, H5FD_MPIO_COLLECTIVE);
	h->mem = H5Screate_simple(ndim, cnt, NULL);
}

/* The end of it: flush and close everything, fsync the file on rank 0 and
 * wait for every rank, so that the data is durable when it returns. */
static inline void bench_h5_finish(bench_h5 *h, const char *path, MPI_Comm comm)
{
	int rank;
	if (H5Fflush(h->f, H5F_SCOPE_GLOBAL) < 0)
		bench_fail("H5Fflush", path);
	H5Sclose(h->mem);
	H5Pclose(h->dxpl);
	H5Dclose(h->d);
	H5Pclose(h->dcpl);
	H5Sclose(h->space);
	H5Pclose(h->fapl);
	H5Fclose(h->f);
	MPI_Comm_rank(comm, &rank);
	if (!rank)
		bench_sync_tree(path);
	MPI_Barrier(comm);
}
#endif

#ifdef BENCH_HAVE_ADIOS2
#include <adios2_c.h>

/* ADIOS2 BP5, its idiomatic time series: one global variable "name" of
 * (ndim, shape), this rank's block at start/count, a deferred put per
 * step (ew: AggregationType EveryoneWrites, else the default). */
typedef struct bench_bp {
	adios2_adios *ad;
	adios2_engine *e;
	adios2_variable *v;
} bench_bp;

static inline void bench_bp_open(bench_bp *b, MPI_Comm comm, const char *path,
                                 const char *name, adios2_type t, size_t ndim,
                                 const size_t *shape, const size_t *start,
                                 const size_t *count, int ew)
{
	b->ad = adios2_init_mpi(comm);
	adios2_io *io = b->ad ? adios2_declare_io(b->ad, "bench") : NULL;
	if (!io || adios2_set_engine(io, "BP5"))
		bench_fail("adios2_declare_io", "BP5");
	if (ew && adios2_set_parameter(io, "AggregationType", "EveryoneWrites"))
		bench_fail("adios2_set_parameter", "EveryoneWrites");
	b->v = adios2_define_variable(io, name, t, ndim, shape, start, count,
	                              adios2_constant_dims_true);
	b->e = b->v ? adios2_open(io, path, adios2_mode_write) : NULL;
	if (!b->e)
		bench_fail("adios2_open", path);
}

/* One step: data (NULL: this rank puts nothing). */
static inline void bench_bp_step(bench_bp *b, const void *data)
{
	adios2_step_status st;
	if (adios2_begin_step(b->e, adios2_step_mode_append, -1, &st) ||
	    (data && adios2_put(b->e, b->v, data, adios2_mode_deferred)) ||
	    adios2_end_step(b->e))
		bench_fail("adios2 step", "");
}

/* Close, then fsync every file of the .bp directory (ADIOS2 never
 * syncs) once every rank's files are complete. */
static inline void bench_bp_close(bench_bp *b, MPI_Comm comm, int rank,
                                  const char *path)
{
	if (adios2_close(b->e))
		bench_fail("adios2_close", path);
	MPI_Barrier(comm);
	if (!rank)
		bench_sync_tree(path);
	MPI_Barrier(comm);
}
#endif

#endif
