/* h5py's LZF filter for HDF5 (id 32000), byte for byte as h5py writes and
 * reads it (h5py/lzf/lzf_filter.c), on Debian's liblzf. */
#ifndef SIMREC_H5LZF_H
#define SIMREC_H5LZF_H

#include <hdf5.h>

#define SR_H5LZF_FILTER 32000

/* Register the filter unless one with its id is already available (h5py's
 * own, in a Python process). 0 or a negative HDF5 status. */
int sr_h5lzf_register(void);
/* Add the filter to dcpl for chunks of chunk_bytes bytes (cd_values as
 * h5py's set_local writes them). */
int sr_h5lzf_set(hid_t dcpl, size_t chunk_bytes);

#endif
