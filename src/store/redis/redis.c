/* redis://HOST:PORT[/DB] - datasets as redis lists of chunk-row elements
 * (docs/redis-format.md). Every change is one MULTI/EXEC that a reader
 * sees wholly or not at all, and no transaction leaves metadata pointing
 * at an element that is not there: an element and the row count that
 * covers it go together, a value (simrec_set) and its metadata too.
 * Writes are pipelined: replies are read at the next read, flush or when
 * 32 MB are in flight. Under simrec_record_all every rank writes its own
 * column list straight to the server (no aggregation). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/codec.h"
#include "../../common/attr_json.h"
#include "../../common/size.h"
#include "../../redis/conn.h"
#include "../../redis/payload.h"
#include "../store.h"

#define PART_BYTES     ((size_t)64 << 20) /* far below redis' 512 MB limit */
#define INFLIGHT_BYTES ((size_t)32 << 20)

typedef struct rstore {
	sr_redis r;
	char prefix[128];
	size_t inflight;
	char last_key[256]; /* named when pipelined writes fail */
	int unacked;        /* written since the last acknowledged commit */
	int lost;           /* a connection carrying unacked writes was lost */
	void *cbuf;
	size_t ccap;
	void *tmp;
	size_t tcap;
} rstore;

typedef struct rlist {
	size_t col0, nelem;
} rlist;

typedef struct rds {
	char *key;
	rlist *lists;
	size_t nlists;
	/* a value's metadata waits for its element: both go in one
	 * transaction (put_element), replacing the old value at once */
	int meta_pending, replace;
	sr_meta meta;
} rds;

static rstore *S(sr_store *st)
{
	return st->impl;
}

/* "P:m:key" etc. */
static void name(char *buf, size_t cap, const rstore *s, const char *kind,
                 const char *key)
{
	snprintf(buf, cap, "%s:%s:%s", s->prefix, kind, key);
}

/* "P:*" with P literal: SCAN MATCH glob characters escaped. */
static void match_pattern(char *pat, size_t cap, const char *prefix)
{
	size_t n = 0;
	for (const char *c = prefix; *c && n + 4 < cap; c++) {
		if (strchr("*?[]\\", *c))
			pat[n++] = '\\';
		pat[n++] = *c;
	}
	pat[n++] = ':';
	pat[n++] = '*';
	pat[n] = 0;
}

/* Is the lock a ?lock= client of this server would take for this store
 * held by anyone (a writer, or a reader whose lease runs)? Keys as in
 * src/lock/lock.c, resource as in src/store/locked.c. */
static int lock_held(sr_store *st, int *held)
{
	rstore *s = S(st);
	char shown[4200], k[4400];
	sr_store_lock_name(st, shown, sizeof shown);
	redisReply *x = NULL;
	snprintf(k, sizeof k, SR_REDIS_LOCK_NS "%s:writer", shown);
	const char *a1[2] = {"EXISTS", k};
	size_t l1[2] = {6, strlen(k)};
	int rc = sr_redis_cmd(&s->r, &x, 2, a1, l1);
	*held = !rc && x->type == REDIS_REPLY_INTEGER && x->integer > 0;
	freeReplyObject(x);
	x = NULL;
	if (rc || *held)
		return rc;
	/* leases are scored in the server's milliseconds */
	rc = sr_redis_cmdf(&s->r, &x, "TIME");
	if (rc)
		return rc;
	char now[64] = "(0";
	if (x->type == REDIS_REPLY_ARRAY && x->elements == 2 &&
	    x->element[0]->type == REDIS_REPLY_STRING &&
	    x->element[1]->type == REDIS_REPLY_STRING)
		snprintf(now, sizeof now, "(%lld",
		         atoll(x->element[0]->str) * 1000 +
		                 atoll(x->element[1]->str) / 1000);
	freeReplyObject(x);
	x = NULL;
	snprintf(k, sizeof k, SR_REDIS_LOCK_NS "%s:readers", shown);
	const char *a2[4] = {"ZCOUNT", k, now, "+inf"};
	size_t l2[4] = {6, strlen(k), strlen(now), 4};
	rc = sr_redis_cmd(&s->r, &x, 4, a2, l2);
	*held = !rc && x->type == REDIS_REPLY_INTEGER && x->integer > 0;
	freeReplyObject(x);
	return rc;
}

