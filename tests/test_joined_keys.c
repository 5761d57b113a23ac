/* simrec_joined_step / simrec_joined_read take only joined arrays: a
 * plain key "n" beside an int64 "n_count" is refused (SIMREC_EKIND, the
 * message naming the key), whose mark a caller cannot set; a joined array
 * recorded by simrec_record_joined reads back step by step, also after the
 * store is opened again.
 * usage: test_joined_keys SCHEME DIR (DIR unused for memory:) */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

enum { STEPS = 4 };

/* rows of step s of the joined key "p" (a formula the check repeats) */
static size_t rows_of(size_t s)
{
	return s == 2 ? 0 : 2 + s;
}

/* key is refused as a joined array, the message naming it */
static void refused(simrec_t *rec, const char *key)
{
	size_t row0 = 0, n = 0;
	double buf[8];
	CHECK_RC(rec, simrec_joined_step(rec, key, 1, &row0, &n), SIMREC_EKIND);
	char want[64];
	snprintf(want, sizeof want, "key '%s'", key);
	CHECK(strstr(simrec_errmsg(rec), want) != NULL);
	CHECK_RC(rec, simrec_joined_read(rec, key, 1, buf, sizeof buf, &n),
	         SIMREC_EKIND);
	CHECK(strstr(simrec_errmsg(rec), want) != NULL);
}

static void write_keys(simrec_t *rec)
{
	for (size_t s = 0; s < STEPS; s++) {
		double v = (double)s;
		int64_t c = 1;
		CHECK_RC(rec,
		         simrec_record(rec, "n", SIMREC_FLOAT64, 0, NULL, &v),
		         0);
		CHECK_RC(rec,
		         simrec_record(rec, "n_count", SIMREC_INT64, 0, NULL,
		                       &c),
		         0);
		double rows[16];
		for (size_t i = 0; i < rows_of(s); i++)
			rows[i] = (double)(100 * s + i);
		size_t shape[1] = {rows_of(s)};
		CHECK_RC(rec,
		         simrec_record_joined(rec, "p", SIMREC_FLOAT64, 1,
		                              shape, rows),
		         0);
	}
	/* the mark's name is simrec's: a caller cannot set it */
	CHECK_RC(rec,
	         simrec_attr_set_string(rec, "n", "_simrec_joined_count",
	                                "n_count"),
	         SIMREC_EINVAL);
}

static void check_keys(simrec_t *rec)
{
	refused(rec, "n");
	size_t row0 = 0, n = 0, sum = 0;
	for (size_t s = 0; s < STEPS; s++) {
		CHECK_RC(rec, simrec_joined_step(rec, "p", s, &row0, &n), 0);
		CHECK(row0 == sum && n == rows_of(s));
		double buf[16];
		CHECK_RC(rec,
		         simrec_joined_read(rec, "p", s, buf, sizeof buf, &n),
		         0);
		for (size_t i = 0; i < n; i++)
			CHECK(buf[i] == (double)(100 * s + i));
		sum += n;
	}
	CHECK_RC(rec, simrec_joined_step(rec, "p", STEPS, &row0, &n),
	         SIMREC_ERANGE);
	CHECK_RC(rec, simrec_joined_step(rec, "none", 0, &row0, &n),
	         SIMREC_ENOKEY);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: test_joined_keys SCHEME DIR\n");
		return 2;
	}
	char uri[4096];
	int mem = !strcmp(argv[1], "memory");
	snprintf(uri, sizeof uri, "%s:%s%s", argv[1], mem ? "" : argv[2],
	         mem ? "" : "/joined_keys");
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	simrec_t *rec = NULL;
	CHECK_RC(NULL, simrec_open(&rec, uri, &o), 0);
	write_keys(rec);
	CHECK_RC(rec, simrec_flush(rec), 0);
	check_keys(rec);
	CHECK_RC(rec, simrec_close(rec), 0);
	if (!mem) { /* the same from the store as stored */
		o.mode = SIMREC_MODE_READONLY;
		CHECK_RC(NULL, simrec_open(&rec, uri, &o), 0);
		check_keys(rec);
		CHECK_RC(rec, simrec_close(rec), 0);
	}
	printf("test_joined_keys %s: ok\n", argv[1]);
	return 0;
}
