/* One judgement of a dataset, shared by `verify` (which prints it and
 * cuts what --repair may cut) and `export` (which refuses what it finds):
 * the store's check of its chunks, and for a joined array's rows, its
 * counts. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The rows of a joined array (they carry the attribute naming their
 * counts): every count is non-negative and they add up to at most the
 * rows (simrec_joined_step of the last step reads and checks them all).
 * 1, with the library's message in v->joined, if not. */
static int judge_joined(simrec_t *rec, const char *key, sr_cli_verdict *v)
{
	simrec_attr_t a;
	memset(&a, 0, sizeof a);
	if (simrec_attr_get(rec, key, "_simrec_joined_count", &a))
		return 0; /* not a joined array's rows */
	simrec_attr_clear(&a);
	size_t n = 0, row0, nrows;
	char ckey[4096];
	snprintf(ckey, sizeof ckey, "%s_count", key);
	simrec_dataset_t *cds;
	int rc = simrec_get_all(rec, ckey, &cds);
	if (!rc) {
		if (simrec_dataset_ndim(cds) == 1)
			simrec_dataset_shape(cds, &n);
		simrec_dataset_close(cds);
	}
	if (!rc && n)
		rc = simrec_joined_step(rec, key, n - 1, &row0, &nrows);
	if (!rc)
		return 0;
	snprintf(v->joined, sizeof v->joined, "%s", simrec_errmsg(rec));
	return 1;
}

int sr_cli_judge(simrec_t *rec, const char *key, simrec_dataset_t *ds, int deep,
                 sr_cli_verdict *v)
{
	size_t sh[SIMREC_MAX_NDIM];
	int nd = simrec_dataset_ndim(ds);
	simrec_dataset_shape(ds, sh);
	memset(v, 0, sizeof *v);
	v->rows = nd ? sh[0] : 1;
	v->whole = v->rows;
	int rc = deep ? simrec_dataset_verify(ds, &v->whole)
	              : simrec_dataset_verify_stored(ds, &v->whole);
	if (rc == SIMREC_EFORMAT)
		v->check = SR_CLI_TORN;
	else if (rc && rc != SIMREC_ENOTSUP)
		v->check = SR_CLI_BAD;
	if (v->check)
		snprintf(v->why, sizeof v->why, "%s", simrec_errmsg(rec));
	if (rc != SIMREC_EFORMAT || v->whole > v->rows)
		v->whole = v->rows;
	judge_joined(rec, key, v);
	return v->check || v->joined[0];
}

int sr_cli_refused(const char *key, const sr_cli_verdict *v)
{
	if (v->check)
		fprintf(stderr,
		        "%s: export of '%s' refused: verify calls it %s: "
		        "%s\n",
		        sr_cli_prog, sr_cli_name(key),
		        v->check == SR_CLI_TORN ? "TORN" : "BAD",
		        sr_cli_msg(v->why));
	if (v->joined[0])
		fprintf(stderr,
		        "%s: export of '%s' refused: verify calls it BAD (a "
		        "joined array whose counts do not hold): %s\n",
		        sr_cli_prog, sr_cli_name(key), sr_cli_msg(v->joined));
	return SIMREC_EFORMAT;
}

int sr_cli_is_value(simrec_t *rec, const char *key, int nd, const size_t *sh)
{
	simrec_dataset_t *last;
	int is_value = 1;
	if (nd && sh[0] > 0 && !simrec_get(rec, key, &last)) {
		is_value = simrec_dataset_ndim(last) == nd;
		simrec_dataset_close(last);
	}
	return is_value;
}
