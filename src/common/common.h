/* The bottom layer: declarations every other folder of src/ may use
 * (errors, dtypes, keys, URIs, metadata, strided copies, checked sizes).
 * Nothing here calls up into store/, core/ or mpi/. Not installed. */
#ifndef SIMREC_COMMON_H
#define SIMREC_COMMON_H

#include <stdarg.h>
#include <stddef.h>

#include "simrec.h"
#include "size.h"
#include "strv.h"

#define SR_ERRLEN 512

/* Error sink: every failure writes its detail here (key, file, rank). */
typedef struct sr_err {
	char msg[SR_ERRLEN];
} sr_err;

/* Record the detail of a failure and return status (always < 0). With
 * SIMREC_TRACE=1 in the environment, each failure also prints the file and
 * line that reported it on stderr (the first line printed is the origin). */
#define sr_fail(e, status, ...) \
	sr_fail_at(__FILE__, __LINE__, (e), (status), __VA_ARGS__)
int sr_fail_at(const char *file, int line, sr_err *e, int status,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Wrap the failure already in e (the target's message, written by a
 * lower layer) in its context: "CONTEXT: DETAIL", CONTEXT from fmt (DETAIL
 * is simrec_strerror(status) if the lower layer wrote none). Returns
 * status. */
#define sr_wrap(e, status, ...) \
	sr_wrap_at(__FILE__, __LINE__, (e), (status), __VA_ARGS__)
int sr_wrap_at(const char *file, int line, sr_err *e, int status,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A thread whose failures must not touch the sink its callee names (the
 * recorder's I/O thread, while the caller's thread goes on): every
 * sr_fail of this thread writes to `to` instead (NULL: as named). Returns
 * the thread's previous target, to put back. */
sr_err *sr_err_redirect(sr_err *to);
/* The sink sr_fail writes to in this thread when e is named. */
sr_err *sr_err_target(sr_err *e);

/* What a stored dataset is to simrec. */
typedef enum sr_kind {
	SR_RECORDS = 0,     /* simrec's records: they append along dim 0, and
	                       simrec_get() reads the last one */
	SR_VALUE = 1,       /* a value from simrec_set(): read whole */
	SR_FIXED_ARRAY = 2, /* another program's array of fixed size (not
	                       extendible, no record marker): read whole */
	SR_CONTIGUOUS_ARRAY = 3, /* another program's contiguous array (not
	                            chunked, so no appends): read whole */
	SR_GROWABLE_ARRAY = 4,   /* another program's growable array: read
	                            whole; records append along dim 0 */
} sr_kind;

/* Records may be appended to a dataset of kind k (and cut back). */
static inline int sr_kind_appends(sr_kind k)
{
	return k == SR_RECORDS || k == SR_GROWABLE_ARRAY;
}

/* Metadata of one dataset as the stores keep it. */
typedef struct sr_meta {
	simrec_dtype_t dtype;
	int ndim; /* dataset rank, record dimension included (if any) */
	size_t shape[SIMREC_MAX_NDIM];
	size_t chunks[SIMREC_MAX_NDIM];
	sr_kind kind;
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
#define SR_FILL_MAX 16 /* bytes of the largest element (complex128) */
int sr_dtype_from_zarr(const char *s, simrec_dtype_t *dt);

/* Chunk shape for a dataset of records of shape (ndim, shape), itemsize
 * bytes each, aiming at target bytes per chunk. Writes ndim + 1 extents. */
void sr_chunk_shape(int ndim, const size_t *shape, size_t itemsize,
                    size_t target, size_t *chunks);
/* The next chunk index in the box [lo, hi] (inclusive), row-major: idx
 * steps like an odometer; 0 when it has passed hi (idx is back at lo). */
int sr_chunk_next(int ndim, const size_t *lo, const size_t *hi, size_t *idx);
/* Is a region of extents n inside an array of extents shape (row-major)
 * one contiguous run of the array? It is when every extent after the
 * first one above 1 is the array's whole extent (a chunk of whole rows
 * of a record is one run of it, whatever its place). */
int sr_region_contiguous(int ndim, const size_t *n, const size_t *shape);

/* A store URI, parsed once: "scheme:path?key=value&...". Every layer reads
 * this struct; nothing parses a URI text again. */
#define SR_MAX_PARAMS 16
#define SR_MAX_STORES 8
typedef struct sr_uri {
	char *scheme; /* "zarr", "zarr+dir", "hdf5", "memory", "redis" */
	char *path;   /* after "scheme:" (for a server: the whole URI) */
	int server;   /* a server's URI (scheme://...): see sr_server_scheme */
	int nparams;
	char *keys[SR_MAX_PARAMS];
	char *vals[SR_MAX_PARAMS];
	const char *lock; /* the ?lock= server URL, or NULL */
	char *text;       /* the URI as written (trimmed) */
	char *name;       /* the store in messages: the URI without its query
	                     ("zarr:run.zarr", "redis://host:6379") */
	char *buf;
} sr_uri;

/* The scheme (its first n bytes) names a server, whose URI is kept whole
 * and whose store's scheme is the one this returns ("redis" for redis
 * and rediss); NULL if not. The one place that knows such schemes. */
const char *sr_server_scheme(const char *s, size_t n);
int sr_uri_parse(const char *text, sr_uri *u, sr_err *e);
void sr_uri_free(sr_uri *u);
const char *sr_uri_param(const sr_uri *u, const char *key);
/* A copy of a parsed URI (nothing parsed again); 0 or SIMREC_ENOMEM. */
int sr_uri_copy(const sr_uri *from, sr_uri *to, sr_err *e);

/* The ';'-separated list a recorder opens (one recorder, several stores). */
typedef struct sr_uri_list {
	int n;
	sr_uri u[SR_MAX_STORES];
} sr_uri_list;

int sr_uri_list_parse(const char *text, sr_uri_list *l, sr_err *e);
void sr_uri_list_free(sr_uri_list *l);

/* The URI list a recorder opens: SIMREC_STORE, when set, replaces the
 * given list for writers (any mode but read-only) and never for readers.
 * The one place where SIMREC_STORE is read. */
const char *sr_uri_choose(const char *given, simrec_mode_t mode);

/* The name of a store as a lock resource, the same however the store was
 * spelled: "scheme:PATH" with PATH made absolute and free of symbolic
 * links, "./", ".." and repeated or trailing slashes (the parent resolved
 * when the store does not exist yet); "redis:redis://HOST:PORT[/DB]..."
 * without user or password. Other text is copied. */
void sr_resource_name(const char *in, char *out, size_t cap);

/* Parse a size with an optional binary unit: "64k", "8M", "4G", "1T";
 * plain digits are bytes. -1 on a malformed or overflowing value. */
int sr_parse_size(const char *v, size_t *out);
/* A non-negative decimal integer (no sign, no space, no unit) into *out;
 * -1 if malformed or past LONG_MAX. */
int sr_parse_count(const char *v, long *out);
/* A positive number of seconds below 1e9 into *out; -1 otherwise. */
int sr_parse_seconds(const char *v, double *out);

/* Compression settings after URI parameters were applied. */
typedef struct sr_codec {
	char cname[16]; /* blosc codec name, or "none", or "deflate" (HDF5) */
	int level;
	int shuffle;
	int nthreads;
} sr_codec;

typedef int (*sr_list_fn)(const char *key, int is_dataset, void *arg);
typedef int (*sr_attr_fn)(const char *name, void *arg);

/* Keys, copies and buffers. A valid key has '/'-separated parts, none
 * empty, ".", "..", starting with ".z" (zarr metadata) or with ".simrec"
 * (reserved: temporary files are named SR_TMP_PREFIX...). */
#define SR_TMP_PREFIX ".simrec-tmp-"
int sr_key_valid(const char *key);
/* The key as stores spell it: NULL and "/" (the root) become "". */
const char *sr_key_root(const char *key);
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
/* The same for an array of elements of size bytes each: *cap and need
 * count elements (doubling from 16); need * size past SR_SIZE_MAX is
 * SIMREC_ENOMEM too, never a wrapped allocation. Every growing array of
 * src/ grows through one of these two. */
int sr_grow_n(void **p, size_t *cap, size_t need, size_t size);
/* sr_grow_n for an array pointer a (any element type) and its capacity
 * field: room for need elements of sizeof *a. */
#define SR_GROW_N(a, cap, need) \
	sr_grow_n((void **)&(a), &(cap), (need), sizeof *(a))

/* Run fn(arg, i, worker) for every i < n on at most nthreads threads
 * (the caller's is worker 0; worker < nthreads), items taken in order;
 * returns when all are done, with the number of workers that ran. The
 * threads live for this call only. */
#define SR_POOL_MAX 256
int sr_parallel(int nthreads, size_t n,
                void (*fn)(void *arg, size_t i, int worker), void *arg);

/* Is the MPI library initialised (and not finalised)? */
int sr_mpi_active(void);

#define SR_UNUSED(x) (void)(x)

#endif
