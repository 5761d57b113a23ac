/* Helpers of the fuzz targets: a private scratch directory per process,
 * emptied before every input. */
#ifndef SIMREC_FUZZ_UTIL_H
#define SIMREC_FUZZ_UTIL_H

#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fz_rm(const char *p, const struct stat *sb, int flag,
                 struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	return ftw->level ? remove(p) : 0;
}

/* The scratch directory, emptied. */
static const char *fz_dir(void)
{
	static char dir[256];
	if (!dir[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(dir, sizeof dir, "%s/simrec-fuzz-XXXXXX",
		         t && *t ? t : "/tmp");
		if (!mkdtemp(dir))
			abort();
	}
	nftw(dir, fz_rm, 16, FTW_DEPTH | FTW_PHYS);
	return dir;
}

static void fz_write(const char *dir, const char *name, const void *data,
                     size_t n)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	for (char *s = strchr(p + strlen(dir) + 1, '/'); s;
	     s = strchr(s + 1, '/')) {
		*s = 0;
		mkdir(p, 0777);
		*s = '/';
	}
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	if (n && write(fd, data, n) < 0) {
		/* nothing to do: a short store is an input like any other */
	}
	close(fd);
}

#endif
