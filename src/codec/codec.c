/* blosc frames and the vlen item layout of numcodecs.
 *
 * c-blosc's global API is used under one lock: it keeps its thread pool
 * and scratch buffers between calls, where the *_ctx calls set them up and
 * tear them down for every chunk (measured here: several times slower on
 * 1 MiB chunks). */
#include <blosc.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/size.h"
#include "codec.h"

static pthread_mutex_t blosc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t blosc_once = PTHREAD_ONCE_INIT;

static void blosc_start(void)
{
	blosc_init();
}

static void blosc_enter(int nthreads)
{
	pthread_once(&blosc_once, blosc_start);
	pthread_mutex_lock(&blosc_lock);
	if (blosc_get_nthreads() != nthreads)
		blosc_set_nthreads(nthreads);
}

static const char *const blosc_names[] = {"blosclz", "lz4", "lz4hc", "zlib",
                                          "zstd"};

int sr_codec_valid(const char *cname)
{
	if (!strcmp(cname, "none"))
		return 1;
	for (size_t i = 0; i < sizeof blosc_names / sizeof *blosc_names; i++)
		if (!strcmp(cname, blosc_names[i]))
			return blosc_compname_to_compcode(cname) >= 0;
	return 0;
}

size_t sr_codec_bound(size_t n)
{
	return n + BLOSC_MAX_OVERHEAD;
}

int sr_codec_encode(const sr_codec *c, size_t typesize, const void *src,
                    size_t n, void **dst, size_t *cap, size_t *outlen,
                    sr_err *e)
{
	size_t need = n + BLOSC_MAX_OVERHEAD;
	if (*cap < need) {
		void *p = realloc(*dst, need);
		if (!p)
			return sr_fail(e, SIMREC_ENOMEM,
			               "out of memory for a %zu-byte chunk", n);
		*dst = p;
		*cap = need;
	}
	if (!strcmp(c->cname, "none")) {
		memcpy(*dst, src, n);
		*outlen = n;
		return 0;
	}
	if (n > BLOSC_MAX_BUFFERSIZE)
		return sr_fail(
		        e, SIMREC_ECODEC,
		        "chunk of %zu bytes exceeds blosc's limit; lower "
		        "chunk_bytes",
		        n);
	if (typesize > BLOSC_MAX_TYPESIZE || typesize == 0)
		typesize = 1;
	blosc_enter(c->nthreads > 0 ? c->nthreads : 1);
	int r = blosc_set_compressor(c->cname) < 0
	                ? -1
	                : blosc_compress(c->level, c->shuffle, typesize, n, src,
	                                 *dst, *cap);
	pthread_mutex_unlock(&blosc_lock);
	if (r <= 0)
		return sr_fail(e, SIMREC_ECODEC,
		               "blosc (%s) failed on %zu bytes", c->cname, n);
	*outlen = (size_t)r;
	return 0;
}

size_t sr_codec_decoded_size(const void *src, size_t srclen)
{
	size_t nbytes = 0;
	if (blosc_cbuffer_validate(src, srclen, &nbytes) < 0)
		return 0;
	size_t cbytes = 0, bs = 0, nb = 0;
	blosc_cbuffer_sizes(src, &nb, &cbytes, &bs);
	return cbytes == srclen ? nbytes : 0;
}

int sr_codec_frame_check(const void *src, size_t srclen, size_t expect,
                         size_t *typesize, sr_err *e)
{
	size_t nbytes = 0, cbytes = 0, bs = 0, ts = 0;
	int flags = 0;
	if (srclen < BLOSC_MIN_HEADER_LENGTH)
		return sr_fail(e, SIMREC_EFORMAT,
		               "blosc frame of %zu bytes is shorter than its "
		               "header",
		               srclen);
	if (blosc_cbuffer_validate(src, srclen, &nbytes) < 0)
		return sr_fail(e, SIMREC_EFORMAT,
		               "blosc frame of %zu bytes has an invalid header",
		               srclen);
	blosc_cbuffer_sizes(src, &nbytes, &cbytes, &bs);
	blosc_cbuffer_metainfo(src, &ts, &flags);
	if (cbytes != srclen || nbytes != expect)
		return sr_fail(e, SIMREC_EFORMAT,
		               "blosc frame header says %zu bytes (%zu "
		               "compressed), the chunk holds %zu (%zu stored)",
		               nbytes, cbytes, expect, srclen);
	if (ts == 0 || ts > BLOSC_MAX_TYPESIZE || bs > nbytes ||
	    (nbytes && !bs && !(flags & BLOSC_MEMCPYED)))
		return sr_fail(e, SIMREC_EFORMAT,
		               "blosc frame header is inconsistent (typesize "
		               "%zu, blocksize %zu, %zu bytes)",
		               ts, bs, nbytes);
	if (typesize)
		*typesize = ts;
	return 0;
}

