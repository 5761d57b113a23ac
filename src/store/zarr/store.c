/* zarr v2 store over a key-value layer: "zarr:PATH" (LMDB, as zarr-python's
 * LMDBStore) and "zarr+dir:PATH" (DirectoryStore): opening, closing, the two
 * store tables. Metadata JSON is written as zarr-python 2.x writes it (sorted
 * keys, 4-space indent), chunks are blosc frames or raw bytes, chunk keys
 * "i.j.k". See docs/format.md. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <unistd.h>

#include "../../common/clock.h"
#include "zarr.h"

/* ---- open / close ------------------------------------------------------ */

static int rm_entry(const char *p, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
	SR_UNUSED(sb);
	SR_UNUSED(flag);
	SR_UNUSED(ftw);
	return remove(p);
}

static int refuse(sr_err *e, const char *path, const char *why, int lmdb)
{
	return sr_fail(e, SIMREC_EFORMAT,
	               "refusing to replace '%s' (mode=w): %s, not %s; it is "
	               "left as it is (see docs/safety.md)",
	               path, why,
	               lmdb ? "an LMDB zarr store (a directory holding "
	                      "data.mdb and lock.mdb, with a root .zgroup)"
	                    : "a zarr directory store (a directory holding "
	                      ".zgroup)");
}

/* What a store directory holds: *entries, whether its marker (a regular
 * data.mdb for LMDB, .zgroup for a directory store) is there, and for
 * LMDB whether anything besides data.mdb and lock.mdb is. Links are not
 * followed. -1 (errno set) if path cannot be read as a directory. */
static int scan_dir(const char *path, int lmdb, int *entries, int *marker,
                    int *foreign)
{
	*entries = *marker = *foreign = 0;
	DIR *d = opendir(path);
	if (!d)
		return -1;
	const char *want = lmdb ? "data.mdb" : ".zgroup";
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		(*entries)++;
		struct stat eb;
		int reg = fstatat(dirfd(d), n, &eb, AT_SYMLINK_NOFOLLOW) == 0 &&
		          S_ISREG(eb.st_mode);
		if (reg && !strcmp(n, want))
			*marker = 1;
		else if (lmdb && !(reg && !strcmp(n, "lock.mdb")))
			*foreign = 1;
	}
	closedir(d);
	return 0;
}

/* Create mode replaces an existing store and nothing else (see
 * docs/safety.md): a missing path or an empty directory is used as it is;
 * an LMDB store loses its data.mdb and lock.mdb (the directory stays); a
 * directory store is removed as a tree, links removed and never followed.
 * A symbolic link, a file, or a directory of anything else is refused. */
static int remove_store(const char *path, int lmdb, sr_err *e)
{
	struct stat sb;
	if (lstat(path, &sb))
		return errno == ENOENT ? 0
		                       : sr_fail(e, SIMREC_EIO,
		                                 "cannot inspect '%s': %s",
		                                 path, strerror(errno));
	if (S_ISLNK(sb.st_mode))
		return refuse(e, path, "it is a symbolic link", lmdb);
	if (!S_ISDIR(sb.st_mode))
		return refuse(e, path, "it is not a directory", lmdb);
	int entries, marker, foreign;
	if (scan_dir(path, lmdb, &entries, &marker, &foreign))
		return sr_fail(e, SIMREC_EIO, "cannot read directory '%s': %s",
		               path, strerror(errno));
	if (!entries)
		return 0;
	if (foreign || !marker)
		return refuse(e, path,
		              lmdb ? "the directory holds other files than "
		                     "data.mdb and lock.mdb"
		                   : "the directory holds no .zgroup",
		              lmdb);
	if (lmdb && !sr_kv_lmdb_is_zarr(path))
		return refuse(e, path, "its data.mdb holds no zarr root", lmdb);
	int bad;
	if (lmdb) {
		char p[4096];
		snprintf(p, sizeof p, "%s/data.mdb", path);
		bad = unlink(p);
		snprintf(p, sizeof p, "%s/lock.mdb", path);
		bad = bad || (unlink(p) && errno != ENOENT);
	} else {
		bad = nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0;
	}
	if (bad)
		return sr_fail(e, SIMREC_EIO,
		               "cannot remove old store '%s': %s", path,
		               strerror(errno));
	return 0;
}

/* Append mode creates a store where there is none, and nothing more: an
 * existing directory that holds files but no store (no .zgroup, or for
 * LMDB no data.mdb) belongs to someone else and is refused before anything
 * is written to it, or a later mode=w would count it as a store. */
static int refuse_foreign(const char *path, int lmdb, sr_err *e)
{
	int entries, marker, foreign;
	if (scan_dir(path, lmdb, &entries, &marker, &foreign))
		return 0; /* missing or not a directory: the kv layer decides */
	const char *want = lmdb ? "data.mdb" : ".zgroup";
	if (entries && !marker)
		return sr_fail(e, SIMREC_EFORMAT,
		               "'%s' is a non-empty directory that is not a "
		               "zarr store (no %s); nothing was written to it "
		               "(see docs/safety.md)",
		               path, want);
	return 0;
}

/* What existed before this open, so that a failed create removes only
 * what it made itself (a half-made LMDB environment without a root would
 * otherwise be refused by every later mode=w). */
typedef struct made {
	int dir, data, lock;
} made;

static int exists_at(const char *path, const char *leaf)
{
	char p[4096];
	struct stat sb;
	snprintf(p, sizeof p, "%s%s%s", path, leaf ? "/" : "",
	         leaf ? leaf : "");
	return lstat(p, &sb) == 0;
}

