/*
 * simrec - record simulation data from MPI jobs, read it back anywhere.
 *
 * This header is the manual. Narrative documentation (design, on-disk
 * formats, adding a datastore) lives in docs/.
 *
 * Conventions
 *   - Every function returns an int status: SIMREC_OK (0) or a negative
 *     SIMREC_E* code from the list below. simrec_strerror() and
 *     simrec_err_name() turn a code into text; simrec_errmsg() gives the
 *     detail of the last failure on a recorder (naming the key, file or rank).
 *   - Handles come back through out-parameters; on failure the out-parameter
 *     is set to NULL and nothing needs to be freed.
 *   - Buffers are caller-owned: reads copy into (buf, bufsize) given by the
 *     caller; records are copied (or written) before the call returns, so the
 *     caller may reuse its buffer at once.
 *   - Close/free functions accept NULL.
 *   - "Collective" calls must be made by every rank of the recorder's
 *     communicator, in the same order, and return the same status on every
 *     rank. "Independent" calls may be made by any single rank.
 *
 * Caveats
 *   - A recorder is not thread-safe: use one thread per recorder.
 *   - The zarr LMDB store allows one writing process per store path (LMDB has
 *     one writer per environment); use zarr+dir: or hdf5: for many nodes.
 *   - Records smaller than a chunk are batched in memory: they reach the
 *     store at chunk boundaries, simrec_flush() and simrec_close(). A process
 *     killed before that loses its unflushed records, never older ones.
 *   - A writing recorder the program forgets to close is closed for it, with
 *     one line on stderr naming the store: a serial one at process exit
 *     (atexit), one from simrec_open_comm() at the start of MPI_Finalize()
 *     (every rank must have left it open; recorders close in the order they
 *     were opened). If that close fails, the process exits with status 1;
 *     a collective recorder still open at exit without MPI_Finalize() (a
 *     rank calling exit() mid-run while the others are in a collective
 *     call) is not closed, since that close is collective: it flushes
 *     nothing, is reported on stderr by every rank that exits so, naming
 *     the store, and its unflushed records are lost (exit status 1;
 *     mpiexec then ends the other ranks). See simrec_abandon().
 *   - SIGTERM (SLURM's time limit): if the program has no SIGTERM handler
 *     of its own when it opens a writing recorder (and SIMREC_ON_TERM is not
 *     0), the library installs one that only sets a flag. The next
 *     collective call (record_all, record_global, record_joined, flush)
 *     agrees on it over the communicator, finishes that step, flushes and
 *     closes every open recorder, and the process then dies of SIGTERM (a
 *     second SIGTERM kills at once); a process with only serial recorders
 *     acts at its next simrec call. A process that makes no simrec call
 *     between SIGTERM and SIGKILL loses its unflushed records: see
 *     docs/safety.md and the --signal line in slurm/.
 *
 * Keys
 *   - A key is '/'-separated names ("field/T"): no empty part, no "." or
 *     "..", no part starting with ".z" (zarr's metadata) or ".simrec"
 *     (simrec's temporary files), no control characters; "" or "/" names
 *     the root group where a call takes a group. Other keys are
 *     SIMREC_EINVAL.
 *
 * Nesting
 *   - Calls on one recorder do not nest, with one exception: the callbacks of
 *     simrec_list() and simrec_attr_list() may call the read functions
 *     (simrec_get, simrec_get_all, simrec_dataset_*, simrec_attr_get) on the
 *     same recorder. A write from such a callback is undefined; on a store
 *     opened with "?lock=" it fails with SIMREC_ELOCK.
 *   - On a store opened with "?lock=redis://...", each call runs inside one
 *     lock section (read for reads, write for writes) held only for the
 *     duration of the call, never between calls; reads made from a listing
 *     callback join the listing's read section. A read section is never
 *     upgraded to a write section. A writer whose store a newer writer
 *     took over (a larger fencing token in the store) gets SIMREC_ELOCK
 *     from its next record, record_bytes, record_all, record_global,
 *     record_joined, set, attribute, flush and close, even when the call
 *     would only fill a buffer; a collective call on every rank alike
 *     (docs/lock.md). The recorder's lock client is its own:
 *     a simrec_lock_t the caller holds on the same resource excludes it
 *     like any other client (holding it across a recorder call that needs
 *     the other mode waits until the lock's timeout).
 *
 * Stores (the schemes of a URI)
 *   - "memory:": in this process only, gone at close.
 *   - "zarr:PATH": zarr v2 in an LMDB environment (PATH/data.mdb), as
 *     zarr-python's LMDBStore reads it; the default. One writing process.
 *   - "zarr+dir:PATH": zarr v2 directory store (a file per chunk).
 *   - "hdf5:PATH": one HDF5 file, serial or parallel (MPI-IO).
 *   - "redis://[user[:password]@]HOST[:PORT][/DB]" (or "rediss://"): a
 *     redis server (docs/redis-format.md).
 *
 * URI parameters ("scheme:path?name=value&name=value"; sizes take a
 * k/M/G/T unit, binary: "4M" is 4 MiB). A store refuses a parameter it does
 * not accept, and a malformed value, with SIMREC_EURI naming it.
 *   mode (every store; default: the open's mode): r, w or a: read-only,
 *       create (replacing a store simrec recognises), append; a read-only
 *       open stays read-only.
 *   codec (every store; default: lz4 for zarr and zarr+dir, none
 *       otherwise): blosclz, lz4, lz4hc, zstd, zlib (blosc) or none; hdf5
 *       also deflate and lzf.
 *   level (every store; default: 5): compression level 0-9.
 *   shuffle (every store; default: byte): none, byte or bit.
 *   threads (every store; default: 2): blosc threads, 1-256; a read decodes
 *       that many chunks at once, and an uncompressed zarr+dir write puts
 *       that many chunk files at once (one per MiB written).
 *   chunk_bytes (every store; default: 1M, 8M for zarr+dir): target chunk
 *       size, 1 B to 1 GiB.
 *   lock (every store; default: none): redis://HOST:PORT of a
 *       readers-writer lock: every call runs in a read or write section
 *       (see Nesting, docs/lock.md).
 *   lease (every store; default: 5): the lock's lease in seconds.
 *   poll (every store; default: 0.5): seconds between two looks at the
 *       store while simrec_follow() waits: the fallback where no
 *       notification reaches the reader (NFS, Lustre).
 *   map_size (zarr; default: 1T): LMDB's map (sparse; the store cannot grow
 *       past it).
 *   sync (zarr, zarr+dir; default: 1): 0: commits survive a crashed process
 *       but are not forced to disk.
 *   swmr (hdf5; default: 0): 1: single-writer/multiple-reader: one writer
 *       rank, h5py readers follow with refresh(); keys and attributes exist
 *       by the first flush (docs/format.md).
 *   prefix (redis; default: simrec): the keys' prefix on the server (part
 *       of the lock name).
 *   password (redis; default: none): the server's password, %XX-escaped (or
 *       SIMREC_REDIS_PASSWORD).
 *   user (redis; default: none): the ACL user.
 *   timeout (redis; default: 10): seconds a reply may take before
 *       SIMREC_ETIMEDOUT.
 *   reconnect (redis; default: 0): tries to reconnect after a lost server.
 *   cluster (redis; default: 0): 1: the hosts (HOST:PORT[,HOST:PORT...])
 *       are seeds of a Redis Cluster; keys are routed by hash slot
 *       (docs/redis-format.md).
 *
 * Environment
 *   - SIMREC_STORE: replaces the URI list of a writer (any mode but
 *     SIMREC_MODE_READONLY); it never applies to a read-only open.
 *   - SIMREC_TRACE: 1 prints, on stderr, the source file and line of every
 *     failure as it is reported; the first line printed is the origin.
 *   - SIMREC_IO_SUMMARY: 1: an I/O summary at close (writers only) and a
 *     line per read (simrec_dataset_read), as opts->io_summary.
 *   - SIMREC_WRITERS: record_all, record_global, record_joined: the number
 *     of writers, when the options give neither writers nor
 *     ranks_per_writer.
 *   - SIMREC_RANKS_PER_WRITER: record_all, record_global, record_joined:
 *     ranks per writer, when the options give neither.
 *   - SIMREC_SHM: 0: record_all never uses node-local shared memory.
 *   - SIMREC_ZERO_COPY: record_all, record_global: 1 borrows the caller's
 *     buffer until simrec_wait() (opts->zero_copy = SIMREC_ZERO_COPY_ON),
 *     check also checksums it (SIMREC_ZERO_COPY_CHECK), 0 copies; when the
 *     options leave zero_copy at 0.
 *   - SIMREC_ON_TERM: 0: the library leaves SIGTERM alone; otherwise (and
 *     when the program has no SIGTERM handler of its own) a SIGTERM makes
 *     the next simrec call flush and close every open recorder, then die of
 *     SIGTERM.
 *   - SLURM_JOB_ID: set by SLURM: the job id written into a store's writer
 *     lock, so that a refused second writer learns which job holds it.
 *   - SIMREC_REDIS_HOST: HOST[:PORT] of a redis:// URI that names no host.
 *   - SIMREC_REDIS_PASSWORD: the password of a redis:// URI that gives
 *     none.
 *   - SIMREC_REDIS_MAX_REPLY: the largest reply accepted, in bytes (only
 *     lower than the default: small-memory readers).
 *
 * Precedence (a setting made in several places)
 *   - A URI parameter wins over the options (simrec_options_t), the options
 *     over the environment, the environment over the store's default:
 *     chunk_bytes, codec, level, shuffle and threads (URI, options, store
 *     default), mode (URI, options; a read-only open stays read-only),
 *     writers and ranks_per_writer (options, SIMREC_WRITERS /
 *     SIMREC_RANKS_PER_WRITER, one writer per node), a redis password (URI,
 *     SIMREC_REDIS_PASSWORD), the I/O summary (opts->io_summary or
 *     SIMREC_IO_SUMMARY: either turns it on), the zero-copy step
 *     (opts->zero_copy, else SIMREC_ZERO_COPY).
 *   - One exception: SIMREC_STORE replaces the URI list itself (of a
 *     writer), so a job script can redirect a simulation's output without
 *     recompiling; that list's parameters then win as above.
 */
