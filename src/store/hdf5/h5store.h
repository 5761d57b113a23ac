/* hdf5's private header: the store and dataset handles shared by the files of
 * src/store/hdf5/ (store.c the table, file.c the file and its filters, types.c
 * dtypes and paths, dataset.c datasets and writes, chunks.c encoded chunks,
 * vlen items, checks and reads, attrs.c attributes and listing). */
#ifndef SIMREC_STORE_HDF5_H
#define SIMREC_STORE_HDF5_H

#include <hdf5.h>

#include "../../codec/codec.h"
#include "../store.h"

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
	/* datasets detached from a dimension-only scale that a coordinate
	 * of that name replaces: attached to it once it is made (dims.c) */
	struct h5_takeover *takeover;
	/* ?swmr=1 (swmr.c): SWMR writing started (at the first commit that
	 * carries records); records appended since the open; a reader opened
	 * the file for SWMR reading; the store is closing (its last commit
	 * starts nothing); the datasets whose metadata is corked until the
	 * next commit */
	int swmr_on, swmr_data, swmr_read, closing;
	hid_t *corked;
	size_t ncorked, capcorked;
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
	/* a chunk never written: 0 not yet known, 1 damage (no fill value
	 * declared: fill time "never", simrec's own), 2 reads as the fill */
	int unwritten;
} h5_ds;

/* The hidden name a new value is written under, next to its key: a
 * ".simrec" part, which keys may not use (sr_key_valid). */
#define H5_NEW ".simrec-new."

/* filter.c */
/* Register simrec's own blosc filter (32001) in place of another one;
 * 0 if it was already in use. */
int h5_use_own_blosc(void);
/* Register the filters simrec writes with (blosc: simrec's own unless a
 * working one is registered; lzf), its blosc with nthreads threads. */
void h5_register_filters(int nthreads);

/* state.c */
int h5_file_begin(sr_store *st);
void h5_file_end(sr_store *st);
int h5_errno(sr_store *st);
int h5_fail_err(sr_store *st, const char *what, int err);
int h5_fail(sr_store *st, const char *what);
/* SIMREC_EFORMAT: key crosses a link out of the file (h5_exists -1). */
int h5_link_refused(sr_store *st, const char *key);
/* SIMREC_EFORMAT: listing what (links, attributes) of key stopped with an
 * HDF5 error (err: its errno, or 0). */
int h5_damaged(sr_store *st, const char *key, const char *what, int err);
int h5_mark_key(sr_store *st, const char *key, size_t rows);
void h5_marks_clear(h5_store *h);
int h5_poison(sr_store *st, int rc);
int h5_sticky(sr_store *st);
void h5_reserve_drop(h5_store *h);

/* file.c */
int h5_open(sr_store *st);
int h5_commit(sr_store *st);
int h5_close(sr_store *st);

/* swmr.c */
/* SIMREC_ECONFIG if ?swmr=1 is asked of parallel writers, else 0. */
int h5_swmr_refuse_parallel(sr_store *st, const h5_store *h);
/* A SWMR writer's file access: the 1.10 format. */
void h5_swmr_fapl(sr_store *st, hid_t fapl);
/* Open the file read-only: plainly, or for SWMR reading when ?swmr=1 is
 * given or a SWMR writer has it open. */
hid_t h5_swmr_open_ro(sr_store *st, hid_t fapl);
/* A SWMR reader: reload dset's metadata (its extent). */
void h5_swmr_refresh(sr_store *st, hid_t dset);
/* SIMREC_ENOTSUP naming key if SWMR writing has started (what: the
 * object refused), else 0. */
int h5_swmr_refuse_new(sr_store *st, const char *key, const char *what);
/* attr_set once SWMR writing started: a new value written in place
 * into an attribute already there, a scalar of the same fixed-size type
 * (the finished mark, made at the start: h5_swmr_start); anything else
 * SIMREC_ENOTSUP (h5_swmr_refuse_new). */
int h5_swmr_attr_rewrite(sr_store *st, const char *key, const char *name,
                         const simrec_attr_t *a);
/* Before an append: keep d's metadata in the cache until the commit. */
int h5_swmr_cork(sr_store *st, h5_ds *d);
/* Let dset's metadata (every corked dataset's if dset < 0) be flushed. */
void h5_swmr_uncork(sr_store *st, hid_t dset);
/* After the first commit of a SWMR writer: H5Fstart_swmr_write. */
int h5_swmr_start(sr_store *st);

