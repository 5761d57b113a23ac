/* Attributes kept as a JSON object (zarr .zattrs, memory and redis stores). */
#ifndef SIMREC_ATTR_JSON_H
#define SIMREC_ATTR_JSON_H

#include <jansson.h>

#include "common.h"

/* Set name in obj to a's value. */
int sr_attr_to_json(json_t *obj, const char *name, const simrec_attr_t *a);
/* Read name from obj (ENOKEY if absent, ENOTSUP for arrays/objects). */
int sr_attr_from_json(const json_t *obj, const char *name, simrec_attr_t *out);
/* Call fn for each name in sorted order. */
int sr_attr_json_list(const json_t *obj, sr_attr_fn fn, void *arg);

#endif
