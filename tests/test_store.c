/* Store semantics, run once per datastore: test_store SCHEME DIR
 * (SCHEME: memory, zarr, zarr+dir, hdf5). Never calls MPI_Init: reading
 * and recording work in a plain serial program. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "sample.h"

static char uri[4096], scheme[64];
static int persistent; /* store survives close (not memory:) */

static simrec_t *open_store(simrec_mode_t mode, const char *params)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = mode;
	char u[4200];
	snprintf(u, sizeof u, "%s%s%s", uri,
	         params ? (strchr(uri, '?') ? "&" : "?") : "",
	         params ? params : "");
	simrec_t *rec = NULL;
	CHECK_OK(NULL, simrec_open(&rec, u, &o));
	CHECK(rec != NULL);
	return rec;
}

static void check_dataset(simrec_t *rec, const char *key, simrec_dtype_t dt,
                          int ndim, const size_t *shape, size_t k0)
{
	simrec_dataset_t *ds;
	CHECK_OK(rec, simrec_get_all(rec, key, &ds));
	CHECK(simrec_dataset_dtype(ds) == dt);
	CHECK(simrec_dataset_ndim(ds) == ndim);
	size_t sh[SIMREC_MAX_NDIM], n = 1;
	simrec_dataset_shape(ds, sh);
	for (int i = 0; i < ndim; i++) {
		CHECK(sh[i] == shape[i]);
		n *= sh[i];
	}
	CHECK(simrec_dataset_size(ds) == n);
	size_t isz = simrec_dtype_size(dt);
	unsigned char *got = malloc(n * isz + 1), *want = malloc(n * isz + 1);
	sample_fill(dt, k0, n, want);
	CHECK_OK(rec, simrec_dataset_read(ds, NULL, NULL, got, n * isz));
	CHECK(memcmp(got, want, n * isz) == 0);
	/* a too-small buffer is refused */
	if (n > 1)
		CHECK_RC(rec, simrec_dataset_read(ds, NULL, NULL, got, isz),
		         SIMREC_ETRUNC);
	free(got);
	free(want);
	simrec_dataset_close(ds);
}

/* Every dtype, several shapes, batched into chunks and across them. */
static void test_dtypes(void)
{
	simrec_t *rec = open_store(SIMREC_MODE_CREATE, "chunk_bytes=4096");
	const size_t shape[2] = {3, 5};
	for (int dt = 0; dt < SIMREC_BYTES; dt++) {
		char key[64];
		snprintf(key, sizeof key, "types/%s", simrec_dtype_name(dt));
		size_t per = 15;
		unsigned char buf[15 * 8];
		for (size_t r = 0; r < 100; r++) {
			sample_fill(dt, r * per, per, buf);
			CHECK_OK(rec,
			         simrec_record(rec, key, dt, 2, shape, buf));
		}
		const size_t full[3] = {100, 3, 5};
		check_dataset(rec, key, dt, 3, full, 0);
	}
	/* 0-d records (scalars) and 4-d records */
	for (size_t r = 0; r < 1000; r++) {
		double v;
		sample_fill(SIMREC_FLOAT64, r, 1, &v);
		CHECK_OK(rec, simrec_record(rec, "scalars/x", SIMREC_FLOAT64, 0,
		                            NULL, &v));
	}
	const size_t s4[4] = {2, 3, 4, 5};
	float f4[120];
	for (size_t r = 0; r < 7; r++) {
		sample_fill(SIMREC_FLOAT32, r * 120, 120, f4);
		CHECK_OK(rec, simrec_record(rec, "a/b/c/d4", SIMREC_FLOAT32, 4,
		                            s4, f4));
	}
	CHECK_OK(rec, simrec_flush(rec));
	const size_t n1[1] = {1000}, n5[5] = {7, 2, 3, 4, 5};
	check_dataset(rec, "scalars/x", SIMREC_FLOAT64, 1, n1, 0);
	check_dataset(rec, "a/b/c/d4", SIMREC_FLOAT32, 5, n5, 0);
	CHECK_OK(rec, simrec_close(rec));
	if (persistent) {
		rec = open_store(SIMREC_MODE_READONLY, NULL);
		check_dataset(rec, "scalars/x", SIMREC_FLOAT64, 1, n1, 0);
		check_dataset(rec, "a/b/c/d4", SIMREC_FLOAT32, 5, n5, 0);
		const size_t full[3] = {100, 3, 5};
		check_dataset(rec, "types/uint64", SIMREC_UINT64, 3, full, 0);
		CHECK_OK(rec, simrec_close(rec));
	}
}

