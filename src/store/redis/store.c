/* redis's store: key names, opening (the prefix checked, the lock
 * namespace refused), commit (replies of pipelined writes), close. */
#include <stdarg.h>
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

void rs_meta_key(char *buf, size_t cap, const rstore *s, const char *key)
{
	if (s->cl)
		snprintf(buf, cap, "%s:m:{%s:%s:0}", s->prefix, s->prefix, key);
	else
		rs_name(buf, cap, s, "m", key);
}

void rs_list_key(char *buf, size_t cap, const rstore *s, const char *key,
                 size_t col0)
{
	if (s->cl)
		snprintf(buf, cap, "%s:d:{%s:%s:%zu}", s->prefix, s->prefix,
		         key, col0);
	else
		snprintf(buf, cap, "%s:d:%s:%zu", s->prefix, key, col0);
}

void rs_part_key(char *buf, size_t cap, const rstore *s, const char *key,
                 size_t col0, size_t k)
{
	if (s->cl)
		snprintf(buf, cap, "%s:p:{%s:%s:%zu}:%zu", s->prefix, s->prefix,
		         key, col0, k);
	else
		snprintf(buf, cap, "%s:p:%s:%zu:%zu", s->prefix, key, col0, k);
}

void rs_rows_key(char *buf, size_t cap, const rstore *s, const char *key,
                 size_t col0)
{
	snprintf(buf, cap, "%s:r:{%s:%s:%zu}", s->prefix, s->prefix, key, col0);
}

sr_redis *rs_at(rstore *s, const char *key)
{
	if (!s->cl)
		return &s->r;
	sr_redis *r = sr_cluster_route(s->cl, key, strlen(key));
	s->at_rc = r ? sr_cluster_order(s->cl, r) : SIMREC_ESERVER;
	return s->at_rc ? NULL : r;
}

int rs_cmd(rstore *s, redisReply **out, int argc, const char **argv,
           const size_t *lens)
{
	return s->cl ? sr_cluster_cmd(s->cl, out, argc, argv, lens)
	             : sr_redis_cmd(&s->r, out, argc, argv, lens);
}

int rs_cmds(rstore *s, redisReply **out, const char *cmd, ...)
{
	const char *argv[8] = {cmd, ""};
	size_t lens[8] = {strlen(cmd), 0};
	int argc = 1;
	va_list ap;
	va_start(ap, cmd);
	for (const char *a; argc < 8 && (a = va_arg(ap, const char *));) {
		argv[argc] = a;
		lens[argc++] = strlen(a);
	}
	va_end(ap);
	*out = NULL;
	if (argc > 1 || !s->cl)
		return rs_cmd(s, out, argc, argv, lens);
	sr_redis *r = rs_at(s, ""); /* no key: any master */
	return r ? sr_redis_cmd(r, out, 1, argv, lens) : s->at_rc;
}

int rs_drain(rstore *s)
{
	return s->cl ? sr_cluster_drain(s->cl) : sr_redis_drain(&s->r);
}

int rs_down(const rstore *s)
{
	return s->cl ? sr_cluster_down(s->cl) : !s->r.c;
}

/* The server to name for a lost connection: the first master down. */
static sr_redis *lost_node(rstore *s)
{
	for (size_t i = 0; s->cl && i < s->cl->nnodes; i++)
		if (!s->cl->nodes[i]->r.c)
			return &s->cl->nodes[i]->r;
	return &s->r;
}

static int lost_fail(sr_store *st)
{
	sr_redis *r = lost_node(rs_of(st));
	return sr_fail(st->err, SIMREC_ECONN, "%s: connection lost",
	               sr_redis_where(r));
}

/* The connections: one server's, or the cluster's masters (the prefix
 * may not hold the braces of a hash tag there). */
