/* simrec lock status|break [--force] LOCK_URI RESOURCE */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "simrec.h"

/* Ask on the terminal; anything but y/yes declines. */
static int confirmed(void)
{
	fprintf(stderr, "Break it? [y/N] ");
	fflush(stderr);
	char line[16];
	if (!fgets(line, sizeof line, stdin))
		return 0;
	return !strcmp(line, "y\n") || !strcmp(line, "yes\n") ||
	       !strcmp(line, "Y\n");
}

/* status|break [--force] LOCK_URI RESOURCE into arg[3] and *force; 0, or
 * 2 after printing the usage. */
static int lock_args(int argc, char **argv, char *arg[3], int *force)
{
	int n = 0;
	*force = 0;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			*force = 1;
		else if (n < 3)
			arg[n++] = argv[i];
		else
			n = 4;
	}
	if (n == 3 && (!strcmp(arg[0], "status") || !strcmp(arg[0], "break")) &&
	    (!*force || !strcmp(arg[0], "break")))
		return 0;
	fprintf(stderr, "usage: simrec lock status LOCK_URI RESOURCE\n"
	                "       simrec lock break [--force] LOCK_URI "
	                "RESOURCE\n"
	                "  RESOURCE is the store URI as the writer names "
	                "it, e.g. zarr+dir:/scratch/run.zarr\n"
	                "  break asks for confirmation on a terminal, and "
	                "needs --force otherwise (docs/lock.md)\n");
	return 2;
}

/* The status as printed; since: " since DATE" of the writer, or "". */
static void print_status(const char *res, const char *lock_uri,
                         const simrec_lock_status_t *st, const char *since)
{
	printf("lock %s on %s:\n  readers: %d\n  writer: %s%s",
	       sr_cli_name(res), sr_cli_name(lock_uri), st->readers,
	       st->writer ? sr_cli_name(st->writer_id) : "none", since);
	if (st->writer)
		printf(" (lease %.1f s left)", st->writer_lease);
	printf("\n  waiting writers: %d\n  last token: %llu\n",
	       st->waiting_writers, (unsigned long long)st->token);
	fflush(stdout);
}

/* Break the lock after saying who holds it and asking (unless force);
 * the command's exit status. */
static int break_lock(simrec_lock_t *l, const char *res,
                      const simrec_lock_status_t *st, const char *since,
                      int force)
{
	if (st->writer)
		fprintf(stderr,
		        "simrec: the writer %s%s still holds it: if it "
		        "runs, its next write fails with SIMREC_ELOCK "
		        "once another writer takes the lock (fencing "
		        "token %llu).\n",
		        sr_cli_name(st->writer_id), since,
		        (unsigned long long)st->token);
	if (st->readers)
		fprintf(stderr,
		        "simrec: %d reader(s) hold it: they keep "
		        "reading unprotected.\n",
		        st->readers);
	if (!force && !isatty(STDIN_FILENO)) {
		fprintf(stderr, "simrec: not breaking the lock: "
		                "confirm on a terminal or pass "
		                "--force\n");
		return 1;
	}
	if (!force && !confirmed()) {
		fprintf(stderr, "simrec: lock left as it is\n");
		return 1;
	}
	int rc = simrec_lock_break(l);
	printf("lock %s: %s\n", sr_cli_name(res),
	       rc ? "break FAILED" : "broken");
	return rc ? 1 : 0;
}

int sr_cli_lock(int argc, char **argv)
{
	int force;
	char *arg[3] = {NULL, NULL, NULL};
	if (lock_args(argc, argv, arg, &force))
		return 2;
	/* URIs are printed with any password masked (docs/safety.md) */
	char lock_uri[1024], res[1024];
	simrec_uri_masked(arg[1], lock_uri, sizeof lock_uri);
	simrec_uri_masked(arg[2], res, sizeof res);
	simrec_lock_t *l;
	int rc = simrec_lock_open(&l, arg[1], arg[2], 0);
	if (rc) {
		fprintf(stderr, "simrec: cannot reach the lock server %s: %s\n",
		        lock_uri, simrec_strerror(rc));
		return 1;
	}
	simrec_lock_status_t st;
	rc = simrec_lock_status(l, &st);
	if (rc) {
		fprintf(stderr, "simrec: %s\n",
		        sr_cli_msg(simrec_lock_errmsg(l)));
		simrec_lock_close(l);
		return 1;
	}
	char since[64] = "";
	if (st.writer && st.writer_since > 0) {
		time_t t = (time_t)st.writer_since;
		struct tm tm;
		if (localtime_r(&t, &tm))
			strftime(since, sizeof since,
			         " since %Y-%m-%d %H:%M:%S", &tm);
	}
	print_status(res, lock_uri, &st, since);
	int status = !strcmp(arg[0], "break")
	                     ? break_lock(l, res, &st, since, force)
	                     : 0;
	simrec_lock_close(l);
	return status;
}
