/* simrec png STORE KEY[SLICE] OUT.png: draw one record (the last by
 * default) or a slice into a PNG file (png.c). */
#include <stdlib.h>
#include <string.h>

#include "../common/size.h"
#include "cli.h"
#include "png.h"

/* "key[slice]" into key (a copy in buf) and slice (NULL without
 * brackets); -1 if it does not fit buf. */
static int split_key(const char *arg, char *buf, size_t cap, const char **slice)
{
	size_t n = strlen(arg);
	if (n >= cap)
		return -1;
	memcpy(buf, arg, n + 1);
	char *open = strrchr(buf, '[');
	*slice = NULL;
	if (open && n && buf[n - 1] == ']') {
		buf[n - 1] = 0;
		*open = 0;
		*slice = open + 1;
	}
	return 0;
}

/* A selection of more than two kept dimensions keeps the last two: the
 * middle index of each slower one (the mid-plane of a 3-d field). */
static void mid_plane(int nd, size_t *st, size_t *ct, const size_t *sp,
                      int *keep)
{
	int kept = 0;
	for (int d = 0; d < nd; d++)
		kept += keep[d];
	for (int d = 0; d < nd && kept > 2; d++)
		if (keep[d]) {
			st[d] += ct[d] / 2 * sp[d];
			ct[d] = 1;
			keep[d] = 0;
			kept--;
		}
}

/* sr_cli_read_blocks' consumer: the elements into the drawing */
static void feed_png(void *arg, size_t i0, const void *data, size_t n)
{
	sr_png_feed(arg, i0, data, n);
}

/* The selection (st, ct, sp) of nd dimensions, kn of them kept (kept:
 * their counts), read block by block into a drawing written to out. */
static int draw_selection(simrec_dataset_t *ds, int nd, const size_t *st,
                          const size_t *ct, const size_t *sp, int kn,
                          const size_t *kept, const char *out, char *err,
                          size_t len, int *read_failed)
{
	sr_png *png;
	int rc = sr_png_begin(&png, simrec_dataset_dtype(ds), kn, kept, err,
	                      len);
	if (rc)
		return rc;
	rc = sr_cli_read_blocks(ds, nd, st, ct, sp, feed_png, png);
	*read_failed = rc && rc != SIMREC_ENOMEM;
	if (rc == SIMREC_ENOMEM)
		snprintf(err, len, "out of memory");
	if (!rc)
		rc = sr_png_finish(png, out, err, len);
	sr_png_free(png);
	return rc;
}

/* Print what was drawn: the store's key, the indices read (a kept
 * dimension as ':' when whole, else as the range START:STOP[:STEP] it
 * read) and the file. */
static void print_drawn(const char *key, int nd, const size_t *sh,
                        const size_t *st, const size_t *ct, const size_t *sp,
                        const int *keep, const char *out)
{
	printf("%s[", sr_cli_name(key));
	for (int d = 0; d < nd; d++) {
		printf("%s", d ? "," : "");
		if (!keep[d])
			printf("%zu", st[d]);
		else if (!st[d] && sp[d] == 1 && ct[d] == sh[d])
			printf(":");
		else if (sp[d] == 1)
			printf("%zu:%zu", st[d], st[d] + ct[d]);
		else
			printf("%zu:%zu:%zu", st[d],
			       st[d] + (ct[d] - 1) * sp[d] + 1, sp[d]);
	}
	printf("] -> %s\n", sr_cli_name(out));
}

/* The selection checked and drawn into out, or a status with err saying
 * why: a dtype that is no number, too many elements, a read that failed
 * (the library's detail). */
