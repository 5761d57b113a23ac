/* The chunk-shape rule shared by every chunked store. */
#include "common.h"

/*
 * A series of small records (a scalar energy, a few counters) gets chunks
 * of SR_SMALL_ROWS records (at least SR_SMALL_BYTES), as h5py guesses for
 * an unlimited dimension, not a target-sized chunk: 1,000 scalars then
 * take one 8 KiB chunk, not 1 MiB of padding, and a long series simply
 * has more chunks. Records of target / SR_SMALL_ROWS bytes or more (1 KiB
 * with the default 1 MiB) are unaffected.
 */
#define SR_SMALL_ROWS  1024
#define SR_SMALL_BYTES 4096

/*
 * Records smaller than the target are stacked whole along the record
 * dimension (at most SR_SMALL_ROWS deep unless that is under
 * SR_SMALL_BYTES). A larger record is one record deep and is split along its
 * leading dimensions, never the last one unless that alone exceeds the
 * target (then the last dimension is split too).
 */
void sr_chunk_shape(int ndim, const size_t *shape, size_t itemsize,
                    size_t target, size_t *chunks)
{
	size_t rec = itemsize ? itemsize : 1;
	for (int i = 0; i < ndim; i++)
		rec *= shape[i] ? shape[i] : 1;
	if (target == 0)
		target = 1;
	if (rec <= target) {
		size_t n = target / rec;
		size_t small = SR_SMALL_BYTES / rec > SR_SMALL_ROWS
		                       ? SR_SMALL_BYTES / rec
		                       : SR_SMALL_ROWS;
		if (n > small)
			n = small;
		chunks[0] = n ? n : 1;
		for (int i = 0; i < ndim; i++)
			chunks[i + 1] = shape[i] ? shape[i] : 1;
		return;
	}
	chunks[0] = 1;
	/* budget in elements, filled from the last dimension backwards so
	 * that the innermost (contiguous) dimensions stay whole */
	size_t budget = target / (itemsize ? itemsize : 1);
	if (budget == 0)
		budget = 1;
	for (int i = ndim - 1; i >= 0; i--) {
		size_t s = shape[i] ? shape[i] : 1;
		if (s <= budget) {
			chunks[i + 1] = s;
			budget /= s;
		} else {
			/* an even split keeps the edge chunks from being tiny
			 */
			size_t parts = (s + budget - 1) / budget;
			chunks[i + 1] = (s + parts - 1) / parts;
			budget = 1;
		}
	}
}

int sr_chunk_next(int ndim, const size_t *lo, const size_t *hi, size_t *idx)
{
	for (int i = ndim - 1; i >= 0; i--) {
		if (++idx[i] <= hi[i])
			return 1;
		idx[i] = lo[i];
	}
	return 0;
}

int sr_region_contiguous(int ndim, const size_t *n, const size_t *shape)
{
	int i = 0;
	while (i < ndim && n[i] == 1)
		i++;
	for (int k = i + 1; k < ndim; k++)
		if (n[k] != shape[k])
			return 0;
	return 1;
}
