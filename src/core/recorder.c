/* The recorder's life: options, opening its stores, flush, close and the
 * I/O summary. A recorder over a communicator gets its collective layer
 * (src/mpi/) through rec->coll and calls it only through that table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/env.h"
#include "dims.h"
#include "plan.h"

void simrec_options_init(simrec_options_t *o)
{
	if (!o)
		return;
	memset(o, 0, sizeof *o);
	o->mode = SIMREC_MODE_APPEND;
	o->chunk_bytes = 0; /* the store's default */
	o->codec = NULL; /* the store's default: lz4 for zarr, none for HDF5 */
	o->level = 5;
	o->shuffle = SIMREC_SHUFFLE_BYTE;
	o->nthreads = 0; /* 2 blosc threads */
}

/* The detail of this thread's last failed open (there is no recorder to
 * hold it). */
static _Thread_local char open_error[SR_ERRLEN];

void sr_note_open_error(const sr_err *e)
{
	snprintf(open_error, sizeof open_error, "%s", e->msg);
}

size_t simrec_struct_size(const char *name)
{
	if (!name)
		return 0;
	if (!strcmp(name, "options"))
		return sizeof(simrec_options_t);
	if (!strcmp(name, "attr"))
		return sizeof(simrec_attr_t);
	if (!strcmp(name, "lock_status"))
		return sizeof(simrec_lock_status_t);
	return 0;
}

const char *simrec_errmsg(const simrec_t *rec)
{
	if (!rec)
		return open_error[0] ? open_error : "no recorder";
	return rec->err.msg[0] ? rec->err.msg : "no error";
}

int sr_open_stores(simrec_t *rec, const sr_uri_list *uris, MPI_Comm comm,
                   int meta_writer)
{
	int rc = 0;
	for (int i = 0; i < uris->n && !rc; i++) {
		rc = sr_store_open(&uris->u[i], &rec->opts, comm, meta_writer,
		                   &rec->err, &rec->st[rec->nst]);
		if (!rc)
			rec->nst++;
		if (!rc)
			rc = sr_run_stamp(rec, rec->st[rec->nst - 1]);
		if (!rc)
			rc = sr_finish_clear(rec, rec->st[rec->nst - 1]);
	}
	return rc;
}

int sr_rec_alloc(simrec_t **out, const simrec_options_t *opts)
{
	simrec_t *rec = calloc(1, sizeof *rec);
	if (!rec)
		return SIMREC_ENOMEM;
	rec->tabsize = 256;
	rec->tab = calloc(rec->tabsize, sizeof *rec->tab);
	if (!rec->tab) {
		free(rec);
		return SIMREC_ENOMEM;
	}
	if (opts)
		rec->opts = *opts;
	else
		simrec_options_init(&rec->opts);
	/* keep our own copy of the codec name */
	if (rec->opts.codec) {
		snprintf(rec->codec, sizeof rec->codec, "%s", rec->opts.codec);
		rec->opts.codec = rec->codec;
	}
	const char *env = sr_env(SR_ENV_SIMREC_IO_SUMMARY);
	if (env && *env && strcmp(env, "0"))
		rec->opts.io_summary = 1;
	rec->comm = MPI_COMM_NULL;
	rec->size = 1;
	*out = rec;
	return 0;
}

void sr_rec_free(simrec_t *rec)
{
	sr_dset_free_all(rec);
	while (rec->fills) { /* plan.h */
		sr_fill *f = rec->fills;
		rec->fills = f->next;
		free(f->key);
		free(f);
	}
	sr_dims_free(rec);
	free(rec->tab);
	free(rec);
}

int simrec_open(simrec_t **out, const char *uris, const simrec_options_t *opts)
{
	if (!out)
		return SIMREC_EINVAL;
	*out = NULL;
	simrec_t *rec;
	int rc = sr_rec_alloc(&rec, opts);
	if (rc)
		return rc;
	sr_uri_list l;
	const char *text = sr_uri_choose(uris, rec->opts.mode);
	rc = sr_uri_list_parse(text, &l, &rec->err);
	if (!rc) {
		rc = sr_open_stores(rec, &l, MPI_COMM_NULL, 1);
		sr_uri_list_free(&l);
	}
	if (rc) {
		/* the caller reads it with simrec_errmsg(NULL) */
		sr_note_open_error(&rec->err);
		for (int i = 0; i < rec->nst; i++)
			sr_store_close(rec->st[i], NULL);
		sr_rec_free(rec);
		return rc;
	}
	if (rec->opts.mode != SIMREC_MODE_READONLY)
		sr_rec_track(rec, text);
	*out = rec;
	return 0;
}

