/* Setting N attributes of one key costs work linear in N, on every store,
 * counted in bytes, not timed: the bytes the process writes (wchar of
 * /proc/self/io: files, LMDB pages, redis commands) while it sets N named
 * attributes one by one and flushes, for N = 250 and N = 1000 (each in a
 * store of its own). Linear work gives at most 4 times the bytes (less with
 * the fixed costs); a store that rewrote the whole attribute document at
 * every set wrote about 8 times (zarr: 3.7 MB, then 28 MB). The attributes
 * then read back, each with its value.
 *   test_attr_cost SCHEME DIR   (redis: SIMREC_REDIS_HOST, DIR unused) */
#include <stdint.h>
#include <string.h>

#include "check.h"

static long long wchar(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	CHECK(f);
	char line[128];
	long long v = -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "wchar:", 6))
			v = atoll(line + 6);
	fclose(f);
	CHECK(v >= 0);
	return v;
}

/* Bytes written while n attributes of "run/d" are set and flushed. */
static long long cost(const char *scheme, const char *dir, int n)
{
	char uri[4200];
	if (!strcmp(scheme, "redis"))
		snprintf(uri, sizeof uri, "redis://?prefix=attrcost%d", n);
	else
		snprintf(uri, sizeof uri, "%s:%s/attrs%d.%s", scheme, dir, n,
		         scheme);
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	simrec_t *rec;
	CHECK_OK(NULL, simrec_open(&rec, uri, &o));
	double x = 1;
	CHECK_OK(rec, simrec_record(rec, "run/d", SIMREC_FLOAT64, 0, NULL, &x));
	CHECK_OK(rec, simrec_flush(rec));
	long long w0 = wchar();
	for (int i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof name, "attribute_number_%06d", i);
		CHECK_OK(rec, simrec_attr_set_int(rec, "run/d", name, i));
	}
	CHECK_OK(rec, simrec_flush(rec));
	long long w = wchar() - w0;
	for (int i = 0; i < n; i += 7) {
		char name[64];
		simrec_attr_t a;
		snprintf(name, sizeof name, "attribute_number_%06d", i);
		CHECK_OK(rec, simrec_attr_get(rec, "run/d", name, &a));
		CHECK(a.type == SIMREC_ATTR_INT && a.i == i);
		simrec_attr_clear(&a);
	}
	CHECK_OK(rec, simrec_close(rec));
	/* and from a new reader */
	o.mode = SIMREC_MODE_READONLY;
	CHECK_OK(NULL, simrec_open(&rec, uri, &o));
	simrec_attr_t a;
	char name[64];
	snprintf(name, sizeof name, "attribute_number_%06d", n - 1);
	if (strcmp(scheme, "memory")) {
		CHECK_OK(rec, simrec_attr_get(rec, "run/d", name, &a));
		CHECK(a.type == SIMREC_ATTR_INT && a.i == n - 1);
		simrec_attr_clear(&a);
	}
	CHECK_OK(rec, simrec_close(rec));
	return w;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: test_attr_cost SCHEME DIR\n");
		return 2;
	}
	long long small = cost(argv[1], argv[2], 250),
	          large = cost(argv[1], argv[2], 1000);
	printf("%s: 250 attributes: %lld bytes written, 1000: %lld (x%.1f)\n",
	       argv[1], small, large, small ? (double)large / small : 0.0);
	CHECK(large <= 5 * small);
	return 0;
}
