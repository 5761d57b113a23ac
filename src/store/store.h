/* The datastore table: what every store implements, and the generic layer
 * above the stores (URI parameters, open/close, the ?lock= wrapper).
 *
 * Layering: core/ calls only the functions and table below; a store's
 * folder (zarr/, hdf5/, redis/) calls only its own files, this generic
 * layer, lock/, redis/, codec/ and common/. See src/README.md. */
#ifndef SIMREC_STORE_H
#define SIMREC_STORE_H

#include "../common/common.h"
#include "settings.h"

typedef struct sr_store sr_store;

/* Flags a backend declares. */
enum {
	SR_STORE_COLLECTIVE = 1,  /* open/write are collective over st->comm */
	SR_STORE_ONE_NODE = 2,    /* writers must share one node (LMDB) */
	SR_STORE_DISTRIBUTED = 4, /* every rank writes itself (redis) */
	SR_STORE_SHARED_FILE = 8, /* several writers may share it */
	SR_STORE_FLUSH_IN_LOCK = 16, /* commit before releasing the lock */
	SR_STORE_NO_PATH = 32,       /* the URI needs no path (memory:) */
	/* several writers may append to one dataset: each keeps the extent
	 * at the commit mark every writer reached (sr_store.hold_extent) */
	SR_STORE_HOLD_EXTENT = 64,
	/* each process holds a store of its own (memory:): the rows of a
	 * global array all go to writer 0, so that its reads see them whole */
	SR_STORE_PRIVATE = 128,
	/* a commit's notification may come before readers see the commit
	 * (LMDB publishes its transaction in shared memory after writing the
	 * file): a follower woken with nothing new looks again shortly */
	SR_STORE_NOTIFY_EARLY = 256,
};

/*
 * The operations of a datastore, filled with designated initializers.
 * Every function returns 0 or a SIMREC_E* code and writes a detail through
 * sr_fail(st->err, ...). `ds` is the backend's handle of one dataset.
 */
typedef struct sr_store_ops {
	int version; /* SR_STORE_OPS_VERSION */
	const char *scheme;
	unsigned flags;
	/* the store's own defaults, and its bit in the STORES column of
	 * SR_URI_PARAMS (settings.h): the URI parameters it accepts */
	const char *default_codec; /* "lz4", "none", ... */
	size_t default_chunk_bytes;
	unsigned param_bit; /* SR_IN_* */
	/* codecs the store writes besides blosc's and "none" (NULL: none):
	 * names separated by ", " as messages list them, "deflate, lzf" */
	const char *extra_codecs;
	/* the URI parameter that is part of the store's lock name (two
	 * stores on one server with different prefixes are different
	 * resources), and its value when absent; NULL: none */
	const char *lock_param, *lock_param_default;
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
	/* optional: may this vlen item be recorded into ds at all? Asked
	 * before the item is batched, so a refused record fails at once
	 * and nothing of it is stored */
	int (*check_vlen)(sr_store *st, void *ds, const sr_meta *m,
	                  const sr_blob *item);
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
	/* optional: examine every chunk inside the shape; *whole = leading
	 * rows whose chunks are all present and sound; if any chunk is not,
	 * SIMREC_EFORMAT from sr_store_torn, naming every torn step (bounded)
	 * and why */
	int (*check)(sr_store *st, void *ds, const sr_meta *m, size_t *whole);
	/* optional: check without decoding: every chunk present, and a
	 * compressed one's frame header fitting the chunk (a reader's decode
	 * finds the rest); NULL: check decodes nothing anyway */
	int (*check_stored)(sr_store *st, void *ds, const sr_meta *m,
	                    size_t *whole);
	/* optional, with write_encoded: 1 and *c if ds's chunks are stored
	 * as the blosc frames that sr_codec_encode makes with *c (so a frame
	 * encoded elsewhere can be stored as it is), else 0 */
	int (*encoded_codec)(sr_store *st, void *ds, sr_codec *c);
	/* optional: store n chunks already encoded (frames[i] of lens[i]
	 * bytes, whole chunks at grid index idx[i*m->ndim ..]) unchanged,
	 * and set the extent along dim 0 to m->shape[0] exactly as write
	 * does (hold_extent included) */
	int (*write_encoded)(sr_store *st, void *ds, const sr_meta *m, size_t n,
	                     const size_t *idx, const void *const *frames,
	                     const size_t *lens);
	/* optional (the lock store): SIMREC_ELOCK, with its message, if a
	 * newer writer took the store over since this writer opened it,
	 * else 0; asked before each record so that a fenced writer learns
	 * it at its next call, not at its next chunk write */
	int (*fenced)(sr_store *st);
	/* optional (SR_STORE_DISTRIBUTED): the records dataset ds, just
	 * created, gets its rows from several writers, each writing lists of
	 * cols columns of dimension 1; the store makes every list count
	 * from now on, so that no step shows until every list holds it,
	 * also a list whose writer failed before its first write. Called on
	 * the meta writer before any writer writes to ds. */
	int (*split)(sr_store *st, void *ds, const sr_meta *m, size_t cols);
	/* optional (simrec_follow): arm the notification of the commits
	 * that may change key's record count or the finished mark; a commit
	 * made after it returns wakes the next notify_wait. SIMREC_ENOTSUP
	 * (with its message) if the store cannot be followed. A store
	 * without it is only looked at every ?poll= seconds. */
	int (*notify_arm)(sr_store *st, const char *key);
	/* optional: wait at most `seconds` for a notification armed before:
	 * 1 if one came, 0 if the time ran out. NULL: the inotify watches of
	 * sr_watch_add (watch.c) */
	int (*notify_wait)(sr_store *st, double seconds);
} sr_store_ops;