static int draw_or_say(simrec_t *rec, simrec_dataset_t *ds, const char *key,
                       int nd, const size_t *st, const size_t *ct,
                       const size_t *sp, int kn, const size_t *kept,
                       const char *out, char *err, size_t len)
{
	simrec_dtype_t dt = simrec_dataset_dtype(ds);
	size_t isz = simrec_dtype_size(dt), bx[SIMREC_MAX_NDIM], nb = 0;
	for (int d = 0; d < nd; d++)
		bx[d] = (ct[d] - 1) * sp[d] + 1;
	int big = sr_size_prod(nd, bx, 1, &nb) || nb > SR_PNG_MAX_ELEMS;
	if (!isz) {
		snprintf(err, len,
		         "cannot draw '%s': its %s values are not "
		         "numbers",
		         key, simrec_dtype_name(dt));
		return SIMREC_EKIND;
	}
	if (big) { /* nb 0: its size overflows */
		snprintf(
		        err, len,
		        "cannot draw '%s': the selection spans %s%zu elements, "
		        "over the limit of %zu: give a slice",
		        key, nb ? "" : "more than ", nb ? nb : SR_PNG_MAX_ELEMS,
		        SR_PNG_MAX_ELEMS);
		return SIMREC_EINVAL;
	}
	int read_failed = 0;
	int rc = draw_selection(ds, nd, st, ct, sp, kn, kept, out, err, len,
	                        &read_failed);
	if (read_failed)
		snprintf(err, len, "cannot read '%s': %s", key,
		         sr_cli_msg(simrec_errmsg(rec)));
	return rc;
}

/* Draw the selection of ds; the command's exit status. */
static int png_dataset(simrec_t *rec, simrec_dataset_t *ds, const char *key,
                       const char *slice, const char *out)
{
	int nd = simrec_dataset_ndim(ds), keep[SIMREC_MAX_NDIM], kn = 0;
	size_t sh[SIMREC_MAX_NDIM], st[SIMREC_MAX_NDIM], ct[SIMREC_MAX_NDIM],
	        sp[SIMREC_MAX_NDIM], kept[SIMREC_MAX_NDIM];
	simrec_dataset_shape(ds, sh);
	if (nd && !sh[0]) {
		fprintf(stderr, "%s: '%s' holds no records\n", sr_cli_prog,
		        sr_cli_name(key));
		return 1;
	}
	const char *sel = nd && !slice ? "-1" : slice ? slice : "";
	if (sr_cli_parse_slice(sel, nd, sh, st, ct, sp, keep)) {
		fprintf(stderr, "%s: bad slice '%s' for shape ", sr_cli_prog,
		        sr_cli_name(sel));
		sr_cli_print_shape(stderr, nd, sh);
		fputc('\n', stderr);
		return 2;
	}
	mid_plane(nd, st, ct, sp, keep);
	for (int d = 0; d < nd; d++)
		if (keep[d])
			kept[kn++] = ct[d];
	char err[512];
	int rc = draw_or_say(rec, ds, key, nd, st, ct, sp, kn, kept, out, err,
	                     sizeof err);
	if (rc) {
		fprintf(stderr, "%s: %s (%s)\n", sr_cli_prog, sr_cli_msg(err),
		        simrec_err_name(rc));
		return 1;
	}
	print_drawn(key, nd, sh, st, ct, sp, keep, out);
	return 0;
}

int sr_cli_png(int argc, char **argv)
{
	if (argc != 3)
		return SR_CLI_USAGE;
	char key[4096];
	const char *slice;
	if (split_key(argv[1], key, sizeof key, &slice))
		return SR_CLI_USAGE;
	simrec_t *rec = sr_cli_open_ro(argv[0]);
	if (!rec)
		return 1;
	simrec_dataset_t *ds;
	int status = 1;
	if (simrec_get_all(rec, key, &ds))
		fprintf(stderr, "%s: %s\n", sr_cli_prog,
		        sr_cli_msg(simrec_errmsg(rec)));
	else {
		status = png_dataset(rec, ds, key, slice, argv[2]);
		simrec_dataset_close(ds);
	}
	simrec_close(rec);
	return status;
}