/* Hyperslab reads, get() of the last record. */
static void test_slices(void)
{
	simrec_t *rec = open_store(SIMREC_MODE_CREATE, "chunk_bytes=1000");
	const size_t shape[2] = {10, 20};
	int32_t buf[200];
	for (size_t r = 0; r < 30; r++) {
		sample_fill(SIMREC_INT32, r * 200, 200, buf);
		CHECK_OK(rec,
		         simrec_record(rec, "f", SIMREC_INT32, 2, shape, buf));
	}
	simrec_dataset_t *ds;
	CHECK_OK(rec, simrec_get_all(rec, "f", &ds));
	const size_t st[3] = {5, 2, 3}, ct[3] = {20, 7, 11};
	int32_t *got = malloc(20 * 7 * 11 * 4), all[30 * 200];
	sample_fill(SIMREC_INT32, 0, 6000, all);
	CHECK_OK(rec, simrec_dataset_read(ds, st, ct, got, 20 * 7 * 11 * 4));
	for (size_t a = 0; a < 20; a++)
		for (size_t b = 0; b < 7; b++)
			for (size_t c = 0; c < 11; c++)
				CHECK(got[(a * 7 + b) * 11 + c] ==
				      all[(a + 5) * 200 + (b + 2) * 20 + c +
				          3]);
	const size_t bad[3] = {25, 0, 0}, badc[3] = {6, 1, 1};
	CHECK_RC(rec, simrec_dataset_read(ds, bad, badc, got, 4 * 6),
	         SIMREC_ERANGE);
	CHECK(strstr(simrec_errmsg(rec), "'f'") != NULL);
	simrec_dataset_close(ds);
	CHECK_OK(rec, simrec_get(rec, "f", &ds));
	CHECK(simrec_dataset_ndim(ds) == 2);
	CHECK_OK(rec, simrec_dataset_read(ds, NULL, NULL, got, 800));
	CHECK(memcmp(got, all + 29 * 200, 800) == 0);
	simrec_dataset_close(ds);
	free(got);
	CHECK_OK(rec, simrec_close(rec));
}

