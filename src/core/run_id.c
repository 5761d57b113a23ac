/* The run identity: a random 128-bit id that a store receives when it is
 * created, as the root attribute "_simrec_run" (32 hex digits), so that
 * `simrec export` can tell one run from another (docs/format.md). */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "recorder.h"

#define RUN_ATTR "_simrec_run"

static int any_key(const char *key, int is_dataset, void *arg)
{
	(void)key;
	(void)is_dataset;
	*(int *)arg = 1;
	return 1; /* one is enough */
}

/* a new store: created now, or opened for appending and still empty */
static int is_new(simrec_t *rec, sr_store *st)
{
	if (rec->opts.mode == SIMREC_MODE_CREATE)
		return 1;
	simrec_attr_t a;
	int rc = st->ops->attr_get(st, "", RUN_ATTR, &a);
	if (!rc) {
		simrec_attr_clear(&a);
		return 0;
	}
	int found = 0;
	st->ops->list(st, "", any_key, &found);
	return !found;
}

int sr_run_stamp(simrec_t *rec, sr_store *st)
{
	if (rec->opts.mode == SIMREC_MODE_READONLY || !st->meta_writer ||
	    !is_new(rec, st))
		return 0;
	unsigned char b[16];
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		return sr_fail(&rec->err, SIMREC_EIO,
		               "store '%s': no random bytes for its run id",
		               st->uri.name);
	char hex[2 * sizeof b + 1];
	for (size_t i = 0; i < sizeof b; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	simrec_attr_t a = {.type = SIMREC_ATTR_STRING, .s = hex};
	int rc = st->ops->attr_set(st, "", RUN_ATTR, &a);
	return rc ? sr_wrap(&rec->err, rc,
	                    "store '%s': cannot record its run id",
	                    st->uri.name)
	          : 0;
}
