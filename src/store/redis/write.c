/* redis's writes: a dataset's column lists, elements put in one transaction
 * with the row count that covers them, cuts, vlen items. */
#include <limits.h>
#include <string.h>

#include "../../codec/codec.h"
#include "../../redis/payload.h"
#include "rstore.h"

/* Element count of the list holding columns from col0 (LLEN on first use,
 * and again after a reconnect: elements queued on the lost connection may
 * never have arrived). */
static int list_of(sr_store *st, rds *d, size_t col0, rlist **out)
{
	rstore *s = rs_of(st);
	rlist *n = NULL;
	for (size_t i = 0; i < d->nlists && !n; i++)
		if (d->lists[i].col0 == col0)
			n = &d->lists[i];
	if (n && n->conn == s->conns) {
		*out = n;
		return 0;
	}
	if (n) /* asked again below, in the last slot */
		*n = d->lists[--d->nlists];
	if (SR_GROW_N(d->lists, d->caplists, d->nlists + 1))
		return SIMREC_ENOMEM;
	n = &d->lists[d->nlists];
	char lk[4200];
	rs_list_key(lk, sizeof lk, s, d->key, col0);
	redisReply *x;
	int rc = rs_cmds(s, &x, "LLEN", lk, NULL);
	if (!rc)
		rc = sr_redis_expect(&s->r, &x, REDIS_REPLY_INTEGER, "LLEN");
	if (rc)
		return rc;
	if (x->integer < 0) {
		freeReplyObject(x);
		return sr_fail(st->err, SIMREC_ESERVER, "%s: LLEN < 0",
		               sr_redis_where(&s->r));
	}
	n->col0 = col0;
	n->nelem = (size_t)x->integer;
	n->conn = s->conns;
	freeReplyObject(x);
	d->nlists++;
	*out = n;
	return 0;
}

/* Queue a list's new row count (rows:C of the metadata; on a cluster
 * its counter, and 'cols' from list 0, beside the metadata). */
static void queue_rows(rstore *s, sr_redis *r, const char *mk, const char *rk,
                       const char *rf, const char *rv, size_t col0,
                       const char *cv)
{
	if (s->cl) {
		const char *a[3] = {"SET", rk, rv};
		sr_redis_append(r, 3, a, (size_t[]){3, strlen(rk), strlen(rv)});
	}
	if (s->cl && col0)
		return;
	const char *a[6] = {"HSET", mk, rf, rv, "cols", cv};
	size_t al[6];
	for (int i = 0; i < 6; i++)
		al[i] = strlen(a[i]);
	if (s->cl) { /* no rows:C in a cluster's metadata */
		a[2] = "cols";
		a[3] = cv;
		al[2] = 4;
		al[3] = strlen(cv);
	}
	sr_redis_append(r, s->cl ? 4 : 6, a, al);
}

/* Queue one element (k-th of list col0) and the new row count, in one
 * MULTI/EXEC. hdr + payload form the value. */
