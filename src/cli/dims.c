/* The dimensions of a store's datasets, for `verify`: arrays of one group
 * that name one dimension must agree on its length (xarray refuses the
 * group otherwise, "conflicting sizes"; netCDF pads the shorter with
 * made-up values), also after --repair cut some of them. */
#include <stdlib.h>
#include <string.h>

#include "../common/common.h"
#include "cli.h"

/* One axis of one dataset that carries a dimension name. */
typedef struct dim_use {
	char *group, *name, *key; /* group: "" at the root */
	int axis, record;         /* record: axis 0 of records (cuttable) */
	size_t len;               /* after the cuts already planned */
} dim_use;

static void dims_push(sr_cli_dims *d, const char *key, const char *name,
                      int axis, int record, size_t len)
{
	if (SR_GROW_N(d->v, d->cap, d->n + 1))
		return; /* out of memory: this axis is not compared */
	const char *slash = strrchr(key, '/');
	size_t glen = slash ? (size_t)(slash - key) : 0;
	dim_use u = {strndup(key, glen),
	             strdup(name),
	             strdup(key),
	             axis,
	             record,
	             len};
	if (!u.group || !u.name || !u.key) {
		free(u.group);
		free(u.name);
		free(u.key);
		return;
	}
	d->v[d->n++] = u;
}

void sr_cli_dims_note(sr_cli_dims *d, simrec_t *rec, const char *key,
                      simrec_dataset_t *ds, int record, size_t keep)
{
	simrec_attr_t a;
	memset(&a, 0, sizeof a);
	if (simrec_attr_get(rec, key, "_ARRAY_DIMENSIONS", &a))
		return; /* no names: no dimension shared by name */
	size_t sh[SIMREC_MAX_NDIM];
	int nd = simrec_dataset_ndim(ds);
	simrec_dataset_shape(ds, sh);
	if (a.type == SIMREC_ATTR_STRINGS && a.s && a.count == (size_t)nd) {
		const char *p = a.s;
		for (int i = 0; i < nd; i++, p += strlen(p) + 1)
			dims_push(d, key, p, i, record && i == 0,
			          i == 0 && record ? keep : sh[i]);
	}
	simrec_attr_clear(&a);
}

static int use_cmp(const void *pa, const void *pb)
{
	const dim_use *a = pa, *b = pb;
	int c = strcmp(a->group, b->group);
	return c ? c : strcmp(a->name, b->name);
}

/* The uses v[0..n) of one dimension: a line per array longer than the
 * shortest, which cut() (if given) cuts to it. 1 if they disagree. */
static int dims_one(dim_use *v, size_t n, sr_cli_dims_cut cut, void *arg)
{
	size_t lo = 0;
	int fixed = 0; /* a use that is not a records' axis */
	for (size_t i = 1; i < n; i++)
		lo = v[i].len < v[lo].len ? i : lo;
	for (size_t i = 0; i < n; i++)
		fixed |= !v[i].record;
	int differ = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].len == v[lo].len)
			continue;
		differ = 1;
		printf("DIMS  %s: dimension '%s' (axis %d) is %zu long, ",
		       sr_cli_name(v[i].key), sr_cli_name(v[i].name), v[i].axis,
		       v[i].len);
		printf("'%s' %s %zu: arrays of a group that share a dimension "
		       "must agree (xarray refuses the group)\n",
		       sr_cli_name(v[lo].key), v[lo].record ? "keeps" : "holds",
		       v[lo].len);
		/* a name also given to a fixed axis: records are never cut
		 * to match it (the names clash; nothing says which is
		 * right) */
		if (fixed)
			printf("      %s: --repair cannot make it agree (the "
			       "dimension names a fixed axis too)\n",
			       sr_cli_name(v[i].key));
		else {
			printf("      %s: --repair cuts it to %zu step(s) with "
			       "'%s'\n",
			       sr_cli_name(v[i].key), v[lo].len,
			       sr_cli_name(v[lo].key));
			if (cut)
				cut(v[i].key, v[lo].len, arg);
		}
	}
	return differ;
}

int sr_cli_dims_agree(sr_cli_dims *d, sr_cli_dims_cut cut, void *arg)
{
	if (d->n)
		qsort(d->v, d->n, sizeof *d->v, use_cmp);
	int differ = 0;
	for (size_t i = 0, j; i < d->n; i = j) {
		for (j = i + 1; j < d->n && !use_cmp(&d->v[i], &d->v[j]); j++)
			;
		differ |= dims_one(d->v + i, j - i, cut, arg);
	}
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].group);
		free(d->v[i].name);
		free(d->v[i].key);
	}
	free(d->v);
	memset(d, 0, sizeof *d);
	return differ;
}
