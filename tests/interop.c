/* Interoperability, C side (driven by interop_zarr.py / interop_hdf5.py):
 *   interop_zarr write URI   write the sample datasets with simrec
 *   interop_zarr read URI    check the datasets zarr-python wrote */
#include <math.h>
#include <string.h>

#include "check.h"
#include "sample.h"

/* 0-d and 4-d data, text with control bytes, attributes of every kind
 * (checked by interop_hdf5.py, interop_zarr.py, check_redis_decode.py). */
static void write_more(simrec_t *rec)
{
	const double zero_d = 2.5;
	CHECK_OK(rec, simrec_set(rec, "more/zero_d", SIMREC_FLOAT64, 0, NULL,
	                         &zero_d));
	const size_t s4[4] = {2, 3, 2, 2};
	int16_t v4[24];
	for (int r = 0; r < 3; r++) {
		for (int k = 0; k < 24; k++)
			v4[k] = (int16_t)(100 * r + k);
		CHECK_OK(rec, simrec_record(rec, "more/four_d", SIMREC_INT16, 4,
		                            s4, v4));
	}
	const char *t = "line one\nline two\ttab";
	CHECK_OK(rec, simrec_record_bytes(rec, "more/text", SIMREC_STRING, t,
	                                  strlen(t)));
	CHECK_OK(rec, simrec_attr_set_uint(rec, "more", "u64max", UINT64_MAX));
	CHECK_OK(rec, simrec_attr_set_int(rec, "more", "i64min", INT64_MIN));
	CHECK_OK(rec, simrec_attr_set_bool(rec, "more", "yes", 1));
	CHECK_OK(rec, simrec_attr_set_double(rec, "more", "nan", NAN));
	CHECK_OK(rec, simrec_attr_set_double(rec, "more", "inf", INFINITY));
	CHECK_OK(rec, simrec_attr_set_double(rec, "more", "ninf", -INFINITY));
	const int32_t ai[3] = {-1, 0, 7};
	const double ad[3] = {0.5, NAN, -2};
	const uint64_t au[2] = {1, UINT64_MAX};
	CHECK_OK(rec,
	         simrec_attr_set_array(rec, "more", "ai", SIMREC_INT32, 3, ai));
	CHECK_OK(rec, simrec_attr_set_array(rec, "more", "ad", SIMREC_FLOAT64,
	                                    3, ad));
	CHECK_OK(rec, simrec_attr_set_array(rec, "more", "au", SIMREC_UINT64, 2,
	                                    au));
	simrec_attr_t e = {.type = SIMREC_ATTR_EMPTY, .dtype = SIMREC_FLOAT64};
	CHECK_OK(rec, simrec_attr_set(rec, "more", "none", &e));
	/* a group that holds only attributes */
	CHECK_OK(rec, simrec_attr_set_string(rec, "attrs_only/g", "note",
	                                     "two\nlines"));
	/* read back through the same API */
	simrec_attr_t a;
	CHECK_OK(rec, simrec_attr_get(rec, "more", "u64max", &a));
	CHECK(a.type == SIMREC_ATTR_UINT && a.u == UINT64_MAX);
	CHECK_OK(rec, simrec_attr_get(rec, "more", "i64min", &a));
	CHECK(a.type == SIMREC_ATTR_INT && a.i == INT64_MIN);
	CHECK_OK(rec, simrec_attr_get(rec, "more", "yes", &a));
	CHECK(a.type == SIMREC_ATTR_BOOL && a.i == 1);
	CHECK_OK(rec, simrec_attr_get(rec, "more", "nan", &a));
	CHECK(a.type == SIMREC_ATTR_DOUBLE && isnan(a.d));
	CHECK_OK(rec, simrec_attr_get(rec, "more", "ninf", &a));
	CHECK(a.type == SIMREC_ATTR_DOUBLE && isinf(a.d) && a.d < 0);
	CHECK_OK(rec, simrec_attr_get(rec, "more", "au", &a));
	CHECK(a.type == SIMREC_ATTR_ARRAY && a.count == 2 &&
	      a.dtype == SIMREC_UINT64 &&
	      ((uint64_t *)a.data)[1] == UINT64_MAX);
	simrec_attr_clear(&a);
	CHECK_OK(rec, simrec_attr_get(rec, "more", "ad", &a));
	CHECK(a.type == SIMREC_ATTR_ARRAY && a.count == 3 &&
	      isnan(((double *)a.data)[1]));
	simrec_attr_clear(&a);
	CHECK_OK(rec, simrec_attr_get(rec, "more", "none", &a));
	CHECK(a.type == SIMREC_ATTR_EMPTY);
	/* bad arrays are refused */
	CHECK_RC(rec,
	         simrec_attr_set_array(rec, "more", "x", SIMREC_STRING, 1, ai),
	         SIMREC_EINVAL);
	CHECK_RC(rec,
	         simrec_attr_set_array(rec, "more", "x", SIMREC_INT32, 2, NULL),
	         SIMREC_EINVAL);
}