/* Wrong dtype or shape: clear error, nothing stored changes. */
static void test_mismatch(void)
{
	simrec_t *rec = open_store(SIMREC_MODE_CREATE, NULL);
	const size_t shape[1] = {4}, other[1] = {5};
	float f[5] = {1, 2, 3, 4, 5};
	double d[4] = {0};
	CHECK_OK(rec, simrec_record(rec, "m/x", SIMREC_FLOAT32, 1, shape, f));
	CHECK_RC(rec, simrec_record(rec, "m/x", SIMREC_FLOAT32, 1, other, f),
	         SIMREC_ESHAPE);
	CHECK(strstr(simrec_errmsg(rec), "m/x") != NULL);
	CHECK(strstr(simrec_errmsg(rec), "(5,)") != NULL);
	CHECK_RC(rec, simrec_record(rec, "m/x", SIMREC_FLOAT64, 1, shape, d),
	         SIMREC_EDTYPE);
	CHECK_RC(rec, simrec_record(rec, "m/x", SIMREC_FLOAT32, 0, NULL, f),
	         SIMREC_ESHAPE);
	/* a group cannot become a dataset, nor a dataset hold a child */
	CHECK_RC(rec, simrec_record(rec, "m", SIMREC_FLOAT32, 1, shape, f),
	         SIMREC_EKIND);
	CHECK(simrec_record(rec, "m/x/y", SIMREC_FLOAT32, 1, shape, f) < 0);
	/* invalid arguments */
	CHECK_RC(rec, simrec_record(rec, "", SIMREC_FLOAT32, 1, shape, f),
	         SIMREC_EINVAL);
	CHECK_RC(rec, simrec_record(rec, "a//b", SIMREC_FLOAT32, 1, shape, f),
	         SIMREC_EINVAL);
	CHECK_RC(rec, simrec_record(rec, "a/../b", SIMREC_FLOAT32, 1, shape, f),
	         SIMREC_EINVAL);
	CHECK_RC(rec, simrec_record(rec, "ok", SIMREC_FLOAT32, 1, shape, NULL),
	         SIMREC_EINVAL);
	CHECK_RC(rec, simrec_record(rec, "ok", (simrec_dtype_t)99, 1, shape, f),
	         SIMREC_EINVAL);
	CHECK_OK(rec, simrec_record(rec, "m/x", SIMREC_FLOAT32, 1, shape, f));
	simrec_dataset_t *ds;
	CHECK_OK(rec, simrec_get_all(rec, "m/x", &ds));
	size_t sh[2];
	simrec_dataset_shape(ds, sh);
	CHECK(sh[0] == 2 && sh[1] == 4);
	float got[8];
	CHECK_OK(rec, simrec_dataset_read(ds, NULL, NULL, got, sizeof got));
	CHECK(got[0] == 1 && got[3] == 4 && got[4] == 1 && got[7] == 4);
	simrec_dataset_close(ds);
	CHECK_RC(rec, simrec_get_all(rec, "nope", &ds), SIMREC_ENOKEY);
	CHECK(ds == NULL);
	CHECK(strstr(simrec_errmsg(rec), "nope") != NULL);
	CHECK_RC(rec, simrec_get_all(rec, "m", &ds), SIMREC_EKIND);
	CHECK_OK(rec, simrec_close(rec));
}

/* set/get of values; attributes; listing. */
static void test_values_attrs(void)
{
	simrec_t *rec = open_store(SIMREC_MODE_CREATE, NULL);
	const size_t s2[2] = {2, 3};
	int64_t v[6] = {1, 2, 3, 4, 5, 6};
	CHECK_OK(rec, simrec_set(rec, "cfg/grid", SIMREC_INT64, 2, s2, v));
	double pi = 3.25;
	CHECK_OK(rec, simrec_set(rec, "cfg/dt", SIMREC_FLOAT64, 0, NULL, &pi));
	/* replace with another dtype and shape */
	const size_t s1[1] = {4};
	float w[4] = {9, 8, 7, 6};
	CHECK_OK(rec, simrec_set(rec, "cfg/grid", SIMREC_FLOAT32, 1, s1, w));
	CHECK_OK(rec, simrec_attr_set_string(rec, "/", "title", "simrec test"));
	CHECK_OK(rec, simrec_attr_set_int(rec, "cfg", "answer", 42));
	CHECK_OK(rec, simrec_attr_set_double(rec, "cfg/grid", "scale", 0.5));
	CHECK_OK(rec, simrec_attr_set_string(rec, "cfg/grid", "unit", "m"));
	CHECK_RC(rec, simrec_attr_set_int(rec, "cfg", "", 1), SIMREC_EINVAL);
	simrec_dataset_t *ds;
	for (int pass = 0; pass < 1 + persistent; pass++) {
		if (pass) {
			CHECK_OK(rec, simrec_close(rec));
			rec = open_store(SIMREC_MODE_READONLY, NULL);
		}
		CHECK_OK(rec, simrec_get(rec, "cfg/grid", &ds));
		CHECK(simrec_dataset_dtype(ds) == SIMREC_FLOAT32);
		CHECK(simrec_dataset_ndim(ds) == 1);
		float g[4];
		CHECK_OK(rec, simrec_dataset_read(ds, NULL, NULL, g, sizeof g));
		CHECK(g[0] == 9 && g[3] == 6);
		simrec_dataset_close(ds);
		CHECK_OK(rec, simrec_get(rec, "cfg/dt", &ds));
		CHECK(simrec_dataset_ndim(ds) == 0);
		double d = 0;
		CHECK_OK(rec,
		         simrec_dataset_read(ds, NULL, NULL, &d, sizeof d));
		CHECK(d == 3.25);
		simrec_dataset_close(ds);
		simrec_attr_t a;
		CHECK_OK(rec, simrec_attr_get(rec, "", "title", &a));
		CHECK(a.type == SIMREC_ATTR_STRING &&
		      !strcmp(a.s, "simrec test"));
		simrec_attr_clear(&a);
		CHECK_OK(rec, simrec_attr_get(rec, "cfg", "answer", &a));
		CHECK(a.type == SIMREC_ATTR_INT && a.i == 42);
		CHECK_OK(rec, simrec_attr_get(rec, "cfg/grid", "scale", &a));
		CHECK(a.type == SIMREC_ATTR_DOUBLE && a.d == 0.5);
		CHECK_RC(rec, simrec_attr_get(rec, "cfg/grid", "nope", &a),
		         SIMREC_ENOKEY);
		CHECK(strstr(simrec_errmsg(rec), "nope") != NULL);
	}
	CHECK_RC(rec, simrec_set(rec, "cfg/x", SIMREC_FLOAT64, 0, NULL, &pi),
	         persistent ? SIMREC_EREADONLY : SIMREC_OK);
	CHECK_OK(rec, simrec_close(rec));
}

