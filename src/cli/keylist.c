/* Lists of keys: what export copies, what verify cuts. */
#include "cli.h"

int sr_cli_collect(const char *key, int is_ds, void *arg)
{
	keylists *l = arg;
	return sr_strv_add(is_ds ? &l->ds : &l->groups, key);
}
