/* The write entry points of the public API (record, record_bytes, set,
 * attributes): argument checks, then either applied on this process's
 * stores or, on a rank of a collective recorder that may not touch them
 * now, handed to the collective layer as an sr_call. */
#include <stdlib.h>
#include <string.h>

#include "../common/attr_json.h"
#include "../common/utf8.h"
#include "dims.h"
#include "recorder.h"

/* the largest byte string or text one record takes */
#define SR_MAX_ITEM_BYTES ((size_t)1 << 31)

int sr_check_writable(simrec_t *rec, const char *key)
{
	if (!rec)
		return SIMREC_EINVAL;
	rec->err.msg[0] = 0;
	if (!sr_key_valid(key))
		return sr_fail(
		        &rec->err, SIMREC_EINVAL,
		        "invalid key '%s' (expected '/'-separated names, "
		        "no empty, '.' or '..' parts, no control "
		        "characters)",
		        key ? key : "(null)");
	for (int i = 0; i < rec->nst; i++)
		if (rec->st[i]->mode == SIMREC_MODE_READONLY)
			return sr_fail(&rec->err, SIMREC_EREADONLY,
			               "cannot write key '%s': store '%s' is "
			               "open read-only",
			               key, rec->st[i]->uri.name);
	return 0;
}

int sr_check_array(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
                   const size_t *shape, const void *data)
{
	if ((int)dt < 0 || dt >= SIMREC_NDTYPES || sr_dtype_is_vlen(dt))
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': invalid dtype %d (use "
		               "simrec_record_bytes for bytes/strings)",
		               key, (int)dt);
	if (ndim < 0 || ndim >= SIMREC_MAX_NDIM || (ndim && !shape) || !data)
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': ndim must be 0..%d with a shape, and "
		               "data non-NULL",
		               key, SIMREC_MAX_NDIM - 1);
	size_t bytes = simrec_dtype_size(dt);
	for (int i = 0; i < ndim; i++) {
		if (shape[i] == 0)
			return sr_fail(&rec->err, SIMREC_EINVAL,
			               "key '%s': dimension %d has extent 0",
			               key, i);
		if (sr_size_mul(bytes, shape[i], &bytes))
			return sr_fail(&rec->err, SIMREC_EINVAL,
			               "key '%s': the array's size overflows",
			               key);
	}
	return 0;
}

int sr_record_local(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
                    const size_t *shape, const void *data)
{
	sr_dset *d;
	int rc = sr_dset_get(rec, key, dt, ndim, shape, 0, NULL, &d);
	if (!rc)
		rc = sr_dset_append(rec, d, data);
	if (!rc)
		rec->bytes_in += d->row_bytes;
	return rc;
}

static int bytes_local(simrec_t *rec, const sr_call *c)
{
	sr_dset *d;
	int rc = sr_dset_get(rec, c->key, c->dtype, 0, NULL, c->len, NULL, &d);
	sr_blob b = {(void *)c->data, c->len};
	if (!rc)
		rc = sr_dset_append(rec, d, &b);
	if (!rc)
		rec->bytes_in += c->len;
	return rc;
}

/* A set text or bytes value: one item of no dimension */
static int set_vlen_local(simrec_t *rec, const sr_call *c, sr_meta *m)
{
	sr_blob b = {(void *)c->data, c->len};
	int rc = 0;
	/* one item of no dimension: the stores see an extent and a chunk of 1
	 */
	m->shape[0] = m->chunks[0] = 1;
	for (int i = 0; i < rec->nst && !rc; i++) {
		sr_store *st = rec->st[i];
		void *h = NULL;
		rc = st->ops->create(st, c->key, m, &h);
		if (!rc)
			rc = st->ops->write_vlen(st, h, m, 0, 1, &b);
		if (h)
			st->ops->release(st, h);
		if (rc && rc != SIMREC_ENOMEM)
			sr_wrap(&rec->err, rc, "cannot set '%s' in '%s'",
			        c->key, sr_store_name(st));
	}
	if (!rc)
		rc = sr_dims_apply(rec, c->key, m, SR_DIMS_VALUE);
	if (!rc)
		rec->bytes_in += c->len;
	return rc;
}

