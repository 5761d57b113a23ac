/* hdf5:PATH - HDF5 files, serial or parallel (MPI-IO) when the store is
 * opened over a communicator of more than one rank. Key parts are groups;
 * recorded datasets are chunked with an unlimited first dimension.
 * Compression: none (default), "deflate" (shuffle + deflate, readable
 * everywhere) or a blosc codec name (HDF5 filter 32001 with the cd_values
 * of hdf5-blosc / hdf5plugin: readers need that plugin). */

#define _GNU_SOURCE /* O_TMPFILE */
#include <blosc.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <linux/falloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../codec/codec.h"
#include "../codec/h5lzf.h"
#include "../common/clock.h"
#include "../common/oserr.h"
#include "store.h"

#define BLOSC_FILTER 32001

typedef struct h5_store {
	hid_t file;
	int parallel;
	/* a reader under the redis lock opens the file for each lookup or
	 * read (HDF5 caches metadata per open file; the writer flushes before
	 * it releases the lock) */
	int reopen;
	int depth;  /* nested file_begin calls (a list whose callback reads) */
	hid_t dxpl; /* collective transfer in parallel, else default */
	/* parallel HDF5 cannot write variable-length data: every writer
	 * extends the dataset collectively, writer 0 keeps the items and
	 * writes them into the closed file on its own (h5_close) */
	struct vlen_pend *pend;
	size_t npend, cappend;
	/* a failed write or flush: HDF5's state is no longer trusted. Every
	 * later write, commit and close fails with this cause, and close cuts
	 * the datasets written since the last commit back to the extent they
	 * had then (marks), so no step without its data is published */
	int failed;
	char why[SR_ERRLEN];
	struct h5_mark *marks;
	size_t nmarks, capmarks;
	/* room kept on the file's file system for the metadata that closing
	 * the file must write after a full disk (h5_reserve); -1: none */
	int reserve_fd;
	int ahead;   /* writer 0 allocated room past the end (h5_room) */
	int room_fd; /* writer 0: the file, for h5_room (opened at its first
	              * call, closed with the store); -1: none */
} h5_store;

/* The room kept by a writer (writer 0 in parallel): the metadata HDF5
 * writes when it closes the file (the chunk index, object headers, the
 * superblock) after a write failed for lack of space. */
#define H5_RESERVE_BYTES (1 << 20)
/* What parallel writers allocate past the data of a step, for the
 * metadata of the next flush (h5_room). */
#define H5_AHEAD_BYTES (256 << 10)

typedef struct h5_mark {
	char *key;
	size_t rows; /* the extent at the last commit */
} h5_mark;

typedef struct vlen_pend {
	char *key;
	simrec_dtype_t dt;
	size_t row0, n;
	sr_blob *items;
} vlen_pend;

typedef struct h5_ds {
	hid_t dset;  /* -1 while closed (reopen mode) */
	hid_t mtype; /* memory type */
	char *key;
	/* a value being set: written under key (a hidden name, H5_NEW) and
	 * linked as final only once whole (h5_publish); NULL otherwise */
	char *final;
} h5_ds;

/* The hidden name a new value is written under, next to its key: a
 * ".simrec" part, which keys may not use (sr_key_valid). */
#define H5_NEW ".simrec-new."

/* ---- blosc filter (id 32001, cd_values as hdf5-blosc) ------------------ */

/* blosc threads of the filter: the last opened store's (a filter has no
 * store; every store of a process has the same by default) */
static _Atomic int filter_nthreads = 1;

static size_t blosc_filter(unsigned flags, size_t ncd, const unsigned cd[],
                           size_t nbytes, size_t *buf_size, void **buf)
{
	if (flags & H5Z_FLAG_REVERSE) {
		size_t out = sr_codec_decoded_size(*buf, nbytes);
		void *dst = out ? malloc(out) : NULL;
		if (!dst ||
		    sr_codec_decode(1, *buf, nbytes, dst, out, 1, NULL)) {
			free(dst);
			return 0;
		}
		free(*buf);
		*buf = dst;
		*buf_size = out;
		return out;
	}
	sr_codec c = {.level = ncd > 4 ? (int)cd[4] : 5,
	              .shuffle = ncd > 5 ? (int)cd[5] : 1,
	              .nthreads = filter_nthreads};
	const char *name = "blosclz";
	if (ncd > 6)
		blosc_compcode_to_compname((int)cd[6], &name);
	snprintf(c.cname, sizeof c.cname, "%s", name);
	void *dst = NULL;
	size_t cap = 0, outlen;
	if (sr_codec_encode(&c, ncd > 2 ? cd[2] : 1, *buf, nbytes, &dst, &cap,
	                    &outlen, NULL)) {
		free(dst);
		return 0;
	}
	free(*buf);
	*buf = dst;
	*buf_size = cap;
	return outlen;
}

static const H5Z_class2_t blosc_class = {
        .version = H5Z_CLASS_T_VERS,
        .id = BLOSC_FILTER,
        .encoder_present = 1,
        .decoder_present = 1,
        .name = "blosc",
        .filter = blosc_filter,
};

/* simrec's blosc filter is used only when no working filter 32001 is
 * registered (hdf5plugin's or Debian's hdf5-blosc plugin, from
 * HDF5_PLUGIN_PATH); if another one cannot create a dataset (e.g. a plugin
 * built for another HDF5), ours replaces it (see h5_create). */
static int own_blosc;

static void use_own_blosc(void)
{
	if (!own_blosc && H5Zregister(&blosc_class) >= 0)
		own_blosc = 1;
}

static void register_filters(void)
{
	unsigned info = 0;
	if (H5Zfilter_avail(BLOSC_FILTER) <= 0 ||
	    H5Zget_filter_info(BLOSC_FILTER, &info) < 0 ||
	    !(info & H5Z_FILTER_CONFIG_ENCODE_ENABLED) ||
	    !(info & H5Z_FILTER_CONFIG_DECODE_ENABLED))
		use_own_blosc();
	sr_h5lzf_register();
}

/* ---- helpers ----------------------------------------------------------- */

static hid_t file_type(simrec_dtype_t dt)
{
	switch (dt) {
	case SIMREC_INT8:
		return H5T_STD_I8LE;
	case SIMREC_INT16:
		return H5T_STD_I16LE;
	case SIMREC_INT32:
		return H5T_STD_I32LE;
	case SIMREC_INT64:
		return H5T_STD_I64LE;
	case SIMREC_UINT8:
		return H5T_STD_U8LE;
	case SIMREC_UINT16:
		return H5T_STD_U16LE;
	case SIMREC_UINT32:
		return H5T_STD_U32LE;
	case SIMREC_UINT64:
		return H5T_STD_U64LE;
	case SIMREC_FLOAT32:
		return H5T_IEEE_F32LE;
	case SIMREC_FLOAT64:
		return H5T_IEEE_F64LE;
	default:
		return H5I_INVALID_HID;
	}
}

static hid_t native_type(simrec_dtype_t dt)
{
	switch (dt) {
	case SIMREC_INT8:
		return H5T_NATIVE_INT8;
	case SIMREC_INT16:
		return H5T_NATIVE_INT16;
	case SIMREC_INT32:
		return H5T_NATIVE_INT32;
	case SIMREC_INT64:
		return H5T_NATIVE_INT64;
	case SIMREC_UINT8:
		return H5T_NATIVE_UINT8;
	case SIMREC_UINT16:
		return H5T_NATIVE_UINT16;
	case SIMREC_UINT32:
		return H5T_NATIVE_UINT32;
	case SIMREC_UINT64:
		return H5T_NATIVE_UINT64;
	case SIMREC_FLOAT32:
		return H5T_NATIVE_FLOAT;
	case SIMREC_FLOAT64:
		return H5T_NATIVE_DOUBLE;
	default:
		return H5I_INVALID_HID;
	}
}

/* bool as h5py stores it: an int8 enum FALSE=0, TRUE=1 */
static hid_t bool_type(void)
{
	hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
	signed char f = 0, v = 1;
	H5Tenum_insert(t, "FALSE", &f);
	H5Tenum_insert(t, "TRUE", &v);
	return t;
}

