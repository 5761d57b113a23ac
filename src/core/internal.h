/* Internal declarations shared by the core, the datastores and the MPI
 * aggregation. Not installed. */
#ifndef SIMREC_INTERNAL_H
#define SIMREC_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include "simrec.h"

#define SR_ERRLEN 512

/* Error sink: every failure writes its detail here (key, file, rank). */
typedef struct sr_err {
	char msg[SR_ERRLEN];
} sr_err;

/* Record the detail of a failure and return status (always < 0). */
int sr_fail(sr_err *e, int status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Metadata of one dataset as the stores keep it. */
typedef struct sr_meta {
	simrec_dtype_t dtype;
	int ndim; /* dataset rank, record dimension included (if any) */
	size_t shape[SIMREC_MAX_NDIM];
	size_t chunks[SIMREC_MAX_NDIM];
	int is_value; /* read whole by simrec_get(): 1 from simrec_set();
	                 another program's array: 2 fixed-size, 3 contiguous
	                 (no appends), 4 growable (records append along its
	                 first dimension) */
} sr_meta;

/* A byte string (vlen element). */
typedef struct sr_blob {
	void *data;
	size_t len;
} sr_blob;

size_t sr_meta_elems(const sr_meta *m);       /* prod(shape) */
size_t sr_row_elems(const sr_meta *m);        /* prod(shape[1:]) */
int sr_dtype_is_vlen(simrec_dtype_t dt);      /* BYTES or STRING */
const char *sr_dtype_zarr(simrec_dtype_t dt); /* "<f4", "|O", ... */
int sr_dtype_from_zarr(const char *s, simrec_dtype_t *dt);

/* Chunk shape for a dataset of records of shape (ndim, shape), itemsize
 * bytes each, aiming at target bytes per chunk. Writes ndim + 1 extents. */
void sr_chunk_shape(int ndim, const size_t *shape, size_t itemsize,
                    size_t target, size_t *chunks);

/* Parsed store URI: scheme, path, and query parameters. */
#define SR_MAX_PARAMS 16
typedef struct sr_uri {
	char *scheme; /* "zarr", "zarr+dir", "hdf5", "memory", "redis" */
	char *path;   /* after "scheme:" (for redis: the whole URI) */
	int nparams;
	char *keys[SR_MAX_PARAMS];
	char *vals[SR_MAX_PARAMS];
	char *buf;
} sr_uri;

int sr_uri_parse(const char *text, sr_uri *u, sr_err *e);
void sr_uri_free(sr_uri *u);
const char *sr_uri_param(const sr_uri *u, const char *key);

/* Compression settings after URI parameters were applied. */
typedef struct sr_codec {
	char cname[16]; /* blosc codec name, or "none", or "deflate" (HDF5) */
	int level;
	int shuffle;
	int nthreads;
} sr_codec;

/* ---- datastore table --------------------------------------------------- */

typedef struct sr_store sr_store;

/* Flags a backend declares. */
enum {
	SR_STORE_COLLECTIVE = 1,  /* open/write are collective over st->comm */
	SR_STORE_ONE_NODE = 2,    /* writers must share one node (LMDB) */
	SR_STORE_DISTRIBUTED = 4, /* every rank writes itself (redis) */
	SR_STORE_SHARED_FILE = 8, /* several writers may share it */
	SR_STORE_FLUSH_IN_LOCK = 16 /* commit before releasing the lock */
};

typedef int (*sr_list_fn)(const char *key, int is_dataset, void *arg);
typedef int (*sr_attr_fn)(const char *name, void *arg);

/*
 * The operations of a datastore, filled with designated initializers.
 * Every function returns 0 or a SIMREC_E* code and writes a detail through
 * sr_fail(st->err, ...). `ds` is the backend's handle of one dataset.
 */
typedef struct sr_store_ops {
	int version; /* SR_STORE_OPS_VERSION */
	const char *scheme;
	unsigned flags;
	int (*open)(sr_store *st);
	int (*close)(sr_store *st);
	/* make everything written so far durable and visible to readers */
	int (*commit)(sr_store *st);
	/* metadata of an existing dataset: ENOKEY if absent, EKIND if group */
	int (*lookup)(sr_store *st, const char *key, sr_meta *m, void **ds);
	/* create a dataset (replacing an existing dataset of that key) */
	int (*create)(sr_store *st, const char *key, const sr_meta *m,
	              void **ds);
	/* write hyperslab start/count (dataset dims; start aligned to
	 * chunks) of m's dataset and set its extent along dim 0 to m->shape[0]
	 */
	int (*write)(sr_store *st, void *ds, const sr_meta *m,
	             const size_t *start, const size_t *count,
	             const void *data);
	/* vlen datasets: write items row0 .. row0+n-1, extent m->shape[0] */
	int (*write_vlen)(sr_store *st, void *ds, const sr_meta *m, size_t row0,
	                  size_t n, const sr_blob *items);
	int (*read)(sr_store *st, void *ds, const sr_meta *m,
	            const size_t *start, const size_t *count, void *buf);
	/* read one vlen item; out->data is malloc'd, caller frees */
	int (*read_vlen)(sr_store *st, void *ds, const sr_meta *m, size_t index,
	                 sr_blob *out);
	void (*release)(sr_store *st, void *ds);
	int (*attr_set)(sr_store *st, const char *key, const char *name,
	                const simrec_attr_t *a);
	int (*attr_get)(sr_store *st, const char *key, const char *name,
	                simrec_attr_t *out);
	int (*attr_list)(sr_store *st, const char *key, sr_attr_fn fn,
	                 void *arg);
	int (*list)(sr_store *st, const char *prefix, sr_list_fn fn, void *arg);
	/* bytes the store occupies (for info/summary), or -1 if unknown */
	long long (*disk_bytes)(sr_store *st);
	/* optional: store-specific facts about a dataset as a JSON object
	 * text (malloc'd): "compressor", "stored_bytes", ... */
	char *(*describe)(sr_store *st, void *ds, const sr_meta *m);
} sr_store_ops;

#define SR_STORE_OPS_VERSION 1

struct sr_store {
	const sr_store_ops *ops;
	sr_uri uri;
	simrec_mode_t mode;
	sr_codec codec;
	size_t chunk_bytes;
	MPI_Comm comm;   /* MPI_COMM_NULL: serial (no MPI calls) */
	int meta_writer; /* this process updates shared metadata */
	sr_err *err;
	void *impl;
	simrec_lock_t *lock; /* "?lock=redis://...": guards writes and reads */
};

/* With a lock: take it around a write section / a read (no-ops without).
 * sr_lock_write_begin checks the fencing token recorded in the store. */
int sr_lock_write_begin(sr_store *st);
int sr_lock_write_end(sr_store *st, int status);
int sr_lock_read_begin(sr_store *st);
void sr_lock_read_end(sr_store *st);

/* Registry lookup by scheme; NULL if unknown. */
const sr_store_ops *sr_store_find(const char *scheme);

/* Open a store from a URI (applies defaults and URI parameters). */
int sr_store_open(const char *uri, const simrec_options_t *o, MPI_Comm comm,
                  int meta_writer, sr_err *e, sr_store **out);
void sr_store_close(sr_store *st, int *status);

/* Helpers shared by stores. */
int sr_key_valid(const char *key);
/* Parent of key ("a/b/c" -> "a/b"); "" for top-level keys. malloc'd. */
char *sr_key_parent(const char *key);
/* Copy a hyperslab between a dense array (dims shape) at offset dstart
 * and a dense block of extents count. dir 0: array -> block, 1: back. */
void sr_copy_slab(int ndim, const size_t *shape, const size_t *astart,
                  const size_t *count, size_t itemsize, void *array,
                  void *block, int to_array);
/* Same as sr_copy_slab but between two arrays of different shapes:
 * copy region count from src (shape sshape, at sstart) to dst (dshape, at
 * dstart). */
void sr_copy_region(int ndim, size_t itemsize, const void *src,
                    const size_t *sshape, const size_t *sstart, void *dst,
                    const size_t *dshape, const size_t *dstart,
                    const size_t *count);

/* Grow the buffer *p (capacity *cap) to hold need bytes, doubling;
 * SIMREC_ENOMEM leaves it unchanged. */
int sr_grow(void **p, size_t *cap, size_t need);

/* Is the MPI library initialised (and not finalised)? */
int sr_mpi_active(void);

#define SR_UNUSED(x) (void)(x)

#endif
