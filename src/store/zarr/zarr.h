/* zarr's private header: the store and dataset handles shared by the files of
 * src/store/zarr/ (store.c opens, metadata.c reads and writes .zarray, chunks.c
 * the chunks, json.c the JSON documents and attributes, list.c the
 * listing). */
#ifndef SIMREC_STORE_ZARR_H
#define SIMREC_STORE_ZARR_H

#include <jansson.h>

#include "../../codec/codec.h"
#include "../store.h"
#include "kv.h"

#define VALUE_ATTR  "_simrec_value"
#define RECORD_ATTR "_simrec_record" /* list-like: records append */

/* A worker's buffer in a write of chunks on several threads: a chunk
 * assembled from a region that is not one run of the caller's data. */
typedef struct zarr_wbuf {
	void *chunk;
	size_t chcap;
} zarr_wbuf;

typedef struct zarr_store {
	const sr_kv_ops *kvo;
	int owner_fd; /* the writer lock (owner.c), or -1 */
	sr_kv *kv;
	void *cbuf; /* compressed chunk */
	size_t ccap;
	void *chunk; /* decoded/assembled chunk */
	size_t chcap;
	zarr_wbuf *wb; /* a parallel write's workers' (put_threads) */
	int nwb;
	/* while zarr_attr_list calls back: the attributes it lists, so that
	 * a get of each from the callback (simrec info, export) costs a
	 * lookup, not a parse of the whole document (N names: O(N), not
	 * O(N^2)) */
	json_t *listed;
	const char *listed_key;
	/* attributes set one after another on one key: its .zattrs in
	 * memory, written once by the next other operation (zarr_begin,
	 * zarr_read_begin), commit or close; N sets cost O(N), not a
	 * rewrite of the whole document each (O(N^2)) */
	json_t *pend;
	char *pend_key;
	sr_err *pend_err;
} zarr_store;

typedef struct zds {
	char *key;
	int compressed;
	sr_codec codec; /* for writing: the store's, or "none" */
	unsigned char fill[SR_FILL_MAX];
	/* the .zarray declares a fill_value: a chunk not stored reads as
	 * it; without one (simrec's numbers: null) a chunk inside the shape
	 * that is not stored is damage (SIMREC_EFORMAT) */
	int has_fill;
	size_t stored_rows; /* shape[0] last written to .zarray */
	char sep;           /* dimension_separator: '.' or '/' */
	int staged; /* a value being set in a staged directory (kv stage) */
	/* a value's create left its transaction open (a layer that does not
	 * stage: LMDB): its metadata and chunks commit together */
	int txn_open;
} zds;

/* json.c */
char *zarr_cat_key(const char *key, const char *leaf);
int zarr_put_json(zarr_store *z, const char *key, const char *leaf, json_t *j,
                  sr_err *e);
int zarr_get_json(zarr_store *z, const char *key, const char *leaf,
                  json_t **out, sr_err *e);
int zarr_has_key(zarr_store *z, const char *key, const char *leaf);
int zarr_ensure_groups(zarr_store *z, const char *key, int include_self,
                       sr_err *e);
int zarr_get_attrs(zarr_store *z, const char *key, json_t **out, sr_err *e);
/* Write the attributes held back by zarr_attr_set (if any): 0 or the
 * status of the write, which names the key. */
int zarr_attrs_flush(zarr_store *z);
/* The key-value layer's begin and read_begin, after zarr_attrs_flush: every
 * operation but zarr_attr_set starts with one of them. */
int zarr_begin(zarr_store *z);
int zarr_read_begin(zarr_store *z);
int zarr_put_attrs(zarr_store *z, const char *key, json_t *j, sr_err *e);
int zarr_attr_set(sr_store *st, const char *key, const char *name,
                  const simrec_attr_t *a);
int zarr_attr_get(sr_store *st, const char *key, const char *name,
                  simrec_attr_t *out);
int zarr_attr_list(sr_store *st, const char *key, sr_attr_fn fn, void *arg);

/* list.c */
int zarr_list(sr_store *st, const char *prefix, sr_list_fn fn, void *arg);
/* key has no .zarray nor .zgroup: SIMREC_EFORMAT naming it if entries lie
 * below it (its metadata was lost), else SIMREC_ENOKEY. */
int zarr_lost_meta(sr_store *st, const char *key);

/* metadata.c */
json_t *zarr_size_array(int n, const size_t *v);
int zarr_lookup(sr_store *st, const char *key, sr_meta *m, void **ds);
void zarr_release(sr_store *st, void *ds);
int zarr_create(sr_store *st, const char *key, const sr_meta *m, void **ds);

/* chunks.c */
/* Chunk key "key/i.j.k" (or "key/i/j/k"; "key/0" for a 0-d array). */
void zarr_chunk_key(char *buf, size_t cap, const zds *d, int ndim,
                    const size_t *idx);
/* Overlap of chunk idx with the selection: in-chunk start, in-selection
 * start, count. */
void zarr_overlap(int ndim, const size_t *chunks, const size_t *idx,
                  const size_t *start, const size_t *count, size_t *cstart,
                  size_t *sstart, size_t *n);
/* The most bytes a stored chunk of n decoded bytes may have: a blosc
 * frame given room beyond n + 16 (simrec's encoder) may carry its block
 * starts and each split stream's header, so the bound is loose; it only
 * keeps a file far larger than its chunk from being read. */
static inline size_t zarr_stored_max(size_t n)
{
	return n + n / 8 + 4096;
}
int zarr_write(sr_store *st, void *ds, const sr_meta *m, const size_t *start,
               const size_t *count, const void *data);
int zarr_encoded_codec(sr_store *st, void *ds, sr_codec *c);
int zarr_write_encoded(sr_store *st, void *ds, const sr_meta *m, size_t n,
                       const size_t *idx, const void *const *frames,
                       const size_t *lens);
int zarr_write_vlen(sr_store *st, void *ds, const sr_meta *m, size_t row0,
                    size_t n, const sr_blob *items);
int zarr_read_vlen(sr_store *st, void *ds, const sr_meta *m, size_t index,
                   sr_blob *out);
long long zarr_disk_bytes(sr_store *st);
/* read.c */
int zarr_read(sr_store *st, void *ds, const sr_meta *m, const size_t *start,
              const size_t *count, void *buf);
char *zarr_describe(sr_store *st, void *ds, const sr_meta *m);
int zarr_check(sr_store *st, void *ds, const sr_meta *m, size_t *whole);
int zarr_check_stored(sr_store *st, void *ds, const sr_meta *m, size_t *whole);

/* notify.c: what simrec_follow watches */
int zarr_notify_arm(sr_store *st, const char *key);

#endif
