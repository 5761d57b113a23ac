/* Collective recording: N ranks aggregated onto M writer ranks.
 *
 * Ranks are split into contiguous groups of g ranks, each with its first
 * rank as writer. A step of simrec_record_all:
 *   1. one MPI_Allreduce agrees on the key, dtype, shape and any earlier
 *      error (so every rank returns the same status);
 *   2. the group's arrays are gathered onto the writer with MPI_Igather
 *      from a private copy, so the caller's buffer is free at return;
 *   3. the writer hands the gathered step to its I/O thread and returns:
 *      the file I/O of step k runs while step k+1 is computed. Two step
 *      buffers per rank bound the memory.
 * Writers of a store that does collective I/O (parallel HDF5 with M > 1)
 * write in the calling thread instead, since the I/O itself calls MPI.
 * Independent calls made on ranks other than 0 (or on every rank when the
 * I/O is collective) are queued and applied by the writers at the next
 * collective call, in rank order. See docs/mpi.md. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/recorder.h"

typedef struct sr_slot {
	MPI_Request req;
	unsigned char *buf;
	size_t cap;
} sr_slot;

struct sr_agg {
	MPI_Comm group, writers;
	size_t g; /* ranks per group (the last group may be smaller) */
	int ngroups, gidx, grank, gsize, is_writer, collective;
	sr_slot slot[2];
	int cur;
	/* pending independent calls, serialized */
	unsigned char *pend;
	size_t npend, cappend;
	/* the writer's I/O thread */
	int has_thread, job, quit, io_status;
	sr_dset *jd;
	const void *jbuf;
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char io_msg[SR_ERRLEN];
	double t_io;
};

/* ---- the I/O thread ---------------------------------------------------- */

