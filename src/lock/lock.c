/* Readers-writer lock in redis with writer preference (Courtois, Heymans
 * and Parnas 1971, problem 2), leases and fencing tokens.
 *
 * State of resource R, all under "simrec-lock:R:" (SR_REDIS_LOCK_NS: no
 * store prefix reaches it; R with any password masked):
 *   readers  ZSET  holder id -> lease expiry (ms, server clock)
 *   writer   STRING holder id, with a PX lease
 *   wwait    ZSET  waiting writer id -> lease expiry
 *   token    INTEGER, INCR'd by every write acquire (never reset)
 *   token:since  when the last writer took it (ms, server clock)
 * Every change is one Lua script: expired leases are dropped first, so a
 * holder killed with SIGKILL frees the lock when its lease runs out. A
 * background thread (own connection) renews this client's leases. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../redis/conn.h"
#include "lock.h"

#define SR_LOCK_MAX_LEASE 1e6 /* seconds */

/* KEYS: readers writer wwait token; ARGV: id lease_ms */
#define LUA_PRELUDE                                                        \
	"local t = redis.call('TIME') "                                    \
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / " \
	"1000) "                                                           \
	"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) "            \
	"redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now) "

static const char *lua_read = LUA_PRELUDE
        "if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end "
        "if redis.call('ZCARD', KEYS[3]) > 0 and "
        "not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end "
        "redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1]) "
        "return 1";

/* a writer that cannot enter queues itself (readers then wait behind
 * it); among waiting writers the oldest goes first */
static const char *lua_write = LUA_PRELUDE
        "if redis.call('EXISTS', KEYS[2]) == 1 or "
        "redis.call('ZCARD', KEYS[1]) > 0 then "
        "  if not redis.call('ZSCORE', KEYS[3], ARGV[1]) then "
        "    redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), ARGV[1]) "
        "    redis.call('HSET', KEYS[4] .. ':order', ARGV[1], "
        "      redis.call('INCR', KEYS[4] .. ':seq')) "
        "  else redis.call('ZADD', KEYS[3], 'XX', now + tonumber(ARGV[2]), "
        "ARGV[1]) end "
        "  return 0 end "
        "local mine = tonumber(redis.call('HGET', KEYS[4] .. ':order', "
        "ARGV[1]) "
        "or 0) "
        "for _, w in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do "
        "  local o = tonumber(redis.call('HGET', KEYS[4] .. ':order', w) or 0) "
        "  if w ~= ARGV[1] and mine > 0 and o > 0 and o < mine then return 0 "
        "end "
        "end "
        "redis.call('ZREM', KEYS[3], ARGV[1]) "
        "redis.call('HDEL', KEYS[4] .. ':order', ARGV[1]) "
        "redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2]) "
        "redis.call('SET', KEYS[4] .. ':since', now) "
        "return redis.call('INCR', KEYS[4])";

/* returns 1 if something was released, 0 if the lease had run out */
static const char *lua_release =
        LUA_PRELUDE "local r = redis.call('ZREM', KEYS[1], ARGV[1]) "
                    "if redis.call('GET', KEYS[2]) == ARGV[1] then "
                    "  redis.call('DEL', KEYS[2]) r = 1 end "
                    "redis.call('ZREM', KEYS[3], ARGV[1]) "
                    "redis.call('HDEL', KEYS[4] .. ':order', ARGV[1]) "
                    "return r";

/* ARGV[3]: what this client believes it holds (0 none, 1 read, 2 write,
 * 3 waiting); returns 1 if still held */
static const char *lua_renew = LUA_PRELUDE
        "local lease = tonumber(ARGV[2]) "
        "if ARGV[3] == '1' then "
        "  if redis.call('ZSCORE', KEYS[1], ARGV[1]) then "
        "    redis.call('ZADD', KEYS[1], now + lease, ARGV[1]) return 1 end "
        "  return 0 end "
        "if ARGV[3] == '2' then "
        "  if redis.call('GET', KEYS[2]) == ARGV[1] then "
        "    redis.call('PEXPIRE', KEYS[2], lease) return 1 end "
        "  return 0 end "
        "if ARGV[3] == '3' then "
        "  redis.call('ZADD', KEYS[3], 'XX', now + lease, ARGV[1]) end "
        "return 1";

