/* simrec lock status|break LOCK_URI RESOURCE */
#include <stdio.h>
#include <string.h>

#include "simrec.h"

int sr_cli_lock(int argc, char **argv);

int sr_cli_lock(int argc, char **argv)
{
	if (argc != 3 ||
	    (strcmp(argv[0], "status") && strcmp(argv[0], "break"))) {
		fprintf(stderr,
		        "usage: simrec lock status|break LOCK_URI RESOURCE\n"
		        "  RESOURCE is the store URI as the writer names "
		        "it, e.g. zarr+dir:/scratch/run.zarr\n");
		return 2;
	}
	simrec_lock_t *l;
	int rc = simrec_lock_open(&l, argv[1], argv[2], 0);
	if (rc) {
		fprintf(stderr, "simrec: cannot reach the lock server %s: %s\n",
		        argv[1], simrec_strerror(rc));
		return 1;
	}
	simrec_lock_status_t st;
	rc = simrec_lock_status(l, &st);
	if (rc) {
		fprintf(stderr, "simrec: %s\n", simrec_lock_errmsg(l));
		simrec_lock_close(l);
		return 1;
	}
	printf("lock %s on %s:\n  readers: %d\n  writer: %s", argv[2], argv[1],
	       st.readers, st.writer ? st.writer_id : "none");
	if (st.writer)
		printf(" (lease %.1f s left)", st.writer_lease);
	printf("\n  waiting writers: %d\n  last token: %llu\n",
	       st.waiting_writers, (unsigned long long)st.token);
	if (!strcmp(argv[0], "break")) {
		fprintf(stderr,
		        "simrec: WARNING: breaking the lock: any process still "
		        "holding it keeps running unprotected; its next write "
		        "is "
		        "refused by the fencing token only after a new writer "
		        "takes the lock.\n");
		rc = simrec_lock_break(l);
		printf("lock %s: %s\n", argv[2],
		       rc ? "break FAILED" : "broken");
	}
	simrec_lock_close(l);
	return rc ? 1 : 0;
}
