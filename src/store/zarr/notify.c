/* Live follow of a zarr store (simrec_follow): what a commit changes, to
 * watch with inotify. LMDB writes its data file at every commit (pages,
 * then the meta page; never through a shared map: no MDB_WRITEMAP). A
 * directory store renames each .zarray into its key's folder and the
 * root's .zattrs (the finished mark) into the root: the root and every
 * folder on the way to the key that exists now are watched (a folder
 * made later is found at the next arm, or by polling). */
#include <stdio.h>
#include <string.h>

#include "zarr.h"

int zarr_notify_arm(sr_store *st, const char *key)
{
	zarr_store *z = st->impl;
	char p[4096];
	if (z->kvo == &sr_kv_lmdb) {
		snprintf(p, sizeof p, "%s/data.mdb", st->uri.path);
		return sr_watch_add(st, p);
	}
	int n = snprintf(p, sizeof p, "%s", st->uri.path);
	if (n < 0 || (size_t)n >= sizeof p)
		return 0; /* polling finds it */
	sr_watch_add(st, p);
	for (const char *k = key; *k;) {
		const char *end = strchr(k, '/');
		size_t len = end ? (size_t)(end - k) : strlen(k);
		if ((size_t)n + 1 + len >= sizeof p)
			break;
		p[n++] = '/';
		memcpy(p + n, k, len);
		n += (int)len;
		p[n] = 0;
		sr_watch_add(st, p);
		k += len + (end != NULL);
	}
	return 0;
}