#ifndef SIMREC_H
#define SIMREC_H

#include <stddef.h>
#include <stdint.h>

#include <mpi.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SIMREC_BUILDING) && defined(__GNUC__)
#define SIMREC_API __attribute__((visibility("default")))
#else
#define SIMREC_API
#endif

#define SIMREC_VERSION_MAJOR 0
#define SIMREC_VERSION_MINOR 1
#define SIMREC_VERSION_PATCH 0

/* ---- errors ------------------------------------------------------------ */

/* One list generates the enum, simrec_err_name() and simrec_strerror(). */
#define SIMREC_ERRNO_MAP(X)                                      \
	X(EINVAL, -1, "invalid argument")                        \
	X(ENOMEM, -2, "out of memory")                           \
	X(EURI, -3, "bad or unknown store URI")                  \
	X(ENOKEY, -4, "no such key")                             \
	X(EDTYPE, -5, "dtype differs from the dataset's")        \
	X(ESHAPE, -6, "shape differs from the dataset's")        \
	X(ERANGE, -7, "selection out of range")                  \
	X(EREADONLY, -8, "store is open read-only")              \
	X(EIO, -9, "I/O error")                                  \
	X(EFORMAT, -10, "not a valid store or corrupt data")     \
	X(ECODEC, -11, "compression or decompression failed")    \
	X(ENOTSUP, -12, "operation not supported by this store") \
	X(ECONFIG, -13, "invalid configuration")                 \
	X(EMPI, -14, "MPI error")                                \
	X(ECONN, -15, "cannot reach server")                     \
	X(ESERVER, -16, "server replied with an error")          \
	X(ETIMEDOUT, -17, "timed out")                           \
	X(ELOCK, -18, "lock not held or lease lost")             \
	X(EKIND, -19, "key holds another kind of entry")         \
	X(ETRUNC, -20, "buffer too small")                       \
	X(EREMOTE, -21, "another rank failed")                   \
	X(EFINISHED, -22, "the writer finished: no more records")

enum simrec_status {
	SIMREC_OK = 0,
#define SIMREC_ERR_ENUM_(name, code, text) SIMREC_##name = (code),
	SIMREC_ERRNO_MAP(SIMREC_ERR_ENUM_)
#undef SIMREC_ERR_ENUM_
};

/* Static text for a status code; never NULL. */
SIMREC_API const char *simrec_strerror(int status);
/* Symbolic name ("SIMREC_ENOKEY") of a status code; never NULL. */
SIMREC_API const char *simrec_err_name(int status);
/* Copy text (a URI, or a message holding URIs) into out (cap bytes) with
 * every secret replaced by "***": the userinfo of each "SCHEME://" in
 * any case (all from "//" to the last '@' of the text, so that
 * "redis://:pw@host" prints with "***@host" after its "//") and each
 * "password=" or "user=" value in any case (to the end of the text). Truncated
 * to cap - 1 bytes; NULL text gives "". Returns out. Every message of the
 * library already went through it. */
SIMREC_API char *simrec_uri_masked(const char *text, char *out, size_t cap);

/* ---- dtypes ------------------------------------------------------------ */

typedef enum simrec_dtype {
	SIMREC_INT8,
	SIMREC_INT16,
	SIMREC_INT32,
	SIMREC_INT64,
	SIMREC_UINT8,
	SIMREC_UINT16,
	SIMREC_UINT32,
	SIMREC_UINT64,
	SIMREC_FLOAT32,
	SIMREC_FLOAT64,
	SIMREC_BOOL,       /* one byte, 0 or 1 */
	SIMREC_BYTES,      /* opaque byte string per record (zarr vlen-bytes) */
	SIMREC_STRING,     /* UTF-8 text per record (zarr vlen-utf8) */
	SIMREC_FLOAT16,    /* IEEE 754 binary16 (numpy float16) */
	SIMREC_COMPLEX64,  /* two float32: real, imaginary (C float complex) */
	SIMREC_COMPLEX128, /* two float64: real, imaginary (C double complex) */
	SIMREC_NDTYPES
} simrec_dtype_t;

/* Bytes per element; 0 for SIMREC_BYTES / SIMREC_STRING. */
SIMREC_API size_t simrec_dtype_size(simrec_dtype_t dt);
/* "float32", "int64", "bytes", "string"...; NULL for an invalid value. */
SIMREC_API const char *simrec_dtype_name(simrec_dtype_t dt);

#define SIMREC_MAX_NDIM 16

/* ---- options ----------------------------------------------------------- */

typedef enum simrec_mode {
	SIMREC_MODE_APPEND = 0, /* create if missing, else add after old data */
	SIMREC_MODE_CREATE,     /* start empty: an existing store is replaced */
	SIMREC_MODE_READONLY    /* refuse every write with SIMREC_EREADONLY */
} simrec_mode_t;

