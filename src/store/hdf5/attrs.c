/* hdf5's attributes (as h5py writes them), listing, description and size. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../common/attr_json.h"
#include "h5store.h"

/* ---- attributes -------------------------------------------------------- */

static hid_t open_obj(sr_store *st, const char *key, int create)
{
	h5_store *h = st->impl;
	char p[4096];
	int ex = h5_exists(h->file, key);
	if (ex <= 0) {
		if (!create || ex < 0)
			return H5I_INVALID_HID;
		hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
		H5Pset_create_intermediate_group(lcpl, 1);
		hid_t g = H5Gcreate2(h->file, h5_path_of(key, p, sizeof p),
		                     lcpl, H5P_DEFAULT, H5P_DEFAULT);
		H5Pclose(lcpl);
		return g;
	}
	return H5Oopen(h->file, *key ? h5_path_of(key, p, sizeof p) : "/",
	               H5P_DEFAULT);
}

int h5_attr_set(sr_store *st, const char *key, const char *name,
                const simrec_attr_t *a)
{
	int rc = h5_sticky(st);
	if (rc)
		return rc;
	if (((h5_store *)st->impl)->swmr_on)
		return h5_swmr_attr_rewrite(st, key, name, a);
	if (!strcmp(name, "_ARRAY_DIMENSIONS") &&
	    a->type == SIMREC_ATTR_STRINGS)
		return h5_dims_set(st, key, a);
	hid_t o = open_obj(st, key, 1);
	if (o < 0)
		return sr_fail(st->err, SIMREC_EIO, "cannot open '%s' in '%s'",
		               key, st->uri.path);
	H5O_info_t oi;
	int there = H5Aexists(o, name) > 0;
	if (!there && H5Oget_info2(o, &oi, H5O_INFO_NUM_ATTRS) >= 0 &&
	    oi.num_attrs >= SR_ATTRS_MAX) {
		H5Oclose(o);
		return sr_fail(st->err, SIMREC_ENOTSUP,
		               "'%s' in '%s' holds %d attributes, the most a "
		               "key may hold: attribute '%s' not added",
		               *key ? key : "/", st->uri.path, SR_ATTRS_MAX,
		               name);
	}
	if (there)
		H5Adelete(o, name);
	hid_t t, sp;
	const void *v;
	const char *s = a->s;
	signed char b = (signed char)(a->i != 0);
	switch (a->type) {
	case SIMREC_ATTR_INT:
		t = H5Tcopy(H5T_NATIVE_INT64);
		v = &a->i;
		break;
	case SIMREC_ATTR_UINT:
		t = H5Tcopy(H5T_NATIVE_UINT64);
		v = &a->u;
		break;
	case SIMREC_ATTR_BOOL:
		t = h5_bool_type();
		v = &b;
		break;
	case SIMREC_ATTR_DOUBLE:
		t = H5Tcopy(H5T_NATIVE_DOUBLE);
		v = &a->d;
		break;
	case SIMREC_ATTR_ARRAY:
	case SIMREC_ATTR_EMPTY:
		t = h5_mem_type(a->dtype);
		v = a->data;
		break;
	default:
		t = h5_mem_type(SIMREC_STRING);
		v = &s;
	}
	const char **list = NULL; /* STRINGS: a 1-d array of vlen strings */
	if (a->type == SIMREC_ATTR_STRINGS) {
		list = malloc(a->count * sizeof *list);
		if (!list) {
			H5Tclose(t);
			H5Oclose(o);
			return SIMREC_ENOMEM;
		}
		for (size_t k = 0, off = 0; k < a->count; k++) {
			list[k] = a->s + off;
			off += strlen(a->s + off) + 1;
		}
		v = list;
	}
	if (a->type == SIMREC_ATTR_ARRAY || list) {
		hsize_t n = a->count;
		sp = H5Screate_simple(1, &n, NULL);
	} else {
		/* h5py.Empty: a null dataspace */
		sp = H5Screate(a->type == SIMREC_ATTR_EMPTY ? H5S_NULL
		                                            : H5S_SCALAR);
	}
	hid_t at = H5Acreate2(o, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
	int nothing = a->type == SIMREC_ATTR_EMPTY ||
	              (a->type == SIMREC_ATTR_ARRAY && !a->count);
	rc = at < 0 || (!nothing && H5Awrite(at, t, v) < 0)
	             ? sr_fail(st->err, SIMREC_EIO,
	                       "cannot write attribute '%s' of '%s'", name, key)
	             : 0;
	if (at >= 0)
		H5Aclose(at);
	H5Tclose(t);
	H5Sclose(sp);
	H5Oclose(o);
	free(list);
	return rc;
}

/* A string attribute (scalar; fixed-length or variable, any cset). */
static int attr_string(hid_t at, hid_t t, simrec_attr_t *out)
{
	out->type = SIMREC_ATTR_STRING;
	if (H5Tis_variable_str(t) > 0) {
		char *s = NULL;
		hid_t mt = H5Tcopy(t);
		herr_t e = H5Aread(at, mt, &s);
		out->s = e < 0 ? NULL : strdup(s ? s : "");
		if (e >= 0) {
			hid_t sp = H5Aget_space(at);
			H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, &s);
			H5Sclose(sp);
		}
		H5Tclose(mt);
		return out->s ? 0 : e < 0 ? SIMREC_EIO : SIMREC_ENOMEM;
	}
	size_t n = H5Tget_size(t);
	out->s = calloc(1, n + 1);
	if (!out->s)
		return SIMREC_ENOMEM;
	return H5Aread(at, t, out->s) < 0 ? SIMREC_EIO : 0;
}

