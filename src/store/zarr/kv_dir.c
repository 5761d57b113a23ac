#define _GNU_SOURCE /* sync_file_range, renameat2 */
/* Directory key-value layer (zarr's DirectoryStore): one file per key.
 * Files are written to a temporary name and renamed, so a reader (or a
 * crash) never sees a half-written chunk or metadata file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/oserr.h"
#include "../../common/size.h"
#include "kv.h"

struct sr_kv {
	char *path;
	sr_err *e;
	int readonly;
	/* buffers handed out by get, freed at read_end */
	void **bufs;
	size_t nbufs, capbufs;
	int rdepth;
	/* files renamed into place since the last sync (fsync'd at sync);
	 * puts on several threads (concurrent_put) add to it under mu */
	sr_strv dirty;
	pthread_mutex_t mu;
	/* files opened by ask, for the get of their key (the last
	 * SR_KV_ASK_MAX) */
	struct asked {
		char *key;
		int fd;
	} asked[SR_KV_ASK_MAX];
	int ask_next;
	/* a staged replacement (kvd_stage): keys below "stage_key/" live in
	 * stage_dir until kvd_publish swaps it with target; puts of other
	 * keys are held until then */
	char *stage_key, *stage_dir, *target;
	struct held {
		char *key;
		void *val;
		size_t len;
	} * held;
	size_t nheld, capheld;
};

static void kvd_unstage(sr_kv *kv);

/* Forget the files asked and not read (closed). */
static void drop_asked(sr_kv *kv)
{
	for (int i = 0; i < SR_KV_ASK_MAX; i++) {
		if (kv->asked[i].key) {
			close(kv->asked[i].fd);
			free(kv->asked[i].key);
			kv->asked[i].key = NULL;
		}
	}
}

/* The slot of key among the files asked, or NULL. */
static struct asked *find_asked(sr_kv *kv, const char *key)
{
	for (int i = 0; i < SR_KV_ASK_MAX; i++)
		if (kv->asked[i].key && !strcmp(kv->asked[i].key, key))
			return &kv->asked[i];
	return NULL;
}

/* The open file of key if it was asked, taken (the caller closes it);
 * else -1. */
static int take_asked(sr_kv *kv, const char *key)
{
	struct asked *a = find_asked(kv, key);
	if (!a)
		return -1;
	free(a->key);
	a->key = NULL;
	return a->fd;
}

static int kvd_open(sr_kv **out, const char *path, simrec_mode_t mode,
                    size_t map_size, sr_err *e)
{
	SR_UNUSED(map_size);
	*out = NULL;
	struct stat sb;
	if (stat(path, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode))
			return sr_fail(e, SIMREC_EFORMAT,
			               "zarr directory store '%s' is not a "
			               "directory",
			               path);
	} else if (mode == SIMREC_MODE_READONLY) {
		return sr_fail(e, SIMREC_ENOKEY,
		               "zarr directory store '%s' does not exist",
		               path);
	} else if (mkdir(path, 0777) && errno != EEXIST) {
		return sr_fail(e, SIMREC_EIO, "cannot create '%s': %s", path,
		               strerror(errno));
	}
	sr_kv *kv = calloc(1, sizeof *kv);
	if (!kv || !(kv->path = strdup(path))) {
		free(kv);
		return SIMREC_ENOMEM;
	}
	kv->e = e;
	kv->readonly = mode == SIMREC_MODE_READONLY;
	pthread_mutex_init(&kv->mu, NULL);
	*out = kv;
	return 0;
}

static void free_bufs(sr_kv *kv)
{
	for (size_t i = 0; i < kv->nbufs; i++)
		free(kv->bufs[i]);
	kv->nbufs = 0;
}

static void kvd_close(sr_kv *kv)
{
	if (!kv)
		return;
	kvd_unstage(kv);
	drop_asked(kv);
	free_bufs(kv);
	free(kv->bufs);
	sr_strv_free(&kv->dirty);
	pthread_mutex_destroy(&kv->mu);
	free(kv->path);
	free(kv);
}

static int kvd_begin(sr_kv *kv)
{
	SR_UNUSED(kv);
	return 0;
}

static int kvd_commit(sr_kv *kv)
{
	SR_UNUSED(kv);
	return 0;
}