static void *io_main(void *arg)
{
	simrec_t *rec = arg;
	sr_agg *a = rec->agg;
	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (!a->job && !a->quit)
			pthread_cond_wait(&a->cv, &a->mu);
		if (!a->job)
			break;
		pthread_mutex_unlock(&a->mu);
		double t0 = sr_now();
		int rc = sr_dset_append(rec, a->jd, a->jbuf);
		double dt = sr_now() - t0;
		pthread_mutex_lock(&a->mu);
		a->t_io += dt;
		if (rc && !a->io_status) {
			a->io_status = rc;
			snprintf(a->io_msg, sizeof a->io_msg, "%s",
			         rec->err.msg);
		}
		a->job = 0;
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

int sr_agg_io_wait(simrec_t *rec)
{
	sr_agg *a = rec->agg;
	if (!a || !a->has_thread)
		return a ? a->io_status : 0;
	pthread_mutex_lock(&a->mu);
	while (a->job)
		pthread_cond_wait(&a->cv, &a->mu);
	int rc = a->io_status;
	pthread_mutex_unlock(&a->mu);
	return rc;
}

static int io_submit(simrec_t *rec, sr_dset *d, const void *buf)
{
	sr_agg *a = rec->agg;
	if (!a->has_thread) {
		double t0 = sr_now();
		int rc = sr_dset_append(rec, d, buf);
		a->t_io += sr_now() - t0;
		if (rc && !a->io_status) {
			a->io_status = rc;
			snprintf(a->io_msg, sizeof a->io_msg, "%s",
			         rec->err.msg);
		}
		return 0;
	}
	sr_agg_io_wait(rec);
	pthread_mutex_lock(&a->mu);
	a->jd = d;
	a->jbuf = buf;
	a->job = 1;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	return 0;
}

/* ---- agreement --------------------------------------------------------- */

enum { F_STATUS, F_DTYPE, F_NDIM, F_KEY, F_PEND, F_SHAPE };
#define NFIELDS (F_SHAPE + SIMREC_MAX_NDIM)

/* One MPI_Allreduce(MAX) over (x, -x) pairs gives every field's max and
 * min on every rank: equal means all ranks agree. */
typedef struct agree {
	int64_t max[NFIELDS], min[NFIELDS];
} agree;

static int agree_all(simrec_t *rec, const int64_t *f, agree *out)
{
	int64_t v[2 * NFIELDS], r[2 * NFIELDS];
	for (int i = 0; i < NFIELDS; i++) {
		v[2 * i] = f[i];
		v[2 * i + 1] = -f[i];
	}
	if (MPI_Allreduce(v, r, 2 * NFIELDS, MPI_INT64_T, MPI_MAX, rec->comm))
		return SIMREC_EMPI;
	for (int i = 0; i < NFIELDS; i++) {
		out->max[i] = r[2 * i];
		out->min[i] = -r[2 * i + 1];
	}
	return 0;
}

static int64_t key_hash(const char *key)
{
	uint64_t h = 1469598103934665603ULL;
	for (; key && *key; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return (int64_t)(h >> 1);
}

/* After a failed agreement: every rank learns which ranks failed and
 * why, and returns the same status. */
static int explain(simrec_t *rec, const char *key, const int64_t *f,
                   const agree *ag)
{
	int64_t *all = malloc((size_t)rec->size * NFIELDS * sizeof *all);
	if (!all)
		return sr_fail(&rec->err, SIMREC_ENOMEM, "out of memory");
	MPI_Allgather(f, NFIELDS, MPI_INT64_T, all, NFIELDS, MPI_INT64_T,
	              rec->comm);
	int status = (int)ag->min[F_STATUS];
	char msg[SR_ERRLEN];
	int n = 0;
	if (status < 0) {
		/* a rank failed before agreeing: name the ranks */
		n = snprintf(msg, sizeof msg, "key '%s': %s on", key ? key : "",
		             simrec_strerror(status));
		for (int r = 0, shown = 0; r < rec->size && n < (int)sizeof msg;
		     r++)
			if (all[r * NFIELDS + F_STATUS] < 0 && shown++ < 8)
				n += snprintf(msg + n, sizeof msg - (size_t)n,
				              " rank %d", r);
		if (f[F_STATUS] < 0 && rec->err.msg[0] && n < (int)sizeof msg)
			snprintf(msg + n, sizeof msg - (size_t)n, " (here: %s)",
			         rec->err.msg);
	} else {
		status = ag->min[F_KEY] != ag->max[F_KEY]       ? SIMREC_EINVAL
		         : ag->min[F_DTYPE] != ag->max[F_DTYPE] ? SIMREC_EDTYPE
		                                                : SIMREC_ESHAPE;
		n = snprintf(
		        msg, sizeof msg,
		        "key '%s': ranks disagree on the %s; the step is not "
		        "written:",
		        key ? key : "",
		        status == SIMREC_EINVAL   ? "key"
		        : status == SIMREC_EDTYPE ? "dtype"
		                                  : "shape");
		const int64_t *r0 = all;
		for (int r = 0, shown = 0; r < rec->size && n < (int)sizeof msg;
		     r++) {
			const int64_t *x = all + r * NFIELDS;
			if (r && x[F_DTYPE] == r0[F_DTYPE] &&
			    x[F_NDIM] == r0[F_NDIM] && x[F_KEY] == r0[F_KEY] &&
			    !memcmp(x + F_SHAPE, r0 + F_SHAPE,
			            SIMREC_MAX_NDIM * sizeof *x))
				continue;
			if (shown++ >= 6)
				break;
			n += snprintf(
			        msg + n, sizeof msg - (size_t)n,
			        " rank %d: %s (", r,
			        simrec_dtype_name((simrec_dtype_t)x[F_DTYPE])
			                ? simrec_dtype_name(
			                          (simrec_dtype_t)x[F_DTYPE])
			                : "?");
			for (int i = 0; i < x[F_NDIM] && i < SIMREC_MAX_NDIM &&
			                n < (int)sizeof msg;
			     i++)
				n += snprintf(msg + n, sizeof msg - (size_t)n,
				              "%s%lld", i ? ", " : "",
				              (long long)x[F_SHAPE + i]);
			if (n < (int)sizeof msg)
				n += snprintf(msg + n, sizeof msg - (size_t)n,
				              "%s);",
				              x[F_NDIM] == 1 ? "," : "");
		}
	}
	free(all);
	sr_fail(&rec->err, status, "%s", msg);
	return status;
}

/* ---- deferred independent calls ----------------------------------------
 * Layout: u32 op, u32 dtype, u32 ndim, u64 shape[ndim], u32 keylen, key,
 * u32 namelen, name, u32 attr type, i64, f64, u64 len, data. */

static int pend_put(sr_agg *a, const void *p, size_t n)
{
	if (a->npend + n > a->cappend) {
		size_t c = a->cappend ? a->cappend : 4096;
		while (c < a->npend + n)
			c *= 2;
		unsigned char *q = realloc(a->pend, c);
		if (!q)
			return SIMREC_ENOMEM;
		a->pend = q;
		a->cappend = c;
	}
	memcpy(a->pend + a->npend, p, n);
	a->npend += n;
	return 0;
}

int sr_agg_defer(simrec_t *rec, sr_op op, const char *key, simrec_dtype_t dt,
                 int ndim, const size_t *shape, const void *data, size_t len,
                 const char *name, const simrec_attr_t *attr)
{
	sr_agg *a = rec->agg;
	size_t n = 1;
	for (int i = 0; i < ndim; i++)
		n *= shape[i];
	if (op == SR_OP_RECORD || op == SR_OP_SET)
		len = n * simrec_dtype_size(dt);
	if (op == SR_OP_ATTR && attr->type == SIMREC_ATTR_STRING) {
		data = attr->s;
		len = strlen(attr->s) + 1;
	}
	if (op == SR_OP_ATTR && (attr->type == SIMREC_ATTR_ARRAY ||
	                         attr->type == SIMREC_ATTR_EMPTY)) {
		dt = attr->dtype;
		data = attr->data;
		len = attr->type == SIMREC_ATTR_ARRAY
		              ? attr->count * simrec_dtype_size(dt)
		              : 0;
	}
	uint32_t h[3] = {(uint32_t)op, (uint32_t)dt, (uint32_t)ndim};
	uint32_t kl = (uint32_t)strlen(key),
	         nl = name ? (uint32_t)strlen(name) : 0;
	uint32_t at = attr ? (uint32_t)attr->type : 0;
	int64_t ai = !attr                            ? 0
	             : attr->type == SIMREC_ATTR_UINT ? (int64_t)attr->u
	                                              : attr->i;
	double ad = attr ? attr->d : 0;
	uint64_t l64 = len;
	int rc = pend_put(a, h, sizeof h);
	for (int i = 0; i < ndim && !rc; i++) {
		uint64_t s = shape[i];
		rc = pend_put(a, &s, 8);
	}
	if (!rc)
		rc = pend_put(a, &kl, 4);
	if (!rc)
		rc = pend_put(a, key, kl);
	if (!rc)
		rc = pend_put(a, &nl, 4);
	if (!rc && nl)
		rc = pend_put(a, name, nl);
	if (!rc)
		rc = pend_put(a, &at, 4);
	if (!rc)
		rc = pend_put(a, &ai, 8);
	if (!rc)
		rc = pend_put(a, &ad, 8);
	if (!rc)
		rc = pend_put(a, &l64, 8);
	if (!rc && len)
		rc = pend_put(a, data, len);
	return rc ? sr_fail(&rec->err, rc, "out of memory queueing '%s'", key)
	          : 0;
}

#define TAKE(dst, n)                           \
	do {                                   \
		if (off + (n) > len)           \
			return SIMREC_EFORMAT; \
		memcpy((dst), buf + off, (n)); \
		off += (n);                    \
	} while (0)

/* Apply a queue of deferred calls through the public entry points (which
 * then act locally: sr_agg_local_ok is true while applying). */
static int apply_pending(simrec_t *rec, const unsigned char *buf, size_t len)
{
	size_t off = 0;
	int status = 0;
	while (off < len) {
		uint32_t h[3], kl, nl, at;
		uint64_t shape64[SIMREC_MAX_NDIM], l64;
		size_t shape[SIMREC_MAX_NDIM];
		int64_t ai;
		double ad;
		char key[4096], name[1024];
		TAKE(h, sizeof h);
		if (h[2] >= SIMREC_MAX_NDIM)
			return SIMREC_EFORMAT;
		TAKE(shape64, h[2] * 8);
		for (uint32_t i = 0; i < h[2]; i++)
			shape[i] = (size_t)shape64[i];
		TAKE(&kl, 4);
		if (kl >= sizeof key)
			return SIMREC_EFORMAT;
		TAKE(key, kl);
		key[kl] = 0;
		TAKE(&nl, 4);
		if (nl >= sizeof name)
			return SIMREC_EFORMAT;
		TAKE(name, nl);
		name[nl] = 0;
		TAKE(&at, 4);
		TAKE(&ai, 8);
		TAKE(&ad, 8);
		TAKE(&l64, 8);
		if (off + l64 > len)
			return SIMREC_EFORMAT;
		const void *data = buf + off;
		off += l64;
		int rc;
		switch ((sr_op)h[0]) {
		case SR_OP_RECORD:
			rc = simrec_record(rec, key, (simrec_dtype_t)h[1],
			                   (int)h[2], shape, data);
			break;
		case SR_OP_BYTES:
			rc = simrec_record_bytes(rec, key, (simrec_dtype_t)h[1],
			                         data, (size_t)l64);
			break;
		case SR_OP_SET:
			rc = simrec_set(rec, key, (simrec_dtype_t)h[1],
			                (int)h[2], shape, data);
			break;
		default: {
			simrec_attr_t a = {.type = (simrec_attr_type_t)at,
			                   .i = ai,
			                   .u = (uint64_t)ai,
			                   .d = ad,
			                   .s = (char *)data,
			                   .dtype = (simrec_dtype_t)h[1],
			                   .data = (void *)data};
			size_t esz = simrec_dtype_size(a.dtype);
			a.count = esz ? (size_t)l64 / esz : 0;
			if (at != SIMREC_ATTR_STRING)
				a.s = NULL;
			if (at != SIMREC_ATTR_ARRAY)
				a.data = NULL;
			rc = simrec_attr_set(rec, key, name, &a);
		}
		}
		if (rc && !status)
			status = rc;
	}
	return status;
}

static int applying; /* set while apply_pending runs on this process */

int sr_agg_local_ok(simrec_t *rec)
{
	sr_agg *a = rec->agg;
	if (applying || (rec->rank == 0 && !a->collective)) {
		sr_agg_io_wait(rec);
		return 1;
	}
	return 0;
}

/* Collect every rank's queue on rank 0 (rank order) and apply it there,
 * or on every writer when the I/O is collective. */
static int exchange_pending(simrec_t *rec, int64_t maxpend)
{
	sr_agg *a = rec->agg;
	if (maxpend <= 0)
		return 0;
	long long mine = (long long)a->npend, *counts = NULL;
	if (rec->rank == 0 && !(counts = malloc((size_t)rec->size * 8)))
		return SIMREC_ENOMEM;
	MPI_Gather(&mine, 1, MPI_LONG_LONG, counts, 1, MPI_LONG_LONG, 0,
	           rec->comm);
	unsigned char *all = NULL;
	long long total = 0;
	if (rec->rank == 0) {
		for (int r = 0; r < rec->size; r++)
			total += counts[r];
		all = malloc(total ? (size_t)total : 1);
		long long off = 0;
		for (int r = 0; all && r < rec->size; r++) {
			if (r == 0)
				memcpy(all, a->pend, a->npend);
			else if (counts[r])
				MPI_Recv(all + off, (int)counts[r], MPI_BYTE, r,
				         77, rec->comm, MPI_STATUS_IGNORE);
			off += counts[r];
		}
	} else if (a->npend) {
		MPI_Send(a->pend, (int)a->npend, MPI_BYTE, 0, 77, rec->comm);
	}
	a->npend = 0;
	free(counts);
	int rc = 0;
	if (a->collective && a->is_writer) {
		MPI_Bcast(&total, 1, MPI_LONG_LONG, 0, a->writers);
		if (rec->rank != 0)
			all = malloc(total ? (size_t)total : 1);
		MPI_Bcast(all, (int)total, MPI_BYTE, 0, a->writers);
	}
	if (all && (rec->rank == 0 || (a->collective && a->is_writer))) {
		sr_agg_io_wait(rec);
		applying = 1;
		rc = apply_pending(rec, all, (size_t)total);
		applying = 0;
	}
	free(all);
	return rc;
}

/* ---- open -------------------------------------------------------------- */

static int env_int(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? atoi(v) : 0;
}

/* Ranks per writer: option, environment, else one writer per node (the
 * largest node decides, so groups stay contiguous). */
static int group_size(simrec_t *rec, unsigned flags, size_t *g)
{
	int per = rec->opts.ranks_per_writer, m = rec->opts.writers;
	if (!per)
		per = env_int("SIMREC_RANKS_PER_WRITER");
	if (!m)
		m = env_int("SIMREC_WRITERS");
	if (per < 0 || m < 0)
		return sr_fail(&rec->err, SIMREC_ECONFIG,
		               "writers and ranks per writer must be positive");
	if (flags & SR_STORE_DISTRIBUTED) {
		*g = 1; /* redis: every rank pushes its own array */
	} else if (m) {
		if (m > rec->size)
			m = rec->size;
		*g = ((size_t)rec->size + (size_t)m - 1) / (size_t)m;
	} else if (per) {
		*g = (size_t)per;
	} else if (flags & SR_STORE_ONE_NODE) {
		*g = (size_t)rec->size; /* LMDB: a single writer by default */
	} else {
		MPI_Comm node;
		int nsize;
		MPI_Comm_split_type(rec->comm, MPI_COMM_TYPE_SHARED, rec->rank,
		                    MPI_INFO_NULL, &node);
		MPI_Comm_size(node, &nsize);
		MPI_Comm_free(&node);
		MPI_Allreduce(MPI_IN_PLACE, &nsize, 1, MPI_INT, MPI_MAX,
		              rec->comm);
		*g = (size_t)nsize;
	}
	if (*g > (size_t)rec->size)
		*g = (size_t)rec->size;
	return 0;
}

/* LMDB has one lock file per host: its writers must share one node. */
static int check_one_node(simrec_t *rec, const char *uris)
{
	MPI_Comm node;
	MPI_Comm_split_type(rec->comm, MPI_COMM_TYPE_SHARED, rec->rank,
	                    MPI_INFO_NULL, &node);
	int leader = rec->rank;
	MPI_Bcast(&leader, 1, MPI_INT, 0, node);
	MPI_Comm_free(&node);
	int lo = rec->agg->is_writer ? leader : rec->size,
	    hi = rec->agg->is_writer ? leader : -1;
	MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN, rec->comm);
	MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX, rec->comm);
	if (lo != hi)
		return sr_fail(
		        &rec->err, SIMREC_ECONFIG,
		        "'%s': an LMDB zarr store allows writers on one "
		        "node only, but the %d writers span several nodes "
		        "(ranks %d and %d lead different nodes); use "
		        "zarr+dir: or hdf5: on shared storage, or "
		        "SIMREC_WRITERS=1",
		        uris, rec->agg->ngroups, lo, hi);
	return 0;
}

