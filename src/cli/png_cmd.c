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

/* The selection (st, ct, sp) read as its box and compacted into a new
 * buffer (*out); 0 or a status. */
static int read_selection(simrec_dataset_t *ds, size_t isz, int nd,
                          const size_t *st, const size_t *ct, const size_t *sp,
                          void **out)
{
	size_t bx[SIMREC_MAX_NDIM], nb, n;
	for (int d = 0; d < nd; d++)
		bx[d] = (ct[d] - 1) * sp[d] + 1;
	if (sr_size_prod(nd, bx, 1, &nb) || nb > SR_PNG_MAX_ELEMS ||
	    sr_size_prod(nd, ct, 1, &n))
		return SIMREC_EINVAL;
	unsigned char *box = malloc(nb * isz), *sel = malloc(n * isz);
	int rc = box && sel ? simrec_dataset_read(ds, st, bx, box, nb * isz)
	                    : SIMREC_ENOMEM;
	for (size_t i = 0; !rc && i < n; i++)
		memcpy(sel + i * isz,
		       box + sr_cli_box_offset(nd, ct, sp, bx, i) * isz, isz);
	free(box);
	if (rc)
		free(sel);
	else
		*out = sel;
	return rc;
}

/* Print what was drawn: the store's key, the indices read (':' for a kept
 * dimension) and the file. */
static void print_drawn(const char *key, int nd, const size_t *st,
                        const int *keep, const char *out)
{
	printf("%s[", sr_cli_name(key));
	for (int d = 0; d < nd; d++) {
		if (keep[d])
			printf("%s:", d ? "," : "");
		else
			printf("%s%zu", d ? "," : "", st[d]);
	}
	printf("] -> %s\n", sr_cli_name(out));
}

/* Draw the selection of ds (of rec: its message names a failed read's
 * cause); the command's exit status. */
static int png_dataset(simrec_t *rec, simrec_dataset_t *ds, const char *key,
                       const char *slice, const char *out)
{
	int nd = simrec_dataset_ndim(ds), keep[SIMREC_MAX_NDIM], kn = 0;
	size_t sh[SIMREC_MAX_NDIM], st[SIMREC_MAX_NDIM], ct[SIMREC_MAX_NDIM],
	        sp[SIMREC_MAX_NDIM], kept[SIMREC_MAX_NDIM];
	simrec_dataset_shape(ds, sh);
	simrec_dtype_t dt = simrec_dataset_dtype(ds);
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
	void *data = NULL;
	char err[512];
	int rc = simrec_dtype_size(dt)
	                 ? read_selection(ds, simrec_dtype_size(dt), nd, st, ct,
	                                  sp, &data)
	                 : SIMREC_EINVAL;
	if (rc == SIMREC_EINVAL)
		snprintf(err, sizeof err,
		         "cannot draw '%s': %s values, or a selection of more "
		         "than %zu elements (give a slice)",
		         key, simrec_dtype_name(dt), SR_PNG_MAX_ELEMS);
	else if (rc)
		snprintf(err, sizeof err, "cannot read '%s': %s", key,
		         simrec_errmsg(rec));
	else
		rc = sr_png_write(out, dt, kn, kept, data, err, sizeof err);
	free(data);
	if (rc) {
		fprintf(stderr, "%s: %s (%s)\n", sr_cli_prog, sr_cli_msg(err),
		        simrec_err_name(rc));
		return 1;
	}
	print_drawn(key, nd, st, keep, out);
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
