/* hdf5's dimension names: dimension scales laid out as netCDF-4 writes
 * them, so that netCDF-C, h5netcdf and xarray name every axis. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5store.h"

#include <hdf5_hl.h>

/* netCDF-4's NAME of a dimension that is not a variable (its length
 * follows, in 10 columns). */
#define NC_DIM_ONLY "This is a netCDF dimension but not a netCDF variable."

int h5_is_dim_only(hid_t loc, const char *name)
{
	int yes = 0;
	if (H5Aexists_by_name(loc, name, "NAME", H5P_DEFAULT) <= 0)
		return 0;
	hid_t at = H5Aopen_by_name(loc, name, "NAME", H5P_DEFAULT, H5P_DEFAULT);
	hid_t t = at >= 0 ? H5Aget_type(at) : H5I_INVALID_HID;
	char buf[128] = "";
	if (t >= 0 && H5Tget_class(t) == H5T_STRING &&
	    H5Tis_variable_str(t) <= 0 && H5Tget_size(t) < sizeof buf) {
		hid_t mt = H5Tcopy(t);
		if (H5Aread(at, mt, buf) >= 0)
			yes = !strncmp(buf, NC_DIM_ONLY, strlen(NC_DIM_ONLY));
		H5Tclose(mt);
	}
	if (t >= 0)
		H5Tclose(t);
	if (at >= 0)
		H5Aclose(at);
	return yes;
}

int h5_is_scale_attr(hid_t o, const char *name)
{
	if (!strcmp(name, "DIMENSION_LIST") || !strcmp(name, "REFERENCE_LIST"))
		return 1;
	if (strcmp(name, "CLASS") && strcmp(name, "NAME"))
		return 0;
	H5I_type_t t = H5Iget_type(o);
	return t == H5I_DATASET && H5DSis_scale(o) > 0;
}

/* A new dimension-only scale `path` of length len (unlimited: growing
 * with its datasets, 0 long itself, as netCDF-4 keeps it). */
static hid_t make_scale(hid_t file, const char *path, hsize_t len,
                        int unlimited)
{
	hsize_t cur = unlimited ? 0 : len,
	        max = unlimited ? H5S_UNLIMITED : len;
	hsize_t chunk = 1024;
	hid_t sp = H5Screate_simple(1, &cur, &max);
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	if (unlimited)
		H5Pset_chunk(dcpl, 1, &chunk);
	H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_LATE);
	H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
	hid_t d = H5Dcreate2(file, path, H5T_IEEE_F32BE, sp, H5P_DEFAULT, dcpl,
	                     H5P_DEFAULT);
	H5Pclose(dcpl);
	H5Sclose(sp);
	char name[128];
	snprintf(name, sizeof name, "%s%10d", NC_DIM_ONLY,
	         unlimited ? 0 : (int)len);
	if (d >= 0 && H5DSset_scale(d, name) < 0) {
		H5Dclose(d);
		return H5I_INVALID_HID;
	}
	return d;
}

/* The scales a dataset is attached to (their paths), to detach them. */
typedef struct scale_names {
	int n;
	char path[64][512];
} scale_names;

static herr_t note_scale(hid_t ds, unsigned dim, hid_t sc, void *arg)
{
	SR_UNUSED(ds);
	SR_UNUSED(dim);
	scale_names *sn = arg;
	if (sn->n < 64 &&
	    H5Iget_name(sc, sn->path[sn->n], sizeof sn->path[0]) > 0)
		sn->n++;
	return 0;
}

/* Detach ds from every scale; a dimension-only scale left unused goes. */
static void detach_all(hid_t file, hid_t ds)
{
	hid_t sp = H5Dget_space(ds);
	int nd = H5Sget_simple_extent_ndims(sp);
	H5Sclose(sp);
	for (int i = 0; i < nd; i++) {
		scale_names *sn = calloc(1, sizeof *sn);
		if (!sn)
			return;
		H5DSiterate_scales(ds, (unsigned)i, NULL, note_scale, sn);
		for (int k = 0; k < sn->n; k++) {
			hid_t sc = H5Dopen2(file, sn->path[k], H5P_DEFAULT);
			if (sc < 0)
				continue;
			H5DSdetach_scale(ds, sc, (unsigned)i);
			int gone = H5Aexists(sc, "REFERENCE_LIST") <= 0 &&
			           h5_is_dim_only(file, sn->path[k]);
			H5Dclose(sc);
			if (gone)
				H5Ldelete(file, sn->path[k], H5P_DEFAULT);
		}
		free(sn);
	}
}

