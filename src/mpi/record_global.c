/* simrec_record_global: every rank gives its block of one global array;
 * the step lands as one record of the array's shape. A step:
 *   1. every rank checks its arguments (core/plan.c); writers whose
 *      earlier background write of the key failed refuse it;
 *   2. one MPI_Allreduce agrees on the key, dtype, global shape and any
 *      failure (agree.c); queued independent calls travel (deferred.c);
 *   3. an MPI_Allgather gives every rank every block; every rank checks
 *      them alike (no overlap, the shape covered or a fill value), so
 *      all return the same status and nothing is written on a failure;
 *   4. at the key's first step the plan: the dataset (writer 0 looks it
 *      up or makes it; its chunks, laid out in global index space) and
 *      each writer's rows (whole chunk rows, each chunk to one writer);
 *   5. the move: two-phase exchange of the blocks' pieces into the
 *      writers' region buffers (move_two_phase.c);
 *   6. the write: each writer hands its region to its I/O thread, which
 *      cuts it into whole chunks, compresses and writes them (core);
 *      the commit mark at flush covers these keys as record_all's.
 * See docs/mpi.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/plan.h"
#include "coll.h"

static sr_global_key *gkey_find(sr_agg *a, const char *key)
{
	for (size_t i = 0; i < a->keys.nglobal; i++)
		if (!strcmp(a->keys.global[i].key, key))
			return &a->keys.global[i];
	return NULL;
}

static void gkey_free(sr_global_key *g)
{
	free(g->key);
	free(g->bound);
	free(g->last);
}

void sr_global_free(sr_agg *a)
{
	for (size_t i = 0; i < a->keys.nglobal; i++)
		gkey_free(&a->keys.global[i]);
	free(a->keys.global);
	free(a->move.blocks);
	a->keys.global = NULL;
	a->move.blocks = NULL;
	a->keys.nglobal = a->keys.capglobal = 0;
}

/* Rows of writer w's region buffer: its rows, rounded up to whole chunk
 * rows where the store takes whole chunk rows only (redis). */
static size_t rows_of(const sr_global_key *g, int w)
{
	size_t own = g->bound[w + 1] - g->bound[w], c1 = g->chunks[1];
	return g->pad ? (own + c1 - 1) / c1 * c1 : own;
}

static size_t region_rows(const sr_agg *a, const sr_global_key *g)
{
	return a->topo.is_writer ? rows_of(g, a->topo.group_index) : 0;
}

static size_t region_bytes(const sr_agg *a, const sr_global_key *g)
{
	size_t b = simrec_dtype_size(g->dtype) * region_rows(a, g);
	for (int i = 1; i < g->ndim; i++)
		b *= g->shape[i];
	return b;
}

/* What every rank sends in the block gather: its block, and its fill
 * value (a flag, then the value's bytes). */
enum { X_FILL = 2 * SIMREC_MAX_NDIM, X_VALUE, X_N };

static void block_record(int ndim, const size_t *start, const size_t *count,
                         const sr_fill *f, uint64_t *x)
{
	memset(x, 0, X_N * sizeof *x);
	for (int i = 0; i < ndim; i++) {
		x[i] = start[i];
		x[SIMREC_MAX_NDIM + i] = count[i];
	}
	x[X_FILL] = f != NULL;
	if (f)
		memcpy(&x[X_VALUE], f->value, sizeof x[X_VALUE]);
}

