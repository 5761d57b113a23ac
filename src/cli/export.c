/* simrec export SRC DST [KEY...]: copy datasets and attributes chunk by chunk;
 * safe to rerun: DST records the source's run id ("simrec_source_run"), a
 * rerun resumes only into an export of the same run and checks that the
 * records it skips equal the source's; anything else is refused. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/size.h"
#include "cli.h"

#define RUN_ATTR    "_simrec_run"
#define SOURCE_ATTR "simrec_source_run"

/* exported records are compared in blocks of at most this many bytes */
#define BLOCK_BYTES ((size_t)64 << 20)

/* export_key's status for a key it refused with its own message */
#define REFUSED 1

/* the source's run id, for the messages of a refused resume */
static char src_run[80];
/* the count keys of joined arrays whose rows were refused: not exported
 * either (counts of rows that DST does not hold), sorted */
static sr_strv orphan_counts;

typedef struct copy_attrs {
	simrec_t *src, *dst;
	const char *key;
	int rc;
} copy_attrs;

static int copy_attr(const char *name, void *arg)
{
	copy_attrs *c = arg;
	/* the library's own (run id, lock token) and the export's mark */
	if (!strncmp(name, "_simrec", 7) ||
	    (!*c->key && !strcmp(name, SOURCE_ATTR)))
		return 0;
	simrec_attr_t a;
	int rg = simrec_attr_get(c->src, c->key, name, &a);
	if (rg) {
		fprintf(stderr, "%s: %s\n", sr_cli_prog,
		        sr_cli_msg(simrec_errmsg(c->src)));
		c->rc = rg;
		return 0;
	}
	int rc = simrec_attr_set(c->dst, c->key, name, &a);
	simrec_attr_clear(&a);
	if (rc) {
		fprintf(stderr, "%s: %s\n", sr_cli_prog,
		        sr_cli_msg(simrec_errmsg(c->dst)));
		c->rc = rc;
		return 1; /* the first failure stops the copy of the key's */
	}
	return 0;
}

/* Copy key's attributes; nonzero (after a message) if listing or a copy
 * failed. */
static int copy_all_attrs(simrec_t *src, simrec_t *dst, const char *key)
{
	copy_attrs c = {src, dst, key, 0};
	int rc = simrec_attr_list(src, key, copy_attr, &c);
	if (rc && !c.rc)
		fprintf(stderr, "%s: %s\n", sr_cli_prog,
		        sr_cli_msg(simrec_errmsg(src)));
	return c.rc ? c.rc : rc;
}

static void progress(const char *key, size_t done, size_t total)
{
	if (!isatty(2) || !total)
		return;
	int w = 30, f = (int)((double)w * (double)done / (double)total);
	fprintf(stderr, "\r%-40.40s [%.*s%*s] %zu/%zu", sr_cli_name(key), f,
	        "##############################", w - f, "", done, total);
	if (done == total)
		fputc('\n', stderr);
}

/* Already in dst: the number of records (rerunning resumes). */
static size_t dst_rows(simrec_t *dst, const char *key)
{
	simrec_dataset_t *ds;
	if (simrec_get_all(dst, key, &ds))
		return 0;
	size_t sh[SIMREC_MAX_NDIM];
	simrec_dataset_shape(ds, sh);
	size_t n = simrec_dataset_ndim(ds) ? sh[0] : 0;
	simrec_dataset_close(ds);
	return n;
}

static int fail_size(const char *key)
{
	fprintf(stderr, "%s: '%s': its shape overflows\n", sr_cli_prog,
	        sr_cli_name(key));
	return SIMREC_EFORMAT;
}

/* A set value of fixed-size elements: read whole, set whole. */
static int export_value(simrec_dataset_t *ds, simrec_t *dst, const char *key,
                        simrec_dtype_t dt, int nd, const size_t *sh)
{
	int rc = 0;
	size_t n = simrec_dataset_size(ds), nb = 0;
	if (sr_size_mul(n, simrec_dtype_size(dt), &nb))
		rc = fail_size(key);
	void *buf = rc ? NULL : malloc(nb + 1);
	if (!rc)
		rc = buf ? simrec_dataset_read(ds, NULL, NULL, buf, nb)
		         : SIMREC_ENOMEM;
	if (!rc)
		rc = simrec_set(dst, key, dt, nd, sh, buf);
	free(buf);
	progress(key, 1, 1);
	return rc;
}

static int differs(const char *key, size_t rec, size_t have, size_t total)
{
	if (rec < have)
		fprintf(stderr,
		        "%s: '%s': record %zu in the destination differs from "
		        "record %zu of run %s: the destination was changed "
		        "since it was exported, refusing to resume\n",
		        sr_cli_prog, sr_cli_name(key), rec, rec,
		        sr_cli_msg(src_run));
	else
		fprintf(stderr,
		        "%s: '%s': the destination holds %zu records, run %s "
		        "only %zu: refusing to resume\n",
		        sr_cli_prog, sr_cli_name(key), have,
		        sr_cli_msg(src_run), total);
	return SIMREC_EFORMAT;
}

