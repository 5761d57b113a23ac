/* simrec verify [--repair] STORE: every chunk of every dataset decoded and
 * present; --repair cuts before the first torn step. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/common.h"
#include "cli.h"

/* Torn datasets to cut by --repair: keys, and each one's whole steps. */
typedef struct cutlist {
	sr_strv keys;
	size_t *steps, cap; /* steps: room for at least cap */
} cutlist;

/* Bytes or strings: the number of records, from 0, whose size reads. */
static int verify_vlen_rows(simrec_dataset_t *ds, size_t rows, size_t *good)
{
	int rc = 0;
	for (; *good < rows; (*good)++) {
		char b[1];
		size_t len;
		rc = simrec_dataset_read_bytes(ds, *good, b, 0, &len);
		if (rc && rc != SIMREC_ETRUNC)
			break;
		rc = 0;
	}
	return rc;
}

/* Fixed-size elements: decode blocks of whole chunk rows (bounded memory);
 * good counts the rows, from 0, that decoded: a block that fails is read
 * again chunk row by chunk row, so good is where the failing row starts. */
static int verify_rows(simrec_dataset_t *ds, const char *key, int nd,
                       const size_t *sh, const size_t *ch, size_t isz,
                       size_t rows, size_t *good)
{
	int rc = 0;
	size_t row = 0, one = nd && ch[0] ? ch[0] : 1, per = one;
	if (sr_size_prod(nd ? nd - 1 : 0, sh + 1, isz, &row) ||
	    sr_size_mul(per, row, &(size_t){0})) {
		row = 0;
		per = 0;
		rc = SIMREC_EFORMAT;
		fprintf(stderr, "%s: '%s': its shape overflows\n", sr_cli_prog,
		        sr_cli_name(key));
	}
	while (per > 1 && per * row > ((size_t)64 << 20))
		per /= 2;
	void *buf = rc ? NULL : malloc(per * row + 1);
	size_t st[SIMREC_MAX_NDIM] = {0}, ct[SIMREC_MAX_NDIM];
	memcpy(ct, sh, sizeof ct);
	while (buf && *good < rows) {
		if (nd) {
			st[0] = *good;
			ct[0] = rows - *good < per ? rows - *good : per;
		}
		rc = simrec_dataset_read(ds, nd ? st : NULL, nd ? ct : NULL,
		                         buf, (nd ? ct[0] : 1) * row);
		if (rc && nd && ct[0] > one) {
			per = one; /* again, one chunk row at a time */
			continue;
		}
		if (rc)
			break;
		*good += nd ? ct[0] : 1;
	}
	free(buf);
	return rc;
}

/* Remember a dataset to cut for --repair, to its first whole steps (a
 * key noted again keeps the shorter cut). */
static void verify_note_cut(cutlist *cut, const char *key, size_t whole)
{
	for (size_t i = 0; i < cut->keys.n; i++)
		if (!strcmp(cut->keys.v[i], key)) {
			if (whole < cut->steps[i])
				cut->steps[i] = whole;
			return;
		}
	if (!SR_GROW_N(cut->steps, cut->cap, cut->keys.n + 1) &&
	    !sr_strv_add(&cut->keys, key))
		cut->steps[cut->keys.n - 1] = whole;
}

/* sr_cli_dims_agree's cut: into the cutlist */
static void verify_dims_cut(const char *key, size_t rows, void *arg)
{
	verify_note_cut(arg, key, rows);
}

/* "step 4" or "steps 4-9" (a..b inclusive) */
static const char *steps_text(char *buf, size_t cap, size_t a, size_t b)
{
	if (a == b)
		snprintf(buf, cap, "step %zu", a);
	else
		snprintf(buf, cap, "steps %zu-%zu", a, b);
	return buf;
}

/* What --repair does to a dataset of rows steps whose first whole are
 * kept: records stay contiguous, so it cannot skip a torn step. */
static void verify_print_keep(const char *key, size_t whole, size_t rows)
{
	char k[64], d[64];
	if (whole)
		steps_text(k, sizeof k, 0, whole - 1);
	printf("      %s: --repair keeps %s of %zu and drops %s (records "
	       "stay contiguous: it cuts at the first torn step)\n",
	       sr_cli_name(key), whole ? k : "no step", rows,
	       steps_text(d, sizeof d, whole, rows - 1));
}

/* The steps of counts (n, int64) whose rows all lie below whole: they
 * are read a block at a time; a negative count ends them. */
static size_t joined_whole_steps(simrec_dataset_t *cds, size_t n, size_t whole)
{
	int64_t buf[4096];
	size_t steps = 0, end = 0;
	while (steps < n) {
		size_t st = steps, ct = n - steps < 4096 ? n - steps : 4096;
		if (simrec_dataset_read(cds, &st, &ct, buf, sizeof buf))
			break;
		for (size_t i = 0; i < ct; i++, steps++)
			if (buf[i] < 0 || (uint64_t)buf[i] > whole - end)
				return steps;
			else
				end += (size_t)buf[i];
	}
	return steps;
}