/* A new type id the caller closes: the memory type of dt. */
static hid_t mem_type(simrec_dtype_t dt)
{
	if (dt == SIMREC_BOOL)
		return bool_type();
	if (dt == SIMREC_STRING) {
		hid_t t = H5Tcopy(H5T_C_S1);
		H5Tset_size(t, H5T_VARIABLE);
		H5Tset_cset(t, H5T_CSET_UTF8);
		return t;
	}
	if (dt == SIMREC_BYTES)
		return H5Tvlen_create(H5T_NATIVE_UINT8);
	return H5Tcopy(native_type(dt));
}

/* h5py's bool: an enum of a 1-byte integer with exactly FALSE=0, TRUE=1 */
static int is_h5py_bool(hid_t t)
{
	if (H5Tget_class(t) != H5T_ENUM || H5Tget_size(t) != 1 ||
	    H5Tget_nmembers(t) != 2)
		return 0;
	int ok = 1;
	for (unsigned k = 0; k < 2 && ok; k++) {
		char *nm = H5Tget_member_name(t, k);
		signed char v = -1;
		ok = nm && H5Tget_member_value(t, k, &v) >= 0 &&
		     !strcmp(nm, v ? "TRUE" : "FALSE") && (v == 0 || v == 1);
		H5free_memory(nm);
	}
	return ok;
}

/* The simrec dtype of an HDF5 type, or SIMREC_ENOTSUP with *why naming
 * what is not handled (such data is refused, never read as something
 * else). */
static int dtype_of(hid_t t, simrec_dtype_t *dt, const char **why)
{
	static const char *classes[] = {[H5T_TIME] = "time types",
	                                [H5T_BITFIELD] = "bitfield types",
	                                [H5T_OPAQUE] = "opaque types",
	                                [H5T_COMPOUND] = "compound types",
	                                [H5T_REFERENCE] = "references",
	                                [H5T_ARRAY] = "array types"};
	H5T_class_t c = H5Tget_class(t);
	size_t sz = H5Tget_size(t);
	*why = "this datatype";
	if (c == H5T_ENUM) {
		*dt = SIMREC_BOOL;
		*why = "enum types other than h5py's bool";
		return is_h5py_bool(t) ? 0 : SIMREC_ENOTSUP;
	}
	if (c == H5T_STRING) {
		*dt = SIMREC_STRING;
		*why = "fixed-length strings";
		return H5Tis_variable_str(t) > 0 ? 0 : SIMREC_ENOTSUP;
	}
	if (c == H5T_VLEN) {
		/* simrec's bytes: a sequence of 1-byte integers */
		hid_t b = H5Tget_super(t);
		int ok = b >= 0 && H5Tget_class(b) == H5T_INTEGER &&
		         H5Tget_size(b) == 1;
		H5T_class_t bc = b >= 0 ? H5Tget_class(b) : H5T_NO_CLASS;
		if (b >= 0)
			H5Tclose(b);
		*dt = SIMREC_BYTES;
		*why = bc == H5T_FLOAT ? "variable-length sequences of floats"
		                       : "variable-length sequences other than "
		                         "of bytes";
		return ok ? 0 : SIMREC_ENOTSUP;
	}
	if (c == H5T_INTEGER) {
		int sgn = H5Tget_sign(t) == H5T_SGN_2;
		int k = sz == 1   ? 0
		        : sz == 2 ? 1
		        : sz == 4 ? 2
		        : sz == 8 ? 3
		                  : -1;
		*why = "integers of other than 1, 2, 4 or 8 bytes";
		if (k < 0)
			return SIMREC_ENOTSUP;
		*dt = (simrec_dtype_t)((sgn ? SIMREC_INT8 : SIMREC_UINT8) + k);
		return 0;
	}
	if (c == H5T_FLOAT && (sz == 4 || sz == 8)) {
		*dt = sz == 4 ? SIMREC_FLOAT32 : SIMREC_FLOAT64;
		return 0;
	}
	if (c == H5T_FLOAT)
		*why = "floats of other than 4 or 8 bytes";
	else if ((int)c >= 0 && (size_t)c < sizeof classes / sizeof *classes &&
	         classes[c])
		*why = classes[c];
	return SIMREC_ENOTSUP;
}

static const char *path_of(const char *key, char *buf, size_t cap)
{
	snprintf(buf, cap, "/%s", key);
	return buf;
}

/* Does every component of key exist? (H5Lexists fails on a missing
 * intermediate group.) */
static int exists(hid_t file, const char *key)
{
	char p[4096];
	snprintf(p, sizeof p, "/%s", key);
	if (!*key)
		return 1;
	for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
		if (s)
			*s = 0;
		htri_t e = H5Lexists(file, p, H5P_DEFAULT);
		if (s)
			*s = '/';
		if (e <= 0)
			return 0;
		if (!s)
			return 1;
	}
}

static int is_group(hid_t file, const char *key)
{
	H5O_info_t info;
	char p[4096];
	if (!*key)
		return 1;
	if (H5Oget_info_by_name(file, path_of(key, p, sizeof p), &info,
	                        H5P_DEFAULT) < 0)
		return -1;
	return info.type == H5O_TYPE_GROUP;
}

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

static void h5_reserve_drop(h5_store *h)
{
	if (h->reserve_fd >= 0)
		close(h->reserve_fd);
	h->reserve_fd = -1;
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

/* What is at path: look[0] whether it exists, look[1] why it may not be
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
		look[0] = stat(path, &sb) == 0;
		if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode))
			look[0] = look[1] = 1;
		else if (look[0] && !S_ISREG(sb.st_mode))
			look[1] = 2;
		else if (look[0] && H5Fis_hdf5(path) <= 0)
			look[1] = 3;
	}
	if (parallel)
		MPI_Bcast(look, 2, MPI_INT, 0, st->comm);
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
	if (there && st->mode != SIMREC_MODE_CREATE && H5Fis_hdf5(path) <= 0)
		return sr_fail(st->err, SIMREC_EFORMAT,
		               "'%s' exists and is not an HDF5 file", path);
	if (st->mode == SIMREC_MODE_READONLY) {
		if (!there)
			return sr_fail(st->err, SIMREC_ENOKEY,
			               "HDF5 file '%s' does not exist", path);
		h->file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
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
		H5Pclose(fcpl);
		/* a valid (empty) file on disk at once: a crash before the
		 * first flush leaves a store that opens */
		if (h->file >= 0)
			H5Fflush(h->file, H5F_SCOPE_GLOBAL);
	}
	if (h->file < 0)
		return sr_fail(
		        st->err, SIMREC_EIO, "cannot open HDF5 file '%s'%s",
		        path,
		        st->mode == SIMREC_MODE_READONLY
		                ? ""
		                : " for writing (is it open elsewhere?)");
	return 0;
}

static int h5_open(sr_store *st)
{
	register_filters();
	filter_nthreads = st->codec.nthreads > 0 ? st->codec.nthreads : 1;
	h5_store *h = calloc(1, sizeof *h);
	if (!h)
		return SIMREC_ENOMEM;
	int csize = 1;
	if (st->comm != MPI_COMM_NULL)
		MPI_Comm_size(st->comm, &csize);
	h->parallel = csize > 1;
	hid_t fapl = h5_props(st, h);
	/* create mode truncates an HDF5 file and nothing else: never a link
	 * or a file of another kind (docs/safety.md) */
	int look[2]; /* exists, why not replaceable (0: it is) */
	h5_look(st, h->parallel, st->uri.path, look);
	int rc = h5_open_file(st, h, fapl, look);
	H5Pclose(fapl);
	if (rc) {
		H5Pclose(h->dxpl);
		free(h);
		return rc;
	}
	st->impl = h;
	h5_reserve(st, h);
	h->reopen = st->shared && st->mode == SIMREC_MODE_READONLY;
	if (h->reopen) {
		H5Fclose(h->file);
		h->file = H5I_INVALID_HID;
	}
	return 0;
}

/* Reopen mode: open the file for one operation, and close it after. */
static int file_begin(sr_store *st)
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

static void file_end(sr_store *st)
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

/* Next chunk index in [lo, hi], row-major; 0 when done. */
static int next_chunk(int ndim, const size_t *lo, const size_t *hi, size_t *idx)
{
	for (int i = ndim - 1; i >= 0; i--) {
		if (++idx[i] <= hi[i])
			return 1;
		idx[i] = lo[i];
	}
	return 0;
}

/* The errno in HDF5's error stack (or a full file system), or 0. */
static int h5_errno(sr_store *st)
{
	int err = 0;
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, errno_cb, &err);
	return sr_os_refine(err, st->uri.path);
}

