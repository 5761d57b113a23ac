/* The deterministic sample data that the interoperability tests write in C
 * and check in Python (and the reverse): element k of a dataset of dtype
 * dt is sample_value(dt, k). Keep in step with tests/interop_zarr.py. */
#ifndef SIMREC_TEST_SAMPLE_H
#define SIMREC_TEST_SAMPLE_H

#include <stdint.h>
#include <string.h>

#include "simrec.h"

static inline void sample_fill(simrec_dtype_t dt, size_t k0, size_t n,
                               void *out)
{
	for (size_t i = 0; i < n; i++) {
		size_t k = k0 + i;
		long long v = (long long)((k * 7 + 3) % 100) - 50;
		double f = (double)k * 0.5 - 3.0;
		switch (dt) {
		case SIMREC_INT8:
			((int8_t *)out)[i] = (int8_t)v;
			break;
		case SIMREC_INT16:
			((int16_t *)out)[i] = (int16_t)(v * 300);
			break;
		case SIMREC_INT32:
			((int32_t *)out)[i] = (int32_t)(v * 70000);
			break;
		case SIMREC_INT64:
			((int64_t *)out)[i] = v * 5000000000LL;
			break;
		case SIMREC_UINT8:
			((uint8_t *)out)[i] = (uint8_t)(v + 50);
			break;
		case SIMREC_UINT16:
			((uint16_t *)out)[i] = (uint16_t)((v + 50) * 600);
			break;
		case SIMREC_UINT32:
			((uint32_t *)out)[i] = (uint32_t)(v + 50) * 40000000u;
			break;
		case SIMREC_UINT64:
			((uint64_t *)out)[i] =
			        (uint64_t)(v + 50) * 100000000000ULL;
			break;
		case SIMREC_FLOAT32:
			((float *)out)[i] = (float)f;
			break;
		case SIMREC_FLOAT64:
			((double *)out)[i] = f / 3.0;
			break;
		case SIMREC_BOOL:
			((uint8_t *)out)[i] = k % 3 == 0;
			break;
		default:
			break;
		}
	}
}

#endif
