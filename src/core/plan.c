/* The plan stage of a global array's step (see plan.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

void sr_plan_fmt_box(char *buf, size_t cap, int ndim, const size_t *start,
                     const size_t *count)
{
	int n = snprintf(buf, cap, "[");
	for (int i = 0; i < ndim && n > 0 && (size_t)n < cap; i++)
		n += snprintf(buf + n, cap - (size_t)n, "%s%zu:%zu",
		              i ? ", " : "", start[i], start[i] + count[i]);
	if (n > 0 && (size_t)n < cap)
		snprintf(buf + n, cap - (size_t)n, "]");
}

static int check_shape(simrec_t *rec, const char *key, int ndim,
                       const size_t *shape, size_t isz, size_t *total)
{
	if (ndim < 1 || ndim > SIMREC_MAX_NDIM - 1 || !shape)
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': a global array has 1..%d dimensions "
		               "and a shape",
		               key, SIMREC_MAX_NDIM - 1);
	for (int i = 0; i < ndim; i++)
		if (shape[i] < 1 || shape[i] > (size_t)INT_MAX)
			return sr_fail(&rec->err, SIMREC_EINVAL,
			               "key '%s': dimension %d of the global "
			               "shape is %zu (1 .. %d)",
			               key, i, shape[i], INT_MAX);
	if (sr_size_prod(ndim, shape, isz, total))
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': the global array's size overflows",
		               key);
	return 0;
}

int sr_plan_check_args(simrec_t *rec, const char *key, simrec_dtype_t dt,
                       int ndim, const size_t *shape, const size_t *start,
                       const size_t *count, const void *data, size_t *bytes)
{
	*bytes = 0;
	int rc = sr_check_writable(rec, key);
	if (rc)
		return rc;
	if ((int)dt < 0 || dt >= SIMREC_NDTYPES || sr_dtype_is_vlen(dt))
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': a global array takes a numeric "
		               "dtype, not %d",
		               key, (int)dt);
	size_t isz = simrec_dtype_size(dt), total;
	rc = check_shape(rec, key, ndim, shape, isz, &total);
	if (rc)
		return rc;
	if (!start || !count)
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': start and count are required", key);
	size_t n = isz;
	for (int i = 0; i < ndim; i++) {
		if (start[i] > shape[i] || count[i] > shape[i] - start[i]) {
			char box[256];
			sr_plan_fmt_box(box, sizeof box, ndim, start, count);
			return sr_fail(
			        &rec->err, SIMREC_ERANGE,
			        "key '%s': rank %d's block %s lies "
			        "outside the global shape (dimension %d: "
			        "%zu); nothing was stored",
			        key, rec->rank, box, i, shape[i]);
		}
		n *= count[i]; /* at most the checked total */
	}
	if (n && !data)
		return sr_fail(
		        &rec->err, SIMREC_EINVAL,
		        "key '%s': data is NULL for a block of %zu bytes", key,
		        n);
	*bytes = n;
	return 0;
}

static size_t block_elems(int ndim, const size_t *count)
{
	size_t n = 1;
	for (int i = 0; i < ndim; i++)
		n *= count[i];
	return n;
}

int sr_plan_meet(int ndim, const sr_block *b, size_t row0, size_t row1,
                 sr_block *out)
{
	size_t lo = b->start[0] > row0 ? b->start[0] : row0;
	size_t hi = b->start[0] + b->count[0] < row1 ? b->start[0] + b->count[0]
	                                             : row1;
	if (hi <= lo || !block_elems(ndim, b->count))
		return 0;
	*out = *b;
	out->start[0] = lo;
	out->count[0] = hi - lo;
	return 1;
}