/* A failure named by its cause (err, else the errno in HDF5's error
 * stack), else by what failed. */
static int h5_fail_err(sr_store *st, const char *what, int err)
{
	if (!err)
		err = h5_errno(st);
	if (err)
		return sr_fail(st->err, SIMREC_EIO, "%s '%s': %s", what,
		               st->uri.path, sr_os_cause(err));
	return sr_fail(st->err, SIMREC_EIO, "%s '%s' failed", what,
	               st->uri.path);
}

static int h5_fail(sr_store *st, const char *what)
{
	return h5_fail_err(st, what, 0);
}

/* Before the first write to key since the last commit: remember the
 * extent it had then (rows). */
static int h5_mark_key(sr_store *st, const char *key, size_t rows)
{
	h5_store *h = st->impl;
	for (size_t i = 0; i < h->nmarks; i++)
		if (!strcmp(h->marks[i].key, key))
			return 0;
	if (h->nmarks == h->capmarks) {
		size_t c = h->capmarks ? 2 * h->capmarks : 8;
		h5_mark *q = realloc(h->marks, c * sizeof *q);
		if (!q)
			return sr_fail(st->err, SIMREC_ENOMEM,
			               "out of memory writing '%s'", key);
		h->marks = q;
		h->capmarks = c;
	}
	char *k = strdup(key);
	if (!k)
		return sr_fail(st->err, SIMREC_ENOMEM,
		               "out of memory writing '%s'", key);
	h->marks[h->nmarks++] = (h5_mark){.key = k, .rows = rows};
	return 0;
}

static void h5_marks_clear(h5_store *h)
{
	for (size_t i = 0; i < h->nmarks; i++)
		free(h->marks[i].key);
	h->nmarks = 0;
}

/* A write or a flush failed (status rc, detail in st->err): the store is
 * broken from now on; returns rc. */
static int h5_poison(sr_store *st, int rc)
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
static int h5_sticky(sr_store *st)
{
	h5_store *h = st->impl;
	if (!h->failed)
		return 0;
	return sr_fail(st->err, h->failed,
	               "'%s': nothing more is written after a failed write "
	               "(%s)",
	               st->uri.path, h->why);
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
			d = H5Dopen2(f, path_of(h->marks[i].key, p, sizeof p),
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
static int h5_commit(sr_store *st)
{
	h5_store *h = st->impl;
	if (st->mode == SIMREC_MODE_READONLY)
		return 0;
	int rc = h5_sticky(st);
	if (rc)
		return rc;
	double t0 = sr_clock();
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
	return 0;
}

static int flush_pending_vlen(sr_store *st, int rc);
static int h5_room_free(sr_store *st);

static int h5_close(sr_store *st)
{
	h5_store *h = st->impl;
	int rc = h5_commit(st);
	herr_t ce = h->file >= 0 ? H5Fclose(h->file) : 0;
	if (ce < 0 && !rc)
		rc = sr_fail(st->err, SIMREC_EIO, "H5Fclose of '%s' failed",
		             st->uri.path);
	if (h->parallel)
		rc = flush_pending_vlen(st, rc);
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
	free(h);
	return rc;
}

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
		H5Ldelete(h->file, path_of(d->key, p, sizeof p), H5P_DEFAULT);
	}
	H5E_END_TRY;
	free(d->final);
	d->final = NULL;
}

static void h5_release(sr_store *st, void *ds)
{
	h5_ds *d = ds;
	if (!d)
		return;
	if (d->dset >= 0)
		H5Dclose(d->dset);
	h5_drop_new(st, d);
	H5Tclose(d->mtype);
	free(d->key);
	free(d->final);
	free(d);
}

static hid_t open_dset(sr_store *st, const char *path)
{
	/* writers bypass the chunk cache: whole chunks go straight to disk */
	hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
	if (st->mode != SIMREC_MODE_READONLY)
		H5Pset_chunk_cache(dapl, 0, 0, 1.0);
	hid_t d = H5Dopen2(((h5_store *)st->impl)->file, path, dapl);
	H5Pclose(dapl);
	return d;
}

static int lookup(sr_store *st, const char *key, sr_meta *m, void **ds)
{
	h5_store *h = st->impl;
	if (!exists(h->file, key))
		return SIMREC_ENOKEY;
	int grp = is_group(h->file, key);
	if (grp > 0)
		return SIMREC_EKIND;
	if (grp < 0)
		return sr_fail(st->err, SIMREC_EFORMAT,
		               "'%s' in '%s' is a link that cannot be followed "
		               "(dangling soft link or missing external file)",
		               key, st->uri.path);
	char p[4096];
	hid_t did = open_dset(st, path_of(key, p, sizeof p));
	if (did < 0)
		return sr_fail(st->err, SIMREC_EFORMAT,
		               "'%s' in '%s' is not a readable dataset", key,
		               st->uri.path);
	memset(m, 0, sizeof *m);
	hid_t t = H5Dget_type(did), sp = H5Dget_space(did),
	      dcpl = H5Dget_create_plist(did);
	const char *why;
	int rc = dtype_of(t, &m->dtype, &why);
	if (rc)
		sr_fail(st->err, rc,
		        "'%s' in '%s': HDF5 %s are not supported (refused "
		        "rather than read as something else)",
		        key, st->uri.path, why);
	int nd = H5Sget_simple_extent_ndims(sp);
	hsize_t dims[SIMREC_MAX_NDIM], maxd[SIMREC_MAX_NDIM],
	        ch[SIMREC_MAX_NDIM];
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
		m->is_value = nd == 0                    ? 1
		              : !chunked                 ? 3
		              : maxd[0] != H5S_UNLIMITED ? 2
		                                         : 0;
		if (sr_dtype_is_vlen(m->dtype) && nd != 1 && !m->is_value)
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
	d->mtype = mem_type(m->dtype);
	/* ASCII strings (h5py.string_dtype('ascii')) read as they are:
	 * HDF5 does not convert between character sets */
	if (m->dtype == SIMREC_STRING && cset == H5T_CSET_ASCII)
		H5Tset_cset(d->mtype, H5T_CSET_ASCII);
	d->key = strdup(key);
	*ds = d;
	return 0;
}

static int h5_lookup(sr_store *st, const char *key, sr_meta *m, void **ds)
{
	int rc = file_begin(st);
	if (rc)
		return rc;
	rc = lookup(st, key, m, ds);
	if (!rc && ((h5_store *)st->impl)->reopen) {
		h5_ds *d = *ds;
		H5Dclose(d->dset);
		d->dset = H5I_INVALID_HID;
	}
	file_end(st);
	return rc;
}

/* Reopen mode: the dataset of d for one read. */
static int ds_begin(sr_store *st, h5_ds *d)
{
	if (!((h5_store *)st->impl)->reopen)
		return 0;
	int rc = file_begin(st);
	if (rc)
		return rc;
	char p[4096];
	d->dset = open_dset(st, path_of(d->key, p, sizeof p));
	if (d->dset < 0) {
		file_end(st);
		return sr_fail(st->err, SIMREC_EIO,
		               "cannot reopen '%s' in '%s'", d->key,
		               st->uri.path);
	}
	return 0;
}

static void ds_end(sr_store *st, h5_ds *d)
{
	if (!((h5_store *)st->impl)->reopen)
		return;
	H5Dclose(d->dset);
	d->dset = H5I_INVALID_HID;
	file_end(st);
}

