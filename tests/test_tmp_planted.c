/* A zarr+dir writer's temporary files (.simrec-tmp-PID-N, see
 * docs/safety.md) have names anyone who can write the store directory
 * can guess: the writer's pid and a counter from 0. Planted under those
 * names, a symbolic link must not make the writer write outside the
 * store, and a FIFO must not make it wait forever.
 *   test_tmp_planted DIR symlink|fifo
 * Records 8 float64 under "x" into zarr+dir:DIR/s.zarr (create), plants
 * a link to DIR/victim (symlink) or a FIFO (fifo) under each of this
 * process's next temporary names in the store's root and in "x/", then
 * appends 4 steps with threads=4 and closes. Asserted: DIR/victim still
 * holds what it held; a hang ends the test (alarm) with a failure. The
 * append may succeed (a fresh temporary name) or fail with a SIMREC_E*
 * status; if it succeeded, every step reads back as written. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#define N      8
#define STEPS  4
#define PLANTS 200

static const char precious[] = "precious: not the store's\n";

static void value(int step, double *v)
{
	for (int i = 0; i < N; i++)
		v[i] = step * 100.0 + i;
}

static void plant(const char *dir, const char *what, const char *victim)
{
	char p[4096];
	for (int k = 0; k < PLANTS; k++) {
		snprintf(p, sizeof p, "%s/.simrec-tmp-%ld-%d", dir,
		         (long)getpid(), k);
		int r = strcmp(what, "fifo") ? symlink(victim, p)
		                             : mkfifo(p, 0600);
		CHECK(!r || errno == EEXIST);
	}
}

static int record_steps(const char *uri, simrec_mode_t mode, int from,
                        int steps)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = mode;
	simrec_t *rec;
	int rc = simrec_open(&rec, uri, &o);
	if (rc)
		return rc;
	size_t shape[1] = {N};
	double v[N];
	for (int s = from; s < from + steps && !rc; s++) {
		value(s, v);
		rc = simrec_record(rec, "x", SIMREC_FLOAT64, 1, shape, v);
	}
	if (rc)
		fprintf(stderr, "record: %s: %s\n", simrec_err_name(rc),
		        simrec_errmsg(rec));
	int crc = simrec_close(rec);
	return rc ? rc : crc;
}

static void read_back(const char *uri)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	CHECK(simrec_open(&rec, uri, &o) == 0);
	simrec_dataset_t *ds;
	CHECK_OK(rec, simrec_get_all(rec, "x", &ds));
	size_t sh[2];
	CHECK(simrec_dataset_ndim(ds) == 2);
	simrec_dataset_shape(ds, sh);
	CHECK(sh[0] == 1 + STEPS && sh[1] == N);
	double got[(1 + STEPS) * N], want[N];
	CHECK_OK(rec, simrec_dataset_read(ds, NULL, NULL, got, sizeof got));
	for (int s = 0; s < 1 + STEPS; s++) {
		value(s, want);
		CHECK(!memcmp(got + s * N, want, sizeof want));
	}
	simrec_dataset_close(ds);
	CHECK(simrec_close(rec) == 0);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: test_tmp_planted DIR symlink|fifo\n");
		return 2;
	}
	alarm(60); /* a writer waiting on a planted FIFO: fail, not hang */
	char store[1024], key_dir[1100], victim[1024], uri[1200];
	snprintf(store, sizeof store, "%s/s.zarr", argv[1]);
	snprintf(key_dir, sizeof key_dir, "%s/x", store);
	snprintf(victim, sizeof victim, "%s/victim", argv[1]);
	FILE *f = fopen(victim, "w");
	CHECK(f && fputs(precious, f) >= 0 && !fclose(f));
	snprintf(uri, sizeof uri, "zarr+dir:%s?codec=none&threads=4", store);
	CHECK(record_steps(uri, SIMREC_MODE_CREATE, 0, 1) == 0);
	plant(store, argv[2], victim);
	plant(key_dir, argv[2], victim);
	int rc = record_steps(uri, SIMREC_MODE_APPEND, 1, STEPS);
	char buf[256] = {0};
	f = fopen(victim, "r");
	CHECK(f);
	size_t got = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	if (got != strlen(precious) || memcmp(buf, precious, got)) {
		fprintf(stderr,
		        "the writer wrote through a planted link: '%s' now "
		        "holds %zu bytes starting '%.40s'\n",
		        victim, got, buf);
		return 1;
	}
	if (!rc)
		read_back(uri);
	printf("%s: append %s, outside file untouched\n", argv[2],
	       rc ? simrec_err_name(rc) : "ok");
	return 0;
}
