/* A picture of one record as a PNG file: a line plot (1-d), a colour-mapped
 * image (2-d), the middle plane of the slowest axes (3-d and more). Drawn
 * into an RGB canvas, encoded with libpng, renamed over the target. */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/half.h"
#include "../common/size.h"
#include "png.h"

typedef struct canvas {
	unsigned char *px; /* w * h * 3 bytes, RGB, rows top down */
	size_t w, h;
} canvas;

/* What the picture says about the record (PNG tEXt chunks). */
typedef struct caption {
	char shape[256], plane[256], min[40], max[40];
} caption;

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* Element p of dtype dt as a double; complex values as their magnitude. */
static double elem_value(simrec_dtype_t dt, const unsigned char *p)
{
	union {
		int8_t i8;
		int16_t i16;
		int32_t i32;
		int64_t i64;
		uint8_t u8;
		uint16_t u16;
		uint32_t u32;
		uint64_t u64;
		float f[2];
		double d[2];
	} v;
	memcpy(&v, p, simrec_dtype_size(dt));
	switch (dt) {
	case SIMREC_INT8:
		return v.i8;
	case SIMREC_INT16:
		return v.i16;
	case SIMREC_INT32:
		return v.i32;
	case SIMREC_INT64:
		return (double)v.i64;
	case SIMREC_UINT8:
	case SIMREC_BOOL:
		return v.u8;
	case SIMREC_UINT16:
		return v.u16;
	case SIMREC_UINT32:
		return v.u32;
	case SIMREC_UINT64:
		return (double)v.u64;
	case SIMREC_FLOAT16:
		return sr_half_to_double(v.u16);
	case SIMREC_FLOAT32:
		return v.f[0];
	case SIMREC_FLOAT64:
		return v.d[0];
	case SIMREC_COMPLEX64:
		return hypot(v.f[0], v.f[1]);
	case SIMREC_COMPLEX128:
		return hypot(v.d[0], v.d[1]);
	default:
		return NAN;
	}
}

/* matplotlib's viridis at 17 evenly spaced points, interpolated in
 * between (within 6 of the full map in every channel) */
static const unsigned char viridis[17][3] = {
        {68, 1, 84},    {72, 24, 106},  {71, 45, 123},  {66, 64, 134},
        {59, 82, 139},  {51, 99, 141},  {44, 114, 142}, {38, 130, 142},
        {33, 145, 140}, {31, 160, 136}, {40, 174, 128}, {63, 188, 115},
        {94, 201, 98},  {132, 212, 75}, {173, 220, 48}, {216, 226, 25},
        {253, 231, 37}};
static const unsigned char nan_rgb[3] = {255, 0, 255};
static const unsigned char line_rgb[3] = {31, 119, 180};
static const unsigned char frame_rgb[3] = {160, 160, 160};
static const unsigned char mark_rgb[3] = {214, 39, 40};

/* Where v lies on the scale lo..hi (finite): 0..1, the middle if lo ==
 * hi; halves, so that no difference of finite doubles overflows. */
static double place(double v, double lo, double hi)
{
	if (!(hi > lo))
		return 0.5;
	double t = (v * 0.5 - lo * 0.5) / (hi * 0.5 - lo * 0.5);
	return isnan(t) ? 0.5 : t < 0 ? 0 : t > 1 ? 1 : t;
}

/* The colour of v on the scale lo..hi (the middle if lo == hi). */
static void colour_of(double v, double lo, double hi, unsigned char *rgb)
{
	if (isnan(v)) {
		memcpy(rgb, nan_rgb, 3);
		return;
	}
	double x = place(v, lo, hi) * 16;
	int i = x >= 16 ? 15 : (int)x;
	double f = x - i;
	for (int c = 0; c < 3; c++)
		rgb[c] = (unsigned char)lround(viridis[i][c] * (1 - f) +
		                               viridis[i + 1][c] * f);
}

