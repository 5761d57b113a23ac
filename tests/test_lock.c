/* The redis readers-writer lock against a real server (SIMREC_REDIS_HOST):
 *   test_lock hammer SECONDS NPROC   invariants under contention
 *   test_lock preference             a writer gets in under a reader stream
 *   test_lock kill                   a SIGKILLed holder frees the lock
 *   test_lock fence                  a holder that lost its lease is told
 *   test_lock live DIR SCHEME        a reader reads a store (zarr+dir,
 *                                    zarr, hdf5) while another process
 *                                    appends: only whole records */
#define _DEFAULT_SOURCE
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static const char *uri = "redis://";

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static simrec_lock_t *open_lock(const char *res, double lease)
{
	simrec_lock_t *l;
	CHECK(simrec_lock_open(&l, uri, res, lease) == 0);
	simrec_lock_break(l); /* a clean start */
	return l;
}

typedef struct shared {
	int readers_in, writers_in, violations;
	long reads, writes;
	uint64_t last_token;
	int token_backwards;
} shared;

static int hammer_child(shared *sh, double seconds, int id)
{
	simrec_lock_t *l;
	if (simrec_lock_open(&l, uri, "hammer", 2.0))
		return 1;
	srand((unsigned)(getpid() * 7919 + id));
	double end = now() + seconds;
	while (now() < end) {
		int w = rand() % 5 == 0;
		uint64_t tok = 0;
		if (simrec_lock_acquire(
		            l, w ? SIMREC_LOCK_WRITE : SIMREC_LOCK_READ, 20,
		            &tok)) {
			fprintf(stderr, "acquire: %s\n", simrec_lock_errmsg(l));
			return 1;
		}
		if (w) {
			int wi = __atomic_add_fetch(&sh->writers_in, 1,
			                            __ATOMIC_SEQ_CST);
			int ri = __atomic_load_n(&sh->readers_in,
			                         __ATOMIC_SEQ_CST);
			if (wi != 1 || ri != 0)
				__atomic_add_fetch(&sh->violations, 1,
				                   __ATOMIC_SEQ_CST);
			if (tok <= sh->last_token)
				sh->token_backwards++;
			sh->last_token = tok; /* only a writer touches it */
			usleep((useconds_t)(rand() % 1500));
			__atomic_sub_fetch(&sh->writers_in, 1,
			                   __ATOMIC_SEQ_CST);
			__atomic_add_fetch(&sh->writes, 1, __ATOMIC_SEQ_CST);
		} else {
			__atomic_add_fetch(&sh->readers_in, 1,
			                   __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&sh->writers_in, __ATOMIC_SEQ_CST))
				__atomic_add_fetch(&sh->violations, 1,
				                   __ATOMIC_SEQ_CST);
			usleep((useconds_t)(rand() % 1500));
			__atomic_sub_fetch(&sh->readers_in, 1,
			                   __ATOMIC_SEQ_CST);
			__atomic_add_fetch(&sh->reads, 1, __ATOMIC_SEQ_CST);
		}
		if (simrec_lock_release(l)) {
			fprintf(stderr, "release: %s\n", simrec_lock_errmsg(l));
			return 1;
		}
	}
	simrec_lock_close(l);
	return 0;
}

static void hammer(double seconds, int nproc)
{
	shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
	                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED);
	memset(sh, 0, sizeof *sh);
	simrec_lock_t *l = open_lock("hammer", 2.0);
	for (int i = 0; i < nproc; i++)
		if (fork() == 0)
			_exit(hammer_child(sh, seconds, i));
	int st, bad = 0;
	while (wait(&st) > 0)
		bad |= !WIFEXITED(st) || WEXITSTATUS(st);
	simrec_lock_status_t s;
	CHECK(simrec_lock_status(l, &s) == 0);
	printf("hammer: %d processes, %ld reads, %ld writes, %d violations, "
	       "token %llu\n",
	       nproc, sh->reads, sh->writes, sh->violations,
	       (unsigned long long)s.token);
	CHECK(!bad);
	CHECK(sh->violations == 0 && sh->token_backwards == 0);
	CHECK(sh->reads > 100 && sh->writes > 10);
	CHECK(sh->readers_in == 0 && sh->writers_in == 0);
	CHECK(s.readers == 0 && !s.writer && s.waiting_writers == 0);
	CHECK(s.token >= (uint64_t)sh->writes);
	simrec_lock_close(l);
}

