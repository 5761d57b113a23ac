/* simrec watch STORE KEY [--every N] [--timeout S] [--png OUT.png]:
 * follow a running writer (simrec_follow) and print one line per new
 * record: its index and a summary (the value of a scalar record; min, max
 * and mean of an array; the length of a byte string). With --png, the
 * last record printed of each batch of new records is also drawn into
 * OUT.png (png.c, replaced atomically). Exits 0 once the writer finished,
 * 4 when no new record came within S seconds, 1 on a failure. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/half.h"
#include "../common/size.h"
#include "cli.h"
#include "png.h"

#define WATCH_TIMEOUT_EXIT 4
#define PRINTED            1 /* a failure of the tool's own, printed */

typedef struct watch_args {
	const char *uri, *key;
	const char *png; /* the picture's file, or NULL */
	size_t every;    /* print records whose index is a multiple of it */
	double timeout;  /* seconds per new record; negative: forever */
} watch_args;

/* One record as read: what each output of a record receives. */
typedef struct record_view {
	size_t index;
	simrec_dtype_t dtype;
	int ndim; /* the record's own rank (the step dimension left out) */
	const size_t *shape;
	const void *data;
	size_t nelem;
} record_view;

static double as_double(simrec_dtype_t dt, const unsigned char *p)
{
	switch (dt) {
	case SIMREC_INT8:
		return *(const int8_t *)p;
	case SIMREC_INT16:
		return *(const int16_t *)p;
	case SIMREC_INT32:
		return *(const int32_t *)p;
	case SIMREC_INT64:
		return (double)*(const int64_t *)p;
	case SIMREC_UINT8:
		return *p;
	case SIMREC_UINT16:
		return *(const uint16_t *)p;
	case SIMREC_UINT32:
		return *(const uint32_t *)p;
	case SIMREC_UINT64:
		return (double)*(const uint64_t *)p;
	case SIMREC_BOOL:
		return *p != 0;
	case SIMREC_FLOAT16:
		return sr_half_to_double(*(const uint16_t *)p);
	case SIMREC_FLOAT32:
		return *(const float *)p;
	case SIMREC_FLOAT64:
		return *(const double *)p;
	default:
		return NAN; /* complex: the real part, below */
	}
}

/* The summary line of one record. Complex values are summarised by their
 * real parts. */
static void print_summary(const record_view *r)
{
	simrec_dtype_t dt = r->dtype;
	size_t isz = simrec_dtype_size(dt);
	simrec_dtype_t part = dt == SIMREC_COMPLEX64    ? SIMREC_FLOAT32
	                      : dt == SIMREC_COMPLEX128 ? SIMREC_FLOAT64
	                                                : dt;
	const unsigned char *p = r->data;
	if (r->nelem == 0) {
		printf("%zu empty (no elements)\n", r->index);
		return;
	}
	if (r->ndim == 0 && part == dt) {
		printf("%zu ", r->index);
		sr_cli_print_value(dt, p);
		putchar('\n');
		return;
	}
	double lo = INFINITY, hi = -INFINITY, sum = 0;
	for (size_t k = 0; k < r->nelem; k++) {
		double v = as_double(part, p + k * isz);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		sum += v;
	}
	printf("%zu min=%.9g max=%.9g mean=%.9g%s\n", r->index, lo, hi,
	       r->nelem ? sum / (double)r->nelem : NAN,
	       part != dt ? " (real parts)" : "");
}

/* Every output of one record: its line, and its picture when draw is
 * set (the last record printed of a batch). 0 or PRINTED. */
static int show(const watch_args *a, const record_view *r, int draw)
{
	print_summary(r);
	if (!draw || !a->png)
		return 0;
	char err[512];
	int rc = sr_png_write(a->png, r->dtype, r->ndim, r->shape, r->data, err,
	                      sizeof err);
	if (!rc)
		return 0;
	fprintf(stderr, "%s: watch: record %zu of '%s': %s (%s)\n", sr_cli_prog,
	        r->index, sr_cli_name(a->key), sr_cli_msg(err),
	        simrec_err_name(rc));
	return PRINTED;
}

static int show_bytes(simrec_dataset_t *ds, size_t i)
{
	size_t len = 0;
	int rc = simrec_dataset_read_bytes(ds, i, NULL, 0, &len);
	if (rc && rc != SIMREC_ETRUNC)
		return rc;
	printf("%zu len=%zu\n", i, len);
	return 0;
}

static int grow(void **buf, size_t *cap, size_t need)
{
	void *p = realloc(*buf, need);
	if (!p)
		return -1;
	*buf = p;
	*cap = need;
	return 0;
}

/* Read record i of key and show it (draw: its picture too); buf grows to
 * hold it. 0, a library status (printed by the caller) or PRINTED. */
