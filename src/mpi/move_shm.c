/* Node-local shared-memory step buffers (MPI-3 shared windows): when a
 * group's ranks share memory, each rank puts its own block (or its own
 * compressed frame) of a step straight into the writer's step buffer, in
 * parallel, instead of sending it through an MPI_Gather to the writer.
 *
 * Two windows per group (buffer cur of the step, as the gather path's two
 * slots), each allocated by the writer alone (the others give 0 bytes and
 * find it with MPI_Win_shared_query), so a step's raw blocks are contiguous
 * and rank-major, as the gather left them. They grow, collectively over
 * the group, at the first step that needs more.
 *
 * Ordering between processes (the MPI-3 shared memory model, unified
 * window; every rank holds a passive epoch on both windows from their
 * allocation on, MPI_Win_lock_all):
 *   - write after read: a rank writes its block of buffer b only after
 *     the step's agreement (MPI_Allreduce over the recorder's
 *     communicator) and an MPI_Win_sync (a full memory barrier); the
 *     writer enters that agreement only after its I/O thread finished the
 *     job that read buffer b (sr_io_wait_buf: the thread's reads end
 *     before it releases the mutex the writer's thread then takes);
 *   - read after write: no MPI call. Each rank, after writing its block
 *     (and, for frames, its size in the header), stores the step's
 *     sequence number in its flag of the window with release order (C11
 *     atomics, lock-free and so address-free: valid between processes);
 *     the writer's I/O thread loads every flag with acquire order and
 *     reads the step only when all carry the number (sr_ready). So the
 *     writer returns as soon as its own block is in: it never waits for
 *     the other ranks' copies, nor they for the disk.
 * TSan sees none of this (the ranks are processes); the I/O thread only
 * reads the window and calls no MPI. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/env.h"
#include "coll.h"

static int shm_disabled(void)
{
	const char *v = sr_env(SR_ENV_SIMREC_SHM);
	return v && !strcmp(v, "0");
}

/* Collective over the group: does the whole group share memory? Then
 * record_all steps use the windows; otherwise the gather. */
void sr_shm_setup(simrec_t *rec)
{
	sr_agg *a = sr_agg_of(rec);
	a->shm.node = MPI_COMM_NULL;
	a->shm.on = 0;
	if (a->topo.group_size < 2 || a->topo.group == MPI_COMM_NULL)
		return;
	MPI_Comm node;
	MPI_Comm_split_type(a->topo.group, MPI_COMM_TYPE_SHARED,
	                    a->topo.rank_in_group, MPI_INFO_NULL, &node);
	int nsize = 0;
	MPI_Comm_size(node, &nsize);
	/* the same answer on every rank of the group: nsize == gsize holds
	 * on all of them or on none, and the rest is the same everywhere */
	int ok = nsize == a->topo.group_size && !shm_disabled() &&
	         !a->topo.collective;
	MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, a->topo.group);
	if (!ok) {
		MPI_Comm_free(&node);
		return;
	}
	/* a window that cannot be allocated is a status, not an abort */
	MPI_Comm_set_errhandler(node, MPI_ERRORS_RETURN);
	a->shm.node = node;
	a->shm.window[0] = a->shm.window[1] = MPI_WIN_NULL;
	a->shm.on = 1;
}

static void free_windows(sr_agg *a)
{
	for (int i = 0; i < 2; i++) {
		if (a->shm.window[i] == MPI_WIN_NULL)
			continue;
		MPI_Win_unlock_all(a->shm.window[i]);
		MPI_Win_free(&a->shm.window[i]);
		a->shm.base[i] = NULL;
	}
	a->shm.cap = 0;
}

static int alloc_window(sr_agg *a, size_t need, int i)
{
	void *p = NULL;
	MPI_Aint mine = a->topo.is_writer ? (MPI_Aint)need : 0;
	if (MPI_Win_allocate_shared(mine, 1, MPI_INFO_NULL, a->shm.node, &p,
	                            &a->shm.window[i]) != MPI_SUCCESS) {
		a->shm.window[i] = MPI_WIN_NULL;
		return -1;
	}
	MPI_Aint size = 0;
	int unit = 0;
	if (MPI_Win_shared_query(a->shm.window[i], 0, &size, &unit, &p) !=
	            MPI_SUCCESS ||
	    (size_t)size < need)
		return -1;
	a->shm.base[i] = p;
	MPI_Win_lock_all(MPI_MODE_NOCHECK, a->shm.window[i]);
	if (a->topo.is_writer) /* no step yet: before the agreement below */
		for (int r = 0; r < a->topo.group_size; r++)
			atomic_init((atomic_uint *)p + r, 0);
	MPI_Win_sync(a->shm.window[i]);
	return 0;
}

