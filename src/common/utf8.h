/* UTF-8 validation of string items (what zarr-python and h5py decode). */
#ifndef SIMREC_UTF8_H
#define SIMREC_UTF8_H

#include <stddef.h>

/* The byte offset of the first byte that is not part of well-formed UTF-8
 * (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF), or len
 * when all of s is valid. */
size_t sr_utf8_bad(const void *s, size_t len);

#endif
