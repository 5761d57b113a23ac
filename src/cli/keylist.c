/* Lists of keys: what export copies, what verify cuts. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "simrec.h"

int sr_cli_keylist_add(const char *key, keylist *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		if (!l->v)
			return SIMREC_ENOMEM;
	}
	l->v[l->n++] = strdup(key);
	return 0;
}

int sr_cli_collect(const char *key, int is_ds, void *arg)
{
	keylists *l = arg;
	return sr_cli_keylist_add(key, is_ds ? &l->ds : &l->groups);
}