/* A 1-d array of n variable-length strings: a list of strings. */
static int attr_strings(hid_t at, hid_t t, size_t n, simrec_attr_t *out)
{
	char **v = calloc(n, sizeof *v);
	hid_t mt = H5Tcopy(t);
	hid_t sp = H5Aget_space(at);
	int rc = v && H5Aread(at, mt, v) >= 0 ? 0 : SIMREC_EIO;
	size_t len = 0;
	for (size_t k = 0; !rc && k < n; k++)
		len += (v[k] ? strlen(v[k]) : 0) + 1;
	out->s = rc ? NULL : malloc(len ? len : 1);
	if (!rc && !out->s)
		rc = SIMREC_ENOMEM;
	for (size_t k = 0, off = 0; !rc && k < n; k++) {
		size_t m = v[k] ? strlen(v[k]) : 0;
		memcpy(out->s + off, v[k] ? v[k] : "", m + 1);
		off += m + 1;
	}
	if (v && rc != SIMREC_EIO)
		H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, v);
	out->type = SIMREC_ATTR_STRINGS;
	out->count = n;
	free(v);
	H5Sclose(sp);
	H5Tclose(mt);
	return rc;
}

static int attr_read(hid_t at, const char *key, const char *name,
                     simrec_attr_t *out, sr_err *e)
{
	hid_t t = H5Aget_type(at), sp = H5Aget_space(at);
	H5S_class_t sc = H5Sget_simple_extent_type(sp);
	int nd = H5Sget_simple_extent_ndims(sp);
	hssize_t npts = H5Sget_simple_extent_npoints(sp);
	H5T_class_t c = H5Tget_class(t);
	simrec_dtype_t dt = SIMREC_FLOAT64;
	const char *why = NULL;
	int known = h5_dtype_of(t, &dt, &why) == 0;
	int rc = 0;
	if (sc == H5S_NULL) {
		out->type = SIMREC_ATTR_EMPTY; /* h5py.Empty */
		out->dtype = known ? dt : SIMREC_FLOAT64;
	} else if (!known) {
		rc = SIMREC_ENOTSUP;
	} else if (sc == H5S_SIMPLE && nd == 1 && c == H5T_STRING &&
	           H5Tis_variable_str(t) > 0 && npts >= 1 &&
	           npts <= SR_ATTR_STRINGS_MAX) {
		rc = attr_strings(at, t, (size_t)npts, out);
	} else if (sc == H5S_SIMPLE && (nd != 1 || sr_dtype_is_vlen(dt))) {
		why = nd != 1 ? "attributes of more than one dimension"
		              : "attribute arrays of strings";
		rc = SIMREC_ENOTSUP;
	} else if (sc == H5S_SIMPLE) {
		size_t n = (size_t)npts, sz = simrec_dtype_size(dt);
		hid_t mt = h5_mem_type(dt);
		out->type = SIMREC_ATTR_ARRAY;
		out->dtype = dt;
		out->count = n;
		out->data = malloc(n ? n * sz : 1);
		if (!out->data)
			rc = SIMREC_ENOMEM;
		else if (n && H5Aread(at, mt, out->data) < 0)
			rc = SIMREC_EIO;
		H5Tclose(mt);
	} else if (c == H5T_STRING) {
		rc = attr_string(at, t, out);
	} else if (dt == SIMREC_BOOL) {
		signed char b = 0;
		hid_t mt = h5_bool_type();
		out->type = SIMREC_ATTR_BOOL;
		rc = H5Aread(at, mt, &b) < 0 ? SIMREC_EIO : 0;
		H5Tclose(mt);
		out->i = b != 0;
		out->u = (uint64_t)out->i;
		out->d = (double)out->i;
	} else if (dt == SIMREC_UINT64) {
		out->type = SIMREC_ATTR_UINT;
		rc = H5Aread(at, H5T_NATIVE_UINT64, &out->u) < 0 ? SIMREC_EIO
		                                                 : 0;
		out->i = out->u <= INT64_MAX ? (int64_t)out->u : 0;
		out->d = (double)out->u;
	} else if (c == H5T_INTEGER) {
		out->type = SIMREC_ATTR_INT;
		rc = H5Aread(at, H5T_NATIVE_INT64, &out->i) < 0 ? SIMREC_EIO
		                                                : 0;
		out->u = out->i >= 0 ? (uint64_t)out->i : 0;
		out->d = (double)out->i;
	} else if (c == H5T_FLOAT) {
		out->type = SIMREC_ATTR_DOUBLE;
		rc = H5Aread(at, H5T_NATIVE_DOUBLE, &out->d) < 0 ? SIMREC_EIO
		                                                 : 0;
	} else {
		why = "this attribute type";
		rc = SIMREC_ENOTSUP;
	}
	H5Tclose(t);
	H5Sclose(sp);
	if (rc == SIMREC_ENOTSUP)
		return sr_fail(e, rc,
		               "attribute '%s' of '%s': HDF5 %s are not "
		               "supported",
		               name, *key ? key : "/", why);
	if (rc == SIMREC_EIO)
		return sr_fail(e, rc, "cannot read attribute '%s' of '%s'",
		               name, *key ? key : "/");
	return rc;
}

