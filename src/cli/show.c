/* Strings from a store, a file or a server as the command line prints
 * them: escaped (common/escape.h), never a raw control byte. */
#include <stdlib.h>
#include <string.h>

#include "../common/escape.h"
#include "cli.h"

/* Eight rotating results, so that one printf may show several. */
static const char *show(const char *s, int flags)
{
	static char *buf[8];
	static unsigned next;
	if (!s)
		s = "";
	size_t n = strlen(s);
	char **b = &buf[next++ % 8];
	free(*b);
	*b = malloc(SR_ESC_MAX * n + 1);
	if (!*b)
		return "(out of memory)";
	sr_escape(*b, SR_ESC_MAX * n + 1, s, n, flags);
	return *b;
}

const char *sr_cli_name(const char *s)
{
	return show(s, SR_ESC_BACKSLASH);
}

const char *sr_cli_msg(const char *s)
{
	return show(s, 0);
}