static void kvd_abort(sr_kv *kv)
{
	SR_UNUSED(kv);
}

static int sync_path(sr_kv *kv, const char *p, int dir)
{
	/* never a wait on a FIFO, nor a link followed to a file planted
	 * since; a directory may be reached through a link (the store's own
	 * path can be one) */
	int fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
	                         (dir ? O_DIRECTORY : O_NOFOLLOW));
	if (fd < 0)
		return errno == ENOENT && !dir
		               ? 0 /* replaced since: its successor counts */
		               : sr_fail(kv->e, SIMREC_EIO,
		                         "cannot open '%s': %s", p,
		                         sr_os_cause(errno));
	int r = dir ? fsync(fd) : fdatasync(fd);
	int err = errno;
	close(fd);
	return r ? sr_fail(kv->e, SIMREC_EIO, "%s '%s': %s",
	                   dir ? "fsync of directory" : "fdatasync of", p,
	                   sr_os_cause(err))
	         : 0;
}

/* Only the store's own files are made durable (never syncfs, which would
 * write back the whole file system, other jobs' files included): an
 * fdatasync of every file renamed into place since the last sync (their
 * write-back started when they were written), then an fsync of every
 * directory on their paths below and including the root, for the renames
 * and the directories created. */
static int kvd_sync(sr_kv *kv)
{
	int rc = 0;
	if (!kv->dirty.n)
		return 0;
	sr_strv_uniq(&kv->dirty);
	for (size_t i = 0; i < kv->dirty.n && !rc; i++)
		rc = sync_path(kv, kv->dirty.v[i], 0);
	/* the directories: each dirty path cut at each '/' from the root
	 * down, each directory once (sorted, a parent before its
	 * children) */
	size_t root = strlen(kv->path);
	sr_strv dirs = {0};
	for (size_t i = 0; i < kv->dirty.n && !rc; i++) {
		const char *p = kv->dirty.v[i];
		for (const char *sl = p + root; sl && !rc;
		     sl = strchr(sl + 1, '/'))
			rc = sr_strv_push(&dirs, p, (size_t)(sl - p));
	}
	sr_strv_uniq(&dirs);
	for (size_t i = 0; i < dirs.n && !rc; i++)
		rc = sync_path(kv, dirs.v[i], 1);
	sr_strv_free(&dirs);
	sr_strv_clear(&kv->dirty);
	return rc;
}

static int kvd_read_begin(sr_kv *kv)
{
	kv->rdepth++;
	return 0;
}

static void kvd_read_end(sr_kv *kv)
{
	if (kv->rdepth && --kv->rdepth == 0)
		free_bufs(kv);
}

/* Is key below the staged key (then its file is in the staged
 * directory, at *rest)? */
static int staged(const sr_kv *kv, const char *key, const char **rest)
{
	if (!kv->stage_key)
		return 0;
	size_t kl = strlen(kv->stage_key);
	if (strncmp(key, kv->stage_key, kl) || key[kl] != '/')
		return 0;
	*rest = key + kl + 1;
	return 1;
}

static char *full_path(sr_kv *kv, const char *key)
{
	const char *base = kv->path, *rest;
	if (staged(kv, key, &rest)) {
		base = kv->stage_dir;
		key = rest;
	}
	size_t n = strlen(base) + strlen(key) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", base, key);
	return p;
}

/* key's file opened for reading, or -1 with errno: never through a link,
 * never a wait on a FIFO (a file's type is checked by the caller). */
static int open_value(sr_kv *kv, const char *key)
{
	char *p = full_path(kv, key);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	int fd = open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	int err = errno;
	free(p);
	errno = err;
	return fd;
}

/* A held put (staging): its value, or NULL. */
static struct held *held_of(sr_kv *kv, const char *key)
{
	for (size_t i = 0; i < kv->nheld; i++)
		if (!strcmp(kv->held[i].key, key))
			return &kv->held[i];
	return NULL;
}

/* Keep b until read_end (the buffers get hands out). */
static int keep_buf(sr_kv *kv, void *b)
{
	if (SR_GROW_N(kv->bufs, kv->capbufs, kv->nbufs + 1))
		return SIMREC_ENOMEM;
	kv->bufs[kv->nbufs++] = b;
	return 0;
}