/* A writer is not starved by a stream of overlapping readers. No clock:
 * each reader writes a byte to a pipe once it holds the read lock, so the
 * writer starts when all 6 are in the stream; it must get the lock within
 * its acquire timeout of one lease (2 s; readers hold 15 ms each, so
 * under writer preference it waits for those inside to drain, a starved
 * writer would wait for ever). The readers then count their entries
 * while the writer holds the lock: none may enter. */
static void preference(void)
{
	const double lease = 2.0;
	simrec_lock_t *l = open_lock("pref", lease);
	volatile int *sh = mmap(NULL, 2 * sizeof(int), PROT_READ | PROT_WRITE,
	                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED);
	sh[0] = 0; /* stop */
	sh[1] = 0; /* readers in while the writer held the lock */
	volatile int *writing = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
	                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(writing != MAP_FAILED);
	*writing = 0;
	int in[2];
	CHECK(pipe(in) == 0);
	for (int i = 0; i < 6; i++)
		if (fork() == 0) {
			simrec_lock_t *r;
			close(in[0]);
			if (simrec_lock_open(&r, uri, "pref", lease))
				_exit(1);
			int told = 0;
			while (!sh[0]) { /* overlapping readers: never idle */
				if (simrec_lock_acquire(r, SIMREC_LOCK_READ, 30,
				                        NULL))
					_exit(1);
				if (*writing)
					__sync_fetch_and_add(&sh[1], 1);
				if (!told && write(in[1], "r", 1) != 1)
					_exit(1);
				told = 1;
				usleep(15000); /* the read section */
				simrec_lock_release(r);
			}
			simrec_lock_close(r);
			_exit(0);
		}
	close(in[1]);
	for (int i = 0; i < 6; i++) {
		char c;
		CHECK(read(in[0], &c, 1) == 1); /* reader i holds the lock */
	}
	uint64_t tok;
	simrec_lock_status_t s;
	CHECK(simrec_lock_acquire(l, SIMREC_LOCK_WRITE, lease, &tok) == 0);
	*writing = 1;
	CHECK(simrec_lock_status(l, &s) == 0 && s.writer && s.readers == 0);
	/* readers retry while the writer holds: a round trip each */
	for (int i = 0; i < 20; i++)
		CHECK(simrec_lock_status(l, &s) == 0 && s.readers == 0);
	*writing = 0;
	printf("preference: writer in under a stream of 6 readers; "
	       "%d reader entries while it held the lock\n",
	       sh[1]);
	CHECK(sh[1] == 0);
	CHECK(simrec_lock_release(l) == 0);
	close(in[0]);
	sh[0] = 1;
	int st, bad = 0;
	while (wait(&st) > 0)
		bad |= !WIFEXITED(st) || WEXITSTATUS(st);
	CHECK(!bad);
	simrec_lock_close(l);
}

static void kill_holder(void)
{
	const double lease = 1.0;
	simrec_lock_t *l = open_lock("kill", lease);
	int fd[2];
	CHECK(pipe(fd) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		simrec_lock_t *h;
		if (simrec_lock_open(&h, uri, "kill", lease) ||
		    simrec_lock_acquire(h, SIMREC_LOCK_WRITE, 5, NULL))
			_exit(1);
		if (write(fd[1], "x", 1) != 1)
			_exit(1);
		for (;;) /* inside the critical section, renewing its lease */
			pause();
	}
	char c;
	CHECK(read(fd[0], &c, 1) == 1);
	/* renewal keeps it held: the server's own count of the lease left
	 * goes up 4 times (every lease/3: more than one lease in all), and
	 * the holder still holds. A poll of the server (10 ms apart), bounded
	 * by 10 leases for a loaded machine; no fixed wait. */
	simrec_lock_status_t s;
	CHECK(simrec_lock_status(l, &s) == 0 && s.writer);
	double last = s.writer_lease;
	int renewals = 0;
	for (int i = 0; renewals < 4 && i < (int)(10 * lease * 100); i++) {
		usleep(10000);
		CHECK(simrec_lock_status(l, &s) == 0 && s.writer);
		renewals += s.writer_lease > last;
		last = s.writer_lease;
	}
	CHECK(renewals == 4);
	CHECK(simrec_lock_acquire(l, SIMREC_LOCK_READ, 0.2, NULL) ==
	      SIMREC_ETIMEDOUT);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* free again once the lease runs out: within the acquire timeout of
	 * two leases (one lease at most, plus a lease of margin) */
	CHECK(simrec_lock_acquire(l, SIMREC_LOCK_WRITE, 2 * lease, NULL) == 0);
	printf("kill: the holder's lease renewed %d times, lock free again "
	       "within 2 leases of the SIGKILL (lease %.1f s)\n",
	       renewals, lease);
	CHECK(simrec_lock_release(l) == 0);
	simrec_lock_close(l);
}