/* The smallest and largest finite values of v[0..n); 0 if there is none. */
static int finite_range(const double *v, size_t n, double *lo, double *hi)
{
	int any = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			continue;
		if (!any || v[i] < *lo)
			*lo = v[i];
		if (!any || v[i] > *hi)
			*hi = v[i];
		any = 1;
	}
	return any;
}

static void put(canvas *c, size_t x, size_t y, const unsigned char *rgb)
{
	if (x < c->w && y < c->h)
		memcpy(c->px + (y * c->w + x) * 3, rgb, 3);
}

static void vspan(canvas *c, size_t x, long ya, long yb,
                  const unsigned char *rgb)
{
	long top = (long)c->h - 1, a = ya < yb ? ya : yb, b = ya < yb ? yb : ya;
	for (long y = a < 0 ? 0 : a; y <= (b > top ? top : b); y++)
		put(c, x, (size_t)y, rgb);
}

static int canvas_new(canvas *c, size_t w, size_t h)
{
	c->w = w;
	c->h = h;
	c->px = malloc(w * h * 3);
	if (c->px)
		memset(c->px, 255, w * h * 3);
	return c->px ? 0 : SIMREC_ENOMEM;
}

/* 2-d: rows x cols values, the longer side scaled to
 * SR_PNG_MIN_SIDE..SR_PNG_MAX_SIDE pixels (nearest value). */
static int draw_image(canvas *c, const double *v, size_t rows, size_t cols,
                      double lo, double hi)
{
	size_t m = rows > cols ? rows : cols, w = cols, h = rows;
	if (m > SR_PNG_MAX_SIDE) {
		w = (cols * SR_PNG_MAX_SIDE + m / 2) / m;
		h = (rows * SR_PNG_MAX_SIDE + m / 2) / m;
	} else if (m < SR_PNG_MIN_SIDE) {
		w = cols * (SR_PNG_MIN_SIDE / m);
		h = rows * (SR_PNG_MIN_SIDE / m);
	}
	if (canvas_new(c, w ? w : 1, h ? h : 1))
		return SIMREC_ENOMEM;
	for (size_t y = 0; y < c->h; y++)
		for (size_t x = 0; x < c->w; x++)
			colour_of(v[(y * rows / c->h) * cols + x * cols / c->w],
			          lo, hi, c->px + (y * c->w + x) * 3);
	return 0;
}

/* The row of value v in the plot area y0..y1 (the middle if lo == hi). */
static long row_of(double v, double lo, double hi, long y0, long y1)
{
	if (!(hi > lo))
		return (y0 + y1) / 2;
	return y1 - lround(place(v, lo, hi) * (double)(y1 - y0));
}

/* What the points of one column of the line plot span. */
typedef struct column {
	long first, last, lo, hi; /* rows */
	int used, nan, gap;       /* gap: a NaN since the previous point */
} column;

/* Points of v[0..n) into the plot columns x0..x1. */
static void columns_fill(column *col, const double *v, size_t n, double lo,
                         double hi, long x0, long x1, long y0, long y1)
{
	int gap = 0;
	for (size_t i = 0; i < n; i++) {
		size_t x =
		        n > 1 ? (size_t)lround((double)i * (double)(x1 - x0) /
		                               (double)(n - 1))
		              : (size_t)(x1 - x0) / 2;
		column *k = &col[x];
		if (isnan(v[i])) {
			k->nan = gap = 1;
			continue;
		}
		long y = row_of(v[i], lo, hi, y0, y1);
		if (!k->used) {
			k->first = k->lo = k->hi = y;
			k->gap = gap;
		}
		k->lo = y < k->lo ? y : k->lo;
		k->hi = y > k->hi ? y : k->hi;
		k->last = y;
		k->used = 1;
		gap = 0;
	}
}

/* 1-d: a line through the points, joined column to column; a NaN breaks
 * the line and leaves a red mark at the bottom of the plot. */
