/* IEEE 754 binary16 conversions (the library's and the tool's copy). */
#include <math.h>

#include "half.h"

uint16_t sr_half_from_double(double d)
{
	uint16_t sign = signbit(d) ? 0x8000 : 0;
	double a = fabs(d);
	if (isnan(d))
		return sign | 0x7e00;
	if (a >= 65520.0) /* rounds to infinity */
		return sign | 0x7c00;
	if (a < 0x1p-14) /* subnormal, in units of 2^-24 (exact) */
		return sign | (uint16_t)nearbyint(a * 0x1p24);
	int e;
	double m = frexp(a, &e); /* a = m 2^e, m in [0.5, 1) */
	unsigned f = (unsigned)nearbyint((2 * m - 1) * 1024);
	/* f == 1024 carries into the exponent, as it should */
	return sign | (uint16_t)(((unsigned)(e + 14) << 10) + f);
}

double sr_half_to_double(uint16_t h)
{
	unsigned e = (h >> 10) & 0x1f, f = h & 0x3ff;
	double v = e == 0    ? ldexp(f, -24)
	           : e == 31 ? (f ? (double)NAN : (double)INFINITY)
	                     : ldexp(1024 + f, (int)e - 25);
	return h & 0x8000 ? -v : v;
}