/* Byte strings and UTF-8 text per record. */
static void test_text(void)
{
	simrec_t *rec = open_store(SIMREC_MODE_CREATE, "chunk_bytes=2048");
	char buf[128];
	for (int i = 0; i < 300; i++) {
		int n = snprintf(buf, sizeof buf,
		                 "{\"step\": %d, \"é\": \"%*s\"}", i, i % 40,
		                 "");
		CHECK_OK(rec,
		         simrec_record_bytes(rec, "log/config", SIMREC_STRING,
		                             buf, (size_t)n));
		unsigned char raw[4] = {(unsigned char)i, 0, 255,
		                        (unsigned char)(i >> 8)};
		CHECK_OK(rec, simrec_record_bytes(rec, "log/raw", SIMREC_BYTES,
		                                  raw, (size_t)(i % 5)));
	}
	CHECK_RC(rec,
	         simrec_record_bytes(rec, "log/config", SIMREC_BYTES, "x", 1),
	         SIMREC_EDTYPE);
	for (int pass = 0; pass < 1 + persistent; pass++) {
		if (pass) {
			CHECK_OK(rec, simrec_close(rec));
			rec = open_store(SIMREC_MODE_READONLY, NULL);
		}
		simrec_dataset_t *ds;
		CHECK_OK(rec, simrec_get_all(rec, "log/config", &ds));
		CHECK(simrec_dataset_dtype(ds) == SIMREC_STRING);
		size_t sh[1];
		simrec_dataset_shape(ds, sh);
		CHECK(sh[0] == 300);
		for (int i = 0; i < 300; i += 7) {
			char want[128], got[128];
			int n = snprintf(want, sizeof want,
			                 "{\"step\": %d, \"é\": \"%*s\"}", i,
			                 i % 40, "");
			size_t len;
			CHECK_OK(rec,
			         simrec_dataset_read_bytes(ds, (size_t)i, got,
			                                   sizeof got, &len));
			CHECK(len == (size_t)n && !strcmp(got, want));
			CHECK_RC(rec,
			         simrec_dataset_read_bytes(ds, (size_t)i, got,
			                                   3, &len),
			         SIMREC_ETRUNC);
		}
		simrec_dataset_close(ds);
		CHECK_OK(rec, simrec_get(rec, "log/raw", &ds));
		unsigned char got[8];
		size_t len;
		CHECK_OK(rec, simrec_dataset_read_bytes(ds, 0, got, sizeof got,
		                                        &len));
		CHECK(len == 299 % 5 && got[0] == (unsigned char)299 &&
		      got[2] == 255);
		simrec_dataset_close(ds);
	}
	CHECK_OK(rec, simrec_close(rec));
}

/* Reopen for append: new records go after the old ones, the partial last
 * chunk included. */