int sr_shm_reserve(simrec_t *rec, size_t need)
{
	sr_agg *a = sr_agg_of(rec);
	if (need <= a->shm.cap)
		return 0;
	/* both windows go: no background write may read them, nor this
	 * rank's copy thread write them */
	if (a->topo.is_writer)
		sr_io_wait(rec);
	sr_borrow_drain(rec);
	free_windows(a);
	/* both allocations are collective: every rank makes both calls */
	int ok = need <= (size_t)PTRDIFF_MAX;
	int r0 = ok ? alloc_window(a, need, 0) : -1;
	int r1 = ok ? alloc_window(a, need, 1) : -1;
	ok = ok && !r0 && !r1;
	MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, a->shm.node);
	if (ok) {
		a->shm.cap = need;
		a->shm.steps = 0;
		return 0;
	}
	/* from now on this group gathers (the same on all its ranks) */
	for (int i = 0; i < 2; i++)
		if (a->shm.window[i] != MPI_WIN_NULL && !a->shm.base[i])
			MPI_Win_free(&a->shm.window[i]);
	free_windows(a);
	a->shm.on = 0;
	return sr_fail(&rec->err, SIMREC_ENOMEM,
	               "rank %d: cannot allocate a %zu-byte shared step buffer",
	               rec->rank, need);
}

void sr_shm_free(sr_agg *a)
{
	if (a->shm.node == MPI_COMM_NULL)
		return;
	free_windows(a);
	MPI_Comm_free(&a->shm.node);
}

/* This rank's part of the step at step (its block, or its frame and its
 * size in the header), then its flag: here, or in zero-copy mode on the
 * rank's copy thread (borrow.c), which also compresses the frame there,
 * straight into the slot. */
static void put_part(simrec_t *rec, const sr_travel *t, size_t isz,
                     const void *data, size_t bytes, unsigned char *step,
                     atomic_uint *flag, unsigned seq)
{
	sr_agg *a = sr_agg_of(rec);
	int enc = t && t->kind != SR_TRAVEL_RAW, n = a->topo.group_size,
	    me = a->topo.rank_in_group;
	size_t bound = sr_encoded_bound(bytes);
	int *sizes = (int *)(void *)step;
	unsigned char *slot = enc ? step + sr_frames_hdr(n) + (size_t)me * bound
	                          : step + (size_t)me * bytes;
	if (enc && a->topo.is_writer) /* the offsets (ints: frames_need) */
		for (int i = 0; i < n; i++)
			sizes[n + i] = (int)((size_t)i * bound);
	if (sr_zero_copy(a)) {
		sr_copy_job j = {.dst = slot,
		                 .src = data,
		                 .n = bytes,
		                 .flag = flag,
		                 .seq = seq,
		                 .size = enc ? &sizes[me] : NULL,
		                 .isz = isz};
		if (enc)
			j.codec = t->codec;
		sr_borrow_copy(rec, &j);
		return;
	}
	if (!enc) {
		memcpy(slot, data, bytes);
	} else { /* frame_len <= bound: sr_encode_block */
		memcpy(slot, a->move.frame, a->move.frame_len);
		sizes[me] = (int)a->move.frame_len;
	}
	atomic_store_explicit(flag, seq, memory_order_release);
}

/* The step into the shared window of buffer current: every rank copies
 * its block, or the frame it compressed before the agreement (the ranks
 * compress as they arrive, not all at once after it, and a failure fails
 * the step on every rank; in zero-copy mode they compress on their copy
 * threads after it), into its place, in parallel, then raises its flag;
 * the writer's I/O thread waits for the flags, not the writer. */
int sr_move_shm(simrec_t *rec, const sr_travel *t, size_t isz, const void *data,
                size_t bytes, const unsigned char **out)
{
	sr_agg *a = sr_agg_of(rec);
	int n = a->topo.group_size;
	size_t fl = sr_shm_hdr(n);
	/* the same outcome on the group's ranks: none touches a window */
	int rc = sr_shm_reserve(rec, fl + sr_frames_need(a, bytes));
	if (rc)
		return rc;
	int b = a->move.current;
	unsigned seq = ++a->shm.steps; /* the same on the group's ranks */
	atomic_uint *flags = (atomic_uint *)(void *)a->shm.base[b];
	unsigned char *step = a->shm.base[b] + fl;
	MPI_Win_sync(a->shm.window[b]); /* after the agreement: b is free */
	put_part(rec, t, isz, data, bytes, step, &flags[a->topo.rank_in_group],
	         seq);
	if (a->topo.is_writer) {
		a->move.ready = (sr_ready){.flags = flags, .seq = seq, .n = n};
		*out = step;
	}
	return 0;
}
