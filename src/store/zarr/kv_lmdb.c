/* LMDB key-value layer, laid out as zarr-python's LMDBStore: a directory
 * holding data.mdb / lock.mdb, one unnamed database, keys as UTF-8. */
#define _GNU_SOURCE /* sync_file_range */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/escape.h"
#include "../../common/oserr.h"
#include "../../common/size.h"
#include "kv.h"

struct sr_kv {
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *wtxn;
	MDB_txn *rtxn;
	int rdepth;
	size_t unflushed; /* bytes put since writeback was last started */
	char *path;
	sr_err *e;
};

static int lmdb_fail(sr_kv *kv, int rc, const char *what)
{
	/* an errno (LMDB reports a short write to a full disk as EIO):
	 * name the cause */
	if (rc > 0)
		return sr_fail(kv->e, SIMREC_EIO, "LMDB store '%s': %s: %s",
		               kv->path, what,
		               sr_os_cause(sr_os_refine(rc, kv->path)));
	return sr_fail(kv->e, SIMREC_EIO, "LMDB store '%s': %s: %s%s", kv->path,
	               what, mdb_strerror(rc),
	               rc == MDB_MAP_FULL ? " (raise map_size=)" : "");
}

/* LMDB maps data.mdb and reads pages straight from the map: a file cut
 * short (copied half, disk full, crash of a copy) would kill the reader
 * with SIGBUS inside liblmdb. So before mdb_env_open the two meta pages
 * are read with pread and the file must hold every page the newest valid
 * one says is in use (mm_last_pg). Layout (lmdb 0.9, 64-bit): page header
 * 16 bytes, then mm_magic u32, mm_version u32, mm_address, mm_mapsize,
 * mm_dbs[2] (48 bytes each; mm_dbs[0].md_pad is the page size),
 * mm_last_pg, mm_txnid. */
#define META_OFF   16
#define MDB_MAGIC_ 0xBEEFC0DEu

static uint64_t rd64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint32_t rd32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* 0: file absent or empty (LMDB creates it); else a SIMREC_E* status. */
static int check_data_file(const char *dir, sr_err *e)
{
	char p[4200];
	snprintf(p, sizeof p, "%s/data.mdb", dir);
	int fd = open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT
		               ? 0
		               : sr_fail(e, SIMREC_EFORMAT,
		                         "cannot open '%s': %s", p,
		                         errno == ELOOP
		                                 ? "it is a symbolic link"
		                                 : strerror(errno));
	struct stat sb;
	int rc = 0;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		rc = sr_fail(e, SIMREC_EFORMAT, "'%s' is not a regular file",
		             p);
		goto out;
	}
	if (sb.st_size == 0)
		goto out;
	uint64_t best_txn = 0, need = 0;
	int valid = 0;
	uint32_t psize = 0;
	for (int m = 0; m < 2; m++) {
		unsigned char h[META_OFF + 136];
		off_t at = m ? (off_t)psize : 0;
		if (m && !psize)
			break;
		if (pread(fd, h, sizeof h, at) != (ssize_t)sizeof h)
			continue;
		const unsigned char *mm = h + META_OFF;
		uint32_t ps = rd32(mm + 24);
		if (rd32(mm) != MDB_MAGIC_ || ps < 512 || ps > 65536 ||
		    (ps & (ps - 1)))
			continue;
		if (!m)
			psize = ps;
		else if (ps != psize)
			continue;
		uint64_t last = rd64(mm + 120), txn = rd64(mm + 128);
		if (last > (SR_SIZE_MAX / ps) - 1)
			continue;
		if (!valid || txn > best_txn) {
			best_txn = txn;
			need = (last + 1) * ps;
		}
		valid = 1;
	}
	if (!valid)
		rc = sr_fail(
		        e, SIMREC_EFORMAT,
		        "'%s' is not an LMDB data file (no valid meta page)",
		        p);
	else if ((uint64_t)sb.st_size < need ||
	         (uint64_t)sb.st_size < 2ull * psize)
		rc = sr_fail(e, SIMREC_EFORMAT,
		             "'%s' is truncated: %lld bytes, its header needs "
		             "%llu",
		             p, (long long)sb.st_size,
		             (unsigned long long)need);