/* One byte string or text: *buf (of *cap bytes) grows to hold it. */
static int read_item(simrec_dataset_t *ds, size_t i, char **buf, size_t *cap,
                     size_t *len)
{
	int rc = simrec_dataset_read_bytes(ds, i, *buf, *cap, len);
	if (rc == SIMREC_ETRUNC) {
		char *nb = realloc(*buf, *len + 1);
		if (!nb)
			return SIMREC_ENOMEM;
		*buf = nb;
		*cap = *len + 1;
		rc = simrec_dataset_read_bytes(ds, i, *buf, *cap, len);
	}
	return rc;
}

/* The byte strings a resumed export skips equal the source's. */
static int check_skipped_vlen(simrec_dataset_t *ds, simrec_t *dst,
                              const char *key, size_t have, size_t rows)
{
	if (have > rows)
		return differs(key, have, have, rows);
	simrec_dataset_t *dd;
	int rc = have ? simrec_get_all(dst, key, &dd) : 0;
	size_t ca = 256, cb = 256, la, lb;
	char *a = malloc(ca), *b = malloc(cb);
	rc = rc ? rc : !a || !b ? SIMREC_ENOMEM : 0;
	for (size_t i = 0; !rc && i < have; i++) {
		rc = read_item(ds, i, &a, &ca, &la);
		if (!rc)
			rc = read_item(dd, i, &b, &cb, &lb);
		if (!rc && (la != lb || memcmp(a, b, la)))
			rc = differs(key, i, have, rows);
	}
	free(a);
	free(b);
	if (have)
		simrec_dataset_close(dd);
	return rc;
}

/* Bytes or strings, record by record from those already in dst. */
static int export_vlen_records(simrec_dataset_t *ds, simrec_t *dst,
                               const char *key, simrec_dtype_t dt, size_t rows)
{
	int rc = 0;
	size_t cap = 1 << 16, len;
	char *buf = malloc(cap);
	size_t have = dst_rows(dst, key);
	rc = check_skipped_vlen(ds, dst, key, have, rows);
	for (size_t i = have; !rc && buf && i < rows; i++) {
		rc = simrec_dataset_read_bytes(ds, i, buf, cap, &len);
		if (rc == SIMREC_ETRUNC) {
			char *nb = realloc(buf, cap = len + 1);
			if (!nb)
				break;
			buf = nb;
			rc = simrec_dataset_read_bytes(ds, i, buf, cap, &len);
		}
		if (!rc)
			rc = simrec_record_bytes(dst, key, dt, buf, len);
		progress(key, i + 1, rows);
	}
	free(buf);
	return rc;
}

/* The records a resumed export skips equal the source's: compared a
 * block of per rows (row bytes each, buf holding 2 blocks) at a time. */
static int check_skipped(simrec_dataset_t *ds, simrec_t *dst, const char *key,
                         int nd, const size_t *sh, size_t have, size_t row,
                         size_t per, unsigned char *buf)
{
	if (have > sh[0])
		return differs(key, have, have, sh[0]);
	simrec_dataset_t *dd;
	int rc = have ? simrec_get_all(dst, key, &dd) : 0;
	size_t st[SIMREC_MAX_NDIM] = {0}, ct[SIMREC_MAX_NDIM];
	memcpy(ct, sh, (size_t)nd * sizeof *ct);
	for (size_t r = 0; !rc && r < have; r += per) {
		st[0] = r;
		ct[0] = have - r < per ? have - r : per;
		rc = simrec_dataset_read(ds, st, ct, buf, ct[0] * row);
		if (!rc)
			rc = simrec_dataset_read(dd, st, ct, buf + per * row,
			                         ct[0] * row);
		for (size_t k = 0; !rc && k < ct[0]; k++)
			if (memcmp(buf + k * row, buf + (per + k) * row, row))
				rc = differs(key, r + k, have, sh[0]);
	}
	if (have)
		simrec_dataset_close(dd);
	return rc;
}

/* Records of fixed-size elements: a block of whole chunk rows at a time,
 * so that memory stays bounded. */
