/* hdf5 in single-writer/multiple-reader mode (?swmr=1): one writer, h5py
 * readers opened with swmr=True following the file with refresh(). The
 * order that keeps a reader from seeing a step before its data, and what
 * a SWMR writer of HDF5 1.10 cannot do, are in docs/format.md ("SWMR").
 *
 * In short: a dataset's metadata (its extent, its chunk index) is corked
 * in the metadata cache (H5Odisable_mdc_flushes) from its first append
 * after a commit to the next commit, so no eviction can put a grown
 * extent in the file early; writers bypass the chunk cache, so the data
 * is in the file when H5Dwrite returns; the commit uncorks and flushes
 * (H5Fflush writes raw data before metadata, and SWMR's flush
 * dependencies write the chunk index before the object header). */
#include <stdlib.h>
#include <string.h>

#include "h5store.h"

int h5_swmr_refuse_parallel(sr_store *st, const h5_store *h)
{
	if (!st->set.swmr || !h->parallel)
		return 0;
	return sr_fail(st->err, SIMREC_ECONFIG,
	               "'%s': ?swmr=1 needs one writer rank (serial HDF5): "
	               "parallel HDF5 1.10 cannot write in SWMR mode; give "
	               "one writer (SIMREC_WRITERS=1), or let readers and "
	               "writers share the file under ?lock= (docs/lock.md)",
	               st->uri.path);
}

void h5_swmr_fapl(sr_store *st, hid_t fapl)
{
	/* SWMR needs the 1.10 file format (superblock 3, chunk indexes a
	 * reader can follow) */
	if (st->set.swmr && st->mode != SIMREC_MODE_READONLY)
		H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST,
		                     H5F_LIBVER_LATEST);
}

hid_t h5_swmr_open_ro(sr_store *st, hid_t fapl)
{
	hid_t f = H5I_INVALID_HID;
	if (!st->set.swmr)
		f = H5Fopen(st->uri.path, H5F_ACC_RDONLY, fapl);
	if (f >= 0)
		return f;
	/* a file a SWMR writer has open opens for SWMR reading only */
	H5E_BEGIN_TRY
	{
		f = H5Fopen(st->uri.path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ,
		            fapl);
	}
	H5E_END_TRY;
	if (f >= 0)
		((h5_store *)st->impl)->swmr_read = 1;
	else if (!st->set.swmr) /* the first open's cause, again */
		f = H5Fopen(st->uri.path, H5F_ACC_RDONLY, fapl);
	return f;
}

void h5_swmr_refresh(sr_store *st, hid_t dset)
{
	/* another process's handle on the file keeps its metadata cached:
	 * a SWMR reader reloads the dataset's to see its latest extent */
	if (((h5_store *)st->impl)->swmr_read)
		H5Drefresh(dset);
}

int h5_swmr_refuse_new(sr_store *st, const char *key, const char *what)
{
	if (!((h5_store *)st->impl)->swmr_on)
		return 0;
	return sr_fail(st->err, SIMREC_ENOTSUP,
	               "'%s' in '%s': %s after the first flush of a SWMR "
	               "file (?swmr=1): an HDF5 1.10 SWMR writer appends to "
	               "existing datasets only; record or define every key, "
	               "and set its attributes, before the first flush "
	               "(docs/format.md)",
	               *key ? key : "/", st->uri.path, what);
}

/* The memory type of a scalar attribute that a SWMR writer may write
 * again in place (a fixed-size number or bool), or -1. */
static hid_t scalar_type(const simrec_attr_t *a, const void **v, signed char *b)
{
	*b = (signed char)(a->i != 0);
	switch (a->type) {
	case SIMREC_ATTR_INT:
		*v = &a->i;
		return H5Tcopy(H5T_NATIVE_INT64);
	case SIMREC_ATTR_UINT:
		*v = &a->u;
		return H5Tcopy(H5T_NATIVE_UINT64);
	case SIMREC_ATTR_BOOL:
		*v = b;
		return h5_bool_type();
	case SIMREC_ATTR_DOUBLE:
		*v = &a->d;
		return H5Tcopy(H5T_NATIVE_DOUBLE);
	default:
		return H5I_INVALID_HID;
	}
}

/* Is the attribute at a scalar of type t (so H5Awrite changes its value
 * in place, no new object)? */