static int wipe_prefix(sr_store *st)
{
	rstore *s = S(st);
	char pat[300];
	match_pattern(pat, sizeof pat, s->prefix);
	/* the store's markers first: a reader meanwhile finds no store
	 * rather than one losing its keys */
	redisReply *mx;
	int mrc = sr_redis_cmdf(&s->r, &mx, "UNLINK %s:root %s:keys %s:groups",
	                        s->prefix, s->prefix, s->prefix);
	freeReplyObject(mx);
	if (mrc)
		return mrc;
	char cursor[32] = "0";
	/* bounded: 2^22 rounds of COUNT 1000 cover any real database; a
	 * server that never returns cursor 0 cannot keep us here */
	long rounds = 0;
	do {
		redisReply *x;
		const char *scan[6] = {"SCAN", cursor,  "MATCH",
		                       pat,    "COUNT", "1000"};
		size_t slen[6] = {4, strlen(cursor), 5, strlen(pat), 5, 4};
		int rc = sr_redis_cmd(&s->r, &x, 6, scan, slen);
		if (!rc)
			rc = sr_redis_expect(&s->r, &x, REDIS_REPLY_ARRAY,
			                     "SCAN");
		if (rc)
			return rc;
		redisReply *keys = x->elements == 2 ? x->element[1] : NULL;
		int ok = keys && x->element[0]->type == REDIS_REPLY_STRING &&
		         x->element[0]->len > 0 &&
		         x->element[0]->len < sizeof cursor &&
		         strspn(x->element[0]->str, "0123456789") ==
		                 x->element[0]->len &&
		         keys->type == REDIS_REPLY_ARRAY &&
		         ++rounds < (1L << 22);
		for (size_t i = 0; ok && i < keys->elements; i++)
			ok = keys->element[i]->type == REDIS_REPLY_STRING;
		if (!ok) {
			freeReplyObject(x);
			return sr_fail(st->err, SIMREC_ESERVER,
			               "redis %s:%d: malformed or endless SCAN "
			               "reply while clearing '%s'",
			               s->r.host, s->r.port, pat);
		}
		snprintf(cursor, sizeof cursor, "%s", x->element[0]->str);
		for (size_t i = 0; i < keys->elements; i++) {
			const char *argv[2] = {"UNLINK", keys->element[i]->str};
			size_t lens[2] = {6, keys->element[i]->len};
			sr_redis_append(&s->r, 2, argv, lens);
		}
		freeReplyObject(x);
		if ((rc = sr_redis_drain(&s->r)))
			return rc;
	} while (strcmp(cursor, "0"));
	return 0;
}

/* Every store has "P:root" from its creation on (older stores: P:keys or
 * P:groups). A reader of a prefix holding none of them has mistyped it:
 * that is no key, not an empty store. A writer marks the root first. */
static int root_marker(sr_store *st)
{
	rstore *s = S(st);
	redisReply *x = NULL;
	int rc;
	if (st->mode != SIMREC_MODE_READONLY) {
		if (!st->meta_writer)
			return 0;
		rc = sr_redis_cmdf(&s->r, &x, "SET %s:root simrec", s->prefix);
		if (!rc)
			rc = sr_redis_expect(&s->r, &x, REDIS_REPLY_STATUS,
			                     "SET");
		freeReplyObject(x);
		return rc;
	}
	rc = sr_redis_cmdf(&s->r, &x, "EXISTS %s:root %s:keys %s:groups",
	                   s->prefix, s->prefix, s->prefix);
	if (!rc)
		rc = sr_redis_expect(&s->r, &x, REDIS_REPLY_INTEGER, "EXISTS");
	if (!rc && x->integer <= 0)
		rc = sr_fail(st->err, SIMREC_ENOKEY,
		             "redis %s:%d holds no store with prefix '%s' (no "
		             "key '%s:root'); check ?prefix=",
		             s->r.host, s->r.port, s->prefix, s->prefix);
	freeReplyObject(x);
	return rc;
}

static int rs_open(sr_store *st)
{
	rstore *s = calloc(1, sizeof *s);
	if (!s)
		return SIMREC_ENOMEM;
	int rc = sr_redis_parse(&s->r, &st->uri, st->err);
	const char *p = st->set.has_prefix ? st->set.prefix : "simrec";
	/* a literal name of its own: never empty, never the locks', never
	 * holding the key layout's separator ':' (prefix "run:d" would
	 * reach the chunks "run:d:*" of the store "run") */
	if (!rc && (!*p || !strncmp(p, SR_REDIS_LOCK_NS, 11) ||
	            strlen(p) >= sizeof s->prefix || strchr(p, ':')))
		rc = sr_fail(
		        st->err, SIMREC_EURI,
		        "redis prefix '%s': must be 1 to %zu bytes, hold no "
		        "':' (the keys' separator) and not start with "
		        "'simrec-lock' (the locks' keys)",
		        p, sizeof s->prefix - 1);
	snprintf(s->prefix, sizeof s->prefix, "%s", p);
	if (!rc)
		rc = sr_redis_connect(&s->r);
	st->impl = s;
	int held = 0;
	/* a store in use under ?lock= by others is not replaced (opened
	 * under ?lock= itself, this writer holds that lock already) */
	if (!rc && st->mode == SIMREC_MODE_CREATE && st->meta_writer &&
	    !st->shared && !(rc = lock_held(st, &held)) && held)
		rc = sr_fail(st->err, SIMREC_ELOCK,
		             "refusing to replace redis prefix '%s' (mode=w): "
		             "its lock is held by another client (see simrec "
		             "lock status)",
		             s->prefix);
	if (!rc && st->mode == SIMREC_MODE_CREATE && st->meta_writer)
		rc = wipe_prefix(st);
	if (!rc)
		rc = root_marker(st);
	if (rc) {
		sr_redis_close(&s->r);
		free(s);
		st->impl = NULL;
	}
	return rc;
}

