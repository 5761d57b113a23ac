/* hdf5's datasets: lookup, create (a value under a hidden name, published
 * whole), extents, hyperslab writes. */
#define _GNU_SOURCE /* O_TMPFILE */
#include <blosc.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../codec/h5lzf.h"
#include "../../common/clock.h"
#include "h5store.h"

/* ---- datasets ---------------------------------------------------------- */

/* A value never published (its write failed or never came): its hidden
 * link goes, the value set before stays. Best effort. */
static void h5_drop_new(sr_store *st, h5_ds *d)
{
	h5_store *h = st->impl;
	char p[4096];
	if (!d->final || h->file < 0)
		return;
	H5E_BEGIN_TRY
	{
		H5Ldelete(h->file, h5_path_of(d->key, p, sizeof p),
		          H5P_DEFAULT);
	}
	H5E_END_TRY;
	free(d->final);
	d->final = NULL;
}

void h5_release(sr_store *st, void *ds)
{
	h5_ds *d = ds;
	if (!d)
		return;
	if (d->dset >= 0) {
		h5_swmr_uncork(st, d->dset);
		H5Dclose(d->dset);
	}
	h5_drop_new(st, d);
	H5Tclose(d->mtype);
	free(d->key);
	free(d->final);
	free(d);
}

/* Whether the dataset did has no filter (its chunks are the raw bytes). */
static int unfiltered(hid_t did)
{
	hid_t dcpl = H5Dget_create_plist(did);
	int n = dcpl < 0 ? -1 : H5Pget_nfilters(dcpl);
	if (dcpl >= 0)
		H5Pclose(dcpl);
	return n == 0;
}

/* Writers bypass the chunk cache: whole chunks go straight to disk. A
 * reader of chunks with no filter does too: HDF5 then reads a selection
 * straight from the file into the caller's buffer, where through the
 * cache a slice of 1,600 bytes read its whole 1 MB chunk and copied it. */
static hid_t open_dset(sr_store *st, const char *path)
{
	hid_t file = ((h5_store *)st->impl)->file;
	hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
	int ro = st->mode == SIMREC_MODE_READONLY;
	if (!ro)
		H5Pset_chunk_cache(dapl, 0, 0, 1.0);
	hid_t d = H5Dopen2(file, path, dapl);
	if (ro && d >= 0 && unfiltered(d)) {
		H5Dclose(d);
		H5Pset_chunk_cache(dapl, 0, 0, 1.0);
		d = H5Dopen2(file, path, dapl);
	}
	H5Pclose(dapl);
	if (d >= 0)
		h5_swmr_refresh(st, d);
	return d;
}

/* Data kept outside the file is never read: external raw storage (its
 * bytes are another file's, /etc/passwd as well as anything) and virtual
 * datasets (their sources are other files, and a missing one reads as the
 * fill value, which would pass for data). */
static int h5_storage_check(sr_store *st, const char *key, hid_t dcpl)
{
	if (H5Pget_external_count(dcpl) > 0)
		return sr_fail(st->err, SIMREC_EFORMAT,
		               "'%s' in '%s' keeps its data in other files "
		               "(HDF5 external storage): not read",
		               key, st->uri.path);
	if (H5Pget_layout(dcpl) == H5D_VIRTUAL)
		return sr_fail(st->err, SIMREC_EFORMAT,
		               "'%s' in '%s' is a virtual dataset (its data "
		               "are other datasets, in other files): not read",
		               key, st->uri.path);
	return 0;
}