static unsigned scheme_flags(const char *uris)
{
	unsigned f = 0;
	char *list = strdup(uris), *save = NULL;
	for (char *u = list ? strtok_r(list, ";", &save) : NULL; u;
	     u = strtok_r(NULL, ";", &save)) {
		while (*u == ' ')
			u++;
		char *c = strchr(u, ':');
		if (!c)
			continue;
		*c = 0;
		const sr_store_ops *ops = sr_store_find(u);
		if (ops)
			f |= ops->flags;
	}
	free(list);
	return f;
}

static int agree_status(simrec_t *rec, int rc)
{
	int all = rc;
	MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, rec->comm);
	if (all && !rc)
		sr_fail(&rec->err, all, "another rank failed: %s",
		        simrec_strerror(all));
	return all;
}

static void agg_free(simrec_t *rec)
{
	sr_agg *a = rec->agg;
	if (!a)
		return;
	if (a->has_thread) {
		pthread_mutex_lock(&a->mu);
		a->quit = 1;
		pthread_cond_broadcast(&a->cv);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->thr, NULL);
		pthread_mutex_destroy(&a->mu);
		pthread_cond_destroy(&a->cv);
	}
	for (int i = 0; i < 2; i++)
		free(a->slot[i].buf);
	free(a->pend);
	if (a->group != MPI_COMM_NULL)
		MPI_Comm_free(&a->group);
	if (a->writers != MPI_COMM_NULL)
		MPI_Comm_free(&a->writers);
	free(a);
	rec->agg = NULL;
}

