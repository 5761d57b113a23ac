/* memory: datasets in process memory, gone at close. For tests, for
 * reading back within one job, and as the template of a datastore. */
#include <stdlib.h>
#include <string.h>

#include "../common/attr_json.h"
#include "store.h"

typedef struct mem_node {
	char *key; /* "" is the root group */
	int is_dataset;
	sr_meta m;
	unsigned char *data; /* numeric: prod(shape) elements */
	size_t cap;          /* bytes allocated in data */
	sr_blob *items;      /* vlen: shape[0] items */
	size_t icap;
	json_t *attrs;
} mem_node;

typedef struct mem_store {
	mem_node **nodes;
	size_t n, cap;
} mem_store;

static mem_node *find(mem_store *ms, const char *key)
{
	for (size_t i = 0; i < ms->n; i++)
		if (!strcmp(ms->nodes[i]->key, key))
			return ms->nodes[i];
	return NULL;
}

static void node_clear_data(mem_node *nd)
{
	for (size_t i = 0; nd->items && i < nd->m.shape[0]; i++)
		free(nd->items[i].data);
	free(nd->items);
	free(nd->data);
	nd->items = NULL;
	nd->data = NULL;
	nd->cap = nd->icap = 0;
}

static mem_node *add(mem_store *ms, const char *key, sr_err *e, int *rc)
{
	mem_node *nd = find(ms, key);
	if (nd)
		return nd;
	if (SR_GROW_N(ms->nodes, ms->cap, ms->n + 1))
		goto nomem;
	nd = calloc(1, sizeof *nd);
	if (!nd || !(nd->key = strdup(key)) || !(nd->attrs = json_object())) {
		if (nd)
			free(nd->key);
		free(nd);
		goto nomem;
	}
	ms->nodes[ms->n++] = nd;
	return nd;
nomem:
	*rc = sr_fail(e, SIMREC_ENOMEM, "memory store: out of memory for '%s'",
	              key);
	return NULL;
}

/* Make the groups above key exist. */
static int add_parents(mem_store *ms, const char *key, sr_err *e)
{
	int rc = 0;
	char *p = sr_key_parent(key);
	if (!p)
		return SIMREC_ENOMEM;
	while (!rc) {
		mem_node *nd = add(ms, p, e, &rc);
		if (nd && nd->is_dataset)
			rc = sr_fail(e, SIMREC_EKIND,
			             "'%s' is a dataset, cannot hold '%s'", p,
			             key);
		if (!*p)
			break;
		char *q = sr_key_parent(p);
		free(p);
		if (!(p = q))
			return SIMREC_ENOMEM;
	}
	free(p);
	return rc;
}

static int mem_open(sr_store *st)
{
	mem_store *ms = calloc(1, sizeof *ms);
	if (!ms)
		return SIMREC_ENOMEM;
	st->impl = ms;
	int rc = 0;
	add(ms, "", st->err, &rc);
	return rc;
}

static int mem_close(sr_store *st)
{
	mem_store *ms = st->impl;
	for (size_t i = 0; i < ms->n; i++) {
		node_clear_data(ms->nodes[i]);
		json_decref(ms->nodes[i]->attrs);
		free(ms->nodes[i]->key);
		free(ms->nodes[i]);
	}
	free(ms->nodes);
	free(ms);
	return 0;
}

static int mem_commit(sr_store *st)
{
	SR_UNUSED(st);
	return 0;
}

static int mem_lookup(sr_store *st, const char *key, sr_meta *m, void **ds)
{
	mem_node *nd = find(st->impl, key);
	if (!nd)
		return SIMREC_ENOKEY;
	if (!nd->is_dataset)
		return SIMREC_EKIND;
	*m = nd->m;
	*ds = nd;
	return 0;
}

static int mem_create(sr_store *st, const char *key, const sr_meta *m,
                      void **ds)
{
	mem_store *ms = st->impl;
	mem_node *nd = find(ms, key);
	if (nd && !nd->is_dataset)
		return sr_fail(st->err, SIMREC_EKIND,
		               "memory store: '%s' is a group", key);
	int rc = add_parents(ms, key, st->err);
	if (rc)
		return rc;
	if (!nd && !(nd = add(ms, key, st->err, &rc)))
		return rc;
	node_clear_data(nd);
	nd->is_dataset = 1;
	nd->m = *m;
	*ds = nd;
	return 0;
}

static int mem_write(sr_store *st, void *ds, const sr_meta *m,
                     const size_t *start, const size_t *count, const void *data)
{
	mem_node *nd = ds;
	size_t isz = simrec_dtype_size(m->dtype);
	size_t old = sr_meta_elems(&nd->m) * isz, now = sr_meta_elems(m) * isz;
	if (sr_grow((void **)&nd->data, &nd->cap, now > 0 ? now : 1))
		return sr_fail(
		        st->err, SIMREC_ENOMEM,
		        "memory store: out of memory growing '%s' to %zu "
		        "bytes",
		        nd->key, now);
	if (now > old)
		memset(nd->data + old, 0, now - old);
	nd->m.shape[0] = m->shape[0];
	sr_copy_slab(m->ndim, m->shape, start, count, isz, nd->data,
	             (void *)data, 1);
	return 0;
}