static int lookup(sr_store *st, const char *key, sr_meta *m, void **ds)
{
	h5_store *h = st->impl;
	int ex = h5_exists(h->file, key);
	if (ex < 0)
		return h5_link_refused(st, key);
	if (!ex)
		return SIMREC_ENOKEY;
	int grp = h5_is_group(h->file, key);
	if (grp > 0)
		return SIMREC_EKIND;
	if (grp < 0)
		return sr_fail(st->err, SIMREC_EFORMAT,
		               "'%s' in '%s' is a link that cannot be followed "
		               "(dangling soft link or missing external file)",
		               key, st->uri.path);
	char p[4096];
	hid_t did = open_dset(st, h5_path_of(key, p, sizeof p));
	if (did < 0)
		return sr_fail(st->err, SIMREC_EFORMAT,
		               "'%s' in '%s' is not a readable dataset", key,
		               st->uri.path);
	memset(m, 0, sizeof *m);
	hid_t t = H5Dget_type(did), sp = H5Dget_space(did),
	      dcpl = H5Dget_create_plist(did);
	const char *why;
	int rc = h5_dtype_of(t, &m->dtype, &why);
	if (rc)
		sr_fail(st->err, rc,
		        "'%s' in '%s': HDF5 %s are not supported (refused "
		        "rather than read as something else)",
		        key, st->uri.path, why);
	int nd = H5Sget_simple_extent_ndims(sp);
	hsize_t dims[SIMREC_MAX_NDIM], maxd[SIMREC_MAX_NDIM],
	        ch[SIMREC_MAX_NDIM];
	if (!rc)
		rc = h5_storage_check(st, key, dcpl);
	if (!rc && H5Sget_simple_extent_type(sp) == H5S_NULL)
		rc = sr_fail(st->err, SIMREC_ENOTSUP,
		             "'%s' in '%s' has a null dataspace (h5py.Empty): "
		             "no data to read",
		             key, st->uri.path);
	if (!rc && (nd < 0 || nd > SIMREC_MAX_NDIM))
		rc = sr_fail(st->err, SIMREC_ENOTSUP,
		             "'%s': rank %d not supported", key, nd);
	if (!rc) {
		m->ndim = nd;
		H5Sget_simple_extent_dims(sp, dims, maxd);
		int chunked = H5Pget_layout(dcpl) == H5D_CHUNKED;
		if (chunked)
			H5Pget_chunk(dcpl, nd, ch);
		for (int i = 0; i < nd; i++) {
			m->shape[i] = dims[i];
			m->chunks[i] =
			        chunked ? ch[i] : (dims[i] ? dims[i] : 1);
		}
		/* recorded datasets grow: an unlimited first dimension;
		 * anything else is a value (2: fixed size, 3: contiguous) */
		m->kind = nd == 0                    ? SR_VALUE
		          : !chunked                 ? SR_CONTIGUOUS_ARRAY
		          : maxd[0] != H5S_UNLIMITED ? SR_FIXED_ARRAY
		                                     : SR_RECORDS;
		if (sr_dtype_is_vlen(m->dtype) && nd != 1 &&
		    m->kind == SR_RECORDS)
			rc = sr_fail(st->err, SIMREC_ENOTSUP,
			             "'%s': only 1-d string datasets", key);
	}
	H5T_cset_t cset = m->dtype == SIMREC_STRING ? H5Tget_cset(t) : 0;
	H5Tclose(t);
	H5Sclose(sp);
	H5Pclose(dcpl);
	h5_ds *d = rc ? NULL : calloc(1, sizeof *d);
	if (!rc && !d)
		rc = SIMREC_ENOMEM;
	if (rc) {
		H5Dclose(did);
		return rc;
	}
	d->dset = did;
	d->mtype = h5_mem_type(m->dtype);
	/* ASCII strings (h5py.string_dtype('ascii')) read as they are:
	 * HDF5 does not convert between character sets */
	if (m->dtype == SIMREC_STRING && cset == H5T_CSET_ASCII)
		H5Tset_cset(d->mtype, H5T_CSET_ASCII);
	d->key = strdup(key);
	*ds = d;
	return 0;
}

int h5_lookup(sr_store *st, const char *key, sr_meta *m, void **ds)
{
	int rc = h5_file_begin(st);
	if (rc)
		return rc;
	rc = h5_dims_lookup(st, key);
	if (!rc)
		rc = lookup(st, key, m, ds);
	if (!rc && ((h5_store *)st->impl)->reopen) {
		h5_ds *d = *ds;
		H5Dclose(d->dset);
		d->dset = H5I_INVALID_HID;
	}
	h5_file_end(st);
	return rc;
}

/* Reopen mode: the dataset of d for one read. */
int h5_ds_begin(sr_store *st, h5_ds *d)
{
	if (!((h5_store *)st->impl)->reopen)
		return 0;
	int rc = h5_file_begin(st);
	if (rc)
		return rc;
	char p[4096];
	d->dset = open_dset(st, h5_path_of(d->key, p, sizeof p));
	if (d->dset < 0) {
		h5_file_end(st);
		return sr_fail(st->err, SIMREC_EIO,
		               "cannot reopen '%s' in '%s'", d->key,
		               st->uri.path);
	}
	return 0;
}