/* get of a held put: a copy, kept until read_end */
static int get_held(sr_kv *kv, const struct held *h, const void **val,
                    size_t *len)
{
	void *b = malloc(h->len ? h->len : 1);
	if (!b || keep_buf(kv, b)) {
		free(b);
		return sr_fail(kv->e, SIMREC_ENOMEM,
		               "out of memory reading "
		               "'%s'",
		               h->key);
	}
	memcpy(b, h->val, h->len);
	*val = b;
	*len = h->len;
	return 0;
}

/* Metadata and chunk files are opened without following a symbolic link
 * and without blocking (a FIFO or device named like a key must fail at
 * once, not wait for a writer); only regular files are read. */
static int kvd_get(sr_kv *kv, const char *key, size_t max, const void **val,
                   size_t *len)
{
	const struct held *h = held_of(kv, key);
	if (h)
		return h->len > max
		               ? sr_fail(kv->e, SIMREC_EFORMAT,
		                         "'%s' is over %zu bytes", key, max)
		               : get_held(kv, h, val, len);
	int fd = take_asked(kv, key);
	if (fd < 0)
		fd = open_value(kv, key);
	if (fd < 0) {
		int err = errno;
		if (err == ENOMEM)
			return SIMREC_ENOMEM;
		if (err == ENOENT || err == ENOTDIR)
			return SIMREC_ENOKEY;
		return sr_fail(
		        kv->e, err == ELOOP ? SIMREC_EFORMAT : SIMREC_EIO,
		        "cannot read '%s/%s': %s", kv->path, key,
		        err == ELOOP ? "it is a symbolic link" : strerror(err));
	}
	struct stat sb;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_size < 0 ||
	    (unsigned long long)sb.st_size > SR_SIZE_MAX) {
		close(fd);
		return sr_fail(kv->e, SIMREC_EFORMAT,
		               "cannot read '%s/%s': not a regular file",
		               kv->path, key);
	}
	if ((unsigned long long)sb.st_size > max) {
		close(fd);
		return sr_fail(kv->e, SIMREC_EFORMAT,
		               "cannot read '%s/%s': %lld bytes, more than the "
		               "%zu its metadata allows",
		               kv->path, key, (long long)sb.st_size, max);
	}
	size_t n = (size_t)sb.st_size, got = 0;
	unsigned char *b = malloc(n ? n : 1);
	int rc = b ? 0
	           : sr_fail(kv->e, SIMREC_ENOMEM,
	                     "out of memory reading '%s/%s'", kv->path, key);
	while (!rc && got < n) { /* a file that shrinks is read as it is */
		ssize_t r = read(fd, b + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = sr_fail(kv->e, SIMREC_EIO,
			             "cannot read '%s/%s': %s", kv->path, key,
			             strerror(errno));
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (!rc)
		rc = keep_buf(kv, b);
	if (rc) {
		free(b);
		return rc;
	}
	*val = b;
	*len = got;
	return 0;
}

static int mkdirs(char *p)
{
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		int r = mkdir(p, 0777);
		*s = '/';
		if (r && errno != EEXIST)
			return -1;
	}
	return 0;
}

/* Staging: a put of a key outside the staged one waits for publish. */
static int hold_put(sr_kv *kv, const char *key, const void *val, size_t len)
{
	struct held *h = held_of(kv, key);
	if (!h && SR_GROW_N(kv->held, kv->capheld, kv->nheld + 1))
		return SIMREC_ENOMEM;
	void *v = malloc(len ? len : 1);
	char *k = h ? NULL : strdup(key);
	if (!v || (!h && !k)) {
		free(v);
		free(k);
		return SIMREC_ENOMEM;
	}
	memcpy(v, val, len);
	if (!h) {
		h = &kv->held[kv->nheld++];
		h->key = k;
	} else {
		free(h->val);
	}
	h->val = v;
	h->len = len;
	return 0;
}

static int put_file(sr_kv *kv, const char *key, const void *val, size_t len);

static int kvd_put(sr_kv *kv, const char *key, const void *val, size_t len)
{
	const char *rest;
	if (kv->stage_key && !staged(kv, key, &rest))
		return hold_put(kv, key, val, len);
	int rc = put_file(kv, key, val, len);
	/* a writer killed in the middle of a set: test binaries only */
	if (!rc && sr_test_after_put)
		sr_test_after_put();
	return rc;
}

