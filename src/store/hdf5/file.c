/* hdf5's file: opening serial or parallel, the room kept for a full disk,
 * commit, close (cutting back what a failure left unpublished). */
#define _GNU_SOURCE /* O_TMPFILE */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/clock.h"
#include "../../common/oserr.h"
#include "h5store.h"

/* ---- open / close ------------------------------------------------------ */

/* A writer keeps H5_RESERVE_BYTES allocated in an unnamed file next to
 * the HDF5 file (gone with the process, whatever happens). HDF5 1.10
 * cannot close a file whose metadata it fails to write: serial HDF5 keeps
 * it half-closed and crashes at exit, parallel writers take different
 * paths through the close and wait for each other forever. After the
 * first failed write the room is given back (h5_reserve_drop), so that
 * the close completes on every writer. Best effort: a file system
 * without O_TMPFILE or without the room runs with no reserve. */
static void h5_reserve(sr_store *st, h5_store *h)
{
	h->reserve_fd = -1;
	h->room_fd = -1;
	int rank = 0;
	if (h->parallel)
		MPI_Comm_rank(st->comm, &rank);
	if (st->mode == SIMREC_MODE_READONLY || rank != 0)
		return;
	char dir[4096];
	const char *slash = strrchr(st->uri.path, '/');
	size_t n = slash ? (size_t)(slash - st->uri.path) : 0;
	if (n >= sizeof dir)
		return;
	memcpy(dir, st->uri.path, n);
	strcpy(dir + n, n ? "" : ".");
	if (slash && !n)
		strcpy(dir, "/");
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 && posix_fallocate(fd, 0, H5_RESERVE_BYTES) != 0) {
		close(fd);
		fd = -1;
	}
	h->reserve_fd = fd;
}

/* The file access list (MPI-IO when parallel), and the transfer list
 * (collective when parallel) into h->dxpl. */
static hid_t h5_props(sr_store *st, h5_store *h)
{
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (h->parallel)
		H5Pset_fapl_mpio(fapl, st->comm, MPI_INFO_NULL);
	/* with the redis lock, HDF5's own flock would keep readers out */
	if (st->shared)
		H5Pset_file_locking(fapl, 0, 1);
	h5_swmr_fapl(st, fapl);
	/* parallel writers: metadata written collectively (by one rank, in
	 * one MPI-IO call) and read by one rank and broadcast, instead of
	 * every rank reading and writing small pieces (measured: bench/) */
	if (h->parallel) {
		H5Pset_coll_metadata_write(fapl, 1);
		H5Pset_all_coll_metadata_ops(fapl, 1);
	}
	h->dxpl = H5Pcreate(H5P_DATASET_XFER);
	if (h->parallel)
		H5Pset_dxpl_mpio(h->dxpl, H5FD_MPIO_COLLECTIVE);
	return fapl;
}

/* What is at path: look[0] whether it h5_exists, look[1] why it may not be
 * replaced (0: it may; 1 a link, 2 not a regular file, 3 not HDF5). One
 * rank looks, so that every rank takes the same branch. */
static void h5_look(sr_store *st, int parallel, const char *path, int *look)
{
	struct stat sb;
	int rank = 0;
	look[0] = look[1] = 0;
	if (parallel)
		MPI_Comm_rank(st->comm, &rank);
	if (rank == 0) {
		struct stat lsb;
		look[0] = stat(path, &sb) == 0;
		int link = lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode);
		/* not a regular file (a FIFO would block H5Fis_hdf5 and
		 * H5Fopen forever), through a link or not */
		if (look[0] && !S_ISREG(sb.st_mode))
			look[1] = 2;
		else if (link)
			look[0] = look[1] = 1;
		else if (look[0] && H5Fis_hdf5(path) <= 0)
			look[1] = 3;
	}
	if (parallel)
		MPI_Bcast(look, 2, MPI_INT, 0, st->comm);
}

/* Why H5Fopen or H5Fcreate of the store's file failed, from the errno in
 * HDF5's error stack: another process's lock (HDF5 locks a file for as
 * long as a writer has it open, and a reader is refused then), or the
 * system's cause (a missing directory, a permission). */
