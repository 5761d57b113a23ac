/* simrec - the command line for post-run (and live) readers.
 *   simrec ls STORE [PREFIX]
 *   simrec info STORE KEY
 *   simrec cat STORE KEY [SLICE] [--csv] [--max N]
 *   simrec export SRC DST [KEY...]
 *   simrec verify STORE
 *   simrec lock status|break [--force] LOCK_URI RESOURCE
 * Stores are the library's URIs; never needs mpirun. See docs/cli.md and,
 * for what may be replaced, written or printed, docs/safety.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/escape.h"
#include "../common/size.h"
#include "cli.h"
#include "simrec.h"

static const char *prog = "simrec";

static int usage_of(const char *cmd)
{
	static const struct {
		const char *cmd, *text;
	} u[] = {
	        {"ls", "simrec ls STORE [PREFIX]\n  List groups and datasets "
	               "(dtype, shape) below PREFIX.\n"},
	        {"info",
	         "simrec info STORE KEY\n  Dtype, shape, chunks, "
	         "records, compressor, stored size and ratio, attributes.\n"},
	        {"cat",
	         "simrec cat STORE KEY [SLICE] [--csv] [--max N]\n  Print "
	         "values. SLICE is numpy-like: '0:10,3,:' or '-1' (the last "
	         "record).\n  Refuses more than N elements (default 10000) "
	         "unless --max is raised.\n"},
	        {"export",
	         "simrec export SRC DST [KEY...]\n  Copy datasets and "
	         "attributes (all, or KEYs) chunk by chunk. Safe to rerun:\n"
	         "  records already in DST are skipped. A progress bar "
	         "on a terminal.\n"},
	        {"verify",
	         "simrec verify [--repair] STORE\n  Decode every chunk of "
	         "every dataset and check that every chunk inside its shape "
	         "was written (a crash, a full disk); list the steps that are "
	         "not whole and why, and what --repair keeps. Exit 1 if "
	         "anything is not whole. --repair cuts each such dataset "
	         "before its first torn step (records stay contiguous; exit "
	         "0 when repaired, 3 if a repair failed).\n"},
	        {"lock",
	         "simrec lock status LOCK_URI RESOURCE\nsimrec lock break "
	         "[--force] LOCK_URI RESOURCE\n  Show or forcibly clear a "
	         "readers-writer lock (asks on a terminal; --force "
	         "otherwise).\n"},
	};
	for (size_t i = 0; i < sizeof u / sizeof *u; i++)
		if (!cmd || !strcmp(cmd, u[i].cmd))
			fputs(u[i].text, stderr);
	return 2;
}

/* A URI as printed: passwords replaced by "***" (docs/safety.md). Four
 * rotating buffers, so that one printf may show several. */
static const char *shown(const char *uri)
{
	static char buf[4][1024];
	static int next;
	char *b = buf[next++ % 4];
	return simrec_uri_masked(uri, b, sizeof buf[0]);
}

/* Every reader opens read-only: a ?mode= in the URI or SIMREC_STORE in
 * the environment cannot turn it into a writer (docs/safety.md). */
static simrec_t *open_ro(const char *uri)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	int rc = simrec_open(&rec, uri, &o);
	if (rc) {
		fprintf(stderr, "%s: cannot open store '%s': %s (%s)\n", prog,
		        shown(uri), sr_cli_msg(simrec_errmsg(NULL)),
		        simrec_err_name(rc));
		return NULL;
	}
	return rec;
}

static void print_shape(FILE *f, int nd, const size_t *sh)
{
	fputc('(', f);
	for (int i = 0; i < nd; i++)
		fprintf(f, "%s%zu", i ? ", " : "", sh[i]);
	fputs(nd == 1 ? ",)" : ")", f);
}

/* ---- ls ---------------------------------------------------------------- */