/* The box two blocks share; 0 if none. */
static int overlap(int ndim, const sr_block *a, const sr_block *b,
                   sr_block *out)
{
	for (int i = 0; i < ndim; i++) {
		size_t lo =
		        a->start[i] > b->start[i] ? a->start[i] : b->start[i];
		size_t ea = a->start[i] + a->count[i],
		       eb = b->start[i] + b->count[i];
		size_t hi = ea < eb ? ea : eb;
		if (hi <= lo)
			return 0;
		out->start[i] = lo;
		out->count[i] = hi - lo;
	}
	return 1;
}

size_t sr_plan_covered(int ndim, const size_t *start, const size_t *count,
                       int n, const sr_block *b)
{
	sr_block box, o;
	memcpy(box.start, start, (size_t)ndim * sizeof *start);
	memcpy(box.count, count, (size_t)ndim * sizeof *count);
	size_t sum = 0;
	for (int r = 0; r < n; r++)
		if (overlap(ndim, &box, &b[r], &o))
			sum += block_elems(ndim, o.count);
	return sum;
}

static int contains(int ndim, const sr_block *b, const size_t *p)
{
	for (int i = 0; i < ndim; i++)
		if (p[i] < b->start[i] || p[i] >= b->start[i] + b->count[i])
			return 0;
	return 1;
}

/* The first element (C order) that no block covers: its coordinate along
 * each dimension is 0 or the end of some block (the element before it
 * along that dimension is covered, by a block that ends there). A
 * depth-first search over those candidates, within a budget; 0 if the
 * budget ran out first. */
typedef struct hole_search {
	int ndim, n;
	const size_t *shape;
	const sr_block *b;
	size_t p[SIMREC_MAX_NDIM];
	long budget;
} hole_search;

static int covered_at(const hole_search *h)
{
	for (int r = 0; r < h->n; r++)
		if (contains(h->ndim, &h->b[r], h->p))
			return 1;
	return 0;
}

static int cmp_size(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	return a < b ? -1 : a > b;
}

static int find_hole(hole_search *h, int d)
{
	if (d == h->ndim)
		return --h->budget >= 0 && !covered_at(h);
	size_t *cand = malloc(((size_t)h->n + 1) * sizeof *cand);
	if (!cand)
		return 0;
	size_t nc = 0;
	cand[nc++] = 0;
	for (int r = 0; r < h->n; r++) {
		size_t e = h->b[r].start[d] + h->b[r].count[d];
		if (e < h->shape[d] && block_elems(h->ndim, h->b[r].count))
			cand[nc++] = e;
	}
	qsort(cand, nc, sizeof *cand, cmp_size);
	int found = 0;
	for (size_t i = 0; i < nc && !found && h->budget > 0; i++) {
		if (i && cand[i] == cand[i - 1])
			continue;
		h->p[d] = cand[i];
		found = find_hole(h, d + 1);
	}
	free(cand);
	return found;
}

static int not_covered(sr_err *e, const char *key, int ndim,
                       const size_t *shape, int n, const sr_block *b,
                       size_t covered, size_t total)
{
	hole_search h = {.ndim = ndim,
	                 .n = n,
	                 .shape = shape,
	                 .b = b,
	                 .budget = 1L << 16};
	char where[256] = "";
	if (find_hole(&h, 0)) {
		size_t one[SIMREC_MAX_NDIM];
		for (int i = 0; i < ndim; i++)
			one[i] = 1;
		char box[200];
		sr_plan_fmt_box(box, sizeof box, ndim, h.p, one);
		snprintf(where, sizeof where, "the element at %s, ", box);
	}
	return sr_fail(e, SIMREC_EINVAL,
	               "key '%s': no rank covers %sor %zu of the %zu elements "
	               "of the global array, and the key has no fill value "
	               "(simrec_global_fill); nothing was stored",
	               key, where, total - covered, total);
}

/* A block's first row and rank, to sort blocks by row. */
typedef struct row_rank {
	size_t row;
	int rank;
} row_rank;

static int cmp_first_row(const void *pa, const void *pb)
{
	const row_rank *a = pa, *b = pb;
	if (a->row != b->row)
		return a->row < b->row ? -1 : 1;
	return a->rank - b->rank;
}