static int set_local(simrec_t *rec, const sr_call *c)
{
	sr_dset_remove(rec, c->key); /* a recorded dataset is replaced whole */
	sr_meta m = {.dtype = c->dtype, .ndim = c->ndim, .kind = SR_VALUE};
	if (c->ndim)
		memcpy(m.shape, c->shape, (size_t)c->ndim * sizeof *c->shape);
	size_t isz = simrec_dtype_size(c->dtype);
	if (sr_dtype_is_vlen(c->dtype))
		return set_vlen_local(rec, c, &m);
	if (c->ndim > 0) {
		sr_chunk_shape(c->ndim - 1, c->shape + 1, isz,
		               rec->st[0]->chunk_bytes, m.chunks);
		if (m.chunks[0] > c->shape[0])
			m.chunks[0] = c->shape[0];
	}
	size_t start[SIMREC_MAX_NDIM] = {0};
	int rc = 0;
	for (int i = 0; i < rec->nst && !rc; i++) {
		sr_store *st = rec->st[i];
		void *h = NULL;
		rc = st->ops->create(st, c->key, &m, &h);
		if (!rc)
			rc = st->ops->write(st, h, &m, start, m.shape, c->data);
		if (h)
			st->ops->release(st, h);
		if (rc && rc != SIMREC_ENOMEM)
			sr_wrap(&rec->err, rc, "cannot set '%s' in '%s'",
			        c->key, sr_store_name(st));
	}
	if (!rc)
		rc = sr_dims_apply(rec, c->key, &m, SR_DIMS_VALUE);
	if (!rc)
		rec->bytes_in += sr_meta_elems(&m) * isz;
	return rc;
}

static int attr_local(simrec_t *rec, const sr_call *c)
{
	int rc = 0;
	for (int i = 0; i < rec->nst && !rc; i++) {
		sr_store *st = rec->st[i];
		rc = st->ops->attr_set(st, c->key, c->name, &c->attr);
		if (rc && rc != SIMREC_ENOMEM)
			sr_wrap(&rec->err, rc, "attribute '%s' of '%s' in '%s'",
			        c->name, *c->key ? c->key : "/",
			        sr_store_name(st));
	}
	return rc;
}

/* Names that came with queued calls: the writer names the key alike. */
static int dims_local(simrec_t *rec, const sr_call *c)
{
	const char *names[SIMREC_MAX_NDIM];
	const char *p = c->attr.s;
	if (c->attr.type != SIMREC_ATTR_STRINGS || !p || c->attr.count < 1 ||
	    c->attr.count > SIMREC_MAX_NDIM)
		return sr_fail(&rec->err, SIMREC_EFORMAT,
		               "key '%s': corrupt queued dimension names",
		               c->key);
	for (size_t i = 0; i < c->attr.count; i++, p += strlen(p) + 1)
		names[i] = p;
	return sr_dims_put(rec, c->key, (int)c->attr.count, names);
}

int sr_call_apply(simrec_t *rec, const sr_call *c)
{
	switch (c->op) {
	case SR_OP_RECORD:
		return sr_record_local(rec, c->key, c->dtype, c->ndim, c->shape,
		                       c->data);
	case SR_OP_BYTES:
		return bytes_local(rec, c);
	case SR_OP_SET:
		return set_local(rec, c);
	case SR_OP_ATTR:
		return attr_local(rec, c);
	case SR_OP_DIMS:
		return dims_local(rec, c);
	}
	return sr_fail(&rec->err, SIMREC_EINVAL, "unknown deferred call %d",
	               (int)c->op);
}

/* Apply c here, or queue it for the writers of a collective recorder. */
static int dispatch(simrec_t *rec, const sr_call *c)
{
	if (!rec->coll)
		sr_term_serial();
	if (rec->coll && !rec->coll->local_ok(rec))
		return rec->coll->defer(rec, c);
	double t0 = sr_clock();
	/* a record only fills a buffer: ask whether the writer is fenced
	 * (sets and attributes write, and are fenced there) */
	int rc = c->op == SR_OP_RECORD || c->op == SR_OP_BYTES
	                 ? sr_rec_fenced(rec)
	                 : 0;
	if (!rc)
		rc = sr_call_apply(rec, c);
	rec->t_in += sr_clock() - t0;
	return rc;
}

static int array_call(simrec_t *rec, sr_op op, const char *key,
                      simrec_dtype_t dt, int ndim, const size_t *shape,
                      const void *data)
{
	int rc = sr_check_writable(rec, key);
	if (!rc)
		rc = sr_check_array(rec, key, dt, ndim, shape, data);
	if (rc)
		return rc;
	sr_call c = {
	        .op = op, .key = key, .dtype = dt, .ndim = ndim, .data = data};
	c.len = simrec_dtype_size(dt);
	for (int i = 0; i < ndim; i++) {
		c.shape[i] = shape[i];
		c.len *= shape[i]; /* checked by sr_check_array */
	}
	return dispatch(rec, &c);
}

int simrec_record(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
                  const size_t *shape, const void *data)
{
	return array_call(rec, SR_OP_RECORD, key, dt, ndim, shape, data);
}

int simrec_set(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
               const size_t *shape, const void *data)
{
	return array_call(rec, SR_OP_SET, key, dt, ndim, shape, data);
}

