/* Store URIs: "scheme:path?key=value&key=value". */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int sr_uri_parse(const char *text, sr_uri *u, sr_err *e)
{
	memset(u, 0, sizeof *u);
	while (*text == ' ' || *text == '\t' || *text == '\n')
		text++;
	const char *colon = strchr(text, ':');
	if (!colon || colon == text)
		return sr_fail(e, SIMREC_EURI,
		               "store URI '%s' has no scheme (expected e.g. "
		               "zarr:PATH, zarr+dir:PATH, hdf5:PATH, memory:, "
		               "redis://HOST:PORT)",
		               text);
	u->buf = strdup(text);
	if (!u->buf)
		return sr_fail(e, SIMREC_ENOMEM, "out of memory");
	size_t n = strlen(u->buf);
	while (n && (u->buf[n - 1] == ' ' || u->buf[n - 1] == '\n'))
		u->buf[--n] = 0;
	char *p = u->buf + (colon - text);
	*p = 0;
	u->scheme = u->buf;
	char *rest = p + 1;
	if (!strcmp(u->scheme, "redis") || !strcmp(u->scheme, "rediss")) {
		/* keep the whole URI for the redis store */
		*p = ':';
		u->scheme = strdup("redis");
		if (!u->scheme)
			return sr_fail(e, SIMREC_ENOMEM, "out of memory");
		rest = u->buf;
	}
	char *q = strchr(rest, '?');
	if (q) {
		*q++ = 0;
		while (q && *q) {
			char *amp = strchr(q, '&');
			if (amp)
				*amp++ = 0;
			char *eq = strchr(q, '=');
			if (!eq || u->nparams == SR_MAX_PARAMS) {
				sr_fail(e, SIMREC_EURI,
				        "store URI '%s': bad parameter '%s' "
				        "(expected key=value)",
				        text, q);
				sr_uri_free(u);
				return SIMREC_EURI;
			}
			*eq = 0;
			u->keys[u->nparams] = q;
			u->vals[u->nparams++] = eq + 1;
			q = amp;
		}
	}
	u->path = rest;
	return 0;
}

void sr_uri_free(sr_uri *u)
{
	if (u->scheme && u->scheme != u->buf)
		free(u->scheme);
	free(u->buf);
	memset(u, 0, sizeof *u);
}

const char *sr_uri_param(const sr_uri *u, const char *key)
{
	for (int i = 0; i < u->nparams; i++)
		if (!strcmp(u->keys[i], key))
			return u->vals[i];
	return NULL;
}
