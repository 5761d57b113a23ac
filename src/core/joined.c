/* Joined arrays: plan, write and read of a step (see joined.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dims.h"
#include "joined.h"

int sr_joined_count_key(simrec_t *rec, const char *key, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s%s", key ? key : "", SR_JOINED_SUFFIX);
	if (!key || n < 0 || (size_t)n >= cap || !sr_key_valid(out))
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': no valid count key '%s%s'",
		               key ? key : "(null)", key ? key : "",
		               SR_JOINED_SUFFIX);
	return 0;
}

int sr_joined_check_args(simrec_t *rec, const char *key, simrec_dtype_t dt,
                         int ndim, const size_t *shape, const void *data,
                         size_t *bytes)
{
	*bytes = 0;
	int rc = sr_check_writable(rec, key);
	if (rc)
		return rc;
	if ((int)dt < 0 || dt >= SIMREC_NDTYPES || sr_dtype_is_vlen(dt))
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': a joined array takes a numeric "
		               "dtype, not %d",
		               key, (int)dt);
	if (ndim < 1 || ndim > SIMREC_MAX_NDIM - 2 || !shape)
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': a joined array has 1..%d dimensions "
		               "(rows first) and a shape",
		               key, SIMREC_MAX_NDIM - 2);
	for (int i = 1; i < ndim; i++)
		if (!shape[i])
			return sr_fail(&rec->err, SIMREC_EINVAL,
			               "key '%s': dimension %d has extent 0",
			               key, i);
	size_t b;
	if (sr_size_prod(ndim, shape, simrec_dtype_size(dt), &b) ||
	    b > (size_t)INT32_MAX)
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': a rank's rows may hold at most 2 GiB",
		               key);
	if (b && !data)
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': data is NULL for %zu rows", key,
		               shape[0]);
	*bytes = b;
	return 0;
}

/* Rows the count dataset accounts for: the sum of its values. */
static int counted_rows(simrec_t *rec, sr_dset *count, size_t *sum)
{
	size_t n = count->m.shape[0];
	*sum = 0;
	if (!n)
		return 0;
	int64_t *c = malloc(n * sizeof *c);
	if (!c)
		return sr_fail(&rec->err, SIMREC_ENOMEM, "out of memory");
	sr_store *st = rec->st[0];
	size_t start[SIMREC_MAX_NDIM] = {0}, cnt[SIMREC_MAX_NDIM] = {n};
	int rc = st->ops->read(st, count->h[0], &count->m, start, cnt, c);
	for (size_t i = 0; !rc && i < n; i++)
		if (c[i] < 0 || sr_size_add(*sum, (size_t)c[i], sum))
			rc = sr_fail(&rec->err, SIMREC_EFORMAT,
			             "key '%s': count %zu is %lld", count->key,
			             i, (long long)c[i]);
	free(c);
	return rc;
}

/* An existing rows dataset holds at least the counted rows; more (a step
 * whose count was not stored) are cut away. */
static int cut_uncounted(simrec_t *rec, const char *key, size_t sum,
                         int count_is_new)
{
	sr_store *st = rec->st[0];
	sr_meta m;
	void *h = NULL;
	int rc = st->ops->lookup(st, key, &m, &h);
	if (h)
		st->ops->release(st, h);
	if (rc == SIMREC_ENOKEY)
		return 0;
	if (rc || m.kind != SR_RECORDS || m.ndim < 1)
		return rc ? rc
		          : sr_fail(&rec->err, SIMREC_EKIND,
		                    "key '%s' in '%s' is not a joined array's "
		                    "rows",
		                    key, sr_store_name(st));
	if (m.shape[0] > sum && count_is_new)
		return sr_fail(&rec->err, SIMREC_EKIND,
		               "key '%s' in '%s' holds rows but no counts "
		               "(%s%s): not a joined array",
		               key, sr_store_name(st), key, SR_JOINED_SUFFIX);
	if (m.shape[0] < sum)
		return sr_fail(&rec->err, SIMREC_EFORMAT,
		               "key '%s' in '%s': %zu rows, fewer than its "
		               "counts say (%zu)",
		               key, sr_store_name(st), m.shape[0], sum);
	return m.shape[0] > sum ? sr_truncate_local(rec, key, sum) : 0;
}

/* The rows' mark (what makes key a joined array to its readers) and the
 * counts' sample_dimension (CF; best effort: the layout is whole
 * without it). */