int simrec_define(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
                  const size_t *shape)
{
	int rc = sr_check_writable(rec, key);
	if (rc)
		return rc;
	if ((int)dt >= 0 && dt < SIMREC_NDTYPES && sr_dtype_is_vlen(dt)) {
		if (ndim)
			return sr_fail(
			        &rec->err, SIMREC_EINVAL,
			        "key '%s': byte-string records have ndim "
			        "0",
			        key);
	} else if ((rc = sr_check_array(rec, key, dt, ndim, shape, key))) {
		return rc; /* (no data: key stands for it) */
	}
	if (rec->coll)
		return sr_fail(&rec->err, SIMREC_ENOTSUP,
		               "key '%s': simrec_define works on a serial "
		               "recorder only",
		               key);
	sr_dset *d;
	return sr_dset_get(rec, key, dt, ndim, shape, 0, NULL, &d);
}

/* The checks of one byte string or text item given by the caller */
static int check_item(simrec_t *rec, const char *key, simrec_dtype_t dt,
                      const void *data, size_t len, const char *fn)
{
	int rc = sr_check_writable(rec, key);
	if (rc)
		return rc;
	if (!sr_dtype_is_vlen(dt) || (!data && len))
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': %s takes SIMREC_BYTES or "
		               "SIMREC_STRING and non-NULL data",
		               key, fn);
	if (len > SR_MAX_ITEM_BYTES)
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': an item of %zu bytes (at most %zu)",
		               key, len, (size_t)SR_MAX_ITEM_BYTES);
	size_t bad = dt == SIMREC_STRING ? sr_utf8_bad(data, len) : len;
	if (bad < len)
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': a SIMREC_STRING item is not valid "
		               "UTF-8 (byte %zu); give it as SIMREC_BYTES",
		               key, bad);
	return 0;
}

/* One byte string or text item, recorded (SR_OP_BYTES) or set */
static int item_call(simrec_t *rec, sr_op op, const char *key,
                     simrec_dtype_t dt, const void *data, size_t len,
                     const char *fn)
{
	int rc = check_item(rec, key, dt, data, len, fn);
	if (rc)
		return rc;
	sr_call c = {.op = op,
	             .key = key,
	             .dtype = dt,
	             .data = data ? data : "",
	             .len = len};
	return dispatch(rec, &c);
}

int simrec_record_bytes(simrec_t *rec, const char *key, simrec_dtype_t dt,
                        const void *data, size_t len)
{
	return item_call(rec, SR_OP_BYTES, key, dt, data, len,
	                 "simrec_record_bytes");
}

int simrec_set_bytes(simrec_t *rec, const char *key, simrec_dtype_t dt,
                     const void *data, size_t len)
{
	return item_call(rec, SR_OP_SET, key, dt, data, len,
	                 "simrec_set_bytes");
}

static int attr_set(simrec_t *rec, const char *key, const char *name,
                    const simrec_attr_t *a)
{
	key = sr_key_root(key);
	if (!rec)
		return SIMREC_EINVAL;
	int rc = sr_check_writable(rec, *key ? key : "root");
	if (rc)
		return rc;
	if (!name || !*name || !strncmp(name, "_simrec", 7))
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': invalid attribute name '%s'", key,
		               name ? name : "(null)");
	/* every store alike: zarr's JSON cannot hold other bytes, so HDF5
	 * and redis refuse them too */
	size_t nl = strlen(name), bad = sr_utf8_bad(name, nl);
	if (bad == nl && a->type == SIMREC_ATTR_STRING) {
		size_t vl = strlen(a->s), vb = sr_utf8_bad(a->s, vl);
		if (vb != vl)
			return sr_fail(&rec->err, SIMREC_EINVAL,
			               "key '%s': the value of attribute '%s' "
			               "is not valid UTF-8 (byte %zu)",
			               key, name, vb);
	}
	if (bad != nl)
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': attribute name '%s' is not valid "
		               "UTF-8 (byte %zu)",
		               key, name, bad);
	sr_call c = {.op = SR_OP_ATTR, .key = key, .name = name, .attr = *a};
	if (a->type == SIMREC_ATTR_STRING) {
		c.data = a->s;
		c.len = strlen(a->s) + 1;
	} else if (a->type == SIMREC_ATTR_STRINGS) {
		c.data = a->s;
		c.len = sr_attr_strings_len(a->s, a->count);
	} else if (a->type == SIMREC_ATTR_ARRAY) {
		c.data = a->data;
		c.len = a->count * simrec_dtype_size(a->dtype); /* checked */
	}
	return dispatch(rec, &c);
}

