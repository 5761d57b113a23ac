/* Monotonic seconds, for the timings of the I/O summary. */
#ifndef SIMREC_CLOCK_H
#define SIMREC_CLOCK_H

#include <time.h>

static inline double sr_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
