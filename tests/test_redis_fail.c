/* A redis server lost mid-run, and a client killed mid-change (driven by
 * redis_loss.sh):
 *   test_redis_fail atomic URI   a writer process is SIGKILLed at chosen
 *       points (a value replaced, records and attributes queued but not
 *       flushed; then after a drain): every dataset stays whole - a value
 *       is the old one or the new one, never metadata without its element
 *   test_redis_fail write URI SERVER_PID   record 40, flush (acknowledged),
 *       SIGKILL the server, record on: every call fails with SIMREC_ECONN
 *       naming the host and key, and so do every later flush and the
 *       close; a recorder with nothing written since its last flush
 *       closes with 0; nothing crashes
 *   test_redis_fail check URI    after a restart from the AOF:
 *       the acknowledged records are all there, intact, and nothing else */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "sample.h"

/* The message names the server once, scheme included once. */
static void check_named(const char *msg)
{
	CHECK(strstr(msg, "127.0.0.1:") != NULL);
	CHECK(strstr(msg, "redis:redis") == NULL);
}

/* Until nothing listens on 127.0.0.1:port (the killed server is gone):
 * a condition waited for, not a time guessed. */
static void wait_refused(int port)
{
	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		CHECK(fd >= 0);
		struct sockaddr_in a = {.sin_family = AF_INET,
		                        .sin_port = htons((uint16_t)port)};
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int r = connect(fd, (struct sockaddr *)&a, sizeof a);
		int e = errno;
		close(fd);
		if (r && e == ECONNREFUSED)
			return;
		struct timespec ts = {0, 10000000L};
		nanosleep(&ts, NULL);
	}
}

/* value v of a simrec_set: n doubles v, v+1, ... */
static void set_value(simrec_t *rec, size_t n, double v)
{
	double buf[64];
	for (size_t i = 0; i < n; i++)
		buf[i] = v + (double)i;
	CHECK_OK(rec,
	         simrec_set(rec, "meta/state", SIMREC_FLOAT64, 1, &n, buf));
}

static void record_rows(simrec_t *rec, size_t r0, size_t r1)
{
	const size_t shape[1] = {100};
	float buf[100];
	for (size_t r = r0; r < r1; r++) {
		sample_fill(SIMREC_FLOAT32, r * 100, 100, buf);
		CHECK_OK(rec, simrec_record(rec, "run/x", SIMREC_FLOAT32, 1,
		                            shape, buf));
	}
}

/* The writer of phase p, killed (SIGKILL, no close) at its chosen
 * point. */
static void writer(const char *uri, int phase)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = phase == 0 ? SIMREC_MODE_CREATE : SIMREC_MODE_APPEND;
	o.chunk_bytes = 800; /* two rows per element */
	simrec_t *rec;
	CHECK_OK(NULL, simrec_open(&rec, uri, &o));
	if (phase == 0) { /* acknowledged: value 1.0 x 8, rows 0..4 */
		set_value(rec, 8, 1.0);
		record_rows(rec, 0, 5);
		CHECK_OK(rec, simrec_attr_set_int(rec, "run", "step", 5));
		CHECK_OK(rec, simrec_flush(rec));
		/* queued, never sent: a new value of another shape, rows
		 * (the element of rows 4, 5 rewritten), an attribute */
		CHECK_OK(rec, simrec_attr_set_int(rec, "run/x", "step", 9));
		set_value(rec, 16, 100.0);
		record_rows(rec, 5, 9);
	} else { /* the value replaced and drained (a read), not flushed */
		set_value(rec, 4, 200.0);
		record_rows(rec, 5, 8);
		simrec_dataset_t *ds;
		CHECK_OK(rec, simrec_get(rec, "meta/state", &ds));
		simrec_dataset_close(ds);
		set_value(rec, 32, 300.0); /* queued behind, never sent */
	}
	raise(SIGKILL);
}

/* The value is one of the values written, whole; the records are the
 * sample rows, at least the acknowledged ones, all readable. */
static void check_whole(const char *uri, size_t min_rows, double *seen)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	CHECK_OK(NULL, simrec_open(&rec, uri, &o));
	simrec_dataset_t *ds;
	size_t sh[2];
	CHECK_OK(rec, simrec_get(rec, "meta/state", &ds));
	simrec_dataset_shape(ds, sh);
	double v[64] = {0};
	CHECK(sh[0] <= 64);
	CHECK_OK(rec, simrec_dataset_read(ds, NULL, NULL, v, sh[0] * 8));
	for (size_t i = 0; i < sh[0]; i++)
		CHECK(v[i] == v[0] + (double)i);
	CHECK((v[0] == 1.0 && sh[0] == 8) || (v[0] == 100.0 && sh[0] == 16) ||
	      (v[0] == 200.0 && sh[0] == 4) || (v[0] == 300.0 && sh[0] == 32));
	*seen = v[0];
	simrec_dataset_close(ds);
	CHECK_OK(rec, simrec_get_all(rec, "run/x", &ds));
	simrec_dataset_shape(ds, sh);
	CHECK(sh[0] >= min_rows && sh[1] == 100);
	float *got = malloc(sh[0] * 100 * sizeof *got),
	      *want = malloc(sh[0] * 100 * sizeof *want);
	CHECK(got && want);
	CHECK_OK(rec, simrec_dataset_read(ds, NULL, NULL, got,
	                                  sh[0] * 100 * sizeof *got));
	sample_fill(SIMREC_FLOAT32, 0, sh[0] * 100, want);
	CHECK(!memcmp(got, want, sh[0] * 100 * sizeof *got));
	free(got);
	free(want);
	simrec_dataset_close(ds);
	simrec_attr_t a;
	CHECK_OK(rec, simrec_attr_get(rec, "run", "step", &a));
	CHECK(a.type == SIMREC_ATTR_INT && a.i == 5);
	simrec_attr_clear(&a);
	CHECK_OK(rec, simrec_close(rec));
}

