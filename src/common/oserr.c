#include "oserr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

const char *sr_os_cause(int err)
{
	switch (err) {
	case ENOSPC:
		return "no space left on device";
	case EDQUOT:
		return "disk quota exceeded";
	case EIO:
		return "input/output error";
	case EACCES:
	case EPERM:
		return "permission denied";
	case EROFS:
		return "read-only file system";
	case EFBIG:
		return "file too large";
	case ENOENT:
		return "no such file or directory";
	default:
		return err ? strerror(err) : "unknown cause";
	}
}

int sr_os_refine(int err, const char *path)
{
	if (err && err != EIO)
		return err;
	struct statvfs v;
	if (!path || statvfs(path, &v))
		return err;
	/* less than 64 KiB free: the write that failed did not fit */
	unsigned long long avail =
	        (unsigned long long)v.f_bavail * (unsigned long long)v.f_frsize;
	return avail < 65536 ? ENOSPC : err;
}

int sr_os_errno_in(const char *text)
{
	const char *p = text ? strstr(text, "errno = ") : NULL;
	if (!p)
		return 0;
	long v = strtol(p + 8, NULL, 10);
	return v > 0 && v < 4096 ? (int)v : 0;
}
