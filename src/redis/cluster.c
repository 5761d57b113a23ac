/* Redis Cluster routing (cluster.h). Every byte of a map or a redirection
 * is the server's: counts, slot ranges, ports and host strings are
 * checked before use, and a map that is not one is refused naming the
 * node that sent it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"

#define NO_OWNER 0xFFFFu

/* A node or the cluster as messages name them, with the seed's tag (the
 * store's prefix) when it has one. */
static const char *cl_node(sr_cluster *cl, const sr_redis *r)
{
	snprintf(cl->name, sizeof cl->name, "redis cluster node %s:%d%s%s",
	         r->host, r->port, cl->seed.tag[0] ? " " : "", cl->seed.tag);
	return cl->name;
}

static const char *cl_seeds(sr_cluster *cl)
{
	snprintf(cl->name, sizeof cl->name, "redis cluster (seeds %s)%s%s",
	         cl->seed.seeds, cl->seed.tag[0] ? " " : "", cl->seed.tag);
	return cl->name;
}

/* CRC16 XMODEM (polynomial 0x1021, initial 0), as redis's crc16.c. */
static unsigned crc16(const char *s, size_t n)
{
	unsigned crc = 0;
	for (size_t i = 0; i < n; i++) {
		crc ^= (unsigned)(unsigned char)s[i] << 8;
		for (int b = 0; b < 8; b++)
			crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
		crc &= 0xFFFF;
	}
	return crc;
}

unsigned sr_cluster_slot(const char *key, size_t len)
{
	const char *open = memchr(key, '{', len);
	if (open) {
		size_t from = (size_t)(open - key) + 1;
		const char *close = memchr(open + 1, '}', len - from);
		if (close && close > open + 1)
			return crc16(open + 1, (size_t)(close - open - 1)) &
			       (SR_CLUSTER_SLOTS - 1);
	}
	return crc16(key, len) & (SR_CLUSTER_SLOTS - 1);
}

/* A host name or address as a server may send it: 1..255 bytes of
 * printable ASCII, no space. */
