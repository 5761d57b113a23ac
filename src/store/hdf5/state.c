/* hdf5's state shared by every operation: the file reopened per
 * operation for a reader under a lock, failures named by their cause, a
 * broken store's sticky failure, the extents marked since the last
 * commit. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/oserr.h"
#include "h5store.h"

void h5_reserve_drop(h5_store *h)
{
	if (h->reserve_fd >= 0)
		close(h->reserve_fd);
	h->reserve_fd = -1;
}

/* Reopen mode: open the file for one operation, and close it after. */
int h5_file_begin(sr_store *st)
{
	h5_store *h = st->impl;
	if (!h->reopen || h->depth++ > 0)
		return 0;
	/* the writer holds no flock (lock= disables it), so a plain open
	 * works; without file locking as a fallback (measured here: HDF5
	 * 1.10.8 refuses that fapl on some reopens) */
	h->file = H5Fopen(st->uri.path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (h->file < 0) {
		hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
		H5Pset_file_locking(fapl, 0, 1);
		h->file = H5Fopen(st->uri.path, H5F_ACC_RDONLY, fapl);
		H5Pclose(fapl);
	}
	if (h->file >= 0)
		return 0;
	h->depth = 0;
	return sr_fail(st->err, SIMREC_EIO, "cannot reopen HDF5 file '%s'",
	               st->uri.path);
}

void h5_file_end(sr_store *st)
{
	h5_store *h = st->impl;
	if (h->reopen && h->depth > 0 && --h->depth == 0 && h->file >= 0) {
		H5Fclose(h->file);
		h->file = H5I_INVALID_HID;
	}
}

static herr_t errno_cb(unsigned n, const H5E_error2_t *e, void *arg)
{
	SR_UNUSED(n);
	int *err = arg;
	if (!*err)
		*err = sr_os_errno_in(e->desc);
	return 0;
}

/* The errno in HDF5's error stack (or a full file system), or 0. */
int h5_errno(sr_store *st)
{
	int err = 0;
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, errno_cb, &err);
	return sr_os_refine(err, st->uri.path);
}

/* A failure named by its cause (err, else the errno in HDF5's error
 * stack), else by what failed. */
int h5_fail_err(sr_store *st, const char *what, int err)
{
	if (!err)
		err = h5_errno(st);
	if (err)
		return sr_fail(st->err, SIMREC_EIO, "%s '%s': %s", what,
		               st->uri.path, sr_os_cause(err));
	return sr_fail(st->err, SIMREC_EIO, "%s '%s' failed", what,
	               st->uri.path);
}

int h5_link_refused(sr_store *st, const char *key)
{
	return sr_fail(st->err, SIMREC_EFORMAT,
	               "'%s' in '%s' is reached through an external or "
	               "user-defined link: links out of the file are never "
	               "followed",
	               key, st->uri.path);
}

int h5_damaged(sr_store *st, const char *key, const char *what, int err)
{
	return sr_fail(st->err, SIMREC_EFORMAT,
	               "cannot list the %s of '%s' in '%s': HDF5 stopped "
	               "(%s; a damaged heap or index)",
	               what, key, st->uri.path,
	               err ? sr_os_cause(err) : "no cause given");
}

int h5_fail(sr_store *st, const char *what)
{
	return h5_fail_err(st, what, 0);
}

/* Before the first write to key since the last commit: remember the
 * extent it had then (rows). */
int h5_mark_key(sr_store *st, const char *key, size_t rows)
{
	h5_store *h = st->impl;
	for (size_t i = 0; i < h->nmarks; i++)
		if (!strcmp(h->marks[i].key, key))
			return 0;
	if (SR_GROW_N(h->marks, h->capmarks, h->nmarks + 1))
		return sr_fail(st->err, SIMREC_ENOMEM,
		               "out of memory writing '%s'", key);
	char *k = strdup(key);
	if (!k)
		return sr_fail(st->err, SIMREC_ENOMEM,
		               "out of memory writing '%s'", key);
	h->marks[h->nmarks++] = (h5_mark){.key = k, .rows = rows};
	return 0;
}

void h5_marks_clear(h5_store *h)
{
	for (size_t i = 0; i < h->nmarks; i++)
		free(h->marks[i].key);
	h->nmarks = 0;
}

/* A write or a flush failed (status rc, detail in st->err): the store is
 * broken from now on; returns rc. */
int h5_poison(sr_store *st, int rc)
{
	h5_store *h = st->impl;
	if (rc && !h->failed) {
		h->failed = rc;
		h5_reserve_drop(h); /* room for the metadata the close writes */
		snprintf(h->why, sizeof h->why, "%s",
		         sr_err_target(st->err)->msg);
	}
	return rc;
}

/* The earlier failure, again, for every later write, commit or close. */
int h5_sticky(sr_store *st)
{
	h5_store *h = st->impl;
	if (!h->failed)
		return 0;
	return sr_fail(st->err, h->failed,
	               "'%s': nothing more is written after a failed write "
	               "(%s)",
	               st->uri.path, h->why);
}