static int export_records(simrec_dataset_t *ds, simrec_t *dst, const char *key,
                          simrec_dtype_t dt, int nd, const size_t *sh,
                          const size_t *ch)
{
	int rc = 0;
	size_t row = 0, per = ch[0] ? ch[0] : 1;
	if (sr_size_prod(nd - 1, sh + 1, simrec_dtype_size(dt), &row) ||
	    sr_size_mul(per, row, &(size_t){0})) {
		rc = fail_size(key);
		row = per = 0;
	}
	while (per > 1 && per * row > BLOCK_BYTES / 2)
		per /= 2;
	unsigned char *buf = rc ? NULL : malloc(2 * per * row + 1);
	size_t st[SIMREC_MAX_NDIM] = {0}, ct[SIMREC_MAX_NDIM];
	memcpy(ct, sh, sizeof ct);
	size_t have = dst_rows(dst, key);
	if (buf)
		rc = check_skipped(ds, dst, key, nd, sh, have, row, per, buf);
	for (size_t r = have; !rc && buf && r < sh[0]; r += per) {
		st[0] = r;
		ct[0] = sh[0] - r < per ? sh[0] - r : per;
		rc = simrec_dataset_read(ds, st, ct, buf, ct[0] * row);
		for (size_t k = 0; !rc && k < ct[0]; k++)
			rc = simrec_record(dst, key, dt, nd - 1, sh + 1,
			                   buf + k * row);
		progress(key, r + ct[0], sh[0]);
	}
	if (!buf && !rc)
		rc = SIMREC_ENOMEM;
	free(buf);
	return rc;
}

static int export_key(simrec_t *src, simrec_t *dst, const char *key)
{
	if (sr_strv_find(&orphan_counts, key)) {
		fprintf(stderr,
		        "%s: export of '%s' refused: the counts of a joined "
		        "array whose rows were refused\n",
		        sr_cli_prog, sr_cli_name(key));
		return REFUSED;
	}
	simrec_dataset_t *ds;
	int rc = simrec_get_all(src, key, &ds);
	if (rc)
		return rc;
	int nd = simrec_dataset_ndim(ds);
	size_t sh[SIMREC_MAX_NDIM], ch[SIMREC_MAX_NDIM];
	simrec_dataset_shape(ds, sh);
	simrec_dataset_chunks(ds, ch);
	simrec_dtype_t dt = simrec_dataset_dtype(ds);
	int is_value = sr_cli_is_value(src, key, nd, sh);
	size_t isz = simrec_dtype_size(dt);
	sr_cli_verdict v;
	if (sr_cli_judge(src, key, ds, 0, &v)) {
		/* what verify calls TORN or BAD is not copied: chunks missing
		 * read as the fill value (2^40 steps of it), counts that do
		 * not hold make rows no reader can split. Chunks are decoded
		 * once, by the copy's reads (one that does not decode fails
		 * its read) */
		simrec_dataset_close(ds);
		sr_cli_refused(key, &v);
		simrec_attr_t a;
		char ckey[4200];
		if (!simrec_attr_get(src, key, "_simrec_joined_count", &a)) {
			simrec_attr_clear(&a); /* KEY_count, as judge.c reads */
			snprintf(ckey, sizeof ckey, "%s_count", key);
			if (!sr_strv_add(&orphan_counts, ckey))
				sr_strv_sort(&orphan_counts);
		}
		return REFUSED;
	}
	if (nd && !sh[0]) {
		/* no records: the empty dataset, of its dtype and record
		 * shape, with dst's chunking (as the records would have) */
		rc = simrec_define(dst, key, dt, nd - 1, sh + 1);
		progress(key, 1, 1);
	} else if (is_value && isz) {
		rc = export_value(ds, dst, key, dt, nd, sh);
	} else if (!isz) {
		rc = export_vlen_records(ds, dst, key, dt, sh[0]);
	} else {
		rc = export_records(ds, dst, key, dt, nd, sh, ch);
	}
	simrec_dataset_close(ds);
	if (!rc)
		return copy_all_attrs(src, dst, key);
	/* a copy stopped by a chunk that does not decode keeps its whole
	 * records before it, and its attributes too: its dimension names,
	 * so that verify of DST says the group's lengths disagree (DIMS)
	 * instead of taking it for an array of its own */
	simrec_dataset_t *part;
	if (!simrec_get_all(dst, key, &part)) {
		simrec_dataset_close(part);
		copy_all_attrs(src, dst, key);
	}
	return rc;
}

/* A run id attribute of the root as text ("none" if absent). */
static void run_of(simrec_t *r, const char *name, char *out, size_t cap)
{
	simrec_attr_t a;
	snprintf(out, cap, "none");
	if (simrec_attr_get(r, "", name, &a))
		return;
	if (a.type == SIMREC_ATTR_STRING && a.s)
		snprintf(out, cap, "%s", a.s);
	simrec_attr_clear(&a);
}

static int any_key(const char *key, int is_dataset, void *arg)
{
	(void)key;
	*(int *)arg |= is_dataset;
	return 0;
}

