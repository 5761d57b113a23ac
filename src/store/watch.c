/* Live follow of the file stores: inotify watches on the files and
 * folders a commit changes, and the dispatch of the stores' notify ops.
 * inotify sees the changes made on this host's kernel only: on NFS or
 * Lustre another host's commits never wake the follower, whose polling
 * (?poll=, core/follow.c) then finds them. */
#include <errno.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "store.h"

/* What a commit does to the watched paths: LMDB writes its data file,
 * zarr+dir renames metadata into a folder, HDF5 writes its file. */
#define WATCH_MASK                                                          \
	(IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ATTRIB | \
	 IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)

int sr_watch_add(sr_store *st, const char *path)
{
	if (!st->watch_fd1) {
		int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		st->watch_fd1 = fd < 0 ? -1 : fd + 1; /* -1: polling only */
	}
	if (st->watch_fd1 > 0)
		(void)inotify_add_watch(st->watch_fd1 - 1, path, WATCH_MASK);
	return 0;
}

static void drain(int fd)
{
	char buf[4096]
	        __attribute__((aligned(__alignof__(struct inotify_event))));
	while (read(fd, buf, sizeof buf) > 0)
		;
}

int sr_watch_wait(sr_store *st, double seconds)
{
	int ms = seconds <= 0     ? 0
	         : seconds > 3600 ? 3600000
	                          : (int)(seconds * 1e3 + 0.5);
	struct pollfd p = {.fd = st->watch_fd1 > 0 ? st->watch_fd1 - 1 : -1,
	                   .events = POLLIN};
	int n;
	while ((n = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	if (p.fd >= 0)
		drain(p.fd);
	return n > 0;
}

void sr_watch_close(sr_store *st)
{
	if (st->watch_fd1 > 0)
		close(st->watch_fd1 - 1);
	st->watch_fd1 = 0;
}

int sr_store_notify_arm(sr_store *st, const char *key)
{
	return st->ops->notify_arm ? st->ops->notify_arm(st, key) : 0;
}

int sr_store_notify_wait(sr_store *st, double seconds)
{
	return st->ops->notify_wait ? st->ops->notify_wait(st, seconds)
	                            : sr_watch_wait(st, seconds);
}
