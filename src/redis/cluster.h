/* Redis Cluster routing over plain hiredis connections: the slot map
 * (CLUSTER SLOTS, every field of the reply checked), each key's slot
 * (CRC16 XMODEM mod 16384, with {hash tag}s), one connection per master,
 * -MOVED (the map asked again) and -ASK (ASKING) followed a bounded
 * number of times. */
#ifndef SIMREC_REDIS_CLUSTER_H
#define SIMREC_REDIS_CLUSTER_H

#include "conn.h"

#define SR_CLUSTER_SLOTS     16384
#define SR_CLUSTER_MAX_NODES 1024 /* masters in one map */
#define SR_CLUSTER_REDIRECTS 5    /* redirections followed per command */

typedef struct sr_cluster_node {
	sr_redis r; /* its own connection, the seed's settings */
} sr_cluster_node;

typedef struct sr_cluster {
	sr_redis seed; /* the settings, and the seeds ("h:p,h:p") */
	sr_cluster_node **nodes;
	size_t nnodes, capnodes;
	unsigned short *owner; /* slot -> node index; NO_OWNER if none */
	int stale;             /* a redirection seen: ask the map again */
	char name[800];        /* cl_node's and cl_seeds' text */
	sr_err *err;
} sr_cluster;

/* The slot of a key (its {hash tag} when it has a non-empty one). */
unsigned sr_cluster_slot(const char *key, size_t len);
/* Ask a seed for the map and connect to every master (AUTH as the seed
 * says). The settings come from seed (sr_redis_parse), copied. */
int sr_cluster_open(sr_cluster *cl, const sr_redis *seed);
void sr_cluster_close(sr_cluster *cl);
/* The connection of the master serving key's slot; NULL (the error set,
 * SIMREC_ESERVER) if no master serves it. The map is asked again first
 * when a redirection was seen. */
sr_redis *sr_cluster_route(sr_cluster *cl, const char *key, size_t len);
/* Order across masters: every master but next with replies pending has
 * them read (its transactions acknowledged; with appendfsync always,
 * persisted) before a write goes to next. Nothing is read when only next
 * has writes in flight. The first failure. */
int sr_cluster_order(sr_cluster *cl, const sr_redis *next);
/* sr_cluster_route, then sr_cluster_order: the connection for a write
 * that depends on every write queued before it; NULL with the error set
 * (the route's, or a failed acknowledgement's). */
sr_redis *sr_cluster_route_after(sr_cluster *cl, const char *key, size_t len);
/* One command routed by its first argument (the key), redirections
 * followed, sent after sr_cluster_order; argc >= 2. */
int sr_cluster_cmd(sr_cluster *cl, redisReply **out, int argc,
                   const char **argv, const size_t *lens);
/* Read every pending reply of every master: the first failure. */
int sr_cluster_drain(sr_cluster *cl);
/* Is any master's connection down? */
int sr_cluster_down(const sr_cluster *cl);
/* Every master connected again (the map asked again first). */
int sr_cluster_reconnect(sr_cluster *cl);

#endif