static int ls_cb(const char *key, int is_ds, void *arg)
{
	simrec_t *rec = arg;
	int depth = 0;
	for (const char *p = key; *p; p++)
		depth += *p == '/';
	const char *leaf = strrchr(key, '/');
	printf("%*s%s%s", depth * 2, "", sr_cli_name(leaf ? leaf + 1 : key),
	       is_ds ? "" : "/");
	if (is_ds) {
		simrec_dataset_t *ds;
		if (!simrec_get_all(rec, key, &ds)) {
			size_t sh[SIMREC_MAX_NDIM];
			simrec_dataset_shape(ds, sh);
			printf("  %s ",
			       simrec_dtype_name(simrec_dataset_dtype(ds)));
			print_shape(stdout, simrec_dataset_ndim(ds), sh);
			simrec_dataset_close(ds);
		} else {
			printf("  (unreadable: %s)",
			       sr_cli_msg(simrec_errmsg(rec)));
		}
	}
	putchar('\n');
	return 0;
}

static int cmd_ls(int argc, char **argv)
{
	if (argc < 1 || argc > 2)
		return usage_of("ls");
	simrec_t *rec = open_ro(argv[0]);
	if (!rec)
		return 1;
	int rc = simrec_list(rec, argc > 1 ? argv[1] : "", ls_cb, rec);
	if (rc)
		fprintf(stderr, "%s: %s\n", prog,
		        sr_cli_msg(simrec_errmsg(rec)));
	simrec_close(rec);
	return rc ? 1 : 0;
}

/* ---- info -------------------------------------------------------------- */

static void print_value(simrec_dtype_t dt, const unsigned char *p);

/* Text from the store with newlines, control bytes and invalid UTF-8
 * escaped (common/escape.h, as every name the tool prints), so that one
 * value stays on one line and sends nothing to the terminal. */
static void print_escaped(FILE *f, const char *s, size_t n)
{
	char *e = malloc(SR_ESC_MAX * n + 1);
	if (!e)
		return;
	sr_escape(e, SR_ESC_MAX * n + 1, s, n, SR_ESC_BACKSLASH);
	fputs(e, f);
	free(e);
}

static void print_attr_value(const simrec_attr_t *v)
{
	switch (v->type) {
	case SIMREC_ATTR_STRING:
		putchar('"');
		print_escaped(stdout, v->s, strlen(v->s));
		putchar('"');
		break;
	case SIMREC_ATTR_INT:
		printf("%lld", (long long)v->i);
		break;
	case SIMREC_ATTR_UINT:
		printf("%llu", (unsigned long long)v->u);
		break;
	case SIMREC_ATTR_BOOL:
		printf("%s", v->i ? "true" : "false");
		break;
	case SIMREC_ATTR_EMPTY:
		printf("empty (%s)", simrec_dtype_name(v->dtype));
		break;
	case SIMREC_ATTR_ARRAY: {
		size_t isz = simrec_dtype_size(v->dtype);
		putchar('[');
		for (size_t k = 0; k < v->count; k++) {
			if (k)
				fputs(", ", stdout);
			print_value(v->dtype,
			            (const unsigned char *)v->data + k * isz);
		}
		printf("] (%s)", simrec_dtype_name(v->dtype));
		break;
	}
	default:
		printf("%.17g", v->d);
	}
}

typedef struct attr_ctx {
	simrec_t *rec;
	const char *key;
	int failed;
} attr_ctx;

static int attr_cb(const char *name, void *arg)
{
	attr_ctx *a = arg;
	simrec_attr_t v;
	printf("  %s = ", sr_cli_name(name));
	if (simrec_attr_get(a->rec, a->key, name, &v)) {
		printf("(unreadable)\n");
		fprintf(stderr, "%s: %s\n", prog,
		        sr_cli_msg(simrec_errmsg(a->rec)));
		a->failed = 1;
		return 0;
	}
	print_attr_value(&v);
	putchar('\n');
	simrec_attr_clear(&v);
	return 0;
}