int sr_codec_decode(int compressed, const void *src, size_t srclen, void *dst,
                    size_t expect, int nthreads, sr_err *e)
{
	if (!compressed) {
		if (srclen != expect)
			return sr_fail(e, SIMREC_EFORMAT,
			               "raw chunk has %zu bytes, expected %zu",
			               srclen, expect);
		memcpy(dst, src, expect);
		return 0;
	}
	int rc = sr_codec_frame_check(src, srclen, expect, NULL, e);
	if (rc)
		return rc;
	int r;
	if (nthreads > 1) { /* blosc's own pool of threads (global) */
		blosc_enter(nthreads);
		r = blosc_decompress(src, dst, expect);
		pthread_mutex_unlock(&blosc_lock);
	} else { /* no global state: several threads decode at once */
		pthread_once(&blosc_once, blosc_start);
		r = blosc_decompress_ctx(src, dst, expect, 1);
	}
	if (r < 0 || (size_t)r != expect)
		return sr_fail(e, SIMREC_EFORMAT,
		               "blosc failed to decode a chunk");
	return 0;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

int sr_vlen_encode(const sr_blob *items, size_t n, void **out, size_t *len)
{
	size_t total = 4;
	for (size_t i = 0; i < n; i++) {
		if (items[i].len > UINT32_MAX)
			return SIMREC_EINVAL;
		if (sr_size_add(total, 4 + items[i].len, &total))
			return SIMREC_EINVAL;
	}
	unsigned char *b = malloc(total);
	if (!b)
		return SIMREC_ENOMEM;
	put_u32(b, (uint32_t)n);
	size_t off = 4;
	for (size_t i = 0; i < n; i++) {
		put_u32(b + off, (uint32_t)items[i].len);
		if (items[i].len)
			memcpy(b + off + 4, items[i].data, items[i].len);
		off += 4 + items[i].len;
	}
	*out = b;
	*len = total;
	return 0;
}

size_t sr_vlen_count(const void *buf, size_t len)
{
	return len < 4 ? 0 : get_u32(buf);
}

int sr_vlen_item(const void *buf, size_t len, size_t index, sr_blob *out)
{
	const unsigned char *b = buf;
	if (len < 4 || index >= get_u32(b))
		return SIMREC_EFORMAT;
	size_t off = 4;
	for (size_t i = 0;; i++) {
		if (off + 4 > len)
			return SIMREC_EFORMAT;
		size_t n = get_u32(b + off);
		if (off + 4 + n > len)
			return SIMREC_EFORMAT;
		if (i == index) {
			out->data = malloc(n + 1);
			if (!out->data)
				return SIMREC_ENOMEM;
			memcpy(out->data, b + off + 4, n);
			((char *)out->data)[n] = 0;
			out->len = n;
			return 0;
		}
		off += 4 + n;
	}
}

int sr_codec_decode_items(const void *src, size_t srclen, size_t start,
                          size_t nitems, size_t typesize, size_t expect,
                          void *dst, sr_err *e)
{
	size_t ts = 0, end;
	int rc = sr_codec_frame_check(src, srclen, expect, &ts, e);
	if (rc)
		return rc;
	/* blosc_getitem writes nitems * (the frame's typesize) bytes */
	if (ts != typesize || sr_size_add(start, nitems, &end) ||
	    sr_size_mul(end, typesize, &end) || end > expect ||
	    end > (size_t)INT_MAX)
		return sr_fail(e, SIMREC_EFORMAT,
		               "blosc frame typesize %zu does not match the "
		               "dtype's %zu",
		               ts, typesize);
	int r = blosc_getitem(src, (int)start, (int)nitems, dst);
	if (r < 0 || (size_t)r != nitems * typesize)
		return sr_fail(e, SIMREC_EFORMAT,
		               "blosc failed to decode a chunk");
	return 0;
}

int sr_codec_items_span(const void *src, size_t srclen, size_t start,
                        size_t nitems, size_t expect, size_t *lo, size_t *hi)
{
	size_t ts = 0, nbytes = 0, cbytes = 0, bs = 0, a, b;
	int flags = 0;
	sr_err e = {{0}};
	if (sr_codec_frame_check(src, srclen, expect, &ts, &e) || !nitems ||
	    sr_size_mul(start, ts, &a) || sr_size_add(start, nitems, &b) ||
	    sr_size_mul(b, ts, &b) || b > expect)
		return -1;
	blosc_cbuffer_sizes(src, &nbytes, &cbytes, &bs);
	blosc_cbuffer_metainfo(src, &ts, &flags);
	const unsigned char *p = src;
	size_t h = BLOSC_MIN_HEADER_LENGTH;
	if (flags & BLOSC_MEMCPYED) {
		*lo = h + a;
		*hi = h + b;
		return 0;
	}
	size_t nblocks = sr_size_chunks(nbytes, bs), b0 = a / bs,
	       b1 = (b - 1) / bs + 1;   /* blocks b0 .. b1-1 */
	if (nblocks > (srclen - h) / 4) /* the table does not fit */
		return -1;
	*lo = get_u32(p + h + 4 * b0);
	*hi = b1 < nblocks ? get_u32(p + h + 4 * b1) : srclen;
	if (*lo > srclen || *hi > srclen || *hi <= *lo) {
		*lo = h;
		*hi = srclen;
	}
	return 0;
}