#define SR_STORE_OPS_VERSION 2

/* The finished mark (core/follow.c, docs/format.md): a boolean root
 * attribute a writer sets at its close. Named here so that a store that
 * cannot add an attribute late (HDF5 in SWMR mode) can make room for it
 * while it still can. */
#define SR_FINISHED_ATTR "_simrec_finished"

struct sr_store {
	const sr_store_ops *ops;
	/* the flags of the store that holds the data: ops->flags, or under
	 * ?lock= the wrapped store's (copied with it); test these, not
	 * ops->flags, for what the data's store does */
	unsigned flags;
	sr_uri uri;      /* parsed once (a copy owned by the store) */
	sr_settings set; /* its parameters, parsed once at open */
	simrec_mode_t mode;
	sr_codec codec;
	size_t chunk_bytes;
	MPI_Comm comm;   /* MPI_COMM_NULL: serial (no MPI calls) */
	int meta_writer; /* this process updates shared metadata */
	/* other processes may change the store between two lock sections
	 * (a ?lock= store): cache nothing across operations */
	int shared;
	/* several writers append to one dataset: writes keep the extent at
	 * the commit mark the caller passes (chunks past it stay invisible)
	 * and a write of zero rows only publishes a new extent */
	int hold_extent;
	sr_err *err;
	void *impl;
	/* seconds spent (by the thread that writes) compressing chunks,
	 * writing them and making them durable: the I/O summary */
	double t_encode, t_write, t_sync;
	/* watch.c: the inotify descriptor of a follower (-1 or 0: none
	 * yet; kept as fd + 1 so that a zeroed store holds none) */
	int watch_fd1;
	/* the last read's parts, for the I/O summary of reads (a store that
	 * fills none shows the read's time alone): seconds fetching stored
	 * chunks and decoding them (summed over the threads), chunks, stored
	 * bytes, threads that decoded */
	double r_fetch, r_decode;
	size_t r_chunks, r_stored;
	int r_threads;
};

/* Registry lookup by scheme; NULL if unknown. */
const sr_store_ops *sr_store_find(const char *scheme);

/* Open the store of a parsed URI (defaults, options, then URI
 * parameters; wrapped in the lock store when the URI has ?lock=). */
int sr_store_open(const sr_uri *uri, const simrec_options_t *o, MPI_Comm comm,
                  int meta_writer, sr_err *e, sr_store **out);
/* Close st; the first failure is kept in *status (if not NULL). */
void sr_store_close(sr_store *st, int *status);

/* The parameters of u, each one the store accepts (ops->param_bit) and
 * well-formed for its kind, parsed into *s; else SIMREC_EURI naming it. */
int sr_settings_parse(const sr_uri *u, const sr_store_ops *ops, sr_settings *s,
                      sr_err *e);

