/* The recorder object, shared by the files of core/ and by the collective
 * layer (src/mpi/), which plugs into it through sr_coll_ops: core/ calls
 * the collective layer only through that table and never names it. */
#ifndef SIMREC_RECORDER_H
#define SIMREC_RECORDER_H

#include "../common/clock.h"
#include "../store/store.h"

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
	/* a collective store's writer that holds none of the rows (a joined
	 * array's, on the writers other than rank 0): it makes every write
	 * call the writer with the rows makes, with an empty selection, and
	 * keeps no bytes */
	int empty_writes;
	/* commit mark: on a store with hold_extent, the extent every write
	 * publishes (rows every writer made durable); the collective layer
	 * advances it at flush (src/mpi/record_all.c) */
	size_t mark;
	int broken; /* the status of a failed write (0: none): its later
	             * rows would be misplaced, so nothing more is written
	             * and the mark stays where it was */
	struct sr_dset *next;
} sr_dset;

/* How sr_dset_get sets up an aggregated dataset (NULL: a local one). */
typedef struct sr_dset_init {
	size_t col0, ncol; /* the columns this writer writes */
	size_t group;      /* ranks per writer: chunks never straddle groups */
	const sr_meta *known; /* metadata decided by writer 0, or NULL */
	const size_t *chunks; /* a new dataset's chunks (global arrays), or
	                       * NULL: the record_all rule */
	int plain; /* only chunks: a dataset of whole records (no columns) */
} sr_dset_init;

/* An independent write call as a record: what a rank that may not touch
 * the stores now hands to the collective layer, which ships it to a writer
 * that applies it with sr_call_apply. Pointers are borrowed from the
 * caller (or from the collective layer's buffer while it applies). */
/* DIMS: a key's dimension names (attr: their STRINGS), travelling ahead
 * of the independent calls that use them */
typedef enum sr_op {
	SR_OP_RECORD,
	SR_OP_BYTES,
	SR_OP_SET,
	SR_OP_ATTR,
	SR_OP_DIMS
} sr_op;
typedef struct sr_call {
	sr_op op;
	const char *key;
	simrec_dtype_t dtype; /* RECORD, BYTES, SET */
	int ndim;             /* RECORD, SET */
	size_t shape[SIMREC_MAX_NDIM];
	const void *data;   /* the array, the byte string */
	size_t len;         /* bytes at data */
	const char *name;   /* ATTR: its name */
	simrec_attr_t attr; /* ATTR: its value (.s borrowed) */
} sr_call;

/* The collective layer, as the recorder sees it (NULL: a serial one). */
typedef struct sr_coll_ops {
	/* nonzero: this rank applies independent calls itself, now */
	int (*local_ok)(simrec_t *rec);
	/* queue an independent call for the writers (copies what it needs) */
	int (*defer)(simrec_t *rec, const sr_call *c);
	/* wait for the background I/O; returns its first failure */
	int (*io_wait)(simrec_t *rec);
	int (*flush)(simrec_t *rec); /* Collective */
	int (*close)(simrec_t *rec); /* Collective: last flush, summary */
	void (*free)(simrec_t *rec); /* after the stores are closed */
} sr_coll_ops;

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
	const sr_coll_ops *coll;
	void *coll_state;
	struct sr_fill *fills;  /* fill values of global keys (plan.h) */
	struct sr_dimtab *dims; /* dimension names (dims.h) */
	/* the first failure since the last successful flush that may have
	 * lost records (same on every rank of a collective recorder): close
	 * fails with it too (sr_rec_note) */
	int lost;
	sr_err lost_err;
	/* I/O counters for the summary */
	double t_in; /* seconds inside simrec calls */
	unsigned long long bytes_in;
	/* shutdown.c: open recorders, closed at exit if the program forgets */
	struct simrec *open_next;
	long owner;      /* the pid that opened it */
	char label[320]; /* its URI list, masked and escaped */
};

/* recorder.c: lifecycle. */
/* A recorder with options applied and no store yet; sr_rec_free frees
 * it (and its datasets, not its stores). */
int sr_rec_alloc(simrec_t **out, const simrec_options_t *opts);
void sr_rec_free(simrec_t *rec);
/* Open every store of a parsed list into rec. */
int sr_open_stores(simrec_t *rec, const sr_uri_list *uris, MPI_Comm comm,
                   int meta_writer);
/* Flush every dataset and commit every store of this process. */
int sr_flush_local(simrec_t *rec);
/* run_id.c: a store created now (or opened for appending and empty) by
 * its metadata writer receives a new random run id (docs/format.md). */
int sr_run_stamp(simrec_t *rec, sr_store *st);
/* follow.c: the finished mark. A writer opening st to append clears it
 * (collective over a collective store's writers); close sets it on every
 * store this process marks, after the last flush. Best effort: failed[i]
 * is 1 where the mark failed (followers of that store end by their
 * timeout), and that store's close status is then not the recorder's
 * (a server gone since the last successful flush fails neither). */
