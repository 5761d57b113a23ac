/* test_precedence DIR: a setting made in several places takes the value
 * the manual's "Precedence" section says (include/simrec.h): a URI
 * parameter over the options, the options over the store's default, and
 * SIMREC_STORE replacing a writer's URI list (its parameters then winning
 * over the options) but never a reader's. Checked for chunk_bytes (the
 * chunk shape the chunk rule makes of each target), the codec (the
 * compressor the store describes) and SIMREC_STORE. Exit 0 if all hold. */
#define _XOPEN_SOURCE 700 /* mkdtemp, setenv */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simrec.h"

#define N            2000 /* float64 elements per record: 16000 bytes */
#define RECORD_BYTES (N * sizeof(double))

static int failures;

static void check(int ok, const char *what)
{
	printf("%s: %s\n", ok ? "ok" : "FAILED", what);
	failures += !ok;
}

/* Record one record under "v" into uri with the given options (NULL
 * fields: defaults). */
static int write_one(const char *uri, size_t chunk_bytes, const char *codec)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_CREATE;
	o.chunk_bytes = chunk_bytes;
	o.codec = codec;
	simrec_t *rec;
	int rc = simrec_open(&rec, uri, &o);
	if (rc) {
		fprintf(stderr, "open %s: %s\n", uri, simrec_errmsg(NULL));
		return rc;
	}
	static double v[N];
	for (size_t i = 0; i < N; i++)
		v[i] = (double)i;
	size_t shape[1] = {N};
	rc = simrec_record(rec, "v", SIMREC_FLOAT64, 1, shape, v);
	if (rc)
		fprintf(stderr, "record %s: %s\n", uri, simrec_errmsg(rec));
	int rc2 = simrec_close(rec);
	return rc ? rc : rc2;
}

/* The records per chunk, and the description, of "v" in the store at
 * uri (read-only); 0 if it cannot be read. */
static size_t read_back(const char *uri, char *describe, size_t cap)
{
	simrec_options_t o;
	simrec_options_init(&o);
	o.mode = SIMREC_MODE_READONLY;
	simrec_t *rec;
	if (simrec_open(&rec, uri, &o))
		return 0;
	simrec_dataset_t *ds;
	size_t chunks[SIMREC_MAX_NDIM] = {0};
	char *json = NULL;
	if (!simrec_get_all(rec, "v", &ds)) {
		simrec_dataset_chunks(ds, chunks);
		if (!simrec_dataset_describe(ds, &json))
			snprintf(describe, cap, "%s", json);
		free(json);
		simrec_dataset_close(ds);
	}
	simrec_close(rec);
	return chunks[0];
}

/* The chunk rule for records smaller than the target: whole records
 * stacked, target / record bytes of them. */
static size_t records_per_chunk(size_t target)
{
	return target / RECORD_BYTES;
}

static void chunk_bytes(const char *dir)
{
	char uri[8192], desc[4096];
	snprintf(uri, sizeof uri, "zarr+dir:%s/default.zarr", dir);
	write_one(uri, 0, NULL);
	check(read_back(uri, desc, sizeof desc) ==
	              records_per_chunk((size_t)8 << 20),
	      "chunk_bytes: the store's default (8 MiB for zarr+dir)");
	snprintf(uri, sizeof uri, "zarr+dir:%s/options.zarr", dir);
	write_one(uri, 80000, NULL);
	check(read_back(uri, desc, sizeof desc) == records_per_chunk(80000),
	      "chunk_bytes: the options over the store's default");
	snprintf(uri, sizeof uri, "zarr+dir:%s/uri.zarr?chunk_bytes=160000",
	         dir);
	write_one(uri, 80000, NULL);
	check(read_back(uri, desc, sizeof desc) == records_per_chunk(160000),
	      "chunk_bytes: the URI over the options");
}

static void codec(const char *dir)
{
	char uri[8192], desc[4096] = "";
	snprintf(uri, sizeof uri, "zarr+dir:%s/c_default.zarr", dir);
	write_one(uri, 0, NULL);
	read_back(uri, desc, sizeof desc);
	check(strstr(desc, "\"cname\": \"lz4\"") ||
	              strstr(desc, "\"cname\":\"lz4\""),
	      "codec: the store's default (lz4 for zarr+dir)");
	snprintf(uri, sizeof uri, "zarr+dir:%s/c_options.zarr", dir);
	write_one(uri, 0, "zstd");
	read_back(uri, desc, sizeof desc);
	check(strstr(desc, "zstd") != NULL,
	      "codec: the options over the store's default");
	snprintf(uri, sizeof uri, "zarr+dir:%s/c_uri.zarr?codec=none", dir);
	write_one(uri, 0, "zstd");
	desc[0] = 0;
	read_back(uri, desc, sizeof desc);
	check(strstr(desc, "\"compressor\": null") ||
	              strstr(desc, "\"compressor\":null"),
	      "codec: the URI over the options");
}

static void store_env(const char *dir)
{
	char given[8192], env[8192], desc[4096];
	snprintf(given, sizeof given, "zarr+dir:%s/given.zarr", dir);
	snprintf(env, sizeof env, "zarr+dir:%s/env.zarr?chunk_bytes=160000",
	         dir);
	setenv("SIMREC_STORE", env, 1);
	write_one(given, 80000, NULL);
	/* a read-only open ignores SIMREC_STORE: it reads what it is given */
	size_t in_env = read_back(env, desc, sizeof desc);
	size_t in_given = read_back(given, desc, sizeof desc);
	unsetenv("SIMREC_STORE");
	check(in_env == records_per_chunk(160000),
	      "SIMREC_STORE replaces a writer's URI, its chunk_bytes over "
	      "the options");
	check(in_given == 0,
	      "SIMREC_STORE: nothing written to the URI it replaced, and a "
	      "reader opens the URI it is given");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_precedence DIR\n");
		return 2;
	}
	unsetenv("SIMREC_STORE");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/precedence.XXXXXX", argv[1]);
	if (!mkdtemp(dir)) {
		perror(dir);
		return 1;
	}
	chunk_bytes(dir);
	codec(dir);
	store_env(dir);
	if (failures)
		fprintf(stderr, "precedence: %d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
