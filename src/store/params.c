/* What every store file may call in the generic store layer: URI
 * parameters (the table of settings.h, parsed into sr_settings once),
 * the store's lock name and the torn-steps list and
 * message of its check. open.c, which calls the stores, is not among them. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store.h"

#define SR_PARAM_ROW_(name, kind, stores, dflt, doc) \
	{#name, SR_PARAM_##kind, SR_IN_##stores, dflt, doc},
static const sr_param table[] = {SR_URI_PARAMS(SR_PARAM_ROW_)};
#undef SR_PARAM_ROW_

/* Where each parameter's value and has_ flag live in sr_settings. */
#define SR_PARAM_OFFSETS_(name, kind, stores, dflt, doc) \
	{offsetof(sr_settings, name), offsetof(sr_settings, has_##name)},
static const struct {
	size_t value, has;
} offsets[] = {SR_URI_PARAMS(SR_PARAM_OFFSETS_)};
#undef SR_PARAM_OFFSETS_

#define NPARAMS (sizeof table / sizeof *table)

const sr_param *sr_params(size_t *n)
{
	*n = NPARAMS;
	return table;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"))
		*out = 1;
	else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* v parsed as kind into out (the field's C type); -1 if malformed. */
static int parse_value(sr_param_kind kind, const char *v, void *out)
{
	switch (kind) {
	case SR_PARAM_SIZE:
		return sr_parse_size(v, out);
	case SR_PARAM_COUNT:
		return sr_parse_count(v, out);
	case SR_PARAM_BOOL:
		return parse_bool(v, out);
	case SR_PARAM_SECONDS:
		return sr_parse_seconds(v, out);
	default:
		*(const char **)out = v;
		return 0;
	}
}

/* text (a parameter's name or value of u) as a message may show it: as
 * given when short, of name characters only and u holds no password= or
 * user= (any case), else "(not shown)": the part of a password after a
 * '&' must not be echoed as a name or a value. */
static const char *shown_part(const sr_uri *u, const char *text)
{
	for (int i = 0; i < u->nparams; i++)
		if (!strcasecmp(u->keys[i], "password") ||
		    !strcasecmp(u->keys[i], "user"))
			return "(not shown)";
	size_t n = strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
	                        "TUVWXYZ0123456789_-.");
	return n && n <= 32 && !text[n] ? text : "(not shown)";
}

static int unknown_param(const sr_uri *u, const sr_store_ops *ops,
                         const char *name, sr_err *e)
{
	char known[256] = "";
	size_t n = 0;
	for (size_t i = 0; i < NPARAMS; i++)
		if (table[i].stores & ops->param_bit)
			n += (size_t)snprintf(
			        known + n,
			        n < sizeof known ? sizeof known - n : 0, "%s%s",
			        n ? ", " : "", table[i].name);
	return sr_fail(e, SIMREC_EURI,
	               "store '%s:': unknown parameter '%s' (known: %s)",
	               u->scheme, shown_part(u, name), known);
}

int sr_settings_parse(const sr_uri *u, const sr_store_ops *ops, sr_settings *s,
                      sr_err *e)
{
	memset(s, 0, sizeof *s);
	for (int i = 0; i < u->nparams; i++) {
		size_t k = 0;
		while (k < NPARAMS && (strcmp(table[k].name, u->keys[i]) ||
		                       !(table[k].stores & ops->param_bit)))
			k++;
		if (k == NPARAMS)
			return unknown_param(u, ops, u->keys[i], e);
		char *base = (char *)s;
		if (parse_value(table[k].kind, u->vals[i],
		                base + offsets[k].value))
			return sr_fail(e, SIMREC_EURI,
			               "store '%s:': bad value '%s' for '%s'",
			               u->scheme, shown_part(u, u->vals[i]),
			               u->keys[i]);
		base[offsets[k].has] = 1;
	}
	return 0;
}

void sr_store_lock_name(const sr_store *st, char *out, size_t cap)
{
	char raw[8192], named[8192];
	const char *lp = st->ops->lock_param;
	const char *v = lp ? sr_uri_param(&st->uri, lp) : NULL;
	snprintf(raw, sizeof raw, "%s:%s%s%s%s%s", st->uri.scheme, st->uri.path,
	         lp ? "?" : "", lp ? lp : "", lp ? "=" : "",
	         lp ? (v ? v : st->ops->lock_param_default) : "");
	sr_resource_name(raw, named, sizeof named);
	simrec_uri_masked(named, out, cap);
}

/* The steps of chunk row `row`: first and count (never past shape[0]). */
static size_t row_first(const sr_meta *m, size_t row)
{
	return row * m->chunks[0]; /* row <= (shape[0] - 1) / chunks[0] */
}

static size_t row_steps(const sr_meta *m, size_t row)
{
	size_t left = m->shape[0] - row_first(m, row);
	return left < m->chunks[0] ? left : m->chunks[0];
}

void sr_torn_add(sr_torn *t, const sr_meta *m, size_t row, const char *why)
{
	int seen = t->n || t->more;
	t->nbad++;
	if (seen && row <= t->last)
		return; /* another chunk of a row already counted */
	size_t k = t->n;
	if (k && !t->more && t->r[k - 1].row1 + 1 == row &&
	    !strcmp(t->r[k - 1].why, why))
		t->r[k - 1].row1 = row;
	else if (k < SR_TORN_RANGES && !t->more) {
		t->r[k].row0 = t->r[k].row1 = row;
		t->r[k].why = why;
		t->n++;
	} else
		t->more += row_steps(m, row);
	t->last = row;
}

int sr_torn_stop(sr_torn *t, const sr_meta *m, size_t row)
{
	if (!t->nbad || t->probes++ < SR_TORN_PROBES)
		return 0;
	t->stop = row_first(m, row);
	t->stopped = 1;
	return 1;
}

/* One range "4 (why)" or "4-9 (why)" into out; its length. */
static size_t range_text(char *out, size_t cap, const sr_meta *m,
                         const sr_torn *t, size_t i)
{
	size_t a = row_first(m, t->r[i].row0),
	       b = row_first(m, t->r[i].row1) + row_steps(m, t->r[i].row1) - 1;
	int w = a == b ? snprintf(out, cap, "%s%zu (%s)", i ? ", " : "", a,
	                          t->r[i].why)
	               : snprintf(out, cap, "%s%zu-%zu (%s)", i ? ", " : "", a,
	                          b, t->r[i].why);
	return w > 0 ? (size_t)w : 0;
}

int sr_store_torn(sr_store *st, const char *key, const sr_meta *m,
                  const sr_torn *t, size_t *whole)
{
	*whole = m->ndim ? m->shape[0] : 1;
	if (!t->nbad)
		return 0;
	/* the list fits in 256 bytes, so the whole message fits SR_ERRLEN:
	 * a range that would not fit is counted with the rest */
	char list[256] = "", one[128];
	size_t len = 0, more = t->more, i = 0;
	for (; i < t->n; i++) {
		size_t w = range_text(one, sizeof one, m, t, i);
		if (len + w + 40 >= sizeof list)
			break;
		memcpy(list + len, one, w + 1);
		len += w;
	}
	for (; i < t->n; i++)
		more += row_first(m, t->r[i].row1) +
		        row_steps(m, t->r[i].row1) - row_first(m, t->r[i].row0);
	if (more)
		snprintf(list + len, sizeof list - len,
		         ", ... and %zu more step(s)", more);
	*whole = row_first(m, t->r[0].row0);
	char stop[128] = "";
	if (t->stopped)
		snprintf(stop, sizeof stop,
		         "; steps from %zu on not examined (a check stops %zu "
		         "chunks after the first bad one)",
		         t->stop, SR_TORN_PROBES);
	return sr_fail(st->err, SIMREC_EFORMAT,
	               "steps %s of '%s' in '%s' are not whole (%zu bad "
	               "chunk(s))%s%s%s",
	               list, key, st->uri.path, t->nbad, stop,
	               t->first[0] ? "; first bad chunk " : "", t->first);
}
