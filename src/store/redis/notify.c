/* Live follow of a redis store (simrec_follow): a writer publishes "1" on
 * the channel "P:notify" with every commit that wrote something (the
 * finished mark included), in the pipeline before the commit reads its
 * replies, so a message follows the writes it announces (store.c); a
 * follower
 * subscribes on a connection of its own before it reads the count, so no
 * commit falls between the two (docs/redis-format.md). A message is only
 * a wake-up: the follower reads the count itself. */
#include <stdio.h>
#include <string.h>

#include "rstore.h"

int rs_notify_arm(sr_store *st, const char *key)
{
	SR_UNUSED(key);
	rstore *s = rs_of(st);
	if (s->sub.c)
		return 0;
	/* the reader's server, credentials and bounds */
	s->sub = s->r;
	s->sub.c = NULL;
	int rc = sr_redis_connect(&s->sub);
	char ch[160];
	rs_notify_channel(ch, sizeof ch, s);
	if (!rc)
		rc = sr_redis_subscribe(&s->sub, ch);
	if (rc)
		sr_redis_close(&s->sub);
	return rc;
}

/* A lost subscription is no failure here: the next arm subscribes again
 * (and the next look at the store meets a dead server). */
int rs_notify_wait(sr_store *st, double seconds)
{
	rstore *s = rs_of(st);
	int got = 0;
	if (!s->sub.c)
		return sr_watch_wait(st, seconds);
	sr_err keep = *st->err;
	if (sr_redis_wait_push(&s->sub, seconds, &got))
		*st->err = keep;
	return got > 0;
}