void h5_ds_end(sr_store *st, h5_ds *d)
{
	if (!((h5_store *)st->impl)->reopen)
		return;
	H5Dclose(d->dset);
	d->dset = H5I_INVALID_HID;
	h5_file_end(st);
}

int h5_set_filters(sr_store *st, hid_t dcpl, const sr_meta *m)
{
	const sr_codec *c = &st->codec;
	simrec_dtype_t dt = m->dtype;
	size_t isz = simrec_dtype_size(dt) ? simrec_dtype_size(dt) : 1;
	size_t chunk_bytes = isz;
	for (int i = 0; i < m->ndim; i++)
		chunk_bytes *= m->chunks[i];
	if (!strcmp(c->cname, "none"))
		return 0;
	if (!strcmp(c->cname, "lzf"))
		return sr_h5lzf_set(dcpl, chunk_bytes) < 0 ? SIMREC_ECODEC : 0;
	if (!strcmp(c->cname, "deflate")) {
		H5Pset_shuffle(dcpl);
		return H5Pset_deflate(dcpl, (unsigned)c->level) < 0
		               ? SIMREC_ECODEC
		               : 0;
	}
	const char *name = c->cname;
	/* as hdf5plugin's set_local: filter version, blosc format, type
	 * size, chunk bytes, level, shuffle, compressor */
	unsigned cd[7] = {2,
	                  BLOSC_VERSION_FORMAT,
	                  (unsigned)isz,
	                  chunk_bytes > 0xffffffffu ? 0 : (unsigned)chunk_bytes,
	                  (unsigned)c->level,
	                  (unsigned)c->shuffle,
	                  (unsigned)blosc_compname_to_compcode(name)};
	return H5Pset_filter(dcpl, BLOSC_FILTER, H5Z_FLAG_OPTIONAL, 7, cd) < 0
	               ? SIMREC_ECODEC
	               : 0;
}

/* Whether key may be (re)created: not a group, no dataset as a parent;
 * a dataset there is deleted unless keep (a value: replaced only once
 * the new one is whole, h5_publish). */
static int h5_replaceable(sr_store *st, const char *key, int keep)
{
	h5_store *h = st->impl;
	char p[4096];
	int ex = h5_exists(h->file, key);
	if (ex < 0)
		return h5_link_refused(st, key);
	if (ex) {
		if (h5_is_group(h->file, key) > 0)
			return sr_fail(st->err, SIMREC_EKIND,
			               "'%s' is a group in '%s', not a dataset",
			               key, st->uri.path);
		if (!keep && H5Ldelete(h->file, h5_path_of(key, p, sizeof p),
		                       H5P_DEFAULT) < 0)
			return sr_fail(st->err, SIMREC_EIO,
			               "cannot replace '%s' in '%s'", key,
			               st->uri.path);
	}
	/* a parent that is a dataset cannot hold a child */
	char *par = sr_key_parent(key);
	int bad = par && *par && h5_exists(h->file, par) > 0 &&
	          !h5_is_group(h->file, par);
	free(par);
	if (bad)
		return sr_fail(st->err, SIMREC_EKIND,
		               "a parent of '%s' is a dataset", key);
	return 0;
}

/* The hidden key a new value of key is written under (H5_NEW). */
static void new_key(const char *key, char *buf, size_t cap)
{
	const char *slash = strrchr(key, '/');
	int n = slash ? (int)(slash - key + 1) : 0;
	snprintf(buf, cap, "%.*s%s%s", n, key, H5_NEW, key + n);
}

