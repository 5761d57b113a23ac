#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"

int sr_redis_parse(sr_redis *r, const sr_uri *u, sr_err *e)
{
	memset(r, 0, sizeof *r);
	r->err = e;
	r->port = 6379;
	r->timeout = 10;
	const char *s = u->path;
	if (strncmp(s, "redis://", 8))
		return sr_fail(e, SIMREC_EURI, "'%s' is not a redis:// URI", s);
	s += 8;
	const char *at = strchr(s, '@');
	if (at) {
		const char *colon = memchr(s, ':', (size_t)(at - s));
		if (colon) {
			snprintf(r->user, sizeof r->user, "%.*s",
			         (int)(colon - s), s);
			snprintf(r->password, sizeof r->password, "%.*s",
			         (int)(at - colon - 1), colon + 1);
		} else {
			snprintf(r->password, sizeof r->password, "%.*s",
			         (int)(at - s), s);
		}
		s = at + 1;
	}
	char hostport[300];
	size_t hl = strcspn(s, "/");
	snprintf(hostport, sizeof hostport, "%.*s", (int)hl, s);
	if (s[hl] == '/' && s[hl + 1])
		r->db = atoi(s + hl + 1);
	if (!hostport[0]) {
		const char *env = getenv("SIMREC_REDIS_HOST");
		if (!env || !*env)
			return sr_fail(
			        e, SIMREC_EURI,
			        "'%s' names no host and SIMREC_REDIS_HOST is "
			        "not set",
			        u->path);
		snprintf(hostport, sizeof hostport, "%s", env);
	}
	char *colon = strrchr(hostport, ':');
	if (colon) {
		*colon = 0;
		r->port = atoi(colon + 1);
	}
	snprintf(r->host, sizeof r->host, "%s", hostport);
	const char *v;
	if ((v = sr_uri_param(u, "password")))
		snprintf(r->password, sizeof r->password, "%s", v);
	if ((v = sr_uri_param(u, "user")))
		snprintf(r->user, sizeof r->user, "%s", v);
	if ((v = sr_uri_param(u, "timeout")))
		r->timeout = atof(v);
	if ((v = sr_uri_param(u, "reconnect")))
		r->reconnects = atoi(v);
	if (r->port <= 0 || r->port > 65535 || !r->host[0] || r->timeout <= 0)
		return sr_fail(e, SIMREC_EURI, "bad redis URI '%s'", u->path);
	return 0;
}

static int conn_fail(sr_redis *r, const char *what)
{
	return sr_fail(
	        r->err, SIMREC_ECONN, "redis %s:%d: %s: %s", r->host, r->port,
	        what, r->c && r->c->errstr[0] ? r->c->errstr : "no connection");
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
	redisReply *rep = NULL;
	int rc = 0;
	if (r->password[0])
		rc = r->user[0]
		             ? sr_redis_cmdf(r, &rep, "AUTH %s %s", r->user,
		                             r->password)
		             : sr_redis_cmdf(r, &rep, "AUTH %s", r->password);
	freeReplyObject(rep);
	rep = NULL;
	if (!rc && r->db)
		rc = sr_redis_cmdf(r, &rep, "SELECT %d", r->db);
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
	if (redisGetReply(r->c, &rep) != REDIS_OK || !rep) {
		/* hiredis reports a socket timeout as EAGAIN's text */
		int late = r->c->err == REDIS_ERR_IO &&
		           (!strcmp(r->c->errstr, strerror(EAGAIN)) ||
		            !strcmp(r->c->errstr, strerror(ETIMEDOUT)));
		int rc = late ? sr_fail(r->err, SIMREC_ECONN,
		                        "redis %s:%d: timed out after %g s "
		                        "(no reply; the URI's ?timeout= sets "
		                        "it)",
		                        r->host, r->port, r->timeout)
		              : conn_fail(r, "connection lost");
		sr_redis_close(r);
		return rc;
	}
	r->pending--;
	redisReply *x = rep;
	if (x->type == REDIS_REPLY_ERROR) {
		int rc = sr_fail(r->err, SIMREC_ESERVER, "redis %s:%d: %s",
		                 r->host, r->port, x->str);
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