static void undo_create(const char *path, const made *before)
{
	char p[4096];
	if (!before->data) {
		snprintf(p, sizeof p, "%s/data.mdb", path);
		unlink(p);
	}
	if (!before->lock) {
		snprintf(p, sizeof p, "%s/lock.mdb", path);
		unlink(p);
	}
	if (!before->dir)
		rmdir(path); /* only if empty */
}

static int zarr_open_kv(sr_store *st, const sr_kv_ops *kvo)
{
	zarr_store *z = calloc(1, sizeof *z);
	if (!z)
		return SIMREC_ENOMEM;
	z->kvo = kvo;
	int rc = 0;
	const char *path = st->uri.path;
	int lmdb = kvo == &sr_kv_lmdb;
	int writer = st->mode != SIMREC_MODE_READONLY && st->meta_writer;
	z->owner_fd = -1;
	/* one writer per store; under ?lock= the lock server decides */
	if (writer && !st->shared)
		rc = sr_owner_take(path, &z->owner_fd, st->err);
	if (!rc && st->mode == SIMREC_MODE_CREATE && st->meta_writer)
		rc = remove_store(path, lmdb, st->err);
	else if (!rc && writer)
		rc = refuse_foreign(path, lmdb, st->err);
	made before = {exists_at(path, NULL), exists_at(path, "data.mdb"),
	               exists_at(path, "lock.mdb")};
	/* as zarr-python; sparse */
	size_t map_size =
	        st->set.has_map_size ? st->set.map_size : (size_t)1 << 40;
	if (!rc &&
	    (rc = kvo->open(&z->kv, path, st->mode, map_size, st->err)) &&
	    writer && lmdb)
		undo_create(path, &before);
	if (rc) {
		sr_owner_release(path, z->owner_fd);
		free(z);
		return rc;
	}
	st->impl = z;
	if (writer) {
		if (!(rc = kvo->begin(z->kv))) {
			rc = zarr_ensure_groups(z, "", 1, st->err);
			rc = rc ? (kvo->abort(z->kv), rc) : kvo->commit(z->kv);
		}
		if (!rc)
			rc = sr_owner_bind(path, z->owner_fd, st->err);
	} else if (!(rc = kvo->read_begin(z->kv))) {
		if (!zarr_has_key(z, "", ".zgroup"))
			rc = sr_fail(
			        st->err, SIMREC_EFORMAT,
			        "'%s' is not a zarr group (no .zgroup at its "
			        "root)",
			        path);
		kvo->read_end(z->kv);
	}
	if (rc) {
		kvo->close(z->kv);
		if (writer && lmdb)
			undo_create(path, &before);
		sr_owner_release(path, z->owner_fd);
		free(z);
		st->impl = NULL;
	}
	return rc;
}

static int zarr_open_lmdb(sr_store *st)
{
	return zarr_open_kv(st, &sr_kv_lmdb);
}

static int zarr_open_dir(sr_store *st)
{
	return zarr_open_kv(st, &sr_kv_dir);
}

static int zarr_commit(sr_store *st)
{
	zarr_store *z = st->impl;
	/* sync=0: committed (safe from a crashed process) but not forced to
	 * disk, as zarr-python's LMDBStore does; for scratch data */
	int rc = zarr_attrs_flush(z);
	if (rc || st->mode == SIMREC_MODE_READONLY ||
	    (st->set.has_sync && !st->set.sync))
		return rc;
	double t0 = sr_clock();
	rc = z->kvo->sync(z->kv);
	st->t_sync += sr_clock() - t0;
	return rc;
}

static int zarr_close(sr_store *st)
{
	zarr_store *z = st->impl;
	int rc = zarr_commit(st);
	z->kvo->close(z->kv);
	sr_owner_release(st->uri.path, z->owner_fd);
	free(z->cbuf);
	free(z->chunk);
	for (int i = 0; i < z->nwb; i++)
		free(z->wb[i].chunk);
	free(z->wb);
	free(z);
	return rc;
}

#define ZARR_OPS                                                               \
	.version = SR_STORE_OPS_VERSION, .close = zarr_close,                  \
	.commit = zarr_commit, .lookup = zarr_lookup, .create = zarr_create,   \
	.write = zarr_write, .write_vlen = zarr_write_vlen, .read = zarr_read, \
	.read_vlen = zarr_read_vlen, .release = zarr_release,                  \
	.attr_set = zarr_attr_set, .attr_get = zarr_attr_get,                  \
	.attr_list = zarr_attr_list, .list = zarr_list,                        \
	.disk_bytes = zarr_disk_bytes, .describe = zarr_describe,              \
	.check = zarr_check, .check_stored = zarr_check_stored,                \
	.encoded_codec = zarr_encoded_codec,                                   \
	.write_encoded = zarr_write_encoded, .notify_arm = zarr_notify_arm

const sr_store_ops sr_zarr_lmdb_ops = {
        .scheme = "zarr",
        .flags = SR_STORE_ONE_NODE | SR_STORE_HOLD_EXTENT |
                 SR_STORE_NOTIFY_EARLY,
        .default_codec = "lz4",
        .default_chunk_bytes = 1u << 20,
        .param_bit = SR_IN_ZARR_LMDB,
        .open = zarr_open_lmdb,
        ZARR_OPS,
};

const sr_store_ops sr_zarr_dir_ops = {
        .scheme = "zarr+dir",
        .flags = SR_STORE_SHARED_FILE | SR_STORE_HOLD_EXTENT,
        /* one file per chunk: bigger chunks, fewer files (measured:
         * 1 MiB chunk files halve the bandwidth) */
        .default_codec = "lz4",
        .default_chunk_bytes = 8u << 20,
        .param_bit = SR_IN_ZARR_DIR,
        .open = zarr_open_dir,
        ZARR_OPS,
};
