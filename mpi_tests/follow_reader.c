/* A follower of the live-follow tests (serial, no MPI): follows
 * "field/T" of URI from record HAVE with simrec_follow, checks every new
 * record against the formula (follow_data.h) the moment it comes, and
 * prints "seen S" for each (the test paces the writer by these lines).
 *   follow_reader URI HAVE TIMEOUT finished N   the writer finishes after
 *                                               N steps: every step from
 *                                               HAVE seen once, in order
 *   follow_reader URI HAVE TIMEOUT timeout      the writer dies: the last
 *                                               wait ends by the timeout
 * CPU while waiting: the process's CPU time (getrusage) spent inside
 * simrec_follow must stay under 10% of the wall time spent there (plus
 * 50 ms for the first calls' setup); the final timed-out wait alone under
 * 10% of its length. Exit 0, or 1 naming what failed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "follow_data.h"
#include "simrec.h"

static double wall(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec * 1e-6 +
	       (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec * 1e-6;
}

static int fail(simrec_t *rec, const char *what, size_t s)
{
	fprintf(stderr, "follow_reader: %s (record %zu): %s\n", what, s,
	        rec ? simrec_errmsg(rec) : "");
	return 1;
}

/* Record s read whole and equal to the formula. */
static int check_record(simrec_t *rec, size_t s)
{
	simrec_dataset_t *ds;
	static double buf[FOLLOW_NY * FOLLOW_NX];
	if (simrec_get_all(rec, FOLLOW_KEY, &ds))
		return fail(rec, "get_all", s);
	size_t start[3] = {s, 0, 0}, count[3] = {1, FOLLOW_NY, FOLLOW_NX};
	int rc = simrec_dataset_read(ds, start, count, buf, sizeof buf);
	simrec_dataset_close(ds);
	if (rc)
		return fail(rec, "read", s);
	for (size_t i = 0; i < FOLLOW_NY; i++)
		for (size_t j = 0; j < FOLLOW_NX; j++)
			if (buf[i * FOLLOW_NX + j] != follow_value(s, i, j))
				return fail(NULL,
				            "a value differs from the "
				            "formula: a torn or wrong step",
				            s);
	printf("seen %zu\n", s);
	fflush(stdout);
	return 0;
}

typedef struct meter {
	double cpu, wall;           /* inside simrec_follow, all calls */
	double last_cpu, last_wall; /* the last call */
} meter;

static int follow(simrec_t *rec, size_t *have, double timeout, meter *m)
{
	size_t now = 0;
	for (;;) {
		double c0 = cpu(), w0 = wall();
		int rc = simrec_follow(rec, FOLLOW_KEY, *have, timeout, &now);
		m->last_cpu = cpu() - c0;
		m->last_wall = wall() - w0;
		m->cpu += m->last_cpu;
		m->wall += m->last_wall;
		if (rc)
			return rc;
		if (now <= *have)
			return fail(rec, "follow returned no new record", now);
		for (size_t s = *have; s < now; s++)
			if (check_record(rec, s))
				return 1;
		*have = now;
	}
}

int main(int argc, char **argv)
{
	int fin_args = argc == 6 && !strcmp(argv[4], "finished");
	int tmo_args = argc == 5 && !strcmp(argv[4], "timeout");
	if (!fin_args && !tmo_args) {
		fprintf(stderr, "usage: follow_reader URI HAVE TIMEOUT "
		                "finished N | timeout\n");
		return 2;
	}
	size_t have = strtoul(argv[2], NULL, 10), first = have;
	double timeout = atof(argv[3]);
	int want_fin = !strcmp(argv[4], "finished");
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	if (simrec_open(&rec, argv[1], &o))
		return fail(NULL, simrec_errmsg(NULL), 0);
	meter m = {0};
	int rc = follow(rec, &have, timeout, &m);
	int bad = rc == 1;
	if (!bad && rc != (want_fin ? SIMREC_EFINISHED : SIMREC_ETIMEDOUT))
		bad = fail(rec, simrec_err_name(rc), have);
	if (!bad && want_fin && have != strtoul(argv[5], NULL, 10))
		bad = fail(NULL, "finished with another count", have);
	fprintf(stderr,
	        "follow_reader: records %zu..%zu, %s; in follow: cpu %.3f s "
	        "of %.3f s wall; last call %.3f s of %.3f s\n",
	        first, have, simrec_err_name(rc), m.cpu, m.wall, m.last_cpu,
	        m.last_wall);
	if (!bad && m.cpu > 0.10 * m.wall + 0.05)
		bad = fail(NULL, "CPU while following over 10% of wall", have);
	if (!bad && !want_fin && m.last_cpu > 0.10 * m.last_wall)
		bad = fail(NULL, "CPU while waiting out the timeout over 10%",
		           have);
	simrec_close(rec);
	return bad;
}