typedef enum simrec_shuffle {
	SIMREC_SHUFFLE_NONE = 0,
	SIMREC_SHUFFLE_BYTE = 1,
	SIMREC_SHUFFLE_BIT = 2
} simrec_shuffle_t;

/*
 * Options for simrec_open(). Initialise with simrec_options_init(); fields
 * left at their defaults may also be given per store in the URI's query,
 * e.g. "zarr:out.zarr?codec=zstd&level=3&shuffle=bit&chunk_bytes=4194304".
 */
typedef struct simrec_options {
	simrec_mode_t mode; /* default SIMREC_MODE_APPEND */
	size_t chunk_bytes; /* target chunk size; 0: 1 MiB, 8 MiB for zarr+dir
	                     */
	const char *codec;  /* NULL: the store's default (zarr "lz4", HDF5
	                       "none"); "blosclz", "lz4", "lz4hc", "zstd",
	                       "zlib" (blosc), "none"; HDF5 also "deflate"
	                       (shuffle + deflate, no plugin needed) */
	int level;          /* compression level 0-9, default 5 */
	simrec_shuffle_t shuffle; /* default SIMREC_SHUFFLE_BYTE */
	int nthreads; /* the `threads` setting above: blosc threads, the
	                 chunks a read decodes at once and the chunk files an
	                 uncompressed zarr+dir write puts at once; 0
	                 (default): 2; 1-256, else SIMREC_ECONFIG */
	/* record_all, record_global, record_joined: ranks per writer rank
	 * (0: one writer per node, or the SIMREC_RANKS_PER_WRITER /
	 * SIMREC_WRITERS environment variables). */
	int ranks_per_writer;
	int writers;    /* number of writers M; 0 = see ranks_per_writer */
	int io_summary; /* print an I/O summary at close and a line per
	                   read on stderr (or SIMREC_IO_SUMMARY=1) */
	/* record_all, record_global: SIMREC_ZERO_COPY_OFF (default; or the
	 * SIMREC_ZERO_COPY environment variable), _ON or _CHECK: the calls
	 * borrow the caller's buffer until simrec_wait() (see there). */
	int zero_copy;
} simrec_options_t;

/* Values of simrec_options_t.zero_copy (and SIMREC_ZERO_COPY: 0, 1,
 * check). */
enum simrec_zero_copy {
	SIMREC_ZERO_COPY_OFF = 0,
	SIMREC_ZERO_COPY_ON = 1,
	SIMREC_ZERO_COPY_CHECK = 2 /* ON, and each borrowed buffer is
	                              checksummed at the call and at its
	                              release (a debug setting) */
};

/* sizeof of the public struct simrec_NAME ("options", "attr",
 * "lock_status"), for language bindings to check their mirrors of them;
 * 0 for another name. */
SIMREC_API size_t simrec_struct_size(const char *name);

/* Fill *opts with the defaults. */
SIMREC_API void simrec_options_init(simrec_options_t *opts);

/* ---- recorder ---------------------------------------------------------- */

typedef struct simrec simrec_t;
typedef struct simrec_dataset simrec_dataset_t;

/*
 * Open a recorder on one or more stores. `uris` is a ';'-separated list of
 * store URIs; every record goes to each of them and reads come from the
 * first. Schemes: "memory:", "zarr:PATH" (zarr v2 in LMDB, the default),
 * "zarr+dir:PATH" (zarr v2 directory store), "hdf5:PATH",
 * "redis://HOST:PORT" (see Stores and URI parameters at the top). If the
 * environment variable SIMREC_STORE is set it replaces `uris` unless
 * opts->mode is SIMREC_MODE_READONLY. opts may be NULL for the defaults.
 * A read-only open stays read-only whatever a URI's "?mode=" says.
 *
 * Independent: opens a single-process recorder; MPI need not be initialised.
 * On success *out owns the recorder until simrec_close(); on failure
 * simrec_errmsg(NULL) says why (nothing is printed).
 * Returns SIMREC_EINVAL (out NULL), SIMREC_EURI (bad URI, unknown scheme or
 * parameter), SIMREC_ECONFIG (bad option), SIMREC_ENOKEY (a read-only store
 * that does not exist), SIMREC_EFORMAT (not a store of that scheme),
 * SIMREC_EIO (naming the system's cause: a missing directory, ...),
 * SIMREC_ELOCK (zarr:, zarr+dir: another process writes the store; the
 * message names its host, pid and job: docs/safety.md; redis: another
 * writer holds the prefix's key P:writer, named likewise; hdf5: a file locked
 * by another process, a writer has it open), SIMREC_ECONN / SIMREC_ESERVER
 * (redis), SIMREC_ETIMEDOUT (the lock), SIMREC_ENOMEM.
 */
SIMREC_API int simrec_open(simrec_t **out, const char *uris,
                           const simrec_options_t *opts);

/*
 * Collective over comm: open a recorder for simrec_record_all(). The
 * communicator is duplicated. Only writer ranks open the stores of
 * aggregating schemes; every rank returns the same status: those of
 * simrec_open(), SIMREC_EMPI (MPI not initialised) and SIMREC_ECONFIG
 * (writers, an LMDB store whose writers span nodes, or an hdf5 ?swmr=1
 * store with more than one writer rank).
 */
SIMREC_API int simrec_open_comm(simrec_t **out, const char *uris,
                                const simrec_options_t *opts, MPI_Comm comm);

/*
 * Write everything buffered and close the stores. Collective for a recorder
 * from simrec_open_comm(). Returns the first error met (those of
 * simrec_flush(), with the same rule: 0 only if everything written since
 * the last successful flush is durable); the recorder is freed in any
 * case. A failure since the last successful flush that may have lost
 * records already recorded (a failed flush, a failed background write
 * reported by a record call; not a refused argument) makes close fail
 * with that status too, on every rank alike, with a message saying
 * records were lost and why; a successful flush clears it. Accepts NULL.
 */
SIMREC_API int simrec_close(simrec_t *rec);

/*
 * Leave the recorder without closing it, on a rank that is leaving
 * because of a failure while the other ranks may be inside (or about to
 * enter) a collective call of this recorder: closing a recorder from
 * simrec_open_comm() is collective and would wait for them forever.
 * Independent. Nothing is flushed and nothing is freed (the stores stay
 * as the last successful flush left them: those records stay readable;
 * the records since are lost); the recorder is no longer closed at
 * exit or at MPI_Finalize(). Prints one line on stderr naming the store.
 * After it, rec may not be used again (not even for simrec_close()). The
 * program should then end the job: MPI_Abort(), or exit() with a
 * non-zero status without MPI_Finalize() (mpiexec then ends the other
 * ranks). Returns SIMREC_EINVAL for NULL, else 0.
 */
SIMREC_API int simrec_abandon(simrec_t *rec);

/*
 * Push buffered records to the stores and commit them (LMDB transaction,
 * H5Fflush, ...). Independent for simrec_open(), Collective for
 * simrec_open_comm() (same status on every rank). Returns SIMREC_EINVAL,
 * SIMREC_EIO (with the cause: no space left, quota, permission),
 * SIMREC_ELOCK (the store was taken over by a newer writer),
 * SIMREC_ECONN, SIMREC_EREMOTE / any code a background write of a
 * collective recorder met (reported once).
 * 0 means everything written since the last successful flush is durable.
 * redis: SIMREC_ECONN naming the server when a write since then met a lost
 * connection, on every later flush and at close too (with ?reconnect=N:
 * once, later flushes cover what was written after the reconnect); with
 * nothing written since, a server that died meanwhile fails neither flush
 * nor close: the next read or write meets it (docs/redis-format.md).
 */