/* No two non-empty blocks share an element. A sweep along the first
 * dimension: only blocks whose row ranges meet are compared, so a slab
 * decomposition costs n log n, not n^2 (a 3-D block decomposition
 * compares each block with the blocks of its own layer of rows). */
static int check_overlaps(sr_err *e, const char *key, int ndim, int n,
                          const sr_block *b)
{
	row_rank *ord = malloc((size_t)(n > 0 ? n : 1) * sizeof *ord);
	if (!ord)
		return sr_fail(e, SIMREC_ENOMEM,
		               "key '%s': no memory to check %d blocks", key,
		               n);
	int m = 0;
	for (int r = 0; r < n; r++)
		if (block_elems(ndim, b[r].count))
			ord[m++] = (row_rank){b[r].start[0], r};
	qsort(ord, (size_t)m, sizeof *ord, cmp_first_row);
	for (int i = 0; i < m; i++) {
		const sr_block *a = &b[ord[i].rank];
		size_t end = a->start[0] + a->count[0];
		for (int j = i + 1; j < m && ord[j].row < end; j++) {
			sr_block o;
			if (!overlap(ndim, a, &b[ord[j].rank], &o))
				continue;
			int r = ord[i].rank < ord[j].rank ? ord[i].rank
			                                  : ord[j].rank;
			int q = ord[i].rank ^ ord[j].rank ^ r;
			char box[256];
			sr_plan_fmt_box(box, sizeof box, ndim, o.start,
			                o.count);
			free(ord);
			return sr_fail(
			        e, SIMREC_EINVAL,
			        "key '%s': the blocks of ranks %d and %d "
			        "overlap in %s; nothing was stored",
			        key, r, q, box);
		}
	}
	free(ord);
	return 0;
}

int sr_plan_check_blocks(sr_err *e, const char *key, int ndim,
                         const size_t *shape, int n, const sr_block *b,
                         int fill)
{
	size_t covered = 0, total = block_elems(ndim, shape);
	for (int r = 0; r < n; r++) {
		for (int i = 0; i < ndim; i++)
			if (b[r].start[i] > shape[i] ||
			    b[r].count[i] > shape[i] - b[r].start[i])
				return sr_fail(e, SIMREC_ERANGE,
				               "key '%s': rank %d's block lies "
				               "outside the global shape",
				               key, r);
		covered += block_elems(ndim, b[r].count);
	}
	int rc = check_overlaps(e, key, ndim, n, b);
	if (rc)
		return rc;
	if (covered != total && !fill)
		return not_covered(e, key, ndim, shape, n, b, covered, total);
	return 0;
}

void sr_plan_chunks(int ndim, const size_t *shape, size_t isz, size_t target,
                    size_t *chunks)
{
	sr_chunk_shape(ndim, shape, isz, target, chunks);
	chunks[0] = 1;
}

void sr_plan_regions(const sr_meta *m, int nw, int first_only, size_t *bound)
{
	size_t n1 = m->shape[1], c1 = m->chunks[1];
	size_t rows = sr_size_chunks(n1, c1);
	for (int w = 0; w <= nw; w++) {
		size_t r = first_only ? (w ? rows : 0)
		                      : rows * (size_t)w / (size_t)nw;
		bound[w] = r * c1 < n1 ? r * c1 : n1;
	}
}

