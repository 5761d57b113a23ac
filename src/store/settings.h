/* Every URI parameter, declared once, and the typed struct a store's URI
 * is parsed into (once, at open: sr_settings_parse). The manual's "URI
 * parameters" section of include/simrec.h lists the same names with the
 * same stores; the settings_doc test compares the two. */
#ifndef SIMREC_STORE_SETTINGS_H
#define SIMREC_STORE_SETTINGS_H

#include "../common/common.h"

/* How a parameter's value is checked, and the C type it is parsed into. */
typedef enum sr_param_kind {
	SR_PARAM_STRING,  /* any text: const char * (into the store's URI) */
	SR_PARAM_SIZE,    /* bytes with an optional k/M/G/T (binary) unit */
	SR_PARAM_COUNT,   /* a non-negative integer: long */
	SR_PARAM_BOOL,    /* 0/1, true/false, yes/no: int */
	SR_PARAM_SECONDS, /* a positive number of seconds: double */
} sr_param_kind;

#define SR_CTYPE_STRING  const char *
#define SR_CTYPE_SIZE    size_t
#define SR_CTYPE_COUNT   long
#define SR_CTYPE_BOOL    int
#define SR_CTYPE_SECONDS double

/* Which stores accept a parameter: a store table names its own bit
 * (sr_store_ops.param_bit). */
enum {
	SR_IN_MEMORY = 1,
	SR_IN_ZARR_LMDB = 2,
	SR_IN_ZARR_DIR = 4,
	SR_IN_HDF5 = 8,
	SR_IN_REDIS = 16,
	SR_IN_ZARR = SR_IN_ZARR_LMDB | SR_IN_ZARR_DIR,
	SR_IN_ALL = 31,
};

/*
 * X(NAME, KIND, STORES, DEFAULT, DOC): NAME as written in the URI, KIND
 * SR_PARAM_*, STORES SR_IN_* bits, DEFAULT and DOC as the manual says
 * them. Order: the generic parameters first (the order of the message
 * naming the known ones), then each store's own.
 */
#define SR_URI_PARAMS(X)                                                      \
	X(mode, STRING, ALL, "the open's mode",                               \
	  "r, w or a: read-only, create (replacing a store simrec "           \
	  "recognises), append; a read-only open stays read-only.")           \
	X(codec, STRING, ALL, "lz4 for zarr and zarr+dir, none otherwise",    \
	  "blosclz, lz4, lz4hc, zstd, zlib (blosc) or none; hdf5 also "       \
	  "deflate and lzf.")                                                 \
	X(level, COUNT, ALL, "5", "compression level 0-9.")                   \
	X(shuffle, STRING, ALL, "byte", "none, byte or bit.")                 \
	X(threads, COUNT, ALL, "2",                                           \
	  "blosc threads, 1-256; a read decodes that many chunks at once, "   \
	  "and an uncompressed zarr+dir write puts that many chunk files "    \
	  "at once (one per MiB written).")                                   \
	X(chunk_bytes, SIZE, ALL, "1M, 8M for zarr+dir",                      \
	  "target chunk size, 1 B to 1 GiB.")                                 \
	X(lock, STRING, ALL, "none",                                          \
	  "redis://HOST:PORT of a readers-writer lock: every call runs in a " \
	  "read or write section (see Nesting, docs/lock.md).")               \
	X(lease, SECONDS, ALL, "5", "the lock's lease in seconds.")           \
	X(poll, SECONDS, ALL, "0.5",                                          \
	  "seconds between two looks at the store while simrec_follow() "     \
	  "waits: the fallback where no notification reaches the reader "     \
	  "(NFS, Lustre).")                                                   \
	X(map_size, SIZE, ZARR_LMDB, "1T",                                    \
	  "LMDB's map (sparse; the store cannot grow past it).")              \
	X(sync, BOOL, ZARR, "1",                                              \
	  "0: commits survive a crashed process but are not forced to "       \
	  "disk.")                                                            \
	X(swmr, BOOL, HDF5, "0",                                              \
	  "1: single-writer/multiple-reader: one writer rank, h5py readers "  \
	  "follow with refresh(); keys and attributes exist by the first "    \
	  "flush (docs/format.md).")                                          \
	X(prefix, STRING, REDIS, "simrec",                                    \
	  "the keys' prefix on the server (part of the lock name).")          \
	X(password, STRING, REDIS, "none",                                    \
	  "the server's password, %XX-escaped (or SIMREC_REDIS_PASSWORD).")   \
	X(user, STRING, REDIS, "none", "the ACL user.")                       \
	X(timeout, SECONDS, REDIS, "10",                                      \
	  "seconds a reply may take before SIMREC_ETIMEDOUT.")                \
	X(reconnect, COUNT, REDIS, "0",                                       \
	  "tries to reconnect after a lost server.")                          \
	X(cluster, BOOL, REDIS, "0",                                          \
	  "1: the hosts (HOST:PORT[,HOST:PORT...]) are seeds of a Redis "     \
	  "Cluster; keys are routed by hash slot (docs/redis-format.md).")

/* One field per parameter, and has_NAME: 1 if the URI gives it. A string
 * points into the store's own copy of its URI (lives with the store). */
typedef struct sr_settings {
#define SR_SETTINGS_FIELD_(name, kind, stores, dflt, doc) \
	SR_CTYPE_##kind name;                             \
	unsigned char has_##name;
	SR_URI_PARAMS(SR_SETTINGS_FIELD_)
#undef SR_SETTINGS_FIELD_
} sr_settings;

/* One parameter of the table, for code that walks it. */
typedef struct sr_param {
	const char *name;
	sr_param_kind kind;
	unsigned stores; /* SR_IN_* */
	const char *dflt, *doc;
} sr_param;

/* The table, in the order of SR_URI_PARAMS; *n its length. */
const sr_param *sr_params(size_t *n);

#endif
