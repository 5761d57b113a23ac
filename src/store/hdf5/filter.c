/* hdf5's blosc filter (id 32001, cd_values as hdf5-blosc), registered
 * when no working one is, and HDF5's lzf filter. */
#include <blosc.h>

#include "../../codec/h5lzf.h"
#include "h5store.h"

/* ---- blosc filter (id 32001, cd_values as hdf5-blosc) ------------------ */

/* blosc threads of the filter: the last opened store's (a filter has no
 * store; every store of a process has the same by default) */
static _Atomic int filter_nthreads = 1;

static size_t blosc_filter(unsigned flags, size_t ncd, const unsigned cd[],
                           size_t nbytes, size_t *buf_size, void **buf)
{
	if (flags & H5Z_FLAG_REVERSE) {
		size_t out = sr_codec_decoded_size(*buf, nbytes);
		void *dst = out ? malloc(out) : NULL;
		if (!dst ||
		    sr_codec_decode(1, *buf, nbytes, dst, out, 1, NULL)) {
			free(dst);
			return 0;
		}
		free(*buf);
		*buf = dst;
		*buf_size = out;
		return out;
	}
	sr_codec c = {.level = ncd > 4 ? (int)cd[4] : 5,
	              .shuffle = ncd > 5 ? (int)cd[5] : 1,
	              .nthreads = filter_nthreads};
	const char *name = "blosclz";
	if (ncd > 6)
		blosc_compcode_to_compname((int)cd[6], &name);
	snprintf(c.cname, sizeof c.cname, "%s", name);
	void *dst = NULL;
	size_t cap = 0, outlen;
	if (sr_codec_encode(&c, ncd > 2 ? cd[2] : 1, *buf, nbytes, &dst, &cap,
	                    &outlen, NULL)) {
		free(dst);
		return 0;
	}
	free(*buf);
	*buf = dst;
	*buf_size = cap;
	return outlen;
}

static const H5Z_class2_t blosc_class = {
        .version = H5Z_CLASS_T_VERS,
        .id = BLOSC_FILTER,
        .encoder_present = 1,
        .decoder_present = 1,
        .name = "blosc",
        .filter = blosc_filter,
};

/* simrec's blosc filter is used only when no working filter 32001 is
 * registered (hdf5plugin's or Debian's hdf5-blosc plugin, from
 * HDF5_PLUGIN_PATH); if another one cannot create a dataset (e.g. a plugin
 * built for another HDF5), ours replaces it (see h5_create). */
static int own_blosc;

int h5_use_own_blosc(void)
{
	if (own_blosc)
		return 0;
	if (H5Zregister(&blosc_class) >= 0)
		own_blosc = 1;
	return 1;
}

void h5_register_filters(int nthreads)
{
	unsigned info = 0;
	if (H5Zfilter_avail(BLOSC_FILTER) <= 0 ||
	    H5Zget_filter_info(BLOSC_FILTER, &info) < 0 ||
	    !(info & H5Z_FILTER_CONFIG_ENCODE_ENABLED) ||
	    !(info & H5Z_FILTER_CONFIG_DECODE_ENABLED))
		h5_use_own_blosc();
	sr_h5lzf_register();
	filter_nthreads = nthreads > 0 ? nthreads : 1;
}
