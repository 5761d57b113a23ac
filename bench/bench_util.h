/* Helpers shared by the benchmarks. */
#ifndef SIMREC_BENCH_UTIL_H
#define SIMREC_BENCH_UTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static inline double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Set while bench_evict_tree walks (nftw callbacks take no argument). */
static int bench_evicting;

/* nftw callback: fsync every file, as dd conv=fdatasync makes its write
 * durable; when evicting, then drop its (now clean) pages from the page
 * cache. */
static inline int bench_sync_cb(const char *p, const struct stat *sb, int flag,
                                struct FTW *f)
{
	(void)sb;
	(void)f;
	if (flag == FTW_F) {
		int fd = open(p, O_RDONLY);
		if (fd >= 0) {
			fsync(fd);
			if (bench_evicting)
				posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
			close(fd);
		}
	}
	return 0;
}

/* fsync every file under path (a file or a directory tree). */
static inline void bench_sync_tree(const char *path)
{
	nftw(path, bench_sync_cb, 16, FTW_PHYS);
}

/* fsync every file under path, then drop its pages from the page cache, so
 * that the next read of it comes from the disk. */
static inline void bench_evict_tree(const char *path)
{
	bench_evicting = 1;
	nftw(path, bench_sync_cb, 16, FTW_PHYS);
	bench_evicting = 0;
}

/* xorshift64: uniform in [0, 1). *state must start non-zero. */
static inline double bench_urand(unsigned long long *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (double)(*state >> 11) * (1.0 / 9007199254740992.0);
}

/* n float32 values: uniform noise (smooth == 0), or a sine of period
 * `period` elements times `scale` plus 1e-3 Gaussian noise (smooth data,
 * which compresses as simulation fields do). */
static inline void bench_fill_f32(float *a, size_t n, int smooth, size_t period,
                                  double scale, unsigned long long *rng)
{
	for (size_t k = 0; k < n; k++) {
		if (!smooth) {
			a[k] = (float)bench_urand(rng);
			continue;
		}
		double x = 8 * M_PI * (double)(k % period) /
		           (double)(period > 1 ? period - 1 : 1);
		double u = bench_urand(rng) + 1e-300, v = bench_urand(rng);
		double g = sqrt(-2 * log(u)) * cos(2 * M_PI * v);
		a[k] = (float)(sin(x) * scale + 1e-3 * g);
	}
}

#endif
