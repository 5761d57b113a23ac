/* redis's private header: the store and dataset handles shared by the files of
 * src/store/redis/ (table.c the store table; store.c opens, commits, closes;
 * metadata.c lookup and create; write.c elements and their transactions; read.c
 * reads; attrs.c attributes and listing). */
#ifndef SIMREC_STORE_REDIS_H
#define SIMREC_STORE_REDIS_H

#include "../../redis/cluster.h"
#include "../../redis/conn.h"
#include "../store.h"

#define PART_BYTES     ((size_t)64 << 20) /* far below redis' 512 MB limit */
#define INFLIGHT_BYTES ((size_t)32 << 20)

typedef struct rstore {
	sr_redis r;     /* one server; under a cluster: the settings only */
	sr_cluster *cl; /* ?cluster=1: the masters, keys routed by slot */
	char prefix[128];
	size_t inflight;
	char last_key[256]; /* named when pipelined writes fail */
	int unacked;        /* written since the last acknowledged commit */
	int lost;           /* a connection carrying unacked writes was lost */
	int at_rc;          /* why rs_at returned NULL */
	unsigned conns;     /* connections made: list lengths known under an
	                     * earlier one may count elements that were lost */
	void *cbuf;
	size_t ccap;
	void *tmp;
	size_t tcap;
	char writer[320]; /* this open's value of P:writer (writer.c) */
	int holds;        /* this open set P:writer: deleted at close */
	/* a follower's subscription to P:notify (notify.c); c NULL: none */
	sr_redis sub;
} rstore;

typedef struct rlist {
	size_t col0, nelem;
	unsigned conn; /* rstore.conns when nelem was learnt */
} rlist;

typedef struct rds {
	char *key;
	rlist *lists;
	size_t nlists, caplists;
	/* a value's metadata waits for its element: both go in one
	 * transaction (put_element), replacing the old value at once */
	int meta_pending, replace;
	sr_meta meta;
	size_t cols; /* the metadata's 'cols' at lookup (0: none) */
} rds;

/* store.c */
int rs_open(sr_store *st);
/* Key names (docs/redis-format.md): one server keeps the first layout;
 * a cluster tags a dataset's list C, its parts and its row counter with
 * {P:KEY:C}, and the metadata with {P:KEY:0} (beside list 0). */
void rs_meta_key(char *buf, size_t cap, const rstore *s, const char *key);
void rs_list_key(char *buf, size_t cap, const rstore *s, const char *key,
                 size_t col0);
void rs_part_key(char *buf, size_t cap, const rstore *s, const char *key,
                 size_t col0, size_t k);
void rs_rows_key(char *buf, size_t cap, const rstore *s, const char *key,
                 size_t col0);
/* The connection holding key (one server: always s->r), for a write that
 * may depend on every write queued before it: on a cluster, the other
 * masters' pending writes are acknowledged first (sr_cluster_order;
 * docs/redis-format.md, "Order across masters"). NULL with the error set
 * and its status in s->at_rc when no master serves the slot or an
 * acknowledgement failed. */
sr_redis *rs_at(rstore *s, const char *key);
/* One command, routed by its first argument (a cluster follows
 * redirections). */
int rs_cmd(rstore *s, redisReply **out, int argc, const char **argv,
           const size_t *lens);
/* The same with string arguments, NULL-terminated. */
int rs_cmds(rstore *s, redisReply **out, const char *cmd, ...);
/* Every pending reply of every connection read and checked. */
int rs_drain(rstore *s);
/* Is a connection down (one server, or any master)? */
int rs_down(const rstore *s);
/* HGETALL of the hash "P:kind:key" into *x (a flat list of strings): 0,
 * or the status of the command or of a reply of another shape. */
int rs_hgetall(rstore *s, const char *kind, const char *key, redisReply **x);
int rs_close(sr_store *st);
rstore *rs_of(sr_store *st);
void rs_name(char *buf, size_t cap, const rstore *s, const char *kind,
             const char *key);
int rs_commit(sr_store *st);
int rs_ready(sr_store *st);
int rs_write_ready(sr_store *st);
/* "P:notify": the channel each commit publishes on (live follow) */
void rs_notify_channel(char *buf, size_t cap, const rstore *s);

/* writer.c: one writer per prefix (P:writer) */
void rs_writer_key(char *buf, size_t cap, const rstore *s);
/* A writer's open: P:writer set (SET NX), or SIMREC_ELOCK naming its
 * holder. Readers, the other ranks of one recorder and ?lock= stores
 * take nothing. */
int rs_writer_take(sr_store *st);
/* At close: P:writer deleted if it is still this open's. */
int rs_writer_drop(sr_store *st);

/* notify.c: live follow (the reader's SUBSCRIBE) */
int rs_notify_arm(sr_store *st, const char *key);
int rs_notify_wait(sr_store *st, double seconds);

/* metadata.c */
int rs_parse_num(const char *s, long long lo, long long hi, long long *out);
void rs_release(sr_store *st, void *ds);
int rs_lookup(sr_store *st, const char *key, sr_meta *m, void **ds);
int rs_set_parents(sr_store *st, const char *key);
void rs_queue_meta(sr_store *st, sr_redis *r, const char *key, const sr_meta *m,
                   int replace);
/* Queue key's entry in the index set P:SET ("keys" or "groups") and
 * its parents' in P:groups. */
int rs_queue_index(sr_store *st, const char *set, const char *key);
int rs_create(sr_store *st, const char *key, const sr_meta *m, void **ds);

/* write.c */
int rs_put_element(sr_store *st, rds *d, size_t col0, size_t k, size_t rows,
                   size_t cols, const unsigned char *hdr, size_t hlen,
                   const void *payload, size_t plen);
int rs_write(sr_store *st, void *ds, const sr_meta *m, const size_t *start,
             const size_t *count, const void *data);
int rs_split(sr_store *st, void *ds, const sr_meta *m, size_t cols);
int rs_write_vlen(sr_store *st, void *ds, const sr_meta *m, size_t row0,
                  size_t n, const sr_blob *items);

/* read.c */
int rs_read_ready(sr_store *st);
int rs_read(sr_store *st, void *ds, const sr_meta *m, const size_t *start,
            const size_t *count, void *buf);
int rs_read_vlen(sr_store *st, void *ds, const sr_meta *m, size_t index,
                 sr_blob *out);

/* attrs.c */
int rs_attr_set(sr_store *st, const char *key, const char *nm,
                const simrec_attr_t *a);
int rs_attr_get(sr_store *st, const char *key, const char *nm,
                simrec_attr_t *out);
int rs_attr_list(sr_store *st, const char *key, sr_attr_fn fn, void *arg);
int rs_list(sr_store *st, const char *prefix, sr_list_fn fn, void *arg);
long long rs_disk_bytes(sr_store *st);

#endif
