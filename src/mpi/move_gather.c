/* The move stage by MPI_Gather: a record_all step onto its group's writer,
 * straight from the callers' buffers into the writer's step buffer, as
 * raw blocks (rank-major) or as the ranks' frames (sizes, then bytes);
 * and, for chunks of several rank blocks, each run's blocks onto the
 * run's first rank, which encodes them into one frame. */
#include <limits.h>
#include <stdlib.h>

#include "coll.h"

size_t sr_frames_need(const sr_agg *a, size_t bytes)
{
	return sr_frames_hdr(a->topo.group_size) +
	       (size_t)a->topo.group_size * sr_encoded_bound(bytes);
}

/* Gather the group's frames onto the writer (sizes, then bytes). */
static void gather_frames(sr_agg *a, sr_step_buf *s)
{
	int len = (int)a->move.frame_len;
	if (!a->topo.is_writer) {
		MPI_Gather(&len, 1, MPI_INT, NULL, 0, MPI_INT, 0,
		           a->topo.group);
		MPI_Gatherv(a->move.frame, len, MPI_BYTE, NULL, NULL, NULL,
		            MPI_BYTE, 0, a->topo.group);
		return;
	}
	int *sizes = (int *)(void *)s->buf,
	    *displs = sizes + a->topo.group_size;
	MPI_Gather(&len, 1, MPI_INT, sizes, 1, MPI_INT, 0, a->topo.group);
	int off = 0; /* at most INT_MAX: the writer chose frames so */
	for (int i = 0; i < a->topo.group_size; i++) {
		displs[i] = off;
		off += sizes[i];
	}
	MPI_Gatherv(a->move.frame, len, MPI_BYTE,
	            s->buf + sr_frames_hdr(a->topo.group_size), sizes, displs,
	            MPI_BYTE, 0, a->topo.group);
}

const unsigned char *sr_move_gather(simrec_t *rec, const sr_travel *t,
                                    const void *data, size_t bytes)
{
	sr_agg *a = sr_agg_of(rec);
	sr_step_buf *s = &a->move.step_buf[a->move.current];
	if (t && t->kind != SR_TRAVEL_RAW)
		gather_frames(a, s);
	else
		MPI_Gather(data, (int)bytes, MPI_BYTE,
		           a->topo.is_writer ? s->buf : NULL, (int)bytes,
		           MPI_BYTE, 0, a->topo.group);
	return s->buf;
}

int sr_move_run_prepare(simrec_t *rec, int k, size_t bytes)
{
	sr_agg *a = sr_agg_of(rec);
	size_t need = (size_t)k * bytes;
	if (k < 2 || a->topo.rank_in_group % k || need <= a->move.run_cap)
		return 0;
	void *p = realloc(a->move.run_buf, need);
	if (!p)
		return sr_fail(&rec->err, SIMREC_ENOMEM,
		               "rank %d: out of memory for %d blocks of %zu "
		               "bytes",
		               rec->rank, k, bytes);
	a->move.run_buf = p;
	a->move.run_cap = need;
	return 0;
}

void sr_move_run_frames(simrec_t *rec, const sr_travel *t, simrec_dtype_t dt,
                        const void *data, size_t bytes)
{
	sr_agg *a = sr_agg_of(rec);
	double t0 = sr_clock();
	int k = t->run_blocks, grank = a->topo.rank_in_group;
	if (a->move.run_blocks != k) { /* the group is here: split it */
		if (a->move.run_blocks)
			MPI_Comm_free(&a->move.run_comm);
		MPI_Comm_split(a->topo.group, grank / k, grank,
		               &a->move.run_comm);
		a->move.run_blocks = k;
	}
	int first = grank % k == 0;
	MPI_Gather(data, (int)bytes, MPI_BYTE, first ? a->move.run_buf : NULL,
	           (int)bytes, MPI_BYTE, 0, a->move.run_comm);
	a->move.frame_len = 0;
	if (first &&
	    sr_encode_block(&t->codec, simrec_dtype_size(dt), a->move.run_buf,
	                    (size_t)k * bytes, &a->move.frame,
	                    &a->move.frame_cap, &a->move.frame_len, &rec->err))
		a->move.frame_len = 0;
	a->time.encode += sr_clock() - t0;
}