static int set_filters(sr_store *st, hid_t dcpl, const sr_meta *m)
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
	if (exists(h->file, key)) {
		if (is_group(h->file, key) > 0)
			return sr_fail(st->err, SIMREC_EKIND,
			               "'%s' is a group in '%s', not a dataset",
			               key, st->uri.path);
		if (!keep && H5Ldelete(h->file, path_of(key, p, sizeof p),
		                       H5P_DEFAULT) < 0)
			return sr_fail(st->err, SIMREC_EIO,
			               "cannot replace '%s' in '%s'", key,
			               st->uri.path);
	}
	/* a parent that is a dataset cannot hold a child */
	char *par = sr_key_parent(key);
	int bad =
	        par && *par && exists(h->file, par) && !is_group(h->file, par);
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
	path_of(key, p, sizeof p);
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
		if (!m->is_value)
			maxd[0] = H5S_UNLIMITED;
		sp = H5Screate_simple(m->ndim, dims, maxd);
		H5Pset_chunk(dcpl, m->ndim, ch);
		/* no fill values written before the data (parallel HDF5
		 * would write every chunk twice); VL types need them */
		if (!sr_dtype_is_vlen(m->dtype))
			H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
		rc = set_filters(st, dcpl, m);
	}
	hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
	H5Pset_create_intermediate_group(lcpl, 1);
	hid_t ft = sr_dtype_is_vlen(m->dtype) || m->dtype == SIMREC_BOOL
	                   ? mem_type(m->dtype)
	                   : H5Tcopy(file_type(m->dtype));
	hid_t did =
	        rc ? -1
	           : H5Dcreate2(h->file, p, ft, sp, lcpl, dcpl, H5P_DEFAULT);
	unsigned fl, fcd[8], fcfg;
	size_t nfcd = 8;
	if (did < 0 && !rc && !own_blosc && m->ndim &&
	    H5Pget_filter_by_id2(dcpl, BLOSC_FILTER, &fl, &nfcd, fcd, 0, NULL,
	                         &fcfg) >= 0) {
		/* another blosc filter is registered and cannot create this
		 * dataset: ours writes the same format */
		use_own_blosc();
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

static int h5_create(sr_store *st, const char *key, const sr_meta *m, void **ds)
{
	int rc = h5_sticky(st); /* a broken store makes nothing new */
	if (!rc)
		rc = h5_replaceable(st, key, m->is_value);
	if (rc)
		return rc;
	char tmp[4000], p[4096];
	new_key(key, tmp, sizeof tmp);
	hid_t file = ((h5_store *)st->impl)->file;
	if (m->is_value && exists(file, tmp)) /* left by a failed set */
		H5Ldelete(file, path_of(tmp, p, sizeof p), H5P_DEFAULT);
	rc = make_dset(st, m->is_value ? tmp : key, m);
	if (rc)
		return rc;
	sr_meta ignored;
	rc = lookup(st, m->is_value ? tmp : key, &ignored, ds);
	if (!rc && m->is_value) {
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
static size_t dim0(h5_ds *d)
{
	hsize_t dims[SIMREC_MAX_NDIM] = {0};
	hid_t sp = H5Dget_space(d->dset);
	if (H5Sget_simple_extent_ndims(sp) > 0)
		H5Sget_simple_extent_dims(sp, dims, NULL);
	H5Sclose(sp);
	return (size_t)dims[0];
}

/* A failed write leaves no phantom step: shrink back to old rows. */
static void rollback(h5_ds *d, const sr_meta *m, size_t old)
{
	if (m->ndim == 0 || dim0(d) == old)
		return;
	hsize_t dims[SIMREC_MAX_NDIM];
	hid_t sp = H5Dget_space(d->dset);
	H5Sget_simple_extent_dims(sp, dims, NULL);
	H5Sclose(sp);
	dims[0] = old;
	H5Dset_extent(d->dset, dims);
}

static int extend(sr_store *st, h5_ds *d, const sr_meta *m)
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
	               ? h5_fail(st, "cannot extend a dataset of")
	               : 0;
}

/* File and memory dataspaces for a hyperslab. */
static void select_slab(h5_ds *d, int nd, const size_t *start,
                        const size_t *count, hid_t *fs, hid_t *ms)
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
 * disk, the failed chunk write and the rollback left the index without
 * the chunk of the last flushed step). So a full disk is found here,
 * before HDF5 writes anything. A file system that cannot allocate ahead
 * (EOPNOTSUPP) is written unchecked. Collective over parallel writers;
 * the same status on each. */
static int h5_room(sr_store *st, h5_store *h, size_t bytes)
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
static int h5_room_free(sr_store *st)
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
static int begin_append(sr_store *st, h5_ds *d, const sr_meta *m, size_t *old)
{
	*old = dim0(d);
	int rc = h5_sticky(st);
	if (!rc)
		rc = h5_mark_key(st, d->key, *old);
	if (rc)
		return rc;
	rc = extend(st, d, m);
	return rc ? h5_poison(st, rc) : 0;
}

static int write_slab(sr_store *st, void *ds, const sr_meta *m,
                      const size_t *start, const size_t *count,
                      const void *data)
{
	h5_store *h = st->impl;
	h5_ds *d = ds;
	size_t old;
	int rc = begin_append(st, d, m, &old);
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
		rollback(d, m, old); /* collective, in the cache only */
		return h5_poison(st, rc);
	}
	hid_t fs, ms;
	select_slab(d, m->ndim, start, count, &fs, &ms);
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
	if (h->parallel) /* the rollback below is collective */
		MPI_Allreduce(MPI_IN_PLACE, v, 2, MPI_INT, MPI_MAX, st->comm);
	if (!v[0])
		return 0;
	rc = h5_fail_err(
	        st, e < 0 ? "H5Dwrite to" : "H5Dwrite on another writer to",
	        v[1]);
	rollback(d, m, old);
	return h5_poison(st, rc);
}

/* A value written whole (rc 0) replaces the one at its final key: the old
 * link goes and the hidden one takes its name, in the file's metadata
 * only, which the next commit makes durable at once. On a failure the
 * old value stays as it was (h5_drop_new). */