static int connect_all(sr_store *st, rstore *s)
{
	if (!st->set.has_cluster || !st->set.cluster) {
		if (strchr(s->r.seeds, ','))
			return sr_fail(st->err, SIMREC_EURI,
			               "'%s': several hosts are the seeds of a "
			               "Redis Cluster: add ?cluster=1",
			               st->uri.name);
		return sr_redis_connect(&s->r);
	}
	if (strpbrk(s->prefix, "{}"))
		return sr_fail(st->err, SIMREC_EURI,
		               "redis prefix '%s': a cluster's prefix holds no "
		               "'{' or '}' (hash tags)",
		               s->prefix);
	if (!(s->cl = calloc(1, sizeof *s->cl)))
		return SIMREC_ENOMEM;
	return sr_cluster_open(s->cl, &s->r);
}

static void disconnect_all(rstore *s)
{
	sr_redis_close(&s->r);
	if (s->cl)
		sr_cluster_close(s->cl);
	free(s->cl);
	s->cl = NULL;
}

static int reconnect_all(rstore *s)
{
	return s->cl ? sr_cluster_reconnect(s->cl) : sr_redis_reconnect(&s->r);
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
	int rc = rs_cmd(s, &x, 2, a1, l1);
	*held = !rc && x->type == REDIS_REPLY_INTEGER && x->integer > 0;
	freeReplyObject(x);
	x = NULL;
	if (rc || *held)
		return rc;
	/* leases are scored in the server's milliseconds */
	rc = rs_cmds(s, &x, "TIME", NULL);
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
	rc = rs_cmd(s, &x, 4, a2, l2);
	*held = !rc && x->type == REDIS_REPLY_INTEGER && x->integer > 0;
	freeReplyObject(x);
	return rc;
}

/* UNLINK every key of one server matching pat (SCAN). */
static int wipe_server(sr_store *st, sr_redis *r, const char *pat)
{
	char keep[200];
	rs_writer_key(keep, sizeof keep, rs_of(st));
	char cursor[32] = "0";
	/* bounded: 2^22 rounds of COUNT 1000 cover any real database; a
	 * server that never returns cursor 0 cannot keep us here */
	long rounds = 0;
	do {
		redisReply *x;
		const char *scan[6] = {"SCAN", cursor,  "MATCH",
		                       pat,    "COUNT", "1000"};
		size_t slen[6] = {4, strlen(cursor), 5, strlen(pat), 5, 4};
		int rc = sr_redis_cmd(r, &x, 6, scan, slen);
		if (!rc)
			rc = sr_redis_expect(r, &x, REDIS_REPLY_ARRAY, "SCAN");
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
			               "%s: malformed or endless SCAN "
			               "reply while clearing '%s'",
			               sr_redis_where(r), pat);
		}
		snprintf(cursor, sizeof cursor, "%s", x->element[0]->str);
		for (size_t i = 0; i < keys->elements; i++) {
			if (!strcmp(keys->element[i]->str, keep))
				continue; /* this writer's P:writer */
			const char *argv[2] = {"UNLINK", keys->element[i]->str};
			size_t lens[2] = {6, keys->element[i]->len};
			sr_redis_append(r, 2, argv, lens);
		}
		freeReplyObject(x);
		if ((rc = sr_redis_drain(r)))
			return rc;
	} while (strcmp(cursor, "0"));
	return 0;
}

