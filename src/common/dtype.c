/* Element types: sizes, names, and their zarr v2 type strings. */
#include <string.h>

#include "common.h"

static const struct {
	const char *name;
	const char *zarr;
	size_t size;
} dtypes[SIMREC_NDTYPES] = {
        [SIMREC_INT8] = {"int8", "|i1", 1},
        [SIMREC_INT16] = {"int16", "<i2", 2},
        [SIMREC_INT32] = {"int32", "<i4", 4},
        [SIMREC_INT64] = {"int64", "<i8", 8},
        [SIMREC_UINT8] = {"uint8", "|u1", 1},
        [SIMREC_UINT16] = {"uint16", "<u2", 2},
        [SIMREC_UINT32] = {"uint32", "<u4", 4},
        [SIMREC_UINT64] = {"uint64", "<u8", 8},
        [SIMREC_FLOAT32] = {"float32", "<f4", 4},
        [SIMREC_FLOAT64] = {"float64", "<f8", 8},
        [SIMREC_BOOL] = {"bool", "|b1", 1},
        [SIMREC_BYTES] = {"bytes", "|O", 0},
        [SIMREC_STRING] = {"string", "|O", 0},
        [SIMREC_FLOAT16] = {"float16", "<f2", 2},
        [SIMREC_COMPLEX64] = {"complex64", "<c8", 8},
        [SIMREC_COMPLEX128] = {"complex128", "<c16", 16},
};

static int dtype_ok(simrec_dtype_t dt)
{
	return (int)dt >= 0 && dt < SIMREC_NDTYPES;
}

size_t simrec_dtype_size(simrec_dtype_t dt)
{
	return dtype_ok(dt) ? dtypes[dt].size : 0;
}

const char *simrec_dtype_name(simrec_dtype_t dt)
{
	return dtype_ok(dt) ? dtypes[dt].name : NULL;
}

int sr_dtype_is_vlen(simrec_dtype_t dt)
{
	return dt == SIMREC_BYTES || dt == SIMREC_STRING;
}

const char *sr_dtype_zarr(simrec_dtype_t dt)
{
	return dtype_ok(dt) ? dtypes[dt].zarr : NULL;
}

/* Numeric zarr dtypes only; "|O" is resolved from the filters. Big-endian
 * and other types are not supported. */
int sr_dtype_from_zarr(const char *s, simrec_dtype_t *dt)
{
	for (int i = 0; i < SIMREC_NDTYPES; i++) {
		const char *z = dtypes[i].zarr;
		if (sr_dtype_is_vlen((simrec_dtype_t)i))
			continue;
		/* zarr accepts "<i1"/"|i1" alike for one-byte types */
		if (!strcmp(s, z) || (dtypes[i].size == 1 && s[0] == '<' &&
		                      !strcmp(s + 1, z + 1))) {
			*dt = (simrec_dtype_t)i;
			return 0;
		}
	}
	return SIMREC_EFORMAT;
}
