#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/env.h"
#include "conn.h"

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

/* Percent-decode n bytes of s into out (cap bytes); -1 on a bad escape,
 * white space, a NUL, or no room. */
static int decode(char *out, size_t cap, const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
			if (a < 0 || b < 0 || (a == 0 && b == 0))
				return -1;
			c = a * 16 + b;
			i += 2;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			return -1;
		}
		if (k + 1 >= cap)
			return -1;
		out[k++] = (char)c;
	}
	out[k] = 0;
	return 0;
}

/* A non-negative int (sr_parse_count, at most INT_MAX); -1 if not. */
static int checked_int(const char *v, int *out)
{
	long x;
	if (sr_parse_count(v, &x) || x > INT_MAX)
		return -1;
	*out = (int)x;
	return 0;
}

/* The URI parameters user, timeout and reconnect (store/settings.h
 * declares them; checked as it says: the lock's URI is not a store's). */
static int redis_params(sr_redis *r, const sr_uri *u, sr_err *e)
{
	const char *v;
	if ((v = sr_uri_param(u, "user")) &&
	    snprintf(r->user, sizeof r->user, "%s", v) >= (int)sizeof r->user)
		return sr_fail(e, SIMREC_EURI,
		               "'%s': user= is too long (at most %zu bytes)",
		               u->path, sizeof r->user - 1);
	const char *bad = NULL, *want = NULL;
	if ((v = sr_uri_param(u, "timeout")) &&
	    sr_parse_seconds(v, &r->timeout))
		bad = "timeout", want = "a positive number of seconds";
	else if ((v = sr_uri_param(u, "reconnect")) &&
	         checked_int(v, &r->reconnects))
		bad = "reconnect", want = "a non-negative integer";
	if (bad)
		return sr_fail(e, SIMREC_EURI,
		               "'%s': bad value '%s' for '%s' (%s)", u->path, v,
		               bad, want);
	return 0;
}

const char *sr_redis_where(sr_redis *r)
{
	snprintf(r->where, sizeof r->where, "redis %s:%d%s%s", r->host, r->port,
	         r->tag[0] ? " " : "", r->tag);
	return r->where;
}

int sr_redis_parse(sr_redis *r, const sr_uri *u, sr_err *e)
{
	memset(r, 0, sizeof *r);
	r->err = e;
	r->port = 6379;
	r->timeout = 10;
	r->max_reply = SR_REDIS_MAX_BULK + ((size_t)1 << 20);
	const char *s = u->path;
	if (strncmp(s, "redis://", 8))
		return sr_fail(e, SIMREC_EURI, "'%s' is not a redis:// URI", s);
	s += 8;
	/* the userinfo ends at the last '@' before the query (as
	 * simrec_uri_masked sees it); user and password are percent-encoded */
	const char *at = NULL;
	for (const char *c = s; *c && *c != '?'; c++)
		if (*c == '@')
			at = c;
	if (at) {
		const char *colon = memchr(s, ':', (size_t)(at - s));
		const char *pw = colon ? colon + 1 : s;
		if ((colon &&
		     decode(r->user, sizeof r->user, s, (size_t)(colon - s))) ||
		    decode(r->password, sizeof r->password, pw,
		           (size_t)(at - pw)))
			return sr_fail(e, SIMREC_EURI,
			               "'%s': bad user or password (too long, "
			               "a bad %%XX escape, or white space)",
			               u->path);
		s = at + 1;
	}
	char hostport[300];
	size_t hl = strcspn(s, "/");
	if (hl >= sizeof hostport)
		return sr_fail(e, SIMREC_EURI,
		               "'%s': the host list is longer than %zu bytes",
		               u->path, sizeof hostport - 1);
	snprintf(hostport, sizeof hostport, "%.*s", (int)hl, s);
	if (s[hl] == '/' && s[hl + 1] && checked_int(s + hl + 1, &r->db))
		return sr_fail(e, SIMREC_EURI,
		               "'%s': the database number is not a "
		               "non-negative integer",
		               u->path);
	if (!hostport[0]) {
		const char *env = sr_env(SR_ENV_SIMREC_REDIS_HOST);
		if (!env || !*env)
			return sr_fail(
			        e, SIMREC_EURI,
			        "'%s' names no host and SIMREC_REDIS_HOST is "
			        "not set",
			        u->path);
		snprintf(hostport, sizeof hostport, "%s", env);
	}
	snprintf(r->seeds, sizeof r->seeds, "%s", hostport);
	hostport[strcspn(hostport, ",")] = 0; /* the first seed */
	char *colon = strrchr(hostport, ':');
	if (colon) {
		*colon = 0;
		if (checked_int(colon + 1, &r->port))
			r->port = -1; /* refused below */
	}
	snprintf(r->host, sizeof r->host, "%s", hostport);
	const char *v;
	if ((v = sr_uri_param(u, "password")) &&
	    decode(r->password, sizeof r->password, v, strlen(v)))
		return sr_fail(e, SIMREC_EURI,
		               "'%s': bad password= (too long, a bad %%XX "
		               "escape, or white space)",
		               u->path);
	if (!r->password[0] && (v = sr_env(SR_ENV_SIMREC_REDIS_PASSWORD)) &&
	    snprintf(r->password, sizeof r->password, "%s", v) >=
	            (int)sizeof r->password)
		return sr_fail(e, SIMREC_EURI,
		               "SIMREC_REDIS_PASSWORD is too long (at most %zu "
		               "bytes)",
		               sizeof r->password - 1);
	int rc = redis_params(r, u, e);
	if (rc)
		return rc;
	/* a lower bound on replies, for small-memory readers (and tests) */
	if ((v = sr_env(SR_ENV_SIMREC_REDIS_MAX_REPLY)) && *v) {
		char *end;
		unsigned long long m = strtoull(v, &end, 10);
		if (*end || !m || m > r->max_reply)
			return sr_fail(
			        e, SIMREC_ECONFIG,
			        "SIMREC_REDIS_MAX_REPLY=%s: give 1 .. %zu "
			        "bytes",
			        v, r->max_reply);
		r->max_reply = (size_t)m;
	}
	if (r->port <= 0 || r->port > 65535 || !r->host[0] || r->timeout <= 0)
		return sr_fail(e, SIMREC_EURI, "bad redis URI '%s'", u->path);
	return 0;
}

