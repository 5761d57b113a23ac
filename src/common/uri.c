/* Store URIs: "scheme:path?key=value&key=value", and ';'-separated lists
 * of them. Parsed once, here; every layer reads the parsed struct. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "env.h"

static int uri_fail(sr_uri *u, sr_err *e, int status, const char *what,
                    const char *text)
{
	sr_uri_free(u);
	/* the URI last: simrec_uri_masked masks a secret to the end */
	return sr_fail(e, status, "%s, in store URI '%s'", what, text);
}

static int parse_query(sr_uri *u, char *q, const char *text, sr_err *e)
{
	while (q && *q) {
		char *amp = strchr(q, '&');
		if (amp)
			*amp++ = 0;
		char *eq = strchr(q, '=');
		if (!eq || eq == q || u->nparams == SR_MAX_PARAMS)
			return uri_fail(u, e, SIMREC_EURI,
			                "bad parameter (expected key=value, at "
			                "most 16)",
			                text);
		*eq = 0;
		for (int i = 0; i < u->nparams; i++)
			if (!strcmp(u->keys[i], q))
				return uri_fail(u, e, SIMREC_EURI,
				                "a parameter is given twice",
				                text);
		u->keys[u->nparams] = q;
		u->vals[u->nparams++] = eq + 1;
		q = amp;
	}
	return 0;
}

const char *sr_server_scheme(const char *s, size_t n)
{
	static const char *const names[] = {"redis", "rediss"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strlen(names[i]) == n && !strncmp(s, names[i], n))
			return "redis";
	return NULL;
}

int sr_uri_parse(const char *text, sr_uri *u, sr_err *e)
{
	memset(u, 0, sizeof *u);
	if (!text)
		return sr_fail(e, SIMREC_EURI, "no store URI given");
	while (*text == ' ' || *text == '\t' || *text == '\n')
		text++;
	const char *colon = strchr(text, ':');
	if (!colon || colon == text)
		return sr_fail(e, SIMREC_EURI,
		               "no scheme (expected e.g. zarr:PATH, "
		               "zarr+dir:PATH, hdf5:PATH, memory:, "
		               "redis://HOST:PORT) in store URI '%s'",
		               text);
	u->buf = strdup(text);
	u->text = strdup(text);
	if (!u->buf || !u->text)
		return uri_fail(u, e, SIMREC_ENOMEM, "out of memory", text);
	size_t n = strlen(u->buf);
	while (n && (u->buf[n - 1] == ' ' || u->buf[n - 1] == '\n' ||
	             u->buf[n - 1] == '\t')) {
		u->buf[--n] = 0;
		u->text[n] = 0;
	}
	char *p = u->buf + (colon - text);
	*p = 0;
	u->scheme = u->buf;
	char *rest = p + 1;
	const char *server = sr_server_scheme(u->scheme, strlen(u->scheme));
	if (server) {
		/* keep the whole URI for the server's store */
		*p = ':';
		u->server = 1;
		u->scheme = strdup(server);
		if (!u->scheme)
			return uri_fail(u, e, SIMREC_ENOMEM, "out of memory",
			                text);
		rest = u->buf;
	}
	char *q = strchr(rest, '?');
	if (q)
		*q++ = 0;
	int rc = parse_query(u, q, text, e);
	if (rc)
		return rc;
	u->path = rest;
	/* "run.zarr/" is "run.zarr": a trailing slash would make lstat()
	 * follow a symbolic link that create mode must not go through */
	if (!u->server) {
		size_t pl = strlen(rest);
		while (pl > 1 && rest[pl - 1] == '/')
			rest[--pl] = 0;
	}
	u->name = strdup(u->text);
	if (!u->name)
		return uri_fail(u, e, SIMREC_ENOMEM, "out of memory", text);
	u->name[strcspn(u->name, "?")] = 0;
	u->lock = sr_uri_param(u, "lock");
	if (u->lock && !*u->lock)
		return uri_fail(u, e, SIMREC_EURI, "empty lock= server", text);
	return 0;
}

void sr_uri_free(sr_uri *u)
{
	if (u->scheme && u->scheme != u->buf)
		free(u->scheme);
	free(u->buf);
	free(u->text);
	free(u->name);
	memset(u, 0, sizeof *u);
}

/* p, a pointer into from->buf, moved to the same place in buf. */
static char *rebase(const sr_uri *from, char *buf, const char *p)
{
	return p ? buf + (p - from->buf) : NULL;
}

int sr_uri_copy(const sr_uri *from, sr_uri *to, sr_err *e)
{
	memset(to, 0, sizeof *to);
	size_t n = strlen(from->text) + 1; /* buf: text with NULs put in */
	to->buf = malloc(n);
	to->text = strdup(from->text);
	to->name = strdup(from->name);
	int own_scheme = from->scheme != from->buf;
	to->scheme = own_scheme ? strdup(from->scheme) : to->buf;
	if (!to->buf || !to->text || !to->name || !to->scheme) {
		if (own_scheme)
			free(to->scheme);
		to->scheme = NULL;
		sr_uri_free(to);
		return sr_fail(e, SIMREC_ENOMEM, "out of memory");
	}
	memcpy(to->buf, from->buf, n);
	to->path = rebase(from, to->buf, from->path);
	to->server = from->server;
	to->nparams = from->nparams;
	for (int i = 0; i < from->nparams; i++) {
		to->keys[i] = rebase(from, to->buf, from->keys[i]);
		to->vals[i] = rebase(from, to->buf, from->vals[i]);
	}
	to->lock = rebase(from, to->buf, from->lock);
	return 0;
}