enum { HELD_NONE, HELD_READ, HELD_WRITE, HELD_WAIT };

struct simrec_lock {
	sr_redis r;   /* caller's connection */
	sr_redis rbg; /* the renewal thread's own connection */
	sr_err err, errbg;
	char keys[4][512];
	char id[128];
	long lease_ms;
	char sha[4][48]; /* read, write, release, renew */
	int held;        /* HELD_* (guarded by mu) */
	int lost;
	uint64_t token;
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int quit, has_thread;
};

static const char **scripts(void)
{
	static const char *s[4];
	s[0] = lua_read;
	s[1] = lua_write;
	s[2] = lua_release;
	s[3] = lua_renew;
	return s;
}

static int load_scripts(simrec_lock_t *l, sr_redis *r)
{
	for (int i = 0; i < 4; i++) {
		redisReply *x;
		const char *argv[3] = {"SCRIPT", "LOAD", scripts()[i]};
		size_t lens[3] = {6, 4, strlen(scripts()[i])};
		int rc = sr_redis_cmd(r, &x, 3, argv, lens);
		if (!rc)
			rc = sr_redis_expect(r, &x, REDIS_REPLY_STRING,
			                     "SCRIPT LOAD");
		if (rc)
			return rc;
		snprintf(l->sha[i], sizeof l->sha[i], "%s", x->str);
		freeReplyObject(x);
	}
	return 0;
}

/* EVALSHA script i with the 4 keys and argv; reloads after NOSCRIPT
 * (a restarted server). */
static int run(simrec_lock_t *l, sr_redis *r, int i, int nargs,
               const char **args, long long *out)
{
	const char *argv[12];
	size_t lens[12];
	argv[0] = "EVALSHA";
	argv[1] = l->sha[i];
	argv[2] = "4";
	for (int k = 0; k < 4; k++)
		argv[3 + k] = l->keys[k];
	for (int k = 0; k < nargs; k++)
		argv[7 + k] = args[k];
	for (int k = 0; k < 7 + nargs; k++)
		lens[k] = strlen(argv[k]);
	for (int attempt = 0;; attempt++) {
		if (!r->c) {
			int rc = sr_redis_connect(r);
			if (rc)
				return rc;
		}
		redisReply *x;
		int rc = sr_redis_cmd(r, &x, 7 + nargs, argv, lens);
		if (rc == SIMREC_ESERVER && attempt == 0 &&
		    strstr(r->err->msg, "NOSCRIPT")) {
			if ((rc = load_scripts(l, r)))
				return rc;
			argv[1] = l->sha[i];
			continue;
		}
		if (rc == SIMREC_ECONN && attempt == 0) {
			sr_redis_close(
			        r); /* one reconnect for a restarted server */
			continue;
		}
		if (!rc)
			rc = sr_redis_expect(r, &x, REDIS_REPLY_INTEGER,
			                     "EVALSHA");
		if (rc)
			return rc;
		*out = x->integer;
		freeReplyObject(x);
		return 0;
	}
}