SIMREC_API int simrec_flush(simrec_t *rec);

/*
 * Detail of the last failure on rec, naming the key, file or rank. Valid
 * until the next call on rec. With rec == NULL: the detail of the calling
 * thread's last failed simrec_open()/simrec_open_comm() (which return no
 * recorder) or simrec_close() (which freed it), valid until the next such
 * failure in that thread.
 */
SIMREC_API const char *simrec_errmsg(const simrec_t *rec);

/*
 * Append one record of dtype dt and shape (ndim, shape) under key. The
 * first record fixes the dataset's dtype and shape; a later record of
 * another dtype or shape fails with SIMREC_EDTYPE / SIMREC_ESHAPE and stores
 * nothing. data holds prod(shape) elements in C order; it is copied before
 * return. For SIMREC_BYTES/SIMREC_STRING use simrec_record_bytes().
 * Independent: under MPI, the calling rank writes on its own (see
 * docs/mpi.md for durability).
 * Returns SIMREC_EINVAL (key, dtype, ndim 0..15, shape, NULL data, size
 * overflow), SIMREC_EREADONLY, SIMREC_EDTYPE, SIMREC_ESHAPE, SIMREC_EKIND
 * (the key is a group or a value), SIMREC_EIO, SIMREC_ECODEC, SIMREC_ELOCK,
 * SIMREC_ECONN, SIMREC_ENOMEM, SIMREC_ENOTSUP (hdf5 ?swmr=1: a key not in
 * the file after the first flush, here or at the flush that writes it;
 * docs/format.md).
 */
SIMREC_API int simrec_record(simrec_t *rec, const char *key, simrec_dtype_t dt,
                             int ndim, const size_t *shape, const void *data);

/* Append one byte string (SIMREC_BYTES) or UTF-8 text (SIMREC_STRING) of
 * len bytes under key (copied before return). Independent.
 * Returns SIMREC_EINVAL (key, dtype not BYTES/STRING, NULL data with a
 * length, an item over 2 GiB, a STRING that is not valid UTF-8),
 * SIMREC_EREADONLY, SIMREC_EDTYPE (the key holds another dtype),
 * SIMREC_EKIND, SIMREC_ENOTSUP (a store that cannot keep this item, e.g.
 * parallel HDF5), SIMREC_EIO, SIMREC_ECODEC, SIMREC_ELOCK, SIMREC_ECONN /
 * SIMREC_ESERVER / SIMREC_ETIMEDOUT (redis), SIMREC_ENOMEM. */
SIMREC_API int simrec_record_bytes(simrec_t *rec, const char *key,
                                   simrec_dtype_t dt, const void *data,
                                   size_t len);

/*
 * Collective: every rank gives its local array (same dtype and shape on all
 * ranks); the step becomes one record of shape (nranks, *shape) under key.
 * A rank with another dtype or shape makes the call fail on every rank with
 * SIMREC_EDTYPE/SIMREC_ESHAPE and the step is not written. Returns once the
 * caller's buffer may be reused (with opts->zero_copy: borrowed until
 * simrec_wait(), see there); the writers' file I/O overlaps the next
 * step. On a recorder from simrec_open() it is simrec_record() of a (1,
 * *shape) array. ndim is 0..14.
 * Returns the codes of simrec_record() on every rank alike, and
 * SIMREC_EINVAL when ranks disagree on the key. A background write that
 * failed after an earlier call returned is reported once, with its cause,
 * by the next simrec_flush() or simrec_close(), or by the next
 * simrec_record_all() of that key, whichever comes first. That key then
 * records nothing more (its steps stay contiguous: they stop at the last
 * step written): every later simrec_record_all() of it fails at once on
 * every rank. Other keys go on recording.
 */
SIMREC_API int simrec_record_all(simrec_t *rec, const char *key,
                                 simrec_dtype_t dt, int ndim,
                                 const size_t *shape, const void *data);

/*
 * Collective: every rank gives the block [start, start + count) it owns of
 * one global array of shape (ndim, global_shape), as a C-order buffer of
 * count's shape; the step becomes one record of shape global_shape under
 * key, and the dataset is (steps, *global_shape): the same bytes whatever
 * rank count and decomposition wrote it, so a run restarted on another
 * rank count appends to it. Any decomposition: slabs, 2-D and 3-D blocks,
 * uneven sizes, and empty blocks (a count with a 0: data may be NULL).
 * ndim is 1..15, every global extent 1..2^31-1, dt numeric.
 *
 * The blocks are checked on every rank before anything is written; each
 * of these fails on every rank, names the ranks and the region, and
 * stores nothing: a block outside the shape (SIMREC_ERANGE), two blocks
 * that overlap (SIMREC_EINVAL), ranks that disagree on the global shape
 * (SIMREC_ESHAPE) or the dtype (SIMREC_EDTYPE) or the key
 * (SIMREC_EINVAL), elements no rank covers when the key has no fill
 * value (SIMREC_EINVAL; see simrec_global_fill()), and a global shape or
 * dtype that differs from the existing dataset's (SIMREC_ESHAPE /
 * SIMREC_EDTYPE).
 *
 * Each writer rank owns whole chunks of the dataset (chunks laid out in
 * the global index space, never per rank block); every rank sends the
 * pieces of its block to the writers that own them, and each writer
 * compresses and writes whole chunks in the background (docs/mpi.md).
 * Returns once the caller's buffer may be reused (with opts->zero_copy:
 * borrowed until simrec_wait()). Errors of background
 * writes are reported as for simrec_record_all(). On a recorder from
 * simrec_open() the one block must be the whole array (SIMREC_EINVAL
 * otherwise). Also returns the codes of simrec_record().
 */
SIMREC_API int simrec_record_global(simrec_t *rec, const char *key,
                                    simrec_dtype_t dt, int ndim,
                                    const size_t *global_shape,
                                    const size_t *start, const size_t *count,
                                    const void *data);

/*
 * The zero-copy step. With opts->zero_copy (or SIMREC_ZERO_COPY=1) on a
 * recorder of simrec_open_comm(), a successful simrec_record_all() or
 * simrec_record_global() BORROWS the caller's buffer instead of copying it
 * before return: the buffer belongs to simrec, which may still read it,
 * until the next simrec_wait(), simrec_flush() or simrec_close() on the
 * recorder returns (on every rank, whatever the topology, whether or not
 * simrec still reads it). Until then the caller must neither write nor
 * free it; reading it is fine. simrec never writes into it. So a
 * simulation that computes step k+1 from step k into another array can
 * record step k, compute, call simrec_wait() and swap the arrays: the
 * copy, the compression and the write of step k run meanwhile.
 *
 * What runs in the background (docs/mpi.md, "The zero-copy step"): a
 * rank that is its own writer (one rank, or writers = ranks) writes the
 * step from the caller's buffer on its I/O thread (no copy at all); ranks
 * whose group shares a node-local step window copy (or compress) their
 * block into it on a thread of their own (the call returns after the
 * agreement); a global array's writer whose own block is its whole
 * region writes it from the caller's buffer. The rest (an MPI_Gather, the
 * pieces of a global array sent to other writers) still runs inside the
 * call; the buffer is borrowed all the same.
 *
 * Detected misuse, refused with SIMREC_EINVAL on every rank: a
 * simrec_record_all() or simrec_record_global() whose buffer overlaps a
 * buffer still borrowed (a step recorded from the same array before
 * simrec_wait()); nothing is stored. With SIMREC_ZERO_COPY_CHECK (or
 * SIMREC_ZERO_COPY=check) each borrowed buffer is checksummed at the call
 * and again at its release, and a buffer changed meanwhile fails that
 * simrec_wait()/simrec_flush()/simrec_close() with SIMREC_EINVAL naming
 * the key and the rank (the stored step may then hold the changed
 * bytes). simrec_flush() and simrec_close() with buffers still borrowed
 * wait for them: not an error. A failed record call borrows nothing.
 *
 * simrec_wait(): Collective for a recorder of simrec_open_comm(): waits
 * until simrec reads no borrowed buffer on this rank (its copy into the
 * step window, or its writer's write from it), then releases every
 * borrowed buffer. A background write's failure is not reported here but
 * as before (next flush, close or record_all of the key). Returns 0,
 * SIMREC_EINVAL (rec NULL; a buffer changed while borrowed, under
 * SIMREC_ZERO_COPY_CHECK), the same on every rank. On a recorder of
 * simrec_open() (which copies or writes before return), or with zero_copy
 * off, nothing is borrowed: it returns 0 at once.
 */
