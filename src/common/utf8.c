/* UTF-8 validation (RFC 3629, table 3-7 of the Unicode standard). */
#include "utf8.h"

size_t sr_utf8_bad(const void *s, size_t len)
{
	const unsigned char *p = s;
	size_t i = 0;
	while (i < len) {
		unsigned c = p[i];
		size_t n;
		unsigned lo = 0x80, hi = 0xbf;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f; /* no surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f; /* at most U+10FFFF */
		} else {
			return i;
		}
		if (len - i <= n)
			return i;
		for (size_t k = 1; k <= n; k++) {
			unsigned b = p[i + k];
			if (b < (k == 1 ? lo : 0x80u) ||
			    b > (k == 1 ? hi : 0xbfu))
				return i;
		}
		i += n + 1;
	}
	return len;
}
