/* Key-value layer under the zarr store: LMDB or a directory tree. zarr
 * keys ("a/b/.zarray", "a/b/0.0") map to LMDB keys or relative paths. */
#ifndef SIMREC_KV_H
#define SIMREC_KV_H

#include "../../common/common.h"

typedef struct sr_kv sr_kv;

/* files a layer keeps open between ask and get (see ask) */
#define SR_KV_ASK_MAX 64

typedef struct sr_kv_ops {
	int (*open)(sr_kv **out, const char *path, simrec_mode_t mode,
	            size_t map_size, sr_err *e);
	void (*close)(sr_kv *kv);
	/* write batch: begin, put/del..., commit (durable: sync to disk) */
	int (*begin)(sr_kv *kv);
	int (*commit)(sr_kv *kv);
	void (*abort)(sr_kv *kv);
	int (*sync)(sr_kv *kv);
	/* reads: pointers from get stay valid until read_end */
	int (*read_begin)(sr_kv *kv);
	void (*read_end)(sr_kv *kv);
	/* a value over max bytes is SIMREC_EFORMAT, refused before it is
	 * read (a file's size is checked first) */
	int (*get)(sr_kv *kv, const char *key, size_t max, const void **val,
	           size_t *len);
	int (*put)(sr_kv *kv, const char *key, const void *val, size_t len);
	/* remove key (in the write batch); an absent key is no error */
	int (*del)(sr_kv *kv, const char *key);
	/* put a value of exactly len bytes that the caller then writes
	 * through *val, valid until the next call on kv (LMDB: MDB_RESERVE,
	 * the bytes go straight into the page that commit writes, one copy
	 * less than put); NULL where a layer has none (use put) */
	int (*reserve)(sr_kv *kv, const char *key, size_t len, void **val);
	/* optional, a hint only: start reading key's value into memory
	 * now, so that the get of it a little later does not wait for the
	 * disk (the directory layer: POSIX_FADV_WILLNEED on the file, kept
	 * open for that get, the last SR_KV_ASK_MAX asked; LMDB's values
	 * are pages of its map, asked by the reader with madvise). Never
	 * fails; a key that is not a regular file is left to the get. A
	 * read ends with ask(kv, NULL): the files asked and not read are
	 * forgotten (a later read opens them again, as they are then). */
	void (*ask)(sr_kv *kv, const char *key);
	/* every key starting with prefix, in sorted order */
	int (*list)(sr_kv *kv, const char *prefix,
	            int (*fn)(const char *key, void *arg), void *arg);
	long long (*disk_bytes)(sr_kv *kv);
	/* Optional (NULL where a write batch is atomic already: LMDB):
	 * replace the directory of key whole (simrec_set). After stage(key),
	 * puts, gets and dels of keys below "key/" go to a new hidden
	 * directory beside it, other puts wait in memory (gets see them);
	 * publish makes the new directory durable, swaps it with key's in
	 * one step, removes the old one, then does the waiting puts; unstage
	 * drops the new directory and the waiting puts (the old value
	 * stays). Both end the staging. */
	int (*stage)(sr_kv *kv, const char *key);
	int (*publish)(sr_kv *kv);
	void (*unstage)(sr_kv *kv);
	/* put may run on several threads at once for different keys, while
	 * nothing is staged (a directory: each key its own file); 0 where a
	 * write batch takes one put at a time (LMDB) */
	int concurrent_put;
} sr_kv_ops;

/* The bound of a metadata document (.zarray, .zgroup, .zattrs,
 * .zmetadata) read whole and parsed. */
#define SR_ZARR_META_MAX ((size_t)16 << 20)
/* The bound of a chunk of variable-length items (the metadata gives no
 * item size): a chunk's limit, 4 GiB. */
#define SR_ZARR_VLEN_CHUNK_MAX ((size_t)4 << 30)
extern const sr_kv_ops sr_kv_lmdb;
extern const sr_kv_ops sr_kv_dir;

/* Does the LMDB environment directory path hold a zarr root (.zgroup)?
 * Opens it read-only without its lock file: nothing is written. */
int sr_kv_lmdb_is_zarr(const char *path);

/* The test hook of a writer killed in the middle of a set: called after
 * every put that succeeded. Only test binaries define it (the one of
 * tests/hostile_probe.c kills its process after SIMREC_TEST_KILL_AFTER_PUTS
 * puts); the library holds a weak reference, NULL everywhere else. */
__attribute__((weak, visibility("default"))) void sr_test_after_put(void);

#endif