static int host_ok(const char *s, size_t n)
{
	if (!n || n > 255 || strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

/* The node host:port, connected (found in cl, or added and connected). */
static int node_at(sr_cluster *cl, const char *host, int port, size_t *at)
{
	for (size_t i = 0; i < cl->nnodes; i++)
		if (cl->nodes[i]->r.port == port &&
		    !strcmp(cl->nodes[i]->r.host, host)) {
			*at = i;
			return cl->nodes[i]->r.c
			               ? 0
			               : sr_redis_connect(&cl->nodes[i]->r);
		}
	if (cl->nnodes >= SR_CLUSTER_MAX_NODES)
		return sr_fail(cl->err, SIMREC_ESERVER,
		               "%s: more than %d masters", cl_seeds(cl),
		               SR_CLUSTER_MAX_NODES);
	/* each node apart: a connection handed out stays where it is */
	if (SR_GROW_N(cl->nodes, cl->capnodes, cl->nnodes + 1))
		return SIMREC_ENOMEM;
	sr_cluster_node **n = cl->nodes;
	if (!(n[cl->nnodes] = calloc(1, sizeof **n)))
		return SIMREC_ENOMEM;
	sr_redis *r = &n[cl->nnodes]->r;
	*r = cl->seed;
	r->c = NULL;
	r->pending = 0;
	r->redirect[0] = 0;
	snprintf(r->host, sizeof r->host, "%s", host);
	r->port = port;
	*at = cl->nnodes++;
	return sr_redis_connect(r);
}

/* One master of a CLUSTER SLOTS entry: [host, port, id, ...]. An empty
 * host is the node asked (as redis documents). */
static int entry_master(const redisReply *m, const sr_redis *from, char *host,
                        int *port)
{
	if (!m || m->type != REDIS_REPLY_ARRAY || m->elements < 2 ||
	    !m->element[0] || m->element[0]->type != REDIS_REPLY_STRING ||
	    !m->element[1] || m->element[1]->type != REDIS_REPLY_INTEGER ||
	    m->element[1]->integer < 1 || m->element[1]->integer > 65535)
		return -1;
	*port = (int)m->element[1]->integer;
	if (!m->element[0]->len) {
		snprintf(host, 320, "%s", from->host);
		return 0;
	}
	if (!host_ok(m->element[0]->str, m->element[0]->len))
		return -1;
	snprintf(host, 320, "%s", m->element[0]->str);
	return 0;
}

static int bad_map(sr_cluster *cl, const sr_redis *from, const char *why,
                   long long a, long long b)
{
	return sr_fail(cl->err, SIMREC_ESERVER,
	               "%s: its CLUSTER SLOTS reply is "
	               "not a slot map (%s: %lld %lld)",
	               cl_node(cl, from), why, a, b);
}

/* A CLUSTER SLOTS reply into owner[] (node indexes of cl, connected as
 * they come): ranges inside 0..16383, none given twice. */
static int map_from(sr_cluster *cl, const sr_redis *from, const redisReply *x,
                    unsigned short *owner)
{
	if (x->type != REDIS_REPLY_ARRAY || x->elements > SR_CLUSTER_SLOTS)
		return bad_map(cl, from, "not an array of at most 16384 ranges",
		               x->type, (long long)x->elements);
	for (size_t s = 0; s < SR_CLUSTER_SLOTS; s++)
		owner[s] = NO_OWNER;
	long long total = 0; /* slots given: bounds the work too */
	for (size_t i = 0; i < x->elements; i++) {
		const redisReply *e = x->element[i];
		if (!e || e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
		    !e->element[0] || !e->element[1] ||
		    e->element[0]->type != REDIS_REPLY_INTEGER ||
		    e->element[1]->type != REDIS_REPLY_INTEGER)
			return bad_map(cl, from, "a malformed range, entry",
			               (long long)i, 0);
		long long lo = e->element[0]->integer,
		          hi = e->element[1]->integer;
		if (lo < 0 || hi < lo || hi >= SR_CLUSTER_SLOTS)
			return bad_map(cl, from,
			               "a slot range outside 0..16383", lo, hi);
		if ((total += hi - lo + 1) > SR_CLUSTER_SLOTS)
			return bad_map(cl, from,
			               "more than 16384 slots given, "
			               "up to the range",
			               lo, hi);
		char host[320];
		int port;
		if (entry_master(e->element[2], from, host, &port))
			return bad_map(cl, from,
			               "a malformed master (host or port) for "
			               "slots",
			               lo, hi);
		size_t at;
		int rc = node_at(cl, host, port, &at);
		if (rc)
			return rc;
		for (long long s = lo; s <= hi; s++) {
			if (owner[s] != NO_OWNER && owner[s] != at)
				return bad_map(cl, from,
				               "a slot given to two masters", s,
				               s);
			owner[s] = (unsigned short)at;
		}
	}
	return 0;
}

/* Ask one node for the map. */
static int map_ask(sr_cluster *cl, sr_redis *r, unsigned short *owner)
{
	redisReply *x = NULL;
	int rc = sr_redis_cmdf(r, &x, "CLUSTER SLOTS");
	if (rc == SIMREC_EFORMAT) /* oversized or not RESP: a bad map */
		rc = sr_wrap(cl->err, SIMREC_ESERVER,
		             "%s: its CLUSTER SLOTS reply "
		             "is not a slot map",
		             cl_node(cl, r));
	if (!rc)
		rc = map_from(cl, r, x, owner);
	freeReplyObject(x);
	return rc;
}

/* The map from the first master that answers (those known, then the
 * seeds); a node that answers with a bad map fails it. */
static int map_load(sr_cluster *cl)
{
	unsigned short *owner = malloc(SR_CLUSTER_SLOTS * sizeof *owner);
	if (!owner)
		return SIMREC_ENOMEM;
	int rc = SIMREC_ECONN;
	for (size_t i = 0; i < cl->nnodes && rc == SIMREC_ECONN; i++)
		if (cl->nodes[i]->r.c)
			rc = map_ask(cl, &cl->nodes[i]->r, owner);
	char seeds[sizeof cl->seed.seeds];
	snprintf(seeds, sizeof seeds, "%s", cl->seed.seeds);
	for (char *tok = strtok(seeds, ","); tok && rc == SIMREC_ECONN;
	     tok = strtok(NULL, ",")) {
		char *colon = strrchr(tok, ':');
		long port = 6379;
		if (colon && (sr_parse_count(colon + 1, &port) || port < 1 ||
		              port > 65535)) {
			rc = sr_fail(cl->err, SIMREC_EURI,
			             "redis cluster seed '%s': bad port", tok);
			break;
		}
		if (colon)
			*colon = 0;
		size_t at;
		rc = node_at(cl, tok, (int)port, &at);
		if (!rc)
			rc = map_ask(cl, &cl->nodes[at]->r, owner);
	}
	if (rc) {
		free(owner);
		return rc;
	}
	free(cl->owner);
	cl->owner = owner;
	cl->stale = 0;
	return 0;
}

int sr_cluster_open(sr_cluster *cl, const sr_redis *seed)
{
	memset(cl, 0, sizeof *cl);
	cl->seed = *seed;
	cl->seed.c = NULL;
	cl->err = seed->err;
	if (seed->db)
		return sr_fail(cl->err, SIMREC_EURI,
		               "%s: a cluster has only "
		               "database 0",
		               cl_seeds(cl));
	return map_load(cl);
}

void sr_cluster_close(sr_cluster *cl)
{
	for (size_t i = 0; i < cl->nnodes; i++) {
		sr_redis_close(&cl->nodes[i]->r);
		free(cl->nodes[i]);
	}
	free(cl->nodes);
	free(cl->owner);
	cl->nodes = NULL;
	cl->owner = NULL;
	cl->nnodes = cl->capnodes = 0;
}

sr_redis *sr_cluster_route(sr_cluster *cl, const char *key, size_t len)
{
	if (cl->stale && map_load(cl))
		return NULL;
	unsigned slot = sr_cluster_slot(key, len);
	unsigned at = cl->owner ? cl->owner[slot] : NO_OWNER;
	if (at == NO_OWNER || at >= cl->nnodes) {
		sr_fail(cl->err, SIMREC_ESERVER, "%s: no master serves slot %u",
		        cl_seeds(cl), slot);
		return NULL;
	}
	return &cl->nodes[at]->r;
}

/* "MOVED slot host:port" / "ASK slot host:port": 1 for ASK, 0 for
 * MOVED, -1 if malformed. */
static int parse_redirect(const char *t, char *host, int *port)
{
	int ask = !strncmp(t, "ASK ", 4);
	const char *p = t + (ask ? 4 : 6);
	long slot;
	char num[8];
	size_t n = strspn(p, "0123456789");
	if (!n || n >= sizeof num || p[n] != ' ')
		return -1;
	snprintf(num, sizeof num, "%.*s", (int)n, p);
	if (sr_parse_count(num, &slot) || slot >= SR_CLUSTER_SLOTS)
		return -1;
	p += n + 1;
	const char *colon = strrchr(p, ':');
	long pt;
	if (!colon || colon == p || (size_t)(colon - p) > 255 ||
	    sr_parse_count(colon + 1, &pt) || pt < 1 || pt > 65535)
		return -1;
	snprintf(host, 320, "%.*s", (int)(colon - p), p);
	if (!host_ok(host, strlen(host)))
		return -1;
	*port = (int)pt;
	return ask;
}

static int drain_node(sr_cluster *cl, sr_redis *r);

int sr_cluster_cmd(sr_cluster *cl, redisReply **out, int argc,
                   const char **argv, const size_t *lens)
{
	*out = NULL;
	sr_redis *to = NULL;
	for (int hop = 0; hop <= SR_CLUSTER_REDIRECTS; hop++) {
		sr_redis *r = to ? to : sr_cluster_route(cl, argv[1], lens[1]);
		if (!r)
			return SIMREC_ESERVER;
		/* earlier pipelined replies first: their failure (a moved
		 * slot too) is theirs, not this command's redirection */
		r->redirect[0] = 0;
		int rc = sr_redis_drain(r);
		if (rc) {
			cl->stale |= r->redirect[0] != 0;
			return rc;
		}
		/* every other master's writes acknowledged before this
		 * command goes (docs/redis-format.md, "Order") */
		if ((rc = sr_cluster_order(cl, r)))
			return rc;
		if (to) { /* an -ASK: this command only, after ASKING */
			redisReply *a = NULL;
			rc = sr_redis_cmdf(r, &a, "ASKING");
			freeReplyObject(a);
		}
		if (!rc)
			rc = sr_redis_cmd(r, out, argc, argv, lens);
		if (rc != SIMREC_ESERVER || !r->redirect[0])
			return rc;
		char host[320];
		int port, ask = parse_redirect(r->redirect, host, &port);
		if (ask < 0)
			return sr_fail(cl->err, SIMREC_ESERVER,
			               "%s: a malformed "
			               "redirection",
			               cl_node(cl, r));
		size_t at;
		to = NULL;
		cl->stale |= !ask;
		if (ask && (rc = node_at(cl, host, port, &at)))
			return rc;
		if (ask)
			to = &cl->nodes[at]->r;
	}
	return sr_fail(cl->err, SIMREC_ESERVER,
	               "%s: more than %d redirections "
	               "for one command",
	               cl_seeds(cl), SR_CLUSTER_REDIRECTS);
}

/* Every pending reply of r read; a transaction refused for a moved slot
 * marks the map stale. */
static int drain_node(sr_cluster *cl, sr_redis *r)
{
	r->redirect[0] = 0;
	int e = sr_redis_drain(r);
	if (r->redirect[0]) { /* a slot moved under a transaction */
		cl->stale = 1;
		sr_wrap(cl->err, e,
		        "a slot moved while writing (the cluster's map is "
		        "asked again; the transaction was not run)");
	}
	return e;
}

int sr_cluster_drain(sr_cluster *cl)
{
	int rc = 0;
	for (size_t i = 0; i < cl->nnodes; i++) {
		int e = drain_node(cl, &cl->nodes[i]->r);
		if (e && !rc)
			rc = e;
	}
	return rc;
}

int sr_cluster_order(sr_cluster *cl, const sr_redis *next)
{
	int rc = 0;
	for (size_t i = 0; i < cl->nnodes && !rc; i++) {
		sr_redis *r = &cl->nodes[i]->r;
		if (r != next && r->pending)
			rc = drain_node(cl, r);
	}
	return rc;
}

sr_redis *sr_cluster_route_after(sr_cluster *cl, const char *key, size_t len)
{
	sr_redis *r = sr_cluster_route(cl, key, len);
	return r && sr_cluster_order(cl, r) ? NULL : r;
}

int sr_cluster_down(const sr_cluster *cl)
{
	for (size_t i = 0; i < cl->nnodes; i++)
		if (!cl->nodes[i]->r.c)
			return 1;
	return 0;
}

int sr_cluster_reconnect(sr_cluster *cl)
{
	int rc = 0;
	for (size_t i = 0; i < cl->nnodes && !rc; i++)
		if (!cl->nodes[i]->r.c)
			rc = sr_redis_reconnect(&cl->nodes[i]->r);
	return rc ? rc : map_load(cl);
}
