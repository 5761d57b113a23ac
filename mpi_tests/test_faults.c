/* Faults: what a reader sees after a writer is killed or the disk fills,
 * and a bad key in the middle of a run.
 *
 *   test_faults write URI STEPS FLUSH_EVERY ELEMS [KEYS [INDEP]]
 *       record_all "run/u" (ELEMS float64 per rank) for STEPS steps,
 *       and as much under "run/u1" .. "run/u{KEYS-1}" (KEYS: 1); with
 *       INDEP > 0 rank 0 also records INDEP float64 under "indep/e" each
 *       step (an independent simrec_record). The values carry noise in
 *       their low bits, so that no codec makes them much smaller.
 *       simrec_flush every FLUSH_EVERY steps; stops at the first failure.
 *       Rank 0 prints "acked N" after each successful flush and
 *       "failed after N: MESSAGE" on failure. With SIMREC_TEST_KILL_RANK,
 *       _STEP and _FIFO set, that rank writes its pid to the FIFO at that
 *       step (whoever reads it kills the rank) and goes on recording.
 *       With SIMREC_TEST_ACK_STEP and _ACK_FIFO set, rank 0 writes
 *       "acked N" to the FIFO once, after the first flush that
 *       acknowledges at least that many steps (whoever reads it knows
 *       those steps are durable), and goes on recording.
 *       SIMREC_TEST_STEP_USEC paces the run: each step "computes" that
 *       long before its record_all (a run that outlives a fault).
 *       SIMREC_TEST_EXTRA=1 adds attributes, a replaced value
 *       ("meta/state", as SIMREC_TEST_SET sets it) and strings each
 *       step (write_extra).
 *       With SIMREC_TEST_SET=1, every step also sets an attribute "s"
 *       of "run/u" (every rank) and rank 0 replaces the value
 *       "meta/state" (ELEMS float64 of that step; simrec_set), until
 *       a call fails. With SIMREC_TEST_BROKEN=1 (HDF5: a failed write
 *       breaks the store), after a failure record_all of "other/k" must
 *       fail at once with one status on every rank, and so must an
 *       attribute and rank 0's simrec_set in a run of one rank (with
 *       more, they are queued: the flush after them fails on every
 *       rank); "broken store: ..." else.
 *       With SIMREC_TEST_APPEND=N the store is opened in append mode
 *       and the steps go on after the N that "run/u" holds (step
 *       numbers, values and "acked N" count from the file's first).
 *       With SIMREC_TEST_KILL_HOLD=1 the victim stops
 *       after writing its pid (nothing more is written before the kill).
 *       With SIMREC_TEST_KILL_GO=FIFO the victim waits, after writing
 *       its pid, for a line from that FIFO (whoever reads the pid cuts
 *       the victim's connection to its store, then lets it go on).
 *   test_faults check URI [=N | >=N [>=M]]
 *       serial reader: every visible step of every key written above
 *       must hold exactly what was recorded (no zero-filled or torn
 *       rank); every key's steps must equal (=N) or reach (>=N) N, but
 *       "indep/e"'s must reach M if M is given (write prints "indep
 *       acked M": rank 0's independent records may fail while the
 *       steps go on). Prints "steps S torn T max M keys K" (S the
 *       fewest steps of a key, M the most, T the torn steps of all
 *       keys). A "meta/state" there must read whole, as set at one step
 *       (else it counts as torn); "meta/state of step S" names it.
 *   test_faults badkey URI
 *       record_all of "good" for 20 steps; at step 5 record_all of
 *       "good/child" must fail with the same status on every rank; all
 *       20 steps of "good" must read back afterwards. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simrec.h"

static int rank, size;

/* Record s, rank r, element i of key k: a base that tells steps and
 * ranks apart, plus noise below 0.5 (check_faults.py computes the same). */
static double value(long s, int r, size_t i, int k)
{
	uint64_t x = (uint64_t)s << 40 ^ (uint64_t)r << 32 ^ (uint64_t)k << 28 ^
	             (uint64_t)i;
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9u;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebu;
	x ^= x >> 31;
	double noise = (double)(x >> 12) * 0x1p-53;
	return 1.0 + (double)s * 1e4 + r * 100.0 + (double)(i % 100) + noise;
}

