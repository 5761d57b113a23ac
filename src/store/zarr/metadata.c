/* zarr's .zarray: written as zarr-python writes it, read back with every field
 * checked; lookup and create of a dataset. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "../../common/half.h"

#include "zarr.h"

/* ---- metadata ---------------------------------------------------------- */

json_t *zarr_size_array(int n, const size_t *v)
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
	} else {
		/* no fill value: xarray would mask every element equal to
		 * one (docs/format.md); no reader ever sees a missing chunk */
		fill = json_null();
	}
	return json_pack("{s:o,s:o,s:s,s:o,s:o,s:s,s:o,s:i}", "chunks",
	                 zarr_size_array(m->ndim, m->chunks), "compressor",
	                 comp, "dtype", sr_dtype_zarr(m->dtype), "fill_value",
	                 fill, "filters", filters, "order", "C", "shape",
	                 zarr_size_array(m->ndim, m->shape), "zarr_format", 2);
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
/* One float of a fill value: a number or "NaN"/"Infinity"/"-Infinity",
 * stored as a float16, float32 or float64 (size bytes) in out. */
static int fill_float(json_t *f, size_t size, unsigned char *out)
{
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
	double max = size == 2   ? 65504.0
	             : size == 4 ? (double)FLT_MAX
	                         : DBL_MAX;
	if (isfinite(d) && fabs(d) > max)
		return -1;
	if (size == 8) {
		memcpy(out, &d, 8);
	} else if (size == 4) {
		float x = (float)d;
		memcpy(out, &x, 4);
	} else {
		uint16_t h = sr_half_from_double(d);
		memcpy(out, &h, 2);
	}
	return 0;
}

static int parse_fill(simrec_dtype_t dt, json_t *f, unsigned char *out)
{
	memset(out, 0, SR_FILL_MAX);
	if (!f || json_is_null(f))
		return 0;
	if (sr_dtype_is_vlen(dt)) /* zarr-python writes 0 or "" */
		return json_is_integer(f) || json_is_string(f) ? 0 : -1;
	size_t sz = simrec_dtype_size(dt);
	if (dt == SIMREC_FLOAT16 || dt == SIMREC_FLOAT32 ||
	    dt == SIMREC_FLOAT64)
		return fill_float(f, sz, out);
	if (dt == SIMREC_COMPLEX64 || dt == SIMREC_COMPLEX128) {
		/* zarr-python writes [real, imaginary] */
		if (!json_is_array(f) || json_array_size(f) != 2)
			return -1;
		return fill_float(json_array_get(f, 0), sz / 2, out) ||
		                       fill_float(json_array_get(f, 1), sz / 2,
		                                  out + sz / 2)
		               ? -1
		               : 0;
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
		if (m->ndim > 1)
			return unsup(st, key,
			             "object arrays of more than one "
			             "dimension are not supported");
		if (m->ndim == 0) /* one item (simrec_set_bytes) */
			m->shape[0] = m->chunks[0] = 1;
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
	json_t *f = json_object_get(j, "fill_value");
	d->has_fill = f && !json_is_null(f);
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

int zarr_lookup(sr_store *st, const char *key, sr_meta *m, void **ds)
{
	zarr_store *z = st->impl;
	json_t *j = NULL, *attrs = NULL;
	int rc = zarr_read_begin(z);
	if (rc)
		return rc;
	rc = zarr_get_json(z, key, ".zarray", &j, st->err);
	if (rc == SIMREC_ENOKEY && zarr_has_key(z, key, ".zgroup"))
		rc = SIMREC_EKIND;
	else if (rc == SIMREC_ENOKEY && *key)
		rc = zarr_lost_meta(st, key);
	zds *d = NULL;
	if (!rc && !(d = zds_new(key)))
		rc = SIMREC_ENOMEM;
	if (!rc)
		rc = parse_zarray(st, key, j, m, d);
	/* arrays without simrec's record marker (other programs') are
	 * values; an unreadable .zattrs fails the lookup, since whether the
	 * array is a value or records depends on it */
	if (!rc) {
		int ra = zarr_get_attrs(z, key, &attrs, st->err);
		if (ra && ra != SIMREC_ENOKEY)
			rc = ra;
		int got = ra == 0;
		m->kind =
		        got && json_is_true(json_object_get(attrs, VALUE_ATTR))
		                ? SR_VALUE
		        : got && json_is_true(
		                         json_object_get(attrs, RECORD_ATTR))
		                ? SR_RECORDS
		                : SR_GROWABLE_ARRAY;
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

void zarr_release(sr_store *st, void *ds)
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
	if (zarr_get_attrs(st->impl, key, &a, st->err)) {
		json_decref(a);
		a = json_object();
	}
	json_object_del(a, m->kind != SR_RECORDS ? RECORD_ATTR : VALUE_ATTR);
	if (a)
		json_object_set_new(
		        a, m->kind != SR_RECORDS ? VALUE_ATTR : RECORD_ATTR,
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
	if (zarr_has_key(z, key, ".zgroup"))
		rc = sr_fail(st->err, SIMREC_EKIND,
		             "'%s' is a group in '%s', not a dataset", key,
		             st->uri.path);
	if (!rc)
		rc = zarr_ensure_groups(z, key, 0, st->err);
	json_t *a = rc ? NULL : kept_attrs(st, key, m);
	json_t *j = rc ? NULL : zarray_json(st, m);
	if (!rc && (!j || !a))
		rc = SIMREC_ENOMEM;
	/* staged: simrec_set's value only (one create, one write) */
	if (!rc && m->kind == SR_VALUE && z->kvo->stage) {
		rc = z->kvo->stage(z->kv, key);
		*staged = !rc;
	}
	if (!rc)
		rc = zarr_put_json(z, key, ".zarray", j, st->err);
	if (!rc)
		rc = zarr_put_attrs(z, key, a, st->err);
	json_decref(j);
	json_decref(a);
	return rc;
}

int zarr_create(sr_store *st, const char *key, const sr_meta *m, void **ds)
{
	zarr_store *z = st->impl;
	int rc = 0, staged = 0, hold = 0;
	if (!st->meta_writer) /* another writer rank writes the metadata */
		goto handle;
	rc = zarr_begin(z);
	if (rc)
		return rc;
	rc = create_meta(st, key, m, &staged);
	/* a value (simrec_set) on a layer that does not stage: the write
	 * commits metadata and chunks in one transaction, so a crash leaves
	 * the old value or the new one, whole */
	hold = !rc && m->kind == SR_VALUE && !z->kvo->stage;
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
	d->has_fill = sr_dtype_is_vlen(m->dtype); /* as zarray_json writes */
	*ds = d;
	return 0;
}
