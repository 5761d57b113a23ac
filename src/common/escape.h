/* Text from a file or a server made safe for a terminal and a line-based
 * reader: names of keys and attributes, lock holders, error messages that
 * quote them (docs/safety.md). */
#ifndef SIMREC_ESCAPE_H
#define SIMREC_ESCAPE_H

#include <stddef.h>

/* Also escape '\' as "\\": the escaped text then reads back unambiguously
 * (names). Without it, escaping is idempotent, so a message that wraps an
 * escaped message is not escaped twice. */
#define SR_ESC_BACKSLASH 1

/* The longest escape of one input byte ("\xNN"). */
#define SR_ESC_MAX 4

/* Copy s[0..n) into out (cap > 0 bytes, always NUL-terminated, cut before
 * an escape that would not fit) with control characters (C0, DEL, C1) and
 * bytes that are not well-formed UTF-8 (and the bidirectional controls
 * U+061C, U+200E/F, U+202A-E, U+2066-9, byte by byte) written as "\n", "\t",
 * "\r", "\e" or "\xNN"; printable ASCII and well-formed UTF-8 unchanged.
 * Returns the length written. An out of cap >= SR_ESC_MAX * n + 1 bytes holds
 * all. */
size_t sr_escape(char *out, size_t cap, const void *s, size_t n, int flags);

#endif
