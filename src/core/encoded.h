/* record_all steps compressed by the ranks themselves. When a chunk of an
 * aggregated dataset is exactly one rank's block (1, 1, *local) and its
 * only store keeps blosc frames as chunk objects unchanged (zarr), every
 * rank compresses its own block before the gather (blosc frames are
 * independent) and the writer stores the gathered frames as they are:
 * the compression runs on every core, not on the writer's alone. */
#ifndef SIMREC_ENCODED_H
#define SIMREC_ENCODED_H

#include "recorder.h"

/* 1 and *c if d's rows may arrive as per-rank frames encoded with *c
 * (sr_codec_encode), else 0. */
int sr_dset_encoding(simrec_t *rec, const sr_dset *d, sr_codec *c);

/* Encode one rank's block (n bytes of items of isz bytes) with c into
 * *buf (grown as needed, capacity *cap); *len is the frame's size. */
int sr_encode_block(const sr_codec *c, size_t isz, const void *src, size_t n,
                    void **buf, size_t *cap, size_t *len, sr_err *e);

/* The largest frame of an n-byte block. */
size_t sr_encoded_bound(size_t n);

/* Append one row of d from the frames of its d->ncol ranks: frame i is
 * sizes[i] bytes at frames + displs[i]. Each frame's header is checked
 * against the block it must hold before anything is stored. */
int sr_dset_append_encoded(simrec_t *rec, sr_dset *d,
                           const unsigned char *frames, const int *sizes,
                           const int *displs);

#endif
