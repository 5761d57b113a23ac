/* Live follow: how soon a follower wakes after a writer's simrec_flush
 * returns, and how much a follower slows the writer (a benchmark, not a
 * test: it prints figures and checks nothing but the data's count).
 *   bench_follow STEPS URI...
 * For each URI: a serial writer (this process) records STEPS records of a
 * 64 x 64 float64 array, each flushed; a follower (a forked process)
 * waits in simrec_follow and reports the monotonic time it woke for each
 * step through a pipe. The writer waits for that report before the next
 * step, so every step is a cold wake-up. Latency = wake - flush returned
 * (0 when the follower woke before the flush returned: it saw the commit
 * mark before the writer's own sync finished). Slowdown: the writer's
 * median record + flush time with a follower against a run without one
 * (alone, with, alone again: the two alone runs' mean). */
#define _XOPEN_SOURCE 700
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "simrec.h"

#define SIDE 64

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	qsort(v, n, sizeof *v, cmp_double);
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

static simrec_t *open_as(const char *uri, simrec_mode_t mode, const char *who)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = mode;
	simrec_t *rec;
	if (simrec_open(&rec, uri, &o)) {
		fprintf(stderr, "%s: %s\n", who, simrec_errmsg(NULL));
		return NULL;
	}
	return rec;
}

/* The follower: open when told (a byte on go), then follow and report
 * each wake-up's time on rep. */
static int follower(const char *uri, int go, int rep)
{
	char b;
	simrec_t *rec;
	if (read(go, &b, 1) != 1 ||
	    !(rec = open_as(uri, SIMREC_MODE_READONLY, "follower")))
		return 1;
	size_t have = 0, now;
	int rc;
	while (!(rc = simrec_follow(rec, "field/T", have, 60, &now))) {
		double t = bench_now();
		for (; have < now; have++)
			if (write(rep, &t, sizeof t) != sizeof t)
				return 1;
	}
	if (rc != SIMREC_EFINISHED)
		fprintf(stderr, "follower: %s\n", simrec_errmsg(rec));
	simrec_close(rec);
	return rc != SIMREC_EFINISHED;
}

/* One run of the writer: steps[i] its record + flush seconds; with a
 * follower (rep >= 0), lat[i] the follower's wake-up latency. */
static int writer(const char *uri, int steps, int go, int rep, double *dt,
                  double *lat)
{
	simrec_t *rec = open_as(uri, SIMREC_MODE_CREATE, "writer");
	if (!rec)
		return 1;
	static double a[SIDE * SIDE];
	size_t shape[2] = {SIDE, SIDE};
	if (go >= 0 && write(go, "g", 1) != 1)
		return 1;
	for (int s = 0; s < steps; s++) {
		for (size_t k = 0; k < SIDE * SIDE; k++)
			a[k] = s + (double)k;
		double t0 = bench_now();
		if (simrec_record(rec, "field/T", SIMREC_FLOAT64, 2, shape,
		                  a) ||
		    simrec_flush(rec)) {
			fprintf(stderr, "writer: %s\n", simrec_errmsg(rec));
			return 1;
		}
		double t1 = bench_now(), woke;
		dt[s] = t1 - t0;
		if (rep < 0)
			continue;
		if (read(rep, &woke, sizeof woke) != sizeof woke)
			return 1;
		lat[s] = woke > t1 ? woke - t1 : 0;
	}
	return simrec_close(rec) != 0;
}

static int run_with_follower(const char *uri, int steps, double *dt,
                             double *lat)
{
	int go[2], rep[2];
	if (pipe(go) || pipe(rep))
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(rep[0]);
		_exit(follower(uri, go[0], rep[1]));
	}
	close(go[0]);
	close(rep[1]);
	int rc = writer(uri, steps, go[1], rep[0], dt, lat);
	close(go[1]);
	close(rep[0]);
	int st = 0;
	if (rc)
		kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return rc || !WIFEXITED(st) || WEXITSTATUS(st);
}

/* ROUNDS rounds, each a run alone and a run followed (in alternating
 * order): the writer's median step of each run, the latencies of all. */
#define ROUNDS 5

static int bench_uri(const char *uri, int steps)
{
	size_t n = (size_t)steps;
	double *dt = calloc(n, sizeof *dt),
	       *lat = calloc(ROUNDS * n, sizeof *lat);
	double alone[ROUNDS], with[ROUNDS], ratio[ROUNDS];
	int rc = !dt || !lat;
	for (int r = 0; r < ROUNDS && !rc; r++) {
		for (int k = 0; k < 2 && !rc; k++) {
			int followed = (k + r) % 2;
			rc = followed ? run_with_follower(uri, steps, dt,
			                                  lat + (size_t)r * n)
			              : writer(uri, steps, -1, -1, dt, NULL);
			(followed ? with : alone)[r] = pct(dt, n, 0.5);
		}
		ratio[r] = with[r] / alone[r];
	}
	if (!rc) {
		double med = pct(lat, ROUNDS * n, 0.5),
		       p99 = pct(lat, ROUNDS * n, 0.99);
		printf("%-36.36s wake-up median %6.2f ms  p99 %6.2f ms  "
		       "writer step %6.3f ms alone, %6.3f ms followed "
		       "(%+.1f%%)\n",
		       uri, med * 1e3, p99 * 1e3, pct(alone, ROUNDS, 0.5) * 1e3,
		       pct(with, ROUNDS, 0.5) * 1e3,
		       (pct(ratio, ROUNDS, 0.5) - 1) * 100);
	}
	free(dt);
	free(lat);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench_follow STEPS URI...\n");
		return 2;
	}
	int steps = atoi(argv[1]), rc = 0;
	if (steps < 1)
		return 2;
	for (int i = 2; i < argc; i++)
		rc |= bench_uri(argv[i], steps);
	return rc;
}
