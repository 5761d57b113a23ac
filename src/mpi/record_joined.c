/* simrec_record_joined: every rank gives rows of one row shape, any
 * number (0 too); the step is their concatenation in rank order. The
 * agreement checks the key, dtype and row shape (agree.c); an
 * MPI_Allgather gives every rank every rank's row count; the rows are
 * gathered (MPI_Gatherv, straight from the callers' buffers) onto rank 0,
 * whose I/O thread appends them and then the step's count
 * (core/joined.c). On a collective store (parallel HDF5 with several
 * writers) the other writers make the same calls with empty selections.
 * See docs/mpi.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/joined.h"
#include "coll.h"

static int joined_known(const sr_agg *a, const char *key)
{
	for (size_t i = 0; i < a->keys.njoined; i++)
		if (!strcmp(a->keys.joined[i], key))
			return 1;
	return 0;
}

static void joined_mark(sr_agg *a, const char *key)
{
	char *k = strdup(key);
	if (!k ||
	    SR_GROW_N(a->keys.joined, a->keys.capjoined, a->keys.njoined + 1)) {
		free(k); /* only costs the open again next time */
		return;
	}
	a->keys.joined[a->keys.njoined++] = k;
}

void sr_joined_free(sr_agg *a)
{
	for (size_t i = 0; i < a->keys.njoined; i++)
		free(a->keys.joined[i]);
	free(a->keys.joined);
	a->keys.joined = NULL;
	a->keys.njoined = a->keys.capjoined = 0;
}

/* Rows per rank (rank 0 keeps their byte counts and offsets for the
 * gather); their total, at most 2 GiB a step. The same on every rank. */
static int count_rows(simrec_t *rec, const char *key, size_t nrows,
                      size_t row_bytes, size_t *total)
{
	sr_agg *a = sr_agg_of(rec);
	int64_t mine = (int64_t)nrows;
	int64_t *all = malloc((size_t)rec->size * sizeof *all);
	int ok = all != NULL;
	MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, rec->comm);
	if (!ok) {
		free(all);
		return sr_fail(&rec->err, SIMREC_ENOMEM, "out of memory");
	}
	MPI_Allgather(&mine, 1, MPI_INT64_T, all, 1, MPI_INT64_T, rec->comm);
	size_t sum = 0;
	for (int r = 0; r < rec->size; r++) {
		sum += (size_t)all[r]; /* each at most 2 GiB of bytes */
		if (sum * row_bytes > (size_t)INT32_MAX)
			break;
		if (rec->rank == 0) {
			a->move.rank_bytes[r] =
			        (int)((size_t)all[r] * row_bytes);
			a->move.rank_offsets[r] =
			        (int)((sum - (size_t)all[r]) * row_bytes);
		}
	}
	free(all);
	*total = sum;
	if (sum * row_bytes > (size_t)INT32_MAX)
		return sr_fail(&rec->err, SIMREC_EINVAL,
		               "key '%s': a step of a joined array may hold at "
		               "most 2 GiB",
		               key);
	return 0;
}

/* Ranks that write a joined array: rank 0, which holds the rows, and on
 * a collective store every writer (the others with empty selections). */
static int writes(const sr_agg *a, const simrec_t *rec)
{
	return rec->rank == 0 || (a->topo.collective && a->topo.is_writer);
}

/* The writing ranks' datasets of the key, at its first step. Collective. */
static int first_step(simrec_t *rec, const char *key, simrec_dtype_t dt,
                      int ndim, const size_t *shape)
{
	sr_agg *a = sr_agg_of(rec);
	int rc = 0;
	if (writes(a, rec)) {
		sr_io_wait(rec); /* the store: the I/O thread must be idle */
		sr_dset *rows, *count;
		rc = sr_joined_open(rec, key, dt, ndim - 1, shape + 1,
		                    rec->rank != 0, &rows, &count);
	}
	rc = sr_agree_status(rec, rc);
	if (!rc)
		joined_mark(a, key);
	return rc;
}

/* After the agreement: count, plan (first step), gather, hand to the I/O
 * thread. The same status on every rank. */
