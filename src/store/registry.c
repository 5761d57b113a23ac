/* The datastore table: one line per backend. */
#include <string.h>

#include "store.h"

extern const sr_store_ops sr_memory_ops;
extern const sr_store_ops sr_zarr_lmdb_ops;
extern const sr_store_ops sr_zarr_dir_ops;
extern const sr_store_ops sr_redis_ops;
#ifdef SIMREC_HAVE_HDF5
extern const sr_store_ops sr_hdf5_ops;
#endif

static const sr_store_ops *const registry[] = {
        &sr_memory_ops, &sr_zarr_lmdb_ops, &sr_zarr_dir_ops, &sr_redis_ops,
#ifdef SIMREC_HAVE_HDF5
        &sr_hdf5_ops,
#endif
};

const sr_store_ops *sr_store_find(const char *scheme)
{
	for (size_t i = 0; i < sizeof registry / sizeof *registry; i++)
		if (!strcmp(registry[i]->scheme, scheme))
			return registry[i];
	return NULL;
}
