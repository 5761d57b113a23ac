/* Overflow-checked size arithmetic: every size computed from a file, a
 * server reply or a caller's shape goes through these. Each returns 0 and
 * writes the result, or -1 (result unchanged) when it would wrap or pass
 * SR_SIZE_MAX. Callers turn -1 into SIMREC_EFORMAT (input from a file or a
 * server) or SIMREC_EINVAL (a caller's argument), naming the key. */
#ifndef SIMREC_SIZE_H
#define SIMREC_SIZE_H

#include <stddef.h>

/* The largest size simrec accepts for one buffer or one dataset's byte
 * count (2^62): far above any real allocation, and far enough below
 * SIZE_MAX that doubling and adding small headers cannot wrap. */
#define SR_SIZE_MAX ((size_t)1 << 62)

/* *out = a * b */
int sr_size_mul(size_t a, size_t b, size_t *out);
/* *out = a + b */
int sr_size_add(size_t a, size_t b, size_t *out);
/* *out = prod(v[0..n-1]) * itemsize (1 for n == 0) */
int sr_size_prod(int n, const size_t *v, size_t itemsize, size_t *out);
/* Number of chunks along one dimension: ceil(extent / chunk); chunk >= 1. */
size_t sr_size_chunks(size_t extent, size_t chunk);

#endif