/* Arguments no server should see: an empty resource, leases that are
 * negative, not finite or beyond 1e6 s (a PX out of range), timeouts that
 * are negative or not finite. */
static void bad_arguments(void)
{
	simrec_lock_t *l = (simrec_lock_t *)1;
	CHECK(simrec_lock_open(&l, uri, "", 1.0) == SIMREC_EINVAL && !l);
	const double leases[] = {-1, NAN, INFINITY, 1e300, 1e6 + 1};
	for (size_t i = 0; i < sizeof leases / sizeof *leases; i++)
		CHECK(simrec_lock_open(&l, uri, "bad", leases[i]) ==
		      SIMREC_EINVAL);
	CHECK(simrec_lock_open(&l, uri, "bad", 1e6) == 0);
	simrec_lock_break(l); /* a clean start */
	const double timeouts[] = {-1, NAN, INFINITY};
	for (size_t i = 0; i < sizeof timeouts / sizeof *timeouts; i++)
		CHECK(simrec_lock_acquire(l, SIMREC_LOCK_READ, timeouts[i],
		                          NULL) == SIMREC_EINVAL);
	CHECK(strstr(simrec_lock_errmsg(l), "timeout"));
	CHECK(simrec_lock_acquire(l, SIMREC_LOCK_READ, 0, NULL) == 0);
	CHECK(simrec_lock_release(l) == 0);
	simrec_lock_close(l);
}

static void fence(void)
{
	bad_arguments();
	simrec_lock_t *a = open_lock("fence", 1.0), *b;
	CHECK(simrec_lock_open(&b, uri, "fence", 1.0) == 0);
	uint64_t ta, tb;
	CHECK(simrec_lock_acquire(a, SIMREC_LOCK_WRITE, 5, &ta) == 0);
	CHECK(simrec_lock_break(b) == 0); /* an operator breaks it */
	CHECK(simrec_lock_acquire(b, SIMREC_LOCK_WRITE, 5, &tb) == 0);
	CHECK(tb > ta); /* tokens only grow, even across a break */
	/* a's renewal (every lease/3) finds it no longer holds the lock: a
	 * poll of a's own state, bounded by 3 leases for a loaded machine */
	for (int i = 0; i < 300 && simrec_lock_check(a) == 0; i++)
		usleep(10000);
	CHECK(simrec_lock_check(a) == SIMREC_ELOCK);
	CHECK(strstr(simrec_lock_errmsg(a), "lease lost") != NULL);
	CHECK(simrec_lock_release(a) == SIMREC_ELOCK);
	CHECK(simrec_lock_release(b) == 0);
	printf("fence: tokens %llu then %llu; the old holder is told\n",
	       (unsigned long long)ta, (unsigned long long)tb);
	simrec_lock_close(a);
	simrec_lock_close(b);
}