int simrec_open_comm(simrec_t **out, const char *uris,
                     const simrec_options_t *opts, MPI_Comm comm)
{
	if (!out)
		return SIMREC_EINVAL;
	*out = NULL;
	if (!sr_mpi_active())
		return SIMREC_EMPI;
	const char *env = getenv("SIMREC_STORE");
	if (env && *env)
		uris = env;
	simrec_t *rec;
	int rc = sr_rec_alloc(&rec, opts);
	if (rc)
		return rc;
	MPI_Comm_dup(comm, &rec->comm);
	MPI_Comm_rank(rec->comm, &rec->rank);
	MPI_Comm_size(rec->comm, &rec->size);
	sr_agg *a = rec->agg = calloc(1, sizeof *a);
	if (!a) {
		MPI_Comm_free(&rec->comm);
		sr_rec_free(rec);
		return SIMREC_ENOMEM;
	}
	a->group = a->writers = MPI_COMM_NULL;
	a->slot[0].req = a->slot[1].req = MPI_REQUEST_NULL;
	unsigned flags = uris ? scheme_flags(uris) : 0;
	rc = uris ? group_size(rec, flags, &a->g)
	          : sr_fail(&rec->err, SIMREC_EINVAL, "no store URI");
	if (!rc) {
		a->ngroups = (int)(((size_t)rec->size + a->g - 1) / a->g);
		a->gidx = (int)((size_t)rec->rank / a->g);
		MPI_Comm_split(rec->comm, a->gidx, rec->rank, &a->group);
		MPI_Comm_rank(a->group, &a->grank);
		MPI_Comm_size(a->group, &a->gsize);
		a->is_writer = a->grank == 0;
		MPI_Comm_split(rec->comm, a->is_writer ? 0 : MPI_UNDEFINED,
		               rec->rank, &a->writers);
		a->collective = (flags & SR_STORE_COLLECTIVE) && a->ngroups > 1;
		if (flags & SR_STORE_ONE_NODE)
			rc = check_one_node(rec, uris);
	}
	rc = agree_status(rec, rc);
	/* writer 0 opens first (it may replace an old store), then the
	 * others; collective stores open on all writers at once */
	MPI_Comm wcomm = a->collective ? a->writers : MPI_COMM_NULL;
	if (!rc && a->is_writer && (a->collective || rec->rank == 0))
		rc = sr_open_stores(rec, uris, wcomm, rec->rank == 0);
	if (a->is_writer && !a->collective) {
		int r0 = rc;
		MPI_Bcast(&r0, 1, MPI_INT, 0, a->writers);
		if (!r0 && !rc && rec->rank != 0) {
			simrec_options_t o = rec->opts;
			if (o.mode == SIMREC_MODE_CREATE)
				o.mode = SIMREC_MODE_APPEND;
			simrec_options_t keep = rec->opts;
			rec->opts = o;
			rc = sr_open_stores(rec, uris, wcomm, 0);
			rec->opts = keep;
		}
	}
	if (!rc && a->is_writer && !a->collective) {
		pthread_mutex_init(&a->mu, NULL);
		pthread_cond_init(&a->cv, NULL);
		a->has_thread =
		        pthread_create(&a->thr, NULL, io_main, rec) == 0;
	}
	rc = agree_status(rec, rc);
	if (rc) {
		if (rec->rank == 0 || rec->err.msg[0])
			fprintf(stderr, "simrec: rank %d: %s\n", rec->rank,
			        rec->err.msg);
		agg_free(rec);
		for (int i = 0; i < rec->nst; i++)
			sr_store_close(rec->st[i], NULL);
		MPI_Comm_free(&rec->comm);
		sr_rec_free(rec);
		return rc;
	}
	*out = rec;
	return 0;
}