int rs_put_element(sr_store *st, rds *d, size_t col0, size_t k, size_t rows,
                   size_t cols, const unsigned char *hdr, size_t hlen,
                   const void *payload, size_t plen)
{
	rstore *s = rs_of(st);
	rlist *l = NULL;
	int rc = list_of(st, d, col0, &l);
	if (rc)
		return rc;
	if (d->meta_pending && d->replace)
		l->nelem = 0; /* list 0 goes in this transaction (a value) */
	/* elements before k were lost with a connection: k would land at
	 * a wrong row, so nothing is written past the gap */
	if (k > l->nelem)
		return sr_fail(
		        st->err, SIMREC_ECONN,
		        "%s: key '%s': list %zu holds %zu "
		        "elements, element %zu would follow a gap (writes "
		        "lost with the connection)",
		        sr_redis_where(&s->r), d->key, col0, l->nelem, k);
	char lk[4200], mk[4200], rk[4200], rf[48], rv[32], cv[32];
	rs_list_key(lk, sizeof lk, s, d->key, col0);
	rs_meta_key(mk, sizeof mk, s, d->key);
	rs_rows_key(rk, sizeof rk, s, d->key, col0);
	sr_redis *r = rs_at(s, lk); /* a cluster: every key below in its slot */
	if (!r)
		return s->at_rc;
	snprintf(rf, sizeof rf, "rows:%zu", col0);
	snprintf(rv, sizeof rv, "%zu", rows);
	snprintf(cv, sizeof cv, "%zu", cols);
	/* the value: header then payload, or header then a parts list */
	int parts = plen > PART_BYTES;
	unsigned char h2[SIMREC_MAX_NDIM * 8 + 32];
	memcpy(h2, hdr, hlen);
	if (parts)
		h2[7] |= SR_PAYLOAD_PARTS;
	if (sr_grow(&s->tmp, &s->tcap, hlen + (parts ? 0 : plen)))
		return SIMREC_ENOMEM;
	memcpy(s->tmp, h2, hlen);
	if (!parts && plen)
		memcpy((char *)s->tmp + hlen, payload, plen);
	sr_redis_append(r, 1, (const char *[]){"MULTI"}, (size_t[]){5});
	int index = d->meta_pending && s->cl;
	if (d->meta_pending) { /* a value: its metadata in this transaction */
		rs_queue_meta(st, r, d->key, &d->meta, d->replace);
		d->meta_pending = 0;
	}
	if (parts) {
		char pk[4300];
		rs_part_key(pk, sizeof pk, s, d->key, col0, k);
		sr_redis_append(r, 2, (const char *[]){"DEL", pk},
		                (size_t[]){3, strlen(pk)});
		for (size_t off = 0; off < plen; off += PART_BYTES) {
			size_t n = plen - off < PART_BYTES ? plen - off
			                                   : PART_BYTES;
			const char *a[3] = {"RPUSH", pk,
			                    (const char *)payload + off};
			sr_redis_append(r, 3, a, (size_t[]){5, strlen(pk), n});
		}
	}
	size_t vlen = hlen + (parts ? 0 : plen);
	char kidx[32];
	snprintf(kidx, sizeof kidx, "%zu", k);
	if (k < l->nelem) {
		const char *a[4] = {"LSET", lk, kidx, s->tmp};
		sr_redis_append(r, 4, a,
		                (size_t[]){4, strlen(lk), strlen(kidx), vlen});
	} else {
		const char *a[3] = {"RPUSH", lk, s->tmp};
		sr_redis_append(r, 3, a, (size_t[]){5, strlen(lk), vlen});
		l->nelem = k + 1;
	}
	queue_rows(s, r, mk, rk, rf, rv, col0, cv);
	sr_redis_append(r, 1, (const char *[]){"EXEC"}, (size_t[]){4});
	if (index)
		rc = rs_queue_index(st, "keys", d->key);
	snprintf(s->last_key, sizeof s->last_key, "%s", d->key);
	s->inflight += vlen + (parts ? plen : 0);
	if (!rc && s->inflight > INFLIGHT_BYTES) {
		s->inflight = 0;
		rc = rs_drain(s);
	}
	return rc;
}

/* One list of a cluster cut to rows (and keep elements): its counter
 * lowered and its elements trimmed in one transaction of its slot. */
static int cut_list(sr_store *st, rds *d, size_t col0, size_t rows, size_t keep)
{
	rstore *s = rs_of(st);
	char lk[4200], rk[4200], rv[32], kv[32];
	rs_list_key(lk, sizeof lk, s, d->key, col0);
	rs_rows_key(rk, sizeof rk, s, d->key, col0);
	redisReply *x;
	long long old = 0;
	int rc = rs_cmds(s, &x, "GET", rk, NULL);
	if (!rc && x->type == REDIS_REPLY_STRING &&
	    rs_parse_num(x->str, 0, LLONG_MAX, &old))
		old = 0;
	freeReplyObject(x);
	sr_redis *r = rc ? NULL : rs_at(s, lk);
	if (!r || (size_t)old <= rows)
		return rc ? rc : r ? 0 : s->at_rc;
	snprintf(rv, sizeof rv, "%zu", rows);
	snprintf(kv, sizeof kv, "%zu", keep ? keep - 1 : 0);
	sr_redis_append(r, 1, (const char *[]){"MULTI"}, (size_t[]){5});
	sr_redis_append(r, 3, (const char *[]){"SET", rk, rv},
	                (size_t[]){3, strlen(rk), strlen(rv)});
	const char *t[4] = {"LTRIM", lk, keep ? "0" : "1", kv};
	sr_redis_append(r, 4, t, (size_t[]){5, strlen(lk), 1, strlen(kv)});
	sr_redis_append(r, 1, (const char *[]){"EXEC"}, (size_t[]){4});
	return sr_redis_drain(r);
}

/* A cluster's cut: list by list (each lowers its own counter with its
 * trim; the count, their minimum, never covers a missing element). */
