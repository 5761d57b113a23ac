/* template: the skeleton of a datastore, to copy to
 * src/store/NAME/NAME.c (see "Adding a datastore" in src/README.md). It is
 * documentation, not part of the library: the test build compiles it
 * against src/store/store.h (the store_template object), so it follows the
 * table, but it stores nothing and is in no registry. Every function
 * returns 0 or a SIMREC_E* code with a message through
 * sr_fail(st->err, ...) naming the key and st->uri.path. */
#include "store.h" /* in src/store/NAME/NAME.c: "../store.h" */

/* open st->uri.path in st->mode; put the store's state in st->impl.
 * SIMREC_MODE_CREATE may replace only a store this file recognises. */
static int tpl_open(sr_store *st)
{
	/* the URI's parameters, parsed and checked: a parameter of the store's
	 * own is a line of SR_URI_PARAMS (settings.h) whose STORES include
	 * the store's bit, read here as st->set.NAME when st->set.has_NAME */
	size_t chunk = st->set.has_chunk_bytes ? st->set.chunk_bytes : 0;
	SR_UNUSED(chunk);
	return sr_fail(st->err, SIMREC_ENOTSUP,
	               "'%s': the template store stores nothing", st->uri.path);
}

static int tpl_close(sr_store *st)
{
	SR_UNUSED(st);
	return 0;
}

/* durable and visible to readers (fsync what was written since) */
static int tpl_commit(sr_store *st)
{
	SR_UNUSED(st);
	return 0;
}

static int tpl_lookup(sr_store *st, const char *key, sr_meta *m, void **ds)
{
	SR_UNUSED(m);
	SR_UNUSED(ds);
	return sr_fail(st->err, SIMREC_ENOKEY, "no key '%s' in '%s'", key,
	               st->uri.path);
}

static int tpl_create(sr_store *st, const char *key, const sr_meta *m,
                      void **ds)
{
	SR_UNUSED(m);
	SR_UNUSED(ds);
	return sr_fail(st->err, SIMREC_ENOTSUP, "cannot create '%s'", key);
}

static int tpl_write(sr_store *st, void *ds, const sr_meta *m,
                     const size_t *start, const size_t *count, const void *data)
{
	SR_UNUSED(st), SR_UNUSED(ds), SR_UNUSED(m), SR_UNUSED(start);
	SR_UNUSED(count), SR_UNUSED(data);
	return SIMREC_ENOTSUP;
}

static int tpl_write_vlen(sr_store *st, void *ds, const sr_meta *m, size_t row0,
                          size_t n, const sr_blob *items)
{
	SR_UNUSED(st), SR_UNUSED(ds), SR_UNUSED(m), SR_UNUSED(row0);
	SR_UNUSED(n), SR_UNUSED(items);
	return SIMREC_ENOTSUP;
}

static int tpl_read(sr_store *st, void *ds, const sr_meta *m,
                    const size_t *start, const size_t *count, void *buf)
{
	SR_UNUSED(st), SR_UNUSED(ds), SR_UNUSED(m), SR_UNUSED(start);
	SR_UNUSED(count), SR_UNUSED(buf);
	return SIMREC_ENOTSUP;
}

static int tpl_read_vlen(sr_store *st, void *ds, const sr_meta *m, size_t index,
                         sr_blob *out)
{
	SR_UNUSED(st), SR_UNUSED(ds), SR_UNUSED(m), SR_UNUSED(index);
	SR_UNUSED(out);
	return SIMREC_ENOTSUP;
}

static void tpl_release(sr_store *st, void *ds)
{
	SR_UNUSED(st), SR_UNUSED(ds);
}

static int tpl_attr_set(sr_store *st, const char *key, const char *name,
                        const simrec_attr_t *a)
{
	SR_UNUSED(st), SR_UNUSED(key), SR_UNUSED(name), SR_UNUSED(a);
	return SIMREC_ENOTSUP;
}

static int tpl_attr_get(sr_store *st, const char *key, const char *name,
                        simrec_attr_t *out)
{
	SR_UNUSED(st), SR_UNUSED(key), SR_UNUSED(name), SR_UNUSED(out);
	return SIMREC_ENOKEY;
}

static int tpl_attr_list(sr_store *st, const char *key, sr_attr_fn fn,
                         void *arg)
{
	SR_UNUSED(st), SR_UNUSED(key), SR_UNUSED(fn), SR_UNUSED(arg);
	return 0;
}

static int tpl_list(sr_store *st, const char *prefix, sr_list_fn fn, void *arg)
{
	SR_UNUSED(st), SR_UNUSED(prefix), SR_UNUSED(fn), SR_UNUSED(arg);
	return 0;
}

static long long tpl_disk_bytes(sr_store *st)
{
	SR_UNUSED(st);
	return -1;
}

/* not in the registry: a copy is added there (src/store/registry.c)
 * with one line */
const sr_store_ops sr_template_ops;
const sr_store_ops sr_template_ops = {
        .version = SR_STORE_OPS_VERSION,
        .scheme = "template",
        .flags = 0,
        .default_codec = "none",
        .default_chunk_bytes = 1u << 20,
        .param_bit = 0, /* a new SR_IN_* bit of settings.h */
        .open = tpl_open,
        .close = tpl_close,
        .commit = tpl_commit,
        .lookup = tpl_lookup,
        .create = tpl_create,
        .write = tpl_write,
        .write_vlen = tpl_write_vlen,
        .read = tpl_read,
        .read_vlen = tpl_read_vlen,
        .release = tpl_release,
        .attr_set = tpl_attr_set,
        .attr_get = tpl_attr_get,
        .attr_list = tpl_attr_list,
        .list = tpl_list,
        .disk_bytes = tpl_disk_bytes,
};