/* ---- record_all -------------------------------------------------------- */

/* The writer's dataset for key: writer 0 decides (existing or new),
 * the others follow its metadata. */
static int writer_dset(simrec_t *rec, const char *key, simrec_dtype_t dt,
                       int ndim, const size_t *shape, sr_dset **out)
{
	sr_agg *a = rec->agg;
	size_t full[SIMREC_MAX_NDIM];
	full[0] = (size_t)rec->size;
	if (ndim)
		memcpy(full + 1, shape, (size_t)ndim * sizeof *shape);
	sr_dset_init init = {.col0 = (size_t)a->gidx * a->g,
	                     .ncol = (size_t)a->gsize,
	                     .group = a->g};
	if (a->collective || a->ngroups == 1)
		return sr_dset_get(rec, key, dt, ndim + 1, full, 0, &init, out);
	/* known already? then nobody needs to talk */
	int rc = 0;
	sr_meta m;
	memset(&m, 0, sizeof m);
	if (rec->rank == 0) {
		rc = sr_dset_get(rec, key, dt, ndim + 1, full, 0, &init, out);
		if (!rc)
			m = (*out)->m;
	}
	int st[2] = {rc, 0};
	MPI_Bcast(st, 2, MPI_INT, 0, a->writers);
	MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, 0, a->writers);
	if (rec->rank == 0)
		return rc;
	if (st[0])
		return sr_fail(&rec->err, st[0], "writer 0 failed on '%s'",
		               key);
	init.known = &m;
	return sr_dset_get(rec, key, dt, ndim + 1, full, 0, &init, out);
}