static int h5_publish(sr_store *st, h5_ds *d, int rc)
{
	h5_store *h = st->impl;
	if (rc || !d->final) {
		h5_drop_new(st, d);
		return rc;
	}
	char from[4096], to[4096];
	path_of(d->key, from, sizeof from);
	path_of(d->final, to, sizeof to);
	if (exists(h->file, d->final) &&
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

static int h5_write(sr_store *st, void *ds, const sr_meta *m,
                    const size_t *start, const size_t *count, const void *data)
{
	h5_ds *d = ds;
	int rc = write_slab(st, ds, m, start, count, data);
	return d->final ? h5_publish(st, d, rc) : rc;
}

/* ---- chunks compressed elsewhere (record_all: each rank its block) ----- */

/* 1 and *c if d's only filter is blosc (32001) with the cd_values that
 * set_filters writes: its chunks are then the plain blosc frames that
 * sr_codec_encode makes with *c, and a frame compressed by another rank
 * is stored as it is (H5Dwrite_chunk, filter mask 0). Serial files only:
 * parallel HDF5 1.10 refuses a direct chunk write with a collective
 * transfer, and an independent one of a chunk whose size differs from
 * the allocated one leaves the writers' metadata apart (measured: they
 * hang in the next collective). */
static int h5_encoded_codec(sr_store *st, void *ds, sr_codec *c)
{
	h5_store *h = st->impl;
	h5_ds *d = ds;
	if (h->parallel || h->reopen || st->mode == SIMREC_MODE_READONLY ||
	    d->dset < 0)
		return 0;
	hid_t dcpl = H5Dget_create_plist(d->dset);
	if (dcpl < 0)
		return 0;
	unsigned flags = 0, cd[8] = {0}, cfg = 0;
	size_t ncd = 8;
	char name[32];
	int ok = H5Pget_nfilters(dcpl) == 1 &&
	         H5Pget_filter2(dcpl, 0, &flags, &ncd, cd, sizeof name, name,
	                        &cfg) == BLOSC_FILTER &&
	         ncd >= 7 && cd[4] <= 9 && cd[5] <= 2;
	H5Pclose(dcpl);
	const char *cname = NULL;
	if (!ok || blosc_compcode_to_compname((int)cd[6], &cname) < 0 ||
	    !cname || strlen(cname) >= sizeof c->cname)
		return 0;
	memset(c, 0, sizeof *c);
	snprintf(c->cname, sizeof c->cname, "%s", cname);
	c->level = (int)cd[4];
	c->shuffle = (int)cd[5];
	c->nthreads = st->codec.nthreads;
	return 1;
}

/* n chunks already compressed (blosc frames) written with H5Dwrite_chunk
 * after the extent grows to m->shape[0]; a failure shrinks it back and
 * breaks the store, as h5_write does. */
static int h5_write_encoded(sr_store *st, void *ds, const sr_meta *m, size_t n,
                            const size_t *idx, const void *const *frames,
                            const size_t *lens)
{
	h5_ds *d = ds;
	size_t old;
	if (((h5_store *)st->impl)->parallel)
		return sr_fail(st->err, SIMREC_ENOTSUP,
		               "'%s': compressed chunks are written by one "
		               "writer per file only",
		               st->uri.path);
	int rc = begin_append(st, d, m, &old);
	if (rc)
		return rc;
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++)
		bytes += lens[i];
	rc = h5_room(st, st->impl, bytes);
	if (rc) {
		rollback(d, m, old); /* nothing written yet */
		return h5_poison(st, rc);
	}
	size_t nd = (size_t)m->ndim;
	double t0 = sr_clock();
	for (size_t i = 0; i < n && !rc; i++) {
		hsize_t off[SIMREC_MAX_NDIM];
		for (size_t j = 0; j < nd; j++)
			off[j] = (hsize_t)idx[i * nd + j] * m->chunks[j];
		if (off[0] >= m->shape[0])
			rc = sr_fail(st->err, SIMREC_EINVAL,
			             "'%s': a chunk past the extent", d->key);
		else if (H5Dwrite_chunk(d->dset, H5P_DEFAULT, 0, off, lens[i],
		                        frames[i]) < 0)
			rc = h5_fail(st, "H5Dwrite_chunk to");
	}
	st->t_write += sr_clock() - t0;
	if (!rc)
		return 0;
	rollback(d, m, old);
	return h5_poison(st, rc);
}

/* H5Dwrite of n vlen items at row0 of dset (memory type mtype). */
static int vlen_write(sr_store *st, hid_t dset, hid_t mtype, simrec_dtype_t dt,
                      hid_t dxpl, size_t row0, size_t n, const sr_blob *items)
{
	int rc = 0;
	/* strings: NUL-terminated copies; bytes: hvl_t pointing at items */
	void *buf = dt == SIMREC_STRING ? calloc(n, sizeof(char *))
	                                : calloc(n, sizeof(hvl_t));
	if (!buf)
		return SIMREC_ENOMEM;
	for (size_t i = 0; i < n && !rc; i++) {
		if (dt == SIMREC_STRING) {
			char *s = malloc(items[i].len + 1);
			if (!s) {
				rc = SIMREC_ENOMEM;
				break;
			}
			if (items[i].len)
				memcpy(s, items[i].data, items[i].len);
			s[items[i].len] = 0;
			((char **)buf)[i] = s;
		} else {
			((hvl_t *)buf)[i].len = items[i].len;
			((hvl_t *)buf)[i].p = items[i].data;
		}
	}
	if (!rc) {
		hsize_t s0 = row0, c0 = n;
		hid_t fs = H5Dget_space(dset),
		      ms = H5Screate_simple(1, &c0, NULL);
		H5Sselect_hyperslab(fs, H5S_SELECT_SET, &s0, NULL, &c0, NULL);
		if (H5Dwrite(dset, mtype, ms, fs, dxpl, buf) < 0)
			rc = h5_fail(st, "H5Dwrite to");
		H5Sclose(fs);
		H5Sclose(ms);
	}
	if (dt == SIMREC_STRING)
		for (size_t i = 0; i < n; i++)
			free(((char **)buf)[i]);
	free(buf);
	return rc;
}

static void pend_free(vlen_pend *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->items[i].data);
	free(p->items);
	free(p->key);
}

/* Writer 0 of a parallel file: keep a copy of the items for h5_close. */
static int vlen_defer(sr_store *st, h5_ds *d, simrec_dtype_t dt, size_t row0,
                      size_t n, const sr_blob *items)
{
	h5_store *h = st->impl;
	if (h->npend == h->cappend) {
		size_t c = h->cappend ? 2 * h->cappend : 16;
		vlen_pend *q = realloc(h->pend, c * sizeof *q);
		if (!q)
			return SIMREC_ENOMEM;
		h->pend = q;
		h->cappend = c;
	}
	vlen_pend p = {.key = strdup(d->key), .dt = dt, .row0 = row0};
	p.items = calloc(n, sizeof *p.items);
	int rc = p.key && p.items ? 0 : SIMREC_ENOMEM;
	for (size_t i = 0; i < n && !rc; i++, p.n++) {
		p.items[i].data = malloc(items[i].len ? items[i].len : 1);
		if (!p.items[i].data) {
			rc = SIMREC_ENOMEM;
			break;
		}
		if (items[i].len)
			memcpy(p.items[i].data, items[i].data, items[i].len);
		p.items[i].len = items[i].len;
	}
	if (rc) {
		pend_free(&p);
		return sr_fail(st->err, rc, "out of memory keeping '%s'",
		               d->key);
	}
	h->pend[h->npend++] = p;
	return 0;
}

/* HDF5 strings end at their first NUL (h5py and HDF5 alike), and an ASCII
 * dataset (h5py.string_dtype('ascii')) holds no other bytes than ASCII:
 * such text is refused rather than stored as something else. */
static int h5_check_vlen(sr_store *st, void *ds, const sr_meta *m,
                         const sr_blob *item)
{
	h5_ds *d = ds;
	if (m->dtype != SIMREC_STRING || !item->len)
		return 0;
	if (memchr(item->data, 0, item->len))
		return sr_fail(st->err, SIMREC_EINVAL,
		               "key '%s' in '%s': HDF5 strings cannot hold NUL "
		               "bytes; record it as SIMREC_BYTES",
		               d->key, st->uri.path);
	if (H5Tget_cset(d->mtype) != H5T_CSET_ASCII)
		return 0;
	const unsigned char *c = item->data;
	for (size_t i = 0; i < item->len; i++)
		if (c[i] > 0x7f)
			return sr_fail(st->err, SIMREC_EINVAL,
			               "key '%s' in '%s' is an ASCII string "
			               "dataset (h5py.string_dtype('ascii')): "
			               "non-ASCII text refused",
			               d->key, st->uri.path);
	return 0;
}

static int h5_write_vlen(sr_store *st, void *ds, const sr_meta *m, size_t row0,
                         size_t n, const sr_blob *items)
{
	h5_store *h = st->impl;
	h5_ds *d = ds;
	size_t old = dim0(d);
	int rc = h5_sticky(st);
	for (size_t i = 0; i < n && !rc; i++)
		rc = h5_check_vlen(st, ds, m, &items[i]);
	if (!rc)
		rc = h5_mark_key(st, d->key, old);
	if (rc)
		return rc;
	rc = extend(st, d, m);
	if (rc)
		return h5_poison(st, rc);
	if (!n)
		return 0;
	if (h->parallel) {
		int rank = 0;
		MPI_Comm_rank(st->comm, &rank);
		return rank ? 0 : vlen_defer(st, d, m->dtype, row0, n, items);
	}
	rc = vlen_write(st, d->dset, d->mtype, m->dtype, h->dxpl, row0, n,
	                items);
	if (rc)
		rollback(d, m, old); /* no phantom rows */
	return h5_poison(st, rc);
}

/* After the parallel file is closed: writer 0 writes the kept vlen items
 * through serial HDF5; every writer returns its status. Collective. */
static int flush_pending_vlen(sr_store *st, int rc)
{
	h5_store *h = st->impl;
	int rank = 0;
	MPI_Comm_rank(st->comm, &rank);
	if (rank == 0 && h->npend && !rc) {
		hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
		if (st->shared)
			H5Pset_file_locking(fapl, 0, 1);
		hid_t f = H5Fopen(st->uri.path, H5F_ACC_RDWR, fapl);
		H5Pclose(fapl);
		if (f < 0)
			rc = sr_fail(st->err, SIMREC_EIO,
			             "cannot reopen '%s' to write strings",
			             st->uri.path);
		for (size_t i = 0; i < h->npend && !rc; i++) {
			vlen_pend *p = &h->pend[i];
			char path[4096];
			hid_t dset =
			        H5Dopen2(f, path_of(p->key, path, sizeof path),
			                 H5P_DEFAULT);
			hid_t t = dset >= 0 ? H5Dget_type(dset) : -1;
			if (dset < 0 || t < 0)
				rc = sr_fail(st->err, SIMREC_EIO,
				             "cannot reopen '%s' in '%s'",
				             p->key, st->uri.path);
			else
				rc = vlen_write(st, dset, t, p->dt, H5P_DEFAULT,
				                p->row0, p->n, p->items);
			if (t >= 0)
				H5Tclose(t);
			if (dset >= 0)
				H5Dclose(dset);
		}
		if (f >= 0 && H5Fclose(f) < 0 && !rc)
			rc = sr_fail(st->err, SIMREC_EIO,
			             "H5Fclose of '%s' failed", st->uri.path);
	}
	for (size_t i = 0; i < h->npend; i++)
		pend_free(&h->pend[i]);
	free(h->pend);
	h->pend = NULL;
	h->npend = h->cappend = 0;
	int all = rc;
	MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, st->comm);
	if (all && !rc)
		rc = sr_fail(st->err, all,
		             "writer 0 could not write the strings of '%s'",
		             st->uri.path);
	return rc;
}