static int conn_fail(sr_redis *r, const char *what)
{
	return sr_fail(
	        r->err, SIMREC_ECONN, "%s: %s: %s", sr_redis_where(r), what,
	        r->c && r->c->errstr[0] ? r->c->errstr : "no connection");
}

/* Bounds on what a server may send (hiredis 0.14 has no maxbulklen /
 * maxelements): one bulk string at most SR_REDIS_MAX_BULK bytes, one
 * array at most SR_REDIS_MAX_ELEMENTS entries, and a reply is read only
 * while the reader's buffer stays below SR_REDIS_MAX_BULK plus a margin.
 * A reply past them fails as a protocol error instead of filling memory. */
static redisReplyObjectFunctions *default_fns;

/* Every object of a reply is charged what it costs (its struct, its
 * slot in the array above, its bytes) against max_reply: ten million
 * empty array elements are refused as surely as one big string. */
static int charge(const redisReadTask *t, size_t bytes)
{
	sr_redis *r = t->privdata; /* the reader's privdata */
	size_t max = r ? r->max_reply : SR_REDIS_MAX_BULK;
	size_t *used = r ? &r->charged : NULL;
	size_t cost = bytes + sizeof(redisReply) + sizeof(void *);
	if (cost < bytes || (used && (*used > max || cost > max - *used)) ||
	    cost > max)
		return -1;
	if (used)
		*used += cost;
	return 0;
}

static void *bounded_string(const redisReadTask *t, char *s, size_t len)
{
	return charge(t, len) ? NULL : default_fns->createString(t, s, len);
}

static void *bounded_array(const redisReadTask *t, int n)
{
	return n < 0 || (size_t)n > SR_REDIS_MAX_ELEMENTS ||
	                       charge(t, (size_t)n * sizeof(void *))
	               ? NULL
	               : default_fns->createArray(t, n);
}

static void *pass_integer(const redisReadTask *t, long long v)
{
	return charge(t, 0) ? NULL : default_fns->createInteger(t, v);
}

static void *pass_nil(const redisReadTask *t)
{
	return charge(t, 0) ? NULL : default_fns->createNil(t);
}

static void pass_free(void *o)
{
	default_fns->freeObject(o);
}

static redisReplyObjectFunctions bounded_fns = {
        bounded_string, bounded_array, pass_integer, pass_nil, pass_free};