static int check_existing(simrec_t *rec, const char *key, simrec_dtype_t dt,
                          int ndim, const size_t *shape)
{
	size_t full[SIMREC_MAX_NDIM];
	full[0] = (size_t)rec->size;
	if (ndim)
		memcpy(full + 1, shape, (size_t)ndim * sizeof *shape);
	sr_dset *d = sr_dset_find(rec, key);
	if (d)
		return sr_check_record(rec, d, dt, ndim + 1, full);
	sr_agg_io_wait(rec);
	sr_dset tmp;
	memset(&tmp, 0, sizeof tmp);
	tmp.key = (char *)key;
	void *h = NULL;
	sr_store *st = rec->st[0];
	int rc = st->ops->lookup(st, key, &tmp.m, &h);
	if (h)
		st->ops->release(st, h);
	if (rc == SIMREC_ENOKEY)
		return 0;
	if (rc == SIMREC_EKIND ||
	    (!rc && tmp.m.is_value && tmp.m.is_value != 4))
		return sr_fail(&rec->err, SIMREC_EKIND,
		               "key '%s' in '%s' is not a recorded dataset",
		               key, st->uri.path);
	return rc ? rc : sr_check_record(rec, &tmp, dt, ndim + 1, full);
}

int sr_agg_record_all(simrec_t *rec, const char *key, simrec_dtype_t dt,
                      int ndim, const size_t *shape, const void *data)
{
	sr_agg *a = rec->agg;
	double t0 = sr_now();
	rec->err.msg[0] = 0;
	int64_t f[NFIELDS] = {0};
	int local = 0;
	if (!sr_key_valid(key))
		local = sr_fail(&rec->err, SIMREC_EINVAL, "invalid key '%s'",
		                key ? key : "(null)");
	else if ((int)dt < 0 || dt >= SIMREC_BYTES || ndim < 0 ||
	         ndim >= SIMREC_MAX_NDIM - 1 || (ndim && !shape) || !data)
		local = sr_fail(&rec->err, SIMREC_EINVAL,
		                "key '%s': invalid dtype, ndim, shape or data",
		                key);
	else if (rec->nst && rec->st[0]->mode == SIMREC_MODE_READONLY)
		local = sr_fail(&rec->err, SIMREC_EREADONLY,
		                "key '%s': store '%s' is open read-only", key,
		                rec->st[0]->uri.path);
	size_t bytes = local ? 0 : simrec_dtype_size(dt);
	for (int i = 0; !local && i < ndim; i++)
		bytes *= shape[i];
	if (!local && bytes > (size_t)INT32_MAX)
		local = sr_fail(
		        &rec->err, SIMREC_EINVAL,
		        "key '%s': a rank's array may hold at most 2 GiB", key);
	/* writers check the record against an existing dataset now, so
	 * that a mismatch fails on every rank */
	if (!local && a->is_writer)
		local = check_existing(rec, key, dt, ndim, shape);
	/* an earlier background write failure surfaces here, on all ranks */
	int io = sr_agg_io_wait(rec);
	if (!local && io) {
		local = io;
		sr_fail(&rec->err, io, "%s", a->io_msg);
	}
	f[F_STATUS] = local;
	f[F_DTYPE] = local ? -1 : (int64_t)dt;
	f[F_NDIM] = local ? -1 : ndim;
	f[F_KEY] = key_hash(key);
	f[F_PEND] = (int64_t)a->npend;
	for (int i = 0; !local && i < ndim; i++)
		f[F_SHAPE + i] = (int64_t)shape[i];
	agree ag;
	if (agree_all(rec, f, &ag))
		return sr_fail(&rec->err, SIMREC_EMPI, "MPI_Allreduce failed");
	int bad = ag.min[F_STATUS] < 0;
	for (int i = F_DTYPE; i < NFIELDS && !bad; i++)
		bad = i != F_PEND && ag.min[i] != ag.max[i];
	if (bad)
		return explain(rec, key, f, &ag);
	int rc = exchange_pending(rec, ag.max[F_PEND]);
	/* gather this step onto the writer */
	sr_slot *s = &a->slot[a->cur];
	size_t need = a->is_writer ? bytes * (size_t)a->gsize : bytes;
	MPI_Wait(&s->req, MPI_STATUS_IGNORE); /* the step before last */
	if (need > s->cap) {
		if (a->is_writer)
			sr_agg_io_wait(rec); /* the thread may still read it */
		void *p = realloc(s->buf, need);
		if (!p)
			return sr_fail(
			        &rec->err, SIMREC_ENOMEM,
			        "rank %d: out of memory for a %zu-byte step",
			        rec->rank, need);
		s->buf = p;
		s->cap = need;
	}
	if (a->is_writer) {
		/* slot cur held step k-2, long written: the thread works on
		 * slot cur^1 at most */
		MPI_Igather(data, (int)bytes, MPI_BYTE, s->buf, (int)bytes,
		            MPI_BYTE, 0, a->group, &s->req);
		MPI_Wait(&s->req, MPI_STATUS_IGNORE);
		sr_dset *d = NULL;
		int r2 = writer_dset(rec, key, dt, ndim, shape, &d);
		if (!r2)
			io_submit(rec, d, s->buf);
		else if (!a->io_status) {
			a->io_status = r2;
			snprintf(a->io_msg, sizeof a->io_msg, "%s",
			         rec->err.msg);
		}
	} else {
		memcpy(s->buf, data, bytes);
		MPI_Igather(s->buf, (int)bytes, MPI_BYTE, NULL, 0, MPI_BYTE, 0,
		            a->group, &s->req);
	}
	a->cur ^= 1;
	rec->bytes_in += bytes;
	rec->t_in += sr_now() - t0;
	return rc;
}

