/* Secrets out of printed text: every message of the library goes through
 * simrec_uri_masked (sr_fail), and so does every URI the CLI and the
 * Python package print. It is the one place that knows what a secret is:
 *   - the userinfo of any "SCHEME://" (whatever the scheme's case): all
 *     from "//" to the LAST '@' of the text, whatever lies between (white
 *     space, ';', '?', another URI), as "***";
 *   - the value of a password= or user= parameter (any case): all to the
 *     end of the text, as "***" ('&', quotes and white space in it
 *     included, so no part of it can pass for another parameter).
 * It masks more rather than less: a message puts the URI it quotes last
 * (uri.c, open.c), so nothing after a value is lost. */
#include <string.h>

#include "common.h"

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

static int lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* Length of "password=" or "user=" (any case) at p when it starts a
 * parameter name (p is the text's start or follows no name character);
 * 0 otherwise. */
static size_t secret_key(const char *text, const char *p)
{
	static const char *const keys[] = {"password=", "user="};
	if (p > text && name_char(p[-1]))
		return 0;
	for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
		size_t i = 0;
		while (keys[k][i] && lower(p[i]) == keys[k][i])
			i++;
		if (!keys[k][i])
			return i;
	}
	return 0;
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
		if (!strncmp(p, "://", 3)) {
			put(out, cap, &len, p, 3);
			p += 3;
			const char *at = strrchr(p, '@');
			if (at) {
				put(out, cap, &len, "***", 3);
				p = at;
			}
			continue;
		}
		size_t k = secret_key(text, p);
		if (k) {
			put(out, cap, &len, p, k);
			if (p[k])
				put(out, cap, &len, "***", 3);
			break;
		}
		put(out, cap, &len, p, 1);
		p++;
	}
	return out;
}
