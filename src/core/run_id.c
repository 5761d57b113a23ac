/* The run identity: a random 128-bit id that a store receives when it is
 * created, as the root attribute "_simrec_run" (32 hex digits), so that
 * `simrec export` can tell one run from another (docs/format.md). */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "recorder.h"

#define RUN_ATTR "_simrec_run"

static int any_key(const char *key, int is_dataset, void *arg)
{
	(void)key;
	(void)is_dataset;
	*(int *)arg = 1;
	return 1; /* one is enough */
}

/* a new store: created now, or opened for appending and still empty */
static int is_new(simrec_t *rec, sr_store *st)
{
	if (rec->opts.mode == SIMREC_MODE_CREATE)
		return 1;
	simrec_attr_t a;
	int rc = st->ops->attr_get(st, "", RUN_ATTR, &a);
	if (!rc) {
		simrec_attr_clear(&a);
		return 0;
	}
	int found = 0;
	st->ops->list(st, "", any_key, &found);
	return !found;
}

/* A collective store's writers write it together: the metadata writer
 * decides and draws, the others learn both. */
static int collective(const sr_store *st)
{
	return st->comm != MPI_COMM_NULL && (st->flags & SR_STORE_COLLECTIVE);
}

int sr_run_stamp(simrec_t *rec, sr_store *st)
{
	if (rec->opts.mode == SIMREC_MODE_READONLY)
		return 0;
	unsigned char b[17] = {0}; /* b[16]: stamp (1) or not (0) */
	/* every writer of a collective store reads what the metadata
	 * writer reads: parallel HDF5 1.10 makes a later collective change
	 * read metadata collectively, and a piece one writer alone has
	 * cached leaves the others in a broadcast that it never joins */
	int fresh = (st->meta_writer || collective(st)) && is_new(rec, st);
	if (st->meta_writer && fresh)
		b[16] = getrandom(b, 16, 0) == 16 ? 1 : 2;
	if (collective(st))
		MPI_Bcast(b, sizeof b, MPI_UNSIGNED_CHAR, 0, st->comm);
	else if (!st->meta_writer)
		return 0;
	if (b[16] == 2)
		return sr_fail(&rec->err, SIMREC_EIO,
		               "store '%s': no random bytes for its run id",
		               st->uri.name);
	if (!b[16])
		return 0;
	char hex[33];
	for (size_t i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	simrec_attr_t a = {.type = SIMREC_ATTR_STRING, .s = hex};
	int rc = st->ops->attr_set(st, "", RUN_ATTR, &a);
	return rc ? sr_wrap(&rec->err, rc,
	                    "store '%s': cannot record its run id",
	                    st->uri.name)
	          : 0;
}
