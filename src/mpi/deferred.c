/* Independent calls (record, record_bytes, set, attributes) made on a rank
 * that may not touch the stores now: queued as encoded records, shipped to
 * rank 0 (or to every writer when the I/O is collective) at the next
 * collective call, and applied there in rank order. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coll.h"

/* One queued call as it travels between the ranks of one job (same byte
 * order everywhere): this header, then key_len bytes of key, name_len
 * bytes of attribute name, len bytes of payload (the array, the byte
 * string, or a string attribute's text with its NUL). */
typedef struct sr_call_wire {
	uint32_t op, dtype, ndim, attr_type;
	uint32_t key_len, name_len;
	uint64_t shape[SIMREC_MAX_NDIM];
	int64_t attr_i;
	double attr_d;
	uint64_t attr_u;
	uint32_t attr_dtype, pad;
	uint64_t attr_count;
	uint64_t len;
} sr_call_wire;

#define QUEUE_MAX ((size_t)INT_MAX) /* one MPI message */

/* NUL bytes in n bytes at p: the strings of a STRINGS attribute. */
static size_t nuls(const void *p, size_t n)
{
	size_t k = 0;
	for (const char *c = p, *end = c + n; c < end; c++)
		k += *c == 0;
	return k;
}

static int pend_put(sr_agg *a, const void *p, size_t n)
{
	if (!n)
		return 0;
	size_t need;
	if (sr_size_add(a->deferred.len, n, &need) || need > QUEUE_MAX)
		return SIMREC_ENOMEM;
	int rc = sr_grow((void **)&a->deferred.calls, &a->deferred.cap, need);
	if (rc)
		return rc;
	memcpy(a->deferred.calls + a->deferred.len, p, n);
	a->deferred.len = need;
	return 0;
}

int sr_defer_call(simrec_t *rec, const sr_call *c)
{
	sr_agg *a = sr_agg_of(rec);
	sr_call_wire w = {
	        .op = (uint32_t)c->op,
	        .dtype = (uint32_t)c->dtype,
	        .ndim = (uint32_t)c->ndim,
	        .attr_type = (uint32_t)c->attr.type,
	        .key_len = (uint32_t)strlen(c->key),
	        .name_len = c->name ? (uint32_t)strlen(c->name) : 0,
	        .attr_i = c->attr.i,
	        .attr_d = c->attr.d,
	        .attr_u = c->attr.u,
	        .attr_dtype = (uint32_t)c->attr.dtype,
	        .attr_count = c->attr.count,
	        .len = c->len,
	};
	for (int i = 0; i < c->ndim; i++)
		w.shape[i] = c->shape[i];
	size_t mark = a->deferred.len;
	int rc = pend_put(a, &w, sizeof w);
	if (!rc)
		rc = pend_put(a, c->key, w.key_len);
	if (!rc)
		rc = pend_put(a, c->name, w.name_len);
	if (!rc)
		rc = pend_put(a, c->data, c->len);
	if (rc) {
		a->deferred.len = mark; /* nothing half-queued */
		return sr_fail(&rec->err, rc,
		               "rank %d: cannot queue '%s' (the queue of "
		               "independent calls holds at most 2 GiB)",
		               rec->rank, c->key);
	}
	return 0;
}

/* Decode the call at buf[*off]; strings are copied into key/name. */
static int decode(const unsigned char *buf, size_t len, size_t *off, sr_call *c,
                  char *key, size_t kcap, char *name, size_t ncap)
{
	sr_call_wire w;
	if (len - *off < sizeof w)
		return SIMREC_EFORMAT;
	memcpy(&w, buf + *off, sizeof w);
	*off += sizeof w;
	if (w.ndim >= SIMREC_MAX_NDIM || w.key_len >= kcap ||
	    w.name_len >= ncap || len - *off < (size_t)w.key_len + w.name_len)
		return SIMREC_EFORMAT;
	memcpy(key, buf + *off, w.key_len);
	key[w.key_len] = 0;
	*off += w.key_len;
	memcpy(name, buf + *off, w.name_len);
	name[w.name_len] = 0;
	*off += w.name_len;
	if (len - *off < w.len)
		return SIMREC_EFORMAT;
	*c = (sr_call){.op = (sr_op)w.op,
	               .key = key,
	               .dtype = (simrec_dtype_t)w.dtype,
	               .ndim = (int)w.ndim,
	               .data = buf + *off,
	               .len = (size_t)w.len,
	               .name = name};
	for (uint32_t i = 0; i < w.ndim; i++)
		c->shape[i] = (size_t)w.shape[i];
	c->attr.type = (simrec_attr_type_t)w.attr_type;
	c->attr.i = w.attr_i;
	c->attr.d = w.attr_d;
	c->attr.u = w.attr_u;
	c->attr.dtype = (simrec_dtype_t)w.attr_dtype;
	c->attr.count = (size_t)w.attr_count;
	int text = c->attr.type == SIMREC_ATTR_STRING ||
	           c->attr.type == SIMREC_ATTR_STRINGS;
	c->attr.s = text ? (char *)c->data : NULL;
	if (text && (!c->len || ((const char *)c->data)[c->len - 1]))
		return SIMREC_EFORMAT;
	if (c->attr.type == SIMREC_ATTR_STRINGS &&
	    nuls(c->data, c->len) != c->attr.count)
		return SIMREC_EFORMAT;
	c->attr.data =
	        c->attr.type == SIMREC_ATTR_ARRAY ? (void *)c->data : NULL;
	if (c->attr.type == SIMREC_ATTR_ARRAY &&
	    c->attr.count * simrec_dtype_size(c->attr.dtype) != c->len)
		return SIMREC_EFORMAT;
	*off += (size_t)w.len;
	return 0;
}

