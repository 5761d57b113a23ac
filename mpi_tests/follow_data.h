/* The data of the live-follow tests (follow_writer.c, follow_reader.c,
 * bench/bench_follow.c): step s of the global array "field/T" of shape
 * (FOLLOW_NY, FOLLOW_NX) holds s * 10000 + i * 100 + j at (i, j), exact
 * in float64, so a reader checks each element against the formula. */
#ifndef SIMREC_FOLLOW_DATA_H
#define SIMREC_FOLLOW_DATA_H

#include <stddef.h>

#define FOLLOW_KEY "field/T"
#define FOLLOW_NY  12
#define FOLLOW_NX  10

static inline double follow_value(size_t s, size_t i, size_t j)
{
	return (double)s * 10000.0 + (double)i * 100.0 + (double)j;
}

#endif