/* A new dataset at key as m says (groups above it made as needed). */
static int make_dset(sr_store *st, const char *key, const sr_meta *m)
{
	h5_store *h = st->impl;
	char p[4096];
	h5_path_of(key, p, sizeof p);
	hsize_t dims[SIMREC_MAX_NDIM], maxd[SIMREC_MAX_NDIM],
	        ch[SIMREC_MAX_NDIM];
	for (int i = 0; i < m->ndim; i++) {
		dims[i] = maxd[i] = m->shape[i];
		ch[i] = m->chunks[i];
	}
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	hid_t sp;
	int rc = 0;
	if (m->ndim == 0) {
		sp = H5Screate(H5S_SCALAR);
	} else {
		if (m->kind == SR_RECORDS)
			maxd[0] = H5S_UNLIMITED;
		sp = H5Screate_simple(m->ndim, dims, maxd);
		H5Pset_chunk(dcpl, m->ndim, ch);
		/* no fill values written before the data (parallel HDF5
		 * would write every chunk twice); VL types need them */
		if (!sr_dtype_is_vlen(m->dtype))
			H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
		rc = h5_set_filters(st, dcpl, m);
	}
	hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
	H5Pset_create_intermediate_group(lcpl, 1);
	hid_t ft = h5_new_file_type(m->dtype);
	hid_t did =
	        rc ? -1
	           : H5Dcreate2(h->file, p, ft, sp, lcpl, dcpl, H5P_DEFAULT);
	unsigned fl, fcd[8], fcfg;
	size_t nfcd = 8;
	/* another blosc filter is registered and cannot create this
	 * dataset: ours writes the same format */
	if (did < 0 && !rc && m->ndim &&
	    H5Pget_filter_by_id2(dcpl, BLOSC_FILTER, &fl, &nfcd, fcd, 0, NULL,
	                         &fcfg) >= 0 &&
	    h5_use_own_blosc()) {
		did = H5Dcreate2(h->file, p, ft, sp, lcpl, dcpl, H5P_DEFAULT);
	}
	H5Tclose(ft);
	H5Pclose(lcpl);
	H5Pclose(dcpl);
	H5Sclose(sp);
	if (did < 0)
		return sr_fail(st->err, rc ? rc : SIMREC_EIO,
		               "cannot create dataset '%s' in '%s'", key,
		               st->uri.path);
	H5Dclose(did);
	return 0;
}

int h5_create(sr_store *st, const char *key, const sr_meta *m, void **ds)
{
	int rc = h5_sticky(st); /* a broken store makes nothing new */
	if (!rc)
		rc = h5_swmr_refuse_new(st, key, "a new dataset");
	if (!rc)
		rc = h5_dims_before_create(st, key);
	if (!rc)
		rc = h5_replaceable(st, key, m->kind != SR_RECORDS);
	if (rc)
		return rc;
	char tmp[4000], p[4096];
	new_key(key, tmp, sizeof tmp);
	hid_t file = ((h5_store *)st->impl)->file;
	if (m->kind != SR_RECORDS &&
	    h5_exists(file, tmp) > 0) /* left by a failed set */
		H5Ldelete(file, h5_path_of(tmp, p, sizeof p), H5P_DEFAULT);
	rc = make_dset(st, m->kind != SR_RECORDS ? tmp : key, m);
	if (rc)
		return rc;
	sr_meta ignored;
	rc = lookup(st, m->kind != SR_RECORDS ? tmp : key, &ignored, ds);
	if (!rc && m->kind != SR_RECORDS) {
		h5_ds *d = *ds;
		d->final = strdup(key);
		if (!d->final) {
			h5_release(st, d);
			*ds = NULL;
			return SIMREC_ENOMEM;
		}
	}
	return rc;
}

/* The current extent along dimension 0. */
size_t h5_dim0(h5_ds *d)
{
	hsize_t dims[SIMREC_MAX_NDIM] = {0};
	hid_t sp = H5Dget_space(d->dset);
	if (H5Sget_simple_extent_ndims(sp) > 0)
		H5Sget_simple_extent_dims(sp, dims, NULL);
	H5Sclose(sp);
	return (size_t)dims[0];
}

/* A failed write leaves no phantom step: shrink back to old rows. */
void h5_rollback(h5_ds *d, const sr_meta *m, size_t old)
{
	if (m->ndim == 0 || h5_dim0(d) == old)
		return;
	hsize_t dims[SIMREC_MAX_NDIM];
	hid_t sp = H5Dget_space(d->dset);
	H5Sget_simple_extent_dims(sp, dims, NULL);
	H5Sclose(sp);
	dims[0] = old;
	H5Dset_extent(d->dset, dims);
}

int h5_extend(sr_store *st, h5_ds *d, const sr_meta *m)
{
	if (m->ndim == 0)
		return 0;
	hsize_t dims[SIMREC_MAX_NDIM];
	hid_t sp = H5Dget_space(d->dset);
	H5Sget_simple_extent_dims(sp, dims, NULL);
	H5Sclose(sp);
	if (dims[0] == m->shape[0])
		return 0;
	dims[0] = m->shape[0];
	return H5Dset_extent(d->dset, dims) < 0
	               ? h5_fail(st, "cannot h5_extend a dataset of")
	               : 0;
}