static void write_sample(const char *uri)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	simrec_t *rec;
	CHECK_OK(NULL, simrec_open(&rec, uri, &o));
	unsigned char buf[6 * 7 * 8];
	const size_t shapes[3][2] = {{6, 7}, {1, 5}, {42, 1}};
	for (int dt = 0; dt < SIMREC_BYTES; dt++) {
		for (int s = 0; s < 3; s++) {
			char key[96];
			snprintf(key, sizeof key, "types/%s/s%d",
			         simrec_dtype_name(dt), s);
			size_t n = shapes[s][0] * shapes[s][1];
			for (size_t r = 0; r < 9; r++) {
				sample_fill(dt, r * n, n, buf);
				CHECK_OK(rec, simrec_record(rec, key, dt, 2,
				                            shapes[s], buf));
			}
		}
	}
	for (size_t r = 0; r < 1000000; r++) {
		double v;
		sample_fill(SIMREC_FLOAT64, r, 1, &v);
		CHECK_OK(rec, simrec_record(rec, "small/scalar", SIMREC_FLOAT64,
		                            0, NULL, &v));
	}
	for (int i = 0; i < 50; i++) {
		char s[64];
		int n = snprintf(s, sizeof s,
		                 "{\"step\": %d, \"name\": \"é%d\"}", i, i);
		CHECK_OK(rec, simrec_record_bytes(rec, "deep/nested/key/config",
		                                  SIMREC_STRING, s, (size_t)n));
		CHECK_OK(rec, simrec_record_bytes(rec, "deep/raw", SIMREC_BYTES,
		                                  s, (size_t)(i % 7)));
	}
	const size_t s3[3] = {2, 3, 4};
	float v[24];
	sample_fill(SIMREC_FLOAT32, 0, 24, v);
	CHECK_OK(rec, simrec_set(rec, "deep/value", SIMREC_FLOAT32, 3, s3, v));
	CHECK_OK(rec,
	         simrec_attr_set_string(rec, "", "title", "simrec interop"));
	CHECK_OK(rec, simrec_attr_set_int(rec, "types", "count", 11));
	CHECK_OK(rec, simrec_attr_set_double(rec, "small/scalar", "dt", 0.125));
	CHECK_OK(rec, simrec_attr_set_string(rec, "deep/nested", "unit", "K"));
	write_more(rec);
	CHECK_OK(rec, simrec_close(rec));
}

static void check_key(simrec_t *rec, const char *key, simrec_dtype_t dt,
                      int ndim, const size_t *shape)
{
	simrec_dataset_t *ds;
	CHECK_OK(rec, simrec_get_all(rec, key, &ds));
	CHECK(simrec_dataset_dtype(ds) == dt);
	CHECK(simrec_dataset_ndim(ds) == ndim);
	size_t sh[SIMREC_MAX_NDIM], n = 1, isz = simrec_dtype_size(dt);
	simrec_dataset_shape(ds, sh);
	for (int i = 0; i < ndim; i++) {
		CHECK(sh[i] == shape[i]);
		n *= sh[i];
	}
	unsigned char *got = malloc(n * isz), *want = malloc(n * isz);
	sample_fill(dt, 0, n, want);
	CHECK_OK(rec, simrec_dataset_read(ds, NULL, NULL, got, n * isz));
	CHECK(memcmp(got, want, n * isz) == 0);
	free(got);
	free(want);
	simrec_dataset_close(ds);
}