static int same_scalar(hid_t at, hid_t t)
{
	hid_t ft = H5Aget_type(at), sp = H5Aget_space(at);
	int same = ft >= 0 && sp >= 0 && H5Tequal(ft, t) > 0 &&
	           H5Sget_simple_extent_type(sp) == H5S_SCALAR;
	if (ft >= 0)
		H5Tclose(ft);
	if (sp >= 0)
		H5Sclose(sp);
	return same;
}

int h5_swmr_attr_rewrite(sr_store *st, const char *key, const char *name,
                         const simrec_attr_t *a)
{
	h5_store *h = st->impl;
	const void *v = NULL;
	signed char b;
	char p[4096];
	hid_t t = scalar_type(a, &v, &b);
	int rc = -1;
	if (t >= 0 && h5_exists(h->file, key) > 0) {
		hid_t o = H5Oopen(h->file,
		                  *key ? h5_path_of(key, p, sizeof p) : "/",
		                  H5P_DEFAULT);
		hid_t at = o >= 0 && H5Aexists(o, name) > 0
		                   ? H5Aopen(o, name, H5P_DEFAULT)
		                   : H5I_INVALID_HID;
		if (at >= 0 && same_scalar(at, t))
			rc = H5Awrite(at, t, v) < 0
			             ? h5_fail(st, "H5Awrite (SWMR) in")
			             : 0;
		if (at >= 0)
			H5Aclose(at);
		if (o >= 0)
			H5Oclose(o);
	}
	if (t >= 0)
		H5Tclose(t);
	return rc >= 0 ? rc : h5_swmr_refuse_new(st, key, "an attribute");
}

/* The finished mark, false, on the root while attributes can still be
 * added (as attrs.c writes a bool: h5py's enum, scalar): the close sets
 * it true in place (h5_swmr_attr_rewrite). */
static int make_finished_mark(sr_store *st)
{
	h5_store *h = st->impl;
	if (H5Aexists_by_name(h->file, "/", SR_FINISHED_ATTR, H5P_DEFAULT) > 0)
		return 0;
	signed char no = 0;
	hid_t t = h5_bool_type(), sp = H5Screate(H5S_SCALAR);
	hid_t at = H5Acreate_by_name(h->file, "/", SR_FINISHED_ATTR, t, sp,
	                             H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	int rc = at < 0 || H5Awrite(at, t, &no) < 0
	                 ? sr_fail(st->err, SIMREC_EIO,
	                           "'%s': cannot make room for the finished "
	                           "mark before SWMR writing starts",
	                           st->uri.path)
	                 : 0;
	if (at >= 0)
		H5Aclose(at);
	H5Sclose(sp);
	H5Tclose(t);
	return rc;
}

int h5_swmr_cork(sr_store *st, h5_ds *d)
{
	h5_store *h = st->impl;
	if (!st->set.swmr || st->mode == SIMREC_MODE_READONLY)
		return 0;
	h->swmr_data = 1;
	for (size_t i = 0; i < h->ncorked; i++)
		if (h->corked[i] == d->dset)
			return 0;
	if (SR_GROW_N(h->corked, h->capcorked, h->ncorked + 1))
		return sr_fail(st->err, SIMREC_ENOMEM,
		               "out of memory writing '%s'", d->key);
	if (H5Odisable_mdc_flushes(d->dset) < 0)
		return h5_fail(st, "H5Odisable_mdc_flushes in");
	h->corked[h->ncorked++] = d->dset;
	return 0;
}

void h5_swmr_uncork(sr_store *st, hid_t dset)
{
	h5_store *h = st->impl;
	for (size_t i = 0; i < h->ncorked; i++)
		if (dset < 0 || h->corked[i] == dset) {
			H5Oenable_mdc_flushes(h->corked[i]);
			h->corked[i--] = h->corked[--h->ncorked];
		}
}

int h5_swmr_start(sr_store *st)
{
	h5_store *h = st->impl;
	/* a commit of attributes alone (an appending writer clearing the
	 * finished mark at its open) starts nothing: keys and attributes
	 * stay open until the first records are committed */
	if (!st->set.swmr || h->swmr_on || !h->swmr_data || h->closing ||
	    st->mode == SIMREC_MODE_READONLY)
		return 0;
	int rc = make_finished_mark(st);
	if (rc)
		return rc;
	if (H5Fstart_swmr_write(h->file) < 0)
		return sr_fail(st->err, SIMREC_EFORMAT,
		               "'%s': cannot start SWMR writing (?swmr=1): a "
		               "file written without ?swmr=1 (HDF5's older "
		               "format) cannot be appended to in SWMR mode",
		               st->uri.path);
	h->swmr_on = 1;
	return 0;
}