static int cut_cluster(sr_store *st, rds *d, const sr_meta *m, size_t rows)
{
	size_t keep = rows / m->chunks[0] + (rows % m->chunks[0] != 0);
	size_t cols = m->ndim >= 2 && d->cols ? d->cols : 0;
	int rc = cut_list(st, d, 0, rows, keep);
	for (size_t c = cols; cols && c < m->shape[1] && !rc; c += cols)
		rc = cut_list(st, d, c, rows, keep);
	d->nlists = 0;
	return rc ? sr_wrap(st->err, rc, "cutting key '%s' to %zu rows", d->key,
	                    rows)
	          : 0;
}

/* Cut every column list of d to rows records (simrec_truncate, verify
 * --repair), in one transaction that lowers the row counts before the
 * elements past them go: no reader sees a count over missing elements.
 * The element holding row rows-1 keeps its extra rows (never read). */
static int cut_rows(sr_store *st, rds *d, const sr_meta *m, size_t rows)
{
	rstore *s = rs_of(st);
	if (s->cl)
		return cut_cluster(st, d, m, rows);
	char mk[4200];
	rs_name(mk, sizeof mk, s, "m", d->key);
	redisReply *x;
	const char *argv[2] = {"HGETALL", mk};
	int rc = sr_redis_cmd(&s->r, &x, 2, argv, (size_t[]){7, strlen(mk)});
	if (!rc)
		rc = sr_redis_expect_strings(&s->r, &x, "HGETALL");
	if (rc)
		return rc;
	size_t keep = rows / m->chunks[0] + (rows % m->chunks[0] != 0);
	char rv[32], kv[32];
	snprintf(rv, sizeof rv, "%zu", rows);
	snprintf(kv, sizeof kv, "%zu", keep ? keep - 1 : 0);
	sr_redis_append(&s->r, 1, (const char *[]){"MULTI"}, (size_t[]){5});
	for (size_t i = 0; i + 1 < x->elements; i += 2) {
		const char *f = x->element[i]->str, *v = x->element[i + 1]->str;
		long long col, old;
		if (strncmp(f, "rows:", 5) ||
		    rs_parse_num(f + 5, 0, LLONG_MAX, &col) ||
		    rs_parse_num(v, 0, LLONG_MAX, &old) || (size_t)old <= rows)
			continue;
		char lk[4300];
		snprintf(lk, sizeof lk, "%s:d:%s:%lld", s->prefix, d->key, col);
		const char *h[4] = {"HSET", mk, f, rv};
		sr_redis_append(
		        &s->r, 4, h,
		        (size_t[]){4, strlen(mk), strlen(f), strlen(rv)});
		/* LTRIM 1 0 empties the list */
		const char *t[4] = {"LTRIM", lk, keep ? "0" : "1", kv};
		sr_redis_append(&s->r, 4, t,
		                (size_t[]){5, strlen(lk), 1, strlen(kv)});
	}
	freeReplyObject(x);
	sr_redis_append(&s->r, 1, (const char *[]){"EXEC"}, (size_t[]){4});
	d->nlists = 0; /* element counts: asked again (LLEN) */
	rc = sr_redis_drain(&s->r);
	return rc ? sr_wrap(st->err, rc, "cutting key '%s' to %zu rows", d->key,
	                    rows)
	          : 0;
}

/* A cluster's lists: 'cols' in the metadata names them all (0, cols, 2
 * cols... below dimension 1); a counter not yet written counts 0. */
static int split_cluster(sr_store *st, rds *d, size_t cols)
{
	rstore *s = rs_of(st);
	char mk[4200], cv[32];
	rs_meta_key(mk, sizeof mk, s, d->key);
	snprintf(cv, sizeof cv, "%zu", cols);
	redisReply *x;
	int rc = rs_cmds(s, &x, "HSET", mk, "cols", cv, NULL);
	freeReplyObject(x);
	return rc ? sr_wrap(st->err, rc, "declaring the lists of key '%s'",
	                    d->key)
	          : 0;
}

/* Every list of d counts from its creation on: a reader's step count is
 * the fewest rows of the lists it finds (docs/redis-format.md), so a list
 * that its writer never reached (its connection lost before its first
 * element) must be there with 0 rows, or the others' steps would show
 * with its columns missing. One transaction, before any element. */