static int attr_get(sr_store *st, const char *key, const char *name,
                    simrec_attr_t *out)
{
	memset(out, 0, sizeof *out);
	hid_t o = open_obj(st, key, 0);
	if (o < 0)
		return SIMREC_ENOKEY;
	if (H5Aexists(o, name) <= 0) {
		H5Oclose(o);
		return SIMREC_ENOKEY;
	}
	/* a SWMR reader's cache holds the object as it first read it: the
	 * writer may have written a new value since (the finished mark) */
	if (((h5_store *)st->impl)->swmr_read)
		H5Orefresh(o);
	hid_t at = H5Aopen(o, name, H5P_DEFAULT);
	int rc = at < 0 ? sr_fail(st->err, SIMREC_EIO,
	                          "cannot open attribute '%s' of '%s'", name,
	                          key)
	                : attr_read(at, key, name, out, st->err);
	if (at >= 0)
		H5Aclose(at);
	H5Oclose(o);
	if (rc)
		simrec_attr_clear(out);
	return rc;
}

typedef struct name_cb {
	sr_attr_fn fn;
	void *arg;
	int rc;
} name_cb;

static herr_t attr_iter(hid_t o, const char *name, const H5A_info_t *info,
                        void *arg)
{
	SR_UNUSED(info);
	name_cb *c = arg;
	if (!strncmp(name, "_simrec", 7) || h5_is_scale_attr(o, name))
		return 0;
	c->rc = c->fn(name, c->arg);
	return c->rc ? 1 : 0;
}

/* Attributes in an object's header (HDF5's compact storage, the only one
 * of files in the earliest format, h5py's default) are found by a scan
 * of all of them: reading each of N costs N, so N of them cost N^2 (30,000
 * took minutes). Beyond H5_COMPACT_ATTRS_MAX the listing is refused; the
 * dense storage (an index: libver 1.8 and later) has no such bound. */
#define H5_COMPACT_ATTRS_MAX 4096

static int compact_bound(sr_store *st, const char *key, hid_t o)
{
	H5O_info_t oi;
	if (H5Oget_info2(o, &oi, H5O_INFO_NUM_ATTRS | H5O_INFO_META_SIZE) < 0)
		return h5_damaged(st, *key ? key : "/", "attributes",
		                  h5_errno(st));
	if (oi.num_attrs <= H5_COMPACT_ATTRS_MAX ||
	    oi.meta_size.attr.index_size > 0)
		return 0;
	return sr_fail(st->err, SIMREC_ENOTSUP,
	               "'%s' in '%s' has %llu attributes in HDF5's compact "
	               "storage (each read scans all of them): more than the "
	               "%d that are read; rewrite it with dense attribute "
	               "storage (h5py: libver='latest')",
	               *key ? key : "/", st->uri.path,
	               (unsigned long long)oi.num_attrs, H5_COMPACT_ATTRS_MAX);
}