static int show_record(simrec_t *rec, const watch_args *a, size_t i, int draw,
                       void **buf, size_t *cap)
{
	simrec_dataset_t *ds;
	int rc = simrec_get_all(rec, a->key, &ds);
	if (rc)
		return rc;
	simrec_dtype_t dt = simrec_dataset_dtype(ds);
	int nd = simrec_dataset_ndim(ds);
	size_t shape[SIMREC_MAX_NDIM], start[SIMREC_MAX_NDIM] = {0}, need;
	simrec_dataset_shape(ds, shape);
	if ((dt == SIMREC_BYTES || dt == SIMREC_STRING) && a->png) {
		rc = PRINTED;
		fprintf(stderr, "%s: watch: '%s': %s records cannot be drawn\n",
		        sr_cli_prog, sr_cli_name(a->key),
		        simrec_dtype_name(dt));
	} else if (dt == SIMREC_BYTES || dt == SIMREC_STRING) {
		rc = show_bytes(ds, i);
	} else if (nd < 1 || i >= shape[0] ||
	           sr_size_prod(nd - 1, shape + 1, simrec_dtype_size(dt),
	                        &need)) {
		rc = PRINTED;
		fprintf(stderr,
		        "%s: watch: '%s': record %zu is out of its "
		        "shape or too large\n",
		        sr_cli_prog, sr_cli_name(a->key), i);
	} else if (need > *cap && grow(buf, cap, need)) {
		rc = PRINTED;
		fprintf(stderr,
		        "%s: watch: '%s': no memory for a record of "
		        "%zu bytes\n",
		        sr_cli_prog, sr_cli_name(a->key), need);
	} else {
		size_t count[SIMREC_MAX_NDIM];
		memcpy(count, shape, sizeof count);
		start[0] = i;
		count[0] = 1;
		/* a record of no elements: nothing to read */
		rc = need ? simrec_dataset_read(ds, start, count, *buf, *cap)
		          : 0;
		record_view r = {i,         dt,   nd - 1,
		                 shape + 1, *buf, need / simrec_dtype_size(dt)};
		if (!rc)
			rc = show(a, &r, draw);
	}
	simrec_dataset_close(ds);
	return rc;
}

static int bad_arg(const char *opt, const char *value, const char *want)
{
	fprintf(stderr, "%s: watch: %s '%s': %s\n", sr_cli_prog, opt,
	        sr_cli_name(value), want);
	return SR_CLI_USAGE;
}

static int parse_args(int argc, char **argv, watch_args *a)
{
	*a = (watch_args){.every = 1, .timeout = -1};
	int pos = 0;
	for (int i = 0; i < argc; i++) {
		char *end;
		if (!strcmp(argv[i], "--every") && i + 1 < argc) {
			errno = 0;
			unsigned long long n = strtoull(argv[++i], &end, 10);
			if (*end || errno || n == 0 || argv[i][0] == '-')
				return bad_arg("--every", argv[i],
				               "not a whole number >= 1");
			a->every = (size_t)n;
		} else if (!strcmp(argv[i], "--png") && i + 1 < argc) {
			a->png = argv[++i];
			if (!a->png[0])
				return SR_CLI_USAGE;
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			a->timeout = strtod(argv[++i], &end);
			if (*end || !(a->timeout >= 0) || isinf(a->timeout))
				return bad_arg("--timeout", argv[i],
				               "not a finite number of seconds "
				               ">= 0");
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return bad_arg(
			        "option", argv[i],
			        i + 1 == argc && (!strcmp(argv[i], "--every") ||
			                          !strcmp(argv[i], "--timeout"))
			                ? "needs a value"
			                : "unknown");
		} else if (pos == 0) {
			a->uri = argv[i], pos++;
		} else if (pos == 1) {
			a->key = argv[i], pos++;
		} else {
			return bad_arg(
			        "argument", argv[i],
			        "one too many (STORE KEY given already)");
		}
	}
	if (pos < 2)
		fprintf(stderr, "%s: watch: missing %s\n", sr_cli_prog,
		        pos ? "KEY" : "STORE and KEY");
	return pos == 2 ? 0 : SR_CLI_USAGE;
}

/* Follow until the writer finishes: 0, WATCH_TIMEOUT_EXIT or 1. */
static int follow_loop(simrec_t *rec, const watch_args *a)
{
	void *buf = NULL;
	size_t cap = 0, have = 0, now = 0;
	int rc;
	while (!(rc = simrec_follow(rec, a->key, have, a->timeout, &now))) {
		/* the last record of the batch that is printed is drawn */
		size_t last = (now - 1) - (now - 1) % a->every;
		for (size_t i = have; i < now && !rc; i++)
			if (i % a->every == 0 &&
			    !(rc = show_record(rec, a, i, i == last, &buf,
			                       &cap)))
				fflush(stdout);
		if (rc)
			break;
		have = now;
	}
	free(buf);
	if (rc == SIMREC_EFINISHED)
		return 0;
	if (rc != PRINTED)
		fprintf(stderr, "%s: watch: %s (%s)\n", sr_cli_prog,
		        sr_cli_msg(simrec_errmsg(rec)), simrec_err_name(rc));
	return rc == SIMREC_ETIMEDOUT ? WATCH_TIMEOUT_EXIT : 1;
}

int sr_cli_watch(int argc, char **argv)
{
	watch_args a;
	if (parse_args(argc, argv, &a))
		return SR_CLI_USAGE;
	char inferred[4200];
	const char *uri = sr_cli_infer(a.uri, inferred, sizeof inferred);
	if (!uri)
		return 1;
	simrec_t *rec = sr_cli_open_ro(uri);
	if (!rec)
		return 1;
	int rc = follow_loop(rec, &a);
	simrec_close(rec);
	return rc;
}
