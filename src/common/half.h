/* IEEE 754 binary16 (numpy's float16) to and from double, without the
 * compiler's _Float16. */
#ifndef SIMREC_HALF_H
#define SIMREC_HALF_H

#include <stdint.h>

/* d as a binary16: round to nearest even, overflow to infinity, NaN
 * stays NaN */
uint16_t sr_half_from_double(double d);
/* the binary16 h as a double (exact) */
double sr_half_to_double(uint16_t h);

#endif