void h5_dims_detach(hid_t file, const char *path)
{
	hid_t ds = H5Oopen(file, path, H5P_DEFAULT);
	if (ds < 0)
		return;
	if (H5Iget_type(ds) == H5I_DATASET &&
	    H5Aexists(ds, "DIMENSION_LIST") > 0)
		detach_all(file, ds);
	H5Oclose(ds);
}

/* An unused dimension-only scale (no dataset attached) may be made
 * again with another length. */
static int unused_dim(hid_t sc)
{
	return H5Aexists(sc, "REFERENCE_LIST") <= 0;
}

/* Does the existing scale sc fit axis (len, unlimited)? */
static int scale_fits(hid_t sc, hsize_t len, int unlimited)
{
	hid_t sp = H5Dget_space(sc);
	hsize_t cur = 0, max = 0;
	int ok = H5Sget_simple_extent_ndims(sp) == 1 &&
	         H5Sget_simple_extent_dims(sp, &cur, &max) == 1;
	H5Sclose(sp);
	int unl = max == H5S_UNLIMITED;
	return ok && unl == unlimited && (unlimited || cur == len);
}

/* Attach axis i of ds to the scale `name` of group `parent`. */
static int attach(sr_store *st, hid_t ds, const char *key, const char *parent,
                  const char *name, int i, hsize_t len, int unlimited)
{
	h5_store *h = st->impl;
	char path[8192];
	if (snprintf(path, sizeof path, "%s/%s", parent, name) >=
	            (int)sizeof path ||
	    !*name || strchr(name, '/'))
		return sr_fail(st->err, SIMREC_EINVAL,
		               "key '%s': dimension name '%.300s' is not a "
		               "name of its group",
		               key, name);
	hid_t sc;
	if (h5_exists(h->file, path + (*path == '/')) < 0)
		return sr_fail(st->err, SIMREC_EFORMAT,
		               "key '%s': dimension '%s' in '%s' is a link out "
		               "of the file (never followed)",
		               key, name, st->uri.path);
	if (H5Lexists(h->file, path, H5P_DEFAULT) > 0) {
		sc = H5Dopen2(h->file, path, H5P_DEFAULT);
		if (sc < 0 || H5DSis_scale(sc) <= 0) {
			if (sc >= 0)
				H5Dclose(sc);
			return sr_fail(
			        st->err, SIMREC_EINVAL,
			        "key '%s': dimension '%s' is the name of "
			        "another dataset of its group in '%s'",
			        key, name, st->uri.path);
		}
		if (!scale_fits(sc, len, unlimited) && unused_dim(sc) &&
		    h5_is_dim_only(h->file, path)) {
			H5Dclose(sc);
			H5Ldelete(h->file, path, H5P_DEFAULT);
			sc = make_scale(h->file, path, len, unlimited);
			if (sc < 0)
				return h5_fail(st, "cannot make a dimension "
				                   "scale");
		} else if (!scale_fits(sc, len, unlimited)) {
			H5Dclose(sc);
			return sr_fail(st->err, SIMREC_ESHAPE,
			               "key '%s': dimension '%s' (%s%llu) has "
			               "another length in '%s'",
			               key, name,
			               unlimited ? "the steps, " : "",
			               (unsigned long long)len, st->uri.path);
		}
	} else {
		sc = make_scale(h->file, path, len, unlimited);
		if (sc < 0)
			return h5_fail(st, "cannot make a dimension scale");
	}
	int rc = 0;
	if (H5DSis_attached(ds, sc, (unsigned)i) <= 0 &&
	    H5DSattach_scale(ds, sc, (unsigned)i) < 0)
		rc = h5_fail(st, "cannot attach a dimension scale");
	H5Dclose(sc);
	return rc;
}

static int take_over(sr_store *st, const char *key, hid_t sc);

/* Name every axis of ds (rank n) from the strings at s. */
static int name_axes(sr_store *st, hid_t ds, const char *key, int n,
                     const char *s)
{
	hsize_t cur[H5S_MAX_RANK], max[H5S_MAX_RANK];
	hid_t sp = H5Dget_space(ds);
	int nd = H5Sget_simple_extent_dims(sp, cur, max);
	H5Sclose(sp);
	if (nd != n)
		return sr_fail(st->err, SIMREC_ESHAPE,
		               "key '%s': %d dimension names for a dataset of "
		               "%d dimensions in '%s'",
		               key, n, nd, st->uri.path);
	char parent[4096];
	const char *leaf = strrchr(key, '/');
	snprintf(parent, sizeof parent, "/%.*s", leaf ? (int)(leaf - key) : 0,
	         key);
	leaf = leaf ? leaf + 1 : key;
	int rc = 0;
	for (int i = 0; i < n && !rc; i++, s += strlen(s) + 1) {
		if (n == 1 && !strcmp(s, leaf)) { /* a coordinate */
			if (H5DSis_scale(ds) <= 0 && H5DSset_scale(ds, s) < 0)
				rc = h5_fail(st, "cannot make a coordinate");
			if (!rc)
				rc = take_over(st, key, ds);
			continue;
		}
		rc = attach(st, ds, key, strcmp(parent, "/") ? parent : "", s,
		            i, cur[i], max[i] == H5S_UNLIMITED);
	}
	return rc;
}

