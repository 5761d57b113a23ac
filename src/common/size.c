/* Overflow-checked size arithmetic and buffer growth. */
#include <stdlib.h>

#include "common.h"
#include "size.h"

int sr_size_mul(size_t a, size_t b, size_t *out)
{
	size_t r;
	if (__builtin_mul_overflow(a, b, &r) || r > SR_SIZE_MAX)
		return -1;
	*out = r;
	return 0;
}

int sr_size_add(size_t a, size_t b, size_t *out)
{
	size_t r;
	if (__builtin_add_overflow(a, b, &r) || r > SR_SIZE_MAX)
		return -1;
	*out = r;
	return 0;
}

int sr_size_prod(int n, const size_t *v, size_t itemsize, size_t *out)
{
	size_t r = itemsize;
	if (r > SR_SIZE_MAX)
		return -1;
	for (int i = 0; i < n; i++)
		if (sr_size_mul(r, v[i], &r))
			return -1;
	*out = r;
	return 0;
}

size_t sr_size_chunks(size_t extent, size_t chunk)
{
	return extent / chunk + (extent % chunk != 0);
}

/* Doubling stops at SR_SIZE_MAX: a request beyond it fails instead of
 * looping (a doubled size_t wraps to 0 past 2^63). */
int sr_grow(void **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	if (need > SR_SIZE_MAX)
		return SIMREC_ENOMEM;
	size_t c = *cap ? *cap : 4096;
	while (c < need)
		c = c > SR_SIZE_MAX / 2 ? SR_SIZE_MAX : c * 2;
	void *q = realloc(*p, c);
	if (!q)
		return SIMREC_ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}