static void kvd_ask(sr_kv *kv, const char *key)
{
	if (!key) {
		drop_asked(kv);
		return;
	}
	if (held_of(kv, key) || find_asked(kv, key))
		return;
	int fd = open_value(kv, key);
	struct stat sb;
	char *k = NULL;
	if (fd >= 0 && !fstat(fd, &sb) && S_ISREG(sb.st_mode) &&
	    (k = strdup(key))) {
		posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
		/* kept for the get: the file is opened once */
		struct asked *a = &kv->asked[kv->ask_next];
		kv->ask_next = (kv->ask_next + 1) % SR_KV_ASK_MAX;
		if (a->key) {
			close(a->fd);
			free(a->key);
		}
		a->key = k;
		a->fd = fd;
	} else if (fd >= 0) {
		close(fd);
	}
}

/* p (malloc'd, taken on success) on the list of paths made durable at the
 * next sync. */
static int add_dirty(sr_kv *kv, char *p)
{
	pthread_mutex_lock(&kv->mu);
	int rc = sr_strv_take(&kv->dirty, p);
	pthread_mutex_unlock(&kv->mu);
	return rc;
}

/* A new temporary file beside p, its name in tmp: SR_TMP_PREFIX (a name
 * no key may have, sr_key_valid; skipped by the listing), the pid and a
 * counter keep writers apart. Created, never opened: a name someone
 * planted (a link out of the store, a FIFO) is passed over, never
 * written through nor waited on. -1 with errno when none of 100 names is
 * free. */
