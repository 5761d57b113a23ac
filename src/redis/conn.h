/* Redis connections (hiredis), shared by the redis store and the lock:
 * URI parsing, connect with timeout, AUTH/SELECT, pipelined commands,
 * reconnect. Protocol parsing stays in hiredis; no I/O elsewhere. */
#ifndef SIMREC_REDIS_CONN_H
#define SIMREC_REDIS_CONN_H

#include <hiredis/hiredis.h>

#include "../common/common.h"

/* Every key of the readers-writer lock starts with this (src/lock/lock.c);
 * no store prefix may (src/store/redis/). */
#define SR_REDIS_LOCK_NS "simrec-lock:"

/* Largest bulk string (and reply buffer) accepted from a server: one
 * element part is at most 64 MiB plus its header. */
#define SR_REDIS_MAX_BULK     ((size_t)128 << 20)
#define SR_REDIS_MAX_ELEMENTS ((size_t)1 << 24)

typedef struct sr_redis {
	redisContext *c;
	char host[320];
	int port;
	char seeds[300];    /* the hosts as given ("h:p[,h:p...]"): with
	                     * several, Redis Cluster seeds (host and port:
	                     * the first) */
	char redirect[300]; /* the last -MOVED / -ASK error's text, or "" */
	int db;
	char user[128];
	char password[256];
	double timeout;   /* seconds, connect and each reply */
	int reconnects;   /* how often a lost connection is retried */
	size_t pending;   /* replies appended but not yet read */
	size_t max_reply; /* bytes one reply may buffer (default 129 MiB,
	                     lower with SIMREC_REDIS_MAX_REPLY) */
	size_t charged;   /* memory the reply being read has cost so far */
	char tag[160];    /* what its user names in messages besides the
	                   * server ("prefix 'run1'"), or "" */
	char where[512];  /* sr_redis_where's text */
	sr_err *err;
} sr_redis;

/* The connection as every message names it: "redis HOST:PORT", then the
 * tag if any ("redis n01:6379 prefix 'run1'"); never a user or password.
 * Points into r, rewritten by each call. */
const char *sr_redis_where(sr_redis *r);

/* Parse "redis://[user[:password]@]host[:port][/db]" (user and password
 * percent-encoded; the userinfo ends at the last '@' before the query);
 * an empty host takes SIMREC_REDIS_HOST ("host[:port]") from the
 * environment. Parameters "password", "user", "timeout", "reconnect" of u
 * apply on top; without a password, SIMREC_REDIS_PASSWORD gives it. */
int sr_redis_parse(sr_redis *r, const sr_uri *u, sr_err *e);
int sr_redis_connect(sr_redis *r);
void sr_redis_close(sr_redis *r);

/* Append a command to the pipeline (argv with lengths). */
int sr_redis_append(sr_redis *r, int argc, const char **argv,
                    const size_t *lens);
/* Read one pending reply into *out (caller frees with freeReplyObject);
 * an error reply is returned as SIMREC_ESERVER with its text in the
 * message, the reply freed. */
int sr_redis_reply(sr_redis *r, redisReply **out);
/* Check a reply's type (arrays: no NULL entries); on a mismatch free
 * *x, set it NULL and return SIMREC_ESERVER naming what. */
int sr_redis_expect(sr_redis *r, redisReply **x, int type, const char *what);
/* An array whose entries are all strings. */
int sr_redis_expect_strings(sr_redis *r, redisReply **x, const char *what);
/* Read and check every pending reply. */
int sr_redis_drain(sr_redis *r);
/* One command, one reply. */
int sr_redis_cmd(sr_redis *r, redisReply **out, int argc, const char **argv,
                 const size_t *lens);
/* printf-style single command (no binary arguments). */
int sr_redis_cmdf(sr_redis *r, redisReply **out, const char *fmt, ...);
/* A connection of its own that receives what is published on channel:
 * SUBSCRIBE and its confirmation. From then on r only receives. */
int sr_redis_subscribe(sr_redis *r, const char *channel);
/* On a subscribed connection: wait at most `seconds` for messages, then
 * read (and discard) every one that arrived; *got counts them. A lost
 * connection or a malformed message closes r (SIMREC_ECONN /
 * SIMREC_EFORMAT). */
int sr_redis_wait_push(sr_redis *r, double seconds, int *got);
/* Is status a lost/refused connection (worth a reconnect)? */
int sr_redis_lost(const sr_redis *r, int status);
/* Drop the connection and connect again (up to r->reconnects tries, with
 * backoff). */
int sr_redis_reconnect(sr_redis *r);

#endif
