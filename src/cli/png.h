/* A picture of one record as a PNG file (libpng), for `simrec png` and
 * `simrec watch --png`. The layout is in docs/cli.md ("simrec png"). */
#ifndef SIMREC_CLI_PNG_H
#define SIMREC_CLI_PNG_H

#include <stddef.h>

#include "simrec.h"

/* The largest array drawn: elements of the plane or line (a larger one is
 * refused, not drawn). */
#define SR_PNG_MAX_ELEMS ((size_t)1 << 26)
/* The picture of a 2-d array: a longer side under SR_PNG_MIN_SIDE values
 * scaled up by the largest whole factor that keeps it within
 * SR_PNG_MIN_SIDE pixels, one over SR_PNG_MAX_SIDE scaled down to it. */
#define SR_PNG_MIN_SIDE 256
#define SR_PNG_MAX_SIDE 1024
/* The line plot of a 1-d array: width x height pixels, the plot inside a
 * grey frame SR_PNG_MARGIN pixels from the edges. */
#define SR_PNG_LINE_W 800
#define SR_PNG_LINE_H 400
#define SR_PNG_MARGIN 20

/* Draw the array data (C order, dtype dt, ndim dimensions of shape) into
 * the PNG file path: a line plot for 0-d and 1-d, an image with a
 * viridis-like colour map scaled from the smallest to the largest finite
 * value for 2-d (NaN magenta), the middle plane of the slowest axes for
 * 3-d and more. Complex values are drawn as their magnitude. The file is
 * written to a temporary file beside path and renamed over it, so a viewer
 * never reads half a picture. Returns 0, or SIMREC_EINVAL (a byte-string
 * dtype, a shape with a zero or over SR_PNG_MAX_ELEMS elements), SIMREC_ENOMEM
 * or SIMREC_EIO, with a message in err (errlen bytes). data is the caller's. */
int sr_png_write(const char *path, simrec_dtype_t dt, int ndim,
                 const size_t *shape, const void *data, char *err,
                 size_t errlen);

/* The same in parts, so that a caller reading an array larger than memory
 * may feed it by blocks: memory stays bounded by the picture (a line's
 * columns, one value per pixel of an image), not by the array.
 * sr_png_begin checks as sr_png_write does and makes *out for the array
 * of shape (ndim, shape); sr_png_feed gives elements i0..i0+n-1 of it
 * (C order, dtype dt, data the caller's), in increasing order (more
 * than 2 dimensions: elements outside the drawn middle plane are
 * skipped, so the whole array may be fed);
 * sr_png_finish draws and writes path (0, or SIMREC_ENOMEM / SIMREC_EIO
 * with err); sr_png_free frees (NULL is fine). */
typedef struct sr_png sr_png;
int sr_png_begin(sr_png **out, simrec_dtype_t dt, int ndim, const size_t *shape,
                 char *err, size_t errlen);
void sr_png_feed(sr_png *a, size_t i0, const void *data, size_t n);
int sr_png_finish(sr_png *a, const char *path, char *err, size_t errlen);
void sr_png_free(sr_png *a);

#endif