/* Every chunk inside the shape allocated (a chunk never written is not,
 * unless the file was written in parallel, which allocates early) and,
 * without filters, of its full size. */
static int h5_check(sr_store *st, void *ds, const sr_meta *m, size_t *whole)
{
	h5_ds *d = ds;
	int nd = m->ndim;
	*whole = nd ? m->shape[0] : 1;
	if (!nd || !m->shape[0])
		return 0;
	int rc = ds_begin(st, d);
	if (rc)
		return rc;
	hid_t dcpl = H5Dget_create_plist(d->dset);
	int chunked = H5Pget_layout(dcpl) == H5D_CHUNKED;
	int filtered = H5Pget_nfilters(dcpl) > 0;
	H5Pclose(dcpl);
	size_t celems = 1;
	sr_torn t = {0};
	size_t lo[SIMREC_MAX_NDIM] = {0}, hi[SIMREC_MAX_NDIM],
	       idx[SIMREC_MAX_NDIM] = {0};
	for (int i = 0; i < nd; i++) {
		if (!m->shape[i] || !m->chunks[i])
			chunked = 0;
		else
			hi[i] = (m->shape[i] - 1) / m->chunks[i];
		celems *= m->chunks[i];
	}
	size_t full = celems * simrec_dtype_size(m->dtype);
	while (chunked && !sr_torn_stop(&t, m, idx[0])) {
		hsize_t off[SIMREC_MAX_NDIM], size = 0;
		haddr_t addr = HADDR_UNDEF;
		unsigned mask = 0;
		for (int i = 0; i < nd; i++)
			off[i] = idx[i] * m->chunks[i];
		herr_t e = H5Dget_chunk_info_by_coord(d->dset, off, &mask,
		                                      &addr, &size);
		const char *why =
		        e < 0 || addr == HADDR_UNDEF       ? "chunk unallocated"
		        : !filtered && full && size < full ? "chunk short"
		                                           : NULL;
		if (why)
			sr_torn_add(&t, m, idx[0], why);
		if (!next_chunk(nd, lo, hi, idx))
			break;
	}
	ds_end(st, d);
	return sr_store_torn(st, d->key, m, &t, whole);
}

/* A failed H5Dread named by its cause: a filter this process lacks, or
 * (every filter there) data that does not decode. */
static int read_fail(sr_store *st, h5_ds *d)
{
	hid_t dcpl = H5Dget_create_plist(d->dset);
	int n = dcpl < 0 ? 0 : H5Pget_nfilters(dcpl);
	char missing[64] = "";
	for (int i = 0; i < n && !*missing; i++) {
		unsigned fl, cd[8], cfg;
		size_t ncd = 8;
		char name[32] = "";
		H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &fl, &ncd,
		                                 cd, sizeof name, name, &cfg);
		if (id >= 0 && H5Zfilter_avail(id) <= 0)
			snprintf(missing, sizeof missing, "%d%s%s%s", (int)id,
			         *name ? " (" : "", name, *name ? ")" : "");
	}
	if (dcpl >= 0)
		H5Pclose(dcpl);
	if (*missing)
		return sr_fail(st->err, SIMREC_ECODEC,
		               "'%s' in '%s': HDF5 filter %s is not available "
		               "in this process",
		               d->key, st->uri.path, missing);
	int err = h5_errno(st);
	if (err)
		return sr_fail(st->err, SIMREC_EIO, "reading '%s' in '%s': %s",
		               d->key, st->uri.path, sr_os_cause(err));
	return sr_fail(st->err, SIMREC_EIO,
	               "'%s' in '%s': a chunk does not decode (corrupt data; "
	               "simrec verify names it)",
	               d->key, st->uri.path);
}

static int h5_read(sr_store *st, void *ds, const sr_meta *m,
                   const size_t *start, const size_t *count, void *buf)
{
	h5_ds *d = ds;
	hid_t fs, ms;
	int rc = ds_begin(st, d);
	if (rc)
		return rc;
	select_slab(d, m->ndim, start, count, &fs, &ms);
	herr_t e = H5Dread(d->dset, d->mtype, ms, fs, H5P_DEFAULT, buf);
	H5Sclose(fs);
	H5Sclose(ms);
	ds_end(st, d);
	return e < 0 ? read_fail(st, d) : 0;
}

static int h5_read_vlen(sr_store *st, void *ds, const sr_meta *m, size_t index,
                        sr_blob *out)
{
	h5_ds *d = ds;
	size_t s0[1] = {index}, c0[1] = {1};
	hid_t fs, ms;
	int rb = ds_begin(st, d);
	if (rb)
		return rb;
	select_slab(d, m->ndim ? 1 : 0, s0, c0, &fs, &ms);
	union {
		char *s;
		hvl_t v;
	} u;
	memset(&u, 0, sizeof u);
	int rc = H5Dread(d->dset, d->mtype, ms, fs, H5P_DEFAULT, &u) < 0
	                 ? sr_fail(st->err, SIMREC_EIO, "H5Dread failed")
	                 : 0;
	if (!rc) {
		const void *src =
		        m->dtype == SIMREC_STRING ? (void *)u.s : u.v.p;
		size_t len = m->dtype == SIMREC_STRING ? (u.s ? strlen(u.s) : 0)
		                                       : u.v.len;
		out->data = malloc(len + 1);
		if (!out->data)
			rc = SIMREC_ENOMEM;
		else {
			if (len)
				memcpy(out->data, src, len);
			((char *)out->data)[len] = 0;
			out->len = len;
		}
		H5Dvlen_reclaim(d->mtype, ms, H5P_DEFAULT, &u);
	}
	H5Sclose(fs);
	H5Sclose(ms);
	ds_end(st, d);
	return rc;
}

/* ---- attributes -------------------------------------------------------- */

static hid_t open_obj(sr_store *st, const char *key, int create)
{
	h5_store *h = st->impl;
	char p[4096];
	if (!exists(h->file, key)) {
		if (!create)
			return H5I_INVALID_HID;
		hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
		H5Pset_create_intermediate_group(lcpl, 1);
		hid_t g = H5Gcreate2(h->file, path_of(key, p, sizeof p), lcpl,
		                     H5P_DEFAULT, H5P_DEFAULT);
		H5Pclose(lcpl);
		return g;
	}
	return H5Oopen(h->file, *key ? path_of(key, p, sizeof p) : "/",
	               H5P_DEFAULT);
}

