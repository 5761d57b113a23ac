/* The collective layer's own state and the declarations its files share.
 * Above core/: it calls the recorder (../core/recorder.h) and plugs into it
 * through sr_coll_ops; nothing below calls into this folder. */
#ifndef SIMREC_COLL_H
#define SIMREC_COLL_H

#include <pthread.h>
#include <stdatomic.h>

#include "../core/encoded.h"
#include "../core/recorder.h"
#include "../core/write.h"

/* A writer's step buffer (the gathers are blocking: no request). */
typedef struct sr_step_buf {
	unsigned char *buf;
	size_t cap;
} sr_step_buf;

/* How a record_all key's steps travel, decided by the group's writer at
 * the key's first step (../core/encoded.h). */
typedef enum sr_travel_kind {
	SR_TRAVEL_RAW,         /* the ranks' blocks as they are */
	SR_TRAVEL_RANK_FRAMES, /* each rank's block encoded by the rank */
	SR_TRAVEL_RUN_FRAMES,  /* runs of blocks encoded by the run's first */
} sr_travel_kind;

typedef struct sr_travel {
	sr_travel_kind kind;
	int run_blocks; /* rank blocks per frame (RUN_FRAMES: > 1) */
	sr_codec codec; /* the frames' */
} sr_travel;

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
	sr_step_write step; /* core/write.h */
	sr_ready ready;     /* when step.buf is complete (a shared window) */
} sr_io_job;

/* The groups and their writers (topology.c, open.c): contiguous groups
 * of ranks_per_group ranks (the last may be smaller), the first rank of
 * each its writer. */
typedef struct sr_topology {
	MPI_Comm group;   /* this rank's group */
	MPI_Comm writers; /* the writers (MPI_COMM_NULL elsewhere) */
	size_t ranks_per_group;
	int ngroups;       /* = the number of writers */
	int group_index;   /* this rank's group: its writer's index */
	int rank_in_group; /* 0: the writer */
	int group_size;    /* ranks in this rank's group */
	int is_writer;
	int collective; /* the store's I/O calls MPI: write in this thread */
	int hold_marks; /* writers keep a commit mark (record_all.c) */
} sr_topology;

/* The move stage's buffers (move_gather.c, move_shm.c, move_two_phase.c,
 * record_joined.c). */
typedef struct sr_move_state {
	sr_step_buf step_buf[2]; /* the writer's, one per step in flight */
	int current;             /* the one this step fills */
	sr_ready ready; /* the writer's: when the step to submit is complete */
	/* this rank's frame of the step (its block encoded) */
	void *frame;
	size_t frame_cap, frame_len;
	/* chunks of several rank blocks: the group split in runs of
	 * run_blocks ranks (run_comm; 0: not split yet) and, on the first
	 * rank of a run, the run's blocks */
	MPI_Comm run_comm;
	int run_blocks;
	unsigned char *run_buf;
	size_t run_cap;
	/* rank 0: bytes per rank and their offsets (deferred calls, joined
	 * rows) */
	int *rank_bytes, *rank_offsets;
	/* a global array's step: every rank's block (record_global.c) */
	void *blocks;
	size_t blocks_cap;
} sr_move_state;

/* Node-local shared step windows (move_shm.c): on when the whole group
 * shares memory; two windows of cap bytes, in the writer's memory. */
typedef struct sr_shm_state {
	int on;
	MPI_Comm node;
	MPI_Win window[2];
	unsigned char *base[2];
	size_t cap;
	unsigned steps; /* steps through the windows since they were made */
} sr_shm_state;

/* Independent calls queued as sr_call_wire records (deferred.c). */
typedef struct sr_deferred {
	unsigned char *calls;
	size_t len, cap;
	int applying; /* this process applies the queue now */
} sr_deferred;

/* Keys with a dataset on every writer (the same lists on every rank). */
typedef struct sr_step_keys {
	char **names;      /* record_all and record_global keys */
	sr_travel *travel; /* per name: how its steps travel */
	size_t n, capnames, captravel;
	sr_global_key *global; /* global arrays as planned */
	size_t nglobal, capglobal;
	char **joined; /* joined arrays (rank 0 has their datasets) */
	size_t njoined, capjoined;
} sr_step_keys;

/* A background failure not yet reported (io_thread.c): its status, the
 * dataset whose step it lost (compared, never read; NULL: none) and its
 * message; the next one waits behind it. */
