/* record_all steps compressed by the ranks themselves. When a chunk of an
 * aggregated dataset is exactly one rank's block (1, 1, *local) and its
 * only store keeps blosc frames as chunks unchanged (zarr; HDF5 with the
 * blosc filter, one writer per file), every rank compresses its own block
 * before the gather (blosc frames are independent) and the writer stores
 * the gathered frames as they are: the compression runs on every core,
 * not on the writer's alone. Small blocks make chunks of k consecutive
 * rank blocks (1, k, *local): the chunk is their concatenation, so the
 * first rank of each k gathers them and compresses the chunk. */
#ifndef SIMREC_ENCODED_H
#define SIMREC_ENCODED_H

#include "recorder.h"

/* k > 0 and *c if d's rows may arrive as frames encoded with *c
 * (sr_codec_encode), one per chunk of k consecutive rank blocks
 * (1, k, *local), else 0. With k > 1 the first rank of each k gathers its
 * k blocks (they are the chunk's bytes, in order) and encodes them. */
int sr_dset_encoding(simrec_t *rec, const sr_dset *d, sr_codec *c);

/* Encode one rank's block (n bytes of items of isz bytes) with c into
 * *buf (grown as needed, capacity *cap); *len is the frame's size, at
 * most sr_encoded_bound(n) whatever *cap is (the shared window's slots
 * rely on it). */
int sr_encode_block(const sr_codec *c, size_t isz, const void *src, size_t n,
                    void **buf, size_t *cap, size_t *len, sr_err *e);

/* The largest frame of an n-byte block. */
size_t sr_encoded_bound(size_t n);

/* A step buffer of frames starts with the sizes and offsets of the
 * group's frames (gsize ints each), padded to 16 bytes. */
static inline size_t sr_frames_hdr(int gsize)
{
	return ((size_t)gsize * 2 * sizeof(int) + 15) / 16 * 16;
}

/* Append one row of d from the frames of its d->ncol ranks: frame i is
 * sizes[i] bytes at frames + displs[i], empty unless i is the first rank
 * of a chunk. Each frame's header is checked against the chunk it must
 * hold before anything is stored. */
int sr_dset_append_encoded(simrec_t *rec, sr_dset *d,
                           const unsigned char *frames, const int *sizes,
                           const int *displs);

#endif
