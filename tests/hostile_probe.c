/* hostile_probe URI KEY: read KEY of the store (all of it; "" for every
 * dataset) and print "STATUS_NAME: message" (tests/hostile_test.py
 * compares it with the expected status of each crafted store).
 * hostile_probe append URI KEY VALUE: append one float64 record, every
 * element VALUE, to an existing dataset (for the interop checks).
 * hostile_probe set URI KEY VALUE ROWS COLS: simrec_set a float64 value of
 * shape (ROWS, COLS), every element VALUE (the killed-set checks).
 * hostile_probe attr URI KEY NAME: set the int attribute NAME (any bytes)
 * of KEY to 1 and print "STATUS_NAME: message" (names refused alike by
 * every store).
 * hostile_probe list URI: the store's listing (simrec_list, read-only),
 * one "D key" (dataset) or "G key" (group) line each, then
 * "STATUS_NAME: message". */
#include <signal.h>

#include "fuzz/read_store.h"

__attribute__((visibility("default"))) void sr_test_after_put(void);

/* The library's test hook (src/store/zarr/kv.h), defined only here: with
 * SIMREC_TEST_KILL_AFTER_PUTS=N, the process kills itself after the Nth
 * put of a key-value layer (a writer killed in the middle of a set). */
void sr_test_after_put(void)
{
	static _Atomic long puts_done; /* puts may run on several threads */
	const char *v = getenv("SIMREC_TEST_KILL_AFTER_PUTS");
	long die_after = v ? strtol(v, NULL, 10) : 0;
	if (die_after > 0 && ++puts_done >= die_after)
		raise(SIGKILL);
}

static int append(const char *uri, const char *key, double v)
{
	simrec_t *rec;
	int rc = simrec_open(&rec, uri, NULL);
	if (rc)
		return rc;
	simrec_dataset_t *ds;
	rc = simrec_get_all(rec, key, &ds);
	size_t sh[SIMREC_MAX_NDIM], n = 1;
	int nd = 0;
	if (!rc) {
		nd = simrec_dataset_ndim(ds);
		simrec_dataset_shape(ds, sh);
		simrec_dataset_close(ds);
		for (int i = 1; i < nd; i++)
			n *= sh[i];
	}
	double *rec_buf = rc ? NULL : malloc(n * sizeof *rec_buf);
	for (size_t i = 0; rec_buf && i < n; i++)
		rec_buf[i] = v;
	if (!rc)
		rc = rec_buf ? simrec_record(rec, key, SIMREC_FLOAT64, nd - 1,
		                             sh + 1, rec_buf)
		             : SIMREC_ENOMEM;
	if (rc)
		fprintf(stderr, "append: %s\n", simrec_errmsg(rec));
	free(rec_buf);
	int rc2 = simrec_close(rec);
	return rc ? rc : rc2;
}

static int set_value(const char *uri, const char *key, double v, size_t rows,
                     size_t cols)
{
	simrec_t *rec;
	int rc = simrec_open(&rec, uri, NULL);
	if (rc)
		return rc;
	size_t sh[2] = {rows, cols};
	double *buf = rows && cols ? malloc(rows * cols * sizeof *buf) : NULL;
	for (size_t i = 0; buf && i < rows * cols; i++)
		buf[i] = v;
	rc = buf ? simrec_set(rec, key, SIMREC_FLOAT64, 2, sh, buf)
	         : SIMREC_EINVAL;
	if (rc)
		fprintf(stderr, "set: %s\n", simrec_errmsg(rec));
	free(buf);
	int rc2 = simrec_close(rec);
	return rc ? rc : rc2;
}

static int print_key(const char *key, int is_dataset, void *arg)
{
	(void)arg;
	printf("%c %s\n", is_dataset ? 'D' : 'G', key);
	return 0;
}

static void list(const char *uri)
{
	simrec_t *rec = NULL;
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	int rc = simrec_open(&rec, uri, &o);
	if (!rc)
		rc = simrec_list(rec, "", print_key, NULL);
	printf("%s: %s\n", rc ? simrec_err_name(rc) : "OK",
	       rc ? simrec_errmsg(rec) : "");
	simrec_close(rec);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "list")) {
		list(argv[2]);
		return 0;
	}
	if (argc == 7 && !strcmp(argv[1], "set")) {
		int rc = set_value(argv[2], argv[3], atof(argv[4]),
		                   strtoul(argv[5], NULL, 10),
		                   strtoul(argv[6], NULL, 10));
		printf("%s\n", rc ? simrec_err_name(rc) : "OK");
		return rc != 0;
	}
	if (argc == 5 && !strcmp(argv[1], "append")) {
		int rc = append(argv[2], argv[3], atof(argv[4]));
		printf("%s\n", rc ? simrec_err_name(rc) : "OK");
		return rc != 0;
	}
	if (argc == 5 && !strcmp(argv[1], "attr")) {
		simrec_t *rec;
		int rc = simrec_open(&rec, argv[2], NULL);
		if (!rc) {
			rc = simrec_attr_set_int(rec, argv[3], argv[4], 1);
			printf("%s: %s\n", rc ? simrec_err_name(rc) : "OK",
			       rc ? simrec_errmsg(rec) : "");
			int rc2 = simrec_close(rec);
			return rc2 != 0;
		}
		printf("%s: %s\n", simrec_err_name(rc), simrec_errmsg(NULL));
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: hostile_probe URI KEY\n");
		return 2;
	}
	char msg[1024];
	int rc = read_store(argv[1], argv[2][0] ? argv[2] : NULL, msg,
	                    sizeof msg);
	printf("%s: %s\n", rc ? simrec_err_name(rc) : "OK", msg);
	return 0;
}