static int draw_line(canvas *c, const double *v, size_t n, double lo, double hi)
{
	const long m = SR_PNG_MARGIN, x0 = m + 1, x1 = SR_PNG_LINE_W - 2 - m,
	           y0 = m + 1, y1 = SR_PNG_LINE_H - 2 - m;
	column *col = calloc((size_t)(x1 - x0 + 1), sizeof *col);
	if (!col || canvas_new(c, SR_PNG_LINE_W, SR_PNG_LINE_H)) {
		free(col);
		return SIMREC_ENOMEM;
	}
	for (long x = m; x <= x1 + 1; x++) {
		put(c, (size_t)x, (size_t)m, frame_rgb);
		put(c, (size_t)x, (size_t)(y1 + 1), frame_rgb);
	}
	vspan(c, (size_t)m, m, y1 + 1, frame_rgb);
	vspan(c, (size_t)(x1 + 1), m, y1 + 1, frame_rgb);
	columns_fill(col, v, n, lo, hi, x0, x1, y0, y1);
	long px = -1, py = 0;
	for (long x = x0; x <= x1; x++) {
		column *k = &col[x - x0];
		if (k->nan)
			vspan(c, (size_t)x, y1 - 4, y1, mark_rgb);
		if (!k->used)
			continue;
		if (px >= 0 && !k->gap)
			for (long s = px + 1; s <= x;
			     s++) /* join the columns */
				vspan(c, (size_t)s,
				      py + (k->first - py) * (s - 1 - px) /
				                      (x - px),
				      py + (k->first - py) * (s - px) /
				                      (x - px),
				      line_rgb);
		vspan(c, (size_t)x, k->lo, k->hi, line_rgb);
		px = x;
		py = k->last;
	}
	free(col);
	return 0;
}

/* Encode c with the caption into f; -1 on a libpng error. Nothing changes
 * after setjmp but libpng's own state. */
static int png_encode(FILE *f, const canvas *c, png_text *text, int ntext)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
	                                          NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		return -1;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		return -1;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)c->w, (png_uint_32)c->h, 8,
	             PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_set_text(png, info, text, ntext);
	png_write_info(png, info);
	png_bytep *rows = png_malloc(png, c->h * sizeof *rows);
	for (size_t y = 0; y < c->h; y++)
		rows[y] = c->px + y * c->w * 3;
	png_write_image(png, rows);
	png_free(png, rows);
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	return 0;
}

/* c into path through a temporary file beside it and a rename. */
static int png_save(const char *path, const canvas *c, caption *cap, char *err,
                    size_t errlen)
{
	png_text text[4] = {
	        {.compression = PNG_TEXT_COMPRESSION_NONE,
	         .key = "simrec:shape",
	         .text = cap->shape},
	        {.compression = PNG_TEXT_COMPRESSION_NONE,
	         .key = "simrec:min",
	         .text = cap->min},
	        {.compression = PNG_TEXT_COMPRESSION_NONE,
	         .key = "simrec:max",
	         .text = cap->max},
	        {.compression = PNG_TEXT_COMPRESSION_NONE,
	         .key = "simrec:plane",
	         .text = cap->plane},
	};
	size_t len;
	char *tmp = NULL;
	if (!sr_size_add(strlen(path), 8, &len))
		tmp = malloc(len);
	if (!tmp)
		return fail(err, errlen, SIMREC_ENOMEM, "out of memory");
	snprintf(tmp, len, "%s.XXXXXX", path);
	int fd = mkstemp(tmp);
	int why = fd < 0 ? errno : 0; /* the first failure's cause */
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	why = why ? why : f ? 0 : errno;
	int rc = f ? 0 : -1;
	if (f) {
		mode_t um = umask(022);
		umask(um);
		rc = fchmod(fd, 0666 & ~um) ||
		     png_encode(f, c, text, cap->plane[0] ? 4 : 3);
		why = rc ? errno : 0;
		int closed = fclose(f);
		why = why ? why : closed ? errno : 0;
		rc = closed || rc ? -1 : rename(tmp, path);
		why = why ? why : rc ? errno : 0;
	} else if (fd >= 0) {
		close(fd);
	}
	if (rc && fd >= 0)
		unlink(tmp);
	free(tmp);
	if (rc)
		return fail(err, errlen, SIMREC_EIO, "cannot write '%s': %s",
		            path, why ? strerror(why) : "error");
	return 0;
}

