/* Lock costs beside the server's round trip, from one client, same run:
 *   bench_lock REDIS_URI [SECONDS]
 * PING rate, uncontended read lock+unlock and write lock+unlock rates and
 * their ratio to PING; then 4 reader processes and 1 writer contending. */
#define _DEFAULT_SOURCE
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "simrec.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double rate(simrec_lock_t *l, int mode, double secs)
{
	long n = 0;
	double t0 = now();
	while (now() - t0 < secs) {
		if (simrec_lock_acquire(l, (simrec_lock_mode_t)mode, 5, NULL) ||
		    simrec_lock_release(l)) {
			fprintf(stderr, "%s\n", simrec_lock_errmsg(l));
			exit(1);
		}
		n++;
	}
	return (double)n / (now() - t0);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr,
		        "usage: bench_lock redis://HOST:PORT [SECONDS]\n");
		return 2;
	}
	double secs = argc > 2 ? atof(argv[2]) : 2;
	char host[256] = "127.0.0.1";
	int port = 6379;
	sscanf(argv[1], "redis://%255[^:]:%d", host, &port);
	redisContext *c = redisConnect(host, port);
	if (!c || c->err)
		return 1;
	long n = 0;
	double t0 = now();
	while (now() - t0 < secs) {
		redisReply *r = redisCommand(c, "PING");
		freeReplyObject(r);
		n++;
	}
	double ping = (double)n / (now() - t0);
	redisFree(c);
	simrec_lock_t *l;
	if (simrec_lock_open(&l, argv[1], "bench", 5))
		return 1;
	simrec_lock_break(l);
	double rd = rate(l, SIMREC_LOCK_READ, secs);
	double wr = rate(l, SIMREC_LOCK_WRITE, secs);
	printf("PING round trips: %.0f/s\n", ping);
	printf("read lock+unlock: %.0f/s = %.2f PING round trips per pair\n",
	       rd, ping / rd);
	printf("write lock+unlock: %.0f/s = %.2f PING round trips per pair\n",
	       wr, ping / wr);
	/* contended: 4 readers, 1 writer, each holding ~0.2 ms */
	long *counts = mmap(NULL, 5 * sizeof(long), PROT_READ | PROT_WRITE,
	                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(counts, 0, 5 * sizeof(long));
	for (int i = 0; i < 5; i++)
		if (fork() == 0) {
			simrec_lock_t *m;
			if (simrec_lock_open(&m, argv[1], "bench", 5))
				_exit(1);
			double e = now() + secs;
			simrec_lock_mode_t mode =
			        i == 4 ? SIMREC_LOCK_WRITE : SIMREC_LOCK_READ;
			while (now() < e) {
				if (simrec_lock_acquire(m, mode, 10, NULL))
					_exit(1);
				usleep(200);
				simrec_lock_release(m);
				counts[i]++;
			}
			simrec_lock_close(m);
			_exit(0);
		}
	while (wait(NULL) > 0)
		;
	printf("contended, 4 readers + 1 writer for %.0f s: reads %.0f/s, "
	       "writes %.0f/s\n",
	       secs,
	       (double)(counts[0] + counts[1] + counts[2] + counts[3]) / secs,
	       (double)counts[4] / secs);
	simrec_lock_close(l);
	return 0;
}