static int mark_joined(simrec_t *rec, const char *key, const char *ckey)
{
	const char *leaf = strrchr(key, '/');
	leaf = leaf ? leaf + 1 : key;
	char dim[256];
	snprintf(dim, sizeof dim, "%s_sample", leaf);
	simrec_attr_t a = {.type = SIMREC_ATTR_STRING, .s = dim};
	simrec_attr_t k = {.type = SIMREC_ATTR_STRING, .s = (char *)ckey};
	int rc = 0;
	for (int i = 0; i < rec->nst && !rc; i++) {
		sr_store *st = rec->st[i];
		st->ops->attr_set(st, ckey, "sample_dimension", &a);
		rc = st->ops->attr_set(st, key, SR_JOINED_MARK, &k);
		if (rc && rc != SIMREC_ENOMEM)
			sr_wrap(&rec->err, rc, "key '%s' in '%s': its mark %s",
			        key, st->uri.name, SR_JOINED_MARK);
	}
	return rc;
}

/* The first dimension of dkey (the rows, or their counts) is named after
 * the joined key's leaf (unless the caller named it): the rows' LEAF_sample,
 * as the counts' attribute sample_dimension says, and the counts'
 * LEAF_step. */
static int leaf_dims(simrec_t *rec, const char *key, const char *dkey, int ndim,
                     const char *suffix)
{
	const char *leaf = strrchr(key, '/');
	leaf = leaf ? leaf + 1 : key;
	char dim[300];
	snprintf(dim, sizeof dim, "%s_%s", leaf, suffix);
	return sr_dims_default(rec, dkey, ndim, dim);
}

int sr_joined_open(simrec_t *rec, const char *key, simrec_dtype_t dt, int rndim,
                   const size_t *rshape, int empty_writes, sr_dset **rows,
                   sr_dset **count)
{
	char ckey[4096];
	int rc = sr_joined_count_key(rec, key, ckey, sizeof ckey);
	if (rc)
		return rc;
	/* counts: 512 steps a chunk (each step rewrites the last one) */
	size_t cch[SIMREC_MAX_NDIM] = {512};
	sr_dset_init ci = {.chunks = cch, .plain = 1};
	int fresh = !sr_dset_find(rec, ckey);
	rc = fresh ? leaf_dims(rec, key, ckey, 1, "step") : 0;
	if (!rc)
		rc = sr_dset_get(rec, ckey, SIMREC_INT64, 0, NULL, 0, &ci,
		                 count);
	size_t sum = 0;
	if (!rc && fresh)
		rc = counted_rows(rec, *count, &sum);
	int count_new = !rc && fresh && (*count)->m.shape[0] == 0;
	if (!rc && fresh)
		rc = cut_uncounted(rec, key, sum, count_new);
	if (!rc && !sr_dset_find(rec, key))
		rc = leaf_dims(rec, key, key, rndim + 1, "sample");
	if (!rc)
		rc = sr_dset_get(rec, key, dt, rndim, rshape, 0, NULL, rows);
	/* marked before its first rows (again if that failed before) */
	if (!rc && (*rows)->m.shape[0] == 0)
		rc = mark_joined(rec, key, ckey);
	if (!rc)
		(*rows)->empty_writes = (*count)->empty_writes = empty_writes;
	return rc;
}

int sr_joined_write(simrec_t *rec, sr_dset *rows, sr_dset *count, size_t n,
                    const void *data)
{
	int rc = 0;
	/* empty writes read no bytes: any valid address will do */
	const unsigned char *p = rows->empty_writes ? (const void *)"" : data;
	size_t stride = rows->empty_writes ? 0 : rows->row_bytes;
	for (size_t i = 0; i < n && !rc; i++)
		rc = sr_dset_append(rec, rows, p + i * stride);
	if (!rc)
		rc = sr_dset_flush(rec, rows);
	int64_t c = (int64_t)n;
	if (!rc)
		rc = sr_dset_append(rec, count, &c);
	if (!rc)
		rc = sr_dset_flush(rec, count);
	if (rc) { /* its rows are no longer where its counts say */
		rows->broken = rows->broken ? rows->broken : rc;
		count->broken = count->broken ? count->broken : rc;
	}
	return rc;
}

/* key is a joined array: its rows carry the mark naming ckey (a plain
 * key beside a KEY_count of int64 records is not one). */
static int check_mark(simrec_t *rec, const char *key, const char *ckey)
{
	simrec_attr_t a;
	memset(&a, 0, sizeof a);
	int rc = simrec_attr_get(rec, key, SR_JOINED_MARK, &a);
	int same = !rc && a.type == SIMREC_ATTR_STRING && a.s &&
	           !strcmp(a.s, ckey);
	simrec_attr_clear(&a);
	if (rc == SIMREC_ENOKEY) { /* no key, or only no mark? */
		simrec_dataset_t *ds = NULL;
		rc = simrec_get_all(rec, key, &ds);
		simrec_dataset_close(ds);
	} else if (rc == SIMREC_ENOTSUP) { /* a mark of another type */
		rc = 0;
	}
	if (rc)
		return rc;
	return same ? 0
	            : sr_fail(&rec->err, SIMREC_EKIND,
	                      "key '%s' is not a joined array: it has no "
	                      "attribute %s naming '%s'",
	                      key, SR_JOINED_MARK, ckey);
}

