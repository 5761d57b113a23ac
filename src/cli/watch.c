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

/* One record, read block by block (sr_cli_read_blocks): its summary
 * adds up and its picture is fed as the blocks come, so that memory stays
 * bounded by a block and the picture whatever the record holds. */
typedef struct record_acc {
	size_t index, nelem, isz;
	simrec_dtype_t dtype, part; /* part: complex values' real part */
	int ndim; /* the record's own rank (the step dimension left out) */
	double lo, hi, sum;
	unsigned char first[16]; /* element 0: a scalar record's value */
	sr_png *png;             /* the picture being fed, or NULL */
} record_acc;

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

/* sr_cli_read_blocks' consumer: elements i0.. of the record. Complex
 * values are summarised by their real parts. */
static void acc_block(void *arg, size_t i0, const void *data, size_t n)
{
	record_acc *r = arg;
	const unsigned char *p = data;
	if (i0 == 0 && n)
		memcpy(r->first, p, r->isz);
	for (size_t k = 0; k < n; k++) {
		double v = as_double(r->part, p + k * r->isz);
		r->lo = v < r->lo ? v : r->lo;
		r->hi = v > r->hi ? v : r->hi;
		r->sum += v;
	}
	if (r->png)
		sr_png_feed(r->png, i0, data, n);
}

/* The summary line of one record. */
static void print_summary(const record_acc *r)
{
	if (r->nelem == 0) {
		printf("%zu empty (no elements)\n", r->index);
		return;
	}
	if (r->ndim == 0 && r->part == r->dtype) {
		printf("%zu ", r->index);
		sr_cli_print_value(r->dtype, r->first);
		putchar('\n');
		return;
	}
	printf("%zu min=%.9g max=%.9g mean=%.9g%s\n", r->index, r->lo, r->hi,
	       r->sum / (double)r->nelem,
	       r->part != r->dtype ? " (real parts)" : "");
}

/* A picture's failure, printed; PRINTED. */
static int png_failed(const watch_args *a, size_t i, const char *err, int rc)
{
	fprintf(stderr, "%s: watch: record %zu of '%s': %s (%s)\n", sr_cli_prog,
	        i, sr_cli_name(a->key), sr_cli_msg(err), simrec_err_name(rc));
	return PRINTED;
}

/* Read record i (nd dimensions with the step's, of shape; nelem
 * elements) block by block: its line, and its picture when draw is set
 * (the last record printed of a batch). 0, a library status or PRINTED. */
/* The most elements a record's summary reads (8 GiB of float64): a
 * shape from hostile metadata (2^40 fill values) must not keep watch
 * reading for hours. */
#define WATCH_MAX_ELEMS ((size_t)1 << 30)

static int show_numbers(simrec_dataset_t *ds, const watch_args *a, size_t i,
                        int draw, int nd, const size_t *shape, size_t nelem)
{
	if (nelem > WATCH_MAX_ELEMS) {
		printf("%zu %zu elements: not summarised (more than %zu)\n", i,
		       nelem, WATCH_MAX_ELEMS);
		return draw && a->png ? png_failed(a, i,
		                                   "more elements than a "
		                                   "picture can hold",
		                                   SIMREC_EINVAL)
		                      : 0;
	}
	simrec_dtype_t dt = simrec_dataset_dtype(ds);
	record_acc r = {.index = i,
	                .nelem = nelem,
	                .dtype = dt,
	                .part = dt,
	                .isz = simrec_dtype_size(dt),
	                .ndim = nd - 1,
	                .lo = INFINITY,
	                .hi = -INFINITY};
	r.part = dt == SIMREC_COMPLEX64    ? SIMREC_FLOAT32
	         : dt == SIMREC_COMPLEX128 ? SIMREC_FLOAT64
	                                   : dt;
	char err[512];
	int prc = draw && a->png ? sr_png_begin(&r.png, dt, nd - 1, shape + 1,
	                                        err, sizeof err)
	                         : 0;
	size_t start[SIMREC_MAX_NDIM] = {0}, count[SIMREC_MAX_NDIM],
	       step[SIMREC_MAX_NDIM];
	for (int d = 0; d < nd; d++) {
		count[d] = shape[d];
		step[d] = 1;
	}
	start[0] = i;
	count[0] = 1;
	int rc = sr_cli_read_blocks(ds, nd, start, count, step, acc_block, &r);
	if (!rc)
		print_summary(&r);
	if (!rc && !prc && r.png)
		prc = sr_png_finish(r.png, a->png, err, sizeof err);
	sr_png_free(r.png);
	return rc ? rc : prc ? png_failed(a, i, err, prc) : 0;
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

/* Read record i of key and show it (draw: its picture too). 0, a
 * library status (printed by the caller) or PRINTED. */
static int show_record(simrec_t *rec, const watch_args *a, size_t i, int draw)
{
	simrec_dataset_t *ds;
	int rc = simrec_get_all(rec, a->key, &ds);
	if (rc)
		return rc;
	simrec_dtype_t dt = simrec_dataset_dtype(ds);
	int nd = simrec_dataset_ndim(ds);
	size_t shape[SIMREC_MAX_NDIM], need;
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
	} else {
		rc = show_numbers(ds, a, i, draw, nd, shape,
		                  need / simrec_dtype_size(dt));
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
	size_t have = 0, now = 0;
	int rc;
	while (!(rc = simrec_follow(rec, a->key, have, a->timeout, &now))) {
		/* the last record of the batch that is printed is drawn */
		size_t last = (now - 1) - (now - 1) % a->every;
		for (size_t i = have; i < now && !rc; i++)
			if (i % a->every == 0 &&
			    !(rc = show_record(rec, a, i, i == last)))
				fflush(stdout);
		if (rc)
			break;
		have = now;
	}
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
