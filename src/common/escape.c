/* Escaping of untrusted text for terminals (escape.h). */
#include "escape.h"

#include <stdio.h>
#include <string.h>

#include "utf8.h"

/* Is the well-formed character at p (need bytes) a bidirectional
 * control: U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069? They
 * reorder what a terminal shows (a name can display as another). */
static int bidi_control(const unsigned char *p, size_t need)
{
	if (need == 2)
		return p[0] == 0xd8 && p[1] == 0x9c;
	if (need != 3 || p[0] != 0xe2)
		return 0;
	return (p[1] == 0x80 && (p[2] == 0x8e || p[2] == 0x8f ||
	                         (p[2] >= 0xaa && p[2] <= 0xae))) ||
	       (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9);
}

/* The escape of the unit at p[0..n): its length in out (at most
 * SR_ESC_MAX bytes) and, through *used, the input bytes it stands for. */
static size_t esc_unit(const unsigned char *p, size_t n, int flags, char *out,
                       size_t *used)
{
	unsigned c = p[0];
	*used = 1;
	if (c >= 0x20 && c < 0x7f) {
		if (c == '\\' && (flags & SR_ESC_BACKSLASH)) {
			memcpy(out, "\\\\", 2);
			return 2;
		}
		out[0] = (char)c;
		return 1;
	}
	static const char named[][3] = {
	        {'\n', 'n'}, {'\t', 't'}, {'\r', 'r'}, {0x1b, 'e'}};
	for (size_t i = 0; i < sizeof named / sizeof *named; i++)
		if ((unsigned char)named[i][0] == c) {
			out[0] = '\\';
			out[1] = named[i][1];
			return 2;
		}
	if (c >= 0x80) {
		size_t need = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		/* one well-formed character, not a C1 control (U+0080-U+009F:
		 * U+009B is a CSI to some terminals), not a bidi control (its
		 * bytes are escaped one by one) */
		if (need <= n && sr_utf8_bad(p, need) == need &&
		    !(c == 0xc2 && p[1] < 0xa0) && !bidi_control(p, need)) {
			memcpy(out, p, need);
			*used = need;
			return need;
		}
	}
	snprintf(out, SR_ESC_MAX + 1, "\\x%02x", c);
	return SR_ESC_MAX;
}

size_t sr_escape(char *out, size_t cap, const void *s, size_t n, int flags)
{
	const unsigned char *p = s;
	size_t w = 0;
	char unit[SR_ESC_MAX + 1];
	for (size_t i = 0; i < n;) {
		size_t used;
		size_t k = esc_unit(p + i, n - i, flags, unit, &used);
		if (w + k >= cap)
			break;
		memcpy(out + w, unit, k);
		w += k;
		i += used;
	}
	out[w] = '\0';
	return w;
}