static int mem_write_vlen(sr_store *st, void *ds, const sr_meta *m, size_t row0,
                          size_t n, const sr_blob *items)
{
	mem_node *nd = ds;
	size_t need = m->shape[0] * sizeof(sr_blob);
	size_t oldcap = nd->icap;
	if (sr_grow((void **)&nd->items, &nd->icap, need))
		return sr_fail(st->err, SIMREC_ENOMEM,
		               "memory store: out of "
		               "memory");
	memset((char *)nd->items + oldcap, 0, nd->icap - oldcap);
	for (size_t i = 0; i < n; i++) {
		sr_blob *b = &nd->items[row0 + i];
		free(b->data);
		b->data = malloc(items[i].len ? items[i].len : 1);
		if (!b->data)
			return SIMREC_ENOMEM;
		memcpy(b->data, items[i].data, items[i].len);
		b->len = items[i].len;
	}
	nd->m.shape[0] = m->shape[0];
	return 0;
}

static int mem_read(sr_store *st, void *ds, const sr_meta *m,
                    const size_t *start, const size_t *count, void *buf)
{
	SR_UNUSED(st);
	mem_node *nd = ds;
	sr_copy_slab(m->ndim, nd->m.shape, start, count,
	             simrec_dtype_size(m->dtype), nd->data, buf, 0);
	return 0;
}

static int mem_read_vlen(sr_store *st, void *ds, const sr_meta *m, size_t index,
                         sr_blob *out)
{
	SR_UNUSED(m);
	mem_node *nd = ds;
	if (index >= nd->m.shape[0])
		return sr_fail(st->err, SIMREC_ERANGE, "index out of range");
	sr_blob *b = &nd->items[index];
	out->data = malloc(b->len + 1);
	if (!out->data)
		return SIMREC_ENOMEM;
	memcpy(out->data, b->data, b->len);
	((char *)out->data)[b->len] = 0;
	out->len = b->len;
	return 0;
}

static void mem_release(sr_store *st, void *ds)
{
	SR_UNUSED(st);
	SR_UNUSED(ds);
}

static int mem_attr_set(sr_store *st, const char *key, const char *name,
                        const simrec_attr_t *a)
{
	mem_store *ms = st->impl;
	int rc = 0;
	mem_node *nd = find(ms, key);
	if (!nd) {
		if ((rc = add_parents(ms, key, st->err)))
			return rc;
		if (!(nd = add(ms, key, st->err, &rc)))
			return rc;
	}
	return sr_attr_to_json(nd->attrs, name, a);
}

static int mem_attr_get(sr_store *st, const char *key, const char *name,
                        simrec_attr_t *out)
{
	mem_node *nd = find(st->impl, key);
	return nd ? sr_attr_from_json(nd->attrs, name, out) : SIMREC_ENOKEY;
}

static int mem_attr_list(sr_store *st, const char *key, sr_attr_fn fn,
                         void *arg)
{
	mem_node *nd = find(st->impl, key);
	return nd ? sr_attr_json_list(nd->attrs, fn, arg) : SIMREC_ENOKEY;
}

static int cmp_node(const void *a, const void *b)
{
	return strcmp((*(mem_node *const *)a)->key,
	              (*(mem_node *const *)b)->key);
}

static int mem_list(sr_store *st, const char *prefix, sr_list_fn fn, void *arg)
{
	mem_store *ms = st->impl;
	qsort(ms->nodes, ms->n, sizeof *ms->nodes, cmp_node);
	size_t pl = strlen(prefix);
	for (size_t i = 0; i < ms->n; i++) {
		mem_node *nd = ms->nodes[i];
		if (!nd->key[0] || strncmp(nd->key, prefix, pl) ||
		    (pl && nd->key[pl] && nd->key[pl] != '/'))
			continue;
		int rc = fn(nd->key, nd->is_dataset, arg);
		if (rc)
			return rc;
	}
	return 0;
}

static long long mem_disk_bytes(sr_store *st)
{
	SR_UNUSED(st);
	return 0;
}

const sr_store_ops sr_memory_ops = {
        .version = SR_STORE_OPS_VERSION,
        .scheme = "memory",
        .flags = SR_STORE_NO_PATH | SR_STORE_PRIVATE,
        .param_bit = SR_IN_MEMORY,
        .default_codec = "none",
        .default_chunk_bytes = 1u << 20,
        .open = mem_open,
        .close = mem_close,
        .commit = mem_commit,
        .lookup = mem_lookup,
        .create = mem_create,
        .write = mem_write,
        .write_vlen = mem_write_vlen,
        .read = mem_read,
        .read_vlen = mem_read_vlen,
        .release = mem_release,
        .attr_set = mem_attr_set,
        .attr_get = mem_attr_get,
        .attr_list = mem_attr_list,
        .list = mem_list,
        .disk_bytes = mem_disk_bytes,
};
