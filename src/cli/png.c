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

/* What the values of one column of the line plot span (as values: their
 * rows follow once the scale is known). */
typedef struct column {
	double first, last, lo, hi;
	int used, nan, gap; /* gap: a NaN since the previous point */
} column;

/* The drawing being fed (sr_png_begin): the scale, and only what the
 * picture shows: a line's columns, an image's sampled values. */
struct sr_png {
	simrec_dtype_t dt;
	size_t isz, rows, cols, n, off; /* off: the middle plane's */
	int line, any, gap;
	double lo, hi;
	column *col;   /* line: the plot's columns */
	double *grid;  /* image: gh x gw values, one per pixel row/column */
	size_t w, h;   /* image: pixels */
	size_t gw, gh; /* image: grid (w or cols, h or rows) */
	caption cap;
};

/* The plot area of a line: x0..x1, y0..y1. */
#define LINE_X0 (SR_PNG_MARGIN + 1)
#define LINE_X1 (SR_PNG_LINE_W - 2 - SR_PNG_MARGIN)
#define LINE_Y0 (SR_PNG_MARGIN + 1)
#define LINE_Y1 (SR_PNG_LINE_H - 2 - SR_PNG_MARGIN)

/* 2-d: rows x cols values, the longer side scaled to
 * SR_PNG_MIN_SIDE..SR_PNG_MAX_SIDE pixels (nearest value): pixel (y, x)
 * shows value (y * rows / h, x * cols / w). Where the picture has fewer
 * pixels than values, the grid keeps one value per pixel, else all. */
static int image_begin(struct sr_png *a)
{
	size_t m = a->rows > a->cols ? a->rows : a->cols, w = a->cols,
	       h = a->rows;
	if (m > SR_PNG_MAX_SIDE) {
		w = (a->cols * SR_PNG_MAX_SIDE + m / 2) / m;
		h = (a->rows * SR_PNG_MAX_SIDE + m / 2) / m;
	} else if (m < SR_PNG_MIN_SIDE) {
		w = a->cols * (SR_PNG_MIN_SIDE / m);
		h = a->rows * (SR_PNG_MIN_SIDE / m);
	}
	a->w = w ? w : 1;
	a->h = h ? h : 1;
	a->gw = a->w < a->cols ? a->w : a->cols;
	a->gh = a->h < a->rows ? a->h : a->rows;
	a->grid = malloc(a->gw * a->gh * sizeof *a->grid);
	return a->grid ? 0 : SIMREC_ENOMEM;
}

/* The grid index of value index i of an axis of len values drawn as px
 * pixels (g grid entries); g if no pixel shows it. */
static size_t grid_of(size_t i, size_t len, size_t px, size_t g)
{
	if (g == len)
		return i;
	size_t y = (i * px + len - 1) / len; /* the first pixel at or past i */
	return y < px && y * len / px == i ? y : g;
}

static void image_feed(struct sr_png *a, size_t i, double v)
{
	size_t gy = grid_of(i / a->cols, a->rows, a->h, a->gh),
	       gx = grid_of(i % a->cols, a->cols, a->w, a->gw);
	if (gy < a->gh && gx < a->gw)
		a->grid[gy * a->gw + gx] = v;
}

static int image_draw(canvas *c, const struct sr_png *a)
{
	if (canvas_new(c, a->w, a->h))
		return SIMREC_ENOMEM;
	for (size_t y = 0; y < c->h; y++)
		for (size_t x = 0; x < c->w; x++) {
			size_t gy = a->gh == a->rows ? y * a->rows / c->h : y,
			       gx = a->gw == a->cols ? x * a->cols / c->w : x;
			colour_of(a->grid[gy * a->gw + gx], a->lo, a->hi,
			          c->px + (y * c->w + x) * 3);
		}
	return 0;
}

/* The row of value v in the plot area y0..y1 (the middle if lo == hi). */
static long row_of(double v, double lo, double hi, long y0, long y1)
{
	if (!(hi > lo))
		return (y0 + y1) / 2;
	return y1 - lround(place(v, lo, hi) * (double)(y1 - y0));
}

/* Point i of the line (of a->n) into its plot column. */
static void line_feed(struct sr_png *a, size_t i, double v)
{
	const long span = LINE_X1 - LINE_X0;
	size_t x = a->n > 1 ? (size_t)lround((double)i * (double)span /
	                                     (double)(a->n - 1))
	                    : (size_t)span / 2;
	column *k = &a->col[x];
	if (isnan(v)) {
		k->nan = a->gap = 1;
		return;
	}
	if (!k->used) {
		k->first = k->lo = k->hi = v;
		k->gap = a->gap;
	}
	k->lo = v < k->lo ? v : k->lo;
	k->hi = v > k->hi ? v : k->hi;
	k->last = v;
	k->used = 1;
	a->gap = 0;
}

static void line_frame(canvas *c)
{
	const long m = SR_PNG_MARGIN;
	for (long x = m; x <= LINE_X1 + 1; x++) {
		put(c, (size_t)x, (size_t)m, frame_rgb);
		put(c, (size_t)x, (size_t)(LINE_Y1 + 1), frame_rgb);
	}
	vspan(c, (size_t)m, m, LINE_Y1 + 1, frame_rgb);
	vspan(c, (size_t)(LINE_X1 + 1), m, LINE_Y1 + 1, frame_rgb);
}

