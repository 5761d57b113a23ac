/* simrec cat STORE KEY [SLICE] [--csv] [--max N]: print values of a numpy-like
 * slice. */
#include <stdlib.h>
#include <string.h>

#include "../common/size.h"
#include "cli.h"

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
			return SR_CLI_USAGE;
	}
	if (np != 2)
		return SR_CLI_USAGE;
	return 0;
}

/* The selection (start st, count ct) of the slice, and its number of
 * elements n; 0, else the command's exit status after a message. */
static int cat_selection(const cat_opts *o, int nd, const size_t *sh,
                         simrec_dtype_t dt, size_t *st, size_t *ct, size_t *sp,
                         size_t *n)
{
	int keep[SIMREC_MAX_NDIM];
	if (sr_cli_parse_slice(o->slice, nd, sh, st, ct, sp, keep)) {
		fprintf(stderr, "%s: bad slice '%s' for shape ", sr_cli_prog,
		        sr_cli_name(o->slice));
		sr_cli_print_shape(stderr, nd, sh);
		fputc('\n', stderr);
		return 2;
	}
	*n = 1;
	if (sr_size_prod(nd, ct, 1, n) ||
	    sr_size_mul(*n, simrec_dtype_size(dt) + 1, &(size_t){0})) {
		fprintf(stderr, "%s: the selection of '%s' is too large\n",
		        sr_cli_prog, sr_cli_name(o->pos[1]));
		return 1;
	}
	if (*n > o->max) {
		fprintf(stderr,
		        "%s: the selection has %zu elements; give a slice or "
		        "--max %zu\n",
		        sr_cli_prog, *n, *n);
		return 2;
	}
	return 0;
}

/* Bytes and strings: count records from first, every step-th, one per
 * line. */
static int cat_records(simrec_dataset_t *ds, simrec_dtype_t dt, size_t first,
                       size_t count, size_t step)
{
	int rc = 0;
	for (size_t i = first; i < first + count * step; i += step) {
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
			sr_cli_print_escaped(
			        stdout, buf,
			        len < sizeof buf - 1 ? len : sizeof buf - 1);
			putchar('\n');
		} else {
			for (size_t k = 0; k < len && k < sizeof buf; k++)
				printf("%02x", (unsigned char)buf[k]);
			putchar('\n');
		}
	}
	return rc;
}

/* Where cat_numbers is: the dtype, the elements per line, csv. */
typedef struct cat_print {
	simrec_dtype_t dt;
	size_t isz, row;
	int csv;
} cat_print;

/* sr_cli_read_blocks' consumer: elements i0.. printed, the last
 * dimension's elements per line. */
static void cat_block(void *arg, size_t i0, const void *data, size_t n)
{
	const cat_print *p = arg;
	const unsigned char *v = data;
	for (size_t i = i0; i < i0 + n; i++) {
		if (i % p->row)
			fputs(p->csv ? "," : " ", stdout);
		sr_cli_print_value(p->dt, v + (i - i0) * p->isz);
		if ((i + 1) % p->row == 0)
			putchar('\n');
	}
}

/* Fixed-size elements: the selection, read block by block (memory
 * bounded by a block, whatever the slice's steps span), the last
 * dimension's elements per line. */
static int cat_numbers(simrec_dataset_t *ds, simrec_dtype_t dt, int nd,
                       const size_t *st, const size_t *ct, const size_t *sp,
                       int csv)
{
	cat_print p = {dt, simrec_dtype_size(dt),
	               nd && ct[nd - 1] ? ct[nd - 1] : 1, csv};
	return sr_cli_read_blocks(ds, nd, st, ct, sp, cat_block, &p);
}

int sr_cli_cat(int argc, char **argv)
{
	cat_opts o;
	int status = cat_args(argc, argv, &o);
	if (status)
		return status;
	simrec_t *rec = sr_cli_open_ro(o.pos[0]);
	if (!rec)
		return 1;
	simrec_dataset_t *ds;
	int rc = simrec_get_all(rec, o.pos[1], &ds);
	if (rc) {
		fprintf(stderr, "%s: %s\n", sr_cli_prog,
		        sr_cli_msg(simrec_errmsg(rec)));
		simrec_close(rec);
		return 1;
	}
	int nd = simrec_dataset_ndim(ds);
	size_t sh[SIMREC_MAX_NDIM], st[SIMREC_MAX_NDIM], ct[SIMREC_MAX_NDIM],
	        sp[SIMREC_MAX_NDIM];
	simrec_dataset_shape(ds, sh);
	simrec_dtype_t dt = simrec_dataset_dtype(ds);
	size_t n = 1;
	status = cat_selection(&o, nd, sh, dt, st, ct, sp, &n);
	if (!status) {
		if ((dt == SIMREC_BYTES || dt == SIMREC_STRING) && !nd)
			rc = cat_records(ds, dt, 0, 1, 1); /* a set value */
		else if (dt == SIMREC_BYTES || dt == SIMREC_STRING)
			rc = cat_records(ds, dt, st[0], ct[0], sp[0]);
		else
			rc = cat_numbers(ds, dt, nd, st, ct, sp, o.csv);
		if (rc) {
			fprintf(stderr, "%s: %s\n", sr_cli_prog,
			        sr_cli_msg(simrec_errmsg(rec)));
			status = 1;
		}
	}
	simrec_dataset_close(ds);
	simrec_close(rec);
	return status;
}