int rs_split(sr_store *st, void *ds, const sr_meta *m, size_t cols)
{
	rstore *s = rs_of(st);
	rds *d = ds;
	int rc = rs_write_ready(st);
	if (rc || m->kind != SR_RECORDS || m->ndim < 2 || !cols)
		return rc;
	d->cols = cols;
	if (s->cl) /* counters absent count 0: only the lists' width */
		return split_cluster(st, d, cols);
	char mk[4200], cv[32], rf[48];
	rs_name(mk, sizeof mk, s, "m", d->key);
	snprintf(cv, sizeof cv, "%zu", cols);
	sr_redis_append(&s->r, 1, (const char *[]){"MULTI"}, (size_t[]){5});
	const char *a[4] = {"HSET", mk, "cols", cv};
	sr_redis_append(&s->r, 4, a, (size_t[]){4, strlen(mk), 4, strlen(cv)});
	for (size_t c = 0; c < m->shape[1]; c += cols) {
		snprintf(rf, sizeof rf, "rows:%zu", c);
		const char *b[4] = {"HSETNX", mk, rf, "0"};
		sr_redis_append(&s->r, 4, b,
		                (size_t[]){6, strlen(mk), strlen(rf), 1});
	}
	sr_redis_append(&s->r, 1, (const char *[]){"EXEC"}, (size_t[]){4});
	rc = sr_redis_drain(&s->r);
	return rc ? sr_wrap(st->err, rc, "declaring the lists of key '%s'",
	                    d->key)
	          : 0;
}

int rs_write(sr_store *st, void *ds, const sr_meta *m, const size_t *start,
             const size_t *count, const void *data)
{
	rstore *s = rs_of(st);
	int rc = rs_write_ready(st);
	if (rc)
		return rc;
	size_t isz = simrec_dtype_size(m->dtype), n = 1;
	sr_payload p = {.dtype = m->dtype, .ndim = m->ndim};
	for (int i = 0; i < m->ndim; i++) {
		p.shape[i] = count[i];
		n *= count[i];
	}
	if (!n && m->kind == SR_RECORDS) /* only the extent: a truncate */
		return cut_rows(st, ds, m, m->shape[0]);
	p.raw_bytes = n * isz;
	const void *payload = data;
	size_t plen = p.raw_bytes;
	if (n && strcmp(st->codec.cname, "none")) {
		p.compressed = 1;
		if ((rc = sr_codec_encode(&st->codec, isz, data, p.raw_bytes,
		                          &s->cbuf, &s->ccap, &plen, st->err)))
			return rc;
		payload = s->cbuf;
	}
	unsigned char hdr[SIMREC_MAX_NDIM * 8 + 32];
	size_t hlen = sr_payload_header_size(p.ndim);
	sr_payload_header(&p, hdr);
	size_t col0 = m->ndim >= 2 && m->kind == SR_RECORDS ? start[1] : 0;
	size_t cols = m->ndim >= 2 ? count[1] : 1;
	size_t k =
	        m->kind != SR_RECORDS || !m->ndim ? 0 : start[0] / m->chunks[0];
	size_t rows =
	        m->kind != SR_RECORDS || !m->ndim ? 1 : start[0] + count[0];
	rc = rs_put_element(st, ds, col0, k, rows, cols, hdr, hlen, payload,
	                    plen);
	if (rc && rc != SIMREC_ENOMEM)
		sr_wrap(st->err, rc, "writing key '%s'", ((rds *)ds)->key);
	return rc;
}

int rs_write_vlen(sr_store *st, void *ds, const sr_meta *m, size_t row0,
                  size_t n, const sr_blob *items)
{
	rstore *s = rs_of(st);
	int rc = rs_write_ready(st);
	if (rc)
		return rc;
	void *enc;
	size_t elen, plen;
	if (sr_vlen_encode(items, n, &enc, &elen))
		return SIMREC_ENOMEM;
	sr_payload p = {.dtype = m->dtype, .ndim = 1, .raw_bytes = elen};
	p.shape[0] = n;
	const void *payload = enc;
	plen = elen;
	if (strcmp(st->codec.cname, "none")) {
		p.compressed = 1;
		rc = sr_codec_encode(&st->codec, 1, enc, elen, &s->cbuf,
		                     &s->ccap, &plen, st->err);
		payload = s->cbuf;
	}
	unsigned char hdr[64];
	sr_payload_header(&p, hdr);
	if (!rc)
		rc = rs_put_element(st, ds, 0, row0 / m->chunks[0], row0 + n, 1,
		                    hdr, sr_payload_header_size(1), payload,
		                    plen);
	free(enc);
	return rc;
}
