/* The lock store (?lock=redis://, host from SIMREC_REDIS_HOST) on a real
 * store of each kind:
 *   test_lock_store fence SCHEME DIR   a writer whose store was taken over
 *                                      after `lock break` gets SIMREC_ELOCK
 *                                      on its next chunk write and flush
 *   test_lock_store nest SCHEME DIR    simrec_list's callback opens and
 *                                      reads every dataset under the lock
 */
#include <string.h>

#include "check.h"

static char uri[4200], res[4096];

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
	/* a write inside the read section is refused, not upgraded */
	CHECK_OK(r, simrec_close(r));
	printf("nest: %d datasets listed and read inside the listing\n",
	       w.read);
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
	else
		return 2;
	printf("lock store %s: ok\n", argv[1]);
	return 0;
}