/* Every write since the last acknowledged commit acknowledged now? A
 * connection lost while it carried unacknowledged writes fails the
 * commit (even when those writes already failed their own call, and
 * with the connection known dead): nothing claims durability it cannot
 * have. With nothing written since, a dead server is no failure of the
 * commit (the next read or write meets it). */
static int rs_commit(sr_store *st)
{
	rstore *s = S(st);
	s->inflight = 0;
	int rc = sr_redis_drain(&s->r);
	if (s->unacked && !s->r.c)
		s->lost = 1;
	if (!rc && s->lost)
		rc = sr_fail(st->err, SIMREC_ECONN,
		             "redis %s:%d: connection lost", s->r.host,
		             s->r.port);
	if (rc && s->unacked)
		sr_wrap(st->err, rc,
		        "writes since the last flush%s%s%s are not "
		        "acknowledged",
		        s->last_key[0] ? " (key '" : "", s->last_key,
		        s->last_key[0] ? "')" : "");
	if (!rc) {
		s->last_key[0] = 0;
		s->unacked = 0;
	}
	if (rc && sr_redis_lost(&s->r, rc) && s->r.reconnects) {
		/* for the next call; this one reported the loss */
		sr_err keep = *st->err;
		if (!sr_redis_reconnect(&s->r))
			s->lost = s->unacked = 0;
		*st->err = keep;
	}
	return rc;
}

static int rs_close(sr_store *st)
{
	rstore *s = S(st);
	int rc = rs_commit(st);
	sr_redis_close(&s->r);
	free(s->cbuf);
	free(s->tmp);
	free(s);
	return rc;
}

/* Before a new operation: a lost connection is re-established if the
 * URI asked for reconnect=N (the writes it carried stay reported as
 * lost to the next commit). */
static int ready(sr_store *st)
{
	rstore *s = S(st);
	if (!s->r.c && s->unacked)
		s->lost = 1;
	if (!s->r.c)
		return s->r.reconnects ? sr_redis_reconnect(&s->r)
		                       : sr_fail(st->err, SIMREC_ECONN,
		                                 "redis %s:%d: connection lost",
		                                 s->r.host, s->r.port);
	return 0;
}

/* Before a write: from here on the commit has something to acknowledge. */
static int write_ready(sr_store *st)
{
	int rc = ready(st);
	S(st)->unacked = 1;
	return rc;
}

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
static int parse_num(const char *s, long long lo, long long hi, long long *out)
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

static void rs_release(sr_store *st, void *ds)
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
	int have, nsh, nch; /* dtype seen; shape and chunks lengths */
	long long ndim;
	size_t rows; /* the fewest complete rows of a column list */
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
		bad = parse_num(v, 0, SIMREC_MAX_NDIM, &sc->ndim);
	} else if (!strcmp(f, "chunks")) {
		bad = (sc->nch = parse_sizes(v, m->chunks, SIMREC_MAX_NDIM)) <
		      0;
	} else if (!strcmp(f, "value")) {
		bad = parse_num(v, 0, 1, &num);
		m->kind = !bad && num ? SR_VALUE : SR_RECORDS;
	} else if (!strncmp(f, "rows:", 5)) {
		bad = parse_num(v, 0, (long long)(SR_SIZE_MAX >> 1), &num);
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
	return bad || sr_size_prod(m->ndim, m->shape, 8, &tot) ||
	       sr_size_prod(m->ndim, m->chunks, 8, &tot);
}

