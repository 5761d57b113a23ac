/* Attributes kept as a JSON object (zarr .zattrs, memory and redis stores).
 *
 * JSON as zarr-python writes it: NaN, Infinity and -Infinity appear as bare
 * tokens, and integers may exceed int64 (uint64 attributes). Jansson reads
 * neither, so sr_attr_json_load() rewrites them into marker strings (a NUL
 * byte, then a tag) before parsing and sr_attr_json_dump() writes them back
 * as bare tokens. A json_t built or read here may hold such markers; only
 * the functions of this file interpret them. */
#ifndef SIMREC_ATTR_JSON_H
#define SIMREC_ATTR_JSON_H

#include <jansson.h>

#include "common.h"

/* Most strings in a SIMREC_ATTR_STRINGS attribute. */
#define SR_ATTR_STRINGS_MAX 4096

/* Bytes of the count NUL-ended strings at s (a STRINGS attribute). */
size_t sr_attr_strings_len(const char *s, size_t count);

/* Check a caller's attribute (kind, dtype, count, data); EINVAL naming the
 * problem. */
int sr_attr_check(const simrec_attr_t *a, sr_err *e);

/* The most attributes one key holds in the zarr and HDF5 stores: each set
 * rewrites the key's whole .zattrs (zarr) or scans the object's header
 * (HDF5's compact storage), so N of them cost N^2; past this a new one is
 * SIMREC_ENOTSUP naming the key. */
#define SR_ATTRS_MAX 1024
/* Set name in obj to a's value (EINVAL: a string that is not UTF-8). */
int sr_attr_to_json(json_t *obj, const char *name, const simrec_attr_t *a);
/* Read name from obj (ENOKEY if absent). Numeric lists become ARRAY,
 * lists of strings STRINGS, null EMPTY; other lists and objects come back as
 * their JSON text. */
int sr_attr_from_json(const json_t *obj, const char *name, simrec_attr_t *out);
/* Call fn for each name in sorted order. */
int sr_attr_json_list(const json_t *obj, sr_attr_fn fn, void *arg);
/* Parse n bytes of JSON text (any value) that may hold NaN, Infinity,
 * -Infinity and integers beyond int64; NULL with je filled on error. */
json_t *sr_attr_json_load(const void *text, size_t n, json_error_t *je);
/* json_dumps(j, flags) with markers written as zarr-python writes them
 * (NaN, Infinity, -Infinity, plain integer digits). malloc'd; NULL on
 * failure. */
char *sr_attr_json_dump(const json_t *j, size_t flags);

#endif