/* A group or the root: its attributes. */
static int info_group(simrec_t *rec, const char *key)
{
	printf("key:     %s\nkind:    group\nattributes:\n",
	       sr_cli_name(*key ? key : "/"));
	attr_ctx a = {rec, key, 0};
	int rc = simrec_attr_list(rec, key, attr_cb, &a);
	if (rc)
		fprintf(stderr, "%s: %s\n", prog,
		        sr_cli_msg(simrec_errmsg(rec)));
	simrec_close(rec);
	return rc || a.failed ? 1 : 0;
}

static int cmd_info(int argc, char **argv)
{
	if (argc != 2)
		return usage_of("info");
	simrec_t *rec = open_ro(argv[0]);
	if (!rec)
		return 1;
	simrec_dataset_t *ds;
	int rc = !*argv[1] || !strcmp(argv[1], "/")
	                 ? SIMREC_EKIND
	                 : simrec_get_all(rec, argv[1], &ds);
	if (rc == SIMREC_EKIND)
		return info_group(rec, strcmp(argv[1], "/") ? argv[1] : "");
	if (rc) {
		fprintf(stderr, "%s: %s\n", prog,
		        sr_cli_msg(simrec_errmsg(rec)));
		simrec_close(rec);
		return 1;
	}
	size_t sh[SIMREC_MAX_NDIM], ch[SIMREC_MAX_NDIM];
	int nd = simrec_dataset_ndim(ds);
	simrec_dtype_t dt = simrec_dataset_dtype(ds);
	simrec_dataset_shape(ds, sh);
	simrec_dataset_chunks(ds, ch);
	printf("key:     %s\ndtype:   %s\nshape:   ", sr_cli_name(argv[1]),
	       simrec_dtype_name(dt));
	print_shape(stdout, nd, sh);
	printf("\nchunks:  ");
	print_shape(stdout, nd, ch);
	printf("\nrecords: %zu\n", nd ? sh[0] : 1);
	char *desc = NULL;
	if (!simrec_dataset_describe(ds, &desc) && desc) {
		printf("storage: %s\n", sr_cli_name(desc));
		const char *sb = strstr(desc, "\"stored_bytes\"");
		size_t raw = 0;
		if (sr_size_mul(simrec_dataset_size(ds), simrec_dtype_size(dt),
		                &raw))
			raw = 0;
		if (sb && raw) {
			sb = strchr(sb, ':');
			double stored = sb ? atof(sb + 1) : 0;
			if (stored > 0)
				printf("ratio:   %.2f (raw %zu bytes)\n",
				       (double)raw / stored, raw);
		}
		free(desc);
	}
	long long disk = simrec_disk_bytes(rec);
	if (disk >= 0)
		printf("store on disk: %lld bytes\n", disk);
	printf("attributes:\n");
	attr_ctx a = {rec, argv[1], 0};
	simrec_attr_list(rec, argv[1], attr_cb, &a);
	simrec_dataset_close(ds);
	simrec_close(rec);
	return a.failed;
}

/* ---- cat --------------------------------------------------------------- */

/* Parse "a:b,c,:" into start/count; a plain index drops the dimension. */
static int parse_slice(const char *s, int nd, const size_t *sh, size_t *st,
                       size_t *ct, int *keep)
{
	for (int i = 0; i < nd; i++) {
		st[i] = 0;
		ct[i] = sh[i];
		keep[i] = 1;
	}
	int d = 0;
	while (s && *s) {
		if (d >= nd)
			return -1;
		const char *comma = strchr(s, ',');
		char part[64];
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		if (n >= sizeof part)
			return -1;
		memcpy(part, s, n);
		part[n] = 0;
		char *colon = strchr(part, ':');
		long long len = (long long)sh[d];
		if (colon) {
			*colon = 0;
			char *e1, *e2;
			long long a = *part ? strtoll(part, &e1, 10) : 0,
			          b = colon[1] ? strtoll(colon + 1, &e2, 10)
			                       : len;
			if ((*part && *e1) || (colon[1] && *e2))
				return -1;
			a = a < 0 ? a + len : a;
			b = b < 0 ? b + len : b;
			b = b > len ? len : b;
			if (a < 0 || a > b)
				return -1;
			st[d] = (size_t)a;
			ct[d] = (size_t)(b - a);
		} else {
			char *e;
			long long a = strtoll(part, &e, 10);
			if (!*part || *e)
				return -1;
			a = a < 0 ? a + len : a;
			if (a < 0 || a >= len)
				return -1;
			st[d] = (size_t)a;
			ct[d] = 1;
			keep[d] = 0;
		}
		d++;
		s = comma ? comma + 1 : NULL;
	}
	return 0;
}

