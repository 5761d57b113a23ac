/* Dimension names: the caller's (simrec_dims), or defaults; written as
 * the attribute SR_DIMS_ATTR in every store when a dataset is created. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dims.h"

#define DIM_NAME_MAX 255

/* One key's names, and one name's length within a group. */
typedef struct sr_dimkey {
	char *key;
	int ndim;
	int given; /* by the caller (not a default) */
	char *names[SIMREC_MAX_NDIM];
	struct sr_dimkey *next;
} sr_dimkey;

typedef struct sr_dimlen {
	char *group, *name, *key; /* key: the first that used it */
	size_t len;
	int unlimited;
	struct sr_dimlen *next;
} sr_dimlen;

struct sr_dimtab {
	sr_dimkey *keys;
	sr_dimlen *lens;
};

static int name_valid(const char *n)
{
	return n && strlen(n) <= DIM_NAME_MAX && !strchr(n, '/') &&
	       sr_key_valid(n);
}

static sr_dimkey *find_key(simrec_t *rec, const char *key)
{
	for (sr_dimkey *k = rec->dims ? rec->dims->keys : NULL; k; k = k->next)
		if (!strcmp(k->key, key))
			return k;
	return NULL;
}

static void free_key(sr_dimkey *k)
{
	for (int i = 0; i < k->ndim; i++)
		free(k->names[i]);
	free(k->key);
	free(k);
}

/* Store names for key (replacing earlier ones). */
static int put_key(simrec_t *rec, const char *key, int ndim,
                   const char *const *names, int given)
{
	if (!rec->dims && !(rec->dims = calloc(1, sizeof *rec->dims)))
		return sr_fail(&rec->err, SIMREC_ENOMEM, "out of memory");
	sr_dimkey *k = calloc(1, sizeof *k);
	int ok = k && (k->key = strdup(key));
	for (int i = 0; ok && i < ndim; i++, k->ndim = i)
		ok = (k->names[i] = strdup(names[i])) != NULL;
	if (!ok) {
		if (k)
			free_key(k);
		return sr_fail(&rec->err, SIMREC_ENOMEM, "out of memory");
	}
	k->given = given;
	for (sr_dimkey **p = &rec->dims->keys; *p; p = &(*p)->next) {
		if (!strcmp((*p)->key, key)) {
			sr_dimkey *old = *p;
			*p = old->next;
			free_key(old);
			break;
		}
	}
	k->next = rec->dims->keys;
	rec->dims->keys = k;
	return 0;
}

int sr_dims_put(simrec_t *rec, const char *key, int ndim,
                const char *const *names)
{
	if (!*key || ndim < 1 || ndim > SIMREC_MAX_NDIM || !names)
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': dimension names need a dataset key "
		               "and 1 to %d names",
		               key, SIMREC_MAX_NDIM);
	for (int i = 0; i < ndim; i++)
		if (!name_valid(names[i]))
			return sr_fail(
			        &rec->err, SIMREC_EINVAL,
			        "key '%s': dimension %d has no valid name "
			        "(a key part of at most %d bytes)",
			        key, i, DIM_NAME_MAX);
	return put_key(rec, key, ndim, names, 1);
}

int sr_dims_default(simrec_t *rec, const char *key, int ndim, const char *first)
{
	sr_dimkey *k = find_key(rec, key);
	if ((k && k->given) || ndim < 1 || ndim > SIMREC_MAX_NDIM)
		return 0;
	const char *leaf = strrchr(key, '/');
	leaf = leaf ? leaf + 1 : key;
	char buf[SIMREC_MAX_NDIM][DIM_NAME_MAX + 32];
	const char *names[SIMREC_MAX_NDIM];
	for (int i = 0; i < ndim; i++) {
		snprintf(buf[i], sizeof buf[i], "%s_dim_%d", leaf, i);
		names[i] = buf[i];
	}
	names[0] = first;
	return put_key(rec, key, ndim, names, 0);
}

/* The default names of a new dataset of m's rank. */
static void default_names(const char *key, const sr_meta *m, sr_dims_role role,
                          char buf[][DIM_NAME_MAX + 32])
{
	const char *leaf = strrchr(key, '/');
	leaf = leaf ? leaf + 1 : key;
	for (int i = 0; i < m->ndim; i++)
		snprintf(buf[i], DIM_NAME_MAX + 32, "%s_dim_%d", leaf, i);
	/* the record axis is the key's own: keys of one group recorded at
	 * other cadences (or cut apart by a crash) hold other lengths, and
	 * one shared name would make xarray refuse the group (zarr) or pad
	 * the shorter keys with made-up values (netCDF) */
	if (role != SR_DIMS_VALUE && m->ndim > 0)
		snprintf(buf[0], DIM_NAME_MAX + 32, "%s_step", leaf);
	if (role == SR_DIMS_RANKS && m->ndim > 1)
		snprintf(buf[1], DIM_NAME_MAX + 32, "rank");
}

