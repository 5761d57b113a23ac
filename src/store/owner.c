/* One writer per store: a lock file beside the store (PATH.simrec-writer)
 * created with O_EXCL and holding the writer's host, pid and SLURM job id,
 * and, once the writer opened the store, the store's device and inode: a
 * mark whose store was deleted (rm -rf PATH) or replaced is stale.
 * O_EXCL creation is atomic on local file systems, NFS v3+ and Lustre, so
 * it works across hosts of a shared file system; an fcntl lock (of the
 * open file description) is also taken on it where the file system
 * supports one (docs/safety.md). */
#define _GNU_SOURCE /* F_OFD_SETLK, F_OFD_GETLK */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/env.h"
#include "store.h"

typedef struct holder {
	char host[256];
	long pid;
	char job[64];
	/* the store it guards (its directory's device and inode), once the
	 * writer opened it; 0 0 before */
	unsigned long long dev, ino;
} holder;

/* The lock file of a store, named from the store's resolved path, so that
 * every spelling of one store (a symbolic link to it, "STORE/.", a
 * relative path) finds the same lock: the existing store itself resolved,
 * else (a store about to be made) its resolved parent and its name. */
static void lock_path(const char *store, char *out, size_t cap)
{
	size_t n = strlen(store);
	while (n > 1 && store[n - 1] == '/')
		n--;
	char text[4096], real[PATH_MAX];
	snprintf(text, sizeof text, "%.*s", (int)n, store);
	if (realpath(text, real)) {
		snprintf(out, cap, "%s.simrec-writer", real);
		return;
	}
	char *slash = strrchr(text, '/');
	const char *name = slash ? slash + 1 : text;
	if (slash)
		*slash = 0;
	int k = -1;
	if (strcmp(name, ".") && strcmp(name, "..") &&
	    realpath(slash ? (*text ? text : "/") : ".", real))
		k = snprintf(out, cap, "%s%s%s.simrec-writer", real,
		             strcmp(real, "/") ? "/" : "", name);
	if (k < 0 || (size_t)k >= cap)
		snprintf(out, cap, "%.*s.simrec-writer", (int)n, store);
}

/* fd is open on the file that lp names now (not one that replaced it). */
static int same_file(const char *lp, int fd)
{
	struct stat a, b;
	return !fstat(fd, &a) && !lstat(lp, &b) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static void me(holder *h)
{
	memset(h, 0, sizeof *h);
	if (gethostname(h->host, sizeof h->host - 1))
		snprintf(h->host, sizeof h->host, "?");
	h->pid = (long)getpid();
	const char *job = sr_env(SR_ENV_SLURM_JOB_ID);
	snprintf(h->job, sizeof h->job, "%s", job && *job ? job : "-");
}

/* The holder named in an existing lock file (fields missing: "?", 0). */
static void read_holder(int fd, holder *h)
{
	char buf[512];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	memset(h, 0, sizeof *h);
	snprintf(h->host, sizeof h->host, "?");
	snprintf(h->job, sizeof h->job, "-");
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
		if (!strncmp(l, "host ", 5))
			snprintf(h->host, sizeof h->host, "%s", l + 5);
		else if (!strncmp(l, "pid ", 4))
			h->pid = strtol(l + 4, NULL, 10);
		else if (!strncmp(l, "job ", 4))
			snprintf(h->job, sizeof h->job, "%s", l + 4);
		else if (!strncmp(l, "store ", 6) &&
		         sscanf(l + 6, "%llu %llu", &h->dev, &h->ino) != 2)
			h->dev = h->ino = 0;
	}
}

/* The mark names a store (not one about to be made) and the path holds
 * no such store now: deleted (rm -rf) or replaced since. Its writer, if
 * still alive, writes a store that is no longer there. */
static int store_gone(const char *store, const holder *h)
{
	if (!h->ino)
		return 0;
	struct stat sb;
	if (stat(store, &sb))
		return errno == ENOENT;
	/* the inode alone: a shared file system's device number is each
	 * client's own (NFS, Lustre), its inode numbers are the server's */
	return (unsigned long long)sb.st_ino != h->ino;
}

/* The holder is a process of this host that is gone: no such pid, or the
 * pid lives but nobody holds the fcntl lock it took (the pid was reused;
 * fcntl locks are reliable on one host). */
static int stale_here(int fd, const holder *h, const holder *self)
{
	if (strcmp(h->host, self->host) || h->pid <= 0)
		return 0;
	if (kill((pid_t)h->pid, 0) && errno == ESRCH)
		return 1;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	return fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type == F_UNLCK &&
	       h->pid != self->pid;
}

