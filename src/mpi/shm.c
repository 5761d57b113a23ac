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

#include "coll.h"

static int shm_disabled(void)
{
	const char *v = getenv("SIMREC_SHM");
	return v && !strcmp(v, "0");
}

/* Collective over the group: does the whole group share memory? Then
 * record_all steps use the windows; otherwise the gather. */
void sr_shm_setup(simrec_t *rec)
{
	sr_agg *a = sr_agg_of(rec);
	a->shmcomm = MPI_COMM_NULL;
	a->shm = 0;
	if (a->gsize < 2 || a->group == MPI_COMM_NULL)
		return;
	MPI_Comm node;
	MPI_Comm_split_type(a->group, MPI_COMM_TYPE_SHARED, a->grank,
	                    MPI_INFO_NULL, &node);
	int nsize = 0;
	MPI_Comm_size(node, &nsize);
	/* the same answer on every rank of the group: nsize == gsize holds
	 * on all of them or on none, and the rest is the same everywhere */
	int ok = nsize == a->gsize && !shm_disabled() && !a->collective;
	MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, a->group);
	if (!ok) {
		MPI_Comm_free(&node);
		return;
	}
	/* a window that cannot be allocated is a status, not an abort */
	MPI_Comm_set_errhandler(node, MPI_ERRORS_RETURN);
	a->shmcomm = node;
	a->win[0] = a->win[1] = MPI_WIN_NULL;
	a->shm = 1;
}

static void free_windows(sr_agg *a)
{
	for (int i = 0; i < 2; i++) {
		if (a->win[i] == MPI_WIN_NULL)
			continue;
		MPI_Win_unlock_all(a->win[i]);
		MPI_Win_free(&a->win[i]);
		a->wbase[i] = NULL;
	}
	a->wcap = 0;
}

static int alloc_window(sr_agg *a, size_t need, int i)
{
	void *p = NULL;
	MPI_Aint mine = a->is_writer ? (MPI_Aint)need : 0;
	if (MPI_Win_allocate_shared(mine, 1, MPI_INFO_NULL, a->shmcomm, &p,
	                            &a->win[i]) != MPI_SUCCESS) {
		a->win[i] = MPI_WIN_NULL;
		return -1;
	}
	MPI_Aint size = 0;
	int unit = 0;
	if (MPI_Win_shared_query(a->win[i], 0, &size, &unit, &p) !=
	            MPI_SUCCESS ||
	    (size_t)size < need)
		return -1;
	a->wbase[i] = p;
	MPI_Win_lock_all(MPI_MODE_NOCHECK, a->win[i]);
	if (a->is_writer) /* no step yet: before the agreement below */
		for (int r = 0; r < a->gsize; r++)
			atomic_init((atomic_uint *)p + r, 0);
	MPI_Win_sync(a->win[i]);
	return 0;
}

int sr_shm_reserve(simrec_t *rec, size_t need)
{
	sr_agg *a = sr_agg_of(rec);
	if (need <= a->wcap)
		return 0;
	/* both windows go: no background write may read them */
	if (a->is_writer)
		sr_io_wait(rec);
	free_windows(a);
	/* both allocations are collective: every rank makes both calls */
	int ok = need <= (size_t)PTRDIFF_MAX;
	int r0 = ok ? alloc_window(a, need, 0) : -1;
	int r1 = ok ? alloc_window(a, need, 1) : -1;
	ok = ok && !r0 && !r1;
	MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, a->shmcomm);
	if (ok) {
		a->wcap = need;
		a->wseq = 0;
		return 0;
	}
	/* from now on this group gathers (the same on all its ranks) */
	for (int i = 0; i < 2; i++)
		if (a->win[i] != MPI_WIN_NULL && !a->wbase[i])
			MPI_Win_free(&a->win[i]);
	free_windows(a);
	a->shm = 0;
	return sr_fail(&rec->err, SIMREC_ENOMEM,
	               "rank %d: cannot allocate a %zu-byte shared step buffer",
	               rec->rank, need);
}

void sr_shm_free(sr_agg *a)
{
	if (a->shmcomm == MPI_COMM_NULL)
		return;
	free_windows(a);
	MPI_Comm_free(&a->shmcomm);
}