static void live(const char *dir, const char *scheme)
{
	char store[4200];
	snprintf(store, sizeof store, "%s:%s/live.%s?lock=%s", scheme, dir,
	         scheme, uri);
	simrec_lock_t *l;
	char res[4200];
	snprintf(res, sizeof res, "%s:%s/live.%s", scheme, dir, scheme);
	char rm[4300]; /* a fresh start, whatever an earlier run left */
	snprintf(rm, sizeof rm, "rm -rf '%s/live.%s'", dir, scheme);
	CHECK(system(rm) == 0);
	l = open_lock(res, 2.0);
	simrec_lock_close(l);
	const int n = 400;
	const size_t shape[1] = {2000};
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	o.chunk_bytes = 32000; /* 4 records per chunk: partial chunks too */
	simrec_t *w;
	CHECK_OK(NULL, simrec_open(&w, store, &o));
	int32_t row[2000];
	for (int k = 0; k < 2000; k++)
		row[k] = -1;
	CHECK_OK(w, simrec_record(w, "x", SIMREC_INT32, 1, shape, row));
	CHECK_OK(w, simrec_close(w));
	/* handshakes guarantee overlap whatever the scheduler does: at four
	 * flushes the writer sends its record count and waits until the
	 * reader has read (and checked) the store; between them the reader
	 * reads freely */
	int tok[2], ack[2];
	CHECK(pipe(tok) == 0 && pipe(ack) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		/* the writer: its own recorder (and lock client) after fork */
		close(tok[0]);
		close(ack[1]);
		o.mode = SIMREC_MODE_APPEND;
		if (simrec_open(&w, store, &o))
			_exit(1);
		for (int i = 1; i < n; i++) {
			for (int k = 0; k < 2000; k++)
				row[k] = i * 10000 + k;
			if (simrec_record(w, "x", SIMREC_INT32, 1, shape, row))
				_exit(1);
			if (i % 3 == 0 && simrec_flush(w))
				_exit(1);
			if (i % 3 == 0 && i % 99 == 0) {
				int have = i + 1;
				char c;
				if (write(tok[1], &have, sizeof have) !=
				            (ssize_t)sizeof have ||
				    read(ack[0], &c, 1) != 1)
					_exit(1);
			}
		}
		close(tok[1]);
		_exit(simrec_close(w) ? 1 : 0);
	}
	close(tok[1]);
	close(ack[0]);
	int32_t *all = malloc((size_t)n * 2000 * 4);
	long reads = 0, shakes = 0;
	size_t last = 0;
	int st = 0, eof = 0;
	while (!eof) {
		/* a handshake pending? then this read must see its records */
		struct pollfd p = {.fd = tok[0], .events = POLLIN};
		size_t need = 0;
		if (poll(&p, 1, 0) > 0) {
			int have;
			ssize_t got = read(tok[0], &have, sizeof have);
			if (got == 0)
				eof = 1;
			else
				CHECK(got == (ssize_t)sizeof have);
			need = got > 0 ? (size_t)have : 0;
		}
		if (eof)
			CHECK(waitpid(pid, &st, 0) == pid);
		simrec_options_t r;
		simrec_options_init(&r);
		r.mode = SIMREC_MODE_READONLY;
		simrec_t *rd;
		CHECK_OK(NULL, simrec_open(&rd, store, &r));
		simrec_dataset_t *ds;
		CHECK_OK(rd, simrec_get_all(rd, "x", &ds));
		size_t sh[2];
		simrec_dataset_shape(ds, sh);
		CHECK(sh[0] >= last && sh[0] >= need && sh[0] <= (size_t)n &&
		      sh[1] == 2000);
		last = sh[0];
		CHECK_OK(rd, simrec_dataset_read(ds, NULL, NULL, all,
		                                 sh[0] * 2000 * 4));
		for (size_t i = 1; i < sh[0];
		     i++) /* every visible record whole */
			for (int k = 0; k < 2000; k++)
				CHECK(all[i * 2000 + (size_t)k] ==
				      (int32_t)i * 10000 + k);
		simrec_dataset_close(ds);
		simrec_close(rd);
		reads++;
		if (need) {
			shakes++;
			CHECK(write(ack[1], "k", 1) == 1);
		}
	}
	close(tok[0]);
	close(ack[1]);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("live: %ld whole reads while the writer appended (%ld of them "
	       "at a handshake); %zu records at the end\n",
	       reads, shakes, last);
	CHECK(last == (size_t)n && shakes == 4);
	free(all);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "hammer"))
		hammer(argc > 2 ? atof(argv[2]) : 4,
		       argc > 3 ? atoi(argv[3]) : 8);
	else if (!strcmp(argv[1], "preference"))
		preference();
	else if (!strcmp(argv[1], "kill"))
		kill_holder();
	else if (!strcmp(argv[1], "fence"))
		fence();
	else if (!strcmp(argv[1], "live") && argc > 3)
		live(argv[2], argv[3]);
	else
		return 2;
	printf("lock %s: ok\n", argv[1]);
	return 0;
}
