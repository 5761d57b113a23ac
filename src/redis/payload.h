/* The redis value layout (docs/redis-format.md): a 24+8*ndim byte header
 * then the element's bytes, raw or one blosc frame. Kept apart from the
 * connection code. */
#ifndef SIMREC_REDIS_PAYLOAD_H
#define SIMREC_REDIS_PAYLOAD_H

#include <stdint.h>

#include "../common/common.h"

#define SR_PAYLOAD_MAGIC "SRR1"
#define SR_PAYLOAD_PARTS 1 /* flags: bytes live in a parts list */

typedef struct sr_payload {
	simrec_dtype_t dtype;
	int compressed;
	int flags;
	int ndim;
	uint64_t shape[SIMREC_MAX_NDIM];
	uint64_t raw_bytes;        /* decoded size */
	const unsigned char *data; /* after the header */
	size_t len;
} sr_payload;

size_t sr_payload_header_size(int ndim);
/* Write the header of p into out (sr_payload_header_size bytes). */
void sr_payload_header(const sr_payload *p, unsigned char *out);
/* Parse a value; p->data points into buf. SIMREC_EFORMAT if malformed. */
int sr_payload_parse(const void *buf, size_t len, sr_payload *p);
/* Check a parsed header against the dataset's metadata: dtype and rank,
 * at most a chunk of rows, raw_bytes equal to its shape's bytes (vlen:
 * bounded), known flags. 0 or SIMREC_EFORMAT. */
int sr_payload_check(const sr_payload *p, const sr_meta *m);

#endif
