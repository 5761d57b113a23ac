/* Chunk codecs: blosc (or none) and the numcodecs vlen encodings. */
#ifndef SIMREC_CODEC_H
#define SIMREC_CODEC_H

#include "../common/common.h"

/* Is cname a codec this build can use for zarr/redis ("none" included)? */
int sr_codec_valid(const char *cname);

/* Compress n bytes of src (elements of typesize bytes) into *dst, which is
 * grown as needed (*cap tracks its capacity). "none" copies. */
int sr_codec_encode(const sr_codec *c, size_t typesize, const void *src,
                    size_t n, void **dst, size_t *cap, size_t *outlen,
                    sr_err *e);

/* The most bytes sr_codec_encode may write for n bytes of input. */
size_t sr_codec_bound(size_t n);

/* Decode src into dst, which must hold exactly expect bytes. compressed
 * tells whether src carries a blosc frame (else it is copied raw). */
int sr_codec_decode(int compressed, const void *src, size_t srclen, void *dst,
                    size_t expect, int nthreads, sr_err *e);

/* Decode only items start .. start+nitems-1 of a blosc frame (blosc
 * decompresses just the blocks that hold them); the frame must hold expect
 * bytes of items of typesize bytes (its header is checked first). */
int sr_codec_decode_items(const void *src, size_t srclen, size_t start,
                          size_t nitems, size_t typesize, size_t expect,
                          void *dst, sr_err *e);

/* The bytes [*lo, *hi) of a blosc frame that sr_codec_decode_items reads
 * for those items besides the header and block-start table (a hint for
 * reading ahead: a damaged table gives some range inside the frame).
 * Returns 0, or -1 if the frame fails sr_codec_frame_check. */
int sr_codec_items_span(const void *src, size_t srclen, size_t start,
                        size_t nitems, size_t expect, size_t *lo, size_t *hi);

/* Check a blosc frame's header against the chunk it must hold: valid
 * header, cbytes == srclen, nbytes == expect, sane typesize/blocksize.
 * Writes the frame's typesize if typesize is not NULL. SIMREC_EFORMAT. */
int sr_codec_frame_check(const void *src, size_t srclen, size_t expect,
                         size_t *typesize, sr_err *e);

/* Size of the decoded data of a blosc frame (0 if not a valid frame). */
size_t sr_codec_decoded_size(const void *src, size_t srclen);

/* numcodecs VLenBytes/VLenUTF8 layout: u32 count, then (u32 len, bytes)
 * per item, little-endian. encode returns a malloc'd buffer. */
int sr_vlen_encode(const sr_blob *items, size_t n, void **out, size_t *len);
/* Decode item index of an encoded buffer; out->data malloc'd. */
int sr_vlen_item(const void *buf, size_t len, size_t index, sr_blob *out);
/* Number of items in an encoded buffer (0 on a malformed one). */
size_t sr_vlen_count(const void *buf, size_t len);

#endif