/* No metadata under key: EKIND if it is a group, else ENOKEY. */
static int group_or_missing(sr_store *st, const char *key)
{
	rstore *s = S(st);
	redisReply *x;
	int rc;
	char g[200];
	name(g, sizeof g, s, "groups", "");
	g[strlen(g) - 1] = 0;
	const char *a2[3] = {"SISMEMBER", g, key};
	size_t l2[3] = {9, strlen(g), strlen(key)};
	if ((rc = sr_redis_cmd(&s->r, &x, 3, a2, l2)) ||
	    (rc = sr_redis_expect(&s->r, &x, REDIS_REPLY_INTEGER, "SISMEMBER")))
		return rc;
	rc = x->integer ? SIMREC_EKIND : SIMREC_ENOKEY;
	freeReplyObject(x);
	return rc;
}

static int rs_lookup(sr_store *st, const char *key, sr_meta *m, void **ds)
{
	rstore *s = S(st);
	int rc = ready(st);
	if (rc)
		return rc;
	char k[4200];
	name(k, sizeof k, s, "m", key);
	redisReply *x;
	const char *argv[2] = {"HGETALL", k};
	size_t lens[2] = {7, strlen(k)};
	if ((rc = sr_redis_cmd(&s->r, &x, 2, argv, lens)) ||
	    (rc = sr_redis_expect_strings(&s->r, &x, "HGETALL")))
		return rc == SIMREC_ESERVER
		               ? sr_wrap(st->err, rc,
		                         "reading the metadata of '%s'", key)
		               : rc;
	memset(m, 0, sizeof *m);
	meta_scan sc = {0, -1, -1, -1, (size_t)-1};
	int bad = meta_fields(x, m, &sc);
	freeReplyObject(x);
	if (sc.have && !bad)
		bad = meta_agrees(m, &sc);
	if (bad)
		return sr_fail(
		        st->err, SIMREC_EFORMAT,
		        "redis %s:%d: metadata '%s' of '%s' is malformed "
		        "(dtype, ndim, shape, chunks, value or rows)",
		        s->r.host, s->r.port, k, key);
	if (!sc.have)
		return group_or_missing(st, key);
	/* the extent: complete rows of every column list (a record_all step
	 * counts once all ranks pushed it) */
	if (m->kind == SR_RECORDS && m->ndim && sc.rows == (size_t)-1)
		m->shape[0] = 0;
	rds *d = rds_new(key);
	if (!d)
		return SIMREC_ENOMEM;
	*ds = d;
	return 0;
}

static int set_parents(sr_store *st, const char *key)
{
	rstore *s = S(st);
	char g[200];
	name(g, sizeof g, s, "groups", "");
	g[strlen(g) - 1] = 0;
	char *p = sr_key_parent(key);
	while (p && *p) {
		const char *argv[3] = {"SADD", g, p};
		size_t lens[3] = {4, strlen(g), strlen(p)};
		sr_redis_append(&s->r, 3, argv, lens);
		char *q = sr_key_parent(p);
		free(p);
		p = q;
	}
	free(p);
	return 0;
}

/* Queue (inside the caller's MULTI) the metadata of key, replacing
 * whatever was under it: the old metadata, element list 0 and its parts
 * go first, so a value's old element never outlives its metadata. */
static void queue_meta(sr_store *st, const char *key, const sr_meta *m,
                       int replace)
{
	rstore *s = S(st);
	char mk[4200], dk[4200], pk[4300], sh[512], ch[512], nd[16], keys[200];
	name(mk, sizeof mk, s, "m", key);
	snprintf(dk, sizeof dk, "%s:d:%s:0", s->prefix, key);
	snprintf(pk, sizeof pk, "%s:p:%s:0:0", s->prefix, key);
	fmt_sizes(sh, sizeof sh, m->ndim, m->shape);
	fmt_sizes(ch, sizeof ch, m->ndim, m->chunks);
	snprintf(nd, sizeof nd, "%d", m->ndim);
	name(keys, sizeof keys, s, "keys", "");
	keys[strlen(keys) - 1] = 0;
	const char *u[4] = {"UNLINK", mk, dk, pk};
	if (replace)
		sr_redis_append(
		        &s->r, 4, u,
		        (size_t[]){6, strlen(mk), strlen(dk), strlen(pk)});
	const char *dt = simrec_dtype_name(m->dtype);
	const char *a[12] = {
	        "HSET",   mk, "dtype", dt,
	        "shape",  sh, "ndim",  nd,
	        "chunks", ch, "value", m->kind != SR_RECORDS ? "1" : "0"};
	size_t l[12];
	for (int i = 0; i < 12; i++)
		l[i] = strlen(a[i]);
	sr_redis_append(&s->r, 12, a, l);
	const char *b[3] = {"SADD", keys, key};
	sr_redis_append(&s->r, 3, b, (size_t[]){4, strlen(keys), strlen(key)});
	set_parents(st, key);
}

