#include <errno.h>
#include <lzf.h>
#include <stdlib.h>

#include "h5lzf.h"

/* h5py's filter version and the cd_values it stores: {4, LZF_VERSION,
 * chunk bytes}. */
#define H5PY_LZF_VERSION 4
/* a chunk never decodes to more than this (HDF5 chunks are < 4 GiB) */
#define LZF_MAX_OUT ((size_t)1 << 32)

static size_t lzf_filter(unsigned flags, size_t ncd, const unsigned cd[],
                         size_t nbytes, size_t *buf_size, void **buf)
{
	void *out = NULL;
	size_t cap, got = 0;
	if (!(flags & H5Z_FLAG_REVERSE)) {
		/* as h5py: a chunk that does not shrink fails the (optional)
		 * filter and HDF5 stores it raw */
		cap = *buf_size;
		out = malloc(cap ? cap : 1);
		if (out)
			got = lzf_compress(*buf, (unsigned)nbytes, out,
			                   (unsigned)cap);
	} else {
		cap = ncd >= 3 && cd[2] ? cd[2] : *buf_size;
		while (!got && cap && cap <= LZF_MAX_OUT) {
			free(out);
			out = malloc(cap);
			if (!out)
				break;
			got = lzf_decompress(*buf, (unsigned)nbytes, out,
			                     (unsigned)cap);
			if (!got && errno != E2BIG)
				break; /* corrupt data */
			if (!got)
				cap += *buf_size;
		}
	}
	if (!got) {
		free(out);
		return 0;
	}
	free(*buf);
	*buf = out;
	*buf_size = cap;
	return got;
}

static const H5Z_class2_t lzf_class = {
        .version = H5Z_CLASS_T_VERS,
        .id = SR_H5LZF_FILTER,
        .encoder_present = 1,
        .decoder_present = 1,
        .name = "lzf",
        .filter = lzf_filter,
};

int sr_h5lzf_register(void)
{
	if (H5Zfilter_avail(SR_H5LZF_FILTER) > 0)
		return 0;
	return H5Zregister(&lzf_class) < 0 ? -1 : 0;
}

int sr_h5lzf_set(hid_t dcpl, size_t chunk_bytes)
{
	unsigned cd[3] = {H5PY_LZF_VERSION, LZF_VERSION,
	                  chunk_bytes > 0xffffffffu ? 0
	                                            : (unsigned)chunk_bytes};
	return H5Pset_filter(dcpl, SR_H5LZF_FILTER, H5Z_FLAG_OPTIONAL, 3, cd) <
	                       0
	               ? -1
	               : 0;
}