/* ---- flush and close --------------------------------------------------- */

static int collective_flush(simrec_t *rec)
{
	sr_agg *a = rec->agg;
	for (int i = 0; i < 2; i++)
		MPI_Wait(&a->slot[i].req, MPI_STATUS_IGNORE);
	int rc = sr_agg_io_wait(rec);
	if (rc)
		sr_fail(&rec->err, rc, "%s", a->io_msg);
	int64_t pend = (int64_t)a->npend;
	MPI_Allreduce(MPI_IN_PLACE, &pend, 1, MPI_INT64_T, MPI_MAX, rec->comm);
	int r2 = exchange_pending(rec, pend);
	if (!rc)
		rc = r2;
	if (a->is_writer && rec->nst &&
	    rec->st[0]->mode != SIMREC_MODE_READONLY) {
		double t0 = sr_now();
		r2 = sr_flush_local(rec);
		a->t_io += sr_now() - t0;
		if (!rc)
			rc = r2;
	}
	return agree_status(rec, rc);
}

int sr_agg_flush(simrec_t *rec)
{
	return collective_flush(rec);
}

static void print_summary(simrec_t *rec)
{
	sr_agg *a = rec->agg;
	double v[3] = {(double)rec->bytes_in, rec->t_in, a->t_io};
	double mx[3], mn[3], sum[3];
	MPI_Reduce(v, mx, 3, MPI_DOUBLE, MPI_MAX, 0, rec->comm);
	MPI_Reduce(v, mn, 3, MPI_DOUBLE, MPI_MIN, 0, rec->comm);
	MPI_Reduce(v, sum, 3, MPI_DOUBLE, MPI_SUM, 0, rec->comm);
	if (rec->rank)
		return;
	fprintf(stderr,
	        "simrec: I/O summary over %d ranks, %d writer(s):\n"
	        "  recorded %.1f MB (per rank %.1f .. %.1f MB)\n"
	        "  time in simrec calls per rank %.3f .. %.3f s\n"
	        "  writer I/O time %.3f s max; %.1f MB/s aggregate\n",
	        rec->size, a->ngroups, sum[0] / 1e6, mn[0] / 1e6, mx[0] / 1e6,
	        mn[1], mx[1], mx[2], mx[2] > 0 ? sum[0] / 1e6 / mx[2] : 0.0);
}

int sr_agg_close(simrec_t *rec)
{
	double t0 = sr_now();
	int rc = collective_flush(rec);
	rec->t_in += sr_now() - t0;
	if (rec->opts.io_summary)
		print_summary(rec);
	return rc;
}

/* After the stores are closed (a collective store's close still uses the
 * writers' communicator). */
void sr_agg_free(simrec_t *rec)
{
	agg_free(rec);
	MPI_Comm_free(&rec->comm);
}
