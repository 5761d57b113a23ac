/* hdf5's chunks compressed elsewhere (record_all: each rank its block), vlen
 * items, the check of every chunk, reads. */
#include <blosc.h>
#include <string.h>

#include "../../common/clock.h"
#include "../../common/oserr.h"
#include "h5store.h"

/* ---- chunks compressed elsewhere (record_all: each rank its block) ----- */

/* 1 and *c if d's only filter is blosc (32001) with the cd_values that
 * h5_set_filters writes: its chunks are then the plain blosc frames that
 * sr_codec_encode makes with *c, and a frame compressed by another rank
 * is stored as it is (H5Dwrite_chunk, filter mask 0). Serial files only:
 * parallel HDF5 1.10 refuses a direct chunk write with a collective
 * transfer, and an independent one of a chunk whose size differs from
 * the allocated one leaves the writers' metadata apart (measured: they
 * hang in the next collective). */
int h5_encoded_codec(sr_store *st, void *ds, sr_codec *c)
{
	h5_store *h = st->impl;
	h5_ds *d = ds;
	if (h->parallel || h->reopen || st->mode == SIMREC_MODE_READONLY ||
	    d->dset < 0)
		return 0;
	hid_t dcpl = H5Dget_create_plist(d->dset);
	if (dcpl < 0)
		return 0;
	unsigned flags = 0, cd[8] = {0}, cfg = 0;
	size_t ncd = 8;
	char name[32];
	int ok = H5Pget_nfilters(dcpl) == 1 &&
	         H5Pget_filter2(dcpl, 0, &flags, &ncd, cd, sizeof name, name,
	                        &cfg) == BLOSC_FILTER &&
	         ncd >= 7 && cd[4] <= 9 && cd[5] <= 2;
	H5Pclose(dcpl);
	const char *cname = NULL;
	if (!ok || blosc_compcode_to_compname((int)cd[6], &cname) < 0 ||
	    !cname || strlen(cname) >= sizeof c->cname)
		return 0;
	memset(c, 0, sizeof *c);
	snprintf(c->cname, sizeof c->cname, "%s", cname);
	c->level = (int)cd[4];
	c->shuffle = (int)cd[5];
	c->nthreads = st->codec.nthreads;
	return 1;
}

/* n chunks already compressed (blosc frames) written with H5Dwrite_chunk
 * after the extent grows to m->shape[0]; a failure shrinks it back and
 * breaks the store, as h5_write does. */
int h5_write_encoded(sr_store *st, void *ds, const sr_meta *m, size_t n,
                     const size_t *idx, const void *const *frames,
                     const size_t *lens)
{
	h5_ds *d = ds;
	size_t old;
	if (((h5_store *)st->impl)->parallel)
		return sr_fail(st->err, SIMREC_ENOTSUP,
		               "'%s': compressed chunks are written by one "
		               "writer per file only",
		               st->uri.path);
	int rc = h5_begin_append(st, d, m, &old);
	if (rc)
		return rc;
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++)
		bytes += lens[i];
	rc = h5_room(st, st->impl, bytes);
	if (rc) {
		h5_rollback(d, m, old); /* nothing written yet */
		return h5_poison(st, rc);
	}
	size_t nd = (size_t)m->ndim;
	double t0 = sr_clock();
	for (size_t i = 0; i < n && !rc; i++) {
		hsize_t off[SIMREC_MAX_NDIM];
		for (size_t j = 0; j < nd; j++)
			off[j] = (hsize_t)idx[i * nd + j] * m->chunks[j];
		if (off[0] >= m->shape[0])
			rc = sr_fail(st->err, SIMREC_EINVAL,
			             "'%s': a chunk past the extent", d->key);
		else if (H5Dwrite_chunk(d->dset, H5P_DEFAULT, 0, off, lens[i],
		                        frames[i]) < 0)
			rc = h5_fail(st, "H5Dwrite_chunk to");
	}
	st->t_write += sr_clock() - t0;
	if (!rc)
		return 0;
	h5_rollback(d, m, old);
	return h5_poison(st, rc);
}

