/* redis's store: key names, opening (the prefix checked, the lock
 * namespace refused), commit (replies of pipelined writes), close. */
#include <string.h>

#include "rstore.h"

rstore *rs_of(sr_store *st)
{
	return st->impl;
}

/* "P:m:key" etc. */
void rs_name(char *buf, size_t cap, const rstore *s, const char *kind,
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
	rstore *s = rs_of(st);
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
	rstore *s = rs_of(st);
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
	rstore *s = rs_of(st);
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

int rs_open(sr_store *st)
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

void rs_notify_channel(char *buf, size_t cap, const rstore *s)
{
	snprintf(buf, cap, "%s:notify", s->prefix);
}

/* Followers wake (notify.c): PUBLISH after the writes it announces, its
 * reply read with theirs. */
static void publish(rstore *s)
{
	char ch[160];
	rs_notify_channel(ch, sizeof ch, s);
	const char *argv[3] = {"PUBLISH", ch, "1"};
	size_t lens[3] = {7, strlen(ch), 1};
	sr_redis_append(&s->r, 3, argv, lens);
}

/* Every write since the last acknowledged commit acknowledged now? A
 * connection lost while it carried unacknowledged writes fails the
 * commit (even when those writes already failed their own call, and
 * with the connection known dead): nothing claims durability it cannot
 * have. With nothing written since, a dead server is no failure of the
 * commit (the next read or write meets it). */
int rs_commit(sr_store *st)
{
	rstore *s = rs_of(st);
	s->inflight = 0;
	if (s->unacked && s->r.c && st->mode != SIMREC_MODE_READONLY)
		publish(s);
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

int rs_close(sr_store *st)
{
	rstore *s = rs_of(st);
	int rc = rs_commit(st);
	sr_redis_close(&s->r);
	sr_redis_close(&s->sub);
	free(s->cbuf);
	free(s->tmp);
	free(s);
	return rc;
}

/* Before a new operation: a lost connection is re-established if the
 * URI asked for reconnect=N (the writes it carried stay reported as
 * lost to the next commit). */
int rs_ready(sr_store *st)
{
	rstore *s = rs_of(st);
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
int rs_write_ready(sr_store *st)
{
	int rc = rs_ready(st);
	rs_of(st)->unacked = 1;
	return rc;
}

int rs_hgetall(rstore *s, const char *kind, const char *key, redisReply **x)
{
	char k[4200];
	rs_name(k, sizeof k, s, kind, key);
	const char *argv[2] = {"HGETALL", k};
	size_t lens[2] = {7, strlen(k)};
	int rc = sr_redis_cmd(&s->r, x, 2, argv, lens);
	return rc ? rc : sr_redis_expect_strings(&s->r, x, "HGETALL");
}