typedef struct sr_io_failure {
	int status;
	const sr_dset *d;
	struct sr_io_failure *next;
	char msg[SR_ERRLEN];
} sr_io_failure;

/* The writer's I/O thread (io_thread.c). */
typedef struct sr_io_thread {
	int running; /* else the writer appends in the calling thread */
	int has_job, quit;
	sr_io_job job; /* the job handed to the thread */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* the first failure not yet reported (a failed dataset holds its
	 * own status, sr_dset.broken); a status whose record could not be
	 * allocated */
	sr_io_failure *unreported;
	int lost;
	sr_err err; /* the thread's failures (sr_err_redirect) */
} sr_io_thread;

/* Per-rank timings for the summary (seconds); lent: waiting in
 * simrec_wait (or flush, close) for the borrowed buffers. */
typedef struct sr_timings {
	double io, move, agree, wait, encode, lent;
} sr_timings;

/* The zero-copy step (borrow.c): a buffer lent by the caller. */
typedef struct sr_lent {
	const void *p;
	size_t n;
	uint64_t sum; /* SIMREC_ZERO_COPY_CHECK: at the call */
	char key[64]; /* for messages (cut) */
} sr_lent;

/* A block for the rank's copy thread: n bytes from src to dst (or, when
 * size is set, src encoded with codec into dst, at most
 * sr_encoded_bound(n) bytes, and the frame's size into *size: 0 if the
 * encoding failed, which the writer then refuses), then seq into flag
 * (release). */
typedef struct sr_copy_job {
	void *dst;
	const void *src;
	size_t n;
	atomic_uint *flag;
	unsigned seq;
	int *size;
	sr_codec codec;
	size_t isz;
} sr_copy_job;

enum { SR_COPY_QUEUE = 4 };

typedef struct sr_borrow_state {
	int mode;      /* SIMREC_ZERO_COPY_* */
	sr_lent *lent; /* lent since the last release */
	size_t n, cap;
	int direct; /* the writer's I/O thread reads a lent buffer */
	/* the rank's copy thread (started at its first job) */
	int running, failed, quit, busy;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	sr_copy_job q[SR_COPY_QUEUE];
	int head, count;
	double t_copy;
} sr_borrow_state;

/* The collective layer's state, by stage. */
typedef struct sr_agg {
	sr_topology topo;
	sr_move_state move;
	sr_shm_state shm;
	sr_deferred deferred;
	sr_step_keys keys;
	sr_io_thread io;
	sr_borrow_state borrow;
	sr_timings time;
	int term;    /* the last agreement saw a SIGTERM (core/shutdown.c) */
	int closing; /* inside simrec_close */
} sr_agg;

static inline sr_agg *sr_agg_of(simrec_t *rec)
{
	return (sr_agg *)rec->coll_state;
}

/* record_all.c: the table the recorder calls the collective layer by. */
const sr_coll_ops *sr_coll_table(void);

/* step_state.c: what the three collective steps share. */
/* The writer's step buffer a->move.step_buf[a->move.current], grown to
 * need bytes. */
int sr_step_buf_prepare(simrec_t *rec, size_t need);
/* Keys whose dataset every writer has (the same list on every rank), and
 * how their steps travel; NULL if not seen. */
const sr_travel *sr_key_seen(sr_agg *a, const char *key);
void sr_key_mark(sr_agg *a, const char *key, const sr_travel *t);
/* A collective step once each rank checked its own arguments: */
typedef struct sr_step_call {
	const char *key;
	simrec_dtype_t dtype;
	int ndim;
	const size_t *shape; /* what the ranks must agree on */
	size_t bytes;        /* this rank's, counted once recorded */
	double t0;           /* when the call began */
	/* after the agreement: plan, move, hand to the write stage; the
	 * same status on every rank */
	int (*run)(simrec_t *rec, void *ctx);
	void *ctx;
} sr_step_call;
/* Collective: agree on the call and every rank's status (local), ship
 * the deferred calls, run the step; the same status on every rank. */
int sr_step_agree_run(simrec_t *rec, const sr_step_call *c, int local);
/* A serial recorder's step (rc: its checks so far): written unless rc,
 * its bytes and time (since t0) counted. */
int sr_step_write_serial(simrec_t *rec, int rc, const sr_step_write *w,
                         size_t bytes, double t0);