out:
	close(fd);
	return rc;
}

static int kvl_open(sr_kv **out, const char *path, simrec_mode_t mode,
                    size_t map_size, sr_err *e)
{
	*out = NULL;
	sr_kv *kv = calloc(1, sizeof *kv);
	if (!kv || !(kv->path = strdup(path))) {
		free(kv);
		return SIMREC_ENOMEM;
	}
	kv->e = e;
	struct stat sb;
	int exists = stat(path, &sb) == 0;
	int rc;
	if (exists && !S_ISDIR(sb.st_mode)) {
		rc = sr_fail(e, SIMREC_EFORMAT,
		             "zarr store '%s' is not a directory (an LMDB zarr "
		             "store is a directory holding data.mdb)",
		             path);
		goto fail;
	}
	if (!exists) {
		if (mode == SIMREC_MODE_READONLY) {
			rc = sr_fail(e, SIMREC_ENOKEY,
			             "zarr store '%s' does not "
			             "exist",
			             path);
			goto fail;
		}
		if (mkdir(path, 0777) && errno != EEXIST) {
			rc = sr_fail(e, SIMREC_EIO, "cannot create '%s': %s",
			             path, strerror(errno));
			goto fail;
		}
	}
	if (exists && (rc = check_data_file(path, e)))
		goto fail;
	if ((rc = mdb_env_create(&kv->env)) ||
	    (rc = mdb_env_set_mapsize(kv->env, map_size)) ||
	    (rc = mdb_env_set_maxreaders(kv->env, 126))) {
		rc = lmdb_fail(kv, rc, "cannot set up");
		goto fail;
	}
	/* NOSYNC: batches are committed at chunk boundaries without fsync
	 * (safe against a crashed process), sync() makes them durable
	 * against a crashed host at flush/close.
	 * Not WRITEMAP (zarr-python's LMDBStore uses it): it saves LMDB's
	 * copy into malloc'd pages, but measured here (record_all, 256 MiB,
	 * np 1, two interleaved runs of 5 and 7 rounds) the medians went
	 * either way (0.47 s with / 0.50 s without, then 0.67 / 0.56) at the
	 * same CPU time; and it ftruncates data.mdb to map_size (1 TiB) and
	 * turns a full disk into a SIGBUS on a page fault, not an error. */
	unsigned flags =
	        MDB_NOTLS |
	        (mode == SIMREC_MODE_READONLY ? MDB_RDONLY : MDB_NOSYNC);
	if ((rc = mdb_env_open(kv->env, path, flags, 0664))) {
		rc = rc == EACCES && mode == SIMREC_MODE_READONLY
		             ? sr_fail(e, SIMREC_EIO,
		                       "cannot open '%s' read-only: %s", path,
		                       mdb_strerror(rc))
		             : sr_fail(e,
		                       rc == MDB_INVALID ||
		                                       rc == MDB_VERSION_MISMATCH
		                               ? SIMREC_EFORMAT
		                               : SIMREC_EIO,
		                       "zarr store '%s' is not a readable LMDB "
		                       "environment: %s",
		                       path, mdb_strerror(rc));
		goto fail;
	}
	MDB_txn *t;
	if ((rc = mdb_txn_begin(kv->env, NULL,
	                        mode == SIMREC_MODE_READONLY ? MDB_RDONLY : 0,
	                        &t)) ||
	    (rc = mdb_dbi_open(t, NULL, 0, &kv->dbi)) ||
	    (rc = mdb_txn_commit(t))) {
		rc = lmdb_fail(kv, rc, "cannot open database");
		goto fail;
	}
	*out = kv;
	return 0;
fail:
	if (kv->env)
		mdb_env_close(kv->env);
	free(kv->path);
	free(kv);
	return rc;
}

static void kvl_close(sr_kv *kv)
{
	if (!kv)
		return;
	if (kv->rtxn)
		mdb_txn_abort(kv->rtxn);
	if (kv->wtxn)
		mdb_txn_abort(kv->wtxn);
	mdb_env_close(kv->env);
	free(kv->path);
	free(kv);
}