static void test_append(void)
{
	if (!persistent)
		return;
	const size_t shape[1] = {3};
	int16_t buf[3];
	/* each run with another codec: the datasets keep their first
	 * run's (docs/format.md), and every record reads back */
	const char *params[3] = {"chunk_bytes=64&codec=lz4",
	                         "chunk_bytes=64&codec=none",
	                         "chunk_bytes=64&codec=zstd"};
	for (int round = 0; round < 3; round++) {
		simrec_t *rec = open_store(round ? SIMREC_MODE_APPEND
		                                 : SIMREC_MODE_CREATE,
		                           params[round]);
		for (size_t r = 0; r < 17; r++) {
			size_t row = (size_t)round * 17 + r;
			sample_fill(SIMREC_INT16, row * 3, 3, buf);
			CHECK_OK(rec, simrec_record(rec, "grow", SIMREC_INT16,
			                            1, shape, buf));
			char s[32];
			int n = snprintf(s, sizeof s, "row %zu", row);
			CHECK_OK(rec, simrec_record_bytes(rec, "growtext",
			                                  SIMREC_STRING, s,
			                                  (size_t)n));
		}
		CHECK_OK(rec, simrec_close(rec));
	}
	simrec_t *rec = open_store(SIMREC_MODE_READONLY, NULL);
	const size_t full[2] = {51, 3};
	check_dataset(rec, "grow", SIMREC_INT16, 2, full, 0);
	simrec_dataset_t *ds;
	CHECK_OK(rec, simrec_get_all(rec, "growtext", &ds));
	for (size_t i = 0; i < 51; i++) {
		char got[32], want[32];
		size_t len;
		snprintf(want, sizeof want, "row %zu", i);
		CHECK_OK(rec, simrec_dataset_read_bytes(ds, i, got, sizeof got,
		                                        &len));
		CHECK(!strcmp(got, want));
	}
	simrec_dataset_close(ds);
	/* read-only refuses every write with a clear error */
	CHECK_RC(rec, simrec_record(rec, "grow", SIMREC_INT16, 1, shape, buf),
	         SIMREC_EREADONLY);
	CHECK(strstr(simrec_errmsg(rec), "read-only") != NULL);
	CHECK_RC(rec, simrec_attr_set_int(rec, "grow", "x", 1),
	         SIMREC_EREADONLY);
	CHECK_OK(rec, simrec_close(rec));
}

/* Several stores in one recorder: every record goes to each. */
static void test_fanout(void)
{
	char both[8400];
	snprintf(both, sizeof both, "memory:;%s", uri);
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	simrec_t *rec;
	CHECK_OK(NULL, simrec_open(&rec, both, &o));
	const size_t shape[1] = {4};
	float f[4] = {1, 2, 3, 4};
	for (int i = 0; i < 10; i++)
		CHECK_OK(rec, simrec_record(rec, "fan/x", SIMREC_FLOAT32, 1,
		                            shape, f));
	CHECK_OK(rec, simrec_close(rec));
	if (!persistent)
		return;
	rec = open_store(SIMREC_MODE_READONLY, NULL);
	simrec_dataset_t *ds;
	CHECK_OK(rec, simrec_get_all(rec, "fan/x", &ds));
	size_t sh[2];
	simrec_dataset_shape(ds, sh);
	CHECK(sh[0] == 10 && sh[1] == 4);
	simrec_dataset_close(ds);
	CHECK_OK(rec, simrec_close(rec));
}

static int count_cb(const char *key, int is_ds, void *arg)
{
	int *n = arg;
	n[is_ds]++;
	(void)key;
	return 0;
}