static void print_value(simrec_dtype_t dt, const unsigned char *p)
{
	switch (dt) {
	case SIMREC_INT8:
		printf("%d", *(const int8_t *)p);
		break;
	case SIMREC_INT16:
		printf("%d", *(const int16_t *)p);
		break;
	case SIMREC_INT32:
		printf("%d", *(const int32_t *)p);
		break;
	case SIMREC_INT64:
		printf("%lld", (long long)*(const int64_t *)p);
		break;
	case SIMREC_UINT8:
		printf("%u", *p);
		break;
	case SIMREC_UINT16:
		printf("%u", *(const uint16_t *)p);
		break;
	case SIMREC_UINT32:
		printf("%u", *(const uint32_t *)p);
		break;
	case SIMREC_UINT64:
		printf("%llu", (unsigned long long)*(const uint64_t *)p);
		break;
	case SIMREC_FLOAT32:
		printf("%.9g", (double)*(const float *)p);
		break;
	case SIMREC_FLOAT64:
		printf("%.17g", *(const double *)p);
		break;
	case SIMREC_BOOL:
		printf("%s", *p ? "true" : "false");
		break;
	default:
		break;
	}
}

typedef struct cat_opts {
	int csv;
	size_t max;
	const char *slice;
	char *pos[2]; /* store, key */
} cat_opts;

/* cat's arguments: STORE KEY [SLICE] [--csv] [--max N]; 0, else the usage
 * status. */
static int cat_args(int argc, char **argv, cat_opts *o)
{
	int np = 0;
	o->csv = 0;
	o->max = 10000;
	o->slice = NULL;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--csv"))
			o->csv = 1;
		else if (!strcmp(argv[i], "--max") && i + 1 < argc)
			o->max = strtoull(argv[++i], NULL, 10);
		else if (np < 2)
			o->pos[np++] = argv[i];
		else if (!o->slice)
			o->slice = argv[i];
		else
			return usage_of("cat");
	}
	if (np != 2)
		return usage_of("cat");
	return 0;
}

/* The selection (start st, count ct) of the slice, and its number of
 * elements n; 0, else the command's exit status after a message. */
static int cat_selection(const cat_opts *o, int nd, const size_t *sh,
                         simrec_dtype_t dt, size_t *st, size_t *ct, size_t *n)
{
	int keep[SIMREC_MAX_NDIM];
	if (parse_slice(o->slice, nd, sh, st, ct, keep)) {
		fprintf(stderr, "%s: bad slice '%s' for shape ", prog,
		        sr_cli_name(o->slice));
		print_shape(stderr, nd, sh);
		fputc('\n', stderr);
		return 2;
	}
	*n = 1;
	if (sr_size_prod(nd, ct, 1, n) ||
	    sr_size_mul(*n, simrec_dtype_size(dt) + 1, &(size_t){0})) {
		fprintf(stderr, "%s: the selection of '%s' is too large\n",
		        prog, sr_cli_name(o->pos[1]));
		return 1;
	}
	if (*n > o->max) {
		fprintf(stderr,
		        "%s: the selection has %zu elements; give a slice or "
		        "--max %zu\n",
		        prog, *n, *n);
		return 2;
	}
	return 0;
}