static int h5_attr_set(sr_store *st, const char *key, const char *name,
                       const simrec_attr_t *a)
{
	int rc = h5_sticky(st);
	if (rc)
		return rc;
	hid_t o = open_obj(st, key, 1);
	if (o < 0)
		return sr_fail(st->err, SIMREC_EIO, "cannot open '%s' in '%s'",
		               key, st->uri.path);
	if (H5Aexists(o, name) > 0)
		H5Adelete(o, name);
	hid_t t, sp;
	const void *v;
	const char *s = a->s;
	signed char b = (signed char)(a->i != 0);
	switch (a->type) {
	case SIMREC_ATTR_INT:
		t = H5Tcopy(H5T_NATIVE_INT64);
		v = &a->i;
		break;
	case SIMREC_ATTR_UINT:
		t = H5Tcopy(H5T_NATIVE_UINT64);
		v = &a->u;
		break;
	case SIMREC_ATTR_BOOL:
		t = bool_type();
		v = &b;
		break;
	case SIMREC_ATTR_DOUBLE:
		t = H5Tcopy(H5T_NATIVE_DOUBLE);
		v = &a->d;
		break;
	case SIMREC_ATTR_ARRAY:
	case SIMREC_ATTR_EMPTY:
		t = mem_type(a->dtype);
		v = a->data;
		break;
	default:
		t = mem_type(SIMREC_STRING);
		v = &s;
	}
	if (a->type == SIMREC_ATTR_ARRAY) {
		hsize_t n = a->count;
		sp = H5Screate_simple(1, &n, NULL);
	} else {
		/* h5py.Empty: a null dataspace */
		sp = H5Screate(a->type == SIMREC_ATTR_EMPTY ? H5S_NULL
		                                            : H5S_SCALAR);
	}
	hid_t at = H5Acreate2(o, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
	int nothing = a->type == SIMREC_ATTR_EMPTY ||
	              (a->type == SIMREC_ATTR_ARRAY && !a->count);
	rc = at < 0 || (!nothing && H5Awrite(at, t, v) < 0)
	             ? sr_fail(st->err, SIMREC_EIO,
	                       "cannot write attribute '%s' of '%s'", name, key)
	             : 0;
	if (at >= 0)
		H5Aclose(at);
	H5Tclose(t);
	H5Sclose(sp);
	H5Oclose(o);
	return rc;
}

/* A string attribute (scalar; fixed-length or variable, any cset). */
static int attr_string(hid_t at, hid_t t, simrec_attr_t *out)
{
	out->type = SIMREC_ATTR_STRING;
	if (H5Tis_variable_str(t) > 0) {
		char *s = NULL;
		hid_t mt = H5Tcopy(t);
		herr_t e = H5Aread(at, mt, &s);
		out->s = e < 0 ? NULL : strdup(s ? s : "");
		if (e >= 0) {
			hid_t sp = H5Aget_space(at);
			H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, &s);
			H5Sclose(sp);
		}
		H5Tclose(mt);
		return out->s ? 0 : e < 0 ? SIMREC_EIO : SIMREC_ENOMEM;
	}
	size_t n = H5Tget_size(t);
	out->s = calloc(1, n + 1);
	if (!out->s)
		return SIMREC_ENOMEM;
	return H5Aread(at, t, out->s) < 0 ? SIMREC_EIO : 0;
}

static int attr_read(hid_t at, const char *key, const char *name,
                     simrec_attr_t *out, sr_err *e)
{
	hid_t t = H5Aget_type(at), sp = H5Aget_space(at);
	H5S_class_t sc = H5Sget_simple_extent_type(sp);
	int nd = H5Sget_simple_extent_ndims(sp);
	hssize_t npts = H5Sget_simple_extent_npoints(sp);
	H5T_class_t c = H5Tget_class(t);
	simrec_dtype_t dt = SIMREC_FLOAT64;
	const char *why = NULL;
	int known = dtype_of(t, &dt, &why) == 0;
	int rc = 0;
	if (sc == H5S_NULL) {
		out->type = SIMREC_ATTR_EMPTY; /* h5py.Empty */
		out->dtype = known ? dt : SIMREC_FLOAT64;
	} else if (!known) {
		rc = SIMREC_ENOTSUP;
	} else if (sc == H5S_SIMPLE && (nd != 1 || sr_dtype_is_vlen(dt))) {
		why = nd != 1 ? "attributes of more than one dimension"
		              : "attribute arrays of strings";
		rc = SIMREC_ENOTSUP;
	} else if (sc == H5S_SIMPLE) {
		size_t n = (size_t)npts, sz = simrec_dtype_size(dt);
		hid_t mt = mem_type(dt);
		out->type = SIMREC_ATTR_ARRAY;
		out->dtype = dt;
		out->count = n;
		out->data = malloc(n ? n * sz : 1);
		if (!out->data)
			rc = SIMREC_ENOMEM;
		else if (n && H5Aread(at, mt, out->data) < 0)
			rc = SIMREC_EIO;
		H5Tclose(mt);
	} else if (c == H5T_STRING) {
		rc = attr_string(at, t, out);
	} else if (dt == SIMREC_BOOL) {
		signed char b = 0;
		hid_t mt = bool_type();
		out->type = SIMREC_ATTR_BOOL;
		rc = H5Aread(at, mt, &b) < 0 ? SIMREC_EIO : 0;
		H5Tclose(mt);
		out->i = b != 0;
		out->u = (uint64_t)out->i;
		out->d = (double)out->i;
	} else if (dt == SIMREC_UINT64) {
		out->type = SIMREC_ATTR_UINT;
		rc = H5Aread(at, H5T_NATIVE_UINT64, &out->u) < 0 ? SIMREC_EIO
		                                                 : 0;
		out->i = out->u <= INT64_MAX ? (int64_t)out->u : 0;
		out->d = (double)out->u;
	} else if (c == H5T_INTEGER) {
		out->type = SIMREC_ATTR_INT;
		rc = H5Aread(at, H5T_NATIVE_INT64, &out->i) < 0 ? SIMREC_EIO
		                                                : 0;
		out->u = out->i >= 0 ? (uint64_t)out->i : 0;
		out->d = (double)out->i;
	} else if (c == H5T_FLOAT) {
		out->type = SIMREC_ATTR_DOUBLE;
		rc = H5Aread(at, H5T_NATIVE_DOUBLE, &out->d) < 0 ? SIMREC_EIO
		                                                 : 0;
	} else {
		why = "this attribute type";
		rc = SIMREC_ENOTSUP;
	}
	H5Tclose(t);
	H5Sclose(sp);
	if (rc == SIMREC_ENOTSUP)
		return sr_fail(e, rc,
		               "attribute '%s' of '%s': HDF5 %s are not "
		               "supported",
		               name, *key ? key : "/", why);
	if (rc == SIMREC_EIO)
		return sr_fail(e, rc, "cannot read attribute '%s' of '%s'",
		               name, *key ? key : "/");
	return rc;
}

static int attr_get(sr_store *st, const char *key, const char *name,
                    simrec_attr_t *out)
{
	memset(out, 0, sizeof *out);
	hid_t o = open_obj(st, key, 0);
	if (o < 0)
		return SIMREC_ENOKEY;
	if (H5Aexists(o, name) <= 0) {
		H5Oclose(o);
		return SIMREC_ENOKEY;
	}
	hid_t at = H5Aopen(o, name, H5P_DEFAULT);
	int rc = at < 0 ? sr_fail(st->err, SIMREC_EIO,
	                          "cannot open attribute '%s' of '%s'", name,
	                          key)
	                : attr_read(at, key, name, out, st->err);
	if (at >= 0)
		H5Aclose(at);
	H5Oclose(o);
	if (rc)
		simrec_attr_clear(out);
	return rc;
}

typedef struct name_cb {
	sr_attr_fn fn;
	void *arg;
	int rc;
} name_cb;

static herr_t attr_iter(hid_t o, const char *name, const H5A_info_t *info,
                        void *arg)
{
	SR_UNUSED(o);
	SR_UNUSED(info);
	name_cb *c = arg;
	if (!strncmp(name, "_simrec", 7))
		return 0;
	c->rc = c->fn(name, c->arg);
	return c->rc ? 1 : 0;
}

static int attr_list(sr_store *st, const char *key, sr_attr_fn fn, void *arg)
{
	hid_t o = open_obj(st, key, 0);
	if (o < 0)
		return SIMREC_ENOKEY;
	name_cb c = {fn, arg, 0};
	hsize_t idx = 0;
	H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_iter, &c);
	H5Oclose(o);
	return c.rc;
}

typedef struct list_cb {
	sr_list_fn fn;
	void *arg;
	const char *prefix;
	int rc, bad;
	char badmsg[4200];
} list_cb;

static herr_t link_iter(hid_t g, const char *name, const H5L_info_t *info,
                        void *arg)
{
	list_cb *c = arg;
	H5O_info_t oi;
	char key[4096];
	if (!strncmp(name, ".simrec", 7))
		return 0; /* a value being set (H5_NEW): not a key yet */
	snprintf(key, sizeof key, "%s%s%s", c->prefix, *c->prefix ? "/" : "",
	         name);
	if (H5Oget_info_by_name(g, name, &oi, H5P_DEFAULT) < 0) {
		/* reported after the walk: the rest is still listed */
		if (!c->bad) {
			c->bad = SIMREC_EFORMAT;
			snprintf(c->badmsg, sizeof c->badmsg,
			         "'%s' is a %s link that cannot be followed "
			         "(dangling, or its file is missing)",
			         key,
			         info->type == H5L_TYPE_SOFT       ? "soft"
			         : info->type == H5L_TYPE_EXTERNAL ? "external"
			                                           : "");
		}
		return 0;
	}
	c->rc = c->fn(key, oi.type == H5O_TYPE_DATASET, c->arg);
	return c->rc ? 1 : 0;
}

