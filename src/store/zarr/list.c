/* zarr's listing: groups (.zgroup) and datasets (.zarray) below a prefix,
 * and the entries that hold data but are neither: a directory of chunks
 * whose .zarray was lost (deleted, or replaced by a directory), entries
 * below a directory without .zgroup or .zarray. These are listed as
 * datasets, so that every reader names them (their lookup fails with
 * SIMREC_EFORMAT) instead of dropping their data without a word. */
#include <string.h>

#include "zarr.h"

typedef struct list_ctx {
	sr_list_fn fn;
	void *arg;
	const char *prefix;
	sr_strv ds, groups, orphans; /* orphans: directories holding entries */
	int rc;
} list_ctx;

/* dir (n bytes) is inside the last dataset listed: a chunk of it (the
 * usual case: ".zarray" sorts before digits) */
static int in_last_ds(const list_ctx *c, const char *dir, size_t n)
{
	if (!c->ds.n)
		return 0;
	const char *d = c->ds.v[c->ds.n - 1];
	size_t dl = strlen(d);
	return n >= dl && !strncmp(dir, d, dl) && (n == dl || dir[dl] == '/');
}

/* A data entry k whose directory is dir (n bytes): kept as a candidate
 * unless it is a chunk of the dataset just listed or the last candidate */
static int note_entry(list_ctx *c, const char *dir, size_t n)
{
	if (!n || in_last_ds(c, dir, n))
		return 0;
	if (c->orphans.n) {
		const char *o = c->orphans.v[c->orphans.n - 1];
		if (strlen(o) == n && !strncmp(o, dir, n))
			return 0;
	}
	return c->rc = sr_strv_push(&c->orphans, dir, n);
}

static int list_cb(const char *k, void *arg)
{
	list_ctx *c = arg;
	const char *leaf = strrchr(k, '/');
	leaf = leaf ? leaf + 1 : k;
	size_t n = (size_t)(leaf - k);
	int ds = !strcmp(leaf, ".zarray");
	if (!ds && strcmp(leaf, ".zgroup"))
		return *leaf == '.' ? 0 : note_entry(c, k, n ? n - 1 : 0);
	if (n == 0)
		return 0; /* the root group */
	char key[4096];
	snprintf(key, sizeof key, "%.*s", (int)n - 1, k);
	if (sr_strv_push(ds ? &c->ds : &c->groups, key, n - 1))
		return c->rc = SIMREC_ENOMEM;
	size_t pl = strlen(c->prefix);
	if (pl && key[pl] && key[pl] != '/')
		return 0;
	return c->fn(key, ds, c->arg);
}

/* The entry a directory dir without metadata stands for: its topmost
 * directory that is no group (NULL: inside a dataset, or dir is a
 * group, whose stray files are not data of a key). Written to out. */
static const char *orphan_of(const list_ctx *c, const char *dir, char *out,
                             size_t cap)
{
	const char *top = NULL;
	for (const char *p = dir;; p++) {
		if (*p && *p != '/')
			continue;
		snprintf(out, cap, "%.*s", (int)(p - dir), dir);
		if (sr_strv_find(&c->ds, out))
			return NULL;
		/* a directory above the listing's prefix: its groups and
		 * datasets were not listed, and it is not the prefix's key */
		int above = (size_t)(p - dir) < strlen(c->prefix);
		if (!top && !above && !sr_strv_find(&c->groups, out))
			top = p;
		if (!*p)
			break;
	}
	if (!top)
		return NULL;
	snprintf(out, cap, "%.*s", (int)(top - dir), dir);
	return out;
}

/* The orphans, once every group and dataset is known: each top entry
 * listed once, as a dataset, in key order. The tops are collected, sorted
 * and deduplicated first (many directories without metadata cost
 * N log N, not a scan of those already listed for each). */
static int list_orphans(list_ctx *c)
{
	if (!c->orphans.n)
		return 0;
	sr_strv_sort(&c->ds);
	sr_strv_sort(&c->groups);
	sr_strv tops = {0};
	size_t pl = strlen(c->prefix);
	int rc = 0;
	for (size_t i = 0; !rc && i < c->orphans.n; i++) {
		char key[4096];
		const char *o = orphan_of(c, c->orphans.v[i], key, sizeof key);
		if (o && !(pl && o[pl] && o[pl] != '/') &&
		    !strncmp(o, c->prefix, pl))
			rc = sr_strv_add(&tops, o);
	}
	sr_strv_uniq(&tops);
	for (size_t i = 0; !rc && i < tops.n; i++)
		rc = c->fn(tops.v[i], 1, c->arg);
	sr_strv_free(&tops);
	return rc;
}

/* Stops the listing at the first entry: key holds something. */
static int any_entry(const char *k, void *arg)
{
	(void)k;
	*(int *)arg = 1;
	return -1;
}

int zarr_lost_meta(sr_store *st, const char *key)
{
	zarr_store *z = st->impl;
	char *prefix = zarr_cat_key(key, "");
	if (!prefix)
		return SIMREC_ENOMEM;
	int found = 0;
	z->kvo->list(z->kv, prefix, any_entry, &found);
	free(prefix);
	if (!found)
		return SIMREC_ENOKEY;
	/* no key to read or follow yet (a writer's first step writes its
	 * chunks before its .zarray, at the commit; a writer killed then
	 * leaves them, and the next one creates the key again), but the
	 * message says what is there; the listing (ls, verify, export) names
	 * it as unreadable */
	return sr_fail(st->err, SIMREC_ENOKEY,
	               "'%s' in '%s' holds entries (chunks) but no readable "
	               ".zarray or .zgroup: a first step not committed yet, "
	               "or its metadata is lost",
	               key, st->uri.path);
}

int zarr_list(sr_store *st, const char *prefix, sr_list_fn fn, void *arg)
{
	zarr_store *z = st->impl;
	list_ctx c = {.fn = fn, .arg = arg, .prefix = prefix};
	int rc = z->kvo->list(z->kv, prefix, list_cb, &c);
	if (!rc && c.rc)
		rc = c.rc;
	if (rc == SIMREC_ENOMEM)
		sr_fail(st->err, rc, "out of memory listing '%s'",
		        st->uri.path);
	if (!rc)
		rc = list_orphans(&c);
	sr_strv_free(&c.ds);
	sr_strv_free(&c.groups);
	sr_strv_free(&c.orphans);
	return rc;
}