/* Every rank's block of the step, into a->move.blocks (sr_block per rank). */
static int gather_blocks(simrec_t *rec, int ndim, const size_t *start,
                         const size_t *count, const sr_fill *f, uint64_t **all)
{
	sr_agg *a = sr_agg_of(rec);
	size_t n = (size_t)rec->size;
	size_t need = n * (X_N * sizeof(uint64_t) + sizeof(sr_block));
	int ok = !sr_grow(&a->move.blocks, &a->move.blocks_cap, need);
	MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, rec->comm);
	if (!ok)
		return sr_fail(&rec->err, SIMREC_ENOMEM,
		               "out of memory for the blocks of %d ranks",
		               rec->size);
	uint64_t mine[X_N];
	block_record(ndim, start, count, f, mine);
	*all = (uint64_t *)a->move.blocks;
	MPI_Allgather(mine, X_N, MPI_UINT64_T, *all, X_N, MPI_UINT64_T,
	              rec->comm);
	sr_block *b = (sr_block *)(void *)(*all + n * X_N);
	for (size_t r = 0; r < n; r++)
		for (int i = 0; i < ndim; i++) {
			b[r].start[i] = (size_t)(*all)[r * X_N + (size_t)i];
			b[r].count[i] =
			        (size_t)(*all)[r * X_N + SIMREC_MAX_NDIM +
			                       (size_t)i];
		}
	return 0;
}

static sr_block *blocks_of(simrec_t *rec)
{
	sr_agg *a = sr_agg_of(rec);
	return (sr_block *)(void *)((uint64_t *)a->move.blocks +
	                            (size_t)rec->size * X_N);
}

/* The same fill value (or none) on every rank. */
static int check_fill(simrec_t *rec, const char *key, const uint64_t *all)
{
	for (int r = 1; r < rec->size; r++) {
		const uint64_t *x = all + (size_t)r * X_N;
		if (x[X_FILL] != all[X_FILL] || x[X_VALUE] != all[X_VALUE])
			return sr_fail(
			        &rec->err, SIMREC_EINVAL,
			        "key '%s': ranks 0 and %d declared "
			        "different fill values "
			        "(simrec_global_fill); nothing was stored",
			        key, r);
	}
	return 0;
}

/* A key's blocks, checked: the next step with the same blocks needs no
 * check (an allocation that fails only costs the check again). */
static void remember_blocks(simrec_t *rec, sr_global_key *g,
                            const uint64_t *all)
{
	size_t len = (size_t)rec->size * X_N * sizeof *all;
	void *p = realloc(g->last, len);
	if (p) {
		memcpy(p, all, len);
		g->last = p;
		g->nlast = len;
	}
}

/* The blocks of the step, checked on every rank alike; a key's blocks
 * that are the same as at its last step were checked then. */
static int check_blocks(simrec_t *rec, const char *key, int ndim,
                        const size_t *shape, const uint64_t *all,
                        sr_global_key *g)
{
	size_t len = (size_t)rec->size * X_N * sizeof *all;
	if (g && g->last && g->nlast == len && !memcmp(g->last, all, len))
		return 0;
	int rc = check_fill(rec, key, all);
	if (!rc)
		rc = sr_plan_check_blocks(&rec->err, key, ndim, shape,
		                          rec->size, blocks_of(rec),
		                          all[X_FILL] != 0);
	if (!rc && g)
		remember_blocks(rec, g, all);
	return rc;
}

/* Ranks that decide the dataset: writer 0, or every writer of a
 * collective store (their lookups and creation are collective). */
static int decides(const sr_agg *a, const simrec_t *rec)
{
	return a->topo.collective ? a->topo.is_writer : rec->rank == 0;
}

/* This writer's dataset (writer 0's, or with writer 0's metadata). */
static int writer_dataset(simrec_t *rec, const char *key, sr_global_key *g,
                          const sr_meta *m)
{
	sr_agg *a = sr_agg_of(rec);
	sr_dset_init init = {.col0 = g->bound[a->topo.group_index],
	                     .ncol = rows_of(g, a->topo.group_index),
	                     .group = 1,
	                     .known = decides(a, rec) ? NULL : m,
	                     .chunks = m->chunks};
	sr_dset *d;
	return sr_plan_global_dataset(rec, key, g->dtype, g->ndim, g->shape,
	                              &init, &d);
}