/* record_global.c, record_joined.c */
void sr_global_free(sr_agg *a);
void sr_joined_free(sr_agg *a);

/* move_two_phase.c: the move stage of a global array's step. */
typedef struct sr_exchange {
	int ndim;
	size_t isz;
	const size_t *shape;           /* the array's */
	const struct sr_block *blocks; /* every rank's (core/plan.h) */
	const size_t *bound;           /* writer w owns rows bound[w..w+1) */
	int nw;                        /* writers: writer w is rank w*group */
	size_t group;
	size_t width;    /* rows of a writer's region buffer (0: its own) */
	int self_direct; /* this rank's block is its own writer's whole
	                    region, written from the caller's buffer: it
	                    sends itself nothing */
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

/* move_gather.c: the move stage by MPI_Gather. */
/* The writer's step buffer for the group's frames of bytes-byte blocks. */
size_t sr_frames_need(const sr_agg *a, size_t bytes);
/* Collective over the group: the step (raw blocks, or the ranks' frames
 * a->move.frame when t says so) into the writer's step buffer, which it
 * returns (the writer's; NULL elsewhere). */
const unsigned char *sr_move_gather(simrec_t *rec, const sr_travel *t,
                                    const void *data, size_t bytes);
/* Chunks of k > 1 rank blocks: the first rank of each run of k needs room
 * for the run's blocks (asked before the agreement, so that a failure
 * fails every rank). */
int sr_move_run_prepare(simrec_t *rec, int k, size_t bytes);
/* After the agreement (every rank of the group is here, with blocks of
 * the same size): the first rank of each run gathers the run's blocks,
 * which are the chunk's bytes in order, and encodes them into
 * a->move.frame; the others send no frame. A failed encoding sends none
 * either: the writer refuses the step, and a later call reports that on
 * every rank. */
void sr_move_run_frames(simrec_t *rec, const sr_travel *t, simrec_dtype_t dt,
                        const void *data, size_t bytes);

/* move_shm.c: node-local shared-memory step buffers. */
/* Collective over the group: sets a->shm when its ranks share memory. */
void sr_shm_setup(simrec_t *rec);
/* Collective over the group: both windows hold need bytes; a failure
 * (the same on the group's ranks) turns the group back to the gather. */
int sr_shm_reserve(simrec_t *rec, size_t need);
void sr_shm_free(sr_agg *a);
/* Collective over the group, when a->shm.on: every rank puts its block
 * (or frame) into the writer's window itself; *out (the writer's) is the
 * step, complete once a->move.ready says so. */
int sr_move_shm(simrec_t *rec, const sr_travel *t, size_t isz, const void *data,
                size_t bytes, const unsigned char **out);

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
/* hand a step to the writer's I/O thread (or write it now, without
 * one); it waits for a->move.ready (a shared window) before it writes */
void sr_io_submit(simrec_t *rec, const sr_step_write *step);
/* record a failure of the calling thread as a background one; d (if
 * any) is the dataset whose step it lost: it records nothing more */
void sr_io_fail(simrec_t *rec, sr_dset *d, int rc);

/* borrow.c: the zero-copy step. */
/* opts.zero_copy, else SIMREC_ZERO_COPY, into a->borrow.mode */
int sr_borrow_init(simrec_t *rec);
/* nonzero (and rec->err) if [p, p + n) overlaps a buffer still lent */
int sr_borrow_check(simrec_t *rec, const char *key, const void *p, size_t n);
/* a step lent [p, p + n) (direct: the writer's I/O thread reads it) */
void sr_borrow_note(simrec_t *rec, const char *key, const void *p, size_t n,
                    int direct);
/* a failed step: wait until nothing reads its buffer, then forget every
 * buffer lent after the first keep */
void sr_borrow_forget_last(simrec_t *rec, size_t keep);
/* hand a block to the rank's copy thread (or copy it now, without one) */
void sr_borrow_copy(simrec_t *rec, const sr_copy_job *j);
/* wait until the copy thread is idle */
void sr_borrow_drain(simrec_t *rec);
/* Local: wait until nothing reads a lent buffer, check their sums, forget
 * them; nonzero (and rec->err) if one changed */
int sr_borrow_release(simrec_t *rec);
void sr_borrow_free(sr_agg *a);
static inline int sr_zero_copy(const sr_agg *a)
{
	return a->borrow.mode != 0;
}

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
