/* redis's reads: elements fetched in parts, checked and decoded, copied into
 * the caller's selection. */
#include <string.h>

#include "../../codec/codec.h"
#include "../../redis/payload.h"
#include "rstore.h"

/* A parts list (element values over PART_BYTES), fetched one part at a
 * time and bounded by what the header says the element holds. */
static int fetch_parts(sr_store *st, rds *d, size_t col0, size_t k,
                       const sr_payload *p, unsigned char **out, size_t *len)
{
	rstore *s = rs_of(st);
	char pk[4300];
	rs_part_key(pk, sizeof pk, s, d->key, col0, k);
	size_t max = (size_t)p->raw_bytes + (p->compressed ? 64 : 0), cap = 0;
	unsigned char *buf = NULL;
	*len = 0;
	int rc = 0;
	for (long i = 0; !rc; i++) {
		redisReply *y;
		char idx[32];
		snprintf(idx, sizeof idx, "%ld", i);
		if ((rc = rs_cmds(s, &y, "LINDEX", pk, idx, NULL)))
			break;
		if (y->type == REDIS_REPLY_NIL) {
			freeReplyObject(y);
			break;
		}
		if ((rc = sr_redis_expect(&s->r, &y, REDIS_REPLY_STRING,
		                          "LINDEX of a parts list")))
			break;
		size_t n;
		if (sr_size_add(*len, y->len, &n) || n > max)
			rc = sr_fail(st->err, SIMREC_EFORMAT,
			             "%s: parts of element %zu of '%s' "
			             "exceed the %zu bytes its header gives",
			             sr_redis_where(&s->r), k, d->key, max);
		else if (sr_grow((void **)&buf, &cap, n ? n : 1))
			rc = SIMREC_ENOMEM;
		else if (y->len)
			memcpy(buf + *len, y->str, y->len);
		if (!rc)
			*len = n;
		freeReplyObject(y);
	}
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	return 0;
}

/* Decode a list element (a reply) into s->tmp; parts are fetched. */
static int decode(sr_store *st, rds *d, const sr_meta *m, size_t col0, size_t k,
                  redisReply *x, sr_payload *p, const void **out)
{
	rstore *s = rs_of(st);
	if (x->type != REDIS_REPLY_STRING ||
	    sr_payload_parse(x->str, x->len, p) || sr_payload_check(p, m))
		return sr_fail(st->err, SIMREC_EFORMAT,
		               "%s: element %zu of '%s' is missing or "
		               "corrupt (its header does not match the "
		               "dataset's metadata)",
		               sr_redis_where(&s->r), k, d->key);
	const void *src = p->data;
	size_t len = p->len;
	unsigned char *joined = NULL;
	if (p->flags & SR_PAYLOAD_PARTS) {
		int rc = fetch_parts(st, d, col0, k, p, &joined, &len);
		if (rc)
			return rc;
		src = joined;
	}
	int rc = sr_grow(&s->tmp, &s->tcap, p->raw_bytes ? p->raw_bytes : 1);
	if (!rc)
		rc = sr_codec_decode(p->compressed, src, len, s->tmp,
		                     p->raw_bytes, st->codec.nthreads, st->err);
	if (rc && rc != SIMREC_ENOMEM)
		rc = sr_wrap(st->err, SIMREC_EFORMAT,
		             "%s: element %zu of '%s' is corrupt",
		             sr_redis_where(&s->r), k, d->key);
	free(joined);
	*out = s->tmp;
	return rc;
}

/* LINDEX element k of list col0 and decode it into s->tmp. */
static int fetch(sr_store *st, rds *d, const sr_meta *m, size_t col0, size_t k,
                 sr_payload *p, const void **out)
{
	rstore *s = rs_of(st);
	char lk[4200], idx[32];
	rs_list_key(lk, sizeof lk, s, d->key, col0);
	snprintf(idx, sizeof idx, "%zu", k);
	redisReply *x;
	int rc = rs_cmds(s, &x, "LINDEX", lk, idx, NULL);
	if (rc)
		return rc == SIMREC_ENOMEM
		               ? rc
		               : sr_wrap(st->err, rc, "element %zu of '%s'", k,
		                         d->key);
	rc = decode(st, d, m, col0, k, x, p, out);
	freeReplyObject(x);
	return rc;
}

/* Before a read: the connection up and pipelined writes acknowledged. */
int rs_read_ready(sr_store *st)
{
	int rc = rs_ready(st);
	return rc ? rc : rs_commit(st);
}

/* The metadata field 'cols' (columns per list; 1 when absent). */
static int read_cols(sr_store *st, rds *d, size_t *cols)
{
	rstore *s = rs_of(st);
	char mk[4200];
	rs_meta_key(mk, sizeof mk, s, d->key);
	redisReply *x;
	int rc;
	if ((rc = rs_cmds(s, &x, "HGET", mk, "cols", NULL)))
		return rc;
	long long cl = 1;
	int badcols = x->type == REDIS_REPLY_STRING
	                      ? rs_parse_num(x->str, 1,
	                                     (long long)(SR_SIZE_MAX >> 1), &cl)
	                      : x->type != REDIS_REPLY_NIL;
	freeReplyObject(x);
	if (badcols)
		return sr_fail(st->err, SIMREC_EFORMAT,
		               "%s: field 'cols' of '%s' is malformed",
		               sr_redis_where(&s->r), mk);
	*cols = (size_t)cl;
	return 0;
}

/* How a dataset's elements tile it: lists of cols columns (split: dim 1
 * over several lists), elements of c0 rows. */
typedef struct tiling {
	size_t cols, c0;
	int split;
} tiling;