static void test_list_and_uris(void)
{
	simrec_t *rec = open_store(SIMREC_MODE_CREATE, NULL);
	const size_t shape[1] = {2};
	float f[2] = {1, 2};
	CHECK_OK(rec, simrec_record(rec, "g1/a", SIMREC_FLOAT32, 1, shape, f));
	CHECK_OK(rec,
	         simrec_record(rec, "g1/g2/b", SIMREC_FLOAT32, 1, shape, f));
	CHECK_OK(rec, simrec_record(rec, "c", SIMREC_FLOAT32, 1, shape, f));
	CHECK_OK(rec, simrec_flush(rec));
	int n[2] = {0, 0};
	CHECK_OK(rec, simrec_list(rec, "", count_cb, n));
	CHECK(n[0] == 2 && n[1] == 3);
	n[0] = n[1] = 0;
	CHECK_OK(rec, simrec_list(rec, "g1", count_cb, n));
	CHECK(n[0] == 2 && n[1] == 2);
	CHECK_OK(rec, simrec_close(rec));
	simrec_t *bad = NULL;
	CHECK_RC(NULL, simrec_open(&bad, "nosuch:x", NULL), SIMREC_EURI);
	CHECK(bad == NULL);
	CHECK_RC(NULL, simrec_open(&bad, "justapath", NULL), SIMREC_EURI);
	char u[4200];
	snprintf(u, sizeof u, "%s%scodec=snappy", uri,
	         strchr(uri, '?') ? "&" : "?");
	CHECK_RC(NULL, simrec_open(&bad, u, NULL), SIMREC_ECONFIG);
	snprintf(u, sizeof u, "%s%slevel=12", uri,
	         strchr(uri, '?') ? "&" : "?");
	CHECK_RC(NULL, simrec_open(&bad, u, NULL), SIMREC_ECONFIG);
	snprintf(u, sizeof u, "%s%scolour=blue", uri,
	         strchr(uri, '?') ? "&" : "?");
	CHECK_RC(NULL, simrec_open(&bad, u, NULL), SIMREC_EURI);
	CHECK(bad == NULL);
	/* a lock's redis URI is checked as the settings say, before any
	 * connection (port 1: nothing listens) */
	static const char *const bad_lock[] = {
	        "redis://127.0.0.1:1?timeout=abc",
	        "redis://127.0.0.1:1?timeout=0",
	        "redis://127.0.0.1:1?reconnect=-1", "redis://127.0.0.1:1/x",
	        "redis://127.0.0.1:x"};
	for (size_t i = 0; i < sizeof bad_lock / sizeof *bad_lock; i++) {
		simrec_lock_t *l = NULL;
		CHECK_RC(NULL, simrec_lock_open(&l, bad_lock[i], "r", 0),
		         SIMREC_EURI);
		CHECK(l == NULL);
	}
}

/* A path that is not a store of this kind: a clear error naming it, and
 * the file is left as it was. */
static void test_not_a_store(const char *dir)
{
	if (!persistent || !strcmp(scheme, "redis"))
		return;
	char path[4200], u[4300];
	snprintf(path, sizeof path, "%s/not-a-store.txt", dir);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	fputs("just text\n", f);
	fclose(f);
	snprintf(u, sizeof u, "%s:%s", scheme, path);
	simrec_t *rec = NULL;
	int rc = simrec_open(&rec, u, NULL);
	CHECK(rc == SIMREC_EFORMAT && rec == NULL);
	f = fopen(path, "r");
	char line[32] = "";
	CHECK(f && fgets(line, sizeof line, f) && !strcmp(line, "just text\n"));
	fclose(f);
}

/* A refused truncate changes nothing (batched records included); every
 * failing call leaves a message of its own; text must be UTF-8. */