static int new_gkey(sr_agg *a, const char *key, simrec_dtype_t dt, int ndim,
                    const size_t *shape, sr_global_key **out)
{
	if (SR_GROW_N(a->keys.global, a->keys.capglobal, a->keys.nglobal + 1))
		return SIMREC_ENOMEM;
	sr_global_key *g = &a->keys.global[a->keys.nglobal];
	memset(g, 0, sizeof *g);
	g->key = strdup(key);
	g->bound = malloc(((size_t)a->topo.ngroups + 1) * sizeof *g->bound);
	if (!g->key || !g->bound) {
		free(g->key);
		free(g->bound);
		return SIMREC_ENOMEM;
	}
	g->dtype = dt;
	g->ndim = ndim;
	memcpy(g->shape, shape, (size_t)ndim * sizeof *shape);
	a->keys.nglobal++;
	*out = g;
	return 0;
}

/* Redis alone: its element lists hold whole chunk rows, so a writer's
 * region buffer is padded to whole chunk rows (core/write.c). A store each
 * process holds for itself (memory:) gets every row on writer 0. */
static void plan_regions(simrec_t *rec, sr_global_key *g, const sr_meta *m)
{
	sr_agg *a = sr_agg_of(rec);
	unsigned flags =
	        a->topo.is_writer && rec->nst >= 1 ? rec->st[0]->flags : 0;
	int how[2] = {rec->nst == 1 && (flags & SR_STORE_DISTRIBUTED),
	              (flags & SR_STORE_PRIVATE) != 0};
	MPI_Bcast(how, 2, MPI_INT, 0, rec->comm);
	memcpy(g->chunks, m->chunks, (size_t)m->ndim * sizeof *m->chunks);
	sr_plan_regions(m, a->topo.ngroups, how[1], g->bound);
	g->pad = how[0];
}

/* The key's first step: the dataset and the writers' rows. Collective;
 * the same status on every rank. */
static int first_step(simrec_t *rec, const char *key, simrec_dtype_t dt,
                      int ndim, const size_t *shape, sr_global_key **out)
{
	sr_agg *a = sr_agg_of(rec);
	sr_meta m;
	memset(&m, 0, sizeof m);
	int rc = 0;
	if (decides(a, rec)) {
		sr_io_wait(rec); /* the store: the I/O thread must be idle */
		rc = sr_plan_dataset(rec, key, dt, ndim, shape, &m);
	}
	rc = sr_agree_status(rec, rc);
	if (rc)
		return rc;
	MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, 0, rec->comm);
	sr_global_key *g = NULL;
	rc = new_gkey(a, key, dt, ndim, shape, &g);
	rc = sr_agree_status(rec,
	                     rc ? sr_fail(&rec->err, rc, "out of memory") : 0);
	if (rc) {
		if (g) /* made here, not on another rank */
			gkey_free(&a->keys.global[--a->keys.nglobal]);
		return rc;
	}
	plan_regions(rec, g, &m);
	/* writer 0 (or all writers of a collective store) first, since it
	 * may create the dataset the others then open */
	if (decides(a, rec))
		rc = writer_dataset(rec, key, g, &m);
	rc = sr_agree_status(rec, rc);
	if (!rc && a->topo.is_writer && !decides(a, rec))
		rc = writer_dataset(rec, key, g, &m);
	if (!a->topo.collective && a->topo.ngroups > 1)
		rc = sr_agree_status(rec, rc);
	if (rc) {
		gkey_free(&a->keys.global[--a->keys.nglobal]); /* planned again
		                                                  next */
		return rc;
	}
	sr_travel none;
	memset(&none, 0, sizeof none);
	sr_key_mark(a, key, &none);
	*out = g;
	return 0;
}

/* A later step of a planned key: the dataset's record, as planned. */
static int check_planned(simrec_t *rec, const sr_global_key *g,
                         simrec_dtype_t dt, const size_t *shape)
{
	if (g->dtype == dt &&
	    !memcmp(g->shape, shape, (size_t)g->ndim * sizeof *shape))
		return 0;
	return sr_fail(&rec->err,
	               dt != g->dtype ? SIMREC_EDTYPE : SIMREC_ESHAPE,
	               "key '%s': the global array's dtype or shape differs "
	               "from its earlier steps'; nothing was stored",
	               g->key);
}

