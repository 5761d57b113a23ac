/* One writer per redis prefix: the key P:writer, set with SET NX at a
 * writer's open (host, pid, job id and a random id of this open), deleted
 * by its holder at close (docs/safety.md). A holder that died leaves the
 * key: a later writer on the same host takes it over when that pid is
 * gone; otherwise it is deleted by hand (redis-cli DEL P:writer). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "../../common/env.h"
#include "rstore.h"

/* the holder's value: set only if the key still holds what we saw */
static const char SWAP[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
                           "redis.call('SET', KEYS[1], ARGV[2]) return 1 "
                           "end return 0";
static const char DROP[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
                           "return redis.call('DEL', KEYS[1]) end return 0";

/* This file calls nothing of store.c (which calls it): the key's master
 * and its commands directly. Nothing is pipelined at open, nor after the
 * close's commit, so no order across masters is needed. */
static sr_redis *at(rstore *s, const char *key)
{
	return s->cl ? sr_cluster_route(s->cl, key, strlen(key)) : &s->r;
}

/* One command on key's master (a cluster follows redirections). */
static int cmd(rstore *s, redisReply **x, int argc, const char **argv)
{
	size_t lens[6];
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	*x = NULL;
	return s->cl ? sr_cluster_cmd(s->cl, x, argc, argv, lens)
	             : sr_redis_cmd(&s->r, x, argc, argv, lens);
}

void rs_writer_key(char *buf, size_t cap, const rstore *s)
{
	snprintf(buf, cap, "%s:writer", s->prefix);
}

/* "host H pid N job J id X": this process's open */
static void me(char *buf, size_t cap)
{
	char host[256] = "?";
	if (gethostname(host, sizeof host - 1))
		snprintf(host, sizeof host, "?");
	host[strcspn(host, " \r\n")] = 0;
	unsigned char b[8] = {0};
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		memset(b, 0, sizeof b);
	const char *job = sr_env(SR_ENV_SLURM_JOB_ID);
	snprintf(
	        buf, cap,
	        "host %s pid %ld job %.60s id %02x%02x%02x%02x%02x%02x%02x%02x",
	        host, (long)getpid(), job && *job ? job : "-", b[0], b[1], b[2],
	        b[3], b[4], b[5], b[6], b[7]);
}

/* A holder of this host whose pid is gone (the value is untrusted: any
 * other shape is no stale holder). */
static int stale_here(const char *v)
{
	char host[256] = "", me_host[256] = "";
	long pid = 0;
	if (sscanf(v, "host %255s pid %ld ", host, &pid) != 2 || pid <= 0 ||
	    gethostname(me_host, sizeof me_host - 1))
		return 0;
	return !strcmp(host, me_host) && pid != (long)getpid() &&
	       kill((pid_t)pid, 0) && errno == ESRCH;
}

/* EVAL script on key's master with args a1, a2 (a2 may be NULL): its
 * integer reply in *out. */
static int eval(rstore *s, const char *script, const char *key, const char *a1,
                const char *a2, long long *out)
{
	sr_redis *r = at(s, key);
	if (!r)
		return SIMREC_ESERVER;
	const char *argv[6] = {"EVAL", script, "1", key, a1, a2};
	size_t lens[6] = {4,           strlen(script), 1,
	                  strlen(key), strlen(a1),     a2 ? strlen(a2) : 0};
	redisReply *x;
	int rc = sr_redis_cmd(r, &x, a2 ? 6 : 5, argv, lens);
	if (!rc)
		rc = sr_redis_expect(r, &x, REDIS_REPLY_INTEGER, "EVAL");
	if (!rc)
		*out = x->integer;
	freeReplyObject(x);
	return rc;
}

/* The holder's value, bounded and made printable (it is named in an
 * error): "" when the key is gone. */
static int holder_of(rstore *s, const char *key, char *buf, size_t cap)
{
	redisReply *x;
	buf[0] = 0;
	int rc = cmd(s, &x, 2, (const char *[]){"GET", key});
	if (!rc && x->type == REDIS_REPLY_STRING) {
		size_t n = x->len < cap - 1 ? x->len : cap - 1;
		for (size_t i = 0; i < n; i++)
			buf[i] = x->str[i] >= 32 && x->str[i] < 127 ? x->str[i]
			                                            : '?';
		buf[n] = 0;
	} else if (!rc && x->type != REDIS_REPLY_NIL) {
		rc = sr_fail(s->r.err, SIMREC_ESERVER,
		             "%s: GET '%s': not a string",
		             sr_redis_where(&s->r), key);
	}
	freeReplyObject(x);
	return rc;
}

int rs_writer_take(sr_store *st)
{
	rstore *s = st->impl;
	/* readers never; the ranks of one recorder are one writer (its
	 * metadata writer holds the key); under ?lock= the lock decides */
	if (st->mode == SIMREC_MODE_READONLY || !st->meta_writer || st->shared)
		return 0;
	char key[200], old[320];
	rs_writer_key(key, sizeof key, s);
	me(s->writer, sizeof s->writer);
	for (int tries = 0; tries < 3; tries++) {
		redisReply *x;
		const char *set[4] = {"SET", key, s->writer, "NX"};
		int rc = cmd(s, &x, 4, set);
		int got = !rc && x->type == REDIS_REPLY_STATUS;
		freeReplyObject(x);
		if (rc || got) {
			s->holds = got;
			return rc;
		}
		if ((rc = holder_of(s, key, old, sizeof old)))
			return rc;
		long long swapped = 0;
		if (old[0] && stale_here(old) &&
		    (rc = eval(s, SWAP, key, old, s->writer, &swapped)))
			return rc;
		if (swapped) {
			fprintf(stderr,
			        "simrec: redis prefix '%s': its writer (%s) is "
			        "gone without closing it; taking the prefix "
			        "over\n",
			        s->prefix, old);
			s->holds = 1;
			return 0;
		}
		if (old[0])
			return sr_fail(
			        st->err, SIMREC_ELOCK,
			        "redis %s:%d: prefix '%s' has a writer already "
			        "(%s, key '%s'); one writer per prefix. If "
			        "that "
			        "writer is dead, delete the key: redis-cli DEL "
			        "'%s' (docs/safety.md)",
			        s->r.host, s->r.port, s->prefix, old, key, key);
	} /* the holder left meanwhile: SET NX again */
	return sr_fail(st->err, SIMREC_ELOCK,
	               "redis %s:%d: prefix '%s': the writer key '%s' keeps "
	               "changing hands",
	               s->r.host, s->r.port, s->prefix, key);
}

int rs_writer_drop(sr_store *st)
{
	rstore *s = st->impl;
	if (!s->holds || (s->cl ? sr_cluster_down(s->cl) : !s->r.c))
		return 0;
	char key[200];
	rs_writer_key(key, sizeof key, s);
	long long n;
	s->holds = 0;
	return eval(s, DROP, key, s->writer, NULL, &n);
}