static void test_refusals(void)
{
	simrec_t *rec = open_store(SIMREC_MODE_CREATE, "chunk_bytes=4096");
	double v[4] = {0};
	size_t shape[1] = {4};
	for (int i = 0; i < 5; i++) {
		v[0] = i + 1.0;
		CHECK_OK(rec,
		         simrec_record(rec, "t", SIMREC_FLOAT64, 1, shape, v));
	}
	CHECK_RC(rec, simrec_truncate(rec, "t", 9), SIMREC_ERANGE);
	CHECK(strstr(simrec_errmsg(rec), "'t'"));
	CHECK_RC(rec, simrec_truncate(rec, "nokey", 0), SIMREC_ENOKEY);
	CHECK(strstr(simrec_errmsg(rec), "nokey"));
	simrec_dataset_t *ds;
	CHECK_OK(rec, simrec_get_all(rec, "t", &ds));
	size_t sh[2];
	simrec_dataset_shape(ds, sh);
	CHECK(sh[0] == 5);
	double got[20];
	CHECK_OK(rec, simrec_dataset_read(ds, NULL, NULL, got, sizeof got));
	CHECK(got[0] == 1.0 && got[16] == 5.0);
	/* stale messages: each refusal says why */
	CHECK_RC(rec, simrec_truncate(rec, "t", 99), SIMREC_ERANGE);
	CHECK_RC(rec, simrec_dataset_read(ds, NULL, NULL, NULL, 0),
	         SIMREC_EINVAL);
	CHECK(strstr(simrec_errmsg(rec), "buffer"));
	CHECK_RC(rec, simrec_truncate(rec, "t", 99), SIMREC_ERANGE);
	CHECK_RC(rec, simrec_dataset_verify(ds, NULL), SIMREC_EINVAL);
	CHECK(strstr(simrec_errmsg(rec), "verify"));
	CHECK_RC(rec, simrec_truncate(rec, "t", 99), SIMREC_ERANGE);
	CHECK_RC(rec, simrec_dataset_describe(ds, NULL), SIMREC_EINVAL);
	CHECK(strstr(simrec_errmsg(rec), "describe"));
	simrec_dataset_close(ds);
	CHECK_OK(rec, simrec_truncate(rec, "t", 2));
	CHECK_OK(rec, simrec_get_all(rec, "t", &ds));
	simrec_dataset_shape(ds, sh);
	CHECK(sh[0] == 2);
	simrec_dataset_close(ds);
	/* records go on after the cut, over the rows it dropped */
	v[0] = 9.0;
	CHECK_OK(rec, simrec_record(rec, "t", SIMREC_FLOAT64, 1, shape, v));
	CHECK_OK(rec, simrec_flush(rec));
	CHECK_OK(rec, simrec_get_all(rec, "t", &ds));
	simrec_dataset_shape(ds, sh);
	CHECK(sh[0] == 3);
	CHECK_OK(rec, simrec_dataset_read(ds, NULL, NULL, got, 12 * 8));
	CHECK(got[0] == 1.0 && got[4] == 2.0 && got[8] == 9.0);
	simrec_dataset_close(ds);
	CHECK_OK(rec, simrec_truncate(rec, "t", 0));
	CHECK_OK(rec, simrec_get_all(rec, "t", &ds));
	simrec_dataset_shape(ds, sh);
	CHECK(sh[0] == 0);
	simrec_dataset_close(ds);
	/* text is UTF-8; an absurd length is refused before any copy */
	CHECK_RC(rec, simrec_record_bytes(rec, "s", SIMREC_STRING, "a\xff", 2),
	         SIMREC_EINVAL);
	CHECK(strstr(simrec_errmsg(rec), "UTF-8"));
	CHECK_RC(
	        rec,
	        simrec_record_bytes(rec, "s", SIMREC_STRING, "\xed\xa0\x80", 3),
	        SIMREC_EINVAL);
	CHECK_RC(rec,
	         simrec_record_bytes(rec, "b", SIMREC_BYTES, "x", SIZE_MAX),
	         SIMREC_EINVAL);
	CHECK_OK(rec, simrec_record_bytes(rec, "s", SIMREC_STRING,
	                                  "\xc3\xa9\xf0\x9f\x98\x80", 6));
	CHECK_OK(rec, simrec_close(rec));
}

static void check_empty(simrec_t *rec, const char *key, simrec_dtype_t dt,
                        int ndim, const size_t *shape)
{
	simrec_dataset_t *ds;
	CHECK_OK(rec, simrec_get_all(rec, key, &ds));
	CHECK(simrec_dataset_dtype(ds) == dt);
	CHECK(simrec_dataset_ndim(ds) == ndim);
	size_t sh[SIMREC_MAX_NDIM];
	simrec_dataset_shape(ds, sh);
	CHECK(sh[0] == 0);
	for (int i = 1; i < ndim; i++)
		CHECK(sh[i] == shape[i - 1]);
	CHECK(simrec_dataset_size(ds) == 0);
	simrec_dataset_close(ds);
}

