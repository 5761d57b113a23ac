/* zarr v2 store over a key-value layer: "zarr:PATH" (LMDB, as
 * zarr-python's LMDBStore) and "zarr+dir:PATH" (DirectoryStore).
 * Metadata JSON is written as zarr-python 2.x writes it (sorted keys,
 * 4-space indent), chunks are blosc frames or raw bytes, chunk keys
 * "i.j.k". See docs/format.md. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../codec/codec.h"
#include "../common/attr_json.h"
#include "../common/clock.h"
#include "../common/size.h"
#include "kv.h"
#include "store.h"

#define VALUE_ATTR  "_simrec_value"
#define RECORD_ATTR "_simrec_record" /* list-like: records append */

typedef struct zarr_store {
	const sr_kv_ops *kvo;
	sr_kv *kv;
	void *cbuf; /* compressed chunk */
	size_t ccap;
	void *chunk; /* decoded/assembled chunk */
	size_t chcap;
} zarr_store;

typedef struct zds {
	char *key;
	int compressed;
	sr_codec codec; /* for writing: the store's, or "none" */
	unsigned char fill[8];
	size_t stored_rows; /* shape[0] last written to .zarray */
	char sep;           /* dimension_separator: '.' or '/' */
	int staged; /* a value being set in a staged directory (kv stage) */
	/* a value's create left its transaction open (a layer that does not
	 * stage: LMDB): its metadata and chunks commit together */
	int txn_open;
} zds;

/* ---- helpers ----------------------------------------------------------- */

static int get_attrs(zarr_store *z, const char *key, json_t **out, sr_err *e);
static int put_attrs(zarr_store *z, const char *key, json_t *j, sr_err *e);

static char *cat_key(const char *key, const char *leaf)
{
	size_t n = strlen(key) + strlen(leaf) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s%s%s", key, *key ? "/" : "", leaf);
	return s;
}

#define ZMETA_KEY ".zmetadata"
#define JSON_AS_ZARR                                           \
	(JSON_INDENT(4) | JSON_SORT_KEYS | JSON_ENSURE_ASCII | \
	 JSON_REAL_PRECISION(17))

/* Consolidated metadata (zarr.consolidate_metadata writes .zmetadata at
 * the root; zarr.open_consolidated reads only it): simrec keeps none of
 * its own, but where one exists, every metadata document simrec writes
 * (k: ".zgroup", "a/.zarray", "a/.zattrs") is written into it too, in the
 * same transaction, so it never shows an older shape or attributes. */
static int consolidate(zarr_store *z, const char *k, json_t *j, sr_err *e)
{
	const void *v;
	size_t n;
	json_error_t je;
	json_t *doc = NULL;
	/* a read section: the directory layer frees its copy at its end */
	int rc = z->kvo->read_begin(z->kv);
	if (!rc && !(rc = z->kvo->get(z->kv, ZMETA_KEY, &v, &n)))
		doc = sr_attr_json_load(v, n, &je); /* NaN in attributes */
	z->kvo->read_end(z->kv);
	if (rc)
		return rc == SIMREC_ENOKEY ? 0 : rc;
	json_t *md = json_object_get(doc, "metadata");
	char *text = NULL;
	if (!json_is_object(md))
		rc = sr_fail(e, SIMREC_EFORMAT,
		             "'%s' is not consolidated zarr metadata (a JSON "
		             "object with a \"metadata\" object), so '%s' "
		             "cannot be kept in it",
		             ZMETA_KEY, k);
	else if (json_object_set(md, k, j) ||
	         !(text = sr_attr_json_dump(doc, JSON_AS_ZARR)))
		rc = sr_fail(e, SIMREC_ENOMEM, "out of memory writing '%s'",
		             ZMETA_KEY);
	else
		rc = z->kvo->put(z->kv, ZMETA_KEY, text, strlen(text));
	free(text);
	json_decref(doc);
	return rc;
}

/* Write the JSON document key/leaf as zarr-python writes it
 * (json.dumps(indent=4, sort_keys=True, ensure_ascii=True)). attrs: a
 * .zattrs object (NaN, Infinity and big integers kept; see attr_json.h). */
static int put_json_as(zarr_store *z, const char *key, const char *leaf,
                       int attrs, json_t *j, sr_err *e)
{
	char *k = cat_key(key, leaf);
	char *text = attrs ? sr_attr_json_dump(j, JSON_AS_ZARR)
	                   : json_dumps(j, JSON_AS_ZARR);
	int rc = (!k || !text) ? SIMREC_ENOMEM
	                       : z->kvo->put(z->kv, k, text, strlen(text));
	if (rc == SIMREC_ENOMEM)
		sr_fail(e, rc, "out of memory writing '%s'", k ? k : key);
	if (!rc)
		rc = consolidate(z, k, j, e);
	free(k);
	free(text);
	return rc;
}

static int put_json(zarr_store *z, const char *key, const char *leaf, json_t *j,
                    sr_err *e)
{
	return put_json_as(z, key, leaf, 0, j, e);
}

/* Parse JSON under key/leaf; ENOKEY if absent. Caller wraps in a read. */
/* The JSON document key/leaf. attrs: a .zattrs object as zarr-python
 * writes it (NaN, Infinity, -Infinity and integers beyond int64 are valid
 * there; see attr_json.h). */
static int get_json_as(zarr_store *z, const char *key, const char *leaf,
                       int attrs, json_t **out, sr_err *e)
{
	*out = NULL;
	char *k = cat_key(key, leaf);
	if (!k)
		return SIMREC_ENOMEM;
	const void *v;
	size_t n;
	int rc = z->kvo->get(z->kv, k, &v, &n);
	if (!rc) {
		json_error_t je;
		*out = attrs ? sr_attr_json_load(v, n, &je)
		             : json_loadb(v, n, JSON_DECODE_ANY, &je);
		if (!*out)
			rc = sr_fail(e, SIMREC_EFORMAT,
			             "'%s' is not valid JSON: %s", k, je.text);
		else if (attrs && !json_is_object(*out))
			rc = sr_fail(e, SIMREC_EFORMAT,
			             "'%s' is not a JSON object", k);
	}
	free(k);
	return rc;
}

static int get_json(zarr_store *z, const char *key, const char *leaf,
                    json_t **out, sr_err *e)
{
	return get_json_as(z, key, leaf, 0, out, e);
}

static int has_key(zarr_store *z, const char *key, const char *leaf)
{
	char *k = cat_key(key, leaf);
	const void *v;
	size_t n;
	int found = k && z->kvo->get(z->kv, k, &v, &n) == 0;
	free(k);
	return found;
}

