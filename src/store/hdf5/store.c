/* hdf5:PATH - HDF5 files, serial or parallel (MPI-IO) when the store is opened
 * over a communicator of more than one rank. Key parts are groups; recorded
 * datasets are chunked with an unlimited first dimension. Compression: none
 * (default), "deflate" (shuffle + deflate, readable everywhere) or a blosc
 * codec name (HDF5 filter 32001 with the cd_values of hdf5-blosc / hdf5plugin:
 * readers need that plugin). This file: the store table, every op run with
 * HDF5's error printing off. */

#include "h5store.h"

/* ---- HDF5 error printing off inside simrec's calls only -------------- */

/* HDF5 prints its error stack by default; simrec turns failures into
 * SIMREC_E* codes, so it silences printing for the duration of each of its
 * own calls and gives the host application back its own setting. */
typedef struct quiet {
	H5E_auto2_t fn;
	void *data;
} quiet;

static quiet quiet_begin(void)
{
	quiet q = {NULL, NULL};
	H5Eget_auto2(H5E_DEFAULT, &q.fn, &q.data);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	return q;
}

static void quiet_end(quiet q)
{
	H5Eset_auto2(H5E_DEFAULT, q.fn, q.data);
}

/* The ops of the table, each run as q_OP: h5_OP between quiet_begin and
 * quiet_end. X(return type, OP, (parameters), (arguments)) */
#define H5_OPS(X)                                                             \
	X(int, open, (sr_store * st), (st))                                   \
	X(int, close, (sr_store * st), (st))                                  \
	X(int, commit, (sr_store * st), (st))                                 \
	X(int, lookup,                                                        \
	  (sr_store * st, const char *key, sr_meta *m, void **ds),            \
	  (st, key, m, ds))                                                   \
	X(int, create,                                                        \
	  (sr_store * st, const char *key, const sr_meta *m, void **ds),      \
	  (st, key, m, ds))                                                   \
	X(int, write,                                                         \
	  (sr_store * st, void *ds, const sr_meta *m, const size_t *start,    \
	   const size_t *count, const void *data),                            \
	  (st, ds, m, start, count, data))                                    \
	X(int, write_vlen,                                                    \
	  (sr_store * st, void *ds, const sr_meta *m, size_t row0, size_t n,  \
	   const sr_blob *items),                                             \
	  (st, ds, m, row0, n, items))                                        \
	X(int, check_vlen,                                                    \
	  (sr_store * st, void *ds, const sr_meta *m, const sr_blob *item),   \
	  (st, ds, m, item))                                                  \
	X(int, read,                                                          \
	  (sr_store * st, void *ds, const sr_meta *m, const size_t *start,    \
	   const size_t *count, void *buf),                                   \
	  (st, ds, m, start, count, buf))                                     \
	X(int, read_vlen,                                                     \
	  (sr_store * st, void *ds, const sr_meta *m, size_t index,           \
	   sr_blob *out),                                                     \
	  (st, ds, m, index, out))                                            \
	X(int, attr_set,                                                      \
	  (sr_store * st, const char *key, const char *name,                  \
	   const simrec_attr_t *a),                                           \
	  (st, key, name, a))                                                 \
	X(int, attr_get,                                                      \
	  (sr_store * st, const char *key, const char *name,                  \
	   simrec_attr_t *out),                                               \
	  (st, key, name, out))                                               \
	X(int, attr_list,                                                     \
	  (sr_store * st, const char *key, sr_attr_fn fn, void *arg),         \
	  (st, key, fn, arg))                                                 \
	X(int, list,                                                          \
	  (sr_store * st, const char *prefix, sr_list_fn fn, void *arg),      \
	  (st, prefix, fn, arg))                                              \
	X(char *, describe, (sr_store * st, void *ds, const sr_meta *m),      \
	  (st, ds, m))                                                        \
	X(int, check,                                                         \
	  (sr_store * st, void *ds, const sr_meta *m, size_t *whole),         \
	  (st, ds, m, whole))                                                 \
	X(int, encoded_codec, (sr_store * st, void *ds, sr_codec *c),         \
	  (st, ds, c))                                                        \
	X(int, write_encoded,                                                 \
	  (sr_store * st, void *ds, const sr_meta *m, size_t n,               \
	   const size_t *idx, const void *const *frames, const size_t *lens), \
	  (st, ds, m, n, idx, frames, lens))

#define QUIET_OP(type, op, params, args)  \
	static type q_##op params         \
	{                                 \
		quiet q_ = quiet_begin(); \
		type r_ = h5_##op args;   \
		quiet_end(q_);            \
		return r_;                \
	}
H5_OPS(QUIET_OP)

static void q_release(sr_store *st, void *ds)
{
	quiet q = quiet_begin();
	h5_release(st, ds);
	quiet_end(q);
}

/* simrec_follow: a reader under ?lock= opens the file for each look, so
 * it sees every commit; a SWMR reader (the file opened for SWMR reading:
 * ?swmr=1, or a SWMR writer has it open) refreshes each dataset at each
 * look (h5_swmr_refresh), so it sees the writer's flushed extent; either
 * way the writer's H5Fflush writes the file (inotify). A plain reader
 * holding the file open sees no later commit of another process (HDF5
 * caches its metadata). A SWMR file's finished mark is made before SWMR
 * writing starts and set in place at the close (swmr.c). */
static int h5_notify_arm(sr_store *st, const char *key)
{
	SR_UNUSED(key);
	h5_store *h = st->impl;
	if (!h->reopen && !h->swmr_read)
		return sr_fail(st->err, SIMREC_ENOTSUP,
		               "HDF5 file '%s': follow it under ?lock=, or "
		               "open a file written with ?swmr=1 with ?swmr=1 "
		               "(a plain reader holding the file open never "
		               "sees another process's later commits)",
		               st->uri.path);
	return sr_watch_add(st, st->uri.path);
}

const sr_store_ops sr_hdf5_ops = {
        .version = SR_STORE_OPS_VERSION,
        .scheme = "hdf5",
        .flags = SR_STORE_COLLECTIVE | SR_STORE_SHARED_FILE |
                 SR_STORE_FLUSH_IN_LOCK,
        .default_codec = "none",
        .extra_codecs = "deflate, lzf",
        .param_bit = SR_IN_HDF5,
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
        .notify_arm = h5_notify_arm,
};