/* simrec_define: a records dataset without records, visible after close;
 * defining it again is a no-op, another dtype or shape is refused, and
 * records then append to it. */
static void test_define(void)
{
	simrec_t *rec = open_store(SIMREC_MODE_CREATE, NULL);
	const size_t shape[2] = {2, 3}, other[2] = {3, 2};
	CHECK_OK(rec, simrec_define(rec, "e/f", SIMREC_FLOAT32, 2, shape));
	CHECK_OK(rec, simrec_define(rec, "e/s", SIMREC_STRING, 0, NULL));
	CHECK_OK(rec, simrec_define(rec, "e/f", SIMREC_FLOAT32, 2, shape));
	check_empty(rec, "e/f", SIMREC_FLOAT32, 3, shape);
	check_empty(rec, "e/s", SIMREC_STRING, 1, NULL);
	CHECK_RC(rec, simrec_define(rec, "e/f", SIMREC_FLOAT32, 2, other),
	         SIMREC_ESHAPE);
	CHECK_RC(rec, simrec_define(rec, "e/f", SIMREC_INT8, 2, shape),
	         SIMREC_EDTYPE);
	CHECK_RC(rec, simrec_define(rec, "e/s", SIMREC_STRING, 1, shape),
	         SIMREC_EINVAL);
	CHECK_RC(rec, simrec_define(rec, "e/g", (simrec_dtype_t)99, 0, NULL),
	         SIMREC_EINVAL);
	if (!persistent) {
		CHECK_OK(rec, simrec_close(rec));
		return;
	}
	CHECK_OK(rec, simrec_close(rec));
	rec = open_store(SIMREC_MODE_APPEND, NULL);
	check_empty(rec, "e/f", SIMREC_FLOAT32, 3, shape);
	check_empty(rec, "e/s", SIMREC_STRING, 1, NULL);
	CHECK_RC(rec, simrec_define(rec, "e/f", SIMREC_FLOAT64, 2, shape),
	         SIMREC_EDTYPE);
	float v[6];
	sample_fill(SIMREC_FLOAT32, 0, 6, v);
	CHECK_OK(rec, simrec_record(rec, "e/f", SIMREC_FLOAT32, 2, shape, v));
	CHECK_OK(rec, simrec_close(rec));
	rec = open_store(SIMREC_MODE_READONLY, NULL);
	const size_t one[3] = {1, 2, 3};
	check_dataset(rec, "e/f", SIMREC_FLOAT32, 3, one, 0);
	CHECK_RC(rec, simrec_define(rec, "e/f", SIMREC_FLOAT32, 2, shape),
	         SIMREC_EREADONLY);
	CHECK_OK(rec, simrec_close(rec));
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr,
		        "usage: test_store SCHEME DIR [lock|cluster]\n");
		return 2;
	}
	snprintf(scheme, sizeof scheme, "%s", argv[1]);
	persistent = strcmp(scheme, "memory") != 0;
	/* host from SIMREC_REDIS_HOST ("cluster": its seeds) */
	if (!strcmp(scheme, "redis"))
		snprintf(uri, sizeof uri, "redis://?prefix=store%s",
		         argc > 3 && !strcmp(argv[3], "cluster") ? "&cluster=1"
		                                                 : "");
	else if (persistent)
		snprintf(uri, sizeof uri, "%s:%s/store-%s", scheme, argv[2],
		         scheme);
	else
		snprintf(uri, sizeof uri, "memory:");
	/* "lock": the same contract with every operation in a lock section */
	if (argc > 3 && !strcmp(argv[3], "lock"))
		snprintf(uri + strlen(uri), sizeof uri - strlen(uri),
		         "%slock=redis://", strchr(uri, '?') ? "&" : "?");
	test_dtypes();
	test_slices();
	test_mismatch();
	test_values_attrs();
	test_text();
	test_append();
	test_fanout();
	test_list_and_uris();
	test_refusals();
	test_define();
	test_not_a_store(argv[2]);
	printf("test_store %s: ok\n", scheme);
	return 0;
}