/* The writer's region buffer holds the fill value wherever no block
 * covers it (received pieces overwrite the rest). */
static void prefill(simrec_t *rec, const sr_global_key *g, void *buf)
{
	sr_agg *a = sr_agg_of(rec);
	const sr_fill *f = sr_fill_find(rec, g->key);
	size_t rows = region_rows(a, g), bytes = region_bytes(a, g);
	if (!f || !rows)
		return;
	size_t start[SIMREC_MAX_NDIM] = {0}, count[SIMREC_MAX_NDIM];
	memcpy(count, g->shape, (size_t)g->ndim * sizeof *count);
	start[0] = g->bound[a->topo.group_index];
	count[0] = g->bound[a->topo.group_index + 1] - start[0];
	size_t inner = bytes / rows / simrec_dtype_size(g->dtype);
	if (sr_plan_covered(g->ndim, start, count, rec->size, blocks_of(rec)) ==
	    count[0] * inner)
		return;
	size_t isz = simrec_dtype_size(g->dtype), done = isz;
	unsigned char *p = buf;
	memcpy(p, f->value, isz);
	while (done < bytes) { /* doubling copies */
		size_t n = done < bytes - done ? done : bytes - done;
		memcpy(p + done, p, n);
		done += n;
	}
}

/* Zero-copy: this rank is its own writer (a group of one) and its block
 * is exactly its region (whole rows from its first row to its last, no
 * padding): the I/O thread writes the step from the caller's buffer. */
static int self_direct(simrec_t *rec, const sr_global_key *g,
                       const size_t *start, const size_t *count)
{
	sr_agg *a = sr_agg_of(rec);
	if (!sr_zero_copy(a) || a->topo.group_size != 1 || g->pad)
		return 0;
	int w = a->topo.group_index;
	if (start[0] != g->bound[w] || count[0] != g->bound[w + 1] - start[0] ||
	    !count[0])
		return 0;
	for (int i = 1; i < g->ndim; i++)
		if (start[i] || count[i] != g->shape[i])
			return 0;
	return 1;
}

/* After the agreement: plan (first step), check, move, hand to the I/O
 * thread. The same status on every rank. */
static int global_step(simrec_t *rec, const char *key, simrec_dtype_t dt,
                       int ndim, const size_t *shape, const size_t *start,
                       const size_t *count, const void *data)
{
	sr_agg *a = sr_agg_of(rec);
	sr_global_key *g = gkey_find(a, key);
	const sr_fill *f = sr_fill_find(rec, key);
	if (f && f->dtype != dt)
		f = NULL; /* a fill of another dtype: as none */
	uint64_t *all = NULL;
	int rc = gather_blocks(rec, ndim, start, count, f, &all);
	if (!rc)
		rc = check_blocks(rec, key, ndim, shape, all, g);
	if (!rc && g)
		rc = check_planned(rec, g, dt, shape);
	if (rc)
		return rc;
	if (!g) {
		rc = first_step(rec, key, dt, ndim, shape, &g);
		if (rc)
			return rc;
		remember_blocks(rec, g, all);
		rc = sr_agree_status(
		        rec, sr_step_buf_prepare(rec, region_bytes(a, g) + 1));
		if (rc)
			return rc;
	}
	int self = self_direct(rec, g, start, count);
	unsigned char *buf = a->topo.is_writer && !self
	                             ? a->move.step_buf[a->move.current].buf
	                             : NULL;
	if (buf)
		prefill(rec, g, buf);
	double t0 = sr_clock();
	sr_exchange x = {.ndim = ndim,
	                 .isz = simrec_dtype_size(dt),
	                 .shape = shape,
	                 .blocks = blocks_of(rec),
	                 .bound = g->bound,
	                 .nw = a->topo.ngroups,
	                 .group = a->topo.ranks_per_group,
	                 .width = region_rows(a, g),
	                 .self_direct = self};
	rc = sr_two_phase(rec, &x, data, buf,
	                  a->topo.is_writer ? a->topo.group_index : -1);
	a->time.move += sr_clock() - t0;
	memset(&a->move.ready, 0, sizeof a->move.ready); /* no shared window */
	if (!rc && a->topo.is_writer) {
		sr_step_write w = {.d = sr_dset_find(rec, key),
		                   .buf = self ? data : buf};
		sr_io_submit(rec, &w);
	}
	a->move.current ^= 1;
	return rc;
}