/* Bytes and strings: records first .. first+count-1, one per line. */
static int cat_records(simrec_dataset_t *ds, simrec_dtype_t dt, size_t first,
                       size_t count)
{
	int rc = 0;
	for (size_t i = first; i < first + count; i++) {
		size_t len;
		char buf[65536];
		rc = simrec_dataset_read_bytes(ds, i, buf, sizeof buf - 1,
		                               &len);
		if (rc && rc != SIMREC_ETRUNC)
			break;
		rc = 0;
		if (dt == SIMREC_STRING) {
			/* one record per line: newlines and control bytes
			 * escaped */
			print_escaped(stdout, buf,
			              len < sizeof buf - 1 ? len
			                                   : sizeof buf - 1);
			putchar('\n');
		} else {
			for (size_t k = 0; k < len && k < sizeof buf; k++)
				printf("%02x", (unsigned char)buf[k]);
			putchar('\n');
		}
	}
	return rc;
}

/* Fixed-size elements: the selection's n elements, the last dimension's
 * elements per line. */
static int cat_numbers(simrec_dataset_t *ds, simrec_dtype_t dt, int nd,
                       const size_t *st, const size_t *ct, size_t n, int csv)
{
	size_t isz = simrec_dtype_size(dt);
	unsigned char *buf = malloc(n * isz + 1);
	int rc = buf ? simrec_dataset_read(ds, st, ct, buf, n * isz)
	             : SIMREC_ENOMEM;
	/* rows: the last kept dimension's elements per line */
	size_t row = nd ? ct[nd - 1] : 1;
	for (size_t i = 0; !rc && i < n; i++) {
		if (i % row)
			fputs(csv ? "," : " ", stdout);
		print_value(dt, buf + i * isz);
		if ((i + 1) % row == 0)
			putchar('\n');
	}
	free(buf);
	return rc;
}

static int cmd_cat(int argc, char **argv)
{
	cat_opts o;
	int status = cat_args(argc, argv, &o);
	if (status)
		return status;
	simrec_t *rec = open_ro(o.pos[0]);
	if (!rec)
		return 1;
	simrec_dataset_t *ds;
	int rc = simrec_get_all(rec, o.pos[1], &ds);
	if (rc) {
		fprintf(stderr, "%s: %s\n", prog,
		        sr_cli_msg(simrec_errmsg(rec)));
		simrec_close(rec);
		return 1;
	}
	int nd = simrec_dataset_ndim(ds);
	size_t sh[SIMREC_MAX_NDIM], st[SIMREC_MAX_NDIM], ct[SIMREC_MAX_NDIM];
	simrec_dataset_shape(ds, sh);
	simrec_dtype_t dt = simrec_dataset_dtype(ds);
	size_t n = 1;
	status = cat_selection(&o, nd, sh, dt, st, ct, &n);
	if (!status) {
		if (dt == SIMREC_BYTES || dt == SIMREC_STRING)
			rc = cat_records(ds, dt, st[0], ct[0]);
		else
			rc = cat_numbers(ds, dt, nd, st, ct, n, o.csv);
		if (rc) {
			fprintf(stderr, "%s: %s\n", prog,
			        sr_cli_msg(simrec_errmsg(rec)));
			status = 1;
		}
	}
	simrec_dataset_close(ds);
	simrec_close(rec);
	return status;
}

/* ---- export ------------------------------------------------------------ */

typedef struct keylist {
	char **v;
	size_t n, cap;
} keylist;

static int collect_one(const char *key, keylist *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		if (!l->v)
			return SIMREC_ENOMEM;
	}
	l->v[l->n++] = strdup(key);
	return 0;
}

typedef struct keylists {
	keylist ds, groups;
} keylists;

static int collect(const char *key, int is_ds, void *arg)
{
	keylists *l = arg;
	return collect_one(key, is_ds ? &l->ds : &l->groups);
}

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
		fprintf(stderr, "%s: %s\n", prog,
		        sr_cli_msg(simrec_errmsg(c->src)));
		c->rc = rg;
		return 0;
	}
	int rc = simrec_attr_set(c->dst, c->key, name, &a);
	simrec_attr_clear(&a);
	if (rc)
		c->rc = rc;
	return 0;
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
	fprintf(stderr, "%s: '%s': its shape overflows\n", prog,
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
	if (!rc) {
		copy_attrs c = {src, dst, key, 0};
		simrec_attr_list(src, key, copy_attr, &c);
		rc = c.rc;
	}
	return rc;
}

