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
	struct sr_dset *next;
} sr_dset;

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

/* Open the stores of a ';'-separated list into rec. */
int sr_open_stores(simrec_t *rec, const char *uris, MPI_Comm comm,
                   int meta_writer);
/* Find or create the dataset for records of (dt, ndim, shape); checks the
 * record against an existing dataset. */
int sr_dset_get(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
                const size_t *shape, size_t vlen_hint, sr_dset **out);
/* Write rows [row0, row0+nrows) held in data to every store, the dataset
 * extent becoming total rows. */
int sr_dset_write_rows(simrec_t *rec, sr_dset *d, size_t row0, size_t nrows,
                       size_t total, const void *data);
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

#endif
