/* Secrets out of printed text: every message of the library goes through
 * simrec_uri_masked (sr_fail), and so does every URI the CLI prints. */
#include <string.h>

#include "common.h"

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Append n bytes of s to out (cap bytes, *len used), truncating. */
static void put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
	if (*len + 1 >= cap)
		return;
	if (n > cap - 1 - *len)
		n = cap - 1 - *len;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = 0;
}

char *simrec_uri_masked(const char *text, char *out, size_t cap)
{
	if (!out || !cap)
		return out;
	out[0] = 0;
	if (!text)
		return out;
	size_t len = 0;
	const char *p = text;
	while (*p) {
		const char *sch = NULL;
		size_t skip = 0;
		if (!strncmp(p, "redis://", 8))
			sch = p, skip = 8;
		else if (!strncmp(p, "rediss://", 9))
			sch = p, skip = 9;
		if (sch) {
			const char *a = p + skip;
			/* as sr_redis_parse: the userinfo ends at the last '@'
			 * before the query (or white space, in a message) */
			size_t alen = 0;
			while (a[alen] && a[alen] != '?' && !is_space(a[alen]))
				alen++;
			const char *at = NULL;
			for (size_t i = 0; i < alen; i++)
				if (a[i] == '@')
					at = a + i;
			put(out, cap, &len, p, skip);
			if (at) {
				const char *colon =
				        memchr(a, ':', (size_t)(at - a));
				if (colon)
					put(out, cap, &len, a,
					    (size_t)(colon - a + 1));
				put(out, cap, &len, "***", 3);
				p = at;
			} else {
				p = a;
			}
			continue;
		}
		if (!strncmp(p, "password=", 9)) {
			put(out, cap, &len, p, 9);
			p += 9;
			if (*p && !strchr("&;'\"", *p) && !is_space(*p))
				put(out, cap, &len, "***", 3);
			while (*p && !strchr("&;'\"", *p) && !is_space(*p))
				p++;
			continue;
		}
		put(out, cap, &len, p, 1);
		p++;
	}
	return out;
}