/* Write .zgroup for every group above key (and key itself if group). */
static int ensure_groups(zarr_store *z, const char *key, int include_self,
                         sr_err *e)
{
	char *p = include_self ? strdup(key) : sr_key_parent(key);
	int rc = p ? 0 : SIMREC_ENOMEM;
	while (!rc) {
		if (has_key(z, p, ".zarray"))
			rc = sr_fail(e, SIMREC_EKIND,
			             "'%s' is a dataset and cannot hold '%s'",
			             p, key);
		else if (!has_key(z, p, ".zgroup")) {
			json_t *g = json_pack("{s:i}", "zarr_format", 2);
			rc = g ? put_json(z, p, ".zgroup", g, e)
			       : SIMREC_ENOMEM;
			json_decref(g);
		}
		if (!*p)
			break;
		char *q = sr_key_parent(p);
		free(p);
		if (!(p = q))
			rc = SIMREC_ENOMEM;
	}
	free(p);
	return rc;
}

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
	if (st->mode == SIMREC_MODE_CREATE && st->meta_writer)
		rc = remove_store(path, lmdb, st->err);
	else if (writer)
		rc = refuse_foreign(path, lmdb, st->err);
	made before = {exists_at(path, NULL), exists_at(path, "data.mdb"),
	               exists_at(path, "lock.mdb")};
	/* as zarr-python; sparse */
	size_t map_size = sr_store_param_size(st, "map_size", (size_t)1 << 40);
	if (!rc &&
	    (rc = kvo->open(&z->kv, path, st->mode, map_size, st->err)) &&
	    writer && lmdb)
		undo_create(path, &before);
	if (rc) {
		free(z);
		return rc;
	}
	st->impl = z;
	if (writer) {
		if (!(rc = kvo->begin(z->kv))) {
			rc = ensure_groups(z, "", 1, st->err);
			rc = rc ? (kvo->abort(z->kv), rc) : kvo->commit(z->kv);
		}
	} else if (!(rc = kvo->read_begin(z->kv))) {
		if (!has_key(z, "", ".zgroup"))
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
	if (st->mode == SIMREC_MODE_READONLY ||
	    !sr_store_param_bool(st, "sync", 1))
		return 0;
	double t0 = sr_clock();
	int rc = z->kvo->sync(z->kv);
	st->t_sync += sr_clock() - t0;
	return rc;
}

static int zarr_close(sr_store *st)
{
	zarr_store *z = st->impl;
	int rc = zarr_commit(st);
	z->kvo->close(z->kv);
	free(z->cbuf);
	free(z->chunk);
	free(z);
	return rc;
}

/* ---- metadata ---------------------------------------------------------- */