/* A joined array's rows cut to their first whole rows: its counts (the
 * companion "KEY_count") must be cut too, to the steps whose rows all
 * stay, or the cut rows would not hold them. */
static void verify_joined_cut(simrec_t *rec, const char *key, size_t whole,
                              int repair, cutlist *cut)
{
	simrec_attr_t a;
	memset(&a, 0, sizeof a);
	if (simrec_attr_get(rec, key, "_simrec_joined_count", &a))
		return; /* not a joined array's rows */
	simrec_attr_clear(&a);
	char ckey[4096];
	snprintf(ckey, sizeof ckey, "%s_count", key);
	simrec_dataset_t *cds;
	if (simrec_get_all(rec, ckey, &cds))
		return; /* verify says why: BAD, counts that do not hold */
	size_t n = 0;
	if (simrec_dataset_ndim(cds) == 1 &&
	    simrec_dataset_dtype(cds) == SIMREC_INT64)
		simrec_dataset_shape(cds, &n);
	size_t steps = joined_whole_steps(cds, n, whole);
	simrec_dataset_close(cds);
	if (steps >= n)
		return;
	printf("      %s: --repair cuts it to %zu step(s) with '%s' (the "
	       "steps whose rows stay)\n",
	       sr_cli_name(ckey), steps, sr_cli_name(key));
	if (repair)
		verify_note_cut(cut, ckey, steps);
}

/* Read the steps below *whole; a step that does not read lowers *whole
 * to it and prints a BAD line. 1 if so. */
static int verify_read(simrec_t *rec, simrec_dataset_t *ds, const char *key,
                       size_t *whole)
{
	size_t sh[SIMREC_MAX_NDIM], ch[SIMREC_MAX_NDIM], good = 0;
	int nd = simrec_dataset_ndim(ds);
	simrec_dataset_shape(ds, sh);
	simrec_dataset_chunks(ds, ch);
	size_t isz = simrec_dtype_size(simrec_dataset_dtype(ds));
	if (nd)
		sh[0] = *whole;
	int rc = !isz ? verify_vlen_rows(ds, *whole, &good)
	              : verify_rows(ds, key, nd, sh, ch, isz, *whole, &good);
	if (!rc)
		return 0;
	size_t c0 = isz && nd && ch[0] ? ch[0] : 1,
	       end = good + (*whole - good < c0 ? *whole - good : c0);
	char t[64];
	printf("BAD   %s: %s %s not read: %s\n", sr_cli_name(key),
	       nd ? steps_text(t, sizeof t, good, end - 1) : "the value",
	       end - good > 1 ? "do" : "does", sr_cli_msg(simrec_errmsg(rec)));
	*whole = good;
	return 1;
}

/* Check one dataset and print its lines; 1 if it is not whole. The
 * store's check names every torn step; then the steps before the first
 * one are read, which finds what the check cannot (an HDF5 chunk that is
 * there but does not decode, a store with no check). */
static int verify_key(simrec_t *rec, const char *key, int repair, cutlist *cut,
                      sr_cli_dims *dims)
{
	simrec_dataset_t *ds;
	int rc = simrec_get_all(rec, key, &ds);
	if (rc) {
		printf("BAD   %s: %s\n", sr_cli_name(key),
		       sr_cli_msg(simrec_errmsg(rec)));
		return 1;
	}
	size_t sh[SIMREC_MAX_NDIM];
	int nd = simrec_dataset_ndim(ds);
	simrec_dataset_shape(ds, sh);
	simrec_dtype_t dt = simrec_dataset_dtype(ds);
	sr_cli_verdict v;
	int torn = sr_cli_judge(rec, key, ds, 1, &v);
	if (v.check)
		printf("%s  %s: %s\n", v.check == SR_CLI_TORN ? "TORN" : "BAD ",
		       sr_cli_name(key), sr_cli_msg(v.why));
	size_t rows = v.rows, whole = v.whole;
	torn |= verify_read(rec, ds, key, &whole);
	if (v.joined[0])
		printf("BAD   %s: a joined array whose counts do not hold: "
		       "%s\n",
		       sr_cli_name(key), sr_cli_msg(v.joined));
	if (torn && nd && whole < rows) {
		verify_print_keep(key, whole, rows);
		if (repair)
			verify_note_cut(cut, key, whole);
		verify_joined_cut(rec, key, whole, repair, cut);
	}
	if (!torn) {
		printf("ok    %s: %zu record(s) %s ", sr_cli_name(key), rows,
		       simrec_dtype_name(dt));
		sr_cli_print_shape(stdout, nd, sh);
		putchar('\n');
	}
	sr_cli_dims_note(dims, rec, key, ds,
	                 nd && !sr_cli_is_value(rec, key, nd, sh),
	                 torn && nd && whole < rows ? whole : rows);
	simrec_dataset_close(ds);
	return torn;
}

