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
 *       the acknowledged records are all there, intact, and nothing else
 *   test_redis_fail pipe URI SERVER_PID   (redis_pipe.sh) three
 *       recorders connected, the server SIGKILLed and gone, then each
 *       writes far more than a socket buffer holds, so write() meets
 *       EPIPE: the process lives (SIGPIPE's default action is left as
 *       it is, yet no SIGPIPE reaches it) and the flush fails with
 *       SIMREC_ECONN naming the server; with SIGPIPE blocked by the
 *       caller, our SIGPIPE is not left pending, a SIGPIPE the caller
 *       had pending stays pending, and the caller's mask is kept */
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

static int sigpipe_pending(void)
{
	sigset_t p;
	CHECK(sigpending(&p) == 0);
	return sigismember(&p, SIGPIPE);
}

static int sigpipe_blocked(void)
{
	sigset_t m;
	CHECK(sigprocmask(SIG_BLOCK, NULL, &m) == 0);
	return sigismember(&m, SIGPIPE);
}

/* One 16 MiB element written by the flush to a dead server: at most
 * 4 MiB (tcp_wmem's maximum) fits the socket's buffer, so a write()
 * waits, meets the reset connection and the next one EPIPE. The dataset
 * exists already: nothing small is sent first. */
static void write_to_dead(simrec_t *rec, const double *big, size_t n)
{
	int rc = simrec_record(rec, "pipe/x", SIMREC_FLOAT64, 1, &n, big);
	if (!rc)
		rc = simrec_flush(rec);
	CHECK_RC(rec, rc, SIMREC_ECONN);
	check_named(simrec_errmsg(rec));
	CHECK_RC(NULL, simrec_close(rec), SIMREC_ECONN);
}

static void pipe_child(const char *uri, const char *pid)
{
	int port = 0;
	const char *hp = strstr(uri, "127.0.0.1:");
	CHECK(hp && sscanf(hp, "127.0.0.1:%d", &port) == 1);
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	const size_t n = (size_t)2 << 20;
	o.chunk_bytes = n * sizeof(double); /* a record is one element */
	double *big = calloc(n, sizeof *big);
	CHECK(big);
	simrec_t *rec[3];
	for (int i = 0; i < 3; i++) {
		char u[512];
		snprintf(u, sizeof u, "%s%d", uri, i);
		CHECK_OK(NULL, simrec_open(&rec[i], u, &o));
		CHECK_OK(rec[i], simrec_record(rec[i], "pipe/x", SIMREC_FLOAT64,
		                               1, &n, big));
		CHECK_OK(rec[i], simrec_flush(rec[i]));
	}
	kill((pid_t)atoi(pid), SIGKILL);
	wait_refused(port);
	/* SIGPIPE as the process got it: default action, not blocked */
	CHECK(!sigpipe_blocked());
	write_to_dead(rec[0], big, n);
	CHECK(!sigpipe_blocked());
	printf("alive after EPIPE: %s\n", simrec_errmsg(NULL));
	/* blocked by the caller: ours is not left behind, the mask kept */
	sigset_t s, old;
	sigemptyset(&s);
	sigaddset(&s, SIGPIPE);
	CHECK(sigprocmask(SIG_BLOCK, &s, &old) == 0);
	write_to_dead(rec[1], big, n);
	CHECK(sigpipe_blocked() && !sigpipe_pending());
	/* the caller's own pending SIGPIPE survives the call */
	CHECK(raise(SIGPIPE) == 0 && sigpipe_pending());
	write_to_dead(rec[2], big, n);
	CHECK(sigpipe_blocked() && sigpipe_pending());
	const struct timespec zero = {0, 0};
	CHECK(sigtimedwait(&s, NULL, &zero) == SIGPIPE);
	CHECK(!sigpipe_pending());
	CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
	free(big);
}

/* In a child, so that a death by SIGPIPE is reported as such. */
static void pipe_test(const char *uri, const char *pid)
{
	fflush(NULL);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		pipe_child(uri, pid);
		fflush(NULL);
		_exit(0);
	}
	int st = 0;
	CHECK(waitpid(c, &st, 0) == c);
	if (WIFSIGNALED(st))
		fprintf(stderr, "writer killed by signal %d%s\n", WTERMSIG(st),
		        WTERMSIG(st) == SIGPIPE ? " (SIGPIPE)" : "");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("redis pipe: ok\n");
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	if (!strcmp(argv[1], "atomic"))
		atomic(argv[2]);
	else if (!strcmp(argv[1], "write") && argc > 3)
		lose_server(argv[2], argv[3]);
	else if (!strcmp(argv[1], "pipe") && argc > 3)
		pipe_test(argv[2], argv[3]);
	else if (!strcmp(argv[1], "check"))
		check_restart(argv[2]);
	else
		return 2;
	return 0;
}