static void read_python(const char *uri)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	CHECK_OK(NULL, simrec_open(&rec, uri, &o));
	const size_t s3[3] = {10, 3, 7}, s1[1] = {100};
	check_key(rec, "py/f4", SIMREC_FLOAT32, 3, s3);
	check_key(rec, "py/f8", SIMREC_FLOAT64, 3, s3);
	check_key(rec, "py/i2", SIMREC_INT16, 3, s3);
	check_key(rec, "py/u8", SIMREC_UINT8, 1, s1);
	check_key(rec, "py/b", SIMREC_BOOL, 1, s1);
	/* missing chunks read as the fill value (here -1) */
	simrec_dataset_t *ds;
	CHECK_OK(rec, simrec_get_all(rec, "py/sparse", &ds));
	int32_t sp[20];
	CHECK_OK(rec, simrec_dataset_read(ds, NULL, NULL, sp, sizeof sp));
	CHECK(sp[0] == 5 && sp[1] == -1 && sp[19] == -1);
	simrec_dataset_close(ds);
	CHECK_OK(rec, simrec_get_all(rec, "py/text", &ds));
	CHECK(simrec_dataset_dtype(ds) == SIMREC_STRING);
	char s[64];
	size_t len;
	CHECK_OK(rec, simrec_dataset_read_bytes(ds, 3, s, sizeof s, &len));
	CHECK(!strcmp(s, "text 3 é"));
	simrec_dataset_close(ds);
	simrec_attr_t a;
	CHECK_OK(rec, simrec_attr_get(rec, "py", "origin", &a));
	CHECK(a.type == SIMREC_ATTR_STRING && !strcmp(a.s, "zarr-python"));
	simrec_attr_clear(&a);
	CHECK_OK(rec, simrec_close(rec));
	/* and simrec appends to a zarr-python dataset */
	o.mode = SIMREC_MODE_APPEND;
	CHECK_OK(NULL, simrec_open(&rec, uri, &o));
	float f[21];
	sample_fill(SIMREC_FLOAT32, 210, 21, f);
	const size_t r[2] = {3, 7};
	CHECK_OK(rec, simrec_record(rec, "py/f4", SIMREC_FLOAT32, 2, r, f));
	CHECK_OK(rec, simrec_close(rec));
}

/* interop get URI KEY: "ndim shape..." of simrec_get(); interop append
 * URI KEY: try to append a record of the dataset's row shape and print the
 * status and message. */
static int probe(const char *what, const char *uri, const char *key)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode =
	        strcmp(what, "get") ? SIMREC_MODE_APPEND : SIMREC_MODE_READONLY;
	simrec_t *rec;
	CHECK_OK(NULL, simrec_open(&rec, uri, &o));
	simrec_dataset_t *ds;
	int rc = simrec_get(rec, key, &ds);
	if (rc) {
		printf("%s %s\n", simrec_err_name(rc), simrec_errmsg(rec));
		simrec_close(rec);
		return 0;
	}
	size_t sh[SIMREC_MAX_NDIM];
	int nd = simrec_dataset_ndim(ds);
	simrec_dataset_shape(ds, sh);
	simrec_dtype_t dt = simrec_dataset_dtype(ds);
	simrec_dataset_close(ds);
	if (!strcmp(what, "get")) {
		printf("%d", nd);
		for (int i = 0; i < nd; i++)
			printf(" %zu", sh[i]);
		printf("\n");
	} else {
		unsigned char buf[4096] = {0};
		rc = nd ? simrec_record(rec, key, dt, nd - 1, sh + 1, buf)
		        : simrec_record(rec, key, dt, 0, NULL, buf);
		printf("%s %s\n", simrec_err_name(rc),
		       rc ? simrec_errmsg(rec) : "");
	}
	simrec_close(rec);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4)
		return probe(argv[1], argv[2], argv[3]);
	if (argc != 3) {
		fprintf(stderr, "usage: interop write|read URI\n");
		return 2;
	}
	if (!strcmp(argv[1], "write"))
		write_sample(argv[2]);
	else
		read_python(argv[2]);
	return 0;
}