/* Cut each torn dataset to its last whole step; 1 if a repair failed. */
static int verify_repair(const char *uri, const cutlist *cut)
{
	simrec_t *rec;
	simrec_options_t o;
	simrec_options_init(&o);
	if (!cut->steps || simrec_open(&rec, uri, &o) != 0) {
		printf("FAILED to open %s for repair: %s\n", sr_cli_shown(uri),
		       sr_cli_msg(simrec_errmsg(NULL)));
		return 1;
	}
	int failed = 0;
	/* every torn key gets its try, whatever happened to the others */
	for (size_t i = 0; i < cut->keys.n; i++) {
		int rc = simrec_truncate(rec, cut->keys.v[i], cut->steps[i]);
		if (rc == SIMREC_EKIND) /* a value: no steps to cut back to */
			printf("NOT REPAIRED %s: a value (simrec_set), not "
			       "records, and not whole: nothing was changed; "
			       "set it again or delete it\n",
			       sr_cli_name(cut->keys.v[i]));
		else if (rc)
			printf("FAILED to repair %s: %s\n",
			       sr_cli_name(cut->keys.v[i]),
			       sr_cli_msg(simrec_errmsg(rec)));
		if (rc) {
			failed = 1;
		} else {
			printf("repaired %s: cut to %zu step(s)\n",
			       sr_cli_name(cut->keys.v[i]), cut->steps[i]);
		}
	}
	if (simrec_close(rec)) {
		printf("FAILED to close %s: %s\n", sr_cli_shown(uri),
		       sr_cli_msg(simrec_errmsg(NULL)));
		failed = 1;
	}
	return failed;
}

/* One pass over every dataset, its lines printed; 1 if anything is not
 * whole (or the store cannot be opened or listed), else 0. */
static int verify_pass(const char *uri, int repair, cutlist *cut)
{
	simrec_t *rec = sr_cli_open_ro(uri);
	if (!rec)
		return -1;
	/* sr_cli_collect() fills a keylists: groups too, which verify skips */
	keylists ls = {{0}, {0}};
	int rc = simrec_list(rec, "", sr_cli_collect, &ls);
	int bad = rc != 0;
	if (rc) /* the listing itself failed: say why */
		printf("BAD   (listing): %s\n", sr_cli_msg(simrec_errmsg(rec)));
	sr_cli_dims dims = {0};
	for (size_t i = 0; i < ls.ds.n; i++)
		bad |= verify_key(rec, ls.ds.v[i], repair, cut, &dims);
	bad |= sr_cli_dims_agree(&dims, repair ? verify_dims_cut : NULL, cut);
	sr_strv_free(&ls.ds);
	sr_strv_free(&ls.groups);
	simrec_close(rec);
	return bad;
}

static void free_cut(cutlist *cut)
{
	sr_strv_free(&cut->keys);
	free(cut->steps);
}

/* After the repair: only what a new check finds whole counts as
 * repaired. 0, or 3 with the reason. */
static int verify_recheck(const char *uri, int failed)
{
	printf("%s: checking again after the repair\n", sr_cli_shown(uri));
	cutlist none = {{0}, NULL, 0};
	int still = verify_pass(uri, 0, &none);
	if (failed)
		printf("%s: REPAIR FAILED\n", sr_cli_shown(uri));
	else if (still)
		printf("%s: NOT REPAIRED: the store still has problems (the "
		       "lines above; --repair only cuts torn steps off)\n",
		       sr_cli_shown(uri));
	else
		printf("%s: repaired\n", sr_cli_shown(uri));
	return still || failed ? 3 : 0;
}

int sr_cli_verify(int argc, char **argv)
{
	int repair = argc == 2 && !strcmp(argv[0], "--repair");
	if (argc == 2 && !repair && !strcmp(argv[1], "--repair")) {
		repair = 1;
		argv[1] = argv[0];
	}
	if (argc != 1 + repair)
		return SR_CLI_USAGE;
	argv += repair;
	cutlist cut = {{0}, calloc(1, sizeof *cut.steps), 0};
	int bad = verify_pass(argv[0], repair, &cut);
	if (bad < 0) {
		free_cut(&cut);
		return 1;
	}
	printf("%s: %s\n", sr_cli_shown(argv[0]),
	       bad ? "PROBLEMS FOUND" : "all datasets ok");
	if (!repair || !bad) {
		free_cut(&cut);
		return bad;
	}
	int failed = cut.keys.n ? verify_repair(argv[0], &cut) : 0;
	free_cut(&cut);
	return verify_recheck(argv[0], failed);
}