/* The lock resource that names st ("scheme:canonical path", a redis
 * store with its prefix), without secrets: what ?lock= clients lock. */
void sr_store_lock_name(const sr_store *st, char *out, size_t cap);

/* What a store's check op found torn, in chunk rows along dim 0: at most
 * SR_TORN_RANGES ranges of consecutive rows with one reason each, in
 * ascending order; torn steps past them are only counted (a hostile store
 * claiming 2^40 steps gets a message of bounded length). Zero it first. */
#define SR_TORN_RANGES 8
typedef struct sr_torn {
	size_t n;    /* ranges kept in r */
	size_t more; /* torn steps after the kept ranges */
	size_t nbad; /* bad chunks, all of them */
	size_t last; /* the last row added (n or more nonzero) */
	struct {
		size_t row0, row1; /* chunk rows, inclusive */
		const char *why;   /* a static string: "chunk missing", ... */
	} r[SR_TORN_RANGES];
	char first[208]; /* optional: the first bad chunk and its error */
	size_t probes;   /* chunks examined after the first bad one */
	int stopped;     /* examined only the steps before stop */
	size_t stop;
} sr_torn;

/* Chunks a check examines after the first bad one: what --repair keeps is
 * known by then, and a hostile shape (2^40 steps, none written) must not
 * keep verify busy for hours. */
#define SR_TORN_PROBES ((size_t)1 << 18)

/* Call before examining each chunk of row `row`: 1 (t->stopped) if
 * the check should stop here, its budget after the first bad chunk
 * spent. */
int sr_torn_stop(sr_torn *t, const sr_meta *m, size_t row);

/* Add one bad chunk of chunk row `row` (rows come in ascending order; a
 * row already added keeps its first reason). */
void sr_torn_add(sr_torn *t, const sr_meta *m, size_t row, const char *why);

/* The failure of a store's check op: if t holds no bad chunk, 0 with
 * *whole = m->shape[0]; else *whole = the steps before the first torn one
 * and SIMREC_EFORMAT with "steps 4 (chunk missing), 8-9 (chunk does not
 * decode) of 'KEY' in 'PATH' are not whole (3 bad chunk(s))", ranges in
 * steps, ", ... and N more step(s)" past the kept ones, "; steps from S on not
 * examined (...)" if the check stopped at S (sr_torn_stop), then
 * "; first bad chunk FIRST" if t->first is set. */
int sr_store_torn(sr_store *st, const char *key, const sr_meta *m,
                  const sr_torn *t, size_t *whole);

/* watch.c: live follow of the file stores. Watch path (a file or a
 * directory) for changes with inotify; a path that does not exist, or a
 * system without inotify, is no error: the follower then relies on its
 * polling. Watches are kept until sr_watch_close. */
int sr_watch_add(sr_store *st, const char *path);
/* Wait at most `seconds` for a change to a watched path (or just wait,
 * with nothing watched), then drain the events: 1 if there were any. */
int sr_watch_wait(sr_store *st, double seconds);
void sr_watch_close(sr_store *st);
/* The store's notify ops, or the defaults above (follow.c of core/ calls
 * only these). */
int sr_store_notify_arm(sr_store *st, const char *key);
int sr_store_notify_wait(sr_store *st, double seconds);

/* The store as messages name it: a file store's path; a server's URI
 * without its query, but with ?prefix= (the store's lock_param) when set,
 * which tells two stores of one server apart. */
const char *sr_store_name(const sr_store *st);

/* The lock store (locked.c): wraps inner so that every operation runs in
 * a read or write section of the lock named by the URI's ?lock=. Takes
 * ownership of inner (closed with the wrapper). */
int sr_locked_wrap(sr_store *inner, sr_store **out);

/* owner.c: one writer per store (zarr:, zarr+dir:). Take the writer lock
 * file beside the store (*fd: its descriptor, kept until release), or fail
 * with SIMREC_ELOCK naming the holder's host, pid and job; a holder of this
 * host that is gone is reported on stderr and replaced. */
int sr_owner_take(const char *store, int *fd, sr_err *e);
/* After the store was opened (made): the writer lock names it, so that a
 * later writer finding the lock of a store deleted since takes it over. */
int sr_owner_bind(const char *store, int fd, sr_err *e);
void sr_owner_release(const char *store, int fd);

#endif
