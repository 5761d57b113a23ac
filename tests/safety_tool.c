/* Helper of safety_test.sh: the library side of the safety rules.
 *   safety_tool write URI     create mode, one small dataset "a/x"
 *   safety_tool append URI    append mode, one more record of "a/x"
 *   safety_tool read URI      SIMREC_MODE_READONLY open, list, read "a/x"
 *   safety_tool badkey URI K  append mode, record under key K (refused?)
 *   safety_tool hold LOCK_URI RESOURCE  take the write lock, print
 *                             "held TOKEN", hold it until stdin closes
 * Exit 0 on success, 1 with the library's message on stderr otherwise. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "simrec.h"

static int list_fn(const char *key, int is_dataset, void *arg)
{
	(void)arg;
	printf("%s%s\n", key, is_dataset ? "" : "/");
	return 0;
}

static int fail(simrec_t *rec, int rc)
{
	fprintf(stderr, "safety_tool: %s: %s\n", simrec_err_name(rc),
	        simrec_errmsg(rec)); /* NULL: why the open failed */
	if (rec)
		simrec_close(rec);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: safety_tool write|append|read|badkey "
		                "URI [KEY]\n");
		return 2;
	}
	if (!strcmp(argv[1], "hold") && argc == 4) {
		simrec_lock_t *l;
		uint64_t token = 0;
		int rc = simrec_lock_open(&l, argv[2], argv[3], 0);
		if (!rc)
			rc = simrec_lock_acquire(l, SIMREC_LOCK_WRITE, 30,
			                         &token);
		if (rc) {
			fprintf(stderr, "safety_tool: %s\n",
			        l ? simrec_lock_errmsg(l) : "no lock");
			return 1;
		}
		printf("held %llu\n", (unsigned long long)token);
		fflush(stdout);
		while (getchar() != EOF)
			;
		simrec_lock_close(l);
		return 0;
	}
	simrec_options_t o;
	simrec_options_init(&o);
	const char *cmd = argv[1];
	o.mode = !strcmp(cmd, "write")  ? SIMREC_MODE_CREATE
	         : !strcmp(cmd, "read") ? SIMREC_MODE_READONLY
	                                : SIMREC_MODE_APPEND;
	simrec_t *rec = NULL;
	int rc = simrec_open(&rec, argv[2], &o);
	if (rc)
		return fail(NULL, rc);
	const double row[3] = {1.5, 2.5, 3.5};
	const size_t shape[1] = {3};
	if (!strcmp(cmd, "read")) {
		rc = simrec_list(rec, "", list_fn, NULL);
		/* and a write, which must be refused */
		if (!rc && simrec_record(rec, "a/x", SIMREC_FLOAT64, 1, shape,
		                         row) != SIMREC_EREADONLY) {
			fprintf(stderr, "safety_tool: a read-only recorder "
			                "wrote\n");
			simrec_close(rec);
			return 1;
		}
	} else {
		const char *key = argc > 3 ? argv[3] : "a/x";
		rc = simrec_record(rec, key, SIMREC_FLOAT64, 1, shape, row);
	}
	if (rc)
		return fail(rec, rc);
	rc = simrec_close(rec);
	if (rc)
		return fail(NULL, rc);
	printf("safety_tool %s: done\n", cmd);
	return 0;
}