static json_t *size_array(int n, const size_t *v)
{
	json_t *a = json_array();
	for (int i = 0; a && i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	return a;
}

static json_t *zarray_json(const sr_store *st, const sr_meta *m)
{
	json_t *comp = json_null();
	if (strcmp(st->codec.cname, "none"))
		comp = json_pack("{s:i,s:i,s:s,s:s,s:i}", "blocksize", 0,
		                 "clevel", st->codec.level, "cname",
		                 st->codec.cname, "id", "blosc", "shuffle",
		                 st->codec.shuffle);
	json_t *filters = json_null(), *fill;
	if (sr_dtype_is_vlen(m->dtype)) {
		filters = json_pack("[{s:s}]", "id",
		                    m->dtype == SIMREC_STRING ? "vlen-utf8"
		                                              : "vlen-bytes");
		fill = json_integer(0);
	} else if (m->dtype == SIMREC_FLOAT32 || m->dtype == SIMREC_FLOAT64) {
		fill = json_real(0.0);
	} else if (m->dtype == SIMREC_BOOL) {
		fill = json_false();
	} else {
		fill = json_integer(0);
	}
	return json_pack("{s:o,s:o,s:s,s:o,s:o,s:s,s:o,s:i}", "chunks",
	                 size_array(m->ndim, m->chunks), "compressor", comp,
	                 "dtype", sr_dtype_zarr(m->dtype), "fill_value", fill,
	                 "filters", filters, "order", "C", "shape",
	                 size_array(m->ndim, m->shape), "zarr_format", 2);
}

/* Largest decoded chunk simrec reads (4 GiB): a blosc frame holds at most
 * 2 GiB, and a raw chunk this large is not something a writer makes. */
#define CHUNK_MAX ((size_t)1 << 32)

/* A JSON array of at most SIMREC_MAX_NDIM integers >= min. */
static int parse_sizes(json_t *a, json_int_t min, int *n, size_t *v)
{
	if (!json_is_array(a) || json_array_size(a) > SIMREC_MAX_NDIM)
		return -1;
	*n = (int)json_array_size(a);
	for (int i = 0; i < *n; i++) {
		json_t *x = json_array_get(a, (size_t)i);
		if (!json_is_integer(x) || json_integer_value(x) < min)
			return -1;
		v[i] = (size_t)json_integer_value(x);
	}
	return 0;
}

/* fill_value as zarr v2 writes it: a number, "NaN"/"Infinity"/
 * "-Infinity" for floats, true/false for bool, null for "none". Values
 * that do not fit the dtype are refused (never cast). */
static int parse_fill(simrec_dtype_t dt, json_t *f, unsigned char *out)
{
	memset(out, 0, 8);
	if (!f || json_is_null(f))
		return 0;
	if (sr_dtype_is_vlen(dt)) /* zarr-python writes 0 or "" */
		return json_is_integer(f) || json_is_string(f) ? 0 : -1;
	if (dt == SIMREC_FLOAT32 || dt == SIMREC_FLOAT64) {
		double d;
		const char *t = json_string_value(f);
		if (json_is_number(f))
			d = json_number_value(f);
		else if (t && !strcmp(t, "NaN"))
			d = (double)NAN;
		else if (t && !strcmp(t, "Infinity"))
			d = (double)INFINITY;
		else if (t && !strcmp(t, "-Infinity"))
			d = -(double)INFINITY;
		else
			return -1;
		if (dt == SIMREC_FLOAT64) {
			memcpy(out, &d, 8);
		} else {
			if (isfinite(d) && fabs(d) > (double)FLT_MAX)
				return -1;
			float x = (float)d;
			memcpy(out, &x, 4);
		}
		return 0;
	}
	if (dt == SIMREC_BOOL) {
		if (json_is_boolean(f))
			out[0] = json_is_true(f);
		else if (json_is_integer(f) && json_integer_value(f) >= 0 &&
		         json_integer_value(f) <= 1)
			out[0] = (unsigned char)json_integer_value(f);
		else
			return -1;
		return 0;
	}
	/* integers: an integer in the dtype's range (or an integral real) */
	long long i;
	if (json_is_integer(f)) {
		i = json_integer_value(f);
	} else if (json_is_real(f)) {
		double d = json_real_value(f);
		if (!(d >= -9.2e18 && d <= 9.2e18) || d != floor(d))
			return -1;
		i = (long long)d;
	} else {
		return -1;
	}
	size_t sz = simrec_dtype_size(dt);
	int is_signed = dt == SIMREC_INT8 || dt == SIMREC_INT16 ||
	                dt == SIMREC_INT32 || dt == SIMREC_INT64;
	if (sz < 8) {
		long long lo = is_signed ? -(1LL << (8 * sz - 1)) : 0;
		long long hi = is_signed ? (1LL << (8 * sz - 1)) - 1
		                         : (1LL << (8 * sz)) - 1;
		if (i < lo || i > hi)
			return -1;
	} else if (!is_signed && i < 0) {
		return -1;
	}
	for (size_t b = 0; b < sz; b++) /* little-endian */
		out[b] = (unsigned char)((unsigned long long)i >> (8 * b));
	return 0;
}

/* The blosc compressor object as numcodecs writes it. */
static int check_blosc(json_t *comp)
{
	json_t *cn = json_object_get(comp, "cname"),
	       *cl = json_object_get(comp, "clevel"),
	       *sh = json_object_get(comp, "shuffle"),
	       *bs = json_object_get(comp, "blocksize");
	if ((cn && !json_is_string(cn)) || (cl && !json_is_integer(cl)) ||
	    (sh && !json_is_integer(sh)) || (bs && !json_is_integer(bs)))
		return -1;
	if ((cl &&
	     (json_integer_value(cl) < 0 || json_integer_value(cl) > 9)) ||
	    (sh &&
	     (json_integer_value(sh) < -1 || json_integer_value(sh) > 2)) ||
	    (bs && json_integer_value(bs) < 0))
		return -1;
	return 0;
}

static int bad_meta(sr_store *st, const char *key, const char *why)
{
	return sr_fail(
	        st->err, SIMREC_EFORMAT,
	        "'%s%s.zarray' in '%s' is not valid zarr v2 metadata: %s", key,
	        *key ? "/" : "", st->uri.path, why);
}

/* A .zarray this build cannot read (well-formed but unsupported). */
static int unsup(sr_store *st, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int unsup(sr_store *st, const char *key, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return sr_fail(st->err, SIMREC_ENOTSUP, "'%s%s.zarray' in '%s': %s",
	               key, *key ? "/" : "", st->uri.path, what);
}

/* zarr_format, shape and chunks: one chunk length per dimension. */
static int zarray_shape(sr_store *st, const char *key, json_t *j, sr_meta *m)
{
	int nc = 0;
	json_t *zf = json_object_get(j, "zarr_format");
	if (!json_is_integer(zf) || json_integer_value(zf) != 2)
		return bad_meta(st, key, "zarr_format is not 2");
	if (parse_sizes(json_object_get(j, "shape"), 0, &m->ndim, m->shape))
		return bad_meta(st, key,
		                "shape is not a list of at most 16 integers "
		                ">= 0");
	if (parse_sizes(json_object_get(j, "chunks"), 1, &nc, m->chunks) ||
	    nc != m->ndim)
		return bad_meta(st, key,
		                "chunks is not a list of integers >= 1, one "
		                "per dimension");
	return 0;
}

/* order: "C" is read, "F" is valid but unsupported. */
static int zarray_order(sr_store *st, const char *key, json_t *order)
{
	if (!json_is_string(order))
		return bad_meta(st, key, "order is not \"C\" or \"F\"");
	if (strcmp(json_string_value(order), "C")) {
		if (strcmp(json_string_value(order), "F"))
			return bad_meta(st, key, "order is not \"C\" or \"F\"");
		return unsup(st, key,
		             "order \"F\" (column-major chunks) is not "
		             "supported, only \"C\"");
	}
	return 0;
}

/* dimension_separator into d->sep: '.' when absent, or '/'. */
static int zarray_separator(sr_store *st, const char *key, json_t *sep, zds *d)
{
	d->sep = '.';
	if (sep) {
		const char *t = json_string_value(sep);
		if (!t || (strcmp(t, ".") && strcmp(t, "/")))
			return bad_meta(st, key,
			                "dimension_separator is not \".\" or "
			                "\"/\"");
		d->sep = t[0];
	}
	return 0;
}

/* The codec appends to an existing dataset use: the one its .zarray
 * names (numcodecs' defaults for absent fields: lz4, level 5, shuffle),
 * never the URI's, so that the compressor describes every chunk. A name
 * this build lacks is kept: appending then fails naming it. Shuffle -1
 * (numcodecs' AUTOSHUFFLE) is resolved with the dtype in zarr_lookup. */
static void stored_codec(json_t *comp, zds *d)
{
	json_t *cn = json_object_get(comp, "cname"),
	       *cl = json_object_get(comp, "clevel"),
	       *sh = json_object_get(comp, "shuffle");
	snprintf(d->codec.cname, sizeof d->codec.cname, "%s",
	         cn ? json_string_value(cn) : "lz4");
	d->codec.level = cl ? (int)json_integer_value(cl) : 5;
	d->codec.shuffle = sh ? (int)json_integer_value(sh) : 1;
}

/* compressor: blosc (d->compressed) or none (null or absent). */
static int zarray_compressor(sr_store *st, const char *key, json_t *comp,
                             zds *d)
{
	if (json_is_object(comp)) {
		json_t *idj = json_object_get(comp, "id");
		if (!json_is_string(idj))
			return bad_meta(st, key, "compressor has no string id");
		const char *id = json_string_value(idj);
		if (strcmp(id, "blosc"))
			return unsup(st, key,
			             "compressor '%s' is not supported (only "
			             "blosc or none)",
			             id);
		if (check_blosc(comp))
			return bad_meta(st, key,
			                "blosc compressor parameters of the "
			                "wrong type or range");
		d->compressed = 1;
		stored_codec(comp, d);
	} else if (comp && !json_is_null(comp)) { /* absent: none */
		return bad_meta(st, key, "compressor is not an object or null");
	}
	return 0;
}

/* filters: none, or one whose id goes to *fid (judged with the dtype). */
static int zarray_filter(sr_store *st, const char *key, json_t *filt,
                         const char **fid)
{
	*fid = NULL;
	if (json_is_array(filt) && json_array_size(filt) == 1) {
		*fid = json_string_value(
		        json_object_get(json_array_get(filt, 0), "id"));
		if (!*fid)
			return bad_meta(st, key, "a filter has no string id");
	} else if (json_is_array(filt) && json_array_size(filt) > 1) {
		return unsup(st, key, "filter chains are not supported");
	} else if (filt && !json_is_null(filt) && !json_is_array(filt)) {
		return bad_meta(st, key, "filters is not a list or null");
	}
	return 0;
}

/* The dtype string dts and filter fid into m->dtype: object arrays only
 * 1-d with a vlen filter, other dtypes only without a filter. */
static int zarray_dtype(sr_store *st, const char *key, const char *dts,
                        const char *fid, sr_meta *m)
{
	if (!strcmp(dts, "|O")) {
		if (fid && !strcmp(fid, "vlen-utf8"))
			m->dtype = SIMREC_STRING;
		else if (fid && !strcmp(fid, "vlen-bytes"))
			m->dtype = SIMREC_BYTES;
		else
			return unsup(st, key,
			             "object array without a vlen-utf8 or "
			             "vlen-bytes filter");
		if (m->ndim != 1)
			return unsup(st, key,
			             "only 1-d object arrays are supported");
	} else if (fid) {
		return unsup(st, key, "filter '%s' is not supported", fid);
	} else if (sr_dtype_from_zarr(dts, &m->dtype)) {
		return unsup(st, key, "dtype '%s' is not supported", dts);
	}
	return 0;
}

/* The whole array and one chunk must be addressable, and a chunk small
 * enough to decode. */
static int zarray_sizes(sr_store *st, const char *key, const sr_meta *m)
{
	size_t isz =
	        sr_dtype_is_vlen(m->dtype) ? 8 : simrec_dtype_size(m->dtype);
	size_t total, cbytes;
	if (sr_size_prod(m->ndim, m->shape, isz, &total))
		return bad_meta(st, key, "shape overflows");
	if (sr_size_prod(m->ndim, m->chunks, isz, &cbytes) ||
	    cbytes > CHUNK_MAX)
		return bad_meta(st, key, "chunks are larger than 4 GiB");
	return 0;
}

/* Validate every field of a .zarray before anything is allocated or
 * decoded (docs/format.md lists what is refused). */
static int parse_zarray(sr_store *st, const char *key, json_t *j, sr_meta *m,
                        zds *d)
{
	memset(m, 0, sizeof *m);
	json_t *dt = json_object_get(j, "dtype");
	const char *fid = NULL;
	int rc;
	if (!json_is_object(j))
		return bad_meta(st, key, "not a JSON object");
	if ((rc = zarray_shape(st, key, j, m)))
		return rc;
	if (!json_is_string(dt))
		return bad_meta(st, key, "dtype is not a string");
	if ((rc = zarray_order(st, key, json_object_get(j, "order"))) ||
	    (rc = zarray_separator(
	             st, key, json_object_get(j, "dimension_separator"), d)) ||
	    (rc = zarray_compressor(st, key, json_object_get(j, "compressor"),
	                            d)) ||
	    (rc = zarray_filter(st, key, json_object_get(j, "filters"),
	                        &fid)) ||
	    (rc = zarray_dtype(st, key, json_string_value(dt), fid, m)) ||
	    (rc = zarray_sizes(st, key, m)))
		return rc;
	if (parse_fill(m->dtype, json_object_get(j, "fill_value"), d->fill))
		return bad_meta(st, key, "fill_value does not fit the dtype");
	return 0;
}

static zds *zds_new(const char *key)
{
	zds *d = calloc(1, sizeof *d);
	if (d && !(d->key = strdup(key))) {
		free(d);
		d = NULL;
	}
	if (d)
		d->sep = '.';
	return d;
}

static int zarr_lookup(sr_store *st, const char *key, sr_meta *m, void **ds)
{
	zarr_store *z = st->impl;
	json_t *j = NULL, *attrs = NULL;
	int rc = z->kvo->read_begin(z->kv);
	if (rc)
		return rc;
	rc = get_json(z, key, ".zarray", &j, st->err);
	if (rc == SIMREC_ENOKEY && has_key(z, key, ".zgroup"))
		rc = SIMREC_EKIND;
	zds *d = NULL;
	if (!rc && !(d = zds_new(key)))
		rc = SIMREC_ENOMEM;
	if (!rc)
		rc = parse_zarray(st, key, j, m, d);
	/* arrays without simrec's record marker (other programs') are
	 * values; an unreadable .zattrs fails the lookup, since whether the
	 * array is a value or records depends on it */
	if (!rc) {
		int ra = get_attrs(z, key, &attrs, st->err);
		if (ra && ra != SIMREC_ENOKEY)
			rc = ra;
		int got = ra == 0;
		m->is_value =
		        got && json_is_true(json_object_get(attrs, VALUE_ATTR))
		                ? 1
		        : got && json_is_true(
		                         json_object_get(attrs, RECORD_ATTR))
		                ? 0
		                : 4;
	}
	z->kvo->read_end(z->kv);
	json_decref(j);
	json_decref(attrs);
	if (rc) {
		if (d)
			free(d->key);
		free(d);
		return rc;
	}
	d->stored_rows = m->ndim ? m->shape[0] : 0;
	d->codec.nthreads = st->codec.nthreads;
	if (!d->compressed)
		strcpy(d->codec.cname, "none");
	else if (d->codec.shuffle < 0) /* bit shuffle for 1-byte items */
		d->codec.shuffle = simrec_dtype_size(m->dtype) > 1 ? 1 : 2;
	*ds = d;
	return 0;
}

static void zarr_release(sr_store *st, void *ds)
{
	zarr_store *z = st->impl;
	zds *d = ds;
	if (d && d->staged) /* made, never written: the old value stays */
		z->kvo->unstage(z->kv);
	if (d && d->txn_open) /* the same, in one transaction (LMDB) */
		z->kvo->abort(z->kv);
	if (d)
		free(d->key);
	free(d);
}

/* The attributes of a dataset being made: the user's of a replaced one
 * kept, the marker of a value or of records set. */
static json_t *kept_attrs(sr_store *st, const char *key, const sr_meta *m)
{
	json_t *a = NULL;
	if (get_attrs(st->impl, key, &a, st->err)) {
		json_decref(a);
		a = json_object();
	}
	json_object_del(a, m->is_value ? RECORD_ATTR : VALUE_ATTR);
	if (a)
		json_object_set_new(a, m->is_value ? VALUE_ATTR : RECORD_ATTR,
		                    json_true());
	return a;
}

/* Write .zarray and .zattrs of a dataset being made. A value (simrec_set)
 * on a layer that stages (the directory store) goes into a new hidden
 * directory that zarr_write publishes whole: a writer killed in the
 * middle leaves the old value as it was (docs/safety.md). */
static int create_meta(sr_store *st, const char *key, const sr_meta *m,
                       int *staged)
{
	zarr_store *z = st->impl;
	int rc = 0;
	if (has_key(z, key, ".zgroup"))
		rc = sr_fail(st->err, SIMREC_EKIND,
		             "'%s' is a group in '%s', not a dataset", key,
		             st->uri.path);
	if (!rc)
		rc = ensure_groups(z, key, 0, st->err);
	json_t *a = rc ? NULL : kept_attrs(st, key, m);
	json_t *j = rc ? NULL : zarray_json(st, m);
	if (!rc && (!j || !a))
		rc = SIMREC_ENOMEM;
	/* staged: simrec_set's value only (one create, one write) */
	if (!rc && m->is_value == 1 && z->kvo->stage) {
		rc = z->kvo->stage(z->kv, key);
		*staged = !rc;
	}
	if (!rc)
		rc = put_json(z, key, ".zarray", j, st->err);
	if (!rc)
		rc = put_attrs(z, key, a, st->err);
	json_decref(j);
	json_decref(a);
	return rc;
}

static int zarr_create(sr_store *st, const char *key, const sr_meta *m,
                       void **ds)
{
	zarr_store *z = st->impl;
	int rc = 0, staged = 0, hold = 0;
	if (!st->meta_writer) /* another writer rank writes the metadata */
		goto handle;
	rc = z->kvo->begin(z->kv);
	if (rc)
		return rc;
	rc = create_meta(st, key, m, &staged);
	/* a value (simrec_set) on a layer that does not stage: the write
	 * commits metadata and chunks in one transaction, so a crash leaves
	 * the old value or the new one, whole */
	hold = !rc && m->is_value == 1 && !z->kvo->stage;
	if (!hold)
		rc = rc ? (z->kvo->abort(z->kv), rc) : z->kvo->commit(z->kv);
	if (rc && staged)
		z->kvo->unstage(z->kv);
	if (rc)
		return rc;
handle:;
	zds *d = zds_new(key);
	if (!d) {
		if (staged)
			z->kvo->unstage(z->kv);
		if (hold)
			z->kvo->abort(z->kv);
		return SIMREC_ENOMEM;
	}
	d->txn_open = hold;
	d->compressed = strcmp(st->codec.cname, "none") != 0;
	d->codec = st->codec;
	d->stored_rows = m->ndim ? m->shape[0] : 0;
	d->staged = staged;
	*ds = d;
	return 0;
}

/* Chunk key "key/i.j.k", or "key/i/j/k" with dimension_separator "/"
 * ("key/0" for a 0-d array). */
static void chunk_key(char *buf, size_t cap, const zds *d, int ndim,
                      const size_t *idx)
{
	int n = snprintf(buf, cap, "%s%s", d->key, *d->key ? "/" : "");
	if (ndim == 0)
		snprintf(buf + n, cap - (size_t)n, "0");
	for (int i = 0; i < ndim && n >= 0 && (size_t)n < cap; i++)
		n += snprintf(buf + n, cap - (size_t)n, "%s%zu",
		              i ? (d->sep == '/' ? "/" : ".") : "", idx[i]);
}

/* Chunk keys of one dataset at or past a chunk row, to delete. */
typedef struct drop_ctx {
	const zds *d;
	int ndim;
	size_t plen, row; /* prefix "key/" length; first chunk row dropped */
	char **v;
	size_t n, cap;
	int rc;
} drop_ctx;

/* k is "key/i.j.k" (or "key/i/j/k"): ndim decimal indices, the first >=
 * c->row. Anything else under the prefix (.zattrs, foreign files) stays. */
static int drop_cb(const char *k, void *arg)
{
	drop_ctx *c = arg;
	const char *p = k + c->plen;
	size_t first = 0;
	for (int i = 0; i < c->ndim; i++) {
		if (i && *p++ != c->d->sep)
			return 0;
		if (*p < '0' || *p > '9')
			return 0;
		char *end;
		unsigned long long x = strtoull(p, &end, 10);
		if (!i)
			first = (size_t)x;
		p = end;
	}
	if (*p || first < c->row)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		char **nv = realloc(c->v, cap * sizeof *nv);
		if (!nv)
			return c->rc = SIMREC_ENOMEM;
		c->v = nv;
		c->cap = cap;
	}
	if (!(c->v[c->n] = strdup(k)))
		return c->rc = SIMREC_ENOMEM;
	c->n++;
	return 0;
}

/* A cut dataset (simrec_truncate): its chunk objects wholly past the new
 * shape are deleted (as zarr-python's resize does), so that a later
 * larger shape never shows the cut records again. */
static int drop_chunks(sr_store *st, zds *d, const sr_meta *m)
{
	zarr_store *z = st->impl;
	char *prefix = cat_key(d->key, "");
	if (!prefix)
		return SIMREC_ENOMEM;
	drop_ctx c = {.d = d, .ndim = m->ndim, .plen = strlen(prefix)};
	c.row = m->shape[0] / m->chunks[0] + (m->shape[0] % m->chunks[0] != 0);
	int rc = z->kvo->list(z->kv, prefix, drop_cb, &c);
	if (!rc)
		rc = c.rc;
	for (size_t i = 0; i < c.n; i++) {
		if (!rc)
			rc = z->kvo->del(z->kv, c.v[i]);
		free(c.v[i]);
	}
	free(c.v);
	free(prefix);
	if (rc == SIMREC_ENOMEM)
		sr_fail(st->err, rc, "out of memory cutting '%s'", d->key);
	return rc;
}

static int update_shape(sr_store *st, zds *d, const sr_meta *m)
{
	if (!st->meta_writer || !m->ndim || d->stored_rows == m->shape[0])
		return 0;
	/* only the shape changes: compressor, fill value and any other
	 * fields (written by zarr-python, say) stay as they are */
	json_t *j = NULL;
	int rc = get_json(st->impl, d->key, ".zarray", &j, st->err);
	if (!rc)
		rc = json_object_set_new(j, "shape",
		                         size_array(m->ndim, m->shape))
		             ? SIMREC_ENOMEM
		             : put_json(st->impl, d->key, ".zarray", j,
		                        st->err);
	json_decref(j);
	/* several writers: chunks past the extent are others' steps */
	if (!rc && m->shape[0] < d->stored_rows && !st->hold_extent)
		rc = drop_chunks(st, d, m);
	if (!rc)
		d->stored_rows = m->shape[0];
	return rc;
}

/* Overlap of chunk idx with the selection: in-chunk start, in-selection
 * start, count. */
static void overlap(int ndim, const size_t *chunks, const size_t *idx,
                    const size_t *start, const size_t *count, size_t *cstart,
                    size_t *sstart, size_t *n)
{
	for (int i = 0; i < ndim; i++) {
		size_t c0 = idx[i] * chunks[i], c1 = c0 + chunks[i];
		size_t s0 = start[i], s1 = start[i] + count[i];
		size_t a = c0 > s0 ? c0 : s0, b = c1 < s1 ? c1 : s1;
		cstart[i] = a - c0;
		sstart[i] = a - s0;
		n[i] = b - a;
	}
}

/* Encode one chunk and put it; no codec: its bytes go to the store as
 * they are (no copy into cbuf). */
static int put_chunk(sr_store *st, zds *d, const char *ck, const void *src,
                     size_t cbytes, size_t isz)
{
	zarr_store *z = st->impl;
	const void *out = src;
	size_t clen = cbytes;
	int rc = 0;
	double t0 = sr_clock();
	if (strcmp(d->codec.cname, "none")) {
		rc = sr_codec_encode(&d->codec, isz, src, cbytes, &z->cbuf,
		                     &z->ccap, &clen, st->err);
		out = z->cbuf;
	}
	double t1 = sr_clock();
	if (!rc)
		rc = z->kvo->put(z->kv, ck, out, clen);
	st->t_encode += t1 - t0;
	st->t_write += sr_clock() - t1;
	return rc;
}

/* A chunk stored raw (no codec) that is not one contiguous run of the
 * caller's data: assembled straight into the store's page where the kv
 * layer offers that (LMDB: MDB_RESERVE), not in z->chunk and then copied
 * again by put. The region outside the selection is zero, as in
 * z->chunk. */
static int reserve_chunk(sr_store *st, const char *ck, const sr_meta *m,
                         size_t cbytes, const void *data, const size_t *count,
                         const size_t *cst, const size_t *sst, const size_t *n,
                         int full)
{
	zarr_store *z = st->impl;
	double t0 = sr_clock();
	void *page;
	int rc = z->kvo->reserve(z->kv, ck, cbytes, &page);
	if (!rc) {
		if (!full)
			memset(page, 0, cbytes);
		sr_copy_region(m->ndim, simrec_dtype_size(m->dtype), data,
		               count, sst, page, m->chunks, cst, n);
	}
	st->t_write += sr_clock() - t0;
	return rc;
}

static int write_chunks(sr_store *st, void *ds, const sr_meta *m,
                        const size_t *start, const size_t *count,
                        const void *data)
{
	zarr_store *z = st->impl;
	zds *d = ds;
	int nd = m->ndim;
	size_t isz = simrec_dtype_size(m->dtype);
	size_t lo[SIMREC_MAX_NDIM], hi[SIMREC_MAX_NDIM], idx[SIMREC_MAX_NDIM];
	for (int i = 0; i < nd; i++) {
		if (!count[i]) {
			/* no data: only publish the extent (a commit mark) */
			int rc = d->txn_open ? 0 : z->kvo->begin(z->kv);
			d->txn_open = 0;
			if (rc)
				return rc;
			rc = update_shape(st, d, m);
			return rc ? (z->kvo->abort(z->kv), rc)
			          : z->kvo->commit(z->kv);
		}
		lo[i] = idx[i] = start[i] / m->chunks[i];
		hi[i] = (start[i] + count[i] - 1) / m->chunks[i];
	}
	size_t cbytes;
	if (sr_size_prod(nd, m->chunks, isz, &cbytes))
		return sr_fail(st->err, SIMREC_EINVAL,
		               "'%s': chunk size overflows", d->key);
	if (sr_grow(&z->chunk, &z->chcap, cbytes))
		return sr_fail(st->err, SIMREC_ENOMEM, "out of memory");
	int rc = d->txn_open ? 0 : z->kvo->begin(z->kv); /* see zarr_create */
	d->txn_open = 0;
	if (rc)
		return rc;
	char ck[4096];
	do {
		size_t cst[SIMREC_MAX_NDIM], sst[SIMREC_MAX_NDIM],
		        n[SIMREC_MAX_NDIM];
		overlap(nd, m->chunks, idx, start, count, cst, sst, n);
		/* a chunk that is one contiguous run of the caller's data is
		 * compressed in place, else assembled (padded with fill) */
		const void *src = z->chunk;
		int full = 1, contiguous = 1;
		for (int i = 0; i < nd; i++) {
			full &= n[i] == m->chunks[i];
			if (i > 0 && n[i] != count[i])
				contiguous = 0;
		}
		chunk_key(ck, sizeof ck, d, nd, idx);
		if (!(full && contiguous) && z->kvo->reserve &&
		    !strcmp(d->codec.cname, "none")) {
			rc = reserve_chunk(st, ck, m, cbytes, data, count, cst,
			                   sst, n, full);
			continue;
		}
		if (full && contiguous) {
			size_t off = 0;
			for (int i = 0; i < nd; i++)
				off = off * count[i] + sst[i];
			src = (const char *)data + off * isz;
		} else {
			if (!full)
				memset(z->chunk, 0, cbytes);
			sr_copy_region(nd, isz, data, count, sst, z->chunk,
			               m->chunks, cst, n);
		}
		rc = put_chunk(st, d, ck, src, cbytes, isz);
	} while (!rc && sr_chunk_next(nd, lo, hi, idx));
	if (!rc)
		rc = update_shape(st, d, m);
	if (rc) {
		z->kvo->abort(z->kv);
		return rc;
	}
	double t0 = sr_clock();
	rc = z->kvo->commit(z->kv);
	st->t_write += sr_clock() - t0; /* LMDB writes its pages here */
	return rc;
}

/* A staged value is published (swapped in whole) once its chunks are
 * written, or dropped if they are not. */
static int zarr_write(sr_store *st, void *ds, const sr_meta *m,
                      const size_t *start, const size_t *count,
                      const void *data)
{
	zarr_store *z = st->impl;
	zds *d = ds;
	int rc = write_chunks(st, ds, m, start, count, data);
	if (d->txn_open) { /* returned before its transaction */
		d->txn_open = 0;
		rc = rc ? (z->kvo->abort(z->kv), rc) : z->kvo->commit(z->kv);
	}
	if (d->staged) {
		d->staged = 0;
		if (rc)
			z->kvo->unstage(z->kv);
		else
			rc = z->kvo->publish(z->kv);
	}
	return rc;
}

static int zarr_encoded_codec(sr_store *st, void *ds, sr_codec *c)
{
	SR_UNUSED(st);
	const zds *d = ds;
	if (!d->compressed || !strcmp(d->codec.cname, "none"))
		return 0;
	*c = d->codec;
	return 1;
}

/* Chunk objects already encoded (blosc frames, as numcodecs writes
 * them): put unchanged, then the extent, in one transaction. */
static int zarr_write_encoded(sr_store *st, void *ds, const sr_meta *m,
                              size_t n, const size_t *idx,
                              const void *const *frames, const size_t *lens)
{
	zarr_store *z = st->impl;
	zds *d = ds;
	int rc = z->kvo->begin(z->kv);
	if (rc)
		return rc;
	char ck[4096];
	double t0 = sr_clock();
	for (size_t i = 0; i < n && !rc; i++) {
		chunk_key(ck, sizeof ck, d, m->ndim, idx + i * (size_t)m->ndim);
		rc = z->kvo->put(z->kv, ck, frames[i], lens[i]);
	}
	if (!rc)
		rc = update_shape(st, d, m);
	if (rc) {
		z->kvo->abort(z->kv);
		return rc;
	}
	rc = z->kvo->commit(z->kv);
	st->t_write += sr_clock() - t0;
	return rc;
}

static int zarr_write_vlen(sr_store *st, void *ds, const sr_meta *m,
                           size_t row0, size_t n, const sr_blob *items)
{
	zarr_store *z = st->impl;
	zds *d = ds;
	size_t c = m->chunks[0];
	int rc = z->kvo->begin(z->kv);
	if (rc)
		return rc;
	static const sr_blob empty = {NULL, 0};
	sr_blob *pad = calloc(c, sizeof *pad);
	if (!pad)
		rc = SIMREC_ENOMEM;
	for (size_t r = row0; !rc && r < row0 + n; r += c - r % c) {
		size_t ci = r / c, first = ci * c;
		for (size_t i = 0; i < c; i++) {
			size_t row = first + i;
			pad[i] = row >= row0 && row < row0 + n
			                 ? items[row - row0]
			                 : empty;
		}
		/* chunks at the end of the array hold c items too (zarr pads)
		 */
		void *enc;
		size_t elen, clen;
		if (sr_vlen_encode(pad, c, &enc, &elen)) {
			rc = sr_fail(st->err, SIMREC_ENOMEM, "out of memory");
			break;
		}
		rc = sr_codec_encode(&d->codec, 1, enc, elen, &z->cbuf,
		                     &z->ccap, &clen, st->err);
		free(enc);
		char ck[4096];
		chunk_key(ck, sizeof ck, d, 1, &ci);
		if (!rc)
			rc = z->kvo->put(z->kv, ck, z->cbuf, clen);
	}
	free(pad);
	if (!rc)
		rc = update_shape(st, d, m);
	return rc ? (z->kvo->abort(z->kv), rc) : z->kvo->commit(z->kv);
}

/* Decode chunk ck into z->chunk (cbytes); *missing if absent. */
static int load_chunk(sr_store *st, zds *d, const char *ck, size_t cbytes,
                      int *missing)
{
	zarr_store *z = st->impl;
	const void *v;
	size_t len;
	int rc = z->kvo->get(z->kv, ck, &v, &len);
	*missing = rc == SIMREC_ENOKEY;
	if (rc)
		return *missing ? 0 : rc;
	rc = sr_codec_decode(d->compressed, v, len, z->chunk, cbytes,
	                     st->codec.nthreads, st->err);
	if (rc)
		sr_fail(st->err, rc, "chunk '%s' of '%s' is corrupt: %s", ck,
		        st->uri.path, st->err->msg);
	return rc;
}

/* A selection that is one contiguous run inside a compressed chunk is
 * decoded alone (only the blosc blocks holding it): slicing a big dataset
 * then costs about what it returns. Returns 1 if it handled the chunk. */
static int read_run(sr_store *st, const sr_meta *m, const char *ck,
                    const size_t *cst, const size_t *n, const size_t *sst,
                    const size_t *count, void *buf, int *rc)
{
	int nd = m->ndim, i = 0;
	while (i < nd && n[i] == 1)
		i++;
	size_t run = 1;
	for (int j = i + 1; j < nd; j++)
		if (n[j] != m->chunks[j])
			return 0;
	size_t off = 0, celems = 1;
	for (int j = 0; j < nd; j++) {
		off = off * m->chunks[j] + cst[j];
		run *= n[j];
		celems *= m->chunks[j];
	}
	if (run * 4 > celems) /* large runs: a whole decode is as cheap */
		return 0;
	zarr_store *z = st->impl;
	const void *v;
	size_t len, isz = simrec_dtype_size(m->dtype);
	*rc = z->kvo->get(z->kv, ck, &v, &len);
	if (*rc == SIMREC_ENOKEY) {
		*rc = 0;
		return 0; /* missing chunk: the general path fills */
	}
	size_t ts = 0;
	if (!*rc && !sr_codec_frame_check(v, len, celems * isz, &ts, st->err) &&
	    ts != isz)
		return 0; /* another writer's typesize: decode it whole */
	if (!*rc)
		*rc = sr_codec_decode_items(v, len, off, run, isz, celems * isz,
		                            z->chunk, st->err);
	if (*rc)
		sr_fail(st->err, *rc, "chunk '%s' of '%s' is corrupt: %s", ck,
		        st->uri.path, st->err->msg);
	if (!*rc) {
		size_t zero[SIMREC_MAX_NDIM] = {0};
		sr_copy_region(nd, isz, z->chunk, n, zero, buf, count, sst, n);
	}
	return 1;
}

static int zarr_read(sr_store *st, void *ds, const sr_meta *m,
                     const size_t *start, const size_t *count, void *buf)
{
	zarr_store *z = st->impl;
	zds *d = ds;
	int nd = m->ndim;
	size_t isz = simrec_dtype_size(m->dtype), celems = 1;
	size_t lo[SIMREC_MAX_NDIM], hi[SIMREC_MAX_NDIM], idx[SIMREC_MAX_NDIM];
	for (int i = 0; i < nd; i++) {
		celems *= m->chunks[i]; /* bounded: checked below */
		if (!count[i])
			return 0;
		lo[i] = idx[i] = start[i] / m->chunks[i];
		hi[i] = (start[i] + count[i] - 1) / m->chunks[i];
	}
	size_t cbytes;
	if (sr_size_prod(nd, m->chunks, isz, &cbytes))
		return sr_fail(st->err, SIMREC_EFORMAT,
		               "'%s' in '%s': chunk size overflows", d->key,
		               st->uri.path);
	if (sr_grow(&z->chunk, &z->chcap, cbytes))
		return sr_fail(st->err, SIMREC_ENOMEM,
		               "out of memory for a %zu-byte chunk", cbytes);
	int rc = z->kvo->read_begin(z->kv);
	if (rc)
		return rc;
	char ck[4096];
	do {
		size_t cst[SIMREC_MAX_NDIM], sst[SIMREC_MAX_NDIM],
		        n[SIMREC_MAX_NDIM];
		overlap(nd, m->chunks, idx, start, count, cst, sst, n);
		chunk_key(ck, sizeof ck, d, nd, idx);
		if (d->compressed &&
		    read_run(st, m, ck, cst, n, sst, count, buf, &rc))
			continue;
		int missing;
		rc = load_chunk(st, d, ck, cbytes, &missing);
		if (!rc && missing)
			for (size_t i = 0; i < celems; i++)
				memcpy((char *)z->chunk + i * isz, d->fill,
				       isz);
		if (!rc)
			sr_copy_region(nd, isz, z->chunk, m->chunks, cst, buf,
			               count, sst, n);
	} while (!rc && sr_chunk_next(nd, lo, hi, idx));
	z->kvo->read_end(z->kv);
	return rc;
}

static int zarr_read_vlen(sr_store *st, void *ds, const sr_meta *m,
                          size_t index, sr_blob *out)
{
	zarr_store *z = st->impl;
	zds *d = ds;
	size_t ci = index / m->chunks[0];
	char ck[4096];
	chunk_key(ck, sizeof ck, d, 1, &ci);
	int rc = z->kvo->read_begin(z->kv);
	if (rc)
		return rc;
	const void *v;
	size_t len;
	rc = z->kvo->get(z->kv, ck, &v, &len);
	void *dec = NULL;
	size_t dlen = len;
	if (!rc && d->compressed) {
		dlen = sr_codec_decoded_size(v, len);
		dec = malloc(dlen ? dlen : 1);
		if (!dec)
			rc = SIMREC_ENOMEM;
		else
			rc = sr_codec_decode(1, v, len, dec, dlen, 1, st->err);
	}
	/* numcodecs writes every row of the chunk: an item count past the
	 * chunk's rows, or short of the recorded ones, is no chunk of ours */
	size_t c0 = m->chunks[0], k0 = index - index % c0,
	       cnt = rc ? 0 : sr_vlen_count(dec ? dec : v, dlen),
	       need = m->shape[0] - k0 < c0 ? m->shape[0] - k0 : c0;
	if (!rc && (cnt > c0 || cnt < need)) {
		rc = sr_fail(st->err, SIMREC_EFORMAT,
		             "chunk '%s' of '%s' is corrupt: %zu items, the "
		             "chunk has %zu rows",
		             ck, st->uri.path, cnt, c0);
		free(dec);
		z->kvo->read_end(z->kv);
		return rc;
	}
	if (!rc)
		rc = sr_vlen_item(dec ? dec : v, dlen, index % m->chunks[0],
		                  out);
	if (rc == SIMREC_ENOKEY) {
		out->data = calloc(1, 1);
		out->len = 0;
		rc = out->data ? 0 : SIMREC_ENOMEM;
	} else if (rc == SIMREC_EFORMAT) {
		sr_fail(st->err, rc, "chunk '%s' of '%s' is corrupt", ck,
		        st->uri.path);
	}
	free(dec);
	z->kvo->read_end(z->kv);
	return rc;
}

/* ---- attributes -------------------------------------------------------- */

static int get_attrs(zarr_store *z, const char *key, json_t **out, sr_err *e)
{
	return get_json_as(z, key, ".zattrs", 1, out, e);
}

static int put_attrs(zarr_store *z, const char *key, json_t *j, sr_err *e)
{
	return put_json_as(z, key, ".zattrs", 1, j, e);
}

static int zarr_attr_set(sr_store *st, const char *key, const char *name,
                         const simrec_attr_t *a)
{
	zarr_store *z = st->impl;
	int rc = z->kvo->begin(z->kv);
	if (rc)
		return rc;
	json_t *j = NULL;
	if (!has_key(z, key, ".zarray"))
		rc = ensure_groups(z, key, 1, st->err);
	if (!rc && get_attrs(z, key, &j, st->err) == SIMREC_EFORMAT)
		rc = SIMREC_EFORMAT;
	if (!rc && !json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	if (!rc && (rc = sr_attr_to_json(j, name, a)) == SIMREC_EINVAL)
		sr_fail(st->err, rc, "attribute '%s' of '%s': not valid UTF-8",
		        name, key);
	if (!rc)
		rc = put_attrs(z, key, j, st->err);
	json_decref(j);
	return rc ? (z->kvo->abort(z->kv), rc) : z->kvo->commit(z->kv);
}

static int with_attrs(sr_store *st, const char *key, json_t **j)
{
	zarr_store *z = st->impl;
	int rc = z->kvo->read_begin(z->kv);
	if (rc)
		return rc;
	rc = get_attrs(z, key, j, st->err);
	if (rc == SIMREC_ENOKEY &&
	    (has_key(z, key, ".zarray") || has_key(z, key, ".zgroup"))) {
		*j = json_object();
		rc = 0;
	}
	z->kvo->read_end(z->kv);
	json_object_del(*j, VALUE_ATTR);
	json_object_del(*j, RECORD_ATTR);
	return rc;
}

static int zarr_attr_get(sr_store *st, const char *key, const char *name,
                         simrec_attr_t *out)
{
	json_t *j = NULL;
	int rc = with_attrs(st, key, &j);
	if (!rc)
		rc = sr_attr_from_json(j, name, out);
	if (rc == SIMREC_EFORMAT)
		sr_fail(st->err, rc,
		        "attribute '%s' of '%s' in '%s': a string holding a "
		        "NUL "
		        "character (a C string cannot hold it)",
		        name, *key ? key : "/", st->uri.path);
	json_decref(j);
	return rc;
}

static int zarr_attr_list(sr_store *st, const char *key, sr_attr_fn fn,
                          void *arg)
{
	json_t *j = NULL;
	int rc = with_attrs(st, key, &j);
	if (!rc)
		rc = sr_attr_json_list(j, fn, arg);
	json_decref(j);
	return rc;
}

/* ---- listing ----------------------------------------------------------- */

typedef struct list_ctx {
	sr_list_fn fn;
	void *arg;
	const char *prefix;
} list_ctx;

static int list_cb(const char *k, void *arg)
{
	list_ctx *c = arg;
	const char *leaf = strrchr(k, '/');
	leaf = leaf ? leaf + 1 : k;
	int ds = !strcmp(leaf, ".zarray");
	if (!ds && strcmp(leaf, ".zgroup"))
		return 0;
	size_t n = (size_t)(leaf - k);
	if (n == 0)
		return 0; /* the root group */
	char key[4096];
	snprintf(key, sizeof key, "%.*s", (int)n - 1, k);
	size_t pl = strlen(c->prefix);
	if (pl && key[pl] && key[pl] != '/')
		return 0;
	return c->fn(key, ds, c->arg);
}

static int zarr_list(sr_store *st, const char *prefix, sr_list_fn fn, void *arg)
{
	zarr_store *z = st->impl;
	list_ctx c = {fn, arg, prefix};
	return z->kvo->list(z->kv, prefix, list_cb, &c);
}

static long long zarr_disk_bytes(sr_store *st)
{
	zarr_store *z = st->impl;
	return z->kvo->disk_bytes(z->kv);
}

typedef struct sum_ctx {
	zarr_store *z;
	long long bytes, chunks;
} sum_ctx;

static int sum_cb(const char *k, void *arg)
{
	sum_ctx *c = arg;
	const char *leaf = strrchr(k, '/');
	const void *v;
	size_t n;
	if (leaf && leaf[1] != '.' && !c->z->kvo->get(c->z->kv, k, &v, &n)) {
		c->bytes += (long long)n;
		c->chunks++;
	}
	return 0;
}

static char *zarr_describe(sr_store *st, void *ds, const sr_meta *m)
{
	SR_UNUSED(m);
	zarr_store *z = st->impl;
	zds *d = ds;
	json_t *j = NULL;
	char *prefix = cat_key(d->key, "");
	sum_ctx c = {z, 0, 0};
	if (!prefix || z->kvo->read_begin(z->kv)) {
		free(prefix);
		return NULL;
	}
	get_json(z, d->key, ".zarray", &j, st->err);
	/* chunk keys are "key/i.j" with no further '/' */
	z->kvo->list(z->kv, prefix, sum_cb, &c);
	z->kvo->read_end(z->kv);
	free(prefix);
	json_t *o = json_object();
	json_object_set(o, "compressor", json_object_get(j, "compressor"));
	json_object_set(o, "filters", json_object_get(j, "filters"));
	json_object_set_new(o, "stored_bytes", json_integer(c.bytes));
	json_object_set_new(o, "stored_chunks", json_integer(c.chunks));
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	json_decref(j);
	return text;
}

/* Every chunk inside the shape present and decoding (vlen: present). */
static int zarr_check(sr_store *st, void *ds, const sr_meta *m, size_t *whole)
{
	zarr_store *z = st->impl;
	zds *d = ds;
	int nd = m->ndim;
	*whole = nd ? m->shape[0] : 1;
	size_t isz = simrec_dtype_size(m->dtype), celems = 1;
	size_t lo[SIMREC_MAX_NDIM] = {0}, hi[SIMREC_MAX_NDIM],
	       idx[SIMREC_MAX_NDIM] = {0};
	for (int i = 0; i < nd; i++) {
		if (!m->shape[i] || !m->chunks[i])
			return 0;
		celems *= m->chunks[i];
		hi[i] = (m->shape[i] - 1) / m->chunks[i];
	}
	if (!nd)
		return 0;
	if (isz && sr_grow(&z->chunk, &z->chcap, celems * isz))
		return sr_fail(st->err, SIMREC_ENOMEM, "out of memory");
	int rc = z->kvo->read_begin(z->kv);
	if (rc)
		return rc;
	sr_torn t = {0};
	char ck[4096];
	do {
		if (sr_torn_stop(&t, m, idx[0]))
			break;
		chunk_key(ck, sizeof ck, d, nd, idx);
		const void *v;
		size_t len;
		int r = z->kvo->get(z->kv, ck, &v, &len);
		const char *why = r == SIMREC_ENOKEY ? "chunk missing"
		                  : r                ? "chunk unreadable"
		                                     : NULL;
		if (!r && isz &&
		    sr_codec_decode(d->compressed, v, len, z->chunk,
		                    celems * isz, st->codec.nthreads, st->err))
			why = d->compressed ? "chunk short or does not decode"
			                    : "chunk short";
		if (why && !t.nbad)
			snprintf(t.first, sizeof t.first, "'%.100s': %.100s",
			         ck, r || !isz ? why : st->err->msg);
		if (why)
			sr_torn_add(&t, m, idx[0], why);
	} while (sr_chunk_next(nd, lo, hi, idx));
	z->kvo->read_end(z->kv);
	return sr_store_torn(st, d->key, m, &t, whole);
}

#define ZARR_OPS                                                               \
	.version = SR_STORE_OPS_VERSION, .close = zarr_close,                  \
	.commit = zarr_commit, .lookup = zarr_lookup, .create = zarr_create,   \
	.write = zarr_write, .write_vlen = zarr_write_vlen, .read = zarr_read, \
	.read_vlen = zarr_read_vlen, .release = zarr_release,                  \
	.attr_set = zarr_attr_set, .attr_get = zarr_attr_get,                  \
	.attr_list = zarr_attr_list, .list = zarr_list,                        \
	.disk_bytes = zarr_disk_bytes, .describe = zarr_describe,              \
	.check = zarr_check, .encoded_codec = zarr_encoded_codec,              \
	.write_encoded = zarr_write_encoded

/* map_size: LMDB's map (a size with unit, default 1 TiB, sparse);
 * sync=0: commits survive a crashed process but are not forced to disk */
static const sr_param lmdb_params[] = {
        {"map_size", SR_PARAM_SIZE},
        {"sync", SR_PARAM_BOOL},
        {NULL, SR_PARAM_STRING},
};
static const sr_param dir_params[] = {
        {"sync", SR_PARAM_BOOL},
        {NULL, SR_PARAM_STRING},
};

const sr_store_ops sr_zarr_lmdb_ops = {
        .scheme = "zarr",
        .flags = SR_STORE_ONE_NODE,
        .default_codec = "lz4",
        .default_chunk_bytes = 1u << 20,
        .params = lmdb_params,
        .open = zarr_open_lmdb,
        ZARR_OPS,
};

const sr_store_ops sr_zarr_dir_ops = {
        .scheme = "zarr+dir",
        .flags = SR_STORE_SHARED_FILE,
        /* one file per chunk: bigger chunks, fewer files (measured:
         * 1 MiB chunk files halve the bandwidth) */
        .default_codec = "lz4",
        .default_chunk_bytes = 8u << 20,
        .params = dir_params,
        .open = zarr_open_dir,
        ZARR_OPS,
};
