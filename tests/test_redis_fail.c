/* A redis server lost mid-run (driven by redis_loss.sh):
 *   test_redis_fail write URI SERVER_PID   record 40, flush (acknowledged),
 *       SIGKILL the server, record on: every call fails with SIMREC_ECONN
 *       naming the host and key, nothing crashes
 *   test_redis_fail check URI              after a restart from the AOF:
 *       the acknowledged records are all there, intact, and nothing else */
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "check.h"
#include "sample.h"

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *uri = argv[2];
	simrec_options_t o;
	simrec_options_init(&o);
	simrec_t *rec;
	const size_t shape[1] = {1000};
	float buf[1000];
	if (!strcmp(argv[1], "write")) {
		o.mode = SIMREC_MODE_CREATE;
		CHECK_OK(NULL, simrec_open(&rec, uri, &o));
		for (size_t r = 0; r < 40; r++) {
			sample_fill(SIMREC_FLOAT32, r * 1000, 1000, buf);
			CHECK_OK(rec,
			         simrec_record(rec, "loss/x", SIMREC_FLOAT32, 1,
			                       shape, buf));
		}
		CHECK_OK(rec, simrec_flush(rec));
		kill((pid_t)atoi(argv[3]), SIGKILL);
		usleep(200000);
		int failed = 0;
		for (size_t r = 40; r < 200 && !failed; r++) {
			sample_fill(SIMREC_FLOAT32, r * 1000, 1000, buf);
			int rc = simrec_record(rec, "loss/x", SIMREC_FLOAT32, 1,
			                       shape, buf);
			if (!rc)
				rc = simrec_flush(rec);
			if (rc) {
				CHECK(rc == SIMREC_ECONN);
				CHECK(strstr(simrec_errmsg(rec),
				             "127.0.0.1:") != NULL);
				CHECK(strstr(simrec_errmsg(rec), "loss/x") !=
				      NULL);
				failed = 1;
			}
		}
		CHECK(failed);
		printf("error after loss: %s\n", simrec_errmsg(rec));
		simrec_close(rec); /* fails too; must not crash */
		return 0;
	}
	o.mode = SIMREC_MODE_READONLY;
	CHECK_OK(NULL, simrec_open(&rec, uri, &o));
	simrec_dataset_t *ds;
	CHECK_OK(rec, simrec_get_all(rec, "loss/x", &ds));
	size_t sh[2];
	simrec_dataset_shape(ds, sh);
	printf("records after restart: %zu\n", sh[0]);
	CHECK(sh[0] == 40 && sh[1] == 1000); /* acknowledged, nothing else */
	float *all = malloc(sh[0] * 1000 * sizeof *all),
	      *want = malloc(sh[0] * 1000 * sizeof *want);
	CHECK_OK(rec, simrec_dataset_read(ds, NULL, NULL, all,
	                                  sh[0] * 1000 * sizeof *all));
	sample_fill(SIMREC_FLOAT32, 0, sh[0] * 1000, want);
	CHECK(memcmp(all, want, sh[0] * 1000 * sizeof *all) == 0);
	free(all);
	free(want);
	simrec_dataset_close(ds);
	CHECK_OK(rec, simrec_close(rec));
	return 0;
}