/* H5Dwrite of n vlen items at row0 of dset (memory type mtype). */
static int vlen_write(sr_store *st, hid_t dset, hid_t mtype, simrec_dtype_t dt,
                      hid_t dxpl, size_t row0, size_t n, const sr_blob *items)
{
	int rc = 0;
	/* strings: NUL-terminated copies; bytes: hvl_t pointing at items */
	void *buf = dt == SIMREC_STRING ? calloc(n, sizeof(char *))
	                                : calloc(n, sizeof(hvl_t));
	if (!buf)
		return SIMREC_ENOMEM;
	for (size_t i = 0; i < n && !rc; i++) {
		if (dt == SIMREC_STRING) {
			char *s = malloc(items[i].len + 1);
			if (!s) {
				rc = SIMREC_ENOMEM;
				break;
			}
			if (items[i].len)
				memcpy(s, items[i].data, items[i].len);
			s[items[i].len] = 0;
			((char **)buf)[i] = s;
		} else {
			((hvl_t *)buf)[i].len = items[i].len;
			((hvl_t *)buf)[i].p = items[i].data;
		}
	}
	if (!rc) {
		hsize_t s0 = row0, c0 = n;
		hid_t fs = H5Dget_space(dset);
		/* a set value: one item in a scalar dataspace */
		int scalar = H5Sget_simple_extent_ndims(fs) == 0;
		hid_t ms = scalar ? H5Screate(H5S_SCALAR)
		                  : H5Screate_simple(1, &c0, NULL);
		if (!scalar)
			H5Sselect_hyperslab(fs, H5S_SELECT_SET, &s0, NULL, &c0,
			                    NULL);
		if (H5Dwrite(dset, mtype, ms, fs, dxpl, buf) < 0)
			rc = h5_fail(st, "H5Dwrite to");
		H5Sclose(fs);
		H5Sclose(ms);
	}
	if (dt == SIMREC_STRING)
		for (size_t i = 0; i < n; i++)
			free(((char **)buf)[i]);
	free(buf);
	return rc;
}

static void pend_free(vlen_pend *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->items[i].data);
	free(p->items);
	free(p->key);
}

/* Writer 0 of a parallel file: keep a copy of the items for h5_close. */
static int vlen_defer(sr_store *st, h5_ds *d, simrec_dtype_t dt, size_t row0,
                      size_t n, const sr_blob *items)
{
	h5_store *h = st->impl;
	if (SR_GROW_N(h->pend, h->cappend, h->npend + 1))
		return SIMREC_ENOMEM;
	vlen_pend p = {.key = strdup(d->key), .dt = dt, .row0 = row0};
	p.items = calloc(n, sizeof *p.items);
	int rc = p.key && p.items ? 0 : SIMREC_ENOMEM;
	for (size_t i = 0; i < n && !rc; i++, p.n++) {
		p.items[i].data = malloc(items[i].len ? items[i].len : 1);
		if (!p.items[i].data) {
			rc = SIMREC_ENOMEM;
			break;
		}
		if (items[i].len)
			memcpy(p.items[i].data, items[i].data, items[i].len);
		p.items[i].len = items[i].len;
	}
	if (rc) {
		pend_free(&p);
		return sr_fail(st->err, rc, "out of memory keeping '%s'",
		               d->key);
	}
	h->pend[h->npend++] = p;
	return 0;
}

/* HDF5 strings end at their first NUL (h5py and HDF5 alike), and an ASCII
 * dataset (h5py.string_dtype('ascii')) holds no other bytes than ASCII:
 * such text is refused rather than stored as something else. */
int h5_check_vlen(sr_store *st, void *ds, const sr_meta *m, const sr_blob *item)
{
	h5_ds *d = ds;
	if (m->dtype != SIMREC_STRING || !item->len)
		return 0;
	if (memchr(item->data, 0, item->len))
		return sr_fail(st->err, SIMREC_EINVAL,
		               "key '%s' in '%s': HDF5 strings cannot hold NUL "
		               "bytes; record it as SIMREC_BYTES",
		               d->key, st->uri.path);
	if (H5Tget_cset(d->mtype) != H5T_CSET_ASCII)
		return 0;
	const unsigned char *c = item->data;
	for (size_t i = 0; i < item->len; i++)
		if (c[i] > 0x7f)
			return sr_fail(st->err, SIMREC_EINVAL,
			               "key '%s' in '%s' is an ASCII string "
			               "dataset (h5py.string_dtype('ascii')): "
			               "non-ASCII text refused",
			               d->key, st->uri.path);
	return 0;
}

