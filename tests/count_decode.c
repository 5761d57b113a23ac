/* LD_PRELOAD shim for the export test: counts the blosc decodes of the
 * process (blosc_decompress, blosc_getitem) and writes the count to the
 * file named by SIMREC_TEST_DECODE_COUNT at exit. Work counted, not
 * timed (tests/export_decode.sh). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static long decodes;

__attribute__((visibility("default"))) int
blosc_decompress(const void *src, void *dest, size_t destsize)
{
	int (*real)(const void *, void *, size_t) =
	        (int (*)(const void *, void *, size_t))dlsym(
	                RTLD_NEXT, "blosc_decompress");
	__atomic_add_fetch(&decodes, 1, __ATOMIC_RELAXED);
	return real ? real(src, dest, destsize) : -1;
}

__attribute__((visibility("default"))) int
blosc_getitem(const void *src, int start, int nitems, void *dest)
{
	int (*real)(const void *, int, int, void *) =
	        (int (*)(const void *, int, int, void *))dlsym(RTLD_NEXT,
	                                                       "blosc_getitem");
	__atomic_add_fetch(&decodes, 1, __ATOMIC_RELAXED);
	return real ? real(src, start, nitems, dest) : -1;
}

__attribute__((destructor)) static void report(void)
{
	const char *path = getenv("SIMREC_TEST_DECODE_COUNT");
	FILE *f = path ? fopen(path, "w") : NULL;
	if (f) {
		fprintf(f, "%ld\n", decodes);
		fclose(f);
	}
}
