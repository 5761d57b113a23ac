/* Key syntax: '/'-separated names, no empty parts, no "." / ".." parts,
 * no ".z*" parts (zarr metadata), no ".simrec*" parts (temporary files). */
#include <stdlib.h>
#include <string.h>

#include "common.h"

int sr_key_valid(const char *key)
{
	if (!key || !*key || *key == '/')
		return 0;
	/* control characters: invisible in listings, unsafe in file names */
	for (const unsigned char *c = (const unsigned char *)key; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return 0;
	const char *p = key;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.') ||
		    (p[0] == '.' && n > 1 && p[1] == 'z') ||
		    (n >= 7 && !strncmp(p, ".simrec", 7)))
			return 0; /* empty part, dot parts, zarr metadata names,
			           * names reserved for simrec's own files */
		p += n;
		if (*p == '/') {
			p++;
			if (!*p)
				return 0;
		}
	}
	return 1;
}

char *sr_key_parent(const char *key)
{
	const char *slash = strrchr(key, '/');
	size_t n = slash ? (size_t)(slash - key) : 0;
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, key, n);
		s[n] = 0;
	}
	return s;
}

int sr_mpi_active(void)
{
	int init = 0, fin = 0;
	MPI_Initialized(&init);
	MPI_Finalized(&fin);
	return init && !fin;
}

size_t sr_meta_elems(const sr_meta *m)
{
	size_t n = 1;
	for (int i = 0; i < m->ndim; i++)
		n *= m->shape[i];
	return n;
}

size_t sr_row_elems(const sr_meta *m)
{
	size_t n = 1;
	for (int i = 1; i < m->ndim; i++)
		n *= m->shape[i];
	return n;
}

const char *sr_key_root(const char *key)
{
	return !key || !strcmp(key, "/") ? "" : key;
}
