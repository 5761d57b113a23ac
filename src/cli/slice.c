/* numpy-like slices of the command line: parsed, and the elements of a
 * strided selection found in the box read for it. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* One "a:b" or "a:b:c" of a slice (numpy's rules, steps >= 1) into
 * start st, count ct and step sp within len; -1 if malformed. */
static int parse_range(char *part, long long len, size_t *st, size_t *ct,
                       size_t *sp)
{
	char *c1 = strchr(part, ':'), *c2 = strchr(c1 + 1, ':');
	*c1 = 0;
	if (c2)
		*c2 = 0;
	char *e1, *e2, *e3;
	long long a = *part ? strtoll(part, &e1, 10) : 0,
	          b = c1[1] ? strtoll(c1 + 1, &e2, 10) : len,
	          c = c2 && c2[1] ? strtoll(c2 + 1, &e3, 10) : 1;
	if ((*part && *e1) || (c1[1] && *e2) || (c2 && c2[1] && *e3) || c < 1)
		return -1;
	a = a < 0 ? a + len : a;
	b = b < 0 ? b + len : b;
	b = b > len ? len : b;
	if (a < 0 || a > b)
		return -1;
	*st = (size_t)a;
	*ct = (size_t)((b - a + c - 1) / c);
	*sp = (size_t)c;
	return 0;
}

int sr_cli_parse_slice(const char *s, int nd, const size_t *sh, size_t *st,
                       size_t *ct, size_t *sp, int *keep)
{
	for (int i = 0; i < nd; i++) {
		st[i] = 0;
		ct[i] = sh[i];
		sp[i] = 1;
		keep[i] = 1;
	}
	int d = 0;
	while (s && *s) {
		if (d >= nd)
			return -1;
		const char *comma = strchr(s, ',');
		char part[64];
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		if (n >= sizeof part)
			return -1;
		memcpy(part, s, n);
		part[n] = 0;
		char *colon = strchr(part, ':');
		long long len = (long long)sh[d];
		if (colon) {
			if (parse_range(part, len, &st[d], &ct[d], &sp[d]))
				return -1;
		} else {
			char *e;
			long long a = strtoll(part, &e, 10);
			if (!*part || *e)
				return -1;
			a = a < 0 ? a + len : a;
			if (a < 0 || a >= len)
				return -1;
			st[d] = (size_t)a;
			ct[d] = 1;
			keep[d] = 0;
		}
		d++;
		s = comma ? comma + 1 : NULL;
	}
	return 0;
}

size_t sr_cli_box_offset(int nd, const size_t *ct, const size_t *sp,
                         const size_t *bx, size_t i)
{
	size_t off = 0, stride = 1;
	for (int d = nd - 1; d >= 0; d--) {
		off += (i % ct[d]) * sp[d] * stride;
		i /= ct[d];
		stride *= bx[d];
	}
	return off;
}