static int vlen_rows(sr_store *st, void *ds, const sr_meta *m, size_t row0,
                     size_t n, const sr_blob *items)
{
	h5_store *h = st->impl;
	h5_ds *d = ds;
	size_t old = h5_dim0(d);
	int rc = h5_sticky(st);
	for (size_t i = 0; i < n && !rc; i++)
		rc = h5_check_vlen(st, ds, m, &items[i]);
	if (!rc)
		rc = h5_mark_key(st, d->key, old);
	if (rc)
		return rc;
	rc = h5_extend(st, d, m);
	if (rc)
		return h5_poison(st, rc);
	if (!n)
		return 0;
	if (h->parallel) {
		int rank = 0;
		MPI_Comm_rank(st->comm, &rank);
		return rank ? 0 : vlen_defer(st, d, m->dtype, row0, n, items);
	}
	rc = vlen_write(st, d->dset, d->mtype, m->dtype, h->dxpl, row0, n,
	                items);
	if (rc)
		h5_rollback(d, m, old); /* no phantom rows */
	return h5_poison(st, rc);
}

/* A set text or bytes value (under its hidden name) replaces the old one
 * once written; parallel HDF5 writes strings after closing, too late. */
int h5_write_vlen(sr_store *st, void *ds, const sr_meta *m, size_t row0,
                  size_t n, const sr_blob *items)
{
	h5_store *h = st->impl;
	h5_ds *d = ds;
	if (d->final && h->parallel)
		return h5_publish(
		        st, d,
		        sr_fail(st->err, SIMREC_ENOTSUP,
		                "'%s': parallel HDF5 cannot set a text "
		                "or bytes value",
		                d->final));
	int rc = vlen_rows(st, ds, m, row0, n, items);
	return d->final ? h5_publish(st, d, rc) : rc;
}

/* After the parallel file is closed: writer 0 writes the kept vlen items
 * through serial HDF5; every writer returns its status. Collective. */
int h5_flush_pending_vlen(sr_store *st, int rc)
{
	h5_store *h = st->impl;
	int rank = 0;
	MPI_Comm_rank(st->comm, &rank);
	if (rank == 0 && h->npend && !rc) {
		hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
		if (st->shared)
			H5Pset_file_locking(fapl, 0, 1);
		hid_t f = H5Fopen(st->uri.path, H5F_ACC_RDWR, fapl);
		H5Pclose(fapl);
		if (f < 0)
			rc = sr_fail(st->err, SIMREC_EIO,
			             "cannot reopen '%s' to write strings",
			             st->uri.path);
		for (size_t i = 0; i < h->npend && !rc; i++) {
			vlen_pend *p = &h->pend[i];
			char path[4096];
			hid_t dset = H5Dopen2(
			        f, h5_path_of(p->key, path, sizeof path),
			        H5P_DEFAULT);
			hid_t t = dset >= 0 ? H5Dget_type(dset) : -1;
			if (dset < 0 || t < 0)
				rc = sr_fail(st->err, SIMREC_EIO,
				             "cannot reopen '%s' in '%s'",
				             p->key, st->uri.path);
			else
				rc = vlen_write(st, dset, t, p->dt, H5P_DEFAULT,
				                p->row0, p->n, p->items);
			if (t >= 0)
				H5Tclose(t);
			if (dset >= 0)
				H5Dclose(dset);
		}
		if (f >= 0 && H5Fclose(f) < 0 && !rc)
			rc = sr_fail(st->err, SIMREC_EIO,
			             "H5Fclose of '%s' failed", st->uri.path);
	}
	for (size_t i = 0; i < h->npend; i++)
		pend_free(&h->pend[i]);
	free(h->pend);
	h->pend = NULL;
	h->npend = h->cappend = 0;
	int all = rc;
	MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, st->comm);
	if (all && !rc)
		rc = sr_fail(st->err, all,
		             "writer 0 could not write the strings of '%s'",
		             st->uri.path);
	return rc;
}

/* Every chunk inside the shape allocated (a chunk never written is not,
 * unless the file was written in parallel, which allocates early) and,
 * without filters, of its full size. */