/* File and memory dataspaces for a hyperslab. */
void h5_select_slab(h5_ds *d, int nd, const size_t *start, const size_t *count,
                    hid_t *fs, hid_t *ms)
{
	*fs = H5Dget_space(d->dset);
	if (nd == 0) {
		*ms = H5Screate(H5S_SCALAR);
		return;
	}
	hsize_t s[SIMREC_MAX_NDIM], c[SIMREC_MAX_NDIM];
	for (int i = 0; i < nd; i++) {
		s[i] = start[i];
		c[i] = count[i];
	}
	H5Sselect_hyperslab(*fs, H5S_SELECT_SET, s, NULL, c, NULL);
	*ms = H5Screate_simple(nd, c, NULL);
}

/* Every writer, before an H5Dwrite of bytes (this writer's share):
 * writer 0 (the only one when serial) allocates room on disk past the
 * end of the file (the data of every writer, compressed or not, and the
 * metadata the next flush writes) without changing the file's size.
 * HDF5 1.10 survives no failed write: parallel writers then take
 * different paths through every later flush and close and wait for each
 * other forever, and a serial file can lose a chunk that an earlier run
 * flushed (measured: appending to a file whose last run failed on a full
 * disk, the failed chunk write and the h5_rollback left the index without
 * the chunk of the last flushed step). So a full disk is found here,
 * before HDF5 writes anything. A file system that cannot allocate ahead
 * (EOPNOTSUPP) is written unchecked. Collective over parallel writers;
 * the same status on each. */
int h5_room(sr_store *st, h5_store *h, size_t bytes)
{
	unsigned long long need = bytes;
	int rank = 0, err = 0;
	if (h->parallel) {
		MPI_Allreduce(MPI_IN_PLACE, &need, 1, MPI_UNSIGNED_LONG_LONG,
		              MPI_SUM, st->comm);
		MPI_Comm_rank(st->comm, &rank);
	}
	struct stat sb;
	if (!rank && h->room_fd < 0)
		h->room_fd = open(st->uri.path, O_WRONLY | O_CLOEXEC);
	int fd = rank ? -1 : h->room_fd;
	if (fd >= 0 && fstat(fd, &sb) == 0) {
		/* from the end of the data on disk: the chunks HDF5 has
		 * allocated for this step (if it allocates early) and any it
		 * allocates while writing lie past it, blosc frames add a few
		 * bytes to data they cannot shrink, the metadata comes after
		 * (parallel HDF5 1.10 gives no end of allocation: H5Fget_eoa
		 * needs a SWMR driver) */
		off_t len = (off_t)(need + need / 64 + H5_AHEAD_BYTES);
		if (fallocate(fd, FALLOC_FL_KEEP_SIZE, sb.st_size, len) != 0)
			err = errno == EOPNOTSUPP ? 0 : errno;
		h->ahead = 1;
	} else if (!rank) {
		err = errno;
	}
	if (h->parallel)
		MPI_Bcast(&err, 1, MPI_INT, 0, st->comm);
	if (!err)
		return 0;
	return h5_fail_err(st, "no room for the next step in", err);
}

/* The bytes of the chunks of d that a write of (start, count) touches
 * (parallel HDF5 writes every such chunk whole, compressed ones to a new
 * place). */
static size_t chunk_bytes(h5_ds *d, const sr_meta *m, const size_t *start,
                          const size_t *count)
{
	hsize_t c[SIMREC_MAX_NDIM];
	size_t bytes = simrec_dtype_size(m->dtype);
	hid_t dcpl = H5Dget_create_plist(d->dset);
	int nd = H5Pget_chunk(dcpl, SIMREC_MAX_NDIM, c);
	H5Pclose(dcpl);
	for (int i = 0; i < m->ndim; i++) {
		size_t ci = nd == m->ndim && c[i] ? (size_t)c[i] : 1;
		size_t n = count[i] ? (start[i] + count[i] - 1) / ci -
		                              start[i] / ci + 1
		                    : 0;
		bytes *= n * ci;
	}
	return bytes;
}

/* Writer 0, the file closed: the room allocated ahead past its end
 * (h5_room) is given back (ext4 frees it at a truncate to the same size,
 * tmpfs at either). */
int h5_room_free(sr_store *st)
{
	h5_store *h = st->impl;
	struct stat sb;
	int fd = h->room_fd;
	if (fd < 0)
		return -1;
	int rc = fstat(fd, &sb);
	if (!rc) {
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		          sb.st_size, (off_t)1 << 40);
		rc = ftruncate(fd, sb.st_size);
	}
	return rc;
}