SIMREC_API int simrec_wait(simrec_t *rec);

/*
 * Declare the fill value of a global array's key: elements that no
 * rank's block covers in a step of simrec_record_global() take it (one
 * element of dtype dt, copied). Without one such a step fails. Local to
 * this process and this recorder (nothing is stored): call it on every
 * rank with the same value before the key's steps, in every run that
 * records the key; ranks that disagree make the step fail
 * (SIMREC_EINVAL). A fill of another dtype than the step's is ignored.
 * Independent. Returns SIMREC_EINVAL (key, dtype, NULL value),
 * SIMREC_EREADONLY, SIMREC_ENOMEM.
 */
SIMREC_API int simrec_global_fill(simrec_t *rec, const char *key,
                                  simrec_dtype_t dt, const void *value);

/*
 * Collective: every rank gives shape[0] rows of shape (ndim - 1, shape + 1)
 * (shape[0] may differ between ranks and be 0 on some or all of them; the
 * rest of the shape, the dtype and the key must agree, else
 * SIMREC_ESHAPE / SIMREC_EDTYPE / SIMREC_EINVAL on every rank); the step
 * is the concatenation of the ranks' rows in rank order. Stored as a
 * contiguous ragged array (CF conventions): the rows of every step one
 * after the other under key (shape (all rows, *row shape)), and each
 * step's row count under "KEY_count" (int64, one per step); read a step
 * back with simrec_joined_read() (docs/format.md). A step's count is
 * stored only after its rows, so a reader never sees a count whose rows
 * are missing; rows past the counts (a crash between the two) are cut
 * away when the key is next recorded. ndim is 1..14, dt numeric, a
 * rank's rows and a step at most 2 GiB. On a recorder from simrec_open()
 * it records the caller's rows as the step. Errors of background
 * writes are reported as for simrec_record_all(). Also returns the codes
 * of simrec_record().
 */
SIMREC_API int simrec_record_joined(simrec_t *rec, const char *key,
                                    simrec_dtype_t dt, int ndim,
                                    const size_t *shape, const void *data);

/*
 * Name the dimensions of key's dataset: ndim names (1..SIMREC_MAX_NDIM, the
 * dataset's rank: the step dimension included for recorded keys, the rank
 * dimension for simrec_record_all()), each a valid key part of at most 255
 * bytes. Call it before the key's first record or set, on every rank that
 * records the key (like simrec_global_fill(), nothing is stored until the
 * dataset is created): the names are then written as zarr's
 * `_ARRAY_DIMENSIONS` and as HDF5 dimension scales (docs/format.md).
 * Without it a new dataset gets the default names: "LEAF_step" (records;
 * LEAF the key's last part: the record axis is each key's own, since keys
 * recorded at other cadences hold other lengths), "rank"
 * (simrec_record_all()), then "LEAF_dim_I" for axis I; a joined array's
 * rows "LEAF_sample" and its counts "LEAF_step". Datasets of one
 * group that use one name share that dimension: a fixed (not step) length
 * that differs from the one this recorder gave the name fails the
 * record with SIMREC_ESHAPE naming both keys. A dataset of one dimension
 * whose key's last part is that dimension's name is its coordinate, as in
 * netCDF: record "g/time" with dims {"time"} and name the first dimension
 * of g's other keys "time" too. Local to this recorder and this run; on
 * an MPI recorder whose independent calls are applied by writer ranks
 * (simrec_record() on a rank that is not a writer, or on any rank of a
 * parallel HDF5 store) the names travel with those calls, ahead of them.
 * Independent. Returns SIMREC_EINVAL (NULL or invalid names, ndim out of
 * range), SIMREC_EREADONLY, SIMREC_ENOMEM; at the first record,
 * SIMREC_ESHAPE if ndim differs from the dataset's rank.
 */
SIMREC_API int simrec_dims(simrec_t *rec, const char *key, int ndim,
                           const char *const *names);

/*
 * Where step `step` of the joined array key lies in its rows: rows
 * *row0 .. *row0 + *nrows - 1 of the dataset under key. Reads the
 * "KEY_count" dataset. SIMREC_ERANGE past the last step, SIMREC_ENOKEY,
 * SIMREC_EKIND (not a joined array: key has no attribute
 * "_simrec_joined_count" naming "KEY_count", or that is not a 1-d int64
 * dataset), SIMREC_EFORMAT (a negative count, or counts that point past
 * the stored rows), and the read failures of simrec_attr_get().
 * Independent (a reader; on a collective recorder, where reads work).
 */
SIMREC_API int simrec_joined_step(simrec_t *rec, const char *key, size_t step,
                                  size_t *row0, size_t *nrows);

/*
 * Read step `step` of the joined array key (its rows, C order) into buf of
 * bufsize bytes; *nrows (may be NULL) gets the step's row count, also
 * when the buffer is too small (SIMREC_ETRUNC). The codes of
 * simrec_joined_step() and simrec_dataset_read(). Independent.
 */
SIMREC_API int simrec_joined_read(simrec_t *rec, const char *key, size_t step,
                                  void *buf, size_t bufsize, size_t *nrows);

/*
 * Make key a records dataset of dtype dt whose records have shape (ndim,
 * shape), holding no records: the dataset (shape (0, *shape)) exists in
 * every store as the first simrec_record() would make it, with the
 * store's chunking and codec. If key is already such a dataset, nothing
 * changes. For SIMREC_BYTES/SIMREC_STRING, ndim is 0. Independent; a
 * recorder from simrec_open_comm() returns SIMREC_ENOTSUP (record a step
 * instead). Used by `simrec export` for datasets without records.
 * Returns SIMREC_EINVAL, SIMREC_EREADONLY, SIMREC_EDTYPE, SIMREC_ESHAPE,
 * SIMREC_EKIND, SIMREC_ENOTSUP, SIMREC_EIO, SIMREC_ELOCK, SIMREC_ECONN,
 * SIMREC_ENOMEM.
 */
SIMREC_API int simrec_define(simrec_t *rec, const char *key, simrec_dtype_t dt,
                             int ndim, const size_t *shape);