static int cmd_export(int argc, char **argv)
{
	if (argc < 2)
		return usage_of("export");
	simrec_t *src = open_ro(argv[0]), *dst;
	if (!src)
		return 1;
	int rc = simrec_open(&dst, argv[1], NULL);
	if (rc) {
		fprintf(stderr, "%s: cannot open destination '%s': %s\n", prog,
		        shown(argv[1]), simrec_strerror(rc));
		simrec_close(src);
		return 1;
	}
	keylists ls = {{0}, {0}};
	keylist l = {0};
	if (argc > 2)
		for (int i = 2; i < argc; i++)
			collect(argv[i], 1, &ls);
	else if ((rc = simrec_list(src, "", collect, &ls)))
		fprintf(stderr, "%s: %s\n", prog,
		        sr_cli_msg(simrec_errmsg(src)));
	l = ls.ds;
	/* root and group attributes too, groups that hold only attributes
	 * included */
	copy_attrs c = {src, dst, "", 0};
	simrec_attr_list(src, "", copy_attr, &c);
	int status = rc || c.rc ? 1 : 0;
	for (size_t i = 0; i < ls.groups.n; i++) {
		copy_attrs g = {src, dst, ls.groups.v[i], 0};
		simrec_attr_list(src, ls.groups.v[i], copy_attr, &g);
		status |= g.rc != 0;
		free(ls.groups.v[i]);
	}
	free(ls.groups.v);
	for (size_t i = 0; i < l.n; i++) {
		rc = export_key(src, dst, l.v[i]);
		if (rc) {
			fprintf(stderr, "%s: export of '%s' failed: %s\n", prog,
			        sr_cli_name(l.v[i]),
			        sr_cli_msg(simrec_errmsg(
			                simrec_errmsg(dst)[0] != 'n' ? dst
			                                             : src)));
			status = 1;
		}
		char *slash = strrchr(l.v[i], '/');
		while (slash) { /* the groups above it */
			*slash = 0;
			copy_attrs g = {src, dst, l.v[i], 0};
			simrec_attr_list(src, l.v[i], copy_attr, &g);
			slash = strrchr(l.v[i], '/');
		}
		free(l.v[i]);
	}
	free(l.v);
	if (simrec_close(dst)) {
		fprintf(stderr, "%s: closing '%s' failed\n", prog,
		        shown(argv[1]));
		status = 1;
	}
	simrec_close(src);
	if (!status)
		printf("exported %zu dataset(s) from %s to %s\n", l.n,
		       shown(argv[0]), shown(argv[1]));
	return status;
}

/* ---- verify ------------------------------------------------------------ */