static int h5_open_fail(sr_store *st)
{
	const char *path = st->uri.path;
	const char *how =
	        st->mode == SIMREC_MODE_READONLY ? "" : " for writing";
	int err = h5_errno(st);
	if (err == EWOULDBLOCK || err == EAGAIN)
		return sr_fail(st->err, SIMREC_ELOCK,
		               "cannot open HDF5 file '%s'%s: it is locked by "
		               "another process (HDF5 file locking: a writer "
		               "holds it open); read it after the run, or have "
		               "the writer and the readers take the redis lock "
		               "(?lock=, docs/lock.md), or write it with "
		               "?swmr=1 (readers get in after its first flush)",
		               path, how);
	if (err)
		return sr_fail(st->err, SIMREC_EIO,
		               "cannot open HDF5 file '%s'%s: %s", path, how,
		               sr_os_cause(err));
	return sr_fail(st->err, SIMREC_EIO,
	               "cannot open HDF5 file '%s'%s (HDF5 gives no cause)",
	               path, how);
}

/* Open or create h->file as the mode says; a status for what refuses. */
static int h5_open_file(sr_store *st, h5_store *h, hid_t fapl, const int *look)
{
	const char *path = st->uri.path;
	int there = look[0];
	static const char *const why[] = {"", "a symbolic link",
	                                  "not a regular file",
	                                  "a file of another kind"};
	if (st->mode == SIMREC_MODE_CREATE && look[1])
		return sr_fail(
		        st->err, SIMREC_EFORMAT,
		        "refusing to replace '%s' (mode=w): it is %s, not "
		        "an HDF5 file; it is left as it is (see "
		        "docs/safety.md)",
		        path, why[look[1]]);
	if (look[1] == 2)
		return sr_fail(
		        st->err, SIMREC_EFORMAT,
		        "'%s' is not a regular file (a FIFO, a device or "
		        "a directory): not opened as an HDF5 file",
		        path);
	if (there && st->mode != SIMREC_MODE_CREATE && H5Fis_hdf5(path) <= 0)
		return sr_fail(st->err, SIMREC_EFORMAT,
		               "'%s' h5_exists and is not an HDF5 file", path);
	if (st->mode == SIMREC_MODE_READONLY) {
		if (!there)
			return sr_fail(st->err, SIMREC_ENOKEY,
			               "HDF5 file '%s' does not exist", path);
		h->file = h5_swmr_open_ro(st, fapl);
	} else if (there && st->mode == SIMREC_MODE_APPEND) {
		h->file = H5Fopen(path, H5F_ACC_RDWR, fapl);
	} else {
		/* a new file: EXCL, so nothing made meanwhile is truncated */
		hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
		/* freed space (a replaced value, a cut dataset) is never
		 * reused: the metadata of the last flush may still point at
		 * it, and a crash before the next flush would leave it
		 * pointing at later data (docs/format.md) */
		H5Pset_file_space_strategy(fcpl, H5F_FSPACE_STRATEGY_NONE, 0,
		                           1);
		h->file = H5Fcreate(path, there ? H5F_ACC_TRUNC : H5F_ACC_EXCL,
		                    fcpl, fapl);
		/* the cause first: every HDF5 call clears the error stack */
		int rc = h->file < 0 ? h5_open_fail(st) : 0;
		H5Pclose(fcpl);
		if (rc)
			return rc;
		/* a valid (empty) file on disk at once: a crash before the
		 * first flush leaves a store that opens */
		if (h->file >= 0)
			H5Fflush(h->file, H5F_SCOPE_GLOBAL);
	}
	return h->file < 0 ? h5_open_fail(st) : 0;
}

int h5_open(sr_store *st)
{
	h5_register_filters(st->codec.nthreads);
	h5_store *h = calloc(1, sizeof *h);
	if (!h)
		return SIMREC_ENOMEM;
	int csize = 1;
	if (st->comm != MPI_COMM_NULL)
		MPI_Comm_size(st->comm, &csize);
	h->parallel = csize > 1;
	int rc = h5_swmr_refuse_parallel(st, h);
	if (rc) {
		free(h);
		return rc;
	}
	hid_t fapl = h5_props(st, h);
	/* create mode truncates an HDF5 file and nothing else: never a link
	 * or a file of another kind (docs/safety.md) */
	int look[2]; /* h5_exists, why not replaceable (0: it is) */
	h5_look(st, h->parallel, st->uri.path, look);
	st->impl = h; /* for the open's own helpers */
	rc = h5_open_file(st, h, fapl, look);
	H5Pclose(fapl);
	if (rc) {
		H5Pclose(h->dxpl);
		free(h);
		st->impl = NULL;
		return rc;
	}
	h5_reserve(st, h);
	h->reopen = st->shared && st->mode == SIMREC_MODE_READONLY;
	if (h->reopen) {
		H5Fclose(h->file);
		h->file = H5I_INVALID_HID;
	}
	return 0;
}

