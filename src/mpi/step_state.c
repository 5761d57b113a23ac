/* State that the collective steps share (record_all, record_global,
 * record_joined): the writer's step buffers and the keys every writer has
 * a dataset of. */
#include <stdlib.h>
#include <string.h>

#include "coll.h"

/* Keys whose dataset every writer has (the same list on every rank), and
 * how their steps travel (the same within a group); NULL if not seen. */
const sr_enc *sr_key_seen(sr_agg *a, const char *key)
{
	for (size_t i = 0; i < a->nseen; i++)
		if (!strcmp(a->seen[i], key))
			return &a->enc[i];
	return NULL;
}

void sr_key_mark(sr_agg *a, const char *key, const sr_enc *e)
{
	char *k = strdup(key);
	char **p = k ? realloc(a->seen, (a->nseen + 1) * sizeof *p) : NULL;
	if (p)
		a->seen = p;
	sr_enc *q = p ? realloc(a->enc, (a->nseen + 1) * sizeof *q) : NULL;
	if (!q) {
		free(k); /* only costs one more agreement next time */
		return;
	}
	a->enc = q;
	a->seen[a->nseen] = k;
	a->enc[a->nseen++] = *e;
}

/* The writer's step buffer: the one its I/O thread is not writing from
 * (the thread finished the step before last before it took the last
 * one), and large enough. Other ranks need none. */
int sr_slot_prepare(simrec_t *rec, size_t need)
{
	sr_agg *a = sr_agg_of(rec);
	sr_slot *s = &a->slot[a->cur];
	if (!a->is_writer || need <= s->cap)
		return 0;
	void *p = realloc(s->buf, need);
	if (!p)
		return sr_fail(&rec->err, SIMREC_ENOMEM,
		               "rank %d: out of memory for a %zu-byte step",
		               rec->rank, need);
	s->buf = p;
	s->cap = need;
	return 0;
}