/* 1-d: a line through the points, joined column to column; a NaN breaks
 * the line and leaves a red mark at the bottom of the plot. A column's
 * highest value has its top row, its lowest its bottom row. */
static int line_draw(canvas *c, const struct sr_png *a)
{
	const long y0 = LINE_Y0, y1 = LINE_Y1;
	if (canvas_new(c, SR_PNG_LINE_W, SR_PNG_LINE_H))
		return SIMREC_ENOMEM;
	line_frame(c);
	long px = -1, py = 0;
	for (long x = LINE_X0; x <= LINE_X1; x++) {
		const column *k = &a->col[x - LINE_X0];
		if (k->nan)
			vspan(c, (size_t)x, y1 - 4, y1, mark_rgb);
		if (!k->used)
			continue;
		long first = row_of(k->first, a->lo, a->hi, y0, y1);
		if (px >= 0 && !k->gap)
			for (long s = px + 1; s <= x;
			     s++) /* join the columns */
				vspan(c, (size_t)s,
				      py + (first - py) * (s - 1 - px) /
				                      (x - px),
				      py + (first - py) * (s - px) / (x - px),
				      line_rgb);
		vspan(c, (size_t)x, row_of(k->hi, a->lo, a->hi, y0, y1),
		      row_of(k->lo, a->lo, a->hi, y0, y1), line_rgb);
		px = x;
		py = row_of(k->last, a->lo, a->hi, y0, y1);
	}
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

int sr_png_begin(sr_png **out, simrec_dtype_t dt, int ndim, const size_t *shape,
                 char *err, size_t errlen)
{
	size_t total;
	*out = NULL;
	if (dt == SIMREC_BYTES || dt == SIMREC_STRING || !simrec_dtype_size(dt))
		return fail(err, errlen, SIMREC_EINVAL,
		            "%s values have no picture", simrec_dtype_name(dt));
	if (ndim < 0 || ndim > SIMREC_MAX_NDIM ||
	    sr_size_prod(ndim, shape, 1, &total))
		return fail(err, errlen, SIMREC_EINVAL, "bad shape");
	size_t rows = ndim < 2 ? 1 : shape[ndim - 2],
	       cols = ndim ? shape[ndim - 1] : 1, n = rows * cols;
	if (!total || n > SR_PNG_MAX_ELEMS)
		return fail(err, errlen, SIMREC_EINVAL,
		            "cannot draw %zu values (1 to %zu)", n,
		            SR_PNG_MAX_ELEMS);
	struct sr_png *a = calloc(1, sizeof *a);
	if (!a)
		return fail(err, errlen, SIMREC_ENOMEM, "out of memory");
	*a = (struct sr_png){.dt = dt,
	                     .isz = simrec_dtype_size(dt),
	                     .rows = rows,
	                     .cols = cols,
	                     .n = n,
	                     .line = ndim < 2};
	a->off = caption_plane(&a->cap, ndim, shape);
	int rc = 0;
	if (a->line) {
		a->col = calloc(LINE_X1 - LINE_X0 + 1, sizeof *a->col);
		rc = a->col ? 0 : SIMREC_ENOMEM;
	} else {
		rc = image_begin(a);
	}
	if (rc) {
		sr_png_free(a);
		return fail(err, errlen, rc, "out of memory");
	}
	*out = a;
	return 0;
}

void sr_png_feed(sr_png *a, size_t i0, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t g = i0 > a->off ? i0 : a->off, end = a->off + a->n;
	end = i0 + n < end ? i0 + n : end; /* the drawn plane's part */
	for (; g < end; g++) {
		double v = elem_value(a->dt, p + (g - i0) * a->isz);
		if (isfinite(v)) {
			a->lo = !a->any || v < a->lo ? v : a->lo;
			a->hi = !a->any || v > a->hi ? v : a->hi;
			a->any = 1;
		}
		if (a->line)
			line_feed(a, g - a->off, v);
		else
			image_feed(a, g - a->off, v);
	}
}

int sr_png_finish(sr_png *a, const char *path, char *err, size_t errlen)
{
	snprintf(a->cap.min, sizeof a->cap.min, a->any ? "%.17g" : "nan",
	         a->lo);
	snprintf(a->cap.max, sizeof a->cap.max, a->any ? "%.17g" : "nan",
	         a->hi);
	canvas c = {0};
	int rc = a->line ? line_draw(&c, a) : image_draw(&c, a);
	if (rc)
		rc = fail(err, errlen, rc, "out of memory");
	else
		rc = png_save(path, &c, &a->cap, err, errlen);
	free(c.px);
	return rc;
}

void sr_png_free(sr_png *a)
{
	if (!a)
		return;
	free(a->col);
	free(a->grid);
	free(a);
}

int sr_png_write(const char *path, simrec_dtype_t dt, int ndim,
                 const size_t *shape, const void *data, char *err,
                 size_t errlen)
{
	sr_png *a;
	int rc = sr_png_begin(&a, dt, ndim, shape, err, errlen);
	if (rc)
		return rc;
	sr_png_feed(a, 0, data, a->off + a->n);
	rc = sr_png_finish(a, path, err, errlen);
	sr_png_free(a);
	return rc;
}