static void atomic(const char *uri)
{
	for (int phase = 0; phase < 2; phase++) {
		fflush(NULL);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			writer(uri, phase);
			_exit(3); /* not reached */
		}
		int st = 0;
		CHECK(waitpid(pid, &st, 0) == pid);
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		double seen = 0;
		check_whole(uri, 5, &seen);
		/* phase 0 sent nothing after its flush: the old value;
		 * phase 1's read sent the value of 4 */
		CHECK(seen == (phase ? 200.0 : 1.0));
		printf("killed writer %d: value %g whole\n", phase, seen);
	}
}

static void lose_server(const char *uri, const char *pid)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	simrec_t *rec, *idle;
	const size_t shape[1] = {1000};
	float buf[1000];
	int port = 0;
	const char *hp = strstr(uri, "127.0.0.1:");
	CHECK(hp && sscanf(hp, "127.0.0.1:%d", &port) == 1);
	CHECK_OK(NULL, simrec_open(&rec, uri, &o));
	char uri2[512];
	snprintf(uri2, sizeof uri2, "redis://127.0.0.1:%d?prefix=idle", port);
	CHECK_OK(NULL, simrec_open(&idle, uri2, &o));
	CHECK_OK(idle, simrec_record(idle, "i", SIMREC_FLOAT32, 1, shape, buf));
	CHECK_OK(idle, simrec_flush(idle));
	for (size_t r = 0; r < 40; r++) {
		sample_fill(SIMREC_FLOAT32, r * 1000, 1000, buf);
		CHECK_OK(rec, simrec_record(rec, "loss/x", SIMREC_FLOAT32, 1,
		                            shape, buf));
	}
	CHECK_OK(rec, simrec_flush(rec));
	kill((pid_t)atoi(pid), SIGKILL);
	wait_refused(port);
	int failed = 0;
	for (size_t r = 40; r < 200 && !failed; r++) {
		sample_fill(SIMREC_FLOAT32, r * 1000, 1000, buf);
		int rc = simrec_record(rec, "loss/x", SIMREC_FLOAT32, 1, shape,
		                       buf);
		if (!rc)
			rc = simrec_flush(rec);
		if (rc) {
			CHECK(rc == SIMREC_ECONN);
			check_named(simrec_errmsg(rec));
			CHECK(strstr(simrec_errmsg(rec), "loss/x") != NULL);
			failed = 1;
		}
	}
	CHECK(failed);
	printf("error after loss: %s\n", simrec_errmsg(rec));
	/* the connection is known dead and writes are unacknowledged:
	 * neither a later write, nor a flush, nor the close claims success */
	CHECK_RC(rec,
	         simrec_record(rec, "other", SIMREC_FLOAT32, 1, shape, buf),
	         SIMREC_ECONN);
	check_named(simrec_errmsg(rec));
	CHECK_RC(rec, simrec_flush(rec), SIMREC_ECONN);
	check_named(simrec_errmsg(rec));
	CHECK(strstr(simrec_errmsg(rec), "not acknowledged") != NULL);
	CHECK_RC(rec, simrec_flush(rec), SIMREC_ECONN);
	CHECK_RC(NULL, simrec_close(rec), SIMREC_ECONN);
	check_named(simrec_errmsg(NULL));
	printf("close after loss: %s\n", simrec_errmsg(NULL));
	/* nothing written since its acknowledged flush: nothing to lose */
	CHECK_OK(NULL, simrec_close(idle));
}

static void check_restart(const char *uri)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	CHECK_OK(NULL, simrec_open(&rec, uri, &o));
	simrec_dataset_t *ds;
	CHECK_OK(rec, simrec_get_all(rec, "loss/x", &ds));
	size_t sh[2];
	simrec_dataset_shape(ds, sh);
	printf("records after restart: %zu\n", sh[0]);
	CHECK(sh[0] == 40 && sh[1] == 1000); /* acknowledged, nothing else */
	float *all = malloc(sh[0] * 1000 * sizeof *all),
	      *want = malloc(sh[0] * 1000 * sizeof *want);
	CHECK(all && want);
	CHECK_OK(rec, simrec_dataset_read(ds, NULL, NULL, all,
	                                  sh[0] * 1000 * sizeof *all));
	sample_fill(SIMREC_FLOAT32, 0, sh[0] * 1000, want);
	CHECK(memcmp(all, want, sh[0] * 1000 * sizeof *all) == 0);
	free(all);
	free(want);
	simrec_dataset_close(ds);
	CHECK_OK(rec, simrec_close(rec));
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	if (!strcmp(argv[1], "atomic"))
		atomic(argv[2]);
	else if (!strcmp(argv[1], "write") && argc > 3)
		lose_server(argv[2], argv[3]);
	else if (!strcmp(argv[1], "check"))
		check_restart(argv[2]);
	else
		return 2;
	return 0;
}