/*
 * Store one value under key, replacing what was there (its dtype and shape
 * may change). data holds prod(shape) elements in C order. Independent.
 * A failed set leaves the old value whole (docs/safety.md).
 * Returns SIMREC_EINVAL (key, dtype, ndim 0..15, shape, NULL data, size
 * overflow), SIMREC_EREADONLY, SIMREC_EKIND (the key is a group),
 * SIMREC_EIO (with the cause), SIMREC_ECODEC, SIMREC_ELOCK, SIMREC_ECONN /
 * SIMREC_ESERVER / SIMREC_ETIMEDOUT (redis), SIMREC_ENOMEM.
 */
SIMREC_API int simrec_set(simrec_t *rec, const char *key, simrec_dtype_t dt,
                          int ndim, const size_t *shape, const void *data);

/* Store one byte string (SIMREC_BYTES) or UTF-8 text (SIMREC_STRING) of len
 * bytes under key, replacing what was there: a value of no dimension, as
 * h5py's f[key] = "text" writes it (read it back with
 * simrec_dataset_read_bytes, index 0). Independent. Returns the errors of
 * simrec_record_bytes() but SIMREC_EDTYPE. */
SIMREC_API int simrec_set_bytes(simrec_t *rec, const char *key,
                                simrec_dtype_t dt, const void *data,
                                size_t len);

/* Attributes on any key (a group or a dataset; "" or "/" is the root).
 * Independent. The group is created if the key does not exist yet.
 * Doubles may be NaN or +-Inf (zarr writes them as zarr-python does:
 * NaN, Infinity, -Infinity). Every attr_set function returns
 * SIMREC_EINVAL (rec, key, a name that is empty, starts with "_simrec" or
 * is not valid UTF-8, a NULL string or one that is not valid UTF-8 (every
 * store alike), an array that is not of numbers or bools or has NULL
 * data),
 * SIMREC_EREADONLY, SIMREC_ENOTSUP (a value the store cannot keep, or a
 * new name on a key holding 1024 attributes already: zarr, HDF5),
 * SIMREC_EIO, SIMREC_ELOCK, SIMREC_ECONN / SIMREC_ESERVER /
 * SIMREC_ETIMEDOUT (redis), SIMREC_ENOMEM.
 * Setting N attributes costs work linear in N on every store: a zarr
 * writer that alone writes its store holds the attributes set one after
 * another on one key in memory and writes that key's .zattrs once, at its
 * next other operation on the store, simrec_flush or simrec_close; a
 * failure to write them is returned there. Like records, attributes are
 * durable once simrec_flush (or simrec_close) returns 0. */
SIMREC_API int simrec_attr_set_double(simrec_t *rec, const char *key,
                                      const char *name, double value);
SIMREC_API int simrec_attr_set_int(simrec_t *rec, const char *key,
                                   const char *name, int64_t value);
/* An unsigned 64-bit integer, exact up to 2^64-1. */
SIMREC_API int simrec_attr_set_uint(simrec_t *rec, const char *key,
                                    const char *name, uint64_t value);
/* A boolean (HDF5: h5py's bool enum; zarr/JSON: true/false). */
SIMREC_API int simrec_attr_set_bool(simrec_t *rec, const char *key,
                                    const char *name, int value);
SIMREC_API int simrec_attr_set_string(simrec_t *rec, const char *key,
                                      const char *name, const char *value);
/* A 1-d array of count elements of the numeric (or bool) dtype dt, copied
 * before return. zarr, memory and redis keep it as a JSON list (read back
 * as int64, uint64, float64 or bool); HDF5 keeps dt. */
SIMREC_API int simrec_attr_set_array(simrec_t *rec, const char *key,
                                     const char *name, simrec_dtype_t dt,
                                     size_t count, const void *data);

typedef enum simrec_attr_type {
	SIMREC_ATTR_INT,    /* i (d holds (double)i, u holds i if >= 0) */
	SIMREC_ATTR_DOUBLE, /* d */
	SIMREC_ATTR_STRING, /* s; JSON lists that are not numeric and JSON
	                       objects come back as their JSON text */
	SIMREC_ATTR_UINT,   /* u (i and d hold it where it fits) */
	SIMREC_ATTR_BOOL,   /* i is 0 or 1 (d and u too) */
	SIMREC_ATTR_ARRAY,  /* count elements of dtype in data (1-d) */
	SIMREC_ATTR_EMPTY,  /* no value: h5py.Empty (dtype says which type),
	                       JSON null */
	SIMREC_ATTR_STRINGS /* a list of count strings (count >= 1): s holds
	                       them one after the other, each ended by its
	                       NUL; a JSON list of strings, an HDF5 1-d
	                       array of variable-length UTF-8 strings */
} simrec_attr_type_t;

/* Fields other than those of its type are zero unless noted above. New
 * fields come after the old ones, so code written for the first three
 * kinds compiles unchanged. */
typedef struct simrec_attr {
	simrec_attr_type_t type;
	int64_t i;
	double d;
	char *s; /* owned by the attr; freed by simrec_attr_clear() */
	uint64_t u;
	simrec_dtype_t dtype; /* ARRAY, EMPTY: element dtype */
	size_t count;         /* ARRAY: number of elements */
	void *data; /* ARRAY: count elements (C order, native byte order),
	               owned by the attr; freed by simrec_attr_clear() */
} simrec_attr_t;

/* A list of count strings (UTF-8, count >= 1, at most 4096), copied
 * before return: xarray's `_ARRAY_DIMENSIONS`, CF's `flag_meanings`.
 * Independent. Returns SIMREC_EINVAL (a NULL string, count 0 or too
 * large) and the failures of simrec_attr_set(). */
SIMREC_API int simrec_attr_set_strings(simrec_t *rec, const char *key,
                                       const char *name, size_t count,
                                       const char *const *values);

/* Set attribute name of key to *a (any kind above; a is copied). The
 * typed setters are shorthands for this. Independent. An hdf5 ?swmr=1
 * writer refuses every attribute after its first flush (SIMREC_ENOTSUP,
 * docs/format.md). */
SIMREC_API int simrec_attr_set(simrec_t *rec, const char *key, const char *name,
                               const simrec_attr_t *a);

/* Read attribute name of key into *out; free it with simrec_attr_clear().
 * Independent. Returns SIMREC_EINVAL (rec, name or out NULL), SIMREC_ENOKEY
 * (no such key or attribute), SIMREC_ENOTSUP naming the attribute for a
 * type simrec does not map (e.g. an HDF5 compound or a 2-d array), or on a
 * rank of simrec_open_comm() that opened no store, SIMREC_EFORMAT (a
 * .zattrs that is not a JSON object), SIMREC_EIO, SIMREC_ELOCK,
 * SIMREC_ECONN / SIMREC_ESERVER / SIMREC_ETIMEDOUT (redis),
 * SIMREC_ENOMEM. */
SIMREC_API int simrec_attr_get(simrec_t *rec, const char *key, const char *name,
                               simrec_attr_t *out);
SIMREC_API void simrec_attr_clear(simrec_attr_t *a);

/* Call fn for every attribute name of key, in sorted order; a nonzero
 * return from fn stops the walk and is returned. Independent. Returns
 * SIMREC_EINVAL (rec or fn NULL), SIMREC_ENOKEY (no such key), and the
 * read failures of simrec_attr_get(). */
SIMREC_API int simrec_attr_list(simrec_t *rec, const char *key,
                                int (*fn)(const char *name, void *arg),
                                void *arg);