static int kvl_begin(sr_kv *kv)
{
	int rc = mdb_txn_begin(kv->env, NULL, 0, &kv->wtxn);
	return rc ? lmdb_fail(kv, rc, "cannot begin a write transaction") : 0;
}

/* Start the write-back of what the commits since the last start left in
 * the page cache, without waiting (sync_file_range WRITE): the disk then
 * writes while the caller encodes its next step, and the fdatasync at
 * flush/close, which alone makes them durable, has less left to do.
 * Only after a few MiB, so that small metadata commits do not become
 * small writes. */
#define WRITEBACK_BYTES ((size_t)4 << 20)

static void start_writeback(sr_kv *kv)
{
	mdb_filehandle_t fd;
	if (kv->unflushed < WRITEBACK_BYTES)
		return;
	kv->unflushed = 0;
	if (!mdb_env_get_fd(kv->env, &fd))
		(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

static int kvl_commit(sr_kv *kv)
{
	int rc = mdb_txn_commit(kv->wtxn);
	kv->wtxn = NULL;
	if (rc)
		return lmdb_fail(kv, rc, "commit failed");
	start_writeback(kv);
	return 0;
}

static void kvl_abort(sr_kv *kv)
{
	if (kv->wtxn)
		mdb_txn_abort(kv->wtxn);
	kv->wtxn = NULL;
}

static int kvl_sync(sr_kv *kv)
{
	int rc = mdb_env_sync(kv->env, 1);
	return rc && rc != EINVAL ? lmdb_fail(kv, rc, "sync failed") : 0;
}

static int kvl_read_begin(sr_kv *kv)
{
	if (kv->wtxn || kv->rdepth++)
		return 0;
	int rc = mdb_txn_begin(kv->env, NULL, MDB_RDONLY, &kv->rtxn);
	if (rc) {
		kv->rdepth = 0;
		return lmdb_fail(kv, rc, "cannot begin a read transaction");
	}
	return 0;
}

static void kvl_read_end(sr_kv *kv)
{
	if (kv->wtxn || !kv->rdepth || --kv->rdepth)
		return;
	mdb_txn_abort(kv->rtxn);
	kv->rtxn = NULL;
}

static int kvl_get(sr_kv *kv, const char *key, size_t max, const void **val,
                   size_t *len)
{
	MDB_txn *t = kv->wtxn ? kv->wtxn : kv->rtxn;
	MDB_val k = {strlen(key), (void *)key}, v;
	int rc = mdb_get(t, kv->dbi, &k, &v);
	if (rc == MDB_NOTFOUND)
		return SIMREC_ENOKEY;
	if (rc)
		return lmdb_fail(kv, rc, key);
	if (v.mv_size > max) /* mapped, not read: refused before use */
		return sr_fail(kv->e, SIMREC_EFORMAT,
		               "cannot read '%s' of '%s': %zu bytes, more than "
		               "the %zu its metadata allows",
		               key, kv->path, v.mv_size, max);
	*val = v.mv_data;
	*len = v.mv_size;
	return 0;
}

static int kvl_put(sr_kv *kv, const char *key, const void *val, size_t len)
{
	MDB_val k = {strlen(key), (void *)key}, v = {len, (void *)val};
	int rc = mdb_put(kv->wtxn, kv->dbi, &k, &v, 0);
	kv->unflushed += len;
	/* a writer killed in the middle of a set: test binaries only */
	if (!rc && sr_test_after_put)
		sr_test_after_put();
	return rc ? lmdb_fail(kv, rc, key) : 0;
}

static int kvl_del(sr_kv *kv, const char *key)
{
	MDB_val k = {strlen(key), (void *)key};
	int rc = mdb_del(kv->wtxn, kv->dbi, &k, NULL);
	return rc && rc != MDB_NOTFOUND ? lmdb_fail(kv, rc, key) : 0;
}

static int kvl_reserve(sr_kv *kv, const char *key, size_t len, void **val)
{
	MDB_val k = {strlen(key), (void *)key}, v = {len, NULL};
	int rc = mdb_put(kv->wtxn, kv->dbi, &k, &v, MDB_RESERVE);
	if (rc)
		return lmdb_fail(kv, rc, key);
	*val = v.mv_data;
	kv->unflushed += len;
	return 0;
}

/* SIMREC_EFORMAT naming the key k[0..n) that holds a NUL byte. */
static int nul_key(sr_kv *kv, const char *k, size_t n)
{
	char shown[SR_ESC_MAX * 200 + 1];
	sr_escape(shown, sizeof shown, k, n < 200 ? n : 200, SR_ESC_BACKSLASH);
	return sr_fail(kv->e, SIMREC_EFORMAT,
	               "LMDB key '%s' of '%s' holds a NUL byte: no zarr key "
	               "can, so it is not read",
	               shown, kv->path);
}

static int kvl_list(sr_kv *kv, const char *prefix,
                    int (*fn)(const char *key, void *arg), void *arg)
{
	int rc = kvl_read_begin(kv);
	if (rc)
		return rc;
	MDB_cursor *c;
	MDB_txn *t = kv->wtxn ? kv->wtxn : kv->rtxn;
	if ((rc = mdb_cursor_open(t, kv->dbi, &c))) {
		kvl_read_end(kv);
		return lmdb_fail(kv, rc, "cursor");
	}
	size_t pl = strlen(prefix);
	MDB_val k = {pl, (void *)prefix}, v;
	char *buf = NULL;
	size_t bcap = 0;
	int op = pl ? MDB_SET_RANGE : MDB_FIRST;
	int r2 = 0, bad = 0;
	while (!(rc = mdb_cursor_get(c, &k, &v, (MDB_cursor_op)op))) {
		op = MDB_NEXT;
		if (k.mv_size < pl || memcmp(k.mv_data, prefix, pl))
			break;
		if (k.mv_size + 1 > bcap) {
			bcap = k.mv_size + 64;
			char *nb = realloc(buf, bcap);
			if (!nb) {
				r2 = SIMREC_ENOMEM;
				break;
			}
			buf = nb;
		}
		memcpy(buf, k.mv_data, k.mv_size);
		buf[k.mv_size] = 0;
		/* a key holding a NUL: no zarr key can, and as a C string it
		 * would read as another; named after the walk (the rest is
		 * still listed), never hidden */
		if (memchr(buf, 0, k.mv_size)) {
			if (!bad)
				bad = nul_key(kv, buf, k.mv_size);
			continue;
		}
		if ((r2 = fn(buf, arg)))
			break;
	}
	free(buf);
	mdb_cursor_close(c);
	kvl_read_end(kv);
	return r2 ? r2 : bad;
}

static long long kvl_disk_bytes(sr_kv *kv)
{
	char p[4096];
	struct stat sb;
	snprintf(p, sizeof p, "%s/data.mdb", kv->path);
	return stat(p, &sb) ? -1 : (long long)sb.st_blocks * 512;
}

const sr_kv_ops sr_kv_lmdb = {
        .open = kvl_open,
        .close = kvl_close,
        .begin = kvl_begin,
        .commit = kvl_commit,
        .abort = kvl_abort,
        .sync = kvl_sync,
        .read_begin = kvl_read_begin,
        .read_end = kvl_read_end,
        .get = kvl_get,
        .put = kvl_put,
        .del = kvl_del,
        .reserve = kvl_reserve,
        .list = kvl_list,
        .disk_bytes = kvl_disk_bytes,
};

int sr_kv_lmdb_is_zarr(const char *path)
{
	/* read-only and without the lock file: the probe changes nothing */
	MDB_env *env = NULL;
	MDB_txn *t = NULL;
	MDB_dbi dbi;
	int yes = 0;
	if (mdb_env_create(&env))
		return 0;
	if (!mdb_env_open(env, path, MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS,
	                  0444) &&
	    !mdb_txn_begin(env, NULL, MDB_RDONLY, &t)) {
		MDB_val k = {7, (void *)".zgroup"}, v;
		yes = !mdb_dbi_open(t, NULL, 0, &dbi) &&
		      !mdb_get(t, dbi, &k, &v);
		mdb_txn_abort(t);
	}
	mdb_env_close(env);
	return yes;
}
