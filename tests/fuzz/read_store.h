/* Read a whole store as `simrec cat` and `simrec verify` do: open it
 * read-only, list it, open every dataset and decode all of it (numeric
 * data in slices of at most READ_MAX bytes, every vlen item). Shared by
 * the hostile-store probe and the fuzz targets. Returns the first
 * failure's status and leaves its message in msg. */
#ifndef SIMREC_READ_STORE_H
#define SIMREC_READ_STORE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simrec.h"

/* bytes read per pass: a fuzzed shape of one-column chunks makes a chunk
 * lookup per element, which the instrumented build pays 20 us for; 64 KiB
 * keeps an input within the fuzzer's timeout (4 MiB took over 60 s) */
#define READ_MAX ((size_t)1 << 16)

typedef struct rs_keys {
	char **v;
	size_t n;
} rs_keys;

static int rs_collect(const char *key, int is_dataset, void *arg)
{
	rs_keys *k = arg;
	if (!is_dataset)
		return 0;
	char **nv = realloc(k->v, (k->n + 1) * sizeof *nv);
	if (!nv)
		return SIMREC_ENOMEM;
	k->v = nv;
	return (k->v[k->n] = strdup(key)) ? (k->n++, 0) : SIMREC_ENOMEM;
}

static int rs_read_dataset(simrec_dataset_t *ds)
{
	int nd = simrec_dataset_ndim(ds);
	size_t sh[SIMREC_MAX_NDIM], st[SIMREC_MAX_NDIM] = {0},
	                            ct[SIMREC_MAX_NDIM];
	simrec_dataset_shape(ds, sh);
	simrec_dtype_t dt = simrec_dataset_dtype(ds);
	size_t isz = simrec_dtype_size(dt);
	if (!isz) { /* vlen: every item */
		char buf[256];
		size_t len;
		for (size_t i = 0; nd && i < sh[0] && i < 4096; i++) {
			int rc = simrec_dataset_read_bytes(ds, i, buf,
			                                   sizeof buf, &len);
			if (rc && rc != SIMREC_ETRUNC)
				return rc;
		}
		return 0;
	}
	/* numeric: a bounded box at the start, one at the end, and one row
	 * near the start (the whole-chunk and the partial-read paths both
	 * run) */
	for (int pass = 0; pass < 3; pass++) {
		size_t n = 1;
		for (int i = nd - 1; i >= 0; i--) {
			size_t room = READ_MAX / isz / n;
			ct[i] = pass == 2 && i < nd - 1 ? 1
			        : sh[i] < room          ? sh[i]
			                                : room;
			if (!ct[i] || !sh[i])
				return 0; /* empty dataset */
			st[i] = pass == 2 ? (size_t)(ct[i] < sh[i])
			        : pass    ? sh[i] - ct[i]
			                  : 0;
			n *= ct[i];
		}
		void *buf = malloc(n * isz);
		if (!buf)
			return SIMREC_ENOMEM;
		int rc = simrec_dataset_read(ds, st, ct, buf, n * isz);
		free(buf);
		if (rc)
			return rc;
	}
	return 0;
}

static int read_store(const char *uri, const char *only_key, char *msg,
                      size_t cap)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	msg[0] = 0;
	int rc = simrec_open(&rec, uri, &o);
	if (rc) {
		snprintf(msg, cap, "open: %s", simrec_errmsg(NULL));
		return rc;
	}
	rs_keys k = {0};
	if (only_key)
		rc = rs_collect(only_key, 1, &k);
	else
		rc = simrec_list(rec, "", rs_collect, &k);
	for (size_t i = 0; !rc && i < k.n; i++) {
		simrec_dataset_t *ds;
		rc = simrec_get_all(rec, k.v[i], &ds);
		if (!rc) {
			rc = rs_read_dataset(ds);
			simrec_dataset_close(ds);
		}
	}
	if (rc)
		snprintf(msg, cap, "%s", simrec_errmsg(rec));
	for (size_t i = 0; i < k.n; i++)
		free(k.v[i]);
	free(k.v);
	simrec_close(rec);
	return rc;
}

#endif
