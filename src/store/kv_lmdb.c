/* LMDB key-value layer, laid out as zarr-python's LMDBStore: a directory
 * holding data.mdb / lock.mdb, one unnamed database, keys as UTF-8. */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/oserr.h"
#include "kv.h"

struct sr_kv {
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *wtxn;
	MDB_txn *rtxn;
	int rdepth;
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
	if ((rc = mdb_env_create(&kv->env)) ||
	    (rc = mdb_env_set_mapsize(kv->env, map_size)) ||
	    (rc = mdb_env_set_maxreaders(kv->env, 126))) {
		rc = lmdb_fail(kv, rc, "cannot set up");
		goto fail;
	}
	/* NOSYNC: batches are committed at chunk boundaries without fsync
	 * (safe against a crashed process), sync() makes them durable
	 * against a crashed host at flush/close. */
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

static int kvl_commit(sr_kv *kv)
{
	int rc = mdb_txn_commit(kv->wtxn);
	kv->wtxn = NULL;
	return rc ? lmdb_fail(kv, rc, "commit failed") : 0;
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

static int kvl_get(sr_kv *kv, const char *key, const void **val, size_t *len)
{
	MDB_txn *t = kv->wtxn ? kv->wtxn : kv->rtxn;
	MDB_val k = {strlen(key), (void *)key}, v;
	int rc = mdb_get(t, kv->dbi, &k, &v);
	if (rc == MDB_NOTFOUND)
		return SIMREC_ENOKEY;
	if (rc)
		return lmdb_fail(kv, rc, key);
	*val = v.mv_data;
	*len = v.mv_size;
	return 0;
}

static int kvl_put(sr_kv *kv, const char *key, const void *val, size_t len)
{
	MDB_val k = {strlen(key), (void *)key}, v = {len, (void *)val};
	int rc = mdb_put(kv->wtxn, kv->dbi, &k, &v, 0);
	return rc ? lmdb_fail(kv, rc, key) : 0;
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
	int r2 = 0;
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
		if ((r2 = fn(buf, arg)))
			break;
	}
	free(buf);
	mdb_cursor_close(c);
	kvl_read_end(kv);
	return r2;
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
        .list = kvl_list,
        .disk_bytes = kvl_disk_bytes,
};