/* The name of key k ("run/u", "run/u1", ...; k < 0: "indep/e"). */
static const char *key_name(int k, char *buf, size_t cap)
{
	if (k < 0)
		snprintf(buf, cap, "indep/e");
	else if (k == 0)
		snprintf(buf, cap, "run/u");
	else
		snprintf(buf, cap, "run/u%d", k);
	return buf;
}

static void die(const char *what, simrec_t *rec, int rc)
{
	fprintf(stderr, "rank %d: %s: %s (%s)\n", rank, what,
	        simrec_strerror(rc), rec ? simrec_errmsg(rec) : "");
	MPI_Abort(MPI_COMM_WORLD, 1);
}

/* SIMREC_TEST_EXTRA: the other kinds of change each step, independent
 * calls whose failures are printed (a reader then checks them with
 * simrec verify): an attribute per rank on "run/u" and on the root;
 * rank 0 replaces the value "meta/state" and records a string. */
static void write_extra(simrec_t *rec, long s, size_t elems, double *u)
{
	char an[32], sv[64];
	snprintf(an, sizeof an, "r%d", rank);
	snprintf(sv, sizeof sv, "rank %d step %ld", rank, s);
	int e1 = simrec_attr_set_int(rec, "run/u", an, s);
	int e2 = simrec_attr_set_string(rec, "", an, sv);
	int e3 = 0, e4 = 0;
	if (rank == 0) {
		size_t n = elems;
		for (size_t i = 0; i < n; i++) /* as set_step: check_state */
			u[i] = value(s, 0, i, -2);
		e3 = simrec_set(rec, "meta/state", SIMREC_FLOAT64, 1, &n, u);
		e4 = simrec_record_bytes(rec, "log/msg", SIMREC_STRING, sv,
		                         strlen(sv));
	}
	if (e1 || e2 || e3 || e4)
		printf("rank %d step %ld extra: %d %d %d %d\n", rank, s, e1, e2,
		       e3, e4);
}

/* One step of every key (rank 0's independent record too). */
static int write_step(simrec_t *rec, long s, size_t elems, int nkeys,
                      size_t indep, double *u, int *indep_rc)
{
	char name[32];
	int rc = 0;
	for (int k = 0; k < nkeys && !rc; k++) {
		for (size_t i = 0; i < elems; i++)
			u[i] = value(s, rank, i, k);
		rc = simrec_record_all(rec, key_name(k, name, sizeof name),
		                       SIMREC_FLOAT64, 1, &elems, u);
	}
	if (!rc && getenv("SIMREC_TEST_EXTRA"))
		write_extra(rec, s, elems, u);
	/* independent: its status is rank 0's alone; rank 0 records on
	 * with the others (record_all) until a collective call fails */
	if (!rc && rank == 0 && indep && !*indep_rc) {
		for (size_t i = 0; i < indep; i++)
			u[i] = value(s, 0, i, -1);
		*indep_rc = simrec_record(rec, key_name(-1, name, sizeof name),
		                          SIMREC_FLOAT64, 1, &indep, u);
		if (*indep_rc)
			printf("independent record of step %ld failed: %s\n", s,
			       simrec_errmsg(rec));
	}
	return rc;
}

/* SIMREC_TEST_SET: an attribute on every rank, rank 0's value. */
static int set_step(simrec_t *rec, long s, size_t elems, double *u)
{
	int rc = simrec_attr_set_int(rec, "run/u", "s", s);
	if (!rc && rank == 0) {
		for (size_t i = 0; i < elems; i++)
			u[i] = value(s, 0, i, -2);
		rc = simrec_set(rec, "meta/state", SIMREC_FLOAT64, 1, &elems,
		                u);
	}
	if (rc)
		printf("rank %d: set of step %ld failed: %s\n", rank, s,
		       simrec_errmsg(rec));
	return rc;
}

