/* The chunk-shape rule shared by every chunked store. */
#include "common.h"

/*
 * Records smaller than the target are stacked whole along the record
 * dimension. A larger record is one record deep and is split along its
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