/* Torn datasets to cut by --repair: keys, and each one's whole steps. */
typedef struct cutlist {
	keylist keys;
	size_t *steps;
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
		fprintf(stderr, "%s: '%s': its shape overflows\n", prog,
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

/* Remember a torn dataset for --repair, cut to whole steps. */
static void verify_note_cut(cutlist *cut, const char *key, size_t whole)
{
	size_t *p = realloc(cut->steps, (cut->keys.n + 1) * sizeof *p);
	if (p)
		cut->steps = p;
	if (p && !collect_one(key, &cut->keys))
		cut->steps[cut->keys.n - 1] = whole;
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
static int verify_key(simrec_t *rec, const char *key, int repair, cutlist *cut)
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
	size_t rows = nd ? sh[0] : 1, whole = rows;
	int torn = 0;
	rc = simrec_dataset_verify(ds, &whole);
	if (rc == SIMREC_EFORMAT) {
		printf("TORN  %s: %s\n", sr_cli_name(key),
		       sr_cli_msg(simrec_errmsg(rec)));
		torn = 1;
	} else if (rc && rc != SIMREC_ENOTSUP) {
		printf("BAD   %s: %s\n", sr_cli_name(key),
		       sr_cli_msg(simrec_errmsg(rec)));
		torn = 1;
	}
	if (rc != SIMREC_EFORMAT || whole > rows)
		whole = rows;
	torn |= verify_read(rec, ds, key, &whole);
	if (torn && nd && whole < rows) {
		verify_print_keep(key, whole, rows);
		if (repair)
			verify_note_cut(cut, key, whole);
	}
	if (!torn) {
		printf("ok    %s: %zu record(s) %s ", sr_cli_name(key), rows,
		       simrec_dtype_name(dt));
		print_shape(stdout, nd, sh);
		putchar('\n');
	}
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
		printf("FAILED to open %s for repair: %s\n", shown(uri),
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
		printf("FAILED to close %s: %s\n", shown(uri),
		       sr_cli_msg(simrec_errmsg(NULL)));
		failed = 1;
	}
	return failed;
}

static int cmd_verify(int argc, char **argv)
{
	int repair = argc == 2 && !strcmp(argv[0], "--repair");
	if (argc == 2 && !repair && !strcmp(argv[1], "--repair")) {
		repair = 1;
		argv[1] = argv[0];
	}
	if (argc != 1 + repair)
		return usage_of("verify");
	argv += repair;
	simrec_t *rec = open_ro(argv[0]);
	if (!rec)
		return 1;
	cutlist cut = {{0}, calloc(1, sizeof *cut.steps)};
	/* collect() fills a keylists: groups too, which verify skips */
	keylists ls = {{0}, {0}};
	int rc = simrec_list(rec, "", collect, &ls);
	int bad = rc != 0;
	if (rc) /* the listing itself failed: say why */
		printf("BAD   (listing): %s\n", sr_cli_msg(simrec_errmsg(rec)));
	for (size_t i = 0; i < ls.ds.n; i++) {
		bad |= verify_key(rec, ls.ds.v[i], repair, &cut);
		free(ls.ds.v[i]);
	}
	free(ls.ds.v);
	for (size_t i = 0; i < ls.groups.n; i++)
		free(ls.groups.v[i]);
	free(ls.groups.v);
	simrec_close(rec);
	printf("%s: %s\n", shown(argv[0]),
	       bad ? "PROBLEMS FOUND" : "all datasets ok");
	if (!repair || !bad) {
		free(cut.steps);
		return bad;
	}
	int failed = verify_repair(argv[0], &cut);
	for (size_t i = 0; i < cut.keys.n; i++)
		free(cut.keys.v[i]);
	free(cut.keys.v);
	free(cut.steps);
	printf("%s: %s\n", shown(argv[0]),
	       failed ? "REPAIR FAILED" : "repaired");
	return failed ? 3 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fprintf(stderr,
		        "usage: simrec COMMAND ARGS (COMMAND --help for "
		        "details)\n\n");
		usage_of(NULL);
		fprintf(stderr,
		        "\nReaders never write; mode=w replaces only a store "
		        "simrec recognises;\nSIMREC_STORE applies to writers "
		        "only; passwords are never printed\n"
		        "(SIMREC_REDIS_PASSWORD). The rules: docs/safety.md\n");
		return argc < 2 ? 2 : 0;
	}
	/* every store of the command line is named on it: SIMREC_STORE (a
	 * simulation's writer URI) never redirects one (docs/safety.md) */
	unsetenv("SIMREC_STORE");
	const char *cmd = argv[1];
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage_of(cmd);
			return 0;
		}
	argc -= 2;
	argv += 2;
	if (!strcmp(cmd, "ls"))
		return cmd_ls(argc, argv);
	if (!strcmp(cmd, "info"))
		return cmd_info(argc, argv);
	if (!strcmp(cmd, "cat"))
		return cmd_cat(argc, argv);
	if (!strcmp(cmd, "export"))
		return cmd_export(argc, argv);
	if (!strcmp(cmd, "verify"))
		return cmd_verify(argc, argv);
	if (!strcmp(cmd, "lock"))
		return sr_cli_lock(argc, argv);
	fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
	usage_of(NULL);
	return 2;
}