const char *sr_uri_param(const sr_uri *u, const char *key)
{
	for (int i = 0; i < u->nparams; i++)
		if (!strcmp(u->keys[i], key))
			return u->vals[i];
	return NULL;
}

int sr_uri_list_parse(const char *text, sr_uri_list *l, sr_err *e)
{
	memset(l, 0, sizeof *l);
	if (!text)
		return sr_fail(e, SIMREC_EURI, "no store URI given");
	char *list = strdup(text), *save = NULL;
	if (!list)
		return sr_fail(e, SIMREC_ENOMEM, "out of memory");
	int rc = 0;
	for (char *u = strtok_r(list, ";", &save); u && !rc;
	     u = strtok_r(NULL, ";", &save)) {
		while (*u == ' ' || *u == '\t' || *u == '\n')
			u++;
		if (!*u)
			continue;
		if (l->n == SR_MAX_STORES)
			rc = sr_fail(e, SIMREC_ECONFIG,
			             "more than %d stores in one recorder",
			             SR_MAX_STORES);
		else if (!(rc = sr_uri_parse(u, &l->u[l->n], e)))
			l->n++;
	}
	free(list);
	if (!rc && l->n == 0)
		rc = sr_fail(e, SIMREC_EURI, "no store URI given");
	if (rc)
		sr_uri_list_free(l);
	return rc;
}

void sr_uri_list_free(sr_uri_list *l)
{
	for (int i = 0; i < l->n; i++)
		sr_uri_free(&l->u[i]);
	l->n = 0;
}

const char *sr_uri_choose(const char *given, simrec_mode_t mode)
{
	const char *env = sr_env(SR_ENV_SIMREC_STORE);
	if (mode != SIMREC_MODE_READONLY && env && *env)
		return env;
	return given;
}

int sr_parse_size(const char *v, size_t *out)
{
	char *end;
	if (!v || *v < '0' || *v > '9')
		return -1;
	unsigned long long x = strtoull(v, &end, 10);
	unsigned shift = 0;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	default:
		break;
	}
	if (shift) {
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
	}
	if (*end || x > (SIZE_MAX >> shift))
		return -1;
	*out = (size_t)(x << shift);
	return 0;
}

int sr_parse_count(const char *v, long *out)
{
	char *end;
	if (!v || *v < '0' || *v > '9')
		return -1;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (*end || errno)
		return -1;
	*out = x;
	return 0;
}

int sr_parse_seconds(const char *v, double *out)
{
	char *end;
	if (!v)
		return -1;
	double d = strtod(v, &end);
	if (end == v || *end || !(d > 0 && d < 1e9))
		return -1;
	*out = d;
	return 0;
}

/* PATH absolute and canonical; a PATH that does not exist yet gets its
 * parent resolved. */
static void canonical_path(const char *path, char *out, size_t cap)
{
	char buf[PATH_MAX];
	if (realpath(path, buf)) {
		snprintf(out, cap, "%s", buf);
		return;
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	size_t n0 = strlen(dir);
	while (n0 > 1 && dir[n0 - 1] == '/')
		dir[--n0] = 0;
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : dir;
	if (slash == dir)
		snprintf(buf, sizeof buf, "/");
	else if (slash)
		*slash = 0;
	if (slash != dir &&
	    !realpath(slash ? dir : ".", buf)) { /* no parent: as given */
		snprintf(out, cap, "%s", path);
		return;
	}
	int n = snprintf(out, cap, "%s%s%s", buf, strcmp(buf, "/") ? "/" : "",
	                 base);
	if (n < 0 || (size_t)n >= cap) /* too long to resolve: as given */
		snprintf(out, cap, "%s", path);
}

void sr_resource_name(const char *in, char *out, size_t cap)
{
	const char *colon = in ? strchr(in, ':') : NULL;
	if (!colon || !cap) {
		snprintf(out, cap, "%s", in ? in : "");
		return;
	}
	size_t sl = (size_t)(colon - in);
	const char *server = sr_server_scheme(in, sl);
	if (server) {
		/* redis:redis://[user:pass@]host... : no credentials */
		const char *p = colon + 1, *rest = strstr(p, "://");
		const char *at = rest ? strchr(rest + 3, '@') : NULL;
		const char *end =
		        rest ? rest + 3 + strcspn(rest + 3, "/?") : NULL;
		if (at && end && at < end) {
			const char *last = at;
			for (const char *q = at; q && q < end;
			     q = strchr(q + 1, '@'))
				last = q;
			snprintf(out, cap, "%s:%.*s%s", server,
			         (int)(rest + 3 - p), p, last + 1);
		} else {
			snprintf(out, cap, "%s", in);
		}
		return;
	}
	if (sl == 6 && !strncmp(in, "memory", 6)) {
		snprintf(out, cap, "%s", in);
		return;
	}
	char path[PATH_MAX];
	canonical_path(colon + 1, path, sizeof path);
	snprintf(out, cap, "%.*s:%s", (int)sl, in, path);
}