int sr_plan_dataset(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
                    const size_t *shape, sr_meta *m)
{
	sr_store *st = rec->st[0];
	sr_dset tmp;
	memset(&tmp, 0, sizeof tmp);
	tmp.key = (char *)key;
	void *h = NULL;
	int rc = st->ops->lookup(st, key, &tmp.m, &h);
	if (h)
		st->ops->release(st, h);
	if (rc == SIMREC_EKIND || (!rc && !sr_kind_appends(tmp.m.kind)))
		return sr_fail(&rec->err, SIMREC_EKIND,
		               "key '%s' in '%s' is not a recorded dataset",
		               key, sr_store_name(st));
	if (rc && rc != SIMREC_ENOKEY)
		return rc;
	if (!rc) {
		*m = tmp.m;
		return sr_check_record(rec, &tmp, dt, ndim, shape);
	}
	memset(m, 0, sizeof *m);
	m->dtype = dt;
	m->ndim = ndim + 1;
	memcpy(m->shape + 1, shape, (size_t)ndim * sizeof *shape);
	sr_plan_chunks(ndim, shape, simrec_dtype_size(dt), st->chunk_bytes,
	               m->chunks);
	return 0;
}

const sr_fill *sr_fill_find(const simrec_t *rec, const char *key)
{
	for (const sr_fill *f = rec->fills; f; f = f->next)
		if (!strcmp(f->key, key))
			return f;
	return NULL;
}

int simrec_global_fill(simrec_t *rec, const char *key, simrec_dtype_t dt,
                       const void *value)
{
	int rc = sr_check_writable(rec, key);
	if (rc)
		return rc;
	if ((int)dt < 0 || dt >= SIMREC_NDTYPES || sr_dtype_is_vlen(dt) ||
	    !value)
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': a fill value is one numeric element",
		               key);
	sr_fill *f = (sr_fill *)sr_fill_find(rec, key);
	if (!f) {
		f = calloc(1, sizeof *f);
		if (!f || !(f->key = strdup(key))) {
			free(f);
			return sr_fail(&rec->err, SIMREC_ENOMEM,
			               "out of memory");
		}
		f->next = rec->fills;
		rec->fills = f;
	}
	f->dtype = dt;
	memset(f->value, 0, sizeof f->value);
	memcpy(f->value, value, simrec_dtype_size(dt));
	return 0;
}

/* A record_all record of (ndim, shape) on every rank: the dataset's
 * record (ranks, *shape). */
static void all_shape(const simrec_t *rec, int ndim, const size_t *shape,
                      size_t *full)
{
	full[0] = (size_t)rec->size;
	if (ndim)
		memcpy(full + 1, shape, (size_t)ndim * sizeof *shape);
}

int sr_plan_all_check(simrec_t *rec, const char *key, simrec_dtype_t dt,
                      int ndim, const size_t *shape)
{
	size_t full[SIMREC_MAX_NDIM];
	all_shape(rec, ndim, shape, full);
	sr_dset *d = sr_dset_find(rec, key);
	if (d && sr_record_matches(d, dt, ndim + 1, full))
		return 0;
	/* the I/O thread may be writing rec->err: wait before any store
	 * access or failure message */
	if (rec->coll)
		rec->coll->io_wait(rec);
	if (d)
		return sr_check_record(rec, d, dt, ndim + 1, full);
	sr_meta m;
	/* the dataset is (steps, ranks, *shape): the plan of a "global
	 * array" of shape (ranks, *shape) */
	return sr_plan_dataset(rec, key, dt, ndim + 1, full, &m);
}

int sr_plan_all_dataset(simrec_t *rec, const char *key, simrec_dtype_t dt,
                        int ndim, const size_t *shape, const sr_dset_init *init,
                        sr_dset **out)
{
	size_t full[SIMREC_MAX_NDIM];
	all_shape(rec, ndim, shape, full);
	/* a new dataset touches the store: the I/O thread must be idle */
	if (!sr_dset_find(rec, key) && rec->coll)
		rec->coll->io_wait(rec);
	return sr_dset_get(rec, key, dt, ndim + 1, full, 0, init, out);
}

int sr_plan_global_dataset(simrec_t *rec, const char *key, simrec_dtype_t dt,
                           int ndim, const size_t *shape,
                           const sr_dset_init *init, sr_dset **out)
{
	if (!sr_dset_find(rec, key) && rec->coll)
		rec->coll->io_wait(rec);
	return sr_dset_get(rec, key, dt, ndim, shape, 0, init, out);
}