static int attr_list(sr_store *st, const char *key, sr_attr_fn fn, void *arg)
{
	hid_t o = open_obj(st, key, 0);
	if (o < 0)
		return SIMREC_ENOKEY;
	int rc = compact_bound(st, key, o);
	if (rc) {
		H5Oclose(o);
		return rc;
	}
	name_cb c = {fn, arg, 0};
	simrec_attr_t dims;
	if (h5_dims_get(st, key, &dims) == 0) { /* listed as zarr lists it */
		simrec_attr_clear(&dims);
		c.rc = fn("_ARRAY_DIMENSIONS", arg);
		if (c.rc) {
			H5Oclose(o);
			return c.rc;
		}
	}
	hsize_t idx = 0;
	herr_t e =
	        H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_iter, &c);
	int err = e < 0 && !c.rc ? h5_errno(st) : 0;
	H5Oclose(o);
	if (e < 0 && !c.rc)
		return h5_damaged(st, *key ? key : "/", "attributes", err);
	return c.rc;
}

/* A key the walk found: listed once the walk is over. */
typedef struct found_key {
	char *key;
	int is_ds;
} found_key;

typedef struct list_cb {
	hid_t file;
	sr_list_fn fn;
	void *arg;
	const char *prefix;
	int rc, bad;
	char badmsg[4200];
	found_key *found;
	size_t n, cap;
} list_cb;

static int add_found(list_cb *c, const char *key, int is_ds)
{
	if (SR_GROW_N(c->found, c->cap, c->n + 1))
		return SIMREC_ENOMEM;
	if (!(c->found[c->n].key = strdup(key)))
		return SIMREC_ENOMEM;
	c->found[c->n++].is_ds = is_ds;
	return 0;
}

/* Depth first, names in byte order at each level (as H5Lvisit lists in
 * increasing name order): '/' sorts before every other byte. */
static int cmp_found(const void *a, const void *b)
{
	const unsigned char *x =
	        (const unsigned char *)((const found_key *)a)->key;
	const unsigned char *y =
	        (const unsigned char *)((const found_key *)b)->key;
	for (; *x && *x == *y; x++, y++)
		;
	int cx = *x == '/' ? 1 : *x, cy = *y == '/' ? 1 : *y;
	return (cx > cy) - (cx < cy);
}

/* The keys found, in order, to the caller's fn (until it stops). */
static int list_found(list_cb *c)
{
	if (c->n)
		qsort(c->found, c->n, sizeof *c->found, cmp_found);
	int rc = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (!rc)
			rc = c->fn(c->found[i].key, c->found[i].is_ds, c->arg);
		free(c->found[i].key);
	}
	free(c->found);
	return rc;
}

/* The first link the walk cannot list, reported after it (the rest is
 * still listed). */
static void bad_link(list_cb *c, const char *key, const char *what,
                     const char *why)
{
	if (c->bad)
		return;
	c->bad = SIMREC_EFORMAT;
	snprintf(c->badmsg, sizeof c->badmsg, "'%s' %s (%s)", key, what, why);
}

static herr_t link_iter(hid_t g, const char *name, const H5L_info_t *info,
                        void *arg)
{
	list_cb *c = arg;
	H5O_info_t oi;
	char key[4096];
	if (!strncmp(name, ".simrec", 7))
		return 0; /* a value being set (H5_NEW): not a key yet */
	snprintf(key, sizeof key, "%s%s%s", c->prefix, *c->prefix ? "/" : "",
	         name);
	/* a link out of the file is never followed (its target may be a
	 * FIFO that blocks the open forever, or another file's data) */
	int out = info->type != H5L_TYPE_HARD &&
	          (info->type != H5L_TYPE_SOFT || h5_exists(c->file, key) < 0);
	if (out)
		bad_link(c, key,
		         info->type == H5L_TYPE_EXTERNAL ? "is an external link"
		         : info->type == H5L_TYPE_SOFT
		                 ? "is a soft link through an external one"
		                 : "is a user-defined link",
		         "links out of the file are never followed");
	else if (H5Oget_info_by_name(g, name, &oi, H5P_DEFAULT) < 0) {
		bad_link(c, key, "is a soft link that cannot be followed",
		         "dangling");
		out = 1;
	}
	/* a dimension's scale (dims.c) is not a key; asked only of a link
	 * inside the file (the question opens the object) */
	if (out || (info->type == H5L_TYPE_HARD && h5_is_dim_only(g, name)))
		return 0;
	c->rc = add_found(c, key, oi.type == H5O_TYPE_DATASET);
	return c->rc ? 1 : 0;
}