int h5_check(sr_store *st, void *ds, const sr_meta *m, size_t *whole)
{
	h5_ds *d = ds;
	int nd = m->ndim;
	*whole = nd ? m->shape[0] : 1;
	if (!nd || !m->shape[0])
		return 0;
	int rc = h5_ds_begin(st, d);
	if (rc)
		return rc;
	hid_t dcpl = H5Dget_create_plist(d->dset);
	int chunked = H5Pget_layout(dcpl) == H5D_CHUNKED;
	int filtered = H5Pget_nfilters(dcpl) > 0;
	H5Pclose(dcpl);
	size_t celems = 1;
	sr_torn t = {0};
	size_t lo[SIMREC_MAX_NDIM] = {0}, hi[SIMREC_MAX_NDIM],
	       idx[SIMREC_MAX_NDIM] = {0};
	for (int i = 0; i < nd; i++) {
		if (!m->shape[i] || !m->chunks[i])
			chunked = 0;
		else
			hi[i] = (m->shape[i] - 1) / m->chunks[i];
		celems *= m->chunks[i];
	}
	size_t full = celems * simrec_dtype_size(m->dtype);
	while (chunked && !sr_torn_stop(&t, m, idx[0])) {
		hsize_t off[SIMREC_MAX_NDIM], size = 0;
		haddr_t addr = HADDR_UNDEF;
		unsigned mask = 0;
		for (int i = 0; i < nd; i++)
			off[i] = idx[i] * m->chunks[i];
		herr_t e = H5Dget_chunk_info_by_coord(d->dset, off, &mask,
		                                      &addr, &size);
		const char *why =
		        e < 0 || addr == HADDR_UNDEF       ? "chunk unallocated"
		        : !filtered && full && size < full ? "chunk short"
		                                           : NULL;
		if (why)
			sr_torn_add(&t, m, idx[0], why);
		if (!sr_chunk_next(nd, lo, hi, idx))
			break;
	}
	h5_ds_end(st, d);
	return sr_store_torn(st, d->key, m, &t, whole);
}

/* A failed H5Dread named by its cause: a filter this process lacks, or
 * (every filter there) data that does not decode. */
static int read_fail(sr_store *st, h5_ds *d)
{
	hid_t dcpl = H5Dget_create_plist(d->dset);
	int n = dcpl < 0 ? 0 : H5Pget_nfilters(dcpl);
	char missing[64] = "";
	for (int i = 0; i < n && !*missing; i++) {
		unsigned fl, cd[8], cfg;
		size_t ncd = 8;
		char name[32] = "";
		H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &fl, &ncd,
		                                 cd, sizeof name, name, &cfg);
		if (id >= 0 && H5Zfilter_avail(id) <= 0)
			snprintf(missing, sizeof missing, "%d%s%s%s", (int)id,
			         *name ? " (" : "", name, *name ? ")" : "");
	}
	if (dcpl >= 0)
		H5Pclose(dcpl);
	if (*missing)
		return sr_fail(st->err, SIMREC_ECODEC,
		               "'%s' in '%s': HDF5 filter %s is not available "
		               "in this process",
		               d->key, st->uri.path, missing);
	int err = h5_errno(st);
	if (err)
		return sr_fail(st->err, SIMREC_EIO, "reading '%s' in '%s': %s",
		               d->key, st->uri.path, sr_os_cause(err));
	return sr_fail(st->err, SIMREC_EIO,
	               "'%s' in '%s': a chunk does not decode (corrupt data; "
	               "simrec verify names it)",
	               d->key, st->uri.path);
}

/* Whether a chunk never written is damage (1) or reads as the fill (2):
 * damage where the file declares no fill value (fill time "never", as
 * simrec writes its numbers, or no fill value defined), so that reading
 * it would return whatever the buffer held. */
static int unwritten_kind(hid_t dset)
{
	hid_t dcpl = H5Dget_create_plist(dset);
	H5D_fill_time_t ft = H5D_FILL_TIME_IFSET;
	H5D_fill_value_t fv = H5D_FILL_VALUE_DEFAULT;
	int chunked = dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED;
	if (chunked) {
		H5Pget_fill_time(dcpl, &ft);
		H5Pfill_value_defined(dcpl, &fv);
	}
	if (dcpl >= 0)
		H5Pclose(dcpl);
	return chunked && (ft == H5D_FILL_TIME_NEVER ||
	                   fv == H5D_FILL_VALUE_UNDEFINED)
	               ? 1
	               : 2;
}

