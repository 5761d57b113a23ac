/* simrec - the command line for post-run (and live) readers.
 *   simrec ls STORE [PREFIX]
 *   simrec info STORE KEY
 *   simrec cat STORE KEY [SLICE] [--csv] [--max N]
 *   simrec export SRC DST [KEY...]
 *   simrec verify STORE
 *   simrec png STORE KEY[SLICE] OUT.png
 *   simrec lock status|break [--force] LOCK_URI RESOURCE
 *   simrec watch STORE KEY [--every N] [--timeout S] [--png OUT.png]
 * Stores are the library's URIs; never needs mpirun. See docs/cli.md and,
 * for what may be replaced, written or printed, docs/safety.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* One line per command: its name, the function that runs it (cli/NAME.c)
 * and its usage. */
typedef struct sr_cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} sr_cli_cmd;

static const sr_cli_cmd commands[] = {
        {"ls", sr_cli_ls,
         "simrec ls STORE [PREFIX]\n  List groups and datasets "
         "(dtype, shape) below PREFIX.\n"},
        {"info", sr_cli_info,
         "simrec info STORE KEY\n  Dtype, shape, chunks, "
         "records, compressor, stored size and ratio, attributes.\n"},
        {"cat", sr_cli_cat,
         "simrec cat STORE KEY [SLICE] [--csv] [--max N]\n  Print "
         "values. SLICE is numpy-like: '0:10,3,:', '::2' or '-1' (the last "
         "record).\n  Refuses more than N elements (default 10000) "
         "unless --max is raised.\n"},
        {"export", sr_cli_export,
         "simrec export SRC DST [KEY...]\n  Copy datasets and "
         "attributes (all, or KEYs) chunk by chunk. Safe to rerun:\n"
         "  records already in DST are skipped. A progress bar "
         "on a terminal.\n"},
        {"verify", sr_cli_verify,
         "simrec verify [--repair] STORE\n  Decode every chunk of "
         "every dataset and check that every chunk inside its shape "
         "was written (a crash, a full disk); list the steps that are "
         "not whole and why, and what --repair keeps. Exit 1 if "
         "anything is not whole. --repair cuts each such dataset "
         "before its first torn step (records stay contiguous; exit "
         "0 when repaired, 3 if a repair failed).\n"},
        {"png", sr_cli_png,
         "simrec png STORE KEY[SLICE] OUT.png\n  Draw the last record "
         "of KEY (or the SLICE, as cat takes it) into a PNG file: a line "
         "for 1-d,\n  an image for 2-d (viridis, NaN magenta), the "
         "middle plane of the slowest axes for 3-d\n  and more. The "
         "file is replaced atomically.\n"},
        {"watch", sr_cli_watch,
         "simrec watch STORE KEY [--every N] [--timeout S] [--png "
         "OUT.png]\n  Follow a running writer: one line per new record of "
         "KEY (its index and\n  the value of a scalar, or min, max and "
         "mean), every Nth record with --every.\n  --png redraws the last "
         "record printed into OUT.png (as simrec png draws it)\n  at "
         "each new step. Exit 0 when the writer finished (closed the "
         "store),\n  4 when no new record came within S seconds "
         "(default: wait forever), 1 on a\n  failure.\n"},
        {"lock", sr_cli_lock,
         "simrec lock status LOCK_URI RESOURCE\nsimrec lock break "
         "[--force] LOCK_URI RESOURCE\n  Show or forcibly clear a "
         "readers-writer lock (asks on a terminal; --force "
         "otherwise).\n"},
};
#define NCOMMANDS (sizeof commands / sizeof *commands)

/* Print the usage of cmd (all commands if NULL) to stderr; returns 2. */
static int usage_of(const char *cmd)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!cmd || !strcmp(cmd, commands[i].name))
			fputs(commands[i].usage, stderr);
	return 2;
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
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(cmd, commands[i].name)) {
			int rc = commands[i].run(argc, argv);
			return rc == SR_CLI_USAGE ? usage_of(cmd) : rc;
		}
	fprintf(stderr, "%s: unknown command '%s'\n", sr_cli_prog, cmd);
	usage_of(NULL);
	return 2;
}
