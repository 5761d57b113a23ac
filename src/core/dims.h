/* Dimension names of datasets (simrec_dims, the defaults) and their
 * lengths shared within a group. */
#ifndef SIMREC_CORE_DIMS_H
#define SIMREC_CORE_DIMS_H

#include "recorder.h"

/* The attribute the names are stored under (xarray's, in every store;
 * the HDF5 store turns it into dimension scales). */
#define SR_DIMS_ATTR "_ARRAY_DIMENSIONS"

/* What the axes of a new dataset are, for the default names. */
typedef enum sr_dims_role {
	SR_DIMS_VALUE,   /* simrec_set: LEAF_dim_0 ... */
	SR_DIMS_RECORDS, /* LEAF_step, LEAF_dim_1 ... */
	SR_DIMS_RANKS,   /* LEAF_step, rank, LEAF_dim_2 ... (record_all) */
} sr_dims_role;

/* The caller's names of key (simrec_dims): EINVAL if one is not a
 * valid name. */
int sr_dims_put(simrec_t *rec, const char *key, int ndim,
                const char *const *names);
/* Default names of key: first (if not NULL) instead of the role's first
 * name, unless the caller named key's dimensions already. */
int sr_dims_default(simrec_t *rec, const char *key, int ndim,
                    const char *first);
/* Name the dimensions of the dataset just created under key (metadata
 * m) in every store: SIMREC_ESHAPE if the caller's names do not fit m,
 * or a name of the group has another length. */
int sr_dims_apply(simrec_t *rec, const char *key, const sr_meta *m,
                  sr_dims_role role);
/* Free the table (sr_rec_free). */
void sr_dims_free(simrec_t *rec);

#endif