int sr_flush_local(simrec_t *rec)
{
	int rc = 0;
	for (size_t i = 0; i < rec->tabsize; i++)
		for (sr_dset *d = rec->tab[i]; d; d = d->next) {
			int r = sr_dset_flush(rec, d);
			if (r && !rc)
				rc = r;
		}
	for (int i = 0; i < rec->nst; i++) {
		int r = rec->st[i]->ops->commit(rec->st[i]);
		if (r && !rc)
			rc = sr_wrap(&rec->err, r, "commit of '%s' failed",
			             sr_store_name(rec->st[i]));
	}
	return rc;
}

int simrec_flush(simrec_t *rec)
{
	if (!rec)
		return SIMREC_EINVAL;
	if (!rec->coll)
		sr_term_serial();
	double t0 = sr_clock();
	int rc = rec->coll ? rec->coll->flush(rec) : sr_flush_local(rec);
	rec->t_in += sr_clock() - t0;
	sr_rec_note(rec, rc);
	if (!rc)
		rec->lost = 0; /* what was recorded so far is durable */
	return rc;
}

void sr_rec_note(simrec_t *rec, int rc)
{
	switch (rc) { /* the caller's mistakes lose nothing recorded */
	case 0:
	case SIMREC_EINVAL:
	case SIMREC_EDTYPE:
	case SIMREC_ESHAPE:
	case SIMREC_EKIND:
	case SIMREC_EREADONLY:
	case SIMREC_ENOTSUP:
	case SIMREC_ERANGE:
	case SIMREC_ENOKEY:
		return;
	default:
		if (!rec->lost) {
			rec->lost = rc;
			rec->lost_err = rec->err;
		}
	}
}

int sr_rec_fenced(simrec_t *rec)
{
	int waited = 0;
	for (int i = 0; i < rec->nst; i++) {
		sr_store *st = rec->st[i];
		if (!st->ops->fenced || st->mode == SIMREC_MODE_READONLY)
			continue;
		/* the lock client is not the I/O thread's while it writes */
		if (rec->coll && !waited++)
			rec->coll->io_wait(rec);
		int rc = st->ops->fenced(st);
		if (rc)
			return rc;
	}
	return 0;
}

int sr_rec_lost(simrec_t *rec)
{
	if (!rec->lost)
		return 0;
	return sr_fail(&rec->err, rec->lost,
	               "records were lost: a failure since the last "
	               "successful flush (%s)",
	               rec->lost_err.msg);
}

static void print_summary(simrec_t *rec)
{
	double mb = (double)rec->bytes_in / 1e6;
	fprintf(stderr,
	        "simrec: I/O summary: %.1f MB recorded in %.3f s inside simrec "
	        "(%.1f MB/s)\n",
	        mb, rec->t_in, rec->t_in > 0 ? mb / rec->t_in : 0.0);
}

int simrec_close(simrec_t *rec)
{
	if (!rec)
		return 0;
	sr_rec_untrack(rec);
	int rc = 0;
	if (rec->coll) {
		rc = rec->coll->close(rec);
	} else {
		double t0 = sr_clock();
		if (rec->st[0] && rec->st[0]->mode != SIMREC_MODE_READONLY)
			rc = sr_flush_local(rec);
		if (!rc)
			rc = sr_rec_lost(rec);
		rec->t_in += sr_clock() - t0;
		if (rec->opts.io_summary && rec->st[0] &&
		    rec->st[0]->mode != SIMREC_MODE_READONLY)
			print_summary(rec);
	}
	int unmarked[SR_MAX_STORES], later[SR_MAX_STORES];
	sr_finish_mark(rec, unmarked, later);
	sr_dset_free_all(rec);
	for (int i = 0; i < rec->nst; i++) {
		sr_uri u = {0};
		if (later[i] && sr_uri_copy(&rec->st[i]->uri, &u, &rec->err))
			later[i] = 0;
		sr_store_close(rec->st[i], unmarked[i] ? NULL : &rc);
		if (later[i]) {
			sr_finish_mark_closed(rec, &u);
			sr_uri_free(&u);
		}
	}
	rec->nst = 0;
	if (rec->coll)
		rec->coll->free(rec);
	if (rc) /* the recorder is gone: keep why for simrec_errmsg(NULL) */
		sr_note_open_error(&rec->err);
	sr_rec_free(rec);
	return rc;
}