/* The caption's shape, and the offset in elements of the middle plane of
 * the slowest axes (3-d and more; 0 otherwise). */
static size_t caption_plane(caption *cap, int nd, const size_t *sh)
{
	size_t off = 0, stride = 1, at = 0, at2 = 0;
	for (int d = nd - 1; d >= 0; d--) {
		if (d < nd - 2)
			off += sh[d] / 2 * stride;
		stride *= sh[d];
	}
	cap->shape[0] = cap->plane[0] = 0;
	for (int d = 0; d < nd; d++) {
		at += (size_t)snprintf(cap->shape + at, at < 200 ? 256 - at : 0,
		                       "%s%zu", d ? "," : "", sh[d]);
		if (nd > 2)
			at2 += (size_t)snprintf(
			        cap->plane + at2, at2 < 200 ? 256 - at2 : 0,
			        d < nd - 2 ? "%s%zu" : "%s:", d ? "," : "",
			        sh[d] / 2);
	}
	return off;
}

/* The drawn values as doubles: n elements of data from offset off. */
static double *as_doubles(simrec_dtype_t dt, const void *data, size_t off,
                          size_t n)
{
	size_t isz = simrec_dtype_size(dt);
	double *v = malloc(n * sizeof *v);
	for (size_t i = 0; v && i < n; i++)
		v[i] = elem_value(dt, (const unsigned char *)data +
		                              (off + i) * isz);
	return v;
}

int sr_png_write(const char *path, simrec_dtype_t dt, int ndim,
                 const size_t *shape, const void *data, char *err,
                 size_t errlen)
{
	size_t total, n;
	if (dt == SIMREC_BYTES || dt == SIMREC_STRING || !simrec_dtype_size(dt))
		return fail(err, errlen, SIMREC_EINVAL,
		            "%s values have no picture", simrec_dtype_name(dt));
	if (ndim < 0 || ndim > SIMREC_MAX_NDIM ||
	    sr_size_prod(ndim, shape, 1, &total))
		return fail(err, errlen, SIMREC_EINVAL, "bad shape");
	int nd = ndim < 2 ? 1 : 2;
	size_t rows = ndim < 2 ? 1 : shape[ndim - 2],
	       cols = ndim ? shape[ndim - 1] : 1;
	n = rows * cols;
	if (!total || n > SR_PNG_MAX_ELEMS)
		return fail(err, errlen, SIMREC_EINVAL,
		            "cannot draw %zu values (1 to %zu)", n,
		            SR_PNG_MAX_ELEMS);
	caption cap;
	size_t off = caption_plane(&cap, ndim, shape);
	double *v = as_doubles(dt, data, off, n), lo = 0, hi = 0;
	if (!v)
		return fail(err, errlen, SIMREC_ENOMEM, "out of memory");
	int any = finite_range(v, n, &lo, &hi);
	snprintf(cap.min, sizeof cap.min, any ? "%.17g" : "nan", lo);
	snprintf(cap.max, sizeof cap.max, any ? "%.17g" : "nan", hi);
	canvas c = {0};
	int rc = nd == 1 ? draw_line(&c, v, n, lo, hi)
	                 : draw_image(&c, v, rows, cols, lo, hi);
	free(v);
	if (rc)
		return fail(err, errlen, rc, "out of memory");
	rc = png_save(path, &c, &cap, err, errlen);
	free(c.px);
	return rc;
}