static int write_holder(int fd, const holder *h)
{
	char buf[640];
	int n = snprintf(buf, sizeof buf,
	                 "host %s\npid %ld\njob %s\nstore %llu %llu\n", h->host,
	                 h->pid, h->job, h->dev, h->ino);
	/* an open file description's lock, not the process's: another
	 * descriptor of the same file closed in this process (its own
	 * second open of the store, refused) does not drop it */
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	(void)fcntl(fd, F_OFD_SETLK, &fl); /* where supported */
	return n > 0 && (size_t)n < sizeof buf && ftruncate(fd, 0) == 0 &&
	                       pwrite(fd, buf, (size_t)n, 0) == n &&
	                       fsync(fd) == 0
	               ? 0
	               : -1;
}

/* Remove the lock file lp that fd (open on it) read, unless another
 * writer replaced it meanwhile (then 1 as well: look again). */
static int remove_read(const char *lp, int fd, sr_err *e)
{
	if (!same_file(lp, fd))
		return 1;
	if (unlink(lp) && errno != ENOENT)
		return sr_fail(e, SIMREC_EIO,
		               "cannot remove the stale writer lock '%s': %s",
		               lp, strerror(errno));
	return 1;
}

/* The lock file exists: refuse (a live holder, or one on another host),
 * or remove it (a dead holder of this host, said on stderr) and return 1
 * to try again. */
static int existing(const char *lp, const char *store, const holder *self,
                    sr_err *e)
{
	int fd = open(lp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 1 /* gone meanwhile */
		                       : sr_fail(e, SIMREC_EIO,
		                                 "cannot read the writer lock "
		                                 "'%s': %s",
		                                 lp, strerror(errno));
	holder h;
	read_holder(fd, &h);
	/* a holder of this host is judged by its pid (alive: refused, even
	 * if its store was deleted under it); one of another host, which
	 * cannot be judged, by its store */
	int here = !strcmp(h.host, self->host);
	int gone = !here && store_gone(store, &h);
	if (gone || stale_here(fd, &h, self)) {
		if (gone)
			fprintf(stderr,
			        "simrec: store '%s': the writer lock '%s' "
			        "(pid %ld on %s, job %s) guards a store that "
			        "is gone (deleted or replaced since); taking "
			        "the path over\n",
			        store, lp, h.pid, h.host, h.job);
		else
			fprintf(stderr,
			        "simrec: store '%s': its writer (pid %ld on "
			        "%s, job %s) is gone without closing it; "
			        "taking the store over\n",
			        store, h.pid, h.host, h.job);
		int rc = remove_read(lp, fd, e);
		close(fd);
		return rc;
	}
	close(fd);
	return sr_fail(e, SIMREC_ELOCK,
	               "store '%s' is open for writing by pid %ld on host %s "
	               "(job %s): one writer per store; %s '%s'",
	               store, h.pid, h.host, h.job,
	               here ? "wait for it to close (readers need no lock); "
	                      "its lock file is"
	                    : "if that process is gone (check on its host or "
	                      "with squeue), delete its lock file",
	               lp);
}

int sr_owner_take(const char *store, int *fd_out, sr_err *e)
{
	*fd_out = -1;
	char lp[4200];
	lock_path(store, lp, sizeof lp);
	holder self;
	me(&self);
	for (int tries = 0; tries < 3; tries++) {
		int fd = open(lp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0) {
			if (write_holder(fd, &self)) {
				int err = errno;
				close(fd);
				unlink(lp);
				return sr_fail(e, SIMREC_EIO,
				               "cannot write the writer lock "
				               "'%s': %s",
				               lp, strerror(err));
			}
			*fd_out = fd;
			return 0;
		}
		if (errno != EEXIST)
			return sr_fail(e, SIMREC_EIO,
			               "cannot create the writer lock '%s': %s",
			               lp, strerror(errno));
		int rc = existing(lp, store, &self, e);
		if (rc != 1)
			return rc;
	}
	return sr_fail(e, SIMREC_ELOCK,
	               "store '%s': the writer lock '%s' keeps changing hands",
	               store, lp);
}

int sr_owner_bind(const char *store, int fd, sr_err *e)
{
	holder self;
	struct stat sb;
	me(&self);
	if (fd < 0 || stat(store, &sb))
		return 0; /* nothing to name: the mark guards the path */
	self.dev = (unsigned long long)sb.st_dev;
	self.ino = (unsigned long long)sb.st_ino;
	if (!write_holder(fd, &self))
		return 0;
	char lp[4200];
	lock_path(store, lp, sizeof lp);
	return sr_fail(e, SIMREC_EIO, "cannot write the writer lock '%s': %s",
	               lp, strerror(errno));
}

void sr_owner_release(const char *store, int fd)
{
	if (fd < 0)
		return;
	char lp[4200];
	lock_path(store, lp, sizeof lp);
	if (same_file(lp, fd)) /* never another writer's lock */
		unlink(lp);
	close(fd);
}
