/* Helpers shared by the benchmarks. */
#ifndef SIMREC_BENCH_UTIL_H
#define SIMREC_BENCH_UTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

/* nftw callback: fsync every file, as dd conv=fdatasync makes its write
 * durable. */
static inline int bench_sync_cb(const char *p, const struct stat *sb, int flag,
                                struct FTW *f)
{
	(void)sb;
	(void)f;
	if (flag == FTW_F) {
		int fd = open(p, O_RDONLY);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	return 0;
}

#endif