/*
 * Call fn(key, is_dataset, arg) for every group and dataset below prefix
 * ("" for all), in sorted order. In a zarr store, an entry that holds data
 * but has no readable .zarray or .zgroup (its metadata lost) is listed as
 * a dataset whose simrec_get_all() fails with SIMREC_EFORMAT naming it,
 * after the others. A nonzero return from fn stops the walk
 * and is returned. Independent. Returns SIMREC_EINVAL (rec or fn NULL),
 * SIMREC_ENOTSUP (a rank of simrec_open_comm() that opened no store),
 * SIMREC_EIO, SIMREC_EFORMAT, SIMREC_ELOCK, SIMREC_ECONN / SIMREC_ESERVER /
 * SIMREC_ETIMEDOUT (redis), SIMREC_ENOMEM; a prefix that names nothing is
 * an empty walk (0).
 */
SIMREC_API int
simrec_list(simrec_t *rec, const char *prefix,
            int (*fn)(const char *key, int is_dataset, void *arg), void *arg);

/* ---- reading ----------------------------------------------------------- */

/*
 * Open a handle on the whole dataset under key: shape (n_records, *record)
 * for recorded keys, the value's own shape for set keys. Buffered records of
 * this recorder are flushed first. The handle lives until
 * simrec_dataset_close() and must be closed before its recorder.
 * Independent (on a writer rank of simrec_open_comm()). Returns
 * SIMREC_EINVAL (rec, key or out NULL, an invalid key), SIMREC_ENOKEY,
 * SIMREC_EKIND (a group), SIMREC_ENOTSUP (a rank that opened no store, a
 * dataset simrec cannot read, e.g. an HDF5 string dataset of 2 or more
 * dimensions), SIMREC_EFORMAT (metadata simrec refuses: it names the
 * field), the failures of simrec_flush() for the buffered records,
 * SIMREC_EIO, SIMREC_ELOCK, SIMREC_ECONN / SIMREC_ESERVER /
 * SIMREC_ETIMEDOUT (redis), SIMREC_ENOMEM.
 */
SIMREC_API int simrec_get_all(simrec_t *rec, const char *key,
                              simrec_dataset_t **out);

/* Like simrec_get_all(), but for a recorded key the handle shows only the
 * last record (shape = the record's shape); for a set key, its value.
 * Returns the codes of simrec_get_all(), and SIMREC_ERANGE for a recorded
 * key that has no records yet. */
SIMREC_API int simrec_get(simrec_t *rec, const char *key,
                          simrec_dataset_t **out);

SIMREC_API simrec_dtype_t simrec_dataset_dtype(const simrec_dataset_t *ds);
SIMREC_API int simrec_dataset_ndim(const simrec_dataset_t *ds);
/* Copies ndim extents into shape. */
SIMREC_API void simrec_dataset_shape(const simrec_dataset_t *ds, size_t *shape);
/* Number of elements (product of the shape). */
SIMREC_API size_t simrec_dataset_size(const simrec_dataset_t *ds);
/* Chunk shape as stored (ndim extents of the underlying dataset) into
 * chunks; returns 0. */
SIMREC_API int simrec_dataset_chunks(const simrec_dataset_t *ds,
                                     size_t *chunks);

/*
 * Read the hyperslab start[i] .. start[i]+count[i] (ndim entries each) into
 * buf (C order, bufsize >= prod(count) * dtype size). Only the chunks that
 * intersect the selection are read, in the order they are stored, and
 * decoded on up to the store's `threads` threads (zarr), straight into buf
 * where a chunk is one contiguous run of the selection. Where the
 * selection is a small contiguous run of each compressed chunk (a slice
 * across records), zarr decodes only the blosc blocks holding it, and
 * `zarr:` asks the disk for those blocks of 64 chunks at a time, so a
 * slice waits for about two of the disk's latencies, not for two per
 * chunk. start/count NULL
 * mean everything. With the I/O summary on, prints one line on stderr:
 * the read's time and, for zarr stores, its chunks, stored bytes, and the
 * time fetching and decoding them. Independent. Returns SIMREC_EINVAL (ds or
 * buf NULL, a bytes/strings dataset), SIMREC_ERANGE (a selection past the
 * extent), SIMREC_ETRUNC (bufsize too small), SIMREC_EFORMAT (a chunk short or
 * corrupt, or inside the extent and not stored where the dataset declares
 * no fill value, naming it and the file), SIMREC_ECODEC, SIMREC_EIO,
 * SIMREC_ELOCK, SIMREC_ECONN / SIMREC_ESERVER / SIMREC_ETIMEDOUT (redis),
 * SIMREC_ENOMEM.
 */
SIMREC_API int simrec_dataset_read(simrec_dataset_t *ds, const size_t *start,
                                   const size_t *count, void *buf,
                                   size_t bufsize);

/*
 * For SIMREC_BYTES/SIMREC_STRING datasets: copy element index (a record
 * number, or 0 for a handle from simrec_get()) into buf (at most cap bytes)
 * and set *len to its full length. Returns SIMREC_ETRUNC if cap < *len.
 * Strings are not NUL-terminated unless cap > *len, in which case a NUL
 * follows. Independent. Also returns SIMREC_EINVAL (ds or len NULL, NULL
 * buf with a capacity, a numeric dataset), SIMREC_ERANGE (index past the
 * records), SIMREC_EFORMAT (an item that is missing, corrupt, or a string
 * that is not valid UTF-8), SIMREC_EIO, SIMREC_ELOCK, SIMREC_ECONN /
 * SIMREC_ESERVER / SIMREC_ETIMEDOUT (redis), SIMREC_ENOMEM.
 */
SIMREC_API int simrec_dataset_read_bytes(simrec_dataset_t *ds, size_t index,
                                         void *buf, size_t cap, size_t *len);

/*
 * Store-specific facts about the dataset as a JSON object text, e.g.
 * {"store": "zarr", "compressor": {...}, "stored_bytes": 1234}. *json is
 * malloc'd; the caller frees it with free(). Independent. Returns
 * SIMREC_EINVAL (ds or json NULL), SIMREC_ENOMEM; facts the store cannot
 * read are left out.
 */
SIMREC_API int simrec_dataset_describe(simrec_dataset_t *ds, char **json);

/* Independent. Checks that ds's data is whole inside its shape: every
 * chunk present and decoding (zarr), allocated and of full size (HDF5,
 * unless written in parallel, which allocates every chunk early). *whole
 * gets the number of leading records that are whole. SIMREC_EFORMAT if
 * it is fewer than the shape (simrec_errmsg names the steps and the first
 * bad chunk); SIMREC_ENOTSUP if the store cannot tell (*whole is then the
 * shape). Used by `simrec verify`. */
SIMREC_API int simrec_dataset_verify(simrec_dataset_t *ds, size_t *whole);

/* As simrec_dataset_verify, without decoding: a zarr chunk counts as whole
 * when it is there and its size (raw) or its blosc frame's header
 * (compressed: sizes, typesize, block size) fits the chunk. A chunk whose
 * header fits but whose data does not decode fails the read that meets it
 * (SIMREC_EFORMAT): no reader gets wrong bytes. Other stores check as
 * simrec_dataset_verify does (they decode nothing there). For a reader
 * that reads every chunk next (`simrec export`): each is decoded once.
 * Independent; the same errors as simrec_dataset_verify. */
SIMREC_API int simrec_dataset_verify_stored(simrec_dataset_t *ds,
                                            size_t *whole);

/* Independent, on a recorder open for writing (serial). Cuts the recorded
 * dataset of key to its first rows records (rows no more than it holds);
 * used by `simrec verify --repair` after a crash. Every store can (redis:
 * one transaction, docs/redis-format.md). Returns SIMREC_EINVAL (rec or
 * key), SIMREC_EREADONLY, SIMREC_ENOKEY, SIMREC_EKIND (a value or a group:
 * nothing to cut), SIMREC_ERANGE (rows more than it holds), SIMREC_ENOTSUP
 * (a recorder of simrec_open_comm(), a bytes/strings dataset), SIMREC_EIO,
 * SIMREC_ELOCK,
 * SIMREC_ECONN / SIMREC_ESERVER / SIMREC_ETIMEDOUT (redis),
 * SIMREC_ENOMEM. */