/* The rows dataset of key holds rows row0 .. row0+n-1 of step `step`
 * (counts a corrupt store claims past its rows are refused here, before
 * a reader allocates for them). */
static int rows_hold(simrec_t *rec, const char *key, size_t step, size_t row0,
                     size_t n)
{
	simrec_dataset_t *ds;
	int rc = simrec_get_all(rec, key, &ds);
	if (rc)
		return rc;
	size_t shape[SIMREC_MAX_NDIM] = {0};
	int nd = simrec_dataset_ndim(ds);
	simrec_dataset_shape(ds, shape);
	simrec_dataset_close(ds);
	if (nd < 1 || row0 > shape[0] || n > shape[0] - row0)
		return sr_fail(
		        &rec->err, SIMREC_EFORMAT,
		        "key '%s': step %zu's rows %zu..%zu lie past its "
		        "%zu rows",
		        key, step, row0, row0 + n, nd ? shape[0] : 0);
	return 0;
}

int simrec_joined_step(simrec_t *rec, const char *key, size_t step,
                       size_t *row0, size_t *nrows)
{
	if (!rec || !row0 || !nrows)
		return SIMREC_EINVAL;
	char ckey[4096];
	int rc = sr_joined_count_key(rec, key, ckey, sizeof ckey);
	if (!rc)
		rc = check_mark(rec, key, ckey);
	simrec_dataset_t *ds = NULL;
	if (!rc)
		rc = simrec_get_all(rec, ckey, &ds);
	size_t n = 0;
	if (!rc)
		simrec_dataset_shape(ds, &n);
	if (!rc && (simrec_dataset_ndim(ds) != 1 ||
	            simrec_dataset_dtype(ds) != SIMREC_INT64))
		rc = sr_fail(&rec->err, SIMREC_EKIND,
		             "key '%s' is not a joined array's count", ckey);
	if (!rc && step >= n)
		rc = sr_fail(&rec->err, SIMREC_ERANGE,
		             "key '%s': step %zu of %zu", key, step, n);
	int64_t *c = rc ? NULL : malloc((step + 1) * sizeof *c);
	if (!rc && !c)
		rc = sr_fail(&rec->err, SIMREC_ENOMEM, "out of memory");
	size_t start = 0, cnt = step + 1, sum = 0;
	if (!rc)
		rc = simrec_dataset_read(ds, &start, &cnt, c, cnt * sizeof *c);
	for (size_t i = 0; !rc && i <= step; i++)
		if (c[i] < 0 ||
		    (i < step && sr_size_add(sum, (size_t)c[i], &sum)))
			rc = sr_fail(&rec->err, SIMREC_EFORMAT,
			             "key '%s': count %zu is %lld", ckey, i,
			             (long long)c[i]);
	size_t here = rc ? 0 : (size_t)c[step];
	free(c);
	simrec_dataset_close(ds);
	if (!rc)
		rc = rows_hold(rec, key, step, sum, here);
	if (!rc) {
		*row0 = sum;
		*nrows = here;
	}
	return rc;
}

int simrec_joined_read(simrec_t *rec, const char *key, size_t step, void *buf,
                       size_t bufsize, size_t *nrows)
{
	size_t row0, n;
	int rc = simrec_joined_step(rec, key, step, &row0, &n);
	if (rc)
		return rc;
	if (nrows)
		*nrows = n;
	simrec_dataset_t *ds;
	rc = simrec_get_all(rec, key, &ds);
	if (rc)
		return rc;
	int nd = simrec_dataset_ndim(ds);
	size_t shape[SIMREC_MAX_NDIM], start[SIMREC_MAX_NDIM] = {0};
	simrec_dataset_shape(ds, shape);
	size_t need;
	if (nd < 1 || row0 > shape[0] || n > shape[0] - row0)
		rc = sr_fail(&rec->err, SIMREC_EFORMAT,
		             "key '%s': step %zu's rows %zu..%zu lie past its "
		             "%zu rows",
		             key, step, row0, row0 + n, nd ? shape[0] : 0);
	shape[0] = n;
	start[0] = row0;
	if (!rc &&
	    sr_size_prod(nd, shape, simrec_dtype_size(simrec_dataset_dtype(ds)),
	                 &need))
		rc = sr_fail(&rec->err, SIMREC_EFORMAT, "key '%s': too big",
		             key);
	if (!rc && need > bufsize)
		rc = sr_fail(&rec->err, SIMREC_ETRUNC,
		             "key '%s': step %zu needs %zu bytes, the buffer "
		             "holds %zu",
		             key, step, need, bufsize);
	if (!rc && n)
		rc = simrec_dataset_read(ds, start, shape, buf, bufsize);
	simrec_dataset_close(ds);
	return rc;
}
