/* The lock store (?lock=redis://, host from SIMREC_REDIS_HOST) on a real
 * store of each kind:
 *   test_lock_store fence SCHEME DIR   a writer whose store was taken over
 *                                      after `lock break` gets SIMREC_ELOCK
 *                                      on its next chunk write and flush
 *   test_lock_store nest SCHEME DIR    simrec_list's callback opens and
 *                                      reads every dataset under the lock
 *   test_lock_store names SCHEME DIR   every spelling of one store (./,
 *                                      trailing slash, a symbolic link)
 *                                      names one lock
 */
#define _DEFAULT_SOURCE
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#define SR_TEST_UNUSED(x) (void)(x)

static char uri[8600], res[4096];

static simrec_t *open_rec(simrec_mode_t mode)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = mode;
	o.chunk_bytes = 64; /* one 8-double record per chunk: every record
	                       is a chunk write */
	simrec_t *rec = NULL;
	CHECK_OK(rec, simrec_open(&rec, uri, &o));
	return rec;
}

static void fence(void)
{
	double row[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	size_t shape[1] = {8};
	simrec_t *a = open_rec(SIMREC_MODE_CREATE);
	for (int i = 0; i < 3; i++)
		CHECK_OK(a,
		         simrec_record(a, "x", SIMREC_FLOAT64, 1, shape, row));
	CHECK_OK(a, simrec_flush(a));
	/* an operator breaks the lock; another writer takes the store over */
	simrec_lock_t *l;
	CHECK(simrec_lock_open(&l, "redis://", res, 0) == 0);
	CHECK(simrec_lock_break(l) == 0);
	simrec_lock_close(l);
	simrec_t *b = open_rec(SIMREC_MODE_APPEND);
	CHECK_OK(b, simrec_record(b, "y", SIMREC_FLOAT64, 1, shape, row));
	CHECK_OK(b, simrec_close(b));
	/* the old writer may no longer write: chunk write, flush, close */
	CHECK_RC(a, simrec_record(a, "x", SIMREC_FLOAT64, 1, shape, row),
	         SIMREC_ELOCK);
	CHECK(strstr(simrec_errmsg(a), "newer writer") != NULL);
	CHECK_RC(a, simrec_set(a, "z", SIMREC_FLOAT64, 1, shape, row),
	         SIMREC_ELOCK);
	CHECK_RC(a, simrec_flush(a), SIMREC_ELOCK);
	CHECK(simrec_close(a) == SIMREC_ELOCK);
	/* what the new writer wrote is there, the refused writes are not */
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *r;
	CHECK_OK(NULL, simrec_open(&r, uri, &o));
	simrec_dataset_t *ds;
	CHECK_OK(r, simrec_get_all(r, "x", &ds));
	size_t sh[2];
	simrec_dataset_shape(ds, sh);
	CHECK(sh[0] == 3);
	simrec_dataset_close(ds);
	CHECK_OK(r, simrec_get_all(r, "y", &ds));
	simrec_dataset_close(ds);
	CHECK_RC(r, simrec_get(r, "z", &ds), SIMREC_ENOKEY);
	CHECK_OK(r, simrec_close(r));
	printf("fence: the taken-over writer gets SIMREC_ELOCK on chunk "
	       "writes, set, flush and close\n");
}

typedef struct walk {
	simrec_t *rec;
	int datasets, read;
} walk;

static int visit(const char *key, int is_dataset, void *arg)
{
	walk *w = arg;
	if (!is_dataset)
		return 0;
	w->datasets++;
	simrec_dataset_t *ds;
	CHECK_OK(w->rec, simrec_get_all(w->rec, key, &ds));
	if (simrec_dataset_dtype(ds) == SIMREC_STRING) {
		char buf[64];
		size_t len;
		CHECK_OK(w->rec, simrec_dataset_read_bytes(ds, 0, buf,
		                                           sizeof buf, &len));
		CHECK(len == 5 && !memcmp(buf, "hello", 5));
	} else {
		double v[8];
		size_t start[2] = {0, 0}, count[2] = {1, 8};
		CHECK_OK(w->rec,
		         simrec_dataset_read(ds, start, count, v, sizeof v));
		CHECK(v[7] == 8);
	}
	simrec_dataset_close(ds);
	w->read++;
	return 0;
}

/* A write from a listing's callback: refused, the read section is never
 * upgraded. */
static int write_inside(const char *key, int is_dataset, void *arg)
{
	simrec_t *rec = arg;
	double v = 1;
	if (!is_dataset)
		return 0;
	CHECK_RC(rec, simrec_set(rec, "inside", SIMREC_FLOAT64, 0, NULL, &v),
	         SIMREC_ELOCK);
	CHECK(strstr(simrec_errmsg(rec), "inside a read section") != NULL);
	SR_TEST_UNUSED(key);
	return 1; /* once is enough */
}

static void nest(void)
{
	double row[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	size_t shape[1] = {8};
	simrec_t *a = open_rec(SIMREC_MODE_CREATE);
	const char *keys[] = {"a", "g/b", "g/h/c", "d"};
	for (int i = 0; i < 4; i++)
		CHECK_OK(a, simrec_record(a, keys[i], SIMREC_FLOAT64, 1, shape,
		                          row));
	CHECK_OK(a, simrec_record_bytes(a, "s", SIMREC_STRING, "hello", 5));
	CHECK_OK(a, simrec_close(a));
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *r;
	CHECK_OK(NULL, simrec_open(&r, uri, &o));
	walk w = {r, 0, 0};
	CHECK_OK(r, simrec_list(r, "", visit, &w));
	CHECK(w.datasets == 5 && w.read == 5);
	CHECK_OK(r, simrec_close(r));
	/* a write inside the read section is refused, not upgraded; after
	 * the listing the writer writes again */
	simrec_t *wr = open_rec(SIMREC_MODE_APPEND);
	CHECK(simrec_list(wr, "", write_inside, wr) == 1);
	double v = 2;
	CHECK_OK(wr, simrec_set(wr, "after", SIMREC_FLOAT64, 0, NULL, &v));
	CHECK_OK(wr, simrec_close(wr));
	printf("nest: %d datasets listed and read inside the listing\n",
	       w.read);
}

/* A store copied elsewhere (or a lock server that lost its data) holds a
 * token above the lock's counter: the next writer moves the counter past
 * it instead of being refused forever. */
static void copied(void)
{
	double row[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	size_t shape[1] = {8};
	simrec_t *a = open_rec(SIMREC_MODE_CREATE);
	for (int i = 0; i < 3; i++)
		CHECK_OK(a,
		         simrec_record(a, "x", SIMREC_FLOAT64, 1, shape, row));
	CHECK_OK(a, simrec_close(a));
	/* push the original's counter up, then copy the store */
	for (int i = 0; i < 3; i++) {
		a = open_rec(SIMREC_MODE_APPEND);
		CHECK_OK(a,
		         simrec_record(a, "x", SIMREC_FLOAT64, 1, shape, row));
		CHECK_OK(a, simrec_close(a));
	}
	char cmd[9000], copy[4200], copyres[8500];
	snprintf(copy, sizeof copy, "%s-copy", strchr(res, ':') + 1);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", copy,
	         strchr(res, ':') + 1, copy);
	CHECK(system(cmd) == 0);
	snprintf(copyres, sizeof copyres, "%.*s:%s",
	         (int)(strchr(res, ':') - res), res, copy);
	simrec_lock_t *l;
	CHECK(simrec_lock_open(&l, "redis://", copyres, 0) == 0);
	simrec_lock_break(l); /* a fresh name: its counter starts low */
	simrec_lock_close(l);
	snprintf(uri, sizeof uri, "%s?lock=redis://", copyres);
	simrec_t *b = open_rec(SIMREC_MODE_APPEND);
	CHECK_OK(b, simrec_record(b, "x", SIMREC_FLOAT64, 1, shape, row));
	CHECK_OK(b, simrec_close(b));
	printf("copied: a copied store takes appends under the lock\n");
}

static void names(const char *scheme, const char *dir)
{
	char a[4300], b[4300], c[4300], link[4200], target[4200];
	snprintf(target, sizeof target, "%s/names-store", dir);
	snprintf(link, sizeof link, "%s/names-link", dir);
	unlink(link);
	mkdir(target, 0755); /* the store exists: the link resolves */
	CHECK(symlink(target, link) == 0);
	CHECK(chdir(dir) == 0);
	snprintf(a, sizeof a, "%s:%s", scheme, target);
	snprintf(b, sizeof b, "%s:./names-store/", scheme);
	snprintf(c, sizeof c, "%s:%s", scheme, link);
	simrec_lock_t *la, *lb, *lc;
	CHECK(simrec_lock_open(&la, "redis://", a, 0) == 0);
	simrec_lock_break(la);
	CHECK(simrec_lock_open(&lb, "redis://", b, 0) == 0);
	CHECK(simrec_lock_open(&lc, "redis://", c, 0) == 0);
	CHECK(simrec_lock_acquire(la, SIMREC_LOCK_WRITE, 5, NULL) == 0);
	/* the other spellings wait for the same lock */
	CHECK(simrec_lock_acquire(lb, SIMREC_LOCK_READ, 0.3, NULL) ==
	      SIMREC_ETIMEDOUT);
	CHECK(simrec_lock_acquire(lc, SIMREC_LOCK_READ, 0.3, NULL) ==
	      SIMREC_ETIMEDOUT);
	CHECK(simrec_lock_release(la) == 0);
	CHECK(simrec_lock_acquire(lb, SIMREC_LOCK_READ, 5, NULL) == 0);
	CHECK(simrec_lock_release(lb) == 0);
	simrec_lock_close(la);
	simrec_lock_close(lb);
	simrec_lock_close(lc);
	/* redis stores: one lock per prefix, credentials not in the name */
	simrec_lock_t *p1, *p2, *p3;
	CHECK(simrec_lock_open(&p1, "redis://", "redis:redis://h:1?prefix=a",
	                       0) == 0);
	simrec_lock_break(p1);
	CHECK(simrec_lock_open(&p2, "redis://", "redis:redis://h:1?prefix=b",
	                       0) == 0);
	CHECK(simrec_lock_open(&p3, "redis://",
	                       "redis:redis://:pw@h:1?prefix=a", 0) == 0);
	CHECK(simrec_lock_acquire(p1, SIMREC_LOCK_WRITE, 5, NULL) == 0);
	CHECK(simrec_lock_acquire(p2, SIMREC_LOCK_WRITE, 5, NULL) == 0);
	CHECK(simrec_lock_acquire(p3, SIMREC_LOCK_READ, 0.3, NULL) ==
	      SIMREC_ETIMEDOUT);
	CHECK(simrec_lock_release(p1) == 0);
	CHECK(simrec_lock_release(p2) == 0);
	simrec_lock_close(p1);
	simrec_lock_close(p2);
	simrec_lock_close(p3);
	printf("names: one lock per store however it is spelled\n");
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	snprintf(res, sizeof res, "%s:%s/lockstore-%s-%s", argv[2], argv[3],
	         argv[1],
	         argv[2][0] == 'z' && argv[2][4] == '+' ? "dir" : argv[2]);
	snprintf(uri, sizeof uri, "%s?lock=redis://", res);
	if (!strcmp(argv[1], "fence"))
		fence();
	else if (!strcmp(argv[1], "nest"))
		nest();
	else if (!strcmp(argv[1], "copied"))
		copied();
	else if (!strcmp(argv[1], "names"))
		names(argv[2], argv[3]);
	else
		return 2;
	printf("lock store %s: ok\n", argv[1]);
	return 0;
}
