/* The store of a path given without a scheme, from what is on disk; a
 * scheme that does not fit what is on disk is refused. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* "hdf5", "zarr+dir" or "zarr" for what path holds, or NULL */
static const char *on_disk(const char *path)
{
	struct stat sb;
	if (stat(path, &sb))
		return NULL;
	if (S_ISREG(sb.st_mode)) {
		static const char sig[8] = "\x89HDF\r\n\x1a\n";
		char head[8];
		FILE *f = fopen(path, "rb");
		size_t n = f ? fread(head, 1, sizeof head, f) : 0;
		if (f)
			fclose(f);
		return n == 8 && !memcmp(head, sig, 8) ? "hdf5" : NULL;
	}
	if (!S_ISDIR(sb.st_mode))
		return NULL;
	char p[4096];
	snprintf(p, sizeof p, "%s/.zgroup", path);
	if (!stat(p, &sb))
		return "zarr+dir";
	snprintf(p, sizeof p, "%s/data.mdb", path);
	return stat(p, &sb) ? NULL : "zarr";
}

/* The length of uri's scheme ("hdf5" in "hdf5:x"), 0 if it has none */
static size_t scheme_len(const char *uri)
{
	size_t n = strspn(uri, "abcdefghijklmnopqrstuvwxyz0123456789+");
	return n && uri[n] == ':' ? n : 0;
}

const char *sr_cli_infer(const char *uri, char *buf, size_t cap)
{
	size_t n = scheme_len(uri);
	const char *path = n ? uri + n + 1 : uri, *found = on_disk(path);
	if (!n) {
		if (!found || strlen(found) + strlen(uri) + 2 > cap)
			return uri;
		snprintf(buf, cap, "%s:%s", found, uri);
		return buf;
	}
	int file_scheme = (n == 4 && !strncmp(uri, "hdf5", 4)) ||
	                  (n == 4 && !strncmp(uri, "zarr", 4)) ||
	                  (n == 8 && !strncmp(uri, "zarr+dir", 8));
	if (!file_scheme || !found ||
	    (strlen(found) == n && !strncmp(uri, found, n)))
		return uri;
	fprintf(stderr,
	        "%s: '%s' is not a %.*s: store: it holds a %s: store (open "
	        "it as %s:%s, or give no scheme)\n",
	        sr_cli_prog, sr_cli_shown(path), (int)n, uri, found, found,
	        sr_cli_shown(path));
	return NULL;
}
