/* simrec export SRC DST [KEY...]: copy datasets and attributes chunk by chunk;
 * safe to rerun. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/size.h"
#include "cli.h"

typedef struct copy_attrs {
	simrec_t *src, *dst;
	const char *key;
	int rc;
} copy_attrs;

static int copy_attr(const char *name, void *arg)
{
	copy_attrs *c = arg;
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

/* A set value, not records: the shape of get() equals get_all()'s. */
static int is_set_value(simrec_t *src, const char *key, int nd,
                        const size_t *sh)
{
	simrec_dataset_t *last;
	int is_value = 1;
	if (nd && sh[0] > 0 && !simrec_get(src, key, &last)) {
		is_value = simrec_dataset_ndim(last) == nd;
		simrec_dataset_close(last);
	}
	return is_value;
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

/* Bytes or strings, record by record from those already in dst. */
static int export_vlen_records(simrec_dataset_t *ds, simrec_t *dst,
                               const char *key, simrec_dtype_t dt, size_t rows)
{
	int rc = 0;
	size_t cap = 1 << 16, len;
	char *buf = malloc(cap);
	for (size_t i = dst_rows(dst, key); !rc && buf && i < rows; i++) {
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
	while (per > 1 && per * row > ((size_t)64 << 20))
		per /= 2;
	unsigned char *buf = rc ? NULL : malloc(per * row + 1);
	size_t st[SIMREC_MAX_NDIM] = {0}, ct[SIMREC_MAX_NDIM];
	memcpy(ct, sh, sizeof ct);
	for (size_t r = dst_rows(dst, key); !rc && buf && r < sh[0]; r += per) {
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
	simrec_dataset_t *ds;
	int rc = simrec_get_all(src, key, &ds);
	if (rc)
		return rc;
	int nd = simrec_dataset_ndim(ds);
	size_t sh[SIMREC_MAX_NDIM], ch[SIMREC_MAX_NDIM];
	simrec_dataset_shape(ds, sh);
	simrec_dataset_chunks(ds, ch);
	simrec_dtype_t dt = simrec_dataset_dtype(ds);
	int is_value = is_set_value(src, key, nd, sh);
	size_t isz = simrec_dtype_size(dt);
	size_t whole = 0;
	if (nd && sh[0] && isz &&
	    simrec_dataset_verify(ds, &whole) == SIMREC_EFORMAT) {
		/* chunks missing read as the fill value: copying them would
		 * write data that was never recorded (2^40 steps of it);
		 * the caller prints why */
		simrec_dataset_close(ds);
		return SIMREC_EFORMAT;
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
	return rc ? rc : copy_all_attrs(src, dst, key);
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
	keylists ls = {{0}, {0}};
	keylist l = {0};
	if (argc > 2)
		for (int i = 2; i < argc; i++)
			sr_cli_collect(argv[i], 1, &ls);
	else if ((rc = simrec_list(src, "", sr_cli_collect, &ls)))
		fprintf(stderr, "%s: %s\n", sr_cli_prog,
		        sr_cli_msg(simrec_errmsg(src)));
	l = ls.ds;
	/* root and group attributes too, groups that hold only attributes
	 * included */
	int status = rc || copy_all_attrs(src, dst, "") ? 1 : 0;
	for (size_t i = 0; i < ls.groups.n; i++) {
		status |= copy_all_attrs(src, dst, ls.groups.v[i]) != 0;
		free(ls.groups.v[i]);
	}
	free(ls.groups.v);
	for (size_t i = 0; i < l.n; i++) {
		rc = export_key(src, dst, l.v[i]);
		if (rc) {
			fprintf(stderr, "%s: export of '%s' failed: %s\n",
			        sr_cli_prog, sr_cli_name(l.v[i]),
			        sr_cli_msg(simrec_errmsg(
			                simrec_errmsg(dst)[0] != 'n' ? dst
			                                             : src)));
			status = 1;
		}
		char *slash = strrchr(l.v[i], '/');
		while (slash) { /* the groups above it */
			*slash = 0;
			status |= copy_all_attrs(src, dst, l.v[i]) != 0;
			slash = strrchr(l.v[i], '/');
		}
		free(l.v[i]);
	}
	free(l.v);
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