static int wipe_prefix(sr_store *st)
{
	rstore *s = rs_of(st);
	char pat[300];
	match_pattern(pat, sizeof pat, s->prefix);
	/* the store's markers first (one a command: a cluster holds them
	 * in three slots): a reader meanwhile finds no store rather than
	 * one losing its keys */
	int rc = 0;
	for (int i = 0; i < 3 && !rc; i++) {
		static const char *const kind[3] = {"root", "keys", "groups"};
		char k[200];
		redisReply *x;
		snprintf(k, sizeof k, "%s:%s", s->prefix, kind[i]);
		rc = rs_cmds(s, &x, "UNLINK", k, NULL);
		freeReplyObject(x);
	}
	if (!s->cl)
		return rc ? rc : wipe_server(st, &s->r, pat);
	for (size_t i = 0; i < s->cl->nnodes && !rc; i++)
		rc = wipe_server(st, &s->cl->nodes[i]->r, pat);
	return rc;
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
		char root[200];
		snprintf(root, sizeof root, "%s:root", s->prefix);
		rc = rs_cmds(s, &x, "SET", root, "simrec", NULL);
		if (!rc)
			rc = sr_redis_expect(&s->r, &x, REDIS_REPLY_STATUS,
			                     "SET");
		freeReplyObject(x);
		return rc;
	}
	long long found = 0;
	rc = 0;
	for (int i = 0; i < 3 && !rc; i++) { /* one key a command: slots */
		static const char *const kind[3] = {"root", "keys", "groups"};
		char k[200];
		snprintf(k, sizeof k, "%s:%s", s->prefix, kind[i]);
		freeReplyObject(x);
		rc = rs_cmds(s, &x, "EXISTS", k, NULL);
		if (!rc)
			rc = sr_redis_expect(&s->r, &x, REDIS_REPLY_INTEGER,
			                     "EXISTS");
		if (!rc)
			found += x->integer > 0;
	}
	if (!rc && found <= 0)
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
	/* two runs on one server differ by their prefix: every message of
	 * this store's connections names it, when the URI sets one */
	if (st->set.has_prefix)
		snprintf(s->r.tag, sizeof s->r.tag, "prefix '%s'", s->prefix);
	if (!rc)
		rc = connect_all(st, s);
	st->impl = s;
	if (!rc)
		rc = rs_writer_take(st);
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
		rs_writer_drop(st); /* only if this open set it */
		disconnect_all(s);
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
static int publish(rstore *s)
{
	char ch[160];
	rs_notify_channel(ch, sizeof ch, s);
	const char *argv[3] = {"PUBLISH", ch, "1"};
	size_t lens[3] = {7, strlen(ch), 1};
	/* a cluster passes a message on to every node: any master will do,
	 * once every other master acknowledged what it announces */
	sr_redis *r = rs_at(s, ch);
	if (r)
		sr_redis_append(r, 3, argv, lens);
	return r ? 0 : s->at_rc;
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
	int rc = 0;
	if (s->unacked && !rs_down(s) && st->mode != SIMREC_MODE_READONLY)
		rc = publish(s);
	int rc2 = rs_drain(s);
	rc = rc ? rc : rc2;
	if (s->unacked && rs_down(s))
		s->lost = 1;
	if (!rc && s->lost)
		rc = lost_fail(st);
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
	if (rc && (rc == SIMREC_ECONN || rs_down(s)) && s->r.reconnects) {
		/* for the next call; this one reported the loss */
		sr_err keep = *st->err;
		if (!reconnect_all(s))
			s->lost = s->unacked = 0;
		s->conns++;
		*st->err = keep;
	}
	return rc;
}

int rs_close(sr_store *st)
{
	rstore *s = rs_of(st);
	int rc = rs_commit(st);
	int rc2 = rc ? 0 : rs_writer_drop(st);
	rc = rc ? rc : rc2;
	disconnect_all(s);
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
	int down = rs_down(s);
	if (down && s->unacked)
		s->lost = 1;
	if (down && !s->r.reconnects)
		return lost_fail(st);
	if (down)
		s->conns++;
	return down ? reconnect_all(s) : 0;
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
	if (!strcmp(kind, "m"))
		rs_meta_key(k, sizeof k, s, key);
	else
		rs_name(k, sizeof k, s, kind, key);
	const char *argv[2] = {"HGETALL", k};
	size_t lens[2] = {7, strlen(k)};
	int rc = rs_cmd(s, x, 2, argv, lens);
	return rc ? rc : sr_redis_expect_strings(&s->r, x, "HGETALL");
}