/* types.c */
hid_t h5_file_type(simrec_dtype_t dt);
hid_t h5_new_file_type(simrec_dtype_t dt);
hid_t h5_bool_type(void);
hid_t h5_mem_type(simrec_dtype_t dt);
int h5_dtype_of(hid_t t, simrec_dtype_t *dt, const char **why);
const char *h5_path_of(const char *key, char *buf, size_t cap);
/* 1 if every component of key exists, 0 if one does not, -1 if the path
 * crosses a link that is never followed (external, user-defined): a
 * refusal, never a traversal into another file. */
int h5_exists(hid_t file, const char *key);
int h5_is_group(hid_t file, const char *key);

/* dataset.c */
void h5_release(sr_store *st, void *ds);
int h5_lookup(sr_store *st, const char *key, sr_meta *m, void **ds);
int h5_ds_begin(sr_store *st, h5_ds *d);
void h5_ds_end(sr_store *st, h5_ds *d);
int h5_set_filters(sr_store *st, hid_t dcpl, const sr_meta *m);
int h5_create(sr_store *st, const char *key, const sr_meta *m, void **ds);
size_t h5_dim0(h5_ds *d);
void h5_rollback(h5_ds *d, const sr_meta *m, size_t old);
int h5_extend(sr_store *st, h5_ds *d, const sr_meta *m);
void h5_select_slab(h5_ds *d, int nd, const size_t *start, const size_t *count,
                    hid_t *fs, hid_t *ms);
int h5_room(sr_store *st, h5_store *h, size_t bytes);
int h5_room_free(sr_store *st);
int h5_begin_append(sr_store *st, h5_ds *d, const sr_meta *m, size_t *old);
int h5_write(sr_store *st, void *ds, const sr_meta *m, const size_t *start,
             const size_t *count, const void *data);

/* chunks.c */
int h5_encoded_codec(sr_store *st, void *ds, sr_codec *c);
int h5_write_encoded(sr_store *st, void *ds, const sr_meta *m, size_t n,
                     const size_t *idx, const void *const *frames,
                     const size_t *lens);
int h5_check_vlen(sr_store *st, void *ds, const sr_meta *m,
                  const sr_blob *item);
int h5_publish(sr_store *st, h5_ds *d, int rc);
int h5_write_vlen(sr_store *st, void *ds, const sr_meta *m, size_t row0,
                  size_t n, const sr_blob *items);
int h5_flush_pending_vlen(sr_store *st, int rc);
int h5_check(sr_store *st, void *ds, const sr_meta *m, size_t *whole);
int h5_read(sr_store *st, void *ds, const sr_meta *m, const size_t *start,
            const size_t *count, void *buf);
int h5_read_vlen(sr_store *st, void *ds, const sr_meta *m, size_t index,
                 sr_blob *out);

/* attrs.c */
/* dims.c */
/* Name key's axes (a SIMREC_ATTR_STRINGS of the dataset's rank) with
 * netCDF-4's dimension scales in key's group. */
int h5_dims_set(sr_store *st, const char *key, const simrec_attr_t *a);
/* Detach the dataset at path from every scale it is attached to (before
 * it is deleted: a replaced value); best effort. */
void h5_dims_detach(hid_t file, const char *path);
/* SIMREC_ENOKEY if key is a dimension-only scale (not a dataset of
 * simrec's), else 0. */
int h5_dims_lookup(sr_store *st, const char *key);
/* If key is a dimension-only scale (a coordinate recorded after the keys
 * that use its dimension): detach those keys, remember them, and remove
 * the scale, so that the coordinate is created in its place and takes
 * them over when its names are set. 0 or a failure. */
int h5_dims_before_create(sr_store *st, const char *key);
/* key's dimension names as the attribute _ARRAY_DIMENSIONS (STRINGS,
 * out owned by the caller) from the scales its axes are attached to;
 * SIMREC_ENOKEY if key is no dataset or an axis has no scale. */
int h5_dims_get(sr_store *st, const char *key, simrec_attr_t *out);
/* Free what h5_dims_lookup remembered (close). */
void h5_dims_free(h5_store *h);
/* Is name (in loc) a netCDF dimension that is not a variable? */
int h5_is_dim_only(hid_t loc, const char *name);
/* Is name an attribute of the dimension scales' layout on o (hidden from
 * listings: references, and a scale's CLASS and NAME)? */
int h5_is_scale_attr(hid_t o, const char *name);

int h5_attr_set(sr_store *st, const char *key, const char *name,
                const simrec_attr_t *a);
char *h5_describe(sr_store *st, void *ds, const sr_meta *m);
int h5_attr_get(sr_store *st, const char *key, const char *name,
                simrec_attr_t *out);
int h5_attr_list(sr_store *st, const char *key, sr_attr_fn fn, void *arg);
int h5_list(sr_store *st, const char *prefix, sr_list_fn fn, void *arg);
long long h5_disk_bytes(sr_store *st);

#endif
