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

/* Doubling stops at max elements (SR_SIZE_MAX bytes): a request beyond
 * it fails instead of looping (a doubled size_t wraps to 0 past 2^63). */
static int grow(void **p, size_t *cap, size_t need, size_t size, size_t first)
{
	size_t bytes;
	if (need <= *cap)
		return 0;
	if (!size || sr_size_mul(need, size, &bytes))
		return SIMREC_ENOMEM;
	size_t max = SR_SIZE_MAX / size;
	size_t c = *cap ? *cap : first;
	while (c < need)
		c = c > max / 2 ? max : c * 2;
	if (sr_size_mul(c, size, &bytes))
		return SIMREC_ENOMEM;
	void *q = realloc(*p, bytes);
	if (!q)
		return SIMREC_ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

int sr_grow(void **p, size_t *cap, size_t need)
{
	return grow(p, cap, need, 1, 4096);
}

int sr_grow_n(void **p, size_t *cap, size_t need, size_t size)
{
	return grow(p, cap, need, size, 16);
}
