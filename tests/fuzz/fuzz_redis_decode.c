/* Fuzz target: the redis element decode (no server): parse the header,
 * check it against the dataset's metadata, decode the payload (raw or a
 * blosc frame) and, for vlen data, pick an item, as the redis store does
 * with a list element. The first byte picks the metadata. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/codec/codec.h"
#include "../../src/redis/payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	sr_meta m = {.dtype = SIMREC_FLOAT64, .ndim = 3};
	size_t shape[3] = {10, 4, 3}, chunks[3] = {2, 4, 3};
	switch (data[0] % 4) {
	case 0:
		break;
	case 1:
		m.dtype = SIMREC_INT16;
		m.ndim = 1;
		break;
	case 2:
		m.dtype = SIMREC_BYTES;
		m.ndim = 1;
		break;
	default:
		m.kind = SR_VALUE;
		m.dtype = SIMREC_UINT8;
	}
	memcpy(m.shape, shape, sizeof shape);
	memcpy(m.chunks, chunks, sizeof chunks);
	sr_payload p;
	sr_err e;
	if (sr_payload_parse(data + 1, size - 1, &p) ||
	    sr_payload_check(&p, &m))
		return 0;
	if ((p.flags & SR_PAYLOAD_PARTS) || p.raw_bytes > ((size_t)1 << 24))
		return 0;
	void *out = malloc(p.raw_bytes ? p.raw_bytes : 1);
	if (!out)
		return 0;
	if (!sr_codec_decode(p.compressed, p.data, p.len, out, p.raw_bytes, 1,
	                     &e) &&
	    m.dtype == SIMREC_BYTES) {
		sr_blob b;
		for (size_t i = 0; i < p.shape[0] && i < 8; i++)
			if (!sr_vlen_item(out, p.raw_bytes, i, &b))
				free(b.data);
	}
	free(out);
	return 0;
}