static int list(sr_store *st, const char *prefix, sr_list_fn fn, void *arg)
{
	h5_store *h = st->impl;
	if (*prefix && !exists(h->file, prefix))
		return 0;
	if (*prefix && is_group(h->file, prefix) <= 0)
		return fn(prefix, 1, arg);
	char p[4096];
	hid_t g =
	        H5Gopen2(h->file, *prefix ? path_of(prefix, p, sizeof p) : "/",
	                 H5P_DEFAULT);
	if (g < 0)
		return SIMREC_EIO;
	if (*prefix) {
		int rc = fn(prefix, 0, arg);
		if (rc) {
			H5Gclose(g);
			return rc;
		}
	}
	list_cb c = {.fn = fn, .arg = arg, .prefix = prefix};
	H5Lvisit(g, H5_INDEX_NAME, H5_ITER_INC, link_iter, &c);
	H5Gclose(g);
	if (!c.rc && c.bad)
		return sr_fail(st->err, c.bad, "%.400s in '%s'", c.badmsg,
		               st->uri.path);
	return c.rc;
}

static char *h5_describe(sr_store *st, void *ds, const sr_meta *m)
{
	SR_UNUSED(m);
	h5_ds *d = ds;
	if (ds_begin(st, d))
		return NULL;
	hid_t dcpl = H5Dget_create_plist(d->dset);
	int nf = H5Pget_nfilters(dcpl);
	char filters[256] = "";
	int off = 0;
	for (int i = 0; i < nf && off < (int)sizeof filters - 40; i++) {
		unsigned flags, cd[8];
		size_t ncd = 8;
		char fname[64] = "";
		H5Z_filter_t f = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd,
		                                cd, sizeof fname, fname, NULL);
		off += snprintf(filters + off, sizeof filters - (size_t)off,
		                "%s{\"id\": %d, \"name\": \"%s\"}",
		                i ? ", " : "", (int)f, fname);
	}
	H5Pclose(dcpl);
	char *out = malloc(400);
	if (out)
		snprintf(out, 400,
		         "{\"filters\": [%s], \"stored_bytes\": %llu}", filters,
		         (unsigned long long)H5Dget_storage_size(d->dset));
	ds_end(st, d);
	return out;
}

/* reopen mode: each of these opens the file for the call */
static int h5_attr_get(sr_store *st, const char *key, const char *name,
                       simrec_attr_t *out)
{
	int rc = file_begin(st);
	if (!rc)
		rc = attr_get(st, key, name, out);
	file_end(st);
	return rc;
}

static int h5_attr_list(sr_store *st, const char *key, sr_attr_fn fn, void *arg)
{
	int rc = file_begin(st);
	if (!rc)
		rc = attr_list(st, key, fn, arg);
	file_end(st);
	return rc;
}

static int h5_list(sr_store *st, const char *prefix, sr_list_fn fn, void *arg)
{
	int rc = file_begin(st);
	if (!rc)
		rc = list(st, prefix, fn, arg);
	file_end(st);
	return rc;
}

static long long h5_disk_bytes(sr_store *st)
{
	struct stat sb;
	return stat(st->uri.path, &sb) ? -1 : (long long)sb.st_blocks * 512;
}

/* ---- HDF5 error printing off inside simrec's calls only -------------- */

/* HDF5 prints its error stack by default; simrec turns failures into
 * SIMREC_E* codes, so it silences printing for the duration of each of its
 * own calls and gives the host application back its own setting. */
#define QUIET(type, expr)                              \
	do {                                           \
		H5E_auto2_t f_ = NULL;                 \
		void *d_ = NULL;                       \
		H5Eget_auto2(H5E_DEFAULT, &f_, &d_);   \
		H5Eset_auto2(H5E_DEFAULT, NULL, NULL); \
		type r_ = (expr);                      \
		H5Eset_auto2(H5E_DEFAULT, f_, d_);     \
		return r_;                             \
	} while (0)

static int q_open(sr_store *st)
{
	QUIET(int, h5_open(st));
}
static int q_close(sr_store *st)
{
	QUIET(int, h5_close(st));
}
static int q_commit(sr_store *st)
{
	QUIET(int, h5_commit(st));
}
static int q_lookup(sr_store *st, const char *key, sr_meta *m, void **ds)
{
	QUIET(int, h5_lookup(st, key, m, ds));
}
static int q_create(sr_store *st, const char *key, const sr_meta *m, void **ds)
{
	QUIET(int, h5_create(st, key, m, ds));
}
static int q_write(sr_store *st, void *ds, const sr_meta *m,
                   const size_t *start, const size_t *count, const void *data)
{
	QUIET(int, h5_write(st, ds, m, start, count, data));
}
static int q_write_vlen(sr_store *st, void *ds, const sr_meta *m, size_t row0,
                        size_t n, const sr_blob *items)
{
	QUIET(int, h5_write_vlen(st, ds, m, row0, n, items));
}
static int q_check_vlen(sr_store *st, void *ds, const sr_meta *m,
                        const sr_blob *item)
{
	QUIET(int, h5_check_vlen(st, ds, m, item));
}
static int q_read(sr_store *st, void *ds, const sr_meta *m, const size_t *start,
                  const size_t *count, void *buf)
{
	QUIET(int, h5_read(st, ds, m, start, count, buf));
}
static int q_read_vlen(sr_store *st, void *ds, const sr_meta *m, size_t index,
                       sr_blob *out)
{
	QUIET(int, h5_read_vlen(st, ds, m, index, out));
}
static void q_release(sr_store *st, void *ds)
{
	H5E_auto2_t f = NULL;
	void *d = NULL;
	H5Eget_auto2(H5E_DEFAULT, &f, &d);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	h5_release(st, ds);
	H5Eset_auto2(H5E_DEFAULT, f, d);
}
static int q_attr_set(sr_store *st, const char *key, const char *name,
                      const simrec_attr_t *a)
{
	QUIET(int, h5_attr_set(st, key, name, a));
}
static int q_attr_get(sr_store *st, const char *key, const char *name,
                      simrec_attr_t *out)
{
	QUIET(int, h5_attr_get(st, key, name, out));
}
static int q_attr_list(sr_store *st, const char *key, sr_attr_fn fn, void *arg)
{
	QUIET(int, h5_attr_list(st, key, fn, arg));
}
static int q_list(sr_store *st, const char *prefix, sr_list_fn fn, void *arg)
{
	QUIET(int, h5_list(st, prefix, fn, arg));
}
static char *q_describe(sr_store *st, void *ds, const sr_meta *m)
{
	QUIET(char *, h5_describe(st, ds, m));
}
static int q_check(sr_store *st, void *ds, const sr_meta *m, size_t *whole)
{
	QUIET(int, h5_check(st, ds, m, whole));
}

static int q_encoded_codec(sr_store *st, void *ds, sr_codec *c)
{
	QUIET(int, h5_encoded_codec(st, ds, c));
}
static int q_write_encoded(sr_store *st, void *ds, const sr_meta *m, size_t n,
                           const size_t *idx, const void *const *frames,
                           const size_t *lens)
{
	QUIET(int, h5_write_encoded(st, ds, m, n, idx, frames, lens));
}

const sr_store_ops sr_hdf5_ops = {
        .version = SR_STORE_OPS_VERSION,
        .scheme = "hdf5",
        .flags = SR_STORE_COLLECTIVE | SR_STORE_SHARED_FILE |
                 SR_STORE_FLUSH_IN_LOCK,
        .default_codec = "none",
        .default_chunk_bytes = 1u << 20,
        .open = q_open,
        .close = q_close,
        .commit = q_commit,
        .lookup = q_lookup,
        .create = q_create,
        .write = q_write,
        .write_vlen = q_write_vlen,
        .check_vlen = q_check_vlen,
        .read = q_read,
        .read_vlen = q_read_vlen,
        .release = q_release,
        .attr_set = q_attr_set,
        .attr_get = q_attr_get,
        .attr_list = q_attr_list,
        .list = q_list,
        .disk_bytes = h5_disk_bytes,
        .describe = q_describe,
        .check = q_check,
        .encoded_codec = q_encoded_codec,
        .write_encoded = q_write_encoded,
};
