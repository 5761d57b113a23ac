/* A selection of a dataset (numpy-like: start, count, step per
 * dimension) read block by block, so that memory stays bounded by a block
 * whatever the selection spans: `png` draws from it, `cat` prints it. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Bytes of the box one block reads. */
#define BLOCK_BYTES ((size_t)16 << 20)

typedef struct blocks {
	simrec_dataset_t *ds;
	int nd;
	size_t isz, lim; /* lim: box elements per block */
	const size_t *st, *ct, *sp;
	unsigned char *box, *sel;
	sr_cli_consume fn;
	void *arg;
	size_t fed; /* elements given to fn so far */
} blocks;

/* The box elements of dimensions d.. of the selection: (ct-1)*sp+1 each;
 * the caller checked that the whole box's product fits. */
static size_t box_from(const blocks *b, int d)
{
	size_t n = 1;
	for (int e = d; e < b->nd; e++)
		n *= (b->ct[e] - 1) * b->sp[e] + 1;
	return n;
}

/* Read the part of the selection at outer index `at` (dimensions below
 * d0 fixed), q indices of d0 from k0, dimensions past d0 whole, and give
 * it to fn in C order. */
static int read_part(blocks *b, const size_t *at, int d0, size_t k0, size_t q)
{
	size_t st[SIMREC_MAX_NDIM], ct[SIMREC_MAX_NDIM], bx[SIMREC_MAX_NDIM],
	        nb = 1, n = 1;
	for (int d = 0; d < b->nd; d++) {
		ct[d] = d < d0 ? 1 : d == d0 ? q : b->ct[d];
		st[d] = b->st[d] + (d < d0    ? at[d]
		                    : d == d0 ? k0
		                              : 0) *
		                           b->sp[d];
		bx[d] = (ct[d] - 1) * b->sp[d] + 1;
		nb *= bx[d];
		n *= ct[d];
	}
	int rc = simrec_dataset_read(b->ds, st, bx, b->box, nb * b->isz);
	for (size_t i = 0; !rc && i < n; i++)
		memcpy(b->sel + i * b->isz,
		       b->box + sr_cli_box_offset(b->nd, ct, b->sp, bx, i) *
		                        b->isz,
		       b->isz);
	if (!rc)
		b->fn(b->arg, b->fed, b->sel, n);
	b->fed += n;
	return rc;
}

/* Every part, in C order: d0 is the slowest dimension whose faster ones'
 * box fits a block; dimensions below it are walked one index at a time,
 * d0 in runs whose box fits. */
static int read_all(blocks *b)
{
	int d0 = 0;
	while (d0 < b->nd - 1 && box_from(b, d0 + 1) > b->lim)
		d0++;
	if (!b->nd)
		return read_part(b, NULL, 0, 0, 1);
	size_t inner = box_from(b, d0 + 1), runs = b->lim / inner,
	       q = runs ? (runs - 1) / b->sp[d0] + 1 : 1;
	size_t at[SIMREC_MAX_NDIM] = {0};
	int rc = 0;
	for (;;) {
		for (size_t k = 0; !rc && k < b->ct[d0]; k += q)
			rc = read_part(b, at, d0, k,
			               b->ct[d0] - k < q ? b->ct[d0] - k : q);
		int d = d0 - 1; /* the next outer index */
		while (!rc && d >= 0 && ++at[d] == b->ct[d])
			at[d--] = 0;
		if (rc || d < 0)
			return rc;
	}
}

int sr_cli_read_blocks(simrec_dataset_t *ds, int nd, const size_t *st,
                       const size_t *ct, const size_t *sp, sr_cli_consume fn,
                       void *arg)
{
	for (int d = 0; d < nd; d++)
		if (!ct[d])
			return 0; /* nothing selected */
	blocks b = {.ds = ds,
	            .nd = nd,
	            .st = st,
	            .ct = ct,
	            .sp = sp,
	            .fn = fn,
	            .arg = arg};
	b.isz = simrec_dtype_size(simrec_dataset_dtype(ds));
	if (!b.isz)
		return SIMREC_EINVAL;
	b.lim = BLOCK_BYTES / b.isz;
	b.box = malloc(b.lim * b.isz);
	b.sel = malloc(b.lim * b.isz);
	int rc = b.box && b.sel ? read_all(&b) : SIMREC_ENOMEM;
	free(b.box);
	free(b.sel);
	return rc;
}