SIMREC_API int simrec_truncate(simrec_t *rec, const char *key, size_t rows);

/*
 * Live follow: wait until the recorded dataset of key holds more than
 * `have` committed records, and set *now to its record count. A reader
 * follows a running simulation with it: have = 0, then have = *now after
 * reading the new records, until SIMREC_EFINISHED. It shows only what the
 * commit mark covers (whole steps, never a torn one) and holds no lock
 * between its looks at the store. A key that does not exist yet in a
 * running store counts as 0 records (it is waited for); in a finished
 * store it never comes: SIMREC_ENOKEY naming it. timeout_s: seconds to
 * wait (0: look once; negative: forever).
 *
 * How it waits, per store: redis publishes every commit and the finished
 * mark on the channel "PREFIX:notify" and the follower subscribes
 * (docs/redis-format.md); zarr:, zarr+dir: and hdf5: under ?lock= are
 * watched with inotify (the LMDB data file; the store's root and the
 * key's folders; the HDF5 file); every store is also looked at every
 * ?poll= seconds (default 0.5), the fallback where no notification comes
 * (NFS, Lustre, a lost redis connection). memory: has no other writer
 * than the recorder itself: the call never waits. A file written with
 * hdf5:...?swmr=1 is followed through SWMR reading (?swmr=1 in the
 * reader's URI; each look refreshes the dataset and the finished mark)
 * and ends with SIMREC_EFINISHED as the others do. A plain hdf5: file (no
 * ?lock=, no SWMR) cannot be followed: HDF5 readers do not see a writer's later
 * commits without SWMR or a reopen.
 *
 * A writer marks its stores finished when it closes them (the root
 * attribute "_simrec_finished", docs/format.md; a writer that reopens the
 * store to append clears it). Returns 0 (*now > have), SIMREC_EFINISHED
 * when the writer closed the store and no record after `have` exists
 * (*now is the final count), SIMREC_ETIMEDOUT after timeout_s without a
 * new record (*now is the count, at most have; a writer killed by a
 * signal never marks its store: followers end by this timeout),
 * SIMREC_EINVAL (rec, key or now NULL, an invalid key, a timeout that is
 * NaN), SIMREC_ENOKEY (key absent from a finished store), SIMREC_EKIND
 * (key is a group or a set value), SIMREC_ENOTSUP (a rank that opened
 * no store; plain hdf5: without ?lock= or SWMR), SIMREC_EIO,
 * SIMREC_EFORMAT, SIMREC_ELOCK, SIMREC_ECONN / SIMREC_ESERVER /
 * SIMREC_ETIMEDOUT (redis), SIMREC_ENOMEM. Independent; reads the first
 * store of the recorder. Nothing is allocated for the caller.
 */
SIMREC_API int simrec_follow(simrec_t *rec, const char *key, size_t have,
                             double timeout_s, size_t *now);

/* Bytes the first store occupies on disk, or -1 if unknown (redis, a NULL
 * rec, a rank that opened no store). Independent. */
SIMREC_API long long simrec_disk_bytes(simrec_t *rec);

/* Free the handle (before its recorder); accepts NULL. */
SIMREC_API void simrec_dataset_close(simrec_dataset_t *ds);

/* ---- readers-writer lock (redis) ----------------------------------------
 *
 * A lock on a named resource (usually a store path) held in redis, with
 * writer preference: once a writer waits, new readers wait behind it.
 * Every state change is one Lua script run on the server. Holders and
 * waiting writers hold leases that a background thread renews while the
 * process lives: a holder killed with SIGKILL, or a host that vanishes,
 * frees the lock when its lease runs out. A write acquire returns a fencing
 * token that only ever grows. See docs/lock.md.
 */
typedef struct simrec_lock simrec_lock_t;

typedef enum simrec_lock_mode {
	SIMREC_LOCK_READ = 0,
	SIMREC_LOCK_WRITE = 1
} simrec_lock_mode_t;

typedef struct simrec_lock_status {
	int readers;         /* holders of the read lock */
	int writer;          /* 1 if a writer holds it */
	int waiting_writers; /* writers queued (they block new readers) */
	uint64_t token;      /* the last fencing token handed out */
	char writer_id[128]; /* "host:pid:n" of the writer, if any */
	double writer_lease; /* seconds left on the writer's lease */
	double writer_since; /* when the writer took it (Unix seconds, the
	                        server's clock); 0 if unknown */
} simrec_lock_status_t;

/* Open a lock client for resource on redis_uri ("redis://host:port[/db]",
 * host from SIMREC_REDIS_HOST if empty). lease_seconds: how long a dead
 * holder keeps the lock (0: 5 s; at most 1e6 s). SIMREC_EINVAL for an
 * empty resource or a lease that is negative, not finite or above 1e6 s.
 * Independent: connects at once. Also returns SIMREC_EURI (not a redis://
 * URI, a bad one), SIMREC_ECONFIG (SIMREC_REDIS_MAX_REPLY), SIMREC_ECONN /
 * SIMREC_ESERVER (the server), SIMREC_ENOMEM; on failure *out is NULL and
 * the reason is printed on stderr. */
SIMREC_API int simrec_lock_open(simrec_lock_t **out, const char *redis_uri,
                                const char *resource, double lease_seconds);
/* Acquire shared (READ) or exclusive (WRITE) within timeout_seconds
 * (SIMREC_ETIMEDOUT after). For WRITE, *token (may be NULL) receives the
 * fencing token. One round trip when uncontended. SIMREC_EINVAL for a
 * NULL l, a bad mode, a lock this client already holds, a negative or
 * non-finite timeout; SIMREC_ECONN / SIMREC_ESERVER for the server. */
SIMREC_API int simrec_lock_acquire(simrec_lock_t *l, simrec_lock_mode_t mode,
                                   double timeout_seconds, uint64_t *token);
/* Release what this client holds. SIMREC_ELOCK if its lease had run out
 * (someone else may have held the lock meanwhile); SIMREC_EINVAL for a
 * NULL l; SIMREC_ECONN / SIMREC_ESERVER for the server. */
SIMREC_API int simrec_lock_release(simrec_lock_t *l);
/* SIMREC_ELOCK if this client's lease was lost while holding. */
SIMREC_API int simrec_lock_check(simrec_lock_t *l);
/* The lock's state into *st. SIMREC_EINVAL (l or st NULL), SIMREC_ECONN /
 * SIMREC_ESERVER for the server. */
SIMREC_API int simrec_lock_status(simrec_lock_t *l, simrec_lock_status_t *st);
/* Clear every holder and waiter of the resource (manual recovery).
 * SIMREC_EINVAL (l NULL), SIMREC_ECONN / SIMREC_ESERVER for the server. */
SIMREC_API int simrec_lock_break(simrec_lock_t *l);
/* Detail of the last failure of l (naming the resource and the server);
 * valid until the next call on l. */
SIMREC_API const char *simrec_lock_errmsg(const simrec_lock_t *l);
/* Releases what is held; accepts NULL. */
SIMREC_API void simrec_lock_close(simrec_lock_t *l);

#ifdef __cplusplus
}
#endif
#endif /* SIMREC_H */