/* After a failure, the file closed: every dataset written since the last
 * commit goes back to the extent it had then (serial HDF5; in parallel
 * writer 0 alone). Best effort: the failure is reported anyway. */
static void h5_cut_back(sr_store *st)
{
	h5_store *h = st->impl;
	if (!h->nmarks)
		return;
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (st->shared)
		H5Pset_file_locking(fapl, 0, 1);
	hid_t f = H5I_INVALID_HID;
	H5E_BEGIN_TRY
	{
		f = H5Fopen(st->uri.path, H5F_ACC_RDWR, fapl);
	}
	H5E_END_TRY;
	H5Pclose(fapl);
	if (f < 0)
		return;
	for (size_t i = 0; i < h->nmarks; i++) {
		char p[4096];
		hid_t d = H5I_INVALID_HID;
		H5E_BEGIN_TRY
		{
			d = H5Dopen2(f,
			             h5_path_of(h->marks[i].key, p, sizeof p),
			             H5P_DEFAULT);
		}
		H5E_END_TRY;
		if (d < 0)
			continue;
		hsize_t dims[SIMREC_MAX_NDIM];
		hid_t sp = H5Dget_space(d);
		int nd = H5Sget_simple_extent_ndims(sp);
		if (nd > 0 && nd <= SIMREC_MAX_NDIM &&
		    H5Sget_simple_extent_dims(sp, dims, NULL) == nd &&
		    dims[0] > h->marks[i].rows) {
			dims[0] = h->marks[i].rows;
			H5Dset_extent(d, dims);
		}
		H5Sclose(sp);
		H5Dclose(d);
	}
	H5Fclose(f);
}

/* Flush, then fsync the file: an acknowledged step survives a host
 * crash (in parallel every writer syncs; the pages are shared). */
int h5_commit(sr_store *st)
{
	h5_store *h = st->impl;
	if (st->mode == SIMREC_MODE_READONLY)
		return 0;
	int rc = h5_sticky(st);
	if (rc)
		return rc;
	double t0 = sr_clock();
	/* SWMR: the steps written since the last commit become visible to
	 * readers here, whole (swmr.c) */
	h5_swmr_uncork(st, H5I_INVALID_HID);
	if (H5Fflush(h->file, H5F_SCOPE_GLOBAL) < 0)
		return h5_poison(st, h5_fail(st, "H5Fflush of"));
	int fd = open(st->uri.path, O_RDONLY);
	int bad = fd < 0 || fsync(fd) != 0;
	int err = bad ? errno : 0;
	if (fd >= 0)
		close(fd);
	st->t_sync += sr_clock() - t0;
	if (bad)
		return h5_poison(st, sr_fail(st->err, SIMREC_EIO,
		                             "fsync of '%s': %s", st->uri.path,
		                             sr_os_cause(err)));
	h5_marks_clear(h); /* all durable: nothing to cut back */
	return h5_poison(st, h5_swmr_start(st));
}

int h5_flush_pending_vlen(sr_store *st, int rc);
int h5_room_free(sr_store *st);

int h5_close(sr_store *st)
{
	h5_store *h = st->impl;
	h->closing = 1;
	int rc = h5_commit(st);
	herr_t ce = h->file >= 0 ? H5Fclose(h->file) : 0;
	if (ce < 0 && !rc)
		rc = sr_fail(st->err, SIMREC_EIO, "H5Fclose of '%s' failed",
		             st->uri.path);
	if (h->parallel)
		rc = h5_flush_pending_vlen(st, rc);
	/* every writer decides alike (a mismatch would leave one waiting in
	 * the barrier) */
	int v[2] = {h->failed != 0, ce < 0}, rank = 0;
	if (h->parallel) {
		MPI_Allreduce(MPI_IN_PLACE, v, 2, MPI_INT, MPI_MAX, st->comm);
		MPI_Comm_rank(st->comm, &rank);
	}
	/* a file HDF5 could not close stays open inside the library: a
	 * second handle on it would write to the full disk again and may
	 * corrupt what was flushed, so it is left as the last flush made it
	 * (simrec verify names any step past the data) */
	if (v[0] && !v[1] && !rank)
		h5_cut_back(st);
	if (h->ahead && !v[1])
		h5_room_free(st); /* best effort: the file is whole anyway */
	if (h->parallel && v[0])  /* nobody reads before the cut */
		MPI_Barrier(st->comm);
	h5_marks_clear(h);
	free(h->marks);
	h5_reserve_drop(h);
	if (h->room_fd >= 0)
		close(h->room_fd);
	H5Pclose(h->dxpl);
	h5_dims_free(h);
	free(h->corked);
	free(h);
	return rc;
}
