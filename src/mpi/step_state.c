/* What the collective steps (record_all, record_global, record_joined)
 * share: the agreement that starts each, the writer's step buffers and
 * the keys every writer has a dataset of. */
#include <stdlib.h>
#include <string.h>

#include "coll.h"

/* Keys whose dataset every writer has (the same list on every rank), and
 * how their steps travel (the same within a group); NULL if not seen. */
const sr_travel *sr_key_seen(sr_agg *a, const char *key)
{
	for (size_t i = 0; i < a->keys.n; i++)
		if (!strcmp(a->keys.names[i], key))
			return &a->keys.travel[i];
	return NULL;
}

void sr_key_mark(sr_agg *a, const char *key, const sr_travel *t)
{
	sr_step_keys *s = &a->keys;
	char *k = strdup(key);
	if (!k || SR_GROW_N(s->names, s->capnames, s->n + 1) ||
	    SR_GROW_N(s->travel, s->captravel, s->n + 1)) {
		free(k); /* only costs one more agreement next time */
		return;
	}
	s->names[s->n] = k;
	s->travel[s->n++] = *t;
}

/* The writer's step buffer: the one its I/O thread is not writing from
 * (the thread finished the step before last before it took the last
 * one), and large enough. Other ranks need none. */
int sr_step_buf_prepare(simrec_t *rec, size_t need)
{
	sr_agg *a = sr_agg_of(rec);
	sr_step_buf *s = &a->move.step_buf[a->move.current];
	if (!a->topo.is_writer || need <= s->cap)
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

int sr_step_agree_run(simrec_t *rec, const sr_step_call *c, int local)
{
	sr_agg *a = sr_agg_of(rec);
	double t1 = sr_clock();
	int64_t maxpend = 0;
	/* a writer fenced off by a newer one (?lock=): every rank learns
	 * it now, not at the next chunk write */
	if (!local)
		local = sr_rec_fenced(rec);
	int rc = sr_agree_step(rec, c->key, c->dtype, c->ndim, c->shape, local,
	                       (int64_t)a->deferred.len, &maxpend);
	a->time.agree += sr_clock() - t1;
	if (rc) {
		sr_rec_note(rec, rc);
		return rc;
	}
	rc = sr_exchange_pending(rec, maxpend);
	int r2 = c->run(rec, c->ctx);
	if (!rc)
		rc = r2;
	if (!r2)
		rec->bytes_in += c->bytes;
	rec->t_in += sr_clock() - c->t0;
	sr_rec_note(rec, rc);
	if (a->term) /* every rank saw it in this agreement: close, die */
		sr_term_act();
	return rc;
}

int sr_step_write_serial(simrec_t *rec, int rc, const sr_step_write *w,
                         size_t bytes, double t0)
{
	if (!rc)
		rc = sr_write_step(rec, w);
	if (!rc)
		rec->bytes_in += bytes;
	rec->t_in += sr_clock() - t0;
	return rc;
}