/* The box of element k of list col0: its shape eshape, its origin ebase
 * in the dataset. It must cover the whole box within the dataset, else
 * the caller would get stale bytes. */
static int element_box(sr_store *st, rds *d, const sr_meta *m, const tiling *t,
                       size_t col0, size_t k, const sr_payload *p,
                       size_t *eshape, size_t *ebase)
{
	rstore *s = rs_of(st);
	int nd = m->ndim;
	for (int i = 0; i < nd; i++) {
		eshape[i] = (size_t)p->shape[i];
		ebase[i] = 0;
	}
	/* rows from k*c0, columns from col0 */
	if (nd && m->kind == SR_RECORDS)
		ebase[0] = k * t->c0;
	if (t->split)
		ebase[1] = col0;
	for (int i = 0; i < nd; i++) {
		size_t lim = m->shape[i] - ebase[i], want = lim;
		if (i == 0 && m->kind == SR_RECORDS)
			want = t->c0 < lim ? t->c0 : lim;
		else if (i == 1 && t->split)
			want = t->cols < lim ? t->cols : lim;
		if (ebase[i] > m->shape[i] || eshape[i] < want)
			return sr_fail(st->err, SIMREC_EFORMAT,
			               "%s: element %zu of '%s' is "
			               "smaller than its metadata says",
			               sr_redis_where(&s->r), k, d->key);
	}
	return 0;
}

/* Copy the part of an element (shape eshape at ebase) that the selection
 * (start, count) covers into buf. */
static void copy_overlap(int nd, size_t isz, const void *el,
                         const size_t *eshape, const size_t *ebase,
                         const size_t *start, const size_t *count, void *buf)
{
	size_t est[SIMREC_MAX_NDIM], sst[SIMREC_MAX_NDIM], n[SIMREC_MAX_NDIM];
	for (int i = 0; i < nd; i++) {
		size_t a = start[i] > ebase[i] ? start[i] : ebase[i];
		size_t b = start[i] + count[i] < ebase[i] + eshape[i]
		                   ? start[i] + count[i]
		                   : ebase[i] + eshape[i];
		if (b <= a) {
			n[0] = 0;
			break;
		}
		est[i] = a - ebase[i];
		sst[i] = a - start[i];
		n[i] = b - a;
	}
	if (nd == 0 || n[0])
		sr_copy_region(nd, isz, el, eshape, est, buf, count, sst, n);
}

int rs_read(sr_store *st, void *ds, const sr_meta *m, const size_t *start,
            const size_t *count, void *buf)
{
	rds *d = ds;
	int rc = rs_read_ready(st);
	if (rc)
		return rc;
	/* column lists: all of dim 1 in one list, or "cols" wide each */
	tiling t = {1, 1, 0};
	if ((rc = read_cols(st, d, &t.cols)))
		return rc;
	int nd = m->ndim;
	t.split = nd >= 2 && m->kind == SR_RECORDS;
	if (!t.split)
		t.cols = nd >= 2 ? m->shape[1] : 1;
	if (!t.cols)
		t.cols = 1;
	t.c0 = m->kind != SR_RECORDS || !nd ? 1 : m->chunks[0];
	size_t klo = nd && m->kind == SR_RECORDS ? start[0] / t.c0 : 0,
	       khi = nd && m->kind == SR_RECORDS
	                     ? (start[0] + count[0] - 1) / t.c0
	                     : 0;
	size_t glo = t.split ? start[1] / t.cols : 0,
	       ghi = t.split ? (start[1] + count[1] - 1) / t.cols : 0;
	size_t isz = simrec_dtype_size(m->dtype);
	for (size_t g = glo; g <= ghi && !rc; g++)
		for (size_t k = klo; k <= khi && !rc; k++) {
			size_t col0 = g * t.cols;
			size_t eshape[SIMREC_MAX_NDIM], ebase[SIMREC_MAX_NDIM];
			sr_payload p;
			const void *el;
			if ((rc = fetch(st, d, m, col0, k, &p, &el)) ||
			    (rc = element_box(st, d, m, &t, col0, k, &p, eshape,
			                      ebase)))
				break;
			copy_overlap(nd, isz, el, eshape, ebase, start, count,
			             buf);
		}
	return rc;
}

int rs_read_vlen(sr_store *st, void *ds, const sr_meta *m, size_t index,
                 sr_blob *out)
{
	rds *d = ds;
	int rc = rs_read_ready(st);
	if (rc)
		return rc;
	size_t k = index / m->chunks[0];
	sr_payload p;
	const void *el;
	rc = fetch(st, d, m, 0, k, &p, &el);
	if (rc)
		return rc;
	/* at least the chunk's recorded rows, at most its rows */
	size_t c0 = m->chunks[0], k0 = k * c0,
	       cnt = sr_vlen_count(el, (size_t)p.raw_bytes),
	       need = m->shape[0] - k0 < c0 ? m->shape[0] - k0 : c0;
	if (cnt > c0 || cnt < need)
		return sr_fail(
		        st->err, SIMREC_EFORMAT,
		        "element %zu of key '%s' in '%s' is corrupt: %zu "
		        "items, the chunk has %zu rows",
		        k, d->key, st->uri.path, cnt, c0);
	rc = sr_vlen_item(el, (size_t)p.raw_bytes, index % c0, out);
	if (rc == SIMREC_EFORMAT)
		sr_fail(st->err, rc,
		        "element %zu of key '%s' in '%s' is corrupt: item %zu "
		        "runs past its end",
		        k, d->key, st->uri.path, index % c0);
	return rc;
}