int h5_dims_set(sr_store *st, const char *key, const simrec_attr_t *a)
{
	h5_store *h = st->impl;
	char p[4096];
	hid_t ds = H5Dopen2(h->file, h5_path_of(key, p, sizeof p), H5P_DEFAULT);
	if (ds < 0)
		return sr_fail(st->err, SIMREC_EKIND,
		               "key '%s' in '%s': dimension names need a "
		               "dataset",
		               key, st->uri.path);
	if (H5Aexists(ds, "DIMENSION_LIST") > 0) /* named again */
		detach_all(h->file, ds);
	int rc = name_axes(st, ds, key, (int)a->count, a->s);
	H5Dclose(ds);
	return rc;
}

typedef struct h5_takeover {
	char *key;  /* the coordinate's key */
	char *path; /* a dataset that used the dimension */
	unsigned dim;
	struct h5_takeover *next;
} h5_takeover;

/* An element of REFERENCE_LIST, as H5DS writes it. */
typedef struct ref_elem {
	hobj_ref_t ref;
	int dim;
} ref_elem;

static int remember(h5_store *h, const char *key, hid_t ds, unsigned dim)
{
	char path[4096];
	ssize_t n = H5Iget_name(ds, path, sizeof path);
	h5_takeover *t = calloc(1, sizeof *t);
	if (!t || n <= 0 || (size_t)n >= sizeof path ||
	    !(t->key = strdup(key)) || !(t->path = strdup(path))) {
		if (t)
			free(t->key);
		free(t);
		return -1;
	}
	t->dim = dim;
	t->next = h->takeover;
	h->takeover = t;
	return 0;
}

/* Detach every dataset attached to the scale sc, remembering it. */
static int detach_users(sr_store *st, const char *key, hid_t sc)
{
	h5_store *h = st->impl;
	hid_t at = H5Aopen(sc, "REFERENCE_LIST", H5P_DEFAULT);
	if (at < 0)
		return 0; /* nobody attached */
	hid_t sp = H5Aget_space(at);
	hssize_t n = H5Sget_simple_extent_npoints(sp);
	H5Sclose(sp);
	hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(ref_elem));
	H5Tinsert(mt, "dataset", HOFFSET(ref_elem, ref), H5T_STD_REF_OBJ);
	H5Tinsert(mt, "dimension", HOFFSET(ref_elem, dim), H5T_NATIVE_INT);
	ref_elem *v = n > 0 && n < 65536 ? calloc((size_t)n, sizeof *v) : NULL;
	int rc = v && H5Aread(at, mt, v) >= 0 ? 0 : -1;
	H5Tclose(mt);
	H5Aclose(at);
	for (hssize_t i = 0; !rc && i < n; i++) {
		hid_t ds =
		        H5Rdereference2(sc, H5P_DEFAULT, H5R_OBJECT, &v[i].ref);
		if (ds < 0)
			continue; /* a dataset deleted since */
		rc = remember(h, key, ds, (unsigned)v[i].dim);
		H5DSdetach_scale(ds, sc, (unsigned)v[i].dim);
		H5Dclose(ds);
	}
	free(v);
	return rc ? sr_fail(st->err, SIMREC_EIO,
	                    "key '%s' in '%s': cannot detach the datasets "
	                    "of its dimension",
	                    key, st->uri.path)
	          : 0;
}

static int is_dim_only_key(h5_store *h, const char *key, char *p, size_t cap)
{
	return *key && h5_exists(h->file, key) > 0 &&
	       h5_is_dim_only(h->file, h5_path_of(key, p, cap));
}

int h5_dims_lookup(sr_store *st, const char *key)
{
	char p[4096];
	if (!is_dim_only_key(st->impl, key, p, sizeof p))
		return 0;
	return sr_fail(st->err, SIMREC_ENOKEY,
	               "key '%s' in '%s' is a dimension, not a dataset", key,
	               st->uri.path);
}