static int open_tmp(const char *p, char *tmp, size_t n)
{
	static _Atomic unsigned long seq;
	const char *slash = strrchr(p, '/');
	for (int tries = 0; tries < 100; tries++) {
		snprintf(tmp, n, "%.*s/" SR_TMP_PREFIX "%ld-%lu",
		         (int)(slash - p), p, (long)getpid(), seq++);
		int fd = open(tmp,
		              O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		                      O_CLOEXEC,
		              0664);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1; /* errno EEXIST */
}

static int put_file(sr_kv *kv, const char *key, const void *val, size_t len)
{
	char *p = full_path(kv, key);
	if (!p)
		return SIMREC_ENOMEM;
	size_t n = strlen(p) + 64;
	char *tmp = malloc(n);
	int rc = 0;
	if (!tmp) {
		free(p);
		return SIMREC_ENOMEM;
	}
	if (mkdirs(p)) {
		rc = sr_fail(kv->e, SIMREC_EIO,
		             "cannot create directories for "
		             "'%s': %s",
		             p, sr_os_cause(errno));
		goto out;
	}
	int fd = open_tmp(p, tmp, n);
	if (fd < 0) { /* tmp is not ours: never unlinked */
		rc = sr_fail(kv->e, SIMREC_EIO,
		             "cannot write '%s' (through '%s'): %s", p, tmp,
		             sr_os_cause(errno));
		goto out;
	}
	const char *b = val;
	size_t left = len;
	while (left) {
		ssize_t w = write(fd, b, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = sr_fail(kv->e, SIMREC_EIO,
			             "cannot write '%s' (through '%s'): %s", p,
			             tmp,
			             w < 0 ? sr_os_cause(errno)
			                   : "the write made no progress");
			break;
		}
		b += w;
		left -= (size_t)w;
	}
	/* start the write-back now: the disk works while the next step is
	 * computed, and the sync at the commit finds little left to do */
	if (!rc && len)
		sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	close(fd);
	if (!rc && rename(tmp, p))
		rc = sr_fail(kv->e, SIMREC_EIO,
		             "cannot rename '%s' to '%s': %s", tmp, p,
		             sr_os_cause(errno));
	if (rc) {
		unlink(tmp);
		goto out;
	}
	if (!(rc = add_dirty(kv, p)))
		p = NULL;
out:
	free(tmp);
	free(p);
	return rc;
}

/* Unlink key's file; its directory is made durable at the next sync (the
 * removed path goes on the dirty list: sync_path skips a file that is
 * gone and syncs the directories above it). */
static int kvd_del(sr_kv *kv, const char *key)
{
	char *p = full_path(kv, key);
	if (!p)
		return SIMREC_ENOMEM;
	int rc = 0;
	if (unlink(p) && errno != ENOENT && errno != ENOTDIR)
		rc = sr_fail(kv->e, SIMREC_EIO, "cannot remove '%s': %s", p,
		             sr_os_cause(errno));
	if (!rc && !(rc = add_dirty(kv, p)))
		p = NULL;
	free(p);
	return rc;
}

/* "root/rel" (malloc'd; either alone when the other is empty), or
 * NULL; *len its length. */
static char *join_path(const char *root, const char *rel, size_t *len)
{
	size_t n = strlen(root) + strlen(rel) + 2;
	char *p = malloc(n);
	if (p)
		*len = (size_t)snprintf(p, n, "%s%s%s", root,
		                        *root && *rel ? "/" : "", rel);
	return p;
}

/* A path the file system cannot name (PATH_MAX) holds keys no call could
 * read: the listing is refused, naming where, rather than skip them. */
static int too_long(sr_kv *kv, const char *rel, size_t len)
{
	return sr_fail(kv->e, SIMREC_EFORMAT,
	               "zarr directory store '%s': '%.200s...' is nested too "
	               "deep (a path of %zu bytes or more, past the %d-byte "
	               "limit of a file name: its keys cannot be read)",
	               kv->path, rel, len, PATH_MAX);
}

/* One directory of the walk: its subdirectories onto todo, its other
 * entries onto out. Never follows a symbolic link (a link loop would make
 * the walk endless, a link out would list foreign files); anything else
 * is listed (a FIFO or link named .zarray is then refused when read, not
 * silently skipped). */
static int walk_dir(sr_kv *kv, const char *rel, sr_strv *todo, sr_strv *out)
{
	size_t len;
	char *path = join_path(kv->path, rel, &len);
	if (!path)
		return SIMREC_ENOMEM;
	/* below the store's root, O_NOFOLLOW: a directory swapped for a
	 * link after the check is not entered either */
	int fd = len < PATH_MAX
	                 ? open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	                                      (*rel ? O_NOFOLLOW : 0))
	                 : -1;
	free(path);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return len >= PATH_MAX ? too_long(kv, rel, len) : 0;
	}
	struct dirent *de;
	int rc = 0;
	while (!rc && (de = readdir(d))) {
		const char *n = de->d_name;
		struct stat sb;
		if (!strcmp(n, ".") || !strcmp(n, "..") ||
		    !strncmp(n, SR_TMP_PREFIX, strlen(SR_TMP_PREFIX)) ||
		    fstatat(dirfd(d), n, &sb, AT_SYMLINK_NOFOLLOW))
			continue;
		size_t sl;
		char *sub = join_path(rel, n, &sl);
		if (!sub)
			rc = SIMREC_ENOMEM;
		else if (strlen(kv->path) + 1 + sl >= PATH_MAX)
			rc = too_long(kv, sub, strlen(kv->path) + 1 + sl);
		else
			rc = sr_strv_add(S_ISDIR(sb.st_mode) ? todo : out, sub);
		free(sub);
	}
	closedir(d);
	return rc;
}

/* Collect the keys below rel. Iterative (a store nested thousands of
 * directories deep costs heap, not stack) and bounded by PATH_MAX. */
static int walk(sr_kv *kv, const char *rel, sr_strv *out)
{
	sr_strv todo = {0};
	int rc = sr_strv_add(&todo, rel);
	while (!rc && todo.n) {
		char *dir = todo.v[--todo.n];
		rc = walk_dir(kv, dir, &todo, out);
		free(dir);
	}
	sr_strv_free(&todo);
	return rc;
}

static int kvd_list(sr_kv *kv, const char *prefix,
                    int (*fn)(const char *key, void *arg), void *arg)
{
	sr_strv l = {0};
	/* start the walk at the deepest directory of the prefix */
	char *dir = sr_key_parent(prefix);
	if (!dir)
		return SIMREC_ENOMEM;
	int rc = walk(kv, dir, &l);
	free(dir);
	if (!rc)
		sr_strv_sort(&l);
	size_t pl = strlen(prefix);
	for (size_t i = 0; i < l.n && !rc; i++)
		if (!strncmp(l.v[i], prefix, pl))
			rc = fn(l.v[i], arg);
	sr_strv_free(&l);
	return rc;
}

