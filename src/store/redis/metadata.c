/* redis's dataset metadata (the P:m:key hash): parsed with every field checked,
 * lookup, create. */
#include <errno.h>
#include <string.h>

#include "rstore.h"

/* ---- metadata ---------------------------------------------------------- */

/* A list of decimal sizes separated by spaces: their count, or -1 if it
 * holds anything else or more than max of them. */
static int parse_sizes(const char *s, size_t *v, int max)
{
	int n = 0;
	while (*s == ' ')
		s++;
	while (*s) {
		if (n == max || *s < '0' || *s > '9')
			return -1;
		char *end;
		errno = 0;
		unsigned long long x = strtoull(s, &end, 10);
		if (errno || x > SR_SIZE_MAX || (*end && *end != ' '))
			return -1;
		v[n++] = (size_t)x;
		s = end;
		while (*s == ' ')
			s++;
	}
	return n;
}

/* A decimal integer in [lo, hi], all of s. */
int rs_parse_num(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || end == s || *end || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

static void fmt_sizes(char *buf, size_t cap, int n, const size_t *v)
{
	int off = 0;
	buf[0] = 0;
	for (int i = 0; i < n && (size_t)off < cap; i++)
		off += snprintf(buf + off, cap - (size_t)off, "%s%zu",
		                i ? " " : "", v[i]);
}

static rds *rds_new(const char *key)
{
	rds *d = calloc(1, sizeof *d);
	if (d && !(d->key = strdup(key))) {
		free(d);
		d = NULL;
	}
	return d;
}

void rs_release(sr_store *st, void *ds)
{
	SR_UNUSED(st);
	rds *d = ds;
	if (d) {
		free(d->key);
		free(d->lists);
	}
	free(d);
}

/* What the metadata hash gave: which fields, and their values before
 * they are checked against each other. */
typedef struct meta_scan {
	int have, nsh, nch;     /* dtype seen; shape and chunks lengths */
	long long ndim, cols;   /* cols: 0 when absent */
	size_t rows;            /* the fewest complete rows of a column list */
	char bad_counter[4200]; /* a cluster's malformed counter key, or "" */
} meta_scan;

/* One field f = v of the metadata hash into m and sc; nonzero if bad. */
static int meta_field(const char *f, const char *v, sr_meta *m, meta_scan *sc)
{
	long long num;
	int bad = 0;
	if (!strcmp(f, "dtype")) {
		sc->have = 1;
		bad = 1;
		for (int t = 0; t < SIMREC_NDTYPES; t++)
			if (!strcmp(v, simrec_dtype_name((simrec_dtype_t)t))) {
				m->dtype = (simrec_dtype_t)t;
				bad = 0;
			}
	} else if (!strcmp(f, "shape")) {
		bad = (sc->nsh = parse_sizes(v, m->shape, SIMREC_MAX_NDIM)) < 0;
	} else if (!strcmp(f, "ndim")) {
		bad = rs_parse_num(v, 0, SIMREC_MAX_NDIM, &sc->ndim);
	} else if (!strcmp(f, "chunks")) {
		bad = (sc->nch = parse_sizes(v, m->chunks, SIMREC_MAX_NDIM)) <
		      0;
	} else if (!strcmp(f, "value")) {
		bad = rs_parse_num(v, 0, 1, &num);
		m->kind = !bad && num ? SR_VALUE : SR_RECORDS;
	} else if (!strcmp(f, "cols")) {
		bad = rs_parse_num(v, 1, (long long)(SR_SIZE_MAX >> 1),
		                   &sc->cols);
	} else if (!strncmp(f, "rows:", 5)) {
		bad = rs_parse_num(v, 0, (long long)(SR_SIZE_MAX >> 1), &num);
		if (!bad && (size_t)num < sc->rows)
			sc->rows = (size_t)num;
	}
	return bad;
}

/* Every field of an HGETALL reply (string pairs); nonzero if one is bad. */
static int meta_fields(const redisReply *x, sr_meta *m, meta_scan *sc)
{
	int bad = 0;
	for (size_t i = 0; i + 1 < x->elements && !bad; i += 2) {
		const char *f = x->element[i]->str, *v = x->element[i + 1]->str;
		if (strlen(v) != x->element[i + 1]->len)
			bad = 1; /* an embedded NUL */
		else
			bad = meta_field(f, v, m, sc);
	}
	return bad;
}

/* ndim, shape and chunks agree; chunks >= 1; sizes fit; nonzero if not.
 * The extent of records is rows, when a column list gave it. */
static int meta_agrees(sr_meta *m, const meta_scan *sc)
{
	m->ndim = (int)sc->ndim;
	int bad = sc->ndim < 0 || sc->nsh != sc->ndim || sc->nch != sc->ndim;
	for (int i = 0; !bad && i < m->ndim; i++)
		bad = m->chunks[i] == 0;
	size_t tot;
	if (!bad && m->kind == SR_RECORDS && m->ndim && sc->rows != (size_t)-1)
		m->shape[0] = sc->rows;
	if (!bad && !m->ndim && sr_dtype_is_vlen(m->dtype))
		m->shape[0] = m->chunks[0] = 1; /* a set text or bytes value */
	return bad || sr_size_prod(m->ndim, m->shape, 8, &tot) ||
	       sr_size_prod(m->ndim, m->chunks, 8, &tot);
}

/* The list starts of a records dataset: 0, cols, 2 cols... below
 * dimension 1 when a writer split it (cols set), else list 0 alone;
 * their count, or 0 if the metadata gives more than the bound. */
static size_t list_count(const sr_meta *m, const meta_scan *sc)
{
	if (sc->nsh < 2 || !sc->cols)
		return 1;
	size_t n = m->shape[1] / (size_t)sc->cols +
	           (m->shape[1] % (size_t)sc->cols != 0);
	return n > ((size_t)1 << 22) ? 0 : n ? n : 1;
}

/* Counters [from, to) of key's lists asked at once (one pipeline per
 * master), the fewest rows folded into *rows; *bad if one is malformed. */
static int rows_batch(rstore *s, const char *key, size_t cols, size_t from,
                      size_t to, size_t *rows, meta_scan *sc)
{
	sr_redis *at[256];
	int rc = 0;
	size_t sent = from;
	for (; sent < to && !rc; sent++) {
		char rk[4200];
		rs_rows_key(rk, sizeof rk, s, key, sent * cols);
		/* reads: no order needed, one pipeline per master */
		if (!(at[sent - from] =
		              sr_cluster_route(s->cl, rk, strlen(rk))))
			rc = SIMREC_ESERVER;
		else
			rc = sr_redis_append(at[sent - from], 2,
			                     (const char *[]){"GET", rk},
			                     (size_t[]){3, strlen(rk)});
	}
	for (size_t i = from; i < sent - (rc != 0); i++) {
		redisReply *x;
		int e = sr_redis_reply(at[i - from], &x);
		long long v = 0;
		int bad = 0;
		if (!e && x->type == REDIS_REPLY_STRING)
			bad = rs_parse_num(x->str, 0,
			                   (long long)(SR_SIZE_MAX >> 1), &v);
		else if (!e)
			bad = x->type != REDIS_REPLY_NIL;
		/* the message names this counter, not the metadata */
		if (bad && !sc->bad_counter[0])
			rs_rows_key(sc->bad_counter, sizeof sc->bad_counter, s,
			            key, i * cols);
		if (!e && (size_t)v < *rows)
			*rows = (size_t)v;
		freeReplyObject(x);
		if (e && !rc)
			rc = e;
	}
	return rc;
}

/* A cluster's records count (docs/redis-format.md): the fewest rows of
 * the lists' counters (P:r:{P:KEY:C}, absent = 0), asked of the masters
 * 256 at a time; *bad set if a counter is malformed. */
static int cluster_rows(sr_store *st, const char *key, const sr_meta *m,
                        meta_scan *sc, int *bad)
{
	rstore *s = rs_of(st);
	size_t n = list_count(m, sc), rows = (size_t)-1;
	if (!n) {
		*bad = 1;
		return 0;
	}
	int rc = rs_drain(s);
	for (size_t b = 0; b < n && !rc && !sc->bad_counter[0]; b += 256)
		rc = rows_batch(s, key, (size_t)sc->cols, b,
		                n - b < 256 ? n : b + 256, &rows, sc);
	sc->rows = rows;
	*bad = sc->bad_counter[0] != 0;
	return rc;
}

/* No metadata under key: EKIND if it is a group, else ENOKEY. */
static int group_or_missing(sr_store *st, const char *key)
{
	rstore *s = rs_of(st);
	redisReply *x;
	int rc;
	char g[200];
	rs_name(g, sizeof g, s, "groups", "");
	g[strlen(g) - 1] = 0;
	const char *a2[3] = {"SISMEMBER", g, key};
	size_t l2[3] = {9, strlen(g), strlen(key)};
	if ((rc = rs_cmd(s, &x, 3, a2, l2)) ||
	    (rc = sr_redis_expect(&s->r, &x, REDIS_REPLY_INTEGER, "SISMEMBER")))
		return rc;
	rc = x->integer ? SIMREC_EKIND : SIMREC_ENOKEY;
	freeReplyObject(x);
	return rc;
}

int rs_lookup(sr_store *st, const char *key, sr_meta *m, void **ds)
{
	rstore *s = rs_of(st);
	int rc = rs_ready(st);
	if (rc)
		return rc;
	redisReply *x;
	if ((rc = rs_hgetall(s, "m", key, &x)))
		return rc == SIMREC_ESERVER
		               ? sr_wrap(st->err, rc,
		                         "reading the metadata of '%s'", key)
		               : rc;
	memset(m, 0, sizeof *m);
	meta_scan sc = {0, -1, -1, -1, 0, (size_t)-1, ""};
	int bad = meta_fields(x, m, &sc);
	freeReplyObject(x);
	if (sc.have && !bad && s->cl && m->kind == SR_RECORDS &&
	    (rc = cluster_rows(st, key, m, &sc, &bad)))
		return rc;
	if (sc.have && !bad)
		bad = meta_agrees(m, &sc);
	if (bad && sc.bad_counter[0])
		return sr_fail(st->err, SIMREC_EFORMAT,
		               "%s: row counter '%s' of '%s' is malformed (not "
		               "a count of rows)",
		               sr_redis_where(&s->r), sc.bad_counter, key);
	if (bad) {
		char k[4200];
		rs_meta_key(k, sizeof k, s, key);
		return sr_fail(st->err, SIMREC_EFORMAT,
		               "%s: metadata '%s' of '%s' is malformed "
		               "(dtype, ndim, shape, chunks, value or rows)",
		               sr_redis_where(&s->r), k, key);
	}
	if (!sc.have)
		return group_or_missing(st, key);
	/* the extent: complete rows of every column list (a record_all step
	 * counts once all ranks pushed it) */
	if (m->kind == SR_RECORDS && m->ndim && sc.rows == (size_t)-1)
		m->shape[0] = 0;
	rds *d = rds_new(key);
	if (!d)
		return SIMREC_ENOMEM;
	d->cols = (size_t)sc.cols;
	*ds = d;
	return 0;
}

int rs_set_parents(sr_store *st, const char *key)
{
	rstore *s = rs_of(st);
	char g[200];
	rs_name(g, sizeof g, s, "groups", "");
	g[strlen(g) - 1] = 0;
	sr_redis *r = rs_at(s, g);
	if (!r)
		return s->at_rc;
	char *p = sr_key_parent(key);
	while (p && *p) {
		const char *argv[3] = {"SADD", g, p};
		size_t lens[3] = {4, strlen(g), strlen(p)};
		sr_redis_append(r, 3, argv, lens);
		char *q = sr_key_parent(p);
		free(p);
		p = q;
	}
	free(p);
	return 0;
}

int rs_queue_index(sr_store *st, const char *set, const char *key)
{
	rstore *s = rs_of(st);
	char k[200];
	snprintf(k, sizeof k, "%s:%s", s->prefix, set);
	sr_redis *r = rs_at(s, k);
	if (!r)
		return s->at_rc;
	const char *b[3] = {"SADD", k, key};
	sr_redis_append(r, 3, b, (size_t[]){4, strlen(k), strlen(key)});
	return rs_set_parents(st, key);
}

/* Queue (inside the caller's MULTI on r) the metadata of key, replacing
 * whatever was under it: the old metadata, element list 0, its parts
 * (and its row counter on a cluster) go first, so a value's old element
 * never outlives its metadata. One server: the key index too; a cluster
 * holds the index in other slots (rs_queue_index after the EXEC). */
void rs_queue_meta(sr_store *st, sr_redis *r, const char *key, const sr_meta *m,
                   int replace)
{
	rstore *s = rs_of(st);
	char mk[4200], dk[4200], pk[4300], rk[4200], sh[512], ch[512], nd[16];
	rs_meta_key(mk, sizeof mk, s, key);
	rs_list_key(dk, sizeof dk, s, key, 0);
	rs_part_key(pk, sizeof pk, s, key, 0, 0);
	rs_rows_key(rk, sizeof rk, s, key, 0);
	fmt_sizes(sh, sizeof sh, m->ndim, m->shape);
	fmt_sizes(ch, sizeof ch, m->ndim, m->chunks);
	snprintf(nd, sizeof nd, "%d", m->ndim);
	const char *u[5] = {"UNLINK", mk, dk, pk, rk};
	if (replace)
		sr_redis_append(r, s->cl ? 5 : 4, u,
		                (size_t[]){6, strlen(mk), strlen(dk),
		                           strlen(pk), strlen(rk)});
	const char *dt = simrec_dtype_name(m->dtype);
	const char *a[12] = {
	        "HSET",   mk, "dtype", dt,
	        "shape",  sh, "ndim",  nd,
	        "chunks", ch, "value", m->kind != SR_RECORDS ? "1" : "0"};
	size_t l[12];
	for (int i = 0; i < 12; i++)
		l[i] = strlen(a[i]);
	sr_redis_append(r, 12, a, l);
	if (!s->cl)
		rs_queue_index(st, "keys", key);
}

/* A cluster's old records dataset replaced: its lists past list 0 and
 * their counters go (list 0 goes with the new metadata). */
static int drop_lists(sr_store *st, const char *key, const sr_meta *old,
                      size_t cols)
{
	rstore *s = rs_of(st);
	int rc = 0;
	if (!s->cl || old->kind != SR_RECORDS || old->ndim < 2 || !cols)
		return 0;
	for (size_t c = cols; c < old->shape[1] && !rc; c += cols) {
		char dk[4200], rk[4200];
		redisReply *x;
		rs_list_key(dk, sizeof dk, s, key, c);
		rs_rows_key(rk, sizeof rk, s, key, c);
		rc = rs_cmds(s, &x, "UNLINK", dk, rk, NULL);
		freeReplyObject(x);
	}
	return rc;
}

int rs_create(sr_store *st, const char *key, const sr_meta *m, void **ds)
{
	rstore *s = rs_of(st);
	int rc = rs_write_ready(st);
	if (rc)
		return rc;
	sr_meta old;
	void *h = NULL;
	rc = rs_lookup(st, key, &old, &h);
	size_t oldcols = h ? ((rds *)h)->cols : 0;
	rs_release(st, h);
	if (rc == SIMREC_EKIND)
		return sr_fail(st->err, rc, "'%s' is a group on %s:%d", key,
		               s->r.host, s->r.port);
	if (rc && rc != SIMREC_ENOKEY)
		return rc;
	/* no dataset may hold a child */
	for (char *p = sr_key_parent(key); p; p = NULL) {
		redisReply *x;
		char kk[200];
		snprintf(kk, sizeof kk, "%s:keys", s->prefix);
		int r2 = *p ? rs_cmds(s, &x, "SISMEMBER", kk, p, NULL)
		            : SIMREC_ENOKEY;
		if (!r2)
			r2 = sr_redis_expect(&s->r, &x, REDIS_REPLY_INTEGER,
			                     "SISMEMBER");
		int bad = !r2 && x->integer;
		if (!r2)
			freeReplyObject(x);
		if (bad)
			r2 = sr_fail(st->err, SIMREC_EKIND,
			             "'%s' is a dataset and cannot hold '%s'",
			             p, key);
		free(p);
		if (bad)
			return r2;
	}
	int replace = rc == 0; /* an old value under key */
	/* a cluster: the old lists past list 0 go first, whatever replaces
	 * them (their counters would count the new dataset's rows) */
	if (replace && st->meta_writer &&
	    (rc = drop_lists(st, key, &old, oldcols)))
		return rc;
	rds *d = rds_new(key);
	if (!d)
		return SIMREC_ENOMEM;
	*ds = d;
	rc = 0;
	if (st->meta_writer && m->kind != SR_RECORDS) {
		/* written with its element (rs_put_element): the old value
		 * stays whole until the new one replaces it at once */
		d->meta_pending = 1;
		d->replace = 1; /* also a value's stale parts of a lost run */
		d->meta = *m;
		if (!(d->lists = calloc(1, sizeof *d->lists)))
			return SIMREC_ENOMEM;
		/* list 0, emptied by the same transaction */
		d->nlists = d->caplists = 1;
	} else if (st->meta_writer) {
		char mk[4200];
		rs_meta_key(mk, sizeof mk, s, key);
		sr_redis *r = rs_at(s, mk);
		if (!r)
			return s->at_rc;
		sr_redis_append(r, 1, (const char *[]){"MULTI"}, (size_t[]){5});
		rs_queue_meta(st, r, key, m, replace);
		sr_redis_append(r, 1, (const char *[]){"EXEC"}, (size_t[]){4});
		if (s->cl)
			rc = rs_queue_index(st, "keys", key);
		if (!rc)
			rc = rs_drain(s);
	}
	return rc;
}