/* DST is an export of SRC's run (resume), or holds no dataset (a new
 * export: the mark is set now); anything else is refused naming both. */
static int check_identity(simrec_t *src, simrec_t *dst, const char *sname,
                          const char *dname)
{
	char srun[80], dsrc[80], drun[80];
	run_of(src, RUN_ATTR, srun, sizeof srun);
	snprintf(src_run, sizeof src_run, "%s", srun);
	run_of(dst, SOURCE_ATTR, dsrc, sizeof dsrc);
	run_of(dst, RUN_ATTR, drun, sizeof drun);
	int has = 0;
	if (!strcmp(dsrc, "none"))
		simrec_list(dst, "", any_key, &has);
	if (strcmp(dsrc, "none") ? !strcmp(dsrc, srun) : !has) {
		simrec_attr_t a = {.type = SIMREC_ATTR_STRING, .s = srun};
		return simrec_attr_set(dst, "", SOURCE_ATTR, &a);
	}
	fprintf(stderr,
	        "%s: refusing to export run %s ('%s') into '%s', which holds "
	        "%s %s: the two runs would mix (export into a new store)\n",
	        sr_cli_prog, sr_cli_msg(srun), sr_cli_shown(sname),
	        sr_cli_shown(dname),
	        strcmp(dsrc, "none") ? "an export of run" : "run",
	        sr_cli_msg(strcmp(dsrc, "none") ? dsrc : drun));
	return SIMREC_EINVAL;
}

/* Add the groups above key to groups (copy_groups drops the repeats). */
static void add_parents(const char *key, sr_strv *groups)
{
	char g[4096];
	snprintf(g, sizeof g, "%s", key);
	for (char *slash = strrchr(g, '/'); slash; slash = strrchr(g, '/')) {
		*slash = 0;
		(void)sr_strv_add(groups, g);
	}
}

/* The root's attributes and each group's once, in key order (freeing the
 * list); 1 if a copy failed (its message printed once). */
static int copy_groups(simrec_t *src, simrec_t *dst, sr_strv *groups)
{
	int status = copy_all_attrs(src, dst, "") != 0;
	sr_strv_uniq(groups);
	for (size_t i = 0; i < groups->n; i++)
		status |= copy_all_attrs(src, dst, groups->v[i]) != 0;
	sr_strv_free(groups);
	return status;
}

int sr_cli_export(int argc, char **argv)
{
	if (argc < 2)
		return SR_CLI_USAGE;
	simrec_t *src = sr_cli_open_ro(argv[0]), *dst;
	if (!src)
		return 1;
	int rc = simrec_open(&dst, argv[1], NULL);
	if (rc) {
		fprintf(stderr, "%s: cannot open destination '%s': %s (%s)\n",
		        sr_cli_prog, sr_cli_shown(argv[1]),
		        sr_cli_msg(simrec_errmsg(NULL)), simrec_err_name(rc));
		simrec_close(src);
		return 1;
	}
	if (check_identity(src, dst, argv[0], argv[1])) {
		simrec_close(dst);
		simrec_close(src);
		return 1;
	}
	keylists ls = {{0}, {0}};
	sr_strv l = {0};
	if (argc > 2)
		for (int i = 2; i < argc; i++)
			sr_cli_collect(argv[i], 1, &ls);
	else if ((rc = simrec_list(src, "", sr_cli_collect, &ls)))
		fprintf(stderr, "%s: %s\n", sr_cli_prog,
		        sr_cli_msg(simrec_errmsg(src)));
	l = ls.ds;
	int status = rc ? 1 : 0;
	for (size_t i = 0; i < l.n; i++) {
		rc = export_key(src, dst, l.v[i]);
		if (rc && rc != REFUSED)
			fprintf(stderr, "%s: export of '%s' failed: %s\n",
			        sr_cli_prog, sr_cli_name(l.v[i]),
			        sr_cli_msg(simrec_errmsg(
			                simrec_errmsg(dst)[0] != 'n' ? dst
			                                             : src)));
		status |= rc != 0;
		if (rc != SIMREC_ENOKEY) /* the groups above it */
			add_parents(l.v[i], &ls.groups);
		free(l.v[i]);
	}
	free(l.v);
	sr_strv_free(&orphan_counts);
	/* root and group attributes, each group once (groups that hold
	 * only attributes included) */
	status |= copy_groups(src, dst, &ls.groups);
	if (simrec_close(dst)) {
		fprintf(stderr, "%s: closing '%s' failed\n", sr_cli_prog,
		        sr_cli_shown(argv[1]));
		status = 1;
	}
	simrec_close(src);
	if (!status)
		printf("exported %zu dataset(s) from %s to %s\n", l.n,
		       sr_cli_shown(argv[0]), sr_cli_shown(argv[1]));
	return status;
}
