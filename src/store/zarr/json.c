/* zarr's JSON documents in the key-value layer (.zgroup, .zarray, .zattrs, kept
 * in .zmetadata where one exists), attributes and listing. */
#include <string.h>

#include "../../common/attr_json.h"
#include "zarr.h"

/* ---- helpers ----------------------------------------------------------- */

int zarr_get_attrs(zarr_store *z, const char *key, json_t **out, sr_err *e);
int zarr_put_attrs(zarr_store *z, const char *key, json_t *j, sr_err *e);

char *zarr_cat_key(const char *key, const char *leaf)
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
	if (!rc &&
	    !(rc = z->kvo->get(z->kv, ZMETA_KEY, SR_ZARR_META_MAX, &v, &n)))
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
	char *k = zarr_cat_key(key, leaf);
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

int zarr_put_json(zarr_store *z, const char *key, const char *leaf, json_t *j,
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
	char *k = zarr_cat_key(key, leaf);
	if (!k)
		return SIMREC_ENOMEM;
	const void *v;
	size_t n;
	int rc = z->kvo->get(z->kv, k, SR_ZARR_META_MAX, &v, &n);
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

int zarr_get_json(zarr_store *z, const char *key, const char *leaf,
                  json_t **out, sr_err *e)
{
	return get_json_as(z, key, leaf, 0, out, e);
}

int zarr_has_key(zarr_store *z, const char *key, const char *leaf)
{
	char *k = zarr_cat_key(key, leaf);
	const void *v;
	size_t n;
	/* present even if unreadable (too big, not a regular file): the
	 * read that follows names why */
	int found = k && z->kvo->get(z->kv, k, SR_ZARR_META_MAX, &v, &n) !=
	                         SIMREC_ENOKEY;
	free(k);
	return found;
}

/* Write .zgroup for every group above key (and key itself if group). */
int zarr_ensure_groups(zarr_store *z, const char *key, int include_self,
                       sr_err *e)
{
	char *p = include_self ? strdup(key) : sr_key_parent(key);
	int rc = p ? 0 : SIMREC_ENOMEM;
	while (!rc) {
		if (zarr_has_key(z, p, ".zarray"))
			rc = sr_fail(e, SIMREC_EKIND,
			             "'%s' is a dataset and cannot hold '%s'",
			             p, key);
		else if (!zarr_has_key(z, p, ".zgroup")) {
			json_t *g = json_pack("{s:i}", "zarr_format", 2);
			rc = g ? zarr_put_json(z, p, ".zgroup", g, e)
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

/* ---- attributes -------------------------------------------------------- */

int zarr_get_attrs(zarr_store *z, const char *key, json_t **out, sr_err *e)
{
	return get_json_as(z, key, ".zattrs", 1, out, e);
}

int zarr_put_attrs(zarr_store *z, const char *key, json_t *j, sr_err *e)
{
	return put_json_as(z, key, ".zattrs", 1, j, e);
}

int zarr_attrs_flush(zarr_store *z)
{
	if (!z->pend)
		return 0;
	json_t *j = z->pend;
	char *key = z->pend_key;
	z->pend = NULL;
	z->pend_key = NULL;
	int rc = z->kvo->begin(z->kv);
	if (!rc && (rc = zarr_put_attrs(z, key, j, z->pend_err)))
		z->kvo->abort(z->kv);
	else if (!rc)
		rc = z->kvo->commit(z->kv);
	if (rc)
		sr_wrap(z->pend_err, rc, "writing the attributes of '%s'",
		        *key ? key : "/");
	json_decref(j);
	free(key);
	return rc;
}

int zarr_begin(zarr_store *z)
{
	int rc = zarr_attrs_flush(z);
	return rc ? rc : z->kvo->begin(z->kv);
}

int zarr_read_begin(zarr_store *z)
{
	int rc = zarr_attrs_flush(z);
	return rc ? rc : z->kvo->read_begin(z->kv);
}

/* The attributes of key, read in the current transaction (its groups made
 * first, for a key that is no dataset): an object, or NULL and a status. */
static int load_attrs(sr_store *st, const char *key, json_t **out)
{
	zarr_store *z = st->impl;
	json_t *j = NULL;
	int rc = 0;
	if (!zarr_has_key(z, key, ".zarray"))
		rc = zarr_ensure_groups(z, key, 1, st->err);
	if (!rc && zarr_get_attrs(z, key, &j, st->err) == SIMREC_EFORMAT)
		rc = SIMREC_EFORMAT;
	if (!rc && !json_is_object(j)) {
		json_decref(j);
		if (!(j = json_object()))
			rc = SIMREC_ENOMEM;
	}
	if (rc) {
		json_decref(j);
		j = NULL;
	}
	*out = j;
	return rc;
}

/* Attribute name = a added to j, unless j holds the most a key may. */
static int add_attr(sr_store *st, const char *key, json_t *j, const char *name,
                    const simrec_attr_t *a)
{
	int rc;
	if (!json_object_get(j, name) && json_object_size(j) >= SR_ATTRS_MAX)
		return sr_fail(st->err, SIMREC_ENOTSUP,
		               "'%s' in '%s' holds %d attributes, the most a "
		               "key may hold: attribute '%s' not added",
		               *key ? key : "/", st->uri.path, SR_ATTRS_MAX,
		               name);
	if ((rc = sr_attr_to_json(j, name, a)) == SIMREC_EINVAL)
		sr_fail(st->err, rc, "attribute '%s' of '%s': not valid UTF-8",
		        name, key);
	return rc;
}

/* Held back (z->pend) only where this process alone writes the store: other
 * writers of it (several writer ranks, ?lock= clients) change the same
 * documents, so there each set is a read-modify-write in one transaction. */
static int may_hold(const sr_store *st)
{
	return st->meta_writer && !st->shared && !st->hold_extent;
}

int zarr_attr_set(sr_store *st, const char *key, const char *name,
                  const simrec_attr_t *a)
{
	zarr_store *z = st->impl;
	if (z->listed && !strcmp(z->listed_key, key))
		z->listed = NULL; /* the listing's snapshot is old from now */
	if (z->pend && !strcmp(z->pend_key, key))
		return add_attr(st, key, z->pend, name, a);
	int rc = zarr_begin(z);
	if (rc)
		return rc;
	json_t *j = NULL;
	rc = load_attrs(st, key, &j);
	if (!rc)
		rc = add_attr(st, key, j, name, a);
	if (!rc && may_hold(st)) {
		rc = z->kvo->commit(z->kv); /* the groups */
		if (!rc && !(z->pend_key = strdup(key)))
			rc = SIMREC_ENOMEM;
		if (!rc) {
			z->pend = j;
			z->pend_err = st->err;
			return 0;
		}
		json_decref(j);
		return rc;
	}
	if (!rc)
		rc = zarr_put_attrs(z, key, j, st->err);
	json_decref(j);
	return rc ? (z->kvo->abort(z->kv), rc) : z->kvo->commit(z->kv);
}

static int with_attrs(sr_store *st, const char *key, json_t **j)
{
	zarr_store *z = st->impl;
	int rc = zarr_read_begin(z);
	if (rc)
		return rc;
	rc = zarr_get_attrs(z, key, j, st->err);
	if (rc == SIMREC_ENOKEY && (zarr_has_key(z, key, ".zarray") ||
	                            zarr_has_key(z, key, ".zgroup"))) {
		*j = json_object();
		rc = 0;
	}
	z->kvo->read_end(z->kv);
	json_object_del(*j, VALUE_ATTR);
	json_object_del(*j, RECORD_ATTR);
	return rc;
}

int zarr_attr_get(sr_store *st, const char *key, const char *name,
                  simrec_attr_t *out)
{
	zarr_store *z = st->impl;
	json_t *j = NULL;
	int rc = 0;
	if (z->listed && !strcmp(z->listed_key, key))
		j = json_incref(z->listed); /* the snapshot being listed */
	else
		rc = with_attrs(st, key, &j);
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

int zarr_attr_list(sr_store *st, const char *key, sr_attr_fn fn, void *arg)
{
	zarr_store *z = st->impl;
	json_t *j = NULL;
	int rc = with_attrs(st, key, &j);
	json_t *outer = z->listed; /* a list inside a list's callback */
	const char *outer_key = z->listed_key;
	z->listed = j;
	z->listed_key = key;
	if (!rc)
		rc = sr_attr_json_list(j, fn, arg);
	z->listed = outer;
	z->listed_key = outer_key;
	json_decref(j);
	return rc;
}