/* Does name's length in key's group agree with what this recorder gave
 * it before? Remembers it otherwise. */
static int check_len(simrec_t *rec, const char *key, const char *name,
                     size_t len, int unlimited)
{
	char *group = sr_key_parent(key);
	if (!group)
		return sr_fail(&rec->err, SIMREC_ENOMEM, "out of memory");
	for (sr_dimlen *l = rec->dims->lens; l; l = l->next) {
		if (strcmp(l->group, group) || strcmp(l->name, name))
			continue;
		free(group);
		if (!strcmp(l->key, key)) { /* a set replaced the dataset */
			l->len = len;
			l->unlimited = unlimited;
			return 0;
		}
		if (l->unlimited && unlimited)
			return 0;
		if (l->unlimited != unlimited || l->len != len)
			return sr_fail(
			        &rec->err, SIMREC_ESHAPE,
			        "key '%s': dimension '%s' is %s%zu long "
			        "here but %s%zu in '%s' of the same group "
			        "(name one of them otherwise)",
			        key, name, unlimited ? "the steps, " : "", len,
			        l->unlimited ? "the steps, " : "", l->len,
			        l->key);
		return 0;
	}
	sr_dimlen *l = calloc(1, sizeof *l);
	if (!l || !(l->name = strdup(name)) || !(l->key = strdup(key))) {
		if (l)
			free(l->name);
		free(l);
		free(group);
		return sr_fail(&rec->err, SIMREC_ENOMEM, "out of memory");
	}
	l->group = group;
	l->len = len;
	l->unlimited = unlimited;
	l->next = rec->dims->lens;
	rec->dims->lens = l;
	return 0;
}

/* The names of key's new dataset into names (pointing into k or buf). */
static int names_of(simrec_t *rec, const char *key, const sr_meta *m,
                    sr_dims_role role, char buf[][DIM_NAME_MAX + 32],
                    const char **names)
{
	sr_dimkey *k = find_key(rec, key);
	if (k && k->ndim != m->ndim)
		return sr_fail(&rec->err, SIMREC_ESHAPE,
		               "key '%s': %d dimension names for a dataset of "
		               "%d dimensions",
		               key, k->ndim, m->ndim);
	default_names(key, m, role, buf);
	for (int i = 0; i < m->ndim; i++)
		names[i] = k ? k->names[i] : buf[i];
	for (int i = 0; i < m->ndim; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(names[i], names[j]))
				return sr_fail(&rec->err, SIMREC_EINVAL,
				               "key '%s': dimension name '%s' "
				               "given twice",
				               key, names[i]);
	return 0;
}

int sr_dims_apply(simrec_t *rec, const char *key, const sr_meta *m,
                  sr_dims_role role)
{
	if (m->ndim < 1 || sr_dtype_is_vlen(m->dtype))
		return 0;
	if (!rec->dims && !(rec->dims = calloc(1, sizeof *rec->dims)))
		return sr_fail(&rec->err, SIMREC_ENOMEM, "out of memory");
	char buf[SIMREC_MAX_NDIM][DIM_NAME_MAX + 32];
	const char *names[SIMREC_MAX_NDIM];
	int rc = names_of(rec, key, m, role, buf, names);
	size_t len = 0;
	for (int i = 0; i < m->ndim && !rc; i++) {
		int unlimited = i == 0 && role != SR_DIMS_VALUE;
		rc = check_len(rec, key, names[i], m->shape[i], unlimited);
		len += strlen(names[i]) + 1;
	}
	char *s = rc ? NULL : malloc(len), *p = s;
	if (!rc && !s)
		rc = sr_fail(&rec->err, SIMREC_ENOMEM, "out of memory");
	for (int i = 0; s && i < m->ndim; i++) {
		size_t n = strlen(names[i]) + 1;
		memcpy(p, names[i], n);
		p += n;
	}
	simrec_attr_t a = {
	        .type = SIMREC_ATTR_STRINGS, .s = s, .count = (size_t)m->ndim};
	for (int i = 0; i < rec->nst && !rc; i++) {
		sr_store *st = rec->st[i];
		rc = st->ops->attr_set(st, key, SR_DIMS_ATTR, &a);
		if (rc && rc != SIMREC_ENOMEM)
			sr_wrap(&rec->err, rc,
			        "cannot name the dimensions of '%s' in '%s'",
			        key, sr_store_name(st));
	}
	free(s);
	return rc;
}

void sr_dims_free(simrec_t *rec)
{
	if (!rec->dims)
		return;
	while (rec->dims->keys) {
		sr_dimkey *k = rec->dims->keys;
		rec->dims->keys = k->next;
		free_key(k);
	}
	while (rec->dims->lens) {
		sr_dimlen *l = rec->dims->lens;
		rec->dims->lens = l->next;
		free(l->group);
		free(l->name);
		free(l->key);
		free(l);
	}
	free(rec->dims);
	rec->dims = NULL;
}
