/* simrec info STORE KEY: dtype, shape, chunks, records, compressor, stored size
 * and ratio, attributes. */
#include <stdlib.h>
#include <string.h>

#include "../common/size.h"
#include "cli.h"

static void print_attr_value(const simrec_attr_t *v)
{
	switch (v->type) {
	case SIMREC_ATTR_STRING:
		putchar('"');
		sr_cli_print_escaped(stdout, v->s, strlen(v->s));
		putchar('"');
		break;
	case SIMREC_ATTR_STRINGS: {
		const char *p = v->s;
		putchar('[');
		for (size_t k = 0; k < v->count; k++, p += strlen(p) + 1) {
			printf("%s\"", k ? ", " : "");
			sr_cli_print_escaped(stdout, p, strlen(p));
			putchar('"');
		}
		putchar(']');
		break;
	}
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
			sr_cli_print_value(v->dtype,
			                   (const unsigned char *)v->data +
			                           k * isz);
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
		fprintf(stderr, "%s: %s\n", sr_cli_prog,
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
		fprintf(stderr, "%s: %s\n", sr_cli_prog,
		        sr_cli_msg(simrec_errmsg(rec)));
	simrec_close(rec);
	return rc || a.failed ? 1 : 0;
}

int sr_cli_info(int argc, char **argv)
{
	if (argc != 2)
		return SR_CLI_USAGE;
	simrec_t *rec = sr_cli_open_ro(argv[0]);
	if (!rec)
		return 1;
	simrec_dataset_t *ds;
	int rc = !*argv[1] || !strcmp(argv[1], "/")
	                 ? SIMREC_EKIND
	                 : simrec_get_all(rec, argv[1], &ds);
	if (rc == SIMREC_EKIND)
		return info_group(rec, strcmp(argv[1], "/") ? argv[1] : "");
	if (rc) {
		fprintf(stderr, "%s: %s\n", sr_cli_prog,
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
	sr_cli_print_shape(stdout, nd, sh);
	printf("\nchunks:  ");
	sr_cli_print_shape(stdout, nd, ch);
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
				printf("ratio:   %.3g (raw %zu bytes)\n",
				       (double)raw / stored, raw);
		}
		free(desc);
	}
	long long disk = simrec_disk_bytes(rec);
	if (disk >= 0)
		printf("store on disk: %lld bytes\n", disk);
	printf("attributes:\n");
	attr_ctx a = {rec, argv[1], 0};
	if (simrec_attr_list(rec, argv[1], attr_cb, &a)) {
		fprintf(stderr, "%s: %s\n", sr_cli_prog,
		        sr_cli_msg(simrec_errmsg(rec)));
		a.failed = 1;
	}
	simrec_dataset_close(ds);
	simrec_close(rec);
	return a.failed;
}
