/* What every command of the tool shares: the program name, stores opened
 * read-only, URIs shown without passwords, shapes and values printed. */
#include <stdlib.h>

#include <math.h>
#include <string.h>

#include "../common/escape.h"
#include "../common/half.h"
#include "cli.h"

const char *const sr_cli_prog = "simrec";

/* A URI as printed: passwords replaced by "***" (docs/safety.md). Four
 * rotating buffers, so that one printf may show several. */
const char *sr_cli_shown(const char *uri)
{
	static char buf[4][1024];
	static int next;
	char *b = buf[next++ % 4];
	return simrec_uri_masked(uri, b, sizeof buf[0]);
}

/* Every reader opens read-only: a ?mode= in the URI or SIMREC_STORE in
 * the environment cannot turn it into a writer (docs/safety.md). */
simrec_t *sr_cli_open_ro(const char *uri)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	char inferred[4096];
	uri = sr_cli_infer(uri, inferred, sizeof inferred);
	if (!uri)
		return NULL;
	int rc = simrec_open(&rec, uri, &o);
	if (rc) {
		fprintf(stderr, "%s: cannot open store '%s': %s (%s)\n",
		        sr_cli_prog, sr_cli_shown(uri),
		        sr_cli_msg(simrec_errmsg(NULL)), simrec_err_name(rc));
		return NULL;
	}
	return rec;
}

void sr_cli_print_shape(FILE *f, int nd, const size_t *sh)
{
	fputc('(', f);
	for (int i = 0; i < nd; i++)
		fprintf(f, "%s%zu", i ? ", " : "", sh[i]);
	fputs(nd == 1 ? ",)" : ")", f);
}

/* Does the text t read back as v, a float of size bytes? */
static int reads_back(const char *t, double v, size_t size)
{
	if (size == 4)
		return strtof(t, NULL) == (float)v;
	double x = strtod(t, NULL);
	if (size == 2)
		return sr_half_from_double(x) == sr_half_from_double(v);
	return x == v;
}

/* v (a float of size bytes) in its shortest form that reads back as the
 * same value: "%.{1..17}g" until one round-trips */
static void print_float(double v, size_t size)
{
	char t[32];
	if (!isfinite(v)) {
		printf("%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
		return;
	}
	int prec = 1;
	for (; prec < 17; prec++) {
		snprintf(t, sizeof t, "%.*g", prec, v);
		if (reads_back(t, v, size))
			break;
	}
	/* as positional digits where %g chose an exponent only for having
	 * few digits: 10, not 1e+01 */
	int x = v ? (int)floor(log10(fabs(v))) : 0;
	if (strchr(t, 'e') && x >= prec && x < 17)
		prec = x + 1;
	printf("%.*g", prec, v);
}

/* numpy's form: 1+2j, 1.5-0.5j, nan+nanj */
static void print_complex(double re, double im, size_t size)
{
	print_float(re, size);
	if (isnan(im) || !signbit(im))
		putchar('+');
	print_float(im, size);
	putchar('j');
}

static void print_floating(simrec_dtype_t dt, const unsigned char *p)
{
	float f[2];
	double d[2];
	uint16_t h;
	switch (dt) {
	case SIMREC_FLOAT16:
		memcpy(&h, p, 2);
		print_float(sr_half_to_double(h), 2);
		break;
	case SIMREC_FLOAT32:
		memcpy(f, p, 4);
		print_float(f[0], 4);
		break;
	case SIMREC_FLOAT64:
		memcpy(d, p, 8);
		print_float(d[0], 8);
		break;
	case SIMREC_COMPLEX64:
		memcpy(f, p, 8);
		print_complex(f[0], f[1], 4);
		break;
	case SIMREC_COMPLEX128:
		memcpy(d, p, 16);
		print_complex(d[0], d[1], 8);
		break;
	default:
		break;
	}
}

void sr_cli_print_value(simrec_dtype_t dt, const unsigned char *p)
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
	case SIMREC_BOOL:
		printf("%s", *p ? "true" : "false");
		break;
	default:
		print_floating(dt, p);
		break;
	}
}

/* Text from the store with newlines, control bytes and invalid UTF-8
 * escaped (common/escape.h, as every name the tool prints), so that one
 * value stays on one line and sends nothing to the terminal. */
void sr_cli_print_escaped(FILE *f, const char *s, size_t n)
{
	char *e = malloc(SR_ESC_MAX * n + 1);
	if (!e)
		return;
	sr_escape(e, SR_ESC_MAX * n + 1, s, n, SR_ESC_BACKSLASH);
	fputs(e, f);
	free(e);
}
