/* The move stage of a global array's step: two-phase I/O, as ROMIO's
 * collective buffering does it. Each writer owns whole chunk rows of the
 * array (core/plan.c); every rank sends the part of its block that lies in
 * each writer's rows to that writer, straight from the caller's buffer,
 * and the writer receives it straight into its place in its region
 * buffer: an MPI subarray datatype on either side, so nothing is packed
 * into an intermediate buffer by simrec (MPI moves contiguous parts as
 * they are). Point to point, only between ranks whose block meets a
 * writer's rows: a rank talks to the one or few writers its block spans,
 * a writer to the ranks whose blocks cross its rows. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../core/plan.h"
#include "coll.h"

enum { TAG_GLOBAL = 0x5167 };

/* The piece (start, count) inside an array of extents sizes at origin
 * org: its MPI datatype (count 1), or bytes as a contiguous run. */
typedef struct piece_type {
	MPI_Datatype type; /* MPI_DATATYPE_NULL: bytes at off */
	size_t off, bytes;
} piece_type;

static int piece_contiguous(int nd, const size_t *sizes, const size_t *sub)
{
	int i = nd - 1;
	while (i > 0 && sub[i] == sizes[i])
		i--;
	/* dims after i are whole; i may be partial; dims before i are 1 */
	for (int j = 0; j < i; j++)
		if (sub[j] != 1)
			return 0;
	return 1;
}

static int make_type(int nd, size_t isz, const size_t *sizes, const size_t *sub,
                     const size_t *starts, MPI_Datatype elem, piece_type *t)
{
	t->type = MPI_DATATYPE_NULL;
	size_t off = 0, bytes = isz;
	for (int i = 0; i < nd; i++) {
		off = off * sizes[i] + starts[i];
		bytes *= sub[i];
	}
	t->off = off * isz;
	t->bytes = bytes;
	if (bytes <= (size_t)INT_MAX && piece_contiguous(nd, sizes, sub))
		return 0;
	int s[SIMREC_MAX_NDIM], u[SIMREC_MAX_NDIM], o[SIMREC_MAX_NDIM];
	for (int i = 0; i < nd; i++) {
		if (sizes[i] > (size_t)INT_MAX)
			return -1;
		s[i] = (int)sizes[i];
		u[i] = (int)sub[i];
		o[i] = (int)starts[i];
	}
	t->off = 0;
	if (MPI_Type_create_subarray(nd, s, u, o, MPI_ORDER_C, elem,
	                             &t->type) != MPI_SUCCESS)
		return -1;
	return MPI_Type_commit(&t->type) == MPI_SUCCESS ? 0 : -1;
}

typedef struct xfer {
	MPI_Request *req;
	MPI_Datatype *types;
	int nreq, ntypes, bad;
	MPI_Datatype elem;
} xfer;

static void post(xfer *x, const piece_type *t, void *base, int peer,
                 MPI_Comm comm, int send)
{
	MPI_Request *r = &x->req[x->nreq++];
	char *p = (char *)base + t->off;
	if (t->type != MPI_DATATYPE_NULL)
		x->types[x->ntypes++] = t->type;
	MPI_Datatype ty = t->type != MPI_DATATYPE_NULL ? t->type : MPI_BYTE;
	int n = t->type != MPI_DATATYPE_NULL ? 1 : (int)t->bytes;
	if (send)
		MPI_Isend(p, n, ty, peer, TAG_GLOBAL, comm, r);
	else
		MPI_Irecv(p, n, ty, peer, TAG_GLOBAL, comm, r);
}

/* The writer: receive from every rank whose block meets its rows. */
static void post_receives(simrec_t *rec, const sr_exchange *x, xfer *t,
                          void *region, int w)
{
	size_t row0 = x->bound[w], row1 = x->bound[w + 1];
	size_t sizes[SIMREC_MAX_NDIM], starts[SIMREC_MAX_NDIM];
	memcpy(sizes, x->shape, (size_t)x->ndim * sizeof *sizes);
	sizes[0] = x->width ? x->width : row1 - row0;
	for (int r = 0; r < rec->size; r++) {
		sr_block p;
		if (r == rec->rank && x->self_direct)
			continue;
		if (!sr_plan_meet(x->ndim, &x->blocks[r], row0, row1, &p))
			continue;
		memcpy(starts, p.start, (size_t)x->ndim * sizeof *starts);
		starts[0] -= row0;
		piece_type pt;
		if (make_type(x->ndim, x->isz, sizes, p.count, starts, t->elem,
		              &pt)) {
			t->bad = 1;
			continue;
		}
		post(t, &pt, region, r, rec->comm, 0);
	}
}

/* Every rank: send to every writer whose rows its block meets. */
static void post_sends(simrec_t *rec, const sr_exchange *x, xfer *t,
                       const void *data)
{
	const sr_block *mine = &x->blocks[rec->rank];
	size_t starts[SIMREC_MAX_NDIM];
	for (int w = 0; w < x->nw; w++) {
		sr_block p;
		if (x->self_direct && (size_t)w * x->group == (size_t)rec->rank)
			continue;
		if (!sr_plan_meet(x->ndim, mine, x->bound[w], x->bound[w + 1],
		                  &p))
			continue;
		for (int i = 0; i < x->ndim; i++)
			starts[i] = p.start[i] - mine->start[i];
		piece_type pt;
		if (make_type(x->ndim, x->isz, mine->count, p.count, starts,
		              t->elem, &pt)) {
			t->bad = 1;
			continue;
		}
		post(t, &pt, (void *)data, (int)((size_t)w * x->group),
		     rec->comm, 1);
	}
}

int sr_two_phase(simrec_t *rec, const sr_exchange *x, const void *data,
                 void *region, int my_writer)
{
	size_t n = (size_t)rec->size + (size_t)x->nw;
	xfer t = {.req = malloc(n * sizeof *t.req),
	          .types = malloc(n * sizeof *t.types)};
	int ok = t.req && t.types;
	/* every rank knows whether every rank can take part */
	MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, rec->comm);
	if (!ok) {
		free(t.req);
		free(t.types);
		return sr_fail(&rec->err, SIMREC_ENOMEM,
		               "out of memory for the exchange of a step");
	}
	MPI_Type_contiguous((int)x->isz, MPI_BYTE, &t.elem);
	MPI_Type_commit(&t.elem);
	if (my_writer >= 0)
		post_receives(rec, x, &t, region, my_writer);
	post_sends(rec, x, &t, data);
	MPI_Waitall(t.nreq, t.req, MPI_STATUSES_IGNORE);
	for (int i = 0; i < t.ntypes; i++)
		MPI_Type_free(&t.types[i]);
	MPI_Type_free(&t.elem);
	free(t.req);
	free(t.types);
	/* a type that could not be made (checked sizes make it rare) left a
	 * piece unsent: the step fails on every rank */
	MPI_Allreduce(MPI_IN_PLACE, &t.bad, 1, MPI_INT, MPI_MAX, rec->comm);
	return t.bad ? sr_fail(&rec->err, SIMREC_EMPI,
	                       "an MPI datatype for a piece of the step "
	                       "could not be made")
	             : 0;
}