/* The blocks of every file below the root (iterative, as walk). */
static long long kvd_disk_bytes(sr_kv *kv)
{
	long long s = 0;
	sr_strv todo = {0};
	int rc = sr_strv_add(&todo, kv->path);
	while (!rc && todo.n) {
		char *dir = todo.v[--todo.n];
		DIR *d = strlen(dir) < PATH_MAX ? opendir(dir) : NULL;
		struct dirent *de;
		while (d && !rc && (de = readdir(d))) {
			struct stat sb;
			size_t len;
			char *full;
			if (!strcmp(de->d_name, ".") ||
			    !strcmp(de->d_name, "..") ||
			    fstatat(dirfd(d), de->d_name, &sb,
			            AT_SYMLINK_NOFOLLOW))
				continue;
			if (!S_ISDIR(sb.st_mode))
				s += (long long)sb.st_blocks * 512;
			else if (!(full = join_path(dir, de->d_name, &len)))
				rc = SIMREC_ENOMEM;
			else {
				rc = sr_strv_add(&todo, full);
				free(full);
			}
		}
		if (d)
			closedir(d);
		free(dir);
	}
	sr_strv_free(&todo);
	return s;
}

/* ---- staged replacement of a key's directory (simrec_set) -------------- */

#define STAGE_PREFIX SR_TMP_PREFIX "set-"