int simrec_attr_set_double(simrec_t *rec, const char *key, const char *name,
                           double value)
{
	simrec_attr_t a = {.type = SIMREC_ATTR_DOUBLE, .d = value};
	return attr_set(rec, key, name, &a);
}

int simrec_attr_set_int(simrec_t *rec, const char *key, const char *name,
                        int64_t value)
{
	simrec_attr_t a = {.type = SIMREC_ATTR_INT, .i = value};
	return attr_set(rec, key, name, &a);
}

int simrec_attr_set_uint(simrec_t *rec, const char *key, const char *name,
                         uint64_t value)
{
	simrec_attr_t a = {.type = SIMREC_ATTR_UINT, .u = value};
	return attr_set(rec, key, name, &a);
}

int simrec_attr_set_bool(simrec_t *rec, const char *key, const char *name,
                         int value)
{
	simrec_attr_t a = {.type = SIMREC_ATTR_BOOL, .i = value != 0};
	return attr_set(rec, key, name, &a);
}

int simrec_attr_set_array(simrec_t *rec, const char *key, const char *name,
                          simrec_dtype_t dt, size_t count, const void *data)
{
	simrec_attr_t a = {.type = SIMREC_ATTR_ARRAY,
	                   .dtype = dt,
	                   .count = count,
	                   .data = (void *)data};
	return simrec_attr_set(rec, key, name, &a);
}

int simrec_attr_set(simrec_t *rec, const char *key, const char *name,
                    const simrec_attr_t *a)
{
	if (!rec || !a)
		return SIMREC_EINVAL;
	int rc = sr_attr_check(a, &rec->err);
	return rc ? rc : attr_set(rec, key, name, a);
}

int simrec_attr_set_string(simrec_t *rec, const char *key, const char *name,
                           const char *value)
{
	if (!value)
		return SIMREC_EINVAL;
	simrec_attr_t a = {.type = SIMREC_ATTR_STRING, .s = (char *)value};
	return attr_set(rec, key, name, &a);
}

/* The n strings at v one after another, each with its NUL (a STRINGS
 * attribute's layout); its length into *len if len. NULL: no memory. */
static char *join_strings(const char *const *v, size_t n, size_t *len)
{
	size_t total = 0;
	for (size_t k = 0; k < n; k++)
		total += strlen(v[k]) + 1;
	char *s = malloc(total ? total : 1), *p = s;
	for (size_t k = 0; s && k < n; k++) {
		size_t m = strlen(v[k]) + 1;
		memcpy(p, v[k], m);
		p += m;
	}
	if (len)
		*len = total;
	return s;
}

int simrec_attr_set_strings(simrec_t *rec, const char *key, const char *name,
                            size_t count, const char *const *values)
{
	if (!rec || !values || !count || count > SR_ATTR_STRINGS_MAX)
		return rec ? sr_fail(&rec->err, SIMREC_EINVAL,
		                     "attribute '%s': a list of 1 to %d "
		                     "strings",
		                     name ? name : "(null)",
		                     SR_ATTR_STRINGS_MAX)
		           : SIMREC_EINVAL;
	for (size_t k = 0; k < count; k++)
		if (!values[k])
			return sr_fail(&rec->err, SIMREC_EINVAL,
			               "attribute '%s': string %zu is NULL",
			               name ? name : "(null)", k);
	char *s = join_strings(values, count, NULL);
	if (!s)
		return sr_fail(&rec->err, SIMREC_ENOMEM, "out of memory");
	simrec_attr_t a = {.type = SIMREC_ATTR_STRINGS, .s = s, .count = count};
	int rc = attr_set(rec, key, name, &a);
	free(s);
	return rc;
}

int simrec_dims(simrec_t *rec, const char *key, int ndim,
                const char *const *names)
{
	if (!rec)
		return SIMREC_EINVAL;
	key = sr_key_root(key);
	int rc = sr_check_writable(rec, *key ? key : "root");
	if (!rc)
		rc = sr_dims_put(rec, key, ndim, names);
	/* this rank's independent calls are applied by the writers: the
	 * names go with them, ahead of them in the queue (a collective
	 * call's names are given on every rank and kept above) */
	if (rc || !rec->coll || rec->coll->local_ok(rec))
		return rc;
	size_t len;
	char *s = join_strings(names, (size_t)ndim, &len);
	if (!s)
		return sr_fail(&rec->err, SIMREC_ENOMEM, "out of memory");
	sr_call c = {.op = SR_OP_DIMS,
	             .key = key,
	             .data = s,
	             .len = len,
	             .attr = {.type = SIMREC_ATTR_STRINGS,
	                      .s = s,
	                      .count = (size_t)ndim}};
	rc = rec->coll->defer(rec, &c);
	free(s);
	return rc;
}