static int joined_step(simrec_t *rec, const char *key, simrec_dtype_t dt,
                       int ndim, const size_t *shape, const void *data)
{
	sr_agg *a = sr_agg_of(rec);
	size_t row_bytes = simrec_dtype_size(dt), total = 0;
	for (int i = 1; i < ndim; i++)
		row_bytes *= shape[i];
	int rc = count_rows(rec, key, shape[0], row_bytes, &total);
	if (!rc && !joined_known(a, key))
		rc = first_step(rec, key, dt, ndim, shape);
	if (rc)
		return rc;
	rc = sr_agree_status(
	        rec, rec->rank == 0
	                     ? sr_step_buf_prepare(rec, total * row_bytes + 1)
	                     : 0);
	if (rc)
		return rc;
	unsigned char *buf =
	        rec->rank == 0 ? a->move.step_buf[a->move.current].buf : NULL;
	double t0 = sr_clock();
	MPI_Gatherv(data, (int)(shape[0] * row_bytes), MPI_BYTE, buf,
	            a->move.rank_bytes, a->move.rank_offsets, MPI_BYTE, 0,
	            rec->comm);
	a->time.move += sr_clock() - t0;
	if (writes(a, rec)) {
		char ckey[4096];
		sr_joined_count_key(rec, key, ckey, sizeof ckey);
		sr_step_write w = {.d = sr_dset_find(rec, key),
		                   .buf = buf,
		                   .count = sr_dset_find(rec, ckey),
		                   .rows = total};
		sr_io_submit(rec, &w);
	}
	a->move.current ^= 1;
	return 0;
}

static int serial_joined(simrec_t *rec, const char *key, simrec_dtype_t dt,
                         int ndim, const size_t *shape, const void *data)
{
	size_t bytes;
	int rc = sr_joined_check_args(rec, key, dt, ndim, shape, data, &bytes);
	if (rc)
		return rc;
	double t0 = sr_clock();
	char ckey[4096];
	rc = sr_joined_count_key(rec, key, ckey, sizeof ckey);
	sr_dset *rows = sr_dset_find(rec, key),
	        *count = sr_dset_find(rec, ckey);
	if (!rc && (!rows || !count))
		rc = sr_joined_open(rec, key, dt, ndim - 1, shape + 1, 0, &rows,
		                    &count);
	if (!rc)
		rc = sr_check_record(rec, rows, dt, ndim - 1, shape + 1);
	if (!rc && (rows->broken || count->broken))
		rc = sr_fail(&rec->err,
		             rows->broken ? rows->broken : count->broken,
		             "key '%s': a write of it failed before: nothing "
		             "more is recorded under it",
		             key);
	sr_step_write w = {
	        .d = rows, .buf = data, .count = count, .rows = shape[0]};
	return sr_step_write_serial(rec, rc, &w, bytes, t0);
}

/* A joined array's step arguments, for sr_step_agree_run. */
typedef struct joined_step_args {
	sr_step_call call;
	const size_t *shape; /* this rank's rows first */
	const void *data;
} joined_step_args;

static int run_step(simrec_t *rec, void *ctx)
{
	const joined_step_args *s = ctx;
	const sr_step_call *c = &s->call;
	return joined_step(rec, c->key, c->dtype, c->ndim, s->shape, s->data);
}

int simrec_record_joined(simrec_t *rec, const char *key, simrec_dtype_t dt,
                         int ndim, const size_t *shape, const void *data)
{
	if (!rec)
		return SIMREC_EINVAL;
	if (!rec->coll)
		return serial_joined(rec, key, dt, ndim, shape, data);
	sr_agg *a = sr_agg_of(rec);
	rec->err.msg[0] = 0;
	/* the agreement compares the row shape, not the row counts */
	size_t rshape[SIMREC_MAX_NDIM] = {0};
	joined_step_args s = {.call = {.key = key,
	                               .dtype = dt,
	                               .ndim = ndim,
	                               .shape = rshape,
	                               .t0 = sr_clock(),
	                               .run = run_step},
	                      .shape = shape,
	                      .data = data};
	s.call.ctx = &s;
	int local = sr_joined_check_args(rec, key, dt, ndim, shape, data,
	                                 &s.call.bytes);
	if (!local && writes(a, rec))
		local = sr_io_key_error(rec, key, &rec->err);
	if (rec->rank == 0)
		sr_io_wait_buf(rec, a->move.step_buf[a->move.current].buf);
	if (!local)
		memcpy(rshape + 1, shape + 1,
		       (size_t)(ndim - 1) * sizeof *shape);
	return sr_step_agree_run(rec, &s.call, local);
}
