/* Agreement: before any rank acts on a collective call, every rank learns
 * whether all ranks gave the same key, dtype and shape and whether any rank
 * failed, so that every rank returns the same status (the rule: set the
 * error, agree on it, then return). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll.h"

enum { F_STATUS, F_DTYPE, F_NDIM, F_KEY, F_PEND, F_TERM, F_SHAPE };
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

/* After a failure that every rank knows of: the first failing rank's own
 * message (the cause and the path) into why, on every rank; its rank is
 * returned. Collective. */
static int first_why(simrec_t *rec, int failed, char *why)
{
	int first = failed ? rec->rank : rec->size;
	MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, rec->comm);
	why[0] = 0;
	if (first >= rec->size)
		return first;
	if (rec->rank == first)
		snprintf(why, SR_ERRLEN, "%s", rec->err.msg);
	MPI_Bcast(why, SR_ERRLEN, MPI_CHAR, first, rec->comm);
	return first;
}

/* After a failed agreement: every rank learns which ranks failed and
 * why, and returns the same status. */
static int explain(simrec_t *rec, const char *key, const int64_t *f,
                   const agree *ag)
{
	sr_io_wait(rec); /* the I/O thread writes rec->err too */
	int64_t *all = malloc((size_t)rec->size * NFIELDS * sizeof *all);
	/* agree on the allocation before the gather that needs it */
	int ok = all != NULL;
	MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, rec->comm);
	if (!ok) {
		free(all);
		return sr_fail(&rec->err, SIMREC_ENOMEM,
		               "key '%s': the step failed, and explaining "
		               "where ran out of memory",
		               key ? key : "");
	}
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
		char why[SR_ERRLEN];
		int first = first_why(rec, f[F_STATUS] < 0, why);
		if (f[F_STATUS] < 0 && rec->err.msg[0] && n < (int)sizeof msg)
			snprintf(msg + n, sizeof msg - (size_t)n, " (here: %s)",
			         rec->err.msg);
		else if (why[0] && n < (int)sizeof msg)
			snprintf(msg + n, sizeof msg - (size_t)n,
			         " (rank %d: %s)", first, why);
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

int sr_agree_status(simrec_t *rec, int rc)
{
	int all = rc;
	MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, rec->comm);
	if (!all)
		return 0;
	int io = sr_io_wait(rec); /* the I/O thread writes rec->err too */
	char why[SR_ERRLEN];
	int first = first_why(rec, rc != 0, why);
	if (!rc && !io)
		sr_fail(&rec->err, all, "rank %d failed: %s", first,
		        why[0] ? why : simrec_strerror(all));
	return all;
}

int sr_agree_step(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
                  const size_t *shape, int status, int64_t npend,
                  int64_t *maxpend)
{
	int64_t f[NFIELDS] = {0};
	f[F_STATUS] = status;
	f[F_DTYPE] = status ? -1 : (int64_t)dt;
	f[F_NDIM] = status ? -1 : ndim;
	f[F_KEY] = key_hash(key);
	f[F_PEND] = npend;
	f[F_TERM] = sr_term_pending();
	for (int i = 0; !status && i < ndim; i++)
		f[F_SHAPE + i] = (int64_t)shape[i];
	agree ag;
	if (agree_all(rec, f, &ag))
		return sr_fail(&rec->err, SIMREC_EMPI, "MPI_Allreduce failed");
	*maxpend = ag.max[F_PEND];
	sr_agg_of(rec)->term = ag.max[F_TERM] != 0;
	int bad = ag.min[F_STATUS] < 0;
	for (int i = F_DTYPE; i < NFIELDS && !bad; i++)
		bad = i != F_PEND && i != F_TERM && ag.min[i] != ag.max[i];
	return bad ? explain(rec, key, f, &ag) : 0;
}