static int list(sr_store *st, const char *prefix, sr_list_fn fn, void *arg)
{
	h5_store *h = st->impl;
	int ex = *prefix ? h5_exists(h->file, prefix) : 1;
	if (ex < 0)
		return h5_link_refused(st, prefix);
	if (!ex)
		return 0;
	if (*prefix && h5_is_group(h->file, prefix) <= 0)
		return fn(prefix, 1, arg);
	char p[4096];
	hid_t g = H5Gopen2(h->file,
	                   *prefix ? h5_path_of(prefix, p, sizeof p) : "/",
	                   H5P_DEFAULT);
	if (g < 0)
		return SIMREC_EIO;
	if (*prefix) {
		int rc = fn(prefix, 0, arg);
		if (rc) {
			H5Gclose(g);
			return rc;
		}
	}
	list_cb c = {.file = h->file, .fn = fn, .arg = arg, .prefix = prefix};
	/* in the order the file keeps (H5_ITER_NATIVE), sorted after: an
	 * increasing order makes libhdf5 (1.10) build a table of a dense
	 * group's links, and a link that fails to decode in a damaged heap
	 * makes it free entries it never set (an invalid free, a crash);
	 * the native order walks the name index without that table */
	herr_t e = H5Lvisit(g, H5_INDEX_NAME, H5_ITER_NATIVE, link_iter, &c);
	/* a damaged index (a bad heap) stops the walk: never an empty or
	 * partial listing that looks whole */
	int err = e < 0 && !c.rc ? h5_errno(st) : 0;
	H5Gclose(g);
	int rc = c.rc;
	if (e >= 0 && !rc) {
		rc = list_found(&c); /* the bad link, if any, after the rest */
	} else {
		for (size_t i = 0; i < c.n; i++)
			free(c.found[i].key);
		free(c.found);
	}
	if (e < 0 && !c.rc)
		return h5_damaged(st, *prefix ? prefix : "/", "links", err);
	if (!rc && c.bad)
		return sr_fail(st->err, c.bad, "%.400s in '%s'", c.badmsg,
		               st->uri.path);
	return rc;
}

char *h5_describe(sr_store *st, void *ds, const sr_meta *m)
{
	SR_UNUSED(m);
	h5_ds *d = ds;
	if (h5_ds_begin(st, d))
		return NULL;
	hid_t dcpl = H5Dget_create_plist(d->dset);
	int nf = H5Pget_nfilters(dcpl);
	char filters[256] = "";
	int off = 0;
	for (int i = 0; i < nf && off < (int)sizeof filters - 40; i++) {
		unsigned flags, cd[8];
		size_t ncd = 8;
		char fname[64] = "";
		H5Z_filter_t f = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd,
		                                cd, sizeof fname, fname, NULL);
		off += snprintf(filters + off, sizeof filters - (size_t)off,
		                "%s{\"id\": %d, \"name\": \"%s\"}",
		                i ? ", " : "", (int)f, fname);
	}
	H5Pclose(dcpl);
	char *out = malloc(400);
	if (out)
		snprintf(out, 400,
		         "{\"filters\": [%s], \"stored_bytes\": %llu}", filters,
		         (unsigned long long)H5Dget_storage_size(d->dset));
	h5_ds_end(st, d);
	return out;
}

/* reopen mode: each of these opens the file for the call */
int h5_attr_get(sr_store *st, const char *key, const char *name,
                simrec_attr_t *out)
{
	int rc = h5_file_begin(st);
	/* the dimension names are the scales (as zarr's attribute) */
	if (!rc && !strcmp(name, "_ARRAY_DIMENSIONS"))
		rc = h5_dims_get(st, key, out);
	else if (!rc)
		rc = attr_get(st, key, name, out);
	h5_file_end(st);
	return rc;
}

int h5_attr_list(sr_store *st, const char *key, sr_attr_fn fn, void *arg)
{
	int rc = h5_file_begin(st);
	if (!rc)
		rc = attr_list(st, key, fn, arg);
	h5_file_end(st);
	return rc;
}

int h5_list(sr_store *st, const char *prefix, sr_list_fn fn, void *arg)
{
	int rc = h5_file_begin(st);
	if (!rc)
		rc = list(st, prefix, fn, arg);
	h5_file_end(st);
	return rc;
}

long long h5_disk_bytes(sr_store *st)
{
	struct stat sb;
	return stat(st->uri.path, &sb) ? -1 : (long long)sb.st_blocks * 512;
}
