/* simrec_open_comm: a recorder over a communicator. Every rank parses the
 * same URI list once; the groups and writers are chosen (topology.c); the
 * writers alone open the stores, writer 0 first (it may replace an old
 * store), and every rank returns the same status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll.h"

static int make_groups(simrec_t *rec, const sr_uri_list *l)
{
	sr_agg *a = sr_agg_of(rec);
	unsigned flags = sr_store_list_flags(l);
	int rc = sr_group_size(rec, flags, &a->topo.ranks_per_group);
	if (rc)
		return rc;
	a->topo.ngroups =
	        (int)(((size_t)rec->size + a->topo.ranks_per_group - 1) /
	              a->topo.ranks_per_group);
	a->topo.group_index =
	        (int)((size_t)rec->rank / a->topo.ranks_per_group);
	MPI_Comm_split(rec->comm, a->topo.group_index, rec->rank,
	               &a->topo.group);
	MPI_Comm_rank(a->topo.group, &a->topo.rank_in_group);
	MPI_Comm_size(a->topo.group, &a->topo.group_size);
	a->topo.is_writer = a->topo.rank_in_group == 0;
	MPI_Comm_split(rec->comm, a->topo.is_writer ? 0 : MPI_UNDEFINED,
	               rec->rank, &a->topo.writers);
	a->topo.collective =
	        (flags & SR_STORE_COLLECTIVE) && a->topo.ngroups > 1;
	sr_shm_setup(rec);
	if (rec->rank == 0) {
		a->move.rank_bytes =
		        malloc((size_t)rec->size * sizeof *a->move.rank_bytes);
		a->move.rank_offsets = malloc((size_t)rec->size *
		                              sizeof *a->move.rank_offsets);
		if (!a->move.rank_bytes || !a->move.rank_offsets)
			rc = sr_fail(&rec->err, SIMREC_ENOMEM, "out of memory");
	}
	if (flags & SR_STORE_ONE_NODE) {
		int r2 = sr_check_one_node(rec);
		if (!rc)
			rc = r2;
	}
	return rc;
}

/* Writers open the stores: writer 0 first, then the others (appending
 * to what writer 0 made); collective stores on all writers at once. */
static int open_on_writers(simrec_t *rec, const sr_uri_list *l)
{
	sr_agg *a = sr_agg_of(rec);
	if (!a->topo.is_writer)
		return 0;
	MPI_Comm wcomm = a->topo.collective ? a->topo.writers : MPI_COMM_NULL;
	int rc = 0;
	if (a->topo.collective || rec->rank == 0)
		rc = sr_open_stores(rec, l, wcomm, rec->rank == 0);
	if (a->topo.collective)
		return rc;
	int r0 = rc;
	MPI_Bcast(&r0, 1, MPI_INT, 0, a->topo.writers);
	if (!r0 && rec->rank != 0) {
		simrec_options_t keep = rec->opts;
		if (rec->opts.mode == SIMREC_MODE_CREATE)
			rec->opts.mode = SIMREC_MODE_APPEND;
		rc = sr_open_stores(rec, l, wcomm, 0);
		rec->opts = keep;
	}
	/* several writers of one zarr dataset: only steps that every writer
	 * made durable become visible (record_all.c, publish_marks) */
	a->topo.hold_marks = a->topo.ngroups > 1;
	for (int i = 0; !rc && a->topo.hold_marks && i < rec->nst; i++)
		rec->st[i]->hold_extent =
		        !!(rec->st[i]->flags & SR_STORE_HOLD_EXTENT);
	if (!rc)
		rc = sr_io_start(rec);
	return rc;
}

/* MPI_Finalize deletes MPI_COMM_SELF's attributes first, with MPI still
 * usable: recorders every rank left open are closed there, collectively,
 * in the order they were opened (the same on every rank). */
static int finalize_cb(MPI_Comm comm, int key, void *val, void *extra)
{
	SR_UNUSED(comm);
	SR_UNUSED(key);
	SR_UNUSED(val);
	SR_UNUSED(extra);
	sr_close_forgotten(1, "at MPI_Finalize");
	return MPI_SUCCESS;
}

static void watch_finalize(void)
{
	static int key = MPI_KEYVAL_INVALID;
	if (key != MPI_KEYVAL_INVALID)
		return;
	if (MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, finalize_cb, &key,
	                           NULL) == MPI_SUCCESS)
		MPI_Comm_set_attr(MPI_COMM_SELF, key, NULL);
}

int simrec_open_comm(simrec_t **out, const char *uris,
                     const simrec_options_t *opts, MPI_Comm comm)
{
	if (!out)
		return SIMREC_EINVAL;
	*out = NULL;
	if (!sr_mpi_active())
		return SIMREC_EMPI;
	simrec_t *rec;
	int rc = sr_rec_alloc(&rec, opts);
	if (rc)
		return rc;
	MPI_Comm_dup(comm, &rec->comm);
	MPI_Comm_rank(rec->comm, &rec->rank);
	MPI_Comm_size(rec->comm, &rec->size);
	sr_agg *a = calloc(1, sizeof *a);
	int ok = a != NULL;
	MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, rec->comm);
	if (!ok) {
		free(a);
		MPI_Comm_free(&rec->comm);
		sr_rec_free(rec);
		return SIMREC_ENOMEM;
	}
	rec->coll_state = a;
	rec->coll = sr_coll_table();
	a->topo.group = a->topo.writers = a->shm.node = MPI_COMM_NULL;
	a->shm.window[0] = a->shm.window[1] = MPI_WIN_NULL;
	sr_uri_list l;
	const char *text = sr_uri_choose(uris, rec->opts.mode);
	rc = sr_uri_list_parse(text, &l, &rec->err);
	/* every rank parsed the same text: the same outcome everywhere */
	if (!rc)
		rc = make_groups(rec, &l);
	int r2 = sr_borrow_init(rec); /* collective */
	if (!rc)
		rc = r2;
	rc = sr_agree_status(rec, rc);
	if (!rc)
		rc = sr_agree_status(rec, open_on_writers(rec, &l));
	sr_uri_list_free(&l);
	if (rc) {
		if (rec->rank == 0 || rec->err.msg[0])
			fprintf(stderr, "simrec: rank %d: %s\n", rec->rank,
			        rec->err.msg);
		sr_note_open_error(&rec->err);
		for (int i = 0; i < rec->nst; i++)
			sr_store_close(rec->st[i], NULL);
		rec->nst = 0;
		rec->coll->free(rec);
		sr_rec_free(rec);
		return rc;
	}
	if (rec->opts.mode != SIMREC_MODE_READONLY) {
		watch_finalize();
		sr_rec_track(rec, text);
	}
	*out = rec;
	return 0;
}
