/* Append throughput of the redis store from several processes.
 *   bench_redis URI RECORD_BYTES N CLIENTS
 * Each client (a forked process with its own recorder, key and prefix:
 * the URI's prefix followed by "c" and its number, as a redis prefix has
 * one writer) appends N records of RECORD_BYTES and flushes; prints records/s
 * and MB/s over all clients. Run by bench/redis_compare.sh beside
 * redis-benchmark. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* uri with its prefix (default "simrec") followed by "c" and id */
static void client_uri(char *out, size_t cap, const char *uri, int id)
{
	const char *p = strstr(uri, "prefix=");
	if (!p) {
		snprintf(out, cap, "%s%sprefix=simrecc%d", uri,
		         strchr(uri, '?') ? "&" : "?", id);
		return;
	}
	size_t end = (size_t)(p - uri) + 7 + strcspn(p + 7, "&");
	snprintf(out, cap, "%.*sc%d%s", (int)end, uri, id, uri + end);
}

static int client(const char *base, size_t bytes, size_t n, int id)
{
	simrec_t *rec;
	char uri[2048];
	client_uri(uri, sizeof uri, base, id);
	simrec_options_t o; /* from an empty prefix */
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	if (simrec_open(&rec, uri, &o)) {
		fprintf(stderr, "%s\n", simrec_errmsg(NULL));
		return 1;
	}
	unsigned char *buf = malloc(bytes);
	for (size_t i = 0; i < bytes; i++)
		buf[i] = (unsigned char)(i * 31 + (size_t)id);
	char key[64];
	snprintf(key, sizeof key, "bench/client%d", id);
	const size_t shape[1] = {bytes};
	for (size_t r = 0; r < n; r++)
		if (simrec_record(rec, key, SIMREC_UINT8, 1, shape, buf)) {
			fprintf(stderr, "%s\n", simrec_errmsg(rec));
			return 1;
		}
	int rc = simrec_close(rec);
	free(buf);
	return rc != 0;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr,
		        "usage: bench_redis URI RECORD_BYTES N CLIENTS\n");
		return 2;
	}
	size_t bytes = strtoull(argv[2], NULL, 10),
	       n = strtoull(argv[3], NULL, 10);
	int clients = atoi(argv[4]);
	double t0 = now();
	for (int c = 0; c < clients; c++)
		if (fork() == 0)
			_exit(client(argv[1], bytes, n, c));
	int bad = 0, st;
	while (wait(&st) > 0)
		bad |= !WIFEXITED(st) || WEXITSTATUS(st);
	double t = now() - t0;
	double recs = (double)n * clients;
	printf("simrec redis %zu-byte records, %d client(s): %.0f records/s, "
	       "%.1f MB/s\n",
	       bytes, clients, recs / t, recs * (double)bytes / t / 1e6);
	return bad;
}
