/* Who writes: ranks split into contiguous groups, one writer each (by
 * default one per node), within the limits the stores declare. */
#include "../common/env.h"
#include "coll.h"

unsigned sr_store_list_flags(const sr_uri_list *l)
{
	unsigned f = 0;
	for (int i = 0; i < l->n; i++) {
		const sr_store_ops *ops = sr_store_find(l->u[i].scheme);
		if (ops)
			f |= ops->flags;
	}
	return f;
}

static int env_int(sr_env_var name, int *out)
{
	const char *v = sr_env(name);
	if (!v || !*v)
		return 0;
	long x;
	if (sr_parse_count(v, &x) || x > 1 << 24)
		return -1;
	*out = (int)x;
	return 0;
}

/* Ranks per writer: option, environment, else one writer per node (the
 * largest node decides, so groups stay contiguous). Collective. */
int sr_group_size(simrec_t *rec, unsigned flags, size_t *g)
{
	int per = rec->opts.ranks_per_writer, m = rec->opts.writers;
	int bad = 0;
	if (!per)
		bad |= env_int(SR_ENV_SIMREC_RANKS_PER_WRITER, &per);
	if (!m)
		bad |= env_int(SR_ENV_SIMREC_WRITERS, &m);
	/* every rank takes part in the node count below, whatever happens,
	 * so that nobody waits in it alone */
	MPI_Comm node;
	int nsize = 1;
	MPI_Comm_split_type(rec->comm, MPI_COMM_TYPE_SHARED, rec->rank,
	                    MPI_INFO_NULL, &node);
	MPI_Comm_size(node, &nsize);
	MPI_Comm_free(&node);
	MPI_Allreduce(MPI_IN_PLACE, &nsize, 1, MPI_INT, MPI_MAX, rec->comm);
	if (bad || per < 0 || m < 0)
		return sr_fail(&rec->err, SIMREC_ECONFIG,
		               "writers and ranks per writer must be "
		               "non-negative integers (SIMREC_WRITERS, "
		               "SIMREC_RANKS_PER_WRITER)");
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
		*g = (size_t)nsize;
	}
	if (*g > (size_t)rec->size)
		*g = (size_t)rec->size;
	return 0;
}

/* LMDB has one lock file per host: its writers must share one node.
 * Collective. */
int sr_check_one_node(simrec_t *rec)
{
	sr_agg *a = sr_agg_of(rec);
	MPI_Comm node;
	MPI_Comm_split_type(rec->comm, MPI_COMM_TYPE_SHARED, rec->rank,
	                    MPI_INFO_NULL, &node);
	int leader = rec->rank;
	MPI_Bcast(&leader, 1, MPI_INT, 0, node);
	MPI_Comm_free(&node);
	int lo = a->topo.is_writer ? leader : rec->size,
	    hi = a->topo.is_writer ? leader : -1;
	MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN, rec->comm);
	MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX, rec->comm);
	if (lo != hi)
		return sr_fail(
		        &rec->err, SIMREC_ECONFIG,
		        "an LMDB zarr store allows writers on one node only, "
		        "but the %d writers span several nodes (ranks %d and "
		        "%d lead different nodes); use zarr+dir: or hdf5: on "
		        "shared storage, or SIMREC_WRITERS=1",
		        a->topo.ngroups, lo, hi);
	return 0;
}
