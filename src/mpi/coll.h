/* The collective layer's own state and the declarations its files share.
 * Above core/: it calls the recorder (../core/recorder.h) and plugs into it
 * through sr_coll_ops; nothing below calls into this folder. */
#ifndef SIMREC_COLL_H
#define SIMREC_COLL_H

#include <pthread.h>
#include <stdatomic.h>

#include "../core/recorder.h"

/* A writer's step buffer (the gathers are blocking: no request). */
typedef struct sr_slot {
	unsigned char *buf;
	size_t cap;
} sr_slot;

/* How a record_all key's steps travel, decided by the group's writer at
 * the key's first step: raw blocks, or frames each rank encoded with c
 * (../core/encoded.h). */
typedef struct sr_enc {
	int on;
	sr_codec c;
} sr_enc;

/* A step buffer of frames starts with the sizes and offsets of the
 * group's frames (gsize ints each), padded to 16 bytes. */
static inline size_t sr_frames_hdr(int gsize)
{
	return ((size_t)gsize * 2 * sizeof(int) + 15) / 16 * 16;
}

/* A step in a shared window is complete once each of its n ranks has
 * stored seq in its flag (release); the writer's I/O thread waits for that
 * (acquire) before it reads the step. flags NULL: complete already. */
typedef struct sr_ready {
	atomic_uint *flags;
	unsigned seq;
	int n;
} sr_ready;

/* A shared window starts with the group's flags, padded to 64 bytes; the
 * step buffer (raw blocks, or sr_frames_hdr and the frames) follows. */
static inline size_t sr_shm_hdr(int gsize)
{
	return ((size_t)gsize * sizeof(atomic_uint) + 63) / 64 * 64;
}

/* A global array's key as the plan left it at its first step (the same
 * on every rank): its record's dtype and shape, the dataset's chunks and
 * each writer's rows (record_global.c). */
typedef struct sr_global_key {
	char *key;
	simrec_dtype_t dtype;
	int ndim;
	size_t shape[SIMREC_MAX_NDIM];  /* the array's */
	size_t chunks[SIMREC_MAX_NDIM]; /* the dataset's (step first) */
	size_t *bound;                  /* ngroups + 1: writer w's rows */
	int pad; /* region buffers padded to whole chunk rows (redis) */
	unsigned char *last; /* the blocks of its last step, checked */
	size_t nlast;
} sr_global_key;

/* One step for the writer's I/O thread: d's row from buf (raw blocks,
 * or the ranks' frames when enc), or a joined array's step (rows of d,
 * one row of count). */
typedef struct sr_io_job {
	sr_dset *d;
	const void *buf;
	int enc;        /* buf holds frames (sr_frames_hdr) */
	sr_ready rdy;   /* when buf is complete (a shared window) */
	sr_dset *count; /* a joined array's step: its count dataset */
	size_t rows;    /* and its rows */
} sr_io_job;

typedef struct sr_agg {
	MPI_Comm group, writers;
	size_t g; /* ranks per group (the last group may be smaller) */
	int ngroups, gidx, grank, gsize, is_writer, collective;
	int hold; /* writers keep a commit mark (see publish_marks) */
	sr_slot slot[2];
	int cur;
	/* deferred independent calls, encoded (deferred.c) */
	unsigned char *pend;
	size_t npend, cappend;
	int applying; /* this process is applying the queue now */
	char **seen;  /* keys whose dataset every writer has */
	sr_enc *enc;  /* per seen key: how its steps travel */
	size_t nseen;
	void *ebuf; /* this rank's encoded block of the step */
	size_t ecap, elen;
	/* chunks of k rank blocks: the group split in runs of k ranks (kcomm,
	 * made for the k of kcomm_k; 0: none yet) and, on the first rank of a
	 * run, the run's blocks */
	MPI_Comm kcomm;
	int kcomm_k;
	unsigned char *kbuf;
	size_t kcap;
	int *counts, *displs; /* rank 0: bytes queued per rank, offsets */
	/* node-local shared step buffers (shm.c): on when the whole group
	 * shares memory; two windows of wcap bytes, the writer's memory */
	int shm;
	MPI_Comm shmcomm;
	MPI_Win win[2];
	unsigned char *wbase[2];
	size_t wcap;
	unsigned wseq; /* steps through the windows since their allocation */
	sr_ready rdy;  /* the writer's: when the step to submit is complete */
	/* the writer's I/O thread (io_thread.c) */
	int has_thread, job, quit, io_status;
	sr_io_job next; /* the job handed to the thread */
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char io_msg[SR_ERRLEN];
	/* a key that broke while another failure waited to be reported:
	 * reported after it (io_thread.c), so no break goes unreported */
	int io_next;
	char io_next_msg[SR_ERRLEN];
	sr_dset *io_d, *io_next_d; /* whose write failed (NULL: none) */
	sr_err io_err;             /* the thread's failures (sr_err_redirect) */
	/* global arrays: keys planned, every rank's block of the step */
	sr_global_key *gkeys;
	size_t ngkeys;
	void *blocks;
	size_t blocks_cap;
	/* joined arrays whose datasets rank 0 has (record_joined.c) */
	char **jkeys;
	size_t njkeys;
	/* per-rank timings for the summary (seconds) */
	double t_io, t_gather, t_agree, t_wait, t_encode;
} sr_agg;