/* A serial recorder: the one block is the whole array. */
static int serial_global(simrec_t *rec, const char *key, simrec_dtype_t dt,
                         int ndim, const size_t *shape, const size_t *start,
                         const size_t *count, const void *data)
{
	size_t bytes;
	int rc = sr_plan_check_args(rec, key, dt, ndim, shape, start, count,
	                            data, &bytes);
	for (int i = 0; !rc && i < ndim; i++)
		if (start[i] || count[i] != shape[i])
			rc = sr_fail(&rec->err, SIMREC_EINVAL,
			             "key '%s': on a serial recorder the block "
			             "must be the whole global array",
			             key);
	if (rc)
		return rc;
	size_t chunks[SIMREC_MAX_NDIM];
	sr_plan_chunks(ndim, shape, simrec_dtype_size(dt),
	               rec->st[0]->chunk_bytes, chunks);
	sr_dset_init init = {.ncol = shape[0], .group = 1, .chunks = chunks};
	double t0 = sr_clock();
	sr_dset *d;
	rc = sr_plan_global_dataset(rec, key, dt, ndim, shape, &init, &d);
	sr_step_write w = {.d = d, .buf = data};
	return sr_step_write_serial(rec, rc, &w, bytes, t0);
}

/* A global array's step arguments, for sr_step_agree_run. */
typedef struct global_step_args {
	sr_step_call call;
	const size_t *start, *count;
	const void *data;
} global_step_args;

static int run_step(simrec_t *rec, void *ctx)
{
	const global_step_args *s = ctx;
	const sr_step_call *c = &s->call;
	return global_step(rec, c->key, c->dtype, c->ndim, c->shape, s->start,
	                   s->count, s->data);
}

int simrec_record_global(simrec_t *rec, const char *key, simrec_dtype_t dt,
                         int ndim, const size_t *global_shape,
                         const size_t *start, const size_t *count,
                         const void *data)
{
	if (!rec)
		return SIMREC_EINVAL;
	if (!rec->coll)
		return serial_global(rec, key, dt, ndim, global_shape, start,
		                     count, data);
	sr_agg *a = sr_agg_of(rec);
	rec->err.msg[0] = 0;
	global_step_args s = {.call = {.key = key,
	                               .dtype = dt,
	                               .ndim = ndim,
	                               .shape = global_shape,
	                               .t0 = sr_clock(),
	                               .run = run_step},
	                      .start = start,
	                      .count = count,
	                      .data = data};
	s.call.ctx = &s;
	int local = sr_plan_check_args(rec, key, dt, ndim, global_shape, start,
	                               count, data, &s.call.bytes);
	if (!local && a->topo.is_writer)
		local = sr_io_key_error(rec, key, &rec->err);
	const sr_global_key *g = local ? NULL : gkey_find(a, key);
	/* a planned key's region buffer, before the agreement, so that a
	 * failure fails every rank */
	if (g && a->topo.is_writer)
		local = sr_step_buf_prepare(rec, region_bytes(a, g) + 1);
	if (!local)
		local = sr_borrow_check(rec, key, data, s.call.bytes);
	if (a->topo.is_writer)
		sr_io_wait_buf(rec, a->move.step_buf[a->move.current].buf);
	size_t lent = a->borrow.n;
	int rc = sr_step_agree_run(rec, &s.call, local);
	if (rc)
		sr_borrow_forget_last(rec, lent);
	else /* direct or not: the I/O thread may read it (io_wait) */
		sr_borrow_note(rec, key, data, s.call.bytes, 1);
	return rc;
}
