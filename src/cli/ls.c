/* simrec ls STORE [PREFIX]: groups and datasets (dtype, shape) below PREFIX. */
#include <string.h>

#include "cli.h"

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
			sr_cli_print_shape(stdout, simrec_dataset_ndim(ds), sh);
			simrec_dataset_close(ds);
		} else {
			printf("  (unreadable: %s)",
			       sr_cli_msg(simrec_errmsg(rec)));
		}
	}
	putchar('\n');
	return 0;
}

int sr_cli_ls(int argc, char **argv)
{
	if (argc < 1 || argc > 2)
		return SR_CLI_USAGE;
	simrec_t *rec = sr_cli_open_ro(argv[0]);
	if (!rec)
		return 1;
	int rc = simrec_list(rec, argc > 1 ? argv[1] : "", ls_cb, rec);
	if (rc)
		fprintf(stderr, "%s: %s\n", sr_cli_prog,
		        sr_cli_msg(simrec_errmsg(rec)));
	simrec_close(rec);
	return rc ? 1 : 0;
}