/* SIMREC_TEST_BROKEN: every write call fails once the store is broken. */
static void check_broken(simrec_t *rec)
{
	size_t n = 4;
	double v[4] = {1, 2, 3, 4};
	int r1 = simrec_record_all(rec, "other/k", SIMREC_FLOAT64, 1, &n, v);
	int lo = r1, hi = r1;
	MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	int r2 = simrec_attr_set_int(rec, "run/u", "late", 1);
	int r3 = rank ? 0
	              : simrec_set(rec, "meta/late", SIMREC_FLOAT64, 1, &n, v);
	int r4 = simrec_flush(rec), flo = r4, fhi = r4;
	MPI_Allreduce(MPI_IN_PLACE, &flo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	MPI_Allreduce(MPI_IN_PLACE, &fhi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	if (!r1 || lo != hi || !r4 || flo != fhi || (size == 1 && (!r2 || !r3)))
		printf("broken store: rank %d: record_all %d (%d..%d), "
		       "attribute %d, set %d, flush %d (%d..%d)\n",
		       rank, r1, lo, hi, r2, r3, r4, flo, fhi);
	else if (rank == 0)
		printf("broken store refuses writes: %s\n", simrec_errmsg(rec));
}

/* SIMREC_TEST_KILL_GO: a line from the FIFO path (if set) before going on. */
static void wait_go(const char *path)
{
	char line[16];
	FILE *f = path ? fopen(path, "r") : NULL;
	if (f && !fgets(line, sizeof line, f))
		line[0] = 0;
	if (f)
		fclose(f);
}

static int do_write(const char *uri, long steps, long every, size_t elems,
                    int nkeys, size_t indep)
{
	simrec_options_t o;
	simrec_options_init(&o);
	const char *ap = getenv("SIMREC_TEST_APPEND");
	long s0 = ap ? atol(ap) : 0; /* the steps already there */
	o.mode = ap ? SIMREC_MODE_APPEND : SIMREC_MODE_CREATE;
	o.chunk_bytes = 65536;
	simrec_t *rec;
	int rc = simrec_open_comm(&rec, uri, &o, MPI_COMM_WORLD);
	if (rc)
		die("open", NULL, rc);
	const char *kr = getenv("SIMREC_TEST_KILL_RANK");
	const char *ks = getenv("SIMREC_TEST_KILL_STEP");
	const char *kf = getenv("SIMREC_TEST_KILL_FIFO");
	int victim = kr && ks && kf && atoi(kr) == rank;
	const char *as = getenv("SIMREC_TEST_ACK_STEP");
	const char *af = getenv("SIMREC_TEST_ACK_FIFO");
	int ack_pending = as && af && rank == 0;
	const char *us = getenv("SIMREC_TEST_STEP_USEC");
	long usec = us ? atol(us) : 0;
	const char *ts = getenv("SIMREC_TEST_SET");
	int set_rc = !(ts && atoi(ts)); /* nonzero: no more sets */
	const char *kh = getenv("SIMREC_TEST_KILL_HOLD");
	double *u = malloc((elems > indep ? elems : indep) * sizeof *u);
	if (!u)
		die("malloc", NULL, SIMREC_ENOMEM);
	long acked = s0;
	int indep_rc = 0; /* rank 0's independent failure, reported once */
	long indep_ok = 0, indep_acked = 0; /* "indep/e": recorded, flushed */
	for (long s = s0; s < s0 + steps && !rc; s++) {
		if (victim && s == atol(ks)) {
			FILE *f = fopen(kf, "w");
			if (f) {
				fprintf(f, "%ld\n", (long)getpid());
				fclose(f);
			}
			while (kh && atoi(kh))
				pause(); /* until the kill */
			wait_go(getenv("SIMREC_TEST_KILL_GO"));
		}
		if (usec > 0)
			usleep((useconds_t)usec);
		rc = write_step(rec, s, elems, nkeys, indep, u, &indep_rc);
		indep_ok += !rc && !indep_rc;
		if (!rc && !set_rc)
			set_rc = set_step(rec, s, elems, u);
		if (!rc && (s + 1) % every == 0) {
			rc = simrec_flush(rec);
			if (!rc) {
				acked = s + 1;
				indep_acked = indep_ok;
			}
			if (!rc && rank == 0) {
				printf("acked %ld\n", acked);
				fflush(stdout);
			}
			if (!rc && ack_pending && acked >= atol(as)) {
				FILE *f = fopen(af, "w");
				if (f) {
					fprintf(f, "acked %ld\n", acked);
					fclose(f);
				}
				ack_pending = 0;
			}
		}
	}
	/* every rank must stop with the same status of the collective calls
	 * (an independent call's own status is rank 0's alone) */
	int lo = rc, hi = rc;
	MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	if (rank == 0 && lo != hi)
		printf("status differs between ranks: %d..%d\n", lo, hi);
	if (rank == 0 && indep)
		printf("indep acked %ld\n", indep_acked);
	if (indep_rc && !rc)
		rc = indep_rc;
	if (rc && rank == 0) {
		printf("failed after %ld: %s\n", acked, simrec_errmsg(rec));
		printf("status %s\n", simrec_err_name(rc));
		fflush(stdout);
	}
	const char *tb = getenv("SIMREC_TEST_BROKEN");
	if (lo && tb && atoi(tb))
		check_broken(rec);
	int rc2 = simrec_close(rec);
	lo = hi = rc2;
	MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	if (rank == 0 && lo != hi)
		printf("close status differs between ranks: %d..%d\n", lo, hi);
	if (rank == 0 && rc2) {
		printf("close: %s\n", simrec_strerror(rc2));
		printf("close status %s\n", simrec_err_name(rc2));
		fflush(stdout);
	}
	free(u);
	return 0;
}

/* Reads every step of key k; counts them (*steps) and the torn ones. */
static int check_key(simrec_t *rec, int k, size_t *steps, size_t *torn)
{
	char name[32];
	simrec_dataset_t *ds = NULL;
	size_t shape[SIMREC_MAX_NDIM] = {0};
	*steps = 0;
	int rc = simrec_get_all(rec, key_name(k, name, sizeof name), &ds);
	if (rc)
		return rc;
	simrec_dataset_shape(ds, shape);
	int nd = simrec_dataset_ndim(ds);
	size_t nr = nd == 3 ? shape[1] : 1, ne = shape[nd - 1];
	*steps = shape[0];
	double *buf = nr && ne ? malloc(nr * ne * sizeof *buf) : NULL;
	for (size_t s = 0; !rc && s < *steps; s++) {
		size_t start[3] = {s, 0, 0}, count[3] = {1, shape[1], shape[2]};
		rc = simrec_dataset_read(ds, start, count, buf,
		                         nr * ne * sizeof *buf);
		int bad = 0;
		for (size_t r = 0; !rc && r < nr; r++)
			for (size_t i = 0; i < ne; i++)
				if (buf[r * ne + i] !=
				    value((long)s, (int)r, i, k))
					bad = 1;
		*torn += (size_t)bad;
	}
	if (rc)
		printf("read of '%s' failed: %s: %s\n", name,
		       simrec_strerror(rc), simrec_errmsg(rec));
	free(buf);
	simrec_dataset_close(ds);
	return rc ? rc : -1;
}

/* "meta/state" (SIMREC_TEST_SET), if there: 1 unless it reads whole as
 * rank 0 set it at one step. */
static int check_state(simrec_t *rec)
{
	simrec_dataset_t *ds = NULL;
	int rc = simrec_get(rec, "meta/state", &ds);
	if (rc == SIMREC_ENOKEY)
		return 0;
	size_t n = 0, start = 0;
	if (!rc && simrec_dataset_ndim(ds) == 1)
		simrec_dataset_shape(ds, &n);
	double *v = n ? malloc(n * sizeof *v) : NULL;
	if (!rc && v)
		rc = simrec_dataset_read(ds, &start, &n, v, n * sizeof *v);
	long s = v ? (long)((v[0] - 1.0) / 1e4) : -1;
	int bad = rc || !v;
	for (size_t i = 0; !bad && i < n; i++)
		bad = v[i] != value(s, 0, i, -2);
	if (bad)
		printf("meta/state is not whole: %s\n",
		       rc ? simrec_errmsg(rec) : "values of no one step");
	else
		printf("meta/state of step %ld\n", s);
	free(v);
	simrec_dataset_close(ds);
	return bad;
}

static int short_of(const char *expect, size_t n)
{
	if (expect && expect[0] == '=' && n != strtoul(expect + 1, 0, 10))
		return 1;
	if (expect && expect[0] == '>' && n < strtoul(expect + 2, NULL, 10))
		return 1;
	return 0;
}

/* expect: for every key; expect_indep (if given): for "indep/e", whose
 * records rank 0 made alone (they may fail while the steps go on) */
static int do_check(const char *uri, const char *expect,
                    const char *expect_indep)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	int rc = simrec_open(&rec, uri, &o);
	if (rc) {
		printf("open failed: %s\n", simrec_strerror(rc));
		return 1;
	}
	size_t lo = 0, hi = 0, torn = 0, n = 0;
	int bad = 0, short_keys = 0;
	/* "run/u" (absent: nothing published yet), "run/u1", ..., "indep/e" */
	for (int k = 0, done = 0; !done; k++) {
		size_t steps = 0;
		rc = check_key(rec, k, &steps, &torn);
		if (rc == SIMREC_ENOKEY && k > 0) {
			done = 1;
			rc = check_key(rec, -1, &steps, &torn);
		}
		if (rc == SIMREC_ENOKEY)
			break;
		bad |= rc != -1;
		done |= rc != -1;
		short_keys |= short_of(
		        done && expect_indep ? expect_indep : expect, steps);
		lo = n == 0 || steps < lo ? steps : lo;
		hi = steps > hi ? steps : hi;
		n++;
	}
	torn += (size_t)check_state(rec);
	printf("steps %zu torn %zu max %zu keys %zu\n", lo, torn, hi, n);
	simrec_close(rec);
	return bad || torn || short_keys;
}

static int do_badkey(const char *uri)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	simrec_t *rec;
	int rc = simrec_open_comm(&rec, uri, &o, MPI_COMM_WORLD);
	if (rc)
		die("open", NULL, rc);
	size_t n = 4;
	double u[4];
	for (long s = 0; s < 20; s++) {
		for (size_t i = 0; i < n; i++)
			u[i] = value(s, rank, i, 0);
		if (s == 5) {
			rc = simrec_record_all(rec, "good/child",
			                       SIMREC_FLOAT64, 1, &n, u);
			int lo = rc, hi = rc;
			MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN,
			              MPI_COMM_WORLD);
			MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX,
			              MPI_COMM_WORLD);
			if (!rc || lo != hi) {
				fprintf(stderr,
				        "rank %d: bad key gave %d (%d..%d)\n",
				        rank, rc, lo, hi);
				MPI_Abort(MPI_COMM_WORLD, 1);
			}
			if (rank == 0)
				printf("bad key: %s: %s\n", simrec_err_name(rc),
				       simrec_errmsg(rec));
		}
		rc = simrec_record_all(rec, "good", SIMREC_FLOAT64, 1, &n, u);
		if (rc)
			die("record_all good", rec, rc);
	}
	if ((rc = simrec_flush(rec)))
		die("flush", rec, rc);
	if ((rc = simrec_close(rec)))
		die("close", NULL, rc);
	MPI_Barrier(MPI_COMM_WORLD);
	if (rank)
		return 0;
	o.mode = SIMREC_MODE_READONLY;
	if ((rc = simrec_open(&rec, uri, &o)))
		die("reopen", NULL, rc);
	simrec_dataset_t *ds;
	if ((rc = simrec_get_all(rec, "good", &ds)))
		die("get good", rec, rc);
	size_t shape[3];
	simrec_dataset_shape(ds, shape);
	if (shape[0] != 20 || shape[1] != (size_t)size || shape[2] != n) {
		fprintf(stderr, "good has shape %zu x %zu x %zu\n", shape[0],
		        shape[1], shape[2]);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	double *all = malloc(20 * (size_t)size * n * sizeof *all);
	size_t start[3] = {0, 0, 0};
	if (!all || simrec_dataset_read(ds, start, shape, all,
	                                20 * (size_t)size * n * sizeof *all))
		die("read good", rec, SIMREC_EIO);
	for (size_t s = 0; s < 20; s++)
		for (size_t r = 0; r < (size_t)size; r++)
			for (size_t i = 0; i < n; i++)
				if (all[(s * (size_t)size + r) * n + i] !=
				    value((long)s, (int)r, i, 0)) {
					fprintf(stderr, "good[%zu,%zu,%zu]\n",
					        s, r, i);
					MPI_Abort(MPI_COMM_WORLD, 1);
				}
	free(all);
	simrec_dataset_close(ds);
	simrec_close(rec);
	printf("badkey: ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "check"))
		return do_check(argv[2], argc > 3 ? argv[3] : NULL,
		                argc > 4 ? argv[4] : NULL);
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	int rc = 2;
	if (argc >= 6 && argc <= 8 && !strcmp(argv[1], "write"))
		rc = do_write(argv[2], atol(argv[3]), atol(argv[4]),
		              (size_t)atol(argv[5]),
		              argc > 6 ? atoi(argv[6]) : 1,
		              argc > 7 ? (size_t)atol(argv[7]) : 0);
	else if (argc == 3 && !strcmp(argv[1], "badkey"))
		rc = do_badkey(argv[2]);
	else if (rank == 0)
		fprintf(stderr, "usage: see the comment in test_faults.c\n");
	MPI_Finalize();
	return rc;
}