int h5_dims_before_create(sr_store *st, const char *key)
{
	h5_store *h = st->impl;
	char p[4096];
	if (!is_dim_only_key(h, key, p, sizeof p))
		return 0;
	hid_t sc = H5Dopen2(h->file, p, H5P_DEFAULT);
	int rc = sc < 0 ? h5_fail(st, "cannot open a dimension scale") : 0;
	if (!rc)
		rc = detach_users(st, key, sc);
	if (sc >= 0)
		H5Dclose(sc);
	if (!rc && H5Ldelete(h->file, p, H5P_DEFAULT) < 0)
		rc = h5_fail(st, "cannot replace a dimension scale");
	return rc;
}

/* The coordinate ds of key was made: attach what its dimension had. */
static int take_over(sr_store *st, const char *key, hid_t sc)
{
	h5_store *h = st->impl;
	int rc = 0;
	for (h5_takeover **pp = &h->takeover; *pp;) {
		h5_takeover *t = *pp;
		if (strcmp(t->key, key)) {
			pp = &t->next;
			continue;
		}
		hid_t ds = H5Dopen2(h->file, t->path, H5P_DEFAULT);
		if (ds >= 0 && H5DSattach_scale(ds, sc, t->dim) < 0 && !rc)
			rc = h5_fail(st, "cannot attach a coordinate");
		if (ds >= 0)
			H5Dclose(ds);
		*pp = t->next;
		free(t->key);
		free(t->path);
		free(t);
	}
	return rc;
}

void h5_dims_free(h5_store *h)
{
	while (h->takeover) {
		h5_takeover *t = h->takeover;
		h->takeover = t->next;
		free(t->key);
		free(t->path);
		free(t);
	}
}

/* The name of the scale attached to one axis (its link's last part). */
typedef struct axis_name {
	char name[512];
	int found;
} axis_name;

static herr_t note_name(hid_t ds, unsigned dim, hid_t sc, void *arg)
{
	SR_UNUSED(ds);
	SR_UNUSED(dim);
	axis_name *an = arg;
	char path[4096];
	ssize_t n = H5Iget_name(sc, path, sizeof path);
	if (n <= 0 || (size_t)n >= sizeof path)
		return 0;
	const char *leaf = strrchr(path, '/');
	leaf = leaf ? leaf + 1 : path;
	if (!*leaf || strlen(leaf) >= sizeof an->name)
		return 0;
	strcpy(an->name, leaf);
	an->found = 1;
	return 1; /* the first scale of the axis names it */
}

/* The names of ds's n axes, one after another (each with its NUL), into
 * buf; its length, or 0 if an axis has no scale. */
static size_t axis_names(hid_t ds, const char *leaf, int n, char *buf,
                         size_t cap)
{
	size_t len = 0;
	for (int i = 0; i < n; i++) {
		axis_name an = {.found = 0};
		if (n == 1 && H5DSis_scale(ds) > 0) { /* a coordinate */
			snprintf(an.name, sizeof an.name, "%s", leaf);
			an.found = 1;
		} else {
			H5DSiterate_scales(ds, (unsigned)i, NULL, note_name,
			                   &an);
		}
		size_t k = strlen(an.name) + 1;
		if (!an.found || len + k > cap)
			return 0;
		memcpy(buf + len, an.name, k);
		len += k;
	}
	return len;
}

int h5_dims_get(sr_store *st, const char *key, simrec_attr_t *out)
{
	h5_store *h = st->impl;
	char p[4096];
	memset(out, 0, sizeof *out);
	if (!*key || h5_exists(h->file, key) <= 0)
		return SIMREC_ENOKEY;
	hid_t ds = H5Oopen(h->file, h5_path_of(key, p, sizeof p), H5P_DEFAULT);
	if (ds < 0)
		return SIMREC_ENOKEY;
	int rc = SIMREC_ENOKEY;
	if (H5Iget_type(ds) == H5I_DATASET && !h5_is_dim_only(h->file, p) &&
	    (H5Aexists(ds, "DIMENSION_LIST") > 0 || H5DSis_scale(ds) > 0)) {
		hid_t sp = H5Dget_space(ds);
		int nd = H5Sget_simple_extent_ndims(sp);
		H5Sclose(sp);
		const char *leaf = strrchr(key, '/');
		char *buf = nd > 0 ? malloc((size_t)nd * 512) : NULL;
		size_t len = buf ? axis_names(ds, leaf ? leaf + 1 : key, nd,
		                              buf, (size_t)nd * 512)
		                 : 0;
		if (len) {
			out->type = SIMREC_ATTR_STRINGS;
			out->s = buf;
			out->count = (size_t)nd;
			rc = 0;
		} else {
			free(buf);
		}
	}
	H5Oclose(ds);
	return rc;
}