static inline sr_agg *sr_agg_of(simrec_t *rec)
{
	return (sr_agg *)rec->coll_state;
}

/* record_all.c: the table the recorder calls the collective layer by. */
const sr_coll_ops *sr_coll_table(void);
/* The writer's step buffer a->slot[a->cur], grown to need bytes. */
int sr_slot_prepare(simrec_t *rec, size_t need);
/* Keys whose dataset every writer has (the same list on every rank), and
 * how their steps travel; NULL if not seen. */
const sr_enc *sr_key_seen(sr_agg *a, const char *key);
void sr_key_mark(sr_agg *a, const char *key, const sr_enc *e);

/* record_global.c, record_joined.c */
void sr_global_free(sr_agg *a);
void sr_joined_free(sr_agg *a);

/* two_phase.c: the move stage of a global array's step. */
typedef struct sr_exchange {
	int ndim;
	size_t isz;
	const size_t *shape;           /* the array's */
	const struct sr_block *blocks; /* every rank's (core/plan.h) */
	const size_t *bound;           /* writer w owns rows bound[w..w+1) */
	int nw;                        /* writers: writer w is rank w*group */
	size_t group;
	size_t width; /* rows of a writer's region buffer (0: its own) */
} sr_exchange;
/* Collective: every rank sends the part of its block (data) inside each
 * writer's rows to that writer, which receives it into its place in
 * region (rows of the array from bound[w], C order); my_writer is this
 * rank's writer index, or -1. */
int sr_two_phase(simrec_t *rec, const sr_exchange *x, const void *data,
                 void *region, int my_writer);

/* topology.c: how many ranks per writer, and the store's constraints. */
unsigned sr_store_list_flags(const sr_uri_list *l);
int sr_group_size(simrec_t *rec, unsigned flags, size_t *g);
int sr_check_one_node(simrec_t *rec);

/* shm.c: node-local shared-memory step buffers. */
/* Collective over the group: sets a->shm when its ranks share memory. */
void sr_shm_setup(simrec_t *rec);
/* Collective over the group: both windows hold need bytes; a failure
 * (the same on the group's ranks) turns the group back to the gather. */
int sr_shm_reserve(simrec_t *rec, size_t need);
void sr_shm_free(sr_agg *a);

/* io_thread.c: the writer's background appends. */
int sr_io_start(simrec_t *rec);
void sr_io_stop(simrec_t *rec);
int sr_io_wait(simrec_t *rec);
/* wait until no background write reads buf */
void sr_io_wait_buf(simrec_t *rec, const void *buf);
/* the first background failure, reported once: cleared when taken */
int sr_io_take_error(simrec_t *rec, sr_err *e);
/* record_all of key on a writer: nonzero (and *e) if an earlier write of
 * key failed (the cause if not reported yet), without waiting for a write
 * under way (a failure it meets is reported later) */
int sr_io_key_error(simrec_t *rec, const char *key, sr_err *e);
/* enc: buf holds the group's frames (sr_frames_hdr), else raw blocks */
void sr_io_submit(simrec_t *rec, sr_dset *d, const void *buf, int enc);
/* a joined array's step: rows rows of rows_d from buf, then its count */
void sr_io_submit_joined(simrec_t *rec, sr_dset *rows_d, sr_dset *count,
                         size_t rows, const void *buf);
/* record a failure of the calling thread as a background one; d (if
 * any) is the dataset whose step it lost: it records nothing more */
void sr_io_fail(simrec_t *rec, sr_dset *d, int rc);

/* agree.c: one status on every rank. */
/* MPI_MIN of rc over the recorder's communicator; a rank that did not
 * fail itself gets a message naming the failure elsewhere. */
int sr_agree_status(simrec_t *rec, int rc);
/* Collective agreement of a record_all step's arguments (see agree.c). */
int sr_agree_step(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
                  const size_t *shape, int status, int64_t npend,
                  int64_t *maxpend);

/* deferred.c: independent calls queued on ranks that may not write. */
int sr_defer_call(simrec_t *rec, const sr_call *c);
/* Collective: ship every rank's queue to the writers that apply it;
 * returns the same status on every rank. */
int sr_exchange_pending(simrec_t *rec, int64_t maxpend);

#endif