static int apply_all(simrec_t *rec, const unsigned char *buf, size_t len)
{
	size_t off = 0;
	int status = 0;
	char key[4096], name[1024];
	sr_io_wait(rec);
	while (off < len) {
		sr_call c;
		int rc = decode(buf, len, &off, &c, key, sizeof key, name,
		                sizeof name);
		if (rc)
			return sr_fail(&rec->err, rc,
			               "corrupt queue of independent calls");
		rc = sr_call_apply(rec, &c);
		if (rc && !status)
			status = rc;
	}
	return status;
}

/* Rank 0 gathers every rank's queue (in rank order). */
static int gather_queues(simrec_t *rec, unsigned char **all, int *total)
{
	sr_agg *a = sr_agg_of(rec);
	int mine = (int)a->deferred.len, rc = 0;
	MPI_Gather(&mine, 1, MPI_INT, a->move.rank_bytes, 1, MPI_INT, 0,
	           rec->comm);
	long long sum = 0;
	if (rec->rank == 0) {
		for (int r = 0; r < rec->size; r++) {
			a->move.rank_offsets[r] = (int)sum;
			sum += a->move.rank_bytes[r];
			if (sum > INT_MAX)
				break;
		}
		if (sum > INT_MAX)
			rc = sr_fail(&rec->err, SIMREC_ENOMEM,
			             "independent calls queued since the last "
			             "collective call exceed 2 GiB");
		else if (!(*all = malloc(sum ? (size_t)sum : 1)))
			rc = sr_fail(&rec->err, SIMREC_ENOMEM,
			             "out of memory for the queued calls");
	}
	/* agree before the gather that needs rank 0's buffer */
	MPI_Bcast(&rc, 1, MPI_INT, 0, rec->comm);
	if (rc)
		return rc;
	MPI_Gatherv(a->deferred.calls, mine, MPI_BYTE, *all, a->move.rank_bytes,
	            a->move.rank_offsets, MPI_BYTE, 0, rec->comm);
	*total = (int)sum;
	return 0;
}

int sr_exchange_pending(simrec_t *rec, int64_t maxpend)
{
	sr_agg *a = sr_agg_of(rec);
	if (maxpend <= 0)
		return 0;
	unsigned char *all = NULL;
	int total = 0;
	int rc = gather_queues(rec, &all, &total);
	a->deferred.len = 0;
	if (!rc && a->topo.collective && a->topo.is_writer) {
		/* every writer applies the queue (collective I/O) */
		MPI_Bcast(&total, 1, MPI_INT, 0, a->topo.writers);
		if (rec->rank != 0)
			all = malloc(total ? (size_t)total : 1);
		int ok = all != NULL;
		MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN,
		              a->topo.writers);
		if (ok)
			MPI_Bcast(all, total, MPI_BYTE, 0, a->topo.writers);
		else
			rc = sr_fail(&rec->err, SIMREC_ENOMEM,
			             "out of memory for the queued calls");
	}
	if (!rc &&
	    (rec->rank == 0 || (a->topo.collective && a->topo.is_writer))) {
		a->deferred.applying = 1;
		rc = apply_all(rec, all, (size_t)total);
		a->deferred.applying = 0;
	}
	free(all);
	return sr_agree_status(rec, rc);
}