static int rs_create(sr_store *st, const char *key, const sr_meta *m, void **ds)
{
	rstore *s = S(st);
	int rc = write_ready(st);
	if (rc)
		return rc;
	sr_meta old;
	void *h = NULL;
	rc = rs_lookup(st, key, &old, &h);
	rs_release(st, h);
	if (rc == SIMREC_EKIND)
		return sr_fail(st->err, rc, "'%s' is a group on %s:%d", key,
		               s->r.host, s->r.port);
	if (rc && rc != SIMREC_ENOKEY)
		return rc;
	/* no dataset may hold a child */
	for (char *p = sr_key_parent(key); p; p = NULL) {
		redisReply *x;
		int r2 = *p ? sr_redis_cmdf(&s->r, &x, "SISMEMBER %s:keys %s",
		                            s->prefix, p)
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
	rds *d = rds_new(key);
	if (!d)
		return SIMREC_ENOMEM;
	*ds = d;
	rc = 0;
	if (st->meta_writer && m->kind != SR_RECORDS) {
		/* written with its element (put_element): the old value
		 * stays whole until the new one replaces it at once */
		d->meta_pending = 1;
		d->replace = 1; /* also a value's stale parts of a lost run */
		d->meta = *m;
		if (!(d->lists = calloc(1, sizeof *d->lists)))
			return SIMREC_ENOMEM;
		d->nlists = 1; /* list 0, emptied by the same transaction */
	} else if (st->meta_writer) {
		sr_redis_append(&s->r, 1, (const char *[]){"MULTI"},
		                (size_t[]){5});
		queue_meta(st, key, m, replace);
		sr_redis_append(&s->r, 1, (const char *[]){"EXEC"},
		                (size_t[]){4});
		rc = sr_redis_drain(&s->r);
	}
	return rc;
}

/* Element count of the list holding columns from col0 (LLEN on first
 * use). */
static int list_of(sr_store *st, rds *d, size_t col0, rlist **out)
{
	for (size_t i = 0; i < d->nlists; i++)
		if (d->lists[i].col0 == col0) {
			*out = &d->lists[i];
			return 0;
		}
	rlist *n = realloc(d->lists, (d->nlists + 1) * sizeof *n);
	if (!n)
		return SIMREC_ENOMEM;
	d->lists = n;
	rstore *s = S(st);
	char lk[4200];
	snprintf(lk, sizeof lk, "%s:d:%s:%zu", s->prefix, d->key, col0);
	redisReply *x;
	int rc = sr_redis_cmdf(&s->r, &x, "LLEN %s", lk);
	if (!rc)
		rc = sr_redis_expect(&s->r, &x, REDIS_REPLY_INTEGER, "LLEN");
	if (rc)
		return rc;
	if (x->integer < 0) {
		freeReplyObject(x);
		return sr_fail(st->err, SIMREC_ESERVER, "redis: LLEN < 0");
	}
	n[d->nlists].col0 = col0;
	n[d->nlists].nelem = (size_t)x->integer;
	freeReplyObject(x);
	*out = &n[d->nlists++];
	return 0;
}

/* Queue one element (k-th of list col0) and the new row count, in one
 * MULTI/EXEC. hdr + payload form the value. */
static int put_element(sr_store *st, rds *d, size_t col0, size_t k, size_t rows,
                       size_t cols, const unsigned char *hdr, size_t hlen,
                       const void *payload, size_t plen)
{
	rstore *s = S(st);
	rlist *l = NULL;
	int rc = list_of(st, d, col0, &l);
	if (rc)
		return rc;
	char lk[4200], mk[4200], rf[48], rv[32], cv[32];
	snprintf(lk, sizeof lk, "%s:d:%s:%zu", s->prefix, d->key, col0);
	name(mk, sizeof mk, s, "m", d->key);
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
	sr_redis_append(&s->r, 1, (const char *[]){"MULTI"}, (size_t[]){5});
	if (d->meta_pending) { /* a value: its metadata in this transaction */
		queue_meta(st, d->key, &d->meta, d->replace);
		d->meta_pending = 0;
	}
	if (parts) {
		char pk[4300];
		snprintf(pk, sizeof pk, "%s:p:%s:%zu:%zu", s->prefix, d->key,
		         col0, k);
		sr_redis_append(&s->r, 2, (const char *[]){"DEL", pk},
		                (size_t[]){3, strlen(pk)});
		for (size_t off = 0; off < plen; off += PART_BYTES) {
			size_t n = plen - off < PART_BYTES ? plen - off
			                                   : PART_BYTES;
			const char *a[3] = {"RPUSH", pk,
			                    (const char *)payload + off};
			sr_redis_append(&s->r, 3, a,
			                (size_t[]){5, strlen(pk), n});
		}
	}
	size_t vlen = hlen + (parts ? 0 : plen);
	char kidx[32];
	snprintf(kidx, sizeof kidx, "%zu", k);
	if (k < l->nelem) {
		const char *a[4] = {"LSET", lk, kidx, s->tmp};
		sr_redis_append(&s->r, 4, a,
		                (size_t[]){4, strlen(lk), strlen(kidx), vlen});
	} else {
		const char *a[3] = {"RPUSH", lk, s->tmp};
		sr_redis_append(&s->r, 3, a, (size_t[]){5, strlen(lk), vlen});
		l->nelem = k + 1;
	}
	const char *a[6] = {"HSET", mk, rf, rv, "cols", cv};
	size_t al[6];
	for (int i = 0; i < 6; i++)
		al[i] = strlen(a[i]);
	sr_redis_append(&s->r, 6, a, al);
	sr_redis_append(&s->r, 1, (const char *[]){"EXEC"}, (size_t[]){4});
	snprintf(s->last_key, sizeof s->last_key, "%s", d->key);
	s->inflight += vlen + (parts ? plen : 0);
	if (s->inflight > INFLIGHT_BYTES) {
		s->inflight = 0;
		rc = sr_redis_drain(&s->r);
	}
	return rc;
}

/* Cut every column list of d to rows records (simrec_truncate, verify
 * --repair), in one transaction that lowers the row counts before the
 * elements past them go: no reader sees a count over missing elements.
 * The element holding row rows-1 keeps its extra rows (never read). */
static int cut_rows(sr_store *st, rds *d, const sr_meta *m, size_t rows)
{
	rstore *s = S(st);
	char mk[4200];
	name(mk, sizeof mk, s, "m", d->key);
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
		    parse_num(f + 5, 0, LLONG_MAX, &col) ||
		    parse_num(v, 0, LLONG_MAX, &old) || (size_t)old <= rows)
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

static int rs_write(sr_store *st, void *ds, const sr_meta *m,
                    const size_t *start, const size_t *count, const void *data)
{
	rstore *s = S(st);
	int rc = write_ready(st);
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
	rc = put_element(st, ds, col0, k, rows, cols, hdr, hlen, payload, plen);
	if (rc && rc != SIMREC_ENOMEM)
		sr_wrap(st->err, rc, "writing key '%s'", ((rds *)ds)->key);
	return rc;
}

static int rs_write_vlen(sr_store *st, void *ds, const sr_meta *m, size_t row0,
                         size_t n, const sr_blob *items)
{
	rstore *s = S(st);
	int rc = write_ready(st);
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
		rc = put_element(st, ds, 0, row0 / m->chunks[0], row0 + n, 1,
		                 hdr, sr_payload_header_size(1), payload, plen);
	free(enc);
	return rc;
}

/* A parts list (element values over PART_BYTES), fetched one part at a
 * time and bounded by what the header says the element holds. */
static int fetch_parts(sr_store *st, rds *d, size_t col0, size_t k,
                       const sr_payload *p, unsigned char **out, size_t *len)
{
	rstore *s = S(st);
	char pk[4300];
	snprintf(pk, sizeof pk, "%s:p:%s:%zu:%zu", s->prefix, d->key, col0, k);
	size_t max = (size_t)p->raw_bytes + (p->compressed ? 64 : 0), cap = 0;
	unsigned char *buf = NULL;
	*len = 0;
	int rc = 0;
	for (long i = 0; !rc; i++) {
		redisReply *y;
		if ((rc = sr_redis_cmdf(&s->r, &y, "LINDEX %s %ld", pk, i)))
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
			rc = sr_fail(
			        st->err, SIMREC_EFORMAT,
			        "redis %s:%d: parts of element %zu of '%s' "
			        "exceed the %zu bytes its header gives",
			        s->r.host, s->r.port, k, d->key, max);
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
	rstore *s = S(st);
	if (x->type != REDIS_REPLY_STRING ||
	    sr_payload_parse(x->str, x->len, p) || sr_payload_check(p, m))
		return sr_fail(st->err, SIMREC_EFORMAT,
		               "redis %s:%d: element %zu of '%s' is missing or "
		               "corrupt (its header does not match the "
		               "dataset's metadata)",
		               s->r.host, s->r.port, k, d->key);
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
		             "redis %s:%d: element %zu of '%s' is corrupt",
		             s->r.host, s->r.port, k, d->key);
	free(joined);
	*out = s->tmp;
	return rc;
}

/* LINDEX element k of list col0 and decode it into s->tmp. */
static int fetch(sr_store *st, rds *d, const sr_meta *m, size_t col0, size_t k,
                 sr_payload *p, const void **out)
{
	rstore *s = S(st);
	char lk[4200];
	snprintf(lk, sizeof lk, "%s:d:%s:%zu", s->prefix, d->key, col0);
	redisReply *x;
	int rc = sr_redis_cmdf(&s->r, &x, "LINDEX %s %llu", lk,
	                       (unsigned long long)k);
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
static int read_ready(sr_store *st)
{
	int rc = ready(st);
	return rc ? rc : rs_commit(st);
}

/* The metadata field 'cols' (columns per list; 1 when absent). */
static int read_cols(sr_store *st, rds *d, size_t *cols)
{
	rstore *s = S(st);
	char mk[4200];
	name(mk, sizeof mk, s, "m", d->key);
	redisReply *x;
	int rc;
	if ((rc = sr_redis_cmdf(&s->r, &x, "HGET %s cols", mk)))
		return rc;
	long long cl = 1;
	int badcols = x->type == REDIS_REPLY_STRING
	                      ? parse_num(x->str, 1,
	                                  (long long)(SR_SIZE_MAX >> 1), &cl)
	                      : x->type != REDIS_REPLY_NIL;
	freeReplyObject(x);
	if (badcols)
		return sr_fail(st->err, SIMREC_EFORMAT,
		               "redis %s:%d: field 'cols' of '%s' is malformed",
		               s->r.host, s->r.port, mk);
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
	rstore *s = S(st);
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
			               "redis %s:%d: element %zu of '%s' is "
			               "smaller than its metadata says",
			               s->r.host, s->r.port, k, d->key);
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

static int rs_read(sr_store *st, void *ds, const sr_meta *m,
                   const size_t *start, const size_t *count, void *buf)
{
	rds *d = ds;
	int rc = read_ready(st);
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

static int rs_read_vlen(sr_store *st, void *ds, const sr_meta *m, size_t index,
                        sr_blob *out)
{
	rds *d = ds;
	int rc = read_ready(st);
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

/* ---- attributes and listing -------------------------------------------- */

/* Is there a dataset under key (its metadata hash)? */
static int is_dataset(sr_store *st, const char *key, int *ds)
{
	rstore *s = S(st);
	char mk[4200];
	name(mk, sizeof mk, s, "m", key);
	redisReply *x = NULL;
	const char *argv[2] = {"EXISTS", mk};
	int rc = sr_redis_cmd(&s->r, &x, 2, argv, (size_t[]){6, strlen(mk)});
	if (!rc)
		rc = sr_redis_expect(&s->r, &x, REDIS_REPLY_INTEGER, "EXISTS");
	if (!rc)
		*ds = x->integer > 0;
	freeReplyObject(x);
	return rc;
}

/* The attribute, and the group its new key becomes, in one transaction. */
static int rs_attr_set(sr_store *st, const char *key, const char *nm,
                       const simrec_attr_t *a)
{
	rstore *s = S(st);
	int rc = write_ready(st), ds = 1;
	if (rc)
		return rc;
	json_t *o = json_object();
	rc = sr_attr_to_json(o, "v", a);
	char *text = rc ? NULL
	                : sr_attr_json_dump(json_object_get(o, "v"),
	                                    JSON_ENCODE_ANY);
	json_decref(o);
	if (!text)
		return rc ? rc : SIMREC_ENOMEM;
	/* an attribute on a new key makes it a group */
	if (*key && (rc = is_dataset(st, key, &ds))) {
		free(text);
		return rc;
	}
	char ak[4200], g[200];
	name(ak, sizeof ak, s, "a", key);
	name(g, sizeof g, s, "groups", "");
	g[strlen(g) - 1] = 0;
	sr_redis_append(&s->r, 1, (const char *[]){"MULTI"}, (size_t[]){5});
	const char *argv[4] = {"HSET", ak, nm, text};
	sr_redis_append(&s->r, 4, argv,
	                (size_t[]){4, strlen(ak), strlen(nm), strlen(text)});
	free(text);
	if (!ds) {
		const char *b[3] = {"SADD", g, key};
		sr_redis_append(&s->r, 3, b,
		                (size_t[]){4, strlen(g), strlen(key)});
		set_parents(st, key);
	}
	sr_redis_append(&s->r, 1, (const char *[]){"EXEC"}, (size_t[]){4});
	rc = sr_redis_drain(&s->r);
	return rc ? sr_wrap(st->err, rc, "attribute '%s' of '%s'", nm,
	                    *key ? key : "/")
	          : 0;
}

static int get_attrs(sr_store *st, const char *key, json_t **out)
{
	rstore *s = S(st);
	int rc = read_ready(st);
	if (rc)
		return rc;
	char ak[4200];
	name(ak, sizeof ak, s, "a", key);
	redisReply *x;
	const char *argv[2] = {"HGETALL", ak};
	if ((rc = sr_redis_cmd(&s->r, &x, 2, argv,
	                       (size_t[]){7, strlen(ak)})) ||
	    (rc = sr_redis_expect_strings(&s->r, &x, "HGETALL")))
		return rc;
	*out = json_object();
	for (size_t i = 0; i + 1 < x->elements; i += 2) {
		if (x->element[i]->type != REDIS_REPLY_STRING ||
		    x->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		/* NaN/Infinity/uint64 as in zarr's .zattrs */
		json_t *v = sr_attr_json_load(x->element[i + 1]->str,
		                              x->element[i + 1]->len, NULL);
		if (v)
			json_object_set_new(*out, x->element[i]->str, v);
	}
	freeReplyObject(x);
	return 0;
}

static int rs_attr_get(sr_store *st, const char *key, const char *nm,
                       simrec_attr_t *out)
{
	json_t *o = NULL;
	int rc = get_attrs(st, key, &o);
	if (!rc)
		rc = sr_attr_from_json(o, nm, out);
	json_decref(o);
	return rc;
}

static int rs_attr_list(sr_store *st, const char *key, sr_attr_fn fn, void *arg)
{
	json_t *o = NULL;
	int rc = get_attrs(st, key, &o);
	if (!rc)
		rc = sr_attr_json_list(o, fn, arg);
	json_decref(o);
	return rc;
}

typedef struct entry {
	char *key;
	int ds;
} entry;

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const entry *)a)->key, ((const entry *)b)->key);
}

static int rs_list(sr_store *st, const char *prefix, sr_list_fn fn, void *arg)
{
	rstore *s = S(st);
	int rc = read_ready(st);
	if (rc)
		return rc;
	redisReply *x[2];
	if ((rc = sr_redis_cmdf(&s->r, &x[0], "SMEMBERS %s:groups",
	                        s->prefix)) ||
	    (rc = sr_redis_expect_strings(&s->r, &x[0], "SMEMBERS")))
		return rc;
	if ((rc = sr_redis_cmdf(&s->r, &x[1], "SMEMBERS %s:keys", s->prefix)) ||
	    (rc = sr_redis_expect_strings(&s->r, &x[1], "SMEMBERS"))) {
		freeReplyObject(x[0]);
		return rc;
	}
	size_t n = x[0]->elements + x[1]->elements, m = 0;
	entry *e = calloc(n ? n : 1, sizeof *e);
	size_t pl = strlen(prefix);
	for (int t = 0; e && t < 2; t++)
		for (size_t i = 0; i < x[t]->elements; i++) {
			char *k = x[t]->element[i]->str;
			if (strncmp(k, prefix, pl) ||
			    (pl && k[pl] && k[pl] != '/'))
				continue;
			/* an index entry no writer could have made */
			if (!sr_key_valid(k) ||
			    strlen(k) != x[t]->element[i]->len) {
				rc = sr_fail(st->err, SIMREC_EFORMAT,
				             "redis prefix '%s': its key index "
				             "holds an invalid key",
				             s->prefix);
				break;
			}
			e[m].key = k;
			e[m++].ds = t;
		}
	if (e)
		qsort(e, m, sizeof *e, cmp_entry);
	for (size_t i = 0; e && i < m && !rc; i++)
		rc = fn(e[i].key, e[i].ds, arg);
	free(e);
	freeReplyObject(x[0]);
	freeReplyObject(x[1]);
	return rc;
}

static long long rs_disk_bytes(sr_store *st)
{
	SR_UNUSED(st);
	return -1;
}

const sr_store_ops sr_redis_ops = {
        .version = SR_STORE_OPS_VERSION,
        .scheme = "redis",
        .flags = SR_STORE_DISTRIBUTED,
        .lock_param = "prefix",
        .lock_param_default = "simrec",
        .default_codec = "none",
        .default_chunk_bytes = 1u << 20,
        .param_bit = SR_IN_REDIS,
        .open = rs_open,
        .close = rs_close,
        .commit = rs_commit,
        .lookup = rs_lookup,
        .create = rs_create,
        .write = rs_write,
        .write_vlen = rs_write_vlen,
        .read = rs_read,
        .read_vlen = rs_read_vlen,
        .release = rs_release,
        .attr_set = rs_attr_set,
        .attr_get = rs_attr_get,
        .attr_list = rs_attr_list,
        .list = rs_list,
        .disk_bytes = rs_disk_bytes,
};
