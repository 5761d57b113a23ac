/* What the lock client offers the lock store beyond the public API. */
#ifndef SIMREC_LOCK_H
#define SIMREC_LOCK_H

#include "../common/common.h"

/* The fencing counter fell behind a store (the lock's redis lost its data,
 * or the store was copied from elsewhere): raise it to at least floor and
 * hand out the next token, as one atomic step on the server. The caller
 * holds the write lock. Independent. */
int sr_lock_raise_token(simrec_lock_t *l, uint64_t floor, uint64_t *token);

#endif