static int rm_entry(const char *p, const struct stat *sb, int flag,
                    struct FTW *f)
{
	SR_UNUSED(sb);
	SR_UNUSED(f);
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

/* Remove a directory tree (never following a link); an absent one is no
 * error. */
static int remove_tree(const char *dir)
{
	struct stat sb;
	if (lstat(dir, &sb))
		return errno == ENOENT ? 0 : -1;
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void host_name(char *buf, size_t cap)
{
	if (gethostname(buf, cap))
		snprintf(buf, cap, "localhost");
	buf[cap - 1] = 0;
	for (char *c = buf; *c; c++)
		if (*c == '/')
			*c = '_';
}

/* Remove the staged directories, beside target, of writers on this host
 * that are gone (killed in the middle of a set): named
 * STAGE_PREFIX "PID-N-HOST". Others' stay: they may be writing; so does
 * an old value renamed aside ("...-HOST-old", see swap_in): after a crash
 * it is the only copy. */
static void remove_leftovers(const char *target)
{
	const char *slash = strrchr(target, '/');
	char parent[4096], host[256], full[8192];
	snprintf(parent, sizeof parent, "%.*s", (int)(slash - target), target);
	host_name(host, sizeof host);
	DIR *d = opendir(parent);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		long pid;
		unsigned long seq;
		int used = 0;
		if (strncmp(n, STAGE_PREFIX, strlen(STAGE_PREFIX)) ||
		    sscanf(n + strlen(STAGE_PREFIX), "%ld-%lu-%n", &pid, &seq,
		           &used) != 2 ||
		    !used || strcmp(n + strlen(STAGE_PREFIX) + used, host) ||
		    pid <= 0 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(full, sizeof full, "%s/%s", parent, n);
		remove_tree(full);
	}
	closedir(d);
}

static int kvd_stage(sr_kv *kv, const char *key)
{
	kvd_unstage(kv);
	char *target = full_path(kv, key);
	if (!target)
		return SIMREC_ENOMEM;
	remove_leftovers(target);
	static _Atomic unsigned long seq;
	char host[256];
	host_name(host, sizeof host);
	const char *slash = strrchr(target, '/');
	size_t n = strlen(target) + strlen(host) + 96;
	char *dir = malloc(n), *k = strdup(key);
	if (!dir || !k) {
		free(dir);
		free(k);
		free(target);
		return SIMREC_ENOMEM;
	}
	snprintf(dir, n, "%.*s/" STAGE_PREFIX "%ld-%lu-%s",
	         (int)(slash - target), target, (long)getpid(), seq++, host);
	if (mkdirs(dir) || mkdir(dir, 0777)) {
		int rc = sr_fail(kv->e, SIMREC_EIO, "cannot create '%s': %s",
		                 dir, sr_os_cause(errno));
		free(dir);
		free(k);
		free(target);
		return rc;
	}
	kv->stage_key = k;
	kv->stage_dir = dir;
	kv->target = target;
	return 0;
}

static void kvd_unstage(sr_kv *kv)
{
	if (kv->stage_dir)
		remove_tree(kv->stage_dir);
	free(kv->stage_key);
	free(kv->stage_dir);
	free(kv->target);
	kv->stage_key = kv->stage_dir = kv->target = NULL;
	for (size_t i = 0; i < kv->nheld; i++) {
		free(kv->held[i].key);
		free(kv->held[i].val);
	}
	free(kv->held);
	kv->held = NULL;
	kv->nheld = kv->capheld = 0;
}

/* Put the staged directory at target in one step. Where the file system
 * refuses RENAME_EXCHANGE (EINVAL, ENOSYS: some network and FUSE file
 * systems), the old directory is renamed aside first: until the second
 * rename a reader finds no value at the key, and a crash there leaves
 * none (the old one sits in the hidden directory that the next set of a
 * key beside it removes). Then *old names what to remove. */
static int swap_in(sr_kv *kv, char **old)
{
	const char *from = kv->stage_dir, *to = kv->target;
	*old = NULL;
	if (!renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE))
		return (*old = strdup(from)) ? 0 : SIMREC_ENOMEM;
	if (errno == ENOENT) /* nothing to replace */
		return rename(from, to) ? sr_fail(kv->e, SIMREC_EIO,
		                                  "cannot rename '%s' to '%s': "
		                                  "%s",
		                                  from, to, sr_os_cause(errno))
		                        : 0;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
		return sr_fail(kv->e, SIMREC_EIO,
		               "cannot swap '%s' and '%s': %s", from, to,
		               sr_os_cause(errno));
	size_t n = strlen(from) + 8;
	char *aside = malloc(n);
	if (!aside)
		return SIMREC_ENOMEM;
	snprintf(aside, n, "%s-old", from);
	if (rename(to, aside) || rename(from, to)) {
		int err = errno;
		rename(aside, to); /* the first rename only: put it back */
		free(aside);
		return sr_fail(kv->e, SIMREC_EIO, "cannot replace '%s': %s", to,
		               sr_os_cause(err));
	}
	*old = aside;
	return 0;
}

static int kvd_publish(sr_kv *kv)
{
	/* the new value durable first: its files, its directory, the
	 * directories above it */
	int rc = kvd_sync(kv);
	char *old = NULL;
	if (!rc)
		rc = swap_in(kv, &old);
	if (!rc) { /* the swap durable, then the old value goes */
		char *parent = strdup(kv->target);
		char *slash = parent ? strrchr(parent, '/') : NULL;
		if (slash)
			*slash = 0;
		rc = parent ? sync_path(kv, parent, 1) : SIMREC_ENOMEM;
		free(parent);
		if (old)
			remove_tree(old);
	}
	free(old);
	/* the held puts (.zmetadata), now that the value is in place */
	struct held *h = kv->held;
	size_t nh = kv->nheld;
	kv->held = NULL;
	kv->nheld = kv->capheld = 0;
	free(kv->stage_key);
	kv->stage_key = NULL;
	for (size_t i = 0; i < nh; i++) {
		if (!rc)
			rc = put_file(kv, h[i].key, h[i].val, h[i].len);
		free(h[i].key);
		free(h[i].val);
	}
	free(h);
	if (!rc) { /* nothing left to remove */
		free(kv->stage_dir);
		kv->stage_dir = NULL;
	}
	kvd_unstage(kv);
	return rc;
}

const sr_kv_ops sr_kv_dir = {
        .open = kvd_open,
        .close = kvd_close,
        .begin = kvd_begin,
        .commit = kvd_commit,
        .abort = kvd_abort,
        .sync = kvd_sync,
        .read_begin = kvd_read_begin,
        .read_end = kvd_read_end,
        .get = kvd_get,
        .put = kvd_put,
        .del = kvd_del,
        .ask = kvd_ask,
        .list = kvd_list,
        .disk_bytes = kvd_disk_bytes,
        .stage = kvd_stage,
        .publish = kvd_publish,
        .unstage = kvd_unstage,
        .concurrent_put = 1,
};