/* An append's start: a broken store refuses it, the key's rows before it
 * are marked (h5_mark_key), the extent grows to m->shape[0] (*old: what
 * it was; a failure breaks the store). */
int h5_begin_append(sr_store *st, h5_ds *d, const sr_meta *m, size_t *old)
{
	*old = h5_dim0(d);
	int rc = h5_sticky(st);
	if (!rc)
		rc = h5_mark_key(st, d->key, *old);
	if (!rc)
		rc = h5_swmr_cork(st, d);
	if (rc)
		return rc;
	rc = h5_extend(st, d, m);
	return rc ? h5_poison(st, rc) : 0;
}

static int write_slab(sr_store *st, void *ds, const sr_meta *m,
                      const size_t *start, const size_t *count,
                      const void *data)
{
	h5_store *h = st->impl;
	h5_ds *d = ds;
	size_t old;
	int rc = h5_begin_append(st, d, m, &old);
	if (rc)
		return rc;
	int none = 0;
	for (int i = 0; i < m->ndim; i++)
		none |= !count[i];
	/* parallel writers write collectively: one that owns no part of a
	 * global array's step still takes part, with an empty selection */
	int all_none = none;
	if (h->parallel)
		MPI_Allreduce(MPI_IN_PLACE, &all_none, 1, MPI_INT, MPI_MIN,
		              st->comm);
	if (all_none)
		return 0; /* only the extent (a truncation, a mark) */
	rc = h5_room(st, h, none ? 0 : chunk_bytes(d, m, start, count));
	if (rc) {
		h5_rollback(d, m, old); /* collective, in the cache only */
		return h5_poison(st, rc);
	}
	hid_t fs, ms;
	h5_select_slab(d, m->ndim, start, count, &fs, &ms);
	if (none) {
		H5Sselect_none(fs);
		H5Sselect_none(ms);
	}
	double t0 = sr_clock();
	/* the filters (compression) run inside: counted as writing */
	herr_t e = H5Dwrite(d->dset, d->mtype, ms, fs, h->dxpl, data);
	st->t_write += sr_clock() - t0;
	H5Sclose(fs);
	H5Sclose(ms);
	/* whether it failed, and why, on any writer */
	int v[2] = {e < 0, e < 0 ? h5_errno(st) : 0};
	if (h->parallel) /* the h5_rollback below is collective */
		MPI_Allreduce(MPI_IN_PLACE, v, 2, MPI_INT, MPI_MAX, st->comm);
	if (!v[0])
		return 0;
	rc = h5_fail_err(
	        st, e < 0 ? "H5Dwrite to" : "H5Dwrite on another writer to",
	        v[1]);
	h5_rollback(d, m, old);
	return h5_poison(st, rc);
}

/* A value written whole (rc 0) replaces the one at its final key: the old
 * link goes and the hidden one takes its name, in the file's metadata
 * only, which the next commit makes durable at once. On a failure the
 * old value stays as it was (h5_drop_new). */
int h5_publish(sr_store *st, h5_ds *d, int rc)
{
	h5_store *h = st->impl;
	if (rc || !d->final) {
		h5_drop_new(st, d);
		return rc;
	}
	char from[4096], to[4096];
	h5_path_of(d->key, from, sizeof from);
	h5_path_of(d->final, to, sizeof to);
	if (h5_exists(h->file, d->final) > 0)
		h5_dims_detach(h->file, to); /* its scales forget it */
	if (h5_exists(h->file, d->final) > 0 &&
	    H5Ldelete(h->file, to, H5P_DEFAULT) < 0)
		rc = h5_fail(st, "replacing a value in");
	if (!rc &&
	    H5Lmove(h->file, from, h->file, to, H5P_DEFAULT, H5P_DEFAULT) < 0)
		rc = h5_fail(st, "linking a new value in");
	if (rc) {
		h5_drop_new(st, d);
		return h5_poison(st, rc);
	}
	free(d->key);
	d->key = d->final;
	d->final = NULL;
	return 0;
}

int h5_write(sr_store *st, void *ds, const sr_meta *m, const size_t *start,
             const size_t *count, const void *data)
{
	h5_ds *d = ds;
	int rc = write_slab(st, ds, m, start, count, data);
	return d->final ? h5_publish(st, d, rc) : rc;
}