/* Every chunk the selection touches stored, where a chunk never written
 * is damage: one lookup in the chunk index per chunk read. */
static int chunks_stored(sr_store *st, h5_ds *d, const sr_meta *m,
                         const size_t *start, const size_t *count)
{
	if (!d->unwritten)
		d->unwritten = unwritten_kind(d->dset);
	int nd = m->ndim;
	size_t lo[SIMREC_MAX_NDIM], hi[SIMREC_MAX_NDIM], idx[SIMREC_MAX_NDIM];
	for (int i = 0; i < nd; i++) {
		if (!count[i] || d->unwritten != 1)
			return 0;
		lo[i] = idx[i] = start[i] / m->chunks[i];
		hi[i] = (start[i] + count[i] - 1) / m->chunks[i];
	}
	if (!nd || d->unwritten != 1)
		return 0;
	do {
		hsize_t off[SIMREC_MAX_NDIM], size = 0;
		haddr_t addr = HADDR_UNDEF;
		unsigned mask = 0;
		for (int i = 0; i < nd; i++)
			off[i] = idx[i] * m->chunks[i];
		if (H5Dget_chunk_info_by_coord(d->dset, off, &mask, &addr,
		                               &size) < 0 ||
		    addr == HADDR_UNDEF) {
			char at[64 * SIMREC_MAX_NDIM] = "";
			for (int i = 0, n = 0; i < nd && n >= 0; i++)
				n += snprintf(at + n, sizeof at - (size_t)n,
				              "%s%llu", i ? "," : "",
				              (unsigned long long)off[i]);
			return sr_fail(
			        st->err, SIMREC_EFORMAT,
			        "chunk at [%s] of '%s' is missing in '%s' "
			        "(inside the shape, and the dataset "
			        "declares no fill value)",
			        at, d->key, st->uri.path);
		}
	} while (sr_chunk_next(nd, lo, hi, idx));
	return 0;
}

int h5_read(sr_store *st, void *ds, const sr_meta *m, const size_t *start,
            const size_t *count, void *buf)
{
	h5_ds *d = ds;
	hid_t fs, ms;
	int rc = h5_ds_begin(st, d);
	if (!rc && (rc = chunks_stored(st, d, m, start, count)))
		h5_ds_end(st, d);
	if (rc)
		return rc;
	h5_select_slab(d, m->ndim, start, count, &fs, &ms);
	herr_t e = H5Dread(d->dset, d->mtype, ms, fs, H5P_DEFAULT, buf);
	H5Sclose(fs);
	H5Sclose(ms);
	h5_ds_end(st, d);
	return e < 0 ? read_fail(st, d) : 0;
}

int h5_read_vlen(sr_store *st, void *ds, const sr_meta *m, size_t index,
                 sr_blob *out)
{
	h5_ds *d = ds;
	size_t s0[1] = {index}, c0[1] = {1};
	hid_t fs, ms;
	int rb = h5_ds_begin(st, d);
	if (rb)
		return rb;
	h5_select_slab(d, m->ndim ? 1 : 0, s0, c0, &fs, &ms);
	union {
		char *s;
		hvl_t v;
	} u;
	memset(&u, 0, sizeof u);
	int rc = H5Dread(d->dset, d->mtype, ms, fs, H5P_DEFAULT, &u) < 0
	                 ? sr_fail(st->err, SIMREC_EIO, "H5Dread failed")
	                 : 0;
	if (!rc) {
		const void *src =
		        m->dtype == SIMREC_STRING ? (void *)u.s : u.v.p;
		size_t len = m->dtype == SIMREC_STRING ? (u.s ? strlen(u.s) : 0)
		                                       : u.v.len;
		out->data = malloc(len + 1);
		if (!out->data)
			rc = SIMREC_ENOMEM;
		else {
			if (len)
				memcpy(out->data, src, len);
			((char *)out->data)[len] = 0;
			out->len = len;
		}
		H5Dvlen_reclaim(d->mtype, ms, H5P_DEFAULT, &u);
	}
	H5Sclose(fs);
	H5Sclose(ms);
	h5_ds_end(st, d);
	return rc;
}