static void *renew_main(void *arg)
{
	simrec_lock_t *l = arg;
	char lease[32];
	snprintf(lease, sizeof lease, "%ld", l->lease_ms);
	pthread_mutex_lock(&l->mu);
	while (!l->quit) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		long ns = ts.tv_nsec + (l->lease_ms / 3) * 1000000L;
		ts.tv_sec += ns / 1000000000L;
		ts.tv_nsec = ns % 1000000000L;
		pthread_cond_timedwait(&l->cv, &l->mu, &ts);
		if (l->quit || l->held == HELD_NONE)
			continue;
		char held[2] = {(char)('0' + l->held), 0};
		pthread_mutex_unlock(&l->mu);
		const char *args[3] = {l->id, lease, held};
		long long ok = 1;
		int rc = run(l, &l->rbg, 3, 3, args, &ok);
		pthread_mutex_lock(&l->mu);
		/* only a definite "not held" loses the lock; a network hiccup
		 * is retried at the next tick, within the lease */
		if (!rc && !ok && l->held != HELD_NONE && l->held != HELD_WAIT)
			l->lost = 1;
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

const char *simrec_lock_errmsg(const simrec_lock_t *l)
{
	return l ? l->err.msg : "no lock";
}

int simrec_lock_open(simrec_lock_t **out, const char *redis_uri,
                     const char *resource, double lease_seconds)
{
	if (!out || !redis_uri || !resource)
		return SIMREC_EINVAL;
	*out = NULL;
	simrec_lock_t *l = calloc(1, sizeof *l);
	if (!l)
		return SIMREC_ENOMEM;
	sr_uri u;
	/* a lease beyond 1e6 s would overflow the PX sent to the server */
	int rc = !*resource ? sr_fail(&l->err, SIMREC_EINVAL,
	                              "lock: the resource name is empty")
	         : !(isfinite(lease_seconds) && lease_seconds >= 0 &&
	             lease_seconds <= SR_LOCK_MAX_LEASE)
	                 ? sr_fail(&l->err, SIMREC_EINVAL,
	                           "lock '%s': lease %g s is not in (0, %g] "
	                           "(0: the default 5 s)",
	                           resource, lease_seconds, SR_LOCK_MAX_LEASE)
	                 : sr_uri_parse(redis_uri, &u, &l->err);
	if (!rc) {
		rc = !u.server ? sr_fail(&l->err, SIMREC_EURI,
		                         "lock URI '%s' is not redis://",
		                         redis_uri)
		               : sr_redis_parse(&l->r, &u, &l->err);
		if (!rc)
			rc = sr_redis_parse(&l->rbg, &u, &l->errbg);
		/* the lock's scripts need one server: no cluster */
		if (!rc &&
		    (strchr(l->r.seeds, ',') || sr_uri_param(&u, "cluster")))
			rc = sr_fail(
			        &l->err, SIMREC_EURI,
			        "lock URI '%s': a lock is held on one redis "
			        "server, not a cluster",
			        u.name);
		sr_uri_free(&u);
	}
	l->lease_ms =
	        rc ? 0
	           : (long)((lease_seconds > 0 ? lease_seconds : 5.0) * 1000);
	static const char *names[4] = {"readers", "writer", "wwait", "token"};
	/* one name however the store is spelled ("run.zarr", "./run.zarr/",
	 * a symbolic link to it), and no password in it */
	char named[480], shown[480];
	sr_resource_name(resource, named, sizeof named);
	simrec_uri_masked(named, shown, sizeof shown);
	for (int i = 0; i < 4; i++)
		snprintf(l->keys[i], sizeof l->keys[i],
		         SR_REDIS_LOCK_NS "%s:%s", shown, names[i]);
	char host[64] = "?";
	gethostname(host, sizeof host - 1);
	static int seq;
	snprintf(l->id, sizeof l->id, "%s:%ld:%d:%ld", host, (long)getpid(),
	         __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED),
	         (long)time(NULL) % 100000);
	if (!rc)
		rc = sr_redis_connect(&l->r);
	if (!rc)
		rc = load_scripts(l, &l->r);
	if (!rc)
		rc = sr_redis_connect(&l->rbg);
	if (rc) {
		fprintf(stderr, "simrec: lock '%s': %s\n", shown, l->err.msg);
		sr_redis_close(&l->r);
		sr_redis_close(&l->rbg);
		free(l);
		return rc;
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	l->has_thread = pthread_create(&l->thr, NULL, renew_main, l) == 0;
	*out = l;
	return 0;
}

static void set_held(simrec_lock_t *l, int h)
{
	pthread_mutex_lock(&l->mu);
	l->held = h;
	if (h == HELD_READ || h == HELD_WRITE)
		l->lost = 0;
	pthread_mutex_unlock(&l->mu);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int simrec_lock_acquire(simrec_lock_t *l, simrec_lock_mode_t mode,
                        double timeout, uint64_t *token)
{
	if (!l || (mode != SIMREC_LOCK_READ && mode != SIMREC_LOCK_WRITE))
		return SIMREC_EINVAL;
	if (l->held == HELD_READ || l->held == HELD_WRITE)
		return sr_fail(&l->err, SIMREC_EINVAL,
		               "lock %s: this client already holds it",
		               l->keys[1]);
	if (!isfinite(timeout) || timeout < 0)
		return sr_fail(&l->err, SIMREC_EINVAL,
		               "lock %s: timeout %g s is not finite and >= 0",
		               l->keys[1], timeout);
	char lease[32];
	snprintf(lease, sizeof lease, "%ld", l->lease_ms);
	const char *args[2] = {l->id, lease};
	double t0 = now_s();
	long sleep_us = 200;
	for (;;) {
		long long got = 0;
		int rc = run(l, &l->r, mode == SIMREC_LOCK_WRITE ? 1 : 0, 2,
		             args, &got);
		if (rc)
			return rc;
		if (got) {
			if (mode == SIMREC_LOCK_WRITE) {
				l->token = (uint64_t)got;
				if (token)
					*token = l->token;
			}
			set_held(l, mode == SIMREC_LOCK_WRITE ? HELD_WRITE
			                                      : HELD_READ);
			return 0;
		}
		if (mode == SIMREC_LOCK_WRITE)
			set_held(l, HELD_WAIT); /* the thread renews the queue
			                           entry */
		if (now_s() - t0 >= timeout) {
			long long r;
			if (mode == SIMREC_LOCK_WRITE) /* leave the queue */
				run(l, &l->r, 2, 1, args, &r);
			set_held(l, HELD_NONE);
			return sr_fail(
			        &l->err, SIMREC_ETIMEDOUT,
			        "lock %s: no %s lock within %.1f s", l->keys[1],
			        mode == SIMREC_LOCK_WRITE ? "write" : "read",
			        timeout);
		}
		usleep((useconds_t)sleep_us);
		sleep_us = sleep_us < 20000 ? sleep_us * 2 : 20000;
	}
}

int simrec_lock_check(simrec_lock_t *l)
{
	if (!l)
		return SIMREC_EINVAL;
	pthread_mutex_lock(&l->mu);
	int lost = l->lost;
	pthread_mutex_unlock(&l->mu);
	return lost ? sr_fail(&l->err, SIMREC_ELOCK,
	                      "lock %s: lease lost (token %llu)", l->keys[1],
	                      (unsigned long long)l->token)
	            : 0;
}

int simrec_lock_release(simrec_lock_t *l)
{
	if (!l)
		return SIMREC_EINVAL;
	const char *args[1] = {l->id};
	long long r = 0;
	int lost = simrec_lock_check(l);
	set_held(l, HELD_NONE);
	int rc = run(l, &l->r, 2, 1, args, &r);
	if (rc)
		return rc;
	return lost || !r ? sr_fail(&l->err, SIMREC_ELOCK,
	                            "lock %s: lease had run out before release",
	                            l->keys[1])
	                  : 0;
}

int simrec_lock_status(simrec_lock_t *l, simrec_lock_status_t *st)
{
	if (!l || !st)
		return SIMREC_EINVAL;
	memset(st, 0, sizeof *st);
	redisReply *x;
	/* drop expired entries first, with the release script of nobody */
	const char *args[1] = {"-"};
	long long r;
	int rc = run(l, &l->r, 2, 1, args, &r);
	if (!rc && !(rc = sr_redis_cmdf(&l->r, &x, "ZCARD %s", l->keys[0])) &&
	    !(rc = sr_redis_expect(&l->r, &x, REDIS_REPLY_INTEGER, "ZCARD"))) {
		st->readers = (int)x->integer;
		freeReplyObject(x);
	}
	if (!rc && !(rc = sr_redis_cmdf(&l->r, &x, "ZCARD %s", l->keys[2])) &&
	    !(rc = sr_redis_expect(&l->r, &x, REDIS_REPLY_INTEGER, "ZCARD"))) {
		st->waiting_writers = (int)x->integer;
		freeReplyObject(x);
	}
	if (!rc && !(rc = sr_redis_cmdf(&l->r, &x, "GET %s", l->keys[1]))) {
		if (x->type == REDIS_REPLY_STRING) {
			st->writer = 1;
			snprintf(st->writer_id, sizeof st->writer_id, "%s",
			         x->str);
		}
		freeReplyObject(x);
	}
	if (!rc && !(rc = sr_redis_cmdf(&l->r, &x, "PTTL %s", l->keys[1])) &&
	    !(rc = sr_redis_expect(&l->r, &x, REDIS_REPLY_INTEGER, "PTTL"))) {
		st->writer_lease =
		        x->integer > 0 ? (double)x->integer / 1e3 : 0;
		freeReplyObject(x);
	}
	if (!rc && st->writer &&
	    !(rc = sr_redis_cmdf(&l->r, &x, "GET %s:since", l->keys[3]))) {
		st->writer_since = x->type == REDIS_REPLY_STRING
		                           ? strtod(x->str, NULL) / 1e3
		                           : 0;
		freeReplyObject(x);
	}
	if (!rc && !(rc = sr_redis_cmdf(&l->r, &x, "GET %s", l->keys[3]))) {
		st->token = x->type == REDIS_REPLY_STRING
		                    ? strtoull(x->str, NULL, 10)
		                    : 0;
		freeReplyObject(x);
	}
	return rc;
}

int simrec_lock_break(simrec_lock_t *l)
{
	if (!l)
		return SIMREC_EINVAL;
	redisReply *x;
	/* the token stays: it must only ever grow */
	int rc = sr_redis_cmdf(&l->r, &x, "DEL %s %s %s %s:order", l->keys[0],
	                       l->keys[1], l->keys[2], l->keys[3]);
	if (!rc)
		freeReplyObject(x);
	return rc;
}

void simrec_lock_close(simrec_lock_t *l)
{
	if (!l)
		return;
	if (l->held != HELD_NONE) {
		const char *args[1] = {l->id};
		long long r;
		run(l, &l->r, 2, 1, args, &r);
	}
	if (l->has_thread) {
		pthread_mutex_lock(&l->mu);
		l->quit = 1;
		pthread_cond_broadcast(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->thr, NULL);
	}
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	sr_redis_close(&l->r);
	sr_redis_close(&l->rbg);
	free(l);
}

int sr_lock_raise_token(simrec_lock_t *l, uint64_t floor, uint64_t *token)
{
	static const char script[] =
	        "local t = tonumber(redis.call('GET', KEYS[1]) or '0') "
	        "if t < tonumber(ARGV[1]) then "
	        "redis.call('SET', KEYS[1], ARGV[1]) end "
	        "return redis.call('INCR', KEYS[1])";
	redisReply *x;
	int rc = sr_redis_cmdf(&l->r, &x, "EVAL %s 1 %s %llu", script,
	                       l->keys[3], (unsigned long long)floor);
	if (!rc)
		rc = sr_redis_expect(&l->r, &x, REDIS_REPLY_INTEGER, "EVAL");
	if (rc)
		return rc;
	*token = (uint64_t)x->integer;
	l->token = *token;
	freeReplyObject(x);
	return 0;
}
