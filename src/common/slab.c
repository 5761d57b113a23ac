/* Strided copies between dense C-order arrays (chunk <-> caller buffer). */
#include <stdlib.h>
#include <string.h>

#include "common.h"

void sr_copy_region(int ndim, size_t itemsize, const void *src,
                    const size_t *sshape, const size_t *sstart, void *dst,
                    const size_t *dshape, const size_t *dstart,
                    const size_t *count)
{
	if (ndim == 0) {
		memcpy(dst, src, itemsize);
		return;
	}
	for (int i = 0; i < ndim; i++)
		if (count[i] == 0)
			return;
	/* merge trailing dims that are contiguous in both arrays */
	int inner = ndim - 1;
	size_t run = count[inner] * itemsize;
	while (inner > 0 && count[inner] == sshape[inner] &&
	       count[inner] == dshape[inner]) {
		inner--;
		run *= count[inner];
	}
	size_t sstride[SIMREC_MAX_NDIM], dstride[SIMREC_MAX_NDIM];
	sstride[ndim - 1] = dstride[ndim - 1] = itemsize;
	for (int i = ndim - 2; i >= 0; i--) {
		sstride[i] = sstride[i + 1] * sshape[i + 1];
		dstride[i] = dstride[i + 1] * dshape[i + 1];
	}
	size_t idx[SIMREC_MAX_NDIM] = {0};
	for (;;) {
		size_t so = 0, doff = 0;
		for (int i = 0; i <= inner; i++) {
			so += (sstart[i] + idx[i]) * sstride[i];
			doff += (dstart[i] + idx[i]) * dstride[i];
		}
		memcpy((char *)dst + doff, (const char *)src + so, run);
		int d = inner - 1;
		while (d >= 0 && ++idx[d] == count[d])
			idx[d--] = 0;
		if (d < 0)
			break;
	}
}

void sr_copy_slab(int ndim, const size_t *shape, const size_t *astart,
                  const size_t *count, size_t itemsize, void *array,
                  void *block, int to_array)
{
	size_t zero[SIMREC_MAX_NDIM] = {0};
	if (to_array)
		sr_copy_region(ndim, itemsize, block, count, zero, array, shape,
		               astart, count);
	else
		sr_copy_region(ndim, itemsize, array, shape, astart, block,
		               count, zero, count);
}