static void bound_reader(redisContext *c, sr_redis *r)
{
	c->reader->privdata = r;
	if (!default_fns) /* the same table for every context */
		default_fns = c->reader->fn;
	if (c->reader->fn == default_fns)
		c->reader->fn = &bounded_fns;
}

/* A write to a socket whose peer is gone raises SIGPIPE, whose default
 * action ends the process (an MPI rank "exited on signal 13"). A library
 * must not change the process's dispositions, so SIGPIPE is blocked in
 * the calling thread around every hiredis call that may write: the write
 * then fails with EPIPE, a lost connection (SIMREC_ECONN). Before the
 * mask is restored, a SIGPIPE our write left pending is consumed; one
 * already pending before (the caller's own) is left alone. */
typedef struct pipe_guard {
	sigset_t old;
	int was_pending;
} pipe_guard;

static void sigpipe_set(sigset_t *s)
{
	sigemptyset(s);
	sigaddset(s, SIGPIPE);
}

static void pipe_block(pipe_guard *g)
{
	sigset_t s, pend;
	sigpipe_set(&s);
	g->was_pending = sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &s, &g->old);
}

static void pipe_unblock(const pipe_guard *g)
{
	int saved = errno;
	sigset_t s, pend;
	sigpipe_set(&s);
	if (!g->was_pending && sigpending(&pend) == 0 &&
	    sigismember(&pend, SIGPIPE)) {
		const struct timespec zero = {0, 0};
		while (sigtimedwait(&s, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
	errno = saved;
}

/* redisGetReply with the reader's buffer bounded. Every write of the
 * pipeline to the socket happens here (hiredis's append calls only
 * buffer; connect and free do not write). */
static int get_reply(redisContext *c, size_t max, void **rep)
{
	*rep = NULL;
	sr_redis *r = c->reader->privdata;
	if (r)
		r->charged = 0;
	if (redisGetReplyFromReader(c, rep) != REDIS_OK)
		return REDIS_ERR;
	if (*rep)
		return REDIS_OK;
	int done = 0, ok = REDIS_OK;
	pipe_guard g;
	pipe_block(&g);
	do
		ok = redisBufferWrite(c, &done);
	while (ok == REDIS_OK && !done);
	pipe_unblock(&g);
	if (ok != REDIS_OK)
		return REDIS_ERR;
	do {
		if (redisBufferRead(c) != REDIS_OK ||
		    redisGetReplyFromReader(c, rep) != REDIS_OK)
			return REDIS_ERR;
		if (!*rep && c->reader->len - c->reader->pos > max) {
			snprintf(c->errstr, sizeof c->errstr,
			         "reply larger than %zu bytes", max);
			c->err = REDIS_ERR_PROTOCOL;
			return REDIS_ERR;
		}
	} while (!*rep);
	return REDIS_OK;
}

int sr_redis_expect(sr_redis *r, redisReply **x, int type, const char *what)
{
	int ok = *x && (*x)->type == type;
	if (ok && type == REDIS_REPLY_ARRAY)
		for (size_t i = 0; i < (*x)->elements; i++)
			ok &= (*x)->element[i] != NULL;
	if (ok)
		return 0;
	int got = *x ? (*x)->type : -1;
	freeReplyObject(*x);
	*x = NULL;
	return sr_fail(r->err, SIMREC_ESERVER,
	               "%s: unexpected reply (type %d, expected %d) "
	               "to %s",
	               sr_redis_where(r), got, type, what);
}

int sr_redis_expect_strings(sr_redis *r, redisReply **x, const char *what)
{
	int rc = sr_redis_expect(r, x, REDIS_REPLY_ARRAY, what);
	for (size_t i = 0; !rc && i < (*x)->elements; i++)
		if ((*x)->element[i]->type != REDIS_REPLY_STRING) {
			freeReplyObject(*x);
			*x = NULL;
			rc = sr_fail(r->err, SIMREC_ESERVER,
			             "%s: unexpected reply to %s (an "
			             "array holding a non-string)",
			             sr_redis_where(r), what);
		}
	return rc;
}

int sr_redis_connect(sr_redis *r)
{
	struct timeval tv = {
	        (time_t)r->timeout,
	        (suseconds_t)((r->timeout - (double)(time_t)r->timeout) * 1e6)};
	r->pending = 0;
	r->c = redisConnectWithTimeout(r->host, r->port, tv);
	if (!r->c || r->c->err) {
		int rc = conn_fail(r, "cannot connect");
		sr_redis_close(r);
		return rc;
	}
	redisSetTimeout(r->c, tv);
	bound_reader(r->c, r);
	redisReply *rep = NULL;
	int rc = 0;
	if (r->password[0])
		rc = r->user[0]
		             ? sr_redis_cmdf(r, &rep, "AUTH %s %s", r->user,
		                             r->password)
		             : sr_redis_cmdf(r, &rep, "AUTH %s", r->password);
	if (rc == SIMREC_ESERVER)
		rc = sr_fail(r->err, SIMREC_ESERVER,
		             "%s: wrong password%s (the server refused "
		             "AUTH)",
		             sr_redis_where(r), r->user[0] ? " or user" : "");
	freeReplyObject(rep);
	rep = NULL;
	if (!rc && r->db)
		rc = sr_redis_cmdf(r, &rep, "SELECT %d", r->db);
	else if (!rc && !r->password[0]) /* a missing password shows here */
		rc = sr_redis_cmdf(r, &rep, "PING");
	freeReplyObject(rep);
	if (rc)
		sr_redis_close(r);
	return rc;
}

void sr_redis_close(sr_redis *r)
{
	if (r->c)
		redisFree(r->c);
	r->c = NULL;
	r->pending = 0;
}

int sr_redis_append(sr_redis *r, int argc, const char **argv,
                    const size_t *lens)
{
	if (!r->c)
		return conn_fail(r, "not connected");
	if (redisAppendCommandArgv(r->c, argc, argv, lens) != REDIS_OK)
		return sr_fail(r->err, SIMREC_ENOMEM, "redis: out of memory");
	r->pending++;
	return 0;
}

int sr_redis_reply(sr_redis *r, redisReply **out)
{
	*out = NULL;
	if (!r->c)
		return conn_fail(r, "not connected");
	void *rep = NULL;
	if (get_reply(r->c, r->max_reply, &rep) != REDIS_OK || !rep) {
		/* a malformed or oversized reply: the stream cannot be
		 * resynchronised, so the connection is dropped too */
		int bad = r->c->err == REDIS_ERR_PROTOCOL ||
		          r->c->err == REDIS_ERR_OOM;
		/* hiredis reports a socket timeout as EAGAIN's text */
		int late = r->c->err == REDIS_ERR_IO &&
		           (!strcmp(r->c->errstr, strerror(EAGAIN)) ||
		            !strcmp(r->c->errstr, strerror(ETIMEDOUT)));
		int rc = bad    ? sr_fail(r->err, SIMREC_EFORMAT,
		                          "%s: malformed reply or one "
		                             "over %zu bytes: %s",
		                          sr_redis_where(r), r->max_reply,
		                          r->c->errstr)
		         : late ? sr_fail(r->err, SIMREC_ECONN,
		                          "%s: timed out after %g s "
		                          "(no reply; the URI's ?timeout= sets "
		                          "it)",
		                          sr_redis_where(r), r->timeout)
		                : conn_fail(r, "connection lost");
		sr_redis_close(r);
		return rc;
	}
	r->pending--;
	redisReply *x = rep;
	if (x->type == REDIS_REPLY_ERROR && !strncmp(x->str, "NOAUTH", 6)) {
		freeReplyObject(x);
		return sr_fail(r->err, SIMREC_ESERVER,
		               "%s: authentication required (give the "
		               "password in the URI, before the host or as its "
		               "password parameter, or in "
		               "SIMREC_REDIS_PASSWORD)",
		               sr_redis_where(r));
	}
	if (x->type == REDIS_REPLY_ERROR &&
	    (!strncmp(x->str, "MOVED ", 6) || !strncmp(x->str, "ASK ", 4)))
		snprintf(r->redirect, sizeof r->redirect, "%.*s",
		         (int)(x->len < 299 ? x->len : 299), x->str);
	if (x->type == REDIS_REPLY_ERROR) {
		int rc = sr_fail(r->err, SIMREC_ESERVER, "%s: %s",
		                 sr_redis_where(r), x->str);
		freeReplyObject(x);
		return rc;
	}
	*out = x;
	return 0;
}

int sr_redis_drain(sr_redis *r)
{
	int rc = 0;
	while (r->pending && r->c) {
		redisReply *x;
		int e = sr_redis_reply(r, &x);
		/* an EXEC's reply: a command of the transaction that failed
		 * (redis runs the others) is this drain's failure too */
		for (size_t i = 0;
		     !e && x && x->type == REDIS_REPLY_ARRAY && i < x->elements;
		     i++)
			if (x->element[i] &&
			    x->element[i]->type == REDIS_REPLY_ERROR)
				e = sr_fail(r->err, SIMREC_ESERVER,
				            "%s: a command of a "
				            "transaction failed: %.200s",
				            sr_redis_where(r),
				            x->element[i]->str);
		freeReplyObject(x);
		if (e && !rc)
			rc = e;
		if (e == SIMREC_ECONN)
			break;
	}
	return rc;
}

int sr_redis_cmd(sr_redis *r, redisReply **out, int argc, const char **argv,
                 const size_t *lens)
{
	*out = NULL; /* callers may free it whatever happened */
	int rc = sr_redis_drain(r);
	if (!rc)
		rc = sr_redis_append(r, argc, argv, lens);
	if (!rc)
		rc = sr_redis_reply(r, out);
	return rc;
}

int sr_redis_cmdf(sr_redis *r, redisReply **out, const char *fmt, ...)
{
	*out = NULL;
	int rc = sr_redis_drain(r);
	if (rc)
		return rc;
	if (!r->c)
		return conn_fail(r, "not connected");
	va_list ap;
	va_start(ap, fmt);
	int ok = redisvAppendCommand(r->c, fmt, ap);
	va_end(ap);
	if (ok != REDIS_OK)
		return sr_fail(r->err, SIMREC_ENOMEM, "redis: out of memory");
	r->pending++;
	return sr_redis_reply(r, out);
}

int sr_redis_lost(const sr_redis *r, int status)
{
	return status == SIMREC_ECONN || !r->c;
}

int sr_redis_reconnect(sr_redis *r)
{
	int rc = SIMREC_ECONN;
	for (int i = 0; i < r->reconnects; i++) {
		sr_redis_close(r);
		struct timespec ts = {0, 100000000L << (i < 4 ? i : 4)};
		nanosleep(&ts, NULL);
		if (!(rc = sr_redis_connect(r)))
			return 0;
	}
	if (r->reconnects == 0)
		rc = conn_fail(r, "connection lost");
	return rc;
}

int sr_redis_subscribe(sr_redis *r, const char *channel)
{
	const char *argv[2] = {"SUBSCRIBE", channel};
	size_t lens[2] = {9, strlen(channel)};
	redisReply *x = NULL;
	int rc = sr_redis_cmd(r, &x, 2, argv, lens);
	if (!rc)
		rc = sr_redis_expect(r, &x, REDIS_REPLY_ARRAY, "SUBSCRIBE");
	freeReplyObject(x);
	return rc;
}

/* The messages already read into hiredis's buffer, discarded. */
static int take_pushed(sr_redis *r, int *got)
{
	for (;;) {
		void *rep = NULL;
		r->charged = 0;
		if (redisGetReplyFromReader(r->c, &rep) != REDIS_OK)
			return REDIS_ERR;
		if (!rep)
			break;
		freeReplyObject(rep);
		(*got)++;
	}
	return r->c->reader->len - r->c->reader->pos > r->max_reply ? REDIS_ERR
	                                                            : REDIS_OK;
}

int sr_redis_wait_push(sr_redis *r, double seconds, int *got)
{
	*got = 0;
	if (!r->c)
		return conn_fail(r, "not connected");
	int ok = take_pushed(r, got);
	if (ok == REDIS_OK && !*got) {
		int ms = seconds <= 0     ? 0
		         : seconds > 3600 ? 3600000
		                          : (int)(seconds * 1e3 + 0.5);
		struct pollfd p = {.fd = r->c->fd, .events = POLLIN};
		int n;
		while ((n = poll(&p, 1, ms)) < 0 && errno == EINTR)
			;
		if (n > 0)
			ok = redisBufferRead(r->c) == REDIS_OK
			             ? take_pushed(r, got)
			             : REDIS_ERR;
	}
	if (ok == REDIS_OK)
		return 0;
	int rc = r->c->err == REDIS_ERR_PROTOCOL || r->c->err == REDIS_ERR_OOM
	                 ? sr_fail(r->err, SIMREC_EFORMAT,
	                           "%s: malformed message", sr_redis_where(r))
	                 : conn_fail(r, "connection lost");
	sr_redis_close(r);
	return rc;
}
