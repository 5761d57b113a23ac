/* The plan stage of a step of a global array (simrec_record_global): the
 * arguments, the ranks' blocks (no overlap, inside the shape, the shape
 * covered or the key given a fill value), the dataset (existing or new,
 * its chunks laid out in global index space) and which writer owns which
 * chunks. Everything but sr_plan_dataset is a pure function of its
 * arguments, so every rank that calls it with the same blocks reaches the
 * same verdict without talking to the others. */
#ifndef SIMREC_PLAN_H
#define SIMREC_PLAN_H

#include "recorder.h"

/* One rank's block of a global array: [start, start + count) per
 * dimension of the array (the step dimension excluded). */
typedef struct sr_block {
	size_t start[SIMREC_MAX_NDIM];
	size_t count[SIMREC_MAX_NDIM];
} sr_block;

/* A key's fill value (simrec_global_fill): the value of elements that no
 * rank's block covers. */
typedef struct sr_fill {
	char *key;
	simrec_dtype_t dtype;
	unsigned char value[8];
	struct sr_fill *next;
} sr_fill;

/* The fill value declared for key (NULL: none). */
const sr_fill *sr_fill_find(const simrec_t *rec, const char *key);

/* One rank's arguments: the key may be written, dt numeric, ndim
 * 1..SIMREC_MAX_NDIM - 1, every extent of the global shape 1..INT_MAX, the
 * block inside the shape (SIMREC_ERANGE naming it), data non-NULL unless
 * the block is empty. *bytes: the block's size. */
int sr_plan_check_args(simrec_t *rec, const char *key, simrec_dtype_t dt,
                       int ndim, const size_t *shape, const size_t *start,
                       const size_t *count, const void *data, size_t *bytes);

/* The blocks of n ranks together (b[r] is rank r's): inside the shape,
 * no two overlapping (SIMREC_EINVAL naming both ranks and the region
 * they share), and covering the whole shape unless fill is nonzero
 * (SIMREC_EINVAL naming the first element no rank covers). */
int sr_plan_check_blocks(sr_err *e, const char *key, int ndim,
                         const size_t *shape, int n, const sr_block *b,
                         int fill);

/* Elements of the box (start, count) that the blocks cover (they do not
 * overlap). */
size_t sr_plan_covered(int ndim, const size_t *start, const size_t *count,
                       int n, const sr_block *b);

/* The intersection of block b with rows [row0, row1) of dimension 0;
 * 0 if empty. */
int sr_plan_meet(int ndim, const sr_block *b, size_t row0, size_t row1,
                 sr_block *out);

/* Chunks of a new global dataset (steps, *shape): one step deep, the
 * array cut by the chunk rule (docs/format.md) in global index space. */
void sr_plan_chunks(int ndim, const size_t *shape, size_t isz, size_t target,
                    size_t *chunks);

/* Which writer owns which chunks: writer w of nw owns rows
 * [bound[w], bound[w+1]) of the array's dimension 0 (the dataset's
 * dimension 1), whole chunk rows, each chunk row to one writer, as even a
 * share as can be: writer w owns chunk rows [R*w/nw, R*(w+1)/nw) of R, so
 * with fewer chunk rows than writers the first writers own none (a box:
 * the writer's region). first_only: writer 0 owns them all (a store each
 * process holds for itself, SR_STORE_PRIVATE). */
void sr_plan_regions(const sr_meta *m, int nw, int first_only, size_t *bound);

/* The dataset a step of key goes to (rank 0, or every writer of a
 * collective store): an existing dataset's metadata if records of (dt,
 * ndim, shape) fit it (else SIMREC_ESHAPE / SIMREC_EDTYPE / SIMREC_EKIND
 * naming it), or a new one's with chunks from sr_plan_chunks. */
int sr_plan_dataset(simrec_t *rec, const char *key, simrec_dtype_t dt, int ndim,
                    const size_t *shape, sr_meta *m);

/* A record_all writer, before a step of (ndim, shape) records under
 * key (the dataset's records are (ranks, *shape)): they fit the dataset
 * this recorder has open, or the store's existing one (SIMREC_EDTYPE /
 * SIMREC_ESHAPE / SIMREC_EKIND naming it); 0 if there is none. Waits for
 * the background writes before it reads the store. */
int sr_plan_all_check(simrec_t *rec, const char *key, simrec_dtype_t dt,
                      int ndim, const size_t *shape);

/* A record_all writer's dataset of key, (steps, ranks, *shape), its
 * columns as init says (init->known: writer 0's metadata, else looked up
 * or made). Waits for the background writes before a new dataset. */
int sr_plan_all_dataset(simrec_t *rec, const char *key, simrec_dtype_t dt,
                        int ndim, const size_t *shape, const sr_dset_init *init,
                        sr_dset **out);

/* A global array's dataset of key on one writer, (steps, *shape), its
 * rows as init says (init->known: the deciding rank's metadata). */
int sr_plan_global_dataset(simrec_t *rec, const char *key, simrec_dtype_t dt,
                           int ndim, const size_t *shape,
                           const sr_dset_init *init, sr_dset **out);

/* "[0:4, 2:8]" */
void sr_plan_fmt_box(char *buf, size_t cap, int ndim, const size_t *start,
                     const size_t *count);

#endif