int sr_finish_clear(simrec_t *rec, sr_store *st);
void sr_finish_mark(simrec_t *rec, int *failed, int *later);
/* The mark of a collective store, set after it was closed (later[i] of
 * sr_finish_mark): the metadata writer opens it again alone. */
void sr_finish_mark_closed(simrec_t *rec, const sr_uri *uri);
/* SIMREC_ELOCK (message in rec->err) if a newer writer took one of the
 * stores over (?lock=), else 0: one read section per locked store.
 * Rank-local: a collective recorder's writers ask and agree on it. */
int sr_rec_fenced(simrec_t *rec);
/* After a write call or flush: a failure that may have lost records
 * already recorded (not the caller's mistake, such as a bad shape) is
 * kept until the next successful flush, and close fails with it. The
 * collective layer calls it with agreed statuses. */
void sr_rec_note(simrec_t *rec, int rc);
/* 0, or the kept failure's status (its message in rec->err). */
int sr_rec_lost(simrec_t *rec);
/* Keep a failed open's message for simrec_errmsg(NULL) in this thread. */
void sr_note_open_error(const sr_err *e);

/* tracked.c: writing recorders open in this process, and SIGTERM. */
/* Note rec as open (uris: its URI list, for the message at exit); the
 * first writing open installs the SIGTERM flag (SIMREC_ON_TERM). */
void sr_rec_track(simrec_t *rec, const char *uris);
void sr_rec_untrack(simrec_t *rec);
/* The first open recorder of this process (mpi: over a communicator, else
 * a serial one), in open order; a forked child's copies are not its own. */
simrec_t *sr_rec_first_open(int mpi);
/* A SIGTERM arrived since the recorders opened. */
int sr_term_pending(void);
/* At an independent call: act on a SIGTERM (sr_term_hook) if no recorder
 * of this process is collective (they act at their next collective
 * step). */
int sr_term_serial(void);
/* What acts on a SIGTERM (sr_term_act) and the handler registered with
 * atexit at each writing open (it closes what is left), set by shutdown.c
 * at load. */
extern void (*sr_term_hook)(void);
extern void (*sr_exit_hook)(void);

/* shutdown.c: recorders left open. */
/* Close this process's open recorders (mpi: those over a communicator,
 * collectively; else the serial ones), one stderr line each; returns
 * nonzero if a close failed. */
int sr_close_forgotten(int mpi, const char *when);
/* After a SIGTERM that every rank agreed on: close every open recorder,
 * then die of SIGTERM. Never returns. */
void sr_term_act(void);

/* batch.c: datasets being recorded. */
/* Find or create the dataset for records of (dt, ndim, shape); checks the
 * record against an existing dataset. */
int sr_dset_get(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
                const size_t *shape, size_t vlen_hint, const sr_dset_init *init,
                sr_dset **out);
/* Append one row (one record; for aggregated datasets the writer's
 * columns of one step). */
int sr_dset_append(simrec_t *rec, sr_dset *d, const void *data);
/* The dataset of key if this recorder has it open, else NULL. */
sr_dset *sr_dset_find(simrec_t *rec, const char *key);
/* Forget key's dataset (a simrec_set replaces it). */
void sr_dset_remove(simrec_t *rec, const char *key);
/* Free every dataset. */
void sr_dset_free_all(simrec_t *rec);
/* Does a record of (dt, ndim, shape) fit d's records? (no side effect) */
int sr_record_matches(const sr_dset *d, simrec_dtype_t dt, int ndim,
                      const size_t *shape);
/* Check a record of (dt, ndim, shape) against d's records. */
int sr_check_record(simrec_t *rec, const sr_dset *d, simrec_dtype_t dt,
                    int ndim, const size_t *shape);
/* Write a dataset's buffered rows not yet written. */
int sr_dset_flush(simrec_t *rec, sr_dset *d);

/* calls.c: the write entry points. */
/* Apply an independent call on this process's stores. */
int sr_call_apply(simrec_t *rec, const sr_call *c);
/* Append one record of key locally (no MPI). */
int sr_record_local(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
                    const size_t *shape, const void *data);
/* Argument checks shared with record_all: the key may be written, the
 * array is described right. */
int sr_check_writable(simrec_t *rec, const char *key);
int sr_check_array(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
                   const size_t *shape, const void *data);

/* dataset.c: reads need a store (on a collective recorder only the writer
 * ranks hold one); waits for background I/O first. */
int sr_check_readable(simrec_t *rec);
/* Cut key's dataset to rows records in this process's stores (a serial
 * recorder, or the writer of a joined array's rows). */
int sr_truncate_local(simrec_t *rec, const char *key, size_t rows);

#endif
