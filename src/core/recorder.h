/* The recorder object, shared by the core (recorder.c, dataset.c) and the
 * MPI aggregation (../mpi/). */
#ifndef SIMREC_RECORDER_H
#define SIMREC_RECORDER_H

#include "internal.h"

#define SR_MAX_STORES 8

/* One dataset being recorded: its metadata, per-store handles and the rows
 * batched since the last chunk boundary. */
typedef struct sr_dset {
	char *key;
	sr_meta m; /* shape[0] counts buffered rows too */
	void *h[SR_MAX_STORES];
	size_t row_bytes;
	size_t row0;    /* first row held in buf (a multiple of chunks[0]) */
	size_t nbuf;    /* rows in buf */
	size_t flushed; /* rows of buf already written (by a flush) */
	unsigned char *buf;
	sr_blob *vbuf;
	/* record_all: this writer holds columns col0 .. col0+ncol-1 of dim 1 */
	int agg;
	size_t col0, ncol;
	struct sr_dset *next;
} sr_dset;

/* How sr_dset_get sets up an aggregated dataset (NULL: a local one). */
typedef struct sr_dset_init {
	size_t col0, ncol; /* the columns this writer writes */
	size_t group;      /* ranks per writer: chunks never straddle groups */
	const sr_meta *known; /* metadata decided by writer 0, or NULL */
} sr_dset_init;

typedef struct sr_agg sr_agg;

struct simrec {
	sr_store *st[SR_MAX_STORES];
	int nst;
	sr_err err;
	simrec_options_t opts;
	char codec[16];
	sr_dset **tab; /* hash table of datasets by key */
	size_t tabsize;
	/* MPI (comm == MPI_COMM_NULL for a serial recorder) */
	MPI_Comm comm;
	int rank, size;
	sr_agg *agg;
	/* I/O counters for the summary */
	double t_in; /* seconds inside simrec calls */
	unsigned long long bytes_in;
};

/* A recorder with options applied and no store yet (src/mpi/ opens the
 * stores on writer ranks only); sr_rec_free frees it. */
int sr_rec_alloc(simrec_t **out, const simrec_options_t *opts);
void sr_rec_free(simrec_t *rec);
/* Open the stores of a ';'-separated list into rec. */
int sr_open_stores(simrec_t *rec, const char *uris, MPI_Comm comm,
                   int meta_writer);
/* Find or create the dataset for records of (dt, ndim, shape); checks the
 * record against an existing dataset. */
int sr_dset_get(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
                const size_t *shape, size_t vlen_hint, const sr_dset_init *init,
                sr_dset **out);
/* Append one row (one record; for aggregated datasets the writer's
 * columns of one step). */
int sr_dset_append(simrec_t *rec, sr_dset *d, const void *data);
/* Independent calls on a recorder opened over a communicator: nonzero if
 * this rank applies them itself now, else they are deferred to rank 0. */
int sr_agg_local_ok(simrec_t *rec);
typedef enum sr_op { SR_OP_RECORD, SR_OP_BYTES, SR_OP_SET, SR_OP_ATTR } sr_op;
int sr_agg_defer(simrec_t *rec, sr_op op, const char *key, simrec_dtype_t dt,
                 int ndim, const size_t *shape, const void *data, size_t len,
                 const char *name, const simrec_attr_t *attr);
/* Wait for the writer's background I/O (before touching the stores). */
int sr_agg_io_wait(simrec_t *rec);
/* Write rows [row0, row0+nrows) held in data to every store, the dataset
 * extent becoming total rows. */
int sr_dset_write_rows(simrec_t *rec, sr_dset *d, size_t row0, size_t nrows,
                       size_t total, const void *data);
/* The dataset of key if this recorder has it open, else NULL. */
sr_dset *sr_dset_find(simrec_t *rec, const char *key);
/* Check a record of (dt, ndim, shape) against d's records. */
int sr_check_record(simrec_t *rec, const sr_dset *d, simrec_dtype_t dt,
                    int ndim, const size_t *shape);
/* Write a dataset's buffered rows not yet written. */
int sr_dset_flush(simrec_t *rec, sr_dset *d);
int sr_flush_local(simrec_t *rec);
int sr_record_local(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
                    const size_t *shape, const void *data);
double sr_now(void);

/* MPI aggregation (src/mpi/). */
int sr_agg_record_all(simrec_t *rec, const char *key, simrec_dtype_t dt,
                      int ndim, const size_t *shape, const void *data);
int sr_agg_flush(simrec_t *rec);
int sr_agg_close(simrec_t *rec);
void sr_agg_free(simrec_t *rec);

#endif
