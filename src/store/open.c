/* Opening a store: the store's defaults, the caller's options, then the URI
 * parameters (the generic ones below and the store's own, each checked
 * against its kind); a ?lock= URI comes back wrapped in the lock store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/codec.h"
#include "store.h"

static int parse_mode(const char *v, simrec_mode_t *mode)
{
	if (!strcmp(v, "r"))
		*mode = SIMREC_MODE_READONLY;
	else if (!strcmp(v, "w"))
		*mode = SIMREC_MODE_CREATE;
	else if (!strcmp(v, "a"))
		*mode = SIMREC_MODE_APPEND;
	else
		return -1;
	return 0;
}

/* A count from the URI as an int; out of int's range: -1 (refused by the
 * range checks below). */
static int clamp_int(long x)
{
	return x > 1 << 30 ? -1 : (int)x;
}

/* name is one of list's names ("deflate, lzf"). */
static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p; p += strspn(p, ", ")) {
		size_t w = strcspn(p, ", ");
		if (w == n && !strncmp(p, name, n))
			return 1;
		p += w;
	}
	return 0;
}

/* Store defaults, then options, then URI parameters on top of them. A
 * read-only open stays read-only whatever ?mode= says. */
static int apply_params(sr_store *st, const simrec_options_t *o, sr_err *e)
{
	const sr_uri *u = &st->uri;
	const sr_settings *s = &st->set;
	int rc = sr_settings_parse(u, st->ops, &st->set, e);
	if (rc)
		return rc;
	st->mode = o->mode;
	st->chunk_bytes = s->has_chunk_bytes ? s->chunk_bytes
	                  : o->chunk_bytes   ? o->chunk_bytes
	                                     : st->ops->default_chunk_bytes;
	snprintf(st->codec.cname, sizeof st->codec.cname, "%s",
	         s->has_codec ? s->codec
	         : o->codec   ? o->codec
	                      : st->ops->default_codec);
	st->codec.level = s->has_level ? clamp_int(s->level) : o->level;
	/* 0: the default; a negative count is refused below */
	st->codec.nthreads = s->has_threads ? clamp_int(s->threads)
	                     : o->nthreads  ? o->nthreads
	                                    : 2;
	st->codec.shuffle = (int)o->shuffle;
	if (s->has_shuffle)
		st->codec.shuffle = !strcmp(s->shuffle, "none")   ? 0
		                    : !strcmp(s->shuffle, "byte") ? 1
		                    : !strcmp(s->shuffle, "bit")  ? 2
		                                                  : -1;
	const char *v = s->has_mode ? s->mode : NULL;
	simrec_mode_t m = st->mode;
	if (v && parse_mode(v, &m))
		return sr_fail(e, SIMREC_EURI,
		               "store '%s': mode must be r, w or a, not '%s'",
		               u->name, v);
	if (st->mode != SIMREC_MODE_READONLY)
		st->mode = m;
	if (st->codec.level < 0 || st->codec.level > 9 ||
	    st->codec.shuffle < 0 || st->codec.shuffle > 2 ||
	    (unsigned)st->mode > SIMREC_MODE_READONLY ||
	    st->codec.nthreads < 1 || st->codec.nthreads > 256 ||
	    st->chunk_bytes < 1 || st->chunk_bytes > (1u << 30))
		return sr_fail(e, SIMREC_ECONFIG,
		               "store '%s': level must be 0-9, shuffle "
		               "none/byte/bit, mode r/w/a, threads 1-256, "
		               "chunk_bytes 1 B to 1 GiB",
		               u->name);
	const char *extra = st->ops->extra_codecs;
	if (!sr_codec_valid(st->codec.cname) &&
	    !in_list(extra, st->codec.cname))
		return sr_fail(e, SIMREC_ECONFIG,
		               "store '%s': unknown codec '%s' (lz4, "
		               "blosclz, lz4hc, zstd, zlib, none%s%s)",
		               u->name, st->codec.cname, extra ? ", " : "",
		               extra ? extra : "");
	return 0;
}

/* The store in messages: its URI without the query, but with the
 * parameter that tells two stores of one server apart (a redis ?prefix=,
 * the store's lock_param) when the URI sets it. */
static int name_with_identity(sr_store *st, sr_err *e)
{
	const char *lp = st->ops->lock_param;
	const char *v = lp ? sr_uri_param(&st->uri, lp) : NULL;
	if (!v)
		return 0;
	/* from the text (as sr_uri_parse names it): a copy of a store's
	 * URI opened again gets the same name */
	int base = (int)strcspn(st->uri.text, "?");
	size_t n = (size_t)base + strlen(lp) + strlen(v) + 3;
	char *name = malloc(n);
	if (!name)
		return sr_fail(e, SIMREC_ENOMEM, "out of memory");
	snprintf(name, n, "%.*s?%s=%s", base, st->uri.text, lp, v);
	free(st->uri.name);
	st->uri.name = name;
	return 0;
}

const char *sr_store_name(const sr_store *st)
{
	return st->uri.server ? st->uri.name : st->uri.path;
}

int sr_store_open(const sr_uri *uri, const simrec_options_t *o, MPI_Comm comm,
                  int meta_writer, sr_err *e, sr_store **out)
{
	*out = NULL;
	sr_store *st = calloc(1, sizeof *st);
	if (!st)
		return sr_fail(e, SIMREC_ENOMEM, "out of memory");
	st->err = e;
	st->comm = comm;
	st->meta_writer = meta_writer;
	int rc = sr_uri_copy(uri, &st->uri, e); /* the store's own */
	if (rc) {
		free(st);
		return rc;
	}
	st->ops = sr_store_find(st->uri.scheme);
	st->flags = st->ops ? st->ops->flags : 0;
	if (!st->ops)
		rc = sr_fail(e, SIMREC_EURI,
		             "unknown scheme '%s' (memory, zarr, zarr+dir, "
		             "hdf5, redis) in store URI '%s'",
		             st->uri.scheme, st->uri.name);
	if (!rc)
		rc = apply_params(st, o, e);
	if (!rc)
		rc = name_with_identity(st, e);
	if (!rc && !(st->ops->flags & SR_STORE_NO_PATH) && !st->uri.path[0])
		rc = sr_fail(e, SIMREC_EURI, "store URI '%s:' has no path",
		             st->uri.scheme);
	if (rc) {
		sr_uri_free(&st->uri);
		free(st);
		return rc;
	}
	if (st->uri.lock)
		return sr_locked_wrap(st, out);
	rc = st->ops->open(st);
	if (rc) {
		sr_uri_free(&st->uri);
		free(st);
		return rc;
	}
	*out = st;
	return 0;
}

void sr_store_close(sr_store *st, int *status)
{
	if (!st)
		return;
	int rc = st->ops->close(st);
	sr_watch_close(st);
	if (rc && status && !*status)
		*status = rc;
	sr_uri_free(&st->uri);
	free(st);
}
