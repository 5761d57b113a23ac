#include <string.h>

#include "../common/size.h"
#include "payload.h"

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

size_t sr_payload_header_size(int ndim)
{
	return 8 + 8 * (size_t)ndim + 8;
}

void sr_payload_header(const sr_payload *p, unsigned char *out)
{
	memcpy(out, SR_PAYLOAD_MAGIC, 4);
	out[4] = (unsigned char)p->dtype;
	out[5] = (unsigned char)p->compressed;
	out[6] = (unsigned char)p->ndim;
	out[7] = (unsigned char)p->flags;
	for (int i = 0; i < p->ndim; i++)
		put64(out + 8 + 8 * i, p->shape[i]);
	put64(out + 8 + 8 * p->ndim, p->raw_bytes);
}

int sr_payload_parse(const void *buf, size_t len, sr_payload *p)
{
	const unsigned char *b = buf;
	memset(p, 0, sizeof *p);
	if (len < 16 || memcmp(b, SR_PAYLOAD_MAGIC, 4) ||
	    b[4] >= SIMREC_NDTYPES || b[6] >= SIMREC_MAX_NDIM)
		return SIMREC_EFORMAT;
	p->dtype = (simrec_dtype_t)b[4];
	p->compressed = b[5];
	p->ndim = b[6];
	p->flags = b[7];
	size_t h = sr_payload_header_size(p->ndim);
	if (len < h)
		return SIMREC_EFORMAT;
	for (int i = 0; i < p->ndim; i++)
		p->shape[i] = get64(b + 8 + 8 * i);
	p->raw_bytes = get64(b + 8 + 8 * p->ndim);
	p->data = b + h;
	p->len = len - h;
	if (!p->compressed && !(p->flags & SR_PAYLOAD_PARTS) &&
	    p->len != p->raw_bytes)
		return SIMREC_EFORMAT;
	return 0;
}

int sr_payload_check(const sr_payload *p, const sr_meta *m)
{
	if (p->dtype != m->dtype || p->compressed > 1 ||
	    (p->flags & ~SR_PAYLOAD_PARTS) || p->raw_bytes > SR_SIZE_MAX)
		return SIMREC_EFORMAT;
	if (sr_dtype_is_vlen(m->dtype))
		/* a set value (ndim 0) is one item: chunks[0] is 1 */
		return p->ndim == 1 && m->ndim <= 1 &&
		                       p->shape[0] <= m->chunks[0]
		               ? 0
		               : SIMREC_EFORMAT;
	if (p->ndim != m->ndim)
		return SIMREC_EFORMAT;
	size_t shape[SIMREC_MAX_NDIM], bytes;
	for (int i = 0; i < p->ndim; i++) {
		if (p->shape[i] > (m->kind != SR_RECORDS ? m->shape[i]
		                                         : m->chunks[i]) &&
		    p->shape[i] > m->shape[i])
			return SIMREC_EFORMAT;
		shape[i] = (size_t)p->shape[i];
	}
	if (sr_size_prod(p->ndim, shape, simrec_dtype_size(m->dtype), &bytes) ||
	    bytes != p->raw_bytes)
		return SIMREC_EFORMAT;
	return 0;
}
