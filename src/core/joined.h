/* Joined arrays (simrec_record_joined): each step is the concatenation of
 * the ranks' rows, stored as a contiguous ragged array (the CF
 * conventions' layout): the rows of every step one after the other under
 * the key, and the number of rows of each step under KEY_count
 * (docs/format.md). The plan, write and read of a step; the collective
 * layer moves the rows (src/mpi/record_joined.c). */
#ifndef SIMREC_JOINED_H
#define SIMREC_JOINED_H

#include "recorder.h"

#define SR_JOINED_SUFFIX "_count"
/* The rows' attribute that marks a joined array: its count key. */
#define SR_JOINED_MARK "_simrec_joined_count"

/* key's count key (KEY_count) into out; SIMREC_EINVAL if it does not fit
 * or is not a valid key. */
int sr_joined_count_key(simrec_t *rec, const char *key, char *out, size_t cap);

/* One rank's arguments: ndim 1..14, shape[0] >= 0 rows (may be 0), the
 * other extents >= 1, dt numeric, data non-NULL unless no rows; *bytes:
 * the rows' size (at most 2 GiB). */
int sr_joined_check_args(simrec_t *rec, const char *key, simrec_dtype_t dt,
                         int ndim, const size_t *shape, const void *data,
                         size_t *bytes);

/* The writer's datasets of key (rows of shape (rndim, rshape) and its
 * counts), existing or new. Rows past the sum of the counts (a step cut
 * short by a crash) are cut away first, so the next step's rows follow
 * the last counted step. empty_writes: a collective store's writer that
 * holds none of the rows (sr_dset.empty_writes); every writer of such a
 * store makes this call, and then the same sr_joined_write calls. */
int sr_joined_open(simrec_t *rec, const char *key, simrec_dtype_t dt, int rndim,
                   const size_t *rshape, int empty_writes, sr_dset **rows,
                   sr_dset **count);

/* Append one step: n rows from data (ignored with empty_writes), written
 * through (the chunk the rows end in is rewritten whole from memory), then
 * its count: a reader never sees a count whose rows are not stored. A
 * failure breaks the key. */
int sr_joined_write(simrec_t *rec, sr_dset *rows, sr_dset *count, size_t n,
                    const void *data);

#endif
