/* zarr's listing: groups (.zgroup) and datasets (.zarray) below a prefix,
 * and the entries that hold data but are neither: a directory of chunks
 * whose .zarray was lost (deleted, or replaced by a directory), entries
 * below a directory without .zgroup or .zarray. These are listed as
 * datasets, so that every reader names them (their lookup fails with
 * SIMREC_EFORMAT) instead of dropping their data without a word. */
#include <string.h>

#include "zarr.h"

typedef struct strs {
	char **v;
	size_t n, cap;
} strs;

typedef struct list_ctx {
	sr_list_fn fn;
	void *arg;
	const char *prefix;
	strs ds, groups, orphans; /* orphans: directories holding entries */
	int rc;
} list_ctx;

static int push(strs *l, const char *s, size_t n)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **nv = realloc(l->v, cap * sizeof *nv);
		if (!nv)
			return SIMREC_ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strndup(s, n)))
		return SIMREC_ENOMEM;
	l->n++;
	return 0;
}

static void strs_free(strs *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has(const strs *l, const char *s)
{
	return l->n && bsearch(&s, l->v, l->n, sizeof *l->v, cmp_str);
}

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
	return c->rc = push(&c->orphans, dir, n);
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
	if (push(ds ? &c->ds : &c->groups, key, n - 1))
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
		if (has(&c->ds, out))
			return NULL;
		/* a directory above the listing's prefix: its groups and
		 * datasets were not listed, and it is not the prefix's key */
		int above = (size_t)(p - dir) < strlen(c->prefix);
		if (!top && !above && !has(&c->groups, out))
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
 * listed once, as a dataset. */
static int list_orphans(list_ctx *c)
{
	if (!c->orphans.n)
		return 0;
	if (c->ds.n)
		qsort(c->ds.v, c->ds.n, sizeof *c->ds.v, cmp_str);
	if (c->groups.n)
		qsort(c->groups.v, c->groups.n, sizeof *c->groups.v, cmp_str);
	strs done = {0};
	size_t pl = strlen(c->prefix);
	int rc = 0;
	for (size_t i = 0; !rc && i < c->orphans.n; i++) {
		char key[4096];
		const char *o = orphan_of(c, c->orphans.v[i], key, sizeof key);
		if (!o || (pl && o[pl] && o[pl] != '/') ||
		    strncmp(o, c->prefix, pl))
			continue;
		int seen = 0;
		for (size_t j = 0; j < done.n && !seen; j++)
			seen = !strcmp(done.v[j], o);
		if (!seen && !(rc = push(&done, o, strlen(o))))
			rc = c->fn(o, 1, c->arg);
	}
	strs_free(&done);
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
	strs_free(&c.ds);
	strs_free(&c.groups);
	strs_free(&c.orphans);
	return rc;
}
